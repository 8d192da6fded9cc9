//! The journal: every applied (non-dry-run) patch, with its undo, as one JSON line in
//! `$XDG_STATE_HOME/kindscope/journal.jsonl` (`KINDSCOPE_STATE_DIR` overrides the directory).
//!
//! One line per write keeps appends atomic enough for two kindscope processes and lets a
//! human read the file with `tail`/`jq`. Unreadable lines are skipped, never fatal.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use kindscope_core::time::{self, Precision, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fix::FixPlan;

/// Environment variable that replaces the state directory (tests, sandboxes).
pub const STATE_DIR_ENV: &str = "KINDSCOPE_STATE_DIR";

/// What a journal line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A fix was applied (`plan.patch`).
    Fix,
    /// An earlier fix was undone (`plan.undo` of the entry named in `undoes`).
    Undo,
}

/// One applied write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Unique within the journal: RFC 3339 time plus target, enough to refer back to it.
    pub id: String,
    #[serde(with = "time::serde_auto")]
    pub time: Timestamp,
    pub action: Action,
    pub context: String,
    pub server: String,
    /// The plan as applied; `plan.patch` was sent for a fix, `plan.undo` for an undo.
    pub plan: FixPlan,
    /// For an undo: the id of the fix it reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
}

impl JournalEntry {
    /// A new entry stamped now. `time` is the only clock read; the core never sees it.
    pub fn new(action: Action, context: &str, server: &str, plan: &FixPlan) -> Self {
        let time = Timestamp::now();
        let t = &plan.target;
        Self {
            id: format!(
                "{}/{}/{}/{}/{}",
                time::rfc3339(time, Precision::Micros),
                t.kind,
                t.namespace,
                t.name,
                plan.container
            ),
            time,
            action,
            context: context.to_string(),
            server: server.to_string(),
            plan: plan.clone(),
            undoes: None,
        }
    }
}

/// A journal failure, as one sentence naming the file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("journal {path}: {message}")]
pub struct JournalError {
    pub path: String,
    pub message: String,
}

/// The journal file path (the directory may not exist yet).
pub fn path() -> Result<PathBuf, JournalError> {
    Journal::default_location().path()
}

/// The directory of the journal named by `KINDSCOPE_STATE_DIR`, else the user's state
/// directory.
fn default_dir() -> Result<PathBuf, JournalError> {
    match std::env::var_os(STATE_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .map(|d| d.join("kindscope"))
            .ok_or_else(|| JournalError {
                path: "(unknown)".into(),
                message: format!(
                    "no state directory (set XDG_STATE_HOME or {STATE_DIR_ENV} to choose one)"
                ),
            }),
    }
}

/// One journal file. The free functions of this module use [`Journal::default_location`];
/// tests and the dashboard may name the directory instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// None: the default location, resolved at each use.
    dir: Option<PathBuf>,
}

impl Journal {
    /// `KINDSCOPE_STATE_DIR`, else `$XDG_STATE_HOME/kindscope`.
    pub fn default_location() -> Self {
        Journal { dir: None }
    }

    /// The journal in `dir` (`dir/journal.jsonl`).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Journal {
            dir: Some(dir.into()),
        }
    }

    pub fn path(&self) -> Result<PathBuf, JournalError> {
        let dir = match &self.dir {
            Some(d) => d.clone(),
            None => default_dir()?,
        };
        Ok(dir.join("journal.jsonl"))
    }

    pub fn append(&self, entry: &JournalEntry) -> Result<PathBuf, JournalError> {
        append_to(self.path()?, entry)
    }

    pub fn entries(&self) -> Result<Vec<JournalEntry>, JournalError> {
        entries_in(self.path()?)
    }

    /// The most recent fix not undone yet: on `context`, or on any context.
    pub fn last_open_fix(
        &self,
        context: Option<&str>,
    ) -> Result<Option<JournalEntry>, JournalError> {
        Ok(last_open_fix(self.entries()?, context))
    }

    /// Record that `fix` was undone.
    pub fn append_undo(&self, fix: &JournalEntry) -> Result<PathBuf, JournalError> {
        let mut entry = JournalEntry::new(Action::Undo, &fix.context, &fix.server, &fix.plan);
        entry.undoes = Some(fix.id.clone());
        self.append(&entry)
    }

    /// The fixes on this cluster (context and API server) not undone yet, newest first: what
    /// undo walks back through.
    pub fn open_fixes(
        &self,
        context: &str,
        server: &str,
    ) -> Result<Vec<JournalEntry>, JournalError> {
        Ok(open_fixes(self.entries()?)
            .into_iter()
            .filter(|e| e.context == context && e.server == server)
            .collect())
    }
}

/// Every fix not undone yet, newest first.
pub fn open_fixes(entries: Vec<JournalEntry>) -> Vec<JournalEntry> {
    let undone: std::collections::HashSet<String> =
        entries.iter().filter_map(|e| e.undoes.clone()).collect();
    entries
        .into_iter()
        .rev()
        .filter(|e| e.action == Action::Fix && !undone.contains(&e.id))
        .collect()
}

