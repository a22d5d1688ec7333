// Copies the output texture to the window surface (any format).

@group(0) @binding(0) var src: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    return textureSampleLevel(src, samp, in.uv, 0.0);
}
