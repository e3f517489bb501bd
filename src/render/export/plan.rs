//! Frame planning: how many frames, where the head is in each, how long the tail is, the
//! before→after morph and the camera turn. No GL here, so the viewer can preview an export and
//! tests can check the HyperTools semantics.

use super::options::{check, BothLayout, ExportFormat, ExportOptions, ExportView};
use crate::render::error::RenderError;

/// One planned output frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedFrame {
    pub head: f32,
    pub tail: usize,
    /// 0 = before, 1 = after. Ignored for side-by-side frames (left is before, right after).
    pub morph: f32,
    pub side_by_side: bool,
    pub yaw: f32,
    pub caption: Option<&'static str>,
}

pub(super) const MAX_FRAMES: usize = 100_000;

/// Frames per pass over the images, and the head length in images.
fn pass_frames(n_images: usize, opts: &ExportOptions) -> Result<(usize, usize), RenderError> {
    check(
        opts.frame_rate.is_finite() && opts.frame_rate > 0.0 && opts.frame_rate <= 100.0,
        "frame_rate must be in (0, 100]",
    )?;
    let n = match opts.frames {
        Some(n) => n,
        None => {
            check(
                opts.duration.is_finite() && opts.duration > 0.0,
                "duration must be positive",
            )?;
            (opts.duration * opts.frame_rate).round() as usize
        }
    };
    check(n >= 1, "the export needs at least one frame")?;
    check(n <= MAX_FRAMES, "too many frames (at most 100000)")?;
    check(
        opts.tail_duration.is_finite() && opts.tail_duration >= 0.0,
        "tail_duration must be >= 0",
    )?;
    let seconds = n as f32 / opts.frame_rate;
    let tail = (opts.tail_duration * n_images as f32 / seconds).round() as usize;
    Ok((n, tail))
}

/// The frame-by-frame schedule: head position, tail, morph, camera azimuth. Public so the
/// viewer can preview an export and tests can check the HyperTools semantics.
pub fn plan_frames(
    n_images: usize,
    opts: &ExportOptions,
) -> Result<Vec<PlannedFrame>, RenderError> {
    if n_images == 0 {
        return Err(RenderError::Scene("the scene has no frames".into()));
    }
    check(opts.rotations.is_finite(), "rotations must be finite")?;
    let (n, tail) = pass_frames(n_images, opts)?;
    let last = (n_images - 1) as f32;
    let head_at = |f: usize| {
        if n > 1 {
            f as f32 * last / (n - 1) as f32
        } else {
            last
        }
    };
    let single = |morph: f32, caption| {
        (0..n).map(move |f| PlannedFrame {
            head: head_at(f),
            tail,
            morph,
            side_by_side: false,
            yaw: 0.0,
            caption,
        })
    };
    let mut frames: Vec<PlannedFrame> = match (opts.view, opts.both_layout) {
        (ExportView::Before, _) => single(0.0, Some("before alignment")).collect(),
        (ExportView::After, _) => single(1.0, Some("after alignment")).collect(),
        (ExportView::Both, BothLayout::SideBySide) => single(0.0, None)
            .map(|f| PlannedFrame {
                side_by_side: true,
                ..f
            })
            .collect(),
        (ExportView::Both, BothLayout::Sequence) => {
            check(
                opts.morph_duration.is_finite() && opts.morph_duration >= 0.0,
                "morph_duration must be >= 0",
            )?;
            let m = (opts.morph_duration * opts.frame_rate).round() as usize;
            let mut v: Vec<PlannedFrame> = single(0.0, Some("before alignment")).collect();
            // The morph shows whole paths so the viewer sees the shapes move into alignment.
            v.extend((0..m).map(|j| {
                let t = if m > 1 {
                    j as f32 / (m - 1) as f32
                } else {
                    1.0
                };
                PlannedFrame {
                    head: last,
                    tail: n_images,
                    morph: t * t * (3.0 - 2.0 * t),
                    side_by_side: false,
                    yaw: 0.0,
                    caption: Some("aligning..."),
                }
            }));
            v.extend(single(1.0, Some("after alignment")));
            v
        }
    };
    if opts.format == ExportFormat::Png {
        // A still: the end of the (after, or side-by-side) animation.
        let mut f = *frames
            .last()
            .ok_or_else(|| RenderError::Options("no frames".into()))?;
        if opts.view == ExportView::Both {
            f.side_by_side = true;
            f.caption = None;
        }
        frames = vec![f];
    }
    check(
        frames.len() <= MAX_FRAMES,
        "too many frames (at most 100000)",
    )?;
    let total = frames.len();
    for (g, f) in frames.iter_mut().enumerate() {
        f.yaw = (opts.rotations * 360.0 * g as f32 / total as f32).to_radians();
    }
    Ok(frames)
}

