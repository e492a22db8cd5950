//! Random small AWS estates, written as AWS CLI `describe-*` JSON.
//!
//! The estate is kept in a small structure of its own (ids everywhere, never
//! indices, so that the shrinker can delete things) and rendered to the eight
//! files a snapshot needs. Everything is consistent: every id resolves, every
//! subnet has one route table and one NACL, every ENI has at least one SG of
//! its own VPC.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "eu-west-1";

/// Internet clients used by the flows (never an address of the estate).
pub const CLIENTS: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "52.95.110.1",
    "192.0.2.77",
    "198.51.100.200",
    "203.0.113.250",
];

/// SplitMix64: small, seedable, good enough for test generation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }
    /// lo..=hi.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn weighted<T: Clone>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total as usize) as u32;
        for (x, w) in xs {
            if r < *w {
                return x.clone();
            }
            r -= w;
        }
        unreachable!()
    }
}

#[derive(Debug, Clone)]
pub struct Vpc {
    pub id: String,
    pub cidr: Ipv4Net,
    /// A secondary IPv4 CIDR block (`100.64.v.0/24`-style ranges are not used:
    /// `10.(v+10).0.0/16`), with its own local route.
    pub secondary: Option<Ipv4Net>,
}

impl Vpc {
    pub fn cidrs(&self) -> Vec<Ipv4Net> {
        std::iter::once(self.cidr).chain(self.secondary).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub vpc: String,
    pub cidr: Ipv4Net,
    pub az: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local,
    Igw(String),
    Pcx(String),
    /// Only ever used for blackhole routes (a deleted appliance ENI).
    Eni(String),
    /// A transit gateway (`TransitGatewayId`).
    Tgw(String),
    /// A NAT gateway (`NatGatewayId`, §3.3).
    Nat(String),
    /// A virtual private gateway (`GatewayId`, a static route; §3.3, §6.3).
    Vgw(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub dest: Ipv4Net,
    pub target: Target,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub id: String,
    pub vpc: String,
    pub main: bool,
    /// Explicit subnet associations.
    pub subnets: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct NaclEntry {
    pub number: u32,
    pub egress: bool,
    pub allow: bool,
    /// -1, 1, 6 or 17.
    pub proto: i32,
    pub ports: Option<(u16, u16)>,
    pub cidr: Ipv4Net,
}

#[derive(Debug, Clone)]
pub struct Nacl {
    pub id: String,
    pub vpc: String,
    pub default: bool,
    /// Subnets listed in `Associations` (for the default NACL, possibly none of
    /// the subnets that use it implicitly).
    pub subnets: Vec<String>,
    pub entries: Vec<NaclEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePeer {
    Cidr(Ipv4Net),
    Group(String),
}

#[derive(Debug, Clone)]
pub struct SgRule {
    /// -1, 1, 6 or 17.
    pub proto: i32,
    /// FromPort/ToPort (ICMP: type/code); `None` for protocol -1.
    pub ports: Option<(i32, i32)>,
    pub peer: RulePeer,
}

#[derive(Debug, Clone)]
pub struct Sg {
    pub id: String,
    pub vpc: String,
    pub name: String,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone)]
pub struct Eni {
    pub id: String,
    pub subnet: String,
    pub ip: Ipv4Addr,
    pub public: Option<Ipv4Addr>,
    pub elastic: bool,
    /// A secondary private IP and the public IP mapped to it (§8: mapping is per private IP).
    pub secondary: Option<(Ipv4Addr, Option<Ipv4Addr>)>,
    pub groups: Vec<String>,
    pub instance: String,
}

#[derive(Debug, Clone)]
pub struct Igw {
    pub id: String,
    /// The VPC it was created for.
    pub vpc: String,
    /// Whether it is attached to that VPC.
    pub attached: bool,
}

#[derive(Debug, Clone)]
pub struct Peering {
    pub id: String,
    pub requester: String,
    pub accepter: String,
    /// `active`, `deleted`, `pending-acceptance`, ...
    pub status: String,
}

/// An ELBv2 load balancer node (one ENI per enabled subnet, §5.1, §5.5).
#[derive(Debug, Clone)]
pub struct LbNode {
    pub eni: String,
    pub subnet: String,
    pub ip: Ipv4Addr,
    /// Internet-facing load balancers only.
    pub public: Option<Ipv4Addr>,
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub id: String,
    /// `HTTP`, `HTTPS` (ALB); `TCP`, `UDP`, `TLS`, `TCP_UDP` (NLB).
    pub protocol: String,
    pub port: u16,
    /// Target groups the listener forwards to (empty: a fixed response). An ALB listener
    /// whose id is odd forwards by a path rule (`describe-rules`) while its default action is
    /// a fixed response ([`Lb::rules_forward`]); the others by their default action.
    pub forward: Vec<String>,
}

/// An Application (`network == false`) or Network Load Balancer.
#[derive(Debug, Clone)]
pub struct Lb {
    pub name: String,
    /// The 16-hex-digit id in the ARN.
    pub id: String,
    pub network: bool,
    pub internet_facing: bool,
    pub vpc: String,
    pub nodes: Vec<LbNode>,
    /// Security groups (mandatory for ALBs; an NLB may have none).
    pub groups: Vec<String>,
    /// NLB `load_balancing.cross_zone.enabled` (`None`: attribute not written, default off).
    pub cross_zone: Option<bool>,
    /// ALB ENIs show `InterfaceType` `interface` or `load_balancer` (§5.5).
    pub alb_eni_type_lb: bool,
    pub listeners: Vec<Listener>,
}

impl Lb {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/{}/{}/{}",
            if self.network { "net" } else { "app" },
            self.name,
            self.id
        )
    }
    /// Whether the listener's forwarding is written as a rule rather than its default action
    /// (ALB listeners with an odd id): the loader must read both the same.
    pub fn rules_forward(&self, l: &Listener) -> bool {
        !self.network
            && !l.forward.is_empty()
            && l.id.ends_with(['1', '3', '5', '7', '9', 'b', 'd', 'f'])
    }
    pub fn listener_arn(&self, l: &Listener) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/{}/{}/{}/{}",
            if self.network { "net" } else { "app" },
            self.name,
            self.id,
            l.id
        )
    }
}

#[derive(Debug, Clone)]
pub struct LbTarget {
    /// Instance id (instance groups) or private IPv4 (ip groups).
    pub id: String,
    /// The registered port (`None`: the group's).
    pub port: Option<u16>,
    /// `healthy`, `unhealthy`, `initial`, `unused`, `draining`, `unavailable`.
    pub health: String,
    /// `AvailabilityZone` of an ip target outside the load balancer's VPC (§5.1).
    pub az: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TargetGroup {
    pub name: String,
    pub id: String,
    /// `HTTP`/`HTTPS` (ALB); `TCP`, `UDP`, `TLS`, `TCP_UDP` (NLB).
    pub protocol: String,
    pub port: u16,
    pub instance: bool,
    pub vpc: String,
    /// The load balancer's name (one load balancer per group).
    pub lb: String,
    pub targets: Vec<LbTarget>,
    /// `preserve_client_ip.enabled` (`None`: attribute not written).
    pub preserve: Option<bool>,
    /// `load_balancing.cross_zone.enabled`: `true` or `false` override the load balancer's
    /// setting (an ALB's is always on), `use_load_balancer_configuration` does not (nor does
    /// `None`: attribute not written).
    pub cross_zone: Option<&'static str>,
}

impl TargetGroup {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{}/{}",
            self.name, self.id
        )
    }
}

/// A VPC attachment of a transit gateway (§6.2): one subnet per Availability Zone.
#[derive(Debug, Clone)]
pub struct TgwAttachment {
    pub id: String,
    pub vpc: String,
    pub subnets: Vec<String>,
    /// The associated TGW route table (`None`: not associated).
    pub table: Option<String>,
    /// `SecurityGroupReferencingSupport` of the attachment.
    pub sg_referencing: bool,
    /// `ApplianceModeSupport`.
    pub appliance: bool,
}

/// A static TGW route (`attachment` `None`: a blackhole).
#[derive(Debug, Clone)]
pub struct TgwStatic {
    pub dest: Ipv4Net,
    pub attachment: Option<String>,
}

/// A TGW route table. Its propagated routes are derived when rendering: every CIDR of
/// every propagating attachment's VPC (hidden by an identical static route unless
/// `show_hidden`, which lists both as some outputs might).
#[derive(Debug, Clone)]
pub struct TgwTable {
    pub id: String,
    pub propagations: Vec<String>,
    pub statics: Vec<TgwStatic>,
    pub show_hidden: bool,
}

/// A transit gateway with its VPC attachments and route tables.
#[derive(Debug, Clone)]
pub struct Tgw {
    pub id: String,
    /// `SecurityGroupReferencingSupport` of the gateway.
    pub sg_referencing: bool,
    /// Default association / propagation route tables (`None`: disabled).
    pub default_assoc: Option<String>,
    pub default_prop: Option<String>,
    pub attachments: Vec<TgwAttachment>,
    pub tables: Vec<TgwTable>,
    /// Whether the attachments' `transit_gateway` ENIs are written.
    pub enis: bool,
}

impl Tgw {
    /// The effective routes of a table: (destination, attachment or blackhole, propagated).
    pub fn routes(&self, e: &Estate, t: &TgwTable) -> Vec<(Ipv4Net, Option<String>, bool)> {
        let mut out: Vec<(Ipv4Net, Option<String>, bool)> = t
            .statics
            .iter()
            .map(|r| (r.dest, r.attachment.clone(), false))
            .collect();
        for a in &t.propagations {
            let Some(att) = self.attachments.iter().find(|x| &x.id == a) else {
                // The VPN attachment propagates what on-premises advertises by BGP.
                for c in e.tgw_vpn(a).map(|v| v.vpn.propagates()).unwrap_or_default() {
                    if t.show_hidden || !t.statics.iter().any(|r| r.dest == c) {
                        out.push((c, Some(a.clone()), true));
                    }
                }
                continue;
            };
            for c in e.vpc(&att.vpc).map(|v| v.cidrs()).unwrap_or_default() {
                if t.show_hidden || !t.statics.iter().any(|r| r.dest == c) {
                    out.push((c, Some(a.clone()), true));
                }
            }
        }
        out
    }
}

/// A NAT gateway (§4.5) with its one address (and its `nat_gateway` ENI, §7).
#[derive(Debug, Clone)]
pub struct NatGw {
    pub id: String,
    pub subnet: String,
    pub vpc: String,
    /// Its private IP (`NatGatewayAddresses[].PrivateIp`).
    pub ip: Ipv4Addr,
    /// Its Elastic IP (`PublicIp`), public NAT gateways only.
    pub eip: Option<Ipv4Addr>,
    /// `ConnectivityType` `private`.
    pub private: bool,
    /// `available`, `pending`, `failed`, `deleting`, `deleted`.
    pub state: String,
    /// Its ENI's id (written in `NetworkInterfaceId`).
    pub eni: String,
    /// Whether the ENI itself is in describe-network-interfaces.
    pub write_eni: bool,
}

