//! Onset detection: SuperFlux (Böck & Widmer, DAFx 2013) made causal.
//!
//! Magnitudes are summed into log-spaced triangular bands, log-compressed, and
//! compared with a frequency-maximum-filtered frame `lag` hops earlier (which
//! suppresses vibrato). The positive differences summed form the onset
//! detection function (ODF). Two ODFs come from the same bands, each with its
//! own compression: one for onset events (`ONSET_LOG_GAIN`) and one for
//! tempo and beats. A causal peak picker turns the onset ODF into events: a
//! frame fires when it tops an adaptive threshold, is the maximum of the last
//! few frames, and is far enough from the previous onset.

/// Triangular filters on a log-frequency axis, stored sparsely.
pub struct LogFilterbank {
    /// Per band: first bin and its weights' range in `weights`.
    filters: Vec<(usize, std::ops::Range<usize>)>,
    /// Every band's weights, one after another.
    weights: Vec<f32>,
    centers_hz: Vec<f32>,
}

impl LogFilterbank {
    /// Filters with `per_octave` bands between `fmin` and `fmax`, for an FFT of
    /// `n_bins` bins spaced `bin_hz` apart. Filters that would fall on the same
    /// bin are merged, so low bands are never empty.
    pub fn new(n_bins: usize, bin_hz: f32, fmin: f32, fmax: f32, per_octave: f32) -> Self {
        let fmax = fmax.min(bin_hz * (n_bins - 1) as f32);
        let mut bins: Vec<usize> = Vec::new();
        let mut f = fmin;
        while f <= fmax {
            let b = (f / bin_hz).round() as usize;
            if bins.last() != Some(&b) {
                bins.push(b.min(n_bins - 1));
            }
            f *= 2f32.powf(1.0 / per_octave);
        }
        let mut filters = Vec::new();
        let mut all_weights = Vec::new();
        let mut centers_hz = Vec::new();
        for w in bins.windows(3) {
            let (lo, mid, hi) = (w[0], w[1], w[2]);
            let mut weights = Vec::with_capacity(hi - lo + 1);
            for b in lo..=hi {
                let v = if b <= mid {
                    if mid == lo {
                        1.0
                    } else {
                        (b - lo) as f32 / (mid - lo) as f32
                    }
                } else {
                    (hi - b) as f32 / (hi - mid) as f32
                };
                weights.push(v);
            }
            // Normalise each filter's area so bands are comparable.
            let sum: f32 = weights.iter().sum();
            if sum > 0.0 {
                weights.iter_mut().for_each(|w| *w /= sum);
            }
            filters.push((lo, all_weights.len()..all_weights.len() + weights.len()));
            all_weights.extend_from_slice(&weights);
            centers_hz.push(mid as f32 * bin_hz);
        }
        Self {
            filters,
            weights: all_weights,
            centers_hz,
        }
    }

    /// Number of bands.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// True when there are no bands.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Center frequency of each band.
    pub fn centers_hz(&self) -> &[f32] {
        &self.centers_hz
    }

    /// Applies the bank to `mags`, writing one value per band into `out`.
    pub fn apply(&self, mags: &[f32], out: &mut [f32]) {
        for ((start, range), o) in self.filters.iter().zip(out.iter_mut()) {
            let w = &self.weights[range.clone()];
            *o = super::lanes::lane_dot(&mags[*start..*start + w.len()], w);
        }
    }
}

/// Causal adaptive-threshold peak picker over an onset detection function.
#[derive(Clone, Debug)]
pub struct PeakPicker {
    history: Vec<f32>,
    pos: usize,
    filled: usize,
    avg_len: usize,
    max_len: usize,
    min_gap: usize,
    since_last: usize,
    long_mean: f32,
    long_coef: f32,
    /// Fixed part of the threshold, in ODF units.
    pub delta: f32,
    /// Part of the threshold proportional to the long-term mean of the ODF.
    pub rel_delta: f32,
    /// Multiplier on the short-term mean.
    pub mean_factor: f32,
}

