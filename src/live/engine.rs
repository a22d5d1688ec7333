//! The analysis thread of the live show: drains the ring, runs the
//! [`Analyzer`], publishes the latest [`FeatureFrame`], applies beat overrides.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::analysis::{Analyzer, BeatOverride, FeatureFrame};
use crate::audio::feed::AudioFeed;

/// The latest analysis result, shared with the render thread.
#[derive(Default)]
pub struct Snapshot {
    /// Latest frame.
    pub frame: FeatureFrame,
    /// Onsets seen so far (for the status line).
    pub onsets: u64,
}

/// Handle to the running analysis thread.
pub struct AnalysisThread {
    /// Latest analysis state.
    pub snapshot: Arc<Mutex<Snapshot>>,
    commands: Sender<BeatOverride>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl AnalysisThread {
    /// Starts analysing `feed`.
    pub fn start(mut feed: AudioFeed) -> Self {
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let (commands, rx): (Sender<BeatOverride>, Receiver<BeatOverride>) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (t_snap, t_stop) = (snapshot.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("analysis".into())
            .spawn(move || {
                let mut analyzer = Analyzer::new(feed.sample_rate);
                let mut block = vec![0.0f32; 1024];
                let mut onsets = 0u64;
                while !t_stop.load(Ordering::Relaxed) {
                    while let Ok(o) = rx.try_recv() {
                        analyzer.override_beat(o);
                    }
                    let available = feed.consumer.slots().min(block.len());
                    if available == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                    let Ok(chunk) = feed.consumer.read_chunk(available) else {
                        continue;
                    };
                    let (a, b) = chunk.as_slices();
                    block[..a.len()].copy_from_slice(a);
                    block[a.len()..a.len() + b.len()].copy_from_slice(b);
                    chunk.commit_all();
                    onsets += analyzer
                        .process(&block[..available])
                        .iter()
                        .filter(|e| e.kind == crate::analysis::EventKind::Onset)
                        .count() as u64;
                    if let Ok(mut s) = t_snap.lock() {
                        s.frame = *analyzer.frame();
                        s.onsets = onsets;
                    }
                }
            })
            .ok();
        Self {
            snapshot,
            commands,
            stop,
            handle,
        }
    }

    /// A copy of the latest frame.
    pub fn latest(&self) -> FeatureFrame {
        self.snapshot.lock().map(|s| s.frame).unwrap_or_default()
    }

    /// Sends a beat override (tap, nudge, resync...).
    pub fn send(&self, o: BeatOverride) {
        let _ = self.commands.send(o);
    }
}

impl Drop for AnalysisThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
