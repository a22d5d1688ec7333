//! The VJ surface driven like a person would (egui_kittest: clicks, slider
//! moves, typing) over the real panels, the real show state and, where a
//! check needs pixels or uniforms, the real renderer on lavapipe.

use std::path::PathBuf;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sonolux::analysis::{Analyzer, FeatureFrame};
use sonolux::preset::{Library, Origin};
use sonolux::render::{FrameClock, Gpu, Renderer};
use sonolux::show::{Command, Show, Transition};
use sonolux::ui::{Status, Surface};

/// The checkout the tests run in. Read at run time (cargo sets it for each
/// test run): the compile-time value can name another checkout when several
/// share one build cache.
fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// What a harness drives: the show, the surface and the live status.
struct Rig {
    show: Show,
    surface: Surface,
    status: Status,
}

fn presets() -> PathBuf {
    repo().join("presets")
}

/// The built-in presets and an empty user library (a folder that does not exist).
fn library() -> Library {
    Library::new(
        presets(),
        std::env::temp_dir().join(format!("sonolux-no-user-presets-{}", std::process::id())),
    )
}

fn rig(preset: &str) -> Rig {
    Rig {
        show: Show::new(library(), preset).expect("built-in preset"),
        surface: Surface::new(Default::default()),
        status: Status {
            audio_source: "test".into(),
            preview_aspect: 16.0 / 9.0,
            output_size: [320, 180],
            ..Default::default()
        },
    }
}

/// A harness that draws the surface and applies its commands, as the live
/// app does after each control frame.
fn harness(rig: Rig) -> Harness<'static, Rig> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, rig: &mut Rig| {
                let commands = rig.surface.ui(ui, &rig.show, &rig.status);
                for c in commands {
                    rig.show.apply(c);
                }
            },
            rig,
        )
}

fn renderer(show: &mut Show) -> Renderer {
    let gpu = Gpu::headless().expect("a GPU adapter (lavapipe on CI)");
    let mut r = Renderer::new(gpu, show.current.preset.clone(), [320, 180]).expect("renderer");
    r.adopt_show(show);
    r
}

/// Advances the show to `t` with `frame`.
fn tick(h: &mut Harness<'static, Rig>, frame: &FeatureFrame, t: f64) {
    h.state_mut().show.update(frame, t, 1.0 / 30.0);
    h.run();
}

/// Kick on 1 and 3, snare on 2 and 4, and a hat on every eighth, laid
/// `hat_layers` times over (louder hats).
fn rock_groove(hat_layers: usize) -> Vec<(f64, sonolux::audio::demo::Drum)> {
    use sonolux::audio::demo::Drum;
    let drums = [
        (0.0, Drum::Kick),
        (1.0, Drum::Snare),
        (2.0, Drum::Kick),
        (3.0, Drum::Snare),
    ];
    let hats = (0..hat_layers).flat_map(|_| (0..8).map(|k| (f64::from(k) * 0.5, Drum::Hat)));
    drums.into_iter().chain(hats).collect()
}

