//! Finding → FixPlan: a JSON patch guarded by a `test` op on the old value, and its undo.
//! Pure: the plan is computed from the finding and the snapshot; applying lives in `cluster`.

use serde::{Deserialize, Serialize};

/// The object a plan patches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Pod` …
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// A planned, reversible change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixPlan {
    pub target: Target,
    pub container: String,
    /// JSON patch ops: `test` guards first, then `replace`/`add`.
    pub patch: serde_json::Value,
    /// The patch that puts the old values back, guarded by `test` ops on the new values.
    pub undo: serde_json::Value,
    pub image_before: String,
    pub image_after: String,
    /// Pull policy before (None = field absent) and after.
    pub pull_policy_before: Option<String>,
    pub pull_policy_after: Option<String>,
}
