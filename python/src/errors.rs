//! Library errors → Python exceptions: files that cannot be read or written raise `OSError`,
//! bad values `ValueError`, a cancelled call `KeyboardInterrupt`; the message is the CLI's line.

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

use srmscope::align::AlignError;
use srmscope::analysis::similarity::SimilarityError;
use srmscope::analysis::study::StudyError;
use srmscope::analysis::AnalysisError;
use srmscope::data::DataError;

/// Why a call on the worker thread did not return a value.
#[derive(Debug)]
pub enum Failure {
    Value(String),
    Os(String),
    Cancelled,
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Value(m) => PyValueError::new_err(m),
            Failure::Os(m) => PyOSError::new_err(m),
            Failure::Cancelled => PyKeyboardInterrupt::new_err("cancelled"),
        }
    }
}

pub fn value(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

pub fn runtime(msg: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(msg.into())
}

impl From<DataError> for Failure {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Interrupted { .. } => Failure::Cancelled,
            DataError::Missing { .. } | DataError::Io { .. } | DataError::Write { .. } => {
                Failure::Os(e.to_string())
            }
            other => Failure::Value(other.to_string()),
        }
    }
}

impl From<AlignError> for Failure {
    fn from(e: AlignError) -> Self {
        match e {
            AlignError::Cancelled => Failure::Cancelled,
            other => Failure::Value(other.to_string()),
        }
    }
}

impl From<AnalysisError> for Failure {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Cancelled | AnalysisError::Align(AlignError::Cancelled) => {
                Failure::Cancelled
            }
            AnalysisError::Model(m) => {
                let text = m.to_string();
                if matches!(
                    m,
                    srmscope::align::model_io::ModelIoError::Data(
                        DataError::Missing { .. } | DataError::Io { .. } | DataError::Write { .. }
                    )
                ) {
                    Failure::Os(text)
                } else {
                    Failure::Value(text)
                }
            }
            other => Failure::Value(other.to_string()),
        }
    }
}

impl From<SimilarityError> for Failure {
    fn from(e: SimilarityError) -> Self {
        Failure::Value(e.to_string())
    }
}

impl From<StudyError> for Failure {
    fn from(e: StudyError) -> Self {
        let text = e.to_string();
        match e {
            StudyError::Load { source, .. } => match Failure::from(source) {
                Failure::Os(_) => Failure::Os(text),
                Failure::Cancelled => Failure::Cancelled,
                Failure::Value(_) => Failure::Value(text),
            },
            StudyError::Cell { source, .. } => match Failure::from(source) {
                Failure::Cancelled => Failure::Cancelled,
                Failure::Os(_) => Failure::Os(text),
                Failure::Value(_) => Failure::Value(text),
            },
            StudyError::Data(d) => Failure::from(d),
            StudyError::Cancelled => Failure::Cancelled,
            _ => Failure::Value(text),
        }
    }
}
