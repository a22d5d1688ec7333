// Kaleidoscope: fold the plane into mirrored wedges, then paint flowing fbm.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    var p = centered(uv);
    let r = length(p);
    var a = atan2(p.y, p.x) + TAU * u.bar_phase / param.segments + 0.05 * u.time;
    let wedge = TAU / param.segments;
    // Mirror fold: continuous across wedge edges, so no seams.
    a = abs((a - floor(a / wedge) * wedge) - 0.5 * wedge);
    let zoom = param.zoom * (1.0 + 0.35 * u.mid_att) * (1.0 - 0.08 * u.beat_pulse);
    var q = vec2f(cos(a), sin(a)) * r * zoom;
    q += vec2f(0.15 * u.time, 0.07 * u.time);
    let warp = vec2f(fbm(q + vec2f(0.0, u.time * 0.2)), fbm(q + vec2f(5.2, 1.3)));
    let n = fbm(q + 2.0 * warp + 0.5 * u.bass_att);
    let t = n + 0.4 * u.centroid + 0.1 * u.beats / 4.0;
    var col = palette(t, vec3f(0.5), vec3f(0.5), vec3f(1.0, 1.0, 1.0), vec3f(0.0, 0.33, 0.67));
    col *= 0.25 + 1.1 * smoothstep(0.3, 0.8, n) * (0.5 + u.level_att);
    // Sparkles on treble: thresholded high-frequency noise.
    let s = noise2(q * 24.0 + u.time * 3.0);
    col += vec3f(1.0) * smoothstep(0.93 - 0.1 * u.treb, 1.0, s) * u.treb_att;
    // Centre jewel pulses with the kick.
    col += vec3f(1.0, 0.9, 0.8) * 0.08 / (r * r * 40.0 + 0.08) * (0.3 + u.kick);
    let vignette = 1.0 - smoothstep(0.9, 1.8, r);
    return vec4f(col * vignette, 1.0);
}
