//! The filters of one hop, as packet sets: security groups, NACLs and route
//! tables (longest-prefix partitions). Pure functions of the model.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::IpNet;
use rangemap::RangeInclusiveMap;

use super::index::{Host, Index, Way};
use super::packet::{net_intervals, Dim, Interval, PBox, PacketSet, ALL_ADDRS};
use crate::model::*;

/// The box of a protocol and port spec (addresses unconstrained).
pub fn proto_ports_box(proto: Protocol, ports: PortSpec, port_dim: Dim) -> PBox {
    let mut b = PBox::FULL;
    if let Protocol::Number(p) = proto {
        b = b.with(Dim::Proto, (p as u128, p as u128));
        match ports {
            PortSpec::All => {}
            PortSpec::Range(a, z) => b = b.with(port_dim, (a as u128, z as u128)),
            PortSpec::Icmp { kind: None, .. } => {}
            PortSpec::Icmp {
                kind: Some(t),
                code,
            } => {
                let t = t as u128 * 256;
                b = b.with(
                    Dim::DstPort,
                    match code {
                        Some(c) => (t + c as u128, t + c as u128),
                        None => (t, t + 255),
                    },
                );
            }
        }
    }
    b
}

/// Direction of a security-group evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgDirection {
    /// Inbound rules: the peer is the packet's source.
    Ingress,
    /// Outbound rules: the peer is the packet's destination.
    Egress,
}

/// The packets the security groups of a host allow, and the rules that matched. Rules naming
/// groups count only when `refs` gives the way the packets crossed between VPCs (senders
/// outside the VPCs, internet or on-premises, never match them, §1.3; the way decides which
/// references it carries, [`super::index::reference_applies`]), except an inbound rule naming
/// a group of the load balancer that forwarded the flow (`forwarded_by_lb_groups`, §5.3).
pub fn security_groups(
    m: &Model,
    idx: &Index,
    groups: &[String],
    dir: SgDirection,
    set: &PacketSet,
    forwarded_by_lb_groups: &[String],
    refs: Option<Way>,
) -> (PacketSet, Vec<String>) {
    let peer_dim = match dir {
        SgDirection::Ingress => Dim::Src,
        SgDirection::Egress => Dim::Dst,
    };
    let mut allowed = PacketSet::empty();
    let mut matched = Vec::new();
    for gid in groups {
        let Some(sg) = m.security_groups.get(gid) else {
            continue;
        };
        let rules = match dir {
            SgDirection::Ingress => &sg.ingress,
            SgDirection::Egress => &sg.egress,
        };
        for rule in rules {
            let base = proto_ports_box(rule.protocol, rule.ports, Dim::DstPort);
            let peer: Vec<Interval> = match &rule.peer {
                SgPeer::Cidr(net) => net_intervals(net),
                SgPeer::PrefixList(pl) => m
                    .prefix_lists
                    .get(pl)
                    .map(|p| p.cidrs.iter().flat_map(net_intervals).collect())
                    .unwrap_or_default(),
                // A stale reference matches nothing known ([`unknown_entries_part`]).
                SgPeer::Group { .. } if m.stale_peering(&rule.peer).is_some() => continue,
                SgPeer::Group { group_id, .. } => {
                    if dir == SgDirection::Ingress
                        && forwarded_by_lb_groups.contains(group_id)
                        && lb_reference_applies(m, group_id, &sg.vpc_id, refs)
                    {
                        // §1.3/§5.3: a rule naming the load balancer's group admits what it
                        // forwards, whoever the (preserved) client is.
                        vec![super::packet::ALL_ADDRS]
                    } else if let Some(way) = refs {
                        let inbound = dir == SgDirection::Ingress;
                        idx.group_members(m, group_id, &sg.vpc_id, inbound, way)
                    } else {
                        continue;
                    }
                }
            };
            if peer.is_empty() {
                continue;
            }
            let rule_set = PacketSet::from_box(base).restrict(peer_dim, &peer);
            let hit = set.intersect(&rule_set);
            if !hit.is_empty() {
                matched.push(format!("{gid}: {rule}"));
                allowed = allowed.union(&hit);
            }
        }
    }
    (allowed, matched)
}

/// Whether a rule of a group in `rule_vpc` naming `lb_group`, a group of the load balancer
/// that forwarded the flow, admits it. A preserved client address (`refs` is `None`, a client
/// outside the VPCs, or [`Way::Any`]) is admitted by the NLB exception (§5.3). Otherwise the
/// packets come from the node's own address and the reference must be carried by the way
/// they came from the load balancer's VPC, as any reference (§1.3; §5.2: a reference to the
/// load balancer's group "only works where references work").
fn lb_reference_applies(m: &Model, lb_group: &str, rule_vpc: &str, refs: Option<Way>) -> bool {
    match refs {
        None | Some(Way::Any) => true,
        Some(way) => m
            .security_groups
            .get(lb_group)
            .is_none_or(|g| super::index::reference_applies(m, &g.vpc_id, rule_vpc, true, way)),
    }
}

