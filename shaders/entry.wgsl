// The entry point of a fragment pass: appended after shaders/prelude.wgsl
// (compute passes get the prelude without it).

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    return shade(in.uv, in.pos.xy);
}
