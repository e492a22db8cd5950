//! The difference between two exposure reports: what a change opens, closes or alters,
//! and which findings it adds or removes.
//!
//! Exposures are matched by (source, exposed application). An exposure that appears, or
//! turns from latent to effective, is *opened*; one that disappears or turns latent is
//! *closed*; one whose protocols, ports or entry points grow is *widened*, shrink
//! *narrowed*, and both at once *changed*. Openings and widenings carry a severity — by
//! who gets in and on which ports — which `--fail-on` compares with.

use std::collections::BTreeMap;

use super::{finding_fingerprint, Severity, Threshold};
use crate::analysis::{Exposure, Report, Source, Status, SENSITIVE_PORTS};
use crate::engine::packet::{Dim, PBox, PacketSet};
use crate::engine::query::{self, Traffic};
use crate::findings::Finding;

/// What happened to an exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// New, or latent before and effective now.
    Opened,
    /// More protocols, ports or entry points.
    Widened,
    /// Some added and some removed.
    Changed,
    /// Fewer protocols, ports or entry points.
    Narrowed,
    /// Gone, or effective before and latent now.
    Closed,
}

impl Change {
    /// `opened`, `widened`, `changed`, `narrowed`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Opened => "opened",
            Change::Widened => "widened",
            Change::Changed => "changed",
            Change::Narrowed => "narrowed",
            Change::Closed => "closed",
        }
    }
}

/// One side of an exposure change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureState {
    /// Effective or latent.
    pub status: Status,
    /// What gets through.
    pub traffic: Vec<Traffic>,
    /// Entry points (`direct`, `web-alb HTTPS 443`).
    pub entries: Vec<String>,
    /// How many members are exposed.
    pub members_exposed: usize,
}

/// One changed exposure.
#[derive(Debug, Clone)]
pub struct ExposureChange {
    /// What happened.
    pub change: Change,
    /// How serious the change is (`None` for closings and narrowings).
    pub severity: Option<Severity>,
    /// Source kind: `internet-ipv4`, `internet-ipv6`, `onprem`, `application`.
    pub source_kind: &'static str,
    /// The source application's id (application sources).
    pub source_application: Option<String>,
    /// The source, for people.
    pub source: String,
    /// The exposed application's id.
    pub target: String,
    /// Its name, for people.
    pub target_name: String,
    /// Resources of the exposed application (ENIs / load balancer), for locations.
    pub resources: Vec<String>,
    /// Before (absent when opened from nothing).
    pub before: Option<ExposureState>,
    /// After (absent when closed to nothing).
    pub after: Option<ExposureState>,
}

/// What `exposure diff` reports.
#[derive(Debug, Clone)]
pub struct DiffReport {
    /// The old snapshot, as given.
    pub old: String,
    /// The new snapshot, as given.
    pub new: String,
    /// Changed exposures, most serious first.
    pub exposures: Vec<ExposureChange>,
    /// Findings in the new snapshot only.
    pub findings_added: Vec<Finding>,
    /// Findings in the old snapshot only.
    pub findings_removed: Vec<Finding>,
    /// The threshold.
    pub fail_on: Threshold,
}

impl DiffReport {
    /// Changes that fail the gate: openings and widenings, and added findings, at or above the threshold.
    pub fn failing(&self) -> usize {
        self.exposures
            .iter()
            .filter(|c| c.severity.is_some_and(|s| self.fail_on.fails(s)))
            .count()
            + self
                .findings_added
                .iter()
                .filter(|f| self.fail_on.fails(f.severity))
                .count()
    }

    /// Whether the gate fails.
    pub fn failed(&self) -> bool {
        self.failing() > 0
    }
}

fn source_key(s: &Source) -> (&'static str, Option<String>) {
    match s {
        Source::InternetV4 => ("internet-ipv4", None),
        Source::InternetV6 => ("internet-ipv6", None),
        Source::Onprem => ("onprem", None),
        Source::Application(id) => ("application", Some(id.clone())),
        // `Report::pairs` splits these into single applications before they get here.
        Source::Applications(_) => ("applications", None),
    }
}

