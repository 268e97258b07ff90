//! Checks of the Azure deployment that need no Azure: the Terraform in `infra/` parsed and checked
//! for wiring and security (providers cannot be downloaded here, so `terraform validate` cannot
//! run), and the test harness that runs setup.sh, deploy.sh and cleanup.sh against fake CLIs.

pub mod harness;
pub mod security;
pub mod terraform;

use std::path::PathBuf;

/// The repository root (this crate lives in `<root>/deploy-checks`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}
