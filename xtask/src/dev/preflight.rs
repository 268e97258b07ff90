//! Everything the local stack needs that this command cannot provide itself, checked before
//! anything starts: each problem is one line saying what is missing and how to get it.

use std::{net::TcpListener, path::Path, process::Command};

use super::wiring::Ports;
use crate::{find_on_path, tools::locked_version};

/// The script that installs the whole browser toolchain on this kind of machine.
const TOOLCHAIN_SCRIPT: &str = ".ci/wasm-toolchain.sh install";

/// Every problem found, or `Ok` when the stack can start. `spa`: whether the browser toolchain is
/// needed.
pub fn check(root: &Path, ports: &Ports, spa: bool) -> Result<(), String> {
    let mut problems = Vec::new();
    if spa {
        problems.extend(browser_toolchain(root));
    }
    for (port, what, flag) in ports.listening(spa) {
        problems.extend(port_in_use(port, what, flag));
    }
    match problems.as_slice() {
        [] => Ok(()),
        [problem] => Err(format!("cannot start the local stack: {problem}")),
        _ => Err(format!(
            "cannot start the local stack:\n  - {}",
            problems.join("\n  - ")
        )),
    }
}

/// Trunk, wasm-bindgen at Cargo.lock's version, the wasm32 target and wasm-opt: what
/// `trunk serve` needs, since it cannot download anything here.
fn browser_toolchain(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if find_on_path("trunk").is_none() {
        problems.push(format!(
            "trunk is not installed: run {TOOLCHAIN_SCRIPT} (or cargo install trunk --locked)"
        ));
    }
    match std::fs::read_to_string(root.join("Cargo.lock"))
        .ok()
        .and_then(|lock| locked_version(&lock, "wasm-bindgen"))
    {
        Some(wanted) => problems.extend(wasm_bindgen_problem(
            run_for_output("wasm-bindgen", &["--version"]).as_deref(),
            &wanted,
        )),
        None => problems.push("Cargo.lock names no wasm-bindgen version: run cargo fetch".into()),
    }
    problems.extend(wasm32_target_problem());
    if find_on_path("wasm-opt").is_none() {
        problems.push(format!(
            "wasm-opt is not installed: run {TOOLCHAIN_SCRIPT} (or npm install -g binaryen)"
        ));
    }
    problems
}

/// What is wrong with the installed wasm-bindgen (`installed`: its `--version` output), given
/// the version Cargo.lock wants; Trunk needs the two to be equal.
fn wasm_bindgen_problem(installed: Option<&str>, wanted: &str) -> Option<String> {
    let install = format!("cargo install wasm-bindgen-cli --version {wanted} --locked --force");
    let found = installed.and_then(|output| output.split_whitespace().nth(1));
    match found {
        Some(found) if found == wanted => None,
        Some(found) => Some(format!(
            "wasm-bindgen {found} is installed but Cargo.lock has wasm-bindgen {wanted} \
             (Trunk needs them equal): {install}"
        )),
        None => Some(format!(
            "wasm-bindgen (wasm-bindgen-cli {wanted}) is not installed: {install}"
        )),
    }
}

/// Whether the toolchain cargo builds with lacks the standard library for wasm32.
fn wasm32_target_problem() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Some(sysroot) = run_for_output(&rustc, &["--print", "sysroot"]) else {
        return Some(format!(
            "cannot run `{rustc} --print sysroot` to look for the wasm32 target: is Rust on PATH?"
        ));
    };
    let target = Path::new(sysroot.trim()).join("lib/rustlib/wasm32-unknown-unknown");
    (!target.is_dir()).then(|| {
        "the wasm32-unknown-unknown target is not installed: \
         rustup target add wasm32-unknown-unknown"
            .to_owned()
    })
}

/// Standard output of a command that succeeded.
fn run_for_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A problem if something already listens on `port` on loopback, where the part would listen.
fn port_in_use(port: u16, what: &str, flag: &str) -> Option<String> {
    TcpListener::bind(("127.0.0.1", port)).err().map(|err| {
        format!(
            "port {port} ({what}) is not free ({err}): stop what listens there \
             (`ss -ltnp 'sport = :{port}'` names it) or choose another with {flag} <PORT>"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_bindgen_must_match_cargo_lock_exactly() {
        assert_eq!(
            wasm_bindgen_problem(Some("wasm-bindgen 0.2.130\n"), "0.2.130"),
            None
        );
        assert_eq!(
            wasm_bindgen_problem(Some("wasm-bindgen 0.2.100\n"), "0.2.130").as_deref(),
            Some(
                "wasm-bindgen 0.2.100 is installed but Cargo.lock has wasm-bindgen 0.2.130 \
                 (Trunk needs them equal): \
                 cargo install wasm-bindgen-cli --version 0.2.130 --locked --force"
            )
        );
        assert_eq!(
            wasm_bindgen_problem(None, "0.2.130").as_deref(),
            Some(
                "wasm-bindgen (wasm-bindgen-cli 0.2.130) is not installed: \
                 cargo install wasm-bindgen-cli --version 0.2.130 --locked --force"
            )
        );
    }

    #[test]
    fn a_busy_port_is_named_with_the_flag_that_moves_the_part() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = taken.local_addr().expect("address").port();
        let problem = port_in_use(port, "the API", "--api-port").expect("the port is taken");
        assert!(
            problem.starts_with(&format!("port {port} (the API) is not free (")),
            "{problem}"
        );
        assert!(
            problem.ends_with("or choose another with --api-port <PORT>"),
            "{problem}"
        );
        drop(taken);
        assert_eq!(port_in_use(port, "the API", "--api-port"), None);
    }

    #[test]
    fn every_busy_port_is_reported_at_once() {
        let taken: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        let port = |i: usize| taken[i].local_addr().expect("address").port();
        let ports = Ports::new(port(0), port(1), port(2)).expect("distinct");
        let root = Path::new(".");
        let problems = check(root, &ports, false).expect_err("API and provider ports are taken");
        assert!(problems.starts_with("cannot start the local stack:\n  - "));
        assert!(problems.contains("(the API)") && problems.contains("(dev-identity)"));
        assert!(
            !problems.contains("trunk"),
            "--no-spa needs neither the SPA's port nor its tools: {problems}"
        );
    }
}
