//! Adaptive normalisation and attack/release smoothing of feature values.

/// Scales a non-negative value into 0..1 relative to its recent peak.
///
/// The peak follows rises at once and falls back slowly (half-life
/// `release_s`), so a quiet room and a loud club both reach 1 on their
/// loudest moments. Below `floor` nothing is amplified: silence stays near 0.
#[derive(Clone, Copy, Debug)]
pub struct AutoGain {
    peak: f32,
    decay: f32,
    floor: f32,
}

impl AutoGain {
    /// A normaliser updated `rate` times a second.
    pub fn new(rate: f32, release_s: f32, floor: f32) -> Self {
        Self {
            peak: floor,
            decay: 0.5f32.powf(1.0 / (rate * release_s).max(1.0)),
            floor,
        }
    }

    /// Feeds `x` and returns it normalised to 0..1.
    pub fn normalize(&mut self, x: f32) -> f32 {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        self.peak = (self.peak * self.decay).max(x).max(self.floor);
        (x / self.peak).clamp(0.0, 1.0)
    }
}

/// Lifts quiet input for the onset and beat analysis.
///
/// The onset strength compresses band magnitudes as `log(1 + m)`, which is
/// nearly linear for small `m`: the same song 20 dB down has weaker high
/// bands relative to its low ones, different onsets, and a different
/// kick-to-snare correlation (the stretched country song at 140 BPM was
/// read at 70). Input whose level (a running mean of the power over about
/// [`QuietLift::SECONDS`], over sound above [`QuietLift::GATE`]) is under
/// [`QuietLift::TARGET`] is lifted to it, by at most [`QuietLift::MAX`];
/// louder input is left as it is (the constants were measured on
/// unmastered mixes at -13 to -19 dBFS and drum stems at -28). At the
/// start the mean is over all the sound so far, so the gain settles within
/// a second or two instead of drifting for ten while the beat locks.
#[derive(Clone, Copy, Debug)]
pub struct QuietLift {
    power: f32,
    hops: f32,
    coef: f32,
}

impl QuietLift {
    /// Level quiet input is lifted to, RMS (-30 dBFS).
    pub const TARGET: f32 = 0.032;
    /// The most it is lifted, as a gain (+30 dB).
    pub const MAX: f32 = 32.0;
    /// Seconds the level is measured over.
    pub const SECONDS: f32 = 10.0;
    /// Hops quieter than this RMS (-60 dBFS: silence, a noise floor) do not
    /// count toward the level.
    pub const GATE: f32 = 1e-3;

    /// A lift updated `rate` times a second.
    pub fn new(rate: f32) -> Self {
        Self {
            power: 0.0,
            hops: 0.0,
            coef: 1.0 - (-1.0 / (rate * Self::SECONDS)).exp(),
        }
    }

    /// Feeds one hop's RMS level; returns the gain for its magnitudes.
    pub fn gain(&mut self, rms: f32) -> f32 {
        if rms.is_finite() && rms > Self::GATE {
            self.hops += 1.0;
            let c = self.coef.max(1.0 / self.hops);
            self.power += c * (rms * rms - self.power);
        }
        if self.power <= 0.0 {
            return 1.0;
        }
        (Self::TARGET / self.power.sqrt()).clamp(1.0, Self::MAX)
    }
}

/// One-pole envelope follower with separate attack and release times.
#[derive(Clone, Copy, Debug)]
pub struct Envelope {
    value: f32,
    attack: f32,
    release: f32,
}

impl Envelope {
    /// A follower updated `rate` times a second with time constants in seconds.
    pub fn new(rate: f32, attack_s: f32, release_s: f32) -> Self {
        let coef = |t: f32| {
            if t <= 0.0 {
                1.0
            } else {
                1.0 - (-1.0 / (rate * t)).exp()
            }
        };
        Self {
            value: 0.0,
            attack: coef(attack_s),
            release: coef(release_s),
        }
    }

