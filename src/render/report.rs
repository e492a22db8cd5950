//! The `analyze` report: exposures first, then findings, then the inventory,
//! in human, JSON and Markdown form.

use crate::engine::query::traffic_text;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

use super::check::md_escape;
use super::stream::ObjectWriter;
use super::SCHEMA_VERSION;
use crate::analysis::{AppSet, Report, Source, Status};
use crate::findings::Finding;
use crate::inventory::Inventory;
use crate::model::Level;

/// Everything `analyze` prints.
pub struct Analysis<'a> {
    /// The inventory.
    pub inventory: &'a Inventory,
    /// The exposure report.
    pub report: &'a Report,
    /// Findings.
    pub findings: &'a [Finding],
}

fn source_kind(s: &Source) -> &'static str {
    match s {
        Source::InternetV4 => "internet-ipv4",
        Source::InternetV6 => "internet-ipv6",
        Source::Onprem => "onprem",
        Source::Application(_) => "application",
        Source::Applications(_) => "applications",
    }
}

/// Whether the source is one or more applications (not the internet or on-premises).
fn is_internal(s: &Source) -> bool {
    matches!(s, Source::Application(_) | Source::Applications(_))
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Effective => "effective",
        Status::Latent => "latent",
    }
}

fn app_label(r: &Report, id: &str) -> String {
    match r.app(id) {
        Some(a) => {
            let n = a.members.len();
            if n > 1 {
                format!("{} [{}, {n} interfaces]", a.name, a.kind)
            } else {
                format!("{} [{}]", a.name, a.kind)
            }
        }
        None => id.to_string(),
    }
}

#[derive(Serialize)]
struct JsonApp<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'static str,
    members: &'a [String],
    security_groups: &'a [String],
    vpcs: &'a [String],
    subnets: &'a [String],
    account: Option<&'a str>,
    region: Option<&'a str>,
}

/// An exposure as the JSON report writes it ([`write_exposure`] writes the same text without
/// `serde`; this is its reference).
#[cfg(test)]
#[derive(Serialize)]
struct JsonExposure<'a> {
    source: &'static str,
    source_application: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_applications: Option<JsonSources>,
    target: &'a str,
    status: &'static str,
    traffic: Vec<JsonTraffic<'a>>,
    entries: &'a [String],
    members_exposed: usize,
    blocked_by: &'a [String],
}

/// A set of source applications: how many, and which, as indices into `applications`
/// written as ranges (`"0-3,7,9-14"`).
#[cfg(test)]
#[derive(Serialize)]
struct JsonSources {
    count: usize,
    indices: String,
}

/// Appends the ranges of `set` as the report writes them (`0-3,7,9-14`), with itoa: this is
/// most of a large report's text (l: about 500 MB of it).
fn write_ranges(set: &crate::engine::appset::AppSet, out: &mut Vec<u8>) {
    let mut number = itoa::Buffer::new();
    for (i, (a, b)) in set.ranges().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(number.format(a).as_bytes());
        if a != b {
            out.push(b'-');
            out.extend_from_slice(number.format(b).as_bytes());
        }
    }
}

#[cfg(test)]
#[derive(Serialize)]
struct JsonTraffic<'a> {
    protocol: &'a str,
    ports: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: crate::findings::Severity,
    message: &'a str,
    resources: &'a [String],
    rules: &'a [String],
    remediation: &'a str,
}

use super::inventory::{json_diagnostics, json_locations};

/// The analysis as JSON (documented in docs/json-output.md).
pub fn json(a: &Analysis) -> String {
    let mut doc = ObjectWriter::new(Vec::new());
    json_fields(a, &mut doc).expect("writing to memory");
    let text = doc.finish().expect("writing to memory");
    String::from_utf8(text).expect("serde_json writes UTF-8") + "\n"
}

