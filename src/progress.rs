//! Progress of long waits, on stderr so stdout stays clean for pipes and JSON.
//!
//! On a terminal: one spinner line redrawn in place (indicatif), cleared when the wait ends.
//! Otherwise (CI logs, redirected stderr): plain lines, each starting with the local time
//! (`14:03:07 listing nodes, pods and workloads of kind-dev…`), and only for waits that last
//! longer than [`PLAIN_AFTER`], so a quick command prints nothing extra.
//!
//! Three ways to use it: [`Progress::during`] around a wait with no limit of its own (saving
//! and loading an image); [`Progress::bounded`] around a wait that fails by itself within
//! seconds (connecting, the first lists, runtime listings) — off a terminal it prints one line
//! after a slow success and nothing on failure, so a failing command's stderr stays the one
//! sentence of its error; keyed lines with [`Progress::update`] while several things move at
//! once (rollouts).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
// tokio's clock, the one the waits' own timers run on (and that tests can pause).
use tokio::time::Instant;

/// A wait shorter than this shows nothing on a terminal (no flicker for quick answers).
pub const TERMINAL_AFTER: Duration = Duration::from_millis(300);
/// A wait shorter than this prints no plain line.
pub const PLAIN_AFTER: Duration = Duration::from_secs(2);

const TICK: Duration = Duration::from_millis(120);

/// Where the progress goes.
enum Mode {
    /// A spinner on the terminal's stderr.
    Terminal,
    /// Timestamped lines to a writer (stderr, or a buffer in tests).
    Plain(Mutex<Box<dyn Write + Send>>),
    /// Nothing.
    Hidden,
}

/// One progress reporter; cheap to create, one per command.
pub struct Progress {
    mode: Mode,
    plain_after: Duration,
    bar: Mutex<Option<ProgressBar>>,
    lines: Mutex<BTreeMap<String, String>>,
}

impl Progress {
    /// A spinner when stderr is a terminal (and `TERM` is not `dumb`), plain lines otherwise.
    pub fn stderr() -> Self {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !dumb {
            Self::with_mode(Mode::Terminal)
        } else {
            Self::plain(Box::new(std::io::stderr()))
        }
    }

    /// Plain timestamped lines to `sink`.
    pub fn plain(sink: Box<dyn Write + Send>) -> Self {
        Self::with_mode(Mode::Plain(Mutex::new(sink)))
    }

    /// No output at all.
    pub fn hidden() -> Self {
        Self::with_mode(Mode::Hidden)
    }

    /// Print plain lines for waits longer than `after` (instead of [`PLAIN_AFTER`]).
    pub fn plain_after(mut self, after: Duration) -> Self {
        self.plain_after = after;
        self
    }

    fn with_mode(mode: Mode) -> Self {
        Progress {
            mode,
            plain_after: PLAIN_AFTER,
            bar: Mutex::new(None),
            lines: Mutex::new(BTreeMap::new()),
        }
    }

    /// Run `fut`; when it takes long, say `message` (a spinner with the elapsed time on a
    /// terminal; a line at the start and one with the duration at the end otherwise).
    pub async fn during<F: Future>(&self, message: impl Into<String>, fut: F) -> F::Output {
        let message = message.into();
        let delay = match self.mode {
            Mode::Terminal => TERMINAL_AFTER,
            Mode::Plain(_) => self.plain_after,
            Mode::Hidden => return fut.await,
        };
        let started = Instant::now();
        let mut fut = std::pin::pin!(fut);
        tokio::select! {
            out = &mut fut => return out,
            () = tokio::time::sleep(delay) => {}
        }
        match &self.mode {
            Mode::Terminal => {
                let bar = spinner(&format!("{message}…"));
                let out = fut.await;
                bar.finish_and_clear();
                out
            }
            Mode::Plain(sink) => {
                plain_line(sink, &format!("{message}…"));
                let out = fut.await;
                let secs = started.elapsed().as_secs_f64();
                plain_line(sink, &format!("{message}: ended after {secs:.1} s"));
                out
            }
            Mode::Hidden => fut.await,
        }
    }

    /// Run `fut`, a wait bounded by its own timeout whose error the caller reports. On a
    /// terminal as [`Progress::during`]; otherwise one line after a success that took longer
    /// than the plain threshold, and nothing on failure.
    pub async fn bounded<T, E, F>(&self, message: impl Into<String>, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        match &self.mode {
            Mode::Terminal => self.during(message, fut).await,
            Mode::Hidden => fut.await,
            Mode::Plain(sink) => {
                let started = Instant::now();
                let out = fut.await;
                let took = started.elapsed();
                if out.is_ok() && took >= self.plain_after {
                    let message = message.into();
                    let secs = took.as_secs_f64();
                    plain_line(sink, &format!("{message}: done after {secs:.1} s"));
                }
                out
            }
        }
    }

