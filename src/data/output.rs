//! Every file this crate writes goes through here: the path is checked first (a regular file or
//! nothing, in an existing folder, not one of the inputs; a symbolic link is written through to
//! its target), then the content goes to a temp file beside the target that is synced, made
//! 0644 and renamed over it. Temp names carry the process id so that a later run removes what a
//! killed one left behind.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::error::DataError;
use super::files::file_kind;
use super::printable::printable;

/// Prefix of every temp file and folder this crate creates.
pub const TEMP_PREFIX: &str = ".srmscope-";

fn refuse(path: &Path, reason: String) -> DataError {
    DataError::Write {
        path: printable(&path.display().to_string()),
        source: io::Error::other(reason),
    }
}

/// The file that writing `path` will actually replace: `path` itself, or the target of the
/// symbolic link at `path`. Refused: a missing folder, and anything at the path (or link
/// target) that is not a regular file: a device, a FIFO, a socket, a folder.
pub fn output_target(path: &Path) -> Result<PathBuf, DataError> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|_| {
            refuse(
                path,
                "it is a symbolic link to a missing file or folder; give the target itself".into(),
            )
        })?,
        _ => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(refuse(
            path,
            format!("the folder {} does not exist", dir.display()),
        ));
    }
    if let Ok(m) = fs::metadata(&target) {
        if !m.is_file() {
            return Err(refuse(
                path,
                format!(
                    "it is {}; srmscope only writes regular files",
                    file_kind(&m)
                ),
            ));
        }
    }
    Ok(target)
}

/// Whether two paths name the same existing file (after links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// [`output_target`], also refusing an output that is one of `inputs` (it would destroy it).
pub fn check_output<P: AsRef<Path>>(path: &Path, inputs: &[P]) -> Result<PathBuf, DataError> {
    let target = output_target(path)?;
    if let Some(input) = inputs.iter().find(|i| same_file(i.as_ref(), &target)) {
        return Err(refuse(
            path,
            format!(
                "it is the input {}; writing would destroy it, so choose another name",
                input.as_ref().display()
            ),
        ));
    }
    Ok(target)
}

/// Whether process `pid` is still running (Linux: /proc; elsewhere assume it is).
fn alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    proc_root.join(pid.to_string()).exists()
}

/// Removes temp files and folders in `dir` left by srmscope processes that no longer run (a
/// KILL cannot be caught). Best effort: anything that cannot be removed stays.
pub fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(p, _)| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || alive(pid) {
            continue;
        }
        let p = entry.path();
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
            Ok(t) if t.is_file() => fs::remove_file(&p),
            _ => Ok(()),
        };
    }
}

/// A temp file beside the target that becomes the target on [`AtomicFile::commit`] and is
/// removed if dropped uncommitted (error, cancel, panic).
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    shown: String,
}

impl AtomicFile {
    /// Checks `path` with [`output_target`] and creates the temp file in the target's folder.
    pub fn create(path: &Path) -> Result<Self, DataError> {
        let target = output_target(path)?;
        let shown = printable(&path.display().to_string());
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        sweep_stale_temps(&dir);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|source| DataError::Write {
                path: shown.clone(),
                source,
            })?;
        Ok(Self { tmp, target, shown })
    }

    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// The temp file's path (for messages about it).
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Syncs, makes the file 0644 and renames it over the target; returns its size. Refused
    /// after SIGINT/SIGTERM, so an interrupted run publishes nothing.
    pub fn commit(self) -> Result<u64, DataError> {
        let werr = |source: io::Error| DataError::Write {
            path: self.shown.clone(),
            source,
        };
        self.tmp.as_file().sync_all().map_err(werr)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // NamedTempFile is 0600; a result file should be readable like any other.
            self.tmp
                .as_file()
                .set_permissions(fs::Permissions::from_mode(0o644))
                .map_err(werr)?;
        }
        let size = self.tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
        if crate::interrupt::interrupted() {
            return Err(DataError::Interrupted { path: self.shown });
        }
        // The target may have become something else since the check.
        output_target(&self.target)?;
        let shown = self.shown.clone();
        self.tmp
            .persist(&self.target)
            .map_err(|e| DataError::Write {
                path: shown,
                source: e.error,
            })?;
        Ok(size)
    }
}

/// Creates `path` atomically with the bytes `fill` writes. On any error nothing is left behind.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<u64, DataError> {
    let mut f = AtomicFile::create(path)?;
    fill(f.file()).map_err(|source| DataError::Write {
        path: f.shown.clone(),
        source,
    })?;
    f.commit()
}
