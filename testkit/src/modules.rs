//! Import cycles between the modules of a crate, found from its sources: the check behind "no
//! module imports, directly or through others, a module that imports it".
//!
//! Each file under `src/` is a module (`src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is
//! `a::b`, `src/lib.rs` the crate root; `src/main.rs` and `src/bin/` are other crates and are
//! skipped). Every `crate::`, `super::` and `self::` path in its code, and every `use` of a child
//! module, is an import of the longest module that path names. Comments and string literals are
//! ignored; a path to an item re-exported by the crate root (`crate::Thing`) is an import of the
//! root, as it is for the compiler. A cycle is a set of modules that reach each other through
//! imports (a strongly connected component of two or more).

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Panics, naming them, if the modules of the crate at `manifest_dir` (its `CARGO_MANIFEST_DIR`)
/// have import cycles: the whole test of a crate's module cut.
pub fn assert_no_import_cycles(manifest_dir: &str) {
    let src = Path::new(manifest_dir).join("src");
    let cycles = import_cycles(&src).expect("read src/");
    assert!(
        cycles.is_empty(),
        "import cycles among the modules of {}: {cycles:?}",
        src.display()
    );
}

/// The import cycles among the modules under `src`, each as its module names in order (the crate
/// root is `crate`). Empty when there are none.
pub fn import_cycles(src: &Path) -> std::io::Result<Vec<Vec<String>>> {
    let mut files = Vec::new();
    collect_rust_files(src, &mut files)?;
    let mut modules = BTreeMap::new();
    for file in files {
        if let Some(name) = module_name(src, &file) {
            modules.insert(name, fs::read_to_string(&file)?);
        }
    }
    let names: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = modules
        .iter()
        .map(|(name, text)| (name.clone(), imports(name, text, &names)))
        .collect();
    let mut cycles: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.iter().map(|name| display(name)).collect())
        .collect();
    cycles.sort();
    Ok(cycles)
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `a::b` as `["a", "b"]`; the crate root is `[]`; `None` for files of other crates.
fn module_name(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [only] if only == "main" => return None,
        [first, ..] if first == "bin" => return None,
        [only] if only == "lib" => return Some(Vec::new()),
        _ => {}
    }
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    Some(parts)
}

fn display(name: &[String]) -> String {
    if name.is_empty() {
        "crate".to_owned()
    } else {
        name.join("::")
    }
}

/// The modules that `module`'s source imports (itself excluded).
fn imports(
    module: &[String],
    text: &str,
    modules: &BTreeSet<Vec<String>>,
) -> BTreeSet<Vec<String>> {
    let code = strip_comments_and_strings(text);
    let mut found = BTreeSet::new();
    collect_imports(module, &code, modules, &mut found);
    found.remove(module);
    found
}

/// The imports of `code`, read as the body of module `at`; the bodies of inline modules
/// (`mod tests { ... }`) are read as their own module, so their `super` is this one.
fn collect_imports(
    at: &[String],
    code: &str,
    modules: &BTreeSet<Vec<String>>,
    found: &mut BTreeSet<Vec<String>>,
) {
    let mut own = String::with_capacity(code.len());
    let mut rest = code;
    while let Some((before, name, body, after)) = next_inline_module(rest) {
        own.push_str(before);
        let mut inner = at.to_vec();
        inner.push(name.to_owned());
        collect_imports(&inner, body, modules, found);
        rest = after;
    }
    own.push_str(rest);
    let mut paths = Vec::new();
    for statement in use_statements(&own) {
        expand_use_tree(statement, Vec::new(), &mut paths);
    }
    paths.extend(inline_paths(&own));
    found.extend(paths.iter().filter_map(|path| resolve(at, path, modules)));
}

/// The first `mod name { body }` in `code`: the text before it, the name, the body and the text
/// after it.
fn next_inline_module(code: &str) -> Option<(&str, &str, &str, &str)> {
    let mut from = 0;
    while let Some(found) = find_word(&code[from..], "mod") {
        let at = from + found;
        let after = code[at + 3..].trim_start();
        let name_end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_end);
        if let Some(body) = tail.trim_start().strip_prefix('{') {
            let mut depth = 1usize;
            for (offset, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    return Some((&code[..at], name, &body[..offset], &body[offset + 1..]));
                }
            }
            return None;
        }
        from = at + 3;
    }
    None
}

/// The module a path names: the longest prefix of its absolute form that is a module.
fn resolve(
    module: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut absolute: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => module[..module.len().saturating_sub(1)].to_vec(),
        _ => {
            // A child module named by a relative `use` (`use keys::X;` in its parent).
            let mut child = module.to_vec();
            child.push(first.clone());
            if !modules.contains(&child) {
                return None;
            }
            child
        }
    };
    let mut rest = rest.iter().peekable();
    // `super::super::x`
    while rest.peek().is_some_and(|segment| *segment == "super") {
        rest.next();
        absolute.pop();
    }
    let mut found = modules.contains(&absolute).then(|| absolute.clone());
    for segment in rest {
        absolute.push(segment.clone());
        if modules.contains(&absolute) {
            found = Some(absolute.clone());
        }
    }
    found
}

