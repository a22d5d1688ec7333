//! Causal tempo estimation from the onset strength signal.
//!
//! Every `update_s` the last `window_s` of the beat-rate ODF (square-root
//! compressed, so drums of different loudness a beat apart correlate like
//! the same drum two beats apart) are autocorrelated (by FFT); each tempo
//! candidate is scored by a comb over the autocorrelation at 1–4 times its
//! period, weighted by a broad log-normal tempo prior (120 BPM, one octave),
//! and yields to twice its tempo when the autocorrelation at half its period
//! is nearly as strong (an even pulse is the beat; weaker off-beats are
//! not), and to 3/2 of it when its period divides in three but not in two
//! (a dotted quarter over even eighths). The scores are smoothed over time
//! by a max-product (Viterbi-style) forward pass that favours small tempo
//! changes. This holds a tempo steady, resists octave flips and still
//! re-locks after a real tempo change. Last, the backbeat check (the kick
//! and snare bands' onsets cross-correlated: the snare answers the kick one
//! beat later) can move the estimate an octave, and holds the octave it
//! has moved to or confirmed. The tempo-change check reads the last 3 s
//! and the 3 s before them on their own: when the music has clearly moved
//! to a tempo it did not have before (a DJ's cut with no gap), the
//! estimator restarts on the last 3 s rather than wait for the 8 s window
//! to hold more of the new tempo than of the old.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Lowest tempo considered, BPM.
pub const MIN_BPM: f32 = 55.0;
/// Highest tempo considered, BPM.
pub const MAX_BPM: f32 = 215.0;
/// Centre of the tempo prior, BPM.
pub const PRIOR_BPM: f32 = 120.0;
/// Width of the tempo prior, octaves (one standard deviation).
pub const PRIOR_OCTAVES: f32 = 1.0;
const STEPS_PER_OCTAVE: f32 = 60.0;
/// Width (octaves, one standard deviation) of the forward pass's tempo
/// transition, and of the start a restart gives it.
const TRANSITION_OCTAVES: f32 = 0.03;
/// A candidate yields to twice its tempo when the autocorrelation at half
/// its period reaches this share of the one at its period...
const HALF_RATIO: f32 = 0.95;
/// ...by up to this much (at equal strength).
const HALF_YIELD: f32 = 0.5;
/// A candidate whose period divides in three (the autocorrelation at a
/// third of its period at least this share of the one at its period) and
/// not in two is a dotted beat of a pulse that divides in two: it yields by
/// up to [`HALF_YIELD`] as that third outweighs the half.
const THIRD_RATIO: f32 = 0.5;

