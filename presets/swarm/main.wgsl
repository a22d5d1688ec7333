// Swarm, fragment pass: the density the compute pass splatted, as light.
// The two species get two colours of one palette; a feedback trail keeps
// each particle's last positions glowing.

@group(2) @binding(1) var<storage, read> density: array<u32>;

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let w = u32(u.resolution.x);
    let p = vec2u(frag);
    let d = density[p.y * w + p.x];
    let a = f32(d & 0xffffu);
    let b = f32(d >> 16u);
    let k = 0.04 * param.gain;
    let h = param.hue + 0.15 * u.centroid + 0.02 * u.bars;
    let ca = hsv2rgb(vec3f(h, 0.85, 1.0));
    let cb = hsv2rgb(vec3f(h - 0.5, 0.8, 1.0));
    let light = ca * (1.0 - exp(-a * k)) + cb * (1.0 - exp(-b * k)) * 1.6;
    let trail = prev(uv).rgb * param.trail;
    return vec4f(light * 0.7 + trail, 1.0);
}
