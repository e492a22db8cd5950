//! The exposure report: for every application, what the internet (IPv4 and IPv6),
//! on-premises and the other applications can reach, and whether each exposure is
//! effective (a real path exists) or latent (a security group admits it, but
//! routing, NACLs or the lack of a public address stop it today).
//!
//! Applications group network interfaces that play the same role: the nodes of
//! one load balancer, or interfaces of the same kind with the same security-group
//! set, so that 200 identical instances are one line with a count.

use std::collections::BTreeMap;

use crate::engine::filters::{self, SgDirection};
use crate::engine::index::{Host, Index};
use crate::engine::packet::{Dim, PBox, PacketSet};
use crate::engine::query::{self, Request, Traffic};
use crate::engine::walk;
use crate::model::*;

/// A group of network interfaces playing one role.
#[derive(Debug, Clone)]
pub struct Application {
    /// Stable key (`lb:<arn>`, `rds:<id>`, `<kind>:<sorted groups>`).
    pub id: String,
    /// Display name (Name tags, LB name, DB identifier, or the service and its groups).
    pub name: String,
    /// Owner kind.
    pub kind: OwnerKind,
    /// Member host ids (ENIs, or LB nodes without ENIs).
    pub members: Vec<String>,
    /// Security groups.
    pub groups: Vec<String>,
    /// VPCs the members are in.
    pub vpcs: Vec<String>,
    /// Subnets the members are in.
    pub subnets: Vec<String>,
    /// Account and region (of the first member).
    pub location: Location,
}

/// Who reaches an application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Any public IPv4 address.
    InternetV4,
    /// Any global IPv6 address.
    InternetV6,
    /// On-premises networks behind VPN gateways.
    Onprem,
    /// Another application (its id).
    Application(String),
}

impl Source {
    /// A short label.
    pub fn label(&self, report: &Report) -> String {
        match self {
            Source::InternetV4 => "internet (IPv4)".into(),
            Source::InternetV6 => "internet (IPv6)".into(),
            Source::Onprem => "on-premises".into(),
            Source::Application(id) => report
                .app(id)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| id.clone()),
        }
    }
}

/// Effective or latent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// A path exists today.
    Effective,
    /// A security group admits it; routing, NACLs or a missing public address stop it today.
    Latent,
}

/// One exposure of an application to a source.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// Who.
    pub source: Source,
    /// The exposed application's id.
    pub target: String,
    /// Effective or latent.
    pub status: Status,
    /// Protocols and ports.
    pub traffic: Vec<Traffic>,
    /// Entry points: `direct`, or `<lb> <PROTOCOL> <port>` listeners.
    pub entries: Vec<String>,
    /// How many members are exposed.
    pub members_exposed: usize,
    /// What stops a latent exposure today (reason codes).
    pub blocked_by: Vec<String>,
}

/// The report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Applications, sorted by id.
    pub applications: Vec<Application>,
    /// Exposures, most serious first.
    pub exposures: Vec<Exposure>,
    /// Assumptions made.
    pub assumptions: Vec<String>,
}

impl Report {
    /// An application by id.
    pub fn app(&self, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    /// The application a host belongs to.
    pub fn app_of_host(&self, host: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.members.iter().any(|m| m == host))
    }
}

