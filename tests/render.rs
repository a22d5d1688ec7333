//! Render checks on the CPU rasteriser (lavapipe) or any GPU: preset
//! validation, golden images, reactivity, determinism, bad input.
//!
//! Golden references live in `tests/golden/`. To update them after an
//! intended visual change: `UPDATE_GOLDEN=1 scripts/test` (then look at the
//! new PNGs before committing them). On a mismatch the actual frame and a diff
//! are written to `target/golden-diff/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sonolux::audio::{AudioClip, demo};
use sonolux::offline::render::VirtualClock;
use sonolux::preset::{self, Preset};
use sonolux::render::{FrameClock, Gpu, Renderer};

/// The checkout the tests run in. Read at run time (cargo sets it for each
/// test run): the compile-time value can name another checkout when several
/// share one build cache.
fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

const W: u32 = 160;
const H: u32 = 90;
const FPS: f64 = 30.0;
/// Mean absolute difference per channel (0..255) allowed against a golden frame.
const GOLDEN_MEAN_TOLERANCE: f64 = 1.0;
/// Share of channel values allowed to differ by more than 8/255.
const GOLDEN_OUTLIER_SHARE: f64 = 0.002;

fn presets_dir() -> PathBuf {
    repo().join("presets")
}

fn builtin() -> Vec<Preset> {
    let ids = preset::list(&presets_dir());
    assert!(
        ids.len() >= 8,
        "expected at least 8 built-in presets, found {ids:?}"
    );
    ids.iter()
        .map(|id| Preset::load(&presets_dir().join(id)).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn groove() -> AudioClip {
    AudioClip {
        samples: demo::synthesize_groove(6.0, 44_100),
        sample_rate: 44_100,
    }
}

fn silence() -> AudioClip {
    AudioClip {
        samples: vec![0.0; 44_100 * 6],
        sample_rate: 44_100,
    }
}

/// Renders frames 0..=last of `clip` at 30 fps and returns the ones in `keep`.
fn render_frames(renderer: &mut Renderer, clip: &AudioClip, keep: &[u64]) -> Vec<Vec<u8>> {
    let last = *keep.iter().max().expect("frames");
    let mut clock = VirtualClock::new(clip);
    let mut out = Vec::new();
    for n in 0..=last {
        let t = n as f64 / FPS;
        let frame = *clock.advance_to(t);
        let capture = keep.contains(&n);
        let px = renderer.render(
            &frame,
            FrameClock {
                time: t,
                delta: (1.0 / FPS) as f32,
                frame: n,
            },
            capture,
        );
        if let Some(px) = px {
            out.push(px);
        }
    }
    out
}

fn renderer_for(p: &Preset) -> Renderer {
    let gpu = Gpu::headless().expect("a GPU adapter (install mesa-vulkan-drivers for lavapipe)");
    Renderer::new(gpu, p.clone(), [W, H]).unwrap_or_else(|e| panic!("{}: {e}", p.id))
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Relative linear luminance 0..1 averaged over a 16x9 grid of cells,
/// measured independently of the engine's own GPU measurement.
fn luminance_grid(px: &[u8], w: usize, h: usize) -> Vec<f32> {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (gw, gh) = (16, 9);
    let mut grid = vec![0.0f64; gw * gh];
    let mut count = vec![0usize; gw * gh];
    for y in 0..h {
        for x in 0..w {
            let p = &px[(y * w + x) * 4..];
            let cell = (y * gh / h) * gw + x * gw / w;
            grid[cell] += 0.2126 * lin(p[0]) + 0.7152 * lin(p[1]) + 0.0722 * lin(p[2]);
            count[cell] += 1;
        }
    }
    grid.iter()
        .zip(count)
        .map(|(s, n)| (s / n.max(1) as f64) as f32)
        .collect()
}

#[test]
fn every_shipped_shader_validates_with_naga() {
    for p in builtin() {
        assert!(!p.passes.is_empty(), "{}", p.id);
    }
    // Internal shaders (output, measurement, blit) too, assembled as the
    // engine assembles them (after the shared fullscreen triangle).
    for name in ["output.wgsl", "measure.wgsl", "blit.wgsl"] {
        let path = repo().join("shaders").join(name);
        let src = sonolux::preset::shader::internal(
            &std::fs::read_to_string(&path).expect("shader file"),
        );
        let module = naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.emit_to_string_with_path(&src, &path.display().to_string())
            )
        });
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&src)));
    }
}

