//! Shared harness of the hostile tests: a sim from a scenario text, the binary against it.

use std::path::Path;
use std::process::Output;

pub use crate::support::cli::isolated;
use crate::support::cli::output;
pub use crate::support::sim::TestSim as Sim;
pub use crate::support::text;
use kindscope::sim::SimOptions;

/// The sim running `scenario` (YAML text) at speed 20.
pub async fn start_sim(scenario: &str) -> Sim {
    let scenario = kindscope::sim::scenario::parse(scenario, "test").expect("scenario parses");
    let opts = SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    };
    Sim::start(&scenario, opts).await
}

/// The binary with `args`, its journal and config under `dir`, run to its end.
pub async fn kindscope(args: &[&str], dir: &Path) -> Output {
    output(isolated(args, dir)).await
}

/// The first character a terminal would act on (any control but newline and tab, bidi
/// controls), with its offset, or None.
pub fn first_unsafe(output: &[u8]) -> Option<(usize, char)> {
    String::from_utf8_lossy(output)
        .char_indices()
        .find(|&(_, c)| c != '\n' && c != '\t' && kindscope::sanitize::is_unsafe(c))
}

/// Assert that neither stream of `out` carries a raw control or bidi character.
pub fn assert_terminal_safe(what: &str, out: &Output) {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some((at, c)) = first_unsafe(bytes) {
            let s = text(bytes);
            let around: String = s[at..].chars().take(80).collect();
            panic!("{what}: {name} carries {c:?} at byte {at}: {around:?}");
        }
    }
}

/// Exactly one line on stderr, starting `kindscope: `.
pub fn one_sentence(out: &Output) -> String {
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one sentence expected on stderr:\n{err}");
    assert!(lines[0].starts_with("kindscope: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

/// The closing sentence on stderr (`kindscope: …`), after any warnings the retrying watch
/// logged on the way; no panic.
pub fn last_sentence(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(last.starts_with("kindscope: "), "{err}");
    last.to_string()
}
