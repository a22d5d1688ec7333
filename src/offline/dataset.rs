//! `sonolux eval`: analyse every annotated clip of a folder and score it.

use std::path::{Path, PathBuf};

use crate::analysis::{Analyzer, BeatOverride, eval};
use crate::audio::decode_file;

use super::analyze::{AnalysisResult, analyze_clip_with, read_columns, read_times};

/// Scores of one clip; `None` where the clip has no such annotation.
#[derive(Clone, Debug, Default)]
pub struct ClipScore {
    /// Clip id (file stem).
    pub id: String,
    /// Duration, seconds.
    pub duration: f64,
    /// Onset F-measure (±50 ms).
    pub onset_f: Option<f64>,
    /// Median onset offset (s).
    pub onset_offset: Option<f64>,
    /// Beat scores.
    pub beats: Option<eval::BeatScores>,
    /// Downbeat F-measure (±70 ms), where bar positions are annotated.
    pub downbeat_f: Option<f64>,
    /// Tempo (Acc1, Acc2).
    pub tempo: Option<(f64, f64)>,
    /// Estimated and reference tempo.
    pub bpm: (f64, Option<f64>),
    /// When the beat clock first ran (s).
    pub lock_time: Option<f64>,
    /// For matched onsets: detection time minus annotated time (s).
    pub onset_latencies: Vec<f64>,
    /// For matched beats (after trimming): |predicted − annotated| (s).
    pub beat_errors: Vec<f64>,
}

/// Every clip in `dir` with an audio file (flac/wav/mp3/ogg) and at least one annotation.
pub fn find_clips(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut clips: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("flac" | "wav" | "mp3" | "ogg")
            ) && ["onsets", "beats", "bpm"]
                .iter()
                .any(|ext| p.with_extension(ext).exists())
        })
        .collect();
    clips.sort();
    Ok(clips)
}