#[test]
fn golden_frames_match_references() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let golden = repo().join("tests/golden");
    let diff_dir = repo().join("target/golden-diff");
    let clip = groove();
    let keep = [45u64, 100];
    let mut failures = Vec::new();
    for p in builtin() {
        let mut r = renderer_for(&p);
        let frames = render_frames(&mut r, &clip, &keep);
        for (px, n) in frames.iter().zip(keep) {
            let path = golden.join(format!("{}_{n:03}.png", p.id));
            if update || !path.exists() {
                std::fs::create_dir_all(&golden).expect("golden dir");
                image::save_buffer(&path, px, W, H, image::ExtendedColorType::Rgba8)
                    .expect("write golden");
                if !update {
                    failures.push(format!(
                        "{}: no reference, wrote one; look at it and commit it",
                        path.display()
                    ));
                }
                continue;
            }
            let reference = image::open(&path)
                .expect("read golden")
                .to_rgba8()
                .into_raw();
            assert_eq!(
                reference.len(),
                px.len(),
                "{}: size changed",
                path.display()
            );
            let mean = mean_abs_diff(&reference, px);
            let outliers = reference
                .iter()
                .zip(px)
                .filter(|(a, b)| a.abs_diff(**b) > 8)
                .count() as f64
                / px.len() as f64;
            if mean > GOLDEN_MEAN_TOLERANCE || outliers > GOLDEN_OUTLIER_SHARE {
                std::fs::create_dir_all(&diff_dir).expect("diff dir");
                let actual = diff_dir.join(format!("{}_{n:03}_actual.png", p.id));
                image::save_buffer(&actual, px, W, H, image::ExtendedColorType::Rgba8)
                    .expect("write");
                let diff: Vec<u8> = reference
                    .chunks_exact(4)
                    .zip(px.chunks_exact(4))
                    .flat_map(|(a, b)| {
                        let d = (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0);
                        [d.saturating_mul(8), 0, 0, 255]
                    })
                    .collect();
                image::save_buffer(
                    diff_dir.join(format!("{}_{n:03}_diff.png", p.id)),
                    &diff,
                    W,
                    H,
                    image::ExtendedColorType::Rgba8,
                )
                .expect("write");
                failures.push(format!(
                    "{}: mean diff {mean:.2}/255, {:.3}% outliers (see {})",
                    path.display(),
                    outliers * 100.0,
                    actual.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_preset_reacts_to_the_music() {
    let loud = groove();
    let quiet = silence();
    // Frames on and just after beats of the groove, after the clock has locked.
    let keep = [90u64, 95, 100, 105];
    for p in builtin() {
        let a = render_frames(&mut renderer_for(&p), &quiet, &keep);
        let b = render_frames(&mut renderer_for(&p), &loud, &keep);
        let diff: f64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| mean_abs_diff(x, y))
            .sum::<f64>()
            / keep.len() as f64;
        assert!(
            diff > 4.0,
            "{}: silent and loud renders differ by only {diff:.2}/255",
            p.id
        );
        // And the loud frames themselves change over time (not a still).
        let motion = mean_abs_diff(&b[0], &b[2]);
        assert!(
            motion > 1.0,
            "{}: frames barely change with the music ({motion:.2}/255)",
            p.id
        );
    }
}

#[test]
fn the_renderer_asks_for_the_web_audio_rows_only_while_a_preset_reads_them() {
    // The live show computes Shadertoy's audio texture while the preset on
    // screen, or the one a transition brings in, samples it (bloom does).
    let all = builtin();
    let find = |id: &str| all.iter().find(|p| p.id == id).expect(id).clone();
    let mut r = renderer_for(&find("tunnel"));
    assert!(!r.reads_web_audio(), "tunnel reads our own spectrum");
    r.start_transition(find("bloom")).expect("transition");
    assert!(r.reads_web_audio(), "bloom fading in");
    r.complete_transition();
    assert!(r.reads_web_audio(), "bloom on screen");
    r.start_transition(find("warp")).expect("transition");
    assert!(r.reads_web_audio(), "bloom fading out");
    r.complete_transition();
    assert!(!r.reads_web_audio(), "warp alone");
}

#[test]
fn renders_are_deterministic() {
    let clip = groove();
    let keep = [20u64, 40, 60];
    let p = preset::find(&presets_dir(), "flow").expect("flow preset");
    let a = render_frames(&mut renderer_for(&p), &clip, &keep);
    let b = render_frames(&mut renderer_for(&p), &clip, &keep);
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        assert!(x == y, "two renders of the same input differ");
    }
}

#[test]
fn flash_limiter_holds_a_strobe_to_three_flashes_per_second() {
    use sonolux::show::flash::max_flashes_per_second;
    let clip = groove();
    // A full-frame 6 Hz white flicker (the built-in strobe stays inside the
    // rules by design now, so it cannot be the torture input).
    let toml = "name = \"flicker\"\n[[pass]]\nshader = \"main.wgsl\"\n[[param]]\nname = \"hz\"\ndefault = 6.0\nmin = 0.0\nmax = 20.0\n[[param]]\nname = \"mode\"\ndefault = 0.0\nmin = 0.0\nmax = 3.0\n";
    let dir = temp_preset("flicker6", toml, Some(TORTURE_WGSL));
    let p = Preset::load(&dir).expect("flicker preset");
    let measure = |limit: bool| {
        let mut r = renderer_for(&p);
        r.limiter.enabled = limit;
        let mut clock = VirtualClock::new(&clip);
        let mut grids = Vec::new();
        for n in 0..240u64 {
            let t = 1.0 + n as f64 / 60.0;
            let f = *clock.advance_to(t);
            let px = r
                .render(
                    &f,
                    FrameClock {
                        time: t,
                        delta: 1.0 / 60.0,
                        frame: n,
                    },
                    true,
                )
                .expect("pixels");
            grids.push((t, luminance_grid(&px, W as usize, H as usize)));
        }
        (max_flashes_per_second(&grids), r.limiter.frames_limited)
    };
    let (unlimited, _) = measure(false);
    let (limited, held) = measure(true);
    assert!(
        unlimited >= 5.0,
        "test input should flash hard without the limiter: {unlimited}"
    );
    assert!(limited <= 3.0, "limiter let {limited} flashes/s through");
    assert!(held > 0);
}

fn temp_preset(name: &str, toml: &str, wgsl: Option<&str>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sonolux-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("preset.toml"), toml).expect("write toml");
    if let Some(w) = wgsl {
        std::fs::write(dir.join("main.wgsl"), w).expect("write wgsl");
    }
    dir
}

const TOML_OK: &str =
    "name = \"t\"\n[[pass]]\nshader = \"main.wgsl\"\n[[param]]\nname = \"gain\"\ndefault = 0.5\n";

#[test]
fn broken_wgsl_reports_file_line_column() {
    let dir = temp_preset(
        "badwgsl",
        TOML_OK,
        Some(
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    let c = vec3f(uv, 0.0);\n    return vec4f(c, undefined_thing);\n}\n",
        ),
    );
    let e = Preset::load(&dir).expect_err("must fail").to_string();
    let want = format!("{}:3:", dir.join("main.wgsl").display());
    assert!(e.starts_with(&want), "{e}");
    assert!(
        e.contains("undefined_thing") || e.contains("no definition"),
        "{e}"
    );
}

#[test]
fn toml_with_wrong_type_reports_line() {
    let dir = temp_preset(
        "badtoml",
        "name = \"t\"\nrender_scale = \"half\"\n[[pass]]\nshader = \"main.wgsl\"\n",
        Some("fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(1.0); }\n"),
    );
    let e = Preset::load(&dir).expect_err("must fail").to_string();
    assert!(
        e.starts_with(&format!("{}:2:", dir.join("preset.toml").display())),
        "{e}"
    );
}

#[test]
fn missing_pass_file_is_named() {
    let dir = temp_preset("nopass", TOML_OK, None);
    let e = Preset::load(&dir).expect_err("must fail").to_string();
    assert!(e.contains("main.wgsl"), "{e}");
}

#[test]
fn unknown_parameter_is_rejected() {
    let dir = temp_preset(
        "param",
        TOML_OK,
        Some("fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(param.gain); }\n"),
    );
    let p = Preset::load(&dir).expect("valid preset");
    let mut values = p.spec.default_values();
    let mut o = BTreeMap::new();
    o.insert("colour".to_string(), 1.0);
    let e = p
        .spec
        .apply_overrides(&mut values, &o)
        .expect_err("unknown");
    assert!(e.contains("colour") && e.contains("gain"), "{e}");
    // And through the command line.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sonolux"))
        .args([
            "render",
            "--preset",
            "tunnel",
            "--duration",
            "0.1",
            "--size",
            "64x36",
            "--param",
            "nope=1",
        ])
        .arg("--out")
        .arg(std::env::temp_dir().join("sonolux-test-cli-param"))
        .output()
        .expect("run sonolux");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no parameter 'nope'"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_broken_preset_never_replaces_a_working_one() {
    let good = preset::find(&presets_dir(), "tunnel").expect("tunnel");
    let mut r = renderer_for(&good);
    // Valid for naga but the shader reads a binding with the wrong type: make
    // the GPU-side failure path run by handing a pass with broken source.
    let mut broken = good.clone();
    broken.passes[0].source = "this is not wgsl".into();
    assert!(r.set_preset(broken).is_err());
    assert_eq!(r.preset().id, "tunnel");
    let f = sonolux::analysis::FeatureFrame::default();
    assert!(r.render(&f, FrameClock::default(), true).is_some());
}

/// The binary alone, copied into an empty folder with `HOME` elsewhere and
/// no source tree around it: the built-in presets and the demo track are
/// embedded.
#[test]
fn the_binary_alone_runs_from_an_empty_folder() {
    let root = std::env::temp_dir().join(format!("sonolux-alone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (work, home) = (root.join("work"), root.join("home"));
    std::fs::create_dir_all(&work).expect("work dir");
    std::fs::create_dir_all(&home).expect("home dir");
    let bin = work.join("sonolux");
    std::fs::copy(env!("CARGO_BIN_EXE_sonolux"), &bin).expect("copy the binary");
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(&bin);
        c.current_dir(&work).env("HOME", &home).args(args);
        for v in [
            "SONOLUX_PRESETS",
            "SONOLUX_USER_PRESETS",
            "SONOLUX_CONFIG_DIR",
            "SONOLUX_CACHE_DIR",
            "XDG_DATA_HOME",
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "CARGO_MANIFEST_DIR",
        ] {
            c.env_remove(v);
        }
        let o = c.output().expect("run the copied binary");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "sonolux {args:?} failed:\n{text}");
        text
    };
    // Every built-in preset is listed, from the embedded copy.
    let list = run(&["presets", "list"]);
    for id in sonolux::preset::list(&repo().join("presets")) {
        assert!(list.contains(&format!("  {id} ")), "{id} missing:\n{list}");
    }
    assert!(
        list.contains(&home.join(".cache").display().to_string()),
        "{list}"
    );
    // 2 s of the demo to PNG frames.
    run(&[
        "render",
        "--preset",
        "tunnel",
        "--size",
        "96x54",
        "--fps",
        "5",
        "--start",
        "20",
        "--duration",
        "2",
        "--out",
        "frames",
    ]);
    let frames = std::fs::read_dir(work.join("frames"))
        .expect("frames")
        .count();
    assert_eq!(frames, 10);
    // The embedded demo as WAV, analysed.
    run(&["demo", "demo.wav"]);
    let analysis = run(&["analyze", "demo.wav", "--out", "analysis"]);
    let bpm: f64 = analysis
        .split(" BPM")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no tempo in: {analysis}"));
    assert!((bpm - 124.0).abs() < 2.0, "demo tempo {bpm}: {analysis}");
    assert!(work.join("analysis").read_dir().expect("analysis").count() > 0);
    // Nothing but the binary's own outputs appeared in the working folder.
    let mut names: Vec<String> = std::fs::read_dir(&work)
        .expect("work")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["analysis", "demo.wav", "frames", "sonolux"]);
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn doctor_reports_the_machine_and_says_when_vulkan_is_missing() {
    let doctor = |no_vulkan: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sonolux"));
        c.arg("doctor");
        if no_vulkan {
            c.env("VK_ICD_FILENAMES", "/nonexistent")
                .env("VK_DRIVER_FILES", "/nonexistent");
        }
        let o = c.output().expect("run sonolux doctor");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        (o.status.success(), out, err)
    };
    let (ok, out, err) = doctor(false);
    assert!(ok, "{out}{err}");
    for part in [
        "sonolux 0.",
        "(git ",
        "GPU sonolux would use:",
        "built-in presets: ",
        "your presets: ",
        "settings: ",
        "ffmpeg",
    ] {
        assert!(out.contains(part), "doctor lacks '{part}':\n{out}");
    }
    let (ok, out, err) = doctor(true);
    assert!(!ok, "doctor must fail without a Vulkan driver:\n{out}");
    assert!(
        out.contains("no Vulkan driver: install mesa-vulkan-drivers"),
        "{out}{err}"
    );
}

