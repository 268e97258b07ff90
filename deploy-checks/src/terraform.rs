//! A Terraform module read from disk as parsed HCL, and the wiring checks `terraform validate`
//! would do if providers could be downloaded here: inputs declared and passed, references that
//! resolve, variables and outputs documented.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use hcl::{Attribute, Block, Body, Expression};

/// Every `.tf` file of one directory (not its subdirectories), parsed.
#[derive(Debug)]
pub struct Module {
    pub dir: PathBuf,
    files: Vec<(String, Body)>,
}

/// A `module "name" { source = ... }` call and the inputs it passes.
#[derive(Debug)]
pub struct ModuleCall<'a> {
    pub name: String,
    pub source: String,
    pub inputs: BTreeMap<String, &'a Expression>,
}

impl Module {
    /// Parses `dir/*.tf`; fails with the file name on a syntax error or an unreadable file.
    pub fn load(dir: &Path) -> Result<Module, String> {
        let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
            .collect();
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let body = hcl::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            files.push((name.unwrap_or_default(), body));
        }
        if files.is_empty() {
            return Err(format!("{}: no .tf files", dir.display()));
        }
        Ok(Module {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// The parsed body of one file, e.g. `terraform.tf`.
    pub fn file(&self, name: &str) -> Option<&Body> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    /// Top-level blocks with this identifier (`variable`, `resource`, ...), across all files.
    pub fn blocks<'a>(&'a self, identifier: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.files
            .iter()
            .flat_map(|(_, body)| body.blocks())
            .filter(move |block| block.identifier() == identifier)
    }

    /// `variable` blocks by name.
    pub fn variables(&self) -> BTreeMap<String, &Block> {
        self.blocks("variable").map(|b| (label(b, 0), b)).collect()
    }

    /// Names of the `output` blocks.
    pub fn outputs(&self) -> BTreeSet<String> {
        self.blocks("output").map(|b| label(b, 0)).collect()
    }

    /// Names of the values declared in `locals` blocks.
    pub fn locals(&self) -> BTreeSet<String> {
        self.blocks("locals")
            .flat_map(|b| b.body().attributes())
            .map(|a| a.key().to_owned())
            .collect()
    }

    /// `resource "type" "name"` blocks as `(type, name, block)`.
    pub fn resources(&self) -> Vec<(String, String, &Block)> {
        self.blocks("resource")
            .map(|b| (label(b, 0), label(b, 1), b))
            .collect()
    }

    /// The resource `type.name`, if declared.
    pub fn resource(&self, kind: &str, name: &str) -> Option<&Block> {
        self.resources()
            .into_iter()
            .find(|(k, n, _)| k == kind && n == name)
            .map(|(_, _, b)| b)
    }

    /// The `module` calls, with their `source` and inputs (meta-arguments excluded).
    pub fn module_calls(&self) -> Vec<ModuleCall<'_>> {
        const META: [&str; 5] = ["source", "version", "providers", "depends_on", "count"];
        self.blocks("module")
            .map(|block| ModuleCall {
                name: label(block, 0),
                source: attr(block.body(), "source")
                    .and_then(string_value)
                    .unwrap_or_default(),
                inputs: block
                    .body()
                    .attributes()
                    .filter(|a| !META.contains(&a.key()) && a.key() != "for_each")
                    .map(|a| (a.key().to_owned(), a.expr()))
                    .collect(),
            })
            .collect()
    }

    /// Every attribute expression of the module, nested blocks included, as HCL text.
    pub fn expression_texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, body) in &self.files {
            collect_expressions(body, &mut out);
        }
        out
    }

    /// Every `root.a.b...` traversal in the module's expressions, as its dotted segments after
    /// `root` (e.g. root `module` gives `["key_vault", "vault_uri"]`).
    pub fn references(&self, root: &str) -> BTreeSet<Vec<String>> {
        self.expression_texts()
            .iter()
            .flat_map(|text| traversals(text, root))
            .collect()
    }
}

/// The `n`th label of a block, or "" if it has fewer.
pub fn label(block: &Block, n: usize) -> String {
    block
        .labels()
        .get(n)
        .map(|l| l.as_str().to_owned())
        .unwrap_or_default()
}

/// The expression of attribute `key` directly in `body`.
pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a: &&Attribute| a.key() == key)
        .map(Attribute::expr)
}

