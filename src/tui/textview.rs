//! Full-screen text views over the panes: the selected pod's container logs (`l`), a describe
//! of the selected object (`d`), its YAML as the server has it (`y`). State and keys only;
//! fetching is the backend's (IO), drawing is `ui/textview.rs`.
//!
//! Every line is cluster data: escaped (`sanitize::term`) and cut to [`MAX_LINE`] characters
//! when it arrives, and a view keeps at most [`MAX_LINES`] lines (the oldest go first).

use crate::cluster::inspect::LogQuery;
use crate::sanitize;
use crate::tui::action::{Effect, Pane};
use crate::tui::app::{App, Overlay, StatusLine};
use crate::tui::describe;
use crate::tui::port::{LogRequest, ObjectKind, ObjectRef, Request};

/// Lines a view keeps.
pub const MAX_LINES: usize = 5000;
/// Characters of one line kept (a longer line ends in `…`).
pub const MAX_LINE: usize = 2000;
/// Lines of log asked for at first (`tailLines`), and bytes at most (`limitBytes`).
pub const LOG_TAIL_LINES: i64 = 1000;
pub const LOG_LIMIT_BYTES: i64 = 512 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum ViewKind {
    Logs {
        pod: ObjectRef,
        /// Every container of the pod, init containers first (what Tab cycles through).
        containers: Vec<String>,
        container: String,
        previous: bool,
        follow: bool,
    },
    Describe(ObjectRef),
    Yaml(ObjectRef),
}

/// Where the view's content stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewStatus {
    Loading,
    /// All there (or, following logs, everything so far).
    Ready,
    /// The request failed: the server's sentence.
    Failed(String),
    /// A followed log stream ended (why, in words).
    Ended(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextView {
    pub kind: ViewKind,
    /// Matches the backend's answers to this view (a newer request makes older answers stale).
    pub id: u64,
    pub lines: Vec<String>,
    /// First line shown.
    pub scroll: usize,
    /// Keep the end in sight as lines arrive (until the user scrolls up).
    pub stick: bool,
    pub status: ViewStatus,
}

/// What the backend sends for a view.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewUpdate {
    /// More lines (a log chunk).
    Lines(Vec<String>),
    /// The whole content (YAML).
    Replace(Vec<String>),
    Failed(String),
    /// A followed stream ended.
    Ended(String),
}

/// One line of outside text, terminal-safe and bounded.
pub fn clean_line(raw: &str) -> String {
    let safe = sanitize::term(raw.trim_end_matches(['\n', '\r']));
    if safe.chars().count() > MAX_LINE {
        let mut cut: String = safe.chars().take(MAX_LINE).collect();
        cut.push('…');
        cut
    } else {
        safe.into_owned()
    }
}

impl TextView {
    pub fn title(&self) -> String {
        match &self.kind {
            ViewKind::Logs {
                pod,
                container,
                previous,
                follow,
                ..
            } => format!(
                "Logs {}/{} [{container}]{}{}",
                pod.namespace,
                pod.name,
                if *previous { " · previous" } else { "" },
                if *follow { " · following" } else { "" }
            ),
            ViewKind::Describe(o) => format!("Describe {}", o.label()),
            ViewKind::Yaml(o) => format!("YAML {} (server copy, managedFields hidden)", o.label()),
        }
    }

    fn push(&mut self, lines: Vec<String>) {
        self.lines.extend(lines);
        if self.lines.len() > MAX_LINES {
            let drop = self.lines.len() - MAX_LINES;
            self.lines.drain(..drop);
            self.scroll = self.scroll.saturating_sub(drop);
        }
    }

    /// Scroll by `delta` lines within `height` visible rows.
    pub fn scroll_by(&mut self, delta: isize, height: usize) {
        let last = self.lines.len().saturating_sub(height.max(1));
        // From what is on screen: while sticking to the end, that is the end.
        let from = self.first_line(height) as isize;
        let target = from.saturating_add(delta).max(0) as usize;
        self.scroll = target.min(last);
        self.stick = self.scroll >= last;
    }

    /// Keep the end in view when sticking to it.
    pub fn first_line(&self, height: usize) -> usize {
        let last = self.lines.len().saturating_sub(height.max(1));
        if self.stick {
            last
        } else {
            self.scroll.min(last)
        }
    }
}

impl App {
    fn next_view_id(&mut self) -> u64 {
        self.view_seq = self.view_seq.wrapping_add(1);
        self.view_seq
    }

