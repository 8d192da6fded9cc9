//! Running the real binary from tests, and reading what it printed.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A give-up bound for a run of the binary that must end by itself: far past every timeout of
/// the product (the longest, the 10 s of an unreachable cluster, is checked on paused time in
/// `cluster::connect`'s tests), so that only a hang reaches it, never a busy machine.
pub const NO_HANG: Duration = Duration::from_secs(60);

/// The binary with `args`, its journal in `state_dir`, without colour, blind to the caller's
/// kubeconfig and log settings.
pub fn command(args: &[impl AsRef<OsStr>], state_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindscope"));
    cmd.args(args)
        .env("KINDSCOPE_STATE_DIR", state_dir)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("KINDSCOPE_LOG");
    cmd
}

/// [`command`] with its journal and its configuration under `dir` (`state/`, `config/`), so
/// that not even the user's configuration file is read.
pub fn isolated(args: &[impl AsRef<OsStr>], dir: &Path) -> Command {
    let mut cmd = command(args, &dir.join("state"));
    cmd.env("XDG_CONFIG_HOME", dir.join("config"));
    cmd
}

/// `cmd` run to its end off the async runtime (so that an in-process sim keeps serving).
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run kindscope"))
        .await
        .expect("join")
}

/// [`output`], with `input` (if any) written to the command's stdin and stdin closed after.
pub async fn output_fed(mut cmd: Command, input: Option<&str>) -> Output {
    let Some(input) = input.map(str::to_string) else {
        return output(cmd).await;
    };
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kindscope");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
        drop(pipe);
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join")
}

/// [`command`] run to its end, off the async runtime.
pub async fn kindscope(args: &[&str], state_dir: &Path) -> Output {
    output(command(args, state_dir)).await
}

/// Output bytes as text (lossy: a test prints what it got).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `kindscope sim serve --write-kubeconfig KUBECONFIG`, for the caller's further flags.
pub fn sim_serve(kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindscope"));
    cmd.args(["sim", "serve", "--write-kubeconfig"])
        .arg(kubeconfig);
    cmd
}

/// `cmd` (a [`sim_serve`]) started, once it printed its ready line (`kindscope sim: serving …
/// at URL`): the child and that line. Its stderr is discarded, its log level its own default.
pub fn ready(mut cmd: Command) -> (Child, String) {
    let mut child = cmd
        .env_remove("KINDSCOPE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start kindscope sim serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the ready line");
    assert!(line.contains("serving"), "sim serve said: {line:?}");
    (child, line)
}
