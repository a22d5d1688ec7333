//! [`Show`]: what is on the projector and what the VJ has set, between the
//! analysis and the renderer. Plain logic: no GPU, no window, no egui. The
//! control surface and the keys send [`Command`]s; the live app calls
//! [`Show::update`] once per frame and the renderer follows the result.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::analysis::{BeatOverride, FeatureFrame};
use crate::preset::modulation::{Follower, Modulation, modulated};
use crate::preset::{self, Library, Origin, Preset};

use super::command::Command;
use super::setlist::{Setlist, SetlistPlayer};
use super::transition::{Fade, Transition, beat_period, next_downbeat};

/// How many messages the surface keeps.
const MAX_MESSAGES: usize = 200;

/// How bad a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// For information.
    Info,
    /// Something did not work; the show goes on.
    Warning,
    /// An error (a preset that does not load, a file that cannot be written).
    Error,
}

/// A line for the surface's message list.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Show time (s) when it happened.
    pub time: f64,
    /// How bad.
    pub level: Level,
    /// `file:line:col: message` where there is a location.
    pub text: String,
}

/// A preset of the library as the browser lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryEntry {
    /// Folder id.
    pub id: String,
    /// Display name (the id when the TOML could not be read).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Why it cannot be shown (load or GPU error); such presets are skipped.
    pub error: Option<String>,
    /// Built-in or the VJ's own.
    pub origin: Origin,
    /// Its folder.
    pub dir: PathBuf,
}

/// A preset loaded for the screen with the VJ's values.
#[derive(Clone, Debug)]
pub struct PresetSlot {
    /// The preset.
    pub preset: Preset,
    /// Values the VJ set (declaration order).
    pub base: Vec<f32>,
    /// Values after modulation: what the shader reads this frame.
    pub values: Vec<f32>,
    followers: Vec<Follower>,
    /// Changes each time the slot is (re)loaded, so the renderer knows to rebuild.
    pub generation: u64,
}

impl PresetSlot {
    fn new(preset: Preset, generation: u64) -> Self {
        let base = preset.spec.default_values();
        Self {
            values: base.clone(),
            followers: vec![Follower::default(); base.len()],
            base,
            preset,
            generation,
        }
    }

    /// Modulation of parameter `i`.
    pub fn modulation(&self, i: usize) -> Option<&Modulation> {
        self.preset
            .spec
            .params
            .get(i)
            .and_then(|p| p.modulation.as_ref())
    }

    /// True when values or modulations differ from the preset's file.
    pub fn is_dirty(&self, saved: &[f32]) -> bool {
        self.base != saved
    }

    /// Unmodulated parameters take their base value at once (modulated ones
    /// follow on the next update).
    fn refresh(&mut self) {
        for (i, p) in self.preset.spec.params.iter().enumerate() {
            if p.modulation.is_none() {
                self.values[i] = self.base[i];
            }
        }
    }

    fn modulate(&mut self, frame: &FeatureFrame, time: f64, dt: f32) {
        for (i, p) in self.preset.spec.params.iter().enumerate() {
            let base = self.base[i];
            self.values[i] = match &p.modulation {
                Some(m) => {
                    let x = self.followers[i].step(m.source.value(frame, time), dt, m);
                    modulated(p, base, m, x)
                }
                None => base,
            };
        }
    }
}

