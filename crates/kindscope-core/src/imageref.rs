//! Image references parsed and normalised exactly as Docker's distribution/reference
//! `ParseNormalizedNamed` does (v0.6, which the kubelet and containerd use), so that kindscope
//! compares names the way the node does.
//!
//! `nginx` → `docker.io/library/nginx`; `org/app:t` → `docker.io/org/app:t`;
//! `index.docker.io/x/y` → `docker.io/x/y`; `localhost/app`, `host:port/app`, `[::1]:5000/app`
//! and `Upper/app` (an uppercase first component is a domain) keep their domain.
//!
//! Why not `oci_spec::distribution::Reference`: it adds `:latest` to untagged references (so
//! `nginx` and `nginx:latest` cannot be told apart), has no IPv6 hosts, treats `Foo/bar` as a
//! Docker Hub path, accepts 64-hex names and uppercase digests, and never reports the
//! "must be lowercase" error. It is used in the tests as an independent oracle where the two
//! grammars agree. Rules and examples: docs/findings.md.

use std::fmt;
use std::str::FromStr;

pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The tag the kubelet and containerd assume when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const LOCALHOST: &str = "localhost";
/// Docker's limit on the repository path (v0.6 checks the path, not domain + path).
pub const PATH_MAX: usize = 255;
/// `[\w][\w.-]{0,127}`
const TAG_MAX: usize = 128;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io`, `localhost`, `registry:5000`, `[::1]:5000`).
    /// Empty only in Docker's corner case of a first component that has a dot but is not a valid
    /// host (`foo_bar.com/x`): Docker then keeps the whole name as the path.
    pub domain: String,
    /// Repository path (`library/nginx`, `kubernaut/gateway`).
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`
    pub digest: Option<String>,
}

/// Why a reference does not parse; the message is Docker's, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefError(pub String);

impl ImageRef {
    /// Parse like `reference.ParseNormalizedNamed`.
    pub fn parse(input: &str) -> Result<ImageRef, RefError> {
        parse_normalized(input)
    }

    /// `domain/path` (no tag, no digest).
    pub fn repository(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// Full normalised form, without adding `:latest` (`docker.io/library/nginx`).
    pub fn full(&self) -> String {
        with_suffixes(
            self.repository(),
            self.tag.as_deref(),
            self.digest.as_deref(),
        )
    }

    /// The short form `docker` prints (`nginx`, `org/app:t`, `localhost/app:t`).
    pub fn familiar(&self) -> String {
        with_suffixes(
            self.familiar_name(),
            self.tag.as_deref(),
            self.digest.as_deref(),
        )
    }

    /// Familiar repository name without tag or digest.
    ///
    /// Unlike Docker's `FamiliarString`, keeps `docker.io/` when the short form would read as
    /// another repository: `docker.io/ghcr.io/org/app` is a Docker Hub repository, while
    /// `ghcr.io/org/app` is not; nor is `docker.io/lym/x` the same as
    /// `docker.io/docker.io/lym/x` (found by fuzzing, docs/fuzzing.md).
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            // The shortest form that reads back as this repository (`nginx`, else
            // `library/<64 hex>`, which alone would be refused as an image ID).
            for short in [self.familiar_path(), self.path.as_str()] {
                let (domain, path) = split_docker_domain(short);
                if domain == DEFAULT_DOMAIN && path == self.path && !is_identifier(short) {
                    return short.to_string();
                }
            }
        }
        self.repository()
    }

    /// The path as Docker Hub's familiar form shows it (`library/nginx` → `nginx`); other
    /// domains keep their path. Two references with the same familiar path and tag under
    /// different domains are what a `localhost/` prefix mismatch looks like.
    pub fn familiar_path(&self) -> &str {
        if self.domain == DEFAULT_DOMAIN
            && let Some(rest) = self.path.strip_prefix(OFFICIAL_REPO_PREFIX)
            && !rest.contains('/')
        {
            return rest;
        }
        &self.path
    }

    /// What the kubelet asks the runtime for: `:latest` added when neither tag nor digest is given.
    pub fn kubelet_form(&self) -> String {
        if self.tag.is_none() && self.digest.is_none() {
            format!("{}:{DEFAULT_TAG}", self.repository())
        } else {
            self.full()
        }
    }

    /// The name the runtime looks the image up by (`ParseDockerRef`): the digest wins over a
    /// tag (`repo@sha256:…`), else `repo:tag` with `latest` as the default tag.
    pub fn lookup_name(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => format!("{}@{d}", self.repository()),
            (Some(t), None) => format!("{}:{t}", self.repository()),
            (None, None) => format!("{}:{DEFAULT_TAG}", self.repository()),
        }
    }

    /// The key a name *listed* by the runtime is found under: its normalised full form, tag and
    /// digest both kept, exactly as the CRI lists it. containerd's image store matches the
    /// kubelet's request ([`ImageRef::lookup_name`]) against the names it holds character for
    /// character, so a listed `repo:tag@sha256:…` answers no request at all: a request with a
    /// tag and a digest is looked up as `repo@sha256:…`. Sources: docs/findings.md, "Facts
    /// about real Kind nodes".
    pub fn held_key(&self) -> String {
        self.full()
    }

    /// Would the runtime resolve a request for `self` to the listed name `held`?
    pub fn resolved_by(&self, held: &ImageRef) -> bool {
        self.lookup_name() == held.held_key()
    }

    /// The tag the kubelet uses (`latest` when none and no digest).
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// True when the apiserver would default `imagePullPolicy` to `Always`: the tag is
    /// `latest` (even with a digest), or there is neither tag nor digest.
    pub fn defaults_to_always(&self) -> bool {
        match (&self.tag, &self.digest) {
            (Some(t), _) => t == DEFAULT_TAG,
            (None, d) => d.is_none(),
        }
    }

    /// True for `localhost/…` (no port): on a Kind node that is the node itself, which runs no
    /// registry, so such an image can only come from `kind load`, never from a pull.
    pub fn is_local_only(&self) -> bool {
        self.domain == LOCALHOST
    }
}

