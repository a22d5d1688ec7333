//! The live show's windows: the projector (visuals only) and the VJ's
//! control surface, either as its own window (two screens) or as an overlay
//! on the projector toggled by Tab (one screen). One device, one renderer:
//! the control window's preview is the projector's own output texture.
//!
//! Per projector frame: hot reload → show update (modulation, transitions,
//! setlist) → renderer follows the show → render → blit (+ overlay) →
//! present; the control window is drawn at most every 33 ms after that.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use winit::application::ApplicationHandler;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::keyboard::{Key, ModifiersState, NamedKey};
use winit::window::{Fullscreen, Window, WindowId};

use crate::audio::feed::{AudioClock, FeedHandle};
use crate::render::pass::{
    bind_group, create_pipeline, fullscreen, layouts, linear_sampler, sampler_entry, texture_entry,
};
use crate::render::{FrameClock, Gpu, Renderer};
use crate::settings::{Settings, WindowPlace};
use crate::show::{Command, Level, Show};
use crate::ui;

use super::egui_layer::EguiLayer;
use super::engine::AnalysisThread;
use super::{LiveOptions, SurfaceMode, monitors};

/// The control window is redrawn at most this often.
const CONTROL_INTERVAL: Duration = Duration::from_millis(33);
/// A lost input is reopened this often.
const INPUT_RETRY: Duration = Duration::from_secs(2);

/// Blit from the renderer's output texture to a surface, optionally with
/// the overlay's texture composited over it.
struct Blit {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    overlay_pipeline: wgpu::RenderPipeline,
    overlay_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
}

impl Blit {
    fn new(gpu: &Gpu, format: wgpu::TextureFormat) -> Result<Self, crate::render::PipelineError> {
        let (layout, pl) = layouts(gpu, "blit", &[texture_entry(0, true), sampler_entry(1)]);
        let source = crate::preset::shader::internal(include_str!("../../shaders/blit.wgsl"));
        let pipeline = create_pipeline(gpu, &pl, "shaders/blit.wgsl", &source, format)?;
        let (overlay_layout, opl) = layouts(
            gpu,
            "blit overlay",
            &[
                texture_entry(0, true),
                sampler_entry(1),
                texture_entry(2, false),
            ],
        );
        let overlay_pipeline = crate::render::pass::create_pipeline_entry(
            gpu,
            &opl,
            "shaders/blit.wgsl",
            &source,
            format,
            "fs_overlay",
        )?;
        let sampler = linear_sampler(gpu, "blit");
        Ok(Self {
            pipeline,
            layout,
            overlay_pipeline,
            overlay_layout,
            sampler,
        })
    }

    /// The overlay's texture (surface format, surface size) and the bind
    /// group compositing it over `view`.
    fn overlay_target(
        &self,
        gpu: &Gpu,
        view: &wgpu::TextureView,
        size: [u32; 2],
        format: wgpu::TextureFormat,
    ) -> OverlayTarget {
        let texture = crate::render::pass::texture_2d(
            gpu,
            "overlay",
            size,
            format,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        let ui_view = texture.create_view(&Default::default());
        let bind = bind_group(
            gpu,
            "blit overlay",
            &self.overlay_layout,
            [
                wgpu::BindingResource::TextureView(view),
                wgpu::BindingResource::Sampler(&self.sampler),
                wgpu::BindingResource::TextureView(&ui_view),
            ],
        );
        OverlayTarget {
            view: ui_view,
            bind,
        }
    }

    fn bind(&self, gpu: &Gpu, view: &wgpu::TextureView) -> wgpu::BindGroup {
        bind_group(
            gpu,
            "blit",
            &self.layout,
            [
                wgpu::BindingResource::TextureView(view),
                wgpu::BindingResource::Sampler(&self.sampler),
            ],
        )
    }
}

/// A window with its surface.
struct Output {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
}

impl Output {
    fn configure(
        window: Arc<Window>,
        surface: wgpu::Surface<'static>,
        gpu: &Gpu,
    ) -> anyhow::Result<Self> {
        let size = window.inner_size();
        let caps = surface.get_capabilities(&gpu.adapter);
        // A non-sRGB format: the output texture already holds display values
        // (and egui prefers one).
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
        Ok(Self {
            window,
            surface,
            config,
        })
    }

    fn resize(&mut self, gpu: &Gpu, size: winit::dpi::PhysicalSize<u32>) {
        self.config.width = size.width.max(1);
        self.config.height = size.height.max(1);
        self.surface.configure(&gpu.device, &self.config);
    }

    /// The next surface texture; reconfigures a lost or outdated surface.
    fn frame(&self, gpu: &Gpu) -> Option<wgpu::SurfaceTexture> {
        match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => Some(t),
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&gpu.device, &self.config);
                None
            }
            _ => None,
        }
    }

    fn size(&self) -> [u32; 2] {
        [self.config.width, self.config.height]
    }

    fn place(&self) -> Option<WindowPlace> {
        let pos = self.window.outer_position().ok()?;
        let size = self.window.inner_size();
        Some(WindowPlace {
            x: pos.x,
            y: pos.y,
            width: size.width,
            height: size.height,
        })
    }
}

/// The one-window overlay's own texture and its composite bind group.
struct OverlayTarget {
    view: wgpu::TextureView,
    bind: wgpu::BindGroup,
}

