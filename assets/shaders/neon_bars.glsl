// Neon Bars: a mirrored spectrum analyser in the Shadertoy style.
// iChannel0 is the audio input: row 0 (y = 0.25) holds 512 linear FFT bins,
// row 1 (y = 0.75) the waveform. Written for sonolux's import tests and
// shipped as an example; MIT OR Apache-2.0, like sonolux.

vec3 hue(float h) {
    return clamp(abs(mod(h * 6.0 + vec3(0.0, 4.0, 2.0), 6.0) - 3.0) - 1.0, 0.0, 1.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    const float BARS = 48.0;
    // Bars spread over the musical part of the linear spectrum: square-root
    // spacing gives the low end more room.
    float x = abs(uv.x - 0.5) * 2.0;
    float bar = floor(x * BARS);
    float f = pow((bar + 0.5) / BARS, 2.0) * 0.7;
    float level = texture(iChannel0, vec2(f, 0.25)).x;
    level = pow(level, 1.6);
    float y = abs(uv.y - 0.5) * 2.0;
    float inBar = step(fract(x * BARS), 0.82);
    float body = inBar * step(y, level * 0.92);
    vec3 col = hue(0.62 - 0.55 * (bar / BARS) + 0.05 * sin(iTime * 0.3));
    // Glow above the bar top, and a thin cap.
    float glow = inBar * exp(-max(y - level * 0.92, 0.0) * 18.0) * 0.35;
    float cap = inBar * smoothstep(0.012, 0.0, abs(y - level * 0.92 - 0.02));
    vec3 c = col * (body * (0.35 + 0.65 * y / max(level, 0.05)) + glow) + vec3(cap) * 0.8;
    // A faint floor line from the waveform.
    float w = texture(iChannel0, vec2(uv.x, 0.75)).x - 0.5;
    c += vec3(0.25, 0.3, 0.5) * smoothstep(0.01, 0.0, abs(uv.y - 0.5 - w * 0.3)) * 0.5;
    fragColor = vec4(c, 1.0);
}
