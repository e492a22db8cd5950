//! All-pairs reachability by classes of interfaces.
//!
//! Answering "who reaches whom" one question at a time costs one walk per pair. This module
//! answers every pair at once by factoring a path into the parts that depend on different
//! things:
//!
//! * the **network part** (route tables, NACLs and their reply checks, return routes, peering,
//!   transit gateways, VPN gateways) depends only on the subnets at both ends and on the
//!   addresses: one walk in network mode per source subnet (and one for the internet, one per
//!   VPN gateway) yields, for every subnet it enters, the packets that get there;
//! * the **security-group part** depends on the two interfaces' group sets: a rule naming a
//!   CIDR or prefix list is a packet set; a rule naming a group admits a whole class or none of
//!   it, because every member of a class holds the same groups.
//!
//! Interfaces are grouped into classes (same subnet, same groups, same kind and owner); the
//! caller chooses the classes, and a class of one interface gives the ungrouped evaluation.
//! For a source class S and a destination class D the packets that arrive are
//! `network(subnet S → subnet D) ∩ egress(S towards D) ∩ ingress(D from S)`, and a box of that
//! set reaches the members of D whose addresses its destinations cover, when its sources cover
//! an address of S. Every step is a function of the packet alone (no per-host state), so the
//! union over classes equals the union over interfaces: the equality tests check it.
//!
//! Load balancers: a class of load-balancer nodes is reached through its listeners; what a
//! node forwards to its targets is walked once per (node, listener) with the ordinary walker
//! and joined to every source that reaches that listener.
//!
//! Not followed here (the single-question walk does follow them): paths that leave through
//! an internet gateway or a NAT gateway and come back in through a public address.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use rayon::prelude::*;

use super::index::{reference_applies, Host, Index};
use super::packet::{self, same_family, Dim, Interval, PBox, PacketSet, ALL_ADDRS};
use super::query::onprem_space;
use super::walk::{self, Goal, Walker};
use crate::model::*;

/// A source of traffic in the all-pairs evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Any public IPv4 address.
    InternetV4,
    /// Any global IPv6 address.
    InternetV6,
    /// On-premises networks behind the VPN gateways.
    Onprem,
    /// The members of a class (by index), sending from their source addresses.
    Class(usize),
}

/// What one origin reaches of one class.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Who sends.
    pub origin: Origin,
    /// The class reached (index into the classes given).
    pub class: usize,
    /// The listener the traffic entered by (ARN), for load balancers and their targets.
    pub entry: Option<String>,
    /// The traffic that arrives: protocol and destination ports (other dimensions full).
    pub traffic: PacketSet,
    /// The members of the class reached (indices into the class's hosts, sorted).
    pub members: Vec<usize>,
}

/// The security-group rules of a group set, split into the part that is a packet set (CIDR and
/// prefix-list peers) and the part that names groups.
#[derive(Debug, Default)]
struct Rules {
    cidr: PacketSet,
    refs: Vec<(String, String, PBox)>,
}

/// Group set → (its id, ingress rules, egress rules).
type RulesMemo = HashMap<Vec<String>, (usize, Arc<Rules>, Arc<Rules>)>;

/// Traffic and members reached per (origin, class, entry).
type Merged = BTreeMap<(Origin, usize, Option<String>), (PacketSet, BTreeSet<usize>)>;

/// A class as the evaluation needs it.
struct ClassInfo<'a> {
    hosts: Vec<&'a Host>,
    subnet: &'a str,
    vpc: &'a str,
    /// Sorted group ids.
    groups: Vec<String>,
    /// Identifies the group set (classes with equal sets share it).
    set_id: usize,
    /// Identifies the VPC.
    vpc_ix: usize,
    filtered: bool,
    virtual_node: bool,
    kind: OwnerKind,
    lb: Option<&'a LoadBalancer>,
    /// Source addresses (merged), for clients.
    src: Vec<Interval>,
    /// (address interval, member) sorted by interval.
    dst: Vec<(Interval, usize)>,
    /// The addresses the internet can send to, as the VPC sees them (private addresses that
    /// have a public IPv4 address, IPv6 addresses), with their member.
    dst_internet: Vec<(Interval, usize)>,
    ingress: Arc<Rules>,
    egress: Arc<Rules>,
}