/// Writes the fields of the document [`json`] prints, for a caller that writes it as it is
/// serialised (the report of a large estate is hundreds of megabytes: better not held twice).
/// With the object's end and a final newline, it is [`json`]'s text.
pub fn json_fields<W: Write + Send>(a: &Analysis, doc: &mut ObjectWriter<W>) -> io::Result<()> {
    let (inv, report) = (a.inventory, a.report);
    doc.field("schema_version", &SCHEMA_VERSION)?;
    doc.field("kind", "analysis")?;
    doc.field("snapshot", &inv.origin)?;
    doc.field("partial", &inv.partial)?;
    let applications: Vec<JsonApp> = report
        .applications
        .iter()
        .map(|x| JsonApp {
            id: &x.id,
            name: &x.name,
            kind: x.kind.as_str(),
            members: &x.members,
            security_groups: &x.groups,
            vpcs: &x.vpcs,
            subnets: &x.subnets,
            account: x.location.account.as_deref(),
            region: x.location.region.as_deref(),
        })
        .collect();
    doc.field("applications", &applications)?;
    // On every core (the order kept): writing the source ranges is most of the work here.
    doc.field_par_with("exposures", &report.exposures, |e, out| {
        write_exposure(report, e, out)
    })?;
    let findings: Vec<JsonFinding> = a
        .findings
        .iter()
        .map(|f| JsonFinding {
            code: f.code,
            severity: f.severity,
            message: &f.message,
            resources: &f.resources,
            rules: &f.rules,
            remediation: &f.remediation,
        })
        .collect();
    doc.field("findings", &findings)?;
    let totals: BTreeMap<&str, usize> = inv.totals.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    doc.field("totals", &totals)?;
    doc.field("by_location", &json_locations(inv))?;
    doc.field("assumptions", &all_assumptions(a))?;
    doc.field("warnings", &json_diagnostics(inv, Level::Warning))?;
    doc.field("notes", &json_diagnostics(inv, Level::Note))
}

/// The one application an exposure's source names, if it names one.
fn single_source<'a>(report: &'a Report, e: &'a crate::analysis::Exposure) -> Option<&'a str> {
    match &e.source {
        Source::Application(id) => Some(id),
        Source::Applications(set) => set
            .only()
            .and_then(|i| report.applications.get(i as usize))
            .map(|x| x.id.as_str()),
        _ => None,
    }
}

#[cfg(test)]
fn json_exposure<'a>(report: &'a Report, e: &'a crate::analysis::Exposure) -> JsonExposure<'a> {
    JsonExposure {
        source: source_kind(&e.source),
        source_application: single_source(report, e),
        source_applications: match &e.source {
            Source::Applications(set) => {
                let mut indices = Vec::new();
                write_ranges(set, &mut indices);
                Some(JsonSources {
                    count: set.len(),
                    indices: String::from_utf8(indices).expect("digits"),
                })
            }
            _ => None,
        },
        target: &e.target,
        status: status(e.status),
        traffic: e
            .traffic
            .iter()
            .map(|t| JsonTraffic {
                protocol: &t.protocol,
                ports: &t.ports,
            })
            .collect(),
        entries: &e.entries,
        members_exposed: e.members_exposed,
        blocked_by: &e.blocked_by,
    }
}

