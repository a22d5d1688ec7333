//! What the analysis publishes: the latest [`FeatureFrame`] and timestamped [`Event`]s.
//!
//! Every value here is part of the shader contract (`shaders/README.md`): its
//! range and meaning do not change without a version bump.

/// Number of log-spaced bands in [`FeatureFrame::bands`].
pub const NUM_BANDS: usize = 16;
/// Texels per row of the spectrum/waveform texture.
pub const SPECTRUM_LEN: usize = 512;

/// The music state after the newest analysed hop. `Copy`, so it can be handed
/// between threads without allocation.
#[derive(Clone, Copy, Debug)]
pub struct FeatureFrame {
    /// Stream time (s) of the newest sample analysed.
    pub time: f64,
    /// RMS level of the last window in dBFS (-120 for silence).
    pub rms_db: f32,
    /// Sample peak of the last window in dBFS (-120 for silence).
    pub peak_db: f32,
    /// Overall loudness, auto-gained 0..1 (instant).
    pub level: f32,
    /// `level` smoothed (attack 60 ms, release 400 ms).
    pub level_att: f32,
    /// Low band 20–250 Hz, auto-gained 0..1.
    pub bass: f32,
    /// `bass` smoothed.
    pub bass_att: f32,
    /// Mid band 250–4000 Hz, auto-gained 0..1.
    pub mid: f32,
    /// `mid` smoothed.
    pub mid_att: f32,
    /// High band above 4 kHz, auto-gained 0..1.
    pub treb: f32,
    /// `treb` smoothed.
    pub treb_att: f32,
    /// Log-spaced bands from 30 Hz to 16 kHz, each auto-gained 0..1.
    pub bands: [f32; NUM_BANDS],
    /// Spectral centroid mapped log-wise: 0 = 50 Hz, 1 = 12.8 kHz.
    pub centroid: f32,
    /// Onset strength (SuperFlux spectral flux), auto-gained 0..1.
    pub flux: f32,
    /// Spectral flatness 0 (tonal) .. 1 (noise).
    pub flatness: f32,
    /// 85 % rolloff frequency mapped like `centroid`.
    pub rolloff: f32,
    /// Pulse set to the strength of each detected onset, decaying (~120 ms).
    pub onset: f32,
    /// Kick-drum hit pulse 0..1, decaying.
    pub kick: f32,
    /// Snare hit pulse 0..1, decaying.
    pub snare: f32,
    /// Hi-hat/cymbal hit pulse 0..1, decaying.
    pub hat: f32,
    /// The beat clock's state; ask it for the phase at any time.
    pub rhythm: Rhythm,
    /// Log-frequency magnitude spectrum 20 Hz–20 kHz, 0..1 (dB scaled,
    /// auto-gained). This and the three rows below are refreshed every
    /// third hop (~67 Hz, just above a 60 Hz display).
    pub spectrum: [f32; SPECTRUM_LEN],
    /// The newest samples, auto-gained and mapped to 0..1 (0.5 = zero).
    pub waveform: [f32; SPECTRUM_LEN],
    /// Shadertoy's audio row 0: 512 linear FFT bins as Web Audio bytes
    /// (`analysis::webaudio`).
    pub audio_fft: [u8; SPECTRUM_LEN],
    /// Shadertoy's audio row 1: the newest 512 samples, 128 = zero.
    pub audio_wave: [u8; SPECTRUM_LEN],
}

impl Default for FeatureFrame {
    fn default() -> Self {
        Self {
            time: 0.0,
            rms_db: -120.0,
            peak_db: -120.0,
            level: 0.0,
            level_att: 0.0,
            bass: 0.0,
            bass_att: 0.0,
            mid: 0.0,
            mid_att: 0.0,
            treb: 0.0,
            treb_att: 0.0,
            bands: [0.0; NUM_BANDS],
            centroid: 0.0,
            flux: 0.0,
            flatness: 0.0,
            rolloff: 0.0,
            onset: 0.0,
            kick: 0.0,
            snare: 0.0,
            hat: 0.0,
            rhythm: Rhythm::default(),
            spectrum: [0.0; SPECTRUM_LEN],
            waveform: [0.5; SPECTRUM_LEN],
            audio_fft: [0; SPECTRUM_LEN],
            audio_wave: [128; SPECTRUM_LEN],
        }
    }
}

/// The beat clock's published state: enough to answer "where in the bar is the
/// music at time `t`" for any `t` near now, including a little in the future.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rhythm {
    /// Tempo in beats per minute (0 until a tempo is known).
    pub bpm: f32,
    /// Time (s) of the next predicted beat.
    pub next_beat: f64,
    /// Index of the next predicted beat (counts from 0 at the first beat).
    pub next_index: i64,
    /// Beats per bar (4).
    pub beats_per_bar: u32,
    /// Index of a beat that is a downbeat (bar position 1).
    pub downbeat_index: i64,
    /// How sure the tracker is, 0..1.
    pub confidence: f32,
    /// The bar line is a guess: the input joined a song in the middle and
    /// the music has not said yet, or cannot say, which of two strong
    /// beats (1 or 3) starts the bar (drums alone, with no chord changes,
    /// never do). The VJ's Downbeat (key R) settles it.
    pub bar_guess: bool,
    /// The clock rests: two bars without a hit (silence, a breakdown's held
    /// chords). It holds its tempo and runs on, so the music comes back in
    /// on its grid, but emits no beats and its confidence is 0 until then.
    pub resting: bool,
    /// Taps or a fixed BPM hold the tempo (the analysis follows only the
    /// phase); false while the analysis leads.
    pub manual: bool,
    /// The tempo (BPM) a VJ's octave choice (x2, /2) holds the analysis
    /// near, until Auto; `None` while the analysis picks the level itself.
    pub tempo_hint: Option<f32>,
    /// The tempo (BPM) whose octave the drums' backbeat (the snare
    /// answering the kick a beat later) holds the analysis on; x2 or /2
    /// still override it. `None` while nothing holds it.
    pub backbeat_hold: Option<f32>,
    /// What holds that octave is a kick on every beat (four on the floor,
    /// music with no snare to answer it), not a backbeat.
    pub held_by_kick: bool,
}

