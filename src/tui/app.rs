//! Dashboard state: the latest snapshot, its derived view, selection, overlays, rollout and
//! banners. Changed only by `update` (src/tui/update.rs); read by drawing.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use ratatui::layout::Rect;

use crate::diagnose::{Finding, Pending, Report};
use crate::fix::{FixPlan, Target};
use crate::model::{ResourceState, Snapshot};
use crate::tui::action::Pane;
pub use crate::tui::findings_nav::FindingId;
use crate::tui::layout::{self, Areas, LayoutInput};
use crate::tui::port::{FollowOutcome, WriteAccess};
use crate::tui::view::{NodeRow, View, WorkloadKey, WorkloadRow};
use crate::tui::view_cache::ViewCache;

/// Snapshot → findings and pending containers (the core's `report`, or a hand-made one in
/// tests, see [`findings_only`]).
pub type DiagnoseFn = Arc<dyn Fn(&Snapshot) -> Report + Send + Sync>;

/// A [`DiagnoseFn`] from a function that only finds (nothing is ever pending).
pub fn findings_only(f: impl Fn(&Snapshot) -> Vec<Finding> + Send + Sync + 'static) -> DiagnoseFn {
    Arc::new(move |snap| {
        let findings = f(snap);
        Report {
            context: snap.context.clone(),
            healthy: findings.is_empty(),
            findings,
            pending: Vec::new(),
        }
    })
}
/// Finding → plan (the core's planner).
pub type PlanFn = Arc<dyn Fn(&Finding, &Snapshot) -> Option<FixPlan> + Send + Sync>;

/// How the dashboard is set up.
#[derive(Clone)]
pub struct Options {
    pub write: WriteAccess,
    /// Namespace to start in (None = all).
    pub namespace: Option<String>,
    pub diagnose: DiagnoseFn,
    pub plan: PlanFn,
    /// A first status line (what the demo is, a missing container runtime).
    pub notice: Option<String>,
    /// Wall clock in epoch seconds (ages); tests pass a fixed one.
    pub clock: fn() -> i64,
    /// Draw without colour (`--color never`, `NO_COLOR`): findings still show by symbol.
    pub monochrome: bool,
    /// Where the fix dialog looks for the source of a name (None: no repository searched).
    pub sources: Option<Arc<crate::source::SourceCache>>,
    /// (context, API server) being connected to, shown until the first lists arrive.
    pub cluster: Option<(String, String)>,
    /// Contexts `:ctx` may switch to (Kind ones, or what the write guard allows).
    pub contexts: Vec<String>,
    /// Where `c` puts a command: the terminal's clipboard (OSC 52); tests record it.
    pub clipboard: fn(&str) -> std::io::Result<()>,
}

/// Seconds since the epoch (0 if the system clock is before 1970).
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Options {
    /// The real core, with the given write access.
    pub fn new(write: WriteAccess) -> Self {
        Options {
            write,
            namespace: None,
            // Diagnosed again only when a change can alter the report (diagnosis_cache).
            diagnose: crate::tui::diagnosis_cache::memoized(crate::diagnose::report),
            plan: Arc::new(crate::diagnose::plan),
            notice: None,
            clock: system_clock,
            monochrome: false,
            sources: None,
            cluster: None,
            contexts: Vec::new(),
            clipboard: crate::tui::clipboard::to_terminal,
        }
    }
}

/// Something the event loop handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A key, mouse or resize event that mapped to an action.
    Input,
    /// A snapshot (with its diagnosis) applied to the view.
    Snapshot,
}

/// Counts of what the event loop handled, and the order of the last [`Stats::TRAIL`] items.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub inputs: u64,
    pub snapshots: u64,
    pub trail: std::collections::VecDeque<Handled>,
}

impl Stats {
    pub const TRAIL: usize = 512;

    pub fn handled(&mut self, what: Handled) {
        match what {
            Handled::Input => self.inputs += 1,
            Handled::Snapshot => self.snapshots += 1,
        }
        if self.trail.len() == Self::TRAIL {
            self.trail.pop_front();
        }
        self.trail.push_back(what);
    }
}