/// Groups hosts into applications.
pub fn applications(m: &Model, idx: &Index) -> Vec<Application> {
    let mut groups: BTreeMap<String, Vec<&Host>> = BTreeMap::new();
    for h in idx.hosts.values() {
        let key = match h.kind {
            OwnerKind::LoadBalancer => format!(
                "lb:{}",
                h.owner_id.clone().unwrap_or_else(|| h.name.clone())
            ),
            OwnerKind::Rds if h.owner_id.is_some() => {
                format!("rds:{}", h.owner_id.clone().unwrap_or_default())
            }
            OwnerKind::NatGateway => {
                format!("nat:{}", h.owner_id.clone().unwrap_or_else(|| h.id.clone()))
            }
            OwnerKind::VpcEndpoint => format!(
                "vpce:{}",
                h.owner_id.clone().unwrap_or_else(|| h.id.clone())
            ),
            kind => {
                let mut g = h.groups.clone();
                g.sort();
                format!("{}:{}:{}", kind.as_str(), h.vpc_id, g.join("+"))
            }
        };
        groups.entry(key).or_default().push(h);
    }
    groups
        .into_iter()
        .map(|(id, hosts)| {
            let mut names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
            names.sort();
            names.dedup();
            let name = if names.len() > 3 {
                format!("{} and {} more", names[..2].join(", "), names.len() - 2)
            } else {
                names.join(", ")
            };
            let mut vpcs: Vec<String> = hosts.iter().map(|h| h.vpc_id.clone()).collect();
            vpcs.sort();
            vpcs.dedup();
            let mut subnets: Vec<String> = hosts.iter().map(|h| h.subnet_id.clone()).collect();
            subnets.sort();
            subnets.dedup();
            let location = m
                .subnets
                .get(&hosts[0].subnet_id)
                .map(|s| s.location.clone())
                .unwrap_or_default();
            Application {
                id,
                name,
                kind: hosts[0].kind,
                members: hosts.iter().map(|h| h.id.clone()).collect(),
                groups: hosts[0].groups.clone(),
                vpcs,
                subnets,
                location,
            }
        })
        .collect()
}

fn request(from: &str, to: &str) -> Request {
    Request {
        from: from.to_string(),
        to: to.to_string(),
        protocols: None,
        ports: None,
        source_ports: None,
    }
}

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

/// Merges per-member answers into one exposure.
#[derive(Default)]
struct Acc {
    traffic: PacketSetTraffic,
    entries: Vec<String>,
    hosts: Vec<String>,
}

/// Packets merged over members, summarised as traffic lines at the end.
#[derive(Default)]
struct PacketSetTraffic(PacketSet);

impl PacketSetTraffic {
    fn add(&mut self, s: &PacketSet) {
        // Ports and protocols only: who sent them is the exposure's source.
        let s = s
            .rewrite(Dim::Src, crate::engine::packet::ALL_ADDRS)
            .rewrite(Dim::Dst, crate::engine::packet::ALL_ADDRS)
            .rewrite(Dim::SrcPort, (0, 65535));
        self.0 = self.0.union(&s);
    }

    fn lines(&self) -> Vec<Traffic> {
        query::traffic_of(&self.0)
    }
}

/// Adds a query's reached components to the per-application accumulators.
fn collect(
    m: &Model,
    idx: &Index,
    apps_by_host: &BTreeMap<String, String>,
    lb_app: &BTreeMap<String, String>,
    a: &query::Answer,
    into: &mut BTreeMap<String, Acc>,
) {
    for r in &a.reached {
        let app = apps_by_host
            .get(&r.component)
            .or_else(|| lb_app.get(&r.component));
        let Some(app) = app else { continue };
        let acc = into.entry(app.clone()).or_default();
        acc.traffic.add(&r.set);
        let e = entry_label(m, &r.entry);
        if !acc.entries.contains(&e) {
            acc.entries.push(e);
        }
        // A load balancer is reached as a whole (by ARN): count its nodes.
        let reached: Vec<String> = if lb_app.contains_key(&r.component) {
            idx.hosts
                .values()
                .filter(|h| h.owner_id.as_deref() == Some(r.component.as_str()))
                .map(|h| h.id.clone())
                .collect()
        } else {
            vec![r.component.clone()]
        };
        for h in reached {
            if !acc.hosts.contains(&h) {
                acc.hosts.push(h);
            }
        }
    }
}

