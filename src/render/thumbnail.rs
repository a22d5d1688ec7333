//! Preset thumbnails for the browser, rendered by the engine itself: the
//! preset's own passes over a fixed, loud 120 BPM moment, so every thumbnail
//! shows its preset at work and the same preset always looks the same.

use crate::analysis::{FeatureFrame, Rhythm};
use crate::preset::Preset;

use super::{FrameClock, Gpu, PipelineError, Renderer};

/// Thumbnail size in pixels.
pub const THUMBNAIL_SIZE: [u32; 2] = [192, 108];

/// The synthetic music a thumbnail is rendered against at time `t` (s).
fn moment(t: f64) -> FeatureFrame {
    let beat = (t * 2.0).fract() as f32;
    let hit = (1.0 - beat * 4.0).max(0.0);
    let mut f = FeatureFrame {
        time: t,
        rms_db: -12.0,
        peak_db: -3.0,
        level: 0.7,
        level_att: 0.65,
        bass: 0.4 + 0.5 * hit,
        bass_att: 0.6,
        mid: 0.55,
        mid_att: 0.5,
        treb: 0.45,
        treb_att: 0.4,
        centroid: 0.5,
        flux: 0.3 + 0.5 * hit,
        flatness: 0.3,
        rolloff: 0.6,
        onset: hit,
        kick: hit,
        snare: 0.2,
        hat: 0.4,
        rhythm: Rhythm {
            bpm: 120.0,
            next_beat: (t * 2.0).floor() / 2.0 + 0.5,
            next_index: (t * 2.0).floor() as i64 + 1,
            confidence: 1.0,
            ..Rhythm::default()
        },
        ..Default::default()
    };
    for (i, b) in f.bands.iter_mut().enumerate() {
        *b = 0.75 - i as f32 * 0.03 + 0.2 * hit;
    }
    for (i, s) in f.spectrum.iter_mut().enumerate() {
        let x = i as f32 / 512.0;
        *s = (0.85 - 0.6 * x + 0.1 * (x * 40.0 + t as f32 * 3.0).sin()).clamp(0.0, 1.0);
    }
    for (i, w) in f.waveform.iter_mut().enumerate() {
        *w = 0.5 + 0.35 * ((i as f32) * 0.11).sin() * (0.5 + hit);
    }
    f
}

/// Renders `preset` for 1.5 s of the synthetic moment (so feedback presets
/// build up) and returns the last frame, 20 ms after a beat (so hit presets
/// show their hit), as RGBA8 of [`THUMBNAIL_SIZE`].
pub fn render_thumbnail(gpu: &Gpu, preset: Preset) -> Result<Vec<u8>, PipelineError> {
    let mut r = Renderer::new(gpu.clone(), preset, THUMBNAIL_SIZE)?;
    let fps = 30.0;
    let frames = 46u64;
    let mut last = Vec::new();
    for n in 0..frames {
        let t = 8.02 + n as f64 / fps;
        let out = r.render(
            &moment(t),
            FrameClock {
                time: t,
                delta: (1.0 / fps) as f32,
                frame: n,
            },
            n + 1 == frames,
        );
        if let Some(px) = out {
            last = px;
        }
    }
    Ok(last)
}
