//! The synthetic estate as plain data (indices between resources, AWS ids as
//! strings), built in dependency order: VPCs and subnets, security groups,
//! workloads, load balancers, gateways, peering, transit gateways, then the
//! rules and routes that tie them together.

// Resources refer to each other by index; loops over indices read best here.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::Ipv4Net;

use super::rng::{apportion, mix64, Rng, Zipf};
use super::Spec;

pub(crate) const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-southeast-2"];
/// First second-octet of each region's block of 10.0.0.0/8, and the block's prefix length.
const REGION_BLOCKS: [(u8, u8); 3] = [(0, 9), (128, 10), (192, 10)];
const AZS: usize = 3;
/// Most workload ENIs one VPC may hold (its application subnets hold 3 × 8,187).
const VPC_CAP: usize = 15_000;

pub(crate) fn az_name(region: usize, az: usize) -> String {
    format!("{}{}", REGIONS[region], ["a", "b", "c"][az])
}

pub(crate) fn az_id(region: usize, az: usize) -> String {
    let short = ["euw1", "use1", "apse2"][region];
    format!("{short}-az{}", az + 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Env {
    Shared,
    Prod,
    Nonprod,
}

impl Env {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Env::Shared => "shared",
            Env::Prod => "prod",
            Env::Nonprod => "nonprod",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    pub name: String,
    pub env: Env,
}

/// Subnet tiers: index into `Vpc::subnets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Public = 0,
    App = 1,
    Data = 2,
    Tgw = 3,
}

impl Tier {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::App => "app",
            Tier::Data => "data",
            Tier::Tgw => "tgw",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Vpc {
    pub id: String,
    pub name: String,
    pub account: usize,
    pub region: usize,
    pub env: Env,
    pub hub: bool,
    pub cidr: Ipv4Net,
    /// The VPC's IPv6 /56, as the address of its first host bit pattern.
    pub ipv6: Option<u128>,
    /// Own internet gateway and NAT gateways (otherwise egress goes through the hub over the TGW).
    pub local_egress: bool,
    /// Route tables that spell out every other VPC instead of a 10.0.0.0/8 summary.
    pub explicit_routes: bool,
    /// `subnets[tier][az]`.
    pub subnets: [[usize; AZS]; 4],
    pub igw: Option<String>,
    pub nats: Vec<usize>,
    pub fixed: FixedSgs,
    pub apps: Vec<App>,
    pub legacy_sgs: Vec<usize>,
    pub tgw_attachment: Option<usize>,
    pub dhcp: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FixedSgs {
    pub default: usize,
    pub monitoring: usize,
    pub ssh: usize,
    pub bastion: usize,
    pub endpoints: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppTier {
    Web = 0,
    Worker = 1,
    Db = 2,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub name: String,
    /// Security groups of the web, worker and db tiers (empty in `xl`: one group per ENI there).
    pub sgs: Vec<usize>,
    pub web_port: u16,
    pub worker_port: u16,
    pub db_port: u16,
    pub lb: Option<usize>,
    /// Workload ENIs per tier.
    pub members: [Vec<usize>; 3],
}

#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    pub id: String,
    pub vpc: usize,
    pub tier: Tier,
    pub az: usize,
    pub cidr: Ipv4Net,
    pub ipv6: Option<u128>,
    next: u32,
    next_v6: u64,
}

impl Subnet {
    pub(crate) fn used(&self) -> u32 {
        self.next - 4
    }

    fn capacity(&self) -> u32 {
        // AWS reserves the first four addresses and the last one.
        (1u32 << (32 - self.cidr.prefix_len())) - 5
    }

    fn alloc(&mut self) -> Option<Ipv4Addr> {
        if self.used() >= self.capacity() {
            return None;
        }
        let a = u32::from(self.cidr.network()) + self.next;
        self.next += 1;
        Some(Ipv4Addr::from(a))
    }

    fn alloc_v6(&mut self) -> Option<Ipv6Addr> {
        let p = self.ipv6?;
        self.next_v6 += 1;
        Some(Ipv6Addr::from(p | (0x1000 + self.next_v6 as u128)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EniKind {
    Ec2,
    Lambda,
    Ecs,
    Rds,
    Elb(usize),
    Nat(usize),
    Tgw(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicIp {
    /// Auto-assigned (owned by Amazon, or by `amazon-elb` for a load balancer node).
    Auto(Ipv4Addr),
    /// An Elastic IP (allocation and association ids derived from the address).
    Elastic(Ipv4Addr),
}

#[derive(Debug, Clone)]
pub(crate) struct Eni {
    pub id: String,
    pub vpc: usize,
    pub subnet: usize,
    pub kind: EniKind,
    pub ips: Vec<Ipv4Addr>,
    pub public: Option<PublicIp>,
    pub ipv6: Vec<Ipv6Addr>,
    pub groups: Vec<usize>,
    /// (instance, device index)
    pub instance: Option<(usize, u32)>,
    pub role: Role,
    pub name: Option<String>,
    pub serial: u64,
}

/// What a workload ENI does (for its security-group rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    App(usize, AppTier),
    Bastion,
    PublicWeb(usize),
    Infra,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub id: String,
    pub vpc: usize,
    pub subnet: usize,
    pub enis: Vec<usize>,
    pub running: bool,
    pub name: String,
    pub itype: &'static str,
    pub image: String,
    pub launch: String,
    pub reservation: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Peer {
    Cidr(String),
    Cidr6(String),
    PrefixList(usize),
    /// Another group (with the peering connection for a group across a peering).
    Group(usize, Option<usize>),
}

#[derive(Debug, Clone)]
pub(crate) struct Perm {
    /// `tcp`, `udp`, `icmp` or `-1`.
    pub proto: &'static str,
    pub from: i64,
    pub to: i64,
    pub peers: Vec<(Peer, Option<String>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Sg {
    pub id: String,
    pub vpc: usize,
    pub name: String,
    pub description: String,
    pub ingress: Vec<Perm>,
    pub egress: Vec<Perm>,
    pub tags: Vec<(String, String)>,
}

impl Sg {
    fn add(&mut self, egress: bool, proto: &'static str, ports: (i64, i64), peer: Peer) {
        self.add_described(egress, proto, ports, peer, None);
    }

    fn add_described(
        &mut self,
        egress: bool,
        proto: &'static str,
        (from, to): (i64, i64),
        peer: Peer,
        description: Option<String>,
    ) {
        let list = if egress {
            &mut self.egress
        } else {
            &mut self.ingress
        };
        match list
            .iter_mut()
            .find(|p| p.proto == proto && p.from == from && p.to == to)
        {
            Some(p) => p.peers.push((peer, description)),
            None => list.push(Perm {
                proto,
                from,
                to,
                peers: vec![(peer, description)],
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Dest {
    V4(Ipv4Net),
    V6(String),
    PrefixList(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum Target {
    Local,
    Igw(String),
    Nat(usize),
    Tgw(usize),
    Peering(usize),
    /// A NAT gateway deleted since: the route is a blackhole.
    DeletedNat(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub dest: Dest,
    pub target: Target,
}

#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    pub id: String,
    pub vpc: usize,
    pub name: String,
    pub main: bool,
    pub subnets: Vec<usize>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub(crate) struct NaclEntry {
    pub rule: u32,
    pub egress: bool,
    pub allow: bool,
    /// `-1`, `6`, `17` or `1`.
    pub proto: &'static str,
    pub cidr: String,
    pub v6: bool,
    pub ports: Option<(u16, u16)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Nacl {
    pub id: String,
    pub vpc: usize,
    pub name: String,
    pub default: bool,
    pub subnets: Vec<usize>,
    pub entries: Vec<NaclEntry>,
}

#[derive(Debug, Clone)]
pub(crate) struct Nat {
    pub id: String,
    pub vpc: usize,
    pub subnet: usize,
    pub eni: usize,
    pub public: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub(crate) struct Peering {
    pub id: String,
    pub requester: usize,
    pub accepter: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Tgw {
    pub id: String,
    pub region: usize,
    pub account: usize,
    /// prod, nonprod, shared
    pub route_tables: [usize; 3],
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum AttachmentResource {
    Vpc(usize),
    /// A TGW peering; the same attachment id appears on both transit gateways.
    Peering(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct TgwAttachment {
    pub id: String,
    pub tgw: usize,
    pub resource: AttachmentResource,
    pub route_table: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct TgwRoute {
    pub cidr: Ipv4Net,
    /// The attachment (index into `tgw_attachments`); none for a blackhole.
    pub attachment: Option<usize>,
    pub propagated: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TgwRouteTable {
    pub id: String,
    pub tgw: usize,
    pub name: String,
    pub routes: Vec<TgwRoute>,
}

#[derive(Debug, Clone)]
pub(crate) struct PrefixList {
    pub id: String,
    pub region: usize,
    pub name: String,
    pub cidrs: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LbKind {
    Application,
    Network,
}

#[derive(Debug, Clone)]
pub(crate) struct Lb {
    pub arn: String,
    pub name: String,
    pub hex: String,
    pub vpc: usize,
    pub kind: LbKind,
    pub internet_facing: bool,
    pub dualstack: bool,
    pub sg: Option<usize>,
    pub subnets: Vec<usize>,
    pub app: usize,
    pub target_group: usize,
    pub listeners: Vec<Listener>,
    /// The nodes' ENIs.
    pub nodes: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Listener {
    pub arn: String,
    pub port: u16,
    pub protocol: &'static str,
    /// Forward to the target group, or redirect to HTTPS.
    pub forward: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub vpc: usize,
    pub protocol: &'static str,
    pub port: u16,
    pub lb: usize,
    /// Instances (indices into `instances`).
    pub targets: Vec<usize>,
}

/// The whole estate.
#[derive(Debug, Default)]
pub(crate) struct Estate {
    pub accounts: Vec<Account>,
    pub regions: usize,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub sgs: Vec<Sg>,
    pub enis: Vec<Eni>,
    pub instances: Vec<Instance>,
    pub nats: Vec<Nat>,
    pub route_tables: Vec<RouteTable>,
    pub nacls: Vec<Nacl>,
    pub peerings: Vec<Peering>,
    pub tgws: Vec<Tgw>,
    pub tgw_attachments: Vec<TgwAttachment>,
    pub tgw_route_tables: Vec<TgwRouteTable>,
    pub prefix_lists: Vec<PrefixList>,
    pub lbs: Vec<Lb>,
    pub target_groups: Vec<TargetGroup>,
    /// Per region: corp-offices, partners, monitoring (indices into `prefix_lists`).
    pub region_pls: Vec<[usize; 3]>,
    /// Threat ranges NACLs deny.
    pub threats: Vec<Ipv4Net>,
    /// Partner addresses some rules admit.
    pub partners: Vec<Ipv4Addr>,
    seed: u64,
    counters: std::collections::BTreeMap<&'static str, u64>,
    public_ips: u32,
}

const APP_WORDS: &[&str] = &[
    "billing",
    "checkout",
    "catalog",
    "search",
    "auth",
    "orders",
    "payments",
    "inventory",
    "ledger",
    "reports",
    "notify",
    "profile",
    "gateway",
    "media",
    "pricing",
    "shipping",
    "analytics",
    "crm",
    "wiki",
    "tickets",
    "ingest",
    "export",
    "risk",
    "claims",
];
const HUB_WORDS: &[&str] = &["dns", "proxy", "ci", "monitoring", "vault", "ldap"];
const WEB_PORTS: &[u16] = &[8080, 8443, 80, 443, 3000, 5000, 9000];
const WORKER_PORTS: &[u16] = &[8081, 9090, 50051, 7000];
const DB_PORTS: &[u16] = &[5432, 3306, 6379, 27017, 1433, 9200];

impl Estate {
    fn next_id(&mut self, prefix: &'static str) -> String {
        format!("{prefix}-0{:016x}", self.next_hex(prefix))
    }

    fn next_hex(&mut self, kind: &'static str) -> u64 {
        let n = self.counters.entry(kind).or_insert(0);
        let salt = kind
            .bytes()
            .fold(self.seed ^ 0xA5A5_5A5A_0F0F_F0F0, |h, b| {
                mix64(h ^ b as u64)
            });
        let v = mix64(n.wrapping_add(salt));
        *n += 1;
        v
    }

    fn public_ip(&mut self) -> Ipv4Addr {
        // 52.16.0.0/12: 250 addresses of each /24, skipping .0 and the top.
        let n = self.public_ips;
        self.public_ips += 1;
        Ipv4Addr::from(u32::from(Ipv4Addr::new(52, 16, 0, 0)) + (n / 250) * 256 + n % 250 + 1)
    }

    fn new_sg(&mut self, vpc: usize, name: String, description: &str) -> usize {
        let id = self.next_id("sg");
        self.sgs.push(Sg {
            id,
            vpc,
            name,
            description: description.to_string(),
            ingress: Vec::new(),
            egress: Vec::new(),
            tags: Vec::new(),
        });
        self.sgs.len() - 1
    }

    fn alloc_ip(&mut self, vpc: usize, tier: Tier, az: usize) -> (usize, Ipv4Addr) {
        for k in 0..AZS {
            let s = self.vpcs[vpc].subnets[tier as usize][(az + k) % AZS];
            if let Some(ip) = self.subnets[s].alloc() {
                return (s, ip);
            }
        }
        panic!(
            "generator: {} subnets of {} are full",
            tier.as_str(),
            self.vpcs[vpc].id
        );
    }

    fn push_eni(&mut self, mut eni: Eni) -> usize {
        eni.serial = self.enis.len() as u64;
        self.enis.push(eni);
        self.enis.len() - 1
    }
}

/// Builds the estate for a spec.
pub(crate) fn build(spec: &Spec, seed: u64) -> Estate {
    let mut e = Estate {
        seed,
        regions: spec.regions,
        ..Estate::default()
    };
    let mut rng = Rng::new(seed, 1);

    accounts(&mut e, spec, &mut rng);
    threats_and_partners(&mut e, &mut rng);
    vpcs(&mut e, spec, &mut rng);
    prefix_lists(&mut e, &mut rng);

    // How big each VPC is (skewed), where load balancers go, how many groups each VPC has.
    let mut order: Vec<usize> = (0..e.vpcs.len()).collect();
    rng.shuffle(&mut order);
    let mut weights = vec![0.0; e.vpcs.len()];
    for (rank, v) in order.iter().enumerate() {
        weights[*v] = 1.0 / ((rank + 1) as f64).powf(0.9);
    }
    let lb_vpcs = apportion(spec.lbs, &weights, 0, usize::MAX / 4);
    let mut lb_plan: Vec<(usize, LbKind, bool, bool)> = Vec::new();
    for (v, n) in lb_vpcs.iter().enumerate() {
        for _ in 0..*n {
            let kind = if rng.chance(0.8) {
                LbKind::Application
            } else {
                LbKind::Network
            };
            let internet_facing = e.vpcs[v].local_egress && rng.chance(0.65);
            let has_sg = kind == LbKind::Application || rng.chance(0.5);
            lb_plan.push((v, kind, internet_facing, has_sg));
        }
    }
    let infra_enis = e.vpcs.iter().filter(|v| v.local_egress).count() * AZS // NAT
        + e.vpcs.len() * AZS // TGW attachments
        + spec.lbs * AZS; // load-balancer nodes
    assert!(spec.enis > infra_enis + e.vpcs.len() * 10, "too few ENIs");
    let workload = apportion(spec.enis - infra_enis, &weights, 10, VPC_CAP);

    fixed_sgs(&mut e);
    let lb_sgs = lb_plan.iter().filter(|p| p.3).count();
    if spec.one_sg_per_eni {
        for (v, _) in workload.iter().enumerate() {
            let n_apps = (workload[v] / 40).clamp(2, 60);
            make_apps(&mut e, v, n_apps, false, &mut rng);
        }
    } else {
        let fixed = e.sgs.len();
        let budget = spec.sgs - fixed - lb_sgs;
        let per_vpc = apportion(budget, &weights, 3, usize::MAX / 4);
        for (v, b) in per_vpc.iter().enumerate() {
            make_apps(&mut e, v, b / 3, true, &mut rng);
            for k in 0..b % 3 {
                let name = format!("legacy-{}-{k}", e.vpcs[v].name);
                let sg = e.new_sg(v, name, "created by hand; no longer used");
                e.vpcs[v].legacy_sgs.push(sg);
            }
        }
    }

    for (v, n) in workload.iter().enumerate() {
        workloads(&mut e, v, *n, &mut rng);
    }
    load_balancers(&mut e, &lb_plan, &mut rng);
    nat_gateways(&mut e);
    transit_gateways(&mut e);
    peerings(&mut e, spec.peerings, &mut rng);
    if spec.one_sg_per_eni {
        per_eni_sgs(&mut e, &mut rng);
    }
    sg_rules(&mut e, spec.one_sg_per_eni, &mut rng);
    route_tables(&mut e, &mut rng);
    nacls(&mut e, &mut rng);
    tgw_routes(&mut e, spec.tgw_routes);

    assert_eq!(e.enis.len(), spec.enis, "ENI count");
    assert_eq!(e.vpcs.len(), spec.vpcs, "VPC count");
    assert_eq!(e.lbs.len(), spec.lbs, "load-balancer count");
    if !spec.one_sg_per_eni {
        assert_eq!(e.sgs.len(), spec.sgs, "security-group count");
    }
    e
}

fn accounts(e: &mut Estate, spec: &Spec, rng: &mut Rng) {
    let mut seen = BTreeSet::new();
    for i in 0..spec.accounts {
        let id = loop {
            let id = format!("{:012}", 100_000_000_000 + rng.below(899_999_999_999));
            if seen.insert(id.clone()) {
                break id;
            }
        };
        let (name, env) = match i {
            0 => ("network".to_string(), Env::Shared),
            i if i % 2 == 1 => (format!("workloads-prod-{}", i.div_ceil(2)), Env::Prod),
            i => (format!("workloads-nonprod-{}", i / 2), Env::Nonprod),
        };
        e.accounts.push(Account { id, name, env });
    }
}

fn threats_and_partners(e: &mut Estate, rng: &mut Rng) {
    for _ in 0..64 {
        let first = *rng.pick(&[45u8, 91, 185, 193, 194, 212]);
        let net = Ipv4Net::new(
            Ipv4Addr::new(first, rng.below(256) as u8, rng.below(256) as u8, 0),
            24,
        )
        .expect("valid");
        if !e.threats.contains(&net) {
            e.threats.push(net);
        }
    }
    for _ in 0..48 {
        let a = if rng.chance(0.5) {
            Ipv4Addr::new(203, 0, 113, rng.range(1, 254) as u8)
        } else {
            Ipv4Addr::new(198, 51, 100, rng.range(1, 254) as u8)
        };
        if !e.partners.contains(&a) {
            e.partners.push(a);
        }
    }
}

fn vpcs(e: &mut Estate, spec: &Spec, rng: &mut Rng) {
    // VPCs per region: most in the first.
    let per_region: Vec<usize> = match spec.regions {
        1 => vec![spec.vpcs],
        2 => {
            let second = (spec.vpcs / 5).max(1);
            vec![spec.vpcs - second, second]
        }
        _ => {
            let second = (spec.vpcs / 4).max(1);
            let third = (spec.vpcs * 15 / 100).max(1);
            vec![spec.vpcs - second - third, second, third]
        }
    };
    let workload_accounts: Vec<usize> = (1..e.accounts.len()).collect();
    let mut global = 0u128;
    for (r, count) in per_region.iter().enumerate() {
        let (base, plen) = REGION_BLOCKS[r];
        assert!(*count <= 1 << (16 - plen), "too many VPCs for a region");
        for k in 0..*count {
            let hub = k == 0;
            let account = if hub || workload_accounts.is_empty() {
                0
            } else {
                *rng.pick(&workload_accounts)
            };
            let env = e.accounts[account].env;
            let octet = base + k as u8;
            let local_egress = hub || k == 1 || rng.chance(0.6);
            let ipv6 = (!hub && local_egress && rng.chance(0.35))
                .then(|| (0x2600_1f18u128 << 96) | ((global + 1) << 72));
            global += 1;
            let name = if hub {
                format!("hub-{}", REGIONS[r])
            } else {
                format!("{}-{}-{k}", env.as_str(), REGIONS[r])
            };
            let id = e.next_id("vpc");
            let dhcp = e.next_id("dopt");
            let v = Vpc {
                id,
                name,
                account,
                region: r,
                env,
                hub,
                cidr: Ipv4Net::new(Ipv4Addr::new(10, octet, 0, 0), 16).expect("valid"),
                ipv6,
                local_egress,
                explicit_routes: !hub && rng.chance(0.1),
                subnets: [[0; AZS]; 4],
                igw: None,
                nats: Vec::new(),
                fixed: FixedSgs::default(),
                apps: Vec::new(),
                legacy_sgs: Vec::new(),
                tgw_attachment: None,
                dhcp,
            };
            e.vpcs.push(v);
            let vi = e.vpcs.len() - 1;
            if local_egress {
                e.vpcs[vi].igw = Some(e.next_id("igw"));
            }
            // public /22s at 0, 4, 8; tgw /28s at 12.x; app /19s at 32, 64, 96; data /21s at 128, 136, 144.
            for tier in [Tier::Public, Tier::App, Tier::Data, Tier::Tgw] {
                for az in 0..AZS {
                    let (third, fourth, plen) = match tier {
                        Tier::Public => (4 * az as u8, 0, 22),
                        Tier::Tgw => (12, 16 * az as u8, 28),
                        Tier::App => (32 + 32 * az as u8, 0, 19),
                        Tier::Data => (128 + 8 * az as u8, 0, 21),
                    };
                    let cidr =
                        Ipv4Net::new(Ipv4Addr::new(10, octet, third, fourth), plen).expect("valid");
                    let v6 = match (tier, ipv6) {
                        (Tier::Public, Some(p)) => Some(p | ((az as u128) << 64)),
                        _ => None,
                    };
                    let id = e.next_id("subnet");
                    e.subnets.push(Subnet {
                        id,
                        vpc: vi,
                        tier,
                        az,
                        cidr,
                        ipv6: v6,
                        next: 4,
                        next_v6: 0,
                    });
                    e.vpcs[vi].subnets[tier as usize][az] = e.subnets.len() - 1;
                }
            }
        }
    }
}

fn prefix_lists(e: &mut Estate, rng: &mut Rng) {
    for r in 0..e.regions {
        let hub = e
            .vpcs
            .iter()
            .position(|v| v.hub && v.region == r)
            .expect("hub");
        let mut corp: Vec<(String, String)> = (0..rng.range(6, 20))
            .map(|k| (format!("192.168.{}.0/24", k * 3), format!("office-{k}")))
            .collect();
        corp.push(("172.20.0.0/16".into(), "datacenter".into()));
        let partners: Vec<(String, String)> = e
            .partners
            .iter()
            .take(rng.range(8, 40))
            .enumerate()
            .map(|(k, a)| (format!("{a}/32"), format!("partner-{k}")))
            .collect();
        let monitoring: Vec<(String, String)> = e.vpcs[hub].subnets[Tier::App as usize]
            .iter()
            .map(|s| (e.subnets[*s].cidr.to_string(), "monitoring".to_string()))
            .collect();
        let mut ids = [0; 3];
        for (k, (name, cidrs)) in [
            ("corp-offices", corp),
            ("partners", partners),
            ("monitoring", monitoring),
        ]
        .into_iter()
        .enumerate()
        {
            let id = e.next_id("pl");
            e.prefix_lists.push(PrefixList {
                id,
                region: r,
                name: name.to_string(),
                cidrs,
            });
            ids[k] = e.prefix_lists.len() - 1;
        }
        e.region_pls.push(ids);
    }
}

fn fixed_sgs(e: &mut Estate) {
    for v in 0..e.vpcs.len() {
        let n = e.vpcs[v].name.clone();
        let fixed = FixedSgs {
            default: e.new_sg(v, "default".into(), "default VPC security group"),
            monitoring: e.new_sg(
                v,
                format!("{n}-monitoring"),
                "node exporters scraped by the hub",
            ),
            ssh: e.new_sg(v, format!("{n}-ssh-from-bastion"), "SSH from the bastions"),
            bastion: e.new_sg(v, format!("{n}-bastion"), "bastion hosts"),
            endpoints: e.new_sg(v, format!("{n}-vpc-endpoints"), "interface endpoints"),
        };
        e.vpcs[v].fixed = fixed;
    }
}

fn make_apps(e: &mut Estate, v: usize, n: usize, with_sgs: bool, rng: &mut Rng) {
    let hub = e.vpcs[v].hub;
    for k in 0..n {
        let word = if hub {
            HUB_WORDS[k % HUB_WORDS.len()]
        } else {
            *rng.pick(APP_WORDS)
        };
        let name = format!("{word}-{k}");
        let sgs = if with_sgs {
            let vn = e.vpcs[v].name.clone();
            vec![
                e.new_sg(v, format!("{vn}-{name}-web"), "web tier"),
                e.new_sg(v, format!("{vn}-{name}-worker"), "workers"),
                e.new_sg(v, format!("{vn}-{name}-db"), "data stores"),
            ]
        } else {
            Vec::new()
        };
        let app = App {
            name,
            sgs,
            web_port: *rng.pick(WEB_PORTS),
            worker_port: *rng.pick(WORKER_PORTS),
            db_port: *rng.pick(DB_PORTS),
            lb: None,
            members: [Vec::new(), Vec::new(), Vec::new()],
        };
        e.vpcs[v].apps.push(app);
    }
}

fn instance_type(rng: &mut Rng) -> &'static str {
    const TYPES: [&str; 6] = [
        "t3.micro",
        "t3.medium",
        "m5.large",
        "m6i.xlarge",
        "c6g.large",
        "r6i.2xlarge",
    ];
    TYPES[rng.below(TYPES.len())]
}

fn launch_time(rng: &mut Rng) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        rng.range(1, 12),
        rng.range(1, 28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn new_instance(e: &mut Estate, v: usize, subnet: usize, name: String, rng: &mut Rng) -> usize {
    let id = e.next_id("i");
    let image = format!("ami-0{:016x}", e.next_hex("ami") % 64);
    let reservation = e.next_id("r");
    e.instances.push(Instance {
        id,
        vpc: v,
        subnet,
        enis: Vec::new(),
        running: rng.chance(0.97),
        name,
        itype: instance_type(rng),
        image,
        launch: launch_time(rng),
        reservation,
    });
    e.instances.len() - 1
}

/// Workload ENIs of one VPC: instances, Lambda, ECS tasks, RDS, bastions and public web servers.
fn workloads(e: &mut Estate, v: usize, n: usize, rng: &mut Rng) {
    let zipf = Zipf::new(e.vpcs[v].apps.len(), 1.1);
    let fixed = e.vpcs[v].fixed;
    let mut left = n;
    while left > 0 {
        let az = rng.below(AZS);
        if e.vpcs[v].local_egress && rng.chance(0.03) {
            // An internet-facing host in a public subnet.
            let bastion = rng.chance(0.4);
            let (subnet, ip) = e.alloc_ip(v, Tier::Public, az);
            let (role, groups, name) = if bastion {
                (
                    Role::Bastion,
                    vec![fixed.bastion],
                    format!("bastion-{}", e.enis.len()),
                )
            } else {
                let app = zipf.sample(rng);
                let a = &e.vpcs[v].apps[app];
                let groups = a.sgs.first().copied().into_iter().collect();
                (
                    Role::PublicWeb(app),
                    groups,
                    format!("{}-public-{}", a.name, e.enis.len()),
                )
            };
            let public = if rng.chance(0.35) {
                Some(PublicIp::Elastic(e.public_ip()))
            } else if rng.chance(0.9) {
                Some(PublicIp::Auto(e.public_ip()))
            } else {
                None
            };
            let ipv6 = if rng.chance(0.7) {
                e.subnets[subnet].alloc_v6().into_iter().collect()
            } else {
                Vec::new()
            };
            let inst = new_instance(e, v, subnet, name.clone(), rng);
            let id = e.next_id("eni");
            let eni = e.push_eni(Eni {
                id,
                vpc: v,
                subnet,
                kind: EniKind::Ec2,
                ips: vec![ip],
                public,
                ipv6,
                groups,
                instance: Some((inst, 0)),
                role,
                name: Some(format!("{name}-eth0")),
                serial: 0,
            });
            e.instances[inst].enis.push(eni);
            left -= 1;
            continue;
        }
        let app = zipf.sample(rng);
        let tier = match rng.weighted(&[0.5, 0.3, 0.2]) {
            0 => AppTier::Web,
            1 => AppTier::Worker,
            _ => AppTier::Db,
        };
        let kind = match (tier, rng.unit()) {
            (AppTier::Web, u) if u < 0.9 => EniKind::Ec2,
            (AppTier::Web, _) => EniKind::Ecs,
            (AppTier::Worker, u) if u < 0.7 => EniKind::Ec2,
            (AppTier::Worker, u) if u < 0.85 => EniKind::Lambda,
            (AppTier::Worker, _) => EniKind::Ecs,
            (AppTier::Db, u) if u < 0.5 => EniKind::Ec2,
            (AppTier::Db, _) => EniKind::Rds,
        };
        let subnet_tier = if tier == AppTier::Db {
            Tier::Data
        } else {
            Tier::App
        };
        let mut groups: Vec<usize> = e.vpcs[v].apps[app]
            .sgs
            .get(tier as usize)
            .copied()
            .into_iter()
            .collect();
        if kind == EniKind::Ec2 && !groups.is_empty() {
            if rng.chance(0.6) {
                groups.push(fixed.monitoring);
            }
            if rng.chance(0.3) {
                groups.push(fixed.ssh);
            }
        }
        let app_name = e.vpcs[v].apps[app].name.clone();
        let tier_name = ["web", "worker", "db"][tier as usize];
        let count = if kind == EniKind::Ec2 && left >= 2 && rng.chance(0.08) {
            2
        } else {
            1
        };
        let mut inst: Option<usize> = None;
        for device in 0..count {
            let (subnet, ip) = e.alloc_ip(v, subnet_tier, az);
            if kind == EniKind::Ec2 && device == 0 {
                let name = format!("{app_name}-{tier_name}-{}", e.instances.len());
                inst = Some(new_instance(e, v, subnet, name, rng));
            }
            let mut ips = vec![ip];
            if kind == EniKind::Ec2 && rng.chance(0.05) {
                for _ in 0..rng.range(1, 3) {
                    ips.push(e.alloc_ip(v, subnet_tier, e.subnets[subnet].az).1);
                }
            }
            let id = e.next_id("eni");
            let eni = e.push_eni(Eni {
                id,
                vpc: v,
                subnet,
                kind,
                ips,
                public: None,
                ipv6: Vec::new(),
                groups: groups.clone(),
                instance: inst.map(|i| (i, device)),
                role: Role::App(app, tier),
                name: inst.map(|i| format!("{}-eth{device}", e.instances[i].name)),
                serial: 0,
            });
            if let Some(i) = inst {
                e.instances[i].enis.push(eni);
            }
            e.vpcs[v].apps[app].members[tier as usize].push(eni);
            left -= 1;
        }
    }
}

fn load_balancers(e: &mut Estate, plan: &[(usize, LbKind, bool, bool)], rng: &mut Rng) {
    for (v, kind, internet_facing, has_sg) in plan.iter().copied() {
        // The most popular application with web instances and no load balancer yet.
        let app = {
            let apps = &e.vpcs[v].apps;
            let mut best: Option<(usize, usize)> = None;
            for (i, a) in apps.iter().enumerate() {
                if a.lb.is_some() {
                    continue;
                }
                let web = a.members[AppTier::Web as usize]
                    .iter()
                    .filter(|x| e.enis[**x].instance.is_some_and(|(_, d)| d == 0))
                    .count();
                if best.is_none_or(|(_, b)| web > b) {
                    best = Some((i, web));
                }
            }
            match best {
                Some((i, _)) => i,
                None => rng.below(apps.len()),
            }
        };
        let lb_index = e.lbs.len();
        let app_name = e.vpcs[v].apps[app].name.clone();
        let short = if kind == LbKind::Application {
            "alb"
        } else {
            "nlb"
        };
        let mut name = format!("{app_name}-{short}-{lb_index}");
        name.truncate(32);
        let hex = format!("{:016x}", e.next_hex("elb"));
        let region = REGIONS[e.vpcs[v].region];
        let account = e.accounts[e.vpcs[v].account].id.clone();
        let type_path = if kind == LbKind::Application {
            "app"
        } else {
            "net"
        };
        let arn = format!(
            "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{type_path}/{name}/{hex}"
        );
        let dualstack = internet_facing && e.vpcs[v].ipv6.is_some() && rng.chance(0.5);
        let sg = has_sg.then(|| {
            let vn = e.vpcs[v].name.clone();
            e.new_sg(v, format!("{vn}-{name}"), "load balancer")
        });
        let tier = if internet_facing {
            Tier::Public
        } else {
            Tier::App
        };
        let subnets: Vec<usize> = (0..AZS)
            .map(|az| e.vpcs[v].subnets[tier as usize][az])
            .collect();
        let port = e.vpcs[v].apps[app].web_port;
        let tg_hex = format!("{:016x}", e.next_hex("tg"));
        let mut tg_name = format!("{app_name}-tg-{lb_index}");
        tg_name.truncate(32);
        let targets: Vec<usize> = e.vpcs[v].apps[app].members[AppTier::Web as usize]
            .iter()
            .filter_map(|x| match e.enis[*x].instance {
                Some((i, 0)) => Some(i),
                _ => None,
            })
            .take(50)
            .collect();
        e.target_groups.push(TargetGroup {
            arn: format!(
                "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{tg_name}/{tg_hex}"
            ),
            name: tg_name,
            vpc: v,
            protocol: if kind == LbKind::Application {
                "HTTP"
            } else {
                "TCP"
            },
            port,
            lb: lb_index,
            targets,
        });
        let tg = e.target_groups.len() - 1;
        let mut listeners = Vec::new();
        let mut listener = |e: &mut Estate, port: u16, protocol: &'static str, forward: bool| {
            let lhex = format!("{:016x}", e.next_hex("listener"));
            listeners.push(Listener {
                arn: format!("arn:aws:elasticloadbalancing:{region}:{account}:listener/{type_path}/{name}/{hex}/{lhex}"),
                port,
                protocol,
                forward,
            });
        };
        match (kind, internet_facing) {
            (LbKind::Application, true) => {
                listener(e, 80, "HTTP", false);
                listener(e, 443, "HTTPS", true);
            }
            (LbKind::Application, false) => listener(e, 443, "HTTPS", true),
            (LbKind::Network, _) => listener(e, 443, "TCP", true),
        }
        e.lbs.push(Lb {
            arn,
            name: name.clone(),
            hex,
            vpc: v,
            kind,
            internet_facing,
            dualstack,
            sg,
            subnets: subnets.clone(),
            app,
            target_group: tg,
            listeners,
            nodes: Vec::new(),
        });
        e.vpcs[v].apps[app].lb = Some(lb_index);
        for s in subnets {
            let az = e.subnets[s].az;
            let (subnet, ip) = e.alloc_ip(v, tier, az);
            let public = (internet_facing && kind == LbKind::Application)
                .then(|| PublicIp::Auto(e.public_ip()))
                .or_else(|| {
                    (internet_facing && kind == LbKind::Network)
                        .then(|| PublicIp::Elastic(e.public_ip()))
                });
            let ipv6 = if dualstack {
                e.subnets[subnet].alloc_v6().into_iter().collect()
            } else {
                Vec::new()
            };
            let id = e.next_id("eni");
            let node = e.push_eni(Eni {
                id,
                vpc: v,
                subnet,
                kind: EniKind::Elb(lb_index),
                ips: vec![ip],
                public,
                ipv6,
                groups: sg.into_iter().collect(),
                instance: None,
                role: Role::Infra,
                name: None,
                serial: 0,
            });
            e.lbs[lb_index].nodes.push(node);
        }
    }
}

fn nat_gateways(e: &mut Estate) {
    for v in 0..e.vpcs.len() {
        if !e.vpcs[v].local_egress {
            continue;
        }
        for az in 0..AZS {
            let (subnet, ip) = e.alloc_ip(v, Tier::Public, az);
            let id = e.next_id("nat");
            let public = e.public_ip();
            let nat_index = e.nats.len();
            let eni_id = e.next_id("eni");
            let eni = e.push_eni(Eni {
                id: eni_id,
                vpc: v,
                subnet,
                kind: EniKind::Nat(nat_index),
                ips: vec![ip],
                public: Some(PublicIp::Elastic(public)),
                ipv6: Vec::new(),
                groups: Vec::new(),
                instance: None,
                role: Role::Infra,
                name: None,
                serial: 0,
            });
            e.nats.push(Nat {
                id,
                vpc: v,
                subnet,
                eni,
                public,
            });
            e.vpcs[v].nats.push(nat_index);
        }
    }
}

fn transit_gateways(e: &mut Estate) {
    for r in 0..e.regions {
        let id = e.next_id("tgw");
        let tgw = e.tgws.len();
        let mut rts = [0; 3];
        for (k, name) in ["prod", "nonprod", "shared"].iter().enumerate() {
            let rt_id = e.next_id("tgw-rtb");
            e.tgw_route_tables.push(TgwRouteTable {
                id: rt_id,
                tgw,
                name: format!("{name}-{}", REGIONS[r]),
                routes: Vec::new(),
            });
            rts[k] = e.tgw_route_tables.len() - 1;
        }
        e.tgws.push(Tgw {
            id,
            region: r,
            account: 0,
            route_tables: rts,
        });
    }
    for v in 0..e.vpcs.len() {
        let tgw = e.vpcs[v].region;
        let rt = match e.vpcs[v].env {
            Env::Prod => e.tgws[tgw].route_tables[0],
            Env::Nonprod => e.tgws[tgw].route_tables[1],
            Env::Shared => e.tgws[tgw].route_tables[2],
        };
        let id = e.next_id("tgw-attach");
        e.tgw_attachments.push(TgwAttachment {
            id,
            tgw,
            resource: AttachmentResource::Vpc(v),
            route_table: rt,
        });
        let att = e.tgw_attachments.len() - 1;
        e.vpcs[v].tgw_attachment = Some(att);
        for az in 0..AZS {
            let (subnet, ip) = e.alloc_ip(v, Tier::Tgw, az);
            let eni_id = e.next_id("eni");
            e.push_eni(Eni {
                id: eni_id,
                vpc: v,
                subnet,
                kind: EniKind::Tgw(att),
                ips: vec![ip],
                public: None,
                ipv6: Vec::new(),
                groups: Vec::new(),
                instance: None,
                role: Role::Infra,
                name: None,
                serial: 0,
            });
        }
    }
    // Regions' transit gateways peer with each other (one attachment id, seen on both sides).
    for a in 0..e.regions {
        for b in a + 1..e.regions {
            let id = e.next_id("tgw-attach");
            for (this, other) in [(a, b), (b, a)] {
                let rt = e.tgws[this].route_tables[2];
                e.tgw_attachments.push(TgwAttachment {
                    id: id.clone(),
                    tgw: this,
                    resource: AttachmentResource::Peering(other),
                    route_table: rt,
                });
            }
        }
    }
}

fn peerings(e: &mut Estate, count: usize, rng: &mut Rng) {
    let n = e.vpcs.len();
    let mut pairs = BTreeSet::new();
    let max_pairs = n * (n - 1) / 2;
    let mut tries = 0;
    while e.peerings.len() < count.min(max_pairs) && tries < 100_000 {
        tries += 1;
        let a = rng.below(n);
        let mut b = rng.below(n);
        // Mostly within a region.
        if rng.chance(0.7) {
            let same: Vec<usize> = (0..n)
                .filter(|x| e.vpcs[*x].region == e.vpcs[a].region)
                .collect();
            b = *rng.pick(&same);
        }
        if a == b || pairs.contains(&(a.min(b), a.max(b))) {
            continue;
        }
        pairs.insert((a.min(b), a.max(b)));
        let id = e.next_id("pcx");
        e.peerings.push(Peering {
            id,
            requester: a,
            accepter: b,
        });
    }
}

/// `xl`: one security group per workload ENI, with /32 and group-reference rules naming
/// other ENIs of the same application.
fn per_eni_sgs(e: &mut Estate, rng: &mut Rng) {
    let count = e.enis.len();
    // First the groups themselves (references need the ids).
    for x in 0..count {
        if e.enis[x].role == Role::Infra || !e.enis[x].groups.is_empty() {
            continue;
        }
        let v = e.enis[x].vpc;
        let name = format!("{}-{}", e.vpcs[v].name, e.enis[x].ips[0]);
        let sg = e.new_sg(v, name, "one group per interface");
        e.enis[x].groups = vec![sg];
    }
    // Bastion ENIs got the shared bastion group above; everything else its own.
    for x in 0..count {
        let (app, tier) = match e.enis[x].role {
            Role::App(app, tier) => (app, tier),
            Role::PublicWeb(app) => {
                let (v, sg) = (e.enis[x].vpc, e.enis[x].groups[0]);
                let port = e.vpcs[v].apps[app].web_port as i64;
                e.sgs[sg].add(false, "tcp", (port, port), Peer::Cidr("0.0.0.0/0".into()));
                let partners = e.region_pls[e.vpcs[v].region][1];
                extras(e, sg, v, partners, rng);
                continue;
            }
            _ => continue,
        };
        let v = e.enis[x].vpc;
        let sg = e.enis[x].groups[0];
        let a = &e.vpcs[v].apps[app];
        let port = match tier {
            AppTier::Web => a.web_port,
            AppTier::Worker => a.worker_port,
            AppTier::Db => a.db_port,
        } as i64;
        let upstream: Vec<usize> = match tier {
            AppTier::Web => Vec::new(),
            AppTier::Worker => a.members[0].clone(),
            AppTier::Db => a.members[1].clone(),
        };
        let mut rules: Vec<Peer> = Vec::new();
        if upstream.is_empty() {
            rules.push(Peer::Cidr("10.0.0.0/8".into()));
        } else {
            for _ in 0..rng.range(1, 3) {
                let u = *rng.pick(&upstream);
                rules.push(Peer::Group(e.enis[u].groups[0], None));
            }
            for _ in 0..rng.range(1, 3) {
                let u = *rng.pick(&upstream);
                rules.push(Peer::Cidr(format!("{}/32", e.enis[u].ips[0])));
            }
        }
        for p in rules {
            e.sgs[sg].add(false, "tcp", (port, port), p);
        }
        let fixed = e.vpcs[v].fixed;
        if rng.chance(0.3) {
            e.sgs[sg].add(false, "tcp", (22, 22), Peer::Group(fixed.bastion, None));
        }
        if rng.chance(0.5) {
            let pl = e.region_pls[e.vpcs[v].region][2];
            e.sgs[sg].add(false, "tcp", (9100, 9100), Peer::PrefixList(pl));
        }
    }
}

/// Rules of every group: fixed groups, application tiers, load balancers, legacy leftovers.
fn sg_rules(e: &mut Estate, xl: bool, rng: &mut Rng) {
    let everyone = || Peer::Cidr("0.0.0.0/0".into());
    for v in 0..e.vpcs.len() {
        let f = e.vpcs[v].fixed;
        let vcidr = e.vpcs[v].cidr.to_string();
        let ipv6 = e.vpcs[v].ipv6.is_some();
        let [corp, partners, monitoring] = e.region_pls[e.vpcs[v].region];
        e.sgs[f.default].add(false, "-1", (-1, -1), Peer::Group(f.default, None));
        e.sgs[f.monitoring].add(false, "tcp", (9100, 9100), Peer::PrefixList(monitoring));
        e.sgs[f.monitoring].add(false, "udp", (8125, 8125), Peer::PrefixList(monitoring));
        e.sgs[f.ssh].add(false, "tcp", (22, 22), Peer::Group(f.bastion, None));
        e.sgs[f.ssh].add(false, "tcp", (22, 22), Peer::PrefixList(corp));
        e.sgs[f.bastion].add(false, "tcp", (22, 22), Peer::PrefixList(corp));
        if rng.chance(0.25) {
            e.sgs[f.bastion].add_described(
                false,
                "tcp",
                (22, 22),
                everyone(),
                Some("temporary: vendor access".into()),
            );
        }
        e.sgs[f.endpoints].add(false, "tcp", (443, 443), Peer::Cidr(vcidr.clone()));
        for sg in [f.default, f.monitoring, f.ssh, f.bastion, f.endpoints] {
            e.sgs[sg].add(true, "-1", (-1, -1), everyone());
            if ipv6 {
                e.sgs[sg].add(true, "-1", (-1, -1), Peer::Cidr6("::/0".into()));
            }
        }
        for k in 0..e.vpcs[v].legacy_sgs.len() {
            let sg = e.vpcs[v].legacy_sgs[k];
            let port = rng.range(1024, 9999) as i64;
            let peer = if rng.chance(0.5) {
                everyone()
            } else {
                Peer::Cidr(format!("10.{}.0.0/16", rng.below(256)))
            };
            e.sgs[sg].add(false, "tcp", (port, port), peer);
            e.sgs[sg].add(true, "-1", (-1, -1), everyone());
        }
        for app in 0..e.vpcs[v].apps.len() {
            let a = e.vpcs[v].apps[app].clone();
            // Which group admits the load balancer (per ENI in xl).
            let lb = a.lb.map(|l| (e.lbs[l].sg, e.lbs[l].internet_facing));
            let web_sources: Vec<Peer> = match lb {
                Some((Some(lbsg), _)) => vec![Peer::Group(lbsg, None)],
                // An NLB without security groups preserves client addresses.
                Some((None, true)) => vec![everyone()],
                _ => vec![Peer::Cidr("10.0.0.0/8".into())],
            };
            let web_port = a.web_port as i64;
            if xl {
                for x in &a.members[AppTier::Web as usize] {
                    let sg = e.enis[*x].groups[0];
                    for p in &web_sources {
                        e.sgs[sg].add(false, "tcp", (web_port, web_port), p.clone());
                    }
                    extras(e, sg, v, partners, rng);
                }
                for t in [AppTier::Worker, AppTier::Db] {
                    for x in &a.members[t as usize] {
                        let sg = e.enis[*x].groups[0];
                        extras(e, sg, v, partners, rng);
                    }
                }
                continue;
            }
            let (web, worker, db) = (a.sgs[0], a.sgs[1], a.sgs[2]);
            for p in web_sources {
                e.sgs[web].add(false, "tcp", (web_port, web_port), p);
            }
            if rng.chance(0.5) {
                e.sgs[web].add(false, "tcp", (22, 22), Peer::Group(f.bastion, None));
            }
            let wp = a.worker_port as i64;
            e.sgs[worker].add(false, "tcp", (wp, wp), Peer::Group(web, None));
            if rng.chance(0.3) {
                e.sgs[worker].add(false, "tcp", (0, 65535), Peer::Group(worker, None));
            }
            let dp = a.db_port as i64;
            e.sgs[db].add(false, "tcp", (dp, dp), Peer::Group(worker, None));
            e.sgs[db].add(false, "tcp", (dp, dp), Peer::Group(web, None));
            if rng.chance(0.1) {
                let who = *rng.pick(&e.partners);
                e.sgs[db].add_described(
                    false,
                    "tcp",
                    (dp, dp),
                    Peer::Cidr(format!("{who}/32")),
                    Some("data migration".into()),
                );
            }
            for sg in [web, worker, db] {
                extras(e, sg, v, partners, rng);
            }
        }
    }
    // Load balancers' own groups.
    for l in 0..e.lbs.len() {
        let Some(sg) = e.lbs[l].sg else { continue };
        let v = e.lbs[l].vpc;
        if e.lbs[l].internet_facing {
            let ports: Vec<i64> = e.lbs[l].listeners.iter().map(|x| x.port as i64).collect();
            for p in ports {
                e.sgs[sg].add(false, "tcp", (p, p), everyone());
                if e.lbs[l].dualstack {
                    e.sgs[sg].add(false, "tcp", (p, p), Peer::Cidr6("::/0".into()));
                }
            }
        } else {
            e.sgs[sg].add(false, "tcp", (443, 443), Peer::Cidr("10.0.0.0/8".into()));
        }
        let a = &e.vpcs[v].apps[e.lbs[l].app];
        let port = a.web_port as i64;
        if xl || rng.chance(0.5) {
            e.sgs[sg].add(true, "-1", (-1, -1), everyone());
        } else {
            let web = a.sgs[0];
            e.sgs[sg].add(true, "tcp", (port, port), Peer::Group(web, None));
        }
    }
    // Across same-region peerings: a data store admits the peer VPC's workers by group.
    for p in 0..e.peerings.len() {
        let (a, b) = (e.peerings[p].requester, e.peerings[p].accepter);
        if e.vpcs[a].region != e.vpcs[b].region {
            continue;
        }
        let from = {
            let apps = &e.vpcs[a].apps;
            let app = &apps[rng.below(apps.len())];
            if xl {
                app.members[1]
                    .first()
                    .or(app.members[0].first())
                    .map(|x| e.enis[*x].groups[0])
            } else {
                Some(app.sgs[1])
            }
        };
        let to = {
            let apps = &e.vpcs[b].apps;
            let k = rng.below(apps.len());
            let app = &apps[k];
            if xl {
                app.members[2]
                    .first()
                    .map(|x| (e.enis[*x].groups[0], app.db_port))
            } else {
                Some((app.sgs[2], app.db_port))
            }
        };
        if let (Some(from), Some((to, port))) = (from, to) {
            let port = port as i64;
            e.sgs[to].add_described(
                false,
                "tcp",
                (port, port),
                Peer::Group(from, Some(p)),
                Some(format!("from {} over peering", e.vpcs[a].name)),
            );
        }
    }
}

/// Occasional extra rules: the risky and the ordinary.
fn extras(e: &mut Estate, sg: usize, v: usize, partners: usize, rng: &mut Rng) {
    let everyone = || Peer::Cidr("0.0.0.0/0".into());
    let vcidr = e.vpcs[v].cidr.to_string();
    if rng.chance(0.06) {
        e.sgs[sg].add_described(false, "tcp", (22, 22), everyone(), Some("debug".into()));
    }
    if rng.chance(0.02) {
        e.sgs[sg].add(false, "tcp", (3389, 3389), everyone());
    }
    if rng.chance(0.05) {
        e.sgs[sg].add(false, "-1", (-1, -1), Peer::Cidr("10.0.0.0/8".into()));
    }
    if rng.chance(0.05) {
        e.sgs[sg].add(false, "icmp", (-1, -1), everyone());
    }
    if rng.chance(0.05) {
        e.sgs[sg].add(false, "udp", (53, 53), Peer::Cidr(vcidr.clone()));
    }
    if rng.chance(0.05) {
        e.sgs[sg].add(false, "tcp", (30000, 32767), Peer::Cidr(vcidr));
    }
    if rng.chance(0.08) {
        e.sgs[sg].add(false, "tcp", (443, 443), Peer::PrefixList(partners));
    }
    if rng.chance(0.05) {
        for _ in 0..rng.range(2, 5) {
            let who = *rng.pick(&e.partners);
            e.sgs[sg].add(false, "tcp", (443, 443), Peer::Cidr(format!("{who}/32")));
        }
    }
    if e.vpcs[v].ipv6.is_some() && rng.chance(0.03) {
        e.sgs[sg].add(false, "tcp", (22, 22), Peer::Cidr6("::/0".into()));
    }
    if rng.chance(0.9) {
        e.sgs[sg].add(true, "-1", (-1, -1), everyone());
    } else {
        e.sgs[sg].add(true, "tcp", (443, 443), everyone());
        e.sgs[sg].add(
            true,
            "udp",
            (53, 53),
            Peer::Cidr(e.vpcs[v].cidr.to_string()),
        );
    }
}

fn route_tables(e: &mut Estate, rng: &mut Rng) {
    let on_prem: Vec<Ipv4Net> = (0..50)
        .map(|k| Ipv4Net::new(Ipv4Addr::new(192, 168, k * 5, 0), 24).expect("valid"))
        .collect();
    let all_cidrs: Vec<Ipv4Net> = e.vpcs.iter().map(|v| v.cidr).collect();
    for v in 0..e.vpcs.len() {
        let vpc = e.vpcs[v].clone();
        let tgw = vpc.region;
        let local = || {
            let mut r = vec![Route {
                dest: Dest::V4(vpc.cidr),
                target: Target::Local,
            }];
            if let Some(p) = vpc.ipv6 {
                r.push(Route {
                    dest: Dest::V6(format!("{}/56", Ipv6Addr::from(p))),
                    target: Target::Local,
                });
            }
            r
        };
        let peer_routes: Vec<Route> = e
            .peerings
            .iter()
            .enumerate()
            .filter_map(|(p, x)| {
                let other = if x.requester == v {
                    x.accepter
                } else if x.accepter == v {
                    x.requester
                } else {
                    return None;
                };
                Some(Route {
                    dest: Dest::V4(e.vpcs[other].cidr),
                    target: Target::Peering(p),
                })
            })
            .collect();
        let peered: BTreeSet<Ipv4Net> = peer_routes
            .iter()
            .filter_map(|r| match r.dest {
                Dest::V4(n) => Some(n),
                _ => None,
            })
            .collect();
        let internal = |explicit: bool| -> Vec<Route> {
            let mut out = vec![Route {
                dest: Dest::V4("10.0.0.0/8".parse().expect("valid")),
                target: Target::Tgw(tgw),
            }];
            if explicit {
                for o in &all_cidrs {
                    if *o != vpc.cidr && !peered.contains(o) {
                        out.push(Route {
                            dest: Dest::V4(*o),
                            target: Target::Tgw(tgw),
                        });
                    }
                }
                for n in &on_prem {
                    out.push(Route {
                        dest: Dest::V4(*n),
                        target: Target::Tgw(tgw),
                    });
                }
            }
            out
        };
        let corp_route = rng.chance(0.3).then(|| Route {
            dest: Dest::PrefixList(e.region_pls[vpc.region][0]),
            target: Target::Tgw(tgw),
        });
        let default_route = |az: usize, public: bool| -> Route {
            let target = match (&vpc.igw, public) {
                (Some(igw), true) => Target::Igw(igw.clone()),
                (Some(_), false) => Target::Nat(vpc.nats[az]),
                (None, _) => Target::Tgw(tgw),
            };
            Route {
                dest: Dest::V4("0.0.0.0/0".parse().expect("valid")),
                target,
            }
        };
        let add =
            |e: &mut Estate, name: String, main: bool, subnets: Vec<usize>, routes: Vec<Route>| {
                let id = e.next_id("rtb");
                e.route_tables.push(RouteTable {
                    id,
                    vpc: v,
                    name,
                    main,
                    subnets,
                    routes,
                });
            };
        let n = &vpc.name;
        add(e, format!("{n}-main"), true, Vec::new(), local());
        // public
        let mut routes = local();
        routes.push(default_route(0, true));
        if let (Some(igw), Some(_)) = (&vpc.igw, vpc.ipv6) {
            routes.push(Route {
                dest: Dest::V6("::/0".into()),
                target: Target::Igw(igw.clone()),
            });
        }
        routes.extend(internal(false));
        routes.extend(peer_routes.iter().cloned());
        routes.extend(corp_route.clone());
        add(
            e,
            format!("{n}-public"),
            false,
            vpc.subnets[0].to_vec(),
            routes,
        );
        for az in 0..AZS {
            let mut routes = local();
            routes.push(default_route(az, false));
            routes.extend(internal(vpc.explicit_routes));
            routes.extend(peer_routes.iter().cloned());
            routes.extend(corp_route.clone());
            add(
                e,
                format!("{n}-app-{}", ["a", "b", "c"][az]),
                false,
                vec![vpc.subnets[1][az]],
                routes,
            );
        }
        for az in 0..AZS {
            let mut routes = local();
            routes.extend(internal(vpc.explicit_routes));
            routes.extend(peer_routes.iter().cloned());
            add(
                e,
                format!("{n}-data-{}", ["a", "b", "c"][az]),
                false,
                vec![vpc.subnets[2][az]],
                routes,
            );
        }
        let mut routes = local();
        if vpc.local_egress {
            routes.push(default_route(0, false));
        }
        add(
            e,
            format!("{n}-tgw"),
            false,
            vpc.subnets[3].to_vec(),
            routes,
        );
        // An old table nobody uses, with a route to a NAT gateway deleted since.
        let mut routes = local();
        let gone = e.next_id("nat");
        routes.push(Route {
            dest: Dest::V4("0.0.0.0/0".parse().expect("valid")),
            target: Target::DeletedNat(gone),
        });
        add(e, format!("{n}-legacy"), false, Vec::new(), routes);
    }
}

fn nacl_entry(
    rule: u32,
    egress: bool,
    allow: bool,
    proto: &'static str,
    cidr: &str,
    ports: Option<(u16, u16)>,
) -> NaclEntry {
    NaclEntry {
        rule,
        egress,
        allow,
        proto,
        cidr: cidr.to_string(),
        v6: cidr.contains(':'),
        ports,
    }
}

fn nacls(e: &mut Estate, rng: &mut Rng) {
    const ALL: &str = "0.0.0.0/0";
    const ORG: &str = "10.0.0.0/8";
    const EPHEMERAL: Option<(u16, u16)> = Some((1024, 65535));
    for v in 0..e.vpcs.len() {
        let vpc = e.vpcs[v].clone();
        let ipv6 = vpc.ipv6.is_some();
        let closing = |ipv6: bool| {
            let mut out = vec![
                nacl_entry(32767, false, false, "-1", ALL, None),
                nacl_entry(32767, true, false, "-1", ALL, None),
            ];
            if ipv6 {
                out.push(nacl_entry(32768, false, false, "-1", "::/0", None));
                out.push(nacl_entry(32768, true, false, "-1", "::/0", None));
            }
            out
        };
        // default: allow everything (no subnet uses it).
        let mut default = vec![
            nacl_entry(100, false, true, "-1", ALL, None),
            nacl_entry(100, true, true, "-1", ALL, None),
        ];
        if ipv6 {
            default.push(nacl_entry(101, false, true, "-1", "::/0", None));
            default.push(nacl_entry(101, true, true, "-1", "::/0", None));
        }
        default.extend(closing(ipv6));

        let mut public = vec![
            nacl_entry(100, false, true, "6", ALL, Some((443, 443))),
            nacl_entry(101, false, true, "6", ALL, Some((80, 80))),
            nacl_entry(110, false, true, "6", ALL, EPHEMERAL),
            nacl_entry(111, false, true, "17", ALL, EPHEMERAL),
            nacl_entry(120, false, true, "-1", ORG, None),
            nacl_entry(130, false, true, "6", "192.168.0.0/16", Some((22, 22))),
            nacl_entry(100, true, true, "-1", ALL, None),
        ];
        if ipv6 {
            public.extend([
                nacl_entry(140, false, true, "6", "::/0", Some((443, 443))),
                nacl_entry(141, false, true, "6", "::/0", Some((80, 80))),
                nacl_entry(142, false, true, "6", "::/0", EPHEMERAL),
                nacl_entry(101, true, true, "-1", "::/0", None),
            ]);
        }
        // Bastions and public hosts are reached on SSH from anywhere in some VPCs.
        if rng.chance(0.5) {
            public.push(nacl_entry(131, false, true, "6", ALL, Some((22, 22))));
        }
        public.extend(closing(ipv6));

        let mut app = vec![
            nacl_entry(100, false, true, "-1", ORG, None),
            nacl_entry(110, false, true, "6", ALL, EPHEMERAL),
            nacl_entry(111, false, true, "17", ALL, EPHEMERAL),
            nacl_entry(100, true, true, "-1", ALL, None),
        ];
        app.extend(closing(false));

        let mut data = Vec::new();
        let mut db_ports: Vec<u16> = vpc.apps.iter().map(|a| a.db_port).collect();
        db_ports.sort_unstable();
        db_ports.dedup();
        for (k, p) in db_ports.iter().enumerate() {
            data.push(nacl_entry(
                100 + k as u32,
                false,
                true,
                "6",
                ORG,
                Some((*p, *p)),
            ));
        }
        data.extend([
            nacl_entry(110, false, true, "6", ORG, Some((9100, 9100))),
            nacl_entry(111, false, true, "6", ORG, Some((22, 22))),
            nacl_entry(120, false, true, "6", ALL, EPHEMERAL),
            nacl_entry(100, true, true, "6", ORG, EPHEMERAL),
            nacl_entry(110, true, true, "6", ALL, Some((443, 443))),
            nacl_entry(120, true, true, "-1", &vpc.cidr.to_string(), None),
        ]);
        data.extend(closing(false));

        let mut tgw = vec![
            nacl_entry(100, false, true, "-1", ALL, None),
            nacl_entry(100, true, true, "-1", ALL, None),
        ];
        tgw.extend(closing(false));

        let mut sets = vec![
            ("default", true, Vec::new(), default),
            ("public", false, vpc.subnets[0].to_vec(), public),
            ("app", false, vpc.subnets[1].to_vec(), app),
            ("data", false, vpc.subnets[2].to_vec(), data),
            ("tgw", false, vpc.subnets[3].to_vec(), tgw),
        ];
        // Pad to 10–40 entries: threat ranges denied first, partners admitted on 443.
        for (name, is_default, _, entries) in sets.iter_mut() {
            if *is_default {
                continue;
            }
            let target = rng.range(entries.len().max(10), 40);
            let mut k = 0u32;
            while entries.len() < target {
                if *name == "data" || *name == "tgw" || rng.chance(0.7) {
                    let t = e.threats[k as usize % e.threats.len()];
                    entries.push(nacl_entry(
                        10 + k,
                        k % 5 == 4,
                        false,
                        "-1",
                        &t.to_string(),
                        None,
                    ));
                } else {
                    let p = e.partners[k as usize % e.partners.len()];
                    entries.push(nacl_entry(
                        200 + k,
                        false,
                        true,
                        "6",
                        &format!("{p}/32"),
                        Some((443, 443)),
                    ));
                }
                k += 1;
            }
        }
        for (name, is_default, subnets, mut entries) in sets {
            entries.sort_by_key(|x| (x.egress, x.rule, x.v6));
            let id = e.next_id("acl");
            e.nacls.push(Nacl {
                id,
                vpc: v,
                name: format!("{}-{name}", vpc.name),
                default: is_default,
                subnets,
                entries,
            });
        }
    }
}

/// Transit gateway routes: propagated VPC routes, segmentation blackholes, the default route to
/// the hub, other regions over TGW peering, then per-subnet static routes up to `target` in all.
fn tgw_routes(e: &mut Estate, target: usize) {
    let supernets: Vec<Ipv4Net> = (0..e.regions)
        .map(|r| {
            let (base, plen) = REGION_BLOCKS[r];
            Ipv4Net::new(Ipv4Addr::new(10, base, 0, 0), plen).expect("valid")
        })
        .collect();
    let default: Ipv4Net = "0.0.0.0/0".parse().expect("valid");
    for t in 0..e.tgws.len() {
        let [prod, nonprod, shared] = e.tgws[t].route_tables;
        let hub_att = e
            .vpcs
            .iter()
            .find(|v| v.hub && v.region == e.tgws[t].region)
            .and_then(|v| v.tgw_attachment);
        let vpc_atts: Vec<(usize, usize)> = e
            .tgw_attachments
            .iter()
            .enumerate()
            .filter(|(_, a)| a.tgw == t)
            .filter_map(|(i, a)| match a.resource {
                AttachmentResource::Vpc(v) => Some((i, v)),
                _ => None,
            })
            .collect();
        for (att, v) in &vpc_atts {
            let env = e.vpcs[*v].env;
            let cidr = e.vpcs[*v].cidr;
            let route = |attachment: Option<usize>| TgwRoute {
                cidr,
                attachment,
                propagated: attachment.is_some(),
            };
            e.tgw_route_tables[shared].routes.push(route(Some(*att)));
            match env {
                Env::Prod => {
                    e.tgw_route_tables[prod].routes.push(route(Some(*att)));
                    e.tgw_route_tables[nonprod].routes.push(route(None));
                }
                Env::Nonprod => {
                    e.tgw_route_tables[nonprod].routes.push(route(Some(*att)));
                    e.tgw_route_tables[prod].routes.push(route(None));
                }
                Env::Shared => {
                    e.tgw_route_tables[prod].routes.push(route(Some(*att)));
                    e.tgw_route_tables[nonprod].routes.push(route(Some(*att)));
                }
            }
        }
        if let Some(hub) = hub_att {
            for rt in [prod, nonprod] {
                e.tgw_route_tables[rt].routes.push(TgwRoute {
                    cidr: default,
                    attachment: Some(hub),
                    propagated: false,
                });
            }
        }
        for (i, a) in e.tgw_attachments.iter().enumerate() {
            if a.tgw != t {
                continue;
            }
            if let AttachmentResource::Peering(other) = a.resource {
                for rt in [prod, nonprod, shared] {
                    e.tgw_route_tables[rt].routes.push(TgwRoute {
                        cidr: supernets[e.tgws[other].region],
                        attachment: Some(i),
                        propagated: false,
                    });
                }
            }
        }
    }
    // Per-subnet static routes (more specific than the propagated VPC routes), round-robin over
    // VPCs, into each table that routes the VPC, until the total reaches the target.
    let mut total: usize = e.tgw_route_tables.iter().map(|t| t.routes.len()).sum();
    let subnets_of: Vec<Vec<Ipv4Net>> = e
        .vpcs
        .iter()
        .map(|v| {
            v.subnets
                .iter()
                .flatten()
                .map(|s| e.subnets[*s].cidr)
                .collect()
        })
        .collect();
    let mut k = 0;
    while total < target && k < 12 {
        for v in 0..e.vpcs.len() {
            if total >= target {
                break;
            }
            let att = e.vpcs[v].tgw_attachment.expect("attached");
            let t = e.tgw_attachments[att].tgw;
            let [prod, nonprod, shared] = e.tgws[t].route_tables;
            let tables: &[usize] = match e.vpcs[v].env {
                Env::Prod => &[shared, prod],
                Env::Nonprod => &[shared, nonprod],
                Env::Shared => &[shared, prod, nonprod],
            };
            for rt in tables {
                if total >= target {
                    break;
                }
                e.tgw_route_tables[*rt].routes.push(TgwRoute {
                    cidr: subnets_of[v][k],
                    attachment: Some(att),
                    propagated: false,
                });
                total += 1;
            }
        }
        k += 1;
    }
}
