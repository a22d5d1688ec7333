// Beat Strobe: flashes on kick hits and predicted beats. Relies on the output
// stage's flash limiter for safety; never bypass it for this preset.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let hit = max(u.kick, u.beat_pulse * u.confidence);
    let flash = smoothstep(0.05, 0.5, hit) * param.intensity;
    // Colour per beat, from the centroid and beat index.
    let beat_index = floor(u.beats + 0.5);
    let hue = fract(0.6 * u.centroid + 0.17 * beat_index);
    let c = hsv2rgb(vec3f(hue, 0.55, 1.0));
    // Shutter bars slide with the bar phase; snares invert them.
    let y = uv.y * param.bars + u.bar_phase * 2.0;
    let px = param.bars / u.resolution.y;
    let stripe = smoothstep(0.5 - px, 0.5 + px, abs(fract(y) - 0.5) * 2.0);
    let shutter = mix(1.0, mix(stripe, 1.0 - stripe, step(0.5, u.snare)), 0.6);
    var col = c * flash * shutter;
    // Dim bed between hits so the stage never goes fully dead.
    let bed = 0.04 + 0.08 * u.level_att;
    col += hsv2rgb(vec3f(fract(hue + 0.5), 0.8, bed)) * (1.0 - uv.y * 0.5);
    return vec4f(col, 1.0);
}
