//! The preset health report (`sonolux presets report`): every preset rendered
//! over the same music, one row of numbers each, and a contact sheet, so a
//! VJ (and a test) sees which presets clip, sit too dark, stand still, or do
//! not follow the music.

use std::path::{Path, PathBuf};

use crate::analysis::FeatureFrame;
use crate::audio::AudioClip;
use crate::preset::Preset;
use crate::render::{FrameClock, Gpu, Renderer};

use super::render::VirtualClock;

/// Features the report correlates a preset's picture with.
pub const FEATURES: [&str; 4] = ["bass", "beat_pulse", "kick", "centroid"];

/// One preset's row.
#[derive(Clone, Debug)]
pub struct PresetReport {
    /// Preset id.
    pub id: String,
    /// Median full-frame time at the report size (ms, GPU-synchronised).
    pub frame_ms: f64,
    /// Mean share of pixels with a channel at full scale (clipped), 0..1.
    pub clipped: f64,
    /// The worst frame's clipped share.
    pub clipped_max: f64,
    /// Mean linear luminance, 0..1.
    pub luminance: f64,
    /// Mean absolute luminance change between frames per pixel, 0..1.
    pub motion: f64,
    /// Per feature of [`FEATURES`]: the stronger (by magnitude) of the
    /// correlations of the frame's luminance and of its motion with the feature.
    pub follows: [f64; 4],
    /// Seconds the flash limiter held the picture.
    pub held_s: f64,
    /// The contact sheet, when written.
    pub sheet: Option<PathBuf>,
}

/// What to render for the report.
#[derive(Clone, Debug)]
pub struct ReportJob<'a> {
    /// The music.
    pub clip: &'a AudioClip,
    /// First second measured (up to 4 s before it warm up feedback and the beat clock).
    pub start: f64,
    /// Seconds measured.
    pub seconds: f64,
    /// Render size.
    pub size: [u32; 2],
    /// Frames per second.
    pub fps: f64,
    /// Where contact sheets go (none: no sheets).
    pub sheet_dir: Option<&'a Path>,
}

/// Renders `preset` as `job` says and measures it.
pub fn report_preset(
    gpu: Gpu,
    preset: Preset,
    job: &ReportJob<'_>,
) -> anyhow::Result<PresetReport> {
    let ReportJob {
        clip,
        start,
        seconds,
        size,
        fps,
        sheet_dir,
    } = *job;
    let id = preset.id.clone();
    let mut r = Renderer::new(gpu, preset, size)?;
    let mut clock = VirtualClock::new(clip);
    // Warm up feedback and the beat clock on the seconds before `start`.
    let warm = start.min(4.0);
    let n_warm = (warm * fps) as u64;
    let frames = (seconds * fps) as u64;
    let (w, h) = (size[0] as usize, size[1] as usize);
    let mut lum_prev: Option<Vec<f32>> = None;
    let (mut times, mut clipped, mut lum, mut motion) = (vec![], vec![], vec![], vec![]);
    let mut feats: [Vec<f64>; 4] = Default::default();
    let mut sheet_frames = Vec::new();
    let mut held_at_start = r.limiter.frames_limited;
    for n in 0..n_warm + frames {
        let t = start - warm + n as f64 / fps;
        let f: FeatureFrame = *clock.advance_to(t);
        let c = FrameClock {
            time: t,
            delta: (1.0 / fps) as f32,
            frame: n,
        };
        let t0 = std::time::Instant::now();
        let px = r
            .render(&f, c, true)
            .ok_or_else(|| anyhow::anyhow!("{id}: no pixels from the renderer"))?;
        if n < n_warm {
            held_at_start = r.limiter.frames_limited;
            continue;
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        let per_pixel: Vec<f32> = px
            .chunks_exact(4)
            .map(crate::show::safety::pixel_luminance)
            .collect();
        let clip_share = px
            .chunks_exact(4)
            .filter(|p| p[0].max(p[1]).max(p[2]) >= 254)
            .count() as f64
            / (w * h).max(1) as f64;
        clipped.push(clip_share);
        lum.push(per_pixel.iter().map(|&v| f64::from(v)).sum::<f64>() / per_pixel.len() as f64);
        motion.push(lum_prev.as_ref().map_or(0.0, |prev| {
            prev.iter()
                .zip(&per_pixel)
                .map(|(a, b)| f64::from((a - b).abs()))
                .sum::<f64>()
                / per_pixel.len() as f64
        }));
        lum_prev = Some(per_pixel);
        let pos = f.rhythm.position_at(t);
        for (k, v) in [f.bass, pos.beat_pulse, f.kick, f.centroid]
            .into_iter()
            .enumerate()
        {
            feats[k].push(f64::from(v));
        }
        let i = n - n_warm;
        if sheet_dir.is_some() && i.is_multiple_of((frames / 12).max(1)) && sheet_frames.len() < 12
        {
            sheet_frames.push(px);
        }
    }
    let sheet = match sheet_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("{}.png", id.replace(':', "_")));
            contact_sheet(&sheet_frames, size, 4).save(&path)?;
            Some(path)
        }
        None => None,
    };
    let follows = std::array::from_fn(|k| {
        let a = correlation(&lum, &feats[k]);
        let b = correlation(&motion[1..], &feats[k][1..]);
        if a.abs() >= b.abs() { a } else { b }
    });
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    Ok(PresetReport {
        id,
        frame_ms: times.get(times.len() / 2).copied().unwrap_or(0.0),
        clipped: mean(&clipped),
        clipped_max: clipped.iter().copied().fold(0.0, f64::max),
        luminance: mean(&lum),
        motion: mean(&motion[1.min(motion.len())..]),
        follows,
        held_s: (r.limiter.frames_limited - held_at_start) as f64 / fps,
        sheet,
    })
}

