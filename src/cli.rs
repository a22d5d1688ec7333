//! Command-line interface: `run`, `render`, `analyze`, `eval`, `bench`, `presets`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::audio::{AudioClip, decode_file};
use crate::offline::analyze::{TableFormat, analyze_clip, write_result};
use crate::offline::dataset;
use crate::offline::render::RenderJob;
use crate::preset;

/// sonolux: audio-reactive visuals that hit on the beat.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do; with none, runs the live show on the bundled demo track.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output format of the feature table.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values.
    Csv,
    /// JSON array.
    Json,
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(s: &str) -> Result<[u32; 2], String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT (for example 1280x720)"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("bad width in '{s}'"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("bad height in '{s}'"))?;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(format!(
            "size '{s}' must be between 16 and 8192 on each side"
        ));
    }
    Ok([w, h])
}

/// Parses `name=value`.
pub fn parse_param(s: &str) -> Result<(String, f32), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not name=value"))?;
    let v: f32 = v
        .trim()
        .parse()
        .map_err(|_| format!("'{v}' in '{s}' is not a number"))?;
    if !v.is_finite() {
        return Err(format!("'{s}': value must be finite"));
    }
    Ok((k.trim().to_string(), v))
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Frame times per preset at 1280x720 and 1920x1080.
    Render {
        /// Frames measured per preset and size.
        #[arg(long, default_value_t = 60)]
        frames: usize,
        /// Also measure 3840x2160.
        #[arg(long)]
        uhd: bool,
    },
    /// One preset headless (as `render`), then live in a window without and
    /// with the control window, in one run: where the live frame time goes.
    Live {
        /// Preset.
        #[arg(long, default_value = "tunnel")]
        preset: String,
        /// Projector window size.
        #[arg(long, default_value = "1280x720", value_parser = parse_size)]
        size: [u32; 2],
        /// Seconds of each live run.
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
    },
    /// Import time per shader: each Shadertoy/ISF file in a folder imported
    /// into a scratch library, then loaded again (the translation a hot
    /// reload pays).
    Import {
        /// Folder of .glsl/.frag/.json/.fs files.
        #[arg(long, default_value = "assets/shaders")]
        dir: PathBuf,
    },
    /// When hits land: presets rendered over a 120 BPM click track, the
    /// brightness peak and the start of its rise timed against each click.
    Hits {
        /// Presets to time (comma-separated).
        #[arg(long, default_value = "strobe,tunnel,spectrum")]
        presets: String,
        /// Frames per second of the render (finer timing with more).
        #[arg(long, default_value_t = 240.0)]
        fps: f64,
        /// Write a plot of the first preset's brightness against the clicks (PNG).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// The live timing chain: an annotated clip played into a private
    /// PulseAudio null sink and captured live; beat F, emitted-beat error,
    /// onset-to-present latency.
    Timing {
        /// Audio clip with `.beats` (and `.onsets`) annotations beside it.
        #[arg(long, default_value = "tests/data/mdb_rock_mix.flac")]
        clip: PathBuf,
        /// Preset on the projector meanwhile.
        #[arg(long, default_value = "strobe")]
        preset: String,
        /// Open the capture this many seconds into the clip, as a VJ who
        /// starts the show in the middle of a song (the marker click that
        /// aligns the recording then comes after the clip).
        #[arg(long)]
        join_at: Option<f64>,
        /// Play only the first this many seconds of the clip.
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Analysis throughput (and aubio's, same run), memory over an hour.
    Analysis {
        /// Folder of audio clips.
        #[arg(long, default_value = "tests/data")]
        data: PathBuf,
    },
}

/// Preset subcommands.
#[derive(Debug, Subcommand)]
pub enum PresetsCommand {
    /// List the built-in presets and yours, with their descriptions and folders.
    List,
    /// Start a preset of your own (in your preset folder), from a template or a copy.
    New {
        /// Id of the new preset (letters, digits, - and _).
        name: String,
        /// Copy this preset (built-in or yours) instead of the template.
        #[arg(long)]
        from: Option<String>,
    },
    /// Write a preset, with its media, as one file to share (a .tar archive).
    Export {
        /// The preset (id, builtin:ID or folder).
        preset: String,
        /// Archive to write (default: ID.sonolux.tar).
        out: Option<PathBuf>,
    },
    /// The health report: every preset over the same music, one row each
    /// (frame time, clipped pixels, brightness, motion, how it follows bass,
    /// beat, kick and centroid, limiter hold) and a contact sheet each.
    Report {
        /// Audio file (default: the bundled demo track).
        #[arg(long)]
        audio: Option<PathBuf>,
        /// First second measured (default: the demo's drop at 0:14).
        #[arg(long, default_value_t = 14.0)]
        start: f64,
        /// Seconds measured per preset.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Render size.
        #[arg(long, default_value = "480x270", value_parser = parse_size)]
        size: [u32; 2],
        /// Frames per second.
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        /// Folder for the contact sheets.
        #[arg(long, default_value = "out/report")]
        out: PathBuf,
        /// Only these presets (comma-separated; default: all).
        #[arg(long)]
        presets: Option<String>,
    },
    /// Add a preset archive (from `presets export`), a Shadertoy shader
    /// (`.glsl`/`.frag` with `mainImage`, or Shadertoy's JSON export with its
    /// buffers) or an ISF generator (`.fs`) to your presets.
    Import {
        /// The .tar archive, .glsl/.frag, .json or .fs file.
        file: PathBuf,
        /// Id to give it (default: the archive's folder name or the file's stem).
        #[arg(long)]
        name: Option<String>,
    },
    /// Validate every preset (TOML and WGSL through naga); exit 1 on any error.
    Check {
        /// Preset folders to check (default: all built-in presets).
        dirs: Vec<PathBuf>,
    },
}

/// Options of the live show.
#[derive(Debug, clap::Args, Default)]
pub struct RunArgs {
    /// Audio file to play and visualise (default: the bundled demo track).
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// Capture live input instead: "default" or part of a device name (see `sonolux devices`).
    #[arg(long)]
    pub input: Option<String>,
    /// Preset to start with (default: a walk through every built-in preset,
    /// 8 bars each; with --input, the last preset or setlist).
    #[arg(long)]
    pub preset: Option<String>,
    /// Setlist file to play (TOML: `[[entry]] preset = "tunnel", bars = 8`).
    #[arg(long)]
    pub setlist: Option<PathBuf>,
    /// Where the VJ surface goes: a control window (two monitors), an overlay toggled by Tab (one), or none.
    #[arg(long, value_enum, default_value = "auto")]
    pub surface: crate::live::SurfaceMode,
    /// Start with the overlay hidden (one-window mode; Tab shows it).
    #[arg(long)]
    pub hide_overlay: bool,
    /// Control window size.
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    pub control_size: Option<[u32; 2]>,
    /// Place windows at their default positions instead of where they were last time.
    #[arg(long)]
    pub default_windows: bool,
    /// Start in latency calibration: a click on the audio output every second and a patch on
    /// the projector when the show believes it is heard (C toggles it).
    #[arg(long)]
    pub calibrate: bool,
    /// Freeze the picture after this many seconds (as Space does).
    #[arg(long)]
    pub freeze_after: Option<f64>,
    /// Window size.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: Option<[u32; 2]>,
    /// Borderless fullscreen (on --monitor).
    #[arg(long)]
    pub fullscreen: bool,
    /// Monitor for the projector (0 = first; default: the second when there are two).
    #[arg(long)]
    pub monitor: Option<usize>,
    /// Extra latency to compensate, in ms (projector and display lag; default: the saved offset).
    #[arg(long)]
    pub latency_ms: Option<f64>,
    /// Quit after this many frames (for tests and screenshots).
    #[arg(long)]
    pub frames: Option<u64>,
    /// Quit after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// When quitting after --frames or --duration: save the last frame as PNG here.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Write every analysis event (music time, and when it was known) and
    /// every presented frame (music time shown, present time) as JSON lines.
    #[arg(long)]
    pub record_events: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the live show in a window (the default command).
    Run(RunArgs),
    /// List audio input devices.
    Devices,
    /// Print speed and memory tables.
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Render an audio file to PNG frames and/or a video, headless.
    Render {
        /// Audio file (wav, flac, mp3, ogg); default: the bundled demo track.
        #[arg(long)]
        audio: Option<PathBuf>,
        /// Preset id (folder name under presets/) or a preset folder.
        #[arg(long, default_value = "tunnel")]
        preset: String,
        /// Output size, WIDTHxHEIGHT.
        #[arg(long, default_value = "1280x720", value_parser = parse_size)]
        size: [u32; 2],
        /// Frames per second.
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        /// Start time, seconds.
        #[arg(long, default_value_t = 0.0)]
        start: f64,
        /// Seconds to render (default: to the end).
        #[arg(long)]
        duration: Option<f64>,
        /// Folder for PNG frames.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Video file (mp4) written through ffmpeg, with the audio.
        #[arg(long)]
        video: Option<PathBuf>,
        /// Parameter override, name=value (repeatable).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, f32)>,
        /// Lift the flash limiter (it limits full-frame flashes to 3 per second).
        #[arg(long)]
        no_flash_limit: bool,
        /// Write a per-second photosensitivity report (CSV: flashes, red flashes,
        /// extended flashing, patterns, frames held) from an independent counter.
        #[arg(long)]
        safety_report: Option<PathBuf>,
    },
    /// Write the synthesized demo track as a WAV file (how assets/demo.flac was made).
    #[command(hide = true)]
    MakeDemo {
        /// Output WAV file.
        out: PathBuf,
        /// Length in seconds.
        #[arg(long, default_value_t = 62.0)]
        seconds: f64,
    },
    /// What this machine gives sonolux (GPU, audio, displays, folders,
    /// ffmpeg), with warnings about what will not work: paste it in a bug report.
    Doctor,
    /// Write the bundled demo track as a WAV file.
    Demo {
        /// WAV file to write.
        out: PathBuf,
    },
    /// Manage presets.
    Presets {
        /// What to do.
        #[command(subcommand)]
        command: PresetsCommand,
    },
    /// Analyse an audio file: onsets, drum hits, beats, tempo and a feature table.
    Analyze {
        /// Audio file (wav, flac, mp3, ogg).
        file: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Feature table format.
        #[arg(long, value_enum, default_value = "csv")]
        format: FormatArg,
        /// Samples per block fed to the streaming analyser.
        #[arg(long, default_value_t = 512)]
        block: usize,
        /// Seconds between rows of the feature table.
        #[arg(long, default_value_t = 0.01)]
        step: f64,
    },
    /// Score the analysis on every annotated clip of a folder.
    Eval {
        /// Folder with `<id>.flac` and `<id>.onsets/.beats/.bpm` annotations.
        #[arg(long)]
        data: PathBuf,
        /// Also write each clip's result files here (for peer_eval.py --ours).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Samples per block.
        #[arg(long, default_value_t = 512)]
        block: usize,
        /// Simulate a VJ who, from this time on (seconds, then every 5 s),
        /// presses x2 or /2 when the clock runs at half or twice the
        /// annotated tempo.
        #[arg(long)]
        vj_octave_at: Option<f64>,
        /// Hear every clip as a live input opened in the middle of a song:
        /// where it starts says nothing of where the bar starts (what
        /// `sonolux run` does with a capture device).
        #[arg(long)]
        mid_song: bool,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Analyze {
            file,
            out,
            format,
            block,
            step,
        }) => {
            let clip = decode_file(&file)?;
            let res = analyze_clip(&clip, block, step);
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "audio".into());
            let format = match format {
                FormatArg::Csv => TableFormat::Csv,
                FormatArg::Json => TableFormat::Json,
            };
            write_result(&out, &name, &res, format)
                .with_context(|| format!("writing results to {}", out.display()))?;
            println!(
                "{name}: {:.1} s, {} onsets, {} beats, {:.1} BPM -> {}",
                clip.duration(),
                res.onsets.len(),
                res.beats.len(),
                res.bpm,
                out.display()
            );
            Ok(())
        }
        Some(Command::Eval {
            data,
            out,
            block,
            vj_octave_at,
            mid_song,
        }) => {
            let scores =
                dataset::evaluate_dir(&data, out.as_deref(), block, vj_octave_at, mid_song)?;
            print!("{}", dataset::format_table(&scores));
            Ok(())
        }
        Some(Command::Render {
            audio,
            preset,
            size,
            fps,
            start,
            duration,
            out,
            video,
            params,
            no_flash_limit,
            safety_report,
        }) => {
            if !(fps > 0.0 && fps <= 240.0) {
                anyhow::bail!("--fps must be in 0..240");
            }
            let (clip, audio_path) = load_audio(audio.as_deref())?;
            let preset = preset::Library::locate().find(&preset)?;
            let out = match (&out, &video) {
                (None, None) => Some(PathBuf::from("out")),
                _ => out,
            };
            let job = RenderJob {
                size,
                fps,
                start: start.max(0.0),
                duration,
                out_dir: out.clone(),
                video: video.clone(),
                audio_path: Some(audio_path),
                params: params.into_iter().collect::<BTreeMap<_, _>>(),
                flash_limit: !no_flash_limit,
                progress: true,
                safety_report: safety_report.clone(),
            };
            let report = crate::offline::render::render(&clip, preset, &job)?;
            println!(
                "{} frames in {:.1} s ({:.1} fps) on {}; flash limiter held {} frames{}{}",
                report.frames,
                report.seconds,
                report.frames as f64 / report.seconds.max(1e-9),
                report.adapter,
                report.frames_limited,
                out.map_or(String::new(), |d| format!("; frames in {}", d.display())),
                video.map_or(String::new(), |v| format!("; video {}", v.display())),
            );
            if let Some(path) = safety_report {
                println!(
                    "safety report: {} ({})",
                    path.display(),
                    if report.safety_fails {
                        "a rule is broken: see the FAIL rows"
                    } else {
                        "every second passes"
                    }
                );
            }
            Ok(())
        }
        Some(Command::Presets { command }) => presets_command(command),
        Some(Command::Doctor) => crate::doctor::run(),
        Some(Command::Demo { out }) => {
            let clip = decode_file(&demo_track_path())?;
            crate::audio::decode::write_wav(&out, &clip.samples, clip.sample_rate)?;
            println!(
                "wrote {} ({:.1} s, {} Hz)",
                out.display(),
                clip.duration(),
                clip.sample_rate
            );
            Ok(())
        }
        Some(Command::MakeDemo { out, seconds }) => {
            let samples = crate::audio::demo::synthesize(seconds, 44_100);
            crate::audio::decode::write_wav(&out, &samples, 44_100)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Some(Command::Run(args)) => run_live(args),
        None => run_live(RunArgs {
            surface: crate::live::SurfaceMode::Auto,
            ..Default::default()
        }),
        Some(Command::Bench { what }) => match what {
            BenchCommand::Render { frames, uhd } => crate::bench::render(frames.max(5), uhd),
            BenchCommand::Analysis { data } => crate::bench::analysis(&data),
            BenchCommand::Import { dir } => crate::bench::import(&dir),
            BenchCommand::Timing {
                clip,
                preset,
                join_at,
                seconds,
            } => crate::bench::timing(&clip, &preset, join_at, seconds),
            BenchCommand::Hits { presets, fps, plot } => {
                crate::bench::hits(&presets, fps, plot.as_deref())
            }
            BenchCommand::Live {
                preset,
                size,
                seconds,
            } => crate::bench::live(&preset, size, seconds, demo_track_path()),
        },
        Some(Command::Devices) => {
            // The default host first (what --input searches), then every host.
            let hosts = crate::audio::feed::hosts_and_inputs();
            if hosts.iter().all(|(_, d)| d.is_empty()) {
                println!("no audio input devices found");
            }
            for (host, names) in hosts {
                println!("{host}:");
                for n in names {
                    println!("  {n}");
                }
            }
            Ok(())
        }
    }
}

/// The bundled demo track (the checkout's, or the embedded copy unpacked).
pub fn demo_track_path() -> PathBuf {
    preset::library::demo_track()
}

/// Decodes `path`, or the demo track when none is given.
fn load_audio(path: Option<&Path>) -> anyhow::Result<(AudioClip, PathBuf)> {
    let path = path.map_or_else(demo_track_path, Path::to_path_buf);
    Ok((decode_file(&path)?, path))
}

fn presets_command(command: PresetsCommand) -> anyhow::Result<()> {
    let lib = preset::Library::locate();
    match command {
        PresetsCommand::List => {
            let entries = lib.entries();
            for origin in [preset::Origin::BuiltIn, preset::Origin::User] {
                let dir = match origin {
                    preset::Origin::BuiltIn => &lib.builtin,
                    preset::Origin::User => &lib.user,
                };
                let group: Vec<_> = entries.iter().filter(|f| f.origin == origin).collect();
                println!("{} ({}, {}):", origin.label(), group.len(), dir.display());
                for f in group {
                    let note = if f.shadowed {
                        " [your copy of the same name is used]"
                    } else {
                        ""
                    };
                    match preset::Preset::load(&f.dir) {
                        Ok(p) => println!(
                            "  {:14} {} - {}{note}",
                            f.id, p.spec.name, p.spec.description
                        ),
                        Err(e) => println!("  {:14} BROKEN: {e}", f.id),
                    }
                }
            }
            Ok(())
        }
        PresetsCommand::Check { dirs } => {
            let dirs = if dirs.is_empty() {
                lib.entries().into_iter().map(|f| f.dir).collect()
            } else {
                dirs
            };
            let mut bad = 0;
            for d in &dirs {
                match preset::Preset::load(d) {
                    Ok(p) => println!("ok     {} ({} passes)", d.display(), p.passes.len()),
                    Err(e) => {
                        bad += 1;
                        println!("error  {e}");
                    }
                }
            }
            if bad > 0 {
                anyhow::bail!("{bad} of {} presets failed", dirs.len());
            }
            Ok(())
        }
        PresetsCommand::New { name, from } => {
            let dir = crate::preset::share::new_preset(&lib, &name, from.as_deref())?;
            println!(
                "new preset {name} in {}\nedit its files; `sonolux run --preset {name}` shows it and reloads on every save",
                dir.display()
            );
            Ok(())
        }
        PresetsCommand::Export { preset: name, out } => {
            let p = lib.find(&name)?;
            let id = p
                .dir
                .file_name()
                .map_or_else(|| "preset".into(), |n| n.to_string_lossy().into_owned());
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{id}.sonolux.tar")));
            let files = crate::preset::share::export(&p.dir, &id, &out)?;
            println!("wrote {} ({files} files)", out.display());
            Ok(())
        }
        PresetsCommand::Report {
            audio,
            start,
            seconds,
            size,
            fps,
            out,
            presets,
        } => {
            let (clip, _) = load_audio(audio.as_deref())?;
            let ids: Vec<String> = match presets {
                Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
                None => lib.ids(),
            };
            let start = start.clamp(0.0, (clip.duration() - 1.0).max(0.0));
            let seconds = seconds.min(clip.duration() - start).max(0.5);
            let job = crate::offline::report::ReportJob {
                clip: &clip,
                start,
                seconds,
                size,
                fps,
                sheet_dir: Some(&out),
            };
            let bar = indicatif::ProgressBar::new(ids.len() as u64);
            let mut rows = Vec::new();
            for id in &ids {
                bar.set_message(id.clone());
                let p = lib.find(id)?;
                rows.push(crate::offline::report::report_preset(
                    crate::render::Gpu::headless()?,
                    p,
                    &job,
                )?);
                bar.inc(1);
            }
            bar.finish_and_clear();
            println!(
                "{seconds:.0} s from {start:.0} s, {}x{} at {fps} fps; clipped = a channel at full scale; follows = correlation of brightness or motion with the feature",
                size[0], size[1]
            );
            print!("{}", crate::offline::report::format_table(&rows));
            Ok(())
        }
        PresetsCommand::Import { file, name } => {
            let is_shader = file
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .is_some_and(|e| matches!(e.as_str(), "glsl" | "frag" | "fs" | "json"));
            if is_shader {
                let started = std::time::Instant::now();
                let done = crate::preset::import::import_shader(&lib, &file, name.as_deref())?;
                println!(
                    "imported {} into {} ({:.0} ms)",
                    file.display(),
                    done.dir.display(),
                    started.elapsed().as_secs_f64() * 1e3
                );
                for n in &done.notes {
                    println!("  note: {n}");
                }
            } else {
                let dir = crate::preset::share::import(&lib, &file, name.as_deref())?;
                println!("imported {} into {}", file.display(), dir.display());
            }
            Ok(())
        }
    }
}

fn run_live(args: RunArgs) -> anyhow::Result<()> {
    let options = crate::live::LiveOptions {
        audio: args.audio,
        input: args.input,
        preset: args.preset,
        setlist: args.setlist,
        size: args.size.unwrap_or([1280, 720]),
        control_size: args.control_size.unwrap_or([1280, 800]),
        fullscreen: args.fullscreen,
        monitor: args.monitor,
        surface: args.surface,
        overlay_visible: !args.hide_overlay,
        restore_windows: !args.default_windows,
        calibrate: args.calibrate,
        freeze_after: args.freeze_after,
        latency_ms: args.latency_ms,
        frames: args.frames,
        duration: args.duration,
        screenshot: args.screenshot,
        record_events: args.record_events,
    };
    crate::live::run(options, demo_track_path())
}
