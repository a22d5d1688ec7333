// Copies the output texture to the window surface (any format).

@group(0) @binding(0) var src: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    return textureSampleLevel(src, samp, in.uv, 0.0);
}

// The one-window overlay: the VJ surface (rendered by egui into its own
// texture, premultiplied alpha, at most ~30 times a second) over the picture.
@group(0) @binding(2) var ui_tex: texture_2d<f32>;

@fragment
fn fs_overlay(in: VsOut) -> @location(0) vec4f {
    let pic = textureSampleLevel(src, samp, in.uv, 0.0);
    let ui = textureLoad(ui_tex, vec2i(in.pos.xy), 0);
    return vec4f(pic.rgb * (1.0 - ui.a) + ui.rgb, 1.0);
}
