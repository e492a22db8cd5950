//! The result of `exposure diff`, for people, as JSON and as Markdown.

use serde::Serialize;

use super::check::md_escape;
use super::SCHEMA_VERSION;
use crate::analysis::Status;
use crate::findings::Finding;
use crate::policy::diff::{DiffReport, ExposureChange, ExposureState, FindingChange};
use crate::policy::{severity_name, traffic_text};

fn status(s: Status) -> &'static str {
    match s {
        Status::Effective => "effective",
        Status::Latent => "latent",
    }
}

fn side(s: &Option<ExposureState>) -> String {
    match s {
        None => "nothing".into(),
        Some(x) => {
            let entries = if x.entries.iter().all(|e| e == "direct") {
                String::new()
            } else {
                format!(" via {}", x.entries.join(", "))
            };
            let latent = if x.status == Status::Latent {
                " (latent)"
            } else {
                ""
            };
            format!("{}{entries}{latent}", traffic_text(&x.traffic))
        }
    }
}

fn line(c: &ExposureChange) -> String {
    let sign = match c.change {
        crate::policy::diff::Change::Opened | crate::policy::diff::Change::Widened => "+",
        crate::policy::diff::Change::Closed | crate::policy::diff::Change::Narrowed => "-",
        crate::policy::diff::Change::Changed => "~",
    };
    let sev = c
        .severity
        .map(|s| format!(" [{}]", severity_name(s)))
        .unwrap_or_default();
    format!(
        "{sign} {:<8} {} -> {}: {} => {}{sev}",
        c.change.as_str(),
        c.source,
        c.target_name,
        side(&c.before),
        side(&c.after)
    )
}

fn finding_line(f: &Finding) -> String {
    format!("{} [{}] {}", f.code, severity_name(f.severity), f.message)
}

fn changed_line(c: &FindingChange) -> String {
    let rose = if c.severity_rose() {
        format!(" (severity rose from {})", severity_name(c.before.severity))
    } else {
        String::new()
    };
    format!("{}{rose}", finding_line(&c.after))
}

/// The diff for people.
pub fn human(d: &DiffReport) -> String {
    let mut out = format!("Old: {}\nNew: {}\n", d.old, d.new);
    out.push_str(&format!("\nExposure changes ({}):\n", d.exposures.len()));
    if d.exposures.is_empty() {
        out.push_str("  none\n");
    }
    for c in &d.exposures {
        out.push_str(&format!("  {}\n", line(c)));
    }
    out.push_str(&format!("\nFindings added ({}):\n", d.findings_added.len()));
    for f in &d.findings_added {
        out.push_str(&format!("  + {}\n", finding_line(f)));
    }
    out.push_str(&format!(
        "Findings removed ({}):\n",
        d.findings_removed.len()
    ));
    for f in &d.findings_removed {
        out.push_str(&format!("  - {}\n", finding_line(f)));
    }
    out.push_str(&format!(
        "Findings changed ({}):\n",
        d.findings_changed.len()
    ));
    for c in &d.findings_changed {
        out.push_str(&format!("  ~ {}\n", changed_line(c)));
        out.push_str(&format!(
            "      was: [{}] {}\n",
            severity_name(c.before.severity),
            c.before.message
        ));
    }
    out.push_str(&format!(
        "\nResult: {}\n",
        if d.failed() {
            format!(
                "FAILED ({} change(s) at or above {})",
                d.failing(),
                d.fail_on.as_str()
            )
        } else {
            "passed".into()
        }
    ));
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    schema_version: u32,
    kind: &'static str,
    old: &'a str,
    new: &'a str,
    passed: bool,
    fail_on: &'static str,
    exposures: Vec<JsonChange<'a>>,
    findings_added: Vec<JsonFinding<'a>>,
    findings_removed: Vec<JsonFinding<'a>>,
    findings_changed: Vec<JsonFindingChange<'a>>,
}

#[derive(Serialize)]
struct JsonFindingChange<'a> {
    code: &'a str,
    severity: &'static str,
    severity_rose: bool,
    before: JsonFinding<'a>,
    after: JsonFinding<'a>,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    change: &'static str,
    severity: Option<&'static str>,
    source: &'static str,
    source_application: Option<&'a str>,
    source_name: &'a str,
    target: &'a str,
    target_name: &'a str,
    before: Option<JsonState<'a>>,
    after: Option<JsonState<'a>>,
}

