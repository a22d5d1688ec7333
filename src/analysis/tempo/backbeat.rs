//! The backbeat check: the kick and snare bands' onsets cross-correlated
//! decide the tempo's octave (the snare answers the kick one beat later,
//! whatever the hats and strums between say), and the octave it moved to
//! or confirmed is then held against its metrical relatives. See
//! [`TempoEstimator`]'s `backbeat_octave`. The onsets are each band's rise
//! over 30 ms, which a time stretcher's smeared attacks still show (see
//! the beat tracker's `push`).

use realfft::num_complex::Complex32;

use super::correlate::{centred_spectrum, unbias};
use super::{MAX_BPM, MIN_BPM, PRIOR_OCTAVES, TempoEstimator};

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
/// Before the window is full, the check runs over at least this share of
/// it (4 s of the 8 s), and only to move the estimate, at
/// [`BACKBEAT_EARLY_RATIO`]: no confirmation, which holds the octave. Over
/// a full window only, copies stretched to 70-78 or 165-180 BPM started at
/// the other octave and stayed there for the 8-10 s the window took to
/// fill (hendrix at 180: 7 of its 10 s at half tempo). `scripts/eval-sets`,
/// the mean of 11: beat F .9008 -> .9034, downbeat F .7702 -> .7739, tempo
/// Acc1 unchanged; over every set 16 copies gain more than .05 beat F (nine
/// families, among them hendrix, 80s rock, grunge, funk and the General
/// MIDI ballad, folk, one-drop and minimal techno) and 2 lose as much (the
/// britpop stretch at 150 and 165, halved at 4 s and doubled back at 9 s).
/// At a quarter or three-eighths of the window the same; at five-eighths or
/// more the General MIDI pieces gain nothing. Confirming early too held
/// oom-pah at 100 BPM at double (its first 4 s read 200).
const BACKBEAT_EARLY_SHARE: f32 = 0.5;
/// The factor by which the other octave must correlate better over a
/// window not yet full (against [`BACKBEAT_RATIO`] over a full one): the
/// correlations over 4 s swing more. At 1.2 / 1.5 / 2 / 2.5 the mean of 11
/// beat F .9023 / .9025 / .9034 / .9033, stretched downbeat F .689 / .689 /
/// .698 / .692.
const BACKBEAT_EARLY_RATIO: f32 = 2.0;
/// The check runs only over enough of the window (see
/// [`BACKBEAT_EARLY_SHARE`]) and once the estimate has held
/// (within 4 %) for this many updates (2 s): a window that spans a tempo
/// change correlates two grids at once.
pub(super) const BACKBEAT_STEADY_UPDATES: u32 = 8;
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
pub(super) const BACKBEAT_HOLD_RELATIVES: [f32; 3] = [2.0, 1.5, 4.0 / 3.0];
/// Width of each damped neighbourhood, octaves...
pub(super) const BACKBEAT_HOLD_OCTAVES: f32 = 0.1;
/// ...and the share of their weight they keep.
pub(super) const BACKBEAT_HOLD_DAMP: f32 = 0.1;
/// A held octave is let go once the estimate has moved this far (octaves)
/// from it and held there: the music has moved on (a DJ's next track).
pub(super) const BACKBEAT_HOLD_LEFT: f32 = 0.25;
/// The held tempo follows the estimate while it stays within this many
/// octaves of it (a band drifting, a DJ riding the pitch): held where the
/// song started, a drift of 10 % left the other octave of the new tempo
/// nearly undamped, and the eighths took over until the backbeat moved the
/// estimate back.
pub(super) const BACKBEAT_HOLD_FOLLOW: f32 = 0.05;
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
/// The kick band's own figure, not a backbeat: an estimate is not halved
/// when the kick band's autocorrelation at two of its beats exceeds both
/// half the kick-to-snare correlation there (the correlation sums both
/// directions) and this many times the kick band's autocorrelation at one
/// beat. Then the two-beat peak is a figure the kick band repeats every two
/// beats (techno's kick on every beat under a 3-3-2 bass, whose notes fill
/// the kick band), heard in the snare band too, and no snare answering a
/// kick: a real backbeat's kick band repeats at four beats or at every
/// beat, and its snare is what answers at two. Synthesised techno (a
/// pitch-swept kick on every beat, a 3-3-2 bass, open hats on the
/// off-beats) at 140 and 174 BPM was halved at 4-5 s and stayed at half;
/// so were `scripts/gm-set`'s techno and minimal techno for a while. Every
/// halving the sets of `scripts/eval-sets` need passes (the speed-metal
/// and grunge stems, whose kick band hears the whole kit, repeat as much
/// at one beat as at two: 0.15-0.54 against 0.15-0.51; the mixes' kick
/// bands hardly repeat at two beats: under 0.11).
const KICK_FIGURE_RATIO: f32 = 2.0;
/// Four on the floor: an estimate of [`BACKBEAT_DOUBLE_BPM`] or less that
/// no backbeat holds is doubled (on the backbeat's votes, held like its
/// moves) when the kick band's power rise over 30 ms, unscaled, repeats at
/// half its period at least this much (normalised autocorrelation)...
///
/// Techno with a kick on every beat under a 3-3-2 bass, or the General MIDI
/// minimal techno without a clap, was read at half from about 132 BPM: the
/// bass repeats every two beats and the autocorrelation of the onset
/// strength with it, and there is no snare for the backbeat to double on.
/// The kick band's power, where a swept kick outweighs the bass notes
/// (see the beat clock's off-beat trap), repeats at every beat: .56-.72 at
/// one beat against .81-.95 at two on those loops. Every slow copy of
/// `scripts/stretch-set` (70-92 BPM) repeats under .4 at half its beat
/// but the speed-metal drums (double-bass eighths, .61-.74), which the
/// backbeat mostly holds. `scripts/eval-sets`, mean of 11: beat F .9043
/// -> .9060, downbeat F .7759 -> .7762, tempo Acc1 .9665 -> .9697
/// (stretched Acc1 .925 -> .935: 80s rock and speed metal at 180 are no
/// longer read at 90); minimal techno at 174 beat F .19 -> 1.0. It costs
/// the speed-metal drums stretched to 92 in two of their three copies (the
/// 48 kHz and Rubber Band ones), read at 184 (beat F .88 -> .59).
///
/// The same test confirms an estimate of [`BACKBEAT_HALVE_BPM`] or more
/// over a full window, as a clear backbeat does: its octave is then held.
/// Without it, techno at 136 BPM that the autocorrelation read right from
/// the start drifted to half at 17 s as the window filled with the bass's
/// two-beat figure, and came back 3 s later off the beat. Mean of 11 beat F
/// .9060 -> .9063, downbeat F .7762 -> .7766; 80s rock at 180 .907 -> .981
/// in all three copies; one cut (80s rock at 165 into britpop at 128, a
/// four-thirds step the hold damps) .915 -> .849.
const FOUR_FLOOR_CLEAR: f32 = 0.4;
/// ...and at least this share of its repetition at the whole period.
const FOUR_FLOOR_RATIO: f32 = 0.6;
/// Where the band history ([`TempoEstimator::push`]'s `bands`) holds the
/// kick band's onsets (its rise over 30 ms)...
const KICK_ONSETS: usize = 0;
/// ...and the kick band's power rise, unscaled.
const KICK_POWER: usize = 2;
/// Shortest and longest kick-to-snare lag considered, seconds.
const BACKBEAT_LAGS_S: (f32, f32) = (0.2, 1.3);

