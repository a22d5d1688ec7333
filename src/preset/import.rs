//! `presets import` for the shaders VJs already own: a Shadertoy shader (a
//! `.glsl`/`.frag` file holding `mainImage`, or Shadertoy's JSON export with
//! its Buffer A–D passes) or an ISF generator (`.fs` with its JSON header)
//! becomes a preset folder. The author's GLSL is kept as written; the
//! written `preset.toml` says how it is wrapped (`preset::glsl`).
//!
//! What cannot be given (cube maps, keyboard, video and image channels, the
//! Sound tab, ISF image and audio inputs) is refused with a message that
//! names it; what is approximated (iMouse, per-pass sizes) is listed in the
//! import's notes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::glsl::{ChannelSource, Dialect, GlslInput, GlslSpec, InputKind, first_use};
use super::library::{Library, valid_id};
use super::{PRESET_FILE, ParamSpec, PassSpec, Preset, PresetError, PresetSpec};

/// Why a shader could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file says something sonolux cannot do, or is not the format.
    #[error("{}:{line}: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when it is about the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The written preset does not load (a GLSL error, located in the
    /// author's code).
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// Not a usable preset id.
    #[error("'{0}' is not a preset id (letters, digits, - and _)")]
    BadId(String),
    /// The target exists; nothing was overwritten.
    #[error("{0} already exists (choose another name with --name)")]
    Exists(PathBuf),
}

/// What an import produced.
#[derive(Debug)]
pub struct Imported {
    /// The new preset folder.
    pub dir: PathBuf,
    /// Things approximated or left out, in plain words.
    pub notes: Vec<String>,
}

/// A preset folder's contents before it is written.
struct Draft {
    spec: PresetSpec,
    /// File name -> text.
    files: Vec<(String, String)>,
    notes: Vec<String>,
}

/// Imports `file` into the user library (as `name`, else the file's stem).
pub fn import_shader(
    lib: &Library,
    file: &Path,
    name: Option<&str>,
) -> Result<Imported, ImportError> {
    let text = std::fs::read_to_string(file).map_err(|error| ImportError::Io {
        path: file.to_owned(),
        error,
    })?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let draft = match ext.as_str() {
        "fs" => isf(file, &text, &stem)?,
        "json" => shadertoy_json(file, &text, &stem)?,
        _ => shadertoy_glsl(file, &text, &stem)?,
    };
    let id = name.map_or_else(|| slug(&stem), str::to_owned);
    if !valid_id(&id) {
        return Err(ImportError::BadId(id));
    }
    write_draft(lib, file, &id, draft)
}

/// A preset id from a file stem.
fn slug(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "imported".into() } else { s }
}

fn unsupported(path: &Path, line: usize, message: impl Into<String>) -> ImportError {
    ImportError::Unsupported {
        path: path.to_owned(),
        line,
        message: message.into(),
    }
}

fn write_draft(
    lib: &Library,
    original: &Path,
    id: &str,
    draft: Draft,
) -> Result<Imported, ImportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| ImportError::Io { path, error }
    };
    let dir = lib.user.join(id);
    if dir.exists() {
        return Err(ImportError::Exists(dir));
    }
    std::fs::create_dir_all(&lib.user).map_err(io(&lib.user))?;
    let staging = lib.user.join(format!(".import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        for (name, text) in &draft.files {
            let p = staging.join(name);
            std::fs::write(&p, text).map_err(io(&p))?;
        }
        let toml = toml::to_string_pretty(&draft.spec)
            .map_err(|e| unsupported(original, 0, format!("could not write preset.toml: {e}")))?;
        let p = staging.join(PRESET_FILE);
        std::fs::write(&p, toml).map_err(io(&p))?;
        Preset::load(&staging).map_err(|e| name_original(e, &staging, original))?;
        std::fs::rename(&staging, &dir).map_err(io(&dir))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map(|()| Imported {
        dir,
        notes: draft.notes,
    })
}

/// A load error in the staging folder, told against the file the user gave.
fn name_original(e: PresetError, staging: &Path, original: &Path) -> ImportError {
    match e {
        PresetError::Shader(mut s) => {
            if let Ok(rest) = s.path.strip_prefix(staging) {
                s.path = if original.extension().is_some_and(|x| x == "json") {
                    PathBuf::from(format!("{} ({})", original.display(), rest.display()))
                } else {
                    original.to_owned()
                };
            }
            ImportError::Preset(PresetError::Shader(s))
        }
        other => ImportError::Preset(other),
    }
}