impl PeakPicker {
    /// A picker at `rate` frames/s: mean over `avg_s`, maximum over `max_s`,
    /// at least `gap_s` between onsets.
    pub fn new(rate: f32, avg_s: f32, max_s: f32, gap_s: f32) -> Self {
        let avg_len = ((rate * avg_s).round() as usize).max(1);
        let max_len = ((rate * max_s).round() as usize).max(1);
        Self {
            history: vec![0.0; avg_len.max(max_len)],
            pos: 0,
            filled: 0,
            avg_len,
            max_len,
            min_gap: (rate * gap_s).round() as usize,
            since_last: usize::MAX / 2,
            long_mean: 0.0,
            long_coef: 1.0 - (-1.0 / (rate * 4.0)).exp(),
            delta: 0.0,
            rel_delta: 1.0,
            mean_factor: 1.0,
        }
    }

    /// Feeds one ODF value; returns `Some(strength)` when this frame is an onset.
    /// `strength` is the excess over the threshold relative to the threshold, 0..1.
    pub fn push(&mut self, x: f32) -> Option<f32> {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        let n = self.history.len();
        let mut sum = 0.0;
        let mut max = 0.0f32;
        // The newest values first: `..pos` backwards, then `pos..` backwards.
        let (newer, older) = self.history.split_at(self.pos);
        for (k, &v) in newer.iter().rev().chain(older.iter().rev()).enumerate() {
            if k >= self.avg_len.min(self.filled) {
                break;
            }
            sum += v;
            if k < self.max_len {
                max = max.max(v);
            }
        }
        let mean = if self.filled == 0 {
            0.0
        } else {
            sum / self.avg_len.min(self.filled) as f32
        };
        self.long_mean += self.long_coef * (x - self.long_mean);
        let threshold = self.mean_factor * mean + self.delta + self.rel_delta * self.long_mean;
        self.history[self.pos] = x;
        self.pos = (self.pos + 1) % n;
        self.filled = (self.filled + 1).min(n);
        self.since_last = self.since_last.saturating_add(1);
        if x > threshold && x >= max && self.since_last > self.min_gap && self.filled > self.max_len
        {
            self.since_last = 0;
            Some(((x - threshold) / (x + 1e-9)).clamp(0.0, 1.0))
        } else {
            None
        }
    }
}

/// The two onset detection functions of one frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnsetStrength {
    /// For onset events: percussive, high-tilted.
    pub onset: f32,
    /// For tempo and beats.
    pub beat: f32,
    /// The beat ODF with each band's rise taken over [`SLOW_RISE_HOPS`]
    /// instead of `lag` hops: for the tempo, where hits' attacks are
    /// smeared (see `tempo`'s `SLOW_MARGIN`).
    pub beat_slow: f32,
}

/// Hops (5 ms each) over which [`OnsetStrength::beat_slow`] measures a
/// band's rise. In a room the direct sound of a hit is a small part of
/// what follows it (the early reflections over the next 10-30 ms, the
/// reverberation building up), and a time stretcher smears an attack over
/// tens of milliseconds: a rise over 10 ms sees little of either hit, while
/// the reverberation's own fluctuations between hits count as much. Over
/// 30 ms the autocorrelation of the beat ODF at the annotated beat period
/// is higher in every condition: on the dev clips 0.34 -> 0.46 dry, and in
/// `scripts/room-set`'s club 0.27 -> 0.40 and hall 0.18 -> 0.30. Alone,
/// though, it read dry music worse (see `tempo`'s `SLOW_MARGIN`). With the
/// choice there, at 20 / 30 / 40 ms: mean beat F over the 11 sets of
/// `scripts/eval-sets` .8981 / .8984 / .8984, hall .818 / .842 / .803.
pub const SLOW_RISE_HOPS: usize = 6;

