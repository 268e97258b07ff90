//! A sandbox to run setup.sh, deploy.sh and cleanup.sh without Azure, Docker or network: a copy
//! of the scripts in a temporary git repository, and a PATH holding only the fake CLIs (the
//! `fake-cli` binary under each tool's name) and the real basic tools the scripts need, each
//! behind `fake-cli` too, which records its command line before running it.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::repo_root;

/// Tools faked by `fake-cli`.
pub const FAKED: [&str; 7] = ["az", "terraform", "docker", "trunk", "swa", "npx", "curl"];

/// Real tools the scripts use (coreutils and friends, jq, git); `fake-cli` runs them from
/// `$FAKE_DIR/real/` after recording the call.
const REAL: [&str; 19] = [
    "bash", "cat", "chmod", "dirname", "env", "git", "grep", "head", "jq", "mkdir", "mktemp", "mv",
    "od", "rm", "sed", "sleep", "tail", "tr", "date",
];

/// Values of the fake tenant and deployment, for assertions.
pub const TENANT_ID: &str = "11111111-1111-4111-8111-111111111111";
pub const ME: &str = "22222222-2222-4222-8222-222222222222";
pub const DOMAIN: &str = "contoso.example";
pub const SWA_TOKEN: &str = "swa-deploy-token-do-not-print-7f3a9c";
pub const BACKEND_URL: &str = "https://ca-entra-rbac-api.example.azurecontainerapps.io";
pub const FRONTEND_URL: &str = "https://nice-sea-0123.azurestaticapps.net";
pub const ACR: &str = "acrentrarbac.azurecr.io";
pub const BACKEND_PRINCIPAL: &str = "33333333-3333-4333-8333-333333333333";

/// One recorded call of a fake tool.
#[derive(Debug, Clone)]
pub struct Call {
    pub program: String,
    pub args: Vec<String>,
    /// Whether the SWA deployment token was in the tool's environment (faked tools only).
    pub token_in_env: bool,
    /// A faked tool (`FAKED`), rather than a real one run through the recorder.
    pub faked: bool,
}

impl Call {
    /// The call as one line, e.g. `az keyvault secret set --name x`.
    pub fn line(&self) -> String {
        format!("{} {}", self.program, self.args.join(" "))
    }
}

/// A script's exit status and output.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

#[derive(Debug)]
pub struct Sandbox {
    _dir: TempDir,
    pub repo: PathBuf,
    bin: PathBuf,
    fake_dir: PathBuf,
}

impl Sandbox {
    /// A fresh tenant (no registrations yet) and an applied Terraform deployment; `fake_cli` is
    /// the path of the `fake-cli` binary (`env!("CARGO_BIN_EXE_fake-cli")` in tests).
    pub fn new(fake_cli: &Path) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        let bin = dir.path().join("bin");
        let fake_dir = dir.path().join("fake");
        for d in [&repo, &bin, &fake_dir] {
            fs::create_dir_all(d).expect("mkdir");
        }
        copy_scripts(&repo);
        let real = fake_dir.join("real");
        fs::create_dir_all(&real).expect("mkdir");
        for tool in FAKED {
            symlink(fake_cli, bin.join(tool)).expect("link fake tool");
        }
        for tool in REAL {
            let found = which(tool).unwrap_or_else(|| panic!("the tests need `{tool}` on PATH"));
            symlink(found, real.join(tool)).expect("link real tool");
            symlink(fake_cli, bin.join(tool)).expect("link recorder");
        }
        let sandbox = Sandbox {
            _dir: dir,
            repo,
            bin,
            fake_dir,
        };
        sandbox.set_state(initial_state());
        sandbox.git(&["init", "--quiet"]);
        sandbox.git(&["add", "."]);
        sandbox.git(&["commit", "--quiet", "-m", "fixture"]);
        sandbox
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new(which("git").expect("git"))
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
            .args(args)
            .current_dir(&self.repo)
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// Runs `./script args` with no stdin, the sandbox PATH only, and extra environment.
    pub fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output: Output = Command::new(self.bin.join("bash"))
            .arg(self.repo.join(script))
            .args(args)
            .current_dir(&self.repo)
            .env_clear()
            .env("PATH", &self.bin)
            .env("HOME", self.fake_dir.as_os_str())
            .env("TMPDIR", self.fake_dir.as_os_str())
            .env("FAKE_DIR", &self.fake_dir)
            .env("RETRY_DELAY_SECONDS", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("script runs");
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Takes a tool off the sandbox PATH.
    pub fn remove_tool(&self, tool: &str) {
        fs::remove_file(self.bin.join(tool)).expect("tool was on PATH");
    }

    pub fn state(&self) -> Value {
        let text = fs::read_to_string(self.fake_dir.join("state.json")).expect("state");
        serde_json::from_str(&text).expect("state is JSON")
    }

    pub fn set_state(&self, state: Value) {
        fs::write(self.fake_dir.join("state.json"), state.to_string()).expect("write state");
    }

    /// Every call of a fake tool so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.all_calls().into_iter().filter(|c| c.faked).collect()
    }

