//! `unresolvable-name`: the image is on the node, but only under a spelling containerd does
//! not resolve the request to. containerd normalises the request (`ParseDockerRef`: `:latest`
//! added, the tag dropped beside a digest) and matches the names it holds exactly, so a listed
//! `repo:tag@sha256:…` answers no request (docs/findings.md, "Facts about real Kind nodes").

use std::collections::BTreeSet;

use super::super::FindingKind;
use super::super::index::{Held, NodeIndex, NodeSet};
use super::super::workloads::Subject;
use super::{Ctx, Verdict, first_name, hold};
use crate::imageref::ImageRef;

/// Does `h` name the image `r` asks for (same repository and digest, or the same tag beside a
/// digest) under a spelling containerd does not resolve the request to?
pub(super) fn other_spelling(r: &ImageRef, h: &Held<'_>) -> bool {
    if r.resolved_by(&h.r) {
        return false;
    }
    match (&r.digest, &h.r.digest) {
        (Some(d), Some(hd)) => d == hd,
        (None, Some(_)) => h.r.tag.is_some() && h.r.tag.as_deref() == r.effective_tag(),
        _ => false,
    }
}

/// The distinct names of `held`, sorted, comma-separated (for sentences).
pub(super) fn names_list<'h, 'a: 'h>(held: impl Iterator<Item = &'h Held<'a>>) -> String {
    held.map(|h| h.name)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

/// For each node of `nodes`, what a re-tag there starts from: the image ID of the smallest of
/// `held` it lists when the runtime reported one (the CRI names every image it manages by its
/// ID, and `kind load` re-tags from the ID), else that name as listed.
pub(super) fn per_node_names(
    ix: &NodeIndex<'_>,
    nodes: &[String],
    held: &[&&Held<'_>],
) -> Vec<(String, String)> {
    nodes
        .iter()
        .filter_map(|n| {
            let i = ix.node_index(n)?;
            let h = held
                .iter()
                .filter(|h| h.nodes.contains(i))
                .min_by_key(|h| h.name)?;
            Some((n.clone(), h.id.unwrap_or(h.name).to_string()))
        })
        .collect()
}

/// `unresolvable-name`: the nodes hold the asked image only under spellings the runtime will
/// not resolve the request to. Suggest another of its names that they do resolve (after a pull
/// containerd adds `repo@sha256:…`); else no patch, and the commands that give the nodes the
/// name the kubelet looks up.
#[allow(clippy::too_many_arguments)]
pub(super) fn unresolvable(
    s: &Subject<'_>,
    r: &ImageRef,
    cx: &Ctx<'_>,
    spelled: &[&Held<'_>],
    targets: &NodeSet,
    all_hold: &dyn Fn(&NodeSet) -> bool,
    nodes: &[String],
    pull_failed: bool,
    asked: &str,
    reads: &str,
) -> Verdict {
    let ix = cx.ix;
    let lookup = r.lookup_name();
    let digests: BTreeSet<&str> = spelled
        .iter()
        .filter_map(|h| h.r.digest.as_deref())
        .collect();
    let pick = first_name(ix.same_repository(r).filter(|h| {
        h.r.digest.as_deref().is_some_and(|d| digests.contains(d)) && all_hold(&ix.holders(&h.r))
    }));
    let mut held_on = NodeSet::default();
    for h in spelled {
        held_on.union_with(&h.nodes);
    }
    let shown = names_list(spelled.iter().copied());
    let facts: Vec<String> = spelled
        .iter()
        .take(4)
        .map(|h| {
            format!(
                "{} {} (containerd looks up {lookup}, and matches names exactly)",
                hold(&ix.names(&h.nodes)),
                h.name
            )
        })
        .collect();
    let (summary, command) = match &pick {
        Some(p) => (
            format!(
                "{asked}{reads} but {} it only as {shown}, which containerd does not resolve that request to; {p} is the same image under a name it does resolve.",
                hold(nodes)
            ),
            None,
        ),
        None => {
            let refs: Vec<&&Held<'_>> = spelled.iter().collect();
            let per_node = per_node_names(ix, nodes, &refs);
            let lacking: Vec<String> = targets
                .iter()
                .filter(|&i| !held_on.contains(i))
                .map(|i| ix.nodes[i].name.to_string())
                .collect();
            let mut cmd = cx.kind.retag_command(&per_node, &lookup);
            if !lacking.is_empty() {
                let load = cx.kind.load_command(&r.familiar(), &lacking);
                cmd = if cmd.is_empty() {
                    load
                } else {
                    format!("{cmd} && {load}")
                };
            }
            let other = if s.policy == "Never" {
                ", or allow a pull (imagePullPolicy IfNotPresent) if the nodes can reach the registry"
            } else if pull_failed {
                " (a successful pull would add it too, but the kubelet's pull failed)"
            } else {
                ""
            };
            (
                format!(
                    "{asked}{reads} but {} it only as {shown}, a name containerd never resolves that request to (it matches names exactly), and no name on the node can be patched in: give the node the name the kubelet looks up{other}.",
                    hold(&ix.names(&held_on))
                ),
                Some(cmd),
            )
        }
    };
    Verdict {
        kind: FindingKind::UnresolvableName,
        nodes: nodes.to_vec(),
        suggested_image: pick,
        suggested_pull_policy: None,
        candidates: Vec::new(),
        facts,
        summary,
        command,
    }
}
