//! The bundled demo track, synthesized by code (so the project may ship it):
//! a 124 BPM groove with kick, snare, hats, a bassline and a pad, with a
//! breakdown and a drop so every visual feature gets exercised.
//!
//! `assets/demo.flac` is this function's output; tests call it directly to get
//! a fixed, known input (beats at `60/124 s` intervals from `DEMO_FIRST_BEAT`).

/// Tempo of the demo track.
pub const DEMO_BPM: f64 = 124.0;
/// Time of the first beat, seconds.
pub const DEMO_FIRST_BEAT: f64 = 0.5;

/// Small deterministic PRNG (xorshift32) for noise.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// Which parts play in a section.
#[derive(Clone, Copy)]
struct Parts {
    kick: bool,
    snare: bool,
    hats: bool,
    bass: bool,
    pad: bool,
}

fn parts_at(bar: usize) -> Parts {
    // 16-bar form: intro (hats+pad) 2, groove 6, breakdown (pad) 2, build 2, drop 4.
    match bar % 16 {
        0..=1 => Parts {
            kick: false,
            snare: false,
            hats: true,
            bass: false,
            pad: true,
        },
        2..=7 => Parts {
            kick: true,
            snare: true,
            hats: true,
            bass: true,
            pad: false,
        },
        8..=9 => Parts {
            kick: false,
            snare: false,
            hats: false,
            bass: false,
            pad: true,
        },
        10..=11 => Parts {
            kick: true,
            snare: false,
            hats: true,
            bass: false,
            pad: true,
        },
        _ => Parts {
            kick: true,
            snare: true,
            hats: true,
            bass: true,
            pad: true,
        },
    }
}

/// Synthesizes `seconds` of the demo track at `sample_rate` (mono, peak ~0.9).
pub fn synthesize(seconds: f64, sample_rate: u32) -> Vec<f32> {
    synthesize_with(seconds, sample_rate, parts_at)
}

/// A bar-pattern-free variant for tests: the full groove (kick, snare, hats,
/// bass) from the first beat, at the demo tempo.
pub fn synthesize_groove(seconds: f64, sample_rate: u32) -> Vec<f32> {
    synthesize_with(seconds, sample_rate, |_| Parts {
        kick: true,
        snare: true,
        hats: true,
        bass: true,
        pad: false,
    })
}

