//! Shrinking a failing model, and printing it compactly.

use std::fmt::Write;

use exposure::model::*;

/// One-step simplifications of a model, bigger steps first. Each stays consistent enough for
/// the engine (it tolerates dangling references).
pub fn simplifications(m: &Model) -> Vec<Model> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Model)| {
        let mut c = m.clone();
        f(&mut c);
        out.push(c);
    };
    for vpc in m.vpcs.keys() {
        push(&|c| {
            c.vpcs.remove(vpc);
            let subnets: Vec<String> = c
                .subnets
                .values()
                .filter(|s| &s.vpc_id == vpc)
                .map(|s| s.id.clone())
                .collect();
            c.subnets.retain(|_, s| &s.vpc_id != vpc);
            c.route_tables.retain(|_, r| &r.vpc_id != vpc);
            c.network_acls.retain(|_, a| &a.vpc_id != vpc);
            c.security_groups.retain(|_, g| &g.vpc_id != vpc);
            c.network_interfaces.retain(|_, e| &e.vpc_id != vpc);
            c.load_balancers.retain(|_, l| &l.vpc_id != vpc);
            c.nat_gateways
                .retain(|_, n| !subnets.contains(&n.subnet_id));
            c.peerings
                .retain(|_, p| &p.requester_vpc != vpc && &p.accepter_vpc != vpc);
            c.tgw_attachments.retain(|_, a| &a.resource_id != vpc);
            for g in c.internet_gateways.values_mut() {
                g.vpc_ids.retain(|v| v != vpc);
            }
            c.internet_gateways.retain(|_, g| !g.vpc_ids.is_empty());
            for g in c.egress_only_internet_gateways.values_mut() {
                g.vpc_ids.retain(|v| v != vpc);
            }
            c.egress_only_internet_gateways
                .retain(|_, g| !g.vpc_ids.is_empty());
        });
    }
    for arn in m.load_balancers.keys() {
        push(&|c| {
            c.load_balancers.remove(arn);
            c.listeners.retain(|_, l| &l.lb_arn != arn);
            c.network_interfaces
                .retain(|_, e| e.owner.id.as_deref() != Some(arn.as_str()));
        });
    }
    for id in m.transit_gateways.keys() {
        push(&|c| {
            c.transit_gateways.remove(id);
            c.tgw_attachments.retain(|_, a| &a.tgw_id != id);
            c.tgw_route_tables.retain(|_, t| &t.tgw_id != id);
            for rt in c.route_tables.values_mut() {
                rt.routes
                    .retain(|r| r.target != RouteTarget::TransitGateway(id.clone()));
            }
        });
    }
    for id in m.vpn_gateways.keys() {
        push(&|c| {
            c.vpn_gateways.remove(id);
            c.vpn_connections
                .retain(|_, v| v.vpn_gateway_id.as_ref() != Some(id));
            for rt in c.route_tables.values_mut() {
                rt.routes
                    .retain(|r| r.target != RouteTarget::VpnGateway(id.clone()));
                rt.propagating_vgws.retain(|v| v != id);
            }
        });
    }
    for id in m.nat_gateways.keys() {
        push(&|c| {
            let n = c.nat_gateways.remove(id).unwrap();
            c.network_interfaces.retain(|e, _| !n.eni_ids.contains(e));
            for rt in c.route_tables.values_mut() {
                rt.routes
                    .retain(|r| r.target != RouteTarget::NatGateway(id.clone()));
            }
        });
    }
    for id in m.peerings.keys() {
        push(&|c| {
            c.peerings.remove(id);
        });
    }
    for id in m.network_interfaces.keys() {
        push(&|c| {
            c.network_interfaces.remove(id);
        });
    }
    for id in m.listeners.keys() {
        push(&|c| {
            c.listeners.remove(id);
        });
    }
    for (id, tg) in &m.target_groups {
        for k in 0..tg.targets.len() {
            push(&|c| {
                c.target_groups.get_mut(id).unwrap().targets.remove(k);
            });
        }
    }
    for (id, rt) in &m.route_tables {
        if !rt.is_main {
            push(&|c| {
                c.route_tables.remove(id);
            });
        }
        for k in 0..rt.routes.len() {
            if rt.routes[k].target != RouteTarget::Local {
                push(&|c| {
                    c.route_tables.get_mut(id).unwrap().routes.remove(k);
                });
            }
        }
    }
    for (id, acl) in &m.network_acls {
        if !acl.is_default {
            push(&|c| {
                c.network_acls.remove(id);
            });
        }
        for k in 0..acl.entries.len() {
            push(&|c| {
                c.network_acls.get_mut(id).unwrap().entries.remove(k);
            });
        }
    }
    for (id, g) in &m.security_groups {
        for k in 0..g.ingress.len() {
            push(&|c| {
                c.security_groups.get_mut(id).unwrap().ingress.remove(k);
            });
        }
        for k in 0..g.egress.len() {
            push(&|c| {
                c.security_groups.get_mut(id).unwrap().egress.remove(k);
            });
        }
    }
    for id in m.egress_only_internet_gateways.keys() {
        push(&|c| {
            c.egress_only_internet_gateways.remove(id);
        });
    }
    for id in m.target_groups.keys() {
        push(&|c| {
            c.target_groups.remove(id);
        });
    }
    for id in m.instances.keys() {
        push(&|c| {
            c.instances.remove(id);
        });
    }
    for id in m.internet_gateways.keys() {
        push(&|c| {
            c.internet_gateways.remove(id);
        });
    }
    for (id, e) in &m.network_interfaces {
        if e.private_ips.len() > 1 {
            push(&|c| {
                c.network_interfaces
                    .get_mut(id)
                    .unwrap()
                    .private_ips
                    .truncate(1);
            });
        }
        if e.private_ips.iter().any(|p| p.public.is_some()) {
            push(&|c| {
                for p in &mut c.network_interfaces.get_mut(id).unwrap().private_ips {
                    p.public = None;
                }
            });
        }
        if !e.ipv6.is_empty() {
            push(&|c| {
                c.network_interfaces.get_mut(id).unwrap().ipv6.clear();
            });
        }
        if e.groups.len() > 1 {
            push(&|c| {
                c.network_interfaces.get_mut(id).unwrap().groups.truncate(1);
            });
        }
    }
    for (id, s) in &m.subnets {
        if !m.network_interfaces.values().any(|e| &e.subnet_id == id)
            && !m.load_balancers.values().any(|l| l.subnet_ids.contains(id))
        {
            push(&|c| {
                c.subnets.remove(id);
            });
        }
        if !s.cidrs_v6.is_empty() {
            // The subnet's interfaces lose their IPv6 addresses with it: an address outside
            // its subnet's ranges is no estate AWS could have.
            push(&|c| {
                c.subnets.get_mut(id).unwrap().cidrs_v6.clear();
                for e in c.network_interfaces.values_mut() {
                    if e.subnet_id == *id {
                        e.ipv6.clear();
                    }
                }
            });
        }
    }
    for id in m.security_groups.keys() {
        let used = m.network_interfaces.values().any(|e| e.groups.contains(id))
            || m.load_balancers
                .values()
                .any(|l| l.security_groups.contains(id));
        if !used {
            push(&|c| {
                c.security_groups.remove(id);
            });
        }
    }
    out
}