impl TempoEstimator {
    /// The backbeat check, over enough of the window and a steady estimate
    /// (see [`BACKBEAT_STEADY_UPDATES`]): in most songs with drums the snare
    /// answers the kick one beat later (kick on 1 and 3, snare on 2 and 4), so the lag
    /// at which the kick band's onsets best predict the snare band's (or
    /// the reverse) is the beat, whatever the hats and strums between say.
    /// An estimate of `bpm` at or above [`BACKBEAT_HALVE_BPM`] whose double
    /// period correlates [`BACKBEAT_RATIO`] times better than its own is
    /// counting eighths: halved; one at or below [`BACKBEAT_DOUBLE_BPM`]
    /// whose half period does is counting half notes: doubled. The vote
    /// must hold for [`BACKBEAT_UPDATES`] updates; the estimator then
    /// restarts at the new tempo. Over a full window, an estimate whose own
    /// period clearly correlates better than the other octave's, as long, is
    /// confirmed; over part of one ([`BACKBEAT_EARLY_SHARE`]) the check only
    /// moves, on a larger factor ([`BACKBEAT_EARLY_RATIO`]).
    /// Either way the prior then holds that tempo against its metrical
    /// relatives ([`BACKBEAT_HOLD_RELATIVES`]) until the backbeat asks for
    /// the other octave, the estimate moves away, or a new song starts. A
    /// move back from the octave the last move went to is the last one
    /// until then: the octave it came back to is held.
    /// Not while a VJ's octave choice holds the prior.
    pub(super) fn backbeat_octave(&mut self, n: usize, bpm: f32) -> f32 {
        // Over half a window at least: shorter ones swing too much.
        let full = n >= self.window;
        if self.prior_octaves < PRIOR_OCTAVES
            || (n as f32) < BACKBEAT_EARLY_SHARE * self.window as f32
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
        let ratio = if full {
            BACKBEAT_RATIO
        } else {
            BACKBEAT_EARLY_RATIO
        };
        let clearly = |a: f32, b: Option<f32>| {
            b.is_some_and(|b| {
                a > ratio * b.max(0.0) && a - b > BACKBEAT_MARGIN && a >= BACKBEAT_CLEAR
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
        // A halving asked for by the kick band's own two-beat figure
        // ([`KICK_FIGURE_RATIO`]) is not the backbeat's.
        let kick_figure = |o: f32| {
            let [one, two] = self.band_autocorrelation(n, KICK_ONSETS, [period, 2.0 * period]);
            two > 0.5 * o && two > KICK_FIGURE_RATIO * one
        };
        // The backbeat itself moved to this octave or confirmed it.
        let held_here = self
            .backbeat_hold
            .is_some_and(|h| (bpm / h).log2().abs() < BACKBEAT_HOLD_FOLLOW);
        // 0.5 or 2.0: move there; 1.0: this octave is the backbeat's.
        // The vote comes from a kick on every beat, not from the backbeat.
        let mut by_kick = false;
        let vote = match (near(period), other) {
            // A kick on every beat of twice the tempo, and no backbeat
            // holding this one: four on the floor.
            (_, Some((factor, _)))
                if factor > 1.0 && !held_here && self.four_on_the_floor(n, period) =>
            {
                by_kick = true;
                factor
            }
            (Some(own), Some((factor, o)))
                if o.is_some_and(|o| {
                    clearly(o, Some(own))
                        && (!held_here || o > BACKBEAT_UNDO_RATIO * own)
                        && (factor > 1.0 || !kick_figure(o))
                }) =>
            {
                factor
            }
            (Some(own), Some((_, o)))
                if full && self.backbeat_hold.is_none() && clearly(own, o) =>
            {
                1.0
            }
            // A kick on every beat of this tempo confirms it just as well
            // (see [`FOUR_FLOOR_CLEAR`]).
            (_, Some((factor, _)))
                if factor < 1.0
                    && full
                    && self.backbeat_hold.is_none()
                    && self.four_on_the_floor(n, 2.0 * period) =>
            {
                by_kick = true;
                1.0
            }
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
            self.held_by_kick = by_kick;
            return bpm;
        }
        if self.backbeat_settled {
            return bpm;
        }
        let target = (bpm * vote).clamp(MIN_BPM, MAX_BPM);
        // A move away from an octave the backbeat had held frees the
        // prior; any other holds the new octave. A move back from the
        // octave the last move went to (halved without the leak removal,
        // doubled again with it, say) is the last: the two questions
        // disagree, so the backbeat holds the octave it came back to, the
        // autocorrelation's own reading, and moves no more. Drums at 180
        // BPM went 180 -> 90 -> 180 -> ... eleven times in 20 s.
        let held = self.backbeat_hold.is_some();
        let back = held
            && self
                .backbeat_moved_to
                .is_some_and(|to| (bpm / to).log2().abs() < BACKBEAT_HOLD_FOLLOW);
        self.backbeat_settled = back;
        self.backbeat_moved_to = Some(target);
        self.hold_octave((!held || back).then_some(target));
        self.held_by_kick = by_kick;
        self.restart_at(target);
        self.backbeat_moved = true;
        target
    }

    /// Forgets the backbeat's last move and lets it move again.
    pub(super) fn unsettle_backbeat(&mut self) {
        self.backbeat_moved_to = None;
        self.backbeat_settled = false;
    }

    /// Whether the kick band's power rises on every beat of twice the
    /// tempo whose beat is `period` frames long ([`FOUR_FLOOR_CLEAR`],
    /// [`FOUR_FLOOR_RATIO`]).
    fn four_on_the_floor(&self, n: usize, period: f32) -> bool {
        let [half, whole] = self.band_autocorrelation(n, KICK_POWER, [0.5 * period, period]);
        half >= FOUR_FLOOR_CLEAR && half >= FOUR_FLOOR_RATIO * whole
    }

    /// The normalised autocorrelation of one of the band histories (`band`:
    /// [`KICK_ONSETS`] or [`KICK_POWER`]) over the last `n` frames at each
    /// of `lags` frames, the best within two frames of it (0 when the band
    /// is flat or the lag too long).
    fn band_autocorrelation(&self, n: usize, band: usize, lags: [f32; 2]) -> [f32; 2] {
        let src = &self.band_history[self.band_history.len() - n..];
        let mean = src.iter().map(|v| v[band]).sum::<f32>() / n.max(1) as f32;
        let energy = src.iter().map(|v| (v[band] - mean).powi(2)).sum::<f32>() / n.max(1) as f32;
        lags.map(|lag| {
            let centre = lag.round() as usize;
            if energy <= 1e-12 || centre + 2 >= n {
                return 0.0;
            }
            (centre.saturating_sub(2).max(1)..=centre + 2)
                .map(|l| {
                    let sum: f32 = src[l..]
                        .iter()
                        .zip(src)
                        .map(|(a, b)| (a[band] - mean) * (b[band] - mean))
                        .sum();
                    sum / (n - l) as f32 / energy
                })
                .fold(f32::MIN, f32::max)
        })
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
