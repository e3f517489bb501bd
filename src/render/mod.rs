//! Trajectory geometry, camera maths, the three-d scene, offscreen frames, GIF and PNG.
