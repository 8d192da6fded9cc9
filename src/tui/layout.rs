//! Where everything goes on screen. One pure function used both to draw and to map mouse
//! clicks back to panes and rows.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::action::Pane;

/// From this width the three panes stand side by side.
pub const THREE_MIN_WIDTH: u16 = 180;
/// Below this width the three panes become tabs; between the two, two columns (Workloads over
/// Node images, beside Pods & events), so that every column keeps the key parts of its names
/// (docs/dashboard.md, "Widths").
pub const WIDE_MIN_WIDTH: u16 = 120;

/// Screen areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub banner: Option<Rect>,
    /// Tab bar (narrow terminals only).
    pub tabs: Option<Rect>,
    /// Each pane's block (None when hidden behind another tab). For Pods: the pod list only.
    pub panes: [Option<Rect>; 3],
    /// The selected pod's events, below the pod list.
    pub events: Option<Rect>,
    pub findings: Rect,
    pub log: Option<Rect>,
    pub status: Rect,
}

/// Inputs of the layout besides the screen size.
#[derive(Debug, Clone, Copy)]
pub struct LayoutInput {
    pub focus: Pane,
    pub banner_lines: u16,
    pub finding_lines: u16,
    pub show_log: bool,
}

pub fn is_wide(area: Rect) -> bool {
    area.width >= WIDE_MIN_WIDTH
}

pub fn compute(area: Rect, input: LayoutInput) -> Areas {
    let wide = is_wide(area);
    let log_height = if input.show_log {
        (area.height / 3).max(5)
    } else {
        0
    };
    let [banner, tabs, body, findings, log, status] = Layout::vertical([
        Constraint::Length(input.banner_lines),
        Constraint::Length(if wide { 0 } else { 1 }),
        Constraint::Min(6),
        // A top border plus the finding lines.
        Constraint::Length(input.finding_lines + 1),
        Constraint::Length(log_height),
        Constraint::Length(2),
    ])
    .areas(area);

    let mut panes = [None; 3];
    let pods_area = if area.width >= THREE_MIN_WIDTH {
        let [n, p, w] = Layout::horizontal([
            Constraint::Percentage(28),
            Constraint::Percentage(38),
            Constraint::Percentage(34),
        ])
        .areas(body);
        panes[Pane::Nodes.index()] = Some(n);
        panes[Pane::Workloads.index()] = Some(w);
        Some(p)
    } else if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        let [w, n] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(left);
        panes[Pane::Nodes.index()] = Some(n);
        panes[Pane::Workloads.index()] = Some(w);
        Some(right)
    } else if input.focus == Pane::Pods {
        Some(body)
    } else {
        panes[input.focus.index()] = Some(body);
        None
    };
    let mut events = None;
    if let Some(p) = pods_area {
        let [list, ev] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(p);
        panes[Pane::Pods.index()] = Some(list);
        events = Some(ev);
    }
    Areas {
        banner: (input.banner_lines > 0).then_some(banner),
        tabs: (!wide).then_some(tabs),
        panes,
        events,
        findings,
        log: input.show_log.then_some(log),
        status,
    }
}

/// Rows of data a pane block of this area can show (borders and header row excluded).
pub fn visible_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// The data row (0-based, before scrolling) at screen row `y` in a pane block, if any.
pub fn row_at(area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 2;
    let last = area.y + area.height.saturating_sub(1);
    (y >= first && y < last).then(|| usize::from(y - first))
}

/// Which tab a click at column `x` on the tab bar hits (tabs are drawn at fixed widths).
pub fn tab_at(x: u16, tabs: Rect) -> Option<Pane> {
    let mut start = tabs.x;
    for pane in Pane::ALL {
        let width = tab_label(pane).chars().count() as u16 + 3;
        if x >= start && x < start + width {
            return Some(pane);
        }
        start += width;
    }
    None
}

pub fn tab_label(pane: Pane) -> String {
    format!("{} {}", pane.index() + 1, pane.title())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(focus: Pane) -> LayoutInput {
        LayoutInput {
            focus,
            banner_lines: 0,
            finding_lines: 2,
            show_log: false,
        }
    }

    #[test]
    fn wide_shows_three_panes() {
        let a = compute(Rect::new(0, 0, 160, 40), input(Pane::Nodes));
        assert!(a.panes.iter().all(Option::is_some));
        assert!(a.tabs.is_none());
        assert!(a.events.is_some());
    }

    #[test]
    fn medium_widths_stack_workloads_over_nodes() {
        let a = compute(Rect::new(0, 0, 140, 40), input(Pane::Nodes));
        let [n, p, w] = a.panes.map(|p| p.expect("all panes shown"));
        assert!(a.tabs.is_none());
        assert_eq!(w.x, n.x);
        assert!(w.y < n.y);
        assert!(p.x > w.x);
        assert_eq!(w.width + p.width, 140);
    }

    #[test]
    fn narrow_shows_one_tab() {
        let a = compute(Rect::new(0, 0, 80, 24), input(Pane::Workloads));
        assert_eq!(a.panes.iter().filter(|p| p.is_some()).count(), 1);
        assert!(a.panes[Pane::Workloads.index()].is_some());
        assert!(a.tabs.is_some());
        let pods = compute(Rect::new(0, 0, 80, 24), input(Pane::Pods));
        assert!(pods.events.is_some());
    }

    #[test]
    fn rows_map_inside_borders() {
        let r = Rect::new(0, 5, 40, 10);
        assert_eq!(row_at(r, 5), None);
        assert_eq!(row_at(r, 6), None);
        assert_eq!(row_at(r, 7), Some(0));
        assert_eq!(row_at(r, 13), Some(6));
        assert_eq!(row_at(r, 14), None);
        assert_eq!(visible_rows(r), 7);
    }

    #[test]
    fn tab_hit_testing() {
        let bar = Rect::new(0, 0, 80, 1);
        assert_eq!(tab_at(0, bar), Some(Pane::Nodes));
        let second = tab_label(Pane::Nodes).len() as u16 + 3;
        assert_eq!(tab_at(second, bar), Some(Pane::Pods));
        assert_eq!(tab_at(79, bar), None);
    }
}
