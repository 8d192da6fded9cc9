//! Copying to the terminal's clipboard with OSC 52 (`ESC ] 52 ; c ; BASE64 BEL`), which works
//! over ssh as well. Terminals may refuse it, or cap its size; tmux passes it on only with
//! `set-clipboard` on. The status line says so whenever something is copied.

use std::io::Write;

use base64::Engine;

/// The longest text copied. Well under what terminals accept (xterm's default limit for an OSC
/// string is far larger); a fix command is a few hundred bytes.
pub const MAX_COPY_BYTES: usize = 8 * 1024;

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\u{1b}]52;c;{b64}\u{7}")
}

/// Write the sequence to the terminal (stdout, which the dashboard draws on).
pub fn to_terminal(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_between_the_markers() {
        assert_eq!(osc52("hi"), "\u{1b}]52;c;aGk=\u{7}");
        // Whatever the text holds, the sequence holds only base64: it cannot end early.
        let s = osc52("a\u{7}\u{1b}\\b");
        assert!(!s[1..s.len() - 1].contains(['\u{7}', '\u{1b}']), "{s:?}");
    }
}