#[test]
fn cli_renders_pngs_from_the_demo_track() {
    let out = std::env::temp_dir().join(format!("sonolux-test-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_sonolux"))
        .current_dir(repo())
        .args([
            "render",
            "--preset",
            "spectrum",
            "--size",
            "96x54",
            "--fps",
            "10",
            "--start",
            "10",
            "--duration",
            "0.5",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run sonolux");
    assert!(status.success());
    let n = std::fs::read_dir(&out).expect("out dir").count();
    assert_eq!(n, 5);
    let img = image::open(out.join("frame_00004.png"))
        .expect("png")
        .to_rgba8();
    assert_eq!(img.dimensions(), (96, 54));
}

fn temp_multi_pass(name: &str, toml: &str, files: &[(&str, &str)]) -> Preset {
    let dir = temp_preset(name, toml, None);
    for (f, src) in files {
        std::fs::write(dir.join(f), src).expect("write wgsl");
    }
    Preset::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn mean_rgb(px: &[u8]) -> [f64; 3] {
    let n = (px.len() / 4).max(1) as f64;
    let mut m = [0.0; 3];
    for p in px.chunks_exact(4) {
        for c in 0..3 {
            m[c] += f64::from(p[c]) / n;
        }
    }
    m
}

#[test]
fn passes_chain_and_feedback_accumulates() {
    // Pass 0 paints solid red; pass 1 reads it through `input` and halves it.
    let chain = temp_multi_pass(
        "chain",
        "name = \"chain\"\n[[pass]]\nshader = \"a.wgsl\"\n[[pass]]\nshader = \"b.wgsl\"\n",
        &[
            (
                "a.wgsl",
                "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(1.0, 0.0, 0.0, 1.0); }\n",
            ),
            (
                "b.wgsl",
                "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return input(uv) * 0.5; }\n",
            ),
        ],
    );
    assert!(!chain.uses_feedback());
    let mut r = renderer_for(&chain);
    let f = sonolux::analysis::FeatureFrame::default();
    let px = r.render(&f, FrameClock::default(), true).expect("pixels");
    let m = mean_rgb(&px);
    assert!(
        (m[0] - 127.5).abs() < 1.5 && m[1] < 0.5 && m[2] < 0.5,
        "{m:?}"
    );

    // A pass that adds 0.1 to its own previous frame brightens frame by frame
    // and gets float targets.
    let fb = temp_multi_pass(
        "feedback",
        "name = \"fb\"\n[[pass]]\nshader = \"a.wgsl\"\n",
        &[(
            "a.wgsl",
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return prev(uv) + vec4f(0.1, 0.1, 0.1, 0.0); }\n",
        )],
    );
    assert!(fb.uses_feedback());
    let mut r = renderer_for(&fb);
    let mut levels = Vec::new();
    for n in 0..5u64 {
        let px = r
            .render(
                &f,
                FrameClock {
                    time: n as f64 / 30.0,
                    delta: 1.0 / 30.0,
                    frame: n,
                },
                true,
            )
            .expect("pixels");
        levels.push(mean_rgb(&px)[1]);
    }
    for (i, l) in levels.iter().enumerate() {
        let want = 25.5 * (i + 1) as f64;
        assert!(
            (l - want).abs() < 1.5,
            "frame {i}: {l} vs {want} ({levels:?})"
        );
    }
}

#[test]
fn saved_presets_round_trip_atomically() {
    let dir = temp_preset(
        "save",
        TOML_OK,
        Some("fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(param.gain); }\n"),
    );
    let p = Preset::load(&dir).expect("valid");
    let mut spec = p.spec.clone();
    spec.params[0].default = 0.75;
    spec.description = "edited".into();
    Preset::save_spec(&dir, &spec).expect("save");
    let back = Preset::load(&dir).expect("reload");
    assert_eq!(back.spec, spec);
    // Nothing left behind but the preset's own files.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["main.wgsl".to_string(), "preset.toml".to_string()]
    );
}

/// A flicker preset for the photosensitivity torture tests: `mode` 0 white
/// full frame, 1 red/black, 2 reversing stripes (12 pairs), 3 a 20 % area,
/// 4 scintillating noise (every cell of a 48x27 grid random black or white,
/// new at each flip).
const TORTURE_WGSL: &str = r#"
fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let on = (floor(u.time * param.hz * 2.0) % 2.0) < 0.5;
    var c = vec3f(0.0);
    if (param.mode < 0.5) {
        if (on) { c = vec3f(1.0); }
    } else if (param.mode < 1.5) {
        if (on) { c = vec3f(1.0, 0.0, 0.0); }
    } else if (param.mode < 2.5) {
        let stripe = (floor(uv.x * 24.0) % 2.0) < 0.5;
        if (stripe == on) { c = vec3f(1.0); }
    } else if (param.mode < 3.5) {
        if (on && uv.x < 0.2) { c = vec3f(1.0); }
    } else {
        let cell = floor(uv * vec2f(48.0, 27.0));
        let k = floor(u.time * param.hz * 2.0);
        if (hash21(cell + vec2f(k * 7.13, k * 3.71)) > 0.5) { c = vec3f(1.0); }
    }
    return vec4f(c, 1.0);
}
"#;

