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
    // Stained glass: two neighbouring jewel hues across the noise, lead-dark
    // seams between the panes (contour lines of the noise), so a loud
    // passage brightens the panes but never fills the frame with one colour.
    let hue = param.hue + 0.06 * u.centroid + 0.0625 * floor(u.bars / 4.0);
    let pane = fract(n * 3.0 + 0.05 * u.beats);
    let seam = smoothstep(0.0, 0.12, pane) * smoothstep(1.0, 0.88, pane);
    let a_col = hsv2rgb(vec3f(fract(hue), 0.85, 1.0));
    let b_col = hsv2rgb(vec3f(fract(hue + 0.18), 0.7, 1.0));
    var col = mix(a_col, b_col, smoothstep(0.2, 0.8, pane)) * seam;
    col *= 0.15 + 0.9 * smoothstep(0.25, 0.85, n) * (0.55 + 0.6 * u.level_att);
    // Sparkles on treble: thresholded high-frequency noise.
    let s = noise2(q * 24.0 + u.time * 3.0);
    col += vec3f(1.0) * smoothstep(0.93 - 0.1 * u.treb, 1.0, s) * u.treb_att;
    // Centre jewel pulses with the kick.
    col += vec3f(1.0, 0.9, 0.8) * 0.08 / (r * r * 40.0 + 0.08) * (0.3 + u.kick);
    let vignette = 1.0 - smoothstep(0.9, 1.8, r);
    return vec4f(col * vignette, 1.0);
}
