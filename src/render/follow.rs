//! The renderer following the [`Show`]: which presets are on the GPU, their
//! parameter values, the crossfade amount, blackout and limiter. A preset the
//! GPU rejects is reported to the show once (never retried every frame).

use crate::show::Show;

use super::Renderer;

/// Which show slots the renderer holds (by generation).
#[derive(Clone, Copy, Debug, Default)]
pub struct FollowState {
    current: u64,
    incoming: Option<u64>,
    tried_current: u64,
    tried_incoming: u64,
}

impl Renderer {
    /// Brings the renderer in line with `show` for the next frame.
    pub fn follow(&mut self, show: &mut Show) {
        let f = &mut self.follow;
        let want = show.current.generation;
        if want != f.current {
            if f.incoming == Some(want) {
                // The crossfade finished: the incoming preset keeps its targets.
                self.complete_transition();
                let f = &mut self.follow;
                f.current = want;
                f.incoming = None;
                show.accepted();
            } else if f.tried_current != want {
                f.tried_current = want;
                match self.set_preset(show.current.preset.clone()) {
                    Ok(()) => {
                        self.follow.current = want;
                        show.accepted();
                    }
                    Err(e) => show.rejected(want, &e.to_string()),
                }
            }
        }
        match show.incoming.as_ref().map(|s| s.generation) {
            Some(g) if Some(g) != self.follow.incoming && self.follow.tried_incoming != g => {
                self.follow.tried_incoming = g;
                let preset = show.incoming.as_ref().map(|s| s.preset.clone());
                if let Some(p) = preset {
                    match self.start_transition(p) {
                        Ok(()) => self.follow.incoming = Some(g),
                        Err(e) => show.rejected(g, &e.to_string()),
                    }
                }
            }
            None if self.follow.incoming.is_some() => {
                self.cancel_transition();
                self.follow.incoming = None;
            }
            _ => {}
        }
        // Values: only into the preset they belong to.
        if self.follow.current == show.current.generation {
            let values = &show.current.values;
            let params = self.params_mut();
            if params.len() == values.len() {
                params.copy_from_slice(values);
            }
        }
        let incoming_scale = match &show.incoming {
            Some(slot) if self.follow.incoming == Some(slot.generation) => {
                if let Some(params) = self.incoming_params_mut()
                    && params.len() == slot.values.len()
                {
                    params.copy_from_slice(&slot.values);
                }
                Some(show.render_scale.unwrap_or(slot.preset.spec.render_scale))
            }
            _ => None,
        };
        self.mix = if self.follow.incoming.is_some() {
            show.mix()
        } else {
            0.0
        };
        if self.follow.current == show.current.generation {
            let scale = show
                .render_scale
                .unwrap_or(show.current.preset.spec.render_scale);
            self.set_render_scale(scale, incoming_scale);
        }
        self.blackout = if show.blackout { 1.0 } else { 0.0 };
        self.limiter.enabled = show.limiter;
    }

    /// Marks the renderer's current preset as the show's current slot (for a
    /// renderer built with that slot's preset).
    pub fn adopt_show(&mut self, show: &mut Show) {
        self.follow.current = show.current.generation;
        self.follow.tried_current = show.current.generation;
        show.accepted();
    }
}
