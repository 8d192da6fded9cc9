//! Terminal set-up and teardown, and tracing into the log pane.
//!
//! The terminal must come back on every exit path: `q`, Ctrl-C, SIGTERM, errors and panics.

use std::io::{self, Write};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::DefaultTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Route kindscope's tracing to the log pane (`KINDSCOPE_LOG` is an EnvFilter, default `info`).
pub fn init_logging() {
    // Fails only when called twice (e.g. demo after attach in one process): keep the first.
    let _ = tui_logger::init_logger(tui_logger::LevelFilter::Trace);
    let filter =
        EnvFilter::try_from_env("KINDSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tui_logger::TuiTracingSubscriberLayer)
        .try_init();
}

/// Raw mode, alternate screen, mouse capture. Our panic hook goes in first so that ratatui's
/// hook (which restores the screen) runs before it and then hands over to it.
pub fn init() -> io::Result<DefaultTerminal> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        let _ = io::stdout().flush();
        previous(info);
    }));
    let terminal = ratatui::try_init()?;
    if let Err(e) = execute!(io::stdout(), EnableMouseCapture) {
        restore();
        return Err(e);
    }
    Ok(terminal)
}

/// Undo `init`. Safe to call more than once.
pub fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
}
