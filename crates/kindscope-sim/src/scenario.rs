//! Scenario files (docs/sim.md): a multi-document YAML file whose first document
//! (`kind: Scenario`) describes the Kind cluster and whose other documents are ordinary manifests
//! applied at start, as `kubectl apply -f` would.
//!
//! Every error names the file, the document (counting non-empty documents from 1) with the line
//! it starts on or the exact line of a YAML error, and what is wrong.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::resources::{NODES, ResourceType, resource_for_kind};
use kindscope_core::imageref::ImageRef;

/// The scenario every `kindscope demo` starts without `--scenario` (the seed's story).
const EMBEDDED_DEFAULT: &str = include_str!("../../../assets/scenarios/gateway-debug.yaml");
const EMBEDDED_ORIGIN: &str = "<embedded gateway-debug.yaml>";

/// Namespaces every Kind cluster has; manifests may use them without declaring them.
pub const BUILTIN_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

pub const DEFAULT_KUBERNETES_VERSION: &str = "v1.33.1";

/// A parsed, validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where it came from (file path, or a label for embedded/generated scenarios).
    pub origin: String,
    /// Kind cluster name; the kubeconfig context is `kind-NAME`.
    pub name: String,
    pub provider: Provider,
    /// `v1.33.1`: what `/version` and the nodes report.
    pub kubernetes_version: String,
    pub nodes: Vec<NodeSpec>,
    /// Images a pull can fetch; every other pull fails the way a real pull fails.
    pub registry: Vec<ImageSpec>,
    /// The other documents, in file order.
    pub manifests: Vec<Manifest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[default]
    Docker,
    Podman,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Docker => "docker",
            Provider::Podman => "podman",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
}

/// One Kind node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub role: Role,
    /// Extra labels besides the ones Kind sets.
    pub labels: BTreeMap<String, String>,
    /// Extra taints besides the control-plane one Kind sets when there are workers.
    pub taints: Vec<Taint>,
    /// Images in the node's runtime besides Kind's own base images.
    pub images: Vec<ImageSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: String,
}

/// One image: its names as written (normalised when put on a node), and optional id/size/digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// At least one name; every name becomes a repo tag of the same image.
    pub names: Vec<String>,
    /// `sha256:…`; derived from the first name when absent.
    pub id: Option<String>,
    /// Bytes; a plausible size derived from the name when absent.
    pub size: Option<u64>,
    /// Manifest digest (`sha256:…`): gives the image repo digests, as a pulled image has.
    pub digest: Option<String>,
}

impl ImageSpec {
    pub fn named(name: impl Into<String>) -> ImageSpec {
        ImageSpec {
            names: vec![name.into()],
            id: None,
            size: None,
            digest: None,
        }
    }
}

/// One manifest document.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub resource: &'static ResourceType,
    /// The object as written, with `metadata.namespace` filled in for namespaced kinds.
    pub object: Value,
    /// Document number in the file (1 = the Scenario document); 0 for generated manifests.
    pub document: usize,
    /// Line the document starts on (1-based); 0 for generated manifests.
    pub line: usize,
}

impl Manifest {
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or("")
    }
    pub fn namespace(&self) -> &str {
        self.object["metadata"]["namespace"].as_str().unwrap_or("")
    }
}

/// Why a scenario cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {reason}; check the path and permissions")]
    Read { path: String, reason: String },
    #[error("{}", Located { origin, document: *document, line: *line, message })]
    Invalid {
        origin: String,
        /// Document number (non-empty documents counted from 1).
        document: Option<usize>,
        line: Option<usize>,
        message: String,
    },
}

struct Located<'a> {
    origin: &'a str,
    document: Option<usize>,
    line: Option<usize>,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario {}", self.origin)?;
        match (self.document, self.line) {
            (Some(d), Some(l)) => write!(f, ", document {d} (line {l})")?,
            (Some(d), None) => write!(f, ", document {d}")?,
            (None, Some(l)) => write!(f, ", line {l}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// Read and parse a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let read_err = |reason: String| ScenarioError::Read {
        path: path.display().to_string(),
        reason,
    };
    let raw = kindscope_core::limits::read_file(
        path,
        kindscope_core::limits::SCENARIO_FILE_MAX,
        "a scenario file",
    )
    .map_err(read_err)?;
    let text = String::from_utf8(raw).map_err(|_| read_err("it is not UTF-8 text".to_string()))?;
    parse(&text, &path.display().to_string())
}

/// The embedded gateway-debug scenario (assets/scenarios/gateway-debug.yaml).
pub fn embedded_default() -> Scenario {
    match parse(EMBEDDED_DEFAULT, EMBEDDED_ORIGIN) {
        Ok(s) => s,
        // The asset is compiled in and covered by a test; this cannot happen in a release.
        Err(e) => panic!("the embedded scenario is invalid: {e}"),
    }
}

/// One `---`-separated document of the file.
struct Doc {
    text: String,
    /// 1-based line of the document's first line in the file.
    first_line: usize,
}

