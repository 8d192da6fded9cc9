//! `kindscope ref [--json] REF...`: explain image references the way containerd and the
//! kubelet read them (docs/cli.md). Exit 0 when every reference is valid, 1 otherwise.

use std::io::Write;

use serde::Serialize;

use crate::cli::RefArgs;
use crate::error::{CliError, CmdResult, exit};
use crate::imageref::ImageRef;
use crate::k8s::PullPolicy;

/// One explained reference, as `--json` prints it (one object per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefExplanation {
    pub input: String,
    pub valid: bool,
    pub full: Option<String>,
    /// The name the image is looked up by on the node: `:latest` added when neither tag nor
    /// digest is given, the digest winning over a tag (`docker.io/library/nginx:latest`).
    pub lookup: Option<String>,
    pub familiar: Option<String>,
    pub domain: Option<String>,
    pub path: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub error: Option<String>,
}

impl RefExplanation {
    pub fn of(input: &str) -> Self {
        match ImageRef::parse(input) {
            Ok(r) => Self {
                input: input.to_string(),
                valid: true,
                full: Some(r.full()),
                lookup: Some(r.lookup_name()),
                familiar: Some(r.familiar()),
                domain: Some(r.domain.clone()),
                path: Some(r.path.clone()),
                tag: r.tag.clone(),
                digest: r.digest.clone(),
                error: None,
            },
            Err(e) => Self {
                input: input.to_string(),
                valid: false,
                full: None,
                lookup: None,
                familiar: None,
                domain: None,
                path: None,
                tag: None,
                digest: None,
                error: Some(e.0),
            },
        }
    }
}

pub fn run(args: &RefArgs) -> CmdResult {
    let explained: Vec<RefExplanation> = args.refs.iter().map(|r| RefExplanation::of(r)).collect();
    let mut out = std::io::stdout().lock();
    let text = if args.json {
        crate::sanitize::json(render_json(&explained)?)
    } else {
        render_table(&explained, crate::shell::color::stdout())
    };
    // A closed pipe (`kindscope ref x | head -0`) is not worth a panic or an error message.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(if explained.iter().all(|e| e.valid) {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn render_json(explained: &[RefExplanation]) -> Result<String, CliError> {
    let mut s = String::new();
    for e in explained {
        let line = serde_json::to_string(e).map_err(|err| {
            CliError::usage(format!("cannot encode {:?} as JSON: {err}", e.input))
        })?;
        s.push_str(&line);
        s.push('\n');
    }
    Ok(s)
}

/// A compact table: INPUT, FULL, LOOKED UP AS, FAMILIAR, DEFAULT POLICY; invalid rows say why.
pub fn render_table(explained: &[RefExplanation], color: bool) -> String {
    let rows: Vec<[String; COLUMNS]> = explained
        .iter()
        .map(|e| {
            let input = shown(&e.input);
            match (&e.full, &e.lookup, &e.familiar) {
                (Some(full), Some(lookup), Some(familiar)) => [
                    input,
                    full.clone(),
                    lookup.clone(),
                    familiar.clone(),
                    PullPolicy::default_for(&e.input).to_string(),
                ],
                _ => [
                    input,
                    format!("invalid: {}", e.error.as_deref().unwrap_or("unknown error")),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
            }
        })
        .collect();
    // The input and the parser's sentences quote what was typed: escaped for the terminal.
    let rows: Vec<[String; 5]> = rows
        .into_iter()
        .map(|r| r.map(|c| crate::sanitize::term(&c).into_owned()))
        .collect();
    let header = [
        "INPUT",
        "FULL",
        "LOOKED UP AS",
        "FAMILIAR",
        "DEFAULT POLICY",
    ];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    push_row(&mut s, &header.map(String::from), &widths);
    for (r, e) in rows.iter().zip(explained) {
        if color && !e.valid {
            let mut row = String::new();
            push_row(&mut row, r, &widths);
            // Reset before the newline so a pager never carries the colour over.
            let red = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
            s.push_str(&crate::shell::color::paint(
                true,
                red,
                row.trim_end_matches('\n'),
            ));
            s.push('\n');
        } else {
            push_row(&mut s, r, &widths);
        }
    }
    s
}

/// Columns of the human table.
const COLUMNS: usize = 5;

fn push_row(s: &mut String, cells: &[String; COLUMNS], widths: &[usize; COLUMNS]) {
    let mut line = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(c);
        if i + 1 < cells.len() {
            line.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(c.chars().count()),
            ));
        }
    }
    s.push_str(line.trim_end());
    s.push('\n');
}

/// The input as typed, quoted when whitespace or control characters would hide what is wrong.
fn shown(input: &str) -> String {
    if input.is_empty() || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        format!("{input:?}")
    } else {
        input.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_valid_and_invalid() {
        let e = RefExplanation::of("kubernaut/gateway:debug");
        assert!(e.valid);
        assert_eq!(e.full.as_deref(), Some("docker.io/kubernaut/gateway:debug"));
        assert_eq!(
            e.lookup.as_deref(),
            Some("docker.io/kubernaut/gateway:debug")
        );
        assert_eq!(
            RefExplanation::of("nginx").lookup.as_deref(),
            Some("docker.io/library/nginx:latest")
        );
        assert_eq!(e.domain.as_deref(), Some("docker.io"));
        assert_eq!(e.path.as_deref(), Some("kubernaut/gateway"));
        assert_eq!(e.tag.as_deref(), Some("debug"));
        let bad = RefExplanation::of("Kubernaut");
        assert!(!bad.valid);
        assert!(bad.full.is_none() && bad.lookup.is_none());
        assert_eq!(
            bad.error.as_deref(),
            Some("invalid reference format: repository name (library/Kubernaut) must be lowercase")
        );
    }

    #[test]
    fn table_aligns_and_quotes_hidden_whitespace() {
        let t = render_table(
            &[RefExplanation::of("nginx"), RefExplanation::of(" nginx")],
            false,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("INPUT"));
        assert!(lines[1].contains("docker.io/library/nginx") && lines[1].ends_with("Always"));
        // Beside the normalised name, the one the node is asked for.
        assert!(lines[1].contains("docker.io/library/nginx:latest"), "{t}");
        assert!(
            lines[2].starts_with("\" nginx\"")
                && lines[2].contains("invalid: invalid reference format")
        );
        let full_col = lines[0].find("FULL").expect("FULL header");
        assert_eq!(lines[1].find("docker.io"), Some(full_col));
    }
}
