//! `cargo xtask install`: installs the tools of a task without running it (`ci` and `dev` install
//! what they need by themselves). `.ci/wasm-toolchain.sh` calls it.

use crate::{
    step::{Runner, say},
    tools::{self, Missing, Tool},
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which tools: those of `cargo xtask ci`, of `cargo xtask dev`, or the browser toolchain
    /// (what `dev` needs, and Chromium for the browser tests).
    #[arg(value_enum, default_value_t = Set::Ci)]
    set: Set,
    /// Only say what is missing; install nothing (exit 1 if anything is).
    #[arg(long)]
    check: bool,
    /// Print the variables a wasm32 build needs on this machine, as `export` lines (nothing in
    /// the normal case; see `tools::wasm_env`), and install nothing.
    #[arg(long, conflicts_with = "check")]
    print_env: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Set {
    Ci,
    Dev,
    Browser,
}

pub fn run(args: &Args) -> Result<(), String> {
    if args.print_env {
        for (name, value) in tools::wasm_env() {
            println!("export {name}={value}");
        }
        return Ok(());
    }
    let set = tools_of(args.set)?;
    if args.check {
        let plan = tools::Plan::new(&set);
        if plan.missing.is_empty() {
            say("xtask install: every tool is installed");
            return Ok(());
        }
        for line in plan.describe() {
            say(&line);
        }
        return Err(format!("{} tool(s) missing", plan.missing.len()));
    }
    let runner = Runner::new("install", false)?;
    let reports = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(tools::ensure(&runner, &set))
        .map_err(|missing| match missing {
            Missing::Tools(fixes) => fixes.join("\n"),
            Missing::Interrupted => "interrupted".to_owned(),
        })?;
    say(&format!(
        "xtask install: every tool is installed{}",
        if reports.is_empty() {
            " (nothing to do)"
        } else {
            ""
        }
    ));
    Ok(())
}

fn tools_of(set: Set) -> Result<Vec<&'static Tool>, String> {
    Ok(match set {
        Set::Ci => crate::ci::needed_tools()?,
        Set::Dev => tools::BROWSER_BUILD.to_vec(),
        Set::Browser => {
            let mut set = tools::BROWSER_BUILD.to_vec();
            set.push(&tools::CHROMIUM);
            set
        }
    })
}
