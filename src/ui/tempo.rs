//! Tempo: BPM, confidence, beat lamp, bar position, tap, nudge, resync,
//! fixed/auto, the tempo octave (x2, /2), and which source leads.

use crate::show::{Command, Show};

use super::{Surface, lamp};

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, surface: &mut Surface, show: &Show, out: &mut Vec<Command>) {
    let r = show.frame.rhythm;
    let pos = r.position_at(show.time);
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(if r.bpm > 0.0 {
                format!("{:.1}", r.bpm)
            } else {
                "-".into()
            })
            .size(28.0)
            .strong(),
        );
        ui.label("BPM");
        lamp(ui, "beat", pos.beat_pulse, super::AMBER);
    });
    ui.horizontal(|ui| {
        ui.label(format!("confidence {:.0} %", r.confidence * 100.0));
        if r.resting {
            ui.label(egui::RichText::new("resting").color(egui::Color32::GRAY))
                .on_hover_text(
                    "No hit for two bars (silence, a breakdown): the clock holds its \
                     tempo and its grid, with no beats or pulses, until the music is back.",
                );
        }
    });
    // Bar position: four boxes, the current one lit, the downbeat red.
    ui.horizontal(|ui| {
        let bpb = r.beats_per_bar.max(1);
        let current = (pos.bar_phase * bpb as f32).floor() as u32;
        for i in 0..bpb {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(26.0, 18.0), egui::Sense::hover());
            let on = r.bpm > 0.0 && i == current;
            let color = match (on, i == 0) {
                (true, true) => egui::Color32::from_rgb(255, 70, 60),
                (true, false) => super::AMBER,
                _ => egui::Color32::from_gray(45),
            };
            ui.painter().rect_filled(rect, 2.0, color);
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                format!("{}", i + 1),
                egui::FontId::monospace(11.0),
                egui::Color32::BLACK,
            );
        }
        // Joined in the middle of a song, the music may not say where
        // the bar starts: say so, rather than show a red box as sure.
        if r.bpm > 0.0 && r.bar_guess {
            ui.label(egui::RichText::new("1 or 3?").color(super::AMBER))
                .on_hover_text(
                    "The bar line is a guess: the input came in mid-song and the music \
                     has not told beat 1 from beat 3 (drums alone never do). \
                     Press Downbeat (R) on the one.",
                );
        }
    });
    ui.horizontal(|ui| {
        if ui.button("Tap").clicked() {
            out.push(Command::Tap);
        }
        if ui.button("- 10 ms").clicked() {
            out.push(Command::Nudge(-0.01));
        }
        if ui.button("+ 10 ms").clicked() {
            out.push(Command::Nudge(0.01));
        }
        if ui
            .button("Downbeat")
            .on_hover_text("the beat nearest now is bar position 1")
            .clicked()
        {
            out.push(Command::Resync);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("fixed");
        ui.add(
            egui::DragValue::new(&mut surface.fixed_bpm)
                .range(40.0..=240.0)
                .speed(0.1)
                .suffix(" BPM"),
        )
        .labelled_by(label.id);
        if ui.button("Fix").clicked() {
            out.push(Command::FixedBpm(surface.fixed_bpm));
        }
        if ui.button("Auto").clicked() {
            out.push(Command::AutoTempo);
        }
    });
    ui.horizontal(|ui| {
        if ui
            .button("x2")
            .on_hover_text("the music is twice this tempo (key *)")
            .clicked()
        {
            out.push(Command::DoubleTempo);
        }
        if ui
            .button("/2")
            .on_hover_text("the music is half this tempo (key /)")
            .clicked()
        {
            out.push(Command::HalveTempo);
        }
    });
    let held = if r.manual {
        Some("taps / fixed BPM lead (Auto gives the lead back to the analysis)".to_owned())
    } else {
        r.tempo_hint
            .map(|bpm| format!("the analysis follows, held near {bpm:.0} BPM (Auto frees it)"))
    };
    ui.label(match (held, r.backbeat_hold) {
        (Some(why), _) => egui::RichText::new(why).color(super::AMBER),
        (None, Some(bpm)) if r.held_by_kick => egui::RichText::new(format!(
            "the analysis leads; a kick on every beat holds it near {bpm:.0} BPM"
        ))
        .small(),
        (None, Some(bpm)) => egui::RichText::new(format!(
            "the analysis leads; the drums' backbeat holds it near {bpm:.0} BPM"
        ))
        .small(),
        (None, None) => egui::RichText::new("the analysis leads").small(),
    });
}
