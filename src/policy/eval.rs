//! Evaluation: each policy becomes engine questions, one per source, destination and
//! port range, asked with `query::run_indexed` over one index of the snapshot. A path
//! the engine finds is a witness; for `require`, the blocking components are.

use std::collections::BTreeMap;

use super::naa::{Header, PathSpec, ResType, Resources, Scope};
use super::select::{self, External, Member, Selector};
use super::{
    fingerprint, merge_traffic, traffic_text, Body, Evaluation, Kind, Party, Policy, PolicySummary,
    TrafficSpec, Violation,
};
use crate::engine::index::Index;
use crate::engine::packet::{self, net_intervals, Dim, Interval, PBox, PacketSet};
use crate::engine::query::{self, Answer, PathOut, Request, Traffic, Verdict};
use crate::engine::walk::{self, Block, Hop};
use crate::model::{Model, OwnerKind, Protocol};

/// The ephemeral ports ordinary clients send from (`require`).
const EPHEMERAL: (u16, u16) = (1024, 65535);

/// The two ends of a question, with the endpoints to ask the engine about.
#[derive(Clone, Copy)]
struct Pair<'a> {
    src: &'a End,
    srcs: &'a [String],
    dst: &'a End,
    dsts: &'a [String],
}

/// What a violation is about: the traffic, the way in, and the evidence.
struct Flow {
    traffic: Vec<Traffic>,
    entry: String,
    witness: Vec<Hop>,
    blocked_by: Vec<Block>,
}

/// One end of a question.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Member(usize),
    External(External),
}

/// The protocols, destination ports and source ports of one question.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Probe {
    protocols: Option<Vec<u8>>,
    ports: Option<(u16, u16)>,
    source_ports: Option<(u16, u16)>,
}

/// What got through, per entry point, over one or more questions.
#[derive(Debug, Default)]
struct Reached {
    by_entry: BTreeMap<String, (Vec<Traffic>, Vec<Hop>)>,
}

impl Reached {
    fn add(&mut self, entry: String, path: &PathOut) {
        let e = self
            .by_entry
            .entry(entry)
            .or_insert_with(|| (Vec::new(), path.hops.clone()));
        let mut all = std::mem::take(&mut e.0);
        all.extend(path.traffic.iter().cloned());
        e.0 = merge_traffic(&all);
    }
}

struct Ctx<'m> {
    m: &'m Model,
    idx: Index<'m>,
    members: Vec<Member>,
    undecided: Vec<String>,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    fn party(&self, e: &End) -> Party {
        match e {
            End::Member(i) => self.members[*i].party(),
            End::External(x) => x.party(),
        }
    }

    fn endpoints(&self, e: &End) -> Vec<String> {
        match e {
            End::Member(i) => vec![self.members[*i].id.clone()],
            End::External(x) => external_endpoints(x),
        }
    }

    /// The listener a path enters by, as people name it.
    fn entry_label(&self, entry: &Option<String>) -> String {
        match entry.as_ref().and_then(|e| self.m.listeners.get(e)) {
            Some(l) => {
                let lb = self
                    .m
                    .load_balancers
                    .get(&l.lb_arn)
                    .map(|lb| lb.name.clone())
                    .unwrap_or_default();
                match l.port {
                    Some(p) => format!("{lb} {} {p}", l.protocol),
                    None => format!("{lb} {}", l.protocol),
                }
            }
            None => "direct".into(),
        }
    }

    fn entry_lb<'a>(&'a self, entry: &Option<String>) -> Option<&'a str> {
        entry
            .as_ref()
            .and_then(|e| self.m.listeners.get(e))
            .map(|l| l.lb_arn.as_str())
    }

    fn ask(&self, from: &str, to: &str, probe: &Probe) -> Result<Answer, query::QueryError> {
        let req = Request {
            from: from.to_string(),
            to: to.to_string(),
            protocols: probe.protocols.clone(),
            ports: probe.ports,
            source_ports: probe.source_ports,
        };
        query::run_indexed(self.m, &self.idx, &req)
    }

    /// Asks every question of a pair and gathers the kept paths by entry.
    fn reach(
        &mut self,
        policy: &str,
        pair: Pair,
        probe: &Probe,
        keep: &dyn Fn(&Ctx, &PathOut) -> bool,
        out: &mut Reached,
    ) {
        let Pair {
            src,
            srcs,
            dst,
            dsts,
        } = pair;
        // Many address pieces: ask once for the whole internet first and skip when nothing gets through.
        if srcs.len() > 1 && srcs.iter().all(|s| s != "internet") {
            let mut any = false;
            for d in dsts {
                if let Ok(a) = self.ask("internet", d, probe) {
                    any |= a.verdict != Verdict::Unreachable
                        && (a.verdict == Verdict::Unknown || a.paths.iter().any(|p| keep(self, p)));
                }
            }
            if !any {
                return;
            }
        }
        for s in srcs {
            for d in dsts {
                match self.ask(s, d, probe) {
                    Ok(a) => match a.verdict {
                        Verdict::Reachable => {
                            for p in &a.paths {
                                if keep(self, p) {
                                    let label = self.entry_label(&p.entry);
                                    out.add(label, p);
                                }
                            }
                        }
                        Verdict::Unknown => {
                            let why = a
                                .assumptions
                                .iter()
                                .filter(|x| x.starts_with("not modelled"))
                                .cloned()
                                .collect::<Vec<_>>()
                                .join("; ");
                            self.undecided.push(format!(
                                "{policy}: {} -> {} ({}): unknown: {why}",
                                self.party(src).name,
                                self.party(dst).name,
                                probe_text(probe)
                            ));
                        }
                        Verdict::Unreachable => {}
                    },
                    Err(e) => {
                        let w = format!("{policy}: {s} -> {d}: {e}");
                        if !self.warnings.contains(&w) {
                            self.warnings.push(w);
                        }
                    }
                }
            }
        }
    }
}