/// An estimate at or above this tempo is halved when the backbeat says
/// the beat is twice as long (see [`TempoEstimator`]'s backbeat check)...
const BACKBEAT_HALVE_BPM: f32 = 130.0;
/// ...and one at or below this doubled when it says the beat is half as long.
const BACKBEAT_DOUBLE_BPM: f32 = 95.0;
/// The kick-to-snare correlation at the other octave's period must exceed
/// the one at the estimate's by this factor...
const BACKBEAT_RATIO: f32 = 1.2;
/// ...and by this much (normalised correlation, both directions summed: a
/// clear backbeat has 0.2-1.4 at the beat, most other lags under 0.1)...
const BACKBEAT_MARGIN: f32 = 0.1;
/// ...and be at least this, a clear backbeat's (a weak correlation
/// against a weaker one is no evidence: a punk mix a minor third down
/// was halved, and then held at half, on 0.15 against 0.02)...
const BACKBEAT_CLEAR: f32 = 0.2;
/// ...at this many updates in a row (a second).
const BACKBEAT_UPDATES: u32 = 4;
/// Leaving an octave the backbeat itself moved to or confirmed takes more:
/// the other octave's correlation must be this many times its own. With
/// a kick on 1, the "and" of 2 and 3 and the snare on 2 and 4, the kick
/// answers the snare at one beat and at two nearly as well, and the
/// correlations over a moving window swing a fifth either way: at the
/// confirming ratio, such songs stretched to 150-165 BPM (grunge and 80s
/// rock of `scripts/stretch-set`) were confirmed at their tempo, then
/// halved on a swing, then held at half; grunge at 70 the same the other
/// way. At twice, four of the 107 stretched clips keep their octave, in
/// every copy of the set (`scripts/eval-sets`: stretched beat F .810 ->
/// .816, tempo Acc1 .804 -> .822; no other set moves); one (funk at 150,
/// halved at the first check on 0.25 against 0.18) comes back only near
/// the end of its 26 s instead of soon after. Anything from 1.5 to
/// "never" scores the same.
const BACKBEAT_UNDO_RATIO: f32 = 2.0;
/// The check runs only over a full window and once the estimate has held
/// (within 4 %) for this many updates (2 s): a window that spans a tempo
/// change correlates two grids at once.
const BACKBEAT_STEADY_UPDATES: u32 = 8;
/// Once the backbeat has moved the estimate an octave, or clearly said the
/// octave it is on is right, it holds that tempo: the prior damps the
/// tempi at these ratios to it, either way, until the backbeat asks for
/// the other octave, the music moves to another tempo, or a new song
/// starts. Without it, an autocorrelation that prefers the other octave
/// takes it back within about a second (the forward pass's floor is a
/// twentieth, and the other octave's score can be 2-3 times this one's,
/// every update). The three-halves and four-thirds relatives (a dotted
/// beat, a triplet feel) are held too: damping only the octaves, 4 of the
/// 107 stretched clips ended at 4/3 or 3/2 of their tempo instead (tempo
/// Acc1 .785 -> .748).
const BACKBEAT_HOLD_RELATIVES: [f32; 3] = [2.0, 1.5, 4.0 / 3.0];
/// Width of each damped neighbourhood, octaves...
const BACKBEAT_HOLD_OCTAVES: f32 = 0.1;
/// ...and the share of their weight they keep.
const BACKBEAT_HOLD_DAMP: f32 = 0.1;
/// A held octave is let go once the estimate has moved this far (octaves)
/// from it and held there: the music has moved on (a DJ's next track).
const BACKBEAT_HOLD_LEFT: f32 = 0.25;
/// The held tempo follows the estimate while it stays within this many
/// octaves of it (a band drifting, a DJ riding the pitch): held where the
/// song started, a drift of 10 % left the other octave of the new tempo
/// nearly undamped, and the eighths took over until the backbeat moved the
/// estimate back.
const BACKBEAT_HOLD_FOLLOW: f32 = 0.05;
/// Each drum band hears some of the other drum at the same instant (the
/// snare's body in the kick band, the kick's click in the snare band), so
/// their cross-correlation carries part of each band's own
/// autocorrelation. That peaks at half a bar (kicks on 1 and 3, snares on
/// 2 and 4, each two beats apart): a slow estimate's own period, which
/// then looked like the backbeat's lag and kept grunge, 80s rock and funk
/// stretched to 150-180 BPM, and the `scripts/gm-set` techno at 174, at
/// half tempo. Before the check asks whether to double an estimate, this
/// share of what each band predicts of the other at lag 0 is taken out of
/// it. Not before it asks whether to halve one: on a click track whose
/// click both bands hear, what is left after the removal favoured two
/// beats, and 4/4 clicks at 160 BPM were halved. All of it (1.0) would
/// also take out kicks and snares that really fall together (Acc1 .950
/// at 1.0 against .955 at 0.5).
/// `scripts/eval-sets`: mean beat F .8933 -> .8965, downbeat F .7526 ->
/// .7593, tempo Acc1 .941 -> .955, no set lower in any of them (stretched
/// Acc1 .822 -> .869, gm .875 -> .917) and no clip by more than .01 beat
/// F; 0.5 to 0.75 score alike.
const BACKBEAT_LEAK_REMOVAL: f32 = 0.5;
/// The tempo-change check reads the last this many seconds on their own,
/// and the same span before them...
const CHANGE_WINDOW_S: f32 = 3.0;
/// ...and finds a tempo change where the recent span's best tempo is none
/// of the estimate's octaves (more than this many octaves from each: 4 %)...
const CHANGE_OCTAVES: f32 = 0.06;
/// ...where the recent span gives the estimate (anything within 2 % of
/// it) under this share of its best score, and the span before gave the
/// new tempo (within 2 %) under this share of its own best: a tempo the
/// music did not have, not one a riff read at 2/3 or 4/3 of its beat
/// over a few seconds now and then...
const CHANGE_WEAK: f32 = 0.5;
/// ...where both spans' best scores (normalised autocorrelation) are at
/// least this: a clear pulse before and after, not the weak and shifting
/// periodicity of a few seconds of a reggae one-drop, a syncopated funk
/// groove at 70 BPM or singing alone. At 0.3 the check never fires on the
/// sets of `scripts/eval-sets` (all figures unchanged); at 0.2 it fired on
/// a few stretched clips (tempo Acc1 .955 -> .943 over the sets) and
/// followed more cuts between those clips (beat F in the 10 s after a cut,
/// 24 cuts: .491 -> .535; at 0.3, .487). On cuts between the
/// `scripts/gm-set` pieces, whose pulse is clear: .524 -> .662 at 0.3.
const CHANGE_CLEAR: f32 = 0.3;
/// ...at this many updates in a row, on the same tempo (within 4 %).
const CHANGE_UPDATES: u32 = 4;
/// Shortest and longest kick-to-snare lag considered, seconds.
const BACKBEAT_LAGS_S: (f32, f32) = (0.2, 1.3);

/// Tempo estimate with its salience.
#[derive(Clone, Copy, Debug, Default)]
pub struct TempoEstimate {
    /// Beats per minute.
    pub bpm: f32,
    /// How strongly the signal supports it, 0..1.
    pub confidence: f32,
}