/// How much the onset ODF's log compression magnifies band magnitudes
/// before `log10(1 + g·m)`. At 1 (the beat ODF's scale) most bands of music
/// at -30 dBFS sit where the curve is nearly linear, so loud low bands
/// outweigh the quieter high ones where hits show; at 30 the compression is
/// logarithmic over most of the range and each band's rise counts by its
/// ratio. Onset F on the annotated sets rose .01 at 10 to 60 alike; the beat
/// ODF scored worse with it (tempo and phase want the loud bands' weight), so
/// the two keep their own compressed histories.
const ONSET_LOG_GAIN: f32 = 30.0;

/// Band magnitudes compressed as `log10(1 + gain·m)`, the last `depth + 1`
/// frames in a ring.
struct CompressedHistory {
    frames: Vec<Vec<f32>>,
    gain: f32,
    /// The ring slot of the newest frame.
    newest: usize,
}

impl CompressedHistory {
    /// `n_bands` bands, compared up to `depth` frames back.
    fn new(n_bands: usize, depth: usize, gain: f32) -> Self {
        Self {
            frames: vec![vec![0.0; n_bands]; depth + 1],
            gain,
            newest: 0,
        }
    }

    /// Compresses `band_mags` into the ring as its newest frame, in place
    /// of the oldest.
    fn push(&mut self, band_mags: &[f32]) {
        self.newest = (self.newest + 1) % self.frames.len();
        let gain = self.gain;
        for (b, &m) in self.frames[self.newest].iter_mut().zip(band_mags) {
            *b = std::f32::consts::LOG10_2 * super::normalize::fast_log2(1.0 + gain * m.max(0.0));
        }
    }

    /// Per band, how far the newest frame rises above the maximum of its
    /// band and the two neighbours in the frame `back` frames earlier (at
    /// most the depth; SuperFlux's vibrato suppression), never below zero.
    fn rise(&self, back: usize, out: &mut [f32]) {
        let len = self.frames.len();
        let older = (self.newest + len - back.clamp(1, len - 1)) % len;
        let (new, old) = (&self.frames[self.newest], &self.frames[older]);
        let nb = old.len();
        // Bands are finite, so a plain comparison (which vectorises) is max.
        let max = |a: f32, b: f32| if a > b { a } else { b };
        for (i, o) in out.iter_mut().enumerate().take(nb) {
            let lo = i.saturating_sub(1);
            let hi = (i + 1).min(nb - 1);
            *o = max(new[i] - max(max(old[lo], old[i]), old[hi]), 0.0);
        }
    }
}

/// Where the high register starts, in Hz. The onset ODF is scaled by the
/// square of the share of bands that rise, so that broadband hits outweigh
/// tonal changes. A hat or a ride rises in nearly every band above this and
/// in few below, so over all bands it scored about 2 % of a snare that
/// rises as much (the unit test below); the share within the high register
/// counts too. With that share taken over the whole register, mean onset F
/// over the annotated sets rose .775 -> .795 at 6 kHz, .794 / .795 at 5 and
/// 7 kHz, .791 / .789 at 3.5 and 9 kHz. The same for the low register
/// (below 150 or 300 Hz, kicks) lets bass notes fire: .731 / .754.
pub const HIGH_REGISTER_HZ: f32 = 6000.0;

/// The share of the high register's bands that must rise for a hit there to
/// count as fully broadband: a hat seldom lifts every band of it at once.
/// Mean onset F over the annotated sets: .797 / .798 / .799 / .798 at 0.6 /
/// 0.7 / 0.8 / 0.9, .795 at 1 (every band).
const HIGH_REGISTER_FULL: f32 = 0.8;

/// Where the low register ends, in Hz (at 44.1 kHz, the two lowest bands).
pub const LOW_REGISTER_HZ: f32 = 150.0;

/// How far a low band must rise at the onset ODF's scale to count for a
/// kick: 1 is ten-fold (+20 dB). A kick under a cymbal wash lifts the low
/// register by 20-40 dB and nothing else, and scored next to nothing as a
/// share of all bands; a bass note seldom rises that far (legato lines
/// move by a few dB). Counting any audible rise there, as the high register
/// does, let bass notes fire (mean onset F .731); a rise of 0.5 or 1.5:
/// .799 against .804 at 1 (measured with the rise over 2 hops, before
/// [`KICK_LAG`]).
const KICK_RISE: f32 = 1.0;