fn probe_text(p: &Probe) -> String {
    let protos = match &p.protocols {
        None => "all protocols".to_string(),
        Some(ps) => ps
            .iter()
            .map(|p| crate::model::protocol_name(*p))
            .collect::<Vec<_>>()
            .join("/"),
    };
    match p.ports {
        Some((a, b)) if a == b => format!("{protos} {a}"),
        Some((a, b)) => format!("{protos} {a}-{b}"),
        None => protos,
    }
}

/// The endpoints to ask about for an external party: `internet`, `onprem`, the CIDR as
/// written, or the CIDR blocks of the internet part of its addresses.
fn external_endpoints(x: &External) -> Vec<String> {
    let External::Space { label, intervals } = x else {
        return x.endpoints();
    };
    let internet = walk::internet_space();
    let public = select::intersect(intervals, &internet);
    if public.is_empty() {
        return x.endpoints();
    }
    if select::covers(&public, &internet) {
        return vec!["internet".into()];
    }
    let exact = select::parse_net(label)
        .map(|n| net_intervals(&n))
        .is_some_and(|ivs| ivs == public);
    if exact {
        return vec![label.clone()];
    }
    public.iter().flat_map(|iv| select::cidrs(*iv)).collect()
}

fn probes(t: &TrafficSpec, source_ports: Option<(u16, u16)>) -> Vec<Probe> {
    if t.ports.is_empty() {
        return vec![Probe {
            protocols: t.protocols.clone(),
            ports: None,
            source_ports,
        }];
    }
    t.ports
        .iter()
        .map(|r| Probe {
            protocols: t.protocols.clone(),
            ports: Some(*r),
            source_ports,
        })
        .collect()
}

fn violation(
    p: &Policy,
    message: String,
    source: Party,
    destination: Party,
    flow: Flow,
) -> Violation {
    let Flow {
        traffic,
        entry,
        witness,
        blocked_by,
    } = flow;
    let fp = fingerprint(&[
        &p.id,
        &source.id,
        &destination.id,
        &traffic_text(&traffic),
        &entry,
    ]);
    Violation {
        policy: p.id.clone(),
        kind: p.kind,
        severity: p.severity,
        file: p.file.clone(),
        line: p.line,
        message,
        source,
        destination,
        traffic,
        entry,
        witness,
        blocked_by,
        fingerprint: fp,
    }
}

/// Evaluates policies on a model.
pub fn evaluate(m: &Model, policies: &[Policy]) -> Evaluation {
    let idx = Index::new(m);
    let members = select::members(m, &idx);
    let mut cx = Ctx {
        m,
        idx,
        members,
        undecided: Vec::new(),
        warnings: Vec::new(),
    };
    let mut out = Evaluation::default();
    for p in policies {
        let vs = match &p.body {
            Body::Reach { from, to, traffic } => {
                warn_unmatched(&mut cx, p, from, to);
                match p.kind {
                    Kind::Deny => deny(&mut cx, p, from, to, traffic),
                    Kind::AllowOnly => allow_only(&mut cx, p, from, to, traffic),
                    Kind::Require => require(&mut cx, p, from, to, traffic),
                    Kind::Scope => Vec::new(),
                }
            }
            Body::Scope(s) => scope(&mut cx, p, s),
        };
        out.policies.push(PolicySummary {
            id: p.id.clone(),
            kind: p.kind,
            severity: p.severity,
            description: p.description.clone(),
            file: p.file.clone(),
            line: p.line,
            violations: vs.len(),
        });
        out.violations.extend(vs);
    }
    out.undecided = cx.undecided;
    out.warnings = cx.warnings;
    out
}

fn warn_unmatched(cx: &mut Ctx, p: &Policy, from: &[Selector], to: &[Selector]) {
    for (field, list) in [("from", from), ("to", to)] {
        for s in list {
            let inner = match s {
                Selector::Not(i) => i.as_ref(),
                s => s,
            };
            if inner.is_specific()
                && !cx
                    .members
                    .iter()
                    .any(|mem| select::matches(cx.m, mem, inner, &[]))
            {
                cx.warnings.push(format!(
                    "{}:{}: policy `{}`: `{field}` selector `{s}` matches nothing in this snapshot",
                    p.file, p.line, p.id
                ));
            }
        }
    }
}

fn uses_referenced(sel: &[Selector]) -> bool {
    sel.iter().any(|s| match s {
        Selector::SgReferenced => true,
        Selector::Not(i) => matches!(i.as_ref(), Selector::SgReferenced),
        _ => false,
    })
}

fn ends(cx: &Ctx, sel: &[Selector], referenced: &[String]) -> Vec<End> {
    let (ms, xs) = select::resolve(cx.m, &cx.members, sel, referenced);
    ms.into_iter()
        .map(End::Member)
        .chain(xs.into_iter().map(End::External))
        .collect()
}

