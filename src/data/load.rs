//! Inputs → [`Dataset`]: `.npy` files, `.npz` archives, folders of `.npy` files and the
//! embedded demo sets, with every check done before the data is trusted, and the class labels
//! resolved (explicit file > `labels` array among the inputs > `labels.npy` beside).
//!
//! Order of checks for each array: header (magic, version, dict) → dtype → shape → image count
//! against the first network → memory needed as float64 → bytes actually present → data →
//! NaN/Inf. So a huge or truncated file is refused before anything large is allocated.

use std::fs;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::dataset::{dataset_name, display_stem, Dataset, Network};
use super::embedded;
use super::error::{fmt_bytes, DataError};
use super::extras::{is_extra, Extras};
use super::files::{extension, file_kind, open, open_sized};
use super::limits::{memory_limit, ANNOUNCE_BYTES};
use super::npy::{self, check_available, read_values, reorder, Header, Kind, Values, Want};
use super::npz::{drain, member, open_zip};
use super::Activations;

/// Knobs for [`load_with`].
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Refuse inputs whose float64 copy (all networks together) would exceed this many bytes.
    pub max_bytes: u64,
    /// Told, before the data are read or inflated, about every array whose float64 copy takes
    /// at least `announce_bytes`, so a small compressed file that inflates hugely is no surprise.
    pub announce: Option<fn(&str)>,
    pub announce_bytes: u64,
    /// Keeps only some units of each network: given (network index, stored units), the sorted
    /// units to keep, or None for all. The rest are dropped as each array is read, so a viewer
    /// that analyses 1000 of 4096 units never holds the other 3096.
    pub keep_units: Option<KeepUnits>,
}

/// See [`LoadOptions::keep_units`].
#[derive(Clone)]
pub struct KeepUnits(pub std::sync::Arc<dyn Fn(usize, usize) -> Option<Vec<usize>> + Send + Sync>);

impl std::fmt::Debug for KeepUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepUnits(..)")
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            max_bytes: memory_limit(),
            announce: None,
            announce_bytes: ANNOUNCE_BYTES,
            keep_units: None,
        }
    }
}

/// Load several networks' activations.
///
/// `inputs` are `.npy` files (one network each, named by file stem), `.npz` archives (one
/// network per array, in archive order), folders of `.npy` files (sorted by file name) and
/// `demo:<name>`, in any mix. An array or file named `labels` holds class labels, not a network.
/// The `labels` argument (`.npy`, or `.npz` with an array `labels` or a single array) takes
/// precedence; without it or a `labels` array among the inputs, a `labels.npy` beside the `.npy`
/// inputs is used. Anything dropped or converted is reported in [`Dataset::notes`].
pub fn load(inputs: &[String], labels: Option<&Path>) -> Result<Dataset, DataError> {
    load_with(inputs, labels, &LoadOptions::default())
}

