//! Where presets live: the built-in ones shipped with sonolux and the VJ's
//! own library.
//!
//! - **Built-in** presets are embedded in the binary (`build.rs`) and
//!   unpacked once per content version into the cache folder, so the binary
//!   alone runs from any folder. Working in the source checkout (the current
//!   folder or one above it holds sonolux's `Cargo.toml`), the checkout's
//!   `presets/` is used instead, so edits hot-reload. `SONOLUX_PRESETS`
//!   overrides both.
//! - **User** presets live in the platform's data folder
//!   (`~/.local/share/sonolux/presets` on Linux; `SONOLUX_USER_PRESETS`
//!   overrides). A user preset with a built-in's id shadows it; the built-in
//!   stays reachable as `builtin:ID`. Saving never writes into the built-in
//!   folder.

use std::path::{Path, PathBuf};

use super::{PRESET_FILE, Preset, PresetError};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Prefix that names the built-in preset even when a user preset shadows it.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// Where a preset comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Shipped with sonolux (read-only).
    BuiltIn,
    /// The VJ's own library.
    User,
}

impl Origin {
    /// A short word for lists.
    pub fn label(self) -> &'static str {
        match self {
            Origin::BuiltIn => "built-in",
            Origin::User => "yours",
        }
    }
}

/// One preset folder found in the library.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The id to ask for it by (`builtin:ID` for a shadowed built-in).
    pub id: String,
    /// Where it comes from.
    pub origin: Origin,
    /// Its folder.
    pub dir: PathBuf,
    /// A built-in hidden behind a user preset of the same folder name.
    pub shadowed: bool,
}

/// The two preset folders.
#[derive(Clone, Debug, PartialEq)]
pub struct Library {
    /// Built-in presets (read-only).
    pub builtin: PathBuf,
    /// The VJ's presets (created on first save).
    pub user: PathBuf,
}

impl Library {
    /// A library over two folders (tests, tools).
    pub fn new(builtin: impl Into<PathBuf>, user: impl Into<PathBuf>) -> Self {
        Self {
            builtin: builtin.into(),
            user: user.into(),
        }
    }

    /// The library of this machine: see the module docs.
    pub fn locate() -> Self {
        Self::new(builtin_dir(), user_dir())
    }

    /// Every preset, user ones first, each group sorted by id.
    pub fn entries(&self) -> Vec<Found> {
        let user = super::list(&self.user);
        let mut out: Vec<Found> = user
            .iter()
            .map(|id| Found {
                id: id.clone(),
                origin: Origin::User,
                dir: self.user.join(id),
                shadowed: false,
            })
            .collect();
        if self.user != self.builtin {
            for id in super::list(&self.builtin) {
                let shadowed = user.contains(&id);
                out.push(Found {
                    id: if shadowed {
                        format!("{BUILTIN_PREFIX}{id}")
                    } else {
                        id.clone()
                    },
                    origin: Origin::BuiltIn,
                    dir: self.builtin.join(&id),
                    shadowed,
                });
            }
        }
        out
    }

    /// Ids in list order (what steps, walks and setlists go through).
    pub fn ids(&self) -> Vec<String> {
        self.entries().into_iter().map(|f| f.id).collect()
    }

    /// The folder of preset `name` (an id, `builtin:ID`, or a path to a
    /// preset folder), if it exists.
    pub fn dir_of(&self, name: &str) -> Option<PathBuf> {
        let as_path = Path::new(name);
        if name.contains(['/', '\\']) && as_path.join(PRESET_FILE).is_file() {
            return Some(as_path.to_owned());
        }
        if let Some(id) = name.strip_prefix(BUILTIN_PREFIX) {
            let d = self.builtin.join(id);
            return d.join(PRESET_FILE).is_file().then_some(d);
        }
        [self.user.join(name), self.builtin.join(name)]
            .into_iter()
            .find(|d| valid_id(name) && d.join(PRESET_FILE).is_file())
            .or_else(|| {
                as_path
                    .join(PRESET_FILE)
                    .is_file()
                    .then(|| as_path.to_owned())
            })
    }

    /// Loads preset `name` (see [`Library::dir_of`]).
    pub fn find(&self, name: &str) -> Result<Preset, PresetError> {
        match self.dir_of(name) {
            Some(d) => Preset::load(&d).map(|mut p| {
                if name.starts_with(BUILTIN_PREFIX) {
                    p.id = name.to_owned();
                }
                p
            }),
            None => Err(PresetError::NotFound {
                name: name.to_owned(),
                available: self.ids().join(", "),
            }),
        }
    }

    /// Where the preset in `dir` comes from.
    pub fn origin(&self, dir: &Path) -> Origin {
        if self.user != self.builtin && dir.starts_with(&self.builtin) {
            Origin::BuiltIn
        } else {
            Origin::User
        }
    }

    /// A free folder in the user library for `id` (`id`, else `id-2`, `id-3`...).
    pub fn free_user_dir(&self, id: &str) -> PathBuf {
        let first = self.user.join(id);
        if !first.exists() {
            return first;
        }
        (2..)
            .map(|n| self.user.join(format!("{id}-{n}")))
            .find(|d| !d.exists())
            .unwrap_or(first)
    }
}