/// Streaming tempo estimator over an onset strength signal at `rate` frames/s.
pub struct TempoEstimator {
    rate: f32,
    window: usize,
    history: Vec<f32>,
    update_every: usize,
    since_update: usize,
    candidates: Vec<f32>,
    prior: Vec<f32>,
    forward: Vec<f32>,
    next_forward: Vec<f32>,
    scratch_scores: Vec<f32>,
    /// Forward-pass transition weight for a step of `i - reach` candidates.
    transition: Vec<f32>,
    /// Kick and snare onset strength, aligned with `history`.
    band_history: Vec<[f32; 2]>,
    /// Kick-then-snare plus snare-then-kick correlation by lag, normalised.
    backbeat: Vec<f32>,
    /// The kick band's spectrum while the backbeat is computed.
    kick_spectrum: Vec<Complex32>,
    /// What the backbeat has asked for (0.5 or 2.0: that octave; 1.0: to
    /// hold this one; 0.0: nothing) and at how many updates in a row.
    backbeat_vote: (f32, u32),
    /// The backbeat moved the estimate an octave at the last update.
    backbeat_moved: bool,
    /// The tempo whose octave the backbeat holds with a prior around it
    /// ([`BACKBEAT_HOLD_OCTAVES`]).
    backbeat_hold: Option<f32>,
    /// Updates in a row whose estimate stayed within 4 % of the one before.
    steady_updates: u32,
    /// Transforms over the whole window (the autocorrelation, the backbeat).
    long: Correlator,
    /// Transforms over the last [`CHANGE_WINDOW_S`] (the tempo-change check).
    recent: Correlator,
    /// Candidate scores over the last [`CHANGE_WINDOW_S`] and the one before.
    recent_scores: [Vec<f32>; 2],
    /// The log-normal prior alone, without the backbeat hold's damping.
    broad_prior: Vec<f32>,
    /// The tempo the recent frames ask for and at how many updates in a row.
    change_vote: (f32, u32),
    estimate: TempoEstimate,
    /// Prior centre, BPM.
    pub prior_bpm: f32,
    /// Prior width, octaves (standard deviation).
    pub prior_octaves: f32,
}

impl TempoEstimator {
    /// An estimator for a signal at `rate` frames/s.
    pub fn new(rate: f32) -> Self {
        let window_s = 8.0;
        let window = (rate * window_s).round() as usize;
        let mut planner = RealFftPlanner::<f32>::new();
        let long = Correlator::new(&mut planner, window);
        let recent = Correlator::new(&mut planner, (rate * CHANGE_WINDOW_S).round() as usize);
        let n_cand = ((MAX_BPM / MIN_BPM).log2() * STEPS_PER_OCTAVE).ceil() as usize + 1;
        let candidates: Vec<f32> = (0..n_cand)
            .map(|i| MIN_BPM * 2f32.powf(i as f32 / STEPS_PER_OCTAVE))
            .collect();
        let mut me = Self {
            rate,
            window,
            history: Vec::with_capacity(window * 2),
            update_every: ((rate * 0.25).round() as usize).max(1),
            since_update: 0,
            prior: vec![0.0; n_cand],
            forward: vec![1.0; n_cand],
            next_forward: vec![0.0; n_cand],
            scratch_scores: vec![0.0; n_cand],
            recent_scores: [vec![0.0; n_cand], vec![0.0; n_cand]],
            broad_prior: vec![0.0; n_cand],
            change_vote: (0.0, 0),
            recent,
            transition: {
                // A Gaussian in log-tempo, to 3 sigma.
                let sigma = STEPS_PER_OCTAVE * TRANSITION_OCTAVES;
                let reach = (3.0 * sigma).ceil() as i32;
                (-reach..=reach)
                    .map(|d| (-0.5 * (d as f32 / sigma).powi(2)).exp())
                    .collect()
            },
            candidates,
            band_history: Vec::with_capacity(window * 2),
            backbeat: vec![0.0; long.out.len()],
            kick_spectrum: long.spectrum.clone(),
            backbeat_vote: (0.0, 0),
            backbeat_moved: false,
            backbeat_hold: None,
            steady_updates: 0,
            long,
            estimate: TempoEstimate::default(),
            prior_bpm: PRIOR_BPM,
            prior_octaves: PRIOR_OCTAVES,
        };
        me.set_prior(me.prior_bpm, me.prior_octaves);
        me
    }

    /// Changes the tempo prior (a VJ's octave choice, or back to the broad
    /// default); a prior the backbeat had set gives way to it.
    pub fn set_prior(&mut self, bpm: f32, octaves: f32) {
        self.prior_bpm = bpm;
        self.prior_octaves = octaves.max(0.05);
        self.backbeat_hold = None;
        self.fill_prior();
    }

    /// Holds the octave of `bpm` with a prior around it, or lets go.
    fn hold_octave(&mut self, bpm: Option<f32>) {
        if self.backbeat_hold != bpm {
            self.backbeat_hold = bpm;
            self.fill_prior();
        }
    }

    /// The log-normal prior around `prior_bpm`, `prior_octaves` wide;
    /// while the backbeat holds a tempo, its metrical relatives
    /// ([`BACKBEAT_HOLD_RELATIVES`] either way) are damped to
    /// [`BACKBEAT_HOLD_DAMP`] (within [`BACKBEAT_HOLD_OCTAVES`]), and no
    /// other tempi: a new song at another tempo is still followed.
    fn fill_prior(&mut self) {
        for ((p, b), &c) in self
            .prior
            .iter_mut()
            .zip(self.broad_prior.iter_mut())
            .zip(&self.candidates)
        {
            let d = (c / self.prior_bpm).log2() / self.prior_octaves;
            *p = (-0.5 * d * d).exp();
            *b = *p;
            if let Some(h) = self.backbeat_hold {
                for r in BACKBEAT_HOLD_RELATIVES {
                    let o = ((c / h).log2().abs() - r.log2()) / BACKBEAT_HOLD_OCTAVES;
                    *p *= 1.0 - (1.0 - BACKBEAT_HOLD_DAMP) * (-0.5 * o * o).exp();
                }
            }
        }
    }

