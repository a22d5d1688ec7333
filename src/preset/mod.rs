//! Presets: a folder with `preset.toml` and one WGSL file per pass.
//!
//! Loading validates everything (TOML schema, parameter ranges, each pass's
//! WGSL through naga with the prelude) and reports problems as
//! `file:line:col: message`. Saving is atomic: a temporary file renamed over
//! the old one, so a crash never leaves a half-written preset.

pub mod glsl;
pub mod import;
pub mod library;
pub mod modulation;
pub mod shader;
pub mod share;
pub mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use library::{Library, Origin, builtin_dir};
pub use shader::{MAX_PARAMS, ShaderError};

/// File name of a preset's description inside its folder.
pub const PRESET_FILE: &str = "preset.toml";

/// The TOML schema of a preset.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Display name.
    pub name: String,
    /// Who made it.
    #[serde(default)]
    pub author: String,
    /// One line on what it looks like and what drives it.
    #[serde(default)]
    pub description: String,
    /// Free tags (look, energy...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Fraction of the output size the passes render at (0.25..=1).
    #[serde(default = "one")]
    pub render_scale: f32,
    /// Render passes, in order.
    #[serde(rename = "pass")]
    pub passes: Vec<PassSpec>,
    /// Parameters exposed to the shader as `param.<name>`.
    #[serde(default, rename = "param", skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    /// Images (PNG/JPEG in the preset folder) the passes read as
    /// `tex_<name>` (`[[texture]]`).
    #[serde(default, rename = "texture", skip_serializing_if = "Vec::is_empty")]
    pub textures: Vec<TextureSpec>,
    /// Exposure and tone map of the final image (`[tone_map]`); without it
    /// values above 1 clip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone_map: Option<ToneMapSpec>,
    /// How GLSL passes (`.glsl`, `.frag`, `.fs`: imported Shadertoy and ISF
    /// shaders) are wrapped (`[glsl]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glsl: Option<glsl::GlslSpec>,
    /// Storage buffers (`[[storage]]`), bound as `@group(2) @binding(i)` in
    /// declaration order: read-write in compute passes, read-only in
    /// fragment passes. They keep their contents from frame to frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<StorageSpec>,
    /// Compute passes (`[[compute]]`), run in order before the fragment
    /// passes each frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compute: Vec<ComputeSpec>,
}

/// How many items a storage buffer holds, or how many invocations a compute
/// pass runs: a number, `"pixels"` (one per pixel of the render target,
/// renewed when it is resized) or, for a compute pass, a storage buffer's name.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Items {
    /// A fixed count.
    Count(u32),
    /// `"pixels"` or a storage buffer's name.
    Named(String),
}

/// A storage buffer (`[[storage]]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Identifier (for `items` references and messages).
    pub name: String,
    /// Item count: a number or `"pixels"`.
    pub items: Items,
    /// Bytes per item (a multiple of 4, at most 256).
    pub stride: u32,
    /// Zero it at the start of every frame (splat targets).
    #[serde(default)]
    pub clear: bool,
}

/// A compute pass (`[[compute]]`): one invocation per item.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComputeSpec {
    /// WGSL file with a `@compute` entry point.
    pub shader: String,
    /// The entry point's name.
    #[serde(default = "default_entry")]
    pub entry: String,
    /// Invocations: a number, `"pixels"`, or a storage buffer's name.
    pub items: Items,
}

fn default_entry() -> String {
    "main".into()
}

/// Storage buffers a preset may declare.
pub const MAX_STORAGE: usize = 4;
/// Largest storage buffer, in bytes (within downlevel binding limits).
pub const MAX_STORAGE_BYTES: u64 = 128 << 20;

fn one() -> f32 {
    1.0
}

/// An image a preset reads (`[[texture]]` in preset.toml).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TextureSpec {
    /// Identifier: the passes sample `tex_<name>`.
    pub name: String,
    /// PNG or JPEG file, or a video loop (mp4, mov, webm, mkv, gif…, decoded
    /// by ffmpeg), relative to the preset folder (inside it).
    pub file: String,
}

