//! [`FlashAudit`]: an independent photosensitivity counter over the frames
//! that are shown, written from the rule text (ITU-R BT.1702, Ofcom, WCAG
//! 2.2), not from the limiter's code. It judges; the limiter
//! (`show::flash`) acts. Renders use it for `--safety-report`, and tests use
//! it to check the limiter.
//!
//! The rules, as counted here:
//! - **General flash:** a pair of opposing changes of relative luminance of
//!   at least 0.1 (about 20 cd/m²) where the darker state is below 0.8, over
//!   at least a quarter of the screen at once. More than 3 flashes in any one
//!   second fails.
//! - **Red flash:** a transition to or from saturated red (linear
//!   R/(R+G+B) ≥ 0.8) where (R−G−B)×320 (negative as 0) changes by more
//!   than 20, over at least a quarter of the screen; same limit.
//! - **Extended flashing:** flashing at 2 or more flashes a second for more
//!   than 4 s in any 5 s window fails, even when no second has more than 3.
//! - **Regular pattern:** more than 5 light–dark pairs (contrast ≥ 0.1,
//!   darker < 0.8) along the rows or the columns of at least a quarter of
//!   the screen, changing from frame to frame (flashing, moving, reversing):
//!   changes on [`PATTERN_CHANGES`] frames within one second fail. A single
//!   change (a cut to the pattern or away from it) is not movement.

use std::collections::VecDeque;

/// Relative luminance change that counts (0.1 of full white).
pub const LUMINANCE_STEP: f32 = 0.1;
/// The darker of two states must be below this.
pub const DARK_LIMIT: f32 = 0.8;
/// Share of the screen that must change together.
pub const AREA: f32 = 0.25;
/// Flashes allowed in any one second.
pub const MAX_FLASHES: f32 = 3.0;
/// The red value (R−G−B)×320 must change by more than this.
pub const RED_STEP: f32 = 20.0;
/// Light–dark pairs that make a regular pattern.
pub const PATTERN_PAIRS: usize = 5;
/// Frames within one second on which a regular pattern changed that make it
/// a flashing, moving or reversing pattern.
pub const PATTERN_CHANGES: usize = 2;
/// The audit works on an image this size (cells averaged in linear light).
pub const AUDIT_SIZE: [usize; 2] = [96, 54];

/// An 8-bit sRGB channel value in linear light, 0..1.
pub fn linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Relative luminance (linear, 0..1) of one RGBA8 pixel.
pub fn pixel_luminance(p: &[u8]) -> f32 {
    0.2126 * linear(p[0]) + 0.7152 * linear(p[1]) + 0.0722 * linear(p[2])
}

/// One kind of transition per pixel: the value at the last counted change
/// and that change's direction.
#[derive(Clone, Default)]
struct Tracker {
    reference: Vec<f32>,
    direction: Vec<i8>,
}

impl Tracker {
    /// Counts pixels whose value moved far enough from their reference, in
    /// the direction opposite to their last change, with `valid` deciding
    /// whether a pair of states counts. Returns (up share, down share) and
    /// updates the references of the pixels in the winning direction when
    /// that share reaches [`AREA`].
    fn step(&mut self, values: &[f32], step: f32, valid: impl Fn(f32, f32) -> bool) -> Option<i8> {
        if self.reference.len() != values.len() {
            self.reference = values.to_vec();
            self.direction = vec![0; values.len()];
            return None;
        }
        let n = values.len().max(1) as f32;
        let moved = |reference: &[f32], direction: &[i8], i: usize, dir: i8| {
            let (v, r) = (values[i], reference[i]);
            let d = v - r;
            let goes = if dir > 0 { d >= step } else { -d >= step };
            goes && direction[i] != dir && valid(v, r)
        };
        let count = |dir: i8| {
            (0..values.len())
                .filter(|&i| moved(&self.reference, &self.direction, i, dir))
                .count() as f32
                / n
        };
        let (up, down) = (count(1), count(-1));
        let dir = if up >= AREA && up >= down {
            1
        } else if down >= AREA {
            -1
        } else {
            // Pixels that settled somewhere new without a transition follow,
            // so slow drifts never add up to a flash.
            for (i, &v) in values.iter().enumerate() {
                let d = v - self.reference[i];
                if d.abs() >= step && self.direction[i] == d.signum() as i8 {
                    self.reference[i] = v;
                }
            }
            return None;
        };
        for (i, &v) in values.iter().enumerate() {
            if moved(&self.reference, &self.direction, i, dir) {
                self.reference[i] = v;
                self.direction[i] = dir;
            }
        }
        Some(dir)
    }
}

