//! Live audio into the analysis: cpal capture or playback, a wait-free ring,
//! and the audio clock.
//!
//! The audio callback only downmixes, copies into an `rtrb` ring and bumps
//! atomics: no allocation, no lock, no log, no I/O. When the ring is full the
//! samples are dropped and counted (an overrun), never waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

/// Ring capacity: about 1.5 s at 44.1 kHz, far more than one analysis stall.
pub const RING_CAPACITY: usize = 1 << 16;

/// Frames per playback callback asked of the device.
const PLAYBACK_BLOCK: u32 = 1024;

/// Why live audio could not start.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// No device of that kind, or none matched the name.
    #[error("no audio {kind} device{}", name.as_ref().map_or(String::new(), |n| format!(" named '{n}'")))]
    NoDevice {
        /// "input" or "output".
        kind: &'static str,
        /// The requested name.
        name: Option<String>,
    },
    /// The device refused the stream.
    #[error("audio device error: {0}")]
    Device(String),
}

/// The stream clock shared between the audio callback and the other threads.
#[derive(Debug, Default)]
pub struct AudioClock {
    /// Samples (per channel) delivered so far.
    pub samples: AtomicU64,
    /// Samples dropped because the ring was full.
    pub overruns: AtomicU64,
    /// Playback: how far ahead of the sound the clock runs, from the output
    /// callback's timestamps (µs from the callback to the moment its last
    /// sample is heard); 0 until measured (and for capture).
    pub output_latency_us: AtomicU64,
    /// The most frames one callback has delivered (a block larger than the
    /// ring cannot be analysed whole: see [`RING_CAPACITY`]).
    pub largest_block: AtomicU64,
    /// Sample rate, Hz.
    pub sample_rate: AtomicU64,
    /// Errors reported by the stream's error callback (counted, never
    /// logged there: the window reports them at most once a second).
    pub errors: AtomicU64,
    /// Latency calibration: playback adds a click at every whole second of
    /// stream time while this is set.
    pub click: AtomicBool,
    /// The latest error's text (written with `try_lock`, never waited for).
    pub last_error: std::sync::Mutex<String>,
    /// Input latency from cpal's timestamps (capture to callback), µs.
    pub input_latency_us: AtomicU64,
    /// Wall time ([`wall_s`], ns) of the latest input callback...
    pub anchor_wall_ns: AtomicU64,
    /// ... and the sample count at the start of its buffer.
    pub anchor_samples: AtomicU64,
    /// Capture: the second channel arrives in anti-phase and is taken
    /// inverted (see [`super::downmix`]).
    pub inverted_leg: AtomicBool,
}

