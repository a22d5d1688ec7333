//! Downbeats and metre, from cues counted per bar position.
//!
//! Every beat, once the beats after it have been heard, gives four cues:
//!
//! - **kick**: the low-band onset strength at the beat;
//! - **snare**: the mid-band onset strength at the beat;
//! - **change**: the cosine distance between the mean chroma of the beat
//!   and of the beat before;
//! - **bar change**: the cosine distance between the mean chroma of the bar
//!   starting here and of the bar before (for each cycle, its own bar
//!   length): chords change at bar lines, and a whole bar on each side
//!   averages out melody notes and a chord played a little early. In the
//!   middle of a bar, the two windows share chords and differ less.
//!
//! Each cue is accumulated with a slow decay for every position of a 4-beat
//! and of a 3-beat cycle, and scaled to its mean over the positions.
//!
//! **Metre.** The kick and change cues are combined per cycle, each weighted
//! by how unequal its positions are (a cue that says nothing about the bar,
//! such as chroma of drums alone, has flat positions and drops out). The
//! metre is the cycle whose combined positions differ most: a 3-cycle over
//! 4/4 music, or a 4-cycle over a waltz, smears every pattern flat.
//!
//! **Downbeat**, in two questions that different cues answer:
//!
//! 1. *Which beats are strong?* Kicks fall on the strong beats (1 and 3 in
//!    4/4, 1 in 3/4) and snares on the weak ones (the backbeat). This tells 1
//!    and 3 from 2 and 4, but not 1 from 3: kicks on 3 are often as strong as
//!    on 1.
//! 2. *Where does the bar start?* The bar change is larger at 1 than in the
//!    middle of the bar when chords follow bars.
//!
//! A position's score is the sum of both answers; the downbeat moves only to
//! a position that has scored clearly higher at every beat of a whole bar
//! (hysteresis: over a beat or two the cues swing, with a fill, a chord
//! played early, or cues not yet heard for long). Causal: a beat is
//! scored once the beats its cues need have been heard.
//!
//! **Where the music starts.** Songs start on the one. Before the cues have
//! been heard over two bars, the beat at which the music started (the caller
//! says which) is the downbeat; the hysteresis keeps it there unless the
//! cues clearly disagree, as they do after a pickup, and it breaks ties the
//! cues cannot (1 and 3 with equal kicks and no chords). Where the start is
//! unknown (a live input that joined a song in the middle, see
//! `BeatTracker::joins_music_in_progress`), the caller says nothing, and the
//! cues' first choice, once [`MIN_BEATS`] beats have been heard, is taken
//! without hysteresis: the beat it would otherwise sit on is just the first
//! one heard.

/// Pitch classes.
pub const CHROMA: usize = 12;