/// Greedy shrinking: takes any one-step simplification for which `fails` still holds, until
/// none does (or `max_rounds` steps were taken).
pub fn shrink(m: &Model, fails: impl Fn(&Model) -> bool, max_rounds: usize) -> Model {
    let mut cur = m.clone();
    'outer: for _ in 0..max_rounds {
        for cand in simplifications(&cur) {
            if fails(&cand) {
                cur = cand;
                continue 'outer;
            }
        }
        break;
    }
    cur
}

fn rule_text(r: &SgRule) -> String {
    match r.protocol {
        Protocol::All => format!("all {}", r.peer),
        p => format!("{p} {} {}", r.ports, r.peer),
    }
}

/// A compact, complete-enough description of a (small) model.
pub fn describe(m: &Model) -> String {
    let mut s = String::new();
    for v in m.vpcs.values() {
        let _ = writeln!(s, "vpc {} {:?} {:?}", v.id, v.cidrs_v4, v.cidrs_v6);
    }
    for n in m.subnets.values() {
        let _ = writeln!(
            s,
            "subnet {} vpc {} {:?} {:?} az {:?} route table {} nacl {}",
            n.id,
            n.vpc_id,
            n.cidr_v4,
            n.cidrs_v6,
            n.az,
            m.subnet_route_table(&n.id)
                .map(|r| r.id.as_str())
                .unwrap_or("-"),
            m.subnet_nacl(&n.id).map(|a| a.id.as_str()).unwrap_or("-")
        );
    }
    for rt in m.route_tables.values() {
        let routes: Vec<String> = rt
            .routes
            .iter()
            .map(|r| {
                format!(
                    "{} -> {}{}",
                    r.destination,
                    r.target.id(),
                    if r.active { "" } else { " (blackhole)" }
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "route table {} vpc {}{} subnets {:?}: {}",
            rt.id,
            rt.vpc_id,
            if rt.is_main { " main" } else { "" },
            rt.subnet_ids,
            routes.join(", ")
        );
    }
    for a in m.network_acls.values() {
        let entries: Vec<String> = a
            .entries
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {} {}",
                    if e.egress { "out" } else { "in" },
                    e.rule_number,
                    if e.allow { "allow" } else { "deny" },
                    e.protocol,
                    e.ports,
                    e.cidr
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "nacl {} vpc {}{} subnets {:?}: {}",
            a.id,
            a.vpc_id,
            if a.is_default { " default" } else { "" },
            a.subnet_ids,
            entries.join("; ")
        );
    }
    for g in m.security_groups.values() {
        let i: Vec<String> = g.ingress.iter().map(rule_text).collect();
        let e: Vec<String> = g.egress.iter().map(rule_text).collect();
        let _ = writeln!(
            s,
            "sg {} vpc {}: in [{}] out [{}]",
            g.id,
            g.vpc_id,
            i.join("; "),
            e.join("; ")
        );
    }
    for e in m.network_interfaces.values() {
        let ips: Vec<String> = e
            .private_ips
            .iter()
            .map(|p| match p.public {
                Some(x) => format!("{} (public {x})", p.address),
                None => p.address.to_string(),
            })
            .collect();
        let _ = writeln!(
            s,
            "eni {} {} owner {:?} subnet {} ips {:?} ipv6 {:?} groups {:?}",
            e.id, e.owner.kind, e.owner.id, e.subnet_id, ips, e.ipv6, e.groups
        );
    }
    for g in m.internet_gateways.values() {
        let _ = writeln!(s, "igw {} attached to {:?}", g.id, g.vpc_ids);
    }
    for g in m.egress_only_internet_gateways.values() {
        let _ = writeln!(s, "eigw {} attached to {:?}", g.id, g.vpc_ids);
    }
    for p in m.peerings.values() {
        let _ = writeln!(
            s,
            "peering {} {} <-> {}",
            p.id, p.requester_vpc, p.accepter_vpc
        );
    }
    for n in m.nat_gateways.values() {
        let _ = writeln!(
            s,
            "nat {} subnet {} public {} ips {:?} {:?}",
            n.id, n.subnet_id, n.public, n.private_ips, n.public_ips
        );
    }
    for v in m.vpn_gateways.values() {
        let _ = writeln!(s, "vgw {} attached to {:?}", v.id, v.vpc_ids);
    }
    for v in m.vpn_connections.values() {
        let _ = writeln!(
            s,
            "vpn {} vgw {:?} static only {} routes {:?}",
            v.id, v.vpn_gateway_id, v.static_routes_only, v.static_routes
        );
    }
    for t in m.transit_gateways.values() {
        let _ = writeln!(s, "tgw {} sg referencing {}", t.id, t.sg_referencing);
    }
    for a in m.tgw_attachments.values() {
        let _ = writeln!(
            s,
            "tgw attachment {} {} subnets {:?} route table {:?} sg referencing {}",
            a.id, a.resource_id, a.subnet_ids, a.route_table_id, a.sg_referencing
        );
    }
    for t in m.tgw_route_tables.values() {
        let routes: Vec<String> = t
            .routes
            .iter()
            .map(|r| format!("{} -> {:?}", r.destination, r.attachment_ids))
            .collect();
        let _ = writeln!(s, "tgw route table {}: {}", t.id, routes.join(", "));
    }
    for l in m.load_balancers.values() {
        let _ = writeln!(
            s,
            "lb {} {} {} subnets {:?} groups {:?} attributes {:?}",
            l.arn,
            l.kind,
            if l.internet_facing {
                "internet-facing"
            } else {
                "internal"
            },
            l.subnet_ids,
            l.security_groups,
            l.attributes
        );
    }
    for l in m.listeners.values() {
        let _ = writeln!(
            s,
            "listener {} {} {:?} {:?}",
            l.arn, l.protocol, l.port, l.actions
        );
    }
    for t in m.target_groups.values() {
        let targets: Vec<String> = t
            .targets
            .iter()
            .map(|x| format!("{} port {:?} health {:?}", x.id, x.port, x.health))
            .collect();
        let _ = writeln!(
            s,
            "target group {} {} {:?} port {:?} attributes {:?}: {}",
            t.arn,
            t.protocol,
            t.target_type,
            t.port,
            t.attributes,
            targets.join("; ")
        );
    }
    for i in m.instances.values() {
        let _ = writeln!(s, "instance {} enis {:?}", i.id, i.eni_ids);
    }
    s
}
