//! The input images of a dataset, decoded once to RGBA8 so the viewer and the exporter can show
//! the image behind each trajectory point.
//!
//! Accepted `.npy` layouts: (n, H, W), (n, H, W, C) and (n, C, H, W) with C in {1, 3, 4};
//! uint8 (or other 1-byte ints, bool) as is, anything else scaled by its min and max.

use std::io::{BufReader, Read};
use std::path::Path;

use super::error::DataError;
use super::files::open_sized;
use super::npy::{self, check_available, read_values, reorder, Header, Kind, Values, Want};
use super::npz::drain;

/// Images larger than this on a side are box-downsampled on load: they are shown as thumbnails,
/// and 10,000 full-size photos would not fit in GPU memory.
pub const MAX_SIDE: usize = 128;

/// `n` images of `width` × `height`, RGBA8, row-major, one after the other.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageSet {
    pub n: usize,
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
    /// Where they came from, for messages.
    pub source: String,
}

impl ImageSet {
    /// Bytes per image.
    pub fn stride(&self) -> usize {
        self.width * self.height * 4
    }

    /// The RGBA8 pixels of image `i`, or `None` past the end.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let s = self.stride();
        self.rgba.get(i * s..(i + 1) * s)
    }

    /// An error when the count differs from the activations'.
    pub fn check_count(&self, n_images: usize) -> Result<(), DataError> {
        if self.n == n_images {
            return Ok(());
        }
        Err(DataError::Shape {
            what: self.source.clone(),
            reason: format!(
                "{} images, but the activations have {n_images}; give one image per activation \
                 row (opened without images)",
                self.n
            ),
        })
    }
}

/// Read an images `.npy` file.
pub fn read_images_file(path: &Path) -> Result<(ImageSet, Option<String>), DataError> {
    let shown = path.display().to_string();
    let (file, size) = open_sized(path, &shown)?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    read_images(&mut r, &shown, Some(size), false)
}