fn synthesize_with(seconds: f64, sample_rate: u32, parts: impl Fn(usize) -> Parts) -> Vec<f32> {
    let sr = f64::from(sample_rate);
    let n = (seconds * sr) as usize;
    let beat = 60.0 / DEMO_BPM;
    let mut out = vec![0.0f32; n];
    let mut noise = Noise(0x1234_5678);
    let mut hp_prev_in = 0.0f32;
    let mut hp_prev_out = 0.0f32;
    let mut bass_lp = 0.0f32;
    // A minor-ish progression, bass roots per bar (Hz).
    let roots = [55.0, 55.0, 43.65, 49.0];
    let pad_chords = [
        [220.0, 261.63, 329.63],
        [220.0, 261.63, 329.63],
        [174.61, 220.0, 261.63],
        [196.0, 246.94, 293.66],
    ];
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f64 / sr;
        let tb = t - DEMO_FIRST_BEAT;
        let nz = noise.next();
        if tb < 0.0 {
            continue;
        }
        let beat_idx = (tb / beat).floor() as usize;
        let bar = beat_idx / 4;
        let in_beat = tb - beat_idx as f64 * beat;
        let p = parts(bar);
        let mut s = 0.0f32;
        if p.kick {
            let k = in_beat as f32;
            // Pitch falls from 135 Hz to 45 Hz: the integral of that sweep.
            let phase =
                std::f32::consts::TAU * (45.0 * k + 90.0 / 30.0 * (1.0 - (-k * 30.0).exp()));
            s += 0.9 * phase.sin() * (-k * 9.0).exp();
        }
        if p.snare && beat_idx % 2 == 1 {
            let k = in_beat as f32;
            s += 0.35 * nz * (-k * 22.0).exp()
                + 0.2 * (std::f32::consts::TAU * 190.0 * k).sin() * (-k * 30.0).exp();
        }
        if p.hats {
            // High-passed noise on every eighth.
            let eighth = beat / 2.0;
            let k = (tb - (tb / eighth).floor() * eighth) as f32;
            let hp = 0.95 * (hp_prev_out + nz - hp_prev_in);
            hp_prev_in = nz;
            hp_prev_out = hp;
            s += 0.12 * hp * (-k * 60.0).exp();
        }
        if p.bass {
            let root = roots[bar % 4] as f32;
            let sixteenth = beat / 4.0;
            let step = (tb / sixteenth).floor() as usize % 4;
            let k = (tb - (tb / sixteenth).floor() * sixteenth) as f32;
            let gate = if step == 0 || step == 3 { 1.0 } else { 0.0 };
            let ph = (root * t as f32).fract();
            let saw = 2.0 * ph - 1.0;
            bass_lp += 0.08 * (saw - bass_lp);
            s += 0.28 * bass_lp * gate * (-k * 6.0).exp();
        }
        if p.pad {
            let chord = pad_chords[bar % 4];
            let bar_pos = (tb / (4.0 * beat)).fract() as f32;
            let env = (bar_pos * 8.0).min(1.0) * (1.0 - bar_pos * 0.3);
            let mut pad = 0.0;
            for (j, f) in chord.iter().enumerate() {
                let detune = 1.0 + 0.003 * j as f32;
                pad += (std::f32::consts::TAU * f * detune * t as f32).sin();
            }
            s += 0.06 * env * pad;
        }
        *o = s;
    }
    let peak = out.iter().fold(0.0f32, |m, &x| m.max(x.abs())).max(1e-6);
    let g = 0.9 / peak;
    out.iter_mut().for_each(|x| *x *= g);
    out
}

/// A click track: 5 ms-decay noise-burst clicks at `bpm`, the first at `t0`
/// (mono, `sample_rate`). Returns the samples and the click times: a signal
/// with a known answer for beat and timing tests.
pub fn click_track(bpm: f64, seconds: f64, t0: f64, sample_rate: u32) -> (Vec<f32>, Vec<f64>) {
    let sr = f64::from(sample_rate);
    let n = (seconds * sr) as usize;
    let mut out = vec![0.0f32; n];
    let mut times = Vec::new();
    let mut noise = Noise(7);
    let mut t = t0;
    while t < seconds - 0.05 {
        times.push(t);
        let start = (t * sr) as usize;
        for k in 0..(0.02 * sr) as usize {
            let env = (-(k as f32) / (0.004 * sample_rate as f32)).exp();
            if let Some(s) = out.get_mut(start + k) {
                *s += 0.8 * noise.next() * env;
            }
        }
        t += 60.0 / bpm;
    }
    (out, times)
}

/// What marks the bars of a [`metre_track`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarCue {
    /// Equal clicks on every beat; a chord that changes at each bar line.
    Harmony,
    /// Equal clicks on every beat; a bass note on each downbeat.
    Bass,
}

