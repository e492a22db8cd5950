//! `exposure`: a network exposure graph analyser for AWS.
//!
//! The crate is a pipeline; each module is one stage and may only use the
//! stages before it:
//!
//! ```text
//! sources ──► model ──► engine ──► inventory / query ──► render ──► cli (main.rs)
//! ```
//!
//! See `ARCHITECTURE.md` for the map and the invariants each layer keeps.
#![warn(missing_docs)]

pub mod analysis;
pub mod engine;
pub mod findings;
pub mod generate;
pub mod inventory;
pub mod model;
pub mod policy;
pub mod render;
pub mod sources;
