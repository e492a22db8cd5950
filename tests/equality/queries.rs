//! The all-pairs report against the single-question walker (`query::run`, the reference
//! semantics).
//!
//! For every origin and application, the walker is asked about every member:
//!
//! * an application that opens connections (a client kind): from each member's ENI to each
//!   private address (IPv4 and IPv6) of each member of every other application. Asking by
//!   private address keeps out the paths through a public address (out through an internet
//!   gateway and back in), which the report leaves out by design; the load balancers that
//!   forward to the destination are still followed. Load balancers are asked about by node
//!   address (the answer names the balancer), or by ARN when a node has no ENI;
//! * the internet (IPv4, IPv6) and on-premises (when there is a VPN gateway): from
//!   `internet-ipv4`, `internet-ipv6` and `onprem` to each member's ENI id (or the ARN).
//!
//! The union of what reaches the members (protocol and destination ports), the entries
//! (direct or listener) and the members reached must equal the report's effective exposure
//! for (origin, application), and the report must have no effective exposure that no member
//! pair supports. Pairs whose answer has a path through an internet or NAT gateway (a private
//! destination reached through a NAT gateway) are left out, as the report leaves them out;
//! so are pairs whose answer lists the maximum number of paths (it may hide such a path).

use std::collections::{BTreeMap, BTreeSet};

use exposure::analysis::{self, Application, Exposure, Report, Source, Status};
use exposure::engine::index::Index;
use exposure::engine::packet::{Dim, PacketSet, ALL_ADDRS};
use exposure::engine::query::{self, Answer, Request};
use exposure::model::*;

/// Who sends, named so that it survives shrinking (applications change ids when groups go).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// The application holding this ENI.
    App(String),
    /// `internet-ipv4`.
    InternetV4,
    /// `internet-ipv6`.
    InternetV6,
    /// `onprem`.
    Onprem,
}

impl Origin {
    fn endpoint(&self) -> &str {
        match self {
            Origin::App(a) => a,
            Origin::InternetV4 => "internet-ipv4",
            Origin::InternetV6 => "internet-ipv6",
            Origin::Onprem => "onprem",
        }
    }
}

/// One disagreement between the report and the walker.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// The origin.
    pub origin: Origin,
    /// A member of the destination application.
    pub target_member: String,
    /// What kind (kept while shrinking).
    pub kind: String,
    /// Expected (walker) and got (report), and the member pairs behind it.
    pub detail: String,
}

/// How much was compared.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// (origin, application) pairs compared.
    pub pairs: usize,
    /// Of which the walker reaches something.
    pub reached: usize,
    /// (origin, application) pairs left out (paths through an internet or NAT gateway).
    pub skipped: usize,
    /// Member pairs (source interface or outside origin, destination member) asked about.
    pub member_pairs: usize,
    /// Walker questions asked.
    pub queries: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.pairs += o.pairs;
        self.reached += o.reached;
        self.skipped += o.skipped;
        self.member_pairs += o.member_pairs;
        self.queries += o.queries;
    }
}

/// What the walker says one origin reaches of one application.
#[derive(Default)]
struct Seen {
    traffic: PacketSet,
    entries: BTreeSet<String>,
    members: BTreeSet<String>,
    /// (from, to, what) of every member pair that reaches, for the report of a disagreement.
    pairs: Vec<String>,
    /// The member pairs that reach nothing, with the walker's blocking reasons.
    unreached: Vec<String>,
    skipped: bool,
    /// Whether `members` is meaningful (not when a load balancer is asked about by ARN).
    count_members: bool,
}

fn ports_only(s: &PacketSet) -> PacketSet {
    s.rewrite(Dim::Src, ALL_ADDRS)
        .rewrite(Dim::Dst, ALL_ADDRS)
        .rewrite(Dim::SrcPort, (0, 65535))
}

/// The report's label of an entry (`direct`, or `<lb> <PROTOCOL> <port>`).
fn entry_label(m: &Model, entry: &Option<String>) -> String {
    match entry.as_ref().and_then(|e| m.listeners.get(e)) {
        Some(l) => {
            let lb = m
                .load_balancers
                .get(&l.lb_arn)
                .map(|lb| lb.name.clone())
                .unwrap_or_default();
            format!(
                "{lb} {} {}",
                l.protocol,
                l.port.map(|p| p.to_string()).unwrap_or_default()
            )
        }
        None => "direct".into(),
    }
}