/// The protocols and ports of traffic lines as a packet set (the lines are exact, see
/// [`query::traffic_of`]); lines it cannot read count as every protocol and port, so that a
/// change is shown rather than hidden.
fn coverage(t: &[Traffic]) -> PacketSet {
    query::traffic_set(t).unwrap_or_else(|| PacketSet::from_box(PBox::FULL))
}

/// Whether everything `b` lets through, `a` lets through too.
fn covers(a: &PacketSet, b: &PacketSet) -> bool {
    b.subtract(a).is_empty()
}

fn sensitive(t: &[Traffic]) -> bool {
    let ports: Vec<(u128, u128)> = SENSITIVE_PORTS
        .iter()
        .map(|p| (*p as u128, *p as u128))
        .collect();
    !coverage(t)
        .restrict(Dim::Proto, &[(6, 6), (17, 17)])
        .restrict(Dim::DstPort, &crate::engine::packet::merge(ports))
        .is_empty()
}

fn state(e: &Exposure) -> ExposureState {
    ExposureState {
        status: e.status,
        traffic: e.traffic.clone(),
        entries: e.entries.clone(),
        members_exposed: e.members_exposed,
    }
}

/// How serious an exposure that opens or widens is.
fn severity_of(source_kind: &str, after: &ExposureState) -> Severity {
    if after.status == Status::Latent {
        return Severity::Info;
    }
    match source_kind {
        "internet-ipv4" | "internet-ipv6" => {
            if sensitive(&after.traffic) {
                Severity::Critical
            } else {
                Severity::High
            }
        }
        "onprem" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Compares two exposure reports and their findings.
pub fn diff(
    old_label: &str,
    old: &Report,
    old_findings: &[Finding],
    new_label: &str,
    new: &Report,
    new_findings: &[Finding],
    fail_on: Threshold,
) -> DiffReport {
    type Key = (&'static str, Option<String>, String);
    // Compared pair by pair: a source set in one report may be split differently in the other.
    let index = |r: &Report| -> BTreeMap<Key, Exposure> {
        r.pairs()
            .into_iter()
            .map(|e| {
                let (k, app) = source_key(&e.source);
                ((k, app, e.target.clone()), e)
            })
            .collect()
    };
    let (a, b) = (index(old), index(new));
    let mut keys: Vec<&Key> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changes = Vec::new();
    for k in keys {
        let (before, after) = (a.get(k).map(state), b.get(k).map(state));
        let change = match (&before, &after) {
            (None, Some(_)) => Change::Opened,
            (Some(_), None) => Change::Closed,
            (Some(x), Some(y)) => {
                if x.status == Status::Latent && y.status == Status::Effective {
                    Change::Opened
                } else if x.status == Status::Effective && y.status == Status::Latent {
                    Change::Closed
                } else {
                    let (cx, cy) = (coverage(&x.traffic), coverage(&y.traffic));
                    let grows =
                        !covers(&cx, &cy) || y.entries.iter().any(|e| !x.entries.contains(e));
                    let shrinks =
                        !covers(&cy, &cx) || x.entries.iter().any(|e| !y.entries.contains(e));
                    match (grows, shrinks) {
                        (false, false) => continue,
                        (true, false) => Change::Widened,
                        (false, true) => Change::Narrowed,
                        (true, true) => Change::Changed,
                    }
                }
            }
            (None, None) => continue,
        };
        let severity = match (change, &after) {
            (Change::Opened | Change::Widened | Change::Changed, Some(s)) => {
                Some(severity_of(k.0, s))
            }
            _ => None,
        };
        let label_report = if after.is_some() { new } else { old };
        let source = match &k.1 {
            Some(id) => label_report
                .app(id)
                .or_else(|| old.app(id))
                .map(|x| x.name.clone())
                .unwrap_or_else(|| id.clone()),
            None => match k.0 {
                "internet-ipv4" => "internet (IPv4)".into(),
                "internet-ipv6" => "internet (IPv6)".into(),
                _ => "on-premises".into(),
            },
        };
        let app = label_report.app(&k.2).or_else(|| old.app(&k.2));
        let target_name = app
            .map(|x| format!("{} [{}]", x.name, x.kind))
            .unwrap_or_else(|| k.2.clone());
        let resources = app
            .map(|x| {
                if x.kind == crate::model::OwnerKind::LoadBalancer {
                    // The load balancer's ARN is in its application id (`lb:<arn>`).
                    vec![x.id.trim_start_matches("lb:").to_string()]
                } else {
                    x.members.clone()
                }
            })
            .unwrap_or_default();
        changes.push(ExposureChange {
            change,
            severity,
            source_kind: k.0,
            source_application: k.1.clone(),
            source,
            target: k.2.clone(),
            target_name,
            resources,
            before,
            after,
        });
    }
    changes.sort_by(|x, y| {
        (std::cmp::Reverse(x.severity), x.change).cmp(&(std::cmp::Reverse(y.severity), y.change))
    });
    let fps = |fs: &[Finding]| -> Vec<String> { fs.iter().map(finding_fingerprint).collect() };
    let (fa, fb) = (fps(old_findings), fps(new_findings));
    let findings_added = new_findings
        .iter()
        .zip(&fb)
        .filter(|(_, fp)| !fa.contains(fp))
        .map(|(f, _)| f.clone())
        .collect();
    let findings_removed = old_findings
        .iter()
        .zip(&fa)
        .filter(|(_, fp)| !fb.contains(fp))
        .map(|(f, _)| f.clone())
        .collect();
    DiffReport {
        old: old_label.to_string(),
        new: new_label.to_string(),
        exposures: changes,
        findings_added,
        findings_removed,
        fail_on,
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
    fn coverage_compares_port_sets() {
        let a = coverage(&[t("tcp", "22, 80-443")]);
        let b = coverage(&[t("tcp", "80")]);
        assert!(covers(&a, &b));
        assert!(!covers(&b, &a));
        assert!(covers(&coverage(&[t("all", "")]), &a));
        assert!(!covers(&a, &coverage(&[t("udp", "53")])));
        assert!(covers(&coverage(&[t("tcp", "all ports")]), &a));
        assert!(covers(
            &coverage(&[t("tcp", "1-10, 11-20")]),
            &coverage(&[t("tcp", "5-15")])
        ));
        assert!(sensitive(&[t("tcp", "3389")]));
        assert!(!sensitive(&[t("tcp", "443")]));
        assert!(sensitive(&[t("proto-0-255", "")]));
    }

    #[test]
    fn everything_but_one_port_does_not_cover_everything() {
        // All protocols but tcp/22 (a NACL denying SSH before allowing the rest).
        let all = PacketSet::from_box(PBox::FULL);
        let no_ssh = all.subtract(&PacketSet::from_box(
            PBox::FULL
                .with(Dim::Proto, (6, 6))
                .with(Dim::DstPort, (22, 22)),
        ));
        let (a, b) = (query::traffic_of(&all), query::traffic_of(&no_ssh));
        assert_eq!(a, vec![t("all", "")]);
        assert_ne!(b, a);
        assert!(!covers(&coverage(&b), &coverage(&a)));
        assert!(covers(&coverage(&a), &coverage(&b)));
        // Protocols past the thirteenth are compared too (udp/53 denied as well as GRE).
        let no_gre = all.subtract(&PacketSet::from_box(PBox::FULL.with(Dim::Proto, (47, 47))));
        let no_dns = no_gre.subtract(&PacketSet::from_box(
            PBox::FULL
                .with(Dim::Proto, (17, 17))
                .with(Dim::DstPort, (53, 53)),
        ));
        let (x, y) = (query::traffic_of(&no_gre), query::traffic_of(&no_dns));
        assert!(!covers(&coverage(&y), &coverage(&x)));
        assert!(covers(&coverage(&x), &coverage(&y)));
    }
}