/// What the audit found in one second of output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecondReport {
    /// Index of the second (0 = the first second of the render).
    pub second: u64,
    /// Most general flashes in any one-second window ending in this second.
    pub flashes: f32,
    /// Most red flashes in any one-second window ending in this second.
    pub red_flashes: f32,
    /// Flashing at 2 or more a second has lasted more than 4 s of the last 5.
    pub extended: bool,
    /// A regular pattern over a quarter of the screen changed on
    /// [`PATTERN_CHANGES`] frames within one second.
    pub pattern: bool,
    /// Frames the limiter held in this second (filled in by the caller).
    pub frames_held: u64,
}

impl SecondReport {
    /// True when a rule is broken in this second.
    pub fn fails(&self) -> bool {
        self.flashes > MAX_FLASHES
            || self.red_flashes > MAX_FLASHES
            || self.extended
            || self.pattern
    }
}

/// The independent counter over a sequence of shown frames.
#[derive(Default)]
pub struct FlashAudit {
    luminance: Tracker,
    red: Tracker,
    transitions: VecDeque<f64>,
    red_transitions: VecDeque<f64>,
    /// (frame time, flashing at ≥ 2 a second) over the last 5 s.
    flashing: VecDeque<(f64, bool)>,
    previous: Vec<f32>,
    /// Times of frames on which a regular pattern changed, last second.
    pattern_changes: VecDeque<f64>,
    seconds: Vec<SecondReport>,
    last_time: Option<f64>,
}

impl FlashAudit {
    /// A new audit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the RGBA8 frame shown at `time` (s).
    pub fn push_rgba(&mut self, time: f64, rgba: &[u8], width: usize, height: usize) {
        // Never finer than the frame itself (every cell gets pixels).
        let (w, h) = (
            AUDIT_SIZE[0].min(width.max(1)),
            AUDIT_SIZE[1].min(height.max(1)),
        );
        let mut lum = vec![0.0f32; w * h];
        let mut red = vec![0.0f32; w * h];
        let mut count = vec![0u32; w * h];
        let mut rgb = vec![[0.0f32; 3]; w * h];
        for y in 0..height {
            let cy = y * h / height.max(1);
            for x in 0..width {
                let cx = x * w / width.max(1);
                let i = (y * width + x) * 4;
                let Some(px) = rgba.get(i..i + 3) else {
                    continue;
                };
                let c = cy * w + cx;
                for k in 0..3 {
                    rgb[c][k] += linear(px[k]);
                }
                count[c] += 1;
            }
        }
        for c in 0..w * h {
            let n = count[c].max(1) as f32;
            let [r, g, b] = rgb[c].map(|v| v / n);
            lum[c] = 0.2126 * r + 0.7152 * g + 0.0722 * b;
            let sum = r + g + b;
            red[c] = if sum > 0.0 && r / sum >= 0.8 {
                ((r - g - b) * 320.0).max(0.0)
            } else {
                0.0
            };
        }
        self.push(time, &lum, &red, [w, h]);
    }

    /// Feeds one frame as linear luminance and red value (see the module
    /// doc) on a `size` grid.
    pub fn push(&mut self, time: f64, lum: &[f32], red: &[f32], size: [usize; 2]) {
        if self
            .luminance
            .step(lum, LUMINANCE_STEP, |a, b| a.min(b) < DARK_LIMIT)
            .is_some()
        {
            self.transitions.push_back(time);
        }
        // Red: the change must exceed the step (not reach it).
        if self
            .red
            .step(red, RED_STEP + f32::EPSILON, |a, b| a.max(b) > 0.0)
            .is_some()
        {
            self.red_transitions.push_back(time);
        }
        // A one-second window: transitions less than 1 s apart (with a
        // little tolerance for frame times like 70/60 − 10/60).
        for q in [&mut self.transitions, &mut self.red_transitions] {
            while q.front().is_some_and(|t| time - t >= 1.0 - 1e-6) {
                q.pop_front();
            }
        }
        let flashes = self.transitions.len() as f32 / 2.0;
        let red_flashes = self.red_transitions.len() as f32 / 2.0;
        // Extended flashing: how long of the last 5 s had ≥ 2 flashes a second.
        let dt = self.last_time.map_or(0.0, |t| (time - t).max(0.0));
        self.flashing.push_back((time, flashes >= 2.0));
        while self.flashing.front().is_some_and(|(t, _)| time - t >= 5.0) {
            self.flashing.pop_front();
        }
        let flashing_s = self.flashing.iter().filter(|(_, f)| *f).count() as f64 * dt;
        let extended = flashing_s > 4.0;
        if self.pattern(lum, size) {
            self.pattern_changes.push_back(time);
        }
        while self
            .pattern_changes
            .front()
            .is_some_and(|t| time - t >= 1.0 - 1e-6)
        {
            self.pattern_changes.pop_front();
        }
        let pattern = self.pattern_changes.len() >= PATTERN_CHANGES;
        self.last_time = Some(time);
        let second = time.max(0.0).floor() as u64;
        if self.seconds.last().is_none_or(|s| s.second != second) {
            self.seconds.push(SecondReport {
                second,
                ..Default::default()
            });
        }
        if let Some(s) = self.seconds.last_mut() {
            s.flashes = s.flashes.max(flashes);
            s.red_flashes = s.red_flashes.max(red_flashes);
            s.extended |= extended;
            s.pattern |= pattern;
        }
    }

