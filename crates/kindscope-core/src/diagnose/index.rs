//! Every node's images, parsed once and indexed by the keys the rules ask about: the exact
//! runtime lookup name, the repository, and the familiar path (for `localhost/` vs `docker.io`).
//! Names repeated across nodes are parsed once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use k8s_openapi::api::core::v1::{Node, PodSpec};

use crate::imageref::{ImageRef, is_import_name};
use crate::model::{RuntimeListing, Snapshot};

/// FxHash (rustc's hasher): the keys are names and uids from one cluster, hashed thousands of
/// times per diagnosis; SipHash's flooding resistance buys nothing here and costs a third.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A set of node indices (bitset: 50 nodes fit in one word).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeSet(Vec<u64>);

impl NodeSet {
    pub fn insert(&mut self, i: usize) {
        let (w, b) = (i / 64, i % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << b;
    }
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    /// Every member of `other` is in `self`.
    pub fn contains_all(&self, other: &NodeSet) -> bool {
        other
            .0
            .iter()
            .enumerate()
            .all(|(i, w)| w & !self.0.get(i).copied().unwrap_or(0) == 0)
    }
    /// Some member is in both sets.
    pub fn intersects(&self, other: &NodeSet) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
    pub fn union_with(&mut self, other: &NodeSet) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(wi, &w)| {
            (0..64)
                .filter(move |b| w & (1u64 << b) != 0)
                .map(move |b| wi * 64 + b)
        })
    }
}

/// One distinct image name some node reports, with the nodes that report it.
#[derive(Debug)]
pub(crate) struct Held<'a> {
    /// Exactly as the runtime (or the API) reports it.
    pub name: &'a str,
    pub r: ImageRef,
    pub nodes: NodeSet,
    /// The image ID behind this name when the runtime reported one, and the same on every node
    /// listing the name. containerd's CRI also names each image it manages by this ID, so it is
    /// the surest source for a re-tag.
    pub id: Option<&'a str>,
}

/// What is known about one node.
#[derive(Debug)]
pub(crate) struct NodeInfo<'a> {
    pub name: &'a str,
    pub node: Option<&'a Node>,
    /// The image list may miss images (API capped, no runtime listing, or no list at all).
    pub incomplete: bool,
    /// `RuntimeListing` runtime when one was tried (`docker`, `podman`).
    pub runtime: Option<&'a str>,
    /// The runtime was asked and failed: the list is the API's fallback, which lags behind a
    /// fresh `kind load` by the kubelet's status period.
    pub runtime_failed: bool,
}

#[derive(Debug, Default)]
pub(crate) struct NodeIndex<'a> {
    pub nodes: Vec<NodeInfo<'a>>,
    by_node_name: FastMap<&'a str, usize>,
    pub held: Vec<Held<'a>>,
    /// Keyed by the listed name's normalised full form ([`ImageRef::held_key`]), which is what
    /// containerd matches a request's [`ImageRef::lookup_name`] against.
    by_lookup: FastMap<String, Vec<usize>>,
    /// Names of images whose every name is an `import-…` name (unnamed imports), with the
    /// nodes where such an image carries them. An import name beside a real name is not one.
    unnamed_imports: BTreeMap<&'a str, NodeSet>,
    by_repo: FastMap<String, Vec<usize>>,
    by_familiar_path: FastMap<String, Vec<usize>>,
}

impl<'a> NodeIndex<'a> {
    pub fn build(snap: &'a Snapshot) -> Self {
        let mut ix = NodeIndex::default();
        let mut names: BTreeMap<&'a str, Option<&'a Node>> = BTreeMap::new();
        for n in &snap.nodes {
            if let Some(name) = n.metadata.name.as_deref() {
                names.insert(name, Some(n));
            }
        }
        for name in snap.node_images.keys() {
            names.entry(name.as_str()).or_insert(None);
        }
        let mut seen: FastMap<&'a str, usize> = FastMap::default();
        for (i, (name, node)) in names.into_iter().enumerate() {
            let images = snap.node_images.get(name);
            let runtime = images.and_then(|ni| match &ni.runtime {
                RuntimeListing::Ok { runtime } | RuntimeListing::Failed { runtime, .. } => {
                    Some(runtime.as_str())
                }
                RuntimeListing::NotTried => None,
            });
            ix.nodes.push(NodeInfo {
                name,
                node,
                incomplete: images.is_none_or(|ni| ni.maybe_incomplete()),
                runtime,
                runtime_failed: images
                    .is_some_and(|ni| matches!(ni.runtime, RuntimeListing::Failed { .. })),
            });
            ix.by_node_name.insert(name, i);
            for image in images.map(|ni| ni.images.as_slice()).unwrap_or(&[]) {
                if !image.names.is_empty() && image.names.iter().all(|n| is_import_name(n)) {
                    for n in &image.names {
                        ix.unnamed_imports.entry(n.as_str()).or_default().insert(i);
                    }
                }
                for held_name in &image.names {
                    let held_name = held_name.as_str();
                    if let Some(&h) = seen.get(held_name) {
                        let held = &mut ix.held[h];
                        held.nodes.insert(i);
                        if held.id != image.id.as_deref() {
                            held.id = None;
                        }
                        continue;
                    }
                    // A name the runtime reports but Docker's grammar rejects cannot be asked
                    // for by a valid reference either; skip it.
                    let Ok(r) = ImageRef::parse(held_name) else {
                        continue;
                    };
                    let h = ix.held.len();
                    seen.insert(held_name, h);
                    let mut nodes = NodeSet::default();
                    nodes.insert(i);
                    ix.by_lookup.entry(r.held_key()).or_default().push(h);
                    ix.by_repo.entry(r.repository()).or_default().push(h);
                    ix.by_familiar_path
                        .entry(r.familiar_path().to_string())
                        .or_default()
                        .push(h);
                    ix.held.push(Held {
                        name: held_name,
                        r,
                        nodes,
                        id: image.id.as_deref().filter(|id| !id.is_empty()),
                    });
                }
            }
        }
        ix
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.by_node_name.get(name).copied()
    }

