//! Colour conventions shared by the CLI and the dashboard: `--color auto|always|never`;
//! under `auto`, `NO_COLOR` (non-empty) turns colour off, `CLICOLOR_FORCE` turns it on, and
//! otherwise colour needs a terminal that is not `TERM=dumb` (rules of anstream, which follows
//! <https://no-color.org> and <https://bixense.com/clicolors/>).

use anstream::{AutoStream, ColorChoice};

use crate::cli::ColorWhen;

/// Record the `--color` choice for the whole process (read by [`stdout`] and [`stderr`]).
pub fn set_choice(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether what goes to standard output may be coloured.
pub fn stdout() -> bool {
    AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// Whether what goes to standard error may be coloured.
pub fn stderr() -> bool {
    AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// `text` wrapped in `style` and a reset when `on`, else `text` itself.
pub fn paint(on: bool, style: anstyle::Style, text: &str) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anstyle::AnsiColor;

    #[test]
    fn paint_resets_after_the_text_and_plain_is_untouched() {
        let red = anstyle::Style::new().fg_color(Some(AnsiColor::Red.into()));
        assert_eq!(paint(true, red, "x"), "\x1b[31mx\x1b[0m");
        assert_eq!(paint(false, red, "x"), "x");
    }
}
