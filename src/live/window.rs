//! The projector window: winit + a wgpu surface, keys for the VJ.
//!
//! Keys: Esc/Q quit · F fullscreen · B blackout · Space freeze · ←/→ preset ·
//! T tap tempo · R downbeat here · ↑/↓ nudge the beat ±10 ms · L lift or
//! restore the flash limiter.

use std::sync::Arc;
use std::time::Instant;

use winit::application::ApplicationHandler;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Fullscreen, Window, WindowId};

use crate::analysis::BeatOverride;
use crate::preset::{self, Preset};
use crate::render::pass::{create_pipeline, fullscreen, sampler_entry, texture_entry};
use crate::render::{FrameClock, Gpu, Renderer};

use super::LiveOptions;
use super::engine::AnalysisThread;

/// Blit from the renderer's output texture to the surface.
struct Blit {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
}

impl Blit {
    fn new(gpu: &Gpu, format: wgpu::TextureFormat) -> Result<Self, crate::render::PipelineError> {
        let layout = gpu
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("blit"),
                entries: &[texture_entry(0, true), sampler_entry(1)],
            });
        let pl = gpu
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("blit"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
        let pipeline = create_pipeline(
            gpu,
            &pl,
            "shaders/blit.wgsl",
            &crate::preset::shader::internal(include_str!("../../shaders/blit.wgsl")),
            format,
        )?;
        let sampler = gpu.device.create_sampler(&wgpu::SamplerDescriptor {
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Ok(Self {
            pipeline,
            layout,
            sampler,
        })
    }
}

struct Running {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    renderer: Renderer,
    blit: Blit,
}

/// The winit application.
pub struct LiveApp {
    options: LiveOptions,
    analysis: AnalysisThread,
    clock: Arc<crate::audio::feed::AudioClock>,
    output_latency: f64,
    presets: Vec<String>,
    current: usize,
    running: Option<Running>,
    error: Option<anyhow::Error>,
    started: Instant,
    last_frame: Instant,
    frames: u64,
    frozen: bool,
    title_at: Instant,
    source: String,
    /// Frames to render before quitting (for tests and screenshots).
    pub frame_limit: Option<u64>,
    watcher: Option<preset::watch::PresetWatcher>,
}

impl LiveApp {
    /// Builds the app around a running analysis thread.
    pub fn new(
        options: LiveOptions,
        analysis: AnalysisThread,
        clock: Arc<crate::audio::feed::AudioClock>,
        output_latency: f64,
        source: String,
    ) -> Self {
        let presets = preset::list(&preset::builtin_dir());
        let current = presets
            .iter()
            .position(|p| *p == options.preset)
            .unwrap_or(0);
        let watcher = match preset::watch::PresetWatcher::new(&preset::builtin_dir()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("preset hot reload is off: {e}");
                None
            }
        };
        Self {
            watcher,
            frame_limit: options.frames,
            options,
            analysis,
            clock,
            output_latency,
            presets,
            current,
            running: None,
            error: None,
            started: Instant::now(),
            last_frame: Instant::now(),
            frames: 0,
            frozen: false,
            title_at: Instant::now(),
            source,
        }
    }

    /// Runs the event loop until the window closes.
    pub fn run(mut self, mut event_loop: EventLoop<()>) -> anyhow::Result<()> {
        // `run_app` would exit the process on X11; run on demand so the
        // summary prints and the audio stream shuts down cleanly.
        use winit::platform::run_on_demand::EventLoopExtRunOnDemand;
        event_loop.run_app_on_demand(&mut self)?;
        // Release the window and GPU before the audio and analysis threads.
        self.running = None;
        let (frame, onsets) = self
            .analysis
            .snapshot
            .lock()
            .map(|s| (s.frame, s.onsets))
            .unwrap_or_default();
        println!(
            "live: {} frames in {:.1} s, {:.1} s of audio analysed, {} onsets, {:.1} BPM",
            self.frames,
            self.started.elapsed().as_secs_f64(),
            frame.time,
            onsets,
            frame.rhythm.bpm
        );
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn start(&mut self, el: &ActiveEventLoop) -> anyhow::Result<Running> {
        let mut attrs = Window::default_attributes()
            .with_title("sonolux")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.options.size[0],
                self.options.size[1],
            ));
        if self.options.fullscreen {
            let monitor = el
                .available_monitors()
                .nth(self.options.monitor)
                .or_else(|| el.primary_monitor());
            attrs = attrs.with_fullscreen(Some(Fullscreen::Borderless(monitor)));
        }
        let window = Arc::new(el.create_window(attrs)?);
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let surface = instance.create_surface(window.clone())?;
        let gpu = Gpu::with_instance(instance, Some(&surface))?;
        let size = window.inner_size();
        let caps = surface.get_capabilities(&gpu.adapter);
        // A non-sRGB format: the output texture already holds display values.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| anyhow::anyhow!("the window surface offers no formats"))?;
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: size.width.max(1),
            height: size.height.max(1),
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&gpu.device, &config);
        let blit = Blit::new(&gpu, format)?;
        let preset = self.load_preset(self.current)?;
        let mut renderer = Renderer::new(gpu, preset, [config.width, config.height])?;
        // Don't stall every frame on the flash measurement: judge it a frame late.
        renderer.pipelined = true;
        tracing::info!(
            "live: {} on {}x{} ({})",
            renderer.preset().spec.name,
            config.width,
            config.height,
            self.source
        );
        Ok(Running {
            window,
            surface,
            config,
            renderer,
            blit,
        })
    }

    fn load_preset(&self, i: usize) -> anyhow::Result<Preset> {
        let id = self.presets.get(i).ok_or_else(|| {
            anyhow::anyhow!("no presets found in {}", preset::builtin_dir().display())
        })?;
        Ok(preset::find(&preset::builtin_dir(), id)?)
    }

    fn switch_preset(&mut self, step: isize) {
        if self.presets.is_empty() {
            return;
        }
        let n = self.presets.len() as isize;
        let next = ((self.current as isize + step).rem_euclid(n)) as usize;
        let loaded = self.load_preset(next);
        let Some(r) = &mut self.running else { return };
        match loaded.map(|p| r.renderer.set_preset(p).map_err(anyhow::Error::from)) {
            Ok(Ok(())) => {
                self.current = next;
                tracing::info!("preset: {}", r.renderer.preset().spec.name);
            }
            // The show goes on with the current preset.
            Ok(Err(e)) | Err(e) => tracing::error!("preset not switched: {e:#}"),
        }
    }

    fn key(&mut self, el: &ActiveEventLoop, event: &KeyEvent) {
        if event.state != ElementState::Pressed {
            return;
        }
        let now = self.clock.now();
        match &event.logical_key {
            Key::Named(NamedKey::Escape) => el.exit(),
            Key::Named(NamedKey::ArrowRight) => self.switch_preset(1),
            Key::Named(NamedKey::ArrowLeft) => self.switch_preset(-1),
            Key::Named(NamedKey::ArrowUp) => self.analysis.send(BeatOverride::Nudge(0.01)),
            Key::Named(NamedKey::ArrowDown) => self.analysis.send(BeatOverride::Nudge(-0.01)),
            Key::Named(NamedKey::Space) => self.frozen = !self.frozen,
            Key::Character(c) => match c.to_lowercase().as_str() {
                "q" => el.exit(),
                "b" => {
                    if let Some(r) = &mut self.running {
                        r.renderer.blackout = if r.renderer.blackout > 0.5 { 0.0 } else { 1.0 };
                    }
                }
                "f" => {
                    if let Some(r) = &self.running {
                        let full = r.window.fullscreen().is_some();
                        r.window
                            .set_fullscreen((!full).then_some(Fullscreen::Borderless(None)));
                    }
                }
                "t" => self.analysis.send(BeatOverride::Tap(now)),
                "r" => self.analysis.send(BeatOverride::Resync(now)),
                "a" => self.analysis.send(BeatOverride::Auto),
                "l" => {
                    if let Some(r) = &mut self.running {
                        r.renderer.limiter.enabled = !r.renderer.limiter.enabled;
                        tracing::warn!(
                            "flash limiter {}",
                            if r.renderer.limiter.enabled {
                                "ON"
                            } else {
                                "LIFTED by the operator"
                            }
                        );
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Reloads the current preset after an edit; keeps the running one on error.
    fn hot_reload(&mut self) {
        if !self.watcher.as_mut().is_some_and(|w| w.poll()) {
            return;
        }
        self.presets = preset::list(&preset::builtin_dir());
        let loaded = self.load_preset(self.current.min(self.presets.len().saturating_sub(1)));
        let Some(r) = &mut self.running else { return };
        match loaded {
            Ok(p) => match r.renderer.set_preset(p) {
                Ok(()) => tracing::info!("reloaded preset {}", r.renderer.preset().spec.name),
                Err(e) => tracing::error!("{e} (still showing the previous version)"),
            },
            Err(e) => tracing::error!("{e:#} (still showing the previous version)"),
        }
    }

    fn redraw(&mut self, el: &ActiveEventLoop) {
        self.hot_reload();
        let Some(r) = &mut self.running else { return };
        let now = Instant::now();
        let delta = (now - self.last_frame).as_secs_f32();
        self.last_frame = now;
        // Time of the music when this frame will be on screen: the audio
        // clock, minus what is still in the output buffer, plus about one
        // frame of presentation delay and the VJ's offset.
        let show_time = self.clock.now() - self.output_latency
            + f64::from(delta)
            + self.options.latency_ms / 1000.0;
        if !self.frozen {
            let frame = self.analysis.latest();
            r.renderer.render(
                &frame,
                FrameClock {
                    time: show_time,
                    delta,
                    frame: self.frames,
                },
                false,
            );
        }
        let texture = match r.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                r.surface.configure(&r.renderer.gpu.device, &r.config);
                return;
            }
            _ => return,
        };
        let view = texture.texture.create_view(&Default::default());
        let gpu = &r.renderer.gpu;
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("blit"),
            layout: &r.blit.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(r.renderer.output_view()),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(&r.blit.sampler),
                },
            ],
        });
        let mut encoder = gpu.encoder("blit");
        fullscreen(&mut encoder, &view, &r.blit.pipeline, &bind, "blit");
        gpu.queue.submit([encoder.finish()]);
        gpu.queue.present(texture);
        self.frames += 1;
        if self.title_at.elapsed().as_secs_f32() > 0.5 {
            self.title_at = Instant::now();
            let f = self.analysis.latest();
            let fps = self.frames as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            let flags = format!(
                "{}{}{}",
                if r.renderer.limiter.is_engaged() {
                    " [FLASH LIMIT]"
                } else {
                    ""
                },
                if !r.renderer.limiter.enabled {
                    " [LIMITER OFF]"
                } else {
                    ""
                },
                if r.renderer.blackout > 0.5 {
                    " [BLACKOUT]"
                } else {
                    ""
                },
            );
            r.window.set_title(&format!(
                "sonolux - {} - {:.1} BPM ({:.0}%) - {:.0} fps{flags}",
                r.renderer.preset().spec.name,
                f.rhythm.bpm,
                f.rhythm.confidence * 100.0,
                fps
            ));
        }
        let out_of_time = self
            .options
            .duration
            .is_some_and(|d| self.started.elapsed().as_secs_f64() >= d);
        if self.frame_limit.is_some_and(|n| self.frames >= n) || out_of_time {
            if let Some(path) = &self.options.screenshot
                && let Err(e) = save_screenshot(&mut r.renderer, path)
            {
                tracing::error!("screenshot failed: {e:#}");
            }
            el.exit();
        }
    }
}

