//! The predictive beat clock: phase-locks a beat grid to the onset strength
//! signal and announces each beat *before* it sounds.
//!
//! Phase: at every beat-rate frame, a comb over the last `COMB_BEATS` beat
//! periods of the (smoothed) ODF scores every candidate position of the most
//! recent beat; the best one predicts the next beat. The clock does not jump
//! to that measurement: it moves toward it (a first-order phase-locked loop),
//! so one missing or extra hit does not shake the visuals, and it freewheels
//! through breaks and silence at the last tempo, and on into the music
//! after a break of 2 s or more.
//!
//! Bars: once each beat has been heard, its low- and mid-band hit strengths
//! and its chroma go to [`DownbeatTracker`], which chooses the metre (4 or 3
//! beats) and the downbeat. When music starts, at the start of the stream or
//! after 2 s of silence, the beat nearest to its first sound is
//! the downbeat until the cues have been heard. When the grid takes another
//! tempo (an octave flip, the VJ's x2 or /2), the cues start again and the
//! bar line carries over by time: the new grid's downbeat is the beat
//! nearest the old grid's last one, and across an octave excursion the bar
//! line of the level it left (bars counted an octave away are half or
//! double bars).

use super::downbeat::{CHROMA, DownbeatTracker, MIN_BEATS, argmax};
use super::frame::{Event, EventKind, Rhythm};
use super::tempo::{MAX_BPM, MIN_BPM, PRIOR_BPM, PRIOR_OCTAVES, TempoEstimate, TempoEstimator};

