// Crossfade: mixes the outgoing and the incoming preset's final images before
// the output stage (so the flash limiter measures the mix). Internal to
// sonolux (not part of the preset contract).

struct MixUniforms {
    // 0 = only `a` (outgoing), 1 = only `b` (incoming).
    mix: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

@group(0) @binding(0) var<uniform> m: MixUniforms;
@group(0) @binding(1) var a: texture_2d<f32>;
@group(0) @binding(2) var b: texture_2d<f32>;
@group(0) @binding(3) var samp: sampler;

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    let ca = clamp(textureSampleLevel(a, samp, in.uv, 0.0).rgb, vec3f(0.0), vec3f(1.0));
    let cb = clamp(textureSampleLevel(b, samp, in.uv, 0.0).rgb, vec3f(0.0), vec3f(1.0));
    return vec4f(mix(ca, cb, clamp(m.mix, 0.0, 1.0)), 1.0);
}
