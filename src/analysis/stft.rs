//! Streaming short-time Fourier transform: samples in, one magnitude spectrum per hop out.
//!
//! Buffers are made once in [`Stft::new`]; pushing samples and computing a
//! frame never allocate.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Power spectrum of a real signal: the complex FFT of half its length (its
/// even samples as the real parts, odd ones as the imaginary parts), then
/// the split into the even and odd samples' spectra in structure-of-arrays
/// loops that the compiler vectorises. Same numbers as `realfft` to
/// rounding, at about half the time per frame: realfft's scalar split loop
/// was the largest single cost of the analysis (a sixth of it), and only
/// magnitudes are needed here.
pub struct RealSpectrum {
    fft: Arc<dyn Fft<f32>>,
    /// Packed input, then the half-length spectrum Z.
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    /// `e^(-2 pi i k / n)` for k = 0..=n/2, real and imaginary parts.
    tw_re: Vec<f32>,
    tw_im: Vec<f32>,
    /// `Z[k]` for k = 0..=m (with `Z[m] = Z[0]`), parts apart.
    re: Vec<f32>,
    im: Vec<f32>,
}

impl RealSpectrum {
    /// A transform of `n` real samples (`n` even, at least 2).
    pub fn new(n: usize) -> Self {
        let m = (n / 2).max(1);
        let fft = FftPlanner::new().plan_fft_forward(m);
        let scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
        let angle = |k: usize| -std::f64::consts::TAU * k as f64 / (2 * m) as f64;
        Self {
            fft,
            buf: vec![Complex32::default(); m],
            scratch,
            tw_re: (0..=m).map(|k| angle(k).cos() as f32).collect(),
            tw_im: (0..=m).map(|k| angle(k).sin() as f32).collect(),
            re: vec![0.0; m + 1],
            im: vec![0.0; m + 1],
        }
    }

    /// Writes `|X[k]|^2` of the `n` samples `input` into `power[k]` for
    /// the bins `k` in `bins` (of n/2 + 1); other entries are left alone.
    pub fn power(&mut self, input: &[f32], bins: std::ops::Range<usize>, power: &mut [f32]) {
        let m = self.buf.len();
        for (z, pair) in self.buf.iter_mut().zip(input.chunks_exact(2)) {
            *z = Complex32::new(pair[0], pair[1]);
        }
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        for ((r, i), z) in self.re.iter_mut().zip(self.im.iter_mut()).zip(&self.buf) {
            *r = z.re;
            *i = z.im;
        }
        self.re[m] = self.buf[0].re;
        self.im[m] = self.buf[0].im;
        let end = bins.end.min(m + 1).min(power.len());
        let b = bins.start.min(end)..end;
        // Z[m - k] for k in `b`: the parts read backwards.
        let rev = m + 1 - b.end..m + 1 - b.start;
        let lanes = self.re[b.clone()]
            .iter()
            .zip(&self.im[b.clone()])
            .zip(
                self.re[rev.clone()]
                    .iter()
                    .rev()
                    .zip(self.im[rev].iter().rev()),
            )
            .zip(self.tw_re[b.clone()].iter().zip(&self.tw_im[b.clone()]));
        for (p, (((&ar, &ai), (&br, &bi)), (&wr, &wi))) in power[b].iter_mut().zip(lanes) {
            // Z[k] = A, conj(Z[m - k]) = B: even part (A + B) / 2, odd
            // part (A - B) / 2i, X[k] = even + w^k odd.
            let (er, ei) = (0.5 * (ar + br), 0.5 * (ai - bi));
            let (or, oi) = (0.5 * (ai + bi), -0.5 * (ar - br));
            let xr = er + wr * or - wi * oi;
            let xi = ei + wr * oi + wi * or;
            *p = xr * xr + xi * xi;
        }
    }
}

/// The newest `len` samples of a stream, in a circular buffer.
pub struct SampleRing {
    samples: Vec<f32>,
    /// Where the next sample goes: the oldest one.
    write: usize,
}