struct Running {
    projector: Output,
    control: Option<(Output, EguiLayer)>,
    overlay: Option<(EguiLayer, OverlayTarget)>,
    overlay_visible: bool,
    /// When the overlay's texture was last redrawn, and how often it may be.
    overlay_at: Instant,
    overlay_interval: Duration,
    renderer: Renderer,
    blit: Blit,
    projector_blit: wgpu::BindGroup,
}

/// What a key does besides commands to the show.
enum KeyAction {
    Show(Command),
    Quit,
    ToggleOverlay,
    ToggleFullscreen,
    Go,
}

/// The keyboard map (the same in both windows; see `ui::help::KEYS`).
fn key_action(event: &KeyEvent, mods: ModifiersState) -> Option<KeyAction> {
    if event.state != ElementState::Pressed {
        return None;
    }
    Some(match &event.logical_key {
        Key::Named(NamedKey::Tab) => KeyAction::ToggleOverlay,
        Key::Named(NamedKey::Enter) => KeyAction::Go,
        Key::Named(NamedKey::ArrowRight) => KeyAction::Show(Command::Step(1)),
        Key::Named(NamedKey::ArrowLeft) => KeyAction::Show(Command::Step(-1)),
        Key::Named(NamedKey::ArrowUp) => KeyAction::Show(Command::Nudge(0.01)),
        Key::Named(NamedKey::ArrowDown) => KeyAction::Show(Command::Nudge(-0.01)),
        Key::Named(NamedKey::Space) => KeyAction::Show(Command::ToggleFreeze),
        Key::Character(c) => match c.to_lowercase().as_str() {
            "q" if mods.control_key() => KeyAction::Quit,
            "b" => KeyAction::Show(Command::ToggleBlackout),
            "f" => KeyAction::ToggleFullscreen,
            "t" => KeyAction::Show(Command::Tap),
            "r" => KeyAction::Show(Command::Resync),
            "a" => KeyAction::Show(Command::AutoTempo),
            // Also the numeric keypad's * and /.
            "*" => KeyAction::Show(Command::DoubleTempo),
            "/" => KeyAction::Show(Command::HalveTempo),
            // Toggles: `LiveApp::apply` flips the current state.
            "l" => KeyAction::Show(Command::SetLimiter(true)),
            "p" => KeyAction::Show(Command::SetlistPlay(true)),
            "c" => KeyAction::Show(Command::SetCalibration(true)),
            _ => return None,
        },
        _ => return None,
    })
}

/// The winit application.
pub struct LiveApp {
    options: LiveOptions,
    analysis: AnalysisThread,
    clock: Arc<AudioClock>,
    feed: Option<FeedHandle>,
    output_latency: f64,
    show: Show,
    surface: ui::Surface,
    status: ui::Status,
    settings: Settings,
    settings_path: Option<PathBuf>,
    recorder: Option<super::record::RecordSender>,
    /// Music time of the frame being drawn: the smoothed show clock
    /// ([`smooth_show_time`]), once running; `--record-events` records it.
    show_clock: Option<f64>,
    running: Option<Running>,
    error: Option<anyhow::Error>,
    started: Instant,
    /// Seconds from launch, and from `started`, to the first presented frame.
    first_present: Option<(f64, f64)>,
    last_frame: Instant,
    control_at: Instant,
    control_interval: Duration,
    input_retry_at: Instant,
    errors_reported: (u64, Instant),
    frames: u64,
    mods: ModifiersState,
    /// The input gain the analysis thread has (dB); sent only on change.
    gain_sent_db: f32,
    /// The Web Audio rows' switch last sent to the analysis thread.
    web_audio_sent: Option<bool>,
    /// Presets with a thumbnail, by id, with the folder fingerprint it was made from.
    thumbnails_done: HashMap<String, u64>,
    /// Live input + calibration: the click stream, its clock and the input
    /// clock's value when it started (click k sounds at input time offset + k).
    click_out: Option<(FeedHandle, Arc<AudioClock>, f64)>,
    /// Projector frame times (ms) after the first 2 s, for the summary.
    frame_times: Vec<f32>,
    /// Summed ms after the first 2 s: encode + submit the frame, acquire the
    /// surface texture, blit (+ overlay), present (waits for the GPU and
    /// copies to the window system).
    phases: [f64; 4],
    /// Test hook (`SONOLUX_LOSE_DEVICE_AFTER_FRAMES`): destroy the GPU device after this many frames.
    lose_device_at: Option<u64>,
    /// Frames to render before quitting (for tests and screenshots).
    pub frame_limit: Option<u64>,
    watcher: Option<crate::preset::watch::PresetWatcher>,
}

/// What the live app is built from.
pub struct LiveParts {
    /// The analysis thread.
    pub analysis: AnalysisThread,
    /// The audio clock.
    pub clock: Arc<AudioClock>,
    /// Keeps the audio stream alive.
    pub feed: FeedHandle,
    /// Output latency of the playback device (s).
    pub output_latency: f64,
    /// Description of the audio source.
    pub source: String,
    /// The show (presets, setlist).
    pub show: Show,
    /// Settings loaded at start.
    pub settings: Settings,
    /// Where they are saved on exit.
    pub settings_path: Option<PathBuf>,
    /// `--record-events`: presented frames go here.
    pub recorder: Option<super::record::RecordSender>,
    /// Names of the input devices, listed before any stream was opened
    /// (listing opens every device, which is best not done while one of
    /// them streams).
    pub input_devices: Vec<String>,
}

