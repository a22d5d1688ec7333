//! Modulation: a preset parameter follows a music feature (the schema and
//! its math; the live matrix state is in `show`).
//!
//! Each parameter may carry one [`Modulation`]: a [`ModSource`] (level, bass,
//! band N, beat phase, kick…), an amount (−1..1 of the parameter's range), a
//! [`Curve`] and attack/release smoothing. It is saved in the preset's TOML
//! (`[param.modulation]`), so offline renders move exactly like the show.
//!
//! ```toml
//! [[param]]
//! name = "zoom"
//! default = 1.0
//! min = 0.5
//! max = 2.0
//! [param.modulation]
//! source = "bass"
//! amount = 0.5
//! curve = "ease_in"
//! attack = 0.01
//! release = 0.25
//! ```

use serde::{Deserialize, Serialize};

use super::ParamSpec;
use crate::analysis::{FeatureFrame, NUM_BANDS};

/// A music feature a parameter can follow. Every source reads 0..1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ModSource {
    /// Overall loudness.
    Level,
    /// Overall loudness, smoothed.
    LevelAtt,
    /// Low band (20–250 Hz).
    Bass,
    /// Mid band (250 Hz–4 kHz).
    Mid,
    /// High band (above 4 kHz).
    Treb,
    /// One of the 16 log-spaced bands (0 = lowest).
    Band(u8),
    /// Spectral centroid (brightness).
    Centroid,
    /// Spectral flux (onset strength).
    Flux,
    /// Spectral flatness (noisiness).
    Flatness,
    /// Onset pulse.
    Onset,
    /// Kick-drum pulse.
    Kick,
    /// Snare pulse.
    Snare,
    /// Hi-hat pulse.
    Hat,
    /// Phase inside the beat (a saw, 0 on the beat).
    BeatPhase,
    /// Phase inside the bar (a saw, 0 on the downbeat).
    BarPhase,
    /// Pulse peaking on the predicted beat.
    BeatPulse,
    /// Beat clock confidence.
    Confidence,
}

impl ModSource {
    /// Every source, in the order the UI lists them.
    pub fn all() -> Vec<ModSource> {
        let mut v = vec![
            Self::Level,
            Self::LevelAtt,
            Self::Bass,
            Self::Mid,
            Self::Treb,
            Self::Centroid,
            Self::Flux,
            Self::Flatness,
            Self::Onset,
            Self::Kick,
            Self::Snare,
            Self::Hat,
            Self::BeatPhase,
            Self::BarPhase,
            Self::BeatPulse,
            Self::Confidence,
        ];
        v.extend((0..NUM_BANDS as u8).map(Self::Band));
        v
    }

    /// The source's value for `frame` at show time `time` (beat sources are
    /// predicted at that time, like the shader's).
    pub fn value(self, frame: &FeatureFrame, time: f64) -> f32 {
        let beat = || frame.rhythm.position_at(time);
        let v = match self {
            Self::Level => frame.level,
            Self::LevelAtt => frame.level_att,
            Self::Bass => frame.bass,
            Self::Mid => frame.mid,
            Self::Treb => frame.treb,
            Self::Band(i) => frame.bands.get(usize::from(i)).copied().unwrap_or(0.0),
            Self::Centroid => frame.centroid,
            Self::Flux => frame.flux,
            Self::Flatness => frame.flatness,
            Self::Onset => frame.onset,
            Self::Kick => frame.kick,
            Self::Snare => frame.snare,
            Self::Hat => frame.hat,
            Self::BeatPhase => beat().beat_phase,
            Self::BarPhase => beat().bar_phase,
            Self::BeatPulse => beat().beat_pulse,
            Self::Confidence => frame.rhythm.confidence,
        };
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for ModSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::Level => "level",
            Self::LevelAtt => "level_att",
            Self::Bass => "bass",
            Self::Mid => "mid",
            Self::Treb => "treb",
            Self::Band(i) => return write!(f, "band{i}"),
            Self::Centroid => "centroid",
            Self::Flux => "flux",
            Self::Flatness => "flatness",
            Self::Onset => "onset",
            Self::Kick => "kick",
            Self::Snare => "snare",
            Self::Hat => "hat",
            Self::BeatPhase => "beat_phase",
            Self::BarPhase => "bar_phase",
            Self::BeatPulse => "beat_pulse",
            Self::Confidence => "confidence",
        };
        f.write_str(s)
    }
}

impl std::str::FromStr for ModSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(n) = s.strip_prefix("band") {
            return match n.parse::<u8>() {
                Ok(i) if usize::from(i) < NUM_BANDS => Ok(Self::Band(i)),
                _ => Err(format!(
                    "'{s}': bands are band0..band{}",
                    NUM_BANDS.saturating_sub(1)
                )),
            };
        }
        Self::all()
            .into_iter()
            .find(|m| m.to_string() == s)
            .ok_or_else(|| {
                format!(
                    "unknown modulation source '{s}' (one of: level, level_att, bass, mid, treb, band0..band15, centroid, flux, flatness, onset, kick, snare, hat, beat_phase, bar_phase, beat_pulse, confidence)"
                )
            })
    }
}

