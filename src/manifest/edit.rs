//! In-place edits of image and pull-policy scalars: only the bytes of the scalar change (its
//! quoting style kept), so comments, order and layout around it stay byte-for-byte.

use super::ImageField;
use super::yaml::{Pos, Style};

/// One replacement in a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub new: String,
    /// 1-based line and column of `start`.
    pub line: usize,
    pub column: usize,
}

/// A scalar written in `style`; a plain scalar that would read differently is double-quoted.
fn render(value: &str, style: Style) -> String {
    match style {
        Style::Single => format!("'{}'", value.replace('\'', "''")),
        Style::Plain if plain_safe(value) => value.to_string(),
        _ => serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\"")),
    }
}

/// Image references and pull policies are plain-safe unless they contain YAML indicators.
fn plain_safe(v: &str) -> bool {
    !v.is_empty()
        && !v.contains(": ")
        && !v.contains(" #")
        && !v.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c) || c.is_whitespace())
        && !v.ends_with(|c: char| c == ':' || c.is_whitespace())
}

fn replace(pos: Pos, value: &str, style: Style) -> Edit {
    Edit {
        start: pos.start,
        end: pos.end,
        new: render(value, style),
        line: pos.line,
        column: pos.column,
    }
}

/// The edits that set this field's image and/or pull policy. `Err` says why the file cannot
/// be edited safely here.
pub fn edits_for(
    field: &ImageField,
    text: &str,
    image: Option<&str>,
    policy: Option<&str>,
) -> Result<Vec<Edit>, String> {
    let mut out = Vec::new();
    if let Some(new) = image {
        let pos = field.image_pos.ok_or_else(|| {
            format!(
                "the image of {} container {} is an alias, anchor or block scalar",
                field.workload, field.container
            )
        })?;
        out.push(replace(pos, new, field.image_style));
    }
    if let Some(new) = policy {
        match (field.policy_pos, &field.policy) {
            (Some(pos), _) => out.push(replace(pos, new, field.policy_style)),
            (None, Some(_)) => {
                return Err(format!(
                    "the imagePullPolicy of {} container {} is an alias or block scalar",
                    field.workload, field.container
                ));
            }
            (None, None) => out.push(insert_policy(field, text, new)?),
        }
    }
    Ok(out)
}

/// A new `imagePullPolicy` next to the `image` key: a line below it with the same indentation
/// in block style, `, imagePullPolicy: X` after the value in flow style or JSON.
fn insert_policy(field: &ImageField, text: &str, policy: &str) -> Result<Edit, String> {
    let (Some(key), Some(value)) = (field.image_key, field.image_pos) else {
        return Err(format!(
            "cannot place an imagePullPolicy next to the image of {} container {}",
            field.workload, field.container
        ));
    };
    let line_start = text[..key.start].rfind('\n').map_or(0, |i| i + 1);
    let before_key = &text[line_start..key.start];
    let json_key = text[key.start..].starts_with('"');
    if json_key || before_key.contains('{') || before_key.contains(',') {
        let entry = if json_key {
            format!(", \"imagePullPolicy\": \"{policy}\"")
        } else {
            format!(", imagePullPolicy: {policy}")
        };
        return Ok(Edit {
            start: value.end,
            end: value.end,
            new: entry,
            line: value.line,
            column: value.column,
        });
    }
    let indent: String = before_key
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let eol = text[value.end..]
        .find('\n')
        .map_or(text.len(), |i| value.end + i);
    // Keep a CRLF file CRLF.
    let (at, newline) = if eol > 0 && text.as_bytes().get(eol - 1) == Some(&b'\r') {
        (eol - 1, "\r\n")
    } else {
        (eol, "\n")
    };
    Ok(Edit {
        start: at,
        end: at,
        new: format!("{newline}{indent}imagePullPolicy: {policy}"),
        line: value.line,
        column: value.column,
    })
}

/// `text` with `edits` applied (overlapping edits: the first wins).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in sorted {
        if e.start < at || e.end > text.len() {
            continue;
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.new);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

/// A unified diff (`--- a/PATH`, `+++ b/PATH`, three lines of context).
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}
