// Vortex: zoom/rotate/warp feedback in the manner of MilkDrop's per-pixel
// motion. Each pixel reads the previous frame from a point slightly closer
// to the centre (zoom), turned a little (rotation) and pushed by a slow
// noise field (warp); the colour drifts through the palette as it echoes.
// A waveform ring, drawn fresh every frame, feeds the echoes.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let r = length(p);
    // Motion of the echo.
    let zoom = 1.0 + (0.012 + 0.05 * u.bass_att + 0.03 * u.kick) * param.zoom;
    let angle = (0.004 + 0.02 * sin(TAU * u.bar_phase)) * param.turn;
    let warp_amt = 0.004 + 0.012 * u.treb_att;
    let w = vec2f(
        noise2(p * 2.0 + vec2f(u.time * 0.2, 0.0)) - 0.5,
        noise2(p * 2.0 + vec2f(0.0, u.time * 0.2) + 17.0) - 0.5,
    );
    let src = rot2(angle) * (p / zoom) + w * warp_amt;
    var echo = prev(uv_of(src)).rgb * param.decay;
    // Colour drift: a slow rotation of the hue of what echoes.
    let k = 0.02 + 0.03 * u.centroid;
    let m = mat3x3f(
        vec3f(1.0 - k, k, 0.0),
        vec3f(0.0, 1.0 - k, k),
        vec3f(k, 0.0, 1.0 - k),
    );
    echo = m * echo;

    // The fresh ink: a ring whose radius follows the waveform around it.
    let a = atan2(p.y, p.x) / TAU + 0.5;
    // Mirrored around the circle, so the ring has no seam.
    let wave = waveform(1.0 - abs(2.0 * a - 1.0));
    let ring_r = 0.35 + 0.12 * u.level_att + 0.08 * wave;
    let d = abs(r - ring_r);
    let px = 2.0 / u.resolution.y;
    let hue = 0.6 + 0.3 * u.centroid + 0.1 * u.bar_phase;
    let ink_col = hsv2rgb(vec3f(fract(hue + 0.15 * sin(TAU * a)), 0.75, 1.0));
    let ink = smoothstep(2.5 * px, 0.0, d) * (0.25 + 0.5 * u.level_att + 0.6 * u.beat_hit);
    // A small core that pulses with the kick.
    let core = 0.015 / (r * r * 60.0 + 0.015) * (0.1 + 0.5 * u.kick);
    var col = echo + ink_col * ink + ink_col * core * 0.5;
    // Edges fade so nothing is trapped at the border.
    col *= smoothstep(1.9, 1.2, length(p * vec2f(1.0 / u.aspect * 1.78, 1.0)));
    return vec4f(min(col, vec3f(4.0)), 1.0);
}