/// Hops over which the low register's rise is measured for a kick (the
/// rest of the ODF compares with 2 hops back): a kick's low end builds up
/// over 10-20 ms, and time-stretching smears it further (Rubber Band's
/// copies lift 30-150 Hz 20-30 ms ahead of the hit). Mean onset F over the
/// annotated sets .816 / .819 / .820 / .816 at 2 / 3 / 4 / 6 hops, on the
/// Rubber Band stretch set .762 / .766 / .769 / .774, on the General MIDI
/// pieces .933 / .932 / .925 / .907.
const KICK_LAG: usize = 3;

/// A kick's onset strength relative to a hit that rises as much in every
/// band. Mean onset F .801 / .804 / .803 / .798 at 0.1 / 0.3 / 0.6 / 1.5
/// (.799 without; over 2 hops, as above); the drum stems gain, the mixes
/// lose a little.
const KICK_WEIGHT: f32 = 0.3;

/// The bands of the two registers where one kind of drum is broadband on
/// its own: the low (kicks) and the high (hats, rides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registers {
    /// Bands before this form the low register.
    pub low_end: usize,
    /// Bands from this on form the high register.
    pub high_start: usize,
}

impl Registers {
    /// No register of its own (every band counts only in the whole).
    pub fn none(n_bands: usize) -> Self {
        Self {
            low_end: 0,
            high_start: n_bands,
        }
    }

    /// The registers of a filterbank with these band centres
    /// ([`LOW_REGISTER_HZ`], [`HIGH_REGISTER_HZ`]); a register the bands do
    /// not reach (the high one at low sample rates) is empty.
    pub fn from_centers(centers_hz: &[f32]) -> Self {
        let n = centers_hz.len();
        Self {
            low_end: centers_hz
                .iter()
                .position(|&f| f >= LOW_REGISTER_HZ)
                .unwrap_or(n),
            high_start: centers_hz
                .iter()
                .position(|&f| f >= HIGH_REGISTER_HZ)
                .unwrap_or(n),
        }
    }
}

/// 1 for a band that rises audibly at the beat ODF's scale, else 0.
fn rises(d: f32) -> f32 {
    if d > 0.01 { 1.0 } else { 0.0 }
}

/// The share of bands that rise ([`rises`]).
fn rising_share(diff: &[f32]) -> f32 {
    super::lanes::lane_sum(diff, rises) / diff.len() as f32
}

/// The summed rise of one frame's bands and the share of them that rise.
fn flux_and_share(diff: &[f32]) -> (f32, f32) {
    (super::lanes::lane_sum(diff, |d| d), rising_share(diff))
}

/// SuperFlux onset detection function over log-filtered bands.
pub struct SuperFlux {
    /// Band magnitudes compressed at the beat ODF's scale.
    beat_frames: CompressedHistory,
    /// The same, compressed at the onset ODF's scale ([`ONSET_LOG_GAIN`]).
    onset_frames: CompressedHistory,
    /// Per-band positive differences of the last frame at the beat ODF's
    /// scale (for band-wise hits).
    diff: Vec<f32>,
    /// The same at the onset ODF's scale.
    onset_diff: Vec<f32>,
    /// Each band's weight in the onset ODF: 1 at the lowest band rising to
    /// 3 at the highest (hits have more high-frequency energy than sung or
    /// bowed notes).
    tilt: Vec<f32>,
    /// The low and high registers.
    registers: Registers,
    /// The low register's bands at the onset ODF's scale, compared
    /// [`KICK_LAG`] frames back.
    kick_frames: CompressedHistory,
    /// The low register's rises over [`KICK_LAG`] hops.
    kick_diff: Vec<f32>,
    /// Hops back the ODFs compare with.
    lag: usize,
    /// Per-band rises over [`SLOW_RISE_HOPS`] at the beat ODF's scale.
    slow_diff: Vec<f32>,
}

