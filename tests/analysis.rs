//! Analysis checks: synthetic signals with known answers, robustness, block
//! size independence, and a regression floor on real annotated clips.

use std::path::PathBuf;

use sonolux::analysis::{Analyzer, EventKind, eval};
use sonolux::audio::{AudioClip, decode_file};
use sonolux::offline::analyze::analyze_clip;
use sonolux::offline::dataset::score_clip;

/// The checkout the tests run in. Read at run time (cargo sets it for each
/// test run): the compile-time value can name another checkout when several
/// share one build cache.
fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

const SR: u32 = 44_100;

/// A click track: 5 ms noise-burst clicks at `bpm`, first at `t0`.
fn clicks(bpm: f64, seconds: f64, t0: f64) -> (Vec<f32>, Vec<f64>) {
    clicks_at(SR, bpm, seconds, t0)
}

/// [`clicks`] at sample rate `sr`.
fn clicks_at(sr: u32, bpm: f64, seconds: f64, t0: f64) -> (Vec<f32>, Vec<f64>) {
    let n = (seconds * f64::from(sr)) as usize;
    let mut out = vec![0.0f32; n];
    let mut times = Vec::new();
    let mut seed = 7u32;
    let mut t = t0;
    while t < seconds - 0.05 {
        times.push(t);
        let start = (t * f64::from(sr)) as usize;
        for k in 0..(0.02 * f64::from(sr)) as usize {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed as f32 / u32::MAX as f32) * 2.0 - 1.0;
            let env = (-(k as f32) / (0.004 * sr as f32)).exp();
            if start + k < n {
                out[start + k] += 0.8 * noise * env;
            }
        }
        t += 60.0 / bpm;
    }
    (out, times)
}

fn clip(samples: Vec<f32>) -> AudioClip {
    AudioClip {
        samples,
        sample_rate: SR,
    }
}

#[test]
fn click_tracks_give_tempo_and_beats() {
    for bpm in [60.0, 90.0, 120.0, 150.0, 170.0, 200.0] {
        let (audio, truth) = clicks(bpm, 20.0, 0.5);
        let res = analyze_clip(&clip(audio), 512, 0.0);
        let (acc1, acc2) = eval::tempo_accuracy(bpm, res.bpm);
        if bpm < 180.0 {
            assert_eq!(acc1, 1.0, "{bpm} BPM clicks: estimated {}", res.bpm);
        } else {
            // An unaccented pulse this fast is felt (and reported) at half
            // tempo: the tempo prior's choice. The beats still land on clicks.
            assert_eq!(acc2, 1.0, "{bpm} BPM clicks: estimated {}", res.bpm);
            let est: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
            let matched = eval::match_events(&truth, &est, 0.03).len();
            assert!(
                matched as f64 >= 0.95 * eval::trim(&est, 0.0).len() as f64 - 3.0,
                "{bpm}: beats off the clicks"
            );
            continue;
        }
        let est: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
        let s = eval::score_beats(&truth, &est, 5.0);
        assert!(s.f > 0.95, "{bpm} BPM: beat F {:.3}", s.f);
        let offset = s.offset.expect("matched beats");
        assert!(
            offset.abs() < 0.02,
            "{bpm} BPM: beats off by {:.1} ms",
            offset * 1e3
        );
        let lock = res.lock_time.expect("locked");
        assert!(lock < 5.0, "{bpm} BPM: locked only at {lock:.2} s");
        // Onsets: every click found, none extra, on time.
        let f = eval::f_measure(&truth, &res.onsets, 0.05);
        assert!(f > 0.98, "{bpm} BPM: onset F {f:.3}");
    }
}

#[test]
fn onset_times_are_when_the_sound_started() {
    // The event time must be the sound's start, the detection later by a
    // small, bounded delay: this is what `detector_delay` promises.
    let (audio, truth) = clicks(100.0, 12.0, 0.3);
    let mut an = Analyzer::new(SR);
    let mut onsets = Vec::new();
    for block in audio.chunks(256) {
        for e in an.process(block) {
            if e.kind == EventKind::Onset {
                onsets.push(*e);
            }
        }
    }
    let times: Vec<f64> = onsets.iter().map(|e| e.time).collect();
    let offset = eval::median_offset(&truth, &times, 0.05).expect("matches");
    assert!(offset.abs() < 0.004, "median offset {:.1} ms", offset * 1e3);
    let latency = onsets[0].detected_at - truth[0];
    assert!(
        latency > 0.0 && latency < 0.02,
        "detection latency {:.1} ms",
        latency * 1e3
    );
}

#[test]
fn silence_gives_no_events_and_no_nan() {
    let mut an = Analyzer::new(SR);
    for _ in 0..200 {
        let events = an.process(&[0.0; 512]);
        assert!(events.is_empty());
    }
    let f = an.frame();
    for v in [
        f.level, f.bass, f.mid, f.treb, f.centroid, f.flux, f.flatness, f.rolloff, f.onset,
    ] {
        assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{v}");
    }
    assert!(f.level < 0.01);
    assert!(f.spectrum.iter().all(|v| v.is_finite()));
}

#[test]
fn sine_sweep_moves_the_centroid_up() {
    let seconds = 6.0;
    let n = (seconds * f64::from(SR)) as usize;
    let (f0, f1) = (100.0f64, 8000.0f64);
    let k = (f1 / f0).ln() / seconds;
    let audio: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SR);
            let phase = std::f64::consts::TAU * f0 * ((k * t).exp() - 1.0) / k;
            (0.5 * phase.sin()) as f32
        })
        .collect();
    let res = analyze_clip(&clip(audio), 512, 0.25);
    let c: Vec<f32> = res.frames.iter().skip(1).map(|f| f.centroid).collect();
    for w in c.windows(2) {
        assert!(w[1] >= w[0] - 1e-3, "centroid fell: {c:?}");
    }
    assert!(c[c.len() - 1] - c[0] > 0.5, "{c:?}");
}

#[test]
fn hostile_input_is_handled() {
    let mut an = Analyzer::new(SR);
    // Empty block, DC offset, clipping, NaN and infinities.
    assert!(an.process(&[]).is_empty());
    an.process(&[0.7; 4096]);
    let square: Vec<f32> = (0..8192)
        .map(|i| if i % 100 < 50 { 5.0 } else { -5.0 })
        .collect();
    an.process(&square);
    an.process(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.0, -1.0]);
    let f = an.frame();
    assert!(f.level.is_finite() && f.centroid.is_finite() && f.rms_db.is_finite());
    // DC alone is not music.
    let mut dc = Analyzer::new(SR);
    let mut events = 0;
    for _ in 0..100 {
        events += dc
            .process(&[0.5; 512])
            .iter()
            .filter(|e| e.kind == EventKind::Onset)
            .count();
    }
    assert!(events <= 1, "{events} onsets from DC");
    // A 0.1 s clip and odd sample rates.
    let short = analyze_clip(&clip(vec![0.1; 4410]), 512, 0.01);
    assert!(short.bpm.is_finite());
    for sr in [8000, 22_050, 48_000, 96_000] {
        let mut a = Analyzer::new(sr);
        a.process(&vec![0.2; sr as usize / 2]);
        assert!(a.frame().level.is_finite());
    }
}

/// Sound cards run at 48 kHz as often as at 44.1: both get the same
/// analysis (a window of the same duration, 23.2 ms: 1024 samples at 44.1
/// kHz, 1120 at 48), so clicks give the same tempo, beats and onsets at
/// either. (Rounding the window up to a power of two once gave 48 kHz twice
/// the window every constant was measured with; the nearest power of two
/// gave it 21.3 ms, and music at 48 kHz scored lower beat F than at 44.1.)
#[test]
fn the_analysis_is_the_same_at_44_1_and_48_khz() {
    use sonolux::analysis::geometry;
    // The window's duration at 44.1 kHz, in ms.
    const WINDOW_44K_MS: f64 = 1e3 * 1024.0 / 44_100.0;
    assert_eq!(geometry(44_100).0, 1024);
    for sr in [
        8000, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000,
    ] {
        let (window, hop) = geometry(sr);
        let ms = |n: usize| 1e3 * n as f64 / f64::from(sr);
        assert!(
            window % 2 == 0 && (ms(window) / WINDOW_44K_MS - 1.0).abs() < 0.04,
            "{sr} Hz: window {window} samples, {} ms",
            ms(window)
        );
        assert!(
            (4.0..=6.0).contains(&ms(hop)),
            "{sr} Hz: hop {} ms",
            ms(hop)
        );
    }
    for bpm in [90.0, 128.0, 150.0] {
        let mut results = Vec::new();
        for sr in [44_100, 48_000] {
            let (audio, truth) = clicks_at(sr, bpm, 20.0, 0.5);
            let res = analyze_clip(
                &AudioClip {
                    samples: audio,
                    sample_rate: sr,
                },
                512,
                0.0,
            );
            let est: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
            let s = eval::score_beats(&truth, &est, 5.0);
            let onsets = eval::f_measure(&truth, &res.onsets, 0.05);
            results.push((res.bpm, s.f, s.offset.unwrap_or(1.0), onsets));
        }
        let [(bpm44, f44, off44, on44), (bpm48, f48, off48, on48)] = results[..] else {
            unreachable!()
        };
        assert!(
            (bpm48 / bpm44 - 1.0).abs() < 0.01,
            "{bpm}: {bpm44} vs {bpm48} BPM"
        );
        assert!(
            f44 > 0.95 && f48 > 0.95,
            "{bpm}: beat F {f44:.3} / {f48:.3}"
        );
        assert!(
            (off48 - off44).abs() < 0.005,
            "{bpm}: beats {:.1} / {:.1} ms off",
            off44 * 1e3,
            off48 * 1e3
        );
        assert!(
            on44 > 0.98 && on48 > 0.98,
            "{bpm}: onset F {on44:.3} / {on48:.3}"
        );
    }
}

#[test]
fn result_does_not_depend_on_block_size() {
    let (audio, _) = clicks(128.0, 8.0, 0.25);
    let groove = sonolux::audio::demo::synthesize_groove(8.0, SR);
    let mixed: Vec<f32> = audio
        .iter()
        .zip(&groove)
        .map(|(a, b)| 0.5 * a + 0.5 * b)
        .collect();
    let run = |block: usize| {
        let mut an = Analyzer::new(SR);
        let mut events = Vec::new();
        let mut frames = Vec::new();
        for chunk in mixed.chunks(block) {
            events.extend_from_slice(an.process(chunk));
            frames.push((an.frame().time, an.frame().bass, an.frame().rhythm));
        }
        (events, *an.frame(), frames)
    };
    let (ref_events, ref_frame, _) = run(512);
    assert!(ref_events.len() > 20);
    for block in [64, 256, 1024, 1000, 333, 1] {
        let (events, frame, _) = run(block);
        assert_eq!(events, ref_events, "block {block}");
        assert_eq!(frame.time, ref_frame.time);
        assert_eq!(frame.bass, ref_frame.bass);
        assert_eq!(frame.rhythm, ref_frame.rhythm);
        assert_eq!(frame.spectrum, ref_frame.spectrum);
    }
}

fn data(id: &str) -> std::path::PathBuf {
    repo().join("tests/data").join(id)
}

