//! The render engine: a preset's scene passes, the output stage with the
//! flash limiter, readback for headless capture.
//!
//! Per frame, in a fixed order: upload uniforms + spectrum texture → scene
//! passes (render scale, ping-pong feedback) → output pass (upscale, flash
//! limit, blackout) → measurement grid → optional capture copy. One
//! submission; the measurement is read back at once and decides the limiter
//! state for the next frame.

pub mod follow;
pub mod gpu;
pub mod output;
pub mod pass;
pub mod scene;
pub mod thumbnail;
pub mod tonemap;
pub mod transition;
pub mod uniforms;

pub use gpu::{Gpu, GpuError};
pub use pass::PipelineError;
pub use uniforms::{FrameClock, ShaderUniforms};

use crate::analysis::{FeatureFrame, SPECTRUM_LEN};
use crate::preset::Preset;
use crate::show::{FlashLimiter, LimiterState};
use output::{OutputStage, OutputUniforms};
use scene::{SceneLayout, ScenePipeline};
use transition::MixPass;

/// Turns feature frames into pictures with one preset at a time.
pub struct Renderer {
    /// The device.
    pub gpu: Gpu,
    layout: SceneLayout,
    uniforms: wgpu::Buffer,
    /// The incoming preset's uniforms (its own render scale); swapped with
    /// `uniforms` when it takes over.
    uniforms_incoming: wgpu::Buffer,
    spectrum: wgpu::Texture,
    /// Shadertoy's audio texture (512x2, Web Audio bytes), binding 7.
    audio: wgpu::Texture,
    /// Views of `spectrum` and `audio`, bound by every scene pass.
    music_views: [wgpu::TextureView; 2],
    scene: ScenePipeline,
    /// The preset fading in during a crossfade.
    incoming: Option<ScenePipeline>,
    /// Crossfade amount, 0 = `scene` only, 1 = `incoming` only.
    pub mix: f32,
    mix_pass: MixPass,
    output: OutputStage,
    /// Flash safety; `limiter.enabled = false` lifts it.
    pub limiter: FlashLimiter,
    limiter_state: LimiterState,
    /// 0 = picture, 1 = black (panic key).
    pub blackout: f32,
    frame: u64,
    spectrum_bytes: Vec<u8>,
    /// Read the flash measurement one frame late instead of stalling on it
    /// (live show). Headless renders keep it off: deterministic, exact.
    pub pipelined: bool,
    measure_slot: usize,
    pending_measure: Option<(usize, wgpu::SubmissionIndex, f64)>,
    /// Brightness of the latency-calibration patch (0 = none).
    pub calibration_patch: f32,
    follow: follow::FollowState,
}