impl NatGw {
    /// Whether AWS still lists its ENI and shows routes to it as active.
    pub fn exists(&self) -> bool {
        !matches!(self.state.as_str(), "failed" | "deleted")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Estate {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub nacls: Vec<Nacl>,
    pub sgs: Vec<Sg>,
    pub enis: Vec<Eni>,
    pub igws: Vec<Igw>,
    pub peerings: Vec<Peering>,
    /// ELBv2 load balancers (0-2) and their target groups (§5).
    pub lbs: Vec<Lb>,
    pub target_groups: Vec<TargetGroup>,
    /// Transit gateways (0-2, §6.2; the second drawn by `generate_tgw2`).
    pub tgws: Vec<Tgw>,
    /// Security-group rules drawn with the transit gateway (group id, egress, rule): kept
    /// apart so that the groups' own rule lists (which the classic flows look at) stay
    /// what they were; rendered after the group's own rules.
    pub tgw_sg_rules: Vec<(String, bool, SgRule)>,
    /// NAT gateways (§4.5), drawn after everything else.
    pub nats: Vec<NatGw>,
    /// Ingress rules drawn with the NAT gateways (admitting their Elastic IPs), kept apart
    /// like `tgw_sg_rules` for the same reason.
    pub nat_sg_rules: Vec<(String, bool, SgRule)>,
    /// VPN gateways (0-1, §6.3), drawn after the NAT gateways.
    pub vgws: Vec<Vgw>,
    /// (route table, VGW) for `PropagatingVgws`.
    pub vgw_propagating: Vec<(String, String)>,
    /// VPN attachments of the transit gateway (0-1).
    pub tgw_vpns: Vec<TgwVpn>,
    /// Ingress rules drawn with the VPN parts (admitting on-premises ranges), kept apart.
    pub vpn_sg_rules: Vec<(String, bool, SgRule)>,
    /// Rules drawn with the second transit gateway (admitting the VPCs it attaches), kept
    /// apart like the others, so that no older flow's port choice changes.
    pub tgw2_sg_rules: Vec<(String, bool, SgRule)>,
    /// Encoding variants the loader must normalise: SG protocols as numbers
    /// (`"6"`), `-1` SG rules with `FromPort/ToPort -1`, `-1` NACL entries
    /// carrying a (meaningless) `PortRange`, NACL entries out of order.
    pub odd_encoding: bool,
}

fn rng_vpc_cidrs(e: &Estate) -> Vec<Ipv4Net> {
    e.vpcs.iter().flat_map(|v| v.cidrs()).collect()
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}-0{:016x}", 0x0bf0_0000_u64 + n as u64)
}

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn host(a: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new(a, 32).unwrap()
}

/// Port ranges rules use.
const RULE_PORTS: &[(u16, u16)] = &[
    (22, 22),
    (80, 80),
    (443, 443),
    (1024, 65535),
    (0, 1023),
    (0, 65535),
    (32768, 61000),
    (80, 443),
    (8080, 8080),
    (3306, 3306),
];

impl Estate {
    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.id == id)
    }
    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }
    pub fn sg(&self, id: &str) -> Option<&Sg> {
        self.sgs.iter().find(|s| s.id == id)
    }
    /// An interface's `Groups` entries (name and id).
    fn group_refs(&self, groups: &[String]) -> Vec<Value> {
        groups
            .iter()
            .map(|g| json!({"GroupName": self.sg(g).map(|s| s.name.clone()).unwrap_or_default(), "GroupId": g}))
            .collect()
    }
    /// A group's rules in one direction, with those drawn with the transit gateway.
    pub fn rules_of(&self, g: &Sg, egress: bool) -> Vec<SgRule> {
        let mut out = self.rules_before_nat(g, egress);
        out.extend(
            self.nat_sg_rules
                .iter()
                .filter(|(id, e, _)| id == &g.id && *e == egress)
                .map(|(_, _, r)| r.clone()),
        );
        out
    }
    /// A group's rules with those drawn with the VPN parts, not the second transit
    /// gateway's (what the flows drawn before it look at, so that they stay what they were).
    pub fn rules_all(&self, g: &Sg, egress: bool) -> Vec<SgRule> {
        let mut out = self.rules_of(g, egress);
        out.extend(self.vpn_rules(&g.id, egress));
        out
    }
    /// Every rule of a group, with those drawn with the second transit gateway (what is
    /// rendered).
    pub fn rules_rendered(&self, g: &Sg, egress: bool) -> Vec<SgRule> {
        let mut out = self.rules_all(g, egress);
        out.extend(
            self.tgw2_sg_rules
                .iter()
                .filter(|(id, e, _)| id == &g.id && *e == egress)
                .map(|(_, _, r)| r.clone()),
        );
        out
    }
    /// A group's rules without those drawn with the NAT gateways (what the flows drawn
    /// before them look at, so that they stay what they were).
    pub fn rules_before_nat(&self, g: &Sg, egress: bool) -> Vec<SgRule> {
        let own = if egress { &g.egress } else { &g.ingress };
        own.iter()
            .cloned()
            .chain(
                self.tgw_sg_rules
                    .iter()
                    .filter(|(id, e, _)| id == &g.id && *e == egress)
                    .map(|(_, _, r)| r.clone()),
            )
            .collect()
    }
    pub fn peering_between(&self, a: &str, b: &str) -> Option<&Peering> {
        self.peerings.iter().find(|p| {
            (p.requester == a && p.accepter == b) || (p.requester == b && p.accepter == a)
        })
    }

    /// A random small estate.
    pub fn generate(rng: &mut Rng) -> Estate {
        let mut e = Estate {
            odd_encoding: rng.chance(0.2),
            ..Estate::default()
        };
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            id(prefix, counter)
        };
        let nv = rng.weighted(&[(1usize, 25), (2, 55), (3, 20)]);
        for v in 0..nv {
            e.vpcs.push(Vpc {
                id: next_id("vpc"),
                cidr: net(&format!("10.{v}.0.0/16")),
                secondary: rng
                    .chance(0.15)
                    .then(|| net(&format!("10.{}.0.0/16", v + 10))),
            });
        }
        // Subnets.
        for (v, vpc) in e.vpcs.clone().iter().enumerate() {
            let ns = rng.range(1, 3);
            for s in 1..=ns {
                // With a secondary CIDR, the last subnet lives in it.
                let octet = if s == ns && vpc.secondary.is_some() {
                    v + 10
                } else {
                    v
                };
                e.subnets.push(Subnet {
                    id: next_id("subnet"),
                    vpc: vpc.id.clone(),
                    cidr: net(&format!("10.{octet}.{s}.0/24")),
                    az: format!("{REGION}{}", if s % 2 == 1 { "a" } else { "b" }),
                });
            }
        }
        // Internet gateways (one per VPC at most), sometimes detached.
        for vpc in e.vpcs.clone() {
            if rng.chance(0.8) {
                e.igws.push(Igw {
                    id: next_id("igw"),
                    vpc: vpc.id.clone(),
                    attached: rng.chance(0.92),
                });
            }
        }
        // Peerings.
        for i in 0..nv {
            for j in (i + 1)..nv {
                let p = if nv == 2 { 0.65 } else { 0.5 };
                if rng.chance(p) {
                    let status = rng.weighted(&[
                        ("active", 85),
                        ("deleted", 5),
                        ("pending-acceptance", 5),
                        ("rejected", 3),
                        ("expired", 2),
                    ]);
                    let (a, b) = if rng.chance(0.5) { (i, j) } else { (j, i) };
                    e.peerings.push(Peering {
                        id: next_id("pcx"),
                        requester: e.vpcs[a].id.clone(),
                        accepter: e.vpcs[b].id.clone(),
                        status: status.to_string(),
                    });
                }
            }
        }
        // Security groups: the default one plus 1-3 custom ones per VPC (rules later).
        for vpc in e.vpcs.clone() {
            let def = next_id("sg");
            e.sgs.push(Sg {
                id: def.clone(),
                vpc: vpc.id.clone(),
                name: "default".into(),
                ingress: vec![SgRule {
                    proto: -1,
                    ports: None,
                    peer: RulePeer::Group(def.clone()),
                }],
                egress: vec![SgRule {
                    proto: -1,
                    ports: None,
                    peer: RulePeer::Cidr(net("0.0.0.0/0")),
                }],
            });
            for k in 0..rng.range(1, 3) {
                e.sgs.push(Sg {
                    id: next_id("sg"),
                    vpc: vpc.id.clone(),
                    name: format!("sg-{k}"),
                    ingress: Vec::new(),
                    egress: Vec::new(),
                });
            }
        }
        // ENIs.
        let mut public_pool: Vec<Ipv4Addr> = (1..=100u8)
            .flat_map(|h| {
                [
                    Ipv4Addr::new(198, 51, 100, h),
                    Ipv4Addr::new(203, 0, 113, h),
                ]
            })
            .collect();
        for subnet in e.subnets.clone() {
            for k in 0..rng.range(1, 3) {
                let o = subnet.cidr.network().octets();
                let ip = Ipv4Addr::new(o[0], o[1], o[2], 10 + k as u8);
                let public = if rng.chance(0.6) {
                    let i = rng.below(public_pool.len());
                    Some(public_pool.swap_remove(i))
                } else {
                    None
                };
                let vpc_sgs: Vec<String> = e
                    .sgs
                    .iter()
                    .filter(|g| g.vpc == subnet.vpc)
                    .map(|g| g.id.clone())
                    .collect();
                let mut groups = vec![rng.pick(&vpc_sgs).clone()];
                if rng.chance(0.3) {
                    let g = rng.pick(&vpc_sgs).clone();
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
                let secondary = if rng.chance(0.15) {
                    let sip = Ipv4Addr::new(o[0], o[1], o[2], 100 + k as u8);
                    let spub = if rng.chance(0.6) {
                        let i = rng.below(public_pool.len());
                        Some(public_pool.swap_remove(i))
                    } else {
                        None
                    };
                    Some((sip, spub))
                } else {
                    None
                };
                e.enis.push(Eni {
                    id: next_id("eni"),
                    subnet: subnet.id.clone(),
                    ip,
                    public,
                    elastic: public.is_some() && rng.chance(0.3),
                    secondary,
                    groups,
                    instance: next_id("i"),
                });
            }
        }
        // Security-group rules.
        for gi in 0..e.sgs.len() {
            let default = e.sgs[gi].name == "default";
            if default && rng.chance(0.7) {
                continue; // untouched default group
            }
            let vpc = e.sgs[gi].vpc.clone();
            let mut ingress = if default {
                e.sgs[gi].ingress.clone()
            } else {
                Vec::new()
            };
            if rng.chance(0.4) {
                // A typical service rule.
                let port = *rng.pick(&[22, 80, 443, 3306]);
                let cidr = *rng.pick(&[
                    net("0.0.0.0/0"),
                    net("0.0.0.0/0"),
                    net("10.0.0.0/8"),
                    e.vpc(&vpc).unwrap().cidr,
                ]);
                ingress.push(SgRule {
                    proto: 6,
                    ports: Some((port, port)),
                    peer: RulePeer::Cidr(cidr),
                });
            }
            for _ in 0..rng.range(0, 4) {
                ingress.push(e.random_sg_rule(rng, &vpc));
            }
            let egress = if rng.chance(0.75) {
                vec![SgRule {
                    proto: -1,
                    ports: None,
                    peer: RulePeer::Cidr(net("0.0.0.0/0")),
                }]
            } else {
                (0..rng.range(0, 3))
                    .map(|_| e.random_sg_rule(rng, &vpc))
                    .collect()
            };
            e.sgs[gi].ingress = ingress;
            e.sgs[gi].egress = egress;
        }
        // NACLs: the default one (allow-all or random) plus 0-2 custom ones per VPC.
        for vpc in e.vpcs.clone() {
            let mut entries = Vec::new();
            if rng.chance(0.8) {
                for egress in [false, true] {
                    entries.push(NaclEntry {
                        number: 100,
                        egress,
                        allow: true,
                        proto: -1,
                        ports: None,
                        cidr: net("0.0.0.0/0"),
                    });
                }
            } else {
                entries = e.random_nacl_entries(rng);
            }
            if rng.chance(0.5) {
                for egress in [false, true] {
                    entries.push(NaclEntry {
                        number: 32767,
                        egress,
                        allow: false,
                        proto: -1,
                        ports: None,
                        cidr: net("0.0.0.0/0"),
                    });
                }
            }
            e.nacls.push(Nacl {
                id: next_id("acl"),
                vpc: vpc.id.clone(),
                default: true,
                subnets: Vec::new(),
                entries,
            });
            for _ in 0..rng.range(0, 2) {
                let mut entries = e.random_nacl_entries(rng);
                if rng.chance(0.5) {
                    // Mostly open: random rules punch holes before a late allow-all.
                    let number = *rng.pick(&[500u32, 1000, 32000, 32766]);
                    for egress in [false, true] {
                        if !entries
                            .iter()
                            .any(|x| x.egress == egress && x.number == number)
                        {
                            entries.push(NaclEntry {
                                number,
                                egress,
                                allow: true,
                                proto: -1,
                                ports: None,
                                cidr: net("0.0.0.0/0"),
                            });
                        }
                    }
                }
                if rng.chance(0.3) {
                    for egress in [false, true] {
                        entries.push(NaclEntry {
                            number: 32767,
                            egress,
                            allow: false,
                            proto: -1,
                            ports: None,
                            cidr: net("0.0.0.0/0"),
                        });
                    }
                }
                e.nacls.push(Nacl {
                    id: next_id("acl"),
                    vpc: vpc.id.clone(),
                    default: false,
                    subnets: Vec::new(),
                    entries,
                });
            }
        }
        for subnet in e.subnets.clone() {
            let custom: Vec<usize> = (0..e.nacls.len())
                .filter(|&i| e.nacls[i].vpc == subnet.vpc && !e.nacls[i].default)
                .collect();
            if !custom.is_empty() && rng.chance(0.55) {
                let i = *rng.pick(&custom);
                e.nacls[i].subnets.push(subnet.id.clone());
            } else if rng.chance(0.7) {
                let i = e
                    .nacls
                    .iter()
                    .position(|n| n.vpc == subnet.vpc && n.default)
                    .unwrap();
                e.nacls[i].subnets.push(subnet.id.clone());
            }
        }
        // Route tables: the main one plus 0-2 custom ones per VPC.
        for vpc in e.vpcs.clone() {
            for k in 0..=rng.range(0, 2) {
                let routes = e.random_routes(rng, &vpc, &mut next_id);
                e.route_tables.push(RouteTable {
                    id: next_id("rtb"),
                    vpc: vpc.id.clone(),
                    main: k == 0,
                    subnets: Vec::new(),
                    routes,
                });
            }
        }
        for subnet in e.subnets.clone() {
            let tables: Vec<usize> = (0..e.route_tables.len())
                .filter(|&i| e.route_tables[i].vpc == subnet.vpc)
                .collect();
            let custom: Vec<usize> = tables
                .iter()
                .copied()
                .filter(|&i| !e.route_tables[i].main)
                .collect();
            if !custom.is_empty() && rng.chance(0.65) {
                let i = *rng.pick(&custom);
                e.route_tables[i].subnets.push(subnet.id.clone());
            } else if rng.chance(0.1) {
                // Explicitly associated with the main table.
                let i = *tables.iter().find(|&&i| e.route_tables[i].main).unwrap();
                e.route_tables[i].subnets.push(subnet.id.clone());
            }
        }
        // Load balancers come from a stream of their own: everything above, and the
        // flows the caller draws from `rng` next, stay what they were without them.
        let mut lrng = Rng::new(rng.clone().next_u64() ^ 0x4C42_5F45_5354_4154);
        e.generate_lbs(&mut lrng);
        // So does the transit gateway (after the load balancers, which it leaves alone).
        let mut trng = Rng::new(rng.clone().next_u64() ^ 0x5447_575F_4553_5441);
        e.generate_tgw(&mut trng);
        // And the NAT gateways (after the transit gateway).
        let mut nrng = Rng::new(rng.clone().next_u64() ^ 0x4E41_545F_4553_5441);
        e.generate_nats(&mut nrng);
        // And on-premises: VPN gateways and the transit gateway's VPN attachment.
        let mut vrng = Rng::new(rng.clone().next_u64() ^ 0x5650_4E5F_4553_5441);
        e.generate_vpn(&mut vrng);
        // And a second transit gateway (after everything else, which it only adds to, apart
        // from the VPC routes it takes over from the first gateway in the estates it is in).
        let mut t2rng = Rng::new(rng.clone().next_u64() ^ 0x5447_5732_5F45_5354);
        e.generate_tgw2(&mut t2rng);
        e
    }

    /// The NAT gateways of VPC `vpc` that routes may name.
    pub fn nats_of(&self, vpc: &str) -> Vec<&NatGw> {
        self.nats.iter().filter(|n| n.vpc == vpc).collect()
    }

    /// 0-2 NAT gateways per VPC (§4.5) in about half of the estates: public ones with an
    /// Elastic IP most of the time (sometimes none), sometimes `private`, now and then in a
    /// state other than `available`; in an existing subnet (mostly one whose table routes
    /// 0.0.0.0/0 to the internet gateway) or in a dedicated subnet with a table and a NACL
    /// of its own (a route to the internet gateway most of the time; a NACL that may deny
    /// the NAT gateway's ephemeral ports). Routes to them (`0.0.0.0/0` or narrower internet
    /// ranges) go only into tables of their VPC that have no `0.0.0.0/0` route and no route
    /// for that destination, so the routes older flows took stay the best match, and rarely
    /// into the NAT gateway's own subnet's table (a loop). Some groups get an ingress rule
    /// admitting a NAT gateway's Elastic IP (kept in `nat_sg_rules`).
    fn generate_nats(&mut self, rng: &mut Rng) {
        if !rng.chance(0.55) {
            return;
        }
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            format!("{prefix}-0{:016x}", 0x0bf4_0000_u64 + counter as u64)
        };
        let mut k = 0usize;
        for vpc in self.vpcs.clone() {
            let igw = self
                .igws
                .iter()
                .find(|g| g.vpc == vpc.id && g.attached)
                .map(|g| g.id.clone());
            // Mostly where they can reach the internet.
            if !rng.chance(if igw.is_some() { 0.8 } else { 0.25 }) {
                continue;
            }
            for _ in 0..rng.weighted(&[(1usize, 8), (2, 2)]) {
                k += 1;
                let to_igw = |e: &Estate, sid: &str| {
                    e.table_of(sid).is_some_and(|rt| {
                        rt.routes.iter().any(|r| {
                            r.dest == net("0.0.0.0/0")
                                && r.active
                                && igw
                                    .as_ref()
                                    .is_some_and(|g| r.target == Target::Igw(g.clone()))
                        })
                    })
                };
                let subnet = if rng.chance(0.55) {
                    let subs: Vec<String> = self
                        .subnets
                        .iter()
                        .filter(|s| s.vpc == vpc.id && s.cidr.prefix_len() == 24)
                        .map(|s| s.id.clone())
                        .collect();
                    let public: Vec<String> =
                        subs.iter().filter(|s| to_igw(self, s)).cloned().collect();
                    if !public.is_empty() && rng.chance(0.75) {
                        rng.pick(&public).clone()
                    } else {
                        rng.pick(&subs).clone()
                    }
                } else {
                    // A dedicated subnet with its own table and (sometimes) NACL.
                    let sid = next_id("subnet");
                    let o = vpc.cidr.network().octets();
                    self.subnets.push(Subnet {
                        id: sid.clone(),
                        vpc: vpc.id.clone(),
                        cidr: net(&format!("10.{}.{}.0/24", o[1], 200 + k)),
                        az: format!("{REGION}{}", rng.pick(&["a", "b"])),
                    });
                    let mut routes: Vec<Route> = vpc
                        .cidrs()
                        .into_iter()
                        .map(|dest| Route {
                            dest,
                            target: Target::Local,
                            active: true,
                        })
                        .collect();
                    match (&igw, rng.below(10)) {
                        (Some(g), 0..=7) => routes.push(Route {
                            dest: net("0.0.0.0/0"),
                            target: Target::Igw(g.clone()),
                            active: true,
                        }),
                        (Some(g), 8) => routes.push(Route {
                            dest: net(rng.pick::<&str>(&["8.8.8.0/24", "52.0.0.0/8", "0.0.0.0/1"])),
                            target: Target::Igw(g.clone()),
                            active: true,
                        }),
                        _ => {}
                    }
                    if rng.chance(0.1) {
                        // A more specific blackhole route for one of the VPC's subnets.
                        let subs: Vec<Ipv4Net> = self
                            .subnets
                            .iter()
                            .filter(|s| s.vpc == vpc.id && s.id != sid)
                            .map(|s| s.cidr)
                            .collect();
                        if !subs.is_empty() {
                            routes.push(Route {
                                dest: *rng.pick(&subs),
                                target: Target::Eni(next_id("eni")),
                                active: false,
                            });
                        }
                    }
                    self.route_tables.push(RouteTable {
                        id: next_id("rtb"),
                        vpc: vpc.id.clone(),
                        main: false,
                        subnets: vec![sid.clone()],
                        routes,
                    });
                    if rng.chance(0.5) {
                        let entries = self.nat_nacl_entries(rng, &vpc);
                        self.nacls.push(Nacl {
                            id: next_id("acl"),
                            vpc: vpc.id.clone(),
                            default: false,
                            subnets: vec![sid.clone()],
                            entries,
                        });
                    }
                    sid
                };
                let o = self.subnet(&subnet).unwrap().cidr.network().octets();
                let private = rng.chance(0.15);
                let eip = (!private && rng.chance(0.85))
                    .then(|| Ipv4Addr::new(198, 51, 100, 200 + k as u8));
                let state = rng.weighted(&[
                    ("available", 88),
                    ("pending", 4),
                    ("failed", 3),
                    ("deleted", 3),
                    ("deleting", 2),
                ]);
                self.nats.push(NatGw {
                    id: next_id("nat"),
                    subnet,
                    vpc: vpc.id.clone(),
                    ip: Ipv4Addr::new(o[0], o[1], o[2], 30 + k as u8),
                    eip,
                    private,
                    state: state.to_string(),
                    eni: next_id("eni"),
                    write_eni: rng.chance(0.8),
                });
            }
        }
        // Routes to them.
        for ri in 0..self.route_tables.len() {
            let vpc = self.route_tables[ri].vpc.clone();
            let nats: Vec<NatGw> = self.nats_of(&vpc).into_iter().cloned().collect();
            if nats.is_empty() || !rng.chance(0.85) {
                continue;
            }
            let rt = &self.route_tables[ri];
            if rt.routes.iter().any(|r| r.dest == net("0.0.0.0/0")) {
                continue;
            }
            let nat = rng.pick(&nats);
            // A route to a NAT gateway from a NAT gateway's subnet's table sends its traffic
            // round again or on to another: rarely.
            let own: Vec<&str> = self.subnets_of_table(rt);
            if self.nats.iter().any(|n| own.contains(&n.subnet.as_str())) && !rng.chance(0.1) {
                continue;
            }
            let dests: Vec<Ipv4Net> = if rng.chance(0.75) {
                vec![net("0.0.0.0/0")]
            } else {
                (0..rng.range(1, 2))
                    .map(|_| {
                        net(rng.pick::<&str>(&[
                            "8.8.8.0/24",
                            "1.1.1.1/32",
                            "52.0.0.0/8",
                            "192.0.2.0/24",
                            "198.51.100.0/24",
                            "203.0.113.0/24",
                            "0.0.0.0/1",
                        ]))
                    })
                    .collect()
            };
            for dest in dests {
                let rt = &mut self.route_tables[ri];
                if rt.routes.iter().any(|r| r.dest == dest) {
                    continue;
                }
                // AWS shows a route to a deleted or failed NAT gateway as a blackhole.
                let active = nat.exists() || rng.chance(0.2);
                rt.routes.push(Route {
                    dest,
                    target: Target::Nat(nat.id.clone()),
                    active,
                });
            }
        }
        // Ingress rules admitting a NAT gateway's Elastic IP (hairpin, §4.6).
        let eips: Vec<Ipv4Addr> = self.nats.iter().filter_map(|n| n.eip).collect();
        if !eips.is_empty() {
            for gi in 0..self.sgs.len() {
                if !rng.chance(0.25) {
                    continue;
                }
                let proto = rng.weighted(&[(6, 6), (17, 1), (-1, 2)]);
                let ports = (proto != -1).then(|| {
                    let (x, y) = *rng.pick(RULE_PORTS);
                    (x as i32, y as i32)
                });
                let peer = RulePeer::Cidr(host(*rng.pick(&eips)));
                let g = self.sgs[gi].id.clone();
                self.nat_sg_rules
                    .push((g, false, SgRule { proto, ports, peer }));
            }
        }
    }

    /// The subnets a route table serves: its explicit associations, and for the main
    /// table every subnet of the VPC without one.
    pub fn subnets_of_table(&self, rt: &RouteTable) -> Vec<&str> {
        self.subnets
            .iter()
            .filter(|s| self.table_of(&s.id).is_some_and(|t| t.id == rt.id))
            .map(|s| s.id.as_str())
            .collect()
    }

    /// A subnet's route table (§3.1).
    pub fn table_of(&self, subnet: &str) -> Option<&RouteTable> {
        let vpc = &self.subnet(subnet)?.vpc;
        self.route_tables
            .iter()
            .find(|rt| rt.subnets.iter().any(|s| s == subnet))
            .or_else(|| {
                self.route_tables
                    .iter()
                    .find(|rt| rt.main && &rt.vpc == vpc)
            })
    }

    /// A NAT gateway subnet's NACL: open, or the service ports in and the return traffic
    /// (the NAT gateway's ports 1024-65535) in on a range that may be too narrow, or random.
    fn nat_nacl_entries(&self, rng: &mut Rng, vpc: &Vpc) -> Vec<NaclEntry> {
        let all = |egress: bool, number: u32| NaclEntry {
            number,
            egress,
            allow: true,
            proto: -1,
            ports: None,
            cidr: net("0.0.0.0/0"),
        };
        match rng.below(4) {
            0 => vec![all(false, 100), all(true, 100)],
            1 => self.random_nacl_entries(rng),
            _ => {
                let mut out = Vec::new();
                // In: everything from the VPC (the clients), replies from the internet on
                // an ephemeral range (or none).
                out.push(NaclEntry {
                    number: 100,
                    egress: false,
                    allow: true,
                    proto: *rng.pick(&[-1, 6]),
                    ports: None,
                    cidr: *rng.pick(&[vpc.cidr, net("10.0.0.0/8")]),
                });
                if let Some(e) = out.last_mut() {
                    if e.proto == 6 {
                        e.ports = Some((0, 65535));
                    }
                }
                if rng.chance(0.3) {
                    out.push(NaclEntry {
                        number: 90,
                        egress: false,
                        allow: false,
                        proto: 6,
                        ports: Some(*rng.pick(&[(1024u16, 32767u16), (0, 1023), (49152, 65535)])),
                        cidr: net("0.0.0.0/0"),
                    });
                }
                if rng.chance(0.8) {
                    out.push(NaclEntry {
                        number: 200,
                        egress: false,
                        allow: true,
                        proto: rng.weighted(&[(6, 4), (17, 1), (-1, 1)]),
                        ports: Some(*rng.pick(&[
                            (1024u16, 65535u16),
                            (1024, 65535),
                            (32768, 61000),
                            (49152, 65535),
                            (0, 1023),
                        ])),
                        cidr: net("0.0.0.0/0"),
                    });
                    if let Some(e) = out.last_mut() {
                        if e.proto == -1 {
                            e.ports = None;
                        }
                    }
                }
                // Out: everything, or the service ports to the internet and the
                // ephemeral range to the VPC.
                if rng.chance(0.6) {
                    out.push(all(true, 100));
                } else {
                    for (n, ports) in [(100u32, (80u16, 80u16)), (110, (443, 443))] {
                        out.push(NaclEntry {
                            number: n,
                            egress: true,
                            allow: true,
                            proto: 6,
                            ports: Some(ports),
                            cidr: net("0.0.0.0/0"),
                        });
                    }
                    out.push(NaclEntry {
                        number: 120,
                        egress: true,
                        allow: true,
                        proto: 6,
                        ports: Some(*rng.pick(&[(1024u16, 65535u16), (32768, 61000)])),
                        cidr: vpc.cidr,
                    });
                }
                out
            }
        }
    }

    /// 0-1 transit gateway (§6.2) attaching 2-3 VPCs: attachment subnets (one per
    /// zone of the VPC's subnets, sometimes a zone left out, sometimes a dedicated subnet
    /// with a NACL of its own), 1-2 TGW route tables with associations (rarely none),
    /// propagations and static routes (more specific ones, blackholes, wrong attachments),
    /// routes to it in the VPCs' route tables (some missing), and ingress rules admitting
    /// the other VPCs (CIDRs, or groups referenced across the gateway).
    fn generate_tgw(&mut self, rng: &mut Rng) {
        if self.vpcs.len() < 2 || !rng.chance(0.55) {
            return;
        }
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            format!("{prefix}-0{:016x}", 0x0bf2_0000_u64 + counter as u64)
        };
        let mut tgw = Tgw {
            id: next_id("tgw"),
            sg_referencing: rng.chance(0.5),
            default_assoc: None,
            default_prop: None,
            attachments: Vec::new(),
            tables: Vec::new(),
            enis: rng.chance(0.7),
        };
        for _ in 0..rng.range(1, 2) {
            tgw.tables.push(TgwTable {
                id: next_id("tgw-rtb"),
                propagations: Vec::new(),
                statics: Vec::new(),
                show_hidden: rng.chance(0.3),
            });
        }
        let table_ids: Vec<String> = tgw.tables.iter().map(|t| t.id.clone()).collect();
        if rng.chance(0.75) {
            tgw.default_assoc = Some(table_ids[0].clone());
        }
        if rng.chance(0.75) {
            tgw.default_prop = Some(rng.pick(&table_ids).clone());
        }
        // Which VPCs: 2 or 3.
        let mut order: Vec<usize> = (0..self.vpcs.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let n_att = rng.range(2, order.len().min(3));
        for (k, &vi) in order.iter().take(n_att).enumerate() {
            let vpc = self.vpcs[vi].clone();
            // One subnet per zone.
            let mut by_az: Vec<(String, String)> = Vec::new();
            let mut subs: Vec<Subnet> = self
                .subnets
                .iter()
                .filter(|s| s.vpc == vpc.id)
                .cloned()
                .collect();
            while !subs.is_empty() {
                let s = subs.swap_remove(rng.below(subs.len()));
                if !by_az.iter().any(|(az, _)| az == &s.az) {
                    by_az.push((s.az.clone(), s.id.clone()));
                }
            }
            if rng.chance(0.3) {
                // A dedicated attachment subnet (AWS's advice), in a zone of its own or not.
                let az = format!("{REGION}{}", rng.pick(&["a", "b", "c"]));
                let o = vpc.cidr.network().octets();
                let sid = next_id("subnet");
                self.subnets.push(Subnet {
                    id: sid.clone(),
                    vpc: vpc.id.clone(),
                    cidr: net(&format!("10.{}.{}.0/24", o[1], 240 + k)),
                    az: az.clone(),
                });
                by_az.retain(|(z, _)| z != &az);
                by_az.push((az, sid.clone()));
                match rng.below(4) {
                    0 | 1 => {} // the default NACL, implicitly
                    2 => {
                        let custom: Vec<usize> = (0..self.nacls.len())
                            .filter(|&i| self.nacls[i].vpc == vpc.id && !self.nacls[i].default)
                            .collect();
                        if !custom.is_empty() {
                            let i = *rng.pick(&custom);
                            self.nacls[i].subnets.push(sid.clone());
                        }
                    }
                    _ => {
                        let entries = if rng.chance(0.5) {
                            [false, true]
                                .into_iter()
                                .map(|egress| NaclEntry {
                                    number: 100,
                                    egress,
                                    allow: true,
                                    proto: -1,
                                    ports: None,
                                    cidr: net("0.0.0.0/0"),
                                })
                                .collect()
                        } else {
                            self.random_nacl_entries(rng)
                        };
                        self.nacls.push(Nacl {
                            id: next_id("acl"),
                            vpc: vpc.id.clone(),
                            default: false,
                            subnets: vec![sid.clone()],
                            entries,
                        });
                    }
                }
                let custom: Vec<usize> = (0..self.route_tables.len())
                    .filter(|&i| self.route_tables[i].vpc == vpc.id && !self.route_tables[i].main)
                    .collect();
                if !custom.is_empty() && rng.chance(0.5) {
                    let i = *rng.pick(&custom);
                    self.route_tables[i].subnets.push(sid.clone());
                }
            }
            if by_az.len() > 1 && rng.chance(0.25) {
                by_az.remove(rng.below(by_az.len()));
            }
            let table = match rng.below(30) {
                0 => None,
                1..=22 if tgw.default_assoc.is_some() => tgw.default_assoc.clone(),
                _ => Some(rng.pick(&table_ids).clone()),
            };
            let id = next_id("tgw-attach");
            if let Some(p) = &tgw.default_prop {
                if rng.chance(0.85) {
                    let t = tgw.tables.iter_mut().find(|t| &t.id == p).unwrap();
                    t.propagations.push(id.clone());
                }
            }
            for t in tgw.tables.iter_mut() {
                if !t.propagations.contains(&id) && rng.chance(0.35) {
                    t.propagations.push(id.clone());
                }
            }
            tgw.attachments.push(TgwAttachment {
                id,
                vpc: vpc.id.clone(),
                subnets: by_az.into_iter().map(|(_, s)| s).collect(),
                table,
                sg_referencing: rng.chance(0.75),
                appliance: rng.chance(0.15),
            });
        }
        // Static routes.
        let atts = tgw.attachments.clone();
        for ti in 0..tgw.tables.len() {
            for _ in 0..rng.range(0, 3) {
                let a = rng.pick(&atts);
                let other = rng.pick(&atts);
                let subs: Vec<&Subnet> = self.subnets.iter().filter(|s| s.vpc == a.vpc).collect();
                let (dest, attachment) = match rng.below(8) {
                    // More specific than the propagated VPC CIDR, to the right VPC or not.
                    0 => (rng.pick(&subs).cidr, Some(a.id.clone())),
                    1 => (rng.pick(&subs).cidr, Some(other.id.clone())),
                    2 => (rng.pick(&subs).cidr, None),
                    // Identical to a propagated one (which it hides).
                    3 => (
                        self.vpc(&a.vpc).unwrap().cidr,
                        Some(if rng.chance(0.5) { a } else { other }.id.clone()),
                    ),
                    4 => (self.vpc(&a.vpc).unwrap().cidr, None),
                    5 => (net("10.0.0.0/8"), rng.chance(0.7).then(|| other.id.clone())),
                    6 => (net("0.0.0.0/0"), Some(other.id.clone())),
                    _ => {
                        // A VPC that may not be attached.
                        let v = rng.pick(&self.vpcs);
                        (v.cidr, Some(a.id.clone()))
                    }
                };
                let t = &mut tgw.tables[ti];
                if !t.statics.iter().any(|r| r.dest == dest) {
                    t.statics.push(TgwStatic { dest, attachment });
                }
            }
        }
        // Routes to the gateway in the VPCs' route tables.
        for ri in 0..self.route_tables.len() {
            let vpc = self.route_tables[ri].vpc.clone();
            let attached = atts.iter().any(|a| a.vpc == vpc);
            let add = |rt: &mut RouteTable, dest: Ipv4Net, active: bool| {
                if !rt.routes.iter().any(|r| r.dest == dest) {
                    rt.routes.push(Route {
                        dest,
                        target: Target::Tgw(tgw.id.clone()),
                        active,
                    });
                }
            };
            if !attached {
                // AWS shows a route to a gateway the VPC is not attached to as a blackhole.
                if rng.chance(0.2) {
                    let v = rng.pick(&self.vpcs).cidr;
                    if !self.vpc(&vpc).unwrap().cidrs().contains(&v) {
                        add(&mut self.route_tables[ri], v, false);
                    }
                }
                continue;
            }
            for a in &atts {
                if a.vpc == vpc || !rng.chance(0.85) {
                    continue;
                }
                let dest = if rng.chance(0.7) {
                    *rng.pick(&self.vpc(&a.vpc).unwrap().cidrs())
                } else {
                    let subs: Vec<&Subnet> =
                        self.subnets.iter().filter(|s| s.vpc == a.vpc).collect();
                    rng.pick(&subs).cidr
                };
                add(&mut self.route_tables[ri], dest, true);
            }
            if rng.chance(0.15) {
                add(&mut self.route_tables[ri], net("10.0.0.0/8"), true);
            }
            if rng.chance(0.08) {
                add(&mut self.route_tables[ri], net("0.0.0.0/0"), true);
            }
        }
        // Ingress rules admitting the other attached VPCs.
        for a in &atts {
            let groups: Vec<String> = self
                .sgs
                .iter()
                .filter(|g| g.vpc == a.vpc)
                .map(|g| g.id.clone())
                .collect();
            let others: Vec<&TgwAttachment> = atts.iter().filter(|x| x.vpc != a.vpc).collect();
            for g in groups {
                if !rng.chance(0.6) {
                    continue;
                }
                for _ in 0..rng.range(1, 2) {
                    let o = rng.pick(&others);
                    let proto = rng.weighted(&[(6, 6), (17, 2), (-1, 2)]);
                    let ports = (proto != -1).then(|| {
                        let (x, y) = *rng.pick(RULE_PORTS);
                        (x as i32, y as i32)
                    });
                    let peer = if rng.chance(0.4) {
                        let theirs: Vec<String> = self
                            .sgs
                            .iter()
                            .filter(|x| x.vpc == o.vpc)
                            .map(|x| x.id.clone())
                            .collect();
                        RulePeer::Group(rng.pick(&theirs).clone())
                    } else if rng.chance(0.7) {
                        RulePeer::Cidr(self.vpc(&o.vpc).unwrap().cidr)
                    } else {
                        let subs: Vec<&Subnet> =
                            self.subnets.iter().filter(|s| s.vpc == o.vpc).collect();
                        RulePeer::Cidr(rng.pick(&subs).cidr)
                    };
                    // Now and then an outbound reference (TGW referencing is inbound only).
                    let egress = matches!(peer, RulePeer::Group(_)) && rng.chance(0.12);
                    self.tgw_sg_rules
                        .push((g.clone(), egress, SgRule { proto, ports, peer }));
                }
            }
        }
        self.tgws.push(tgw);
    }

    /// A second transit gateway (§6.2) in half of the estates that have one, drawn after
    /// everything else: 2-3 VPCs (mostly some the first gateway attaches, so that a request
    /// can go by one gateway and its reply by the other), attachment subnets (one per zone:
    /// often the first gateway's subnet there, else any subnet of the zone, now and then a
    /// dedicated one with a NACL of its own; sometimes a zone left out), 1-2 TGW route tables
    /// with associations, propagations and static routes like the first's, routes to it in the
    /// attached VPCs' tables (a route of the first gateway for another attached VPC's addresses
    /// taken over half of the time, else a route to the second one added for a CIDR or a
    /// subnet the table has no route for), and ingress rules admitting the other VPCs it
    /// attaches (kept in `tgw2_sg_rules`).
    fn generate_tgw2(&mut self, rng: &mut Rng) {
        if self.tgws.len() != 1 || !rng.chance(0.5) {
            return;
        }
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            format!("{prefix}-0{:016x}", 0x0bf6_0000_u64 + counter as u64)
        };
        let first = self.tgws[0].clone();
        let mut tgw = Tgw {
            id: next_id("tgw"),
            sg_referencing: rng.chance(0.5),
            default_assoc: None,
            default_prop: None,
            attachments: Vec::new(),
            tables: Vec::new(),
            enis: rng.chance(0.7),
        };
        for _ in 0..rng.range(1, 2) {
            tgw.tables.push(TgwTable {
                id: next_id("tgw-rtb"),
                propagations: Vec::new(),
                statics: Vec::new(),
                show_hidden: rng.chance(0.2),
            });
        }
        let table_ids: Vec<String> = tgw.tables.iter().map(|t| t.id.clone()).collect();
        if rng.chance(0.75) {
            tgw.default_assoc = Some(table_ids[0].clone());
        }
        if rng.chance(0.8) {
            tgw.default_prop = Some(rng.pick(&table_ids).clone());
        }
        // Which VPCs: 2 or 3, mostly those of the first gateway first.
        let shuffle = |rng: &mut Rng, mut v: Vec<usize>| {
            for i in (1..v.len()).rev() {
                v.swap(i, rng.below(i + 1));
            }
            v
        };
        let (on_first, others): (Vec<usize>, Vec<usize>) = (0..self.vpcs.len())
            .partition(|&i| first.attachments.iter().any(|a| a.vpc == self.vpcs[i].id));
        let order: Vec<usize> = if rng.chance(0.8) {
            let mut o = shuffle(rng, on_first);
            o.extend(shuffle(rng, others));
            o
        } else {
            shuffle(rng, (0..self.vpcs.len()).collect())
        };
        let n_att = rng.range(2, order.len().min(3));
        for (k, &vi) in order.iter().take(n_att).enumerate() {
            let vpc = self.vpcs[vi].clone();
            let first_subnets: Vec<String> = first
                .attachments
                .iter()
                .filter(|a| a.vpc == vpc.id)
                .flat_map(|a| a.subnets.clone())
                .collect();
            let subs: Vec<Subnet> = self
                .subnets
                .iter()
                .filter(|s| s.vpc == vpc.id)
                .cloned()
                .collect();
            let mut zones: Vec<String> = Vec::new();
            for s in &subs {
                if !zones.contains(&s.az) {
                    zones.push(s.az.clone());
                }
            }
            let mut by_az: Vec<(String, String)> = Vec::new();
            for az in shuffle(rng, (0..zones.len()).collect())
                .into_iter()
                .map(|i| &zones[i])
            {
                let here: Vec<&Subnet> = subs.iter().filter(|s| &s.az == az).collect();
                let theirs = here.iter().find(|s| first_subnets.contains(&s.id));
                let s = match theirs {
                    Some(s) if rng.chance(0.45) => s.id.clone(),
                    _ => rng.pick(&here).id.clone(),
                };
                by_az.push((az.clone(), s));
            }
            if rng.chance(0.25) {
                // A dedicated attachment subnet, in a zone of its own or not.
                let az = format!("{REGION}{}", rng.pick(&["a", "b", "c"]));
                let o = vpc.cidr.network().octets();
                let sid = next_id("subnet");
                self.subnets.push(Subnet {
                    id: sid.clone(),
                    vpc: vpc.id.clone(),
                    cidr: net(&format!("10.{}.{}.0/24", o[1], 250 + k)),
                    az: az.clone(),
                });
                by_az.retain(|(z, _)| z != &az);
                by_az.push((az, sid.clone()));
                match rng.below(4) {
                    0 | 1 => {} // the default NACL, implicitly
                    2 => {
                        let custom: Vec<usize> = (0..self.nacls.len())
                            .filter(|&i| self.nacls[i].vpc == vpc.id && !self.nacls[i].default)
                            .collect();
                        if !custom.is_empty() {
                            let i = *rng.pick(&custom);
                            self.nacls[i].subnets.push(sid.clone());
                        }
                    }
                    _ => {
                        let entries = if rng.chance(0.5) {
                            [false, true]
                                .into_iter()
                                .map(|egress| NaclEntry {
                                    number: 100,
                                    egress,
                                    allow: true,
                                    proto: -1,
                                    ports: None,
                                    cidr: net("0.0.0.0/0"),
                                })
                                .collect()
                        } else {
                            self.random_nacl_entries(rng)
                        };
                        self.nacls.push(Nacl {
                            id: next_id("acl"),
                            vpc: vpc.id.clone(),
                            default: false,
                            subnets: vec![sid.clone()],
                            entries,
                        });
                    }
                }
                let custom: Vec<usize> = (0..self.route_tables.len())
                    .filter(|&i| self.route_tables[i].vpc == vpc.id && !self.route_tables[i].main)
                    .collect();
                if !custom.is_empty() && rng.chance(0.5) {
                    let i = *rng.pick(&custom);
                    self.route_tables[i].subnets.push(sid.clone());
                }
            }
            if by_az.len() > 1 && rng.chance(0.2) {
                by_az.remove(rng.below(by_az.len()));
            }
            let table = match rng.below(30) {
                0 => None,
                1..=22 if tgw.default_assoc.is_some() => tgw.default_assoc.clone(),
                _ => Some(rng.pick(&table_ids).clone()),
            };
            let id = next_id("tgw-attach");
            if let Some(p) = &tgw.default_prop {
                if rng.chance(0.85) {
                    let t = tgw.tables.iter_mut().find(|t| &t.id == p).unwrap();
                    t.propagations.push(id.clone());
                }
            }
            for t in tgw.tables.iter_mut() {
                if !t.propagations.contains(&id) && rng.chance(0.35) {
                    t.propagations.push(id.clone());
                }
            }
            tgw.attachments.push(TgwAttachment {
                id,
                vpc: vpc.id.clone(),
                subnets: by_az.into_iter().map(|(_, s)| s).collect(),
                table,
                sg_referencing: rng.chance(0.75),
                appliance: rng.chance(0.1),
            });
        }
        // Static routes.
        let atts = tgw.attachments.clone();
        for ti in 0..tgw.tables.len() {
            for _ in 0..rng.range(0, 2) {
                let a = rng.pick(&atts);
                let other = rng.pick(&atts);
                let subs: Vec<&Subnet> = self.subnets.iter().filter(|s| s.vpc == a.vpc).collect();
                let (dest, attachment) = match rng.below(7) {
                    0 => (rng.pick(&subs).cidr, Some(a.id.clone())),
                    1 => (rng.pick(&subs).cidr, Some(other.id.clone())),
                    2 => (rng.pick(&subs).cidr, None),
                    3 => (
                        self.vpc(&a.vpc).unwrap().cidr,
                        Some(if rng.chance(0.5) { a } else { other }.id.clone()),
                    ),
                    4 => (self.vpc(&a.vpc).unwrap().cidr, None),
                    5 => (net("10.0.0.0/8"), rng.chance(0.7).then(|| other.id.clone())),
                    _ => {
                        let v = rng.pick(&self.vpcs);
                        (v.cidr, Some(a.id.clone()))
                    }
                };
                let t = &mut tgw.tables[ti];
                if !t.statics.iter().any(|r| r.dest == dest) {
                    t.statics.push(TgwStatic { dest, attachment });
                }
            }
        }
        // Routes to the second gateway in the VPCs' tables: a route of the first gateway for
        // another attached VPC's addresses taken over (requests or replies change gateway),
        // or a route added where the table has none for that destination.
        let first_target = Target::Tgw(first.id.clone());
        let second_target = Target::Tgw(tgw.id.clone());
        for ri in 0..self.route_tables.len() {
            let vpc = self.route_tables[ri].vpc.clone();
            if !atts.iter().any(|a| a.vpc == vpc) {
                // A route to a gateway the VPC is not attached to is a blackhole.
                if rng.chance(0.1) {
                    let v = rng.pick(&self.vpcs).cidr;
                    let own = self.vpc(&vpc).is_some_and(|x| x.cidrs().contains(&v));
                    let rt = &mut self.route_tables[ri];
                    if !own && !rt.routes.iter().any(|r| r.dest == v) {
                        rt.routes.push(Route {
                            dest: v,
                            target: second_target.clone(),
                            active: false,
                        });
                    }
                }
                continue;
            }
            for a in &atts {
                if a.vpc == vpc {
                    continue;
                }
                let cidrs = self.vpc(&a.vpc).unwrap().cidrs();
                let subs: Vec<Ipv4Net> = self
                    .subnets
                    .iter()
                    .filter(|s| s.vpc == a.vpc)
                    .map(|s| s.cidr)
                    .collect();
                let rt = &mut self.route_tables[ri];
                let theirs: Vec<usize> = (0..rt.routes.len())
                    .filter(|&i| {
                        rt.routes[i].target == first_target
                            && rt.routes[i].active
                            && cidrs.iter().any(|c| c.contains(&rt.routes[i].dest))
                    })
                    .collect();
                if !theirs.is_empty() && rng.chance(0.5) {
                    for i in theirs {
                        rt.routes[i].target = second_target.clone();
                    }
                } else if rng.chance(0.5) {
                    let dest = if rng.chance(0.7) {
                        *rng.pick(&cidrs)
                    } else {
                        *rng.pick(&subs)
                    };
                    if !rt.routes.iter().any(|r| r.dest == dest) {
                        rt.routes.push(Route {
                            dest,
                            target: second_target.clone(),
                            active: true,
                        });
                    }
                }
            }
        }
        // Ingress rules admitting the other VPCs the second gateway attaches.
        for a in &atts {
            let groups: Vec<String> = self
                .sgs
                .iter()
                .filter(|g| g.vpc == a.vpc)
                .map(|g| g.id.clone())
                .collect();
            let others: Vec<&TgwAttachment> = atts.iter().filter(|x| x.vpc != a.vpc).collect();
            for g in groups {
                if !rng.chance(0.5) {
                    continue;
                }
                let o = rng.pick(&others);
                let proto = rng.weighted(&[(6, 6), (17, 2), (-1, 2)]);
                let ports = (proto != -1).then(|| {
                    let (x, y) = *rng.pick(RULE_PORTS);
                    (x as i32, y as i32)
                });
                let peer = if rng.chance(0.3) {
                    let theirs: Vec<String> = self
                        .sgs
                        .iter()
                        .filter(|x| x.vpc == o.vpc)
                        .map(|x| x.id.clone())
                        .collect();
                    RulePeer::Group(rng.pick(&theirs).clone())
                } else if rng.chance(0.7) {
                    RulePeer::Cidr(self.vpc(&o.vpc).unwrap().cidr)
                } else {
                    let subs: Vec<&Subnet> =
                        self.subnets.iter().filter(|s| s.vpc == o.vpc).collect();
                    RulePeer::Cidr(rng.pick(&subs).cidr)
                };
                self.tgw2_sg_rules
                    .push((g.clone(), false, SgRule { proto, ports, peer }));
            }
        }
        self.tgws.push(tgw);
    }

    /// 0-2 ELBv2 load balancers (§5) with 1-2 listeners each, their target groups
    /// (instance or ip targets of the estate's ENIs), their security groups, and
    /// rules in the targets' groups that admit the load balancer.
    fn generate_lbs(&mut self, rng: &mut Rng) {
        let n = rng.weighted(&[(0usize, 40), (1, 38), (2, 22)]);
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            format!("{prefix}-0{:016x}", 0x0bf1_0000_u64 + counter as u64)
        };
        let mut public = 150u8;
        for k in 0..n {
            let vpc = rng.pick(&self.vpcs).clone();
            // One enabled subnet per Availability Zone (AWS allows no more).
            let mut subs: Vec<Subnet> = self
                .subnets
                .iter()
                .filter(|s| s.vpc == vpc.id)
                .cloned()
                .collect();
            let mut chosen: Vec<Subnet> = Vec::new();
            while !subs.is_empty() {
                let s = subs.swap_remove(rng.below(subs.len()));
                if !chosen.iter().any(|c| c.az == s.az) {
                    chosen.push(s);
                }
            }
            chosen.truncate(rng.range(1, chosen.len()));
            let network = rng.chance(0.5);
            let internet_facing = rng.chance(0.6);
            let name = format!("lb{k}-{}", if network { "net" } else { "app" });
            let lb_id = format!("{:016x}", 0x5bf0_0000_0000_0000_u64 + k as u64);
            let nodes: Vec<LbNode> = chosen
                .iter()
                .map(|s| {
                    let o = s.cidr.network().octets();
                    let p = internet_facing.then(|| {
                        public += 1;
                        Ipv4Addr::new(203, 0, 113, public)
                    });
                    LbNode {
                        eni: next_id("eni"),
                        subnet: s.id.clone(),
                        ip: Ipv4Addr::new(o[0], o[1], o[2], 200 + k as u8),
                        public: p,
                    }
                })
                .collect();
            // Listeners.
            let mut listeners: Vec<Listener> = Vec::new();
            for _ in 0..rng.range(1, 2) {
                let (protocol, port) = if network {
                    (
                        rng.weighted(&[("TCP", 12), ("UDP", 3), ("TLS", 2), ("TCP_UDP", 3)]),
                        *rng.pick(&[80u16, 443, 22, 3306, 5000, 8080]),
                    )
                } else {
                    (
                        rng.weighted(&[("HTTP", 1), ("HTTPS", 1)]),
                        *rng.pick(&[80u16, 443, 8080, 8443]),
                    )
                };
                if listeners.iter().any(|l| l.port == port) {
                    continue;
                }
                listeners.push(Listener {
                    id: format!(
                        "{:016x}",
                        0x5bf1_0000_0000_0000_u64 + (k * 16 + listeners.len()) as u64
                    ),
                    protocol: protocol.to_string(),
                    port,
                    forward: Vec::new(),
                });
            }
            // Security groups: mandatory for an ALB, optional for an NLB (§5.3).
            let mut groups = Vec::new();
            if !network || rng.chance(0.6) {
                let vpc_sgs: Vec<String> = self
                    .sgs
                    .iter()
                    .filter(|g| g.vpc == vpc.id)
                    .map(|g| g.id.clone())
                    .collect();
                if rng.chance(0.3) {
                    groups.push(rng.pick(&vpc_sgs).clone());
                }
                if groups.is_empty() || rng.chance(0.2) {
                    let gid = next_id("sg");
                    let mut ingress = Vec::new();
                    for l in &listeners {
                        if rng.chance(0.85) {
                            let proto = match l.protocol.as_str() {
                                "UDP" => 17,
                                "TCP_UDP" => *rng.pick(&[6, 17, -1]),
                                _ => 6,
                            };
                            let peer = match rng.weighted(&[(0, 5), (1, 2), (2, 1), (3, 1), (4, 1)])
                            {
                                1 => RulePeer::Cidr(vpc.cidr),
                                2 => RulePeer::Cidr(host(rng.pick(CLIENTS).parse().unwrap())),
                                3 => RulePeer::Cidr(net("10.0.0.0/8")),
                                4 => RulePeer::Group(rng.pick(&vpc_sgs).clone()),
                                _ => RulePeer::Cidr(net("0.0.0.0/0")),
                            };
                            ingress.push(SgRule {
                                proto,
                                ports: (proto != -1).then_some((l.port as i32, l.port as i32)),
                                peer,
                            });
                        }
                    }
                    if rng.chance(0.2) {
                        ingress.push(self.random_sg_rule(rng, &vpc.id));
                    }
                    let egress = match rng.weighted(&[(0, 5), (1, 3), (2, 2)]) {
                        0 => vec![SgRule {
                            proto: -1,
                            ports: None,
                            peer: RulePeer::Cidr(net("0.0.0.0/0")),
                        }],
                        1 => vec![SgRule {
                            proto: *rng.pick(&[6, -1]),
                            ports: None,
                            peer: RulePeer::Cidr(*rng.pick(&[vpc.cidr, net("10.0.0.0/8")])),
                        }]
                        .into_iter()
                        .map(|mut r| {
                            if r.proto == 6 {
                                r.ports = Some(*rng.pick(&[
                                    (0, 65535),
                                    (1024, 65535),
                                    (80, 443),
                                    (8080, 8080),
                                ]));
                            }
                            r
                        })
                        .collect(),
                        _ => (0..rng.range(0, 2))
                            .map(|_| self.random_sg_rule(rng, &vpc.id))
                            .collect(),
                    };
                    self.sgs.push(Sg {
                        id: gid.clone(),
                        vpc: vpc.id.clone(),
                        name: format!("lb{k}"),
                        ingress,
                        egress,
                    });
                    groups.push(gid);
                }
            }
            // Target groups: one per forwarding listener, sometimes shared, sometimes unused.
            let mut tgs: Vec<TargetGroup> = Vec::new();
            let n_listeners = listeners.len();
            for li in 0..n_listeners + 1 {
                let extra = li == n_listeners;
                if extra && !rng.chance(0.15) {
                    continue;
                }
                let lproto = if extra {
                    listeners[0].protocol.clone()
                } else {
                    listeners[li].protocol.clone()
                };
                if !extra && !network && rng.chance(0.15) {
                    continue; // a fixed response
                }
                let protocol = match lproto.as_str() {
                    "TLS" => rng.pick(&["TCP", "TLS"]).to_string(),
                    "HTTP" | "HTTPS" => rng.pick(&["HTTP", "HTTPS"]).to_string(),
                    p => p.to_string(),
                };
                if !extra && !tgs.is_empty() && rng.chance(0.2) {
                    if let Some(t) = tgs.iter().find(|t| t.protocol == protocol) {
                        listeners[li].forward.push(t.id.clone());
                        continue;
                    }
                }
                let instance = rng.chance(0.55);
                let udp = matches!(protocol.as_str(), "UDP" | "TCP_UDP");
                let preserve = if !network {
                    None
                } else if udp {
                    // Always on, cannot be changed (§5.3).
                    rng.chance(0.3).then_some(true)
                } else {
                    rng.weighted(&[(None, 2), (Some(true), 1), (Some(false), 1)])
                };
                let tg_port = if !extra && rng.chance(0.4) {
                    listeners[li].port
                } else {
                    *rng.pick(&[80u16, 443, 8080, 3306, 22, 5000])
                };
                let idx = self.target_groups.len() + tgs.len();
                let mut tg = TargetGroup {
                    name: format!("tg{idx}"),
                    id: format!("{:016x}", 0x5bf2_0000_0000_0000_u64 + idx as u64),
                    protocol,
                    port: tg_port,
                    instance,
                    vpc: vpc.id.clone(),
                    lb: name.clone(),
                    targets: Vec::new(),
                    preserve,
                    cross_zone: None,
                };
                let local: Vec<&Eni> = self
                    .enis
                    .iter()
                    .filter(|x| self.subnet(&x.subnet).is_some_and(|s| s.vpc == vpc.id))
                    .collect();
                let peered: Vec<&Eni> = self
                    .enis
                    .iter()
                    .filter(|x| {
                        self.subnet(&x.subnet).is_some_and(|s| {
                            s.vpc != vpc.id && self.peering_between(&s.vpc, &vpc.id).is_some()
                        })
                    })
                    .collect();
                for _ in 0..rng.range(1, 3) {
                    let outside = !instance && !peered.is_empty() && rng.chance(0.15);
                    let pool = if outside { &peered } else { &local };
                    if pool.is_empty() {
                        continue;
                    }
                    let x = *rng.pick(pool);
                    let id = if instance {
                        x.instance.clone()
                    } else {
                        match x.secondary {
                            Some((sip, _)) if rng.chance(0.3) => sip.to_string(),
                            _ => x.ip.to_string(),
                        }
                    };
                    let port = rng
                        .chance(0.3)
                        .then(|| *rng.pick(&[80u16, 443, 8080, 3306, 22, 5000]));
                    if tg
                        .targets
                        .iter()
                        .any(|t| t.id == id && t.port.unwrap_or(tg_port) == port.unwrap_or(tg_port))
                    {
                        continue;
                    }
                    let health = rng.weighted(&[
                        ("healthy", 80),
                        ("unhealthy", 9),
                        ("initial", 3),
                        ("unused", 2),
                        ("draining", 3),
                        ("unavailable", 3),
                    ]);
                    tg.targets.push(LbTarget {
                        id,
                        port,
                        health: health.to_string(),
                        az: outside.then(|| self.subnet(&x.subnet).unwrap().az.clone()),
                    });
                }
                if !extra {
                    listeners[li].forward.push(tg.id.clone());
                }
                tgs.push(tg);
            }
            // Rules in the targets' groups that admit the load balancer: by its group
            // (§5.2) or by its subnets' CIDRs.
            for tg in &tgs {
                for t in &tg.targets {
                    let Some(x) = self
                        .enis
                        .iter()
                        .find(|x| {
                            x.instance == t.id
                                || x.ip.to_string() == t.id
                                || x.secondary.is_some_and(|s| s.0.to_string() == t.id)
                        })
                        .cloned()
                    else {
                        continue;
                    };
                    let port = t.port.unwrap_or(tg.port) as i32;
                    let proto = if tg.protocol == "UDP" { 17 } else { 6 };
                    let ports =
                        Some(*rng.pick(&[(port, port), (port, port), (0, 65535), (1024, 65535)]));
                    let gi = self.sgs.iter().position(|g| g.id == x.groups[0]).unwrap();
                    if !groups.is_empty() && rng.chance(0.5) {
                        let peer = RulePeer::Group(rng.pick(&groups).clone());
                        self.sgs[gi].ingress.push(SgRule { proto, ports, peer });
                    } else if rng.chance(0.25) {
                        let peer =
                            RulePeer::Cidr(self.subnet(&rng.pick(&nodes).subnet).unwrap().cidr);
                        self.sgs[gi].ingress.push(SgRule { proto, ports, peer });
                    }
                }
            }
            let cross_zone = if network {
                rng.weighted(&[(None, 2), (Some(true), 2), (Some(false), 1)])
            } else {
                None
            };
            self.lbs.push(Lb {
                name,
                id: lb_id,
                network,
                internet_facing,
                vpc: vpc.id.clone(),
                nodes,
                groups,
                cross_zone,
                alb_eni_type_lb: rng.chance(0.3),
                listeners,
            });
            self.target_groups.extend(tgs);
        }
        // The groups' own cross-zone setting, drawn last so that everything above stays what
        // it was for each seed. Mostly unset (or the default) or off for an ALB's group;
        // anything for an NLB's.
        for i in 0..self.target_groups.len() {
            let g = &self.target_groups[i];
            let network = self.lbs.iter().any(|l| l.name == g.lb && l.network);
            let unset = "use_load_balancer_configuration";
            self.target_groups[i].cross_zone = if network {
                rng.weighted(&[
                    (None, 3),
                    (Some(unset), 2),
                    (Some("true"), 3),
                    (Some("false"), 3),
                ])
            } else {
                rng.weighted(&[
                    (None, 5),
                    (Some(unset), 2),
                    (Some("false"), 4),
                    (Some("true"), 1),
                ])
            };
        }
        // The zone an ip target outside the load balancer's VPC is registered with (§5.1):
        // mostly its own subnet's, now and then `all` or any zone (enabled or not); drawn
        // last for the same reason.
        for g in &mut self.target_groups {
            for t in g.targets.iter_mut().filter(|t| t.az.is_some()) {
                match rng.weighted(&[(0, 6), (1, 2), (2, 2)]) {
                    1 => t.az = Some("all".into()),
                    2 => t.az = Some(format!("{REGION}{}", rng.pick(&["a", "b", "c"]))),
                    _ => {}
                }
            }
        }
    }

    /// CIDRs that rules (SG and NACL) draw from.
    fn random_cidr(&self, rng: &mut Rng) -> Ipv4Net {
        let choice = rng.weighted(&[
            (0, 8), // 0.0.0.0/0
            (1, 4), // a VPC CIDR
            (2, 4), // a subnet CIDR
            (3, 3), // an ENI's private /32
            (4, 2), // an internet client /32
            (5, 2), // a wide public range
            (6, 1), // an ENI's public /32
            (7, 1), // 10.0.0.0/8
        ]);
        match choice {
            1 => *rng.pick(&rng_vpc_cidrs(self)),
            2 => rng.pick(&self.subnets).cidr,
            3 if !self.enis.is_empty() => {
                let x = rng.pick(&self.enis);
                match x.secondary {
                    Some((sip, _)) if rng.chance(0.4) => host(sip),
                    _ => host(x.ip),
                }
            }
            4 => host(rng.pick(CLIENTS).parse().unwrap()),
            5 => net(rng.pick::<&str>(&[
                "198.51.100.0/24",
                "203.0.113.0/24",
                "8.0.0.0/8",
                "0.0.0.0/1",
                "128.0.0.0/1",
            ])),
            6 => {
                let publics: Vec<Ipv4Addr> = self
                    .enis
                    .iter()
                    .flat_map(|e| e.public.into_iter().chain(e.secondary.and_then(|s| s.1)))
                    .collect();
                if publics.is_empty() {
                    net("0.0.0.0/0")
                } else {
                    host(*rng.pick(&publics))
                }
            }
            7 => net("10.0.0.0/8"),
            _ => net("0.0.0.0/0"),
        }
    }

    fn random_sg_rule(&self, rng: &mut Rng, vpc: &str) -> SgRule {
        let proto = rng.weighted(&[(-1, 2), (6, 6), (17, 2), (1, 1), (47, 1)]);
        let ports = match proto {
            -1 => None,
            1 => Some(*rng.pick(&[(-1, -1), (8, -1), (3, 4)])),
            _ => {
                let (a, b) = *rng.pick(RULE_PORTS);
                Some((a as i32, b as i32))
            }
        };
        let same_vpc: Vec<String> = self
            .sgs
            .iter()
            .filter(|g| g.vpc == vpc)
            .map(|g| g.id.clone())
            .collect();
        let peered: Vec<String> = self
            .sgs
            .iter()
            .filter(|g| g.vpc != vpc && self.peering_between(vpc, &g.vpc).is_some())
            .map(|g| g.id.clone())
            .collect();
        let peer = match rng.weighted(&[(0, 6), (1, 3), (2, if peered.is_empty() { 0 } else { 2 })])
        {
            1 => RulePeer::Group(rng.pick(&same_vpc).clone()),
            2 => RulePeer::Group(rng.pick(&peered).clone()),
            _ => RulePeer::Cidr(self.random_cidr(rng)),
        };
        SgRule { proto, ports, peer }
    }

    fn random_nacl_entries(&self, rng: &mut Rng) -> Vec<NaclEntry> {
        if rng.chance(0.4) {
            return self.hardened_nacl_entries(rng);
        }
        let mut out = Vec::new();
        for egress in [false, true] {
            let mut used = BTreeSet::new();
            for _ in 0..rng.range(0, 5) {
                let number = if rng.chance(0.6) {
                    *rng.pick(&[1u32, 10, 50, 99, 100, 101, 110, 120, 200, 300, 32766])
                } else {
                    rng.range(1, 32766) as u32
                };
                if !used.insert(number) {
                    continue;
                }
                let proto = rng.weighted(&[(-1, 3), (6, 5), (17, 2), (1, 1), (47, 1)]);
                let ports = match proto {
                    6 | 17 => Some(*rng.pick(RULE_PORTS)),
                    _ => None,
                };
                out.push(NaclEntry {
                    number,
                    egress,
                    allow: rng.chance(0.65),
                    proto,
                    ports,
                    cidr: self.random_cidr(rng),
                });
            }
        }
        out
    }

    /// A "stateless-aware" NACL as people write them: service ports in,
    /// ephemeral ports back, with random omissions, narrower ephemeral
    /// ranges, a deny in front, or TCP-only rules. This is where the reply
    /// checks (ports swapped) decide the verdict.
    fn hardened_nacl_entries(&self, rng: &mut Rng) -> Vec<NaclEntry> {
        let ephemeral = *rng.pick(&[
            (1024u16, 65535u16),
            (1024, 65535),
            (32768, 61000),
            (49152, 65535),
            (0, 1023),
        ]);
        let wide = |rng: &mut Rng, s: &Self| {
            if rng.chance(0.7) {
                net("0.0.0.0/0")
            } else {
                s.random_cidr(rng)
            }
        };
        let mut out = Vec::new();
        let mut number = 100;
        for egress in [false, true] {
            number = 100;
            if rng.chance(0.25) {
                // A deny in front of everything.
                out.push(NaclEntry {
                    number: 50,
                    egress,
                    allow: false,
                    proto: *rng.pick(&[-1, 6]),
                    ports: None,
                    cidr: self.random_cidr(rng),
                });
            }
            for port in [22u16, 80, 443, 3306] {
                if rng.chance(0.6) {
                    let proto = if rng.chance(0.85) { 6 } else { -1 };
                    out.push(NaclEntry {
                        number,
                        egress,
                        allow: true,
                        proto,
                        ports: (proto == 6).then_some((port, port)),
                        cidr: wide(rng, self),
                    });
                }
                number += 10;
            }
            if rng.chance(0.85) {
                let proto = rng.weighted(&[(6, 6), (17, 1), (-1, 1)]);
                let range = if rng.chance(0.8) {
                    ephemeral
                } else {
                    *rng.pick(RULE_PORTS)
                };
                out.push(NaclEntry {
                    number,
                    egress,
                    allow: true,
                    proto,
                    ports: (proto != -1).then_some(range),
                    cidr: wide(rng, self),
                });
            }
            if rng.chance(0.2) {
                out.push(NaclEntry {
                    number: number + 10,
                    egress,
                    allow: true,
                    proto: 17,
                    ports: Some((0, 65535)),
                    cidr: net("0.0.0.0/0"),
                });
            }
        }
        let _ = number;
        out
    }

    fn random_routes(
        &self,
        rng: &mut Rng,
        vpc: &Vpc,
        next_id: &mut impl FnMut(&str) -> String,
    ) -> Vec<Route> {
        let mut routes: Vec<Route> = vpc
            .cidrs()
            .into_iter()
            .map(|dest| Route {
                dest,
                target: Target::Local,
                active: true,
            })
            .collect();
        let push = |routes: &mut Vec<Route>, r: Route| {
            if !routes.iter().any(|x| x.dest == r.dest) {
                routes.push(r);
            }
        };
        let igw = self.igws.iter().find(|g| g.vpc == vpc.id && g.attached);
        let detached = self.igws.iter().find(|g| g.vpc == vpc.id && !g.attached);
        if let Some(g) = igw {
            if rng.chance(0.8) {
                push(
                    &mut routes,
                    Route {
                        dest: net("0.0.0.0/0"),
                        target: Target::Igw(g.id.clone()),
                        active: true,
                    },
                );
            }
            if rng.chance(0.15) {
                let d = net(rng.pick::<&str>(&[
                    "8.8.8.0/24",
                    "198.51.100.0/24",
                    "192.0.2.0/24",
                    "52.0.0.0/8",
                ]));
                push(
                    &mut routes,
                    Route {
                        dest: d,
                        target: Target::Igw(g.id.clone()),
                        active: true,
                    },
                );
            }
        } else if let Some(g) = detached {
            if rng.chance(0.5) {
                // A route to a detached IGW: AWS shows it as a blackhole; sometimes lie and say active.
                push(
                    &mut routes,
                    Route {
                        dest: net("0.0.0.0/0"),
                        target: Target::Igw(g.id.clone()),
                        active: rng.chance(0.2),
                    },
                );
            }
        }
        let my_peerings: Vec<&Peering> = self
            .peerings
            .iter()
            .filter(|p| p.requester == vpc.id || p.accepter == vpc.id)
            .collect();
        for p in &my_peerings {
            let other = if p.requester == vpc.id {
                &p.accepter
            } else {
                &p.requester
            };
            if rng.chance(0.65) {
                let dest = if rng.chance(0.7) {
                    *rng.pick(&self.vpc(other).unwrap().cidrs())
                } else {
                    let subs: Vec<&Subnet> =
                        self.subnets.iter().filter(|s| &s.vpc == other).collect();
                    rng.pick(&subs).cidr
                };
                let active = if p.status == "active" {
                    true
                } else {
                    rng.chance(0.2)
                };
                push(
                    &mut routes,
                    Route {
                        dest,
                        target: Target::Pcx(p.id.clone()),
                        active,
                    },
                );
            }
        }
        if !my_peerings.is_empty() {
            // A VPC that is not the peer (transitive attempt), or an internet range misrouted to the peering.
            if rng.chance(0.35) {
                let p = rng.pick(&my_peerings);
                let other = if p.requester == vpc.id {
                    &p.accepter
                } else {
                    &p.requester
                };
                let candidates: Vec<&Vpc> = self
                    .vpcs
                    .iter()
                    .filter(|v| v.id != vpc.id && &v.id != other)
                    .collect();
                if !candidates.is_empty() {
                    let d = rng.pick(&candidates).cidr;
                    push(
                        &mut routes,
                        Route {
                            dest: d,
                            target: Target::Pcx(p.id.clone()),
                            active: true,
                        },
                    );
                }
            }
            if rng.chance(0.15) {
                let p = rng.pick(&my_peerings);
                let d = net(rng.pick::<&str>(&[
                    "8.8.8.8/32",
                    "203.0.113.0/24",
                    "198.51.100.0/25",
                    "0.0.0.0/0",
                ]));
                push(
                    &mut routes,
                    Route {
                        dest: d,
                        target: Target::Pcx(p.id.clone()),
                        active: p.status == "active",
                    },
                );
            }
        }
        if rng.chance(0.2) {
            let subs: Vec<&Subnet> = self.subnets.iter().filter(|s| s.vpc == vpc.id).collect();
            let (dest, target) = match rng.below(4) {
                0 => (net("8.8.8.8/32"), Target::Igw(next_id("igw"))),
                1 => (net("10.3.0.0/16"), Target::Pcx(next_id("pcx"))),
                2 => (rng.pick(&subs).cidr, Target::Eni(next_id("eni"))),
                _ => (net("0.0.0.0/0"), Target::Igw(next_id("igw"))),
            };
            let other_vpc: Vec<&Vpc> = self.vpcs.iter().filter(|v| v.id != vpc.id).collect();
            let dest = if dest == net("10.3.0.0/16") && !other_vpc.is_empty() {
                rng.pick(&other_vpc).cidr
            } else {
                dest
            };
            push(
                &mut routes,
                Route {
                    dest,
                    target,
                    active: false,
                },
            );
        }
        routes
    }

    /// The eight `describe-*` outputs: (file name, JSON).
    pub fn render(&self) -> Vec<(String, Value)> {
        let tag = |name: &str| json!([{"Key": "Name", "Value": name}]);
        let vpcs: Vec<Value> = self
            .vpcs
            .iter()
            .map(|v| {
                json!({
                    "CidrBlock": v.cidr.to_string(),
                    "DhcpOptionsId": "dopt-0123456789abcdef0",
                    "State": "available",
                    "VpcId": v.id,
                    "OwnerId": ACCOUNT,
                    "InstanceTenancy": "default",
                    "CidrBlockAssociationSet": v.cidrs().iter().enumerate().map(|(k, c)| json!({
                        "AssociationId": format!("vpc-cidr-assoc-{}{k}", &v.id[4..]),
                        "CidrBlock": c.to_string(),
                        "CidrBlockState": {"State": "associated"}
                    })).collect::<Vec<Value>>(),
                    "IsDefault": false,
                    "Tags": tag(&format!("vpc-{}", v.cidr.network().octets()[1]))
                })
            })
            .collect();
        let subnets: Vec<Value> = self
            .subnets
            .iter()
            .map(|s| {
                json!({
                    "AvailabilityZone": s.az,
                    "AvailableIpAddressCount": 250,
                    "CidrBlock": s.cidr.to_string(),
                    "DefaultForAz": false,
                    "MapPublicIpOnLaunch": false,
                    "State": "available",
                    "SubnetId": s.id,
                    "VpcId": s.vpc,
                    "OwnerId": ACCOUNT,
                    "AssignIpv6AddressOnCreation": false,
                    "Ipv6CidrBlockAssociationSet": [],
                    "SubnetArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{}", s.id),
                })
            })
            .collect();
        let route_tables: Vec<Value> = self
            .route_tables
            .iter()
            .map(|rt| {
                let mut assocs = Vec::new();
                if rt.main {
                    assocs.push(json!({
                        "Main": true,
                        "RouteTableAssociationId": format!("rtbassoc-{}m", &rt.id[4..]),
                        "RouteTableId": rt.id,
                        "AssociationState": {"State": "associated"}
                    }));
                }
                for (k, s) in rt.subnets.iter().enumerate() {
                    assocs.push(json!({
                        "Main": false,
                        "RouteTableAssociationId": format!("rtbassoc-{}{k}", &rt.id[4..]),
                        "RouteTableId": rt.id,
                        "SubnetId": s,
                        "AssociationState": {"State": "associated"}
                    }));
                }
                let routes: Vec<Value> = rt
                    .routes
                    .iter()
                    .map(|r| {
                        let mut o = serde_json::Map::new();
                        o.insert("DestinationCidrBlock".into(), json!(r.dest.to_string()));
                        match &r.target {
                            Target::Local => {
                                o.insert("GatewayId".into(), json!("local"));
                            }
                            Target::Igw(g) => {
                                o.insert("GatewayId".into(), json!(g));
                            }
                            Target::Pcx(p) => {
                                o.insert("VpcPeeringConnectionId".into(), json!(p));
                            }
                            Target::Eni(e) => {
                                o.insert("NetworkInterfaceId".into(), json!(e));
                            }
                            Target::Tgw(t) => {
                                o.insert("TransitGatewayId".into(), json!(t));
                            }
                            Target::Nat(n) => {
                                o.insert("NatGatewayId".into(), json!(n));
                            }
                            Target::Vgw(g) => {
                                o.insert("GatewayId".into(), json!(g));
                            }
                        }
                        let origin = if r.target == Target::Local {
                            "CreateRouteTable"
                        } else {
                            "CreateRoute"
                        };
                        o.insert("Origin".into(), json!(origin));
                        o.insert(
                            "State".into(),
                            json!(if r.active { "active" } else { "blackhole" }),
                        );
                        Value::Object(o)
                    })
                    .chain(self.vgw_propagated(rt).into_iter().map(|(dest, g)| {
                        json!({
                            "DestinationCidrBlock": dest.to_string(),
                            "GatewayId": g,
                            "Origin": "EnableVgwRoutePropagation",
                            "State": "active"
                        })
                    }))
                    .collect();
                json!({
                    "Associations": assocs,
                    "PropagatingVgws": self.propagating_vgws(rt),
                    "RouteTableId": rt.id,
                    "Routes": routes,
                    "Tags": [],
                    "VpcId": rt.vpc,
                    "OwnerId": ACCOUNT
                })
            })
            .collect();
        let nacls: Vec<Value> = self
            .nacls
            .iter()
            .map(|n| {
                let assocs: Vec<Value> = n
                    .subnets
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        json!({
                            "NetworkAclAssociationId": format!("aclassoc-{}{k}", &n.id[4..]),
                            "NetworkAclId": n.id,
                            "SubnetId": s
                        })
                    })
                    .collect();
                let entries: Vec<Value> = n
                    .entries
                    .iter()
                    .map(|x| {
                        let mut o = serde_json::Map::new();
                        o.insert("CidrBlock".into(), json!(x.cidr.to_string()));
                        o.insert("Egress".into(), json!(x.egress));
                        if let Some((a, b)) = x.ports {
                            o.insert("PortRange".into(), json!({"From": a, "To": b}));
                        } else if x.proto == 6 || x.proto == 17 {
                            // Every port, as AWS prints it (a tcp or udp entry always has a
                            // PortRange; the loader ignores one without).
                            o.insert("PortRange".into(), json!({"From": 0, "To": 65535}));
                        } else if x.proto == -1 && self.odd_encoding {
                            // Ignored for protocol -1 (§2.2).
                            o.insert("PortRange".into(), json!({"From": 22, "To": 22}));
                        }
                        if x.proto == 1 {
                            o.insert("IcmpTypeCode".into(), json!({"Code": -1, "Type": -1}));
                        }
                        o.insert("Protocol".into(), json!(x.proto.to_string()));
                        o.insert(
                            "RuleAction".into(),
                            json!(if x.allow { "allow" } else { "deny" }),
                        );
                        o.insert("RuleNumber".into(), json!(x.number));
                        Value::Object(o)
                    })
                    .collect();
                json!({
                    "Associations": assocs,
                    "Entries": if self.odd_encoding { entries.into_iter().rev().collect() } else { entries },
                    "IsDefault": n.default,
                    "NetworkAclId": n.id,
                    "Tags": [],
                    "VpcId": n.vpc,
                    "OwnerId": ACCOUNT
                })
            })
            .collect();
        let sgs: Vec<Value> = self
            .sgs
            .iter()
            .map(|g| {
                json!({
                    "Description": format!("{} group", g.name),
                    "GroupName": g.name,
                    "IpPermissions": self.permissions(g, &self.rules_rendered(g, false)),
                    "OwnerId": ACCOUNT,
                    "GroupId": g.id,
                    "IpPermissionsEgress": self.permissions(g, &self.rules_rendered(g, true)),
                    "VpcId": g.vpc
                })
            })
            .collect();
        let mut enis: Vec<Value> = self
            .enis
            .iter()
            .map(|e| {
                let subnet = self.subnet(&e.subnet).unwrap();
                let assoc = e.public.map(|p| {
                    let dns = format!("ec2-{}.{REGION}.compute.amazonaws.com", p.to_string().replace('.', "-"));
                    if e.elastic {
                        json!({
                            "AllocationId": format!("eipalloc-{}", &e.id[4..]),
                            "AssociationId": format!("eipassoc-{}", &e.id[4..]),
                            "IpOwnerId": ACCOUNT,
                            "PublicDnsName": dns,
                            "PublicIp": p.to_string()
                        })
                    } else {
                        json!({"IpOwnerId": "amazon", "PublicDnsName": dns, "PublicIp": p.to_string()})
                    }
                });
                let (private_dns, pip) = primary_ip(e.ip, assoc.as_ref());
                let groups = self.group_refs(&e.groups);
                let mut o = serde_json::Map::new();
                if let Some(a) = assoc {
                    o.insert("Association".into(), a);
                }
                o.insert(
                    "Attachment".into(),
                    json!({
                        "AttachTime": "2024-05-01T10:00:00+00:00",
                        "AttachmentId": format!("eni-attach-{}", &e.id[4..]),
                        "DeleteOnTermination": true,
                        "DeviceIndex": 0,
                        "NetworkCardIndex": 0,
                        "InstanceId": e.instance,
                        "InstanceOwnerId": ACCOUNT,
                        "Status": "attached"
                    }),
                );
                o.insert("AvailabilityZone".into(), json!(subnet.az));
                o.insert("Description".into(), json!("Primary network interface"));
                o.insert("Groups".into(), json!(groups));
                o.insert("InterfaceType".into(), json!("interface"));
                o.insert("Ipv6Addresses".into(), json!([]));
                o.insert("MacAddress".into(), json!("02:00:00:00:00:01"));
                o.insert("NetworkInterfaceId".into(), json!(e.id));
                o.insert("OwnerId".into(), json!(ACCOUNT));
                o.insert("PrivateDnsName".into(), json!(private_dns));
                o.insert("PrivateIpAddress".into(), json!(e.ip.to_string()));
                let mut pips = vec![Value::Object(pip)];
                if let Some((sip, spub)) = e.secondary {
                    let mut o2 = serde_json::Map::new();
                    if let Some(p) = spub {
                        // An Elastic IP on the secondary address.
                        o2.insert(
                            "Association".into(),
                            json!({
                                "AllocationId": format!("eipalloc-{}s", &e.id[4..]),
                                "AssociationId": format!("eipassoc-{}s", &e.id[4..]),
                                "IpOwnerId": ACCOUNT,
                                "PublicDnsName": format!("ec2-{}.{REGION}.compute.amazonaws.com", p.to_string().replace('.', "-")),
                                "PublicIp": p.to_string()
                            }),
                        );
                    }
                    o2.insert("Primary".into(), json!(false));
                    o2.insert(
                        "PrivateDnsName".into(),
                        json!(format!("ip-{}.{REGION}.compute.internal", sip.to_string().replace('.', "-"))),
                    );
                    o2.insert("PrivateIpAddress".into(), json!(sip.to_string()));
                    pips.push(Value::Object(o2));
                }
                o.insert("PrivateIpAddresses".into(), json!(pips));
                o.insert("RequesterManaged".into(), json!(false));
                o.insert("SourceDestCheck".into(), json!(true));
                o.insert("Status".into(), json!("in-use"));
                o.insert("SubnetId".into(), json!(e.subnet));
                o.insert("TagSet".into(), json!([]));
                o.insert("VpcId".into(), json!(subnet.vpc));
                Value::Object(o)
            })
            .collect();
        let igws: Vec<Value> = self
            .igws
            .iter()
            .map(|g| {
                let att: Vec<Value> = if g.attached {
                    vec![json!({"State": "available", "VpcId": g.vpc})]
                } else {
                    Vec::new()
                };
                json!({"Attachments": att, "InternetGatewayId": g.id, "OwnerId": ACCOUNT, "Tags": []})
            })
            .collect();
        let info = |vpc: &str| {
            let cidrs: Vec<String> = self
                .vpc(vpc)
                .map(|v| v.cidrs().iter().map(|c| c.to_string()).collect())
                .unwrap_or_default();
            json!({
                "CidrBlock": cidrs.first().cloned().unwrap_or_default(),
                "CidrBlockSet": cidrs.iter().map(|c| json!({"CidrBlock": c})).collect::<Vec<Value>>(),
                "OwnerId": ACCOUNT,
                "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": false},
                "VpcId": vpc,
                "Region": REGION
            })
        };
        let peerings: Vec<Value> = self
            .peerings
            .iter()
            .map(|p| {
                json!({
                    "AccepterVpcInfo": info(&p.accepter),
                    "RequesterVpcInfo": info(&p.requester),
                    "Status": {"Code": p.status, "Message": p.status},
                    "Tags": [],
                    "VpcPeeringConnectionId": p.id
                })
            })
            .collect();
        let mut lb_files = Vec::new();
        if !self.lbs.is_empty() {
            let (lb_enis, files) = self.render_lbs();
            enis.extend(lb_enis);
            lb_files = files;
        }
        let mut files: Vec<(String, Value)> = vec![
            ("describe-vpcs.json".into(), json!({ "Vpcs": vpcs })),
            (
                "describe-subnets.json".into(),
                json!({ "Subnets": subnets }),
            ),
            (
                "describe-route-tables.json".into(),
                json!({ "RouteTables": route_tables }),
            ),
            (
                "describe-network-acls.json".into(),
                json!({ "NetworkAcls": nacls }),
            ),
            (
                "describe-security-groups.json".into(),
                json!({ "SecurityGroups": sgs }),
            ),
            (
                "describe-network-interfaces.json".into(),
                json!({ "NetworkInterfaces": enis }),
            ),
            (
                "describe-internet-gateways.json".into(),
                json!({ "InternetGateways": igws }),
            ),
            (
                "describe-vpc-peering-connections.json".into(),
                json!({ "VpcPeeringConnections": peerings }),
            ),
        ];
        files.extend(lb_files);
        if !self.tgws.is_empty() {
            let (tgw_enis, tgw_files) = self.render_tgws();
            if let Some((_, Value::Object(o))) = files
                .iter_mut()
                .find(|(n, _)| n == "describe-network-interfaces.json")
            {
                if let Some(Value::Array(list)) = o.get_mut("NetworkInterfaces") {
                    list.extend(tgw_enis);
                }
            }
            files.extend(tgw_files);
        }
        if !self.nats.is_empty() {
            let (nat_enis, nat_files) = self.render_nats();
            if let Some((_, Value::Object(o))) = files
                .iter_mut()
                .find(|(n, _)| n == "describe-network-interfaces.json")
            {
                if let Some(Value::Array(list)) = o.get_mut("NetworkInterfaces") {
                    list.extend(nat_enis);
                }
            }
            files.extend(nat_files);
        }
        if !self.vgws.is_empty() || !self.tgw_vpns.is_empty() {
            let (vpn_atts, vpn_files) = self.render_vpn();
            if let Some((_, Value::Object(o))) = files
                .iter_mut()
                .find(|(n, _)| n == "describe-transit-gateway-attachments.json")
            {
                if let Some(Value::Array(list)) = o.get_mut("TransitGatewayAttachments") {
                    list.extend(vpn_atts);
                }
            }
            files.extend(vpn_files);
        }
        files
    }

    /// describe-nat-gateways (only written when the estate has NAT gateways) and their
    /// ENIs (§7: `nat_gateway`, `Interface for NAT Gateway nat-…`, no groups).
    fn render_nats(&self) -> (Vec<Value>, Vec<(String, Value)>) {
        let mut enis = Vec::new();
        let mut nats = Vec::new();
        for n in &self.nats {
            let Some(subnet) = self.subnet(&n.subnet) else {
                continue;
            };
            let mut addr = json!({
                "NetworkInterfaceId": n.eni,
                "PrivateIp": n.ip.to_string(),
                "IsPrimary": true,
                "Status": "succeeded"
            });
            let assoc = n.eip.map(|p| {
                addr["AllocationId"] = json!(format!("eipalloc-{}", &n.id[4..]));
                addr["AssociationId"] = json!(format!("eipassoc-{}", &n.id[4..]));
                addr["PublicIp"] = json!(p.to_string());
                json!({
                    "AllocationId": format!("eipalloc-{}", &n.id[4..]),
                    "AssociationId": format!("eipassoc-{}", &n.id[4..]),
                    "IpOwnerId": ACCOUNT,
                    "PublicDnsName": format!("ec2-{}.{REGION}.compute.amazonaws.com", p.to_string().replace('.', "-")),
                    "PublicIp": p.to_string()
                })
            });
            nats.push(json!({
                "CreateTime": "2024-05-01T10:00:00+00:00",
                "NatGatewayAddresses": [addr],
                "NatGatewayId": n.id,
                "State": n.state,
                "SubnetId": n.subnet,
                "VpcId": n.vpc,
                "Tags": [],
                "ConnectivityType": if n.private { "private" } else { "public" }
            }));
            if !n.write_eni || !n.exists() {
                continue;
            }
            let (private_dns, pip) = primary_ip(n.ip, assoc.as_ref());
            let mut o = serde_json::Map::new();
            if let Some(a) = assoc {
                o.insert("Association".into(), a);
            }
            o.insert(
                "Attachment".into(),
                json!({
                    "AttachTime": "2024-05-01T10:00:00+00:00",
                    "AttachmentId": format!("ela-attach-{}", &n.eni[4..]),
                    "DeleteOnTermination": false,
                    "DeviceIndex": 1,
                    "NetworkCardIndex": 0,
                    "InstanceOwnerId": "amazon-aws",
                    "Status": "attached"
                }),
            );
            o.insert("AvailabilityZone".into(), json!(subnet.az));
            o.insert(
                "Description".into(),
                json!(format!("Interface for NAT Gateway {}", n.id)),
            );
            o.insert("Groups".into(), json!([]));
            o.insert("InterfaceType".into(), json!("nat_gateway"));
            o.insert("Ipv6Addresses".into(), json!([]));
            o.insert("MacAddress".into(), json!("02:00:00:00:00:04"));
            o.insert("NetworkInterfaceId".into(), json!(n.eni));
            o.insert("OwnerId".into(), json!(ACCOUNT));
            o.insert("PrivateDnsName".into(), json!(private_dns));
            o.insert("PrivateIpAddress".into(), json!(n.ip.to_string()));
            o.insert("PrivateIpAddresses".into(), json!([Value::Object(pip)]));
            o.insert("RequesterId".into(), json!("amazon-aws"));
            o.insert("RequesterManaged".into(), json!(true));
            o.insert("SourceDestCheck".into(), json!(false));
            o.insert("Status".into(), json!("in-use"));
            o.insert("SubnetId".into(), json!(n.subnet));
            o.insert("TagSet".into(), json!([]));
            o.insert("VpcId".into(), json!(subnet.vpc));
            enis.push(Value::Object(o));
        }
        (
            enis,
            vec![(
                "describe-nat-gateways.json".to_string(),
                json!({ "NatGateways": nats }),
            )],
        )
    }

    /// The transit gateway files (only written when the estate has one, so that estates
    /// without are as before) and the attachments' ENIs (§7: `transit_gateway`, no groups).
    fn render_tgws(&self) -> (Vec<Value>, Vec<(String, Value)>) {
        let mut enis = Vec::new();
        let mut tgws = Vec::new();
        let mut atts = Vec::new();
        let mut vpc_atts = Vec::new();
        let mut tables = Vec::new();
        let mut routes = Vec::new();
        let mut props = Vec::new();
        let able = |b: bool| if b { "enable" } else { "disable" };
        for (ti, t) in self.tgws.iter().enumerate() {
            let mut opts = json!({
                "AmazonSideAsn": 64512,
                "AutoAcceptSharedAttachments": "disable",
                "DefaultRouteTableAssociation": able(t.default_assoc.is_some()),
                "DefaultRouteTablePropagation": able(t.default_prop.is_some()),
                "VpnEcmpSupport": "enable",
                "DnsSupport": "enable",
                "SecurityGroupReferencingSupport": able(t.sg_referencing),
                "MulticastSupport": "disable"
            });
            if let Some(a) = &t.default_assoc {
                opts["AssociationDefaultRouteTableId"] = json!(a);
            }
            if let Some(p) = &t.default_prop {
                opts["PropagationDefaultRouteTableId"] = json!(p);
            }
            tgws.push(json!({
                "TransitGatewayId": t.id,
                "TransitGatewayArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:transit-gateway/{}", t.id),
                "State": "available",
                "OwnerId": ACCOUNT,
                "Description": "brute-force tgw",
                "CreationTime": "2024-05-01T10:00:00+00:00",
                "Options": opts,
                "Tags": []
            }));
            for (k, a) in t.attachments.iter().enumerate() {
                let mut att = json!({
                    "TransitGatewayAttachmentId": a.id,
                    "TransitGatewayId": t.id,
                    "TransitGatewayOwnerId": ACCOUNT,
                    "ResourceOwnerId": ACCOUNT,
                    "ResourceType": "vpc",
                    "ResourceId": a.vpc,
                    "State": "available",
                    "CreationTime": "2024-05-01T10:00:00+00:00",
                    "Tags": []
                });
                if let Some(rt) = &a.table {
                    att["Association"] =
                        json!({"TransitGatewayRouteTableId": rt, "State": "associated"});
                }
                atts.push(att);
                vpc_atts.push(json!({
                    "TransitGatewayAttachmentId": a.id,
                    "TransitGatewayId": t.id,
                    "VpcId": a.vpc,
                    "VpcOwnerId": ACCOUNT,
                    "State": "available",
                    "SubnetIds": a.subnets,
                    "CreationTime": "2024-05-01T10:00:00+00:00",
                    "Options": {
                        "DnsSupport": "enable",
                        "SecurityGroupReferencingSupport": able(a.sg_referencing),
                        "Ipv6Support": "disable",
                        "ApplianceModeSupport": able(a.appliance)
                    },
                    "Tags": []
                }));
                if t.enis {
                    for (j, sid) in a.subnets.iter().enumerate() {
                        let Some(subnet) = self.subnet(sid) else {
                            continue;
                        };
                        let o = subnet.cidr.network().octets();
                        // The second gateway's ENIs below the first's (a subnet may hold both).
                        let ip = Ipv4Addr::new(o[0], o[1], o[2], 250 - (5 * ti + k) as u8);
                        let eni = format!(
                            "eni-0{:016x}",
                            0x0bf3_0000_u64 + (ti * 0x100 + k * 8 + j) as u64
                        );
                        let (private_dns, pip) = primary_ip(ip, None);
                        enis.push(json!({
                            "Attachment": {
                                "AttachTime": "2024-05-01T10:00:00+00:00",
                                "AttachmentId": format!("ela-attach-{}", &eni[4..]),
                                "DeleteOnTermination": false,
                                "DeviceIndex": 1,
                                "NetworkCardIndex": 0,
                                "InstanceOwnerId": "amazon-aws",
                                "Status": "attached"
                            },
                            "AvailabilityZone": subnet.az,
                            "Description": format!("Network Interface for Transit Gateway Attachment {}", a.id),
                            "Groups": [],
                            "InterfaceType": "transit_gateway",
                            "Ipv6Addresses": [],
                            "MacAddress": "02:00:00:00:00:03",
                            "NetworkInterfaceId": eni,
                            "OwnerId": ACCOUNT,
                            "PrivateDnsName": private_dns,
                            "PrivateIpAddress": ip.to_string(),
                            "PrivateIpAddresses": [Value::Object(pip)],
                            "RequesterId": "amazon-aws",
                            "RequesterManaged": true,
                            "SourceDestCheck": false,
                            "Status": "in-use",
                            "SubnetId": sid,
                            "TagSet": [],
                            "VpcId": subnet.vpc
                        }));
                    }
                }
            }
            let att_ref = |id: &str| {
                if let Some(v) = self.tgw_vpn(id) {
                    return json!({"ResourceId": v.vpn.id, "TransitGatewayAttachmentId": id, "ResourceType": "vpn"});
                }
                let vpc = t
                    .attachments
                    .iter()
                    .find(|a| a.id == id)
                    .map(|a| a.vpc.clone())
                    .unwrap_or_default();
                json!({"ResourceId": vpc, "TransitGatewayAttachmentId": id, "ResourceType": "vpc"})
            };
            for rt in &t.tables {
                tables.push(json!({
                    "TransitGatewayRouteTableId": rt.id,
                    "TransitGatewayId": t.id,
                    "State": "available",
                    "DefaultAssociationRouteTable": t.default_assoc.as_deref() == Some(rt.id.as_str()),
                    "DefaultPropagationRouteTable": t.default_prop.as_deref() == Some(rt.id.as_str()),
                    "CreationTime": "2024-05-01T10:00:00+00:00",
                    "Tags": []
                }));
                let list: Vec<Value> = t
                    .routes(self, rt)
                    .into_iter()
                    .map(|(dest, att, propagated)| {
                        let mut r = json!({
                            "DestinationCidrBlock": dest.to_string(),
                            "Type": if propagated { "propagated" } else { "static" },
                            "State": if att.is_some() { "active" } else { "blackhole" }
                        });
                        if let Some(a) = att {
                            r["TransitGatewayAttachments"] = json!([att_ref(&a)]);
                        }
                        r
                    })
                    .collect();
                routes.push(json!({"TransitGatewayRouteTableId": rt.id, "Routes": list}));
                props.push(json!({
                    "TransitGatewayRouteTableId": rt.id,
                    "TransitGatewayRouteTablePropagations": rt.propagations.iter().map(|a| {
                        let mut p = att_ref(a);
                        p["State"] = json!("enabled");
                        p
                    }).collect::<Vec<Value>>()
                }));
            }
        }
        let files = vec![
            (
                "describe-transit-gateways.json".to_string(),
                json!({ "TransitGateways": tgws }),
            ),
            (
                "describe-transit-gateway-attachments.json".to_string(),
                json!({ "TransitGatewayAttachments": atts }),
            ),
            (
                "describe-transit-gateway-vpc-attachments.json".to_string(),
                json!({ "TransitGatewayVpcAttachments": vpc_atts }),
            ),
            (
                "describe-transit-gateway-route-tables.json".to_string(),
                json!({ "TransitGatewayRouteTables": tables }),
            ),
            (
                "search-transit-gateway-routes.json".to_string(),
                json!({ "TransitGatewayStaticRoutes": routes }),
            ),
            (
                "get-transit-gateway-route-table-propagations.json".to_string(),
                json!({ "TransitGatewayPropagations": props }),
            ),
        ];
        (enis, files)
    }

    /// The load balancers' ENIs (§5.5) and the ELBv2 files (only written when the
    /// estate has load balancers, so that estates without any are as before), with
    /// describe-instances for instance targets.
    fn render_lbs(&self) -> (Vec<Value>, Vec<(String, Value)>) {
        let mut enis = Vec::new();
        for lb in &self.lbs {
            let kind = if lb.network { "net" } else { "app" };
            for n in &lb.nodes {
                let subnet = self.subnet(&n.subnet).unwrap();
                let assoc = n.public.map(|p| {
                    json!({
                        "IpOwnerId": "amazon-elb",
                        "PublicDnsName": format!("ec2-{}.{REGION}.compute.amazonaws.com", p.to_string().replace('.', "-")),
                        "PublicIp": p.to_string()
                    })
                });
                let (private_dns, pip) = primary_ip(n.ip, assoc.as_ref());
                let groups = self.group_refs(&lb.groups);
                let itype = if lb.network {
                    "network_load_balancer"
                } else if lb.alb_eni_type_lb {
                    "load_balancer"
                } else {
                    "interface"
                };
                let mut o = serde_json::Map::new();
                if let Some(a) = assoc {
                    o.insert("Association".into(), a);
                }
                o.insert(
                    "Attachment".into(),
                    json!({
                        "AttachTime": "2024-05-01T10:00:00+00:00",
                        "AttachmentId": format!("ela-attach-{}", &n.eni[4..]),
                        "DeleteOnTermination": false,
                        "DeviceIndex": 1,
                        "NetworkCardIndex": 0,
                        "InstanceOwnerId": "amazon-elb",
                        "Status": "attached"
                    }),
                );
                o.insert("AvailabilityZone".into(), json!(subnet.az));
                o.insert(
                    "Description".into(),
                    json!(format!("ELB {kind}/{}/{}", lb.name, lb.id)),
                );
                o.insert("Groups".into(), json!(groups));
                o.insert("InterfaceType".into(), json!(itype));
                o.insert("Ipv6Addresses".into(), json!([]));
                o.insert("MacAddress".into(), json!("02:00:00:00:00:02"));
                o.insert("NetworkInterfaceId".into(), json!(n.eni));
                o.insert("OwnerId".into(), json!(ACCOUNT));
                o.insert("PrivateDnsName".into(), json!(private_dns));
                o.insert("PrivateIpAddress".into(), json!(n.ip.to_string()));
                o.insert("PrivateIpAddresses".into(), json!([Value::Object(pip)]));
                o.insert("RequesterId".into(), json!("amazon-elb"));
                o.insert("RequesterManaged".into(), json!(true));
                o.insert("SourceDestCheck".into(), json!(true));
                o.insert("Status".into(), json!("in-use"));
                o.insert("SubnetId".into(), json!(n.subnet));
                o.insert("TagSet".into(), json!([]));
                o.insert("VpcId".into(), json!(subnet.vpc));
                enis.push(Value::Object(o));
            }
        }
        let lbs: Vec<Value> = self
            .lbs
            .iter()
            .map(|lb| {
                json!({
                    "LoadBalancerArn": lb.arn(),
                    "DNSName": format!("{}-{}.elb.{REGION}.amazonaws.com", lb.name, &lb.id[..10]),
                    "CanonicalHostedZoneId": "Z2IFOLAFXWLO4F",
                    "CreatedTime": "2024-05-01T10:00:00.000000+00:00",
                    "LoadBalancerName": lb.name,
                    "Scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
                    "VpcId": lb.vpc,
                    "State": {"Code": "active"},
                    "Type": if lb.network { "network" } else { "application" },
                    "AvailabilityZones": lb.nodes.iter().map(|n| json!({
                        "ZoneName": self.subnet(&n.subnet).unwrap().az,
                        "SubnetId": n.subnet,
                        "LoadBalancerAddresses": []
                    })).collect::<Vec<Value>>(),
                    "SecurityGroups": lb.groups,
                    "IpAddressType": "ipv4"
                })
            })
            .collect();
        let fixed_response = json!({
            "Type": "fixed-response",
            "Order": 1,
            "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}
        });
        let forward_action = |l: &Listener| {
            let arns: Vec<String> = l
                .forward
                .iter()
                .filter_map(|t| self.target_groups.iter().find(|g| &g.id == t))
                .map(|g| g.arn())
                .collect();
            let mut a = json!({
                "Type": "forward",
                "Order": 1,
                "ForwardConfig": {
                    "TargetGroups": arns.iter().map(|a| json!({"TargetGroupArn": a, "Weight": 1})).collect::<Vec<Value>>(),
                    "TargetGroupStickinessConfig": {"Enabled": false}
                }
            });
            if arns.len() == 1 {
                a["TargetGroupArn"] = json!(arns[0]);
            }
            a
        };
        let (fixed, forward) = (&fixed_response, &forward_action);
        let listeners: Vec<Value> = self
            .lbs
            .iter()
            .flat_map(|lb| {
                lb.listeners.iter().map(move |l| {
                    let actions = if l.forward.is_empty() || lb.rules_forward(l) {
                        json!([fixed])
                    } else {
                        json!([forward(l)])
                    };
                    json!({
                        "ListenerArn": lb.listener_arn(l),
                        "LoadBalancerArn": lb.arn(),
                        "Port": l.port,
                        "Protocol": l.protocol,
                        "DefaultActions": actions
                    })
                })
            })
            .collect();
        // `describe-rules` for the listeners that forward by a rule: a path rule and the
        // default rule, as the CLI prints them; the file names the listener (the collector's
        // shape) for even ports, and leaves it to the rules' ARNs for odd ones.
        let mut rule_files: Vec<(String, Value)> = Vec::new();
        for lb in &self.lbs {
            for l in lb.listeners.iter().filter(|l| lb.rules_forward(l)) {
                let listener_arn = lb.listener_arn(l);
                let rule_arn = |id: String| {
                    format!(
                        "{}/{id}",
                        listener_arn.replacen(":listener/", ":listener-rule/", 1)
                    )
                };
                let rules = json!([
                    {
                        "RuleArn": rule_arn(format!("7e1e{}", &l.id[4..])),
                        "Priority": "10",
                        "Conditions": [{
                            "Field": "path-pattern",
                            "Values": ["/app/*"],
                            "PathPatternConfig": {"Values": ["/app/*"]}
                        }],
                        "Actions": [forward_action(l)],
                        "IsDefault": false
                    },
                    {
                        "RuleArn": rule_arn(format!("de1a{}", &l.id[4..])),
                        "Priority": "default",
                        "Conditions": [],
                        "Actions": [fixed_response],
                        "IsDefault": true
                    }
                ]);
                let doc = if l.port % 2 == 0 {
                    json!({"ListenerArn": listener_arn, "Rules": rules})
                } else {
                    json!({ "Rules": rules })
                };
                rule_files.push((format!("describe-rules-{}-{}.json", lb.name, l.id), doc));
            }
        }
        let lb_arn = |name: &str| {
            self.lbs
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.arn())
                .unwrap_or_default()
        };
        let tgs: Vec<Value> = self
            .target_groups
            .iter()
            .map(|g| {
                json!({
                    "TargetGroupArn": g.arn(),
                    "TargetGroupName": g.name,
                    "Protocol": g.protocol,
                    "Port": g.port,
                    "VpcId": g.vpc,
                    "HealthCheckProtocol": if g.protocol.starts_with("HTTP") { "HTTP" } else { "TCP" },
                    "HealthCheckPort": "traffic-port",
                    "HealthCheckEnabled": true,
                    "LoadBalancerArns": [lb_arn(&g.lb)],
                    "TargetType": if g.instance { "instance" } else { "ip" },
                    "IpAddressType": "ipv4"
                })
            })
            .collect();
        let health: Vec<Value> = self
            .target_groups
            .iter()
            .map(|g| {
                json!({
                    "TargetGroupArn": g.arn(),
                    "TargetHealthDescriptions": g.targets.iter().map(|t| {
                        let port = t.port.unwrap_or(g.port);
                        let mut target = json!({"Id": t.id, "Port": port});
                        if let Some(az) = &t.az {
                            target["AvailabilityZone"] = json!(az);
                        }
                        let mut th = json!({"State": t.health});
                        if t.health != "healthy" {
                            th["Reason"] = json!(match t.health.as_str() {
                                "unhealthy" => "Target.FailedHealthChecks",
                                "initial" => "Elb.RegistrationInProgress",
                                "unused" => "Target.NotInUse",
                                "draining" => "Target.DeregistrationInProgress",
                                _ => "Target.HealthCheckDisabled",
                            });
                        }
                        json!({"Target": target, "HealthCheckPort": port.to_string(), "TargetHealth": th})
                    }).collect::<Vec<Value>>()
                })
            })
            .collect();
        let lb_attrs: Vec<Value> = self
            .lbs
            .iter()
            .map(|lb| {
                let mut attrs =
                    vec![json!({"Key": "deletion_protection.enabled", "Value": "false"})];
                if let Some(c) = lb.cross_zone {
                    attrs.push(
                        json!({"Key": "load_balancing.cross_zone.enabled", "Value": c.to_string()}),
                    );
                }
                json!({"LoadBalancerArn": lb.arn(), "Attributes": attrs})
            })
            .collect();
        let tg_attrs: Vec<Value> = self
            .target_groups
            .iter()
            .map(|g| {
                let mut attrs =
                    vec![json!({"Key": "deregistration_delay.timeout_seconds", "Value": "300"})];
                if let Some(p) = g.preserve {
                    attrs
                        .push(json!({"Key": "preserve_client_ip.enabled", "Value": p.to_string()}));
                }
                if let Some(c) = g.cross_zone {
                    attrs.push(json!({"Key": "load_balancing.cross_zone.enabled", "Value": c}));
                }
                json!({"TargetGroupArn": g.arn(), "Attributes": attrs})
            })
            .collect();
        let reservations: Vec<Value> = self
            .enis
            .iter()
            .map(|e| {
                let subnet = self.subnet(&e.subnet).unwrap();
                let groups: Vec<Value> = e
                    .groups
                    .iter()
                    .map(|g| json!({"GroupName": self.sg(g).map(|s| s.name.clone()).unwrap_or_default(), "GroupId": g}))
                    .collect();
                let mut pips = vec![json!({"Primary": true, "PrivateIpAddress": e.ip.to_string()})];
                if let Some((sip, _)) = e.secondary {
                    pips.push(json!({"Primary": false, "PrivateIpAddress": sip.to_string()}));
                }
                json!({
                    "Groups": [],
                    "Instances": [{
                        "InstanceId": e.instance,
                        "InstanceType": "t3.micro",
                        "Placement": {"AvailabilityZone": subnet.az, "GroupName": "", "Tenancy": "default"},
                        "PrivateIpAddress": e.ip.to_string(),
                        "State": {"Code": 16, "Name": "running"},
                        "SubnetId": e.subnet,
                        "VpcId": subnet.vpc,
                        "NetworkInterfaces": [{
                            "Attachment": {
                                "AttachTime": "2024-05-01T10:00:00+00:00",
                                "AttachmentId": format!("eni-attach-{}", &e.id[4..]),
                                "DeleteOnTermination": true,
                                "DeviceIndex": 0,
                                "Status": "attached",
                                "NetworkCardIndex": 0
                            },
                            "Description": "Primary network interface",
                            "Groups": groups,
                            "Ipv6Addresses": [],
                            "NetworkInterfaceId": e.id,
                            "OwnerId": ACCOUNT,
                            "PrivateIpAddress": e.ip.to_string(),
                            "PrivateIpAddresses": pips,
                            "SourceDestCheck": true,
                            "Status": "in-use",
                            "SubnetId": e.subnet,
                            "VpcId": subnet.vpc,
                            "InterfaceType": "interface"
                        }],
                        "SecurityGroups": groups,
                        "Tags": []
                    }],
                    "OwnerId": ACCOUNT,
                    "ReservationId": format!("r-{}", &e.instance[2..])
                })
            })
            .collect();
        let mut files = vec![
            (
                "describe-load-balancers.json".to_string(),
                json!({ "LoadBalancers": lbs }),
            ),
            (
                "describe-listeners.json".to_string(),
                json!({ "Listeners": listeners }),
            ),
            (
                "describe-target-groups.json".to_string(),
                json!({ "TargetGroups": tgs }),
            ),
            (
                "describe-target-health.json".to_string(),
                json!({ "LoadBalancerTargetHealth": health }),
            ),
            (
                "describe-load-balancer-attributes.json".to_string(),
                json!({ "LoadBalancerAttributes": lb_attrs }),
            ),
            (
                "describe-target-group-attributes.json".to_string(),
                json!({ "TargetGroupAttributes": tg_attrs }),
            ),
            (
                "describe-instances.json".to_string(),
                json!({ "Reservations": reservations }),
            ),
        ];
        files.extend(rule_files);
        (enis, files)
    }

    /// SG rules grouped into `IpPermission`s the way AWS prints them: one
    /// permission per (protocol, ports) with every peer listed in it.
    fn permissions(&self, owner: &Sg, rules: &[SgRule]) -> Vec<Value> {
        let mut keys: Vec<(i32, Option<(i32, i32)>)> = Vec::new();
        for r in rules {
            if !keys.contains(&(r.proto, r.ports)) {
                keys.push((r.proto, r.ports));
            }
        }
        keys.iter()
            .map(|&(proto, ports)| {
                let mut ranges = Vec::new();
                let mut pairs = Vec::new();
                for r in rules
                    .iter()
                    .filter(|r| (r.proto, r.ports) == (proto, ports))
                {
                    match &r.peer {
                        RulePeer::Cidr(c) => {
                            let v = json!({"CidrIp": c.to_string()});
                            if !ranges.contains(&v) {
                                ranges.push(v);
                            }
                        }
                        RulePeer::Group(g) => {
                            let gvpc = self.sg(g).map(|s| s.vpc.clone()).unwrap_or_default();
                            let v = if gvpc != owner.vpc {
                                let p = self.peering_between(&owner.vpc, &gvpc);
                                let mut o = json!({"GroupId": g, "UserId": ACCOUNT, "VpcId": gvpc});
                                if let Some(p) = p {
                                    o["VpcPeeringConnectionId"] = json!(p.id);
                                    o["PeeringStatus"] = json!(if p.status == "active" {
                                        "active"
                                    } else {
                                        "deleted"
                                    });
                                }
                                o
                            } else {
                                json!({"GroupId": g, "UserId": ACCOUNT})
                            };
                            if !pairs.contains(&v) {
                                pairs.push(v);
                            }
                        }
                    }
                }
                let proto_s = match proto {
                    -1 => "-1".to_string(),
                    6 if !self.odd_encoding => "tcp".into(),
                    17 if !self.odd_encoding => "udp".into(),
                    1 if !self.odd_encoding => "icmp".into(),
                    n => n.to_string(),
                };
                let mut o = serde_json::Map::new();
                let ports = match ports {
                    None if proto == -1 && self.odd_encoding => Some((-1, -1)),
                    p => p,
                };
                if let Some((a, _)) = ports {
                    o.insert("FromPort".into(), json!(a));
                }
                o.insert("IpProtocol".into(), json!(proto_s));
                o.insert("IpRanges".into(), json!(ranges));
                o.insert("Ipv6Ranges".into(), json!([]));
                o.insert("PrefixListIds".into(), json!([]));
                if let Some((_, b)) = ports {
                    o.insert("ToPort".into(), json!(b));
                }
                o.insert("UserIdGroupPairs".into(), json!(pairs));
                Value::Object(o)
            })
            .collect()
    }

    /// The snapshot files, laid out as `snap/<account>/<region>/<file>`.
    pub fn snapshot_files(&self) -> Vec<exposure::sources::SnapshotFile> {
        self.render()
            .into_iter()
            .map(|(name, v)| exposure::sources::SnapshotFile {
                display: format!("snap/{ACCOUNT}/{REGION}/{name}"),
                components: vec!["snap".into(), ACCOUNT.into(), REGION.into(), name],
                contents: serde_json::to_vec_pretty(&v).unwrap(),
            })
            .collect()
    }

    /// All files as one JSON object, for printing.
    pub fn to_json(&self) -> String {
        let mut o = serde_json::Map::new();
        for (name, v) in self.render() {
            o.insert(name, v);
        }
        serde_json::to_string(&Value::Object(o)).unwrap()
    }

    /// Writes the snapshot under `dir/<account>/<region>/`.
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        let d = dir.join(ACCOUNT).join(REGION);
        std::fs::create_dir_all(&d)?;
        for (name, v) in self.render() {
            std::fs::write(d.join(name), serde_json::to_vec_pretty(&v).unwrap())?;
        }
        Ok(())
    }

    /// Candidate one-step simplifications (each a smaller, still consistent
    /// estate), for shrinking a failing case. `keep` are ENIs the flow uses.
    pub fn simplifications(&self, keep: &[String]) -> Vec<Estate> {
        let mut out = Vec::new();
        // Bigger steps first: drop custom route tables / NACLs, ENIs, subnets, peerings.
        for i in 0..self.route_tables.len() {
            if !self.route_tables[i].main {
                let mut e = self.clone();
                e.route_tables.remove(i);
                out.push(e);
            }
        }
        for i in 0..self.nacls.len() {
            if !self.nacls[i].default {
                let mut e = self.clone();
                e.nacls.remove(i);
                out.push(e);
            }
        }
        // Load balancers and their parts.
        for i in 0..self.lbs.len() {
            let mut e = self.clone();
            let lb = e.lbs.remove(i);
            e.target_groups.retain(|g| g.lb != lb.name);
            out.push(e);
            for j in 0..self.lbs[i].listeners.len() {
                let mut e = self.clone();
                e.lbs[i].listeners.remove(j);
                out.push(e);
            }
            if self.lbs[i].nodes.len() > 1 {
                for j in 0..self.lbs[i].nodes.len() {
                    let mut e = self.clone();
                    e.lbs[i].nodes.remove(j);
                    out.push(e);
                }
            }
            if self.lbs[i].groups.len() > 1
                || (self.lbs[i].network && !self.lbs[i].groups.is_empty())
            {
                for j in 0..self.lbs[i].groups.len() {
                    let mut e = self.clone();
                    e.lbs[i].groups.remove(j);
                    out.push(e);
                }
            }
        }
        for i in 0..self.target_groups.len() {
            let tid = self.target_groups[i].id.clone();
            let mut e = self.clone();
            e.target_groups.remove(i);
            for lb in &mut e.lbs {
                for l in &mut lb.listeners {
                    l.forward.retain(|t| t != &tid);
                    // An NLB listener must forward: drop it instead.
                }
                if lb.network {
                    lb.listeners.retain(|l| !l.forward.is_empty());
                }
            }
            out.push(e);
            for j in 0..self.target_groups[i].targets.len() {
                let mut e = self.clone();
                e.target_groups[i].targets.remove(j);
                out.push(e);
            }
        }
        for i in 0..self.enis.len() {
            if !keep.contains(&self.enis[i].id) {
                let mut e = self.clone();
                let x = e.enis.remove(i);
                let held = |id: &str| {
                    id == x.instance
                        || id == x.ip.to_string()
                        || x.secondary.is_some_and(|s| s.0.to_string() == id)
                };
                for g in &mut e.target_groups {
                    g.targets.retain(|t| !held(&t.id));
                }
                out.push(e);
            }
        }
        // The transit gateway and its parts.
        for i in 0..self.tgws.len() {
            let mut e = self.clone();
            let t = e.tgws.remove(i);
            for rt in &mut e.route_tables {
                rt.routes.retain(|r| r.target != Target::Tgw(t.id.clone()));
            }
            out.push(e);
            let t = &self.tgws[i];
            for j in 0..t.attachments.len() {
                let aid = t.attachments[j].id.clone();
                let mut e = self.clone();
                let te = &mut e.tgws[i];
                te.attachments.remove(j);
                for tb in &mut te.tables {
                    tb.propagations.retain(|p| p != &aid);
                    tb.statics
                        .retain(|r| r.attachment.as_ref().is_none_or(|a| a != &aid));
                }
                out.push(e);
                if t.attachments[j].subnets.len() > 1 {
                    for k in 0..t.attachments[j].subnets.len() {
                        let mut e = self.clone();
                        e.tgws[i].attachments[j].subnets.remove(k);
                        out.push(e);
                    }
                }
                if t.attachments[j].appliance {
                    let mut e = self.clone();
                    e.tgws[i].attachments[j].appliance = false;
                    out.push(e);
                }
            }
            for j in 0..t.tables.len() {
                for k in 0..t.tables[j].statics.len() {
                    let mut e = self.clone();
                    e.tgws[i].tables[j].statics.remove(k);
                    out.push(e);
                }
                for k in 0..t.tables[j].propagations.len() {
                    let mut e = self.clone();
                    e.tgws[i].tables[j].propagations.remove(k);
                    out.push(e);
                }
            }
        }
        for i in 0..self.tgw_sg_rules.len() {
            let mut e = self.clone();
            e.tgw_sg_rules.remove(i);
            out.push(e);
        }
        for i in 0..self.tgw2_sg_rules.len() {
            let mut e = self.clone();
            e.tgw2_sg_rules.remove(i);
            out.push(e);
        }
        // The VPN parts.
        for i in 0..self.vgws.len() {
            let mut e = self.clone();
            let g = e.vgws.remove(i);
            for rt in &mut e.route_tables {
                rt.routes.retain(|r| r.target != Target::Vgw(g.id.clone()));
            }
            e.vgw_propagating.retain(|(_, x)| x != &g.id);
            out.push(e);
            for j in 0..self.vgws[i].vpns.len() {
                let mut e = self.clone();
                e.vgws[i].vpns.remove(j);
                out.push(e);
            }
        }
        for i in 0..self.vgw_propagating.len() {
            let mut e = self.clone();
            e.vgw_propagating.remove(i);
            out.push(e);
        }
        for i in 0..self.tgw_vpns.len() {
            let mut e = self.clone();
            let v = e.tgw_vpns.remove(i);
            for t in &mut e.tgws {
                for tb in &mut t.tables {
                    tb.propagations.retain(|p| p != &v.attachment);
                    tb.statics
                        .retain(|r| r.attachment.as_ref() != Some(&v.attachment));
                }
            }
            out.push(e);
        }
        for i in 0..self.vpn_sg_rules.len() {
            let mut e = self.clone();
            e.vpn_sg_rules.remove(i);
            out.push(e);
        }
        // NAT gateways and their parts.
        for i in 0..self.nats.len() {
            let mut e = self.clone();
            let n = e.nats.remove(i);
            for rt in &mut e.route_tables {
                rt.routes.retain(|r| r.target != Target::Nat(n.id.clone()));
            }
            out.push(e);
            if self.nats[i].eip.is_some() {
                let mut e = self.clone();
                e.nats[i].eip = None;
                out.push(e);
            }
            if self.nats[i].write_eni {
                let mut e = self.clone();
                e.nats[i].write_eni = false;
                out.push(e);
            }
        }
        for i in 0..self.nat_sg_rules.len() {
            let mut e = self.clone();
            e.nat_sg_rules.remove(i);
            out.push(e);
        }
        for i in 0..self.subnets.len() {
            let sid = &self.subnets[i].id;
            if !self.enis.iter().any(|x| &x.subnet == sid)
                && !self
                    .lbs
                    .iter()
                    .any(|l| l.nodes.iter().any(|n| &n.subnet == sid))
                && !self
                    .tgws
                    .iter()
                    .flat_map(|t| &t.attachments)
                    .any(|a| a.subnets.contains(sid))
                && !self.nats.iter().any(|n| &n.subnet == sid)
            {
                let mut e = self.clone();
                e.subnets.remove(i);
                for rt in &mut e.route_tables {
                    rt.subnets.retain(|s| s != sid);
                }
                for n in &mut e.nacls {
                    n.subnets.retain(|s| s != sid);
                }
                out.push(e);
            }
        }
        for i in 0..self.vpcs.len() {
            let vid = &self.vpcs[i].id;
            let used = self.subnets.iter().any(|s| &s.vpc == vid)
                || self.lbs.iter().any(|l| &l.vpc == vid)
                || self.target_groups.iter().any(|g| &g.vpc == vid)
                || self
                    .tgws
                    .iter()
                    .flat_map(|t| &t.attachments)
                    .any(|a| &a.vpc == vid)
                || self
                    .peerings
                    .iter()
                    .any(|p| &p.requester == vid || &p.accepter == vid)
                || self.nats.iter().any(|n| &n.vpc == vid);
            if !used {
                let mut e = self.clone();
                e.vpcs.remove(i);
                let gone: Vec<String> = e
                    .sgs
                    .iter()
                    .filter(|g| &g.vpc == vid)
                    .map(|g| g.id.clone())
                    .collect();
                e.sgs.retain(|g| &g.vpc != vid);
                e.tgw_sg_rules.retain(|(g, _, r)| {
                    !gone.contains(g) && !matches!(&r.peer, RulePeer::Group(x) if gone.contains(x))
                });
                e.nat_sg_rules.retain(|(g, _, _)| !gone.contains(g));
                e.tgw2_sg_rules.retain(|(g, _, r)| {
                    !gone.contains(g) && !matches!(&r.peer, RulePeer::Group(x) if gone.contains(x))
                });
                for g in &mut e.sgs {
                    g.ingress
                        .retain(|r| !matches!(&r.peer, RulePeer::Group(x) if gone.contains(x)));
                    g.egress
                        .retain(|r| !matches!(&r.peer, RulePeer::Group(x) if gone.contains(x)));
                }
                e.nacls.retain(|n| &n.vpc != vid);
                e.route_tables.retain(|r| &r.vpc != vid);
                e.igws.retain(|g| &g.vpc != vid);
                out.push(e);
            }
        }
        for i in 0..self.peerings.len() {
            let pid = self.peerings[i].id.clone();
            let mut e = self.clone();
            e.peerings.remove(i);
            for rt in &mut e.route_tables {
                rt.routes.retain(|r| r.target != Target::Pcx(pid.clone()));
            }
            // Cross-VPC references need a peering (AWS refuses them otherwise).
            let vpc_of: Vec<(String, String)> = e
                .sgs
                .iter()
                .map(|g| (g.id.clone(), g.vpc.clone()))
                .collect();
            for g in &mut e.sgs {
                let own = g.vpc.clone();
                let cross = |r: &SgRule| match &r.peer {
                    RulePeer::Group(x) => vpc_of.iter().any(|(id, v)| id == x && v != &own),
                    _ => false,
                };
                g.ingress.retain(|r| !cross(r));
                g.egress.retain(|r| !cross(r));
            }
            out.push(e);
        }
        for i in 0..self.igws.len() {
            let gid = self.igws[i].id.clone();
            if !self.route_tables.iter().any(|rt| {
                rt.routes
                    .iter()
                    .any(|r| r.target == Target::Igw(gid.clone()))
            }) {
                let mut e = self.clone();
                e.igws.remove(i);
                out.push(e);
            }
        }
        // Unused security groups.
        for i in 0..self.sgs.len() {
            let gid = &self.sgs[i].id;
            let used = self.enis.iter().any(|e| e.groups.contains(gid))
                || self.lbs.iter().any(|l| l.groups.contains(gid))
                || self.sgs.iter().enumerate().any(|(j, g)| {
                    j != i
                        && g.ingress
                            .iter()
                            .chain(&g.egress)
                            .any(|r| r.peer == RulePeer::Group(gid.clone()))
                })
                || self
                    .tgw_sg_rules
                    .iter()
                    .any(|(g, _, r)| g == gid || r.peer == RulePeer::Group(gid.clone()))
                || self.nat_sg_rules.iter().any(|(g, _, _)| g == gid);
            if !used {
                let mut e = self.clone();
                e.sgs.remove(i);
                out.push(e);
            }
        }
        // Small steps: single rules, routes, memberships, public IPs.
        for i in 0..self.route_tables.len() {
            for j in 0..self.route_tables[i].routes.len() {
                if self.route_tables[i].routes[j].target != Target::Local {
                    let mut e = self.clone();
                    e.route_tables[i].routes.remove(j);
                    out.push(e);
                }
            }
            for j in 0..self.route_tables[i].subnets.len() {
                let mut e = self.clone();
                e.route_tables[i].subnets.remove(j);
                out.push(e);
            }
        }
        for i in 0..self.nacls.len() {
            for j in 0..self.nacls[i].entries.len() {
                let mut e = self.clone();
                e.nacls[i].entries.remove(j);
                out.push(e);
            }
            for j in 0..self.nacls[i].subnets.len() {
                let mut e = self.clone();
                e.nacls[i].subnets.remove(j);
                out.push(e);
            }
        }
        for i in 0..self.sgs.len() {
            for j in 0..self.sgs[i].ingress.len() {
                let mut e = self.clone();
                e.sgs[i].ingress.remove(j);
                out.push(e);
            }
            for j in 0..self.sgs[i].egress.len() {
                let mut e = self.clone();
                e.sgs[i].egress.remove(j);
                out.push(e);
            }
        }
        for i in 0..self.enis.len() {
            if self.enis[i].groups.len() > 1 {
                for j in 0..self.enis[i].groups.len() {
                    let mut e = self.clone();
                    e.enis[i].groups.remove(j);
                    out.push(e);
                }
            }
            if self.enis[i].public.is_some() && !keep.contains(&self.enis[i].id) {
                let mut e = self.clone();
                e.enis[i].public = None;
                e.enis[i].elastic = false;
                out.push(e);
            }
            if self.enis[i].secondary.is_some() && !keep.contains(&self.enis[i].id) {
                let mut e = self.clone();
                e.enis[i].secondary = None;
                out.push(e);
            }
        }
        out
    }

    /// A one-line size summary.
    pub fn size(&self) -> String {
        let rules: usize = self
            .sgs
            .iter()
            .map(|g| g.ingress.len() + g.egress.len())
            .sum();
        let entries: usize = self.nacls.iter().map(|n| n.entries.len()).sum();
        let routes: usize = self.route_tables.iter().map(|r| r.routes.len()).sum();
        let tgw = self
            .tgws
            .iter()
            .map(|t| {
                format!(
                    ", 1 TGW/{} attachments/{} route tables/{} static routes/{} TGW SG rules",
                    t.attachments.len(),
                    t.tables.len(),
                    t.tables.iter().map(|x| x.statics.len()).sum::<usize>(),
                    self.tgw_sg_rules.len()
                )
            })
            .collect::<String>()
            + &if self.nats.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} NAT gateways/{} NAT SG rules",
                    self.nats.len(),
                    self.nat_sg_rules.len()
                )
            };
        format!(
            "{} VPCs, {} subnets, {} ENIs, {} SGs/{} rules, {} NACLs/{} entries, {} route tables/{} routes, {} IGWs, {} peerings, {} load balancers/{} listeners/{} target groups/{} targets",
            self.vpcs.len(),
            self.subnets.len(),
            self.enis.len(),
            self.sgs.len(),
            rules,
            self.nacls.len(),
            entries,
            self.route_tables.len(),
            routes,
            self.igws.len(),
            self.peerings.len(),
            self.lbs.len(),
            self.lbs.iter().map(|l| l.listeners.len()).sum::<usize>(),
            self.target_groups.len(),
            self.target_groups.iter().map(|g| g.targets.len()).sum::<usize>()
        ) + &tgw
    }
}

