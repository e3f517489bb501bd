//! The time axis of the viewer as a pure state machine: no egui, no clock, no GL.
//!
//! Widgets and keys emit [`PlaybackCommand`]s; the app owner applies them in order with
//! [`Playback::apply`], and feeds the frame time in as [`PlaybackCommand::Tick`]. This is Rerun's
//! `TimeControl` pattern, and like theirs it is tested headlessly below.
//!
//! Besides the play head it owns the two other things that move with time:
//! - the before→after **morph** (`0.0` = native PCA, `1.0` = SRM-aligned), eased over
//!   [`MORPH_SECONDS`] whenever the "aligned" toggle flips, reversible mid-flight;
//! - the **auto-spin** of the camera, with HyperTools' `rotations` meaning: the number of full
//!   turns the camera makes while the head plays from the first to the last frame. The angle is
//!   accumulated here and drained by the owner with [`Playback::take_spin`].

use serde::{Deserialize, Serialize};

/// Length of the before↔after morph, in seconds.
pub const MORPH_SECONDS: f32 = 0.6;
/// Longest time step a single tick may advance; protects against jumps after a stall.
pub const MAX_TICK_SECONDS: f32 = 0.25;
/// Allowed playback speeds, in images (frames) per second.
pub const SPEED_RANGE: (f32, f32) = (0.25, 2000.0);

/// Everything that can happen to the time axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlaybackCommand {
    TogglePlay,
    /// Start playing; from the first frame when the head sits at the end and looping is off.
    Play,
    Pause,
    /// One whole frame forward (pauses).
    StepForward,
    /// One whole frame back (pauses).
    StepBack,
    JumpStart,
    JumpEnd,
    /// Move the head to a (fractional) frame, clamped to the valid range.
    Seek(f32),
    /// Images per second.
    SetSpeed(f32),
    SetLoop(bool),
    /// Number of frames of the visible tail behind the head (at least 1).
    SetTail(usize),
    /// Advance by this many seconds of wall time.
    Tick(f32),
    /// Start morphing towards the aligned (`true`) or native (`false`) view.
    SetAligned(bool),
    ToggleAligned,
    /// Jump the morph to its target without animating (used when a new scene arrives).
    FinishMorph,
    SetSpin(bool),
    /// Camera turns per full run of the trajectory (HyperTools `rotations`).
    SetRotations(f32),
    /// A new scene with this many frames; keeps the head where it was, clamped.
    SetFrames(usize),
}

/// The user-facing preferences of the time axis, remembered between sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlaybackPrefs {
    pub speed: f32,
    pub looping: bool,
    pub tail: usize,
    pub spin: bool,
    pub rotations: f32,
}

impl Default for PlaybackPrefs {
    fn default() -> Self {
        // The demo played 2000 test images in about 30 s with a one-second tail at 60 fps and
        // 0.15 camera turns over the run.
        // Our demo sets hold a few hundred held-out images, hence a slower default speed.
        Self {
            speed: 30.0,
            looping: true,
            tail: 60,
            spin: false,
            rotations: 0.15,
        }
    }
}

/// State of the before↔after morph. `t` runs linearly in 0..=1; [`Morph::value`] eases it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Morph {
    aligned: bool,
    t: f32,
}

impl Morph {
    pub fn new(aligned: bool) -> Self {
        Self {
            aligned,
            t: if aligned { 1.0 } else { 0.0 },
        }
    }

    /// The target: `true` when heading to (or showing) the aligned view.
    pub fn aligned(&self) -> bool {
        self.aligned
    }

    /// Eased morph amount handed to the renderer: 0 = before, 1 = after.
    pub fn value(&self) -> f32 {
        ease_in_out(self.t)
    }

    pub fn animating(&self) -> bool {
        if self.aligned {
            self.t < 1.0
        } else {
            self.t > 0.0
        }
    }

    fn set(&mut self, aligned: bool) {
        self.aligned = aligned;
    }

    fn finish(&mut self) {
        self.t = if self.aligned { 1.0 } else { 0.0 };
    }

