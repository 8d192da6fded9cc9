//! Live time: the ages and "for how long" on screen tick once a second, and the screen is
//! redrawn only when one of the strings it shows changes (an age past two minutes changes once
//! a minute), so an idle dashboard stays idle.

use std::hash::{Hash, Hasher};

use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::format::age;
use crate::tui::layout::visible_rows;

impl App {
    /// Whether anything with an age is on screen (then the clock is watched each second).
    pub fn shows_time(&self) -> bool {
        !self.view.pods.is_empty() || !self.starting_in_view().is_empty()
    }

    /// A digest of every time-dependent string visible at `now`: the ages of the pod rows in
    /// view, of the selected pod's events, and of the containers still starting. Equal digests
    /// mean an identical screen.
    pub fn clock_face(&self, now: i64) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let areas = self.areas();
        if let Some(area) = areas.panes[Pane::Pods.index()] {
            let offset = self.pane(Pane::Pods).offset.get();
            for p in self.view.pods.iter().skip(offset).take(visible_rows(area)) {
                p.created.map(|c| age(now - c)).hash(&mut h);
            }
        }
        if areas.events.is_some()
            && let Some(p) = self.view.pods.get(self.pane(Pane::Pods).selected)
            && let Some(events) = self.view.events.get(&(p.namespace.clone(), p.name.clone()))
        {
            for e in events {
                e.last.map(|t| age(now - t)).hash(&mut h);
            }
        }
        for p in self.starting_in_view() {
            p.since
                .as_deref()
                .and_then(|s| s.parse::<k8s_openapi::jiff::Timestamp>().ok())
                .map(|t| age(now.saturating_sub(t.as_second())))
                .hash(&mut h);
        }
        h.finish()
    }
}