    fn say(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            error: false,
        });
    }

    /// The pod `l` shows: the Pods pane's selection (it follows the selected workload).
    fn selected_pod(&self) -> Option<ObjectRef> {
        let p = self.view.pods.get(self.pane(Pane::Pods).selected)?;
        Some(ObjectRef {
            kind: ObjectKind::Pod,
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        })
    }

    /// The object `d` and `y` show: the focused pane's selection.
    fn selected_object(&self) -> Option<ObjectRef> {
        match self.focus {
            Pane::Pods => self.selected_pod(),
            Pane::Workloads => {
                let (key, _) = self.selected_workload()?;
                Some(ObjectRef {
                    kind: ObjectKind::Deployment,
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                })
            }
            Pane::Nodes => {
                use crate::tui::view::NodeRow;
                let node = match self.view.nodes.get(self.pane(Pane::Nodes).selected)? {
                    NodeRow::Node { name, .. } => name.clone(),
                    NodeRow::Image { node, .. } => node.clone(),
                    NodeRow::Note { .. } => return None,
                };
                Some(ObjectRef {
                    kind: ObjectKind::Node,
                    namespace: String::new(),
                    name: node,
                })
            }
        }
    }

    /// `l`: the selected pod's logs, of the container the selection points at.
    pub(super) fn open_logs(&mut self) -> Option<Effect> {
        let Some(pod) = self.selected_pod() else {
            self.say("No pod selected: select one in Pods & events, then press l.");
            return None;
        };
        let Some(obj) = self.snapshot.pods.iter().find(|p| {
            p.metadata.name.as_deref() == Some(pod.name.as_str())
                && p.metadata.namespace.as_deref() == Some(pod.namespace.as_str())
        }) else {
            self.say(format!("Pod {} is gone.", pod.label()));
            return None;
        };
        let spec = obj.spec.as_ref();
        let containers: Vec<String> = spec
            .into_iter()
            .flat_map(crate::k8s::containers)
            .map(|(c, _)| c.name.clone())
            .collect();
        // The container row selected in Workloads, else kubectl's default container
        // (the annotation), else the first container.
        let chosen = match self.selected_workload() {
            Some((_, Some((name, _)))) if containers.iter().any(|c| c == name) => {
                Some(name.to_string())
            }
            _ => None,
        }
        .or_else(|| {
            obj.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
                .filter(|c| containers.contains(c))
                .cloned()
        })
        .or_else(|| {
            spec.and_then(|s| s.containers.first())
                .map(|c| c.name.clone())
        });
        let Some(container) = chosen else {
            self.say(format!("Pod {} has no containers.", pod.label()));
            return None;
        };
        Some(self.request_logs(ViewKind::Logs {
            pod,
            containers,
            container,
            previous: false,
            follow: true,
        }))
    }

    fn request_logs(&mut self, kind: ViewKind) -> Effect {
        let id = self.next_view_id();
        let ViewKind::Logs {
            pod,
            container,
            previous,
            follow,
            ..
        } = &kind
        else {
            return Effect::Port(Request::CloseView);
        };
        // A previous container has stopped: nothing to follow.
        let follow = *follow && !*previous;
        let request = LogRequest {
            id,
            query: LogQuery {
                namespace: pod.namespace.clone(),
                pod: pod.name.clone(),
                container: container.clone(),
                previous: *previous,
                follow,
                tail_lines: LOG_TAIL_LINES,
                // Bounds the backlog; a followed stream is bounded by the view instead (the
                // kubelet would end it after that many bytes).
                limit_bytes: (!follow).then_some(LOG_LIMIT_BYTES),
            },
        };
        self.overlay = Overlay::View(Box::new(TextView {
            kind,
            id,
            lines: Vec::new(),
            scroll: 0,
            stick: true,
            status: ViewStatus::Loading,
        }));
        Effect::Port(Request::Logs(request))
    }

    /// `d`: describe the focused pane's selection, from the snapshot (kept current while open).
    pub(super) fn open_describe(&mut self) {
        let Some(obj) = self.selected_object() else {
            self.say("Nothing selected to describe.");
            return;
        };
        let id = self.next_view_id();
        let lines = describe::describe(&self.snapshot, &obj, self.now);
        self.overlay = Overlay::View(Box::new(TextView {
            kind: ViewKind::Describe(obj),
            id,
            lines: lines.iter().map(|l| clean_line(l)).collect(),
            scroll: 0,
            stick: false,
            status: ViewStatus::Ready,
        }));
    }

    /// `y`: the selection's YAML, fetched from the server.
    pub(super) fn open_yaml(&mut self) -> Option<Effect> {
        let Some(obj) = self.selected_object() else {
            self.say("Nothing selected to show as YAML.");
            return None;
        };
        let id = self.next_view_id();
        self.overlay = Overlay::View(Box::new(TextView {
            kind: ViewKind::Yaml(obj.clone()),
            id,
            lines: Vec::new(),
            scroll: 0,
            stick: false,
            status: ViewStatus::Loading,
        }));
        Some(Effect::Port(Request::Yaml { id, object: obj }))
    }

    /// A new snapshot: a describe view shows the object as it is now.
    pub(super) fn refresh_describe(&mut self) {
        let now = self.now;
        if let Overlay::View(v) = &mut self.overlay
            && let ViewKind::Describe(obj) = &v.kind
        {
            v.lines = describe::describe(&self.snapshot, obj, now)
                .iter()
                .map(|l| clean_line(l))
                .collect();
        }
    }

    /// An answer for a view; stale ones (an older request) are dropped.
    pub(super) fn view_update(&mut self, id: u64, update: ViewUpdate) {
        let Overlay::View(v) = &mut self.overlay else {
            return;
        };
        if v.id != id {
            return;
        }
        match update {
            ViewUpdate::Lines(lines) => {
                v.push(lines.iter().map(|l| clean_line(l)).collect());
                v.status = ViewStatus::Ready;
            }
            ViewUpdate::Replace(lines) => {
                v.lines.clear();
                v.push(lines.iter().map(|l| clean_line(l)).collect());
                v.status = ViewStatus::Ready;
            }
            ViewUpdate::Failed(message) => v.status = ViewStatus::Failed(clean_line(&message)),
            ViewUpdate::Ended(why) => v.status = ViewStatus::Ended(clean_line(&why)),
        }
    }

    /// Keys inside a view that change what it shows (logs: follow, previous, container).
    pub(super) fn view_key(&mut self, key: ViewKey) -> Option<Effect> {
        let Overlay::View(v) = &mut self.overlay else {
            return None;
        };
        let height = usize::from(self.viewport.height.saturating_sub(4)).max(1);
        match key {
            ViewKey::Scroll(delta) => {
                v.scroll_by(delta, height);
                None
            }
            ViewKey::Page(down) => {
                let page = height as isize;
                v.scroll_by(if down { page } else { -page }, height);
                None
            }
            ViewKey::Top => {
                v.scroll = 0;
                v.stick = v.lines.len() <= height;
                None
            }
            ViewKey::Bottom => {
                v.stick = true;
                None
            }
            ViewKey::Follow | ViewKey::Previous | ViewKey::NextContainer => {
                let ViewKind::Logs {
                    pod,
                    containers,
                    container,
                    previous,
                    follow,
                } = v.kind.clone()
                else {
                    return None;
                };
                let (container, previous, follow) = match key {
                    ViewKey::Follow => (container, previous, !follow),
                    ViewKey::Previous => (container, !previous, follow),
                    _ => {
                        let at = containers.iter().position(|c| *c == container).unwrap_or(0);
                        let next = containers
                            .get((at + 1) % containers.len().max(1))
                            .cloned()
                            .unwrap_or(container);
                        (next, previous, follow)
                    }
                };
                Some(self.request_logs(ViewKind::Logs {
                    pod,
                    containers,
                    container,
                    previous,
                    follow,
                }))
            }
        }
    }

    /// Esc on a view: close it and stop its stream.
    pub(super) fn close_view(&mut self) -> Option<Effect> {
        let was_logs =
            matches!(&self.overlay, Overlay::View(v) if matches!(v.kind, ViewKind::Logs { .. }));
        self.overlay = Overlay::None;
        was_logs.then_some(Effect::Port(Request::CloseView))
    }
}

