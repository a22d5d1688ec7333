//! Autocorrelation by FFT and the tempo candidates' scoring over it,
//! without allocating once made.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::{BAR_WEIGHT, HALF_RATIO, HALF_YIELD, MAX_BPM, THIRD_RATIO};

/// Scores every tempo candidate from the normalised autocorrelation `acf`
/// of `n` frames at `rate` frames/s (see the module docs: a comb at 1-4
/// periods plus the bar at 3 or 4, yielding to an even pulse twice as
/// fast or to 3/2 of a dotted one, times `prior`) into `scores`; returns
/// the best score. With `plain`, the bar counts, and `plain` gets the same
/// scores without it (the bar decides between candidates, not the fine
/// tempo around one); without, the bar does not count (the tempo-change
/// check's 3 s spans hold a bar only for the faster candidates).
pub(super) fn score_candidates(
    acf: &[f32],
    n: usize,
    rate: f32,
    candidates: &[f32],
    prior: &[f32],
    scores: &mut [f32],
    mut plain: Option<&mut [f32]>,
) -> f32 {
    let acf_at = |acf: &[f32], lag: f32| -> f32 {
        // Lags are positive: truncation is the floor, without a libm call.
        let i = lag as usize;
        if i + 1 >= n {
            return 0.0;
        }
        let f = lag - i as f32;
        acf[i] * (1.0 - f) + acf[i + 1] * f
    };
    // The best of a small neighbourhood: real tempi drift.
    let acf_near = |acf: &[f32], lag: f32| -> f32 {
        acf_at(acf, lag - 1.0)
            .max(acf_at(acf, lag))
            .max(acf_at(acf, lag + 1.0))
    };
    let mut best = 0.0f32;
    for (i, &bpm) in candidates.iter().enumerate() {
        let lag = 60.0 * rate / bpm;
        let mut s = 0.0;
        let mut wsum = 0.0;
        // The autocorrelation near 1-4 periods, as far as the window holds.
        let mut at = [0.0f32; 5];
        let mut reach = 0;
        for (k, slot) in at.iter_mut().enumerate().skip(1) {
            let l = lag * k as f32;
            if l >= (n / 2) as f32 {
                break;
            }
            let v = acf_near(acf, l);
            *slot = v;
            reach = k;
            let w = 1.0 / k as f32;
            s += w * v;
            wsum += w;
        }
        // The bar: music repeats by the bar (a riff, a drum pattern), and a
        // bar is 3 or 4 beats, so the beat's period, and not a dotted one
        // two thirds or three halves of it, repeats at 3 or 4 times itself.
        let bar = if plain.is_some() {
            at[3..=reach.max(2)].iter().fold(0.0f32, |m, &v| m.max(v))
        } else {
            0.0
        };
        let own = if reach >= 1 {
            at[1]
        } else {
            acf_near(acf, lag)
        }
        .max(0.0);
        // A candidate whose own period shows no periodicity at all (the
        // half-beat of a click track) is not a tempo, whatever its multiples say.
        let gate = (own / 0.02).min(1.0);
        // A pulse twice as fast that is just as periodic (an even click,
        // a kick on every beat) is the beat; a weaker one (off-beat hats)
        // is not. Yield to it only when it is nearly as strong.
        let half = acf_near(acf, lag * 0.5).max(0.0);
        let yield_to_double = if 60.0 * rate / (lag * 0.5) <= MAX_BPM && own > 0.0 {
            let r = half / own;
            1.0 - HALF_YIELD * ((r - HALF_RATIO) / (1.0 - HALF_RATIO)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        // Even eighths with a kick on every beat are periodic at every
        // multiple of the eighth, so a dotted quarter (two thirds of the
        // tempo) scores like the beat. Its period divides in three, the
        // beat's in two: the dotted one yields.
        let third = acf_near(acf, lag / 3.0).max(0.0);
        let dotted = if own > 0.0 && third >= THIRD_RATIO * own {
            1.0 - HALF_YIELD * ((third - half) / own).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let factor = gate * yield_to_double * dotted * prior[i];
        let comb = s / wsum.max(1e-9);
        if let Some(plain) = plain.as_deref_mut() {
            plain[i] = comb.max(0.0) * factor;
        }
        let s = (comb + BAR_WEIGHT * bar).max(0.0) * factor;
        scores[i] = s;
        best = best.max(s);
    }
    best
}

/// Forward and inverse real FFTs of one length, with their buffers: the
/// autocorrelation of up to `len` frames without allocating.
pub(super) struct Correlator {
    /// The forward transform (the backbeat check's cross-correlation uses
    /// it and the buffers below too).
    pub(super) fft: Arc<dyn RealToComplex<f32>>,
    /// The inverse transform.
    pub(super) ifft: Arc<dyn ComplexToReal<f32>>,
    /// The forward transform's input, zero-padded.
    pub(super) input: Vec<f32>,
    /// The forward transform's output.
    pub(super) spectrum: Vec<Complex32>,
    /// Scratch for the forward transform.
    pub(super) scratch: Vec<Complex32>,
    /// Scratch for the inverse transform.
    pub(super) iscratch: Vec<Complex32>,
    /// The last autocorrelation (its first `len` lags are valid).
    pub(super) out: Vec<f32>,
}

impl Correlator {
    /// Transforms for correlations over up to `len` frames (zero-padded to
    /// twice that, so no lag wraps around).
    pub(super) fn new(planner: &mut RealFftPlanner<f32>, len: usize) -> Self {
        let fft_len = (2 * len).next_power_of_two();
        let fft = planner.plan_fft_forward(fft_len);
        let ifft = planner.plan_fft_inverse(fft_len);
        Self {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            iscratch: ifft.make_scratch_vec(),
            out: vec![0.0; fft_len],
            fft,
            ifft,
        }
    }

    /// The unbiased autocorrelation of `src` (mean removed), normalised to
    /// 1 at lag 0, into `out`. False when the transform fails or `src` is flat.
    pub(super) fn autocorrelate(&mut self, src: &[f32]) -> bool {
        let spectrum = &mut self.spectrum;
        if centred_spectrum(
            &*self.fft,
            src.iter().copied(),
            &mut self.input,
            &mut self.scratch,
            spectrum,
        )
        .is_none()
        {
            return false;
        }
        for c in spectrum.iter_mut() {
            *c = Complex32::new(c.norm_sqr(), 0.0);
        }
        if self
            .ifft
            .process_with_scratch(spectrum, &mut self.out, &mut self.iscratch)
            .is_err()
        {
            return false;
        }
        let zero = self.out[0];
        if zero <= 1e-12 {
            return false;
        }
        unbias(&mut self.out, src.len(), zero);
        true
    }
}

/// Writes `values` less their mean into `input` (zeros after them) and its
/// spectrum into `out`. Returns the centred values' energy, or `None` when
/// the transform fails.
pub(super) fn centred_spectrum(
    fft: &dyn RealToComplex<f32>,
    values: impl Iterator<Item = f32> + Clone,
    input: &mut [f32],
    scratch: &mut [Complex32],
    out: &mut [Complex32],
) -> Option<f32> {
    let n = values.clone().count().max(1);
    let mean = values.clone().sum::<f32>() / n as f32;
    input.fill(0.0);
    let mut energy = 0.0;
    for (d, v) in input.iter_mut().zip(values) {
        *d = v - mean;
        energy += *d * *d;
    }
    fft.process_with_scratch(input, out, scratch).ok()?;
    Some(energy)
}

/// Divides the first `n` lags of a correlation over `n` frames by `scale`
/// and by the share of the frames each lag overlaps: the unbiased estimate.
pub(super) fn unbias(correlation: &mut [f32], n: usize, scale: f32) {
    for (l, c) in correlation.iter_mut().enumerate().take(n) {
        *c /= scale * (n - l) as f32 / n as f32;
    }
}