    /// Forgets the tempo history and starts from `bpm`: the forward pass
    /// favours it until the music says otherwise (a VJ's octave choice).
    pub fn restart_at(&mut self, bpm: f32) {
        let at = (bpm / MIN_BPM).log2() * STEPS_PER_OCTAVE;
        for (i, f) in self.forward.iter_mut().enumerate() {
            let d = (i as f32 - at) / (STEPS_PER_OCTAVE * TRANSITION_OCTAVES);
            *f = (-0.5 * d * d).exp().max(0.05);
        }
        self.estimate.bpm = bpm;
    }

    /// Music starts anew after silence: the history is forgotten, so the
    /// tempo is read from the new music alone (an estimate again after
    /// 1.5 s of it), not from silence or from a lone sound before it. With
    /// `break_in_song` (the beat clock runs on through the gap) the last
    /// estimate stands until then and the forward pass still favours it,
    /// as for music that never stopped; otherwise the forward pass starts
    /// afresh too, as at the start of the stream, and the last song's
    /// tempo, or a lone sound's, does not hold on.
    pub fn music_started(&mut self, break_in_song: bool) {
        self.history.clear();
        self.band_history.clear();
        self.backbeat_vote = (0.0, 0);
        self.change_vote = (0.0, 0);
        self.since_update = 0;
        if !break_in_song {
            self.forward.fill(1.0);
            self.estimate = TempoEstimate::default();
            self.hold_octave(None);
        }
    }

    /// True once after the backbeat check moved the estimate an octave:
    /// the beat clock takes the new grid's phase from the music, not from
    /// the old grid, whose beats may be the off-beat half.
    pub fn take_backbeat_move(&mut self) -> bool {
        std::mem::take(&mut self.backbeat_moved)
    }

    /// The tempo whose octave the backbeat holds, if it holds one: the
    /// prior damps the tempi at 2, 3/2 and 4/3 of it, either way, until the
    /// backbeat asks for the other octave, the estimate settles elsewhere,
    /// a new song starts or the VJ chooses an octave.
    pub fn backbeat_hold(&self) -> Option<f32> {
        self.backbeat_hold
    }

    /// The current estimate (bpm 0 until the first update with signal).
    pub fn estimate(&self) -> TempoEstimate {
        self.estimate
    }

    /// Feeds one ODF frame and the frame's kick and snare onset strengths
    /// (the beat tracker gives the 35-140 Hz band's, and the geometric mean
    /// of the 180-3500 Hz band's and the 3-8 kHz rattle's), for the
    /// backbeat check. Returns true when the estimate was refreshed. `active` false
    /// (silence) keeps the last estimate.
    pub fn push(&mut self, odf: f32, bands: [f32; 2], active: bool) -> bool {
        if self.history.len() == self.history.capacity() {
            let keep = self.window;
            let start = self.history.len() - keep;
            self.history.copy_within(start.., 0);
            self.history.truncate(keep);
            self.band_history.copy_within(start.., 0);
            self.band_history.truncate(keep);
        }
        self.band_history
            .push(bands.map(|b| if b.is_finite() { b.max(0.0) } else { 0.0 }));
        // Square-root compression: a loud kick and a softer snare a beat
        // apart then correlate nearly as well as kick with kick two beats
        // apart, so the autocorrelation stops favouring half the tempo just
        // because the drums differ in loudness.
        self.history.push(if odf.is_finite() {
            odf.max(0.0).sqrt()
        } else {
            0.0
        });
        self.since_update += 1;
        if self.since_update < self.update_every || !active {
            return false;
        }
        self.since_update = 0;
        // Need at least 1.5 s (two bars at 160 BPM) to say anything.
        if (self.history.len() as f32) < self.rate * 1.5 {
            return false;
        }
        self.update();
        true
    }

