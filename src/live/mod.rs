//! The live show: audio feed → analysis thread → projector window.
//!
//! With no display (a headless server, CI without Xvfb) it says so and renders
//! the same show to `out/` instead.

pub mod engine;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;

use crate::audio::{decode_file, feed};

/// How to run the show.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Audio file to play (default: the demo track); ignored with `input`.
    pub audio: Option<PathBuf>,
    /// Capture from this input device ("default" or part of a name).
    pub input: Option<String>,
    /// Preset id to start with.
    pub preset: String,
    /// Window size when not fullscreen.
    pub size: [u32; 2],
    /// Borderless fullscreen on `monitor`.
    pub fullscreen: bool,
    /// Monitor index for fullscreen.
    pub monitor: usize,
    /// Extra delay (ms) added to the music time of each frame (projector lag).
    pub latency_ms: f64,
    /// Quit after this many frames.
    pub frames: Option<u64>,
    /// Quit after this many seconds.
    pub duration: Option<f64>,
    /// With `frames`: save the last frame here.
    pub screenshot: Option<PathBuf>,
}

/// True when a window can be opened.
pub fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Runs the live show (blocks until the window closes).
pub fn run(options: LiveOptions, demo: PathBuf) -> anyhow::Result<()> {
    // Fail early and clearly on a preset name that does not exist.
    crate::preset::find(&crate::preset::builtin_dir(), &options.preset)?;
    if !has_display() {
        if options.input.is_some() {
            anyhow::bail!(
                "no display (DISPLAY/WAYLAND_DISPLAY unset): live input needs the show window; run it on the projector machine's desktop"
            );
        }
        eprintln!(
            "No display found (DISPLAY/WAYLAND_DISPLAY unset): rendering the show headless to out/ instead."
        );
        return headless(&options, demo);
    }
    let event_loop = match winit::event_loop::EventLoop::new() {
        Ok(el) => el,
        Err(e) => {
            eprintln!("Cannot open a window ({e}): rendering the show headless to out/ instead.");
            return headless(&options, demo);
        }
    };
    let (feed, handle) = match &options.input {
        Some(name) => feed::capture(Some(name))?,
        None => {
            let path = options.audio.clone().unwrap_or(demo);
            let clip = decode_file(&path)?;
            let samples: Arc<[f32]> = clip.samples.into();
            feed::playback(samples, clip.sample_rate)
        }
    };
    tracing::info!("audio: {}", feed.description);
    let clock = feed.clock.clone();
    let latency = feed.output_latency;
    let source = feed.description.clone();
    let analysis = engine::AnalysisThread::start(feed);
    let result =
        window::LiveApp::new(options, analysis, clock.clone(), latency, source).run(event_loop);
    let overruns = clock.overruns.load(std::sync::atomic::Ordering::Relaxed);
    if overruns > 0 {
        tracing::warn!("{overruns} audio samples were dropped (analysis fell behind)");
    }
    drop(handle);
    result
}

/// The no-display fallback: the show rendered to `out/` (a video when ffmpeg
/// is installed, else the first 10 s as PNG frames).
fn headless(options: &LiveOptions, demo: PathBuf) -> anyhow::Result<()> {
    use crate::offline::render::{RenderJob, render};
    let path = options.audio.clone().unwrap_or(demo);
    let clip = decode_file(&path)?;
    let preset = crate::preset::find(&crate::preset::builtin_dir(), &options.preset)?;
    let has_ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    std::fs::create_dir_all("out")?;
    let (video, out_dir, duration) = if has_ffmpeg {
        (Some(PathBuf::from("out/show.mp4")), None, None)
    } else {
        eprintln!(
            "ffmpeg not found (apt-get install ffmpeg for video): writing 10 s of PNG frames."
        );
        (None, Some(PathBuf::from("out/frames")), Some(10.0))
    };
    let job = RenderJob {
        size: [1280, 720],
        fps: 30.0,
        start: 0.0,
        duration: options
            .duration
            .or(options.frames.map(|n| n as f64 / 30.0))
            .or(duration),
        out_dir: out_dir.clone(),
        video: video.clone(),
        audio_path: Some(path),
        params: Default::default(),
        flash_limit: true,
        progress: true,
    };
    let report = render(&clip, preset, &job)?;
    println!(
        "Rendered {} frames in {:.1} s to {}",
        report.frames,
        report.seconds,
        video
            .or(out_dir)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    Ok(())
}
