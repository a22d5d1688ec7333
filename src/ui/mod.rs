//! The VJ's control surface (egui): panels that read the [`Show`] and the
//! live [`Status`] and answer with [`Command`]s. Nothing here owns the
//! engine; nothing in `render/` or `analysis/` knows egui.
//!
//! [`Surface::ui`] lays the panels out (transport bar on top, input/tempo/
//! output on the left, parameters and modulation on the right, messages at
//! the bottom, preview with the preset browser, setlist and help in the
//! middle). A panel that panics is replaced by its error; the projector
//! never notices.

pub mod help;
pub mod input;
pub mod messages;
pub mod output;
pub mod params;
pub mod presets;
pub mod setlist;
pub mod tempo;
pub mod transport;

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::show::{Command, Show};

/// The surface's one accent colour: what the VJ must notice (the cued
/// preset, a held tempo, the beat lamps).
pub const AMBER: egui::Color32 = egui::Color32::from_rgb(255, 200, 60);

/// The surface's alarm red: what is live on the projector (the playing
/// preset and set entry) and the kick lamp.
pub const LIVE_RED: egui::Color32 = egui::Color32::from_rgb(255, 80, 60);

/// What the live app knows beyond the show: meters, devices, timing.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Projector frames per second (recent).
    pub fps: f32,
    /// Recent projector frame times (ms), oldest first.
    pub frame_times: VecDeque<f32>,
    /// The flash limiter is holding the picture now.
    pub limiter_engaged: bool,
    /// Frames the limiter has held so far.
    pub frames_limited: u64,
    /// Flash transitions (luminance or red) in the last second.
    pub transitions_1s: usize,
    /// Transitions in the last 5 s (extended-flash budget spent).
    pub transitions_5s: usize,
    /// A changing regular pattern (stripes, checks) is being held still.
    pub holding_pattern: bool,
    /// Input devices to choose from (monitor sources included).
    pub input_devices: Vec<String>,
    /// What the audio comes from now.
    pub audio_source: String,
    /// Samples dropped because the analysis fell behind.
    pub dropped_samples: u64,
    /// Errors reported by the audio callbacks.
    pub audio_errors: u64,
    /// The input device is gone (visuals run on decaying features; retried every 2 s).
    pub input_lost: bool,
    /// The input's second channel arrives in anti-phase and is taken
    /// inverted (a leg wired in reverse would cancel the centre).
    pub inverted_leg: bool,
    /// Onsets detected so far.
    pub onsets: u64,
    /// The projector's output texture, registered with egui (live only).
    pub preview: Option<egui::TextureId>,
    /// Output width / height.
    pub preview_aspect: f32,
    /// Output size in pixels.
    pub output_size: [u32; 2],
    /// What the last control-window frame cost (ms).
    pub control_ms: f32,
}

impl Status {
    /// Records one projector frame time (keeps the last 240).
    pub fn push_frame_time(&mut self, ms: f32) {
        if self.frame_times.len() >= 240 {
            self.frame_times.pop_front();
        }
        self.frame_times.push_back(ms);
        let n = self.frame_times.len().min(30);
        let mean = self.frame_times.iter().rev().take(n).sum::<f32>() / n.max(1) as f32;
        self.fps = if mean > 0.0 { 1000.0 / mean } else { 0.0 };
    }
}

/// Which sections of the surface are open; saved with the settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelLayout {
    /// Input section open.
    pub input: bool,
    /// Tempo section open.
    pub tempo: bool,
    /// Output section open.
    pub output: bool,
    /// Modulation editor open.
    pub modulation: bool,
    /// Middle tab: "presets", "setlist" or "help".
    pub tab: String,
}

impl Default for PanelLayout {
    fn default() -> Self {
        Self {
            input: true,
            tempo: true,
            output: true,
            modulation: true,
            tab: "presets".into(),
        }
    }
}