    /// Feeds `x` and returns the smoothed value.
    pub fn follow(&mut self, x: f32) -> f32 {
        let x = if x.is_finite() { x } else { 0.0 };
        let k = if x > self.value {
            self.attack
        } else {
            self.release
        };
        self.value += k * (x - self.value);
        self.value
    }

    /// The current value.
    pub fn value(&self) -> f32 {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autogain_is_level_independent() {
        let mut quiet = AutoGain::new(100.0, 5.0, 1e-6);
        let mut loud = AutoGain::new(100.0, 5.0, 1e-6);
        let mut last = (0.0, 0.0);
        for i in 0..1000 {
            let x = if i % 50 == 0 { 1.0 } else { 0.3 };
            last = (quiet.normalize(x * 0.01), loud.normalize(x * 0.9));
        }
        assert!((last.0 - last.1).abs() < 1e-4);
        assert!((last.0 - 0.3).abs() < 0.05);
    }

    #[test]
    fn silence_stays_silent() {
        let mut g = AutoGain::new(100.0, 5.0, 1e-3);
        for _ in 0..1000 {
            assert!(g.normalize(1e-7) < 1e-3);
        }
        assert_eq!(g.normalize(f32::NAN), 0.0);
    }

    #[test]
    fn quiet_input_is_lifted_and_loud_input_left_alone() {
        let run = |rms: f32, hops: usize| {
            let mut lift = QuietLift::new(200.0);
            (0..hops).map(|_| lift.gain(rms)).last().unwrap_or(1.0)
        };
        // A song at -50 dBFS is lifted to -30 within a second.
        let g = run(0.003_16, 200);
        assert!((g * 0.003_16 / QuietLift::TARGET - 1.0).abs() < 0.01, "{g}");
        // At -16 dBFS, nothing.
        assert_eq!(run(0.16, 2000), 1.0);
        // Just over the gate (-59 dBFS): nearly the most it lifts; under
        // it (silence, a noise floor at -90 dBFS) nothing.
        let g = run(0.001_12, 2000);
        assert!(g <= QuietLift::MAX && g > 25.0, "{g}");
        assert_eq!(run(3e-5, 2000), 1.0);
        assert_eq!(run(f32::NAN, 10), 1.0);
        // A loud section after a quiet intro brings the gain down within
        // the measuring time, not at once.
        let mut lift = QuietLift::new(200.0);
        (0..2000).for_each(|_| {
            lift.gain(0.003);
        });
        let first = lift.gain(0.1);
        assert!(first > 5.0, "{first}");
        let later = (0..4000).map(|_| lift.gain(0.1)).last().unwrap_or(0.0);
        assert!(later < 1.2, "{later}");
    }

    #[test]
    fn envelope_attacks_faster_than_it_releases() {
        let mut e = Envelope::new(100.0, 0.01, 0.5);
        for _ in 0..10 {
            e.follow(1.0);
        }
        assert!(e.value() > 0.9);
        for _ in 0..10 {
            e.follow(0.0);
        }
        assert!(e.value() > 0.7);
    }
}

/// Fast base-2 logarithm for positive finite `x` (absolute error below
/// 1e-6), several times cheaper than `f32::log2`. Used on every bin of every hop.
#[inline]
pub fn fast_log2(x: f32) -> f32 {
    let bits = x.max(1e-30).to_bits();
    let mut exponent = ((bits >> 23) & 0xff) as f32 - 127.0;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // 1..2
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1.0;
    }
    // log2(m) = 2/ln2 * atanh(s), s = (m-1)/(m+1), |s| < 0.172: four terms suffice.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    exponent + s * (2.885_39 + s2 * (0.961_796_7 + s2 * (0.577_078 + s2 * 0.412_198_6)))
}

#[cfg(test)]
mod fast_log_tests {
    use super::fast_log2;

    #[test]
    fn close_to_log2() {
        let mut x = 1e-6f32;
        while x < 1e6 {
            let err = (fast_log2(x) - x.log2()).abs();
            assert!(err < 2e-6 * (1.0 + x.log2().abs()), "{x}: {err}");
            x *= 1.37;
        }
    }
}
