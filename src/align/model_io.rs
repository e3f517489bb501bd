//! model io placeholder
