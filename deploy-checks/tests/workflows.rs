//! The GitHub workflows and dependabot.yml, read as YAML: what the pipeline promises that zizmor
//! (run by the test command) does not check. zizmor finds the generic flaws (unpinned actions,
//! persisted credentials, broad permissions, dangerous triggers, template injection); these tests
//! hold this project's own rules: the deploy runs only after CI on main, only it may request an
//! OIDC token, no secret is ever read, the docs' one-time setup matches the workflow, and every
//! manifest in the repository is kept current by Dependabot.

use std::{collections::BTreeSet, fs, path::Path};

use deploy_checks::repo_root;
use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOWS: [&str; 2] = ["ci.yml", "deploy.yml"];

fn text(relative: &str) -> String {
    let path = repo_root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(relative: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&text(relative))
        .unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"));
    assert_eq!(docs.len(), 1, "{relative}: one YAML document");
    docs.remove(0)
}

fn workflow(name: &str) -> Yaml {
    yaml(&format!(".github/workflows/{name}"))
}

/// `(workflow, job id, job)` for every job of every workflow.
fn jobs() -> Vec<(&'static str, String, Yaml)> {
    let mut all = Vec::new();
    for name in WORKFLOWS {
        let doc = workflow(name);
        let jobs = doc["jobs"].as_hash().expect("jobs");
        for (id, job) in jobs {
            let id = id.as_str().expect("job id").to_owned();
            all.push((name, id, job.clone()));
        }
    }
    all
}

fn steps(job: &Yaml) -> &[Yaml] {
    job["steps"].as_vec().map_or(&[], Vec::as_slice)
}

