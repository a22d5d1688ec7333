//! When a preset's hits land: renders a preset headless over a click track
//! and times its brightness against the clicks, frame by frame. Used by
//! `sonolux bench hits` (a table and a plot) and by the render tests.

use crate::analysis::FeatureFrame;
use crate::audio::AudioClip;
use crate::render::{FrameClock, Renderer};

use super::render::VirtualClock;

/// Brightness of every frame and where it peaks around each click.
#[derive(Clone, Debug, Default)]
pub struct HitTiming {
    /// (frame time s, mean linear luminance 0..1) for every frame.
    pub brightness: Vec<(f64, f32)>,
    /// Per click (after the lock-in time): peak time − click time (ms).
    pub peak_ms: Vec<f64>,
    /// Per click: when the brightness starts rising toward that peak (the
    /// first frame above 10 % of the rise), relative to the click (ms).
    pub rise_ms: Vec<f64>,
}

impl HitTiming {
    /// Median of `v` (NaN when empty).
    pub fn median(v: &[f64]) -> f64 {
        crate::analysis::eval::percentile(v, 0.5).unwrap_or(f64::NAN)
    }
}

/// Mean linear relative luminance of an RGBA8 frame.
pub fn mean_luminance(rgba: &[u8]) -> f32 {
    let n = (rgba.len() / 4).max(1) as f32;
    rgba.chunks_exact(4)
        .map(crate::show::safety::pixel_luminance)
        .sum::<f32>()
        / n
}

/// Renders `clip` through `renderer` at `fps` and times the brightness
/// against `clicks` later than `settle` seconds (the beat clock has locked).
pub fn time_hits(
    renderer: &mut Renderer,
    clip: &AudioClip,
    clicks: &[f64],
    fps: f64,
    settle: f64,
) -> anyhow::Result<HitTiming> {
    let mut clock = VirtualClock::new(clip);
    let frames = (clip.duration() * fps) as u64;
    let mut brightness = Vec::with_capacity(frames as usize);
    for n in 0..frames {
        let t = n as f64 / fps;
        let f: FeatureFrame = *clock.advance_to(t);
        let px = renderer
            .render(
                &f,
                FrameClock {
                    time: t,
                    delta: (1.0 / fps) as f32,
                    frame: n,
                },
                true,
            )
            .ok_or_else(|| anyhow::anyhow!("no pixels from the renderer"))?;
        brightness.push((t, mean_luminance(&px)));
    }
    let mut out = HitTiming {
        brightness,
        ..Default::default()
    };
    let period = clicks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::MAX, f64::min);
    for &c in clicks.iter().filter(|&&c| c >= settle) {
        // The window around this click: half a period either side.
        let half = 0.5 * period.min(1.0);
        let win: Vec<(f64, f32)> = out
            .brightness
            .iter()
            .copied()
            .filter(|(t, _)| (t - c).abs() <= half)
            .collect();
        let Some(&(tp, peak)) = win.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            continue;
        };
        let base = win.iter().map(|w| w.1).fold(f32::MAX, f32::min);
        if peak - base < 1e-4 {
            continue;
        }
        let threshold = base + 0.1 * (peak - base);
        // Walk back from the peak while the brightness stays above 10 % of the rise.
        let mut rise = tp;
        for &(t, b) in win.iter().rev().filter(|(t, _)| *t <= tp) {
            if b < threshold {
                break;
            }
            rise = t;
        }
        out.peak_ms.push((tp - c) * 1000.0);
        out.rise_ms.push((rise - c) * 1000.0);
    }
    Ok(out)
}

/// Draws `timing`'s brightness between `from` and `to` seconds as a plot
/// (white line, clicks as red marks), `size` pixels, as RGBA8.
pub fn plot(
    timing: &HitTiming,
    clicks: &[f64],
    from: f64,
    to: f64,
    size: [u32; 2],
) -> image::RgbaImage {
    let [w, h] = size;
    let mut img = image::RgbaImage::from_pixel(w, h, image::Rgba([14, 14, 18, 255]));
    let x_of = |t: f64| ((t - from) / (to - from) * f64::from(w - 1)).round() as i64;
    let pts: Vec<(f64, f32)> = timing
        .brightness
        .iter()
        .copied()
        .filter(|(t, _)| *t >= from && *t <= to)
        .collect();
    let top = pts.iter().map(|p| p.1).fold(1e-3, f32::max);
    let y_of = |b: f32| {
        let m = 12.0;
        (f64::from(h) - m - f64::from(b / top) * (f64::from(h) - 2.0 * m)).round() as i64
    };
    let mut put = |x: i64, y: i64, c: [u8; 4]| {
        if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
            img.put_pixel(x as u32, y as u32, image::Rgba(c));
        }
    };
    for &c in clicks.iter().filter(|&&c| c >= from && c <= to) {
        let x = x_of(c);
        for y in 0..i64::from(h) {
            put(x, y, [200, 40, 40, 255]);
        }
    }
    // Frame dots joined by lines.
    for pair in pts.windows(2) {
        let (x0, y0, x1, y1) = (
            x_of(pair[0].0),
            y_of(pair[0].1),
            x_of(pair[1].0),
            y_of(pair[1].1),
        );
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for s in 0..=steps {
            let x = x0 + (x1 - x0) * s / steps;
            let y = y0 + (y1 - y0) * s / steps;
            put(x, y, [235, 235, 235, 255]);
        }
    }
    for &(t, b) in &pts {
        let (x, y) = (x_of(t), y_of(b));
        for dx in -1..=1 {
            for dy in -1..=1 {
                put(x + dx, y + dy, [120, 200, 255, 255]);
            }
        }
    }
    img
}
