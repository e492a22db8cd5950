//! `exposure query`: one flow question, answered with paths or blocking reasons.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::index::{Host, Index};
use super::packet::{self, net_intervals, Dim, Interval, PBox, PacketSet};
use super::walk::{self, Block, Ending, Goal, Hop, OnpremEntry, Outcome, Walker};
use crate::model::*;

/// The `--protocol` values: a name or an IP protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolArg {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP: protocol 1 between IPv4 addresses, ICMPv6 (58) between IPv6 addresses.
    Icmp,
    /// Every protocol.
    All,
    /// Another IP protocol, by number (58, `icmpv6`: ICMPv6 only; 50: ESP; 47: GRE).
    Number(u8),
}

impl ProtocolArg {
    /// The IP protocol numbers asked about (`None`: all of them).
    pub fn protocols(self) -> Option<Vec<u8>> {
        match self {
            ProtocolArg::Tcp => Some(vec![Protocol::TCP]),
            ProtocolArg::Udp => Some(vec![Protocol::UDP]),
            ProtocolArg::Icmp => Some(vec![Protocol::ICMP, Protocol::ICMPV6]),
            ProtocolArg::All => None,
            ProtocolArg::Number(n) => Some(vec![n]),
        }
    }
}

impl std::str::FromStr for ProtocolArg {
    type Err = String;

    /// `tcp`, `udp`, `icmp`, `icmpv6`, `all` (or `any`, `-1`, as security groups write it),
    /// or a number 0-255 (6, 17 and 1 are tcp, udp and icmp), in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        let word = s.trim().to_ascii_lowercase();
        // Numbers first, so that `06` is `6`.
        if let Ok(n) = word.parse::<u8>() {
            return Ok(match n {
                6 => ProtocolArg::Tcp,
                17 => ProtocolArg::Udp,
                1 => ProtocolArg::Icmp,
                n => ProtocolArg::Number(n),
            });
        }
        Ok(match word.as_str() {
            "tcp" => ProtocolArg::Tcp,
            "udp" => ProtocolArg::Udp,
            "icmp" => ProtocolArg::Icmp,
            "icmpv6" => ProtocolArg::Number(Protocol::ICMPV6),
            "all" | "any" | "-1" => ProtocolArg::All,
            _ => {
                return Err(format!(
                    "unknown protocol `{s}`; write tcp, udp, icmp, all or a protocol number 0-255"
                ))
            }
        })
    }
}

/// The `--expect` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Expectation {
    /// The flow must get through.
    Reachable,
    /// The flow must not get through.
    Unreachable,
}

impl Expectation {
    /// Whether a verdict meets the expectation (`unknown` meets neither).
    pub fn met_by(self, v: Verdict) -> bool {
        matches!(
            (self, v),
            (Expectation::Reachable, Verdict::Reachable)
                | (Expectation::Unreachable, Verdict::Unreachable)
        )
    }
}

/// The answer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Some packet of the flow gets there and its reply gets back.
    Reachable,
    /// None does.
    Unreachable,
    /// The path crosses something not modelled.
    Unknown,
}

impl Verdict {
    /// `reachable` / `unreachable` / `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Reachable => "reachable",
            Verdict::Unreachable => "unreachable",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Request {
    /// Source endpoint as written.
    pub from: String,
    /// Destination endpoint as written.
    pub to: String,
    /// Protocol numbers asked for (all when `None`).
    pub protocols: Option<Vec<u8>>,
    /// Destination ports asked for.
    pub ports: Option<(u16, u16)>,
    /// Source ports asked for.
    pub source_ports: Option<(u16, u16)>,
}

fn port_range(s: &str, what: &str) -> Result<(u16, u16), String> {
    let parse = |x: &str| {
        x.trim()
            .parse::<u16>()
            .map_err(|_| format!("{what} `{s}` is not a port number or range A-B (0-65535)"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if a > b {
                return Err(format!("{what} `{s}`: the range is reversed"));
            }
            Ok((a, b))
        }
        None => parse(s).map(|p| (p, p)),
    }
}

impl Request {
    /// Builds a request from the command-line values.
    pub fn parse(
        from: &str,
        to: &str,
        protocol: Option<ProtocolArg>,
        port: Option<&str>,
        source_port: Option<&str>,
    ) -> Result<Request, String> {
        let protocols = protocol.and_then(ProtocolArg::protocols);
        let ports = port.map(|p| port_range(p, "--port")).transpose()?;
        let source_ports = source_port
            .map(|p| port_range(p, "--source-port"))
            .transpose()?;
        // Ports belong to TCP and UDP (security groups and NACLs give other protocols none).
        let portless = protocols.as_ref().and_then(|ps| {
            ps.iter()
                .copied()
                .find(|&p| p != Protocol::TCP && p != Protocol::UDP)
        });
        if let Some(p) = portless {
            for (given, flag) in [
                (ports.is_some(), "--port"),
                (source_ports.is_some(), "--source-port"),
            ] {
                if !given {
                    continue;
                }
                return Err(if p == Protocol::ICMP || p == Protocol::ICMPV6 {
                    format!("{flag} does not apply to ICMP")
                } else {
                    format!("{flag} does not apply to protocol {p}: only tcp and udp have ports")
                });
            }
        }
        Ok(Request {
            from: from.to_string(),
            to: to.to_string(),
            protocols,
            ports,
            source_ports,
        })
    }

    fn base_set(&self) -> PacketSet {
        let mut boxes = Vec::new();
        let protos: Vec<(u128, u128)> = match &self.protocols {
            Some(ps) => ps.iter().map(|p| (*p as u128, *p as u128)).collect(),
            None => vec![(0, 255)],
        };
        for p in protos {
            let mut b = PBox::FULL.with(Dim::Proto, p);
            if let Some((a, z)) = self.ports {
                b = b.with(Dim::DstPort, (a as u128, z as u128));
            }
            if let Some((a, z)) = self.source_ports {
                b = b.with(Dim::SrcPort, (a as u128, z as u128));
            }
            boxes.push(b);
        }
        PacketSet::from_boxes(boxes)
    }
}

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The endpoint matches nothing.
    #[error("`{0}` matches nothing in the snapshot{1}")]
    Unknown(String, String),
    /// The endpoint is written as an address or a CIDR but is not a valid one.
    #[error("`{0}` is not a valid IP address or CIDR: {1}")]
    BadAddress(String, String),
    /// The endpoint matches several things of different kinds.
    #[error("`{0}` is ambiguous: it matches {1}; name one by id")]
    Ambiguous(String, String),
    /// The endpoint cannot be used that way.
    #[error("{0}")]
    Unsupported(String),
}

/// What an endpoint resolved to.
#[derive(Debug, Clone)]
enum Endpoint {
    Internet(Vec<Interval>),
    Onprem(Vec<OnpremEntry>, Vec<Interval>),
    Hosts(Vec<String>, Option<Vec<Interval>>),
    LoadBalancers(Vec<String>),
    Address(Vec<Interval>),
    /// A peering connection or transit gateway: as a destination, what the routing sends
    /// into it.
    Gateway(String),
}

/// One reachable path, for output.
#[derive(Debug, Clone)]
pub struct PathOut {
    /// Hops, forward and return checks in order.
    pub hops: Vec<Hop>,
    /// The listener the path enters by.
    pub entry: Option<String>,
    /// What gets through on this path.
    pub traffic: Vec<Traffic>,
}

/// One protocol's share of what gets through.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Traffic {
    /// Protocol name (`tcp`, `udp`, `icmp`, `all`, `proto-47`).
    pub protocol: String,
    /// Destination ports (or ICMP types) as text, empty when not applicable.
    pub ports: String,
}

/// The answer to a query.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The request.
    pub request: Request,
    /// Verdict.
    pub verdict: Verdict,
    /// Reachable paths.
    pub paths: Vec<PathOut>,
    /// What gets through, over all paths.
    pub traffic: Vec<Traffic>,
    /// Client source ports that get through (0-65535 when unconstrained).
    pub source_ports: Vec<(u16, u16)>,
    /// What gets through by protocol, destination port (the destination's view, as
    /// `traffic`) and the client's source port (where a NAT gateway or a load balancer
    /// translated it on the way: the client ports that reached it). Addresses are left
    /// whole. `policy` reads it to check that a flow works from every ephemeral port.
    pub client: PacketSet,
    /// Every blocking component (unreachable verdicts).
    pub blocked_by: Vec<Block>,
    /// Assumptions and things not modelled.
    pub assumptions: Vec<String>,
    /// Remarks for people (ephemeral ports, partial reachability).
    pub notes: Vec<String>,
    /// What each reached component (host, load balancer, `internet`, ...) gets, per entry listener.
    pub reached: Vec<Reached>,
}

/// What one destination component receives.
#[derive(Debug, Clone)]
pub struct Reached {
    /// The component the paths end at (ENI id, LB ARN, `internet`, ...).
    pub component: String,
    /// The listener the paths enter by, if any.
    pub entry: Option<String>,
    /// What gets through.
    pub traffic: Vec<Traffic>,
    /// The packets that get through (destination's view).
    pub set: PacketSet,
}

