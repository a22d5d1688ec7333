// Swarm, compute pass: one invocation per particle. Particles live in
// centred coordinates (x: -aspect..aspect, y: -1..1, y up), are carried by
// a flow built from a sum of plane waves psi (its curl swirls them, a share
// of its gradient gathers them onto psi's ridges), and add themselves to
// the density buffer, which
// the fragment pass turns into light. Two species (even and odd seeds)
// count in the low and high 16 bits.

struct Particle {
    pos: vec2f,
    life: f32,
    seed: f32,
}

@group(2) @binding(0) var<storage, read_write> particles: array<Particle>;
@group(2) @binding(1) var<storage, read_write> density: array<atomic<u32>>;

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn rand(a: u32, b: u32) -> f32 {
    return f32(pcg(a ^ pcg(b)) >> 8u) / 16777216.0;
}

// Velocity from psi(p) = sum of sin(k_i . p + phase_i): cheap, analytic.
// The wave directions turn with the bar count.
fn flow(p: vec2f, t: f32, turn: f32) -> vec2f {
    // psi's ridges drift with t, so the filaments re-form as the music moves.
    var v = vec2f(0.0);
    for (var i = 0; i < 4; i++) {
        let fi = f32(i);
        let a = fi * 1.9 + turn + 0.05 * t * (1.0 + fi * 0.3);
        let dir = vec2f(cos(a), sin(a));
        let k = dir * (3.0 + fi * 2.3);
        let g = cos(dot(k, p) + t * (0.4 + 0.15 * fi) + fi * 2.3) / (1.0 + fi * 0.5);
        // grad psi = k g; curl = (d psi/dy, -d psi/dx) swirls; a share of
        // the gradient itself gathers the swarm onto the ridges of psi, so
        // it draws filaments instead of an even fog.
        v += (vec2f(dir.y, -dir.x) + dir * 1.1) * g;
    }
    // A gentle vortex keeps the picture centred.
    let r2 = dot(p, p) + 0.15;
    v += vec2f(-p.y, p.x) * 0.35 / r2;
    return v;
}

@compute @workgroup_size(64)
fn simulate(@builtin(global_invocation_id) id: vec3u) {
    let i = id.x;
    if i >= arrayLength(&particles) {
        return;
    }
    var q = particles[i];
    let frame = u32(u.frame);
    if q.life <= 0.0 {
        // Respawn on a disc; the radius spreads with `spread`.
        let a = rand(i, frame) * TAU;
        let r = sqrt(rand(i * 3u + 1u, frame + 17u)) * 1.1;
        q.pos = vec2f(cos(a), sin(a)) * r * vec2f(u.aspect * 0.8, 0.9);
        q.life = 3.0 + 5.0 * rand(i * 7u + 3u, frame + 5u);
        q.seed = rand(i, 99u);
    }
    let turn = floor(u.bars) * 0.7 + u.bar_phase * 0.7;
    let speed = (0.05 + 0.35 * u.bass_att + 0.15 * u.level_att) * param.speed;
    var v = flow(q.pos * 0.9, u.time * 0.5, turn) * speed;
    // Thrown outward on the predicted beat, harder on the downbeat.
    let out = normalize(q.pos + vec2f(1e-4, 0.0));
    v += out * (u.beat_hit * 0.6 + u.bar_hit * 0.6) * param.kick * (0.5 + q.seed);
    q.pos += v * clamp(u.delta, 0.0, 0.05);
    q.life -= clamp(u.delta, 0.0, 0.05);
    if abs(q.pos.x) > u.aspect * 1.05 || abs(q.pos.y) > 1.05 {
        q.life = 0.0;
    }
    particles[i] = q;
    let uv = uv_of(q.pos);
    let px = vec2i(floor(uv * u.resolution));
    let size = vec2i(u.resolution);
    if px.x >= 0 && px.y >= 0 && px.x < size.x && px.y < size.y {
        let species = select(1u, 65536u, q.seed > 0.8);
        atomicAdd(&density[u32(px.y * size.x + px.x)], species);
    }
}
