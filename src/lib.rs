//! sonolux: an audio-reactive visual generator for concerts.
//!
//! The data flow is one-directional (see ARCHITECTURE.md):
//! audio source → capture → ring → [`analysis`] → feature snapshot + events →
//! show state → [`render`] → output.

pub mod analysis;
pub mod audio;
pub mod bench;
pub mod cli;
pub mod doctor;
pub mod live;
pub mod media;
pub mod offline;
pub mod preset;
pub mod render;
pub mod settings;
pub mod show;
pub mod ui;