/// [`load`] with explicit options (memory limit).
pub fn load_with(
    inputs: &[String],
    labels: Option<&Path>,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let mut l = Loader::new(opts);
    let mut beside: Vec<PathBuf> = Vec::new();
    let mut stems: Vec<String> = Vec::new();
    let mut parents: Vec<Option<String>> = Vec::new();
    for input in inputs {
        if let Some(name) = input.strip_prefix("demo:") {
            let bytes = embedded::demo_bytes(name)?;
            l.npz(Cursor::new(bytes), input)?;
            stems.push(name.to_string());
            parents.push(None);
            continue;
        }
        let path = Path::new(input);
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => DataError::Missing {
                path: input.clone(),
            },
            _ => DataError::Io {
                path: input.clone(),
                source: e,
            },
        })?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(DataError::NotRegular {
                path: input.clone(),
                kind: file_kind(&meta).to_string(),
            });
        }
        stems.push(display_stem(path));
        parents.push(fs::canonicalize(path).ok().and_then(|p| {
            p.parent()
                .and_then(|q| q.file_name())
                .map(|s| s.to_string_lossy().into_owned())
        }));
        if meta.is_dir() && path.join(super::study::MANIFEST).is_file()
            || meta.is_file()
                && path
                    .file_name()
                    .is_some_and(|n| n == super::study::MANIFEST)
            || meta.is_file() && extension(path).as_deref() == Some("zip")
        {
            return Err(DataError::IsStudy {
                path: super::printable(input),
            });
        }
        if meta.is_dir() {
            l.folder(path, input)?;
            continue;
        }
        match extension(path).as_deref() {
            Some("npy") => {
                l.npy_file(path, input)?;
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                if !beside.contains(&dir) {
                    beside.push(dir);
                }
            }
            Some("npz") => {
                let file = open(path, input)?;
                l.npz(BufReader::with_capacity(1 << 20, file), input)?;
            }
            Some(ext) => {
                return Err(DataError::Unsupported {
                    path: input.clone(),
                    reason: format!("the extension .{ext} is not .npy or .npz"),
                })
            }
            None => {
                return Err(DataError::Unsupported {
                    path: input.clone(),
                    reason: "a file without extension".into(),
                })
            }
        }
    }

    if l.networks.len() < 2 {
        return Err(too_few(&l.networks, inputs));
    }

    // Labels: explicit path > arrays/files named `labels` among the inputs > labels.npy beside.
    let mut chosen: Option<LabelArray> = None;
    if let Some(p) = labels {
        chosen = Some(l.labels_file(p)?);
    }
    if chosen.is_none() && l.labels.is_empty() {
        for dir in &beside {
            let cand = dir.join("labels.npy");
            if cand.is_file() {
                let shown = cand.display().to_string();
                l.npy_file(&cand, &shown)?;
                l.notes.push(format!("labels: read from {shown}"));
                break;
            }
        }
    }
    let others = std::mem::take(&mut l.labels);
    let mut others = others.into_iter();
    if chosen.is_none() {
        chosen = others.next();
    }
    if let Some(c) = &chosen {
        for o in others.filter(|o| o.what != c.what) {
            l.notes
                .push(format!("labels: using {}, ignoring {}", c.what, o.what));
        }
    }
    let n_images = l.networks[0].data.nrows();
    let labels = chosen.map(|c| c.into_labels(n_images)).transpose()?;

    let name = dataset_name(&stems, &parents);
    l.extras.look_beside(inputs);
    let mut d = Dataset {
        name,
        networks: l.networks,
        labels,
        notes: l.notes,
        ..Default::default()
    };
    l.extras.finish(&mut d);
    Ok(d)
}

/// Load an `.npz` archive held in memory (the embedded demo sets use this); `name` is used for
/// messages and as the dataset name.
pub fn load_npz_bytes(name: &str, bytes: &[u8]) -> Result<Dataset, DataError> {
    let opts = LoadOptions::default();
    let mut l = Loader::new(&opts);
    l.npz(Cursor::new(bytes), name)?;
    if l.networks.len() < 2 {
        return Err(too_few(&l.networks, &[name.to_string()]));
    }
    let n_images = l.networks[0].data.nrows();
    let labels = match l.labels.drain(..).next() {
        Some(c) => Some(c.into_labels(n_images)?),
        None => None,
    };
    let mut d = Dataset {
        name: name.strip_prefix("demo:").unwrap_or(name).to_string(),
        networks: l.networks,
        labels,
        notes: l.notes,
        ..Default::default()
    };
    l.extras.finish(&mut d);
    Ok(d)
}

