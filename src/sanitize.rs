//! Making hostile text safe for a terminal (docs/security.md).
//!
//! Anyone who may create an Event, set an image, a name, a label or an annotation in a cluster,
//! or write a bundle or a scenario file, chooses text kindscope prints. Printed raw, an escape
//! sequence in it can clear the screen, forge lines, set the window title or write the
//! clipboard (OSC 52) — the class kubectl was hardened against for CVE-2021-25743
//! (kubernetes/kubernetes#112553, `cli-runtime/pkg/printers/terminal.go`, which replaces ESC by
//! `^[` and CR by `\r`). kindscope goes further: every C0 and C1 control, DEL, and the bidi
//! overrides and isolates (U+202A–202E, U+2066–2069, plus the marks U+200E, U+200F, U+061C) are
//! shown as visible escapes.
//!
//! Two layers: [`term`] escapes one value of outside data (newlines included, so a value cannot
//! forge an output line); [`output`] is applied to a whole text right before it is written and
//! lets through only newlines, tabs and, on a colour terminal, kindscope's own SGR colour codes.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw as part of a value.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi(c)
}

/// Bidi controls that reorder what follows them (Trojan Source, CVE-2021-42574).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// One value of outside data, terminal-safe: unsafe characters become visible escapes
/// (`\x1b`, `\n`, `\u{202e}`). Borrowed when there is nothing to escape.
pub fn term(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A whole text about to be written: newlines and tabs stay, kindscope's own colour codes stay
/// when `colour` is on, every other unsafe character is escaped. The last line of defence for a
/// value a renderer did not pass through [`term`].
pub fn output(s: &str, colour: bool) -> Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t' || !is_unsafe(c);
    if s.chars().all(keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if colour && c == '\x1b' {
            let len = sgr_len(rest);
            if len > 0 {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if keep(c) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Length of a colour code `ESC [ digits(;digits)* m` at the start of `s` (up to 16 bytes), or 0.
fn sgr_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.len() < 3 || b[0] != 0x1b || b[1] != b'[' {
        return 0;
    }
    for (i, &c) in b.iter().enumerate().skip(2).take(14) {
        match c {
            b'0'..=b'9' | b';' => {}
            b'm' => return i + 1,
            _ => return 0,
        }
    }
    0
}

/// JSON text (serde_json escapes C0 controls, `"` and `\`) with DEL, C1 controls and bidi
/// controls escaped as `\uXXXX` too: the parsed value is unchanged, and `jq`-less reading of
/// `--json` output on a terminal is safe. Outside strings JSON is ASCII, so every such
/// character is inside a string, where `\uXXXX` is valid.
pub fn json(s: String) -> String {
    // Raw C0 characters in serde's output are its own whitespace (inside strings it escaped
    // them); DEL, C1 and bidi controls are the ones left to escape.
    let escape = |c: char| c >= '\x7f' && is_unsafe(c);
    if !s.chars().any(escape) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\u{9b}31m\u{202e}txt\u{2066}\0\x7f\r\nz";

    #[test]
    fn term_escapes_every_control_visibly() {
        let t = term(HOSTILE);
        assert!(!t.chars().any(is_unsafe), "{t}");
        assert_eq!(
            t,
            "a\\x1b]52;c;ZXZpbA==\\x07b\\x1b[2J\\x9b31m\\u{202e}txt\\u{2066}\\x00\\x7f\\r\\nz"
        );
        assert!(matches!(
            term("kubernaut/gateway:debug ✓ ü"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn output_keeps_lines_and_own_colours_only() {
        let text = format!("\x1b[31mred\x1b[0m\n{HOSTILE}\t\n");
        let coloured = output(&text, true);
        assert!(coloured.starts_with("\x1b[31mred\x1b[0m\n"), "{coloured}");
        // The planted CSI is not a colour code and is escaped; the planted OSC too.
        assert!(coloured.contains("\\x1b]52"), "{coloured}");
        assert!(coloured.contains("\\x1b[2J"), "{coloured}");
        assert!(!coloured.contains('\u{9b}') && !coloured.contains('\u{202e}'));
        let plain = output(&text, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        // Newlines stay (HOSTILE has one of its own); the CR before it does not.
        assert_eq!(plain.matches('\n').count(), 3, "{plain}");
        assert!(plain.contains("\\r\n"), "{plain}");
    }

    #[test]
    fn json_stays_valid_and_equal() {
        let v = serde_json::json!({"m": HOSTILE});
        let raw = serde_json::to_string_pretty(&v).expect("encode");
        let safe = json(raw);
        assert!(!safe.chars().any(|c| c != '\n' && is_unsafe(c)), "{safe}");
        assert!(safe.contains('\n'), "pretty JSON keeps its lines");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, v);
    }
}
