//! The music analysis engine: pure, causal and deterministic.
//!
//! [`Analyzer::process`] takes mono samples in blocks of any size and returns
//! the events found in them; [`Analyzer::frame`] is the latest
//! [`FeatureFrame`]. The same code serves live capture, offline rendering,
//! `sonolux analyze` and the tests, and its results do not depend on the
//! block size (all work happens per hop of ~5 ms). Once constructed it does
//! not allocate, except to grow the event list for unusually large blocks.
//!
//! Pipeline per hop: DC blocker → [`stft::Stft`] (Hann, ~23 ms window) →
//! [`features::FeatureExtractor`] (levels, bands, shape; texture rows and
//! [`webaudio`] every third hop) and
//! [`onset::LogFilterbank`] → [`onset::SuperFlux`] → [`onset::PeakPicker`]s
//! (broadband onsets, kick/snare/hat hits); every second hop the onset
//! strength feeds [`beat::BeatTracker`] (tempo + predictive beat clock).

pub mod beat;
pub mod decimate;
pub mod downbeat;
pub mod eval;
pub mod features;
pub mod frame;
pub mod lanes;
pub mod normalize;
pub mod onset;
pub mod stft;
pub mod tempo;
pub mod webaudio;

pub use beat::{BeatOverride, BeatTracker};
pub use frame::{BeatPosition, Event, EventKind, FeatureFrame, NUM_BANDS, Rhythm, SPECTRUM_LEN};

use features::FeatureExtractor;
use normalize::{AutoGain, QuietLift};
use onset::{LogFilterbank, PeakPicker, Registers, SuperFlux};
use stft::Stft;

/// Hop length target: ~5 ms, the latency/resolution trade-off of the engine.
pub const HOP_SECONDS: f64 = 0.005;

/// Seconds between a sound starting and its onset being detected by the
/// SuperFlux front end, measured on synthetic clicks (see the
/// `onset_delay_matches_measurement` test). Subtracted from event times.
pub fn detector_delay(sample_rate: u32) -> f64 {
    let (window, hop) = geometry(sample_rate);
    // A sharp attack lifts the log-flux above threshold once it has entered
    // about a sixteenth of the (Hann-weighted) window, and it is seen at the
    // end of the hop in which that happens: on average half a hop later.
    (window as f64 / 16.0 + hop as f64 * 0.5) / f64::from(sample_rate.max(1))
}

/// Seconds between the start of an instrument's attack and the *peak* of
/// the onset strength signal it causes: the attack at the Hann window's
/// centre, seen at the end of its hop, plus [`ATTACK_RISE_S`]. The beat
/// clock aligns to ODF peaks, so it subtracts this.
pub fn odf_peak_delay(sample_rate: u32) -> f64 {
    let (window, hop) = geometry(sample_rate);
    (window as f64 * 0.5 + hop as f64 * 0.5) / f64::from(sample_rate.max(1)) + ATTACK_RISE_S
}

/// How much later than a click's the flux of a real attack peaks: drums,
/// plucks and struck notes take a few milliseconds to reach full level,
/// and their flux peaks as they do, while beats are annotated where the
/// attack starts. Without it emitted beats came a median 6.0 ms late on the
/// dev set, 1.9 ms on the time-stretched set and 9.6 ms on the General MIDI
/// set (`sonolux eval`), and clicks (`click_tracks_give_tempo_and_beats`,
/// which allows 20 ms) were on time.
pub const ATTACK_RISE_S: f64 = 0.004;

/// Hops between refreshes of the spectrum, waveform and Web Audio rows.
const TEXTURE_EVERY: u8 = 3;

/// Hops (30 ms) over which the kick band's power rise is measured for the
/// beat clock's off-beat trap ([`beat::BeatTracker::push`]).
const KICK_POWER_HOPS: usize = 6;

