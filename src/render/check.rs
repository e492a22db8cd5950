//! The result of `exposure check`, for people, as JSON and as Markdown (a pull-request
//! comment: a summary table first, every violation's witness folded below).

use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::engine::walk::{Block, Hop};
use crate::policy::baseline::format_date;
use crate::policy::{severity_name, traffic_text, CheckReport, Party, Status};

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::New => "new",
        Status::Baselined(_) => "baselined",
        Status::Expired(_) => "expired",
    }
}

fn status_note(s: &Status) -> String {
    match s {
        Status::New => String::new(),
        Status::Baselined(x) => match x.expires {
            Some(d) => format!("accepted (expires {}): {}", format_date(d), x.reason),
            None => format!("accepted: {}", x.reason),
        },
        Status::Expired(x) => format!(
            "baseline entry expired on {}: {}",
            x.expires.map(format_date).unwrap_or_default(),
            x.reason
        ),
    }
}

fn party(p: &Party) -> String {
    if p.name == p.id {
        p.id.clone()
    } else if p.resource != p.id && p.resource != p.name {
        format!("{} ({}, {})", p.name, p.resource, p.id)
    } else {
        format!("{} ({})", p.name, p.id)
    }
}

fn hop_line(h: &Hop) -> String {
    let arrow = if h.reply { "<-" } else { "->" };
    let name = if h.name != h.component && !h.name.is_empty() {
        format!(" ({})", h.name)
    } else {
        String::new()
    };
    let detail = if h.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", h.detail)
    };
    format!("{arrow} {} {}{name}{detail}", h.kind, h.component)
}

fn block_line(b: &Block) -> String {
    format!("{} [{}]: {}", b.component, b.code, b.detail)
}

/// The check for people.
pub fn human(r: &CheckReport) -> String {
    let mut out = String::new();
    let (fv, bv, ff, bf) = r.counts();
    out.push_str(&format!("Snapshot: {}\n", r.snapshot));
    out.push_str(&format!(
        "Policies: {} evaluated; violations: {fv} failing, {bv} baselined",
        r.policies.len()
    ));
    if r.fail_on != crate::policy::Threshold::Never {
        out.push_str(&format!(
            "; findings at or above {}: {ff} failing, {bf} baselined",
            r.fail_on.as_str()
        ));
    }
    out.push('\n');
    for v in &r.violations {
        let x = &v.violation;
        let tag = match v.status {
            Status::New => "VIOLATION",
            Status::Baselined(_) => "baselined",
            Status::Expired(_) => "VIOLATION (expired baseline)",
        };
        out.push_str(&format!(
            "\n{tag} {} [{}] ({}:{})\n  {}\n",
            x.policy,
            severity_name(x.severity),
            x.file,
            x.line,
            x.message
        ));
        out.push_str(&format!(
            "  {} -> {}: {}, entry {}\n",
            party(&x.source),
            party(&x.destination),
            traffic_text(&x.traffic),
            x.entry
        ));
        let note = status_note(&v.status);
        if !note.is_empty() {
            out.push_str(&format!("  {note}\n"));
        }
        if matches!(v.status, Status::Baselined(_)) {
            continue;
        }
        if !x.witness.is_empty() {
            out.push_str("  witness path:\n");
            for h in &x.witness {
                out.push_str(&format!("    {}\n", hop_line(h)));
            }
        }
        if !x.blocked_by.is_empty() {
            out.push_str("  blocked by:\n");
            for b in &x.blocked_by {
                out.push_str(&format!("    {}\n", block_line(b)));
            }
        }
        out.push_str(&format!("  fingerprint {}\n", x.fingerprint));
    }
    for f in &r.findings {
        let tag = match f.status {
            Status::New => "FINDING",
            Status::Baselined(_) => "baselined finding",
            Status::Expired(_) => "FINDING (expired baseline)",
        };
        out.push_str(&format!(
            "\n{tag} {} [{}]\n  {}\n",
            f.finding.code,
            severity_name(f.finding.severity),
            f.finding.message
        ));
        let note = status_note(&f.status);
        if !note.is_empty() {
            out.push_str(&format!("  {note}\n"));
        }
        out.push_str(&format!("  fingerprint {}\n", f.fingerprint));
    }
    if !r.stale.is_empty() {
        out.push_str(&format!(
            "\nBaseline entries that match nothing any more ({}): remove them\n",
            r.stale.len()
        ));
        for e in &r.stale {
            out.push_str(&format!(
                "  {} {}\n",
                e.fingerprint,
                e.policy.as_deref().or(e.finding.as_deref()).unwrap_or("")
            ));
        }
    }
    if !r.undecided.is_empty() {
        out.push_str("\nUndecided (something on the way is not modelled):\n");
        for u in &r.undecided {
            out.push_str(&format!("  {u}\n"));
        }
    }
    if !r.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in &r.warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    out.push_str(&format!(
        "\nResult: {}\n",
        if r.failed() {
            format!("FAILED ({} failing)", fv + ff)
        } else {
            "passed".to_string()
        }
    ));
    out
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    schema_version: u32,
    kind: &'static str,
    snapshot: &'a str,
    passed: bool,
    fail_on: &'static str,
    summary: JsonSummary,
    policies: Vec<JsonPolicy<'a>>,
    violations: Vec<JsonViolation<'a>>,
    findings: Vec<JsonFinding<'a>>,
    stale_baseline: Vec<JsonStale<'a>>,
    undecided: &'a [String],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct JsonSummary {
    policies: usize,
    violations: usize,
    violations_baselined: usize,
    findings: usize,
    findings_baselined: usize,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    id: &'a str,
    kind: &'static str,
    severity: &'static str,
    description: &'a str,
    file: &'a str,
    line: usize,
    violations: usize,
}

