// Exposure and tone map: a preset's final image (HDR, from a float target)
// brought into 0..1 so a loud drop keeps its detail instead of clipping to a
// flat colour. Runs after the preset's passes, before the crossfade mix and
// the output stage (so the flash limiter measures the tone-mapped picture).
// Internal to sonolux; presets choose it with [tone_map] in preset.toml.

struct ToneMapUniforms {
    // 0 = none (clip), 1 = Reinhard with a white point, 2 = ACES (Narkowicz fit).
    curve: f32,
    // Multiplier before the curve.
    exposure: f32,
    // Reinhard: the input level that maps to white.
    white: f32,
    _pad0: f32,
}

@group(0) @binding(0) var<uniform> t: ToneMapUniforms;
@group(0) @binding(1) var scene: texture_2d<f32>;

fn luminance(c: vec3f) -> f32 {
    return dot(c, vec3f(0.2126, 0.7152, 0.0722));
}

// Reinhard on luminance with a white point: hue and saturation are kept, and
// `white` maps exactly to 1.
fn reinhard(c: vec3f, white: f32) -> vec3f {
    let l = luminance(c);
    if (l <= 0.0) {
        return vec3f(0.0);
    }
    let w2 = max(white * white, 1e-4);
    let mapped = l * (1.0 + l / w2) / (1.0 + l);
    return c * (mapped / l);
}

// ACES filmic curve (Krzysztof Narkowicz's fit), per channel.
fn aces(c: vec3f) -> vec3f {
    let a = 2.51;
    let b = 0.03;
    let cc = 2.43;
    let d = 0.59;
    let e = 0.14;
    return (c * (a * c + b)) / (c * (cc * c + d) + e);
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    // The presets write display-referred colour; the curve treats it as
    // scene light. ACES at exposure ~0.6 leaves the low range nearly as it
    // was (0.3 -> 0.27) and rolls the highs off smoothly toward 1.
    let c = max(textureLoad(scene, vec2i(in.pos.xy), 0).rgb, vec3f(0.0)) * t.exposure;
    var o = c;
    if (t.curve > 1.5) {
        o = aces(c);
    } else if (t.curve > 0.5) {
        o = reinhard(c, t.white);
    }
    return vec4f(clamp(o, vec3f(0.0), vec3f(1.0)), 1.0);
}