/// Writes an exposure as an item of the report's `exposures`, byte for byte as
/// `serde_json`'s pretty printer writes it there ([`super::stream::ITEM_DEPTH`]), without
/// `serde`: the source ranges, most of a large report, go straight into `out` (through
/// `serde` they were made into a string, scanned for characters to escape, then scanned again
/// for line breaks to indent: l's writing took twice as long).
fn write_exposure(
    report: &Report,
    e: &crate::analysis::Exposure,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    /// A line break, then the indentation of `depth` (levels of two spaces).
    fn newline(out: &mut Vec<u8>, depth: usize) {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    }
    /// A key at `depth` on a line of its own.
    fn key(out: &mut Vec<u8>, depth: usize, name: &str) {
        newline(out, depth);
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
    }
    fn string(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
        serde_json::to_writer(&mut *out, s)?;
        Ok(())
    }
    /// A list of strings whose key is at `depth`.
    fn strings(out: &mut Vec<u8>, depth: usize, list: &[String]) -> io::Result<()> {
        if list.is_empty() {
            out.extend_from_slice(b"[]");
            return Ok(());
        }
        out.push(b'[');
        for (i, x) in list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            newline(out, depth + 1);
            string(out, x)?;
        }
        newline(out, depth);
        out.push(b']');
        Ok(())
    }
    const D: usize = super::stream::ITEM_DEPTH + 1;
    let mut number = itoa::Buffer::new();
    out.push(b'{');
    key(out, D, "source");
    string(out, source_kind(&e.source))?;
    out.push(b',');
    key(out, D, "source_application");
    match single_source(report, e) {
        Some(id) => string(out, id)?,
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
    if let Source::Applications(set) = &e.source {
        key(out, D, "source_applications");
        out.push(b'{');
        key(out, D + 1, "count");
        out.extend_from_slice(number.format(set.len()).as_bytes());
        out.push(b',');
        key(out, D + 1, "indices");
        out.push(b'"');
        write_ranges(set, out);
        out.push(b'"');
        newline(out, D);
        out.extend_from_slice(b"},");
    }
    key(out, D, "target");
    string(out, &e.target)?;
    out.push(b',');
    key(out, D, "status");
    string(out, status(e.status))?;
    out.push(b',');
    key(out, D, "traffic");
    if e.traffic.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.push(b'[');
        for (i, t) in e.traffic.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            newline(out, D + 1);
            out.push(b'{');
            key(out, D + 2, "protocol");
            string(out, &t.protocol)?;
            out.push(b',');
            key(out, D + 2, "ports");
            string(out, &t.ports)?;
            newline(out, D + 1);
            out.push(b'}');
        }
        newline(out, D);
        out.push(b']');
    }
    out.push(b',');
    key(out, D, "entries");
    strings(out, D, &e.entries)?;
    out.push(b',');
    key(out, D, "members_exposed");
    out.extend_from_slice(number.format(e.members_exposed).as_bytes());
    out.push(b',');
    key(out, D, "blocked_by");
    strings(out, D, &e.blocked_by)?;
    newline(out, D - 1);
    out.push(b'}');
    Ok(())
}

/// The inventory's assumptions, then those the analysis adds.
fn all_assumptions<'a>(a: &Analysis<'a>) -> Vec<&'a str> {
    let mut out: Vec<&str> = a.inventory.assumptions.iter().map(String::as_str).collect();
    for x in &a.report.assumptions {
        if !out.contains(&x.as_str()) {
            out.push(x);
        }
    }
    out
}

/// The assumptions the analysis adds to the inventory's (which the inventory part prints).
fn report_assumptions<'a>(a: &Analysis<'a>) -> Vec<&'a str> {
    a.report
        .assumptions
        .iter()
        .filter(|x| !a.inventory.assumptions.contains(x))
        .map(String::as_str)
        .collect()
}

