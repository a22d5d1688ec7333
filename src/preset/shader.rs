//! Assembling a pass's WGSL (prelude + generated parameter block + the
//! author's code) and validating it with naga, with errors pointing into the
//! author's file.

use std::path::{Path, PathBuf};

/// The fullscreen triangle (`VsOut`, `vs_main`) shared by every pass.
pub const FULLSCREEN: &str = include_str!("../../shaders/fullscreen.wgsl");

/// The fullscreen triangle, uniforms, bindings and helpers: what every pass
/// sees, without an entry point (compute passes start from this).
pub const PRELUDE_BINDINGS: &str = concat!(
    include_str!("../../shaders/fullscreen.wgsl"),
    include_str!("../../shaders/prelude.wgsl")
);

/// The shared prelude of a fragment pass: [`PRELUDE_BINDINGS`] and the entry
/// point `fs_main`, which calls the author's `shade`.
pub const PRELUDE: &str = concat!(
    include_str!("../../shaders/fullscreen.wgsl"),
    include_str!("../../shaders/prelude.wgsl"),
    include_str!("../../shaders/entry.wgsl")
);

/// An engine-internal shader (output, measurement, blit): the fullscreen
/// triangle followed by `body`.
pub fn internal(body: &str) -> String {
    format!("{FULLSCREEN}{body}")
}

/// Parameters a preset may declare (the size of the `Params` uniform).
pub const MAX_PARAMS: usize = 32;

/// A shader error located in the author's file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct ShaderError {
    /// The author's WGSL file.
    pub path: PathBuf,
    /// 1-based line in that file (0 when the error is in generated code).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What naga said.
    pub message: String,
}

/// Full WGSL for one pass, and where the author's code starts.
#[derive(Debug, Clone)]
pub struct AssembledShader {
    /// Prelude, generated params struct, then the author's source.
    pub source: String,
    /// Number of lines before the author's first line.
    pub header_lines: u32,
}

/// Builds the `Params` struct for the preset's parameter names.
pub fn params_struct(names: &[&str]) -> String {
    let mut s = String::from("struct Params {\n");
    for n in names.iter().take(MAX_PARAMS) {
        s += &format!("    {n}: f32,\n");
    }
    for i in names.len().min(MAX_PARAMS)..MAX_PARAMS {
        s += &format!("    _unused{i}: f32,\n");
    }
    s += "}\n@group(0) @binding(1) var<uniform> param: Params;\n";
    s
}

/// Declarations of a preset's images: `tex_<name>` in group 1.
pub fn textures_block(names: &[&str]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("@group(1) @binding({i}) var tex_{n}: texture_2d<f32>;\n"))
        .collect()
}

/// Prepends the prelude, the parameter block and the image declarations to
/// `author_source`.
pub fn assemble(author_source: &str, param_names: &[&str], textures: &[&str]) -> AssembledShader {
    assemble_after(PRELUDE, author_source, param_names, textures)
}

/// `prelude`, the parameter block and the image declarations, then
/// `author_source`.
fn assemble_after(
    prelude: &str,
    author_source: &str,
    param_names: &[&str],
    textures: &[&str],
) -> AssembledShader {
    let header = format!(
        "{prelude}\n{}{}",
        params_struct(param_names),
        textures_block(textures)
    );
    let header_lines = header.lines().count() as u32;
    AssembledShader {
        source: format!("{header}{author_source}"),
        header_lines,
    }
}

/// Which feedback inputs a pass's fragment shader actually reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalsUsed {
    /// Reads its own previous frame (`prev_frame`, `prev()`).
    pub prev_frame: bool,
    /// Reads `input_tex` (`input()`).
    pub input: bool,
    /// Reads `audio_tex`, Shadertoy's audio texture (the Web Audio rows
    /// the analysis computes only while a shader on screen reads them).
    pub audio: bool,
}

