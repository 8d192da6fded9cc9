//! The IO edge of the source search: walk a directory tree in parallel (respecting
//! `.gitignore`, `.ignore` and git's exclude files, as ripgrep does, through its `ignore`
//! crate), read each text file once, match it, and stop at the time budget.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ignore::{WalkBuilder, WalkState};

use super::matcher::{Needles, match_file};
use super::{Source, Why};

/// Limits of one search.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop walking after this long and say the result may be incomplete.
    pub time: Duration,
    /// Files larger than this are skipped (generated bundles, vendored blobs).
    pub max_file_bytes: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// At most this many sources are kept per image.
    pub max_per_image: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            time: Duration::from_secs(5),
            max_file_bytes: 2 * 1024 * 1024,
            threads: 0,
            max_per_image: 12,
        }
    }
}

/// What a search found, per asked-for image and per prefix rewrite.
#[derive(Debug, Clone, Default)]
pub struct SearchOutcome {
    /// `per_image[i]`: sources of `needles.images[i]`, strongest first.
    pub per_image: Vec<Vec<Source>>,
    /// `per_prefix[p]`: code that rewrites `needles.prefixes[p]`.
    pub per_prefix: Vec<Vec<Source>>,
    pub files: u64,
    pub bytes: u64,
    /// The walk ended before the budget: every file was looked at.
    pub complete: bool,
    /// One sentence when the search was cut short or something could not be read.
    pub note: Option<String>,
}

/// The git work tree the process runs in: the nearest ancestor of the current directory that
/// holds `.git` (a directory, or a file in a linked worktree).
pub fn default_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Search `root` for `needles` within `budget`.
pub fn search(root: &Path, needles: &Needles, budget: Budget) -> SearchOutcome {
    let mut out = SearchOutcome {
        per_image: vec![Vec::new(); needles.images.len()],
        per_prefix: vec![Vec::new(); needles.prefixes.len()],
        ..SearchOutcome::default()
    };
    if needles.is_empty() {
        out.complete = true;
        return out;
    }
    let started = Instant::now();
    let cut = AtomicBool::new(false);
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel::<(Option<usize>, Option<usize>, Source)>();
    let threads = if budget.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        budget.threads
    };
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .threads(threads)
        .build_parallel();
    walker.run(|| {
        let tx = tx.clone();
        let (cut, files, bytes) = (&cut, &files, &bytes);
        // One read buffer per worker thread, reused for every file.
        let mut buf: Vec<u8> = Vec::new();
        Box::new(move |entry| {
            if started.elapsed() > budget.time {
                cut.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            }
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            if !read_text(path, budget.max_file_bytes, &mut buf) {
                return WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            if !needles.might_match(&buf) {
                return WalkState::Continue;
            }
            let text = String::from_utf8_lossy(&buf);
            let rel = relative(root, path);
            for h in match_file(&rel, &text, needles) {
                let src = Source {
                    path: rel.clone(),
                    line: h.line,
                    column: h.column,
                    text: h.text,
                    why: h.why.phrase().to_string(),
                };
                if tx.send((h.image, h.prefix, src)).is_err() {
                    return WalkState::Quit;
                }
            }
            WalkState::Continue
        })
    });
    drop(tx);
    for (image, prefix, src) in rx {
        if let Some(i) = image
            && let Some(v) = out.per_image.get_mut(i)
        {
            v.push(src);
        } else if let Some(p) = prefix
            && let Some(v) = out.per_prefix.get_mut(p)
        {
            v.push(src);
        }
    }
    for v in out.per_image.iter_mut().chain(out.per_prefix.iter_mut()) {
        v.sort_by(|a, b| {
            (rank(&a.why), &a.path, a.line, a.column).cmp(&(
                rank(&b.why),
                &b.path,
                b.line,
                b.column,
            ))
        });
        v.dedup_by(|a, b| a.path == b.path && a.line == b.line);
        v.truncate(budget.max_per_image);
    }
    out.files = files.load(Ordering::Relaxed);
    out.bytes = bytes.load(Ordering::Relaxed);
    out.complete = !cut.load(Ordering::Relaxed);
    if !out.complete {
        out.note = Some(format!(
            "the source search of {} stopped after {} s with {} files read; sources may be missing",
            root.display(),
            budget.time.as_secs_f32(),
            out.files
        ));
    }
    out
}

fn rank(why: &str) -> u8 {
    [
        Why::Rewrite,
        Why::ManifestField,
        Why::Kustomize,
        Why::HelmValues,
        Why::CodeLiteral,
        Why::Mention,
    ]
    .iter()
    .position(|w| w.phrase() == why)
    .map_or(u8::MAX, |p| p as u8)
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Read the file into `buf`; false for a file too large, unreadable, or binary (a NUL byte in
/// its first 8 KiB, as git and ripgrep decide).
fn read_text(path: &Path, max: u64, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    match f.metadata() {
        Ok(m) if m.len() <= max => {}
        _ => return false,
    }
    if f.by_ref().take(max).read_to_end(buf).is_err() {
        return false;
    }
    !buf[..buf.len().min(8192)].contains(&0)
}
