// Scope Rings: the waveform wrapped around a ring that breathes with the
// bass bins, over a slow nebula. Shadertoy style: iChannel0 is the audio
// input. MIT OR Apache-2.0, like sonolux.

float bass() {
    float b = 0.0;
    for (int i = 1; i < 8; i++) {
        b += texture(iChannel0, vec2((float(i) + 0.5) / 512.0, 0.25)).x;
    }
    return b / 7.0;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 p = (2.0 * fragCoord - iResolution.xy) / iResolution.y;
    float r = length(p);
    float a = atan(p.y, p.x);
    float b = bass();
    float wave = texture(iChannel0, vec2(fract(a / 6.2831853 + 0.5), 0.75)).x - 0.5;
    float ring = 0.45 + 0.25 * b + wave * 0.35;
    float d = abs(r - ring);
    vec3 col = vec3(0.2, 0.8, 1.0) * (0.004 / (d + 0.004));
    col += vec3(1.0, 0.35, 0.6) * (0.002 / (abs(r - ring * 0.6) + 0.002)) * b;
    // Nebula: layered sines, dim so the ring carries the picture.
    float n = sin(p.x * 3.0 + iTime * 0.2) * sin(p.y * 2.5 - iTime * 0.15) + sin(r * 6.0 - iTime * 0.4);
    col += vec3(0.05, 0.02, 0.1) * (n + 2.0) * (0.6 + b);
    fragColor = vec4(col * 0.8, 1.0);
}