    /// Every command the scripts started so far, faked or real: the command lines any local user
    /// could read in `ps` while they ran. Shell builtins (`printf`, `read`) start no process and
    /// are not here.
    pub fn all_calls(&self) -> Vec<Call> {
        let text = fs::read_to_string(self.fake_dir.join("calls.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).expect("call log line is JSON");
                Call {
                    program: v["program"].as_str().unwrap_or_default().to_owned(),
                    args: v["args"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    token_in_env: v["token_in_env"].as_bool().unwrap_or(false),
                    faked: v["faked"].as_bool().unwrap_or(false),
                }
            })
            .collect()
    }

    /// Forgets the calls so far (e.g. between a first and a second run).
    pub fn clear_calls(&self) {
        let _ = fs::remove_file(self.fake_dir.join("calls.jsonl"));
    }

    /// Writes the local settings setup.sh would have written, for deploy.sh tests.
    pub fn write_local_settings(&self, api_client_id: &str, spa_client_id: &str) {
        fs::write(
            self.repo.join("backend/.env"),
            format!("AZURE_TENANT_ID={TENANT_ID}\nAZURE_API_CLIENT_ID={api_client_id}\n"),
        )
        .expect("write backend/.env");
        fs::write(
            self.repo.join("frontend/config.local.json"),
            json!({"clientId": spa_client_id}).to_string(),
        )
        .expect("write config.local.json");
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// The scripts under test, and the repository files they read.
fn copy_scripts(repo: &Path) {
    let root = repo_root();
    for dir in ["scripts/lib", "backend", "frontend", "infra"] {
        fs::create_dir_all(repo.join(dir)).expect("mkdir");
    }
    for file in ["setup.sh", "deploy.sh", "cleanup.sh"] {
        fs::copy(root.join(file), repo.join(file)).expect("copy script");
    }
    for entry in fs::read_dir(root.join("scripts/lib"))
        .expect("scripts/lib")
        .flatten()
    {
        fs::copy(
            entry.path(),
            repo.join("scripts/lib").join(entry.file_name()),
        )
        .expect("copy lib");
    }
    fs::write(
        repo.join(".gitignore"),
        "/dist\n/.dev\nbackend/.env\nfrontend/config.local.json\n",
    )
    .expect("write .gitignore");
    fs::write(
        repo.join("staticwebapp.config.json"),
        json!({
            "navigationFallback": {"rewrite": "/index.html"},
            "globalHeaders": {
                "Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'"
            }
        })
        .to_string(),
    )
    .expect("write staticwebapp.config.json");
}

/// A tenant with no registrations, signed in, and infrastructure already applied.
fn initial_state() -> Value {
    json!({
        "signed_in": true,
        "tenant_id": TENANT_ID,
        "me": ME,
        "domain": DOMAIN,
        "next_id": 1,
        "applications": [],
        "service_principals": [],
        "users": [],
        "app_role_assignments": [],
        "secrets": {},
        "acr_images": [],
        "acr_pull_principals": [BACKEND_PRINCIPAL],
        "container_image": "mcr.microsoft.com/k8se/quickstart:latest",
        "swa_token": SWA_TOKEN,
        "health_ok": true,
        "cors_allow_origin": FRONTEND_URL,
        "terraform_state": ["module.key_vault.azurerm_key_vault.this"],
        "terraform_outputs": {
            "backend_url": BACKEND_URL,
            "frontend_url": FRONTEND_URL,
            "key_vault_name": "kv-entra-rbac",
            "key_vault_uri": "https://kv-entra-rbac.vault.azure.net/",
            "acr_name": "acrentrarbac",
            "acr_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acrentrarbac",
            "acr_login_server": ACR,
            "backend_image_name": "entra-rbac-api",
            "resource_group_name": "rg-entra-rbac",
            "backend_app_name": "ca-entra-rbac-api",
            "backend_principal_id": BACKEND_PRINCIPAL
        }
    })
}