/// Renders `seconds` of the torture preset through the output stage (flash
/// limiter `on` or off) and judges it with the independent audit.
/// Renders `seconds` from `start` at `fps` through the output stage (as
/// shown) with the features `at(t)`, and judges every frame with the audit
/// (times from `start`).
fn audit_render(
    r: &mut Renderer,
    fps: f64,
    start: f64,
    seconds: f64,
    mut at: impl FnMut(f64) -> sonolux::analysis::FeatureFrame,
) -> sonolux::show::safety::FlashAudit {
    let [w, h] = r.size();
    let mut audit = sonolux::show::safety::FlashAudit::new();
    for n in 0..(seconds * fps) as u64 {
        let t = start + n as f64 / fps;
        let clock = FrameClock {
            time: t,
            delta: (1.0 / fps) as f32,
            frame: n,
        };
        let px = r.render(&at(t), clock, true).expect("pixels");
        audit.push_rgba(t - start, &px, w as usize, h as usize);
    }
    audit
}

fn torture(mode: f32, hz: f32, seconds: f64, limit: bool) -> (bool, u64, String) {
    let toml = "name = \"torture\"\n[[pass]]\nshader = \"main.wgsl\"\n[[param]]\nname = \"hz\"\ndefault = 1.0\nmin = 0.0\nmax = 20.0\n[[param]]\nname = \"mode\"\ndefault = 0.0\nmin = 0.0\nmax = 4.0\n";
    let dir = temp_preset(
        &format!("torture-{mode}-{hz}-{seconds}-{limit}"),
        toml,
        Some(TORTURE_WGSL),
    );
    let p = Preset::load(&dir).expect("torture preset");
    let mut r = renderer_for(&p);
    *r.params_mut() = vec![hz, mode];
    r.limiter.enabled = limit;
    let audit = audit_render(&mut r, 60.0, 0.0, seconds, |_| Default::default());
    let _ = std::fs::remove_dir_all(dir);
    (audit.fails(), r.limiter.frames_limited, audit.csv())
}