/// A decoded preset image, ready to upload.
#[derive(Clone, Debug)]
pub struct PresetTexture {
    /// Its name (`tex_<name>` in WGSL).
    pub name: String,
    /// Width and height in pixels.
    pub size: [u32; 2],
    /// RGBA8 pixels (sRGB), row by row (black for a video until its first
    /// frame is decoded).
    pub rgba: std::sync::Arc<[u8]>,
    /// A video loop's file: decoded by ffmpeg on its own thread while the
    /// preset runs (`media::VideoStream`).
    pub video: Option<PathBuf>,
}

/// Images a preset may declare.
pub const MAX_TEXTURES: usize = 8;
/// Largest preset image side (GPU textures stay within downlevel limits).
pub const MAX_TEXTURE_SIDE: u32 = 4096;

/// How a preset's final image is brought into 0..1 (`[tone_map]` in
/// preset.toml). With it the passes render in float, so a loud drop that
/// pushes colours past 1 keeps its detail instead of clipping flat.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToneMapSpec {
    /// The curve.
    #[serde(default)]
    pub curve: ToneCurve,
    /// Multiplier before the curve (0.05..=8).
    #[serde(default = "one")]
    pub exposure: f32,
    /// Reinhard: the level that maps to white (1..=64).
    #[serde(default = "four")]
    pub white: f32,
}

fn four() -> f32 {
    4.0
}

/// Tone curves.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ToneCurve {
    /// Clip at 1 (exposure only).
    Clip,
    /// Reinhard on luminance with a white point (keeps hue).
    Reinhard,
    /// The ACES filmic curve (Narkowicz's fit): soft highlight roll-off.
    #[default]
    Aces,
}

/// One fragment pass.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PassSpec {
    /// WGSL file (or GLSL: `.glsl`, `.frag`, `.fs`), relative to the preset folder.
    pub shader: String,
    /// GLSL passes: what each texture name reads (`iChannel0 = "audio"`,
    /// an ISF buffer name = `"self"` or `"input"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, glsl::ChannelSource>,
}

/// One numeric parameter.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Identifier used in WGSL (`param.<name>`).
    pub name: String,
    /// Starting value.
    pub default: f32,
    /// Lowest value.
    #[serde(default)]
    pub min: f32,
    /// Highest value.
    #[serde(default = "one")]
    pub max: f32,
    /// The feature it follows, if any (`[param.modulation]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modulation: Option<modulation::Modulation>,
}

/// Why a preset could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// File system error.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// TOML syntax or schema error.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Toml {
        /// The TOML file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The TOML file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A pass's WGSL does not compile.
    #[error(transparent)]
    Shader(#[from] ShaderError),
    /// No preset with that name.
    #[error("no preset named '{name}' (available: {available})")]
    NotFound {
        /// The name asked for.
        name: String,
        /// Comma-separated list of what exists.
        available: String,
    },
}

/// A validated pass ready for the GPU.
#[derive(Clone, Debug)]
pub struct Pass {
    /// The author's WGSL file.
    pub path: PathBuf,
    /// Full source with the prelude.
    pub source: String,
    /// Which feedback textures it reads.
    pub reads: shader::GlobalsUsed,
}

/// A validated compute pass ready for the GPU.
#[derive(Clone, Debug)]
pub struct ComputePass {
    /// The author's WGSL file.
    pub path: PathBuf,
    /// Full source with the prelude.
    pub source: String,
    /// Entry point.
    pub entry: String,
    /// Invocations per frame.
    pub items: Items,
    /// The entry point's workgroup size along x (from the shader).
    pub workgroup: u32,
    /// Reads Shadertoy's audio texture (`audio_tex`).
    pub reads_audio: bool,
}

