// Neon Tunnel: flight down a tiled metal tunnel, lit.
// Each pixel's ray meets the tunnel wall analytically (a cylinder around the
// view axis: distance = focal * radius / screen radius). The wall is tiled;
// every tile is bevelled, so the lights give it edges, highlights and depth.
// Neon seams between the tiles carry the 16 bands around the circumference;
// the seams across the tunnel are rings. Lights: a headlight, and on every
// predicted beat a ring of light (born with a flash on
// `beat_hit` deep in the tunnel, then rushing toward the camera; brighter
// on the bar). Travel follows the beat count, bass
// pumps the radius, kicks light the rings, centroid tints, fog hides the
// far end so it never aliases.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    var p = centered(uv);
    // The vanishing point sways with the bar.
    p -= 0.10 * vec2f(sin(TAU * u.bar_phase), 0.6 * cos(TAU * u.bar_phase * 0.5));
    let r = max(length(p), 1e-3);
    let a = atan2(p.y, p.x);
    let radius = 1.0 + 0.10 * u.bass_att + 0.05 * u.kick;
    let focal = 0.75;
    let z = focal * radius / r;
    let travel = u.beats * param.speed + u.time * 0.1;
    let seg = param.segments;
    // Tile coordinates: around (u) and along (v), with a slow twist.
    let tu = a / TAU * seg + 0.06 * z + 0.1 * u.bars;
    let tv = (z + travel) * 1.5;
    let fu = fract(tu);
    let fv = fract(tv);
    // Pixel footprint in tile units (analytic: no seam at atan2's cut).
    let px = 2.0 / u.resolution.y;
    let dv = 1.5 * z / r * px;
    let du = seg / TAU * px / r + 0.06 * dv;
    let foot = max(du, dv);
    // Bevels: the normal tilts toward the tile centre near its edges.
    let bevel = 0.16;
    let eu = min(fu, 1.0 - fu);
    let ev = min(fv, 1.0 - fv);
    let nu = (1.0 - smoothstep(0.0, bevel, eu)) * select(-1.0, 1.0, fu > 0.5);
    let nv = (1.0 - smoothstep(0.0, bevel, ev)) * select(-1.0, 1.0, fv > 0.5);
    let detail = 1.0 - smoothstep(0.08, 0.35, foot);
    let inward = -vec3f(cos(a), sin(a), 0.0);
    let around = vec3f(-sin(a), cos(a), 0.0);
    let n = normalize(inward + 0.8 * detail * (nu * around + vec3f(0.0, 0.0, nv)));
    let pos = vec3f(-inward.xy * radius, z);
    let view = normalize(-pos);

    let hue = param.hue + 0.3 * u.centroid;
    let neon = hsv2rgb(vec3f(fract(hue), 0.75, 1.0));
    let warm = hsv2rgb(vec3f(fract(hue + 0.5), 0.6, 1.0));

    // Lights on the axis: the headlight just ahead of the camera, and the
    // beat ring running away (one beat: from the camera to 8 units deep).
    var light = vec3f(0.0);
    // The ring is born deep in the tunnel on the beat (a flash in the
    // centre, small on screen) and rushes toward the camera, fading.
    let run = 9.0 - 7.5 * u.beat_phase;
    let on_bar = select(0.0, 0.6, u.bar_phase * u.beats_per_bar < 1.0);
    let ring_power = (0.15 + 0.85 * u.confidence) * (1.0 + on_bar) * (1.0 - u.beat_phase) * (1.0 - u.beat_phase) * 1.5
        + 2.0 * u.beat_hit * u.confidence;
    for (var i = 0; i < 2; i++) {
        // 0: the headlight, 1.5 units ahead; 1: the running beat ring, whose
        // light stays in a band around it (it never floods the frame).
        let lz = select(run, 1.5, i == 0);
        let to_light = vec3f(0.0, 0.0, lz) - pos;
        let dist = length(to_light);
        let l = to_light / dist;
        let fall = select(
            ring_power * exp(-abs(z - run) * 2.5),
            (0.35 + 0.35 * u.level_att) / (1.0 + dist * dist),
            i == 0
        );
        let tint = select(warm, vec3f(0.85, 0.9, 1.0), i == 0);
        let diffuse = max(dot(n, l), 0.0);
        let h = normalize(l + view);
        let spec = pow(max(dot(n, h), 0.0), 80.0) * detail;
        light += tint * fall * (0.05 * diffuse + spec);
    }
    var col = light;

    // Neon seams: along the tunnel (the bands) and across it (the rings).
    let seam_u = smoothstep(0.035 + du, 0.0, eu);
    let seam_v = smoothstep(0.035 + dv, 0.0, ev);
    let panel = i32(floor(tu)) & 15;
    let energy = band(panel);
    col += neon * seam_u * (0.08 + 1.1 * energy * energy) * detail;
    let ring_lit = 0.1 + 0.5 * u.kick + 0.3 * u.beat_hit;
    col += warm * seam_v * ring_lit * detail;
    // The beat ring itself, where it passes.
    col += warm * exp(-abs(z - run) * 8.0) * ring_power * 0.5;

    // Fog toward the far end: dark, tinted, with a faint glow at the core.
    let fog = exp(-z * 0.16);
    col = col * fog + neon * 0.05 * (1.0 - fog) * (0.4 + u.level_att);
    return vec4f(col, 1.0);
}