/// Split on document markers (`---` at the start of a line), keeping line numbers.
fn split_documents(text: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut first_line = 1;
    for (i, line) in text.lines().enumerate() {
        let is_marker = line == "---"
            || line.starts_with("--- ")
            || line.starts_with("---\t")
            || line.trim_end() == "---";
        if is_marker {
            docs.push(Doc {
                text: std::mem::take(&mut current),
                first_line,
            });
            first_line = i + 1;
            // Content after the marker on the same line belongs to the new document.
            let rest = line[3..].trim_start();
            current.push_str(if rest.starts_with('#') { "" } else { rest });
            current.push('\n');
        } else if line.trim_end() == "..." {
            // End-of-document marker: the rest until the next `---` is ignored.
            docs.push(Doc {
                text: std::mem::take(&mut current),
                first_line,
            });
            first_line = i + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push(Doc {
        text: current,
        first_line,
    });
    docs.into_iter()
        .filter(|d| {
            d.text
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScenarioDoc {
    kind: String,
    #[serde(default)]
    api_version: Option<String>,
    name: String,
    #[serde(default)]
    provider: Provider,
    #[serde(default)]
    kubernetes_version: Option<String>,
    #[serde(default)]
    nodes: Option<Vec<NodeDoc>>,
    #[serde(default)]
    registry: Vec<ImageDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeDoc {
    name: String,
    role: Role,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    taints: Vec<Taint>,
    #[serde(default)]
    images: Vec<ImageDoc>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ImageDoc {
    Name(String),
    Full(ImageFields),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageFields {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    digest: Option<String>,
}

/// Parse scenario text; `origin` names it in errors (usually the file path).
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let err =
        |document: Option<usize>, line: Option<usize>, message: String| ScenarioError::Invalid {
            origin: origin.to_string(),
            document,
            line,
            message,
        };
    let docs = split_documents(text);
    let Some(first) = docs.first() else {
        return Err(err(
            None,
            None,
            "the file is empty; it must start with a `kind: Scenario` document (see docs/sim.md)"
                .into(),
        ));
    };
    let yaml_err = |doc_no: usize, doc: &Doc, e: serde_saphyr::Error| {
        let line = e
            .location()
            .map(|l| doc.first_line + (l.line() as usize).saturating_sub(1));
        err(
            Some(doc_no),
            line.or(Some(doc.first_line)),
            clean_yaml_message(&e),
        )
    };
    // Peek at the kind first, for a clearer error than "unknown field" when the Scenario
    // document is missing.
    let head: Value = serde_saphyr::from_str(&first.text).map_err(|e| yaml_err(1, first, e))?;
    if head["kind"] != "Scenario" {
        let found = match head["kind"].as_str() {
            Some(k) => format!("found kind `{k}`"),
            None => "it has no `kind`".to_string(),
        };
        return Err(err(
            Some(1),
            Some(first.first_line),
            format!(
                "the first document must be the `kind: Scenario` document describing the cluster ({found}); see docs/sim.md"
            ),
        ));
    }
    let doc: ScenarioDoc =
        serde_saphyr::from_str(&first.text).map_err(|e| yaml_err(1, first, e))?;
    let head_err = |message: String| err(Some(1), Some(first.first_line), message);
    debug_assert_eq!(doc.kind, "Scenario");
    let _ = doc.api_version;
    if !valid_cluster_name(&doc.name) {
        return Err(head_err(format!(
            "cluster name `{}` is not valid: use lowercase letters, digits and `-` (at most 50 characters), like Kind",
            doc.name
        )));
    }
    let kubernetes_version = doc
        .kubernetes_version
        .unwrap_or_else(|| DEFAULT_KUBERNETES_VERSION.to_string());
    if !valid_version(&kubernetes_version) {
        return Err(head_err(format!(
            "kubernetesVersion `{kubernetes_version}` is not a version like v1.33.1"
        )));
    }
    let nodes = match doc.nodes {
        None => vec![NodeSpec {
            name: format!("{}-control-plane", doc.name),
            role: Role::ControlPlane,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            images: Vec::new(),
        }],
        Some(list) => {
            let mut seen = HashSet::new();
            let mut nodes = Vec::new();
            for n in list {
                if !valid_dns_subdomain(&n.name) {
                    return Err(head_err(format!(
                        "node name `{}` is not a valid DNS name (lowercase letters, digits, `-` and `.`)",
                        n.name
                    )));
                }
                if !seen.insert(n.name.clone()) {
                    return Err(head_err(format!("node `{}` is listed twice", n.name)));
                }
                let images = n
                    .images
                    .into_iter()
                    .map(|i| image_spec(i, &format!("node `{}`", n.name)))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(&head_err)?;
                for t in &n.taints {
                    if !matches!(
                        t.effect.as_str(),
                        "NoSchedule" | "PreferNoSchedule" | "NoExecute"
                    ) {
                        return Err(head_err(format!(
                            "node `{}`: taint effect `{}` must be NoSchedule, PreferNoSchedule or NoExecute",
                            n.name, t.effect
                        )));
                    }
                }
                nodes.push(NodeSpec {
                    name: n.name,
                    role: n.role,
                    labels: n.labels,
                    taints: n.taints,
                    images,
                });
            }
            if !nodes.iter().any(|n| n.role == Role::ControlPlane) {
                return Err(head_err(
                    "`nodes` needs at least one node with `role: control-plane`, as every Kind cluster has".into(),
                ));
            }
            nodes
        }
    };
    let registry = doc
        .registry
        .into_iter()
        .map(|i| image_spec(i, "registry"))
        .collect::<Result<Vec<_>, String>>()
        .map_err(&head_err)?;

    let mut declared: HashSet<String> = BUILTIN_NAMESPACES.iter().map(|s| s.to_string()).collect();
    let mut seen = HashSet::new();
    let mut manifests = Vec::new();
    for (i, d) in docs.iter().enumerate().skip(1) {
        let no = i + 1;
        let at = |message: String| err(Some(no), Some(d.first_line), message);
        let mut obj: Value = serde_saphyr::from_str(&d.text).map_err(|e| yaml_err(no, d, e))?;
        if !obj.is_object() {
            return Err(at(
                "a manifest must be a mapping with apiVersion, kind and metadata".into(),
            ));
        }
        let (Some(api_version), Some(kind)) = (
            obj["apiVersion"].as_str().map(str::to_string),
            obj["kind"].as_str().map(str::to_string),
        ) else {
            return Err(at("the manifest needs both `apiVersion` and `kind`".into()));
        };
        let (api_version, kind) = (api_version.as_str(), kind.as_str());
        if kind == "Scenario" {
            return Err(at("only the first document may be `kind: Scenario`".into()));
        }
        let Some(rt) = resource_for_kind(api_version, kind) else {
            return Err(at(format!(
                "unknown kind `{kind}` with apiVersion `{api_version}`; the sim serves {}",
                super::resources::RESOURCES
                    .iter()
                    .map(|r| format!("{} ({})", r.kind, r.api_version()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if std::ptr::eq(rt, &NODES) {
            return Err(at(
                "nodes are described in the Scenario document's `nodes`, not as manifests".into(),
            ));
        }
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if name.is_empty() {
            return Err(at(format!("the {kind} has no `metadata.name`")));
        }
        if rt.namespaced {
            let ns = match obj["metadata"]["namespace"].as_str() {
                Some(ns) if !ns.is_empty() => ns.to_string(),
                _ => {
                    obj["metadata"]["namespace"] = Value::String("default".into());
                    "default".into()
                }
            };
            if !declared.contains(&ns) {
                return Err(at(format!(
                    "{kind} `{name}` is in namespace `{ns}`, which does not exist: add a Namespace document for it before this one"
                )));
            }
        } else if kind == "Namespace" {
            declared.insert(name.clone());
        }
        let key = (
            rt.plural,
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            name.clone(),
        );
        if !seen.insert(key) {
            return Err(at(format!("{kind} `{name}` is defined twice")));
        }
        manifests.push(Manifest {
            resource: rt,
            object: obj,
            document: no,
            line: d.first_line,
        });
    }
    Ok(Scenario {
        origin: origin.to_string(),
        name: doc.name,
        provider: doc.provider,
        kubernetes_version,
        nodes,
        registry,
        manifests,
    })
}

/// serde-saphyr messages may carry a rendered snippet; keep the first line, the sentence.
fn clean_yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // Drop a trailing " at line X column Y": the error already says where.
    let first = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    if first.contains("untagged enum ImageDoc") {
        return "an image is either a name or a mapping with `name` (or `names`) and optional `id`, `size`, `digest`".into();
    }
    first.to_string()
}

fn image_spec(doc: ImageDoc, place: &str) -> Result<ImageSpec, String> {
    let spec = match doc {
        ImageDoc::Name(n) => ImageSpec::named(n),
        ImageDoc::Full(f) => {
            let mut names = f.names;
            if let Some(n) = f.name {
                names.insert(0, n);
            }
            ImageSpec {
                names,
                id: f.id,
                size: f.size,
                digest: f.digest,
            }
        }
    };
    if spec.names.is_empty() {
        return Err(format!("{place}: an image needs a `name`"));
    }
    for n in &spec.names {
        if let Err(e) = ImageRef::parse(n) {
            return Err(format!(
                "{place}: image `{n}` is not a valid reference: {e}"
            ));
        }
    }
    if let Some(id) = &spec.id
        && !valid_sha256(id)
    {
        return Err(format!(
            "{place}: image id `{id}` must look like sha256:<64 hex digits>"
        ));
    }
    if let Some(d) = &spec.digest
        && !valid_sha256(d)
    {
        return Err(format!(
            "{place}: digest `{d}` must look like sha256:<64 hex digits>"
        ));
    }
    Ok(spec)
}

pub(crate) fn valid_sha256(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn valid_cluster_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 50
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