/// Computes what every origin reaches of every class.
///
/// `classes` lists host ids (keys of [`Index::hosts`]) per class; every class must be
/// homogeneous: one subnet, one group set, one kind and owner. `clients[i]` says whether
/// class `i` opens connections (is an origin). Results are in a deterministic order.
pub fn compute(m: &Model, idx: &Index, classes: &[Vec<String>], clients: &[bool]) -> Vec<Reach> {
    let mut rules_memo: RulesMemo = HashMap::new();
    let mut infos: Vec<ClassInfo> = classes
        .iter()
        .map(|hosts| class_info(m, idx, hosts, &mut rules_memo))
        .collect();
    let mut vpcs: HashMap<&str, usize> = HashMap::new();
    for c in infos.iter_mut() {
        let next = vpcs.len();
        c.vpc_ix = *vpcs.entry(c.vpc).or_insert(next);
    }
    let mut by_subnet: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in infos.iter().enumerate() {
        by_subnet.entry(c.subnet).or_default().push(i);
    }
    let mut out: Vec<Reach> = Vec::new();
    let mut forwards: BTreeMap<(String, String), Forward> = BTreeMap::new();
    let mut lb_reach: Vec<LbReach> = Vec::new();

    // Origins outside the estate.
    let mut outside: Vec<(Origin, Vec<Interval>, Vec<walk::Delivery>)> = Vec::new();
    for (origin, v4) in [(Origin::InternetV4, true), (Origin::InternetV6, false)] {
        let space: Vec<Interval> = walk::internet_space()
            .into_iter()
            .filter(|iv| packet::is_v4(iv.0) == v4)
            .collect();
        let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &space));
        let mut w = network_walker(m, idx);
        w.network_from_internet(set);
        outside.push((origin, space, w.deliveries));
    }
    if !m.vpn_gateways.is_empty() {
        let mut w = network_walker(m, idx);
        let mut all_space = Vec::new();
        for vgw in m.vpn_gateways.keys() {
            let space = onprem_space(m, vgw);
            all_space.extend(space.iter().copied());
            let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &space));
            w.from_vgw_entry(vgw, set, None, None);
        }
        outside.push((Origin::Onprem, packet::merge(all_space), w.deliveries));
    }
    for (origin, space, deliveries) in &outside {
        for d in deliveries {
            for &ci in by_subnet.get(d.subnet.as_str()).into_iter().flatten() {
                let dc = &infos[ci];
                if dc.kind == OwnerKind::NatGateway {
                    continue;
                }
                let internet = matches!(origin, Origin::InternetV4 | Origin::InternetV6);
                if internet && dc.lb.is_some_and(|lb| !lb.internet_facing) {
                    continue;
                }
                let addrs = if internet { &dc.dst_internet } else { &dc.dst };
                if addrs.is_empty() {
                    continue;
                }
                let ingress = if dc.filtered {
                    dc.ingress.cidr.clone()
                } else {
                    PacketSet::from_box(PBox::FULL)
                };
                let x = d.set.intersect(&ingress);
                deliver(
                    m,
                    *origin,
                    space,
                    ci,
                    dc,
                    addrs,
                    &x,
                    &mut out,
                    &mut lb_reach,
                );
            }
        }
    }

    // Client classes, by subnet: one network walk per subnet, subnets in parallel.
    let subnets: Vec<(&str, &Vec<usize>)> = by_subnet.iter().map(|(k, v)| (*k, v)).collect();
    let per_subnet: Vec<(Vec<Reach>, Vec<LbReach>)> = subnets
        .par_iter()
        .map(|(subnet, members)| from_subnet(m, idx, &infos, &by_subnet, clients, subnet, members))
        .collect();
    for (reaches, lbs) in per_subnet {
        out.extend(reaches);
        lb_reach.extend(lbs);
    }

    // Load balancers forward what their listeners accept: one walk per (node, listener).
    let mut host_class: HashMap<&str, (usize, usize)> = HashMap::new();
    for (ci, c) in infos.iter().enumerate() {
        for (k, h) in c.hosts.iter().enumerate() {
            host_class.insert(h.id.as_str(), (ci, k));
        }
    }
    let all_hosts: Rc<BTreeSet<String>> =
        Rc::new(host_class.keys().map(|h| h.to_string()).collect());
    for (origin, node, listener, arrived) in &lb_reach {
        let key = (node.clone(), listener.clone());
        let f = forwards
            .entry(key)
            .or_insert_with(|| forward(m, idx, node, listener, &all_hosts));
        let src: &[Interval] = match origin {
            Origin::Class(si) => &infos[*si].src,
            _ => outside
                .iter()
                .find(|o| o.0 == *origin)
                .map(|o| o.1.as_slice())
                .unwrap_or(&[]),
        };
        // What the origin delivered, as source addresses and ports: a preserving load balancer
        // hands those to the target.
        let client = arrived
            .rewrite(Dim::Dst, ALL_ADDRS)
            .rewrite(Dim::DstPort, (0, 65535));
        // Without preservation the node's new flow keeps only the protocol.
        let protocols = arrived.project(Dim::Proto);
        for (target, set, preserved) in &f.reached {
            let Some(&(ci, k)) = host_class.get(target.as_str()) else {
                continue;
            };
            if Origin::Class(ci) == *origin {
                continue;
            }
            let got = if *preserved {
                let s = set.intersect(&client).restrict(Dim::Src, src);
                if s.is_empty() {
                    continue;
                }
                s
            } else {
                let s = set.restrict(Dim::Proto, &protocols);
                if s.is_empty() {
                    continue;
                }
                s
            };
            out.push(Reach {
                origin: *origin,
                class: ci,
                entry: Some(listener.clone()),
                traffic: ports_only(&got),
                members: vec![k],
            });
        }
    }
    merge_reaches(out)
}