impl Default for Rhythm {
    fn default() -> Self {
        Self {
            bpm: 0.0,
            next_beat: 0.0,
            next_index: 0,
            beats_per_bar: 4,
            downbeat_index: 0,
            confidence: 0.0,
            bar_guess: false,
            resting: false,
            manual: false,
            tempo_hint: None,
            backbeat_hold: None,
            held_by_kick: false,
        }
    }
}

/// Where the music is at one moment, derived from [`Rhythm`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BeatPosition {
    /// Beats since beat 0, fractional (index + phase).
    pub beats: f64,
    /// Phase inside the current beat, 0..1 (0 = on the beat).
    pub beat_phase: f32,
    /// Phase inside the current bar, 0..1 (0 = on the downbeat).
    pub bar_phase: f32,
    /// 1 exactly on a beat, falling off over ~1/4 beat on either side.
    pub beat_pulse: f32,
    /// Jumps to 1 at each predicted beat and decays over ~100 ms
    /// ([`HIT_DECAY_S`]): a flash *on* the beat, with no detection delay.
    pub beat_hit: f32,
    /// The same at each predicted downbeat.
    pub bar_hit: f32,
    /// Whole bars since the first downbeat (0 before it).
    pub bars: f64,
}

/// Time constant (s) of `beat_hit` and `bar_hit`: 1 on the beat, 0.08 after
/// 100 ms.
pub const HIT_DECAY_S: f64 = 0.04;

/// A hit `since` seconds after it happened: 1, decaying with [`HIT_DECAY_S`].
fn hit(since: f64) -> f32 {
    if since < 6.0 * HIT_DECAY_S {
        (-since / HIT_DECAY_S).exp() as f32
    } else {
        0.0
    }
}

impl Rhythm {
    /// Seconds per beat, or `None` without a tempo.
    pub fn period(&self) -> Option<f64> {
        (self.bpm > 1.0).then(|| 60.0 / f64::from(self.bpm))
    }

    /// Extrapolates the beat grid to time `t` (seconds, stream clock).
    pub fn position_at(&self, t: f64) -> BeatPosition {
        let Some(period) = self.period() else {
            return BeatPosition::default();
        };
        let beats = self.next_index as f64 + (t - self.next_beat) / period;
        let beat_phase = beats.rem_euclid(1.0) as f32;
        let bpb = f64::from(self.beats_per_bar.max(1));
        let bar_phase = ((beats - self.downbeat_index as f64).rem_euclid(bpb) / bpb) as f32;
        // Distance to the nearest beat in beats, shaped into a sharp pulse.
        let d = beat_phase.min(1.0 - beat_phase);
        let confidence = self.confidence.clamp(0.0, 1.0);
        let beat_pulse = (1.0 - d * 4.0).max(0.0).powi(2) * confidence;
        let since_beat = f64::from(beat_phase) * period;
        let since_bar = f64::from(bar_phase) * bpb * period;
        BeatPosition {
            beats,
            beat_phase,
            bar_phase,
            beat_pulse,
            beat_hit: hit(since_beat) * confidence,
            bar_hit: hit(since_bar) * confidence,
            bars: ((beats - self.downbeat_index as f64) / bpb)
                .floor()
                .max(0.0),
        }
    }
}

/// What kind of musical event happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Any note or hit start (broadband SuperFlux onset).
    Onset,
    /// Low-frequency hit.
    Kick,
    /// Mid-frequency broadband hit.
    Snare,
    /// High-frequency hit.
    Hat,
    /// A beat of the beat clock; `bar_position` 1 is the downbeat.
    Beat {
        /// Beat index since the clock started.
        index: i64,
        /// 1..=beats_per_bar.
        bar_position: u32,
    },
}

/// A timestamped event. `time` is when the sound happened (or, for beats, the
/// predicted beat time), `detected_at` when the analysis knew it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When it happened, stream seconds.
    pub time: f64,
    /// When the analysis emitted it, stream seconds.
    pub detected_at: f64,
    /// Strength 0..1.
    pub strength: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_extrapolates_the_grid() {
        let r = Rhythm {
            bpm: 120.0,
            next_beat: 10.0,
            next_index: 20,
            confidence: 1.0,
            ..Rhythm::default()
        };
        let p = r.position_at(10.0);
        assert!((p.beats - 20.0).abs() < 1e-9);
        assert!(p.beat_pulse > 0.99);
        assert_eq!(p.bar_phase, 0.0);
        let q = r.position_at(10.25);
        assert!((q.beat_phase - 0.5).abs() < 1e-6);
        assert!((q.bar_phase - 0.125).abs() < 1e-6);
        assert_eq!(q.beat_pulse, 0.0);
        assert_eq!(Rhythm::default().position_at(3.0), BeatPosition::default());
    }
}