/// True for names ctr gives imports it cannot name otherwise, and that `kind load` (ctr
/// `images import --digests`) adds beside every real name: last path component
/// `import-YYYY-MM-DD` (`docker.io/library/import-2025-01-02@sha256:…`, `import-2025-01-02:debug`).
pub fn is_import_name(name: &str) -> bool {
    let repo = name.split('@').next().unwrap_or(name);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let last = match last.split_once(':') {
        Some((n, _tag)) => n,
        None => last,
    };
    let Some(date) = last.strip_prefix("import-") else {
        return false;
    };
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

impl FromStr for ImageRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

fn with_suffixes(mut s: String, tag: Option<&str>, digest: Option<&str>) -> String {
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(d);
    }
    s
}

/// An input as an error message quotes it: whole when short (Docker's wording), else its
/// ends and length, so a megabyte of garbage does not become a megabyte of error.
fn shown(s: &str) -> String {
    const MAX: usize = 120;
    let n = s.chars().count();
    if n <= MAX {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX / 2).collect();
    let tail: String = s.chars().skip(n - 20).collect();
    format!("{head}…{tail}, {n} characters")
}

fn err(msg: impl Into<String>) -> RefError {
    RefError(msg.into())
}

const INVALID_FORMAT: &str = "invalid reference format";

