//! Settings that persist between shows, in the user's config directory
//! (`~/.config/sonolux/settings.toml` on Linux; `SONOLUX_CONFIG_DIR`
//! overrides): last input, preset, setlist, latency offset, transition,
//! window placement and panel layout. A damaged file gives a warning and
//! the defaults, never a failed start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::show::Transition;
use crate::ui::PanelLayout;

/// Where a window was and how big.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowPlace {
    /// Left edge (px).
    pub x: i32,
    /// Top edge (px).
    pub y: i32,
    /// Width (px).
    pub width: u32,
    /// Height (px).
    pub height: u32,
}

/// Everything remembered between shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Last live input device (`None`: default input or file playback).
    pub input: Option<String>,
    /// Last preset on screen.
    pub preset: Option<String>,
    /// Last setlist file.
    pub setlist: Option<PathBuf>,
    /// Latency offset (ms).
    pub latency_ms: f64,
    /// Transition for takes.
    pub transition: Option<Transition>,
    /// Projector window placement.
    pub projector: Option<WindowPlace>,
    /// Control window placement.
    pub control: Option<WindowPlace>,
    /// Open panels.
    pub panels: PanelLayout,
}

/// The settings folder.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SONOLUX_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "sonolux").map(|d| d.config_dir().to_owned())
}

/// The settings file.
pub fn settings_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("settings.toml"))
}

impl Settings {
    /// Reads `path`; a missing file gives the defaults silently, a damaged
    /// one the defaults and a warning (returned, for the surface).
    pub fn load(path: &Path) -> (Self, Option<String>) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Self::default(), None),
            Err(e) => {
                return (
                    Self::default(),
                    Some(format!("{}: {e}; using default settings", path.display())),
                );
            }
        };
        match toml::from_str(&text) {
            Ok(s) => (s, None),
            Err(e) => {
                let (line, col) = e.span().map_or((0, 0), |s| {
                    let before = &text[..s.start.min(text.len())];
                    (
                        before.matches('\n').count() + 1,
                        before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                    )
                });
                (
                    Self::default(),
                    Some(format!(
                        "{}:{line}:{col}: {} (settings file damaged; using defaults, it will be rewritten on exit)",
                        path.display(),
                        e.message().trim()
                    )),
                )
            }
        }
    }

    /// Writes atomically to `path` (creating the folder).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string_pretty(self)?;
        crate::preset::write_atomic(path, text.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gives_defaults_and_a_located_warning() {
        let dir = std::env::temp_dir().join(format!("sonolux-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join("settings.toml");
        std::fs::write(&path, "latency_ms = \"soon\"\n\u{0}\u{1}garbage").expect("write");
        let (s, warning) = Settings::load(&path);
        assert_eq!(s, Settings::default());
        let w = warning.expect("a warning");
        assert!(w.contains("settings.toml:2:10:"), "{w}");
        let saved = Settings {
            latency_ms: 42.0,
            preset: Some("warp".into()),
            ..Default::default()
        };
        saved.save(&path).expect("save");
        assert_eq!(Settings::load(&path), (saved, None));
        let _ = std::fs::remove_dir_all(dir);
    }
}