/// An interface's primary private address entry (with its public association, if any) and
/// its private DNS name.
fn primary_ip(ip: Ipv4Addr, assoc: Option<&Value>) -> (String, serde_json::Map<String, Value>) {
    let private_dns = format!(
        "ip-{}.{REGION}.compute.internal",
        ip.to_string().replace('.', "-")
    );
    let mut pip = serde_json::Map::new();
    if let Some(a) = assoc {
        pip.insert("Association".into(), a.clone());
    }
    pip.insert("Primary".into(), json!(true));
    pip.insert("PrivateDnsName".into(), json!(private_dns));
    pip.insert("PrivateIpAddress".into(), json!(ip.to_string()));
    (private_dns, pip)
}

// ----- on-premises: VPN gateways, VPN connections, the transit gateway's VPN attachment (§6.3) -----
//
// Drawn from a random stream of their own after the NAT gateways'; they only add: VGWs,
// connections, routes to them (static ones in existing tables, propagated ones derived when
// rendering), NACL entries for on-premises ranges (which hold no address an older flow uses)
// and SG rules kept apart in `Estate::vpn_sg_rules`.

/// On-premises networks the connections carry and the rules name (RFC 1918 ranges outside
/// every VPC of the estates; 10.200.0.0/16 lies inside 10.0.0.0/8, which rules name).
pub const ONPREM_NETS: &[&str] = &[
    "192.168.0.0/16",
    "192.168.10.0/24",
    "172.16.0.0/12",
    "172.20.0.0/16",
    "10.200.0.0/16",
];

