//! Scores a `--record-events` recording of a live run against annotations:
//! the live timing chain measured end to end (`sonolux bench timing`).
//!
//! A marker click in the played file maps the recording's music time onto
//! the clip's time without assuming any latency. Where it sits depends on
//! when the capture opens ([`Layout`]): before the clip, when the capture
//! runs first and hears the music start (a band starting); after it, when
//! the capture opens while the clip plays (a VJ joining a song in the
//! middle).

use crate::analysis::eval;

/// Where the marker click sits in the played file (s).
pub const MARKER_AT: f64 = 1.0;
/// Where the clip starts in the played file (s): after a silence longer
/// than the beat clock's gap between songs (2 s), so the clip starts as a
/// song does after silence, not as the continuation of the marker.
pub const CLIP_AT: f64 = 4.0;

/// Silence between the clip's end and the marker click in a
/// [`Layout::MarkerAfter`] file (s): longer than the beat clock's gap
/// between songs, so the marker is heard alone.
pub const MARKER_GAP: f64 = 3.0;

/// Where the marker click sits in the played file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// The marker at [`MARKER_AT`], the clip at [`CLIP_AT`]: the capture
    /// runs before either plays, and the marker is the first onset heard.
    MarkerFirst,
    /// The clip from the file's start, `clip_s` seconds of it, then
    /// [`MARKER_GAP`] of silence and the marker: the capture opens while
    /// the clip plays, and the marker is the last onset heard.
    MarkerAfter {
        /// Seconds of the clip in the file.
        clip_s: f64,
    },
}

/// What a recording holds, in the recording's own times.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// (music time, strength) of every onset.
    pub onsets: Vec<(f64, f64)>,
    /// Music times of emitted beats.
    pub beats: Vec<f64>,
    /// Music times of emitted downbeats.
    pub downbeats: Vec<f64>,
    /// (music time, capture wall time) pairs from the clock lines.
    pub clock: Vec<(f64, f64)>,
    /// (music time shown, present wall time) of every frame.
    pub frames: Vec<(f64, f64)>,
    /// Input latency reported by cpal (ms), the last seen.
    pub input_latency_ms: Option<f64>,
}

/// Parses the JSON lines of `--record-events`.
pub fn parse(text: &str) -> Recording {
    let mut r = Recording::default();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let f = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        match v.get("type").and_then(serde_json::Value::as_str) {
            Some("onset") => {
                if let Some(t) = f("music_time") {
                    r.onsets.push((t, f("strength").unwrap_or(0.0)));
                }
            }
            Some("beat") => r.beats.extend(f("music_time")),
            Some("downbeat") => r.downbeats.extend(f("music_time")),
            Some("clock") => {
                if let (Some(t), Some(w)) = (f("music_time"), f("capture_wall")) {
                    r.clock.push((t, w));
                }
                r.input_latency_ms = f("input_latency_ms").or(r.input_latency_ms);
            }
            Some("frame") => {
                if let (Some(t), Some(w)) = (f("music_time"), f("present_wall")) {
                    r.frames.push((t, w));
                }
            }
            _ => {}
        }
    }
    r
}

/// The scores of one run.
#[derive(Clone, Debug, Default)]
pub struct TimingReport {
    /// Recording time − clip time (s), from the marker.
    pub offset: f64,
    /// The clip time at which the capture began (0 when it heard the clip
    /// from its start): beats and downbeats are scored from 5 s after it.
    pub heard_from: f64,
    /// Beat F (±70 ms, beats from 5 s after `heard_from`).
    pub beat_f: f64,
    /// Median and p95 |emitted beat − nearest annotated beat| (ms), matched beats.
    pub beat_error_ms: (f64, f64),
    /// Median signed emitted − annotated beat time (ms), matched beats:
    /// positive is late.
    pub beat_bias_ms: f64,
    /// Share of emitted beats within 70 ms of an annotated one.
    pub beats_real: f64,
    /// Downbeat F, when the annotations have bar positions.
    pub downbeat_f: Option<f64>,
    /// Onset F (±50 ms), when onsets are annotated.
    pub onset_f: Option<f64>,
    /// Median and p95 time from a sound reaching the input to the first
    /// frame showing it being presented (ms).
    pub onset_to_present_ms: (f64, f64),
    /// Input latency from cpal's timestamps (ms).
    pub input_latency_ms: Option<f64>,
    /// Frame records, and how many of them show an earlier music time
    /// than the frame before (the picture going back in time).
    pub frames: (usize, usize),
    /// How far the captured music time fell behind the capture wall clock
    /// from the first clock lines to the last (ms, medians of five):
    /// audio the capture never got. Every event after a loss is early by it.
    pub audio_lost_ms: f64,
}

