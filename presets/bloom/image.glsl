// Image: develops Buffer A (iChannel0) with a soft film curve.
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    vec3 c = texture(iChannel0, uv).rgb;
    c = 1.0 - exp(-c * 1.3);
    // Vignette keeps the edges dark on a projector.
    vec2 v = uv - 0.5;
    c *= 1.0 - 0.7 * dot(v, v);
    fragColor = vec4(pow(c, vec3(0.9)), 1.0);
}
