//! An independent brute-force reference evaluator.
//!
//! It walks ONE concrete IPv4 packet (source, destination, protocol, source
//! port, destination port) hop by hop over the model, following the rules of
//! `/work/shared/docs/aws-semantics.md` and nothing else; it uses none of the
//! engine's code (only the model's plain data). Section numbers in comments
//! refer to that document.
//!
//! What is modelled: SGs (egress at the sender, ingress at the receiver,
//! stateful, §1), NACLs (first match by ascending rule number, implicit deny,
//! stateless so the reply is checked with ports swapped, §2), subnet route
//! tables (explicit or main association, longest prefix, blackhole drops,
//! §3), same-subnet delivery (§2.1, §3.2.8, §9.1), IGW 1:1 NAT both ways with
//! the return-route check (§4.1, §4.2, §4.6), VPC peering (active only, routes
//! both ways, non-transitive, no edge-to-edge, §6.1), SG references (private
//! IPs of member ENIs, same VPC or an active same-region peering, §1.3).
//! Anything else (NAT gateways, TGWs, appliances, load balancers, IPv6) is
//! reported as unsupported, never guessed.

use std::net::Ipv4Addr;

use exposure::model::{
    Model, NetworkAcl, NetworkInterface, PortSpec, Protocol, Route, RouteDestination, RouteOrigin,
    RouteTable, RouteTarget, SecurityGroup, SgPeer, SgRule,
};
use ipnet::{IpNet, Ipv4Net};

/// The reference verdict and the hops it walked.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reachable: bool,
    /// The label of the last step walked (where the packet stopped, or `reachable`).
    pub step: String,
    pub trace: Vec<String>,
}

/// One endpoint of a flow, as resolved by the reference.
#[derive(Debug, Clone, Copy)]
enum End<'a> {
    /// An ENI addressed by one of its private IPs.
    Private(&'a NetworkInterface, Ipv4Addr),
    /// An ENI addressed by a public IP mapped to the private IP.
    Public(&'a NetworkInterface, Ipv4Addr, Ipv4Addr),
    /// An address outside the estate on the internet.
    Internet(Ipv4Addr),
}

struct Walk<'m> {
    m: &'m Model,
    proto: u8,
    sport: u16,
    dport: u16,
    trace: Vec<String>,
}

/// Evaluates `from -> to` for one concrete packet. `Err` means the reference
/// does not model the case (the caller must not use it for comparison).
pub fn evaluate(
    m: &Model,
    from: &str,
    to: &str,
    proto: u8,
    sport: u16,
    dport: u16,
) -> Result<Outcome, String> {
    // `--from eni-…` sends from the ENI's primary private IP (as the engine does).
    let src = resolve(m, from, true)?;
    let dst = resolve(m, to, false)?;
    let mut w = Walk {
        m,
        proto,
        sport,
        dport,
        trace: Vec::new(),
    };
    let reachable = match (src, dst) {
        (End::Private(s, sip), End::Private(d, dip)) => {
            if s.id == d.id {
                return Err("source and destination are the same ENI".into());
            }
            w.private_to_private(s, sip, d, dip)
        }
        (End::Private(s, sip), End::Internet(x)) => w.eni_to_internet(s, sip, x),
        (End::Internet(x), End::Public(d, dip, pub_ip)) => w.internet_to_eni(x, d, dip, pub_ip),
        (End::Internet(x), End::Private(d, dip)) => {
            w.log(format!(
                "internet to private address: {x} sends to {dip}, a private address of {}; the internet does not route private addresses into a VPC (§4.1 step 2)",
                d.id
            ));
            false
        }
        (End::Private(s, sip), End::Public(d, dip, pub_ip)) => {
            if s.id == d.id {
                return Err("source and destination are the same ENI".into());
            }
            w.hairpin(s, sip, d, dip, pub_ip)
        }
        _ => return Err(format!("unsupported flow {from} -> {to}")),
    };
    let step = w
        .trace
        .last()
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .unwrap_or_default();
    Ok(Outcome {
        reachable,
        step,
        trace: w.trace,
    })
}

