// Palette Plasma: a sum of moving sines (an interference field), folded
// into a palette index. The picture is all palette: four cosine palettes
// (Inigo Quilez's a + b cos(2 pi (c t + d))) blended by `palette` and the
// music's brightness.

fn pal(t: f32, which: f32) -> vec3f {
    let a = vec3f(0.5);
    let b = vec3f(0.5) * param.contrast;
    // Sunset, ocean, acid, ember.
    let d0 = vec3f(0.0, 0.10, 0.20);
    let d1 = vec3f(0.50, 0.20, 0.25);
    let d2 = vec3f(0.80, 0.90, 0.30);
    let d3 = vec3f(0.0, 0.33, 0.67);
    let c0 = vec3f(1.0, 1.0, 1.0);
    let c1 = vec3f(1.0, 0.7, 0.4);
    let k = fract(which / 4.0) * 4.0;
    let i = floor(k);
    let f = smoothstep(0.0, 1.0, fract(k));
    var ds = array<vec3f, 5>(d0, d1, d2, d3, d0);
    let d = mix(ds[i32(i)], ds[i32(i) + 1], f);
    let c = mix(c0, c1, 0.5 + 0.5 * sin(which));
    return palette(t, a, b, c, d);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv) * param.scale * (1.6 - 0.4 * u.bass_att);
    // Flow time: steady, plus a step's worth per beat (never time x a
    // changing factor, which would scramble the field when the music moves).
    let t = u.time * 0.2 + 0.12 * u.beats;
    var v = sin(p.x * 3.0 + t);
    v += sin((p.y * 3.0 + t) * 0.7);
    v += sin((p.x * 2.0 + p.y * 2.0 + t) * 0.9);
    let q = p + 0.5 * vec2f(sin(t * 0.33), cos(t * 0.27));
    v += sin(length(q) * 4.0 - t * 1.3);
    v *= 0.25;
    // Palette position: the field, scrolling with the bar; a downbeat hit
    // kicks it a small step.
    let idx = v * 0.5 + 0.5 + 0.25 * u.bar_phase + 0.08 * u.bar_hit;
    let which = param.palette + 0.6 * u.centroid + 0.25 * floor(u.bars / 4.0);
    var col = pal(idx, which);
    // Bands (contour lines) sharpen with the bass.
    let lines = abs(fract(v * 4.0 + t * 0.1) - 0.5);
    col *= 0.75 + 0.25 * smoothstep(0.0, 0.15 + 0.2 * (1.0 - u.bass_att), lines);
    // Reds lean to orange: never the saturated red that counts as a red
    // flash (in linear light R / (R + G + B) stays under 0.8).
    col.g = max(col.g, 0.6 * col.r);
    // Keep it a stage look: mid brightness, no flat white.
    return vec4f(col * (0.55 + 0.3 * u.level_att), 1.0);
}
