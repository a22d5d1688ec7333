//! Scene passes: a preset's fragment passes over a fullscreen triangle, each
//! rendering into its own ping-pong pair of textures at the render scale.

use crate::preset::{Items, MAX_PARAMS, Preset};

use super::gpu::Gpu;
use super::pass::{
    PipelineError, bind_group, create_pipeline, fullscreen_groups, sampler_entry, texture_2d,
    texture_entry, uniform_entry,
};

/// Scene target format for presets with feedback: float, so trails fade smoothly.
pub const FEEDBACK_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;
/// Scene target format for presets without feedback: 8-bit, cheaper to write
/// and to sample (the output is 8-bit anyway).
pub const PLAIN_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Bindings shared by every scene pass (the shader contract's group 0).
pub struct SceneLayout {
    /// Group 0 layout.
    pub bind_group_layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    /// Linear, clamp-to-edge.
    pub sampler: wgpu::Sampler,
    sampler_repeat: wgpu::Sampler,
    /// Group 1 for presets with storage buffers but no images.
    empty_layout: wgpu::BindGroupLayout,
    empty_group: wgpu::BindGroup,
}

impl SceneLayout {
    /// Creates the layout.
    pub fn new(gpu: &Gpu) -> Self {
        let d = &gpu.device;
        // Compute passes see the same group 0 as fragment passes.
        let entries = [
            uniform_entry(0),
            uniform_entry(1),
            texture_entry(2, true),
            texture_entry(3, true),
            texture_entry(4, true),
            sampler_entry(5),
            sampler_entry(6),
            texture_entry(7, true),
        ]
        .map(|mut e| {
            e.visibility |= wgpu::ShaderStages::COMPUTE;
            e
        });
        let bind_group_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("scene"),
            entries: &entries,
        });
        let empty_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("no images"),
            entries: &[],
        });
        let empty_group = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("no images"),
            layout: &empty_layout,
            entries: &[],
        });
        let pipeline_layout = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("scene"),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        let make_sampler = |mode| {
            d.create_sampler(&wgpu::SamplerDescriptor {
                label: Some("scene"),
                address_mode_u: mode,
                address_mode_v: mode,
                address_mode_w: mode,
                mag_filter: wgpu::FilterMode::Linear,
                min_filter: wgpu::FilterMode::Linear,
                ..Default::default()
            })
        };
        Self {
            bind_group_layout,
            pipeline_layout,
            sampler: make_sampler(wgpu::AddressMode::ClampToEdge),
            sampler_repeat: make_sampler(wgpu::AddressMode::Repeat),
            empty_layout,
            empty_group,
        }
    }
}

/// A storage buffer binding (group 2).
fn storage_entry(binding: u32, stage: wgpu::ShaderStages) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: stage,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage {
                read_only: stage != wgpu::ShaderStages::COMPUTE,
            },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A preset's storage buffers and compute pipelines.
struct Compute {
    pipelines: Vec<wgpu::ComputePipeline>,
    /// Group 2 layouts: compute (read-write), fragment (read-only).
    layouts: [wgpu::BindGroupLayout; 2],
    buffers: Vec<wgpu::Buffer>,
    /// Group 2 for compute, for fragment passes.
    groups: Option<[wgpu::BindGroup; 2]>,
}

struct PassTargets {
    views: [wgpu::TextureView; 2],
    bind_groups: [wgpu::BindGroup; 2],
}

/// A preset on the GPU: pipelines, parameter buffer and ping-pong targets.
pub struct ScenePipeline {
    /// The preset it was built from.
    pub preset: Preset,
    pipelines: Vec<wgpu::RenderPipeline>,
    params_buffer: wgpu::Buffer,
    /// Current parameter values (declaration order).
    pub params: Vec<f32>,
    targets: Vec<PassTargets>,
    size: [u32; 2],
    format: wgpu::TextureFormat,
    tone_map: Option<super::tonemap::ToneMapPass>,
    /// The preset's images (group 1), when it declares any.
    media: Option<wgpu::BindGroup>,
    /// Storage buffers and compute passes, when it declares any.
    compute: Option<Compute>,
    /// Video textures and their decoders.
    videos: Vec<(wgpu::Texture, crate::media::VideoStream)>,
}

