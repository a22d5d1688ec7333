//! How one preset replaces another: a cut, a crossfade over N beats, or a
//! cut on the next downbeat.

use serde::{Deserialize, Serialize};

use crate::analysis::Rhythm;

/// Seconds per beat assumed when the beat clock has no tempo yet (120 BPM).
pub const FALLBACK_PERIOD: f64 = 0.5;

/// The kind of transition the next take uses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transition {
    /// At once.
    Cut,
    /// Both presets render and mix for this many beats.
    Crossfade {
        /// Length in beats.
        beats: f32,
    },
    /// At the next predicted downbeat.
    CutOnDownbeat,
}

impl Default for Transition {
    fn default() -> Self {
        Self::Crossfade { beats: 4.0 }
    }
}

impl Transition {
    /// A short name for the UI.
    pub fn label(&self) -> String {
        match self {
            Self::Cut => "cut".into(),
            Self::Crossfade { beats } => format!("crossfade {beats} beats"),
            Self::CutOnDownbeat => "cut on downbeat".into(),
        }
    }
}

/// Seconds per beat of `rhythm`, or [`FALLBACK_PERIOD`].
pub fn beat_period(rhythm: &Rhythm) -> f64 {
    rhythm.period().unwrap_or(FALLBACK_PERIOD)
}

/// Time of the first downbeat after `time` (or `time` itself when there is no tempo).
pub fn next_downbeat(rhythm: &Rhythm, time: f64) -> f64 {
    let Some(period) = rhythm.period() else {
        return time;
    };
    let pos = rhythm.position_at(time);
    let bpb = f64::from(rhythm.beats_per_bar.max(1));
    let into_bar = (pos.beats - rhythm.downbeat_index as f64).rem_euclid(bpb);
    time + (bpb - into_bar) * period
}

/// A crossfade in progress (show times in seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fade {
    /// When it started.
    pub start: f64,
    /// How long it lasts.
    pub length: f64,
}

impl Fade {
    /// Mix amount 0 (outgoing) .. 1 (incoming) at `time`, eased.
    pub fn mix(&self, time: f64) -> f32 {
        let x = if self.length <= 0.0 {
            1.0
        } else {
            ((time - self.start) / self.length).clamp(0.0, 1.0)
        } as f32;
        x * x * (3.0 - 2.0 * x)
    }

    /// True once the incoming preset is fully in.
    pub fn done(&self, time: f64) -> bool {
        time >= self.start + self.length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_downbeat_is_within_one_bar() {
        let r = Rhythm {
            bpm: 120.0,
            next_beat: 10.0,
            next_index: 20,
            confidence: 1.0,
            ..Rhythm::default()
        };
        // Beat 20 (t = 10 s) is a downbeat; from 9.9 s the next one is at 10 s.
        assert!((next_downbeat(&r, 9.9) - 10.0).abs() < 1e-9);
        // Just after it, the next is a bar (2 s) later.
        assert!((next_downbeat(&r, 10.01) - 12.0).abs() < 1e-6);
    }

    #[test]
    fn fade_eases_from_zero_to_one() {
        let f = Fade {
            start: 1.0,
            length: 2.0,
        };
        assert_eq!(f.mix(0.5), 0.0);
        assert_eq!(f.mix(2.0), 0.5);
        assert_eq!(f.mix(3.5), 1.0);
        assert!(!f.done(2.9) && f.done(3.0));
    }
}