#[test]
fn torture_flicker_breaks_the_rules_without_the_limiter_and_not_with_it() {
    // (mode, Hz, seconds, breaks a rule without the limiter)
    let cases = [
        (0.0, 2.0, 3.0, false),
        (0.0, 3.0, 3.0, false),
        (0.0, 6.0, 3.0, true),
        (0.0, 10.0, 3.0, true),
        (0.0, 3.0, 10.0, true),  // extended flashing
        (1.0, 4.0, 3.0, true),   // red
        (3.0, 10.0, 3.0, false), // 20 % of the screen: allowed
        (2.0, 5.0, 3.0, true),   // 12 stripe pairs reversing: a pattern
        (4.0, 6.0, 3.0, true),   // scintillating noise
    ];
    for (mode, hz, secs, breaks) in cases {
        let (fails_off, _, report_off) = torture(mode, hz, secs, false);
        assert_eq!(
            fails_off, breaks,
            "mode {mode} at {hz} Hz for {secs} s, limiter off:\n{report_off}"
        );
        let (fails_on, held, report_on) = torture(mode, hz, secs, true);
        assert!(
            !fails_on,
            "mode {mode} at {hz} Hz for {secs} s, limiter on:\n{report_on}"
        );
        // Well inside the rules: untouched (at exactly 3 a second the
        // limiter may hold a frame to keep the 4th flash out).
        if mode == 3.0 || hz < 3.0 {
            assert_eq!(held, 0, "mode {mode} at {hz} Hz: allowed, so untouched");
        }
    }
}

#[test]
fn every_preset_passes_the_flash_audit_on_the_demo_with_the_limiter() {
    // 30 s of the demo's loudest part (from its drop at 0:14), as shown:
    // through the output stage with the limiter on, judged by the audit.
    let demo = sonolux::audio::decode_file(&repo().join("assets/demo.flac")).expect("demo track");
    let mut failures = Vec::new();
    for p in builtin() {
        let gpu = Gpu::headless().expect("GPU");
        let mut r = Renderer::new(gpu, p.clone(), [480, 270]).expect("renderer");
        let mut clock = VirtualClock::new(&demo);
        let audit = audit_render(&mut r, 30.0, 14.0, 30.0, |t| *clock.advance_to(t));
        if audit.fails() {
            failures.push(format!("{}:\n{}", p.id, audit.csv()));
        }
    }
    assert!(
        failures.is_empty(),
        "presets that break a flash rule:\n{}",
        failures.join("\n")
    );
}

#[test]
fn flashes_on_beat_hit_land_on_the_clicks() {
    // 120 BPM clicks; after the beat clock has locked (8 s), Beat Strobe's
    // brightness must peak on the click (not ~20 ms later, as a detected
    // kick would) and must not start rising before it (as beat_pulse did,
    // ~70 ms early).
    let (samples, clicks) = demo::click_track(120.0, 14.0, 0.5, 44_100);
    let clip = AudioClip {
        samples,
        sample_rate: 44_100,
    };
    let p = preset::find(&presets_dir(), "strobe").expect("strobe");
    let mut r = renderer_for(&p);
    let fps = 120.0;
    let t = sonolux::offline::hits::time_hits(&mut r, &clip, &clicks, fps, 8.0).expect("timing");
    assert!(t.peak_ms.len() >= 10, "{t:?}");
    let frame = 1000.0 / fps;
    let peak = sonolux::offline::hits::HitTiming::median(&t.peak_ms);
    let rise = sonolux::offline::hits::HitTiming::median(&t.rise_ms);
    assert!(
        (-frame..=2.0 * frame).contains(&peak),
        "peak {peak:.1} ms from the click: {:?}",
        t.peak_ms
    );
    assert!(
        rise >= -frame,
        "brightness starts rising {rise:.1} ms before the click: {:?}",
        t.rise_ms
    );
}

#[test]
fn a_tone_map_keeps_detail_above_white_and_bad_values_are_refused() {
    // A ramp from 0 to 4: without a tone map everything above 1 clips to
    // one flat white; with ACES it stays a ramp.
    let wgsl =
        "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(vec3f(uv.x * 4.0), 1.0); }\n";
    let row = |toml: &str, name: &str| {
        let dir = temp_preset(name, toml, Some(wgsl));
        let p = Preset::load(&dir).expect("ramp preset");
        let mut r = renderer_for(&p);
        let px = r
            .render(&Default::default(), FrameClock::default(), true)
            .expect("pixels");
        let _ = std::fs::remove_dir_all(dir);
        let y = (H / 2) as usize;
        (0..W as usize)
            .map(|x| px[(y * W as usize + x) * 4])
            .collect::<Vec<u8>>()
    };
    let plain = row(
        "name = \"ramp\"\n[[pass]]\nshader = \"main.wgsl\"\n",
        "ramp-plain",
    );
    let mapped = row(
        "name = \"ramp\"\n[tone_map]\ncurve = \"aces\"\nexposure = 0.6\n[[pass]]\nshader = \"main.wgsl\"\n",
        "ramp-aces",
    );
    let (half, three_q) = (W as usize / 2, W as usize * 3 / 4);
    assert_eq!((plain[half], plain[three_q]), (255, 255), "clips without");
    assert!(
        mapped[half] < mapped[three_q] && mapped[three_q] < 255,
        "a ramp with the tone map: {} {}",
        mapped[half],
        mapped[three_q]
    );
    assert!(
        mapped.windows(2).all(|w| w[1] >= w[0]),
        "monotonic: {mapped:?}"
    );
    // The low end stays close to where it was.
    assert!((i32::from(mapped[W as usize / 20]) - i32::from(plain[W as usize / 20])).abs() < 40);
    let bad = temp_preset(
        "ramp-bad",
        "name = \"ramp\"\n[tone_map]\nexposure = 50.0\n[[pass]]\nshader = \"main.wgsl\"\n",
        Some(wgsl),
    );
    let err = Preset::load(&bad).expect_err("refused").to_string();
    assert!(err.contains("tone_map.exposure 50"), "{err}");
    let _ = std::fs::remove_dir_all(bad);
}