#[derive(Serialize)]
struct JsonParty<'a> {
    id: &'a str,
    name: &'a str,
    resource: &'a str,
    kind: &'a str,
}

#[derive(Serialize)]
struct JsonTraffic<'a> {
    protocol: &'a str,
    ports: &'a str,
}

#[derive(Serialize)]
struct JsonHop<'a> {
    component: &'a str,
    kind: &'a str,
    name: &'a str,
    direction: &'static str,
    rule: &'a str,
}

#[derive(Serialize)]
struct JsonBlock<'a> {
    component: &'a str,
    code: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    policy: &'a str,
    kind: &'static str,
    severity: &'static str,
    file: &'a str,
    line: usize,
    message: &'a str,
    source: JsonParty<'a>,
    destination: JsonParty<'a>,
    traffic: Vec<JsonTraffic<'a>>,
    entry: &'a str,
    fingerprint: &'a str,
    status: &'static str,
    reason: Option<&'a str>,
    expires: Option<String>,
    witness: Vec<JsonHop<'a>>,
    blocked_by: Vec<JsonBlock<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    resources: &'a [String],
    rules: &'a [String],
    remediation: &'a str,
    fingerprint: &'a str,
    status: &'static str,
    reason: Option<&'a str>,
    expires: Option<String>,
}

#[derive(Serialize)]
struct JsonStale<'a> {
    fingerprint: &'a str,
    policy: Option<&'a str>,
    finding: Option<&'a str>,
    reason: &'a str,
}

fn jparty(p: &Party) -> JsonParty<'_> {
    JsonParty {
        id: &p.id,
        name: &p.name,
        resource: &p.resource,
        kind: &p.kind,
    }
}

fn suppression(s: &Status) -> (Option<&str>, Option<String>) {
    match s {
        Status::New => (None, None),
        Status::Baselined(x) | Status::Expired(x) => {
            (Some(x.reason.as_str()), x.expires.map(format_date))
        }
    }
}

/// The check as JSON (documented in docs/policies.md).
pub fn json(r: &CheckReport) -> String {
    let (fv, bv, ff, bf) = r.counts();
    let doc = JsonCheck {
        schema_version: SCHEMA_VERSION,
        kind: "check",
        snapshot: &r.snapshot,
        passed: !r.failed(),
        fail_on: r.fail_on.as_str(),
        summary: JsonSummary {
            policies: r.policies.len(),
            violations: fv,
            violations_baselined: bv,
            findings: ff,
            findings_baselined: bf,
        },
        policies: r
            .policies
            .iter()
            .map(|p| JsonPolicy {
                id: &p.id,
                kind: p.kind.as_str(),
                severity: severity_name(p.severity),
                description: &p.description,
                file: &p.file,
                line: p.line,
                violations: p.violations,
            })
            .collect(),
        violations: r
            .violations
            .iter()
            .map(|v| {
                let x = &v.violation;
                let (reason, expires) = suppression(&v.status);
                JsonViolation {
                    policy: &x.policy,
                    kind: x.kind.as_str(),
                    severity: severity_name(x.severity),
                    file: &x.file,
                    line: x.line,
                    message: &x.message,
                    source: jparty(&x.source),
                    destination: jparty(&x.destination),
                    traffic: x
                        .traffic
                        .iter()
                        .map(|t| JsonTraffic {
                            protocol: &t.protocol,
                            ports: &t.ports,
                        })
                        .collect(),
                    entry: &x.entry,
                    fingerprint: &x.fingerprint,
                    status: status_name(&v.status),
                    reason,
                    expires,
                    witness: x
                        .witness
                        .iter()
                        .map(|h| JsonHop {
                            component: &h.component,
                            kind: h.kind,
                            name: &h.name,
                            direction: if h.reply { "return" } else { "forward" },
                            rule: &h.detail,
                        })
                        .collect(),
                    blocked_by: x
                        .blocked_by
                        .iter()
                        .map(|b| JsonBlock {
                            component: &b.component,
                            code: b.code,
                            detail: &b.detail,
                        })
                        .collect(),
                }
            })
            .collect(),
        findings: r
            .findings
            .iter()
            .map(|f| {
                let (reason, expires) = suppression(&f.status);
                JsonFinding {
                    code: f.finding.code,
                    severity: severity_name(f.finding.severity),
                    message: &f.finding.message,
                    resources: &f.finding.resources,
                    rules: &f.finding.rules,
                    remediation: &f.finding.remediation,
                    fingerprint: &f.fingerprint,
                    status: status_name(&f.status),
                    reason,
                    expires,
                }
            })
            .collect(),
        stale_baseline: r
            .stale
            .iter()
            .map(|e| JsonStale {
                fingerprint: &e.fingerprint,
                policy: e.policy.as_deref(),
                finding: e.finding.as_deref(),
                reason: &e.reason,
            })
            .collect(),
        undecided: &r.undecided,
        warnings: &r.warnings,
    };
    serde_json::to_string_pretty(&doc).expect("check serialises") + "\n"
}

