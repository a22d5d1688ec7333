//! `sonolux render`: audio file → PNG frames or video, through the same causal
//! analysis as live, on a virtual clock stepped at the frame rate.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;

use crate::analysis::{Analyzer, FeatureFrame};
use crate::audio::AudioClip;
use crate::preset::Preset;
use crate::render::{FrameClock, Gpu, Renderer};

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderJob {
    /// Output size in pixels.
    pub size: [u32; 2],
    /// Frames per second.
    pub fps: f64,
    /// Start time in the audio, seconds.
    pub start: f64,
    /// Seconds to render (None = to the end).
    pub duration: Option<f64>,
    /// Folder for PNG frames (None = no PNGs).
    pub out_dir: Option<PathBuf>,
    /// Video file to write through ffmpeg (None = no video).
    pub video: Option<PathBuf>,
    /// The audio file, muxed into the video.
    pub audio_path: Option<PathBuf>,
    /// Parameter overrides.
    pub params: BTreeMap<String, f32>,
    /// Whether the flash limiter is on.
    pub flash_limit: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Write a per-second photosensitivity report (CSV) of the frames here.
    pub safety_report: Option<PathBuf>,
}

/// What a render did.
#[derive(Clone, Debug, Default)]
pub struct RenderReport {
    /// Frames written.
    pub frames: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Frames during which the flash limiter held the picture.
    pub frames_limited: u64,
    /// The independent flash audit found a broken rule (with a safety report).
    pub safety_fails: bool,
    /// The adapter used.
    pub adapter: String,
}

/// Steps an [`Analyzer`] through a clip on a virtual clock.
pub struct VirtualClock<'a> {
    clip: &'a AudioClip,
    analyzer: Analyzer,
    fed: usize,
    block: usize,
}

impl<'a> VirtualClock<'a> {
    /// Starts at the beginning of `clip`.
    pub fn new(clip: &'a AudioClip) -> Self {
        Self {
            clip,
            analyzer: Analyzer::new(clip.sample_rate),
            fed: 0,
            block: 512,
        }
    }

    /// Feeds audio up to stream time `t` (in blocks, as a live callback would)
    /// and returns the feature frame then.
    pub fn advance_to(&mut self, t: f64) -> &FeatureFrame {
        let target =
            ((t.max(0.0) * f64::from(self.clip.sample_rate)) as usize).min(self.clip.samples.len());
        while self.fed < target {
            let end = (self.fed + self.block).min(target);
            self.analyzer.process(&self.clip.samples[self.fed..end]);
            self.fed = end;
        }
        self.analyzer.frame()
    }
}

fn spawn_ffmpeg(job: &RenderJob, video: &Path) -> anyhow::Result<Child> {
    let [w, h] = job.size;
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
    ])
    .args([
        "-s",
        &format!("{w}x{h}"),
        "-r",
        &format!("{}", job.fps),
        "-i",
        "-",
    ]);
    if let Some(audio) = &job.audio_path {
        cmd.args(["-ss", &format!("{}", job.start)])
            .arg("-i")
            .arg(audio);
        cmd.args(["-map", "0:v", "-map", "1:a", "-c:a", "aac", "-shortest"]);
    }
    cmd.args([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
    ])
    .arg(video)
    .stdin(Stdio::piped());
    cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "--video needs ffmpeg, which is not installed: apt-get install ffmpeg (or write PNG frames with --out)"
            )
        } else {
            anyhow::anyhow!("cannot start ffmpeg: {e}")
        }
    })
}

