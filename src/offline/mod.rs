//! File-based jobs built on the streaming engine: `analyze`, `eval`, `render`.

pub mod analyze;
pub mod dataset;
pub mod hits;
pub mod render;
pub mod report;