    fn tick(&mut self, dt: f32) {
        let step = if MORPH_SECONDS > 0.0 {
            dt / MORPH_SECONDS
        } else {
            1.0
        };
        self.t = if self.aligned {
            (self.t + step).min(1.0)
        } else {
            (self.t - step).max(0.0)
        };
    }
}

/// Cubic ease-in-out on 0..=1.
pub fn ease_in_out(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    if t < 0.5 {
        4.0 * t * t * t
    } else {
        let u = -2.0 * t + 2.0;
        1.0 - u * u * u / 2.0
    }
}

/// The play head, transport state, morph and spin.
#[derive(Clone, Debug, PartialEq)]
pub struct Playback {
    n_frames: usize,
    head: f32,
    playing: bool,
    speed: f32,
    looping: bool,
    tail: usize,
    morph: Morph,
    spin: bool,
    rotations: f32,
    pending_spin: f32,
}

impl Default for Playback {
    fn default() -> Self {
        Self::new(0, &PlaybackPrefs::default())
    }
}

impl Playback {
    pub fn new(n_frames: usize, prefs: &PlaybackPrefs) -> Self {
        let mut p = Self {
            n_frames,
            head: 0.0,
            playing: false,
            speed: 60.0,
            looping: true,
            tail: 60,
            morph: Morph::new(false),
            spin: false,
            rotations: 0.15,
            pending_spin: 0.0,
        };
        p.apply_prefs(prefs);
        p
    }

    pub fn apply_prefs(&mut self, prefs: &PlaybackPrefs) {
        self.apply(PlaybackCommand::SetSpeed(prefs.speed));
        self.apply(PlaybackCommand::SetLoop(prefs.looping));
        self.apply(PlaybackCommand::SetTail(prefs.tail));
        self.apply(PlaybackCommand::SetSpin(prefs.spin));
        self.apply(PlaybackCommand::SetRotations(prefs.rotations));
    }

    pub fn prefs(&self) -> PlaybackPrefs {
        PlaybackPrefs {
            speed: self.speed,
            looping: self.looping,
            tail: self.tail,
            spin: self.spin,
            rotations: self.rotations,
        }
    }

    pub fn n_frames(&self) -> usize {
        self.n_frames
    }
    /// Fractional frame position of the head, in `0..=last_frame`.
    pub fn head(&self) -> f32 {
        self.head
    }
    /// The whole frame under the head (the image the tooltip and labels talk about).
    pub fn frame(&self) -> usize {
        (self.head.max(0.0).floor() as usize).min(self.last_frame())
    }
    pub fn last_frame(&self) -> usize {
        self.n_frames.saturating_sub(1)
    }
    pub fn playing(&self) -> bool {
        self.playing
    }
    pub fn speed(&self) -> f32 {
        self.speed
    }
    pub fn looping(&self) -> bool {
        self.looping
    }
    pub fn tail(&self) -> usize {
        self.tail
    }
    pub fn morph(&self) -> &Morph {
        &self.morph
    }
    pub fn aligned(&self) -> bool {
        self.morph.aligned()
    }
    pub fn spin(&self) -> bool {
        self.spin
    }
    pub fn rotations(&self) -> f32 {
        self.rotations
    }

    /// Whether the next frame will differ from this one without any input.
    pub fn needs_repaint(&self) -> bool {
        (self.playing && self.n_frames > 1) || self.morph.animating()
    }

    /// Camera yaw (radians) accumulated by auto-spin since the last call.
    pub fn take_spin(&mut self) -> f32 {
        std::mem::take(&mut self.pending_spin)
    }

    pub fn apply_all(&mut self, commands: impl IntoIterator<Item = PlaybackCommand>) {
        for c in commands {
            self.apply(c);
        }
    }