/// How far the capture wall clock ran ahead of the captured music time
/// between the start and the end of the recording (ms): the median of
/// (wall − music) over the last few clock lines minus the same over the
/// first few. Audio that never arrived moves every later line; one callback
/// that ran late on a busy machine (its wall time is read when it runs)
/// moves one line, and the medians ignore it.
fn audio_lost_ms(clock: &[(f64, f64)]) -> f64 {
    const LINES: usize = 5;
    let n = (clock.len() / 3).clamp(1, LINES);
    let offsets: Vec<f64> = clock.iter().map(|&(music, wall)| wall - music).collect();
    match (offsets.get(..n), offsets.len().checked_sub(n)) {
        (Some(first), Some(from)) => {
            (percentile(&offsets[from..], 0.5) - percentile(first, 0.5)) * 1000.0
        }
        _ => 0.0,
    }
}

fn percentile(v: &[f64], p: f64) -> f64 {
    eval::percentile(v, p).unwrap_or(f64::NAN)
}

/// Scores `rec` against annotated `beats` (with bar positions, if known)
/// and `onsets` of the clip, played as `layout` says.
pub fn score(
    rec: &Recording,
    beats: &[(f64, Option<f64>)],
    onsets: Option<&[f64]>,
    layout: Layout,
) -> anyhow::Result<TimingReport> {
    let missed = || anyhow::anyhow!("no onset in the recording: was the clip heard?");
    // Recording time − clip time.
    let offset = match layout {
        Layout::MarkerFirst => {
            let marker = rec
                .onsets
                .iter()
                .find(|(_, s)| *s > 0.3)
                .or(rec.onsets.first())
                .ok_or_else(missed)?
                .0;
            // The marker is followed by silence until the clip: an onset
            // soon after it means the marker was missed and the clip taken
            // for it.
            if rec
                .onsets
                .iter()
                .any(|&(t, _)| t > marker + 0.1 && t < marker + (CLIP_AT - MARKER_AT) - 0.2)
            {
                anyhow::bail!("the marker click was not heard (did the capture start late?)");
            }
            marker - MARKER_AT + CLIP_AT
        }
        Layout::MarkerAfter { clip_s } => {
            let marker = rec.onsets.last().ok_or_else(missed)?.0;
            // The marker follows silence: an onset just before it means
            // the marker was not heard and the clip's last onset was taken
            // for it.
            if rec
                .onsets
                .iter()
                .any(|&(t, _)| t < marker - 0.1 && t > marker - (MARKER_GAP - 1.0))
            {
                anyhow::bail!(
                    "the marker click after the clip was not heard (did the capture end early?)"
                );
            }
            marker - clip_s - MARKER_GAP
        }
    };
    let to_clip = |t: f64| t - offset;
    let heard_from = to_clip(0.0).max(0.0);
    // Scored from 5 s after the capture began hearing the clip, as the
    // offline scores start 5 s into it.
    let from = heard_from + 5.0;
    let reference: Vec<f64> = beats.iter().map(|b| b.0).collect();
    // Only beats while the clip plays (the clock freewheels after it ends).
    let end = reference.last().copied().unwrap_or(0.0) + 0.35;
    let in_clip = |times: &[f64]| -> Vec<f64> {
        times
            .iter()
            .map(|&t| to_clip(t))
            .filter(|&t| t <= end)
            .collect()
    };
    let est = in_clip(&rec.beats);
    let (rt, et) = (eval::trim(&reference, from), eval::trim(&est, from));
    let matched = eval::match_events(&rt, &et, 0.07);
    let errors: Vec<f64> = matched
        .iter()
        .map(|&(i, j)| (et[j] - rt[i]).abs() * 1000.0)
        .collect();
    let beat_f = eval::f_measure(&rt, &et, 0.07);
    let beats_real = matched.len() as f64 / et.len().max(1) as f64;
    let downbeat_f = beats.iter().any(|b| b.1.is_some()).then(|| {
        let rd: Vec<f64> = beats
            .iter()
            .filter(|b| b.1 == Some(1.0))
            .map(|b| b.0)
            .collect();
        let ed = in_clip(&rec.downbeats);
        eval::f_measure(&eval::trim(&rd, from), &eval::trim(&ed, from), 0.07)
    });
    // Onsets while the capture heard the clip, the marker left out (the
    // first moments of a capture that opened in the middle of a sound
    // are not scored either).
    let (lo, hi) = match layout {
        Layout::MarkerFirst => (-0.5, f64::INFINITY),
        Layout::MarkerAfter { clip_s } => (heard_from + 0.25, clip_s + 0.5),
    };
    let onset_f = onsets.map(|o| {
        let est: Vec<f64> = rec
            .onsets
            .iter()
            .map(|(t, _)| to_clip(*t))
            .filter(|&t| t > lo && t <= hi)
            .collect();
        let reference: Vec<f64> = o.iter().copied().filter(|&t| t > lo).collect();
        eval::f_measure(&reference, &est, 0.05)
    });
    // Onset to present: capture wall time of the onset (from the nearest
    // clock line) to the present of the first frame showing it.
    let mut latency: Vec<f64> = Vec::new();
    for &(t, _) in &rec.onsets {
        let Some(&(ct, cw)) = rec
            .clock
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
        else {
            break;
        };
        let captured = cw + (t - ct);
        if let Some(&(_, present)) = rec.frames.iter().find(|(ft, _)| *ft >= t) {
            latency.push((present - captured) * 1000.0);
        }
    }
    Ok(TimingReport {
        offset,
        heard_from,
        beat_f,
        beat_error_ms: (percentile(&errors, 0.5), percentile(&errors, 0.95)),
        beat_bias_ms: percentile(
            &matched
                .iter()
                .map(|&(i, j)| (et[j] - rt[i]) * 1000.0)
                .collect::<Vec<_>>(),
            0.5,
        ),
        beats_real,
        downbeat_f,
        onset_f,
        onset_to_present_ms: (percentile(&latency, 0.5), percentile(&latency, 0.95)),
        input_latency_ms: rec.input_latency_ms,
        audio_lost_ms: audio_lost_ms(&rec.clock),
        frames: (
            rec.frames.len(),
            rec.frames.windows(2).filter(|w| w[1].0 < w[0].0).count(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_is_aligned_by_its_marker_and_scored() {
        // Recording time = clip time + 2 (clip offset) + 0.7 (when capture began).
        let shift = CLIP_AT + 0.7;
        let mut text = String::new();
        text.push_str(&format!(
            "{{\"type\":\"onset\",\"music_time\":{},\"strength\":0.9}}\n",
            MARKER_AT + 0.7
        ));
        let annotated: Vec<(f64, Option<f64>)> = (0..40)
            .map(|i| (0.5 * f64::from(i), Some(f64::from(i % 4 + 1))))
            .collect();
        for (i, (t, _)) in annotated.iter().enumerate() {
            // Emitted beats 10 ms late; every downbeat too.
            text.push_str(&format!(
                "{{\"type\":\"beat\",\"music_time\":{}}}\n",
                t + shift + 0.01
            ));
            if i % 4 == 0 {
                text.push_str(&format!(
                    "{{\"type\":\"downbeat\",\"music_time\":{}}}\n",
                    t + shift + 0.01
                ));
            }
        }
        for k in 0..25 {
            let t = f64::from(k);
            text.push_str(&format!(
                "{{\"type\":\"clock\",\"music_time\":{t},\"capture_wall\":{},\"input_latency_ms\":5.0}}\n",
                t + 100.0
            ));
        }
        for k in 0..1500 {
            let t = f64::from(k) / 60.0;
            // Frames presented 30 ms after their music was captured.
            text.push_str(&format!(
                "{{\"type\":\"frame\",\"music_time\":{t},\"present_wall\":{}}}\n",
                t + 100.03
            ));
        }
        let rec = parse(&text);
        let r = score(&rec, &annotated, None, Layout::MarkerFirst).expect("scored");
        assert!((r.offset - shift).abs() < 1e-9);
        assert_eq!(r.heard_from, 0.0);
        assert!(r.beat_f > 0.99 && r.beats_real > 0.99, "{r:?}");
        assert!((r.beat_error_ms.0 - 10.0).abs() < 0.5, "{r:?}");
        assert!(r.downbeat_f.is_some_and(|f| f > 0.99), "{r:?}");
        assert!((r.onset_to_present_ms.0 - 30.0).abs() < 17.0, "{r:?}");
        assert_eq!(r.input_latency_ms, Some(5.0));
        assert_eq!(r.frames, (1500, 0));
        assert!(r.audio_lost_ms.abs() < 1e-6, "{r:?}");
    }

    #[test]
    fn a_capture_joined_mid_clip_is_aligned_by_the_marker_after_it() {
        // A 20 s clip of beats every 0.5 s (downbeats every 2 s); the
        // capture opened 6.3 s into it, so recording time = clip time - 6.3.
        let clip_s = 20.0;
        let joined = 6.3;
        let annotated: Vec<(f64, Option<f64>)> = (0..40)
            .map(|i| (0.5 * f64::from(i), Some(f64::from(i % 4 + 1))))
            .collect();
        let mut text = String::new();
        let line = |kind: &str, t: f64| {
            format!("{{\"type\":\"{kind}\",\"music_time\":{t},\"strength\":0.9}}\n")
        };
        for (i, &(t, _)) in annotated.iter().enumerate() {
            if t < joined {
                continue;
            }
            text.push_str(&line("onset", t - joined));
            text.push_str(&line("beat", t - joined));
            // Downbeats right from 2 s after joining; a wrong one before.
            if (i % 4 == 0 && t > joined + 2.0) || i == 13 {
                text.push_str(&line("downbeat", t - joined));
            }
        }
        let marker = clip_s + MARKER_GAP - joined;
        text.push_str(&line("onset", marker));
        let rec = parse(&text);
        let onsets: Vec<f64> = annotated.iter().map(|b| b.0).collect();
        let r = score(
            &rec,
            &annotated,
            Some(&onsets),
            Layout::MarkerAfter { clip_s },
        )
        .expect("scored");
        assert!((r.offset + joined).abs() < 1e-9, "{r:?}");
        assert!((r.heard_from - joined).abs() < 1e-9, "{r:?}");
        // Scored from 5 s after joining: every beat and downbeat right;
        // the beats before the capture began are not counted as missed.
        assert!(r.beat_f > 0.99 && r.beats_real > 0.99, "{r:?}");
        assert!(r.downbeat_f.is_some_and(|f| f > 0.99), "{r:?}");
        // The marker is not an onset of the clip.
        assert!(r.onset_f.is_some_and(|f| f > 0.99), "{r:?}");
        // Without the marker, the clip's last onset would be taken for it:
        // refused.
        let unmarked = parse(&text[..text.rfind("{\"type\":\"onset\"").expect("marker")]);
        assert!(score(&unmarked, &annotated, None, Layout::MarkerAfter { clip_s }).is_err());
    }

    #[test]
    fn a_late_callback_is_not_lost_audio_but_a_gap_is() {
        // Clock lines once a second; the wall clock and the music agree.
        let steady: Vec<(f64, f64)> = (0..30)
            .map(|k| (f64::from(k), f64::from(k) + 50.0))
            .collect();
        assert!(audio_lost_ms(&steady).abs() < 1e-6);
        // The last callback ran 80 ms late: no audio is missing.
        let mut late = steady.clone();
        late.last_mut().expect("lines").1 += 0.08;
        late[0].1 += 0.03;
        assert!(
            audio_lost_ms(&late).abs() < 1e-6,
            "{}",
            audio_lost_ms(&late)
        );
        // 120 ms never arrived halfway: every later line is behind by it.
        let gap: Vec<(f64, f64)> = steady
            .iter()
            .map(|&(t, w)| (t, if t >= 15.0 { w + 0.12 } else { w }))
            .collect();
        assert!(
            (audio_lost_ms(&gap) - 120.0).abs() < 1e-6,
            "{}",
            audio_lost_ms(&gap)
        );
        assert_eq!(audio_lost_ms(&[]), 0.0);
        assert!(audio_lost_ms(&steady[..1]).abs() < 1e-6);
    }
}
