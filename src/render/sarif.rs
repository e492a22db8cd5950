//! SARIF 2.1.0 for `analyze`, `check` and `diff`, so that GitHub code scanning and other
//! SARIF viewers show findings and policy violations.
//!
//! Rule ids are the finding codes and policy ids (and `exposure-opened`,
//! `exposure-widened`, `exposure-changed` for diff). Each result is located at the
//! resource it is about — its id or ARN as a logical location — and, when a file is
//! known, at that file: the policy's line for a violation, the snapshot for a finding.
//! Witness paths are code flows; baselined violations carry an external, accepted
//! suppression with the baseline's reason. The output is validated against the official
//! SARIF 2.1.0 schema in the test suite (`tests/data/sarif-schema-2.1.0.json`).

use serde_json::{json, Map, Value};

use super::report::Analysis;
use crate::engine::walk::Hop;
use crate::findings::{Finding, Severity};
use crate::policy::diff::{Change, DiffReport};
use crate::policy::{severity_name, traffic_text, CheckReport, Status};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The score GitHub code scanning reads to rank security results.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A relative path as a URI reference: forward slashes, reserved bytes percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Rules in first-seen order, with their indices.
#[derive(Default)]
struct Rules {
    ids: Vec<String>,
    rules: Vec<Value>,
}

impl Rules {
    fn index(&mut self, id: &str, make: impl FnOnce() -> Value) -> usize {
        if let Some(i) = self.ids.iter().position(|x| x == id) {
            return i;
        }
        self.ids.push(id.to_string());
        self.rules.push(make());
        self.ids.len() - 1
    }
}

fn rule(id: &str, short: &str, full: &str, help: &str, severity: Severity, tags: &[&str]) -> Value {
    let mut all_tags = vec!["security", "network"];
    all_tags.extend_from_slice(tags);
    json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": all_tags,
            "security-severity": security_severity(severity),
            "problem.severity": severity_name(severity)
        }
    })
}

fn finding_rule(f: &Finding) -> Value {
    rule(
        f.code,
        f.code,
        &f.message,
        &f.remediation,
        f.severity,
        &["finding"],
    )
}

fn logical(name: &str, fqn: &str) -> Value {
    json!({"name": name, "fullyQualifiedName": fqn, "kind": "resource"})
}

fn location(artifact: Option<(&str, Option<usize>)>, logical_locations: Vec<Value>) -> Value {
    let mut loc = Map::new();
    if let Some((file, line)) = artifact {
        let mut phys = json!({"artifactLocation": {"uri": uri(file)}});
        if let Some(l) = line {
            phys["region"] = json!({"startLine": l.max(1)});
        }
        loc.insert("physicalLocation".into(), phys);
    }
    if !logical_locations.is_empty() {
        loc.insert("logicalLocations".into(), Value::Array(logical_locations));
    }
    Value::Object(loc)
}

fn code_flow(hops: &[Hop]) -> Value {
    let locations: Vec<Value> = hops
        .iter()
        .map(|h| {
            let dir = if h.reply { "return" } else { "forward" };
            json!({
                "location": {
                    "logicalLocations": [logical(&h.name, &h.component)],
                    "message": {"text": format!("{dir} {} {}: {}", h.kind, h.component, h.detail)}
                }
            })
        })
        .collect();
    json!({"threadFlows": [{"locations": locations}]})
}

fn finding_result(
    f: &Finding,
    fingerprint: &str,
    rule_index: usize,
    artifact: Option<&str>,
) -> Value {
    let logical_locations: Vec<Value> = f.resources.iter().map(|r| logical(r, r)).collect();
    json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": format!("{} Remediation: {}", f.message, f.remediation)},
        "locations": [location(artifact.map(|a| (a, None)), logical_locations)],
        "partialFingerprints": {"exposureFinding/v1": fingerprint},
        "properties": {"severity": severity_name(f.severity), "rules": f.rules}
    })
}

fn log(results: Vec<Value>, rules: Rules, properties: Value) -> String {
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "exposure",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.rules
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties
        }]
    });
    serde_json::to_string_pretty(&doc).expect("SARIF serialises") + "\n"
}

/// `analyze`: one result per finding. `snapshot` is the snapshot path when there is one.
pub fn analyze(a: &Analysis, snapshot: Option<&str>) -> String {
    let mut rules = Rules::default();
    let results = a
        .findings
        .iter()
        .map(|f| {
            let i = rules.index(f.code, || finding_rule(f));
            finding_result(f, &crate::policy::finding_fingerprint(f), i, snapshot)
        })
        .collect();
    log(
        results,
        rules,
        json!({"snapshot": a.inventory.origin, "command": "analyze"}),
    )
}