/// GIF frame delay for a frame rate, in centiseconds.
pub fn gif_delay_cs(frame_rate: f32) -> u16 {
    (100.0 / frame_rate).round().clamp(2.0, 65535.0) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_follows_hypertools_semantics() {
        let opts = ExportOptions {
            duration: 10.0,
            frame_rate: 10.0,
            tail_duration: 2.0,
            rotations: 1.0,
            ..Default::default()
        };
        let p = plan_frames(500, &opts).unwrap();
        assert_eq!(p.len(), 100);
        assert_eq!(p[0].head, 0.0);
        assert_eq!(p[99].head, 499.0);
        // 500 images over 10 s = 50 images/s; a 2 s tail = 100 images.
        assert_eq!(p[0].tail, 100);
        assert!(p.iter().all(|f| f.morph == 1.0));
        // One full turn over the run: last frame one step short of 360°.
        assert!((p[99].yaw.to_degrees() - 356.4).abs() < 1e-3);
        let explicit = plan_frames(
            500,
            &ExportOptions {
                frames: Some(7),
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(explicit.len(), 7);
        // 7 frames at 10 fps = 0.7 s for 500 images: a 2 s tail covers everything.
        assert!(explicit[0].tail >= 500);
    }

    #[test]
    fn plan_layouts() {
        let base = ExportOptions {
            frames: Some(10),
            frame_rate: 10.0,
            morph_duration: 1.0,
            ..Default::default()
        };
        let seq = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Both,
                both_layout: BothLayout::Sequence,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(seq.len(), 30);
        assert_eq!(seq[0].morph, 0.0);
        assert_eq!(seq[10].morph, 0.0);
        assert_eq!(seq[19].morph, 1.0);
        assert!(seq[15].morph > 0.0 && seq[15].morph < 1.0);
        assert_eq!(seq[29].morph, 1.0);
        let sbs = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Both,
                ..base.clone()
            },
        )
        .unwrap();
        assert!(sbs.iter().all(|f| f.side_by_side));
        let still = plan_frames(
            50,
            &ExportOptions {
                format: ExportFormat::Png,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(still.len(), 1);
        assert_eq!(still[0].head, 49.0);
        let before = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Before,
                ..base
            },
        )
        .unwrap();
        assert!(before.iter().all(|f| f.morph == 0.0));
    }

    #[test]
    fn plan_rejects_nonsense() {
        let bad = [
            ExportOptions {
                frame_rate: 0.0,
                ..Default::default()
            },
            ExportOptions {
                duration: f32::NAN,
                ..Default::default()
            },
            ExportOptions {
                frames: Some(0),
                ..Default::default()
            },
            ExportOptions {
                tail_duration: -1.0,
                ..Default::default()
            },
            ExportOptions {
                frames: Some(MAX_FRAMES + 1),
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(
                matches!(plan_frames(10, &o), Err(RenderError::Options(_))),
                "{o:?}"
            );
        }
        assert!(plan_frames(0, &ExportOptions::default()).is_err());
    }

    #[test]
    fn delays() {
        assert_eq!(gif_delay_cs(25.0), 4);
        assert_eq!(gif_delay_cs(30.0), 3);
        assert_eq!(gif_delay_cs(100.0), 2);
        assert_eq!(gif_delay_cs(0.5), 200);
    }
}
