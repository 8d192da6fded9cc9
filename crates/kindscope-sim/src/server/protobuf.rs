//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into the JSON the
//! rest of the sim works on.
//!
//! client-go's generated clients for built-in types send protobuf (kubectl's `create
//! deployment/configmap/secret/…`, `auth can-i`, `auth whoami`), and the client only falls back
//! to JSON after a 415 for CBOR, never for protobuf (docs/sim.md, "Protobuf"). They accept JSON
//! answers (`Accept: application/vnd.kubernetes.protobuf,application/json`), so only requests
//! are decoded; every answer stays JSON.
//!
//! The wire format: the magic `k8s\0`, then a `runtime.Unknown` message whose `typeMeta` names
//! apiVersion and kind and whose `raw` is the object's message. Field numbers come from
//! `protobuf_schema.txt`. Go's protobuf encoder writes every non-pointer field, zero or not,
//! while its JSON encoder leaves zero values out (`omitempty`): zero scalars are dropped, except
//! for the pointer fields where zero means something (`replicas: 0`). Empty messages are kept as
//! `{}` (`emptyDir: {}`, `resources: {}`), as Go's JSON encoder writes them.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use kindscope_core::time::Precision;
use serde_json::{Map, Value, json};

use super::super::status::ApiError;

const SCHEMA: &str = include_str!("protobuf_schema.txt");
const MAGIC: &[u8] = b"k8s\0";
/// Nesting deeper than this is refused (a hostile body must not exhaust the stack).
const MAX_DEPTH: usize = 64;

/// Fields whose Go type is a pointer wherever they appear, so that a zero on the wire is a
/// value the client set (k8s.io/api types.go); `replicas` is one only in specs.
const POINTERS: &[&str] = &[
    "parallelism",
    "completions",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "activeDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "terminationGracePeriodSeconds",
    "gracePeriodSeconds",
    "orphanDependents",
    "automountServiceAccountToken",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "startingDeadlineSeconds",
    "suspend",
    "immutable",
    "enableServiceLinks",
    "hostUsers",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "fsGroup",
    "privileged",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "defaultMode",
    "optional",
    "partition",
    "minAvailable",
    "maxUnavailable",
    "maxSurge",
];

fn is_pointer(msg: &str, field: &str) -> bool {
    POINTERS.contains(&field)
        || (field == "replicas" && msg.ends_with("Spec"))
        || (field == "priority" && msg == "core.PodSpec")
}

/// Is this Content-Type the Kubernetes protobuf encoding?
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim() == "application/vnd.kubernetes.protobuf")
}

#[derive(Debug, Clone)]
enum Ty {
    Str,
    Bool,
    Int,
    Bytes,
    Double,
    Msg(&'static str),
}

#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    ty: Ty,
    repeated: bool,
    map: bool,
}

type Schema = HashMap<&'static str, HashMap<u64, Field>>;

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        let mut out = HashMap::new();
        for line in SCHEMA.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let Some(msg) = words.next() else { continue };
            let mut fields = HashMap::new();
            for w in words {
                let mut parts = w.splitn(3, ':');
                let (Some(num), Some(name), Some(ty)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Ok(num) = num.parse::<u64>() else {
                    continue;
                };
                let (repeated, map, ty) = if let Some(t) = ty.strip_prefix('*') {
                    (true, false, t)
                } else if let Some(t) = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    (false, true, t)
                } else {
                    (false, false, ty)
                };
                let ty = match ty {
                    "s" => Ty::Str,
                    "b" => Ty::Bool,
                    "i" => Ty::Int,
                    "y" => Ty::Bytes,
                    "d" => Ty::Double,
                    m => Ty::Msg(m),
                };
                fields.insert(
                    num,
                    Field {
                        name,
                        ty,
                        repeated,
                        map,
                    },
                );
            }
            out.insert(msg, fields);
        }
        out
    })
}

fn malformed(why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "the body of the request could not be decoded: protobuf: {why}"
    ))
}