    /// Held names the runtime would resolve a request for `r` to: the listed name equal to the
    /// request normalised as containerd does (`ParseDockerRef`).
    pub fn exact<'s>(&'s self, r: &ImageRef) -> impl Iterator<Item = &'s Held<'a>> + use<'s, 'a> {
        self.lookup(&self.by_lookup, &r.lookup_name())
    }

    /// Held names in the same repository (`domain/path`).
    pub fn same_repository<'s>(
        &'s self,
        r: &ImageRef,
    ) -> impl Iterator<Item = &'s Held<'a>> + use<'s, 'a> {
        self.lookup(&self.by_repo, &r.repository())
    }

    /// Held names with the same familiar path under any domain.
    pub fn same_familiar_path<'s>(
        &'s self,
        r: &ImageRef,
    ) -> impl Iterator<Item = &'s Held<'a>> + use<'s, 'a> {
        self.lookup(&self.by_familiar_path, r.familiar_path())
    }

    fn lookup<'s>(
        &'s self,
        map: &'s FastMap<String, Vec<usize>>,
        key: &str,
    ) -> impl Iterator<Item = &'s Held<'a>> + use<'s, 'a> {
        map.get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|&h| &self.held[h])
    }

    /// Unnamed imports (`import-…` names alone) on any of `nodes`.
    pub fn unnamed_imports_on(&self, nodes: &NodeSet) -> BTreeSet<String> {
        self.unnamed_imports
            .iter()
            .filter(|(_, on)| on.intersects(nodes))
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// Nodes on which a request for `r` resolves (hold the name containerd looks up).
    pub fn holders(&self, r: &ImageRef) -> NodeSet {
        let mut s = NodeSet::default();
        for h in self.exact(r) {
            s.union_with(&h.nodes);
        }
        s
    }

    /// Nodes a pod with this spec could be scheduled to: not cordoned, every NoSchedule and
    /// NoExecute taint tolerated, nodeSelector matched (affinity is not evaluated, which only
    /// makes the set larger, never a finding more likely).
    pub fn eligible(&self, spec: Option<&PodSpec>) -> NodeSet {
        let mut s = NodeSet::default();
        for (i, info) in self.nodes.iter().enumerate() {
            if info.node.is_none_or(|n| node_accepts(n, spec)) {
                s.insert(i);
            }
        }
        s
    }

    pub fn names(&self, set: &NodeSet) -> Vec<String> {
        set.iter().map(|i| self.nodes[i].name.to_string()).collect()
    }

    pub fn any_incomplete(&self, set: &NodeSet) -> bool {
        set.iter().any(|i| self.nodes[i].incomplete)
    }

    /// Some node's list is only the API's fallback after a failed runtime listing.
    pub fn any_runtime_failed(&self, set: &NodeSet) -> bool {
        set.iter().any(|i| self.nodes[i].runtime_failed)
    }
}

fn node_accepts(node: &Node, spec: Option<&PodSpec>) -> bool {
    let nspec = node.spec.as_ref();
    if nspec.and_then(|s| s.unschedulable).unwrap_or(false) {
        return false;
    }
    let tolerations = spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]);
    let taints = nspec.and_then(|s| s.taints.as_deref()).unwrap_or(&[]);
    let tolerated = taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| {
            tolerations.iter().any(|tol| {
                let key_ok = match tol.key.as_deref() {
                    None | Some("") => tol.operator.as_deref() == Some("Exists"),
                    Some(k) => k == t.key,
                };
                let value_ok = tol.operator.as_deref() == Some("Exists")
                    || tol.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or("");
                let effect_ok = tol
                    .effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == t.effect);
                key_ok && value_ok && effect_ok
            })
        });
    if !tolerated {
        return false;
    }
    let labels = node.metadata.labels.as_ref();
    spec.and_then(|s| s.node_selector.as_ref())
        .is_none_or(|sel| {
            sel.iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
}

#[cfg(test)]
mod tests {
    use super::NodeSet;

    #[test]
    fn nodeset_operations() {
        let mut a = NodeSet::default();
        assert!(a.is_empty());
        for i in [0, 5, 70] {
            a.insert(i);
        }
        assert!(a.contains(70) && !a.contains(6));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 5, 70]);
        let mut b = NodeSet::default();
        b.insert(5);
        assert!(a.contains_all(&b));
        b.insert(130);
        assert!(!a.contains_all(&b));
        a.union_with(&b);
        assert!(a.contains_all(&b));
    }
}
