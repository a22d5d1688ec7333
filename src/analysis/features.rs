//! Per-hop spectral features: levels, bands, centroid, flatness, rolloff and
//! the 512-texel spectrum/waveform rows for the shader texture.

use super::frame::{FeatureFrame, NUM_BANDS, SPECTRUM_LEN};
use super::lanes::{lane_dot, lane_sum};
use super::normalize::{AutoGain, Envelope, fast_log2};

const LOG_LO_HZ: f32 = 50.0;
const LOG_HI_HZ: f32 = 12_800.0;

fn log_map(hz: f32) -> f32 {
    ((hz.max(1.0) / LOG_LO_HZ).log2() / (LOG_HI_HZ / LOG_LO_HZ).log2()).clamp(0.0, 1.0)
}

/// A level with its auto-gain, a fast follower and a smoothed (`_att`) follower.
#[derive(Clone, Copy, Debug)]
struct Meter {
    gain: AutoGain,
    fast: Envelope,
    slow: Envelope,
}

impl Meter {
    fn new(rate: f32, floor: f32) -> Self {
        Self {
            gain: AutoGain::new(rate, 6.0, floor),
            fast: Envelope::new(rate, 0.0, 0.06),
            slow: Envelope::new(rate, 0.06, 0.4),
        }
    }

    /// Returns (instant, smoothed).
    fn feed(&mut self, amplitude: f32) -> (f32, f32) {
        let v = self.gain.normalize(amplitude);
        (self.fast.follow(v), self.slow.follow(v))
    }
}

/// Computes the spectral part of a [`FeatureFrame`] from a magnitude spectrum.
pub struct FeatureExtractor {
    bin_hz: f32,
    n_bins: usize,
    bass: (usize, usize),
    mid: (usize, usize),
    treb: (usize, usize),
    flat: (usize, usize),
    band_edges: [usize; NUM_BANDS + 1],
    /// Bins of each spectrum texel (never empty).
    spectrum_ranges: Vec<(usize, usize)>,
    level: Meter,
    bass_m: Meter,
    mid_m: Meter,
    treb_m: Meter,
    band_m: [Meter; NUM_BANDS],
    spectrum_gain: AutoGain,
    wave_gain: AutoGain,
    centroid: Envelope,
    rolloff: Envelope,
    flatness: Envelope,
    power: Vec<f32>,
    /// 0, 1, 2, … per bin (for the centroid's weighted sum).
    bin_index: Vec<f32>,
}

impl FeatureExtractor {
    /// An extractor for spectra of `n_bins` bins spaced `bin_hz`, updated
    /// `rate` times a second, with texture rows refreshed `texture_rate`
    /// times a second.
    pub fn new(n_bins: usize, bin_hz: f32, rate: f32, texture_rate: f32) -> Self {
        let bin = |hz: f32| ((hz / bin_hz).round() as usize).clamp(1, n_bins - 1);
        let mut band_edges = [0usize; NUM_BANDS + 1];
        for (i, e) in band_edges.iter_mut().enumerate() {
            let hz = 30.0 * (16_000.0f32 / 30.0).powf(i as f32 / NUM_BANDS as f32);
            *e = bin(hz);
        }
        // Every band at least one bin wide.
        for i in 1..=NUM_BANDS {
            if band_edges[i] <= band_edges[i - 1] {
                band_edges[i] = (band_edges[i - 1] + 1).min(n_bins);
            }
        }
        let edge = |i: usize| {
            let hz = 20.0 * 1000.0f32.powf(i as f32 / SPECTRUM_LEN as f32);
            ((hz / bin_hz) as usize).min(n_bins - 1)
        };
        let spectrum_ranges = (0..SPECTRUM_LEN)
            .map(|i| {
                let (a, b) = (edge(i), edge(i + 1));
                let b = b.max(a + 1).min(n_bins);
                (a.min(b - 1), b)
            })
            .collect();
        // Amplitude floors: magnitudes are unnormalised FFT sums (a full-scale
        // sine gives window/4), so a floor near 1e-3 of that is about -60 dBFS.
        let floor = 1e-3 * (n_bins as f32 / 2.0);
        Self {
            bin_hz,
            n_bins,
            bass: (bin(20.0), bin(250.0)),
            mid: (bin(250.0), bin(4000.0)),
            treb: (bin(4000.0), n_bins - 1),
            flat: (bin(50.0), bin(16_000.0)),
            band_edges,
            spectrum_ranges,
            level: Meter::new(rate, 1e-3),
            bass_m: Meter::new(rate, floor),
            mid_m: Meter::new(rate, floor),
            treb_m: Meter::new(rate, floor * 0.3),
            band_m: [Meter::new(rate, floor * 0.3); NUM_BANDS],
            spectrum_gain: AutoGain::new(texture_rate, 6.0, floor),
            wave_gain: AutoGain::new(texture_rate, 6.0, 1e-3),
            centroid: Envelope::new(rate, 0.03, 0.15),
            rolloff: Envelope::new(rate, 0.03, 0.15),
            flatness: Envelope::new(rate, 0.03, 0.15),
            power: vec![0.0; n_bins],
            bin_index: (0..n_bins).map(|k| k as f32).collect(),
        }
    }

