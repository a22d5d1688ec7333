// Swarm, fragment pass: the density the compute pass splatted, as light.
// The two species get two colours of one palette; a feedback trail keeps
// each particle's last positions glowing.

struct Particle {
    pos: vec2f,
    life: f32,
    seed: f32,
}

@group(2) @binding(0) var<storage, read> particles: array<Particle>;
@group(2) @binding(1) var<storage, read> density: array<u32>;

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let w = u32(u.resolution.x);
    let p = vec2u(frag);
    let d = density[p.y * w + p.x];
    let a = f32(d & 0xffffu);
    let b = f32(d >> 16u);
    // Exposure per particle scales with particles per pixel, so the look
    // holds at any resolution and particle count.
    let per_pixel = f32(arrayLength(&particles)) / (u.resolution.x * u.resolution.y);
    let k = 0.09 * param.gain / max(per_pixel, 0.01);
    let h = param.hue + 0.15 * u.centroid + 0.02 * u.bars;
    let ca = hsv2rgb(vec3f(h, 0.85, 1.0));
    let cb = hsv2rgb(vec3f(h - 0.5, 0.8, 1.0));
    let light = ca * (1.0 - exp(-a * k)) + cb * (1.0 - exp(-b * k)) * 1.6;
    let trail = prev(uv).rgb * param.trail;
    return vec4f(light * 0.7 + trail, 1.0);
}