const COMB_BEATS: usize = 8;
const COMB_DECAY: f32 = 0.8;
/// How much more the low band's onsets (35-140 Hz) count in the phase comb
/// than in the onset strength, where they are one band among many. Bass
/// notes and kicks fall on the beat; chords, strums and hats fill between
/// and are brighter, so without it an oom-pah (a tuba on the beat, an
/// accordion between) locks to the accordion: half a beat off. The tempo
/// estimate does not use it.
const LOW_BAND_WEIGHT: f32 = 1.0;
/// The slow view of the onset strength (each band's rise over 30 ms, see
/// `TempoEstimator::push`) counts in the phase comb this many times the
/// share of the last second's tempo updates that read it (on top of
/// [`SLOW_COMB_FLOOR`]): in a reverberant room, where the tempo reads it
/// about half the time, the hits' rise over 10 ms alone let the clock lock
/// on and off the beat by turns; in dry music the tempo seldom reads it.
/// Measured before the floor: over nine
/// rooms (`scripts/room-set --seed 1..3`, RT60 0.9-1.6 s) beat F .822 ->
/// .844 and downbeat F .624 -> .650; mean of the 11 sets of
/// `scripts/eval-sets` .8984 -> .8989, the stretched punk mix gains most.
/// Counted always, at weight 1, the rooms gained more (.856), but dry
/// music lost (mean beat F .8942: the punk mix -2.0 summed over its
/// copies, the `scripts/gm-set` oom-pah at 140 -.82); counted only while
/// the tempo reads it (not over the last second), the rooms gained .012.
const SLOW_COMB_WEIGHT: f32 = 2.0;
/// ...and this much whatever the tempo reads: the rise over 30 ms is a
/// broader pulse, and a little of it steadies the comb where attacks are
/// smeared or flammed. Mean beat F over the 11 sets .8996 -> .9008 (the
/// stretched copies .853 -> .858, the Rubber Band copies .833 -> .845; the
/// dev clips as they were, the General MIDI pieces .856 -> .854); nine
/// rooms .841 -> .845, though club .892 -> .880. By copy, 12 gain more
/// than .05 beat F and 5 lose as much (funk +.38 summed over its copies,
/// britpop +.27; zeppelin -.08). At 0.25 the sets gained more (.9019), but
/// ska at 160 fell back toward the off-beat (beat F 1.0 -> .92 on its test
/// clip) and the VJ's /2 on even clicks kept the wrong half of them; at 0.5
/// dev downbeat F .837 -> .810.
const SLOW_COMB_FLOOR: f32 = 0.15;
/// The rate (per beat-rate frame, ~100 a second) at which that share
/// follows the tempo's reading: about a second.
const SLOW_SHARE_RATE: f32 = 0.01;
/// The off-beat trap: music whose loudest hits fall between the beats (a
/// ska guitar's skank on every "and", strums and hats off the beat), where
/// the phase comb peaks half a beat off. The low band's onsets (kicks, bass
/// notes) keep to the beat, so when the low band's own comb peaks about
/// half a beat from the whole comb's peak ([`OFFBEAT_TRAP_HALF`]) and at
/// least this many times higher there than at it, the comb is counted
/// again weighted by the low band's comb ([`OFFBEAT_TRAP_WEIGHT`]). The
/// narrow test matters: a syncopated kick or bass (funk on the sixteenths,
/// a punk kick on the "and") pulls the phase off the beat when the low
/// band's comb always counts. `scripts/gm-set` ska at 160 BPM was locked
/// half a beat off for all of its 32 s (beat F 0) and is now right (1.0).
/// `scripts/eval-sets` (with the 34 General MIDI pieces): mean beat F
/// .9031 -> .9058, downbeat F .7744 -> .7768; without the ska and the other
/// pieces added with it, .9044 -> .9045 and .7775 -> .7772 (zeppelin
/// stretched to 70-78 BPM, read at double, loses .05-.1 beat F; britpop's
/// bar line flips in two copies). Weighted every time (no trap test), at
/// 0.5: .8898 (funk and punk lose most); at a ratio of 2 instead of 3:
/// .9025.
const OFFBEAT_TRAP_RATIO: f32 = 3.0;
/// Where the low band's onsets do not spring the off-beat trap, the kick
/// band's power rise over 30 ms, unscaled, gets a second try: a drum
/// machine's kick, swept down from 160 Hz, lifts the 35-140 Hz bands' power
/// several times more than a synth bass note does, but on top of the bass
/// note still sounding it rises less in the compressed view than the next
/// bass note. In techno with a kick on every beat, an open hat on every
/// off-beat and a 3-3-2 bass (`scripts/techno-set`), the hat and the bass
/// note falling with it on the "and" of 2 outweigh the kicks in the whole
/// comb, and the low band's onsets peak on the 3-3-2 note at 0.75, so the
/// clock flashed every beat on the off-beat at 128 and 140 BPM (beat F 0;
/// aubio too; madmom online .99). Its power rise puts the kicks 3-5 times
/// above the off-beat, and the trap then holds them (beat F 1.0). The power
/// counts only where it shows a kick on every beat of the comb at that
/// phase ([`KICK_ON_EVERY_BEAT`]): a kick on some off-beats (punk's "and")
/// must not pull the phase there; counted without that test, the punk mix's
/// copies lost up to .48 beat F.
const KICK_ON_EVERY_BEAT: f32 = 0.25;
/// The kick-power trap reads at least this many beats of the comb (the
/// newest beat, still arriving, is not asked for its kick). From the first
/// beat on, the britpop stretch at 180 started its bars a beat late
/// (downbeat F .92 -> 0). At 3, 4, 6 or 8 the 11 sets of
/// `scripts/eval-sets` score as without the trap; at 3 the techno loops
/// lock on the kicks from the start, at 4 and more they start on the
/// off-beat and move to the kicks only after 10-15 s.
const KICK_TRAP_MIN_BEATS: usize = 3;
/// How far from half a beat (in beats) the two combs' peaks may lie for
/// the off-beat trap.
const OFFBEAT_TRAP_HALF: f32 = 0.12;
/// The weight of the low band's comb, scaled to 1 at its peak, on the
/// phase comb once the off-beat trap is found: a phase's score counts up
/// to twice.
const OFFBEAT_TRAP_WEIGHT: f32 = 1.0;
/// Seconds without music after which the tempo estimate holds: the
/// estimator no longer updates until the music is back. Before, it read
/// the silence too, and as its window came to hold more silence than
/// music its reading wandered: 12 s of silence after a drum groove at 110
/// BPM had the clock at 217 BPM after 8 s. Within the music a second of
/// quiet (a held chord, a stop) still updates it: holding it on every
/// quiet frame cost the 11 sets of `scripts/eval-sets` (mean beat F .9034
/// -> .9009, downbeat F .7739 -> .7647); after 0.5 s of quiet they score
/// as before (.9034, .7755; the speed-metal drums, which stop and start,
/// gain a little in most copies). It holds too after [`MUSIC_GAP_S`]
/// without a broadband onset, whatever sounds: a breakdown's pad keeps
/// the onset strength up, and its partials beating against each other
/// gave it a tempo of its own (148 BPM under a groove at 110).
const QUIET_HOLD_S: f32 = 0.5;
/// The clock rests once the music has been silent, or without a
/// broadband onset, this many beats: it runs on (a band back from a break,
/// a drop after a breakdown, comes in on the grid it left), but its beats
/// are no longer emitted (in silence they stop sooner, after
/// [`EMIT_QUIET_BEATS`]) and its published confidence, which scales the
/// presets' beat pulses and hits, is 0. From [`REST_FADE_FROM_BEATS`] on,
/// that confidence fades toward the rest. A break of a bar or two keeps
/// its beats; the end of a song, a DJ's gap between tracks or a breakdown
/// of held chords does not flash on the beat. Onsets back after a rest
/// with no silence (the pad sounded on) are a break inside the song: the
/// tempo is read afresh from what follows, as after silence, and the bar
/// line stays. A tapped or fixed tempo never rests.
const REST_AFTER_BEATS: f64 = 8.0;
/// Beats of silence after which the published confidence starts to fade.
const REST_FADE_FROM_BEATS: f64 = 2.0;
/// Beats of silence after which no beat is emitted, though the clock runs
/// on (see [`REST_AFTER_BEATS`]) and its first beat after the silence is
/// emitted on the grid: once the music has stopped for a whole beat, a
/// beat would flash on nothing. Before, beats came for up to two bars
/// into the silence, fading from [`REST_FADE_FROM_BEATS`]: after a song's
/// last chord, and through a drum stem's stops, whose annotations mark no
/// beats there either. `scripts/eval-sets`: mean of 11 beat F .9065 ->
/// .9108, downbeat F .7767 -> .7798; 115 copies in those sets gain and
/// none loses (hendrix, whose music stops 2.4 s before the clip ends,
/// .879 -> .921 on the dev clips; the speed-metal drums; the General MIDI
/// funk); of the cuts between songs 6 gain and 2 lose under .01. Half a
/// beat scored a little higher still, but a beat without any rise can
/// come inside sparse music.
const EMIT_QUIET_BEATS: f64 = 1.0;
/// An onset in noise-like sound (see [`BeatTracker::onset_heard`]) counts
/// while the last 3 s hold a pulse this clear (the tempo's best score over
/// them alone): music scores 0.3-0.8 there, synthesised applause
/// 0.08-0.17.
const CROWD_PULSE: f32 = 0.2;
/// Seconds without music after which music is taken to start anew.
const MUSIC_GAP_S: f32 = 2.0;
/// Music heard this soon after a stream opened was playing before it (see
/// [`BeatTracker::joins_music_in_progress`]); after any silence longer than
/// this, the stream heard the music start.
const JOINED_WITHIN_S: f32 = 0.25;
/// Beats the clock must have given a stretch of music (while it sounded)
/// for it to run on into the music after a gap (a break in the song,
/// perhaps) rather than stop and lock afresh.
const KEEP_AFTER_BEATS: u32 = 8;

/// Manual control of the beat clock (tap tempo, nudge, resync, fixed tempo).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BeatOverride {
    /// A tap at stream time `t` (seconds). Three or more taps set the tempo and phase.
    Tap(f64),
    /// Shift the grid by this many seconds (positive = later).
    Nudge(f64),
    /// The beat nearest to stream time `t` is a downbeat.
    Resync(f64),
    /// Hold this tempo (BPM); the phase still follows the music.
    FixedBpm(f32),
    /// The music is at twice (2.0) or half (0.5) the tempo the clock runs
    /// at: the clock moves to that metrical level at once and the tempo
    /// estimator stays near it (it still follows drift and tempo changes of
    /// up to about 20 %), until [`BeatOverride::Auto`]. With a fixed
    /// tempo, the fixed tempo is doubled or halved.
    Octave(f32),
    /// Back to automatic tempo, on any metrical level.
    Auto,
}

/// Width (octaves, one standard deviation) of the tempo prior around a
/// VJ's octave choice: a tempo 12 % away is weighted 0.8, 20 % away 0.58,
/// the octave above or below 3e-4.
const HINT_OCTAVES: f32 = 0.25;

