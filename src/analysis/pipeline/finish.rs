//! Everything after the fit: the held-out data projected, training variance explained, the
//! measures and the scene, with the preview of the aligned scene before the measures.

use super::measures::{measure, sums_of_squares, HeldOut};
use super::output::{Inspect, Partial, PipelineOutput, Preview};
use super::prepare::Prepared;
use super::scene::{assemble_scene, native_view, NativeView};
use super::step::{check_cancel, next_step, Run};
use crate::align::{ImageSplit, Model};
use crate::analysis::metrics::{self, BeforeAfter};
use crate::analysis::{AnalysisError, Metrics, SceneData, ValidSettings};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};
use ndarray::{Array1, Array2};

/// Who watches a run on its way; both are optional.
#[derive(Default)]
pub(super) struct Hooks<'h> {
    /// Gets the held-out data in both spaces (studies' measures).
    pub inspect: Option<Inspect<'h>>,
    /// Gets the aligned scene before the measures, with the native half of the scene when it
    /// was made before the fit.
    pub preview: Option<(Preview<'h>, Option<NativeView>)>,
}

/// Everything after the fit: transform, metrics, smoothing, joint PCA and the scene.
pub fn finish(
    ds: &Dataset,
    s: &ValidSettings,
    prep: Prepared,
    model: Model,
    fit_seconds: f64,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    let run = Run { ds, s, progress };
    finish_inspect(&run, prep, model, fit_seconds, Hooks::default())
}

/// [`finish`], with `hooks` watching.
pub(super) fn finish_inspect(
    run: &Run,
    prep: Prepared,
    model: Model,
    fit_seconds: f64,
    hooks: Hooks<'_>,
) -> Result<PipelineOutput, AnalysisError> {
    let (s, progress) = (run.s, run.progress);
    next_step(progress, Stage::Metrics, 0.0);
    let Hooks { inspect, preview } = hooks;
    let mut notes = Vec::new();
    let proj = Projection::new(&model);
    let Prepared {
        train,
        test,
        train_idx,
        test_idx,
        units_kept,
        ..
    } = prep;
    // Without a viewer waiting, the training data go first (they would add to every later
    // step's peak); with one, the aligned trajectories come first.
    let (mut train, mut ve_train) = (Some(train), None);
    if preview.is_none() {
        ve_train = train.take().map(|t| proj.training_ve(t)).transpose()?;
    }
    check_cancel(progress)?;
    let y_test = test
        .iter()
        .enumerate()
        .map(|(i, x)| proj.project(i, x))
        .collect::<Result<Vec<_>, _>>()?;
    let f = Finishing {
        run,
        proj,
        test,
        y_test,
        test_idx,
    };
    let early_scene = match preview {
        Some((show, native)) => Some(f.show_aligned(
            show,
            native,
            fit_seconds,
            &train_idx,
            &units_kept,
            &mut notes,
        )?),
        None => None,
    };
    if let Some(t) = train.take() {
        ve_train = Some(f.proj.training_ve(t)?);
    }
    let ve_train = ve_train.unwrap_or_default();
    check_cancel(progress)?;
    let measured = measure(&f.held_out(), s, progress, inspect, &mut notes)?;
    let scene = match early_scene {
        Some(scene) => scene,
        None => f.scene(None, &mut notes)?,
    };
    let Finishing {
        proj,
        test,
        y_test,
        test_idx,
        ..
    } = f;
    drop((proj, test, y_test));
    let split = ImageSplit {
        train: train_idx.clone(),
        test: test_idx.clone(),
    };
    let metrics = measured.into_metrics(&model, ve_train, fit_seconds, &scene, s, split);
    progress.stage(Stage::Pca, 1.0);
    Ok(PipelineOutput {
        k: model.k(),
        model,
        metrics,
        scene,
        train_idx,
        test_idx,
        units_kept,
        notes,
    })
}

/// The model's projection of each network, and the means it centres them with (None where the
/// transform does not centre).
struct Projection<'m> {
    model: &'m Model,
    mus: Vec<Option<&'m Array1<f64>>>,
}

