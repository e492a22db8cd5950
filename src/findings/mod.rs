//! Findings: risky configuration, each with a stable kebab-case code.
//!
//! (Being written: registry, checks, configuration.)

use crate::analysis::Report;
use crate::model::Model;

/// How serious a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Severity after effective-reachability adjustment and configuration overrides.
    pub severity: Severity,
    /// One-line statement of this instance.
    pub message: String,
    /// Resource ids involved (SGs, ENIs, subnets, NACLs, LBs...).
    pub resources: Vec<String>,
    /// The rules involved, as text (`sg-… inbound tcp 22 0.0.0.0/0`, `acl-… rule 110`).
    pub rules: Vec<String>,
    /// What to do.
    pub remediation: String,
}

/// Settings for the checks (from `exposure.toml` and flags).
#[derive(Debug, Clone, Default)]
pub struct Config {}

/// Runs every check.
pub fn check(_m: &Model, _report: &Report, _cfg: &Config) -> Vec<Finding> {
    Vec::new()
}
