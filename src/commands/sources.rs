//! `--source DIR` for `diagnose`, `fix` and `wait`: run the source search (crate::source) on
//! the findings of a command, off the async reactor, and say what it found in text form.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::SourceArgs;
use crate::diagnose::Finding;
use crate::error::CliError;
use crate::source::{self, Budget};

use super::output::Style;

/// The directory to search: `--source DIR` (which must be a directory), else the git work tree
/// of the current directory; `None` with `--no-source` or outside any work tree.
pub fn root(args: &SourceArgs) -> Result<Option<PathBuf>, CliError> {
    if args.no_source {
        return Ok(None);
    }
    match &args.dir {
        Some(dir) if dir.is_dir() => Ok(Some(dir.clone())),
        Some(dir) => Err(CliError::usage(format!(
            "--source {} is not a directory: pass the repository the manifests are built from",
            dir.display()
        ))),
        None => Ok(source::default_root()),
    }
}

/// Set `sources` on every finding from a search of `root`. Returns a note for stderr when the
/// search could not finish.
pub async fn attach(findings: &mut Vec<Finding>, root: Option<&Path>) -> Option<String> {
    let root = root?;
    if findings.is_empty() {
        return None;
    }
    let mut owned = std::mem::take(findings);
    let dir = root.to_path_buf();
    let joined = tokio::task::spawn_blocking(move || {
        let outcome = source::attach_sources(&mut owned, &dir, Budget::default());
        (owned, outcome.note)
    })
    .await;
    match joined {
        Ok((back, note)) => {
            *findings = back;
            note
        }
        Err(e) => Some(format!("the source search failed: {e}")),
    }
}

/// The `source:` lines of one finding, and the durable edit.
pub fn render(f: &Finding, style: Style) -> String {
    let mut out = String::new();
    for s in &f.sources {
        let _ = writeln!(
            out,
            "   {} {}:{}:{} ({}): {}",
            style.dim("source:"),
            s.path,
            s.line,
            s.column,
            s.why,
            s.text
        );
    }
    out
}
