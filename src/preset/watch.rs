//! Watching preset folders: edits are noticed within a fraction of a second
//! and reloaded by the show, which keeps the running preset if the new one
//! does not validate.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

/// Counts changes under a folder; the show polls it once per frame.
pub struct PresetWatcher {
    _watcher: notify::RecommendedWatcher,
    changes: Arc<AtomicU64>,
    seen: u64,
    pending_since: Option<Instant>,
}

impl PresetWatcher {
    /// Watches `root` recursively.
    pub fn new(roots: &[&Path]) -> notify::Result<Self> {
        let changes = Arc::new(AtomicU64::new(0));
        let counter = changes.clone();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(ev) = res
                    && (ev.kind.is_modify() || ev.kind.is_create() || ev.kind.is_remove())
                {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })?;
        for root in roots.iter().filter(|r| r.is_dir()) {
            watcher.watch(root, RecursiveMode::Recursive)?;
        }
        Ok(Self {
            _watcher: watcher,
            changes,
            seen: 0,
            pending_since: None,
        })
    }

    /// True once per burst of changes, after they have settled for 150 ms
    /// (editors write files in several steps).
    pub fn poll(&mut self) -> bool {
        let now = self.changes.load(Ordering::Relaxed);
        if now != self.seen {
            self.seen = now;
            self.pending_since = Some(Instant::now());
            return false;
        }
        match self.pending_since {
            Some(t) if t.elapsed() >= Duration::from_millis(150) => {
                self.pending_since = None;
                true
            }
            _ => false,
        }
    }
}