/// Clicks the button `label` and hands the beat overrides it queued to
/// `analyzer`, as the live show does.
fn press(h: &mut Harness<'static, Rig>, analyzer: &mut Analyzer, label: &str) {
    h.get_by_label(label).click();
    h.run();
    for o in h.state_mut().show.take_beat_overrides() {
        analyzer.override_beat(o);
    }
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Feeds `audio` into an analyzer up to each asked-for time, as the live
/// show's analysis thread does.
struct Feeder {
    analyzer: Analyzer,
    audio: Vec<f32>,
    fed: usize,
}

impl Feeder {
    fn new(audio: Vec<f32>, sr: u32) -> Self {
        Self {
            analyzer: Analyzer::new(sr),
            audio,
            fed: 0,
        }
    }

    /// The analysis after everything up to `t` seconds.
    fn frame_at(&mut self, t: f64) -> FeatureFrame {
        let sr = f64::from(self.analyzer.sample_rate());
        let target = ((t * sr) as usize).min(self.audio.len());
        while self.fed < target {
            let end = (self.fed + 512).min(target);
            self.analyzer.process(&self.audio[self.fed..end]);
            self.fed = end;
        }
        *self.analyzer.frame()
    }
}

fn click_track(bpm: f64, seconds: f64, sr: u32) -> Vec<f32> {
    let n = (seconds * f64::from(sr)) as usize;
    let period = 60.0 / bpm;
    let mut v = vec![0.0f32; n];
    let mut k = 0;
    loop {
        let start = (k as f64 * period * f64::from(sr)) as usize;
        if start >= n {
            break;
        }
        let accent = if k % 4 == 0 { 1.0 } else { 0.6 };
        for i in 0..(sr as usize / 50).min(n - start) {
            let t = i as f32 / sr as f32;
            v[start + i] +=
                accent * (t * 1000.0 * std::f32::consts::TAU).sin() * (-t * 150.0).exp()
                    + accent * 0.8 * (t * 60.0 * std::f32::consts::TAU).sin() * (-t * 40.0).exp();
        }
        k += 1;
    }
    v
}

#[test]
fn clicking_a_preset_then_go_switches_the_preset() {
    let mut h = harness(rig("tunnel"));
    let mut r = renderer(&mut h.state_mut().show);
    h.run();
    h.get_by_label("Julia Bloom").click();
    h.run();
    assert_eq!(
        h.state().show.cued.as_deref(),
        Some("fractal"),
        "a click cues"
    );
    assert_eq!(r.preset().id, "tunnel", "cueing does not switch");
    h.get_by_label("GO").click();
    h.run();
    // The default transition is a 4-beat crossfade (2 s without a tempo).
    let rig = h.state_mut();
    r.follow(&mut rig.show);
    assert_eq!(r.incoming_preset().map(|p| p.id.as_str()), Some("fractal"));
    let frame = FeatureFrame::default();
    rig.show.update(&frame, 2.5, 1.0 / 30.0);
    r.follow(&mut rig.show);
    assert_eq!(
        r.preset().id,
        "fractal",
        "after the fade the new preset is on"
    );
    assert!(r.incoming_preset().is_none());
}

#[test]
fn a_slider_changes_the_uniform_the_shader_reads() {
    let mut h = harness(rig("tunnel"));
    let mut r = renderer(&mut h.state_mut().show);
    h.run();
    let before = {
        let rig = h.state_mut();
        r.follow(&mut rig.show);
        r.render(&FeatureFrame::default(), FrameClock::default(), false);
        r.read_params()
    };
    assert_eq!(before[0], 0.5, "tunnel's speed starts at its default");
    h.get_by_role_and_label(Role::Slider, "speed")
        .set_value_accesskit(1.5);
    h.run();
    let rig = h.state_mut();
    r.follow(&mut rig.show);
    r.render(&FeatureFrame::default(), FrameClock::default(), false);
    let after = r.read_params();
    assert!(
        (after[0] - 1.5).abs() < 1e-6,
        "speed on the GPU: {}",
        after[0]
    );
    assert_eq!(after[1..], before[1..], "the other parameters did not move");
}

#[test]
fn four_taps_500_ms_apart_give_120_bpm() {
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    let mut analyzer = Analyzer::new(sr);
    let silence = vec![0.0f32; 512];
    let mut fed = 0usize;
    let mut advance = |analyzer: &mut Analyzer, t: f64| {
        while (fed as f64) < t * f64::from(sr) {
            analyzer.process(&silence);
            fed += silence.len();
        }
        *analyzer.frame()
    };
    for i in 0..4 {
        let t = 1.0 + 0.5 * f64::from(i);
        let frame = advance(&mut analyzer, t);
        tick(&mut h, &frame, t);
        press(&mut h, &mut analyzer, "Tap");
    }
    let frame = advance(&mut analyzer, 3.0);
    tick(&mut h, &frame, 3.0);
    let bpm = analyzer.frame().rhythm.bpm;
    assert!((bpm - 120.0).abs() < 0.5, "four taps at 500 ms: {bpm} BPM");
    assert!(analyzer.frame().rhythm.manual, "taps lead now");
    // The tempo panel shows it, and who leads.
    h.get_by_label("120.0");
    h.get_by_label_contains("taps / fixed BPM lead");
    // The top bar says so too, beside the BPM.
    h.get_by_label("fixed tempo");
}

#[test]
fn halving_the_tempo_from_the_panel_holds_the_analysis_there() {
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    let mut analyzer = Analyzer::new(sr);
    let groove = sonolux::audio::demo::synthesize_groove(24.0, sr);
    let second = sr as usize;
    analyzer.process(&groove[..10 * second]);
    let read = analyzer.frame().rhythm.bpm;
    assert!(read > 110.0, "the demo groove reads {read} BPM");
    tick(&mut h, analyzer.frame(), 10.0);
    press(&mut h, &mut analyzer, "/2");
    analyzer.process(&groove[10 * second..]);
    let frame = *analyzer.frame();
    tick(&mut h, &frame, 24.0);
    let bpm = frame.rhythm.bpm;
    assert!(
        (bpm / (read / 2.0) - 1.0).abs() < 0.04,
        "read {read:.1}, then /2 and 14 s of the same groove: {bpm:.1}"
    );
    h.get_by_label_contains("held near");
    // The top bar says so too, beside the BPM.
    h.get_by_label("held");
    // Auto lets the analysis choose again.
    press(&mut h, &mut analyzer, "Auto");
    assert_eq!(analyzer.frame().rhythm.tempo_hint, None);
}

#[test]
fn the_tempo_panel_says_when_the_backbeat_holds_the_octave() {
    use sonolux::audio::demo::pattern_track;
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    let mut analyzer = Analyzer::new(sr);
    // Rock at 70 BPM under eighths far louder than the drums: the
    // autocorrelation counts the eighths, the backbeat says 70 and holds it.
    // The hats 24 times over: far louder than the drums.
    let hits = rock_groove(24);
    let (audio, _) = pattern_track(70.0, 24.0, 0.5, 4, &hits, 0.0, sr);
    analyzer.process(&audio);
    let frame = *analyzer.frame();
    tick(&mut h, &frame, 24.0);
    let held = frame.rhythm.backbeat_hold;
    assert!(
        held.is_some_and(|bpm| (bpm / 70.0 - 1.0).abs() < 0.04),
        "backbeat hold {held:?} at {:.1} BPM",
        frame.rhythm.bpm
    );
    h.get_by_label_contains("backbeat holds it near 70 BPM");
    // The top bar says so too, beside the BPM; the VJ still leads with x2 or /2.
    h.get_by_label("backbeat");
    press(&mut h, &mut analyzer, "x2");
    assert_eq!(analyzer.frame().rhythm.backbeat_hold, None);
}

#[test]
fn the_tempo_panel_says_when_a_kick_on_every_beat_holds_the_octave() {
    use sonolux::audio::demo::{Drum, pattern_track};
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    let mut analyzer = Analyzer::new(sr);
    // Four on the floor at 140 BPM with an open hat between the kicks and
    // no snare: a kick on every beat is what holds the octave.
    let hits: Vec<(f64, Drum)> = (0..4)
        .flat_map(|b| [(f64::from(b), Drum::Kick), (f64::from(b) + 0.5, Drum::Hat)])
        .collect();
    let (audio, _) = pattern_track(140.0, 24.0, 0.5, 4, &hits, 0.0, sr);
    analyzer.process(&audio);
    let frame = *analyzer.frame();
    tick(&mut h, &frame, 24.0);
    let r = frame.rhythm;
    assert!(
        r.held_by_kick
            && r.backbeat_hold
                .is_some_and(|bpm| (bpm / 140.0 - 1.0).abs() < 0.04),
        "{r:?}"
    );
    h.get_by_label_contains("a kick on every beat holds it near 140 BPM");
    // The top bar says so too, beside the BPM.
    h.get_by_label("four on the floor");
    press(&mut h, &mut analyzer, "/2");
    assert!(!analyzer.frame().rhythm.held_by_kick);
}

#[test]
fn the_tempo_panel_says_when_the_bar_line_is_a_guess() {
    use sonolux::audio::demo::pattern_track;
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    // A live input that came in on a drum groove already playing: kicks on
    // 1 and 3 alike, snares on 2 and 4, hats between. Nothing in it tells
    // 1 from 3, and the start is not the one, so the panel says the bar
    // line is a guess until the VJ sets it.
    let mut analyzer = Analyzer::new(sr);
    analyzer.joins_music_in_progress();
    let hits = rock_groove(1);
    let (audio, _) = pattern_track(120.0, 20.0, 0.0, 4, &hits, 0.0, sr);
    let split = 16 * sr as usize;
    analyzer.process(&audio[..split]);
    let frame = *analyzer.frame();
    assert!(frame.rhythm.bar_guess, "{:?}", frame.rhythm);
    tick(&mut h, &frame, 16.0);
    h.get_by_label("1 or 3?");
    // The top bar marks the bar count too.
    h.get_by_label_contains("/4 ?");
    // The VJ presses Downbeat on the one: the bar line is theirs.
    press(&mut h, &mut analyzer, "Downbeat");
    analyzer.process(&audio[split..]);
    let frame = *analyzer.frame();
    assert!(!frame.rhythm.bar_guess, "{:?}", frame.rhythm);
    tick(&mut h, &frame, 20.0);
    assert!(h.query_by_label("1 or 3?").is_none());
    assert!(h.query_by_label_contains("/4 ?").is_none());
    // Heard from its start (a capture opened before the groove began, or
    // a file), the same groove's bar line is the one it started on.
    let mut heard = Analyzer::new(sr);
    heard.process(&audio[..split]);
    assert!(!heard.frame().rhythm.bar_guess);
}

/// The input panel says when a capture's second channel arrives inverted
/// (the downmix then takes it inverted), and says nothing otherwise.
#[test]
fn the_input_panel_says_when_a_leg_arrives_inverted() {
    let mut h = harness(rig("tunnel"));
    h.run();
    assert!(h.query_by_label_contains("arrives inverted").is_none());
    h.state_mut().status.inverted_leg = true;
    h.run();
    h.get_by_label_contains("Channel 2 arrives inverted");
}

/// Two bars without a hit (here silence after a groove): the tempo panel
/// says the clock rests, so a VJ whose pulses stopped knows the clock still
/// holds the tempo; the word goes when the drums are back.
#[test]
fn the_tempo_panel_says_when_the_clock_rests() {
    use sonolux::audio::demo::pattern_track;
    let sr = 44_100;
    let mut h = harness(rig("tunnel"));
    let mut analyzer = Analyzer::new(sr);
    let hits = rock_groove(1);
    let (groove, _) = pattern_track(120.0, 8.0, 0.0, 4, &hits, 0.0, sr);
    analyzer.process(&groove);
    let playing = *analyzer.frame();
    assert!(
        !playing.rhythm.resting && playing.rhythm.confidence > 0.3,
        "{:?}",
        playing.rhythm
    );
    tick(&mut h, &playing, 8.0);
    assert!(h.query_by_label("resting").is_none());
    analyzer.process(&vec![0.0; 6 * sr as usize]);
    let resting = *analyzer.frame();
    assert!(
        resting.rhythm.resting
            && resting.rhythm.confidence == 0.0
            && (resting.rhythm.bpm - 120.0).abs() < 2.0,
        "{:?}",
        resting.rhythm
    );
    tick(&mut h, &resting, 14.0);
    h.get_by_label("resting");
    h.get_by_label("confidence 0 %");
    analyzer.process(&groove[..4 * sr as usize]);
    let back = *analyzer.frame();
    assert!(!back.rhythm.resting, "{:?}", back.rhythm);
    tick(&mut h, &back, 18.0);
    assert!(h.query_by_label("resting").is_none());
}

#[test]
fn a_modulation_assignment_moves_its_parameter_with_a_bass_line() {
    let sr = 44_100u32;
    let mut h = harness(rig("tunnel"));
    h.run();
    // Open speed's modulation editor and pick bass as its source.
    h.get_all_by_label("mod")
        .next()
        .expect("a mod button")
        .click();
    h.run();
    h.get_by_label("Modulation of speed");
    h.get_by_label("source").click();
    h.run();
    h.get_all_by_label("bass")
        .last()
        .expect("bass in the list")
        .click();
    h.run();
    let m = h.state().show.current.modulation(0).copied();
    assert_eq!(
        m.map(|m| m.source.to_string()).as_deref(),
        Some("bass"),
        "{m:?}"
    );
    // A bass line: 60 Hz, on for 250 ms, off for 250 ms.
    let n = (8.0 * f64::from(sr)) as usize;
    let audio: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / sr as f32;
            let on = (t * 2.0).fract() < 0.5;
            if on {
                0.8 * (t * 60.0 * std::f32::consts::TAU).sin()
            } else {
                0.0
            }
        })
        .collect();
    let mut feeder = Feeder::new(audio, sr);
    let (mut on_sum, mut on_n, mut off_sum, mut off_n) = (0.0, 0, 0.0, 0);
    for k in 0..(8 * 30) {
        let t = f64::from(k) / 30.0;
        let frame = feeder.frame_at(t);
        let rig = h.state_mut();
        rig.show.update(&frame, t, 1.0 / 30.0);
        let v = rig.show.current.values[0];
        // Judge the second half of each half-second (the follower settled).
        let phase = (t * 2.0).fract();
        if t > 3.0 {
            if (0.25..0.5).contains(&phase) {
                on_sum += v;
                on_n += 1;
            } else if phase >= 0.75 {
                off_sum += v;
                off_n += 1;
            }
        }
    }
    let (on, off) = (on_sum / on_n as f32, off_sum / off_n as f32);
    let base = h.state().show.current.base[0];
    assert!(on > off + 0.2, "speed with bass {on:.3}, without {off:.3}");
    assert!(
        off >= base - 1e-6,
        "a positive amount never goes below the base"
    );
    h.run();
}

