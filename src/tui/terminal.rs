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

/// Log records wait in tui-logger's hot buffer until the next frame moves them into the
/// pane's history ([`move_log_records`]); this many fit between two frames before the oldest
/// are counted as lost.
const LOG_RECORDS_BETWEEN_FRAMES: usize = 10_000;

/// Route kindscope's tracing to the log pane (`KINDSCOPE_LOG` is an EnvFilter, default `info`).
///
/// Not `tui_logger::init_logger`: that starts a thread which wakes every 10 ms for ever to
/// move new records, 100 wake-ups a second on an idle dashboard (the largest share of its
/// idle CPU, profiled: docs/performance.md). The event loop moves them before each frame
/// instead, which is when the pane can show them.
pub fn init_logging() {
    tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
    tui_logger::set_hot_buffer_depth(LOG_RECORDS_BETWEEN_FRAMES);
    let filter =
        EnvFilter::try_from_env("KINDSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tui_logger::TuiTracingSubscriberLayer)
        .try_init();
}

/// Move the records logged since the last frame into the log pane's history (cheap when
/// there are none).
pub fn move_log_records() {
    tui_logger::move_events();
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// Threads of this process by name (`/proc/self/task/*/comm`, cut to 15 bytes).
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .expect("proc")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|n| n.trim().to_string())
            .collect()
    }

    #[test]
    fn logging_starts_no_thread_that_polls_and_records_reach_the_pane_at_the_next_frame() {
        super::init_logging();
        assert!(
            !thread_names().iter().any(|n| n.starts_with("tui-logger")),
            "{:?}",
            thread_names()
        );
        let pane = || {
            let mut term =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 6)).expect("term");
            term.draw(|f| f.render_widget(tui_logger::TuiLoggerWidget::default(), f.area()))
                .expect("draw");
            let buffer = term.backend().buffer().clone();
            buffer
                .content()
                .iter()
                .map(|c| c.symbol())
                .collect::<String>()
        };
        tracing::info!(target: "kindscope", "a record for the pane");
        assert!(!pane().contains("a record for the pane"), "not moved yet");
        super::move_log_records();
        assert!(pane().contains("a record for the pane"), "{}", pane());
    }
}