fn ask(m: &Model, idx: &Index, from: &str, to: &str) -> Result<Answer, String> {
    let req = Request {
        from: from.to_string(),
        to: to.to_string(),
        protocols: None,
        ports: None,
        source_ports: None,
    };
    query::run_indexed(m, idx, &req).map_err(|e| format!("query {from} -> {to}: {e}"))
}

/// The questions that reach the members of `app`: (endpoint to ask, component the answer
/// names on arrival, member it stands for).
fn destinations(
    m: &Model,
    idx: &Index,
    app: &Application,
    outside: bool,
) -> Vec<(String, String, Option<String>)> {
    let lb_arn = (app.kind == OwnerKind::LoadBalancer)
        .then(|| idx.hosts[&app.members[0]].owner_id.clone())
        .flatten();
    let virtual_nodes = app.members.iter().any(|h| idx.hosts[h].virtual_node);
    if let (Some(arn), true) = (&lb_arn, virtual_nodes) {
        return vec![(arn.clone(), arn.clone(), None)];
    }
    let mut out = Vec::new();
    for h in &app.members {
        let component = lb_arn.clone().unwrap_or_else(|| h.clone());
        if outside {
            out.push((h.clone(), component, Some(h.clone())));
            continue;
        }
        for addr in m.network_interfaces[h].private_addrs() {
            out.push((addr.to_string(), component.clone(), Some(h.clone())));
        }
    }
    out
}

fn hairpin(a: &Answer) -> bool {
    a.paths.len() >= 16
        || a.paths.iter().any(|p| {
            p.hops
                .iter()
                .any(|h| matches!(h.kind, "igw" | "egress-only-igw" | "nat-gateway"))
        })
}

fn traffic_text(t: &[query::Traffic]) -> String {
    if t.is_empty() {
        "nothing".into()
    } else {
        query::traffic_text(t)
    }
}

/// An origin standing for a report source (an application by its first member).
fn origin_of(report: &Report, source: &Source) -> Origin {
    match source {
        Source::Application(a) => Origin::App(
            report
                .app(a)
                .map(|x| x.members[0].clone())
                .unwrap_or_default(),
        ),
        Source::InternetV4 => Origin::InternetV4,
        Source::InternetV6 => Origin::InternetV6,
        Source::Onprem => Origin::Onprem,
        Source::Applications(_) => unreachable!("the check reads Report::pairs"),
    }
}

fn source_of(report: &Report, origin: &Origin) -> Option<Source> {
    Some(match origin {
        Origin::App(a) => Source::Application(report.app_of_host(a)?.id.clone()),
        Origin::InternetV4 => Source::InternetV4,
        Origin::InternetV6 => Source::InternetV6,
        Origin::Onprem => Source::Onprem,
    })
}

