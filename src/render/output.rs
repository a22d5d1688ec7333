//! The output stage: scene → output-size texture with the flash limiter and
//! blackout applied, the flash measurement grid, and pixel readback.

use super::gpu::Gpu;
use super::pass::{
    create_pipeline, create_pipeline_entry, fullscreen, sampler_entry, texture_2d, texture_entry,
    uniform_entry,
};
use crate::preset::shader::internal;

/// Format of the output texture (display-referred 8-bit, as on the projector).
pub const OUTPUT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
/// Columns of the flash measurement grid.
pub const GRID_W: u32 = 96;
/// Rows of the flash measurement grid.
pub const GRID_H: u32 = 54;

/// Uniforms of `shaders/output.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct OutputUniforms {
    /// Luminance deviation limit (0 = off).
    pub limit: f32,
    /// 0 = picture, 1 = black.
    pub blackout: f32,
    /// Brightness of the latency-calibration patch (0 = none).
    pub patch: f32,
    _pad: f32,
}

impl OutputUniforms {
    /// Uniforms for a limit (0 = off), a blackout amount and the
    /// calibration patch's brightness.
    pub fn new(limit: f32, blackout: f32, patch: f32) -> Self {
        Self {
            limit,
            blackout,
            patch,
            _pad: 0.0,
        }
    }
}

fn padded_row(width: u32, bytes_per_pixel: u32) -> u32 {
    let unpadded = width * bytes_per_pixel;
    let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    unpadded.div_ceil(align) * align
}

/// Output textures, pipelines and readback buffers.
pub struct OutputStage {
    size: [u32; 2],
    /// The finished frame.
    pub texture: wgpu::Texture,
    /// View of `texture`.
    pub view: wgpu::TextureView,
    reference: wgpu::Texture,
    reference_view: wgpu::TextureView,
    pipeline: wgpu::RenderPipeline,
    copy_pipeline: wgpu::RenderPipeline,
    limit_pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    sampler: wgpu::Sampler,
    measure_pipeline: wgpu::RenderPipeline,
    measure_layout: wgpu::BindGroupLayout,
    /// Reads `view`; rebuilt only when the output is resized.
    measure_bind: wgpu::BindGroup,
    measure_view: wgpu::TextureView,
    measure_texture: wgpu::Texture,
    measure_buffers: [wgpu::Buffer; 2],
    capture_buffer: wgpu::Buffer,
}

