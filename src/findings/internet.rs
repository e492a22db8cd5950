//! Checks on what the internet reaches, read from the exposure report:
//! administrative ports, data stores, and resources other than load balancers
//! and NAT gateways placed in public subnets (semantics §4.3: a subnet whose
//! route table routes to an internet gateway).

use std::collections::BTreeSet;

use ipnet::IpNet;
use rayon::prelude::*;

use super::context::{rule_packets, sg_rule_text, Context};
use super::{codes, graded, Config, Finding, Severity};
use crate::analysis::{Application, Exposure, Source, Status};
use crate::engine::packet::{Dim, PBox, PacketSet};
use crate::model::*;

/// A well-known service port.
struct Service {
    protocol: u8,
    port: u16,
    name: &'static str,
}

const fn tcp(port: u16, name: &'static str) -> Service {
    Service {
        protocol: Protocol::TCP,
        port,
        name,
    }
}

const fn udp(port: u16, name: &'static str) -> Service {
    Service {
        protocol: Protocol::UDP,
        port,
        name,
    }
}

/// Remote administration.
const ADMIN_PORTS: &[Service] = &[
    tcp(22, "SSH"),
    tcp(23, "Telnet"),
    tcp(2375, "Docker API"),
    tcp(2376, "Docker API over TLS"),
    tcp(3389, "RDP"),
    udp(3389, "RDP"),
    tcp(5900, "VNC"),
    tcp(5985, "WinRM"),
    tcp(5986, "WinRM over HTTPS"),
];

/// Databases, caches, search engines and message stores.
const DATA_STORE_PORTS: &[Service] = &[
    tcp(1433, "SQL Server"),
    tcp(1521, "Oracle"),
    tcp(2379, "etcd"),
    tcp(3306, "MySQL"),
    tcp(5432, "PostgreSQL"),
    tcp(5439, "Redshift"),
    tcp(5984, "CouchDB"),
    tcp(6379, "Redis"),
    tcp(7474, "Neo4j"),
    tcp(8086, "InfluxDB"),
    tcp(9042, "Cassandra"),
    tcp(9092, "Kafka"),
    tcp(9200, "Elasticsearch"),
    tcp(9300, "Elasticsearch transport"),
    tcp(11211, "Memcached"),
    udp(11211, "Memcached"),
    tcp(27017, "MongoDB"),
];

impl Service {
    fn packets(&self) -> PacketSet {
        PacketSet::from_box(
            PBox::FULL
                .with(Dim::Proto, (self.protocol as u128, self.protocol as u128))
                .with(Dim::DstPort, (self.port as u128, self.port as u128)),
        )
    }

    fn text(&self) -> String {
        format!(
            "{} {} ({})",
            protocol_name(self.protocol),
            self.port,
            self.name
        )
    }
}