/// The target of an exposure: its application's label, and which members are exposed when
/// not all of them are (the application's name lists its first members, exposed or not).
fn exposed_label(r: &Report, e: &crate::analysis::Exposure) -> String {
    let Some(a) = r.app(&e.target) else {
        return e.target.clone();
    };
    let n = a.members.len();
    if n <= 1 || e.members.len() >= n || e.members.is_empty() {
        return app_label(r, &e.target);
    }
    let mut names: Vec<&str> = e
        .members
        .iter()
        .filter_map(|&i| a.member_names.get(i).map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let shown = if names.len() > 3 {
        format!("{} and {} more", names[..2].join(", "), names.len() - 2)
    } else {
        names.join(", ")
    };
    format!(
        "{} [{}, {} of {n} interfaces: {shown}]",
        a.name,
        a.kind,
        e.members.len()
    )
}

fn exposure_line(r: &Report, e: &crate::analysis::Exposure) -> String {
    let target = exposed_label(r, e);
    let is_lb = r
        .app(&e.target)
        .is_some_and(|a| a.kind == crate::model::OwnerKind::LoadBalancer);
    let entries = if e.entries.iter().all(|x| x == "direct") {
        String::new()
    } else if is_lb {
        // The target is the load balancer itself: name its listeners.
        let listeners: Vec<String> = e
            .entries
            .iter()
            .map(|x| {
                x.split_once(' ')
                    .map(|(_, l)| l.to_string())
                    .unwrap_or_else(|| x.clone())
            })
            .collect();
        format!(" (listeners {})", listeners.join(", "))
    } else {
        format!(" via {}", e.entries.join(", "))
    };
    let blocked = if e.blocked_by.is_empty() {
        String::new()
    } else {
        format!(" (stopped today by {})", e.blocked_by.join(", "))
    };
    format!(
        "{} -> {target}: {}{entries}{blocked}",
        e.source.label(r),
        traffic_text(&e.traffic)
    )
}

/// The analysis as text.
pub fn human(a: &Analysis) -> String {
    let r = a.report;
    let mut out = String::new();
    out.push_str(&format!("Snapshot: {}\n", a.inventory.origin));
    if a.inventory.partial {
        out.push_str("WARNING: this snapshot is marked partial; resources may be missing.\n");
    }
    let external = |e: &&crate::analysis::Exposure| !is_internal(&e.source);
    let effective: Vec<_> = r
        .exposures
        .iter()
        .filter(|e| e.status == Status::Effective)
        .filter(external)
        .collect();
    let latent: Vec<_> = r
        .exposures
        .iter()
        .filter(|e| e.status == Status::Latent)
        .collect();
    let internal: Vec<_> = r
        .exposures
        .iter()
        .filter(|e| is_internal(&e.source))
        .collect();
    out.push_str(&format!(
        "\nEffective exposure to the internet and on-premises ({}):\n",
        effective.len()
    ));
    if effective.is_empty() {
        out.push_str("  none\n");
    }
    for e in &effective {
        out.push_str(&format!("  {}\n", exposure_line(r, e)));
    }
    out.push_str(&format!("\nLatent exposure: security groups admit it, routing/NACLs/addressing stop it today ({}):\n", latent.len()));
    if latent.is_empty() {
        out.push_str("  none\n");
    }
    for e in &latent {
        out.push_str(&format!("  {}\n", exposure_line(r, e)));
    }
    out.push_str(&format!("\nFindings ({}):\n", a.findings.len()));
    if a.findings.is_empty() {
        out.push_str("  none\n");
    }
    for f in a.findings {
        out.push_str(&format!(
            "  {:<8} {:<28} {}\n",
            format!("{:?}", f.severity).to_lowercase(),
            f.code,
            f.message
        ));
    }
    let (pairs, lines) = app_to_app_lines(r, &internal);
    out.push_str(&format!("\nApplication to application ({pairs}):\n"));
    for line in lines {
        out.push_str(&format!("  {line}\n"));
    }
    for x in report_assumptions(a) {
        out.push_str(&format!("  assumption: {x}\n"));
    }
    out.push('\n');
    out.push_str(&super::inventory::human(a.inventory).replacen(
        &format!("Snapshot: {}\n", a.inventory.origin),
        "Inventory:\n",
        1,
    ));
    out
}

/// Up to this many application-to-application pairs are listed one per line; beyond it the
/// text formats summarise by target (JSON lists every exposure, with its sources as ranges).
const APP_PAIRS_LISTED: usize = 50;

/// How many targets the summary names.
const APP_TARGETS_LISTED: usize = 25;

/// Application-to-application lines for the text formats: every pair when there are few,
/// otherwise the most widely reached targets with how many applications reach them.
/// `internal` are the exposures whose source is one or more applications.
/// Returns the number of (source, target) pairs and the lines.
fn app_to_app_lines(r: &Report, internal: &[&crate::analysis::Exposure]) -> (usize, Vec<String>) {
    // target -> its exposures
    let mut exposures_of: BTreeMap<&str, Vec<&crate::analysis::Exposure>> = BTreeMap::new();
    for e in internal {
        exposures_of.entry(e.target.as_str()).or_default().push(e);
    }
    // Each target's sources, counted: unions of many sets at once (joining them one by one
    // copied the growing result each time), target by target on every core.
    let exposures_of: Vec<(&str, Vec<&crate::analysis::Exposure>)> =
        exposures_of.into_iter().collect();
    /// The sources of each exposure as a set.
    fn sets_of<'e>(
        r: &Report,
        es: &[&'e crate::analysis::Exposure],
    ) -> Vec<std::borrow::Cow<'e, AppSet>> {
        es.iter()
            .map(|e| match &e.source {
                Source::Applications(set) => std::borrow::Cow::Borrowed(&**set),
                Source::Application(id) => std::borrow::Cow::Owned(
                    r.app_index(id)
                        .map(|i| AppSet::single(i as u32))
                        .unwrap_or_default(),
                ),
                // Not an application source: the callers pass none.
                _ => std::borrow::Cow::Owned(AppSet::new()),
            })
            .collect()
    }
    let counted: Vec<usize> = exposures_of
        .par_iter()
        .map(|(_, es)| AppSet::union_all(sets_of(r, es).iter().map(|s| &**s)).len())
        .collect();
    let pairs: usize = counted.iter().sum();
    if pairs <= APP_PAIRS_LISTED {
        let lines = r
            .pairs()
            .iter()
            .filter(|e| is_internal(&e.source))
            .map(|e| exposure_line(r, e))
            .collect();
        return (pairs, lines);
    }
    // The most widely reached targets first; for those listed, each traffic line with how
    // many sources send it.
    let mut targets: Vec<(&str, usize, &[&crate::analysis::Exposure])> = exposures_of
        .iter()
        .zip(counted)
        .map(|((t, es), n)| (*t, n, es.as_slice()))
        .collect();
    targets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    type Line = (String, usize);
    let listed: Vec<(&str, usize, Vec<Line>)> = targets
        .par_iter()
        .take(APP_TARGETS_LISTED)
        .map(|&(target, n, es)| {
            let sets = sets_of(r, es);
            let mut by_text: BTreeMap<String, Vec<&AppSet>> = BTreeMap::new();
            for (e, set) in es.iter().zip(&sets) {
                for line in &e.traffic {
                    by_text
                        .entry(traffic_text(std::slice::from_ref(line)))
                        .or_default()
                        .push(set);
                }
            }
            let mut lines: Vec<Line> = by_text
                .into_iter()
                .map(|(text, sets)| (text, AppSet::union_all(sets).len()))
                .collect();
            lines.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            (target, n, lines)
        })
        .collect();
    let mut out = vec![format!(
        "{pairs} pairs; the {} most widely reached targets (all of them, with their sources: --format json):",
        APP_TARGETS_LISTED.min(targets.len())
    )];
    for (target, n, lines) in &listed {
        let parts: Vec<String> = lines
            .iter()
            .take(6)
            .map(|(t, k)| format!("{t} from {k}"))
            .collect();
        let more = if lines.len() > 6 {
            format!(", and {} more", lines.len() - 6)
        } else {
            String::new()
        };
        out.push(format!(
            "{} <- {n} applications: {}{more}",
            app_label(r, target),
            parts.join(", ")
        ));
    }
    if targets.len() > APP_TARGETS_LISTED {
        out.push(format!(
            "... and {} more targets",
            targets.len() - APP_TARGETS_LISTED
        ));
    }
    (pairs, out)
}