#[test]
fn a_crossfade_middle_frame_differs_from_both_ends() {
    let mut h = harness(rig("tunnel"));
    let mut r = renderer(&mut h.state_mut().show);
    h.state_mut().show.apply(Command::SetLimiter(false));
    h.run();
    h.get_by_label("crossfade").click();
    h.get_by_label("Julia Bloom").click();
    h.run();
    h.get_by_label("GO").click();
    h.run();
    assert_eq!(
        h.state().show.transition,
        Transition::Crossfade { beats: 4.0 }
    );
    let frame = FeatureFrame::default();
    // The same music moment for every frame, so only the mix differs.
    let clock = FrameClock {
        time: 5.0,
        delta: 1.0 / 30.0,
        frame: 0,
    };
    let mut at = |h: &mut Harness<'static, Rig>, t: f64| {
        let rig = h.state_mut();
        rig.show.update(&frame, t, 1.0 / 30.0);
        r.follow(&mut rig.show);
        (r.mix, r.render(&frame, clock, true).expect("pixels"))
    };
    let (m0, start) = at(&mut h, 0.0);
    let (m1, middle) = at(&mut h, 1.0);
    let (m2, end) = at(&mut h, 1.999);
    assert!(
        m0 == 0.0 && (m1 - 0.5).abs() < 1e-3 && m2 > 0.99,
        "{m0} {m1} {m2}"
    );
    let d_start = mean_abs_diff(&middle, &start);
    let d_end = mean_abs_diff(&middle, &end);
    assert!(
        d_start > 3.0 && d_end > 3.0,
        "middle vs ends: {d_start:.2} {d_end:.2}"
    );
    // And it is the mix of the two.
    let halfway: Vec<u8> = start
        .iter()
        .zip(&end)
        .map(|(a, b)| ((u16::from(*a) + u16::from(*b)) / 2) as u8)
        .collect();
    let d_mix = mean_abs_diff(&middle, &halfway);
    assert!(d_mix < 2.0, "middle vs average of the ends: {d_mix:.2}");
}

