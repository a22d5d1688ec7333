//! [`Command`]: everything a VJ can tell the show. The control surface, the
//! keyboard (and later OSC/MIDI) all speak it; the show applies it at one
//! place ([`super::Show::apply`]), so every input behaves the same.

use std::path::PathBuf;

use crate::preset::modulation::Modulation;

use super::transition::Transition;

/// One instruction to the show.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Cue a preset (by id): it is taken by the next [`Command::Go`].
    Cue(String),
    /// Take the cued preset with the selected transition.
    Go,
    /// Cue and take in one step.
    Take(String),
    /// Take the next (+1) or previous (−1) preset of the setlist when one is
    /// playing, else of the library.
    Step(i32),
    /// Set parameter `index` of the current preset (its base value; a
    /// modulation moves around it).
    SetParam {
        /// Parameter index (declaration order).
        index: usize,
        /// New value, clamped to the parameter's range.
        value: f32,
    },
    /// Every parameter back to its default from the TOML.
    ResetParams,
    /// Reload the current preset from disk, dropping unsaved changes.
    RevertPreset,
    /// Save the current values and modulations as the preset's defaults (atomic).
    SavePreset,
    /// Save the current state as a new preset folder with this id.
    SavePresetAs(String),
    /// Assign (or with `None` remove) the modulation of parameter `index`.
    SetModulation {
        /// Parameter index.
        index: usize,
        /// The new assignment.
        modulation: Option<Modulation>,
    },
    /// How the next take happens.
    SetTransition(Transition),
    /// A tap of the tempo (three or more set tempo and phase).
    Tap,
    /// Shift the beat grid by this many seconds.
    Nudge(f64),
    /// The beat nearest now is a downbeat.
    Resync,
    /// Hold this tempo (BPM).
    FixedBpm(f32),
    /// The music is twice as fast as the clock says: move the clock to
    /// double the tempo and keep the analysis near it (until `AutoTempo`).
    DoubleTempo,
    /// The music is half as fast as the clock says (see `DoubleTempo`).
    HalveTempo,
    /// Tempo back to automatic, on the level the analysis picks.
    AutoTempo,
    /// Blackout on/off.
    ToggleBlackout,
    /// Freeze the picture on/off.
    ToggleFreeze,
    /// Flash limiter on (true) or lifted (false).
    SetLimiter(bool),
    /// Override every preset's render scale (0.25..1), or `None` for each preset's own.
    SetRenderScale(Option<f32>),
    /// Latency offset (ms) added to the music time of each frame.
    SetLatencyMs(f64),
    /// Latency calibration mode (click on the output, patch on the projector).
    SetCalibration(bool),
    /// Start (true) or pause (false) the setlist.
    SetlistPlay(bool),
    /// Jump to setlist entry `index` and take its preset.
    SetlistJump(usize),
    /// Append a preset to the setlist, held for this many bars (`None`: until a cue).
    SetlistAdd(String, Option<u32>),
    /// Remove setlist entry `index`.
    SetlistRemove(usize),
    /// Move setlist entry `index` up (−1) or down (+1).
    SetlistMove(usize, i32),
    /// Load a setlist file.
    SetlistLoad(PathBuf),
    /// Save the setlist to a file (atomic).
    SetlistSave(PathBuf),
    /// Switch the live input to this device (`None`: the default input).
    SelectInput(Option<String>),
    /// Input gain in dB.
    SetInputGain(f32),
    /// Clear the message list.
    ClearMessages,
}
