//! Image references parsed and normalised as Docker's distribution/reference does
//! (`ParseNormalizedNamed`), which is what containerd and the kubelet apply.
//!
//! `nginx` → `docker.io/library/nginx`; `org/app:t` → `docker.io/org/app:t`;
//! `localhost/app` and `host:port/app` keep their domain.

use std::fmt;

pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Docker's limit on the whole name (domain + path).
const NAME_TOTAL_MAX: usize = 255;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io`, `localhost`, `registry:5000`, `[::1]:5000`).
    pub domain: String,
    /// Repository path (`library/nginx`, `kubernaut/gateway`).
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`
    pub digest: Option<String>,
}

/// Why a reference does not parse; the message follows Docker's wording.
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
        format!("{}/{}", self.domain, self.path)
    }

    /// Full normalised form, without adding `:latest` (`docker.io/library/nginx`).
    pub fn full(&self) -> String {
        let mut s = self.repository();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The short form `docker` prints (`nginx`, `org/app:t`, `localhost/app:t`).
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// Familiar repository name without tag or digest.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.repository()
        }
    }

    /// What the kubelet asks the runtime for: `:latest` added when neither tag nor digest is given.
    pub fn kubelet_form(&self) -> String {
        if self.tag.is_none() && self.digest.is_none() {
            format!("{}:latest", self.repository())
        } else {
            self.full()
        }
    }

    /// The tag the kubelet uses (`latest` when none and no digest).
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// True when the apiserver would default `imagePullPolicy` to `Always`:
    /// the tag is `latest` or absent, and there is no digest.
    pub fn defaults_to_always(&self) -> bool {
        self.digest.is_none() && matches!(self.tag.as_deref(), None | Some("latest"))
    }
}

/// The pull policy the apiserver defaults for an image string (`Always` for `:latest`/untagged
/// without digest, else `IfNotPresent`). Unparsable images default like an untagged one does
/// only if they have no `:`-tag; the apiserver uses a plain string split, as here.
pub fn default_pull_policy(image: &str) -> &'static str {
    // k8s.io/kubernetes/pkg/apis/core/v1/defaults.go uses parsers.ParseImageName; on failure the
    // tag is treated as absent.
    match ImageRef::parse(image) {
        Ok(r) if !r.defaults_to_always() => "IfNotPresent",
        Ok(_) => "Always",
        Err(_) => "Always",
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

fn err(msg: impl Into<String>) -> RefError {
    RefError(msg.into())
}

fn parse_normalized(s: &str) -> Result<ImageRef, RefError> {
    if s.is_empty() {
        return Err(err(
            "invalid reference format: repository name must have at least one component",
        ));
    }
    if is_64_hex(s) {
        return Err(err(format!(
            "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )));
    }
    // splitDockerDomain
    let (mut domain, mut remainder) = match s.find('/') {
        Some(i) => {
            let first = &s[..i];
            let looks_like_domain =
                first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first;
            if looks_like_domain {
                (first.to_string(), s[i + 1..].to_string())
            } else {
                (DEFAULT_DOMAIN.to_string(), s.to_string())
            }
        }
        None => (DEFAULT_DOMAIN.to_string(), s.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    // The name part (before tag/digest) must be lowercase.
    let name_part = remainder.split(['@']).next().unwrap_or("");
    let name_only = match name_part.rfind(':') {
        Some(i) => &name_part[..i],
        None => name_part,
    };
    if name_only.to_lowercase() != name_only {
        return Err(err(format!(
            "invalid reference format: repository name ({domain}/{name_only}) must be lowercase"
        )));
    }
    parse_named(&domain, &remainder)
}

fn parse_named(domain: &str, remainder: &str) -> Result<ImageRef, RefError> {
    let invalid = || err("invalid reference format");
    // digest
    let (rest, digest) = match remainder.split_once('@') {
        Some((r, d)) => {
            validate_digest(d)?;
            (r, Some(d.to_string()))
        }
        None => (remainder, None),
    };
    // tag: after the last ':' that follows the last '/'
    let (path, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(rest[i + 1..].to_string())),
        _ => (rest, None),
    };
    if let Some(t) = &tag
        && !valid_tag(t)
    {
        return Err(invalid());
    }
    if !valid_domain(domain) {
        return Err(invalid());
    }
    if path.is_empty() || !path.split('/').all(valid_path_component) {
        return Err(invalid());
    }
    if domain.len() + 1 + path.len() > NAME_TOTAL_MAX {
        return Err(err(format!(
            "repository name must not be more than {NAME_TOTAL_MAX} characters"
        )));
    }
    Ok(ImageRef {
        domain: domain.to_string(),
        path: path.to_string(),
        tag,
        digest,
    })
}

fn is_64_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn validate_digest(d: &str) -> Result<(), RefError> {
    let invalid = || err("invalid reference format");
    let (alg, hex) = d.split_once(':').ok_or_else(invalid)?;
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && alg.as_bytes()[0].is_ascii_lowercase();
    if !alg_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    if alg == "sha256" && (hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(err("invalid checksum digest length"));
    }
    Ok(())
}

fn valid_path_component(c: &str) -> bool {
    // alpha-numeric (separator alpha-numeric)*; separator := [_.] | __ | -+
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
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_domain(d: &str) -> bool {
    // host [':' port]; host = domain-name | IPv4 | '[' IPv6 ']'
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        let ip = &rest[..end];
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(p) => ("ipv6", Some(p)),
            None if after.is_empty() => ("ipv6", None),
            None => return false,
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if host == "ipv6" && d.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}