/// Cycles considered (beats per bar).
const METRES: [usize; 2] = [4, 3];
/// Per-beat decay of the position scores (a memory of ~30 beats).
const DECAY: f32 = 0.97;
/// Cues, in the order of the position-score arrays.
const KICK: usize = 0;
const CHANGE: usize = 1;
const SNARE: usize = 2;
const BAR_CHANGE: usize = 3;
const CUES: usize = 4;
/// Per cue, the mean position score below which it says nothing: any onset
/// counts; harmonic change must be more than numerical noise (a click or
/// tone repeated exactly has a chroma that does not change, and its tiny
/// differences must not pick a downbeat).
const CUE_FLOOR: [f32; CUES] = [1e-9, 0.003, 1e-9, 0.003];
/// A drum band whose onsets are under this share of the other's (kick and
/// snare bands) holds only what leaks into it (hats alone put a thousandth
/// of their snare-band strength into the kick band): it says nothing about
/// the bar, and its noise, scaled to its mean, must not move the bar line.
const LEAKAGE: f32 = 0.01;
/// A cycle must differ this much more than the other to change the metre.
/// Over a few bars of 4/4 the 3-cycle's positions are seldom quite flat (a
/// fill, a chord held over the bar line), and a false 3 costs every downbeat
/// while it lasts; waltzes differ by more (the `scripts/gm-set` waltzes keep
/// their three up to a margin of 3).
const METRE_MARGIN: f32 = 2.5;
/// ...and a 3 must have positions that differ at all: a contrast of at
/// least this. Music without bar cues (hats alone, a steady click) has both
/// cycles near flat, and their ratio is noise; the `scripts/gm-set` waltzes
/// have 1.2-1.5. The floor guards the move away from the default 4 only: a
/// 3 goes back to 4 when 4's positions differ by the margin more, whatever
/// 4's contrast (a 3 taken on noise, as on britpop stretched to 70 BPM,
/// whose bar cues have a contrast of 0.2-0.4, held for the rest of the song
/// before).
const METRE_MIN_CONTRAST: f32 = 0.5;
/// ...and 3 is taken only once this many beats of the grid have been heard
/// (three bars of 4/4, four of 3/4): after 9, such noise took it more often.
const METRE_MIN_BEATS: u32 = 12;
/// How much higher (in mean-scaled cue units) another position must score
/// to become the downbeat: at every beat of a whole bar (see
/// [`DownbeatTracker::beat_heard`]).
const DOWNBEAT_MARGIN: f32 = 0.3;
/// Chroma of the last beats, for the bar change (two 4-beat bars).
const SPANS: usize = 8;
/// Beats heard before the cues choose the metre and downbeat.
pub const MIN_BEATS: u32 = 8;
/// What the beat where the music started adds to its position's score
/// (cue units): it breaks ties between positions the cues cannot tell
/// apart (1 and 3 with equal kicks and no harmony), and is too small to
/// outweigh them where they can (a pickup: the cues move the bar line).
const START_TIE: f32 = 0.1;

/// Metre and downbeat from per-beat cues. See the module docs.
#[derive(Clone, Debug)]
pub struct DownbeatTracker {
    chroma_acc: [f32; CHROMA],
    span_frames: u32,
    /// Unit mean chroma of the last beats, newest last (`None`: silent).
    spans: [Option<[f32; CHROMA]>; SPANS],
    /// Per cue: scores of the 4- and 3-cycle positions.
    scores4: [[f32; 4]; CUES],
    scores3: [[f32; 3]; CUES],
    beats_seen: u32,
    /// The beat at which the music started.
    start: Option<i64>,
    /// That start was a guess: a bar line carried over a tempo change
    /// from a downbeat that was itself guessed (see
    /// [`DownbeatTracker::guessing`]).
    start_guessed: bool,
    /// Beats per bar now (4 or 3).
    pub beats_per_bar: usize,
    /// A beat index that is a downbeat.
    pub downbeat_index: i64,
    /// The position that has beaten the downbeat's by the margin, and at
    /// how many beats in a row.
    challenger: Option<(usize, u32)>,
    /// How much the downbeat's position outscores the beat half a bar
    /// away, as of the last beat heard (4/4; infinite in 3/4).
    half_bar_lead: f32,
}

