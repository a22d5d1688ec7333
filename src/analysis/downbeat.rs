//! Downbeats and metre, from two cues counted per bar position:
//!
//! - **bass onsets**: the low-band onset strength at each beat (kick drums
//!   and bass notes lean toward the start of the bar);
//! - **harmonic change**: the cosine distance between the mean chroma of
//!   the beat that starts here and of the beat before (chords change at bar
//!   lines far more often than inside a bar).
//!
//! Each cue is accumulated with a slow decay for every position of a 4-beat
//! and of a 3-beat cycle. The cues are combined per cycle, each scaled to its
//! mean and weighted by how unequal its positions are (a cue that says
//! nothing about the bar, such as chroma of drums alone, has flat positions
//! and drops out). The metre is the cycle whose combined positions differ
//! most (a 3-cycle over 4/4 music, or a 4-cycle over a waltz, smears every
//! pattern flat); the downbeat is that cycle's strongest position, and
//! changes only when another is clearly stronger. Causal: a beat is scored
//! once the beat after it has been heard.

/// Pitch classes.
pub const CHROMA: usize = 12;

/// Cycles considered (beats per bar).
const METRES: [usize; 2] = [4, 3];
/// Per-beat decay of the position scores (a memory of ~30 beats).
const DECAY: f32 = 0.97;
/// Per cue, the mean position score below which it says nothing: any bass
/// onset counts; harmonic change must be more than numerical noise (a
/// click or tone repeated exactly has a chroma that does not change, and
/// its tiny differences must not pick a downbeat).
const CUE_FLOOR: [f32; 2] = [1e-9, 0.003];
/// A cycle must differ this much more than the other to change the metre.
const METRE_MARGIN: f32 = 1.5;

/// Metre and downbeat from per-beat cues. See the module docs.
#[derive(Clone, Debug)]
pub struct DownbeatTracker {
    chroma_acc: [f32; CHROMA],
    span_frames: u32,
    prev_span: Option<[f32; CHROMA]>,
    /// Per cue (bass onsets, harmonic change): scores of the 4- and 3-cycle.
    scores4: [[f32; 4]; 2],
    scores3: [[f32; 3]; 2],
    beats_seen: u32,
    /// Beats per bar now (4 or 3).
    pub beats_per_bar: usize,
    /// A beat index that is a downbeat.
    pub downbeat_index: i64,
}

impl Default for DownbeatTracker {
    fn default() -> Self {
        Self {
            chroma_acc: [0.0; CHROMA],
            span_frames: 0,
            prev_span: None,
            scores4: [[0.0; 4]; 2],
            scores3: [[0.0; 3]; 2],
            beats_seen: 0,
            beats_per_bar: 4,
            downbeat_index: 0,
        }
    }
}

impl DownbeatTracker {
    /// Adds one frame's chroma to the beat being heard.
    pub fn push_chroma(&mut self, chroma: &[f32; CHROMA]) {
        for (a, c) in self.chroma_acc.iter_mut().zip(chroma) {
            *a += c;
        }
        self.span_frames += 1;
    }

    /// Beat `index` has been heard (with low-band onset strength `low` at
    /// it), and the frames pushed since the previous call are the beat
    /// before it. `locked`: the VJ set the downbeat; keep counting, do not move it.
    pub fn beat_heard(&mut self, index: i64, low: f32, locked: bool) {
        // Harmonic change at the previous beat: its span against the one before.
        let span = normalised(&self.chroma_acc, self.span_frames);
        self.chroma_acc = [0.0; CHROMA];
        self.span_frames = 0;
        let change = match (&self.prev_span, &span) {
            (Some(a), Some(b)) => Some(1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()),
            _ => None,
        };
        if span.is_some() {
            self.prev_span = span;
        }
        self.add(0, index, low.max(0.0));
        if let Some(c) = change {
            self.add(1, index - 1, c.max(0.0));
        }
        self.beats_seen += 1;
        if !locked {
            self.choose();
        }
    }

    fn add(&mut self, cue: usize, index: i64, v: f32) {
        for s in self.scores4[cue].iter_mut() {
            *s *= DECAY;
        }
        for s in self.scores3[cue].iter_mut() {
            *s *= DECAY;
        }
        self.scores4[cue][index.rem_euclid(4) as usize] += v;
        self.scores3[cue][index.rem_euclid(3) as usize] += v;
    }