/// Floors a little below the measured scores (see the analysis issue note):
/// quality cannot silently drop.
#[test]
fn regression_on_annotated_clips() {
    // (clip, onset F floor, beat F floor, tempo must be right)
    let cases = [
        ("mdb_rock_mix", 0.78, 0.90, true),
        ("mdb_grunge_drums", 0.96, 0.97, true),
        ("mdb_punk_mix", 0.69, 0.94, true),
        // Its references leave out hat-like hits that the other clips'
        // references mark. Since hats count as broadband within the high
        // register (`onset::HIGH_REGISTER_HZ`), 17 of the 23 detections it
        // gains are unmarked; at 11 of them 6-16 kHz rises by 7-17 dB and
        // nothing below 2 kHz rises (a hat's spectrum). Onset F .707 ->
        // .660; the floor was .70.
        ("stretch_country1_140", 0.64, 0.97, true),
        ("synth_gmd_funk138", 0.72, 0.96, true),
        // 14 of its 15 onsets found, with one extra detection (a faint
        // high-register flicker) since the high register counts: .966 -> .933.
        ("madmom_sample", 0.93, 0.60, true),
        // A riff with a dotted figure: read at two thirds of its tempo
        // (85 BPM, beat F .31) before the tempo comb counted the bar. Since
        // the low register counts, it finds 8 of its hits fewer and 2 more
        // (onset F .826 -> .787, .770 with the kick's rise over 3 hops),
        // most likely because its riff's bass lifts the picker's threshold.
        ("stretch_zeppelin_128", 0.76, 0.75, true),
        // Drums whose backbeat check halved them without the leak removal
        // and doubled them back with it, eleven times in 20 s (beat F .84)
        // before a move back settled the octave.
        ("stretch_grunge_180", 0.93, 0.96, true),
    ];
    let mut downbeat_f = Vec::new();
    for (id, onset_floor, beat_floor, tempo) in cases {
        let path = data(&format!("{id}.flac"));
        let clip = decode_file(&path).expect("test clip");
        let res = analyze_clip(&clip, 512, 0.0);
        // Beats come in order, never two within half a beat at the
        // fastest tempo (a stutter flashes twice).
        let half_beat = 0.5 * 60.0 / f64::from(sonolux::analysis::tempo::MAX_BPM);
        if let Some(w) = res.beats.windows(2).find(|w| w[1].0 - w[0].0 < half_beat) {
            panic!("{id}: beats at {:.3} and {:.3}", w[0].0, w[1].0);
        }
        // Scored as `sonolux eval` scores it (beats and downbeats after 5 s).
        let score = score_clip(&path, clip.duration(), &res);
        let of = score.onset_f.expect("onsets");
        assert!(of >= onset_floor, "{id}: onset F {of:.3} < {onset_floor}");
        let bf = score.beats.expect("beats").f;
        assert!(bf >= beat_floor, "{id}: beat F {bf:.3} < {beat_floor}");
        downbeat_f.push((id, score.downbeat_f.expect("bar positions")));
        if tempo {
            let (acc1, _) = score.tempo.expect("bpm");
            assert_eq!(acc1, 1.0, "{id}: {} vs {:?}", res.bpm, score.bpm.1);
        }
    }
    // Count the clips that find the bar: 7 of 8 do (2 of 6 did before the
    // two-question downbeat tracker, 4 before the music's start counted;
    // madmom_sample's beats are half a beat off); and their mean downbeat
    // F: .81 (.73 before a move of the bar line had to win a whole bar,
    // .77 before the metre floor and the backbeat check).
    let found = downbeat_f.iter().filter(|d| d.1 >= 0.5).count();
    let mean = downbeat_f.iter().map(|d| d.1).sum::<f64>() / downbeat_f.len() as f64;
    eprintln!("downbeat F {downbeat_f:.2?}, mean {mean:.3}");
    assert!(
        found >= 7 && mean >= 0.8,
        "{found} of 8 clips find the downbeat, mean downbeat F {mean:.3}: {downbeat_f:.2?}"
    );
}

/// Hard rock stretched to 78 BPM: its eighths correlate more strongly than
/// its beat, and it was read at double (154 BPM, beat F .61) until the
/// backbeat check correlated the drums' rise over 30 ms, where a time
/// stretcher's smeared attacks show (`BeatTracker::push`).
#[test]
fn slow_stretched_rock_is_not_read_at_double() {
    let path = data("stretch_zeppelin_78.flac");
    let clip = decode_file(&path).expect("test clip");
    let res = analyze_clip(&clip, 512, 0.0);
    let score = score_clip(&path, clip.duration(), &res);
    let (acc1, _) = score.tempo.expect("bpm");
    let bf = score.beats.expect("beats").f;
    assert!(
        acc1 == 1.0 && bf >= 0.67,
        "{:.1} BPM (ref {:?}), beat F {bf:.3}",
        res.bpm,
        score.bpm.1
    );
}

/// A line input set 20 dB too low gives the same tempo and beats: the
/// onset strength's log compression is nearly linear for quiet input, so
/// before quiet input was lifted the country song was read at 70 BPM
/// (beat F .78) and the funk lost the beat for a while (.80).
#[test]
fn input_20_db_down_gives_the_same_tempo_and_beats() {
    for id in [
        "mdb_rock_mix",
        "mdb_grunge_drums",
        "stretch_country1_140",
        "synth_gmd_funk138",
    ] {
        let path = data(&format!("{id}.flac"));
        let clip = decode_file(&path).expect("test clip");
        let quiet = AudioClip {
            samples: clip.samples.iter().map(|s| s * 0.1).collect(),
            sample_rate: clip.sample_rate,
        };
        let score = |c: &AudioClip| {
            let res = analyze_clip(c, 512, 0.0);
            let s = score_clip(&path, c.duration(), &res);
            (s.beats.expect("beats").f, s.tempo.expect("bpm").0, res.bpm)
        };
        let (f0, _, bpm0) = score(&clip);
        let (f, acc1, bpm) = score(&quiet);
        assert!(
            acc1 == 1.0 && f >= 0.9 && f >= f0 - 0.03,
            "{id} at -20 dB: beat F {f:.3} at {bpm:.1} BPM (at full level {f0:.3} at {bpm0:.1})"
        );
    }
}

/// Real instrument samples (General MIDI, `scripts/gm-set`): the bright
/// chord between the beats must not pull the clock off the soft bass note on
/// them (an oom-pah's accordion; a ska guitar's skank, the loudest hit of
/// the bar, on every off-beat), and a waltz is in three.
#[test]
fn oom_pah_ska_and_a_waltz_with_real_instruments() {
    // (clip, beats per bar, beat F floor, downbeat F floor)
    for (id, bpb, beat_floor, downbeat_floor) in [
        // The oom-pahs' downbeat floors sit under what they measure (.27
        // and .78): their bar line still lands on 3 for stretches, the
        // downbeat tracker's 1-against-3 weakness (see its module docs).
        ("gm_oompah_120", 4, 0.95, 0.2),
        // The accordion's chords between the tuba's notes fill the snare
        // band: read as the backbeat, they halved this one at 10 s (beat F
        // .63) until the backbeat's snare had to rise in its rattle too.
        ("gm_oompah_140", 4, 0.95, 0.7),
        ("gm_waltz_126", 3, 0.95, 0.9),
        // Locked half a beat off from the start (beat F 0) until the low
        // band's comb was consulted where it and the whole comb disagree
        // by half a beat (`OFFBEAT_TRAP_RATIO`).
        ("gm_ska_160", 4, 0.95, 0.9),
    ] {
        let path = data(&format!("{id}.flac"));
        let clip = decode_file(&path).expect("test clip");
        let res = analyze_clip(&clip, 512, 0.0);
        let score = score_clip(&path, clip.duration(), &res);
        let bf = score.beats.expect("beats").f;
        assert!(bf >= beat_floor, "{id}: beat F {bf:.3} < {beat_floor}");
        let df = score.downbeat_f.expect("bar positions");
        assert!(df >= downbeat_floor, "{id}: downbeat F {df:.3}");
        let longest = res.beats.iter().filter(|b| b.0 > 8.0).map(|b| b.1).max();
        assert_eq!(longest, Some(bpb), "{id}: bars of {longest:?} beats");
    }
}

/// `samples` as a microphone in a room hears them (the recipe of
/// `scripts/room-set`, without its band limits and crowd noise): the direct
/// sound, four early reflections and a diffuse tail of noise (from `seed`)
/// that decays by 60 dB in `rt60` seconds, `drr_db` below the direct sound
/// in energy. Convolved by FFT.
fn in_a_room(samples: &[f32], sr: u32, rt60: f32, drr_db: f32, seed: u64) -> Vec<f32> {
    let n_ir = (sr as f32 * rt60 * 1.2) as usize;
    let a = (10f32.powf(-drr_db / 10.0) * 13.8 / (sr as f32 * rt60)).sqrt();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut gauss = move || {
        // A sum of four uniforms: near enough Gaussian for a diffuse tail.
        (0..4)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .sum::<f32>()
            * 3f32.sqrt()
    };
    let mut ir: Vec<f32> = (0..n_ir)
        .map(|i| {
            let t = i as f32 / sr as f32;
            a * gauss() * (-6.9 * t / rt60).exp() * (t / 0.005).min(1.0)
        })
        .collect();
    ir[0] = 1.0;
    for (delay, gain) in [(0.011, 0.5), (0.017, 0.4), (0.023, 0.35), (0.031, 0.3)] {
        ir[(delay * sr as f32) as usize] += gain;
    }
    let len = (samples.len() + n_ir).next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let (fwd, inv) = (planner.plan_fft_forward(len), planner.plan_fft_inverse(len));
    let spectrum = |x: &[f32]| {
        let mut buf = vec![0.0; len];
        buf[..x.len()].copy_from_slice(x);
        let mut out = fwd.make_output_vec();
        fwd.process(&mut buf, &mut out).expect("fft");
        out
    };
    let (x, h) = (spectrum(samples), spectrum(&ir));
    let mut product: Vec<_> = x.iter().zip(&h).map(|(a, b)| a * b).collect();
    let mut y = vec![0.0; len];
    inv.process(&mut product, &mut y).expect("ifft");
    y.truncate(samples.len());
    let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-9);
    y.iter().map(|v| 0.5 * v / peak).collect()
}

/// A punk mix as microphones in reverberant rooms hear it (1.2 and 1.6 s
/// of reverberation, its tail 6-8 dB louder than the direct sound; six
/// rooms of each kind): the hits' rise over 10 ms barely shows the pulse,
/// and the tempo was read wrong (100-137 BPM for 150) in 6 of these 12
/// rooms until it could be read from their rise over 30 ms where that
/// shows the pulse more clearly (`onset::SLOW_RISE_HOPS`); now in 1. The
/// clock locked on and off the beat by turns (mean beat F .36; .39 with the
/// tempo right) until the phase comb counted that rise too while the tempo
/// reads it (`beat`'s `SLOW_COMB_WEIGHT`): .60, from .37 to .87.
#[test]
fn a_mix_heard_in_a_reverberant_room_keeps_its_tempo() {
    let path = data("mdb_punk_mix.flac");
    let dry = decode_file(&path).expect("test clip");
    let mut read = Vec::new();
    for (rt60, drr_db) in [(1.2, -6.0), (1.6, -8.0)] {
        for seed in 1..=6 {
            let room = AudioClip {
                samples: in_a_room(&dry.samples, dry.sample_rate, rt60, drr_db, seed),
                sample_rate: dry.sample_rate,
            };
            let res = analyze_clip(&room, 512, 0.0);
            let score = score_clip(&path, room.duration(), &res);
            let (acc1, _) = score.tempo.expect("bpm");
            let bf = score.beats.expect("beats").f;
            read.push((rt60, seed, res.bpm, acc1, bf));
        }
    }
    let right = read.iter().filter(|r| r.3 == 1.0).count();
    assert!(right >= 11, "tempo right in {right} of 12 rooms: {read:?}");
    let mean_f = read.iter().map(|r| r.4).sum::<f64>() / read.len() as f64;
    assert!(mean_f >= 0.5, "mean beat F {mean_f:.3}: {read:?}");
}

#[test]
fn unreadable_and_truncated_audio_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("sonolux-audio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let text = dir.join("notes.wav");
    std::fs::write(&text, "this is not audio").expect("write");
    let e = decode_file(&text).expect_err("not audio").to_string();
    assert!(
        e.contains("notes.wav") && e.contains("not a supported audio file"),
        "{e}"
    );
    let missing = decode_file(&dir.join("missing.flac"))
        .expect_err("missing")
        .to_string();
    assert!(
        missing.contains("missing.flac") && missing.contains("cannot open"),
        "{missing}"
    );
    // Truncated files: keep what decodes or fail cleanly, never panic.
    let bytes = std::fs::read(data("mdb_rock_mix.flac")).expect("clip");
    for cut in [100usize, 5000, bytes.len() / 2] {
        let p = dir.join(format!("cut{cut}.flac"));
        std::fs::write(&p, &bytes[..cut]).expect("write");
        match decode_file(&p) {
            Ok(c) => assert!(c.duration() < 13.5 && !c.samples.is_empty()),
            Err(e) => assert!(e.to_string().contains(&format!("cut{cut}.flac")), "{e}"),
        }
    }
    // A file cut after 20 KB says so, with where it ended.
    let p = dir.join("cut20k.flac");
    std::fs::write(&p, &bytes[..20_000]).expect("write");
    let d = sonolux::audio::decode_file_report(&p).expect("the start decodes");
    let early = d.ended_early.expect("reported as ended early");
    assert!((early.decoded_s - d.clip.duration()).abs() < 1e-9);
    assert!(
        early.declared_s > 10.0 && early.decoded_s < 2.0,
        "{early:?}"
    );
    let whole = sonolux::audio::decode_file_report(&data("mdb_rock_mix.flac")).expect("clip");
    assert_eq!(whole.ended_early, None, "a whole file is not reported");
}