#[test]
fn health_report_every_builtin_holds_detail_on_the_drop() {
    // The preset health report on the demo's drop: no built-in preset may
    // clip more than 5 % of its pixels, and each must move and follow the
    // music somewhere.
    let demo = sonolux::audio::decode_file(&repo().join("assets/demo.flac")).expect("demo track");
    let job = sonolux::offline::report::ReportJob {
        clip: &demo,
        start: 14.0,
        seconds: 10.0,
        size: [W, H],
        fps: 15.0,
        sheet_dir: None,
    };
    let mut rows = Vec::new();
    for p in builtin() {
        rows.push(
            sonolux::offline::report::report_preset(Gpu::headless().expect("GPU"), p, &job)
                .expect("report"),
        );
    }
    let table = sonolux::offline::report::format_table(&rows);
    for r in &rows {
        assert!(
            r.clipped < 0.05,
            "{} clips {:.1} %:\n{table}",
            r.id,
            r.clipped * 100.0
        );
        assert!(r.luminance > 0.005, "{} is black:\n{table}", r.id);
        assert!(r.motion > 0.0005, "{} stands still:\n{table}", r.id);
        assert!(
            r.follows.iter().any(|c| c.abs() > 0.3),
            "{} follows no feature:\n{table}",
            r.id
        );
    }
}

