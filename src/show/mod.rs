//! Show state between analysis and render: safety (flash limiter), panic
//! states and the timing of what is on screen.

pub mod flash;

pub use flash::{FlashLimiter, LimiterState};