impl SampleRing {
    /// A ring of `len` silent samples.
    pub fn new(len: usize) -> Self {
        Self {
            samples: vec![0.0; len.max(1)],
            write: 0,
        }
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Always false: a ring holds at least one sample.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Takes in samples (newest last), by slice: only the newest `len` can matter.
    pub fn push(&mut self, samples: &[f32]) {
        let len = self.samples.len();
        let mut rest = &samples[samples.len().saturating_sub(len)..];
        while !rest.is_empty() {
            let n = rest.len().min(len - self.write);
            self.samples[self.write..self.write + n].copy_from_slice(&rest[..n]);
            self.write = (self.write + n) % len;
            rest = &rest[n..];
        }
    }

    /// The samples in time order, as two slices: the ring's oldest part,
    /// then its newest.
    pub fn halves(&self) -> (&[f32], &[f32]) {
        let (newer, older) = self.samples.split_at(self.write);
        (older, newer)
    }

    /// Writes the samples in time order times `window` into `out` (all
    /// three `len` long), in two straight loops the compiler vectorises.
    pub fn windowed(&self, window: &[f32], out: &mut [f32]) {
        let (older, newer) = self.halves();
        let (win_old, win_new) = window.split_at(older.len());
        let (out_old, out_new) = out.split_at_mut(older.len());
        for ((d, &s), &w) in out_old.iter_mut().zip(older).zip(win_old) {
            *d = s * w;
        }
        for ((d, &s), &w) in out_new.iter_mut().zip(newer).zip(win_new) {
            *d = s * w;
        }
    }

    /// The newest `out.len()` samples (oldest first).
    pub fn latest(&self, out: &mut [f32]) {
        let len = self.samples.len();
        let n = out.len().min(len);
        let start = (self.write + len - n) % len;
        let first = (len - start).min(n);
        out[..first].copy_from_slice(&self.samples[start..start + first]);
        out[first..n].copy_from_slice(&self.samples[..n - first]);
    }
}

/// A sliding-window STFT with a Hann window.
pub struct Stft {
    hop: usize,
    /// The last `window_len` samples.
    history: SampleRing,
    until_hop: usize,
    fft: RealSpectrum,
    window: Vec<f32>,
    input: Vec<f32>,
    magnitudes: Vec<f32>,
    /// Power of the bins [`Stft::compute_power_bins`] computed.
    power: Vec<f32>,
}

impl Stft {
    /// A transform of `window_len` samples (a power of two) advancing by `hop` samples.
    pub fn new(window_len: usize, hop: usize) -> Self {
        let window_len = (window_len.max(2) + 1) & !1;
        let window = (0..window_len)
            .map(|i| {
                let x = std::f32::consts::TAU * i as f32 / window_len as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        Self {
            hop: hop.max(1),
            history: SampleRing::new(window_len),
            until_hop: hop.max(1),
            magnitudes: vec![0.0; window_len / 2 + 1],
            power: vec![0.0; window_len / 2 + 1],
            fft: RealSpectrum::new(window_len),
            window,
            input: vec![0.0; window_len],
        }
    }

    /// Samples per window.
    pub fn window_len(&self) -> usize {
        self.history.len()
    }

    /// Samples per hop.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Pushes samples until the next hop boundary; returns how many were taken and
    /// whether a new frame is due (then call [`Stft::compute`]).
    pub fn push(&mut self, samples: &[f32]) -> (usize, bool) {
        let take = samples.len().min(self.until_hop);
        self.history.push(&samples[..take]);
        self.until_hop -= take;
        if self.until_hop == 0 {
            self.until_hop = self.hop;
            (take, true)
        } else {
            (take, false)
        }
    }

    /// Windows the newest `window_len` samples and fills the magnitude spectrum.
    pub fn compute(&mut self) -> &[f32] {
        let bins = self.magnitudes.len();
        self.compute_bins(0..bins)
    }

    /// As [`Stft::compute`], but only the magnitudes of `bins` are updated
    /// (the others keep their last values).
    pub fn compute_bins(&mut self, bins: std::ops::Range<usize>) -> &[f32] {
        self.history.windowed(&self.window, &mut self.input);
        let end = bins.end.min(self.magnitudes.len());
        let bins = bins.start.min(end)..end;
        self.fft
            .power(&self.input, bins.clone(), &mut self.magnitudes);
        for m in &mut self.magnitudes[bins] {
            *m = m.sqrt();
        }
        &self.magnitudes
    }

    /// As [`Stft::compute_bins`], but the power (squared magnitude) of
    /// `bins`, in a spectrum of its own (`window_len / 2 + 1` bins; the
    /// others keep their last values): for whoever compresses it further,
    /// without a square root per bin first.
    pub fn compute_power_bins(&mut self, bins: std::ops::Range<usize>) -> &[f32] {
        self.history.windowed(&self.window, &mut self.input);
        let end = bins.end.min(self.power.len());
        let bins = bins.start.min(end)..end;
        self.fft.power(&self.input, bins, &mut self.power);
        &self.power
    }

    /// The last computed magnitude spectrum (`window_len / 2 + 1` bins).
    pub fn magnitudes(&self) -> &[f32] {
        &self.magnitudes
    }

    /// The window's samples in time order, as two slices (the ring's
    /// oldest part, then its newest).
    pub fn window_samples(&self) -> (&[f32], &[f32]) {
        self.history.halves()
    }

    /// The newest `out.len()` samples (oldest first), for the waveform texture.
    pub fn latest_samples(&self, out: &mut [f32]) {
        self.history.latest(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_spectrum_matches_realfft() {
        use realfft::RealFftPlanner;
        for n in [2usize, 8, 1024, 2048, 4096] {
            let mut seed = 12345u32;
            let x: Vec<f32> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as f32 / u32::MAX as f32 - 0.5
                })
                .collect();
            let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
            let (mut input, mut out) = (x.clone(), fft.make_output_vec());
            fft.process(&mut input, &mut out).expect("sizes match");
            let mut ours = RealSpectrum::new(n);
            let mut power = vec![-1.0; n / 2 + 1];
            ours.power(&x, 0..n / 2 + 1, &mut power);
            let scale = out.iter().map(|c| c.norm_sqr()).fold(0.0f32, f32::max);
            for (k, (p, c)) in power.iter().zip(&out).enumerate() {
                let err = (p - c.norm_sqr()).abs() / scale;
                assert!(err < 1e-5, "n {n} bin {k}: {p} vs {}", c.norm_sqr());
            }
            // A range leaves the other bins alone.
            let mut part = vec![-1.0; n / 2 + 1];
            ours.power(&x, 1..2, &mut part);
            assert_eq!(part[0], -1.0);
            assert_eq!(part[1], power[1]);
        }
    }

    #[test]
    fn sine_peaks_at_its_bin() {
        let sr = 44_100.0;
        let mut stft = Stft::new(1024, 256);
        let freq = 20.0 * sr / 1024.0; // exactly bin 20
        let sig: Vec<f32> = (0..4096)
            .map(|i| (std::f32::consts::TAU * freq * i as f32 / sr).sin())
            .collect();
        let mut pos = 0;
        let mut frames = 0;
        while pos < sig.len() {
            let (took, due) = stft.push(&sig[pos..]);
            pos += took;
            if due {
                frames += 1;
                stft.compute();
            }
        }
        assert_eq!(frames, 16);
        let mags = stft.magnitudes();
        let argmax = mags
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert_eq!(argmax, Some(20));
        // A full-scale sine through a Hann window has magnitude N/4.
        assert!((mags[20] - 256.0).abs() < 2.0, "{}", mags[20]);
    }
}
