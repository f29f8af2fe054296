//! CareCircle: find where China's "一老一小" facility targets fail and where new elderly-care
//! and nursery facilities should go.
//!
//! Data flows one way: [`io`] loads layers (any CRS, any datum) into a [`model::Dataset`]
//! whose geometry is in metres of one local Gauss-Krüger projection; analysis modules read
//! the dataset; front ends (the CLI in `main.rs`, the egui app behind the `gui` feature)
//! present the results. Nothing outside `app` knows about egui.

pub mod coverage;
pub mod crs;
pub mod error;
pub mod files;
pub mod geom;
pub mod io;
pub mod model;
pub mod network;
pub mod progress;
pub mod report;
pub mod siting;
pub mod spatial;
#[doc(hidden)]
pub mod testkit;
pub mod texts;

#[cfg(feature = "gui")]
pub mod app;

pub use error::{Error, Result};
pub use model::Dataset;
