//! Help: the keyboard map. The keys work in both windows, with the surface
//! shown or hidden.

/// The keyboard map: (key, what it does).
pub const KEYS: &[(&str, &str)] = &[
    ("Tab", "show/hide the surface (one-window mode)"),
    ("Enter", "Go: take the cued preset"),
    (
        "Left / Right",
        "previous / next preset (setlist when playing)",
    ),
    ("B", "blackout"),
    ("Space", "freeze the picture"),
    ("L", "lift / restore the flash limiter"),
    ("T", "tap tempo (3+ taps)"),
    ("*", "the music is twice the tempo shown (x2)"),
    ("/", "the music is half the tempo shown (/2)"),
    ("A", "tempo back to automatic"),
    ("R", "this beat is the downbeat"),
    ("Up / Down", "nudge the beat grid ±10 ms"),
    ("P", "play / pause the setlist"),
    ("C", "latency calibration on/off"),
    ("F", "projector fullscreen on/off"),
    ("Ctrl+Q", "quit"),
];

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui) {
    egui::Grid::new("keys").striped(true).show(ui, |ui| {
        for (k, what) in KEYS {
            ui.label(egui::RichText::new(*k).monospace().strong());
            ui.label(*what);
            ui.end_row();
        }
    });
}
