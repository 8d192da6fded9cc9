//! Sources for the dashboard: findings are re-derived on every snapshot, so each distinct
//! question (image asked for, names meant) is searched once, on a background thread, and
//! answered from memory afterwards. Until a search is done its findings carry no sources.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{Budget, Source, attach_sources};
use crate::diagnose::Finding;

type Key = (String, Option<String>, Vec<String>);

/// Searched and in-flight questions of one repository.
pub struct SourceCache {
    root: PathBuf,
    known: Mutex<HashMap<Key, Option<Vec<Source>>>>,
}

fn key(f: &Finding) -> Key {
    (
        f.image.clone(),
        f.suggested_image.clone(),
        f.candidates.clone(),
    )
}

impl SourceCache {
    pub fn new(root: PathBuf) -> Arc<Self> {
        Arc::new(SourceCache {
            root,
            known: Mutex::new(HashMap::new()),
        })
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// Set the sources already known; start one background search for the questions not asked
    /// before.
    pub fn fill(self: &Arc<Self>, findings: &mut [Finding]) {
        let mut fresh: Vec<Finding> = Vec::new();
        {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            for f in findings.iter_mut() {
                match known.get(&key(f)) {
                    Some(Some(sources)) => f.sources = sources.clone(),
                    Some(None) => {}
                    None => {
                        known.insert(key(f), None);
                        fresh.push(f.clone());
                    }
                }
            }
        }
        if fresh.is_empty() {
            return;
        }
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("kindscope-source".into())
            .spawn(move || {
                attach_sources(&mut fresh, &me.root, Budget::default());
                let mut known = me.known.lock().unwrap_or_else(|e| e.into_inner());
                for f in fresh {
                    known.insert(key(&f), Some(f.sources));
                }
            });
        if spawned.is_err() {
            tracing::warn!("could not start the source search thread");
        }
    }

    /// The sources of a finding once its search is done.
    pub fn get(&self, f: &Finding) -> Option<Vec<Source>> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.get(&key(f)).cloned().flatten()
    }
}