    fn update(&mut self) {
        let n = self.history.len().min(self.window);
        let src = &self.history[self.history.len() - n..];
        if !self.long.autocorrelate(src) {
            return;
        }
        let best = score_candidates(
            &self.long.out,
            n,
            self.rate,
            &self.candidates,
            &self.prior,
            &mut self.scratch_scores,
        );
        if best <= 0.0 {
            return;
        }
        // Max-product forward pass with a Gaussian transition in log-tempo.
        let reach = (self.transition.len() / 2) as isize;
        let m = self.candidates.len() as isize;
        let prev_max = self
            .forward
            .iter()
            .cloned()
            .fold(0.0f32, f32::max)
            .max(1e-12);
        let mut fmax = 0.0f32;
        let mut arg = 0usize;
        for i in 0..m {
            let mut carry = 0.0f32;
            for d in -reach..=reach {
                let j = i + d;
                if j < 0 || j >= m {
                    continue;
                }
                let t = self.transition[(d + reach) as usize];
                carry = carry.max(self.forward[j as usize] / prev_max * t);
            }
            // A floor lets a new tempo take over when the music changes.
            let carry = carry.max(0.05);
            let v = carry * self.scratch_scores[i as usize] / best;
            self.next_forward[i as usize] = v;
            if v > fmax {
                fmax = v;
                arg = i as usize;
            }
        }
        std::mem::swap(&mut self.forward, &mut self.next_forward);
        // Parabolic refinement on the log-tempo grid.
        let mut bpm = self.candidates[arg];
        if arg > 0 && arg + 1 < self.candidates.len() {
            let (a, b, c) = (
                self.scratch_scores[arg - 1],
                self.scratch_scores[arg],
                self.scratch_scores[arg + 1],
            );
            let den = a - 2.0 * b + c;
            if den.abs() > 1e-9 {
                let off = (0.5 * (a - c) / den).clamp(-0.5, 0.5);
                bpm *= 2f32.powf(off / STEPS_PER_OCTAVE);
            }
        }
        let mean_score = self.scratch_scores.iter().sum::<f32>() / self.scratch_scores.len() as f32;
        let confidence = (1.0 - mean_score / best).clamp(0.0, 1.0);
        if let Some(new) = self.tempo_change(self.estimate.bpm) {
            self.restart_on_recent(new);
            self.estimate = TempoEstimate {
                bpm: new,
                confidence,
            };
            return;
        }
        let steady = (bpm / self.estimate.bpm.max(1.0) - 1.0).abs() < 0.04;
        self.steady_updates = if steady { self.steady_updates + 1 } else { 0 };
        if let Some(h) = self.backbeat_hold {
            let away = (bpm / h).log2().abs();
            if self.steady_updates >= BACKBEAT_STEADY_UPDATES && away > BACKBEAT_HOLD_LEFT {
                self.hold_octave(None);
            } else if away < BACKBEAT_HOLD_FOLLOW {
                self.hold_octave(Some(bpm));
            }
        }
        let bpm = self.backbeat_octave(n, bpm);
        self.estimate = TempoEstimate { bpm, confidence };
    }

    /// The tempo-change check: the last [`CHANGE_WINDOW_S`], and the same
    /// span before them, read on their own. When the recent span's best
    /// tempo is none of the octaves of `current` (the estimate before this
    /// update), it barely supports `current`, the span before barely
    /// supported the new tempo ([`CHANGE_WEAK`]) and both have a clear
    /// pulse ([`CHANGE_CLEAR`]), at [`CHANGE_UPDATES`] updates in a row,
    /// the music has changed tempo (a DJ's cut with no gap): returns the
    /// new tempo.
    /// Without it, the estimate moved only once the window held more of
    /// the new tempo than of the old (5-6 s), and across a change to a
    /// metrical relative of a tempo the backbeat held (4/3, 3/2) not for
    /// 11 s or more. Not while a VJ's octave choice holds the prior.
    fn tempo_change(&mut self, current: f32) -> Option<f32> {
        let m = self.recent_len();
        if current <= 0.0 || self.prior_octaves < PRIOR_OCTAVES || self.history.len() < 2 * m {
            self.change_vote = (0.0, 0);
            return None;
        }
        // The last span on its own: its best tempo, and how it scores the
        // current one; then, only if that asks for a change, the span
        // before it.
        let best = self.score_span(0);
        let (new, at_current) = {
            let scores = &self.recent_scores[0];
            let arg = scores.iter().position(|&v| v >= best).unwrap_or(0);
            (self.candidates[arg], self.score_near(0, current))
        };
        let octaves = (new / current).log2();
        let related = octaves.abs() < 1.0 + CHANGE_OCTAVES
            && (octaves - octaves.round()).abs() < CHANGE_OCTAVES;
        // The recent frames barely support the current tempo, and the
        // frames before them barely supported the new one: not a tempo the
        // music was ambiguous about all along (a riff that reads at 2/3 or
        // 4/3 of its beat over a few seconds now and then).
        let changed = best >= CHANGE_CLEAR && !related && at_current < CHANGE_WEAK * best && {
            let before = self.score_span(1);
            before >= CHANGE_CLEAR && self.score_near(1, new) < CHANGE_WEAK * before
        };
        if !changed {
            self.change_vote = (0.0, 0);
            return None;
        }
        self.change_vote = match self.change_vote {
            (v, k) if (new / v.max(1.0) - 1.0).abs() < 0.04 => (new, k + 1),
            _ => (new, 1),
        };
        (self.change_vote.1 >= CHANGE_UPDATES).then_some(new)
    }

    /// Scores the candidates over span `w` of the tempo-change check (0:
    /// the last [`CHANGE_WINDOW_S`], 1: the one before) into
    /// `recent_scores[w]`; returns the best score (0 when the span is flat).
    fn score_span(&mut self, w: usize) -> f32 {
        let m = self.recent_len();
        let end = self.history.len() - w * m;
        if !self.recent.autocorrelate(&self.history[end - m..end]) {
            return 0.0;
        }
        score_candidates(
            &self.recent.out,
            m,
            self.rate,
            &self.candidates,
            &self.broad_prior,
            &mut self.recent_scores[w],
        )
    }