static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Seconds on a process-wide monotonic clock (the same for the audio
/// callbacks, the analysis thread and the window): what `--record-events`
/// writes as wall-clock time.
pub fn wall_s() -> f64 {
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

impl AudioClock {
    /// A clock at `sample_rate` with its ring: (producer for the audio
    /// thread, consumer for the analysis, the shared clock).
    fn with_ring(sample_rate: u32) -> (rtrb::Producer<f32>, rtrb::Consumer<f32>, Arc<Self>) {
        let (producer, consumer) = rtrb::RingBuffer::<f32>::new(RING_CAPACITY);
        let clock = Arc::new(Self::default());
        clock
            .sample_rate
            .store(u64::from(sample_rate), Ordering::Relaxed);
        (producer, consumer, clock)
    }

    /// Called by the audio thread after each callback: `frames` delivered,
    /// `dropped` of them lost to a full ring. Atomics only: real-time safe.
    #[inline]
    fn record(&self, frames: usize, dropped: u64) {
        self.samples.fetch_add(frames as u64, Ordering::Relaxed);
        self.largest_block
            .fetch_max(frames as u64, Ordering::Relaxed);
        if dropped > 0 {
            self.overruns.fetch_add(dropped, Ordering::Relaxed);
        }
    }

    /// Counts a stream error; keeps its text when the lock is free.
    fn error(&self, e: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_error.try_lock() {
            last.clear();
            use std::fmt::Write;
            let _ = write!(last, "{e}");
        }
    }

    /// Records an input callback's timing (atomics only: real-time safe):
    /// its buffer starts at the current sample count, arrived now, and
    /// was captured `latency` earlier (from cpal's timestamps).
    #[inline]
    fn anchor(&self, latency: std::time::Duration) {
        let wall = EPOCH.get().map_or(0, |e| e.elapsed().as_nanos() as u64);
        self.anchor_samples
            .store(self.samples.load(Ordering::Relaxed), Ordering::Relaxed);
        self.anchor_wall_ns.store(wall, Ordering::Relaxed);
        self.input_latency_us
            .store(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// The wall time ([`wall_s`]) at which the input sample at stream time
    /// `t` was captured, from the latest callback's timing; `None` before the
    /// first input callback (file playback has none).
    pub fn capture_wall_time(&self, t: f64) -> Option<f64> {
        let wall_ns = self.anchor_wall_ns.load(Ordering::Relaxed);
        if wall_ns == 0 {
            return None;
        }
        let sr = self.sample_rate.load(Ordering::Relaxed).max(1) as f64;
        let anchor_t = self.anchor_samples.load(Ordering::Relaxed) as f64 / sr;
        let latency = self.input_latency_us.load(Ordering::Relaxed) as f64 * 1e-6;
        Some(wall_ns as f64 * 1e-9 - latency + (t - anchor_t))
    }

    /// Input latency from cpal's timestamps (s).
    pub fn input_latency(&self) -> f64 {
        self.input_latency_us.load(Ordering::Relaxed) as f64 * 1e-6
    }

    /// Playback latency measured from the output stream's timestamps
    /// (seconds), once a callback has reported one.
    pub fn output_latency(&self) -> Option<f64> {
        match self.output_latency_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some((us as f64 * 1e-6).min(1.0)),
        }
    }

    /// Stream time of the newest delivered sample, seconds.
    pub fn now(&self) -> f64 {
        let sr = self.sample_rate.load(Ordering::Relaxed).max(1);
        self.samples.load(Ordering::Relaxed) as f64 / sr as f64
    }
}

/// A running live source: the consumer end of the ring plus its clock. The
/// cpal stream (if any) must stay alive on the thread that created it.
pub struct AudioFeed {
    /// Mono samples for the analysis thread.
    pub consumer: rtrb::Consumer<f32>,
    /// Sample rate of the feed.
    pub sample_rate: u32,
    /// The shared clock.
    pub clock: Arc<AudioClock>,
    /// What it is, for the log and the window title.
    pub description: String,
    /// Output latency of the device buffer (s), known for playback.
    pub output_latency: f64,
}

/// Keeps a cpal stream or a virtual playback thread alive.
pub enum FeedHandle {
    /// A cpal stream; its callback does nothing once `retired` is set.
    Stream(cpal::Stream, Arc<AtomicBool>),
    /// A thread pacing a clip in real time (no audio device).
    Virtual(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>),
}

impl FeedHandle {
    /// Lets go of a stream that may be dead (its device or sound server
    /// gone): its callback stops touching the clock at once, and the stream
    /// is dropped on a thread of its own, since closing a dead device can
    /// block for good (ALSA's pulse plugin waiting on a lock of a server
    /// that is gone) and the show must not.
    pub fn retire(self) {
        if let FeedHandle::Stream(_, retired) = &self {
            retired.store(true, Ordering::Relaxed);
        }
        let _ = std::thread::Builder::new()
            .name("retired-audio".into())
            .spawn(move || drop(self));
    }
}

impl Drop for FeedHandle {
    fn drop(&mut self) {
        if let FeedHandle::Virtual(stop, handle) = self {
            stop.store(true, Ordering::Relaxed);
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Names of the available input devices of the default host (ALSA on
/// Linux; through its `pulse` device, PulseAudio's default source).
pub fn input_device_names() -> Vec<String> {
    let mut names: Vec<String> = cpal::default_host()
        .input_devices()
        .map(|d| d.map(|d| d.to_string()).collect())
        .unwrap_or_default();
    names.dedup();
    names
}

/// Every audio host and its input devices, for `sonolux devices`.
pub fn hosts_and_inputs() -> Vec<(String, Vec<String>)> {
    cpal::available_hosts()
        .into_iter()
        .filter_map(|id| cpal::host_from_id(id).ok().map(|h| (id, h)))
        .map(|(id, h)| {
            let inputs = h
                .input_devices()
                .map(|d| d.map(|d| d.to_string()).collect())
                .unwrap_or_default();
            (id.name().to_string(), inputs)
        })
        .collect()
}

/// Starts capturing from the input device named `name` (substring match), or
/// the default input.
pub fn capture(name: Option<&str>) -> Result<(AudioFeed, FeedHandle), FeedError> {
    capture_on(name, None)
}

/// Like [`capture`], continuing `clock` (when reopening a lost input) so the
/// show's time runs on without a jump.
pub fn capture_on(
    name: Option<&str>,
    clock: Option<Arc<AudioClock>>,
) -> Result<(AudioFeed, FeedHandle), FeedError> {
    // Start the wall clock before the stream (the callback only reads it).
    wall_s();
    let host = cpal::default_host();
    let device = match name {
        Some(n) if n != "default" => host
            .input_devices()
            .map_err(|e| FeedError::Device(e.to_string()))?
            .find(|d| d.to_string().contains(n)),
        _ => host.default_input_device(),
    }
    .ok_or_else(|| FeedError::NoDevice {
        kind: "input",
        name: name.map(str::to_owned),
    })?;
    let supported = device
        .default_input_config()
        .map_err(|e| FeedError::Device(e.to_string()))?;
    let mut config = supported.config();
    // Small blocks (about 10 ms) where the device lets us choose: a sound
    // server's default can be seconds per block (PulseAudio's record
    // fragment), which the analysis would see as silence, then a burst.
    config.buffer_size = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } if *min <= 512 && 512 <= *max => {
            cpal::BufferSize::Fixed(512)
        }
        _ => cpal::BufferSize::Default,
    };
    let channels = usize::from(config.channels.max(1));
    let sample_rate = config.sample_rate;
    let (mut producer, consumer, clock) = match clock {
        Some(c) => {
            let (p, c2) = rtrb::RingBuffer::<f32>::new(RING_CAPACITY);
            (p, c2, c)
        }
        None => AudioClock::with_ring(sample_rate),
    };
    clock.inverted_leg.store(false, Ordering::Relaxed);
    let cb_clock = clock.clone();
    let err_clock = clock.clone();
    let retired = Arc::new(AtomicBool::new(false));
    let cb_retired = retired.clone();
    // The channels' mean, or with the second leg inverted while it
    // arrives in anti-phase (see `downmix`).
    let mut downmix = super::downmix::Downmix::new(sample_rate);
    let stream = device
        .build_input_stream::<f32, _, _>(
            config,
            move |data: &[f32], info: &cpal::InputCallbackInfo| {
                if cb_retired.load(Ordering::Relaxed) {
                    return;
                }
                let ts = info.timestamp();
                cb_clock.anchor(ts.callback.duration_since(ts.capture));
                let mut dropped = 0u64;
                for frame in data.chunks_exact(channels) {
                    let s = downmix.push(frame);
                    if producer.push(s).is_err() {
                        dropped += 1;
                    }
                }
                cb_clock
                    .inverted_leg
                    .store(downmix.inverted(), Ordering::Relaxed);
                cb_clock.record(data.len() / channels, dropped);
            },
            move |e| err_clock.error(&e),
            None,
        )
        .map_err(|e| FeedError::Device(e.to_string()))?;
    stream
        .play()
        .map_err(|e| FeedError::Device(e.to_string()))?;
    let description = format!("input '{device}' at {sample_rate} Hz");
    Ok((
        AudioFeed {
            consumer,
            sample_rate,
            clock,
            description,
            output_latency: 0.0,
        },
        FeedHandle::Stream(stream, retired),
    ))
}

/// Plays `samples` (mono, looping) on the default output and feeds the same
/// samples to the analysis. Without an output device, paces the clip on a
/// thread at real time instead, so the show still runs (silently).
pub fn playback(samples: Arc<[f32]>, sample_rate: u32) -> (AudioFeed, FeedHandle) {
    match playback_device(samples.clone(), sample_rate) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("{e}; playing the track silently on a virtual clock");
            virtual_playback(samples, sample_rate)
        }
    }
}

fn playback_device(
    samples: Arc<[f32]>,
    sample_rate: u32,
) -> Result<(AudioFeed, FeedHandle), FeedError> {
    let host = cpal::default_host();
    let device = host.default_output_device().ok_or(FeedError::NoDevice {
        kind: "output",
        name: None,
    })?;
    let supported = device
        .default_output_config()
        .map_err(|e| FeedError::Device(e.to_string()))?;
    let channels = usize::from(supported.channels().max(1));
    // A small, fixed block (~23 ms at 44.1 kHz). With the default, the
    // PulseAudio host asks for its whole 2 s target buffer in one callback:
    // more than the ring holds (so the analysis lost a quarter of the
    // audio), and the picture ran up to 2 s ahead of the sound.
    let block = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } => PLAYBACK_BLOCK.clamp(*min, *max),
        cpal::SupportedBufferSize::Unknown => PLAYBACK_BLOCK,
    };
    let config = cpal::StreamConfig {
        channels: supported.channels(),
        sample_rate,
        buffer_size: cpal::BufferSize::Fixed(block),
    };
    let (mut producer, consumer, clock) = AudioClock::with_ring(sample_rate);
    let cb_clock = clock.clone();
    let err_clock = clock.clone();
    let retired = Arc::new(AtomicBool::new(false));
    let cb_retired = retired.clone();
    let mut pos = 0usize;
    let stream = device
        .build_output_stream::<f32, _, _>(
            config,
            move |data: &mut [f32], info: &cpal::OutputCallbackInfo| {
                if cb_retired.load(Ordering::Relaxed) {
                    data.fill(0.0);
                    return;
                }
                // The block's first sample is heard at `playback`; the
                // clock, once this block is counted, is at its last one.
                let ts = info.timestamp();
                let ahead = ts.playback.duration_since(ts.callback).as_micros() as u64
                    + (data.len() / channels) as u64 * 1_000_000 / u64::from(sample_rate.max(1));
                cb_clock
                    .output_latency_us
                    .store(ahead.max(1), Ordering::Relaxed);
                let mut dropped = 0u64;
                let clicking = cb_clock.click.load(Ordering::Relaxed);
                let first = cb_clock.samples.load(Ordering::Relaxed);
                for (n, frame) in (first..).zip(data.chunks_exact_mut(channels)) {
                    let s = samples.get(pos).copied().unwrap_or(0.0);
                    pos += 1;
                    if pos >= samples.len() {
                        pos = 0;
                    }
                    // The click: 10 ms of a decaying 2 kHz tone from each
                    // whole second of stream time (heard, not analysed).
                    let k = n % u64::from(sample_rate);
                    let heard = if clicking && k < u64::from(sample_rate / 100) {
                        let t = k as f32 / sample_rate as f32;
                        s * 0.3
                            + 0.8 * (t * 2000.0 * std::f32::consts::TAU).sin() * (1.0 - t * 100.0)
                    } else {
                        s
                    };
                    frame.fill(heard);
                    if producer.push(s).is_err() {
                        dropped += 1;
                    }
                }
                cb_clock.record(data.len() / channels, dropped);
            },
            move |e| err_clock.error(&e),
            None,
        )
        .map_err(|e| FeedError::Device(e.to_string()))?;
    stream
        .play()
        .map_err(|e| FeedError::Device(e.to_string()))?;
    Ok((
        AudioFeed {
            consumer,
            sample_rate,
            clock,
            description: format!("playing on '{device}'"),
            // Until the stream reports its timestamps (`AudioClock::
            // output_latency`); the VJ's latency offset covers the rest.
            output_latency: 0.02,
        },
        FeedHandle::Stream(stream, retired),
    ))
}

/// An output stream that plays only the latency-calibration click (10 ms at
/// each whole second of its own clock), for shows on live input, which
/// have no playback to put the click in. Returns its clock (samples played)
/// and the stream.
pub fn calibration_clicks(sample_rate: u32) -> Result<(Arc<AudioClock>, FeedHandle), FeedError> {
    let silence: Arc<[f32]> = vec![0.0; sample_rate as usize].into();
    let (feed, handle) = playback_device(silence, sample_rate)?;
    feed.clock.click.store(true, Ordering::Relaxed);
    Ok((feed.clock, handle))
}

/// Paces `samples` into the ring at real time on a thread (no audio device).
pub fn virtual_playback(samples: Arc<[f32]>, sample_rate: u32) -> (AudioFeed, FeedHandle) {
    let (mut producer, consumer, clock) = AudioClock::with_ring(sample_rate);
    let stop = Arc::new(AtomicBool::new(false));
    let (t_clock, t_stop) = (clock.clone(), stop.clone());
    let handle = std::thread::Builder::new()
        .name("virtual-playback".into())
        .spawn(move || {
            let start = Instant::now();
            let mut sent = 0u64;
            while !t_stop.load(Ordering::Relaxed) {
                let due = (start.elapsed().as_secs_f64() * f64::from(sample_rate)) as u64;
                while sent < due {
                    let s = samples
                        .get((sent % samples.len().max(1) as u64) as usize)
                        .copied()
                        .unwrap_or(0.0);
                    if producer.push(s).is_err() {
                        t_clock.overruns.fetch_add(1, Ordering::Relaxed);
                    }
                    sent += 1;
                }
                t_clock.samples.store(sent, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .ok();
    (
        AudioFeed {
            consumer,
            sample_rate,
            clock,
            description: "virtual clock (no audio output)".into(),
            output_latency: 0.0,
        },
        FeedHandle::Virtual(stop, handle),
    )
}