/// What the rules of `groups` naming prefix lists whose entries are not in the snapshot (an
/// AWS-managed list described without `get-managed-prefix-list-entries`, or a list not
/// described at all) would admit of `set`
/// beyond `allowed`, any address standing for the unknown entries; with those lists' ids.
/// A group the host holds that is not in the snapshot although groups are (a partial
/// collection) could admit anything: then all of `set` beyond `allowed` is in that part, and
/// the group is named. So is what a stale rule ([`Model::stale_peering`]) would admit of the
/// referenced group's members where a live connection joins their VPC to the rule's: `refs`
/// as for [`security_groups`] (`None`: senders outside the VPCs, whom no reference matches).
/// `None` when there is no such part.
pub fn unknown_entries_part(
    m: &Model,
    idx: &Index,
    groups: &[String],
    dir: SgDirection,
    set: &PacketSet,
    allowed: &PacketSet,
    refs: Option<Way>,
) -> Option<(PacketSet, UnknownRules)> {
    let mut maybe = PacketSet::empty();
    let mut lists: Vec<String> = Vec::new();
    let mut stale: Vec<(String, String)> = Vec::new();
    let missing: Vec<String> = m.missing_groups(groups).cloned().collect();
    if !missing.is_empty() {
        maybe = set.clone();
    }
    let peer_dim = match dir {
        SgDirection::Ingress => Dim::Src,
        SgDirection::Egress => Dim::Dst,
    };
    for sg in groups.iter().filter_map(|g| m.security_groups.get(g)) {
        let rules = match dir {
            SgDirection::Ingress => &sg.ingress,
            SgDirection::Egress => &sg.egress,
        };
        for rule in rules {
            if let (Some(pcx), SgPeer::Group { group_id, .. }, Some(way)) =
                (m.stale_peering(&rule.peer), &rule.peer, refs)
            {
                let inbound = dir == SgDirection::Ingress;
                let members = idx.group_members(m, group_id, &sg.vpc_id, inbound, way);
                let hit = set
                    .intersect(&PacketSet::from_box(proto_ports_box(
                        rule.protocol,
                        rule.ports,
                        Dim::DstPort,
                    )))
                    .restrict(peer_dim, &members);
                if !hit.is_empty() {
                    maybe = maybe.union(&hit);
                    let entry = (group_id.clone(), pcx.to_string());
                    if !stale.contains(&entry) {
                        stale.push(entry);
                    }
                }
                continue;
            }
            let SgPeer::PrefixList(pl) = &rule.peer else {
                continue;
            };
            // (A list that is not in the snapshot at all is as unknown.)
            let list = m.prefix_lists.get(pl);
            if list.is_some_and(|p| p.entries_known) {
                continue;
            }
            let mut hit = set.intersect(&PacketSet::from_box(proto_ports_box(
                rule.protocol,
                rule.ports,
                Dim::DstPort,
            )));
            // A list of one address family holds entries of that family only: the peer's
            // address (the source inbound, the destination outbound) is of that family.
            if let Some(v4) = list.and_then(|p| p.ipv4) {
                let peer = peer_dim;
                let family = if v4 {
                    vec![super::packet::ALL_V4]
                } else {
                    super::packet::v6_intervals().to_vec()
                };
                hit = hit.restrict(peer, &family);
            }
            if !hit.is_empty() {
                maybe = maybe.union(&hit);
                if !lists.contains(pl) {
                    lists.push(pl.clone());
                }
            }
        }
    }
    let maybe = maybe.subtract(allowed);
    (!maybe.is_empty()).then_some((
        maybe,
        UnknownRules {
            lists,
            missing,
            stale,
        },
    ))
}

/// Why some rules of a host's groups are not known ([`unknown_entries_part`]).
#[derive(Debug, Clone, Default)]
pub struct UnknownRules {
    /// Prefix lists whose entries are not in the snapshot, named by rules.
    pub lists: Vec<String>,
    /// Groups the host holds that are not in the snapshot.
    pub missing: Vec<String>,
    /// Stale rules' referenced groups, with the peering connection each was made over.
    pub stale: Vec<(String, String)>,
}

/// What the outbound rules of `groups` that name a group of `node` let out of `set` towards
/// the node's addresses, for packets that cross between VPCs `way` (§1.3: the reference
/// applies from the rule's VPC to the node's).
pub fn egress_to_node(
    m: &Model,
    groups: &[String],
    node: &Host,
    set: &PacketSet,
    way: Way,
) -> PacketSet {
    let mut allowed = PacketSet::empty();
    let towards = set.restrict(Dim::Dst, &node.private);
    if towards.is_empty() {
        return allowed;
    }
    for sg in groups.iter().filter_map(|g| m.security_groups.get(g)) {
        for rule in &sg.egress {
            let SgPeer::Group { group_id, .. } = &rule.peer else {
                continue;
            };
            if !node.groups.contains(group_id)
                || m.stale_peering(&rule.peer).is_some()
                || !super::index::reference_applies(m, &node.vpc_id, &sg.vpc_id, false, way)
            {
                continue;
            }
            let hit = towards.intersect(&PacketSet::from_box(proto_ports_box(
                rule.protocol,
                rule.ports,
                Dim::DstPort,
            )));
            allowed = allowed.union(&hit);
        }
    }
    allowed
}

/// Which NACL list applies and how its fields map onto the forward packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NaclCheck {
    /// The packet leaves the subnet.
    OutForward,
    /// The packet enters the subnet.
    InForward,
    /// The reply leaves this subnet (this subnet holds the destination).
    OutReply,
    /// The reply enters this subnet (this subnet holds the source).
    InReply,
}

