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
//! ELBv2 ALB/NLB (§5, below), transit gateways (§6.2; see the module doc of
//! `mod.rs` for what is followed and what is left undecided), NAT gateways (§4.5, `via_nat`;
//! see the module doc of `mod.rs`: the NAT gateway subnet's NACL on both sides, source NAT
//! to its private IP and a port in 1024-65535 taken as a union, its subnet's route to the
//! internet gateway and the Elastic IP, the reply back through it to the client; states
//! other than `available`, chains, NAT gateway traffic into another network are not
//! decided), on-premises behind a VGW or a TGW VPN attachment (§6.3, `vpn.rs`; see the module
//! doc of `mod.rs`). Anything else (VPC endpoints, appliances, IPv6) is reported as unsupported,
//! never guessed.
//!
//! Load balancers: nodes are the ENIs described `ELB app|net/<name>/<id>`
//! (§5.5), one per enabled subnet; the scheme decides whether internet clients
//! reach them (public IPs, §5.1); listeners take TCP (HTTP, HTTPS, TCP, TLS),
//! UDP or both (TCP_UDP) on their port; the LB's groups filter clients inbound
//! and the node's leg outbound (none on an NLB without groups: no filter,
//! §5.3); forward actions (default or any rule's) lead to target groups; instance targets are reached
//! at the primary IP of the instance's primary ENI, ip targets at their address
//! (§5.1); only healthy targets receive traffic (§5.1, see `health_class`), and
//! none in a zone the load balancer has not enabled (§5.1);
//! without cross-zone load balancing (NLB default; ALB always has it) a node
//! forwards only in its own zone; the node's leg is a new flow from its private
//! IP (§0, §5.1, §5.2), except with NLB client IP preservation (§5.3 defaults)
//! where the target sees the client, a rule referencing the NLB's group admits
//! it anyway, and the reply goes back through the NLB (no return route at the
//! target, both NACLs see the client's address and port; [unconfirmed] in §5.3).

use std::net::Ipv4Addr;

use exposure::engine::query::Verdict;
use exposure::model::{
    LbKind, Listener, ListenerAction, LoadBalancer, Model, NatGateway, NetworkAcl,
    NetworkInterface, PortSpec, Protocol, Route, RouteDestination, RouteOrigin, RouteTable,
    RouteTarget, SecurityGroup, SgPeer, SgRule, TargetGroup, TargetType, TgwAttachment,
    TgwAttachmentKind, TgwRoute, TgwRouteTable,
};
use ipnet::{IpNet, Ipv4Net};

mod vpn;

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

/// What the snapshot says that the model does not keep, read by the caller from the
/// generated estate (not from the engine): the `State` of every NAT gateway written,
/// including those the loader skips.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub nat_states: std::collections::BTreeMap<String, String>,
    /// VPN connections whose tunnels are all `DOWN` in `VgwTelemetry` (the loader does not
    /// keep the telemetry).
    pub vpns_down: std::collections::BTreeSet<String>,
}

/// One endpoint of a flow, as resolved by the reference.
#[derive(Debug, Clone, Copy)]
enum End<'a> {
    /// A NAT gateway addressed by its Elastic IP or private IP (destination only).
    Nat(&'a NatGateway, Ipv4Addr),
    /// An ENI addressed by one of its private IPs.
    Private(&'a NetworkInterface, Ipv4Addr),
    /// An ENI addressed by a public IP mapped to the private IP.
    Public(&'a NetworkInterface, Ipv4Addr, Ipv4Addr),
    /// An address outside the estate on the internet.
    Internet(Ipv4Addr),
    /// A load balancer, named by ARN or name (destination only).
    Lb(&'a LoadBalancer),
    /// A private address outside every VPC, on-premises (when something connects it).
    Onprem(Ipv4Addr),
}

struct Walk<'m> {
    m: &'m Model,
    facts: &'m Facts,
    proto: u8,
    sport: u16,
    dport: u16,
    trace: Vec<String>,
    /// Why some path is unknown (§5.3), if one is.
    unknown: Option<String>,
    /// Why some path is not decided by the docs (target health), if one is:
    /// the reference then does not model the flow.
    undecided: Option<String>,
    /// How the packet being checked crosses from its VPC (for SG references, §1.3).
    via: Via,
    /// Something the current path passed although the docs do not say it passes
    /// (attachment subnets the gateway may pick that differ): a path that gets through with a doubt
    /// is not decided, one that fails anyway is unreachable whatever the answer.
    doubt: std::cell::RefCell<Option<String>>,
}

/// How a packet leaves its VPC, as its source subnet's route table says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// Same subnet, the local route, or anything but the two below.
    Direct,
    Peering,
    /// Through this transit gateway.
    Tgw(String),
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
    evaluate_with(m, &Facts::default(), from, to, proto, sport, dport)
}

/// [`evaluate`] with what the snapshot says beyond the model (NAT gateway states). An ENI as
/// the source sends from every private IPv4 address it holds: each is walked alone, and the
/// answer is the first that gets through, else the first undecided, else the primary's.
pub fn evaluate_with<'m>(
    m: &'m Model,
    facts: &'m Facts,
    from: &str,
    to: &str,
    proto: u8,
    sport: u16,
    dport: u16,
) -> Result<Outcome, String> {
    let addresses: Vec<String> = m
        .network_interfaces
        .get(from)
        .filter(|e| e.private_ips.len() > 1)
        .map(|e| {
            // The primary first: its answer stands when none gets through.
            let mut ips: Vec<&exposure::model::PrivateIp> = e.private_ips.iter().collect();
            ips.sort_by_key(|p| !p.primary);
            ips.iter().map(|p| p.address.to_string()).collect()
        })
        .unwrap_or_default();
    if addresses.is_empty() {
        return evaluate_one(m, facts, from, to, proto, sport, dport);
    }
    let mut answers = Vec::new();
    for a in &addresses {
        answers.push(evaluate_one(m, facts, a, to, proto, sport, dport)?);
    }
    let pick = answers
        .iter()
        .position(|o| o.reachable)
        .or_else(|| answers.iter().position(|o| o.unknown))
        .unwrap_or(0);
    Ok(answers.swap_remove(pick))
}

