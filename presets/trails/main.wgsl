// Feedback trails: last frame zoomed and rotated a little, faded, plus new lights.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    // Feedback: sample the previous frame slightly outward and rotated, so
    // trails flow toward the centre and swirl.
    let turn = 0.01 * param.swirl * (0.5 + sin(TAU * u.bar_phase));
    let q = rot2(turn) * p * (0.985 - 0.02 * u.bass_att);
    var col = prev(uv_of(q)).rgb * param.decay;

    // One light per band on a ring, radius and size from the band energy.
    for (var i = 0; i < 16; i++) {
        let e = band(i);
        let ang = TAU * f32(i) / 16.0 + 0.4 * u.beats * 0.25 + 0.3 * u.time;
        let rad = 0.35 + 0.45 * e;
        let c = vec2f(cos(ang), sin(ang)) * rad;
        let d = length(p - c);
        let size = 0.01 + 0.03 * e;
        let hue = f32(i) / 16.0 * 0.6 + 0.5 * u.centroid;
        col += hsv2rgb(vec3f(fract(hue), 0.8, 1.0)) * (size * size) / (d * d + size * size * 0.5) * e;
    }
    // Kick ring: radius grows from the kick pulse as it decays.
    let ring_r = 0.1 + 1.2 * (1.0 - u.kick);
    let ring = exp(-abs(length(p) - ring_r) * 60.0) * u.kick;
    col += vec3f(1.0, 0.6, 0.9) * ring;
    return vec4f(min(col, vec3f(4.0)), 1.0);
}
