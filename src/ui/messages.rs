//! Messages: hot-reload and preset errors as `file:line:col: message`,
//! newest first. They appear here only, never on the projector.

use crate::show::{Command, Level, Show};

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, show: &Show, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Messages").strong());
        if ui.small_button("clear").clicked() {
            out.push(Command::ClearMessages);
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("messages")
        .show(ui, |ui| {
            if show.messages.is_empty() {
                ui.weak("no messages");
            }
            for m in show.messages.iter().rev() {
                let color = match m.level {
                    Level::Info => egui::Color32::GRAY,
                    Level::Warning => egui::Color32::from_rgb(240, 200, 80),
                    Level::Error => egui::Color32::from_rgb(255, 110, 100),
                };
                ui.label(
                    egui::RichText::new(format!("{:>7.1} s  {}", m.time, m.text))
                        .monospace()
                        .color(color),
                );
            }
        });
}