#[test]
fn a_setlist_advances_after_its_bars_on_a_click_track() {
    let sr = 44_100u32;
    let dir = std::env::temp_dir().join(format!("sonolux-surface-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("set.toml");
    std::fs::write(
        &path,
        "[[entry]]\npreset = \"tunnel\"\nbars = 2\n\n[[entry]]\npreset = \"fractal\"\nbars = 2\n\n[[entry]]\npreset = \"warp\"\n",
    )
    .expect("write");
    let mut h = harness(rig("warp"));
    h.state_mut().show.transition = Transition::Cut;
    h.run();
    h.get_by_label("Setlist").click();
    h.run();
    h.state_mut().surface.setlist_path = path.display().to_string();
    h.run();
    h.get_by_label("Load").click();
    h.run();
    assert_eq!(
        h.state().show.shown_id(),
        "tunnel",
        "loading takes the first entry"
    );
    let mut feeder = Feeder::new(click_track(120.0, 16.0, sr), sr);
    let mut changes = Vec::new();
    let mut last = h.state().show.shown_id().to_owned();
    for k in 0..(16 * 30) {
        let t = f64::from(k) / 30.0;
        let frame = feeder.frame_at(t);
        let rig = h.state_mut();
        rig.show.update(&frame, t, 1.0 / 30.0);
        let id = rig.show.shown_id().to_owned();
        if id != last {
            changes.push((t, id.clone()));
            last = id;
        }
    }
    h.run();
    let ids: Vec<&str> = changes.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["fractal", "warp"], "{changes:?}");
    // 2 bars at 120 BPM = 4 s (the first may be shortened while the tempo locks).
    let held = changes[1].0 - changes[0].0;
    assert!(
        (held - 4.0).abs() < 0.1,
        "fractal held {held:.3} s: {changes:?}"
    );
    assert!(changes[0].0 > 2.0 && changes[0].0 < 6.5, "{changes:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_broken_preset_is_marked_and_a_missing_setlist_entry_reported() {
    let dir = std::env::temp_dir().join(format!("sonolux-broken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for id in ["tunnel", "fractal"] {
        let (src, dst) = (presets().join(id), dir.join(id));
        std::fs::create_dir_all(&dst).expect("dir");
        for e in std::fs::read_dir(&src).expect("read") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), dst.join(e.file_name())).expect("copy");
        }
    }
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).expect("dir");
    std::fs::write(
        broken.join("preset.toml"),
        "name = \"Broken\"\n[[pass]]\nshader = \"main.wgsl\"\n",
    )
    .expect("write");
    std::fs::write(
        broken.join("main.wgsl"),
        "fn shade(uv: vec2f) -> vec4f { return nope; }\n",
    )
    .expect("write");
    let mut show = Show::new(Library::new(&dir, dir.join("user")), "tunnel").expect("tunnel loads");
    show.apply(Command::SetlistAdd("nowhere".into(), Some(4)));
    let mut h = harness(Rig {
        show,
        surface: Surface::new(Default::default()),
        status: Status::default(),
    });
    h.run();
    let entry = h
        .state()
        .show
        .library
        .iter()
        .find(|e| e.id == "broken")
        .cloned()
        .expect("listed");
    let error = entry.error.expect("marked broken");
    assert!(error.contains("main.wgsl:1:"), "{error}");
    // The browser shows it with its error; a click does not take it.
    h.get_all_by_label_contains("main.wgsl:1:")
        .next()
        .expect("error on the surface");
    h.get_by_label("broken").click();
    h.run();
    assert_eq!(h.state().show.cued, None);
    // Stepping skips it; a setlist naming a missing preset says so.
    h.state_mut().show.apply(Command::Take("broken".into()));
    assert_eq!(h.state().show.shown_id(), "tunnel");
    let list = sonolux::show::Setlist::every(&["nowhere".into(), "fractal".into()], 4);
    h.state_mut().show.set_setlist(list, None);
    h.run();
    assert_eq!(
        h.state().show.shown_id(),
        "fractal",
        "the missing entry is skipped"
    );
    h.get_all_by_label_contains("'nowhere', which does not exist")
        .next()
        .expect("message shown");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn snapshots_of_the_surface() {
    let mut rig = rig("tunnel");
    rig.show.apply(Command::Cue("warp".into()));
    let gpu = Gpu::headless().expect("GPU");
    let mut h = harness(rig);
    // Thumbnails rendered by the engine, as in the live show.
    let ctx = h.ctx.clone();
    let ids: Vec<String> = h
        .state()
        .show
        .library
        .iter()
        .map(|e| e.id.clone())
        .collect();
    for id in ids {
        let p = sonolux::preset::find(&presets(), &id).expect("preset");
        let px = sonolux::render::thumbnail::render_thumbnail(&gpu, p).expect("thumbnail");
        h.state_mut().surface.set_thumbnail(
            &ctx,
            &id,
            sonolux::render::thumbnail::THUMBNAIL_SIZE,
            &px,
        );
    }
    h.run();
    h.snapshot("surface_presets");
    h.get_all_by_label("mod").next().expect("mod").click();
    h.run();
    h.get_by_label("Setlist").click();
    h.run();
    h.snapshot("surface_setlist_modulation");
    h.get_by_label("Help").click();
    h.run();
    h.snapshot("surface_help");
}

