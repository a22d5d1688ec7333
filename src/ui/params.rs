//! Parameters of the preset being edited: sliders from its TOML (the live,
//! modulated value drawn on each), reset, save, save as, revert, and the
//! modulation editor.

use crate::preset::modulation::{Curve, ModSource, Modulation};
use crate::show::{Command, Show};

use super::Surface;

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, surface: &mut Surface, show: &Show, out: &mut Vec<Command>) {
    let slot = show.editing();
    let spec = &slot.preset.spec;
    ui.heading(&spec.name);
    if !spec.description.is_empty() {
        ui.label(egui::RichText::new(&spec.description).small());
    }
    ui.separator();
    if spec.params.is_empty() {
        ui.label("This preset has no parameters.");
    }
    for (i, p) in spec.params.iter().enumerate() {
        let mut v = slot.base[i];
        ui.horizontal(|ui| {
            let r = ui.add(egui::Slider::new(&mut v, p.min..=p.max).text(&p.name));
            if r.changed() {
                out.push(Command::SetParam { index: i, value: v });
            }
            // The modulated value, live, as a marker on the slider's rail.
            if p.modulation.is_some() && p.max > p.min {
                let live = slot.values[i];
                let frac = ((live - p.min) / (p.max - p.min)).clamp(0.0, 1.0);
                let rail = ui.spacing().slider_width;
                let x = r.rect.left() + frac * rail;
                ui.painter().line_segment(
                    [
                        egui::pos2(x, r.rect.top() + 1.0),
                        egui::pos2(x, r.rect.bottom() - 1.0),
                    ],
                    egui::Stroke::new(3.0, egui::Color32::from_rgb(255, 140, 30)),
                );
            }
            let label = match &p.modulation {
                Some(m) => format!("~{}", m.source),
                None => "mod".into(),
            };
            if ui
                .selectable_label(surface.mod_param == Some(i), label)
                .on_hover_text("modulation")
                .clicked()
            {
                surface.mod_param = if surface.mod_param == Some(i) {
                    None
                } else {
                    Some(i)
                };
            }
        });
    }
    ui.separator();
    ui.horizontal(|ui| {
        if ui
            .button("Reset")
            .on_hover_text("every parameter to its default")
            .clicked()
        {
            out.push(Command::ResetParams);
        }
        if ui
            .button("Revert")
            .on_hover_text("reload from disk, dropping unsaved changes")
            .clicked()
        {
            out.push(Command::RevertPreset);
        }
        if ui
            .button("Save")
            .on_hover_text("current values and modulations become the preset's defaults")
            .clicked()
        {
            out.push(Command::SavePreset);
        }
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut surface.save_as)
                .hint_text("new-preset-id")
                .desired_width(140.0),
        );
        if ui
            .add_enabled(
                !surface.save_as.trim().is_empty(),
                egui::Button::new("Save as"),
            )
            .clicked()
        {
            out.push(Command::SavePresetAs(surface.save_as.trim().to_owned()));
            surface.save_as.clear();
        }
    });
    if let Some(i) = surface.mod_param
        && let Some(p) = spec.params.get(i)
    {
        ui.separator();
        modulation_editor(ui, i, &p.name, p.modulation, out);
    }
}

fn modulation_editor(
    ui: &mut egui::Ui,
    index: usize,
    name: &str,
    current: Option<Modulation>,
    out: &mut Vec<Command>,
) {
    ui.label(egui::RichText::new(format!("Modulation of {name}")).strong());
    let mut m = current;
    let source_text = m.map_or("none".to_string(), |m| m.source.to_string());
    egui::ComboBox::new(("mod-source", index), "source")
        .selected_text(source_text)
        .show_ui(ui, |ui| {
            if ui.selectable_label(m.is_none(), "none").clicked() {
                m = None;
            }
            for s in ModSource::all() {
                if ui
                    .selectable_label(m.is_some_and(|m| m.source == s), s.to_string())
                    .clicked()
                {
                    m = Some(m.map_or(Modulation::new(s), |old| Modulation { source: s, ..old }));
                }
            }
        });
    if let Some(mm) = &mut m {
        ui.add(egui::Slider::new(&mut mm.amount, -1.0..=1.0).text("amount"));
        egui::ComboBox::new(("mod-curve", index), "curve")
            .selected_text(mm.curve.name())
            .show_ui(ui, |ui| {
                for c in Curve::ALL {
                    ui.selectable_value(&mut mm.curve, c, c.name());
                }
            });
        ui.add(
            egui::Slider::new(&mut mm.attack, 0.0..=2.0)
                .text("attack")
                .suffix(" s"),
        );
        ui.add(
            egui::Slider::new(&mut mm.release, 0.0..=4.0)
                .text("release")
                .suffix(" s"),
        );
    }
    if m != current {
        out.push(Command::SetModulation {
            index,
            modulation: m,
        });
    }
    ui.label(
        egui::RichText::new("Saved with the preset (Save), so renders move the same way.").small(),
    );
}
