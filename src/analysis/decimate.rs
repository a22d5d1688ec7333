//! Halving the sample rate ahead of the chroma transform.
//!
//! Chroma needs a long window (fine frequency steps) but nothing above
//! 5 kHz: a low-pass filter and every other sample give the same frequency
//! steps from a transform half as long.

/// Filter length: a half-band filter, whose taps at even distances from
/// the centre are zero (but the centre's), so an output costs 9
/// multiplications.
const TAPS: usize = 31;
/// Taps either side of the centre.
const HALF: usize = TAPS / 2;
/// Samples kept from one block to the next.
const KEEP: usize = TAPS - 1;
/// The longest block [`HalfRate::process`] takes at once.
pub const MAX_BLOCK: usize = 256;

/// A half-band low-pass filter (windowed sinc, cut-off at a quarter of
/// the input's sample rate; the pass band is flat to about 0.18 of it, the
/// stop band starts at about 0.32) that keeps every other sample. What
/// lies above the output's Nyquist frequency folds down to half the input
/// rate less its frequency: into the chroma range (under 5 kHz, 0.113 of
/// 44.1 kHz) only from above 0.387, deep in the stop band.
#[derive(Clone, Debug)]
pub struct HalfRate {
    /// The centre tap, then the taps at odd distances 1, 3, ... from it.
    centre: f32,
    odd_taps: [f32; HALF.div_ceil(2)],
    /// The last [`KEEP`] inputs, then the block being filtered.
    buf: [f32; KEEP + MAX_BLOCK],
    /// The next input is an odd one (no output at it).
    odd: bool,
}

impl Default for HalfRate {
    fn default() -> Self {
        let tap = |x: f64| -> f64 {
            let sinc = if x == 0.0 {
                0.5
            } else {
                (std::f64::consts::FRAC_PI_2 * x).sin() / (std::f64::consts::PI * x)
            };
            let hann = 0.5 + 0.5 * (std::f64::consts::PI * x / (HALF as f64 + 1.0)).cos();
            sinc * hann
        };
        let mut odd_taps = [0.0f32; HALF.div_ceil(2)];
        for (j, t) in odd_taps.iter_mut().enumerate() {
            *t = tap((2 * j + 1) as f64) as f32;
        }
        // Unity gain at DC.
        let sum = tap(0.0) as f32 + 2.0 * odd_taps.iter().sum::<f32>();
        odd_taps.iter_mut().for_each(|t| *t /= sum);
        Self {
            centre: tap(0.0) as f32 / sum,
            odd_taps,
            buf: [0.0; KEEP + MAX_BLOCK],
            odd: false,
        }
    }
}

impl HalfRate {
    /// Filters `input` (at most [`MAX_BLOCK`] samples) and writes every
    /// other output sample into `out` (which must hold `input.len() / 2 +
    /// 1`); returns how many it wrote. The output lags the input by
    /// half the filter's length, `TAPS / 2` samples (15).
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) -> usize {
        let input = &input[..input.len().min(MAX_BLOCK)];
        let n = input.len();
        self.buf[KEEP..KEEP + n].copy_from_slice(input);
        // Input k of this block sits at KEEP + k; the output at it is
        // centred HALF samples back, and its taps other than the centre
        // reach the samples an odd distance away: every other one. Those
        // gathered into one array (`near`, from HALF before the first
        // centre on), each tap is a sum over contiguous slices, which
        // vectorises.
        let first = usize::from(self.odd);
        let count = (n + 1 - first) / 2;
        let count = count.min(out.len());
        if count > 0 {
            let c0 = KEEP + first - HALF;
            let near_len = count + 2 * (HALF / 2) + 1;
            let mut near = [0.0f32; MAX_BLOCK / 2 + HALF + 1];
            for (m, v) in near[..near_len].iter_mut().enumerate() {
                *v = self.buf[c0 - HALF + 2 * m];
            }
            let out = &mut out[..count];
            for (i, o) in out.iter_mut().enumerate() {
                *o = self.centre * self.buf[c0 + 2 * i];
            }
            // Tap j (distance 2j + 1) reaches near[i + HALF/2 - j] before
            // centre i and near[i + HALF/2 + 1 + j] after it.
            for (j, &t) in self.odd_taps.iter().enumerate() {
                let before = &near[HALF / 2 - j..HALF / 2 - j + count];
                let after = &near[HALF / 2 + 1 + j..HALF / 2 + 1 + j + count];
                for ((o, &x), &y) in out.iter_mut().zip(before).zip(after) {
                    *o += t * (x + y);
                }
            }
        }
        let written = count;
        self.odd = (usize::from(self.odd) + n) % 2 == 1;
        self.buf.copy_within(n..n + KEEP, 0);
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` through a fresh filter in blocks of `block` samples.
    fn halved(input: &[f32], block: usize) -> Vec<f32> {
        let mut filter = HalfRate::default();
        let mut out = Vec::new();
        for chunk in input.chunks(block) {
            let mut o = [0.0; MAX_BLOCK / 2 + 1];
            let n = filter.process(chunk, &mut o);
            out.extend_from_slice(&o[..n]);
        }
        out
    }

    /// The level of a sine at `freq` (a share of the input rate) after
    /// the filter, against its level before.
    fn gain(freq: f64) -> f32 {
        let input: Vec<f32> = (0..4000)
            .map(|n| (std::f64::consts::TAU * freq * n as f64).sin() as f32)
            .collect();
        let out = halved(&input, MAX_BLOCK);
        let n = out.len();
        assert_eq!(n, 2000);
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        rms(&out[100..n]) / rms(&input[200..])
    }

    #[test]
    fn passes_the_chroma_range_and_stops_what_would_fold_into_it() {
        // Up to 5 kHz at 44.1 kHz: within 2 dB.
        for f in [0.002, 0.01, 0.05, 0.1, 0.113] {
            let g = gain(f);
            assert!((0.79..=1.05).contains(&g), "{f}: gain {g}");
        }
        // What would fold to under 0.113 of the input rate: 0.387-0.5.
        for f in [0.387, 0.42, 0.45, 0.49] {
            let g = gain(f);
            assert!(g < 0.01, "{f}: gain {g}");
        }
    }

    #[test]
    fn blocks_of_any_size_give_the_same_samples() {
        let input: Vec<f32> = (0..1000)
            .map(|n| ((n * 7919) % 113) as f32 / 113.0)
            .collect();
        let whole = halved(&input, MAX_BLOCK);
        for block in [1, 2, 37, 100] {
            assert_eq!(whole, halved(&input, block), "blocks of {block}");
        }
    }
}