/// Text for a Markdown table cell or list item: pipes escaped, HTML tags defused, and line
/// breaks (a name or tag may hold them) written as spaces, since a table row is one line.
pub(crate) fn md_escape(s: &str) -> String {
    s.replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The check as Markdown for a pull-request comment.
pub fn markdown(r: &CheckReport) -> String {
    let (fv, bv, ff, bf) = r.counts();
    let mut out = String::new();
    let verdict = if r.failed() {
        ":x: failed"
    } else {
        ":white_check_mark: passed"
    };
    out.push_str(&format!(
        "## exposure check: {verdict}\n\nSnapshot `{}`\n\n",
        md_escape(&r.snapshot)
    ));
    out.push_str("| | count |\n|---|---|\n");
    out.push_str(&format!("| policies evaluated | {} |\n", r.policies.len()));
    out.push_str(&format!(
        "| violations | {fv} |\n| violations accepted by the baseline | {bv} |\n"
    ));
    if r.fail_on != crate::policy::Threshold::Never {
        out.push_str(&format!(
            "| findings at or above {} | {ff} |\n| findings accepted by the baseline | {bf} |\n",
            r.fail_on.as_str()
        ));
    }
    if !r.stale.is_empty() {
        out.push_str(&format!("| stale baseline entries | {} |\n", r.stale.len()));
    }
    let mut failing: Vec<_> = r.violations.iter().filter(|v| v.status.fails()).collect();
    failing.sort_by_key(|v| std::cmp::Reverse(v.violation.severity));
    if !failing.is_empty() {
        out.push_str("\n### Violations\n\n| severity | policy | source | destination | traffic | entry |\n|---|---|---|---|---|---|\n");
        for v in &failing {
            let x = &v.violation;
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                severity_name(x.severity),
                x.policy,
                md_escape(&x.source.name),
                md_escape(&x.destination.name),
                md_escape(&traffic_text(&x.traffic)),
                md_escape(&x.entry)
            ));
        }
        out.push_str("\n<details><summary>Witness paths</summary>\n\n");
        for v in &failing {
            let x = &v.violation;
            out.push_str(&format!(
                "**`{}`** ({}:{}): {}\n\n",
                x.policy,
                md_escape(&x.file),
                x.line,
                md_escape(&x.message)
            ));
            let note = status_note(&v.status);
            if !note.is_empty() {
                out.push_str(&format!("_{}_\n\n", md_escape(&note)));
            }
            if !x.witness.is_empty() || !x.blocked_by.is_empty() {
                out.push_str("```\n");
                for h in &x.witness {
                    out.push_str(&format!("{}\n", hop_line(h)));
                }
                for b in &x.blocked_by {
                    out.push_str(&format!("blocked by {}\n", block_line(b)));
                }
                out.push_str("```\n\n");
            }
        }
        out.push_str("</details>\n");
    }
    let gated: Vec<_> = r.findings.iter().filter(|f| f.status.fails()).collect();
    if !gated.is_empty() {
        out.push_str("\n<details><summary>Findings</summary>\n\n| severity | code | finding |\n|---|---|---|\n");
        for f in gated {
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                severity_name(f.finding.severity),
                f.finding.code,
                md_escape(&f.finding.message)
            ));
        }
        out.push_str("\n</details>\n");
    }
    let accepted: Vec<_> = r.violations.iter().filter(|v| !v.status.fails()).collect();
    if !accepted.is_empty() {
        out.push_str("\n<details><summary>Accepted by the baseline</summary>\n\n");
        for v in accepted {
            let x = &v.violation;
            out.push_str(&format!(
                "- `{}` {} -> {} ({}): {}\n",
                x.policy,
                md_escape(&x.source.name),
                md_escape(&x.destination.name),
                md_escape(&traffic_text(&x.traffic)),
                md_escape(&status_note(&v.status))
            ));
        }
        out.push_str("\n</details>\n");
    }
    if !r.warnings.is_empty() || !r.undecided.is_empty() {
        out.push_str("\n<details><summary>Warnings</summary>\n\n");
        for w in r.undecided.iter().chain(&r.warnings) {
            out.push_str(&format!("- {}\n", md_escape(w)));
        }
        out.push_str("\n</details>\n");
    }
    out
}
