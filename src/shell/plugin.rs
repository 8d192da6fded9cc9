//! Running as a kubectl plugin. kubectl runs any executable named `kubectl-NAME` on PATH for
//! `kubectl NAME …`, passing the arguments after NAME (docs/install.md); installed or linked
//! under that name, kindscope behaves as itself and names itself `kubectl kindscope` in help.

use std::ffi::OsStr;
use std::path::Path;

/// The executable name kubectl looks for.
pub const PLUGIN_EXECUTABLE: &str = "kubectl-kindscope";

/// Whether the process was started as `kubectl-kindscope` (argv[0], `.exe` ignored).
pub fn invoked_as_plugin(argv0: Option<&OsStr>) -> bool {
    let Some(argv0) = argv0 else { return false };
    Path::new(argv0)
        .file_stem()
        .is_some_and(|stem| stem == PLUGIN_EXECUTABLE)
}

/// The name kubectl (1.26 and later) runs to complete `kubectl kindscope …`: it passes the words
/// after the plugin name, the last one being the word under the cursor, and reads Cobra's
/// completion format back (one candidate a line, then `:DIRECTIVE`).
pub const KUBECTL_COMPLETER: &str = "kubectl_complete-kindscope";

/// Cobra's ShellCompDirectiveNoFileComp: do not fall back to file names.
const NO_FILE_COMPLETION: u8 = 4;

/// Whether kubectl started this process to complete a `kubectl kindscope` command line.
pub fn invoked_for_kubectl_completion(argv0: Option<&OsStr>) -> bool {
    argv0.is_some_and(|a| {
        Path::new(a)
            .file_stem()
            .is_some_and(|s| s == KUBECTL_COMPLETER)
    })
}

/// Answer kubectl's completion request on stdout; the exit code.
pub fn kubectl_complete() -> u8 {
    let words: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let text = cobra_completions(words);
    match crate::commands::output::emit(&text) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Candidates for `words` (the last one partial) in Cobra's format.
pub fn cobra_completions(words: Vec<std::ffi::OsString>) -> String {
    let mut args = vec![std::ffi::OsString::from("kindscope")];
    args.extend(words);
    if args.len() == 1 {
        args.push(std::ffi::OsString::new());
    }
    let index = args.len() - 1;
    let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    let cwd = std::env::current_dir().ok();
    let candidates =
        clap_complete::engine::complete(&mut cmd, args, index, cwd.as_deref()).unwrap_or_default();
    let mut out = String::new();
    for c in candidates.iter().filter(|c| !c.is_hide_set()) {
        out.push_str(&c.get_value().to_string_lossy());
        if let Some(help) = c.get_help() {
            // One line per candidate: a help text never carries a newline into the list.
            let help = help.to_string().replace(['\n', '\t'], " ");
            out.push('\t');
            out.push_str(&help);
        }
        out.push('\n');
    }
    let directive = if candidates.is_empty() {
        0
    } else {
        NO_FILE_COMPLETION
    };
    out.push_str(&format!(":{directive}\n"));
    out
}

/// The command, named as the user typed it.
pub fn command(argv0: Option<&OsStr>) -> clap::Command {
    let cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    if invoked_as_plugin(argv0) {
        cmd.bin_name("kubectl kindscope")
            .display_name("kubectl kindscope")
    } else {
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_name_is_recognised_by_its_stem_only() {
        assert!(invoked_as_plugin(Some(OsStr::new("kubectl-kindscope"))));
        assert!(invoked_as_plugin(Some(OsStr::new(
            "/usr/local/bin/kubectl-kindscope"
        ))));
        assert!(invoked_as_plugin(Some(OsStr::new("kubectl-kindscope.exe"))));
        assert!(!invoked_as_plugin(Some(OsStr::new("kindscope"))));
        assert!(!invoked_as_plugin(Some(OsStr::new("kubectl-kindscope-x"))));
        assert!(!invoked_as_plugin(None));
    }

    #[test]
    fn kubectl_completion_lists_subcommands_in_cobras_format() {
        let text = cobra_completions(vec!["di".into()]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().any(|l| l.starts_with("diagnose\t")), "{text}");
        assert!(!lines.iter().any(|l| l.starts_with("demo")), "{text}");
        assert_eq!(lines.last(), Some(&":4"), "{text}");
        let flags = cobra_completions(vec!["diagnose".into(), "--js".into()]);
        assert!(flags.lines().any(|l| l.starts_with("--json")), "{flags}");
    }

    #[test]
    fn help_names_the_plugin_form() {
        let mut cmd = command(Some(OsStr::new("kubectl-kindscope")));
        let help = cmd.render_help().to_string();
        assert!(help.contains("Usage: kubectl kindscope"), "{help}");
    }
}