impl Renderer {
    /// A renderer for `preset` at an output of `size` pixels.
    pub fn new(gpu: Gpu, preset: Preset, size: [u32; 2]) -> Result<Self, PipelineError> {
        let layout = SceneLayout::new(&gpu);
        let make_uniforms = || {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sonolux uniforms"),
                size: std::mem::size_of::<ShaderUniforms>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (uniforms, uniforms_incoming) = (make_uniforms(), make_uniforms());
        let spectrum = pass::texture_2d(
            &gpu,
            "spectrum",
            [SPECTRUM_LEN as u32, 2],
            wgpu::TextureFormat::R8Unorm,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let audio = pass::texture_2d(
            &gpu,
            "shadertoy audio",
            [SPECTRUM_LEN as u32, 2],
            wgpu::TextureFormat::R8Unorm,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let music_views = [
            spectrum.create_view(&Default::default()),
            audio.create_view(&Default::default()),
        ];
        let scene = ScenePipeline::new(&gpu, &layout, preset)?;
        let output = OutputStage::new(&gpu, size);
        let mix_pass = MixPass::new(&gpu)?;
        let mut me = Self {
            gpu,
            layout,
            uniforms,
            uniforms_incoming,
            incoming: None,
            mix: 0.0,
            mix_pass,
            spectrum,
            audio,
            music_views,
            scene,
            output,
            limiter: FlashLimiter::default(),
            limiter_state: LimiterState::default(),
            blackout: 0.0,
            frame: 0,
            spectrum_bytes: vec![0; SPECTRUM_LEN * 2],
            pipelined: false,
            measure_slot: 0,
            pending_measure: None,
            calibration_patch: 0.0,
            follow: Default::default(),
        };
        me.prepare_targets();
        Ok(me)
    }

    fn prepare_targets(&mut self) {
        let size = self.scene.scaled_size(self.output.size());
        self.scene.ensure_targets(
            &self.gpu,
            &self.layout,
            &self.uniforms,
            &self.music_views,
            size,
        );
        if let Some(b) = &mut self.incoming {
            let size = b.scaled_size(self.output.size());
            b.ensure_targets(
                &self.gpu,
                &self.layout,
                &self.uniforms_incoming,
                &self.music_views,
                size,
            );
        }
    }

    /// The preset being shown.
    pub fn preset(&self) -> &Preset {
        &self.scene.preset
    }

    /// Current parameter values (mutable, declaration order).
    pub fn params_mut(&mut self) -> &mut Vec<f32> {
        &mut self.scene.params
    }

    /// Switches to `preset`. On failure the current preset stays on screen.
    /// Parameters with the same name keep their current values (a reload
    /// after an edit does not undo the VJ's adjustments).
    pub fn set_preset(&mut self, preset: Preset) -> Result<(), PipelineError> {
        let mut scene = ScenePipeline::new(&self.gpu, &self.layout, preset)?;
        for (i, p) in scene.preset.spec.params.iter().enumerate() {
            if let Some(j) = self
                .scene
                .preset
                .spec
                .params
                .iter()
                .position(|q| q.name == p.name)
            {
                scene.params[i] = self.scene.params[j].clamp(p.min, p.max);
            }
        }
        // A reload of the same preset continues its feedback instead of
        // starting from black.
        if scene.preset.id == self.scene.preset.id {
            scene.adopt_targets(
                &self.scene,
                &self.gpu,
                &self.layout,
                &self.uniforms,
                &self.music_views,
            );
        }
        self.scene = scene;
        self.prepare_targets();
        Ok(())
    }

    /// Starts a crossfade to `preset`: it renders beside the current one and
    /// `mix` blends them. On failure nothing changes.
    pub fn start_transition(&mut self, preset: Preset) -> Result<(), PipelineError> {
        self.incoming = Some(ScenePipeline::new(&self.gpu, &self.layout, preset)?);
        self.mix = 0.0;
        self.prepare_targets();
        Ok(())
    }

    /// Ends a crossfade: the incoming preset becomes the current one and
    /// keeps its targets, so a feedback preset keeps its history.
    pub fn complete_transition(&mut self) {
        if let Some(b) = self.incoming.take() {
            self.scene = b;
            std::mem::swap(&mut self.uniforms, &mut self.uniforms_incoming);
            self.mix = 0.0;
            self.prepare_targets();
        }
    }

    /// Drops the incoming preset (the crossfade was abandoned).
    pub fn cancel_transition(&mut self) {
        self.incoming = None;
        self.mix = 0.0;
    }

    /// Whether a preset on screen (the current one, or the one a transition
    /// brings in) samples Shadertoy's audio texture: the analysis computes
    /// the Web Audio rows only then.
    pub fn reads_web_audio(&self) -> bool {
        self.preset().reads_web_audio()
            || self.incoming_preset().is_some_and(Preset::reads_web_audio)
    }

    /// The preset fading in, if a crossfade runs.
    pub fn incoming_preset(&self) -> Option<&Preset> {
        self.incoming.as_ref().map(|s| &s.preset)
    }

    /// Parameter values of the incoming preset.
    pub fn incoming_params_mut(&mut self) -> Option<&mut Vec<f32>> {
        self.incoming.as_mut().map(|s| &mut s.params)
    }

    /// Sets the render scale of the current and incoming presets.
    pub fn set_render_scale(&mut self, current: f32, incoming: Option<f32>) {
        let mut changed = false;
        if self.scene.preset.spec.render_scale != current {
            self.scene.preset.spec.render_scale = current;
            changed = true;
        }
        if let (Some(b), Some(s)) = (&mut self.incoming, incoming)
            && b.preset.spec.render_scale != s
        {
            b.preset.spec.render_scale = s;
            changed = true;
        }
        if changed {
            self.prepare_targets();
        }
    }

    /// Reads back the parameter block the shader of the current preset sees
    /// (as uploaded for the last frame).
    pub fn read_params(&self) -> Vec<f32> {
        self.scene.read_params(&self.gpu)
    }

    /// The flash limiter's decision for the next frame.
    pub fn limiter_state(&self) -> LimiterState {
        self.limiter_state
    }

    /// Output size in pixels.
    pub fn size(&self) -> [u32; 2] {
        self.output.size()
    }

    /// Changes the output size.
    pub fn resize(&mut self, size: [u32; 2]) {
        let size = [size[0].max(1), size[1].max(1)];
        self.output.resize(&self.gpu, size);
        self.prepare_targets();
    }

    /// The finished output texture of the last frame.
    pub fn output_view(&self) -> &wgpu::TextureView {
        &self.output.view
    }

    fn upload_uniforms(&self, features: &FeatureFrame, clock: FrameClock) {
        let scaled = self.scene.scaled_size(self.output.size());
        let u = ShaderUniforms::new(features, clock, scaled, self.scene.preset.spec.render_scale);
        self.gpu
            .queue
            .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        if let Some(b) = &self.incoming {
            let scaled = b.scaled_size(self.output.size());
            let u = ShaderUniforms::new(features, clock, scaled, b.preset.spec.render_scale);
            self.gpu
                .queue
                .write_buffer(&self.uniforms_incoming, 0, bytemuck::bytes_of(&u));
        }
    }

    /// Renders only the preset's scene passes and waits for the GPU: the
    /// baseline the benchmark compares a full frame against.
    pub fn render_scene_only(&mut self, features: &FeatureFrame, clock: FrameClock) {
        self.upload_uniforms(features, clock);
        let mut encoder = self.gpu.encoder("bare");
        let parity = (self.frame % 2) as usize;
        self.scene
            .encode(&self.gpu, &self.layout, &mut encoder, parity);
        self.gpu.queue.submit([encoder.finish()]);
        self.gpu.wait();
    }

    /// Feeds one measured frame to the limiter; on a transition the current
    /// output becomes the reference the limiter holds the picture to.
    fn observe_flashes(&mut self, time: f64, lum: &[f32], red: &[f32]) {
        let frame = crate::show::flash::MeasuredFrame {
            size: [output::GRID_W as usize, output::GRID_H as usize],
            luminance: lum,
            red,
        };
        let patterns = self.limiter.patterns_seen;
        self.limiter_state = self.limiter.observe_frame(time, frame);
        if self.limiter.patterns_seen > patterns {
            tracing::debug!(
                time,
                "flash limiter: a regular pattern changed; holding it still"
            );
        }
        if self.limiter_state.new_reference {
            let mut enc = self.gpu.encoder("reference");
            self.output.encode_reference_copy(&mut enc);
            self.gpu.queue.submit([enc.finish()]);
        }
    }

    /// Reads back the last rendered output as RGBA8.
    pub fn read_output(&mut self) -> Vec<u8> {
        let mut encoder = self.gpu.encoder("capture");
        self.output.encode_capture(&mut encoder);
        self.gpu.queue.submit([encoder.finish()]);
        self.output.read_capture(&self.gpu)
    }

    /// Renders one frame for the music state `features` at `clock`; returns
    /// the RGBA8 pixels when `capture` is set.
    pub fn render(
        &mut self,
        features: &FeatureFrame,
        clock: FrameClock,
        capture: bool,
    ) -> Option<Vec<u8>> {
        self.upload_uniforms(features, clock);
        for (d, s) in self
            .spectrum_bytes
            .iter_mut()
            .zip(features.spectrum.iter().chain(features.waveform.iter()))
        {
            *d = (s.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
        let rows = [SPECTRUM_LEN as u32, 2];
        pass::upload(&self.gpu, &self.spectrum, &self.spectrum_bytes, rows, 1);
        let mut audio_bytes = [0u8; 2 * SPECTRUM_LEN];
        audio_bytes[..SPECTRUM_LEN].copy_from_slice(&features.audio_fft);
        audio_bytes[SPECTRUM_LEN..].copy_from_slice(&features.audio_wave);
        pass::upload(&self.gpu, &self.audio, &audio_bytes, rows, 1);
        let wait = !self.pipelined;
        self.scene.update_videos(&self.gpu, clock.time, wait);
        if let Some(b) = &mut self.incoming {
            b.update_videos(&self.gpu, clock.time, wait);
        }
        let mut encoder = self.gpu.encoder("frame");
        let parity = (self.frame % 2) as usize;
        let mut scene_view = self
            .scene
            .encode(&self.gpu, &self.layout, &mut encoder, parity)
            .clone();
        let mut same_size = self.scene.scaled_size(self.output.size()) == self.output.size();
        if let Some(b) = &mut self.incoming {
            let b_view = b
                .encode(&self.gpu, &self.layout, &mut encoder, parity)
                .clone();
            // Mix at the larger of the two render sizes (not the output
            // size): no detail is lost and the output pass upscales as usual.
            let (sa, sb) = (
                self.scene.scaled_size(self.output.size()),
                b.scaled_size(self.output.size()),
            );
            let size = if sa[0] * sa[1] >= sb[0] * sb[1] {
                sa
            } else {
                sb
            };
            scene_view = self
                .mix_pass
                .encode(
                    &self.gpu,
                    &mut encoder,
                    &scene_view,
                    &b_view,
                    self.mix,
                    size,
                )
                .clone();
            same_size = size == self.output.size();
        }
        let limit = if self.limiter.enabled {
            self.limiter_state.limit
        } else {
            0.0
        };
        let slot = self.measure_slot;
        self.output.encode(
            &self.gpu,
            &mut encoder,
            &scene_view,
            same_size,
            slot,
            OutputUniforms::new(limit, self.blackout, self.calibration_patch),
        );
        if capture {
            self.output.encode_capture(&mut encoder);
        }
        let submission = self.gpu.queue.submit([encoder.finish()]);
        if self.pipelined && !capture {
            // Judge the previous frame (long finished) while this one renders.
            if let Some((prev_slot, prev_submission, prev_time)) = self.pending_measure.take() {
                let (lum, red) =
                    self.output
                        .read_measure(&self.gpu, prev_slot, Some(prev_submission));
                self.observe_flashes(prev_time, &lum, &red);
            }
            self.pending_measure = Some((slot, submission, clock.time));
            self.measure_slot = 1 - slot;
        } else {
            let (lum, red) = self.output.read_measure(&self.gpu, slot, None);
            self.observe_flashes(clock.time, &lum, &red);
        }
        self.frame += 1;
        capture.then(|| self.output.read_capture(&self.gpu))
    }
}
