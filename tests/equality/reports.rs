//! Exposure reports compared field by field.

use std::collections::BTreeMap;

use exposure::analysis::{Exposure, Report, Source, Status};

/// Everything an exposure says: source, target, status, traffic (protocol, ports), entries,
/// members exposed, blockers.
pub type ExposureKey = (
    Source,
    String,
    Status,
    Vec<(String, String)>,
    Vec<String>,
    usize,
    Vec<String>,
);

/// An exposure as a comparable value.
pub fn exposure_key(e: &Exposure) -> ExposureKey {
    (
        e.source.clone(),
        e.target.clone(),
        e.status,
        e.traffic
            .iter()
            .map(|t| (t.protocol.clone(), t.ports.clone()))
            .collect(),
        e.entries.clone(),
        e.members_exposed,
        e.blocked_by.clone(),
    )
}

/// One line for a person.
pub fn show_key(k: &ExposureKey) -> String {
    let traffic: Vec<String> =
        k.3.iter()
            .map(|(p, ports)| format!("{p} {ports}").trim().to_string())
            .collect();
    format!(
        "{:?} -> {} [{:?}] traffic: {} | entries: {} | members exposed: {} | blocked by: {}",
        k.0,
        k.1,
        k.2,
        traffic.join("; "),
        k.4.join(", "),
        k.5,
        k.6.join(", ")
    )
}

/// Everything an application says, as text (members sorted).
fn app_key(a: &exposure::analysis::Application) -> String {
    let mut members = a.members.clone();
    members.sort();
    format!(
        "{} name={:?} kind={} members={:?} groups={:?} vpcs={:?} subnets={:?} location={:?}",
        a.id, a.name, a.kind, members, a.groups, a.vpcs, a.subnets, a.location
    )
}

/// Multiset difference: what `a` has more of than `b`.
fn more_in<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut count: BTreeMap<&T, i64> = BTreeMap::new();
    for x in a {
        *count.entry(x).or_default() += 1;
    }
    for x in b {
        *count.entry(x).or_default() -= 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .flat_map(|(x, n)| std::iter::repeat_n(x.clone(), n as usize))
        .collect()
}

/// The differences between two reports (`left` and `right` name them), as lines; empty
/// when they are identical: the same applications, the same multiset of exposures (every
/// field) and the same assumptions.
pub fn differences(left: (&str, &Report), right: (&str, &Report)) -> Vec<String> {
    let (ln, l) = left;
    let (rn, r) = right;
    let mut out = Vec::new();
    let la: Vec<String> = l.applications.iter().map(app_key).collect();
    let ra: Vec<String> = r.applications.iter().map(app_key).collect();
    for a in more_in(&la, &ra) {
        out.push(format!("application only in {ln}: {a}"));
    }
    for a in more_in(&ra, &la) {
        out.push(format!("application only in {rn}: {a}"));
    }
    // Pair by pair: the two groupings may join sources into sets differently.
    let le: Vec<ExposureKey> = l.pairs().iter().map(exposure_key).collect();
    let re: Vec<ExposureKey> = r.pairs().iter().map(exposure_key).collect();
    for e in more_in(&le, &re) {
        out.push(format!("exposure only in {ln}: {}", show_key(&e)));
    }
    for e in more_in(&re, &le) {
        out.push(format!("exposure only in {rn}: {}", show_key(&e)));
    }
    if l.assumptions != r.assumptions {
        out.push(format!(
            "assumptions differ: {ln} {:?}, {rn} {:?}",
            l.assumptions, r.assumptions
        ));
    }
    out
}

/// The first `n` lines, and how many more there are.
pub fn head(lines: &[String], n: usize) -> String {
    let mut s: String = lines.iter().take(n).map(|l| format!("  {l}\n")).collect();
    if lines.len() > n {
        s += &format!("  ... and {} more\n", lines.len() - n);
    }
    s
}