/// (origin, LB node host id, listener ARN, what the origin delivered to the node)
type LbReach = (Origin, String, String, PacketSet);

/// What the client classes of one subnet reach: one network walk, then every class pair.
fn from_subnet(
    m: &Model,
    idx: &Index,
    infos: &[ClassInfo],
    by_subnet: &BTreeMap<&str, Vec<usize>>,
    clients: &[bool],
    subnet: &str,
    members: &[usize],
) -> (Vec<Reach>, Vec<LbReach>) {
    let mut out = Vec::new();
    let mut lb_reach = Vec::new();
    let senders: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| clients[i] && !infos[i].virtual_node && !infos[i].src.is_empty())
        .collect();
    if senders.is_empty() {
        return (out, lb_reach);
    }
    // The whole subnet sends: a few wide boxes instead of one per address. Every step of the
    // walk is a function of the packet, so restricting the result to a class's own addresses
    // later (in `hits`) gives what the class alone would get.
    let src = m
        .subnets
        .get(subnet)
        .map(super::index::subnet_intervals)
        .unwrap_or_default();
    let src = packet::merge(
        src.into_iter()
            .chain(senders.iter().flat_map(|&i| infos[i].src.iter().copied()))
            .collect(),
    );
    let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &src));
    let mut w = network_walker(m, idx);
    w.network_from_subnet(subnet, set);
    let mut arrived: BTreeMap<String, PacketSet> = BTreeMap::new();
    for d in w.deliveries {
        let e = arrived.entry(d.subnet).or_default();
        *e = e.union(&d.set);
    }
    let mut refs_memo: HashMap<(String, String, bool), bool> = HashMap::new();
    // (owner's group set, peer's group set, peer's VPC, peer is a node without ENI, inbound)
    // maps to an index into `allowed_sets`; index 0 is "no security groups": everything.
    let mut allowed_ids: HashMap<(usize, usize, usize, bool, bool), usize> = HashMap::new();
    let mut allowed_sets: Vec<PacketSet> = vec![PacketSet::from_box(PBox::FULL)];
    for (dsub, n) in &arrived {
        let mut x_memo: HashMap<(usize, usize), PacketSet> = HashMap::new();
        for &di in by_subnet.get(dsub.as_str()).into_iter().flatten() {
            let dc = &infos[di];
            if dc.kind == OwnerKind::NatGateway {
                continue;
            }
            for &si in &senders {
                if si == di {
                    continue;
                }
                let sc = &infos[si];
                let mut id = |owner: &ClassInfo<'_>, peer: &ClassInfo<'_>, inbound: bool| {
                    if !owner.filtered {
                        return 0;
                    }
                    let key = (
                        owner.set_id,
                        peer.set_id,
                        peer.vpc_ix,
                        peer.virtual_node,
                        inbound,
                    );
                    *allowed_ids.entry(key).or_insert_with(|| {
                        let rules = if inbound {
                            &owner.ingress
                        } else {
                            &owner.egress
                        };
                        allowed_sets.push(allowed(m, rules, peer, inbound, &mut refs_memo));
                        allowed_sets.len() - 1
                    })
                };
                let in_id = id(dc, sc, true);
                let eg_id = id(sc, dc, false);
                // Classes with the same groups on both sides get the same packets.
                let x = x_memo.entry((in_id, eg_id)).or_insert_with(|| {
                    let ingress = &allowed_sets[in_id];
                    if ingress.is_empty() {
                        return PacketSet::empty();
                    }
                    let x = n.intersect(ingress);
                    if x.is_empty() {
                        return x;
                    }
                    x.intersect(&allowed_sets[eg_id])
                });
                if x.is_empty() {
                    continue;
                }
                deliver(
                    m,
                    Origin::Class(si),
                    &sc.src,
                    di,
                    dc,
                    &dc.dst,
                    x,
                    &mut out,
                    &mut lb_reach,
                );
            }
        }
    }
    (out, lb_reach)
}