#[derive(Serialize)]
struct JsonState<'a> {
    status: &'static str,
    traffic: Vec<JsonTraffic<'a>>,
    entries: &'a [String],
    members_exposed: usize,
}

#[derive(Serialize)]
struct JsonTraffic<'a> {
    protocol: &'a str,
    ports: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    resources: &'a [String],
}

fn jstate(s: &Option<ExposureState>) -> Option<JsonState<'_>> {
    s.as_ref().map(|x| JsonState {
        status: status(x.status),
        traffic: x
            .traffic
            .iter()
            .map(|t| JsonTraffic {
                protocol: &t.protocol,
                ports: &t.ports,
            })
            .collect(),
        entries: &x.entries,
        members_exposed: x.members_exposed,
    })
}

fn jfinding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        code: f.code,
        severity: severity_name(f.severity),
        message: &f.message,
        resources: &f.resources,
    }
}

/// The diff as JSON (documented in docs/policies.md).
pub fn json(d: &DiffReport) -> String {
    let doc = JsonDiff {
        schema_version: SCHEMA_VERSION,
        kind: "diff",
        old: &d.old,
        new: &d.new,
        passed: !d.failed(),
        fail_on: d.fail_on.as_str(),
        exposures: d
            .exposures
            .iter()
            .map(|c| JsonChange {
                change: c.change.as_str(),
                severity: c.severity.map(severity_name),
                source: c.source_kind,
                source_application: c.source_application.as_deref(),
                source_name: &c.source,
                target: &c.target,
                target_name: &c.target_name,
                before: jstate(&c.before),
                after: jstate(&c.after),
            })
            .collect(),
        findings_added: d.findings_added.iter().map(jfinding).collect(),
        findings_removed: d.findings_removed.iter().map(jfinding).collect(),
        findings_changed: d
            .findings_changed
            .iter()
            .map(|c| JsonFindingChange {
                code: c.after.code,
                severity: severity_name(c.after.severity),
                severity_rose: c.severity_rose(),
                before: jfinding(&c.before),
                after: jfinding(&c.after),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).expect("diff serialises") + "\n"
}

/// The diff as Markdown for a pull-request comment.
pub fn markdown(d: &DiffReport) -> String {
    let count =
        |c: crate::policy::diff::Change| d.exposures.iter().filter(|x| x.change == c).count();
    use crate::policy::diff::Change;
    let verdict = if d.failed() {
        ":x: this change opens exposure"
    } else {
        ":white_check_mark: no new exposure"
    };
    let mut out = format!("## exposure diff: {verdict}\n\n");
    out.push_str("| | count |\n|---|---|\n");
    for c in [
        Change::Opened,
        Change::Widened,
        Change::Changed,
        Change::Narrowed,
        Change::Closed,
    ] {
        out.push_str(&format!("| exposures {} | {} |\n", c.as_str(), count(c)));
    }
    out.push_str(&format!(
        "| findings added | {} |\n| findings removed | {} |\n| findings changed | {} |\n",
        d.findings_added.len(),
        d.findings_removed.len(),
        d.findings_changed.len()
    ));
    if !d.exposures.is_empty() {
        out.push_str("\n<details><summary>Exposure changes</summary>\n\n| change | severity | source | target | before | after |\n|---|---|---|---|---|---|\n");
        for c in &d.exposures {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                c.change.as_str(),
                c.severity.map(severity_name).unwrap_or(""),
                md_escape(&c.source),
                md_escape(&c.target_name),
                md_escape(&side(&c.before)),
                md_escape(&side(&c.after))
            ));
        }
        out.push_str("\n</details>\n");
    }
    if !d.findings_added.is_empty()
        || !d.findings_removed.is_empty()
        || !d.findings_changed.is_empty()
    {
        out.push_str("\n<details><summary>Findings</summary>\n\n");
        for f in &d.findings_added {
            out.push_str(&format!("- added: {}\n", md_escape(&finding_line(f))));
        }
        for f in &d.findings_removed {
            out.push_str(&format!("- removed: {}\n", md_escape(&finding_line(f))));
        }
        for c in &d.findings_changed {
            out.push_str(&format!(
                "- changed: {} (was: {})\n",
                md_escape(&changed_line(c)),
                md_escape(&c.before.message)
            ));
        }
        out.push_str("\n</details>\n");
    }
    out.push_str(&format!(
        "\n<sub>{} → {}</sub>\n",
        md_escape(&d.old),
        md_escape(&d.new)
    ));
    out
}
