/*{
    "DESCRIPTION": "A comet on a Lissajous path leaving a persistent trail: a two-pass ISF generator (a PERSISTENT float buffer, then a colour pass). Written for sonolux's import tests; MIT OR Apache-2.0, like sonolux",
    "CREDIT": "sonolux",
    "ISFVSN": "2",
    "CATEGORIES": ["Generator"],
    "INPUTS": [
        {"NAME": "decay", "TYPE": "float", "DEFAULT": 0.96, "MIN": 0.8, "MAX": 0.995},
        {"NAME": "size", "TYPE": "float", "DEFAULT": 0.03, "MIN": 0.005, "MAX": 0.1},
        {"NAME": "tint", "TYPE": "color", "DEFAULT": [0.3, 0.8, 1.0, 1.0]},
        {"NAME": "flash", "TYPE": "event"}
    ],
    "PASSES": [
        {"TARGET": "trail", "PERSISTENT": true, "FLOAT": true},
        {}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    if (PASSINDEX == 0) {
        vec2 aspect = vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0);
        vec2 head = 0.5 + 0.38 * vec2(sin(TIME * 0.9), sin(TIME * 1.3 + 0.7));
        float d = length((uv - head) * aspect);
        float s = size * (flash ? 2.0 : 1.0);
        float old = IMG_NORM_PIXEL(trail, uv).r * decay;
        gl_FragColor = vec4(max(old, smoothstep(s, 0.0, d)), 0.0, 0.0, 1.0);
    } else {
        float v = IMG_THIS_NORM_PIXEL(trail).r;
        gl_FragColor = vec4(tint.rgb * v + vec3(pow(v, 6.0)), 1.0);
    }
}
