//! Where an asked-for image name comes from in the user's repository.
//!
//! A live finding says *what* a workload asks for; this module says *where* that name was
//! written: a manifest's `image:` field, Helm values (`repository:` + `tag:`), a kustomize
//! `images:` entry, a string literal in code — or code that strips a registry prefix from the
//! name before it is deployed ("this rewrites the image name"), which is how the
//! `localhost/` mismatch of docs/troubleshooting.md is usually introduced.
//!
//! ```text
//! mod.rs     what was found (Source, the core's type) and what to do with it
//! matcher.rs one line of text → hits (pure; all the rules live here)
//! cache.rs   the dashboard's memory of searches (one background search per question)
//! walk.rs    the IO edge: walk a tree in parallel (.gitignore respected), read, match, budget
//! ```

mod cache;
mod matcher;
mod walk;

use std::path::Path;

use crate::diagnose::Finding;

pub use cache::SourceCache;
pub use matcher::{LineHit, Needles, match_file, printable};
pub use walk::{Budget, SearchOutcome, default_root, search};

/// The plain type is the core's: a finding carries its sources.
pub use kindscope_core::source::Source;

/// What kind of place a hit is, strongest first (the order sources are listed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Why {
    /// Code that strips or replaces a registry prefix in an image name.
    Rewrite,
    /// `image: NAME` in a manifest.
    ManifestField,
    /// A kustomize `images:` entry (`name:` / `newName:` / `newTag:`).
    Kustomize,
    /// Helm values: `image: NAME`, or `repository: REPO` with a `tag:` next to it.
    HelmValues,
    /// A string literal in code that contains the name.
    CodeLiteral,
    /// Any other mention.
    Mention,
}

impl Why {
    pub fn phrase(self) -> &'static str {
        match self {
            Why::Rewrite => "this rewrites the image name",
            Why::ManifestField => "manifest image field",
            Why::Kustomize => "kustomize images: entry",
            Why::HelmValues => "Helm values",
            Why::CodeLiteral => "string literal in code",
            Why::Mention => "mentions the image",
        }
    }

    /// Whether replacing the old name with the new one on this line is the durable edit.
    pub fn is_literal(self) -> bool {
        !matches!(self, Why::Rewrite)
    }
}

/// The durable edit a source calls for, as one sentence: `path:line: old → new`, or for a
/// rewrite, what to remove.
pub fn durable_edit(src: &Source, image: &str, suggested: Option<&str>) -> String {
    let at = format!("{}:{}", src.path, src.line);
    if src.why == Why::Rewrite.phrase() {
        return format!(
            "{at}: remove the rewrite ({}) and deploy the name as it was built",
            src.text
        );
    }
    match suggested {
        Some(new) if src.text.contains(image) => format!("{at}: {image} → {new}"),
        Some(new) => format!("{at}: set the image there to {new}"),
        None => format!("{at}: {}", src.text),
    }
}

/// The search of a set of findings: their names and the prefixes their fixes add.
///
/// `asks` are (image asked for, suggested image) pairs; the prefixes to look for in rewrite
/// code are those a suggestion adds (`localhost/` for `kubernaut/x` → `localhost/kubernaut/x`),
/// plus `localhost/` always — podman's default, the one most often stripped.
pub fn needles_for<'a>(asks: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Needles {
    let mut images = Vec::new();
    let mut prefixes = vec!["localhost/".to_string()];
    for (image, suggested) in asks {
        images.push(image.to_string());
        if let Some(s) = suggested
            && let Some(prefix) = s.strip_suffix(image)
            && prefix.ends_with('/')
            && prefix.len() > 1
            && !prefixes.iter().any(|p| p == prefix)
        {
            prefixes.push(prefix.to_string());
        }
    }
    Needles::new(images, prefixes)
}

/// The names a finding's fix could mean: its suggestion, else its candidates.
fn meant(f: &Finding) -> impl Iterator<Item = &str> {
    f.suggested_image
        .as_deref()
        .into_iter()
        .chain(f.candidates.iter().map(String::as_str))
}

/// Search `root` for where each finding's asked-for name comes from, and set each finding's
/// `sources`: code that strips the prefix its fix adds back first, then manifests, values and
/// literals. Returns the outcome (files read, whether the walk finished).
pub fn attach_sources(findings: &mut [Finding], root: &Path, budget: Budget) -> SearchOutcome {
    let mut asks: Vec<(&str, Option<&str>)> = Vec::new();
    for f in findings.iter() {
        asks.push((f.image.as_str(), None));
        asks.extend(meant(f).map(|m| (f.image.as_str(), Some(m))));
    }
    let needles = needles_for(asks);
    let outcome = search(root, &needles, budget);
    for f in findings.iter_mut() {
        let mut sources: Vec<Source> = Vec::new();
        for (p, prefix) in needles.prefixes.iter().enumerate() {
            let adds = meant(f).any(|m| m.strip_suffix(f.image.as_str()) == Some(prefix.as_str()));
            if adds {
                sources.extend(outcome.per_prefix[p].iter().cloned());
            }
        }
        if let Some(i) = needles.images.iter().position(|x| *x == f.image) {
            sources.extend(outcome.per_image[i].iter().cloned());
        }
        f.sources = sources;
    }
    outcome
}

/// What `fix` and the dashboard say next to a live patch: it is a hotfix, and the edit that
/// makes it last (or that none was found).
pub fn hotfix_lines(f: &Finding, searched: Option<&Path>, how_to_search: &str) -> Vec<String> {
    let mut lines = vec![
        "This live patch is a hotfix: the next deploy from your manifests will undo it."
            .to_string(),
    ];
    match (f.sources.first(), searched) {
        (Some(_), _) => {
            lines.push("Durable edit:".to_string());
            let literal = f
                .sources
                .iter()
                .find(|s| s.why != Why::Rewrite.phrase() && s.why != Why::Mention.phrase());
            let rewrite = f.sources.iter().find(|s| s.why == Why::Rewrite.phrase());
            for s in rewrite.into_iter().chain(literal).chain(
                f.sources
                    .first()
                    .filter(|_| rewrite.is_none() && literal.is_none()),
            ) {
                lines.push(format!(
                    "  {}",
                    durable_edit(s, &f.image, f.suggested_image.as_deref())
                ));
            }
        }
        (None, Some(dir)) => lines.push(format!(
            "No source of {} was found in {}; change it where your manifests are generated.",
            f.image,
            dir.display()
        )),
        (None, None) => lines.push(format!(
            "Change {} where your manifests are generated ({how_to_search}).",
            f.image
        )),
    }
    lines
}

#[cfg(test)]
mod tests;