/// The ICMP queries that are answered, as (protocol, request type, reply type): echo (IPv4
/// 8 → 0, RFC 792), timestamp (13 → 14, RFC 792), information (15 → 16, RFC 792), address mask
/// (17 → 18, RFC 950), extended echo (42 → 43, RFC 8335), and ICMPv6 echo (128 → 129, RFC
/// 4443) and extended echo (160 → 161, RFC 8335). Every other ICMP message (errors,
/// redirects, router and neighbour discovery) gets no reply, so a NACL has no reply of it to
/// judge. Replies carry code 0.
const ICMP_QUERIES: [(u8, u128, u128); 7] = [
    (1, 8, 0),
    (1, 13, 14),
    (1, 15, 16),
    (1, 17, 18),
    (1, 42, 43),
    (58, 128, 129),
    (58, 160, 161),
];

/// The ICMP and ICMPv6 packets whose reply never comes back ([`ICMP_QUERIES`] lists those that
/// do).
fn icmp_without_reply() -> PacketSet {
    let v4 = PBox::FULL.with(Dim::Proto, (1, 1));
    let v6 = PBox::FULL.with(Dim::Proto, (58, 58));
    let queries = PacketSet::from_boxes(ICMP_QUERIES.iter().map(|&(p, request, _)| {
        PBox::FULL
            .with(Dim::Proto, (p as u128, p as u128))
            .with(Dim::DstPort, (request * 256, request * 256 + 255))
    }));
    PacketSet::from_boxes([v4, v6]).subtract(&queries)
}

/// Evaluates a NACL list first-match-wins; returns the allowed part and the allowing rule numbers.
/// `None` (no NACL known for the subnet) allows everything: AWS's default NACL.
///
/// This is the reference evaluation, rule by rule; the walk uses [`CompiledNacl`], which gives
/// the same answer with a table built once per NACL.
pub fn nacl(acl: Option<&NetworkAcl>, set: &PacketSet, check: NaclCheck) -> (PacketSet, Vec<u32>) {
    let Some(acl) = acl else {
        return (set.clone(), Vec::new());
    };
    let (allowed, hits) = nacl_hits(acl, set, check);
    (allowed, hits.into_iter().map(|h| h.1).collect())
}

/// Which entries a check reads, which address is the remote one, and whether it judges the reply.
fn nacl_check_params(check: NaclCheck) -> (bool, Dim, bool) {
    match check {
        NaclCheck::OutForward => (true, Dim::Dst, false),
        NaclCheck::InForward => (false, Dim::Src, false),
        NaclCheck::OutReply => (true, Dim::Src, true),
        NaclCheck::InReply => (false, Dim::Dst, true),
    }
}

/// An allow rule that matched: its position among the list's entries, its number, and the
/// packets it allowed.
type NaclHit = (usize, u32, PacketSet);

/// First-match-wins evaluation: the allowed part, and every allow rule that matched something.
fn nacl_hits(acl: &NetworkAcl, set: &PacketSet, check: NaclCheck) -> (PacketSet, Vec<NaclHit>) {
    let (egress, remote, reply) = nacl_check_params(check);
    let (mut remaining, bypass) = if reply {
        let no_reply = icmp_without_reply();
        (set.subtract(&no_reply), set.intersect(&no_reply))
    } else {
        (set.clone(), PacketSet::empty())
    };
    let mut allowed = bypass;
    let mut hits = Vec::new();
    for (pos, e) in acl
        .entries
        .iter()
        .filter(|e| e.egress == egress)
        .enumerate()
    {
        if remaining.is_empty() {
            break;
        }
        let rule_box = if reply {
            match reply_box(e) {
                Some(b) => b,
                None => continue,
            }
        } else {
            proto_ports_box(e.protocol, e.ports, Dim::DstPort)
        };
        let rule_set = PacketSet::from_box(rule_box).restrict(remote, &net_intervals(&e.cidr));
        let hit = remaining.intersect(&rule_set);
        if hit.is_empty() {
            continue;
        }
        if e.allow {
            // `hit` comes out of `remaining`, which shares nothing with `allowed`.
            allowed = allowed.union_disjoint(&hit);
            hits.push((pos, e.rule_number, hit));
        }
        // The same as subtracting `hit`, with one or two boxes instead of all of `hit`'s.
        remaining = remaining.subtract(&rule_set);
    }
    (allowed, hits)
}

/// One NACL list compiled for one check, so that filtering a set costs one pass over its
/// boxes instead of a subtraction per rule.
///
/// The remote address space is cut where any entry's CIDR starts or ends. Inside one piece
/// (an *atom*) every entry either covers every address or none, so first-match-wins gives
/// the same verdict for every address of the atom: what the list allows there is a set over
/// protocol and ports alone, computed once with [`nacl`]'s evaluation. Filtering a packet
/// set then intersects each box, cut at the atoms, with its atom's allowed boxes; an allow
/// rule is reported when the box meets the packets that rule decided in that atom.
#[derive(Debug, Clone)]
pub struct CompiledNacl {
    remote: Dim,
    /// Sorted, disjoint, covering every address; adjacent atoms always differ.
    atoms: Vec<NaclAtom>,
}

#[derive(Debug, Clone, PartialEq)]
struct NaclAtom {
    /// The remote addresses.
    span: Interval,
    /// What the list allows there (the remote dimension widened to every address).
    allowed: Vec<PBox>,
    /// The allow rules that decide something there: (position, number, the packets they decide).
    rules: Vec<(usize, u32, Vec<PBox>)>,
}

