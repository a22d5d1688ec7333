// Monoliths: a raymarched hall of rounded pillars (signed distance field),
// lit by a key light that circles with the bar, with soft shadows, ambient
// occlusion and fog. The camera travels one pillar row per beat.

fn sd_round_box(p: vec3f, b: vec3f, r: f32) -> f32 {
    let q = abs(p) - b + r;
    return length(max(q, vec3f(0.0))) + min(max(q.x, max(q.y, q.z)), 0.0) - r;
}

// The scene: an infinite grid of pillars (repeated every 2 units in x and
// z, a lane left open for the camera), a floor and a ceiling.
fn scene(p: vec3f) -> f32 {
    var q = p;
    let cell = floor(q.xz / 2.0);
    q = vec3f(q.x - 2.0 * (cell.x + 0.5), q.y, q.z - 2.0 * (cell.y + 0.5));
    let h = hash21(cell);
    let swell = 0.05 * u.bass_att + 0.03 * u.kick;
    var pillar = sd_round_box(q, vec3f(0.32 + swell, 1.6 + 0.6 * h, 0.32 + swell), 0.12);
    // The lane the camera flies through stays open; there the distance is
    // bounded by the nearest column of pillars (|x| = 2.56), so the march
    // never steps into them.
    if (abs(cell.x + 0.5) < 0.6) {
        pillar = 2.5 - abs(p.x);
    }
    let floor_d = p.y + 1.2;
    let ceil_d = 2.6 - p.y;
    return min(pillar, min(floor_d, ceil_d));
}

fn normal_at(p: vec3f) -> vec3f {
    let e = vec2f(0.002, 0.0);
    return normalize(vec3f(
        scene(p + e.xyy) - scene(p - e.xyy),
        scene(p + e.yxy) - scene(p - e.yxy),
        scene(p + e.yyx) - scene(p - e.yyx),
    ));
}

fn soft_shadow(ro: vec3f, rd: vec3f) -> f32 {
    var res = 1.0;
    var t = 0.05;
    for (var i = 0; i < 24; i++) {
        let h = scene(ro + rd * t);
        res = min(res, 8.0 * h / t);
        t += clamp(h, 0.03, 0.4);
        if (res < 0.01 || t > 6.0) {
            break;
        }
    }
    return clamp(res, 0.0, 1.0);
}

fn occlusion(p: vec3f, n: vec3f) -> f32 {
    var o = 0.0;
    var w = 1.0;
    for (var i = 1; i <= 4; i++) {
        let d = 0.08 * f32(i);
        o += w * (d - scene(p + n * d));
        w *= 0.6;
    }
    return clamp(1.0 - 2.5 * o, 0.0, 1.0);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p2 = centered(uv);
    // One pillar row (2 units) per beat, eased so the glide lands on it.
    let travel = (floor(u.beats) + smoothstep(0.0, 0.6, u.beat_phase)) * param.speed + u.time * 0.05;
    let ro = vec3f(0.0, 0.2 + 0.1 * sin(u.time * 0.3), travel * 2.0);
    let yaw = 0.25 * sin(u.time * 0.11) + 0.1 * sin(TAU * u.bar_phase);
    var rd = normalize(vec3f(p2.x, p2.y - 0.1, 1.6));
    let xz = rot2(yaw) * rd.xz;
    rd = vec3f(xz.x, rd.y, xz.y);

    var t = 0.0;
    var hit = false;
    for (var i = 0; i < 72; i++) {
        let d = scene(ro + rd * t);
        if (d < 0.001 * t) {
            hit = true;
            break;
        }
        t += d;
        if (t > 30.0) {
            break;
        }
    }
    let hue = param.hue + 0.15 * u.centroid;
    let fog_col = hsv2rgb(vec3f(fract(hue + 0.5), 0.6, 0.12 + 0.12 * u.level_att));
    // A light at the end of the hall.
    let horizon = exp(-12.0 * dot(p2 - vec2f(0.0, 0.1), p2 - vec2f(0.0, 0.1)));
    let glow = hsv2rgb(vec3f(fract(hue + 0.45), 0.8, 1.0));
    var col = fog_col + glow * horizon * (0.35 + 0.4 * u.bass_att);
    if (hit) {
        let p = ro + rd * t;
        let n = normal_at(p);
        // Key light circling overhead with the bar; warm, against a cool fill.
        let la = TAU * u.bar_phase;
        let light_dir = normalize(vec3f(0.9 * cos(la), 0.7, 0.9 * sin(la) + 0.3));
        let key = hsv2rgb(vec3f(fract(hue + 0.08), 0.35, 1.0));
        let fill = hsv2rgb(vec3f(hue, 0.6, 0.55));
        let diff = max(dot(n, light_dir), 0.0) * soft_shadow(p + n * 0.01, light_dir);
        let ao = occlusion(p, n);
        let spec = pow(max(dot(reflect(rd, n), light_dir), 0.0), 24.0);
        // Rim light on hits: on the predicted beat and on kicks.
        let rim = pow(1.0 - max(dot(-rd, n), 0.0), 3.0) * (0.2 + 1.6 * max(u.beat_hit, 0.8 * u.kick));
        col = key * diff * 0.9 + fill * ao * (0.25 + 0.5 * n.y * 0.5) + vec3f(spec) * 0.6 * diff
            + glow * rim * ao;
        // A neon strip around each pillar, at a height that climbs with the
        // bar, lit by the band the pillar listens to.
        let cell = floor(p.xz / 2.0);
        let b_idx = i32(hash21(cell + 7.0) * 16.0);
        let strip_y = -1.0 + 2.8 * fract(u.bar_phase + hash21(cell));
        let strip = smoothstep(0.06, 0.0, abs(p.y - strip_y)) * step(-1.15, p.y) * step(p.y, 2.5);
        col += glow * strip * (0.3 + 1.5 * band(b_idx));
        // Grooves on the floor light up with the bands.
        if (p.y < -1.19) {
            let lane = abs(fract(p.z * 0.5) - 0.5);
            let b = band(i32(fract(p.x * 0.25) * 16.0));
            col += glow * smoothstep(0.03, 0.0, lane) * 0.6 * b;
        }
        let fog = 1.0 - exp(-t * (0.05 + 0.12 * param.fog));
        col = mix(col, fog_col, fog);
    }
    // Vignette.
    col *= 1.0 - 0.35 * dot(p2 * 0.6, p2 * 0.6);
    return vec4f(col, 1.0);
}
