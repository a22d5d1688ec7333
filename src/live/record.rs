//! `sonolux run --record-events FILE`: the live timing chain as JSON lines.
//!
//! - `{"type":"start", ...}`: the source and sample rate;
//! - one line per analysis event (`onset`, `kick`, `snare`, `hat`, `beat`,
//!   with `index` and `bar_position`; `downbeat` for a beat at position 1 as
//!   well): `music_time` is when the sound happened (stream seconds),
//!   `known_music` the stream time when the analysis knew it, `known_wall`
//!   the wall time then;
//! - once a second `{"type":"clock", "music_time", "capture_wall",
//!   "input_latency_ms"}`: when that stream time was captured at the input,
//!   from cpal's callback timestamps;
//! - one line per presented frame: `music_time` it shows, `present_wall`.
//!
//! Wall times are seconds on one monotonic clock ([`crate::audio::feed::wall_s`]).
//! Lines go through a channel to a writer thread: neither the analysis nor
//! the render thread waits for the disk.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{Sender, channel};

use crate::analysis::{Event, EventKind};
use crate::audio::feed::wall_s;

/// Writes the JSON lines (see the module docs).
pub struct EventRecorder {
    tx: Sender<String>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl EventRecorder {
    /// Creates `path` and the writer thread.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        let (tx, rx) = channel::<String>();
        let writer = std::thread::Builder::new()
            .name("record-events".into())
            .spawn(move || {
                // Flushed whenever the queue runs empty, so the file can be
                // followed while the show runs (`bench timing` waits in it
                // for the capture to start).
                let mut out = std::io::BufWriter::new(file);
                while let Ok(first) = rx.recv() {
                    for line in std::iter::once(first).chain(rx.try_iter()) {
                        out.write_all(line.as_bytes())?;
                        out.write_all(b"\n")?;
                    }
                    out.flush()?;
                }
                out.flush()
            })?;
        Ok(Self {
            tx,
            writer: Some(writer),
        })
    }

    /// A sender for another thread.
    pub fn sender(&self) -> RecordSender {
        RecordSender(self.tx.clone())
    }
}

impl Drop for EventRecorder {
    fn drop(&mut self) {
        // The channel closes when every sender is gone; then the file is flushed.
        let (dead, _) = channel();
        self.tx = dead;
        if let Some(w) = self.writer.take()
            && let Ok(Err(e)) = w.join()
        {
            tracing::error!("--record-events: {e}");
        }
    }
}

/// One thread's handle to the recorder.
#[derive(Clone)]
pub struct RecordSender(Sender<String>);

impl RecordSender {
    fn send(&self, line: String) {
        let _ = self.0.send(line);
    }

    /// The first line.
    pub fn start(&self, source: &str, sample_rate: u32) {
        self.send(format!(
            "{{\"type\":\"start\",\"source\":{},\"sample_rate\":{sample_rate},\"wall\":{:.6}}}",
            serde_json::Value::from(source),
            wall_s()
        ));
    }

    /// An analysis event, known now at stream time `known_music`.
    pub fn event(&self, e: &Event) {
        let wall = wall_s();
        let (kind, extra) = match e.kind {
            EventKind::Onset => ("onset", String::new()),
            EventKind::Kick => ("kick", String::new()),
            EventKind::Snare => ("snare", String::new()),
            EventKind::Hat => ("hat", String::new()),
            EventKind::Beat {
                index,
                bar_position,
            } => (
                "beat",
                format!(",\"index\":{index},\"bar_position\":{bar_position}"),
            ),
        };
        self.send(format!(
            "{{\"type\":\"{kind}\",\"music_time\":{:.6},\"known_music\":{:.6},\"known_wall\":{wall:.6},\"strength\":{:.3}{extra}}}",
            e.time, e.detected_at, e.strength
        ));
        if let EventKind::Beat {
            bar_position: 1, ..
        } = e.kind
        {
            self.send(format!(
                "{{\"type\":\"downbeat\",\"music_time\":{:.6},\"known_music\":{:.6},\"known_wall\":{wall:.6}}}",
                e.time, e.detected_at
            ));
        }
    }

    /// When stream time `music_time` was captured.
    pub fn clock(&self, music_time: f64, capture_wall: f64, input_latency: f64) {
        self.send(format!(
            "{{\"type\":\"clock\",\"music_time\":{music_time:.6},\"capture_wall\":{capture_wall:.6},\"input_latency_ms\":{:.3}}}",
            input_latency * 1000.0
        ));
    }

    /// A presented frame showing `music_time`.
    pub fn frame(&self, music_time: f64) {
        self.send(format!(
            "{{\"type\":\"frame\",\"music_time\":{music_time:.6},\"present_wall\":{:.6}}}",
            wall_s()
        ));
    }
}
