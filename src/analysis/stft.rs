//! Streaming short-time Fourier transform: samples in, one magnitude spectrum per hop out.
//!
//! Buffers are made once in [`Stft::new`]; pushing samples and computing a
//! frame never allocate.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

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
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    output: Vec<Complex32>,
    scratch: Vec<Complex32>,
    magnitudes: Vec<f32>,
}

impl Stft {
    /// A transform of `window_len` samples (a power of two) advancing by `hop` samples.
    pub fn new(window_len: usize, hop: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(window_len);
        let window = (0..window_len)
            .map(|i| {
                let x = std::f32::consts::TAU * i as f32 / window_len as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let input = fft.make_input_vec();
        let output = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            hop: hop.max(1),
            history: SampleRing::new(window_len),
            until_hop: hop.max(1),
            magnitudes: vec![0.0; window_len / 2 + 1],
            fft,
            window,
            input,
            output,
            scratch,
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
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .is_err()
        {
            self.magnitudes.fill(0.0);
        } else {
            for (m, c) in self.magnitudes[bins.clone()]
                .iter_mut()
                .zip(&self.output[bins])
            {
                *m = c.norm_sqr().sqrt();
            }
        }
        &self.magnitudes
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