fn keys(map: &Yaml) -> BTreeSet<String> {
    map.as_hash()
        .map(|h| {
            h.keys()
                .filter_map(Yaml::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A permissions map as `scope: level` pairs, e.g. `id-token: write`.
fn permissions(job: &Yaml) -> BTreeSet<String> {
    job["permissions"]
        .as_hash()
        .unwrap_or_else(|| panic!("job without a permissions map: {job:?}"))
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                k.as_str().unwrap_or("?"),
                v.as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Dependabot reads the version from the comment to propose the next hash; a hash without it
/// cannot be reviewed by a person either.
#[test]
fn every_action_is_pinned_to_a_commit_with_its_version_beside_it() {
    let mut seen = 0;
    for name in WORKFLOWS {
        for line in text(&format!(".github/workflows/{name}")).lines() {
            let Some(reference) = line.trim().trim_start_matches("- ").strip_prefix("uses: ")
            else {
                continue;
            };
            seen += 1;
            if reference.starts_with("$/") {
                continue; // this repository, at the same commit
            }
            let (action, rest) = reference
                .split_once('@')
                .unwrap_or_else(|| panic!("{name}: {reference} names no version"));
            let (hash, comment) = rest
                .split_once(" # ")
                .unwrap_or_else(|| panic!("{name}: {action} has no version comment"));
            assert!(
                hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: {action}@{hash} is not a full commit hash"
            );
            let version = comment.trim();
            assert!(
                version.starts_with('v') && version[1..].split('.').count() == 3,
                "{name}: {action}: the comment names the release, e.g. v1.2.3, not {version:?}"
            );
        }
    }
    assert!(seen >= 6, "found only {seen} `uses:` lines");
}

#[test]
fn no_checkout_leaves_the_token_in_the_git_config() {
    let mut checkouts = 0;
    for (name, id, job) in jobs() {
        for step in steps(&job) {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
            {
                checkouts += 1;
                assert_eq!(
                    step["with"]["persist-credentials"].as_bool(),
                    Some(false),
                    "{name} job {id}: checkout without persist-credentials: false"
                );
            }
        }
    }
    assert_eq!(checkouts, 2, "one checkout in each workflow");
}

/// Nothing is granted at the workflow level, every job says what it needs, and only the two
/// deploy jobs (the caller in ci.yml and the job it calls) may request an OIDC token.
#[test]
fn each_job_has_least_privilege_and_only_the_deploy_can_request_an_oidc_token() {
    for name in WORKFLOWS {
        let doc = workflow(name);
        assert!(
            doc["permissions"].as_hash().is_some_and(|h| h.is_empty()),
            "{name}: `permissions: {{}}` at the workflow level"
        );
    }
    let read = set(&["contents: read"]);
    let deploy = set(&["contents: read", "id-token: write"]);
    let mut granted = Vec::new();
    for (name, id, job) in jobs() {
        let perms = permissions(&job);
        granted.push(format!("{name}/{id}"));
        let expected = if id == "deploy" { &deploy } else { &read };
        assert_eq!(&perms, expected, "{name} job {id}");
    }
    assert_eq!(granted, ["ci.yml/ci", "ci.yml/deploy", "deploy.yml/deploy"]);
}

/// The deploy has no trigger of its own: ci.yml calls it on main, after its test job passed.
#[test]
fn the_deploy_runs_only_on_main_after_the_checks_passed() {
    let ci = workflow("ci.yml");
    assert_eq!(
        keys(&ci["on"]),
        set(&["pull_request", "push", "workflow_dispatch"])
    );
    let branches: Vec<&str> = ci["on"]["push"]["branches"]
        .as_vec()
        .expect("push branches")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(branches, ["main"]);

    let job = &ci["jobs"]["deploy"];
    assert_eq!(
        job["needs"].as_str(),
        Some("ci"),
        "deploy needs the test job"
    );
    assert_eq!(job["if"].as_str(), Some("github.ref == 'refs/heads/main'"));
    assert_eq!(job["uses"].as_str(), Some("$/.github/workflows/deploy.yml"));
    assert!(
        job["secrets"].is_badvalue(),
        "no secret is passed to the deploy"
    );

    let deploy = workflow("deploy.yml");
    assert_eq!(
        keys(&deploy["on"]),
        set(&["workflow_call"]),
        "deploy.yml must not be triggered on its own"
    );
    // A started deploy is never cancelled (Terraform holds the state lock), here or by ci.yml.
    let job = &deploy["jobs"]["deploy"];
    assert_eq!(
        job["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false)
    );
    assert_eq!(
        ci["concurrency"]["cancel-in-progress"].as_str(),
        Some("${{ github.ref != 'refs/heads/main' }}")
    );
}

/// OIDC only: azure/login gets ids (repository variables), never a secret, and no workflow reads
/// one.
#[test]
fn the_deploy_signs_in_with_oidc_and_no_secret_exists() {
    for name in WORKFLOWS {
        let source = text(&format!(".github/workflows/{name}"));
        assert!(!source.contains("secrets."), "{name} reads a secret");
        assert!(
            !source.contains("secrets: inherit"),
            "{name} passes secrets"
        );
    }
    let deploy = workflow("deploy.yml");
    let job = &deploy["jobs"]["deploy"];
    let login = steps(job)
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("azure/login@"))
        })
        .expect("azure/login step");
    assert_eq!(
        keys(&login["with"]),
        set(&["client-id", "subscription-id", "tenant-id"]),
        "OIDC sign-in takes ids only (no creds, no client secret)"
    );
    assert_eq!(job["env"]["ARM_USE_OIDC"].as_str(), Some("true"));
}

/// Values that come from outside the script reach it through `env:`, never pasted into the
/// script's text by a `${{ }}` expansion.
#[test]
fn no_run_script_contains_an_expression() {
    let mut scripts = 0;
    for (name, id, job) in jobs() {
        for step in steps(&job) {
            if let Some(run) = step["run"].as_str() {
                scripts += 1;
                assert!(!run.contains("${{"), "{name} job {id}: {run}");
            }
        }
    }
    assert!(scripts >= 6, "found only {scripts} run steps");
}

/// The deploy builds the SPA with the wasm-bindgen-cli that matches Cargo.lock (read from it, not
/// written twice), and its Node tools come from the committed lockfile.
#[test]
fn the_deploy_installs_its_tools_from_lockfiles() {
    let deploy = workflow("deploy.yml");
    let runs: Vec<&str> = steps(&deploy["jobs"]["deploy"])
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    let script = runs.join("\n");
    assert!(script.contains("cargo install --locked wasm-bindgen-cli --version \"$wasm_bindgen\""));
    assert!(script.contains("Cargo.lock"));
    assert!(script.contains("npm ci --prefix .github/deploy-tools --ignore-scripts"));
    assert!(!script.contains("npm install"), "{script}");

    let manifest = text(".github/deploy-tools/package.json");
    let lock = text(".github/deploy-tools/package-lock.json");
    for (package, version) in [("@azure/static-web-apps-cli", "2."), ("binaryen", "")] {
        let pinned = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("\"{package}\": \"")))
            .unwrap_or_else(|| panic!("{package} missing from package.json"));
        let pinned = pinned.trim_end_matches([',', '"']);
        assert!(
            pinned.starts_with(version) && pinned.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
            "{package} is pinned to an exact version, not {pinned:?}"
        );
        let locked = format!("\"node_modules/{package}\": {{\n      \"version\": \"{pinned}\"");
        assert!(
            lock.contains(&locked),
            "package-lock.json has {package} {pinned}"
        );
    }
}

/// The environment the deploy job runs in is the one the docs' federated credential trusts, and
/// the repository variables the workflows read are exactly the ones the docs tell you to create.
#[test]
fn the_docs_one_time_setup_matches_the_workflow() {
    let docs = text("docs/deployment.md");
    let deploy = workflow("deploy.yml");
    let environment = deploy["jobs"]["deploy"]["environment"]
        .as_str()
        .expect("environment");
    assert!(
        docs.contains(&format!(
            "\"subject\": \"repo:OWNER/REPO:environment:{environment}\""
        )),
        "the federated credential's subject names the `{environment}` environment"
    );
    let mut used = BTreeSet::new();
    for name in WORKFLOWS {
        let source = text(&format!(".github/workflows/{name}"));
        for piece in source.split("vars.").skip(1) {
            let var: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.insert(var);
        }
    }
    let section = docs
        .split("## Continuous deployment from GitHub")
        .nth(1)
        .expect("the docs' CI/CD section");
    let listed: BTreeSet<String> = section
        .split("**variables**")
        .nth(1)
        .expect("the list of repository variables")
        .split(". ")
        .next()
        .unwrap_or_default()
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|v| v.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, used, "the docs' variables vs the workflows'");
}

