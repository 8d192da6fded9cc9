//! A [`ClusterPort`] without a cluster for the dashboard's tests: records requests and answers
//! with a scripted outcome. Test-only, so it lives here rather than in the product.

use std::sync::Arc;

use kindscope::cluster::journal::JournalEntry;
use kindscope::tui::port::{ClusterPort, EventSink, FollowOutcome, PortEvent, Request};

#[derive(Debug, Default, Clone)]
pub struct FakePort {
    pub requests: Arc<std::sync::Mutex<Vec<Request>>>,
    /// When set, every apply/undo fails with this message.
    pub fail_with: Option<String>,
    /// What `UndoHistory` answers (an empty journal by default).
    pub history: Vec<JournalEntry>,
}

impl ClusterPort for FakePort {
    fn submit(&mut self, request: Request, events: &EventSink) {
        // Recorded after answering, so a test that sees the request also finds the answers queued.
        let record = request.clone();
        let (plan, undo) = match request {
            Request::Apply(plan) => (plan, false),
            Request::Undo(plan) => (plan, true),
            Request::SwitchContext(context) => {
                let _ = events.send(PortEvent::Context(Err(format!(
                    "cannot switch to {context}: this dashboard has no kubeconfig"
                ))));
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::Logs(_) | Request::Yaml { .. } | Request::CloseView => {
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::UndoHistory => {
                let _ = events.send(PortEvent::History(Ok(self.history.clone())));
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::SwitchNamespace(_) | Request::RefreshNodeImages => {
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
        };
        let target = plan.target.clone();
        // A closed receiver means the loop is gone; nothing left to report to.
        let _ = match &self.fail_with {
            Some(message) => events.send(PortEvent::ApplyFailed {
                target,
                undo,
                message: message.clone(),
            }),
            None => events
                .send(PortEvent::Applied {
                    target: target.clone(),
                    undo,
                })
                .and_then(|()| {
                    events.send(PortEvent::RolloutDone {
                        target,
                        outcome: FollowOutcome::Running,
                    })
                }),
        };
        if let Ok(mut log) = self.requests.lock() {
            log.push(record);
        }
    }
}