/// One file already read into memory (a study cell's): how messages name it, its name inside
/// the study (the extension says `.npy` or `.npz`; a `.npy` is named by its stem) and its bytes.
pub(crate) struct FileBytes {
    pub shown: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A dataset from files read into memory: `.npz` archives and `.npy` files (a folder's are
/// given one by one, sorted), and optionally an explicit labels file (`.npy`, or `.npz` with
/// an array `labels`). Nothing is looked for beside them: a study names its side files.
pub(crate) fn load_bytes(
    inputs: &[FileBytes],
    labels: Option<&FileBytes>,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let mut l = Loader::new(opts);
    for f in inputs {
        let path = Path::new(&f.name);
        match extension(path).as_deref() {
            Some("npz") => l.npz(Cursor::new(&f.bytes[..]), &f.shown)?,
            Some("npy") => {
                let stem = path
                    .file_stem()
                    .map(|s| super::printable(&s.to_string_lossy()))
                    .unwrap_or_default();
                let size = f.bytes.len() as u64;
                l.npy_stream(stem, &mut Cursor::new(&f.bytes[..]), &f.shown, size)?
            }
            other => {
                return Err(DataError::Unsupported {
                    path: f.shown.clone(),
                    reason: match other {
                        Some(ext) => format!("the extension .{ext} is not .npy or .npz"),
                        None => "a file without extension".into(),
                    },
                })
            }
        }
    }
    let shown: Vec<String> = inputs.iter().map(|f| f.shown.clone()).collect();
    if l.networks.len() < 2 {
        return Err(too_few(&l.networks, &shown));
    }
    let mut chosen: Option<LabelArray> = None;
    if let Some(f) = labels {
        let before = l.labels.len();
        match extension(Path::new(&f.name)).as_deref() {
            Some("npy") => l.array(
                &mut Cursor::new(&f.bytes[..]),
                &f.shown,
                Some(f.bytes.len() as u64),
                Role::Labels,
                false,
            )?,
            Some("npz") => l.labels_npz(Cursor::new(&f.bytes[..]), &f.shown)?,
            _ => {
                return Err(DataError::Labels {
                    what: f.shown.clone(),
                    reason: "labels must be a .npy file or an .npz with an array named 'labels'"
                        .into(),
                })
            }
        }
        if l.labels.len() == before + 1 {
            chosen = l.labels.pop();
        }
    }
    let mut others = std::mem::take(&mut l.labels).into_iter();
    if chosen.is_none() {
        chosen = others.next();
    }
    if let Some(c) = &chosen {
        for o in others.filter(|o| o.what != c.what) {
            l.notes
                .push(format!("labels: using {}, ignoring {}", c.what, o.what));
        }
    }
    let n_images = l.networks[0].data.nrows();
    let labels = chosen.map(|c| c.into_labels(n_images)).transpose()?;
    let mut d = Dataset {
        networks: l.networks,
        labels,
        notes: l.notes,
        ..Default::default()
    };
    l.extras.finish(&mut d);
    Ok(d)
}

fn too_few(networks: &[Network], inputs: &[String]) -> DataError {
    let detail = match networks {
        [] if inputs.is_empty() => "no inputs were given".to_string(),
        [] => format!(
            "{} {} no network arrays",
            inputs.join(", "),
            if inputs.len() == 1 { "holds" } else { "hold" }
        ),
        _ => format!(
            "{} (give several .npy files, an .npz with several arrays, or a folder)",
            networks
                .iter()
                .map(|n| n.source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    DataError::TooFew {
        found: networks.len(),
        detail,
    }
}

/// Labels as read, before they are checked against the networks.
struct LabelArray {
    what: String,
    shape: Vec<usize>,
    values: Values,
}

impl LabelArray {
    fn into_labels(self, n_images: usize) -> Result<Vec<i64>, DataError> {
        let err = |reason: String| DataError::Labels {
            what: self.what.clone(),
            reason,
        };
        let v: Vec<i64> = match self.values {
            Values::I64(v) => v,
            Values::F64(v) => {
                let mut out = Vec::with_capacity(v.len());
                for (i, &x) in v.iter().enumerate() {
                    if !(x.is_finite() && x.fract() == 0.0 && x.abs() <= 9.007_199_254_740_992e15) {
                        return Err(err(format!(
                            "the label of image {i} is {x}, not an integer class label"
                        )));
                    }
                    out.push(x as i64);
                }
                out
            }
            Values::Str(_) => {
                return Err(err("holds strings; class labels must be integers".into()));
            }
        };
        if v.len() != n_images {
            return Err(err(format!(
                "{} labels (shape {}), but the networks have {} images; give one label per image",
                v.len(),
                npy::fmt_shape(&self.shape),
                n_images
            )));
        }
        Ok(v)
    }
}

enum Role {
    Network(String),
    Labels,
}

struct Loader<'o> {
    opts: &'o LoadOptions,
    /// float64 bytes taken so far.
    used: u64,
    networks: Vec<Network>,
    labels: Vec<LabelArray>,
    notes: Vec<String>,
    extras: Extras,
}

impl<'o> Loader<'o> {
    fn new(opts: &'o LoadOptions) -> Self {
        Self {
            opts,
            used: 0,
            networks: Vec::new(),
            labels: Vec::new(),
            notes: Vec::new(),
            extras: Extras::default(),
        }
    }

    fn npy_file(&mut self, path: &Path, shown: &str) -> Result<(), DataError> {
        let (file, size) = open_sized(path, shown)?;
        let stem = path
            .file_stem()
            .map(|s| super::printable(&s.to_string_lossy()))
            .unwrap_or_default();
        let mut r = BufReader::with_capacity(1 << 20, file);
        self.npy_stream(stem, &mut r, shown, size)
    }

    /// One `.npy` stream named `stem`: a network, the labels or an extra.
    fn npy_stream(
        &mut self,
        stem: String,
        r: &mut impl Read,
        shown: &str,
        size: u64,
    ) -> Result<(), DataError> {
        let mut r = r;
        if is_extra(&stem) {
            self.extras.array(&stem, &mut r, shown, Some(size));
            return Ok(());
        }
        let role = if stem == "labels" {
            Role::Labels
        } else {
            Role::Network(stem)
        };
        self.array(&mut r, shown, Some(size), role, false)
    }

    fn folder(&mut self, path: &Path, shown: &str) -> Result<(), DataError> {
        let io_err = |e| DataError::Io {
            path: shown.to_string(),
            source: e,
        };
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in fs::read_dir(path).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let p = entry.path();
            if extension(&p).as_deref() != Some("npy") {
                continue;
            }
            match fs::metadata(&p) {
                Ok(m) if m.is_file() => {
                    files.push((entry.file_name().to_string_lossy().into_owned(), p))
                }
                Ok(m) => self.notes.push(format!(
                    "{}: skipped, {} and not a regular file",
                    super::printable(&p.display().to_string()),
                    file_kind(&m)
                )),
                Err(e) => self.notes.push(format!(
                    "{}: skipped ({e})",
                    super::printable(&p.display().to_string())
                )),
            }
        }
        if files.is_empty() {
            return Err(DataError::Unsupported {
                path: shown.to_string(),
                reason: "the folder holds no .npy files".into(),
            });
        }
        files.sort();
        for (_, p) in files {
            let s = p.display().to_string();
            self.npy_file(&p, &s)?;
        }
        Ok(())
    }

    /// Every `.npy` member of an archive, in archive order.
    fn npz<R: Read + Seek>(&mut self, reader: R, shown: &str) -> Result<(), DataError> {
        let mut zip = open_zip(reader, shown)?;
        for i in 0..zip.len() {
            let mut f = member(&mut zip, i, shown)?;
            if f.is_dir() {
                continue;
            }
            let fname = super::printable(f.name());
            let Some(array) = fname.strip_suffix(".npy") else {
                self.notes
                    .push(format!("{shown}: ignored '{fname}' (not a .npy member)"));
                continue;
            };
            let what = format!("{shown}:{array}");
            let size = f.size();
            if is_extra(array) {
                self.extras.array(array, &mut f, &what, Some(size));
                continue;
            }
            let role = if array == "labels" {
                Role::Labels
            } else {
                Role::Network(array.to_string())
            };
            self.array(&mut f, &what, Some(size), role, true)?;
        }
        Ok(())
    }

    /// An explicit labels file: `.npy`, or `.npz` with an array `labels` (or a single array).
    fn labels_file(&mut self, path: &Path) -> Result<LabelArray, DataError> {
        let shown = path.display().to_string();
        let before = self.labels.len();
        match extension(path).as_deref() {
            Some("npy") => {
                let (file, size) = open_sized(path, &shown)?;
                self.array(
                    &mut BufReader::new(file),
                    &shown,
                    Some(size),
                    Role::Labels,
                    false,
                )?;
            }
            Some("npz") => {
                let file = open(path, &shown)?;
                self.labels_npz(BufReader::new(file), &shown)?;
            }
            _ => {
                if !path.exists() {
                    return Err(DataError::Missing { path: shown });
                }
                return Err(DataError::Labels {
                    what: shown,
                    reason: "labels must be a .npy file or an .npz with an array named 'labels'"
                        .into(),
                });
            }
        }
        match self.labels.pop() {
            Some(l) if self.labels.len() == before => Ok(l),
            _ => Err(DataError::Labels {
                what: shown,
                reason: "no labels found".into(),
            }),
        }
    }

    /// The labels of an `.npz`: its array `labels`, or its only array.
    fn labels_npz<R: Read + Seek>(&mut self, reader: R, shown: &str) -> Result<(), DataError> {
        let shown = shown.to_string();
        let mut zip = open_zip(reader, &shown)?;
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.strip_suffix(".npy"))
            .map(str::to_string)
            .collect();
        let pick = if names.iter().any(|n| n == "labels") {
            "labels".to_string()
        } else if let [only] = names.as_slice() {
            only.clone()
        } else {
            return Err(DataError::Labels {
                what: shown,
                reason: format!(
                    "no array named 'labels' (it holds: {})",
                    if names.is_empty() {
                        "nothing".into()
                    } else {
                        names.join(", ")
                    }
                ),
            });
        };
        let what = format!("{shown}:{pick}");
        let mut f = zip
            .by_name(&format!("{pick}.npy"))
            .map_err(|e| DataError::Corrupt {
                what: what.clone(),
                reason: format!("damaged archive member: {e}"),
            })?;
        let size = f.size();
        self.array(&mut f, &what, Some(size), Role::Labels, true)?;
        Ok(())
    }

    /// One `.npy` stream: header checks, size checks, data, NaN/Inf. `member`: an archive
    /// member, read to its end so the zip checksum is verified.
    fn array(
        &mut self,
        r: &mut impl Read,
        what: &str,
        available: Option<u64>,
        role: Role,
        member: bool,
    ) -> Result<(), DataError> {
        let h = npy::read_header(r, what)?;
        match role {
            Role::Labels => {
                let count = self.check_labels_header(&h, what)?;
                check_available(&h, what, available)?;
                let values = read_values(r, &h, count, Want::Native, what)?;
                if member {
                    drain(r, what)?;
                }
                let values = match values {
                    Values::F64(v) if h.fortran => Values::F64(reorder(v, &h, what)?),
                    Values::I64(v) if h.fortran => Values::I64(reorder(v, &h, what)?),
                    other => other,
                };
                self.labels.push(LabelArray {
                    what: what.to_string(),
                    shape: h.shape,
                    values,
                });
            }
            Role::Network(name) => {
                let (n_images, n_units) = self.check_network_header(&h, what)?;
                check_available(&h, what, available)?;
                let count = n_images * n_units;
                if !h.fortran {
                    let units = self.kept_units(n_units);
                    let (data, non_finite) =
                        read_rows(r, &h, n_images, n_units, units.as_deref(), what)?;
                    if member {
                        // The zip checksum is verified before the values are complained about.
                        drain(r, what)?;
                    }
                    if let Some(e) = non_finite {
                        return Err(e);
                    }
                    self.push_network(name, what, &h, data, units);
                    return Ok(());
                }
                let values = read_values(r, &h, count, Want::F64, what)?;
                if member {
                    // Verify the zip checksum before trusting (or complaining about) the values.
                    drain(r, what)?;
                }
                let Values::F64(mut data) = values else {
                    return Err(DataError::Corrupt {
                        what: what.to_string(),
                        reason: "internal error: the data did not decode as numbers".into(),
                    });
                };
                if h.fortran {
                    data = reorder(data, &h, what)?;
                }
                check_finite(&data, n_units, what)?;
                let data = Array2::from_shape_vec((n_images, n_units), data).map_err(|e| {
                    DataError::Corrupt {
                        what: what.to_string(),
                        reason: format!("internal error: {e}"),
                    }
                })?;
                let units = self.kept_units(n_units);
                let data = match &units {
                    Some(cols) => data.select(ndarray::Axis(1), cols),
                    None => data,
                };
                let data = if exact_in_f32(&h) {
                    // Decoded through f64 from values f32 holds exactly: no rounding.
                    Activations::F32(data.mapv(|v| v as f32))
                } else {
                    Activations::F64(data)
                };
                self.push_network(name, what, &h, data, units);
            }
        }
        Ok(())
    }

    /// The units [`LoadOptions::keep_units`] keeps of the next network (None: all); indices
    /// beyond the stored count are ignored.
    fn kept_units(&self, n_units: usize) -> Option<Vec<usize>> {
        let pick = self.opts.keep_units.as_ref()?;
        let mut cols = (pick.0)(self.networks.len(), n_units)?;
        cols.retain(|&c| c < n_units);
        (cols.len() < n_units).then_some(cols)
    }

    fn push_network(
        &mut self,
        name: String,
        what: &str,
        h: &Header,
        data: Activations,
        units: Option<Vec<usize>>,
    ) {
        let mut unique = name.clone();
        let mut k = 2;
        while self.networks.iter().any(|n| n.name == unique) {
            unique = format!("{name}_{k}");
            k += 1;
        }
        if unique != name {
            self.notes.push(format!(
                "{what}: renamed to '{unique}' because another network is already called '{name}'"
            ));
        }
        if h.shape.len() > 2 {
            self.notes.push(format!(
                "{unique}: flattened {} to {}",
                npy::fmt_shape(&h.shape),
                npy::fmt_shape(&[data.nrows(), h.shape[1..].iter().product()])
            ));
        }
        if h.descr.kind != Kind::Float {
            let to = if exact_in_f32(h) {
                "float32"
            } else {
                "float64"
            };
            self.notes
                .push(format!("{unique}: converted {} to {to}", h.descr_text));
        }
        self.networks.push(Network {
            name: unique,
            data,
            source: what.to_string(),
            dtype: h.descr_text.clone(),
            original_shape: h.shape.clone(),
            units,
        });
    }

    fn check_network_header(
        &mut self,
        h: &Header,
        what: &str,
    ) -> Result<(usize, usize), DataError> {
        let shape_err = |reason: String| DataError::Shape {
            what: what.to_string(),
            reason,
        };
        if !h.descr.is_numeric() {
            return Err(DataError::Dtype {
                what: what.to_string(),
                dtype: h.descr_text.clone(),
                reason: "strings, not numbers".into(),
            });
        }
        let n_images =
            match h.shape.as_slice() {
                [] => return Err(shape_err(
                    "is a 0-d scalar; expected a 2-D array (images, units) with one row per image"
                        .into(),
                )),
                [n] => {
                    return Err(shape_err(format!(
                    "is 1-D with shape ({n},); expected a 2-D array (images, units) with one row \
                     per image (an array of class labels must be called 'labels')"
                )))
                }
                [n, ..] => *n,
            };
        let too_large = |needed: u64, total: u64| DataError::TooLarge {
            what: what.to_string(),
            needed,
            total,
            limit: self.opts.max_bytes,
        };
        // Empty before too large: (0, 10¹³, 10¹³) is "0 images", not an overflow.
        if n_images == 0 {
            return Err(shape_err(format!(
                "is empty: 0 images (shape {})",
                npy::fmt_shape(&h.shape)
            )));
        }
        if h.shape[1..].contains(&0) {
            return Err(shape_err(format!(
                "is empty: 0 units per image (shape {})",
                npy::fmt_shape(&h.shape)
            )));
        }
        let Some(n_units) = h.shape[1..]
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
        else {
            return Err(too_large(u64::MAX, u64::MAX));
        };
        if n_units == 0 {
            return Err(shape_err(format!(
                "is empty: 0 units per image (shape {})",
                npy::fmt_shape(&h.shape)
            )));
        }
        if let Some(first) = self.networks.first() {
            if first.data.nrows() != n_images {
                return Err(DataError::Mismatch {
                    first: first.source.clone(),
                    first_n: first.data.nrows(),
                    other: what.to_string(),
                    other_n: n_images,
                });
            }
        }
        // Only the kept units stay (the whole array passes through while it is read).
        let kept = self.kept_units(n_units).map_or(n_units, |c| c.len());
        let needed = (n_images as u64)
            .checked_mul(kept as u64)
            .and_then(|c| c.checked_mul(8))
            .filter(|_| n_images.checked_mul(n_units).is_some());
        let Some(needed) = needed else {
            return Err(too_large(u64::MAX, u64::MAX));
        };
        let total = self.used.saturating_add(needed);
        if total > self.opts.max_bytes {
            return Err(too_large(needed, total));
        }
        self.used = total;
        if let Some(tell) = self
            .opts
            .announce
            .filter(|_| needed >= self.opts.announce_bytes)
        {
            tell(&format!(
                "{what}: shape {} will take {} as float64 ({} of the {} limit so far; \
                 --max-memory lowers it)",
                npy::fmt_shape(&h.shape),
                fmt_bytes(needed),
                fmt_bytes(total),
                fmt_bytes(self.opts.max_bytes)
            ));
        }
        Ok((n_images, n_units))
    }

    fn check_labels_header(&mut self, h: &Header, what: &str) -> Result<usize, DataError> {
        let err = |reason: String| DataError::Labels {
            what: what.to_string(),
            reason,
        };
        if h.descr.kind == Kind::Unicode {
            return Err(err(format!(
                "holds strings ({}); class labels must be integers",
                h.descr_text
            )));
        }
        let ok = match h.shape.as_slice() {
            [_] => true,
            [a, b] => *a == 1 || *b == 1,
            _ => false,
        };
        if !ok {
            return Err(err(format!(
                "has shape {}; expected a 1-D array with one integer label per image",
                npy::fmt_shape(&h.shape)
            )));
        }
        let count = h
            .count()
            .ok_or_else(|| err("the shape is too large".into()))?;
        let needed = (count as u64).saturating_mul(8);
        let total = self.used.saturating_add(needed);
        if total > self.opts.max_bytes {
            return Err(DataError::TooLarge {
                what: what.to_string(),
                needed,
                total,
                limit: self.opts.max_bytes,
            });
        }
        self.used = total;
        Ok(count)
    }
}

/// Rows read in blocks of about this many values: the whole array never exists as f64.
const READ_BLOCK_VALUES: usize = 1 << 20;

/// A C-order network array, decoded a block of rows at a time into its stored precision,
/// keeping `cols` (all when None). Every value is checked to be finite, kept or not: the
/// second value is the error for the first that is not (returned once the stream is drained).
fn read_rows(
    r: &mut impl Read,
    h: &Header,
    n_images: usize,
    n_units: usize,
    cols: Option<&[usize]>,
    what: &str,
) -> Result<(Activations, Option<DataError>), DataError> {
    let width = cols.map_or(n_units, <[usize]>::len);
    let narrow = exact_in_f32(h);
    let (mut out32, mut out64) = (Vec::new(), Vec::new());
    if narrow {
        out32.reserve_exact(n_images * width);
    } else {
        out64.reserve_exact(n_images * width);
    }
    let rows_per_block = (READ_BLOCK_VALUES / n_units.max(1)).max(1);
    let (mut bad, mut first_bad) = (0usize, None);
    let mut row = 0;
    while row < n_images {
        let rows = rows_per_block.min(n_images - row);
        let Values::F64(block) = read_values(r, h, rows * n_units, Want::F64, what)? else {
            return Err(DataError::Corrupt {
                what: what.to_string(),
                reason: "internal error: the data did not decode as numbers".into(),
            });
        };
        for (k, x) in block.iter().enumerate() {
            if !x.is_finite() {
                bad += 1;
                first_bad.get_or_insert(row * n_units + k);
            }
        }
        for values in block.chunks_exact(n_units.max(1)) {
            let kept = |j: &usize| values[*j];
            match (cols, narrow) {
                // Exact: these dtypes hold only values float32 represents.
                (Some(c), true) => out32.extend(c.iter().map(|j| kept(j) as f32)),
                (None, true) => out32.extend(values.iter().map(|&v| v as f32)),
                (Some(c), false) => out64.extend(c.iter().map(kept)),
                (None, false) => out64.extend_from_slice(values),
            }
        }
        row += rows;
    }
    let non_finite = first_bad.map(|k| DataError::NonFinite {
        what: what.to_string(),
        count: bad,
        image: k / n_units.max(1),
        unit: k % n_units.max(1),
    });
    let shape_err = |e: ndarray::ShapeError| DataError::Corrupt {
        what: what.to_string(),
        reason: format!("internal error: {e}"),
    };
    let data = if narrow {
        Activations::F32(Array2::from_shape_vec((n_images, width), out32).map_err(shape_err)?)
    } else {
        Activations::F64(Array2::from_shape_vec((n_images, width), out64).map_err(shape_err)?)
    };
    Ok((data, non_finite))
}

/// Whether every value of this dtype is a float32 (float16/32, bools, 8- and 16-bit integers).
fn exact_in_f32(h: &Header) -> bool {
    match h.descr.kind {
        Kind::Float => h.descr.size <= 4,
        Kind::Bool => true,
        Kind::Int | Kind::UInt => h.descr.size <= 2,
        Kind::Unicode => false,
    }
}

fn check_finite(data: &[f64], n_units: usize, what: &str) -> Result<(), DataError> {
    let mut count = 0usize;
    let mut first = None;
    for (k, x) in data.iter().enumerate() {
        if !x.is_finite() {
            count += 1;
            first.get_or_insert(k);
        }
    }
    match first {
        None => Ok(()),
        Some(k) => Err(DataError::NonFinite {
            what: what.to_string(),
            count,
            image: k / n_units.max(1),
            unit: k % n_units.max(1),
        }),
    }
}
