// Phosphor Scope, compute pass: the beam's points, computed once per frame
// (one invocation per point) instead of once per pixel.

@group(2) @binding(0) var<storage, read_write> beam: array<vec2f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
    let n = arrayLength(&beam);
    if id.x >= n {
        return;
    }
    let turn = rot2(TAU * (u.bar_phase * 0.25 + u.time * 0.02));
    let size = param.size * (0.6 + 0.4 * u.level_att);
    // Auto-gain: the figure fills the screen whether the signal is loud or
    // soft (the RMS level in dBFS sets the scale; silence stays a dot).
    let amp = pow(10.0, u.rms_db / 20.0) * 1.41;
    let gain = select(0.0, 0.4 / max(amp, 0.01), u.rms_db > -60.0);
    let x = f32(id.x) / f32(n);
    // Soft radial saturation (r / (1 + r)): loud peaks round off toward a
    // circle instead of squaring the figure.
    let w = vec2f(waveform(x), waveform(fract(x + param.delay))) * gain;
    let p = w * (1.4 / (1.0 + length(w)));
    beam[id.x] = turn * (p * size);
}
