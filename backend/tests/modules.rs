//! The module cut: no module of `src/` imports, directly or through others, a module that
//! imports it (see `testkit::modules` for how imports are read).

use std::path::Path;

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let cycles = testkit::modules::import_cycles(&src).expect("read src/");
    assert!(
        cycles.is_empty(),
        "import cycles among the modules of {}: {cycles:?}",
        src.display()
    );
}
