//! The y/N question before a write (`fix`, `undo`): `--yes`, or an answer on a terminal.

use std::io::IsTerminal;

use crate::error::CliError;

/// `yes`, or a y/N answer on a terminal to `question` (already escaped). Without a terminal,
/// say `no_terminal` (what to pass to go ahead) and decline.
pub async fn confirm(yes: bool, question: &str, no_terminal: &str) -> Result<bool, CliError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        super::output::eprint_safe(&format!("kindscope: {no_terminal}\n"));
        return Ok(false);
    }
    super::output::eprint_safe(&format!("{question} [y/N] "));
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?
    .map_err(|e| CliError::usage(format!("cannot read the answer from stdin: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