impl CompiledNacl {
    /// Compiles one list of a NACL for one check.
    pub fn new(acl: &NetworkAcl, check: NaclCheck) -> CompiledNacl {
        let (egress, remote, _) = nacl_check_params(check);
        let mut cuts: Vec<u128> = vec![0];
        for e in acl.entries.iter().filter(|e| e.egress == egress) {
            for (lo, hi) in net_intervals(&e.cidr) {
                cuts.push(lo);
                if hi < u128::MAX {
                    cuts.push(hi + 1);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        // Each rule cuts what it decides out of the rest: the pieces a verdict is made of are
        // joined again (fewer boxes allowed here, fewer boxes in every set filtered).
        let widen = |s: &PacketSet| -> Vec<PBox> {
            let v: Vec<PBox> = s
                .boxes()
                .iter()
                .map(|b| b.with(remote, ALL_ADDRS))
                .collect();
            let mut v = PacketSet::from_boxes(v).coalesce_fully().boxes().to_vec();
            v.sort_unstable();
            v
        };
        // The verdict in an atom depends only on which entries cover it: atoms that the same
        // entries cover share one evaluation.
        let covers: Vec<Vec<Interval>> = acl
            .entries
            .iter()
            .filter(|e| e.egress == egress)
            .map(|e| net_intervals(&e.cidr))
            .collect();
        type Verdict = (Vec<PBox>, Vec<(usize, u32, Vec<PBox>)>);
        let mut verdicts: std::collections::HashMap<Vec<bool>, Verdict> = Default::default();
        let mut atoms: Vec<NaclAtom> = Vec::new();
        for (i, &lo) in cuts.iter().enumerate() {
            let hi = cuts.get(i + 1).map_or(u128::MAX, |n| n - 1);
            let key: Vec<bool> = covers
                .iter()
                .map(|ivs| ivs.iter().any(|&(a, b)| a <= lo && hi <= b))
                .collect();
            let (allowed, rules) = verdicts
                .entry(key)
                .or_insert_with(|| {
                    let whole = PacketSet::from_box(PBox::FULL.with(remote, (lo, hi)));
                    let (allowed, hits) = nacl_hits(acl, &whole, check);
                    (
                        widen(&allowed),
                        hits.iter()
                            .map(|(pos, num, hit)| (*pos, *num, widen(hit)))
                            .collect(),
                    )
                })
                .clone();
            let atom = NaclAtom {
                span: (lo, hi),
                allowed,
                rules,
            };
            match atoms.last_mut() {
                Some(last) if last.allowed == atom.allowed && last.rules == atom.rules => {
                    last.span.1 = hi;
                }
                _ => atoms.push(atom),
            }
        }
        CompiledNacl { remote, atoms }
    }

    /// The same as [`nacl`] with this list and check: the allowed part and the allowing rule
    /// numbers, in the list's order (left empty when `with_rules` is false).
    pub fn filter(&self, set: &PacketSet, with_rules: bool) -> (PacketSet, Vec<u32>) {
        let mut out: Vec<PBox> = Vec::new();
        let mut matched: BTreeMap<usize, u32> = BTreeMap::new();
        for b in set.boxes() {
            let r = b.get(self.remote);
            let first = self.atoms.partition_point(|a| a.span.1 < r.0);
            for a in &self.atoms[first..] {
                if a.span.0 > r.1 {
                    break;
                }
                let piece = b.with(self.remote, (r.0.max(a.span.0), r.1.min(a.span.1)));
                out.extend(a.allowed.iter().filter_map(|f| piece.intersect(f)));
                for (pos, num, region) in a.rules.iter().filter(|_| with_rules) {
                    if !matched.contains_key(pos)
                        && region.iter().any(|x| piece.intersect(x).is_some())
                    {
                        matched.insert(*pos, *num);
                    }
                }
            }
        }
        (PacketSet::from_pieces(out), matched.into_values().collect())
    }
}

/// A NACL entry seen from the forward packet when it judges the reply: the
/// reply's destination port is the forward source port, and an ICMP reply type (echo reply,
/// timestamp reply, ...) answers its query ([`ICMP_QUERIES`]).
fn reply_box(e: &NaclEntry) -> Option<PBox> {
    match (e.protocol, e.ports) {
        (Protocol::Number(p), PortSpec::Range(a, z)) => Some(
            PBox::FULL
                .with(Dim::Proto, (p as u128, p as u128))
                .with(Dim::SrcPort, (a as u128, z as u128)),
        ),
        (
            Protocol::Number(p),
            PortSpec::Icmp {
                kind: Some(t),
                code,
            },
        ) => {
            // Query replies carry code 0: a rule for another code matches none.
            let request = ICMP_QUERIES
                .iter()
                .find(|&&(q, _, reply)| q == p && reply == t as u128)
                .filter(|_| matches!(code, None | Some(0)))
                .map(|&(_, request, _)| request);
            // A rule for a type that answers no query matches no reply; [`icmp_without_reply`]
            // lets the rest through.
            request.map(|r| {
                PBox::FULL
                    .with(Dim::Proto, (p as u128, p as u128))
                    .with(Dim::DstPort, (r * 256, r * 256 + 255))
            })
        }
        (proto, ports) => Some(proto_ports_box(proto, ports, Dim::SrcPort)),
    }
}

/// A route chosen by longest-prefix match.
#[derive(Debug, Clone)]
pub struct RouteChoice {
    /// Destination as written.
    pub destination: String,
    /// Target.
    pub target: RouteTarget,
    /// Active (not blackhole).
    pub active: bool,
    /// Propagated by a virtual private gateway: the gateway has learned the destination (from
    /// a VPN's static routes, BGP or Direct Connect).
    pub propagated: bool,
    /// Prefix lists with the same block to different targets (`target` is
    /// [`RouteTarget::Other`] naming them): AWS picks one at random and keeps it (§3.2.5), and
    /// which one it picked is not in the snapshot.
    pub ambiguous: bool,
}

/// Partitions a packet set by the route each part takes (on the given address
/// dimension: `Dst` for forwarding, `Src` for checking where replies go).
/// `None` parts have no route.
pub fn route_partition(
    m: &Model,
    rt: Option<&RouteTable>,
    vpc_id: &str,
    set: &PacketSet,
    dim: Dim,
) -> Vec<(Option<RouteChoice>, PacketSet)> {
    let mut routes: Vec<(IpNet, u8, RouteChoice)> = Vec::new();
    let prio = |origin: RouteOrigin, pl: bool| -> u8 {
        match (origin, pl) {
            (RouteOrigin::Propagated, _) => 0,
            (_, true) => 1,
            (RouteOrigin::Static, false) => 2,
            (RouteOrigin::Local, false) => 3,
        }
    };
    match rt {
        Some(rt) => {
            // §3.2.5: in a subnet route table, a prefix-list entry more specific than one of
            // the VPC's CIDRs is not valid for the table and is ignored (it never overrides
            // the local route, as a static route for a whole subnet may).
            let vpc_cidrs = m.vpc_cidrs(&rt.vpc_id);
            let invalid = |n: &IpNet| {
                rt.gateway_ids.is_empty()
                    && vpc_cidrs
                        .iter()
                        .any(|v| v.contains(n) && n.prefix_len() > v.prefix_len())
            };
            // Prefix-list entries by CIDR: several lists with the same block to different
            // targets are ambiguous (AWS picks one at random and keeps it, §3.2.5).
            let mut listed: BTreeMap<IpNet, Vec<(&str, &RouteTarget, bool)>> = BTreeMap::new();
            for r in &rt.routes {
                let choice = RouteChoice {
                    destination: r.destination.to_string(),
                    target: r.target.clone(),
                    active: r.active,
                    propagated: r.origin == RouteOrigin::Propagated,
                    ambiguous: false,
                };
                match &r.destination {
                    RouteDestination::Cidr(n) => routes.push((*n, prio(r.origin, false), choice)),
                    RouteDestination::PrefixList(pl) => {
                        if let Some(p) = m.prefix_lists.get(pl) {
                            for n in p.cidrs.iter().filter(|n| !invalid(n)) {
                                if !p.assumed {
                                    listed
                                        .entry(*n)
                                        .or_default()
                                        .push((pl, &r.target, r.active));
                                }
                                routes.push((*n, prio(r.origin, true), choice.clone()));
                            }
                        }
                    }
                }
            }
            for (n, by) in listed {
                let mut targets: Vec<(&RouteTarget, bool)> =
                    by.iter().map(|(_, t, a)| (*t, *a)).collect();
                targets.sort();
                targets.dedup();
                if targets.len() < 2 {
                    continue;
                }
                let mut lists: Vec<&str> = by.iter().map(|(pl, _, _)| *pl).collect();
                lists.sort_unstable();
                lists.dedup();
                let ways: Vec<String> = targets
                    .iter()
                    .map(|(t, active)| {
                        if *active {
                            t.id().to_string()
                        } else {
                            format!("{} (blackhole)", t.id())
                        }
                    })
                    .collect();
                routes.retain(|(x, p, _)| !(*x == n && *p == 1));
                routes.push((
                    n,
                    1,
                    RouteChoice {
                        destination: format!("{} ({n})", lists.join(", ")),
                        target: RouteTarget::Other(ways.join(" or ")),
                        active: true,
                        propagated: false,
                        ambiguous: true,
                    },
                ));
            }
        }
        None => {
            for n in m.vpc_cidrs(vpc_id) {
                routes.push((
                    n,
                    3,
                    RouteChoice {
                        destination: n.to_string(),
                        target: RouteTarget::Local,
                        active: true,
                        propagated: false,
                        ambiguous: false,
                    },
                ));
            }
        }
    }
    routes.sort_by_key(|(n, p, _)| (n.prefix_len(), *p));
    let mut map: RangeInclusiveMap<u128, usize> = RangeInclusiveMap::new();
    let mut local_map: RangeInclusiveMap<u128, ()> = RangeInclusiveMap::new();
    for (i, (net, p, choice)) in routes.iter().enumerate() {
        for iv in net_intervals(net) {
            if *p == 0 {
                // §3.2: a propagated route never beats the local route, however specific.
                let gaps: Vec<_> = local_map.gaps(&(iv.0..=iv.1)).collect();
                for g in gaps {
                    map.insert(*g.start()..=*g.end(), i);
                }
            } else {
                map.insert(iv.0..=iv.1, i);
                if choice.target == RouteTarget::Local {
                    local_map.insert(iv.0..=iv.1, ());
                }
            }
        }
    }
    partition_by(&map, set, dim)
        .into_iter()
        .map(|(i, part)| (i.map(|i| routes[i].2.clone()), part))
        .collect()
}

/// Splits `set` on dimension `dim` by the value `map` gives each address (`None` where it gives
/// none), in the order of the values.
fn partition_by(
    map: &RangeInclusiveMap<u128, usize>,
    set: &PacketSet,
    dim: Dim,
) -> Vec<(Option<usize>, PacketSet)> {
    let mut by_route: BTreeMap<usize, Vec<Interval>> = BTreeMap::new();
    let mut none: Vec<Interval> = Vec::new();
    for iv in set.project(dim) {
        for (range, idx) in map.overlapping(&(iv.0..=iv.1)) {
            let lo = (*range.start()).max(iv.0);
            let hi = (*range.end()).min(iv.1);
            by_route.entry(*idx).or_default().push((lo, hi));
        }
        for g in map.gaps(&(iv.0..=iv.1)) {
            none.push((*g.start(), *g.end()));
        }
    }
    let mut out = Vec::new();
    for (i, ivs) in by_route {
        let part = set.restrict(dim, &ivs);
        if !part.is_empty() {
            out.push((Some(i), part));
        }
    }
    if !none.is_empty() {
        let part = set.restrict(dim, &none);
        if !part.is_empty() {
            out.push((None, part));
        }
    }
    out
}

/// A TGW route chosen by longest-prefix match.
#[derive(Debug, Clone)]
pub struct TgwChoice {
    /// Destination as written.
    pub destination: String,
    /// Attachments (empty when blackhole).
    pub attachments: Vec<String>,
    /// Blackhole.
    pub blackhole: bool,
    /// Why what the route does is not known (a route still `pending`; two routes of one kind
    /// to one prefix, between which AWS decides by what the snapshot does not hold): a packet
    /// taking it is `unknown`.
    pub unknown: Option<String>,
}

/// The effective routes of a TGW route table (its static routes plus the routes its
/// propagations imply), as a longest-prefix map: built once per table.
#[derive(Debug, Clone, Default)]
pub struct TgwRoutes {
    choices: Vec<TgwChoice>,
    map: RangeInclusiveMap<u128, usize>,
    /// The routes' targets (blackhole or attachments), each once: what differs between
    /// routes to one target is only their destination, which only messages name.
    targets: Vec<TgwChoice>,
    /// The longest-prefix map by target (neighbouring ranges of one target joined).
    target_map: RangeInclusiveMap<u128, usize>,
    /// The prefix lists the table routes whose entries the snapshot does not hold: which
    /// route a packet takes is then not known (an entry may be longer than any route shown).
    pub unknown_lists: Vec<String>,
}

impl TgwRoutes {
    /// Partitions a packet set by the route each part takes (on `dim`).
    pub fn partition(&self, set: &PacketSet, dim: Dim) -> Vec<(Option<TgwChoice>, PacketSet)> {
        partition_by(&self.map, set, dim)
            .into_iter()
            .map(|(i, part)| (i.map(|i| self.choices[i].clone()), part))
            .collect()
    }

    /// As [`Self::partition`], one part per target rather than per route (for walks that
    /// keep no messages: a part's `destination` lists every route to its target).
    pub fn partition_by_target(
        &self,
        set: &PacketSet,
        dim: Dim,
    ) -> Vec<(Option<TgwChoice>, PacketSet)> {
        partition_by(&self.target_map, set, dim)
            .into_iter()
            .map(|(i, part)| (i.map(|i| self.targets[i].clone()), part))
            .collect()
    }

    /// The routes [`Self::partition`] would give parts to, in the same order, without
    /// cutting the set (for checks that only look at the routes chosen).
    pub fn choices(&self, set: &PacketSet, dim: Dim) -> Vec<Option<&TgwChoice>> {
        let mut used: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
        let mut none = false;
        for iv in set.project(dim) {
            used.extend(self.map.overlapping(&(iv.0..=iv.1)).map(|(_, i)| *i));
            none = none || self.map.gaps(&(iv.0..=iv.1)).next().is_some();
        }
        let mut out: Vec<Option<&TgwChoice>> =
            used.into_iter().map(|i| Some(&self.choices[i])).collect();
        if none {
            out.push(None);
        }
        out
    }
}

/// The rank of a route among routes to the same prefix (§6.2, route selection: static, then
/// prefix-list, then propagated from a VPC, a Direct Connect gateway, a Connect attachment,
/// a VPN; the highest wins). A propagated route ranks by the kind of its attachment.
fn tgw_route_rank(m: &Model, tgw_id: &str, propagated: bool, attachments: &[String]) -> u8 {
    const STATIC: u8 = 10;
    if !propagated {
        return STATIC;
    }
    let kind = attachments
        .first()
        .and_then(|a| m.tgw_attachment(tgw_id, a))
        .map(|a| a.kind);
    match kind {
        Some(TgwAttachmentKind::Vpc) => 8,
        Some(TgwAttachmentKind::DirectConnect) => 7,
        Some(TgwAttachmentKind::Connect) => 6,
        Some(TgwAttachmentKind::Vpn) => 5,
        Some(TgwAttachmentKind::Peering | TgwAttachmentKind::Other) | None => 4,
    }
}

/// Effective routes of a TGW route table: its static routes plus the routes its propagations imply.
pub fn tgw_routes(m: &Model, rt: &TgwRouteTable) -> TgwRoutes {
    const PREFIX_LIST: u8 = 9;
    let mut routes: Vec<(IpNet, u8, TgwChoice)> = Vec::new();
    for r in &rt.routes {
        let choice = TgwChoice {
            destination: r.destination.to_string(),
            attachments: r.attachment_ids.clone(),
            blackhole: r.blackhole,
            unknown: r.pending.then(|| {
                format!(
                    "transit gateway route table {}'s route to {} is pending: whether it carries traffic yet is not known",
                    rt.id, r.destination
                )
            }),
        };
        let p = tgw_route_rank(m, &rt.tgw_id, r.propagated, &r.attachment_ids);
        match &r.destination {
            RouteDestination::Cidr(n) => routes.push((*n, p, choice)),
            RouteDestination::PrefixList(pl) => {
                for n in m
                    .prefix_lists
                    .get(pl)
                    .map(|p| p.cidrs.clone())
                    .unwrap_or_default()
                {
                    routes.push((n, PREFIX_LIST, choice.clone()));
                }
            }
        }
    }
    // The prefixes the table's listed routes have, when it lists them (see below).
    let listed: std::collections::HashSet<IpNet> = rt
        .routes
        .iter()
        .filter(|_| rt.routes_known)
        .filter_map(|r| match &r.destination {
            RouteDestination::Cidr(n) => Some(*n),
            RouteDestination::PrefixList(_) => None,
        })
        .collect();
    for att_id in &rt.propagations {
        let Some(att) = m.tgw_attachment(&rt.tgw_id, att_id) else {
            continue;
        };
        let cidrs: Vec<IpNet> = match att.kind {
            // A VPC's IPv6 CIDRs propagate only with IPv6 support on the attachment.
            TgwAttachmentKind::Vpc => m
                .vpc_cidrs(&att.resource_id)
                .into_iter()
                .filter(|n| matches!(n, IpNet::V4(_)) || att.ipv6_support != Some(false))
                .collect(),
            TgwAttachmentKind::Vpn => m
                .vpn_connections
                .get(&att.resource_id)
                .map(|v| v.static_routes.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for n in cidrs {
            // A propagation implies a route AWS may not have made (a VPC overlapping one attached
            // before does not propagate, §6.2): where the table's routes are listed, a listed
            // route to the prefix is what AWS chose.
            if routes
                .iter()
                .any(|(d, _, c)| *d == n && c.attachments.contains(att_id))
                || listed.contains(&n)
            {
                continue;
            }
            routes.push((
                n,
                tgw_route_rank(m, &rt.tgw_id, true, std::slice::from_ref(att_id)),
                TgwChoice {
                    destination: n.to_string(),
                    attachments: vec![att_id.clone()],
                    blackhole: false,
                    unknown: None,
                },
            ));
        }
    }
    routes.sort_by_key(|(n, p, _)| (n.prefix_len(), *p));
    // §6.2: between routes of one kind to one prefix AWS decides by what the snapshot does
    // not hold (BGP AS path and MED for VPN and Direct Connect routes; which VPC was attached
    // first for overlapping VPCs, whose later one does not propagate; ECMP across VPNs when
    // the gateway has it): the route the map keeps (the last) is then not known.
    let mut same: HashMap<(IpNet, u8), Vec<usize>> = HashMap::new();
    for (i, (net, rank, _)) in routes.iter().enumerate() {
        same.entry((*net, *rank)).or_default().push(i);
    }
    let name = |c: &TgwChoice| {
        if c.blackhole || c.attachments.is_empty() {
            "a blackhole".to_string()
        } else {
            c.attachments.join(",")
        }
    };
    for ((net, _), group) in same.into_iter().filter(|(_, g)| g.len() > 1) {
        let mut targets: Vec<String> = group.iter().map(|&i| name(&routes[i].2)).collect();
        targets.sort();
        targets.dedup();
        if targets.len() < 2 {
            continue;
        }
        let kept = *group.last().expect("a group of two or more");
        let why = format!(
            "transit gateway route table {} has routes of one kind to {net} to {}: which one AWS uses (by BGP AS path or MED, by which VPC was attached first, or both by ECMP) is not in the snapshot",
            rt.id,
            targets.join(" and ")
        );
        routes[kept].2.unknown.get_or_insert(why);
    }
    let mut map: RangeInclusiveMap<u128, usize> = RangeInclusiveMap::new();
    for (i, (net, _, _)) in routes.iter().enumerate() {
        for iv in net_intervals(net) {
            map.insert(iv.0..=iv.1, i);
        }
    }
    let choices: Vec<TgwChoice> = routes.into_iter().map(|(_, _, c)| c).collect();
    // Each target once (in the order the map first reaches it), with the routes that lead
    // there: a route split by more specific ones meets the map more than once.
    let mut target_of: BTreeMap<(bool, &[String], Option<&str>), usize> = BTreeMap::new();
    let mut routes_of: Vec<BTreeSet<usize>> = Vec::new();
    let mut target_map: RangeInclusiveMap<u128, usize> = RangeInclusiveMap::new();
    for (range, &i) in map.iter() {
        let c = &choices[i];
        let next = routes_of.len();
        let t = *target_of
            .entry((c.blackhole, c.attachments.as_slice(), c.unknown.as_deref()))
            .or_insert(next);
        if t == next {
            routes_of.push(BTreeSet::new());
        }
        routes_of[t].insert(i);
        target_map.insert(range.clone(), t);
    }
    let targets = routes_of
        .iter()
        .map(|rs| {
            let first = &choices[*rs.first().expect("a target has a route")];
            // Routes from one prefix list share a destination: named once.
            let mut named = BTreeSet::new();
            let dests: Vec<&str> = rs
                .iter()
                .map(|&i| choices[i].destination.as_str())
                .filter(|d| named.insert(*d))
                .collect();
            TgwChoice {
                destination: dests.join(", "),
                attachments: first.attachments.clone(),
                blackhole: first.blackhole,
                unknown: first.unknown.clone(),
            }
        })
        .collect();
    let unknown_lists = m
        .lists_of_unknown_entries(rt.routes.iter().filter_map(|r| match &r.destination {
            RouteDestination::PrefixList(pl) => Some(pl.as_str()),
            RouteDestination::Cidr(_) => None,
        }))
        .into_iter()
        .map(str::to_string)
        .collect();
    TgwRoutes {
        choices,
        map,
        targets,
        target_map,
        unknown_lists,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// CIDRs from a small pool, so that entries overlap, nest and share bounds.
    const CIDRS: [&str; 8] = [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.2.0.0/16",
        "192.0.2.0/24",
        "::/0",
        "2001:db8::/32",
    ];

    fn entry() -> impl Strategy<Value = NaclEntry> {
        let proto = prop_oneof![
            Just(Protocol::All),
            Just(Protocol::Number(6)),
            Just(Protocol::Number(17)),
            Just(Protocol::Number(1)),
            Just(Protocol::Number(58)),
        ];
        (
            any::<bool>(),
            any::<bool>(),
            proto,
            0u16..3000,
            0u16..3000,
            0usize..CIDRS.len(),
            0u8..20,
        )
            .prop_map(|(egress, allow, protocol, a, b, c, icmp)| {
                let ports = match protocol {
                    Protocol::All => PortSpec::All,
                    Protocol::Number(1) | Protocol::Number(58) => PortSpec::Icmp {
                        kind: (icmp < 15).then_some(if icmp < 5 { 0 } else { icmp }),
                        code: None,
                    },
                    _ => PortSpec::Range(a.min(b), a.max(b)),
                };
                NaclEntry {
                    rule_number: 0,
                    egress,
                    allow,
                    protocol,
                    ports,
                    cidr: CIDRS[c].parse().unwrap(),
                }
            })
    }

    fn packet_box() -> impl Strategy<Value = PBox> {
        let addr = prop_oneof![
            Just("10.1.2.0/24"),
            Just("10.0.0.0/8"),
            Just("10.1.0.0/16"),
            Just("172.16.0.0/12"),
            Just("2001:db8::/33"),
            Just("192.0.2.128/25"),
        ];
        (addr.clone(), addr, 0u128..4, 0u128..3000, 0u128..3000).prop_map(|(src, dst, p, a, b)| {
            let iv = |c: &str| net_intervals(&c.parse().unwrap())[0];
            let proto = [(0, 255), (6, 6), (17, 17), (1, 1)][p as usize];
            PBox::FULL
                .with(Dim::Src, iv(src))
                .with(Dim::Dst, iv(dst))
                .with(Dim::Proto, proto)
                .with(Dim::DstPort, (a.min(b), a.max(b)))
                .with(Dim::SrcPort, (a / 2, 3000 + b))
        })
    }

    proptest! {
        /// The compiled table answers exactly what the rule-by-rule evaluation answers, rules
        /// reported included.
        #[test]
        fn compiled_nacl_is_the_reference(
            entries in proptest::collection::vec(entry(), 0..12),
            boxes in proptest::collection::vec(packet_box(), 1..6),
            check in 0usize..4,
        ) {
            let mut entries = entries;
            for (k, e) in entries.iter_mut().enumerate() {
                e.rule_number = 10 * (k as u32 + 1);
            }
            for egress in [false, true] {
                entries.push(NaclEntry {
                    rule_number: 32767,
                    egress,
                    allow: false,
                    protocol: Protocol::All,
                    ports: PortSpec::All,
                    cidr: "0.0.0.0/0".parse().unwrap(),
                });
            }
            entries.sort_by_key(|e| (e.egress, e.rule_number));
            let acl = NetworkAcl { id: "acl-1".into(), entries, ..Default::default() };
            let check = [
                NaclCheck::OutForward,
                NaclCheck::InForward,
                NaclCheck::OutReply,
                NaclCheck::InReply,
            ][check];
            let set = boxes
                .iter()
                .fold(PacketSet::empty(), |s, b| s.union(&PacketSet::from_box(*b)));
            let (want, want_rules) = nacl(Some(&acl), &set, check);
            let compiled = CompiledNacl::new(&acl, check);
            let (got, got_rules) = compiled.filter(&set, true);
            prop_assert_eq!(&compiled.filter(&set, false).0, &got);
            prop_assert!(want.subtract(&got).is_empty(), "compiled misses packets");
            prop_assert!(got.subtract(&want).is_empty(), "compiled allows too much");
            prop_assert_eq!(want_rules, got_rules);
        }
    }
}
