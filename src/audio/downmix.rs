//! Mono from a live input's channels, robust to a leg wired in reverse.
//!
//! A venue feed whose second channel arrives inverted (a balanced lead
//! wired to an unbalanced input the wrong way round, a desk's phase button
//! left on) cancels everything panned to the centre when the channels are
//! averaged: kick, snare, bass and voice, the very things the analysis
//! listens to. [`Downmix`] follows how the first two channels correlate
//! and, while they are clearly in anti-phase, takes the second one
//! inverted. It runs in the audio callback: no allocation, no locks, a few
//! multiplies per frame.

/// Correlation of the first two channels below which the second is taken
/// inverted...
const INVERT_BELOW: f32 = -0.5;
/// ...and above which it is taken as it is again (hysteresis: a mix that
/// hovers between the two does not flip back and forth).
const UPRIGHT_ABOVE: f32 = -0.2;
/// Seconds over which the correlation is followed.
const FOLLOW_S: f32 = 0.5;

/// Averages a capture's interleaved channels into mono, with the second
/// channel inverted while the first two are clearly in anti-phase.
#[derive(Clone, Debug)]
pub struct Downmix {
    /// Running means of l·r, l² and r² over about [`FOLLOW_S`].
    lr: f32,
    ll: f32,
    rr: f32,
    coef: f32,
    /// Frames in a row with sound in the running means, up to
    /// [`FOLLOW_S`]'s worth: means that have just started from silence
    /// hold a sample's sign, not the channels' correlation.
    seen: u32,
    warmup: u32,
    inverted: bool,
}

impl Downmix {
    /// A downmix for input at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            lr: 0.0,
            ll: 0.0,
            rr: 0.0,
            coef: 1.0 - (-1.0 / (FOLLOW_S * sample_rate.max(1) as f32)).exp(),
            seen: 0,
            warmup: (FOLLOW_S * sample_rate as f32) as u32,
            inverted: false,
        }
    }

    /// Whether the second channel is being taken inverted.
    pub fn inverted(&self) -> bool {
        self.inverted
    }

    /// One frame of interleaved samples (one per channel) to mono.
    pub fn push(&mut self, frame: &[f32]) -> f32 {
        let [l, r, ..] = *frame else {
            return frame.first().copied().unwrap_or(0.0);
        };
        let c = self.coef;
        self.lr += c * (l * r - self.lr);
        self.ll += c * (l * l - self.ll);
        self.rr += c * (r * r - self.rr);
        let energy = (self.ll * self.rr).sqrt();
        // Under about -90 dBFS the correlation says nothing: keep the choice.
        self.seen = if energy > 1e-9 {
            self.seen.saturating_add(1).min(self.warmup)
        } else {
            0
        };
        if self.seen >= self.warmup {
            let corr = self.lr / energy;
            if corr < INVERT_BELOW {
                self.inverted = true;
            } else if corr > UPRIGHT_ABOVE {
                self.inverted = false;
            }
        }
        let sum: f32 = frame.iter().sum();
        let sum = if self.inverted { sum - 2.0 * r } else { sum };
        sum / frame.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 48_000;

    /// A kick-like thump every half second, 1 s of it, at `n` frames.
    fn centre(k: usize) -> f32 {
        let t = (k % (SR as usize / 2)) as f32 / SR as f32;
        (std::f32::consts::TAU * 60.0 * t).sin() * (-t * 20.0).exp()
    }

    fn rms(v: &[f32]) -> f32 {
        (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt()
    }

    fn mix(frames: impl Iterator<Item = [f32; 2]>) -> (Vec<f32>, bool) {
        let mut d = Downmix::new(SR);
        let out = frames.map(|f| d.push(&f)).collect();
        (out, d.inverted())
    }

    #[test]
    fn an_inverted_leg_does_not_cancel_the_centre() {
        let n = 2 * SR as usize;
        let reference: Vec<f32> = (0..n).map(centre).collect();
        let (out, inverted) = mix((0..n).map(|k| [centre(k), -centre(k)]));
        assert!(inverted);
        // After the first half second the centre is back at full level.
        let tail = SR as usize..n;
        let ratio = rms(&out[tail.clone()]) / rms(&reference[tail]);
        assert!((ratio - 1.0).abs() < 0.01, "level {ratio:.3} of the centre");
    }

    #[test]
    fn stereo_in_phase_or_wide_is_the_plain_mean() {
        let n = 2 * SR as usize;
        // In phase: the mean.
        let (out, inverted) = mix((0..n).map(|k| [centre(k), centre(k)]));
        assert!(!inverted);
        assert!((0..n).all(|k| (out[k] - centre(k)).abs() < 1e-6));
        // A wide mix: the centre plus a different noise on each side,
        // louder than the centre (correlation near 0).
        let mut seed = 0x1234_5678u32;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as f32 / u32::MAX as f32 * 2.0 - 1.0
        };
        let frames: Vec<[f32; 2]> = (0..n)
            .map(|k| [centre(k) + noise(), centre(k) + noise()])
            .collect();
        let (out, inverted) = mix(frames.iter().copied());
        assert!(!inverted);
        assert!(
            frames
                .iter()
                .zip(&out)
                .all(|(f, o)| (o - 0.5 * (f[0] + f[1])).abs() < 1e-6)
        );
    }

    #[test]
    fn music_after_silence_is_not_taken_for_an_inverted_leg() {
        // 10 s of silence, then the centre in phase, starting on a frame
        // whose two samples have opposite signs.
        let n = 12 * SR as usize;
        let start = 10 * SR as usize;
        let mut d = Downmix::new(SR);
        let mut flipped = false;
        for k in 0..n {
            let c = if k >= start { centre(k - start) } else { 0.0 };
            let frame = if k == start { [0.5, -0.5] } else { [c, c] };
            d.push(&frame);
            flipped |= d.inverted();
        }
        assert!(!flipped);
    }

    #[test]
    fn mono_and_silence_pass_through() {
        let mut d = Downmix::new(SR);
        assert_eq!(d.push(&[0.25]), 0.25);
        assert_eq!(d.push(&[]), 0.0);
        for _ in 0..SR {
            assert_eq!(d.push(&[0.0, 0.0]), 0.0);
        }
        assert!(!d.inverted());
    }
}
