//! Show state between analysis and render: what is on screen and what the
//! VJ has set. [`Show`] applies [`Command`]s (from the control surface, the
//! keys, later OSC/MIDI), runs the modulation matrix, transitions and the
//! setlist; `flash` is the flash limiter's logic. Plain data and logic: no
//! GPU, no window, no egui.

pub mod command;
pub mod flash;
pub mod safety;
pub mod setlist;
pub mod state;
pub mod transition;

pub use command::Command;
pub use flash::{FlashLimiter, LimiterState};
pub use setlist::{Setlist, SetlistEntry, SetlistPlayer};
pub use state::{Level, LibraryEntry, Message, PresetSlot, Show};
pub use transition::Transition;