/// Counts heap allocations made by the current thread while armed.
mod alloc_guard {
    #![allow(unsafe_code)]
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};

    pub struct Counting;
    pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        pub static ARMED: Cell<bool> = const { Cell::new(false) };
    }

    fn note() {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
    }

    // SAFETY: forwards every call to the system allocator unchanged; only
    // counts (an atomic add) on the side.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note();
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note();
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note();
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static GLOBAL: alloc_guard::Counting = alloc_guard::Counting;

#[test]
fn steady_state_analysis_does_not_allocate() {
    use std::sync::atomic::Ordering;
    let audio = sonolux::audio::demo::synthesize(20.0, SR);
    let mut an = Analyzer::new(SR);
    // Warm up: tempo history, beat clock and event list reach their sizes.
    let (warm, run) = audio.split_at(12 * SR as usize);
    for block in warm.chunks(512) {
        an.process(block);
    }
    // The guard itself sees allocations.
    alloc_guard::ARMED.with(|a| a.set(true));
    let probe = std::hint::black_box(vec![1u8; 64]);
    alloc_guard::ARMED.with(|a| a.set(false));
    drop(probe);
    assert!(alloc_guard::ALLOCATIONS.load(Ordering::Relaxed) > 0);
    let before = alloc_guard::ALLOCATIONS.load(Ordering::Relaxed);
    alloc_guard::ARMED.with(|a| a.set(true));
    let mut events = 0;
    for block in run.chunks(512) {
        events += an.process(block).len();
    }
    alloc_guard::ARMED.with(|a| a.set(false));
    let allocations = alloc_guard::ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(events > 10, "the guarded stretch should produce events");
    assert_eq!(
        allocations, 0,
        "the per-block analysis allocated {allocations} times"
    );
}

#[test]
fn manual_overrides_steer_the_beat_clock() {
    use sonolux::analysis::BeatOverride;
    let mut an = Analyzer::new(SR);
    an.process(&vec![0.0; SR as usize]);
    // Tap tempo: four taps 0.6 s apart = 100 BPM, phase from the last tap.
    for k in 0..4 {
        an.override_beat(BeatOverride::Tap(0.2 + 0.6 * f64::from(k)));
    }
    let r = an.frame().rhythm;
    assert!((r.bpm - 100.0).abs() < 0.5, "{}", r.bpm);
    assert!((r.next_beat - 2.6).abs() < 1e-6, "{}", r.next_beat);
    // Nudge moves the grid.
    an.override_beat(BeatOverride::Nudge(0.01));
    assert!((an.frame().rhythm.next_beat - 2.61).abs() < 1e-6);
    // Resync: the beat nearest to t becomes a downbeat.
    let before = an.frame().rhythm;
    an.override_beat(BeatOverride::Resync(before.next_beat + 2.0 * 0.6));
    let after = an.frame().rhythm;
    assert_eq!(after.downbeat_index, before.next_index + 2);
    // Fixed tempo holds against the music; Auto releases it.
    an.override_beat(BeatOverride::FixedBpm(140.0));
    let (audio, _) = clicks(90.0, 8.0, 0.1);
    an.process(&audio);
    assert!((an.frame().rhythm.bpm - 140.0).abs() < 0.01);
    an.override_beat(BeatOverride::Auto);
    let (audio, _) = clicks(90.0, 10.0, 0.1);
    an.process(&audio);
    assert!(
        (an.frame().rhythm.bpm - 90.0).abs() < 2.0,
        "{}",
        an.frame().rhythm.bpm
    );
    // A tapped tempo runs on in silence (the VJ is the clock then, tapping
    // to a stage whose sound does not reach the input), past the two bars
    // of silence after which a clock of the music's own rests.
    let mut an = Analyzer::new(SR);
    an.process(&vec![0.0; SR as usize]);
    for k in 0..4 {
        an.override_beat(BeatOverride::Tap(0.2 + 0.6 * f64::from(k)));
    }
    let silence = vec![0.0; 8 * SR as usize];
    let beats = beats_between(&mut an, &silence, 0.0, 8.0);
    assert!(
        // 2.6, 3.2, ... 8.6 s: every beat up to the stream's 9 s.
        beats.len() == 11 && an.frame().rhythm.confidence > 0.0,
        "{} beats in 8 s of silence at a tapped 100 BPM (11 due), confidence {}",
        beats.len(),
        an.frame().rhythm.confidence
    );
}

/// Feeds `audio[from..to]` (seconds) and returns the beats emitted.
fn beats_between(an: &mut Analyzer, audio: &[f32], from: f64, to: f64) -> Vec<f64> {
    let (a, b) = (
        (from * f64::from(SR)) as usize,
        (to * f64::from(SR)) as usize,
    );
    let mut beats = Vec::new();
    for block in audio[a..b.min(audio.len())].chunks(512) {
        for e in an.process(block) {
            if matches!(e.kind, EventKind::Beat { .. }) {
                beats.push(e.time);
            }
        }
    }
    beats
}

#[test]
fn the_vj_moves_the_clock_to_double_or_half_tempo_and_it_stays() {
    use sonolux::analysis::BeatOverride;
    let (audio, clicks_at) = clicks(140.0, 44.0, 0.3);
    let on_a_click = |t: f64| clicks_at.iter().any(|&c| (c - t).abs() < 0.07);
    let mut an = Analyzer::new(SR);
    beats_between(&mut an, &audio, 0.0, 10.0);
    let bpm = an.frame().rhythm.bpm;
    assert!(
        (bpm / 140.0 - 1.0).abs() < 0.04,
        "read {bpm:.1} before any override"
    );

    // "/2": the clock runs at 70 at once, and the analysis stays there
    // although every click says 140.
    an.override_beat(BeatOverride::Octave(0.5));
    let r = an.frame().rhythm;
    assert!((r.bpm / 70.0 - 1.0).abs() < 0.04, "{}", r.bpm);
    assert!(r.tempo_hint.is_some_and(|h| (h / 70.0 - 1.0).abs() < 0.04));
    let half = beats_between(&mut an, &audio, 10.0, 26.0);
    let bpm = an.frame().rhythm.bpm;
    assert!((bpm / 70.0 - 1.0).abs() < 0.04, "drifted back to {bpm:.1}");
    let settled: Vec<f64> = half.into_iter().filter(|&t| t > 13.0).collect();
    let expected = (26.0 - 13.0) * 70.0 / 60.0;
    assert!(
        (settled.len() as f64 - expected).abs() <= 2.0,
        "{} beats from 13 to 26 s at 70 BPM, expected about {expected:.0}",
        settled.len()
    );
    let on = settled.iter().filter(|&&t| on_a_click(t)).count();
    assert!(
        on + 1 >= settled.len(),
        "{on} of {} beats on a click",
        settled.len()
    );

    // "x2": back to every click.
    an.override_beat(BeatOverride::Octave(2.0));
    let double = beats_between(&mut an, &audio, 26.0, 34.0);
    let bpm = an.frame().rhythm.bpm;
    assert!((bpm / 140.0 - 1.0).abs() < 0.04, "{bpm:.1}");
    let settled: Vec<f64> = double.into_iter().filter(|&t| t > 28.0).collect();
    let on = settled.iter().filter(|&&t| on_a_click(t)).count();
    assert!(
        settled.len() >= 12 && on + 1 >= settled.len(),
        "{on} of {} beats on a click after x2",
        settled.len()
    );

    // Auto frees the level: held at 70 again, then released, the analysis
    // goes back to the level it picks itself.
    an.override_beat(BeatOverride::Octave(0.5));
    beats_between(&mut an, &audio, 34.0, 36.0);
    an.override_beat(BeatOverride::Auto);
    assert_eq!(an.frame().rhythm.tempo_hint, None);
    beats_between(&mut an, &audio, 36.0, 44.0);
    let bpm = an.frame().rhythm.bpm;
    assert!(
        (bpm / 140.0 - 1.0).abs() < 0.04,
        "Auto left the clock at {bpm:.1}"
    );
}

#[test]
fn a_held_octave_still_follows_a_tempo_change() {
    use sonolux::analysis::BeatOverride;
    // 140 BPM clicks for 12 s, then 150 BPM: held at half, the clock goes
    // from 70 to 75.
    let (mut audio, _) = clicks(140.0, 12.0, 0.3);
    let (faster, _) = clicks(150.0, 20.0, 0.2);
    audio.extend_from_slice(&faster);
    let mut an = Analyzer::new(SR);
    beats_between(&mut an, &audio, 0.0, 10.0);
    an.override_beat(BeatOverride::Octave(0.5));
    beats_between(&mut an, &audio, 10.0, 32.0);
    let r = an.frame().rhythm;
    assert!(
        (r.bpm / 75.0 - 1.0).abs() < 0.04,
        "held at half of 140, then the music went to 150: clock at {:.1}",
        r.bpm
    );
    assert!(r.tempo_hint.is_some(), "the hold was kept");
}

