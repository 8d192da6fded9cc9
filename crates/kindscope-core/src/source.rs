//! Where an asked-for image name is written in the user's repository: the plain type a finding
//! carries. The search itself (walk, match, cache) is IO and lives in the `kindscope` crate's
//! `source` module.

use serde::{Deserialize, Serialize};

/// One place in the repository that sets (or rewrites) the asked-for name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Path relative to the searched directory, `/`-separated.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column (characters) where the match starts.
    pub column: u64,
    /// The line, trimmed and cut to 200 characters.
    pub text: String,
    /// Why this line matters, one phrase (`manifest image field`, `this rewrites the image name`).
    pub why: String,
}