/// Computes the exposure report.
pub fn analyze(m: &Model) -> Report {
    let idx = Index::new(m);
    let apps = applications(m, &idx);
    let apps_by_host: BTreeMap<String, String> = apps
        .iter()
        .flat_map(|a| a.members.iter().map(move |h| (h.clone(), a.id.clone())))
        .collect();
    let mut lb_app: BTreeMap<String, String> = BTreeMap::new();
    for a in apps.iter().filter(|a| a.kind == OwnerKind::LoadBalancer) {
        if let Some(arn) = idx.hosts[&a.members[0]].owner_id.clone() {
            lb_app.insert(arn, a.id.clone());
        }
    }
    let mut exposures = Vec::new();
    let mut sources: Vec<(Source, String)> = vec![
        (Source::InternetV4, "internet-ipv4".into()),
        (Source::InternetV6, "internet-ipv6".into()),
    ];
    if !m.vpn_gateways.is_empty() {
        sources.push((Source::Onprem, "onprem".into()));
    }
    let internet_v4: Vec<_> = walk::internet_space()
        .into_iter()
        .filter(|iv| crate::engine::packet::is_v4(iv.0))
        .collect();
    let internet_v6: Vec<_> = walk::internet_space()
        .into_iter()
        .filter(|iv| !crate::engine::packet::is_v4(iv.0))
        .collect();
    for app in &apps {
        let lb_arn = (app.kind == OwnerKind::LoadBalancer)
            .then(|| idx.hosts[&app.members[0]].owner_id.clone())
            .flatten();
        for (source, from) in &sources {
            let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
            let mut blocked: Vec<String> = Vec::new();
            let answer = match &lb_arn {
                Some(arn) => query::run_indexed(m, &idx, &request(from, arn)),
                None => {
                    let hosts: Vec<String> = app
                        .members
                        .iter()
                        .filter(|h| !idx.hosts[*h].virtual_node)
                        .cloned()
                        .collect();
                    query::run_to_hosts(m, &idx, &request(from, &app.name), hosts)
                }
            };
            if let Ok(a) = &answer {
                collect(m, &idx, &apps_by_host, &lb_app, a, &mut acc);
                for b in &a.blocked_by {
                    if !blocked.contains(&b.code.to_string()) {
                        blocked.push(b.code.to_string());
                    }
                }
            }
            if let Some(eff) = acc.remove(&app.id) {
                exposures.push(Exposure {
                    source: source.clone(),
                    target: app.id.clone(),
                    status: Status::Effective,
                    traffic: eff.traffic.lines(),
                    entries: sorted(eff.entries),
                    members_exposed: eff.hosts.len(),
                    blocked_by: Vec::new(),
                });
                continue;
            }
            if *source == Source::Onprem {
                continue;
            }
            // Latent: what the security groups alone would admit from that source.
            let space = if *source == Source::InternetV4 {
                &internet_v4
            } else {
                &internet_v6
            };
            let mut admitted = PacketSet::empty();
            let mut members = 0;
            for h in app.members.iter().map(|h| &idx.hosts[h]) {
                if !h.filtered_by_sgs {
                    continue;
                }
                let probe = PacketSet::from_box(PBox::FULL).restrict(Dim::Src, space);
                let (ok, _) =
                    filters::security_groups(m, &idx, &h.groups, SgDirection::Ingress, &probe, &[]);
                if !ok.is_empty() {
                    members += 1;
                    admitted = admitted.union(&ok);
                }
            }
            if members > 0 {
                exposures.push(Exposure {
                    source: source.clone(),
                    target: app.id.clone(),
                    status: Status::Latent,
                    traffic: query::traffic_of(&admitted),
                    entries: vec!["direct".into()],
                    members_exposed: members,
                    blocked_by: blocked,
                });
            }
        }
    }
    // Application to application (effective): one walk per (source application, subnet) towards
    // every other interface at once; load balancers without interfaces in the snapshot are asked
    // about one by one.
    let all_hosts: Vec<String> = idx
        .hosts
        .values()
        .filter(|h| !h.virtual_node && h.kind != OwnerKind::NatGateway)
        .map(|h| h.id.clone())
        .collect();
    let lbs_without_enis: Vec<(String, String)> = apps
        .iter()
        .filter(|a| {
            a.kind == OwnerKind::LoadBalancer && a.members.iter().any(|h| idx.hosts[h].virtual_node)
        })
        .filter_map(|a| {
            idx.hosts[&a.members[0]]
                .owner_id
                .clone()
                .map(|arn| (arn, a.id.clone()))
        })
        .collect();
    for src in &apps {
        // Clients only: gateways, endpoints, load balancers (their forwarding is shown as the
        // exposure it serves) and data stores do not open connections of their own.
        if matches!(
            src.kind,
            OwnerKind::LoadBalancer
                | OwnerKind::NatGateway
                | OwnerKind::TransitGateway
                | OwnerKind::GwlbEndpoint
                | OwnerKind::VpcEndpoint
                | OwnerKind::Rds
                | OwnerKind::ElastiCache
                | OwnerKind::Efs
                | OwnerKind::ResourceGateway
        ) {
            continue;
        }
        let mut reps: BTreeMap<&str, &str> = BTreeMap::new();
        for h in &src.members {
            let host = &idx.hosts[h];
            if !host.virtual_node {
                reps.entry(host.subnet_id.as_str()).or_insert(h.as_str());
            }
        }
        let dsts: Vec<String> = all_hosts
            .iter()
            .filter(|h| apps_by_host.get(*h) != Some(&src.id))
            .cloned()
            .collect();
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        for from in reps.values() {
            if let Ok(a) =
                query::run_to_hosts(m, &idx, &request(from, "every interface"), dsts.clone())
            {
                collect(m, &idx, &apps_by_host, &lb_app, &a, &mut acc);
            }
            for (arn, _) in &lbs_without_enis {
                if let Ok(a) = query::run_indexed(m, &idx, &request(from, arn)) {
                    collect(m, &idx, &apps_by_host, &lb_app, &a, &mut acc);
                }
            }
        }
        for (dst, eff) in acc {
            if dst == src.id {
                continue;
            }
            exposures.push(Exposure {
                source: Source::Application(src.id.clone()),
                target: dst,
                status: Status::Effective,
                traffic: eff.traffic.lines(),
                entries: sorted(eff.entries),
                members_exposed: eff.hosts.len(),
                blocked_by: Vec::new(),
            });
        }
    }
    exposures.sort_by_key(|e| {
        (
            e.status,
            severity_rank(&e.source),
            risk_rank(e),
            e.target.clone(),
        )
    });
    Report {
        applications: apps,
        exposures,
        assumptions: crate::inventory::assumptions(m),
    }
}

/// Admin and data-store ports, as `exposure` ranks exposures (and the findings flag them).
pub const SENSITIVE_PORTS: &[u16] = &[
    22, 3389, 5432, 3306, 1433, 1521, 6379, 27017, 9200, 11211, 5439, 9042, 5984, 2375, 2379,
];

/// Most serious first: all traffic or sensitive ports, then other direct exposure, then
/// exposure through a load balancer.
fn risk_rank(e: &Exposure) -> u8 {
    let sensitive = e.traffic.iter().any(|t| {
        t.protocol == "all"
            || t.ports == "all ports"
            || t.ports.split(", ").any(|p| {
                let (a, b) = p.split_once('-').unwrap_or((p, p));
                match (a.parse::<u16>(), b.parse::<u16>()) {
                    (Ok(a), Ok(b)) => SENSITIVE_PORTS.iter().any(|s| (a..=b).contains(s)),
                    _ => false,
                }
            })
    });
    if sensitive {
        0
    } else if e.entries.iter().all(|x| x == "direct") {
        1
    } else {
        2
    }
}

fn severity_rank(s: &Source) -> u8 {
    match s {
        Source::InternetV4 | Source::InternetV6 => 0,
        Source::Onprem => 1,
        Source::Application(_) => 2,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
