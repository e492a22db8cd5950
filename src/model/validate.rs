//! Reference validation: every id one resource names must exist.
//!
//! A dangling reference is never fatal and never silently dropped: it becomes
//! a warning naming both ends, and the engine treats the missing thing as
//! absent (a route to a missing NAT gateway drops traffic, as AWS's blackhole
//! route would).
//!
//! The same goes for what AWS enforces but a snapshot can contradict: one route table and one
//! network ACL per subnet, one main route table and one default network ACL per VPC, one NACL
//! entry per rule number and direction, a subnet's CIDRs within its VPC's. Each check is one
//! pass over the model.

use rayon::prelude::*;

use super::{Diagnostic, Level, Model, ResourceKind, RouteDestination, RouteTarget, SgPeer};

/// One kind of reference check: calls `warn` with each dangling reference's message.
type Section = fn(&Model, &mut dyn FnMut(String));

/// Every check; they are independent, so they run in parallel.
const SECTIONS: &[Section] = &[
    subnets,
    associations,
    nacl_rule_numbers,
    route_tables,
    network_acls,
    security_groups,
    network_interfaces,
    instances,
    nat_gateways,
    peerings,
    tgw_attachments,
    tgw_route_tables,
    load_balancers,
    listeners,
    target_groups,
];

/// Checks every cross-reference of the model and returns one warning per dangling one,
/// sorted (so the order does not depend on which check ran first).
pub fn validate(model: &Model) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = SECTIONS
        .par_iter()
        .flat_map_iter(|section| {
            let mut found = Vec::new();
            section(model, &mut |message| {
                found.push(Diagnostic {
                    level: Level::Warning,
                    file: None,
                    message,
                })
            });
            found
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Subnets name their VPC, and their CIDRs are within the VPC's.
fn subnets(model: &Model, warn: &mut dyn FnMut(String)) {
    for s in model.subnets.values() {
        let Some(vpc) = model.vpcs.get(&s.vpc_id) else {
            warn(format!(
                "subnet {} names VPC {} which is not in the snapshot",
                s.id, s.vpc_id
            ));
            continue;
        };
        let listed = |cidrs: Vec<String>| {
            if cidrs.is_empty() {
                "none".to_string()
            } else {
                cidrs.join(", ")
            }
        };
        if let Some(c) = s.cidr_v4 {
            if !vpc.cidrs_v4.iter().any(|v| v.contains(&c)) {
                warn(format!(
                    "subnet {}'s CIDR {c} is not within its VPC {}'s IPv4 CIDRs ({})",
                    s.id,
                    vpc.id,
                    listed(vpc.cidrs_v4.iter().map(ToString::to_string).collect())
                ));
            }
        }
        for c in &s.cidrs_v6 {
            if !vpc.cidrs_v6.iter().any(|v| v.contains(c)) {
                warn(format!(
                    "subnet {}'s CIDR {c} is not within its VPC {}'s IPv6 CIDRs ({})",
                    s.id,
                    vpc.id,
                    listed(vpc.cidrs_v6.iter().map(ToString::to_string).collect())
                ));
            }
        }
    }
}

/// A subnet is associated with one route table and one network ACL, and a VPC has one main
/// route table and one default network ACL (AWS enforces each). Where the snapshot says
/// otherwise, the one used is the first by id (as [`Model::subnet_route_table`] and
/// [`Model::subnet_nacl`] take it, and the engine's index), and the warning says so.
fn associations(model: &Model, warn: &mut dyn FnMut(String)) {
    use std::collections::BTreeMap;
    // (what, holder, the ids in id order): the maps iterate in id order.
    let mut tables_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut mains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for rt in model.route_tables.values() {
        for s in &rt.subnet_ids {
            tables_of.entry(s).or_default().push(&rt.id);
        }
        if rt.is_main {
            mains.entry(&rt.vpc_id).or_default().push(&rt.id);
        }
    }
    let mut nacls_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut defaults: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in model.network_acls.values() {
        for s in &n.subnet_ids {
            nacls_of.entry(s).or_default().push(&n.id);
        }
        if n.is_default {
            defaults.entry(&n.vpc_id).or_default().push(&n.id);
        }
    }
    for (holder, key, ids, what) in tables_of
        .iter()
        .map(|(s, ids)| ("subnet", s, ids, "is associated with", "route tables"))
        .chain(
            mains
                .iter()
                .map(|(v, ids)| ("VPC", v, ids, "has", "main route tables")),
        )
        .chain(
            nacls_of
                .iter()
                .map(|(s, ids)| ("subnet", s, ids, "is associated with", "network ACLs")),
        )
        .chain(
            defaults
                .iter()
                .map(|(v, ids)| ("VPC", v, ids, "has", "default network ACLs")),
        )
        .map(|(kind, key, ids, verb, what)| ((kind, verb), key, ids, what))
    {
        if ids.len() < 2 {
            continue;
        }
        // A table listing a subnet twice is one association.
        let mut ids = ids.clone();
        ids.dedup();
        if ids.len() > 1 {
            let (kind, verb) = holder;
            warn(format!(
                "{kind} {key} {verb} {} {what} ({}; AWS allows one): {}, the first by id, is used",
                ids.len(),
                ids.join(", "),
                ids[0]
            ));
        }
    }
}

/// A network ACL has one entry per rule number and direction (AWS enforces it). Entries that
/// share one are evaluated in the order listed; the warning says which comes first.
fn nacl_rule_numbers(model: &Model, warn: &mut dyn FnMut(String)) {
    for n in model.network_acls.values() {
        // Entries are sorted by direction and number, in the order listed within a number.
        let e = &n.entries;
        let mut i = 0;
        while i < e.len() {
            let same = |x: &crate::model::NaclEntry| {
                x.egress == e[i].egress && x.rule_number == e[i].rule_number
            };
            let run = e[i..].iter().take_while(|x| same(x)).count();
            if run > 1 {
                warn(format!(
                    "network ACL {} has {run} {} entries numbered {} (AWS allows one): they are evaluated in the order listed; the first {}",
                    n.id,
                    if e[i].egress { "outbound" } else { "inbound" },
                    e[i].rule_number,
                    if e[i].allow { "allows" } else { "denies" },
                ));
            }
            i += run;
        }
    }
}

/// Route tables name their VPC, subnets, prefix lists and targets.
fn route_tables(model: &Model, warn: &mut dyn FnMut(String)) {
    for rt in model.route_tables.values() {
        if !model.vpcs.contains_key(&rt.vpc_id) {
            warn(format!(
                "route table {} names VPC {} which is not in the snapshot",
                rt.id, rt.vpc_id
            ));
        }
        for s in &rt.subnet_ids {
            if !model.subnets.contains_key(s) {
                warn(format!(
                    "route table {} is associated with subnet {s} which is not in the snapshot",
                    rt.id
                ));
            }
        }
        for r in &rt.routes {
            if let RouteDestination::PrefixList(pl) = &r.destination {
                if !model.prefix_lists.contains_key(pl) {
                    warn(format!(
                        "route table {} routes prefix list {pl} which is not in the snapshot",
                        rt.id
                    ));
                }
            }
            // Blackhole routes legitimately name deleted targets.
            if !r.active {
                continue;
            }
            let missing = match &r.target {
                RouteTarget::Local | RouteTarget::Other(_) => false,
                RouteTarget::InternetGateway(id) => !model.internet_gateways.contains_key(id),
                RouteTarget::EgressOnlyInternetGateway(id) => {
                    !model.egress_only_internet_gateways.contains_key(id)
                }
                RouteTarget::NatGateway(id) => !model.nat_gateways.contains_key(id),
                RouteTarget::VpnGateway(id) => !model.vpn_gateways.contains_key(id),
                RouteTarget::TransitGateway(id) => !model.transit_gateways.contains_key(id),
                RouteTarget::Peering(id) => !model.peerings.contains_key(id),
                RouteTarget::NetworkInterface(id) => !model.network_interfaces.contains_key(id),
                RouteTarget::Instance(id) => !model.instances.contains_key(id),
                RouteTarget::VpcEndpoint(id) => !model.vpc_endpoints.contains_key(id),
            };
            if missing {
                // The walk drops what goes to a missing gateway or peering; an interface or an
                // instance is an appliance whose forwarding is not modelled either way.
                // So is a NAT gateway, endpoint, peering, VPN gateway or transit gateway when the
                // snapshot has none of its kind at all (not collected, rather than deleted).
                let uncollected = |k: ResourceKind| !model.present_kinds.contains(&k);
                let treated = match &r.target {
                    RouteTarget::NetworkInterface(_) | RouteTarget::Instance(_) => {
                        "flows routed there are unknown"
                    }
                    RouteTarget::NatGateway(_) if uncollected(ResourceKind::NatGateway) => {
                        "no NAT gateways were collected: flows routed there are unknown"
                    }
                    RouteTarget::VpcEndpoint(_) if uncollected(ResourceKind::VpcEndpoint) => {
                        "no VPC endpoints were collected: flows routed there are unknown"
                    }
                    RouteTarget::Peering(_) if uncollected(ResourceKind::Peering) => {
                        "no VPC peering connections were collected: flows routed there are unknown"
                    }
                    RouteTarget::VpnGateway(_) if uncollected(ResourceKind::VpnGateway) => {
                        "no VPN gateways were collected: flows routed there are unknown"
                    }
                    RouteTarget::TransitGateway(_) if uncollected(ResourceKind::TgwAttachment) => {
                        "no transit gateway attachments were collected: flows routed there are unknown"
                    }
                    _ => "treated as a blackhole",
                };
                warn(format!(
                    "route table {} routes {} to {} which is not in the snapshot ({treated})",
                    rt.id,
                    r.destination,
                    r.target.id()
                ));
            }
        }
    }
}

/// Network ACLs name their subnets.
fn network_acls(model: &Model, warn: &mut dyn FnMut(String)) {
    for n in model.network_acls.values() {
        for s in &n.subnet_ids {
            if !model.subnets.contains_key(s) {
                warn(format!(
                    "network ACL {} is associated with subnet {s} which is not in the snapshot",
                    n.id
                ));
            }
        }
    }
}

/// Security-group rules name groups and prefix lists.
fn security_groups(model: &Model, warn: &mut dyn FnMut(String)) {
    for sg in model.security_groups.values() {
        for (dir, rules) in [("inbound", &sg.ingress), ("outbound", &sg.egress)] {
            for rule in rules {
                match &rule.peer {
                    SgPeer::Group {
                        group_id, owner, ..
                    } => {
                        let foreign = owner.as_deref().is_some_and(|o| {
                            sg.location.account.as_deref().is_some_and(|a| a != o)
                        });
                        if !model.security_groups.contains_key(group_id) && !foreign {
                            warn(format!(
                                "security group {} has an {dir} rule naming security group {group_id} which is not in the snapshot (the rule matches nothing)",
                                sg.id
                            ));
                        }
                        if let Some(pcx) = model.stale_peering(&rule.peer) {
                            warn(format!(
                                "security group {} has a stale {dir} rule naming security group {group_id} over peering connection {pcx}, which is no longer active (the analysis counts it as matching nothing; `exposure query` answers `unknown` for what only it would allow over another connection between the VPCs)",
                                sg.id
                            ));
                        }
                    }
                    SgPeer::PrefixList(pl) => match model.prefix_lists.get(pl) {
                        None => warn(format!(
                            "security group {} has an {dir} rule naming prefix list {pl} which is not in the snapshot (the analysis counts it as matching nothing; `exposure query` answers `unknown` for what only it would allow)",
                            sg.id
                        )),
                        Some(p) if !p.entries_known => warn(format!(
                            "security group {} has an {dir} rule naming prefix list {pl} whose entries are not in the snapshot (the analysis counts it as matching nothing; `exposure query` answers `unknown` for what only it would allow; collect them with `aws ec2 get-managed-prefix-list-entries`)",
                            sg.id
                        )),
                        Some(_) => {}
                    },
                    SgPeer::Cidr(_) => {}
                }
            }
        }
    }
}

/// ENIs name their subnet and security groups.
fn network_interfaces(model: &Model, warn: &mut dyn FnMut(String)) {
    for e in model.network_interfaces.values() {
        if !model.subnets.contains_key(&e.subnet_id) {
            warn(format!(
                "network interface {} is in subnet {} which is not in the snapshot",
                e.id, e.subnet_id
            ));
        }
        // With some groups in the snapshot, a missing one's rules are unknown (answers say
        // `unknown` where only it could decide); with none at all, the stated assumption holds.
        let effect = if model.present_kinds.contains(&ResourceKind::SecurityGroup) {
            "its rules are not known: `exposure query` answers `unknown` for what only it could allow or let out; the report counts it as allowing nothing"
        } else {
            "treated as allowing nothing"
        };
        for g in &e.groups {
            if !model.security_groups.contains_key(g) {
                warn(format!(
                    "network interface {} uses security group {g} which is not in the snapshot ({effect})",
                    e.id
                ));
            }
        }
    }
}

/// Instances name their ENIs.
fn instances(model: &Model, warn: &mut dyn FnMut(String)) {
    for i in model.instances.values() {
        for eni in &i.eni_ids {
            if !model.network_interfaces.contains_key(eni) {
                warn(format!(
                    "instance {} has network interface {eni} which is not in the snapshot",
                    i.id
                ));
            }
        }
    }
}

/// NAT gateways name their subnet, in their own VPC.
fn nat_gateways(model: &Model, warn: &mut dyn FnMut(String)) {
    for n in model.nat_gateways.values() {
        match model.subnets.get(&n.subnet_id) {
            None => warn(format!(
                "NAT gateway {} is in subnet {} which is not in the snapshot",
                n.id, n.subnet_id
            )),
            // AWS creates a NAT gateway in a subnet of its VPC: the snapshot contradicts
            // itself, and the record's VPC is the one routes are checked against.
            Some(s) if s.vpc_id != n.vpc_id => warn(format!(
                "NAT gateway {} is recorded in {} but its subnet {} is in {} (routes are checked against {})",
                n.id, n.vpc_id, n.subnet_id, s.vpc_id, n.vpc_id
            )),
            Some(_) => {}
        }
    }
}

/// Peerings name both VPCs.
fn peerings(model: &Model, warn: &mut dyn FnMut(String)) {
    for p in model.peerings.values() {
        for v in [&p.requester_vpc, &p.accepter_vpc] {
            if !model.vpcs.contains_key(v) {
                warn(format!(
                    "peering connection {} connects VPC {v} which is not in the snapshot (its side is not analysed)",
                    p.id
                ));
            }
        }
    }
}

/// Transit gateway attachments name their gateway, subnets and route table.
fn tgw_attachments(model: &Model, warn: &mut dyn FnMut(String)) {
    for a in model.tgw_attachments.values() {
        if !model.transit_gateways.contains_key(&a.tgw_id) {
            warn(format!("transit gateway attachment {} names transit gateway {} which is not in the snapshot", a.id, a.tgw_id));
        }
        for s in &a.subnet_ids {
            if !model.subnets.contains_key(s) {
                warn(format!(
                    "transit gateway attachment {} uses subnet {s} which is not in the snapshot",
                    a.id
                ));
            }
        }
        if let Some(rt) = &a.route_table_id {
            if !model.tgw_route_tables.contains_key(rt) {
                warn(format!("transit gateway attachment {} is associated with route table {rt} which is not in the snapshot", a.id));
            }
        }
    }
}

/// Transit gateway routes name their attachments.
fn tgw_route_tables(model: &Model, warn: &mut dyn FnMut(String)) {
    for rt in model.tgw_route_tables.values() {
        for r in &rt.routes {
            for a in &r.attachment_ids {
                if model.tgw_attachment(&rt.tgw_id, a).is_none() {
                    warn(format!(
                        "transit gateway route table {} routes {} to attachment {a} which is not in the snapshot",
                        rt.id, r.destination
                    ));
                }
            }
        }
    }
}

/// Load balancers name their subnets and security groups.
fn load_balancers(model: &Model, warn: &mut dyn FnMut(String)) {
    for lb in model.load_balancers.values() {
        for s in &lb.subnet_ids {
            if !model.subnets.contains_key(s) {
                warn(format!(
                    "load balancer {} is in subnet {s} which is not in the snapshot",
                    lb.name
                ));
            }
        }
        for g in &lb.security_groups {
            if !model.security_groups.contains_key(g) {
                warn(format!(
                    "load balancer {} uses security group {g} which is not in the snapshot",
                    lb.name
                ));
            }
        }
    }
}

/// Listeners name their load balancer and target groups.
fn listeners(model: &Model, warn: &mut dyn FnMut(String)) {
    for l in model.listeners.values() {
        if !model.load_balancers.contains_key(&l.lb_arn) {
            warn(format!(
                "listener {} belongs to load balancer {} which is not in the snapshot",
                l.arn, l.lb_arn
            ));
        }
        for tg in l.target_groups() {
            if !model.target_groups.contains_key(tg) {
                warn(format!(
                    "listener {} forwards to target group {tg} which is not in the snapshot",
                    l.arn
                ));
            }
        }
    }
}

/// Instance target groups name their instances.
fn target_groups(model: &Model, warn: &mut dyn FnMut(String)) {
    // §5.1: an `ip` target's IPv4 address is in the target group's VPC or in one of these.
    let private: Vec<ipnet::Ipv4Net> = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]
    .iter()
    .map(|n| n.parse().expect("literal prefix"))
    .collect();
    for tg in model.target_groups.values() {
        if tg.target_type == super::TargetType::Ip {
            let vpc = tg
                .vpc_id
                .as_deref()
                .map(|v| model.vpc_cidrs(v))
                .unwrap_or_default();
            for t in &tg.targets {
                let Ok(std::net::IpAddr::V4(a)) = t.id.parse::<std::net::IpAddr>() else {
                    continue;
                };
                if !private.iter().any(|n| n.contains(&a))
                    && !vpc.iter().any(|n| n.contains(&std::net::IpAddr::V4(a)))
                {
                    warn(format!(
                        "target group {} has ip target {a}, a public address outside its VPC: AWS registers ip targets only in the VPC's subnets, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10 (§5.1), so the snapshot is edited or inconsistent; answers take the target as registered",
                        tg.name
                    ));
                }
            }
        }
        if tg.target_type == super::TargetType::Instance {
            for t in &tg.targets {
                if !model.instances.contains_key(&t.id) {
                    warn(format!(
                        "target group {} has target {} which is not in the snapshot",
                        tg.name, t.id
                    ));
                }
            }
        }
    }
}
