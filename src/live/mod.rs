//! The live show: audio feed → analysis thread → projector window.
//!
//! With no display (a headless server, CI without Xvfb) it says so and renders
//! the same show to `out/` instead.

pub mod egui_layer;
pub mod engine;
pub mod monitors;
pub mod record;
pub mod timing;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;

use crate::audio::{decode_file, feed};
use crate::settings::{Settings, settings_path};
use crate::show::{Level, Setlist, Show};

/// Where the VJ surface goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SurfaceMode {
    /// A control window when there are two or more monitors, else an overlay.
    #[default]
    Auto,
    /// Its own window beside the projector.
    Window,
    /// Over the projector's picture, toggled by Tab.
    Overlay,
    /// No surface (keys only).
    None,
}

/// Bars each built-in preset is held for in the newcomer's walk.
pub const WALK_BARS: u32 = 8;

/// How to run the show.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Audio file to play (default: the demo track); ignored with `input`.
    pub audio: Option<PathBuf>,
    /// Capture from this input device ("default", "last" or part of a name).
    pub input: Option<String>,
    /// Preset id to start with (none: a setlist, the last preset, or the walk).
    pub preset: Option<String>,
    /// Setlist file to play.
    pub setlist: Option<PathBuf>,
    /// Window size when not fullscreen.
    pub size: [u32; 2],
    /// Control window size.
    pub control_size: [u32; 2],
    /// Borderless fullscreen on `monitor`.
    pub fullscreen: bool,
    /// Monitor index for the projector (default: the second one when there are two).
    pub monitor: Option<usize>,
    /// Where the VJ surface goes.
    pub surface: SurfaceMode,
    /// The overlay starts visible (one-window mode).
    pub overlay_visible: bool,
    /// Put windows where they were last time.
    pub restore_windows: bool,
    /// Start in latency-calibration mode.
    pub calibrate: bool,
    /// Freeze the picture after this many seconds (for checks that compare
    /// the window with the rendered frame).
    pub freeze_after: Option<f64>,
    /// Extra delay (ms) added to the music time of each frame (projector
    /// lag); `None`: the saved offset.
    pub latency_ms: Option<f64>,
    /// Quit after this many frames.
    pub frames: Option<u64>,
    /// Quit after this many seconds.
    pub duration: Option<f64>,
    /// With `frames`: save the last frame here.
    pub screenshot: Option<PathBuf>,
    /// Write every analysis event and presented frame here (JSON lines).
    pub record_events: Option<PathBuf>,
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

/// The show for `options`: a preset, a setlist file, the last state from
/// the settings (live input), or the walk through every built-in preset.
fn build_show(options: &LiveOptions, settings: &Settings) -> anyhow::Result<Show> {
    let presets = crate::preset::Library::locate();
    let ids = presets.ids();
    let remembered =
        options.input.is_some() && options.setlist.is_none() && options.preset.is_none();
    let setlist_path = options
        .setlist
        .clone()
        .or_else(|| settings.setlist.clone().filter(|_| remembered));
    let first = options
        .preset
        .clone()
        .or_else(|| {
            settings
                .preset
                .clone()
                .filter(|p| remembered && ids.contains(p))
        })
        .or_else(|| ids.first().cloned())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no presets found in {} or {}",
                presets.builtin.display(),
                presets.user.display()
            )
        })?;
    let mut show = Show::new(presets, &first)?;
    if let Some(t) = settings.transition {
        show.transition = t;
    }
    show.latency_ms = options.latency_ms.unwrap_or(settings.latency_ms);
    if let Some(path) = setlist_path {
        match Setlist::load(&path) {
            Ok(list) => show.set_setlist(list, Some(path)),
            Err(e) => show.message(Level::Error, format!("{e} (no setlist)")),
        }
    } else if options.preset.is_none() && !remembered {
        // The newcomer's walk: every built-in preset, 8 bars each.
        let builtin: Vec<String> = show
            .library
            .iter()
            .filter(|e| e.origin == crate::preset::Origin::BuiltIn)
            .map(|e| e.id.clone())
            .collect();
        show.set_setlist(Setlist::every(&builtin, WALK_BARS), None);
    }
    Ok(show)
}

static LAUNCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Records the moment the process started (call first thing in `main`), so
/// the live show can report its start-up time.
pub fn mark_launch() {
    let _ = LAUNCH.set(std::time::Instant::now());
}

/// Seconds since [`mark_launch`] (or since the first call, without it).
pub fn since_launch() -> f64 {
    LAUNCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Runs the live show (blocks until the window closes).
pub fn run(options: LiveOptions, demo: PathBuf) -> anyhow::Result<()> {
    // Fail early and clearly on a preset name that does not exist.
    if let Some(p) = &options.preset {
        crate::preset::Library::locate().find(p)?;
    }
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
    let path = settings_path();
    let (settings, warning) = path.as_deref().map(Settings::load).unwrap_or_default();
    let mut options = options;
    if options.input.as_deref() == Some("last") {
        options.input = Some(settings.input.clone().unwrap_or_else(|| "default".into()));
    }
    let mut show = build_show(&options, &settings)?;
    if let Some(w) = warning {
        show.message(Level::Warning, w);
    }
    show.calibrating = options.calibrate;
    let live_input = options.input.is_some();
    let input_devices = feed::input_device_names();
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
    let recorder = match &options.record_events {
        Some(path) => {
            let r = record::EventRecorder::create(path)
                .map_err(|e| anyhow::anyhow!("--record-events {}: {e}", path.display()))?;
            r.sender().start(&feed.description, feed.sample_rate);
            Some(r)
        }
        None => None,
    };
    let parts = window::LiveParts {
        clock: clock.clone(),
        output_latency: feed.output_latency,
        source: feed.description.clone(),
        analysis: engine::AnalysisThread::start(
            feed,
            live_input,
            recorder.as_ref().map(record::EventRecorder::sender),
        ),
        recorder: recorder.as_ref().map(record::EventRecorder::sender),
        feed: handle,
        show,
        settings,
        settings_path: path,
        input_devices,
    };
    let result = window::LiveApp::new(options, parts).run(event_loop);
    if let Some(l) = clock.output_latency() {
        tracing::info!(
            "audio: output latency {:.1} ms (from the stream's timestamps)",
            l * 1e3
        );
    }
    let overruns = clock.overruns.load(std::sync::atomic::Ordering::Relaxed);
    if overruns > 0 {
        let largest = clock
            .largest_block
            .load(std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            "{overruns} audio samples were dropped (analysis fell behind; largest audio block {largest} frames)"
        );
    }
    result
}

/// The no-display fallback: the show rendered to `out/` (a video when ffmpeg
/// is installed, else the first 10 s as PNG frames).
fn headless(options: &LiveOptions, demo: PathBuf) -> anyhow::Result<()> {
    use crate::offline::render::{RenderJob, render};
    let path = options.audio.clone().unwrap_or(demo);
    let clip = decode_file(&path)?;
    let preset =
        crate::preset::Library::locate().find(options.preset.as_deref().unwrap_or("tunnel"))?;
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
        safety_report: None,
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