/// A loaded, validated preset.
#[derive(Clone, Debug)]
pub struct Preset {
    /// Folder name, the id used on the command line.
    pub id: String,
    /// Folder it came from.
    pub dir: PathBuf,
    /// Its description.
    pub spec: PresetSpec,
    /// Validated passes.
    pub passes: Vec<Pass>,
    /// Decoded images, in declaration order.
    pub textures: Vec<PresetTexture>,
    /// Validated compute passes.
    pub compute: Vec<ComputePass>,
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> PresetError {
    let (line, column) = e.span().map_or((0, 0), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    });
    PresetError::Toml {
        path: path.to_owned(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

impl PresetSpec {
    /// Parses and checks a preset description.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PresetError> {
        let spec: PresetSpec = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        let invalid = |message: String| PresetError::Invalid {
            path: path.to_owned(),
            message,
        };
        if spec.passes.is_empty() {
            return Err(invalid("a preset needs at least one [[pass]]".into()));
        }
        if !(0.25..=1.0).contains(&spec.render_scale) {
            return Err(invalid(format!(
                "render_scale {} is outside 0.25..=1",
                spec.render_scale
            )));
        }
        for (i, t) in spec.textures.iter().enumerate() {
            if !is_identifier(&t.name) {
                return Err(invalid(format!(
                    "texture name '{}' is not an identifier",
                    t.name
                )));
            }
            if spec.textures[..i].iter().any(|q| q.name == t.name) {
                return Err(invalid(format!("texture '{}' is declared twice", t.name)));
            }
        }
        if spec.textures.len() > MAX_TEXTURES {
            return Err(invalid(format!("at most {MAX_TEXTURES} textures")));
        }
        if let Some(t) = &spec.tone_map {
            if !(0.05..=8.0).contains(&t.exposure) {
                return Err(invalid(format!(
                    "tone_map.exposure {} is outside 0.05..=8",
                    t.exposure
                )));
            }
            if !(1.0..=64.0).contains(&t.white) {
                return Err(invalid(format!(
                    "tone_map.white {} is outside 1..=64",
                    t.white
                )));
            }
        }
        if spec.storage.len() > MAX_STORAGE {
            return Err(invalid(format!(
                "at most {MAX_STORAGE} [[storage]] buffers"
            )));
        }
        for (i, b) in spec.storage.iter().enumerate() {
            if !is_identifier(&b.name) || b.name == "pixels" {
                return Err(invalid(format!(
                    "storage name '{}' is not an identifier (or is 'pixels')",
                    b.name
                )));
            }
            if spec.storage[..i].iter().any(|q| q.name == b.name) {
                return Err(invalid(format!("storage '{}' is declared twice", b.name)));
            }
            if b.stride == 0 || b.stride % 4 != 0 || b.stride > 256 {
                return Err(invalid(format!(
                    "storage '{}': stride {} must be a multiple of 4 in 4..=256",
                    b.name, b.stride
                )));
            }
            match &b.items {
                Items::Count(n)
                    if *n == 0 || u64::from(*n) * u64::from(b.stride) > MAX_STORAGE_BYTES =>
                {
                    return Err(invalid(format!(
                        "storage '{}': {n} items of {} bytes is outside 1 item..{} MiB",
                        b.name,
                        b.stride,
                        MAX_STORAGE_BYTES >> 20
                    )));
                }
                Items::Named(n) if n != "pixels" => {
                    return Err(invalid(format!(
                        "storage '{}': items = \"{n}\" (a number or \"pixels\")",
                        b.name
                    )));
                }
                _ => {}
            }
        }
        for c in &spec.compute {
            if let Items::Named(n) = &c.items
                && n != "pixels"
                && !spec.storage.iter().any(|b| &b.name == n)
            {
                return Err(invalid(format!(
                    "compute '{}': items = \"{n}\" is neither \"pixels\" nor a [[storage]] name",
                    c.shader
                )));
            }
            if c.items == Items::Count(0) {
                return Err(invalid(format!("compute '{}': items = 0", c.shader)));
            }
        }
        if spec.params.len() > MAX_PARAMS {
            return Err(invalid(format!("at most {MAX_PARAMS} parameters")));
        }
        for (i, p) in spec.params.iter().enumerate() {
            if !is_identifier(&p.name) {
                return Err(invalid(format!(
                    "parameter name '{}' is not an identifier",
                    p.name
                )));
            }
            if spec.params[..i].iter().any(|q| q.name == p.name) {
                return Err(invalid(format!("parameter '{}' is declared twice", p.name)));
            }
            if !(p.min <= p.default && p.default <= p.max) {
                return Err(invalid(format!(
                    "parameter '{}': default {} is outside {}..={}",
                    p.name, p.default, p.min, p.max
                )));
            }
            if let Some(m) = &p.modulation {
                m.check()
                    .map_err(|e| invalid(format!("parameter '{}': modulation {e}", p.name)))?;
            }
        }
        Ok(spec)
    }

    /// Default values of the parameters, in declaration order.
    pub fn default_values(&self) -> Vec<f32> {
        self.params.iter().map(|p| p.default).collect()
    }

    /// Applies `name=value` overrides to `values`; unknown names are an error.
    pub fn apply_overrides(
        &self,
        values: &mut [f32],
        overrides: &BTreeMap<String, f32>,
    ) -> Result<(), String> {
        for (name, v) in overrides {
            let Some(i) = self.params.iter().position(|p| &p.name == name) else {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "preset '{}' has no parameter '{name}' (it has: {})",
                    self.name,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ));
            };
            let p = &self.params[i];
            values[i] = v.clamp(p.min, p.max);
        }
        Ok(())
    }
}