pub(super) fn check(cx: &Context, cfg: &Config, out: &mut Vec<Finding>) {
    // Application by application on both cores, collected in the report's order.
    let found: Vec<Vec<Finding>> = cx
        .report
        .applications
        .par_iter()
        .map(|app| {
            let mut out = Vec::new();
            if !matches!(app.kind, OwnerKind::LoadBalancer | OwnerKind::NatGateway) {
                sensitive_ports(cx, cfg, app, Sensitive::Admin, &mut out);
                sensitive_ports(cx, cfg, app, Sensitive::DataStore, &mut out);
            }
            out
        })
        .collect();
    out.extend(found.into_iter().flatten());
    public_subnets(cx, out);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sensitive {
    Admin,
    DataStore,
}

/// What one status (effective or latent) of an application exposes.
#[derive(Default)]
struct Exposed {
    families: BTreeSet<&'static str>,
    /// In the order of the port list.
    services: Vec<String>,
    entries: BTreeSet<String>,
    blocked_by: BTreeSet<String>,
    rules: BTreeSet<String>,
    members: usize,
    /// Whether some admitting rule is wider than the configured prefix (or the
    /// path enters through a load balancer, whose clients are not limited here).
    wide: bool,
}

/// `internet-admin-port` / `internet-data-store` for one application.
fn sensitive_ports(
    cx: &Context,
    cfg: &Config,
    app: &Application,
    what: Sensitive,
    out: &mut Vec<Finding>,
) {
    let managed_store = matches!(app.kind, OwnerKind::Rds | OwnerKind::ElastiCache);
    let services = match what {
        Sensitive::Admin => ADMIN_PORTS,
        Sensitive::DataStore => DATA_STORE_PORTS,
    };
    let mut by_status: [Exposed; 2] = Default::default();
    for (e, reached) in cx.exposures_of(&app.id) {
        let family = match e.source {
            Source::InternetV4 => "IPv4",
            Source::InternetV6 => "IPv6",
            _ => continue,
        };
        let (found, texts): (PacketSet, Vec<String>) =
            if what == Sensitive::DataStore && managed_store {
                // Every port of a managed database or cache is its data port.
                (
                    reached.clone(),
                    e.traffic
                        .iter()
                        .map(|t| format!("{} {}", t.protocol, t.ports).trim().to_string())
                        .collect(),
                )
            } else {
                let hits: Vec<&Service> = services
                    .iter()
                    .filter(|s| reached.meets(&s.packets()))
                    .collect();
                let mut set = PacketSet::empty();
                for s in &hits {
                    set = set.union(&s.packets());
                }
                (set, hits.iter().map(|s| s.text()).collect())
            };
        if found.is_empty() {
            continue;
        }
        let (rules, wide) = admitting_rules(cx, cfg, app, e, &found);
        let slot = &mut by_status[match e.status {
            Status::Effective => 0,
            Status::Latent => 1,
        }];
        slot.families.insert(family);
        for t in texts {
            if !slot.services.contains(&t) {
                slot.services.push(t);
            }
        }
        slot.entries.extend(
            entries_reaching(e, &found)
                .into_iter()
                .filter(|x| *x != "direct")
                .map(str::to_string),
        );
        slot.blocked_by.extend(e.blocked_by.iter().cloned());
        slot.rules.extend(rules);
        slot.members = slot.members.max(e.members_exposed);
        slot.wide |= wide;
    }
    for (i, x) in by_status.iter().enumerate() {
        if x.families.is_empty() {
            continue;
        }
        let status = if i == 0 {
            Status::Effective
        } else {
            Status::Latent
        };
        // Admin ports open only to allow-listed addresses are the recommended way to keep them
        // open; a data store should not face the internet at all, so it is only demoted.
        let severity = match (what, x.wide) {
            (Sensitive::Admin, false) => continue,
            (Sensitive::Admin, true) => graded(Severity::High, Some(status)),
            (Sensitive::DataStore, true) => graded(Severity::Critical, Some(status)),
            (Sensitive::DataStore, false) => graded(Severity::Medium, Some(status)),
        };
        let families: Vec<&str> = x.families.iter().copied().collect();
        // The first few name the risk; the rule lists say the rest.
        let mut services: Vec<String> = x.services.iter().take(5).cloned().collect();
        if x.services.len() > 5 {
            services.push(format!("{} more", x.services.len() - 5));
        }
        let subject = match (what, managed_store) {
            (Sensitive::DataStore, true) => format!("{} ({})", app.name, app.kind),
            _ => app.name.clone(),
        };
        let count = if app.members.len() > 1 {
            format!(" ({} of {} interfaces)", x.members, app.members.len())
        } else {
            String::new()
        };
        let mut message = match status {
            Status::Effective => format!(
                "{subject}{count} is reachable from the internet ({}) on {}",
                families.join(", "),
                services.join(", ")
            ),
            Status::Latent => format!(
                "{subject}{count} would be reachable from the internet ({}) on {}: its security groups admit it",
                families.join(", "),
                services.join(", ")
            ),
        };
        if !x.entries.is_empty() {
            message.push_str(&format!(
                " through {}",
                x.entries.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if status == Status::Latent {
            // (`UNDECIDED`: some of the way is not modelled.)
            let codes: Vec<&str> = x
                .blocked_by
                .iter()
                .map(String::as_str)
                .filter(|c| *c != "UNDECIDED")
                .collect();
            if !codes.is_empty() {
                message.push_str(&format!(
                    ", and only {} {} it today",
                    codes.join(", "),
                    if codes.len() == 1 { "stops" } else { "stop" }
                ));
            }
            if x.blocked_by.contains("UNDECIDED") {
                message.push_str(" (part of the way there is not modelled: see `exposure query`)");
            }
        }
        if !x.wide {
            message.push_str(" (from allow-listed addresses only)");
        }
        let code = match what {
            Sensitive::Admin => codes::INTERNET_ADMIN_PORT,
            Sensitive::DataStore => codes::INTERNET_DATA_STORE,
        };
        out.push(
            Finding::new(code, severity, message)
                .resources(
                    app.members
                        .iter()
                        .cloned()
                        .chain(app.groups.iter().cloned()),
                )
                .rules(x.rules.iter().cloned()),
        );
    }
}

/// The entry points by which an exposure lets some of `found` through: the listeners whose
/// forwarding reaches those ports (an HTTP 80 listener forwarding to 8080 does not lead to
/// port 22), and `direct`. Where the exposure does not say what each entry lets through, all
/// of its entries.
fn entries_reaching<'e>(e: &'e Exposure, found: &PacketSet) -> Vec<&'e str> {
    if e.entry_packets.is_empty() {
        return e.entries.iter().map(String::as_str).collect();
    }
    e.entry_packets
        .iter()
        .filter(|(_, set)| set.meets(found))
        .map(|(label, _)| label.as_str())
        .collect()
}

/// The inbound rules of the application's groups that admit internet
/// addresses of the exposure's family on the found ports, and whether the
/// exposure counts as wide open (a rule wider than the configured prefix, or
/// an entry through a load balancer).
fn admitting_rules(
    cx: &Context,
    cfg: &Config,
    app: &Application,
    e: &Exposure,
    found: &PacketSet,
) -> (Vec<String>, bool) {
    let v6 = e.source == Source::InternetV6;
    let mut rules = Vec::new();
    // Through a load balancer's listener (one that leads to these ports), or not directly.
    let entries = entries_reaching(e, found);
    let mut wide = entries.iter().any(|x| *x != "direct")
        || (app.kind != OwnerKind::LoadBalancer && !entries.contains(&"direct"));
    for g in &app.groups {
        let Some(sg) = cx.m.security_groups.get(g) else {
            continue;
        };
        for rule in &sg.ingress {
            let (r4, r6) = cx.reaches_internet(&cx.peer_intervals(sg, &rule.peer));
            if (if v6 { !r6 } else { !r4 }) || !rule_packets(rule).meets(found) {
                continue;
            }
            rules.push(sg_rule_text(sg, true, rule));
            if let SgPeer::Cidr(net) = &rule.peer {
                let limit = match net {
                    IpNet::V4(_) => cfg.wide_prefix_v4,
                    IpNet::V6(_) => cfg.wide_prefix_v6,
                };
                wide |= net.prefix_len() == 0 || net.prefix_len() < limit;
            }
        }
    }
    if rules.is_empty() {
        // Nothing in the groups explains it (no security groups, or not modelled): assume open.
        wide = true;
    }
    (rules, wide)
}

/// ENIs that may sit in a public subnet: load balancers, NAT gateways and the
/// other AWS-managed gateway interfaces (AWS guidance: only these belong there).
fn belongs_in_public_subnet(kind: OwnerKind) -> bool {
    matches!(
        kind,
        OwnerKind::LoadBalancer
            | OwnerKind::NatGateway
            | OwnerKind::TransitGateway
            | OwnerKind::GwlbEndpoint
            | OwnerKind::VpcEndpoint
            | OwnerKind::ResourceGateway
    )
}

/// `public-subnet-non-lb`.
fn public_subnets(cx: &Context, out: &mut Vec<Finding>) {
    for eni in cx.m.network_interfaces.values() {
        if belongs_in_public_subnet(eni.owner.kind) {
            continue;
        }
        let Some(rt) = cx.idx.subnet_route_table(&eni.subnet_id) else {
            continue;
        };
        let igw_routes: Vec<&Route> = rt
            .routes
            .iter()
            .filter(|r| r.active && matches!(r.target, RouteTarget::InternetGateway(_)))
            .collect();
        let Some(first) = igw_routes.first() else {
            continue;
        };
        let status = cx
            .app_of_host(&eni.id)
            .and_then(|a| cx.direct_internet_status_of(a, &eni.id));
        let subnet =
            cx.m.subnets
                .get(&eni.subnet_id)
                .map(|s| super::context::labelled(&s.tags, &s.id))
                .unwrap_or_else(|| eni.subnet_id.clone());
        let what = match (&eni.owner.kind, &eni.owner.id) {
            (OwnerKind::Ec2Instance, Some(i)) => {
                format!("instance {} ({i}, {})", eni.display_name(), eni.id)
            }
            (kind, _) => format!("{kind} {} ({})", eni.display_name(), eni.id),
        };
        let today = match status {
            Some(Status::Effective) => "the internet reaches it directly today",
            Some(Status::Latent) => {
                "its security groups admit internet traffic that only routing or a missing public address stops today"
            }
            None => "nothing reaches it from the internet today",
        };
        let message = format!(
            "{what} sits in public subnet {subnet}: route table {} sends {} to {}; {today}",
            super::context::labelled(&rt.tags, &rt.id),
            first.destination,
            first.target.id()
        );
        let mut resources = Vec::new();
        resources.extend(
            eni.owner
                .id
                .clone()
                .filter(|_| eni.owner.kind == OwnerKind::Ec2Instance),
        );
        resources.extend([eni.id.clone(), eni.subnet_id.clone(), rt.id.clone()]);
        out.push(
            Finding::new(
                codes::PUBLIC_SUBNET_NON_LB,
                graded(Severity::Medium, status),
                message,
            )
            .resources(resources)
            .rules(
                igw_routes
                    .iter()
                    .map(|r| format!("{} route {} -> {}", rt.id, r.destination, r.target.id())),
            ),
        );
    }
}
