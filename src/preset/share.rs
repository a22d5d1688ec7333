//! Presets as the VJ handles them: start one (`presets new`), and move one
//! between machines as a single `.tar` file with its media (`presets
//! export` / `presets import`).

use std::path::{Component, Path, PathBuf};

use super::library::{Library, copy_preset, valid_id};
use super::{PRESET_FILE, Preset};

/// Why a preset could not be created, exported or imported.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// Not a usable preset id.
    #[error("'{0}' is not a preset id (letters, digits, - and _)")]
    BadId(String),
    /// The target exists; nothing was overwritten.
    #[error("{0} already exists (choose another name with --name)")]
    Exists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The archive is not a preset archive.
    #[error("{path}: {reason}")]
    BadArchive {
        /// The archive.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The preset does not load (bad TOML or WGSL).
    #[error(transparent)]
    Preset(#[from] super::PresetError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShareError + '_ {
    move |error| ShareError::Io {
        path: path.to_owned(),
        error,
    }
}

/// The template of `presets new`: one pass reacting to bass, beat and kick.
const TEMPLATE_TOML: &str = r#"name = "NAME"
description = "A new preset: edit main.wgsl (it reloads on save)"
tags = ["mine"]

[[pass]]
shader = "main.wgsl"

[[param]]
name = "hue"
default = 0.6
min = 0.0
max = 1.0
"#;

const TEMPLATE_WGSL: &str = r#"// Your preset. `u` holds the music (see the preset contract in the
// README: u.bass, u.beat_pulse, u.kick, u.bar_phase, ...), `param` your
// parameters from preset.toml. Return the colour of one pixel.
fn shade(uv: vec2f, frag: vec2f) -> vec4f {
    let p = (uv - 0.5) * vec2f(u.resolution.x / u.resolution.y, 1.0);
    let r = length(p);
    let ring = smoothstep(0.02, 0.0, abs(r - 0.25 - 0.15 * u.bass));
    let glow = 0.15 / (1.0 + 40.0 * r * r) * (0.4 + u.beat_pulse);
    let hue = param.hue + 0.1 * u.bar_phase;
    let c = 0.5 + 0.5 * cos(6.2832 * (hue + vec3f(0.0, 0.33, 0.67)));
    return vec4f(c * (ring * (0.5 + 0.5 * u.kick) + glow), 1.0);
}
"#;

/// Creates preset `name` in the user library: a copy of `from` (any preset
/// the library finds), or the template.
pub fn new_preset(lib: &Library, name: &str, from: Option<&str>) -> Result<PathBuf, ShareError> {
    if !valid_id(name) {
        return Err(ShareError::BadId(name.to_owned()));
    }
    let dir = lib.user.join(name);
    if dir.exists() {
        return Err(ShareError::Exists(dir));
    }
    std::fs::create_dir_all(&lib.user).map_err(io(&lib.user))?;
    match from {
        Some(src) => {
            let p = lib.find(src)?;
            copy_preset(&p.dir, &dir).map_err(io(&dir))?;
            let mut spec = p.spec.clone();
            spec.name = format!("{} ({name})", spec.name);
            Preset::save_spec(&dir, &spec)?;
        }
        None => {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            std::fs::write(dir.join(PRESET_FILE), TEMPLATE_TOML.replace("NAME", name))
                .map_err(io(&dir))?;
            std::fs::write(dir.join("main.wgsl"), TEMPLATE_WGSL).map_err(io(&dir))?;
        }
    }
    // Never leave a preset that does not load.
    if let Err(e) = Preset::load(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e.into());
    }
    Ok(dir)
}

/// Writes the preset folder `dir` (every file, media included) to the
/// archive `out` under the folder name `id`. Returns the number of files.
pub fn export(dir: &Path, id: &str, out: &Path) -> Result<usize, ShareError> {
    let tmp = out.with_extension("tar.part");
    let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut tar = tar::Builder::new(file);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut files = Vec::new();
    collect(dir, dir, &mut files).map_err(io(dir))?;
    files.sort();
    for rel in &files {
        tar.append_path_with_name(dir.join(rel), Path::new(id).join(rel))
            .map_err(io(&dir.join(rel)))?;
    }
    tar.into_inner()
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, out).map_err(io(out))?;
    Ok(files.len())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        if e.file_type()?.is_dir() {
            collect(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_owned());
        }
    }
    Ok(())
}

