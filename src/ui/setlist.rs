//! The setlist: entries with their bars, the one on screen, play/pause,
//! add the cued or current preset, load and save.

use std::path::PathBuf;

use crate::show::{Command, Show};

use super::Surface;

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, surface: &mut Surface, show: &Show, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let playing = show.setlist.as_ref().is_some_and(|s| s.playing);
        if ui
            .add(
                egui::Button::new(if playing { "Pause (P)" } else { "Play (P)" }).selected(playing),
            )
            .clicked()
        {
            out.push(Command::SetlistPlay(!playing));
        }
        if ui.button("< prev").clicked() {
            out.push(Command::Step(-1));
        }
        if ui.button("next >").clicked() {
            out.push(Command::Step(1));
        }
    });
    match &show.setlist {
        None => {
            ui.label("No setlist: add presets below or load a file.");
        }
        Some(s) => {
            for (i, e) in s.setlist.entries.iter().enumerate() {
                ui.horizontal(|ui| {
                    let here = i == s.index;
                    let missing = !show
                        .library
                        .iter()
                        .any(|l| l.id == e.preset && l.error.is_none());
                    let mut text = egui::RichText::new(format!(
                        "{:>2}. {}  {}",
                        i + 1,
                        e.preset,
                        e.bars.map_or("until cue".into(), |b| format!("{b} bars"))
                    ));
                    if here {
                        text = text.strong().color(super::LIVE_RED);
                    }
                    if missing {
                        text = text.strikethrough().color(egui::Color32::LIGHT_RED);
                    }
                    if ui.selectable_label(here, text).clicked() {
                        out.push(Command::SetlistJump(i));
                    }
                    if here && let Some(b) = e.bars {
                        ui.small(format!("{}/{b}", s.counter.bars));
                    }
                    if ui.small_button("^").on_hover_text("move up").clicked() {
                        out.push(Command::SetlistMove(i, -1));
                    }
                    if ui.small_button("v").on_hover_text("move down").clicked() {
                        out.push(Command::SetlistMove(i, 1));
                    }
                    if ui.small_button("x").on_hover_text("remove").clicked() {
                        out.push(Command::SetlistRemove(i));
                    }
                });
            }
        }
    }
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("hold");
        ui.add(
            egui::DragValue::new(&mut surface.setlist_bars)
                .range(0..=256)
                .suffix(" bars"),
        )
        .labelled_by(label.id);
        let id = show
            .cued
            .clone()
            .unwrap_or_else(|| show.shown_id().to_owned());
        if ui.button(format!("add {id}")).clicked() {
            let bars = (surface.setlist_bars > 0).then_some(surface.setlist_bars);
            out.push(Command::SetlistAdd(id, bars));
        }
    });
    ui.horizontal(|ui| {
        if surface.setlist_path.is_empty()
            && let Some(p) = show.setlist.as_ref().and_then(|s| s.path.as_ref())
        {
            surface.setlist_path = p.display().to_string();
        }
        ui.add(
            egui::TextEdit::singleline(&mut surface.setlist_path)
                .hint_text("setlist.toml")
                .desired_width(200.0),
        );
        let path = PathBuf::from(surface.setlist_path.trim());
        let ok = !surface.setlist_path.trim().is_empty();
        if ui.add_enabled(ok, egui::Button::new("Load")).clicked() {
            out.push(Command::SetlistLoad(path.clone()));
        }
        if ui.add_enabled(ok, egui::Button::new("Save")).clicked() {
            out.push(Command::SetlistSave(path));
        }
    });
}
