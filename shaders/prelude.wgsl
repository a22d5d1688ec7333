// sonolux shader prelude, contract version 1. Prepended to every pass.
// The contract is documented in shaders/README.md; do not change a field's
// meaning without bumping the version.

struct Sonolux {
    resolution: vec2f,   // render target size in pixels (after render scale)
    time: f32,           // seconds since the show (or render) started
    delta: f32,          // seconds since the previous frame
    frame: f32,          // frame index
    render_scale: f32,   // fraction of the output size this pass renders at
    aspect: f32,         // resolution.x / resolution.y
    _pad0: f32,
    level: f32,          // overall loudness 0..1 (auto-gained)
    level_att: f32,      // smoothed
    bass: f32,           // 20-250 Hz 0..1
    bass_att: f32,
    mid: f32,            // 250-4000 Hz 0..1
    mid_att: f32,
    treb: f32,           // 4 kHz and up 0..1
    treb_att: f32,
    onset: f32,          // onset pulse 0..1, decays in ~120 ms
    kick: f32,           // kick hit pulse 0..1
    snare: f32,          // snare hit pulse 0..1
    hat: f32,            // hi-hat hit pulse 0..1
    bpm: f32,            // tempo, 0 when unknown
    beat_phase: f32,     // 0..1 within the beat, 0 = on the beat
    bar_phase: f32,      // 0..1 within the 4-beat bar, 0 = downbeat
    beat_pulse: f32,     // 1 exactly on the predicted beat, 0 a quarter beat away
    beats: f32,          // beats since the clock started (fractional)
    bar_pulse: f32,      // like beat_pulse, on downbeats only
    confidence: f32,     // beat clock confidence 0..1
    flux: f32,           // onset strength 0..1 (continuous)
    centroid: f32,       // brightness 0..1 (50 Hz .. 12.8 kHz, log)
    flatness: f32,       // 0 tonal .. 1 noisy
    rolloff: f32,        // 85% rolloff, mapped like centroid
    rms_db: f32,         // RMS level in dBFS (not normalised)
    beat_hit: f32,       // 1 at each predicted beat, decays over ~100 ms (flash ON the beat)
    bar_hit: f32,        // the same at each predicted downbeat
    bars: f32,           // whole bars since the first downbeat
    beats_per_bar: f32,  // metre of the beat clock (4 for 4/4, 3 for 3/4)
    bands: array<vec4f, 4>, // 16 log-spaced bands 30 Hz..16 kHz, 0..1: band(i)
}

@group(0) @binding(0) var<uniform> u: Sonolux;
// @group(0) @binding(1) is `param`, generated from the preset's [[param]] list.
@group(0) @binding(2) var spectrum_tex: texture_2d<f32>; // 512x2: row 0 spectrum, row 1 waveform
@group(0) @binding(3) var prev_frame: texture_2d<f32>;   // this pass's output from the previous frame
@group(0) @binding(4) var input_tex: texture_2d<f32>;    // previous pass this frame (pass 0: last frame's final image)
@group(0) @binding(5) var samp: sampler;                 // linear, clamp to edge
@group(0) @binding(6) var samp_repeat: sampler;          // linear, repeat
@group(0) @binding(7) var audio_tex: texture_2d<f32>;    // 512x2 as Shadertoy's audio input: row 0 linear FFT bins, row 1 waveform

const PI: f32 = 3.14159265358979;
const TAU: f32 = 6.28318530717959;

// VsOut and vs_main come from shaders/fullscreen.wgsl, prepended to this
// file; a fragment pass's entry point (fs_main, calling `shade`) comes from
// shaders/entry.wgsl, appended after it.

// ---- helpers -------------------------------------------------------------

/// Band i (0..15) of the 16 log-spaced bands.
fn band(i: i32) -> f32 {
    let j = clamp(i, 0, 15);
    return u.bands[j / 4][j % 4];
}

/// Spectrum magnitude at x in 0..1 (log frequency, 20 Hz .. 20 kHz), 0..1.
fn spectrum(x: f32) -> f32 {
    return textureSampleLevel(spectrum_tex, samp, vec2f(x, 0.25), 0.0).r;
}

/// Waveform at x in 0..1, -1..1.
fn waveform(x: f32) -> f32 {
    return textureSampleLevel(spectrum_tex, samp, vec2f(x, 0.75), 0.0).r * 2.0 - 1.0;
}

/// This pass's previous frame at uv.
fn prev(uv: vec2f) -> vec4f {
    return textureSampleLevel(prev_frame, samp, uv, 0.0);
}