/// Pearson correlation of two series (0 when either is constant).
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 3 {
        return 0.0;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa < 1e-12 || sbb < 1e-12 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Frames (RGBA8, `size` each) tiled `cols` across with a 2 px gap.
pub fn contact_sheet(frames: &[Vec<u8>], size: [u32; 2], cols: u32) -> image::RgbaImage {
    let [w, h] = size;
    let rows = (frames.len() as u32).div_ceil(cols).max(1);
    let gap = 2;
    let mut sheet = image::RgbaImage::from_pixel(
        cols * (w + gap) - gap,
        rows * (h + gap) - gap,
        image::Rgba([20, 20, 20, 255]),
    );
    for (i, px) in frames.iter().enumerate() {
        let (cx, cy) = (i as u32 % cols, i as u32 / cols);
        if let Some(img) = image::RgbaImage::from_raw(w, h, px.clone()) {
            image::imageops::overlay(
                &mut sheet,
                &img,
                i64::from(cx * (w + gap)),
                i64::from(cy * (h + gap)),
            );
        }
    }
    sheet
}

/// The report as a Markdown table.
pub fn format_table(rows: &[PresetReport]) -> String {
    let mut s = String::from(
        "| preset | frame ms | clipped % (worst) | mean lum | motion | follows bass | beat_pulse | kick | centroid | limiter held s | contact sheet |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {:.2} | {:.1} ({:.1}) | {:.3} | {:.4} | {:+.2} | {:+.2} | {:+.2} | {:+.2} | {:.1} | {} |\n",
            r.id,
            r.frame_ms,
            r.clipped * 100.0,
            r.clipped_max * 100.0,
            r.luminance,
            r.motion,
            r.follows[0],
            r.follows[1],
            r.follows[2],
            r.follows[3],
            r.held_s,
            r.sheet
                .as_ref()
                .map_or_else(|| "-".into(), |p| p.display().to_string())
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_of_known_series() {
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| 3.0 * x + 1.0).collect();
        let c: Vec<f64> = a.iter().map(|x| -x).collect();
        assert!((correlation(&a, &b) - 1.0).abs() < 1e-9);
        assert!((correlation(&a, &c) + 1.0).abs() < 1e-9);
        assert_eq!(correlation(&a, &[2.0; 50]), 0.0);
    }
}
