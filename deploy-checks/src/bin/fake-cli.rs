//! Stand-in for `az`, `terraform`, `docker`, `trunk`, `swa`, `npx` and `curl` in the script tests:
//! installed under those names (symlinks) on a PATH of its own, it acts on a JSON model of the
//! tenant and the subscription in `$FAKE_DIR/state.json` (app registrations, users, secrets,
//! images, Terraform outputs), so a second run of a script sees what the first created. Every
//! call is appended to `$FAKE_DIR/calls.jsonl` with its argv, for the tests' assertions. A call
//! whose command line contains `$FAKE_FAIL` fails, to test how the scripts report a failed step.
//!
//! Installed under the name of a real tool (`jq`, `git`, `mktemp`, …), it records the call the
//! same way and then becomes that tool (`$FAKE_DIR/real/<name>`), so the tests see every command
//! line a script starts, as `ps` would show it, not only those of the faked tools.
//!
//! Test code only: nothing here is shipped.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use deploy_checks::harness::FAKED;
use serde_json::{Value, json};

struct Fake {
    dir: PathBuf,
    state: Value,
}

/// What a faked command answers: stdout text and an exit code (stderr message on failure).
enum Reply {
    Out(String),
    Fail(String),
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let program = Path::new(&argv[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args = argv[1..].to_vec();
    let Some(dir) = std::env::var_os("FAKE_DIR").map(PathBuf::from) else {
        eprintln!("fake-cli: FAKE_DIR is not set");
        return ExitCode::FAILURE;
    };
    if !FAKED.contains(&program.as_str()) {
        return pass_through(&dir, &program, &args);
    }
    let text = fs::read_to_string(dir.join("state.json")).unwrap_or_else(|_| "{}".into());
    let mut fake = Fake {
        dir,
        state: serde_json::from_str(&text).unwrap_or_else(|_| json!({})),
    };
    fake.record(&program, &args);
    let line = format!("{program} {}", args.join(" "));
    let reply = match std::env::var("FAKE_FAIL") {
        Ok(pattern) if !pattern.is_empty() && line.contains(&pattern) => {
            Reply::Fail(format!("simulated failure of `{line}`"))
        }
        _ => match program.as_str() {
            "az" => fake.az(&args),
            "terraform" => fake.terraform(&args),
            "docker" => fake.docker(&args),
            "trunk" => fake.trunk(&args),
            "swa" => fake.swa(&args),
            "npx" => fake.swa(args.get(2..).unwrap_or_default()),
            "curl" => fake.curl(&args),
            other => Reply::Fail(format!("fake-cli does not fake `{other}`")),
        },
    };
    let saved = serde_json::to_string_pretty(&fake.state).unwrap_or_default();
    if fs::write(fake.dir.join("state.json"), saved).is_err() {
        eprintln!("fake-cli: cannot save state");
        return ExitCode::FAILURE;
    }
    match reply {
        Reply::Out(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Reply::Fail(message) => {
            eprintln!("ERROR: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Records the call of a real tool and replaces this process with that tool, which keeps the
/// standard streams. The state is not touched: a real tool may run beside a faked one in a pipe.
fn pass_through(dir: &Path, program: &str, args: &[String]) -> ExitCode {
    append_call(
        dir,
        &json!({"program": program, "args": args, "faked": false}),
    );
    let error = Command::new(dir.join("real").join(program))
        .arg0(program)
        .args(args)
        .exec();
    eprintln!("fake-cli: cannot run the real {program}: {error}");
    ExitCode::FAILURE
}

/// Appends one line to `calls.jsonl` in a single write, so that the lines of tools running at
/// the same time (the two ends of a pipe) do not interleave.
fn append_call(dir: &Path, entry: &Value) {
    if let Ok(mut log) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("calls.jsonl"))
    {
        let _ = log.write_all(format!("{entry}\n").as_bytes());
    }
}

/// The value after `flag` in `args`.
fn opt<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn has(args: &[String], words: &[&str]) -> bool {
    args.windows(words.len()).any(|w| w == words)
}

fn guid(counter: u64) -> String {
    format!("00000000-0000-4000-8000-{counter:012x}")
}

impl Fake {
    fn record(&self, program: &str, args: &[String]) {
        let token = self.state["swa_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let token_in_env = !token.is_empty() && std::env::vars().any(|(_, v)| v == token);
        let entry = json!({
            "program": program,
            "args": args,
            "cwd": std::env::current_dir().ok(),
            "token_in_env": token_in_env,
            "faked": true,
        });
        append_call(&self.dir, &entry);
    }

    fn new_id(&mut self) -> String {
        let next = self.state["next_id"].as_u64().unwrap_or(1);
        self.state["next_id"] = json!(next + 1);
        guid(next)
    }

    fn list(&mut self, name: &str) -> &mut Vec<Value> {
        if !self.state[name].is_array() {
            self.state[name] = json!([]);
        }
        self.state[name].as_array_mut().expect("array just ensured")
    }

    fn az(&mut self, args: &[String]) -> Reply {
        if !self.state["signed_in"].as_bool().unwrap_or(false) {
            return Reply::Fail("Please run 'az login' to setup account.".into());
        }
        let tsv = |v: &Value| {
            Reply::Out(match v {
                Value::String(s) => format!("{s}\n"),
                other => format!("{other}\n"),
            })
        };
        if has(args, &["account", "show"]) {
            return match opt(args, "--output") {
                Some("none") => Reply::Out(String::new()),
                _ => tsv(&self.state["tenant_id"].clone()),
            };
        }
        if args.first().map(String::as_str) == Some("rest") {
            return self.graph(args);
        }
        let name = opt(args, "--name").unwrap_or_default().to_owned();
        if has(args, &["keyvault", "secret", "show"]) {
            return match self.state["secrets"][&name].as_str() {
                Some(value) => Reply::Out(format!("{value}\n")),
                None => Reply::Fail(format!(
                    "(SecretNotFound) A secret with (name/id) {name} was not found"
                )),
            };
        }
        if has(args, &["keyvault", "secret", "set"]) {
            let file = opt(args, "--file").unwrap_or_default();
            let Ok(value) = fs::read_to_string(file) else {
                return Reply::Fail(format!("cannot read --file {file}"));
            };
            self.state["secrets"][&name] = json!(value);
            return Reply::Out(String::new());
        }
        if has(args, &["acr", "repository", "show"]) {
            let image = opt(args, "--image").unwrap_or_default();
            return if self.list("acr_images").iter().any(|i| i == image) {
                Reply::Out(String::new())
            } else {
                Reply::Fail(format!("manifest unknown: {image}"))
            };
        }
        if has(args, &["acr", "login"]) {
            return Reply::Out("Login Succeeded\n".into());
        }
        if has(args, &["acr", "build"]) {
            let image = opt(args, "--image").unwrap_or_default().to_owned();
            self.list("acr_images").push(json!(image));
            return Reply::Out(String::new());
        }
        if has(args, &["role", "assignment", "list"]) {
            // Only the AcrPull grants on the registry, counted for the principal in --query.
            let query = opt(args, "--query").unwrap_or_default();
            let principal = query
                .split_once("principalId=='")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map(|(id, _)| id.to_owned());
            let count = self
                .list("acr_pull_principals")
                .iter()
                .filter(|p| principal.as_deref().is_some_and(|id| *p == id))
                .count();
            return tsv(&json!(count));
        }
        if has(args, &["containerapp", "show"]) {
            return tsv(&self.state["container_image"].clone());
        }
        if has(args, &["containerapp", "update"]) {
            self.state["container_image"] = json!(opt(args, "--image"));
            return Reply::Out(String::new());
        }
        Reply::Fail(format!("fake az does not know `az {}`", args.join(" ")))
    }

    /// Microsoft Graph, as far as the scripts use it.
    fn graph(&mut self, args: &[String]) -> Reply {
        let method = opt(args, "--method").unwrap_or("GET").to_owned();
        let uri = opt(args, "--uri").unwrap_or_default();
        let path = uri
            .strip_prefix("https://graph.microsoft.com/v1.0")
            .unwrap_or(uri)
            .replace("%20", " ");
        let (resource, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
        let body: Value = match opt(args, "--body").and_then(|b| b.strip_prefix('@')) {
            Some(file) => match fs::read_to_string(file).map(|t| serde_json::from_str(&t)) {
                Ok(Ok(body)) => body,
                _ => return Reply::Fail(format!("--body {file} is not JSON")),
            },
            None => json!({}),
        };
        let filter = |key: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix("$filter="))
                .and_then(|f| f.strip_prefix(&format!("{key} eq '")))
                .and_then(|f| f.strip_suffix('\''))
                .map(str::to_owned)
        };
        let found = |list: &[Value], key: &str, value: Option<String>| {
            let value = json!(value.unwrap_or_default());
            json!({"value": list.iter().filter(|o| o[key] == value).collect::<Vec<_>>()})
        };
        let segments: Vec<&str> = resource.trim_start_matches('/').split('/').collect();
        let out = |v: Value| Reply::Out(format!("{v}\n"));
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["me"]) => out(json!({"id": self.state["me"]})),
            ("GET", ["domains"]) => {
                out(json!({"value": [{"id": self.state["domain"], "isDefault": true}]}))
            }
            ("GET", ["applications"]) => {
                let apps = self.list("applications").clone();
                out(found(&apps, "displayName", filter("displayName")))
            }
            ("GET", [one]) if one.starts_with("applications(appId='") => {
                let app_id = one
                    .trim_start_matches("applications(appId='")
                    .trim_end_matches("')");
                match self
                    .list("applications")
                    .iter()
                    .find(|a| a["appId"] == app_id)
                {
                    Some(app) => out(app.clone()),
                    None => Reply::Fail(format!("Resource '{app_id}' does not exist")),
                }
            }
            ("POST", ["applications"]) => {
                let mut app = body;
                app["id"] = json!(self.new_id());
                app["appId"] = json!(self.new_id());
                self.list("applications").push(app.clone());
                out(app)
            }
            ("PATCH", ["applications", id]) => {
                let Some(app) = self
                    .list("applications")
                    .iter_mut()
                    .find(|a| a["id"] == *id)
                else {
                    return Reply::Fail(format!("application {id} does not exist"));
                };
                // Graph checks pre-authorizations against the scopes the app has before this
                // request, not those the same request adds.
                let known = |scope: &Value| {
                    app["api"]["oauth2PermissionScopes"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| s["id"] == *scope))
                };
                let unknown = body["api"]["preAuthorizedApplications"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["delegatedPermissionIds"].as_array())
                    .flatten()
                    .any(|scope| !known(scope));
                if unknown {
                    return Reply::Fail("Property api.preAuthorizedApplications.delegatedPermissionIds has a Permission Id that cannot be found in the AppPermissions sets.".into());
                }
                if let (Some(app), Some(changes)) = (app.as_object_mut(), body.as_object()) {
                    app.extend(changes.clone());
                }
                Reply::Out(String::new())
            }
            ("DELETE", ["applications", id]) => {
                let app_id = self
                    .list("applications")
                    .iter()
                    .find(|a| a["id"] == *id)
                    .map(|a| a["appId"].clone());
                let Some(app_id) = app_id else {
                    return Reply::Fail(format!("application {id} does not exist"));
                };
                self.list("applications").retain(|a| a["id"] != *id);
                self.list("service_principals")
                    .retain(|s| s["appId"] != app_id);
                Reply::Out(String::new())
            }
            ("GET", ["servicePrincipals"]) => {
                let sps = self.list("service_principals").clone();
                out(found(&sps, "appId", filter("appId")))
            }
            ("POST", ["servicePrincipals"]) => {
                let sp = json!({"id": self.new_id(), "appId": body["appId"]});
                self.list("service_principals").push(sp.clone());
                out(sp)
            }
            ("GET", ["servicePrincipals", sp, "appRoleAssignedTo"]) => {
                // Paged as Graph pages it: `graph_page_size` items (default 100), then a
                // nextLink with a skiptoken (here, the index of the next item).
                let size = self.state["graph_page_size"].as_u64().unwrap_or(100) as usize;
                let skip: usize = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("$skiptoken="))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let all: Vec<Value> = self
                    .list("app_role_assignments")
                    .iter()
                    .filter(|a| a["resourceId"] == *sp)
                    .cloned()
                    .collect();
                let mut page =
                    json!({"value": all.iter().skip(skip).take(size).collect::<Vec<_>>()});
                if skip + size < all.len() {
                    page["@odata.nextLink"] = json!(format!(
                        "https://graph.microsoft.com/v1.0/servicePrincipals/{sp}/appRoleAssignedTo?$skiptoken={}",
                        skip + size
                    ));
                }
                out(page)
            }
            ("POST", ["servicePrincipals", _, "appRoleAssignedTo"]) => {
                let mut assignment = body;
                assignment["id"] = json!(self.new_id());
                self.list("app_role_assignments").push(assignment.clone());
                out(assignment)
            }
            ("GET", ["users"]) => {
                let users = self.list("users").clone();
                out(found(
                    &users,
                    "userPrincipalName",
                    filter("userPrincipalName"),
                ))
            }
            ("POST", ["users"]) => {
                let mut user = body;
                user["id"] = json!(self.new_id());
                self.list("users").push(user.clone());
                out(user)
            }
            ("DELETE", ["users", id]) => {
                self.list("users").retain(|u| u["id"] != *id);
                Reply::Out(String::new())
            }
            _ => Reply::Fail(format!("fake Graph does not know {method} {path}")),
        }
    }

    fn terraform(&mut self, args: &[String]) -> Reply {
        let rest: Vec<&str> = args
            .iter()
            .filter(|a| !a.starts_with("-chdir="))
            .map(String::as_str)
            .collect();
        match rest.as_slice() {
            ["output", "-json"] => {
                let Some(outputs) = self.state["terraform_outputs"]
                    .as_object()
                    .filter(|o| !o.is_empty())
                else {
                    return Reply::Fail("No outputs found".into());
                };
                let mut json = BTreeMap::new();
                for (name, value) in outputs {
                    json.insert(
                        name.clone(),
                        json!({"sensitive": false, "type": "string", "value": value}),
                    );
                }
                json.insert(
                    "swa_deployment_token".into(),
                    json!({"sensitive": true, "type": "string", "value": self.state["swa_token"]}),
                );
                Reply::Out(format!("{}\n", json!(json)))
            }
            ["output", "-raw", "swa_deployment_token"] => Reply::Out(
                self.state["swa_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            ["state", "list"] => {
                let items: Vec<String> = self
                    .list("terraform_state")
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                Reply::Out(items.iter().map(|i| format!("{i}\n")).collect())
            }
            ["destroy", ..] => {
                self.state["terraform_state"] = json!([]);
                self.state["terraform_outputs"] = json!({});
                Reply::Out("Destroy complete!\n".into())
            }
            _ => Reply::Fail(format!("fake terraform does not know `{}`", args.join(" "))),
        }
    }

    fn docker(&mut self, args: &[String]) -> Reply {
        match args.first().map(String::as_str) {
            Some("build") => Reply::Out(String::new()),
            Some("push") => {
                let image = args.get(1).cloned().unwrap_or_default();
                let repository_tag = image
                    .split_once('/')
                    .map(|(_, r)| r.to_owned())
                    .unwrap_or(image);
                self.list("acr_images").push(json!(repository_tag));
                Reply::Out(String::new())
            }
            _ => Reply::Fail(format!("fake docker does not know `{}`", args.join(" "))),
        }
    }

    /// `trunk build --release`: dist/ with index.html and a copy of staticwebapp.config.json.
    fn trunk(&mut self, args: &[String]) -> Reply {
        if args != ["build", "--release"] {
            return Reply::Fail(format!("fake trunk does not know `{}`", args.join(" ")));
        }
        let built = fs::create_dir_all("dist")
            .and_then(|()| fs::write("dist/index.html", "<!doctype html><title>app</title>"))
            .and_then(|()| fs::copy("staticwebapp.config.json", "dist/staticwebapp.config.json"));
        match built {
            Ok(_) => Reply::Out("trunk: success\n".into()),
            Err(e) => Reply::Fail(format!("build failed: {e}")),
        }
    }

    /// `swa deploy DIR [--swa-config-location CONFIG_DIR] --env production`, authenticated by
    /// SWA_CLI_DEPLOYMENT_TOKEN only. Like the real CLI, it takes `staticwebapp.config.json` from
    /// the current folder unless told where it is.
    fn swa(&mut self, args: &[String]) -> Reply {
        let token = std::env::var("SWA_CLI_DEPLOYMENT_TOKEN").unwrap_or_default();
        if args.first().map(String::as_str) != Some("deploy") {
            return Reply::Fail(format!("fake swa does not know `{}`", args.join(" ")));
        }
        if token.is_empty() || self.state["swa_token"] != json!(token) {
            return Reply::Fail("a valid deployment token is required".into());
        }
        let dir = args.get(1).cloned().unwrap_or_default();
        let config = fs::read_to_string(Path::new(&dir).join("config.json")).ok();
        self.state["swa_deployed_config"] = json!(config);
        let settings_dir = opt(args, "--swa-config-location").unwrap_or(".");
        let settings =
            fs::read_to_string(Path::new(settings_dir).join("staticwebapp.config.json")).ok();
        self.state["swa_deployed_settings"] = json!(settings);
        Reply::Out("Project deployed\n".into())
    }

    fn curl(&mut self, args: &[String]) -> Reply {
        let preflight = opt(args, "--request") == Some("OPTIONS");
        if preflight {
            let origin = self.state["cors_allow_origin"].as_str().unwrap_or_default();
            return Reply::Out(format!(
                "HTTP/2 200\r\naccess-control-allow-origin: {origin}\r\n\r\n"
            ));
        }
        if self.state["health_ok"].as_bool().unwrap_or(false) {
            Reply::Out(String::new())
        } else {
            Reply::Fail("curl: (22) The requested URL returned error: 503".into())
        }
    }
}
