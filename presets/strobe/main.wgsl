// Beat Strobe: hits that stay inside the photosensitivity rules by design.
// The full frame never flashes: a colour bed changes hue on every beat at
// (nearly) constant luminance, and the hit is a bright panel covering a fifth
// of the screen that jumps to a new place on each beat and slides with the
// beat phase. No high-contrast stripes. The flash limiter still watches.

// sRGB-ish luminance of a display colour (close enough to hold it steady).
fn luma(c: vec3f) -> f32 {
    return dot(c, vec3f(0.2126, 0.7152, 0.0722));
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    // The beat we are in: changes exactly on the predicted beat.
    let beat_index = floor(u.beats);
    // Bed: hue steps each beat, saturation kept below "saturated red"
    // (R/(R+G+B) < 0.8), brightness normalised to one luminance.
    let hue = fract(0.6 * u.centroid + 0.17 * beat_index);
    // Two hues across the frame, turning with the bar: colour moves, the
    // light level does not.
    let across = 0.5 + 0.5 * sin((uv.x + uv.y * 0.6) * 3.0 + u.bar_phase * 6.2831);
    var bed = hsv2rgb(vec3f(fract(hue + 0.12 * across), 0.5, 1.0));
    let target_l = (0.05 + 0.05 * u.level_att) * (1.0 - 0.35 * uv.y);
    bed = clamp(bed * target_l / max(luma(bed), 1e-3), vec3f(0.0), vec3f(1.0));
    // The hit: one of `panels` vertical panels (at most a sixth of the screen,
    // so even the limiter's coarse 32-column grid sees under a quarter),
    // chosen per beat, sliding with the beat phase.
    let panels = max(param.panels, 6.0);
    let k = (beat_index * 3.0) % panels;
    let slide = u.beat_phase * 0.5 / panels;
    let x0 = k / panels + slide;
    let w = 1.0 / panels;
    let edge = 0.04 * w;
    let inside = smoothstep(x0, x0 + edge, uv.x) * (1.0 - smoothstep(x0 + w - edge, x0 + w, uv.x));
    // On the predicted beat (beat_hit: no detection delay), and on kicks
    // between beats.
    let hit = max(u.kick, u.beat_hit);
    let flash = smoothstep(0.05, 0.4, hit) * param.intensity;
    // The panel's colour: the bed's complement, bright.
    let panel = hsv2rgb(vec3f(fract(hue + 0.5), 0.25, 1.0));
    // Vertical sheen that travels down the panel with the beat phase.
    let sheen = 0.88 + 0.12 * cos((uv.y - u.beat_phase) * 6.2831);
    var col = mix(bed, panel * sheen, inside * flash);
    // Snares: a thin bright sliver (a twentieth of the width) on the other
    // side of the frame, only while the panel is dark (never both at once).
    let sx = fract(x0 + 0.5);
    let sliver = smoothstep(0.025, 0.0, abs(uv.x - sx)) * smoothstep(0.1, 0.7, u.snare)
        * (1.0 - flash);
    col = mix(col, vec3f(1.0), sliver * param.intensity);
    return vec4f(col, 1.0);
}
