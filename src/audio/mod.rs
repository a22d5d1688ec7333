//! Audio in: file decoding, the bundled demo track, live capture and playback.

pub mod decode;

pub use decode::{AudioClip, DecodeError, decode_file};
pub mod demo;
pub mod feed;