/// What a (node, listener) forwards: per target host, the packets that arrive and whether the
/// client's address is preserved.
struct Forward {
    reached: Vec<(String, PacketSet, bool)>,
}

fn forward(
    m: &Model,
    idx: &Index,
    node: &str,
    listener: &str,
    all_hosts: &Rc<BTreeSet<String>>,
) -> Forward {
    let goal = Goal {
        hosts: all_hosts.clone(),
        ..Goal::default()
    };
    let mut w = Walker::new(m, idx, goal);
    let Some(h) = idx.hosts.get(node) else {
        return Forward {
            reached: Vec::new(),
        };
    };
    let set = PacketSet::from_box(PBox::FULL).restrict(Dim::Dst, &h.private);
    w.from_lb_listener(node, listener, set);
    let network_lb = m
        .listeners
        .get(listener)
        .and_then(|l| m.load_balancers.get(&l.lb_arn))
        .is_some_and(|lb| lb.kind == LbKind::Network);
    let mut reached: BTreeMap<String, (PacketSet, bool)> = BTreeMap::new();
    for o in w.outcomes {
        if !matches!(o.ending, walk::Ending::Reached) || !o.blocks.is_empty() || o.set.is_empty() {
            continue;
        }
        let Some(last) = o.hops.last() else { continue };
        // The client's address reaches the target when the target group preserves it (§5.3).
        let preserve = network_lb
            && o.hops.iter().any(|hop| {
                hop.kind == "target-group"
                    && m.target_groups
                        .get(&hop.component)
                        .is_some_and(|tg| tg.preserves_client_ip())
            });
        let e = reached
            .entry(last.component.clone())
            .or_insert_with(|| (PacketSet::empty(), preserve));
        e.0 = e.0.union(&o.set);
    }
    Forward {
        reached: reached.into_iter().map(|(k, (s, p))| (k, s, p)).collect(),
    }
}

fn network_walker<'m>(m: &'m Model, idx: &'m Index) -> Walker<'m> {
    Walker::new(
        m,
        idx,
        Goal {
            network: true,
            ..Goal::default()
        },
    )
}

