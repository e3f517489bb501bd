//! `SlotId`: which of the two 3D views (the data, the comparison) something belongs to. Its own
//! room, so the worker and the GL glue both look down to it.

/// Which 3D view a dataset goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotId {
    Primary,
    /// The side-by-side comparison view.
    Compare,
}

impl SlotId {
    pub fn label(self) -> &'static str {
        match self {
            SlotId::Primary => "data",
            SlotId::Compare => "comparison",
        }
    }
}
