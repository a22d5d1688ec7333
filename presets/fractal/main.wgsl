// Julia Bloom: smooth-coloured Julia set. The constant c travels along the
// boundary of the Mandelbrot set's main cardioid (where Julia sets are most
// intricate), one lap every 64 beats, wobbling with the bar.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let ang = TAU * (u.beats / 64.0) + 0.03 * sin(TAU * u.bar_phase);
    let e1 = vec2f(cos(ang), sin(ang));
    let e2 = vec2f(cos(2.0 * ang), sin(2.0 * ang));
    let c = (0.5 * e1 - 0.25 * e2) * param.orbit;
    let zoom = 0.85 / (1.0 + 0.05 * u.bass_att);
    var z = rot2(0.05 * u.time) * p * zoom;
    var i = 0.0;
    let max_i = param.iterations;
    var m2 = 0.0;
    for (var k = 0; k < 200; k++) {
        if (f32(k) >= max_i) { break; }
        z = vec2f(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        m2 = dot(z, z);
        if (m2 > 256.0) { break; }
        i += 1.0;
    }
    var col = vec3f(0.0);
    if (i < max_i) {
        // Smooth iteration count: no banding.
        let sn = i - log2(log2(m2)) + 4.0;
        // The palette drifts with the beat count; the centroid only nudges
        // it (a fast palette swing over the whole frame is a flash).
        let t = sn / 48.0 + 0.12 * u.centroid + 0.05 * u.beats;
        col = palette(t, vec3f(0.5), vec3f(0.5), vec3f(1.0, 0.8, 0.6), vec3f(0.0, 0.15, 0.3));
        // Rim flare on the beat: points that escaped late are near the set.
        col *= 0.7 + 0.35 * u.level_att + 0.15 * u.beat_pulse * smoothstep(0.3, 1.0, i / max_i);
        // Dark far field, bright filaments near the set.
        col *= pow(clamp(sn / 40.0, 0.0, 1.0), 1.2) * 1.6;
    } else {
        col = vec3f(0.02, 0.01, 0.04) + 0.05 * u.kick * vec3f(0.8, 0.3, 1.0);
    }
    return vec4f(col, 1.0);
}