impl GlobalsUsed {
    /// What entry point `ep` of a validated module reads.
    pub(crate) fn of(module: &naga::Module, info: &naga::valid::ModuleInfo, ep: usize) -> Self {
        Self {
            prev_frame: entry_reads(module, info, ep, "prev_frame"),
            input: entry_reads(module, info, ep, "input_tex"),
            audio: entry_reads(module, info, ep, "audio_tex"),
        }
    }
}

/// Whether entry point `ep` of a validated module uses the global `name`
/// (naga's reflection: declared in the prelude is not read).
fn entry_reads(
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    ep: usize,
    name: &str,
) -> bool {
    module
        .global_variables
        .iter()
        .any(|(h, g)| g.name.as_deref() == Some(name) && !info.get_entry_point(ep)[h].is_empty())
}

/// Prepends the prelude without the fragment entry point, the parameter
/// block and the image declarations to a compute pass's source.
pub fn assemble_compute(
    author_source: &str,
    param_names: &[&str],
    textures: &[&str],
) -> AssembledShader {
    assemble_after(PRELUDE_BINDINGS, author_source, param_names, textures)
}

/// Validates a compute pass; returns its entry point's workgroup size
/// along x, and whether it reads Shadertoy's audio texture (`audio_tex`).
pub fn validate_compute(
    shader: &AssembledShader,
    author_path: &Path,
    entry: &str,
) -> Result<(u32, bool), ShaderError> {
    let (module, info) = parse_and_validate(shader, author_path)?;
    let (index, ep) = module
        .entry_points
        .iter()
        .enumerate()
        .find(|(_, e)| e.name == entry && e.stage == naga::ShaderStage::Compute)
        .ok_or_else(|| ShaderError {
            path: author_path.to_owned(),
            line: 0,
            column: 0,
            message: format!(
                "no compute entry point `{entry}` (`@compute @workgroup_size(64) fn {entry}(@builtin(global_invocation_id) id: vec3u)`)"
            ),
        })?;
    let reads_audio = entry_reads(&module, &info, index, "audio_tex");
    let [x, y, z] = ep.workgroup_size;
    if y != 1 || z != 1 || x == 0 || x > 256 {
        return Err(ShaderError {
            path: author_path.to_owned(),
            line: 0,
            column: 0,
            message: format!(
                "`{entry}`: workgroup size ({x}, {y}, {z}); use a 1D size of at most 256, e.g. @workgroup_size(64)"
            ),
        });
    }
    Ok((x, reads_audio))
}

/// Parses and validates assembled WGSL; maps error locations to `author_path`.
/// Also reports which feedback textures the pass reads.
pub fn validate(
    shader: &AssembledShader,
    author_path: &Path,
) -> Result<(naga::Module, GlobalsUsed), ShaderError> {
    let (module, info) = parse_and_validate(shader, author_path)?;
    let uses = module
        .entry_points
        .iter()
        .position(|e| e.name == "fs_main")
        .map_or_else(GlobalsUsed::default, |ep| {
            GlobalsUsed::of(&module, &info, ep)
        });
    if !module.entry_points.iter().any(|e| e.name == "fs_main") {
        return Err(ShaderError {
            path: author_path.to_owned(),
            line: 0,
            column: 0,
            message:
                "no fragment entry point (is `fn shade(uv: vec2f, frag: vec2f) -> vec4f` defined?)"
                    .into(),
        });
    }
    Ok((module, uses))
}