/// On-premises hosts the flows use (each in some of `ONPREM_NETS`, or in none).
pub const ONPREM_HOSTS: &[&str] = &[
    "192.168.10.5",
    "192.168.77.1",
    "172.16.0.9",
    "172.20.3.4",
    "172.31.255.254",
    "10.200.1.1",
    "10.200.255.7",
    "192.168.10.255",
];

/// A Site-to-Site VPN connection.
#[derive(Debug, Clone)]
pub struct Vpn {
    pub id: String,
    /// `Options.StaticRoutesOnly`.
    pub static_only: bool,
    /// `Routes` (static connections on a VGW only).
    pub routes: Vec<Ipv4Net>,
    /// Prefixes on-premises advertises by BGP (what route propagation shows).
    pub bgp: Vec<Ipv4Net>,
    /// `VgwTelemetry[].Status` of its two tunnels.
    pub tunnels: [bool; 2],
    /// `available`, or `deleted` now and then (the loader skips it).
    pub state: String,
}

impl Vpn {
    pub fn tunnels_down(&self) -> bool {
        !self.tunnels.iter().any(|&t| t)
    }
    /// What it propagates into route tables: its static routes or its BGP prefixes
    /// (none when BGP has no tunnel up to speak over).
    pub fn propagates(&self) -> Vec<Ipv4Net> {
        if self.state != "available" {
            return Vec::new();
        }
        if self.static_only {
            self.routes.clone()
        } else if self.tunnels_down() {
            Vec::new()
        } else {
            self.bgp.clone()
        }
    }
}

