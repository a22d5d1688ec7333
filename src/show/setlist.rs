//! Setlists: an ordered list of presets, each held for N bars or until the
//! VJ cues the next. Saved as TOML:
//!
//! ```toml
//! [[entry]]
//! preset = "tunnel"
//! bars = 8
//!
//! [[entry]]
//! preset = "strobe"      # no bars: held until the next cue
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::Rhythm;

/// One step of a setlist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetlistEntry {
    /// Preset id.
    pub preset: String,
    /// Bars to hold it; `None` holds it until a cue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bars: Option<u32>,
}

/// An ordered list of presets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setlist {
    /// The steps, in order (the list loops).
    #[serde(default, rename = "entry")]
    pub entries: Vec<SetlistEntry>,
}

/// Why a setlist could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SetlistError {
    /// File system error.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// Not a setlist.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Could not be written.
    #[error("{}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl Setlist {
    /// Every preset in `ids`, `bars` bars each.
    pub fn every(ids: &[String], bars: u32) -> Self {
        Self {
            entries: ids
                .iter()
                .map(|id| SetlistEntry {
                    preset: id.clone(),
                    bars: Some(bars),
                })
                .collect(),
        }
    }

    /// Reads a setlist file.
    pub fn load(path: &Path) -> Result<Self, SetlistError> {
        let text = std::fs::read_to_string(path).map_err(|error| SetlistError::Io {
            path: path.to_owned(),
            error,
        })?;
        toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |s| {
                let before = &text[..s.start.min(text.len())];
                (
                    before.matches('\n').count() + 1,
                    before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                )
            });
            SetlistError::Parse {
                path: path.to_owned(),
                line,
                column: col,
                message: e.message().trim().to_owned(),
            }
        })
    }

    /// Writes the setlist atomically.
    pub fn save(&self, path: &Path) -> Result<(), SetlistError> {
        let text = toml::to_string_pretty(self).map_err(|e| SetlistError::Write {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        crate::preset::write_atomic(path, text.as_bytes()).map_err(|e| SetlistError::Write {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Counts bars on the beat clock: a bar ends at each predicted downbeat.
/// Without a tempo it counts 2 s bars (120 BPM, 4/4), so a setlist still
/// moves on silence or free-time music.
#[derive(Clone, Copy, Debug, Default)]
pub struct BarCounter {
    last: Option<i64>,
    /// Bars completed since the last reset.
    pub bars: u32,
}

impl BarCounter {
    fn bar_index(rhythm: &Rhythm, time: f64) -> i64 {
        if rhythm.period().is_none() {
            return (time / 2.0).floor() as i64;
        }
        let pos = rhythm.position_at(time);
        let bpb = f64::from(rhythm.beats_per_bar.max(1));
        ((pos.beats - rhythm.downbeat_index as f64) / bpb).floor() as i64
    }

    /// Starts counting from `time`.
    pub fn reset(&mut self, rhythm: &Rhythm, time: f64) {
        self.last = Some(Self::bar_index(rhythm, time));
        self.bars = 0;
    }

    /// Advances to `time`; returns true when a downbeat was crossed.
    pub fn update(&mut self, rhythm: &Rhythm, time: f64) -> bool {
        let now = Self::bar_index(rhythm, time);
        let crossed = match self.last {
            // One bar further: a downbeat. A jump (tempo found, resync,
            // nudge) re-anchors without counting.
            Some(last) => now == last + 1,
            None => false,
        };
        if crossed {
            self.bars += 1;
        }
        self.last = Some(now);
        crossed
    }
}

/// A setlist being played.
#[derive(Clone, Debug, Default)]
pub struct SetlistPlayer {
    /// The list.
    pub setlist: Setlist,
    /// Where it was loaded from or saved to.
    pub path: Option<PathBuf>,
    /// The entry on screen.
    pub index: usize,
    /// Whether entries advance by themselves after their bars.
    pub playing: bool,
    /// Bars shown of the current entry.
    pub counter: BarCounter,
}

impl SetlistPlayer {
    /// The entry on screen.
    pub fn current(&self) -> Option<&SetlistEntry> {
        self.setlist.entries.get(self.index)
    }

    /// Index of the entry `step` away (wrapping).
    pub fn offset(&self, step: i32) -> Option<usize> {
        let n = self.setlist.entries.len() as i64;
        (n > 0).then(|| (self.index as i64 + i64::from(step)).rem_euclid(n) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_counter_counts_downbeats_and_ignores_jumps() {
        let r = Rhythm {
            bpm: 120.0,
            next_beat: 0.5,
            next_index: 1,
            confidence: 1.0,
            ..Rhythm::default()
        };
        let mut c = BarCounter::default();
        c.reset(&r, 0.1);
        let mut t = 0.1;
        while t < 8.05 {
            c.update(&r, t);
            t += 1.0 / 60.0;
        }
        assert_eq!(c.bars, 4, "4 bars of 2 s in 8 s");
        let moved = Rhythm {
            downbeat_index: 2,
            ..r
        };
        c.update(&moved, t);
        assert_eq!(c.bars, 4, "a resync is not a bar");
    }

    #[test]
    fn setlist_round_trips_and_reports_position() {
        let s = Setlist::every(&["a".into(), "b".into()], 8);
        let text = toml::to_string_pretty(&s).expect("serialises");
        assert_eq!(toml::from_str::<Setlist>(&text).expect("parses"), s);
        let dir = std::env::temp_dir().join(format!("sonolux-setlist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[[entry]]\npreset = 3\n").expect("write");
        let e = Setlist::load(&bad).expect_err("wrong type");
        assert!(e.to_string().contains("bad.toml:2:10: "), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
