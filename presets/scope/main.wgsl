// Phosphor Scope: an X-Y oscilloscope. Points of the waveform plotted
// against the waveform a fraction of the buffer later trace a Lissajous
// figure; the beam is a chain of short segments drawn with a soft glow, and
// the previous frame fades like phosphor behind it. The points come from a
// compute pass (beam.wgsl) once per frame.

@group(2) @binding(0) var<storage, read> beam: array<vec2f>;

fn seg_dist(p: vec2f, a: vec2f, b: vec2f) -> f32 {
    let pa = p - a;
    let ba = b - a;
    let h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    return length(pa - ba * h);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    // Phosphor: the last frame, slightly zoomed toward the centre so trails drift.
    let back = uv_of(p * 0.995);
    let trail = prev(back).rgb * param.persistence;

    let size = param.size * (0.6 + 0.4 * u.level_att);
    let n = arrayLength(&beam);
    var d = 1e3;
    // The figure stays within 1.4 size of the centre: pixels beyond it
    // (and its glow) skip the segments.
    if (length(p) < size * 1.4 + 0.1) {
        var a = beam[0];
        for (var i = 1u; i < n; i++) {
            let b = beam[i];
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
