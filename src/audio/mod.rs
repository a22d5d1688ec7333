//! Audio in: file decoding, the bundled demo track, live capture and playback.

pub mod decode;

pub use decode::{AudioClip, DecodeError, Decoded, EndedEarly, decode_file, decode_file_report};
pub mod demo;
pub mod downmix;
pub mod feed;
pub mod null_sink;