impl Default for DownbeatTracker {
    fn default() -> Self {
        Self {
            chroma_acc: [0.0; CHROMA],
            span_frames: 0,
            spans: [None; SPANS],
            scores4: [[0.0; 4]; CUES],
            scores3: [[0.0; 3]; CUES],
            beats_seen: 0,
            start: None,
            start_guessed: false,
            beats_per_bar: 4,
            downbeat_index: 0,
            challenger: None,
            half_bar_lead: 0.0,
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

    /// Beat `index` starts now: the chroma pushed since the previous call
    /// is the beat before it.
    pub fn beat_started(&mut self, index: i64) {
        let span = normalised(&self.chroma_acc, self.span_frames);
        self.chroma_acc = [0.0; CHROMA];
        self.span_frames = 0;
        self.spans.rotate_left(1);
        self.spans[SPANS - 1] = span;
        if let [.., Some(a), Some(b)] = self.spans {
            self.add(CHANGE, index - 1, distance(&[a], &[b]));
        }
        // Bar change at the beat a bar back, from the two bars around it.
        if let Some(d) = bar_change(&self.spans[SPANS - 8..]) {
            add_at(&mut self.scores4[BAR_CHANGE], index - 4, d);
        }
        if let Some(d) = bar_change(&self.spans[SPANS - 6..]) {
            add_at(&mut self.scores3[BAR_CHANGE], index - 3, d);
        }
    }

    /// Music starts (after silence, or at the start of the stream): the
    /// cues heard so far belong to something else and are dropped. Call
    /// [`Self::music_started_at`] once the beat it started at is known.
    pub fn music_started(&mut self) {
        self.new_grid();
        self.start = None;
        self.start_guessed = false;
    }

    /// The beat clock took a new tempo (it locked, or jumped an octave or
    /// to another song's tempo): the cues were counted per position of a
    /// grid that is gone, and are dropped. Where the music started still
    /// holds.
    pub fn new_grid(&mut self) {
        self.scores4 = [[0.0; 4]; CUES];
        self.scores3 = [[0.0; 3]; CUES];
        self.spans = [None; SPANS];
        self.beats_seen = 0;
        self.challenger = None;
    }

    /// Beats heard since the start or the last [`Self::new_grid`].
    pub fn beats_seen(&self) -> u32 {
        self.beats_seen
    }

    /// The music started at beat `index` (the caller refines it while the
    /// beat grid settles). Songs start on the one, so that beat is the
    /// downbeat until the cues have been heard over two bars; after that
    /// the cues move it only when they clearly disagree, as they do when a
    /// song starts with a pickup.
    pub fn music_started_at(&mut self, index: i64, guessed: bool) {
        self.start = Some(index);
        self.start_guessed = guessed;
        // Kept as a position in the bar, as `choose` keeps it: the same
        // downbeat written another way would look like a jump of a bar to
        // whoever counts bars.
        if self.beats_seen < MIN_BEATS {
            self.downbeat_index = index.rem_euclid(self.beats_per_bar as i64);
        }
    }

    /// Beat `index` has been heard, with low- and mid-band onset strengths
    /// `hits` at it. `locked`: the VJ set the downbeat; keep counting, do
    /// not move it.
    pub fn beat_heard(&mut self, index: i64, hits: [f32; 2], locked: bool) {
        self.add(KICK, index, hits[0]);
        self.add(SNARE, index, hits[1]);
        self.beats_seen += 1;
        if !locked {
            self.choose();
        }
    }

    /// Adds a cue's value at beat `index` to both cycles.
    fn add(&mut self, cue: usize, index: i64, v: f32) {
        add_at(&mut self.scores4[cue], index, v);
        add_at(&mut self.scores3[cue], index, v);
    }

    /// Whether the downbeat is a guess: the start of the music is unknown
    /// (a stream that joined a song in the middle, or a bar line carried
    /// over a tempo change from such a guess) and the cues have not been
    /// heard for [`MIN_BEATS`] yet, or do not score the downbeat's position
    /// clearly higher (by the margin a move of the bar line needs,
    /// `DOWNBEAT_MARGIN`) than the beat half a bar away. Drums alone, with
    /// kicks on 1 and 3 alike and no chord changes, never tell 1 from 3:
    /// the cues score them exactly alike, and which of the two is taken
    /// depends on where the stream came in.
    pub fn guessing(&self) -> bool {
        (self.start.is_none() || self.start_guessed)
            && (self.beats_seen < MIN_BEATS || self.half_bar_lead < DOWNBEAT_MARGIN)
    }

    /// Metre, then downbeat ([`Self::choose_bar`]), and how clearly the
    /// downbeat leads the beat half a bar away.
    fn choose(&mut self) {
        self.choose_bar();
        self.half_bar_lead = if self.beats_per_bar == 4 {
            let s = bar_scores(&self.scores4);
            let cur = self.downbeat_index.rem_euclid(4) as usize;
            s[cur] - s[(cur + 2) % 4]
        } else {
            f32::INFINITY
        };
    }

    /// Metre, then downbeat, each with hysteresis.
    fn choose_bar(&mut self) {
        if self.beats_seen < MIN_BEATS {
            return;
        }
        let c4 = contrast(&combine(&self.scores4));
        let c3 = contrast(&combine(&self.scores3));
        let metre = match self.beats_per_bar {
            4 if c3 > METRE_MARGIN * c4
                && c3 >= METRE_MIN_CONTRAST
                && self.beats_seen >= METRE_MIN_BEATS =>
            {
                3
            }
            3 if c4 > METRE_MARGIN * c3 => 4,
            m => m,
        };
        let m = metre as i64;
        let cur = self.downbeat_index.rem_euclid(m) as usize;
        // The best position and how much it beats the current one.
        let (best, gain) = if metre == 3 {
            best_position(&self.scores3, self.start, cur)
        } else {
            best_position(&self.scores4, self.start, cur)
        };
        // Where the music's start is unknown (a stream that joined a song),
        // the beat the downbeat sits on is only the first one heard: the
        // cues' first choice takes it, with no hysteresis.
        if self.start.is_none() && self.beats_seen == MIN_BEATS {
            self.beats_per_bar = metre;
            self.downbeat_index = best as i64;
            self.challenger = None;
            return;
        }
        // Another position takes the downbeat once it has scored clearly
        // higher at every beat of a bar: over one beat the cues can swing
        // (a fill, a chord held over the bar line), and the bar count a VJ
        // watches should not.
        let run = match self.challenger {
            Some((pos, run)) if pos == best && gain > DOWNBEAT_MARGIN => run + 1,
            _ if gain > DOWNBEAT_MARGIN => 1,
            _ => 0,
        };
        self.challenger = (run > 0).then_some((best, run));
        if metre != self.beats_per_bar || run >= metre as u32 {
            self.beats_per_bar = metre;
            self.downbeat_index = best as i64;
            self.challenger = None;
        }
        debug_assert!(METRES.contains(&self.beats_per_bar));
    }
}

/// How well each position of an `N`-beat cycle fits a downbeat: kicks on
/// the strong beats and snares on the weak ones (which beats are strong),
/// plus the bar change at the position over that in the middle of the bar
/// (where the bar starts). See the module docs.
fn bar_scores<const N: usize>(cues: &[[f32; N]; CUES]) -> [f32; N] {
    let mean = |c: &[f32; N]| c.iter().sum::<f32>() / N as f32;
    let (mk, ms) = (mean(&cues[KICK]), mean(&cues[SNARE]));
    let kick = scaled(&cues[KICK], CUE_FLOOR[KICK].max(LEAKAGE * ms));
    let snare = scaled(&cues[SNARE], CUE_FLOOR[SNARE].max(LEAKAGE * mk));
    let bar = scaled(&cues[BAR_CHANGE], CUE_FLOOR[BAR_CHANGE]);
    // Strong beats of a bar starting at 0: 0 and N/2 in 4/4, 0 in 3/4.
    let strong = |k: usize| k == 0 || (N.is_multiple_of(2) && k == N / 2);
    let n_strong = if N.is_multiple_of(2) { 2.0 } else { 1.0 };
    let n_weak = N as f32 - n_strong;
    std::array::from_fn(|d| {
        let (mut rhythm, mut harmony) = (0.0, bar[d]);
        for k in 0..N {
            let p = (d + k) % N;
            let (w_kick, w_snare) = if strong(k) {
                (1.0 / n_strong, -1.0 / n_strong)
            } else {
                (-1.0 / n_weak, 1.0 / n_weak)
            };
            rhythm += w_kick * kick[p] + w_snare * snare[p];
        }
        // The middle of the bar in 4/4, the rest of it in 3/4.
        if N.is_multiple_of(2) {
            harmony -= bar[(d + N / 2) % N];
            rhythm += 0.5 * accent(kick[d], kick[(d + N / 2) % N]);
        } else {
            harmony -= (1..N).map(|k| bar[(d + k) % N]).sum::<f32>() / (N - 1) as f32;
        }
        2.0 * rhythm + harmony
    })
}

/// The position of an `N`-beat cycle that best fits a downbeat, and by how
/// much it beats position `cur`: [`bar_scores`], with [`START_TIE`] at the
/// position of `start` (the beat where the music started).
fn best_position<const N: usize>(
    cues: &[[f32; N]; CUES],
    start: Option<i64>,
    cur: usize,
) -> (usize, f32) {
    let mut s = bar_scores(cues);
    if let Some(index) = start {
        s[index.rem_euclid(N as i64) as usize] += START_TIE;
    }
    let best = argmax(&s);
    (best, s[best] - s[cur])
}

/// Decays a cycle's position scores and adds `v` at beat `index`.
fn add_at<const N: usize>(scores: &mut [f32; N], index: i64, v: f32) {
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    scores.iter_mut().for_each(|s| *s *= DECAY);
    scores[index.rem_euclid(N as i64) as usize] += v;
}

/// The change between the first and second half of `spans` (two bars of
/// beat chroma), or `None` while any of them is silent or unheard.
fn bar_change(spans: &[Option<[f32; CHROMA]>]) -> Option<f32> {
    let mut halves = [[0.0f32; CHROMA]; 2];
    let bar = spans.len() / 2;
    for (k, span) in spans.iter().enumerate() {
        let span = (*span)?;
        halves[k / bar]
            .iter_mut()
            .zip(span)
            .for_each(|(h, v)| *h += v);
    }
    Some(distance(&[halves[0]], &[halves[1]]))
}

/// How much more strongly 1 is hit than 3: the octaves by which the first
/// exceeds twice the second, at most 3. Drummers often hit 3 as hard as 1,
/// or harder, so a mild difference says nothing; a bass note or a drum
/// machine's accent on the one is several times stronger.
fn accent(one: f32, three: f32) -> f32 {
    if one <= 0.0 {
        return 0.0;
    }
    ((one / three.max(1e-3 * one)).log2() - 1.0).clamp(0.0, 3.0)
}

/// Scores divided by their mean; zeros when the cue says nothing.
fn scaled<const N: usize>(s: &[f32; N], floor: f32) -> [f32; N] {
    let mean = s.iter().sum::<f32>() / N as f32;
    if mean <= floor {
        [0.0; N]
    } else {
        s.map(|v| v / mean)
    }
}

/// The index of the largest value (the last of equal ones; 0 when empty).
pub(super) fn argmax(s: &[f32]) -> usize {
    s.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(k, _)| k)
}

/// Cosine distance between the sums of two groups of unit chroma vectors.
fn distance(a: &[[f32; CHROMA]], b: &[[f32; CHROMA]]) -> f32 {
    let sum = |g: &[[f32; CHROMA]]| {
        let mut s = [0.0f32; CHROMA];
        for v in g {
            s.iter_mut().zip(v).for_each(|(s, v)| *s += v);
        }
        s
    };
    let (a, b) = (sum(a), sum(b));
    let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|v| v * v).sum::<f32>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f32>().sqrt();
    if na < 1e-9 || nb < 1e-9 {
        0.0
    } else {
        (1.0 - dot / (na * nb)).max(0.0)
    }
}

