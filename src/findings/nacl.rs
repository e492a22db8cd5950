//! Network ACL checks, with the engine's packet-set algebra: rules that can
//! never apply because earlier rules match all their packets (§2.1: first
//! match wins), and allowed flows whose replies the NACL denies (§2.4: NACLs
//! are stateless, replies go to the client's ephemeral port).

use rayon::prelude::*;

use super::context::{labelled, within};
use super::{codes, Finding, Severity};
use crate::engine::filters::{nacl, proto_ports_box, NaclCheck};
use crate::engine::packet::{net_intervals, Dim, PBox, PacketSet};
use crate::model::*;

/// The ephemeral ports AWS recommends NACLs allow for replies.
const EPHEMERAL: (u128, u128) = (1024, 65535);

pub(super) fn check(m: &Model, out: &mut Vec<Finding>) {
    // Each NACL on its own (in parallel), the findings kept in the NACLs' order.
    let acls: Vec<&NetworkAcl> = m.network_acls.values().collect();
    let found: Vec<Vec<Finding>> = acls
        .into_par_iter()
        .map(|acl| {
            let mut found = Vec::new();
            for egress in [false, true] {
                shadowed(acl, egress, &mut found);
            }
            blocks_return(acl, &mut found);
            found
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

fn is_catch_all(e: &NaclEntry) -> bool {
    e.rule_number >= 32767
}

/// The packets an entry matches, in forward coordinates: the remote address is
/// the source of inbound packets and the destination of outbound ones.
fn entry_packets(e: &NaclEntry) -> PacketSet {
    let remote = if e.egress { Dim::Dst } else { Dim::Src };
    PacketSet::from_box(proto_ports_box(e.protocol, e.ports, Dim::DstPort))
        .restrict(remote, &net_intervals(&e.cidr))
}

/// `allow tcp port 5432 from 10.0.0.0/16`.
fn entry_text(e: &NaclEntry) -> String {
    format!(
        "{} {} {} {}",
        if e.allow { "allow" } else { "deny" },
        super::context::traffic_text(e.protocol, e.ports),
        if e.egress { "to" } else { "from" },
        e.cidr
    )
}

fn direction(egress: bool) -> &'static str {
    if egress {
        "outbound"
    } else {
        "inbound"
    }
}

fn rule_ref(acl: &NetworkAcl, e: &NaclEntry) -> String {
    format!(
        "{} {} rule {}: {}",
        acl.id,
        direction(e.egress),
        e.rule_number,
        entry_text(e)
    )
}

/// `nacl-rule-shadowed`.
fn shadowed(acl: &NetworkAcl, egress: bool, out: &mut Vec<Finding>) {
    let entries: Vec<&NaclEntry> = acl.entries.iter().filter(|e| e.egress == egress).collect();
    // Each entry's packets, made once (every later entry is checked against them).
    let packets: Vec<PacketSet> = entries.iter().map(|e| entry_packets(e)).collect();
    for (i, e) in entries.iter().enumerate() {
        if is_catch_all(e) {
            continue;
        }
        let mut remaining = packets[i].clone();
        let mut by: Vec<&NaclEntry> = Vec::new();
        for (earlier, earlier_packets) in entries[..i].iter().zip(&packets) {
            if !remaining.meets(earlier_packets) {
                continue;
            }
            let hit = remaining.intersect(earlier_packets);
            by.push(earlier);
            remaining = remaining.subtract(&hit);
            if remaining.is_empty() {
                break;
            }
        }
        if !remaining.is_empty() || by.is_empty() {
            continue;
        }
        let differs = by.iter().any(|b| b.allow != e.allow);
        let (severity, consequence) = match (differs, e.allow) {
            (false, _) => (Severity::Info, "the action is the same: it is redundant"),
            (true, false) => (
                Severity::Medium,
                "the action differs: the traffic it means to deny is allowed",
            ),
            (true, true) => (
                Severity::Low,
                "the action differs: the traffic it means to allow is denied",
            ),
        };
        let earlier: Vec<String> = by
            .iter()
            .map(|b| format!("rule {} ({})", b.rule_number, entry_text(b)))
            .collect();
        let message = format!(
            "{} {} rule {} ({}) never applies: {} match{} every packet it would match first; {consequence}",
            labelled(&acl.tags, &acl.id),
            direction(egress),
            e.rule_number,
            entry_text(e),
            earlier.join(" and "),
            if by.len() == 1 { "es" } else { "" },
        );
        let mut rules = vec![rule_ref(acl, e)];
        rules.extend(by.iter().map(|b| rule_ref(acl, b)));
        let numbers: Vec<String> = by.iter().map(|b| b.rule_number.to_string()).collect();
        out.push(
            Finding::new(codes::NACL_RULE_SHADOWED, severity, message)
                .resources([acl.id.clone()])
                .rules(rules)
                .remediation(if differs {
                    format!(
                        "Give rule {} a number below {} (or delete it if {} is intended).",
                        e.rule_number,
                        numbers.join(" and "),
                        numbers.join(" and ")
                    )
                } else {
                    format!(
                        "Delete rule {}: rule {} already does the same.",
                        e.rule_number,
                        numbers.join(" and ")
                    )
                }),
        );
    }
}

/// The ephemeral ranges clients use (§2.4: Linux, Windows Server 2008 and
/// newer, Windows Server 2003 and older). Linux's is its kernel's default
/// `net.ipv4.ip_local_port_range`, 32768-60999 (the AWS guide rounds it to
/// 32768-61000): replies allowed to exactly that range reach every Linux client.
const USUAL_EPHEMERAL: [(u16, u16); 3] = [(32768, 60999), (49152, 65535), (1025, 5000)];

/// Whether a rule is written for replies: its ports lie in 1024-65535 and
/// cover one of the usual ephemeral ranges. A rule for one service port is
/// not one, even if replies to a client that happens to use that port would
/// match it; nor is a rule for every port, which also allows flows of its own.
fn is_reply_rule(e: &NaclEntry) -> bool {
    match e.ports {
        PortSpec::Range(a, b) => {
            a >= 1024 && USUAL_EPHEMERAL.iter().any(|(lo, hi)| a <= *lo && *hi <= b)
        }
        PortSpec::All | PortSpec::Icmp { .. } => false,
    }
}

/// TCP and UDP packets from clients on ephemeral ports.
fn client_flows() -> PacketSet {
    PacketSet::from_boxes([Protocol::TCP, Protocol::UDP].map(|p| {
        PBox::FULL
            .with(Dim::Proto, (p as u128, p as u128))
            .with(Dim::SrcPort, EPHEMERAL)
    }))
}

/// `nacl-blocks-return`: for each allow rule, the part of the client flows it
/// decides (first match); if the other direction denies the replies to every
/// usual ephemeral range of those clients, ordinary clients never complete a
/// connection. A rule that covers an ephemeral range and lets
/// in replies to flows allowed the other way is a reply rule, not a flow of
/// its own, and is skipped.
fn blocks_return(acl: &NetworkAcl, out: &mut Vec<Finding>) {
    let clients = client_flows();
    let (outgoing, _) = nacl(Some(acl), &clients, NaclCheck::OutForward);
    let (_, inbound_reply_rules) = nacl(Some(acl), &outgoing, NaclCheck::InReply);
    let (incoming, _) = nacl(Some(acl), &clients, NaclCheck::InForward);
    let (_, outbound_reply_rules) = nacl(Some(acl), &incoming, NaclCheck::OutReply);
    for egress in [false, true] {
        let (reply_check, reply_rules) = if egress {
            (NaclCheck::InReply, &outbound_reply_rules)
        } else {
            (NaclCheck::OutReply, &inbound_reply_rules)
        };
        let mut undecided = clients.clone();
        for e in acl.entries.iter().filter(|e| e.egress == egress) {
            let decided = undecided.intersect(&entry_packets(e));
            if decided.is_empty() {
                continue;
            }
            undecided = undecided.subtract(&decided);
            if !e.allow
                || is_catch_all(e)
                || (reply_rules.contains(&e.rule_number) && is_reply_rule(e))
            {
                continue;
            }
            // Which client source ports get replies at all (a client may pick its own).
            let any_port = decided.rewrite(Dim::SrcPort, (0, 65535));
            let (replied, _) = nacl(Some(acl), &any_port, reply_check);
            let replied_ports = replied.project(Dim::SrcPort);
            if USUAL_EPHEMERAL
                .iter()
                .any(|r| within(&(r.0 as u128, r.1 as u128), &replied_ports))
            {
                continue;
            }
            let other = direction(!egress);
            let mut message = format!(
                "{} {} rule {} ({}) allows connections, but the {other} rules deny the replies to the clients' ephemeral ports: those connections never complete",
                labelled(&acl.tags, &acl.id),
                direction(egress),
                e.rule_number,
                entry_text(e),
            );
            if !replied_ports.is_empty() {
                message = format!(
                    "{} {} rule {} ({}) allows connections, but the {other} rules deny the replies to the clients' usual ephemeral ports: only a client that picks source port {} gets a reply, and the others' connections never complete",
                    labelled(&acl.tags, &acl.id),
                    direction(egress),
                    e.rule_number,
                    entry_text(e),
                    crate::engine::packet::Ports(&replied_ports)
                );
            }
            let peer_word = if egress { "from" } else { "to" };
            out.push(
                Finding::new(codes::NACL_BLOCKS_RETURN, Severity::Low, message)
                    .resources([acl.id.clone()])
                    .rules([rule_ref(acl, e)])
                    .remediation(format!(
                        "Add an {other} rule allowing the replies ({} ports 1024-65535 {peer_word} {}) before any rule that denies them, or remove rule {} if the flow is not wanted.",
                        match e.protocol {
                            Protocol::Number(p) => protocol_name(p),
                            Protocol::All => "tcp and udp".into(),
                        },
                        e.cidr,
                        e.rule_number
                    )),
            );
        }
    }
}
