//! List and watch query parameters: label selectors, field selectors and `limit`/`continue`
//! pagination, with the apiserver's matching rules and error wording.

use std::collections::BTreeSet;

use serde_json::Value;

use super::resources::ResourceType;
use super::status::ApiError;

/// One label requirement (`app=web`, `tier in (a,b)`, `!canary`, …).
#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelReq>);

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_label_req(part).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unable to parse requirement: found '{part}', expected: key, !key, key=value, key!=value, key in (v1,v2) or key notin (v1,v2)"
                ))
            })?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Does an object (its `metadata.labels`) satisfy every requirement?
    pub fn matches(&self, obj: &Value) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// Split at commas that are not inside parentheses (`a in (x,y),b` → `a in (x,y)`, `b`).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_label_req(part: &str) -> Option<LabelReq> {
    if let Some(k) = part.strip_prefix('!') {
        let k = k.trim();
        return valid_key(k).then(|| LabelReq::NotExists(k.to_string()));
    }
    for (op, ctor) in [
        ("!=", LabelReq::NotEq as fn(String, String) -> LabelReq),
        ("==", LabelReq::Eq),
        ("=", LabelReq::Eq),
    ] {
        if let Some((k, v)) = part.split_once(op) {
            let (k, v) = (k.trim(), v.trim());
            return (valid_key(k) && valid_value(v)).then(|| ctor(k.to_string(), v.to_string()));
        }
    }
    if let Some(open) = part.find('(') {
        let head = part[..open].trim();
        let list = part[open + 1..].trim().strip_suffix(')')?;
        let values: BTreeSet<String> = list.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(|v| !valid_value(v)) {
            return None;
        }
        let (key, op) = head.rsplit_once(char::is_whitespace)?;
        let key = key.trim();
        if !valid_key(key) {
            return None;
        }
        return match op {
            "in" => Some(LabelReq::In(key.to_string(), values)),
            "notin" => Some(LabelReq::NotIn(key.to_string(), values)),
            _ => None,
        };
    }
    valid_key(part).then(|| LabelReq::Exists(part.to_string()))
}

/// A parsed `fieldSelector` (`=`, `==`, `!=` on the fields the apiserver supports per type).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// The fields each kind can be selected on, besides metadata.name and metadata.namespace.
fn supported_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" => &["status.replicas"],
        _ => &[],
    }
}

impl FieldSelector {
    pub fn parse(rt: &ResourceType, s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace")
                && !supported_fields(rt.kind).contains(&field)
            {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|(field, eq, value)| (field_value(obj, field) == *value) == *eq)
    }
}

/// The string value of a selectable field; a missing field is "" as in the apiserver.
fn field_value(obj: &Value, field: &str) -> String {
    let path = if field == "source" {
        "source.component"
    } else {
        field
    };
    let mut v = obj;
    for seg in path.split('.') {
        v = &v[seg];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => match field {
            "spec.unschedulable" | "spec.hostNetwork" => "false".into(),
            _ => String::new(),
        },
        other => other.to_string(),
    }
}

/// A label selector and a field selector together.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse(
        rt: &ResourceType,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Self, ApiError> {
        Ok(Selectors {
            labels: LabelSelector::parse(labels.unwrap_or(""))?,
            fields: FieldSelector::parse(rt, fields.unwrap_or(""))?,
        })
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

/// Where a paginated list continues: the list's resourceVersion and the last key returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinueToken {
    pub rv: u64,
    pub namespace: String,
    pub name: String,
}

impl ContinueToken {
    /// An opaque, URL-safe token (hex of a small JSON document).
    pub fn encode(&self) -> String {
        let doc = serde_json::json!({"rv": self.rv, "ns": self.namespace, "name": self.name});
        doc.to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn decode(token: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::bad_request(format!("continue key is not valid: {token:.40}"));
        if !token.len().is_multiple_of(2) || !token.is_ascii() {
            return Err(bad());
        }
        let bytes: Vec<u8> = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(ContinueToken {
            rv: doc["rv"].as_u64().ok_or_else(bad)?,
            namespace: doc["ns"].as_str().ok_or_else(bad)?.to_string(),
            name: doc["name"].as_str().ok_or_else(bad)?.to_string(),
        })
    }
}

/// One page of a list: the items, and the token for the rest with how many remain (unknown
/// with a selector: the apiserver then leaves `remainingItemCount` unset).
pub struct Page<'a, T> {
    pub items: Vec<&'a T>,
    pub next: Option<(ContinueToken, Option<usize>)>,
}

impl<'a, T: AsRef<Value>> Page<'a, T> {
    /// A page of `items` with `remaining` more after it (a continue token when there are;
    /// `Some(None)`: more, count unknown).
    pub fn new(items: Vec<&'a T>, remaining: Option<Option<usize>>, rv: u64) -> Self {
        let next = match (items.last(), remaining) {
            (Some(last), Some(count)) => {
                let last = last.as_ref();
                Some((
                    ContinueToken {
                        rv,
                        namespace: last["metadata"]["namespace"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        name: last["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    },
                    count,
                ))
            }
            _ => None,
        };
        Page { items, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{EVENTS, PODS};
    use serde_json::json;

    fn pod(name: &str, labels: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "d", "labels": labels},
               "spec": {"nodeName": "w1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selector_operators() {
        let p = pod("a", json!({"app": "web", "tier": "front"}));
        let m = |s: &str| LabelSelector::parse(s).expect(s).matches(&p);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("tier in (front, back)"));
        assert!(!m("tier notin (front,back)"));
        assert!(m("env notin (prod)"));
        assert!(m("!canary"));
        assert!(!m("!app"));
        assert!(!m("missing"));
        assert!(m("app in (web),tier=front"));
        assert!(LabelSelector::parse("app=(").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selector_known_fields_and_errors() {
        let p = pod("a", json!({}));
        let m = |s: &str| FieldSelector::parse(&PODS, s).expect(s).matches(&p);
        assert!(m("spec.nodeName=w1"));
        assert!(m("status.phase!=Pending,metadata.name=a"));
        assert!(!m("metadata.namespace==other"));
        let e = FieldSelector::parse(&PODS, "spec.foo=1").expect_err("unknown");
        assert_eq!(e.message, "field label not supported: spec.foo");
        let ev = json!({"involvedObject": {"kind": "Pod", "name": "a"}, "reason": "Failed",
                        "source": {"component": "kubelet"}});
        let s = FieldSelector::parse(
            &EVENTS,
            "involvedObject.name=a,source=kubelet,reason=Failed",
        )
        .expect("parse");
        assert!(s.matches(&ev));
        assert!(FieldSelector::parse(&EVENTS, "spec.nodeName=x").is_err());
    }
}