/// The show: library, current and incoming preset, transition, setlist,
/// panic states, latency offset and messages.
pub struct Show {
    presets: Library,
    /// The presets the browser offers.
    pub library: Vec<LibraryEntry>,
    /// On screen (the outgoing one during a crossfade).
    pub current: PresetSlot,
    /// Fading in during a crossfade.
    pub incoming: Option<PresetSlot>,
    fade: Option<Fade>,
    pending_cut: Option<(PresetSlot, f64)>,
    /// What the next take uses.
    pub transition: Transition,
    /// Cued preset id (taken by Go).
    pub cued: Option<String>,
    /// The setlist, if one is loaded.
    pub setlist: Option<SetlistPlayer>,
    /// Blackout (panic).
    pub blackout: bool,
    /// Freeze the picture.
    pub frozen: bool,
    /// Flash limiter on.
    pub limiter: bool,
    /// Render scale override for every preset.
    pub render_scale: Option<f32>,
    /// Latency offset (ms) added to the music time of each frame.
    pub latency_ms: f64,
    /// Latency calibration mode.
    pub calibrating: bool,
    /// Input gain (dB) asked for.
    pub input_gain_db: f32,
    /// Messages for the surface, oldest first.
    pub messages: VecDeque<Message>,
    /// Latest show time (s).
    pub time: f64,
    /// Latest features (for meters and modulation).
    pub frame: FeatureFrame,
    /// The last preset the renderer accepted (restored when the GPU rejects one).
    accepted: Option<PresetSlot>,
    beat_overrides: Vec<BeatOverride>,
    input_requests: Vec<Option<String>>,
    next_generation: u64,
}

impl Show {
    /// A show over the presets of `presets`, starting with `preset`.
    pub fn new(presets: Library, preset: &str) -> Result<Self, preset::PresetError> {
        let first = presets.find(preset)?;
        let mut show = Self {
            presets,
            library: Vec::new(),
            current: PresetSlot::new(first, 1),
            incoming: None,
            fade: None,
            pending_cut: None,
            transition: Transition::default(),
            cued: None,
            setlist: None,
            blackout: false,
            frozen: false,
            limiter: true,
            render_scale: None,
            latency_ms: 0.0,
            calibrating: false,
            input_gain_db: 0.0,
            messages: VecDeque::new(),
            time: 0.0,
            frame: FeatureFrame::default(),
            accepted: None,
            beat_overrides: Vec::new(),
            input_requests: Vec::new(),
            next_generation: 2,
        };
        show.rescan();
        Ok(show)
    }

    /// Where presets are loaded from (built-in) and saved to (user).
    pub fn presets(&self) -> &Library {
        &self.presets
    }

