//! Every relative link in the repository's Markdown resolves: the file or folder exists, and a
//! `#fragment` names a heading of the Markdown file it points to, as GitHub renders it.
//!
//! Links with a scheme (`https:`, `mailto:`) are not checked: no network here.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    process::Command,
};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A link as written in a Markdown file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    /// The file that holds the link, relative to the repository's root.
    file: PathBuf,
    /// The 1-based line of the link.
    line: usize,
    /// The destination as written.
    target: String,
}

#[test]
fn every_relative_link_in_the_markdown_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace");
    let files = markdown_files(root);
    assert!(
        files.iter().any(|file| file == Path::new("README.md")),
        "git lists no README.md under {}: {files:?}",
        root.display()
    );
    let broken = broken_links(root, &files);
    assert!(
        broken.is_empty(),
        "{} broken link(s):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn a_missing_file_or_heading_is_reported_and_a_good_link_is_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir(root.join("docs")).expect("docs/");
    std::fs::write(
        root.join("README.md"),
        "# Title\n\n## Run it (`cargo xtask dev`)\n\n## Run it (`cargo xtask dev`)\n\n\
         [ok](docs/a.md) [ok](docs/a.md#the-api-key-vault) [ok](#run-it-cargo-xtask-dev-1)\n\
         [ok](docs/) [ok](https://example.com/missing) [ok](docs/run.sh#L1)\n\
         [no file](docs/b.md) [no heading](docs/a.md#nowhere)\n\n\
         ```text\n[not a link](nowhere.md)\n```\n",
    )
    .expect("README.md");
    std::fs::write(root.join("docs/run.sh"), "echo\n").expect("docs/run.sh");
    std::fs::write(
        root.join("docs/a.md"),
        "# The API, Key Vault\n\n[up](../README.md#title) [bad](#run-it)\n",
    )
    .expect("docs/a.md");
    let files = [PathBuf::from("README.md"), PathBuf::from("docs/a.md")];
    assert_eq!(
        broken_links(root, &files),
        [
            "README.md:9: docs/b.md: no such file",
            "README.md:9: docs/a.md#nowhere: no heading \"nowhere\" in docs/a.md",
            "docs/a.md:3: #run-it: no heading \"run-it\" in docs/a.md",
        ]
    );
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    let anchors = anchors(
        "# Deploy to Azure\n## Cost (pay-as-you-go list prices, one region, light use)\n\
         ## The original's pitfalls, and what this design does instead\n\
         ## Runtime configuration (`/config.json`)\n## Tests\n## Tests\n\
         ## Local identity provider (`dev-identity`)\n## Sign-in — step 1\n",
    );
    for anchor in [
        "deploy-to-azure",
        "cost-pay-as-you-go-list-prices-one-region-light-use",
        "the-originals-pitfalls-and-what-this-design-does-instead",
        "runtime-configuration-configjson",
        "tests",
        "tests-1",
        "local-identity-provider-dev-identity",
        "sign-in--step-1",
    ] {
        assert!(anchors.contains(anchor), "{anchor} in {anchors:?}");
    }
}

/// The Markdown files git knows (tracked, or new and not ignored), relative to `root`.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .args(["--", "*.md"])
        .current_dir(root)
        .output()
        .expect("run git ls-files");
    assert!(output.status.success(), "git ls-files failed: {output:?}");
    let mut files: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(PathBuf::from)
        .filter(|file| root.join(file).is_file())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// One line per broken link: `file:line: target: why`.
fn broken_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut headings: HashMap<PathBuf, HashSet<String>> = HashMap::new();
    let mut broken = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        for link in links(file, &text) {
            if let Err(why) = resolve(root, &link, &mut headings) {
                broken.push(format!(
                    "{}:{}: {}: {why}",
                    link.file.display(),
                    link.line,
                    link.target
                ));
            }
        }
    }
    broken
}

/// Checks one link; `headings` caches each Markdown file's anchors.
fn resolve(
    root: &Path,
    link: &Link,
    headings: &mut HashMap<PathBuf, HashSet<String>>,
) -> Result<(), String> {
    let (path, fragment) = match link.target.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (link.target.as_str(), None),
    };
    let target = if path.is_empty() {
        link.file.clone()
    } else {
        let dir = link.file.parent().unwrap_or(Path::new(""));
        normalize(&dir.join(path)).ok_or("leaves the repository")?
    };
    let on_disk = root.join(&target);
    if !on_disk.exists() {
        return Err("no such file".into());
    }
    let Some(fragment) = fragment else {
        return Ok(());
    };
    if on_disk.extension().is_none_or(|ext| ext != "md") {
        // A line anchor into source (`#L10`) or similar: GitHub's, not a heading.
        return Ok(());
    }
    let anchors = headings
        .entry(target.clone())
        .or_insert_with(|| anchors(&std::fs::read_to_string(&on_disk).unwrap_or_default()));
    if anchors.contains(fragment) {
        Ok(())
    } else {
        Err(format!("no heading \"{fragment}\" in {}", target.display()))
    }
}

/// `path` without `.` and `..` segments; `None` if it climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            std::path::Component::Normal(name) => out.push(name),
            // An absolute link names a page of the site, not a file of the repository.
            std::path::Component::RootDir | std::path::Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The relative links and images of a Markdown text (code blocks and spans are not links).
fn links(file: &Path, text: &str) -> Vec<Link> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    Parser::new_ext(text, Options::all())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some((dest_url.into_string(), range.start))
            }
            _ => None,
        })
        .filter(|(target, _)| !target.is_empty() && !has_scheme(target))
        .map(|(target, offset)| Link {
            file: file.to_path_buf(),
            line: line_of(offset),
            target,
        })
        .collect()
}

/// `https://…`, `mailto:…`: anything a browser leaves the repository for.
fn has_scheme(target: &str) -> bool {
    target.starts_with("//")
        || target.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
}

/// The anchors of a Markdown text's headings, as GitHub makes them: the heading's text in lower
/// case, without punctuation, spaces as hyphens, and `-1`, `-2` … after repeats.
fn anchors(text: &str) -> HashSet<String> {
    let mut anchors = HashSet::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(text, Options::all()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(part) | Event::Code(part) => {
                if let Some(heading) = &mut heading {
                    heading.push_str(&part);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let slug = slug(&heading.take().unwrap_or_default());
                let repeats = seen.entry(slug.clone()).or_insert(0);
                anchors.insert(if *repeats == 0 {
                    slug
                } else {
                    format!("{slug}-{repeats}")
                });
                *repeats += 1;
            }
            _ => {}
        }
    }
    anchors
}

fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}