fn base_spec(name: &str, dialect: Dialect, origin: &Path) -> PresetSpec {
    PresetSpec {
        name: name.to_owned(),
        author: String::new(),
        description: String::new(),
        tags: vec!["imported".into()],
        render_scale: 1.0,
        passes: Vec::new(),
        params: Vec::new(),
        textures: Vec::new(),
        tone_map: None,
        storage: Vec::new(),
        compute: Vec::new(),
        glsl: Some(GlslSpec {
            dialect,
            origin: origin
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ..Default::default()
        }),
    }
}

fn shadertoy_notes(code: &str) -> Vec<String> {
    let mut notes = Vec::new();
    if first_use(code, "iMouse").is_some() {
        notes.push("iMouse reads (0, 0, 0, 0): there is no mouse on a projector".into());
    }
    if first_use(code, "iDate").is_some() {
        notes.push("iDate is (0, 0, 0, seconds since the show started)".into());
    }
    notes
}

/// A plain Shadertoy Image tab: iChannel0 is the audio input.
fn shadertoy_glsl(path: &Path, code: &str, stem: &str) -> Result<Draft, ImportError> {
    if first_use(code, "mainImage").is_none() {
        return Err(unsupported(
            path,
            0,
            "no `mainImage` in it: a Shadertoy shader defines \
             `void mainImage(out vec4 fragColor, in vec2 fragCoord)` \
             (ISF files end in .fs)",
        ));
    }
    for c in 1..4 {
        let ch = format!("iChannel{c}");
        if let Some(line) = first_use(code, &ch) {
            return Err(unsupported(
                path,
                line,
                format!(
                    "{ch} is used, but a single .glsl file does not say what it reads \
                     (only iChannel0, the audio input, is assumed); import Shadertoy's \
                     JSON export instead, which names every channel's input"
                ),
            ));
        }
    }
    let mut spec = base_spec(stem, Dialect::Shadertoy, path);
    spec.description = "Imported Shadertoy shader; iChannel0 is the audio input".into();
    spec.passes.push(PassSpec {
        shader: "image.glsl".into(),
        channels: BTreeMap::from([("iChannel0".to_string(), ChannelSource::Audio)]),
    });
    Ok(Draft {
        spec,
        files: vec![("image.glsl".into(), code.to_owned())],
        notes: shadertoy_notes(code),
    })
}