/// Keys a view understands (see `keymap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKey {
    Scroll(isize),
    Page(bool),
    Top,
    Bottom,
    Follow,
    Previous,
    NextContainer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_and_bounded() {
        assert_eq!(
            clean_line("ok\x1b]52;c;aGk=\x07\n"),
            "ok\\x1b]52;c;aGk=\\x07"
        );
        let long = "x".repeat(MAX_LINE + 10);
        let cut = clean_line(&long);
        assert_eq!(cut.chars().count(), MAX_LINE + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_view_keeps_the_newest_lines() {
        let mut v = TextView {
            kind: ViewKind::Describe(ObjectRef {
                kind: ObjectKind::Pod,
                namespace: "d".into(),
                name: "p".into(),
            }),
            id: 1,
            lines: Vec::new(),
            scroll: 0,
            stick: true,
            status: ViewStatus::Loading,
        };
        v.push((0..MAX_LINES + 5).map(|i| i.to_string()).collect());
        assert_eq!(v.lines.len(), MAX_LINES);
        assert_eq!(v.lines[0], "5");
        assert_eq!(v.first_line(10), MAX_LINES - 10);
        v.scroll_by(-3, 10);
        assert!(!v.stick);
        assert_eq!(v.first_line(10), MAX_LINES - 13);
        v.scroll_by(100, 10);
        assert!(v.stick, "scrolling to the end sticks to it again");
    }
}
