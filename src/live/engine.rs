//! The analysis thread of the live show: drains the ring, runs the
//! [`Analyzer`], publishes the latest [`FeatureFrame`], applies beat
//! overrides and input gain.
//!
//! When live input stops delivering (device unplugged, sound server gone)
//! it keeps the clock and the analysis running on silence, so the visuals
//! go on with decaying features, and flags the input as lost; the window
//! reopens the device and hands the new ring over with
//! [`AnalysisThread::replace_input`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::analysis::{Analyzer, BeatOverride, FeatureFrame};
use crate::audio::feed::{AudioClock, AudioFeed};

/// Input silent this long counts as lost (s).
pub const INPUT_LOST_AFTER: f64 = 1.5;
/// ... and before its first block, this long (a sound server can take a
/// moment to start a stream).
pub const INPUT_FIRST_DATA_WITHIN: f64 = 3.0;

/// The latest analysis result, shared with the render thread.
#[derive(Default)]
pub struct Snapshot {
    /// Latest frame.
    pub frame: FeatureFrame,
    /// Onsets seen so far (for the status line).
    pub onsets: u64,
    /// Live input delivers nothing; the analysis runs on silence.
    pub input_lost: bool,
}

enum EngineCommand {
    Beat(BeatOverride),
    Gain(f32),
    Input(rtrb::Consumer<f32>),
    WebAudio(bool),
}

/// Handle to the running analysis thread.
pub struct AnalysisThread {
    /// Latest analysis state.
    pub snapshot: Arc<Mutex<Snapshot>>,
    commands: Sender<EngineCommand>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl AnalysisThread {
    /// Starts analysing `feed`. `live_input`: the feed is a capture device,
    /// so a silent ring means the input is gone (a file never is).
    pub fn start(
        feed: AudioFeed,
        live_input: bool,
        record: Option<super::record::RecordSender>,
    ) -> Self {
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let (commands, rx): (Sender<EngineCommand>, Receiver<EngineCommand>) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (t_snap, t_stop) = (snapshot.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("analysis".into())
            .spawn(move || run(feed, live_input, rx, &t_snap, &t_stop, record))
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

    /// True while live input delivers nothing.
    pub fn input_lost(&self) -> bool {
        self.snapshot.lock().map(|s| s.input_lost).unwrap_or(false)
    }

    /// Sends a beat override (tap, nudge, resync...).
    pub fn send(&self, o: BeatOverride) {
        let _ = self.commands.send(EngineCommand::Beat(o));
    }

    /// Sets the input gain in dB.
    pub fn set_gain_db(&self, db: f32) {
        let _ = self
            .commands
            .send(EngineCommand::Gain(10f32.powf(db / 20.0)));
    }

    /// Computes the Web Audio rows or not (see [`Analyzer::set_web_audio`]):
    /// on while a preset on screen samples Shadertoy's audio texture.
    pub fn set_web_audio(&self, on: bool) {
        let _ = self.commands.send(EngineCommand::WebAudio(on));
    }

    /// Continues the analysis from a reopened input's ring (same clock).
    pub fn replace_input(&self, consumer: rtrb::Consumer<f32>) {
        let _ = self.commands.send(EngineCommand::Input(consumer));
    }
}

fn run(
    mut feed: AudioFeed,
    mut live_input: bool,
    rx: Receiver<EngineCommand>,
    snapshot: &Mutex<Snapshot>,
    stop: &AtomicBool,
    record: Option<super::record::RecordSender>,
) {
    let mut next_clock_line = 0.0;
    let mut analyzer = Analyzer::new(feed.sample_rate);
    let rate = f64::from(feed.sample_rate);
    let mut block = vec![0.0f32; 1024];
    let mut onsets = 0u64;
    let mut gain = 1.0f32;
    let mut last_data = Instant::now();
    let mut filled_until = Instant::now();
    let mut had_data = false;
    let clock: Arc<AudioClock> = feed.clock.clone();
    while !stop.load(Ordering::Relaxed) {
        while let Ok(c) = rx.try_recv() {
            match c {
                EngineCommand::Beat(o) => analyzer.override_beat(o),
                EngineCommand::Gain(g) => gain = g,
                EngineCommand::WebAudio(on) => analyzer.set_web_audio(on),
                EngineCommand::Input(consumer) => {
                    // A reopened stream gets the first-block grace too; the
                    // clock keeps running on silence meanwhile.
                    feed.consumer = consumer;
                    live_input = true;
                    had_data = false;
                }
            }
        }
        let available = feed.consumer.slots().min(block.len());
        let (n, lost) = if available > 0 {
            let Ok(chunk) = feed.consumer.read_chunk(available) else {
                continue;
            };
            let (a, b) = chunk.as_slices();
            block[..a.len()].copy_from_slice(a);
            block[a.len()..a.len() + b.len()].copy_from_slice(b);
            chunk.commit_all();
            if gain != 1.0 {
                block[..available].iter_mut().for_each(|s| *s *= gain);
            }
            if live_input && !had_data {
                // A capture stream's first block: the stream opened
                // whenever the VJ started the show, switched to this input
                // or got it back after it was lost, often in the middle of
                // a song, whose first beat heard is then no downbeat.
                analyzer.joins_music_in_progress();
            }
            last_data = Instant::now();
            filled_until = last_data;
            had_data = true;
            (available, false)
        } else if live_input
            && last_data.elapsed().as_secs_f64()
                > if had_data {
                    INPUT_LOST_AFTER
                } else {
                    INPUT_FIRST_DATA_WITHIN
                }
        {
            // The input is gone: keep time and analysis going on silence.
            let due = (filled_until.elapsed().as_secs_f64() * rate) as usize;
            let n = due.min(block.len());
            if n == 0 {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            filled_until += Duration::from_secs_f64(n as f64 / rate);
            block[..n].fill(0.0);
            clock.samples.fetch_add(n as u64, Ordering::Relaxed);
            (n, true)
        } else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let events = analyzer.process(&block[..n]);
        onsets += events
            .iter()
            .filter(|e| e.kind == crate::analysis::EventKind::Onset)
            .count() as u64;
        if let Some(r) = &record {
            for e in events {
                r.event(e);
            }
            let t = clock.now();
            if t >= next_clock_line
                && let Some(w) = clock.capture_wall_time(t)
            {
                r.clock(t, w, clock.input_latency());
                next_clock_line = t + 1.0;
            }
        }
        if let Ok(mut s) = snapshot.lock() {
            s.frame = *analyzer.frame();
            s.onsets = onsets;
            s.input_lost = lost;
        }
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
