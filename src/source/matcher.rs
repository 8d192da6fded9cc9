//! One file's text → the lines that set or rewrite an asked-for image name. Pure.
//!
//! Image names are matched as whole references: the characters around a match may not be
//! reference characters, so `kubernaut/gateway:debug` is not found inside
//! `localhost/kubernaut/gateway:debug` (that line names the other image).

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::Why;

/// What to look for: the asked-for images, and the registry prefixes whose removal would
/// produce them.
#[derive(Debug, Clone)]
pub struct Needles {
    pub images: Vec<String>,
    pub prefixes: Vec<String>,
    /// Per image: the repository (`kubernaut/gateway`) and tag (`debug`), when it has a tag.
    split: Vec<Option<(String, String)>>,
    /// Prefilter over every literal a hit must contain.
    any: Option<AhoCorasick>,
    rewrites: Vec<Regex>,
}

/// One hit in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHit {
    /// Index into `Needles::images`, or `None` for a rewrite (see `prefix`).
    pub image: Option<usize>,
    /// Index into `Needles::prefixes` for a rewrite.
    pub prefix: Option<usize>,
    pub line: u64,
    pub column: u64,
    pub text: String,
    pub why: Why,
}

const REF_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-";
const MAX_TEXT: usize = 200;

impl Needles {
    pub fn new(images: Vec<String>, prefixes: Vec<String>) -> Self {
        let split = images.iter().map(|i| split_tag(i)).collect::<Vec<_>>();
        let mut literals: Vec<String> = images.clone();
        literals.extend(split.iter().flatten().map(|(r, _)| r.clone()));
        // A rewrite names the prefix without its slash in sed's `s/localhost\///` form.
        literals.extend(prefixes.iter().map(|p| p.trim_end_matches('/').to_string()));
        literals.retain(|l| !l.is_empty());
        let any = AhoCorasick::new(&literals).ok();
        let rewrites = prefixes.iter().filter_map(|p| rewrite_regex(p)).collect();
        Needles {
            images,
            prefixes,
            split,
            any,
            rewrites,
        }
    }

    /// Whether a file's bytes may hold a hit (most files do not; they are never decoded).
    pub fn might_match(&self, bytes: &[u8]) -> bool {
        self.any.as_ref().is_some_and(|a| a.is_match(bytes))
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty() && self.prefixes.is_empty()
    }
}

/// `repo:tag` → (`repo`, `tag`); `None` without a tag (or with a digest).
fn split_tag(image: &str) -> Option<(String, String)> {
    if image.contains('@') {
        return None;
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    let colon = image[slash..].rfind(':')? + slash;
    Some((image[..colon].to_string(), image[colon + 1..].to_string()))
}

/// The regex of code that strips or replaces prefix `p` in a string: Go's
/// `strings.TrimPrefix(x, "localhost/")` / `strings.Replace(…)`, Python's `.replace(…)` /
/// `removeprefix` / `re.sub`, Rust's `strip_prefix` / `trim_start_matches`, JavaScript's
/// `.replace(/^localhost\//, '')`, shell's `${IMAGE#localhost/}` / `${IMAGE/localhost\//}`,
/// sed's `s|localhost/||`, and make's `$(subst localhost/,,$(IMG))`.
fn rewrite_regex(p: &str) -> Option<Regex> {
    let body = p.trim_end_matches('/');
    if body.is_empty() {
        return None;
    }
    // The prefix, its slash optionally escaped (sed, regex literals), optionally anchored.
    let lit = format!(r"\^?{}\\?/", regex::escape(body));
    let calls = r"(?i:trimprefix|trimleft|trimstart|strip_prefix|trim_start_matches|removeprefix|lstrip|replace_all|replaceall|replace|re\.sub|gsub|sub)";
    let pattern = [
        format!(r#"{calls}\s*\(.*?[rR]?["'`/]{lit}"#),
        format!(r"\$\{{[A-Za-z_][A-Za-z0-9_]*(?:##?|//?){lit}"),
        format!(r#"\bsed\b.*\bs[|#,:@!/]{lit}"#),
        format!(r"\$\((?:pat)?subst\s+%?{lit}"),
    ]
    .join("|");
    Regex::new(&pattern).ok()
}

/// The kind of file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Yaml { values: bool, kustomization: bool },
    Code,
    Other,
}

fn file_kind(path: &str) -> FileKind {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "yaml" | "yml" | "json" => FileKind::Yaml {
            values: lower.starts_with("values"),
            kustomization: lower.starts_with("kustomization"),
        },
        "go" | "rs" | "py" | "sh" | "bash" | "zsh" | "js" | "mjs" | "cjs" | "ts" | "java"
        | "kt" | "rb" | "mk" | "tf" | "bzl" | "star" | "groovy" | "ps1" | "cs" | "swift"
        | "php" => FileKind::Code,
        _ if lower == "makefile"
            || lower == "justfile"
            || lower.starts_with("dockerfile")
            || lower.starts_with("containerfile")
            || lower.ends_with(".mk") =>
        {
            FileKind::Code
        }
        _ => FileKind::Other,
    }
}

/// Every hit in one file. `path` is only used to tell the kind of file.
pub fn match_file(path: &str, text: &str, needles: &Needles) -> Vec<LineHit> {
    let Some(any) = &needles.any else {
        return Vec::new();
    };
    if !any.is_match(text) {
        return Vec::new();
    }
    let kind = file_kind(path);
    let lines: Vec<&str> = text.lines().collect();
    let mut hits = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !any.is_match(line) {
            continue;
        }
        let lineno = i as u64 + 1;
        for (p, re) in needles.rewrites.iter().enumerate() {
            if let Some(m) = re.find(line) {
                hits.push(hit(None, Some(p), lineno, line, m.start(), Why::Rewrite));
            }
        }
        for (n, image) in needles.images.iter().enumerate() {
            if let Some(at) = find_whole(line, image, |_| false) {
                let why = classify_full(kind, line, at);
                hits.push(hit(Some(n), None, lineno, line, at, why));
                continue;
            }
            let Some((repo, tag)) = &needles.split[n] else {
                continue;
            };
            if let Some(why) = repo_hit(kind, &lines, i, repo, tag) {
                let at = find_whole(line, repo, |b| b == b':').unwrap_or(0);
                hits.push(hit(Some(n), None, lineno, line, at, why));
            }
        }
    }
    hits
}

