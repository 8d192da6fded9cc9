//! `kindscope journal [--json]`: what kindscope wrote to clusters, newest first, with what each
//! fix changed and whether it was undone. Reads the journal file only.

use serde::Serialize;

use crate::cli::{Cli, JournalArgs};
use crate::cluster::journal::{Action, Journal, JournalEntry};
use crate::error::{CliError, CmdResult, exit};
use crate::sanitize::term;

use super::output::{Style, emit};

/// One line of `journal --json`: what that write changed, from → to.
#[derive(Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub time: String,
    pub action: Action,
    pub context: String,
    pub server: String,
    pub namespace: String,
    pub kind: String,
    pub workload: String,
    pub container: String,
    pub image_before: String,
    pub image_after: String,
    pub pull_policy_before: Option<String>,
    pub pull_policy_after: Option<String>,
    /// `open` (a fix not undone), `undone` (a fix undone since), `undo` (an undo).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<String>,
}

pub fn run(cli: &Cli, args: &JournalArgs) -> CmdResult {
    let journal = Journal::default_location();
    let entries = journal
        .entries()
        .map_err(|e| CliError::usage(e.to_string()))?;
    let rows: Vec<Row> = rows(&entries)
        .into_iter()
        .filter(|r| cli.conn.context.as_ref().is_none_or(|c| *c == r.context))
        .filter(|r| {
            cli.conn
                .namespace
                .as_ref()
                .is_none_or(|n| *n == r.namespace)
        })
        .collect();
    if args.json {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::usage(format!("cannot write the journal as JSON: {e}")))?;
        emit(&format!("{}\n", crate::sanitize::json(text)))?;
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        let path = journal
            .path()
            .map_or_else(|_| "(unknown)".to_string(), |p| p.display().to_string());
        emit(&format!(
            "The journal ({}) holds no entries{}.\n",
            term(&path),
            if cli.conn.context.is_some() || cli.conn.namespace.is_some() {
                " that match"
            } else {
                ""
            }
        ))?;
        return Ok(exit::OK);
    }
    emit(&render(&rows, Style::stdout()))?;
    Ok(exit::OK)
}

/// Newest first; each entry with what it changed and whether it was undone later.
pub fn rows(entries: &[JournalEntry]) -> Vec<Row> {
    entries
        .iter()
        .rev()
        .map(|e| {
            let undone_by = entries
                .iter()
                .find(|u| u.undoes.as_deref() == Some(e.id.as_str()))
                .map(|u| u.id.clone());
            let p = &e.plan;
            // An undo entry carries the fix's plan: it changed the fix's values back.
            let (image_before, image_after, policy_before, policy_after) = match e.action {
                Action::Fix => (
                    &p.image_before,
                    &p.image_after,
                    &p.pull_policy_before,
                    &p.pull_policy_after,
                ),
                Action::Undo => (
                    &p.image_after,
                    &p.image_before,
                    &p.pull_policy_after,
                    &p.pull_policy_before,
                ),
            };
            Row {
                id: e.id.clone(),
                time: kindscope_core::time::rfc3339(e.time, kindscope_core::time::Precision::Secs),
                action: e.action,
                context: e.context.clone(),
                server: e.server.clone(),
                namespace: p.target.namespace.clone(),
                kind: p.target.kind.to_string(),
                workload: p.target.name.clone(),
                container: p.container.clone(),
                image_before: image_before.clone(),
                image_after: image_after.clone(),
                pull_policy_before: policy_before.clone(),
                pull_policy_after: policy_after.clone(),
                state: match (e.action, &undone_by) {
                    (Action::Undo, _) => "undo",
                    (Action::Fix, Some(_)) => "undone",
                    (Action::Fix, None) => "open",
                },
                undoes: e.undoes.clone(),
                undone_by,
            }
        })
        .collect()
}

fn render(rows: &[Row], style: Style) -> String {
    let mut out = String::new();
    for r in rows {
        let state = match r.state {
            "open" => style.yellow("open"),
            "undone" => style.dim("undone"),
            other => style.dim(other),
        };
        out.push_str(&format!(
            "{}  {:<4}  {}  {}/{}/{} [{}]  {state}\n",
            r.time.replace('T', " ").replace('Z', " UTC"),
            match r.action {
                Action::Fix => "fix",
                Action::Undo => "undo",
            },
            term(&r.context),
            term(&r.namespace),
            term(&r.kind),
            term(&r.workload),
            term(&r.container),
        ));
        out.push_str(&format!(
            "    image        {} → {}\n",
            term(&r.image_before),
            term(&r.image_after)
        ));
        if r.pull_policy_before != r.pull_policy_after {
            let show = |p: &Option<String>| term(p.as_deref().unwrap_or("(not set)")).into_owned();
            out.push_str(&format!(
                "    pull policy  {} → {}\n",
                show(&r.pull_policy_before),
                show(&r.pull_policy_after)
            ));
        }
        out.push_str(&format!("    id           {}\n", term(&r.id)));
    }
    out
}