fn referenced_for(cx: &Ctx, dst: &End) -> Vec<String> {
    match dst {
        End::Member(i) => select::referenced_groups(cx.m, &cx.members[*i]),
        End::External(_) => Vec::new(),
    }
}

fn same_or_external(a: &End, b: &End) -> bool {
    a == b || (matches!(a, End::External(_)) && matches!(b, End::External(_)))
}

/// One (source, destination) question of a `deny` or `allow-only` policy, with the load
/// balancers whose listeners count as allowed entry points.
struct Ask {
    src: End,
    dst: End,
    allowed_lbs: Vec<String>,
}

/// What got through for one question and probe, through one entry point.
struct Hit {
    ask: usize,
    probe: usize,
    entry: String,
    traffic: Vec<Traffic>,
    witness: Vec<Hop>,
}

/// Whether a path entering by `entry` counts (not through an allowed load balancer).
fn entry_counts(cx: &Ctx, allowed_lbs: &[String], entry: &Option<String>) -> bool {
    cx.entry_lb(entry)
        .is_none_or(|lb| !allowed_lbs.iter().any(|a| a == lb))
}

fn request(from: &str, to: &str, probe: &Probe) -> Request {
    Request {
        from: from.to_string(),
        to: to.to_string(),
        protocols: probe.protocols.clone(),
        ports: probe.ports,
        source_ports: probe.source_ports,
    }
}

/// Asks every question and turns what got through into violations, one per question,
/// probe and entry point. Questions from one source to network interfaces are asked at
/// once (`query::run_to_hosts`: one walk per source, not per destination); a witness is
/// then taken from that answer, or asked for on its own when the answer's paths (a
/// bounded list) do not hold one.
fn run_asks(
    cx: &mut Ctx,
    p: &Policy,
    asks: &[Ask],
    probes: &[Probe],
    what: &str,
) -> Vec<Violation> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut by_src: Vec<(&End, Vec<usize>)> = Vec::new();
    for (k, a) in asks.iter().enumerate() {
        match by_src.iter_mut().find(|(s, _)| *s == &a.src) {
            Some((_, v)) => v.push(k),
            None => by_src.push((&a.src, vec![k])),
        }
    }
    for (src, ks) in by_src {
        let srcs = cx.endpoints(src);
        let is_host =
            |e: &End| matches!(e, End::Member(i) if cx.members[*i].kind != OwnerKind::LoadBalancer);
        let (hosts, others): (Vec<usize>, Vec<usize>) =
            ks.iter().partition(|k| is_host(&asks[**k].dst));
        for (pi, probe) in probes.iter().enumerate() {
            if !hosts.is_empty() {
                batch(cx, p, asks, &hosts, &srcs, probe, pi, &mut hits);
            }
            for &k in &others {
                let dsts = cx.endpoints(&asks[k].dst);
                let allowed = asks[k].allowed_lbs.clone();
                let keep = move |cx: &Ctx, path: &PathOut| entry_counts(cx, &allowed, &path.entry);
                let mut r = Reached::default();
                let pair = Pair {
                    src,
                    srcs: &srcs,
                    dst: &asks[k].dst,
                    dsts: &dsts,
                };
                cx.reach(&p.id, pair, probe, &keep, &mut r);
                for (entry, (traffic, witness)) in r.by_entry {
                    hits.push(Hit {
                        ask: k,
                        probe: pi,
                        entry,
                        traffic,
                        witness,
                    });
                }
            }
        }
    }
    hits.sort_by(|a, b| (a.ask, a.probe, &a.entry).cmp(&(b.ask, b.probe, &b.entry)));
    hits.into_iter()
        .map(|h| {
            let (s, d) = (cx.party(&asks[h.ask].src), cx.party(&asks[h.ask].dst));
            let via = if h.entry == "direct" {
                String::new()
            } else {
                format!(" via {}", h.entry)
            };
            let message = format!(
                "{} reaches {} ({}){via}: {what}",
                s.name,
                d.name,
                traffic_text(&h.traffic)
            );
            violation(
                p,
                message,
                s,
                d,
                Flow {
                    traffic: h.traffic,
                    entry: h.entry,
                    witness: h.witness,
                    blocked_by: Vec::new(),
                },
            )
        })
        .collect()
}

