//! The crossfade pass: two presets' final images mixed into one texture at
//! the output size, which the output stage then treats like a scene.

use super::gpu::Gpu;
use super::pass::{
    PipelineError, bind_group, create_pipeline, fullscreen, layouts, linear_sampler, sampler_entry,
    texture_2d, texture_entry, uniform_entry,
};

/// Format of the mixed image (the output is 8-bit too).
pub const MIX_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MixUniforms {
    mix: f32,
    _pad: [f32; 3],
}

/// Pipeline and target of the crossfade.
pub struct MixPass {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    sampler: wgpu::Sampler,
    target: Option<([u32; 2], wgpu::TextureView)>,
}

impl MixPass {
    /// Builds the pipeline (the target is made on first use).
    pub fn new(gpu: &Gpu) -> Result<Self, PipelineError> {
        let d = &gpu.device;
        let (layout, pl) = layouts(
            gpu,
            "mix",
            &[
                uniform_entry(0),
                texture_entry(1, true),
                texture_entry(2, true),
                sampler_entry(3),
            ],
        );
        let pipeline = create_pipeline(
            gpu,
            &pl,
            "shaders/mix.wgsl",
            &crate::preset::shader::internal(include_str!("../../shaders/mix.wgsl")),
            MIX_FORMAT,
        )?;
        let uniforms = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("mix"),
            size: std::mem::size_of::<MixUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = linear_sampler(gpu, "mix");
        Ok(Self {
            pipeline,
            layout,
            uniforms,
            sampler,
            target: None,
        })
    }

    /// Encodes `a` × (1 − mix) + `b` × mix into the target of `size`; returns its view.
    pub fn encode(
        &mut self,
        gpu: &Gpu,
        encoder: &mut wgpu::CommandEncoder,
        a: &wgpu::TextureView,
        b: &wgpu::TextureView,
        mix: f32,
        size: [u32; 2],
    ) -> &wgpu::TextureView {
        if self.target.as_ref().is_none_or(|(s, _)| *s != size) {
            let t = texture_2d(
                gpu,
                "mix",
                size,
                MIX_FORMAT,
                wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            );
            self.target = Some((size, t.create_view(&Default::default())));
        }
        gpu.queue.write_buffer(
            &self.uniforms,
            0,
            bytemuck::bytes_of(&MixUniforms {
                mix,
                _pad: [0.0; 3],
            }),
        );
        let bind = bind_group(
            gpu,
            "mix",
            &self.layout,
            [
                self.uniforms.as_entire_binding(),
                wgpu::BindingResource::TextureView(a),
                wgpu::BindingResource::TextureView(b),
                wgpu::BindingResource::Sampler(&self.sampler),
            ],
        );
        let view = &self.target.as_ref().expect("made above").1;
        fullscreen(encoder, view, &self.pipeline, &bind, "mix");
        view
    }
}