/// The sum of squares and the largest magnitude of `x`, in eight lanes
/// (the compiler vectorises it; a single running `f32::max` it cannot).
fn sum_of_squares_and_peak(x: &[f32]) -> (f32, f32) {
    let mut sums = [0.0f32; 8];
    let mut peaks = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            sums[k] += c[k] * c[k];
            let a = c[k].abs();
            peaks[k] = if a > peaks[k] { a } else { peaks[k] };
        }
    }
    for &v in rest {
        sums[0] += v * v;
        peaks[0] = peaks[0].max(v.abs());
    }
    (sums.iter().sum(), peaks.iter().copied().fold(0.0, f32::max))
}

/// Window length target: 1024 samples at 44.1 kHz (23.2 ms), long enough
/// to resolve a kick's fundamental, short enough to time a hit, and the
/// length every constant of the analysis was measured with.
const WINDOW_SECONDS: f64 = 1024.0 / 44_100.0;

/// Window and hop lengths (samples) used at `sample_rate`: the window is
/// the even length with no prime factor above 7 (an FFT that stays fast)
/// nearest `WINDOW_SECONDS` (1024/44100 s): 1024 at 44.1 kHz, 1120
/// (23.3 ms) at 48 kHz, 512 at 22.05 kHz.
///
/// A power of two gave 48 kHz, the rate of most sound cards, 1024 samples
/// (21.3 ms): the dev and stretched sets resampled to 48 kHz scored beat F
/// .894 and .831, downbeat F .733 and .668 (`sonolux eval`; .946 / .838
/// and .837 / .691 at 44.1 kHz). With 1080, 1104, 1120 or 1152 samples
/// they score .904-.920 and .841-.847, downbeat .757-.820 and .688-.712;
/// 1120: .916 / .846 and .820 / .690. (Rounding up to the next power of
/// two, 2048, was worse still: tempo Acc1 .938 and .766.)
pub fn geometry(sample_rate: u32) -> (usize, usize) {
    let sr = f64::from(sample_rate.max(8000));
    let window = smooth_even_near(sr * WINDOW_SECONDS);
    let hop = ((sr * HOP_SECONDS).round() as usize).max(1);
    (window, hop)
}

/// The even number nearest `x` (at least 2) whose prime factors are all 2,
/// 3, 5 or 7; the lower one on a tie.
fn smooth_even_near(x: f64) -> usize {
    let smooth = |n: usize| {
        let mut m = n;
        for p in [2, 3, 5, 7] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        m == 1
    };
    let centre = (x.round() as usize).max(2);
    (0..)
        .flat_map(|d| [centre.saturating_sub(d), centre + d])
        .find(|&n| n >= 2 && n.is_multiple_of(2) && smooth(n))
        .unwrap_or(2)
}

/// The one-pole DC blocker (10 Hz) every sample passes first: `y[k] =
/// x[k] - x[k-1] + r y[k-1]`, after NaN and infinite samples are zeroed and
/// the rest clipped to ±4.
///
/// Run as written, each sample waits for the one before (a chain of a
/// multiply and an add per sample: a third of `Analyzer::process`'s own
/// time in `perf`).
/// Unrolled four samples deep, `y[k] = d[k] + r d[k-1] + r² d[k-2] + r³
/// d[k-3] + r⁴ y[k-4]` (with `d[k] = x[k] - x[k-1]`), four samples in a row
/// are independent and go through together. Every sample is computed by
/// that same expression, whatever the block boundaries, so results do not
/// depend on the block size.
#[derive(Clone, Copy, Debug)]
struct DcBlocker {
    /// `r`, `r²`, `r³`, `r⁴`.
    r: [f32; 4],
    /// The last four inputs (clipped) and outputs, oldest first.
    x: [f32; 4],
    y: [f32; 4],
}

impl DcBlocker {
    fn new(r: f32) -> Self {
        Self {
            r: [r, r * r, r * r * r, r * r * r * r],
            x: [0.0; 4],
            y: [0.0; 4],
        }
    }

