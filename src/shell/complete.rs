//! Shell completion through clap_complete's dynamic engine: the script a shell sources
//! (`kindscope completions SHELL`) calls kindscope back on every TAB with
//! `_KINDSCOPE_COMPLETE=SHELL`, so flags and subcommands always match the installed binary and
//! `--context` / `-n` complete from the kubeconfig and the cluster. Completers never print to
//! stderr and never wait long: a cluster that does not answer within [`NAMESPACE_BUDGET`] just
//! completes nothing.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use crate::cli::{CompletionShell, CompletionsArgs, ConnectArgs};
use crate::error::{CliError, CmdResult, exit};

/// The environment variable that switches the binary into completion mode. Specific to
/// kindscope so that an unrelated `COMPLETE` in the environment never changes what it does.
pub const ENV_VAR: &str = "_KINDSCOPE_COMPLETE";

/// Upper bound for listing namespaces during a TAB (connect, probe and list).
pub const NAMESPACE_BUDGET: Duration = Duration::from_secs(3);

/// Answer a completion request and exit, when the shell asked for one; otherwise return.
pub fn handle_request() {
    clap_complete::CompleteEnv::with_factory(|| {
        <crate::cli::Cli as clap::CommandFactory>::command()
    })
    .var(ENV_VAR)
    .complete();
}

/// `kindscope completions SHELL`: print the script that registers the completer.
pub fn run(args: &CompletionsArgs) -> CmdResult {
    let mut buf = Vec::new();
    write_script(args.shell, &completer_path(), &mut buf)
        .map_err(|e| CliError::usage(format!("cannot write the completion script: {e}")))?;
    crate::commands::output::emit(&String::from_utf8_lossy(&buf))?;
    Ok(exit::OK)
}

/// The registration script for `shell`, calling `completer` back (a program name on PATH or an
/// absolute path). `kubectl kindscope` completes through kubectl instead (see `plugin`).
pub fn write_script(
    shell: CompletionShell,
    completer: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let engine: &dyn EnvCompleter = match shell {
        CompletionShell::Bash => &Bash,
        CompletionShell::Zsh => &Zsh,
        CompletionShell::Fish => &Fish,
        CompletionShell::Powershell => &Powershell,
        CompletionShell::Elvish => &Elvish,
    };
    engine.write_registration(ENV_VAR, "kindscope", "kindscope", completer, out)
}

/// How the script calls kindscope back: by name when it was found on PATH (it keeps working
/// across upgrades), else by the absolute path of this executable.
fn completer_path() -> String {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let by_name = PathBuf::from(&argv0).components().count() == 1;
    if by_name && !argv0.is_empty() {
        // Called as `kubectl-kindscope`, the script still calls the binary under that name.
        return argv0.to_string_lossy().into_owned();
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map_or_else(
            || argv0.to_string_lossy().into_owned(),
            |p| p.to_string_lossy().into_owned(),
        )
}

/// `--context` values: the contexts of the kubeconfig in effect (`--kubeconfig` on the line
/// being completed, else `$KUBECONFIG`, else `~/.kube/config`).
pub fn contexts(current: &OsStr) -> Vec<CompletionCandidate> {
    let words: Vec<OsString> = std::env::args_os().collect();
    let kubeconfig = flag_value(&words, "--kubeconfig").map(PathBuf::from);
    let names = crate::cluster::connect::context_names(kubeconfig.as_deref()).unwrap_or_default();
    candidates(names, current)
}

/// `-n`/`--namespace` values: the namespaces of the cluster of the context in effect, listed
/// within [`NAMESPACE_BUDGET`]; nothing when it cannot be reached.
pub fn namespaces(current: &OsStr) -> Vec<CompletionCandidate> {
    let words: Vec<OsString> = std::env::args_os().collect();
    let args = ConnectArgs {
        kubeconfig: flag_value(&words, "--kubeconfig").map(PathBuf::from),
        context: flag_value(&words, "--context"),
        ..ConnectArgs::default()
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let names = rt
        .block_on(async {
            tokio::time::timeout(NAMESPACE_BUDGET, list_namespaces(&args))
                .await
                .ok()
                .flatten()
        })
        .unwrap_or_default();
    rt.shutdown_background();
    candidates(names, current)
}

async fn list_namespaces(args: &ConnectArgs) -> Option<Vec<String>> {
    use k8s_openapi::api::core::v1::Namespace;
    let conn = crate::cluster::connect::connect(args).await.ok()?;
    let api: kube::Api<Namespace> = kube::Api::all(conn.client);
    let list = api.list(&kube::api::ListParams::default()).await.ok()?;
    Some(
        list.items
            .into_iter()
            .filter_map(|ns| ns.metadata.name)
            .collect(),
    )
}

fn candidates(names: Vec<String>, current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(prefix.as_ref()))
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// The value of `flag` on the command line being completed (`--flag V` or `--flag=V`); the
/// last one wins, as when the line runs.
pub fn flag_value(words: &[OsString], flag: &str) -> Option<String> {
    let mut found = None;
    let mut iter = words.iter().map(|w| w.to_string_lossy());
    while let Some(w) = iter.next() {
        if w == flag {
            if let Some(v) = iter.next() {
                found = Some(v.into_owned());
            }
        } else if let Some(v) = w.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            found = Some(v.to_string());
        }
    }
    found.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<OsString> {
        s.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn flag_values_in_both_spellings_last_wins() {
        let w = words("kindscope -- kindscope --kubeconfig a diagnose --kubeconfig=b --context");
        assert_eq!(flag_value(&w, "--kubeconfig").as_deref(), Some("b"));
        // A flag still being typed has no value yet.
        assert_eq!(flag_value(&w, "--context"), None);
    }

    #[test]
    fn candidates_keep_the_prefix_sorted_once() {
        let c = candidates(
            vec![
                "kind-b".into(),
                "prod".into(),
                "kind-a".into(),
                "kind-a".into(),
            ],
            OsStr::new("kind-"),
        );
        let got: Vec<_> = c.iter().map(|c| c.get_value().to_string_lossy()).collect();
        assert_eq!(got, ["kind-a", "kind-b"]);
    }
}