    /// The best score of span `w` within 2 % of `bpm`.
    fn score_near(&self, w: usize, bpm: f32) -> f32 {
        self.candidates
            .iter()
            .zip(&self.recent_scores[w])
            .filter(|(c, _)| (**c / bpm - 1.0).abs() < 0.02)
            .fold(0.0, |a, (_, &v)| a.max(v))
    }

    /// Frames in the tempo-change check's window.
    fn recent_len(&self) -> usize {
        (self.rate * CHANGE_WINDOW_S).round() as usize
    }

    /// The music changed tempo to `bpm`: the history keeps the last
    /// [`CHANGE_WINDOW_S`] alone (the new tempo's), the forward pass
    /// starts at `bpm`, and the backbeat lets go of what it held.
    fn restart_on_recent(&mut self, bpm: f32) {
        let keep = self.recent_len().min(self.history.len());
        let start = self.history.len() - keep;
        self.history.copy_within(start.., 0);
        self.history.truncate(keep);
        self.band_history.copy_within(start.., 0);
        self.band_history.truncate(keep);
        self.change_vote = (0.0, 0);
        self.backbeat_vote = (0.0, 0);
        self.steady_updates = 0;
        self.hold_octave(None);
        self.restart_at(bpm);
    }

    /// The backbeat check, over a full window and a steady estimate (see
    /// [`BACKBEAT_STEADY_UPDATES`]): in most songs with drums the snare
    /// answers the kick one beat later (kick on 1 and 3, snare on 2 and 4), so the lag
    /// at which the kick band's onsets best predict the snare band's (or
    /// the reverse) is the beat, whatever the hats and strums between say.
    /// An estimate of `bpm` at or above [`BACKBEAT_HALVE_BPM`] whose double
    /// period correlates [`BACKBEAT_RATIO`] times better than its own is
    /// counting eighths: halved; one at or below [`BACKBEAT_DOUBLE_BPM`]
    /// whose half period does is counting half notes: doubled. The vote
    /// must hold for [`BACKBEAT_UPDATES`] updates; the estimator then
    /// restarts at the new tempo. An estimate whose own period clearly
    /// correlates better than the other octave's, as long, is confirmed.
    /// Either way the prior then holds that tempo against its metrical
    /// relatives ([`BACKBEAT_HOLD_RELATIVES`]) until the backbeat asks for
    /// the other octave, the estimate moves away, or a new song starts.
    /// Not while a VJ's octave choice holds the prior.
    fn backbeat_octave(&mut self, n: usize, bpm: f32) -> f32 {
        // Over a full window only: shorter ones swing too much.
        if self.prior_octaves < PRIOR_OCTAVES
            || n < self.window
            || self.steady_updates < BACKBEAT_STEADY_UPDATES
            || !self.backbeat_xcorr(n, bpm <= BACKBEAT_DOUBLE_BPM)
        {
            self.backbeat_vote = (0.0, 0);
            return bpm;
        }
        let period = 60.0 * self.rate / bpm;
        let (lo, hi) = (BACKBEAT_LAGS_S.0 * self.rate, BACKBEAT_LAGS_S.1 * self.rate);
        // The best correlation within 3 % of a lag.
        let near = |lag: f32| -> Option<f32> {
            if lag < lo || lag > hi {
                return None;
            }
            let a = (lag * 0.97).floor() as usize;
            let b = ((lag * 1.03).ceil() as usize).min(n - 1);
            self.backbeat[a..=b].iter().copied().reduce(f32::max)
        };
        let clearly = |a: f32, b: Option<f32>| {
            b.is_some_and(|b| {
                a > BACKBEAT_RATIO * b.max(0.0) && a - b > BACKBEAT_MARGIN && a >= BACKBEAT_CLEAR
            })
        };
        // The other octave in question, by the factor that leads there.
        let other = if bpm >= BACKBEAT_HALVE_BPM {
            Some((0.5, near(2.0 * period)))
        } else if bpm <= BACKBEAT_DOUBLE_BPM {
            Some((2.0, near(0.5 * period)))
        } else {
            None
        };
        // The backbeat itself moved to this octave or confirmed it.
        let held_here = self
            .backbeat_hold
            .is_some_and(|h| (bpm / h).log2().abs() < BACKBEAT_HOLD_FOLLOW);
        // 0.5 or 2.0: move there; 1.0: this octave is the backbeat's.
        let vote = match (near(period), other) {
            (Some(own), Some((factor, o)))
                if o.is_some_and(|o| {
                    clearly(o, Some(own)) && (!held_here || o > BACKBEAT_UNDO_RATIO * own)
                }) =>
            {
                factor
            }
            (Some(own), Some((_, o))) if self.backbeat_hold.is_none() && clearly(own, o) => 1.0,
            _ => 0.0,
        };
        self.backbeat_vote = match self.backbeat_vote {
            (v, k) if v == vote && vote != 0.0 => (v, k + 1),
            _ => (vote, u32::from(vote != 0.0)),
        };
        if self.backbeat_vote.1 < BACKBEAT_UPDATES {
            return bpm;
        }
        self.backbeat_vote = (0.0, 0);
        if vote == 1.0 {
            self.hold_octave(Some(bpm));
            return bpm;
        }
        let target = (bpm * vote).clamp(MIN_BPM, MAX_BPM);
        // A move away from an octave the backbeat had held frees the
        // prior; any other holds the new octave.
        let held = self.backbeat_hold.is_some();
        self.hold_octave((!held).then_some(target));
        self.restart_at(target);
        self.backbeat_moved = true;
        target
    }

