//! One subject (a workload's container with its failing pods) → at most one finding.
//!
//! Order of questions, with both sides normalised the way containerd resolves names:
//! 1. does the reference parse? (`invalid-reference`)
//! 2. do the target nodes hold exactly this image? then only an `Always` pull policy can make
//!    the pull fail (`pull-policy`); otherwise the failure is transient and not reported;
//! 3. do the target nodes that miss it hold the same image under a spelling containerd does
//!    not resolve the request to? (`unresolvable-name`: a listed `repo:tag@sha256:…` is looked
//!    up as `repo@sha256:…`)
//! 4. do other nodes hold it? (`not-on-node`)
//! 5. same familiar path and tag under another domain? (`registry-prefix`)
//! 6. same repository (or familiar path) with other tags? (`tag-mismatch`)
//! 7. nothing similar (`not-loaded`, or `renamed-on-import` when an image named only
//!    `import-…` is there).
//!
//! A suggested image is always a name the nodes resolve as written.
//!
//! Target nodes are the nodes of the failing pods, or every node the pod template could be
//! scheduled to when no pod has failed yet (Deployment with `imagePullPolicy: Never`).

use std::collections::BTreeSet;

mod spelling;

use self::spelling::{names_list, other_spelling, per_node_names, unresolvable};
use super::advice::{KindCluster, controller_command, set_image_command};
use super::evidence::EventIndex;
use super::index::{Held, NodeIndex, NodeSet};
use super::likeness::{Likeness, likeness};
use super::workloads::{Owner, Subject};
use super::{Finding, FindingKind};
use crate::imageref::ImageRef;
use crate::model::Snapshot;

pub(crate) struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub ix: &'a NodeIndex<'a>,
    pub events: &'a EventIndex<'a>,
    pub kind: &'a KindCluster,
}

/// What the rules decided, before the finding is dressed with evidence and a plan.
pub(super) struct Verdict {
    pub(super) kind: FindingKind,
    pub(super) nodes: Vec<String>,
    pub(super) suggested_image: Option<String>,
    pub(super) suggested_pull_policy: Option<String>,
    pub(super) candidates: Vec<String>,
    pub(super) facts: Vec<String>,
    pub(super) summary: String,
    /// A command for what the patch cannot do (loading images).
    pub(super) command: Option<String>,
}