/// The text of every `use ...;` statement, without `use` and `;`.
fn use_statements(code: &str) -> Vec<&str> {
    let mut statements = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else { break };
        statements.push(after[..end].trim());
        rest = &after[end..];
    }
    statements
}

/// The position of `word` standing alone (not part of a longer identifier).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `a::{b::{c, d}, e}` into `a::b::c`, `a::b::d`, `a::e` (`self` in a group names the prefix).
fn expand_use_tree(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut prefix = prefix;
        prefix.extend(segments(&tree[..open]));
        let inner = tree[open + 1..].trim_end().strip_suffix('}').unwrap_or("");
        for part in split_top_level(inner) {
            expand_use_tree(part, prefix.clone(), out);
        }
    } else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        let mut full = prefix;
        full.extend(segments(path).into_iter().filter(|s| s != "*"));
        if full.last().is_some_and(|last| last == "self") {
            full.pop();
        }
        if !full.is_empty() {
            out.push(full);
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect()
}

/// `crate::a::b`, `super::x` and `self::y` paths written in code (outside `use`).
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for root in ["crate", "super", "self"] {
        let mut rest = code;
        while let Some(at) = find_word(rest, root) {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path = segments(&tail[..end]);
            if path.len() > 1 && tail[..end].contains("::") {
                paths.push(path);
            }
            rest = &tail[end.max(root.len())..];
        }
    }
    paths
}

/// The source with comments and the contents of string and char literals blanked out.
fn strip_comments_and_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut depth = 1;
                let mut previous = ' ';
                for c in chars.by_ref() {
                    match (previous, c) {
                        ('*', '/') => depth -= 1,
                        ('/', '*') => depth += 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    previous = c;
                }
                out.push(' ');
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n', '\''), not a lifetime ('a): blanked like a string.
            '\'' => {
                let mut ahead = chars.clone();
                let literal_len = match (ahead.next(), ahead.next()) {
                    // The escape, the escaped character, the rest up to the quote, the quote.
                    (Some('\\'), Some(_)) => Some(2 + ahead.take_while(|c| *c != '\'').count() + 1),
                    (Some(_), Some('\'')) => Some(2),
                    _ => None,
                };
                match literal_len {
                    Some(len) => {
                        for _ in 0..len {
                            chars.next();
                        }
                        out.push_str("' '");
                    }
                    None => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Tarjan's algorithm: the strongly connected components of `graph`.
fn strongly_connected(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a [String], usize>,
        low: BTreeMap<&'a [String], usize>,
        stack: Vec<&'a [String]>,
        components: Vec<Vec<Vec<String>>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a [String]) {
            let next = self.index.len();
            self.index.insert(node, next);
            self.low.insert(node, next);
            self.stack.push(node);
            for target in self.graph.get(node).into_iter().flatten() {
                let target = target.as_slice();
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[node].min(self.low[target]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&target) {
                    let low = self.low[node].min(self.index[target]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    component.push(member.to_vec());
                    if member == node {
                        break;
                    }
                }
                component.sort();
                self.components.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_slice()) {
            walk.visit(node);
        }
    }
    walk.components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary folder");
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn a_cycle_through_a_third_module_and_through_the_root_is_found() {
        let dir = crate_with(&[
            ("lib.rs", "mod a; mod b; mod c; mod d;\npub use d::Thing;"),
            ("a.rs", "use crate::{b::{X, Y}, c};"),
            ("b.rs", "fn f() -> crate::c::Z { todo!() }"),
            ("c.rs", "use crate::a::W as V;"),
            (
                "d.rs",
                "// use crate::a;\nconst S: &str = \"crate::a::x\";\nconst C: char = '{';\nuse crate::Thing;",
            ),
        ]);
        let cycles = import_cycles(dir.path()).expect("read");
        assert_eq!(
            cycles,
            [vec!["a", "b", "c"], vec!["crate", "d"]],
            "comments and strings are not imports"
        );
    }

    #[test]
    fn nested_modules_resolve_super_and_relative_uses_and_no_cycle_is_none() {
        let dir = crate_with(&[
            ("lib.rs", "mod auth; mod error;"),
            (
                "auth/mod.rs",
                "mod keys;\npub use keys::Keys;\nuse crate::error::Error;",
            ),
            (
                "auth/keys.rs",
                "use super::super::error::Error;\n#[cfg(test)] mod tests { use super::*; }",
            ),
            ("error.rs", "pub struct Error;"),
            ("main.rs", "use app::auth;"),
        ]);
        assert!(import_cycles(dir.path()).expect("read").is_empty());
        let dir = crate_with(&[
            ("lib.rs", "mod auth;"),
            (
                "auth/mod.rs",
                "mod keys;\npub use keys::Keys;\npub struct Error;",
            ),
            ("auth/keys.rs", "use super::Error;"),
        ]);
        assert_eq!(
            import_cycles(dir.path()).expect("read"),
            [vec!["auth", "auth::keys"]]
        );
    }
}
