//! Running the streaming analyser over a whole file, as live capture would,
//! and writing/reading the plain-text result files.

use std::io::Write;
use std::path::Path;

use crate::analysis::{Analyzer, EventKind, FeatureFrame};
use crate::audio::AudioClip;

/// Everything `sonolux analyze` reports for one clip.
#[derive(Clone, Debug, Default)]
pub struct AnalysisResult {
    /// Broadband onset times (s).
    pub onsets: Vec<f64>,
    /// Kick, snare and hat hit times (s).
    pub kicks: Vec<f64>,
    /// Snare hits (s).
    pub snares: Vec<f64>,
    /// Hi-hat hits (s).
    pub hats: Vec<f64>,
    /// Predicted beats: (time s, position in bar 1..=4).
    pub beats: Vec<(f64, u32)>,
    /// Global tempo, BPM (median of the clock's tempo once running).
    pub bpm: f64,
    /// Seconds from the start until the beat clock first ran.
    pub lock_time: Option<f64>,
    /// Detection latency (detected_at − time) of onsets, seconds.
    pub onset_latency: f64,
    /// Feature frames sampled every `frame_step` seconds.
    pub frames: Vec<FeatureFrame>,
}

/// Feeds `clip` through a fresh [`Analyzer`] in blocks of `block` samples.
/// Keeps a feature frame every `frame_step` seconds (0 keeps none).
pub fn analyze_clip(clip: &AudioClip, block: usize, frame_step: f64) -> AnalysisResult {
    analyze_clip_steered(clip, block, frame_step, |_| {})
}

/// [`analyze_clip`] with `steer` called after every block, as a VJ at the
/// controls would act (tap, x2, /2 through [`Analyzer::override_beat`]).
pub fn analyze_clip_steered(
    clip: &AudioClip,
    block: usize,
    frame_step: f64,
    steer: impl FnMut(&mut Analyzer),
) -> AnalysisResult {
    analyze_clip_with(
        Analyzer::new(clip.sample_rate),
        clip,
        block,
        frame_step,
        steer,
    )
}

/// [`analyze_clip_steered`] with an analyser set up by the caller (made for
/// `clip`'s sample rate), such as one that
/// [`Analyzer::joins_music_in_progress`].
pub fn analyze_clip_with(
    mut an: Analyzer,
    clip: &AudioClip,
    block: usize,
    frame_step: f64,
    mut steer: impl FnMut(&mut Analyzer),
) -> AnalysisResult {
    let mut res = AnalysisResult::default();
    let mut bpms = Vec::new();
    let mut next_frame = 0.0;
    for chunk in clip.samples.chunks(block.max(1)) {
        for e in an.process(chunk) {
            match e.kind {
                EventKind::Onset => {
                    res.onsets.push(e.time);
                    res.onset_latency = e.detected_at - e.time;
                }
                EventKind::Kick => res.kicks.push(e.time),
                EventKind::Snare => res.snares.push(e.time),
                EventKind::Hat => res.hats.push(e.time),
                EventKind::Beat { bar_position, .. } => {
                    res.lock_time.get_or_insert(e.detected_at);
                    res.beats.push((e.time, bar_position));
                }
            }
        }
        steer(&mut an);
        let f = an.frame();
        if f.rhythm.bpm > 0.0 {
            bpms.push(f.rhythm.bpm);
        }
        if frame_step > 0.0 && f.time >= next_frame {
            res.frames.push(*f);
            next_frame += frame_step;
        }
    }
    // Global tempo: median over the later half of the clock's running time.
    let half = bpms.len() / 2;
    let tail = &mut bpms[half..];
    tail.sort_by(f32::total_cmp);
    res.bpm = tail.get(tail.len() / 2).map_or(0.0, |&b| f64::from(b));
    res
}

fn write_times(path: &Path, times: impl Iterator<Item = String>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for t in times {
        writeln!(f, "{t}")?;
    }
    f.flush()
}

/// Output format of the per-frame feature table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated, one header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Writes `<name>.onsets.txt`, `<name>.beats.txt` (time and bar position),
/// `<name>.hits.txt` (the drum hits: time and `kick`, `snare` or `hat`, in
/// time order), `<name>.bpm.txt` and `<name>.features.{csv,json}` into `dir`.
pub fn write_result(
    dir: &Path,
    name: &str,
    res: &AnalysisResult,
    format: TableFormat,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_times(
        &dir.join(format!("{name}.onsets.txt")),
        res.onsets.iter().map(|t| format!("{t:.4}")),
    )?;
    write_times(
        &dir.join(format!("{name}.beats.txt")),
        res.beats.iter().map(|(t, p)| format!("{t:.4}\t{p}")),
    )?;
    let mut hits: Vec<(f64, &str)> = (res.kicks.iter().map(|&t| (t, "kick")))
        .chain(res.snares.iter().map(|&t| (t, "snare")))
        .chain(res.hats.iter().map(|&t| (t, "hat")))
        .collect();
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    write_times(
        &dir.join(format!("{name}.hits.txt")),
        hits.iter().map(|(t, k)| format!("{t:.4}\t{k}")),
    )?;
    std::fs::write(
        dir.join(format!("{name}.bpm.txt")),
        format!("{:.2}\n", res.bpm),
    )?;
    let cols = [
        "time",
        "rms_db",
        "level",
        "bass",
        "mid",
        "treb",
        "centroid",
        "flux",
        "flatness",
        "rolloff",
        "onset",
        "kick",
        "snare",
        "hat",
        "bpm",
        "beat_phase",
        "confidence",
    ];
    let row = |f: &FeatureFrame| -> [f64; 17] {
        let pos = f.rhythm.position_at(f.time);
        [
            f.time,
            f64::from(f.rms_db),
            f64::from(f.level),
            f64::from(f.bass),
            f64::from(f.mid),
            f64::from(f.treb),
            f64::from(f.centroid),
            f64::from(f.flux),
            f64::from(f.flatness),
            f64::from(f.rolloff),
            f64::from(f.onset),
            f64::from(f.kick),
            f64::from(f.snare),
            f64::from(f.hat),
            f64::from(f.rhythm.bpm),
            f64::from(pos.beat_phase),
            f64::from(f.rhythm.confidence),
        ]
    };
    match format {
        TableFormat::Csv => write_times(
            &dir.join(format!("{name}.features.csv")),
            std::iter::once(cols.join(",")).chain(res.frames.iter().map(|f| {
                row(f)
                    .iter()
                    .map(|v| format!("{v:.4}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })),
        ),
        TableFormat::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = res
                .frames
                .iter()
                .map(|f| {
                    cols.iter()
                        .zip(row(f))
                        .map(|(c, v)| ((*c).to_string(), serde_json::json!(v)))
                        .collect()
                })
                .collect();
            let text = serde_json::to_string(&rows).map_err(std::io::Error::other)?;
            std::fs::write(dir.join(format!("{name}.features.json")), text)
        }
    }
}

/// Reads a file of times (first column, seconds), skipping blank lines.
pub fn read_times(path: &Path) -> std::io::Result<Vec<f64>> {
    Ok(read_columns(path)?.into_iter().map(|(t, _)| t).collect())
}

/// Reads (time, optional second column) pairs.
pub fn read_columns(path: &Path) -> std::io::Result<Vec<(f64, Option<f64>)>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if let Some(Ok(t)) = it.next().map(str::parse::<f64>) {
            out.push((t, it.next().and_then(|s| s.parse().ok())));
        }
    }
    Ok(out)
}