/// The low band's measures the off-beat trap can read, by their index in
/// [`BeatTracker`]'s per-frame hit strengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cue {
    /// The kick band's onsets: its rise over 10 ms at the beat ODF's
    /// compression (the one the phase comb counts again).
    LowOnsets = 0,
    /// The kick band's power rise over 30 ms, unscaled
    /// ([`KICK_ON_EVERY_BEAT`]).
    KickPower = 2,
}

/// What the comb says about the phase at one frame.
struct CombPhase {
    /// Seconds back from the comb's reference frame to the most recent beat.
    last_beat: f64,
    /// Peak-to-mean contrast of the comb, 0..1.
    contrast: f32,
    /// A clearly stronger phase that the continuity prior held back.
    rival: Option<f64>,
}

/// The light smoothing (1/4, 1/2, 1/4) of the comb's signal, over three
/// frames in time or three phases of a comb.
fn smooth3(before: f32, at: f32, after: f32) -> f32 {
    0.25 * before + 0.5 * at + 0.25 * after
}

/// Phase-locked beat tracker over a beat-rate onset strength signal.
pub struct BeatTracker {
    rate: f32,
    /// Time offset of frame times: ODF frames lag the sound by this much.
    delay: f64,
    tempo: TempoEstimator,
    odf: Vec<f32>,
    /// Per frame: the low and mid band's onset strength (kick and snare)
    /// and the kick band's power rise ([`Cue::KickPower`]).
    hits: Vec<[f32; 3]>,
    times_start: f64,
    frames: u64,
    smooth: [f32; 3],
    /// How much of the time the tempo has lately read the slow view of the
    /// onset strength (see [`SLOW_COMB_WEIGHT`]), 0..1.
    slow_share: f32,
    // Clock.
    next_beat: f64,
    period: f64,
    next_index: i64,
    running: bool,
    confidence: f32,
    // Downbeat.
    downbeats: DownbeatTracker,
    pending: [(f64, i64); 4],
    n_pending: usize,
    downbeat_index: i64,
    manual_downbeat: bool,
    // Overrides.
    fixed_bpm: Option<f32>,
    /// The tempo a VJ's octave choice centred the estimator on.
    tempo_hint: Option<f32>,
    taps: [f64; 8],
    n_taps: usize,
    /// Sound time of the newest smoothed ODF frame (the comb's reference).
    last_frame_time: f64,
    activity: f32,
    /// Frames in a row without music.
    quiet_frames: u32,
    /// Frames since the last broadband onset event, and whether one came
    /// with the frame being fed (see [`BeatTracker::onset_heard`]).
    onset_silent_frames: u32,
    onset_this_frame: bool,
    /// Frame count at which the current stretch of music started.
    music_frame: Option<u64>,
    /// Music that starts before this frame count was already playing when
    /// a stream opened (see [`Self::joins_music_in_progress`]).
    joined_until: Option<u64>,
    /// The current stretch of music started where it was first heard (not
    /// at the start of a stream that joined it): its first beat is the one.
    start_heard: bool,
    /// Sound time of the last downbeat before the beat grid last changed
    /// tempo, and that grid's period: the bar line the new grid inherits
    /// (see [`Self::grid_changed`]).
    bar_anchor: Option<(f64, f64)>,
    /// The bar anchor's bar line was a guess (see
    /// [`DownbeatTracker::guessing`]).
    anchor_guessed: bool,
    challenger: f64,
    /// Take the next comb measurement as the phase, without the
    /// continuity prior (set when the grid takes an unrelated tempo).
    rephase: bool,
    /// Sound time of the last beat emitted.
    last_beat: f64,
    /// Beats emitted in the current stretch of music (not counting those
    /// freewheeled through the silence after it).
    stretch_beats: u32,
    /// Music came back after a gap while the clock ran on, and the tempo
    /// estimator has not yet given its first estimate of it.
    after_break: bool,
    /// PLL gain per frame for phase corrections (0..1).
    pub phase_gain: f64,
    /// PLL gain per frame for period corrections (0..1).
    pub period_gain: f64,
}

impl BeatTracker {
    /// A tracker for an ODF at `rate` frames/s whose frames lag the sound by `delay` s.
    pub fn new(rate: f32, delay: f64) -> Self {
        let hist = (rate * 12.0) as usize;
        Self {
            rate,
            delay,
            tempo: TempoEstimator::new(rate),
            odf: Vec::with_capacity(hist * 2),
            hits: Vec::with_capacity(hist * 2),
            times_start: 0.0,
            frames: 0,
            smooth: [0.0; 3],
            slow_share: 0.0,
            next_beat: 0.0,
            period: 0.5,
            next_index: 0,
            running: false,
            confidence: 0.0,
            downbeats: DownbeatTracker::default(),
            pending: [(0.0, 0); 4],
            n_pending: 0,
            downbeat_index: 0,
            manual_downbeat: false,
            fixed_bpm: None,
            tempo_hint: None,
            taps: [0.0; 8],
            n_taps: 0,
            last_frame_time: 0.0,
            activity: 0.0,
            quiet_frames: 0,
            onset_silent_frames: 0,
            onset_this_frame: false,
            music_frame: None,
            joined_until: None,
            start_heard: true,
            bar_anchor: None,
            anchor_guessed: false,
            challenger: 0.0,
            rephase: false,
            last_beat: f64::NEG_INFINITY,
            stretch_beats: 0,
            after_break: false,
            phase_gain: 0.1,
            period_gain: 0.05,
        }
    }

    /// A stream opens now that may start in the middle of a song (a live
    /// input, opened whenever the VJ starts the show, switches to it, or
    /// gets it back after it was lost): music heard from its first moments
    /// (within 0.25 s from now) did not start there, and its first beat
    /// says nothing of where the bar starts. The downbeat then comes from
    /// the cues alone, from the first bars on (see [`DownbeatTracker`]).
    /// Music after a silence, and a stream that opened on silence, start as
    /// usual, and so does music that never stopped (a stream reopened
    /// within the gap between songs: the clock runs on). A file played
    /// from its start needs none of this: songs, and most excerpts of them,
    /// start on the one.
    pub fn joins_music_in_progress(&mut self) {
        let within = (JOINED_WITHIN_S * self.rate).ceil() as u64;
        self.joined_until = Some(self.frames + within);
    }

    /// The tempo estimator's latest estimate.
    pub fn tempo(&self) -> TempoEstimate {
        self.tempo.estimate()
    }