    /// Filters `input` into `out` (the same length).
    fn run(&mut self, input: &[f32], out: &mut [f32]) {
        let clip = |s: f32| {
            if s.is_finite() {
                s.clamp(-4.0, 4.0)
            } else {
                0.0
            }
        };
        let [r1, r2, r3, r4] = self.r;
        // Inputs with the four before them, outputs likewise.
        let mut xs = [0.0f32; 4 + 256];
        let mut ys = [0.0f32; 4 + 256];
        for (inp, o) in input.chunks(256).zip(out.chunks_mut(256)) {
            let n = inp.len();
            xs[..4].copy_from_slice(&self.x);
            ys[..4].copy_from_slice(&self.y);
            for (d, &s) in xs[4..4 + n].iter_mut().zip(inp) {
                *d = clip(s);
            }
            for k in 4..4 + n {
                let d0 = xs[k] - xs[k - 1];
                let d1 = xs[k - 1] - xs[k - 2];
                let d2 = xs[k - 2] - xs[k - 3];
                let d3 = xs[k - 3] - xs[k - 4];
                ys[k] = d0 + r1 * d1 + r2 * d2 + r3 * d3 + r4 * ys[k - 4];
            }
            o.copy_from_slice(&ys[4..4 + n]);
            self.x.copy_from_slice(&xs[n..n + 4]);
            self.y.copy_from_slice(&ys[n..n + 4]);
        }
    }
}

/// Which filterbank bands feed one band-wise hit detector.
struct HitDetector {
    bands: std::ops::Range<usize>,
    picker: PeakPicker,
    gain: AutoGain,
    pulse: f32,
    kind: EventKind,
}

/// The streaming analyser. See the module docs.
///
/// ```
/// use sonolux::analysis::{Analyzer, EventKind};
///
/// // Two seconds of clicks at 120 BPM, fed in 256-sample blocks.
/// let sr = 44_100;
/// let mut audio = vec![0.0f32; 2 * sr as usize];
/// for beat in 0..4 {
///     let start = beat * sr as usize / 2 + 1000;
///     for k in 0..200 {
///         audio[start + k] = if k % 2 == 0 { 0.8 } else { -0.8 };
///     }
/// }
/// let mut analyzer = Analyzer::new(sr);
/// let mut onsets = Vec::new();
/// for block in audio.chunks(256) {
///     for event in analyzer.process(block) {
///         if event.kind == EventKind::Onset {
///             onsets.push(event.time);
///         }
///     }
/// }
/// assert_eq!(onsets.len(), 4);
/// // Event times say when the click sounded, not when it was detected.
/// assert!((onsets[1] - (sr as f64 / 2.0 + 1000.0) / sr as f64).abs() < 0.01);
/// assert!(analyzer.frame().level > 0.0);
/// ```
pub struct Analyzer {
    sample_rate: u32,
    stft: Stft,
    filterbank: LogFilterbank,
    band_mags: Vec<f32>,
    flux: SuperFlux,
    onset_picker: PeakPicker,
    onset_gain: AutoGain,
    onset_pulse: f32,
    /// The spectral flatness over about the last second, and the rate at
    /// which it follows the frame's.
    flatness_1s: f32,
    flatness_coef: f32,
    hits: [HitDetector; 3],
    features: FeatureExtractor,
    beat: BeatTracker,
    frame: FeatureFrame,
    events: Vec<Event>,
    clean: [f32; 256],
    /// The newest samples, for the waveform row.
    recent: Vec<f32>,
    dc_block: DcBlocker,
    samples_in: u64,
    delay: f64,
    pulse_decay: f32,
    /// The beat ODF since the last beat-rate frame (its maximum), as each
    /// band's rise over 10 ms and over [`onset::SLOW_RISE_HOPS`] (for the
    /// tempo).
    beat_odf: [f32; 2],
    /// Onset strength since the last beat-rate frame in the kick band and
    /// the snare band, each band's rise over 10 ms (for the phase and the
    /// downbeats; see [`BeatTracker::push`]), and the kick band's power
    /// rise over [`KICK_POWER_HOPS`] (for the off-beat trap)...
    beat_hits: [f32; 3],
    /// The kick band's power (the sum of its bands' squared magnitudes) at
    /// the last [`KICK_POWER_HOPS`] hops, a ring, and where the next goes.
    kick_power: ([f32; KICK_POWER_HOPS], usize),
    /// ...and in the kick band, the snare band and the snare's rattle, each
    /// band's rise over 30 ms (for the tempo's backbeat check).
    backbeat_hits: [f32; 3],
    /// The filterbank bands of the snare's rattle, 3-8 kHz.
    rattle_bands: std::ops::Range<usize>,
    /// A longer transform (~186 ms, every 8 hops) for chroma, at half the
    /// sample rate: semitones resolve from about 90 Hz, and a chord's notes
    /// stand out of the drums' noise. Half as long (93 ms), downbeat F was
    /// .843 / .641 / .844 / .719 on the dev, stretched, General MIDI and
    /// pitch-shifted sets (`sonolux eval`), .840 / .636 / .887 / .781 with
    /// this one, and .696 -> .720, .605 -> .623 on the dev and stretched
    /// sets at 48 kHz.
    chroma_stft: Stft,
    /// The chroma transform's input: low-passed, every other sample.
    half_rate: decimate::HalfRate,
    half: [f32; decimate::MAX_BLOCK / 2 + 1],
    /// The runs of consecutive bins that map to one pitch class (a
    /// semitone, or part of one), in bin order: its pitch class and the
    /// bins. The transform computes only the bins from the first to the last.
    chroma_runs: Vec<(u8, std::ops::Range<usize>)>,
    beat_chroma: [f32; downbeat::CHROMA],
    hop_parity: bool,
    /// The gain quiet input gets before the onset strength.
    quiet_lift: QuietLift,
    /// Shadertoy's audio texture (Web Audio's analyser), refreshed every
    /// third hop (~65 Hz, about a display frame).
    web_audio: webaudio::WebAudioAnalyser,
    /// Whether the Web Audio rows are computed (see
    /// [`Analyzer::set_web_audio`]).
    web_audio_rows: bool,
    texture_countdown: u8,
}

