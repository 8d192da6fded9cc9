//! `kindscope undo [--last|ID] [--yes]`: revert a fix recorded in the journal with its guarded
//! undo patch, then follow the rollout back. Written through the same path as `fix`
//! (`cluster::session::apply_and_follow`), refused on the same contexts, journalled the same way.

use std::io::IsTerminal;
use std::time::Duration;

use futures::StreamExt;

use crate::cli::{Cli, UndoArgs};
use crate::cluster::journal::{Journal, JournalEntry, open_fixes};
use crate::cluster::rollout::RolloutOutcome;
use crate::cluster::session::{self, Direction, Step, WriteOptions};
use crate::cluster::{apply::ApplyError, connect, guard, watch};
use crate::config::Config;
use crate::error::{CliError, CmdResult, exit};
use crate::sanitize::term;

use super::output::{Style, emit, eprint_safe, render_plan};

pub async fn run(cli: &Cli, args: &UndoArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let journal = Journal::default_location();
    let entries = journal
        .entries()
        .map_err(|e| CliError::usage(format!("{e}; nothing was undone")))?;
    let progress = crate::progress::Progress::stderr();
    // As `fix`: the fix is chosen and the write guard asked from the kubeconfig alone, before
    // the first connection, so a refused context is never contacted.
    let mut chosen = None;
    let conn = progress
        .bounded(
            crate::progress::connecting(cli.conn.context.as_deref()),
            connect::connect_checked(&cli.conn, |context, server| {
                guard::check_target(context, server, &cli.write, &config.allowed_write_contexts)
                    .map_err(CliError::usage)?;
                chosen = Some(pick(&entries, args.id.as_deref(), context, server)?);
                Ok(())
            }),
        )
        .await?;
    let Some(fix) = chosen else {
        return Err(CliError::usage("no fix was chosen; nothing was undone"));
    };
    let style = Style::stdout();
    emit(&render_intro(&fix, style))?;
    let question = format!("Undo this fix on context \"{}\"?", term(&conn.context));
    if !super::confirm::confirm(
        args.yes,
        &question,
        "nothing undone: pass --yes to undo it (stdin is not a terminal, so kindscope cannot ask)",
    )
    .await?
    {
        if std::io::stdin().is_terminal() {
            eprint_safe("kindscope: nothing undone.\n");
        }
        return Ok(exit::FINDINGS);
    }
    let feed = watch::start(&conn);
    progress
        .bounded(
            crate::progress::listing(&conn.context),
            feed.ready(config.timeouts.connect()),
        )
        .await?;
    let timeout = args
        .timeout
        .map_or(config.timeouts.rollout(), Duration::from_secs);
    let mut steps = session::apply_and_follow(
        &conn,
        feed.snapshots(),
        &fix.plan,
        Direction::Undo {
            of: Some(Box::new(fix.clone())),
        },
        WriteOptions {
            guard: guard::check_write(&conn, &cli.write, &config.allowed_write_contexts)
                .map(|_| ()),
            dry_run: false,
            journal: Some(journal),
            rollout_timeout: timeout,
        },
    );
    let follow = crate::commands::output::Progress::stderr();
    let mut outcome = None;
    while let Some(step) = steps.next().await {
        match step {
            Step::Refused(why) => return Err(CliError::usage(why)),
            Step::Failed(e) => return failed(&e),
            Step::Applied(_) | Step::Journaled(_) => {}
            Step::NotJournaled(e) => eprint_safe(&format!(
                "kindscope: the undo was applied but not recorded in the journal: {e}\n"
            )),
            Step::Progress(p) => follow.update(&p.target, &p.message),
            Step::Done(o) => {
                outcome = Some(o);
                break;
            }
        }
    }
    follow.finish();
    emit(&render_result(&fix, outcome.as_ref(), timeout, style))?;
    Ok(exit::OK)
}

/// The fix to undo: the one named by `id` (exact, or a unique prefix), else the newest open fix
/// on this context and server.
fn pick(
    entries: &[JournalEntry],
    id: Option<&str>,
    context: &str,
    server: &str,
) -> Result<JournalEntry, CliError> {
    let open = open_fixes(entries.to_vec());
    let Some(id) = id else {
        return open
            .into_iter()
            .find(|e| e.context == context && e.server == server)
            .ok_or_else(|| {
                CliError::usage(format!(
                    "the journal holds no fix on context \"{context}\" (server {server}) that is \
                     not undone yet; `kindscope journal` lists what it holds"
                ))
            });
    };
    let exact = entries.iter().find(|e| e.id == id);
    let matching: Vec<&JournalEntry> = match exact {
        Some(e) => vec![e],
        None => entries.iter().filter(|e| e.id.starts_with(id)).collect(),
    };
    let entry = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(CliError::usage(format!(
                "no journal entry has the id \"{id}\"; `kindscope journal` lists the ids"
            )));
        }
        many => {
            return Err(CliError::usage(format!(
                "\"{id}\" names {} journal entries; give more of the id (`kindscope journal` \
                 lists them)",
                many.len()
            )));
        }
    };
    if entry.action != crate::cluster::journal::Action::Fix {
        return Err(CliError::usage(format!(
            "journal entry \"{}\" is an undo, not a fix; name the fix it undid to see it",
            entry.id
        )));
    }
    if !open.iter().any(|e| e.id == entry.id) {
        return Err(CliError::usage(format!(
            "the fix \"{}\" was undone already; nothing to do",
            entry.id
        )));
    }
    if entry.context != context {
        return Err(CliError::usage(format!(
            "the fix \"{}\" was made on context \"{}\", not \"{context}\"; pass --context {}",
            entry.id, entry.context, entry.context
        )));
    }
    Ok(entry.clone())
}

fn render_intro(fix: &JournalEntry, style: Style) -> String {
    let mut undo = session::reversed(&fix.plan);
    // `render_plan` shows the patch it is given: the undo's ops.
    undo.patch = fix.plan.undo.clone();
    format!(
        "{} fix {} made {} on context {}:\n{}",
        style.bold("undo"),
        term(&fix.id),
        fix.time.strftime("%Y-%m-%d %H:%M:%S UTC"),
        term(&fix.context),
        render_plan(&undo, style)
    )
}

fn render_result(
    fix: &JournalEntry,
    outcome: Option<&RolloutOutcome>,
    timeout: Duration,
    style: Style,
) -> String {
    let p = &fix.plan;
    let what = term(&format!(
        "{}/{}/{} container {}",
        p.target.namespace, p.target.kind, p.target.name, p.container
    ))
    .into_owned();
    let back = term(&p.image_before).into_owned();
    // The old image usually fails again: that is what undo asked for, not an error of undo.
    let pods = match outcome {
        Some(RolloutOutcome::Running) => "its pods are Running".to_string(),
        Some(RolloutOutcome::Failed { reason }) => format!("its pods: {}", term(reason)),
        Some(RolloutOutcome::TimedOut { last }) => {
            term(&session::timed_out_reason(timeout, last)).into_owned()
        }
        None => "the rollout could not be followed".to_string(),
    };
    format!(
        "{} {what} is back on {back}; {pods}.\n",
        style.green("✓ undone:")
    )
}

/// The server refused the undo patch: nothing changed.
fn failed(e: &ApplyError) -> CmdResult {
    eprint_safe(&format!("kindscope: {e}\n"));
    Ok(match e {
        ApplyError::Forbidden { .. } | ApplyError::Transport { .. } => exit::CLUSTER,
        _ => exit::FINDINGS,
    })
}
