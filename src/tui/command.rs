//! The command line on `:` (as in k9s): `:ns NAME`, `:ctx NAME`, `:pods`, `:deploy`, `:nodes`,
//! `:q`, with Tab completing command words, namespaces and contexts. Pure state; the effects
//! (namespace and context switches) go to the backend.

use crate::tui::action::{Effect, Pane};
use crate::tui::app::{App, Overlay, StatusLine};
use crate::tui::port::Request;

/// The words `:` understands, with their aliases, as Tab offers them.
pub const COMMANDS: &[&str] = &["ns", "ctx", "pods", "deploy", "nodes", "help", "quit"];

/// The command line being typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub input: String,
    /// Tab cycling: what was typed before the first Tab, the candidates, the one shown.
    pub tab: Option<(String, Vec<String>, usize)>,
}

/// Keys on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKey {
    Char(char),
    Backspace,
    Tab,
}

impl App {
    pub(super) fn open_command(&mut self) {
        self.overlay = Overlay::Command(CommandLine::default());
    }

    pub(super) fn command_key(&mut self, key: CommandKey) {
        let candidates = self.completions_for(match &self.overlay {
            Overlay::Command(c) => c.tab.as_ref().map_or(&c.input, |(typed, _, _)| typed),
            _ => return,
        });
        let Overlay::Command(line) = &mut self.overlay else {
            return;
        };
        match key {
            CommandKey::Char(c) => {
                line.input.push(c);
                line.tab = None;
            }
            CommandKey::Backspace => {
                line.input.pop();
                line.tab = None;
            }
            CommandKey::Tab => {
                let (typed, list, next) = match line.tab.take() {
                    Some((typed, list, i)) => {
                        let n = list.len().max(1);
                        (typed, list, (i + 1) % n)
                    }
                    None => (line.input.clone(), candidates, 0),
                };
                if let Some(pick) = list.get(next) {
                    line.input = replace_last_word(&typed, pick);
                    line.tab = Some((typed, list, next));
                }
            }
        }
    }

    /// What Tab offers for `typed`: command words first, then the argument of `ns` / `ctx`.
    fn completions_for(&self, typed: &str) -> Vec<String> {
        let mut words = typed.split_whitespace();
        let first = words.next().unwrap_or("");
        let arg_started = typed.ends_with(' ') || typed.split_whitespace().count() > 1;
        if !arg_started {
            return COMMANDS
                .iter()
                .filter(|c| c.starts_with(first))
                .map(|c| c.to_string())
                .collect();
        }
        let prefix = words.next().unwrap_or("");
        let pool: Vec<String> = match canonical(first) {
            Some("ns") => std::iter::once("all".to_string())
                .chain(self.view.namespaces.iter().cloned())
                .collect(),
            Some("ctx") => self.contexts.clone(),
            _ => Vec::new(),
        };
        pool.into_iter().filter(|c| c.starts_with(prefix)).collect()
    }

    /// Enter: run the line.
    pub(super) fn run_command(&mut self) -> Option<Effect> {
        let Overlay::Command(line) = std::mem::replace(&mut self.overlay, Overlay::None) else {
            return None;
        };
        let mut words = line.input.split_whitespace();
        let word = words.next()?;
        let arg = words.next().map(str::to_string);
        let extra = words.next().is_some();
        let fail = |app: &mut App, text: String| {
            app.status = Some(StatusLine { text, error: true });
            None
        };
        if extra {
            return fail(
                self,
                format!("`:{}` takes one argument at most.", line.input.trim()),
            );
        }
        match canonical(word) {
            Some("pods") => self.focus = Pane::Pods,
            Some("deploy") => self.focus = Pane::Workloads,
            Some("nodes") => self.focus = Pane::Nodes,
            Some("help") => self.overlay = Overlay::Help,
            Some("quit") => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            Some("ns") => {
                let Some(ns) = arg else {
                    self.open_namespaces();
                    return None;
                };
                let ns = match ns.as_str() {
                    "all" | "-A" | "*" => None,
                    name if is_dns_label(name) => Some(name.to_string()),
                    name => {
                        return fail(
                            self,
                            format!(
                                "`{name}` is not a namespace name (lowercase letters, digits and -); \
                                 `:ns all` shows every namespace."
                            ),
                        );
                    }
                };
                self.namespace = ns.clone();
                self.rebuild_view();
                return Some(Effect::SwitchNamespace(ns));
            }
            Some("ctx") => {
                let Some(ctx) = arg else {
                    self.overlay = Overlay::Info {
                        title: "Contexts".to_string(),
                        lines: self.context_lines(),
                    };
                    return None;
                };
                if !self.contexts.contains(&ctx) {
                    return fail(self, self.unknown_context(&ctx));
                }
                self.status = Some(StatusLine {
                    text: format!("Switching to context {ctx}…"),
                    error: false,
                });
                return Some(Effect::Port(Request::SwitchContext(ctx)));
            }
            _ => {
                return fail(
                    self,
                    format!(
                        "Unknown command `:{word}`; try :ns NAME, :ctx NAME, :pods, :deploy, :nodes or :q (Tab completes)."
                    ),
                );
            }
        }
        None
    }