    /// A changing regular pattern: rows or columns with more than
    /// [`PATTERN_PAIRS`] light–dark pairs over a quarter of the screen, and
    /// those lines changed since the last frame.
    fn pattern(&mut self, lum: &[f32], [w, h]: [usize; 2]) -> bool {
        // Light–dark pairs of a *regular* pattern along a line: crossings of
        // the line's mid level, evenly spaced (stripes, checks), with enough
        // contrast. Irregular detail (noise, fractals, spectra) is not a
        // regular pattern.
        let pairs = |line: &[f32]| {
            let (lo, hi) = line
                .iter()
                .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            if hi - lo < LUMINANCE_STEP || lo >= DARK_LIMIT {
                return 0;
            }
            let mid = (lo + hi) / 2.0;
            let crossings: Vec<usize> = line
                .windows(2)
                .enumerate()
                .filter(|(_, p)| (p[0] < mid) != (p[1] < mid))
                .map(|(i, _)| i)
                .collect();
            if crossings.len() < 2 * PATTERN_PAIRS {
                return 0;
            }
            let runs: Vec<f32> = crossings.windows(2).map(|c| (c[1] - c[0]) as f32).collect();
            let mean = runs.iter().sum::<f32>() / runs.len() as f32;
            let var = runs.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / runs.len() as f32;
            if var.sqrt() > 0.35 * mean.max(1.0) {
                return 0;
            }
            crossings.len().div_ceil(2)
        };
        let previous = &self.previous;
        let changed = |mut idx: Box<dyn Iterator<Item = usize>>| {
            previous.len() == lum.len()
                && idx.any(|i| (lum[i] - previous[i]).abs() >= LUMINANCE_STEP)
        };
        let rows = (0..h)
            .filter(|&y| {
                pairs(&lum[y * w..(y + 1) * w]) > PATTERN_PAIRS
                    && changed(Box::new(y * w..(y + 1) * w))
            })
            .count();
        let cols = (0..w)
            .filter(|&x| {
                let col: Vec<f32> = (0..h).map(|y| lum[y * w + x]).collect();
                pairs(&col) > PATTERN_PAIRS && changed(Box::new((0..h).map(move |y| y * w + x)))
            })
            .count();
        self.previous = lum.to_vec();
        rows as f32 / h.max(1) as f32 >= AREA || cols as f32 / w.max(1) as f32 >= AREA
    }

    /// The report so far, one row per second.
    pub fn seconds(&self) -> &[SecondReport] {
        &self.seconds
    }

    /// Adds the limiter's held frames to second `second`.
    pub fn add_held(&mut self, second: u64, frames: u64) {
        if let Some(s) = self.seconds.iter_mut().find(|s| s.second == second) {
            s.frames_held += frames;
        }
    }

