//! `sonolux doctor`: what this machine gives sonolux, for a bug report, and
//! plain-words warnings about what will not work.

use std::path::Path;

/// One finding: a line to print, and whether it stops the show.
struct Report {
    lines: Vec<String>,
    warnings: Vec<String>,
    fatal: bool,
}

impl Report {
    fn line(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }
    fn warn(&mut self, s: impl Into<String>) {
        self.warnings.push(s.into());
    }
}

/// Prints the report; an error when sonolux cannot render here (no GPU
/// adapter at all, or no Vulkan driver on Linux).
pub fn run() -> anyhow::Result<()> {
    let mut r = Report {
        lines: Vec::new(),
        warnings: Vec::new(),
        fatal: false,
    };
    r.line(format!(
        "sonolux {} (git {})",
        env!("CARGO_PKG_VERSION"),
        env!("SONOLUX_GIT_HASH")
    ));
    r.line(format!(
        "system: {} {}, {} CPU threads",
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    gpu(&mut r);
    audio(&mut r);
    displays(&mut r);
    folders(&mut r);
    ffmpeg(&mut r);
    for l in &r.lines {
        println!("{l}");
    }
    if r.warnings.is_empty() {
        println!("\nall good");
    } else {
        println!();
        for w in &r.warnings {
            println!("warning: {w}");
        }
    }
    if r.fatal {
        anyhow::bail!("sonolux cannot render on this machine (see the warnings above)");
    }
    Ok(())
}

fn gpu(r: &mut Report) {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    if adapters.is_empty() {
        r.line("GPU: no adapter found");
    }
    let mut vulkan = false;
    let mut hardware = false;
    for a in &adapters {
        let i = a.get_info();
        vulkan |= i.backend == wgpu::Backend::Vulkan;
        hardware |= matches!(
            i.device_type,
            wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu
        );
        r.line(format!(
            "GPU: {} ({:?}, {:?}, driver {} {})",
            i.name, i.backend, i.device_type, i.driver, i.driver_info
        ));
    }
    match crate::render::Gpu::headless() {
        Ok(g) => r.line(format!("GPU sonolux would use: {}", g.describe())),
        Err(e) => {
            r.fatal = true;
            r.warn(format!("no usable GPU device: {e}"));
        }
    }
    if cfg!(target_os = "linux") && !vulkan {
        r.fatal = true;
        r.warn(
            "no Vulkan driver: install mesa-vulkan-drivers (or your GPU vendor's Vulkan driver) \
             and the Vulkan loader (libvulkan1)",
        );
    } else if !adapters.is_empty() && !hardware {
        r.warn(
            "only a software renderer (lavapipe/llvmpipe) was found: expect about 30 fps at \
             720p with simple presets; install your GPU's driver for the show",
        );
    }
}

fn audio(r: &mut Report) {
    let hosts = crate::audio::feed::hosts_and_inputs();
    if hosts.is_empty() {
        r.warn("no audio host: live input will not work (file playback still does)");
    }
    let mut any = false;
    for (host, inputs) in hosts {
        r.line(format!("audio host {host}: {} input(s)", inputs.len()));
        for i in inputs {
            any = true;
            let kind = if i.contains("monitor") || i.contains("Monitor") {
                " (monitor: captures what this computer plays)"
            } else {
                ""
            };
            r.line(format!("  input: {i}{kind}"));
        }
    }
    if !any {
        r.warn(
            "no audio input device: plug in the venue's audio (line in / USB interface), or \
             start PulseAudio/PipeWire; `sonolux run` without --input plays the demo track",
        );
    }
}

fn displays(r: &mut Report) {
    let x11 = std::env::var("DISPLAY").ok().filter(|s| !s.is_empty());
    let wayland = std::env::var("WAYLAND_DISPLAY")
        .ok()
        .filter(|s| !s.is_empty());
    r.line(format!(
        "display: X11 {}, Wayland {}",
        x11.as_deref().unwrap_or("-"),
        wayland.as_deref().unwrap_or("-")
    ));
    if x11.is_none() && wayland.is_none() {
        r.warn(
            "no display (DISPLAY/WAYLAND_DISPLAY unset): no projector window; `sonolux run` \
             renders headless to out/ instead",
        );
        return;
    }
    match monitors() {
        Ok(list) if list.is_empty() => r.warn("the display reports no monitors"),
        Ok(list) => {
            for (i, m) in list.iter().enumerate() {
                r.line(format!(
                    "  monitor {i}: {} {}x{} at {},{}",
                    m.name, m.size[0], m.size[1], m.position[0], m.position[1]
                ));
            }
            if list.len() < 2 {
                r.line("  one monitor: the VJ surface is an overlay (Tab shows it)");
            }
        }
        Err(e) => r.warn(format!("cannot open the display: {e}")),
    }
}

/// Monitors as the windowing system reports them (runs an event loop once).
fn monitors() -> anyhow::Result<Vec<crate::live::monitors::MonitorInfo>> {
    use winit::application::ApplicationHandler;
    struct Probe(Vec<crate::live::monitors::MonitorInfo>);
    impl ApplicationHandler for Probe {
        fn resumed(&mut self, el: &winit::event_loop::ActiveEventLoop) {
            self.0 = el
                .available_monitors()
                .map(|m| crate::live::monitors::MonitorInfo {
                    name: m.name().unwrap_or_else(|| "?".into()),
                    position: [m.position().x, m.position().y],
                    size: [m.size().width, m.size().height],
                })
                .collect();
            el.exit();
        }
        fn window_event(
            &mut self,
            _: &winit::event_loop::ActiveEventLoop,
            _: winit::window::WindowId,
            _: winit::event::WindowEvent,
        ) {
        }
    }
    let el = winit::event_loop::EventLoop::new()?;
    let mut probe = Probe(Vec::new());
    el.run_app(&mut probe)?;
    Ok(probe.0)
}

fn folders(r: &mut Report) {
    let lib = crate::preset::Library::locate();
    let show = |p: &Path| {
        format!(
            "{}{}",
            p.display(),
            if p.exists() { "" } else { " (not created yet)" }
        )
    };
    let builtin = crate::preset::list(&lib.builtin).len();
    let source = if crate::preset::library::checkout().is_some()
        && std::env::var_os("SONOLUX_PRESETS").is_none()
    {
        "source checkout, hot reload"
    } else {
        "embedded"
    };
    r.line(format!(
        "built-in presets: {builtin} in {} ({source})",
        lib.builtin.display()
    ));
    r.line(format!(
        "your presets: {} in {}",
        crate::preset::list(&lib.user).len(),
        show(&lib.user)
    ));
    match crate::settings::config_dir() {
        Some(d) => r.line(format!("settings: {}", show(&d))),
        None => r.warn("no settings folder (HOME unset?): settings will not be kept"),
    }
    r.line(format!(
        "cache: {}",
        show(&crate::preset::library::cache_dir())
    ));
    if builtin == 0 {
        r.warn(format!("no built-in presets in {}", lib.builtin.display()));
    }
}

fn ffmpeg(r: &mut Report) {
    match std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
    {
        Ok(o) if o.status.success() => {
            let first = String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            r.line(format!("ffmpeg: {first}"));
        }
        _ => {
            r.line("ffmpeg: not found");
            r.warn("ffmpeg not found: `render --video` will not work (PNG frames do); apt-get install ffmpeg");
        }
    }
}