impl LiveApp {
    /// Builds the app around a running analysis thread and a show.
    pub fn new(options: LiveOptions, parts: LiveParts) -> Self {
        let lib = parts.show.presets();
        let _ = std::fs::create_dir_all(&lib.user);
        let watcher = match crate::preset::watch::PresetWatcher::new(&[&lib.builtin, &lib.user]) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("preset hot reload is off: {e}");
                None
            }
        };
        let status = ui::Status {
            audio_source: parts.source,
            input_devices: parts.input_devices,
            ..Default::default()
        };
        let surface = ui::Surface::new(parts.settings.panels.clone());
        let now = Instant::now();
        Self {
            watcher,
            frame_limit: options.frames,
            options,
            analysis: parts.analysis,
            clock: parts.clock,
            feed: Some(parts.feed),
            output_latency: parts.output_latency,
            show: parts.show,
            surface,
            status,
            settings: parts.settings,
            settings_path: parts.settings_path,
            recorder: parts.recorder,
            show_clock: None,
            running: None,
            error: None,
            started: now,
            first_present: None,
            last_frame: now,
            control_at: now,
            control_interval: CONTROL_INTERVAL,
            input_retry_at: now,
            errors_reported: (0, now),
            frames: 0,
            mods: ModifiersState::empty(),
            gain_sent_db: 0.0,
            web_audio_sent: None,
            thumbnails_done: HashMap::new(),
            click_out: None,
            frame_times: Vec::new(),
            phases: [0.0; 4],
            lose_device_at: std::env::var("SONOLUX_LOSE_DEVICE_AFTER_FRAMES")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    /// Runs the event loop until a window closes.
    pub fn run(mut self, mut event_loop: EventLoop<()>) -> anyhow::Result<()> {
        // `run_app` would exit the process on X11; run on demand so the
        // summary prints and the audio stream shuts down cleanly.
        use winit::platform::run_on_demand::EventLoopExtRunOnDemand;
        event_loop.run_app_on_demand(&mut self)?;
        self.save_settings();
        // Release the windows and GPU before the audio and analysis threads.
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
        if let Some((launch, window)) = self.first_present {
            println!(
                "start-up: first frame presented {launch:.2} s after launch: {:.2} s before the show window was asked for (settings, presets, audio decode, analysis thread), {window:.2} s for the window, GPU device and pipelines",
                launch - window
            );
        }
        if !self.frame_times.is_empty() {
            let mut t = self.frame_times.clone();
            t.sort_by(f32::total_cmp);
            let at = |p: f64| t[((t.len() - 1) as f64 * p).round() as usize];
            let mean = t.iter().sum::<f32>() / t.len() as f32;
            println!(
                "projector after 2 s: mean {mean:.2} ms ({:.1} fps), median {:.2} ms, p95 {:.2} ms; surface {:.1} ms a draw",
                1000.0 / mean.max(1e-3),
                at(0.5),
                at(0.95),
                self.status.control_ms
            );
            let n = t.len() as f64;
            let [render, acquire, blit, present] = self.phases.map(|v| v / n);
            println!(
                "projector time per frame: render (encode+submit) {render:.2} ms, acquire {acquire:.2} ms, blit/overlay {blit:.2} ms, present {present:.2} ms"
            );
        }
        self.feed = None;
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn save_settings(&mut self) {
        let Some(path) = &self.settings_path else {
            return;
        };
        let s = &mut self.settings;
        if let Some(name) = &self.options.input {
            s.input = (name != "default").then(|| name.clone());
        }
        s.preset = Some(self.show.shown_id().to_owned());
        s.setlist = self.show.setlist.as_ref().and_then(|l| l.path.clone());
        s.latency_ms = self.show.latency_ms;
        s.transition = Some(self.show.transition);
        s.panels = self.surface.layout.clone();
        if let Some(r) = &self.running {
            s.projector = r.projector.place();
            s.control = r.control.as_ref().and_then(|(o, _)| o.place());
        }
        if let Err(e) = s.save(path) {
            tracing::warn!("settings not saved to {}: {e:#}", path.display());
        }
    }

    fn start(&mut self, el: &ActiveEventLoop) -> anyhow::Result<Running> {
        let handles: Vec<winit::monitor::MonitorHandle> = el.available_monitors().collect();
        let infos: Vec<monitors::MonitorInfo> = handles
            .iter()
            .map(|m| monitors::MonitorInfo {
                name: m.name().unwrap_or_default(),
                position: [m.position().x, m.position().y],
                size: [m.size().width, m.size().height],
            })
            .collect();
        let (place, warning) = monitors::choose(&infos, self.options.monitor);
        if let Some(w) = warning {
            self.show.message(Level::Warning, w);
        }
        let mode = match self.options.surface {
            SurfaceMode::Auto if place.separate => SurfaceMode::Window,
            SurfaceMode::Auto => SurfaceMode::Overlay,
            m => m,
        };
        let mut attrs = Window::default_attributes()
            .with_title("sonolux")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.options.size[0],
                self.options.size[1],
            ));
        if self.options.fullscreen {
            attrs = attrs.with_fullscreen(Some(Fullscreen::Borderless(
                handles.get(place.projector).cloned(),
            )));
        } else if let Some(p) = self
            .settings
            .projector
            .filter(|_| self.options.restore_windows)
        {
            attrs = attrs.with_position(winit::dpi::PhysicalPosition::new(p.x, p.y));
        } else {
            attrs = attrs.with_position(winit::dpi::PhysicalPosition::new(0, 0));
        }
        let window = Arc::new(el.create_window(attrs)?);
        if self.options.fullscreen {
            window.set_cursor_visible(false);
        }
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let surface = instance.create_surface(window.clone())?;
        let gpu = Gpu::with_instance(instance.clone(), Some(&surface))?;
        let projector = Output::configure(window, surface, &gpu)?;
        let blit = Blit::new(&gpu, projector.config.format)?;
        let mut renderer = Renderer::new(
            gpu.clone(),
            self.show.current.preset.clone(),
            projector.size(),
        )?;
        renderer.adopt_show(&mut self.show);
        // Don't stall every frame on the flash measurement: judge it a frame late.
        renderer.pipelined = true;
        let control = if mode == SurfaceMode::Window {
            let size = self.options.control_size;
            let mut attrs = Window::default_attributes()
                .with_title("sonolux control")
                .with_inner_size(winit::dpi::PhysicalSize::new(size[0], size[1]));
            attrs = match self
                .settings
                .control
                .filter(|_| self.options.restore_windows)
            {
                Some(p) => attrs.with_position(winit::dpi::PhysicalPosition::new(p.x, p.y)),
                None => {
                    let m = infos.get(place.control);
                    let [x, y] = if place.separate {
                        m.map_or([0, 0], |m| m.position)
                    } else {
                        // One screen: beside the projector window.
                        [self.options.size[0] as i32 + 16, 0]
                    };
                    attrs.with_position(winit::dpi::PhysicalPosition::new(x, y))
                }
            };
            let cw = Arc::new(el.create_window(attrs)?);
            let cs = instance.create_surface(cw.clone())?;
            let out = Output::configure(cw.clone(), cs, &gpu)?;
            let layer = EguiLayer::new(&gpu, &cw, out.config.format, renderer.output_view());
            Some((out, layer))
        } else {
            None
        };
        let overlay = (mode == SurfaceMode::Overlay).then(|| {
            let layer = EguiLayer::new(
                &gpu,
                &projector.window,
                projector.config.format,
                renderer.output_view(),
            );
            let target = blit.overlay_target(
                &gpu,
                renderer.output_view(),
                projector.size(),
                projector.config.format,
            );
            (layer, target)
        });
        let projector_blit = blit.bind(&gpu, renderer.output_view());
        tracing::info!(
            "live: {} on {}x{} ({}), surface: {}",
            renderer.preset().spec.name,
            projector.config.width,
            projector.config.height,
            self.status.audio_source,
            match mode {
                SurfaceMode::Window => "control window",
                SurfaceMode::Overlay => "overlay (Tab)",
                _ => "none",
            }
        );
        Ok(Running {
            projector,
            control,
            overlay,
            overlay_visible: self.options.overlay_visible,
            overlay_at: Instant::now(),
            overlay_interval: CONTROL_INTERVAL,
            renderer,
            blit,
            projector_blit,
        })
    }

    fn apply(&mut self, el: &ActiveEventLoop, action: KeyAction) {
        match action {
            KeyAction::Quit => el.exit(),
            KeyAction::ToggleOverlay => {
                if let Some(r) = &mut self.running {
                    r.overlay_visible = !r.overlay_visible;
                }
            }
            KeyAction::ToggleFullscreen => {
                if let Some(r) = &self.running {
                    let w = &r.projector.window;
                    let full = w.fullscreen().is_some();
                    w.set_fullscreen((!full).then_some(Fullscreen::Borderless(None)));
                    w.set_cursor_visible(full);
                }
            }
            KeyAction::Go => {
                if self.show.cued.is_some() {
                    self.show.apply(Command::Go);
                }
            }
            KeyAction::Show(c) => {
                // Toggles the key map cannot know the state of.
                let c = match c {
                    Command::SetLimiter(_) => Command::SetLimiter(!self.show.limiter),
                    Command::SetlistPlay(_) => {
                        Command::SetlistPlay(!self.show.setlist.as_ref().is_some_and(|s| s.playing))
                    }
                    Command::SetCalibration(_) => Command::SetCalibration(!self.show.calibrating),
                    c => c,
                };
                self.show.apply(c);
            }
        }
    }

    /// Reloads after an edit; the show keeps the running version on error.
    fn hot_reload(&mut self) {
        if !self.watcher.as_mut().is_some_and(|w| w.poll()) {
            return;
        }
        self.show.reload();
        // Thumbnails of changed presets are rendered again.
        let lib = self.show.presets().clone();
        self.thumbnails_done.retain(|id, fp| {
            lib.dir_of(id)
                .is_some_and(|d| crate::preset::fingerprint(&d) == *fp)
        });
    }

    /// Sends the show's requests to the analysis thread and the audio input.
    fn forward_requests(&mut self) {
        for o in self.show.take_beat_overrides() {
            self.analysis.send(o);
        }
        for name in self.show.take_input_requests() {
            self.open_input(name);
        }
        if self.show.input_gain_db != self.gain_sent_db {
            self.gain_sent_db = self.show.input_gain_db;
            self.analysis.set_gain_db(self.gain_sent_db);
        }
    }

    fn open_input(&mut self, name: Option<String>) {
        match crate::audio::feed::capture_on(name.as_deref(), Some(self.clock.clone())) {
            Ok((feed, handle)) => {
                self.analysis.replace_input(feed.consumer);
                if let Some(old) = self.feed.replace(handle) {
                    old.retire();
                }
                self.output_latency = 0.0;
                self.options.input = Some(name.clone().unwrap_or_else(|| "default".into()));
                self.settings.input = name;
                self.status.audio_source = feed.description.clone();
                self.show
                    .message(Level::Info, format!("audio: {}", feed.description));
            }
            Err(e) => self
                .show
                .message(Level::Error, format!("input not opened: {e}")),
        }
    }

    /// Calibration on live input: plays the clicks on their own output
    /// stream while calibrating. Returns the show time of click 0 (0 when the
    /// click is in the file playback, which shares the show's clock).
    fn calibration_clicks(&mut self) -> f64 {
        let live = self.options.input.is_some();
        if !(self.show.calibrating && live) {
            if let Some((h, _, _)) = self.click_out.take() {
                h.retire();
            }
            return 0.0;
        }
        if self.click_out.is_none() {
            let rate = self.clock.sample_rate.load(Ordering::Relaxed) as u32;
            match crate::audio::feed::calibration_clicks(rate.max(8000)) {
                Ok((clock, h)) => {
                    let offset = self.clock.now() - clock.now();
                    self.click_out = Some((h, clock, offset));
                }
                Err(e) => {
                    self.show.message(
                        Level::Error,
                        format!("calibration needs an audio output: {e}"),
                    );
                    self.show.apply(Command::SetCalibration(false));
                    return 0.0;
                }
            }
        }
        // The click stream's device buffer (the playback default).
        self.click_out.as_ref().map_or(0.0, |(_, _, o)| o + 0.02)
    }

    /// Live input lost: reopen it every 2 s. Audio errors: at most one line a second.
    fn watch_audio(&mut self) {
        let lost = self.analysis.input_lost();
        if lost && !self.status.input_lost {
            self.show.message(
                Level::Error,
                "audio input lost: visuals run on, retrying every 2 s",
            );
        }
        if !lost && self.status.input_lost {
            self.show.message(Level::Info, "audio input back");
        }
        self.status.input_lost = lost;
        if lost && self.input_retry_at.elapsed() >= INPUT_RETRY {
            self.input_retry_at = Instant::now();
            let name = self.options.input.clone().filter(|n| n != "default");
            // Let go of the dead stream first (without waiting on it).
            if let Some(old) = self.feed.take() {
                old.retire();
            }
            if let Ok((feed, handle)) =
                crate::audio::feed::capture_on(name.as_deref(), Some(self.clock.clone()))
            {
                self.analysis.replace_input(feed.consumer);
                self.feed = Some(handle);
                tracing::info!("audio input reopened: {}", feed.description);
            }
        }
        let errors = self.clock.errors.load(Ordering::Relaxed);
        self.status.audio_errors = errors;
        if errors > self.errors_reported.0
            && self.errors_reported.1.elapsed() >= Duration::from_secs(1)
        {
            let last = self
                .clock
                .last_error
                .try_lock()
                .map(|s| s.clone())
                .unwrap_or_default();
            let n = errors - self.errors_reported.0;
            self.show.message(
                Level::Warning,
                format!(
                    "{n} audio stream error{} (last: {last})",
                    if n == 1 { "" } else { "s" }
                ),
            );
            self.errors_reported = (errors, Instant::now());
        }
        self.status.dropped_samples = self.clock.overruns.load(Ordering::Relaxed);
        let inverted = self.clock.inverted_leg.load(Ordering::Relaxed);
        if inverted && !self.status.inverted_leg {
            self.show.message(
                Level::Warning,
                "audio input: channel 2 arrives inverted (a lead wired in reverse, a phase \
                 switch): taking it inverted, so the centre does not cancel",
            );
        }
        self.status.inverted_leg = inverted;
    }

    fn redraw_projector(&mut self, el: &ActiveEventLoop) {
        // GPU device lost: rebuild windows, device and renderer, reload the
        // current preset (the show state is untouched).
        if self
            .running
            .as_ref()
            .is_some_and(|r| r.renderer.gpu.lost.load(Ordering::Relaxed))
        {
            self.running = None;
            match self.start(el) {
                Ok(r) => {
                    self.show
                        .message(Level::Error, "GPU device lost: renderer rebuilt");
                    r.projector.window.request_redraw();
                    self.running = Some(r);
                }
                Err(e) => {
                    self.error = Some(e.context("GPU device lost and not recovered"));
                    el.exit();
                }
            }
            return;
        }
        // Test hook: lose the device on purpose, once, after N frames.
        if self.lose_device_at.is_some_and(|n| self.frames >= n)
            && let Some(r) = &self.running
        {
            self.lose_device_at = None;
            r.renderer.gpu.device.destroy();
        }
        if let Some(secs) = self.options.freeze_after
            && self.started.elapsed().as_secs_f64() >= secs
        {
            self.options.freeze_after = None;
            self.show.frozen = true;
        }
        self.hot_reload();
        let now = Instant::now();
        let delta = (now - self.last_frame).as_secs_f32();
        self.last_frame = now;
        // Time of the music when this frame will be on screen: the audio
        // clock, minus what is still in the output buffer, plus about one
        // frame of presentation delay and the VJ's offset.
        // Playback (a non-zero assumed latency) uses what the output stream
        // measured; live input has none, even on a clock that played before.
        let output_latency = if self.output_latency > 0.0 {
            self.clock.output_latency().unwrap_or(self.output_latency)
        } else {
            0.0
        };
        // The frame interval stands for the presentation delay; a stalled
        // frame (0.8 s while the first pipelines compile) does not make the
        // next one that late.
        let present_delay = f64::from(delta).min(MAX_PRESENT_DELAY_S);
        let target =
            self.clock.now() - output_latency + present_delay + self.show.latency_ms / 1000.0;
        let show_time = smooth_show_time(self.show_clock, f64::from(delta), target);
        self.show_clock = Some(show_time);
        let frame = self.analysis.latest();
        self.show.update(&frame, show_time, delta);
        self.forward_requests();
        self.watch_audio();
        self.clock
            .click
            .store(self.show.calibrating, Ordering::Relaxed);
        let click_offset = self.calibration_clicks();
        let Some(r) = &mut self.running else { return };
        r.renderer.follow(&mut self.show);
        // The Web Audio rows only while a preset on screen reads them.
        let web_audio = r.renderer.reads_web_audio();
        if self.web_audio_sent != Some(web_audio) {
            self.web_audio_sent = Some(web_audio);
            self.analysis.set_web_audio(web_audio);
        }
        // Calibration: the patch is lit for 100 ms from each whole second of
        // music time, when the click that was played then is heard.
        r.renderer.calibration_patch =
            if self.show.calibrating && (show_time - click_offset).rem_euclid(1.0) < 0.1 {
                1.0
            } else {
                0.0
            };
        let t_render = Instant::now();
        if !self.show.frozen {
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
        self.status.limiter_engaged = r.renderer.limiter.is_engaged();
        self.status.frames_limited = r.renderer.limiter.frames_limited;
        self.status.transitions_1s = r.renderer.limiter.recent_transitions(show_time);
        self.status.transitions_5s = r.renderer.limiter.transitions_in_5s();
        self.status.holding_pattern = r.renderer.limiter.is_holding_pattern();
        self.status.output_size = r.renderer.size();
        let [w, h] = r.renderer.size();
        self.status.preview_aspect = w as f32 / h.max(1) as f32;
        self.status.push_frame_time(delta * 1000.0);
        if self.started.elapsed() > Duration::from_secs(2) {
            self.frame_times.push(delta * 1000.0);
        }
        self.status.onsets = self.analysis.snapshot.lock().map(|s| s.onsets).unwrap_or(0);
        let t_acquire = Instant::now();
        let Some(texture) = r.projector.frame(&r.renderer.gpu) else {
            return;
        };
        let t_blit = Instant::now();
        let view = texture.texture.create_view(&Default::default());
        let gpu = r.renderer.gpu.clone();
        // One-window overlay: egui draws into its own texture at most every
        // `overlay_interval` (kept near 1/10 of the time, as the control
        // window); every frame composites it over the picture in the blit.
        let overlay_on = r.overlay.is_some() && r.overlay_visible;
        if let Some((layer, target)) = r.overlay.as_mut() {
            if !overlay_on {
                // Hidden: keep egui's input from piling up.
                let _ = layer.state.take_egui_input(&r.projector.window);
            } else if r.overlay_at.elapsed() >= r.overlay_interval {
                r.overlay_at = Instant::now();
                let status = ui::Status {
                    preview: None,
                    ..self.status.clone()
                };
                let show = &self.show;
                let surface = &mut self.surface;
                let mut commands = Vec::new();
                surface.overlay = true;
                layer.draw(
                    &gpu,
                    &r.projector.window,
                    &target.view,
                    r.projector.size(),
                    wgpu::Color::TRANSPARENT,
                    |ui| {
                        commands = surface.ui(ui, show, &status);
                    },
                );
                for c in commands {
                    self.show.apply(c);
                }
                gpu.wait();
                let cost = r.overlay_at.elapsed();
                self.status.control_ms = cost.as_secs_f32() * 1000.0;
                r.overlay_interval = CONTROL_INTERVAL.max(cost * 9);
            }
        }
        let mut encoder = gpu.encoder("blit");
        match r.overlay.as_ref().filter(|_| overlay_on) {
            Some((_, target)) => fullscreen(
                &mut encoder,
                &view,
                &r.blit.overlay_pipeline,
                &target.bind,
                "blit overlay",
            ),
            None => fullscreen(
                &mut encoder,
                &view,
                &r.blit.pipeline,
                &r.projector_blit,
                "blit",
            ),
        }
        gpu.queue.submit([encoder.finish()]);
        let t_present = Instant::now();
        gpu.queue.present(texture);
        if let Some(r) = &self.recorder {
            r.frame(self.show_clock.unwrap_or(0.0));
        }
        if self.frames == 0 {
            let window = self.started.elapsed().as_secs_f64();
            let launch = super::since_launch();
            tracing::info!(
                "first frame presented {launch:.2} s after launch ({window:.2} s after the show window was asked for)"
            );
            self.first_present = Some((launch, window));
        }
        if self.started.elapsed() > Duration::from_secs(2) {
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
            let now = Instant::now();
            let p = &mut self.phases;
            p[0] += ms(t_render, t_acquire);
            p[1] += ms(t_acquire, t_blit);
            p[2] += ms(t_blit, t_present);
            p[3] += ms(t_present, now);
        }
        self.frames += 1;
        if self.frames.is_multiple_of(15) {
            let f = &self.show.frame;
            r.projector.window.set_title(&format!(
                "sonolux - {} - {:.1} BPM - {:.0} fps{}{}",
                self.show.current.preset.spec.name,
                f.rhythm.bpm,
                self.status.fps,
                if self.status.limiter_engaged {
                    " [FLASH LIMIT]"
                } else {
                    ""
                },
                if self.show.blackout {
                    " [BLACKOUT]"
                } else {
                    ""
                },
            ));
        }
        self.maybe_thumbnail();
        let has_control = self.running.as_ref().is_some_and(|r| r.control.is_some());
        if has_control && self.control_at.elapsed() >= self.control_interval {
            self.control_at = Instant::now();
            self.redraw_control();
            // Keep the surface's share of the (shared) GPU time near 1/10, so
            // the projector keeps its rate on a slow GPU: on lavapipe a
            // 1280x800 egui frame costs tens of ms, on a real GPU about one.
            let cost = self.control_at.elapsed();
            self.status.control_ms = cost.as_secs_f32() * 1000.0;
            self.control_interval = CONTROL_INTERVAL.max(cost * 9);
        }
        let out_of_time = self
            .options
            .duration
            .is_some_and(|d| self.started.elapsed().as_secs_f64() >= d);
        if self.frame_limit.is_some_and(|n| self.frames >= n) || out_of_time {
            if let Some(r) = &mut self.running
                && let Some(path) = &self.options.screenshot
                && let Err(e) = save_screenshot(&mut r.renderer, path)
            {
                tracing::error!("screenshot failed: {e:#}");
            }
            el.exit();
        }
    }

    /// Renders one missing thumbnail (at most one per frame, only while a
    /// surface can show it).
    fn maybe_thumbnail(&mut self) {
        let Some(r) = &self.running else { return };
        let Some(ctx) = r
            .control
            .as_ref()
            .map(|(_, l)| l.ctx().clone())
            .or_else(|| {
                r.overlay
                    .as_ref()
                    .filter(|_| r.overlay_visible)
                    .map(|(l, _)| l.ctx().clone())
            })
        else {
            return;
        };
        let Some((id, dir)) = self
            .show
            .library
            .iter()
            .find(|e| e.error.is_none() && !self.thumbnails_done.contains_key(&e.id))
            .map(|e| (e.id.clone(), e.dir.clone()))
        else {
            return;
        };
        let fp = crate::preset::fingerprint(&dir);
        self.thumbnails_done.insert(id.clone(), fp);
        let preset = match crate::preset::Preset::load(&dir) {
            Ok(p) => p,
            Err(_) => return, // the library lists it broken already
        };
        match crate::render::thumbnail::render_thumbnail(&r.renderer.gpu, preset) {
            Ok(px) if !px.is_empty() => {
                self.surface.set_thumbnail(
                    &ctx,
                    &id,
                    crate::render::thumbnail::THUMBNAIL_SIZE,
                    &px,
                );
            }
            Ok(_) => {}
            Err(e) => self
                .show
                .message(Level::Error, format!("thumbnail of {id}: {e}")),
        }
    }

    fn redraw_control(&mut self) {
        let Some(r) = &mut self.running else { return };
        let Some((out, layer)) = &mut r.control else {
            return;
        };
        let gpu = r.renderer.gpu.clone();
        let Some(texture) = out.frame(&gpu) else {
            return;
        };
        let view = texture.texture.create_view(&Default::default());
        let status = ui::Status {
            preview: Some(layer.preview),
            ..self.status.clone()
        };
        let show = &self.show;
        let surface = &mut self.surface;
        surface.overlay = false;
        let mut commands = Vec::new();
        layer.draw(
            &gpu,
            &out.window,
            &view,
            out.size(),
            wgpu::Color::BLACK,
            |ui| {
                commands = surface.ui(ui, show, &status);
            },
        );
        gpu.queue.present(texture);
        for c in commands {
            self.show.apply(c);
        }
    }

    fn resize_projector(&mut self, size: winit::dpi::PhysicalSize<u32>) {
        let Some(r) = &mut self.running else { return };
        let gpu = r.renderer.gpu.clone();
        r.projector.resize(&gpu, size);
        r.renderer.resize(r.projector.size());
        r.projector_blit = r.blit.bind(&gpu, r.renderer.output_view());
        if let Some((_, layer)) = &mut r.control {
            layer.repoint_preview(&gpu, r.renderer.output_view());
        }
        if let Some((layer, target)) = &mut r.overlay {
            layer.repoint_preview(&gpu, r.renderer.output_view());
            *target = r.blit.overlay_target(
                &gpu,
                r.renderer.output_view(),
                r.projector.size(),
                r.projector.config.format,
            );
            r.overlay_interval = Duration::ZERO;
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
                r.projector.window.request_redraw();
                self.running = Some(r);
            }
            Err(e) => {
                self.error = Some(e);
                el.exit();
            }
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, id: WindowId, event: WindowEvent) {
        let Some(r) = &mut self.running else { return };
        let is_projector = id == r.projector.window.id();
        // egui sees the events of the window it draws on.
        let mut consumed = false;
        if !matches!(event, WindowEvent::RedrawRequested) {
            if is_projector {
                if let Some((layer, _)) = r.overlay.as_mut().filter(|_| r.overlay_visible) {
                    let resp = layer.state.on_window_event(&r.projector.window, &event);
                    consumed = resp.consumed && layer.ctx().egui_wants_keyboard_input();
                }
            } else if let Some((out, layer)) = &mut r.control
                && id == out.window.id()
            {
                let resp = layer.state.on_window_event(&out.window, &event);
                consumed = resp.consumed && layer.ctx().egui_wants_keyboard_input();
            }
        }
        match event {
            WindowEvent::CloseRequested => el.exit(),
            WindowEvent::Resized(size) if is_projector => self.resize_projector(size),
            WindowEvent::Resized(size) => {
                if let Some((out, _)) = &mut r.control {
                    out.resize(&r.renderer.gpu, size);
                }
            }
            WindowEvent::ModifiersChanged(m) => self.mods = m.state(),
            WindowEvent::KeyboardInput { event, .. } if !consumed => {
                if let Some(a) = key_action(&event, self.mods) {
                    self.apply(el, a);
                }
            }
            WindowEvent::RedrawRequested if is_projector => self.redraw_projector(el),
            _ => {}
        }
    }

    fn about_to_wait(&mut self, _el: &ActiveEventLoop) {
        if let Some(r) = &self.running {
            r.projector.window.request_redraw();
        }
    }
}