/// The surface's own state (text fields, thumbnails, panels that failed).
#[derive(Default)]
pub struct Surface {
    /// Open sections.
    pub layout: PanelLayout,
    /// Preset thumbnails by id.
    pub thumbnails: HashMap<String, egui::TextureHandle>,
    /// Browser search text.
    pub search: String,
    /// "Save as" name.
    pub save_as: String,
    /// Setlist file path field.
    pub setlist_path: String,
    /// Bars for presets added to the setlist.
    pub setlist_bars: u32,
    /// Parameter whose modulation is being edited.
    pub mod_param: Option<usize>,
    /// Fixed BPM field.
    pub fixed_bpm: f32,
    /// Drawn over the projector (one-window mode): the middle stays clear
    /// so the visuals show through, no preview.
    pub overlay: bool,
    failed: BTreeMap<&'static str, String>,
}

impl Surface {
    /// A surface with `layout`.
    pub fn new(layout: PanelLayout) -> Self {
        Self {
            layout,
            setlist_bars: 8,
            fixed_bpm: 120.0,
            ..Default::default()
        }
    }

    /// Sets (or replaces) the thumbnail of preset `id` from RGBA8 pixels.
    pub fn set_thumbnail(&mut self, ctx: &egui::Context, id: &str, size: [u32; 2], rgba: &[u8]) {
        let image =
            egui::ColorImage::from_rgba_unmultiplied([size[0] as usize, size[1] as usize], rgba);
        let handle = ctx.load_texture(format!("thumb-{id}"), image, egui::TextureOptions::LINEAR);
        self.thumbnails.insert(id.to_owned(), handle);
    }

    /// Draws the whole surface; returns the commands the VJ gave.
    pub fn ui(&mut self, ui: &mut egui::Ui, show: &Show, status: &Status) -> Vec<Command> {
        let mut out = Vec::new();
        egui::Panel::top("transport").show(ui, |ui| {
            self.guarded(ui, "transport", |s, ui| {
                transport::ui(ui, s, show, status, &mut out)
            });
        });
        egui::Panel::bottom("messages")
            .resizable(true)
            .default_size(120.0)
            .show(ui, |ui| {
                self.guarded(ui, "messages", |_, ui| messages::ui(ui, show, &mut out));
            });
        egui::Panel::left("left")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let open = self.layout.input;
                    self.layout.input = section(ui, "Input", open, |ui| {
                        self.guarded(ui, "input", |_, ui| input::ui(ui, show, status, &mut out));
                    });
                    let open = self.layout.tempo;
                    self.layout.tempo = section(ui, "Tempo", open, |ui| {
                        self.guarded(ui, "tempo", |s, ui| tempo::ui(ui, s, show, &mut out));
                    });
                    let open = self.layout.output;
                    self.layout.output = section(ui, "Output", open, |ui| {
                        self.guarded(ui, "output", |_, ui| output::ui(ui, show, status, &mut out));
                    });
                });
            });
        egui::Panel::right("right")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.guarded(ui, "parameters", |s, ui| params::ui(ui, s, show, &mut out));
                });
            });
        let central = if self.overlay {
            egui::CentralPanel::default().frame(egui::Frame::NONE)
        } else {
            egui::CentralPanel::default()
        };
        central.show(ui, |ui| {
            if !self.overlay {
                self.guarded(ui, "preview", |_, ui| preview(ui, show, status));
            }
            ui.horizontal(|ui| {
                for (tab, label) in [
                    ("presets", "Presets"),
                    ("setlist", "Setlist"),
                    ("help", "Help"),
                ] {
                    if ui.selectable_label(self.layout.tab == tab, label).clicked() {
                        self.layout.tab = tab.into();
                    }
                }
            });
            ui.separator();
            match self.layout.tab.as_str() {
                "setlist" => {
                    self.guarded(ui, "setlist", |s, ui| setlist::ui(ui, s, show, &mut out))
                }
                "help" => self.guarded(ui, "help", |_, ui| help::ui(ui)),
                _ => self.guarded(ui, "presets", |s, ui| presets::ui(ui, s, show, &mut out)),
            }
        });
        out
    }

    /// Runs one panel; if it panics, shows the panic instead of the panel
    /// from then on (the show and the other panels go on).
    pub fn guarded(
        &mut self,
        ui: &mut egui::Ui,
        name: &'static str,
        f: impl FnOnce(&mut Self, &mut egui::Ui),
    ) {
        if let Some(e) = self.failed.get(name) {
            ui.colored_label(
                egui::Color32::LIGHT_RED,
                format!("{name} panel failed: {e}"),
            );
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ui.scope(|ui| f(self, ui));
        }));
        if let Err(panic) = result {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            tracing::error!("{name} panel failed: {text}");
            self.failed.insert(name, text);
        }
    }

    /// Panels that failed, with their panic message.
    pub fn failed_panels(&self) -> &BTreeMap<&'static str, String> {
        &self.failed
    }
}

