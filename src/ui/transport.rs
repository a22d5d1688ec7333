//! The transport bar: Go, blackout, freeze, limiter, tempo at a glance.

use crate::show::{Command, Show};

use super::{Status, Surface, lamp};

/// Draws the bar.
pub fn ui(
    ui: &mut egui::Ui,
    surface: &mut Surface,
    show: &Show,
    status: &Status,
    out: &mut Vec<Command>,
) {
    let _ = surface;
    ui.horizontal(|ui| {
        ui.heading("sonolux");
        ui.separator();
        ui.label(egui::RichText::new(&show.current.preset.spec.name).strong());
        if let Some(b) = &show.incoming {
            ui.label(format!(
                "-> {} ({:.0} %)",
                b.preset.spec.name,
                show.mix() * 100.0
            ));
        }
        if let Some(cued) = &show.cued {
            ui.label(format!("cued: {cued}"));
        }
        let go =
            egui::Button::new(egui::RichText::new("GO").strong()).min_size(egui::vec2(48.0, 22.0));
        if ui.add_enabled(show.cued.is_some(), go).clicked() {
            out.push(Command::Go);
        }
        ui.separator();
        let r = show.frame.rhythm;
        let pos = r.position_at(show.time);
        ui.label(
            egui::RichText::new(if r.bpm > 0.0 {
                format!("{:.1} BPM", r.bpm)
            } else {
                "- BPM".into()
            })
            .strong(),
        );
        // Who holds the tempo, where the VJ looks first.
        let held = if r.manual {
            Some((
                "fixed tempo",
                "taps or a fixed BPM lead; Auto gives the lead back",
            ))
        } else if r.tempo_hint.is_some() {
            Some((
                "held",
                "x2 or /2 holds the analysis on this level; Auto frees it",
            ))
        } else if r.backbeat_hold.is_some() && r.held_by_kick {
            Some((
                "four on the floor",
                "a kick on every beat holds the analysis on this octave; x2 or /2 override it",
            ))
        } else if r.backbeat_hold.is_some() {
            Some((
                "backbeat",
                "the snare answering the kick holds the analysis on this octave; x2 or /2 override it",
            ))
        } else {
            None
        };
        if let Some((tag, why)) = held {
            ui.label(
                egui::RichText::new(tag)
                    .small()
                    .color(super::AMBER),
            )
            .on_hover_text(why);
        }
        lamp(
            ui,
            "beat",
            pos.beat_pulse,
            super::AMBER,
        );
        // "?": the bar line is a guess (see the tempo panel).
        let bar = if r.bpm > 0.0 {
            format!(
                "{}/{}{}",
                (pos.bar_phase * r.beats_per_bar as f32).floor() as u32 + 1,
                r.beats_per_bar,
                if r.bar_guess { " ?" } else { "" }
            )
        } else {
            "-/-".into()
        };
        ui.label(format!("bar {bar}"));
        ui.separator();
        let blackout = egui::Button::new("Blackout").selected(show.blackout);
        if ui.add(blackout).clicked() {
            out.push(Command::ToggleBlackout);
        }
        if ui
            .add(egui::Button::new("Freeze").selected(show.frozen))
            .clicked()
        {
            out.push(Command::ToggleFreeze);
        }
        let limiter = if !show.limiter {
            egui::RichText::new("LIMITER OFF").color(egui::Color32::LIGHT_RED)
        } else if status.limiter_engaged {
            egui::RichText::new("FLASH LIMIT").color(egui::Color32::YELLOW)
        } else {
            egui::RichText::new("limiter on").color(egui::Color32::LIGHT_GREEN)
        };
        ui.label(limiter);
        ui.label(format!("{:.0} fps", status.fps));
        if status.input_lost {
            ui.colored_label(egui::Color32::LIGHT_RED, "INPUT LOST");
        }
    });
}
