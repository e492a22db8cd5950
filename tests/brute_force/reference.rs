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
//! IPs of member ENIs, same VPC or an active same-region peering, §1.3),
//! ELBv2 ALB/NLB (§5, below). Anything else (NAT gateways, TGWs, appliances,
//! IPv6) is reported as unsupported, never guessed.
//!
//! Load balancers: nodes are the ENIs described `ELB app|net/<name>/<id>`
//! (§5.5), one per enabled subnet; the scheme decides whether internet clients
//! reach them (public IPs, §5.1); listeners take TCP (HTTP, HTTPS, TCP, TLS),
//! UDP or both (TCP_UDP) on their port; the LB's groups filter clients inbound
//! and the node's leg outbound (none on an NLB without groups: no filter,
//! §5.3); forward actions lead to target groups; instance targets are reached
//! at the primary IP of the instance's primary ENI, ip targets at their address
//! (§5.1); only healthy targets receive traffic (§5.1, see `health_class`);
//! without cross-zone load balancing (NLB default; ALB always has it) a node
//! forwards only in its own zone; the node's leg is a new flow from its private
//! IP (§0, §5.1, §5.2), except with NLB client IP preservation (§5.3 defaults)
//! where the target sees the client, a rule referencing the NLB's group admits
//! it anyway, and the reply goes back through the NLB (no return route at the
//! target, both NACLs see the client's address and port; [unconfirmed] in §5.3).

use std::net::Ipv4Addr;

use exposure::engine::query::Verdict;
use exposure::model::{
    LbKind, Listener, ListenerAction, LoadBalancer, Model, NetworkAcl, NetworkInterface, PortSpec,
    Protocol, Route, RouteDestination, RouteOrigin, RouteTable, RouteTarget, SecurityGroup, SgPeer,
    SgRule, TargetGroup, TargetType,
};
use ipnet::{IpNet, Ipv4Net};

/// The reference verdict and the hops it walked.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reachable: bool,
    /// Not reachable, and some path crosses what the docs leave undecided (§5.3:
    /// client IP preservation where AWS does not support it): the engine must
    /// answer `unknown`.
    pub unknown: bool,
    /// The label of the last step walked (where the packet stopped, or `reachable`).
    pub step: String,
    pub trace: Vec<String>,
}

impl Outcome {
    pub fn verdict(&self) -> Verdict {
        if self.reachable {
            Verdict::Reachable
        } else if self.unknown {
            Verdict::Unknown
        } else {
            Verdict::Unreachable
        }
    }
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
    /// A load balancer, named by ARN or name (destination only).
    Lb(&'a LoadBalancer),
}

struct Walk<'m> {
    m: &'m Model,
    proto: u8,
    sport: u16,
    dport: u16,
    trace: Vec<String>,
    /// Why some path is unknown (§5.3), if one is.
    unknown: Option<String>,
    /// Why some path is not decided by the docs (target health), if one is:
    /// the reference then does not model the flow.
    undecided: Option<String>,
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
    if !m.transit_gateways.is_empty() || !m.vpc_endpoints.is_empty() {
        // Where NLB client IP preservation is not supported (§5.3) and more.
        return Err("transit gateways and VPC endpoints are not modelled".into());
    }
    // `--from eni-…` sends from the ENI's primary private IP (as the engine does).
    let src = resolve(m, from, true)?;
    let dst = resolve(m, to, false)?;
    let mut w = Walk {
        m,
        proto,
        sport,
        dport,
        trace: Vec::new(),
        unknown: None,
        undecided: None,
    };
    let direct = match (src, dst) {
        (src @ (End::Private(..) | End::Internet(_)), End::Lb(lb)) => {
            let r = w.lb_accepts(src, lb);
            return Ok(w.outcome(r));
        }
        _ => direct_walk(&mut w, src, dst, from, to)?,
    };
    // A host behind load balancers is also reached through every listener that
    // forwards to it, `--port` being the target's port (README `query`; §5).
    let reachable = match dst {
        End::Private(d, _) | End::Public(d, _, _) if !direct => w.via_lbs(src, d),
        _ => direct,
    };
    if !reachable {
        if let Some(why) = &w.undecided {
            return Err(format!("not decided by the docs: {why}"));
        }
    }
    Ok(w.outcome(reachable))
}

