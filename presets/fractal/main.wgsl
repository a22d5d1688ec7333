// Julia Bloom: a Julia set drawn by its distance estimate. The constant c
// travels along the boundary of the Mandelbrot set's main cardioid (where
// Julia sets are most intricate), one lap every 64 beats, wobbling with the
// bar. Colour comes from the distance to the set in pixels, not from the
// iteration count: the outline is anti-aliased at any zoom and the
// filaments glow instead of shimmering, in one hue with a white-hot edge.

fn cmul(a: vec2f, b: vec2f) -> vec2f {
    return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let ang = TAU * (u.beats / 192.0) + 0.006 * sin(TAU * u.bar_phase);
    let e1 = vec2f(cos(ang), sin(ang));
    let e2 = vec2f(cos(2.0 * ang), sin(2.0 * ang));
    let c = (0.5 * e1 - 0.25 * e2) * param.orbit;
    let zoom = 0.85 / (1.0 + 0.25 * u.bass_att);
    var z = rot2(0.05 * u.time) * p * zoom;
    var dz = vec2f(1.0, 0.0);
    var m2 = dot(z, z);
    var trap = 1e9;
    var escaped = false;
    let max_i = i32(param.iterations);
    for (var k = 0; k < 200; k++) {
        if k >= max_i {
            break;
        }
        dz = 2.0 * cmul(z, dz);
        z = cmul(z, z) + c;
        m2 = dot(z, z);
        trap = min(trap, abs(z.x * z.y));
        if m2 > 1024.0 {
            escaped = true;
            break;
        }
    }
    // One pixel in the set's coordinates.
    let px = 2.0 / u.resolution.y * zoom;
    let hue = param.hue + 0.08 * u.centroid + 0.01 * floor(u.bars / 4.0);
    let glow_col = hsv2rgb(vec3f(fract(hue), 0.75, 1.0));
    let deep = hsv2rgb(vec3f(fract(hue + 0.12), 0.85, 0.22));
    var col: vec3f;
    if escaped {
        let mz = sqrt(m2);
        let d = 0.5 * mz * log(mz) / max(length(dz), 1e-20);
        // The glow's width is a share of the screen (the same look at any
        // resolution); the outline is one pixel, anti-aliased.
        let unit = 2.0 / 360.0 * zoom;
        let glow = exp(-d / unit * (0.22 - 0.04 * u.level_att));
        let line = 1.0 - smoothstep(0.5, 2.0, d / px);
        let field = 0.5 + 0.5 * sin(log(max(d, 1e-6)) * 2.0 - u.beats * 0.5);
        col = deep * (0.25 + 0.35 * field) * (1.0 - glow);
        // The level lifts the glow only a little: the glow covers much of the
        // screen, so following the kick drum there would flash.
        col += glow_col * glow * (0.4 + 0.2 * u.level_att);
        // The beat flares the outline only a little: where the set turns to
        // dust the outline covers much of the screen, and a big flare there
        // would be a flash on every beat.
        col += mix(glow_col, vec3f(1.0), 0.3) * line * (0.5 + 0.2 * u.beat_hit);
    } else {
        // Inside: dark, with a slow orbit-trap texture and a kick glow.
        let t = clamp(-log(trap + 1e-4) * 0.12, 0.0, 1.0);
        col = deep * 0.35 * t + glow_col * 0.08 * u.kick;
    }
    return vec4f(col, 1.0);
}