fn resolve(m: &Model, idx: &Index, s: &str) -> Result<Endpoint, QueryError> {
    let s = s.trim();
    let hosts_of = |pred: &dyn Fn(&Host) -> bool| -> Vec<String> {
        idx.hosts
            .values()
            .filter(|h| !h.virtual_node && pred(h))
            .map(|h| h.id.clone())
            .collect()
    };
    let nonempty = |v: Vec<String>, what: &str| -> Result<Endpoint, QueryError> {
        if v.is_empty() {
            Err(QueryError::Unknown(
                s.to_string(),
                format!(" ({what} has no network interface)"),
            ))
        } else {
            Ok(Endpoint::Hosts(v, None))
        }
    };
    if s.eq_ignore_ascii_case("internet") {
        return Ok(Endpoint::Internet(walk::internet_space()));
    }
    if s.eq_ignore_ascii_case("internet-ipv4") || s.eq_ignore_ascii_case("internet-ipv6") {
        let v4 = s.eq_ignore_ascii_case("internet-ipv4");
        let space = walk::internet_space()
            .into_iter()
            .filter(|iv| packet::is_v4(iv.0) == v4)
            .collect();
        return Ok(Endpoint::Internet(space));
    }
    if s.eq_ignore_ascii_case("onprem") {
        let entries = walk::onprem_entries(m);
        if entries.is_empty() {
            return Err(QueryError::Unknown(
                s.into(),
                " (no VPN gateway and no transit gateway VPN or Direct Connect attachment: nothing connects on-premises)".into(),
            ));
        }
        return Ok(Endpoint::Onprem(entries, vec![packet::ALL_ADDRS]));
    }
    if let Some(i) = m.instances.get(s) {
        return nonempty(
            i.eni_ids
                .iter()
                .filter(|e| idx.hosts.contains_key(*e))
                .cloned()
                .collect(),
            s,
        );
    }
    if idx.hosts.contains_key(s) {
        return Ok(Endpoint::Hosts(vec![s.to_string()], None));
    }
    if m.subnets.contains_key(s) {
        return nonempty(hosts_of(&|h| h.subnet_id == s), s);
    }
    if m.vpcs.contains_key(s) {
        return nonempty(hosts_of(&|h| h.vpc_id == s), s);
    }
    if m.security_groups.contains_key(s) {
        return nonempty(hosts_of(&|h| h.groups.iter().any(|g| g == s)), s);
    }
    if let Some(n) = m.nat_gateways.get(s) {
        return nonempty(
            hosts_of(&|h| {
                n.eni_ids.contains(&h.id)
                    || (h.kind == OwnerKind::NatGateway && h.owner_id.as_deref() == Some(s))
            }),
            s,
        );
    }
    if let Some(e) = m.vpc_endpoints.get(s) {
        // A gateway endpoint has no interface: as a destination, what the routing sends into
        // it (as for a peering connection or a transit gateway).
        if e.kind == crate::model::EndpointKind::Gateway {
            return Ok(Endpoint::Gateway(s.to_string()));
        }
        return nonempty(hosts_of(&|h| e.eni_ids.contains(&h.id)), s);
    }
    if m.vpn_gateways.contains_key(s) {
        return Ok(Endpoint::Onprem(
            vec![OnpremEntry::Vgw(s.to_string())],
            vec![packet::ALL_ADDRS],
        ));
    }
    // A transit gateway's VPN or Direct Connect gateway attachment stands for on-premises
    // behind it.
    let attachments: Vec<OnpremEntry> = walk::onprem_entries(m)
        .into_iter()
        .filter(|e| matches!(e, OnpremEntry::Tgw { .. }) && e.id() == s)
        .collect();
    if !attachments.is_empty() {
        return Ok(Endpoint::Onprem(attachments, vec![packet::ALL_ADDRS]));
    }
    // The internet by one gateway ([`Goal::entry_gateway`], [`Goal::exit_gateway`]); an
    // egress-only one carries IPv6 only.
    if m.internet_gateways.contains_key(s) {
        return Ok(Endpoint::Internet(walk::internet_space()));
    }
    if m.egress_only_internet_gateways.contains_key(s) {
        let v6 = walk::internet_space()
            .into_iter()
            .filter(|iv| !packet::is_v4(iv.0))
            .collect();
        return Ok(Endpoint::Internet(v6));
    }
    if m.peerings.contains_key(s) || m.transit_gateways.contains_key(s) {
        return Ok(Endpoint::Gateway(s.to_string()));
    }
    if m.load_balancers.contains_key(s) {
        return Ok(Endpoint::LoadBalancers(vec![s.to_string()]));
    }
    if let Some(tag) = s.strip_prefix("tag:") {
        let Some((k, v)) = tag.split_once('=') else {
            return Err(QueryError::Unsupported(format!(
                "`{s}`: write tag:KEY=VALUE"
            )));
        };
        let hosts = hosts_of(&|h| {
            let eni_tag = m
                .network_interfaces
                .get(&h.id)
                .is_some_and(|e| e.tags.get(k).is_some_and(|x| x == v));
            let inst_tag = h
                .owner_id
                .as_ref()
                .and_then(|o| m.instances.get(o))
                .is_some_and(|i| i.tags.get(k).is_some_and(|x| x == v));
            eni_tag || inst_tag
        });
        return nonempty(hosts, s);
    }
    // A one-address prefix (`/32`, `/128`) is that address.
    let single = s
        .parse::<IpNet>()
        .ok()
        .filter(|n| n.prefix_len() == n.max_prefix_len())
        .map(|n| n.addr());
    if let Some(ip) = s.parse::<IpAddr>().ok().or(single) {
        let iv = packet::addr_interval(ip);
        // The same address may be held in VPCs that are not peered with each other: as a
        // destination it is whichever of them the routing leads to (checked in
        // `run_indexed` for a source, where it is ambiguous).
        let holders = idx.hosts_by_private(ip);
        if !holders.is_empty() {
            let ids = holders.iter().map(|h| h.id.clone()).collect();
            return Ok(Endpoint::Hosts(ids, Some(vec![iv])));
        }
        if let Some((hid, _)) = idx.public.get(&iv.0) {
            return Ok(Endpoint::Hosts(vec![hid.clone()], Some(vec![iv])));
        }
        return Ok(Endpoint::Address(vec![iv]));
    }
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(Endpoint::Address(net_intervals(&net.trunc())));
    }
    // Names: load balancers, Name tags, database identifiers, owner names.
    // A load balancer also by its DNS name (any case, a trailing dot, the `dualstack.` form).
    let dns = s.trim_end_matches('.').to_ascii_lowercase();
    let dns = dns.strip_prefix("dualstack.").unwrap_or(&dns);
    let lbs: Vec<String> = m
        .load_balancers
        .values()
        .filter(|l| {
            l.name == s
                || l.dns_name
                    .as_deref()
                    .is_some_and(|d| d.trim_end_matches('.').eq_ignore_ascii_case(dns))
        })
        .map(|l| l.arn.clone())
        .collect();
    // Instance and interface Name tags, owner ids and host names.
    let hosts: Vec<String> = idx.hosts_named(m, s).to_vec();
    // A load balancer or an instance is often named like its group: those names come first.
    if !lbs.is_empty() && !hosts.is_empty() {
        return Err(QueryError::Ambiguous(
            s.into(),
            format!(
                "load balancer(s) {} and network interface(s) {}",
                lbs.join(", "),
                hosts.join(", ")
            ),
        ));
    }
    if !lbs.is_empty() {
        return Ok(Endpoint::LoadBalancers(lbs));
    }
    if !hosts.is_empty() {
        return Ok(Endpoint::Hosts(hosts, None));
    }
    // Then VPC and subnet Name tags, security-group names and Name tags (as policies' `vpc:`,
    // `subnet:` and `sg:` selectors take them): what is in them.
    let named = |tags: &Tags| tags.get("Name").is_some_and(|n| n == s);
    let vpcs: Vec<&str> = m
        .vpcs
        .values()
        .filter(|v| named(&v.tags))
        .map(|v| v.id.as_str())
        .collect();
    let subnets: Vec<&str> = m
        .subnets
        .values()
        .filter(|n| named(&n.tags))
        .map(|n| n.id.as_str())
        .collect();
    let groups: Vec<&str> = m
        .security_groups
        .values()
        .filter(|g| g.name == s || named(&g.tags))
        .map(|g| g.id.as_str())
        .collect();
    let kinds: Vec<String> = [
        ("VPC(s)", &vpcs),
        ("subnet(s)", &subnets),
        ("security group(s)", &groups),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .map(|(what, ids)| format!("{what} {}", crate::inventory::listed(ids)))
    .collect();
    if kinds.len() > 1 {
        return Err(QueryError::Ambiguous(s.into(), kinds.join(" and ")));
    }
    let members = if !vpcs.is_empty() {
        Some(hosts_of(&|h| vpcs.contains(&h.vpc_id.as_str())))
    } else if !subnets.is_empty() {
        Some(hosts_of(&|h| subnets.contains(&h.subnet_id.as_str())))
    } else if !groups.is_empty() {
        Some(hosts_of(&|h| {
            h.groups.iter().any(|g| groups.contains(&g.as_str()))
        }))
    } else {
        None
    };
    if let Some(members) = members {
        return nonempty(members, s);
    }
    // Written as an address but not one: say why rather than that it matches nothing.
    if let Some(why) = not_an_address(s) {
        return Err(QueryError::BadAddress(s.into(), why));
    }
    let lower = s.to_ascii_lowercase();
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    for h in idx.hosts.values() {
        if h.name.to_ascii_lowercase().contains(&lower) {
            candidates.insert(h.name.clone());
        }
    }
    for l in m.load_balancers.values() {
        if l.name.to_ascii_lowercase().contains(&lower) {
            candidates.insert(l.name.clone());
        }
    }
    let hint = if candidates.is_empty() {
        "; endpoints are `internet`, `onprem`, ids (i-, eni-, subnet-, vpc-, sg-, nat-, vgw-, vpce-, a VPN or Direct Connect tgw-attach-), load balancer names or ARNs, IP addresses or CIDRs, tag:KEY=VALUE or Name tags".to_string()
    } else {
        format!(
            "; did you mean: {}?",
            candidates
                .into_iter()
                .take(10)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(QueryError::Unknown(s.into(), hint))
}

/// Why an endpoint written like an IP address or a CIDR (`10.0.0.0/33`, `fe80::1%eth0`,
/// `10.0.0.300`) is not one; `None` when it does not look like one (or is one).
fn not_an_address(s: &str) -> Option<String> {
    if s.parse::<IpAddr>().is_ok() || s.parse::<IpNet>().is_ok() {
        return None;
    }
    if let Some((addr, zone)) = s.split_once('%') {
        let addr = addr.trim();
        if addr.parse::<IpAddr>().is_ok() {
            return Some(format!(
                "a zone index (`%{zone}`) is not part of an address here; write `{addr}`"
            ));
        }
    }
    if let Some((addr, len)) = s.split_once('/') {
        if let Ok(a) = addr.trim().parse::<IpAddr>() {
            let max = if a.is_ipv4() { 32 } else { 128 };
            let family = if a.is_ipv4() { "IPv4" } else { "IPv6" };
            return Some(format!(
                "`/{len}` is not a prefix length for {family} (0-{max})"
            ));
        }
    }
    let (head, _) = s.split_once('/').unwrap_or((s, ""));
    let dotted = head.contains('.') && head.chars().all(|c| c.is_ascii_digit() || c == '.');
    let colons = head.matches(':').count() >= 2
        && head
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    if dotted {
        Some("an IPv4 address is four numbers 0-255 separated by dots".into())
    } else if colons {
        Some("not a valid IPv6 address".into())
    } else {
        None
    }
}

fn is_external_source(e: &Endpoint) -> bool {
    matches!(e, Endpoint::Internet(_) | Endpoint::Address(_))
}

/// Runs a query against a model.
pub fn run(m: &Model, req: &Request) -> Result<Answer, QueryError> {
    run_indexed(m, &Index::new(m), req)
}

/// Runs a query with an index built once (for many queries over one model).
pub fn run_indexed(m: &Model, idx: &Index, req: &Request) -> Result<Answer, QueryError> {
    run_indexed_for(m, idx, req, None)
}

/// How a question is asked inside this module: whether to name every blocker (hypothetical
/// legs to hosts without an address, notes about the endpoints) and, when given, the packets
/// to send instead of the request's protocols and ports.
#[derive(Clone, Copy)]
struct Ask<'a> {
    explain: bool,
    packets: Option<&'a PacketSet>,
    /// Only the direct way to the destination hosts, not through load balancers.
    direct_only: bool,
}

/// [`run_indexed`] sending `packets` (protocols, ports; when given) instead of what the
/// request's protocols and ports say.
pub fn run_indexed_for(
    m: &Model,
    idx: &Index,
    req: &Request,
    packets: Option<&PacketSet>,
) -> Result<Answer, QueryError> {
    let src = resolve(m, idx, &req.from)?;
    let dst = resolve(m, idx, &req.to)?;
    if matches!((&src, &dst), (Endpoint::Internet(_), Endpoint::Internet(_))) {
        return Err(QueryError::Unsupported(format!(
            "`{}` and `{}` are both the internet: traffic between them does not cross the estate; ask about a resource, an address or a CIDR on one side",
            req.from, req.to
        )));
    }
    // A CIDR is any address in it. Where it spans addresses of different kinds (`0.0.0.0/0`,
    // `10.0.0.0/8` over a VPC and an office), each part is asked about apart: private
    // addresses interfaces hold send from those interfaces, other private addresses come from
    // on-premises, public ones from the internet; the answer is the first part's that gets
    // through.
    if let Endpoint::Address(ivs) = &src {
        let private = addresses_within(ivs, &walk::not_internet_routable());
        let public = addresses_within(ivs, &walk::internet_space());
        let all_vpcs = vpc_space(m, m.vpcs.keys().map(String::as_str));
        // (IPv6 blocks and public ranges used privately are held as well.)
        let in_vpcs = addresses_within(ivs, &all_vpcs);
        let public = addresses_within(&public, &complement(&all_vpcs));
        let held = idx
            .vpc_holders_any(&in_vpcs)
            .iter()
            .any(|h| !h.virtual_node);
        let outside = addresses_within(&private, &complement(&all_vpcs));
        // Addresses of a VPC that no interface holds send nothing: inside the VPC nothing has
        // them, and from outside (on-premises, the internet over IPv6, whose VPC blocks are
        // Amazon's or brought to it) a packet with such a source gets no reply, which the VPC
        // routes to itself (§3.1: the local route). A public IPv4 range a VPC uses privately
        // is still the internet's to every other VPC: asked about as before.
        let public_v4_in_vpcs = addresses_within(
            &addresses_within(&in_vpcs, &[packet::ALL_V4]),
            &walk::internet_space(),
        );
        if !held
            && !in_vpcs.is_empty()
            && public_v4_in_vpcs.is_empty()
            && packet::merge(ivs.clone()) == in_vpcs
        {
            let vpcs: Vec<&str> = m
                .vpcs
                .keys()
                .filter(|v| {
                    !addresses_within(&in_vpcs, &vpc_space(m, std::iter::once(v.as_str())))
                        .is_empty()
                })
                .map(String::as_str)
                .collect();
            return Err(QueryError::Unsupported(format!(
                "`{}` lies in the address space of {} and no network interface holds it, so nothing sends from it; name an ENI, an instance or an address an interface holds",
                req.from,
                vpcs.join(", ")
            )));
        }
        let mut parts: Vec<(&str, Vec<Interval>)> = Vec::new();
        if held {
            parts.push(("addresses interfaces hold", in_vpcs));
        }
        if !outside.is_empty() && !walk::onprem_entries(m).is_empty() {
            parts.push(("private addresses outside the VPCs (on-premises)", outside));
        }
        if !public.is_empty() {
            parts.push(("public addresses (the internet)", public));
        }
        if parts.len() > 1 {
            let mut answers = Vec::new();
            let mut first_error = None;
            for (what, part) in parts {
                match ask_from(m, idx, req, Endpoint::Address(part), dst.clone(), packets) {
                    Ok(a) => answers.push((what, a)),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            return match either_part(&req.from, answers) {
                Some(a) => Ok(a),
                None => Err(first_error.unwrap_or_else(|| {
                    QueryError::Unsupported(format!("`{}`: nothing to ask", req.from))
                })),
            };
        }
    }
    ask_from(m, idx, req, src, dst, packets)
}

/// The address space of the given VPCs (their CIDRs of both families), merged.
fn vpc_space<'a>(m: &Model, vpcs: impl Iterator<Item = &'a str>) -> Vec<Interval> {
    packet::merge(
        vpcs.flat_map(|v| {
            m.vpc_cidrs(v)
                .iter()
                .flat_map(net_intervals)
                .collect::<Vec<_>>()
        })
        .collect(),
    )
}

/// Every address (both families) outside `space`.
fn complement(space: &[Interval]) -> Vec<Interval> {
    PacketSet::from_box(PBox::FULL)
        .exclude(Dim::Dst, space)
        .project(Dim::Dst)
}

/// `space` (internet addresses) without the estate's own public IPv4 addresses (its
/// interfaces' public and Elastic IPs, its NAT gateways' Elastic IPs): packets sent to those
/// come back into the estate, which a question about reaching the internet is not about
/// (their blockers, a NAT gateway refusing inbound flows say, would only mislead).
fn outside_estate(m: &Model, idx: &Index, space: &[Interval]) -> Vec<Interval> {
    let own = estate_addresses(m, idx);
    if own.is_empty() {
        return space.to_vec();
    }
    PacketSet::from_box(PBox::FULL.with(Dim::Dst, packet::ALL_ADDRS))
        .restrict(Dim::Dst, space)
        .exclude(Dim::Dst, &own)
        .project(Dim::Dst)
}

/// The estate's own internet addresses, which no internet client holds (sorted, merged): its
/// public IPv4 addresses (interfaces' public and Elastic IPs, NAT gateways' Elastic IPs: an
/// Elastic IP is the account's until released, EC2 `AllocateAddress`; a public address is the
/// interface's while it holds it, §4.6) and its VPCs' IPv6 blocks (routed to the VPC, §4.4).
pub fn estate_addresses(m: &Model, idx: &Index) -> Vec<Interval> {
    let public_v4 = idx
        .public
        .keys()
        .copied()
        .chain(m.nat_gateways.values().flat_map(|n| {
            n.public_ips
                .iter()
                .map(|a| packet::encode(std::net::IpAddr::V4(*a)))
        }));
    let v6 = m.vpcs.values().flat_map(|v| {
        v.cidrs_v6
            .iter()
            .flat_map(|c| net_intervals(&IpNet::V6(*c)))
    });
    packet::merge(public_v4.map(|a| (a, a)).chain(v6).collect())
}

/// `set` without its boxes whose sources are all estate addresses (`own`, sorted and merged,
/// [`estate_addresses`]): what internet clients send (a box that also holds other sources is
/// kept whole; the verdict depends on those).
pub fn from_internet_clients(set: &PacketSet, own: &[Interval]) -> PacketSet {
    if own.is_empty() {
        return set.clone();
    }
    set.map_boxes(|b| {
        if packet::covered(b.get(Dim::Src), own) {
            Vec::new()
        } else {
            vec![*b]
        }
    })
}

/// The parts of `ivs` inside `space`.
fn addresses_within(ivs: &[Interval], space: &[Interval]) -> Vec<Interval> {
    packet::merge(
        ivs.iter()
            .flat_map(|iv| {
                PacketSet::from_box(PBox::FULL.with(Dim::Dst, *iv))
                    .restrict(Dim::Dst, space)
                    .project(Dim::Dst)
            })
            .collect(),
    )
}

/// The answer for a source of several parts: the first part's that gets through, else the
/// first `unknown`, else every part's blockers together.
fn either_part(from: &str, answers: Vec<(&str, Answer)>) -> Option<Answer> {
    let pick = answers
        .iter()
        .position(|(_, a)| a.verdict == Verdict::Reachable)
        .or_else(|| {
            answers
                .iter()
                .position(|(_, a)| a.verdict == Verdict::Unknown)
        });
    let asked = answers.len();
    let mut answers = answers.into_iter();
    let mut answer = match pick {
        Some(i) => {
            let (what, mut a) = answers.nth(i)?;
            if asked > 1 {
                push_once(
                    &mut a.notes,
                    format!("`{from}` spans addresses of different kinds, asked about apart: this is the answer for its {what}"),
                );
            }
            return Some(a);
        }
        None => answers.next()?.1,
    };
    for (_, other) in answers {
        for b in other.blocked_by {
            if !answer.blocked_by.contains(&b) {
                answer.blocked_by.push(b);
            }
        }
        for line in other.assumptions {
            push_once(&mut answer.assumptions, line);
        }
        for line in other.notes {
            push_once(&mut answer.notes, line);
        }
    }
    Some(answer)
}

/// [`run_indexed_for`] for a resolved source.
fn ask_from(
    m: &Model,
    idx: &Index,
    req: &Request,
    mut src: Endpoint,
    dst: Endpoint,
    packets: Option<&PacketSet>,
) -> Result<Answer, QueryError> {
    // A private CIDR as a source that interfaces hold addresses in sends from them (an outside
    // private address comes from on-premises only when no interface holds it).
    if let Endpoint::Address(ivs) = &src {
        let mut inside = walk::not_internet_routable();
        inside.extend(vpc_space(m, m.vpcs.keys().map(String::as_str)));
        let inside = packet::merge(inside);
        let private = ivs.iter().all(|iv| within(iv, &inside));
        let holders: Vec<String> = idx
            .vpc_holders_any(ivs)
            .into_iter()
            .filter(|h| !h.virtual_node)
            .map(|h| h.id.clone())
            .collect();
        if private && !holders.is_empty() {
            src = Endpoint::Hosts(holders, Some(ivs.clone()));
        }
    }
    // Interfaces that only forward what others send (NAT gateways, endpoints, transit gateway
    // attachments) open no connections: a subnet, VPC, group, tag or CIDR sends from its other
    // members; named alone, one is answered as if it did, and the answer says so.
    let mut forwarders_note: Option<String> = None;
    if let Endpoint::Hosts(ids, _) = &mut src {
        let forwards = |id: &String| idx.hosts.get(id).is_some_and(|h| h.kind.forwards_only());
        let (fwd, rest): (Vec<String>, Vec<String>) = ids.iter().cloned().partition(forwards);
        if !fwd.is_empty() {
            let names: Vec<&str> = fwd.iter().map(|id| idx.hosts[id].name.as_str()).collect();
            let named = crate::inventory::listed(&names);
            let kinds: BTreeSet<&str> = fwd
                .iter()
                .filter_map(|id| idx.hosts[id].kind.forwarder())
                .collect();
            let kinds = kinds.into_iter().collect::<Vec<_>>().join(", ");
            // (Agreement: "it forwards ... opens ... its own" or "they forward ... open ...".)
            let (it, s, its) = if fwd.len() == 1 {
                ("it", "s", "its")
            } else {
                ("they", "", "their")
            };
            let what = format!(
                "{it} only forward{s} what others send and open{s} no connections of {its} own"
            );
            forwarders_note = Some(if rest.is_empty() {
                if names_container(m, idx, &req.from) {
                    return Err(QueryError::Unsupported(format!(
                        "`{}` holds only interfaces that forward what others send ({named}: {kinds}), and none opens connections of its own; name one to ask as if it did",
                        req.from
                    )));
                }
                format!("{named} ({kinds}): {what}; answered as if {it} did")
            } else {
                *ids = rest;
                format!("left out as senders: {named} ({kinds}): {what}")
            });
        }
    }
    // A transit gateway attachment's or GWLB endpoint's interface hosts nothing: a VPC, subnet,
    // group, tag or CIDR as the destination is its other members (named alone, it is
    // `unknown`: `walk`).
    let mut dst = dst;
    if let Endpoint::Hosts(ids, _) = &mut dst {
        let hosts_something =
            |id: &String| idx.hosts.get(id).is_none_or(|h| !h.kind.hosts_nothing());
        if names_container(m, idx, &req.to) && ids.iter().any(hosts_something) {
            ids.retain(hosts_something);
        }
    }
    let ask = Ask {
        explain: true,
        packets,
        direct_only: false,
    };
    let mut answer = run_sources(m, idx, req, src, dst, ask)?;
    if let Some(note) = forwarders_note {
        answer.notes.push(note);
    }
    Ok(answer)
}

/// Whether an endpoint as written stands for what a container holds (a subnet, VPC, security
/// group, tag, CIDR, or the Name of one of them) rather than one resource named alone (an
/// instance, interface, gateway or endpoint id, one address, a Name of hosts).
fn names_container(m: &Model, idx: &Index, s: &str) -> bool {
    let s = s.trim();
    let alone = m.instances.contains_key(s)
        || idx.hosts.contains_key(s)
        || m.nat_gateways.contains_key(s)
        || m.vpc_endpoints.contains_key(s)
        || is_one_address(s)
        || !idx.hosts_named(m, s).is_empty();
    !alone
}

/// [`run_indexed`] once the endpoints are resolved.
fn run_sources(
    m: &Model,
    idx: &Index,
    req: &Request,
    src: Endpoint,
    dst: Endpoint,
    ask: Ask<'_>,
) -> Result<Answer, QueryError> {
    if let (Endpoint::Hosts(ids, Some(_)), true) = (&src, is_one_address(&req.from)) {
        if ids.len() > 1 {
            // One address in VPCs that are not peered with each other: which one sends?
            let which: Vec<String> = ids
                .iter()
                .filter_map(|id| idx.hosts.get(id))
                .map(|h| format!("{} ({} in {})", h.id, h.name, h.vpc_id))
                .collect();
            return Err(QueryError::Ambiguous(req.from.clone(), which.join(", ")));
        }
    }
    let lists = &idx.unknown_route_lists;
    if lists.is_empty() {
        return run_resolved(m, idx, req, src, dst, ask);
    }
    // Routes to prefix lists whose entries are not in the snapshot: the entries may or may not
    // cover the addresses asked about (the destination's; the source's, for its replies).
    // Answered both ways (the lists empty; the lists covering them): where the two differ, the
    // answer is `unknown`. A client named as `internet` or `onprem` is any of their addresses,
    // and some are not in the lists (which hold few): its space is not put in them, or every
    // reply would be in doubt. A list never covers the VPC whose tables route it (its local
    // route decides there) nor the estate's public addresses; AWS's service lists
    // (`com.amazonaws.<region>.s3`, ...) hold the services' public ranges only, while a
    // customer's list may well hold the VPCs behind a peering or transit gateway.
    let mut asked: Vec<Interval> = endpoint_addresses(&dst);
    for e in [&src, &dst] {
        match e {
            Endpoint::Address(a) => asked.extend(a.iter().copied()),
            Endpoint::Hosts(ids, fixed) => match fixed {
                Some(f) => asked.extend(f.iter().copied()),
                None => asked.extend(
                    ids.iter()
                        .filter_map(|id| idx.hosts.get(id))
                        .flat_map(|h| h.private.iter().copied()),
                ),
            },
            _ => {}
        }
    }
    let asked = packet::merge(asked);
    let all_vpcs = vpc_space(m, m.vpcs.keys().map(String::as_str));
    let own_public: Vec<Interval> = packet::merge(idx.public.keys().map(|p| (*p, *p)).collect());
    // (list → the addresses its hypothetical entries take)
    let mut covered: Vec<(&String, Vec<Interval>)> = Vec::new();
    for id in lists {
        let routing_vpcs: BTreeSet<&str> = m
            .route_tables
            .values()
            .filter(|rt| {
                rt.routes
                    .iter()
                    .any(|r| matches!(&r.destination, RouteDestination::PrefixList(pl) if pl == id))
            })
            .map(|rt| rt.vpc_id.as_str())
            .collect();
        let aws = m
            .prefix_lists
            .get(id)
            .is_some_and(|p| p.name.starts_with("com.amazonaws."));
        let mut excluded = vec![own_public.clone()];
        if aws {
            excluded.push(all_vpcs.clone());
            excluded.push(walk::not_internet_routable());
        } else {
            excluded.push(vpc_space(m, routing_vpcs.iter().copied()));
        }
        let mut part = asked.clone();
        for taken in excluded {
            part = addresses_within(&part, &complement(&taken));
        }
        // (A list of one address family holds entries of that family only.)
        if let Some(v4) = m.prefix_lists.get(id).and_then(|p| p.ipv4) {
            part.retain(|iv| packet::is_v4(iv.0) == v4);
        }
        if !part.is_empty() {
            covered.push((id, part));
        }
    }
    let empty = run_resolved(m, idx, req, src.clone(), dst.clone(), ask)?;
    if covered.is_empty() {
        return Ok(empty);
    }
    let mut covering = m.clone();
    let mut nets: Vec<IpNet> = Vec::new();
    for (id, part) in &covered {
        let list_nets: Vec<IpNet> = part
            .iter()
            .flat_map(|iv| packet::interval_nets(*iv))
            .collect();
        for n in &list_nets {
            if !nets.contains(n) {
                nets.push(*n);
            }
        }
        let list = covering
            .prefix_lists
            .entry((*id).clone())
            .or_insert_with(|| PrefixList {
                id: (*id).clone(),
                ..PrefixList::default()
            });
        list.cidrs = list_nets;
        list.entries_known = true;
        list.assumed = true;
    }
    let covering_idx = Index::new(&covering);
    let other = run_resolved(&covering, &covering_idx, req, src, dst, ask)?;
    if other.verdict == empty.verdict {
        return Ok(empty);
    }
    let mut answer = empty;
    let was = answer.verdict;
    answer.verdict = Verdict::Unknown;
    if was == Verdict::Reachable {
        answer.paths.clear();
        answer.traffic.clear();
        answer.source_ports.clear();
        answer.client = PacketSet::empty();
        answer.reached.clear();
        answer.notes.clear();
    }
    let lists: Vec<&str> = covered.iter().map(|(id, _)| id.as_str()).collect();
    let (s, it) = if lists.len() == 1 {
        ("", "it")
    } else {
        ("s", "they")
    };
    let shown: Vec<String> = nets.iter().take(3).map(ToString::to_string).collect();
    let more = match nets.len().saturating_sub(3) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    answer.assumptions.push(format!(
        "not modelled: route tables route prefix list{s} {} whose entries are not in the snapshot (collect them with `aws ec2 get-managed-prefix-list-entries`): if {it} did not cover {}{more}, the answer would be {}; if {it} did, {}",
        lists.join(", "),
        shown.join(", "),
        was.as_str(),
        other.verdict.as_str()
    ));
    Ok(answer)
}

/// The addresses an endpoint names outright (none for hosts and load balancers: their
/// addresses are the estate's).
fn endpoint_addresses(e: &Endpoint) -> Vec<Interval> {
    match e {
        Endpoint::Internet(a) | Endpoint::Address(a) | Endpoint::Onprem(_, a) => a.clone(),
        Endpoint::Hosts(..) | Endpoint::LoadBalancers(_) | Endpoint::Gateway(_) => Vec::new(),
    }
}

/// Runs a query from `req.from` to a set of hosts at once (the exposure report asks one
/// question per source instead of one per destination); `req.to` is only a label.
pub fn run_to_hosts(
    m: &Model,
    idx: &Index,
    req: &Request,
    hosts: Vec<String>,
) -> Result<Answer, QueryError> {
    let src = resolve(m, idx, &req.from)?;
    // Only real paths: no hypothetical legs to name the blockers of hosts without an address.
    let ask = Ask {
        explain: false,
        packets: None,
        direct_only: false,
    };
    run_resolved(m, idx, req, src, Endpoint::Hosts(hosts, None), ask)
}

/// Why `packets` from `req.from` do not reach `hosts` directly today (not through load
/// balancers): the single question with every blocker named (hypothetical legs to hosts
/// without an address included), for the report's latent exposures (their entry is `direct`).
pub fn explain_to_hosts(
    m: &Model,
    idx: &Index,
    req: &Request,
    hosts: Vec<String>,
    packets: &PacketSet,
) -> Result<Answer, QueryError> {
    let src = resolve(m, idx, &req.from)?;
    let ask = Ask {
        explain: true,
        packets: Some(packets),
        direct_only: true,
    };
    run_resolved(m, idx, req, src, Endpoint::Hosts(hosts, None), ask)
}

/// Whether a source address is one on-premises holds: inside a VPN connection's static routes,
/// the routes a virtual private gateway propagated, or a transit gateway's routes to
/// on-premises (not a default route, which says where the rest goes, not what on-premises
/// holds).
fn onprem_held(m: &Model, src: &Endpoint) -> bool {
    let Endpoint::Address(ivs) = src else {
        return false;
    };
    let whole_family = |iv: &Interval| {
        (iv.0 <= packet::ALL_V4.0 && packet::ALL_V4.1 <= iv.1)
            || packet::v6_intervals()
                .iter()
                .any(|v6| iv.0 <= v6.0 && v6.1 <= iv.1)
    };
    // Also what a virtual private gateway propagated into the VPCs' route tables: what
    // on-premises announces over BGP, and the VPN connections' static routes (Site-to-Site
    // VPN guide, "Static and dynamic routing", "Route tables and VPN route priority").
    let propagated = m.route_tables.values().flat_map(|rt| {
        rt.routes.iter().filter(|r| {
            r.active
                && r.origin == RouteOrigin::Propagated
                && matches!(&r.target, RouteTarget::VpnGateway(v) if m.vpn_gateways.contains_key(v))
        })
    });
    let held: Vec<Interval> = walk::onprem_entries(m)
        .iter()
        .flat_map(|e| walk::onprem_entry_space(m, e))
        .chain(propagated.flat_map(|r| {
            match &r.destination {
                RouteDestination::Cidr(c) => packet::net_intervals(c),
                RouteDestination::PrefixList(pl) => m
                    .prefix_lists
                    .get(pl)
                    .into_iter()
                    .flat_map(|p| p.cidrs.iter().flat_map(packet::net_intervals))
                    .collect(),
            }
        }))
        .filter(|iv| !whole_family(iv))
        .collect();
    let held = packet::merge(held);
    !held.is_empty() && ivs.iter().all(|iv| within(iv, &held))
}

/// [`run_resolved_as`]; a public source address on-premises holds (§6.3) is asked about as an
/// on-premises client first (the VPCs route it there, so that is where replies go) and, when
/// that does not get through, as an internet client (the range may be announced there too).
fn run_resolved(
    m: &Model,
    idx: &Index,
    req: &Request,
    src: Endpoint,
    dst: Endpoint,
    ask: Ask<'_>,
) -> Result<Answer, QueryError> {
    if !onprem_held(m, &src) {
        return run_resolved_as(m, idx, req, src, dst, ask, false);
    }
    let onprem = run_resolved_as(m, idx, req, src.clone(), dst.clone(), ask, true)?;
    if onprem.verdict == Verdict::Reachable {
        return Ok(onprem);
    }
    let internet = run_resolved_as(m, idx, req, src, dst, ask, false)?;
    Ok(match internet.verdict {
        Verdict::Unreachable => onprem,
        _ => internet,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_resolved_as(
    m: &Model,
    idx: &Index,
    req: &Request,
    src: Endpoint,
    dst: Endpoint,
    ask: Ask<'_>,
    as_onprem: bool,
) -> Result<Answer, QueryError> {
    let explain = ask.explain;
    // Instances that do not run now are analysed as configured: the answer says so.
    let not_running: Vec<String> = if explain {
        not_running(m, idx, [&src, &dst])
    } else {
        Vec::new()
    };
    let base = ask.packets.cloned().unwrap_or_else(|| req.base_set());
    let target_ports: Vec<Interval> = req
        .ports
        .map(|(a, b)| vec![(a as u128, b as u128)])
        .unwrap_or_default();
    let from_outside = is_external_source(&src) || matches!(src, Endpoint::Onprem(..));
    let onprem_held = as_onprem && onprem_held(m, &src);
    let internet_source = match &src {
        Endpoint::Internet(_) => true,
        Endpoint::Address(ivs) => {
            !onprem_held
                && ivs
                    .iter()
                    .all(|iv| !within(iv, &walk::not_internet_routable()))
        }
        _ => false,
    };

    // Destination: goal and the legs to start (destination addresses + optional listener entry).
    // A query from or to one internet gateway: the internet by that gateway only.
    let internet_gateway = |e: &str| {
        let e = e.trim();
        (m.internet_gateways.contains_key(e) || m.egress_only_internet_gateways.contains_key(e))
            .then(|| e.to_string())
    };
    let mut goal = Goal {
        target_ports: target_ports.clone(),
        exit_gateway: internet_gateway(&req.to),
        entry_gateway: internet_gateway(&req.from),
        ..Goal::default()
    };
    // (destination addresses, entry listener, hosts to enter directly from the internet)
    let mut legs: Vec<Leg> = Vec::new();
    let mut pre_blocks: Vec<Outcome> = Vec::new();
    // Defaults taken for the load balancers on the way.
    let mut lb_assumptions: Vec<String> = Vec::new();
    match &dst {
        Endpoint::Gateway(id) => {
            goal.gateways.insert(id.clone());
            legs.push(Leg::addresses(vec![packet::ALL_ADDRS]));
        }
        Endpoint::Internet(space) => {
            goal.external = true;
            goal.exit = Some(walk::Exit::Internet);
            legs.push(Leg::addresses(outside_estate(m, idx, space)));
        }
        Endpoint::Address(ivs) => {
            goal.external = true;
            // The interfaces whose private addresses, or public ones (§8), are inside (a transit
            // gateway attachment's or GWLB endpoint's only when its address is asked for alone:
            // it hosts nothing).
            let one = is_one_address(&req.to);
            let inside = |p: &Interval| ivs.iter().any(|i| i.0 <= p.0 && p.1 <= i.1);
            for h in idx
                .hosts
                .values()
                .filter(|h| one || !h.kind.hosts_nothing())
            {
                let held = if h.virtual_node {
                    // A load-balancer node known only from its load balancer holds one address
                    // of each family in what it stands for (its listed address, or its subnet's
                    // free range, §5): inside when all of one family is.
                    [true, false].iter().any(|&v4| {
                        let mut of = h.private.iter().filter(|p| packet::is_v4(p.0) == v4);
                        of.clone().next().is_some() && of.all(inside)
                    })
                } else {
                    h.private.iter().any(inside)
                };
                if held
                    || h.public_v4
                        .iter()
                        .any(|(p, _)| ivs.iter().any(|i| i.0 <= *p && *p <= i.1))
                {
                    std::sync::Arc::make_mut(&mut goal.hosts).insert(h.id.clone());
                } else if h.virtual_node && within_any(&h.private, ivs) {
                    // Part of its range only: whether the node's address is asked about is not
                    // known.
                    let lb = h
                        .owner_id
                        .as_ref()
                        .and_then(|a| m.load_balancers.get(a))
                        .map_or(h.name.as_str(), |lb| lb.name.as_str());
                    pre_blocks.push(Outcome {
                        hops: Vec::new(),
                        blocks: Vec::new(),
                        ending: Ending::Unknown(format!(
                            "{lb}'s node in {} (its interface is not in the snapshot, nor its address) holds one address of the subnet that no interface holds: whether it is {} is not known",
                            h.subnet_id,
                            req.to.trim()
                        )),
                        set: base.clone(),
                        client_ports: None,
                        entry: None,
                        assumptions: Vec::new(),
                        lb_clients: None,
                    });
                }
            }
            legs.push(Leg::addresses(ivs.clone()));
            // §5: the interfaces of a range are reached through the load balancers
            // forwarding to them too (a single address an interface holds is asked as that
            // interface, above in `resolve`).
            if !ask.direct_only && !goal.hosts.is_empty() {
                let through: BTreeSet<&str> = goal
                    .hosts
                    .iter()
                    .filter_map(|h| idx.forwarding.get(h.as_str()))
                    .flatten()
                    .map(String::as_str)
                    .collect();
                legs.extend(legs_through(m, idx, internet_source, |l| {
                    through.contains(l.arn.as_str())
                }));
                let lbs: BTreeSet<&str> = through
                    .iter()
                    .filter_map(|arn| m.listeners.get(*arn))
                    .map(|l| l.lb_arn.as_str())
                    .collect();
                // (As for a host: a Classic Load Balancer's cross-zone default is said.)
                for lb in lbs.iter().filter_map(|arn| m.load_balancers.get(*arn)) {
                    if !internet_source || lb.internet_facing {
                        note_classic_cross_zone(lb, &mut lb_assumptions);
                    }
                }
                legs.extend(legs_to_albs(m, idx, &lbs, internet_source));
            }
            // §5.1: an `ip` target at the one address asked for, which no interface of the
            // snapshot holds (on-premises, behind a VPN or Direct Connect; or an address
            // nothing uses), is reached through the load balancers forwarding to it (for a
            // single address only: see `Goal::outside_targets`).
            if one {
                legs.extend(legs_through_listeners(m, idx, internet_source, |tg| {
                    tg.target_type == TargetType::Ip
                        && tg
                            .targets
                            .iter()
                            .filter_map(|x| x.id.parse::<IpAddr>().ok())
                            .map(packet::addr_interval)
                            .any(|a| within(&a, ivs) && idx.holder_of(None, a).is_none())
                }));
                goal.outside_targets = ivs.clone();
            }
        }
        Endpoint::Onprem(entries, _) => {
            goal.external = true;
            goal.exit = Some(walk::Exit::Onprem);
            // Where on-premises is: the routes its entries name, or (when one names none)
            // anything; never the estate's own VPCs (a transit gateway's default route to
            // a VPN names them too).
            let spaces: Vec<Vec<Interval>> = entries
                .iter()
                .map(|e| walk::onprem_entry_space(m, e))
                .collect();
            let mut outside = PacketSet::from_box(PBox::FULL);
            if spaces.iter().all(|s| s.as_slice() != [packet::ALL_ADDRS]) {
                outside = outside.restrict(
                    Dim::Dst,
                    &packet::merge(spaces.into_iter().flatten().collect()),
                );
            }
            let vpcs: Vec<Interval> = m
                .vpcs
                .keys()
                .flat_map(|vpc| {
                    m.vpc_cidrs(vpc)
                        .iter()
                        .flat_map(net_intervals)
                        .collect::<Vec<_>>()
                })
                .collect();
            let mut vpcs = vpcs;
            // Nor the link-local addresses of Amazon's services (IMDS, DNS, time sync).
            vpcs.extend(
                ["169.254.0.0/16", "fe80::/10", "fd00:ec2::/64"]
                    .iter()
                    .flat_map(|n| net_intervals(&n.parse().expect("literal prefix"))),
            );
            let vpcs = packet::merge(vpcs);
            let mut routes = outside.exclude(Dim::Dst, &vpcs).project(Dim::Dst);
            if routes.is_empty() {
                // Routes that name only the estate's own addresses say nothing of where
                // on-premises is.
                routes = PacketSet::from_box(PBox::FULL)
                    .exclude(Dim::Dst, &vpcs)
                    .project(Dim::Dst);
            }
            legs.push(Leg::addresses(routes));
        }
        Endpoint::Hosts(hosts, fixed) => {
            for hid in hosts {
                std::sync::Arc::make_mut(&mut goal.hosts).insert(hid.clone());
                let h = &idx.hosts[hid];
                let addrs: Vec<Interval> = match fixed {
                    Some(f) => {
                        // An explicit public address is reached from outside the VPC only.
                        f.clone()
                    }
                    None if internet_source => {
                        let mut a: Vec<Interval> =
                            h.public_v4.iter().map(|(p, _)| (*p, *p)).collect();
                        a.extend(h.private.iter().copied().filter(|p| !packet::is_v4(p.0)));
                        // §4.1 step 2: no public IPv4 address for its private ones (IPv6
                        // ones are public): nothing to address them by from the internet.
                        // Name what else blocks (and not a family mismatch when only IPv4
                        // is asked about and the host has IPv6 addresses as well).
                        let private_v4: Vec<Interval> = h
                            .private
                            .iter()
                            .copied()
                            .filter(|p| packet::is_v4(p.0))
                            .collect();
                        if h.public_v4.is_empty() && !private_v4.is_empty() && explain {
                            let has_v6 = a.iter().any(|p| !packet::is_v4(p.0));
                            legs.push(Leg {
                                addrs: private_v4,
                                entry: None,
                                direct_host: Some(hid.clone()),
                                pre_block: Some(Block {
                                    component: hid.clone(),
                                    code: "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS",
                                    detail: if has_v6 {
                                        format!("{} has no public IPv4 address, so the internet cannot address it over IPv4", h.name)
                                    } else {
                                        format!("{} has no public IPv4 or IPv6 address, so the internet cannot address it", h.name)
                                    },
                                }),
                            });
                        }
                        a
                    }
                    None => {
                        let mut a = h.private.clone();
                        a.extend(h.public_v4.iter().map(|(p, _)| (*p, *p)));
                        a
                    }
                };
                if !addrs.is_empty() {
                    legs.push(Leg::addresses(addrs));
                }
                // Entry through load balancers that forward to this host (§5).
                for l in idx
                    .forwarding
                    .get(hid.as_str())
                    .into_iter()
                    .flatten()
                    .filter(|_| !ask.direct_only)
                    .filter_map(|arn| m.listeners.get(arn))
                {
                    let Some(lb) = m.load_balancers.get(&l.lb_arn) else {
                        continue;
                    };
                    if internet_source && !lb.internet_facing {
                        continue;
                    }
                    note_classic_cross_zone(lb, &mut lb_assumptions);
                    let mut through = lb_legs(m, idx, lb, Some((l, h)), internet_source);
                    // A listener that forwards to this host at none of the ports asked for
                    // cannot complete the flow, whatever happens on the way to its nodes: the
                    // leg is walked only to name what else blocks it.
                    let ports = idx
                        .forwarded_ports
                        .get(&(hid.clone(), l.arn.clone()))
                        .map_or(&[][..], Vec::as_slice);
                    if !target_ports.is_empty()
                        && !ports.is_empty()
                        && !ports.iter().any(|&p| {
                            target_ports
                                .iter()
                                .any(|r| r.0 <= p as u128 && p as u128 <= r.1)
                        })
                    {
                        let at: Vec<String> = ports.iter().map(u16::to_string).collect();
                        for leg in &mut through {
                            leg.pre_block = Some(Block {
                                component: lb.arn.clone(),
                                code: "ELB_TARGET_NOT_FORWARDED",
                                detail: format!(
                                    "{} forwards to {} on port {}, not the port asked for",
                                    lb.name,
                                    h.name,
                                    at.join(", ")
                                ),
                            });
                        }
                    }
                    legs.extend(through);
                }
                // Network Load Balancers whose target is an ALB forwarding to this host: the
                // walk answers `unknown` there (not modelled).
                let albs: BTreeSet<&str> = idx
                    .forwarding
                    .get(hid.as_str())
                    .into_iter()
                    .flatten()
                    .filter_map(|arn| m.listeners.get(arn))
                    .map(|l| l.lb_arn.as_str())
                    .collect();
                if !ask.direct_only {
                    legs.extend(legs_to_albs(m, idx, &albs, internet_source));
                }
            }
        }
        Endpoint::LoadBalancers(arns) => {
            for arn in arns {
                let lb = &m.load_balancers[arn];
                goal.load_balancers.insert(arn.clone());
                legs.extend(legs_to_albs(
                    m,
                    idx,
                    &BTreeSet::from([arn.as_str()]),
                    internet_source,
                ));
                if internet_source && !lb.internet_facing {
                    pre_blocks.push(Outcome {
                        hops: Vec::new(),
                        blocks: vec![Block {
                            component: arn.clone(),
                            code: "ELB_INTERNAL_SCHEME",
                            detail: format!(
                                "{} is an internal load balancer: it has no public address",
                                lb.name
                            ),
                        }],
                        ending: Ending::Blocked,
                        set: base.clone(),
                        client_ports: None,
                        entry: None,
                        assumptions: Vec::new(),
                        lb_clients: None,
                    });
                    continue;
                }
                note_classic_cross_zone(lb, &mut lb_assumptions);
                let mut through = lb_legs(m, idx, lb, None, internet_source);
                // No listener takes the traffic: the flow cannot complete, whatever happens on
                // the way to the nodes (the legs are walked only to name what else blocks).
                let accepted = m
                    .listeners
                    .values()
                    .filter(|l| l.lb_arn == lb.arn)
                    .fold(PacketSet::empty(), |a, l| a.union(&walk::listener_set(l)));
                if !base.meets(&accepted) {
                    for leg in &mut through {
                        leg.pre_block = Some(Block {
                            component: arn.clone(),
                            code: "ELBV2_LISTENERS_MISMATCH",
                            detail: walk::no_listener(m, lb),
                        });
                    }
                }
                legs.extend(through);
            }
        }
    }

    // Legs that differ only by destination addresses are walked together: one walk reaches
    // many hosts, and one walk per listener reaches every target it forwards to (a listener's
    // leg is added once per target otherwise).
    let mut merged: Vec<Leg> = Vec::new();
    for leg in legs {
        match merged.iter_mut().find(|m| {
            m.pre_block.is_none()
                && leg.pre_block.is_none()
                && m.entry == leg.entry
                && m.direct_host == leg.direct_host
        }) {
            Some(m) => {
                m.addrs.extend(leg.addrs);
                m.addrs = packet::merge(std::mem::take(&mut m.addrs));
            }
            None => merged.push(leg),
        }
    }
    let legs = merged;
    // Load balancers whose addresses share no family with the source (an IPv6 client and a
    // load balancer that is not dualstack): named if that is all that stops the flow.
    let mut lbs_of_other_family: Vec<&LoadBalancer> = Vec::new();
    for leg in &legs {
        let Some(lb) = leg
            .entry
            .as_ref()
            .and_then(|e| m.listeners.get(e))
            .and_then(|l| m.load_balancers.get(&l.lb_arn))
        else {
            continue;
        };
        let set = match &src {
            Endpoint::Internet(space) | Endpoint::Address(space) => {
                base.clone().restrict(Dim::Src, space)
            }
            _ => continue,
        }
        .restrict(Dim::Dst, &leg.addrs);
        if !set.is_empty()
            && packet::same_family(set).is_empty()
            && !lbs_of_other_family.iter().any(|x| x.arn == lb.arn)
        {
            lbs_of_other_family.push(lb);
        }
    }
    let mut outcomes: Vec<Outcome> = pre_blocks;
    // Whether some start held packets of one family, and whether one lost all its packets
    // only because source and destination are of different families (IPv4 to IPv6).
    let (mut started, mut families_differ) = (false, false);
    // `--protocol icmp` asks for ping and its kin in the family of the addresses: ICMP (1)
    // carries them over IPv4 and ICMPv6 (58) over IPv6. Protocol 1 inside IPv6 packets
    // (which a security-group rule `icmp` with an IPv6 range admits) is not what anyone
    // means by it, nor ICMPv6 over IPv4.
    let icmp_by_family = req
        .protocols
        .as_ref()
        .is_some_and(|ps| ps.contains(&Protocol::ICMP) && ps.contains(&Protocol::ICMPV6));
    let mut same_family = |set: PacketSet| {
        let mut kept = packet::same_family(set.clone());
        if icmp_by_family {
            kept = packet::icmp_in_its_family(kept);
        }
        started |= !kept.is_empty();
        families_differ |= kept.is_empty() && !set.is_empty();
        kept
    };
    for leg in legs {
        let mut goal = goal.clone();
        if leg.entry.is_none() {
            // A direct leg: the requested port is the destination's own port.
            goal.target_ports = Vec::new();
        }
        let mut set = base.clone().restrict(Dim::Dst, &leg.addrs);
        if let Some(entry) = &leg.entry {
            // A load-balancer leg: the listener decides the first port; --port applies to the
            // target. Only what the listener takes is sent (the other ports would be named as
            // meeting no listener, which the question did not ask about), unless it takes none
            // of it (then that is the answer).
            set = set.rewrite(Dim::DstPort, (0, 65535));
            if let Some(l) = m.listeners.get(entry) {
                let taken = set.intersect(&walk::listener_set(l));
                if !taken.is_empty() {
                    set = taken;
                }
            }
        }
        let mut w = Walker::new(m, idx, goal);
        match &src {
            Endpoint::Internet(space) | Endpoint::Address(space) if from_outside => {
                let set = set.restrict(Dim::Src, space);
                let set = same_family(set);
                if !internet_source {
                    // A private outside address: comes from on-premises.
                    let entries = walk::onprem_entries(m);
                    for e in &entries {
                        w.from_onprem(e, set.clone(), leg.entry.clone(), leg.pre_block.clone());
                    }
                    if entries.is_empty() {
                        return Err(QueryError::Unsupported(format!("`{}` is a private address held by no network interface and there is no VPN gateway or transit gateway VPN or Direct Connect attachment to bring it in; use an ENI, `internet` or `onprem`", req.from)));
                    }
                } else if let Some(hid) = &leg.direct_host {
                    w.from_internet_to_host(hid, set, leg.pre_block.clone(), leg.entry.clone());
                } else {
                    w.from_internet_entry(set, leg.entry.clone(), leg.pre_block.clone());
                }
            }
            Endpoint::Onprem(entries, space) => {
                for e in entries {
                    let s = same_family(
                        set.restrict(Dim::Src, space)
                            .restrict(Dim::Src, &walk::onprem_entry_space(m, e)),
                    );
                    w.from_onprem(e, s, leg.entry.clone(), leg.pre_block.clone());
                }
            }
            Endpoint::Hosts(hosts, fixed) => {
                // An instance sends from its primary interface (eth0); a subnet, VPC or
                // security group from each interface in it (a secondary interface is a member
                // in its own right).
                let from = req.from.trim();
                let members = m.subnets.contains_key(from)
                    || m.vpcs.contains_key(from)
                    || m.security_groups.contains_key(from);
                let eth0 = |id: &str| {
                    m.network_interfaces
                        .get(id)
                        .is_none_or(|e| e.device_index.unwrap_or(0) == 0)
                };
                let chosen = hosts.iter().filter(|hid| {
                    members
                        || hosts.len() == 1
                        || eth0(hid)
                        || !idx.hosts[*hid]
                            .owner_id
                            .as_ref()
                            .and_then(|o| m.instances.get(o))
                            .is_some_and(|i| {
                                i.eni_ids
                                    .iter()
                                    .any(|e| e != *hid && hosts.contains(e) && eth0(e))
                            })
                });
                for hid in chosen {
                    let h = &idx.hosts[hid];
                    // Addresses named: the private ones the interface holds, and the private
                    // address each named public one maps to (§8: an Elastic IP delivers to,
                    // and is the source of, its own private address).
                    let named: Vec<Interval> = fixed
                        .iter()
                        .flatten()
                        .flat_map(|iv| {
                            let own = h
                                .private
                                .iter()
                                .filter(|p| p.0 <= iv.1 && iv.0 <= p.1)
                                .map(|p| (p.0.max(iv.0), p.1.min(iv.1)));
                            let mapped = h
                                .public_v4
                                .iter()
                                .filter(|(public, _)| iv.0 <= *public && *public <= iv.1)
                                .map(|(_, private)| (*private, *private));
                            own.into_iter().chain(mapped)
                        })
                        .collect();
                    // Every address it holds sends (EC2 User Guide, "Multiple IP addresses":
                    // secondary addresses and delegated prefixes are the interface's, as
                    // containers behind it use them), unless some are named.
                    let addrs = if named.is_empty() {
                        h.private.clone()
                    } else {
                        packet::merge(named)
                    };
                    let s = same_family(set.restrict(Dim::Src, &addrs));
                    w.from_host_entry(hid, s, leg.entry.clone(), leg.pre_block.clone());
                }
            }
            Endpoint::LoadBalancers(arns) => {
                for arn in arns {
                    for h in idx.lb_hosts(arn) {
                        let s = same_family(set.restrict(Dim::Src, &h.private));
                        w.from_host_entry(&h.id, s, leg.entry.clone(), leg.pre_block.clone());
                    }
                }
            }
            Endpoint::Gateway(id) => {
                if m.vpc_endpoints.contains_key(id) {
                    return Err(QueryError::Unsupported(format!("`{id}` is a gateway endpoint: it carries connections to its service and opens none of its own; ask about it as a destination")));
                }
                return Err(QueryError::Unsupported(format!("`{id}` as a source is not supported: ask about what comes out of a peering connection or transit gateway by its addresses (a CIDR of the network behind it), `onprem`, or a resource there")));
            }
            Endpoint::Internet(_) | Endpoint::Address(_) => unreachable!("handled above"),
        }
        outcomes.extend(w.outcomes);
    }
    // The internet's clients do not hold the estate's own addresses: what only those get
    // through (a rule admitting the estate's NAT gateway's Elastic IP) is not the internet's
    // (the estate's hosts reach it themselves, a query from them says so). The blockers of
    // the other clients stand.
    if matches!(src, Endpoint::Internet(_)) {
        let own = estate_addresses(m, idx);
        for o in outcomes.iter_mut() {
            if matches!(o.ending, Ending::Blocked) {
                continue;
            }
            let clients = match &o.lb_clients {
                Some(clients) => clients.clone(),
                None => o.set.project(Dim::Src),
            };
            let only_estate = match &o.lb_clients {
                Some(clients) => clients.iter().all(|c| packet::covered(*c, &own)),
                None => {
                    let kept = from_internet_clients(&o.set, &own);
                    let none = kept.is_empty();
                    if !none {
                        o.set = kept;
                    }
                    none
                }
            };
            if only_estate {
                let component = o
                    .hops
                    .last()
                    .map(|h| h.component.clone())
                    .unwrap_or_default();
                o.blocks.push(Block {
                    component,
                    code: "ESTATE_ADDRESSES_ONLY",
                    detail: format!(
                        "only the estate's own addresses get through ({}), which no internet client holds: an Elastic IP or public address is the account's, a VPC's IPv6 block is routed to the VPC (ask from the estate's hosts instead)",
                        walk::describe_addrs(&clients)
                    ),
                });
                o.ending = Ending::Blocked;
            }
        }
    }
    let mut answer = assemble(m, req, outcomes);
    // §0: a packet's source and destination are of one family; nothing here is (the load
    // balancers on the way named, when theirs is the other family).
    let unmatched_families = explain && families_differ && !started;
    if unmatched_families && answer.blocked_by.is_empty() {
        for lb in &lbs_of_other_family {
            answer.blocked_by.push(Block {
                component: lb.arn.clone(),
                code: "ADDRESS_FAMILY_MISMATCH",
                detail: format!(
                    "{} leads to {} and has no address of {}'s family ({}): no packet can go from one to the other",
                    lb.name,
                    req.to,
                    req.from,
                    if lb.dualstack { "it is dualstack, but its IPv4 addresses are private" } else { "IpAddressType ipv4: not dualstack" }
                ),
            });
        }
    }
    if unmatched_families && answer.blocked_by.is_empty() {
        answer.blocked_by.push(Block {
            component: req.to.clone(),
            code: "ADDRESS_FAMILY_MISMATCH",
            detail: format!(
                "{} and {} have no address family in common (IPv4 to IPv4, IPv6 to IPv6): no packet can go from one to the other",
                req.from, req.to
            ),
        });
    }
    answer.assumptions.extend(not_running);
    if explain {
        for (named, e) in [(&req.from, &src), (&req.to, &dst)] {
            answer.assumptions.extend(several_named(m, idx, named, e));
        }
        if onprem_held {
            answer.assumptions.push(format!("{} is in the routes to on-premises (a VPN connection's static routes, a virtual private gateway's propagated routes, or a transit gateway's): taken as an on-premises client; `--from internet` gives the internet's view", req.from));
        }
        answer.assumptions.extend(tunnels_down(m, &answer.paths));
        answer.assumptions.extend(lb_assumptions);
    }
    Ok(answer)
}

/// Adds a line to a list of remarks unless it is there already.
fn push_once(out: &mut Vec<String>, line: String) {
    if !out.contains(&line) {
        out.push(line);
    }
}

/// Says, once per load balancer, that a Classic Load Balancer without its attributes in the
/// snapshot is taken to balance across zones (the console's default; the API's is off).
fn note_classic_cross_zone(lb: &LoadBalancer, out: &mut Vec<String>) {
    if lb.kind == LbKind::Classic
        && !lb
            .attributes
            .contains_key("load_balancing.cross_zone.enabled")
    {
        let line = format!(
            "{}: cross-zone load balancing taken as on (the snapshot has no describe-load-balancer-attributes for it; the console's default, the API's is off)",
            lb.name
        );
        push_once(out, line);
    }
}

/// Says that a name (a `Name` tag, an owner name) stands for several instances or other
/// owners: the answer is for any of them.
fn several_named(m: &Model, idx: &Index, named: &str, e: &Endpoint) -> Option<String> {
    let Endpoint::Hosts(ids, None) = e else {
        return None;
    };
    let named = named.trim();
    let by_id = m.instances.contains_key(named)
        || idx.hosts.contains_key(named)
        || m.subnets.contains_key(named)
        || m.vpcs.contains_key(named)
        || m.security_groups.contains_key(named)
        || m.nat_gateways.contains_key(named)
        || m.vpc_endpoints.contains_key(named)
        || named.starts_with("tag:");
    if by_id {
        return None;
    }
    let mut owners: Vec<&str> = ids
        .iter()
        .filter_map(|id| idx.hosts.get(id))
        .map(|h| h.owner_id.as_deref().unwrap_or(h.id.as_str()))
        .collect();
    owners.sort_unstable();
    owners.dedup();
    (owners.len() > 1).then(|| {
        format!("`{named}` names {} resources ({}): the answer is for any of them; name one by id to ask about it alone", owners.len(), crate::inventory::listed(&owners))
    })
}

/// Says, once per VPN connection, that a path goes through one whose tunnels were all down
/// when the snapshot was taken: the answer is about its configuration.
fn tunnels_down(m: &Model, paths: &[PathOut]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for hop in paths.iter().flat_map(|p| &p.hops) {
        let c = hop.component.as_str();
        let vpn_of_attachment = m
            .tgw_attachments
            .values()
            .find(|a| a.id == c && a.kind == TgwAttachmentKind::Vpn)
            .map(|a| a.resource_id.as_str());
        let on_hop: Vec<&VpnConnection> = m
            .vpn_connections
            .values()
            .filter(|v| v.vpn_gateway_id.as_deref() == Some(c) || vpn_of_attachment == Some(&v.id))
            .collect();
        // (With another connection up on the same gateway, the traffic may take that one.)
        if !on_hop.iter().all(|v| v.tunnels_down) {
            continue;
        }
        for v in on_hop {
            let line = format!(
                "{}: every tunnel was DOWN when the snapshot was taken; the answer is about the configuration, which applies once a tunnel is up",
                v.id
            );
            push_once(&mut out, line);
        }
    }
    out
}

/// What to say of the instances among `endpoints` that do not run now (stopped, stopping,
/// pending), and of the interfaces attached to nothing: the answer is about their
/// configuration, which applies once they run (or are attached).
fn not_running(m: &Model, idx: &Index, endpoints: [&Endpoint; 2]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ids in endpoints.into_iter().filter_map(|e| match e {
        Endpoint::Hosts(ids, _) => Some(ids),
        _ => None,
    }) {
        for h in ids.iter().filter_map(|id| idx.hosts.get(id)) {
            // An interface attached to nothing (`Status: available`) is analysed as configured
            // too: it answers nothing until attached.
            if let Some(eni) = m
                .network_interfaces
                .get(&h.id)
                .filter(|e| e.owner.kind == OwnerKind::Unattached)
            {
                let line = format!(
                    "{} is attached to nothing: the answer is about its configuration, which applies once it is attached",
                    eni.id
                );
                push_once(&mut out, line);
                continue;
            }
            let Some(i) = h.owner_id.as_deref().and_then(|i| m.instances.get(i)) else {
                continue;
            };
            if let Some(state) = i.not_running() {
                let line = format!(
                    "{} is {state}: the answer is about its configuration, which applies once it runs",
                    i.id
                );
                push_once(&mut out, line);
            }
        }
    }
    out
}

/// A start of the walk: destination addresses, optionally through a listener.
#[derive(Debug, Clone)]
struct Leg {
    addrs: Vec<Interval>,
    entry: Option<String>,
    direct_host: Option<String>,
    pre_block: Option<Block>,
}

impl Leg {
    fn addresses(addrs: Vec<Interval>) -> Leg {
        Leg {
            addrs,
            entry: None,
            direct_host: None,
            pre_block: None,
        }
    }
}

/// Whether some address of `a` is in `b`.
fn within_any(a: &[Interval], b: &[Interval]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.0 <= y.1 && y.0 <= x.1))
}

/// The legs through the listeners of Network Load Balancers that forward to one of `albs`
/// (a target group of type `alb`), each walked to the NLB's nodes (and there answered
/// `unknown`: an ALB as an NLB's target is not modelled).
fn legs_to_albs(m: &Model, idx: &Index, albs: &BTreeSet<&str>, internet_source: bool) -> Vec<Leg> {
    let mut out = Vec::new();
    if albs.is_empty() {
        // (The usual case: no listener can forward to an ALB that is not there; scanning
        // every listener for nothing was a few per cent of a large estate's report.)
        return out;
    }
    // And those whose `ip` targets are the nodes of one of them (a load balancer in front of
    // another by its nodes' addresses; the walk answers `unknown` there too).
    let nodes: Vec<Interval> = packet::merge(
        albs.iter()
            .flat_map(|arn| idx.lb_hosts(arn))
            .filter(|h| !h.virtual_node)
            .flat_map(|h| h.private.iter().copied())
            .collect(),
    );
    let node_target = |x: &Target| {
        x.id.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| packet::covered(packet::addr_interval(ip), &nodes))
    };
    out.extend(legs_through_listeners(m, idx, internet_source, |tg| {
        (tg.target_type == TargetType::Alb
            && tg.targets.iter().any(|x| albs.contains(x.id.as_str())))
            || (tg.target_type == TargetType::Ip && tg.targets.iter().any(node_target))
    }));
    out
}

/// The legs through every listener (of a load balancer the source can reach) that forwards
/// to a target group `to` picks, each entering by that listener.
fn legs_through_listeners(
    m: &Model,
    idx: &Index,
    internet_source: bool,
    to: impl Fn(&TargetGroup) -> bool,
) -> Vec<Leg> {
    legs_through(m, idx, internet_source, |l| {
        l.target_groups()
            .filter_map(|tg| m.target_groups.get(tg))
            .any(&to)
    })
}

/// The legs through every listener `take` picks (of a load balancer the source can reach),
/// each entering by that listener.
fn legs_through(
    m: &Model,
    idx: &Index,
    internet_source: bool,
    take: impl Fn(&Listener) -> bool,
) -> Vec<Leg> {
    let mut out = Vec::new();
    for l in m.listeners.values() {
        let Some(lb) = m.load_balancers.get(&l.lb_arn) else {
            continue;
        };
        if internet_source && !lb.internet_facing {
            continue;
        }
        if take(l) {
            out.extend(
                lb_legs(m, idx, lb, None, internet_source)
                    .into_iter()
                    .map(|leg| Leg {
                        entry: Some(l.arn.clone()),
                        ..leg
                    }),
            );
        }
    }
    out
}

/// The legs to a load balancer's nodes; with `via`, through that listener to that target
/// host. A node that does not forward across zones to the target (§5.1) is blocked from the
/// start: its leg is walked only to name what else blocks it.
fn lb_legs(
    m: &Model,
    idx: &Index,
    lb: &LoadBalancer,
    via: Option<(&Listener, &Host)>,
    internet_source: bool,
) -> Vec<Leg> {
    let mut out = Vec::new();
    for h in idx.lb_hosts(&lb.arn) {
        let entry = via.map(|(l, _)| l.arn.clone());
        let first = out.len();
        let mut no_public_v4 = None;
        if internet_source {
            let (a, private) = internet_addresses(lb, h);
            if lb.without_public_ipv4 {
                let v4: Vec<Interval> = h
                    .private
                    .iter()
                    .copied()
                    .filter(|p| packet::is_v4(p.0))
                    .collect();
                if !v4.is_empty() {
                    no_public_v4 = Some(v4);
                }
            }
            if a.is_empty() || h.virtual_node {
                // A node without a known public address (its ENI is not in the snapshot).
                if !private.is_empty() {
                    out.push(Leg {
                        addrs: private,
                        entry: entry.clone(),
                        direct_host: Some(h.id.clone()),
                        pre_block: None,
                    });
                }
            } else {
                out.push(Leg {
                    addrs: a,
                    entry: entry.clone(),
                    direct_host: None,
                    pre_block: None,
                });
            }
        } else {
            out.push(Leg {
                addrs: h.private.clone(),
                entry: entry.clone(),
                direct_host: None,
                pre_block: None,
            });
        }
        if let Some((l, target)) = via {
            // Blocked from the start when none of the listener's groups crosses zones (the
            // walk decides group by group).
            let crosses = l
                .target_groups()
                .filter_map(|tg| m.target_groups.get(tg))
                .any(|tg| lb.cross_zone_for(tg));
            // A target registered with a zone (outside the VPC) is left to the walk.
            let registered = l
                .target_groups()
                .filter_map(|tg| m.target_groups.get(tg))
                .any(|tg| {
                    tg.targets
                        .iter()
                        .any(|x| walk::registered_zone(lb, tg, x, Some(target)).is_some())
                });
            if !crosses && !registered && h.in_another_zone_than(target) {
                let zone = |z: &Option<String>| z.clone().unwrap_or_else(|| "no zone".into());
                for leg in &mut out[first..] {
                    leg.pre_block = Some(Block {
                        component: lb.arn.clone(),
                        code: "ELB_TARGET_NOT_FORWARDED",
                        detail: format!(
                            "{}'s node in {} ({}) does not forward across zones to {} ({})",
                            lb.name,
                            h.subnet_id,
                            zone(&h.az),
                            target.name,
                            zone(&target.az)
                        ),
                    });
                }
            }
        }
        // Walked only to name what else blocks it: no public IPv4 address to reach it by.
        if let Some(v4) = no_public_v4 {
            out.push(Leg {
                addrs: v4,
                entry,
                direct_host: Some(h.id.clone()),
                pre_block: Some(Block {
                    component: lb.arn.clone(),
                    code: "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS",
                    detail: format!(
                        "{} is dualstack without public IPv4: the internet reaches it over IPv6 only",
                        lb.name
                    ),
                }),
            });
        }
    }
    out
}

/// What the internet can address of a load-balancer node: its public addresses (IPv4 ones
/// mapped to the node, and its IPv6 ones when the load balancer is dualstack), and the
/// addresses to take instead when there are none or the node's interface is not in the
/// snapshot (its private ones, less IPv4 when the load balancer has no public IPv4). The
/// report's classes take the same (`allpairs::class_info`).
pub fn internet_addresses(lb: &LoadBalancer, h: &Host) -> (Vec<Interval>, Vec<Interval>) {
    let mut a: Vec<Interval> = if lb.without_public_ipv4 {
        Vec::new()
    } else {
        h.public_v4.iter().map(|(p, _)| (*p, *p)).collect()
    };
    if lb.dualstack {
        a.extend(h.private.iter().copied().filter(|p| !packet::is_v4(p.0)));
    }
    let private: Vec<Interval> = h
        .private
        .iter()
        .copied()
        .filter(|p| !lb.without_public_ipv4 || !packet::is_v4(p.0))
        .collect();
    (a, private)
}

/// Whether an endpoint is written as one address (`10.0.1.10`, `10.0.1.10/32`).
fn is_one_address(s: &str) -> bool {
    let s = s.trim();
    s.parse::<IpAddr>().is_ok()
        || s.parse::<IpNet>()
            .is_ok_and(|n| n.prefix_len() == n.max_prefix_len())
}

fn within(iv: &Interval, ranges: &[Interval]) -> bool {
    ranges.iter().any(|r| r.0 <= iv.0 && iv.1 <= r.1)
}

/// Traffic lines as one line of text: `tcp 80, 443; udp 53`.
pub fn traffic_text(t: &[Traffic]) -> String {
    t.iter()
        .map(|t| {
            if t.ports.is_empty() {
                t.protocol.clone()
            } else {
                format!("{} {}", t.protocol, t.ports)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a packet set lets through, by protocol and destination port, exactly (the text
/// [`traffic_set`] reads back): `all` when every protocol passes on every port; otherwise
/// one entry per named protocol (`tcp`, `udp`, `icmp`, `icmpv6`) and one per run of other
/// protocol numbers that pass on the same ports (`proto-47`, `proto-48-255`). Ports are
/// `all ports`, a list (`22, 80-443`), or for ICMP the types whose every code passes and
/// the codes of the others (`types 0, 8; type 3 codes 4`); empty for other protocols
/// when every port passes.
pub fn traffic_of(set: &PacketSet) -> Vec<Traffic> {
    // The protocol axis cut where any box starts or ends, and the destination ports each
    // piece carries.
    let mut cuts: Vec<u128> = vec![0, 256];
    for b in set.boxes() {
        let (lo, hi) = b.get(Dim::Proto);
        cuts.push(lo);
        cuts.push(hi + 1);
    }
    // The named protocols stand alone.
    const NAMED: [u8; 4] = [
        Protocol::ICMP,
        Protocol::TCP,
        Protocol::UDP,
        Protocol::ICMPV6,
    ];
    let named = |p: u128| NAMED.contains(&(p as u8));
    for p in NAMED {
        cuts.push(p as u128);
        cuts.push(p as u128 + 1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces: Vec<(Interval, Vec<Interval>)> = Vec::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1] - 1);
        let ports = super::packet::merge(
            set.boxes()
                .iter()
                .filter(|b| b.get(Dim::Proto).0 <= lo && hi <= b.get(Dim::Proto).1)
                .map(|b| b.get(Dim::DstPort))
                .collect(),
        );
        if ports.is_empty() {
            continue;
        }
        match pieces.last_mut() {
            Some(((_, last_hi), last_ports))
                if *last_hi + 1 == lo && *last_ports == ports && !named(lo) && !named(*last_hi) =>
            {
                *last_hi = hi
            }
            _ => pieces.push(((lo, hi), ports)),
        }
    }
    let full = |ports: &[Interval]| ports == [(0, 65535)];
    // Every protocol number, each on every port.
    let mut next = 0;
    for ((lo, hi), ports) in &pieces {
        if *lo != next || !full(ports) {
            break;
        }
        next = hi + 1;
    }
    if next == 256 {
        return vec![Traffic {
            protocol: "all".into(),
            ports: String::new(),
        }];
    }
    pieces
        .into_iter()
        .map(|((lo, hi), ports)| {
            let p = lo as u8;
            let (protocol, text) = match p {
                _ if lo != hi => (
                    format!("proto-{lo}-{hi}"),
                    if full(&ports) {
                        String::new()
                    } else {
                        super::packet::Ports(&ports).to_string()
                    },
                ),
                Protocol::TCP | Protocol::UDP if full(&ports) => {
                    (protocol_name(p), "all ports".into())
                }
                Protocol::ICMP | Protocol::ICMPV6 => (protocol_name(p), icmp_text(&ports)),
                Protocol::TCP | Protocol::UDP => {
                    (protocol_name(p), super::packet::Ports(&ports).to_string())
                }
                _ if full(&ports) => (protocol_name(p), String::new()),
                _ => (protocol_name(p), super::packet::Ports(&ports).to_string()),
            };
            Traffic {
                protocol,
                ports: text,
            }
        })
        .collect()
}

/// ICMP types and codes (`type * 256 + code`, merged) as text: `all types`, or the types
/// whose every code is in (`types 0, 8`) and then each other type's codes
/// (`type 3 codes 0-4`), joined by `; `.
fn icmp_text(ports: &[Interval]) -> String {
    if ports == [(0, 65535)] {
        return "all types".into();
    }
    let mut whole: Vec<Interval> = Vec::new();
    let mut partial: Vec<String> = Vec::new();
    let mut codes: BTreeMap<u128, Vec<Interval>> = BTreeMap::new();
    for &(a, b) in ports {
        for t in a / 256..=b / 256 {
            let (lo, hi) = (a.max(t * 256) - t * 256, b.min(t * 256 + 255) - t * 256);
            codes.entry(t).or_default().push((lo, hi));
        }
    }
    for (t, c) in codes {
        let c = super::packet::merge(c);
        if c == [(0, 255)] {
            whole.push((t, t));
        } else {
            partial.push(format!("type {t} codes {}", super::packet::Ports(&c)));
        }
    }
    let whole = super::packet::merge(whole);
    let mut parts = Vec::new();
    if !whole.is_empty() {
        parts.push(format!("types {}", super::packet::Ports(&whole)));
    }
    parts.extend(partial);
    parts.join("; ")
}

/// The protocols and destination ports [`traffic_of`] wrote, as a packet set (every other
/// dimension full); `None` for text it does not write.
pub fn traffic_set(traffic: &[Traffic]) -> Option<PacketSet> {
    fn ranges(text: &str) -> Option<Vec<Interval>> {
        text.split(", ")
            .map(|p| {
                let (a, b) = p.split_once('-').unwrap_or((p, p));
                let (a, b): (u128, u128) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                (a <= b).then_some((a, b))
            })
            .collect()
    }
    let mut boxes = Vec::new();
    for t in traffic {
        let protos: Interval = match t.protocol.as_str() {
            "all" => (0, 255),
            "tcp" => (6, 6),
            "udp" => (17, 17),
            "icmp" => (1, 1),
            "icmpv6" => (58, 58),
            other => {
                let n = other.strip_prefix("proto-")?;
                let (a, b) = n.split_once('-').unwrap_or((n, n));
                let (a, b): (u128, u128) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b > 255 {
                    return None;
                }
                (a, b)
            }
        };
        let icmp = matches!(t.protocol.as_str(), "icmp" | "icmpv6");
        let ports: Vec<Interval> = match t.ports.as_str() {
            "" | "all ports" | "all types" => vec![(0, 65535)],
            text if icmp => {
                let mut out = Vec::new();
                for part in text.split("; ") {
                    if let Some(types) = part.strip_prefix("types ") {
                        out.extend(
                            ranges(types)?
                                .into_iter()
                                .map(|(a, b)| (a * 256, b * 256 + 255)),
                        );
                    } else {
                        let (ty, codes) = part.strip_prefix("type ")?.split_once(" codes ")?;
                        let ty: u128 = ty.parse().ok()?;
                        out.extend(
                            ranges(codes)?
                                .into_iter()
                                .map(|(a, b)| (ty * 256 + a, ty * 256 + b)),
                        );
                    }
                }
                out
            }
            text => ranges(text)?,
        };
        for (a, b) in ports {
            if b > 65535 {
                return None;
            }
            boxes.push(
                PBox::FULL
                    .with(Dim::Proto, protos)
                    .with(Dim::DstPort, (a, b)),
            );
        }
    }
    Some(PacketSet::from_boxes(boxes))
}

fn assemble(m: &Model, req: &Request, outcomes: Vec<Outcome>) -> Answer {
    // Paths with the same hops (a route to a prefix list reaches the walk once per entry)
    // are one path carrying what each carries.
    let mut paths: Vec<(Vec<Hop>, Option<String>, PacketSet)> = Vec::new();
    let mut reached = PacketSet::empty();
    let mut client_ports = PacketSet::empty();
    let mut client = PacketSet::empty();
    let mut reached_by: std::collections::BTreeMap<(String, Option<String>), PacketSet> =
        std::collections::BTreeMap::new();
    let mut blocked_by: Vec<Block> = Vec::new();
    let mut unknowns: Vec<String> = Vec::new();
    let mut assumptions: Vec<String> = crate::inventory::assumptions(m);
    for o in &outcomes {
        for a in &o.assumptions {
            if !assumptions.contains(a) {
                assumptions.push(a.clone());
            }
        }
        match (&o.ending, o.blocks.is_empty(), o.set.is_empty()) {
            (Ending::Reached, true, false) => {
                reached = reached.union(&o.set);
                if let Some(last) = o.hops.last() {
                    let r = reached_by
                        .entry((last.component.clone(), o.entry.clone()))
                        .or_default();
                    *r = r.union(&o.set);
                }
                let ports = o
                    .client_ports
                    .clone()
                    .unwrap_or_else(|| o.set.project(Dim::SrcPort));
                client_ports = client_ports
                    .union(&PacketSet::from_box(PBox::FULL).restrict(Dim::SrcPort, &ports));
                let seen = o
                    .set
                    .rewrite(Dim::Src, super::packet::ALL_ADDRS)
                    .rewrite(Dim::Dst, super::packet::ALL_ADDRS);
                let seen = match &o.client_ports {
                    None => seen,
                    Some(cp) => seen
                        .rewrite(Dim::SrcPort, (0, 65535))
                        .restrict(Dim::SrcPort, cp),
                };
                client = client.union(&seen);
                let same = paths
                    .iter()
                    .position(|(hops, entry, _)| *hops == o.hops && *entry == o.entry);
                match same {
                    Some(i) => paths[i].2 = paths[i].2.union(&o.set),
                    None if paths.len() < 16 => {
                        paths.push((o.hops.clone(), o.entry.clone(), o.set.clone()));
                    }
                    None => {}
                }
            }
            (Ending::Unknown(why), true, _) => {
                if !unknowns.contains(why) {
                    unknowns.push(why.clone());
                }
            }
            // A block of no packets blocks nothing: a branch that lost all its packets to
            // another way (a reply handed over as undecided) must not name a blocker.
            (_, _, true) => {}
            _ => {
                for b in &o.blocks {
                    if !blocked_by.contains(b) {
                        blocked_by.push(b.clone());
                    }
                }
            }
        }
    }
    let verdict = if !reached.is_empty() {
        Verdict::Reachable
    } else if !unknowns.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Unreachable
    };
    for u in unknowns {
        assumptions.push(format!("not modelled: {u}"));
    }
    let source_ports: Vec<(u16, u16)> = client_ports
        .project(Dim::SrcPort)
        .iter()
        .map(|(a, b)| (*a as u16, *b as u16))
        .collect();
    let mut notes = Vec::new();
    if verdict == Verdict::Reachable {
        let ephemeral = PacketSet::from_box(PBox::FULL.with(Dim::SrcPort, (1024, 65535)));
        let ok_ephemeral = client_ports.meets(&ephemeral);
        // The ports asked about (all unless `--source-port` narrows them): only a narrower
        // answer says something of the estate, and ordinary clients are a concern only when
        // some of their ports were asked about.
        let asked = req.source_ports.unwrap_or((0, 65535));
        let all = source_ports == vec![asked];
        let ephemeral_asked = asked.1 >= 1024;
        if !all {
            let text = super::packet::range_list(source_ports.iter().copied(), ", ");
            if ok_ephemeral || !ephemeral_asked {
                notes.push(format!("only from source ports {text}"));
            } else {
                notes.push(format!("only from source ports {text}: ordinary clients (ephemeral ports 1024-65535) get no reply, but a client that picks its source port gets through"));
            }
        }
    } else {
        blocked_by.sort();
        blocked_by.dedup();
    }
    let paths = paths
        .into_iter()
        .map(|(hops, entry, set)| PathOut {
            hops,
            entry,
            traffic: traffic_of(&set),
        })
        .collect();
    Answer {
        request: req.clone(),
        verdict,
        paths,
        traffic: traffic_of(&reached),
        source_ports,
        client,
        blocked_by: if verdict == Verdict::Reachable {
            Vec::new()
        } else {
            blocked_by
        },
        assumptions,
        notes,
        reached: reached_by
            .into_iter()
            .map(|((component, entry), set)| Reached {
                component,
                entry,
                traffic: traffic_of(&set),
                set,
            })
            .collect(),
    }
}

#[cfg(test)]
mod traffic_tests {
    use super::*;
    use proptest::prelude::*;

    /// What a set lets through by protocol and destination port (other dimensions full).
    fn proto_ports(set: &PacketSet) -> PacketSet {
        PacketSet::from_boxes(set.boxes().iter().map(|b| {
            PBox::FULL
                .with(Dim::Proto, b.get(Dim::Proto))
                .with(Dim::DstPort, b.get(Dim::DstPort))
        }))
    }

    fn a_box() -> impl Strategy<Value = PBox> {
        let protos = prop_oneof![
            Just((0u128, 255u128)),
            Just((6, 6)),
            Just((17, 17)),
            Just((1, 1)),
            Just((58, 58)),
            (0u128..256).prop_flat_map(|a| (Just(a), a..256)),
        ];
        let ports = prop_oneof![
            Just((0u128, 65535u128)),
            (0u128..65536).prop_flat_map(|a| (Just(a), a..65536)),
            (0u128..1024).prop_map(|p| (p, p)),
        ];
        (protos, ports, any::<bool>()).prop_map(|(pr, po, src)| {
            let b = PBox::FULL.with(Dim::Proto, pr).with(Dim::DstPort, po);
            // Some boxes narrowed in another dimension, which the summary projects away.
            if src {
                b.with(Dim::SrcPort, (1024, 65535))
            } else {
                b
            }
        })
    }

    proptest! {
        /// The summary is exact: read back, it is the set's protocols and ports, so two sets
        /// with the same summary let the same traffic through (the report joins exposures by
        /// summary, `diff` compares them).
        #[test]
        fn traffic_reads_back_exactly(
            adds in proptest::collection::vec(a_box(), 0..5),
            subs in proptest::collection::vec(a_box(), 0..4),
        ) {
            let mut set = PacketSet::from_boxes(adds);
            for b in subs {
                set = set.subtract(&PacketSet::from_box(b.with(Dim::SrcPort, (0, 65535))));
            }
            let want = proto_ports(&set);
            let got = traffic_set(&traffic_of(&set)).expect("the summary reads back");
            prop_assert!(got.subtract(&want).is_empty() && want.subtract(&got).is_empty(),
                "{:?} read back differs", traffic_of(&set));
        }
    }

    #[test]
    fn icmp_types_and_codes() {
        let set = PacketSet::from_boxes([
            PBox::FULL
                .with(Dim::Proto, (1, 1))
                .with(Dim::DstPort, (0, 255)),
            PBox::FULL
                .with(Dim::Proto, (1, 1))
                .with(Dim::DstPort, (8 * 256, 8 * 256 + 255)),
            PBox::FULL
                .with(Dim::Proto, (1, 1))
                .with(Dim::DstPort, (3 * 256 + 4, 3 * 256 + 4)),
        ]);
        assert_eq!(
            traffic_of(&set),
            vec![Traffic {
                protocol: "icmp".into(),
                ports: "types 0, 8; type 3 codes 4".into()
            }]
        );
    }
}