/// Shadertoy's JSON (the API's `{"Shader": {...}}`, or an export holding
/// `info` and `renderpass`).
fn shadertoy_json(path: &Path, text: &str, stem: &str) -> Result<Draft, ImportError> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| unsupported(path, e.line(), format!("not JSON: {e}")))?;
    let shader = find_shader(&root).ok_or_else(|| {
        unsupported(
            path,
            0,
            "no Shadertoy shader in it (expected an object with `renderpass`)",
        )
    })?;
    let info = &shader["info"];
    let name = info["name"].as_str().unwrap_or(stem);
    let mut spec = base_spec(name, Dialect::Shadertoy, path);
    spec.author = info["username"].as_str().unwrap_or_default().to_owned();
    spec.description = info["description"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    if let Some(id) = info["id"].as_str().filter(|id| !id.is_empty())
        && let Some(g) = spec.glsl.as_mut()
    {
        g.origin = format!("https://www.shadertoy.com/view/{id}");
    }
    let empty = Vec::new();
    let passes = shader["renderpass"].as_array().unwrap_or(&empty);
    let mut files = Vec::new();
    let mut buffers: Vec<(String, &Value)> = Vec::new();
    let mut image: Option<&Value> = None;
    let mut all_code = String::new();
    for p in passes {
        let kind = p["type"].as_str().unwrap_or("image");
        let pname = p["name"].as_str().unwrap_or(kind);
        let code = p["code"].as_str().unwrap_or_default();
        all_code += code;
        match kind {
            "image" => image = Some(p),
            "buffer" => buffers.push((pname.to_owned(), p)),
            "common" => {
                files.push(("common.glsl".to_string(), code.to_owned()));
                if let Some(g) = spec.glsl.as_mut() {
                    g.common = Some("common.glsl".into());
                }
            }
            "sound" => {
                return Err(unsupported(
                    path,
                    0,
                    "it has a Sound tab (GLSL that makes audio): not supported, \
                     sonolux listens to the room instead",
                ));
            }
            other => {
                return Err(unsupported(
                    path,
                    0,
                    format!("its '{pname}' pass is of type '{other}', which is not supported"),
                ));
            }
        }
    }
    let image = image.ok_or_else(|| unsupported(path, 0, "it has no Image pass"))?;
    buffers.sort_by(|a, b| a.0.cmp(&b.0));
    let ordered: Vec<(String, &Value)> = buffers
        .into_iter()
        .chain(std::iter::once(("Image".to_string(), image)))
        .collect();
    let out_id = |p: &Value| {
        p["outputs"]
            .as_array()
            .and_then(|o| o.first())
            .map(|o| o["id"].to_string())
    };
    let ids: Vec<Option<String>> = ordered.iter().map(|(_, p)| out_id(p)).collect();
    for (i, (pname, p)) in ordered.iter().enumerate() {
        let file = if i + 1 == ordered.len() {
            "image.glsl".to_string()
        } else {
            format!("{}.glsl", slug(pname).replace('-', "_"))
        };
        let mut channels = BTreeMap::new();
        for input in p["inputs"].as_array().unwrap_or(&empty) {
            let ch = input["channel"].as_u64().unwrap_or(0);
            let ctype = input["ctype"]
                .as_str()
                .or_else(|| input["type"].as_str())
                .unwrap_or("");
            let source = match ctype {
                "music" | "musicstream" | "mic" => ChannelSource::Audio,
                "buffer" => {
                    let id = input["id"].to_string();
                    let from = ids.iter().position(|o| o.as_deref() == Some(id.as_str()));
                    match from {
                        Some(j) if j == i => ChannelSource::Own,
                        Some(j) if j + 1 == i => ChannelSource::Input,
                        Some(j) => {
                            return Err(unsupported(
                                path,
                                0,
                                format!(
                                    "{pname} reads {} on iChannel{ch}: sonolux passes read \
                                     only themselves and the pass just before",
                                    ordered[j].0
                                ),
                            ));
                        }
                        None => {
                            return Err(unsupported(
                                path,
                                0,
                                format!(
                                    "{pname} iChannel{ch} reads a buffer that is not in the file"
                                ),
                            ));
                        }
                    }
                }
                "keyboard" => {
                    return Err(unsupported(
                        path,
                        0,
                        format!("{pname} iChannel{ch} is keyboard input: not supported on a stage"),
                    ));
                }
                "cubemap" => {
                    return Err(unsupported(
                        path,
                        0,
                        format!("{pname} iChannel{ch} is a cube map: not supported"),
                    ));
                }
                "video" | "webcam" => {
                    return Err(unsupported(
                        path,
                        0,
                        format!("{pname} iChannel{ch} is a {ctype} channel: not supported"),
                    ));
                }
                other => {
                    return Err(unsupported(
                        path,
                        0,
                        format!(
                            "{pname} iChannel{ch} is a '{other}' input (Shadertoy's media \
                             are not bundled; add the image as a [[texture]] by hand)"
                        ),
                    ));
                }
            };
            channels.insert(format!("iChannel{ch}"), source);
        }
        let code = p["code"].as_str().unwrap_or_default();
        for c in 0..4 {
            let key = format!("iChannel{c}");
            if !channels.contains_key(&key) && first_use(code, &key).is_some() {
                return Err(unsupported(
                    path,
                    0,
                    format!("{pname} uses {key}, which has no input"),
                ));
            }
        }
        files.push((file.clone(), code.to_owned()));
        spec.passes.push(PassSpec {
            shader: file,
            channels,
        });
    }
    Ok(Draft {
        spec,
        files,
        notes: shadertoy_notes(&all_code),
    })
}

fn find_shader(v: &Value) -> Option<&Value> {
    if v.get("renderpass").is_some() {
        return Some(v);
    }
    if let Some(s) = v.get("Shader") {
        return find_shader(s);
    }
    v.as_array()?.iter().find_map(find_shader)
}

