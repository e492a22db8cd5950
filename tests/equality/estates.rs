//! Models for the equality tests.
//!
//! * [`random_model`]: a random small estate of the brute-force generator
//!   (`tests/brute_force/estate.rs`: VPCs, subnets, route tables with IGW and
//!   peering routes and blackholes, NACLs, security groups with CIDR and group
//!   rules, ENIs with secondary and public addresses, peerings), loaded through
//!   the snapshot loader, then extended in the model with what that generator
//!   does not make: interfaces that share a subnet and a group set (so that
//!   classes have several members), owners of other kinds (RDS, Lambda, ECS,
//!   interface endpoints, ...), IPv6, load balancers (ALB/NLB, internal or
//!   internet-facing, with or without ENIs, listeners, target groups of
//!   instance and IP targets with health states and client-IP preservation),
//!   NAT gateways, a VPN gateway and a transit gateway.
//! * [`thinned_s`]: the generated `s` estate with fewer interfaces, for a
//!   grouped-versus-ungrouped check that fits the debug test budget.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use exposure::engine::index::Index;
use exposure::model::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The brute-force generator, compiled a second time here: `brute_force` keeps it private.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../brute_force/estate.rs"]
mod bf;

use bf::Rng;

/// Loads generated snapshot files (relative path, bytes) as the CLI would.
pub fn load_generated(files: Vec<(String, Vec<u8>)>) -> Model {
    let files: Vec<exposure::sources::SnapshotFile> = files
        .into_iter()
        .map(|(rel, contents)| exposure::sources::SnapshotFile {
            components: rel.split('/').map(str::to_string).collect(),
            display: rel,
            contents,
        })
        .collect();
    exposure::sources::load_files("generated", &files)
        .expect("the generated estate loads")
        .model
}

/// The generated `s` estate (seed 1), loaded.
pub fn generated_s() -> Model {
    load_generated(exposure::generate::generate(exposure::generate::Size::S, 1))
}

/// A stable small hash (FNV-1a) for deterministic sampling.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The generated `s` estate with fewer interfaces: every load-balancer, NAT gateway and
/// transit-gateway interface stays; of the other classes (an application's members in one
/// subnet) about `percent` % stay, chosen by a hash of the class, each with at most
/// `max_members` members. Everything else (VPCs, routes, groups, load balancers, target
/// groups) is kept, so the estate keeps its transit gateways, peerings, prefix lists and
/// listeners; targets whose interface is gone are skipped by the engine.
pub fn thinned_s(percent: u64, max_members: usize) -> Model {
    let mut m = generated_s();
    let idx = Index::new(&m);
    let apps = exposure::analysis::applications(&m, &idx);
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for app in &apps {
        let mut by_subnet: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for h in &app.members {
            by_subnet
                .entry(idx.hosts[h].subnet_id.as_str())
                .or_default()
                .push(h);
        }
        let infrastructure = matches!(
            app.kind,
            OwnerKind::LoadBalancer | OwnerKind::NatGateway | OwnerKind::TransitGateway
        );
        for (subnet, hosts) in by_subnet {
            let sampled = fnv(&format!("{}|{subnet}", app.id)) % 100 < percent;
            if infrastructure {
                keep.extend(hosts.into_iter().cloned());
            } else if sampled {
                keep.extend(hosts.into_iter().take(max_members).cloned());
            }
        }
    }
    m.network_interfaces.retain(|id, _| keep.contains(id));
    for i in m.instances.values_mut() {
        i.eni_ids.retain(|e| keep.contains(e));
    }
    m.instances.retain(|_, i| !i.eni_ids.is_empty());
    m
}

/// A random small model: the brute-force estate of `seed`, extended (see the module doc).
pub fn random_model(seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let estate = bf::Estate::generate(&mut rng);
    let mut m = exposure::sources::load_files("equality", &estate.snapshot_files())
        .unwrap_or_else(|e| panic!("seed {seed:#x}: the brute-force estate does not load: {e}"))
        .model;
    let mut g = Extend {
        m: &mut m,
        rng: Rng::new(seed ^ 0x0E0A_1175_EED5_0001),
        counter: 0,
        next_public: 0,
        next_host: BTreeMap::new(),
    };
    g.instances();
    g.ipv6();
    g.clones();
    g.kinds();
    g.load_balancers();
    g.nat_gateways();
    g.vpn();
    g.transit_gateway();
    m
}

fn loc() -> Location {
    Location {
        account: Some(bf::ACCOUNT.into()),
        region: Some(bf::REGION.into()),
    }
}

fn rule(protocol: Protocol, ports: PortSpec, peer: SgPeer) -> SgRule {
    SgRule {
        id: None,
        protocol,
        ports,
        peer,
        description: None,
    }
}

fn tcp(a: u16, b: u16) -> (Protocol, PortSpec) {
    (Protocol::Number(Protocol::TCP), PortSpec::Range(a, b))
}

fn cidr(s: &str) -> IpNet {
    s.parse().expect("a CIDR")
}

fn group_ref(group_id: &str) -> SgPeer {
    SgPeer::Group {
        group_id: group_id.to_string(),
        owner: None,
        vpc_id: None,
        peering_id: None,
        peering_inactive: false,
    }
}

