//! Completion scripts, dynamic completion, man pages, help texts, the krew manifest.

use std::process::Command;

use clap::CommandFactory;
use kindscope::cli::Cli;

use super::*;

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

fn script(shell: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&["completions", shell], &[], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn every_shell_gets_a_script_that_calls_kindscope_back() {
    for shell in SHELLS {
        let s = script(shell);
        assert!(s.contains("_KINDSCOPE_COMPLETE"), "{shell}: {s}");
        assert!(s.contains(BIN), "{shell} calls this binary back: {s}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = run(&["completions", "tcsh"], &[], dir.path());
    assert_eq!(bad.status.code(), Some(2));
}

/// `SHELL -n` parses a script without running it.
fn parses(shell: &str, script: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("kindscope.{shell}"));
    std::fs::write(&path, script).expect("write script");
    let out = Command::new(shell)
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run the shell");
    assert!(
        out.status.success(),
        "{shell} -n: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn scripts_parse_in_their_shells() {
    parses("bash", &script("bash"));
    for shell in ["zsh", "fish"] {
        if !missing(shell) {
            parses(shell, &script(shell));
        }
    }
}

/// Source the bash script, press TAB on `words` (the last one partial) and read COMPREPLY.
fn bash_tab(words: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kindscope.bash");
    std::fs::write(&path, script("bash")).expect("write script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_TYPE=9\n\
         _clap_complete_kindscope kindscope '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .env_remove("KUBECONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("run bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn two_context_kubeconfig(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         users:\n- name: u\n  user: {}\ncontexts:\n- name: kind-alpha\n  context: {cluster: a, user: u}\n\
         - name: kind-beta\n  context: {cluster: a, user: u}\n- name: prod\n  context: {cluster: a, user: u}\n\
         current-context: kind-alpha\n",
    )
    .expect("write kubeconfig");
    path
}

#[test]
fn bash_completes_subcommands_flags_and_contexts() {
    assert_eq!(bash_tab(&["kindscope", "diag"], &[]), ["diagnose"]);
    let flags = bash_tab(&["kindscope", "diagnose", "--con"], &[]);
    assert!(flags.contains(&"--context".to_string()), "{flags:?}");
    assert!(flags.contains(&"--config".to_string()), "{flags:?}");
    // `ref` talks to no cluster: no cluster flags to complete.
    let ref_flags = bash_tab(&["kindscope", "ref", "--"], &[]);
    assert!(ref_flags.contains(&"--json".to_string()), "{ref_flags:?}");
    assert!(!ref_flags.iter().any(|f| f == "--context"), "{ref_flags:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let kc = two_context_kubeconfig(dir.path());
    let kc = kc.to_str().expect("utf-8 path");
    let named = bash_tab(
        &[
            "kindscope",
            "diagnose",
            "--kubeconfig",
            kc,
            "--context",
            "kind-",
        ],
        &[],
    );
    assert_eq!(named, ["kind-alpha", "kind-beta"]);
    // From $KUBECONFIG when no --kubeconfig is on the line; before the subcommand too.
    let from_env = bash_tab(&["kindscope", "--context", ""], &[("KUBECONFIG", kc)]);
    assert_eq!(from_env, ["kind-alpha", "kind-beta", "prod"]);
}

#[test]
fn kubectl_completer_name_answers_in_cobras_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("kubectl_complete-kindscope");
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    let kc = two_context_kubeconfig(dir.path());
    let out = Command::new(&link)
        .args([
            "diagnose",
            "--kubeconfig",
            kc.to_str().expect("utf-8"),
            "--context",
            "kind-a",
        ])
        .output()
        .expect("run the completer");
    assert_eq!(text(&out.stdout), "kind-alpha\n:4\n");
}

#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&["man"], &[], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH kindscope 1"),
        "{page}"
    );
    let pages = dir.path().join("man1");
    let out = run(
        &["man", "--dir", pages.to_str().expect("utf-8")],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for name in [
        "kindscope.1",
        "kindscope-diagnose.1",
        "kindscope-ref.1",
        "kindscope-man.1",
    ] {
        assert!(pages.join(name).is_file(), "{name} written");
    }
    if missing("man") {
        return;
    }
    let shown = Command::new("man")
        .arg("-l")
        .arg(pages.join("kindscope-diagnose.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("run man");
    let shown_text = text(&shown.stdout);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "--context",
        "kindscope diagnose -n payments",
    ] {
        assert!(shown_text.contains(section), "{section} in:\n{shown_text}");
    }
}

/// Long help of every subcommand, by name.
fn helps() -> Vec<(String, String)> {
    let mut root = Cli::command();
    root.build();
    let mut all = vec![("kindscope".to_string(), root.render_long_help().to_string())];
    let mut stack: Vec<(String, clap::Command)> = root
        .get_subcommands()
        .map(|c| (c.get_name().to_string(), c.clone()))
        .collect();
    while let Some((name, mut cmd)) = stack.pop() {
        if name.ends_with("help") {
            continue;
        }
        let subs: Vec<_> = cmd
            .get_subcommands()
            .map(|c| (format!("{name} {}", c.get_name()), c.clone()))
            .collect();
        if subs.is_empty() {
            all.push((name, cmd.render_long_help().to_string()));
        }
        stack.extend(subs);
    }
    all
}

/// Whether `help` lists `flag` as an option (not merely in an example).
fn has_flag(help: &str, flag: &str) -> bool {
    help.lines().any(|l| l.trim_start().starts_with(flag))
}

#[test]
fn each_subcommand_shows_its_own_flags_and_examples() {
    let helps = helps();
    assert!(
        helps.len() >= 10,
        "{:?}",
        helps.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    for (name, help) in &helps {
        assert!(help.contains("Examples:"), "{name} has examples:\n{help}");
        assert!(
            !help.contains("DESIGN"),
            "{name} points outside the repository"
        );
        let talks_to_cluster = [
            "kindscope",
            "diagnose",
            "fix",
            "snapshot",
            "load",
            "check",
            "wait",
            "undo",
        ]
        .contains(&name.as_str());
        // `journal` reads no kubeconfig; --context only narrows its list.
        assert_eq!(
            has_flag(help, "--context"),
            talks_to_cluster || name == "journal",
            "{name}:\n{help}"
        );
        assert_eq!(
            has_flag(help, "--kubeconfig"),
            talks_to_cluster,
            "{name}:\n{help}"
        );
        let writes = ["kindscope", "fix", "demo", "undo"].contains(&name.as_str());
        assert_eq!(has_flag(help, "--allow-write"), writes, "{name}:\n{help}");
        assert!(has_flag(help, "--color"), "{name}:\n{help}");
    }
    let load = &helps.iter().find(|h| h.0 == "load").expect("load").1;
    assert!(!has_flag(load, "-n, --namespace"), "{load}");
    let demo = &helps.iter().find(|h| h.0 == "demo").expect("demo").1;
    assert!(has_flag(demo, "-n, --namespace"), "{demo}");
}

#[test]
fn cluster_flags_go_before_or_after_the_subcommand_the_later_wins() {
    let parse = |args: &[&str]| {
        let mut all = vec!["kindscope"];
        all.extend(args);
        Cli::try_parse_from_resolved(&all)
    };
    let before = parse(&["--context", "kind-a", "-n", "shop", "diagnose"]);
    assert_eq!(before.conn.context.as_deref(), Some("kind-a"));
    assert_eq!(before.conn.namespace.as_deref(), Some("shop"));
    let after = parse(&["-n", "shop", "diagnose", "--context=kind-b", "-n", "pay"]);
    assert_eq!(after.conn.context.as_deref(), Some("kind-b"));
    assert_eq!(after.conn.namespace.as_deref(), Some("pay"));
    let fix = parse(&["--read-only", "fix", "--kubeconfig", "/k"]);
    assert!(fix.write.read_only);
    assert_eq!(fix.conn.kubeconfig.as_deref(), Some(Path::new("/k")));
    // Cluster flags mean nothing to `ref`: refused there, as a usage error.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&["ref", "--context", "x", "nginx"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    // Contradicting write flags in the two places are refused too.
    let out = run(&["--allow-write", "fix", "--read-only"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--read-only"),
        "{}",
        text(&out.stderr)
    );
}

trait ParseResolved {
    fn try_parse_from_resolved(args: &[&str]) -> Cli;
}

impl ParseResolved for Cli {
    fn try_parse_from_resolved(args: &[&str]) -> Cli {
        use clap::Parser;
        Cli::try_parse_from(args)
            .expect("parses")
            .resolve()
            .expect("resolves")
    }
}

#[test]
fn krew_manifest_is_in_step_with_the_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("assets/krew/kindscope.yaml"))
        .expect("assets/krew/kindscope.yaml");
    let doc: serde_json::Value = serde_saphyr::from_str(&manifest).expect("YAML");
    assert_eq!(doc["kind"], "Plugin");
    assert_eq!(doc["metadata"]["name"], "kindscope");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["spec"]["version"], version.as_str());
    let platforms = doc["spec"]["platforms"].as_array().expect("platforms");
    assert!(!platforms.is_empty());
    for p in platforms {
        let uri = p["uri"].as_str().expect("uri");
        assert!(uri.contains(&version), "{uri} names {version}");
        assert!(
            p["bin"]
                .as_str()
                .is_some_and(|b| b.starts_with("kubectl-kindscope"))
        );
    }
}
