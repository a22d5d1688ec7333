//! The `Sonolux` uniform block: Rust mirror of the struct in `shaders/prelude.wgsl`.
//! A test checks every offset against naga's layout of the WGSL.

use bytemuck::{Pod, Zeroable};

use crate::analysis::{FeatureFrame, NUM_BANDS};

/// Frame timing for one rendered frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameClock {
    /// Seconds since the show started (the time the frame will be on screen).
    pub time: f64,
    /// Seconds since the previous frame.
    pub delta: f32,
    /// Frame index.
    pub frame: u64,
}

/// GPU layout of the shader contract's audio/frame block.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct ShaderUniforms {
    /// Render target size in pixels.
    pub resolution: [f32; 2],
    /// Seconds since start.
    pub time: f32,
    /// Seconds since the previous frame.
    pub delta: f32,
    /// Frame index.
    pub frame: f32,
    /// Render scale of this pass.
    pub render_scale: f32,
    /// Width / height.
    pub aspect: f32,
    /// Padding.
    pub _pad0: f32,
    /// Loudness 0..1.
    pub level: f32,
    /// Smoothed loudness.
    pub level_att: f32,
    /// Bass 0..1.
    pub bass: f32,
    /// Smoothed bass.
    pub bass_att: f32,
    /// Mids 0..1.
    pub mid: f32,
    /// Smoothed mids.
    pub mid_att: f32,
    /// Treble 0..1.
    pub treb: f32,
    /// Smoothed treble.
    pub treb_att: f32,
    /// Onset pulse.
    pub onset: f32,
    /// Kick pulse.
    pub kick: f32,
    /// Snare pulse.
    pub snare: f32,
    /// Hat pulse.
    pub hat: f32,
    /// Tempo.
    pub bpm: f32,
    /// Phase in beat.
    pub beat_phase: f32,
    /// Phase in bar.
    pub bar_phase: f32,
    /// Pulse on predicted beats.
    pub beat_pulse: f32,
    /// Beat count.
    pub beats: f32,
    /// Pulse on downbeats.
    pub bar_pulse: f32,
    /// Beat confidence.
    pub confidence: f32,
    /// Onset strength 0..1.
    pub flux: f32,
    /// Brightness 0..1.
    pub centroid: f32,
    /// Flatness 0..1.
    pub flatness: f32,
    /// Rolloff 0..1.
    pub rolloff: f32,
    /// RMS dBFS.
    pub rms_db: f32,
    /// Hit on each predicted beat (1, decaying over ~100 ms).
    pub beat_hit: f32,
    /// Hit on each predicted downbeat.
    pub bar_hit: f32,
    /// Whole bars since the first downbeat.
    pub bars: f32,
    /// Beats per bar of the beat clock.
    pub beats_per_bar: f32,
    /// 16 bands.
    pub bands: [[f32; 4]; NUM_BANDS / 4],
}

impl ShaderUniforms {
    /// Fills the block from a feature frame, evaluating the beat clock at `clock.time`.
    pub fn new(
        f: &FeatureFrame,
        clock: FrameClock,
        resolution: [u32; 2],
        render_scale: f32,
    ) -> Self {
        let pos = f.rhythm.position_at(clock.time);
        let bar_pulse = {
            let bpb = f.rhythm.beats_per_bar.max(1) as f32;
            let d = pos.bar_phase.min(1.0 - pos.bar_phase) * bpb;
            (1.0 - d * 4.0).max(0.0).powi(2) * f.rhythm.confidence.clamp(0.0, 1.0)
        };
        let mut bands = [[0.0; 4]; NUM_BANDS / 4];
        for (i, b) in f.bands.iter().enumerate() {
            bands[i / 4][i % 4] = *b;
        }
        let [w, h] = resolution;
        Self {
            resolution: [w as f32, h as f32],
            // Wrap long shows so f32 keeps sub-millisecond precision.
            time: (clock.time % 3600.0) as f32,
            delta: clock.delta,
            frame: (clock.frame % (1 << 24)) as f32,
            render_scale,
            aspect: w as f32 / h.max(1) as f32,
            _pad0: 0.0,
            level: f.level,
            level_att: f.level_att,
            bass: f.bass,
            bass_att: f.bass_att,
            mid: f.mid,
            mid_att: f.mid_att,
            treb: f.treb,
            treb_att: f.treb_att,
            onset: f.onset,
            kick: f.kick,
            snare: f.snare,
            hat: f.hat,
            bpm: f.rhythm.bpm,
            beat_phase: pos.beat_phase,
            bar_phase: pos.bar_phase,
            beat_pulse: pos.beat_pulse,
            beats: (pos.beats % 65_536.0) as f32,
            bar_pulse,
            confidence: f.rhythm.confidence,
            flux: f.flux,
            centroid: f.centroid,
            flatness: f.flatness,
            rolloff: f.rolloff,
            rms_db: f.rms_db,
            beat_hit: pos.beat_hit,
            bar_hit: pos.bar_hit,
            bars: (pos.bars % 65_536.0) as f32,
            beats_per_bar: f.rhythm.beats_per_bar.max(1) as f32,
            bands,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::shader;

    #[test]
    fn rust_layout_matches_wgsl() {
        let a = shader::assemble(
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(0.0); }\n",
            &[],
            &[],
        );
        let (module, _) = shader::validate(&a, std::path::Path::new("t.wgsl")).expect("valid");
        let ty = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some("Sonolux"))
            .map(|(_, t)| t)
            .expect("Sonolux struct");
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            panic!("not a struct");
        };
        assert_eq!(*span as usize, std::mem::size_of::<ShaderUniforms>());
        // Every scalar field is 4 bytes; check each member's offset by name.
        let zero = ShaderUniforms::zeroed();
        let base = &zero as *const _ as usize;
        macro_rules! off {
            ($f:ident) => {
                (&zero.$f as *const _ as usize) - base
            };
        }
        let rust: Vec<(&str, usize)> = vec![
            ("resolution", off!(resolution)),
            ("time", off!(time)),
            ("delta", off!(delta)),
            ("frame", off!(frame)),
            ("render_scale", off!(render_scale)),
            ("aspect", off!(aspect)),
            ("level", off!(level)),
            ("bass_att", off!(bass_att)),
            ("treb_att", off!(treb_att)),
            ("hat", off!(hat)),
            ("bpm", off!(bpm)),
            ("beat_pulse", off!(beat_pulse)),
            ("confidence", off!(confidence)),
            ("rolloff", off!(rolloff)),
            ("rms_db", off!(rms_db)),
            ("beat_hit", off!(beat_hit)),
            ("bar_hit", off!(bar_hit)),
            ("bars", off!(bars)),
            ("beats_per_bar", off!(beats_per_bar)),
            ("bands", off!(bands)),
        ];
        for (name, offset) in rust {
            let m = members
                .iter()
                .find(|m| m.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("no member {name}"));
            assert_eq!(m.offset as usize, offset, "{name}");
        }
        assert_eq!(members.len(), 36);
    }
}