/// Progress of a dialog's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogStatus {
    Ready,
    Sending,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct FixDialog {
    pub finding: Finding,
    pub plan: Option<FixPlan>,
    pub status: DialogStatus,
}

#[derive(Debug, Clone)]
pub struct UndoDialog {
    pub plan: FixPlan,
    pub status: DialogStatus,
    /// The journal's record of the fix (None: made in this session, journal not read yet).
    pub entry: Option<crate::cluster::journal::JournalEntry>,
    /// Older fixes of this cluster still open in the journal (`u` again walks back to them).
    pub older: usize,
}

/// What floats above the panes (one at a time).
#[derive(Debug, Clone)]
pub enum Overlay {
    None,
    Help,
    /// The filter line is being edited.
    Filter,
    Namespaces {
        choices: Vec<Option<String>>,
        selected: usize,
    },
    Fix(Box<FixDialog>),
    Undo(Box<UndoDialog>),
    /// The `:` command line is being typed.
    Command(crate::tui::command::CommandLine),
    /// Logs, describe or YAML of the selection, over the panes.
    View(Box<crate::tui::textview::TextView>),
    /// Details of a row, or an explanation (why writes are off).
    Info {
        title: String,
        lines: Vec<String>,
    },
}

/// A rollout being followed after a patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub target: Target,
    pub undo: bool,
    pub message: String,
    pub outcome: Option<FollowOutcome>,
}

/// One line in the status bar about the last thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub error: bool,
}

/// Selection and scroll position of one pane. The offset is a `Cell` because drawing keeps the
/// selection in view (as ratatui's `TableState` does) and clicks must map to what was drawn.
#[derive(Debug, Default, Clone)]
pub struct PaneState {
    pub selected: usize,
    pub offset: Cell<usize>,
}

impl PaneState {
    /// The first row to draw so that `selected` is visible in `height` rows; remembers it.
    pub fn scroll_for(&self, len: usize, height: usize) -> usize {
        let mut offset = self.offset.get().min(len.saturating_sub(1));
        if height == 0 {
            return offset;
        }
        if self.selected < offset {
            offset = self.selected;
        } else if self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        // Do not leave empty rows at the end when the list could fill them.
        offset = offset.min(len.saturating_sub(height));
        self.offset.set(offset);
        offset
    }
}

/// The findings strip's wrapped rows and what they were wrapped for.
pub type StripRows = (
    (u64, Option<usize>, u16),
    Arc<Vec<crate::tui::ui::strip::Row>>,
);

pub struct App {
    pub snapshot: Arc<Snapshot>,
    /// Whether any snapshot arrived yet.
    pub loaded: bool,
    /// All findings of the snapshot (the view holds the namespace-filtered ones).
    pub findings: Vec<Finding>,
    /// Containers of the snapshot that have not started yet and have no finding.
    pub starting: Vec<Pending>,
    /// The rows shown are newer than the diagnosis (`findings`, `starting`), which is being
    /// made off the UI task: no all-clear is claimed until it catches up.
    pub judging: bool,
    /// (context, server) from the options, until a snapshot names them.
    pub cluster: Option<(String, String)>,
    /// Epoch seconds when the dashboard started (elapsed time while loading).
    pub started_at: i64,
    pub view: View,
    pub focus: Pane,
    pub panes: [PaneState; 3],
    pub filter: String,
    pub namespace: Option<String>,
    /// Show Kind's own namespaces and base images (folded by default; `s` toggles).
    pub show_system: bool,
    /// The finding `]`/`[` or a click in the strip went to; None: the panes' selection decides.
    pub chosen_finding: Option<FindingId>,
    /// First row of the findings strip drawn (kept so the selected finding stays in view).
    pub strip_offset: Cell<usize>,
    /// The strip's rows as last wrapped, by (findings generation, selected finding, width).
    pub strip_rows: RefCell<Option<StripRows>>,
    /// Rows scrolled in the open dialog (drawing clamps it to the text), and in the events list.
    pub dialog_scroll: Cell<u16>,
    pub events_scroll: u16,
    pub overlay: Overlay,
    pub show_log: bool,
    pub write: WriteAccess,
    pub rollout: Option<Rollout>,
    /// The plan sent last, until the API server answers.
    pub pending: Option<FixPlan>,
    /// The last fix applied in this session (what `u` undoes).
    pub last_fix: Option<FixPlan>,
    /// This cluster's fixes not undone yet, newest first, as the journal was last read.
    pub history: Vec<crate::cluster::journal::JournalEntry>,
    /// `u` asked for the journal and waits for it to open the undo dialog.
    pub awaiting_history: bool,
    /// Id of the last text view opened (answers for older ones are dropped).
    pub view_seq: u64,
    /// Contexts `:ctx` may switch to.
    pub contexts: Vec<String>,
    pub status: Option<StatusLine>,
    /// The snapshot feed ended: the data shown is the last known.
    pub feed_closed: bool,
    /// The user moved the selection; stop auto-selecting the first finding.
    pub user_moved: bool,
    pub viewport: Rect,
    pub spinner: usize,
    /// Wall clock for ages, epoch seconds (set by the event loop; fixed in tests).
    pub now: i64,
    /// Draw without colour (see `Options::monochrome`).
    pub monochrome: bool,
    pub quit: bool,
    /// What the event loop handled, in order (tests read it; bounded).
    pub stats: Stats,
    /// Keeps `view` current with work proportional to each change.
    pub cache: ViewCache,
    pub(crate) diagnose: DiagnoseFn,
    pub(crate) plan: PlanFn,
    pub sources: Option<Arc<crate::source::SourceCache>>,
}

