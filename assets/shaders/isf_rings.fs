/*{
    "DESCRIPTION": "Concentric rings from a centre point, in two colours; an ISF generator written for sonolux's import tests (MIT OR Apache-2.0, like sonolux)",
    "CREDIT": "sonolux",
    "ISFVSN": "2",
    "CATEGORIES": ["Generator", "Geometry"],
    "INPUTS": [
        {"NAME": "speed", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0},
        {"NAME": "rings", "TYPE": "long", "VALUES": [4, 8, 16, 32], "LABELS": ["4", "8", "16", "32"], "DEFAULT": 8},
        {"NAME": "width", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.02, "MAX": 0.9},
        {"NAME": "inner", "TYPE": "color", "DEFAULT": [1.0, 0.45, 0.1, 1.0]},
        {"NAME": "outer", "TYPE": "color", "DEFAULT": [0.1, 0.35, 1.0, 1.0]},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0]},
        {"NAME": "invert", "TYPE": "bool", "DEFAULT": false}
    ]
}*/

void main() {
    vec2 p = isf_FragNormCoord - center;
    p.x *= RENDERSIZE.x / RENDERSIZE.y;
    float r = length(p);
    float phase = fract(r * float(rings) - TIME * speed);
    // Anti-aliased ring edges: the band's width in pixels sets the blur.
    float aa = float(rings) * 1.5 / RENDERSIZE.y;
    float band = smoothstep(0.0, aa, phase) * smoothstep(width + aa, width, phase);
    vec4 col = mix(inner, outer, clamp(r * 1.4, 0.0, 1.0));
    float fade = smoothstep(1.2, 0.2, r);
    vec4 c = col * band * fade;
    if (invert) {
        c = vec4(col.rgb * (1.0 - band) * fade * 0.6, 1.0);
    }
    gl_FragColor = vec4(c.rgb, 1.0);
}
