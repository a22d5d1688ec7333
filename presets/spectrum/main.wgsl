// Spectrum Halo: radial bars of the log spectrum, mirrored left/right, with
// the waveform drawn as a circle inside.

fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = centered(uv);
    let r = length(p);
    let a = atan2(p.x, p.y); // 0 at the top, mirrored left/right
    // Mirror: both halves show low -> high from top to bottom.
    let s = abs(a / PI);
    let x = abs(fract(s * 0.5 + 0.5) * 2.0 - 1.0);
    let bars = param.bars;
    let idx = floor(x * bars * 0.5);
    let xc = (idx + 0.5) / (bars * 0.5);
    // Tilt up the highs (they carry less energy) so the whole ring moves.
    let mag = clamp(spectrum(0.1 + 0.75 * xc) * (0.85 + 0.5 * xc), 0.0, 1.0);
    let base_r = param.radius * (1.0 + 0.08 * u.beat_pulse + 0.06 * u.kick);
    let len = 0.02 + 0.6 * mag * mag * (1.0 + 0.5 * u.kick);
    // Bar body: inside [base_r, base_r + len] radially, and inside its angular slot.
    let px = 2.0 / u.resolution.y;
    let slot = abs(fract(x * bars * 0.5) - 0.5) * 2.0; // 0 at bar centre
    let slot_w = 0.6;
    let slot_px = px * bars * 0.5 / max(r * PI, 1e-3);
    let in_slot = 1.0 - smoothstep(slot_w - slot_px, slot_w + slot_px, slot);
    let in_len = smoothstep(base_r - px, base_r + px, r) * (1.0 - smoothstep(base_r + len - px, base_r + len + px, r));
    let hue = 0.6 - 0.5 * xc + 0.3 * u.centroid;
    var col = hsv2rgb(vec3f(fract(hue), 0.75, 1.0)) * in_slot * in_len * (0.5 + mag);
    // Glow of the bars.
    col += hsv2rgb(vec3f(fract(hue), 0.9, 1.0)) * 0.25 * mag * exp(-max(r - base_r, 0.0) * 6.0) * step(base_r, r);

    // Waveform circle.
    // Mirrored around the circle so the line closes without a seam.
    let wx = abs(fract(a / TAU + 0.5) * 2.0 - 1.0);
    let wr = base_r * 0.7 + 0.12 * waveform(wx) * (0.4 + u.level_att);
    let wline = exp(-abs(r - wr) / (1.5 * px)) ;
    col += vec3f(0.9, 0.95, 1.0) * wline * (0.4 + 0.6 * u.level_att);
    // Inner disc breathing with the beat.
    let disc = (1.0 - smoothstep(0.0, base_r * 0.6, r)) * (0.05 + 0.25 * u.beat_pulse) ;
    col += hsv2rgb(vec3f(fract(0.6 + 0.3 * u.centroid), 0.6, 1.0)) * disc;
    return vec4f(col, 1.0);
}