impl App {
    pub fn new(opts: Options) -> Self {
        App {
            snapshot: Arc::new(Snapshot::default()),
            loaded: false,
            findings: Vec::new(),
            starting: Vec::new(),
            judging: false,
            cluster: opts.cluster,
            started_at: (opts.clock)(),
            view: View::default(),
            focus: Pane::Workloads,
            panes: Default::default(),
            filter: String::new(),
            namespace: opts.namespace,
            show_system: false,
            chosen_finding: None,
            strip_offset: Cell::new(0),
            strip_rows: RefCell::new(None),
            dialog_scroll: Cell::new(0),
            events_scroll: 0,
            overlay: Overlay::None,
            show_log: false,
            write: opts.write,
            rollout: None,
            pending: None,
            last_fix: None,
            history: Vec::new(),
            awaiting_history: false,
            view_seq: 0,
            contexts: opts.contexts,
            status: opts.notice.map(|text| StatusLine { text, error: false }),
            feed_closed: false,
            user_moved: false,
            viewport: Rect::new(0, 0, 80, 24),
            spinner: 0,
            now: 0,
            monochrome: opts.monochrome,
            quit: false,
            stats: Stats::default(),
            cache: ViewCache::default(),
            diagnose: opts.diagnose,
            plan: opts.plan,
            sources: opts.sources,
        }
    }

    pub fn pane(&self, pane: Pane) -> &PaneState {
        &self.panes[pane.index()]
    }