/// A track in `beats_per_bar` metre at `bpm`, with the bars marked by `cue`
/// only (every beat's click is the same). Returns the samples, the beat
/// times and the downbeat times: known answers for metre and downbeat tests.
pub fn metre_track(
    bpm: f64,
    beats_per_bar: usize,
    seconds: f64,
    cue: BarCue,
    sample_rate: u32,
) -> (Vec<f32>, Vec<f64>, Vec<f64>) {
    let sr = f64::from(sample_rate);
    let (mut out, beats) = click_track(bpm, seconds, 0.5, sample_rate);
    for s in out.iter_mut() {
        *s *= 0.5;
    }
    let period = 60.0 / bpm;
    let downbeats: Vec<f64> = beats
        .iter()
        .step_by(beats_per_bar.max(1))
        .copied()
        .collect();
    // I - IV - V - vi in C (MIDI notes), voiced around middle C.
    let chords: [[f64; 3]; 4] = [
        [60.0, 64.0, 67.0],
        [65.0, 69.0, 72.0],
        [67.0, 71.0, 74.0],
        [69.0, 72.0, 76.0],
    ];
    let hz = |m: f64| 440.0 * 2f64.powf((m - 69.0) / 12.0);
    for (b, &t0) in downbeats.iter().enumerate() {
        let len = period * beats_per_bar as f64;
        let start = (t0 * sr) as usize;
        let n = ((len * sr) as usize).min(out.len().saturating_sub(start));
        for k in 0..n {
            let t = k as f64 / sr;
            let v = match cue {
                BarCue::Harmony => {
                    let env = (t / 0.01).min(1.0) * (1.0 - t / len).max(0.0).powf(0.3);
                    chords[b % 4]
                        .iter()
                        .map(|&m| (std::f64::consts::TAU * hz(m) * t).sin())
                        .sum::<f64>()
                        * 0.08
                        * env
                }
                BarCue::Bass => {
                    let env = (t / 0.005).min(1.0) * (-t / 0.25).exp();
                    (std::f64::consts::TAU * 55.0 * t).sin() * 0.5 * env
                }
            };
            out[start + k] += v as f32;
        }
    }
    (out, beats, downbeats)
}

/// A drum sound for [`pattern_track`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drum {
    /// A pitched-down sine thump.
    Kick,
    /// Noise with a body tone.
    Snare,
    /// Short high-passed noise.
    Hat,
}

/// A drum pattern: `hits` are (position in beats within a bar, drum), the
/// bar `beats_per_bar` beats long, repeated at `bpm` from `t0` to `seconds`.
/// `swing` (0..1/3) delays every off-beat eighth by that fraction of a beat
/// (1/6 is a triplet shuffle). Returns the samples and the beat times.
pub fn pattern_track(
    bpm: f64,
    seconds: f64,
    t0: f64,
    beats_per_bar: usize,
    hits: &[(f64, Drum)],
    swing: f64,
    sample_rate: u32,
) -> (Vec<f32>, Vec<f64>) {
    let sr = f64::from(sample_rate);
    let n = (seconds * sr) as usize;
    let mut out = vec![0.0f32; n];
    let period = 60.0 / bpm;
    let mut noise = Noise(0xBEEF);
    let bar = period * beats_per_bar as f64;
    let mut beats = Vec::new();
    let mut b = t0;
    while b < seconds - 0.05 {
        beats.push(b);
        b += period;
    }
    let mut start = t0;
    while start < seconds {
        for &(pos, drum) in hits {
            let swung = if (pos.fract() - 0.5).abs() < 1e-6 {
                pos + swing
            } else {
                pos
            };
            let t = start + swung * period;
            let i0 = (t * sr) as usize;
            let len = (0.25 * sr) as usize;
            // The hat's noise, high-passed (a second difference): cymbals
            // have little below a few kHz.
            let mut prev = [0.0f64; 2];
            for k in 0..len {
                let Some(o) = out.get_mut(i0 + k) else { break };
                let tt = k as f64 / sr;
                let v = match drum {
                    Drum::Kick => {
                        let f = 50.0 + 90.0 * (-tt / 0.03).exp();
                        (std::f64::consts::TAU * f * tt).sin() * (-tt / 0.15).exp() * 0.9
                    }
                    Drum::Snare => {
                        (0.5 * f64::from(noise.next())
                            + 0.4 * (std::f64::consts::TAU * 185.0 * tt).sin())
                            * (-tt / 0.06).exp()
                            * 0.6
                    }
                    Drum::Hat => {
                        let n = f64::from(noise.next());
                        let high = n - 2.0 * prev[0] + prev[1];
                        prev = [n, prev[0]];
                        high * (-tt / 0.012).exp() * 0.15
                    }
                };
                *o += v as f32;
            }
        }
        start += bar;
    }
    (out, beats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_bounded() {
        let a = synthesize(2.0, 22_050);
        let b = synthesize(2.0, 22_050);
        assert_eq!(a, b);
        assert!(a.iter().all(|x| x.abs() <= 0.9001));
        assert!(a.iter().any(|x| x.abs() > 0.1));
    }
}
