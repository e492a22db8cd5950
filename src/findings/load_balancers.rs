//! Load-balancer checks: targets that anyone may reach around the load
//! balancer, and internet-facing listeners that forward plain text (§5).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::context::{sg_rule_text, traffic_text, Context};
use super::{codes, graded, Finding, Severity};
use crate::analysis::Status;
use crate::engine::packet::{Dim, PBox, PacketSet};
use crate::model::*;

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    target_bypass(cx, out);
    plaintext_listeners(cx, out);
}

/// Ports whose protocols carry their own TLS (or SSH) inside a TCP listener.
const ENCRYPTED_TCP_PORTS: &[u16] = &[
    22, 443, 465, 563, 636, 853, 989, 990, 992, 993, 995, 5061, 6443, 8443,
];

fn packets(protocols: &[u8], port: u16) -> PacketSet {
    PacketSet::from_boxes(protocols.iter().map(|p| {
        PBox::FULL
            .with(Dim::Proto, (*p as u128, *p as u128))
            .with(Dim::DstPort, (port as u128, port as u128))
    }))
}

fn status_words(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Effective) => "the internet reaches it that way today",
        Some(Status::Latent) => {
            "latent today: routing, NACLs or a missing public address stop direct access"
        }
        None => "nothing reaches it that way today",
    }
}

/// The load balancers that use a target group: its own list, and any listener forwarding to it.
fn lbs_of<'m>(cx: &Context<'m>, tg: &TargetGroup) -> Vec<&'m LoadBalancer> {
    let mut arns: Vec<&str> = tg.lb_arns.iter().map(String::as_str).collect();
    for l in cx.m.listeners.values() {
        if l.target_groups().any(|t| t == tg.arn) {
            arns.push(&l.lb_arn);
        }
    }
    arns.sort();
    arns.dedup();
    arns.iter()
        .filter_map(|a| cx.m.load_balancers.get(*a))
        .collect()
}

/// Whether the targets must admit the internet's addresses themselves: an
/// internet-facing NLB without security groups that preserves client IPs
/// (§5.3: instance targets by default; ip targets for UDP and TCP_UDP, or when
/// the attribute says so) delivers the client's address, and has no group of
/// its own to reference.
fn needs_client_addresses(lbs: &[&LoadBalancer], tg: &TargetGroup) -> bool {
    let preserve = tg.preserves_client_ip();
    preserve
        && lbs.iter().any(|lb| {
            lb.kind == LbKind::Network && lb.internet_facing && lb.security_groups.is_empty()
        })
}