impl Preset {
    /// True when a pass reads a previous frame (its own, or the last final
    /// image through pass 0's input): such presets need float targets so
    /// fading trails decay smoothly to black instead of sticking at 8-bit steps.
    pub fn uses_feedback(&self) -> bool {
        self.passes
            .iter()
            .enumerate()
            .any(|(i, p)| p.reads.prev_frame || (i == 0 && p.reads.input))
    }

    /// True when a pass (or a compute pass) reads Shadertoy's audio texture
    /// (`audio_tex`, the Web Audio rows): the analysis computes those rows
    /// only while such a preset shows.
    pub fn reads_web_audio(&self) -> bool {
        self.passes.iter().any(|p| p.reads.audio) || self.compute.iter().any(|c| c.reads_audio)
    }

    /// Loads and validates the preset in folder `dir`.
    pub fn load(dir: &Path) -> Result<Self, PresetError> {
        let toml_path = dir.join(PRESET_FILE);
        let text = std::fs::read_to_string(&toml_path).map_err(|error| PresetError::Io {
            path: toml_path.clone(),
            error,
        })?;
        let spec = PresetSpec::parse(&toml_path, &text)?;
        let names: Vec<&str> = spec.params.iter().map(|p| p.name.as_str()).collect();
        let textures = spec
            .textures
            .iter()
            .map(|t| load_texture(dir, &toml_path, t))
            .collect::<Result<Vec<_>, _>>()?;
        let texture_names: Vec<&str> = spec.textures.iter().map(|t| t.name.as_str()).collect();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|error| PresetError::Io {
                path: path.to_owned(),
                error,
            })
        };
        let glsl_spec = spec.glsl.clone().unwrap_or_default();
        let common = match &glsl_spec.common {
            Some(c) => {
                let path = dir.join(c);
                Some((read(&path)?, path))
            }
            None => None,
        };
        let n = spec.passes.len();
        // A GLSL preset whose last pass reads itself renders that pass
        // GL-native too and gets a flip pass (see `glsl`).
        let last_reads_itself = spec.passes[n - 1]
            .channels
            .values()
            .any(|c| *c == glsl::ChannelSource::Own);
        let mut passes = Vec::new();
        let mut any_glsl = false;
        for (index, pass) in spec.passes.iter().enumerate() {
            let path = dir.join(&pass.shader);
            let author = read(&path)?;
            if glsl::is_glsl(&pass.shader) {
                any_glsl = true;
                let t = glsl::translate(
                    &glsl::GlslPass {
                        path: &path,
                        source: &author,
                        common: common.as_ref().map(|(s, p)| (p.as_path(), s.as_str())),
                        index,
                        channels: &pass.channels,
                        shown: index == n - 1 && !last_reads_itself,
                    },
                    &glsl_spec,
                    &names,
                )?;
                passes.push(Pass {
                    path,
                    source: t.wgsl,
                    reads: t.reads,
                });
                continue;
            }
            if !pass.channels.is_empty() {
                return Err(PresetError::Invalid {
                    path: toml_path.clone(),
                    message: format!(
                        "{}: `channels` applies to GLSL passes only (WGSL passes use prev() and input())",
                        pass.shader
                    ),
                });
            }
            let assembled = shader::assemble(&author, &names, &texture_names);
            let (_, reads) = shader::validate(&assembled, &path)?;
            passes.push(Pass {
                path,
                source: assembled.source,
                reads,
            });
        }
        if any_glsl && last_reads_itself {
            let assembled = shader::assemble(glsl::FLIP_WGSL, &names, &texture_names);
            let path = dir.join("(flip)");
            let (_, reads) = shader::validate(&assembled, &path)?;
            passes.push(Pass {
                path,
                source: assembled.source,
                reads,
            });
        }
        let mut compute = Vec::new();
        for c in &spec.compute {
            let path = dir.join(&c.shader);
            let author = read(&path)?;
            let assembled = shader::assemble_compute(&author, &names, &texture_names);
            let (workgroup, reads_audio) = shader::validate_compute(&assembled, &path, &c.entry)?;
            compute.push(ComputePass {
                path,
                source: assembled.source,
                entry: c.entry.clone(),
                items: c.items.clone(),
                workgroup,
                reads_audio,
            });
        }
        let id = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            id,
            dir: dir.to_owned(),
            spec,
            passes,
            textures,
            compute,
        })
    }

    /// Writes `preset.toml` atomically (temp file + rename).
    pub fn save_spec(dir: &Path, spec: &PresetSpec) -> Result<(), PresetError> {
        let path = dir.join(PRESET_FILE);
        let text = toml::to_string_pretty(spec).map_err(|e| PresetError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, text.as_bytes())
    }
}

