//! GLSL passes: Shadertoy and ISF shaders run as presets.
//!
//! The author's GLSL file is kept as written. At load time it is wrapped in a
//! generated header (the shader contract's bindings as GLSL, the dialect's
//! names as macros: `iTime`, `iResolution`, `iChannel0`… or `TIME`,
//! `RENDERSIZE`, `IMG_NORM_PIXEL`…) and a footer (the entry point), parsed by
//! naga's GLSL front end, validated, and written out as WGSL for the same
//! pipeline every preset uses. Errors point at the author's line.
//!
//! Orientation: GLSL shaders expect y up (`fragCoord.y = 0` at the bottom)
//! and sample their buffers in the same coordinates they wrote them. Passes
//! therefore render "GL-native" (row 0 of a target is the bottom of the
//! picture) and only the shown picture is turned the right way up: the last
//! pass flips its `fragCoord`, or, when the last pass reads its own previous
//! frame, an extra flip pass is appended (`flip_pass`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::shader::{FULLSCREEN, GlobalsUsed, MAX_PARAMS, ShaderError};

/// Which GLSL dialect a preset's passes are written in.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Shadertoy: `void mainImage(out vec4 fragColor, in vec2 fragCoord)`.
    #[default]
    Shadertoy,
    /// Interactive Shader Format (VDMX, Resolume, Synesthesia): `void main()`
    /// writing `gl_FragColor`.
    Isf,
}

/// What an ISF input is (how its parameters become one GLSL value).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// One float parameter.
    Float,
    /// A 0/1 parameter, read as `bool`.
    Bool,
    /// A whole-number parameter, read as `int`.
    Long,
    /// Four parameters `<name>_r/_g/_b/_a`, read as `vec4`.
    Color,
    /// Two parameters `<name>_x/_y`, read as `vec2`.
    Point2d,
    /// A momentary trigger: `true` on the beat (the contract's `beat_hit`).
    Event,
}

/// A named GLSL value built from parameters (ISF's typed inputs).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GlslInput {
    /// The name the shader uses.
    pub name: String,
    /// How it is built.
    pub kind: InputKind,
}

/// `[glsl]` in preset.toml: how the GLSL passes are wrapped.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GlslSpec {
    /// The dialect (default: Shadertoy).
    #[serde(default)]
    pub dialect: Dialect,
    /// Shadertoy's "Common" tab: a file prepended to every pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<String>,
    /// Where the shader came from (URL or file name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
    /// Its licence, as the author gave it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    /// Typed inputs built from parameters (ISF).
    #[serde(default, rename = "input", skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<GlslInput>,
}

/// What a pass's texture name (`iChannel0`, an ISF buffer name) reads.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChannelSource {
    /// Shadertoy's audio texture: 512 linear FFT bins (row 0) and the
    /// waveform (row 1), as Web Audio makes them.
    Audio,
    /// This pass's own previous frame (a buffer reading itself, ISF
    /// `PERSISTENT` feedback).
    #[serde(rename = "self")]
    Own,
    /// The previous pass, this frame.
    Input,
    /// sonolux's own log-frequency spectrum/waveform texture.
    Spectrum,
}

impl ChannelSource {
    fn texture(self) -> &'static str {
        match self {
            Self::Audio => "audio_tex",
            Self::Own => "prev_frame",
            Self::Input => "input_tex",
            Self::Spectrum => "spectrum_tex",
        }
    }
}

/// True for file names the GLSL path handles (`.glsl`, `.frag`, `.fs`).
pub fn is_glsl(file: &str) -> bool {
    let ext = Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("glsl" | "frag" | "fs"))
}

/// One pass to translate.
pub struct GlslPass<'a> {
    /// The author's file (for messages).
    pub path: &'a Path,
    /// Its text.
    pub source: &'a str,
    /// The Common tab, when there is one: (path, text).
    pub common: Option<(&'a Path, &'a str)>,
    /// The pass's index (ISF `PASSINDEX`).
    pub index: usize,
    /// Texture names and what they read.
    pub channels: &'a BTreeMap<String, ChannelSource>,
    /// Whether this pass's picture is shown (turned right way up, opaque).
    pub shown: bool,
}