/// `check`: one result per policy violation and per gated finding.
pub fn check(r: &CheckReport) -> String {
    let mut rules = Rules::default();
    let mut results = Vec::new();
    for p in &r.policies {
        rules.index(&p.id, || {
            rule(
                &p.id,
                p.description.split(". ").next().unwrap_or(&p.description),
                &p.description,
                &format!(
                    "A {} policy defined in {} line {}. Fix the network configuration, or accept the violation in a baseline with a reason.",
                    p.kind.as_str(),
                    p.file,
                    p.line
                ),
                p.severity,
                &["policy", p.kind.as_str()],
            )
        });
    }
    for v in &r.violations {
        let x = &v.violation;
        let i = rules.index(&x.policy, || Value::Null);
        let mut res = json!({
            "ruleId": x.policy,
            "ruleIndex": i,
            "level": level(x.severity),
            "message": {"text": x.message},
            "locations": [location(
                Some((&x.file, Some(x.line))),
                vec![logical(&x.destination.name, &x.destination.resource)]
            )],
            "relatedLocations": [{
                "id": 1,
                "message": {"text": format!("source: {}", x.source.name)},
                "logicalLocations": [logical(&x.source.name, &x.source.resource)]
            }],
            "partialFingerprints": {"exposureViolation/v1": x.fingerprint},
            "properties": {
                "source": x.source.id,
                "destination": x.destination.id,
                "traffic": traffic_text(&x.traffic),
                "entry": x.entry,
                "status": match v.status { Status::New => "new", Status::Baselined(_) => "baselined", Status::Expired(_) => "expired" },
                "blockedBy": x.blocked_by.iter().map(|b| format!("{} [{}]: {}", b.component, b.code, b.detail)).collect::<Vec<_>>()
            }
        });
        if !x.witness.is_empty() {
            res["codeFlows"] = json!([code_flow(&x.witness)]);
        }
        if let Status::Baselined(s) = &v.status {
            res["suppressions"] =
                json!([{"kind": "external", "status": "accepted", "justification": s.reason}]);
        }
        results.push(res);
    }
    for f in &r.findings {
        let i = rules.index(f.finding.code, || finding_rule(&f.finding));
        let mut res = finding_result(&f.finding, &f.fingerprint, i, Some(&r.snapshot));
        if let Status::Baselined(s) = &f.status {
            res["suppressions"] =
                json!([{"kind": "external", "status": "accepted", "justification": s.reason}]);
        }
        results.push(res);
    }
    log(
        results,
        rules,
        json!({"snapshot": r.snapshot, "command": "check", "passed": !r.failed()}),
    )
}

/// `diff`: one result per exposure opened, widened or changed, and per finding added.
pub fn diff(d: &DiffReport) -> String {
    let mut rules = Rules::default();
    let mut results = Vec::new();
    for c in &d.exposures {
        let Some(severity) = c.severity else { continue };
        let (id, text) = match c.change {
            Change::Opened => ("exposure-opened", "A change opens an exposure"),
            Change::Widened => ("exposure-widened", "A change widens an exposure"),
            _ => (
                "exposure-changed",
                "A change alters what an exposure lets through",
            ),
        };
        let i = rules.index(id, || {
            rule(
                id,
                text,
                &format!("{text}: a source reaches an application it did not reach before, or on more ports or through more entry points."),
                "Check that the new reachability is intended; if not, revert the security group, route, NACL or listener change.",
                Severity::High,
                &["diff"],
            )
        });
        let after = c.after.as_ref();
        let message = format!(
            "{}: {} -> {}: {} (before: {})",
            c.change.as_str(),
            c.source,
            c.target_name,
            after.map(|a| traffic_text(&a.traffic)).unwrap_or_default(),
            c.before
                .as_ref()
                .map(|b| traffic_text(&b.traffic))
                .unwrap_or_else(|| "nothing".into())
        );
        let logical_locations: Vec<Value> = if c.resources.is_empty() {
            vec![logical(&c.target_name, &c.target)]
        } else {
            c.resources.iter().map(|r| logical(r, r)).collect()
        };
        let fp = crate::policy::fingerprint(&[
            c.change.as_str(),
            c.source_kind,
            c.source_application.as_deref().unwrap_or(""),
            &c.target,
            &after.map(|a| traffic_text(&a.traffic)).unwrap_or_default(),
        ]);
        results.push(json!({
            "ruleId": id,
            "ruleIndex": i,
            "level": level(severity),
            "message": {"text": message},
            "locations": [location(Some((&d.new, None)), logical_locations)],
            "partialFingerprints": {"exposureChange/v1": fp},
            "properties": {"severity": severity_name(severity), "source": c.source_kind, "target": c.target}
        }));
    }
    // Added findings, and those whose severity rose (they gate as added ones do).
    let rose = d
        .findings_changed
        .iter()
        .filter(|c| c.severity_rose())
        .map(|c| &c.after);
    for f in d.findings_added.iter().chain(rose) {
        let i = rules.index(f.code, || finding_rule(f));
        results.push(finding_result(
            f,
            &crate::policy::finding_fingerprint(f),
            i,
            Some(&d.new),
        ));
    }
    log(
        results,
        rules,
        json!({"old": d.old, "new": d.new, "command": "diff", "passed": !d.failed()}),
    )
}
