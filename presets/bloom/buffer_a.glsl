// Buffer A: a ring drawn by the spectrum, left behind in a feedback
// buffer that zooms outward and turns, as in MilkDrop: every frame's ring
// becomes one of the rings flowing out. iChannel0 is this buffer (last
// frame), iChannel1 the audio input.
vec3 palette(float t) {
    return 0.5 + 0.5 * cos(6.28318 * (t + vec3(0.0, 0.33, 0.67)));
}

float band(float lo, float hi) {
    float s = 0.0;
    for (int i = 0; i < 8; i++) {
        s += texture(iChannel1, vec2(mix(lo, hi, (float(i) + 0.5) / 8.0), 0.25)).x;
    }
    return s / 8.0;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    float aspect = iResolution.x / iResolution.y;
    vec2 p = (uv - 0.5) * vec2(aspect, 1.0);
    float bass = band(0.002, 0.02);
    // Zoom outward (faster with the bass), turn, swirl a little.
    float zoom = 0.985 - 0.02 * bass * bass;
    float rot = 0.006 * sin(iTime * 0.13) + 0.004;
    vec2 q = mat2(cos(rot), sin(rot), -sin(rot), cos(rot)) * p * zoom;
    q += 0.003 * vec2(sin(q.y * 8.0 + iTime), cos(q.x * 8.0 - iTime * 0.8));
    vec3 c = texture(iChannel0, q / vec2(aspect, 1.0) + 0.5).rgb * 0.955;
    // The ring: its radius at each angle follows the spectrum, mirrored
    // left and right, low notes at the top.
    float a = atan(p.x, p.y);
    float r = length(p);
    float f = texture(iChannel1, vec2(0.004 + 0.3 * pow(abs(a) / 3.14159, 1.4), 0.25)).x;
    float ring = 0.12 + 0.22 * f * f + 0.05 * bass;
    float line = smoothstep(0.01, 0.0, abs(r - ring));
    c += palette(abs(a) / 6.283 * 0.8 + iTime * 0.04) * line * (0.15 + 0.9 * f * f);
    fragColor = vec4(min(c, vec3(4.0)), 1.0);
}
