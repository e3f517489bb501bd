//! The Study view: a study's cells (arch, layer, checkpoint) filling in live as the background
//! job fits them, a metric grid per arch, its development over checkpoints, a by-layer summary
//! and the RSM trio of the selected cell, whose trajectories play in the 3D view.
//!
//! | room | file |
//! |---|---|
//! | what the view shows (no egui): cells, results, selection, grid geometry, key moves | `mod.rs` |
//! | pure painters: heatmap grid, colour scales and legends, plots, RSM images | `plots.rs` |
//! | the panel: header and columns (`mod.rs`), one file per section: grids, development, by layer, RSM trio | `panel/` |
//! | the sections as PNG files without a display (`study --figures`) | `figures.rs` |
//!
//! The job lives in `worker/tasks.rs` (`Worker::study`); [`crate::app::ViewerApp::apply`] installs its
//! cells and plays the selected one (`AppCommand::SelectStudyCell`).

pub mod figures;
pub mod panel;
pub mod plots;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::analysis::study::table::{Axes, StudyMetric};
use crate::analysis::study::{CellResult, CellView};
use crate::data::study::CellSpec;

/// How far the study job got.
#[derive(Clone, Debug, PartialEq)]
pub enum StudyStatus {
    /// Opening the manifest.
    Opening,
    Running,
    Done {
        cells: usize,
        seconds: f64,
    },
    Cancelled,
    Failed(String),
}

/// An open study: its manifest, the cells fitted so far and the selected cell.
pub struct StudyState {
    /// What was opened (`demo:…`, a folder, a `study.json`, a `.zip`).
    pub input: String,
    pub name: String,
    pub cells: Vec<CellSpec>,
    pub axes: Axes,
    /// Per manifest position: its numbers once fitted.
    pub results: Vec<Option<CellResult>>,
    /// Per manifest position: its trajectories and RSMs once fitted.
    pub views: Vec<Option<Arc<CellView>>>,
    pub class_names: Option<Vec<String>>,
    pub selected: Option<usize>,
    /// The user picked the selected cell (the viewer stops choosing for them).
    pub user_selected: bool,
    /// The running job, while its news is wanted.
    pub job: Option<u64>,
    pub status: StudyStatus,
    /// Where finished cells are cached, or why not.
    pub cache: Option<Result<std::path::PathBuf, String>>,
    /// Changes with every (re)opened study, so cached textures of another study are not reused.
    pub generation: u64,
    /// (arch, layer, checkpoint) → manifest position.
    index: BTreeMap<(String, String, u64), usize>,
}

impl StudyState {
    /// A study being opened: nothing known but its input.
    pub fn opening(input: String, job: u64, generation: u64) -> Self {
        Self {
            name: crate::app::worker::short_inputs(std::slice::from_ref(&input)),
            input,
            cells: Vec::new(),
            axes: Axes::of(&[]),
            results: Vec::new(),
            views: Vec::new(),
            class_names: None,
            selected: None,
            user_selected: false,
            job: Some(job),
            status: StudyStatus::Opening,
            cache: None,
            generation,
            index: BTreeMap::new(),
        }
    }