pub(crate) fn judge(s: &Subject<'_>, cx: &Ctx<'_>) -> Option<Finding> {
    let ix = cx.ix;
    let eligible = ix.eligible(s.spec);
    let mut targets = NodeSet::default();
    let mut unknown: Vec<&str> = Vec::new();
    if s.failing.is_empty() {
        // Certain failure before any pod exists: policy Never and no eligible node holds it.
        let certain = matches!(s.owner, Owner::Deployment)
            && s.expects_pods
            && !s.healthy
            && s.policy == "Never"
            && !eligible.is_empty()
            && !ix.any_incomplete(&eligible)
            // A failed runtime listing leaves the API's list, which lags a fresh `kind load`.
            && !ix.any_runtime_failed(&eligible);
        if !certain {
            return None;
        }
        if let Ok(r) = ImageRef::parse(s.image)
            && ix.holders(&r).intersects(&eligible)
        {
            return None;
        }
        targets = eligible.clone();
    }
    for f in &s.failing {
        match f.node {
            Some(n) => match ix.node_index(n) {
                Some(i) => targets.insert(i),
                None => unknown.push(n),
            },
            None => targets.union_with(&eligible),
        }
    }
    let all_hold =
        |set: &NodeSet| unknown.is_empty() && !targets.is_empty() && set.contains_all(&targets);
    let mut target_names: BTreeSet<String> = ix.names(&targets).into_iter().collect();
    target_names.extend(unknown.iter().map(|s| s.to_string()));

    let kubelet_invalid = s.failing.iter().find(|f| f.reason == "InvalidImageName");
    let verdict = match (ImageRef::parse(s.image), kubelet_invalid) {
        (Err(e), _) => invalid(s, &e.0, ix, &all_hold, &target_names),
        (Ok(_), Some(f)) => invalid(
            s,
            f.message.unwrap_or("the kubelet rejected it"),
            ix,
            &all_hold,
            &target_names,
        ),
        (Ok(r), None) => classify(s, &r, cx, &targets, &all_hold, &target_names)?,
    };

    let mut evidence = cx.events.lines(s);
    if s.failing.is_empty() {
        evidence.push(format!(
            "imagePullPolicy is Never and no node a pod can be scheduled to ({}) holds {}",
            target_names.iter().cloned().collect::<Vec<_>>().join(", "),
            s.image
        ));
    }
    evidence.extend(verdict.facts);
    let incomplete: Vec<&str> = targets
        .iter()
        .filter(|&i| ix.nodes[i].incomplete)
        .map(|i| ix.nodes[i].name)
        .collect();
    if !incomplete.is_empty() && verdict.kind != FindingKind::PullPolicy {
        evidence.push(format!(
            "the image list of {} may be incomplete (Node.status.images is capped at 50 and no runtime listing was available)",
            incomplete.join(", ")
        ));
    }
    let pods: BTreeSet<String> = s.failing.iter().map(|f| f.name.to_string()).collect();
    let mut finding = Finding {
        kind: verdict.kind,
        namespace: s.namespace.to_string(),
        workload: s.workload.clone(),
        container: s.container.to_string(),
        init_container: s.init,
        image: s.image.to_string(),
        suggested_image: verdict.suggested_image,
        suggested_pull_policy: verdict.suggested_pull_policy,
        candidates: verdict.candidates,
        nodes: verdict.nodes,
        pods: pods.into_iter().collect(),
        evidence,
        summary: verdict.summary,
        command: verdict.command,
        patch: None,
        plan: None,
        sources: Vec::new(),
    };
    let changes = finding.suggested_image.is_some() || finding.suggested_pull_policy.is_some();
    match super::plan(&finding, cx.snap) {
        Some(plan) => {
            finding.patch = Some(plan.patch.clone());
            finding.plan = Some(Box::new(plan));
        }
        None if changes && finding.command.is_none() => {
            let (kind, name) = s.kind_and_name();
            finding.command = Some(controller_command(
                s.namespace,
                kind,
                name,
                s.container,
                s.init,
                finding.suggested_image.as_deref(),
                finding.suggested_pull_policy.as_deref(),
            ));
        }
        None => {}
    }
    if finding.patch.is_none() && finding.command.is_none() {
        // No safe patch and nothing to load: hand the user the edit to choose.
        let (kind, name) = s.kind_and_name();
        let guess = match finding.candidates.split_first() {
            Some((first, rest)) => Some((first.clone(), rest.to_vec())),
            None if finding.kind == FindingKind::InvalidReference => {
                let g = s.image.trim().to_lowercase();
                ImageRef::parse(&g).is_ok().then_some((g, Vec::new()))
            }
            None => None,
        };
        finding.command = guess.map(|(image, alternatives)| {
            set_image_command(s.namespace, kind, name, s.container, &image, &alternatives)
        });
    }
    Some(finding)
}

fn invalid(
    s: &Subject<'_>,
    why: &str,
    ix: &NodeIndex<'_>,
    all_hold: &dyn Fn(&NodeSet) -> bool,
    target_names: &BTreeSet<String>,
) -> Verdict {
    // Only unambiguous corrections: surrounding whitespace, or a lowercase spelling that the
    // nodes hold exactly.
    let trimmed = s.image.trim();
    let suggestion = if trimmed != s.image && ImageRef::parse(trimmed).is_ok() {
        Some(trimmed.to_string())
    } else {
        let lower = trimmed.to_lowercase();
        ImageRef::parse(&lower)
            .ok()
            .filter(|r| lower != trimmed && all_hold(&ix.holders(r)))
            .map(|_| lower)
    };
    let summary = match &suggestion {
        Some(fix) => format!(
            "{} asks for {:?}, which is not a valid image reference ({why}); {fix:?} is.",
            s.workload, s.image
        ),
        None => format!(
            "{} asks for {:?}, which is not a valid image reference: {why}.",
            s.workload, s.image
        ),
    };
    Verdict {
        kind: FindingKind::InvalidReference,
        nodes: target_names.iter().cloned().collect(),
        suggested_image: suggestion,
        suggested_pull_policy: None,
        candidates: Vec::new(),
        facts: vec![format!("parse error: {why}")],
        summary,
        command: None,
    }
}