    /// Adds a message (and logs it).
    pub fn message(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Warning => tracing::warn!("{text}"),
            Level::Error => tracing::error!("{text}"),
        }
        if self.messages.len() >= MAX_MESSAGES {
            self.messages.pop_front();
        }
        self.messages.push_back(Message {
            time: self.time,
            level,
            text,
        });
    }

    /// Re-reads the library folder. Presets that fail to load are listed with
    /// their error (and skipped by steps and setlists).
    pub fn rescan(&mut self) {
        self.library = self
            .presets
            .entries()
            .into_iter()
            .map(|f| match Preset::load(&f.dir) {
                Ok(p) => LibraryEntry {
                    id: f.id,
                    name: p.spec.name.clone(),
                    description: p.spec.description.clone(),
                    tags: p.spec.tags.clone(),
                    error: None,
                    origin: f.origin,
                    dir: f.dir,
                },
                Err(e) => LibraryEntry {
                    name: f.id.clone(),
                    id: f.id,
                    description: String::new(),
                    tags: Vec::new(),
                    error: Some(e.to_string()),
                    origin: f.origin,
                    dir: f.dir,
                },
            })
            .collect();
    }

    /// After files changed on disk: re-list the library and reload the
    /// current preset, keeping the VJ's values by name. A broken edit keeps
    /// the running version and says why.
    pub fn reload(&mut self) {
        self.rescan();
        let id = self.current.preset.id.clone();
        let dir = self.current.preset.dir.clone();
        match Preset::load(&dir) {
            Ok(p) => {
                if p.spec == self.current.preset.spec
                    && p.passes
                        .iter()
                        .zip(&self.current.preset.passes)
                        .all(|(a, b)| a.source == b.source)
                    && p.passes.len() == self.current.preset.passes.len()
                {
                    return;
                }
                let old = self.current.clone();
                let mut slot = self.slot(p);
                for (i, spec) in slot.preset.spec.params.iter().enumerate() {
                    if let Some(j) = old
                        .preset
                        .spec
                        .params
                        .iter()
                        .position(|q| q.name == spec.name)
                    {
                        slot.base[i] = old.base[j].clamp(spec.min, spec.max);
                    }
                }
                slot.values = slot.base.clone();
                let name = slot.preset.spec.name.clone();
                self.current = slot;
                self.message(Level::Info, format!("reloaded preset {name} ({id})"));
            }
            Err(e) => self.message(
                Level::Error,
                format!("{e} (still showing the previous version)"),
            ),
        }
    }

    fn slot(&mut self, preset: Preset) -> PresetSlot {
        let g = self.next_generation;
        self.next_generation += 1;
        PresetSlot::new(preset, g)
    }

    fn mark_failed(&mut self, id: &str, error: &str) {
        if let Some(e) = self.library.iter_mut().find(|e| e.id == id) {
            e.error = Some(error.to_owned());
        }
    }

    /// Loads a preset for the screen; on failure marks it in the library.
    fn load(&mut self, id: &str) -> Option<PresetSlot> {
        if let Some(err) = self
            .library
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.error.clone())
        {
            self.message(Level::Warning, format!("skipped preset {id}: {err}"));
            return None;
        }
        match self.presets.find(id) {
            Ok(p) => Some(self.slot(p)),
            Err(e) => {
                let text = e.to_string();
                self.mark_failed(id, &text);
                self.message(Level::Error, text);
                None
            }
        }
    }

    /// Takes preset `id` with the selected transition (`on_downbeat`: the
    /// caller is already on a downbeat, so "cut on downbeat" cuts now).
    fn take(&mut self, id: &str, on_downbeat: bool) {
        let Some(slot) = self.load(id) else { return };
        self.cued = None;
        // A take during a fade finishes the fade first.
        if let Some(incoming) = self.incoming.take() {
            self.current = incoming;
            self.fade = None;
        }
        self.pending_cut = None;
        match self.transition {
            Transition::Cut => self.current = slot,
            Transition::CutOnDownbeat if on_downbeat => self.current = slot,
            Transition::CutOnDownbeat => {
                let at = next_downbeat(&self.frame.rhythm, self.time);
                self.pending_cut = Some((slot, at));
            }
            Transition::Crossfade { beats } => {
                let length = f64::from(beats.max(0.0)) * beat_period(&self.frame.rhythm);
                self.incoming = Some(slot);
                self.fade = Some(Fade {
                    start: self.time,
                    length,
                });
            }
        }
    }

    /// The preset id `step` away from the current one in the library,
    /// skipping presets marked broken.
    fn library_step(&self, step: i32) -> Option<String> {
        let ok: Vec<&LibraryEntry> = self.library.iter().filter(|e| e.error.is_none()).collect();
        if ok.is_empty() {
            return None;
        }
        let here = self.shown_id();
        let pos = ok.iter().position(|e| e.id == here).unwrap_or(0) as i64;
        let n = ok.len() as i64;
        Some(
            ok[(pos + i64::from(step)).rem_euclid(n) as usize]
                .id
                .clone(),
        )
    }

    /// Id of the preset that is (or is becoming) the main one.
    pub fn shown_id(&self) -> &str {
        self.incoming
            .as_ref()
            .or(self.pending_cut.as_ref().map(|(s, _)| s))
            .unwrap_or(&self.current)
            .preset
            .id
            .as_str()
    }

    /// The slot the parameter panel edits: the incoming preset during a
    /// transition (it is what the VJ just chose), else the current one.
    pub fn editing(&self) -> &PresetSlot {
        self.incoming.as_ref().unwrap_or(&self.current)
    }

    fn editing_mut(&mut self) -> &mut PresetSlot {
        self.incoming.as_mut().unwrap_or(&mut self.current)
    }

    /// Crossfade amount (0 = only `current`, 1 = only `incoming`).
    pub fn mix(&self) -> f32 {
        self.fade.map_or(0.0, |f| f.mix(self.time))
    }

    /// Applies one command at the current show time.
    pub fn apply(&mut self, command: Command) {
        match command {
            Command::Cue(id) => self.cued = Some(id),
            Command::Go => {
                if let Some(id) = self.cued.clone() {
                    self.take(&id, false);
                }
            }
            Command::Take(id) => self.take(&id, false),
            Command::Step(step) => self.step(step),
            Command::SetParam { index, value } => {
                let slot = self.editing_mut();
                if let Some(p) = slot.preset.spec.params.get(index) {
                    slot.base[index] = value.clamp(p.min, p.max);
                    slot.refresh();
                }
            }
            Command::ResetParams => {
                let slot = self.editing_mut();
                slot.base = slot.preset.spec.default_values();
                slot.refresh();
            }
            Command::RevertPreset => {
                let dir = self.editing().preset.dir.clone();
                match Preset::load(&dir) {
                    Ok(p) => {
                        let slot = self.slot(p);
                        *self.editing_mut() = slot;
                    }
                    Err(e) => self.message(Level::Error, e.to_string()),
                }
            }
            Command::SavePreset => self.save(None),
            Command::SavePresetAs(id) => self.save(Some(id)),
            Command::SetModulation { index, modulation } => {
                let slot = self.editing_mut();
                if let Some(p) = slot.preset.spec.params.get_mut(index) {
                    p.modulation = modulation;
                    slot.followers[index] = Follower::default();
                    slot.refresh();
                }
            }
            Command::SetTransition(t) => self.transition = t,
            Command::Tap => self.beat_overrides.push(BeatOverride::Tap(self.time)),
            Command::Nudge(dt) => self.beat_overrides.push(BeatOverride::Nudge(dt)),
            Command::Resync => self.beat_overrides.push(BeatOverride::Resync(self.time)),
            Command::FixedBpm(bpm) => self.beat_overrides.push(BeatOverride::FixedBpm(bpm)),
            Command::DoubleTempo => self.beat_overrides.push(BeatOverride::Octave(2.0)),
            Command::HalveTempo => self.beat_overrides.push(BeatOverride::Octave(0.5)),
            Command::AutoTempo => self.beat_overrides.push(BeatOverride::Auto),
            Command::ToggleBlackout => self.blackout = !self.blackout,
            Command::ToggleFreeze => self.frozen = !self.frozen,
            Command::SetLimiter(on) => {
                if self.limiter != on {
                    self.limiter = on;
                    self.message(
                        Level::Warning,
                        if on {
                            "flash limiter ON"
                        } else {
                            "flash limiter LIFTED by the operator"
                        },
                    );
                }
            }
            Command::SetRenderScale(s) => self.render_scale = s.map(|s| s.clamp(0.25, 1.0)),
            Command::SetLatencyMs(ms) => self.latency_ms = ms.clamp(-500.0, 500.0),
            Command::SetCalibration(on) => self.calibrating = on,
            Command::SetlistPlay(on) => {
                let (rhythm, time) = (self.frame.rhythm, self.time);
                if let Some(s) = &mut self.setlist {
                    s.playing = on;
                    s.counter.reset(&rhythm, time);
                }
            }
            Command::SetlistJump(i) => self.setlist_jump(i),
            Command::SetlistAdd(id, bars) => {
                let s = self.setlist.get_or_insert_with(SetlistPlayer::default);
                s.setlist
                    .entries
                    .push(super::setlist::SetlistEntry { preset: id, bars });
            }
            Command::SetlistRemove(i) => {
                if let Some(s) = &mut self.setlist
                    && i < s.setlist.entries.len()
                {
                    s.setlist.entries.remove(i);
                    if s.index >= s.setlist.entries.len() {
                        s.index = 0;
                    }
                }
            }
            Command::SetlistMove(i, step) => {
                if let Some(s) = &mut self.setlist {
                    let n = s.setlist.entries.len() as i64;
                    let j = i as i64 + i64::from(step);
                    if (i as i64) < n && (0..n).contains(&j) {
                        let j = j as usize;
                        s.setlist.entries.swap(i, j);
                        // The entry on screen stays the one on screen.
                        if s.index == i {
                            s.index = j;
                        } else if s.index == j {
                            s.index = i;
                        }
                    }
                }
            }
            Command::SetlistLoad(path) => match Setlist::load(&path) {
                Ok(list) => {
                    self.set_setlist(list, Some(path));
                }
                Err(e) => self.message(Level::Error, e.to_string()),
            },
            Command::SetlistSave(path) => {
                let list = self.setlist.as_ref().map(|s| s.setlist.clone());
                match list.unwrap_or_default().save(&path) {
                    Ok(()) => {
                        if let Some(s) = &mut self.setlist {
                            s.path = Some(path.clone());
                        }
                        self.message(Level::Info, format!("setlist saved to {}", path.display()))
                    }
                    Err(e) => self.message(Level::Error, e.to_string()),
                }
            }
            Command::SelectInput(name) => self.input_requests.push(name),
            Command::SetInputGain(db) => self.input_gain_db = db.clamp(-24.0, 24.0),
            Command::ClearMessages => self.messages.clear(),
        }
    }

    /// Installs a setlist and takes its first playable entry. Entries naming
    /// a preset that does not exist are reported (and skipped when reached).
    pub fn set_setlist(&mut self, list: Setlist, path: Option<PathBuf>) {
        for e in &list.entries {
            if !self.library.iter().any(|l| l.id == e.preset) {
                let from = path
                    .as_ref()
                    .map(|p| format!("{}: ", p.display()))
                    .unwrap_or_default();
                self.message(
                    Level::Warning,
                    format!("{from}setlist names preset '{}', which does not exist (it will be skipped)", e.preset),
                );
            }
        }
        self.setlist = Some(SetlistPlayer {
            setlist: list,
            path,
            index: 0,
            playing: true,
            counter: Default::default(),
        });
        self.setlist_jump(0);
    }

    fn setlist_jump(&mut self, i: usize) {
        let Some(s) = &self.setlist else { return };
        let n = s.setlist.entries.len();
        // Skip entries whose preset is missing or broken (at most one lap).
        for k in 0..n {
            let idx = (i + k) % n;
            let id = s.setlist.entries[idx].preset.clone();
            let playable = self.library.iter().any(|e| e.id == id && e.error.is_none());
            if !playable {
                continue;
            }
            let (rhythm, time) = (self.frame.rhythm, self.time);
            if let Some(s) = &mut self.setlist {
                s.index = idx;
                s.counter.reset(&rhythm, time);
            }
            if self.shown_id() != id {
                self.take(&id, true);
            }
            return;
        }
    }

    fn step(&mut self, step: i32) {
        if let Some(s) = &self.setlist
            && s.playing
            && let Some(i) = s.offset(step)
        {
            self.setlist_jump(i);
            return;
        }
        if let Some(id) = self.library_step(step) {
            self.take(&id, false);
        }
    }

    fn save(&mut self, as_new: Option<String>) {
        let slot = self.editing().clone();
        let mut spec = slot.preset.spec.clone();
        for (p, v) in spec.params.iter_mut().zip(&slot.base) {
            p.default = *v;
        }
        let builtin = self.presets.origin(&slot.preset.dir) == Origin::BuiltIn;
        let result = match &as_new {
            // A built-in is never changed: saving it writes the VJ's copy
            // (same id, shadowing the built-in; id-2... when that exists).
            None if builtin => {
                let id = slot
                    .preset
                    .dir
                    .file_name()
                    .map_or_else(|| "preset".to_owned(), |n| n.to_string_lossy().into_owned());
                let dir = self.presets.free_user_dir(&id);
                let id = dir
                    .file_name()
                    .map_or(id, |n| n.to_string_lossy().into_owned());
                self.save_new(&slot.preset, &mut spec, &id, false)
            }
            None => Preset::save_spec(&slot.preset.dir, &spec)
                .map(|()| slot.preset.dir.clone())
                .map_err(|e| e.to_string()),
            Some(id) => self.save_new(&slot.preset, &mut spec, id, true),
        };
        match result {
            Ok(dir) => {
                let text = if builtin && as_new.is_none() {
                    format!(
                        "{} is built-in (read-only): saved your copy to {}",
                        slot.preset.id,
                        dir.display()
                    )
                } else {
                    format!("saved {}", dir.display())
                };
                self.message(Level::Info, text);
                self.rescan();
                // "Save" stays on the preset being edited; "save as" moves the
                // editing to the new copy. Values stay; the slot is rebuilt if
                // the file on disk no longer has the same parameters.
                if let Ok(p) = Preset::load(&dir) {
                    let same = p.spec.params.len() == self.editing().base.len();
                    if same {
                        let editing = self.editing_mut();
                        editing.preset = p;
                        editing.refresh();
                    } else {
                        let slot = self.slot(p);
                        *self.editing_mut() = slot;
                    }
                }
            }
            Err(e) => self.message(Level::Error, format!("not saved: {e}")),
        }
    }

    /// Writes a copy of `from` (every file, media included) with `spec`
    /// into the user library as `id`; `rename` marks the copy's name.
    fn save_new(
        &self,
        from: &Preset,
        spec: &mut preset::PresetSpec,
        id: &str,
        rename: bool,
    ) -> Result<PathBuf, String> {
        let id = id.trim();
        if !preset::library::valid_id(id) {
            return Err(format!(
                "'{id}' is not a preset id (letters, digits, - and _)"
            ));
        }
        let dir = self.presets.user.join(id);
        if dir.exists() {
            return Err(format!("{} already exists", dir.display()));
        }
        std::fs::create_dir_all(&self.presets.user)
            .map_err(|e| format!("{}: {e}", self.presets.user.display()))?;
        preset::library::copy_preset(&from.dir, &dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if rename {
            spec.name = format!("{} ({id})", spec.name);
        }
        Preset::save_spec(&dir, spec).map_err(|e| e.to_string())?;
        Ok(dir)
    }

    /// Advances the show to `time` with the newest `frame`: modulation,
    /// transitions, setlist. `dt` is the frame time (s).
    pub fn update(&mut self, frame: &FeatureFrame, time: f64, dt: f32) {
        self.frame = *frame;
        self.time = time;
        if let Some((_, at)) = &self.pending_cut
            && time >= *at
            && let Some((slot, _)) = self.pending_cut.take()
        {
            self.current = slot;
        }
        if let Some(f) = self.fade
            && f.done(time)
            && let Some(incoming) = self.incoming.take()
        {
            self.current = incoming;
            self.fade = None;
        }
        let mut advance = None;
        if let Some(s) = &mut self.setlist {
            let crossed = s.counter.update(&frame.rhythm, time);
            if crossed
                && s.playing
                && let Some(bars) = s.current().and_then(|e| e.bars)
                && s.counter.bars >= bars
            {
                advance = s.offset(1);
            }
        }
        if let Some(i) = advance {
            self.setlist_jump(i);
        }
        self.current.modulate(frame, time, dt);
        if let Some(s) = &mut self.incoming {
            s.modulate(frame, time, dt);
        }
    }

    /// Beat clock overrides the analysis thread must apply (drained).
    pub fn take_beat_overrides(&mut self) -> Vec<BeatOverride> {
        std::mem::take(&mut self.beat_overrides)
    }

    /// Input device switches asked for (drained).
    pub fn take_input_requests(&mut self) -> Vec<Option<String>> {
        std::mem::take(&mut self.input_requests)
    }

    /// The renderer accepted the current preset: it becomes the fallback.
    pub fn accepted(&mut self) {
        self.accepted = Some(self.current.clone());
    }

    /// The GPU rejected preset `generation` (current or incoming): mark it,
    /// say why, and go back to what was on screen.
    pub fn rejected(&mut self, generation: u64, error: &str) {
        let id = if self
            .incoming
            .as_ref()
            .is_some_and(|s| s.generation == generation)
        {
            self.fade = None;
            self.incoming.take().map(|s| s.preset.id)
        } else if self.current.generation == generation {
            let id = self.current.preset.id.clone();
            if let Some(prev) = self.accepted.clone() {
                self.current = prev;
            }
            Some(id)
        } else {
            None
        };
        if let Some(id) = id {
            let text = format!("preset {id} rejected by the GPU: {error}");
            self.mark_failed(&id, &text);
            self.message(Level::Error, text);
        }
    }
}
