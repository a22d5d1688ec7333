//! Sums in eight lanes: a single running `f32` sum must keep its order, so
//! the compiler cannot vectorise it; eight independent ones can. Results
//! differ from a plain sum only by rounding.

/// The sum of `f(x)` over `x`, in eight lanes: a single running `f32` sum
/// must keep its order, so the compiler cannot vectorise it; eight can.
#[inline(always)]
pub fn lane_sum(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            lanes[k] += f(c[k]);
        }
    }
    for &v in rest {
        lanes[0] += f(v);
    }
    lanes.iter().sum()
}

/// The dot product of `a` and `b`, in eight lanes (see [`lane_sum`]).
#[inline(always)]
pub fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    for (x, y) in ra.iter().zip(rb) {
        lanes[0] += x * y;
    }
    lanes.iter().sum()
}