/// Append one entry as one line.
pub fn append(entry: &JournalEntry) -> Result<PathBuf, JournalError> {
    Journal::default_location().append(entry)
}

fn append_to(path: PathBuf, entry: &JournalEntry) -> Result<PathBuf, JournalError> {
    let err = |message: String| JournalError {
        path: path.display().to_string(),
        message,
    };
    // The journal names contexts, servers and images: private to the user (0600 in 0700).
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| err(format!("cannot create directory: {e}")))?;
    }
    let mut line = serde_json::to_string(entry).map_err(|e| err(e.to_string()))?;
    line.push('\n');
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| err(format!("cannot open for appending: {e}")))?;
    // A journal created by an older kindscope (0644) is tightened on the next write.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file
            .metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
        {
            let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
    }
    // One write call per line: O_APPEND keeps concurrent writers from interleaving.
    file.write_all(line.as_bytes())
        .map_err(|e| err(format!("cannot write: {e}")))?;
    Ok(path)
}

/// Every readable entry, oldest first (a missing journal is empty).
pub fn entries() -> Result<Vec<JournalEntry>, JournalError> {
    Journal::default_location().entries()
}

fn entries_in(path: PathBuf) -> Result<Vec<JournalEntry>, JournalError> {
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(JournalError {
                path: path.display().to_string(),
                message: format!("cannot read: {e}"),
            });
        }
    };
    let mut out = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalEntry>(&line) {
            Ok(entry) => out.push(entry),
            Err(e) => {
                tracing::warn!(line = n + 1, path = %path.display(), "skipping unreadable journal line: {e}")
            }
        }
    }
    Ok(out)
}

/// The most recent fix that has not been undone yet (on any context).
pub fn last_entry() -> Result<Option<JournalEntry>, JournalError> {
    Journal::default_location().last_open_fix(None)
}

/// The most recent fix on `context` that has not been undone yet.
pub fn last_entry_for(context: &str) -> Result<Option<JournalEntry>, JournalError> {
    Journal::default_location().last_open_fix(Some(context))
}

fn last_open_fix(entries: Vec<JournalEntry>, context: Option<&str>) -> Option<JournalEntry> {
    open_fixes(entries)
        .into_iter()
        .find(|e| context.is_none_or(|c| e.context == c))
}

/// Record that `fix` was undone.
pub fn append_undo(fix: &JournalEntry) -> Result<PathBuf, JournalError> {
    Journal::default_location().append_undo(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Target;
    use serde_json::json;

    fn plan(name: &str) -> FixPlan {
        FixPlan {
            target: Target {
                kind: "Deployment".into(),
                namespace: "default".into(),
                name: name.into(),
            },
            container: name.into(),
            patch: json!([{"op":"test","path":"/spec/template/spec/containers/0/image","value":"a"},
                          {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"localhost/a"}]),
            undo: json!([{"op":"test","path":"/spec/template/spec/containers/0/image","value":"localhost/a"},
                         {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"a"}]),
            image_before: "a".into(),
            image_after: "localhost/a".into(),
            pull_policy_before: None,
            pull_policy_after: None,
        }
    }

    // The directory is passed in (never through the environment, which the tests of this
    // binary share).
    #[test]
    fn round_trip_and_undo_bookkeeping() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Journal::at(dir.path().join("state"));

        assert_eq!(journal.last_open_fix(None).expect("empty journal"), None);
        let first = JournalEntry::new(Action::Fix, "kind-a", "https://127.0.0.1:1", &plan("one"));
        let second = JournalEntry::new(Action::Fix, "kind-b", "https://127.0.0.1:2", &plan("two"));
        let written = journal.append(&first).expect("append first");
        journal.append(&second).expect("append second");
        assert_eq!(written, dir.path().join("state").join("journal.jsonl"));

        // A garbage line (say, a truncated write) is skipped, not fatal.
        let mut f = OpenOptions::new()
            .append(true)
            .open(&written)
            .expect("open");
        f.write_all(b"{not json\n").expect("write garbage");

        let all = journal.entries().expect("entries");
        assert_eq!(all, vec![first.clone(), second.clone()]);
        assert_eq!(
            journal.last_open_fix(None).expect("last"),
            Some(second.clone())
        );
        assert_eq!(
            journal.last_open_fix(Some("kind-a")).expect("last a"),
            Some(first.clone())
        );

        journal.append_undo(&second).expect("undo second");
        assert_eq!(
            journal.last_open_fix(None).expect("after undo"),
            Some(first.clone())
        );
        assert_eq!(
            journal.last_open_fix(Some("kind-b")).expect("b undone"),
            None
        );

        let text = std::fs::read_to_string(&written).expect("read journal");
        assert_eq!(text.lines().count(), 4, "one line per write");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| {
                std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
            };
            assert_eq!(mode(&written), 0o600, "the journal is private");
            assert_eq!(
                mode(&dir.path().join("state")),
                0o700,
                "in a private directory"
            );
            // An older, world-readable journal is tightened on the next write.
            std::fs::set_permissions(&written, std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            journal.append(&first).expect("append again");
            assert_eq!(mode(&written), 0o600);
        }
    }
}