impl SuperFlux {
    /// A detector over `n_bands` bands comparing with the frame `lag` hops
    /// back, with a kick's and a hat's own `registers`.
    pub fn new(n_bands: usize, lag: usize, registers: Registers) -> Self {
        let lag = lag.max(1);
        let registers = Registers {
            low_end: registers.low_end.min(n_bands),
            high_start: registers.high_start.min(n_bands),
        };
        Self {
            beat_frames: CompressedHistory::new(n_bands, lag.max(SLOW_RISE_HOPS), 1.0),
            onset_frames: CompressedHistory::new(n_bands, lag, ONSET_LOG_GAIN),
            diff: vec![0.0; n_bands],
            onset_diff: vec![0.0; n_bands],
            tilt: (0..n_bands)
                .map(|i| 1.0 + 2.0 * i as f32 / n_bands as f32)
                .collect(),
            registers,
            kick_frames: CompressedHistory::new(registers.low_end, KICK_LAG, ONSET_LOG_GAIN),
            kick_diff: vec![0.0; registers.low_end],
            lag,
            slow_diff: vec![0.0; n_bands],
        }
    }

    /// Feeds band magnitudes (from [`LogFilterbank::apply`]); returns the two ODF values.
    pub fn push(&mut self, band_mags: &[f32]) -> OnsetStrength {
        self.beat_frames.push(band_mags);
        self.onset_frames.push(band_mags);
        self.beat_frames.rise(self.lag, &mut self.diff);
        self.onset_frames.rise(self.lag, &mut self.onset_diff);
        self.beat_frames.rise(SLOW_RISE_HOPS, &mut self.slow_diff);
        let nb = self.diff.len();
        // Favour broadband (percussive) changes: scale by the fraction of
        // bands that rise (at the beat ODF's scale, where a band must rise
        // audibly). Onsets take its square and the tilt toward highs; the
        // beat signal keeps more of the tonal changes.
        let (flux, broad) = flux_and_share(&self.diff);
        let weighted = super::lanes::lane_dot(&self.onset_diff, &self.tilt);
        // A hat is broadband within the high register.
        let high = &self.diff[self.registers.high_start..];
        let high_broad = if high.is_empty() {
            0.0
        } else {
            (rising_share(high) / HIGH_REGISTER_FULL).min(1.0)
        };
        let onset_broad = broad.max(high_broad);
        // A kick is broadband within the low register, where it must rise
        // far; its mean rise there stands for every band's.
        self.kick_frames.push(&band_mags[..self.registers.low_end]);
        self.kick_frames.rise(KICK_LAG, &mut self.kick_diff);
        let low = &self.kick_diff[..];
        let kick = if low.is_empty() {
            0.0
        } else {
            let n = low.len() as f32;
            let share = low.iter().filter(|&&d| d >= KICK_RISE).count() as f32 / n;
            KICK_WEIGHT * low.iter().sum::<f32>() / n * nb as f32 * share * share
        };
        OnsetStrength {
            onset: (weighted * onset_broad * onset_broad).max(kick),
            beat: flux * broad.sqrt(),
            beat_slow: {
                let (flux, broad) = flux_and_share(&self.slow_diff);
                flux * broad.sqrt()
            },
        }
    }

    /// Positive differences per band from the last [`SuperFlux::push`].
    pub fn band_diffs(&self) -> &[f32] {
        &self.diff
    }

