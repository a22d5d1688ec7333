// Phosphor Scope: an X-Y oscilloscope. Points of the waveform plotted
// against the waveform a fraction of the buffer later trace a Lissajous
// figure; the beam is a chain of short segments drawn with a soft glow, and
// the previous frame fades like phosphor behind it.

fn seg_dist(p: vec2f, a: vec2f, b: vec2f) -> f32 {
    let pa = p - a;
    let ba = b - a;
    let h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    return length(pa - ba * h);
}

fn beam_point(i: f32, n: f32, turn: mat2x2f, size: f32, gain: f32) -> vec2f {
    let x = i / n;
    // Soft radial saturation (r / (1 + r)): loud peaks round off toward a
    // circle instead of squaring the figure.
    let w = vec2f(waveform(x), waveform(fract(x + param.delay))) * gain;
    let p = w * (1.4 / (1.0 + length(w)));
    return turn * (p * size);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    // Phosphor: the last frame, slightly zoomed toward the centre so trails drift.
    let back = uv_of(p * 0.995);
    let trail = prev(back).rgb * param.persistence;

    let turn = rot2(TAU * (u.bar_phase * 0.25 + u.time * 0.02));
    let size = param.size * (0.6 + 0.4 * u.level_att);
    // Auto-gain: the figure fills the screen whether the signal is loud or
    // soft (the RMS level in dBFS sets the scale; silence stays a dot).
    let amp = pow(10.0, u.rms_db / 20.0) * 1.41;
    let gain = select(0.0, 0.4 / max(amp, 0.01), u.rms_db > -60.0);
    let n = 40.0;
    var d = 1e3;
    // The figure stays within 1.4 size of the centre: pixels beyond it
    // (and its glow) skip the segments.
    if (length(p) < size * 1.4 + 0.1) {
        var a = beam_point(0.0, n, turn, size, gain);
        for (var i = 1; i < 40; i++) {
            let b = beam_point(f32(i), n, turn, size, gain);
            d = min(d, seg_dist(p, a, b));
            a = b;
        }
    }
    let px = 2.0 / u.resolution.y;
    let width = px * (1.2 + 2.5 * u.beat_hit);
    let core = smoothstep(width, 0.0, d);
    let halo = 0.012 / (d * d * 900.0 + 0.012) * 0.35;
    let hue = 0.42 + 0.35 * u.centroid;
    let beam = hsv2rgb(vec3f(fract(hue), 0.7, 1.0));
    let energy = 0.35 + 0.65 * max(u.level_att, 0.8 * u.beat_hit);
    var col = trail + beam * (core * 0.9 + halo) * energy;
    // A faint graticule, like the scope's glass.
    let g = abs(fract(p * 2.5) - 0.5);
    let grid = smoothstep(px * 1.5, 0.0, min(g.x, g.y) / 2.5) * 0.035;
    col = max(col, vec3f(0.05, 0.09, 0.08) * grid * 20.0);
    return vec4f(min(col, vec3f(1.5)), 1.0);
}
