// Liquid Marble: fbm(p + fbm(p + fbm(p))) after Inigo Quilez's domain warping.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv) * param.scale;
    let t = 0.08 * u.time + 0.05 * u.beats;
    let amount = param.warp * (1.0 + 1.2 * u.bass_att);
    let q = vec2f(fbm(p + vec2f(0.0, t)), fbm(p + vec2f(5.2, 1.3 - t)));
    let r = vec2f(
        fbm(p + amount * 2.0 * q + vec2f(1.7, 9.2) + 0.3 * u.snare),
        fbm(p + amount * 2.0 * q + vec2f(8.3, 2.8)),
    );
    let f = fbm(p + amount * 2.0 * r);
    let hue = 0.55 + 0.4 * u.centroid;
    var col = mix(vec3f(0.05, 0.03, 0.12), hsv2rgb(vec3f(fract(hue), 0.7, 0.9)), clamp(f * f * 2.5, 0.0, 1.0));
    col = mix(col, hsv2rgb(vec3f(fract(hue + 0.35), 0.6, 1.0)), clamp(length(q) * 0.6 - 0.2, 0.0, 1.0) * 0.6);
    col = mix(col, vec3f(1.0, 0.95, 0.85), smoothstep(0.75, 1.0, length(r)) * (0.3 + 0.7 * u.kick));
    col *= 0.5 + 0.8 * u.level_att;
    // Grain with spectral flatness (noisier music, grainier picture).
    col += (hash21(frag + fract(u.time) * 100.0) - 0.5) * 0.12 * u.flatness;
    return vec4f(col, 1.0);
}