    /// The report as CSV (header + one line per second).
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "second,flashes,red_flashes,extended_flashing,pattern,frames_held,verdict\n",
        );
        for s in &self.seconds {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                s.second,
                s.flashes,
                s.red_flashes,
                s.extended,
                s.pattern,
                s.frames_held,
                if s.fails() { "FAIL" } else { "pass" }
            ));
        }
        out
    }

    /// True when any second breaks a rule.
    pub fn fails(&self) -> bool {
        self.seconds.iter().any(SecondReport::fails)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 64;
    const H: usize = 36;
    const FPS: f64 = 60.0;

    /// Renders `seconds` of frames from `paint(t, x, y) -> rgb` through the audit.
    fn audit(seconds: f64, paint: impl Fn(f64, usize, usize) -> [u8; 3]) -> FlashAudit {
        let mut a = FlashAudit::new();
        for n in 0..(seconds * FPS) as usize {
            let t = n as f64 / FPS;
            let mut px = vec![0u8; W * H * 4];
            for y in 0..H {
                for x in 0..W {
                    let c = paint(t, x, y);
                    px[(y * W + x) * 4..(y * W + x) * 4 + 3].copy_from_slice(&c);
                    px[(y * W + x) * 4 + 3] = 255;
                }
            }
            a.push_rgba(t, &px, W, H);
        }
        a
    }

    fn on(t: f64, hz: f64) -> bool {
        (t * hz * 2.0).floor() as i64 % 2 == 0
    }

    fn worst(a: &FlashAudit) -> (f32, f32, bool, bool) {
        let s = a.seconds();
        (
            s.iter().map(|s| s.flashes).fold(0.0, f32::max),
            s.iter().map(|s| s.red_flashes).fold(0.0, f32::max),
            s.iter().any(|s| s.extended),
            s.iter().any(|s| s.pattern),
        )
    }

    #[test]
    fn white_flicker_fails_above_three_a_second() {
        for (hz, fails) in [(2.0, false), (3.0, false), (6.0, true), (10.0, true)] {
            let a = audit(3.0, |t, _, _| if on(t, hz) { [255; 3] } else { [0; 3] });
            let (f, _, _, _) = worst(&a);
            assert!(
                (f - hz as f32).abs() <= 1.0,
                "{hz} Hz counted as {f} flashes/s"
            );
            assert_eq!(a.fails(), fails, "{hz} Hz: {}", a.csv());
        }
    }

    #[test]
    fn three_hertz_held_for_ten_seconds_is_extended_flashing() {
        let a = audit(10.0, |t, _, _| if on(t, 3.0) { [255; 3] } else { [0; 3] });
        let (f, _, extended, _) = worst(&a);
        assert!(f <= MAX_FLASHES, "{f}");
        assert!(extended, "{}", a.csv());
        // ... but not in the first 4 s.
        assert!(a.seconds()[..4].iter().all(|s| !s.extended), "{}", a.csv());
    }

    #[test]
    fn red_black_flicker_is_a_red_flash() {
        let a = audit(3.0, |t, _, _| if on(t, 4.0) { [255, 0, 0] } else { [0; 3] });
        let (_, red, _, _) = worst(&a);
        assert!(red > MAX_FLASHES, "{}", a.csv());
        // A red that is not saturated (orange) is not.
        let a = audit(3.0, |t, _, _| {
            if on(t, 4.0) {
                [255, 160, 0]
            } else {
                [255, 170, 10]
            }
        });
        assert_eq!(worst(&a).1, 0.0, "{}", a.csv());
    }

    #[test]
    fn reversing_stripes_are_a_pattern() {
        // 12 black/white stripe pairs across the width, reversing at 5 Hz.
        let a = audit(2.0, |t, x, _| {
            let stripe = (x * 24 / W).is_multiple_of(2);
            if stripe == on(t, 5.0) {
                [255; 3]
            } else {
                [0; 3]
            }
        });
        assert!(worst(&a).3, "{}", a.csv());
        // Still stripes are not.
        let a = audit(2.0, |_, x, _| {
            if (x * 24 / W).is_multiple_of(2) {
                [255; 3]
            } else {
                [0; 3]
            }
        });
        assert!(!worst(&a).3, "{}", a.csv());
        // Stripes that appear once and stay are not; stripes that drift are.
        let a = audit(2.0, |t, x, _| {
            if t >= 0.5 && (x * 24 / W).is_multiple_of(2) {
                [255; 3]
            } else {
                [0; 3]
            }
        });
        assert!(!worst(&a).3, "{}", a.csv());
        let a = audit(2.0, |t, x, _| {
            let shift = (t * FPS).round() as usize * W / 96;
            if ((x + shift) * 24 / W).is_multiple_of(2) {
                [255; 3]
            } else {
                [0; 3]
            }
        });
        assert!(worst(&a).3, "{}", a.csv());
    }

    #[test]
    fn a_small_area_strobe_is_allowed() {
        // 20 % of the screen at 10 Hz.
        let a = audit(3.0, |t, x, _| {
            if x < W / 5 && on(t, 10.0) {
                [255; 3]
            } else {
                [0; 3]
            }
        });
        assert!(!a.fails(), "{}", a.csv());
    }
}