#[test]
fn eval_simulates_a_vj_who_fixes_the_octave() {
    use sonolux::offline::dataset::evaluate_dir;
    // Clicks at 140 BPM annotated as a 70 BPM song (every other click a
    // beat): the analysis reads 140, the annotation's listener hears 70.
    let dir = std::env::temp_dir().join(format!("sonolux-vj-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (audio, clicks_at) = clicks(140.0, 30.0, 0.3);
    sonolux::audio::decode::write_wav(&dir.join("half.wav"), &audio, SR).expect("wav");
    let beats: String = clicks_at
        .iter()
        .step_by(2)
        .map(|t| format!("{t:.4}\n"))
        .collect();
    std::fs::write(dir.join("half.beats"), beats).expect("beats");
    std::fs::write(dir.join("half.bpm"), "70\n").expect("bpm");
    let alone = evaluate_dir(&dir, None, 512, None, false).expect("eval");
    let helped = evaluate_dir(&dir, None, 512, Some(8.0), false).expect("eval");
    let _ = std::fs::remove_dir_all(&dir);
    let (a, h) = (&alone[0], &helped[0]);
    assert_eq!(a.tempo.map(|t| t.0), Some(0.0), "read {:?} alone", a.bpm);
    assert_eq!(h.tempo.map(|t| t.0), Some(1.0), "read {:?} with /2", h.bpm);
    let (fa, fh) = (a.beats.expect("beats").f, h.beats.expect("beats").f);
    assert!(
        fh > 0.85 && fh > fa + 0.1,
        "beat F {fa:.2} alone, {fh:.2} with /2"
    );
}

#[test]
fn metre_and_downbeats_from_harmony_or_bass_alone() {
    use sonolux::audio::demo::{BarCue, metre_track};
    for (bpb, cue) in [
        (4, BarCue::Harmony),
        (4, BarCue::Bass),
        (3, BarCue::Harmony),
        (3, BarCue::Bass),
    ] {
        let (audio, _, downbeats) = metre_track(120.0, bpb, 30.0, cue, SR);
        let res = analyze_clip(&clip(audio), 512, 0.0);
        let est: Vec<f64> = res
            .beats
            .iter()
            .filter(|b| b.1 == 1)
            .map(|b| b.0)
            .filter(|&t| t > 12.0)
            .collect();
        let truth: Vec<f64> = downbeats.iter().copied().filter(|&t| t > 12.0).collect();
        let f = eval::f_measure(&truth, &est, 0.07);
        let bars: Vec<u32> = res
            .beats
            .iter()
            .filter(|b| b.0 > 12.0)
            .map(|b| b.1)
            .collect();
        assert!(
            f > 0.9,
            "{bpb}/4 marked by {cue:?}: downbeat F {f:.2}; bar positions after 12 s {bars:?}"
        );
    }
}

/// Tempo within 4 %, beat F after `from` s, and when the clock first ran.
fn judge(audio: Vec<f32>, truth: &[f64], from: f64) -> (f64, f64, Option<f64>) {
    let res = analyze_clip(&clip(audio), 512, 0.0);
    let est: Vec<f64> = res
        .beats
        .iter()
        .map(|b| b.0)
        .filter(|&t| t >= from)
        .collect();
    let truth: Vec<f64> = truth.iter().copied().filter(|&t| t >= from).collect();
    (res.bpm, eval::f_measure(&truth, &est, 0.07), res.lock_time)
}

/// Beat F of `beats` (time, bar position) against the beats `truth`, both
/// taken from `from` to `to` (exclusive).
fn beat_f(beats: &[(f64, u32)], truth: &[f64], from: f64, to: f64) -> f64 {
    let within = |t: f64| t >= from && t < to;
    let est: Vec<f64> = beats.iter().map(|b| b.0).filter(|&t| within(t)).collect();
    let truth: Vec<f64> = truth.iter().copied().filter(|&t| within(t)).collect();
    eval::f_measure(&truth, &est, 0.07)
}

/// Downbeat F of `beats` (time, bar position) against the downbeats
/// `truth`, both taken from `from` to `to` (inclusive), and the bar
/// positions heard there, for the failure message.
fn downbeat_f(beats: &[(f64, u32)], truth: &[f64], from: f64, to: f64) -> (f64, Vec<u32>) {
    let within = |t: f64| t >= from && t <= to;
    let truth: Vec<f64> = truth.iter().copied().filter(|&t| within(t)).collect();
    let est: Vec<f64> = beats
        .iter()
        .filter(|b| b.1 == 1 && within(b.0))
        .map(|b| b.0)
        .collect();
    let bars = beats.iter().filter(|b| within(b.0)).map(|b| b.1).collect();
    (eval::f_measure(&truth, &est, 0.07), bars)
}

/// `first` (samples and beat times) followed straight on by `second`,
/// `at` seconds long: one track and its beats.
fn spliced(
    first: (Vec<f32>, Vec<f64>),
    second: (Vec<f32>, Vec<f64>),
    at: f64,
) -> (Vec<f32>, Vec<f64>) {
    let (mut audio, mut beats) = first;
    audio.extend_from_slice(&second.0);
    beats.extend(second.1.iter().map(|t| t + at));
    (audio, beats)
}

/// Beats after `from` s that follow the one before by less than 3/4 of a
/// beat at `bpm`: the clock counted eighths.
fn eighths_counted(beats: &[(f64, u32)], from: f64, bpm: f64) -> usize {
    beats
        .windows(2)
        .filter(|w| w[0].0 > from && w[1].0 - w[0].0 < 0.75 * 60.0 / bpm)
        .count()
}

/// A 4/4 drum pattern with a hat on every eighth added.
fn with_eighth_hats(
    hits: &[(f64, sonolux::audio::demo::Drum)],
) -> Vec<(f64, sonolux::audio::demo::Drum)> {
    let hats = (0..8).map(|k| (f64::from(k) * 0.5, sonolux::audio::demo::Drum::Hat));
    hits.iter().copied().chain(hats).collect()
}

/// Kick on 1 and 3, snare on 2 and 4, a hat on every eighth.
fn rock_beat() -> Vec<(f64, sonolux::audio::demo::Drum)> {
    use sonolux::audio::demo::Drum::{Kick, Snare};
    with_eighth_hats(&[(0.0, Kick), (1.0, Snare), (2.0, Kick), (3.0, Snare)])
}

#[test]
fn synthetic_patterns_with_known_answers() {
    use Drum::{Hat, Kick};
    use sonolux::audio::demo::{Drum, pattern_track};
    let rock = &rock_beat();
    type Pattern<'a> = &'a [(f64, Drum)];
    let cases: [(&str, f64, Pattern, f64); 4] = [
        ("rock beat", 110.0, rock, 0.0),
        ("shuffle (triplet swing)", 96.0, rock, 1.0 / 6.0),
        (
            "kick only",
            100.0,
            &[(0.0, Kick), (1.0, Kick), (2.0, Kick), (3.0, Kick)],
            0.0,
        ),
        (
            "hats only",
            128.0,
            &[(0.0, Hat), (1.0, Hat), (2.0, Hat), (3.0, Hat)],
            0.0,
        ),
    ];
    for (name, bpm, hits, swing) in cases {
        let (audio, truth) = pattern_track(bpm, 30.0, 0.5, 4, hits, swing, SR);
        // Bars start where the music did (every fourth beat from the first):
        // the cues tell 1 and 3 from 2 and 4 at most, the start the rest.
        let res = analyze_clip(&clip(audio.clone()), 512, 0.0);
        let downbeats: Vec<f64> = truth.iter().step_by(4).copied().collect();
        let (df, bars) = downbeat_f(&res.beats, &downbeats, 8.0, 29.0);
        assert!(
            df > 0.9,
            "{name}: downbeat F {df:.2}, bar positions {bars:?}"
        );
        let (est, f, lock) = judge(audio, &truth, 8.0);
        assert_eq!(
            eval::tempo_accuracy(bpm, est).0,
            1.0,
            "{name}: {est:.1} BPM, not {bpm}"
        );
        assert!(f > 0.9, "{name}: beat F {f:.2}");
        let lock = lock.expect("locked");
        assert!(lock < 5.0, "{name}: locked at {lock:.2} s");
    }
}

#[test]
fn silence_then_music_and_a_tempo_change() {
    use sonolux::audio::demo::{Drum, pattern_track};
    let groove = [
        (0.0, Drum::Kick),
        (1.0, Drum::Snare),
        (2.0, Drum::Kick),
        (3.0, Drum::Snare),
    ];
    // 10 s of silence, then music: no beats in the silence, locked soon after.
    let (audio, truth) = pattern_track(120.0, 30.0, 10.0, 4, &groove, 0.0, SR);
    let res = analyze_clip(&clip(audio.clone()), 512, 0.0);
    assert!(
        res.beats.iter().all(|b| b.0 > 9.9),
        "beats in the silence: {:?}",
        &res.beats[..res.beats.len().min(4)]
    );
    let lock = res.lock_time.expect("locked");
    assert!(
        lock > 10.0 && lock < 14.0,
        "locked at {lock:.2} s (music from 10 s)"
    );
    let (_, f, _) = judge(audio, &truth, 15.0);
    assert!(f > 0.9, "after silence: beat F {f:.2}");
    // 120 BPM, then 140 BPM from 20 s: the clock follows within a few seconds.
    let (a, truth) = spliced(
        pattern_track(120.0, 20.0, 0.5, 4, &groove, 0.0, SR),
        pattern_track(140.0, 20.0, 0.0, 4, &groove, 0.0, SR),
        20.0,
    );
    let res = analyze_clip(&clip(a.clone()), 512, 0.0);
    let (est, f, _) = judge(a, &truth, 27.0);
    assert_eq!(
        eval::tempo_accuracy(140.0, est).0,
        1.0,
        "after the change: {est:.1} BPM ({})",
        res.bpm
    );
    assert!(f > 0.85, "after the change: beat F {f:.2}");
    // Locked again: from some beat on, every beat emitted lands within
    // 70 ms of a real one and no real one is missed. The tempo estimator's
    // change check reads the new tempo from the last 3 s alone (5.5 s
    // before it, when the 8 s window had to hold more of the new tempo
    // than of the old).
    let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let relock = relock_time(&beats, &truth, 20.0).map(|t| t - 20.0);
    assert!(
        relock.is_some_and(|t| t < 4.0),
        "locked again {relock:?} s after the change"
    );
}

#[test]
fn a_cut_to_another_tempo_is_locked_again_within_seconds() {
    // A DJ's cut with no gap, to a tempo that is no octave of the old one
    // (some are its metrical relatives: 3/2, 4/3, 3/4, whose tempo a
    // backbeat-held octave damps), and two pitch-rides of 5-6 %. Before
    // the change check: 4.9-5.8 s, 11.3 s (100 -> 75), 11.5 s (150 -> 100)
    // and never within 16 s (90 -> 120); now 3.0-3.3 s, and 3.3-4.5 s for
    // the rides.
    let mut report = Vec::new();
    let mut late = false;
    for (from, to, within) in [
        (120.0, 140.0, 4.0),
        (120.0, 150.0, 4.0),
        (150.0, 100.0, 4.0),
        (96.0, 128.0, 4.0),
        (100.0, 75.0, 4.0),
        (90.0, 120.0, 4.0),
        (128.0, 122.0, 5.0),
        (128.0, 136.0, 5.0),
    ] {
        let (beats, truth) = beats_across_a_cut(from, to);
        let relock = relock_time(&beats, &truth, 20.0).map(|t| t - 20.0);
        late |= !relock.is_some_and(|t| t < within);
        report.push(format!(
            "{from} -> {to} BPM: locked again {relock:.2?} s after the cut (bound {within} s)"
        ));
    }
    assert!(!late, "{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
}

/// A rock beat at `from` BPM for 20 s, then straight into `to` BPM (its
/// first beat 0.17 s after the cut) for 16 s: the beats the analysis
/// emits, and the true ones.
fn beats_across_a_cut(from: f64, to: f64) -> (Vec<f64>, Vec<f64>) {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    let (a, truth) = spliced(
        pattern_track(from, 20.0, 0.5, 4, &groove, 0.0, SR),
        pattern_track(to, 16.0, 0.17, 4, &groove, 0.0, SR),
        20.0,
    );
    let res = analyze_clip(&clip(a), 512, 0.0);
    (res.beats.iter().map(|b| b.0).collect(), truth)
}

/// The first estimated beat at or after `from` from which every estimated
/// beat is within 70 ms of a reference beat and every reference beat
/// (but the last, which the clip may end before) has one within 70 ms.
fn relock_time(est: &[f64], truth: &[f64], from: f64) -> Option<f64> {
    let near = |t: f64, set: &[f64]| set.iter().any(|&r| (r - t).abs() <= 0.07);
    let end = truth.last().copied()? - 0.1;
    est.iter().copied().filter(|&t| t >= from).find(|&start| {
        est.iter().filter(|&&t| t >= start).all(|&t| near(t, truth))
            && truth
                .iter()
                .filter(|&&r| r >= start - 0.07 && r < end)
                .all(|&r| near(r, est))
    })
}

#[test]
fn a_cut_to_an_unrelated_tempo_and_phase_is_followed_on_the_new_grid() {
    // A DJ-style cut: 120 BPM for 20 s, then straight into 150 BPM (not an
    // octave of it) whose first beat falls 0.17 s after the cut, a third
    // of a beat off the old grid's.
    let mut report = Vec::new();
    for (from, to) in [(120.0, 150.0), (150.0, 100.0), (96.0, 128.0)] {
        // The clock takes the new tempo when the estimator does (a few
        // seconds after the cut). From then on every beat is on the new
        // grid, not the old grid's phase.
        let (beats, truth) = beats_across_a_cut(from, to);
        let period = 60.0 / to;
        let switch = beats
            .windows(2)
            .find(|w| w[0] > 20.0 && ((w[1] - w[0]) / period - 1.0).abs() < 0.04)
            .map(|w| w[0]);
        let Some(switch) = switch else {
            panic!("{from} -> {to} BPM: the clock never took the new tempo");
        };
        let window = |lo: f64, hi: f64| {
            let est: Vec<f64> = beats
                .iter()
                .copied()
                .filter(|&t| t >= lo && t < hi)
                .collect();
            let truth: Vec<f64> = truth
                .iter()
                .copied()
                .filter(|&t| t >= lo && t < hi)
                .collect();
            eval::f_measure(&truth, &est, 0.07)
        };
        let f = window(switch + 0.5, switch + 4.5);
        report.push(format!(
            "{from} -> {to} BPM: new tempo at {switch:.2} s, beat F {f:.2} in the 4 s after"
        ));
        assert!(f > 0.9, "{}", report.join("\n"));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn an_octave_the_backbeat_holds_lets_go_when_the_music_moves_on() {
    use sonolux::audio::demo::Drum::{Kick, Snare};
    use sonolux::audio::demo::pattern_track;
    // Rock with loud eighths at 70 BPM, read at 70 only because the
    // backbeat holds that octave, then a cut (no gap, as in a DJ's mix)
    // to a plain rock beat at another tempo: the hold must not keep the
    // estimator off the new song's tempo.
    let strummed = (0..24).fold(rock_beat(), |hits, _| with_eighth_hats(&hits));
    let mut report = Vec::new();
    // A verse of kick and snare alone, read at 75 BPM from the start,
    // then a chorus with loud eighths over the same beat: the octave the
    // backbeat has said is right holds (before: 6 beats at the eighth in
    // the chorus, until the backbeat moved the clock back).
    let verse = [(0.0, Kick), (1.0, Snare), (2.0, Kick), (3.0, Snare)];
    let (a, _) = spliced(
        pattern_track(75.0, 25.6, 0.5, 4, &verse, 0.0, SR),
        pattern_track(75.0, 20.0, 0.5, 4, &strummed, 0.0, SR),
        25.6,
    );
    // Read at `bpm` at the end, and no beat at the eighth from `from` s.
    let on_the_beat = |report: &mut Vec<String>, what: &str, audio, from: f64, bpm: f64| {
        let res = analyze_clip(&clip(audio), 512, 0.0);
        let eighths = eighths_counted(&res.beats, from, bpm);
        report.push(format!(
            "{what}: {eighths} beats at the eighth from {from} s; read {:.1} BPM",
            res.bpm
        ));
        assert!(
            eighths == 0 && eval::tempo_accuracy(bpm, res.bpm).0 == 1.0,
            "{}",
            report.join("\n")
        );
    };
    on_the_beat(
        &mut report,
        "75 BPM, then a chorus with loud eighths",
        a,
        25.6,
        75.0,
    );
    // A band that drifts: the loud-eighths rock from 70 up to 80 BPM in
    // steps of 2 BPM every 6 s. The held octave follows the drift, and the
    // eighths never take over.
    let mut track = pattern_track(70.0, 6.0, 0.5, 4, &strummed, 0.0, SR);
    for (k, bpm) in [72.0, 74.0, 76.0, 78.0, 80.0, 80.0, 80.0]
        .into_iter()
        .enumerate()
    {
        let next = pattern_track(bpm, 6.0, 0.0, 4, &strummed, 0.0, SR);
        track = spliced(track, next, 6.0 * (k + 1) as f64);
    }
    on_the_beat(
        &mut report,
        "70 drifting to 80 BPM under loud eighths",
        track.0,
        14.0,
        80.0,
    );
    for to in [100.0, 105.0, 128.0, 93.3] {
        let (a, truth) = spliced(
            pattern_track(70.0, 24.0, 0.5, 4, &strummed, 0.0, SR),
            pattern_track(to, 20.0, 0.0, 4, &rock_beat(), 0.0, SR),
            24.0,
        );
        let res = analyze_clip(&clip(a), 512, 1.0);
        // The tempo panel says the backbeat holds 70 before the cut; at the
        // end nothing holds the analysis, or the new song's backbeat holds
        // its own tempo (after the cut 100 BPM was read at 200 first).
        let held = |t: f64| {
            res.frames
                .iter()
                .find(|f| f.time >= t)
                .and_then(|f| f.rhythm.backbeat_hold)
        };
        let near =
            |h: Option<f32>, bpm: f64| h.is_some_and(|h| (f64::from(h) / bpm - 1.0).abs() < 0.04);
        assert!(
            near(held(22.0), 70.0) && (held(43.0).is_none() || near(held(43.0), to)),
            "70 -> {to}: held at 22 s {:?}, at 43 s {:?}",
            held(22.0),
            held(43.0)
        );
        let f = |lo: f64, hi: f64| {
            let within = |t: &f64| (lo..hi).contains(t);
            let est: Vec<f64> = res.beats.iter().map(|b| b.0).filter(within).collect();
            let truth: Vec<f64> = truth.iter().copied().filter(within).collect();
            eval::f_measure(&truth, &est, 0.07)
        };
        let (before, after) = (f(14.0, 24.0), f(36.0, 44.0));
        report.push(format!(
            "70 -> {to} BPM: beat F {before:.2} before the cut, {after:.2} from 12 s after it; read {:.1} BPM at the end",
            res.bpm
        ));
        assert!(
            before > 0.9 && after > 0.9 && eval::tempo_accuracy(to, res.bpm).0 == 1.0,
            "{}",
            report.join("\n")
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn a_lone_click_then_silence_does_not_set_the_next_songs_tempo() {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    // One click at 1 s (a mic check, the bench's marker), 3 s of silence,
    // then a song: its tempo and phase are read from it alone. The click
    // had the estimator near its fastest tempo, which the song's own
    // eighths then held: the clock ran at double tempo for seconds and
    // kept the off-beat half of its beats when it halved.
    // A 2 s snippet of a groove at another tempo (a soundcheck) and then
    // 3 s of silence is no song either: the beats the clock freewheeled
    // through the silence after it do not make it a lock to run on from.
    let (click, _) = clicks(60.0, 1.5, 1.0);
    let (mut snippet, _) = pattern_track(150.0, 2.0, 0.0, 4, &groove, 0.0, SR);
    snippet.resize(5 * SR as usize, 0.0);
    let mut report = Vec::new();
    for (lead, mut audio) in [("a click", click), ("a 2 s snippet at 150 BPM", snippet)] {
        let start = audio.len() as f64 / f64::from(SR);
        if start < 4.0 {
            audio.resize(4 * SR as usize, 0.0);
        }
        let start = start.max(4.0);
        for bpm in [100.0, 110.0, 120.0] {
            let (song, beats) = pattern_track(bpm, 16.0, 0.0, 4, &groove, 0.0, SR);
            let mut a = audio.clone();
            a.extend_from_slice(&song);
            let truth: Vec<f64> = beats.iter().map(|t| t + start).collect();
            let res = analyze_clip(&clip(a), 512, 0.0);
            let est: Vec<f64> = res
                .beats
                .iter()
                .map(|b| b.0)
                .filter(|&t| t > start)
                .collect();
            // Every beat emitted in the song is a real one, and from 4 s
            // into it the clock has them all.
            let real = eval::match_events(&truth, &est, 0.07).len();
            let late: Vec<f64> = est.iter().copied().filter(|&t| t > start + 4.0).collect();
            let f = eval::f_measure(
                &truth
                    .iter()
                    .copied()
                    .filter(|&t| t > start + 4.0)
                    .collect::<Vec<_>>(),
                &late,
                0.07,
            );
            // The clock locks on the song afresh instead of running on
            // into it.
            let first = est.first().copied().unwrap_or(f64::MAX) - start;
            report.push(format!(
                "{lead}, then {bpm} BPM: {real} of {} emitted beats real, beat F {f:.2} from 4 s in, first beat {first:.2} s in",
                est.len()
            ));
            assert!(
                real + 1 >= est.len() && f > 0.95 && first > 1.0,
                "{}",
                report.join("\n")
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn music_that_starts_after_silence_starts_on_the_one() {
    use Drum::{Kick, Snare};
    use sonolux::audio::demo::{Drum, pattern_track};
    // Kicks on 1 and 3 alike, snares on 2 and 4, no harmony: the cues tell
    // 1 and 3 from 2 and 4 but not 1 from 3. Where the music starts does.
    let groove = [(0.0, Kick), (1.0, Snare), (2.0, Kick), (3.0, Snare)];
    // 3 s of silence, 17 s of music, 4 s of silence, 20 s of the same
    // music started again at a phase unrelated to the first grid (the
    // clock freewheels through the gap on the old bar lines).
    let (mut audio, first) = pattern_track(120.0, 20.0, 3.0, 4, &groove, 0.0, SR);
    audio.extend(std::iter::repeat_n(0.0, 4 * SR as usize));
    let (again, second) = pattern_track(120.0, 20.0, 0.3, 4, &groove, 0.0, SR);
    audio.extend_from_slice(&again);
    let res = analyze_clip(&clip(audio), 512, 0.0);
    for (name, beats, offset) in [("first", &first, 0.0), ("second", &second, 24.0)] {
        // From the third bar on, until the music stops.
        let (from, to) = (offset + beats[8], offset + beats[beats.len() - 1] + 0.1);
        let truth: Vec<f64> = beats.iter().step_by(4).map(|t| t + offset).collect();
        let (f, bars) = downbeat_f(&res.beats, &truth, from, to);
        assert!(
            f > 0.9,
            "{name} stretch of music: downbeat F {f:.2}, bar positions {bars:?}"
        );
    }
}

#[test]
fn accented_click_tracks_in_four_and_three() {
    use sonolux::audio::demo::{BarCue, metre_track};
    let mut report = Vec::new();
    let mut failed = false;
    for bpb in [4, 3] {
        for bpm in [60.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0] {
            let (audio, beats, downbeats) = metre_track(bpm, bpb, 30.0, BarCue::Bass, SR);
            let res = analyze_clip(&clip(audio), 512, 0.0);
            let (acc1, _) = eval::tempo_accuracy(bpm, res.bpm);
            let est: Vec<f64> = res
                .beats
                .iter()
                .map(|b| b.0)
                .filter(|&t| t > 12.0)
                .collect();
            let truth: Vec<f64> = beats.iter().copied().filter(|&t| t > 12.0).collect();
            let f = eval::f_measure(&truth, &est, 0.07);
            let down: Vec<f64> = res
                .beats
                .iter()
                .filter(|b| b.1 == 1 && b.0 > 12.0)
                .map(|b| b.0)
                .collect();
            let dtruth: Vec<f64> = downbeats.iter().copied().filter(|&t| t > 12.0).collect();
            let df = eval::f_measure(&dtruth, &down, 0.07);
            let lock = res.lock_time.unwrap_or(f64::NAN);
            let ok = acc1 == 1.0 && f > 0.95 && df > 0.9 && lock < 5.0;
            failed |= !ok;
            report.push(format!(
                "{bpb}/4 {bpm:>5} BPM: read {:.1}, beat F {f:.2}, downbeat F {df:.2}, lock {lock:.2} s{}",
                res.bpm,
                if ok { "" } else { "  <-- FAIL" }
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn fast_even_eighths_are_not_read_at_two_thirds() {
    use Drum::{Hat, Kick, Snare};
    use sonolux::audio::demo::{Drum, pattern_track};
    // Eighths all through: every multiple of the eighth is periodic, so a
    // dotted quarter (2/3 of the tempo, near the prior's centre) once
    // scored like the beat: 174 BPM techno read 116.
    let techno: &[(f64, Drum)] = &[
        (0.0, Kick),
        (1.0, Kick),
        (2.0, Kick),
        (3.0, Kick),
        (1.0, Snare),
        (3.0, Snare),
        (0.5, Hat),
        (1.5, Hat),
        (2.5, Hat),
        (3.5, Hat),
    ];
    let two_step = &with_eighth_hats(&[(0.0, Kick), (2.5, Kick), (1.0, Snare), (3.0, Snare)]);
    // Nothing but a kick on the beat and an open hat between: the hat is
    // the brighter onset, the kick is the beat.
    let four_on_the_floor: &[(f64, Drum)] = &[
        (0.0, Kick),
        (1.0, Kick),
        (2.0, Kick),
        (3.0, Kick),
        (0.5, Hat),
        (1.5, Hat),
        (2.5, Hat),
        (3.5, Hat),
    ];
    let mut report = Vec::new();
    let mut failed = false;
    for (name, hits) in [
        ("techno", techno),
        ("two-step", two_step),
        ("four on the floor", four_on_the_floor),
    ] {
        for bpm in [124.0, 140.0, 160.0, 174.0] {
            let (audio, truth) = pattern_track(bpm, 30.0, 0.5, 4, hits, 0.0, SR);
            let (est, f, _) = judge(audio, &truth, 8.0);
            // The beat or half of it (F .67 at most), never two thirds.
            let (_, acc2) = eval::tempo_accuracy(bpm, est);
            let ok = acc2 == 1.0 && f > 0.6;
            failed |= !ok;
            report.push(format!(
                "{name} {bpm}: read {est:.1}, beat F {f:.2}{}",
                if ok { "" } else { "  <-- FAIL" }
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn downbeats_follow_a_tempo_change() {
    use sonolux::audio::demo::{BarCue, metre_track};
    // 20 s at 100 BPM, then 20 s at 150, downbeats marked by the bass.
    let (mut audio, _, _) = metre_track(100.0, 4, 20.0, BarCue::Bass, SR);
    let (after, _, downbeats) = metre_track(150.0, 4, 20.0, BarCue::Bass, SR);
    audio.extend_from_slice(&after);
    let res = analyze_clip(&clip(audio), 512, 0.0);
    let from = 30.0;
    let truth: Vec<f64> = downbeats.iter().map(|t| t + 20.0).collect();
    let (f, bars) = downbeat_f(&res.beats, &truth, from, f64::INFINITY);
    assert!(
        f > 0.9,
        "downbeat F {f:.2} after the change; bar positions {bars:?}"
    );
}

#[test]
fn the_bar_line_survives_an_octave_round_trip() {
    use Drum::{Kick, Snare};
    use sonolux::analysis::BeatOverride;
    use sonolux::audio::demo::{Drum, pattern_track};
    // Kicks on 1 and 3 alike, snares on 2 and 4: only where the music
    // started says which kick is the one. The VJ halves the clock, then
    // doubles it back once the start has left the analysis' history; the
    // grids in between count beats at another rate, so the bar line must
    // be carried by time.
    let groove = [(0.0, Kick), (1.0, Snare), (2.0, Kick), (3.0, Snare)];
    let (audio, beats) = pattern_track(120.0, 56.0, 0.3, 4, &groove, 0.0, SR);
    let mut an = Analyzer::new(SR);
    let mut heard = Vec::new();
    let mut play = |an: &mut Analyzer, from: f64, to: f64| {
        let (a, b) = (
            (from * f64::from(SR)) as usize,
            (to * f64::from(SR)) as usize,
        );
        for block in audio[a..b].chunks(512) {
            for e in an.process(block) {
                if let EventKind::Beat { bar_position, .. } = e.kind {
                    heard.push((e.time, bar_position));
                }
            }
        }
    };
    play(&mut an, 0.0, 10.0);
    an.override_beat(BeatOverride::Octave(0.5));
    play(&mut an, 10.0, 34.0);
    an.override_beat(BeatOverride::Octave(2.0));
    play(&mut an, 34.0, 56.0);
    let truth: Vec<f64> = beats.iter().step_by(4).copied().collect();
    let (f, bars) = downbeat_f(&heard, &truth, 42.0, f64::INFINITY);
    assert!(
        f > 0.9,
        "downbeat F {f:.2} after /2 and x2; bar positions {bars:?}"
    );
}

/// The times of `v` from `lo` up to (not including) `hi`.
fn times_within(v: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    v.iter().copied().filter(|&t| t >= lo && t < hi).collect()
}

/// Of `truth`'s beats in the 3 s from `t`: how many `beats` finds (within
/// 70 ms), those beats, and the beats emitted then.
fn first_beats_from(truth: &[f64], beats: &[f64], t: f64) -> (usize, Vec<f64>, Vec<f64>) {
    let (tr, est) = (
        times_within(truth, t - 0.05, t + 3.0),
        times_within(beats, t - 0.05, t + 3.0),
    );
    (eval::match_events(&tr, &est, 0.07).len(), tr, est)
}

/// Music that stops for a while (the end of a song, a DJ's gap between
/// tracks): the clock holds its tempo through the silence, emits no beat
/// once a whole beat of it has passed, and after two bars of it rests: no
/// confidence left to pulse the presets with, until the music is back,
/// which comes in on the grid it left.
/// Before, the tempo estimator read the silence too: 8 s in, the clock ran
/// at 217 BPM and flashed on an empty room for as long as it lasted.
#[test]
fn the_clock_rests_when_the_music_stops() {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    let bpm = 110.0;
    let period = 60.0 / bpm;
    let (mut audio, first) = pattern_track(bpm, 10.0, 0.5, 4, &groove, 0.0, SR);
    let end = 10.0;
    // Back after 14 s of silence, on a beat of the old grid.
    let back = 0.5 + (24.0f64 / period).ceil() * period;
    audio.resize((back * f64::from(SR)).round() as usize, 0.0);
    let (song, second) = pattern_track(bpm, 8.0, 0.0, 4, &groove, 0.0, SR);
    audio.extend_from_slice(&song);
    let res = analyze_clip(&clip(audio), 512, 0.05);
    let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let rest_at = end + 9.0 * period;
    // No beat flashes once the music has been silent for a whole beat
    // (before, beats ran on for up to two bars of silence)...
    let late = times_within(&beats, end + period + 0.05, back - 0.1);
    assert!(late.is_empty(), "beats in the silence: {late:.2?}");
    // ...while the clock runs on at the tempo of the music...
    for w in beats.windows(2).filter(|w| w[0] > 5.0 && w[1] < rest_at) {
        let ratio = (w[1] - w[0]) / period;
        assert!(
            (ratio - 1.0).abs() < 0.03,
            "beats at {:.3} and {:.3}: {ratio:.3} of a beat",
            w[0],
            w[1]
        );
    }
    // ...which the clock still holds at the end of the silence, with no
    // confidence to show.
    for f in res
        .frames
        .iter()
        .filter(|f| f.time > rest_at && f.time < back - 0.1)
    {
        assert!(
            (f64::from(f.rhythm.bpm) / bpm - 1.0).abs() < 0.02,
            "{:.1} s into the silence: {:.1} BPM",
            f.time - end,
            f.rhythm.bpm
        );
        assert_eq!(f.rhythm.confidence, 0.0, "at {:.2} s", f.time);
    }
    let playing = |lo: f64, hi: f64| {
        let c: Vec<f32> = res
            .frames
            .iter()
            .filter(|f| f.time >= lo && f.time < hi)
            .map(|f| f.rhythm.confidence)
            .collect();
        c.iter().sum::<f32>() / c.len().max(1) as f32
    };
    assert!(
        playing(6.0, end) > 0.3,
        "confidence while playing {}",
        playing(6.0, end)
    );
    // Back: the beats are there from the first bar, on the grid.
    let truth: Vec<f64> = first
        .iter()
        .copied()
        .filter(|&t| t < end)
        .chain(second.iter().map(|t| t + back))
        .collect();
    let (real, tr, est) = first_beats_from(&truth, &beats, back);
    assert!(
        real + 1 >= tr.len() && est.len() <= tr.len() + 1,
        "{real} of {} beats in the first 3 s back found, {} emitted: {est:.2?}",
        tr.len(),
        est.len()
    );
    assert!(
        playing(back + 1.0, back + 3.0) > 0.3,
        "confidence back {}",
        playing(back + 1.0, back + 3.0)
    );
}

/// A breakdown: the drums stop for 32 beats under a held pad chord (its
/// partials beat against each other, and its level swells), then drop back
/// in on the grid. The pad fires no onsets, so the clock rests through it
/// (no beats, no pulses) and holds the tempo; the drop comes in on the
/// grid, read afresh from the drums alone. Before, the pad woke the clock
/// with its own slow periodicity (148 BPM) and, still in the estimator's
/// window after the drop, held it at 217 BPM for 4 s of the drums.
#[test]
fn a_breakdown_under_a_pad_keeps_the_tempo_for_the_drop() {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    let bpm = 110.0;
    let period = 60.0 / bpm;
    let (mut audio, first) = pattern_track(bpm, 10.0 + 0.5 * period, 0.5, 4, &groove, 0.0, SR);
    // The drums stop on a beat: 10 s and a bit, a whole number of beats in.
    let stop = 0.5 + ((10.0 - 0.5) / period).ceil() * period;
    audio.truncate((stop * f64::from(SR)).round() as usize);
    let drop = stop + 32.0 * period;
    let sr = f64::from(SR);
    let n = ((drop - stop) * sr).round() as usize;
    audio.extend((0..n).map(|i| {
        let t = i as f64 / sr;
        let chord: f64 = [220.0, 277.2, 329.6, 440.0]
            .iter()
            .map(|f| (std::f64::consts::TAU * f * t).sin())
            .sum();
        let swell = (t / 2.0).min(1.0) * (0.8 + 0.2 * (std::f64::consts::TAU * 0.25 * t).sin());
        (0.05 * chord * swell) as f32
    }));
    let (song, second) = pattern_track(bpm, 10.0, 0.0, 4, &groove, 0.0, SR);
    audio.extend_from_slice(&song);
    let res = analyze_clip(&clip(audio), 512, 0.05);
    let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let rest_at = stop + 9.0 * period;
    let late = times_within(&beats, rest_at, drop - 0.1);
    assert!(late.is_empty(), "beats in the breakdown: {late:.2?}");
    // The tempo holds from the first lock to the end, the drop included.
    for f in res.frames.iter().filter(|f| f.time > 5.0) {
        assert!(
            (f64::from(f.rhythm.bpm) / bpm - 1.0).abs() < 0.03,
            "{:.1} BPM at {:.1} s (the pad from {stop:.1} s, the drop at {drop:.1} s)",
            f.rhythm.bpm,
            f.time
        );
    }
    let truth: Vec<f64> = first
        .iter()
        .copied()
        .filter(|&t| t < stop - 0.1)
        .chain(second.iter().map(|t| t + drop))
        .collect();
    let (real, tr, est) = first_beats_from(&truth, &beats, drop);
    assert!(
        real + 1 >= tr.len() && est.len() <= tr.len() + 1,
        "{real} of {} beats in the first 3 s after the drop found, {} emitted: {est:.2?}",
        tr.len(),
        est.len()
    );
}

/// Applause between two songs: noise bursts, about 30 claps a second at
/// random, for 10 s. The claps fire onsets but hold no pulse, so the clock
/// rests through them at the first song's tempo, and the next song, at
/// another tempo, is read afresh when its beat comes. Before, the clock ran
/// on through the applause at 89-121 BPM, flashing, and took 6 s to lock
/// on the next song.
#[test]
fn applause_between_songs_rests_the_clock() {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    let sr = f64::from(SR);
    let (mut audio, _) = pattern_track(110.0, 12.0, 0.5, 4, &groove, 0.0, SR);
    let end = audio.len() as f64 / sr;
    // Claps: 5-20 ms noise bursts at random times and levels (a fixed
    // pseudo-random sequence), swelling in over a second.
    let mut seed = 0x2545_f491_u32;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        f64::from(seed) / f64::from(u32::MAX)
    };
    let n = (10.0 * sr) as usize;
    let mut claps = vec![0.0f32; n];
    let mut t = 0.0;
    loop {
        t += -(1.0 - random()).ln() / 30.0;
        let start = (t * sr) as usize;
        let len = ((0.005 + 0.015 * random()) * sr) as usize;
        if start + len >= n {
            break;
        }
        let level = 0.05 + 0.15 * random();
        for k in 0..len {
            let decay = (-(k as f64) / (0.004 * sr)).exp();
            claps[start + k] += ((2.0 * random() - 1.0) * decay * level) as f32;
        }
    }
    for (k, c) in claps.iter_mut().enumerate() {
        *c *= (k as f64 / sr).min(1.0) as f32;
    }
    audio.extend_from_slice(&claps);
    let next = end + 10.0;
    let (song, _) = pattern_track(140.0, 14.0, 0.0, 4, &groove, 0.0, SR);
    audio.extend_from_slice(&song);
    let res = analyze_clip(&clip(audio), 512, 0.05);
    // The clock rests once the claps have had the last few seconds to
    // themselves and two bars have passed...
    let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let flashing = times_within(&beats, end + 6.0, next - 0.1);
    assert!(flashing.is_empty(), "beats in the applause: {flashing:.2?}");
    // ...holding the first song's tempo...
    for f in res.frames.iter().filter(|f| f.time > end && f.time < next) {
        assert!(
            (f64::from(f.rhythm.bpm) / 110.0 - 1.0).abs() < 0.03,
            "{:.1} BPM {:.1} s into the applause",
            f.rhythm.bpm,
            f.time - end
        );
    }
    // ...and has the next song's tempo within 5 s of its start.
    let locked = res
        .frames
        .iter()
        .filter(|f| f.time > next)
        .find(|f| (f64::from(f.rhythm.bpm) / 140.0 - 1.0).abs() < 0.04)
        .map(|f| f.time - next);
    assert!(
        locked.is_some_and(|s| s < 5.0),
        "the next song's tempo after {locked:?} s"
    );
}

/// An EDM build is noise-like too (a snare roll under a white-noise riser,
/// its flatness 0.5-0.75 like applause), but it holds a clear pulse: its
/// beats go on, at full strength, into the drop.
#[test]
fn a_build_under_a_noise_riser_keeps_its_beats() {
    use sonolux::audio::demo::{Drum, pattern_track};
    let groove = rock_beat();
    let sr = f64::from(SR);
    let bpm = 128.0;
    let bar = 4.0 * 60.0 / bpm;
    let (mut audio, first) = pattern_track(bpm, 8.0 * bar, 0.0, 4, &groove, 0.0, SR);
    audio.truncate((8.0 * bar * sr).round() as usize);
    let start = audio.len() as f64 / sr;
    // Four bars of a snare on every eighth, four on every sixteenth.
    let eighths: Vec<(f64, Drum)> = (0..8).map(|k| (f64::from(k) * 0.5, Drum::Snare)).collect();
    let sixteenths: Vec<(f64, Drum)> = (0..16)
        .map(|k| (f64::from(k) * 0.25, Drum::Snare))
        .collect();
    let (mut build, b1) = pattern_track(bpm, 4.0 * bar, 0.0, 4, &eighths, 0.0, SR);
    build.truncate((4.0 * bar * sr).round() as usize);
    let (roll, b2) = pattern_track(bpm, 4.0 * bar, 0.0, 4, &sixteenths, 0.0, SR);
    build.extend_from_slice(&roll[..(4.0 * bar * sr).round() as usize]);
    // The riser: white noise (a fixed pseudo-random sequence) swelling in.
    let mut seed = 0x9e37_79b9_u32;
    let n = build.len();
    for (k, v) in build.iter_mut().enumerate() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = f64::from(seed) / f64::from(u32::MAX) * 2.0 - 1.0;
        let swell = (k as f64 / n as f64).powi(2);
        *v += (0.4 * noise * swell) as f32;
    }
    audio.extend_from_slice(&build);
    let drop = audio.len() as f64 / sr;
    let (song, third) = pattern_track(bpm, 4.0 * bar, 0.0, 4, &groove, 0.0, SR);
    audio.extend_from_slice(&song);
    let truth: Vec<f64> = first
        .iter()
        .copied()
        .filter(|&t| t < start - 0.01)
        .chain(
            b1.iter()
                .filter(|&&t| t < 4.0 * bar - 0.01)
                .map(|t| t + start),
        )
        .chain(b2.iter().map(|t| t + start + 4.0 * bar))
        .chain(third.iter().map(|t| t + drop))
        .collect();
    let res = analyze_clip(&clip(audio), 512, 0.05);
    let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let f = eval::f_measure(
        &times_within(&truth, start, drop + bar),
        &times_within(&beats, start, drop + bar),
        0.07,
    );
    let weakest = res
        .frames
        .iter()
        .filter(|f| f.time >= start && f.time < drop + bar)
        .map(|f| f.rhythm.confidence)
        .fold(f32::MAX, f32::min);
    let flatness = res
        .frames
        .iter()
        .filter(|f| f.time >= drop - 2.0 && f.time < drop)
        .map(|f| f.flatness)
        .sum::<f32>()
        / 40.0;
    assert!(
        // The riser makes the build as noise-like as applause (see
        // `CROWD_FLATNESS`): the pulse is what keeps it awake.
        flatness > 0.5 && f >= 0.95 && weakest > 0.3,
        "beat F {f:.3} in the build and the drop's first bar, weakest confidence \
         {weakest:.2} (flatness before the drop {flatness:.2})"
    );
}

#[test]
fn a_silent_break_inside_a_song_keeps_the_beat() {
    use sonolux::audio::demo::pattern_track;
    let groove = rock_beat();
    // 12 s of a song at 120 BPM, a silent break, then music again. The
    // clock runs on through the break, so the beats are there when the band
    // comes back in; before, it stopped and locked afresh, and the first
    // beats after a break (the drop) had no flash for about 2 s. The price:
    // a new song at another tempo gets beats at the old tempo until the
    // estimator has read the new one (1.5 s), and half of those are not
    // real; the floors below hold that case to what it was.
    // (name, silence s, tempo after, where its first beat falls, beats
    // that must be real of the first 3 s's 6 (5 at 96 BPM))
    let cases = [
        ("a break of whole beats", 3.0, 120.0, 0.0, 5),
        (
            "a held pause (off the old grid by 0.4 beat)",
            3.2,
            120.0,
            0.0,
            4,
        ),
        ("a new song at another tempo", 3.0, 96.0, 0.0, 2),
        ("a new song, same tempo, another phase", 3.0, 120.0, 0.25, 3),
    ];
    let mut report = Vec::new();
    let mut failed = false;
    for (name, gap, bpm, first, min_real) in cases {
        let (mut audio, t1) = pattern_track(120.0, 12.0, 0.5, 4, &groove, 0.0, SR);
        audio.resize(((12.0 + gap) * f64::from(SR)) as usize, 0.0);
        let (song, t2) = pattern_track(bpm, 14.0, first, 4, &groove, 0.0, SR);
        audio.extend_from_slice(&song);
        let back = 12.0 + gap;
        let truth: Vec<f64> = t1
            .iter()
            .copied()
            .filter(|&t| t < 12.0)
            .chain(t2.iter().map(|t| t + back))
            .collect();
        let res = analyze_clip(&clip(audio), 512, 0.0);
        let beats: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
        let (real, tr, est) = first_beats_from(&truth, &beats, back);
        let f = eval::f_measure(
            &times_within(&truth, back + 3.0, f64::MAX),
            &times_within(&beats, back + 3.0, f64::MAX),
            0.07,
        );
        report.push(format!(
            "{name}: {real} of {} beats in the first 3 s found ({} emitted), beat F {f:.2} after",
            tr.len(),
            est.len()
        ));
        failed |= real < min_real || f < 0.95;
    }
    assert!(!failed, "{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
}

/// The grunge drums of `tests/data` played `bpm / 110` times as fast (at
/// a higher sample rate, as a DJ's pitch fader or a tape would), analysed:
/// (tempo read, beat F from 5 s).
fn grunge_sped_up_to(bpm: f64) -> (f64, f64) {
    use sonolux::offline::analyze::read_times;
    let clip = decode_file(&data("mdb_grunge_drums.flac")).expect("test clip");
    let beats = read_times(&data("mdb_grunge_drums.beats")).expect("beats");
    let bpm_ref = read_times(&data("mdb_grunge_drums.bpm")).expect("bpm")[0];
    let speed = bpm / bpm_ref;
    let fast = AudioClip {
        samples: clip.samples,
        sample_rate: (f64::from(clip.sample_rate) * speed).round() as u32,
    };
    let res = analyze_clip(&fast, 512, 0.0);
    let truth: Vec<f64> = beats.iter().map(|t| t / speed).collect();
    let est: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
    let f = eval::f_measure(&eval::trim(&truth, 5.0), &eval::trim(&est, 5.0), 0.07);
    (res.bpm, f)
}

/// Asserts [`grunge_sped_up_to`] each of `tempi` reads that tempo (within
/// 4 %) with beat F of at least .9.
fn grunge_sped_up_reads_right(tempi: &[f64]) {
    let mut report = Vec::new();
    let mut failed = false;
    for &bpm in tempi {
        let (read, f) = grunge_sped_up_to(bpm);
        report.push(format!("at {bpm}: read {read:.1} BPM, beat F {f:.2}"));
        failed |= eval::tempo_accuracy(bpm, read).0 < 1.0 || f < 0.9;
    }
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn fast_drums_are_not_halved_by_what_each_drum_band_hears_of_the_other() {
    // Sped up to 185 and 190 BPM the grunge drums were read at half tempo
    // (92.6 and 95.0, beat F .79 and .82): each band hears some of the
    // other drum, so the kick-snare correlation carried the bands' own
    // periodicity at half a bar, the slow reading's own period, and the
    // backbeat never asked to double it. (Time-stretched instead, the
    // same happened at 165 and 180: `scripts/stretch-set`.)
    grunge_sped_up_reads_right(&[185.0, 190.0]);
}

#[test]
fn an_octave_the_backbeat_confirmed_survives_its_swings() {
    // The grunge drums sped up (played at a higher sample rate, as a DJ's
    // pitch fader or a tape would) to 150 and 165 BPM. Kick on 1, on the
    // "and" of 2 and on 3, snare on 2 and 4: the snare answers the kick at
    // one beat, and at two almost as well. The backbeat check confirmed
    // the tempo, then halved it when the two correlations swung past each
    // other for a second, then held the half (read 75 and 82.5, beat F
    // .82 and .81, before a confirmed octave took twice the evidence to
    // leave).
    grunge_sped_up_reads_right(&[150.0, 165.0]);
}

#[test]
fn the_backbeat_sets_the_octave() {
    use Drum::{Kick, Snare};
    use sonolux::audio::demo::{Drum, pattern_track};
    // Hats on every eighth make the beat and its double (or half) almost
    // equally periodic; where the snare answers the kick says which is the
    // beat. Before the backbeat check: the two-step at 174 and the rock
    // beat at 180 were read at half tempo, the rock beat at 70 at double
    // (beat F .67-.68 from 12 s on).
    let two_step = with_eighth_hats(&[(0.0, Kick), (2.5, Kick), (1.0, Snare), (3.0, Snare)]);
    let drums = [(0.0, Kick), (2.0, Kick), (1.0, Snare), (3.0, Snare)];
    let rock = with_eighth_hats(&drums);
    // Eighths far louder than the drums (hats 24 times over, +28 dB):
    // the autocorrelation then prefers the eighth to the beat, every
    // update, and takes the octave back from the backbeat unless the
    // backbeat's choice holds the tempo prior (at 70 BPM: read at 140,
    // beat F .68, before it did).
    // The check also moves the octave before its 8 s window is full: the
    // rock beats at 70 and 78 read at double until 9 s when it waited for
    // a full window (beat F .78 from 6 to 12 s), until 6 s now (1.00).
    let strummed = (0..24).fold(drums.to_vec(), |hits, _| with_eighth_hats(&hits));
    let mut report = Vec::new();
    let mut failed = false;
    for (name, bpm, hits) in [
        ("two-step", 174.0, &two_step),
        ("two-step", 160.0, &two_step),
        ("rock", 70.0, &rock),
        ("rock", 78.0, &rock),
        ("rock", 180.0, &rock),
        ("strummed rock", 70.0, &strummed),
        ("strummed rock", 78.0, &strummed),
    ] {
        let (audio, truth) = pattern_track(bpm, 30.0, 0.5, 4, hits, 0.0, SR);
        let res = analyze_clip(&clip(audio), 512, 0.0);
        let (est, early, f) = (
            res.bpm,
            beat_f(&res.beats, &truth, 6.0, 12.0),
            beat_f(&res.beats, &truth, 12.0, 30.0),
        );
        report.push(format!(
            "{name} at {bpm}: read {est:.1} BPM, beat F {early:.2} from 6 to 12 s, {f:.2} from 12 s"
        ));
        failed |= eval::tempo_accuracy(bpm, est).0 < 1.0 || f < 0.8 || early < 0.9;
    }
    assert!(!failed, "{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
}

#[test]
fn a_live_input_joined_mid_song_finds_the_bar_from_its_cues() {
    use sonolux::analysis::Analyzer;
    use sonolux::offline::analyze::{analyze_clip_with, read_columns};
    // A capture device opened in the middle of a song: the first beat heard
    // is beat 2 or 3 of its bar. Heard as a file, that beat is taken as the
    // one (songs start on it) until the cues clearly disagree: from 2 the
    // kicks and snares move it, but to 3 (kicks on 1 and 3 alike), and from
    // 3 nothing does; downbeat F 0 from 8 s on either way. Heard as a live
    // input, the cues' first choice is taken, after 8 beats and without
    // hysteresis: here the one. On drums alone the cues score 1 and 3 alike
    // (to a thousandth), so which of the two a join takes depends on where
    // it came in (the tempo panel then says "1 or 3?"); from these two cuts
    // it is the one, and the test holds that behaviour.
    let full = decode_file(&data("mdb_grunge_drums.flac")).expect("test clip");
    let beats = read_columns(&data("mdb_grunge_drums.beats")).expect("beats");
    let sr = f64::from(full.sample_rate);
    let mut report = Vec::new();
    let mut failed = false;
    for pos in [2.0, 3.0] {
        let first = beats
            .iter()
            .find(|(t, p)| *t > 3.0 && *p == Some(pos))
            .expect("a beat at that position")
            .0;
        let t0 = first - 0.05;
        let cut = AudioClip {
            samples: full.samples[(t0 * sr) as usize..].to_vec(),
            sample_rate: full.sample_rate,
        };
        let truth: Vec<f64> = beats
            .iter()
            .filter(|(t, p)| *t >= t0 && *p == Some(1.0))
            .map(|(t, _)| t - t0)
            .collect();
        let end = cut.duration();
        let mut joined = Analyzer::new(cut.sample_rate);
        joined.joins_music_in_progress();
        let live = analyze_clip_with(joined, &cut, 512, 0.0, |_| {});
        let file = analyze_clip(&cut, 512, 0.0);
        let (f_live, bars) = downbeat_f(&live.beats, &truth, 8.0, end);
        let (f_file, _) = downbeat_f(&file.beats, &truth, 8.0, end);
        report.push(format!(
            "from beat {pos}: downbeat F from 8 s {f_live:.2} joined live, {f_file:.2} as a file; bar positions {bars:?}"
        ));
        failed |= f_live < 0.9;
    }
    assert!(!failed, "{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
}

#[test]
fn the_web_audio_rows_can_be_left_out_without_changing_the_analysis() {
    // The live show computes Shadertoy's audio texture only while a preset
    // on screen samples it. Left out, every event and every other feature
    // is the same; turned back on, the rows rise from silence (not from
    // what was heard when they were turned off) and are the always-on
    // analyser's again within a second (their smoothing settles).
    let sr = 44_100;
    let audio = sonolux::audio::demo::synthesize(12.0, sr);
    let mut on = Analyzer::new(sr);
    let mut off = Analyzer::new(sr);
    off.set_web_audio(false);
    // On for 3 s, off for 3 s, then on again.
    let mut toggled = Analyzer::new(sr);
    let (third, split) = (3 * sr as usize, 6 * sr as usize);
    let mut events = (Vec::new(), Vec::new());
    for (k, chunk) in audio[..split].chunks(512).enumerate() {
        if k * 512 >= third {
            toggled.set_web_audio(false);
        }
        toggled.process(chunk);
        events
            .0
            .extend(on.process(chunk).iter().map(|e| (e.kind, e.time)));
        events
            .1
            .extend(off.process(chunk).iter().map(|e| (e.kind, e.time)));
        let (a, b) = (on.frame(), off.frame());
        assert_eq!(
            (a.bass, a.centroid, a.rhythm),
            (b.bass, b.centroid, b.rhythm)
        );
        assert_eq!(a.spectrum, b.spectrum);
    }
    assert!(!events.0.is_empty());
    assert_eq!(events.0, events.1, "the events do not depend on the rows");
    assert!(on.frame().audio_fft.iter().any(|&b| b > 0));
    assert!(off.frame().audio_fft.iter().all(|&b| b == 0), "left out");
    off.set_web_audio(true);
    toggled.set_web_audio(true);
    // A few updates after turning on, a fresh start is far below the
    // always-on rows (here a ninth of their byte sum; rows that carried on
    // from 3 s ago would be at 60 % of it).
    let level = |rows: &[u8]| rows.iter().map(|&b| f64::from(b)).sum::<f64>();
    for chunk in audio[split..split + 2048].chunks(512) {
        on.process(chunk);
        toggled.process(chunk);
        off.process(chunk);
    }
    let steady = level(&on.frame().audio_fft);
    assert!(
        level(&toggled.frame().audio_fft) < 0.25 * steady,
        "turned back on, the rows start from silence: {} against {steady}",
        level(&toggled.frame().audio_fft)
    );
    for chunk in audio[split + 2048..split + sr as usize].chunks(512) {
        on.process(chunk);
        toggled.process(chunk);
        off.process(chunk);
    }
    for b in [&off, &toggled] {
        let worst = on
            .frame()
            .audio_fft
            .iter()
            .zip(&b.frame().audio_fft)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0);
        assert!(
            worst <= 1,
            "rows differ by up to {worst} a second after turning on"
        );
        assert_eq!(on.frame().audio_wave, b.frame().audio_wave);
    }
}

#[test]
fn a_guessed_bar_line_stays_a_guess_across_a_tempo_change() {
    use sonolux::audio::demo::{Drum, pattern_track};
    // A live input that came in on drums alone (kicks on 1 and 3 alike):
    // the bar line is a guess. The drummer moves from 120 to 150 BPM; the
    // clock takes the new tempo and carries the bar line over, and what it
    // carries is still the guess it was, not a start heard.
    let sr = 44_100;
    let hits = [
        (0.0, Drum::Kick),
        (1.0, Drum::Snare),
        (2.0, Drum::Kick),
        (3.0, Drum::Snare),
        (0.5, Drum::Hat),
        (1.5, Drum::Hat),
        (2.5, Drum::Hat),
        (3.5, Drum::Hat),
    ];
    let (mut audio, _) = pattern_track(120.0, 14.0, 0.0, 4, &hits, 0.0, sr);
    let (faster, _) = pattern_track(150.0, 14.0, 0.0, 4, &hits, 0.0, sr);
    audio.extend_from_slice(&faster);
    let mut an = Analyzer::new(sr);
    an.joins_music_in_progress();
    let mut bpm_after = Vec::new();
    let mut guess_after = Vec::new();
    for (k, chunk) in audio.chunks(512).enumerate() {
        an.process(chunk);
        let t = (k * 512) as f64 / f64::from(sr);
        if t > 22.0 {
            let r = an.frame().rhythm;
            bpm_after.push(r.bpm);
            guess_after.push(r.bar_guess);
        }
    }
    let bpm = bpm_after.last().copied().unwrap_or(0.0);
    assert!((bpm / 150.0 - 1.0).abs() < 0.04, "the clock at {bpm} BPM");
    let guessed = guess_after.iter().filter(|&&g| g).count();
    assert_eq!(
        guessed,
        guess_after.len(),
        "the bar line was called sure in {} of {} blocks after the change",
        guess_after.len() - guessed,
        guess_after.len()
    );
}

#[test]
fn a_live_input_back_after_a_loss_finds_the_bar_from_its_cues() {
    use sonolux::offline::analyze::read_columns;
    // The capture device was lost 12 s into a song and came back 3 s later
    // (the show fed the analysis silence meanwhile), in the middle of a bar:
    // its first beat heard is beat 3. After 3 s of silence the music is
    // taken to start anew, and a start heard is taken as the one; a stream
    // that opens (or reopens) in the music did not hear it start, so the
    // bar line comes from the cues, as at the start of a live show.
    let full = decode_file(&data("mdb_grunge_drums.flac")).expect("test clip");
    let beats = read_columns(&data("mdb_grunge_drums.beats")).expect("beats");
    let sr = f64::from(full.sample_rate);
    let lost_at = 12.0;
    let back_at = 15.0;
    let resume = beats
        .iter()
        .find(|(t, p)| *t > 20.0 && *p == Some(3.0))
        .expect("a beat 3")
        .0
        - 0.05;
    // Stream time of a time in the song after the return.
    let shift = back_at - resume;
    let truth: Vec<f64> = beats
        .iter()
        .filter(|(t, p)| *t >= resume && *p == Some(1.0))
        .map(|(t, _)| t + shift)
        .collect();
    let run = |rejoin: bool| -> Vec<(f64, u32)> {
        let mut an = Analyzer::new(full.sample_rate);
        an.joins_music_in_progress();
        let mut out = Vec::new();
        let mut feed = |an: &mut Analyzer, samples: &[f32]| {
            for chunk in samples.chunks(512) {
                for e in an.process(chunk) {
                    if let EventKind::Beat { bar_position, .. } = e.kind {
                        out.push((e.time, bar_position));
                    }
                }
            }
        };
        feed(&mut an, &full.samples[..(lost_at * sr) as usize]);
        feed(&mut an, &vec![0.0; ((back_at - lost_at) * sr) as usize]);
        if rejoin {
            an.joins_music_in_progress();
        }
        feed(&mut an, &full.samples[(resume * sr) as usize..]);
        out
    };
    let end = back_at + (full.duration() - resume);
    let (f_rejoined, bars) = downbeat_f(&run(true), &truth, back_at + 8.0, end);
    let (f_start, _) = downbeat_f(&run(false), &truth, back_at + 8.0, end);
    let report = format!(
        "downbeat F from 8 s after the return: {f_rejoined:.2} rejoined, {f_start:.2} taken as a start; bar positions {bars:?}"
    );
    assert!(f_rejoined >= 0.9, "{report}");
    eprintln!("{report}");
}

/// A techno track: a kick on every beat at `bpm` (a sine swept from 160
/// down to 50 Hz with a 3 ms click of noise on its attack, as a drum
/// machine's kick has) under a synth bass in the 3-3-2 figure (a note on
/// the first, fourth and seventh sixteenth of every two beats: 0, 0.75 and
/// 1.5 beats; a low-passed square at 55 Hz, a fifth up on the middle note,
/// plucked), 6 dB under the kick, and with `open_hats` an open hat on every
/// off-beat. Returns the samples and the beat times.
fn techno_332(bpm: f64, seconds: f64, open_hats: bool, sample_rate: u32) -> (Vec<f32>, Vec<f64>) {
    use std::f64::consts::TAU;
    let sr = f64::from(sample_rate);
    let n = (seconds * sr) as usize;
    let mut out = vec![0.0f32; n];
    let period = 60.0 / bpm;
    let mut add = |at: f64, len_s: f64, voice: &mut dyn FnMut(f64) -> f64| {
        let (i0, len) = ((at * sr) as usize, (len_s * sr) as usize);
        for k in 0..len {
            let Some(o) = out.get_mut(i0 + k) else { break };
            // A 20 ms fade at the end: no click where the voice stops.
            *o += (voice(k as f64 / sr) * ((len - k) as f64 / (0.02 * sr)).min(1.0)) as f32;
        }
    };
    let mut seed = 11u32;
    let mut beats = Vec::new();
    let mut t = 0.0;
    while t < seconds - 0.05 {
        beats.push(t);
        let mut phase = 0.0;
        add(t, 0.35, &mut |tt| {
            phase += TAU * (50.0 + 110.0 * (-tt / 0.03).exp()) / sr;
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = f64::from(seed) / f64::from(u32::MAX) * 2.0 - 1.0;
            0.8 * (phase.sin() * (-tt / 0.12).exp() + 0.3 * noise * (-tt / 0.003).exp())
        });
        t += period;
    }
    let mut start = 0.0;
    while start < seconds {
        for (pos, f) in [(0.0, 55.0), (0.75, 82.5), (1.5, 55.0)] {
            let mut low = 0.0;
            add(start + pos * period, 0.6 * period, &mut |tt| {
                // One-pole low-pass at about 350 Hz.
                low += 0.05 * ((TAU * f * tt).sin().signum() - low);
                0.4 * low * (tt / 0.005).min(1.0) * (-tt / 0.15).exp()
            });
        }
        start += 2.0 * period;
    }
    if open_hats {
        for &b in &beats {
            let mut prev = 0.0;
            add(b + 0.5 * period, 0.25, &mut |tt| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let noise = f64::from(seed) / f64::from(u32::MAX) * 2.0 - 1.0;
                // A first difference: the noise high-passed.
                let high = noise - prev;
                prev = noise;
                0.2 * high * (-tt / 0.08).exp()
            });
        }
    }
    (out, beats)
}

#[test]
fn techno_with_a_3_3_2_bass_is_not_halved() {
    // A kick on every beat under a bass that repeats every two beats: the
    // onset strength repeats more strongly at two beats than at one, and
    // the bass notes fill the kick band, so both drum bands hear the same
    // two-beat figure. The backbeat check read that as a snare answering a
    // kick and halved the tempo (at 130 BPM, 65 from 5 s on), and from
    // about 132 BPM the autocorrelation itself read half the tempo from the
    // start; the kick band's power rising on every beat now doubles it.
    for bpm in [128.0, 130.0, 136.0, 140.0, 150.0, 160.0, 174.0] {
        let (audio, truth) = techno_332(bpm, 30.0, false, SR);
        let res = analyze_clip(&clip(audio.clone()), 512, 0.0);
        let late: Vec<f64> = res
            .beats
            .iter()
            .map(|b| b.0)
            .filter(|&t| t > 10.0)
            .collect();
        let mut gaps: Vec<f64> = late.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let gap = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
        assert!(
            (gap * bpm / 60.0 - 1.0).abs() < 0.04,
            "{bpm} BPM: beats {gap:.3} s apart after 10 s (halved: {:.3})",
            120.0 / bpm
        );
        let (est, f, _) = judge(audio, &truth, 8.0);
        assert_eq!(
            eval::tempo_accuracy(bpm, est).0,
            1.0,
            "{est:.1} BPM, not {bpm}"
        );
        // At 160 the clock still sits a quarter of a beat early, on the
        // bass note before each kick: the next work, see issue 8's note.
        if bpm != 160.0 {
            assert!(f > 0.9, "{bpm} BPM: beat F {f:.2}");
        }
    }
}

#[test]
fn techno_with_open_hats_off_the_beat_flashes_on_the_kick() {
    // The open hat on every off-beat and the bass note on the "and" of 2
    // outweigh the kicks in the phase comb, and the low band's onsets peak
    // on the bass note at 0.75: the clock locked half a beat off, on the
    // hats (beat F 0 at 128). The kick band's power rise, with a kick on
    // every beat, holds it on the kicks.
    let (audio, truth) = techno_332(128.0, 30.0, true, SR);
    let res = analyze_clip(&clip(audio), 512, 0.0);
    let f = beat_f(&res.beats, &truth, 5.0, 30.0);
    assert!(f > 0.9, "beat F {f:.2} from 5 s");
}

#[test]
fn a_better_phase_found_between_hits_is_still_taken() {
    // Techno at 160 BPM with open hats between the kicks: once the tempo
    // is doubled to the kicks', the clock sits on the hats and the comb
    // (the kick band's power) names the kicks as a clearly better phase.
    // The switch comes three beats later; when that moment fell between
    // hits, where the clock makes no correction, the switch was dropped
    // and counted again from zero, always at the same point of the beat,
    // so it never came (beat F 0 from 8 to 16 s, .84 after).
    let (audio, truth) = techno_332(160.0, 30.0, true, SR);
    let res = analyze_clip(&clip(audio), 512, 0.0);
    let f = beat_f(&res.beats, &truth, 12.0, 30.0);
    assert!(f > 0.9, "beat F {f:.2} from 12 s");
}