/// Decode one `.npy` stream of images. Returns the set and a note when the values were scaled or
/// the images downsampled. `member`: an archive member, read to its end (zip checksum).
pub(crate) fn read_images(
    r: &mut impl Read,
    what: &str,
    available: Option<u64>,
    member: bool,
) -> Result<(ImageSet, Option<String>), DataError> {
    let h = npy::read_header(r, what)?;
    let layout = layout(&h, what)?;
    check_available(&h, what, available)?;
    let count = h.count().ok_or_else(|| DataError::Shape {
        what: what.into(),
        reason: "the shape is too large".into(),
    })?;
    let mut notes = Vec::new();
    let bytes_one = matches!(h.descr.kind, Kind::UInt | Kind::Bool) && h.descr.size == 1;
    let mut raw: Vec<u8> = if bytes_one {
        let mut v = Vec::new();
        v.try_reserve_exact(count).map_err(|_| DataError::Corrupt {
            what: what.into(),
            reason: "out of memory for the images".into(),
        })?;
        r.take(count as u64)
            .read_to_end(&mut v)
            .map_err(|e| DataError::Corrupt {
                what: what.into(),
                reason: format!("cannot read the images ({e})"),
            })?;
        if v.len() != count {
            return Err(DataError::Corrupt {
                what: what.into(),
                reason: "truncated: the data ends before the end the header promises".into(),
            });
        }
        if h.descr.kind == Kind::Bool {
            v.iter_mut()
                .for_each(|b| *b = if *b != 0 { 255 } else { 0 });
        }
        v
    } else {
        if !h.descr.is_numeric() {
            return Err(DataError::Dtype {
                what: what.into(),
                dtype: h.descr_text.clone(),
                reason: "strings, not pixel values".into(),
            });
        }
        let Values::F64(v) = read_values(r, &h, count, Want::F64, what)? else {
            return Err(DataError::Corrupt {
                what: what.into(),
                reason: "internal error: the images did not decode as numbers".into(),
            });
        };
        let (lo, hi) = v
            .iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !lo.is_finite() {
            return Err(DataError::Shape {
                what: what.into(),
                reason: "the images hold no finite pixel values (all NaN or infinite)".into(),
            });
        }
        let (lo, span) = if hi > lo {
            notes.push(format!(
                "{}: scaled {} pixel values from [{lo:.4}, {hi:.4}] to 0..255",
                what, h.descr_text
            ));
            (lo, hi - lo)
        } else {
            notes.push(format!(
                "{}: every pixel value is {lo}; the images are shown black",
                what
            ));
            (lo, 1.0)
        };
        v.iter()
            .map(|&x| {
                if x.is_finite() {
                    ((x - lo) / span * 255.0).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                }
            })
            .collect()
    };
    if member {
        drain(r, what)?;
    }
    if h.fortran {
        raw = reorder(raw, &h, what)?;
    }
    let mut set = to_rgba(&raw, layout, what);
    if set.width > MAX_SIDE || set.height > MAX_SIDE {
        let (w0, h0) = (set.width, set.height);
        set = downsample(&set);
        notes.push(format!(
            "{what}: images downsampled from {w0}x{h0} to {}x{} for display",
            set.width, set.height
        ));
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok((set, note))
}

#[derive(Clone, Copy, Debug)]
struct Layout {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    /// Channels first: (n, C, H, W).
    planar: bool,
}

fn layout(h: &Header, what: &str) -> Result<Layout, DataError> {
    let bad = || DataError::Shape {
        what: what.into(),
        reason: format!(
            "images have shape {}; expected (n, H, W), (n, H, W, C) or (n, C, H, W) with C = 1, 3 \
             or 4",
            npy::fmt_shape(&h.shape)
        ),
    };
    let ch = |c: usize| matches!(c, 1 | 3 | 4);
    let l = match *h.shape.as_slice() {
        [n, hh, w] => Layout {
            n,
            h: hh,
            w,
            c: 1,
            planar: false,
        },
        [n, hh, w, c] if ch(c) => Layout {
            n,
            h: hh,
            w,
            c,
            planar: false,
        },
        [n, c, hh, w] if ch(c) => Layout {
            n,
            h: hh,
            w,
            c,
            planar: true,
        },
        _ => return Err(bad()),
    };
    if l.n == 0 || l.h == 0 || l.w == 0 {
        return Err(bad());
    }
    Ok(l)
}

fn to_rgba(raw: &[u8], l: Layout, what: &str) -> ImageSet {
    let px = l.h * l.w;
    let mut out = vec![255u8; l.n * px * 4];
    for (i, img) in out.chunks_exact_mut(px * 4).enumerate() {
        let src = &raw[i * px * l.c..(i + 1) * px * l.c];
        for p in 0..px {
            let get = |k: usize| {
                if l.planar {
                    src[k * px + p]
                } else {
                    src[p * l.c + k]
                }
            };
            let o = &mut img[p * 4..p * 4 + 4];
            match l.c {
                1 => {
                    let g = get(0);
                    o[..3].fill(g);
                }
                _ => {
                    for (k, v) in o.iter_mut().take(3).enumerate() {
                        *v = get(k);
                    }
                    if l.c == 4 {
                        o[3] = get(3);
                    }
                }
            }
        }
    }
    ImageSet {
        n: l.n,
        width: l.w,
        height: l.h,
        rgba: out,
        source: what.to_string(),
    }
}

/// Box filter by the smallest integer factor that brings both sides to [`MAX_SIDE`] or less.
fn downsample(s: &ImageSet) -> ImageSet {
    let f = s.width.max(s.height).div_ceil(MAX_SIDE);
    let (w, h) = (s.width / f, s.height / f);
    let (w, h) = (w.max(1), h.max(1));
    let mut out = vec![0u8; s.n * w * h * 4];
    for i in 0..s.n {
        let src = &s.rgba[i * s.stride()..(i + 1) * s.stride()];
        let dst = &mut out[i * w * h * 4..(i + 1) * w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0u32; 4];
                let mut k = 0u32;
                for yy in y * f..((y + 1) * f).min(s.height) {
                    for xx in x * f..((x + 1) * f).min(s.width) {
                        let p = &src[(yy * s.width + xx) * 4..][..4];
                        for (a, &v) in acc.iter_mut().zip(p) {
                            *a += u32::from(v);
                        }
                        k += 1;
                    }
                }
                for (d, a) in dst[(y * w + x) * 4..][..4].iter_mut().zip(acc) {
                    *d = (a / k.max(1)) as u8;
                }
            }
        }
    }
    ImageSet {
        n: s.n,
        width: w,
        height: h,
        rgba: out,
        source: s.source.clone(),
    }
}
