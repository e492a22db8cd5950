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
        e
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
                    .collect();
                json!({
                    "Associations": assocs,
                    "PropagatingVgws": [],
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
                    "IpPermissions": self.permissions(g, &g.ingress),
                    "OwnerId": ACCOUNT,
                    "GroupId": g.id,
                    "IpPermissionsEgress": self.permissions(g, &g.egress),
                    "VpcId": g.vpc
                })
            })
            .collect();
        let enis: Vec<Value> = self
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
                let private_dns = format!("ip-{}.{REGION}.compute.internal", e.ip.to_string().replace('.', "-"));
                let mut pip = serde_json::Map::new();
                if let Some(a) = &assoc {
                    pip.insert("Association".into(), a.clone());
                }
                pip.insert("Primary".into(), json!(true));
                pip.insert("PrivateDnsName".into(), json!(private_dns));
                pip.insert("PrivateIpAddress".into(), json!(e.ip.to_string()));
                let groups: Vec<Value> = e
                    .groups
                    .iter()
                    .map(|g| json!({"GroupName": self.sg(g).map(|s| s.name.clone()).unwrap_or_default(), "GroupId": g}))
                    .collect();
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
        vec![
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
        ]
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
        for i in 0..self.enis.len() {
            if !keep.contains(&self.enis[i].id) {
                let mut e = self.clone();
                e.enis.remove(i);
                out.push(e);
            }
        }
        for i in 0..self.subnets.len() {
            let sid = &self.subnets[i].id;
            if !self.enis.iter().any(|x| &x.subnet == sid) {
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
                || self
                    .peerings
                    .iter()
                    .any(|p| &p.requester == vid || &p.accepter == vid);
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
                || self.sgs.iter().enumerate().any(|(j, g)| {
                    j != i
                        && g.ingress
                            .iter()
                            .chain(&g.egress)
                            .any(|r| r.peer == RulePeer::Group(gid.clone()))
                });
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
        format!(
            "{} VPCs, {} subnets, {} ENIs, {} SGs/{} rules, {} NACLs/{} entries, {} route tables/{} routes, {} IGWs, {} peerings",
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
            self.peerings.len()
        )
    }
}