/// Decodes one `[[texture]]` (the file must be inside the preset folder).
fn load_texture(
    dir: &Path,
    toml_path: &Path,
    t: &TextureSpec,
) -> Result<PresetTexture, PresetError> {
    let invalid = |message: String| PresetError::Invalid {
        path: toml_path.to_owned(),
        message,
    };
    let rel = Path::new(&t.file);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(invalid(format!(
            "texture '{}': file '{}' must be inside the preset folder",
            t.name, t.file
        )));
    }
    let path = dir.join(rel);
    if crate::media::is_video(&t.file) {
        if !path.is_file() {
            return Err(invalid(format!(
                "texture '{}': {} does not exist",
                t.name,
                path.display()
            )));
        }
        let size = crate::media::probe(&path)
            .map_err(|e| invalid(format!("texture '{}': {e}", t.name)))?;
        return Ok(PresetTexture {
            name: t.name.clone(),
            size,
            rgba: vec![0u8; (size[0] * size[1] * 4) as usize].into(),
            video: Some(path),
        });
    }
    let img = image::open(&path)
        .map_err(|e| invalid(format!("texture '{}': {}: {e}", t.name, path.display())))?
        .to_rgba8();
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 || w.max(h) > MAX_TEXTURE_SIDE {
        return Err(invalid(format!(
            "texture '{}': {}x{h} is outside 1..={MAX_TEXTURE_SIDE} a side",
            t.name, w
        )));
    }
    Ok(PresetTexture {
        name: t.name.clone(),
        size: [w, h],
        rgba: img.into_raw().into(),
        video: None,
    })
}

