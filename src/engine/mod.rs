//! The engine: packet-set algebra, per-hop filters, the reachability graph
//! and the path walk.
//!
//! Architecture invariant: no I/O, no AWS wire types, no randomness, and
//! every iteration is over ordered collections, so the same model always
//! gives the same answer.

pub mod allpairs;
pub mod appset;
pub mod filters;
pub mod graph;
pub mod index;
pub mod packet;
pub mod query;
pub mod walk;