/// A sound whose spectral flatness, over about a second, is above this
/// is noise-like: sparse clapping, each clap a burst of white noise and
/// an onset of its own (synthesised applause 0.65), where music stays
/// under it (the dev clips' loudest second, drums alone, 0.40). Its onsets
/// keep the beat clock awake only under a clear pulse (see
/// [`beat::BeatTracker::onset_heard`]). A dense crowd's roar is no flatter
/// than music (a recording: 0.10-0.17), but it fires few broadband onsets,
/// so the clock rests in it anyway.
const CROWD_FLATNESS: f32 = 0.5;

impl Analyzer {
    /// An analyser for mono input at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        let sample_rate = sample_rate.max(8000);
        let (window, hop) = geometry(sample_rate);
        let sr = sample_rate as f32;
        let rate = sr / hop as f32;
        let bin_hz = sr / window as f32;
        let n_bins = window / 2 + 1;
        let filterbank = LogFilterbank::new(n_bins, bin_hz, 30.0, 17_000.0, 12.0);
        let nb = filterbank.len();
        let band_range = |lo: f32, hi: f32| {
            let c = filterbank.centers_hz();
            let a = c.iter().position(|&f| f >= lo).unwrap_or(0);
            let b = c.iter().position(|&f| f > hi).unwrap_or(c.len());
            a..b.max(a + 1).min(c.len())
        };
        let hit = |bands, kind, gap| HitDetector {
            bands,
            picker: {
                let mut p = PeakPicker::new(rate, 0.1, 0.03, gap);
                p.rel_delta = 1.5;
                p
            },
            gain: AutoGain::new(rate, 6.0, 1e-3),
            pulse: 0.0,
            kind,
        };
        // The snare's rattle: its noise reaches well above the strongest
        // harmonics of guitars, keys and accordions, which fill the snare
        // band itself (see `tempo`'s backbeat check).
        let rattle_bands = band_range(3000.0, 8000.0);
        let hits = [
            hit(band_range(35.0, 140.0), EventKind::Kick, 0.08),
            hit(band_range(180.0, 3500.0), EventKind::Snare, 0.08),
            hit(band_range(6000.0, 17_000.0), EventKind::Hat, 0.05),
        ];
        // Mean over 100 ms, maximum over 10 ms, at most 20 onsets a second.
        let mut onset_picker = PeakPicker::new(rate, 0.1, 0.01, 0.05);
        onset_picker.rel_delta = 2.5;
        onset_picker.mean_factor = 2.0;
        let delay = detector_delay(sample_rate);
        let registers = Registers::from_centers(filterbank.centers_hz());
        // 4 * window samples at half the rate: the bins of an 8 * window
        // transform at the full rate.
        let chroma_runs = downbeat::chroma_runs(&downbeat::chroma_map(
            window * 8,
            sample_rate,
            window * 2 + 1,
        ));
        Self {
            sample_rate,
            stft: Stft::new(window, hop),
            band_mags: vec![0.0; nb],
            flux: SuperFlux::new(nb, 2, registers),
            filterbank,
            onset_picker,
            onset_gain: AutoGain::new(rate, 6.0, 1e-3),
            onset_pulse: 0.0,
            flatness_1s: 0.0,
            flatness_coef: 1.0 - (-1.0 / rate).exp(),
            hits,
            features: FeatureExtractor::new(n_bins, bin_hz, rate, rate / f32::from(TEXTURE_EVERY)),
            beat: BeatTracker::new(rate / 2.0, odf_peak_delay(sample_rate)),
            frame: FeatureFrame::default(),
            events: Vec::with_capacity(64),
            clean: [0.0; 256],
            recent: vec![0.0; SPECTRUM_LEN.min(window)],
            dc_block: DcBlocker::new(1.0 - std::f32::consts::TAU * 10.0 / sr),
            samples_in: 0,
            delay,
            pulse_decay: (-1.0 / (rate * 0.12)).exp(),
            beat_odf: [0.0; 2],
            beat_hits: [0.0; 3],
            kick_power: ([0.0; KICK_POWER_HOPS], 0),
            backbeat_hits: [0.0; 3],
            rattle_bands,
            chroma_stft: Stft::new(window * 4, hop * 4),
            half_rate: decimate::HalfRate::default(),
            half: [0.0; decimate::MAX_BLOCK / 2 + 1],
            chroma_runs,
            beat_chroma: [0.0; downbeat::CHROMA],
            hop_parity: false,
            quiet_lift: QuietLift::new(rate),
            web_audio: webaudio::WebAudioAnalyser::new(),
            web_audio_rows: true,
            texture_countdown: 0,
        }
    }

    /// The input sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The latest feature frame.
    pub fn frame(&self) -> &FeatureFrame {
        &self.frame
    }

    /// Stream time (s) of the newest sample taken in.
    pub fn time(&self) -> f64 {
        self.samples_in as f64 / f64::from(self.sample_rate)
    }

    /// The tempo estimator's current view (may differ from the clock's smoothed tempo).
    pub fn tempo(&self) -> tempo::TempoEstimate {
        self.beat.tempo()
    }

    /// A live input opens now, perhaps in the middle of a song (the VJ
    /// starts the show, switches to it, or gets it back after it was lost):
    /// see [`BeatTracker::joins_music_in_progress`]. Call it before the
    /// first block of each stream.
    pub fn joins_music_in_progress(&mut self) {
        self.beat.joins_music_in_progress();
    }

    /// Whether to compute the Web Audio rows (`FeatureFrame::audio_fft`,
    /// `audio_wave`: Shadertoy's audio texture), on from the start. Only a
    /// shader that samples that texture reads them, and they are a 2048
    /// point transform every third hop, so the live show turns them off
    /// while no preset on screen does. Off, the rows keep their last
    /// values; the samples still go into their history, and turned back on
    /// the smoothed spectrum starts from silence, as a new Web Audio
    /// analyser's does (not from what was heard when it was turned off).
    pub fn set_web_audio(&mut self, on: bool) {
        if on && !self.web_audio_rows {
            self.web_audio.clear_smoothing();
        }
        self.web_audio_rows = on;
    }

    /// Applies a manual beat clock override (tap, nudge, resync, fixed BPM).
    pub fn override_beat(&mut self, o: BeatOverride) {
        self.beat.apply(o, self.time());
        self.frame.rhythm = self.beat.rhythm();
    }

    /// Analyses a block of mono samples; returns the events found in it, in time order
    /// of detection. NaN and infinite samples count as silence; values are clipped to ±4.
    pub fn process(&mut self, block: &[f32]) -> &[Event] {
        self.events.clear();
        for chunk in block.chunks(self.clean.len()) {
            let n = chunk.len();
            self.dc_block.run(chunk, &mut self.clean[..n]);
            let mut pos = 0;
            while pos < n {
                let (took, due) = self.stft.push(&self.clean[pos..n]);
                // The chroma transform's hops fall on every 8th main hop.
                let halved = self
                    .half_rate
                    .process(&self.clean[pos..pos + took], &mut self.half);
                let mut fed = 0;
                while fed < halved {
                    let (t, chroma_due) = self.chroma_stft.push(&self.half[fed..halved]);
                    fed += t;
                    if chroma_due {
                        let lo = self.chroma_runs.first().map_or(0, |r| r.1.start);
                        let hi = self.chroma_runs.last().map_or(0, |r| r.1.end);
                        let power = self.chroma_stft.compute_power_bins(lo..hi);
                        // Each pitch class gets the square roots of its
                        // bins' magnitudes, summed a semitone at a time.
                        for (pc, bins) in &self.chroma_runs {
                            self.beat_chroma[usize::from(*pc)] +=
                                lanes::lane_sum(&power[bins.clone()], |p| p.sqrt().sqrt());
                        }
                    }
                }
                self.web_audio.push(&self.clean[pos..pos + took]);
                pos += took;
                self.samples_in += took as u64;
                if due {
                    self.hop();
                }
            }
        }
        &self.events
    }

    fn hop(&mut self) {
        let now = self.time();
        self.stft.compute();
        let mags = self.stft.magnitudes();
        let (older, newer) = self.stft.window_samples();
        let ((sq_old, peak_old), (sq_new, peak_new)) = (
            sum_of_squares_and_peak(older),
            sum_of_squares_and_peak(newer),
        );
        let rms = ((sq_old + sq_new) / self.stft.window_len() as f32).sqrt();
        let peak = peak_old.max(peak_new);
        self.filterbank.apply(mags, &mut self.band_mags);
        // Quiet input is lifted for the onset and beat analysis (see
        // `QuietLift`); the levels shown to the VJ stay as they are.
        let lift = self.quiet_lift.gain(rms);
        if lift != 1.0 {
            self.band_mags.iter_mut().for_each(|m| *m *= lift);
        }
        // The texture rows (ours and Web Audio's) are refreshed every third
        // hop (~67 Hz, above a 60 Hz display); everything else every hop.
        let texture_rows = self.texture_countdown == 0;
        if texture_rows {
            self.texture_countdown = TEXTURE_EVERY - 1;
            self.stft.latest_samples(&mut self.recent);
            if self.web_audio_rows {
                self.web_audio
                    .update(&mut self.frame.audio_fft, &mut self.frame.audio_wave);
            }
        } else {
            self.texture_countdown -= 1;
        }
        self.features.update(
            mags,
            &self.band_mags,
            rms,
            peak,
            &self.recent,
            texture_rows,
            &mut self.frame,
        );

        let strength = self.flux.push(&self.band_mags);
        let odf = strength.onset;
        let onset_norm = self.onset_gain.normalize(odf);
        self.frame.flux = onset_norm;
        self.onset_pulse *= self.pulse_decay;
        let event_time = now - self.delay;
        self.flatness_1s += self.flatness_coef * (self.frame.flatness - self.flatness_1s);
        if self.onset_picker.push(odf).is_some() {
            self.beat.onset_heard(self.flatness_1s > CROWD_FLATNESS);
            self.onset_pulse = self.onset_pulse.max(onset_norm);
            self.events.push(Event {
                kind: EventKind::Onset,
                time: event_time,
                detected_at: now,
                strength: onset_norm,
            });
        }
        // Each hit band's onset strength (kick, snare, hat), once; the kick
        // and snare bands' for the beat tracker, and their rise over 30 ms
        // with the snare's rattle for the tempo's backbeat check.
        let band_sum = |diffs: &[f32], bands: &std::ops::Range<usize>| -> f32 {
            diffs[bands.clone()].iter().sum()
        };
        let (fast, slow) = (self.flux.band_diffs(), self.flux.slow_band_diffs());
        let hit_sums = [0, 1, 2].map(|i| band_sum(fast, &self.hits[i].bands));
        let backbeat = [
            band_sum(slow, &self.hits[0].bands),
            band_sum(slow, &self.hits[1].bands),
            band_sum(slow, &self.rattle_bands),
        ];
        for (b, v) in self.beat_hits.iter_mut().zip(hit_sums) {
            *b = b.max(v);
        }
        // The kick band's power against its power 30 ms before, unscaled.
        let power: f32 = self.band_mags[self.hits[0].bands.clone()]
            .iter()
            .map(|m| m * m)
            .sum();
        let (ring, next) = &mut self.kick_power;
        let rise = (power - ring[*next]).max(0.0);
        ring[*next] = power;
        *next = (*next + 1) % KICK_POWER_HOPS;
        self.beat_hits[2] = self.beat_hits[2].max(if rise.is_finite() { rise } else { 0.0 });
        for (b, v) in self.backbeat_hits.iter_mut().zip(backbeat) {
            *b = b.max(v);
        }
        for (h, v) in self.hits.iter_mut().zip(hit_sums) {
            let norm = h.gain.normalize(v);
            h.pulse *= self.pulse_decay;
            if h.picker.push(v).is_some() {
                h.pulse = h.pulse.max(norm);
                self.events.push(Event {
                    kind: h.kind,
                    time: event_time,
                    detected_at: now,
                    strength: norm,
                });
            }
        }
        self.frame.onset = self.onset_pulse;
        self.frame.kick = self.hits[0].pulse;
        self.frame.snare = self.hits[1].pulse;
        self.frame.hat = self.hits[2].pulse;

        // Beat tracking at half the hop rate (~100 frames/s).
        self.beat_odf[0] = self.beat_odf[0].max(strength.beat);
        self.beat_odf[1] = self.beat_odf[1].max(strength.beat_slow);
        self.hop_parity = !self.hop_parity;
        if !self.hop_parity {
            self.beat.push(
                self.beat_odf,
                self.beat_hits,
                self.backbeat_hits,
                &self.beat_chroma,
                now,
                &mut self.events,
            );
            self.beat_odf = [0.0; 2];
            self.beat_hits = [0.0; 3];
            self.backbeat_hits = [0.0; 3];
            self.beat_chroma = [0.0; downbeat::CHROMA];
        }
        self.frame.rhythm = self.beat.rhythm();
        self.frame.time = now;
    }
}

