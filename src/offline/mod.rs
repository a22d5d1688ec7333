//! File-based jobs built on the streaming engine: `analyze`, `eval`, `render`.

pub mod analyze;
pub mod dataset;
pub mod render;
