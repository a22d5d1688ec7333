// Flash measurement: averages over a 96x54 grid of cells the output's
// linear relative luminance (r) and the WCAG 2.2 red value (g): for
// saturated red pixels (linear R/(R+G+B) >= 0.8), (R - G - B) * 320, else 0.
// The limiter judges flashes and regular patterns
// (stripes, checks) on the cells themselves.

@group(0) @binding(0) var frame: texture_2d<f32>;

fn to_linear(c: vec3f) -> vec3f {
    return select(pow((c + 0.055) / 1.055, vec3f(2.4)), c / 12.92, c <= vec3f(0.04045));
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    let dims = vec2f(textureDimensions(frame));
    let grid = vec2f(96.0, 54.0);
    let cell = dims / grid;
    let origin = floor(in.pos.xy) * cell;
    var lum = 0.0;
    var red = 0.0;
    let n = 3;
    for (var y = 0; y < n; y++) {
        for (var x = 0; x < n; x++) {
            let p = origin + (vec2f(f32(x), f32(y)) + 0.5) * cell / f32(n);
            let c = textureLoad(frame, vec2i(p), 0).rgb;
            let l = to_linear(c);
            lum += dot(l, vec3f(0.2126, 0.7152, 0.0722));
            let s = l.r + l.g + l.b;
            red += select(0.0, max(l.r - l.g - l.b, 0.0) * 320.0, s > 0.0 && l.r / s >= 0.8);
        }
    }
    let k = 1.0 / f32(n * n);
    return vec4f(lum * k, red * k, 0.0, 1.0);
}