/// Every manifest with pinned versions in the repository has a Dependabot entry, so a new one is
/// not forgotten.
#[test]
fn dependabot_keeps_every_manifest_current() {
    let config = yaml(".github/dependabot.yml");
    let mut covered = BTreeSet::new();
    for update in config["updates"].as_vec().expect("updates") {
        let ecosystem = update["package-ecosystem"].as_str().expect("ecosystem");
        let dirs: Vec<&str> = match update["directories"].as_vec() {
            Some(list) => list.iter().filter_map(Yaml::as_str).collect(),
            None => vec![update["directory"].as_str().expect("directory")],
        };
        assert!(
            update["cooldown"]["default-days"]
                .as_i64()
                .is_some_and(|d| d >= 3),
            "{ecosystem}: a cooldown lets a bad release be yanked before it is proposed"
        );
        for dir in dirs {
            covered.insert(format!("{ecosystem} {dir}"));
        }
    }
    let mut needed = BTreeSet::from(["github-actions /".to_owned()]);
    for manifest in tracked_files() {
        let path = Path::new(&manifest);
        let dir = match path.parent().and_then(Path::to_str) {
            Some("") | None => "/".to_owned(),
            Some(dir) => format!("/{dir}"),
        };
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let ecosystem = match file {
            "Cargo.lock" => "cargo",
            "package.json" => "npm",
            "Dockerfile" => "docker",
            _ => continue,
        };
        needed.insert(format!("{ecosystem} {dir}"));
    }
    // Terraform's providers: the root module and every module under infra/modules.
    needed.insert("terraform /infra".to_owned());
    needed.insert("terraform /infra/modules/*".to_owned());
    let missing: Vec<&String> = needed.difference(&covered).collect();
    assert!(missing.is_empty(), "no Dependabot entry for {missing:?}");
}

/// The repository's files as git tracks them (untracked build output is not a manifest).
fn tracked_files() -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["ls-files"])
        .current_dir(repo_root())
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