    /// The manifest arrived: the grid's axes are known, every cell pending.
    pub fn set_cells(&mut self, name: String, cells: Vec<CellSpec>) {
        self.name = name;
        self.axes = Axes::of(&cells);
        self.index = cells
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.arch.clone(), c.layer.clone(), c.checkpoint), i))
            .collect();
        self.results = vec![None; cells.len()];
        self.views = vec![None; cells.len()];
        self.cells = cells;
        self.status = StudyStatus::Running;
    }

    /// A finished cell; returns its position when it is one of this study's.
    pub fn set_cell(&mut self, r: CellResult, view: Option<Arc<CellView>>) -> Option<usize> {
        let i = r.index;
        if i >= self.cells.len() {
            return None;
        }
        self.results[i] = Some(r);
        self.views[i] = view;
        Some(i)
    }

    /// The cell shown first: the first arch's deepest layer at its last checkpoint (the
    /// paper's trajectory figure).
    pub fn headline(&self) -> Option<usize> {
        let ax = self.axes.arches.first()?;
        let (_, layer) = ax.layers.last()?;
        self.position(&ax.arch, layer, *ax.checkpoints.last()?)
    }

    pub fn n_done(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    pub fn running(&self) -> bool {
        matches!(self.status, StudyStatus::Opening | StudyStatus::Running)
    }

    /// The manifest position of (arch, layer, checkpoint).
    pub fn position(&self, arch: &str, layer: &str, checkpoint: u64) -> Option<usize> {
        self.index
            .get(&(arch.to_string(), layer.to_string(), checkpoint))
            .copied()
    }

    /// The manifest position at grid row `row` (layer) and column `col` (checkpoint) of arch
    /// number `arch`.
    pub fn at(&self, arch: usize, row: usize, col: usize) -> Option<usize> {
        let a = self.axes.arches.get(arch)?;
        let layer = &a.layers.get(row)?.1;
        let ck = *a.checkpoints.get(col)?;
        self.position(&a.arch, layer, ck)
    }

    /// Where a cell sits in the grids: (arch number, row, column).
    pub fn grid_pos(&self, i: usize) -> Option<(usize, usize, usize)> {
        let c = self.cells.get(i)?;
        let a = self.axes.arches.iter().position(|a| a.arch == c.arch)?;
        let ax = &self.axes.arches[a];
        let row = ax.layers.iter().position(|l| l.1 == c.layer)?;
        let col = ax.checkpoints.iter().position(|&k| k == c.checkpoint)?;
        Some((a, row, col))
    }

    /// The value of `metric` at a position, when fitted and defined.
    pub fn value(&self, i: usize, metric: StudyMetric) -> Option<f64> {
        self.results
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|r| metric.value(r))
    }

    /// Finite values of `metric` over every fitted cell: the grid's colour range.
    pub fn range(&self, metric: StudyMetric) -> Option<(f64, f64)> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for r in self.results.iter().flatten() {
            if let Some(v) = metric.value(r) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// The cell an arrow key moves the selection to: up/down over layers, left/right over
    /// checkpoints, within the selected cell's arch; past an edge the selection stays. Cells the
    /// manifest lacks are skipped.
    pub fn step(&self, from: usize, dir: Step) -> Option<usize> {
        let (a, row, col) = self.grid_pos(from)?;
        let ax = self.axes.arches.get(a)?;
        let (rows, cols) = (ax.layers.len() as isize, ax.checkpoints.len() as isize);
        let (dr, dc) = match dir {
            Step::Up => (-1, 0),
            Step::Down => (1, 0),
            Step::Left => (0, -1),
            Step::Right => (0, 1),
        };
        let (mut r, mut c) = (row as isize, col as isize);
        loop {
            r += dr;
            c += dc;
            if r < 0 || c < 0 || r >= rows || c >= cols {
                return Some(from);
            }
            if let Some(p) = self.at(a, r as usize, c as usize) {
                return Some(p);
            }
        }
    }
}

/// An arrow-key move in the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Up,
    Down,
    Left,
    Right,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(arch: &str, layer: &str, li: u64, ck: u64) -> CellSpec {
        CellSpec {
            arch: arch.into(),
            layer: layer.into(),
            layer_index: li,
            checkpoint: ck,
            path: format!("{arch}/{layer}/{ck}.npz"),
            labels: None,
        }
    }

    fn study() -> StudyState {
        let mut s = StudyState::opening("x".into(), 1, 1);
        let mut cells = Vec::new();
        for (li, l) in ["a", "b", "c"].iter().enumerate() {
            for ck in [0, 2, 5] {
                // One hole: layer b has no checkpoint 2.
                if *l == "b" && ck == 2 {
                    continue;
                }
                cells.push(spec("net", l, li as u64, ck));
            }
        }
        cells.push(spec("other", "x", 0, 1));
        s.set_cells("s".into(), cells);
        s
    }

    #[test]
    fn grid_positions_round_trip() {
        let s = study();
        for i in 0..s.cells.len() {
            let (a, r, c) = s.grid_pos(i).unwrap_or((9, 9, 9));
            assert_eq!(s.at(a, r, c), Some(i));
        }
        assert_eq!(s.at(0, 1, 1), None, "the hole");
        assert_eq!(s.axes.arches.len(), 2);
    }

    #[test]
    fn arrow_keys_move_within_the_arch_and_skip_holes() {
        let s = study();
        let p = |l: &str, ck: u64| s.position("net", l, ck).unwrap_or(usize::MAX);
        assert_eq!(s.step(p("a", 0), Step::Right), Some(p("a", 2)));
        assert_eq!(s.step(p("a", 2), Step::Down), Some(p("c", 2)), "skips b/2");
        assert_eq!(s.step(p("a", 0), Step::Up), Some(p("a", 0)), "edge stays");
        assert_eq!(s.step(p("c", 5), Step::Right), Some(p("c", 5)));
        assert_eq!(s.step(p("b", 0), Step::Right), Some(p("b", 5)));
        assert_eq!(s.step(p("c", 5), Step::Left), Some(p("c", 2)));
        let o = s.position("other", "x", 1).unwrap_or(usize::MAX);
        assert_eq!(s.step(o, Step::Down), Some(o));
    }
}
