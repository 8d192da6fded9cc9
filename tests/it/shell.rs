//! kindscope in a developer's shell, through the real binary: completion scripts that parse and
//! complete, man pages that render, per-subcommand help, colour conventions, the kubectl plugin
//! name, and progress lines on a slow cluster (against the sim, through its kubeconfig).

#[path = "shell/cluster.rs"]
mod cluster;
#[path = "shell/scripts.rs"]
mod scripts;

pub use crate::support::text;
use std::path::Path;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_kindscope");

/// Run the binary with `args`, the environment cleared of colour and completion variables
/// (then `env` added), from `dir`.
pub fn run(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for var in [
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "_KINDSCOPE_COMPLETE",
        "KUBECONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run the kindscope binary")
}

/// Whether `program` is an executable file in a directory of PATH.
pub fn have(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// A tool a test needs is missing: one line saying so, and a failure under CI (which must
/// install it, see .ci/run).
pub fn missing(program: &str) -> bool {
    if have(program) {
        return false;
    }
    println!("{program} is not installed; skipping the part of this test that needs it");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{program} is required under CI (.ci/run installs it)"
    );
    true
}