/// Records what `x` (packets arriving at class `ci`) reaches, for one origin.
#[allow(clippy::too_many_arguments)]
fn deliver(
    m: &Model,
    origin: Origin,
    src: &[Interval],
    ci: usize,
    dc: &ClassInfo,
    addrs: &[(Interval, usize)],
    x: &PacketSet,
    out: &mut Vec<Reach>,
    lb_reach: &mut Vec<LbReach>,
) {
    if x.is_empty() {
        return;
    }
    let Some(lb) = dc.lb else {
        if let Some((traffic, members)) = hits(x, src, addrs) {
            out.push(Reach {
                origin,
                class: ci,
                entry: None,
                traffic,
                members,
            });
        }
        return;
    };
    // §5.2: only listener ports reach the load balancer's software.
    for l in m.listeners.values().filter(|l| l.lb_arn == lb.arn) {
        let part = x.intersect(&walk::listener_set(l));
        if part.is_empty() {
            continue;
        }
        let Some((traffic, members)) = hits(&part, src, addrs) else {
            continue;
        };
        for &k in &members {
            let node = &dc.hosts[k];
            let mine = part
                .restrict(Dim::Src, src)
                .restrict(Dim::Dst, &node.private);
            if !mine.is_empty() {
                lb_reach.push((origin, node.id.clone(), l.arn.clone(), mine));
            }
        }
        out.push(Reach {
            origin,
            class: ci,
            entry: Some(l.arn.clone()),
            traffic,
            members,
        });
    }
}

/// The boxes of `x` whose sources cover one of `src` and whose destinations cover a member's
/// address: their protocols and ports, and the members they reach.
fn hits(
    x: &PacketSet,
    src: &[Interval],
    addrs: &[(Interval, usize)],
) -> Option<(PacketSet, Vec<usize>)> {
    let mut traffic = Vec::new();
    let mut members: BTreeSet<usize> = BTreeSet::new();
    for b in x.boxes() {
        if !overlaps_any(b.get(Dim::Src), src) {
            continue;
        }
        let d = b.get(Dim::Dst);
        // Addresses are sorted by start; those starting after d's end cannot overlap.
        let end = addrs.partition_point(|(iv, _)| iv.0 <= d.1);
        let mut any = false;
        for (iv, k) in &addrs[..end] {
            if iv.1 >= d.0 {
                members.insert(*k);
                any = true;
            }
        }
        if any {
            traffic.push(
                b.with(Dim::Src, ALL_ADDRS)
                    .with(Dim::Dst, ALL_ADDRS)
                    .with(Dim::SrcPort, (0, 65535)),
            );
        }
    }
    if members.is_empty() {
        return None;
    }
    Some((
        PacketSet::from_boxes(traffic),
        members.into_iter().collect(),
    ))
}

fn overlaps_any(iv: Interval, sorted: &[Interval]) -> bool {
    let i = sorted.partition_point(|s| s.1 < iv.0);
    i < sorted.len() && sorted[i].0 <= iv.1
}

fn ports_only(s: &PacketSet) -> PacketSet {
    s.rewrite(Dim::Src, ALL_ADDRS)
        .rewrite(Dim::Dst, ALL_ADDRS)
        .rewrite(Dim::SrcPort, (0, 65535))
}

/// What `rules` (of a class on the `rule_vpc` side) allow of traffic with class `peer`:
/// CIDR rules, plus group rules naming a group the peer's members all hold (§1.3).
fn allowed(
    m: &Model,
    rules: &Rules,
    peer: &ClassInfo,
    inbound: bool,
    memo: &mut HashMap<(String, String, bool), bool>,
) -> PacketSet {
    let mut out = rules.cidr.clone();
    if peer.virtual_node {
        // A load-balancer node without an ENI is no member of any group.
        return out;
    }
    for (group, rule_vpc, b) in &rules.refs {
        if peer.groups.binary_search(group).is_err() {
            continue;
        }
        let key = (peer.vpc.to_string(), rule_vpc.clone(), inbound);
        let applies = *memo
            .entry(key)
            .or_insert_with(|| reference_applies(m, peer.vpc, rule_vpc, inbound));
        if applies {
            out = out.union(&PacketSet::from_box(*b));
        }
    }
    out
}