impl TryFrom<String> for ModSource {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ModSource> for String {
    fn from(m: ModSource) -> String {
        m.to_string()
    }
}

/// How the source is shaped before it is scaled by the amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Curve {
    /// As is.
    #[default]
    Linear,
    /// x²: only strong values count.
    EaseIn,
    /// √x: small values already move.
    EaseOut,
    /// Smoothstep.
    Smooth,
    /// 0 below one half, 1 above: a switch.
    Step,
}

impl Curve {
    /// Every curve, for the UI.
    pub const ALL: [Curve; 5] = [
        Self::Linear,
        Self::EaseIn,
        Self::EaseOut,
        Self::Smooth,
        Self::Step,
    ];

    /// Shapes `x` (0..1).
    pub fn apply(self, x: f32) -> f32 {
        let x = x.clamp(0.0, 1.0);
        match self {
            Self::Linear => x,
            Self::EaseIn => x * x,
            Self::EaseOut => x.sqrt(),
            Self::Smooth => x * x * (3.0 - 2.0 * x),
            Self::Step => {
                if x >= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Its name in TOML and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::EaseIn => "ease_in",
            Self::EaseOut => "ease_out",
            Self::Smooth => "smooth",
            Self::Step => "step",
        }
    }
}

/// One parameter following one feature.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modulation {
    /// What it follows.
    pub source: ModSource,
    /// −1..1: how far (in units of the parameter's range) a full source moves it.
    #[serde(default = "default_amount")]
    pub amount: f32,
    /// Shape of the response.
    #[serde(default)]
    pub curve: Curve,
    /// Seconds to follow a rising source (0 = at once).
    #[serde(default)]
    pub attack: f32,
    /// Seconds to follow a falling source (0 = at once).
    #[serde(default)]
    pub release: f32,
}

fn default_amount() -> f32 {
    0.5
}

impl Modulation {
    /// A modulation by `source` with the defaults (half range, linear, 10 ms
    /// attack, 150 ms release).
    pub fn new(source: ModSource) -> Self {
        Self {
            source,
            amount: 0.5,
            curve: Curve::Linear,
            attack: 0.01,
            release: 0.15,
        }
    }

    /// Checks ranges; the message names what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(-1.0..=1.0).contains(&self.amount) {
            return Err(format!("amount {} is outside -1..=1", self.amount));
        }
        for (name, v) in [("attack", self.attack), ("release", self.release)] {
            if !(0.0..=10.0).contains(&v) {
                return Err(format!("{name} {v} s is outside 0..=10"));
            }
        }
        Ok(())
    }
}

/// One-pole attack/release follower state of a modulation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Follower {
    value: f32,
    primed: bool,
}

impl Follower {
    /// Moves toward `target` over `dt` seconds with the modulation's times.
    pub fn step(&mut self, target: f32, dt: f32, m: &Modulation) -> f32 {
        if !self.primed {
            self.value = target;
            self.primed = true;
            return target;
        }
        let tau = if target > self.value {
            m.attack
        } else {
            m.release
        };
        let k = if tau <= 1e-4 {
            1.0
        } else {
            1.0 - (-dt.max(0.0) / tau).exp()
        };
        self.value += (target - self.value) * k;
        self.value
    }
}

/// The modulated value of parameter `spec` at `base`, for a follower output
/// `x` (0..1): `base + amount × range × curve(x)`, clamped to the range.
pub fn modulated(spec: &ParamSpec, base: f32, m: &Modulation, x: f32) -> f32 {
    let range = spec.max - spec.min;
    (base + m.amount * range * m.curve.apply(x)).clamp(spec.min, spec.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_through_their_names() {
        for s in ModSource::all() {
            let name = s.to_string();
            assert_eq!(name.parse::<ModSource>(), Ok(s), "{name}");
        }
        assert!("band16".parse::<ModSource>().is_err());
        assert!("wobble".parse::<ModSource>().is_err());
    }

    #[test]
    fn follower_attacks_fast_and_releases_slowly() {
        let m = Modulation {
            attack: 0.0,
            release: 0.5,
            ..Modulation::new(ModSource::Bass)
        };
        let mut f = Follower::default();
        assert_eq!(f.step(0.0, 0.01, &m), 0.0);
        assert_eq!(f.step(1.0, 0.01, &m), 1.0, "zero attack follows at once");
        let after = f.step(0.0, 0.1, &m);
        assert!(
            after > 0.7 && after < 0.9,
            "release 0.5 s after 0.1 s: {after}"
        );
    }

    #[test]
    fn modulated_value_stays_in_range() {
        let spec = ParamSpec {
            name: "zoom".into(),
            default: 1.0,
            min: 0.5,
            max: 2.0,
            modulation: None,
        };
        let m = Modulation {
            amount: 1.0,
            ..Modulation::new(ModSource::Bass)
        };
        assert_eq!(modulated(&spec, 1.0, &m, 0.0), 1.0);
        assert_eq!(modulated(&spec, 1.0, &m, 0.5), 1.75);
        assert_eq!(modulated(&spec, 1.0, &m, 1.0), 2.0);
        let down = Modulation { amount: -1.0, ..m };
        assert_eq!(modulated(&spec, 1.0, &down, 1.0), 0.5);
    }
}