/// One field on the wire.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ApiError> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| malformed("truncated varint"))?;
            self.pos += 1;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("varint too long"))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ApiError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| malformed("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn next(&mut self) -> Result<Option<(u64, Wire<'a>)>, ApiError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().map_err(|_| malformed("fixed64"))?,
            )),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| malformed("length"))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().map_err(|_| malformed("fixed32"))?,
            )),
            t => return Err(malformed(&format!("unsupported wire type {t}"))),
        };
        Ok(Some((key >> 3, wire)))
    }
}

fn fields(buf: &[u8]) -> impl Iterator<Item = Result<(u64, Wire<'_>), ApiError>> {
    let mut r = Reader { buf, pos: 0 };
    std::iter::from_fn(move || r.next().transpose())
}

/// The message's own fields by number (last value wins for scalars, as protobuf says).
fn scalars(buf: &[u8]) -> Result<HashMap<u64, Wire<'_>>, ApiError> {
    let mut m = HashMap::new();
    for f in fields(buf) {
        let (n, w) = f?;
        m.insert(n, w);
    }
    Ok(m)
}

fn as_str(w: Option<&Wire>) -> Result<String, ApiError> {
    match w {
        None => Ok(String::new()),
        Some(Wire::Bytes(b)) => String::from_utf8(b.to_vec()).map_err(|_| malformed("string")),
        Some(_) => Err(malformed("expected a string")),
    }
}

fn as_int(w: Option<&Wire>) -> i64 {
    match w {
        Some(Wire::Varint(v)) => *v as i64,
        _ => 0,
    }
}

/// `metav1.Time`/`MicroTime` ({seconds, nanos}) as the apiserver writes them in JSON.
fn time(buf: &[u8], micro: bool) -> Result<Value, ApiError> {
    let f = scalars(buf)?;
    let (secs, nanos) = (as_int(f.get(&1)), as_int(f.get(&2)));
    if secs == 0 && nanos == 0 {
        return Ok(Value::Null);
    }
    // Negative nanos read as 0, as before; too many are out of range.
    let nanos = i32::try_from(nanos.max(0)).unwrap_or(i32::MAX);
    let t = jiff::Timestamp::new(secs, nanos).map_err(|_| malformed("time out of range"))?;
    let format = if micro {
        Precision::Micros
    } else {
        Precision::Secs
    };
    Ok(json!(kindscope_core::time::rfc3339(t, format)))
}

/// Go's `time.Duration.String()` for whole seconds or less (`1h2m3s`, `1.5s`, `0s`).
fn duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let (sign, n) = if nanos < 0 {
        ("-", -nanos)
    } else {
        ("", nanos)
    };
    let (h, m) = (n / 3_600_000_000_000, (n / 60_000_000_000) % 60);
    let s = (n % 60_000_000_000) as f64 / 1e9;
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, _) => format!("{sign}{m}m{s}s"),
        _ => format!("{sign}{h}h{m}m{s}s"),
    }
}