/// The annotated tempo of `audio`: the first number of `<id>.bpm` beside it.
fn reference_bpm(audio: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(audio.with_extension("bpm")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Scores an analysis of `audio` against the annotation files beside it.
pub fn score_clip(audio: &Path, duration: f64, res: &AnalysisResult) -> ClipScore {
    let id = audio
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s = ClipScore {
        id,
        duration,
        bpm: (res.bpm, None),
        lock_time: res.lock_time,
        ..Default::default()
    };
    if let Ok(r) = read_times(&audio.with_extension("onsets")) {
        s.onset_f = Some(eval::f_measure(&r, &res.onsets, 0.05));
        s.onset_offset = eval::median_offset(&r, &res.onsets, 0.05);
        s.onset_latencies = eval::match_events(&r, &res.onsets, 0.05)
            .into_iter()
            .map(|(i, j)| res.onsets[j] + res.onset_latency - r[i])
            .collect();
    }
    if let Ok(cols) = read_columns(&audio.with_extension("beats")) {
        let r: Vec<f64> = cols.iter().map(|c| c.0).collect();
        let est: Vec<f64> = res.beats.iter().map(|b| b.0).collect();
        let trim = if duration >= 20.0 { 5.0 } else { 0.0 };
        s.beats = Some(eval::score_beats(&r, &est, trim));
        let (rt, et) = (eval::trim(&r, trim), eval::trim(&est, trim));
        s.beat_errors = eval::match_events(&rt, &et, 0.07)
            .into_iter()
            .map(|(i, j)| (et[j] - rt[i]).abs())
            .collect();
        if cols.iter().any(|c| c.1.is_some()) {
            let rd: Vec<f64> = cols
                .iter()
                .filter(|c| c.1 == Some(1.0))
                .map(|c| c.0)
                .collect();
            let ed: Vec<f64> = res.beats.iter().filter(|b| b.1 == 1).map(|b| b.0).collect();
            s.downbeat_f = Some(eval::f_measure(
                &eval::trim(&rd, trim),
                &eval::trim(&ed, trim),
                0.07,
            ));
        }
    }
    if let Some(bpm) = reference_bpm(audio) {
        s.bpm.1 = Some(bpm);
        s.tempo = Some(eval::tempo_accuracy(bpm, res.bpm));
    }
    s
}

/// How often the simulated VJ of [`evaluate_dir`] checks the tempo, seconds.
pub const VJ_LOOKS_EVERY_S: f64 = 5.0;

/// Analyses and scores every clip in `dir`; writes result files into `out` when given.
///
/// With `vj_octave_at` (seconds), a VJ is simulated who listens from that
/// time on, every [`VJ_LOOKS_EVERY_S`]: when the clock runs at twice or half
/// the annotated tempo (within 4 %), they press /2 or x2
/// ([`BeatOverride::Octave`]). The ears come from the annotation.
/// With `mid_song`, every clip is heard as a live input opened in the
/// middle of a song ([`Analyzer::joins_music_in_progress`]): its start says
/// nothing of where the bar starts.
pub fn evaluate_dir(
    dir: &Path,
    out: Option<&Path>,
    block: usize,
    vj_octave_at: Option<f64>,
    mid_song: bool,
) -> anyhow::Result<Vec<ClipScore>> {
    let clips = find_clips(dir)?;
    if clips.is_empty() {
        anyhow::bail!("{}: no annotated audio clips found", dir.display());
    }
    let mut scores = Vec::new();
    for path in clips {
        let clip = decode_file(&path)?;
        let reference = reference_bpm(&path);
        let mut next_look = vj_octave_at.unwrap_or(f64::INFINITY);
        let mut analyzer = Analyzer::new(clip.sample_rate);
        if mid_song {
            analyzer.joins_music_in_progress();
        }
        let res = analyze_clip_with(analyzer, &clip, block, 0.0, |an| {
            let Some(reference) = reference else {
                return;
            };
            if an.time() < next_look {
                return;
            }
            next_look += VJ_LOOKS_EVERY_S;
            // Within 4 % of twice or half the annotation, as Acc1 counts.
            let shown = f64::from(an.frame().rhythm.bpm);
            if eval::tempo_accuracy(2.0 * reference, shown).0 == 1.0 {
                an.override_beat(BeatOverride::Octave(0.5));
            } else if eval::tempo_accuracy(0.5 * reference, shown).0 == 1.0 {
                an.override_beat(BeatOverride::Octave(2.0));
            }
        });
        let score = score_clip(&path, clip.duration(), &res);
        if let Some(out) = out {
            super::analyze::write_result(out, &score.id, &res, super::analyze::TableFormat::Csv)?;
        }
        scores.push(score);
    }
    Ok(scores)
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// Overall means over the clips that have each annotation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Mean onset F.
    pub onset_f: f64,
    /// Mean beat F.
    pub beat_f: f64,
    /// Mean Cemgil.
    pub cemgil: f64,
    /// Mean CMLt.
    pub cmlt: f64,
    /// Mean AMLt.
    pub amlt: f64,
    /// Mean Acc1.
    pub acc1: f64,
    /// Mean Acc2.
    pub acc2: f64,
    /// Mean downbeat F.
    pub downbeat_f: f64,
    /// Median onset offset over clips (ms).
    pub onset_offset_ms: f64,
    /// Median beat offset over clips (ms).
    pub beat_offset_ms: f64,
}

/// Summarises clip scores.
pub fn summarize(scores: &[ClipScore]) -> Summary {
    let beats = || scores.iter().filter_map(|s| s.beats);
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0) * 1000.0
    };
    Summary {
        onset_f: mean(scores.iter().filter_map(|s| s.onset_f)).unwrap_or(0.0),
        beat_f: mean(beats().map(|b| b.f)).unwrap_or(0.0),
        cemgil: mean(beats().map(|b| b.cemgil)).unwrap_or(0.0),
        cmlt: mean(beats().map(|b| b.cmlt)).unwrap_or(0.0),
        amlt: mean(beats().map(|b| b.amlt)).unwrap_or(0.0),
        acc1: mean(scores.iter().filter_map(|s| s.tempo.map(|t| t.0))).unwrap_or(0.0),
        acc2: mean(scores.iter().filter_map(|s| s.tempo.map(|t| t.1))).unwrap_or(0.0),
        downbeat_f: mean(scores.iter().filter_map(|s| s.downbeat_f)).unwrap_or(0.0),
        onset_offset_ms: med(scores.iter().filter_map(|s| s.onset_offset).collect()),
        beat_offset_ms: med(scores
            .iter()
            .filter_map(|s| s.beats.and_then(|b| b.offset))
            .collect()),
    }
}

