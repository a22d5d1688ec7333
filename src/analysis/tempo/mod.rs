//! Causal tempo estimation from the onset strength signal.
//!
//! Every `update_s` the last `window_s` of the beat-rate ODF (in two views:
//! each band's rise over 10 ms, and over 30 ms for hits whose attack a room
//! or a time stretcher smeared, whichever shows the clearer pulse; square-root
//! compressed, so drums of different loudness a beat apart correlate like
//! the same drum two beats apart) are autocorrelated (by FFT); each tempo
//! candidate is scored by a comb over the autocorrelation at 1–4 times its
//! period, plus the bar's periodicity (at 3 or 4 times its period: a bar
//! of 3/4 or 4/4, which a dotted beat's period does not divide), weighted
//! by a broad log-normal tempo prior (120 BPM, one octave),
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
//! and the 3 s before them on their own: when the last 3 s have clearly
//! moved to another tempo (a DJ's cut with no gap), the estimator
//! restarts on them rather than wait for the 8 s window to hold more of
//! the new tempo than of the old.

mod backbeat;
mod correlate;

use realfft::RealFftPlanner;
use realfft::num_complex::Complex32;

use backbeat::{
    BACKBEAT_HOLD_DAMP, BACKBEAT_HOLD_FOLLOW, BACKBEAT_HOLD_LEFT, BACKBEAT_HOLD_OCTAVES,
    BACKBEAT_HOLD_RELATIVES, BACKBEAT_STEADY_UPDATES,
};
use correlate::{Correlator, score_candidates};

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
///
/// The rule costs slow songs. Of the seven stretched clips read at double
/// at 70-92 BPM (`scripts/eval-sets`), five have their true tempo yield in
/// 68-89 % of the updates; the other two (the punk mix at 78, and a 3 s
/// clip) seldom or never. In the hendrix and zeppelin mixes the eighths
/// correlate more than the beat at every tempo: the autocorrelation at
/// half the beat's period is 1.36 and 1.60 times the one at it at their
/// own 110 BPM, where the rule cannot act (220 BPM is above [`MAX_BPM`]),
/// and 1.73 and 1.72 times stretched to 70. In the 20 copies at 150 and
/// 180 BPM, whose half-tempo reading the rule must turn down, the same
/// ratio at half their tempo is 0.54-2.17, 13 of them within 0.84-1.29:
/// the ratio cannot tell the two apart. Only the backbeat can, and on
/// these mixes it is too weak. Without the rule, stretched tempo Acc1 is
/// .850 instead of .897; at half this yield, .879.
const HALF_YIELD: f32 = 0.5;
/// A candidate whose period divides in three (the autocorrelation at a
/// third of its period at least this share of the one at its period) and
/// not in two is a dotted beat of a pulse that divides in two: it yields by
/// up to [`HALF_YIELD`] as that third outweighs the half.
const THIRD_RATIO: f32 = 0.5;
/// How much the bar adds to a candidate's comb: the autocorrelation at 3
/// or 4 of its periods (the stronger of the two), this many times, is
/// added to the comb's mean. A riff with a dotted figure repeats every
/// 1.5 beats more strongly than every beat, and its comb then favoured
/// two thirds of the tempo; the bar (4 beats, 2.67 of the dotted beat)
/// does not. The bar only chooses between candidates: the fine tempo
/// around the chosen one and the confidence come from the scores without
/// it (with it, the estimate moved by up to 0.3 % on click tracks, and the
/// beat clock's phase with it). `scripts/eval-sets`: the zeppelin mix
/// stretched to 128-180 BPM was read at 2/3 or 1/2 of its tempo and is
/// now mostly right; tempo Acc1 on the stretched set .869 -> .888, beat F
/// .823 -> .836; mean of the 11 sets: Acc1 .955 -> .962, beat F .8965 ->
/// .9011, downbeat F .7593 -> .7669. From 0.1 to 0.3 the means are within
/// .006 of these; what moves with the weight is single clips' phase and
/// bar line (the punk mix's downbeat F is 1.0 at 0.1 and 0.25, .69 at 0.15
/// and 0.2: its bar line follows the moment the grid leaves its first,
/// dotted reading).
const BAR_WEIGHT: f32 = 0.25;
/// The tempo-change check reads the last this many seconds on their own,
/// and the same span before them...
const CHANGE_WINDOW_S: f32 = 3.0;
/// ...and finds a tempo change where the recent span's best tempo is none
/// of the estimate's octaves (more than this many octaves from each: 4 %)...
const CHANGE_OCTAVES: f32 = 0.06;
/// ...where the recent span gives the estimate (anything within 2 % of
/// it) under this share of its best score...
const CHANGE_WEAK: f32 = 0.5;
/// ...where both spans' best scores (normalised autocorrelation) are at
/// least this: a clear pulse before and after, not the weak and shifting
/// periodicity of a few seconds of a reggae one-drop, a syncopated funk
/// groove at 70 BPM or singing alone. At 0.3 the check never fires on the
/// sets of `scripts/eval-sets` (all figures unchanged); at 0.25 it fires
/// on a few stretched clips (tempo Acc1 over the sets .955 -> .949)...
const CHANGE_CLEAR: f32 = 0.3;
/// ...at this many updates in a row, on the same tempo (within 4 %). At 4
/// (a second), funk stretched to 70 BPM moved to 4/3 of its tempo in every
/// copy of it; at 5, no clip of the sets moves. An earlier form also asked
/// that the span before had not had the new tempo: it kept the check from
/// firing once both spans held the new song, so a cut whose new tempo the
/// old estimate did not follow stayed wrong (`scripts/cut-set` cuts between
/// the stretched mixes: beat F .646, tempo Acc1 .833; without it .689 and
/// .958).
const CHANGE_UPDATES: u32 = 5;
/// The tempo is read from two views of the onset strength: each band's
/// rise over 10 ms, and over 30 ms ([`crate::analysis::onset::SLOW_RISE_HOPS`]),
/// which catches hits whose attack is smeared (a microphone in a room, a
/// time-stretched record). The estimator takes the slow view's scores when
/// their sharpness (1 - mean / best, the estimate's confidence) exceeds the
/// fast view's by this much, and the fast view's otherwise: where both
/// show the pulse (nearly all dry music) the fast one's sharper peaks give
/// the finer tempo, and alone the slow view read dry music worse (mean
/// beat F over the 11 sets of `scripts/eval-sets` .8968 -> .8884, tempo
/// Acc1 .957 -> .922). With the choice: beat F .8984, Acc1 .959, downbeat
/// F .7694 -> .7701; the hall copies (`scripts/room-set`) .807 -> .842,
/// Acc1 .875 -> 1.0; the stretched hendrix and punk mixes gain most. At a
/// margin of 0.03 / 0.08 / 0.1: mean beat F .8977 / .8977 / .8971, hall
/// .858 / .828 / .820; without a margin the slow view, whose peaks are
/// broader, is taken too often (dev beat F .946 -> .935). Over nine more
/// rooms (`scripts/room-set --seed 1..3`, RT60 0.9 / 1.2 / 1.6 s): tempo
/// Acc1 .910 -> .965 (better in 7, worse in none), beat F .812 -> .822
/// (better in 6, worse in 3: in such rooms the clock's phase still locks
/// on and off the beat by turns).
const SLOW_MARGIN: f32 = 0.06;
/// Two estimates within this share of each other are the same tempo (an
/// estimate held steady; the change check's votes for one new tempo).
const SAME_TEMPO: f32 = 0.04;
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
    /// The slow view of the onset strength (see [`SLOW_MARGIN`]), aligned
    /// with `history`.
    slow_history: Vec<f32>,
    update_every: usize,
    since_update: usize,
    candidates: Vec<f32>,
    prior: Vec<f32>,
    forward: Vec<f32>,
    next_forward: Vec<f32>,
    scratch_scores: Vec<f32>,
    /// The same scores without the bar (the fine tempo and the confidence).
    plain_scores: Vec<f32>,
    /// The last update read the slow view.
    slow_view: bool,
    /// The slow view's scores, with and without the bar.
    slow_scores: Vec<f32>,
    slow_plain_scores: Vec<f32>,
    /// Forward-pass transition weight for a step of `i - reach` candidates.
    transition: Vec<f32>,
    /// Kick and snare onset strength and the kick band's power rise,
    /// aligned with `history`.
    band_history: Vec<[f32; 3]>,
    /// Kick-then-snare plus snare-then-kick correlation by lag, normalised.
    backbeat: Vec<f32>,
    /// The kick band's spectrum while the backbeat is computed.
    kick_spectrum: Vec<Complex32>,
    /// What the backbeat has asked for (0.5 or 2.0: that octave; 1.0: to
    /// hold this one; 0.0: nothing) and at how many updates in a row.
    backbeat_vote: (f32, u32),
    /// The backbeat moved the estimate an octave at the last update.
    backbeat_moved: bool,
    /// The octave the backbeat last moved the estimate to.
    backbeat_moved_to: Option<f32>,
    /// The backbeat moved the estimate back from an octave it had moved it
    /// to: its two questions disagree, and it moves it no more (see
    /// `backbeat_octave`) until a new song, a tempo change, the estimate
    /// leaving the held octave, or a VJ's choice.
    backbeat_settled: bool,
    /// The tempo whose octave the backbeat holds with a prior around it
    /// ([`BACKBEAT_HOLD_OCTAVES`]).
    backbeat_hold: Option<f32>,
    /// That hold came from a kick on every beat, not from a backbeat.
    held_by_kick: bool,
    /// Updates in a row whose estimate stayed within 4 % of the one before.
    steady_updates: u32,
    /// Transforms over the whole window (the autocorrelation, the backbeat).
    long: Correlator,
    /// Transforms over the last [`CHANGE_WINDOW_S`] (the tempo-change check).
    recent: Correlator,
    /// Candidate scores over one span of the tempo-change check.
    recent_scores: Vec<f32>,
    /// The best score of the last [`CHANGE_WINDOW_S`] on their own, as of
    /// the last update (0 before they are there).
    recent_best: f32,
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
        let recent = Correlator::new(&mut planner, change_window_frames(rate));
        let n_cand = ((MAX_BPM / MIN_BPM).log2() * STEPS_PER_OCTAVE).ceil() as usize + 1;
        let candidates: Vec<f32> = (0..n_cand)
            .map(|i| MIN_BPM * 2f32.powf(i as f32 / STEPS_PER_OCTAVE))
            .collect();
        let mut me = Self {
            rate,
            window,
            history: Vec::with_capacity(window * 2),
            slow_history: Vec::with_capacity(window * 2),
            update_every: ((rate * 0.25).round() as usize).max(1),
            since_update: 0,
            prior: vec![0.0; n_cand],
            forward: vec![1.0; n_cand],
            next_forward: vec![0.0; n_cand],
            scratch_scores: vec![0.0; n_cand],
            plain_scores: vec![0.0; n_cand],
            slow_view: false,
            slow_scores: vec![0.0; n_cand],
            slow_plain_scores: vec![0.0; n_cand],
            recent_scores: vec![0.0; n_cand],
            recent_best: 0.0,
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
            backbeat_moved_to: None,
            backbeat_settled: false,
            backbeat_hold: None,
            held_by_kick: false,
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
        self.unsettle_backbeat();
        self.prior_bpm = bpm;
        self.prior_octaves = octaves.max(0.05);
        self.backbeat_hold = None;
        self.held_by_kick = false;
        self.fill_prior();
    }

    /// Holds the octave of `bpm` with a prior around it, or lets go.
    fn hold_octave(&mut self, bpm: Option<f32>) {
        if bpm.is_none() {
            self.held_by_kick = false;
        }
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
        self.unsettle_backbeat();
        self.history.clear();
        self.slow_history.clear();
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

    /// Whether what holds the octave ([`Self::backbeat_hold`]) is a kick on
    /// every beat (four on the floor) rather than a snare answering a kick.
    pub fn held_by_kick(&self) -> bool {
        self.held_by_kick && self.backbeat_hold.is_some()
    }

    /// How clear a pulse the last 3 s hold on their own:
    /// their best tempo's score (normalised autocorrelation; a clear beat
    /// scores 0.3-0.8, crowd noise under 0.2), as of the last update.
    pub fn recent_pulse(&self) -> f32 {
        self.recent_best
    }

    /// Whether the last update read the slow view of the onset strength
    /// (each band's rise over
    /// [`SLOW_RISE_HOPS`](crate::analysis::onset::SLOW_RISE_HOPS) hops),
    /// because its pulse was clearly sharper than the fast view's.
    pub fn slow_view(&self) -> bool {
        self.slow_view
    }

    /// The current estimate (bpm 0 until the first update with signal).
    pub fn estimate(&self) -> TempoEstimate {
        self.estimate
    }

    /// Feeds one frame of the ODF, as its fast and slow views (each band's
    /// rise over 10 ms and over 30 ms; the slow view is read where its pulse
    /// is clearly sharper), and the frame's kick and snare onset strengths
    /// for the backbeat check (the beat tracker gives their rise over 30
    /// ms: the 35-140 Hz band's, and the geometric mean of the 180-3500 Hz
    /// band's and the 3-8 kHz rattle's), then the kick band's power rise
    /// over 30 ms, unscaled, for the four-on-the-floor check. Returns true
    /// when the estimate was refreshed. `active` false (silence) keeps the
    /// last estimate.
    pub fn push(&mut self, odf: [f32; 2], bands: [f32; 3], active: bool) -> bool {
        if self.history.len() == self.history.capacity() {
            self.keep_last(self.window);
        }
        self.band_history
            .push(bands.map(|b| if b.is_finite() { b.max(0.0) } else { 0.0 }));
        // Square-root compression: a loud kick and a softer snare a beat
        // apart then correlate nearly as well as kick with kick two beats
        // apart, so the autocorrelation stops favouring half the tempo just
        // because the drums differ in loudness.
        let [fast, slow] = odf.map(|v| {
            if v.is_finite() {
                v.max(0.0).sqrt()
            } else {
                0.0
            }
        });
        self.history.push(fast);
        self.slow_history.push(slow);
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
        // The last few seconds on their own: how clear a pulse they hold
        // (the tempo-change check reads their scores below).
        self.recent_best = if self.history.len() >= self.recent_len() {
            self.score_span(0)
        } else {
            0.0
        };
        let n = self.history.len().min(self.window);
        let src = &self.history[self.history.len() - n..];
        if !self.long.autocorrelate(src) {
            return;
        }
        let mut best = score_candidates(
            &self.long.out,
            n,
            self.rate,
            &self.candidates,
            &self.prior,
            &mut self.scratch_scores,
            Some(&mut self.plain_scores),
        );
        // The slow view, where its pulse is clearly sharper.
        self.slow_view = false;
        if self
            .long
            .autocorrelate(&self.slow_history[self.slow_history.len() - n..])
        {
            let slow_best = score_candidates(
                &self.long.out,
                n,
                self.rate,
                &self.candidates,
                &self.prior,
                &mut self.slow_scores,
                Some(&mut self.slow_plain_scores),
            );
            if slow_best > 0.0
                && sharpness(&self.slow_plain_scores) > sharpness(&self.plain_scores) + SLOW_MARGIN
            {
                self.slow_view = true;
                std::mem::swap(&mut self.scratch_scores, &mut self.slow_scores);
                std::mem::swap(&mut self.plain_scores, &mut self.slow_plain_scores);
                best = slow_best;
            }
        }
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
                self.plain_scores[arg - 1],
                self.plain_scores[arg],
                self.plain_scores[arg + 1],
            );
            let den = a - 2.0 * b + c;
            if den.abs() > 1e-9 {
                let off = (0.5 * (a - c) / den).clamp(-0.5, 0.5);
                bpm *= 2f32.powf(off / STEPS_PER_OCTAVE);
            }
        }
        let confidence = sharpness(&self.plain_scores);
        if let Some(new) = self.tempo_change(self.estimate.bpm) {
            self.restart_on_recent(new);
            self.estimate = TempoEstimate {
                bpm: new,
                confidence,
            };
            return;
        }
        let steady = same_tempo(bpm, self.estimate.bpm);
        self.steady_updates = if steady { self.steady_updates + 1 } else { 0 };
        if let Some(h) = self.backbeat_hold {
            let away = (bpm / h).log2().abs();
            if self.steady_updates >= BACKBEAT_STEADY_UPDATES && away > BACKBEAT_HOLD_LEFT {
                self.hold_octave(None);
                self.unsettle_backbeat();
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
    /// update), it barely supports `current` ([`CHANGE_WEAK`]) and both
    /// spans have a clear pulse ([`CHANGE_CLEAR`]), at [`CHANGE_UPDATES`]
    /// updates in a row, the music has changed tempo (a DJ's cut with no
    /// gap): returns the new tempo. Without it, the estimate moved only
    /// once the window held more of the new tempo than of the old (5-6 s),
    /// across a change to a metrical relative of a tempo the backbeat held
    /// (4/3, 3/2) not for 11 s or more, and some cuts never. Not while a
    /// VJ's octave choice holds the prior.
    fn tempo_change(&mut self, current: f32) -> Option<f32> {
        let m = self.recent_len();
        if current <= 0.0 || self.prior_octaves < PRIOR_OCTAVES || self.history.len() < 2 * m {
            self.change_vote = (0.0, 0);
            return None;
        }
        // The last span on its own: its best tempo, and how it scores the
        // current one; then, only if that asks for a change, the span
        // before it.
        let best = self.recent_best;
        let (new, at_current) = {
            let scores = &self.recent_scores;
            let arg = scores.iter().position(|&v| v >= best).unwrap_or(0);
            (self.candidates[arg], self.score_near(current))
        };
        let octaves = (new / current).log2();
        let related = octaves.abs() < 1.0 + CHANGE_OCTAVES
            && (octaves - octaves.round()).abs() < CHANGE_OCTAVES;
        // The recent frames barely support the current tempo, and they and
        // the frames before them each have a clear pulse: two songs, not
        // a riff whose periodicity shifts over a few seconds.
        let changed = best >= CHANGE_CLEAR
            && !related
            && at_current < CHANGE_WEAK * best
            && self.score_span(1) >= CHANGE_CLEAR;
        if !changed {
            self.change_vote = (0.0, 0);
            return None;
        }
        self.change_vote = match self.change_vote {
            (v, k) if same_tempo(new, v) => (new, k + 1),
            _ => (new, 1),
        };
        (self.change_vote.1 >= CHANGE_UPDATES).then_some(new)
    }

    /// Scores the candidates over span `w` of the tempo-change check (0:
    /// the last [`CHANGE_WINDOW_S`], 1: the one before) into
    /// `recent_scores`; returns the best score (0 when the span is flat).
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
            &mut self.recent_scores,
            None,
        )
    }

    /// The best score of the span scored last within 2 % of `bpm`.
    fn score_near(&self, bpm: f32) -> f32 {
        self.candidates
            .iter()
            .zip(&self.recent_scores)
            .filter(|(c, _)| (**c / bpm - 1.0).abs() < 0.02)
            .fold(0.0, |a, (_, &v)| a.max(v))
    }

    /// Frames in the tempo-change check's window.
    fn recent_len(&self) -> usize {
        change_window_frames(self.rate)
    }

    /// Forgets all but the last `keep` frames of the ODF and band history
    /// (in place: the buffers keep their capacity).
    fn keep_last(&mut self, keep: usize) {
        let keep = keep.min(self.history.len());
        let start = self.history.len() - keep;
        self.history.copy_within(start.., 0);
        self.history.truncate(keep);
        self.slow_history.copy_within(start.., 0);
        self.slow_history.truncate(keep);
        self.band_history.copy_within(start.., 0);
        self.band_history.truncate(keep);
    }

    /// The music changed tempo to `bpm`: the history keeps the last
    /// [`CHANGE_WINDOW_S`] alone (the new tempo's), the forward pass
    /// starts at `bpm`, and the backbeat lets go of what it held.
    fn restart_on_recent(&mut self, bpm: f32) {
        self.unsettle_backbeat();
        self.keep_last(self.recent_len());
        self.change_vote = (0.0, 0);
        self.backbeat_vote = (0.0, 0);
        self.steady_updates = 0;
        self.hold_octave(None);
        self.restart_at(bpm);
    }
}