/// An ISF generator: JSON header, INPUTS as parameters, PASSES as passes.
fn isf(path: &Path, text: &str, stem: &str) -> Result<Draft, ImportError> {
    let start = text.find("/*").filter(|&i| text[..i].trim().is_empty());
    let Some(start) = start else {
        return Err(unsupported(
            path,
            1,
            "no ISF JSON header: an ISF file starts with /*{ ... }*/",
        ));
    };
    let end = text[start..]
        .find("*/")
        .map(|e| start + e)
        .ok_or_else(|| unsupported(path, 1, "the ISF header comment is not closed (*/)"))?;
    let json = &text[start + 2..end];
    let first_line = text[..start].matches('\n').count() + 1;
    let header: Value = serde_json::from_str(json).map_err(|e| {
        unsupported(
            path,
            first_line + e.line().saturating_sub(1),
            format!("the ISF JSON header does not parse: {e}"),
        )
    })?;
    let line_of = |needle: &str| {
        text.find(needle)
            .map_or(first_line, |i| text[..i].matches('\n').count() + 1)
    };
    let mut spec = base_spec(stem, Dialect::Isf, path);
    spec.author = header["CREDIT"].as_str().unwrap_or_default().to_owned();
    spec.description = header["DESCRIPTION"]
        .as_str()
        .unwrap_or("Imported ISF generator")
        .to_owned();
    if let Some(c) = header["CATEGORIES"].as_array() {
        spec.tags
            .extend(c.iter().filter_map(|v| v.as_str()).map(str::to_lowercase));
    }
    let mut notes = Vec::new();
    let mut inputs = Vec::new();
    let num = |v: &Value, d: f32| v.as_f64().map_or(d, |x| x as f32);
    let empty = Vec::new();
    for input in header["INPUTS"].as_array().unwrap_or(&empty) {
        let name = input["NAME"].as_str().unwrap_or_default().to_owned();
        let ty = input["TYPE"].as_str().unwrap_or_default();
        let line = line_of(&format!("\"{name}\""));
        if !super::is_identifier(&name) {
            return Err(unsupported(
                path,
                line,
                format!("input name '{name}' is not an identifier"),
            ));
        }
        let mut param = |pname: String, default: f32, min: f32, max: f32| {
            let (min, max) = (min.min(max), max.max(min));
            spec.params.push(ParamSpec {
                name: pname,
                default: default.clamp(min, max),
                min,
                max,
                modulation: None,
            });
        };
        let kind = match ty {
            "float" => {
                let min = num(&input["MIN"], 0.0);
                let max = num(&input["MAX"], 1.0);
                param(name.clone(), num(&input["DEFAULT"], min), min, max);
                InputKind::Float
            }
            "bool" => {
                let d = input["DEFAULT"]
                    .as_bool()
                    .map_or(num(&input["DEFAULT"], 0.0), |b| f32::from(u8::from(b)));
                param(name.clone(), d, 0.0, 1.0);
                InputKind::Bool
            }
            "long" => {
                let values: Vec<f32> = input["VALUES"]
                    .as_array()
                    .map(|v| v.iter().map(|x| num(x, 0.0)).collect())
                    .unwrap_or_default();
                let min = values
                    .iter()
                    .cloned()
                    .fold(num(&input["MIN"], f32::MAX), f32::min);
                let max = values
                    .iter()
                    .cloned()
                    .fold(num(&input["MAX"], f32::MIN), f32::max);
                let (min, max) = if min > max { (0.0, 1.0) } else { (min, max) };
                param(name.clone(), num(&input["DEFAULT"], min), min, max);
                InputKind::Long
            }
            "color" => {
                let d = |k: usize| num(&input["DEFAULT"][k], 1.0);
                for (k, s) in ["_r", "_g", "_b", "_a"].iter().enumerate() {
                    param(format!("{name}{s}"), d(k), 0.0, 1.0);
                }
                InputKind::Color
            }
            "point2D" => {
                let d = |k: usize| num(&input["DEFAULT"][k], 0.0);
                for (k, s) in ["_x", "_y"].iter().enumerate() {
                    let min = num(&input["MIN"][k], d(k).min(0.0));
                    let max = num(&input["MAX"][k], if d(k) > 1.0 { d(k) * 2.0 } else { 1.0 });
                    param(format!("{name}{s}"), d(k), min, max);
                }
                InputKind::Point2d
            }
            "event" => {
                notes.push(format!("event '{name}' fires on every predicted beat"));
                InputKind::Event
            }
            "image" => {
                return Err(unsupported(
                    path,
                    line,
                    format!(
                        "image input '{name}': ISF filters and image inputs are not supported \
                         (sonolux imports ISF generators)"
                    ),
                ));
            }
            "audio" | "audioFFT" => {
                return Err(unsupported(
                    path,
                    line,
                    format!(
                        "{ty} input '{name}' is not supported yet (use a Shadertoy shader's iChannel0)"
                    ),
                ));
            }
            other => {
                return Err(unsupported(
                    path,
                    line,
                    format!("input '{name}' has type '{other}', which is not supported"),
                ));
            }
        };
        inputs.push(GlslInput { name, kind });
    }
    if header.get("IMPORTED").is_some_and(|v| !v.is_null()) {
        return Err(unsupported(
            path,
            line_of("\"IMPORTED\""),
            "IMPORTED images are not supported",
        ));
    }
    if spec.params.len() > super::MAX_PARAMS {
        return Err(unsupported(
            path,
            first_line,
            format!(
                "its inputs need {} parameters; a preset has at most {}",
                spec.params.len(),
                super::MAX_PARAMS
            ),
        ));
    }
    let passes: Vec<&Value> = header["PASSES"]
        .as_array()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let targets: Vec<Option<String>> = passes
        .iter()
        .map(|p| p["TARGET"].as_str().map(str::to_owned))
        .collect();
    let n = passes.len().max(1);
    for i in 0..n {
        let mut channels = BTreeMap::new();
        for (j, t) in targets.iter().enumerate() {
            let Some(t) = t else { continue };
            let source = if j == i {
                ChannelSource::Own
            } else if j + 1 == i {
                ChannelSource::Input
            } else {
                notes.push(format!(
                    "pass {i} cannot read '{t}' (pass {j}): sonolux passes read only \
                     themselves and the pass before; it reads its own previous frame instead"
                ));
                ChannelSource::Own
            };
            channels.insert(t.clone(), source);
        }
        if let Some(p) = passes.get(i)
            && (p.get("WIDTH").is_some() || p.get("HEIGHT").is_some())
        {
            notes.push(format!(
                "pass {i}'s WIDTH/HEIGHT are ignored: every pass renders at the preset's render_scale"
            ));
        }
        spec.passes.push(PassSpec {
            shader: "main.fs".into(),
            channels,
        });
    }
    if let Some(g) = spec.glsl.as_mut() {
        g.inputs = inputs;
    }
    Ok(Draft {
        spec,
        files: vec![("main.fs".into(), text.to_owned())],
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(tag: &str) -> (Library, PathBuf) {
        let root =
            std::env::temp_dir().join(format!("sonolux-import-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("dir");
        (Library::new(root.join("builtin"), root.join("user")), root)
    }

    #[test]
    fn isf_without_a_header_or_with_a_broken_one_names_the_line() {
        let (lib, root) = lib("hdr");
        let f = root.join("x.fs");
        std::fs::write(&f, "void main() { gl_FragColor = vec4(1.0); }\n").expect("w");
        let e = import_shader(&lib, &f, None).expect_err("no header");
        assert!(e.to_string().contains(":1: no ISF JSON header"), "{e}");
        std::fs::write(&f, "/*{\n  \"INPUTS\": [\n    {\"NAME\": \"a\" \"TYPE\": \"float\"}\n  ]\n}*/\nvoid main() { gl_FragColor = vec4(1.0); }\n").expect("w");
        let e = import_shader(&lib, &f, None).expect_err("bad json");
        assert!(e.to_string().contains("x.fs:3:"), "{e}");
        std::fs::write(&f, "/*{\n  \"INPUTS\": [\n    {\"NAME\": \"inputImage\", \"TYPE\": \"image\"}\n  ]\n}*/\nvoid main() { gl_FragColor = vec4(1.0); }\n").expect("w");
        let e = import_shader(&lib, &f, None).expect_err("image input");
        assert!(
            e.to_string().contains("x.fs:3: image input 'inputImage'"),
            "{e}"
        );
        assert!(!lib.user.join("x").exists(), "nothing half-imported");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn shadertoy_glsl_errors_point_at_the_imported_file() {
        let (lib, root) = lib("err");
        let f = root.join("bad.glsl");
        std::fs::write(
            &f,
            "// a comment\nvoid mainImage(out vec4 c, in vec2 p) {\n    c = vec4(p.x / iResolution.x, 0.0, 0.0 1.0);\n}\n",
        )
        .expect("w");
        let e = import_shader(&lib, &f, None).expect_err("syntax");
        let s = e.to_string();
        assert!(s.starts_with(&format!("{}:3:", f.display())), "{s}");
        std::fs::write(
            &f,
            "void mainImage(out vec4 c, in vec2 p) {\n    c = texture(iChannel2, p);\n}\n",
        )
        .expect("w");
        let e = import_shader(&lib, &f, None).expect_err("channel");
        assert!(e.to_string().contains(":2: iChannel2 is used"), "{e}");
        let _ = std::fs::remove_dir_all(root);
    }
}
