//! Sources: where network configuration comes from.
//!
//! Architecture invariant: this is the only layer that knows AWS wire formats,
//! and (with the CLI) the only one that does I/O. It turns a snapshot — a
//! folder of AWS CLI JSON — into the vendor-independent [`Model`] plus the
//! warnings and notes raised on the way; only the CLI decides what is fatal.

pub mod collect;
mod convert;
pub mod demo;
mod snapshot;
mod strict;
mod wire;

use std::path::{Path, PathBuf};

use crate::model::{self, Diagnostic, Model};

pub use snapshot::{is_region, SnapshotFile};

/// A loaded snapshot: the model and everything worth telling the user.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// What the snapshot is (a path, or the embedded demo's name).
    pub origin: String,
    /// The network model.
    pub model: Model,
    /// Warnings (unknown keys, dangling references) and notes (skipped resources).
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a snapshot could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The snapshot path does not exist.
    #[error("snapshot {0} does not exist")]
    NotFound(PathBuf),
    /// An I/O error.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Not UTF-8.
    #[error("{file}: not UTF-8 text: {detail}")]
    Encoding {
        /// The file.
        file: String,
        /// Details.
        detail: String,
    },
    /// An empty file.
    #[error("{file}: the file is empty; expected AWS CLI JSON output")]
    Empty {
        /// The file.
        file: String,
    },
    /// Malformed JSON.
    #[error("{file}: line {line}, column {column}: invalid JSON: {detail}")]
    Syntax {
        /// The file.
        file: String,
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What the parser said.
        detail: String,
    },
    /// Valid JSON whose top level is not an object.
    #[error("{file}: the top level is {found}; AWS CLI output is a JSON object such as {{\"Vpcs\": [...]}}")]
    NotAnObject {
        /// The file.
        file: String,
        /// What was found.
        found: &'static str,
    },
    /// A known field has the wrong type.
    #[error("{file}: at {path}: {detail}")]
    Type {
        /// The file.
        file: String,
        /// The JSON path of the field (`Vpcs[0].CidrBlock`).
        path: String,
        /// What serde said.
        detail: String,
    },
    /// Nothing recognisable in the whole snapshot.
    #[error("{origin}: no AWS network configuration found (no file with a known top-level key such as Vpcs, Subnets or SecurityGroups){}", ignored_list(.ignored))]
    NoData {
        /// The snapshot.
        origin: String,
        /// What was ignored and why.
        ignored: Vec<String>,
    },
}

fn ignored_list(ignored: &[String]) -> String {
    if ignored.is_empty() {
        String::new()
    } else {
        format!("; ignored: {}", ignored.join("; "))
    }
}

/// Loads a snapshot folder (or a single JSON file). Files are read and parsed in parallel;
/// the result does not depend on how the work was scheduled.
pub fn load_path(path: &Path) -> Result<Snapshot, LoadError> {
    let raw = snapshot::read_and_parse(path)?;
    finish(&path.display().to_string(), raw)
}

/// Loads a snapshot from files already in memory (the embedded demo, tests).
pub fn load_files(origin: &str, files: &[SnapshotFile]) -> Result<Snapshot, LoadError> {
    finish(origin, snapshot::parse_files(files)?)
}

/// Converts and validates what the files gave.
fn finish(origin: &str, raw: snapshot::RawSnapshot) -> Result<Snapshot, LoadError> {
    if raw.keys_seen.is_empty() {
        let ignored = raw.diagnostics.iter().map(ToString::to_string).collect();
        return Err(LoadError::NoData {
            origin: origin.to_string(),
            ignored,
        });
    }
    let (model, mut diagnostics) = convert::convert(raw);
    diagnostics.extend(model::validate(&model));
    Ok(Snapshot {
        origin: origin.to_string(),
        model,
        diagnostics,
    })
}