#[test]
fn a_panel_that_panics_is_replaced_by_its_error_and_the_rest_goes_on() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, rig: &mut Rig| {
                rig.surface
                    .guarded(ui, "broken", |_, _| panic!("a bug in a panel"));
                let commands = rig.surface.ui(ui, &rig.show, &rig.status);
                for c in commands {
                    rig.show.apply(c);
                }
            },
            rig("tunnel"),
        );
    h.run();
    h.run();
    assert_eq!(
        h.state()
            .surface
            .failed_panels()
            .get("broken")
            .map(String::as_str),
        Some("a bug in a panel")
    );
    h.get_by_label("broken panel failed: a bug in a panel");
    // The other panels still work.
    h.get_by_label("Tap").click();
    h.run();
    assert_eq!(h.state_mut().show.take_beat_overrides().len(), 1);
}

#[test]
fn setlist_entries_move_and_the_one_on_screen_stays() {
    let mut rig = rig("tunnel");
    let ids: Vec<String> = ["tunnel", "fractal", "warp"].map(String::from).to_vec();
    rig.show
        .set_setlist(sonolux::show::Setlist::every(&ids, 8), None);
    let mut h = harness(rig);
    h.run();
    h.get_by_label("Setlist").click();
    h.run();
    // Move the first entry (on screen) down.
    h.get_all_by_label("v").next().expect("move down").click();
    h.run();
    let s = h.state().show.setlist.clone().expect("setlist");
    let order: Vec<&str> = s
        .setlist
        .entries
        .iter()
        .map(|e| e.preset.as_str())
        .collect();
    assert_eq!(order, ["fractal", "tunnel", "warp"]);
    assert_eq!(s.index, 1, "tunnel is still the entry on screen");
    assert_eq!(h.state().show.shown_id(), "tunnel");
}