impl ScenePipeline {
    /// Compiles the preset's passes. Fails without touching anything if any pass fails.
    pub fn new(gpu: &Gpu, layout: &SceneLayout, preset: Preset) -> Result<Self, PipelineError> {
        // Feedback and tone-mapped presets render in float (trails fade
        // smoothly; values above 1 survive until the tone map).
        let format = if preset.uses_feedback() || preset.spec.tone_map.is_some() {
            FEEDBACK_FORMAT
        } else {
            PLAIN_FORMAT
        };
        let tone_map = preset
            .spec
            .tone_map
            .as_ref()
            .map(|t| super::tonemap::ToneMapPass::new(gpu, t))
            .transpose()?;
        // The preset's images: uploaded once, bound as group 1.
        let (media, media_layout, videos) = media_group(gpu, &preset);
        let has_storage = !preset.spec.storage.is_empty() || !preset.compute.is_empty();
        let storage_layouts = has_storage.then(|| {
            [wgpu::ShaderStages::COMPUTE, wgpu::ShaderStages::FRAGMENT].map(|stage| {
                let entries: Vec<_> = (0..preset.spec.storage.len())
                    .map(|i| storage_entry(i as u32, stage))
                    .collect();
                gpu.device
                    .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                        label: Some("preset storage"),
                        entries: &entries,
                    })
            })
        });
        let group1 = media_layout.as_ref().unwrap_or(&layout.empty_layout);
        let layout_with = |storage: Option<&wgpu::BindGroupLayout>| {
            gpu.device
                .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some("scene with images or storage"),
                    bind_group_layouts: &[Some(&layout.bind_group_layout), Some(group1), storage],
                    immediate_size: 0,
                })
        };
        let pipeline_layout = match (&media_layout, &storage_layouts) {
            (_, Some(s)) => layout_with(Some(&s[1])),
            (Some(_), None) => gpu
                .device
                .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some("scene with images"),
                    bind_group_layouts: &[Some(&layout.bind_group_layout), Some(group1)],
                    immediate_size: 0,
                }),
            (None, None) => layout.pipeline_layout.clone(),
        };
        let compute = match storage_layouts {
            Some(layouts) => {
                let compute_layout = layout_with(Some(&layouts[0]));
                let pipelines = preset
                    .compute
                    .iter()
                    .map(|c| {
                        super::pass::create_compute_pipeline(
                            gpu,
                            &compute_layout,
                            &c.path.display().to_string(),
                            &c.source,
                            &c.entry,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Compute {
                    pipelines,
                    layouts,
                    buffers: Vec::new(),
                    groups: None,
                })
            }
            None => None,
        };
        let pipelines = preset
            .passes
            .iter()
            .map(|p| {
                create_pipeline(
                    gpu,
                    &pipeline_layout,
                    &p.path.display().to_string(),
                    &p.source,
                    format,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let params_buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: (MAX_PARAMS * 4) as u64,
            usage: wgpu::BufferUsages::UNIFORM
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let params = preset.spec.default_values();
        Ok(Self {
            preset,
            pipelines,
            params_buffer,
            params,
            targets: Vec::new(),
            size: [0, 0],
            format,
            tone_map,
            media,
            compute,
            videos,
        })
    }

    /// Uploads each video texture's frame for show time `time` when a new
    /// one is due. `wait` (headless) blocks for exactly that frame; live it
    /// takes what the decoder has ready and never stalls the frame.
    pub fn update_videos(&mut self, gpu: &Gpu, time: f64, wait: bool) {
        for (tex, stream) in &mut self.videos {
            let size = stream.size();
            if let Some(rgba) = stream.frame_at(time, wait) {
                super::pass::upload(gpu, tex, rgba, size, 4);
            }
        }
    }

    /// Items of a storage buffer or invocations of a compute pass at the
    /// current target size.
    fn item_count(&self, items: &Items) -> u32 {
        let pixels = self.size[0] * self.size[1];
        match items {
            Items::Count(n) => *n,
            Items::Named(n) if n == "pixels" => pixels,
            Items::Named(n) => self
                .preset
                .spec
                .storage
                .iter()
                .find(|b| &b.name == n)
                .map_or(0, |b| self.item_count(&b.items)),
        }
    }

    /// (Re)creates the storage buffers (zeroed) for the current size.
    fn make_storage(&mut self, gpu: &Gpu) {
        let Some(c) = &self.compute else { return };
        let buffers: Vec<wgpu::Buffer> = self
            .preset
            .spec
            .storage
            .iter()
            .map(|b| {
                let bytes = u64::from(self.item_count(&b.items)) * u64::from(b.stride);
                gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("storage {}", b.name)),
                    size: bytes.clamp(4, crate::preset::MAX_STORAGE_BYTES),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let group = |layout: &wgpu::BindGroupLayout| {
            let entries: Vec<wgpu::BindGroupEntry> = buffers
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: b.as_entire_binding(),
                })
                .collect();
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("preset storage"),
                layout,
                entries: &entries,
            })
        };
        let groups = [group(&c.layouts[0]), group(&c.layouts[1])];
        if let Some(c) = &mut self.compute {
            c.groups = Some(groups);
            c.buffers = buffers;
        }
    }

    /// Render-scaled size for an output of `output` pixels.
    pub fn scaled_size(&self, output: [u32; 2]) -> [u32; 2] {
        let s = self.preset.spec.render_scale;
        [
            ((output[0] as f32 * s).round() as u32).max(1),
            ((output[1] as f32 * s).round() as u32).max(1),
        ]
    }

    /// (Re)creates the targets for `size` (already scaled) if it changed.
    pub fn ensure_targets(
        &mut self,
        gpu: &Gpu,
        layout: &SceneLayout,
        uniforms: &wgpu::Buffer,
        music: &[wgpu::TextureView; 2],
        size: [u32; 2],
    ) {
        if self.size == size && !self.targets.is_empty() {
            return;
        }
        self.size = size;
        let make_view = |i: usize, k: usize| {
            texture_2d(
                gpu,
                &format!("pass{i}.{k}"),
                size,
                self.format,
                wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            )
            .create_view(&Default::default())
        };
        let n = self.pipelines.len();
        let views: Vec<[wgpu::TextureView; 2]> =
            (0..n).map(|i| [make_view(i, 0), make_view(i, 1)]).collect();
        self.bind_targets(gpu, layout, uniforms, music, views);
        self.make_storage(gpu);
    }

    /// Takes over `old`'s targets when they fit (same pass count, format and
    /// size), so a reloaded preset continues its feedback instead of starting
    /// from black. Returns whether it did.
    pub fn adopt_targets(
        &mut self,
        old: &ScenePipeline,
        gpu: &Gpu,
        layout: &SceneLayout,
        uniforms: &wgpu::Buffer,
        music: &[wgpu::TextureView; 2],
    ) -> bool {
        if old.targets.len() != self.pipelines.len() || old.format != self.format {
            return false;
        }
        self.size = old.size;
        let views = old.targets.iter().map(|t| t.views.clone()).collect();
        self.bind_targets(gpu, layout, uniforms, music, views);
        self.make_storage(gpu);
        true
    }

    /// Builds the per-pass bind groups over `views` (one ping-pong pair per pass).
    fn bind_targets(
        &mut self,
        gpu: &Gpu,
        layout: &SceneLayout,
        uniforms: &wgpu::Buffer,
        music: &[wgpu::TextureView; 2],
        views: Vec<[wgpu::TextureView; 2]>,
    ) {
        let n = views.len();
        self.targets = (0..n)
            .map(|i| {
                let bind = |p: usize| {
                    let prev = &views[i][1 - p];
                    let input = if i == 0 {
                        &views[n - 1][1 - p]
                    } else {
                        &views[i - 1][p]
                    };
                    bind_group(
                        gpu,
                        "scene",
                        &layout.bind_group_layout,
                        [
                            uniforms.as_entire_binding(),
                            self.params_buffer.as_entire_binding(),
                            wgpu::BindingResource::TextureView(&music[0]),
                            wgpu::BindingResource::TextureView(prev),
                            wgpu::BindingResource::TextureView(input),
                            wgpu::BindingResource::Sampler(&layout.sampler),
                            wgpu::BindingResource::Sampler(&layout.sampler_repeat),
                            wgpu::BindingResource::TextureView(&music[1]),
                        ],
                    )
                };
                PassTargets {
                    bind_groups: [bind(0), bind(1)],
                    views: views[i].clone(),
                }
            })
            .collect();
    }

    /// Encodes all passes for frame parity `p` (and the tone map, if the
    /// preset has one); returns the final image's view.
    pub fn encode(
        &mut self,
        gpu: &Gpu,
        layout: &SceneLayout,
        encoder: &mut wgpu::CommandEncoder,
        parity: usize,
    ) -> &wgpu::TextureView {
        let mut values = [0.0f32; MAX_PARAMS];
        values[..self.params.len()].copy_from_slice(&self.params);
        gpu.queue
            .write_buffer(&self.params_buffer, 0, bytemuck::cast_slice(&values));
        let group1 = self.media.as_ref().unwrap_or(&layout.empty_group);
        if let Some(c) = &self.compute
            && let Some(groups) = &c.groups
        {
            for (b, spec) in c.buffers.iter().zip(&self.preset.spec.storage) {
                if spec.clear {
                    encoder.clear_buffer(b, 0, None);
                }
            }
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("preset compute"),
                timestamp_writes: None,
            });
            pass.set_bind_group(0, &self.targets[0].bind_groups[parity], &[]);
            pass.set_bind_group(1, group1, &[]);
            pass.set_bind_group(2, &groups[0], &[]);
            for (pipeline, cp) in c.pipelines.iter().zip(&self.preset.compute) {
                let items = self.item_count(&cp.items);
                let groups_x = items.div_ceil(cp.workgroup).min(65_535);
                if groups_x > 0 {
                    pass.set_pipeline(pipeline);
                    pass.dispatch_workgroups(groups_x, 1, 1);
                }
            }
        }
        for (pipeline, t) in self.pipelines.iter().zip(&self.targets) {
            let mut groups = vec![&t.bind_groups[parity]];
            match &self.compute {
                Some(Compute {
                    groups: Some(g), ..
                }) => {
                    groups.push(group1);
                    groups.push(&g[1]);
                }
                _ => groups.extend(&self.media),
            }
            fullscreen_groups(encoder, &t.views[parity], pipeline, &groups, "scene");
        }
        let last = &self.targets[self.targets.len() - 1].views[parity];
        match &mut self.tone_map {
            Some(t) => t.encode(gpu, encoder, last, self.size),
            None => last,
        }
    }

    /// Reads back the parameter buffer as the shader sees it (waits for the GPU).
    pub fn read_params(&self, gpu: &Gpu) -> Vec<f32> {
        let size = (MAX_PARAMS * 4) as u64;
        let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params readback"),
            size,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut enc = gpu.encoder("params readback");
        enc.copy_buffer_to_buffer(&self.params_buffer, 0, &staging, 0, size);
        let index = gpu.queue.submit([enc.finish()]);
        let slice = staging.slice(..);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        gpu.wait_for(index);
        let bytes = match slice.get_mapped_range() {
            Ok(view) => view.to_vec(),
            Err(e) => {
                tracing::error!("GPU readback failed: {e}");
                vec![0; size as usize]
            }
        };
        staging.unmap();
        bytes
            .chunks_exact(4)
            .take(self.params.len())
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// A preset's group 1 and its layout (`None` without images), and the video
/// textures with their decoders.
type Media = (
    Option<wgpu::BindGroup>,
    Option<wgpu::BindGroupLayout>,
    Vec<(wgpu::Texture, crate::media::VideoStream)>,
);

/// Uploads a preset's images and binds them (group 1, one texture each, in
/// declaration order), and starts a decoder for each video (a clip that
/// cannot start stays black and is logged; the show goes on).
fn media_group(gpu: &Gpu, preset: &Preset) -> Media {
    if preset.textures.is_empty() {
        return (None, None, Vec::new());
    }
    let entries: Vec<wgpu::BindGroupLayoutEntry> = (0..preset.textures.len())
        .map(|i| texture_entry(i as u32, true))
        .collect();
    let layout = gpu
        .device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("preset images"),
            entries: &entries,
        });
    let mut videos = Vec::new();
    let views: Vec<wgpu::TextureView> = preset
        .textures
        .iter()
        .map(|t| {
            let tex = texture_2d(
                gpu,
                &format!("image {}", t.name),
                t.size,
                // Display-referred values, like everything else a pass reads
                // and writes (no sRGB decode).
                wgpu::TextureFormat::Rgba8Unorm,
                wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            );
            super::pass::upload(gpu, &tex, &t.rgba, t.size, 4);
            let view = tex.create_view(&Default::default());
            if let Some(path) = &t.video {
                match crate::media::VideoStream::spawn(path, t.size) {
                    Ok(stream) => videos.push((tex, stream)),
                    Err(e) => tracing::warn!("{}: {e}", path.display()),
                }
            }
            view
        })
        .collect();
    let bind_entries: Vec<wgpu::BindGroupEntry> = views
        .iter()
        .enumerate()
        .map(|(i, v)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: wgpu::BindingResource::TextureView(v),
        })
        .collect();
    let group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("preset images"),
        layout: &layout,
        entries: &bind_entries,
    });
    (Some(group), Some(layout), videos)
}