fn rules_of(m: &Model, groups: &[String], inbound: bool) -> Rules {
    let peer_dim = if inbound { Dim::Src } else { Dim::Dst };
    let mut cidr = PacketSet::empty();
    let mut refs = Vec::new();
    for gid in groups {
        let Some(sg) = m.security_groups.get(gid) else {
            continue;
        };
        let list = if inbound { &sg.ingress } else { &sg.egress };
        for rule in list {
            let base = super::filters::proto_ports_box(rule.protocol, rule.ports, Dim::DstPort);
            let peer: Vec<Interval> = match &rule.peer {
                SgPeer::Cidr(net) => packet::net_intervals(net),
                SgPeer::PrefixList(pl) => m
                    .prefix_lists
                    .get(pl)
                    .map(|p| p.cidrs.iter().flat_map(packet::net_intervals).collect())
                    .unwrap_or_default(),
                SgPeer::Group { group_id, .. } => {
                    refs.push((group_id.clone(), sg.vpc_id.clone(), base));
                    continue;
                }
            };
            if !peer.is_empty() {
                cidr = cidr.union(&PacketSet::from_box(base).restrict(peer_dim, &peer));
            }
        }
    }
    Rules { cidr, refs }
}

fn class_info<'a>(
    m: &'a Model,
    idx: &'a Index,
    ids: &[String],
    memo: &mut RulesMemo,
) -> ClassInfo<'a> {
    let hosts: Vec<&Host> = ids.iter().filter_map(|h| idx.hosts.get(h)).collect();
    let first = hosts[0];
    let mut groups = first.groups.clone();
    groups.sort();
    groups.dedup();
    let next = memo.len();
    let (set_id, ingress, egress) = memo
        .entry(groups.clone())
        .or_insert_with(|| {
            (
                next,
                Arc::new(rules_of(m, &groups, true)),
                Arc::new(rules_of(m, &groups, false)),
            )
        })
        .clone();
    let lb = (first.kind == OwnerKind::LoadBalancer)
        .then(|| {
            first
                .owner_id
                .as_ref()
                .and_then(|a| m.load_balancers.get(a))
        })
        .flatten();
    let mut src = Vec::new();
    let mut dst = Vec::new();
    let mut dst_internet = Vec::new();
    for (k, h) in hosts.iter().enumerate() {
        if !h.virtual_node {
            src.extend(h.source.iter().copied());
        }
        for p in &h.private {
            dst.push((*p, k));
        }
        // What the internet can address (query::run's legs for an internet source).
        let mapped: Vec<Interval> = h.public_v4.iter().map(|(_, p)| (*p, *p)).collect();
        let v6 = h.private.iter().copied().filter(|p| !packet::is_v4(p.0));
        match lb {
            Some(lb) => {
                if mapped.is_empty() || h.virtual_node {
                    dst_internet.extend(h.private.iter().map(|p| (*p, k)));
                } else {
                    dst_internet.extend(mapped.iter().map(|p| (*p, k)));
                    if lb.dualstack {
                        dst_internet.extend(v6.map(|p| (p, k)));
                    }
                }
            }
            None => {
                dst_internet.extend(mapped.iter().map(|p| (*p, k)));
                dst_internet.extend(v6.map(|p| (p, k)));
            }
        }
    }
    dst.sort();
    dst_internet.sort();
    dst_internet.dedup();
    ClassInfo {
        subnet: &first.subnet_id,
        vpc: &first.vpc_id,
        groups,
        set_id,
        vpc_ix: 0,
        filtered: first.filtered_by_sgs,
        virtual_node: first.virtual_node,
        kind: first.kind,
        lb,
        src: packet::merge(src),
        dst,
        dst_internet,
        ingress,
        egress,
        hosts,
    }
}

/// One result per (origin, class, entry): traffic and members merged.
fn merge_reaches(v: Vec<Reach>) -> Vec<Reach> {
    let mut acc: Merged = BTreeMap::new();
    for r in v {
        let e = acc.entry((r.origin, r.class, r.entry)).or_default();
        e.0 = e.0.union(&r.traffic);
        e.1.extend(r.members);
    }
    acc.into_iter()
        .map(|((origin, class, entry), (traffic, members))| Reach {
            origin,
            class,
            entry,
            traffic,
            members: members.into_iter().collect(),
        })
        .collect()
}
