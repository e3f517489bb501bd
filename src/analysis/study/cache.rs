//! Finished cells on disk, keyed by content: the SHA-256 of the cell's files (and of the last
//! checkpoint's, which `dev_vs_final` reads), the settings and this build. An unchanged study
//! re-runs from here; a changed file or setting misses and refits only the cells it touches.
//!
//! Layout: `DIR/cells/<key>.json` (the cell's numbers) and `DIR/cells/<key>.view.json` (its RSMs
//! and trajectories, read only by the viewer), `DIR/models/<fit key>.npz` (the fitted model,
//! keyed by the settings the fit depends on, so that changing only the smoothing, bootstrap or
//! k-NN measures again without refitting), and `DIR/digests.json`, which remembers file
//! digests by (path, size, modification time, inode) so unchanged files are not read again.

use super::{CellResult, CellView, RSM_BLOCKS};
use crate::analysis::Settings;
use crate::data::study::{hex, sha256_file, DigestMemo, Study};
use crate::data::{write_atomic, DataError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bumped whenever a cached cell's meaning changes (2: cells record their split, and
/// `--center brainiak` RSMs use uncentred native data; 3: digests name files alike in folders
/// and zips, and `dev_vs_final` pairs images by identity).
const FORMAT: u32 = 3;

#[derive(Clone, Serialize, Deserialize, PartialEq)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
    sha256: String,
}

/// A cache folder.
pub struct Cache {
    dir: PathBuf,
    memo: Mutex<BTreeMap<String, Stamp>>,
    memo_dirty: Mutex<bool>,
}

/// `$XDG_CACHE_HOME/srmscope/studies`, else `~/.cache/srmscope/studies`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("srmscope").join("studies"))
}

fn stamp_of(path: &Path) -> Option<(u64, i128, u64)> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m.modified().ok()?;
    let ns = match mtime.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.len(), ns, ino))
}