    /// The published clock state.
    pub fn rhythm(&self) -> Rhythm {
        let awake = self.awake();
        Rhythm {
            bpm: if self.running {
                (60.0 / self.period) as f32
            } else {
                0.0
            },
            next_beat: self.next_beat,
            next_index: self.next_index,
            beats_per_bar: self.downbeats.beats_per_bar as u32,
            downbeat_index: self.downbeat_index,
            confidence: if self.running {
                self.confidence * awake
            } else {
                0.0
            },
            bar_guess: self.running && !self.manual_downbeat && self.downbeats.guessing(),
            resting: self.running && awake == 0.0,
            manual: self.fixed_bpm.is_some(),
            tempo_hint: self.tempo_hint,
            backbeat_hold: self.tempo.backbeat_hold(),
            held_by_kick: self.tempo.held_by_kick(),
        }
    }

    /// Applies a manual override at stream time `now`.
    pub fn apply(&mut self, o: BeatOverride, now: f64) {
        match o {
            BeatOverride::Tap(t) => self.tap(t),
            BeatOverride::Nudge(dt) => self.next_beat += dt,
            BeatOverride::Resync(t) => {
                if self.running {
                    let k = ((t - self.next_beat) / self.period).round() as i64;
                    self.downbeat_index = self.next_index + k;
                    self.manual_downbeat = true;
                }
            }
            BeatOverride::FixedBpm(bpm) => {
                let bpm = bpm.clamp(20.0, 400.0);
                self.fixed_bpm = Some(bpm);
                self.period = 60.0 / f64::from(bpm);
                if !self.running {
                    self.running = true;
                    self.next_beat = now + self.period;
                    self.confidence = 0.5;
                }
            }
            BeatOverride::Octave(factor) => self.change_octave(factor, now),
            BeatOverride::Auto => {
                self.fixed_bpm = None;
                self.manual_downbeat = false;
                if self.tempo_hint.take().is_some() {
                    self.tempo.set_prior(PRIOR_BPM, PRIOR_OCTAVES);
                }
            }
        }
    }

    fn change_octave(&mut self, factor: f32, now: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        if let Some(bpm) = self.fixed_bpm {
            self.apply(BeatOverride::FixedBpm(bpm * factor), now);
            return;
        }
        if !self.running {
            return;
        }
        let target = (60.0 / self.period) as f32 * factor;
        if !(MIN_BPM..=MAX_BPM).contains(&target) {
            return;
        }
        self.tempo_hint = Some(target);
        self.tempo.set_prior(target, HINT_OCTAVES);
        self.tempo.restart_at(target);
        self.grid_changed();
        self.period = 60.0 / f64::from(target);
        self.challenger = 0.0;
        // Doubling: every beat of the old grid is one of the new, so the next
        // beat stays. Halving: every other beat goes, and which one is for
        // the music to say, not for the old grid: the comb picks the phase
        // afresh, without the continuity prior.
        if factor < 1.0
            && let Some(comb) = self.comb_phase(None)
        {
            self.next_beat = self.next_grid_beat(
                self.last_frame_time - comb.last_beat,
                self.last_frame_time + 1.0 / f64::from(self.rate),
            );
        }
    }

    fn tap(&mut self, t: f64) {
        if self.n_taps > 0 && t - self.taps[self.n_taps - 1] > 2.0 {
            self.n_taps = 0;
        }
        if self.n_taps == self.taps.len() {
            self.taps.copy_within(1.., 0);
            self.n_taps -= 1;
        }
        self.taps[self.n_taps] = t;
        self.n_taps += 1;
        if self.n_taps >= 3 {
            let taps = &self.taps[..self.n_taps];
            let period = (taps[taps.len() - 1] - taps[0]) / (taps.len() - 1) as f64;
            self.fixed_bpm = Some((60.0 / period) as f32);
            self.period = period;
            self.next_beat = t + period;
            self.running = true;
            self.confidence = self.confidence.max(0.5);
        }
    }

    /// A broadband onset event came with the frame about to be fed: the
    /// music goes on, whatever else sounds (a breakdown's pads keep the
    /// onset strength up without one, and their beating partials can fire
    /// the drum bands' pickers).
    ///
    /// With `noise_like` (the sound's spectral flatness over the last
    /// second is a noise's: applause, crowd noise), the onset counts only
    /// while the last few seconds hold a clear pulse: the clapping of a
    /// crowd between songs is no music to keep a beat to.
    pub fn onset_heard(&mut self, noise_like: bool) {
        if !noise_like || self.tempo.recent_pulse() >= CROWD_PULSE {
            self.onset_this_frame = true;
        }
    }