/// A virtual private gateway.
#[derive(Debug, Clone)]
pub struct Vgw {
    pub id: String,
    /// The VPC of its (only) attachment.
    pub vpc: String,
    /// `attached` (else `detached`).
    pub attached: bool,
    pub vpns: Vec<Vpn>,
}

/// A VPN attachment of the transit gateway.
#[derive(Debug, Clone)]
pub struct TgwVpn {
    pub tgw: String,
    pub attachment: String,
    pub vpn: Vpn,
    /// The associated TGW route table.
    pub table: Option<String>,
}

fn random_vpn(rng: &mut Rng, id: String, on_tgw: bool, e: &Estate) -> Vpn {
    let static_only = rng.chance(0.55);
    let pick_nets = |rng: &mut Rng| {
        let mut out: Vec<Ipv4Net> = Vec::new();
        for _ in 0..rng.range(1, 2) {
            let n = net(rng.pick::<&str>(ONPREM_NETS));
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    };
    let routes = if static_only && !on_tgw {
        pick_nets(rng)
    } else {
        Vec::new()
    };
    let mut bgp = if static_only {
        Vec::new()
    } else {
        pick_nets(rng)
    };
    if !static_only && rng.chance(0.25) {
        // A default route, the whole 10/8, or a range inside a VPC (never beats local).
        let extra = match rng.below(3) {
            0 => net("0.0.0.0/0"),
            1 => net("10.0.0.0/8"),
            _ => rng.pick(&e.subnets).cidr,
        };
        if !bgp.contains(&extra) {
            bgp.push(extra);
        }
    }
    let tunnels = match rng.below(20) {
        0..=14 => [true, true],
        15 | 16 => [true, false],
        _ => [false, false],
    };
    Vpn {
        id,
        static_only,
        routes,
        bgp,
        tunnels,
        state: if rng.chance(0.93) {
            "available".into()
        } else {
            "deleted".into()
        },
    }
}

impl Estate {
    /// The VPN gateways and the transit gateway's VPN attachment (see the module doc of
    /// `mod.rs`).
    pub fn generate_vpn(&mut self, rng: &mut Rng) {
        let mut counter = 0usize;
        let mut next_id = |prefix: &str| {
            counter += 1;
            format!("{prefix}-0{:016x}", 0x0bf5_0000_u64 + counter as u64)
        };
        let mut onprem_vpcs: Vec<String> = Vec::new();
        if !self.vpcs.is_empty() && rng.chance(0.5) {
            let vpc = rng.pick(&self.vpcs).id.clone();
            let mut vgw = Vgw {
                id: next_id("vgw"),
                vpc: vpc.clone(),
                attached: rng.chance(0.85),
                vpns: Vec::new(),
            };
            let n = rng.weighted(&[(0usize, 1), (1, 16), (2, 3)]);
            for _ in 0..n {
                let id = next_id("vpn");
                let v = random_vpn(rng, id, false, self);
                vgw.vpns.push(v);
            }
            // Routes in the tables of its VPC (now and then of another, where AWS shows
            // them as blackholes).
            let route_vpc = if self.vpcs.len() > 1 && rng.chance(0.1) {
                rng.pick(&self.vpcs).id.clone()
            } else {
                vpc.clone()
            };
            let usable = vgw.attached && route_vpc == vpc;
            for ri in 0..self.route_tables.len() {
                if self.route_tables[ri].vpc != route_vpc {
                    continue;
                }
                if rng.chance(0.55) {
                    self.vgw_propagating
                        .push((self.route_tables[ri].id.clone(), vgw.id.clone()));
                }
                if rng.chance(0.5) {
                    let has_default = self.route_tables[ri]
                        .routes
                        .iter()
                        .any(|r| r.dest == net("0.0.0.0/0"));
                    let dest = if !has_default && rng.chance(0.12) {
                        net("0.0.0.0/0")
                    } else {
                        net(rng.pick::<&str>(ONPREM_NETS))
                    };
                    let rt = &mut self.route_tables[ri];
                    if !rt.routes.iter().any(|r| r.dest == dest) {
                        rt.routes.push(Route {
                            dest,
                            target: Target::Vgw(vgw.id.clone()),
                            active: usable,
                        });
                    }
                }
            }
            onprem_vpcs.push(vpc);
            self.vgws.push(vgw);
        }
        if let Some(t) = self.tgws.first().cloned() {
            if rng.chance(0.5) {
                let attachment = next_id("tgw-attach");
                let vpn = random_vpn(rng, next_id("vpn"), true, self);
                let table_ids: Vec<String> = t.tables.iter().map(|x| x.id.clone()).collect();
                let table = match rng.below(20) {
                    0 => None,
                    1..=14 if t.default_assoc.is_some() => t.default_assoc.clone(),
                    _ => Some(rng.pick(&table_ids).clone()),
                };
                let tgw = &mut self.tgws[0];
                for tb in tgw.tables.iter_mut() {
                    if !vpn.static_only
                        && (t.default_prop.as_deref() == Some(tb.id.as_str()) || rng.chance(0.3))
                    {
                        tb.propagations.push(attachment.clone());
                    }
                    if rng.chance(0.65) {
                        let dest = net(rng.pick::<&str>(ONPREM_NETS));
                        if !tb.statics.iter().any(|r| r.dest == dest) {
                            tb.statics.push(TgwStatic {
                                dest,
                                attachment: rng.chance(0.9).then(|| attachment.clone()),
                            });
                        }
                    }
                }
                // Routes to the gateway for on-premises ranges in the attached VPCs.
                let attached: Vec<String> = t.attachments.iter().map(|a| a.vpc.clone()).collect();
                for ri in 0..self.route_tables.len() {
                    if !attached.contains(&self.route_tables[ri].vpc) || !rng.chance(0.6) {
                        continue;
                    }
                    let dest = net(rng.pick::<&str>(ONPREM_NETS));
                    let rt = &mut self.route_tables[ri];
                    if !rt.routes.iter().any(|r| r.dest == dest) {
                        rt.routes.push(Route {
                            dest,
                            target: Target::Tgw(t.id.clone()),
                            active: true,
                        });
                    }
                }
                onprem_vpcs.extend(attached);
                self.tgw_vpns.push(TgwVpn {
                    tgw: t.id.clone(),
                    attachment,
                    vpn,
                    table,
                });
            }
        }
        // NACL entries and SG rules for on-premises ranges in the VPCs it reaches.
        for ni in 0..self.nacls.len() {
            if !onprem_vpcs.contains(&self.nacls[ni].vpc) || !rng.chance(0.5) {
                continue;
            }
            let cidr = if rng.chance(0.8) {
                net(rng.pick::<&str>(ONPREM_NETS))
            } else {
                net("10.0.0.0/8")
            };
            let allow = rng.chance(0.8);
            let number = *rng.pick(&[5u32, 90, 95, 150, 31000]);
            for egress in [false, true] {
                if self.nacls[ni]
                    .entries
                    .iter()
                    .any(|x| x.egress == egress && x.number == number)
                {
                    continue;
                }
                let proto = if rng.chance(0.6) { -1 } else { 6 };
                let ports = (proto == 6).then(|| {
                    if egress || rng.chance(0.3) {
                        *rng.pick(&[(1024u16, 65535u16), (32768, 61000), (0, 65535)])
                    } else {
                        *rng.pick(RULE_PORTS)
                    }
                });
                self.nacls[ni].entries.push(NaclEntry {
                    number,
                    egress,
                    allow,
                    proto,
                    ports,
                    cidr,
                });
            }
        }
        for gi in 0..self.sgs.len() {
            if !onprem_vpcs.contains(&self.sgs[gi].vpc) || !rng.chance(0.55) {
                continue;
            }
            for _ in 0..rng.range(1, 2) {
                let proto = rng.weighted(&[(6, 6), (17, 2), (-1, 2)]);
                let ports = (proto != -1).then(|| {
                    let (x, y) = *rng.pick(RULE_PORTS);
                    (x as i32, y as i32)
                });
                let peer = RulePeer::Cidr(if rng.chance(0.85) {
                    net(rng.pick::<&str>(ONPREM_NETS))
                } else {
                    net("10.0.0.0/8")
                });
                let gid = self.sgs[gi].id.clone();
                self.vpn_sg_rules
                    .push((gid, false, SgRule { proto, ports, peer }));
            }
        }
    }

    /// The propagated routes of a route table (§3.3): the prefixes of the VPN connections of
    /// every VGW it lists in `PropagatingVgws` that is attached to its VPC, except those with
    /// the destination of a route already there.
    pub fn vgw_propagated(&self, rt: &RouteTable) -> Vec<(Ipv4Net, String)> {
        let mut out: Vec<(Ipv4Net, String)> = Vec::new();
        for (t, g) in &self.vgw_propagating {
            if t != &rt.id {
                continue;
            }
            let Some(vgw) = self.vgws.iter().find(|v| &v.id == g) else {
                continue;
            };
            if !vgw.attached || vgw.vpc != rt.vpc {
                continue;
            }
            for v in &vgw.vpns {
                for dest in v.propagates() {
                    if !rt.routes.iter().any(|r| r.dest == dest)
                        && !out.iter().any(|(d, _)| *d == dest)
                    {
                        out.push((dest, vgw.id.clone()));
                    }
                }
            }
        }
        out
    }

    /// The VGWs a table lists in `PropagatingVgws`.
    pub fn propagating_vgws(&self, rt: &RouteTable) -> Vec<Value> {
        self.vgw_propagating
            .iter()
            .filter(|(t, g)| t == &rt.id && self.vgws.iter().any(|v| &v.id == g))
            .map(|(_, g)| json!({"GatewayId": g}))
            .collect()
    }

    /// Whether `a` is the transit gateway's VPN attachment.
    pub fn tgw_vpn(&self, a: &str) -> Option<&TgwVpn> {
        self.tgw_vpns.iter().find(|x| x.attachment == a)
    }

    /// Vpn ids whose tunnels are all down (the reference reads them as facts).
    pub fn vpns_down(&self) -> Vec<String> {
        self.vgws
            .iter()
            .flat_map(|g| g.vpns.iter())
            .chain(self.tgw_vpns.iter().map(|t| &t.vpn))
            .filter(|v| v.tunnels_down())
            .map(|v| v.id.clone())
            .collect()
    }

    /// Ingress rules drawn with the VPN parts for group `g`.
    pub fn vpn_rules(&self, g: &str, egress: bool) -> Vec<SgRule> {
        self.vpn_sg_rules
            .iter()
            .filter(|(id, e, _)| id == g && *e == egress)
            .map(|(_, _, r)| r.clone())
            .collect()
    }

    /// describe-vpn-gateways and describe-vpn-connections (only when there is one), and the
    /// VPN attachments for describe-transit-gateway-attachments.
    pub fn render_vpn(&self) -> (Vec<Value>, Vec<(String, Value)>) {
        let conn = |v: &Vpn, k: usize, on: (&str, &str)| {
            let telemetry: Vec<Value> = v
                .tunnels
                .iter()
                .enumerate()
                .map(|(j, up)| {
                    json!({
                        "AcceptedRouteCount": if *up { v.bgp.len() } else { 0 },
                        "LastStatusChange": "2024-05-01T10:00:00+00:00",
                        "OutsideIpAddress": format!("198.18.{k}.{}", j + 1),
                        "Status": if *up { "UP" } else { "DOWN" },
                        "StatusMessage": ""
                    })
                })
                .collect();
            let mut o = json!({
                "VpnConnectionId": v.id,
                "CustomerGatewayId": format!("cgw-0{:016x}", 0x0bf5_1000_u64 + k as u64),
                "Category": "VPN",
                "State": v.state,
                "Type": "ipsec.1",
                "Options": {
                    "EnableAcceleration": false,
                    "StaticRoutesOnly": v.static_only,
                    "LocalIpv4NetworkCidr": "0.0.0.0/0",
                    "RemoteIpv4NetworkCidr": "0.0.0.0/0",
                    "TunnelInsideIpVersion": "ipv4"
                },
                "Routes": v.routes.iter().map(|r| json!({
                    "DestinationCidrBlock": r.to_string(),
                    "Source": "Static",
                    "State": "available"
                })).collect::<Vec<Value>>(),
                "VgwTelemetry": telemetry,
                "Tags": []
            });
            o[on.0] = json!(on.1);
            o
        };
        let mut vgws = Vec::new();
        let mut conns = Vec::new();
        let mut k = 0;
        for g in &self.vgws {
            let attachments: Vec<Value> = if self.vpc(&g.vpc).is_some() {
                vec![
                    json!({"VpcId": g.vpc, "State": if g.attached { "attached" } else { "detached" }}),
                ]
            } else {
                Vec::new()
            };
            vgws.push(json!({
                "VpnGatewayId": g.id,
                "State": "available",
                "Type": "ipsec.1",
                "AmazonSideAsn": 64512,
                "VpcAttachments": attachments,
                "Tags": []
            }));
            for v in &g.vpns {
                k += 1;
                conns.push(conn(v, k, ("VpnGatewayId", g.id.as_str())));
            }
        }
        let mut atts = Vec::new();
        for t in &self.tgw_vpns {
            if !self.tgws.iter().any(|x| x.id == t.tgw) {
                continue;
            }
            k += 1;
            conns.push(conn(&t.vpn, k, ("TransitGatewayId", t.tgw.as_str())));
            let mut att = json!({
                "TransitGatewayAttachmentId": t.attachment,
                "TransitGatewayId": t.tgw,
                "TransitGatewayOwnerId": ACCOUNT,
                "ResourceOwnerId": ACCOUNT,
                "ResourceType": "vpn",
                "ResourceId": t.vpn.id,
                "State": "available",
                "CreationTime": "2024-05-01T10:00:00+00:00",
                "Tags": []
            });
            if let Some(rt) = &t.table {
                att["Association"] =
                    json!({"TransitGatewayRouteTableId": rt, "State": "associated"});
            }
            atts.push(att);
        }
        let mut files = Vec::new();
        if !vgws.is_empty() {
            files.push((
                "describe-vpn-gateways.json".to_string(),
                json!({ "VpnGateways": vgws }),
            ));
        }
        if !conns.is_empty() {
            files.push((
                "describe-vpn-connections.json".to_string(),
                json!({ "VpnConnections": conns }),
            ));
        }
        (atts, files)
    }
}
