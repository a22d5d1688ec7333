//! `sonolux bench`: speed and memory figures printed as tables, measured side
//! by side in one run (never asserted in tests: machines are noisy).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analysis::{Analyzer, FeatureFrame};
use crate::audio::{AudioClip, decode_file, demo};
use crate::preset::{self, Preset};
use crate::render::{FrameClock, Gpu, Renderer};

fn stats(v: Vec<f64>) -> (f64, f64) {
    let at = |p| crate::analysis::eval::percentile(&v, p).unwrap_or(0.0);
    (at(0.5), at(0.99))
}

/// Frame times of one preset at one size: (full median, full p99, bare median).
fn time_preset(
    gpu: Gpu,
    p: &Preset,
    size: [u32; 2],
    frames: usize,
    clip: &AudioClip,
) -> anyhow::Result<(f64, f64, f64)> {
    let mut r = Renderer::new(gpu, p.clone(), size)?;
    let mut full = Vec::with_capacity(frames);
    let mut bare = Vec::with_capacity(frames);
    each_frame(clip, frames, |f, c, warm| {
        let t0 = Instant::now();
        r.render(f, c, false);
        let a = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        r.render_scene_only(f, c);
        let b = t1.elapsed().as_secs_f64();
        if warm {
            full.push(a * 1000.0);
            bare.push(b * 1000.0);
        }
    });
    let (m, p99) = stats(full);
    let (bm, _) = stats(bare);
    Ok((m, p99, bm))
}