/// Renders `clip` with `preset` as described by `job`.
pub fn render(clip: &AudioClip, preset: Preset, job: &RenderJob) -> anyhow::Result<RenderReport> {
    let mut values = preset.spec.default_values();
    preset
        .spec
        .apply_overrides(&mut values, &job.params)
        .map_err(anyhow::Error::msg)?;
    if job.start >= clip.duration() {
        anyhow::bail!(
            "--start {:.1} s is past the end of the track ({:.1} s long)",
            job.start,
            clip.duration()
        );
    }
    let gpu = Gpu::headless()?;
    let adapter = gpu.describe();
    // Modulations saved in the preset move its parameters here exactly as
    // in the live show.
    let params = preset.spec.params.clone();
    let mut followers = vec![crate::preset::modulation::Follower::default(); params.len()];
    let mut renderer = Renderer::new(gpu, preset, job.size)?;
    *renderer.params_mut() = values.clone();
    renderer.limiter.enabled = job.flash_limit;
    let end = job
        .duration
        .map_or(clip.duration(), |d| (job.start + d).min(clip.duration()));
    let n_frames = (((end - job.start) * job.fps).round().max(0.0)) as u64;
    if let Some(dir) = &job.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut ffmpeg = job
        .video
        .as_deref()
        .map(|v| spawn_ffmpeg(job, v))
        .transpose()?;
    let bar = if job.progress {
        indicatif::ProgressBar::new(n_frames)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} frames, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut clock = VirtualClock::new(clip);
    // Warm the analysis up to the start so the beat clock has history.
    clock.advance_to(job.start);
    // Frames go to a writer thread (PNG encoding, the ffmpeg pipe) so writing
    // overlaps the rendering of the next frames.
    let mut audit = job
        .safety_report
        .as_ref()
        .map(|_| crate::show::safety::FlashAudit::new());
    let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, Vec<u8>)>(3);
    let out_dir = job.out_dir.clone();
    let [w, h] = job.size;
    let mut stdin = ffmpeg.as_mut().and_then(|c| c.stdin.take());
    let writer = std::thread::spawn(
        move || -> anyhow::Result<Option<std::process::ChildStdin>> {
            for (n, pixels) in rx {
                if let Some(dir) = &out_dir {
                    let path = dir.join(format!("frame_{n:05}.png"));
                    image::save_buffer(&path, &pixels, w, h, image::ExtendedColorType::Rgba8)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                if let Some(pipe) = stdin.as_mut() {
                    pipe.write_all(&pixels)
                        .context("ffmpeg stopped accepting frames")?;
                }
            }
            Ok(stdin)
        },
    );
    for n in 0..n_frames {
        let t = job.start + n as f64 / job.fps;
        let frame = *clock.advance_to(t);
        let dt = (1.0 / job.fps) as f32;
        for (i, p) in params.iter().enumerate() {
            if let Some(m) = &p.modulation {
                let x = followers[i].step(m.source.value(&frame, t), dt, m);
                renderer.params_mut()[i] = crate::preset::modulation::modulated(p, values[i], m, x);
            }
        }
        let held_before = renderer.limiter.frames_limited;
        let pixels = renderer
            .render(
                &frame,
                FrameClock {
                    time: t,
                    delta: (1.0 / job.fps) as f32,
                    frame: n,
                },
                true,
            )
            .unwrap_or_default();
        if let Some(audit) = &mut audit {
            audit.push_rgba(t - job.start, &pixels, w as usize, h as usize);
            let held = renderer.limiter.frames_limited - held_before;
            audit.add_held(((t - job.start).max(0.0)).floor() as u64, held);
        }
        if tx.send((n, pixels)).is_err() {
            break; // the writer failed; its error is reported below
        }
        bar.inc(1);
    }
    drop(tx);
    let stdin = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the frame writer thread panicked"))??;
    drop(stdin);
    bar.finish_and_clear();
    if let Some(mut child) = ffmpeg {
        let status = child.wait()?;
        if !status.success() {
            anyhow::bail!("ffmpeg failed ({status})");
        }
    }
    let mut safety_fails = false;
    if let (Some(audit), Some(path)) = (&audit, &job.safety_report) {
        std::fs::write(path, audit.csv()).with_context(|| format!("writing {}", path.display()))?;
        safety_fails = audit.fails();
    }
    Ok(RenderReport {
        frames: n_frames,
        seconds: started.elapsed().as_secs_f64(),
        frames_limited: renderer.limiter.frames_limited,
        safety_fails,
        adapter,
    })
}