#[cfg(test)]
mod tests {
    use super::DcBlocker;

    #[test]
    fn the_unrolled_dc_blocker_is_the_one_pole_filter() {
        let r = 1.0 - std::f32::consts::TAU * 10.0 / 44_100.0;
        let mut seed = 1u32;
        let input: Vec<f32> = (0..5000)
            .map(|k| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                0.3 + 0.5 * (seed >> 8) as f32 / (1u32 << 24) as f32
                    + if k == 77 { 9.0 } else { 0.0 }
            })
            .collect();
        let mut plain = Vec::new();
        let (mut x1, mut y1) = (0.0f32, 0.0f32);
        for &s in &input {
            let x = s.clamp(-4.0, 4.0);
            let y = x - x1 + r * y1;
            (x1, y1) = (x, y);
            plain.push(y);
        }
        let mut dc = DcBlocker::new(r);
        let mut out = vec![0.0; input.len()];
        // Odd block sizes: the state carries over.
        let mut pos = 0;
        for len in [1, 3, 300, 7, 256, 1000].iter().cycle() {
            let end = (pos + len).min(input.len());
            dc.run(&input[pos..end], &mut out[pos..end]);
            pos = end;
            if pos == input.len() {
                break;
            }
        }
        for (k, (a, b)) in plain.iter().zip(&out).enumerate() {
            assert!((a - b).abs() < 1e-4, "sample {k}: {a} vs {b}");
        }
        // The offset of 0.55 is gone after a few time constants.
        let tail = &out[4000..];
        let mean = tail.iter().sum::<f32>() / tail.len() as f32;
        assert!(mean.abs() < 0.01, "{mean}");
    }
}
