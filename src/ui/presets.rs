//! The preset browser: thumbnails rendered by the engine, search, click to
//! cue, click again (or Go) to take. Broken presets are shown with their
//! error and cannot be taken.

use crate::preset::Origin;
use crate::show::{Command, LibraryEntry, Show, Transition};

use super::Surface;

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, surface: &mut Surface, show: &Show, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut surface.search)
                .hint_text("search name, tag...")
                .desired_width(160.0),
        );
        ui.label("transition:");
        let mut t = show.transition;
        let mut beats = match t {
            Transition::Crossfade { beats } => beats,
            _ => 4.0,
        };
        if ui
            .selectable_label(matches!(t, Transition::Cut), "cut")
            .clicked()
        {
            t = Transition::Cut;
        }
        if ui
            .selectable_label(matches!(t, Transition::Crossfade { .. }), "crossfade")
            .clicked()
        {
            t = Transition::Crossfade { beats };
        }
        if ui
            .selectable_label(matches!(t, Transition::CutOnDownbeat), "on downbeat")
            .clicked()
        {
            t = Transition::CutOnDownbeat;
        }
        if let Transition::Crossfade { .. } = t
            && ui
                .add(
                    egui::DragValue::new(&mut beats)
                        .range(0.25..=32.0)
                        .speed(0.25)
                        .suffix(" beats"),
                )
                .on_hover_text("crossfade length")
                .labelled_by(ui.label("length").id)
                .changed()
        {
            t = Transition::Crossfade { beats };
        }
        if t != show.transition {
            out.push(Command::SetTransition(t));
        }
    });
    let needle = surface.search.to_lowercase();
    let shown = show.shown_id().to_owned();
    let thumb = egui::vec2(160.0, 90.0);
    // Whole thumbnails per row (button frame and spacing included).
    let cols = ((ui.available_width() / (thumb.x + 24.0)).floor() as usize).max(1);
    egui::ScrollArea::vertical()
        .id_salt("browser")
        .show(ui, |ui| {
            // The VJ's own presets first, then the built-in ones, apart.
            for (origin, heading) in [(Origin::User, "Yours"), (Origin::BuiltIn, "Built-in")] {
                let group: Vec<&LibraryEntry> = show
                    .library
                    .iter()
                    .filter(|e| e.origin == origin)
                    .filter(|e| {
                        needle.is_empty()
                            || format!("{} {} {} {}", e.id, e.name, e.description, e.tags.join(" "))
                                .to_lowercase()
                                .contains(&needle)
                    })
                    .collect();
                if group.is_empty() {
                    continue;
                }
                ui.label(egui::RichText::new(format!("{heading} ({})", group.len())).strong());
                egui::Grid::new(("thumbnails", heading))
                    .spacing([8.0, 8.0])
                    .show(ui, |ui| {
                        for (i, e) in group.iter().enumerate() {
                            cell(ui, e, surface, show, &shown, thumb, out);
                            if (i + 1) % cols == 0 {
                                ui.end_row();
                            }
                        }
                    });
                ui.add_space(6.0);
            }
        });
}

/// One preset of the browser: thumbnail, name, error.
fn cell(
    ui: &mut egui::Ui,
    e: &LibraryEntry,
    surface: &Surface,
    show: &Show,
    shown: &str,
    thumb: egui::Vec2,
    out: &mut Vec<Command>,
) {
    let cued = show.cued.as_deref() == Some(e.id.as_str());
    let live = shown == e.id;
    ui.vertical(|ui| {
        ui.set_width(thumb.x);
        let r = match surface.thumbnails.get(&e.id) {
            Some(t) if e.error.is_none() => ui.add(
                egui::Button::image(egui::load::SizedTexture::new(t.id(), thumb))
                    .selected(cued || live),
            ),
            _ => {
                let (rect, r) = ui.allocate_exact_size(thumb, egui::Sense::click());
                let bg = if e.error.is_some() {
                    egui::Color32::from_rgb(60, 20, 20)
                } else {
                    egui::Color32::from_gray(25)
                };
                ui.painter().rect_filled(rect, 2.0, bg);
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    if e.error.is_some() { "broken" } else { "..." },
                    egui::FontId::proportional(13.0),
                    egui::Color32::GRAY,
                );
                r
            }
        };
        let mut name = egui::RichText::new(&e.name);
        if live {
            name = name.color(super::LIVE_RED).strong();
        } else if cued {
            name = name.color(super::AMBER).strong();
        }
        let label = ui.add(egui::Button::new(name).frame(false));
        let r = r.on_hover_text(e.error.clone().unwrap_or_else(|| e.description.clone()));
        if let Some(err) = &e.error {
            ui.colored_label(egui::Color32::LIGHT_RED, egui::RichText::new(err).small());
        } else if r.clicked() || label.clicked() {
            out.push(if cued {
                Command::Go
            } else {
                Command::Cue(e.id.clone())
            });
        }
    });
}
