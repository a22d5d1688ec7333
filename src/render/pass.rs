//! Building blocks shared by every pass: bind group layout entries, pipeline
//! creation inside a GPU error scope, and the fullscreen-triangle draw.

use super::gpu::Gpu;

/// Why a preset could not be turned into GPU pipelines.
#[derive(Debug, thiserror::Error)]
#[error("{path}: the GPU rejected the shader: {message}")]
pub struct PipelineError {
    /// The pass's WGSL file.
    pub path: String,
    /// What wgpu said.
    pub message: String,
}

/// A single-level 2D texture of `size` pixels.
pub fn texture_2d(
    gpu: &Gpu,
    label: &str,
    size: [u32; 2],
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

/// Writes a whole single-level texture of `size` pixels, `bytes_per_texel`
/// each, from `bytes` (rows tightly packed).
pub fn upload(
    gpu: &Gpu,
    texture: &wgpu::Texture,
    bytes: &[u8],
    size: [u32; 2],
    bytes_per_texel: u32,
) {
    gpu.queue.write_texture(
        texture.as_image_copy(),
        bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(bytes_per_texel * size[0]),
            rows_per_image: Some(size[1]),
        },
        wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
    );
}

/// A uniform buffer binding visible to both stages.
pub fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT | wgpu::ShaderStages::VERTEX,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A 2D float texture binding for the fragment stage.
pub fn texture_entry(binding: u32, filterable: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// A filtering sampler binding for the fragment stage.
pub fn sampler_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
        count: None,
    }
}

/// A bind group layout with `entries` (group 0) and the pipeline layout over it.
pub fn layouts(
    gpu: &Gpu,
    label: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
    let group = gpu
        .device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries,
        });
    let pipeline = gpu
        .device
        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&group)],
            immediate_size: 0,
        });
    (group, pipeline)
}

/// A bind group over `layout` with `resources` at bindings 0, 1, 2… in order.
pub fn bind_group<const N: usize>(
    gpu: &Gpu,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    resources: [wgpu::BindingResource<'_>; N],
) -> wgpu::BindGroup {
    let mut binding = 0;
    let entries = resources.map(|resource| {
        let entry = wgpu::BindGroupEntry { binding, resource };
        binding += 1;
        entry
    });
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// A sampler with linear filtering, clamped to the edge.
pub fn linear_sampler(gpu: &Gpu, label: &str) -> wgpu::Sampler {
    gpu.device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some(label),
        mag_filter: wgpu::FilterMode::Linear,
        min_filter: wgpu::FilterMode::Linear,
        ..Default::default()
    })
}

/// Creates a render pipeline for one assembled WGSL source, catching GPU
/// validation errors instead of letting them reach the uncaptured handler.
pub fn create_pipeline(
    gpu: &Gpu,
    layout: &wgpu::PipelineLayout,
    label: &str,
    source: &str,
    format: wgpu::TextureFormat,
) -> Result<wgpu::RenderPipeline, PipelineError> {
    create_pipeline_entry(gpu, layout, label, source, format, "fs_main")
}

/// Like [`create_pipeline`] with a named fragment entry point.
pub fn create_pipeline_entry(
    gpu: &Gpu,
    layout: &wgpu::PipelineLayout,
    label: &str,
    source: &str,
    format: wgpu::TextureFormat,
    fragment_entry: &str,
) -> Result<wgpu::RenderPipeline, PipelineError> {
    in_error_scope(gpu, label, source, |module| {
        gpu.device
            .create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(layout),
                vertex: wgpu::VertexState {
                    module,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                fragment: Some(wgpu::FragmentState {
                    module,
                    entry_point: Some(fragment_entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                multiview_mask: None,
                cache: None,
            })
    })
}

/// Compiles `source` and builds a pipeline from it inside a GPU validation
/// error scope, so a rejected shader becomes a [`PipelineError`] instead of
/// reaching the uncaptured-error handler.
fn in_error_scope<T>(
    gpu: &Gpu,
    label: &str,
    source: &str,
    build: impl FnOnce(&wgpu::ShaderModule) -> T,
) -> Result<T, PipelineError> {
    let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = gpu
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
    let built = build(&module);
    match pollster::block_on(scope.pop()) {
        Some(e) => Err(PipelineError {
            path: label.to_owned(),
            message: e.to_string(),
        }),
        None => Ok(built),
    }
}

/// Creates a compute pipeline for one assembled WGSL source inside a GPU
/// error scope.
pub fn create_compute_pipeline(
    gpu: &Gpu,
    layout: &wgpu::PipelineLayout,
    label: &str,
    source: &str,
    entry: &str,
) -> Result<wgpu::ComputePipeline, PipelineError> {
    in_error_scope(gpu, label, source, |module| {
        gpu.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(layout),
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
    })
}

/// Draws a fullscreen triangle into `view`.
pub fn fullscreen(
    encoder: &mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    pipeline: &wgpu::RenderPipeline,
    bind: &wgpu::BindGroup,
    label: &str,
) {
    fullscreen_groups(encoder, view, pipeline, &[bind], label);
}

/// Like [`fullscreen`] with bind groups 0, 1… in order.
pub fn fullscreen_groups(
    encoder: &mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    pipeline: &wgpu::RenderPipeline,
    binds: &[&wgpu::BindGroup],
    label: &str,
) {
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(pipeline);
    for (i, b) in binds.iter().enumerate() {
        pass.set_bind_group(i as u32, *b, &[]);
    }
    pass.draw(0..3, 0..1);
}
