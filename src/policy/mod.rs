//! Policies: network intent written down in the repository and checked on every change.
//!
//! A policy says what must not be reachable (`deny`), who alone may reach something
//! (`allow-only`), or what must stay reachable (`require`). Policies are TOML files
//! (see `docs/policies.md`) or AWS Network Access Analyzer scope documents (JSON). They
//! are evaluated with the query engine, one question per source, destination and
//! port range, so every violation carries a witness: the path that gets through, or for
//! `require`, every component that blocks it.
//!
//! The CI gate around it lives here too: baselines of accepted violations
//! ([`baseline`]), the check that combines violations, findings and a baseline
//! ([`check`]), and the difference between two exposure reports ([`diff`]).
//!
//! Architecture invariant: like the engine, this module does no I/O and reads no clock.
//! The CLI reads the files, passes their text, and passes today's date for expiry.

pub mod baseline;
pub mod diff;
mod eval;
mod lang;
mod naa;
mod select;

use std::fmt;

use crate::engine::query::Traffic;
use crate::engine::walk::{Block, Hop};
use crate::findings::Finding;
pub use crate::findings::Severity;
use crate::model::Model;

pub use baseline::{Baseline, Date, Suppression};
pub use eval::evaluate;

/// The kinds of policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// No path from these sources to these destinations on these ports.
    Deny,
    /// Only these sources may reach these destinations.
    AllowOnly,
    /// These destinations must stay reachable from these sources for ordinary clients.
    Require,
    /// An AWS Network Access Analyzer scope: every matching path is a violation.
    Scope,
}

impl Kind {
    /// `deny`, `allow-only`, `require`, `scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deny => "deny",
            Kind::AllowOnly => "allow-only",
            Kind::Require => "require",
            Kind::Scope => "scope",
        }
    }
}

/// One policy, parsed and checked.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Stable id (the rule id in SARIF; part of every violation's fingerprint).
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// What the policy protects and why.
    pub description: String,
    /// Severity of its violations.
    pub severity: Severity,
    /// The file it came from, as given.
    pub file: String,
    /// The line where it starts (1-based).
    pub line: usize,
    pub(crate) body: Body,
}

/// What a policy asks, in the form the evaluator uses.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// `deny`, `allow-only`, `require`.
    Reach {
        from: Vec<select::Selector>,
        to: Vec<select::Selector>,
        traffic: TrafficSpec,
    },
    /// A Network Access Analyzer scope.
    Scope(naa::Scope),
}

/// Protocols and destination ports a policy is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrafficSpec {
    /// Protocol numbers (`None`: every protocol).
    pub protocols: Option<Vec<u8>>,
    /// Destination port ranges (empty: every port).
    pub ports: Vec<(u16, u16)>,
}

/// An error in a policy, baseline or scope file: file, line, column and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file, as given.
    pub file: String,
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based).
    pub column: usize,
    /// The field at fault (`ports`, `policy[2].to`, `MatchPaths[0].Source`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Line and column (1-based) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map(|i| before[i + 1..].chars().count())
        .unwrap_or_else(|| before.chars().count())
        + 1;
    (line, column)
}

/// Parses one policy file: a TOML policy file, or (`.json`, or text starting with `{`) an
/// AWS Network Access Analyzer scope document. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Policy>, PolicyError> {
    let looks_json =
        file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{');
    if looks_json {
        naa::parse(file, text).map(|p| vec![p])
    } else {
        lang::parse(file, text)
    }
}

/// Checks that policy ids are unique across files.
pub fn check_unique_ids(policies: &[Policy]) -> Result<(), PolicyError> {
    let mut seen: std::collections::BTreeMap<&str, &Policy> = Default::default();
    for p in policies {
        if let Some(first) = seen.get(p.id.as_str()) {
            return Err(PolicyError {
                file: p.file.clone(),
                line: p.line,
                column: 1,
                field: Some("id".into()),
                message: format!(
                    "policy id `{}` is already used at {}:{}",
                    p.id, first.file, first.line
                ),
            });
        }
        seen.insert(&p.id, p);
    }
    Ok(())
}

/// One end of a violating flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The endpoint as the engine names it: `internet`, `onprem`, a CIDR, an ENI id or a
    /// load balancer ARN. Part of the fingerprint.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The resource it belongs to (instance id, load balancer ARN, DB identifier, NAT
    /// gateway id, ENI id), where results are located in SARIF.
    pub resource: String,
    /// `internet`, `onprem`, `cidr`, or the owner kind (`ec2`, `rds`, `elb`, ...).
    pub kind: String,
}