    pub fn apply(&mut self, command: PlaybackCommand) {
        use PlaybackCommand as C;
        let last = self.last_frame() as f32;
        match command {
            C::TogglePlay => {
                if self.playing {
                    self.apply(C::Pause);
                } else {
                    self.apply(C::Play);
                }
            }
            C::Play => {
                if self.n_frames > 1 {
                    if !self.looping && self.head >= last {
                        self.head = 0.0;
                    }
                    self.playing = true;
                }
            }
            C::Pause => self.playing = false,
            C::StepForward => {
                self.playing = false;
                let next = self.head.floor() + 1.0;
                self.head = if next > last {
                    if self.looping {
                        0.0
                    } else {
                        last
                    }
                } else {
                    next
                };
            }
            C::StepBack => {
                self.playing = false;
                let prev = self.head.ceil() - 1.0;
                self.head = if prev < 0.0 {
                    if self.looping {
                        last
                    } else {
                        0.0
                    }
                } else {
                    prev
                };
            }
            C::JumpStart => self.head = 0.0,
            C::JumpEnd => {
                self.head = last;
                if !self.looping {
                    self.playing = false;
                }
            }
            C::Seek(f) => {
                self.head = if f.is_finite() {
                    f.clamp(0.0, last)
                } else {
                    self.head
                };
            }
            C::SetSpeed(s) => {
                if s.is_finite() {
                    self.speed = s.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
                }
            }
            C::SetLoop(l) => self.looping = l,
            C::SetTail(t) => self.tail = t.max(1),
            C::Tick(dt) => self.tick(dt),
            C::SetAligned(a) => self.morph.set(a),
            C::ToggleAligned => self.morph.set(!self.morph.aligned()),
            C::FinishMorph => self.morph.finish(),
            C::SetSpin(s) => self.spin = s,
            C::SetRotations(r) => {
                if r.is_finite() {
                    self.rotations = r.clamp(-20.0, 20.0);
                }
            }
            C::SetFrames(n) => {
                self.n_frames = n;
                self.head = self.head.clamp(0.0, self.last_frame() as f32);
                if n <= 1 {
                    self.playing = false;
                }
            }
        }
    }

    fn tick(&mut self, dt: f32) {
        if !dt.is_finite() || dt <= 0.0 {
            return;
        }
        let dt = dt.min(MAX_TICK_SECONDS);
        self.morph.tick(dt);
        if !self.playing || self.n_frames <= 1 {
            return;
        }
        let last = self.last_frame() as f32;
        let advance = self.speed * dt;
        if self.spin {
            self.pending_spin += self.rotations * std::f32::consts::TAU * advance / last;
        }
        let mut head = self.head + advance;
        if head >= last {
            if self.looping {
                head = head.rem_euclid(last);
            } else {
                head = last;
                self.playing = false;
            }
        }
        self.head = head;
    }
}

#[cfg(test)]
mod tests {
    use super::PlaybackCommand as C;
    use super::*;

