//! backend/Dockerfile and .dockerignore, read as text: what issue 7 asks of the image that a
//! linter would not check. Dockerfile style is hadolint's, and checkov's image checks run too:
//! both in the test command (`cargo xtask ci`).

use std::fs;

use deploy_checks::repo_root;

/// The Dockerfile's instructions as (KEYWORD, rest): comments and blank lines dropped, lines
/// continued with a trailing backslash joined into one.
fn instructions() -> Vec<(String, String)> {
    let text = fs::read_to_string(repo_root().join("backend/Dockerfile")).expect("Dockerfile");
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .iter()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, rest)| (k.to_ascii_uppercase(), rest.trim().to_owned()))
        .collect()
}

#[test]
fn builds_in_stages_and_caches_dependencies_before_the_sources() {
    let steps = instructions();
    let froms: Vec<&str> = steps
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, r)| r.as_str())
        .collect();
    assert!(
        froms.len() >= 3,
        "chef, planner/builder and runtime stages: {froms:?}"
    );
    let cook = steps
        .iter()
        .position(|(_, r)| r.contains("cargo chef cook --release --locked --package backend"));
    let sources = steps.iter().rposition(|(k, r)| k == "COPY" && r == ". .");
    let build = steps.iter().position(|(_, r)| {
        r.contains("cargo build --release --locked --package backend --bin backend")
    });
    assert!(
        cook.is_some() && sources.is_some() && build.is_some(),
        "{steps:#?}"
    );
    assert!(
        cook < sources && sources < build,
        "dependency layer before the sources"
    );
}

#[test]
fn runs_the_backend_binary_as_non_root_on_distroless_and_exposes_8000() {
    let steps = instructions();
    let runtime_from = steps.iter().rposition(|(k, _)| k == "FROM").expect("FROM");
    let runtime = &steps[runtime_from..];
    assert_eq!(runtime[0].1, "gcr.io/distroless/cc-debian12:nonroot");
    let user = runtime
        .iter()
        .rfind(|(k, _)| k == "USER")
        .map(|(_, r)| r.as_str());
    assert!(
        user.is_some_and(|u| !u.starts_with('0') && !u.starts_with("root")),
        "USER {user:?}"
    );
    assert!(runtime.iter().any(|(k, r)| k == "EXPOSE" && r == "8000"));
    assert!(
        runtime
            .iter()
            .any(|(k, r)| k == "COPY"
                && r.contains("/target/release/backend /usr/local/bin/backend"))
    );
    assert!(
        runtime
            .iter()
            .any(|(k, r)| k == "ENTRYPOINT" && r == "[\"/usr/local/bin/backend\"]")
    );
    // Builder and runtime share Debian 12's glibc.
    assert!(
        steps
            .iter()
            .any(|(k, r)| k == "FROM" && r.contains("-slim-bookworm"))
    );
}

/// Every base image is named by a literal tag (no `ARG`), so that Dependabot can read it and
/// propose the next release, and none floats on `latest`.
#[test]
fn base_images_are_written_out_for_dependabot() {
    let steps = instructions();
    let mut stages = Vec::new();
    for (keyword, rest) in &steps {
        if keyword != "FROM" {
            continue;
        }
        let mut words = rest.split_whitespace();
        let image = words.next().expect("image");
        if let (Some(as_), Some(stage)) = (words.next(), words.next()) {
            assert!(as_.eq_ignore_ascii_case("AS"), "FROM {rest}");
            stages.push(stage.to_owned());
        }
        if stages.iter().any(|s| s == image) {
            continue; // a stage of this file
        }
        assert!(!image.contains('$'), "FROM {rest}: a literal image");
        let tag = image.rsplit_once(':').map(|(_, tag)| tag);
        assert!(
            tag.is_some_and(|t| t != "latest" && !t.contains('/')),
            "FROM {rest}: a tag other than latest"
        );
    }
    assert!(stages.len() >= 3, "{stages:?}");
}

/// The default SQLite file lives in `/data`, which the runtime user owns (distroless has no shell
/// to create it, and the rest of the image stays read-only to that user).
#[test]
fn the_runtime_user_owns_the_data_folder_of_the_default_database() {
    let steps = instructions();
    let runtime_from = steps.iter().rposition(|(k, _)| k == "FROM").expect("FROM");
    let runtime = &steps[runtime_from..];
    assert!(
        runtime
            .iter()
            .any(|(k, r)| k == "COPY" && r == "--from=builder --chown=65532:65532 /data /data"),
        "{runtime:#?}"
    );
    // The builder makes the folder (the runtime has no shell to), in the build's own layer.
    assert!(
        steps[..runtime_from]
            .iter()
            .any(|(k, r)| k == "RUN" && r.ends_with("&& mkdir -p /data")),
        "{steps:#?}"
    );
    let text = fs::read_to_string(repo_root().join("backend/Dockerfile")).expect("Dockerfile");
    assert!(text.contains("DATABASE_URL=sqlite:///data/tasks.db"));
}

#[test]
fn no_build_argument_or_variable_carries_a_secret() {
    for (keyword, rest) in instructions() {
        if keyword == "ARG" || keyword == "ENV" {
            let upper = rest.to_ascii_uppercase();
            for word in ["SECRET", "PASSWORD", "TOKEN", "KEY", "CLIENT_ID", "TENANT"] {
                assert!(!upper.contains(word), "{keyword} {rest}");
            }
        }
    }
}

#[test]
fn dockerignore_keeps_local_secrets_and_state_out_of_the_context() {
    let ignore = fs::read_to_string(repo_root().join(".dockerignore")).expect(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for needed in [
        ".git",
        "target",
        "**/.env",
        "frontend/config.local.json",
        "infra",
        ".dev",
        "**/data",
    ] {
        assert!(
            patterns.contains(&needed),
            "{needed} missing from .dockerignore"
        );
    }
}
