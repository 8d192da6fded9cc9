//! Size bounds on every untrusted read (docs/security.md lists them and why each is generous).
//!
//! A server, a bundle, a scenario file or a runtime's CLI that sends without end must cost a
//! bounded amount of memory and end in one sentence, never in the machine swapping.
//!
//! The bounds and the plain readers live here; the bounded child output and the HTTP client
//! layer (tokio, tower) live in the `kindscope` crate's `limits` module, which re-exports these.

use std::io::Read;
use std::path::Path;

/// One API response that is not a watch: a list page (kindscope lists in pages of 1,000
/// objects; 1,000 real pods are 3–20 MiB), `/version`, a patch answer. The feed lists five
/// resources at once, so a server that never ends its bodies costs at most five of these.
pub const API_RESPONSE_MAX: usize = 128 << 20;
/// One line (one event) of a watch stream: a single object, which etcd caps at 1.5 MiB.
pub const WATCH_EVENT_MAX: usize = 16 << 20;
/// A bundle file as stored (gzip or plain).
pub const BUNDLE_FILE_MAX: usize = 512 << 20;
/// A bundle's JSON after decompression, at most (a 300,000-pod bundle is about 1.2 GB: a pod
/// is ~3.7 KB of bundle JSON, measured on the sim's synthetic cluster).
pub const BUNDLE_JSON_MAX: usize = 4 << 30;
/// …and at most this many times its compressed size (bundles compress about 20:1; a gzip
/// bomb of zeros about 1,000:1), but never less than [`BUNDLE_JSON_FLOOR`].
pub const BUNDLE_RATIO_MAX: usize = 200;
pub const BUNDLE_JSON_FLOOR: usize = 64 << 20;

/// How far a compressed bundle of `compressed` bytes may expand.
pub fn bundle_json_cap(compressed: usize) -> usize {
    compressed
        .saturating_mul(BUNDLE_RATIO_MAX)
        .clamp(BUNDLE_JSON_FLOOR, BUNDLE_JSON_MAX)
}

/// `2.1 MB`-style size for sentences.
pub fn human_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// A reader that fails once more than `cap` bytes went through, and remembers that it did.
pub struct Capped<R> {
    inner: R,
    left: usize,
    exceeded: bool,
}

impl<R> Capped<R> {
    pub fn new(inner: R, cap: usize) -> Self {
        Capped {
            inner,
            left: cap,
            exceeded: false,
        }
    }
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > self.left {
            self.exceeded = true;
            return Err(std::io::Error::other("the input passed its size bound"));
        }
        self.left -= n;
        Ok(n)
    }
}
/// A scenario file.
pub const SCENARIO_FILE_MAX: usize = 64 << 20;
/// Standard output (and, separately, standard error) of one runtime or kind command.
pub const COMMAND_OUTPUT_MAX: usize = 128 << 20;

/// `256 MiB`, `1 GiB`.
pub fn human(bytes: usize) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// Read at most `limit` bytes from `reader`; `Err` continues a sentence naming the input
/// ("… is larger than 64 MiB, kindscope's bound for …").
pub fn read_bounded(reader: impl Read, limit: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() > limit {
        return Err(format!(
            "is larger than {}, kindscope's bound for {what}",
            human(limit)
        ));
    }
    Ok(out)
}

/// A file, at most `limit` bytes.
pub fn read_file(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // A regular file says its size: refuse before reading a byte of it.
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > limit as u64)
    {
        return Err(format!(
            "is larger than {}, kindscope's bound for {what}",
            human(limit)
        ));
    }
    read_bounded(file, limit, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bounded_refuses_one_byte_past_the_limit() {
        assert_eq!(read_bounded(&b"abcd"[..], 4, "x"), Ok(b"abcd".to_vec()));
        let err = read_bounded(&b"abcde"[..], 4, "a test").expect_err("too large");
        assert!(err.contains("a test"), "{err}");
    }
}
