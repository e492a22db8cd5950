//! Renderers: turn analysis results into text for people and machines.
//!
//! Architecture invariant: renderers read the model and the results of the
//! engine; they never see AWS wire types and do no I/O (they return strings;
//! the CLI writes them). The JSON wire formats are defined here, versioned by
//! `schema_version`, and documented in `docs/json-output.md`.

pub mod check;
pub mod diff;
pub mod graph;
pub mod inventory;
pub mod query;
pub mod report;
pub mod sarif;
pub mod stream;

/// The version of every JSON document `exposure` prints.
pub const SCHEMA_VERSION: u32 = 2;

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// Text for people.
    Human,
    /// JSON with `schema_version`.
    Json,
}

/// Output formats of the reports (`analyze`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// JSON with `schema_version`.
    Json,
    /// Markdown (summary table first, details folded), for pull-request comments.
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}