/// `lb-target-bypass`: a target's groups admit the target port from 0.0.0.0/0 or ::/0.
fn target_bypass(cx: &Context, out: &mut Vec<Finding>) {
    for tg in cx.m.target_groups.values() {
        let lbs = lbs_of(cx, tg);
        if lbs.is_empty() || needs_client_addresses(&lbs, tg) {
            continue;
        }
        if tg.protocol.eq_ignore_ascii_case("GENEVE") {
            continue;
        }
        let protocols = lb_ip_protocols(&tg.protocol);
        // (group, rule text) → (the rule, targets and ports, status)
        type Hit<'r> = (
            &'r SecurityGroup,
            &'r SgRule,
            Vec<String>,
            Vec<u16>,
            Option<Status>,
        );
        let mut hits: BTreeMap<(String, String), Hit> = BTreeMap::new();
        for t in &tg.targets {
            let Some(port) = t.port.or(tg.port) else {
                continue;
            };
            let eni = match tg.target_type {
                TargetType::Instance => {
                    cx.m.instances
                        .get(&t.id)
                        .and_then(|i| i.eni_ids.first())
                        .and_then(|e| cx.m.network_interfaces.get(e))
                }
                TargetType::Ip => {
                    t.id.parse::<IpAddr>()
                        .ok()
                        .and_then(|ip| cx.m.eni_by_private_ip(ip))
                }
                _ => None,
            };
            let Some(eni) = eni else { continue };
            let wanted = packets(&protocols, port);
            for g in &eni.groups {
                let Some(sg) = cx.m.security_groups.get(g) else {
                    continue;
                };
                for rule in &sg.ingress {
                    let open = matches!(&rule.peer, SgPeer::Cidr(n) if n.prefix_len() == 0);
                    if !open || !super::context::rule_packets(rule).meets(&wanted) {
                        continue;
                    }
                    // Latent when the target is reached only through the load balancer today.
                    let status = cx.rule_status(sg, rule);
                    let entry = hits
                        .entry((sg.id.clone(), sg_rule_text(sg, true, rule)))
                        .or_insert((sg, rule, Vec::new(), Vec::new(), None));
                    if !entry.2.contains(&eni.id) {
                        entry.2.push(eni.id.clone());
                    }
                    if !entry.3.contains(&port) {
                        entry.3.push(port);
                    }
                    entry.4 = match (entry.4, status) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
        }
        for ((_, rule_text), (sg, rule, enis, ports, status)) in hits {
            let targets: Vec<String> = enis
                .iter()
                .map(|e| {
                    cx.idx
                        .hosts
                        .get(e)
                        .map(|h| cx.host_label(h))
                        .unwrap_or_else(|| e.clone())
                })
                .collect();
            let lb_names: Vec<&str> = lbs.iter().map(|lb| lb.name.as_str()).collect();
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            let message = format!(
                "targets of {} behind {} ({}) take port {} from the load balancer, but {} admits {} from {}: clients can skip the load balancer ({})",
                tg.name,
                lb_names.join(", "),
                targets.join(", "),
                ports.join(", "),
                cx.sg_label(&sg.id),
                traffic_text(rule.protocol, rule.ports),
                rule.peer,
                status_words(status)
            );
            let mut resources = vec![tg.arn.clone(), sg.id.clone()];
            resources.extend(enis);
            out.push(
                Finding::new(
                    codes::LB_TARGET_BYPASS,
                    graded(Severity::High, status),
                    message,
                )
                .resources(resources)
                .rules([rule_text])
                .remediation(format!(
                    "In {}, replace `{} from {}` with a rule referencing the load balancer's security group ({}).",
                    cx.sg_label(&sg.id),
                    traffic_text(rule.protocol, rule.ports),
                    rule.peer,
                    lbs.iter()
                        .flat_map(|lb| lb.security_groups.iter().map(|g| cx.sg_label(g)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
}

/// `lb-plaintext-listener`: an internet-facing HTTP/TCP listener that forwards.
fn plaintext_listeners(cx: &Context, out: &mut Vec<Finding>) {
    for l in cx.m.listeners.values() {
        let Some(lb) = cx.m.load_balancers.get(&l.lb_arn) else {
            continue;
        };
        let protocol = l.protocol.to_ascii_uppercase();
        if !lb.internet_facing || !matches!(protocol.as_str(), "HTTP" | "TCP" | "TCP_UDP") {
            continue;
        }
        let Some(port) = l.port else { continue };
        if protocol != "HTTP" && ENCRYPTED_TCP_PORTS.contains(&port) {
            continue;
        }
        let tgs: Vec<String> = l
            .target_groups()
            .map(|arn| {
                cx.m.target_groups
                    .get(arn)
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| arn.to_string())
            })
            .collect();
        if tgs.is_empty() {
            continue;
        }
        let status = cx
            .idx
            .lb_hosts(&lb.arn)
            .first()
            .and_then(|h| cx.app_of_host(&h.id))
            .and_then(|app| {
                cx.direct_internet_status(app, Some(&packets(&l.ip_protocols(), port)))
            });
        let message = format!(
            "internet-facing load balancer {} accepts plain-text {protocol} on port {port} and forwards it to {} ({})",
            lb.name,
            tgs.join(", "),
            match status {
                Some(Status::Effective) => "the internet reaches it today",
                Some(Status::Latent) => "latent today: its security groups or routing stop clients",
                None => "no client reaches it today",
            }
        );
        out.push(
            Finding::new(
                codes::LB_PLAINTEXT_LISTENER,
                graded(Severity::Medium, status),
                message,
            )
            .resources([lb.arn.clone(), l.arn.clone()])
            .rules([format!("{} {protocol} {port} forward", l.arn)]),
        );
    }
}