/// The uniform block of the contract as GLSL members (`sx_<field>`), derived
/// from `shaders/prelude.wgsl` so the two cannot drift apart.
fn contract_members() -> &'static str {
    static MEMBERS: OnceLock<String> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let module = naga::front::wgsl::parse_str(super::shader::PRELUDE_BINDINGS)
            .expect("the prelude parses");
        let mut out = String::new();
        for (_, ty) in module.types.iter() {
            let (Some("Sonolux"), naga::TypeInner::Struct { members, .. }) =
                (ty.name.as_deref(), &ty.inner)
            else {
                continue;
            };
            for m in members {
                let name = m.name.as_deref().unwrap_or("_");
                let decl = match &module.types[m.ty].inner {
                    naga::TypeInner::Scalar(_) => format!("float sx_{name}"),
                    naga::TypeInner::Vector { size, .. } => {
                        format!("vec{} sx_{name}", *size as u8)
                    }
                    naga::TypeInner::Array {
                        size: naga::ArraySize::Constant(n),
                        ..
                    } => format!("vec4 sx_{name}[{n}]"),
                    other => panic!("contract member {name}: unexpected type {other:?}"),
                };
                let _ = writeln!(out, "    {decl};");
            }
        }
        assert!(!out.is_empty(), "the prelude declares struct Sonolux");
        out
    })
}

/// The generated header: bindings, dialect macros. Its line count is
/// subtracted from error locations.
fn header(pass: &GlslPass, spec: &GlslSpec, params: &[&str]) -> Result<String, ShaderError> {
    let mut h = String::from("#version 450\n");
    let _ = write!(
        h,
        "layout(set = 0, binding = 0, std140) uniform Sonolux {{\n{}}};\n",
        contract_members()
    );
    h += "layout(set = 0, binding = 1, std140) uniform Params {\n";
    for n in params.iter().take(MAX_PARAMS) {
        let _ = writeln!(h, "    float p_{n};");
    }
    for i in params.len().min(MAX_PARAMS)..MAX_PARAMS {
        let _ = writeln!(h, "    float p__unused{i};");
    }
    h += "};\n";
    h += "layout(set = 0, binding = 2) uniform texture2D spectrum_tex;\n\
          layout(set = 0, binding = 3) uniform texture2D prev_frame;\n\
          layout(set = 0, binding = 4) uniform texture2D input_tex;\n\
          layout(set = 0, binding = 5) uniform sampler samp;\n\
          layout(set = 0, binding = 6) uniform sampler samp_repeat;\n\
          layout(set = 0, binding = 7) uniform texture2D audio_tex;\n\
          layout(location = 0) out vec4 sx_color;\n";
    let flip = if pass.shown {
        "sx_resolution.y - gl_FragCoord.y"
    } else {
        "gl_FragCoord.y"
    };
    let _ = writeln!(
        h,
        "vec4 sx_frag_coord() {{ return vec4(gl_FragCoord.x, {flip}, gl_FragCoord.zw); }}"
    );
    // Parameters by name; typed inputs built from them.
    let typed: BTreeMap<&str, InputKind> = spec
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.kind))
        .collect();
    for input in &spec.inputs {
        let n = &input.name;
        let need = |suffixes: &[&str]| -> Result<(), ShaderError> {
            for s in suffixes {
                let p = format!("{n}{s}");
                if !params.contains(&p.as_str()) {
                    return Err(ShaderError {
                        path: pass.path.to_owned(),
                        line: 0,
                        column: 0,
                        message: format!(
                            "input '{n}' needs a parameter named '{p}' in preset.toml"
                        ),
                    });
                }
            }
            Ok(())
        };
        let def = match input.kind {
            InputKind::Float => {
                need(&[""])?;
                format!("p_{n}")
            }
            InputKind::Bool => {
                need(&[""])?;
                format!("(p_{n} > 0.5)")
            }
            InputKind::Long => {
                need(&[""])?;
                format!("int(floor(p_{n} + 0.5))")
            }
            InputKind::Color => {
                need(&["_r", "_g", "_b", "_a"])?;
                format!("vec4(p_{n}_r, p_{n}_g, p_{n}_b, p_{n}_a)")
            }
            InputKind::Point2d => {
                need(&["_x", "_y"])?;
                format!("vec2(p_{n}_x, p_{n}_y)")
            }
            InputKind::Event => "(sx_beat_hit > 0.5)".to_string(),
        };
        let _ = writeln!(h, "#define {n} {def}");
    }
    for p in params {
        let base_is_typed = typed.contains_key(p)
            || spec.inputs.iter().any(|i| {
                matches!(i.kind, InputKind::Color | InputKind::Point2d)
                    && p.strip_prefix(i.name.as_str())
                        .is_some_and(|s| s.len() == 2 && s.starts_with('_'))
            });
        if !base_is_typed {
            let _ = writeln!(h, "#define {p} p_{p}");
        }
    }
    for (name, src) in pass.channels {
        let tex = src.texture();
        match spec.dialect {
            Dialect::Shadertoy => {
                let sampler = if *src == ChannelSource::Audio {
                    "samp"
                } else {
                    "samp_repeat"
                };
                let _ = writeln!(h, "#define {name} sampler2D({tex}, {sampler})");
            }
            Dialect::Isf => {
                let _ = writeln!(h, "#define {name} {tex}");
            }
        }
    }
    match spec.dialect {
        Dialect::Shadertoy => {
            h += "#define iResolution vec3(sx_resolution, 1.0)\n\
                  #define iTime sx_time\n\
                  #define iTimeDelta sx_delta\n\
                  #define iFrame int(sx_frame)\n\
                  #define iFrameRate (1.0 / max(sx_delta, 0.001))\n\
                  #define iMouse vec4(0.0)\n\
                  #define iDate vec4(0.0, 0.0, 0.0, sx_time)\n\
                  #define iSampleRate 44100.0\n\
                  #define iChannelTime vec4(sx_time)\n";
            let res = |c: &str| match pass.channels.get(c) {
                Some(ChannelSource::Audio | ChannelSource::Spectrum) => "vec3(512.0, 2.0, 1.0)",
                Some(_) => "vec3(sx_resolution, 1.0)",
                None => "vec3(0.0)",
            };
            let _ = writeln!(
                h,
                "#define iChannelResolution vec3[4]({}, {}, {}, {})",
                res("iChannel0"),
                res("iChannel1"),
                res("iChannel2"),
                res("iChannel3")
            );
        }
        Dialect::Isf => {
            let _ = writeln!(h, "#define PASSINDEX {}", pass.index);
            h += "#define RENDERSIZE sx_resolution\n\
                  #define TIME sx_time\n\
                  #define TIMEDELTA sx_delta\n\
                  #define FRAMEINDEX int(sx_frame)\n\
                  #define DATE vec4(0.0, 0.0, 0.0, sx_time)\n\
                  #define gl_FragColor sx_color\n\
                  #define gl_FragCoord sx_frag_coord()\n\
                  #define isf_FragNormCoord (sx_frag_coord().xy / sx_resolution)\n\
                  #define vv_FragNormCoord isf_FragNormCoord\n\
                  #define texture2D texture\n\
                  #define IMG_NORM_PIXEL(img, c) texture(sampler2D(img, samp), (c))\n\
                  #define IMG_PIXEL(img, c) texture(sampler2D(img, samp), (c) / vec2(textureSize(sampler2D(img, samp), 0)))\n\
                  #define IMG_THIS_NORM_PIXEL(img) texture(sampler2D(img, samp), isf_FragNormCoord)\n\
                  #define IMG_THIS_PIXEL(img) IMG_THIS_NORM_PIXEL(img)\n\
                  #define IMG_SIZE(img) vec2(textureSize(sampler2D(img, samp), 0))\n";
        }
    }
    Ok(h)
}