/// A collapsible section whose open state the caller keeps.
fn section(ui: &mut egui::Ui, title: &str, open: bool, body: impl FnOnce(&mut egui::Ui)) -> bool {
    let r = egui::CollapsingHeader::new(title)
        .open(Some(open))
        .show(ui, body);
    if r.header_response.clicked() {
        !open
    } else {
        open
    }
}

/// The live preview of the projector's output (the same texture).
fn preview(ui: &mut egui::Ui, show: &Show, status: &Status) {
    let w = ui.available_width().min(640.0);
    let aspect = if status.preview_aspect > 0.0 {
        status.preview_aspect
    } else {
        16.0 / 9.0
    };
    let size = egui::vec2(w, w / aspect);
    match status.preview {
        Some(id) => {
            ui.image(egui::load::SizedTexture::new(id, size));
        }
        None => {
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 2.0, egui::Color32::from_gray(16));
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                format!("{} (no preview)", show.current.preset.spec.name),
                egui::FontId::proportional(14.0),
                egui::Color32::GRAY,
            );
        }
    }
}

/// A lamp: a filled circle, bright with `on` (0..1).
pub fn lamp(ui: &mut egui::Ui, label: &str, on: f32, color: egui::Color32) {
    ui.vertical(|ui| {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(18.0, 18.0), egui::Sense::hover());
        let dim = egui::Color32::from_gray(40);
        let c = lerp_color(dim, color, on.clamp(0.0, 1.0));
        ui.painter().circle_filled(rect.center(), 8.0, c);
        ui.small(label);
    });
}

fn lerp_color(a: egui::Color32, b: egui::Color32, t: f32) -> egui::Color32 {
    let l = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    egui::Color32::from_rgb(l(a.r(), b.r()), l(a.g(), b.g()), l(a.b(), b.b()))
}

/// A horizontal meter: `value` 0..1 with a label.
pub fn meter(ui: &mut egui::Ui, label: &str, value: f32, text: &str) {
    ui.horizontal(|ui| {
        ui.add_sized(
            [44.0, 14.0],
            egui::Label::new(egui::RichText::new(label).small()),
        );
        let (rect, _) = ui.allocate_exact_size(egui::vec2(150.0, 12.0), egui::Sense::hover());
        let p = ui.painter();
        p.rect_filled(rect, 1.0, egui::Color32::from_gray(30));
        let v = value.clamp(0.0, 1.0);
        let mut fill = rect;
        fill.set_width(rect.width() * v);
        let color = if v > 0.95 {
            egui::Color32::from_rgb(230, 60, 50)
        } else if v > 0.8 {
            egui::Color32::from_rgb(230, 190, 40)
        } else {
            egui::Color32::from_rgb(60, 200, 110)
        };
        p.rect_filled(fill, 1.0, color);
        ui.small(text);
    });
}