/// The direct walk (no load balancer) between two resolved ends.
fn direct_walk(w: &mut Walk, src: End, dst: End, from: &str, to: &str) -> Result<bool, String> {
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
    Ok(reachable)
}

fn resolve<'m>(m: &'m Model, s: &str, is_source: bool) -> Result<End<'m>, String> {
    if !is_source {
        if let Some(lb) = m.load_balancers.get(s) {
            return Ok(End::Lb(lb));
        }
        let named: Vec<&LoadBalancer> = m.load_balancers.values().filter(|l| l.name == s).collect();
        if let [lb] = named[..] {
            return Ok(End::Lb(lb));
        }
    }
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

    fn outcome(self, reachable: bool) -> Outcome {
        let step = self
            .trace
            .last()
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .unwrap_or_default();
        Outcome {
            reachable,
            unknown: !reachable && self.unknown.is_some(),
            step,
            trace: self.trace,
        }
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
    /// Returns the decision and a description of what decided it (`None`: the
    /// subnet has no NACL).
    fn nacl_decide(
        &self,
        subnet_id: &str,
        egress: bool,
        remote: Ipv4Addr,
        port: u16,
    ) -> Option<(bool, String)> {
        let nacl = self.nacl(subnet_id)?;
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
                return Some((
                    e.allow,
                    format!(
                        "{} {dir} rule {} ({} {} {} {}) {verdict} remote {remote} port {port}",
                        nacl.id,
                        e.rule_number,
                        if e.allow { "allow" } else { "deny" },
                        e.protocol,
                        e.ports,
                        e.cidr
                    ),
                ));
            }
        }
        Some((
            false,
            format!(
                "{} {dir}: no rule matches remote {remote} port {port}: implicit deny",
                nacl.id
            ),
        ))
    }

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
        match self.nacl_decide(subnet_id, egress, remote, port) {
            None => {
                self.log(format!("{what}: subnet {subnet_id} has no NACL: dropped"));
                false
            }
            Some((allow, desc)) => {
                self.log(format!("{what}: {desc}"));
                allow
            }
        }
    }

    /// The port bounds of a subnet's NACL entries (where its decisions can change).
    fn nacl_port_bounds(&self, subnet_id: &str, out: &mut Vec<u16>) {
        if let Some(n) = self.nacl(subnet_id) {
            for e in &n.entries {
                if let PortSpec::Range(a, b) = e.ports {
                    out.extend([a, b, a.saturating_sub(1), b.saturating_add(1)]);
                }
            }
        }
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
        self.rule_proto_port_ok(rule) && self.peer_matches(owner, rule, remote)
    }

    fn rule_proto_port_ok(&self, rule: &SgRule) -> bool {
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
        proto_ok && port_ok
    }

    /// §1.1: the union of the ENI's groups' rules; only allows.
    fn sg_allows(&mut self, eni: &NetworkInterface, ingress: bool, remote: Ipv4Addr) -> bool {
        self.groups_allow(&eni.id, &eni.groups, ingress, remote, &[])
    }

    /// §1.1 over a list of groups (an ENI's, or a load balancer's). A rule whose
    /// peer is one of `also_groups` matches whatever the remote address (the NLB
    /// exception of §1.3 and §5.3).
    fn groups_allow(
        &mut self,
        who: &str,
        groups: &[String],
        ingress: bool,
        remote: Ipv4Addr,
        also_groups: &[String],
    ) -> bool {
        let dir = if ingress { "ingress" } else { "egress" };
        for gid in groups {
            let Some(g) = self.m.security_groups.get(gid) else {
                continue;
            };
            let rules = if ingress { &g.ingress } else { &g.egress };
            for r in rules {
                let by_lb_group = matches!(&r.peer, SgPeer::Group { group_id, .. } if also_groups.contains(group_id))
                    && self.rule_proto_port_ok(r);
                if by_lb_group || self.rule_matches(g, r, remote) {
                    self.log(format!(
                        "SG {dir}: {who} {} rule `{r}` allows {} {} remote {remote}{}",
                        g.id,
                        self.proto_name(),
                        self.dport,
                        if by_lb_group {
                            " (it references the NLB's group, §5.3)"
                        } else {
                            ""
                        }
                    ));
                    return true;
                }
            }
        }
        self.log(format!(
            "SG {dir}: {who} ({}) nothing allows {} {} remote {remote}",
            groups.join(","),
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

// ----- Elastic Load Balancing v2 (§5) -----

enum Health {
    Eligible,
    NotEligible,
    Undecided,
}

/// A registered target as the reference sees it: the ENI and address traffic is
/// sent to, and the port.
struct Resolved<'m> {
    eni: &'m NetworkInterface,
    ip: Ipv4Addr,
    port: u16,
}

impl<'m> Walk<'m> {
    /// The nodes of a load balancer: ENIs whose description is `ELB app|net/<name>/<id>`,
    /// the ARN's suffix (§5.5).
    fn lb_nodes(&self, lb: &LoadBalancer) -> Vec<&'m NetworkInterface> {
        let Some((_, suffix)) = lb.arn.split_once(":loadbalancer/") else {
            return Vec::new();
        };
        let want = format!("ELB {suffix}");
        self.m
            .network_interfaces
            .values()
            .filter(|e| e.description == want)
            .collect()
    }

    /// Which targets receive traffic. §5.1: "Only healthy targets, per
    /// describe-target-health, receive traffic" — nothing else. The brief of this
    /// test (and ELB's own documentation) also routes to `initial` and `unavailable`
    /// targets, and to unhealthy ones when a group has no eligible target
    /// (fail-open); where the two readings differ the reference does not decide
    /// (`BRUTE_FORCE_STRICT_HEALTH=1` makes it follow §5.1 literally).
    fn health_class(tg: &TargetGroup, t: &exposure::model::Target) -> Health {
        let strict = std::env::var_os("BRUTE_FORCE_STRICT_HEALTH").is_some();
        let h = t.health.as_deref().unwrap_or("");
        let brief_eligible = |h: &str| matches!(h, "healthy" | "initial" | "unavailable");
        match h {
            "healthy" => Health::Eligible,
            _ if strict => Health::NotEligible,
            "initial" | "unavailable" => Health::Undecided,
            "unhealthy"
                if !tg
                    .targets
                    .iter()
                    .any(|x| brief_eligible(x.health.as_deref().unwrap_or(""))) =>
            {
                Health::Undecided
            }
            _ => Health::NotEligible,
        }
    }

    fn lb_listeners(&self, lb: &LoadBalancer) -> Vec<&'m Listener> {
        self.m
            .listeners
            .values()
            .filter(|l| l.lb_arn == lb.arn)
            .collect()
    }

    /// Whether a listener takes packets of this protocol (§5.2: ALB listeners are
    /// HTTP/HTTPS over TCP; §5.3: NLB TCP, TLS, UDP, TCP_UDP).
    fn listener_takes(&self, l: &Listener) -> bool {
        match l.protocol.to_ascii_uppercase().as_str() {
            "HTTP" | "HTTPS" | "TCP" | "TLS" => self.proto == 6,
            "UDP" => self.proto == 17,
            "TCP_UDP" => self.proto == 6 || self.proto == 17,
            _ => false,
        }
    }

    fn subnet_az(&self, subnet_id: &str) -> Option<String> {
        self.m.subnets.get(subnet_id).and_then(|s| s.az.clone())
    }

    /// §5.1: ALB always (unless the target group turns it off); NLB only with
    /// `load_balancing.cross_zone.enabled=true`.
    fn cross_zone(lb: &LoadBalancer, tg: &TargetGroup) -> bool {
        let tg_attr = tg
            .attributes
            .get("load_balancing.cross_zone.enabled")
            .map(String::as_str);
        match lb.kind {
            LbKind::Application => tg_attr != Some("false"),
            _ => match tg_attr {
                Some("true") => true,
                Some("false") => false,
                _ => lb
                    .attributes
                    .get("load_balancing.cross_zone.enabled")
                    .is_some_and(|v| v == "true"),
            },
        }
    }

    /// §5.3 table: `preserve_client_ip.enabled`, else on for instance targets and
    /// for ip targets over UDP/TCP_UDP/QUIC/TCP_QUIC, off for ip targets over TCP/TLS.
    /// ALBs never preserve (§5.2).
    fn preserves(lb: &LoadBalancer, tg: &TargetGroup) -> bool {
        if lb.kind != LbKind::Network {
            return false;
        }
        match tg.attributes.get("preserve_client_ip.enabled") {
            Some(v) => v == "true",
            None => {
                tg.target_type == TargetType::Instance
                    || matches!(
                        tg.protocol.to_ascii_uppercase().as_str(),
                        "UDP" | "TCP_UDP" | "QUIC" | "TCP_QUIC"
                    )
            }
        }
    }

    /// §5.1 target types: an instance is reached at the primary private IP of its
    /// primary ENI; an ip target at its address, on the ENI that holds it.
    fn resolve_target(
        &self,
        tg: &TargetGroup,
        t: &exposure::model::Target,
    ) -> Option<Resolved<'m>> {
        let port = t.port.or(tg.port)?;
        match tg.target_type {
            TargetType::Instance => {
                let i = self.m.instances.get(&t.id)?;
                let eni = i
                    .eni_ids
                    .iter()
                    .filter_map(|e| self.m.network_interfaces.get(e))
                    .find(|e| e.device_index.unwrap_or(0) == 0)?;
                let ip = eni
                    .private_ips
                    .iter()
                    .find(|p| p.primary)
                    .or(eni.private_ips.first())?
                    .address;
                Some(Resolved { eni, ip, port })
            }
            TargetType::Ip => {
                let ip: Ipv4Addr = t.id.parse().ok()?;
                let eni = self
                    .m
                    .network_interfaces
                    .values()
                    .find(|e| e.private_ips.iter().any(|p| p.address == ip))?;
                Some(Resolved { eni, ip, port })
            }
            _ => None,
        }
    }

    /// The target groups a listener's actions forward to (§5.2: any rule that can
    /// forward counts).
    fn forwarded_groups(&self, l: &Listener) -> Vec<&'m TargetGroup> {
        l.actions
            .iter()
            .flat_map(|a| match a {
                ListenerAction::Forward(tgs) => tgs.clone(),
                _ => Vec::new(),
            })
            .filter_map(|arn| self.m.target_groups.get(&arn))
            .collect()
    }

    /// The load balancer's security groups on a node's leg: none (an NLB without
    /// groups, §5.3: everything passes) or their union (§5.2, §5.3).
    fn lb_groups_allow(&mut self, lb: &LoadBalancer, ingress: bool, remote: Ipv4Addr) -> bool {
        if lb.security_groups.is_empty() {
            self.log(format!(
                "LB SG {}: {} has no security groups: not filtered (§5.3)",
                if ingress { "ingress" } else { "egress" },
                lb.name
            ));
            return true;
        }
        let groups = lb.security_groups.clone();
        self.groups_allow(&lb.name, &groups, ingress, remote, &[])
    }

    /// A question to a load balancer: does it accept the connection on a listener?
    /// (The client's packet reaches a node, passes the node subnet's NACL and the
    /// LB's groups, a listener takes its protocol and port, and the reply gets back.)
    fn lb_accepts(&mut self, src: End<'m>, lb: &'m LoadBalancer) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        self.log(format!(
            "packet: {} {sport} -> load balancer {} port {dport}",
            self.proto_name(),
            lb.name
        ));
        if matches!(src, End::Internet(_)) && !lb.internet_facing {
            self.log(format!(
                "LB scheme: {} is internal: its nodes have private IPs only (§5.1)",
                lb.name
            ));
            return false;
        }
        let listeners: Vec<&Listener> = self
            .lb_listeners(lb)
            .into_iter()
            .filter(|l| l.port == Some(dport) && self.listener_takes(l))
            .collect();
        if listeners.is_empty() {
            self.log(format!(
                "LB listener: {} has no {} listener on port {dport} (§5.2, §5.3)",
                lb.name,
                self.proto_name()
            ));
            return false;
        }
        for node in self.lb_nodes(lb) {
            if self.client_to_node(src, lb, node) {
                self.log(format!(
                    "reachable: {} accepts on {} {dport} at {}",
                    lb.name, listeners[0].protocol, node.id
                ));
                return true;
            }
        }
        false
    }

    /// The client's leg to one node, at `self.dport` (a listener port): forward
    /// checks and the reply's (§0, §4.1 with the LB's groups, §5.1).
    fn client_to_node(
        &mut self,
        src: End<'m>,
        lb: &LoadBalancer,
        node: &'m NetworkInterface,
    ) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        let Some(nip) = node.private_ips.first().map(|p| p.address) else {
            return false;
        };
        match src {
            End::Internet(x) => {
                let Some(public) = node.private_ips.first().and_then(|p| p.public) else {
                    self.log(format!("LB node: {} has no public IP (§5.1)", node.id));
                    return false;
                };
                self.log(format!(
                    "LB node: {x}:{sport} -> {public}:{dport}, node {} ({nip}) of {}",
                    node.id, lb.name
                ));
                let vpc = self.vpc_of(node);
                if self.attached_igw(&vpc).is_none() {
                    self.log(format!(
                        "destination IGW: none attached to {vpc}, dropped (§4.1 step 1)"
                    ));
                    return false;
                }
                self.nacl_allows(&node.subnet_id, false, x, dport, "LB node NACL in")
                    && self.lb_groups_allow(lb, true, x)
                    && self.routes_to_igw(&node.subnet_id, x, "LB node return route")
                    && self.nacl_allows(&node.subnet_id, true, x, sport, "reply: LB node NACL out")
            }
            End::Private(s, sip) => {
                self.log(format!(
                    "LB node: {sip}:{sport} -> {nip}:{dport} from {}, node {} of {}",
                    s.id, node.id, lb.name
                ));
                if !self.sg_allows(s, false, nip) {
                    return false;
                }
                if s.subnet_id == node.subnet_id {
                    self.log(format!(
                        "same subnet: {}, no route table, no NACL",
                        s.subnet_id
                    ));
                    return self.lb_groups_allow(lb, true, sip);
                }
                let svpc = self.vpc_of(s);
                let nvpc = self.vpc_of(node);
                self.route_private(&s.subnet_id, nip, &nvpc, "forward route")
                    && self.nacl_allows(&s.subnet_id, true, nip, dport, "source NACL out")
                    && self.nacl_allows(&node.subnet_id, false, sip, dport, "LB node NACL in")
                    && self.lb_groups_allow(lb, true, sip)
                    && self.route_private(&node.subnet_id, sip, &svpc, "LB node return route")
                    && self.nacl_allows(
                        &node.subnet_id,
                        true,
                        sip,
                        sport,
                        "reply: LB node NACL out",
                    )
                    && self.nacl_allows(&s.subnet_id, false, nip, sport, "reply: source NACL in")
            }
            _ => false,
        }
    }

    /// Through load balancers to the ENI `d`, `self.dport` being the target's port:
    /// some listener the source may use forwards to a group with an eligible target
    /// on `d` at that port, some node accepts the client on that listener and is
    /// allowed (cross-zone, §5.1) to forward to the target, and the node's leg to
    /// the target gets there and back.
    fn via_lbs(&mut self, src: End<'m>, d: &'m NetworkInterface) -> bool {
        let (sport, tport) = (self.sport, self.dport);
        let lbs: Vec<&'m LoadBalancer> = self
            .m
            .load_balancers
            .values()
            .filter(|l| matches!(l.kind, LbKind::Application | LbKind::Network))
            .collect();
        for lb in lbs {
            if matches!(src, End::Internet(_)) && !lb.internet_facing {
                continue;
            }
            for l in self.lb_listeners(lb) {
                let Some(lport) = l.port else { continue };
                if !self.listener_takes(l) {
                    continue;
                }
                for tg in self.forwarded_groups(l) {
                    for t in &tg.targets {
                        let Some(r) = self.resolve_target(tg, t) else {
                            continue;
                        };
                        if r.eni.id != d.id || r.port != tport {
                            continue;
                        }
                        self.log(format!(
                            "LB path: {} listener {} {lport} forwards to {} target {} ({}:{tport})",
                            lb.name, l.protocol, tg.name, t.id, r.ip
                        ));
                        let health = t.health.as_deref().unwrap_or("(none)");
                        let decided = match Self::health_class(tg, t) {
                            Health::Eligible => true,
                            Health::NotEligible => {
                                self.log(format!(
                                    "LB target health: {} is {health}: it receives no traffic (§5.1)",
                                    t.id
                                ));
                                continue;
                            }
                            Health::Undecided => {
                                self.log(format!(
                                    "LB target health: {} is {health}: whether it receives traffic is not decided (§5.1 says only healthy targets do; see the module doc)",
                                    t.id
                                ));
                                false
                            }
                        };
                        let unknown_before = self.unknown.clone();
                        let cross = Self::cross_zone(lb, tg);
                        let taz = self.subnet_az(&r.eni.subnet_id);
                        for node in self.lb_nodes(lb) {
                            let naz = self.subnet_az(&node.subnet_id);
                            if !cross && naz != taz {
                                self.log(format!(
                                    "LB cross-zone: off, node {} ({}) does not forward to {} ({}) (§5.1)",
                                    node.id,
                                    naz.as_deref().unwrap_or("?"),
                                    r.ip,
                                    taz.as_deref().unwrap_or("?")
                                ));
                                continue;
                            }
                            self.dport = lport;
                            let accepted = self.client_to_node(src, lb, node);
                            self.dport = tport;
                            self.sport = sport;
                            if !accepted {
                                continue;
                            }
                            let client = match src {
                                End::Internet(x) => x,
                                End::Private(_, sip) => sip,
                                _ => continue,
                            };
                            let ok = self.node_to_target(lb, tg, node, &r, client);
                            self.sport = sport;
                            self.dport = tport;
                            if !decided {
                                if ok || self.unknown != unknown_before {
                                    self.undecided = Some(format!(
                                        "{} is {health} and the path to it is {}",
                                        t.id,
                                        if ok { "open" } else { "unknown" }
                                    ));
                                    self.unknown = unknown_before.clone();
                                }
                                continue;
                            }
                            if ok {
                                self.log(format!(
                                    "reachable: through {} listener {lport} and node {}",
                                    lb.name, node.id
                                ));
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }

    /// The node's leg to a target (§5.1, §5.2, §5.3). Without client IP
    /// preservation it is a new flow from the node's private IP and an
    /// ephemeral port the load balancer picks (1024-65535, §2.4); with it the
    /// target sees the client's address and port, a rule referencing the NLB's
    /// group admits it anyway, and the reply goes back through the NLB's flow
    /// state (no return-route check at the target, §5.3 [unconfirmed]) while both
    /// subnets' NACLs still see the client's address.
    fn node_to_target(
        &mut self,
        lb: &LoadBalancer,
        tg: &TargetGroup,
        node: &'m NetworkInterface,
        r: &Resolved<'m>,
        client: Ipv4Addr,
    ) -> bool {
        let Some(nip) = node.private_ips.first().map(|p| p.address) else {
            return false;
        };
        let preserved = Self::preserves(lb, tg);
        let tport = r.port;
        self.dport = tport;
        let src_ip = if preserved { client } else { nip };
        self.log(format!(
            "LB target leg: {src_ip} -> {}:{tport} {} from node {} to {}{}",
            r.ip,
            self.proto_name(),
            node.id,
            r.eni.id,
            if preserved {
                " (client IP preserved, §5.3)"
            } else {
                " (new flow from the node, §5.1)"
            }
        ));
        if !self.lb_groups_allow(lb, false, r.ip) {
            return false;
        }
        let dvpc = self.vpc_of(r.eni);
        let nvpc = self.vpc_of(node);
        if preserved && node.subnet_id != r.eni.subnet_id {
            // §5.3: with preservation the target must be in the load balancer's VPC or
            // a same-Region peer, reached directly; AWS does not support it through a
            // transit gateway, a GWLB endpoint (or any middlebox), and does not say what
            // happens then. A route that delivers nothing (a blackhole, a private
            // address sent to an internet gateway, no route) drops the packet whatever
            // its source, so only a live route to such a hop is left undecided.
            // (The generated estates have none: their only such routes are blackholes.)
            let hop = self
                .route_table(&node.subnet_id)
                .and_then(|rt| self.lookup(rt, r.ip))
                .filter(|route| route.active)
                .map(|route| route.target.clone());
            if let Some(
                t @ (RouteTarget::TransitGateway(_)
                | RouteTarget::VpcEndpoint(_)
                | RouteTarget::NetworkInterface(_)
                | RouteTarget::Instance(_)
                | RouteTarget::VpnGateway(_)),
            ) = hop
            {
                let why = format!(
                    "{} preserves the client IP towards {} through {} (§5.3: not supported)",
                    lb.name,
                    r.ip,
                    t.id()
                );
                self.log(format!("LB preservation unsupported: {why}"));
                self.unknown = Some(why);
                return false;
            }
        }
        let also: Vec<String> = if preserved {
            lb.security_groups.clone()
        } else {
            Vec::new()
        };
        let d = r.eni;
        if node.subnet_id == d.subnet_id {
            self.log(format!(
                "same subnet: {}, no route table, no NACL",
                node.subnet_id
            ));
            return self.groups_allow(&d.id, &d.groups, true, src_ip, &also);
        }
        if !(self.route_private(&node.subnet_id, r.ip, &dvpc, "LB target route")
            && self.nacl_allows(&node.subnet_id, true, r.ip, tport, "LB node NACL out")
            && self.nacl_allows(&d.subnet_id, false, src_ip, tport, "target NACL in")
            && self.groups_allow(&d.id, &d.groups, true, src_ip, &also))
        {
            return false;
        }
        if preserved {
            let csport = self.sport;
            return self.nacl_allows(&d.subnet_id, true, client, csport, "reply: target NACL out")
                && self.nacl_allows(
                    &node.subnet_id,
                    false,
                    r.ip,
                    csport,
                    "reply: LB node NACL in",
                );
        }
        if !self.route_private(&d.subnet_id, nip, &nvpc, "LB target return route") {
            return false;
        }
        // The load balancer picks its source port in 1024-65535 (§2.4): the leg gets
        // through when some such port passes both NACLs (checked at every bound of
        // their port ranges, where decisions change).
        let mut ports = vec![1024u16, 65535];
        self.nacl_port_bounds(&d.subnet_id, &mut ports);
        self.nacl_port_bounds(&node.subnet_id, &mut ports);
        ports.retain(|p| *p >= 1024);
        ports.sort_unstable();
        ports.dedup();
        let good = ports.iter().copied().find(|&p| {
            self.nacl_decide(&d.subnet_id, true, nip, p)
                .is_some_and(|x| x.0)
                && self
                    .nacl_decide(&node.subnet_id, false, r.ip, p)
                    .is_some_and(|x| x.0)
        });
        let p = good.unwrap_or(ports[0]);
        self.nacl_allows(
            &d.subnet_id,
            true,
            nip,
            p,
            "reply: target NACL out (LB port)",
        ) && self.nacl_allows(
            &node.subnet_id,
            false,
            r.ip,
            p,
            "reply: LB node NACL in (LB port)",
        )
    }
}
