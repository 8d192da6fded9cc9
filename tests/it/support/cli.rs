//! Running the real binary from async tests, and reading what it printed.

use std::path::Path;
use std::process::Output;

/// The binary with `args`, its journal in `state_dir`, without colour, off the async runtime
/// (so that an in-process sim keeps serving while it runs).
pub async fn kindscope(args: &[&str], state_dir: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let state = state_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kindscope"))
            .args(&args)
            .env("KINDSCOPE_STATE_DIR", state)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env_remove("KINDSCOPE_LOG")
            .output()
            .expect("run kindscope")
    })
    .await
    .expect("join")
}

/// Output bytes as text (lossy: a test prints what it got).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