/// The most a frame's presentation delay is taken to be (s).
const MAX_PRESENT_DELAY_S: f64 = 0.05;

/// How far the shown time may run ahead of the audio clock between its
/// blocks (s): more than a block, and more than the gap a sound server's
/// burst leaves, but not so much that a stalled stream (at start-up, or a
/// stalled server) lets the picture run on without sound and then freeze
/// while the sound catches up.
const MAX_LEAD_S: f64 = 0.1;

/// A difference between the shown time and the audio clock past which the
/// shown time no longer glides but jumps (the audio jumped ahead: a seek,
/// a new stream) or holds (the audio stalled) (s): far more than the
/// clock's block-to-block jitter, well under what a viewer sees as a lag.
const JUMP_S: f64 = 0.25;

/// The share of the difference from the audio clock that each frame
/// corrects: a tenth, so a block's step (10-21 ms) is spread over ten
/// frames instead of showing as a stutter.
const CORRECTION: f64 = 0.1;

/// The music time a frame shows: the audio clock advances in blocks (one
/// per audio callback) and frames come at uneven intervals, so `target`
/// (the clock plus the frame interval) jitters and can step back between
/// two frames. The shown time follows it smoothly instead: it advances by
/// the frame interval (but at most [`MAX_LEAD_S`] past `target`), corrected
/// by [`CORRECTION`] of the difference, and never goes back; it jumps to
/// `target` at the start and when `target` is more than [`JUMP_S`] ahead,
/// and holds while it is more than that behind (the audio stalled).
pub(crate) fn smooth_show_time(previous: Option<f64>, delta: f64, target: f64) -> f64 {
    let Some(previous) = previous else {
        return target;
    };
    let predicted = (previous + delta.max(0.0)).min(target + MAX_LEAD_S);
    if (target - predicted).abs() > JUMP_S {
        // A jump: ahead at once; behind (the audio stalled), hold until
        // the audio catches up.
        return target.max(previous);
    }
    (predicted + CORRECTION * (target - predicted)).max(previous)
}