/// One violation of one policy.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The policy's id.
    pub policy: String,
    /// The policy's kind.
    pub kind: Kind,
    /// The policy's severity.
    pub severity: Severity,
    /// The policy's file and line.
    pub file: String,
    /// Line of the policy in its file.
    pub line: usize,
    /// One sentence.
    pub message: String,
    /// Where the flow starts.
    pub source: Party,
    /// Where it ends.
    pub destination: Party,
    /// What gets through (`deny`, `allow-only`, `scope`), or what was required (`require`).
    pub traffic: Vec<Traffic>,
    /// `direct`, or the load balancer listener the flow enters by (`web-alb HTTPS 443`).
    pub entry: String,
    /// A path that gets through, hop by hop (empty for `require`).
    pub witness: Vec<Hop>,
    /// What blocks the flow (`require`).
    pub blocked_by: Vec<Block>,
    /// Stable fingerprint: policy id, source, destination, protocols/ports and entry.
    pub fingerprint: String,
}

/// A policy's outcome, for summaries.
#[derive(Debug, Clone)]
pub struct PolicySummary {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// Severity.
    pub severity: Severity,
    /// Description.
    pub description: String,
    /// File.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Violations found (before the baseline).
    pub violations: usize,
}

/// The result of evaluating policies on one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Every policy evaluated, in order.
    pub policies: Vec<PolicySummary>,
    /// Every violation, grouped by policy.
    pub violations: Vec<Violation>,
    /// Flows the engine could not decide (something not modelled on the way).
    pub undecided: Vec<String>,
    /// Selectors that matched nothing and similar remarks.
    pub warnings: Vec<String>,
}

/// A stable short fingerprint of some text (FNV-1a, 64 bits, hex).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The fingerprint of a finding: its code, resources and rules.
pub fn finding_fingerprint(f: &Finding) -> String {
    let mut resources = f.resources.clone();
    resources.sort();
    let mut rules = f.rules.clone();
    rules.sort();
    fingerprint(&["finding", f.code, &resources.join(","), &rules.join(",")])
}

/// Traffic as one line of text: `tcp 22; udp 53`, `all`.
pub fn traffic_text(t: &[Traffic]) -> String {
    if t.is_empty() {
        return "nothing".into();
    }
    crate::engine::query::traffic_text(t)
}

/// Merges traffic lines into the lines of their union (`tcp 22` and `tcp 22, 3389` become
/// `tcp 22, 3389`; `all` absorbs everything); lines that cannot be read count as all.
pub(crate) fn merge_traffic(items: &[Traffic]) -> Vec<Traffic> {
    use crate::engine::packet::{PBox, PacketSet};
    use crate::engine::query;
    let set = query::traffic_set(items).unwrap_or_else(|| PacketSet::from_box(PBox::FULL));
    query::traffic_of(&set)
}

/// `--fail-on`: the lowest severity that fails the gate, or `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Threshold {
    /// Everything fails the gate.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
    /// Nothing fails the gate (report only).
    Never,
}

impl Threshold {
    /// The severity at and above which the gate fails (`None` for `never`).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Threshold::Info => Some(Severity::Info),
            Threshold::Low => Some(Severity::Low),
            Threshold::Medium => Some(Severity::Medium),
            Threshold::High => Some(Severity::High),
            Threshold::Critical => Some(Severity::Critical),
            Threshold::Never => None,
        }
    }

    /// Whether something of this severity fails the gate.
    pub fn fails(self, s: Severity) -> bool {
        self.severity().is_some_and(|t| s >= t)
    }

    /// `info` ... `critical`, `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::Info => "info",
            Threshold::Low => "low",
            Threshold::Medium => "medium",
            Threshold::High => "high",
            Threshold::Critical => "critical",
            Threshold::Never => "never",
        }
    }
}

/// A severity's lowercase name.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

