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

/// One finding present in both snapshots whose text, severity, rules or resources changed.
#[derive(Debug, Clone)]
pub struct FindingChange {
    /// The finding in the old snapshot.
    pub before: Finding,
    /// The finding in the new snapshot.
    pub after: Finding,
}

impl FindingChange {
    /// Whether the change raised the finding's severity (it then gates like an added finding
    /// of the new severity).
    pub fn severity_rose(&self) -> bool {
        self.after.severity > self.before.severity
    }
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
    /// Findings in both snapshots (the same code on the same resources and rules, see
    /// [`finding_identity`]) whose message, severity, rules or resources changed.
    pub findings_changed: Vec<FindingChange>,
    /// The threshold.
    pub fail_on: Threshold,
}

impl DiffReport {
    /// Changes that fail the gate: openings and widenings, added findings, and findings whose
    /// severity rose, at or above the threshold.
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
            + self
                .findings_changed
                .iter()
                .filter(|c| c.severity_rose() && self.fail_on.fails(c.after.severity))
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
    let (findings_added, findings_removed, findings_changed) =
        match_findings(old_findings, new_findings);
    DiffReport {
        old: old_label.to_string(),
        new: new_label.to_string(),
        exposures: changes,
        findings_added,
        findings_removed,
        findings_changed,
        fail_on,
    }
}

/// A rule of a finding without what the rule lets through: where the rule is, which stays
/// put when its ports change. The findings write rules as `acl-… inbound rule 100: allow
/// tcp …` (the NACL, direction and number), `sg-… inbound tcp port 22 from 0.0.0.0/0` (the
/// group, direction and peer), `rtb-… route 0.0.0.0/0 -> igw-…` (the route table and
/// destination) or `<listener ARN> TCP 80 forward` (kept whole).
pub fn rule_location(rule: &str) -> String {
    if let Some((at, _)) = rule.split_once(": ") {
        if at.contains(" rule ") {
            return at.to_string();
        }
    }
    if let Some((at, _)) = rule.split_once(" -> ") {
        if at.contains(" route ") {
            return at.to_string();
        }
    }
    let words: Vec<&str> = rule.split(' ').collect();
    if let [group, dir @ ("inbound" | "outbound"), rest @ ..] = &words[..] {
        let word = if *dir == "inbound" { "from" } else { "to" };
        if let Some(i) = rest.iter().position(|w| *w == word) {
            return format!("{group} {dir} {word} {}", rest[i + 1..].join(" "));
        }
    }
    rule.to_string()
}

/// What identifies a finding across two snapshots: its code, its resources and where its
/// rules are ([`rule_location`]), not its message nor the ports its rules name.
pub fn finding_identity(f: &Finding) -> (String, Vec<String>, Vec<String>) {
    let mut resources = f.resources.clone();
    resources.sort();
    resources.dedup();
    let mut rules: Vec<String> = f.rules.iter().map(|r| rule_location(r)).collect();
    rules.sort();
    rules.dedup();
    (f.code.to_string(), resources, rules)
}

/// One pass of [`match_findings`]: each unpaired new finding takes the first unpaired old one
/// with its key (with `unique`, only when the key is the only one of its kind on both sides).
fn pair_by(
    key: &dyn Fn(&Finding) -> String,
    unique: bool,
    old_left: &mut [Option<&Finding>],
    new_left: &mut [Option<&Finding>],
    pairs: &mut Vec<(usize, usize)>,
) {
    let old_keys: Vec<Option<String>> = old_left.iter().map(|f| f.map(key)).collect();
    let mut old_keys = old_keys;
    let new_keys: Vec<Option<String>> = new_left.iter().map(|f| f.map(key)).collect();
    let count = |keys: &[Option<String>], k: &str| {
        keys.iter().flatten().filter(|x| x.as_str() == k).count()
    };
    for j in 0..new_left.len() {
        let Some(k) = new_keys[j].clone() else {
            continue;
        };
        if new_left[j].is_none() {
            continue;
        }
        if unique && (count(&new_keys, &k) != 1 || count(&old_keys, &k) != 1) {
            continue;
        }
        if let Some(i) = old_keys
            .iter()
            .position(|x| x.as_deref() == Some(k.as_str()))
        {
            pairs.push((i, j));
            old_left[i] = None;
            old_keys[i] = None;
            new_left[j] = None;
        }
    }
}