#[test]
fn preset_images_are_sampled_and_bad_ones_refused() {
    // A 2x1 image: red on the left, blue on the right, shown full frame.
    let dir = temp_preset(
        "image",
        "name = \"img\"\n[[texture]]\nname = \"pic\"\nfile = \"media/pic.png\"\n[[pass]]\nshader = \"main.wgsl\"\n",
        Some(
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return textureSampleLevel(tex_pic, samp, uv, 0.0); }\n",
        ),
    );
    std::fs::create_dir_all(dir.join("media")).expect("media dir");
    let img = image::RgbaImage::from_fn(2, 1, |x, _| {
        if x == 0 {
            image::Rgba([255, 0, 0, 255])
        } else {
            image::Rgba([0, 0, 255, 255])
        }
    });
    img.save(dir.join("media/pic.png")).expect("png");
    let p = Preset::load(&dir).expect("image preset");
    assert_eq!(p.textures.len(), 1);
    let px = renderer_for(&p)
        .render(&Default::default(), FrameClock::default(), true)
        .expect("pixels");
    let at = |x: usize| &px[((H as usize / 2) * W as usize + x) * 4..][..3];
    assert_eq!(at(2), [255, 0, 0], "left is the image's red");
    assert_eq!(at(W as usize - 3), [0, 0, 255], "right is its blue");
    // Exported and imported with the preset (media travel along).
    let user = std::env::temp_dir().join(format!("sonolux-img-user-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&user);
    let lib = preset::Library::new(presets_dir(), &user);
    let archive = user.with_extension("tar");
    sonolux::preset::share::export(&dir, "img", &archive).expect("export");
    let back = sonolux::preset::share::import(&lib, &archive, None).expect("import");
    assert!(Preset::load(&back).is_ok_and(|p| p.textures[0].size == [2, 1]));
    // A missing file, a path out of the folder: clear errors.
    for (file, expect) in [
        ("nope.png", "nope.png"),
        ("../x.png", "inside the preset folder"),
    ] {
        std::fs::write(
            dir.join("preset.toml"),
            format!("name = \"img\"\n[[texture]]\nname = \"pic\"\nfile = \"{file}\"\n[[pass]]\nshader = \"main.wgsl\"\n"),
        )
        .expect("toml");
        let err = Preset::load(&dir).expect_err("refused").to_string();
        assert!(err.contains(expect) && err.contains("preset.toml"), "{err}");
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(user);
    let _ = std::fs::remove_file(archive);
}

/// Renders `preset` over the groove and returns frame `n`.
fn frame_of(p: &Preset, n: u64) -> Vec<u8> {
    render_frames(&mut renderer_for(p), &groove(), &[n]).remove(0)
}

#[test]
fn a_translated_shadertoy_shader_matches_its_wgsl_twin() {
    // One pass: GL's y-up coordinates, the audio texture's two rows, iTime.
    let glsl = temp_multi_pass(
        "twin-glsl",
        "name = \"twin\"\n[[pass]]\nshader = \"image.glsl\"\n[pass.channels]\niChannel0 = \"audio\"\n",
        &[(
            "image.glsl",
            "void mainImage(out vec4 c, in vec2 f) {\n    vec2 uv = f / iResolution.xy;\n    float a = texture(iChannel0, vec2(uv.x, 0.25)).x;\n    float w = texture(iChannel0, vec2(uv.x, 0.75)).x;\n    c = vec4(uv.x, uv.y, a * 0.5 + 0.5 * fract(iTime), 1.0) * (0.5 + 0.5 * w);\n}\n",
        )],
    );
    let wgsl = temp_multi_pass(
        "twin-wgsl",
        "name = \"twin\"\n[[pass]]\nshader = \"main.wgsl\"\n",
        &[(
            "main.wgsl",
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    let a = textureSampleLevel(audio_tex, samp, vec2f(uv.x, 0.25), 0.0).x;\n    let w = textureSampleLevel(audio_tex, samp, vec2f(uv.x, 0.75), 0.0).x;\n    let c = vec3f(uv.x, 1.0 - uv.y, a * 0.5 + 0.5 * fract(u.time)) * (0.5 + 0.5 * w);\n    return vec4f(c, 1.0);\n}\n",
        )],
    );
    for n in [45, 75] {
        let (a, b) = (frame_of(&glsl, n), frame_of(&wgsl, n));
        let d = mean_abs_diff(&a, &b);
        assert!(
            d < 1.0,
            "frame {n}: GLSL and WGSL twins differ by {d:.2}/255"
        );
        // The audio row really moves the picture (the twin is not trivially equal).
        let blue: f64 =
            a.chunks_exact(4).map(|p| f64::from(p[2])).sum::<f64>() / (a.len() / 4) as f64;
        assert!(blue > 10.0, "frame {n}: blue {blue}");
    }
}

#[test]
fn shadertoy_buffers_keep_their_orientation_through_feedback() {
    // Buffer A scrolls its last frame up one pixel and paints a new bottom
    // row; Image shows it. The WGSL twin does the same in screen space.
    let root = std::env::temp_dir().join(format!("sonolux-test-{}-stjson", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("dir");
    let buf = "void mainImage(out vec4 c, in vec2 f) {\n    vec4 old = texture(iChannel0, (f - vec2(0.0, 1.0)) / iResolution.xy);\n    c = f.y < 1.0 ? vec4(fract(float(iFrame) * 0.13), f.x / iResolution.x, 0.2, 1.0) : old;\n}\n";
    let img = "void mainImage(out vec4 c, in vec2 f) {\n    c = texture(iChannel0, f / iResolution.xy);\n}\n";
    let json = serde_json::json!({"Shader": {"info": {"name": "scroll", "username": "t", "description": ""},
    "renderpass": [
        {"type": "buffer", "name": "Buffer A", "code": buf,
         "inputs": [{"id": 257, "channel": 0, "ctype": "buffer"}], "outputs": [{"id": 257, "channel": 0}]},
        {"type": "image", "name": "Image", "code": img,
         "inputs": [{"id": 257, "channel": 0, "ctype": "buffer"}], "outputs": [{"id": 37, "channel": 0}]}
    ]}});
    let file = root.join("scroll.json");
    std::fs::write(&file, json.to_string()).expect("write");
    let lib = sonolux::preset::Library::new(root.join("builtin"), root.join("user"));
    let done = sonolux::preset::import::import_shader(&lib, &file, None).expect("imports");
    let st = Preset::load(&done.dir).expect("loads");
    assert_eq!(st.passes.len(), 2);
    assert!(st.passes[0].reads.prev_frame, "Buffer A reads itself");
    assert!(st.passes[1].reads.input, "Image reads Buffer A");
    let twin = temp_multi_pass(
        "scroll-wgsl",
        "name = \"scroll\"\n[[pass]]\nshader = \"a.wgsl\"\n[[pass]]\nshader = \"b.wgsl\"\n",
        &[
            (
                "a.wgsl",
                "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    let old = prev((frag + vec2f(0.0, 1.0)) / u.resolution);\n    if frag.y > u.resolution.y - 1.0 {\n        return vec4f(fract(u.frame * 0.13), uv.x, 0.2, 1.0);\n    }\n    return old;\n}\n",
            ),
            (
                "b.wgsl",
                "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return input(uv); }\n",
            ),
        ],
    );
    let (a, b) = (frame_of(&st, 40), frame_of(&twin, 40));
    let d = mean_abs_diff(&a, &b);
    assert!(d < 1.0, "scrolling buffers differ by {d:.2}/255");
    // 40 rows of stripes have scrolled up from the bottom; the top is still black.
    let row_mean = |y: usize| {
        a[y * W as usize * 4..(y + 1) * W as usize * 4]
            .chunks_exact(4)
            .map(|p| p[..3].iter().map(|&v| f64::from(v)).sum::<f64>())
            .sum::<f64>()
    };
    let (bottom, top) = (row_mean(H as usize - 2), row_mean(2));
    assert!(
        bottom > 1000.0 && top < 1.0,
        "bottom row sum {bottom}, top row sum {top}"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn the_example_shaders_import_and_isf_inputs_arrive() {
    let root = std::env::temp_dir().join(format!("sonolux-test-{}-examples", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let lib = sonolux::preset::Library::new(root.join("builtin"), root.join("user"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("assets/shaders"))
        .expect("assets/shaders")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "at least five example shaders: {files:?}");
    for f in &files {
        let done = sonolux::preset::import::import_shader(&lib, f, None)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let p = Preset::load(&done.dir).unwrap_or_else(|e| panic!("{e}"));
        let px = frame_of(&p, 30);
        let mean: f64 = px.iter().map(|&v| f64::from(v)).sum::<f64>() / px.len() as f64;
        assert!(mean > 2.0, "{}: renders black ({mean:.2})", f.display());
    }
    // ISF: typed inputs became parameters, PASSES became passes with a
    // persistent buffer, and a parameter changes the picture.
    let rings = Preset::load(&lib.user.join("isf_rings")).expect("rings");
    let names: Vec<&str> = rings.spec.params.iter().map(|p| p.name.as_str()).collect();
    for n in [
        "speed", "rings", "inner_r", "inner_a", "center_x", "center_y", "invert",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let rings_param = &rings.spec.params[names.iter().position(|n| *n == "rings").expect("rings")];
    assert_eq!(
        (rings_param.min, rings_param.max, rings_param.default),
        (4.0, 32.0, 8.0)
    );
    let comet = Preset::load(&lib.user.join("isf_comet")).expect("comet");
    assert_eq!(comet.passes.len(), 2);
    assert!(comet.passes[0].reads.prev_frame && comet.uses_feedback());
    let mut r = renderer_for(&rings);
    let clip = groove();
    let plain = render_frames(&mut r, &clip, &[10]).remove(0);
    let i = names.iter().position(|n| *n == "invert").expect("invert");
    let mut r = renderer_for(&rings);
    r.params_mut()[i] = 1.0;
    let inverted = render_frames(&mut r, &clip, &[10]).remove(0);
    assert!(
        mean_abs_diff(&plain, &inverted) > 5.0,
        "the bool input reaches the shader"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn compute_passes_keep_state_and_fill_pixel_buffers() {
    // A one-item counter bumped by a compute pass every frame, and a
    // per-pixel buffer (cleared each frame) the compute pass fills: the
    // fragment pass shows both.
    let p = temp_multi_pass(
        "compute",
        "name = \"compute\"\n\
         [[storage]]\nname = \"counter\"\nitems = 1\nstride = 4\n\
         [[storage]]\nname = \"cells\"\nitems = \"pixels\"\nstride = 4\nclear = true\n\
         [[compute]]\nshader = \"count.wgsl\"\nentry = \"count\"\nitems = 1\n\
         [[compute]]\nshader = \"fill.wgsl\"\nentry = \"fill\"\nitems = \"cells\"\n\
         [[pass]]\nshader = \"main.wgsl\"\n",
        &[
            (
                "count.wgsl",
                "@group(2) @binding(0) var<storage, read_write> counter: array<u32>;\n\
                 @compute @workgroup_size(1)\nfn count(@builtin(global_invocation_id) id: vec3u) {\n    counter[0] += 1u;\n}\n",
            ),
            (
                "fill.wgsl",
                "@group(2) @binding(1) var<storage, read_write> cells: array<u32>;\n\
                 @compute @workgroup_size(64)\nfn fill(@builtin(global_invocation_id) id: vec3u) {\n    if id.x < arrayLength(&cells) && (id.x % u32(u.resolution.x)) < u32(u.resolution.x) / 2u {\n        cells[id.x] = 255u;\n    }\n}\n",
            ),
            (
                "main.wgsl",
                "@group(2) @binding(0) var<storage, read> counter: array<u32>;\n\
                 @group(2) @binding(1) var<storage, read> cells: array<u32>;\n\
                 fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    let p = vec2u(frag);\n    let c = f32(cells[p.y * u32(u.resolution.x) + p.x]) / 255.0;\n    return vec4f(f32(counter[0]) / 255.0, c, 0.0, 1.0);\n}\n",
            ),
        ],
    );
    assert_eq!(p.compute.len(), 2);
    assert_eq!(p.compute[1].workgroup, 64);
    let frames = render_frames(&mut renderer_for(&p), &silence(), &[9, 49]);
    let red = |px: &[u8]| px[0];
    // Frame n has run the counter n + 1 times (sRGB-free 8-bit output).
    assert_eq!(red(&frames[0]), 10);
    assert_eq!(red(&frames[1]), 50);
    let w = W as usize;
    let green = |px: &[u8], x: usize, y: usize| px[(y * w + x) * 4 + 1];
    assert_eq!(green(&frames[1], 5, 40), 255, "the left half is filled");
    assert_eq!(
        green(&frames[1], w - 5, 40),
        0,
        "the right half stays cleared"
    );

    // Bad declarations are refused with plain messages.
    let bad = |toml: &str| {
        let dir = temp_preset(
            "compute-bad",
            toml,
            Some("fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(1.0); }\n"),
        );
        std::fs::write(dir.join("c.wgsl"), "@compute @workgroup_size(8, 8)\nfn main(@builtin(global_invocation_id) id: vec3u) {}\n").expect("write");
        Preset::load(&dir).expect_err("refused").to_string()
    };
    let base = "name = \"b\"\n[[pass]]\nshader = \"main.wgsl\"\n";
    let e = bad(&format!(
        "{base}[[storage]]\nname = \"s\"\nitems = 4\nstride = 3\n"
    ));
    assert!(e.contains("stride 3"), "{e}");
    let e = bad(&format!(
        "{base}[[storage]]\nname = \"s\"\nitems = 4\nstride = 4\n[[compute]]\nshader = \"c.wgsl\"\nitems = \"nope\"\n"
    ));
    assert!(e.contains("\"nope\""), "{e}");
    let e = bad(&format!(
        "{base}[[storage]]\nname = \"s\"\nitems = 4\nstride = 4\n[[compute]]\nshader = \"c.wgsl\"\nitems = \"s\"\n"
    ));
    assert!(e.contains("workgroup size (8, 8, 1)"), "{e}");
    let e = bad(&format!(
        "{base}[[compute]]\nshader = \"c.wgsl\"\nentry = \"step\"\nitems = 4\n"
    ));
    assert!(e.contains("no compute entry point `step`"), "{e}");
}

#[test]
fn a_video_texture_renders_deterministically() {
    // One second of red, then one of blue, as an mp4 made by ffmpeg.
    let dir = temp_preset(
        "video",
        "name = \"video\"\n[[texture]]\nname = \"clip\"\nfile = \"clip.mp4\"\n[[pass]]\nshader = \"main.wgsl\"\n",
        Some(
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return textureSampleLevel(tex_clip, samp, uv, 0.0);\n}\n",
        ),
    );
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x36:d=1:r=30",
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=64x36:d=1:r=30",
        ])
        .args([
            "-filter_complex",
            "[0:v][1:v]concat=n=2:v=1[v]",
            "-map",
            "[v]",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(dir.join("clip.mp4"))
        .status()
        .expect("ffmpeg (scripts/test installs it)");
    assert!(status.success());
    let p = Preset::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.textures[0].size, [64, 36]);
    let keep = [10u64, 45, 70];
    let a = render_frames(&mut renderer_for(&p), &silence(), &keep);
    let b = render_frames(&mut renderer_for(&p), &silence(), &keep);
    assert_eq!(a, b, "the same frames twice");
    let mid = |px: &[u8]| {
        let i = ((H as usize / 2) * W as usize + W as usize / 2) * 4;
        [px[i], px[i + 1], px[i + 2]]
    };
    let [r0, _, b0] = mid(&a[0]);
    let [r1, _, b1] = mid(&a[1]);
    let [r2, _, b2] = mid(&a[2]);
    assert!(r0 > 200 && b0 < 60, "0.33 s is red: {:?}", mid(&a[0]));
    assert!(b1 > 200 && r1 < 60, "1.5 s is blue: {:?}", mid(&a[1]));
    assert!(
        r2 > 200 && b2 < 60,
        "2.33 s has looped back to red: {:?}",
        mid(&a[2])
    );
    // A clip that is not a video is refused at load with its name.
    std::fs::write(dir.join("clip.mp4"), b"not a video").expect("write");
    let e = Preset::load(&dir).expect_err("refused").to_string();
    assert!(
        e.contains("texture 'clip'") && e.contains("not a video"),
        "{e}"
    );
}