#[test]
fn saving_a_builtin_writes_a_user_copy_atomically_and_leaves_the_builtin_alone() {
    let user = std::env::temp_dir().join(format!("sonolux-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&user);
    let builtin_toml = presets().join("tunnel/preset.toml");
    let before = std::fs::read(&builtin_toml).expect("built-in tunnel");
    let lib = Library::new(presets(), &user);
    let dir = user.clone();
    let dst = user.join("tunnel");
    let show = Show::new(lib, "tunnel").expect("tunnel");
    let mut h = harness(Rig {
        show,
        surface: Surface::new(Default::default()),
        status: Status::default(),
    });
    h.run();
    h.get_by_role_and_label(Role::Slider, "speed")
        .set_value_accesskit(1.25);
    h.run();
    h.get_by_label("Save").click();
    h.run();
    assert_eq!(
        std::fs::read(&builtin_toml).expect("built-in tunnel"),
        before,
        "a built-in is never changed"
    );
    let saved = sonolux::preset::find(&dir, "tunnel").expect("the user copy loads");
    assert_eq!(
        saved.spec.params[0].default, 1.25,
        "the new default is in the user copy"
    );
    // The user copy now shadows the built-in, which stays reachable.
    let lib_entry = |id: &str| {
        h.state()
            .show
            .library
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.origin)
    };
    assert_eq!(lib_entry("tunnel"), Some(Origin::User));
    assert_eq!(lib_entry("builtin:tunnel"), Some(Origin::BuiltIn));
    assert_eq!(h.state().show.editing().preset.dir, dst);
    // Saving again writes the user copy (no second copy).
    h.get_by_label("Save").click();
    h.run();
    assert!(!user.join("tunnel-2").exists());
    // Save as: a new preset folder beside it, listed in the library.
    h.state_mut().surface.save_as = "my-tunnel".into();
    h.run();
    h.get_by_label("Save as").click();
    h.run();
    let mine = sonolux::preset::find(&dir, "my-tunnel").expect("the copy loads");
    assert_eq!(mine.spec.params[0].default, 1.25);
    assert!(h.state().show.library.iter().any(|e| e.id == "my-tunnel"));
    // No temporary files left behind; a bad id is refused with a message.
    let leftovers: Vec<_> = std::fs::read_dir(&dst)
        .expect("read")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    h.state_mut()
        .show
        .apply(Command::SavePresetAs("../escape".into()));
    assert!(!dir.join("../escape").exists());
    assert!(
        h.state()
            .show
            .messages
            .iter()
            .any(|m| m.text.contains("is not a preset id")),
        "{:?}",
        h.state().show.messages
    );
    let _ = std::fs::remove_dir_all(dir);
}