/// True for a preset id: letters, digits, `-` and `_`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Copies a preset folder (recursively, media included) to `to`, which must
/// not exist yet.
pub fn copy_preset(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    copy_tree(from, to)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// The source checkout sonolux is run from, if any: the current folder or
/// one above it with sonolux's `Cargo.toml` and a `presets/` folder.
pub fn checkout() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|d| {
            d.join("presets").is_dir()
                && std::fs::read_to_string(d.join("Cargo.toml"))
                    .is_ok_and(|t| t.contains("name = \"sonolux\""))
        })
        .map(Path::to_path_buf)
}

/// The built-in presets' folder: `SONOLUX_PRESETS`, the checkout's
/// `presets/`, or the embedded presets unpacked into the cache.
pub fn builtin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SONOLUX_PRESETS") {
        return PathBuf::from(dir);
    }
    if let Some(root) = checkout() {
        return root.join("presets");
    }
    match unpacked() {
        Ok(dir) => dir.join("presets"),
        Err(e) => {
            tracing::error!("cannot unpack the built-in presets: {e}");
            PathBuf::from("presets")
        }
    }
}

/// The VJ's preset folder: `SONOLUX_USER_PRESETS`, or `presets` in the
/// platform's data folder.
pub fn user_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SONOLUX_USER_PRESETS") {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "sonolux")
        .map(|d| d.data_dir().join("presets"))
        .unwrap_or_else(|| std::env::temp_dir().join("sonolux-presets"))
}

/// The bundled demo track: the checkout's `assets/demo.flac`, or the
/// embedded copy unpacked into the cache.
pub fn demo_track() -> PathBuf {
    if let Some(root) = checkout() {
        let p = root.join("assets/demo.flac");
        if p.is_file() {
            return p;
        }
    }
    match unpacked() {
        Ok(dir) => dir.join("demo.flac"),
        Err(e) => {
            tracing::error!("cannot unpack the demo track: {e}");
            PathBuf::from("assets/demo.flac")
        }
    }
}

/// The embedded demo track's bytes (FLAC).
pub fn demo_flac() -> &'static [u8] {
    embedded::DEMO_FLAC
}

/// Names of the embedded preset folders.
pub fn embedded_ids() -> Vec<String> {
    let mut ids: Vec<String> = embedded::PRESET_FILES
        .iter()
        .filter_map(|(p, _)| p.strip_suffix(&format!("/{PRESET_FILE}")))
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids
}

/// The cache folder (thumbnails, unpacked built-ins).
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SONOLUX_CACHE_DIR") {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("", "", "sonolux")
        .map(|d| d.cache_dir().to_owned())
        .unwrap_or_else(|| std::env::temp_dir().join("sonolux-cache"))
}

/// Unpacks the embedded files once per content version:
/// `<cache>/builtin-<hash>/{presets/..., demo.flac}`. Written to a
/// temporary folder and renamed, so a half-written copy is never used.
fn unpacked() -> std::io::Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    embedded::PRESET_FILES.hash(&mut h);
    embedded::DEMO_FLAC.len().hash(&mut h);
    let dir = cache_dir().join(format!("builtin-{:016x}", h.finish()));
    if dir.join("demo.flac").is_file() {
        return Ok(dir);
    }
    let tmp = cache_dir().join(format!(".builtin-{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel, bytes) in embedded::PRESET_FILES {
        let path = tmp.join("presets").join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    std::fs::write(tmp.join("demo.flac"), embedded::DEMO_FLAC)?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another sonolux unpacked it at the same moment: use theirs.
        Err(_) if dir.join("demo.flac").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(
            dir.join(PRESET_FILE),
            format!("name = \"{name}\"\n[[pass]]\nshader = \"main.wgsl\"\n"),
        )
        .expect("toml");
        std::fs::write(
            dir.join("main.wgsl"),
            "fn shade(uv: vec2f, frag: vec2f) -> vec4f { return vec4f(uv, 0.0, 1.0); }\n",
        )
        .expect("wgsl");
    }

    #[test]
    fn user_presets_shadow_builtins_which_stay_reachable() {
        let root = std::env::temp_dir().join(format!("sonolux-lib-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let lib = Library::new(root.join("builtin"), root.join("user"));
        preset(&lib.builtin.join("a"), "A");
        preset(&lib.builtin.join("b"), "B");
        preset(&lib.user.join("b"), "my B");
        preset(&lib.user.join("c"), "C");
        let e = lib.entries();
        let ids: Vec<(&str, Origin)> = e.iter().map(|f| (f.id.as_str(), f.origin)).collect();
        assert_eq!(
            ids,
            [
                ("b", Origin::User),
                ("c", Origin::User),
                ("a", Origin::BuiltIn),
                ("builtin:b", Origin::BuiltIn)
            ]
        );
        assert_eq!(lib.find("b").expect("b").spec.name, "my B");
        assert_eq!(lib.find("builtin:b").expect("builtin b").spec.name, "B");
        assert!(matches!(
            lib.find("nope"),
            Err(PresetError::NotFound { .. })
        ));
        assert_eq!(lib.origin(&lib.builtin.join("a")), Origin::BuiltIn);
        assert_eq!(lib.free_user_dir("b"), lib.user.join("b-2"));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn every_checkout_preset_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        assert_eq!(embedded_ids(), super::super::list(&dir));
        assert!(demo_flac().starts_with(b"fLaC"));
    }
}