/// Frame times of a crossfade from `a` to `b` held at mix 0.5: (median, p99).
fn time_crossfade(
    gpu: Gpu,
    a: &Preset,
    b: &Preset,
    size: [u32; 2],
    frames: usize,
    clip: &AudioClip,
) -> anyhow::Result<(f64, f64)> {
    let mut r = Renderer::new(gpu, a.clone(), size)?;
    r.start_transition(b.clone())?;
    r.mix = 0.5;
    let mut times = Vec::with_capacity(frames);
    each_frame(clip, frames, |f, c, warm| {
        let t0 = Instant::now();
        r.render(f, c, false);
        if warm {
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    });
    Ok(stats(times))
}

/// Calls `frame` for 10 warm-up frames and then `frames` measured ones
/// (`warm` = measured) of `clip` at 60 fps from 2 s on.
fn each_frame(
    clip: &AudioClip,
    frames: usize,
    mut frame: impl FnMut(&FeatureFrame, FrameClock, bool),
) {
    let mut clock = crate::offline::render::VirtualClock::new(clip);
    for n in 0..frames + 10 {
        let t = 2.0 + n as f64 / 60.0;
        let f = *clock.advance_to(t);
        let c = FrameClock {
            time: t,
            delta: 1.0 / 60.0,
            frame: n as u64,
        };
        frame(&f, c, n >= 10);
    }
}

/// Prints per-preset frame times at 1280x720 and 1920x1080 (and 3840x2160 with `uhd`).
pub fn render(frames: usize, uhd: bool) -> anyhow::Result<()> {
    let dir = preset::builtin_dir();
    let ids = preset::list(&dir);
    let clip = AudioClip {
        samples: demo::synthesize_groove(8.0, 44_100),
        sample_rate: 44_100,
    };
    let probe = Gpu::headless()?;
    println!("adapter: {}", probe.describe());
    println!(
        "cpu threads: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    drop(probe);
    let mut sizes = vec![[1280u32, 720u32], [1920, 1080]];
    if uhd {
        sizes.push([3840, 2160]);
    }
    println!(
        "\n| preset | scale | size | median ms | p99 ms | fps (median) | bare pass ms | overhead |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut holds_60 = 0;
    let mut fast: Vec<(Preset, f64)> = Vec::new();
    for id in &ids {
        let p = preset::find(&dir, id)?;
        for size in &sizes {
            let (m, p99, bare) = time_preset(Gpu::headless()?, &p, *size, frames, &clip)?;
            if size[0] == 1280 && m <= 1000.0 / 60.0 {
                holds_60 += 1;
                fast.push((p.clone(), m));
            }
            println!(
                "| {id} | {:.2} | {}x{} | {m:.2} | {p99:.2} | {:.0} | {bare:.2} | {:.2} |",
                p.spec.render_scale,
                size[0],
                size[1],
                1000.0 / m,
                m / bare.max(1e-6)
            );
        }
    }
    println!(
        "\n{holds_60} of {} presets hold 60 fps (median) at 1280x720. 'bare pass' = the preset's own passes alone, GPU-synchronised; 'overhead' = full frame (uniform upload, scene, output pass with flash limiter, measurement readback) / bare pass.",
        ids.len()
    );
    // Crossfades between presets that hold 60 fps alone (both render, then
    // the mix pass, then the output stage).
    println!(
        "\n| crossfade at mix 0.5 | size | median ms | p99 ms | fps (median) | alone ms (a, b) |"
    );
    println!("|---|---|---|---|---|---|");
    for pair in fast.windows(2).take(3) {
        let ((a, ma), (b, mb)) = (&pair[0], &pair[1]);
        let size = [1280, 720];
        let (m, p99) = time_crossfade(Gpu::headless()?, a, b, size, frames, &clip)?;
        println!(
            "| {} -> {} | 1280x720 | {m:.2} | {p99:.2} | {:.0} | {ma:.2}, {mb:.2} |",
            a.id,
            b.id,
            1000.0 / m
        );
    }
    Ok(())
}

/// `bench live`: `preset` headless at `size`, then live for `seconds` with
/// no surface and with the control window (each live run prints its frame
/// time split into render, acquire, blit and present).
pub fn live(preset: &str, size: [u32; 2], seconds: f64, demo: PathBuf) -> anyhow::Result<()> {
    let p = preset::Library::locate().find(preset)?;
    let clip = AudioClip {
        samples: demo::synthesize_groove(8.0, 44_100),
        sample_rate: 44_100,
    };
    let (m, p99, bare) = time_preset(Gpu::headless()?, &p, size, 120, &clip)?;
    println!(
        "headless {preset} {}x{}: median {m:.2} ms ({:.0} fps), p99 {p99:.2} ms, bare pass {bare:.2} ms",
        size[0],
        size[1],
        1000.0 / m
    );
    // Each live run in a child process (one window event loop per process),
    // with its own settings folder so the VJ's settings stay untouched.
    let exe = std::env::current_exe()?;
    let config = std::env::temp_dir().join(format!("sonolux-bench-live-{}", std::process::id()));
    for surface in ["none", "window"] {
        println!("\nlive, surface {surface}:");
        let out = std::process::Command::new(&exe)
            .env("SONOLUX_CONFIG_DIR", &config)
            .arg("run")
            .args([
                "--surface",
                surface,
                "--preset",
                preset,
                "--default-windows",
            ])
            .args(["--size", &format!("{}x{}", size[0], size[1])])
            .args(["--duration", &seconds.to_string()])
            .arg("--audio")
            .arg(&demo)
            .stderr(std::process::Stdio::null())
            .output()?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            anyhow::bail!("the live run failed ({}); is there a display?", out.status);
        }
    }
    let _ = std::fs::remove_dir_all(config);
    Ok(())
}

/// `bench hits`: each preset over a 120 BPM click track at `fps`, the
/// median offset of its brightness peak and of the start of its rise from
/// the clicks (after 8 s, when the beat clock has locked).
pub fn hits(presets: &str, fps: f64, plot: Option<&Path>) -> anyhow::Result<()> {
    let (samples, clicks) = demo::click_track(120.0, 16.0, 0.5, 44_100);
    let clip = AudioClip {
        samples,
        sample_rate: 44_100,
    };
    let lib = preset::Library::locate();
    println!("120 BPM clicks, {fps} fps, clicks after 8 s; negative = before the click");
    println!("| preset | brightness peak (median ms) | rise starts (median ms) | clicks |");
    println!("|---|---|---|---|");
    for (i, id) in presets.split(',').map(str::trim).enumerate() {
        let p = lib.find(id)?;
        let mut r = crate::render::Renderer::new(Gpu::headless()?, p, [160, 90])?;
        let t = crate::offline::hits::time_hits(&mut r, &clip, &clicks, fps, 8.0)?;
        println!(
            "| {id} | {:+.1} | {:+.1} | {} |",
            crate::offline::hits::HitTiming::median(&t.peak_ms),
            crate::offline::hits::HitTiming::median(&t.rise_ms),
            t.peak_ms.len()
        );
        if i == 0
            && let Some(path) = plot
        {
            crate::offline::hits::plot(&t, &clicks, 10.0, 12.0, [960, 240]).save(path)?;
            println!("plot of {id} (10-12 s): {}", path.display());
        }
    }
    Ok(())
}

/// `bench timing`: the live timing chain end to end. Plays `clip` (its
/// first `seconds`, or all of it) with a marker click into a private
/// PulseAudio null sink, captures its monitor with `sonolux run --input
/// default --record-events`, and scores the recording against the clip's
/// annotations (`.beats`, `.onsets` beside it): beat F, emitted-beat
/// error, downbeat F, onset-to-present latency. The capture opens before
/// the marker and the clip play, or, with `join_at`, that many seconds
/// into the clip (a VJ starting the show in the middle of a song), and the
/// marker follows the clip.
pub fn timing(
    clip_path: &Path,
    preset_id: &str,
    join_at: Option<f64>,
    seconds: Option<f64>,
) -> anyhow::Result<()> {
    use crate::live::timing::{CLIP_AT, Layout, MARKER_AT, MARKER_GAP};
    use std::process::{Command, Stdio};
    let mut clip = decode_file(clip_path)?;
    let sr = clip.sample_rate;
    if let Some(s) = seconds {
        anyhow::ensure!(s > 0.0, "--seconds must be positive");
        clip.samples.truncate((s * f64::from(sr)) as usize);
    }
    let clip_s = clip.samples.len() as f64 / f64::from(sr);
    if let Some(j) = join_at {
        anyhow::ensure!(
            (0.0..clip_s - 10.0).contains(&j),
            "--join-at {j}: the capture must open at least 10 s before the clip's end ({clip_s:.1} s)"
        );
    }
    let beats_path = clip_path.with_extension("beats");
    let beats: Vec<(f64, Option<f64>)> = crate::offline::analyze::read_columns(&beats_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", beats_path.display()))?
        .into_iter()
        .filter(|&(t, _)| t < clip_s)
        .collect();
    let onsets: Option<Vec<f64>> =
        crate::offline::analyze::read_times(&clip_path.with_extension("onsets"))
            .ok()
            .map(|o| o.into_iter().filter(|&t| t < clip_s).collect());
    let dir = std::env::temp_dir().join(format!("sonolux-bench-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The played file: a marker click, silence, then the clip; or, for a
    // capture that joins the clip, the clip, silence, then the marker.
    let marker = |at: f64| demo::click_track(60.0, at + 0.5, at, sr).0;
    let (wav, layout) = match join_at {
        None => {
            let mut wav = marker(MARKER_AT);
            wav.resize((CLIP_AT * f64::from(sr)) as usize, 0.0);
            wav.extend_from_slice(&clip.samples);
            (wav, Layout::MarkerFirst)
        }
        Some(_) => {
            let mut wav = clip.samples.clone();
            wav.extend(marker(MARKER_GAP));
            (wav, Layout::MarkerAfter { clip_s })
        }
    };
    let wav_path = dir.join("played.wav");
    crate::audio::decode::write_wav(&wav_path, &wav, sr)?;
    // A private sound server (and display, when there is none).
    let pulse = crate::audio::null_sink::NullSinkServer::start_in(dir.join("runtime"))?;
    let mut xvfb = None;
    let display = match std::env::var("DISPLAY") {
        Ok(d) if !d.is_empty() => d,
        _ => {
            let n = 700 + std::process::id() % 200;
            xvfb = Command::new("Xvfb")
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "1280x720x24",
                    "-nolisten",
                    "tcp",
                ])
                .stderr(Stdio::null())
                .spawn()
                .ok();
            std::thread::sleep(std::time::Duration::from_millis(800));
            format!(":{n}")
        }
    };
    let events = dir.join("events.jsonl");
    let played_s = wav.len() as f64 / f64::from(sr);
    // Time to start and to hear the marker: a capture that runs first
    // waits for the show to start before the file plays.
    let seconds = match join_at {
        Some(j) => played_s - j + 4.0,
        None => played_s + 8.0,
    };
    // Joining: the clip plays first, and the show opens its capture in it.
    let mut player = match join_at {
        Some(j) => {
            let p = pulse.play(&wav_path)?;
            std::thread::sleep(std::time::Duration::from_secs_f64(j));
            Some(p)
        }
        None => None,
    };
    let mut show = Command::new(std::env::current_exe()?)
        .env("XDG_RUNTIME_DIR", &pulse.runtime)
        .env("DISPLAY", &display)
        .env("SONOLUX_CONFIG_DIR", dir.join("config"))
        .args([
            "run",
            "--input",
            "default",
            "--surface",
            "none",
            "--default-windows",
        ])
        .args([
            "--preset",
            preset_id,
            "--duration",
            &format!("{seconds:.1}"),
        ])
        .arg("--record-events")
        .arg(&events)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    if player.is_none() {
        // Play once the capture runs (its first clock line is in the
        // recording), so the marker is heard: a fixed wait was too short
        // on a loaded machine, and a missed marker misaligns the whole
        // score.
        let t0 = std::time::Instant::now();
        while !std::fs::read_to_string(&events).is_ok_and(|t| t.contains("\"type\":\"clock\""))
            && t0.elapsed() < std::time::Duration::from_secs(60)
            && show.try_wait()?.is_none()
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        player = Some(pulse.play(&wav_path)?);
    }
    let played = player.map(|mut p| p.wait());
    let status = show.wait()?;
    drop(pulse);
    if let Some(mut x) = xvfb {
        let _ = x.kill();
        let _ = x.wait();
    }
    anyhow::ensure!(
        played.is_some_and(|p| p.is_ok_and(|s| s.success())),
        "paplay failed (apt-get install pulseaudio-utils)"
    );
    anyhow::ensure!(status.success(), "the live run failed ({status})");
    let rec = crate::live::timing::parse(&std::fs::read_to_string(&events)?);
    let r = crate::live::timing::score(&rec, &beats, onsets.as_deref(), layout)?;
    let _ = std::fs::remove_dir_all(&dir);
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    println!(
        "{}: played into a PulseAudio null sink, captured from its monitor, preset {preset_id}",
        clip_path.display()
    );
    if join_at.is_some() {
        // Where in the bar the capture came in: the annotated beat it heard first.
        let first = beats.iter().find(|b| b.0 >= r.heard_from);
        println!(
            "capture joined the clip at {:.2} s{}; scored from 5 s later",
            r.heard_from,
            first
                .and_then(|b| b.1)
                .map_or_else(String::new, |p| format!(
                    " (first beat heard: bar position {p})"
                ))
        );
    }
    println!(
        "| beat F | median / p95 beat error ms | median signed ms | beats within 70 ms | downbeat F | onset F | onset to present ms (median / p95) | input latency ms (cpal) | frames (back in time) | audio lost ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {:.3} | {:.1} / {:.1} | {:+.1} | {:.0} % | {} | {} | {:.1} / {:.1} | {} | {} ({}) | {:.0} |",
        r.beat_f,
        r.beat_error_ms.0,
        r.beat_error_ms.1,
        r.beat_bias_ms,
        r.beats_real * 100.0,
        opt(r.downbeat_f),
        opt(r.onset_f),
        r.onset_to_present_ms.0,
        r.onset_to_present_ms.1,
        r.input_latency_ms
            .map_or_else(|| "-".into(), |v| format!("{v:.1}")),
        r.frames.0,
        r.frames.1,
        r.audio_lost_ms
    );
    Ok(())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

fn find_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SONOLUX_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from("/tmp/mirvenv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    Some(PathBuf::from("python3"))
}

/// Prints analysis throughput on the clips of `data`, aubio's in the same run,
/// and memory over an hour of input.
pub fn analysis(data: &Path) -> anyhow::Result<()> {
    let mut files = crate::offline::dataset::find_clips(data)?;
    if files.is_empty() {
        anyhow::bail!("{}: no audio clips", data.display());
    }
    files.sort();
    let clips: Vec<AudioClip> = files
        .iter()
        .map(|f| decode_file(f))
        .collect::<Result<_, _>>()?;
    let audio_s: f64 = clips.iter().map(AudioClip::duration).sum();
    // Best of three runs each, single thread, decoding excluded: the
    // analysis as the show runs it while no preset on screen samples
    // Shadertoy's audio texture, and with the Web Audio rows that such a
    // preset needs.
    let speed = |web_audio: bool| {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t0 = Instant::now();
            for c in &clips {
                let mut an = Analyzer::new(c.sample_rate);
                an.set_web_audio(web_audio);
                for block in c.samples.chunks(512) {
                    std::hint::black_box(an.process(block));
                }
            }
            best = best.min(t0.elapsed().as_secs_f64());
        }
        audio_s / best
    };
    let (ours, with_rows) = (speed(false), speed(true));
    println!(
        "clips: {} ({audio_s:.1} s of audio) from {}",
        clips.len(),
        data.display()
    );
    println!("\n| system | x realtime | ratio to aubio |\n|---|---|---|");
    let aubio = find_python().and_then(|py| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/aubio_speed.py");
        let out = std::process::Command::new(py)
            .arg(script)
            .args(&files)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace().skip(1);
        let a: f64 = it.next()?.parse().ok()?;
        let w: f64 = it.next()?.parse().ok()?;
        Some(a / w)
    });
    match aubio {
        Some(a) => {
            println!(
                "| sonolux (features + onsets + tempo + beats) | {ours:.0} | {:.2} |",
                ours / a
            );
            println!(
                "| sonolux, with the Web Audio rows (a Shadertoy import on screen) | {with_rows:.0} | {:.2} |",
                with_rows / a
            );
            println!("| aubio onset+tempo (python, hop 512) | {a:.0} | 1.00 |");
        }
        None => {
            println!("| sonolux (features + onsets + tempo + beats) | {ours:.0} | - |");
            println!(
                "| sonolux, with the Web Audio rows (a Shadertoy import on screen) | {with_rows:.0} | - |"
            );
            println!(
                "| aubio | not available: run ../shared/tools/setup_env.sh (or set SONOLUX_PYTHON) | - |"
            );
        }
    }
    // Memory over one hour of input: the demo track fed again and again.
    let sr = 44_100;
    let track = demo::synthesize(60.0, sr);
    let mut an = Analyzer::new(sr);
    let mut samples = Vec::new();
    let t0 = Instant::now();
    for minute in 0..60 {
        for block in track.chunks(512) {
            std::hint::black_box(an.process(block));
        }
        if minute == 1 || minute == 59 {
            samples.push(rss_kib());
        }
    }
    println!(
        "\nmemory over 1 h of input: RSS {} KiB after 2 min, {} KiB after 60 min ({:.0}x realtime for the hour)",
        samples[0],
        samples[1],
        3600.0 / t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `bench import`: per shader file, the time to import it (parse the file,
/// write the preset, translate and validate every pass) and to load the
/// written preset again (what a hot reload pays), median of several runs.
pub fn import(dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "glsl" | "frag" | "fs" | "json"))
        })
        .collect();
    files.sort();
    let scratch = std::env::temp_dir().join(format!("sonolux-bench-import-{}", std::process::id()));
    let lib = crate::preset::Library::new(scratch.join("builtin"), scratch.join("user"));
    println!("| shader | passes | import ms (median of 9) | load ms (median of 9) |");
    println!("|---|---|---|---|");
    for f in &files {
        let mut import_ms = Vec::new();
        let mut load_ms = Vec::new();
        let mut passes = 0;
        for _ in 0..9 {
            let _ = std::fs::remove_dir_all(&scratch);
            let t = Instant::now();
            let done = crate::preset::import::import_shader(&lib, f, Some("bench"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            import_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let p = crate::preset::Preset::load(&done.dir)?;
            load_ms.push(t.elapsed().as_secs_f64() * 1e3);
            passes = p.passes.len();
        }
        println!(
            "| {} | {passes} | {:.2} | {:.2} |",
            f.file_name().unwrap_or_default().to_string_lossy(),
            crate::analysis::eval::percentile(&import_ms, 0.5).unwrap_or(f64::NAN),
            crate::analysis::eval::percentile(&load_ms, 0.5).unwrap_or(f64::NAN),
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
