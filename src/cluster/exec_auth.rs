//! Exec credential plugins (`users[].user.exec` in a kubeconfig), run by kindscope itself with a
//! deadline (docs/cli.md, "Credential plugins").
//!
//! kube-rs runs the plugin synchronously inside client construction, without a timeout, with
//! the terminal's stderr, and reports a failure as a debug dump of the process output. Here it
//! runs once, in its own process group, with stdin closed and its output captured and bounded:
//! a plugin that hangs is killed at the deadline, and a failure or garbage output is one
//! sentence naming the plugin. The credential it prints then goes into the kubeconfig user, so
//! kube does not run the plugin again — except for a token with an expiry, which stays with
//! the plugin so that kube refreshes it when it runs out.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use kube::config::{AuthInfo, ExecConfig};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::CliError;

/// How long a plugin may take. Within the 10 s an unreachable cluster takes to report.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(5);
/// More output than any credential needs; a plugin printing without end is cut here.
const OUTPUT_LIMIT: u64 = 1 << 20;

/// What running the plugin left in the kubeconfig user.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The credential replaced the plugin.
    Static,
    /// The token expires: the plugin stays for kube to refresh it (it runs again while the
    /// client is built).
    Refreshable,
}

/// `ExecCredential` as plugins print it (client.authentication.k8s.io).
#[derive(Debug, Deserialize)]
struct ExecCredential {
    kind: Option<String>,
    status: Option<ExecStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    expiration_timestamp: Option<String>,
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Control characters out, at most `max` characters: plugin output and kubeconfig text are
/// shown to the user.
fn printable(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// The plugin's name for sentences: its command as the kubeconfig writes it (arguments left
/// out: they may carry secrets).
pub fn plugin_name(exec: &ExecConfig) -> String {
    printable(exec.command.as_deref().unwrap_or(""), 120)
}

/// Run the plugin of `auth` (which must have `exec`) and put its credential in place.
pub async fn resolve(
    auth: &mut AuthInfo,
    context: &str,
    timeout: Duration,
) -> Result<Outcome, CliError> {
    let Some(exec) = auth.exec.clone() else {
        return Ok(Outcome::Static);
    };
    let name = plugin_name(&exec);
    let fail = |what: String| {
        CliError::cluster(format!(
            "the exec credential plugin `{name}` of context \"{context}\" {what}"
        ))
    };
    let Some(command) = exec.command.as_deref().filter(|c| !c.is_empty()) else {
        return Err(CliError::usage(format!(
            "the user of context \"{context}\" has an exec credential plugin without a command; \
             fix users[].user.exec.command in the kubeconfig"
        )));
    };
    let output = match tokio::time::timeout(timeout, run(command, &exec)).await {
        Err(_) => {
            return Err(fail(format!(
                "did not finish within {} s and was stopped; run it by hand to see what it \
                 waits for (a login in a browser or a terminal?)",
                timeout.as_secs()
            )));
        }
        Ok(Err(RunError::Start(e))) => {
            let hint = exec
                .install_hint
                .as_deref()
                .map(|h| format!(" ({})", printable(h.trim(), 200)))
                .unwrap_or_default();
            return Err(fail(format!(
                "could not be started ({e}); install it or fix users[].user.exec.command in the \
                 kubeconfig{hint}"
            )));
        }
        Ok(Err(RunError::Io(e))) => {
            return Err(fail(format!(
                "could not be read ({e}); run it by hand to check it"
            )));
        }
        Ok(Ok(out)) => out,
    };
    if !output.status.success() {
        let how = match output.status.code() {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_string(),
        };
        let said = last_line(&output.stderr)
            .map(|l| format!(", saying \"{l}\""))
            .unwrap_or_default();
        return Err(fail(format!(
            "failed ({how}{said}); run it by hand to see why, or log in again"
        )));
    }
    let credential = parse(&output.stdout).ok_or_else(|| {
        fail(
            "printed something that is not an ExecCredential (JSON with status.token or \
             status.clientCertificateData); run it by hand and check its output"
                .to_string(),
        )
    })?;
    let status = credential.status.unwrap_or(ExecStatus {
        expiration_timestamp: None,
        token: None,
        client_certificate_data: None,
        client_key_data: None,
    });
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    match status {
        ExecStatus {
            client_certificate_data: Some(cert),
            client_key_data: Some(key),
            ..
        } => {
            auth.client_certificate_data = Some(b64(&cert));
            auth.client_key_data = Some(b64(&key).into());
            auth.exec = None;
            Ok(Outcome::Static)
        }
        ExecStatus {
            token: Some(_),
            expiration_timestamp: Some(_),
            ..
        } => Ok(Outcome::Refreshable),
        ExecStatus {
            token: Some(token), ..
        } if !token.is_empty() => {
            auth.token = Some(token.into());
            auth.exec = None;
            Ok(Outcome::Static)
        }
        _ => Err(fail(
            "printed an ExecCredential without a token or a client certificate; run it by hand \
             and check its output"
                .to_string(),
        )),
    }
}

/// JSON as the protocol says; YAML too, as client-go's decoder (and kube's) accept it.
fn parse(stdout: &[u8]) -> Option<ExecCredential> {
    let cred: ExecCredential = serde_json::from_slice(stdout)
        .ok()
        .or_else(|| serde_saphyr::from_slice(stdout).ok())?;
    match cred.kind.as_deref() {
        None | Some("ExecCredential") => Some(cred),
        Some(_) => None,
    }
}

fn last_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| printable(l, 200))
}