/// One source to many network interfaces, in one question per source endpoint.
#[allow(clippy::too_many_arguments)]
fn batch(
    cx: &mut Ctx,
    p: &Policy,
    asks: &[Ask],
    hosts: &[usize],
    srcs: &[String],
    probe: &Probe,
    pi: usize,
    hits: &mut Vec<Hit>,
) {
    let ids: Vec<String> = hosts
        .iter()
        .map(|k| cx.endpoints(&asks[*k].dst)[0].clone())
        .collect();
    let ask_of = |component: &str| ids.iter().position(|x| x == component).map(|i| hosts[i]);
    // Many address pieces: ask once for the whole internet first.
    if srcs.len() > 1 && srcs.iter().all(|s| s != "internet") {
        let a = query::run_to_hosts(cx.m, &cx.idx, &request("internet", "*", probe), ids.clone());
        if a.is_ok_and(|a| a.reached.is_empty() && a.verdict != Verdict::Unknown) {
            return;
        }
    }
    // (ask, entry label) -> (traffic, witness, source endpoint, listener)
    type Slot = (Vec<Traffic>, Option<Vec<Hop>>, String, Option<String>);
    let mut acc: BTreeMap<(usize, String), Slot> = BTreeMap::new();
    for ep in srcs {
        match query::run_to_hosts(cx.m, &cx.idx, &request(ep, "*", probe), ids.clone()) {
            Ok(a) => {
                if a.verdict == Verdict::Unknown {
                    cx.undecided.push(format!(
                        "{}: {ep} -> {} destination(s) ({}): unknown: {}",
                        p.id,
                        ids.len(),
                        probe_text(probe),
                        a.assumptions
                            .iter()
                            .filter(|x| x.starts_with("not modelled"))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                for r in &a.reached {
                    let Some(k) = ask_of(&r.component) else {
                        continue;
                    };
                    if !entry_counts(cx, &asks[k].allowed_lbs, &r.entry) {
                        continue;
                    }
                    let label = cx.entry_label(&r.entry);
                    let slot = acc
                        .entry((k, label))
                        .or_insert_with(|| (Vec::new(), None, ep.clone(), r.entry.clone()));
                    let mut all = std::mem::take(&mut slot.0);
                    all.extend(r.traffic.iter().cloned());
                    slot.0 = merge_traffic(&all);
                    if slot.1.is_none() {
                        slot.1 = a
                            .paths
                            .iter()
                            .find(|x| {
                                x.entry == r.entry
                                    && x.hops.last().is_some_and(|h| h.component == r.component)
                            })
                            .map(|x| x.hops.clone());
                        slot.2 = ep.clone();
                    }
                }
            }
            Err(e) => {
                let w = format!("{}: {ep}: {e}", p.id);
                if !cx.warnings.contains(&w) {
                    cx.warnings.push(w);
                }
            }
        }
    }
    for ((k, entry), (traffic, witness, ep, listener)) in acc {
        let witness = witness.unwrap_or_else(|| {
            let to = cx.endpoints(&asks[k].dst)[0].clone();
            cx.ask(&ep, &to, probe)
                .ok()
                .and_then(|a| a.paths.into_iter().find(|x| x.entry == listener))
                .map(|x| x.hops)
                .unwrap_or_default()
        });
        hits.push(Hit {
            ask: k,
            probe: pi,
            entry,
            traffic,
            witness,
        });
    }
}

fn deny(
    cx: &mut Ctx,
    p: &Policy,
    from: &[Selector],
    to: &[Selector],
    t: &TrafficSpec,
) -> Vec<Violation> {
    let dsts = ends(cx, to, &[]);
    let fixed_srcs = (!uses_referenced(from)).then(|| ends(cx, from, &[]));
    let mut asks = Vec::new();
    for d in &dsts {
        let srcs = match &fixed_srcs {
            Some(s) => s.clone(),
            None => ends(cx, from, &referenced_for(cx, d)),
        };
        for s in srcs {
            if !same_or_external(&s, d) {
                asks.push(Ask {
                    src: s,
                    dst: d.clone(),
                    allowed_lbs: Vec::new(),
                });
            }
        }
    }
    let what = format!("policy `{}` denies this", p.id);
    run_asks(cx, p, &asks, &probes(t, None), &what)
}

fn allow_only(
    cx: &mut Ctx,
    p: &Policy,
    from: &[Selector],
    to: &[Selector],
    t: &TrafficSpec,
) -> Vec<Violation> {
    let dsts = ends(cx, to, &[]);
    let mut asks = Vec::new();
    for d in &dsts {
        let allowed = ends(cx, from, &referenced_for(cx, d));
        // A path through an allowed load balancer comes, as the destination sees it, from that load balancer.
        let allowed_lbs: Vec<String> = allowed
            .iter()
            .filter_map(|e| match e {
                End::Member(i) if cx.members[*i].kind == OwnerKind::LoadBalancer => {
                    Some(cx.members[*i].id.clone())
                }
                _ => None,
            })
            .collect();
        // Everyone else: the other members, and the internet and on-premises outside what is allowed.
        let mut candidates: Vec<End> = (0..cx.members.len())
            .filter(|i| originates(&cx.members[*i]))
            .map(End::Member)
            .filter(|e| !allowed.contains(e) && e != d)
            .collect();
        if !matches!(d, End::External(_)) {
            let allowed_space: Vec<Interval> = allowed
                .iter()
                .filter_map(|e| match e {
                    End::External(x @ External::Internet) => Some(x.space()),
                    End::External(x @ External::Space { .. }) => Some(x.space()),
                    _ => None,
                })
                .flatten()
                .collect();
            let rest = select::subtract(&walk::internet_space(), &allowed_space);
            if !rest.is_empty() {
                candidates.push(End::External(External::Space {
                    label: "internet".into(),
                    intervals: rest,
                }));
            }
            if !walk::onprem_entries(cx.m).is_empty()
                && !allowed.contains(&End::External(External::Onprem))
            {
                candidates.push(End::External(External::Onprem));
            }
        }
        for c in candidates {
            asks.push(Ask {
                src: c,
                dst: d.clone(),
                allowed_lbs: allowed_lbs.clone(),
            });
        }
    }
    let what = format!("not an allowed source of policy `{}`", p.id);
    run_asks(cx, p, &asks, &probes(t, None), &what)
}

/// What a `require` answer leaves out: over protocol, destination port and client source
/// port (addresses whole), the required packets that do not get through.
struct Shortfall {
    /// Required protocols and ports that get through from no ephemeral source port.
    none: PacketSet,
    /// Required packets that do not get through although their protocol and port do from
    /// other source ports: their source ports fail.
    some_ports: PacketSet,
}

/// The protocol × destination-port × source-port box of one protocol of a probe.
fn required_box(protocol: Option<u8>, ports: Option<(u16, u16)>, source: (u16, u16)) -> PBox {
    let mut b = PBox::FULL.with(Dim::SrcPort, (source.0 as u128, source.1 as u128));
    if let Some(p) = protocol {
        b = b.with(Dim::Proto, (p as u128, p as u128));
    }
    if let Some((lo, hi)) = ports {
        b = b.with(Dim::DstPort, (lo as u128, hi as u128));
    }
    b
}

/// Whether an answer lets the probe through for ordinary clients, and what it leaves out.
///
/// With protocols and ports given, every protocol on every port must get through from every
/// source port of the probe (the ephemeral ports 1024-65535). Without ports (or without a
/// protocol) some traffic of the probe must get through from every one of those source
/// ports. `None`: the flow holds.
fn shortfall(a: &Answer, probe: &Probe) -> Option<Shortfall> {
    let source = probe.source_ports.unwrap_or((0, 65535));
    let src_iv = [(source.0 as u128, source.1 as u128)];
    let got = a.client.restrict(Dim::SrcPort, &src_iv);
    let strict = match (&probe.protocols, probe.ports) {
        (Some(ps), Some(r)) => Some(PacketSet::from_boxes(
            ps.iter().map(|p| required_box(Some(*p), Some(r), source)),
        )),
        _ => None,
    };
    let required = match strict {
        Some(r) => r,
        None => {
            // Some protocol and port must work from every source port: what works from
            // some source port, minus what fails from another.
            let all = PacketSet::from_box(required_box(None, None, source));
            let failing = all.subtract(&got).rewrite(Dim::SrcPort, src_iv[0]);
            let whole = got.rewrite(Dim::SrcPort, src_iv[0]).subtract(&failing);
            if !whole.is_empty() {
                return None;
            }
            // Nothing works from every source port: what gets through is what is required.
            got.rewrite(Dim::SrcPort, src_iv[0])
        }
    };
    let got = got.intersect(&required);
    let some = got.rewrite(Dim::SrcPort, src_iv[0]);
    let none = required.subtract(&some);
    let some_ports = some.subtract(&got);
    if none.is_empty() && some_ports.is_empty() && !required.is_empty() {
        return None;
    }
    Some(Shortfall { none, some_ports })
}

fn required_traffic(probe: &Probe) -> Vec<Traffic> {
    let ports = |(a, b): (u16, u16)| {
        if (a, b) == (0, 65535) {
            "all ports".to_string()
        } else {
            packet::Ports(&[(a as u128, b as u128)]).to_string()
        }
    };
    match &probe.protocols {
        None => vec![Traffic {
            protocol: "all".into(),
            ports: String::new(),
        }],
        Some(ps) => ps
            .iter()
            .map(|p| Traffic {
                protocol: crate::model::protocol_name(*p),
                ports: match (*p, probe.ports) {
                    (Protocol::TCP | Protocol::UDP, Some(r)) => ports(r),
                    _ => String::new(),
                },
            })
            .collect(),
    }
}

/// The message of a `require` flow that gets through only in part, and what blocks the rest:
/// the protocols and ports that get through from no ephemeral source port, and the source
/// ports that fail for the others, each range asked about again to name what blocks it (a
/// network ACL that lets the replies out only to some ports). `None` when the engine cannot
/// decide about any of the failing source ports (then the flow is listed as undecided).
#[allow(clippy::too_many_arguments)]
fn partial_message(
    cx: &mut Ctx,
    p: &Policy,
    src: &str,
    dst: &str,
    from_ep: &str,
    to_ep: &str,
    probe: &Probe,
    a: &Answer,
    short: &Shortfall,
    required: &[Traffic],
) -> Option<(String, Vec<Block>)> {
    let mut parts = Vec::new();
    let mut blocked_by: Vec<Block> = Vec::new();
    if !short.none.is_empty() {
        parts.push(format!(
            "{src} reaches {dst} only on {} of the required {} from ephemeral source ports",
            traffic_text(&a.traffic),
            traffic_text(required),
        ));
    }
    if !short.some_ports.is_empty() {
        let failing = short.some_ports.project(Dim::SrcPort);
        let text = packet::range_list(failing.iter().copied(), ", ");
        let works = select::subtract(&[(EPHEMERAL.0 as u128, EPHEMERAL.1 as u128)], &failing);
        let works = if works.is_empty() {
            "from some source ports only".to_string()
        } else {
            format!(
                "only from source ports {}",
                packet::range_list(works.iter().copied(), ", ")
            )
        };
        // Each failing range asked about on its own: what blocks it.
        let mut unknown = 0;
        let asked = failing.iter().take(8).count();
        for (lo, hi) in failing.iter().take(8) {
            let sub = Probe {
                source_ports: Some((*lo as u16, *hi as u16)),
                ..probe.clone()
            };
            match cx.ask(from_ep, to_ep, &sub) {
                Ok(x) if x.verdict == Verdict::Unknown => unknown += 1,
                Ok(x) => {
                    for b in x.blocked_by {
                        if !blocked_by.contains(&b) {
                            blocked_by.push(b);
                        }
                    }
                }
                Err(_) => {}
            }
        }
        // A client's source port decides only on the way back: a NACL rule matches the
        // destination port, which for a reply is the client's port. What else blocks the
        // failing ports (the IPv6 internet denied inbound, say) blocks the others as well.
        if blocked_by.iter().any(|b| b.detail.contains("the replies")) {
            blocked_by.retain(|b| b.detail.contains("the replies"));
        }
        if unknown == asked && blocked_by.is_empty() && short.none.is_empty() {
            cx.undecided.push(format!(
                "{}: {src} -> {dst} ({}): unknown from source ports {text}: {}",
                p.id,
                probe_text(probe),
                a.assumptions
                    .iter()
                    .filter(|x| x.starts_with("not modelled"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            return None;
        }
        let why = if blocked_by.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                blocked_by
                    .iter()
                    .map(|b| format!("{} [{}]: {}", b.component, b.code, b.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let traffic = query::traffic_of(&short.some_ports);
        parts.push(format!(
            "{src} reaches {dst} on {} {works}, not from source ports {text} of the ephemeral range {}-{} that ordinary clients pick{why}",
            traffic_text(&traffic),
            EPHEMERAL.0,
            EPHEMERAL.1,
        ));
    }
    if parts.is_empty() {
        parts.push(format!(
            "{src} reaches {dst}, but not from every ephemeral source port {}-{}",
            EPHEMERAL.0, EPHEMERAL.1
        ));
    }
    Some((
        format!(
            "{}; policy `{}` requires every one of them",
            parts.join("; "),
            p.id
        ),
        blocked_by,
    ))
}

fn require(
    cx: &mut Ctx,
    p: &Policy,
    from: &[Selector],
    to: &[Selector],
    t: &TrafficSpec,
) -> Vec<Violation> {
    let dsts = ends(cx, to, &[]);
    let fixed_srcs = (!uses_referenced(from)).then(|| ends(cx, from, &[]));
    let probes = probes(t, Some(EPHEMERAL));
    let mut out = Vec::new();
    for d in &dsts {
        let srcs = match &fixed_srcs {
            Some(s) => s.clone(),
            None => ends(cx, from, &referenced_for(cx, d)),
        };
        for s in &srcs {
            if same_or_external(s, d) {
                continue;
            }
            // Ordinary clients: one question from the party as a whole (the internet, a CIDR).
            let from_ep = cx.endpoints(s);
            let from_ep = if from_ep.len() > 1 {
                "internet".to_string()
            } else {
                from_ep[0].clone()
            };
            let to_ep = cx.endpoints(d)[0].clone();
            for probe in &probes {
                let (sp, dp) = (cx.party(s), cx.party(d));
                let required = required_traffic(probe);
                match cx.ask(&from_ep, &to_ep, probe) {
                    Ok(a) if a.verdict == Verdict::Reachable && shortfall(&a, probe).is_none() => {}
                    Ok(a) if a.verdict == Verdict::Unknown => cx.undecided.push(format!(
                        "{}: {} -> {} ({}): unknown: {}",
                        p.id,
                        sp.name,
                        dp.name,
                        probe_text(probe),
                        a.assumptions.join("; ")
                    )),
                    Ok(a) if a.verdict == Verdict::Unreachable => {
                        let message = format!(
                            "{} cannot reach {} on {} from ephemeral source ports {}-{}, which policy `{}` requires",
                            sp.name,
                            dp.name,
                            traffic_text(&required),
                            EPHEMERAL.0,
                            EPHEMERAL.1,
                            p.id
                        );
                        out.push(violation(
                            p,
                            message,
                            sp,
                            dp,
                            Flow {
                                traffic: required,
                                entry: "direct".into(),
                                witness: Vec::new(),
                                blocked_by: a.blocked_by.clone(),
                            },
                        ));
                    }
                    Ok(a) => {
                        let short = shortfall(&a, probe).expect("a shortfall");
                        let witness = a.paths.first().map(|x| x.hops.clone()).unwrap_or_default();
                        let Some((message, blocked_by)) = partial_message(
                            cx, p, &sp.name, &dp.name, &from_ep, &to_ep, probe, &a, &short,
                            &required,
                        ) else {
                            continue;
                        };
                        out.push(violation(
                            p,
                            message,
                            sp,
                            dp,
                            Flow {
                                traffic: required,
                                entry: "direct".into(),
                                witness,
                                blocked_by,
                            },
                        ));
                    }
                    Err(e) => {
                        let message = format!(
                            "{} -> {}: {e}; policy `{}` requires this flow",
                            sp.name, dp.name, p.id
                        );
                        out.push(violation(
                            p,
                            message,
                            sp,
                            dp,
                            Flow {
                                traffic: required,
                                entry: "direct".into(),
                                witness: Vec::new(),
                                blocked_by: Vec::new(),
                            },
                        ));
                    }
                }
            }
        }
    }
    out
}

// ---- Network Access Analyzer scopes ----

fn member_type_matches(mem: &Member, t: ResType) -> bool {
    match t {
        ResType::NetworkInterface | ResType::Subnet | ResType::Vpc => true,
        ResType::SecurityGroup => !mem.groups.is_empty(),
        ResType::Instance => mem.kind == OwnerKind::Ec2Instance,
        ResType::NatGateway => mem.kind == OwnerKind::NatGateway,
        ResType::VpcEndpoint => mem.kind == OwnerKind::VpcEndpoint,
        ResType::LoadBalancer => mem.kind == OwnerKind::LoadBalancer,
        ResType::TransitGatewayAttachment => mem.kind == OwnerKind::TransitGateway,
        _ => false,
    }
}

fn is_internet_type(t: ResType) -> bool {
    matches!(
        t,
        ResType::InternetGateway | ResType::EgressOnlyInternetGateway
    )
}

fn is_onprem_type(t: ResType) -> bool {
    matches!(
        t,
        ResType::VpnGateway | ResType::VpnConnection | ResType::CustomerGateway
    )
}

fn end_matches(cx: &Ctx, r: &Resources, e: &End) -> bool {
    match e {
        End::Member(i) => {
            let mem = &cx.members[*i];
            let type_ok =
                r.types.is_empty() || r.types.iter().any(|t| member_type_matches(mem, *t));
            let id_ok = r.ids.is_empty()
                || r.ids
                    .iter()
                    .any(|id| select::matches(cx.m, mem, &Selector::Name(id.clone()), &[]));
            type_ok && id_ok && !(r.types.is_empty() && r.ids.is_empty())
        }
        End::External(External::Onprem) => {
            r.types.iter().any(|t| is_onprem_type(*t))
                || r.ids.iter().any(|id| {
                    walk::onprem_entries(cx.m)
                        .iter()
                        .any(|e| e.id() == id.as_str())
                })
        }
        End::External(_) => {
            r.types.iter().any(|t| is_internet_type(*t))
                || r.ids.iter().any(|id| {
                    cx.m.internet_gateways.contains_key(id)
                        || cx.m.egress_only_internet_gateways.contains_key(id)
                })
        }
    }
}

/// Whether a member starts flows of its own. NAT gateways, endpoints and transit gateway
/// attachments only forward what others send, so "every other source" leaves them out.
fn originates(m: &Member) -> bool {
    !m.kind.forwards_only()
}

fn statement_ends(cx: &Ctx, r: Option<&Resources>) -> Vec<End> {
    // Forwarders count only when the statement names them (by type or id).
    let named = |m: &Member| {
        r.is_some_and(|r| {
            r.types.iter().any(|t| {
                matches!(
                    t,
                    ResType::NatGateway | ResType::VpcEndpoint | ResType::TransitGatewayAttachment
                ) && member_type_matches(m, *t)
            }) || r.ids.iter().any(|id| m.ids.contains(id))
        })
    };
    let mut all: Vec<End> = (0..cx.members.len())
        .filter(|i| originates(&cx.members[*i]) || named(&cx.members[*i]))
        .map(End::Member)
        .collect();
    all.push(End::External(External::Internet));
    if !walk::onprem_entries(cx.m).is_empty() {
        all.push(End::External(External::Onprem));
    }
    match r {
        None => all,
        Some(r) => all.into_iter().filter(|e| end_matches(cx, r, e)).collect(),
    }
}

fn header_set(cx: &mut Ctx, headers: &[Header]) -> PacketSet {
    let mut set = PacketSet::from_box(PBox::FULL);
    for h in headers {
        let mut protos: Option<Vec<u8>> = h.protocols.clone();
        if protos.is_none() && (h.src_ports.is_some() || h.dst_ports.is_some()) {
            protos = Some(vec![Protocol::TCP, Protocol::UDP]);
        }
        if let Some(ps) = protos {
            let ivs: Vec<Interval> = ps.iter().map(|p| (*p as u128, *p as u128)).collect();
            set = set.restrict(Dim::Proto, &ivs);
        }
        let mut addrs = |nets: &Option<Vec<ipnet::IpNet>>,
                         lists: &[String]|
         -> Option<Vec<Interval>> {
            if nets.is_none() && lists.is_empty() {
                return None;
            }
            let mut ivs: Vec<Interval> = nets.iter().flatten().flat_map(net_intervals).collect();
            for pl in lists {
                match cx.m.prefix_lists.get(pl) {
                    Some(l) => ivs.extend(l.cidrs.iter().flat_map(net_intervals)),
                    None => cx.warnings.push(format!(
                        "prefix list {pl} is not in the snapshot: it matches nothing"
                    )),
                }
            }
            Some(ivs)
        };
        if let Some(ivs) = addrs(&h.src, &h.src_prefix_lists) {
            set = set.restrict(Dim::Src, &ivs);
        }
        if let Some(ivs) = addrs(&h.dst, &h.dst_prefix_lists) {
            set = set.restrict(Dim::Dst, &ivs);
        }
        let ports = |r: &Option<Vec<(u16, u16)>>| {
            r.as_ref().map(|v| {
                v.iter()
                    .map(|(a, b)| (*a as u128, *b as u128))
                    .collect::<Vec<_>>()
            })
        };
        if let Some(ivs) = ports(&h.src_ports) {
            set = set.restrict(Dim::SrcPort, &ivs);
        }
        if let Some(ivs) = ports(&h.dst_ports) {
            set = set.restrict(Dim::DstPort, &ivs);
        }
    }
    set
}

/// Whether a path goes through every statement of `through`.
fn goes_through(cx: &Ctx, path: &PathOut, through: &[Resources]) -> bool {
    through.iter().all(|r| {
        path.hops.iter().any(|h| {
            let type_ok =
                r.types.is_empty() || r.types.iter().any(|t| t.hop_kinds().contains(&h.kind));
            let id_ok = r.ids.is_empty()
                || r.ids.iter().any(|id| {
                    &h.component == id
                        || cx
                            .members
                            .iter()
                            .any(|m| m.ids.contains(id) && m.enis.contains(&h.component))
                });
            type_ok && id_ok
        })
    })
}

fn box_probe(b: &PBox) -> Probe {
    let full = |d: Dim, max: u128| b.get(d) == (0, max);
    let range = |d: Dim| {
        let (a, z) = b.get(d);
        (a as u16, z as u16)
    };
    Probe {
        protocols: (!full(Dim::Proto, 255)).then(|| {
            let (a, z) = b.get(Dim::Proto);
            (a..=z).map(|p| p as u8).collect()
        }),
        ports: (!full(Dim::DstPort, 65535)).then(|| range(Dim::DstPort)),
        source_ports: (!full(Dim::SrcPort, 65535)).then(|| range(Dim::SrcPort)),
    }
}

/// Restricts an end to the addresses of a box dimension; `None` when nothing is left.
fn restrict_end(cx: &Ctx, e: &End, iv: Interval) -> Option<End> {
    if iv == packet::ALL_ADDRS {
        return Some(e.clone());
    }
    match e {
        End::Member(i) => cx.members[*i]
            .addrs
            .iter()
            .any(|a| a.0 <= iv.1 && iv.0 <= a.1)
            .then(|| e.clone()),
        End::External(x) => {
            let rest = select::intersect(&x.space(), &[iv]);
            (!rest.is_empty()).then(|| {
                End::External(External::Space {
                    label: x.party().id,
                    intervals: rest,
                })
            })
        }
    }
}

fn scope(cx: &mut Ctx, p: &Policy, s: &Scope) -> Vec<Violation> {
    let mut acc: BTreeMap<(String, String, String), (End, End, Reached)> = BTreeMap::new();
    let mut order: Vec<(String, String, String)> = Vec::new();
    for mp in &s.match_paths {
        let srcs = statement_ends(cx, mp.source.as_ref());
        let dsts = statement_ends(cx, mp.destination.as_ref());
        let base = header_set(cx, &mp.headers);
        for src in &srcs {
            for dst in &dsts {
                if same_or_external(src, dst) {
                    continue;
                }
                let excludes: Vec<&PathSpec> = s
                    .exclude_paths
                    .iter()
                    .filter(|e| {
                        e.source.as_ref().is_none_or(|r| end_matches(cx, r, src))
                            && e.destination
                                .as_ref()
                                .is_none_or(|r| end_matches(cx, r, dst))
                    })
                    .collect();
                let mut set = base.clone();
                let mut through_excludes: Vec<(&PathSpec, PacketSet)> = Vec::new();
                for e in &excludes {
                    let h = header_set(cx, &e.headers);
                    if e.through.is_empty() {
                        set = set.subtract(&h);
                    } else {
                        through_excludes.push((e, h));
                    }
                }
                for b in set.boxes().to_vec() {
                    let Some(src_e) = restrict_end(cx, src, b.get(Dim::Src)) else {
                        continue;
                    };
                    let Some(dst_e) = restrict_end(cx, dst, b.get(Dim::Dst)) else {
                        continue;
                    };
                    let probe = box_probe(&b);
                    let one = PacketSet::from_box(b);
                    let excl: Vec<&PathSpec> = through_excludes
                        .iter()
                        .filter(|(_, h)| one.subtract(h).is_empty())
                        .map(|(e, _)| *e)
                        .collect();
                    let through = mp.through.clone();
                    let keep = move |cx: &Ctx, path: &PathOut| {
                        goes_through(cx, path, &through)
                            && !excl.iter().any(|e| goes_through(cx, path, &e.through))
                    };
                    let srcs_ep = cx.endpoints(&src_e);
                    let dsts_ep = cx.endpoints(&dst_e);
                    let key = (cx.party(src).id, cx.party(dst).id, String::new());
                    let mut r = Reached::default();
                    let pair = Pair {
                        src: &src_e,
                        srcs: &srcs_ep,
                        dst: &dst_e,
                        dsts: &dsts_ep,
                    };
                    cx.reach(&p.id, pair, &probe, &keep, &mut r);
                    for (entry, (traffic, hops)) in r.by_entry {
                        let k = (key.0.clone(), key.1.clone(), entry.clone());
                        let slot = acc.entry(k.clone()).or_insert_with(|| {
                            order.push(k.clone());
                            (src.clone(), dst.clone(), Reached::default())
                        });
                        let e = slot
                            .2
                            .by_entry
                            .entry(entry)
                            .or_insert_with(|| (Vec::new(), hops));
                        let mut all = std::mem::take(&mut e.0);
                        all.extend(traffic);
                        e.0 = merge_traffic(&all);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for k in order {
        let (src, dst, r) = &acc[&k];
        for (entry, (traffic, hops)) in &r.by_entry {
            let (sp, dp) = (cx.party(src), cx.party(dst));
            let via = if entry == "direct" {
                String::new()
            } else {
                format!(" via {entry}")
            };
            let message = format!(
                "{} reaches {} ({}){via}: a path in scope `{}`",
                sp.name,
                dp.name,
                traffic_text(traffic),
                p.id
            );
            out.push(violation(
                p,
                message,
                sp,
                dp,
                Flow {
                    traffic: traffic.clone(),
                    entry: entry.clone(),
                    witness: hops.clone(),
                    blocked_by: Vec::new(),
                },
            ));
        }
    }
    out
}