    /// Feeds one beat-rate frame: `odf` (onset strength, as a band's rise
    /// over 10 ms and over 30 ms, see [`TempoEstimator::push`]), `hits`
    /// (onset strength in the kick band, 35-140 Hz, and the snare band,
    /// 180-3500 Hz, for downbeats and the phase, then the kick band's power
    /// rise over 30 ms for the off-beat trap), `backbeat` (the same
    /// bands' rise over 30 ms, and the snare's rattle's, 3-8 kHz: where it
    /// rises with the snare band, a snare for the tempo's backbeat check),
    /// `chroma` (pitch-class energy, for downbeats) and `end_time` (stream
    /// time of the newest sample in it). Emits beats into `events`.
    pub fn push(
        &mut self,
        odf: [f32; 2],
        hits: [f32; 3],
        backbeat: [f32; 3],
        chroma: &[f32; CHROMA],
        end_time: f64,
        events: &mut Vec<Event>,
    ) {
        let now = end_time - self.delay;
        let [odf, slow_odf] = odf;
        if self.frames == 0 {
            self.times_start = now;
        }
        self.frames += 1;
        // The comb's signal: the onset strength with the low band's onsets
        // counted again, then lightly smoothed to make the comb tolerant of a
        // frame of jitter.
        // In a room, the slow view too (see `SLOW_COMB_WEIGHT`).
        let reading_slow = if self.tempo.slow_view() { 1.0 } else { 0.0 };
        self.slow_share += SLOW_SHARE_RATE * (reading_slow - self.slow_share);
        let pulse = odf.max(0.0)
            + (SLOW_COMB_FLOOR + SLOW_COMB_WEIGHT * self.slow_share) * slow_odf.max(0.0)
            + LOW_BAND_WEIGHT * hits[0].max(0.0);
        self.smooth = [self.smooth[1], self.smooth[2], pulse];
        let s = smooth3(self.smooth[0], self.smooth[1], self.smooth[2]);
        let cap = self.odf.capacity();
        if self.odf.len() == cap {
            let keep = cap / 2;
            self.odf.copy_within(cap - keep.., 0);
            self.odf.truncate(keep);
            self.hits.copy_within(cap - keep.., 0);
            self.hits.truncate(keep);
        }
        self.odf.push(s);
        self.hits.push(hits.map(|h| h.max(0.0)));
        // Is there music? Compare to a slowly decaying peak of the ODF.
        self.activity = (self.activity * 0.999).max(s);
        let active = s > 0.02 * self.activity && self.activity > 1e-4;
        // Onsets back after a gap without any: the music after a
        // breakdown whose pads or noise kept the onset strength up.
        let heard = std::mem::take(&mut self.onset_this_frame);
        let onsets_back = heard && self.in_beats(self.onset_silent_frames) >= REST_AFTER_BEATS;
        self.onset_silent_frames = if heard {
            0
        } else {
            self.onset_silent_frames.saturating_add(1)
        };
        if active {
            if self.music_frame.is_none() || self.quiet_frames as f32 >= MUSIC_GAP_S * self.rate {
                // Music after a gap: a break in the song, or a new song.
                // The tempo is read from the new music alone (not from the
                // silence, nor from a lone sound before it). A clock that
                // gave the last stretch of music its beats runs on through
                // the gap and into the music, so the beats are there when
                // the band comes back in (on the grid they left, or pulled
                // onto theirs by the phase lock within a few beats); the
                // estimator's first estimate of the new music then decides
                // the tempo and takes the phase afresh if it is a new one.
                // A clock that had not locked (a mic check, a lone click)
                // stops and locks afresh, as at the start: otherwise its
                // tempo held the new song and its phase the wrong half of
                // the beats. A tempo the VJ fixed, or an octave the VJ
                // chose, stays.
                if self.music_frame.is_some() && self.fixed_bpm.is_none() {
                    let keep = self.runs_through_breaks();
                    self.after_break = keep;
                    if !keep {
                        self.running = false;
                        self.confidence = 0.0;
                    }
                    if self.tempo_hint.is_none() {
                        self.tempo.music_started(keep);
                    }
                }
                self.stretch_beats = 0;
                // Music heard from a stream's first moments, when the
                // stream may have joined it in the middle of a song.
                self.start_heard = self.joined_until.is_none_or(|f| self.frames >= f);
                self.music_frame = Some(self.frames - 1);
                self.bar_anchor = None;
                self.downbeats.music_started();
            } else if onsets_back
                && self.runs_through_breaks()
                && self.fixed_bpm.is_none()
                && self.tempo_hint.is_none()
            {
                // Onsets back after a gap without any while something
                // sounded all along (a breakdown's pads, a held chord): a
                // break inside the song. The tempo is read from what
                // follows alone, as after silence (the estimator's window
                // holds the pads' own slow periodicities), the clock runs
                // on into it, and the bar line stays.
                self.after_break = true;
                self.tempo.music_started(true);
            }
            self.quiet_frames = 0;
        } else {
            self.quiet_frames = self.quiet_frames.saturating_add(1);
        }

        // The snare for the backbeat check: a hit that rises in its band
        // and in its rattle at once (the geometric mean). Strummed guitars,
        // keys and an accordion's chords rise in the snare band alone, hats
        // in the rattle alone.
        // The check correlates the drums' rise over 30 ms (the slow view): a
        // time stretcher smears each drum's attack over tens of
        // milliseconds, and a rise over 10 ms caught only part of it, so the
        // kick-to-snare correlation that tells a slow song read at double
        // from a fast one read at half was too weak on the stretched mixes.
        // With the slow view, tempo Acc1 on the stretched copies .897 ->
        // .925 (six copies gain it, none loses it: zeppelin at 78, hendrix
        // at 70, punk at 78, 80s rock at 180), their beat F .846 -> .853,
        // and on the Rubber Band copies Acc1 .850 -> .888, beat F .821 ->
        // .833; the dev clips are as they were; mean beat F over the 11 sets
        // of `scripts/eval-sets` .8989 -> .8996, Acc1 .959 -> .964; 19
        // copies gain more than .05 beat F and 6 lose as much (funk 3
        // semitones down -.18, britpop at 92 -.15 and -.21). The phase comb
        // and the downbeats keep the fast view: with the slow one there too,
        // dev beat F .946 -> .937 and downbeat F .837 -> .816. It costs the
        // rooms of `scripts/room-set` a little, where reverberation builds up
        // in every band over those 30 ms: over nine rooms Acc1 .965 -> .952
        // and beat F .844 -> .841 (the stretched country song halved in the
        // three rooms of one seed). Choosing the view by how much the tempo
        // reads the slow one, or blending the two by it, scored lower still
        // (Acc1 .945).
        let snare = (backbeat[1].max(0.0) * backbeat[2].max(0.0)).sqrt();
        let sounding = (self.quiet_frames as f32) < QUIET_HOLD_S * self.rate
            && (self.onset_silent_frames as f32) < MUSIC_GAP_S * self.rate;
        let updated = self
            .tempo
            .push([odf, slow_odf], [backbeat[0], snare, hits[2]], sounding);
        let est = self.tempo.estimate();
        // The backbeat moved the estimate an octave: its phase is for the
        // music to say, like the VJ's /2 (the old grid's beats may be the
        // off-beat half).
        let backbeat_move = self.tempo.take_backbeat_move();
        // The first estimate of the music after a break.
        let after_break_estimate = updated && std::mem::take(&mut self.after_break);
        if let Some(bpm) = self.fixed_bpm {
            self.period = 60.0 / f64::from(bpm);
        } else if est.bpm > 0.0 {
            let target = 60.0 / f64::from(est.bpm);
            if !self.running || (target / self.period - 1.0).abs() > 0.12 {
                // A different tempo (octave change, new song): take it directly.
                if updated {
                    if self.running {
                        self.grid_changed();
                        // A new tempo that is not an octave of the old one
                        // (a new song, a 3/2 misreading corrected) starts a
                        // grid whose phase is for the music to say: the
                        // next comb measurement is taken as it is. So does
                        // any new tempo after a break (a new song), and an
                        // octave the backbeat asked for. Across another
                        // octave change within a song the old beats stay on
                        // the new grid (or half of them do), so the clock
                        // keeps its phase.
                        let octaves = (target / self.period).log2().abs();
                        self.rephase =
                            (octaves - 1.0).abs() > 0.1 || after_break_estimate || backbeat_move;
                    }
                    self.period = target;
                }
            } else {
                self.period += self.period_gain * (target - self.period);
            }
        }

        if est.bpm > 0.0 || self.fixed_bpm.is_some() {
            // ODF frames are `smooth` centred one frame back.
            let centre = now - 1.0 / f64::from(self.rate);
            self.last_frame_time = centre;
            // Where the clock expects the most recent beat, in seconds back
            // from the comb's reference frame: favours continuity when the
            // music allows two phases (an even pulse at twice the tempo).
            let rephase = std::mem::take(&mut self.rephase);
            let expected = (self.running && !rephase).then(|| {
                let back = centre - (self.next_beat - self.period);
                back.rem_euclid(self.period)
            });
            if let Some(comb) = self.comb_phase(expected) {
                let frame_s = 1.0 / f64::from(self.rate);
                let mut last_beat = comb.last_beat;
                let peak = comb.contrast;
                let mut jump = rephase;
                match comb.rival {
                    Some(rival) => {
                        self.challenger += frame_s;
                        // Three beats of a clearly better phase: switch to it,
                        // on a frame where the clock takes corrections (an
                        // active one). Before, a switch due on a frame between
                        // hits was dropped and counted again from zero, three
                        // beats on, at the same point of the beat: it never
                        // came (techno at 160-174 BPM sat on its open hats
                        // for 8 s or all of it). `scripts/eval-sets` mean of
                        // 11: beat F .9063 -> .9065 (funk at 128 +.15 in two
                        // copies); the Rubber Band copies .845 -> .840 (funk
                        // at 78 and 165 now switch, to the wrong phase: -.30
                        // and -.33).
                        if self.challenger > 3.0 * self.period && active {
                            last_beat = rival;
                            jump = true;
                            self.challenger = 0.0;
                        }
                    }
                    None => self.challenger = (self.challenger - frame_s).max(0.0),
                }
                let measured_next =
                    self.next_grid_beat(centre - last_beat, now - 0.5 * self.period);
                self.confidence += 0.05 * (peak * est.confidence.max(0.3) - self.confidence);
                if !self.running {
                    if self.confidence > 0.08 && active {
                        self.running = true;
                        self.next_beat = measured_next;
                        self.next_beat_not_before(now.max(self.last_beat + 0.5 * self.period));
                    }
                } else if active {
                    let mut e = measured_next - self.next_beat;
                    e -= (e / self.period).round() * self.period;
                    self.next_beat += if jump { e } else { self.phase_gain * e };
                    // A jump lands at least half a beat after the last beat
                    // emitted (a period that changed with it can put it
                    // before): two beats in a stutter would flash twice.
                    if jump {
                        self.next_beat_not_before(self.last_beat + 0.5 * self.period);
                    }
                }
            }
        }

        if self.running {
            while now >= self.next_beat {
                let index = self.next_index;
                let bpb = self.downbeats.beats_per_bar as i64;
                let bar_position = ((index - self.downbeat_index).rem_euclid(bpb) + 1) as u32;
                let awake = self.awake();
                if awake > 0.0 && self.heard_within(EMIT_QUIET_BEATS) {
                    events.push(Event {
                        kind: EventKind::Beat {
                            index,
                            bar_position,
                        },
                        time: self.next_beat,
                        detected_at: end_time,
                        strength: (self.confidence * awake).clamp(0.0, 1.0),
                    });
                }
                self.downbeats.beat_started(index);
                if self.n_pending < self.pending.len() {
                    self.pending[self.n_pending] = (self.next_beat, index);
                    self.n_pending += 1;
                }
                self.last_beat = self.next_beat;
                // Beats freewheeled through silence do not count.
                if (self.quiet_frames as f32) < 0.5 * self.rate {
                    self.stretch_beats = self.stretch_beats.saturating_add(1);
                }
                self.next_beat += self.period;
                self.next_index += 1;
            }
        }
        // This frame belongs to the beat that started in it, if any.
        self.downbeats.push_chroma(chroma);
        self.settle_downbeats(now);
    }