/// Clips shorter than this (seconds) get a second overall row without
/// them (see [`format_table`]): the beat clock locks 1.5-2 s in, so a 3 s
/// clip's beat F swings with a beat or two, and one such clip moved the
/// mean of a set of 18 by .03 between two sample rates.
pub const SHORT_CLIP_S: f64 = 5.0;

/// Formats the per-clip table and the summary lines (the overall means,
/// and the same without clips shorter than [`SHORT_CLIP_S`] when there
/// are any).
pub fn format_table(scores: &[ClipScore]) -> String {
    let f = |v: Option<f64>| v.map_or("    -".to_string(), |x| format!("{x:.3}"));
    let mut out = String::from(
        "| clip | onset F | beat F | Cemgil | CMLt | AMLt | downbeat F | Acc1 | Acc2 | bpm (ref) | lock s |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in scores {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} ({}) | {} |\n",
            s.id,
            f(s.onset_f),
            f(s.beats.map(|b| b.f)),
            f(s.beats.map(|b| b.cemgil)),
            f(s.beats.map(|b| b.cmlt)),
            f(s.beats.map(|b| b.amlt)),
            f(s.downbeat_f),
            f(s.tempo.map(|t| t.0)),
            f(s.tempo.map(|t| t.1)),
            s.bpm.0,
            s.bpm.1.map_or("-".into(), |b| format!("{b:.1}")),
            s.lock_time.map_or("-".into(), |t| format!("{t:.2}")),
        );
    }
    let m = summarize(scores);
    let row = |label: &str, m: &Summary| {
        format!(
            "| {label} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | | |\n",
            m.onset_f, m.beat_f, m.cemgil, m.cmlt, m.amlt, m.downbeat_f, m.acc1, m.acc2,
        )
    };
    out += &row("**overall**", &m);
    // Clips too short for the clock to lock in time weigh on the mean as
    // much as any other: the same means without them.
    let long: Vec<ClipScore> = scores
        .iter()
        .filter(|s| s.duration >= SHORT_CLIP_S)
        .cloned()
        .collect();
    if long.len() < scores.len() && !long.is_empty() {
        out += &row(
            &format!(
                "overall, clips of {SHORT_CLIP_S:.0} s or more ({} of {})",
                long.len(),
                scores.len()
            ),
            &summarize(&long),
        );
    }
    out += &format!(
        "\nmedian offsets: onsets {:+.1} ms, beats {:+.1} ms\n",
        m.onset_offset_ms, m.beat_offset_ms
    );
    let pooled = |f: &dyn Fn(&ClipScore) -> &[f64]| {
        let mut v: Vec<f64> = scores.iter().flat_map(|s| f(s).iter().copied()).collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let i = ((v.len().max(1) - 1) as f64 * p).round() as usize;
            v.get(i).copied().unwrap_or(0.0) * 1000.0
        };
        (q(0.5), q(0.95))
    };
    let (lat50, lat95) = pooled(&|s| &s.onset_latencies);
    let (be50, be95) = pooled(&|s| &s.beat_errors);
    let locks: Vec<f64> = scores
        .iter()
        .filter(|s| s.beats.is_some())
        .filter_map(|s| s.lock_time)
        .collect();
    out += &format!(
        "onset events available {lat50:.1} ms (median), {lat95:.1} ms (p95) after the annotated onset\n\
         predicted beats within {be50:.1} ms (median), {be95:.1} ms (p95) of annotated beats (matched, after the trim)\n\
         beat clock running {:.2} s after the start at the latest ({} clips with beats)\n",
        locks.iter().cloned().fold(0.0, f64::max),
        locks.len()
    );
    if let Some(families) = format_families(scores) {
        out += "\n";
        out += &families;
    }
    out
}