fn static_route(destination: IpNet, target: RouteTarget) -> Route {
    Route {
        destination: RouteDestination::Cidr(destination),
        target,
        active: true,
        origin: RouteOrigin::Static,
    }
}

/// Adds a route unless the table already has one for that destination.
fn add_route(rt: &mut RouteTable, r: Route) {
    if !rt.routes.iter().any(|x| x.destination == r.destination) {
        rt.routes.push(r);
    }
}

/// Extends a loaded brute-force model.
struct Extend<'a> {
    m: &'a mut Model,
    rng: Rng,
    counter: usize,
    next_public: usize,
    /// Next host number per subnet for new IPv4 addresses (`.20` upwards; the brute-force
    /// generator uses `.10`–`.12` and `.100`–`.102`).
    next_host: BTreeMap<String, u8>,
}

impl Extend<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-0e{:015x}", self.counter)
    }

    /// A public IPv4 address the brute-force generator does not use (it takes `.1`–`.100`).
    fn public_ip(&mut self) -> Ipv4Addr {
        let n = self.next_public;
        self.next_public += 1;
        let (c, d) = if n < 150 {
            (100, 101 + n)
        } else {
            (113, 101 + (n - 150) % 150)
        };
        let b = if c == 100 { 51 } else { 0 };
        let a = if c == 100 { 198 } else { 203 };
        Ipv4Addr::new(a, b, c, d as u8)
    }

    /// A fresh private IPv4 address in a subnet.
    fn private_ip(&mut self, subnet: &str) -> Option<Ipv4Addr> {
        let net = self.m.subnets.get(subnet)?.cidr_v4?;
        let n = self.next_host.entry(subnet.to_string()).or_insert(20);
        if *n >= 99 {
            return None;
        }
        let o = net.network().octets();
        let ip = Ipv4Addr::new(o[0], o[1], o[2], *n);
        *n += 1;
        Some(ip)
    }

    /// A fresh IPv6 address in a subnet, when it has an IPv6 CIDR.
    fn ipv6_addr(&mut self, subnet: &str, host: u16) -> Option<Ipv6Addr> {
        let net = self.m.subnets.get(subnet)?.cidrs_v6.first().copied()?;
        let s = net.network().segments();
        Some(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, host))
    }

    fn vpc_groups(&self, vpc: &str) -> Vec<String> {
        self.m
            .security_groups
            .values()
            .filter(|g| g.vpc_id == vpc)
            .map(|g| g.id.clone())
            .collect()
    }

    fn vpc_subnets(&self, vpc: &str) -> Vec<String> {
        self.m
            .subnets
            .values()
            .filter(|s| s.vpc_id == vpc)
            .map(|s| s.id.clone())
            .collect()
    }

    fn vpc_tables(&self, vpc: &str) -> Vec<String> {
        self.m
            .route_tables
            .values()
            .filter(|r| r.vpc_id == vpc)
            .map(|r| r.id.clone())
            .collect()
    }

    /// Rules admitting an office range (one of `from`) into about half the groups of `vpc`.
    fn office_rules(&mut self, vpc: &str, from: &[&'static str]) {
        for gid in self.vpc_groups(vpc) {
            if !self.rng.chance(0.5) {
                continue;
            }
            let (p, ports) =
                *self
                    .rng
                    .pick(&[tcp(22, 22), tcp(0, 65535), (Protocol::All, PortSpec::All)]);
            let from = *self.rng.pick(from);
            self.m
                .security_groups
                .get_mut(&gid)
                .unwrap()
                .ingress
                .push(rule(p, ports, SgPeer::Cidr(cidr(from))));
        }
    }

    fn attached_igw(&self, vpc: &str) -> Option<String> {
        self.m
            .internet_gateways
            .values()
            .find(|g| g.vpc_ids.iter().any(|v| v == vpc))
            .map(|g| g.id.clone())
    }

    /// Instance records for the brute-force ENIs (instance targets need them).
    fn instances(&mut self) {
        for e in self.m.network_interfaces.values() {
            if e.owner.kind != OwnerKind::Ec2Instance {
                continue;
            }
            let Some(iid) = e.owner.id.clone() else {
                continue;
            };
            self.m.instances.insert(
                iid.clone(),
                Instance {
                    id: iid,
                    location: loc(),
                    subnet_id: Some(e.subnet_id.clone()),
                    vpc_id: Some(e.vpc_id.clone()),
                    eni_ids: vec![e.id.clone()],
                    instance_type: None,
                    state: None,
                    tags: Tags::new(),
                },
            );
        }
        self.m.present_kinds.insert(ResourceKind::Instance);
    }

    /// IPv6 on some VPCs: CIDRs, local and default routes, NACL entries, addresses and rules.
    fn ipv6(&mut self) {
        let vpcs: Vec<String> = self.m.vpcs.keys().cloned().collect();
        for (vi, vpc) in vpcs.iter().enumerate() {
            if !self.rng.chance(0.3) {
                continue;
            }
            let vnet = Ipv6Net::new(Ipv6Addr::new(0x2600, 0x1f18, vi as u16, 0, 0, 0, 0, 0), 56)
                .expect("prefix");
            self.m.vpcs.get_mut(vpc).unwrap().cidrs_v6.push(vnet);
            for (si, sid) in self.vpc_subnets(vpc).iter().enumerate() {
                if self.rng.chance(0.85) {
                    let snet = Ipv6Net::new(
                        Ipv6Addr::new(0x2600, 0x1f18, vi as u16, si as u16 + 1, 0, 0, 0, 0),
                        64,
                    )
                    .expect("prefix");
                    self.m.subnets.get_mut(sid).unwrap().cidrs_v6.push(snet);
                }
            }
            let igw = self.attached_igw(vpc);
            let eigw = if self.rng.chance(0.2) {
                let id = self.id("eigw");
                self.m.egress_only_internet_gateways.insert(
                    id.clone(),
                    EgressOnlyInternetGateway {
                        id: id.clone(),
                        location: loc(),
                        vpc_ids: vec![vpc.clone()],
                        tags: Tags::new(),
                    },
                );
                Some(id)
            } else {
                None
            };
            let tables = self.vpc_tables(vpc);
            for t in tables {
                let default = match (&igw, &eigw) {
                    (_, Some(e)) if self.rng.chance(0.4) => {
                        Some(RouteTarget::EgressOnlyInternetGateway(e.clone()))
                    }
                    (Some(g), _) if self.rng.chance(0.75) => {
                        Some(RouteTarget::InternetGateway(g.clone()))
                    }
                    _ => None,
                };
                let rt = self.m.route_tables.get_mut(&t).unwrap();
                rt.routes.push(Route {
                    destination: RouteDestination::Cidr(IpNet::V6(vnet)),
                    target: RouteTarget::Local,
                    active: true,
                    origin: RouteOrigin::Local,
                });
                if let Some(target) = default {
                    add_route(rt, static_route(cidr("::/0"), target));
                }
            }
            // NACLs: an IPv6 allow-all next to an IPv4 allow-all, sometimes.
            let acls: Vec<String> = self
                .m
                .network_acls
                .values()
                .filter(|a| &a.vpc_id == vpc)
                .map(|a| a.id.clone())
                .collect();
            for a in acls {
                if !self.rng.chance(0.7) {
                    continue;
                }
                let acl = self.m.network_acls.get_mut(&a).unwrap();
                for egress in [false, true] {
                    let number = 101;
                    if acl
                        .entries
                        .iter()
                        .any(|e| e.egress == egress && e.rule_number == number)
                    {
                        continue;
                    }
                    acl.entries.push(NaclEntry {
                        rule_number: number,
                        egress,
                        allow: true,
                        protocol: Protocol::All,
                        ports: PortSpec::All,
                        cidr: cidr("::/0"),
                    });
                }
                acl.entries.sort_by_key(|e| (e.egress, e.rule_number));
            }
            // Addresses.
            let enis: Vec<String> = self
                .m
                .network_interfaces
                .values()
                .filter(|e| &e.vpc_id == vpc)
                .map(|e| e.id.clone())
                .collect();
            for (k, eni) in enis.iter().enumerate() {
                let subnet = self.m.network_interfaces[eni].subnet_id.clone();
                // A load balancer's node has an IPv6 address only when the load balancer is
                // dualstack (the brute-force load balancers are IPv4 only).
                let lb_node = self.m.network_interfaces[eni].owner.kind == OwnerKind::LoadBalancer;
                if self.rng.chance(0.6) && !lb_node {
                    if let Some(a) = self.ipv6_addr(&subnet, 0x10 + k as u16) {
                        self.m.network_interfaces.get_mut(eni).unwrap().ipv6.push(a);
                    }
                }
            }
            // Rules.
            for gid in self.vpc_groups(vpc) {
                let inbound = self.rng.chance(0.35).then(|| {
                    let (p, ports) = *self.rng.pick(&[
                        tcp(443, 443),
                        tcp(22, 22),
                        (Protocol::All, PortSpec::All),
                        (Protocol::Number(Protocol::UDP), PortSpec::Range(53, 53)),
                    ]);
                    let peer = *self.rng.pick(&["::/0", "2600:1f18::/32", "2001:db8::/32"]);
                    rule(p, ports, SgPeer::Cidr(cidr(peer)))
                });
                let outbound = self.rng.chance(0.7);
                let g = self.m.security_groups.get_mut(&gid).unwrap();
                if let Some(r) = inbound {
                    g.ingress.push(r);
                }
                let all_out = g.egress.iter().any(|r| {
                    r.protocol == Protocol::All && r.peer == SgPeer::Cidr(cidr("0.0.0.0/0"))
                });
                if all_out && outbound {
                    g.egress.push(rule(
                        Protocol::All,
                        PortSpec::All,
                        SgPeer::Cidr(cidr("::/0")),
                    ));
                }
            }
        }
    }

    /// More members per class: copies of interfaces in the same subnet (sometimes in another
    /// subnet of the VPC: the same application in two classes), with the same groups.
    fn clones(&mut self) {
        let originals: Vec<NetworkInterface> =
            self.m.network_interfaces.values().cloned().collect();
        for e in originals {
            if !self.rng.chance(0.4) {
                continue;
            }
            for _ in 0..self.rng.range(1, 2) {
                let subnet = if self.rng.chance(0.25) {
                    let subs = self.vpc_subnets(&e.vpc_id);
                    self.rng.pick(&subs).clone()
                } else {
                    e.subnet_id.clone()
                };
                let Some(ip) = self.private_ip(&subnet) else {
                    continue;
                };
                let public = self.rng.chance(0.4).then(|| self.public_ip());
                let id = self.id("eni");
                let iid = self.id("i");
                let host = 0x100 + self.counter as u16;
                let ipv6 = if !e.ipv6.is_empty() || self.rng.chance(0.2) {
                    self.ipv6_addr(&subnet, host).into_iter().collect()
                } else {
                    Vec::new()
                };
                let sub = &self.m.subnets[&subnet];
                let copy = NetworkInterface {
                    id: id.clone(),
                    subnet_id: subnet.clone(),
                    vpc_id: e.vpc_id.clone(),
                    location: loc(),
                    az: sub.az.clone(),
                    private_ips: vec![PrivateIp {
                        address: ip,
                        primary: true,
                        public,
                        elastic: false,
                    }],
                    ipv6,
                    prefixes: Vec::new(),
                    groups: e.groups.clone(),
                    source_dest_check: true,
                    owner: EniOwner {
                        kind: OwnerKind::Ec2Instance,
                        id: Some(iid.clone()),
                        name: iid.clone(),
                    },
                    device_index: Some(0),
                    interface_type: "interface".into(),
                    description: String::new(),
                    tags: Tags::new(),
                };
                self.m.network_interfaces.insert(id.clone(), copy);
                self.m.instances.insert(
                    iid.clone(),
                    Instance {
                        id: iid,
                        location: loc(),
                        subnet_id: Some(subnet),
                        vpc_id: Some(e.vpc_id.clone()),
                        eni_ids: vec![id],
                        instance_type: None,
                        state: None,
                        tags: Tags::new(),
                    },
                );
            }
        }
    }

    /// Other owners: some applications (same VPC and group set) become databases, Lambda
    /// functions, ECS tasks, interface endpoints, caches, file systems or EKS.
    fn kinds(&mut self) {
        let mut keys: BTreeMap<(String, Vec<String>), Vec<String>> = BTreeMap::new();
        for e in self.m.network_interfaces.values() {
            let mut g = e.groups.clone();
            g.sort();
            keys.entry((e.vpc_id.clone(), g))
                .or_default()
                .push(e.id.clone());
        }
        for (_, enis) in keys {
            if !self.rng.chance(0.3) {
                continue;
            }
            let kind = *self.rng.pick(&[
                OwnerKind::Rds,
                OwnerKind::Rds,
                OwnerKind::Lambda,
                OwnerKind::EcsTask,
                OwnerKind::VpcEndpoint,
                OwnerKind::ElastiCache,
                OwnerKind::Efs,
                OwnerKind::Eks,
                OwnerKind::OtherService,
                OwnerKind::Unattached,
            ]);
            let owner = match kind {
                OwnerKind::Rds => Some(self.id("db")),
                OwnerKind::VpcEndpoint => Some(self.id("vpce")),
                _ => None,
            };
            for eni in enis {
                let e = self.m.network_interfaces.get_mut(&eni).unwrap();
                if let Some(iid) = e.owner.id.take() {
                    self.m.instances.remove(&iid);
                }
                e.owner = EniOwner {
                    kind,
                    id: owner.clone(),
                    name: owner.clone().unwrap_or_else(|| format!("{kind} {eni}")),
                };
                e.device_index = None;
            }
        }
    }

    /// Zero to two load balancers.
    fn load_balancers(&mut self) {
        let n = self.rng.weighted(&[(0usize, 3), (1, 5), (2, 2)]);
        for k in 0..n {
            self.load_balancer(k);
        }
        if !self.m.load_balancers.is_empty() {
            self.m.present_kinds.insert(ResourceKind::LoadBalancer);
            self.m.present_kinds.insert(ResourceKind::Listener);
            self.m.present_kinds.insert(ResourceKind::TargetGroup);
        }
    }

    fn load_balancer(&mut self, k: usize) {
        let vpcs: Vec<String> = self.m.vpcs.keys().cloned().collect();
        let vpc = self.rng.pick(&vpcs).clone();
        let mut subnets = self.vpc_subnets(&vpc);
        if subnets.is_empty() {
            return;
        }
        if subnets.len() > 1 && self.rng.chance(0.5) {
            let i = self.rng.below(subnets.len());
            subnets.remove(i);
        }
        let kind = if self.rng.chance(0.5) {
            LbKind::Application
        } else {
            LbKind::Network
        };
        let internet_facing = self.rng.chance(0.55);
        let name = format!("lb{k}");
        let tag = match kind {
            LbKind::Application => "app",
            _ => "net",
        };
        let arn = format!(
            "arn:aws:elasticloadbalancing:{}:{}:loadbalancer/{tag}/{name}/0e{k:014x}",
            bf::REGION,
            bf::ACCOUNT
        );
        // Security groups: a group of its own, an existing one, or none (NLB only).
        let groups: Vec<String> = match (kind, self.rng.below(3)) {
            (LbKind::Network, 0) => Vec::new(),
            (_, 1) => {
                let existing = self.vpc_groups(&vpc);
                vec![self.rng.pick(&existing).clone()]
            }
            _ => {
                let id = self.id("sg");
                let from = *self
                    .rng
                    .pick(&["0.0.0.0/0", "0.0.0.0/0", "10.0.0.0/8", "8.8.8.0/24"]);
                let mut ingress = vec![rule(
                    Protocol::Number(Protocol::TCP),
                    PortSpec::Range(80, 443),
                    SgPeer::Cidr(cidr(from)),
                )];
                if self.rng.chance(0.3) {
                    ingress.push(rule(
                        Protocol::Number(Protocol::UDP),
                        PortSpec::Range(53, 53),
                        SgPeer::Cidr(cidr("0.0.0.0/0")),
                    ));
                }
                let egress = if self.rng.chance(0.8) {
                    vec![rule(
                        Protocol::All,
                        PortSpec::All,
                        SgPeer::Cidr(cidr("0.0.0.0/0")),
                    )]
                } else {
                    let vcidr = self.m.vpcs[&vpc].cidrs_v4[0];
                    vec![rule(
                        Protocol::Number(Protocol::TCP),
                        PortSpec::Range(8080, 8080),
                        SgPeer::Cidr(IpNet::V4(vcidr)),
                    )]
                };
                self.m.security_groups.insert(
                    id.clone(),
                    SecurityGroup {
                        id: id.clone(),
                        name: format!("{name}-sg"),
                        description: String::new(),
                        vpc_id: vpc.clone(),
                        location: loc(),
                        ingress,
                        egress,
                        tags: Tags::new(),
                    },
                );
                vec![id]
            }
        };
        // Nodes: ENIs in most subnets, sometimes none (nodes known only by their subnet).
        let with_enis = self.rng.chance(0.7);
        for s in &subnets {
            if !with_enis && self.rng.chance(0.85) {
                continue;
            }
            let Some(ip) = self.private_ip(s) else {
                continue;
            };
            let public = internet_facing.then(|| self.public_ip());
            let id = self.id("eni");
            let az = self.m.subnets[s].az.clone();
            self.m.network_interfaces.insert(
                id.clone(),
                NetworkInterface {
                    id: id.clone(),
                    subnet_id: s.clone(),
                    vpc_id: vpc.clone(),
                    location: loc(),
                    az,
                    private_ips: vec![PrivateIp {
                        address: ip,
                        primary: true,
                        public,
                        elastic: false,
                    }],
                    ipv6: Vec::new(),
                    prefixes: Vec::new(),
                    groups: groups.clone(),
                    source_dest_check: true,
                    owner: EniOwner {
                        kind: OwnerKind::LoadBalancer,
                        id: Some(arn.clone()),
                        name: name.clone(),
                    },
                    device_index: Some(1),
                    interface_type: "interface".into(),
                    description: format!("ELB {tag}/{name}/0e{k:014x}"),
                    tags: Tags::new(),
                },
            );
        }
        let mut attributes = BTreeMap::new();
        if kind == LbKind::Network && self.rng.chance(0.5) {
            attributes.insert(
                "load_balancing.cross_zone.enabled".to_string(),
                self.rng.pick(&["true", "false"]).to_string(),
            );
        }
        self.m.load_balancers.insert(
            arn.clone(),
            LoadBalancer {
                arn: arn.clone(),
                name: name.clone(),
                dns_name: None,
                location: loc(),
                kind,
                internet_facing,
                vpc_id: vpc.clone(),
                subnet_ids: subnets.clone(),
                security_groups: groups.clone(),
                dualstack: false,
                without_public_ipv4: false,
                attributes,
                node_addresses: Default::default(),
                unsettled: None,
            },
        );
        // Target groups and listeners.
        for t in 0..self.rng.range(1, 2) {
            let tg_arn = format!(
                "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{name}-tg{t}/0e{k:06x}{t:08x}",
                bf::REGION,
                bf::ACCOUNT
            );
            let target_type = if self.rng.chance(0.55) {
                TargetType::Instance
            } else {
                TargetType::Ip
            };
            let port = *self.rng.pick(&[80u16, 8080, 443, 3306]);
            let (listener_proto, tg_proto, listener_port) = match kind {
                LbKind::Application => {
                    if self.rng.chance(0.5) {
                        ("HTTP", "HTTP", 80)
                    } else {
                        ("HTTPS", "HTTP", 443)
                    }
                }
                _ => *self.rng.pick(&[
                    ("TCP", "TCP", 80u16),
                    ("TCP", "TCP", 443),
                    ("TLS", "TCP", 443),
                    ("UDP", "UDP", 53),
                    ("TCP_UDP", "TCP_UDP", 53),
                    ("TCP", "TCP", 3306),
                ]),
            };
            // Targets: interfaces of the VPC (IP targets: sometimes of a peered VPC too).
            let candidates: Vec<NetworkInterface> = self
                .m
                .network_interfaces
                .values()
                .filter(|e| match target_type {
                    TargetType::Instance => {
                        e.vpc_id == vpc
                            && e.owner.kind == OwnerKind::Ec2Instance
                            && e.owner.id.is_some()
                    }
                    _ => {
                        e.owner.kind != OwnerKind::LoadBalancer
                            && (e.vpc_id == vpc
                                || self.m.peering_between(&vpc, &e.vpc_id).is_some())
                    }
                })
                .cloned()
                .collect();
            let mut targets = Vec::new();
            for _ in 0..self.rng.range(1, 3) {
                if candidates.is_empty() {
                    break;
                }
                let e = self.rng.pick(&candidates).clone();
                let id = match target_type {
                    TargetType::Instance => e.owner.id.clone().unwrap(),
                    _ => {
                        let ips: Vec<Ipv4Addr> = e.private_ips.iter().map(|p| p.address).collect();
                        self.rng.pick(&ips).to_string()
                    }
                };
                if targets.iter().any(|x: &Target| x.id == id) {
                    continue;
                }
                let health = self.rng.weighted(&[
                    (Some("healthy"), 12),
                    (Some("unhealthy"), 2),
                    (Some("draining"), 1),
                    (Some("unused"), 1),
                    (None, 2),
                ]);
                targets.push(Target {
                    id,
                    port: self.rng.chance(0.2).then_some(8080),
                    health: health.map(str::to_string),
                    availability_zone: None,
                });
                // The target admits the load balancer, by group or by the VPC's CIDR, usually.
                if let Some(gid) = e.groups.first() {
                    let peer = match groups.first() {
                        Some(lbg) if self.rng.chance(0.6) => Some(group_ref(lbg)),
                        _ if self.rng.chance(0.5) => {
                            Some(SgPeer::Cidr(IpNet::V4(self.m.vpcs[&vpc].cidrs_v4[0])))
                        }
                        _ => None,
                    };
                    if let Some(peer) = peer {
                        let g = self.m.security_groups.get_mut(gid).unwrap();
                        g.ingress.push(rule(
                            Protocol::Number(Protocol::TCP),
                            PortSpec::Range(port, port),
                            peer,
                        ));
                    }
                }
            }
            let mut tg_attributes = BTreeMap::new();
            if kind == LbKind::Network && self.rng.chance(0.5) {
                tg_attributes.insert(
                    "preserve_client_ip.enabled".to_string(),
                    self.rng.pick(&["true", "false"]).to_string(),
                );
            }
            self.m.target_groups.insert(
                tg_arn.clone(),
                TargetGroup {
                    arn: tg_arn.clone(),
                    name: format!("{name}-tg{t}"),
                    location: loc(),
                    protocol: tg_proto.into(),
                    port: Some(port),
                    target_type,
                    vpc_id: Some(vpc.clone()),
                    health_check_port: None,
                    ipv6: false,
                    lb_arns: vec![arn.clone()],
                    targets,
                    attributes: tg_attributes,
                },
            );
            let action = self.rng.weighted(&[
                (ListenerAction::Forward(vec![tg_arn.clone()]), 9),
                (ListenerAction::Redirect, 1),
                (ListenerAction::FixedResponse, 1),
            ]);
            let l_arn = format!(
                "arn:aws:elasticloadbalancing:{}:{}:listener/{tag}/{name}/0e{k:014x}/{t:016x}",
                bf::REGION,
                bf::ACCOUNT
            );
            self.m.listeners.insert(
                l_arn.clone(),
                Listener {
                    arn: l_arn,
                    lb_arn: arn.clone(),
                    protocol: listener_proto.into(),
                    port: Some(listener_port + t as u16),
                    actions: vec![action],
                    rules: Vec::new(),
                },
            );
        }
    }

    /// A NAT gateway in a subnet of a VPC with an internet gateway; another route table of
    /// the VPC sends its default route to it.
    fn nat_gateways(&mut self) {
        if !self.rng.chance(0.35) {
            return;
        }
        let vpcs: Vec<String> = self
            .m
            .vpcs
            .keys()
            .filter(|v| self.attached_igw(v).is_some())
            .cloned()
            .collect();
        if vpcs.is_empty() {
            return;
        }
        let vpc = self.rng.pick(&vpcs).clone();
        let subnets = self.vpc_subnets(&vpc);
        let subnet = self.rng.pick(&subnets).clone();
        let Some(ip) = self.private_ip(&subnet) else {
            return;
        };
        let public = self.rng.chance(0.85);
        let eip = public.then(|| self.public_ip());
        let nat = self.id("nat");
        let eni = self.id("eni");
        let az = self.m.subnets[&subnet].az.clone();
        self.m.network_interfaces.insert(
            eni.clone(),
            NetworkInterface {
                id: eni.clone(),
                subnet_id: subnet.clone(),
                vpc_id: vpc.clone(),
                location: loc(),
                az,
                private_ips: vec![PrivateIp {
                    address: ip,
                    primary: true,
                    public: eip,
                    elastic: eip.is_some(),
                }],
                ipv6: Vec::new(),
                prefixes: Vec::new(),
                groups: Vec::new(),
                source_dest_check: false,
                owner: EniOwner {
                    kind: OwnerKind::NatGateway,
                    id: Some(nat.clone()),
                    name: nat.clone(),
                },
                device_index: Some(1),
                interface_type: "nat_gateway".into(),
                description: format!("Interface for NAT Gateway {nat}"),
                tags: Tags::new(),
            },
        );
        self.m.nat_gateways.insert(
            nat.clone(),
            NatGateway {
                id: nat.clone(),
                location: loc(),
                subnet_id: subnet.clone(),
                vpc_id: vpc.clone(),
                public,
                eni_ids: vec![eni],
                private_ips: vec![ip],
                public_ips: eip.into_iter().collect(),
                pairs: eip.map(|e| (ip, e)).into_iter().collect(),
                unsettled: None,
                tags: Tags::new(),
            },
        );
        self.m.present_kinds.insert(ResourceKind::NatGateway);
        let own = self.m.subnet_route_table(&subnet).map(|r| r.id.clone());
        let others: Vec<String> = self
            .m
            .route_tables
            .values()
            .filter(|r| r.vpc_id == vpc && Some(&r.id) != own.as_ref())
            .map(|r| r.id.clone())
            .collect();
        for t in others {
            if !self.rng.chance(0.7) {
                continue;
            }
            let rt = self.m.route_tables.get_mut(&t).unwrap();
            rt.routes
                .retain(|r| r.destination != RouteDestination::Cidr(cidr("0.0.0.0/0")));
            rt.routes.push(static_route(
                cidr("0.0.0.0/0"),
                RouteTarget::NatGateway(nat.clone()),
            ));
        }
    }

    /// A VPN gateway on one VPC, with static or dynamic routing, routes to 192.168.0.0/16
    /// and rules admitting on-premises.
    fn vpn(&mut self) {
        if !self.rng.chance(0.3) {
            return;
        }
        let vpcs: Vec<String> = self.m.vpcs.keys().cloned().collect();
        let vpc = self.rng.pick(&vpcs).clone();
        let vgw = self.id("vgw");
        self.m.vpn_gateways.insert(
            vgw.clone(),
            VpnGateway {
                id: vgw.clone(),
                location: loc(),
                vpc_ids: vec![vpc.clone()],
                tags: Tags::new(),
            },
        );
        let static_only = self.rng.chance(0.5);
        let vpn = self.id("vpn");
        self.m.vpn_connections.insert(
            vpn.clone(),
            VpnConnection {
                id: vpn,
                location: loc(),
                vpn_gateway_id: Some(vgw.clone()),
                transit_gateway_id: None,
                static_routes_only: static_only,
                static_routes: if static_only || self.rng.chance(0.3) {
                    vec![cidr("192.168.0.0/16")]
                } else {
                    Vec::new()
                },
                local_net: cidr("0.0.0.0/0"),
                remote_net: cidr("0.0.0.0/0"),
                tunnels_down: false,
            },
        );
        self.m.present_kinds.insert(ResourceKind::VpnGateway);
        self.m.present_kinds.insert(ResourceKind::VpnConnection);
        let tables = self.vpc_tables(&vpc);
        for t in tables {
            if !self.rng.chance(0.7) {
                continue;
            }
            let dest = *self
                .rng
                .pick(&["192.168.0.0/16", "192.168.0.0/16", "0.0.0.0/0"]);
            let propagated = self.rng.chance(0.3);
            let rt = self.m.route_tables.get_mut(&t).unwrap();
            add_route(
                rt,
                Route {
                    destination: RouteDestination::Cidr(cidr(dest)),
                    target: RouteTarget::VpnGateway(vgw.clone()),
                    active: true,
                    origin: if propagated {
                        RouteOrigin::Propagated
                    } else {
                        RouteOrigin::Static
                    },
                },
            );
            if propagated {
                rt.propagating_vgws.push(vgw.clone());
            }
        }
        self.office_rules(&vpc, &["192.168.0.0/16", "192.168.1.0/24", "10.0.0.0/8"]);
    }

    /// A transit gateway between two VPCs: attachments in one subnet per availability zone
    /// (sometimes missing a zone), one TGW route table, VPC routes to it, and group
    /// references across it (which apply inbound when referencing is on).
    fn transit_gateway(&mut self) {
        if self.m.vpcs.len() < 2 || !self.rng.chance(0.3) {
            return;
        }
        let tgw = self.id("tgw");
        let referencing = self.rng.chance(0.5);
        self.m.transit_gateways.insert(
            tgw.clone(),
            TransitGateway {
                id: tgw.clone(),
                location: loc(),
                sg_referencing: referencing,
                tags: Tags::new(),
            },
        );
        let rtb = self.id("tgw-rtb");
        let vpcs: Vec<String> = self.m.vpcs.keys().cloned().collect();
        let mut routes = Vec::new();
        let mut attached = Vec::new();
        for vpc in &vpcs {
            if attached.len() >= 2 && !self.rng.chance(0.5) {
                continue;
            }
            let att = self.id("tgw-attach");
            let mut by_az: BTreeMap<Option<String>, String> = BTreeMap::new();
            for s in self.vpc_subnets(vpc) {
                let az = self.m.subnets[&s].az.clone();
                by_az.entry(az).or_insert(s);
            }
            let mut subnet_ids: Vec<String> = by_az.into_values().collect();
            if subnet_ids.len() > 1 && self.rng.chance(0.2) {
                subnet_ids.pop();
            }
            self.m.tgw_attachments.insert(
                tgw_attachment_key(&tgw, &att),
                TgwAttachment {
                    id: att.clone(),
                    tgw_id: tgw.clone(),
                    location: loc(),
                    kind: TgwAttachmentKind::Vpc,
                    resource_id: vpc.clone(),
                    subnet_ids,
                    route_table_id: Some(rtb.clone()),
                    sg_referencing: referencing && self.rng.chance(0.8),
                    appliance_mode: self.rng.chance(0.1),
                    ipv6_support: None,
                    unsettled: None,
                    unknown: None,
                    tags: Tags::new(),
                },
            );
            for c in &self.m.vpcs[vpc].cidrs_v4 {
                routes.push(TgwRoute {
                    destination: RouteDestination::Cidr(IpNet::V4(*c)),
                    attachment_ids: vec![att.clone()],
                    blackhole: false,
                    pending: false,
                    propagated: true,
                });
            }
            // Sometimes one subnet of the VPC is dropped by a more specific blackhole route:
            // the replies to its addresses die there too, while the rest of the VPC's
            // addresses still get theirs (the return check must cut by source address).
            if self.rng.chance(0.3) {
                let subnets = self.vpc_subnets(vpc);
                if !subnets.is_empty() {
                    let s = self.rng.pick(&subnets).clone();
                    if let Some(c) = self.m.subnets[&s].cidr_v4 {
                        routes.push(TgwRoute {
                            destination: RouteDestination::Cidr(IpNet::V4(c)),
                            attachment_ids: Vec::new(),
                            blackhole: true,
                            pending: false,
                            propagated: false,
                        });
                    }
                }
            }
            attached.push((vpc.clone(), att));
        }
        self.m.tgw_route_tables.insert(
            rtb.clone(),
            TgwRouteTable {
                id: rtb.clone(),
                tgw_id: tgw.clone(),
                location: loc(),
                routes,
                routes_known: true,
                propagations: attached.iter().map(|(_, a)| a.clone()).collect(),
                tags: Tags::new(),
            },
        );
        self.m.present_kinds.insert(ResourceKind::TransitGateway);
        self.m.present_kinds.insert(ResourceKind::TgwAttachment);
        self.m.present_kinds.insert(ResourceKind::TgwRouteTable);
        for (vpc, _) in &attached {
            let others: Vec<Ipv4Net> = attached
                .iter()
                .filter(|(v, _)| v != vpc)
                .flat_map(|(v, _)| self.m.vpcs[v].cidrs_v4.clone())
                .collect();
            let tables = self.vpc_tables(vpc);
            for t in tables {
                for c in &others {
                    if self.rng.chance(0.7) {
                        let rt = self.m.route_tables.get_mut(&t).unwrap();
                        add_route(
                            rt,
                            static_route(IpNet::V4(*c), RouteTarget::TransitGateway(tgw.clone())),
                        );
                    }
                }
            }
            // Group references to the other attached VPCs' groups.
            let foreign: Vec<String> = attached
                .iter()
                .filter(|(v, _)| v != vpc)
                .flat_map(|(v, _)| self.vpc_groups(v))
                .collect();
            for gid in self.vpc_groups(vpc) {
                if foreign.is_empty() || !self.rng.chance(0.4) {
                    continue;
                }
                let other = self.rng.pick(&foreign).clone();
                self.m
                    .security_groups
                    .get_mut(&gid)
                    .unwrap()
                    .ingress
                    .push(rule(Protocol::All, PortSpec::All, group_ref(&other)));
            }
        }
        self.tgw_vpn(&tgw, &rtb, &attached);
    }

    /// Sometimes on-premises behind the transit gateway: a VPN attachment associated with
    /// the gateway's table, a static route there to the office (192.168.0.0/16) or none (then
    /// on-premises may send from anywhere), VPC routes for the office to the gateway, and
    /// group rules for it. Drawn after everything else, so that older seeds keep their estates.
    fn tgw_vpn(&mut self, tgw: &str, rtb: &str, attached: &[(String, String)]) {
        if !self.rng.chance(0.4) {
            return;
        }
        let att = self.id("tgw-attach");
        let vpn = self.id("vpn");
        self.m.tgw_attachments.insert(
            tgw_attachment_key(tgw, &att),
            TgwAttachment {
                id: att.clone(),
                tgw_id: tgw.to_string(),
                location: loc(),
                kind: TgwAttachmentKind::Vpn,
                resource_id: vpn.clone(),
                subnet_ids: Vec::new(),
                route_table_id: Some(rtb.to_string()),
                sg_referencing: false,
                appliance_mode: false,
                ipv6_support: None,
                unsettled: None,
                unknown: None,
                tags: Tags::new(),
            },
        );
        self.m.vpn_connections.insert(
            vpn.clone(),
            VpnConnection {
                id: vpn,
                location: loc(),
                vpn_gateway_id: None,
                transit_gateway_id: Some(tgw.to_string()),
                static_routes_only: self.rng.chance(0.5),
                static_routes: Vec::new(),
                local_net: cidr("0.0.0.0/0"),
                remote_net: cidr("0.0.0.0/0"),
                tunnels_down: false,
            },
        );
        self.m.present_kinds.insert(ResourceKind::VpnConnection);
        if self.rng.chance(0.8) {
            let t = self.m.tgw_route_tables.get_mut(rtb).unwrap();
            t.routes.push(TgwRoute {
                destination: RouteDestination::Cidr(cidr("192.168.0.0/16")),
                attachment_ids: vec![att.clone()],
                blackhole: false,
                pending: false,
                propagated: false,
            });
        }
        for (vpc, _) in attached {
            let tables = self.vpc_tables(vpc);
            for t in tables {
                if self.rng.chance(0.6) {
                    let dest = *self.rng.pick(&["192.168.0.0/16", "0.0.0.0/0"]);
                    let rt = self.m.route_tables.get_mut(&t).unwrap();
                    add_route(
                        rt,
                        static_route(cidr(dest), RouteTarget::TransitGateway(tgw.to_string())),
                    );
                }
            }
            self.office_rules(vpc, &["192.168.0.0/16", "192.168.1.0/24"]);
        }
    }
}
