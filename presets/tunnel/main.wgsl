// Neon Tunnel: polar-mapped rings and ribs with soft neon glow.
// Travel follows the beat count (locks to the music), bass pumps the radius,
// kicks flash the rings, the 16 bands light the wall panels around the
// circumference, beat phase twists the ribs, centroid tints.

// Soft glow around integer values of x; `density` is how many lines per
// pixel, used to fade lines out before they alias.
fn glow_lines(x: f32, density: f32, sharp: f32) -> f32 {
    let d = abs(fract(x + 0.5) - 0.5);
    let g = 0.05 / (d * sharp + 0.05);
    return g * g * (1.0 - smoothstep(0.15, 0.5, density));
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    var p = centered(uv);
    p += 0.12 * vec2f(sin(TAU * u.bar_phase), cos(TAU * u.bar_phase * 0.5));
    let pump = 1.0 + 0.25 * u.bass_att + 0.15 * u.kick;
    let r = max(length(p) / pump, 0.02);
    let a = atan2(p.y, p.x);
    let z = 0.6 / r;
    let travel = u.beats * param.speed + u.time * 0.1;
    let depth = z + travel;
    // Pixel footprint in (depth, angle) space, computed analytically so the
    // atan2 seam does not produce a derivative spike.
    let px = 2.0 / u.resolution.y;
    let dz = z / r * px;
    let seg = param.segments;
    let twist = a / TAU * seg + 0.15 * z + 0.25 * sin(TAU * u.beat_phase) * u.confidence;
    let dtw = seg / TAU * px / r + 0.15 * dz;

    let rings = glow_lines(depth, dz, 3.0 - 1.5 * u.kick);
    let ribs = glow_lines(twist, dtw, 6.0);
    // Wall panels: each angular segment shows one band.
    let panel = i32(floor(fract(twist / seg) * 16.0));
    let cell = fract(depth);
    let energy = band(panel);
    let panel_light = energy * smoothstep(0.0, 0.2, cell) * smoothstep(1.0, 0.6, cell);

    let hue = param.hue + 0.35 * u.centroid + 0.03 * floor(depth);
    let base = hsv2rgb(vec3f(fract(hue), 0.8, 1.0));
    let accent = hsv2rgb(vec3f(fract(hue + 0.45), 0.7, 1.0));

    let fog = smoothstep(0.0, 0.5, r);
    var col = base * rings * (0.35 + 1.0 * max(0.8 * u.kick, u.beat_hit) + 0.25 * u.beat_pulse);
    col += accent * ribs * (0.15 + 0.6 * u.hat + 0.4 * u.treb_att);
    let panel_col = hsv2rgb(vec3f(fract(hue + f32(panel) / 32.0), 0.9, 1.0));
    col += panel_col * panel_light * 0.5 * (1.0 - smoothstep(0.2, 0.6, dz));
    col += base * 0.2 * (1.0 - fog) * (0.3 + u.level_att);
    col *= fog * (0.6 + 0.8 * u.level_att) * 1.6;
    // Soft tone map so highlights bloom instead of clipping flat.
    col = col / (1.0 + 0.6 * col);
    return vec4f(col, 1.0);
}