/// `ParseNormalizedNamed`: reject 64-hex identifiers, split off the domain the Docker way,
/// insist on a lowercase remote name, then parse `domain/remainder` with the plain grammar.
fn parse_normalized(s: &str) -> Result<ImageRef, RefError> {
    if is_identifier(s) {
        return Err(err(format!(
            "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )));
    }
    let (domain, remainder) = split_docker_domain(s);
    // Docker cuts at the first ':' of the remainder, even when it belongs to a digest.
    let remote = remainder.split(':').next().unwrap_or("");
    if remote.to_lowercase() != remote {
        return Err(err(format!(
            "invalid reference format: repository name ({}) must be lowercase",
            shown(remote)
        )));
    }
    parse_plain(&format!("{domain}/{remainder}"))
}

/// `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, remote) = match name.split_once('/') {
        // A single component is always a Docker Hub official image, even `localhost`.
        None => {
            return (
                DEFAULT_DOMAIN.into(),
                format!("{OFFICIAL_REPO_PREFIX}{name}"),
            );
        }
        Some((first, rest)) => {
            if first == LOCALHOST || first.contains(['.', ':']) || first.to_lowercase() != first {
                let d = if first == LEGACY_DEFAULT_DOMAIN {
                    DEFAULT_DOMAIN
                } else {
                    first
                };
                (d.to_string(), rest.to_string())
            } else {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            }
        }
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote)
}

/// Docker's `Parse` (no normalisation): the anchored `ReferenceRegexp`, then the length check
/// and go-digest's validation, with Docker's error precedence.
fn parse_plain(s: &str) -> Result<ImageRef, RefError> {
    if s.is_empty() {
        return Err(err("repository name must have at least one component"));
    }
    let Some(m) = match_reference(s) else {
        let lower = s.to_lowercase();
        if lower != s && match_reference(&lower).is_some() {
            return Err(err("repository name must be lowercase"));
        }
        return Err(err(INVALID_FORMAT));
    };
    if m.path.len() > PATH_MAX {
        return Err(err(format!(
            "repository name must not be more than {PATH_MAX} characters"
        )));
    }
    if let Some(d) = m.digest {
        validate_digest(d)?;
    }
    Ok(ImageRef {
        domain: m.domain.to_string(),
        path: m.path.to_string(),
        tag: m.tag.map(str::to_string),
        digest: m.digest.map(str::to_string),
    })
}

struct Match<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// `^(name)(?::(tag))?(?:@(digest))?$` without a regex engine. The split points are forced:
/// names, tags and digests never contain '@'; tags never contain '/' or ':'; a name has a ':'
/// only in the domain's port, which is always followed by a '/'.
fn match_reference(s: &str) -> Option<Match<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => {
            if !matches_digest_pattern(d) {
                return None;
            }
            (r, Some(d))
        }
        None => (s, None),
    };
    let last_start = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_start..].find(':') {
        Some(i) => {
            let (n, t) = (&rest[..last_start + i], &rest[last_start + i + 1..]);
            if !valid_tag(t) {
                return None;
            }
            (n, Some(t))
        }
        None => (rest, None),
    };
    // anchoredNameRegexp: the optional domain group is tried first (leftmost-first).
    if let Some((first, path)) = name.split_once('/')
        && valid_domain(first)
        && valid_path(path)
    {
        return Some(Match {
            domain: first,
            path,
            tag,
            digest,
        });
    }
    if valid_path(name) {
        return Some(Match {
            domain: "",
            path: name,
            tag,
            digest,
        });
    }
    None
}

/// `anchoredIdentifierRegexp`: `^[a-f0-9]{64}$`.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

fn is_lower_hex(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'f')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_MAX
        && is_word(b[0])
        && b[1..].iter().all(|&c| is_word(c) || c == b'.' || c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
fn matches_digest_pattern(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest `Digest.Validate` with sha256, sha384 and sha512 registered (as in the kubelet).
fn validate_digest(d: &str) -> Result<(), RefError> {
    let (alg, hex) = d.split_once(':').ok_or_else(|| err(INVALID_FORMAT))?;
    let size = match alg {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => {
            // DigestRegexpAnchored: `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`
            let lower_alg = alg.split(['.', '+', '_', '-']).all(|c| {
                !c.is_empty()
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            return Err(err(if lower_alg {
                "unsupported digest algorithm"
            } else {
                "invalid checksum digest format"
            }));
        }
    };
    if hex.len() != size * 2 {
        return Err(err("invalid checksum digest length"));
    }
    if !hex.bytes().all(is_lower_hex) {
        return Err(err("invalid checksum digest format"));
    }
    Ok(())
}

/// `pathComponent(/pathComponent)*`
fn valid_path(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(valid_path_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `domainAndPort`: (domain-name | `[` IPv6 `]`) (`:` port)?. The IPv6 part is Docker's
/// `[a-fA-F0-9:]+` (no zones, no embedded IPv4), not a full address check.
fn valid_domain(d: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        let ip_ok = !ip.is_empty() && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        let port = match after {
            "" => None,
            a => match a.strip_prefix(':') {
                Some(p) => Some(p),
                None => return false,
            },
        };
        (ip_ok, port)
    } else {
        let (host, port) = match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        };
        (host.split('.').all(valid_domain_component), port)
    };
    host_ok && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn valid_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