    /// Whether the clock gave the last stretch of music its beats
    /// ([`KEEP_AFTER_BEATS`] of them), so that it runs on through a break
    /// into the music after it rather than stop and lock afresh.
    fn runs_through_breaks(&self) -> bool {
        self.running && self.stretch_beats >= KEEP_AFTER_BEATS
    }

    /// 1 while music sounds, falling to 0 as the silence since it grows
    /// from [`REST_FADE_FROM_BEATS`] to [`REST_AFTER_BEATS`] beats: the
    /// resting clock's share of its confidence.
    ///
    /// A tempo the VJ tapped or fixed never rests: the VJ is the music's
    /// clock then, with or without sound (tapping along to a stage whose
    /// sound does not reach the input).
    fn awake(&self) -> f32 {
        if self.fixed_bpm.is_some() {
            return 1.0;
        }
        let quiet_beats = self.in_beats(self.quiet_frames.max(self.onset_silent_frames));
        ((REST_AFTER_BEATS - quiet_beats) / (REST_AFTER_BEATS - REST_FADE_FROM_BEATS))
            .clamp(0.0, 1.0) as f32
    }

    /// Whether music sounded within the last `beats` beats (always, for a
    /// tempo the VJ tapped or fixed: see [`Self::awake`]).
    fn heard_within(&self, beats: f64) -> bool {
        self.fixed_bpm.is_some() || self.in_beats(self.quiet_frames) < beats
    }

    /// `frames` beat-rate frames as beats of the current period.
    fn in_beats(&self, frames: u32) -> f64 {
        f64::from(frames) / f64::from(self.rate) / self.period
    }

    /// The first beat of the grid through `beat` (at the current period)
    /// that falls after it and at or after `not_before`.
    fn next_grid_beat(&self, beat: f64, not_before: f64) -> f64 {
        let mut t = beat + self.period;
        while t < not_before {
            t += self.period;
        }
        t
    }

    /// Moves the next beat on by whole periods until it is at or after `t`.
    fn next_beat_not_before(&mut self, t: f64) {
        while self.next_beat < t {
            self.next_beat += self.period;
        }
    }