impl Cache {
    /// Opens (and creates) a cache folder.
    pub fn open(dir: &Path) -> Result<Cache, DataError> {
        let cells = dir.join("cells");
        std::fs::create_dir_all(&cells).map_err(|e| DataError::Write {
            path: crate::data::printable(&cells.display().to_string()),
            source: e,
        })?;
        let memo = read_memo(&dir.join("digests.json"));
        Ok(Cache {
            dir: dir.to_path_buf(),
            memo: Mutex::new(memo),
            memo_dirty: Mutex::new(false),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a cell's result: its content, the final checkpoint's content, the settings
    /// and this build.
    pub fn key(settings: &Settings, cell: &str, final_cell: &str) -> String {
        let id = serde_json::json!({
            "format": FORMAT,
            "srmscope": env!("CARGO_PKG_VERSION"),
            "linalg": crate::linalg::BACKEND,
            "rsm_blocks": RSM_BLOCKS,
            "settings": settings,
            "cell": cell,
            "final": final_cell,
        });
        hex(&Sha256::digest(id.to_string().as_bytes()))
    }

    /// The key of a cell's fitted model: its content and the settings the fit depends on.
    pub fn fit_key(settings: &Settings, cell: &str) -> String {
        let id = serde_json::json!({
            "format": FORMAT,
            "srmscope": env!("CARGO_PKG_VERSION"),
            "linalg": crate::linalg::BACKEND,
            "fit": settings.fit_part(),
            "cell": cell,
        });
        hex(&Sha256::digest(id.to_string().as_bytes()))
    }

    /// A cached fit: the model and the seconds the fit took.
    pub fn get_model(&self, key: &str) -> Option<(crate::align::Model, f64)> {
        let dir = self.dir.join("models");
        let secs: f64 = read_entry(&dir.join(format!("{key}.json")))
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["fit_seconds"].as_f64())?;
        let m = crate::analysis::model_file::load(&dir.join(format!("{key}.npz"))).ok()?;
        Some((m.model, secs))
    }

    pub fn put_model(
        &self,
        key: &str,
        model: &crate::align::Model,
        settings: &Settings,
        fit_seconds: f64,
    ) -> Result<(), DataError> {
        let dir = self.dir.join("models");
        std::fs::create_dir_all(&dir).map_err(|e| DataError::Write {
            path: crate::data::printable(&dir.display().to_string()),
            source: e,
        })?;
        crate::analysis::model_file::save(&dir.join(format!("{key}.npz")), model, settings)
            .map_err(|e| DataError::Corrupt {
                what: format!("study cache {}", self.shown()),
                reason: e.to_string(),
            })?;
        let j = serde_json::json!({ "fit_seconds": fit_seconds }).to_string();
        write_atomic(&dir.join(format!("{key}.json")), |f| {
            f.write_all(j.as_bytes())
        })?;
        Ok(())
    }

    /// Digest of cell `i`'s files, through the memo.
    pub fn cell_digest(&self, study: &Study, i: usize) -> Result<String, DataError> {
        study.cell_digest(i, &mut MemoRef(self))
    }

    fn path(&self, key: &str, view: bool) -> PathBuf {
        let name = if view {
            format!("{key}.view.json")
        } else {
            format!("{key}.json")
        };
        self.dir.join("cells").join(name)
    }

    /// The cache folder as messages name it.
    pub fn shown(&self) -> String {
        crate::data::printable(&self.dir.display().to_string())
    }

    /// A cached result, or `None`: the cache is untrusted, so a missing, unreadable, oversized
    /// or inconsistent entry is simply a miss.
    pub fn get(&self, key: &str) -> Option<CellResult> {
        let b = read_entry(&self.path(key, false))?;
        let r: CellResult = serde_json::from_slice(&b).ok()?;
        let sane = !r.networks.is_empty()
            && r.n_images > 0
            && r.n_train + r.n_test <= r.n_images
            && r.n_test > 0;
        sane.then_some(r)
    }

    pub fn get_view(&self, key: &str) -> Option<CellView> {
        let b = read_entry(&self.path(key, true))?;
        serde_json::from_slice(&b).ok()
    }

    pub fn has_view(&self, key: &str) -> bool {
        self.path(key, true).is_file()
    }

    /// Stores a cell; the view first, so a result never points at a missing view.
    pub fn put(&self, key: &str, result: &CellResult, view: &CellView) -> Result<(), DataError> {
        let v = serde_json::to_vec(view).map_err(|e| DataError::Corrupt {
            what: format!("study cache {}", self.shown()),
            reason: e.to_string(),
        })?;
        write_atomic(&self.path(key, true), |f| f.write_all(&v))?;
        let r = serde_json::to_vec(result).map_err(|e| DataError::Corrupt {
            what: format!("study cache {}", self.shown()),
            reason: e.to_string(),
        })?;
        write_atomic(&self.path(key, false), |f| f.write_all(&r))?;
        Ok(())
    }

    /// Writes the digest memo if it changed, merged with what other processes (concurrent
    /// shards) wrote meanwhile, under an exclusive lock: no process drops another's entries.
    pub fn save_memo(&self) -> Result<(), DataError> {
        let dirty = self.memo_dirty.lock().map(|d| *d).unwrap_or(false);
        if !dirty {
            return Ok(());
        }
        let path = self.dir.join("digests.json");
        let _lock = MemoLock::take(&self.dir.join("digests.lock"));
        let mut merged = read_memo(&path);
        match self.memo.lock() {
            Ok(m) => merged.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Err(_) => return Ok(()),
        }
        let text = serde_json::to_vec(&merged).unwrap_or_default();
        write_atomic(&path, |f| f.write_all(&text))?;
        if let Ok(mut d) = self.memo_dirty.lock() {
            *d = false;
        }
        Ok(())
    }
}

/// The most a cache entry may take when read back (views carry 256² RSMs and trajectories).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// A cache file's bytes, or `None` when it is missing, not a regular file or too large.
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let m = std::fs::metadata(path).ok()?;
    if !m.is_file() || m.len() > MAX_ENTRY_BYTES {
        return None;
    }
    std::fs::read(path).ok()
}

fn read_memo(path: &Path) -> BTreeMap<String, Stamp> {
    read_entry(path)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// An exclusive advisory lock on a file, released on drop (none where it cannot be taken:
/// the memo is only an optimisation).
struct MemoLock(Option<std::fs::File>);

impl MemoLock {
    fn take(path: &Path) -> MemoLock {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .ok();
        #[cfg(unix)]
        if let Some(f) = &f {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a descriptor this struct owns for its whole life.
            unsafe {
                libc::flock(f.as_raw_fd(), libc::LOCK_EX);
            }
        }
        MemoLock(f)
    }
}

impl Drop for MemoLock {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(f) = &self.0 {
            use std::os::unix::io::AsRawFd;
            // SAFETY: as in `take`.
            unsafe {
                libc::flock(f.as_raw_fd(), libc::LOCK_UN);
            }
        }
    }
}

struct MemoRef<'a>(&'a Cache);

impl DigestMemo for MemoRef<'_> {
    fn file_digest(&mut self, path: &Path) -> Result<[u8; 32], DataError> {
        let key = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        let now = stamp_of(path);
        if let (Some((len, mtime_ns, ino)), Ok(m)) = (now, self.0.memo.lock()) {
            if let Some(s) = m.get(&key) {
                if s.len == len && s.mtime_ns == mtime_ns && s.ino == ino {
                    if let Some(d) = unhex(&s.sha256) {
                        return Ok(d);
                    }
                }
            }
        }
        let d = sha256_file(path)?;
        // A file changed while hashed is not remembered (its stamp would lie).
        if let Some((len, mtime_ns, ino)) = now.filter(|n| stamp_of(path) == Some(*n)) {
            if let Ok(mut m) = self.0.memo.lock() {
                m.insert(
                    key,
                    Stamp {
                        len,
                        mtime_ns,
                        ino,
                        sha256: hex(&d),
                    },
                );
                if let Ok(mut dirty) = self.0.memo_dirty.lock() {
                    *dirty = true;
                }
            }
        }
        Ok(d)
    }
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