    fn band_amp(&self, (lo, hi): (usize, usize)) -> f32 {
        let hi = hi.max(lo + 1).min(self.n_bins);
        lane_sum(&self.power[lo..hi], |p| p).sqrt()
    }

    /// Updates `frame` from `mags` (FFT magnitudes), `log_bands` (the onset
    /// filterbank's band magnitudes, for flatness) and the time-domain window
    /// statistics `rms`, `peak` (linear amplitude). `recent` holds the newest
    /// samples; the spectrum/waveform rows are only refreshed when `texture_rows`.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        mags: &[f32],
        log_bands: &[f32],
        rms: f32,
        peak: f32,
        recent: &[f32],
        texture_rows: bool,
        frame: &mut FeatureFrame,
    ) {
        for (p, &m) in self.power.iter_mut().zip(mags) {
            *p = m * m;
        }
        frame.rms_db = 20.0 * rms.max(1e-6).log10();
        frame.peak_db = 20.0 * peak.max(1e-6).log10();
        (frame.level, frame.level_att) = self.level.feed(rms);
        (frame.bass, frame.bass_att) = self.bass_m.feed(self.band_amp(self.bass));
        (frame.mid, frame.mid_att) = self.mid_m.feed(self.band_amp(self.mid));
        (frame.treb, frame.treb_att) = self.treb_m.feed(self.band_amp(self.treb));
        for i in 0..NUM_BANDS {
            let amp = self.band_amp((self.band_edges[i], self.band_edges[i + 1]));
            frame.bands[i] = self.band_m[i].feed(amp).0;
        }

        // Shape features over 50 Hz – 16 kHz.
        let (lo, hi) = self.flat;
        let total = lane_sum(&mags[lo..hi], |m| m);
        let weighted = lane_dot(&mags[lo..hi], &self.bin_index[lo..hi]);
        let power_total = lane_sum(&self.power[lo..hi], |p| p);
        // Flatness over the log-spaced bands (equal weight per 1/12 octave,
        // closer to what is heard than per linear bin, and cheaper).
        let band_power = lane_sum(log_bands, |b| b * b);
        let log_sum = lane_sum(log_bands, |b| fast_log2(b * b + 1e-12));
        let nb = log_bands.len().max(1) as f32;
        let audible = total > 1e-5 * self.n_bins as f32;
        if audible {
            let centroid_hz = weighted / total * self.bin_hz;
            frame.centroid = self.centroid.follow(log_map(centroid_hz));
            let arith = band_power / nb;
            let geo = (log_sum / nb).exp2();
            frame.flatness = self
                .flatness
                .follow((geo / arith.max(1e-20)).clamp(0.0, 1.0));
            let mut acc = 0.0f32;
            let mut roll_bin = hi;
            let target = 0.85 * power_total;
            for (k, &p) in self.power[lo..hi].iter().enumerate() {
                acc += p;
                if acc >= target {
                    roll_bin = lo + k;
                    break;
                }
            }
            frame.rolloff = self.rolloff.follow(log_map(roll_bin as f32 * self.bin_hz));
        } else {
            // Hold the colour of the music through silence.
            frame.centroid = self.centroid.value();
            frame.rolloff = self.rolloff.value();
            frame.flatness = self.flatness.value();
        }

        if !texture_rows {
            return;
        }
        // Spectrum row: log-frequency, dB over a 60 dB range under the recent peak.
        let mut row_peak = 0.0f32;
        for (v, &(a, b)) in frame.spectrum.iter_mut().zip(&self.spectrum_ranges) {
            // Low texels are one bin each; high ones take the loudest bin.
            let m = if b == a + 1 {
                mags[a].max(0.0)
            } else {
                mags[a..b]
                    .iter()
                    .fold(0.0f32, |m, &x| if x > m { x } else { m })
            };
            *v = m;
            row_peak = if m > row_peak { m } else { row_peak };
        }
        let gain = self.spectrum_gain.normalize(row_peak);
        let reference = if gain > 0.0 { row_peak / gain } else { 1.0 };
        // dB over a 60 dB range: 20 log10(x) = 20 log10(2) log2(x).
        let offset = fast_log2(1.0 / reference.max(1e-12));
        for v in frame.spectrum.iter_mut() {
            let db = 6.020_6 * (fast_log2(v.max(1e-30)) + offset);
            *v = ((db + 60.0) * (1.0 / 60.0)).clamp(0.0, 1.0);
        }
        // Waveform row, auto-gained around 0.5.
        let wpeak = recent.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
        let g = self.wave_gain.normalize(wpeak);
        let scale = if wpeak > 0.0 { g / wpeak } else { 0.0 };
        for (w, &x) in frame.waveform.iter_mut().zip(recent) {
            *w = (0.5 + 0.5 * x * scale).clamp(0.0, 1.0);
        }
    }
}