pub(crate) fn parse_severity(s: &str) -> Option<Severity> {
    match s.to_ascii_lowercase().as_str() {
        "info" => Some(Severity::Info),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

/// Whether an item of the check is new, accepted by the baseline, or was accepted until
/// its suppression expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not in the baseline: fails the gate.
    New,
    /// Accepted by a baseline entry.
    Baselined(Suppression),
    /// The baseline entry expired: fails the gate again.
    Expired(Suppression),
}

impl Status {
    /// Whether the item fails the gate.
    pub fn fails(&self) -> bool {
        !matches!(self, Status::Baselined(_))
    }
}

/// A finding as the check sees it.
#[derive(Debug, Clone)]
pub struct CheckedFinding {
    /// The finding.
    pub finding: Finding,
    /// Its fingerprint.
    pub fingerprint: String,
    /// New, baselined or expired.
    pub status: Status,
}

/// A violation as the check sees it.
#[derive(Debug, Clone)]
pub struct CheckedViolation {
    /// The violation.
    pub violation: Violation,
    /// New, baselined or expired.
    pub status: Status,
}

/// Everything `exposure check` reports.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The snapshot, as given.
    pub snapshot: String,
    /// Policies evaluated.
    pub policies: Vec<PolicySummary>,
    /// Violations, each with its baseline status.
    pub violations: Vec<CheckedViolation>,
    /// Findings at or above the threshold, each with its baseline status.
    pub findings: Vec<CheckedFinding>,
    /// The `--fail-on` threshold for findings.
    pub fail_on: Threshold,
    /// Baseline entries that matched nothing (fixed, or changed): safe to remove.
    pub stale: Vec<baseline::Entry>,
    /// Flows the engine could not decide.
    pub undecided: Vec<String>,
    /// Remarks (selectors matching nothing, ...).
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// Whether the gate fails: a violation or a gated finding that the baseline does not accept.
    pub fn failed(&self) -> bool {
        self.violations.iter().any(|v| v.status.fails())
            || self.findings.iter().any(|f| f.status.fails())
    }

    /// Counts: (failing violations, baselined violations, failing findings, baselined findings).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let fv = self.violations.iter().filter(|v| v.status.fails()).count();
        let ff = self.findings.iter().filter(|f| f.status.fails()).count();
        (fv, self.violations.len() - fv, ff, self.findings.len() - ff)
    }
}

/// Runs the check: evaluates the policies, keeps the findings at or above `fail_on`, and
/// applies the baseline as of `today`.
pub fn check(
    snapshot: &str,
    m: &Model,
    policies: &[Policy],
    findings: &[Finding],
    fail_on: Threshold,
    baseline: Option<&Baseline>,
    today: Date,
) -> CheckReport {
    let evaluation = evaluate(m, policies);
    let mut used = std::collections::BTreeSet::new();
    let mut status_of = |fp: &str| -> Status {
        match baseline.and_then(|b| b.get(fp)) {
            Some(entry) => {
                used.insert(fp.to_string());
                let s = entry.suppression();
                if entry.expires.is_some_and(|e| e <= today) {
                    Status::Expired(s)
                } else {
                    Status::Baselined(s)
                }
            }
            None => Status::New,
        }
    };
    let violations: Vec<CheckedViolation> = evaluation
        .violations
        .into_iter()
        .map(|v| CheckedViolation {
            status: status_of(&v.fingerprint),
            violation: v,
        })
        .collect();
    let findings: Vec<CheckedFinding> = findings
        .iter()
        .filter(|f| fail_on.fails(f.severity))
        .map(|f| {
            let fp = finding_fingerprint(f);
            CheckedFinding {
                status: status_of(&fp),
                fingerprint: fp,
                finding: f.clone(),
            }
        })
        .collect();
    let stale = baseline
        .map(|b| {
            b.entries
                .iter()
                .filter(|e| !used.contains(&e.fingerprint))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    CheckReport {
        snapshot: snapshot.to_string(),
        policies: evaluation.policies,
        violations,
        findings,
        fail_on,
        stale,
        undecided: evaluation.undecided,
        warnings: evaluation.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str, ports: &str) -> Traffic {
        Traffic {
            protocol: p.into(),
            ports: ports.into(),
        }
    }

    #[test]
    fn traffic_lines_merge_per_protocol() {
        assert_eq!(
            merge_traffic(&[t("tcp", "22"), t("tcp", "22, 3389"), t("udp", "53")]),
            vec![t("tcp", "22, 3389"), t("udp", "53")]
        );
        assert_eq!(
            merge_traffic(&[t("tcp", "80"), t("tcp", "81-90")]),
            vec![t("tcp", "80-90")]
        );
        assert_eq!(
            merge_traffic(&[t("tcp", "80"), t("all", "")]),
            vec![t("all", "")]
        );
        assert_eq!(
            merge_traffic(&[t("tcp", "all ports"), t("tcp", "22")]),
            vec![t("tcp", "all ports")]
        );
        assert_eq!(
            merge_traffic(&[t("icmp", "types 0"), t("icmp", "types 8")]),
            vec![t("icmp", "types 0, 8")]
        );
    }

    #[test]
    fn fingerprints_are_stable_and_separate_parts() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&["p", "internet"]).len(), 16);
    }
}