/// The metre cues' (kick, change) position scores, each scaled to its mean
/// and weighted by its own contrast, summed.
fn combine<const N: usize>(cues: &[[f32; N]; CUES]) -> [f32; N] {
    let mut out = [0.0; N];
    for cue in [KICK, CHANGE] {
        let (c, floor) = (&cues[cue], CUE_FLOOR[cue]);
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

/// The runs of consecutive bins of `map` (from [`chroma_map`]) with the
/// same pitch class, in bin order: (pitch class, bins).
pub fn chroma_runs(map: &[Option<u8>]) -> Vec<(u8, std::ops::Range<usize>)> {
    let mut runs: Vec<(u8, std::ops::Range<usize>)> = Vec::new();
    for (k, pc) in map.iter().enumerate() {
        let Some(pc) = *pc else { continue };
        match runs.last_mut() {
            Some((last, bins)) if *last == pc && bins.end == k => bins.end = k + 1,
            _ => runs.push((pc, k..k + 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroma_runs_cover_every_mapped_bin_once() {
        let map = chroma_map(8192, 44_100, 2049);
        let runs = chroma_runs(&map);
        let mut covered = vec![None; map.len()];
        for (pc, bins) in &runs {
            for k in bins.clone() {
                assert!(covered[k].is_none(), "bin {k} twice");
                covered[k] = Some(*pc);
            }
        }
        assert_eq!(covered, map);
        // About a run a semitone from 150 Hz to 5 kHz.
        assert!((55..=70).contains(&runs.len()), "{} runs", runs.len());
    }

    /// Feeds `beats` beats: a chord (pitch classes) per beat and the kick
    /// and snare strengths at each.
    fn feed(
        d: &mut DownbeatTracker,
        beats: i64,
        chord: impl Fn(i64) -> [usize; 3],
        hits: impl Fn(i64) -> [f32; 2],
    ) {
        // As the beat tracker calls it: the frames pushed before
        // `beat_started(i)` are those of beat i - 1.
        for i in 0..beats {
            feed_one(d, i, &chord, &hits);
        }
    }

    /// Feeds beat `i` as [`feed`] does.
    fn feed_one(
        d: &mut DownbeatTracker,
        i: i64,
        chord: impl Fn(i64) -> [usize; 3],
        hits: impl Fn(i64) -> [f32; 2],
    ) {
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
        d.beat_started(i);
        d.beat_heard(i, hits(i), false);
    }

    const CHORDS: [[usize; 3]; 4] = [[0, 4, 7], [5, 9, 0], [7, 11, 2], [9, 0, 4]];

    #[test]
    fn chord_changes_find_the_downbeat_where_kicks_cannot() {
        // Kicks on 1 and 3 (equal), chords changing every bar from beat 2
        // (index 2 mod 4): only harmony tells 1 from 3.
        let mut d = DownbeatTracker::default();
        feed(
            &mut d,
            64,
            |i| CHORDS[((i - 2).div_euclid(4)).rem_euclid(4) as usize],
            |i| [if i % 2 == 0 { 1.0 } else { 0.2 }, 0.0],
        );
        assert_eq!(d.beats_per_bar, 4);
        assert_eq!(d.downbeat_index.rem_euclid(4), 2);
    }

    #[test]
    fn a_three_that_lost_its_contrast_falls_back_to_four() {
        // A waltz's strong one, then 4/4 whose bar cues are weak (a kick
        // on 1 a quarter louder than on the other beats, contrast about
        // 0.2): the 3 must give way to the default 4, whose positions
        // differ and the 3-cycle's do not, even though 4's contrast is under
        // the floor that guards a move away from 4.
        let mut d = DownbeatTracker::default();
        feed(
            &mut d,
            24,
            |_| [0, 4, 7],
            |i| [if i % 3 == 0 { 1.0 } else { 0.1 }, 0.0],
        );
        assert_eq!(d.beats_per_bar, 3);
        for i in 24..120 {
            feed_one(
                &mut d,
                i,
                |_| [0, 4, 7],
                |i| [if i % 4 == 0 { 1.25 } else { 1.0 }, 0.0],
            );
        }
        assert_eq!(d.beats_per_bar, 4);
    }

    #[test]
    fn joined_drums_alone_leave_the_bar_line_a_guess_that_chords_settle() {
        // Kicks on 1 and 3 alike, snares on 2 and 4: the cues tell 1 and 3
        // from 2 and 4, never 1 from 3. Joined in the middle (the start
        // unknown), the bar line stays a guess however long it plays.
        let drums = |i: i64| match i.rem_euclid(2) {
            0 => [1.0, 0.1],
            _ => [0.1, 1.0],
        };
        let mut joined = DownbeatTracker::default();
        assert!(joined.guessing(), "nothing heard yet");
        feed(&mut joined, 64, |_| [0, 4, 7], drums);
        assert_eq!(joined.downbeat_index.rem_euclid(2), 0, "on a kick");
        assert!(joined.guessing(), "drums alone: 1 or 3");
        // Chords that change at the bar line (index 0 mod 4) settle it.
        let mut chords = DownbeatTracker::default();
        feed(
            &mut chords,
            64,
            |i| CHORDS[(i.div_euclid(4)).rem_euclid(4) as usize],
            drums,
        );
        assert_eq!(chords.downbeat_index.rem_euclid(4), 0);
        assert!(!chords.guessing(), "the chords say where the bar starts");
        // Where the music was heard to start, the start says it.
        let mut started = DownbeatTracker::default();
        started.music_started_at(0, false);
        feed(&mut started, 64, |_| [0, 4, 7], drums);
        assert!(!started.guessing());
    }

    #[test]
    fn a_louder_kick_on_three_does_not_move_the_bar_line() {
        // Rock: kick on 1 and 3, the one on 3 half as loud again, snare on
        // 2 and 4, chords changing at the bar line (index 1 mod 4).
        let mut d = DownbeatTracker::default();
        feed(
            &mut d,
            64,
            |i| CHORDS[((i - 1).div_euclid(4)).rem_euclid(4) as usize],
            |i| match (i - 1).rem_euclid(4) {
                0 => [1.0, 0.1],
                2 => [1.5, 0.1],
                _ => [0.1, 1.0],
            },
        );
        assert_eq!(d.beats_per_bar, 4);
        assert_eq!(d.downbeat_index.rem_euclid(4), 1);
    }

    #[test]
    fn a_backbeat_and_an_accent_find_the_one_without_harmony() {
        // A drum machine: no chords, snare on 2 and 4, the kick on 1 four
        // times the kick on 3; the bar starts at index 1 mod 4 (a tie
        // between 1 and 3 would go to 3). Also when the music starts a beat
        // before the bar (a pickup at index 0): the cues move the downbeat
        // off the start.
        for pickup in [false, true] {
            let mut d = DownbeatTracker::default();
            if pickup {
                d.music_started();
                d.music_started_at(0, false);
            }
            feed(
                &mut d,
                48,
                |_| [0, 4, 7],
                |i| match (i - 1).rem_euclid(4) {
                    0 => [2.0, 0.0],
                    2 => [0.5, 0.0],
                    _ => [0.0, 1.0],
                },
            );
            assert_eq!(d.beats_per_bar, 4);
            assert_eq!(d.downbeat_index.rem_euclid(4), 1, "pickup: {pickup}");
        }
    }

    #[test]
    fn where_the_music_started_is_the_one_when_the_cues_cannot_tell() {
        // Kicks on 1 and 3 alike, snares on 2 and 4, no chords: the cues
        // tell {1, 3} from {2, 4} only. The start decides, either way.
        for start in [0, 2] {
            let mut d = DownbeatTracker::default();
            d.music_started();
            d.music_started_at(start, false);
            feed(
                &mut d,
                64,
                |_| [0, 4, 7],
                |i| if i % 2 == 0 { [1.0, 0.1] } else { [0.1, 1.0] },
            );
            assert_eq!(d.downbeat_index.rem_euclid(4), start, "music from {start}");
        }
    }

    #[test]
    fn a_one_drop_keeps_the_one_where_the_song_started() {
        // Reggae's one drop: kick and rim shot on 3 only, the chord
        // changing at 1, the song starting on 1 (index 0). Over its first
        // bars the kick on 3 has been counted before the chords have (the
        // bar change needs two bars), and one beat's lead must not move
        // the bar line to 3: it holds until another position has won a
        // whole bar. Before, it flipped between 1 and 3 from beat 7 and
        // settled on 3 from beat 27.
        let mut d = DownbeatTracker::default();
        d.music_started();
        d.music_started_at(0, false);
        let mut positions = Vec::new();
        for i in 0..96 {
            feed_one(
                &mut d,
                i,
                |i| CHORDS[i.div_euclid(4).rem_euclid(4) as usize],
                |i| {
                    if i.rem_euclid(4) == 2 {
                        [1.5, 1.0]
                    } else {
                        [0.05, 0.1]
                    }
                },
            );
            positions.push(d.downbeat_index.rem_euclid(4));
        }
        assert!(
            positions.iter().all(|&p| p == 0),
            "downbeat positions beat by beat: {positions:?}"
        );
    }

    #[test]
    fn a_waltz_is_three() {
        let mut d = DownbeatTracker::default();
        let chords = [[0, 4, 7], [7, 11, 2], [5, 9, 0]];
        feed(
            &mut d,
            60,
            |i| chords[(i.div_euclid(3)).rem_euclid(3) as usize],
            |i| [if i % 3 == 0 { 1.0 } else { 0.3 }, 0.0],
        );
        assert_eq!(d.beats_per_bar, 3);
        assert_eq!(d.downbeat_index.rem_euclid(3), 0);
    }
}
