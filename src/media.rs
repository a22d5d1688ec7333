//! Video loops as preset textures, decoded by ffmpeg on their own thread.
//!
//! [`probe`] asks ffprobe for a clip's size when a preset loads. A
//! [`VideoStream`] runs `ffmpeg -stream_loop -1` on a decoder thread that
//! writes raw RGBA frames at [`VIDEO_FPS`] into a small bounded queue; the
//! render thread takes the frame that belongs to the show time. Live it never
//! waits (a late frame keeps the last one on screen); headless renders wait
//! for exactly the frame they need, so they are deterministic.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Frames per second video textures are decoded at (ffmpeg resamples).
pub const VIDEO_FPS: f64 = 30.0;
/// Largest decoded size: bigger clips are scaled down to fit.
pub const MAX_VIDEO_SIZE: [u32; 2] = [1280, 720];
/// Frames decoded ahead of the one on screen.
const QUEUE: usize = 4;

/// File extensions treated as video.
pub fn is_video(file: &str) -> bool {
    let ext = Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some("mp4" | "mov" | "webm" | "mkv" | "avi" | "gif" | "m4v")
    )
}

/// Why a clip cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// ffprobe or ffmpeg is not installed.
    #[error("video textures need ffmpeg (and ffprobe): install the ffmpeg package ({0})")]
    NoFfmpeg(std::io::Error),
    /// The file has no readable video stream.
    #[error("{}: not a video ffmpeg can read{}", path.display(), if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Unreadable {
        /// The clip.
        path: PathBuf,
        /// What ffprobe said.
        detail: String,
    },
}

/// The decoded size of `path`: its own size, scaled down to fit
/// [`MAX_VIDEO_SIZE`], even.
pub fn probe(path: &Path) -> Result<[u32; 2], VideoError> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0:s=x",
        ])
        .arg(path)
        .output()
        .map_err(VideoError::NoFfmpeg)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let dims: Vec<u32> = text
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .split('x')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let [w, h] = dims[..] else {
        return Err(VideoError::Unreadable {
            path: path.to_owned(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    };
    if w == 0 || h == 0 {
        return Err(VideoError::Unreadable {
            path: path.to_owned(),
            detail: "zero size".into(),
        });
    }
    let scale = (f64::from(MAX_VIDEO_SIZE[0]) / f64::from(w))
        .min(f64::from(MAX_VIDEO_SIZE[1]) / f64::from(h))
        .min(1.0);
    let even = |v: f64| ((v / 2.0).round() as u32).max(1) * 2;
    Ok([even(f64::from(w) * scale), even(f64::from(h) * scale)])
}

/// A clip being decoded on its own thread, looping.
pub struct VideoStream {
    size: [u32; 2],
    frames: Receiver<Vec<u8>>,
    recycle: SyncSender<Vec<u8>>,
    child: Child,
    /// Index of the frame last handed out (-1 before the first).
    shown: i64,
    current: Option<Vec<u8>>,
}

impl VideoStream {
    /// Starts decoding `path` at `size` (from [`probe`]).
    pub fn spawn(path: &Path, size: [u32; 2]) -> Result<Self, VideoError> {
        let mut child = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-stream_loop", "-1", "-i"])
            .arg(path)
            .args([
                "-an",
                "-vf",
                &format!(
                    "fps={VIDEO_FPS},scale={}:{}:flags=bilinear",
                    size[0], size[1]
                ),
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgba",
                "-",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(VideoError::NoFfmpeg)?;
        let mut stdout = child.stdout.take().ok_or_else(|| VideoError::Unreadable {
            path: path.to_owned(),
            detail: "no output pipe".into(),
        })?;
        let (tx, frames) = sync_channel::<Vec<u8>>(QUEUE);
        let (recycle, spare) = sync_channel::<Vec<u8>>(QUEUE + 2);
        let bytes = (size[0] * size[1] * 4) as usize;
        let name = format!(
            "video {}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                loop {
                    let mut buf = spare.try_recv().unwrap_or_else(|_| vec![0; bytes]);
                    buf.resize(bytes, 0);
                    if stdout.read_exact(&mut buf).is_err() || tx.send(buf).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| VideoError::Unreadable {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            size,
            frames,
            recycle,
            child,
            shown: -1,
            current: None,
        })
    }

    /// Decoded size.
    pub fn size(&self) -> [u32; 2] {
        self.size
    }

    /// The frame for show time `time` (seconds), if it is a new one. With
    /// `wait` the call blocks until that exact frame is decoded (headless);
    /// without, it takes what is ready and never blocks (live).
    pub fn frame_at(&mut self, time: f64, wait: bool) -> Option<&[u8]> {
        let wanted = (time.max(0.0) * VIDEO_FPS).floor() as i64;
        let mut fresh = false;
        while self.shown < wanted {
            let next = if wait {
                self.frames.recv().ok()
            } else {
                self.frames.try_recv().ok()
            };
            let Some(f) = next else { break };
            if let Some(old) = self.current.replace(f) {
                let _ = self.recycle.try_send(old);
            }
            self.shown += 1;
            fresh = true;
        }
        if fresh { self.current.as_deref() } else { None }
    }
}

impl Drop for VideoStream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