/// The song a clip comes from: its id without a `_at<BPM>` suffix (the
/// stretched copies `scripts/stretch-set` makes).
pub fn family(id: &str) -> &str {
    match id.rsplit_once("_at") {
        Some((song, bpm)) if !bpm.is_empty() && bpm.bytes().all(|b| b.is_ascii_digit()) => song,
        _ => id,
    }
}

/// Mean scores per song family, when some family has more than one clip:
/// a change is progress when families improve, not one clip.
pub fn format_families(scores: &[ClipScore]) -> Option<String> {
    let mut names: Vec<&str> = scores.iter().map(|s| family(&s.id)).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() == scores.len() {
        return None;
    }
    let f = |v: Option<f64>| v.map_or("    -".to_string(), |x| format!("{x:.3}"));
    let mut out = String::from(
        "| family | clips | onset F | beat F | downbeat F | Acc1 | Acc2 |\n|---|---|---|---|---|---|---|\n",
    );
    for name in names {
        let members: Vec<&ClipScore> = scores.iter().filter(|s| family(&s.id) == name).collect();
        out += &format!(
            "| {name} | {} | {} | {} | {} | {} | {} |\n",
            members.len(),
            f(mean(members.iter().filter_map(|s| s.onset_f))),
            f(mean(members.iter().filter_map(|s| s.beats.map(|b| b.f)))),
            f(mean(members.iter().filter_map(|s| s.downbeat_f))),
            f(mean(members.iter().filter_map(|s| s.tempo.map(|t| t.0)))),
            f(mean(members.iter().filter_map(|s| s.tempo.map(|t| t.1)))),
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(id: &str, acc1: f64) -> ClipScore {
        ClipScore {
            id: id.into(),
            tempo: Some((acc1, 1.0)),
            ..Default::default()
        }
    }

    #[test]
    fn stretched_copies_are_scored_by_song() {
        assert_eq!(family("mdb_rock_mix_at70"), "mdb_rock_mix");
        assert_eq!(family("stretch_britpop_128"), "stretch_britpop_128");
        assert_eq!(family("a_atlas"), "a_atlas");
        let table = format_families(&[clip("a_at70", 1.0), clip("a_at128", 0.0), clip("b", 1.0)])
            .expect("a has two clips");
        assert!(
            table.contains("| a | 2 |     - |     - |     - | 0.500 | 1.000 |"),
            "{table}"
        );
        assert!(table.contains("| b | 1 |"), "{table}");
        assert!(format_families(&[clip("a", 1.0), clip("b", 1.0)]).is_none());
    }

    #[test]
    fn clips_too_short_to_lock_get_a_mean_without_them() {
        let timed = |id: &str, acc1: f64, duration: f64| ClipScore {
            duration,
            ..clip(id, acc1)
        };
        let table = format_table(&[timed("a", 1.0, 30.0), timed("b", 0.0, 2.8)]);
        assert!(table.contains("| **overall** |"), "{table}");
        // Acc1 is the eighth column: 0.5 over both clips, 1.0 without b.
        let acc1 = |label: &str| {
            let line = table.lines().find(|l| l.starts_with(label)).expect(label);
            line.split('|').nth(8).map(|v| v.trim().to_string())
        };
        assert_eq!(acc1("| **overall**").as_deref(), Some("0.500"));
        assert_eq!(
            acc1("| overall, clips of 5 s or more (1 of 2)").as_deref(),
            Some("1.000")
        );
        let long = format_table(&[timed("a", 1.0, 30.0), timed("c", 1.0, 20.0)]);
        assert!(!long.contains("clips of 5 s"), "{long}");
    }
}