    /// Best position of the most recent beat: (seconds back from the newest
    /// smoothed frame, comb peak-to-mean contrast 0..1).
    fn comb_phase(&self, expected: Option<f64>) -> Option<CombPhase> {
        let p = self.period * f64::from(self.rate);
        let n = self.odf.len();
        if p < 2.0 || (n as f64) < p * 2.0 {
            return None;
        }
        let beats = COMB_BEATS.min((n as f64 / p) as usize);
        let steps = p.ceil() as usize;
        let mut best = (0usize, f32::MIN);
        let mut sum = 0.0f32;
        let last = n - 1;
        // Beat k of the comb lies `k p` frames back: whole frames and the
        // fraction between them, the same for every phase.
        let mut offsets = [(0usize, 0.0f32); COMB_BEATS];
        for (k, o) in offsets.iter_mut().enumerate().take(beats) {
            let back = k as f64 * p;
            let i = back.floor();
            *o = (i as usize, (back - i) as f32);
        }
        let at = |phi: usize, (i, f): (usize, f32)| -> f32 {
            let i = phi + i;
            if i + 1 > last {
                return 0.0;
            }
            self.odf[last - i] * (1.0 - f) + self.odf[last - i - 1] * f
        };
        // Continuity prior: candidates within ~8 % of a beat of where the
        // clock expects the last beat count up to 2.5x.
        let (bias_amt, bias_w) = (1.5f32, 0.08f64);
        let beats_per_frame = 1.0 / (f64::from(self.rate) * self.period);
        let n_phases = steps.min(512);
        let mut raw = [0.0f32; 512];
        for (phi, r) in raw.iter_mut().enumerate().take(n_phases) {
            let mut s = 0.0;
            let mut w = 1.0;
            for &o in &offsets[..beats] {
                s += w * at(phi, o);
                w *= COMB_DECAY;
            }
            *r = s;
        }
        if !self.weigh_offbeat_trap(&mut raw[..n_phases], &offsets[..beats], Cue::LowOnsets) {
            self.weigh_offbeat_trap(&mut raw[..n_phases], &offsets[..beats], Cue::KickPower);
        }
        let mut scores = [0.0f32; 512];
        let mut raw_best = (0usize, f32::MIN);
        for (phi, slot) in scores.iter_mut().enumerate().take(n_phases) {
            let s = raw[phi];
            sum += s;
            if s > raw_best.1 {
                raw_best = (phi, s);
            }
            let bias = expected.map_or(1.0, |e| {
                // Distance from the expected phase, in beats (circular).
                let mut d = (phi as f64 * beats_per_frame - e / self.period).abs();
                d = d.min(1.0 - d);
                if d > 4.0 * bias_w {
                    1.0 // the Gaussian below is under 0.0004 here
                } else {
                    1.0 + bias_amt * (-0.5 * ((d / bias_w) as f32).powi(2)).exp()
                }
            });
            let s = s * bias;
            *slot = s;
            if s > best.1 {
                best = (phi, s);
            }
        }
        let steps = steps.min(512);
        if best.1 <= 0.0 {
            return None;
        }
        // Parabolic refinement (circular).
        let (i, b) = best;
        let a = scores[(i + steps - 1) % steps];
        let c = scores[(i + 1) % steps];
        let den = a - 2.0 * b + c;
        let off = if den.abs() > 1e-12 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let mean = sum / steps as f32;
        let contrast = (1.0 - mean / b).clamp(0.0, 1.0);
        // A clearly stronger phase elsewhere that the continuity prior
        // overruled: the caller switches to it if it persists.
        let rival = {
            let dist = (raw_best.0 as f64 - i as f64).abs() / steps as f64;
            let dist = dist.min(1.0 - dist);
            (raw_best.1 > 1.25 * raw[i] && dist > 0.2)
                .then(|| raw_best.0 as f64 / f64::from(self.rate))
        };
        Some(CombPhase {
            last_beat: (i as f64 + f64::from(off)) / f64::from(self.rate),
            contrast,
            rival,
        })
    }

    /// The off-beat trap (see [`OFFBEAT_TRAP_RATIO`]): when the low band's
    /// comb over the same `offsets` peaks about half a beat from where
    /// `comb` (one value per phase, in frames back) peaks, and clearly
    /// higher there, `comb` is weighted by it. The low band's comb is
    /// first read only around the half-beat point, where it must clear the
    /// ratio for the trap to be possible: the whole of it, which would
    /// double the phase comb's cost at every frame, is read only then.
    /// `cue` is the low band's measure the trap reads; true when it weighted
    /// `comb`.
    fn weigh_offbeat_trap(&self, comb: &mut [f32], offsets: &[(usize, f32)], cue: Cue) -> bool {
        let n = comb.len();
        if n < 4 || self.hits.len() < 2 {
            return false;
        }
        let at = argmax(comb);
        let smoothed = |raw: &dyn Fn(usize) -> f32, phi: usize| {
            smooth3(raw((phi + n - 1) % n), raw(phi), raw((phi + 1) % n))
        };
        let floor = OFFBEAT_TRAP_RATIO * smoothed(&|phi| self.low_comb(phi, offsets, cue), at);
        // The phases that could hold the trap's peak, with a margin.
        let reach = (OFFBEAT_TRAP_HALF * n as f32).ceil() as usize + 1;
        let start = at + n / 2 + n - reach;
        let width = (2 * reach + 1).min(n);
        let mut window = [0.0f32; 512];
        for (k, w) in window.iter_mut().enumerate().take(width + 2) {
            *w = self.low_comb((start + k + n - 1) % n, offsets, cue);
        }
        let possible =
            (1..=width).any(|k| smooth3(window[k - 1], window[k], window[k + 1]) > floor);
        if !possible {
            return false;
        }
        let mut raw = [0.0f32; 512];
        for (phi, r) in raw.iter_mut().enumerate().take(n) {
            *r = self.low_comb(phi, offsets, cue);
        }
        let mut low = [0.0f32; 512];
        for (phi, l) in low.iter_mut().enumerate().take(n) {
            *l = smoothed(&|p| raw[p], phi);
        }
        let low_at = argmax(&low[..n]);
        let d = (at as f32 - low_at as f32).abs() / n as f32;
        let d = d.min(1.0 - d);
        let peak = low[low_at];
        if (d - 0.5).abs() > OFFBEAT_TRAP_HALF || peak <= OFFBEAT_TRAP_RATIO * low[at] {
            return false;
        }
        // The kick band's power counts only where a kick comes on every
        // beat of the comb at that phase (four on the floor), not where a
        // kick falls on some off-beats (punk's kick on the "and").
        if cue == Cue::KickPower && !self.kick_on_every_beat(low_at, offsets) {
            return false;
        }
        for (c, l) in comb.iter_mut().zip(&low[..n]) {
            let w = 1.0 + OFFBEAT_TRAP_WEIGHT * l / peak;
            // A kick on every beat counts twice: the whole comb is nearly
            // even between the kicks and the off-beat there, and counted
            // once the kicks took over only 10-14 s after a hats-and-bass
            // intro (4-5 s so).
            *c *= if cue == Cue::KickPower { w * w } else { w };
        }
        true
    }

