//! An orbit camera around a target, z up, in matplotlib's terms (azimuth, elevation) so that
//! HyperTools' `elev=10, azim=-60` and `rotations` carry over directly.
//!
//! Pure maths: the viewer uses `project` for hover picking with the exact matrix the renderer
//! uses, so picking and drawing can never disagree.

use three_d::{InnerSpace, Mat4, Point3, Rad, SquareMatrix, Vec3, Vec4};

/// Vertical field of view. Narrow enough that the cube looks like matplotlib's nearly
/// orthographic 3D axes, wide enough to keep a sense of depth while orbiting.
pub const DEFAULT_FOV_Y_DEG: f32 = 30.0;
/// HyperTools' fixed elevation for animations.
pub const DEFAULT_ELEVATION_DEG: f32 = 10.0;
/// matplotlib's default azimuth.
pub const DEFAULT_AZIMUTH_DEG: f32 = -60.0;
/// Distance at which the unit cube [-1,1]³ fills the view with a small margin at any azimuth
/// (tuned by rendering, see `tests::default_view_fits_cube`).
pub const DEFAULT_DISTANCE: f32 = 6.4;
/// Limits that keep the near plane in front of the scene and the scene from vanishing.
pub const MIN_DISTANCE: f32 = 1.0;
pub const MAX_DISTANCE: f32 = 60.0;
/// Pitch stops short of the poles: at ±90° the z-up basis degenerates and the view flips.
pub const MAX_PITCH: f32 = 89.0 * std::f32::consts::PI / 180.0;
/// Orbit speed: half a degree per pixel, about what matplotlib and Rerun feel like.
pub const ORBIT_RAD_PER_PX: f32 = 0.5 * std::f32::consts::PI / 180.0;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrbitCamera {
    /// Azimuth in radians, measured in the x-y plane from +x (matplotlib `azim`).
    pub yaw: f32,
    /// Elevation in radians above the x-y plane (matplotlib `elev`).
    pub pitch: f32,
    /// Distance from the eye to `target`.
    pub distance: f32,
    pub target: [f32; 3],
    /// Vertical field of view in radians (widened automatically for portrait viewports).
    pub fov_y: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            yaw: DEFAULT_AZIMUTH_DEG.to_radians(),
            pitch: DEFAULT_ELEVATION_DEG.to_radians(),
            distance: DEFAULT_DISTANCE,
            target: [0.0; 3],
            fov_y: DEFAULT_FOV_Y_DEG.to_radians(),
        }
    }
}

impl OrbitCamera {
    /// The camera an export frame uses: HyperTools' `elev`, `azim` and `zoom`, where zoom 1 is
    /// our default distance and, as in HyperTools (distance 9 − zoom), each unit of zoom moves
    /// the eye an eighth of the default distance closer.
    pub fn hypertools(elevation_deg: f32, azimuth_deg: f32, zoom: f32) -> Self {
        let mut c = Self {
            yaw: azimuth_deg.to_radians(),
            pitch: elevation_deg.to_radians().clamp(-MAX_PITCH, MAX_PITCH),
            ..Self::default()
        };
        if zoom.is_finite() {
            c.distance = (DEFAULT_DISTANCE * (9.0 - zoom) / 8.0).clamp(MIN_DISTANCE, MAX_DISTANCE);
        }
        c
    }

    /// Back to the HyperTools default view (keeps nothing of the current one).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Mouse drag in pixels (y down). Dragging right turns the scene right, dragging down
    /// raises the eye, as in matplotlib.
    pub fn orbit(&mut self, dx_px: f32, dy_px: f32) {
        if !(dx_px.is_finite() && dy_px.is_finite()) {
            return;
        }
        self.yaw = wrap_angle(self.yaw - dx_px * ORBIT_RAD_PER_PX);
        self.pitch = (self.pitch + dy_px * ORBIT_RAD_PER_PX).clamp(-MAX_PITCH, MAX_PITCH);
    }

    /// Multiplicative zoom: `factor > 1` moves closer (egui's `zoom_delta()` convention, so
    /// pinch and ctrl+wheel work as they are). Non-positive or non-finite factors are ignored.
    pub fn zoom(&mut self, factor: f32) {
        if factor.is_finite() && factor > 0.0 {
            self.distance = (self.distance / factor).clamp(MIN_DISTANCE, MAX_DISTANCE);
        }
    }

    /// Mouse-wheel zoom from a scroll delta in points (positive = wheel up = closer).
    pub fn zoom_scroll(&mut self, scroll: f32) {
        if scroll.is_finite() {
            self.zoom((scroll * 0.002).exp());
        }
    }

    /// Drag with the secondary button: the point under the cursor stays under it (at the
    /// target's depth), which needs the viewport height to convert pixels to world units.
    pub fn pan(&mut self, dx_px: f32, dy_px: f32, viewport_height_px: f32) {
        if !(dx_px.is_finite() && dy_px.is_finite()) || viewport_height_px <= 0.0 {
            return;
        }
        let world_per_px = 2.0 * self.distance * (self.fov_y * 0.5).tan() / viewport_height_px;
        let (right, up) = self.right_up();
        let t =
            Vec3::from(self.target) - right * (dx_px * world_per_px) + up * (dy_px * world_per_px);
        self.target = t.into();
    }