impl<'m> Projection<'m> {
    fn new(model: &'m Model) -> Self {
        let mus = model
            .mu
            .iter()
            .map(|m| model.center_transform.then_some(m))
            .collect();
        Projection { model, mus }
    }

    fn project(&self, i: usize, x: &Array2<f64>) -> Result<Array2<f64>, AnalysisError> {
        self.model
            .transform(i, x.view())
            .map_err(AnalysisError::Align)
    }

    /// Training VE in two passes (the mean shared response, then each network against it), so
    /// that only one training projection is held at a time; then the training data go.
    fn training_ve(&self, train: Vec<Array2<f64>>) -> Result<Vec<f64>, AnalysisError> {
        let mut sbar: Option<Array2<f64>> = None;
        for (i, x) in train.iter().enumerate() {
            let y = self.project(i, x)?;
            sbar = Some(match sbar {
                Some(acc) => acc + y,
                None => y,
            });
        }
        let sbar = sbar.map(|a| a / train.len() as f64).unwrap_or_default();
        let dots = train
            .iter()
            .enumerate()
            .map(|(i, x)| Ok(metrics::frob(&sbar.view(), &self.project(i, x)?.view())))
            .collect::<Result<Vec<f64>, AnalysisError>>()?;
        let stats: Vec<(f64, f64)> = train
            .iter()
            .map(|x| metrics::entry_variance(&x.view()))
            .collect();
        let ve = metrics::variance_explained_from(
            &stats,
            &sums_of_squares(&train, &self.mus),
            &dots,
            metrics::frob(&sbar.view(), &sbar.view()),
        );
        drop(train);
        crate::memory::release_free();
        Ok(ve)
    }
}

/// What the steps after the fit read: the run's inputs, the model's projection and the
/// held-out data in both spaces.
struct Finishing<'a> {
    run: &'a Run<'a>,
    proj: Projection<'a>,
    /// The held-out data as preprocessed, the model's projection of them and the images their
    /// rows are.
    test: Vec<Array2<f64>>,
    y_test: Vec<Array2<f64>>,
    test_idx: Vec<usize>,
}

impl Finishing<'_> {
    fn held_out(&self) -> HeldOut<'_> {
        HeldOut {
            model: self.proj.model,
            test: &self.test,
            y_test: &self.y_test,
            mus: &self.proj.mus,
            test_idx: &self.test_idx,
        }
    }

    /// The final scene, joined to the native half made before the fit when there is one.
    fn scene(
        &self,
        native: Option<NativeView>,
        notes: &mut Vec<String>,
    ) -> Result<SceneData, AnalysisError> {
        next_step(self.run.progress, Stage::Pca, 0.0);
        let native = match native {
            Some(v) => v,
            None => native_view(self.run.s.smooth, &self.test, &self.proj.mus)?,
        };
        notes.extend(native.notes.iter().cloned());
        assemble_scene(
            self.run.ds,
            &self.proj.model.networks,
            &native,
            Some(&self.y_test),
            &self.test_idx,
        )
    }

    /// Hands the final scene to the preview before the measures ([`Partial::Aligned`]), and
    /// returns it.
    fn show_aligned(
        &self,
        show: Preview<'_>,
        native: Option<NativeView>,
        fit_seconds: f64,
        train_idx: &[usize],
        units_kept: &[Option<Vec<usize>>],
        notes: &mut Vec<String>,
    ) -> Result<SceneData, AnalysisError> {
        let scene = self.scene(native, notes)?;
        let model = self.proj.model;
        let metrics = Metrics {
            objective: model.objective.clone(),
            fit_seconds,
            pca_explained_variance: BeforeAfter {
                before: scene.evr_before,
                after: scene.evr_after,
            },
            ..Default::default()
        };
        show(
            Partial::Aligned,
            PipelineOutput::preview(
                metrics,
                scene.clone(),
                train_idx,
                &self.test_idx,
                units_kept,
                model.k(),
                notes.clone(),
            ),
        );
        next_step(self.run.progress, Stage::Metrics, 0.0);
        Ok(scene)
    }
}
