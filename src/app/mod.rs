//! The eframe viewer.