fn parse_and_validate(
    shader: &AssembledShader,
    author_path: &Path,
) -> Result<(naga::Module, naga::valid::ModuleInfo), ShaderError> {
    let locate = |loc: Option<naga::SourceLocation>, message: String| {
        let (line, column) = match loc {
            Some(l) if l.line_number > shader.header_lines => {
                (l.line_number - shader.header_lines, l.line_position)
            }
            Some(l) => {
                // Name the engine file the line is in.
                let fullscreen_lines = FULLSCREEN.lines().count() as u32;
                let bindings_lines = PRELUDE_BINDINGS.lines().count() as u32;
                let (file, line) = if l.line_number <= fullscreen_lines {
                    ("shaders/fullscreen.wgsl", l.line_number)
                } else if l.line_number <= bindings_lines {
                    ("shaders/prelude.wgsl", l.line_number - fullscreen_lines)
                } else {
                    ("shaders/entry.wgsl", l.line_number - bindings_lines)
                };
                return ShaderError {
                    path: PathBuf::from(file),
                    line,
                    column: l.line_position,
                    message: format!("{message} (in the prelude or generated code)"),
                };
            }
            None => (0, 0),
        };
        ShaderError {
            path: author_path.to_owned(),
            line,
            column,
            message,
        }
    };
    // Prefer a span inside the author's code: naga may also point at the
    // enclosing function, the prelude, or nothing in particular.
    let in_author_code = |spans: &mut dyn Iterator<Item = naga::Span>| {
        spans
            .map(|span| span.location(&shader.source))
            .filter(|l| l.line_number > shader.header_lines)
            .max_by_key(|l| l.line_number)
    };
    let module = naga::front::wgsl::parse_str(&shader.source).map_err(|e| {
        let mut msg = e.message().to_string();
        if let Some((_, label)) = e.labels().next()
            && !label.is_empty()
        {
            msg = format!("{msg}: {label}");
        }
        let author_span = in_author_code(&mut e.labels().map(|(span, _)| span));
        locate(author_span.or_else(|| e.location(&shader.source)), msg)
    })?;
    let info = validator().validate(&module).map_err(|e| {
        let author_span = in_author_code(&mut e.spans().map(|(span, _)| *span));
        locate(
            author_span.or_else(|| e.location(&shader.source)),
            validation_message(&e),
        )
    })?;
    Ok((module, info))
}

/// naga's validator with every check on (WGSL presets and translated GLSL
/// alike).
pub(crate) fn validator() -> naga::valid::Validator {
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    )
}

/// A validation error with the chain of its causes, `outer: inner: …`.
pub(crate) fn validation_message(e: &naga::WithSpan<naga::valid::ValidationError>) -> String {
    let mut msg = e.as_inner().to_string();
    let mut source = std::error::Error::source(e.as_inner());
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return vec4f(uv * param.gain, u.bass, 1.0);\n}\n";

    #[test]
    fn prelude_with_minimal_shader_validates() {
        let a = assemble(GOOD, &["gain"], &[]);
        validate(&a, Path::new("ok.wgsl")).expect("valid");
    }

    #[test]
    fn feedback_reads_are_detected() {
        let fb = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return prev(uv) * 0.9;\n}\n";
        let (_, r) = validate(&assemble(fb, &[], &[]), Path::new("fb.wgsl")).expect("valid");
        assert_eq!(
            r,
            GlobalsUsed {
                prev_frame: true,
                input: false,
                audio: false,
            }
        );
        let (_, r) =
            validate(&assemble(GOOD, &["gain"], &[]), Path::new("ok.wgsl")).expect("valid");
        assert_eq!(r, GlobalsUsed::default());
        // Shadertoy's audio texture, read by name.
        let web = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return textureSampleLevel(audio_tex, samp, uv, 0.0);\n}\n";
        let (_, r) = validate(&assemble(web, &[], &[]), Path::new("web.wgsl")).expect("valid");
        assert!(r.audio && !r.prev_frame, "{r:?}");
    }

    #[test]
    fn errors_point_into_the_author_file() {
        let bad = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    let x = 1.0;\n    return vec4f(x, y, 0.0, 1.0);\n}\n";
        let a = assemble(bad, &[], &[]);
        let e = validate(&a, Path::new("bad.wgsl")).expect_err("invalid");
        assert_eq!(e.path, Path::new("bad.wgsl"));
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.column, 21, "{e}");
        assert!(e.to_string().starts_with("bad.wgsl:3:21: "), "{e}");
    }

    #[test]
    fn type_errors_are_located_too() {
        let bad = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return 1.0;\n}\n";
        let e = validate(&assemble(bad, &[], &[]), Path::new("t.wgsl")).expect_err("invalid");
        assert_eq!(e.line, 2, "{e}");
    }
}
