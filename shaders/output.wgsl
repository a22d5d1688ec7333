// Output pass: upscales the scene to the output size, applies the flash
// limiter and blackout. Internal to sonolux (not part of the preset contract).

struct OutputUniforms {
    // Max luminance deviation from the reference frame; 0 = not limiting.
    limit: f32,
    // 0 = picture, 1 = black.
    blackout: f32,
    // Latency calibration: brightness of a small square in the lower left
    // corner (0 = none). Drawn before the limiter, so it is measured too.
    calib_patch: f32,
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> o: OutputUniforms;
@group(0) @binding(1) var scene: texture_2d<f32>;
@group(0) @binding(2) var reference: texture_2d<f32>;
@group(0) @binding(3) var samp: sampler;

// The calibration patch: a square of 1/12 of the height, 1/24 from the
// lower-left corner (far below a quarter of the screen, so never a flash).
fn with_patch(c: vec3f, pos: vec2f) -> vec3f {
    if (o.calib_patch <= 0.0) {
        return c;
    }
    let h = f32(textureDimensions(reference).y);
    let side = h / 12.0;
    let x0 = h / 24.0;
    let y0 = h - h / 24.0 - side;
    if (pos.x >= x0 && pos.x < x0 + side && pos.y >= y0 && pos.y < y0 + side) {
        return mix(c, vec3f(1.0), clamp(o.calib_patch, 0.0, 1.0));
    }
    return c;
}

fn to_linear(c: vec3f) -> vec3f {
    return select(pow((c + 0.055) / 1.055, vec3f(2.4)), c / 12.92, c <= vec3f(0.04045));
}

// Plain output at render scale 1: a texel-exact copy (no filtering) and blackout.
@fragment
fn fs_copy(in: VsOut) -> @location(0) vec4f {
    let c = with_patch(clamp(textureLoad(scene, vec2i(in.pos.xy), 0).rgb, vec3f(0.0), vec3f(1.0)), in.pos.xy);
    return vec4f(c * (1.0 - clamp(o.blackout, 0.0, 1.0)), 1.0);
}

// Plain output: upscale and blackout (the limiter is not holding anything).
@fragment
fn fs_plain(in: VsOut) -> @location(0) vec4f {
    let c = with_patch(clamp(textureSampleLevel(scene, samp, in.uv, 0.0).rgb, vec3f(0.0), vec3f(1.0)), in.pos.xy);
    return vec4f(c * (1.0 - clamp(o.blackout, 0.0, 1.0)), 1.0);
}

// WCAG 2.2 red value of a linear colour: (R - G - B) x 320 when saturated
// red (R / (R + G + B) >= 0.8), else 0.
fn red_value(l: vec3f) -> f32 {
    let s = l.r + l.g + l.b;
    return select(0.0, max(l.r - l.g - l.b, 0.0) * 320.0, s > 0.0 && l.r / s >= 0.8);
}

fn to_srgb(c: vec3f) -> vec3f {
    return select(1.055 * pow(c, vec3f(1.0 / 2.4)) - 0.055, c * 12.92, c <= vec3f(0.0031308));
}

// Limiting output: also keeps every pixel's linear luminance within `limit`
// of the reference frame (the frame at the last flash transition). The blend
// is done in linear light, where luminance is linear, so one step is exact.
// A separate entry point so the plain path stays cheap.
@fragment
fn fs_limit(in: VsOut) -> @location(0) vec4f {
    var c = with_patch(clamp(textureSampleLevel(scene, samp, in.uv, 0.0).rgb, vec3f(0.0), vec3f(1.0)), in.pos.xy);
    let r = textureLoad(reference, vec2i(in.pos.xy), 0).rgb;
    let lin_c = to_linear(c);
    let lin_r = to_linear(r);
    let w = vec3f(0.2126, 0.7152, 0.0722);
    let d = dot(lin_c, w) - dot(lin_r, w);
    var m = 1.0;
    if (abs(d) > o.limit) {
        m = o.limit / abs(d);
    }
    // The WCAG red value too (a red flash can be nearly isoluminant): kept
    // within `limit` x 200 (9 at the hold limit, under half the 20 step).
    let dr = red_value(lin_c) - red_value(lin_r);
    let red_limit = o.limit * 200.0;
    if (abs(dr) > red_limit) {
        m = min(m, red_limit / abs(dr));
    }
    if (m < 1.0) {
        c = to_srgb(mix(lin_r, lin_c, m));
    }
    c *= 1.0 - clamp(o.blackout, 0.0, 1.0);
    return vec4f(c, 1.0);
}
