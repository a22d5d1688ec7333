// Kaleidoscope, pass 2: a lens post-process over pass 1 (read with `input`).
// Kicks split the colour channels outward from the centre (chromatic
// aberration), the beat breathes a soft glow, and a vignette frames it.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let d = uv - vec2f(0.5);
    let split = (0.002 + 0.012 * u.kick) * param.aberration;
    let r = input(uv + d * split).r;
    let g = input(uv).g;
    let b = input(uv - d * split).b;
    var col = vec3f(r, g, b);
    // Cheap glow: a few wider taps, stronger on the beat.
    var glow = vec3f(0.0);
    for (var i = 0; i < 4; i++) {
        let a = TAU * f32(i) / 4.0 + 0.785;
        glow += input(uv + 0.012 * vec2f(cos(a), sin(a) * u.aspect)).rgb;
    }
    col += glow * 0.25 * (0.08 + 0.25 * u.beat_pulse);
    let vignette = 1.0 - smoothstep(0.35, 0.85, length(d * vec2f(u.aspect, 1.0)));
    return vec4f(col * vignette, 1.0);
}
