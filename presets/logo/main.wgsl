// Logo Pulse: the preset's image (`tex_logo`, declared in preset.toml)
// drawn centred, pulsing on the beat, with echoes that travel outward
// after each downbeat.

// The logo at centred coordinates `p`, `size` its half height; transparent
// outside the image. Aspect kept from the texture.
fn logo_at(p: vec2f, size: f32, angle: f32) -> vec4f {
    let dims = vec2f(textureDimensions(tex_logo));
    let aspect = dims.x / dims.y;
    let q = rot2(-angle) * p / size;
    let luv = vec2f(q.x / aspect * 0.5 + 0.5, 0.5 - q.y * 0.5);
    if (any(luv < vec2f(0.0)) || any(luv > vec2f(1.0))) {
        return vec4f(0.0);
    }
    return textureSampleLevel(tex_logo, samp, luv, 0.0);
}

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let hue = 0.62 + 0.2 * u.centroid;
    // Background: a dark vertical gradient and a soft halo behind the logo.
    var col = mix(hsv2rgb(vec3f(hue, 0.6, 0.08)), hsv2rgb(vec3f(fract(hue + 0.1), 0.7, 0.02)), uv.y);
    let halo = exp(-2.5 * dot(p, p)) * (0.04 + 0.3 * u.bass_att);
    col += hsv2rgb(vec3f(fract(hue + 0.5), 0.6, 1.0)) * halo;

    let hit = max(u.beat_hit, 0.7 * u.kick);
    let angle = param.spin * 0.3 * sin(TAU * u.bar_phase);
    let size = param.size * (1.0 + 0.1 * hit + 0.05 * u.bass_att);

    // Echoes: three copies of the silhouette growing and fading over the bar.
    for (var k = 0; k < 3; k++) {
        let age = fract(u.bar_phase + f32(k) / 3.0);
        let e = logo_at(p, size * (1.0 + 0.9 * age), angle);
        let fade = (1.0 - age) * (1.0 - age) * param.echo * (0.05 + 0.95 * u.level_att);
        col += hsv2rgb(vec3f(fract(hue + 0.5 + 0.1 * f32(k)), 0.7, 1.0)) * e.a * fade * 0.6;
    }

    let l = logo_at(p, size, angle);
    // The logo itself, brightened a little on hits.
    col = mix(col, l.rgb * (0.85 + 0.3 * hit), l.a);
    return vec4f(col, 1.0);
}