/// Blanks lines the wrapper provides itself (`#version`, `precision`), keeping
/// line numbers.
fn clean(source: &str) -> String {
    source
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("#version") || t.starts_with("precision ") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Constructs the full GLSL text and where each file starts in it.
struct Assembled {
    text: String,
    /// (first line in `text` (1-based), line count, file).
    files: Vec<(u32, u32, PathBuf)>,
}

impl Assembled {
    fn locate(&self, line: u32) -> Option<(PathBuf, u32)> {
        self.files
            .iter()
            .find(|(start, n, _)| line >= *start && line < start + n)
            .map(|(start, _, p)| (p.clone(), line - start + 1))
    }
}

fn assemble(pass: &GlslPass, spec: &GlslSpec, params: &[&str]) -> Result<Assembled, ShaderError> {
    let mut text = header(pass, spec, params)?;
    let mut files = Vec::new();
    let mut add = |text: &mut String, path: &Path, src: &str| {
        let start = text.lines().count() as u32 + 1;
        let body = clean(src);
        let n = body.lines().count().max(1) as u32;
        *text += &body;
        *text += "\n";
        files.push((start, n, path.to_owned()));
    };
    if let Some((p, s)) = pass.common {
        add(&mut text, p, s);
    }
    add(&mut text, pass.path, pass.source);
    match spec.dialect {
        Dialect::Shadertoy => {
            let out = if pass.shown { "vec4(c.rgb, 1.0)" } else { "c" };
            let _ = write!(
                text,
                "void main() {{\n    vec4 c = vec4(0.0, 0.0, 0.0, 1.0);\n    mainImage(c, sx_frag_coord().xy);\n    sx_color = {out};\n}}\n"
            );
        }
        Dialect::Isf => {}
    }
    Ok(Assembled { text, files })
}

/// A translated pass: WGSL ready for the pipeline, and what it reads.
#[derive(Debug, Clone)]
pub struct Translated {
    /// The fullscreen vertex stage followed by the translated fragment stage
    /// (`fs_main`).
    pub wgsl: String,
    /// Which feedback textures it reads.
    pub reads: GlobalsUsed,
}

/// Translates one GLSL pass to WGSL; errors name the author's file and line.
pub fn translate(
    pass: &GlslPass,
    spec: &GlslSpec,
    params: &[&str],
) -> Result<Translated, ShaderError> {
    let unsupported = unsupported_features(pass.source);
    if let Some((line, what)) = unsupported {
        return Err(ShaderError {
            path: pass.path.to_owned(),
            line,
            column: 1,
            message: what,
        });
    }
    let asm = assemble(pass, spec, params)?;
    let at = |loc: Option<naga::SourceLocation>, message: String| match loc
        .and_then(|l| asm.locate(l.line_number).map(|(p, n)| (p, n, l)))
    {
        Some((path, line, l)) => ShaderError {
            path,
            line,
            column: l.line_position,
            message,
        },
        None => ShaderError {
            path: pass.path.to_owned(),
            line: 0,
            column: 0,
            message: format!("{message} (in the generated wrapper{})", hint(spec)),
        },
    };
    let options = naga::front::glsl::Options::from(naga::ShaderStage::Fragment);
    let mut module = naga::front::glsl::Frontend::default()
        .parse(&options, &asm.text)
        .map_err(|errors| {
            // The first error in the author's code is the useful one.
            let first = errors
                .errors
                .iter()
                .find(|e| {
                    e.location(&asm.text)
                        .is_some_and(|l| asm.locate(l.line_number).is_some())
                })
                .or(errors.errors.first());
            match first {
                Some(e) => at(e.location(&asm.text), e.kind.to_string()),
                None => at(None, "the GLSL did not parse".into()),
            }
        })?;
    let info = super::shader::validator().validate(&module).map_err(|e| {
        let msg = super::shader::validation_message(&e);
        let loc = e
            .spans()
            .map(|(span, _)| span.location(&asm.text))
            .find(|l| asm.locate(l.line_number).is_some());
        at(loc, msg)
    })?;
    let used = GlobalsUsed::of(&module, &info, 0);
    for ep in module.entry_points.iter_mut() {
        ep.name = "fs_main".into();
    }
    let wgsl =
        naga::back::wgsl::write_string(&module, &info, naga::back::wgsl::WriterFlags::empty())
            .map_err(|e| at(None, format!("WGSL output failed: {e}")))?;
    Ok(Translated {
        wgsl: format!("{FULLSCREEN}\n{wgsl}"),
        reads: used,
    })
}

fn hint(spec: &GlslSpec) -> &'static str {
    match spec.dialect {
        Dialect::Shadertoy => {
            "; is `void mainImage(out vec4 fragColor, in vec2 fragCoord)` defined?"
        }
        Dialect::Isf => "; is `void main()` defined?",
    }
}

