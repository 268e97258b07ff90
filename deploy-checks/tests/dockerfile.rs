//! backend/Dockerfile and .dockerignore, read as text: what issue 7 asks of the image that a
//! linter would not check. Dockerfile style is hadolint's, run by hand (docs/deployment.md,
//! "Checks without Azure").

use std::fs;

use deploy_checks::repo_root;

/// The Dockerfile's instructions as (KEYWORD, rest), comments and blank lines dropped.
fn instructions() -> Vec<(String, String)> {
    let text = fs::read_to_string(repo_root().join("backend/Dockerfile")).expect("Dockerfile");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
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