    /// Per-band rises over [`SLOW_RISE_HOPS`] (the beat ODF's scale) from
    /// the last [`SuperFlux::push`]: the slow view's bands.
    pub fn slow_band_diffs(&self) -> &[f32] {
        &self.slow_diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterbank_has_no_empty_bands() {
        let fb = LogFilterbank::new(513, 44_100.0 / 1024.0, 30.0, 17_000.0, 12.0);
        assert!(fb.len() > 40, "{}", fb.len());
        let flat = vec![1.0; 513];
        let mut out = vec![0.0; fb.len()];
        fb.apply(&flat, &mut out);
        for v in out {
            assert!((v - 1.0).abs() < 1e-4, "{v}");
        }
    }

    #[test]
    fn a_quiet_band_that_doubles_counts_in_the_onset_strength() {
        // Half the bands loud (a bass and guitars), half 40 dB down (the
        // hats' band), then a hit doubles every band. At the beat ODF's
        // compression the quiet bands' rise is a fortieth of the loud
        // ones'; at the onset ODF's, about a third.
        let mut flux = SuperFlux::new(24, 2, Registers::none(24));
        let fill = |mags: &mut [f32], gain: f32| {
            for (i, m) in mags.iter_mut().enumerate() {
                *m = gain * if i < 12 { 1.0 } else { 0.01 };
            }
        };
        let mut mags = [0.0f32; 24];
        fill(&mut mags, 1.0);
        for _ in 0..3 {
            flux.push(&mags);
        }
        fill(&mut mags, 2.0);
        flux.push(&mags);
        let share = |d: &[f32]| d[12..].iter().sum::<f32>() / d[..12].iter().sum::<f32>();
        let (beat, onset) = (share(&flux.diff), share(&flux.onset_diff));
        assert!(beat < 0.05, "beat ODF: quiet/loud rise {beat:.3}");
        assert!(onset > 0.25, "onset ODF: quiet/loud rise {onset:.3}");
    }

    /// The onset strength of a hit over 24 bands that lifts the bands
    /// `rising` from `from` (every band before it) to `to`.
    fn hit_strength(
        registers: Registers,
        rising: std::ops::Range<usize>,
        from: f32,
        to: f32,
    ) -> f32 {
        let mut flux = SuperFlux::new(24, 2, registers);
        let mut mags = [from; 24];
        for _ in 0..3 {
            flux.push(&mags);
        }
        for m in &mut mags[rising] {
            *m = to;
        }
        flux.push(&mags).onset
    }

    #[test]
    fn a_hat_counts_as_broadband_within_the_high_register() {
        // 24 bands, the top 6 the high register. A snare rises in every
        // band; a hat as much in the top 6 only.
        let strength = |high_start: usize, rising| {
            let registers = Registers {
                low_end: 0,
                high_start,
            };
            hit_strength(registers, rising, 0.1, 1.0)
        };
        let with = strength(18, 18..24) / strength(18, 0..24);
        let without = strength(24, 18..24) / strength(24, 0..24);
        assert!(with > 0.2, "hat/snare with the high register {with:.3}");
        assert!(without < 0.05, "hat/snare over all bands {without:.3}");
    }

    #[test]
    fn a_kick_counts_within_the_low_register_and_a_bass_note_does_not() {
        // 24 bands, the lowest 2 the low register, all at 0.01 (-40 dB)
        // under a hit. A snare lifts every band to 1; a kick lifts the low
        // register as far; a bass note doubles it (+6 dB).
        let strength = |low_end: usize, rising, to: f32| {
            let registers = Registers {
                low_end,
                high_start: 24,
            };
            hit_strength(registers, rising, 0.01, to)
        };
        let snare = strength(2, 0..24, 1.0);
        let kick = strength(2, 0..2, 1.0) / snare;
        let bass = strength(2, 0..2, 0.02) / snare;
        let kick_without = strength(0, 0..2, 1.0) / strength(0, 0..24, 1.0);
        assert!(kick > 0.1, "kick/snare with the low register {kick:.4}");
        assert!(
            kick_without < 0.001,
            "kick/snare over all bands {kick_without:.4}"
        );
        assert!(bass < 0.001, "bass note/snare {bass:.4}");
    }

    #[test]
    fn picker_fires_once_per_spike() {
        let mut p = PeakPicker::new(100.0, 0.1, 0.03, 0.03);
        let mut fired = Vec::new();
        for i in 0..300 {
            let x = if i % 50 == 10 { 5.0 } else { 0.1 };
            if p.push(x).is_some() {
                fired.push(i);
            }
        }
        assert_eq!(fired, vec![10, 60, 110, 160, 210, 260]);
    }
}