    /// Record `message` for `key` (one line per key, shown together); plain mode prints it at
    /// once when it changed.
    pub fn update(&self, key: &str, message: &str) {
        // Messages quote cluster data (context, workload names): escaped for the terminal.
        let (key, message) = (
            &*crate::sanitize::term(key),
            &*crate::sanitize::term(message),
        );
        let text = {
            let mut lines = lock(&self.lines);
            if lines.get(key).map(String::as_str) == Some(message) {
                return;
            }
            lines.insert(key.to_string(), message.to_string());
            lines
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(" │ ")
        };
        match &self.mode {
            Mode::Terminal => {
                let mut bar = lock(&self.bar);
                match bar.as_ref() {
                    Some(b) => b.set_message(text),
                    None => *bar = Some(spinner(&text)),
                }
            }
            Mode::Plain(sink) => plain_line(sink, &format!("{key}: {message}")),
            Mode::Hidden => {}
        }
    }

    /// Redraw the spinner now (it also ticks by itself).
    pub fn tick(&self) {
        if let Some(b) = lock(&self.bar).as_ref() {
            b.tick();
        }
    }

    /// Clear the spinner line of [`Progress::update`].
    pub fn finish(&self) {
        if let Some(b) = lock(&self.bar).take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// What a wait for the API server's first answer is called.
pub fn connecting(context: Option<&str>) -> String {
    match context {
        Some(c) => format!("connecting to context {c}"),
        None => "connecting to the current kubeconfig context".to_string(),
    }
}

/// What the wait for the first complete lists is called.
pub fn listing(context: &str) -> String {
    format!("listing nodes, pods and workloads of {context}")
}

/// What the wait for the nodes' runtime image lists is called.
pub fn reading_images(nodes: usize, runtime: &str) -> String {
    let s = if nodes == 1 { "" } else { "s" };
    format!("reading the images of {nodes} node{s} through {runtime}")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    // The template is a constant; should it ever be refused, the default style still spins.
    if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg} {elapsed:.dim}") {
        bar.set_style(style.tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "));
    }
    bar.set_message(crate::sanitize::term(message).into_owned());
    bar.enable_steady_tick(TICK);
    bar
}

fn plain_line(sink: &Mutex<Box<dyn Write + Send>>, text: &str) {
    let now = jiff::Zoned::now().strftime("%H:%M:%S");
    let mut sink = lock(sink);
    // Progress is best effort: a closed stderr must not stop the work it describes.
    let _ = writeln!(sink, "{now} {}", crate::sanitize::term(text));
    let _ = sink.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A cloneable in-memory sink.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&lock(&self.0)).into_owned()
        }
    }

    fn is_timestamped(line: &str) -> bool {
        let b = line.as_bytes();
        b.len() > 9
            && b[..8].iter().enumerate().all(|(i, c)| {
                if i == 2 || i == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
            && b[8] == b' '
    }

    // Paused time: the waits last exactly what their timers say, however busy the machine.
    #[tokio::test(start_paused = true)]
    async fn a_quick_wait_prints_nothing_a_long_one_two_timestamped_lines() {
        let buf = Buf::default();
        let p = Progress::plain(Box::new(buf.clone())).plain_after(Duration::from_millis(50));
        assert_eq!(p.during("quick", async { 1 }).await, 1);
        assert_eq!(buf.text(), "");
        let slow = p
            .during("connecting to kind-dev", async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                2
            })
            .await;
        assert_eq!(slow, 2);
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines.iter().all(|l| is_timestamped(l)), "{text}");
        assert!(lines[0].ends_with("connecting to kind-dev…"), "{text}");
        assert!(
            lines[1].ends_with("connecting to kind-dev: ended after 0.2 s"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_bounded_wait_reports_a_slow_success_only() {
        let buf = Buf::default();
        let p = Progress::plain(Box::new(buf.clone())).plain_after(Duration::from_millis(50));
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(120)).await;
        };
        let failed: Result<(), &str> = p
            .bounded("connecting", async {
                slow().await;
                Err("unreachable")
            })
            .await;
        assert_eq!(failed, Err("unreachable"));
        assert_eq!(buf.text(), "", "a failure is the caller's one sentence");
        let quick: Result<u8, ()> = p.bounded("listing", async { Ok(1) }).await;
        assert_eq!(quick, Ok(1));
        assert_eq!(buf.text(), "");
        let ok: Result<u8, ()> = p
            .bounded("listing", async {
                slow().await;
                Ok(2)
            })
            .await;
        assert_eq!(ok, Ok(2));
        let text = buf.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            is_timestamped(&text) && text.trim_end().ends_with("listing: done after 0.1 s"),
            "{text}"
        );
    }

    #[test]
    fn keyed_updates_print_only_changes() {
        let buf = Buf::default();
        let p = Progress::plain(Box::new(buf.clone()));
        p.update("Deployment/default/gw", "0/1 ready");
        p.update("Deployment/default/gw", "0/1 ready");
        p.update("Deployment/default/gw", "1/1 ready");
        p.finish();
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[1].ends_with("Deployment/default/gw: 1/1 ready"),
            "{text}"
        );
        assert!(lines.iter().all(|l| is_timestamped(l)), "{text}");
    }

    #[tokio::test]
    async fn hidden_prints_nothing_and_still_runs_the_future() {
        let p = Progress::hidden();
        assert_eq!(p.during("x", async { 3 }).await, 3);
        p.update("k", "v");
        p.finish();
    }
}
