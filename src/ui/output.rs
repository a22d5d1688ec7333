//! Output: blackout, freeze, flash limiter, fps and frame-time graph,
//! render scale, latency offset and its calibration.

use crate::show::{Command, Show};

use super::Status;

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, show: &Show, status: &Status, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if ui
            .add(egui::Button::new("Blackout (B)").selected(show.blackout))
            .clicked()
        {
            out.push(Command::ToggleBlackout);
        }
        if ui
            .add(egui::Button::new("Freeze (Space)").selected(show.frozen))
            .clicked()
        {
            out.push(Command::ToggleFreeze);
        }
    });
    let mut limiter = show.limiter;
    if ui.checkbox(&mut limiter, "flash limiter (L)").changed() {
        out.push(Command::SetLimiter(limiter));
    }
    ui.label(format!(
        "{} · {} frames held so far",
        if !show.limiter {
            "LIFTED"
        } else if status.holding_pattern {
            "holding a moving pattern still"
        } else if status.limiter_engaged {
            "holding the picture"
        } else {
            "watching"
        },
        status.frames_limited
    ));
    ui.label(format!(
        "flashes/s {:.1} of 3 · 5 s budget {}/{}",
        status.transitions_1s as f32 / 2.0,
        status.transitions_5s,
        crate::show::flash::MAX_TRANSITIONS_5S
    ));
    ui.label(format!(
        "{:.1} fps · {}x{}",
        status.fps, status.output_size[0], status.output_size[1]
    ));
    frame_graph(ui, status);
    if status.control_ms > 0.0 {
        ui.small(format!("surface: {:.1} ms a frame", status.control_ms));
    }
    let own = show.editing().preset.spec.render_scale;
    let mut scale = show.render_scale.unwrap_or(own);
    ui.horizontal(|ui| {
        if ui
            .add(
                egui::Slider::new(&mut scale, 0.25..=1.0)
                    .step_by(0.05)
                    .text("render scale"),
            )
            .changed()
        {
            out.push(Command::SetRenderScale(Some(scale)));
        }
        if show.render_scale.is_some() && ui.small_button("preset's").clicked() {
            out.push(Command::SetRenderScale(None));
        }
    });
    let mut ms = show.latency_ms;
    if ui
        .add(
            egui::Slider::new(&mut ms, -200.0..=300.0)
                .text("latency offset")
                .suffix(" ms"),
        )
        .changed()
    {
        out.push(Command::SetLatencyMs(ms));
    }
    let mut cal = show.calibrating;
    if ui
        .checkbox(&mut cal, "calibrate (C)")
        .on_hover_text("a click on the audio output every second and a patch on the projector when the show believes it is heard: move the offset until they coincide")
        .changed()
    {
        out.push(Command::SetCalibration(cal));
    }
}

/// The last frame times as a bar graph with 16.7 and 33.3 ms lines.
fn frame_graph(ui: &mut egui::Ui, status: &Status) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(250.0, 48.0), egui::Sense::hover());
    let p = ui.painter();
    p.rect_filled(rect, 1.0, egui::Color32::from_gray(20));
    let max_ms = 50.0;
    let y = |ms: f32| rect.bottom() - rect.height() * (ms / max_ms).clamp(0.0, 1.0);
    for (ms, c) in [
        (16.7, egui::Color32::from_rgb(60, 120, 60)),
        (33.3, egui::Color32::from_rgb(120, 90, 40)),
    ] {
        p.line_segment(
            [
                egui::pos2(rect.left(), y(ms)),
                egui::pos2(rect.right(), y(ms)),
            ],
            egui::Stroke::new(1.0, c),
        );
    }
    let n = status.frame_times.len().max(1);
    let w = rect.width() / 240.0;
    for (i, ms) in status.frame_times.iter().enumerate() {
        let x = rect.right() - (n - i) as f32 * w;
        let color = if *ms > 33.4 {
            egui::Color32::from_rgb(230, 80, 60)
        } else if *ms > 17.5 {
            egui::Color32::from_rgb(230, 190, 60)
        } else {
            egui::Color32::from_rgb(90, 200, 120)
        };
        p.line_segment(
            [egui::pos2(x, rect.bottom()), egui::pos2(x, y(*ms))],
            egui::Stroke::new(w.max(1.0), color),
        );
    }
}
