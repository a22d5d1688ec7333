//! Shadertoy's audio input, made the way a browser makes it: a Web Audio
//! `AnalyserNode` with `fftSize = 2048`, `smoothingTimeConstant = 0.8` and
//! the default −100..−30 dB byte range. Imported Shadertoy shaders read it as
//! `iChannel0`: row 0 holds the first 512 of the 1024 *linear* frequency bins
//! (0 to a quarter of the sample rate, about 11 kHz), row 1 the newest 512
//! samples of the waveform. Our own spectrum texture is log-frequency, so a
//! shader written for Shadertoy would react in the wrong places on it.
//!
//! Buffers are made once; [`WebAudioAnalyser::push`] and
//! [`WebAudioAnalyser::update`] never allocate.

use super::frame::SPECTRUM_LEN;
use super::normalize::fast_log2;
use super::stft::{RealSpectrum, SampleRing};

/// Web Audio's `fftSize` as Shadertoy sets it.
pub const FFT_SIZE: usize = 2048;
/// `smoothingTimeConstant`.
pub const SMOOTHING: f32 = 0.8;
/// `minDecibels`, `maxDecibels`.
pub const DB_RANGE: (f32, f32) = (-100.0, -30.0);

/// A streaming analyser with Web Audio's numbers.
pub struct WebAudioAnalyser {
    history: SampleRing,
    fft: RealSpectrum,
    window: Vec<f32>,
    input: Vec<f32>,
    /// One row's values before they become bytes: the power of the bins
    /// shown (the first [`SPECTRUM_LEN`]), then their levels, then the
    /// waveform's.
    row: Vec<f32>,
    smoothed: Vec<f32>,
}

impl Default for WebAudioAnalyser {
    fn default() -> Self {
        Self::new()
    }
}

impl WebAudioAnalyser {
    /// A new analyser with silent history.
    pub fn new() -> Self {
        // Web Audio's Blackman window (alpha 0.16).
        let window = (0..FFT_SIZE)
            .map(|i| {
                let x = std::f32::consts::TAU * i as f32 / FFT_SIZE as f32;
                0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos()
            })
            .collect();
        Self {
            history: SampleRing::new(FFT_SIZE),
            fft: RealSpectrum::new(FFT_SIZE),
            input: vec![0.0; FFT_SIZE],
            row: vec![0.0; SPECTRUM_LEN],
            smoothed: vec![0.0; SPECTRUM_LEN],
            window,
        }
    }

    /// Forgets the smoothed spectrum, as a newly made `AnalyserNode` has
    /// none: the rows then rise from silence instead of showing what was
    /// heard when they were last computed.
    pub fn clear_smoothing(&mut self) {
        self.smoothed.fill(0.0);
    }

    /// Takes in samples (newest last).
    pub fn push(&mut self, samples: &[f32]) {
        self.history.push(samples);
    }

    /// One `getByteFrequencyData` + `getByteTimeDomainData` call: transforms
    /// the newest 2048 samples, smooths, and writes both rows as bytes.
    pub fn update(&mut self, fft_row: &mut [u8; SPECTRUM_LEN], wave_row: &mut [u8; SPECTRUM_LEN]) {
        self.history.windowed(&self.window, &mut self.input);
        self.fft.power(&self.input, 0..SPECTRUM_LEN, &mut self.row);
        let (lo, hi) = DB_RANGE;
        let scale = 255.0 / (hi - lo);
        let norm = 1.0 / FFT_SIZE as f32;
        for (s, &p) in self.smoothed.iter_mut().zip(&self.row) {
            *s = SMOOTHING * *s + (1.0 - SMOOTHING) * p.sqrt() * norm;
        }
        // Byte levels, computed and converted in separate plain loops so
        // that each vectorises.
        for (v, &s) in self.row.iter_mut().zip(&self.smoothed) {
            // 20 log10(x) = 20 log10(2) log2(x)
            let db = 6.020_6 * fast_log2(s.max(1e-12));
            *v = ((db - lo) * scale).clamp(0.0, 255.0);
        }
        to_bytes(&self.row, fft_row);
        // The newest 512 samples, 128 = zero.
        self.history.latest(&mut self.row);
        for v in self.row.iter_mut() {
            *v = (128.0 * (1.0 + *v)).clamp(0.0, 255.0);
        }
        to_bytes(&self.row, wave_row);
    }
}

/// Truncates values in 0..=255 to bytes.
fn to_bytes(values: &[f32], out: &mut [u8]) {
    for (b, &v) in out.iter_mut().zip(values) {
        *b = v as i32 as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_lands_in_its_linear_bin_at_the_web_audio_level() {
        let sr = 44_100.0f32;
        let f = 2_000.0f32;
        let mut a = WebAudioAnalyser::new();
        let (mut fft, mut wave) = ([0u8; SPECTRUM_LEN], [0u8; SPECTRUM_LEN]);
        let mut t = 0usize;
        for _ in 0..60 {
            let block: Vec<f32> = (0..735)
                .map(|i| 0.5 * (std::f32::consts::TAU * f * (t + i) as f32 / sr).sin())
                .collect();
            t += block.len();
            a.push(&block);
            a.update(&mut fft, &mut wave);
        }
        let bin = (f / (sr / FFT_SIZE as f32)).round() as usize;
        let peak = (0..SPECTRUM_LEN).max_by_key(|&k| fft[k]).unwrap_or(0);
        assert!(
            peak.abs_diff(bin) <= 1,
            "peak at bin {peak}, expected {bin}"
        );
        // 0.5 amplitude through a Blackman window: |X|/N = 0.5 * 0.42 / 2 = -25.6 dB,
        // above maxDecibels: the byte saturates, as in a browser.
        assert_eq!(fft[bin], 255);
        assert!(fft[bin + 40] < 100, "far bins stay low: {}", fft[bin + 40]);
        assert!(wave.iter().any(|&b| b > 180) && wave.iter().any(|&b| b < 76));
    }

    #[test]
    fn silence_reads_zero_spectrum_and_mid_waveform() {
        let mut a = WebAudioAnalyser::new();
        let (mut fft, mut wave) = ([9u8; SPECTRUM_LEN], [0u8; SPECTRUM_LEN]);
        a.push(&[0.0; 4096]);
        a.update(&mut fft, &mut wave);
        assert!(fft.iter().all(|&b| b == 0));
        assert!(wave.iter().all(|&b| b == 128));
    }
}