    /// Whether the kick band's power rises at phase `phi` (frames back) on
    /// every beat of the comb's `offsets` but the newest, to at least
    /// [`KICK_ON_EVERY_BEAT`] of the strongest, over at least
    /// [`KICK_TRAP_MIN_BEATS`] beats.
    fn kick_on_every_beat(&self, phi: usize, offsets: &[(usize, f32)]) -> bool {
        let beats = offsets.len().min(COMB_BEATS);
        if beats < KICK_TRAP_MIN_BEATS {
            return false;
        }
        let len = self.hits.len();
        let mut per_beat = [0.0f32; COMB_BEATS];
        for (v, &(i, _)) in per_beat.iter_mut().zip(&offsets[..beats]) {
            // The frame at this beat and one either side.
            let centre = phi + i + 1;
            *v = (centre.saturating_sub(1)..=centre + 1)
                .filter(|&j| j < len)
                .map(|j| self.hits[len - 1 - j][Cue::KickPower as usize])
                .fold(0.0, f32::max);
        }
        let heard = &per_beat[1..beats];
        let most = heard.iter().copied().fold(0.0, f32::max);
        most > 0.0 && heard.iter().all(|&v| v >= KICK_ON_EVERY_BEAT * most)
    }

    /// The low band's onsets summed over the phase comb's `offsets` at
    /// phase `phi` (frames back), aligned with the smoothed ODF, which is
    /// centred one frame back.
    fn low_comb(&self, phi: usize, offsets: &[(usize, f32)], cue: Cue) -> f32 {
        let len = self.hits.len();
        let hit = |k: usize| self.hits[len - 1 - k][cue as usize];
        let mut s = 0.0;
        let mut w = 1.0;
        for &(i, f) in offsets {
            let j = phi + i + 1;
            if j + 1 < len {
                s += w * (hit(j) * (1.0 - f) + hit(j + 1) * f);
            }
            w *= COMB_DECAY;
        }
        s
    }

    /// The beat grid is about to take another tempo (call it before the
    /// period changes): the downbeat cues, counted per position of the old
    /// grid, are dropped, and the time of its last downbeat is kept so the
    /// new grid starts its bars there (by time, not by beat count: the
    /// counts of the two grids do not line up).
    fn grid_changed(&mut self) {
        self.anchor_guessed = self.downbeats.guessing();
        self.downbeats.new_grid();
        let bpb = self.downbeats.beats_per_bar as i64;
        // Bars counted on a grid an octave away from the one that set the
        // anchor are half or double bars (a faster grid's "downbeats" fall
        // on 1 or 3, a slower one's every other bar): the anchor's bar line
        // stands. It is moved up by whole bars, timed by the old grid,
        // which followed the music's drift meanwhile.
        if let Some((t, period)) = self.bar_anchor {
            let octaves = (period / self.period).log2();
            if octaves.abs() > 0.5 {
                let beats = (bpb as f64 * period / self.period).round().max(1.0);
                let bar = beats * self.period;
                let bars = ((self.next_beat - t) / bar).floor().max(0.0);
                self.bar_anchor = Some((t + bars * bar, bar / bpb as f64));
                return;
            }
        }
        let back = 1 + (self.next_index - 1 - self.downbeat_index).rem_euclid(bpb);
        self.bar_anchor = Some((self.next_beat - back as f64 * self.period, self.period));
    }

    /// Index of the grid beat nearest to stream time `t`.
    fn beat_index_at(&self, t: f64) -> i64 {
        self.next_index + ((t - self.next_beat) / self.period).round() as i64
    }

    /// Scores beats whose surroundings have now been heard, for the downbeat.
    fn settle_downbeats(&mut self, now: f64) {
        let settle = 0.08;
        let mut i = 0;
        while i < self.n_pending {
            let (t, index) = self.pending[i];
            if now >= t + settle {
                if self.downbeats.beats_seen() < MIN_BEATS {
                    if let Some(k) = self
                        .start_heard
                        .then(|| self.music_start_beat(now))
                        .flatten()
                    {
                        self.downbeats.music_started_at(k, false);
                    } else if let Some((t, _)) = self.bar_anchor {
                        // The bar line carried over a tempo change: as
                        // sure as it was.
                        let k = self.beat_index_at(t);
                        self.downbeats.music_started_at(k, self.anchor_guessed);
                    }
                }
                let hits = self.hits_near(t, now);
                self.downbeats.beat_heard(index, hits, self.manual_downbeat);
                if !self.manual_downbeat {
                    self.downbeat_index = self.downbeats.downbeat_index;
                }
                self.pending.copy_within(i + 1..self.n_pending, i);
                self.n_pending -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// The index of the beat nearest to where the current stretch of music
    /// started: its first frame above a fifth of its strongest, on the
    /// grid extrapolated back. `None` once that frame has left the history.
    fn music_start_beat(&self, now: f64) -> Option<i64> {
        let first = self.frames - self.odf.len() as u64;
        let from = usize::try_from(self.music_frame?.checked_sub(first)?).ok()?;
        let music = self.odf.get(from..)?;
        let max = music.iter().copied().fold(0.0, f32::max);
        let i = music.iter().position(|&v| v >= 0.2 * max)?;
        let rate = f64::from(self.rate);
        // Smoothed frames are centred one frame back.
        let t = now - 1.0 / rate - (music.len() - 1 - i) as f64 / rate;
        Some(self.beat_index_at(t))
    }

    /// The strongest low- and mid-band onsets within 50 ms of stream time `t`.
    fn hits_near(&self, t: f64, now: f64) -> [f32; 2] {
        let rate = f64::from(self.rate);
        let back_centre = (now - t) * rate;
        let half = 0.05 * rate;
        let n = self.hits.len();
        let lo = (back_centre - half).max(0.0) as usize;
        let hi = ((back_centre + half) as usize).min(n.saturating_sub(1));
        (lo..=hi)
            .filter_map(|b| n.checked_sub(1 + b).map(|i| self.hits[i]))
            .fold([0.0; 2], |a, h| [a[0].max(h[0]), a[1].max(h[1])])
    }
}
