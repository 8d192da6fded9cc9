//! Messages: what the user or the world asks for ([`Action`]) and what the app asks the event
//! loop to do ([`Effect`]).

use std::sync::Arc;

use crate::fix::FixPlan;
use crate::model::Snapshot;
use crate::tui::port::PortEvent;

/// The three panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Nodes,
    Pods,
    Workloads,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Nodes, Pane::Pods, Pane::Workloads];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Nodes => "Node images",
            Pane::Pods => "Pods & events",
            Pane::Workloads => "Workloads",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Pane::Nodes => 0,
            Pane::Pods => 1,
            Pane::Workloads => 2,
        }
    }

    pub fn next(self) -> Pane {
        Pane::ALL[(self.index() + 1) % 3]
    }

    pub fn prev(self) -> Pane {
        Pane::ALL[(self.index() + 2) % 3]
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter: details of the selected row.
    Details,
    /// `f`: open the fix dialog for the selected finding.
    OpenFix,
    /// `u`: open the undo confirmation.
    OpenUndo,
    /// `y`/Enter in a dialog or chooser.
    Confirm,
    /// Esc: close whatever is open.
    Cancel,
    OpenFilter,
    FilterInput(char),
    FilterBackspace,
    OpenNamespaces,
    ToggleLog,
    ToggleHelp,
    /// `l`: the selected pod's container logs.
    OpenLogs,
    /// `d`: describe the selection.
    OpenDescribe,
    /// `y`: the selection's YAML from the server.
    OpenYaml,
    /// A key inside a logs/describe/YAML view.
    View(crate::tui::textview::ViewKey),
    /// `1`/`2`/`3`: this pane.
    FocusPane(Pane),
    /// `:`: open the command line.
    OpenCommand,
    /// A key on the command line.
    Command(crate::tui::command::CommandKey),
    /// A key that means nothing here (named, for the status line).
    Unbound(String),
    /// `r`: read every node's images from the container runtime again.
    RefreshNodeImages,
    /// `]` / `[`: the next / previous finding, from any pane.
    NextFinding,
    PrevFinding,
    /// `s`: show / fold Kind's own namespaces and base images.
    ToggleSystem,
    /// `c`: copy the selected finding's fix (a command) to the clipboard.
    CopyFix,
    /// `J` / `K`: scroll the events list of the selected pod.
    ScrollEvents {
        down: bool,
    },
    /// Mouse left click at (column, row).
    Click {
        column: u16,
        row: u16,
    },
    /// Mouse wheel over (column, row): positive = down.
    Scroll {
        column: u16,
        row: u16,
        down: bool,
    },
    Resize {
        width: u16,
        height: u16,
    },
    /// A new snapshot from the feed (diagnosed here).
    Snapshot(Arc<Snapshot>),
    /// A new snapshot from the feed, shown before its diagnosis (made off the UI task) is done.
    Rows(Arc<Snapshot>),
    /// A snapshot with its diagnosis, made off the UI task.
    Derived(Arc<Snapshot>, crate::diagnose::Report),
    /// The feed ended (the cluster edge stopped).
    FeedClosed,
    Port(PortEvent),
    /// Animation frame (only while something animates).
    Tick,
}

/// What `update` asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    Apply(FixPlan),
    Undo(FixPlan),
    SwitchNamespace(Option<String>),
    /// Any other request to the backend.
    Port(crate::tui::port::Request),
    RefreshNodeImages,
    /// Put this text on the terminal's clipboard (OSC 52).
    Copy(String),
}