fn resolve<'m>(m: &'m Model, s: &str, is_source: bool) -> Result<End<'m>, String> {
    if s.starts_with("eni-") {
        let e = m
            .network_interfaces
            .get(s)
            .ok_or_else(|| format!("{s}: no such ENI"))?;
        let ip = e
            .private_ips
            .iter()
            .find(|p| p.primary)
            .or(e.private_ips.first())
            .map(|p| p.address)
            .ok_or_else(|| format!("{s}: no private IPv4"))?;
        return Ok(End::Private(e, ip));
    }
    let a: Ipv4Addr = s
        .parse()
        .map_err(|_| format!("{s}: not an ENI id or IPv4 address"))?;
    for e in m.network_interfaces.values() {
        for p in &e.private_ips {
            if p.address == a {
                return Ok(End::Private(e, a));
            }
        }
    }
    for e in m.network_interfaces.values() {
        for p in &e.private_ips {
            if p.public == Some(a) {
                if is_source {
                    return Err(format!(
                        "{s}: a public IP of {} as a source is not modelled",
                        e.id
                    ));
                }
                return Ok(End::Public(e, p.address, a));
            }
        }
    }
    if is_internet_address(a) {
        Ok(End::Internet(a))
    } else {
        Err(format!("{s}: a non-public address outside the estate"))
    }
}

/// Globally routable enough for the test: not private, shared, loopback,
/// link-local, multicast or reserved. (Documentation ranges count as public:
/// the generated ENIs' public IPs come from them.)
fn is_internet_address(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_unspecified()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (64..128).contains(&o[1])))
}

fn v4(n: &IpNet) -> Option<Ipv4Net> {
    match n {
        IpNet::V4(n) => Some(*n),
        IpNet::V6(_) => None,
    }
}

impl<'m> Walk<'m> {
    fn log(&mut self, s: String) {
        self.trace.push(s);
    }