/// Writes the last shown frame as PNG.
fn save_screenshot(renderer: &mut Renderer, path: &std::path::Path) -> anyhow::Result<()> {
    let [w, h] = renderer.size();
    let px = renderer.read_output();
    image::save_buffer(path, &px, w, h, image::ExtendedColorType::Rgba8)?;
    Ok(())
}

impl ApplicationHandler for LiveApp {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.running.is_some() {
            return;
        }
        match self.start(el) {
            Ok(r) => {
                r.window.request_redraw();
                self.running = Some(r);
            }
            Err(e) => {
                self.error = Some(e);
                el.exit();
            }
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => el.exit(),
            WindowEvent::Resized(size) => {
                if let Some(r) = &mut self.running {
                    r.config.width = size.width.max(1);
                    r.config.height = size.height.max(1);
                    r.surface.configure(&r.renderer.gpu.device, &r.config);
                    r.renderer.resize([r.config.width, r.config.height]);
                }
            }
            WindowEvent::KeyboardInput { event, .. } => self.key(el, &event),
            WindowEvent::RedrawRequested => self.redraw(el),
            _ => {}
        }
    }

    fn about_to_wait(&mut self, _el: &ActiveEventLoop) {
        if let Some(r) = &self.running {
            r.window.request_redraw();
        }
    }
}
