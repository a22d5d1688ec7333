//! A private PulseAudio server with a null sink `vj` (default sink) whose
//! monitor `vj.monitor` is the default source: what `paplay` plays into it,
//! capture hears. For `bench timing` and the live-capture tests, on
//! machines without a sound card. Each server lives in its own runtime
//! folder, so it never touches the user's sound server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private server; stopped and its folder removed on drop.
pub struct NullSinkServer {
    /// Its `XDG_RUNTIME_DIR`: set it on every client (sonolux, paplay).
    pub runtime: PathBuf,
}

impl NullSinkServer {
    /// Starts a server in `runtime` (again, after [`NullSinkServer::stop`]).
    pub fn start_in(runtime: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&runtime)?;
        let status = Command::new("pulseaudio")
            .env("XDG_RUNTIME_DIR", &runtime)
            .args([
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=vj",
                "--load=module-always-sink",
            ])
            .stderr(Stdio::null())
            .status()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("pulseaudio: {e} (apt-get install pulseaudio; scripts/setup does)"),
                )
            })?;
        if !status.success() {
            return Err(std::io::Error::other("pulseaudio did not start"));
        }
        let me = Self { runtime };
        let t0 = Instant::now();
        while !me.pactl(&["info"]) && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        if !(me.pactl(&["set-default-sink", "vj"])
            && me.pactl(&["set-default-source", "vj.monitor"]))
        {
            return Err(std::io::Error::other(
                "pulseaudio started but the null sink is not there",
            ));
        }
        Ok(me)
    }

    /// Stops this server (the folder stays, for a restart). By its pid
    /// file: `pulseaudio --kill` can find another server of the same user
    /// through the runtime link in ~/.config/pulse. Returns once the process
    /// has exited: a server still shutting down removes its socket and pid
    /// file on the way out, which would be those of a server started next
    /// in the same folder.
    pub fn stop(&self) {
        let pid = std::fs::read_to_string(self.runtime.join("pulse/pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let alive = || match pid {
            // Running unless gone or a zombie (nobody may reap a daemon).
            Some(pid) => std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit(')').next().map(|r| r.trim_start().to_owned()))
                .is_some_and(|r| !r.starts_with('Z')),
            None => self.pactl(&["info"]),
        };
        let t0 = Instant::now();
        while alive() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(pid) = pid.filter(|_| alive()) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }

    /// Starts `paplay wav` into the null sink, with a 1 s buffer: with
    /// paplay's default, a player delayed a moment on a busy machine runs
    /// dry and the sink plays silence in the middle of the file.
    pub fn play(&self, wav: &Path) -> std::io::Result<Child> {
        Command::new("paplay")
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .arg("--latency-msec=1000")
            .arg(wav)
            .stderr(Stdio::null())
            .spawn()
    }

    /// Runs `pactl args` against this server; true on success.
    pub fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for NullSinkServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}
