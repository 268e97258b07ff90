//! The module cut: no module of `src/` imports, directly or through others, a module that
//! imports it (see `testkit::modules` for how imports are read).

#[test]
fn no_module_imports_a_module_that_imports_it() {
    testkit::modules::assert_no_import_cycles(env!("CARGO_MANIFEST_DIR"));
}