/// Unpacks a preset archive into the user library (as `name`, else the
/// archive's folder name). The archive must hold one preset folder; paths
/// that leave it are refused; the preset must load before it is added.
pub fn import(lib: &Library, archive: &Path, name: Option<&str>) -> Result<PathBuf, ShareError> {
    let bad = |reason: String| ShareError::BadArchive {
        path: archive.to_owned(),
        reason,
    };
    let file = std::fs::File::open(archive).map_err(io(archive))?;
    let mut tar = tar::Archive::new(file);
    std::fs::create_dir_all(&lib.user).map_err(io(&lib.user))?;
    let staging = lib.user.join(format!(".import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let mut top: Option<String> = None;
    let result = (|| {
        let entries = tar
            .entries()
            .map_err(|e| bad(format!("not a tar archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("damaged archive: {e}")))?;
            let path = entry
                .path()
                .map_err(|e| bad(format!("bad file name: {e}")))?
                .into_owned();
            let mut parts = path.components();
            let Some(Component::Normal(first)) = parts.next() else {
                return Err(bad(format!(
                    "{} is outside a preset folder",
                    path.display()
                )));
            };
            let first = first.to_string_lossy().into_owned();
            if top.get_or_insert_with(|| first.clone()) != &first {
                return Err(bad("it holds more than one preset folder".into()));
            }
            let rest: PathBuf = parts.as_path().to_owned();
            if rest
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(bad(format!("{} leaves the preset folder", path.display())));
            }
            if rest.as_os_str().is_empty() || !entry.header().entry_type().is_file() {
                continue;
            }
            let dst = staging.join(&rest);
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            entry.unpack(&dst).map_err(io(&dst))?;
        }
        let top = top
            .clone()
            .ok_or_else(|| bad("the archive is empty".into()))?;
        let id = name.map_or(top, str::to_owned);
        if !valid_id(&id) {
            return Err(ShareError::BadId(id));
        }
        if !staging.join(PRESET_FILE).is_file() {
            return Err(bad(format!("no {PRESET_FILE} in it")));
        }
        Preset::load(&staging)?;
        let dir = lib.user.join(&id);
        if dir.exists() {
            return Err(ShareError::Exists(dir));
        }
        std::fs::rename(&staging, &dir).map_err(io(&dir))?;
        Ok(dir)
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_then_export_then_import_round_trips_with_media() {
        let root = std::env::temp_dir().join(format!("sonolux-share-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let lib = Library::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("presets"),
            root.join("user"),
        );
        let dir = new_preset(&lib, "mine", None).expect("template preset");
        assert!(Preset::load(&dir).is_ok());
        // Media travel with the preset (an image in a subfolder).
        std::fs::create_dir_all(dir.join("media")).expect("dir");
        let png = [137u8, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3];
        std::fs::write(dir.join("media/logo.png"), png).expect("png");
        let archive = root.join("mine.sonolux.tar");
        assert_eq!(export(&dir, "mine", &archive).expect("export"), 3);
        // Importing under the same id refuses to overwrite; --name works.
        assert!(matches!(
            import(&lib, &archive, None),
            Err(ShareError::Exists(_))
        ));
        let back = import(&lib, &archive, Some("theirs")).expect("import");
        assert_eq!(
            std::fs::read(back.join("media/logo.png")).expect("png"),
            png
        );
        assert_eq!(
            std::fs::read(back.join("main.wgsl")).expect("wgsl"),
            std::fs::read(dir.join("main.wgsl")).expect("wgsl")
        );
        // A copy of a built-in; a bad id; a name that exists.
        let copy = new_preset(&lib, "my-tunnel", Some("tunnel")).expect("copy");
        assert!(
            Preset::load(&copy)
                .expect("loads")
                .spec
                .name
                .contains("my-tunnel")
        );
        assert!(matches!(
            new_preset(&lib, "../x", None),
            Err(ShareError::BadId(_))
        ));
        assert!(matches!(
            new_preset(&lib, "mine", None),
            Err(ShareError::Exists(_))
        ));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn archives_that_escape_or_hold_no_preset_are_refused() {
        let root = std::env::temp_dir().join(format!("sonolux-share-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("dir");
        let lib = Library::new(root.join("builtin"), root.join("user"));
        let write = |name: &str, files: &[(&str, &[u8])]| {
            let path = root.join(name);
            let mut b = tar::Builder::new(std::fs::File::create(&path).expect("create"));
            for (p, data) in files {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                // Raw names (set_path refuses `..`, a hostile archive would not).
                h.as_old_mut().name[..p.len()].copy_from_slice(p.as_bytes());
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
            b.finish().expect("finish");
            path
        };
        let escape = write("escape.tar", &[("a/../../evil.txt", b"x")]);
        let err = import(&lib, &escape, None)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("leaves the preset folder"), "{err}");
        assert!(!root.join("evil.txt").exists());
        let two = write("two.tar", &[("a/preset.toml", b"name='a'"), ("b/x", b"y")]);
        let err = import(&lib, &two, None).expect_err("refused").to_string();
        assert!(err.contains("more than one preset"), "{err}");
        let none = write("none.tar", &[("a/readme.txt", b"hi")]);
        let err = import(&lib, &none, None).expect_err("refused").to_string();
        assert!(err.contains("no preset.toml"), "{err}");
        let junk = root.join("junk.tar");
        std::fs::write(&junk, b"definitely not a tar archive, just some text").expect("write");
        assert!(import(&lib, &junk, None).is_err());
        assert!(
            std::fs::read_dir(&lib.user)
                .expect("user dir")
                .next()
                .is_none(),
            "nothing half-imported is left"
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