/// [`evaluate_with`] for one source address (or an ENI's primary one).
fn evaluate_one<'m>(
    m: &'m Model,
    facts: &'m Facts,
    from: &str,
    to: &str,
    proto: u8,
    sport: u16,
    dport: u16,
) -> Result<Outcome, String> {
    if !m.vpc_endpoints.is_empty() {
        // Where NLB client IP preservation is not supported (§5.3) and more.
        return Err("VPC endpoints are not modelled".into());
    }
    // `--from eni-…` here is the ENI's primary private IP ([`evaluate_with`] asks about
    // each of its addresses).
    let src = resolve(m, from, true)?;
    let dst = resolve(m, to, false)?;
    let mut w = Walk {
        m,
        facts,
        proto,
        sport,
        dport,
        trace: Vec::new(),
        unknown: None,
        undecided: None,
        via: Via::Direct,
        doubt: Default::default(),
    };
    let direct = match (src, dst) {
        (src @ (End::Private(..) | End::Internet(_)), End::Lb(lb)) => {
            let r = w.lb_accepts(src, lb);
            if !r {
                if let Some(why) = &w.undecided {
                    return Err(format!("not decided by the docs: {why}"));
                }
            }
            return Ok(w.outcome(r));
        }
        _ => {
            w.doubt.replace(None);
            let r = direct_walk(&mut w, src, dst, from, to)?;
            w.settle(r)
        }
    };
    // A host behind load balancers is also reached through every listener that
    // forwards to it, `--port` being the target's port (README `query`; §5).
    if let (End::Onprem(_), End::Private(d, _)) = (src, dst) {
        if !direct && w.lb_target_at(d) {
            return Err(
                "not decided by the docs: an on-premises client through a load balancer listener is not modelled"
                    .into(),
            );
        }
    }
    let reachable = match dst {
        End::Private(d, _) | End::Public(d, _, _) if !direct && !matches!(src, End::Onprem(_)) => {
            w.via_lbs(src, d)
        }
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
        (End::Onprem(x), End::Private(d, dip)) => w.onprem_to_eni(x, d, dip),
        (End::Private(s, sip), End::Onprem(x)) => w.eni_to_onprem(s, sip, x),
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
        (End::Internet(_) | End::Private(..), End::Nat(n, a)) if n.public_ips.contains(&a) => {
            w.log(format!(
                "NAT gateway: {a} is the Elastic IP of {}, which carries only outbound-initiated flows and does no port forwarding (§4.5): dropped",
                n.id
            ));
            false
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
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        for n in m.nat_gateways.values() {
            if n.public_ips.contains(&a) || n.private_ips.contains(&a) {
                if is_source {
                    return Err(format!(
                        "{s}: an address of {} as a source is not modelled",
                        n.id
                    ));
                }
                return Ok(End::Nat(n, a));
            }
        }
    }
    if s.starts_with("eni-") {
        let e = m
            .network_interfaces
            .get(s)
            .ok_or_else(|| format!("{s}: no such ENI"))?;
        if m.nat_gateways
            .values()
            .any(|n| n.eni_ids.iter().any(|x| x == s))
        {
            return Err(format!(
                "{s}: a NAT gateway's ENI is not modelled as an end"
            ));
        }
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
    } else if !vpn::entries(m).is_empty()
        && !m
            .vpcs
            .values()
            .any(|v| v.cidrs_v4.iter().any(|c| c.contains(&a)))
    {
        Ok(End::Onprem(a))
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

    /// The end of one path: one that got through with a doubt is not decided.
    fn settle(&mut self, ok: bool) -> bool {
        let doubt = self.doubt.replace(None);
        match doubt {
            Some(why) if ok => {
                self.log(format!("not decided: the path gets through only if {why}"));
                self.undecided.get_or_insert(why);
                false
            }
            _ => ok,
        }
    }

    fn set_doubt(&self, why: String) {
        self.doubt.borrow_mut().get_or_insert(why);
    }

    /// A hop the docs do not decide, with no way on: the path stops undecided.
    fn stop_undecided(&mut self, what: &str, why: String) -> bool {
        self.log(format!("{what}: not decided by the docs: {why}"));
        self.undecided.get_or_insert(why);
        false
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
    /// §3.2 item 6: a propagated route never overrides the local route, even a more
    /// specific one: where a local route holds `a`, propagated routes are not candidates.
    fn lookup(&self, rt: &'m RouteTable, a: Ipv4Addr) -> Option<&'m Route> {
        let local = rt.routes.iter().any(|r| {
            r.origin == RouteOrigin::Local
                && matches!(&r.destination, RouteDestination::Cidr(c) if v4(c).is_some_and(|n| n.contains(&a)))
        });
        self.longest_match(
            rt.routes
                .iter()
                .filter(|r| !(local && r.origin == RouteOrigin::Propagated))
                .map(|r| {
                    let rank = match r.origin {
                        RouteOrigin::Local => 0,
                        RouteOrigin::Static => 1,
                        RouteOrigin::Propagated => 2,
                    };
                    (&r.destination, rank, r)
                }),
            a,
        )
    }

    /// The route whose destination holds `a` with the longest prefix (a prefix list counts
    /// by its longest entry holding `a`); on equal prefixes the lowest rank.
    fn longest_match<R>(
        &self,
        routes: impl Iterator<Item = (&'m RouteDestination, u8, R)>,
        a: Ipv4Addr,
    ) -> Option<R> {
        let mut best: Option<(u8, u8, R)> = None;
        for (destination, rank, r) in routes {
            let len = match destination {
                RouteDestination::Cidr(c) => match v4(c) {
                    Some(n) if n.contains(&a) => n.prefix_len(),
                    _ => continue,
                },
                RouteDestination::PrefixList(pl) => {
                    match self.m.prefix_lists.get(pl).and_then(|l| {
                        l.cidrs
                            .iter()
                            .filter_map(v4)
                            .filter(|n| n.contains(&a))
                            .map(|n| n.prefix_len())
                            .max()
                    }) {
                        Some(l) => l,
                        None => continue,
                    }
                }
            };
            if best
                .as_ref()
                .is_none_or(|(bl, br, _)| len > *bl || (len == *bl && rank < *br))
            {
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

    /// §1.3: does an SG rule's peer cover `remote`? (`ingress`: an inbound rule.)
    fn peer_matches(
        &self,
        owner: &SecurityGroup,
        rule: &SgRule,
        remote: Ipv4Addr,
        ingress: bool,
    ) -> bool {
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
                // Private IPs of ENIs that have the group; never public IPs.
                let member = self.m.network_interfaces.values().any(|e| {
                    e.groups.iter().any(|g| g == group_id)
                        && e.private_ips.iter().any(|p| p.address == remote)
                });
                if ref_vpc == owner.vpc_id || !member {
                    return member;
                }
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
                let matched = match &self.via {
                    Via::Tgw(t) => {
                        // Another VPC on the same transit gateway: inbound rules only, with
                        // referencing on the gateway and both attachments (§1.3 table, §9.6).
                        // A reference valid through a peering of the two VPCs does not
                        // match a packet that crossed the gateway: the way carries no
                        // reference (as a middlebox on the way breaks one, VPC Peering Guide).
                        ingress && self.tgw_referencing(t, &owner.vpc_id, &ref_vpc)
                    }
                    _ => peered,
                };
                // A stale rule (made over a peering connection that is no longer active):
                // whether it matches again over another connection is not documented.
                if matched {
                    if let Some(pcx) = self.m.stale_peering(&rule.peer) {
                        self.set_doubt(format!("the stale reference over {pcx} still matches"));
                    }
                }
                matched
            }
        }
    }

    fn rule_matches(
        &self,
        owner: &SecurityGroup,
        rule: &SgRule,
        remote: Ipv4Addr,
        ingress: bool,
    ) -> bool {
        self.rule_proto_port_ok(rule) && self.peer_matches(owner, rule, remote, ingress)
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
        // A rule that matches only with a doubt (§1.3 across a transit gateway) counts
        // when no rule matches without one.
        let mut doubtful: Option<(String, String)> = None;
        for gid in groups {
            let Some(g) = self.m.security_groups.get(gid) else {
                continue;
            };
            let rules = if ingress { &g.ingress } else { &g.egress };
            for r in rules {
                let by_lb_group = matches!(&r.peer, SgPeer::Group { group_id, .. } if also_groups.contains(group_id))
                    && self.rule_proto_port_ok(r);
                let before = self.doubt.borrow().clone();
                let matched = by_lb_group || self.rule_matches(g, r, remote, ingress);
                let after = self.doubt.replace(before.clone());
                if matched && after != before {
                    if doubtful.is_none() {
                        doubtful = after.map(|why| (format!("{} rule `{r}`", g.id), why));
                    }
                    continue;
                }
                if matched {
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
        if let Some((rule, why)) = doubtful {
            self.log(format!(
                "SG {dir}: {who} {rule} allows {} {} remote {remote} only if {why}",
                self.proto_name(),
                self.dport
            ));
            self.set_doubt(why);
            return true;
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
    fn routes_to_igw(&mut self, subnet_id: &str, src: Ipv4Addr, dst: Ipv4Addr, what: &str) -> bool {
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
            RouteTarget::TransitGateway(t) => {
                let t = t.clone();
                self.tgw_to_internet(subnet_id, src, dst, &t, what)
            }
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
            RouteTarget::VpnGateway(g) => {
                let g = g.clone();
                self.vgw_elsewhere(subnet_id, &g, dst, what)
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
            RouteTarget::VpnGateway(g) if dst_vpc.is_empty() => {
                // Only `eni_to_onprem` asks with no destination VPC, and handles VGWs itself.
                self.log(format!("{what}: {} selects {desc}: {g}", rt.id));
                false
            }
            RouteTarget::VpnGateway(g) => {
                let g = g.clone();
                self.vgw_elsewhere(subnet_id, &g, dst, what)
            }
            RouteTarget::NatGateway(n) if what.starts_with("return") => {
                self.log(format!(
                    "{what}: {} selects {desc}: the reply goes to {n}, which holds no such connection: it would translate it as a new flow from its own address, which is not what the client waits for (§0 step 7, §4.1 step 6): dropped",
                    rt.id
                ));
                false
            }
            RouteTarget::NatGateway(n) => {
                let n = n.clone();
                let rt_id = rt.id.clone();
                self.log(format!("{what}: {rt_id} selects {desc}: NAT gateway"));
                self.nat_to_private(subnet_id, &n, dst)
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

    // ----- NAT gateways (§4.5) -----

    /// The NAT gateway that the active route of `subnet_id` for `dst` names, if it does.
    fn nat_route(&self, subnet_id: &str, dst: Ipv4Addr) -> Option<String> {
        let r = self.lookup(self.route_table(subnet_id)?, dst)?;
        match &r.target {
            RouteTarget::NatGateway(n) if r.active => Some(n.clone()),
            _ => None,
        }
    }

    /// The NAT gateway a route names, if it processes traffic: in the snapshot (the loader
    /// keeps no deleted or failed one; AWS shows routes to them as blackholes), `available`
    /// (any other state is not described by the semantics doc: not decided), in the
    /// sender's VPC (a route cannot name another VPC's).
    fn usable_nat(&mut self, nat_id: &str, vpc: &str) -> Option<&'m NatGateway> {
        let state = self.facts.nat_states.get(nat_id).cloned();
        let Some(nat) = self.m.nat_gateways.get(nat_id) else {
            if state.as_deref() == Some("deleting") {
                self.stop_undecided(
                    "NAT gateway",
                    format!("NAT gateway state: {nat_id} is deleting, which AWS says may still process traffic; the loader drops it"),
                );
            } else {
                self.log(format!(
                    "NAT gateway: {nat_id} is not in the snapshot ({}): dropped",
                    state.as_deref().unwrap_or("unknown")
                ));
            }
            return None;
        };
        if let Some(st) = state.filter(|st| st != "available") {
            self.stop_undecided(
                "NAT gateway",
                format!("NAT gateway state: {nat_id} is {st}; the semantics doc does not say what it does then (AWS API: pending = not ready to process traffic)"),
            );
            return None;
        }
        if nat.vpc_id != vpc {
            self.log(format!(
                "NAT gateway: {nat_id} is in {}, not in {vpc}: dropped",
                nat.vpc_id
            ));
            return None;
        }
        Some(nat)
    }

    /// A packet for the private address `dst` that a route sends to a NAT gateway: the
    /// NAT gateway's subnet's table decides where it goes. Dropped there (no route, a
    /// blackhole, an internet gateway, which delivers no private address); anything else
    /// (a peering, a transit gateway, another NAT gateway: NAT gateway traffic into another
    /// VPC) is not followed by the reference: not decided.
    fn nat_to_private(&mut self, from: &str, nat_id: &str, dst: Ipv4Addr) -> bool {
        let vpc = self
            .m
            .subnets
            .get(from)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        let Some(nat) = self.usable_nat(nat_id, &vpc) else {
            return false;
        };
        let nsub = nat.subnet_id.clone();
        let hop = self
            .route_table(&nsub)
            .and_then(|rt| self.lookup(rt, dst).map(|r| (rt.id.clone(), r)));
        let Some((rt, r)) = hop else {
            self.log(format!(
                "NAT route: {nsub}'s table has no route for {dst}: dropped"
            ));
            return false;
        };
        let desc = Self::route_desc(r);
        match &r.target {
            _ if !r.active => {
                self.log(format!(
                    "NAT route: {rt} selects {desc}: blackhole, dropped"
                ));
                false
            }
            RouteTarget::InternetGateway(_) => {
                self.log(format!(
                    "NAT route: {rt} selects {desc}: a private address sent to the internet gateway is not delivered: dropped"
                ));
                false
            }
            _ => self.stop_undecided(
                "NAT route",
                format!("NAT gateway onward: {nat_id}'s subnet {nsub} sends {dst} on by {desc} ({rt}): NAT gateway traffic into another network is not followed"),
            ),
        }
    }

    /// ENI `s` (`sip`) -> an internet address `x` (`hairpin`: the public IP of ENI `d` at
    /// private `dip`) through NAT gateway `nat_id`, which `s`'s subnet routes `x` to (§4.2,
    /// §4.5, §4.6). The forward packet: the source subnet's outbound and the NAT gateway
    /// subnet's inbound NACL rules with the original source and ports (none when they are
    /// one subnet); the source becomes the NAT gateway's private IP and a port it picks in
    /// 1024-65535; the NAT gateway subnet's table must send `x` to the attached internet
    /// gateway (another NAT gateway: a chain or a loop, not described: not decided), which
    /// needs a public NAT gateway with an Elastic IP; the NAT subnet's outbound rules. The
    /// internet (or `d`, whose groups see the Elastic IP, §4.6) sees the Elastic IP. The
    /// reply: back to the Elastic IP (for `d`: its return route to the internet gateway and
    /// its outbound rules), the NAT subnet's inbound rules at the NAT gateway's port, then
    /// the NAT gateway sends it to `sip`: its subnet's table must deliver locally, its
    /// outbound rules and the source subnet's inbound rules at the client's port.
    ///
    /// Which port the NAT gateway picks is not ours to choose: the reference takes the union
    /// (the flow gets through when some port in 1024-65535 passes every check, as for a
    /// load balancer's port, and as the engine's packet sets do); the trace says when only
    /// some ports do, and `BRUTE_FORCE_STRICT_NAT_PORTS=1` makes such flows not decided.
    fn via_nat(
        &mut self,
        s: &NetworkInterface,
        sip: Ipv4Addr,
        x: Ipv4Addr,
        nat_id: &str,
        hairpin: Option<(&NetworkInterface, Ipv4Addr)>,
    ) -> bool {
        let (sport, dport) = (self.sport, self.dport);
        if let Some(rt) = self.route_table(&s.subnet_id) {
            if let Some(r) = self.lookup(rt, x) {
                let desc = Self::route_desc(r);
                self.log(format!(
                    "forward route: {} selects {desc}: NAT gateway",
                    rt.id
                ));
            }
        }
        let svpc = self.vpc_of(s);
        let Some(nat) = self.usable_nat(nat_id, &svpc) else {
            return false;
        };
        let nsub = nat.subnet_id.clone();
        let Some(&nat_ip) = nat.private_ips.first() else {
            return self.stop_undecided(
                "NAT gateway",
                format!("NAT gateway address: {nat_id} has no private IP in the snapshot"),
            );
        };
        let cross = nsub != s.subnet_id;
        if cross {
            if !self.nacl_allows(&s.subnet_id, true, x, dport, "source NACL out") {
                return false;
            }
            if !self.nacl_allows(&nsub, false, sip, dport, "NAT subnet NACL in") {
                return false;
            }
        } else {
            self.log(format!(
                "NAT gateway: {nat_id} is in the source's subnet {nsub}: no NACL between them"
            ));
        }
        self.log(format!(
            "NAT gateway: {nat_id} translates source {sip}:{sport} to {nat_ip} and a port in 1024-65535 (§4.5)"
        ));
        if let Some(r) = self
            .route_table(&nsub)
            .and_then(|rt| self.lookup(rt, x))
            .filter(|r| r.active && matches!(r.target, RouteTarget::NatGateway(_)))
        {
            let desc = Self::route_desc(r);
            return self.stop_undecided(
                "NAT route",
                format!("NAT gateway chain: {nsub}'s table sends {x} from {nat_id} to a NAT gateway ({desc}): a chain or a loop is not described"),
            );
        }
        if !self.routes_to_igw(&nsub, nat_ip, x, "NAT route") {
            return false;
        }
        if !nat.public {
            self.log(format!(
                "NAT gateway: {nat_id} is a private NAT gateway: the internet gateway drops its traffic (§4.5, §9.8)"
            ));
            return false;
        }
        let Some(&eip) = nat.public_ips.first() else {
            self.log(format!(
                "NAT gateway: {nat_id} has no Elastic IP: the internet gateway drops its traffic (§4.2)"
            ));
            return false;
        };
        if !self.nacl_allows(&nsub, true, x, dport, "NAT subnet NACL out") {
            return false;
        }
        self.log(format!("IGW: translates source {nat_ip} to {eip}"));
        // Checks at the NAT gateway's port p: (subnet, egress, remote, label).
        let mut at_nat_port: Vec<(String, bool, Ipv4Addr, &str)> = Vec::new();
        if let Some((d, dip)) = hairpin {
            let dvpc = self.vpc_of(d);
            if self.attached_igw(&dvpc).is_none() {
                self.log(format!(
                    "destination IGW: none attached to {dvpc}, dropped (§4.1 step 1)"
                ));
                return false;
            }
            if !self.nacl_allows(&d.subnet_id, false, eip, dport, "destination NACL in") {
                return false;
            }
            // §4.6: the destination sees the NAT gateway's Elastic IP.
            if !self.sg_allows(d, true, eip) {
                return false;
            }
            if !self.routes_to_igw(&d.subnet_id, dip, eip, "return route") {
                return false;
            }
            at_nat_port.push((
                d.subnet_id.clone(),
                true,
                eip,
                "reply: destination NACL out",
            ));
        }
        at_nat_port.push((nsub.clone(), false, x, "reply: NAT subnet NACL in"));
        // The NAT gateway sends the reply on to the client (ports: the client's).
        if cross {
            let hop = self
                .route_table(&nsub)
                .and_then(|rt| self.lookup(rt, sip).map(|r| (rt.id.clone(), r)));
            match hop {
                Some((rt, r)) if r.active && r.target == RouteTarget::Local => {
                    let desc = Self::route_desc(r);
                    self.log(format!(
                        "reply: NAT route back: {rt} selects {desc}: local delivery to {sip}"
                    ));
                }
                Some((rt, r)) if !r.active => {
                    let desc = Self::route_desc(r);
                    self.log(format!(
                        "reply: NAT route back: {rt} selects {desc}: blackhole, dropped"
                    ));
                    return false;
                }
                None => {
                    self.log(format!(
                        "reply: NAT route back: {nsub}'s table has no route for {sip}: dropped"
                    ));
                    return false;
                }
                Some((rt, r)) => {
                    let desc = Self::route_desc(r);
                    return self.stop_undecided(
                        "reply: NAT route back",
                        format!("NAT gateway reply: {rt} sends the reply for {sip} on by {desc}, not locally"),
                    );
                }
            }
            if !self.nacl_allows(&nsub, true, sip, sport, "reply: NAT subnet NACL out") {
                return false;
            }
            if !self.nacl_allows(&s.subnet_id, false, x, sport, "reply: source NACL in") {
                return false;
            }
        }
        // The NAT gateway's port: every bound of the NACL port ranges on the way, where
        // decisions change.
        let mut ports = vec![1024u16, 65535];
        for (sub, _, _, _) in &at_nat_port {
            self.nacl_port_bounds(sub, &mut ports);
        }
        ports.retain(|p| *p >= 1024);
        ports.sort_unstable();
        ports.dedup();
        let passes = |w: &Self, p: u16| {
            at_nat_port.iter().all(|(sub, egress, remote, _)| {
                w.nacl_decide(sub, *egress, *remote, p)
                    .is_some_and(|(ok, _)| ok)
            })
        };
        let good: Vec<u16> = ports.iter().copied().filter(|&p| passes(self, p)).collect();
        let p = good.first().copied().unwrap_or(ports[0]);
        for (sub, egress, remote, label) in &at_nat_port {
            let label = format!("{label} (NAT port {p})");
            if !self.nacl_allows(sub, *egress, *remote, p, &label) {
                return false;
            }
        }
        if good.len() < ports.len() {
            let bad: Vec<String> = ports
                .iter()
                .filter(|p| !good.contains(p))
                .map(|p| p.to_string())
                .collect();
            let why = format!(
                "NAT port choice: the reply gets back only if {nat_id} picks some ports (e.g. {p}), not others (e.g. {})",
                bad.join(", ")
            );
            if std::env::var_os("BRUTE_FORCE_STRICT_NAT_PORTS").is_some() {
                return self.stop_undecided("NAT port", why);
            }
            self.log(format!("NAT port: only some ports pass: {why}"));
        }
        self.log("reachable: every check passes".into());
        true
    }

    // ----- transit gateways (§6.2) -----

    /// How a packet from `subnet_id` to `dst` leaves: the active route its table selects.
    fn path_kind(&self, subnet_id: &str, dst: Ipv4Addr) -> Via {
        let hop = self
            .route_table(subnet_id)
            .and_then(|rt| self.lookup(rt, dst))
            .filter(|r| r.active)
            .map(|r| r.target.clone());
        match hop {
            Some(RouteTarget::Peering(_)) => Via::Peering,
            Some(RouteTarget::TransitGateway(t)) => Via::Tgw(t),
            _ => Via::Direct,
        }
    }

    /// The VPC attachment of `vpc` on transit gateway `tgw`.
    fn vpc_attachment(&self, tgw: &str, vpc: &str) -> Option<&'m TgwAttachment> {
        self.m
            .tgw_attachments
            .values()
            .find(|a| a.tgw_id == tgw && a.kind == TgwAttachmentKind::Vpc && a.resource_id == vpc)
    }

    /// §1.3: SG referencing across `tgw` between two VPCs: on the gateway and on both
    /// VPCs' attachments.
    fn tgw_referencing(&self, tgw: &str, a: &str, b: &str) -> bool {
        self.m
            .transit_gateways
            .get(tgw)
            .is_some_and(|t| t.sg_referencing)
            && [a, b].iter().all(|v| {
                self.vpc_attachment(tgw, v)
                    .is_some_and(|x| x.sg_referencing)
            })
    }

    /// §6.2 route selection: longest prefix; on ties static before propagated.
    /// Blackholes are selected like any other route (and then drop).
    fn tgw_lookup(&self, t: &'m TgwRouteTable, a: Ipv4Addr) -> Option<&'m TgwRoute> {
        self.longest_match(
            t.routes
                .iter()
                .map(|r| (&r.destination, u8::from(r.propagated), r)),
            a,
        )
    }

    /// One packet `src` -> `dst` (port `port`) from subnet `from` to the ENI subnet `to`
    /// of VPC `to_vpc` (different subnets): the route out of `from` and the NACLs of the
    /// subnets it leaves and enters (§0 steps 2-5), through a transit gateway when the
    /// route says so. `labels`: the route, leaving NACL and entering NACL steps.
    #[allow(clippy::too_many_arguments)]
    fn leg(
        &mut self,
        from: &str,
        src: Ipv4Addr,
        to: &str,
        dst: Ipv4Addr,
        to_vpc: &str,
        port: u16,
        labels: [&str; 3],
    ) -> bool {
        if let Via::Tgw(t) = self.path_kind(from, dst) {
            return self.tgw_leg(from, src, to, dst, to_vpc, port, &t, labels);
        }
        self.route_private(from, dst, to_vpc, labels[0])
            && self.nacl_allows(from, true, dst, port, labels[1])
            && self.nacl_allows(to, false, src, port, labels[2])
    }

    /// The leg through transit gateway `tgw` (§6.2, §9.2). NACLs as AWS's "Network ACLs
    /// for transit gateways" says (§6.2 leaves them [unconfirmed]): into the gateway, the
    /// source subnet's outbound and the entry attachment subnet's inbound rules; out of
    /// it, the exit attachment subnet's outbound and the destination subnet's inbound
    /// rules, none when the destination is in the exit attachment subnet.
    #[allow(clippy::too_many_arguments)]
    fn tgw_leg(
        &mut self,
        from: &str,
        src: Ipv4Addr,
        to: &str,
        dst: Ipv4Addr,
        to_vpc: &str,
        port: u16,
        tgw: &str,
        labels: [&str; 3],
    ) -> bool {
        let Some((out, candidates)) =
            self.tgw_enter(from, dst, tgw, labels[0], Some((src, port, labels[1])))
        else {
            return false;
        };
        let mut results = Vec::new();
        for c in &candidates {
            let ok = self.tgw_exit(c, src, to, dst, to_vpc, port, labels[2]);
            results.push(ok);
        }
        if results.iter().all(|&x| x) {
            true
        } else if results.iter().all(|&x| !x) {
            false
        } else {
            self.set_doubt(format!(
                "{tgw} picks an attachment subnet of {out} that lets {dst} through (some do, some do not)"
            ));
            true
        }
    }

    /// Into transit gateway `tgw` from subnet `from` towards `dst`, up to the exit
    /// attachment: the entry attachment subnet of the zone (§6.2, §9.2), the NACLs on
    /// the way in (`nacls`: the packet's source, port and the label of the leaving
    /// subnet's check; `None`: not checked), the associated route table, longest prefix
    /// (§6.2). Returns the exit attachment and the subnets it may leave by; `None` when
    /// the packet is dropped (or the path stops undecided).
    fn tgw_enter(
        &mut self,
        from: &str,
        dst: Ipv4Addr,
        tgw: &str,
        what: &str,
        nacls: Option<(Ipv4Addr, u16, &str)>,
    ) -> Option<(String, Vec<String>)> {
        if let Some(rt) = self.route_table(from) {
            if let Some(r) = self.lookup(rt, dst) {
                let desc = Self::route_desc(r);
                self.log(format!("{what}: {} selects {desc}: transit gateway", rt.id));
            }
        }
        let vpc = self
            .m
            .subnets
            .get(from)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        let Some(att) = self.vpc_attachment(tgw, &vpc) else {
            self.log(format!(
                "TGW entry: {vpc} has no attachment on {tgw}: dropped"
            ));
            return None;
        };
        let az = self.subnet_az(from);
        let Some(entry) = att
            .subnet_ids
            .iter()
            .find(|x| self.subnet_az(x) == az)
            .cloned()
        else {
            self.log(format!(
                "TGW entry: {} has no subnet in {} (the zone of {from}): a subnet sends to the gateway only from a zone with an attachment subnet (§6.2, §9.2): dropped",
                att.id,
                az.as_deref().unwrap_or("?")
            ));
            return None;
        };
        self.log(format!(
            "TGW entry: {} through its subnet {entry} in {}",
            att.id,
            az.as_deref().unwrap_or("?")
        ));
        if let Some((src, port, out_label)) = nacls {
            if !self.nacl_allows(from, true, dst, port, out_label) {
                return None;
            }
            if !self.nacl_allows(&entry, false, src, port, "TGW entry NACL in") {
                return None;
            }
        }
        let Some(table_id) = att.route_table_id.clone() else {
            self.stop_undecided(
                "TGW route",
                format!("{} is associated with no TGW route table (§6.2: every attachment is associated with exactly one)", att.id),
            );
            return None;
        };
        let Some(table) = self.m.tgw_route_tables.get(&table_id) else {
            self.stop_undecided(
                "TGW route",
                format!("{}'s route table {table_id} is not in the snapshot", att.id),
            );
            return None;
        };
        let Some(route) = self.tgw_lookup(table, dst) else {
            self.log(format!(
                "TGW route: {table_id} has no route for {dst}: dropped"
            ));
            return None;
        };
        let desc = format!(
            "{} {} -> {}",
            route.destination,
            if route.propagated {
                "propagated"
            } else {
                "static"
            },
            if route.blackhole {
                "blackhole".to_string()
            } else {
                route.attachment_ids.join(",")
            }
        );
        if route.blackhole {
            self.log(format!(
                "TGW route: {table_id} selects {desc}: blackhole, dropped"
            ));
            return None;
        }
        let [aid] = &route.attachment_ids[..] else {
            self.stop_undecided(
                "TGW route",
                format!("{table_id} selects {desc}: not one attachment"),
            );
            return None;
        };
        let Some(out) = self.m.tgw_attachment(tgw, aid) else {
            self.stop_undecided(
                "TGW route",
                format!("{table_id} selects {desc}: the attachment is not in the snapshot"),
            );
            return None;
        };
        if out.kind != TgwAttachmentKind::Vpc {
            self.stop_undecided(
                "TGW route",
                format!("{table_id} selects {desc}: not a VPC attachment"),
            );
            return None;
        }
        // Which attachment subnet: without appliance mode the gateway keeps the zone the
        // packet came in by when the attachment has a subnet there, else another (AWS:
        // "traffic is kept to the originating Availability Zone"); with appliance mode a
        // flow hash picks any (§6.2 "pins a flow to one AZ").
        let same_zone: Vec<String> = out
            .subnet_ids
            .iter()
            .filter(|x| self.subnet_az(x) == az)
            .cloned()
            .collect();
        let candidates = if out.appliance_mode || same_zone.is_empty() {
            out.subnet_ids.clone()
        } else {
            same_zone
        };
        self.log(format!(
            "TGW route: {table_id} selects {desc}: out through {} ({}{})",
            out.id,
            candidates.join(" or "),
            if out.appliance_mode {
                ", appliance mode: a flow hash picks"
            } else {
                ""
            }
        ));
        if candidates.is_empty() {
            self.log(format!("TGW exit: {} has no subnet: dropped", out.id));
            return None;
        }
        Some((out.id.clone(), candidates))
    }

    /// A packet for the internet address `dst` that a route sends into transit gateway
    /// `tgw` (no NAT gateways here): where it comes out, an internet gateway has no public
    /// address for a source of another VPC (§4.2) and drops it; anything else that would
    /// carry it on is not described. (NACLs are not checked: the path never gets through.)
    fn tgw_to_internet(
        &mut self,
        from: &str,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tgw: &str,
        what: &str,
    ) -> bool {
        let Some((_, candidates)) = self.tgw_enter(from, dst, tgw, what, None) else {
            return false;
        };
        let svpc = self
            .m
            .subnets
            .get(from)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        for exit in candidates {
            let xvpc = self
                .m
                .subnets
                .get(&exit)
                .map(|s| s.vpc_id.clone())
                .unwrap_or_default();
            let hop = self
                .route_table(&exit)
                .and_then(|rt| self.lookup(rt, dst).map(|r| (rt.id.clone(), r)));
            let Some((rt, r)) = hop else {
                self.log(format!("TGW exit: {exit} has no route for {dst}: dropped"));
                continue;
            };
            let desc = Self::route_desc(r);
            match &r.target {
                _ if !r.active => {
                    self.log(format!(
                        "TGW exit: {exit}'s table {rt} selects {desc}: blackhole, dropped"
                    ));
                }
                RouteTarget::Local => {
                    self.log(format!("TGW exit: {exit}'s table {rt} selects {desc}: {dst} is not in {xvpc}: dropped"));
                }
                RouteTarget::InternetGateway(g)
                    if xvpc != svpc && self.attached_igw(&xvpc).as_deref() == Some(g.as_str()) =>
                {
                    self.log(format!(
                        "TGW exit: {exit}'s table {rt} selects {desc}: {g} has no public address for {src}, an address of {svpc} (§4.2): dropped"
                    ));
                }
                RouteTarget::InternetGateway(g)
                    if self.attached_igw(&xvpc).as_deref() != Some(g.as_str()) =>
                {
                    self.log(format!("TGW exit: {exit}'s table {rt} selects {desc}: {g} is not attached to {xvpc}: dropped"));
                }
                _ => {
                    self.stop_undecided(
                        "TGW exit",
                        format!("traffic for {dst} from {src} leaves {xvpc} again by {desc} ({exit}'s table {rt}): not described"),
                    );
                }
            }
        }
        false
    }

    /// From the exit attachment subnet `exit` to the destination ENI's subnet `to`: the
    /// exit subnet's route table (§6.2), then the NACLs (see `tgw_leg`).
    #[allow(clippy::too_many_arguments)]
    fn tgw_exit(
        &mut self,
        exit: &str,
        src: Ipv4Addr,
        to: &str,
        dst: Ipv4Addr,
        to_vpc: &str,
        port: u16,
        in_label: &str,
    ) -> bool {
        let xvpc = self
            .m
            .subnets
            .get(exit)
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        let Some(rt) = self.route_table(exit) else {
            self.log(format!("TGW exit: {exit} has no route table: dropped"));
            return false;
        };
        let Some(r) = self.lookup(rt, dst) else {
            self.log(format!(
                "TGW exit: {exit}'s table {} has no route for {dst}: dropped",
                rt.id
            ));
            return false;
        };
        let desc = Self::route_desc(r);
        if !r.active {
            self.log(format!(
                "TGW exit: {exit}'s table {} selects {desc}: blackhole, dropped",
                rt.id
            ));
            return false;
        }
        match &r.target {
            RouteTarget::Local if xvpc == to_vpc && self.vpc_contains(&xvpc, dst) => {
                if exit == to {
                    self.log(format!(
                        "TGW exit: {exit}'s table {} selects {desc}: the destination is in the attachment subnet: no NACL (AWS: neither rule set is evaluated)",
                        rt.id
                    ));
                    return true;
                }
                self.log(format!(
                    "TGW exit: {exit}'s table {} selects {desc}: local delivery in {xvpc}",
                    rt.id
                ));
                self.nacl_allows(exit, true, dst, port, "TGW exit NACL out")
                    && self.nacl_allows(to, false, src, port, in_label)
            }
            RouteTarget::Local => {
                self.log(format!(
                    "TGW exit: {exit}'s table {} selects {desc}: {dst} is not in {xvpc}: dropped",
                    rt.id
                ));
                false
            }
            _ if exit == to => self.stop_undecided(
                "TGW exit",
                format!(
                    "the destination {dst} is in the attachment subnet {exit}, whose table {} selects {desc} (§3.2 item 8 against §6.2)",
                    rt.id
                ),
            ),
            RouteTarget::InternetGateway(_) => {
                self.log(format!(
                    "TGW exit: {exit}'s table {} selects {desc}: a private address sent to the internet gateway is not delivered: dropped",
                    rt.id
                ));
                false
            }
            _ => self.stop_undecided(
                "TGW exit",
                format!(
                    "traffic from {} leaves {xvpc} again by {desc} ({exit}'s table {}): transit through a VPC is not described",
                    src,
                    rt.id
                ),
            ),
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
        let same_subnet = s.subnet_id == d.subnet_id;
        self.via = if same_subnet {
            Via::Direct
        } else {
            self.path_kind(&s.subnet_id, dip)
        };
        // §0 step 1.
        if !self.sg_allows(s, false, dip) {
            return false;
        }
        if same_subnet {
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
        if !self.leg(
            &s.subnet_id,
            sip,
            &d.subnet_id,
            dip,
            &dvpc,
            dport,
            ["forward route", "source NACL out", "destination NACL in"],
        ) {
            return false;
        }
        if !self.sg_allows(d, true, sip) {
            return false;
        }
        // §0 step 7: reply, ports swapped; SGs not re-checked. The reply follows the
        // destination's route table, whatever path it takes (§0, §6.1).
        if !self.leg(
            &d.subnet_id,
            dip,
            &s.subnet_id,
            sip,
            &svpc,
            sport,
            [
                "return route",
                "reply: destination NACL out",
                "reply: source NACL in",
            ],
        ) {
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
        if let Some(nat) = self.nat_route(&s.subnet_id, x) {
            return self.via_nat(s, sip, x, &nat, None);
        }
        if !self.routes_to_igw(&s.subnet_id, sip, x, "forward route") {
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
        if !self.routes_to_igw(&d.subnet_id, dip, x, "return route") {
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
        if let Some(nat) = self.nat_route(&s.subnet_id, dpub) {
            return self.via_nat(s, sip, dpub, &nat, Some((d, dip)));
        }
        if !self.routes_to_igw(&s.subnet_id, sip, dpub, "forward route") {
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
        if !self.routes_to_igw(&d.subnet_id, dip, spub, "return route") {
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
    /// (fail-open), or, without cross-zone load balancing, none in the target's
    /// zone (routing failover zone by zone, ELB "Target group health"); where the
    /// two readings differ the reference does not decide
    /// (`BRUTE_FORCE_STRICT_HEALTH=1` makes it follow §5.1 literally).
    fn health_class(
        &self,
        lb: &LoadBalancer,
        tg: &TargetGroup,
        t: &exposure::model::Target,
    ) -> Health {
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
            "unhealthy" if !Self::cross_zone(lb, tg) => {
                let zone = |x: &exposure::model::Target| {
                    self.resolve_target(tg, x)
                        .and_then(|r| self.subnet_az(&r.eni.subnet_id))
                };
                let here = zone(t);
                if tg
                    .targets
                    .iter()
                    .any(|x| brief_eligible(x.health.as_deref().unwrap_or("")) && zone(x) == here)
                {
                    Health::NotEligible
                } else {
                    Health::Undecided
                }
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

    /// The target groups a listener's default actions and rules forward to, each once (§5.2:
    /// any rule that can forward counts; conditions are not evaluated).
    fn forwarded_groups(&self, l: &Listener) -> Vec<&'m TargetGroup> {
        let mut arns: Vec<String> = Vec::new();
        for a in l
            .actions
            .iter()
            .chain(l.rules.iter().flat_map(|r| &r.actions))
        {
            if let ListenerAction::Forward(tgs) = a {
                for t in tgs {
                    if !arns.contains(t) {
                        arns.push(t.clone());
                    }
                }
            }
        }
        arns.iter()
            .filter_map(|arn| self.m.target_groups.get(arn))
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
            self.doubt.replace(None);
            let ok = self.client_to_node(src, lb, node);
            if self.settle(ok) {
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
                self.via = Via::Direct;
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
                    && self.routes_to_igw(&node.subnet_id, nip, x, "LB node return route")
                    && self.nacl_allows(&node.subnet_id, true, x, sport, "reply: LB node NACL out")
            }
            End::Private(s, sip) => {
                self.log(format!(
                    "LB node: {sip}:{sport} -> {nip}:{dport} from {}, node {} of {}",
                    s.id, node.id, lb.name
                ));
                self.via = if s.subnet_id == node.subnet_id {
                    Via::Direct
                } else {
                    self.path_kind(&s.subnet_id, nip)
                };
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
                self.leg(
                    &s.subnet_id,
                    sip,
                    &node.subnet_id,
                    nip,
                    &nvpc,
                    dport,
                    ["forward route", "source NACL out", "LB node NACL in"],
                ) && self.lb_groups_allow(lb, true, sip)
                    && self.leg(
                        &node.subnet_id,
                        nip,
                        &s.subnet_id,
                        sip,
                        &svpc,
                        sport,
                        [
                            "LB node return route",
                            "reply: LB node NACL out",
                            "reply: source NACL in",
                        ],
                    )
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
                        let decided = match self.health_class(lb, tg, t) {
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
                        // §5.1, TargetDescription.AvailabilityZone: an ip target outside the
                        // load balancer's VPC is registered with a zone (the nodes there send
                        // it traffic) or `all` (every enabled zone's); an ALB with cross-zone
                        // load balancing on treats any zone as `all`.
                        let registered: Option<String> = (r.eni.vpc_id != lb.vpc_id
                            && tg.target_type == TargetType::Ip)
                            .then(|| t.availability_zone.clone())
                            .flatten()
                            .map(|z| {
                                if lb.kind == LbKind::Application && cross {
                                    "all".to_string()
                                } else {
                                    z
                                }
                            });
                        let anywhere = registered.as_deref() == Some("all");
                        let taz = match &registered {
                            Some(z) if !anywhere => Some(z.clone()),
                            _ => self.subnet_az(&r.eni.subnet_id),
                        };
                        // §5.1: a target in a zone the load balancer has not enabled (none of
                        // its subnets is there) receives no traffic, whatever its health says.
                        let enabled: Vec<Option<String>> =
                            lb.subnet_ids.iter().map(|s| self.subnet_az(s)).collect();
                        if (r.eni.vpc_id == lb.vpc_id || (registered.is_some() && !anywhere))
                            && !enabled.is_empty()
                            && !enabled.contains(&taz)
                        {
                            self.log(format!(
                                "LB zones: {} ({}) is in a zone {} has not enabled: it receives no traffic (§5.1)",
                                r.ip,
                                taz.as_deref().unwrap_or("?"),
                                lb.name
                            ));
                            continue;
                        }
                        for node in self.lb_nodes(lb) {
                            let naz = self.subnet_az(&node.subnet_id);
                            if !cross && !anywhere && naz != taz {
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
                            self.doubt.replace(None);
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
                            let ok = self.settle(ok);
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
        self.via = if node.subnet_id == r.eni.subnet_id {
            Via::Direct
        } else {
            self.path_kind(&node.subnet_id, r.ip)
        };
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
        if !(self.leg(
            &node.subnet_id,
            src_ip,
            &d.subnet_id,
            r.ip,
            &dvpc,
            tport,
            ["LB target route", "LB node NACL out", "target NACL in"],
        ) && self.groups_allow(&d.id, &d.groups, true, src_ip, &also))
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
        // The load balancer picks its source port in 1024-65535 (§2.4): the reply gets
        // through when some such port passes every NACL on its way (checked at every
        // bound of their port ranges, where decisions change).
        let mut ports = vec![1024u16, 65535];
        self.nacl_port_bounds(&d.subnet_id, &mut ports);
        self.nacl_port_bounds(&node.subnet_id, &mut ports);
        let attachment_subnets: Vec<String> = self
            .m
            .tgw_attachments
            .values()
            .flat_map(|a| a.subnet_ids.clone())
            .collect();
        for a in &attachment_subnets {
            self.nacl_port_bounds(a, &mut ports);
        }
        ports.retain(|p| *p >= 1024);
        ports.sort_unstable();
        ports.dedup();
        let labels = [
            "LB target return route",
            "reply: target NACL out (LB port)",
            "reply: LB node NACL in (LB port)",
        ];
        let good = ports.iter().copied().find(|&p| {
            self.trial(|w| w.leg(&d.subnet_id, r.ip, &node.subnet_id, nip, &nvpc, p, labels))
        });
        let p = good.unwrap_or(ports[0]);
        self.leg(&d.subnet_id, r.ip, &node.subnet_id, nip, &nvpc, p, labels)
    }

    /// Runs a check without leaving a trace or a doubt (for picking a port).
    fn trial(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let n = self.trace.len();
        let doubt = self.doubt.borrow().clone();
        let undecided = self.undecided.clone();
        let ok = f(self);
        let clean = *self.doubt.borrow() == doubt && self.undecided == undecided;
        self.trace.truncate(n);
        self.doubt.replace(doubt);
        self.undecided = undecided;
        ok && clean
    }
}