    /// Auto-rotation: `rotations_per_run` full turns spread over a run, advanced by the
    /// fraction `dt_fraction` of that run (HyperTools' `rotations`; Rerun's spin).
    pub fn spin(&mut self, rotations_per_run: f32, dt_fraction: f32) {
        let d = rotations_per_run * dt_fraction * std::f32::consts::TAU;
        if d.is_finite() {
            self.yaw = wrap_angle(self.yaw + d);
        }
    }

    /// Eye position in world space.
    pub fn eye(&self) -> [f32; 3] {
        (Vec3::from(self.target) + self.direction() * self.distance).into()
    }

    /// Unit vector from the target towards the eye.
    fn direction(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        Vec3::new(cp * cy, cp * sy, sp)
    }

    /// Screen right and up in world space.
    fn right_up(&self) -> (Vec3, Vec3) {
        let forward = -self.direction();
        let right = forward.cross(Vec3::unit_z()).normalize();
        let up = right.cross(forward);
        (right, up)
    }

    pub fn view(&self) -> Mat4 {
        let eye = Vec3::from(self.eye());
        let t = Vec3::from(self.target);
        Mat4::look_at_rh(
            Point3::new(eye.x, eye.y, eye.z),
            Point3::new(t.x, t.y, t.z),
            Vec3::unit_z(),
        )
    }

    /// Perspective projection. For portrait viewports the vertical fov widens so the scene
    /// still fits horizontally.
    pub fn projection(&self, aspect: f32) -> Mat4 {
        let aspect = if aspect.is_finite() && aspect > 0.0 {
            aspect
        } else {
            1.0
        };
        let mut half = (self.fov_y * 0.5).clamp(0.01, 1.5);
        if aspect < 1.0 {
            half = (half.tan() / aspect).atan();
        }
        // The scene lives within √3 of the origin; keep the depth range tight around it.
        let reach = Vec3::from(self.target).magnitude() + 2.0;
        let near = (self.distance - reach).max(self.distance * 0.02).max(0.01);
        let far = self.distance + reach;
        three_d::perspective(Rad(2.0 * half), aspect, near, far)
    }

    pub fn view_proj_mat(&self, aspect: f32) -> Mat4 {
        self.projection(aspect) * self.view()
    }

    /// Column-major view-projection matrix (OpenGL convention).
    pub fn view_proj(&self, aspect: f32) -> [[f32; 4]; 4] {
        self.view_proj_mat(aspect).into()
    }

    /// Pixel position (top-left origin) of a world point in a `w`×`h` viewport, or `None` when
    /// it is behind the eye or outside the depth range. Points off-screen still project, so
    /// callers clip them as they need.
    pub fn project(&self, p: [f32; 3], viewport_w: f32, viewport_h: f32) -> Option<[f32; 2]> {
        if viewport_w <= 0.0 || viewport_h <= 0.0 {
            return None;
        }
        let clip = self.view_proj_mat(viewport_w / viewport_h) * Vec4::new(p[0], p[1], p[2], 1.0);
        if clip.w <= 1e-6 {
            return None;
        }
        let ndc = clip.truncate() / clip.w;
        if !(-1.0..=1.0).contains(&ndc.z) {
            return None;
        }
        Some([
            (ndc.x + 1.0) * 0.5 * viewport_w,
            (1.0 - ndc.y) * 0.5 * viewport_h,
        ])
    }

    /// The inverse of `view_proj_mat`, when it exists (for unprojecting rays).
    pub fn inverse_view_proj(&self, aspect: f32) -> Option<Mat4> {
        self.view_proj_mat(aspect).invert()
    }
}

