//! The exposure graph (being written): DOT via graphviz-rust, and JSON.