/// Pairs the findings of two snapshots: the same finding (same fingerprint); else the same
/// identity ([`finding_identity`]); else the only finding of its code on those resources on
/// each side. A pair whose message, severity, rules or resources differ is changed; what
/// stays unpaired is added or removed.
fn match_findings(
    old: &[Finding],
    new: &[Finding],
) -> (Vec<Finding>, Vec<Finding>, Vec<FindingChange>) {
    let mut old_left: Vec<Option<&Finding>> = old.iter().map(Some).collect();
    let mut new_left: Vec<Option<&Finding>> = new.iter().map(Some).collect();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    pair_by(
        &finding_fingerprint,
        false,
        &mut old_left,
        &mut new_left,
        &mut pairs,
    );
    pair_by(
        &|f| format!("{:?}", finding_identity(f)),
        false,
        &mut old_left,
        &mut new_left,
        &mut pairs,
    );
    pair_by(
        &|f| {
            let (code, resources, _) = finding_identity(f);
            format!("{code} {resources:?}")
        },
        true,
        &mut old_left,
        &mut new_left,
        &mut pairs,
    );
    pairs.sort_by_key(|&(_, j)| j);
    let changed = pairs
        .into_iter()
        .map(|(i, j)| (&old[i], &new[j]))
        .filter(|(a, b)| {
            a.message != b.message
                || a.severity != b.severity
                || finding_fingerprint(a) != finding_fingerprint(b)
        })
        .map(|(a, b)| FindingChange {
            before: a.clone(),
            after: b.clone(),
        })
        .collect();
    let added = new_left.into_iter().flatten().cloned().collect();
    let removed = old_left.into_iter().flatten().cloned().collect();
    (added, removed, changed)
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
    fn rules_are_located_without_their_ports() {
        for (rule, at) in [
            (
                "acl-web outbound rule 100: allow tcp ports 0-1023 to 0.0.0.0/0",
                "acl-web outbound rule 100",
            ),
            (
                "sg-web inbound tcp ports 20-23 from 0.0.0.0/0",
                "sg-web inbound from 0.0.0.0/0",
            ),
            (
                "sg-web inbound all traffic from ::/0",
                "sg-web inbound from ::/0",
            ),
            (
                "sg-da outbound all traffic to 0.0.0.0/0",
                "sg-da outbound to 0.0.0.0/0",
            ),
            (
                "rtb-puba route 0.0.0.0/0 -> igw-a",
                "rtb-puba route 0.0.0.0/0",
            ),
            (
                "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/web/1/2 HTTP 80 forward",
                "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/web/1/2 HTTP 80 forward",
            ),
        ] {
            assert_eq!(rule_location(rule), at, "{rule}");
        }
    }

    fn finding(code: &'static str, sev: Severity, msg: &str, rules: &[&str]) -> Finding {
        Finding {
            code,
            severity: sev,
            message: msg.into(),
            resources: vec!["acl-web".into()],
            rules: rules.iter().map(|r| r.to_string()).collect(),
            remediation: String::new(),
        }
    }

    #[test]
    fn findings_are_paired_by_identity_before_they_count_as_added() {
        let old = [
            finding(
                "nacl-blocks-return",
                Severity::Low,
                "in",
                &["acl-web inbound rule 100: allow tcp port 443"],
            ),
            finding(
                "nacl-blocks-return",
                Severity::Low,
                "out",
                &["acl-web outbound rule 100: allow tcp ports 0-1023"],
            ),
            finding(
                "sg-open-to-world",
                Severity::Low,
                "same",
                &["sg-web inbound tcp port 22 from 0.0.0.0/0"],
            ),
        ];
        let new = [
            finding(
                "nacl-blocks-return",
                Severity::Medium,
                "out, all ports",
                &["acl-web outbound rule 100: allow tcp all ports"],
            ),
            finding(
                "sg-open-to-world",
                Severity::Low,
                "same",
                &["sg-web inbound tcp port 22 from 0.0.0.0/0"],
            ),
            finding(
                "nacl-rule-shadowed",
                Severity::Low,
                "new",
                &["acl-web inbound rule 90: deny"],
            ),
        ];
        let (added, removed, changed) = match_findings(&old, &new);
        assert_eq!(
            added.iter().map(|f| f.code).collect::<Vec<_>>(),
            ["nacl-rule-shadowed"]
        );
        assert_eq!(
            removed
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>(),
            ["in"]
        );
        assert_eq!(changed.len(), 1);
        assert_eq!(
            (
                changed[0].before.message.as_str(),
                changed[0].after.message.as_str()
            ),
            ("out", "out, all ports")
        );
        assert!(changed[0].severity_rose());
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