fn hit(
    image: Option<usize>,
    prefix: Option<usize>,
    line: u64,
    text: &str,
    at: usize,
    why: Why,
) -> LineHit {
    let trimmed = text.trim();
    LineHit {
        image,
        prefix,
        line,
        column: text[..at].chars().count() as u64 + 1,
        text: printable(trimmed),
        why,
    }
}

/// A line fit for a terminal: control characters (an escape sequence in a file must not
/// reach the screen) become `?`, tabs spaces; at most 200 characters.
pub fn printable(line: &str) -> String {
    let mut out: String = line
        .chars()
        .take(MAX_TEXT)
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect();
    if line.chars().count() > MAX_TEXT {
        out.push('…');
    }
    out
}

/// The byte offset of the first occurrence of `needle` in `line` that is a whole reference
/// (no reference character before it; none after it unless `after_ok` accepts it).
fn find_whole(line: &str, needle: &str, after_ok: impl Fn(u8) -> bool) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(rel) = line.get(from..)?.find(needle) {
        let at = from + rel;
        let end = at + needle.len();
        let before_ok = at == 0 || !REF_CHARS.contains(&bytes[at - 1]);
        let after = bytes.get(end).copied();
        let after_fine = after.is_none_or(|b| !REF_CHARS.contains(&b) || after_ok(b));
        if before_ok && after_fine {
            return Some(at);
        }
        from = at + 1;
        while !line.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

/// `image: NAME` (also `- image: NAME`, `"image": "NAME"`).
fn is_image_key(line: &str, at: usize) -> bool {
    let before = line[..at].trim_end().trim_end_matches(['"', '\'']);
    let before = before.trim_end();
    let Some(key) = before.strip_suffix(':') else {
        return false;
    };
    let key = key.trim_end().trim_end_matches(['"', '\'']);
    key.ends_with("image") || key.ends_with("Image")
}

fn in_quotes(line: &str, at: usize) -> bool {
    let before = &line[..at];
    ['"', '\'', '`']
        .iter()
        .any(|q| before.matches(*q).count() % 2 == 1)
}

fn classify_full(kind: FileKind, line: &str, at: usize) -> Why {
    match kind {
        FileKind::Yaml {
            kustomization: true,
            ..
        } => Why::Kustomize,
        FileKind::Yaml { values: true, .. } => Why::HelmValues,
        FileKind::Yaml { .. } if is_image_key(line, at) => Why::ManifestField,
        FileKind::Code if in_quotes(line, at) => Why::CodeLiteral,
        _ => Why::Mention,
    }
}

/// The value of a `key: value` line, unquoted, when the key is `key`.
fn value_of<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let t = t.trim_start_matches(['"', '\'']);
    let rest = t.strip_prefix(key)?;
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let v = rest.strip_prefix(':')?.trim();
    let v = v
        .split(" #")
        .next()
        .unwrap_or(v)
        .trim()
        .trim_end_matches(',');
    Some(v.trim_matches(['"', '\'']))
}

/// The repository alone on this line, with the tag set next to it: Helm's
/// `repository:` + `tag:`, kustomize's `name:`/`newName:` + `newTag:`, or a code literal that
/// goes on with `:` (`"kubernaut/gateway:" + tag`).
fn repo_hit(kind: FileKind, lines: &[&str], i: usize, repo: &str, tag: &str) -> Option<Why> {
    let line = lines[i];
    match kind {
        FileKind::Yaml { kustomization, .. } => {
            let near = |key: &str| {
                let lo = i.saturating_sub(4);
                let hi = (i + 5).min(lines.len());
                lines[lo..hi].iter().any(|l| value_of(l, key) == Some(tag))
            };
            if kustomization
                && (value_of(line, "name") == Some(repo) || value_of(line, "newName") == Some(repo))
            {
                return Some(Why::Kustomize);
            }
            if value_of(line, "repository") == Some(repo) && near("tag") {
                return Some(Why::HelmValues);
            }
            if (value_of(line, "name") == Some(repo) || value_of(line, "newName") == Some(repo))
                && near("newTag")
            {
                return Some(Why::Kustomize);
            }
            None
        }
        FileKind::Code => {
            let at = find_whole(line, repo, |b| b == b':')?;
            let bytes = line.as_bytes();
            let end = at + repo.len();
            // `"repo:"` (the tag is appended) or `"repo"`; not `"repo:othertag"`.
            let open_tag = bytes.get(end) == Some(&b':')
                && bytes.get(end + 1).is_none_or(|b| !REF_CHARS.contains(b));
            let closed = matches!(bytes.get(end), Some(b'"' | b'\'' | b'`'));
            (in_quotes(line, at) && (open_tag || closed)).then_some(Why::CodeLiteral)
        }
        FileKind::Other => None,
    }
}