/// A message of a type with its own JSON form, or None for ordinary messages.
fn special(ty: &str, buf: &[u8]) -> Result<Option<Value>, ApiError> {
    Ok(Some(match ty {
        "meta.Time" => time(buf, false)?,
        "meta.MicroTime" => time(buf, true)?,
        "resource.Quantity" => json!(as_str(scalars(buf)?.get(&1))?),
        "intstr.IntOrString" => {
            let f = scalars(buf)?;
            if as_int(f.get(&1)) == 1 {
                json!(as_str(f.get(&3))?)
            } else {
                json!(as_int(f.get(&2)) as i32)
            }
        }
        "meta.Duration" => json!(duration(as_int(scalars(buf)?.get(&1)))),
        // Raw JSON inside (managed fields' FieldsV1, RawExtension).
        "meta.FieldsV1" | "runtime.RawExtension" => match scalars(buf)?.get(&1) {
            Some(Wire::Bytes(raw)) => serde_json::from_slice(raw).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        _ => return Ok(None),
    }))
}

fn scalar(field: &Field, w: &Wire) -> Result<Value, ApiError> {
    Ok(match (&field.ty, w) {
        (Ty::Str, Wire::Bytes(_)) => json!(as_str(Some(w))?),
        (Ty::Bytes, Wire::Bytes(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        (Ty::Bool, Wire::Varint(v)) => json!(*v != 0),
        (Ty::Int, Wire::Varint(v)) => json!(*v as i64),
        (Ty::Double, Wire::Fixed64(v)) => json!(f64::from_bits(*v)),
        (Ty::Double, Wire::Fixed32(v)) => json!(f32::from_bits(*v)),
        _ => {
            return Err(malformed(&format!(
                "field {} has the wrong type",
                field.name
            )));
        }
    })
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn value(field: &Field, w: &Wire, depth: usize) -> Result<Value, ApiError> {
    match (&field.ty, w) {
        (Ty::Msg(ty), Wire::Bytes(b)) => message(ty, b, depth + 1),
        _ => scalar(field, w),
    }
}

/// Decode one message of type `ty` into its JSON form.
fn message(ty: &str, buf: &[u8], depth: usize) -> Result<Value, ApiError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    if let Some(v) = special(ty, buf)? {
        return Ok(v);
    }
    let Some(schema) = schema().get(ty) else {
        return Err(malformed(&format!("no schema for {ty}")));
    };
    let mut out = Map::new();
    for f in fields(buf) {
        let (num, w) = f?;
        // A field this schema does not know (newer than it) is skipped, as protobuf decoders do.
        let Some(field) = schema.get(&num) else {
            continue;
        };
        if field.map {
            let Wire::Bytes(entry) = w else {
                return Err(malformed("map entry"));
            };
            let e = scalars(entry)?;
            let key = as_str(e.get(&1))?;
            let val = match e.get(&2) {
                Some(vw) => value(field, vw, depth)?,
                None => match field.ty {
                    Ty::Msg(_) => json!({}),
                    Ty::Bytes | Ty::Str => json!(""),
                    _ => json!(0),
                },
            };
            let slot = out
                .entry(field.name)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = slot.as_object_mut() {
                m.insert(key, val);
            }
        } else if field.repeated {
            let slot = out.entry(field.name).or_insert_with(|| json!([]));
            let items = match (&field.ty, &w) {
                // Packed repeated scalars (proto3 style): several varints in one field.
                (Ty::Int | Ty::Bool, Wire::Bytes(b)) => {
                    let mut r = Reader { buf: b, pos: 0 };
                    let mut v = Vec::new();
                    while r.pos < b.len() {
                        v.push(scalar(field, &Wire::Varint(r.varint()?))?);
                    }
                    v
                }
                _ => vec![value(field, &w, depth)?],
            };
            if let Some(a) = slot.as_array_mut() {
                a.extend(items);
            }
        } else {
            let v = value(field, &w, depth)?;
            if (is_zero(&v) && !is_pointer(ty, field.name)) || v.is_null() {
                out.remove(field.name);
            } else {
                out.insert(field.name.to_string(), v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// The schema message for an apiVersion and kind.
fn message_for(api_version: &str, kind: &str) -> Option<String> {
    if kind == "DeleteOptions" {
        return Some("meta.DeleteOptions".into());
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let alias = match group {
        "" => "core",
        "authorization.k8s.io" => "authz",
        "authentication.k8s.io" => "authn",
        g @ ("apps" | "batch" | "autoscaling" | "policy") => g,
        _ => return None,
    };
    (version == "v1").then(|| format!("{alias}.{kind}"))
}

/// Decode a protobuf request body into the object's JSON (with apiVersion and kind).
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let Some(envelope) = body.strip_prefix(MAGIC) else {
        return Err(malformed(
            "the body does not start with the Kubernetes magic number",
        ));
    };
    let f = scalars(envelope)?;
    let (api_version, kind) = match f.get(&1) {
        Some(Wire::Bytes(tm)) => {
            let t = scalars(tm)?;
            (as_str(t.get(&1))?, as_str(t.get(&2))?)
        }
        _ => return Err(malformed("no type in the envelope")),
    };
    let raw: &[u8] = match f.get(&2) {
        Some(Wire::Bytes(b)) => b,
        _ => &[],
    };
    let ty = message_for(&api_version, &kind)
        .filter(|m| schema().contains_key(m.as_str()))
        .ok_or_else(|| {
            ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the sim decodes protobuf only for the built-in types it serves, not \
                     {kind} {api_version}; send JSON (Content-Type: application/json)"
                ),
            )
        })?;
    let mut obj = message(&ty, raw, 0)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
