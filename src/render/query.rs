//! The answer of `exposure query`, for people and as JSON.
//!
//! JSON contract (product brief): one object whose `verdict` is `reachable`,
//! `unreachable` or `unknown`, with `paths` (hops with component id, kind and
//! the rule that admitted the packet) or `blocked_by` (component id, reason
//! code, detail), and `assumptions`.

use crate::engine::query::traffic_text;
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::engine::query::{Answer, Traffic, Verdict};
use crate::model::Model;

#[derive(Serialize)]
struct JsonAnswer<'a> {
    schema_version: u32,
    kind: &'static str,
    from: &'a str,
    to: &'a str,
    protocol: Option<Vec<String>>,
    port: Option<String>,
    source_port: Option<String>,
    verdict: &'static str,
    traffic: Vec<JsonTraffic<'a>>,
    source_ports: Vec<String>,
    paths: Vec<JsonPath<'a>>,
    blocked_by: Vec<JsonBlock<'a>>,
    assumptions: &'a [String],
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonTraffic<'a> {
    protocol: &'a str,
    ports: &'a str,
}

#[derive(Serialize)]
struct JsonPath<'a> {
    entry: Option<&'a str>,
    traffic: Vec<JsonTraffic<'a>>,
    hops: Vec<JsonHop<'a>>,
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

fn traffic(t: &[Traffic]) -> Vec<JsonTraffic<'_>> {
    t.iter()
        .map(|t| JsonTraffic {
            protocol: &t.protocol,
            ports: &t.ports,
        })
        .collect()
}

fn range((a, b): (u16, u16)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

/// The answer as JSON.
pub fn json(a: &Answer) -> String {
    let r = &a.request;
    let doc = JsonAnswer {
        schema_version: SCHEMA_VERSION,
        kind: "query",
        from: &r.from,
        to: &r.to,
        protocol: r
            .protocols
            .as_ref()
            .map(|ps| ps.iter().map(|p| crate::model::protocol_name(*p)).collect()),
        port: r.ports.map(range),
        source_port: r.source_ports.map(range),
        verdict: a.verdict.as_str(),
        traffic: traffic(&a.traffic),
        source_ports: a.source_ports.iter().map(|p| range(*p)).collect(),
        paths: a
            .paths
            .iter()
            .map(|p| JsonPath {
                entry: p.entry.as_deref(),
                traffic: traffic(&p.traffic),
                hops: p
                    .hops
                    .iter()
                    .map(|h| JsonHop {
                        component: &h.component,
                        kind: h.kind,
                        name: &h.name,
                        direction: if h.reply { "return" } else { "forward" },
                        rule: &h.detail,
                    })
                    .collect(),
            })
            .collect(),
        blocked_by: a
            .blocked_by
            .iter()
            .map(|b| JsonBlock {
                component: &b.component,
                code: b.code,
                detail: &b.detail,
            })
            .collect(),
        assumptions: &a.assumptions,
        notes: &a.notes,
    };
    serde_json::to_string_pretty(&doc).expect("answer serialises") + "\n"
}

/// The answer as text.
pub fn human(m: &Model, a: &Answer) -> String {
    let r = &a.request;
    let mut out = String::new();
    let what = match (&r.protocols, r.ports) {
        (None, None) => "any traffic".to_string(),
        (p, port) => {
            let proto = p
                .as_ref()
                .map(|ps| {
                    ps.iter()
                        .map(|p| crate::model::protocol_name(*p))
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .unwrap_or_else(|| "any protocol".into());
            match port {
                Some(pr) => format!("{proto} port {}", range(pr)),
                None => proto,
            }
        }
    };
    let verdict = match a.verdict {
        Verdict::Reachable => "REACHABLE",
        Verdict::Unreachable => "UNREACHABLE",
        Verdict::Unknown => "UNKNOWN",
    };
    out.push_str(&format!("{} -> {} ({what}): {verdict}\n", r.from, r.to));
    if a.verdict == Verdict::Reachable {
        out.push_str(&format!("  gets through: {}\n", traffic_text(&a.traffic)));
        for n in &a.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        for (i, p) in a.paths.iter().enumerate() {
            let entry = p
                .entry
                .as_ref()
                .map(|e| {
                    let l = m.listeners.get(e);
                    let lb = l
                        .and_then(|l| m.load_balancers.get(&l.lb_arn))
                        .map(|lb| lb.name.clone())
                        .unwrap_or_default();
                    format!(
                        " via {lb} listener {} {}",
                        l.map(|l| l.protocol.clone()).unwrap_or_default(),
                        l.and_then(|l| l.port)
                            .map(|p| p.to_string())
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "\n  path {}{entry} ({}):\n",
                i + 1,
                traffic_text(&p.traffic)
            ));
            for h in &p.hops {
                let dir = if h.reply { "  <-" } else { "  ->" };
                let name = if h.name != h.component && !h.name.is_empty() {
                    format!(" ({})", h.name)
                } else {
                    String::new()
                };
                let rule = if h.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", h.detail)
                };
                out.push_str(&format!("  {dir} {} {}{name}{rule}\n", h.kind, h.component));
            }
        }
    } else if !a.blocked_by.is_empty() {
        out.push_str("  blocked by:\n");
        for b in &a.blocked_by {
            out.push_str(&format!("    {} [{}]: {}\n", b.component, b.code, b.detail));
        }
    }
    if !a.assumptions.is_empty() {
        out.push('\n');
        for s in &a.assumptions {
            out.push_str(&format!("  assumption: {s}\n"));
        }
    }
    out
}