#[cfg(test)]
mod tests {
    use super::smooth_show_time;

    #[test]
    fn the_show_clock_never_goes_back_and_stays_on_the_audio_clock() {
        // Audio arrives in 21.3 ms blocks; frames come every 12 to 21 ms.
        let block = 1024.0 / 48_000.0;
        let (mut wall, mut shown, mut raw_back) = (0.0f64, None, 0);
        let mut last_raw = f64::MIN;
        for k in 0..3000 {
            let delta = 0.012 + 0.009 * f64::from((k * 7919) % 13) / 12.0;
            wall += delta;
            let audio = (wall / block).floor() * block;
            let target = audio + delta;
            raw_back += usize::from(target < last_raw);
            last_raw = target;
            let t = smooth_show_time(shown, delta, target);
            if let Some(p) = shown {
                assert!(t >= p, "frame {k}: {t} after {p}");
            }
            // Within a block of the audio clock once settled.
            if k > 100 {
                assert!(
                    (t - (wall - block / 2.0)).abs() < block,
                    "frame {k}: {t} at {wall}"
                );
            }
            shown = Some(t);
        }
        assert!(
            raw_back > 100,
            "the unsmoothed time went back only {raw_back} times"
        );
        // A stall or a new input: it jumps.
        assert_eq!(smooth_show_time(Some(10.0), 0.016, 12.0), 12.0);
        assert_eq!(smooth_show_time(Some(10.0), 0.016, 9.0), 10.0);
        // The audio stalls (a stream starting up) while frames go on: the
        // picture waits near the sound instead of running on and then
        // freezing while the sound catches up.
        let (mut t, mut audio) = (1.0, 1.0);
        for k in 0..200 {
            if k >= 60 {
                audio += 0.016;
            }
            t = smooth_show_time(Some(t), 0.016, audio);
            assert!(
                t - audio <= 0.1 + 1e-9,
                "frame {k}: {t:.3} shown, audio at {audio:.3}"
            );
        }
    }
}