    /// Metre, then downbeat, each with hysteresis.
    fn choose(&mut self) {
        if self.beats_seen < 8 {
            return;
        }
        let s4 = combine(&self.scores4);
        let s3 = combine(&self.scores3);
        let (c4, c3) = (contrast(&s4), contrast(&s3));
        let metre = match self.beats_per_bar {
            4 if c3 > METRE_MARGIN * c4 && self.beats_seen >= 9 => 3,
            3 if c4 > METRE_MARGIN * c3 => 4,
            m => m,
        };
        let scores: &[f32] = if metre == 3 { &s3 } else { &s4 };
        let best = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(k, _)| k);
        let m = metre as i64;
        let cur = self.downbeat_index.rem_euclid(m) as usize;
        if metre != self.beats_per_bar || scores[best] > 1.15 * scores[cur] {
            self.beats_per_bar = metre;
            self.downbeat_index = best as i64;
        }
        debug_assert!(METRES.contains(&self.beats_per_bar));
    }
}

/// The cues' position scores, each scaled to its mean and weighted by its
/// own contrast, summed.
fn combine<const N: usize>(cues: &[[f32; N]; 2]) -> [f32; N] {
    let mut out = [0.0; N];
    for (c, floor) in cues.iter().zip(CUE_FLOOR) {
        let mean = c.iter().sum::<f32>() / N as f32;
        if mean <= floor {
            continue;
        }
        let w = contrast(c);
        for (o, v) in out.iter_mut().zip(c) {
            *o += w * v / mean;
        }
    }
    out
}

/// How unequal the positions are: (max − mean) / mean.
fn contrast(s: &[f32]) -> f32 {
    let mean = s.iter().sum::<f32>() / s.len() as f32;
    let max = s.iter().copied().fold(0.0, f32::max);
    if mean <= 1e-6 {
        0.0
    } else {
        (max - mean) / mean
    }
}

/// The mean chroma of a span, unit length; `None` for a silent or empty span.
fn normalised(acc: &[f32; CHROMA], frames: u32) -> Option<[f32; CHROMA]> {
    if frames == 0 {
        return None;
    }
    let norm = acc.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm < 1e-9 {
        return None;
    }
    Some(acc.map(|v| v / norm))
}

/// Maps FFT bins to pitch classes (A = 0) between 150 Hz and 5 kHz; other
/// bins map to `None`.
pub fn chroma_map(fft_len: usize, sample_rate: u32, bins: usize) -> Vec<Option<u8>> {
    (0..bins)
        .map(|k| {
            let f = k as f64 * f64::from(sample_rate) / fft_len as f64;
            (150.0..=5000.0).contains(&f).then(|| {
                let semis = (12.0 * (f / 440.0).log2()).round() as i64;
                semis.rem_euclid(12) as u8
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `beats` beats: a chord (pitch classes) per beat and a low hit.
    fn feed(
        d: &mut DownbeatTracker,
        beats: i64,
        chord: impl Fn(i64) -> [usize; 3],
        low: impl Fn(i64) -> f32,
    ) {
        // As the beat tracker calls it: the frames pushed before
        // `beat_heard(i)` are those of beat i - 1.
        for i in 0..beats {
            if i > 0 {
                let mut c = [0.0; CHROMA];
                for pc in chord(i - 1) {
                    c[pc] = 1.0;
                }
                c[((i - 1) as usize * 5) % 12] += 0.1; // a little melody
                for _ in 0..50 {
                    d.push_chroma(&c);
                }
            }
            d.beat_heard(i, low(i), false);
        }
    }

    #[test]
    fn chord_changes_find_the_downbeat_where_kicks_cannot() {
        // Kicks on 1 and 3 (equal), chords changing every bar from beat 2
        // (index 2 mod 4): only harmony tells 1 from 3.
        let mut d = DownbeatTracker::default();
        let chords = [[0, 4, 7], [5, 9, 0], [7, 11, 2], [9, 0, 4]];
        feed(
            &mut d,
            64,
            |i| chords[((i - 2).div_euclid(4)).rem_euclid(4) as usize],
            |i| if i % 2 == 0 { 1.0 } else { 0.2 },
        );
        assert_eq!(d.beats_per_bar, 4);
        assert_eq!(d.downbeat_index.rem_euclid(4), 2);
    }

    #[test]
    fn a_waltz_is_three() {
        let mut d = DownbeatTracker::default();
        let chords = [[0, 4, 7], [7, 11, 2], [5, 9, 0]];
        feed(
            &mut d,
            60,
            |i| chords[(i.div_euclid(3)).rem_euclid(3) as usize],
            |i| if i % 3 == 0 { 1.0 } else { 0.3 },
        );
        assert_eq!(d.beats_per_bar, 3);
        assert_eq!(d.downbeat_index.rem_euclid(3), 0);
    }
}