/// Compares the report of `m` with the walker. With `only`, compares that (origin, target
/// member's application) pair alone (for shrinking).
pub fn check(m: &Model, only: Option<(&Origin, &str)>) -> (Counts, Vec<Disagreement>) {
    // The report takes routed prefix lists whose entries are not in the snapshot as empty (its
    // assumptions say so), where the walker answers `unknown` if the entries could change the
    // answer: the two are compared on that assumption made explicit.
    let mut taken_empty = m.clone();
    for id in m.lists_of_unknown_entries(m.routed_prefix_lists()) {
        let list = taken_empty.prefix_lists.entry(id.to_string()).or_default();
        list.id = id.to_string();
        list.cidrs.clear();
        list.entries_known = true;
    }
    let m = &taken_empty;
    let idx = Index::new(m);
    let report = analysis::analyze(m);
    let mut counts = Counts::default();
    let mut found = Vec::new();
    let only_target = match only {
        Some((_, t)) => match report.app_of_host(t) {
            Some(a) => Some(a.id.clone()),
            None => return (counts, found),
        },
        None => None,
    };
    let only_source = match only {
        Some((o, _)) => match source_of(&report, o) {
            Some(s) => Some(s),
            None => return (counts, found),
        },
        None => None,
    };
    // Origins: client applications (by their members), the internet, on-premises.
    let mut origins: Vec<(Source, Vec<Origin>)> = Vec::new();
    for app in &report.applications {
        if !analysis::is_client(app.kind) {
            continue;
        }
        let members: Vec<Origin> = app
            .members
            .iter()
            .filter(|h| !idx.hosts[*h].virtual_node)
            .map(|h| Origin::App(h.clone()))
            .collect();
        origins.push((Source::Application(app.id.clone()), members));
    }
    origins.push((Source::InternetV4, vec![Origin::InternetV4]));
    origins.push((Source::InternetV6, vec![Origin::InternetV6]));
    if !exposure::engine::walk::onprem_entries(m).is_empty() {
        origins.push((Source::Onprem, vec![Origin::Onprem]));
    }
    let mut seen: BTreeMap<(Source, String), (Seen, Origin, String)> = BTreeMap::new();
    for app in &report.applications {
        if only_target.as_ref().is_some_and(|t| *t != app.id) {
            continue;
        }
        let inside = destinations(m, &idx, app, false);
        let outside = destinations(m, &idx, app, true);
        for (source, senders) in &origins {
            if matches!(source, Source::Application(s) if *s == app.id) {
                continue;
            }
            if only_source.as_ref().is_some_and(|s| s != source) {
                continue;
            }
            let internal = matches!(source, Source::Application(_));
            let dests = if internal { &inside } else { &outside };
            let mut s = Seen {
                count_members: dests.iter().all(|d| d.2.is_some()),
                ..Seen::default()
            };
            let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
            for from in senders {
                for (to, component, member) in dests {
                    pairs.insert((
                        from.endpoint().to_string(),
                        member.clone().unwrap_or_else(|| to.clone()),
                    ));
                    counts.queries += 1;
                    let answer = match ask(m, &idx, from.endpoint(), to) {
                        Ok(a) => a,
                        Err(e) => {
                            found.push(Disagreement {
                                origin: from.clone(),
                                target_member: app.members[0].clone(),
                                kind: "query error".into(),
                                detail: e,
                            });
                            continue;
                        }
                    };
                    if std::env::var_os("EQUALITY_DEBUG").is_some() {
                        eprintln!(
                            "query {} -> {to}: {:?}\n  blocked by: {:?}\n  paths: {:#?}",
                            from.endpoint(),
                            answer.verdict,
                            answer.blocked_by,
                            answer.paths
                        );
                    }
                    if internal && hairpin(&answer) {
                        s.skipped = true;
                    }
                    if !answer.reached.iter().any(|r| r.component == *component) {
                        let mut codes: Vec<String> = answer
                            .blocked_by
                            .iter()
                            .map(|b| format!("{} at {}", b.code, b.component))
                            .collect();
                        codes.dedup();
                        s.unreached.push(format!(
                            "{} -> {to} ({}): nothing; {:?}; blocked by: {}",
                            from.endpoint(),
                            member.as_deref().unwrap_or(component),
                            answer.verdict,
                            codes.join(", ")
                        ));
                    }
                    for r in answer.reached.iter().filter(|r| r.component == *component) {
                        if r.set.is_empty() {
                            continue;
                        }
                        s.traffic = s.traffic.union(&ports_only(&r.set));
                        s.entries.insert(entry_label(m, &r.entry));
                        if let Some(h) = member {
                            s.members.insert(h.clone());
                        }
                        s.pairs.push(format!(
                            "{} -> {to} ({}): {} by {}",
                            from.endpoint(),
                            member.as_deref().unwrap_or(component),
                            traffic_text(&r.traffic),
                            entry_label(m, &r.entry)
                        ));
                    }
                }
            }
            counts.member_pairs += pairs.len();
            let first = senders
                .first()
                .cloned()
                .unwrap_or(Origin::App(String::new()));
            seen.insert(
                (source.clone(), app.id.clone()),
                (s, first, app.members[0].clone()),
            );
        }
    }
    // The report's effective exposures, by (source, target).
    let mut effective: BTreeMap<(Source, String), &Exposure> = BTreeMap::new();
    let pairs = report.pairs();
    for e in pairs.iter().filter(|e| e.status == Status::Effective) {
        if only_target.as_ref().is_some_and(|t| *t != e.target)
            || only_source.as_ref().is_some_and(|s| *s != e.source)
        {
            continue;
        }
        if let Some(prev) = effective.insert((e.source.clone(), e.target.clone()), e) {
            found.push(Disagreement {
                origin: origin_of(&report, &e.source),
                target_member: report
                    .app(&e.target)
                    .map(|a| a.members[0].clone())
                    .unwrap_or_default(),
                kind: "duplicate exposure".into(),
                detail: format!(
                    "two effective exposures {:?} -> {}: {:?} and {:?}",
                    e.source, e.target, prev.traffic, e.traffic
                ),
            });
        }
    }
    for (key, e) in &effective {
        if !seen.contains_key(key) {
            found.push(Disagreement {
                origin: origin_of(&report, &key.0),
                target_member: report
                    .app(&key.1)
                    .map(|a| a.members[0].clone())
                    .unwrap_or_default(),
                kind: format!(
                    "{} exposure from an origin that was not asked",
                    kind_of(&key.0)
                ),
                detail: format!(
                    "report: {:?} -> {}: {}",
                    key.0,
                    key.1,
                    traffic_text(&e.traffic)
                ),
            });
        }
    }
    for ((source, target), (s, origin, target_member)) in seen {
        counts.pairs += 1;
        if s.skipped {
            counts.skipped += 1;
            continue;
        }
        let got = effective.get(&(source.clone(), target.clone()));
        let want_traffic = query::traffic_of(&s.traffic);
        if !s.traffic.is_empty() {
            counts.reached += 1;
        }
        let want_entries: Vec<String> = s.entries.iter().cloned().collect();
        let mut problems = Vec::new();
        match got {
            None if s.traffic.is_empty() => {}
            None => problems.push("walker reaches it, the report has no effective exposure"),
            Some(_) if s.traffic.is_empty() => {
                problems.push("the report has an effective exposure no member pair supports")
            }
            Some(e) => {
                if e.traffic != want_traffic {
                    problems.push("traffic differs");
                }
                if e.entries != want_entries {
                    problems.push("entries differ");
                }
                if s.count_members && e.members_exposed != s.members.len() {
                    problems.push("members exposed differ");
                }
            }
        }
        if problems.is_empty() {
            continue;
        }
        let app = report.app(&target);
        let mut detail = format!(
            "{source:?} -> {target} ({:?}, members {:?})\n  walker (union over member pairs): {} | entries {:?} | members reached {:?}\n  report: {}\n",
            app.map(|a| a.kind),
            app.map(|a| a.members.clone()).unwrap_or_default(),
            traffic_text(&want_traffic),
            want_entries,
            s.members,
            match got {
                Some(e) => format!(
                    "{} | entries {:?} | members exposed {}",
                    traffic_text(&e.traffic),
                    e.entries,
                    e.members_exposed
                ),
                None => "no effective exposure".into(),
            }
        );
        if let Source::Application(a) = &source {
            detail += &format!(
                "  source application {a}: members {:?}\n",
                report.app(a).map(|x| x.members.clone()).unwrap_or_default()
            );
        }
        for p in &s.pairs {
            detail += &format!("  member pair: {p}\n");
        }
        for p in s.unreached.iter().take(12) {
            detail += &format!("  member pair: {p}\n");
        }
        found.push(Disagreement {
            origin,
            target_member,
            kind: format!("{}: {}", kind_of(&source), problems.join(", ")),
            detail,
        });
    }
    (counts, found)
}

fn kind_of(s: &Source) -> &'static str {
    match s {
        Source::InternetV4 => "internet-ipv4",
        Source::InternetV6 => "internet-ipv6",
        Source::Onprem => "onprem",
        Source::Application(_) => "application",
        Source::Applications(_) => "applications",
    }
}