/// The previous pass's output (or last frame's final image for pass 0) at uv.
fn input(uv: vec2f) -> vec4f {
    return textureSampleLevel(input_tex, samp, uv, 0.0);
}

/// uv mapped to centred coordinates: y up, -1..1 vertically, aspect-correct x.
fn centered(uv: vec2f) -> vec2f {
    return vec2f((uv.x * 2.0 - 1.0) * u.aspect, 1.0 - uv.y * 2.0);
}

/// Inverse of `centered`.
fn uv_of(p: vec2f) -> vec2f {
    return vec2f((p.x / u.aspect + 1.0) * 0.5, (1.0 - p.y) * 0.5);
}

/// 2D rotation matrix.
fn rot2(a: f32) -> mat2x2f {
    let c = cos(a);
    let s = sin(a);
    return mat2x2f(c, s, -s, c);
}

/// HSV (all 0..1) to RGB.
fn hsv2rgb(c: vec3f) -> vec3f {
    let k = vec3f(1.0, 2.0 / 3.0, 1.0 / 3.0);
    let p = abs(fract(c.xxx + k) * 6.0 - 3.0);
    return c.z * mix(vec3f(1.0), clamp(p - 1.0, vec3f(0.0), vec3f(1.0)), c.y);
}

/// Cosine palette (Inigo Quilez): a + b * cos(TAU * (c * t + d)).
fn palette(t: f32, a: vec3f, b: vec3f, c: vec3f, d: vec3f) -> vec3f {
    return a + b * cos(TAU * (c * t + d));
}

/// Hash of a 2D point to 0..1.
fn hash21(p: vec2f) -> f32 {
    var q = fract(p * vec2f(123.34, 456.21));
    q += dot(q, q + 45.32);
    return fract(q.x * q.y);
}

/// Smooth value noise, 0..1.
fn noise2(p: vec2f) -> f32 {
    let i = floor(p);
    let f = fract(p);
    let w = f * f * (3.0 - 2.0 * f);
    let a = hash21(i);
    let b = hash21(i + vec2f(1.0, 0.0));
    let c = hash21(i + vec2f(0.0, 1.0));
    let d = hash21(i + vec2f(1.0, 1.0));
    return mix(mix(a, b, w.x), mix(c, d, w.x), w.y);
}

/// Fractal noise, 5 octaves, about 0..1.
fn fbm(p: vec2f) -> f32 {
    var v = 0.0;
    var a = 0.5;
    var q = p;
    for (var i = 0; i < 5; i++) {
        v += a * noise2(q);
        q = rot2(0.5) * q * 2.03 + vec2f(1.7, 9.2);
        a *= 0.5;
    }
    return v;
}

/// Value noise with its gradient: (value, d/dx, d/dy). Same value as `noise2`.
fn noise2_grad(p: vec2f) -> vec3f {
    let i = floor(p);
    let f = fract(p);
    let w = f * f * (3.0 - 2.0 * f);
    let dw = 6.0 * f * (1.0 - f);
    let a = hash21(i);
    let b = hash21(i + vec2f(1.0, 0.0));
    let c = hash21(i + vec2f(0.0, 1.0));
    let d = hash21(i + vec2f(1.0, 1.0));
    let k = a - b - c + d;
    let v = a + (b - a) * w.x + (c - a) * w.y + k * w.x * w.y;
    return vec3f(v, dw.x * (b - a + k * w.y), dw.y * (c - a + k * w.x));
}

/// `fbm` with its analytic gradient: (value, d/dx, d/dy) in one pass, for
/// curl fields and normals without five finite-difference evaluations.
fn fbm_grad(p: vec2f) -> vec3f {
    var v = vec3f(0.0);
    var a = 0.5;
    var q = p;
    // dq/dp so far: each octave rotates and scales the domain.
    var m = mat2x2f(1.0, 0.0, 0.0, 1.0);
    let step = rot2(0.5) * 2.03;
    for (var i = 0; i < 5; i++) {
        let n = noise2_grad(q);
        v += a * vec3f(n.x, transpose(m) * n.yz);
        q = rot2(0.5) * q * 2.03 + vec2f(1.7, 9.2);
        m = step * m;
        a *= 0.5;
    }
    return v;
}

/// Anti-aliased step: 1 inside (d < 0), 0 outside, one pixel wide edge.
fn aa_fill(d: f32) -> f32 {
    let w = max(fwidth(d), 1e-5);
    return clamp(0.5 - d / w, 0.0, 1.0);
}