/// How clearly one tempo stands out of candidate scores: 1 - mean / best,
/// in 0..1 (the estimate's confidence).
fn sharpness(scores: &[f32]) -> f32 {
    let mean = scores.iter().sum::<f32>() / scores.len().max(1) as f32;
    let best = scores.iter().copied().fold(0.0f32, f32::max).max(1e-12);
    (1.0 - mean / best).clamp(0.0, 1.0)
}

/// Whether `bpm` is within [`SAME_TEMPO`] of `other`. An `other` of 0 (no
/// estimate yet) matches no tempo in the estimator's range.
fn same_tempo(bpm: f32, other: f32) -> bool {
    (bpm / other.max(1.0) - 1.0).abs() < SAME_TEMPO
}

/// Frames in the tempo-change check's window at `rate` frames/s.
fn change_window_frames(rate: f32) -> usize {
    (rate * CHANGE_WINDOW_S).round() as usize
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
                t.push([x; 2], [0.0; 3], true);
            }
            let e = t.estimate();
            assert!((e.bpm / bpm - 1.0).abs() < 0.03, "{bpm}: got {}", e.bpm);
        }
    }

    /// Pulse trains at `from` BPM for 12 s, then at `to`: seconds after
    /// the cut from which the estimate stays within 4 % of `to`.
    fn follows(from: f32, to: f32) -> Option<f32> {
        let rate = 100.0;
        let mut t = TempoEstimator::new(rate);
        for x in pulse_train(rate, from, 12.0) {
            t.push([x; 2], [0.0; 3], true);
        }
        let mut since = None;
        for (i, x) in pulse_train(rate, to, 10.0).into_iter().enumerate() {
            t.push([x; 2], [0.0; 3], true);
            let on = (t.estimate().bpm / to - 1.0).abs() < 0.04;
            since = match (since, on) {
                (None, true) => Some(i as f32 / rate),
                (s, true) => s,
                (_, false) => None,
            };
        }
        since
    }

    #[test]
    fn a_cut_to_an_unrelated_tempo_is_followed_within_seconds() {
        // The tempo-change check: the last 3 s read on their own take over
        // once they have said so for a second (without it: 5 s or more,
        // once the 8 s window holds more of the new tempo than the old).
        for (from, to) in [(120.0, 90.0), (120.0, 150.0), (100.0, 128.0)] {
            let s = follows(from, to);
            assert!(
                s.is_some_and(|s| s < 4.0),
                "{from} -> {to} BPM: on the new tempo {s:?} s after the cut"
            );
        }
    }

    /// An ODF at `rate` frames/s: per 4-beat bar at `bpm`, pulses of
    /// strength `w` at each (beat position, w) of `pattern`.
    fn bar_pattern(rate: f32, bpm: f32, seconds: f32, pattern: &[(f32, f32)]) -> Vec<f32> {
        let beat = 60.0 * rate / bpm;
        let mut x = vec![0.0; (rate * seconds) as usize];
        let bars = (x.len() as f32 / (4.0 * beat)).ceil() as usize;
        for b in 0..bars {
            for &(pos, w) in pattern {
                let i = ((b as f32 * 4.0 + pos) * beat).round() as usize;
                if i < x.len() {
                    x[i] += w;
                }
            }
        }
        x
    }

    #[test]
    fn a_dotted_pattern_is_read_at_its_beat_not_at_the_dotted_beat() {
        // Per 4/4 bar: kicks a dotted quarter apart (beats 1, the "and" of
        // 2, and 4: 3 + 3 + 2 eighths) and a softer snare on 2 and 4. The
        // ODF repeats every 1.5 beats more strongly than every beat, and
        // every bar most strongly: the bar (4 beats, not 2.67 of the
        // dotted beat) keeps the estimate on the beat. Without it, at 150
        // and 174 BPM the estimate sat at two thirds of the tempo for 6-8 s.
        let rate = 200.0;
        let pattern = [(0.0, 1.0), (1.5, 1.0), (3.0, 1.0), (1.0, 0.6), (3.0, 0.6)];
        for bpm in [110.0, 128.0, 150.0, 174.0] {
            let mut t = TempoEstimator::new(rate);
            let mut read = Vec::new();
            for (i, x) in bar_pattern(rate, bpm, 16.0, &pattern)
                .into_iter()
                .enumerate()
            {
                t.push([x; 2], [0.0; 3], true);
                if i as f32 >= 6.0 * rate && i % 100 == 0 {
                    read.push(t.estimate().bpm.round());
                }
            }
            assert!(
                read.iter().all(|&b| (b / bpm - 1.0).abs() < 0.04),
                "{bpm} BPM: read {read:?} from 6 s on"
            );
        }
    }

    #[test]
    fn an_octave_jump_is_no_tempo_change() {
        // Half the tempo (every other pulse gone) is an octave of the old
        // estimate: the check leaves it to the forward pass and the
        // backbeat, which decide octaves, and never votes for it.
        let rate = 100.0;
        let mut t = TempoEstimator::new(rate);
        for x in pulse_train(rate, 120.0, 12.0) {
            t.push([x; 2], [0.0; 3], true);
        }
        assert!((t.estimate().bpm / 120.0 - 1.0).abs() < 0.03);
        let mut votes = 0;
        for x in pulse_train(rate, 60.0, 4.0) {
            t.push([x; 2], [0.0; 3], true);
            votes = votes.max(t.change_vote.1);
        }
        assert_eq!(votes, 0, "the check voted for a change at the octave");
    }
}