fn classify(
    s: &Subject<'_>,
    r: &ImageRef,
    cx: &Ctx<'_>,
    targets: &NodeSet,
    all_hold: &dyn Fn(&NodeSet) -> bool,
    target_names: &BTreeSet<String>,
) -> Option<Verdict> {
    let ix = cx.ix;
    let lookup = r.lookup_name();
    let holders = ix.holders(r);
    let pull_failed = s
        .failing
        .iter()
        .any(|f| f.reason == "ErrImagePull" || f.reason == "ImagePullBackOff");
    let always = s.policy == "Always";
    let nodes: Vec<String> = target_names.iter().cloned().collect();
    let asked = format!("{} asks for {}", s.workload, s.image);
    let reads = if lookup != s.image {
        format!(", which the kubelet resolves to {lookup},")
    } else {
        String::new()
    };

    if all_hold(&holders) {
        if !(always && pull_failed) {
            // Present and not forced to pull: a retry will find it. Nothing to report.
            return None;
        }
        let why = if r.defaults_to_always() {
            " (the default for an untagged or :latest image)"
        } else {
            ""
        };
        return Some(Verdict {
            kind: FindingKind::PullPolicy,
            summary: format!(
                "{asked}, which {}, but imagePullPolicy Always{why} makes the kubelet pull it and the pull fails.",
                hold(&nodes)
            ),
            nodes,
            suggested_image: None,
            suggested_pull_policy: Some("IfNotPresent".into()),
            candidates: Vec::new(),
            facts: vec![],
            command: None,
        });
    }

    // This very image, but listed only under a spelling containerd does not resolve the request
    // to: kind v0.18 preloaded `repo:tag@sha256:…` (looked up as `repo@sha256:…`), or a tag
    // asked while only `repo:tag@sha256:…` is listed. Judged on the target nodes that do not
    // resolve it; a re-tag there beats loading the image again.
    let mut unresolved = NodeSet::default();
    for i in targets.iter().filter(|&i| !holders.contains(i)) {
        unresolved.insert(i);
    }
    let spelled: Vec<&Held<'_>> = ix
        .same_repository(r)
        .filter(|h| other_spelling(r, h) && h.nodes.intersects(&unresolved))
        .collect();
    if !spelled.is_empty() {
        let on_unresolved = |set: &NodeSet| set.contains_all(&unresolved);
        return Some(unresolvable(
            s,
            r,
            cx,
            &spelled,
            &unresolved,
            &on_unresolved,
            &ix.names(&unresolved),
            pull_failed,
            &asked,
            &reads,
        ));
    }

    if !holders.is_empty() {
        let lacking: Vec<String> = target_names
            .iter()
            .filter(|n| ix.node_index(n).is_none_or(|i| !holders.contains(i)))
            .cloned()
            .collect();
        let have = ix.names(&holders);
        let held_as = first_name(ix.exact(r)).unwrap_or(lookup.clone());
        let load = if cx.kind.podman {
            held_as.clone()
        } else {
            r.familiar()
        };
        let policy_note = if always && pull_failed {
            "; its imagePullPolicy Always would still pull, so also set IfNotPresent"
        } else {
            ""
        };
        return Some(Verdict {
            kind: FindingKind::NotOnNode,
            summary: format!(
                "{asked}{reads} which {} but {}{policy_note}.",
                hold(&have),
                does_not(&lacking)
            ),
            command: Some(cx.kind.load_command(&load, &lacking)),
            nodes: lacking,
            suggested_image: None,
            suggested_pull_policy: (always && pull_failed).then(|| "IfNotPresent".to_string()),
            candidates: Vec::new(),
            facts: vec![format!("{} {held_as}", hold(&have))],
        });
    }

    let is = |h: &Held<'_>, want: Likeness| likeness(r, &h.r) == want;
    let prefixed: Vec<&Held<'_>> = ix
        .same_familiar_path(r)
        .filter(|h| is(h, Likeness::OtherRegistry))
        .collect();
    if !prefixed.is_empty() {
        return Some(suggest(
            FindingKind::RegistryPrefix,
            s,
            r,
            cx,
            &prefixed,
            all_hold,
            &nodes,
            pull_failed,
            &asked,
            &reads,
        ));
    }

    let mut other_tags: Vec<&Held<'_>> = ix
        .same_repository(r)
        .filter(|h| is(h, Likeness::OtherTag))
        .collect();
    if other_tags.is_empty() {
        // (No held name here is `OtherRegistry` with a tag: `prefixed` would have had it.)
        other_tags = ix
            .same_familiar_path(r)
            .filter(|h| is(h, Likeness::OtherRegistryAndTag))
            .collect();
    }
    if !other_tags.is_empty() {
        return Some(suggest(
            FindingKind::TagMismatch,
            s,
            r,
            cx,
            &other_tags,
            all_hold,
            &nodes,
            pull_failed,
            &asked,
            &reads,
        ));
    }

    // Nothing similar. An unnamed `import-…` image on the node may be it (an archive saved by
    // image ID carries no name).
    // An import name beside a real name is kind's `--digests` bookkeeping, not an unnamed
    // import: only images whose every name is an import name count.
    let imports: BTreeSet<String> = ix.unnamed_imports_on(targets);
    let load = cx.kind.load_command(&r.familiar(), &[]);
    if !imports.is_empty() {
        return Some(Verdict {
            kind: FindingKind::RenamedOnImport,
            summary: format!(
                "{asked}{reads} which no node holds, but {} unnamed imports ({}) that may be it: save the image by name, not by ID, and load it again.",
                hold(&nodes),
                imports.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            nodes,
            suggested_image: None,
            suggested_pull_policy: None,
            candidates: imports.into_iter().collect(),
            facts: vec![],
            command: Some(load),
        });
    }
    // A capped Node.status.images (50 largest, no runtime listing) hides small images: the
    // image may well be there. Say so and give the command that checks, not a load command
    // as if it were certainly missing.
    let capped: Vec<String> = targets
        .iter()
        .filter(|&i| ix.nodes[i].incomplete)
        .map(|i| ix.nodes[i].name.to_string())
        .collect();
    // (With imagePullPolicy Always the pull fails even when the image is there: see below.)
    if !capped.is_empty() && !always {
        let check = cx.kind.check_command(&capped, r.familiar_path());
        return Some(Verdict {
            kind: FindingKind::NotLoaded,
            summary: format!(
                "{asked}{reads} but no image listed for {} is like it; that list (Node.status.images) is capped at 50 and no runtime listing was available, so the image may well be on the node: check before loading it.",
                nodes_phrase(&nodes),
            ),
            nodes,
            suggested_image: None,
            suggested_pull_policy: None,
            candidates: Vec::new(),
            facts: vec![format!("if the node does not hold it: {load}")],
            command: Some(check),
        });
    }
    let cannot = if s.policy == "Never" {
        "imagePullPolicy Never forbids pulling it"
    } else if always && ix.any_incomplete(targets) {
        // A capped Node.status.images may hide the image; then only the policy is wrong.
        "pulling it failed (if it is on the node after all, its list being incomplete, set imagePullPolicy IfNotPresent)"
    } else {
        "pulling it failed"
    };
    Some(Verdict {
        kind: FindingKind::NotLoaded,
        summary: format!(
            "{asked}{reads} but no node holds it or anything like it, and {cannot}: build it and load it into the cluster."
        ),
        nodes,
        suggested_image: None,
        suggested_pull_policy: None,
        candidates: Vec::new(),
        facts: vec![],
        command: Some(load),
    })
}

/// registry-prefix / tag-mismatch: suggest the one name held on every target node, if there is
/// exactly one such image; otherwise list the candidates.
#[allow(clippy::too_many_arguments)]
fn suggest(
    kind: FindingKind,
    s: &Subject<'_>,
    r: &ImageRef,
    cx: &Ctx<'_>,
    cands: &[&Held<'_>],
    all_hold: &dyn Fn(&NodeSet) -> bool,
    nodes: &[String],
    pull_failed: bool,
    asked: &str,
    reads: &str,
) -> Verdict {
    let ix = cx.ix;
    // A suggestion must resolve as written: containerd looks `h` up by its lookup name, which
    // for a listed `repo:tag@sha256:…` is `repo@sha256:…`, held or not.
    let resolvable = |h: &Held<'_>| !ix.holders(&h.r).is_empty();
    let names: BTreeSet<String> = cands
        .iter()
        .filter(|h| resolvable(h))
        .map(|h| h.name.to_string())
        .collect();
    let good: Vec<&&Held<'_>> = cands
        .iter()
        .filter(|h| all_hold(&ix.holders(&h.r)))
        .collect();
    let stranded: Vec<&&Held<'_>> = cands
        .iter()
        .filter(|h| all_hold(&h.nodes) && !resolvable(h))
        .collect();
    let good_images: BTreeSet<String> = good.iter().map(|h| h.r.lookup_name()).collect();
    // A pinned digest is never swapped for a tag: that would change what runs.
    let pick = (good_images.len() == 1
        && (kind == FindingKind::RegistryPrefix || r.digest.is_none()))
    .then(|| first_name(good.iter().map(|h| **h)))
    .flatten();
    let pick_ref = pick.as_deref().and_then(|p| ImageRef::parse(p).ok());
    let needs_policy = pick_ref.as_ref().is_some_and(|p| {
        s.policy == "Always" && (p.is_local_only() || (pull_failed && p.domain == r.domain))
    });
    let mut facts: Vec<String> = Vec::new();
    for h in cands.iter().take(4) {
        facts.push(format!("{} {}", hold(&ix.names(&h.nodes)), h.name));
    }
    let what = if kind == FindingKind::RegistryPrefix {
        "the same image under another registry name"
    } else {
        "this repository only with other tags"
    };
    let (summary, command) = match &pick {
        Some(p) => (
            format!(
                "{asked}{reads} but {} {}{p}{}.",
                hold(nodes),
                if kind == FindingKind::RegistryPrefix {
                    "it as "
                } else {
                    "only "
                },
                if needs_policy {
                    ", which can only be used with imagePullPolicy IfNotPresent"
                } else {
                    ""
                }
            ),
            None,
        ),
        None if good.is_empty() && !stranded.is_empty() => {
            let per_node = per_node_names(ix, nodes, &stranded);
            let shown = names_list(stranded.iter().map(|h| **h));
            (
                format!(
                    "{asked}{reads} but {} {what} only as {shown}, a name containerd does not resolve as written, so it cannot be patched in: give the node the name the kubelet asks for.",
                    hold(nodes)
                ),
                Some(cx.kind.retag_command(&per_node, &r.lookup_name())),
            )
        }
        None if good.is_empty() && names.len() == 1 => {
            let only = names.iter().next().cloned().unwrap_or_default();
            let held_on = cands.iter().fold(NodeSet::default(), |mut acc, h| {
                acc.union_with(&h.nodes);
                acc
            });
            let lacking: Vec<String> = nodes
                .iter()
                .filter(|n| ix.node_index(n).is_none_or(|i| !held_on.contains(i)))
                .cloned()
                .collect();
            (
                format!(
                    "{asked}{reads} but {} {what} ({only}) and {} nothing like it.",
                    hold(&ix.names(&held_on)),
                    hold(&lacking)
                ),
                Some(cx.kind.load_command(&only, &lacking)),
            )
        }
        None => (
            format!(
                "{asked}{reads} but the nodes hold {what}, and more than one could be meant: {}.",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            None,
        ),
    };
    Verdict {
        kind,
        nodes: nodes.to_vec(),
        candidates: if pick.is_some() {
            Vec::new()
        } else {
            names.into_iter().collect()
        },
        suggested_pull_policy: needs_policy.then(|| "IfNotPresent".to_string()),
        suggested_image: pick,
        facts,
        summary,
        command,
    }
}

/// The smallest reported name: deterministic when several spellings name the same image.
pub(super) fn first_name<'h, 'a: 'h>(it: impl Iterator<Item = &'h Held<'a>>) -> Option<String> {
    it.map(|h| h.name).min().map(str::to_string)
}

/// Node names for a sentence: `a`, `a and b`, `a, b and c`, or `12 nodes (a, b, …)`.
fn nodes_phrase(names: &[String]) -> String {
    match names {
        [] => "no node".to_string(),
        [one] => one.clone(),
        [init @ .., last] if names.len() <= 3 => format!("{} and {last}", init.join(", ")),
        _ => format!("{} nodes ({}, {}, …)", names.len(), names[0], names[1]),
    }
}

/// `a holds` / `a and b hold`.
pub(super) fn hold(names: &[String]) -> String {
    let verb = if names.len() == 1 { "holds" } else { "hold" };
    format!("{} {verb}", nodes_phrase(names))
}

/// `a does not` / `a and b do not`.
fn does_not(names: &[String]) -> String {
    let verb = if names.len() == 1 {
        "does not"
    } else {
        "do not"
    };
    format!("{} {verb}", nodes_phrase(names))
}