    /// The covariance of the kick and snare bands over the last `n` frames
    /// at lag 0 (sum of the products of their centred values), in the
    /// units of [`centred_spectrum`]'s energies.
    fn band_covariance(&self, n: usize) -> f32 {
        let src = &self.band_history[self.band_history.len() - n..];
        let len = n.max(1) as f32;
        let mean = |band: usize| src.iter().map(|v| v[band]).sum::<f32>() / len;
        let (mk, ms) = (mean(0), mean(1));
        src.iter().map(|v| (v[0] - mk) * (v[1] - ms)).sum()
    }

    /// Cross-correlates the last `n` frames of the kick and snare bands
    /// (kick then snare plus snare then kick, means removed) into
    /// `backbeat`, normalised by both bands' energy; with `remove_leak`,
    /// [`BACKBEAT_LEAK_REMOVAL`] of each band's lag-0 prediction of the
    /// other is taken out of it first. False when either band is silent.
    fn backbeat_xcorr(&mut self, n: usize, remove_leak: bool) -> bool {
        if self.band_history.len() < n {
            return false;
        }
        let src = &self.band_history[self.band_history.len() - n..];
        let mut energy = [0.0f32; 2];
        for (band, e) in energy.iter_mut().enumerate() {
            let out = if band == 0 {
                &mut self.kick_spectrum
            } else {
                &mut self.long.spectrum
            };
            let values = src.iter().map(|b| b[band]);
            match centred_spectrum(
                &*self.long.fft,
                values,
                &mut self.long.input,
                &mut self.long.scratch,
                out,
            ) {
                Some(v) => *e = v,
                None => return false,
            }
        }
        if energy[0] <= 1e-12 || energy[1] <= 1e-12 {
            return false;
        }
        // K' = K - b S and S' = S - a K, with a and b the share
        // (BACKBEAT_LEAK_REMOVAL) of each band's lag-0 regression on the other.
        let c = if remove_leak {
            self.band_covariance(n).max(0.0)
        } else {
            0.0
        };
        let (a, b) = (
            BACKBEAT_LEAK_REMOVAL * c / energy[0],
            BACKBEAT_LEAK_REMOVAL * c / energy[1],
        );
        let energy = [
            energy[0] - 2.0 * b * c + b * b * energy[1],
            energy[1] - 2.0 * a * c + a * a * energy[0],
        ];
        if energy[0] <= 1e-12 || energy[1] <= 1e-12 {
            return false;
        }
        // conj(K') S' + conj(S') K' = 2 Re(conj(K') S'): both directions at
        // once; expanded, 2 (1 + ab) Re(conj(K) S) - 2a |K|^2 - 2b |S|^2.
        for (s, k) in self.long.spectrum.iter_mut().zip(&self.kick_spectrum) {
            let cross = 2.0 * (1.0 + a * b) * (k.conj() * *s).re;
            *s = Complex32::new(cross - 2.0 * a * k.norm_sqr() - 2.0 * b * s.norm_sqr(), 0.0);
        }
        if self
            .long
            .ifft
            .process_with_scratch(
                &mut self.long.spectrum,
                &mut self.backbeat,
                &mut self.long.iscratch,
            )
            .is_err()
        {
            return false;
        }
        let norm = (energy[0] * energy[1]).sqrt() * self.long.input.len() as f32;
        unbias(&mut self.backbeat, n, norm);
        true
    }
}

