//! The exposure/tone-map pass: a preset's final HDR image brought into 0..1
//! with the curve its `[tone_map]` asks for (`shaders/tonemap.wgsl`), before
//! the crossfade and the output stage.

use crate::preset::{ToneCurve, ToneMapSpec};

use super::gpu::Gpu;
use super::pass::{
    PipelineError, bind_group, create_pipeline, fullscreen, layouts, texture_2d, texture_entry,
    uniform_entry,
};

/// Format of the tone-mapped image (the output is 8-bit too).
pub const TONEMAP_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ToneMapUniforms {
    curve: f32,
    exposure: f32,
    white: f32,
    _pad: f32,
}

/// Pipeline, uniforms and target of one preset's tone map.
pub struct ToneMapPass {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    target: Option<([u32; 2], wgpu::TextureView)>,
}

impl ToneMapPass {
    /// Builds the pass for `spec` (the target is made on first use).
    pub fn new(gpu: &Gpu, spec: &ToneMapSpec) -> Result<Self, PipelineError> {
        let (layout, pl) = layouts(gpu, "tone map", &[uniform_entry(0), texture_entry(1, true)]);
        let pipeline = create_pipeline(
            gpu,
            &pl,
            "shaders/tonemap.wgsl",
            &crate::preset::shader::internal(include_str!("../../shaders/tonemap.wgsl")),
            TONEMAP_FORMAT,
        )?;
        let uniforms = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tone map"),
            size: std::mem::size_of::<ToneMapUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let u = ToneMapUniforms {
            curve: match spec.curve {
                ToneCurve::Clip => 0.0,
                ToneCurve::Reinhard => 1.0,
                ToneCurve::Aces => 2.0,
            },
            exposure: spec.exposure,
            white: spec.white,
            _pad: 0.0,
        };
        gpu.queue.write_buffer(&uniforms, 0, bytemuck::bytes_of(&u));
        Ok(Self {
            pipeline,
            layout,
            uniforms,
            target: None,
        })
    }

    /// Encodes the tone map of `scene` (of `size`); returns the result's view.
    pub fn encode(
        &mut self,
        gpu: &Gpu,
        encoder: &mut wgpu::CommandEncoder,
        scene: &wgpu::TextureView,
        size: [u32; 2],
    ) -> &wgpu::TextureView {
        if self.target.as_ref().is_none_or(|(s, _)| *s != size) {
            let t = texture_2d(
                gpu,
                "tone map",
                size,
                TONEMAP_FORMAT,
                wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            );
            self.target = Some((size, t.create_view(&Default::default())));
        }
        let bind = bind_group(
            gpu,
            "tone map",
            &self.layout,
            [
                self.uniforms.as_entire_binding(),
                wgpu::BindingResource::TextureView(scene),
            ],
        );
        let view = &self.target.as_ref().expect("made above").1;
        fullscreen(encoder, view, &self.pipeline, &bind, "tone map");
        view
    }
}
