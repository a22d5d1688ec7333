// Bar Counter: seven-segment digits drawn as distance fields. The top line
// is the tempo (BPM), the bottom line BAR.BEAT; a row of lamps, one per
// beat of the bar, fires on the predicted beat.

// Distance to a segment of a seven-segment digit cell (cell is 1 x 2,
// centred at the origin): segments a..g as bits 0..6.
fn seg_box(p: vec2f, c: vec2f, half: vec2f) -> f32 {
    let q = abs(p - c) - half;
    return length(max(q, vec2f(0.0))) + min(max(q.x, q.y), 0.0);
}

fn digit_dist(p: vec2f, digit: i32) -> f32 {
    // Segment masks for 0-9 (bit 0 = a (top), 1 = b, 2 = c, 3 = d, 4 = e, 5 = f, 6 = g).
    var masks = array<i32, 10>(0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F);
    let m = masks[clamp(digit, 0, 9)];
    let t = 0.09; // half thickness
    let h = vec2f(0.32, t);
    let v = vec2f(t, 0.36);
    var d = 1e3;
    if ((m & 1) != 0) { d = min(d, seg_box(p, vec2f(0.0, 0.84), h)); }
    if ((m & 2) != 0) { d = min(d, seg_box(p, vec2f(0.42, 0.42), v)); }
    if ((m & 4) != 0) { d = min(d, seg_box(p, vec2f(0.42, -0.42), v)); }
    if ((m & 8) != 0) { d = min(d, seg_box(p, vec2f(0.0, -0.84), h)); }
    if ((m & 16) != 0) { d = min(d, seg_box(p, vec2f(-0.42, -0.42), v)); }
    if ((m & 32) != 0) { d = min(d, seg_box(p, vec2f(-0.42, 0.42), v)); }
    if ((m & 64) != 0) { d = min(d, seg_box(p, vec2f(0.0, 0.0), h)); }
    return d;
}

// Distance to all unlit segments' shapes (the "8" ghost behind digits).
fn ghost_dist(p: vec2f) -> f32 {
    return digit_dist(p, 8);
}

// Draws `value` (non-negative integer) right-aligned with `count` digits,
// cell height 2 * `scale`, right edge at x = `right`, centre line at y.
// Returns (lit distance, ghost distance) in cell units.
fn number(p: vec2f, value: i32, count: i32, right: f32, y: f32, scale: f32) -> vec2f {
    let q = (p - vec2f(right, y)) / scale;
    // Cell k from the right: centre at x = -(k + 0.5) * 1.25.
    let k = i32(floor(-q.x / 1.25));
    if (k < 0 || k >= count || abs(q.y) > 1.2) {
        return vec2f(1e3);
    }
    let local = vec2f(q.x + (f32(k) + 0.5) * 1.25, q.y);
    var v = value;
    for (var i = 0; i < k; i++) {
        v = v / 10;
    }
    let leading_zero = v == 0 && k > 0;
    let lit = select(digit_dist(local, v % 10), 1e3, leading_zero);
    return vec2f(lit, ghost_dist(local)) * scale;
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let px = 2.0 / u.resolution.y;
    let hue = param.hue + 0.12 * u.centroid;
    let lit_col = hsv2rgb(vec3f(fract(hue), 0.85, 1.0));
    let ghost_col = hsv2rgb(vec3f(fract(hue), 0.6, 0.10));
    // Background: a low glow that breathes with the bass.
    let glow_bg = exp(-1.5 * dot(p - vec2f(0.3, 0.1), p - vec2f(0.3, 0.1)));
    var col = vec3f(0.015, 0.012, 0.02) + lit_col * glow_bg * (0.03 + 0.12 * u.bass_att);
    // The 16 bands as a thin meter along the bottom edge.
    let bx = (p.x / u.aspect + 1.0) * 0.5;
    let bi = i32(bx * 16.0);
    let bh = 0.015 + 0.1 * band(bi);
    let in_bar = step(abs(fract(bx * 16.0) - 0.5), 0.4) * step(p.y, -1.0 + bh) * step(-1.0, p.y);
    col = mix(col, lit_col * 0.55, in_bar);

    let bpm = i32(round(u.bpm));
    let beats_per_bar = max(u.beats_per_bar, 1.0);
    let beat_in_bar = i32(floor(u.bar_phase * beats_per_bar + 1e-3)) + 1;
    let bar = i32(u.bars) + 1;

    // Tempo, large: three digits right of centre-ish.
    let top = number(p, bpm, 3, 0.95, 0.28, 0.32);
    // BAR.BEAT, smaller.
    let bar_d = number(p, bar % 1000, 3, 0.2, -0.42, 0.16);
    let beat_d = number(p, beat_in_bar, 1, 0.62, -0.42, 0.16);
    let lit = min(top.x, min(bar_d.x, beat_d.x));
    let ghost = min(top.y, min(bar_d.y, beat_d.y));
    // Dot between bar and beat.
    let dot_d = length(p - vec2f(0.33, -0.56)) - 0.03;

    col = mix(col, ghost_col, smoothstep(px, -px, ghost));
    let glow_amt = 0.25 + 0.35 * u.bass_att;
    let near = max(lit, 0.0);
    col += lit_col * glow_amt * 0.02 / (near + 0.02) * 0.25 * smoothstep(0.12, 0.0, near);
    col = mix(col, lit_col, smoothstep(px, -px, min(lit, dot_d)));

    // "BPM" marker: a small bar under the tempo when the clock is locked.
    let locked = smoothstep(0.2, 0.6, u.confidence);
    let underline = seg_box(p, vec2f(0.35, -0.12), vec2f(0.58, 0.008));
    col = mix(col, lit_col * (0.3 + 0.7 * locked), smoothstep(px, -px, underline));

    // Beat lamps: one per beat of the bar, the current one fires on its hit.
    let n = i32(beats_per_bar);
    for (var i = 0; i < n; i++) {
        let cx = -1.2 + 0.22 * f32(i);
        let c = vec2f(cx, -0.80);
        let d = length(p - c) - 0.07;
        let current = i + 1 == beat_in_bar;
        let hit = select(0.0, select(u.beat_hit, max(u.beat_hit, u.bar_hit), i == 0), current);
        let on = select(0.12, 0.45, current) + 0.55 * hit;
        let lamp = select(lit_col, vec3f(1.0, 0.95, 0.9), i == 0 && current);
        col = mix(col, lamp * on, smoothstep(px, -px, d));
        col += lamp * hit * 0.01 / (max(d, 0.0) * max(d, 0.0) * 40.0 + 0.01) * 0.15;
    }
    // Scanlines, like a display.
    let scan = 1.0 - param.scanlines * 0.25 * (0.5 + 0.5 * sin(frag.y * 3.14159));
    return vec4f(col * scan, 1.0);
}