enum RunError {
    Start(std::io::Error),
    Io(std::io::Error),
}

struct Output {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Kills the plugin's whole process group when dropped (on the deadline, or on any early
/// return): a shell script's `sleep` child must not outlive kindscope holding its pipes.
struct KillGroup(Option<u32>);

impl Drop for KillGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

async fn run(command: &str, exec: &ExecConfig) -> Result<Output, RunError> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    for k in exec.drop_env.iter().flatten() {
        cmd.env_remove(k);
    }
    cmd.env("KUBERNETES_EXEC_INFO", exec_info(exec).to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(RunError::Start)?;
    let mut guard = KillGroup(child.id());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (out, err, status) = tokio::join!(read_all(stdout), read_all(stderr), child.wait());
    // It finished and closed its output: whatever it left running is its own business.
    guard.0 = None;
    Ok(Output {
        status: status.map_err(RunError::Io)?,
        stdout: out.map_err(RunError::Io)?,
        stderr: err.map_err(RunError::Io)?,
    })
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(p) = pipe {
        p.take(OUTPUT_LIMIT).read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// `KUBERNETES_EXEC_INFO`: the request client-go passes to plugins (not interactive: stdin is
/// closed).
fn exec_info(exec: &ExecConfig) -> serde_json::Value {
    let mut spec = serde_json::json!({"interactive": false});
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
        && let Ok(c) = serde_json::to_value(cluster)
    {
        spec["cluster"] = c;
    }
    serde_json::json!({
        "apiVersion": exec.api_version.as_deref().unwrap_or("client.authentication.k8s.io/v1"),
        "kind": "ExecCredential",
        "spec": spec,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A user whose exec plugin is `sh -c SCRIPT`.
    fn user(script: &str) -> AuthInfo {
        let exec: ExecConfig = serde_json::from_value(serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh",
            "args": ["-c", script],
            "env": [{"name": "GREETING", "value": "hi"}],
        }))
        .expect("exec config");
        AuthInfo {
            exec: Some(exec),
            ..AuthInfo::default()
        }
    }

    async fn outcome(script: &str) -> (Result<Outcome, CliError>, AuthInfo) {
        let mut auth = user(script);
        let r = resolve(&mut auth, "kind-t", Duration::from_secs(5)).await;
        (r, auth)
    }

    #[tokio::test]
    async fn a_static_token_replaces_the_plugin() {
        let (r, auth) = outcome(
            r#"test "$GREETING" = hi && echo "$KUBERNETES_EXEC_INFO" | grep -q '"interactive":false' && echo '{"kind":"ExecCredential","status":{"token":"t0"}}'"#,
        )
        .await;
        assert_eq!(r.expect("resolves"), Outcome::Static);
        assert!(auth.exec.is_none() && auth.token.is_some());
    }

    #[tokio::test]
    async fn a_yaml_certificate_is_accepted_and_encoded() {
        let (r, auth) = outcome(
            "printf 'kind: ExecCredential\\nstatus:\\n  clientCertificateData: CERT\\n  clientKeyData: KEY\\n'",
        )
        .await;
        assert_eq!(r.expect("resolves"), Outcome::Static);
        assert_eq!(auth.client_certificate_data.as_deref(), Some("Q0VSVA=="));
        assert!(auth.client_key_data.is_some() && auth.exec.is_none());
    }

    #[tokio::test]
    async fn an_expiring_token_stays_with_the_plugin() {
        let (r, auth) = outcome(
            r#"echo '{"status":{"token":"t","expirationTimestamp":"2999-01-01T00:00:00Z"}}'"#,
        )
        .await;
        assert_eq!(r.expect("resolves"), Outcome::Refreshable);
        assert!(auth.exec.is_some() && auth.token.is_none());
    }

    #[tokio::test]
    async fn another_kind_garbage_and_a_hang_are_cluster_errors() {
        for (script, words) in [
            (
                r#"echo '{"kind":"Pod","status":{"token":"t"}}'"#,
                "not an ExecCredential",
            ),
            ("echo '['", "not an ExecCredential"),
            ("echo 'no' >&2; exit 7", "exit code 7, saying \"no\""),
            ("kill -9 $$", "killed by a signal"),
        ] {
            let (r, auth) = outcome(script).await;
            let e = r.expect_err(script);
            assert_eq!(e.code, crate::error::exit::CLUSTER, "{}", e.message);
            assert!(e.message.contains(words), "{script}: {}", e.message);
            assert!(e.message.contains("`sh`"), "{}", e.message);
            assert!(auth.exec.is_some(), "the user is left as it was");
        }
        let mut auth = user("sleep 30");
        let e = resolve(&mut auth, "kind-t", Duration::from_millis(300))
            .await
            .expect_err("hangs");
        assert!(e.message.contains("did not finish within"), "{}", e.message);
    }

    #[test]
    fn printable_replaces_controls_and_bounds_length() {
        assert_eq!(printable("a\u{1b}[2Jb\u{7}", 10), "a?[2Jb?");
        assert_eq!(printable("abcdef", 3), "abc…");
    }
}