/// Writes `bytes` to `path` via a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PresetError> {
    use std::io::Write;
    let io = |error| PresetError::Io {
        path: path.to_owned(),
        error,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

/// A hash of the files in a preset folder (names and contents): changes
/// when the preset is edited, so caches (thumbnails) know to renew.
pub fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files.iter().filter(|f| f.is_file()) {
        f.file_name().hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    h.finish()
}

/// Ids of the preset folders in `dir`, sorted.
pub fn list(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join(PRESET_FILE).is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Loads preset `name` (a folder id in `dir`, or a path to a preset folder).
pub fn find(dir: &Path, name: &str) -> Result<Preset, PresetError> {
    let as_path = Path::new(name);
    if as_path.join(PRESET_FILE).is_file() {
        return Preset::load(as_path);
    }
    let candidate = dir.join(name);
    if candidate.join(PRESET_FILE).is_file() {
        return Preset::load(&candidate);
    }
    Err(PresetError::NotFound {
        name: name.to_owned(),
        available: list(dir).join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_presets_that_sample_the_audio_texture_read_web_audio() {
        // The imported Shadertoy bloom reads iChannel1, the Web Audio FFT;
        // the WGSL presets read our own spectrum texture instead.
        let dir = crate::preset::library::builtin_dir();
        let mut reading = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("presets") {
            let path = entry.expect("entry").path();
            if path.join(PRESET_FILE).exists() {
                let p = Preset::load(&path).expect("a built-in preset loads");
                if p.reads_web_audio() {
                    reading.push(p.id.clone());
                }
            }
        }
        reading.sort();
        assert_eq!(reading, ["bloom"], "built-ins reading the Web Audio rows");
    }

    #[test]
    fn wrong_type_reports_line_and_column() {
        let text = "name = \"x\"\nrender_scale = \"big\"\n[[pass]]\nshader = \"a.wgsl\"\n";
        let e = PresetSpec::parse(Path::new("p.toml"), text).expect_err("bad type");
        let s = e.to_string();
        assert!(s.starts_with("p.toml:2:16: "), "{s}");
    }

    #[test]
    fn unknown_key_is_rejected() {
        let text = "name = \"x\"\ncolour = 3\n[[pass]]\nshader = \"a.wgsl\"\n";
        let e = PresetSpec::parse(Path::new("p.toml"), text).expect_err("unknown key");
        assert!(e.to_string().contains("colour"), "{e}");
        assert!(e.to_string().starts_with("p.toml:2:"), "{e}");
    }

    #[test]
    fn overrides_check_names_and_clamp() {
        let text = "name = \"x\"\n[[pass]]\nshader = \"a.wgsl\"\n[[param]]\nname = \"zoom\"\ndefault = 1.0\nmin = 0.5\nmax = 2.0\n";
        let spec = PresetSpec::parse(Path::new("p.toml"), text).expect("valid");
        let mut v = spec.default_values();
        let mut o = BTreeMap::new();
        o.insert("zoom".to_string(), 9.0);
        spec.apply_overrides(&mut v, &o).expect("known");
        assert_eq!(v, vec![2.0]);
        o.insert("nope".to_string(), 1.0);
        let e = spec.apply_overrides(&mut v, &o).expect_err("unknown");
        assert!(e.contains("no parameter 'nope'"), "{e}");
    }

    #[test]
    fn fingerprint_changes_with_an_edit_only() {
        let dir = std::env::temp_dir().join(format!("sonolux-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("main.wgsl"), "a").expect("write");
        let a = fingerprint(&dir);
        assert_eq!(a, fingerprint(&dir), "stable");
        std::fs::write(dir.join("main.wgsl"), "b").expect("write");
        assert_ne!(a, fingerprint(&dir), "an edit changes it");
        let _ = std::fs::remove_dir_all(dir);
    }
}
