//! Integration tests, compiled into one binary so the slow link happens once.

mod analyze;
mod brute_force;
mod cli;
mod collect;
mod equality;
mod findings;
mod fixtures;
mod generate;
mod graph;
mod policy;
mod three_tier;

/// Shared helpers.
pub mod common {
    use assert_cmd::Command;
    use std::path::{Path, PathBuf};

    /// The repository root.
    pub fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// A path under the repository root.
    pub fn path(rel: &str) -> PathBuf {
        root().join(rel)
    }

    /// The `exposure` binary.
    pub fn exposure() -> Command {
        Command::cargo_bin("exposure").expect("binary builds")
    }

    /// Runs `exposure query SNAPSHOT --from --to [...] --format json` and returns the JSON answer.
    pub fn query(snapshot: &Path, from: &str, to: &str, extra: &[&str]) -> serde_json::Value {
        let out = exposure()
            .args(["query"])
            .arg(snapshot)
            .args(["--from", from, "--to", to, "--format", "json"])
            .args(extra)
            .output()
            .expect("runs");
        assert!(
            out.status.code() == Some(0),
            "query {from} -> {to} {extra:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("query prints JSON")
    }
}