    fn proto_name(&self) -> &'static str {
        match self.proto {
            6 => "tcp",
            17 => "udp",
            1 => "icmp",
            _ => "proto",
        }
    }

    // ----- lookups (written here, not taken from Model's helpers) -----

    fn vpc_of(&self, e: &NetworkInterface) -> String {
        self.m
            .subnets
            .get(&e.subnet_id)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_else(|| e.vpc_id.clone())
    }

    fn vpc_contains(&self, vpc: &str, a: Ipv4Addr) -> bool {
        self.m
            .vpcs
            .get(vpc)
            .is_some_and(|v| v.cidrs_v4.iter().any(|c| c.contains(&a)))
    }

    /// §3.1: the explicitly associated table, else the VPC's main table.
    fn route_table(&self, subnet_id: &str) -> Option<&'m RouteTable> {
        let vpc = &self.m.subnets.get(subnet_id)?.vpc_id;
        self.m
            .route_tables
            .values()
            .find(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                self.m
                    .route_tables
                    .values()
                    .find(|rt| rt.is_main && &rt.vpc_id == vpc)
            })
    }

    /// §2.1: the explicitly associated NACL, else the VPC's default NACL.
    fn nacl(&self, subnet_id: &str) -> Option<&'m NetworkAcl> {
        let vpc = &self.m.subnets.get(subnet_id)?.vpc_id;
        self.m
            .network_acls
            .values()
            .find(|n| n.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                self.m
                    .network_acls
                    .values()
                    .find(|n| n.is_default && &n.vpc_id == vpc)
            })
    }

    /// §3.2: longest prefix match; ties: local, then static, then propagated.
    /// Blackhole routes are selected like any other (and then drop).
    fn lookup(&self, rt: &'m RouteTable, a: Ipv4Addr) -> Option<&'m Route> {
        let mut best: Option<(u8, u8, &Route)> = None;
        for r in &rt.routes {
            let len = match &r.destination {
                RouteDestination::Cidr(c) => match v4(c) {
                    Some(n) if n.contains(&a) => n.prefix_len(),
                    _ => continue,
                },
                RouteDestination::PrefixList(pl) => {
                    let Some(list) = self.m.prefix_lists.get(pl) else {
                        continue;
                    };
                    match list
                        .cidrs
                        .iter()
                        .filter_map(v4)
                        .filter(|n| n.contains(&a))
                        .map(|n| n.prefix_len())
                        .max()
                    {
                        Some(l) => l,
                        None => continue,
                    }
                }
            };
            let rank = match r.origin {
                RouteOrigin::Local => 0,
                RouteOrigin::Static => 1,
                RouteOrigin::Propagated => 2,
            };
            let better = match best {
                None => true,
                Some((bl, br, _)) => len > bl || (len == bl && rank < br),
            };
            if better {
                best = Some((len, rank, r));
            }
        }
        best.map(|b| b.2)
    }

    fn route_desc(r: &Route) -> String {
        format!(
            "{} -> {}{}",
            r.destination,
            r.target.id(),
            if r.active { "" } else { " (blackhole)" }
        )
    }

    /// §2: first matching entry by ascending rule number; nothing matches: deny.
    /// `remote` is the packet's source (inbound) or destination (outbound);
    /// `port` is always the packet's destination port.
    fn nacl_allows(
        &mut self,
        subnet_id: &str,
        egress: bool,
        remote: Ipv4Addr,
        port: u16,
        what: &str,
    ) -> bool {
        let Some(nacl) = self.nacl(subnet_id) else {
            self.log(format!("{what}: subnet {subnet_id} has no NACL: dropped"));
            return false;
        };
        let mut entries: Vec<_> = nacl.entries.iter().filter(|e| e.egress == egress).collect();
        entries.sort_by_key(|e| e.rule_number);
        let dir = if egress { "outbound" } else { "inbound" };
        for e in entries {
            let proto_ok = match e.protocol {
                Protocol::All => true,
                Protocol::Number(n) => n == self.proto,
            };
            let port_ok = match (e.protocol, e.ports) {
                (Protocol::All, _) => true,
                (Protocol::Number(6 | 17), PortSpec::Range(a, b)) => (a..=b).contains(&port),
                (Protocol::Number(6 | 17), PortSpec::All) => true,
                (Protocol::Number(6 | 17), PortSpec::Icmp { .. }) => false,
                (Protocol::Number(_), _) => true,
            };
            let cidr_ok = v4(&e.cidr).is_some_and(|c| c.contains(&remote));
            if proto_ok && port_ok && cidr_ok {
                let verdict = if e.allow { "allows" } else { "denies" };
                self.log(format!(
                    "{what}: {} {dir} rule {} ({} {} {} {}) {verdict} remote {remote} port {port}",
                    nacl.id,
                    e.rule_number,
                    if e.allow { "allow" } else { "deny" },
                    e.protocol,
                    e.ports,
                    e.cidr
                ));
                return e.allow;
            }
        }
        self.log(format!(
            "{what}: {} {dir}: no rule matches remote {remote} port {port}: implicit deny",
            nacl.id
        ));
        false
    }

    /// §1.3: does an SG rule's peer cover `remote`?
    fn peer_matches(&self, owner: &SecurityGroup, rule: &SgRule, remote: Ipv4Addr) -> bool {
        match &rule.peer {
            SgPeer::Cidr(c) => v4(c).is_some_and(|n| n.contains(&remote)),
            SgPeer::PrefixList(pl) => self
                .m
                .prefix_lists
                .get(pl)
                .is_some_and(|l| l.cidrs.iter().filter_map(v4).any(|n| n.contains(&remote))),
            SgPeer::Group {
                group_id, vpc_id, ..
            } => {
                let ref_vpc = self
                    .m
                    .security_groups
                    .get(group_id)
                    .map(|g| g.vpc_id.clone())
                    .or_else(|| vpc_id.clone());
                let Some(ref_vpc) = ref_vpc else { return false };
                if ref_vpc != owner.vpc_id {
                    // Peered VPC: an active peering in the same region (§1.3 table).
                    let peered = self.m.peerings.values().any(|p| {
                        let ends = (p.requester_vpc == owner.vpc_id && p.accepter_vpc == ref_vpc)
                            || (p.accepter_vpc == owner.vpc_id && p.requester_vpc == ref_vpc);
                        let same_region = match (&p.requester_region, &p.accepter_region) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        };
                        ends && same_region
                    });
                    if !peered {
                        return false;
                    }
                }
                // Private IPs of ENIs that have the group; never public IPs.
                self.m.network_interfaces.values().any(|e| {
                    e.groups.iter().any(|g| g == group_id)
                        && e.private_ips.iter().any(|p| p.address == remote)
                })
            }
        }
    }

    fn rule_matches(&self, owner: &SecurityGroup, rule: &SgRule, remote: Ipv4Addr) -> bool {
        let proto_ok = match rule.protocol {
            Protocol::All => true,
            Protocol::Number(n) => n == self.proto,
        };
        let port_ok = match (rule.protocol, rule.ports) {
            (Protocol::All, _) => true,
            (Protocol::Number(6 | 17), PortSpec::Range(a, b)) => (a..=b).contains(&self.dport),
            (Protocol::Number(6 | 17), PortSpec::All) => true,
            (Protocol::Number(6 | 17), PortSpec::Icmp { .. }) => false,
            (Protocol::Number(_), _) => true,
        };
        proto_ok && port_ok && self.peer_matches(owner, rule, remote)
    }

    /// §1.1: the union of the ENI's groups' rules; only allows.
    fn sg_allows(&mut self, eni: &NetworkInterface, ingress: bool, remote: Ipv4Addr) -> bool {
        let dir = if ingress { "ingress" } else { "egress" };
        for gid in &eni.groups {
            let Some(g) = self.m.security_groups.get(gid) else {
                continue;
            };
            let rules = if ingress { &g.ingress } else { &g.egress };
            for r in rules {
                if self.rule_matches(g, r, remote) {
                    self.log(format!(
                        "SG {dir}: {} {} rule `{r}` allows {} {} remote {remote}",
                        eni.id,
                        g.id,
                        self.proto_name(),
                        self.dport
                    ));
                    return true;
                }
            }
        }
        self.log(format!(
            "SG {dir}: {} ({}) nothing allows {} {} remote {remote}",
            eni.id,
            eni.groups.join(","),
            self.proto_name(),
            self.dport
        ));
        false
    }

    /// The IGW attached to a VPC, if any (§4.1 step 1).
    fn attached_igw(&self, vpc: &str) -> Option<String> {
        self.m
            .internet_gateways
            .values()
            .find(|g| g.vpc_ids.iter().any(|v| v == vpc))
            .map(|g| g.id.clone())
    }

    /// Route lookup from `subnet` for `dst` that must leave through the IGW
    /// attached to the subnet's VPC (§4.1 step 6, §4.2).
    fn routes_to_igw(&mut self, subnet_id: &str, dst: Ipv4Addr, what: &str) -> bool {
        let Some(rt) = self.route_table(subnet_id) else {
            self.log(format!(
                "{what}: subnet {subnet_id} has no route table: dropped"
            ));
            return false;
        };
        let Some(r) = self.lookup(rt, dst) else {
            self.log(format!("{what}: {} has no route for {dst}: dropped", rt.id));
            return false;
        };
        let desc = Self::route_desc(r);
        if !r.active {
            self.log(format!(
                "{what}: {} selects {desc}: blackhole, dropped",
                rt.id
            ));
            return false;
        }
        let vpc = self
            .m
            .subnets
            .get(subnet_id)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        match &r.target {
            RouteTarget::InternetGateway(g) => {
                if self.attached_igw(&vpc).as_deref() == Some(g.as_str()) {
                    self.log(format!(
                        "{what}: {} selects {desc}: IGW attached to {vpc}",
                        rt.id
                    ));
                    true
                } else {
                    self.log(format!(
                        "{what}: {} selects {desc}: {g} is not attached to {vpc}: dropped",
                        rt.id
                    ));
                    false
                }
            }
            _ => {
                self.log(format!(
                    "{what}: {} selects {desc}: not the internet gateway: dropped/misrouted",
                    rt.id
                ));
                false
            }
        }
    }

    /// Where a packet to the private address `dst` goes from `subnet_id`:
    /// `Some(vpc)` = delivered into that VPC's local router (§3, §6.1).
    fn route_private(&mut self, subnet_id: &str, dst: Ipv4Addr, dst_vpc: &str, what: &str) -> bool {
        let Some(rt) = self.route_table(subnet_id) else {
            self.log(format!(
                "{what}: subnet {subnet_id} has no route table: dropped"
            ));
            return false;
        };
        let Some(r) = self.lookup(rt, dst) else {
            self.log(format!("{what}: {} has no route for {dst}: dropped", rt.id));
            return false;
        };
        let desc = Self::route_desc(r);
        if !r.active {
            self.log(format!(
                "{what}: {} selects {desc}: blackhole, dropped",
                rt.id
            ));
            return false;
        }
        let vpc = self
            .m
            .subnets
            .get(subnet_id)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        match &r.target {
            RouteTarget::Local => {
                if vpc == dst_vpc && self.vpc_contains(&vpc, dst) {
                    self.log(format!(
                        "{what}: {} selects {desc}: local delivery in {vpc}",
                        rt.id
                    ));
                    true
                } else {
                    self.log(format!(
                        "{what}: {} selects {desc}: {dst} is not in {vpc}: dropped",
                        rt.id
                    ));
                    false
                }
            }
            RouteTarget::Peering(p) => {
                let Some(pcx) = self.m.peerings.get(p) else {
                    self.log(format!(
                        "{what}: {} selects {desc}: {p} is not an active peering: dropped",
                        rt.id
                    ));
                    return false;
                };
                let other = if pcx.requester_vpc == vpc {
                    pcx.accepter_vpc.clone()
                } else if pcx.accepter_vpc == vpc {
                    pcx.requester_vpc.clone()
                } else {
                    self.log(format!(
                        "{what}: {} selects {desc}: {p} does not connect {vpc}: dropped",
                        rt.id
                    ));
                    return false;
                };
                if other == dst_vpc && self.vpc_contains(&other, dst) {
                    self.log(format!(
                        "{what}: {} selects {desc}: peering into {other}",
                        rt.id
                    ));
                    true
                } else {
                    self.log(format!(
                        "{what}: {} selects {desc}: {dst} is not in the peer VPC {other} (peering is not transitive): dropped",
                        rt.id
                    ));
                    false
                }
            }
            RouteTarget::InternetGateway(_) => {
                self.log(format!(
                    "{what}: {} selects {desc}: a private address sent to the internet gateway is not delivered: dropped",
                    rt.id
                ));
                false
            }
            _ => {
                self.log(format!(
                    "{what}: {} selects {desc}: target not usable here: dropped",
                    rt.id
                ));
                false
            }
        }
    }

    // ----- the four flow shapes -----

    /// ENI -> another ENI's private IP (same subnet, same VPC, or peered VPC).
    fn private_to_private(
        &mut self,
        s: &NetworkInterface,
        sip: Ipv4Addr,
        d: &NetworkInterface,
        dip: Ipv4Addr,
    ) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        self.log(format!(
            "packet: {sip}:{sport} -> {dip}:{dport} {} from {} to {}",
            self.proto_name(),
            s.id,
            d.id
        ));
        // §0 step 1.
        if !self.sg_allows(s, false, dip) {
            return false;
        }
        if s.subnet_id == d.subnet_id {
            // §9.1: same subnet: only SGs.
            self.log(format!(
                "same subnet: {}, no route table, no NACL",
                s.subnet_id
            ));
            return self.sg_allows(d, true, sip);
        }
        let svpc = self.vpc_of(s);
        let dvpc = self.vpc_of(d);
        // §0 steps 2-6.
        if !self.route_private(&s.subnet_id, dip, &dvpc, "forward route") {
            return false;
        }
        if !self.nacl_allows(&s.subnet_id, true, dip, dport, "source NACL out") {
            return false;
        }
        if !self.nacl_allows(&d.subnet_id, false, sip, dport, "destination NACL in") {
            return false;
        }
        if !self.sg_allows(d, true, sip) {
            return false;
        }
        // §0 step 7: reply, ports swapped; SGs not re-checked.
        if !self.route_private(&d.subnet_id, sip, &svpc, "return route") {
            return false;
        }
        if !self.nacl_allows(
            &d.subnet_id,
            true,
            sip,
            sport,
            "reply: destination NACL out",
        ) {
            return false;
        }
        if !self.nacl_allows(&s.subnet_id, false, dip, sport, "reply: source NACL in") {
            return false;
        }
        self.log("reachable: every check passes".into());
        true
    }

    /// The public IP mapped to one private address of an ENI (§8).
    fn public_of(e: &NetworkInterface, private: Ipv4Addr) -> Option<Ipv4Addr> {
        e.private_ips
            .iter()
            .find(|p| p.address == private)
            .and_then(|p| p.public)
    }

    /// ENI -> internet address (§4.2).
    fn eni_to_internet(&mut self, s: &NetworkInterface, sip: Ipv4Addr, x: Ipv4Addr) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        self.log(format!(
            "packet: {sip}:{sport} -> {x}:{dport} {} from {} to the internet",
            self.proto_name(),
            s.id
        ));
        if !self.sg_allows(s, false, x) {
            return false;
        }
        if !self.routes_to_igw(&s.subnet_id, x, "forward route") {
            return false;
        }
        let Some(public) = Self::public_of(s, sip) else {
            self.log(format!(
                "source public IP: {sip} of {} has none, the IGW drops it (§4.2)",
                s.id
            ));
            return false;
        };
        self.log(format!("IGW: translates source {sip} to {public}"));
        if !self.nacl_allows(&s.subnet_id, true, x, dport, "source NACL out") {
            return false;
        }
        // The reply comes back to `public` through the same IGW and is translated to `sip`.
        if !self.nacl_allows(&s.subnet_id, false, x, sport, "reply: source NACL in") {
            return false;
        }
        self.log("reachable: every check passes".into());
        true
    }

    /// Internet client -> an ENI's public IP (§4.1).
    fn internet_to_eni(
        &mut self,
        x: Ipv4Addr,
        d: &NetworkInterface,
        dip: Ipv4Addr,
        public: Ipv4Addr,
    ) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        self.log(format!(
            "packet: {x}:{sport} -> {public}:{dport} {} from the internet to {} ({dip})",
            self.proto_name(),
            d.id
        ));
        let dvpc = self.vpc_of(d);
        let Some(igw) = self.attached_igw(&dvpc) else {
            self.log(format!(
                "destination IGW: none attached to {dvpc}, dropped (§4.1 step 1)"
            ));
            return false;
        };
        self.log(format!(
            "IGW: {igw} translates destination {public} to {dip}"
        ));
        if !self.nacl_allows(&d.subnet_id, false, x, dport, "destination NACL in") {
            return false;
        }
        if !self.sg_allows(d, true, x) {
            return false;
        }
        if !self.routes_to_igw(&d.subnet_id, x, "return route") {
            return false;
        }
        if !self.nacl_allows(&d.subnet_id, true, x, sport, "reply: destination NACL out") {
            return false;
        }
        self.log("reachable: every check passes".into());
        true
    }

    /// ENI -> another ENI's public IP: out through one IGW, in through the other (§4.6).
    fn hairpin(
        &mut self,
        s: &NetworkInterface,
        sip: Ipv4Addr,
        d: &NetworkInterface,
        dip: Ipv4Addr,
        dpub: Ipv4Addr,
    ) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        self.log(format!(
            "packet: {sip}:{sport} -> {dpub}:{dport} {} from {} to {} by its public IP",
            self.proto_name(),
            s.id,
            d.id
        ));
        if !self.sg_allows(s, false, dpub) {
            return false;
        }
        if !self.routes_to_igw(&s.subnet_id, dpub, "forward route") {
            return false;
        }
        let Some(spub) = Self::public_of(s, sip) else {
            self.log(format!(
                "source public IP: {sip} of {} has none, the IGW drops it (§4.2)",
                s.id
            ));
            return false;
        };
        if !self.nacl_allows(&s.subnet_id, true, dpub, dport, "source NACL out") {
            return false;
        }
        let dvpc = self.vpc_of(d);
        if self.attached_igw(&dvpc).is_none() {
            self.log(format!(
                "destination IGW: none attached to {dvpc}, dropped (§4.1 step 1)"
            ));
            return false;
        }
        if !self.nacl_allows(&d.subnet_id, false, spub, dport, "destination NACL in") {
            return false;
        }
        if !self.sg_allows(d, true, spub) {
            return false;
        }
        if !self.routes_to_igw(&d.subnet_id, spub, "return route") {
            return false;
        }
        if !self.nacl_allows(
            &d.subnet_id,
            true,
            spub,
            sport,
            "reply: destination NACL out",
        ) {
            return false;
        }
        let _ = dip;
        if !self.nacl_allows(&s.subnet_id, false, dpub, sport, "reply: source NACL in") {
            return false;
        }
        self.log("reachable: every check passes".into());
        true
    }
}