/// Keeps angles in [-π, π) so long spins do not lose float precision.
fn wrap_angle(a: f32) -> f32 {
    use std::f32::consts::{PI, TAU};
    (a + PI).rem_euclid(TAU) - PI
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;

    #[test]
    fn target_projects_to_viewport_centre() {
        let mut c = OrbitCamera::default();
        for _ in 0..5 {
            let p = c.project(c.target, 640.0, 480.0).unwrap();
            assert!(
                abs_diff_eq!(p[0], 320.0, epsilon = 1e-2)
                    && abs_diff_eq!(p[1], 240.0, epsilon = 1e-2),
                "{p:?}"
            );
            c.orbit(37.0, -11.0);
            c.pan(13.0, 7.0, 480.0);
        }
    }

    #[test]
    fn orbit_keeps_distance_and_clamps_pitch() {
        let mut c = OrbitCamera::default();
        let d0 = c.distance;
        c.orbit(500.0, 1e6);
        let e = Vec3::from(c.eye()) - Vec3::from(c.target);
        assert!(abs_diff_eq!(e.magnitude(), d0, epsilon = 1e-4));
        assert!(abs_diff_eq!(c.pitch, MAX_PITCH, epsilon = 1e-6));
        c.orbit(0.0, -1e7);
        assert!(abs_diff_eq!(c.pitch, -MAX_PITCH, epsilon = 1e-6));
        c.orbit(f32::NAN, 1.0);
        assert!(c.yaw.is_finite());
    }

    #[test]
    fn default_is_hypertools_view() {
        let c = OrbitCamera::default();
        assert!(abs_diff_eq!(c.pitch.to_degrees(), 10.0, epsilon = 1e-4));
        assert!(abs_diff_eq!(c.yaw.to_degrees(), -60.0, epsilon = 1e-4));
        let e = c.eye();
        // Eye above the x-y plane, in the fourth quadrant for azimuth -60°.
        assert!(e[2] > 0.0 && e[0] > 0.0 && e[1] < 0.0);
        assert_eq!(OrbitCamera::hypertools(10.0, -60.0, 1.0), c);
    }

    #[test]
    fn up_is_up_and_right_is_right() {
        let c = OrbitCamera::default();
        let top = c.project([0.0, 0.0, 1.0], 640.0, 480.0).unwrap();
        assert!(top[1] < 240.0, "z up must be drawn above the centre");
        // With azimuth -60°, +x points to the viewer's right-front, +y to the back-right.
        let x = c.project([1.0, 0.0, 0.0], 640.0, 480.0).unwrap();
        let y = c.project([0.0, 1.0, 0.0], 640.0, 480.0).unwrap();
        assert!(x[0] > 320.0 && y[0] > 320.0);
        assert!(x[1] > y[1], "+x is nearer the viewer, so lower on screen");
    }

    #[test]
    fn default_view_fits_cube() {
        // Every corner of [-1,1]³ is inside 4:3 and 16:10 viewports at any azimuth, and the cube
        // is not tiny (its height uses most of the frame).
        for (w, h) in [(640.0, 480.0), (1280.0, 800.0), (480.0, 640.0)] {
            for k in 0..36 {
                let mut c = OrbitCamera::default();
                c.spin(1.0, k as f32 / 36.0);
                let mut ys = Vec::new();
                for i in 0..8 {
                    let p = [
                        if i & 1 == 0 { -1.0 } else { 1.0 },
                        if i & 2 == 0 { -1.0 } else { 1.0 },
                        if i & 4 == 0 { -1.0 } else { 1.0 },
                    ];
                    let q = c.project(p, w, h).unwrap();
                    assert!(
                        q[0] > 0.0 && q[0] < w && q[1] > 0.0 && q[1] < h,
                        "{w}x{h} {k} {q:?}"
                    );
                    ys.push(q[1]);
                }
                let span = ys.iter().cloned().fold(f32::MIN, f32::max)
                    - ys.iter().cloned().fold(f32::MAX, f32::min);
                assert!(span > 0.55 * h.min(w), "cube too small: {span} of {h}");
            }
        }
    }

    #[test]
    fn zoom_and_spin() {
        let mut c = OrbitCamera::default();
        c.zoom(2.0);
        assert!(abs_diff_eq!(
            c.distance,
            DEFAULT_DISTANCE / 2.0,
            epsilon = 1e-5
        ));
        c.zoom(0.0);
        c.zoom(f32::INFINITY);
        assert!(abs_diff_eq!(
            c.distance,
            DEFAULT_DISTANCE / 2.0,
            epsilon = 1e-5
        ));
        c.zoom(1e-9);
        assert_eq!(c.distance, MAX_DISTANCE);
        let y0 = c.yaw;
        c.spin(0.25, 1.0);
        assert!(abs_diff_eq!(
            wrap_angle(c.yaw - y0),
            std::f32::consts::FRAC_PI_2,
            epsilon = 1e-5
        ));
        c.spin(3.0, 1.0); // full turns change nothing
        assert!(abs_diff_eq!(
            wrap_angle(c.yaw - y0),
            std::f32::consts::FRAC_PI_2,
            epsilon = 1e-4
        ));
        let closer = OrbitCamera::hypertools(10.0, -60.0, 3.0);
        assert!(closer.distance < DEFAULT_DISTANCE);
    }

    #[test]
    fn pan_moves_target_in_screen_plane() {
        let mut c = OrbitCamera::default();
        let before = c.project([0.0; 3], 800.0, 600.0).unwrap();
        c.pan(40.0, 0.0, 600.0);
        let after = c.project([0.0; 3], 800.0, 600.0).unwrap();
        // The origin follows the cursor: 40 px right (exact at the target's depth).
        assert!(
            abs_diff_eq!(after[0] - before[0], 40.0, epsilon = 0.5),
            "{before:?} {after:?}"
        );
        assert!(abs_diff_eq!(after[1], before[1], epsilon = 0.5));
    }

    #[test]
    fn behind_eye_is_none() {
        let c = OrbitCamera::default();
        let e = Vec3::from(c.eye());
        let behind = e * 1.5;
        assert!(c.project(behind.into(), 100.0, 100.0).is_none());
        assert!(c.project([0.0; 3], 0.0, 100.0).is_none());
    }
}