/// Scores every tempo candidate from the normalised autocorrelation `acf`
/// of `n` frames at `rate` frames/s (see the module docs: a comb at 1-4
/// periods, yielding to an even pulse twice as fast or to 3/2 of a dotted
/// one, times `prior`) into `scores`; returns the best score.
fn score_candidates(
    acf: &[f32],
    n: usize,
    rate: f32,
    candidates: &[f32],
    prior: &[f32],
    scores: &mut [f32],
) -> f32 {
    let acf_at = |acf: &[f32], lag: f32| -> f32 {
        let i = lag.floor() as usize;
        if i + 1 >= n {
            return 0.0;
        }
        let f = lag - i as f32;
        acf[i] * (1.0 - f) + acf[i + 1] * f
    };
    // The best of a small neighbourhood: real tempi drift.
    let acf_near = |acf: &[f32], lag: f32| -> f32 {
        acf_at(acf, lag - 1.0)
            .max(acf_at(acf, lag))
            .max(acf_at(acf, lag + 1.0))
    };
    let mut best = 0.0f32;
    for (i, &bpm) in candidates.iter().enumerate() {
        let lag = 60.0 * rate / bpm;
        let mut s = 0.0;
        let mut wsum = 0.0;
        for k in 1..=4 {
            let l = lag * k as f32;
            if l >= (n / 2) as f32 {
                break;
            }
            let v = acf_near(acf, l);
            let w = 1.0 / k as f32;
            s += w * v;
            wsum += w;
        }
        let own = acf_near(acf, lag).max(0.0);
        // A candidate whose own period shows no periodicity at all (the
        // half-beat of a click track) is not a tempo, whatever its multiples say.
        let gate = (own / 0.02).min(1.0);
        // A pulse twice as fast that is just as periodic (an even click,
        // a kick on every beat) is the beat; a weaker one (off-beat hats)
        // is not. Yield to it only when it is nearly as strong.
        let half = acf_near(acf, lag * 0.5).max(0.0);
        let yield_to_double = if 60.0 * rate / (lag * 0.5) <= MAX_BPM && own > 0.0 {
            let r = half / own;
            1.0 - HALF_YIELD * ((r - HALF_RATIO) / (1.0 - HALF_RATIO)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        // Even eighths with a kick on every beat are periodic at every
        // multiple of the eighth, so a dotted quarter (two thirds of the
        // tempo) scores like the beat. Its period divides in three, the
        // beat's in two: the dotted one yields.
        let third = acf_near(acf, lag / 3.0).max(0.0);
        let dotted = if own > 0.0 && third >= THIRD_RATIO * own {
            1.0 - HALF_YIELD * ((third - half) / own).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let s = (s / wsum.max(1e-9)).max(0.0) * gate * yield_to_double * dotted * prior[i];
        scores[i] = s;
        best = best.max(s);
    }
    best
}

/// Forward and inverse real FFTs of one length, with their buffers: the
/// autocorrelation of up to `len` frames without allocating.
struct Correlator {
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
    iscratch: Vec<Complex32>,
    /// The last autocorrelation (its first `len` lags are valid).
    out: Vec<f32>,
}

impl Correlator {
    /// Transforms for correlations over up to `len` frames (zero-padded to
    /// twice that, so no lag wraps around).
    fn new(planner: &mut RealFftPlanner<f32>, len: usize) -> Self {
        let fft_len = (2 * len).next_power_of_two();
        let fft = planner.plan_fft_forward(fft_len);
        let ifft = planner.plan_fft_inverse(fft_len);
        Self {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            iscratch: ifft.make_scratch_vec(),
            out: vec![0.0; fft_len],
            fft,
            ifft,
        }
    }

    /// The unbiased autocorrelation of `src` (mean removed), normalised to
    /// 1 at lag 0, into `out`. False when the transform fails or `src` is flat.
    fn autocorrelate(&mut self, src: &[f32]) -> bool {
        let spectrum = &mut self.spectrum;
        if centred_spectrum(
            &*self.fft,
            src.iter().copied(),
            &mut self.input,
            &mut self.scratch,
            spectrum,
        )
        .is_none()
        {
            return false;
        }
        for c in spectrum.iter_mut() {
            *c = Complex32::new(c.norm_sqr(), 0.0);
        }
        if self
            .ifft
            .process_with_scratch(spectrum, &mut self.out, &mut self.iscratch)
            .is_err()
        {
            return false;
        }
        let zero = self.out[0];
        if zero <= 1e-12 {
            return false;
        }
        unbias(&mut self.out, src.len(), zero);
        true
    }
}

/// Writes `values` less their mean into `input` (zeros after them) and its
/// spectrum into `out`. Returns the centred values' energy, or `None` when
/// the transform fails.
fn centred_spectrum(
    fft: &dyn RealToComplex<f32>,
    values: impl Iterator<Item = f32> + Clone,
    input: &mut [f32],
    scratch: &mut [Complex32],
    out: &mut [Complex32],
) -> Option<f32> {
    let n = values.clone().count().max(1);
    let mean = values.clone().sum::<f32>() / n as f32;
    input.fill(0.0);
    let mut energy = 0.0;
    for (d, v) in input.iter_mut().zip(values) {
        *d = v - mean;
        energy += *d * *d;
    }
    fft.process_with_scratch(input, out, scratch).ok()?;
    Some(energy)
}

/// Divides the first `n` lags of a correlation over `n` frames by `scale`
/// and by the share of the frames each lag overlaps: the unbiased estimate.
fn unbias(correlation: &mut [f32], n: usize, scale: f32) {
    for (l, c) in correlation.iter_mut().enumerate().take(n) {
        *c /= scale * (n - l) as f32 / n as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulse_train(rate: f32, bpm: f32, seconds: f32) -> Vec<f32> {
        let period = 60.0 * rate / bpm;
        (0..(rate * seconds) as usize)
            .map(|i| {
                let ph = (i as f32 / period).fract();
                if ph < 1.0 / period { 1.0 } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn finds_tempo_of_pulse_trains() {
        for bpm in [70.0, 100.0, 128.0, 150.0] {
            let mut t = TempoEstimator::new(100.0);
            for x in pulse_train(100.0, bpm, 10.0) {
                t.push(x, [0.0; 2], true);
            }
            let e = t.estimate();
            assert!((e.bpm / bpm - 1.0).abs() < 0.03, "{bpm}: got {}", e.bpm);
        }
    }
}
