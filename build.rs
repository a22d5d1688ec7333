//! Embeds the built-in presets and the demo track in the binary (so it runs
//! from anywhere, without the source tree) and records the git commit for
//! `sonolux doctor`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));

    // Every file under presets/, as (relative path, bytes).
    let presets = root.join("presets");
    println!("cargo:rerun-if-changed={}", presets.display());
    let mut files = Vec::new();
    collect(&presets, &presets, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Built-in preset files: (path under presets/, contents).\n\
         pub static PRESET_FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        writeln!(code, "    ({rel:?}, include_bytes!({abs:?})),").expect("string");
    }
    code.push_str("];\n");
    let demo = root.join("assets/demo.flac");
    println!("cargo:rerun-if-changed={}", demo.display());
    writeln!(
        code,
        "/// The bundled demo track (FLAC).\npub static DEMO_FLAC: &[u8] = include_bytes!({:?});",
        demo.display().to_string()
    )
    .expect("string");
    std::fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");

    // The commit, when built from a git checkout.
    let git = root.join(".git");
    println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
        && let Some(r) = head.strip_prefix("ref: ")
    {
        println!("cargo:rerun-if-changed={}", git.join(r.trim()).display());
    }
    let hash = std::process::Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SONOLUX_GIT_HASH={hash}");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if p.is_dir() {
            collect(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, p.display().to_string()));
        }
    }
}