    fn playback(n: usize) -> Playback {
        Playback::new(
            n,
            &PlaybackPrefs {
                speed: 10.0,
                looping: false,
                tail: 5,
                spin: false,
                rotations: 1.0,
            },
        )
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn starts_paused_at_zero() {
        let p = playback(100);
        assert_eq!(p.head(), 0.0);
        assert!(!p.playing());
        assert!(!p.needs_repaint());
        assert_eq!(p.frame(), 0);
    }

    #[test]
    fn toggle_play_and_tick_advance_by_speed() {
        let mut p = playback(100);
        p.apply(C::TogglePlay);
        assert!(p.playing());
        p.apply_all([C::Tick(0.25), C::Tick(0.25)]);
        assert!(close(p.head(), 5.0));
        p.apply(C::Tick(0.05));
        assert!(close(p.head(), 5.5));
        assert_eq!(p.frame(), 5);
        p.apply(C::TogglePlay);
        assert!(!p.playing());
        p.apply(C::Tick(0.1));
        assert!(close(p.head(), 5.5), "paused head must not move");
    }

    #[test]
    fn no_loop_stops_at_end() {
        let mut p = playback(11);
        p.apply_all([
            C::Play,
            C::Tick(0.2),
            C::Tick(0.2),
            C::Tick(0.2),
            C::Tick(0.2),
            C::Tick(0.2),
        ]);
        assert!(close(p.head(), 10.0));
        assert!(!p.playing());
    }

    #[test]
    fn play_at_end_without_loop_restarts() {
        let mut p = playback(11);
        p.apply(C::JumpEnd);
        assert!(close(p.head(), 10.0));
        p.apply(C::Play);
        assert!(p.playing());
        assert_eq!(p.head(), 0.0);
    }

    #[test]
    fn loop_wraps_around() {
        let mut p = playback(11);
        p.apply_all([C::SetLoop(true), C::Seek(9.0), C::Play, C::Tick(0.15)]);
        assert!(p.playing());
        assert!(close(p.head(), 0.5), "head {}", p.head());
    }

    #[test]
    fn step_moves_whole_frames_and_pauses() {
        let mut p = playback(10);
        p.apply_all([C::Seek(3.4), C::Play, C::StepForward]);
        assert!(!p.playing());
        assert_eq!(p.head(), 4.0);
        p.apply(C::StepForward);
        assert_eq!(p.head(), 5.0);
        p.apply(C::Seek(3.4));
        p.apply(C::StepBack);
        assert_eq!(p.head(), 3.0);
        p.apply(C::StepBack);
        assert_eq!(p.head(), 2.0);
    }

    #[test]
    fn step_at_edges_clamps_or_wraps() {
        let mut p = playback(10);
        p.apply(C::StepBack);
        assert_eq!(p.head(), 0.0);
        p.apply(C::JumpEnd);
        p.apply(C::StepForward);
        assert_eq!(p.head(), 9.0);
        p.apply(C::SetLoop(true));
        p.apply(C::StepForward);
        assert_eq!(p.head(), 0.0);
        p.apply(C::StepBack);
        assert_eq!(p.head(), 9.0);
    }

    #[test]
    fn seek_clamps_and_ignores_nan() {
        let mut p = playback(10);
        p.apply(C::Seek(-5.0));
        assert_eq!(p.head(), 0.0);
        p.apply(C::Seek(50.0));
        assert_eq!(p.head(), 9.0);
        p.apply(C::Seek(f32::NAN));
        assert_eq!(p.head(), 9.0);
        p.apply(C::JumpStart);
        assert_eq!(p.head(), 0.0);
    }

    #[test]
    fn speed_and_tail_are_clamped() {
        let mut p = playback(10);
        p.apply(C::SetSpeed(0.0));
        assert_eq!(p.speed(), SPEED_RANGE.0);
        p.apply(C::SetSpeed(1e9));
        assert_eq!(p.speed(), SPEED_RANGE.1);
        p.apply(C::SetSpeed(f32::INFINITY));
        assert_eq!(p.speed(), SPEED_RANGE.1);
        p.apply(C::SetTail(0));
        assert_eq!(p.tail(), 1);
        p.apply(C::SetTail(42));
        assert_eq!(p.tail(), 42);
    }

    #[test]
    fn huge_or_bad_ticks_are_bounded() {
        let mut p = playback(1000);
        p.apply_all([C::Play, C::Tick(100.0)]);
        assert!(close(p.head(), 10.0 * MAX_TICK_SECONDS));
        p.apply_all([C::Tick(-1.0), C::Tick(f32::NAN)]);
        assert!(close(p.head(), 10.0 * MAX_TICK_SECONDS));
    }

    #[test]
    fn empty_and_single_frame_scenes_never_play() {
        for n in [0, 1] {
            let mut p = playback(n);
            p.apply_all([
                C::Play,
                C::Tick(0.1),
                C::StepForward,
                C::StepBack,
                C::JumpEnd,
            ]);
            assert!(!p.playing());
            assert_eq!(p.head(), 0.0);
            assert_eq!(p.frame(), 0);
            assert!(!p.needs_repaint());
        }
    }

    #[test]
    fn new_scene_keeps_head_clamped() {
        let mut p = playback(100);
        p.apply_all([C::Seek(50.0), C::SetFrames(200)]);
        assert_eq!(p.head(), 50.0);
        p.apply(C::SetFrames(20));
        assert_eq!(p.head(), 19.0);
        p.apply_all([C::Play, C::SetFrames(1)]);
        assert!(!p.playing());
    }

    #[test]
    fn morph_eases_to_target_in_morph_seconds() {
        let mut p = playback(10);
        assert_eq!(p.morph().value(), 0.0);
        p.apply(C::ToggleAligned);
        assert!(p.aligned());
        assert!(p.needs_repaint());
        p.apply_all([C::Tick(MORPH_SECONDS / 4.0), C::Tick(MORPH_SECONDS / 4.0)]);
        assert!(close(p.morph().value(), 0.5));
        p.apply(C::Tick(MORPH_SECONDS / 4.0));
        let v = p.morph().value();
        assert!(v > 0.75 && v < 1.0, "eased value {v}");
        p.apply_all([C::Tick(0.25); 4]);
        assert_eq!(p.morph().value(), 1.0);
        assert!(!p.morph().animating());
        assert!(!p.needs_repaint());
    }

    #[test]
    fn morph_reverses_mid_flight_and_keeps_head() {
        let mut p = playback(10);
        p.apply_all([
            C::Seek(4.0),
            C::SetAligned(true),
            C::Tick(MORPH_SECONDS * 0.25),
        ]);
        let mid = p.morph().value();
        assert!(mid > 0.0 && mid < 0.5);
        p.apply(C::SetAligned(false));
        p.apply(C::Tick(MORPH_SECONDS * 0.1));
        assert!(p.morph().value() < mid);
        p.apply_all([C::Tick(0.25); 4]);
        assert_eq!(p.morph().value(), 0.0);
        assert_eq!(p.head(), 4.0, "toggling alignment keeps the current image");
    }

    #[test]
    fn finish_morph_jumps() {
        let mut p = playback(10);
        p.apply_all([C::SetAligned(true), C::FinishMorph]);
        assert_eq!(p.morph().value(), 1.0);
    }

    #[test]
    fn ease_is_monotone_and_symmetric() {
        let mut last = 0.0;
        for i in 0..=100 {
            let t = i as f32 / 100.0;
            let v = ease_in_out(t);
            assert!(v >= last);
            assert!(close(v, 1.0 - ease_in_out(1.0 - t)));
            last = v;
        }
        assert_eq!(ease_in_out(-1.0), 0.0);
        assert_eq!(ease_in_out(2.0), 1.0);
    }

    #[test]
    fn spin_follows_hypertools_rotations() {
        // One full run of the trajectory = `rotations` turns.
        let mut p = playback(101);
        p.apply_all([C::SetSpin(true), C::SetRotations(2.0), C::Play]);
        let mut total = 0.0;
        for _ in 0..100 {
            p.apply(C::Tick(0.1)); // 1 frame per tick at 10 frames/s
            total += p.take_spin();
        }
        assert!(close(p.head(), 100.0));
        assert!(
            (total - 2.0 * std::f32::consts::TAU).abs() < 1e-3,
            "total {total}"
        );
        assert_eq!(p.take_spin(), 0.0, "take_spin drains");
    }

    #[test]
    fn no_spin_when_paused_or_disabled() {
        let mut p = playback(101);
        p.apply_all([C::SetSpin(true), C::Tick(1.0)]);
        assert_eq!(p.take_spin(), 0.0);
        p.apply_all([C::SetSpin(false), C::Play, C::Tick(0.1)]);
        assert_eq!(p.take_spin(), 0.0);
    }

    #[test]
    fn prefs_round_trip() {
        let prefs = PlaybackPrefs {
            speed: 33.0,
            looping: true,
            tail: 12,
            spin: true,
            rotations: 0.5,
        };
        let p = Playback::new(10, &prefs);
        assert_eq!(p.prefs(), prefs);
        let json = serde_json::to_string(&prefs).unwrap_or_default();
        let back: PlaybackPrefs = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, prefs);
    }
}
