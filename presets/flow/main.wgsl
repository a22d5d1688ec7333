// Flow Field: advect last frame along a curl-noise velocity, inject ink.

/// The stream function (value, d/dx, d/dy) at a centred point.
fn potential(p: vec2f) -> vec3f {
    let g = fbm_grad(p * 1.3 + vec2f(0.05 * u.time, -0.03 * u.time));
    return vec3f(g.x, 1.3 * g.yz);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    // Curl of a scalar potential: divergence-free, so ink swirls without piling up.
    let pot = potential(p);
    var vel = vec2f(pot.z, -pot.y);
    vel = rot2(TAU * u.bar_phase * 0.25) * vel;
    let speed = 0.0025 * param.turbulence * (0.4 + 1.6 * u.flux + 0.8 * u.bass_att);
    let src = p - vel * speed;
    var col = prev(uv_of(src)).rgb * param.fade;

    // Ink sources: three drifting emitters, brightness from onsets and bands.
    for (var i = 0; i < 3; i++) {
        let fi = f32(i);
        let c = 0.6 * vec2f(sin(u.time * 0.3 + fi * 2.1), cos(u.time * 0.23 + fi * 1.7));
        let d = length(p - c);
        let energy = 0.2 * u.level_att + 0.9 * u.onset + 0.5 * band(2 + i * 5);
        let hue = 0.12 * fi + 0.5 * u.centroid + 0.05 * u.beats / 4.0;
        col += hsv2rgb(vec3f(fract(hue), 0.85, 1.0)) * 0.01 / (d * d + 0.01) * energy * 0.5;
    }
    // Faint field lines so the current is visible in quiet parts.
    let field = pot.x;
    let lines = abs(fract(field * 12.0) - 0.5);
    col += hsv2rgb(vec3f(fract(0.55 + 0.3 * u.centroid), 0.6, 0.12)) * smoothstep(0.12, 0.0, lines) * (0.3 + u.treb_att);
    return vec4f(min(col, vec3f(3.0)), 1.0);
}