/// The analysis as Markdown: a short summary table first, details folded.
pub fn markdown(a: &Analysis) -> String {
    let r = a.report;
    let mut out = String::new();
    let eff_ext = r
        .exposures
        .iter()
        .filter(|e| e.status == Status::Effective && !is_internal(&e.source))
        .count();
    let latent = r
        .exposures
        .iter()
        .filter(|e| e.status == Status::Latent)
        .count();
    out.push_str(&format!(
        "## exposure: {}\n\n",
        md_escape(&a.inventory.origin)
    ));
    out.push_str("| | count |\n|---|---|\n");
    out.push_str(&format!("| effective internet/on-prem exposures | {eff_ext} |\n| latent exposures | {latent} |\n| findings | {} |\n", a.findings.len()));
    let mut by_sev: BTreeMap<crate::findings::Severity, usize> = BTreeMap::new();
    for f in a.findings {
        *by_sev.entry(f.severity).or_default() += 1;
    }
    for (sev, n) in by_sev.iter().rev() {
        out.push_str(&format!(
            "| findings: {} | {n} |\n",
            format!("{sev:?}").to_lowercase()
        ));
    }
    out.push_str("\n### Exposures\n\n| status | source | target | traffic | entry |\n|---|---|---|---|---|\n");
    for e in &r.exposures {
        if is_internal(&e.source) {
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            status(e.status),
            md_escape(&e.source.label(r)),
            md_escape(&exposed_label(r, e)),
            md_escape(&traffic_text(&e.traffic)),
            md_escape(&e.entries.join(", "))
        ));
    }
    out.push_str("\n<details><summary>Findings</summary>\n\n| severity | code | finding | remediation |\n|---|---|---|---|\n");
    for f in a.findings {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            format!("{:?}", f.severity).to_lowercase(),
            f.code,
            md_escape(&f.message),
            md_escape(&f.remediation)
        ));
    }
    out.push_str("\n</details>\n\n<details><summary>Application to application</summary>\n\n");
    let internal: Vec<_> = r
        .exposures
        .iter()
        .filter(|e| is_internal(&e.source))
        .collect();
    for line in app_to_app_lines(r, &internal).1 {
        out.push_str(&format!("- {}\n", md_escape(&line)));
    }
    for x in report_assumptions(a) {
        out.push_str(&format!("- assumption: {}\n", md_escape(x)));
    }
    out.push_str("\n</details>\n");
    let warnings: Vec<_> = a
        .inventory
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .collect();
    if !warnings.is_empty() {
        out.push_str("\n<details><summary>Warnings</summary>\n\n");
        for w in warnings {
            out.push_str(&format!("- {}\n", md_escape(&w.to_string())));
        }
        out.push_str("\n</details>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Application, Exposure};
    use crate::engine::appset::AppSet;
    use crate::engine::packet::PacketSet;
    use crate::engine::query::Traffic;
    use crate::model::{Location, OwnerKind};
    use std::sync::Arc;

    fn app(id: &str) -> Application {
        Application {
            id: id.to_string(),
            name: id.to_string(),
            kind: OwnerKind::Ec2Instance,
            members: vec![],
            member_names: vec![],
            groups: vec![],
            vpcs: vec![],
            subnets: vec![],
            location: Location::default(),
        }
    }

    fn exposure(
        source: Source,
        traffic: &[(&str, &str)],
        entries: &[&str],
        blocked: &[&str],
    ) -> Exposure {
        let strings = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Exposure {
            source,
            target: "ec2:vpc-1:sg-\"odd\"\nid\u{e9}".to_string(),
            status: Status::Latent,
            traffic: traffic
                .iter()
                .map(|(p, q)| Traffic {
                    protocol: p.to_string(),
                    ports: q.to_string(),
                })
                .collect(),
            packets: PacketSet::empty(),
            entries: strings(entries),
            entry_packets: Vec::new(),
            members_exposed: 12345,
            members: vec![],
            blocked_by: strings(blocked),
        }
    }

    /// The hand-written text of an exposure is the text `serde_json`'s pretty printer writes
    /// for it at the same depth, for every shape of exposure.
    #[test]
    fn exposures_are_written_as_serde_json_writes_them() {
        let report = Report {
            applications: (0..5).map(|i| app(&format!("ec2:vpc-1:sg-{i}"))).collect(),
            exposures: vec![],
            assumptions: vec![],
        };
        let set = |v: &[u32]| Arc::new(AppSet::from_indices(v.iter().copied()));
        let cases = [
            exposure(Source::InternetV4, &[("tcp", "22")], &["direct"], &[]),
            exposure(
                Source::InternetV6,
                &[],
                &[],
                &["ENI_SG_RULES_MISMATCH", "X"],
            ),
            exposure(
                Source::Onprem,
                &[("tcp", "22, 80"), ("icmp", "all types")],
                &["direct", "lb \"x\" TCP 443"],
                &[],
            ),
            exposure(
                Source::Application("ec2:vpc-1:sg-9".into()),
                &[("all", "")],
                &["direct"],
                &[],
            ),
            exposure(
                Source::Applications(set(&[3])),
                &[("udp", "53")],
                &["direct"],
                &[],
            ),
            exposure(
                Source::Applications(set(&[9])),
                &[("udp", "53")],
                &["direct"],
                &[],
            ),
            exposure(
                Source::Applications(set(&[0, 1, 2, 3, 7, 9, 10, 4_000_000])),
                &[("tcp", "1-65535")],
                &["a", "b"],
                &["C"],
            ),
            exposure(Source::Applications(set(&[])), &[], &[], &[]),
        ];
        let mut ours = ObjectWriter::new(Vec::new());
        ours.field_par_with("exposures", &cases, |e, out| {
            write_exposure(&report, e, out)
        })
        .unwrap();
        let mut theirs = ObjectWriter::new(Vec::new());
        theirs
            .field_par("exposures", &cases, |e| json_exposure(&report, e))
            .unwrap();
        let text = |w: ObjectWriter<Vec<u8>>| String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(text(ours), text(theirs));
    }
}