impl OutputStage {
    /// Creates the stage for an output of `size` pixels.
    pub fn new(gpu: &Gpu, size: [u32; 2]) -> Self {
        let d = &gpu.device;
        let (layout, pl) = super::pass::layouts(
            gpu,
            "output",
            &[
                uniform_entry(0),
                texture_entry(1, true),
                texture_entry(2, true),
                sampler_entry(3),
            ],
        );
        let output_src = internal(include_str!("../../shaders/output.wgsl"));
        let entry = |name| {
            create_pipeline_entry(
                gpu,
                &pl,
                "shaders/output.wgsl",
                &output_src,
                OUTPUT_FORMAT,
                name,
            )
            .unwrap_or_else(|e| panic!("built-in output shader: {e}"))
        };
        let pipeline = entry("fs_plain");
        let copy_pipeline = entry("fs_copy");
        let limit_pipeline = entry("fs_limit");
        let (measure_layout, mpl) =
            super::pass::layouts(gpu, "measure", &[texture_entry(0, false)]);
        let measure_pipeline = create_pipeline(
            gpu,
            &mpl,
            "shaders/measure.wgsl",
            &internal(include_str!("../../shaders/measure.wgsl")),
            wgpu::TextureFormat::Rg32Float,
        )
        .unwrap_or_else(|e| panic!("built-in measure shader: {e}"));
        let measure_texture = texture_2d(
            gpu,
            "measure",
            [GRID_W, GRID_H],
            wgpu::TextureFormat::Rg32Float,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let measure_buffer = || {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("measure readback"),
                size: u64::from(padded_row(GRID_W, 8) * GRID_H),
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            })
        };
        let measure_buffers = [measure_buffer(), measure_buffer()];
        let uniforms = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("output uniforms"),
            size: std::mem::size_of::<OutputUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = super::pass::linear_sampler(gpu, "output");
        let (texture, view, reference, reference_view, capture_buffer) = Self::targets(gpu, size);
        let measure_bind = Self::measure_bind(gpu, &measure_layout, &view);
        Self {
            size,
            texture,
            view,
            reference,
            reference_view,
            pipeline,
            copy_pipeline,
            limit_pipeline,
            layout,
            uniforms,
            sampler,
            measure_pipeline,
            measure_layout,
            measure_bind,
            measure_view: measure_texture.create_view(&Default::default()),
            measure_texture,
            measure_buffers,
            capture_buffer,
        }
    }

    #[allow(clippy::type_complexity)]
    fn targets(
        gpu: &Gpu,
        size: [u32; 2],
    ) -> (
        wgpu::Texture,
        wgpu::TextureView,
        wgpu::Texture,
        wgpu::TextureView,
        wgpu::Buffer,
    ) {
        let texture = texture_2d(
            gpu,
            "output",
            size,
            OUTPUT_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
        );
        let reference = texture_ref(gpu, size);
        let capture_buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("capture readback"),
            size: u64::from(padded_row(size[0], 4)) * u64::from(size[1]),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let view = texture.create_view(&Default::default());
        let reference_view = reference.create_view(&Default::default());
        (texture, view, reference, reference_view, capture_buffer)
    }

    /// Output size in pixels.
    pub fn size(&self) -> [u32; 2] {
        self.size
    }

    /// Recreates the targets for a new output size.
    pub fn resize(&mut self, gpu: &Gpu, size: [u32; 2]) {
        if size == self.size {
            return;
        }
        self.size = size;
        (
            self.texture,
            self.view,
            self.reference,
            self.reference_view,
            self.capture_buffer,
        ) = Self::targets(gpu, size);
        self.measure_bind = Self::measure_bind(gpu, &self.measure_layout, &self.view);
    }

    fn measure_bind(
        gpu: &Gpu,
        layout: &wgpu::BindGroupLayout,
        output: &wgpu::TextureView,
    ) -> wgpu::BindGroup {
        super::pass::bind_group(
            gpu,
            "measure",
            layout,
            [wgpu::BindingResource::TextureView(output)],
        )
    }

    /// Encodes the output pass (scene → output) and the measurement pass.
    /// `same_size`: the scene was rendered at the output size (render scale
    /// 1), so the copy needs no filtering. The measurement goes to readback
    /// buffer `slot` (0 or 1), so a live show can read one frame late.
    pub fn encode(
        &self,
        gpu: &Gpu,
        encoder: &mut wgpu::CommandEncoder,
        scene: &wgpu::TextureView,
        same_size: bool,
        slot: usize,
        u: OutputUniforms,
    ) {
        gpu.queue
            .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        let bind = super::pass::bind_group(
            gpu,
            "output",
            &self.layout,
            [
                self.uniforms.as_entire_binding(),
                wgpu::BindingResource::TextureView(scene),
                wgpu::BindingResource::TextureView(&self.reference_view),
                wgpu::BindingResource::Sampler(&self.sampler),
            ],
        );
        let pipeline = if u.limit > 0.0 {
            &self.limit_pipeline
        } else if same_size {
            &self.copy_pipeline
        } else {
            &self.pipeline
        };
        fullscreen(encoder, &self.view, pipeline, &bind, "output");
        fullscreen(
            encoder,
            &self.measure_view,
            &self.measure_pipeline,
            &self.measure_bind,
            "measure",
        );
        encoder.copy_texture_to_buffer(
            self.measure_texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &self.measure_buffers[slot],
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row(GRID_W, 8)),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width: GRID_W,
                height: GRID_H,
                depth_or_array_layers: 1,
            },
        );
    }

    /// Encodes a copy of the output into the capture buffer.
    pub fn encode_capture(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.copy_texture_to_buffer(
            self.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &self.capture_buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row(self.size[0], 4)),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width: self.size[0],
                height: self.size[1],
                depth_or_array_layers: 1,
            },
        );
    }

    /// Makes the current output the limiter's reference frame.
    pub fn encode_reference_copy(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.copy_texture_to_texture(
            self.texture.as_image_copy(),
            self.reference.as_image_copy(),
            wgpu::Extent3d {
                width: self.size[0],
                height: self.size[1],
                depth_or_array_layers: 1,
            },
        );
    }

    /// Reads measurement buffer `slot` once `submission` (the one that
    /// encoded it; `None` = everything submitted) is done: (luminance, red value).
    pub fn read_measure(
        &self,
        gpu: &Gpu,
        slot: usize,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> (Vec<f32>, Vec<f32>) {
        let row = padded_row(GRID_W, 8) as usize;
        let bytes = read_buffer(gpu, &self.measure_buffers[slot], submission);
        let mut lum = Vec::with_capacity((GRID_W * GRID_H) as usize);
        let mut red = Vec::with_capacity((GRID_W * GRID_H) as usize);
        for y in 0..GRID_H as usize {
            let line: &[f32] = bytemuck::cast_slice(&bytes[y * row..y * row + GRID_W as usize * 8]);
            for px in line.chunks_exact(2) {
                lum.push(px[0]);
                red.push(px[1]);
            }
        }
        (lum, red)
    }

    /// Reads the captured output as tightly packed RGBA8 rows.
    pub fn read_capture(&self, gpu: &Gpu) -> Vec<u8> {
        let row = padded_row(self.size[0], 4) as usize;
        let tight = self.size[0] as usize * 4;
        let bytes = read_buffer(gpu, &self.capture_buffer, None);
        let mut out = Vec::with_capacity(tight * self.size[1] as usize);
        for y in 0..self.size[1] as usize {
            out.extend_from_slice(&bytes[y * row..y * row + tight]);
        }
        out
    }
}

fn texture_ref(gpu: &Gpu, size: [u32; 2]) -> wgpu::Texture {
    texture_2d(
        gpu,
        "flash reference",
        size,
        OUTPUT_FORMAT,
        wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING,
    )
}

/// Maps a readback buffer once `submission` is done (or everything), copies
/// its bytes and unmaps it.
fn read_buffer(
    gpu: &Gpu,
    buffer: &wgpu::Buffer,
    submission: Option<wgpu::SubmissionIndex>,
) -> Vec<u8> {
    let slice = buffer.slice(..);
    slice.map_async(wgpu::MapMode::Read, |r| {
        if let Err(e) = r {
            tracing::error!("GPU readback failed: {e}");
        }
    });
    match submission {
        Some(index) => gpu.wait_for(index),
        None => gpu.wait(),
    }
    let bytes = match slice.get_mapped_range() {
        Ok(view) => view.to_vec(),
        Err(e) => {
            tracing::error!("GPU readback failed: {e}");
            vec![0; buffer.size() as usize]
        }
    };
    buffer.unmap();
    bytes
}