    fn context_lines(&self) -> Vec<String> {
        if self.contexts.is_empty() {
            return vec![
                "No other context to switch to: :ctx switches between the Kind contexts of the \
                 kubeconfig when kindscope is attached to one (the demo runs a single simulated \
                 cluster)."
                    .to_string(),
            ];
        }
        let current = self.cluster_name().0;
        let mut lines = vec!["`:ctx NAME` switches to (Tab completes):".to_string()];
        lines.extend(self.contexts.iter().map(|c| {
            if *c == current {
                format!("  {c} (current)")
            } else {
                format!("  {c}")
            }
        }));
        lines
    }

    fn unknown_context(&self, ctx: &str) -> String {
        if self.contexts.is_empty() {
            return format!(
                "Cannot switch to `{ctx}`: no context to switch to here (the demo runs one simulated cluster)."
            );
        }
        format!(
            "`{ctx}` is not a context kindscope may switch to ({}); only Kind contexts, unless --allow-write or allowed_write_contexts allow more.",
            self.contexts.join(", ")
        )
    }
}

impl App {
    /// The backend attached to another context (its feed follows), or could not.
    pub(super) fn context_switched(
        &mut self,
        switched: Result<Box<crate::tui::port::ContextInfo>, String>,
    ) {
        let info = match switched {
            Ok(info) => info,
            Err(e) => {
                self.status = Some(StatusLine {
                    text: e,
                    error: true,
                });
                return;
            }
        };
        // Nothing of the old cluster stays on screen, nor in what `u` would undo.
        self.snapshot = std::sync::Arc::new(crate::model::Snapshot::default());
        self.loaded = false;
        self.findings.clear();
        self.starting.clear();
        self.history.clear();
        self.last_fix = None;
        self.pending = None;
        self.rollout = None;
        self.user_moved = false;
        self.cluster = Some((info.context.clone(), info.server.clone()));
        self.write = info.write;
        self.rebuild_view();
        self.status = Some(StatusLine {
            text: info.notice.unwrap_or_else(|| {
                format!(
                    "Switched to context {} ({}); writes: {}.",
                    info.context,
                    info.server,
                    self.write.label()
                )
            }),
            error: false,
        });
    }
}

/// The command a word means (aliases as in kubectl and k9s).
fn canonical(word: &str) -> Option<&'static str> {
    Some(match word {
        "ns" | "namespace" | "namespaces" => "ns",
        "ctx" | "context" | "contexts" => "ctx",
        "po" | "pod" | "pods" => "pods",
        "deploy" | "deployment" | "deployments" | "dp" | "workloads" => "deploy",
        "no" | "node" | "nodes" => "nodes",
        "help" | "?" => "help",
        "q" | "quit" | "q!" => "quit",
        _ => return None,
    })
}

/// A namespace name as the apiserver accepts it (RFC 1123 label).
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `typed` with its last word (or the empty word after a space) replaced by `word`.
fn replace_last_word(typed: &str, word: &str) -> String {
    match typed.rfind(' ') {
        Some(i) => format!("{} {word}", &typed[..i]),
        None => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_aliases() {
        assert_eq!(canonical("po"), Some("pods"));
        assert_eq!(canonical("deployments"), Some("deploy"));
        assert_eq!(canonical("context"), Some("ctx"));
        assert_eq!(canonical("frobnicate"), None);
        assert!(is_dns_label("kube-system"));
        assert!(!is_dns_label("Kube"));
        assert!(!is_dns_label("-x"));
        assert_eq!(replace_last_word("ns ku", "kube-system"), "ns kube-system");
        assert_eq!(replace_last_word("ctx ", "kind-a"), "ctx kind-a");
        assert_eq!(replace_last_word("n", "ns"), "ns");
    }
}