/// The 1-based line where `word` is first used as an identifier (code after
/// `//` on a line is skipped).
pub(crate) fn first_use(code: &str, word: &str) -> Option<usize> {
    code.lines().enumerate().find_map(|(i, l)| {
        let code = l.split("//").next().unwrap_or("");
        code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|t| t == word)
            .then_some(i + 1)
    })
}

/// Features the translation cannot give, found by a plain scan: (1-based
/// line, message) of the earliest.
fn unsupported_features(source: &str) -> Option<(u32, String)> {
    const UNSUPPORTED: [(&str, &str); 3] = [
        (
            "samplerCube",
            "cube map inputs (samplerCube) are not supported",
        ),
        ("sampler3D", "volume textures (sampler3D) are not supported"),
        (
            "varying",
            "`varying` needs a custom ISF vertex shader (.vs), which is not supported; \
             use isf_FragNormCoord instead",
        ),
    ];
    UNSUPPORTED
        .iter()
        .filter_map(|(word, msg)| {
            first_use(source, word).map(|line| (line as u32, msg.to_string()))
        })
        .min_by_key(|(line, _)| *line)
}

/// The pass appended when the last GLSL pass reads its own previous frame:
/// it shows the previous pass's (GL-native) picture the right way up.
pub const FLIP_WGSL: &str = "fn shade(uv: vec2f, frag: vec2f) -> vec4f {\n    return vec4f(input(vec2f(uv.x, 1.0 - uv.y)).rgb, 1.0);\n}\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn pass<'a>(
        src: &'a str,
        channels: &'a BTreeMap<String, ChannelSource>,
        shown: bool,
    ) -> GlslPass<'a> {
        GlslPass {
            path: Path::new("image.glsl"),
            source: src,
            common: None,
            index: 0,
            channels,
            shown,
        }
    }

    #[test]
    fn shadertoy_main_image_translates_and_reads_the_audio_channel() {
        let ch = BTreeMap::from([("iChannel0".to_string(), ChannelSource::Audio)]);
        let src = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    vec2 uv = fragCoord / iResolution.xy;\n    float fft = texture(iChannel0, vec2(uv.x, 0.25)).x;\n    fragColor = vec4(uv, fft + 0.5 * sin(iTime), 1.0);\n}\n";
        let t = translate(&pass(src, &ch, true), &GlslSpec::default(), &[]).expect("translates");
        assert!(t.wgsl.contains("fn fs_main"), "{}", t.wgsl);
        assert!(t.wgsl.contains("audio_tex"), "{}", t.wgsl);
        naga::front::wgsl::parse_str(&t.wgsl).expect("the output is WGSL");
    }

    #[test]
    fn glsl_errors_point_at_the_authors_line() {
        let ch = BTreeMap::new();
        let src = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    vec2 uv = fragCoord / iResolution.xy;\n    fragColor = vec4(uv, nope, 1.0);\n}\n";
        let e = translate(&pass(src, &ch, true), &GlslSpec::default(), &[]).expect_err("bad");
        assert_eq!(e.path, Path::new("image.glsl"));
        assert_eq!(e.line, 3, "{e}");
        let syntax = "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n    fragColor = vec4(1.0;\n}\n";
        let e = translate(&pass(syntax, &ch, true), &GlslSpec::default(), &[]).expect_err("bad");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn isf_inputs_and_persistent_buffers_arrive() {
        let spec = GlslSpec {
            dialect: Dialect::Isf,
            inputs: vec![
                GlslInput {
                    name: "tint".into(),
                    kind: InputKind::Color,
                },
                GlslInput {
                    name: "center".into(),
                    kind: InputKind::Point2d,
                },
                GlslInput {
                    name: "invert".into(),
                    kind: InputKind::Bool,
                },
            ],
            ..Default::default()
        };
        let params = [
            "tint_r", "tint_g", "tint_b", "tint_a", "center_x", "center_y", "invert", "decay",
        ];
        let ch = BTreeMap::from([("trail".to_string(), ChannelSource::Own)]);
        let src = "/*{ \"ISFVSN\": \"2\" }*/\nvoid main() {\n    vec4 old = IMG_NORM_PIXEL(trail, isf_FragNormCoord);\n    float d = distance(gl_FragCoord.xy, center * RENDERSIZE);\n    vec4 c = tint * step(d, 20.0) + old * decay;\n    gl_FragColor = invert ? 1.0 - c : c;\n}\n";
        let mut p = pass(src, &ch, false);
        p.path = Path::new("main.fs");
        let t = translate(&p, &spec, &params).expect("translates");
        assert!(
            t.reads.prev_frame,
            "the persistent buffer is this pass's feedback"
        );
        let e = translate(&p, &spec, &params[..6]).expect_err("a missing parameter");
        assert!(e.to_string().contains("'invert'"), "{e}");
    }

    #[test]
    fn unsupported_inputs_are_named() {
        let ch = BTreeMap::new();
        let src =
            "uniform samplerCube env;\nvoid mainImage(out vec4 c, in vec2 f) { c = vec4(1.0); }\n";
        let e = translate(&pass(src, &ch, true), &GlslSpec::default(), &[]).expect_err("cube");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("cube map"), "{e}");
    }
}
