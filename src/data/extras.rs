//! What the loader collects besides networks and labels: input images and class names. Bad ones
//! never stop the activations from opening; they become one note naming the file.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::class_names::{read_class_names, read_class_names_file};
use super::dataset::Dataset;
use super::images::{read_images, read_images_file, ImageSet};

/// Array (npz member or `.npy` stem) names that hold extras, not networks.
pub(crate) fn is_extra(name: &str) -> bool {
    name == "images" || name == "class_names"
}

#[derive(Default)]
pub(crate) struct Extras {
    images: Option<ImageSet>,
    class_names: Option<Vec<String>>,
    notes: Vec<String>,
}

impl Extras {
    /// An npz member or `.npy` stream named `images` or `class_names`.
    pub fn array(&mut self, name: &str, r: &mut impl Read, what: &str, size: Option<u64>) {
        if name == "images" {
            match read_images(r, what, size, true) {
                Ok((set, note)) => {
                    self.notes.extend(note);
                    self.images.get_or_insert(set);
                }
                Err(e) => self.notes.push(format!("{e}; opened without images")),
            }
        } else {
            match read_class_names(r, what, size, true) {
                Ok(names) => {
                    self.class_names.get_or_insert(names);
                }
                Err(e) => self.notes.push(format!("{e}; class numbers shown instead")),
            }
        }
    }

    /// `images.npy` / `class_names.txt` beside the file inputs, when none came inside them.
    pub fn look_beside(&mut self, inputs: &[String]) {
        let dirs: Vec<PathBuf> = inputs
            .iter()
            .filter(|i| !i.starts_with("demo:"))
            .map(Path::new)
            .filter_map(|p| {
                if p.is_dir() {
                    Some(p.to_path_buf())
                } else {
                    p.parent().map(|d| match d.as_os_str().is_empty() {
                        true => PathBuf::from("."),
                        false => d.to_path_buf(),
                    })
                }
            })
            .collect();
        for dir in dirs {
            if self.images.is_none() {
                let p = dir.join("images.npy");
                // Folder inputs already read their images.npy as an array.
                if p.is_file() && !inputs.iter().any(|i| Path::new(i) == dir && dir.is_dir()) {
                    self.images_file(&p);
                }
            }
            if self.class_names.is_none() {
                let p = dir.join("class_names.txt");
                if p.is_file() {
                    self.class_names_file(&p);
                }
            }
        }
    }

    pub fn images_file(&mut self, path: &Path) {
        match read_images_file(path) {
            Ok((set, note)) => {
                self.notes.extend(note);
                self.notes
                    .push(format!("images: read from {}", path.display()));
                self.images = Some(set);
            }
            Err(e) => self.notes.push(format!("{e}; opened without images")),
        }
    }

    pub fn class_names_file(&mut self, path: &Path) {
        match read_class_names_file(path) {
            Ok(names) => self.class_names = Some(names),
            Err(e) => self.notes.push(format!("{e}; class numbers shown instead")),
        }
    }

    /// Check the images against the activations and move everything into `d`.
    pub fn finish(self, d: &mut Dataset) {
        d.notes.extend(self.notes);
        if let Some(set) = self.images {
            match set.check_count(d.n_images()) {
                Ok(()) => d.images = Some(std::sync::Arc::new(set)),
                Err(e) => d.notes.push(e.to_string()),
            }
        }
        if self.class_names.is_some() {
            d.class_names = self.class_names;
        }
    }
}

/// Attach an explicit `--images` / `--class-names` file to a loaded dataset (these win over
/// anything found inside or beside the inputs).
pub fn attach(d: &mut Dataset, images: Option<&Path>, class_names: Option<&Path>) {
    let mut x = Extras::default();
    if let Some(p) = images {
        d.images = None;
        x.images_file(p);
    }
    if let Some(p) = class_names {
        x.class_names_file(p);
    }
    x.finish(d);
}
