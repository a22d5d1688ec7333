//! Input: device picker, gain, level meters, bands, spectrum, hit lamps,
//! dropped samples and audio errors.

use crate::analysis::NUM_BANDS;
use crate::show::{Command, Show};

use super::{Status, lamp, meter};

/// dBFS → 0..1 for a meter spanning −60..0 dB.
fn db_to_meter(db: f32) -> f32 {
    ((db + 60.0) / 60.0).clamp(0.0, 1.0)
}

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, show: &Show, status: &Status, out: &mut Vec<Command>) {
    ui.label(egui::RichText::new(&status.audio_source).small());
    egui::ComboBox::new("input-device", "input")
        .selected_text("choose input...")
        .width(200.0)
        .show_ui(ui, |ui| {
            if ui.selectable_label(false, "default input").clicked() {
                out.push(Command::SelectInput(None));
            }
            for d in &status.input_devices {
                if ui.selectable_label(false, d).clicked() {
                    out.push(Command::SelectInput(Some(d.clone())));
                }
            }
        });
    let mut gain = show.input_gain_db;
    if ui
        .add(
            egui::Slider::new(&mut gain, -24.0..=24.0)
                .text("gain")
                .suffix(" dB"),
        )
        .changed()
    {
        out.push(Command::SetInputGain(gain));
    }
    let f = &show.frame;
    meter(
        ui,
        "peak",
        db_to_meter(f.peak_db),
        &format!("{:.1} dBFS", f.peak_db.max(-99.9)),
    );
    meter(
        ui,
        "rms",
        db_to_meter(f.rms_db),
        &format!("{:.1} dBFS", f.rms_db.max(-99.9)),
    );
    meter(ui, "bass", f.bass, "");
    meter(ui, "mid", f.mid, "");
    meter(ui, "treb", f.treb, "");
    // 16 bands as bars.
    let (rect, _) = ui.allocate_exact_size(egui::vec2(250.0, 40.0), egui::Sense::hover());
    let p = ui.painter();
    p.rect_filled(rect, 1.0, egui::Color32::from_gray(20));
    let w = rect.width() / NUM_BANDS as f32;
    for (i, b) in f.bands.iter().enumerate() {
        let h = rect.height() * b.clamp(0.0, 1.0);
        let x = rect.left() + i as f32 * w;
        p.rect_filled(
            egui::Rect::from_min_max(
                egui::pos2(x + 1.0, rect.bottom() - h),
                egui::pos2(x + w - 1.0, rect.bottom()),
            ),
            0.0,
            egui::Color32::from_rgb(80, 160, 255),
        );
    }
    // The spectrum as a line.
    let (rect, _) = ui.allocate_exact_size(egui::vec2(250.0, 50.0), egui::Sense::hover());
    let p = ui.painter();
    p.rect_filled(rect, 1.0, egui::Color32::from_gray(20));
    let n = f.spectrum.len();
    let points: Vec<egui::Pos2> = f
        .spectrum
        .iter()
        .enumerate()
        .step_by(2)
        .map(|(i, v)| {
            egui::pos2(
                rect.left() + rect.width() * i as f32 / n as f32,
                rect.bottom() - rect.height() * v.clamp(0.0, 1.0),
            )
        })
        .collect();
    p.add(egui::Shape::line(
        points,
        egui::Stroke::new(1.0, egui::Color32::from_rgb(120, 220, 255)),
    ));
    ui.horizontal(|ui| {
        lamp(ui, "onset", f.onset, egui::Color32::WHITE);
        lamp(ui, "kick", f.kick, super::LIVE_RED);
        lamp(ui, "snare", f.snare, egui::Color32::from_rgb(80, 200, 255));
        lamp(ui, "hat", f.hat, egui::Color32::from_rgb(255, 230, 90));
    });
    ui.label(format!(
        "dropped samples: {} · audio errors: {} · onsets: {}",
        status.dropped_samples, status.audio_errors, status.onsets
    ));
    if status.inverted_leg {
        ui.colored_label(
            super::AMBER,
            "Channel 2 arrives inverted: taken inverted, so the centre does not cancel. \
             Check the lead or the desk's phase switch.",
        );
    }
    if status.input_lost {
        ui.colored_label(
            egui::Color32::LIGHT_RED,
            "Input lost: visuals run on decaying features; retrying every 2 s",
        );
    }
}