    pub fn rows_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Nodes => self.view.nodes.len(),
            Pane::Pods => self.view.pods.len(),
            Pane::Workloads => self.view.workloads.len(),
        }
    }

    /// True while something on screen animates (the event loop then runs a timer).
    pub fn animating(&self) -> bool {
        let sending = match &self.overlay {
            Overlay::Fix(d) => d.status == DialogStatus::Sending,
            Overlay::Undo(d) => d.status == DialogStatus::Sending,
            _ => false,
        };
        // While loading, the elapsed time ticks.
        sending || self.rollout.as_ref().is_some_and(|r| r.outcome.is_none()) || !self.ready()
    }

    /// `34s ago` for an RFC 3339 time (as is when it does not parse).
    fn ago(&self, t: &str) -> String {
        match kindscope_core::time::parse_rfc3339(t) {
            Some(at) => format!("{} ago", crate::tui::format::age(self.now - at.as_second())),
            None => t.to_string(),
        }
    }

    /// Some resource is stale since a known time: the banner's age must tick.
    pub fn stale_since_shown(&self) -> bool {
        !self.feed_closed
            && self
                .snapshot
                .resources
                .values()
                .any(|s| matches!(s, ResourceState::Stale { since: Some(_), .. }))
    }

    /// Banner lines: a lost cluster, stale resources.
    pub fn banner(&self) -> Option<String> {
        if self.feed_closed {
            return Some(
                "Lost the cluster feed: showing the last known data (stale). Restart kindscope to reconnect."
                    .to_string(),
            );
        }
        let stale: Vec<String> = self
            .snapshot
            .resources
            .iter()
            .filter_map(|(name, state)| match state {
                ResourceState::Stale { reason, since } => Some(match since {
                    Some(t) => format!(
                        "{name}: {reason} (last word from the server {})",
                        self.ago(t)
                    ),
                    None => format!("{name}: {reason}"),
                }),
                _ => None,
            })
            .collect();
        (!stale.is_empty()).then(|| {
            format!(
                "Connection lost, reconnecting; last known data shown (stale) — {}",
                stale.join("; ")
            )
        })
    }

    /// Rows of the findings strip: every finding wrapped to the screen's width (the selected
    /// one spelled out), up to a quarter of the screen; the strip scrolls beyond that.
    pub fn finding_lines(&self) -> u16 {
        let rows = if self.view.findings.is_empty() {
            // "N pods starting" and one line per pending container, in place of the all-clear.
            match self.starting_in_view().len() {
                n if n > 0 && self.ready() => n + 1,
                _ => 1,
            }
        } else {
            let max = usize::from((self.viewport.height / 4).max(5));
            crate::tui::ui::strip::count_rows(self, self.viewport.width, max)
        };
        let max = usize::from((self.viewport.height / 4).max(5));
        rows.clamp(1, max) as u16
    }

    /// The screen areas for the current viewport.
    pub fn areas(&self) -> Areas {
        layout::compute(
            self.viewport,
            LayoutInput {
                focus: self.focus,
                banner_lines: u16::from(self.banner().is_some()),
                finding_lines: self.finding_lines(),
                show_log: self.show_log,
            },
        )
    }

    /// The selected workload and (if a container row is selected) container (name, init).
    pub fn selected_workload(&self) -> Option<(&WorkloadKey, Option<(&str, bool)>)> {
        let row = self
            .view
            .workloads
            .get(self.pane(Pane::Workloads).selected)?;
        Some(match row {
            WorkloadRow::Deployment { key, .. } => (key, None),
            WorkloadRow::Container {
                key, name, init, ..
            } => (key, Some((name.as_str(), *init))),
        })
    }

    /// Images the selected workload (container) asks for, as written in the spec.
    pub fn wanted_images(&self) -> Vec<String> {
        let Some((key, container)) = self.selected_workload() else {
            return Vec::new();
        };
        self.view
            .workloads
            .iter()
            .filter_map(|r| match r {
                WorkloadRow::Container {
                    key: k,
                    name,
                    init,
                    image,
                    ..
                } if k == key && container.is_none_or(|(n, i)| n == name && i == *init) => {
                    Some(image.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Recompute findings and the view for a new snapshot, keeping the selection on the same
    /// objects where they still exist.
    pub(crate) fn set_snapshot(&mut self, snap: Arc<Snapshot>, report: Report) {
        self.findings = report.findings;
        self.starting = report.pending;
        self.snapshot = snap;
        self.loaded = true;
        self.judging = false;
        self.rebuild_view();
        if !self.user_moved {
            self.select_finding(0, None);
        }
    }

    /// The feed's newest snapshot shown before its diagnosis is made: rows move at once, the
    /// findings stay those of the last diagnosis until [`App::set_diagnosis`] brings its own.
    pub(crate) fn set_rows(&mut self, snap: Arc<Snapshot>) {
        if Arc::ptr_eq(&snap, &self.snapshot) {
            return;
        }
        self.snapshot = snap;
        self.judging = true;
        self.rebuild_view();
    }

    /// A diagnosis made off the UI task of `snap`. When newer rows are already shown (the feed
    /// moved on while it was made), its findings are shown with them — a newer diagnosis is
    /// on its way, so `judging` stays and no all-clear is claimed meanwhile.
    pub(crate) fn set_diagnosis(&mut self, snap: Arc<Snapshot>, report: Report) {
        if !self.loaded || Arc::ptr_eq(&snap, &self.snapshot) {
            return self.set_snapshot(snap, report);
        }
        self.findings = report.findings;
        self.starting = report.pending;
        self.rebuild_view();
        if !self.user_moved {
            self.select_finding(0, None);
        }
    }

    /// Rebuild the view (snapshot, namespace or filter changed), keeping selections by identity.
    pub(crate) fn rebuild_view(&mut self) {
        let keep_node = self.node_id();
        let keep_pod = self.pod_id();
        let keep_workload = self.workload_id();
        self.cache.update(
            &mut self.view,
            &self.snapshot,
            &self.findings,
            &self.namespace,
            &self.filter,
            self.show_system,
        );
        let nodes = keep_node.and_then(|id| self.view.nodes.iter().position(|r| node_id(r) == id));
        let pods = keep_pod.and_then(|id| {
            self.view
                .pods
                .iter()
                .position(|p| (&p.namespace, &p.name) == (&id.0, &id.1))
        });
        let workloads = keep_workload.and_then(|id| {
            self.view
                .workloads
                .iter()
                .position(|r| workload_id(r) == id)
        });
        for (pane, found) in [
            (Pane::Nodes, nodes),
            (Pane::Pods, pods),
            (Pane::Workloads, workloads),
        ] {
            let len = self.rows_len(pane);
            let state = &mut self.panes[pane.index()];
            state.selected = found.unwrap_or(state.selected).min(len.saturating_sub(1));
        }
        self.sync_events();
    }

    /// Keep the selected pod's events (and only those) in the view.
    pub(crate) fn sync_events(&mut self) {
        let pod = self.pod_id();
        self.cache.show_events(&mut self.view, pod);
    }

    fn node_id(&self) -> Option<(String, String)> {
        self.view
            .nodes
            .get(self.pane(Pane::Nodes).selected)
            .map(node_id)
    }

    fn pod_id(&self) -> Option<(String, String)> {
        self.view
            .pods
            .get(self.pane(Pane::Pods).selected)
            .map(|p| (p.namespace.clone(), p.name.clone()))
    }

    fn workload_id(&self) -> Option<(WorkloadKey, Option<(String, bool)>)> {
        self.view
            .workloads
            .get(self.pane(Pane::Workloads).selected)
            .map(workload_id)
    }

    /// After the workload selection moved: show its first pod (unless one of its pods is
    /// already selected).
    pub(crate) fn link_from_workload(&mut self) {
        let Some((key, _)) = self.selected_workload() else {
            return;
        };
        let key = key.clone();
        let current = self.view.pods.get(self.pane(Pane::Pods).selected);
        if current.is_some_and(|p| p.workload.as_ref() == Some(&key)) {
            return;
        }
        if let Some(i) = self
            .view
            .pods
            .iter()
            .position(|p| p.workload.as_ref() == Some(&key))
        {
            self.panes[Pane::Pods.index()].selected = i;
        }
    }

    /// After the pod selection moved: select its workload (unless already selected).
    pub(crate) fn link_from_pod(&mut self) {
        let Some(key) = self
            .view
            .pods
            .get(self.pane(Pane::Pods).selected)
            .and_then(|p| p.workload.clone())
        else {
            return;
        };
        if self.selected_workload().is_some_and(|(k, _)| *k == key) {
            return;
        }
        if let Some(i) = self.view.workloads.iter().position(|r| *r.key() == key) {
            self.panes[Pane::Workloads.index()].selected = i;
        }
    }
}

fn node_id(r: &NodeRow) -> (String, String) {
    match r {
        NodeRow::Node { name, .. } => (name.clone(), String::new()),
        NodeRow::Note { text } => (String::new(), text.clone()),
        NodeRow::Image { node, name, .. } => (node.clone(), name.clone()),
    }
}

fn workload_id(r: &WorkloadRow) -> (WorkloadKey, Option<(String, bool)>) {
    match r {
        WorkloadRow::Deployment { key, .. } => (key.clone(), None),
        WorkloadRow::Container {
            key, name, init, ..
        } => (key.clone(), Some((name.clone(), *init))),
    }
}