/// Nested blocks with this identifier directly in `body`.
pub fn nested<'a>(body: &'a Body, identifier: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == identifier)
}

/// The value of a literal string expression (not a template).
pub fn string_value(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// An expression formatted back to HCL text, e.g. `var.name` or `"https://${module.x.y}"`.
pub fn expr_text(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_default()
}

fn collect_expressions(body: &Body, out: &mut Vec<String>) {
    for attribute in body.attributes() {
        out.push(expr_text(attribute.expr()));
    }
    for block in body.blocks() {
        collect_expressions(block.body(), out);
    }
}

/// Finds `root.seg.seg...` in HCL text where `root` starts an identifier (so `var.x` is found
/// in `"${var.x}"` but not in `myvar.x`).
pub fn traversals(text: &str, root: &str) -> Vec<Vec<String>> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let needle = format!("{root}.");
    let mut found = Vec::new();
    let mut start = 0;
    while let Some(pos) = text[start..].find(&needle) {
        let at = start + pos;
        start = at + needle.len();
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == '.')
        {
            continue;
        }
        let mut segments = Vec::new();
        let mut rest = &text[at + needle.len()..];
        loop {
            let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            if len == 0 {
                break;
            }
            segments.push(rest[..len].to_owned());
            rest = &rest[len..];
            match rest.strip_prefix('.') {
                Some(after) => rest = after,
                None => break,
            }
        }
        if !segments.is_empty() {
            found.push(segments);
        }
    }
    found
}

/// Wiring problems of `root` and the local modules it calls: an input passed but not declared, a
/// required input not passed, a `module.x.y` with no such output, a `var.`/`local.` reference to
/// nothing, a variable without type or description, an output without description.
pub fn wiring_problems(root: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let mut outputs_of = BTreeMap::new();
    for call in root.module_calls() {
        let dir = root.dir.join(&call.source);
        let child = match Module::load(&dir) {
            Ok(child) => child,
            Err(e) => {
                problems.push(format!("module {}: {e}", call.name));
                continue;
            }
        };
        let declared = child.variables();
        for input in call.inputs.keys() {
            if !declared.contains_key(input) {
                problems.push(format!(
                    "module {}: passes `{input}`, which {} does not declare",
                    call.name, call.source
                ));
            }
        }
        for (name, block) in &declared {
            if attr(block.body(), "default").is_none() && !call.inputs.contains_key(name) {
                problems.push(format!(
                    "module {}: required input `{name}` is not passed",
                    call.name
                ));
            }
        }
        problems.extend(module_problems(&child));
        outputs_of.insert(call.name, child.outputs());
    }
    for reference in root.references("module") {
        let (Some(name), Some(output)) = (reference.first(), reference.get(1)) else {
            continue;
        };
        match outputs_of.get(name) {
            None => problems.push(format!("module.{name} is referenced but not called")),
            Some(outputs) if !outputs.contains(output) => problems.push(format!(
                "module.{name}.{output} is referenced but module {name} has no such output"
            )),
            Some(_) => {}
        }
    }
    problems.extend(module_problems(root));
    problems
}

/// Problems inside one module: undeclared `var.`/`local.` references, undocumented variables and
/// outputs.
pub fn module_problems(module: &Module) -> Vec<String> {
    let where_ = module.dir.display();
    let mut problems = Vec::new();
    let variables = module.variables();
    for reference in module.references("var") {
        if !variables.contains_key(&reference[0]) {
            problems.push(format!("{where_}: var.{} is not declared", reference[0]));
        }
    }
    let locals = module.locals();
    for reference in module.references("local") {
        if !locals.contains(&reference[0]) {
            problems.push(format!("{where_}: local.{} is not declared", reference[0]));
        }
    }
    for (name, block) in &variables {
        for required in ["type", "description"] {
            if attr(block.body(), required).is_none() {
                problems.push(format!("{where_}: variable {name} has no {required}"));
            }
        }
        for validation in nested(block.body(), "validation") {
            let message = attr(validation.body(), "error_message").map(expr_text);
            if message.is_none_or(|m| m.len() < 20) {
                problems.push(format!(
                    "{where_}: variable {name} has a validation without a precise error_message"
                ));
            }
        }
    }
    for block in module.blocks("output") {
        if attr(block.body(), "description").is_none() {
            problems.push(format!(
                "{where_}: output {} has no description",
                label(block, 0)
            ));
        }
    }
    problems
}
