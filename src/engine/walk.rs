//! The path walk: a packet set travels hop by hop from its sources, every hop
//! filtering it, until it is delivered, leaves the estate, is blocked, or
//! meets something not modelled.
//!
//! When a hop blocks everything, the walk records the block and carries on
//! with the unfiltered set as a hypothesis, so that an unreachable verdict
//! names every component on the way that would block the flow (as AWS's
//! Reachability Analyzer reports several explanations), not only the first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::filters::{self, NaclCheck, RouteChoice, SgDirection};
use super::index::{Host, Index, Way};
use super::packet::{net_intervals, Dim, Interval, PBox, PacketSet};
use crate::model::*;

/// One hop of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Component id.
    pub component: String,
    /// Component kind (`eni`, `security-group`, `nacl`, `route-table`, `igw`, ...).
    pub kind: &'static str,
    /// Human name.
    pub name: String,
    /// What admitted the packet here.
    pub detail: String,
    /// `true` for checks of the reply direction.
    pub reply: bool,
}

/// Why a hop blocks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block {
    /// Component id.
    pub component: String,
    /// Reason code (AWS Reachability Analyzer names where one fits).
    pub code: &'static str,
    /// A sentence a person can act on.
    pub detail: String,
}

/// How a walk ended.
#[derive(Debug, Clone)]
pub enum Ending {
    /// Delivered to the destination or out of the estate towards it.
    Reached,
    /// Blocked (the blocks are in the trace).
    Blocked,
    /// Crossed something not modelled.
    Unknown(String),
}

/// One finished walk.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Hops.
    pub hops: Vec<Hop>,
    /// Blocks met on the way (non-empty means the flow does not get through).
    pub blocks: Vec<Block>,
    /// How it ended.
    pub ending: Ending,
    /// The packets that arrived (destination's view).
    pub set: PacketSet,
    /// The client's source ports that work, when ports were translated on the way.
    pub client_ports: Option<Vec<Interval>>,
    /// The listener the path entered by, when through a load balancer.
    pub entry: Option<String>,
    /// Assumptions made on this path.
    pub assumptions: Vec<String>,
    /// Through a load balancer that opened a new flow from its own address: the client
    /// source addresses that flow serves (the rest, if any, kept their address: §5.3).
    pub lb_clients: Option<Vec<Interval>>,
}

/// What counts as arriving.
#[derive(Debug, Clone, Default)]
pub struct Goal {
    /// Hosts whose delivery completes the flow (shared: a goal is cloned per leg).
    pub hosts: std::sync::Arc<BTreeSet<String>>,
    /// Load balancers (ARN) whose acceptance completes the flow.
    pub load_balancers: BTreeSet<String>,
    /// Leaving the estate (internet, on-premises, AWS service) completes the flow.
    pub external: bool,
    /// Peering connections, transit gateways and gateway endpoints (ids) whose entry
    /// completes the flow (a query to `pcx-…`, `tgw-…` or a gateway `vpce-…`: what the
    /// source's routing sends into them).
    pub gateways: BTreeSet<String>,
    /// With `external`: the only way out that counts (`None`: any). A query to `internet` is
    /// not answered by packets that leave for on-premises with public addresses, nor one to
    /// `onprem` by packets that leave for the internet; the others are blocked,
    /// `EXITS_ELSEWHERE`.
    pub exit: Option<Exit>,
    /// With `exit` the internet: the internet or egress-only internet gateway the packets
    /// must leave by (a query to `igw-…` or `eigw-…`); leaving by another is
    /// `EXITS_ELSEWHERE`.
    pub exit_gateway: Option<String>,
    /// For a source on the internet: the gateway it must come in by (a query from `igw-…` or
    /// `eigw-…`); the internet reaches a host by its VPC's internet gateway, so one in
    /// another VPC is `ENTERS_ELSEWHERE`, and an egress-only gateway admits nothing.
    pub entry_gateway: Option<String>,
    /// For load-balancer legs: the target ports asked for.
    pub target_ports: Vec<Interval>,
    /// Destination addresses asked for at which a load balancer's `ip` target that no
    /// interface of the snapshot holds (on-premises) completes the flow once forwarded there.
    pub outside_targets: Vec<Interval>,
    /// Network mode (the all-pairs analysis, [`super::allpairs`]): the walk stops where packets
    /// enter a subnet, records a [`Delivery`] there (after the subnet's NACL and the return
    /// route, before any security group) and does not follow paths that leave through an
    /// internet gateway or a NAT gateway. Deliveries carry no hops, so NACL hops (and the
    /// rules that allowed) are not worked out.
    pub network: bool,
    /// Network mode in two phases: the walk stops where packets reach a VPC, before its
    /// subnets' NACLs, and records a [`VpcArrival`] ([`Walker::network_enter`] takes them on
    /// from there), and where they enter a transit gateway ([`TgwArrival`],
    /// [`Walker::network_tgw`]). Arrivals with the same key (from several source subnets) can
    /// be joined first, so that each is followed once for all of them.
    pub stop_at_vpc: bool,
    /// A preserving load balancer's legs keep the packets a target would get from its own
    /// address (§5.3: no hairpin), for a caller that has no use for them
    /// ([`super::allpairs`]: a hairpin is a host reaching itself, which the report never
    /// counts; cutting each target's address out of the clients' ranges would only fragment
    /// the credit of wide boxes).
    pub hairpin_by_caller: bool,
}

/// A way out of the estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// An internet gateway (directly or after a NAT gateway).
    Internet,
    /// A VPN gateway, or a transit gateway's VPN or Direct Connect attachment.
    Onprem,
    /// An Amazon-provided service: the link-local ones, a gateway endpoint.
    Service,
}

impl Exit {
    fn label(self) -> &'static str {
        match self {
            Exit::Internet => "the internet",
            Exit::Onprem => "on-premises",
            Exit::Service => "an Amazon-provided service",
        }
    }
}

/// Where and how packets reached a VPC: the VPC, the subnet they entered it from (a transit
/// gateway attachment's, or none), and the way in (which decides the return-route check).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArrivalKey {
    vpc: String,
    from_subnet: Option<String>,
    arrival: Arrival,
    /// The client subnet whose NACL denies these packets' replies, a denial that waits for the
    /// return route ([`Trace::pending_reply`]).
    pending_reply: Option<String>,
}

impl ArrivalKey {
    /// The VPC reached.
    pub fn vpc(&self) -> &str {
        &self.vpc
    }

    /// The way the packets came into the VPC, which decides the group references they match
    /// ([`Way`]): over a peering, through transit gateways that carry references or not.
    pub fn way(&self, m: &Model) -> Way {
        match &self.arrival {
            Arrival::Peering(_) => Way::Peering,
            Arrival::Tgw {
                dst_attachment,
                chain,
                ..
            } if !super::index::tgw_carries_references(m, chain, dst_attachment)
                || self
                    .from_subnet
                    .as_deref()
                    .is_some_and(|s| in_zone_without_tgw_references(m, s)) =>
            {
                Way::Bare
            }
            _ => Way::Other,
        }
    }
}

/// A transit gateway and the VPC attachment packets entered it by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TgwKey {
    tgw: String,
    attachment: String,
    /// The client subnet whose NACL denies these packets' replies, a denial that waits for the
    /// return route ([`Trace::pending_reply`]): the reply may come back through another
    /// transit gateway into that subnet, where no NACL applies.
    pending_reply: Option<String>,
}

/// Network mode in two phases: packets that entered a transit gateway from a VPC, after the
/// NACLs on the way to the attachment, nothing blocking them.
#[derive(Debug, Clone)]
pub struct TgwArrival {
    /// Which gateway, by which attachment.
    pub key: TgwKey,
    /// The packets.
    pub set: PacketSet,
}

/// Network mode in two phases: packets that reached a VPC, nothing blocking them on the way.
#[derive(Debug, Clone)]
pub struct VpcArrival {
    /// Where and how.
    pub key: ArrivalKey,
    /// The packets.
    pub set: PacketSet,
}

/// Network mode: packets that entered a subnet, with nothing blocking them on the way.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The subnet entered.
    pub subnet: String,
    /// The packets, as the subnet's interfaces would receive them.
    pub set: PacketSet,
}

/// How the packet entered the VPC it is being delivered in: decides the return-route check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Arrival {
    Local,
    Igw(String),
    Peering(String),
    /// Through transit gateways: `chain` lists (tgw, attachment the packet entered it by).
    Tgw {
        tgw: String,
        dst_attachment: String,
        chain: Vec<(String, String)>,
    },
    Vgw(String),
    /// A load balancer preserving the client IP: replies follow the LB's flow state (§5.3).
    PreservedByLb,
}

/// The attachment subnet a transit gateway hands packets to a VPC by ([`Walker::tgw_entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum TgwEntry {
    /// Decided.
    Subnet(String),
    /// Any of these (sorted), as the gateway picks; `why` says why it is not decided.
    Any { subnets: Vec<String>, why: String },
    /// The attachment has no subnet.
    NoSubnet,
}

/// The Availability Zone packets entered a transit gateway in, which the gateway keeps
/// (AZ affinity, [`Walker::tgw_entry`]).
#[derive(Debug, Clone, Copy)]
enum Zone<'a> {
    /// The zone of this attachment subnet, which the packets entered the gateway by.
    Entered(&'a str),
    /// Network mode: packets of several subnets of the VPC, each in the zone of its source's
    /// subnet (they entered the gateway by the attachment's subnet there).
    OfSource,
    /// None the gateway keeps: the packets crossed a TGW peering, or came from on-premises by a
    /// VPN or Direct Connect attachment.
    Lost,
}

/// Which way a transit gateway hands packets to a VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handoff {
    /// The packet, towards its destination.
    Forward,
    /// The reply, towards the client (the packet's source).
    Reply,
}

impl Handoff {
    /// The address that decides: the destination of what is handed over, in forward
    /// coordinates.
    fn dim(self) -> Dim {
        match self {
            Handoff::Forward => Dim::Dst,
            Handoff::Reply => Dim::Src,
        }
    }

    /// The NACL checks of the attachment subnet (outbound) and of the subnet entered next
    /// (inbound).
    fn checks(self) -> (NaclCheck, NaclCheck) {
        match self {
            Handoff::Forward => (NaclCheck::OutForward, NaclCheck::InForward),
            Handoff::Reply => (NaclCheck::OutReply, NaclCheck::InReply),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Handoff::Forward => "the traffic",
            Handoff::Reply => "the reply",
        }
    }
}

/// Whether two subnets are in the same Availability Zone: by zone id when both have one (a
/// zone's name maps to a different zone in each account), else by name within one account and
/// Region; `None` when that cannot be told.
fn same_zone(a: &Subnet, b: &Subnet) -> Option<bool> {
    if let (Some(x), Some(y)) = (&a.az_id, &b.az_id) {
        return Some(x == y);
    }
    match (&a.az, &b.az) {
        (Some(x), Some(y)) if a.location == b.location => Some(x == y),
        _ => None,
    }
}

/// Where packets are delivered: a host's place, or a whole subnet in network mode.
#[derive(Clone, Copy)]
struct Place<'a> {
    subnet_id: &'a str,
    vpc_id: &'a str,
    az: &'a Option<String>,
    name: &'a str,
}

/// Why a flow that only a rule naming a prefix list of unknown entries admits is `unknown`.
/// A host's groups for a message that says what their rules do not allow: those the snapshot
/// lacks are named apart (nothing is known of their rules).
fn groups_in_snapshot(m: &Model, groups: &[String]) -> String {
    let missing: Vec<&str> = m.missing_groups(groups).map(String::as_str).collect();
    if missing.is_empty() {
        return groups.join(", ");
    }
    let known: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| !missing.contains(g))
        .collect();
    format!(
        "{}; {} not in the snapshot, rules unknown",
        if known.is_empty() {
            "no group in the snapshot".to_string()
        } else {
            known.join(", ")
        },
        missing.join(", ")
    )
}

fn unknown_entries_why(host: &str, groups: &str, dir: &str, why: &filters::UnknownRules) -> String {
    if !why.missing.is_empty() {
        return format!(
            "{host} holds {}, which the snapshot does not have although it has security groups (a partial collection?): whether its {dir} rules allow this traffic is not known",
            why.missing.join(", ")
        );
    }
    if why.lists.is_empty() {
        let stale: Vec<String> = why
            .stale
            .iter()
            .map(|(group, pcx)| format!("{group} over peering connection {pcx}"))
            .collect();
        return format!(
            "only a stale {dir} rule of {host} ({groups}) could allow this traffic: it references {}, which is no longer active; whether AWS lets such a rule match over another connection between the VPCs is not documented (see `aws ec2 describe-stale-security-groups`)",
            stale.join(", ")
        );
    }
    format!(
        "only an {dir} rule of {host} ({groups}) naming prefix list {} could allow this traffic, and the list's entries are not in the snapshot (collect them with `aws ec2 get-managed-prefix-list-entries`)",
        why.lists.join(", ")
    )
}

/// Applies what VPC Block Public Access does at `subnet`'s gateway to the trace: a block
/// (checks after it are still walked, to name what else blocks), or the reason the flow is
/// not decided.
fn bpa_apply(t: &mut Trace, subnet: &str, effect: BpaEffect) {
    match effect {
        BpaEffect::Pass => {}
        BpaEffect::Block(why) => t.blocks.push(Block {
            component: subnet.to_string(),
            code: "VPC_BLOCK_PUBLIC_ACCESS",
            detail: why,
        }),
        BpaEffect::Unsettled(why) => {
            t.undecided.get_or_insert(why);
        }
    }
}

/// What stops a reply on its way back through transit gateways: (reason code, detail, the
/// packets, the component at fault: an attachment or a transit gateway route table).
type TgwReplyProblem = (&'static str, String, PacketSet, String);

#[derive(Debug, Clone, Default)]
struct Trace {
    hops: Vec<Hop>,
    blocks: Vec<Block>,
    via_peering: bool,
    /// Came through transit gateways that carry no security-group reference
    /// ([`Way::Bare`]).
    via_bare_tgw: bool,
    via_vgw: bool,
    /// Entered through an internet gateway: no security-group reference matches (§1.3).
    via_igw: bool,
    /// Packets that only a rule naming a group of this load-balancer node (known only by its
    /// subnet) let out: they go to that node alone, not to the other such nodes whose
    /// addresses they share.
    for_node: Option<String>,
    /// A load balancer preserved the address of a client outside the VPCs (internet,
    /// on-premises): no group reference matches it at the target either (§1.3).
    outside_client: bool,
    /// A load balancer forwarded the flow (a leg that entered by a listener must have been
    /// forwarded before it counts as delivered to a target).
    forwarded: bool,
    lb_groups: Vec<String>,
    preserved: bool,
    /// Something on the way is not decided, and delivering the flow then ends `unknown` with
    /// this reason while any later check may still block it: a load balancer preserved the
    /// client IP towards a target that does not support it (§5.3: the packets may arrive,
    /// the reply is not known to get back); the reply takes another way back than the
    /// request came ([`Walker::reply_elsewhere`]); the transit gateway may hand the packet
    /// or its reply to attachment subnets that treat it differently; a load balancer on the
    /// way is still being set up.
    undecided: Option<String>,
    /// The subnet the flow starts from: a query's source host's (not set for load-balancer
    /// legs), or in network mode the sending subnet's. See [`Trace::pending_reply`].
    client_subnet: Option<Arc<str>>,
    /// The client subnet's NACL denies the replies inbound, but the client sits in a transit
    /// gateway attachment subnet, where a reply the gateway brings meets no NACL: the block
    /// (and its place among `blocks`) waits for the return route. A reply that comes back the
    /// way the request went or over a peering ([`Walker::reply_by_peering`]), or the end of
    /// the walk, applies it (an end that is `unknown` only where the way crossed no transit
    /// gateway or peering and no gateway's VPN or Direct Connect attachment could bring the
    /// reply, [`Walker::finish`]); a reply blocked on another way drops it (its checks are not
    /// on that way); a reply a transit gateway carries back ([`Walker::reply_by_tgw`])
    /// into one of its attachment's subnets drops it, [`Walker::reply_enter`] deciding the
    /// client subnet's NACL on that way (also after a request through another gateway,
    /// [`Walker::client_reply_in`], which is why it waits there too); a reply
    /// handed over another way (not followed) drops it too, so the flow is `unknown` rather
    /// than wrongly unreachable.
    pending_reply: Option<Box<PendingReply>>,
    /// See [`Outcome::lb_clients`].
    lb_clients: Option<Vec<Interval>>,
    client_ports: Option<Vec<Interval>>,
    entry: Option<String>,
    assumptions: Vec<String>,
    depth: usize,
}

/// A client subnet's NACL denial of the replies that waits for the return route
/// ([`Trace::pending_reply`]).
#[derive(Debug, Clone)]
struct PendingReply {
    /// The client's subnet, whose NACL it is.
    subnet: String,
    /// Its index among the trace's blocks.
    at: usize,
    /// The denial; none when the NACL lets the replies in (only the hop waits then: a reply
    /// the gateway brings does not show it).
    block: Option<Block>,
    /// Outside network mode, the NACL's hop and its index among the trace's hops (it goes with
    /// the block: it shows the reply meeting the NACL).
    hop: Option<(usize, Hop)>,
}

/// The walker.
pub struct Walker<'m> {
    m: &'m Model,
    idx: &'m Index<'m>,
    goal: Goal,
    /// Finished walks.
    pub outcomes: Vec<Outcome>,
    /// Network mode: where packets entered subnets.
    pub deliveries: Vec<Delivery>,
    /// Network mode in two phases: where packets reached VPCs.
    pub arrivals: Vec<VpcArrival>,
    /// Network mode in two phases: where packets entered transit gateways.
    pub tgw_arrivals: Vec<TgwArrival>,
    steps: usize,
}

const MAX_DEPTH: usize = 12;
const MAX_STEPS: usize = 20_000;
/// The pseudo-code [`Walker::tgw_return_split`] gives replies whose fate the snapshot does not
/// tell (a transit gateway sends them to on-premises by another attachment than the request
/// came by; a route table whose routes are not in the snapshot): undecided, not blocked.
const UNDECIDED: &str = "UNDECIDED";

/// Reserved IPv4 ranges that the internet does not route (RFC 6890 subset).
pub fn not_internet_routable() -> Vec<Interval> {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
        // IPv6 outside global unicast: unique local, link-local, multicast (§4.4).
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .flat_map(|c| net_intervals(&c.parse().unwrap()))
    .collect()
}

/// Whether some packet of `set` has its `dim` address in `intervals` (without cutting the set).
fn touches(set: &PacketSet, dim: Dim, intervals: &[Interval]) -> bool {
    set.boxes().iter().any(|b| {
        let (lo, hi) = b.get(dim);
        intervals.iter().any(|&(a, z)| a <= hi && lo <= z)
    })
}

/// The union of sets known to share no packet (parts cut from one set).
fn join_disjoint(parts: impl IntoIterator<Item = PacketSet>) -> PacketSet {
    PacketSet::from_pieces(parts.into_iter().flat_map(|p| p.boxes().to_vec()).collect())
}

/// Replies followed another way than the request came ([`Walker::reply_by_tgw`],
/// [`Walker::reply_by_peering`]): the packets,
/// the way back, and outside network mode the return route's hop (route table, detail).
type Followed = (PacketSet, Arrival, Option<(String, String)>);

/// `vpc`'s attachment to transit gateway `tgw`.
fn vpc_attachment<'a>(m: &'a Model, tgw: &str, vpc: &str) -> Option<&'a TgwAttachment> {
    m.tgw_attachments
        .values()
        .find(|a| a.tgw_id == tgw && a.kind == TgwAttachmentKind::Vpc && a.resource_id == vpc)
}

/// The subnet of attachment `att` in Availability Zone `az` (§6.2: one per zone at most).
fn attachment_subnet_in<'a>(
    idx: &Index,
    att: &'a TgwAttachment,
    az: &Option<String>,
) -> Option<&'a String> {
    att.subnet_ids
        .iter()
        .find(|s| idx.subnet(s).and_then(|x| x.az.as_ref()) == az.as_ref())
}

/// Where on-premises traffic enters the estate: a VPN gateway (§6.3), or a transit gateway's
/// VPN or Direct Connect gateway attachment (§6.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnpremEntry {
    /// A virtual private gateway (`vgw-…`).
    Vgw(String),
    /// A VPN or Direct Connect gateway attachment of a transit gateway.
    Tgw {
        /// The transit gateway (`tgw-…`).
        tgw: String,
        /// The attachment (`tgw-attach-…`).
        attachment: String,
    },
}

impl OnpremEntry {
    /// The id it goes by (`vgw-…` or `tgw-attach-…`).
    pub fn id(&self) -> &str {
        match self {
            OnpremEntry::Vgw(v) => v,
            OnpremEntry::Tgw { attachment, .. } => attachment,
        }
    }
}

/// Every way on-premises traffic enters the estate: its VPN gateways, then its transit
/// gateways' VPN and Direct Connect gateway attachments.
pub fn onprem_entries(m: &Model) -> Vec<OnpremEntry> {
    let mut out: Vec<OnpremEntry> = m
        .vpn_gateways
        .keys()
        .map(|v| OnpremEntry::Vgw(v.clone()))
        .collect();
    out.extend(
        m.tgw_attachments
            .values()
            .filter(|a| {
                matches!(
                    a.kind,
                    TgwAttachmentKind::Vpn | TgwAttachmentKind::DirectConnect
                )
            })
            .map(|a| OnpremEntry::Tgw {
                tgw: a.tgw_id.clone(),
                attachment: a.id.clone(),
            }),
    );
    out
}

/// The addresses on-premises sends from by `e`: the static routes of its VPN connections and,
/// for a transit gateway attachment, the routes of the gateway's tables that send to it (static,
/// or propagated from BGP); any address when nothing says.
pub fn onprem_entry_space(m: &Model, e: &OnpremEntry) -> Vec<Interval> {
    let mut routes: Vec<Interval> = Vec::new();
    let static_routes = |v: &VpnConnection| {
        v.static_routes
            .iter()
            .flat_map(net_intervals)
            .collect::<Vec<_>>()
    };
    match e {
        OnpremEntry::Vgw(vgw) => routes.extend(
            m.vpn_connections
                .values()
                .filter(|v| v.vpn_gateway_id.as_deref() == Some(vgw))
                .flat_map(static_routes),
        ),
        OnpremEntry::Tgw { tgw, attachment } => {
            let resource = m
                .tgw_attachment(tgw, attachment)
                .map(|a| a.resource_id.as_str());
            routes.extend(
                m.vpn_connections
                    .values()
                    .filter(|v| Some(v.id.as_str()) == resource)
                    .flat_map(static_routes),
            );
            for rt in m.tgw_route_tables.values().filter(|rt| rt.tgw_id == *tgw) {
                for r in rt
                    .routes
                    .iter()
                    .filter(|r| !r.blackhole && r.attachment_ids.iter().any(|a| a == attachment))
                {
                    match &r.destination {
                        RouteDestination::Cidr(c) => routes.extend(net_intervals(c)),
                        RouteDestination::PrefixList(pl) => routes.extend(
                            m.prefix_lists
                                .get(pl)
                                .into_iter()
                                .flat_map(|p| p.cidrs.iter().flat_map(net_intervals)),
                        ),
                    }
                }
            }
        }
    }
    if routes.is_empty() {
        vec![super::packet::ALL_ADDRS]
    } else {
        super::packet::merge(routes)
    }
}

/// IPv6 global unicast (2000::/3): the IPv6 addresses the internet routes.
pub fn global_v6() -> Vec<Interval> {
    net_intervals(&"2000::/3".parse().expect("a prefix"))
}

/// Internet addresses: public IPv4 and IPv6 global unicast (2000::/3).
pub fn internet_space() -> Vec<Interval> {
    let v4 = PacketSet::from_box(super::packet::PBox::FULL.with(Dim::Src, super::packet::ALL_V4))
        .subtract(
            &PacketSet::from_box(super::packet::PBox::FULL)
                .restrict(Dim::Src, &not_internet_routable()),
        )
        .project(Dim::Src);
    let mut out = v4;
    out.extend(global_v6());
    out
}

impl<'m> Walker<'m> {
    /// A walker towards a goal.
    pub fn new(m: &'m Model, idx: &'m Index, goal: Goal) -> Self {
        Walker {
            m,
            idx,
            goal,
            outcomes: Vec::new(),
            deliveries: Vec::new(),
            arrivals: Vec::new(),
            tgw_arrivals: Vec::new(),
            steps: 0,
        }
    }

    fn host(&self, id: &str) -> &'m Host {
        &self.idx.hosts[id]
    }

    fn finish(&mut self, mut t: Trace, ending: Ending, set: PacketSet) {
        let ending = match (ending, &t.undecided) {
            (Ending::Reached, Some(why)) => Ending::Unknown(why.clone()),
            (ending, _) => ending,
        };
        // A reply denial waiting for the return route ([`Trace::pending_reply`]) applies at the
        // end of the way; where the way is not known and went through a transit gateway or a
        // peering (or on-premises may send the reply back by a gateway's VPN or Direct Connect
        // attachment), neither is the reply's, which a gateway may bring into the subnet as
        // its attachment subnet, meeting no NACL there: `unknown`, not `unreachable`.
        if matches!(ending, Ending::Unknown(_))
            && t.pending_reply.is_some()
            && (t
                .hops
                .iter()
                .any(|h| matches!(h.kind, "tgw-attachment" | "peering"))
                || onprem_entries(self.m)
                    .iter()
                    .any(|e| matches!(e, OnpremEntry::Tgw { .. })))
        {
            t.pending_reply = None;
        } else {
            Self::apply_pending_reply(&mut t);
        }
        self.outcomes.push(Outcome {
            hops: t.hops,
            blocks: t.blocks,
            ending,
            set,
            client_ports: t.client_ports,
            entry: t.entry,
            assumptions: t.assumptions,
            lb_clients: t.lb_clients,
        });
    }

    /// Whether leaving by `exit` completes the flow; when the goal asks for another way out,
    /// the packets are blocked there (`EXITS_ELSEWHERE`, naming `component`).
    fn exit_counts(&mut self, t: &Trace, exit: Exit, component: &str, set: &PacketSet) -> bool {
        if !self.goal.external {
            return false;
        }
        match self.goal.exit {
            Some(wanted) if wanted != exit => {
                let by = match component {
                    "internet" | "aws-service" => String::new(),
                    c => format!(" by {c}"),
                };
                let detail = format!(
                    "{} leaves for {}{by}, not for {}",
                    describe_dst(set),
                    exit.label(),
                    wanted.label()
                );
                self.block(t.clone(), component, "EXITS_ELSEWHERE", detail, set.clone());
                false
            }
            _ => true,
        }
    }

    fn block(
        &mut self,
        mut t: Trace,
        component: &str,
        code: &'static str,
        detail: String,
        set: PacketSet,
    ) {
        t.blocks.push(Block {
            component: component.to_string(),
            code,
            detail,
        });
        self.finish(t, Ending::Blocked, set);
    }

    /// Applies a filter; when it blocks everything, records the block and continues with the
    /// unfiltered set as a hypothesis.
    fn filter(
        t: &mut Trace,
        before: &PacketSet,
        after: PacketSet,
        component: &str,
        code: &'static str,
        detail: impl FnOnce() -> String,
    ) -> PacketSet {
        if after.is_empty() && !before.is_empty() {
            t.blocks.push(Block {
                component: component.to_string(),
                code,
                detail: detail(),
            });
            before.clone()
        } else {
            after
        }
    }

    fn hop(
        t: &mut Trace,
        component: &str,
        kind: &'static str,
        name: &str,
        detail: String,
        reply: bool,
    ) {
        t.hops.push(Hop {
            component: component.to_string(),
            kind,
            name: name.to_string(),
            detail,
            reply,
        });
    }

    // ---------------------------------------------------------------- sources

    fn start(entry: Option<String>, pre_block: Option<Block>) -> Trace {
        Trace {
            entry,
            blocks: pre_block.into_iter().collect(),
            ..Trace::default()
        }
    }

    /// A host sends `set` (through a load-balancer listener when `entry` is given).
    pub fn from_host_entry(
        &mut self,
        host_id: &str,
        set: PacketSet,
        entry: Option<String>,
        pre_block: Option<Block>,
    ) {
        let h = self.host(host_id);
        let mut t = Self::start(entry, pre_block);
        // The client's subnet, for the replies its NACL may deny (through a listener too: the
        // node's replies to the client are the same; [`Self::forward_lb`] drops it for the
        // node's own leg).
        if !self.goal.network {
            t.client_subnet = Some(h.subnet_id.as_str().into());
        }
        Self::hop(
            &mut t,
            &h.id,
            "source",
            &h.name,
            format!("{} {}", h.kind, h.owner_id.clone().unwrap_or_default()),
            false,
        );
        self.leave_host(h, set, t);
    }

    /// The internet sends `set` (destinations are public addresses); `pre_block`, when set,
    /// already blocks the path (it is walked to name what else blocks it).
    pub fn from_internet_entry(
        &mut self,
        set: PacketSet,
        entry: Option<String>,
        pre_block: Option<Block>,
    ) {
        let mut t = Self::start(entry, pre_block);
        Self::hop(
            &mut t,
            "internet",
            "internet",
            "internet",
            String::new(),
            false,
        );
        self.internet_side(set, t, false);
    }

    /// The internet sends `set` to a host whose public address is unknown or absent
    /// (destinations are the host's private addresses, as the IGW would translate them).
    pub fn from_internet_to_host(
        &mut self,
        host_id: &str,
        set: PacketSet,
        pre_block: Option<Block>,
        entry: Option<String>,
    ) {
        let h = self.host(host_id);
        let mut t = Self::start(entry, pre_block);
        Self::hop(
            &mut t,
            "internet",
            "internet",
            "internet",
            String::new(),
            false,
        );
        self.enter_via_igw(h, set, t);
    }

    /// On-premises sends `set` into the estate by `e`.
    pub fn from_onprem(
        &mut self,
        e: &OnpremEntry,
        set: PacketSet,
        entry: Option<String>,
        pre_block: Option<Block>,
    ) {
        match e {
            OnpremEntry::Vgw(vgw) => self.from_vgw_entry(vgw, set, entry, pre_block),
            OnpremEntry::Tgw { tgw, attachment } => {
                let mut t = Self::start(entry, pre_block);
                // §1.3: no group reference matches a sender outside the VPCs. Unlike traffic
                // that a VPN gateway brings in, it may go on through a NAT gateway (§4.5).
                t.outside_client = true;
                Self::hop(
                    &mut t,
                    attachment,
                    "tgw-attachment",
                    attachment,
                    format!("from on-premises -> {tgw}"),
                    false,
                );
                let m = self.m;
                let resource = m
                    .tgw_attachment(tgw, attachment)
                    .map(|a| a.resource_id.as_str());
                let conns: Vec<&VpnConnection> = m
                    .vpn_connections
                    .values()
                    .filter(|v| Some(v.id.as_str()) == resource)
                    .collect();
                let set = self.vpn_tunnels(attachment, &conns, set, &t, false);
                if set.is_empty() {
                    return;
                }
                // §6.2: the gateway's table associated with the attachment routes the packets;
                // they come from no Availability Zone the gateway would keep.
                self.tgw_forward(tgw, attachment, Zone::Lost, Vec::new(), set, t);
            }
        }
    }

    /// On-premises sends `set` through a VPN gateway.
    pub fn from_vgw_entry(
        &mut self,
        vgw_id: &str,
        set: PacketSet,
        entry: Option<String>,
        pre_block: Option<Block>,
    ) {
        let mut t = Self::start(entry, pre_block);
        t.via_vgw = true;
        Self::hop(
            &mut t,
            vgw_id,
            "vpn-gateway",
            vgw_id,
            "from on-premises".into(),
            false,
        );
        let Some(vgw) = self.m.vpn_gateways.get(vgw_id) else {
            return self.block(
                t,
                vgw_id,
                "NO_ROUTE_TO_DESTINATION",
                format!("{vgw_id} is not in the snapshot"),
                set,
            );
        };
        if vgw.vpc_ids.is_empty() {
            return self.block(
                t,
                vgw_id,
                "NO_ROUTE_TO_DESTINATION",
                format!("{vgw_id} is not attached to a VPC"),
                set,
            );
        }
        let m = self.m;
        let conns: Vec<&VpnConnection> = m
            .vpn_connections
            .values()
            .filter(|v| v.vpn_gateway_id.as_deref() == Some(vgw_id))
            .collect();
        // What the gateway learned (routes it propagated into the VPC's tables: BGP, or Direct
        // Connect, which the snapshot does not describe) may come by another way than the VPN
        // connections: their tunnels decide the rest only.
        let learned: Vec<Interval> = m
            .route_tables
            .values()
            .filter(|rt| vgw.vpc_ids.contains(&rt.vpc_id))
            .flat_map(|rt| &rt.routes)
            .filter(|r| {
                r.origin == RouteOrigin::Propagated
                    && matches!(&r.target, RouteTarget::VpnGateway(g) if g == vgw_id)
            })
            .filter_map(|r| match &r.destination {
                RouteDestination::Cidr(n) => Some(net_intervals(n)),
                RouteDestination::PrefixList(_) => None,
            })
            .flatten()
            .collect();
        let learned = super::packet::merge(learned);
        let by_learned = set.restrict(Dim::Src, &learned);
        let set = self
            .vpn_tunnels(vgw_id, &conns, set.exclude(Dim::Src, &learned), &t, false)
            .union(&by_learned);
        if set.is_empty() {
            return;
        }
        for vpc in vgw.vpc_ids.clone() {
            let cidrs: Vec<Interval> = self
                .m
                .vpc_cidrs(&vpc)
                .iter()
                .flat_map(net_intervals)
                .collect();
            let inside = set.restrict(Dim::Dst, &cidrs);
            let outside = set.exclude(Dim::Dst, &cidrs);
            if !outside.is_empty() {
                self.block(t.clone(), vgw_id, "NO_ROUTE_TO_DESTINATION", format!("{vgw_id} only delivers to {vpc}'s own CIDRs; on-premises cannot use the VPC's internet, NAT or peering connections"), outside);
            }
            // §3.4: the gateway route table sends some destinations through an appliance.
            let (inside, intercepted) = self.gateway_route_table_split(vgw_id, inside, Dim::Dst);
            if !intercepted.is_empty() {
                let mut t2 = t.clone();
                t2.assumptions.push(format!("{vgw_id} has a gateway route table (ingress routing through an appliance), which is not modelled"));
                self.finish(
                    t2,
                    Ending::Unknown(format!(
                        "{vgw_id}'s gateway route table {} sends traffic for {} through an appliance",
                        self.gateway_tables(vgw_id),
                        describe_dst(&intercepted)
                    )),
                    intercepted,
                );
            }
            if !inside.is_empty() {
                self.deliver_in_vpc(
                    &vpc,
                    inside,
                    t.clone(),
                    None,
                    Arrival::Vgw(vgw_id.to_string()),
                );
            }
        }
    }

    /// A load-balancer node accepts `set` on a listener and forwards it to the targets (§5).
    ///
    /// `outside_clients`: the clients are outside the VPCs (internet, on-premises), so where
    /// their address is preserved no group reference matches it at the target.
    pub fn from_lb_listener(
        &mut self,
        node_id: &str,
        listener: &str,
        set: PacketSet,
        outside_clients: bool,
    ) {
        let m = self.m;
        let Some(node) = self.idx.hosts.get(node_id) else {
            return;
        };
        let Some(l) = m.listeners.get(listener) else {
            return;
        };
        let Some(lb) = m.load_balancers.get(&l.lb_arn) else {
            return;
        };
        let mut t = Self::start(Some(listener.to_string()), None);
        t.outside_client = outside_clients;
        Self::hop(
            &mut t,
            &lb.arn,
            "load-balancer",
            &lb.name,
            format!(
                "listener {} {}",
                l.protocol,
                l.port.map(|p| p.to_string()).unwrap_or_default()
            ),
            false,
        );
        let set = set.intersect(&listener_set(l));
        self.forward_lb(node, lb, l, set, t);
    }

    /// Network mode: records `set` as delivered into `subnet` unless something blocked it.
    fn record(&mut self, subnet: &str, set: PacketSet, t: &Trace) {
        if t.blocks.is_empty() && !set.is_empty() {
            self.deliveries.push(Delivery {
                subnet: subnet.to_string(),
                set,
            });
        }
    }

    /// Network mode: the interfaces of a subnet send `set` (no security groups applied).
    pub fn network_from_subnet(&mut self, subnet_id: &str, set: PacketSet) {
        let Some(sub) = self.idx.subnet(subnet_id) else {
            return;
        };
        let t = Trace {
            client_subnet: Some(subnet_id.into()),
            ..Trace::default()
        };
        // §9.1: within a subnet only security groups apply.
        let own = super::index::subnet_intervals(sub);
        let same = set.restrict(Dim::Dst, &own);
        let rest = set.exclude(Dim::Dst, &own);
        self.record(subnet_id, same, &t);
        if !rest.is_empty() {
            self.route_from_subnet(subnet_id, &sub.vpc_id, rest, t);
        }
    }

    /// Network mode: the internet sends `set` to every subnet of every VPC with an internet
    /// gateway, as [`Self::from_internet_to_host`] would for each host there (destinations are
    /// the private addresses the gateway translates public ones to, and IPv6 addresses).
    pub fn network_from_internet(&mut self, set: PacketSet) {
        let m = self.m;
        for (vpc, subnets) in &self.idx.subnets_by_vpc {
            let Some(igw) = m
                .internet_gateways
                .values()
                .find(|g| g.vpc_ids.contains(vpc))
                .map(|g| g.id.clone())
            else {
                continue;
            };
            // §3.4: what the gateway route table sends through an appliance is not followed.
            let (pass, intercepted) = self.gateway_route_table_split(&igw, set.clone(), Dim::Dst);
            if !intercepted.is_empty() {
                self.finish(
                    Trace::default(),
                    Ending::Unknown(format!(
                        "{igw}'s gateway route table {} sends traffic for {} through an appliance",
                        self.gateway_tables(&igw),
                        describe_dst(&intercepted)
                    )),
                    intercepted,
                );
            }
            if pass.is_empty() {
                continue;
            }
            let arrival = Arrival::Igw(igw);
            // VPC Block Public Access: no internet traffic enters a subnet it covers; what
            // enters a subnet it may or may not cover is unknown.
            if m.block_public_access.is_empty() {
                self.network_deliver(vpc, subnets, pass, &Trace::default(), None, &arrival);
            } else {
                let mut open: Vec<(String, Vec<Interval>)> = Vec::new();
                let mut unsettled: BTreeMap<String, Vec<(String, Vec<Interval>)>> = BTreeMap::new();
                for (s, addrs) in subnets {
                    match m.bpa_inbound(s, vpc) {
                        BpaEffect::Pass => open.push((s.clone(), addrs.clone())),
                        BpaEffect::Block(_) => {}
                        BpaEffect::Unsettled(why) => unsettled
                            .entry(why)
                            .or_default()
                            .push((s.clone(), addrs.clone())),
                    }
                }
                self.network_deliver(vpc, &open, pass.clone(), &Trace::default(), None, &arrival);
                for (why, subnets) in unsettled {
                    let before = self.deliveries.len();
                    self.network_deliver(
                        vpc,
                        &subnets,
                        pass.clone(),
                        &Trace::default(),
                        None,
                        &arrival,
                    );
                    for d in self.deliveries.split_off(before) {
                        self.finish(Trace::default(), Ending::Unknown(why.clone()), d.set);
                    }
                }
            }
        }
    }

    /// Network mode, second phase: packets that reached a VPC (see [`Goal::stop_at_vpc`])
    /// enter its subnets, each through its NACL and return routes.
    pub fn network_enter(&mut self, key: &ArrivalKey, set: PacketSet) {
        let t = Self::pending_trace(key.pending_reply.as_deref());
        self.network_enter_vpc(&key.vpc, set, &t, key.from_subnet.as_deref(), &key.arrival);
    }

    /// Network mode, second phase: a trace carrying the reply denial of `subnet`'s NACL that
    /// waits for the return route ([`Trace::pending_reply`]), when there is one. Network mode
    /// keeps no details: the block only marks the path as blocked.
    fn pending_trace(subnet: Option<&str>) -> Trace {
        let mut t = Trace::default();
        if let Some(subnet) = subnet {
            t.pending_reply = Some(Box::new(PendingReply {
                subnet: subnet.to_string(),
                at: 0,
                block: Some(Block {
                    component: subnet.to_string(),
                    code: "SUBNET_ACL_RESTRICTION",
                    detail: format!("the network ACL of {subnet} denies the replies inbound"),
                }),
                hop: None,
            }));
        }
        t
    }

    /// Network mode: packets entering the subnets of a VPC.
    fn network_enter_vpc(
        &mut self,
        vpc_id: &str,
        set: PacketSet,
        t: &Trace,
        from_subnet: Option<&str>,
        arrival: &Arrival,
    ) {
        let idx = self.idx;
        let subnets = idx
            .subnets_by_vpc
            .get(vpc_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        self.network_deliver(vpc_id, subnets, set, t, from_subnet, arrival);
    }

    /// Network mode: packets entering the subnets of a VPC, each through its NACL and return
    /// routes. Neither looks at the destination address, so subnets sharing a NACL, a route
    /// table and an availability zone share one evaluation, of the packets for their addresses
    /// only (every check is a filter of the packet: restricting the destinations first or last
    /// gives the same deliveries, and the checks see a fraction of the boxes).
    fn network_deliver(
        &mut self,
        vpc_id: &str,
        subnets: &[(String, Vec<Interval>)],
        set: PacketSet,
        t: &Trace,
        from_subnet: Option<&str>,
        arrival: &Arrival,
    ) {
        // (NACL, route table, zone, entered from this subnet)
        type Key<'k> = (Option<&'k str>, Option<&'k str>, &'k Option<String>, bool);
        // The subnets the packets are for (and their addresses), by key.
        let mut groups: BTreeMap<Key, Vec<(&str, &[Interval])>> = BTreeMap::new();
        let addrs_of = |members: &[(&str, &[Interval])]| {
            super::packet::merge(
                members
                    .iter()
                    .flat_map(|(_, a)| a.iter().copied())
                    .collect(),
            )
        };
        for (sid, addrs) in subnets {
            if !touches(&set, Dim::Dst, addrs) {
                continue;
            }
            let Some(sub) = self.idx.subnet(sid) else {
                continue;
            };
            let own = from_subnet == Some(sid.as_str());
            let key = (
                self.idx.subnet_nacl(sid).map(|n| n.id.as_str()),
                self.idx.subnet_route_table(sid).map(|r| r.id.as_str()),
                &sub.az,
                own,
            );
            groups
                .entry(key)
                .or_default()
                .push((sid.as_str(), addrs.as_slice()));
        }
        for ((_, _, az, own), members) in groups {
            let sid = members[0].0;
            let addrs = addrs_of(&members);
            let (set, mut t2) = (set.restrict(Dim::Dst, &addrs), t.clone());
            let part = if own {
                set
            } else {
                self.enter_subnet(sid, set, &mut t2, arrival)
            };
            let part = if *arrival == Arrival::PreservedByLb {
                part
            } else {
                let place = Place {
                    subnet_id: sid,
                    vpc_id,
                    az,
                    name: sid,
                };
                let mut undecided = Vec::new();
                let mut followed = Vec::new();
                let before = t2.clone();
                let (part, _) = self.return_routes(
                    place,
                    part,
                    &mut t2,
                    arrival,
                    &mut undecided,
                    &mut followed,
                );
                // Replies handed over another way: whether the client's NACL sees them is not
                // known; the others come back the way the request went and meet it.
                let mut unsure = before.clone();
                unsure.pending_reply = None;
                Self::apply_pending_reply(&mut t2);
                for (why, p) in undecided {
                    self.finish(unsure.clone(), Ending::Unknown(why), p);
                }
                // Replies a transit gateway or a peering carries back another way
                // ([`Self::reply_by_tgw`], [`Self::reply_by_peering`]).
                for (p, back, _) in followed {
                    let mut t3 = before.clone();
                    let mut zone_undecided = Vec::new();
                    let p = self.reply_another_way(
                        place,
                        p,
                        &mut t3,
                        arrival,
                        &back,
                        &mut zone_undecided,
                    );
                    for (why, p, t4) in zone_undecided {
                        self.finish(t4, Ending::Unknown(why), p);
                    }
                    for (member, addrs) in &members {
                        self.record(member, p.restrict(Dim::Dst, addrs), &t3);
                    }
                }
                // The replies that go back the way the request came: after a transit gateway,
                // out by the destination attachment's subnet in the zone and into the client's
                // VPC (only these: a reply another way meets neither).
                let part = self.tgw_reply_leave(place, part, &mut t2, arrival);
                let mut zone_undecided = Vec::new();
                let part = self.tgw_reply_zone(az, part, &mut t2, arrival, &mut zone_undecided);
                for (why, p, t4) in zone_undecided {
                    self.finish(t4, Ending::Unknown(why), p);
                }
                part
            };
            if members.len() == 1 {
                self.record(sid, part, &t2);
                continue;
            }
            for (member, addrs) in members {
                self.record(member, part.restrict(Dim::Dst, addrs), &t2);
            }
        }
    }

    /// §3.4: cuts `set` (packets entering through `gateway`, destinations the VPC's own
    /// addresses) by the gateway's edge-associated route table, longest prefix match on the
    /// destination. Returns (what the table leaves to the `local` route, what it sends to an
    /// appliance: an ENI, an instance or a Gateway Load Balancer endpoint, or any target other
    /// than `local`). Without a gateway route table, everything is left to `local`.
    /// The ids of the gateway route tables associated with `gateway` (for messages).
    fn gateway_tables(&self, gateway: &str) -> String {
        let ids: Vec<&str> = self
            .m
            .route_tables
            .values()
            .filter(|rt| rt.gateway_ids.iter().any(|g| g == gateway))
            .map(|rt| rt.id.as_str())
            .collect();
        ids.join(", ")
    }

    fn gateway_route_table_split(
        &self,
        gateway: &str,
        set: PacketSet,
        dim: Dim,
    ) -> (PacketSet, PacketSet) {
        let m = self.m;
        let mut pass = set;
        let mut intercepted = PacketSet::empty();
        for rt in m
            .route_tables
            .values()
            .filter(|rt| rt.gateway_ids.iter().any(|g| g == gateway))
        {
            let mut keep = PacketSet::empty();
            for (choice, part) in filters::route_partition(m, Some(rt), &rt.vpc_id, &pass, dim) {
                match choice {
                    // No route: not the VPC's address; what follows decides as without a
                    // gateway route table.
                    Some(c) if c.target != RouteTarget::Local => {
                        intercepted = intercepted.union(&part)
                    }
                    _ => keep = keep.union(&part),
                }
            }
            pass = keep;
        }
        (pass, intercepted)
    }

    /// §3.4: the replies to `set` (to its sources) come back in by `gateway`, whose gateway
    /// route table may send them through an appliance, not back the way the traffic left:
    /// those flows end `unknown` (AWS does not support asymmetric routing through a middlebox;
    /// an appliance that sees only the replies may drop them). Returns the rest.
    fn replies_by_gateway_table(&mut self, gateway: &str, set: PacketSet, t: &Trace) -> PacketSet {
        if !self
            .m
            .route_tables
            .values()
            .any(|rt| rt.gateway_ids.iter().any(|g| g == gateway))
        {
            return set;
        }
        let (set, intercepted) = self.gateway_route_table_split(gateway, set, Dim::Src);
        if !intercepted.is_empty() {
            let why = format!(
                "the replies to {} come back in by {gateway}, whose gateway route table {} sends them through an appliance, not back the way the traffic left (asymmetric routing through an appliance is not supported, and what it does with replies alone is not modelled)",
                describe_src(&intercepted),
                self.gateway_tables(gateway)
            );
            self.finish(t.clone(), Ending::Unknown(why), intercepted);
        }
        set
    }

    // ---------------------------------------------------------------- hops

    /// A host's outbound security groups (§1): what they let out; records the hop, or the block.
    fn egress_sgs(&self, h: &Host, set: PacketSet, t: &mut Trace, what: &str) -> PacketSet {
        if !h.filtered_by_sgs {
            return set;
        }
        let mut allowed = PacketSet::empty();
        let mut rules: Vec<String> = Vec::new();
        let ways = self.ways_out(h, &set);
        for (way, part) in &ways {
            let (a, r) = filters::security_groups(
                self.m,
                self.idx,
                &h.groups,
                SgDirection::Egress,
                part,
                &[],
                Some(*way),
            );
            allowed = allowed.union(&a);
            for rule in r {
                if !rules.contains(&rule) {
                    rules.push(rule);
                }
            }
        }
        let groups = h.groups.join(", ");
        let set = Self::filter(t, &set, allowed, &h.id, "ENI_SG_RULES_MISMATCH", || {
            let another_way = ways
                .iter()
                .find_map(|(way, part)| {
                    self.reference_elsewhere(h, SgDirection::Egress, part, *way)
                })
                .unwrap_or_default();
            format!(
                "no outbound rule of {} ({}) allows {what}{another_way}",
                h.name,
                groups_in_snapshot(self.m, &h.groups)
            )
        });
        Self::hop(
            t,
            &groups,
            "security-group",
            &groups,
            format!("outbound: {}", rules.join("; ")),
            false,
        );
        set
    }

    /// `set` split by the way its packets leave `h`'s VPC, which decides the group references
    /// `h`'s outbound rules match (§1.3, [`Way`]): over a peering where the route table of
    /// `h`'s subnet sends them to one, else within the VPC or through a transit gateway. Not
    /// split when no outbound rule of `h`'s groups names a group.
    fn ways_out(&self, h: &Host, set: &PacketSet) -> Vec<(Way, PacketSet)> {
        let names_groups = h
            .groups
            .iter()
            .filter_map(|g| self.m.security_groups.get(g))
            .any(|sg| {
                sg.egress
                    .iter()
                    .any(|r| matches!(r.peer, SgPeer::Group { .. }))
            });
        if !names_groups {
            return vec![(Way::Other, set.clone())];
        }
        let mut peering = PacketSet::empty();
        let mut other = PacketSet::empty();
        for (choice, part) in self.idx.graph.route_partition(&h.subnet_id, set, Dim::Dst) {
            match choice {
                Some(c) if matches!(c.target, RouteTarget::Peering(_)) => {
                    peering = peering.union(&part)
                }
                _ => other = other.union(&part),
            }
        }
        [(Way::Other, other), (Way::Peering, peering)]
            .into_iter()
            .filter(|(_, part)| !part.is_empty())
            .collect()
    }

    /// When a rule of `h`'s groups naming a group of another VPC would allow some of `set`
    /// (which crossed between the VPCs `way`) by another way, what a denial adds to say so
    /// (§1.3, [`Way`]).
    fn reference_elsewhere(
        &self,
        h: &Host,
        dir: SgDirection,
        set: &PacketSet,
        way: Way,
    ) -> Option<String> {
        if way == Way::Any || set.is_empty() {
            return None;
        }
        let allowed =
            |way| filters::security_groups(self.m, self.idx, &h.groups, dir, set, &[], Some(way)).0;
        if allowed(Way::Any).subtract(&allowed(way)).is_empty() {
            return None;
        }
        let came = match dir {
            SgDirection::Ingress => "came",
            SgDirection::Egress => "leaves",
        };
        let this = match way {
            Way::Peering => "over a peering connection",
            Way::Bare => "through a transit gateway that carries no references",
            _ if dir == SgDirection::Egress => "within the VPC or through a transit gateway",
            _ => "within the VPC or through a transit gateway with security-group referencing",
        };
        Some(format!(
            "; a rule naming a group of another VPC would allow it by another way: such a reference matches only traffic over the peering connection (a peered VPC's group) or, inbound, through a transit gateway with security-group referencing (the gateway's), and this traffic {came} {this}"
        ))
    }

    fn leave_host(&mut self, h: &'m Host, set: PacketSet, mut t: Trace) {
        self.steps += 1;
        if t.depth > MAX_DEPTH || self.steps > MAX_STEPS {
            return self.finish(
                t,
                Ending::Unknown("the path is too long to follow (a routing loop?)".into()),
                set,
            );
        }
        t.depth += 1;
        // §1.1, §9.12: the VPC resolver (base + 2), instance metadata, time sync and the other
        // link-local services answer every ENI whatever its security groups and NACLs say, on
        // the ports they serve; nothing else answers at those addresses.
        let services = exempt_service_ports(self.m, &h.vpc_id);
        let exempt: Vec<Interval> = services.iter().map(|(a, _, _)| *a).collect();
        let at_services = set.restrict(Dim::Dst, &exempt);
        let set = set.exclude(Dim::Dst, &exempt);
        let service_ports = PacketSet::from_boxes(services.iter().flat_map(|(a, protos, port)| {
            protos.iter().map(move |p| {
                PBox::FULL
                    .with(Dim::Dst, *a)
                    .with(Dim::Proto, (*p as u128, *p as u128))
                    .with(Dim::DstPort, (*port as u128, *port as u128))
            })
        }));
        let served = at_services.intersect(&service_ports);
        let unserved = at_services.subtract(&served);
        if !unserved.is_empty() && self.goal.external {
            let detail = format!(
                "{} is an Amazon-provided service (DNS on 53, instance metadata on tcp 80, time sync on udp 123, Windows activation on tcp 1688): nothing answers this traffic there",
                describe_dst(&unserved)
            );
            self.block(
                t.clone(),
                "aws-service",
                "DESTINATION_PORT_CLOSED",
                detail,
                unserved,
            );
        }
        if !served.is_empty() && self.exit_counts(&t, Exit::Service, "aws-service", &served) {
            let mut t2 = t.clone();
            Self::hop(
                &mut t2,
                "aws-service",
                "aws-service",
                "Amazon-provided service",
                format!(
                    "{}: not filtered by security groups or network ACLs",
                    describe_dst(&served)
                ),
                false,
            );
            self.finish(t2, Ending::Reached, served);
        }
        if set.is_empty() {
            return;
        }
        let before = set.clone();
        let t_before = t.clone();
        let set = self.egress_sgs(h, set, &mut t, "this traffic");
        // (A denial keeps the packets going, blocked, to name what else stops them.)
        let passed = if t.blocks.len() > t_before.blocks.len() {
            PacketSet::empty()
        } else {
            set.clone()
        };
        // What only rules naming prefix lists of unknown entries would let out goes on, but
        // delivering it ends `unknown`.
        if h.filtered_by_sgs {
            if let Some((maybe, lists)) = filters::unknown_entries_part(
                self.m,
                self.idx,
                &h.groups,
                SgDirection::Egress,
                &before,
                &passed,
                Some(Way::Any),
            ) {
                let mut t2 = t_before.clone();
                let groups = h.groups.join(", ");
                let why = unknown_entries_why(&h.name, &groups, "outbound", &lists);
                Self::hop(
                    &mut t2,
                    &groups,
                    "security-group",
                    &groups,
                    format!("outbound: {why}"),
                    false,
                );
                t2.undecided.get_or_insert(why);
                self.send_from_host(h, maybe, t2);
            }
        }
        // §1.3: a load-balancer node known only by its subnet holds its load balancer's
        // groups, but shares its addresses with any other such node there: what only a rule
        // naming one of its groups lets out goes to it alone.
        if h.filtered_by_sgs && t.for_node.is_none() {
            // (Split by way only when there is such a node.)
            let mut ways: Option<Vec<(Way, PacketSet)>> = None;
            for v in self.idx.virtual_nodes() {
                let mut extra = PacketSet::empty();
                for (way, part) in ways.get_or_insert_with(|| self.ways_out(h, &before)).iter() {
                    extra = extra.union(&filters::egress_to_node(self.m, &h.groups, v, part, *way));
                }
                let extra = extra.subtract(&passed);
                if extra.is_empty() {
                    continue;
                }
                let mut t2 = t_before.clone();
                t2.for_node = Some(v.id.clone());
                Self::hop(
                    &mut t2,
                    &h.groups.join(", "),
                    "security-group",
                    &h.groups.join(", "),
                    format!(
                        "outbound: a rule naming a group of {} ({})",
                        v.name,
                        v.groups.join(", ")
                    ),
                    false,
                );
                self.send_from_host(h, extra, t2);
            }
        }
        self.send_from_host(h, set, t);
    }

    /// What a host's security groups let out: to the hosts of its subnet, else routed.
    fn send_from_host(&mut self, h: &'m Host, set: PacketSet, t: Trace) {
        if set.is_empty() {
            return;
        }
        // §9.1: within a subnet only security groups apply.
        // Interfaces first, then load-balancer nodes known only by their subnet (whose address
        // is whatever no interface holds there).
        let mut same_subnet = Vec::new();
        let mut virtual_nodes = Vec::new();
        for other in self.idx.vpc_hosts(&h.vpc_id) {
            if t.for_node.as_ref().is_some_and(|n| *n != other.id) {
                continue;
            }
            if other.subnet_id == h.subnet_id && other.id != h.id {
                if other.virtual_node {
                    virtual_nodes.push(other.id.clone());
                } else {
                    same_subnet.push(other.id.clone());
                }
            }
        }
        let interfaces = same_subnet.len();
        same_subnet.extend(virtual_nodes);
        let mut rest = set.clone();
        let mut virtual_addrs = Vec::new();
        for (i, oid) in same_subnet.into_iter().enumerate() {
            let o = self.host(&oid);
            let part = rest.restrict(Dim::Dst, &o.private);
            if part.is_empty() {
                continue;
            }
            if i < interfaces {
                rest = rest.exclude(Dim::Dst, &o.private);
            } else {
                // Nodes of several load balancers in one subnet all stand for the addresses
                // no interface holds: each gets the packets (as in `deliver_in_vpc`).
                virtual_addrs.extend(o.private.iter().copied());
            }
            let mut t2 = t.clone();
            Self::hop(
                &mut t2,
                &h.subnet_id,
                "subnet",
                &h.subnet_id,
                "same subnet: delivered without route table or network ACL".into(),
                false,
            );
            self.arrive_checked(o, part, t2);
        }
        let rest = rest.exclude(Dim::Dst, &virtual_addrs);
        if rest.is_empty() {
            return;
        }
        self.route_from_subnet(&h.subnet_id, &h.vpc_id, rest, t);
    }

    fn route_from_subnet(&mut self, subnet_id: &str, vpc_id: &str, set: PacketSet, t: Trace) {
        let rt = self.idx.subnet_route_table(subnet_id);
        let rt_id = rt
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("{vpc_id} (local routes assumed)"));
        for (choice, part) in self.idx.graph.route_partition(subnet_id, &set, Dim::Dst) {
            let mut t2 = t.clone();
            match choice {
                None => match rt
                    .is_none()
                    .then(|| self.route_table_unknown(subnet_id, vpc_id))
                {
                    Some(Some(why)) => self.finish(t2, Ending::Unknown(why), part),
                    _ => self.block(
                        t2,
                        &rt_id,
                        "NO_ROUTE_TO_DESTINATION",
                        format!(
                            "route table {rt_id} of {subnet_id} has no route for {}",
                            describe_dst(&part)
                        ),
                        part,
                    ),
                },
                Some(c) if !c.active => self.block(
                    t2,
                    &rt_id,
                    "BLACKHOLE_ROUTE",
                    format!(
                        "route table {rt_id} sends {} to {}, a blackhole (its target is gone)",
                        c.destination,
                        c.target.id()
                    ),
                    part,
                ),
                Some(c) => {
                    Self::hop(
                        &mut t2,
                        &rt_id,
                        "route-table",
                        &rt_id,
                        format!("{} -> {}", c.destination, c.target.id()),
                        false,
                    );
                    // A client in an attachment subnet whose NACL denies the replies to part of
                    // the packets: that part goes on apart, so that the denial can wait for the
                    // return route ([`Self::cross_out`], [`Trace::pending_reply`]).
                    if let Some(denied) = self.replies_denied_apart(subnet_id, &part, &t2) {
                        let rest = part.subtract(&denied);
                        self.follow_route(subnet_id, vpc_id, &rt_id, c, rest, t2.clone());
                        self.follow_route(subnet_id, vpc_id, &rt_id, c, denied, t2);
                        continue;
                    }
                    self.follow_route(subnet_id, vpc_id, &rt_id, c, part, t2);
                }
            }
        }
    }

    /// The packets of `set`, leaving the client's own subnet, whose replies its NACL denies,
    /// when that is some of them but not all and the denial can wait
    /// ([`Trace::pending_reply`]: a client in a transit gateway attachment subnet).
    fn replies_denied_apart(
        &self,
        subnet_id: &str,
        set: &PacketSet,
        t: &Trace,
    ) -> Option<PacketSet> {
        if t.client_subnet.as_deref() != Some(subnet_id)
            || t.pending_reply.is_some()
            || !self.is_attachment_subnet(subnet_id)
        {
            return None;
        }
        let acl = self.idx.subnet_nacl(subnet_id);
        let (allowed, _) = self.idx.nacl_filter(acl, set, NaclCheck::InReply, false);
        if allowed.is_empty() {
            return None;
        }
        let denied = set.subtract(&allowed);
        (!denied.is_empty()).then_some(denied)
    }

    /// Packets leaving `subnet_id` for another subnet: its NACL outbound, and inbound for the
    /// replies coming back.
    fn cross_out(&mut self, subnet_id: &str, set: PacketSet, t: &mut Trace) -> PacketSet {
        let set = self.nacl_check(t, subnet_id, &set, NaclCheck::OutForward);
        self.client_reply_in(subnet_id, set, t)
    }

    /// The inbound rules of `subnet_id` for the replies to packets leaving it. When it is the
    /// client's subnet and a transit gateway attachment subnet, a reply a gateway brings back
    /// into it meets no NACL: what the NACL denies waits for the return route
    /// ([`Trace::pending_reply`]).
    fn client_reply_in(&mut self, subnet_id: &str, set: PacketSet, t: &mut Trace) -> PacketSet {
        let before = t.blocks.len();
        let hops = t.hops.len();
        let out = self.nacl_check(t, subnet_id, &set, NaclCheck::InReply);
        // The replies to a client in a transit gateway attachment subnet may come back through
        // the gateway, which no NACL of that subnet filters: what the NACL denies them waits
        // for the return route ([`Trace::pending_reply`]).
        if t.pending_reply.is_none()
            && t.client_subnet.as_deref() == Some(subnet_id)
            && self.is_attachment_subnet(subnet_id)
        {
            let block = (t.blocks.len() == before + 1).then(|| t.blocks.pop().expect("pushed"));
            let hop = (t.hops.len() == hops + 1).then(|| (hops, t.hops.pop().expect("pushed")));
            t.pending_reply = Some(Box::new(PendingReply {
                subnet: subnet_id.to_string(),
                at: before,
                block,
                hop,
            }));
        }
        out
    }

    /// Whether `subnet_id` is a subnet of one of its VPC's transit gateway attachments.
    fn is_attachment_subnet(&self, subnet_id: &str) -> bool {
        self.idx.is_attachment_subnet(subnet_id)
    }

    /// Replies from on-premises that a transit gateway hands back to the client's VPC (§6.2),
    /// after a request that left by a VPN or Direct Connect attachment: they come from no
    /// Availability Zone, so they may enter by any of the client attachment's subnets; that
    /// subnet's route back and NACLs ([`Self::reply_enter`]). What the subnets would treat
    /// differently ends `unknown`.
    fn reply_into_client_vpc(
        &mut self,
        chain: &[(String, String)],
        set: PacketSet,
        t: &mut Trace,
    ) -> PacketSet {
        let Some(catt) = self
            .client_attachment(chain)
            .filter(|a| a.kind == TgwAttachmentKind::Vpc)
        else {
            return set;
        };
        match self.tgw_entry(catt, None, Handoff::Reply) {
            TgwEntry::Subnet(entry) => self.reply_enter(catt, &entry, set, t),
            TgwEntry::NoSubnet => set,
            TgwEntry::Any { subnets, why } => {
                let (agreed, undecided) = self.reply_handoff_any(catt, &subnets, &why, &set);
                if let Some((why, differ)) = undecided {
                    self.finish(t.clone(), Ending::Unknown(why), differ);
                }
                if agreed.is_empty() {
                    return agreed;
                }
                self.reply_enter(catt, &subnets[0], agreed, t)
            }
        }
    }

    /// Replies a transit gateway may hand to any of `subnets` of `catt` (`why`: why it is not
    /// decided): what they all treat alike, and what they would treat differently, with the
    /// reason.
    fn reply_handoff_any(
        &self,
        catt: &TgwAttachment,
        subnets: &[String],
        why: &str,
        set: &PacketSet,
    ) -> (PacketSet, Option<(String, PacketSet)>) {
        let (agreed, differ) = self.tgw_handoff(catt, subnets, set, Handoff::Reply);
        let undecided = (!differ.is_empty()).then(|| {
            let what = self.handoff_differences(catt, subnets, &differ, Handoff::Reply);
            let why = format!(
                "{why}, so the transit gateway sends the replies into {} through any of {} ({}'s subnets), and they treat them differently: {what}",
                catt.resource_id,
                subnets.join(", "),
                catt.id
            );
            (why, differ)
        });
        (agreed, undecided)
    }

    /// Whether `att` is a VPN or Direct Connect attachment of `tgw`: a way to on-premises.
    fn is_onprem_attachment(&self, tgw: &str, att: &str) -> bool {
        self.idx.tgw_attachment(tgw, att).is_some_and(|a| {
            matches!(
                a.kind,
                TgwAttachmentKind::Vpn | TgwAttachmentKind::DirectConnect
            )
        })
    }

    /// Whether a route's target is a gateway endpoint (S3, DynamoDB) in the snapshot.
    fn is_gateway_endpoint(&self, target: &RouteTarget) -> bool {
        matches!(target, RouteTarget::VpcEndpoint(v)
            if self.m.vpc_endpoints.get(v).is_some_and(|e| e.kind == EndpointKind::Gateway))
    }

    /// Applies a pending reply block ([`Trace::pending_reply`]) at its place.
    fn apply_pending_reply(t: &mut Trace) {
        if let Some(pending) = t.pending_reply.take() {
            let PendingReply { at, block, hop, .. } = *pending;
            if let Some(block) = block {
                let at = at.min(t.blocks.len());
                t.blocks.insert(at, block);
            }
            if let Some((at, hop)) = hop {
                let at = at.min(t.hops.len());
                t.hops.insert(at, hop);
            }
        }
    }

    /// Packets entering `subnet_id` from another subnet: its NACL inbound, and outbound for the
    /// replies going back.
    fn cross_in(&mut self, subnet_id: &str, set: PacketSet, t: &mut Trace) -> PacketSet {
        let set = self.nacl_check(t, subnet_id, &set, NaclCheck::InForward);
        self.nacl_check(t, subnet_id, &set, NaclCheck::OutReply)
    }

    /// Packets entering the subnet of a host (or a whole subnet, in network mode) from another
    /// subnet of its VPC, the way they arrived: [`Self::cross_in`], except that after a transit
    /// gateway the replies leave by the attachment subnet of their own Availability Zone
    /// ([`Self::reply_exit`]): [`Self::tgw_reply_leave`] checks that with the reply's other NACLs.
    fn enter_subnet(
        &mut self,
        subnet_id: &str,
        set: PacketSet,
        t: &mut Trace,
        arrival: &Arrival,
    ) -> PacketSet {
        if matches!(arrival, Arrival::Tgw { .. }) {
            self.nacl_check(t, subnet_id, &set, NaclCheck::InForward)
        } else {
            self.cross_in(subnet_id, set, t)
        }
    }

    /// One check of `subnet_id`'s NACL ([`Self::nacl_step`] with the usual wording).
    fn nacl_check(
        &self,
        t: &mut Trace,
        subnet_id: &str,
        set: &PacketSet,
        check: NaclCheck,
    ) -> PacketSet {
        let acl = self.idx.subnet_nacl(subnet_id);
        // (what a denial says, the hop's direction)
        let (denies, direction) = match check {
            NaclCheck::OutForward => ("denies this traffic outbound", "outbound of"),
            NaclCheck::InReply => ("denies the replies inbound (NACLs are stateless: allow the return traffic to the client's source ports)", "reply inbound to"),
            NaclCheck::InForward => ("denies this traffic inbound", "inbound to"),
            NaclCheck::OutReply => ("denies the replies outbound (NACLs are stateless: allow the return traffic to the client's source ports, usually 1024-65535)", "reply outbound from"),
        };
        self.nacl_step(
            t,
            acl,
            set,
            check,
            |id| {
                // Replies of ICMP queries are allowed by their type, not by ports.
                let icmp_only = set
                    .project(Dim::Proto)
                    .iter()
                    .all(|&p| p == (1, 1) || p == (58, 58));
                match check {
                    NaclCheck::InReply | NaclCheck::OutReply if icmp_only => {
                        let way = if check == NaclCheck::InReply { "inbound" } else { "outbound" };
                        format!("network ACL {id} of {subnet_id} denies the replies {way} (NACLs are stateless: allow the ICMP reply type back, e.g. 0 for echo (8), 14 for timestamp (13), 129 for ICMPv6 echo (128))")
                    }
                    _ => format!("network ACL {id} of {subnet_id} {denies}"),
                }
            },
            || format!("{direction} {subnet_id}"),
        )
    }

    /// One check of a subnet's NACL: what passes (or, when nothing does, the whole set with
    /// the block recorded, `denies` giving its detail from the NACL's id) and, outside
    /// network mode, the hop (`hop` gives its prefix) with the rules that allowed.
    fn nacl_step(
        &self,
        t: &mut Trace,
        acl: Option<&NetworkAcl>,
        set: &PacketSet,
        check: NaclCheck,
        denies: impl FnOnce(&str) -> String,
        hop: impl FnOnce() -> String,
    ) -> PacketSet {
        let acl_id = acl.map_or("default NACL (assumed)", |a| a.id.as_str());
        // Network mode keeps no hops: the allowing rules are not worked out.
        let network = self.goal.network;
        let (allowed, rules) = self.idx.nacl_filter(acl, set, check, !network);
        let passes = !allowed.is_empty();
        let out = Self::filter(t, set, allowed, acl_id, "SUBNET_ACL_RESTRICTION", || {
            denies(acl_id)
        });
        if !network {
            let reply = matches!(check, NaclCheck::OutReply | NaclCheck::InReply);
            let rule = match (acl, rules.is_empty()) {
                // Only replies pass a NACL without a rule: ICMP messages that get none.
                (Some(_), true) if passes && reply => {
                    "none (this ICMP message gets no reply)".to_string()
                }
                (Some(_), true) => "no rule allows it".to_string(),
                _ => format!("rule {}", list(&rules)),
            };
            let detail = format!("{}: {rule}", hop());
            Self::hop(t, acl_id, "nacl", acl_id, detail, reply);
        }
        out
    }

    /// §4.5: packets a NAT gateway takes: the source becomes its private address, source
    /// ports 1024-65535, and its subnet's route table sends them on; towards an internet
    /// gateway, the source becomes its Elastic IP (a private NAT gateway's is dropped there).
    fn through_nat(&mut self, nat: &'m NatGateway, set: PacketSet, mut t: Trace) {
        let nat_id = &nat.id;
        let nat_name = name_tag(&nat.tags).unwrap_or(nat_id).to_string();
        if let Some(state) = &nat.unsettled {
            return self.finish(
                t,
                Ending::Unknown(format!(
                    "{nat_id} is {state}: whether it carries the traffic is not known (pending: not ready yet; deleting: may still carry it)"
                )),
                set,
            );
        }
        // A record without a subnet: a regional NAT gateway (`AvailabilityMode` regional,
        // spanning the VPC's zones; VPC User Guide), or an incomplete record. Which route table
        // sends its traffic on is not modelled.
        if nat.subnet_id.is_empty() {
            return self.finish(
                t,
                Ending::Unknown(format!(
                    "{nat_id} has no subnet (a regional NAT gateway, or a record without SubnetId): the way it sends traffic on is not modelled"
                )),
                set,
            );
        }
        // §4.5: a NAT gateway handles TCP, UDP and ICMP (ICMPv6 for NAT64), nothing else.
        let v4_only = [super::packet::ALL_V4];
        let set_v4 = set.restrict(Dim::Src, &v4_only);
        let set_v6 = set.exclude(Dim::Src, &v4_only);
        let (handled_v4, handled_v6) = ([(1, 1), (6, 6), (17, 17)], [(6, 6), (17, 17), (58, 58)]);
        let other = set_v4
            .exclude(Dim::Proto, &handled_v4)
            .union_disjoint(&set_v6.exclude(Dim::Proto, &handled_v6));
        let v4 = set_v4.restrict(Dim::Proto, &handled_v4);
        let v6 = set_v6.restrict(Dim::Proto, &handled_v6);
        let set = v4.union_disjoint(&v6);
        if !other.is_empty() {
            self.block(
                t.clone(),
                nat_id,
                "PROTOCOL_NOT_SUPPORTED",
                format!("{nat_id} carries TCP, UDP and ICMP only"),
                other,
            );
        }
        if set.is_empty() {
            return;
        }
        // §4.5: source becomes the NAT's private address, source ports 1024-65535.
        t.client_ports = Some(
            t.client_ports
                .clone()
                .unwrap_or_else(|| set.project(Dim::SrcPort)),
        );
        let nat_addrs: Vec<Interval> = nat
            .private_ips
            .iter()
            .map(|a| super::packet::addr_interval(std::net::IpAddr::V4(*a)))
            .collect();
        // §4.5: a gateway with secondary addresses sends each connection from one of them
        // (which one is its choice): every one is a possible source.
        let nat_addrs: Vec<Interval> = if nat_addrs.is_empty() {
            vec![self
                .m
                .subnets
                .get(&nat.subnet_id)
                .and_then(|s| s.cidr_v4)
                .map(|c| net_intervals(&ipnet::IpNet::V4(c))[0])
                .unwrap_or(super::packet::ALL_V4)]
        } else {
            super::packet::merge(nat_addrs)
        };
        // A NAT gateway also translates IPv6 packets for the well-known prefix 64:ff9b::/96
        // into IPv4 (NAT64: VPC User Guide, "DNS64 and NAT64"); that is not modelled, so what
        // it would carry is `unknown`. Other IPv6 packets it does not translate.
        let nat64_prefix = net_intervals(&"64:ff9b::/96".parse().expect("a prefix"));
        let nat64 = v6.restrict(Dim::Dst, &nat64_prefix);
        if !nat64.is_empty() {
            self.finish(
                t.clone(),
                Ending::Unknown(format!(
                    "{nat_id} would translate the IPv6 packets for 64:ff9b::/96 to IPv4 (NAT64), which is not modelled"
                )),
                nat64,
            );
        }
        if v4.is_empty() {
            let other_v6 = v6.exclude(Dim::Dst, &nat64_prefix);
            if other_v6.is_empty() {
                return;
            }
            return self.block(
                t,
                nat_id,
                "NO_ROUTE_TO_DESTINATION",
                format!("{nat_id} translates IPv4, and IPv6 for 64:ff9b::/96 only"),
                other_v6,
            );
        }
        let v4 = v4.rewrite(Dim::SrcPort, (1024, 65535));
        let translated = nat_addrs.iter().fold(PacketSet::empty(), |acc, a| {
            acc.union(&v4.rewrite(Dim::Src, *a))
        });
        Self::hop(
            &mut t,
            nat_id,
            "nat-gateway",
            &nat_name,
            format!(
                "source translated to {} ports 1024-65535",
                describe_addrs(&nat_addrs)
            ),
            false,
        );
        let mut t2 = t.clone();
        t2.depth += 1;
        let nat_vpc = nat.vpc_id.clone();
        let nat_subnet = nat.subnet_id.clone();
        let public = nat.public;
        let rt = self.idx.subnet_route_table(&nat_subnet);
        let rt_id = rt.map(|r| r.id.clone()).unwrap_or_default();
        for (choice, part) in self
            .idx
            .graph
            .route_partition(&nat_subnet, &translated, Dim::Dst)
        {
            let mut t3 = t2.clone();
            match choice {
                None => match self.route_table_unknown(&nat_subnet, &nat_vpc) {
                    Some(why) => self.finish(t3, Ending::Unknown(why), part),
                    None => self.block(t3, &rt_id, "NO_ROUTE_TO_DESTINATION", format!("route table {rt_id} of the NAT gateway's subnet {nat_subnet} has no route for {}", describe_dst(&part)), part),
                },
                Some(c) if !c.active => self.block(t3, &rt_id, "BLACKHOLE_ROUTE", format!("route table {rt_id} sends {} to a blackhole", c.destination), part),
                Some(c) => {
                    if matches!(c.target, RouteTarget::InternetGateway(_)) {
                        if !public {
                            self.block(t3, nat_id, "NO_PUBLIC_IP_FOR_EGRESS", format!("{nat_id} is a private NAT gateway (no Elastic IP): the internet gateway drops its traffic"), part);
                            continue;
                        }
                        if let RouteTarget::InternetGateway(igw) = &c.target {
                            if !self.m.internet_gateways.get(igw).is_some_and(|g| g.vpc_ids.contains(&nat_vpc)) {
                                self.block(t3, igw, "BLACKHOLE_ROUTE", format!("{igw} is not attached to {nat_vpc}"), part);
                                continue;
                            }
                            let out = self.cross_out(&nat_subnet, part, &mut t3);
                            bpa_apply(&mut t3, &nat_subnet, self.m.bpa_outbound(&nat_subnet, &nat_vpc, false, true));
                            let out = self.replies_by_gateway_table(igw, out, &t3);
                            let (sent, unpaired) = nat_elastic_ips(nat, out);
                            if !unpaired.is_empty() {
                                let detail = if nat.public_ips.is_empty() {
                                    format!("{nat_id} has no Elastic IP")
                                } else {
                                    format!("{nat_id} has no Elastic IP paired with {}", describe_src(&unpaired))
                                };
                                self.block(t3.clone(), nat_id, "NO_PUBLIC_IP_FOR_EGRESS", detail, unpaired);
                            }
                            if sent.is_empty() {
                                continue;
                            }
                            Self::hop(&mut t3, igw, "igw", igw, format!("source translated to the NAT gateway's Elastic IP {}", describe_src(&sent)), false);
                            self.internet_side(sent, t3, false);
                        }
                    } else {
                        Self::hop(&mut t3, &rt_id, "route-table", &rt_id, format!("{} -> {}", c.destination, c.target.id()), false);
                        self.follow_route(&nat_subnet, &nat_vpc, &rt_id, c, part, t3);
                    }
                }
            }
        }
    }

    fn follow_route(
        &mut self,
        subnet_id: &str,
        vpc_id: &str,
        rt_id: &str,
        c: &RouteChoice,
        set: PacketSet,
        mut t: Trace,
    ) {
        // A route back to a NAT gateway from its own subnet sends the translated packets round
        // again: the depth grows with every pass.
        if t.depth > MAX_DEPTH {
            return self.finish(
                t,
                Ending::Unknown(format!(
                    "the path is too long to follow (a routing loop? route table {rt_id} sends {} to {} once more)",
                    describe_dst(&set),
                    c.target.id()
                )),
                set,
            );
        }
        let transit_forbidden = t.via_peering || t.via_vgw;
        match &c.target {
            RouteTarget::Local => {
                let set = self.cross_out(subnet_id, set, &mut t);
                self.deliver_in_vpc(vpc_id, set, t, Some(subnet_id), Arrival::Local);
            }
            // Network mode does not follow paths out to the internet (nor hairpins back in).
            RouteTarget::InternetGateway(_)
            | RouteTarget::EgressOnlyInternetGateway(_)
            | RouteTarget::NatGateway(_)
            | RouteTarget::VpnGateway(_)
                if self.goal.network => {}
            RouteTarget::InternetGateway(igw) | RouteTarget::EgressOnlyInternetGateway(igw) => {
                let egress_only = matches!(c.target, RouteTarget::EgressOnlyInternetGateway(_));
                if transit_forbidden {
                    return self.block(t, igw, "PEERING_TRANSIT_NOT_SUPPORTED", format!("traffic that entered {vpc_id} over a peering connection or VPN cannot leave through {igw}"), set);
                }
                let attached = if egress_only {
                    self.m
                        .egress_only_internet_gateways
                        .get(igw)
                        .is_some_and(|g| g.vpc_ids.iter().any(|v| v == vpc_id))
                } else {
                    self.m
                        .internet_gateways
                        .get(igw)
                        .is_some_and(|g| g.vpc_ids.iter().any(|v| v == vpc_id))
                };
                if !attached {
                    return self.block(t, igw, "BLACKHOLE_ROUTE", format!("route table {rt_id} sends traffic to {igw}, which is not attached to {vpc_id}"), set);
                }
                let set = self.cross_out(subnet_id, set, &mut t);
                bpa_apply(
                    &mut t,
                    subnet_id,
                    self.m.bpa_outbound(subnet_id, vpc_id, egress_only, false),
                );
                let set = self.replies_by_gateway_table(igw, set, &t);
                if set.is_empty() {
                    return;
                }
                // IPv6 sources outside global unicast (unique local addresses, fc00::/7) are
                // not routed on the internet (§4.4): no reply could come back.
                let local = set
                    .exclude(Dim::Src, &[super::packet::ALL_V4])
                    .exclude(Dim::Src, &global_v6());
                let mut set = if local.is_empty() {
                    set
                } else {
                    let detail = format!(
                        "{} is not a global IPv6 address (2000::/3; unique local addresses are fc00::/7): the internet does not route it",
                        describe_src(&local)
                    );
                    let rest = set.subtract(&local);
                    if rest.is_empty() {
                        // Carry on hypothetically to name what else would block.
                        t.blocks.push(Block {
                            component: igw.clone(),
                            code: "NOT_INTERNET_ROUTABLE",
                            detail,
                        });
                        set
                    } else {
                        self.block(t.clone(), igw, "NOT_INTERNET_ROUTABLE", detail, local);
                        rest
                    }
                };
                if egress_only {
                    let v6 = set.exclude(Dim::Src, &[super::packet::ALL_V4]);
                    set = Self::filter(&mut t, &set, v6, igw, "NO_ROUTE_TO_DESTINATION", || {
                        format!("{igw} is an egress-only internet gateway: IPv6 only")
                    });
                    Self::hop(
                        &mut t,
                        igw,
                        "egress-only-igw",
                        igw,
                        "outbound IPv6".into(),
                        false,
                    );
                    return self.internet_side(set, t, true);
                }
                // §4.2: the IGW maps each private IPv4 source to its public address, 1:1.
                let v4 = set.restrict(Dim::Src, &[super::packet::ALL_V4]);
                let v6 = set.exclude(Dim::Src, &[super::packet::ALL_V4]);
                let mut translated = PacketSet::empty();
                for (public, (host_id, private)) in &self.idx.public {
                    let h = &self.idx.hosts[host_id];
                    if h.vpc_id != vpc_id {
                        continue;
                    }
                    let part = v4.restrict(Dim::Src, &[(*private, *private)]);
                    if !part.is_empty() {
                        translated = translated.union(&part.rewrite(Dim::Src, (*public, *public)));
                    }
                }
                let mut untranslated_src = v4.clone();
                for (host_id, private) in self.idx.public.values() {
                    if self.idx.hosts[host_id].vpc_id == vpc_id {
                        untranslated_src = untranslated_src
                            .subtract(&v4.restrict(Dim::Src, &[(*private, *private)]));
                    }
                }
                if !untranslated_src.is_empty() {
                    let mut tb = t.clone();
                    tb.blocks.push(Block {
                        component: igw.clone(),
                        code: "NO_PUBLIC_IP_FOR_EGRESS",
                        detail: format!("{} has no public IPv4 address, so {igw} cannot carry it to the internet (use a NAT gateway or assign a public IP)", describe_src(&untranslated_src)),
                    });
                    Self::hop(
                        &mut tb,
                        igw,
                        "igw",
                        igw,
                        "no public address to translate to".into(),
                        false,
                    );
                    if translated.is_empty() && v6.is_empty() {
                        // Carry on hypothetically to name what else would block.
                        self.internet_side(untranslated_src, tb, true);
                        return;
                    }
                    self.finish(tb, Ending::Blocked, untranslated_src);
                }
                let out = translated.union(&v6);
                if out.is_empty() {
                    return;
                }
                // §4.2: IPv4 sources are translated 1:1; IPv6 addresses are public already (§4.4).
                let detail = match (translated.is_empty(), v6.is_empty()) {
                    (false, true) => "IPv4 source translated to its public address",
                    (true, false) => "IPv6 source passed unchanged (IPv6 addresses are public)",
                    _ => "IPv4 source translated to its public address; IPv6 passed unchanged",
                };
                Self::hop(&mut t, igw, "igw", igw, detail.into(), false);
                self.internet_side(out, t, false);
            }
            RouteTarget::NatGateway(nat_id) => {
                if transit_forbidden {
                    return self.block(t, nat_id, "PEERING_TRANSIT_NOT_SUPPORTED", format!("traffic that entered {vpc_id} over a peering connection or a VPN gateway cannot use {nat_id}"), set);
                }
                let Some(nat) = self.m.nat_gateways.get(nat_id) else {
                    let route = format!("route table {rt_id} sends {} to {nat_id}", c.destination);
                    if let Some(why) = self.not_collected(ResourceKind::NatGateway, route) {
                        return self.finish(t, why, set);
                    }
                    return self.block(
                        t,
                        nat_id,
                        "BLACKHOLE_ROUTE",
                        match self.m.dead_nat_gateways.get(nat_id) {
                            Some(state) => format!("{nat_id} is {state}: it carries no traffic"),
                            None => format!("{nat_id} is not in the snapshot"),
                        },
                        set,
                    );
                };
                if !nat.vpc_id.is_empty() && nat.vpc_id != vpc_id {
                    return self.block(t, nat_id, "BLACKHOLE_ROUTE", format!("route table {rt_id} sends {} to {nat_id}, which is not a NAT gateway of {vpc_id}", c.destination), set);
                }
                let mut set = set;
                if nat.subnet_id != subnet_id {
                    set = self.cross_out(subnet_id, set, &mut t);
                    set = self.cross_in(&nat.subnet_id, set, &mut t);
                }
                // §0 step 7: the NAT gateway's replies to the client are routed by its own
                // subnet's table, which must take them back locally.
                static NO_ZONE: Option<String> = None;
                let place = Place {
                    subnet_id: &nat.subnet_id,
                    vpc_id: &nat.vpc_id,
                    az: self.idx.subnet(&nat.subnet_id).map_or(&NO_ZONE, |s| &s.az),
                    name: name_tag(&nat.tags).unwrap_or(nat_id),
                };
                for (part, t) in self.replies_back(place, set, t, &Arrival::Local) {
                    self.through_nat(nat, part, t);
                }
            }
            RouteTarget::Peering(pcx) => {
                if t.via_peering {
                    return self.block(t, pcx, "PEERING_TRANSIT_NOT_SUPPORTED", format!("peering is not transitive: traffic that arrived over a peering connection cannot leave through {pcx}"), set);
                }
                let Some(p) = self.m.peerings.get(pcx) else {
                    let route = format!("route table {rt_id} sends {} to {pcx}", c.destination);
                    if let Some(why) = self.not_collected(ResourceKind::Peering, route) {
                        return self.finish(t, why, set);
                    }
                    return self.block(
                        t,
                        pcx,
                        "BLACKHOLE_ROUTE",
                        format!("{pcx} is not an active peering connection in the snapshot"),
                        set,
                    );
                };
                let Some(other) = p.other_side(vpc_id).map(str::to_string) else {
                    return self.block(
                        t,
                        pcx,
                        "BLACKHOLE_ROUTE",
                        format!("{pcx} does not connect {vpc_id}"),
                        set,
                    );
                };
                if !self.m.vpcs.contains_key(&other) {
                    let t2 = t.clone();
                    return self.finish(
                        t2,
                        Ending::Unknown(format!(
                            "{pcx} leads to {other}, which is not in the snapshot"
                        )),
                        set,
                    );
                }
                let set = self.cross_out(subnet_id, set, &mut t);
                let cidrs: Vec<Interval> = self
                    .m
                    .vpc_cidrs(&other)
                    .iter()
                    .flat_map(net_intervals)
                    .collect();
                let inside = set.restrict(Dim::Dst, &cidrs);
                let outside = set.exclude(Dim::Dst, &cidrs);
                if !outside.is_empty() {
                    self.block(
                        t.clone(),
                        pcx,
                        "PEERING_TRANSIT_NOT_SUPPORTED",
                        format!("{pcx} only delivers to {other}'s CIDRs (no edge-to-edge routing)"),
                        outside,
                    );
                }
                if inside.is_empty() {
                    return;
                }
                Self::hop(
                    &mut t,
                    pcx,
                    "peering",
                    pcx,
                    format!("{vpc_id} -> {other}"),
                    false,
                );
                if self.goal.gateways.contains(pcx) {
                    return self.finish(t, Ending::Reached, inside);
                }
                t.via_peering = true;
                self.deliver_in_vpc(&other, inside, t, None, Arrival::Peering(pcx.clone()));
            }
            RouteTarget::TransitGateway(tgw) => self.via_tgw(subnet_id, vpc_id, tgw, set, t),
            RouteTarget::VpnGateway(vgw) => {
                if t.via_peering {
                    return self.block(
                        t,
                        vgw,
                        "PEERING_TRANSIT_NOT_SUPPORTED",
                        format!("traffic that arrived over a peering connection cannot use {vgw}"),
                        set,
                    );
                }
                if !self
                    .m
                    .vpn_gateways
                    .get(vgw)
                    .is_some_and(|g| g.vpc_ids.iter().any(|v| v == vpc_id))
                {
                    let route = format!("route table {rt_id} sends {} to {vgw}", c.destination);
                    if let Some(why) = self.not_collected(ResourceKind::VpnGateway, route) {
                        return self.finish(t, why, set);
                    }
                    return self.block(
                        t,
                        vgw,
                        "BLACKHOLE_ROUTE",
                        format!("{vgw} is not attached to {vpc_id}"),
                        set,
                    );
                }
                let set = self.cross_out(subnet_id, set, &mut t);
                let set = self.replies_by_gateway_table(vgw, set, &t);
                if set.is_empty() {
                    return;
                }
                // A propagated route is one the gateway learned (static VPN routes, BGP, Direct
                // Connect): its VPN connections' static routes do not limit it.
                let learned = c.propagated;
                self.exit_to_onprem(vgw, set, t, false, |v| {
                    !learned && v.vpn_gateway_id.as_deref() == Some(vgw)
                });
            }
            RouteTarget::VpcEndpoint(vpce) => {
                let kind = self.m.vpc_endpoints.get(vpce).map(|e| e.kind);
                match kind {
                    Some(EndpointKind::Gateway) => {
                        if transit_forbidden {
                            return self.block(t, vpce, "PEERING_TRANSIT_NOT_SUPPORTED", format!("traffic that arrived over a peering connection or VPN cannot use gateway endpoint {vpce}"), set);
                        }
                        let set = self.cross_out(subnet_id, set, &mut t);
                        if let Some(state) = &self.m.vpc_endpoints[vpce].unsettled {
                            t.undecided.get_or_insert(format!("{vpce} is {state}: whether the endpoint carries traffic yet is not known (it does once available)"));
                        }
                        let service = self.m.vpc_endpoints[vpce].service_name.clone();
                        Self::hop(&mut t, vpce, "gateway-endpoint", &service, format!("to {service}"), false);
                        if self.goal.gateways.contains(vpce) {
                            return self.finish(t, Ending::Reached, set);
                        }
                        if self.exit_counts(&t, Exit::Service, vpce, &set) {
                            self.finish(t, Ending::Reached, set);
                        }
                    }
                    Some(_) => self.finish(t, Ending::Unknown(format!("route table {rt_id} sends {} to {vpce}, a Gateway Load Balancer endpoint: the inspection appliance behind it is not modelled", c.destination)), set),
                    // No endpoint file at all: the snapshot does not say what the (active)
                    // route leads to. With one, the endpoint is gone: the route goes nowhere.
                    None => {
                        let route = format!("route table {rt_id} sends {} to {vpce}", c.destination);
                        match self.not_collected(ResourceKind::VpcEndpoint, route) {
                            Some(why) => self.finish(t, why, set),
                            None => self.block(t, vpce, "BLACKHOLE_ROUTE", format!("route to {vpce}, which is not in the snapshot"), set),
                        }
                    }
                }
            }
            RouteTarget::NetworkInterface(x) | RouteTarget::Instance(x) => {
                // An interface whose source/destination check is on accepts only packets
                // addressed to it (EC2: the check "ensures that the instance is either the
                // source or the destination of any traffic that it receives"): what the route
                // sends it for other addresses is dropped. (An instance: its primary ENI.)
                let m = self.m;
                let eni = m.network_interfaces.get(x.as_str()).or_else(|| {
                    m.instances
                        .get(x.as_str())
                        .and_then(|i| i.eni_ids.first())
                        .and_then(|e| m.network_interfaces.get(e))
                });
                let mut set = set;
                if let Some(eni) = eni.filter(|e| e.source_dest_check) {
                    let own: Vec<Interval> = self
                        .idx
                        .hosts
                        .get(&eni.id)
                        .map(|h| h.private.clone())
                        .unwrap_or_default();
                    let other = set.exclude(Dim::Dst, &own);
                    if !other.is_empty() {
                        self.block(t.clone(), &eni.id, "ENI_SOURCE_DEST_CHECK", format!("route table {rt_id} sends {} to {}, whose source/destination check is on: it drops packets not addressed to it", c.destination, eni.id), other);
                    }
                    set = set.restrict(Dim::Dst, &own);
                    if set.is_empty() {
                        return;
                    }
                }
                self.finish(t, Ending::Unknown(format!("route table {rt_id} sends {} to {x}, an appliance whose forwarding is not modelled", c.destination)), set)
            }
            RouteTarget::Other(x) if c.ambiguous => self.finish(
                t,
                Ending::Unknown(format!(
                    "route table {rt_id} has routes to prefix lists {} holding the same block, to different targets ({x}): AWS picks one at random and keeps it, and which one is not in the snapshot",
                    c.destination
                )),
                set,
            ),
            RouteTarget::Other(x) => self.finish(
                t,
                Ending::Unknown(format!(
                    "route table {rt_id} sends {} to {x}, a target that is not modelled",
                    c.destination
                )),
                set,
            ),
        }
    }

    /// The addresses VPN connections carry when every one of them is static-only (their
    /// static routes, §6.3); `None` when one uses BGP, or there is none (a Direct Connect link,
    /// say): what it carries is not in the snapshot.
    /// What of `set` the VPN connections' tunnels carry (Site-to-Site VPN User Guide): their
    /// address family (IPv4 only on a virtual private gateway), between their local
    /// (on-premises) and remote (AWS) networks: sources remote and destinations local on the
    /// way out (`outbound`), the other way round on the way in. The rest is blocked, with why.
    fn vpn_tunnels(
        &mut self,
        gateway: &str,
        conns: &[&VpnConnection],
        set: PacketSet,
        t: &Trace,
        outbound: bool,
    ) -> PacketSet {
        if conns.is_empty() {
            return set;
        }
        let carried = conns.iter().fold(PacketSet::empty(), |acc, c| {
            let (src, dst) = if outbound {
                (&c.remote_net, &c.local_net)
            } else {
                (&c.local_net, &c.remote_net)
            };
            acc.union(
                &set.restrict(Dim::Src, &net_intervals(src))
                    .restrict(Dim::Dst, &net_intervals(dst)),
            )
        });
        let rest = set.subtract(&carried);
        if !rest.is_empty() {
            let what: Vec<String> = conns
                .iter()
                .map(|c| {
                    format!(
                        "{} carries {} on-premises and {} on the AWS side",
                        c.id, c.local_net, c.remote_net
                    )
                })
                .collect();
            let v6 = rest.exclude(Dim::Src, &[super::packet::ALL_V4]);
            let family = if !v6.is_empty() && conns.iter().any(|c| c.vpn_gateway_id.is_some()) {
                " (a virtual private gateway's VPN connections carry no IPv6)"
            } else {
                ""
            };
            self.block(
                t.clone(),
                gateway,
                "VPN_TUNNEL_MISMATCH",
                format!(
                    "no VPN connection of {gateway} carries {} to {}{family}: {}",
                    describe_src(&rest),
                    describe_dst(&rest),
                    what.join("; ")
                ),
                rest,
            );
        }
        carried
    }

    fn static_only(conns: &[&VpnConnection]) -> Option<Vec<Interval>> {
        (!conns.is_empty() && conns.iter().all(|c| c.static_routes_only)).then(|| {
            conns
                .iter()
                .flat_map(|c| c.static_routes.iter().flat_map(net_intervals))
                .collect()
        })
    }

    /// What of `set` is sent to the Elastic IP of a NAT gateway, blocked: a NAT gateway
    /// carries outbound-initiated flows only and forwards no port (§4.5), whoever sends to its
    /// address, by whatever way; the rest is returned.
    fn drop_at_nat_eips(&mut self, mut set: PacketSet, t: &Trace) -> PacketSet {
        for nat in self.m.nat_gateways.values() {
            let eips: Vec<Interval> = nat
                .public_ips
                .iter()
                .map(|a| super::packet::addr_interval(std::net::IpAddr::V4(*a)))
                .collect();
            let part = set.restrict(Dim::Dst, &eips);
            if part.is_empty() {
                continue;
            }
            set = set.exclude(Dim::Dst, &eips);
            let name = name_tag(&nat.tags).unwrap_or(&nat.id);
            self.block(
                t.clone(),
                &nat.id,
                "NAT_GATEWAY_INBOUND",
                format!(
                    "{} is an Elastic IP of NAT gateway {name}: it accepts no inbound-initiated flows",
                    describe_dst(&part)
                ),
                part,
            );
        }
        set
    }

    fn exit_to_onprem(
        &mut self,
        gateway: &str,
        set: PacketSet,
        mut t: Trace,
        tgw_routed: bool,
        belongs: impl Fn(&VpnConnection) -> bool,
    ) {
        let conns: Vec<&VpnConnection> = self
            .m
            .vpn_connections
            .values()
            .filter(|v| belongs(v))
            .collect();
        let mut set = self.vpn_tunnels(gateway, &conns, set, &t, true);
        if set.is_empty() {
            return;
        }
        // Whether on-premises may take any address (BGP, or a static default route): then it
        // may also forward to the internet, which the snapshot does not show.
        let mut takes_any = conns
            .iter()
            .any(|c| c.static_routes.iter().any(|n| n.prefix_len() == 0));
        // A transit gateway's static VPN routes are in its own tables, which chose this
        // attachment (`tgw_routed`): the connection then lists none (Site-to-Site VPN guide,
        // "Edit static routes": "for a VPN connection on a transit gateway, you add, modify, or
        // remove the static routes in the transit gateway route table"; TGW guide, "VPN
        // attachments": those routes are not filtered by the VPN).
        if let Some(routes) = Self::static_only(&conns).filter(|r| !(tgw_routed && r.is_empty())) {
            let covered = set.restrict(Dim::Dst, &routes);
            let uncovered = set.exclude(Dim::Dst, &routes);
            if !uncovered.is_empty() {
                self.block(
                    t.clone(),
                    gateway,
                    "VGW_NO_ROUTE",
                    format!(
                        "the VPN connections of {gateway} have no static route for {}",
                        describe_dst(&uncovered)
                    ),
                    uncovered,
                );
            }
            set = covered;
            if set.is_empty() {
                return;
            }
        } else {
            takes_any = true;
            t.assumptions.push(format!("routing beyond {gateway} (on-premises, BGP) is not in the snapshot: assumed to reach the destination"));
        }
        let kind = if tgw_routed {
            "tgw-attachment"
        } else {
            "vpn-gateway"
        };
        Self::hop(
            &mut t,
            gateway,
            kind,
            gateway,
            "to on-premises".into(),
            false,
        );
        // (A query to one internet gateway: on-premises may forward it to the internet, never
        // out by that gateway, which carries its own VPC's traffic only.)
        if takes_any
            && self.goal.external
            && self.goal.exit == Some(Exit::Internet)
            && self.goal.exit_gateway.is_none()
        {
            let why = format!("{} leaves for on-premises by {gateway}; whether on-premises forwards it to the internet is not in the snapshot", describe_dst(&set));
            return self.finish(t, Ending::Unknown(why), set);
        }
        if self.exit_counts(&t, Exit::Onprem, gateway, &set) {
            // Whatever on-premises does with it, what is for a NAT gateway's Elastic IP ends
            // there.
            let rest = self.drop_at_nat_eips(set.clone(), &t);
            if rest.is_empty() && !set.is_empty() {
                return;
            }
            self.finish(t, Ending::Reached, rest);
        }
    }

    fn via_tgw(&mut self, subnet_id: &str, vpc_id: &str, tgw: &str, set: PacketSet, mut t: Trace) {
        if t.via_peering {
            return self.block(
                t,
                tgw,
                "PEERING_TRANSIT_NOT_SUPPORTED",
                format!("traffic that arrived over a peering connection cannot use {tgw}"),
                set,
            );
        }
        let m = self.m;
        let Some(att) = vpc_attachment(m, tgw, vpc_id) else {
            let route = format!("{subnet_id}'s route table sends the packets to {tgw}");
            if let Some(why) = self.not_collected(ResourceKind::TgwAttachment, route) {
                return self.finish(t, why, set);
            }
            return self.block(
                t,
                tgw,
                "BLACKHOLE_ROUTE",
                format!("{vpc_id} has no attachment to {tgw}"),
                set,
            );
        };
        if let Some(why) = att.unknown.clone() {
            return self.finish(t, Ending::Unknown(why), set);
        }
        let az = self.idx.subnet(subnet_id).and_then(|s| s.az.clone());
        let att_subnet = attachment_subnet_in(self.idx, att, &az).cloned();
        let Some(att_subnet) = att_subnet else {
            return self.block(t, &att.id, "TGW_NO_ATTACHMENT_IN_AZ", format!("{} has no subnet in {}'s availability zone {}, so {subnet_id} cannot send to {tgw}", att.id, subnet_id, az.unwrap_or_default()), set);
        };
        // The NACL page of the TGW docs: traffic from an instance to the gateway is evaluated by
        // the outbound rules of the instance's subnet and the inbound rules of the attachment
        // subnet, also when they are one subnet.
        let set = self.nacl_check(&mut t, subnet_id, &set, NaclCheck::OutForward);
        let mut set = self.nacl_check(&mut t, &att_subnet, &set, NaclCheck::InForward);
        // The reply comes back from the gateway through an attachment subnet (the one of the
        // Availability Zone it returns in, [`Self::tgw_reply_zone`]) into this subnet, whose inbound
        // rules apply unless it is that attachment subnet: decided here for subnets that are
        // none of the attachment's, there for the others.
        if !att.subnet_ids.iter().any(|s| s == subnet_id) {
            set = self.client_reply_in(subnet_id, set, &mut t);
        }
        Self::hop(
            &mut t,
            &att.id,
            "tgw-attachment",
            &att.id,
            format!("{vpc_id} -> {tgw}"),
            false,
        );
        if self.goal.gateways.contains(tgw) {
            return self.finish(t, Ending::Reached, set);
        }
        let att_id = att.id.clone();
        if self.goal.network && self.goal.stop_at_vpc {
            // Forwarded later, once for every subnet of the VPC that got here with the same
            // reply denial waiting (if any).
            if t.blocks.is_empty() && !set.is_empty() {
                self.tgw_arrivals.push(TgwArrival {
                    key: TgwKey {
                        tgw: tgw.to_string(),
                        attachment: att_id,
                        pending_reply: t
                            .pending_reply
                            .as_ref()
                            .filter(|p| p.block.is_some())
                            .map(|p| p.subnet.clone()),
                    },
                    set,
                });
            }
            return;
        }
        self.tgw_forward(tgw, &att_id, Zone::Entered(&att_subnet), Vec::new(), set, t);
    }

    /// Network mode, second phase: packets that reached a transit gateway from a VPC (see
    /// [`Goal::stop_at_vpc`]) are forwarded by it, to the VPCs it reaches. They come from
    /// several subnets of the VPC, each in its own Availability Zone (`Zone::OfSource`).
    pub fn network_tgw(&mut self, key: &TgwKey, set: PacketSet) {
        let t = Self::pending_trace(key.pending_reply.as_deref());
        self.tgw_forward(
            &key.tgw,
            &key.attachment,
            Zone::OfSource,
            Vec::new(),
            set,
            t,
        );
    }

    /// Forwarding inside a transit gateway: the route table associated with the attachment the
    /// packet came in by decides (§6.2); TGW peering hands it to the peer's table. `zone`: the
    /// Availability Zone the packet entered the gateway in, which it keeps (AZ affinity).
    fn tgw_forward(
        &mut self,
        tgw: &str,
        ingress: &str,
        zone: Zone<'_>,
        mut chain: Vec<(String, String)>,
        set: PacketSet,
        mut t: Trace,
    ) {
        let m = self.m;
        if chain.len() > 4 {
            return self.finish(
                t,
                Ending::Unknown("too many transit gateway peerings in a row".into()),
                set,
            );
        }
        let Some(att) = self.idx.tgw_attachment(tgw, ingress) else {
            return self.block(
                t,
                ingress,
                "TGW_ATTACHMENT_NOT_ASSOCIATED",
                match m.dead_tgw_attachments.get(ingress) {
                    Some(state) => format!("{ingress} is {state}: it carries no traffic"),
                    None => format!("{ingress} is not an attachment of {tgw} in the snapshot"),
                },
                set,
            );
        };
        if let Some(why) = attachment_doubt(att) {
            return self.finish(t, Ending::Unknown(why), set);
        }
        let Some(rt_id) = att.route_table_id.clone() else {
            return self.block(
                t,
                ingress,
                "TGW_ATTACHMENT_NOT_ASSOCIATED",
                format!("{ingress} is associated with no route table of {tgw}"),
                set,
            );
        };
        let Some(rt) = m.tgw_route_tables.get(&rt_id) else {
            let route = format!("{ingress} is associated with {rt_id}");
            if let Some(why) = self.not_collected(ResourceKind::TgwRouteTable, route.clone()) {
                return self.finish(t, why, set);
            }
            // The association names a table AWS has: one the snapshot does not show (another
            // account's, on a shared gateway; or a partial collection), so its routes are
            // not known.
            return self.finish(
                t,
                Ending::Unknown(format!(
                    "{route}, which is not in the snapshot (another account's table, on a gateway shared with this one?): its routes are not known"
                )),
                set,
            );
        };
        // A prefix list whose entries are not in the snapshot may hold a longer prefix than
        // any route the snapshot shows, for any destination: which route is taken is not known.
        let table = self.idx.tgw_table(m, rt);
        if !table.unknown_lists.is_empty() {
            let why = format!("transit gateway route table {rt_id} of {tgw} routes prefix lists whose entries are not in the snapshot ({}; get-managed-prefix-list-entries): the route {} takes is not known", table.unknown_lists.join(", "), describe_dst(&set));
            return self.finish(t, Ending::Unknown(why), set);
        }
        chain.push((tgw.to_string(), ingress.to_string()));
        t.depth += 1;
        // Network mode keeps no hops: the parts for one target go on together.
        let parts = if self.goal.network {
            table.partition_by_target(&set, Dim::Dst)
        } else {
            table.partition(&set, Dim::Dst)
        };
        for (choice, part) in parts {
            let mut t2 = t.clone();
            let Some(c) = choice else {
                if !rt.routes_known {
                    let why = format!("transit gateway route table {rt_id} of {tgw} has no route for {} that the snapshot shows, and its routes are not in the snapshot (search-transit-gateway-routes)", describe_dst(&part));
                    self.finish(t2, Ending::Unknown(why), part);
                    continue;
                }
                self.block(
                    t2,
                    &rt_id,
                    "TGW_NO_ROUTE",
                    format!(
                        "transit gateway route table {rt_id} of {tgw} has no route for {}",
                        describe_dst(&part)
                    ),
                    part,
                );
                continue;
            };
            if let Some(why) = &c.unknown {
                self.finish(t2, Ending::Unknown(why.clone()), part);
                continue;
            }
            if c.blackhole || c.attachments.is_empty() {
                self.block(
                    t2,
                    &rt_id,
                    "TGW_BLACKHOLE_ROUTE",
                    format!(
                        "transit gateway route table {rt_id} drops {} (blackhole route)",
                        c.destination
                    ),
                    part,
                );
                continue;
            }
            Self::hop(
                &mut t2,
                &rt_id,
                "tgw-route-table",
                &rt_id,
                format!("{} -> {}", c.destination, c.attachments.join(",")),
                false,
            );
            let dst_att_id = c.attachments[0].clone();
            let Some(dst) = self.idx.tgw_attachment(tgw, &dst_att_id) else {
                self.block(
                    t2,
                    &dst_att_id,
                    "TGW_BLACKHOLE_ROUTE",
                    match m.dead_tgw_attachments.get(&dst_att_id) {
                        Some(state) => format!("{dst_att_id} is {state}: it carries no traffic"),
                        None => format!("{dst_att_id} is not in the snapshot"),
                    },
                    part,
                );
                continue;
            };
            if let Some(why) = attachment_doubt(dst) {
                self.finish(t2, Ending::Unknown(why), part);
                continue;
            }
            match dst.kind {
                TgwAttachmentKind::Vpc => {
                    let dvpc = dst.resource_id.clone();
                    if !m.vpcs.contains_key(&dvpc) {
                        self.finish(
                            t2,
                            Ending::Unknown(format!(
                                "{dst_att_id} leads to {dvpc}, which is not in the snapshot"
                            )),
                            part,
                        );
                        continue;
                    }
                    // §6.2: enters by an attachment subnet (the one in the Availability Zone the
                    // packet entered the gateway by, when the gateway keeps it) and is forwarded
                    // by that subnet's route table.
                    let arrival = Arrival::Tgw {
                        tgw: tgw.to_string(),
                        dst_attachment: dst_att_id.clone(),
                        chain: chain.clone(),
                    };
                    t2.via_bare_tgw =
                        !super::index::tgw_carries_references(self.m, &chain, &dst_att_id);
                    for (entry, part) in self.tgw_entries(dst, zone, &chain, part) {
                        let mut t2 = t2.clone();
                        match entry {
                            TgwEntry::Subnet(entry) => {
                                self.enter_from_tgw(&entry, &dvpc, part, t2, &arrival)
                            }
                            TgwEntry::Any { subnets, why } => {
                                let (agreed, differ) =
                                    self.tgw_handoff(dst, &subnets, &part, Handoff::Forward);
                                if !differ.is_empty() {
                                    let what = self.handoff_differences(
                                        dst,
                                        &subnets,
                                        &differ,
                                        Handoff::Forward,
                                    );
                                    let why = format!(
                                        "{why}, so the transit gateway sends this traffic into {dvpc} through any of {} ({dst_att_id}'s subnets), and they treat it differently: {what}",
                                        subnets.join(", ")
                                    );
                                    if self.goal.network {
                                        self.finish(t2.clone(), Ending::Unknown(why), differ);
                                    } else {
                                        // Followed through every subnet the gateway may pick:
                                        // blocked on every way is unreachable; what gets
                                        // through one way is undecided.
                                        for entry in &subnets {
                                            let mut t3 = t2.clone();
                                            t3.undecided = Some(why.clone());
                                            self.enter_from_tgw(
                                                entry,
                                                &dvpc,
                                                differ.clone(),
                                                t3,
                                                &arrival,
                                            );
                                        }
                                    }
                                }
                                if agreed.is_empty() {
                                    continue;
                                }
                                let entry = subnets[0].clone();
                                if !self.goal.network {
                                    Self::hop(
                                        &mut t2,
                                        &dst_att_id,
                                        "tgw-attachment",
                                        &dst_att_id,
                                        format!("{why}: enters {dvpc} by any of {}, which treat this traffic alike (shown through {entry})", subnets.join(", ")),
                                        false,
                                    );
                                }
                                self.enter_from_tgw(&entry, &dvpc, agreed, t2, &arrival);
                            }
                            TgwEntry::NoSubnet => self.block(
                                t2,
                                &dst_att_id,
                                "TGW_NO_ATTACHMENT_IN_AZ",
                                format!("{dst_att_id} has no subnet"),
                                part,
                            ),
                        }
                    }
                }
                TgwAttachmentKind::Vpn | TgwAttachmentKind::DirectConnect => {
                    // §6.2 return path, §0 step 7: the replies come back into the gateway by
                    // this attachment, whose route table must send them back the way the
                    // request came.
                    let (back, problems) =
                        self.tgw_return_split(&None, &dst_att_id, &dst_att_id, &chain, part);
                    // On-premises may send the replies back by another VPN or Direct Connect
                    // attachment of the gateway, whose table routes them back: which one it
                    // uses is not in the snapshot (§6.3).
                    let others: Vec<String> = m
                        .tgw_attachments
                        .values()
                        .filter(|a| {
                            a.tgw_id == tgw
                                && a.id != dst_att_id
                                && matches!(
                                    a.kind,
                                    TgwAttachmentKind::Vpn | TgwAttachmentKind::DirectConnect
                                )
                        })
                        .map(|a| a.id.clone())
                        .collect();
                    for (code, why, p, component) in problems {
                        if code == UNDECIDED {
                            self.finish(t2.clone(), Ending::Unknown(why), p);
                            continue;
                        }
                        let mut p = p;
                        for other in &others {
                            let (maybe, _) =
                                self.tgw_return_split(&None, other, other, &chain, p.clone());
                            if !maybe.is_empty() {
                                p = p.subtract(&maybe);
                                self.finish(t2.clone(), Ending::Unknown(format!("the replies from on-premises come back into {tgw} by {dst_att_id}, whose table does not route them back, or by {other}, whose table does; which way on-premises sends them is not in the snapshot")), maybe);
                            }
                        }
                        if !p.is_empty() {
                            let detail = format!("{why} for {}", describe_src(&p));
                            self.block(t2.clone(), &component, code, detail, p);
                        }
                    }
                    if back.is_empty() {
                        continue;
                    }
                    let back = self.reply_into_client_vpc(&chain, back, &mut t2);
                    if back.is_empty() {
                        continue;
                    }
                    let vpn = (dst.kind == TgwAttachmentKind::Vpn).then(|| dst.resource_id.clone());
                    self.exit_to_onprem(&dst_att_id, back, t2, true, |v| {
                        Some(&v.id) == vpn.as_ref()
                    });
                }
                TgwAttachmentKind::Peering => {
                    let peer = dst.resource_id.clone();
                    if self.idx.tgw_attachment(&peer, &dst_att_id).is_none() {
                        self.finish(
                            t2,
                            Ending::Unknown(format!(
                                "{dst_att_id} peers with {peer}, whose side is not in the snapshot"
                            )),
                            part,
                        );
                        continue;
                    }
                    Self::hop(
                        &mut t2,
                        &dst_att_id,
                        "tgw-peering",
                        &dst_att_id,
                        format!("{tgw} -> {peer}"),
                        false,
                    );
                    // The docs say nothing of the Availability Zone a packet keeps across a peering
                    // (AZ names differ between Regions): the entry is not decided by it.
                    self.tgw_forward(&peer, &dst_att_id, Zone::Lost, chain.clone(), part, t2);
                }
                _ => self.finish(
                    t2,
                    Ending::Unknown(format!(
                        "{dst_att_id} is a {:?} attachment, which is not modelled",
                        dst.kind
                    )),
                    part,
                ),
            }
        }
    }

    /// [`Self::tgw_entry`] for packets that entered the gateway in `zone`: the entry and the
    /// packets it concerns. In network mode ([`Zone::OfSource`]) the packets of each zone go by
    /// that zone's entry; what all those entries treat alike ([`Self::handoff_alike`]) goes by
    /// the first, once. `chain[0]` is the attachment the packets entered the first gateway by.
    fn tgw_entries(
        &self,
        dst: &TgwAttachment,
        zone: Zone<'_>,
        chain: &[(String, String)],
        part: PacketSet,
    ) -> Vec<(TgwEntry, PacketSet)> {
        let entered = match zone {
            Zone::Entered(s) => Some(s),
            Zone::Lost => None,
            Zone::OfSource => {
                let Some(src) = self.client_attachment(chain) else {
                    return vec![(self.tgw_entry(dst, None, Handoff::Forward), part)];
                };
                // Each zone's entry, with the addresses of the source VPC's subnets there.
                let mut by_entry: Vec<(TgwEntry, Vec<Interval>)> = Vec::new();
                for s in &src.subnet_ids {
                    let az = self.idx.subnet(s).map(|x| &x.az);
                    let sources: Vec<Interval> = self
                        .idx
                        .subnets_by_vpc
                        .get(&src.resource_id)
                        .into_iter()
                        .flatten()
                        .filter(|(sid, _)| self.idx.subnet(sid).map(|x| &x.az) == az)
                        .flat_map(|(_, addrs)| addrs.iter().copied())
                        .collect();
                    let entry = self.tgw_entry(dst, Some(s), Handoff::Forward);
                    match by_entry.iter_mut().find(|(e, _)| *e == entry) {
                        Some((_, addrs)) => addrs.extend(sources),
                        None => by_entry.push((entry, sources)),
                    }
                }
                if by_entry.len() < 2 {
                    let entry = by_entry
                        .pop()
                        .map(|(e, _)| e)
                        .unwrap_or_else(|| self.tgw_entry(dst, None, Handoff::Forward));
                    return vec![(entry, part)];
                }
                let mut out = Vec::new();
                let mut rest = part;
                let decided: Option<Vec<String>> = by_entry
                    .iter()
                    .map(|(e, _)| match e {
                        TgwEntry::Subnet(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                if let Some((agreed, differ)) = decided
                    .as_ref()
                    .and_then(|subnets| self.handoff_alike(subnets, &rest, Handoff::Forward))
                {
                    if !agreed.is_empty() {
                        out.push((by_entry[0].0.clone(), agreed));
                    }
                    rest = differ;
                }
                for (entry, sources) in by_entry {
                    let p = rest.restrict(Dim::Src, &super::packet::merge(sources));
                    if !p.is_empty() {
                        out.push((entry, p));
                    }
                }
                return out;
            }
        };
        vec![(self.tgw_entry(dst, entered, Handoff::Forward), part)]
    }

    /// The attachment subnet by which a transit gateway hands packets to `att`'s VPC, when they
    /// entered the gateway in the Availability Zone of subnet `zone` (none: after a TGW
    /// peering). The gateway keeps the zone (AZ affinity: TGW docs, "How transit gateways work
    /// → Availability Zones"; AWS Prescriptive Guidance, "Transit Gateway traffic flow and
    /// asymmetric routing"): the attachment's subnet there. It picks another zone (at random)
    /// when the attachment has no subnet there, and picks per flow (a flow hash) with appliance
    /// mode on: then any subnet of the attachment, unless it has one only.
    fn tgw_entry(&self, att: &TgwAttachment, zone: Option<&str>, dir: Handoff) -> TgwEntry {
        let mut subnets = att.subnet_ids.clone();
        subnets.sort();
        subnets.dedup();
        match subnets.as_slice() {
            [] => return TgwEntry::NoSubnet,
            [only] => return TgwEntry::Subnet(only.clone()),
            _ => {}
        }
        let what = dir.what();
        let why = if att.appliance_mode {
            format!(
                "{} has appliance mode on (the transit gateway picks the subnet {what} enters {} by per flow)",
                att.id, att.resource_id
            )
        } else if let Some(z) = zone.and_then(|s| self.idx.subnet(s)) {
            let mut unmatched = false;
            for s in &subnets {
                match self.idx.subnet(s).and_then(|b| same_zone(z, b)) {
                    Some(true) => return TgwEntry::Subnet(s.clone()),
                    Some(false) => {}
                    None => unmatched = true,
                }
            }
            let name = z.az.as_deref().unwrap_or("an unknown Availability Zone");
            if unmatched {
                format!(
                    "the Availability Zones of {}'s subnets cannot be matched with {name}, where {what} entered the transit gateway (no zone ids in the snapshot)",
                    att.id
                )
            } else {
                format!(
                    "{} has no subnet in {name}, where {what} entered the transit gateway",
                    att.id
                )
            }
        } else if zone.is_some() {
            format!("the Availability Zone {what} entered the transit gateway in is not known")
        } else {
            format!("{what} entered the transit gateway from a peering, a VPN or Direct Connect, which keep no Availability Zone")
        };
        TgwEntry::Any { subnets, why }
    }

    /// Packets a transit gateway hands to `entry`, an attachment subnet of `dvpc`: forwarded by
    /// its route table. From the gateway to an instance (TGW docs, "Network ACLs for transit
    /// gateways"), the attachment subnet's outbound rules and the instance subnet's inbound
    /// rules apply, none within one subnet.
    fn enter_from_tgw(
        &mut self,
        entry: &str,
        dvpc: &str,
        part: PacketSet,
        t: Trace,
        arrival: &Arrival,
    ) {
        let mut t = t;
        if in_zone_without_tgw_references(self.m, entry) {
            t.via_bare_tgw = true;
        }
        let own = self
            .m
            .subnets
            .get(entry)
            .map(super::index::subnet_intervals)
            .unwrap_or_default();
        let tgw = match arrival {
            Arrival::Tgw { tgw, .. } => tgw.as_str(),
            _ => "the transit gateway",
        };
        for (rc, sub) in self.idx.graph.route_partition(entry, &part, Dim::Dst) {
            let mut t3 = t.clone();
            match rc {
                Some(rc) if rc.active && rc.target == RouteTarget::Local => {
                    let (inside, across) = if touches(&sub, Dim::Dst, &own) {
                        (sub.restrict(Dim::Dst, &own), sub.exclude(Dim::Dst, &own))
                    } else {
                        (PacketSet::empty(), sub)
                    };
                    if !inside.is_empty() {
                        self.deliver_in_vpc(dvpc, inside, t3.clone(), Some(entry), arrival.clone());
                    }
                    if !across.is_empty() {
                        let across = self.nacl_check(&mut t3, entry, &across, NaclCheck::OutForward);
                        // Nothing further depends on the subnet these entered by (none of them
                        // is for it): without it, what entered by the subnets of several zones
                        // reaches the VPC the same way (network mode joins it).
                        self.deliver_in_vpc(dvpc, across, t3, None, arrival.clone());
                    }
                }
                // §3.3: a blackhole route drops what it matches, wherever the packet came from.
                Some(rc) if !rc.active => self.block(t3, entry, "BLACKHOLE_ROUTE", format!("traffic from {tgw} entering {dvpc} is sent by {entry}'s route table to a blackhole ({})", rc.destination), sub),
                // §4.1, §4.2: an internet gateway delivers no private address and gives public
                // IPv4 addresses to its own VPC's interfaces only: IPv4 traffic that came
                // through the transit gateway is dropped there, unless it goes to a public
                // address from one of this VPC's own (not followed, as IPv6 is not).
                Some(rc) if matches!(rc.target, RouteTarget::InternetGateway(_)) => {
                    let v4 = sub.restrict(Dim::Src, &[super::packet::ALL_V4]);
                    let maybe = v4
                        .restrict(Dim::Dst, &internet_space())
                        .restrict(Dim::Src, self.idx.vpc_intervals(dvpc));
                    let dropped = v4.subtract(&maybe);
                    let rest = sub.subtract(&dropped);
                    if !dropped.is_empty() {
                        self.block(t3.clone(), rc.target.id(), "NO_PUBLIC_IP_FOR_EGRESS", format!("traffic from {tgw} entering {dvpc} is routed by {entry}'s route table to {}, which delivers no private address and has no public address for a source outside {dvpc}", rc.target.id()), dropped);
                    }
                    if !rest.is_empty() {
                        self.finish(t3, Ending::Unknown(format!("traffic from {tgw} entering {dvpc} is routed by {entry}'s route table to {}, which is not followed further", rc.target.id())), rest);
                    }
                }
                // §4.5: traffic that arrives by a transit gateway can use a NAT gateway
                // (centralised egress).
                Some(rc) if matches!(rc.target, RouteTarget::NatGateway(_)) => self.tgw_to_nat(entry, dvpc, rc, sub, t3, arrival),
                // A gateway endpoint serves its own VPC only: "endpoint connections cannot be
                // extended out of a VPC", and resources on the other side of a transit gateway
                // cannot use it (VPC endpoints guide, gateway endpoints, considerations; as
                // over a peering or a VPN, §6.1).
                Some(rc) if self.is_gateway_endpoint(&rc.target) => self.block(t3, rc.target.id(), "PEERING_TRANSIT_NOT_SUPPORTED", format!("traffic from {tgw} entering {dvpc} is routed by {entry}'s route table to gateway endpoint {}, which serves {dvpc}'s own resources only (endpoint connections do not extend out of a VPC)", rc.target.id()), sub),
                Some(rc) => self.finish(t3, Ending::Unknown(format!("traffic from {tgw} entering {dvpc} is routed by {entry}'s route table to {}, which is not followed further", rc.target.id())), sub),
                None => match self.route_table_unknown(entry, dvpc) {
                    Some(why) => self.finish(t3, Ending::Unknown(why), sub),
                    None => self.block(t3, entry, "NO_ROUTE_TO_DESTINATION", format!("{entry}'s route table has no route for {}", describe_dst(&sub)), sub),
                },
            }
        }
    }

    /// Packets a transit gateway hands to `entry`, an attachment subnet of `dvpc` whose route
    /// table sends them (route `rc`) to a NAT gateway: centralised egress, which §4.5 allows
    /// ("traffic that arrives via a TGW can" use a NAT gateway). Into the NAT gateway's subnet
    /// as into an instance's (TGW docs, "Network ACLs for transit gateways"): the attachment
    /// subnet's outbound rules and the NAT gateway subnet's inbound rules, none when they are
    /// one subnet. The NAT gateway translates the replies back to the client's address, so its
    /// subnet's route table must send them back to the gateway, as for an instance reached
    /// through it ([`Self::replies_back`]); then the NAT gateway forwards
    /// ([`Self::through_nat`]). Network mode does not follow paths out through a NAT gateway
    /// (as in [`Self::follow_route`]).
    fn tgw_to_nat(
        &mut self,
        entry: &str,
        dvpc: &str,
        rc: &RouteChoice,
        set: PacketSet,
        mut t: Trace,
        arrival: &Arrival,
    ) {
        static NO_ZONE: Option<String> = None;
        let RouteTarget::NatGateway(nat_id) = &rc.target else {
            return;
        };
        if self.goal.network {
            return;
        }
        let m = self.m;
        let rt_id = self
            .idx
            .subnet_route_table(entry)
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("{dvpc} (local routes assumed)"));
        let Some(nat) = m.nat_gateways.get(nat_id).filter(|n| n.vpc_id == dvpc) else {
            let route = format!(
                "route table {rt_id} of {entry} sends {} to {nat_id}",
                rc.destination
            );
            if let Some(why) = self.not_collected(ResourceKind::NatGateway, route) {
                return self.finish(t, why, set);
            }
            return self.block(
                t,
                nat_id,
                "BLACKHOLE_ROUTE",
                format!(
                    "route table {rt_id} of {entry} sends {} to {nat_id}, which is not a NAT gateway of {dvpc} in the snapshot",
                    rc.destination
                ),
                set,
            );
        };
        Self::hop(
            &mut t,
            &rt_id,
            "route-table",
            &rt_id,
            format!(
                "traffic from the transit gateway enters {dvpc} by {entry}: {} -> {nat_id}",
                rc.destination
            ),
            false,
        );
        let mut set = set;
        if nat.subnet_id != entry {
            set = self.nacl_check(&mut t, entry, &set, NaclCheck::OutForward);
            set = self.enter_subnet(&nat.subnet_id, set, &mut t, arrival);
        }
        let place = Place {
            subnet_id: &nat.subnet_id,
            vpc_id: dvpc,
            az: self.idx.subnet(&nat.subnet_id).map_or(&NO_ZONE, |s| &s.az),
            name: name_tag(&nat.tags).unwrap_or(nat_id),
        };
        for (part, t) in self.replies_back(place, set, t, arrival) {
            self.through_nat(nat, part, t);
        }
    }

    /// When a transit gateway may hand `set` to `att`'s VPC by any of `candidates` (its
    /// subnets): the packets every candidate treats alike, and the others. Two candidates treat
    /// a packet alike when it meets the same fate with either: taken on (routed locally, passed
    /// the NACLs crossed), blocked (a NACL, no route), or routed elsewhere (not followed). Past
    /// that, nothing depends on the candidate: the walk goes on through the first one.
    fn tgw_handoff(
        &self,
        att: &TgwAttachment,
        candidates: &[String],
        set: &PacketSet,
        dir: Handoff,
    ) -> (PacketSet, PacketSet) {
        if let Some(alike) = self.handoff_alike(candidates, set, dir) {
            return alike;
        }
        let fates: Vec<[PacketSet; 3]> = candidates
            .iter()
            .map(|c| self.handoff_fates(att, c, set, dir))
            .collect();
        let mut agreed = PacketSet::empty();
        for k in 0..3 {
            let mut every = fates[0][k].clone();
            for f in &fates[1..] {
                every = every.intersect(&f[k]);
            }
            agreed = agreed.union(&every);
        }
        let differ = set.subtract(&agreed);
        (agreed, differ)
    }

    /// [`Self::tgw_handoff`] when the candidates have the same route table and NACL (`None`
    /// otherwise): then only packets to (replies to) an address of a candidate can fare
    /// differently, when routed locally: that one takes them on without a NACL, the others
    /// through the NACL's outbound and inbound rules.
    fn handoff_alike(
        &self,
        candidates: &[String],
        set: &PacketSet,
        dir: Handoff,
    ) -> Option<(PacketSet, PacketSet)> {
        let dim = dir.dim();
        let tables = |s: &str| {
            (
                self.idx.subnet_route_table(s).map(|r| r.id.as_str()),
                self.idx.subnet_nacl(s).map(|n| n.id.as_str()),
            )
        };
        let first = tables(&candidates[0]);
        if candidates.iter().any(|c| tables(c) != first) {
            return None;
        }
        let held: Vec<Interval> = super::packet::merge(
            candidates
                .iter()
                .filter_map(|c| self.idx.subnet(c))
                .flat_map(super::index::subnet_intervals)
                .collect(),
        );
        if !touches(set, dim, &held) {
            return Some((set.clone(), PacketSet::empty()));
        }
        // Replies are routed here only when the client's address is the VPC's (as all
        // candidates' addresses are).
        let to_candidates = set.restrict(dim, &held);
        let local = self
            .idx
            .graph
            .route_partition(&candidates[0], &to_candidates, dim)
            .into_iter()
            .filter(|(rc, _)| {
                rc.as_ref()
                    .is_some_and(|rc| rc.active && rc.target == RouteTarget::Local)
            })
            .fold(PacketSet::empty(), |a, (_, p)| a.union(&p));
        let acl = self.idx.subnet_nacl(&candidates[0]);
        let (out_check, in_check) = dir.checks();
        let (out, _) = self.idx.nacl_filter(acl, &local, out_check, false);
        let (through, _) = self.idx.nacl_filter(acl, &out, in_check, false);
        let differ = local.subtract(&through);
        if differ.is_empty() {
            return Some((set.clone(), differ));
        }
        Some((set.subtract(&differ), differ))
    }

    /// What becomes of `set` handed by the gateway to `att`'s VPC through `via`, one of its
    /// subnets: [taken on, blocked, routed elsewhere] (see [`Self::tgw_handoff`]), as
    /// [`Self::enter_from_tgw`] and [`Self::deliver_in_vpc`] (forward) or [`Self::reply_enter`]
    /// (replies) evaluate it.
    fn handoff_fates(
        &self,
        att: &TgwAttachment,
        via: &str,
        set: &PacketSet,
        dir: Handoff,
    ) -> [PacketSet; 3] {
        let m = self.m;
        let dim = dir.dim();
        let (out_check, in_check) = dir.checks();
        let [mut taken, mut blocked, mut elsewhere] = [(); 3].map(|_| PacketSet::empty());
        // Replies are routed here only when the client's address is the VPC's.
        let (routed, mut local) = match dir {
            Handoff::Forward => (set.clone(), PacketSet::empty()),
            Handoff::Reply => {
                let cidrs = self.idx.vpc_intervals(&att.resource_id);
                (set.restrict(dim, cidrs), set.exclude(dim, cidrs))
            }
        };
        for (rc, part) in self.idx.graph.route_partition(via, &routed, dim) {
            match rc {
                Some(rc) if rc.active && rc.target == RouteTarget::Local => {
                    local = local.union(&part)
                }
                Some(_) => elsewhere = elsewhere.union(&part),
                None => blocked = blocked.union(&part),
            }
        }
        let own = m
            .subnets
            .get(via)
            .map(super::index::subnet_intervals)
            .unwrap_or_default();
        taken = taken.union(&local.restrict(dim, &own));
        let across = local.exclude(dim, &own);
        let (passed, _) =
            self.idx
                .nacl_filter(self.idx.subnet_nacl(via), &across, out_check, false);
        blocked = blocked.union(&across.subtract(&passed));
        // Then the inbound rules of the subnet entered: any subnet of the VPC for the packet;
        // for the reply, only the attachment's own subnets ([`Self::via_tgw`] checked the
        // others where the packet left them).
        let next: Vec<(&str, Vec<Interval>)> = match dir {
            Handoff::Forward => self
                .idx
                .subnets_by_vpc
                .get(&att.resource_id)
                .into_iter()
                .flatten()
                .map(|(s, addrs)| (s.as_str(), addrs.clone()))
                .collect(),
            Handoff::Reply => att
                .subnet_ids
                .iter()
                .filter_map(|s| {
                    m.subnets
                        .get(s)
                        .map(|x| (s.as_str(), super::index::subnet_intervals(x)))
                })
                .collect(),
        };
        let mut rest = passed;
        for (sid, addrs) in next {
            let p = rest.restrict(dim, &addrs);
            if sid == via || p.is_empty() {
                continue;
            }
            rest = rest.exclude(dim, &addrs);
            let (ok, _) = self
                .idx
                .nacl_filter(self.idx.subnet_nacl(sid), &p, in_check, false);
            blocked = blocked.union(&p.subtract(&ok));
            taken = taken.union(&ok);
        }
        [taken.union(&rest), blocked, elsewhere]
    }

    /// Why candidate attachment subnets of `att` treat `differ` differently: their route
    /// tables (when they route it differently), their NACLs, or the address the hand-over goes
    /// to being in one of them.
    fn handoff_differences(
        &self,
        att: &TgwAttachment,
        candidates: &[String],
        differ: &PacketSet,
        dir: Handoff,
    ) -> String {
        let dim = dir.dim();
        let listed = |ids: &[String]| -> Option<String> {
            ids.iter().any(|x| x != &ids[0]).then(|| {
                candidates
                    .iter()
                    .zip(ids)
                    .map(|(c, x)| format!("{c}: {x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        let routed = match dir {
            Handoff::Forward => differ.clone(),
            Handoff::Reply => differ.restrict(dim, self.idx.vpc_intervals(&att.resource_id)),
        };
        let local: Vec<PacketSet> = candidates
            .iter()
            .map(|c| {
                self.idx
                    .graph
                    .route_partition(c, &routed, dim)
                    .into_iter()
                    .filter(|(rc, _)| {
                        rc.as_ref()
                            .is_some_and(|rc| rc.active && rc.target == RouteTarget::Local)
                    })
                    .fold(PacketSet::empty(), |a, (_, p)| a.union(&p))
            })
            .collect();
        let routes_differ = local
            .iter()
            .any(|l| !l.subtract(&local[0]).is_empty() || !local[0].subtract(l).is_empty());
        let all_local = local[1..]
            .iter()
            .fold(local[0].clone(), |a, l| a.intersect(l));
        let rts: Vec<String> = candidates
            .iter()
            .map(|c| {
                self.idx
                    .subnet_route_table(c)
                    .map(|r| r.id.clone())
                    .unwrap_or_else(|| "local routes only".into())
            })
            .collect();
        let acls: Vec<String> = candidates
            .iter()
            .map(|c| {
                self.idx
                    .subnet_nacl(c)
                    .map(|n| n.id.clone())
                    .unwrap_or_else(|| "the default NACL (assumed)".into())
            })
            .collect();
        let mut out = Vec::new();
        if routes_differ {
            if let Some(l) = listed(&rts) {
                out.push(format!("their route tables route it differently ({l})"));
            }
        }
        if !routes_differ || !all_local.is_empty() {
            if let Some(l) = listed(&acls) {
                out.push(format!("their network ACLs differ ({l})"));
            }
        }
        let holders: Vec<&str> = candidates
            .iter()
            .filter(|c| {
                self.idx.subnet(c).is_some_and(|s| {
                    !differ
                        .restrict(dim, &super::index::subnet_intervals(s))
                        .is_empty()
                })
            })
            .map(String::as_str)
            .collect();
        if !holders.is_empty() {
            let who = match dir {
                Handoff::Forward => "destination",
                Handoff::Reply => "client",
            };
            out.push(format!(
                "the {who} is in {}, which passes it on without a network ACL while the others cross one",
                holders.join(", ")
            ));
        }
        if out.is_empty() {
            out.push(format!(
                "route tables {}, network ACLs {}",
                rts.join(", "),
                acls.join(", ")
            ));
        }
        out.join("; ")
    }

    /// Internet side: the packet is on the internet, going to `set`'s destinations.
    fn internet_side(&mut self, set: PacketSet, t: Trace, hypothetical: bool) {
        // Estate public IPv4 addresses: back in through that VPC's IGW (also the hairpin case, §4.6).
        let mut rest = set.clone();
        let dsts = set.project(Dim::Dst);
        // Only the estate's public addresses among the destinations (looked up by address).
        let publics: Vec<(u128, String, u128)> = dsts
            .iter()
            .flat_map(|iv| self.idx.public.range(iv.0..=iv.1))
            .map(|(p, (h, a))| (*p, h.clone(), *a))
            .collect();
        for (public, host_id, private) in publics {
            let part = rest.restrict(Dim::Dst, &[(public, public)]);
            if part.is_empty() {
                continue;
            }
            rest = rest.exclude(Dim::Dst, &[(public, public)]);
            let h = self.host(&host_id);
            self.enter_via_igw(h, part.rewrite(Dim::Dst, (private, private)), t.clone());
        }
        // The Elastic IPs of NAT gateways whose interfaces the snapshot does not list (those
        // it lists are hosts above).
        rest = self.drop_at_nat_eips(rest, &t);
        // IPv6 addresses of hosts are public (§4.4).
        let v6_dsts: Vec<Interval> = dsts
            .iter()
            .copied()
            .filter(|iv| !super::packet::is_v4(iv.1))
            .collect();
        let v6_hosts: Vec<String> = self
            .idx
            .ids_holding(&v6_dsts)
            .into_iter()
            .map(str::to_string)
            .collect();
        // Only global unicast: the others (unique local fc00::/7, §4.4) are not routed on the
        // internet and are left to the unroutable addresses below.
        let global = global_v6();
        for host_id in v6_hosts {
            let h = self.host(&host_id);
            let v6: Vec<Interval> = h
                .private
                .iter()
                .copied()
                .filter(|p| global.iter().any(|g| g.0 <= p.0 && p.1 <= g.1))
                .collect();
            let part = rest.restrict(Dim::Dst, &v6);
            if part.is_empty() {
                continue;
            }
            rest = rest.exclude(Dim::Dst, &v6);
            self.enter_via_igw(h, part, t.clone());
        }
        if rest.is_empty() {
            return;
        }
        let unroutable = rest.restrict(Dim::Dst, &not_internet_routable());
        let routable = rest.exclude(Dim::Dst, &not_internet_routable());
        if !unroutable.is_empty() {
            let mut t2 = t.clone();
            // A private destination held by an ENI: name what else blocks (hypothesis).
            let held: Vec<String> = self
                .idx
                .hosts
                .values()
                .filter(|h| {
                    !h.virtual_node && !unroutable.restrict(Dim::Dst, &h.private).is_empty()
                })
                .map(|h| h.id.clone())
                .collect();
            t2.blocks.push(Block {
                component: "internet".into(),
                code: "NOT_INTERNET_ROUTABLE",
                detail: format!(
                    "{} is a private address: the internet does not route it",
                    describe_dst(&unroutable)
                ),
            });
            if held.is_empty() || hypothetical {
                self.finish(t2, Ending::Blocked, unroutable);
            } else {
                for hid in held {
                    let h = self.host(&hid);
                    let part = unroutable.restrict(Dim::Dst, &h.private);
                    self.enter_via_igw(h, part, t2.clone());
                }
            }
        }
        // Traffic that started on the internet and stays there is not ours to judge.
        let started_outside = t.hops.iter().all(|h| h.kind == "internet");
        if !routable.is_empty() && started_outside && !self.goal.network {
            // A public address some VPC uses privately (§3.2: any range may be a VPC's
            // CIDR): the internet takes it to whoever announces it, never into the VPC.
            let held: Vec<&Host> = self
                .idx
                .hosts
                .values()
                .filter(|h| !h.virtual_node && !routable.restrict(Dim::Dst, &h.private).is_empty())
                .collect();
            let held_addrs =
                super::packet::merge(held.iter().flat_map(|h| h.private.clone()).collect());
            if !held.is_empty() {
                let part = routable.restrict(Dim::Dst, &held_addrs);
                let mut names: Vec<&str> = held.iter().take(3).map(|h| h.name.as_str()).collect();
                let more = format!("{} more", held.len() - names.len());
                if held.len() > names.len() {
                    names.push(&more);
                }
                let mut t2 = t.clone();
                t2.blocks.push(Block {
                    component: "internet".into(),
                    code: "NOT_INTERNET_ROUTABLE",
                    detail: format!(
                        "{} is a private address of {} (its VPC uses a public range privately): the internet routes it to whoever announces that range, not into the VPC",
                        describe_dst(&part),
                        names.join(", ")
                    ),
                });
                self.finish(t2, Ending::Blocked, part);
            }
            // Public addresses nothing of the estate holds (an Elastic IP associated with
            // nothing goes nowhere, §8): the internet does not bring them in.
            let mut unused = routable.exclude(Dim::Dst, &held_addrs);
            // An Elastic IP associated with something the snapshot lacks leads there.
            for (public, with) in &self.m.public_ips_elsewhere {
                let a = super::packet::addr_interval(std::net::IpAddr::V4(*public));
                let part = unused.restrict(Dim::Dst, &[a]);
                if part.is_empty() {
                    continue;
                }
                unused = unused.exclude(Dim::Dst, &[a]);
                self.finish(
                    t.clone(),
                    Ending::Unknown(format!(
                        "{public} is an Elastic IP associated with {with}, which is not in the snapshot: where it leads is not known"
                    )),
                    part,
                );
            }
            if !unused.is_empty() {
                self.block(
                    t.clone(),
                    "internet",
                    "DESTINATION_ADDRESS_UNUSED",
                    format!(
                        "{} is held by nothing in the snapshot (no interface, load balancer or NAT gateway; an Elastic IP associated with nothing goes nowhere): the internet does not bring it into the estate",
                        describe_dst(&unused)
                    ),
                    unused,
                );
            }
        }
        // A query to one internet gateway: leaving by another is leaving elsewhere.
        if let (Some(want), false, false) = (
            self.goal.exit_gateway.as_ref(),
            routable.is_empty(),
            started_outside,
        ) {
            let left_by = t
                .hops
                .iter()
                .rev()
                .find(|h| matches!(h.kind, "igw" | "egress-only-igw"))
                .map(|h| h.component.clone());
            if let Some(by) = left_by.filter(|by| by != want) {
                let detail = format!("the traffic leaves for the internet by {by}, not by {want}");
                return self.block(t, &by, "EXITS_ELSEWHERE", detail, routable);
            }
        }
        if !routable.is_empty()
            && !started_outside
            && self.exit_counts(&t, Exit::Internet, "internet", &routable)
        {
            let mut t2 = t;
            Self::hop(
                &mut t2,
                "internet",
                "internet",
                "internet",
                "exits to the internet".into(),
                false,
            );
            self.finish(t2, Ending::Reached, routable);
        }
    }

    /// Internet → host through its VPC's internet gateway (§4.1, §4.4).
    fn enter_via_igw(&mut self, h: &'m Host, set: PacketSet, mut t: Trace) {
        let m = self.m;
        let igw = m
            .internet_gateways
            .values()
            .find(|g| g.vpc_ids.contains(&h.vpc_id))
            .map(|g| g.id.clone());
        let has_igw = igw.is_some();
        let igw_id = match igw {
            Some(i) => i,
            None => {
                if let Some(eigw) = m
                    .egress_only_internet_gateways
                    .values()
                    .find(|g| g.vpc_ids.contains(&h.vpc_id))
                {
                    t.blocks.push(Block {
                        component: eigw.id.clone(),
                        code: "EGRESS_ONLY_IGW_INBOUND",
                        detail: format!("{} is an egress-only internet gateway: it admits no inbound-initiated IPv6 flow", eigw.id),
                    });
                }
                t.blocks.push(Block {
                    component: h.vpc_id.clone(),
                    code: "IGW_NOT_ATTACHED",
                    detail: format!("{} has no internet gateway attached, so nothing reaches {} from the internet", h.vpc_id, h.name),
                });
                format!("{} (no internet gateway)", h.vpc_id)
            }
        };
        // A query from one gateway: the internet comes in to `h` by its VPC's gateway only.
        // (Only for a host asked about or a load balancer's node on the way to one: any other
        // host the internet's addresses lead to is no answer anyway.)
        if let Some(want) = self.goal.entry_gateway.clone() {
            let asked = self.goal.hosts.contains(&h.id) || t.entry.is_some();
            if has_igw && asked && want != igw_id {
                let egress_only = m
                    .egress_only_internet_gateways
                    .get(&want)
                    .is_some_and(|g| g.vpc_ids.contains(&h.vpc_id));
                let (code, detail) = if egress_only {
                    ("EGRESS_ONLY_IGW_INBOUND", format!("{want} is an egress-only internet gateway: it admits no inbound-initiated IPv6 flow"))
                } else {
                    (
                        "ENTERS_ELSEWHERE",
                        format!(
                            "the internet reaches {} of {} by {igw_id}, not by {want}",
                            h.name, h.vpc_id
                        ),
                    )
                };
                return self.block(t, &want, code, detail, set);
            }
        }
        // §3.4: the gateway route table sends some destinations through an appliance.
        let (set, intercepted) = self.gateway_route_table_split(&igw_id, set, Dim::Dst);
        let any_intercepted = !intercepted.is_empty();
        if any_intercepted {
            let mut t2 = t.clone();
            t2.assumptions.push(format!(
                "{igw_id} has a gateway route table (ingress routing), which is not modelled"
            ));
            self.finish(
                t2,
                Ending::Unknown(format!(
                    "{igw_id}'s gateway route table {} sends traffic for {} through an appliance",
                    self.gateway_tables(&igw_id),
                    describe_dst(&intercepted)
                )),
                intercepted,
            );
        }
        if set.is_empty() && any_intercepted {
            return;
        }
        // A load-balancer node whose interface is not in the snapshot has an address the
        // snapshot does not give: the packets stand for it, addressed to one of its subnet's.
        let to = if h.virtual_node && h.private.iter().any(|p| p.0 != p.1) {
            format!(
                "to {}'s node in {} (its address is not in the snapshot)",
                h.name, h.subnet_id
            )
        } else {
            format!("to {}", describe_dst(&set))
        };
        // VPC Block Public Access stops internet traffic at the gateway (checks after it are
        // still walked, to name what else blocks).
        bpa_apply(&mut t, &h.subnet_id, m.bpa_inbound(&h.subnet_id, &h.vpc_id));
        Self::hop(&mut t, &igw_id, "igw", &igw_id, to, false);
        t.via_igw = true;
        let set = self.cross_in(&h.subnet_id, set, &mut t);
        self.return_route_check(h, set, t, Arrival::Igw(igw_id))
    }

    /// Delivers within a VPC to the hosts holding the destination addresses.
    fn deliver_in_vpc(
        &mut self,
        vpc_id: &str,
        set: PacketSet,
        t: Trace,
        from_subnet: Option<&str>,
        arrival: Arrival,
    ) {
        if self.goal.network && self.goal.stop_at_vpc {
            if t.blocks.is_empty() && !set.is_empty() {
                // A local arrival names its source subnet only for packets that stay in it
                // (none, from `network_from_subnet`): without it, arrivals from the subnets of
                // one VPC share a key.
                let from_subnet = match (from_subnet, &arrival) {
                    (Some(s), Arrival::Local)
                        if self.idx.subnet(s).is_none_or(|sub| {
                            set.restrict(Dim::Dst, &super::index::subnet_intervals(sub))
                                .is_empty()
                        }) =>
                    {
                        None
                    }
                    (s, _) => s.map(str::to_string),
                };
                self.arrivals.push(VpcArrival {
                    key: ArrivalKey {
                        vpc: vpc_id.to_string(),
                        from_subnet,
                        arrival,
                        pending_reply: t
                            .pending_reply
                            .as_ref()
                            .filter(|p| p.block.is_some())
                            .map(|p| p.subnet.clone()),
                    },
                    set,
                });
            }
            return;
        }
        if self.goal.network {
            self.network_enter_vpc(vpc_id, set, &t, from_subnet, &arrival);
            return;
        }
        let mut rest = set.clone();
        // Only hosts holding a destination address (looked up by address), in the VPC's order.
        let hosts: Vec<String> = self
            .idx
            .vpc_holders(vpc_id, &set.project(Dim::Dst), true)
            .into_iter()
            .map(|h| h.id.clone())
            .collect();
        // Nodes of several load balancers in one subnet all stand for the addresses no
        // interface holds: each gets the packets, which are then delivered.
        let mut virtual_addrs = Vec::new();
        for hid in hosts {
            if t.for_node.as_ref().is_some_and(|n| *n != hid) {
                continue;
            }
            let h = self.host(&hid);
            let part = rest.restrict(Dim::Dst, &h.private);
            if part.is_empty() {
                continue;
            }
            if h.virtual_node {
                virtual_addrs.extend(h.private.iter().copied());
            } else {
                rest = rest.exclude(Dim::Dst, &h.private);
            }
            let mut t2 = t.clone();
            let part = if from_subnet == Some(h.subnet_id.as_str()) {
                part
            } else {
                self.enter_subnet(&h.subnet_id, part, &mut t2, &arrival)
            };
            self.return_route_check(h, part, t2, arrival.clone());
        }
        let rest = rest.exclude(Dim::Dst, &virtual_addrs);
        if !rest.is_empty() {
            let cidrs: Vec<Interval> = self
                .m
                .vpc_cidrs(vpc_id)
                .iter()
                .flat_map(net_intervals)
                .collect();
            let inside = rest.restrict(Dim::Dst, &cidrs);
            if !inside.is_empty() {
                self.block(
                    t,
                    vpc_id,
                    "DESTINATION_ADDRESS_UNUSED",
                    format!(
                        "no network interface in {vpc_id} holds {}",
                        describe_dst(&inside)
                    ),
                    inside,
                );
            }
        }
    }

    /// §4.1 step 6, §6: the reply must be routed back the way the packet came.
    fn return_route_check(&mut self, h: &'m Host, set: PacketSet, t: Trace, arrival: Arrival) {
        // §5.3: the reply to a preserved client address goes back through the load
        // balancer's flow state, in a same-Region peered VPC as in the node's own.
        if arrival == Arrival::PreservedByLb
            || (t.preserved && matches!(arrival, Arrival::Peering(_)))
            || set.is_empty()
        {
            return self.arrive_checked(h, set, t);
        }
        let place = Place {
            subnet_id: &h.subnet_id,
            vpc_id: &h.vpc_id,
            az: &h.az,
            name: &h.name,
        };
        for (part, t) in self.replies_back(place, set, t, &arrival) {
            self.arrive_checked(h, part, t);
        }
    }

    /// The replies to packets that reached `place` by `arrival`, on their way back to the
    /// client: the return route ([`Self::return_routes`]) and, after a transit gateway, the
    /// NACLs of the attachment subnets. The parts to carry on with, each with its trace (one
    /// whose way back is not followed carries its reason in [`Trace::undecided`]); what is
    /// blocked is carried on as a hypothesis, with the block in the trace, as
    /// [`Self::filter`] does.
    fn replies_back(
        &mut self,
        place: Place<'_>,
        set: PacketSet,
        mut t: Trace,
        arrival: &Arrival,
    ) -> Vec<(PacketSet, Trace)> {
        let mut out = Vec::new();
        let mut undecided = Vec::new();
        let mut followed = Vec::new();
        let before = t.clone();
        let (set, elsewhere) =
            self.return_routes(place, set, &mut t, arrival, &mut undecided, &mut followed);
        // Replies a transit gateway carries back to the client's VPC, another way than the
        // request came: followed through the gateway's attachment subnets.
        for (part, back, hop) in followed {
            let mut t2 = before.clone();
            if let Some((rt_id, how)) = hop {
                Self::hop(&mut t2, &rt_id, "route-table", &rt_id, how, true);
            }
            let mut zone_undecided = Vec::new();
            let p =
                self.reply_another_way(place, part, &mut t2, arrival, &back, &mut zone_undecided);
            for (why, part, mut t3) in zone_undecided {
                t3.undecided = Some(why);
                out.push((part, t3));
            }
            out.push((p, t2));
        }
        // Replies that go back another way (not followed): the checks after the return
        // route still apply, and what they let through ends `unknown`.
        for (why, part) in undecided {
            let mut t2 = before.clone();
            t2.undecided = Some(why);
            // That way is not followed: whether the client's NACL sees the reply is not known.
            t2.pending_reply = None;
            out.push((part, t2));
        }
        if elsewhere {
            // Blocked on another way: the checks of the request's way back (the client's NACL
            // among them) are not on it.
            t.pending_reply = None;
            out.push((set, t));
            return out;
        }
        // The reply comes back the way the request went: the client's NACL applies.
        Self::apply_pending_reply(&mut t);
        let set = self.tgw_reply_leave(place, set, &mut t, arrival);
        let mut zone_undecided = Vec::new();
        let set = self.tgw_reply_zone(place.az, set, &mut t, arrival, &mut zone_undecided);
        for (why, part, mut t2) in zone_undecided {
            t2.undecided = Some(why);
            out.push((part, t2));
        }
        out.push((set, t));
        out
    }

    /// The return-route check of [`Self::return_route_check`] for packets entering `place`:
    /// what passes (or, when nothing does, the whole set with the blocks recorded in `t`), and
    /// whether what blocks it is a route sending the replies another way than the request
    /// came (the checks of the request's way back are then not on the replies' way).
    fn return_routes(
        &mut self,
        place: Place<'_>,
        set: PacketSet,
        t: &mut Trace,
        arrival: &Arrival,
        undecided: &mut Vec<(String, PacketSet)>,
        followed: &mut Vec<Followed>,
    ) -> (PacketSet, bool) {
        let m = self.m;
        let rt = self.idx.subnet_route_table(place.subnet_id);
        let rt_id = rt
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("{} (local routes assumed)", place.vpc_id));
        // The parts of a partition are disjoint: what gets back is gathered as boxes and
        // made a set once.
        let mut ok: Vec<PBox> = Vec::new();
        // (code, detail, packets, the component that drops them when not the route table,
        // whether the replies go another way than the request came)
        let mut bad: Vec<(&'static str, String, PacketSet, Option<String>, bool)> = Vec::new();
        // What was handed over as undecided.
        let mut unknown = PacketSet::empty();
        for (choice, part) in self
            .idx
            .graph
            .route_partition(place.subnet_id, &set, Dim::Src)
        {
            let good = match (arrival, choice.as_ref()) {
                (_, None) => false,
                (_, Some(c)) if !c.active => false,
                (Arrival::Local, Some(c)) => c.target == RouteTarget::Local,
                (Arrival::Igw(igw), Some(c)) => {
                    matches!(&c.target, RouteTarget::InternetGateway(x) if x == igw)
                }
                (Arrival::Peering(pcx), Some(c)) => {
                    matches!(&c.target, RouteTarget::Peering(x) if x == pcx)
                }
                (Arrival::Vgw(vgw), Some(c)) => {
                    matches!(&c.target, RouteTarget::VpnGateway(x) if x == vgw)
                }
                (Arrival::Tgw { tgw, .. }, Some(c)) => {
                    matches!(&c.target, RouteTarget::TransitGateway(x) if x == tgw)
                }
                (Arrival::PreservedByLb, _) => true,
            };
            if choice.is_none() {
                if let Some(why) = self.route_table_unknown(place.subnet_id, place.vpc_id) {
                    unknown = unknown.union(&part);
                    undecided.push((format!("the replies: {why}"), part));
                    continue;
                }
            }
            if !good {
                // §6.1: AWS does no reverse-path check. A reply that a transit gateway, a
                // peering or an appliance takes another way than the request came may still
                // get back; that way is not followed, so those packets are undecided
                // ([`Self::reply_elsewhere`] says which cannot).
                let mut part = part;
                if let Some(c) = choice.as_ref() {
                    // A reply the transit gateway carries straight back to the client's VPC, or
                    // a peering to it, is followed ([`Self::reply_by_tgw`],
                    // [`Self::reply_by_peering`]).
                    if let Some((exact, back)) = self
                        .reply_by_tgw(place, arrival, c, &part)
                        .or_else(|| self.reply_by_peering(place, arrival, c, &part))
                    {
                        part = part.subtract(&exact);
                        // Network mode keeps no hops.
                        let hop = (!self.goal.network).then(|| {
                            let how = format!(
                                "replies to {} via {} ({}), not back the way the request came",
                                describe_src(&exact),
                                c.target.id(),
                                c.destination
                            );
                            (rt_id.clone(), how)
                        });
                        followed.push((exact, back, hop));
                        if part.is_empty() {
                            continue;
                        }
                    }
                    let mut maybe = self.reply_elsewhere(place, arrival, c, &part);
                    // On their way to a transit gateway the replies meet NACLs whatever the
                    // gateway does next: what they deny does not get back.
                    if let (RouteTarget::TransitGateway(tgw), false) = (&c.target, maybe.is_empty())
                    {
                        for (acl, why, denied) in self.nacls_before_tgw(place, arrival, tgw, &maybe)
                        {
                            maybe = maybe.subtract(&denied);
                            part = part.subtract(&denied);
                            bad.push(("SUBNET_ACL_RESTRICTION", why, denied, Some(acl), true));
                        }
                        if part.is_empty() {
                            continue;
                        }
                    }
                    // What a transit gateway the replies go to drops: named there (after a
                    // request from the internet or through a load balancer keeping the
                    // client's address, no gateway takes them back anyway).
                    if let (RouteTarget::TransitGateway(tgw), true, true) = (
                        &c.target,
                        c.active,
                        matches!(arrival, Arrival::Peering(_) | Arrival::Tgw { .. }),
                    ) {
                        let rest = part.subtract(&maybe);
                        for (code, why, p, table) in self.tgw_reply_drops(place, tgw, &rest) {
                            let how = format!(
                                "route table {rt_id} of {} sends the replies via {tgw} ({}), whose {why}",
                                place.subnet_id, c.destination
                            );
                            part = part.subtract(&p);
                            bad.push((code, how, p, Some(table), true));
                        }
                        if part.is_empty() {
                            continue;
                        }
                    }
                    if !maybe.is_empty() {
                        let why = format!(
                            "route table {rt_id} of {} sends replies to {} via {} ({}), not back the way the traffic came; the way back from there is not followed",
                            place.subnet_id,
                            describe_src(&maybe),
                            c.target.id(),
                            c.destination
                        );
                        unknown = unknown.union(&maybe);
                        part = part.subtract(&maybe);
                        undecided.push((why, maybe));
                        if part.is_empty() {
                            continue;
                        }
                    }
                }
                let why = match choice {
                    None => "has no route back".to_string(),
                    Some(c) if !c.active => {
                        format!("sends replies to a blackhole ({})", c.destination)
                    }
                    Some(c) => format!(
                        "sends replies via {} ({}), not back the way the traffic came",
                        c.target.id(),
                        c.destination
                    ),
                };
                let elsewhere = choice.as_ref().is_some_and(|c| c.active);
                bad.push((
                    "NO_RETURN_ROUTE",
                    format!("route table {rt_id} of {} {why}", place.subnet_id),
                    part,
                    None,
                    elsewhere,
                ));
                continue;
            }
            // The virtual private gateway must carry the replies on: a static-only VPN only to
            // the addresses its static routes cover (§6.3, as on the way out), unless the route
            // back was propagated, which says the gateway learned it (BGP, Direct Connect).
            let learned = choice.as_ref().is_some_and(|c| c.propagated);
            if let (Arrival::Vgw(vgw), false) = (arrival, learned) {
                let conns: Vec<&VpnConnection> = m
                    .vpn_connections
                    .values()
                    .filter(|v| v.vpn_gateway_id.as_deref() == Some(vgw.as_str()))
                    .collect();
                if let Some(routes) = Self::static_only(&conns) {
                    let uncovered = part.exclude(Dim::Src, &routes);
                    if !uncovered.is_empty() {
                        bad.push((
                            "VGW_NO_ROUTE",
                            format!(
                                "route table {rt_id} of {} sends replies to {vgw}, whose VPN connections have no static route for them,",
                                place.subnet_id
                            ),
                            uncovered,
                            None,
                            false,
                        ));
                        ok.extend_from_slice(part.restrict(Dim::Src, &routes).boxes());
                        continue;
                    }
                }
            }
            if let Arrival::Tgw {
                dst_attachment,
                chain,
                ..
            } = arrival
            {
                let (good, problems) =
                    self.tgw_return_split(place.az, place.name, dst_attachment, chain, part);
                for (code, why, p, component) in problems {
                    if code == UNDECIDED {
                        unknown = unknown.union(&p);
                        undecided.push((why, p));
                    } else {
                        bad.push((code, why, p, Some(component), false));
                    }
                }
                ok.extend_from_slice(good.boxes());
                continue;
            }
            ok.extend_from_slice(part.boxes());
        }
        let ok = PacketSet::from_pieces(ok);
        if !bad.is_empty() && ok.is_empty() {
            let (code, why, _, component, elsewhere) = &bad[0];
            let all = bad
                .iter()
                .fold(PacketSet::empty(), |a, (_, _, p, _, _)| a.union(p));
            t.blocks.push(Block {
                component: component.clone().unwrap_or_else(|| rt_id.clone()),
                code,
                detail: format!("{why} for {}", describe_src(&all)),
            });
            Self::hop(
                t,
                &rt_id,
                "route-table",
                &rt_id,
                "return route missing".into(),
                true,
            );
            let elsewhere = *elsewhere;
            return if unknown.is_empty() && followed.is_empty() {
                (set, elsewhere)
            } else {
                (all, elsewhere)
            };
        }
        // Network mode keeps no hops.
        if !self.goal.network {
            let how = match arrival {
                Arrival::Local => "local",
                Arrival::Igw(x) | Arrival::Peering(x) | Arrival::Vgw(x) => x.as_str(),
                Arrival::Tgw { tgw, .. } => tgw.as_str(),
                Arrival::PreservedByLb => "load balancer",
            };
            Self::hop(
                t,
                &rt_id,
                "route-table",
                &rt_id,
                format!("return route via {how}"),
                true,
            );
        }
        (ok, false)
    }

    /// The part of `part` whose replies the route `c` of `place`'s table sends to a transit
    /// gateway although the request came over a peering or through another transit gateway,
    /// and which that gateway's table (for the VPC's attachment, with a subnet in `place`'s
    /// zone) sends straight to the attachment of the client's VPC (§6.1: no reverse-path
    /// check; §0 step 7: the reply follows the destination's route table). Those replies are
    /// followed as replies through the gateway are ([`Self::tgw_reply_zone`], with the
    /// returned arrival): they leave by the attachment's subnet in the zone and enter the
    /// client's VPC by its attachment's subnet there. After a peering, the client's own
    /// subnet's inbound rules were checked where the request left it ([`Self::cross_out`]), or
    /// wait in [`Trace::pending_reply`], which [`Self::reply_enter`] then decides; after
    /// another gateway, [`Self::reply_another_way`] decides them.
    ///
    /// After another gateway, the client's VPC is the one whose attachment the request entered
    /// the first gateway by. A client in a subnet of the second gateway's attachment that is
    /// none of the first's had its subnet's reply denial wait ([`Self::client_reply_in`]):
    /// [`Self::reply_another_way`] decides it.
    fn reply_by_tgw(
        &self,
        place: Place<'_>,
        arrival: &Arrival,
        c: &RouteChoice,
        part: &PacketSet,
    ) -> Option<(PacketSet, Arrival)> {
        let m = self.m;
        let RouteTarget::TransitGateway(tgw) = &c.target else {
            return None;
        };
        if !c.active {
            return None;
        }
        // The client's VPC, and (after another gateway) the first gateway's attachment there.
        let (client_vpc, first) = match arrival {
            Arrival::Peering(pcx) => (m.peerings.get(pcx)?.other_side(place.vpc_id)?, None),
            Arrival::Tgw {
                tgw: came_by,
                chain,
                ..
            } if came_by != tgw => {
                let first = self
                    .client_attachment(chain)
                    .filter(|a| a.kind == TgwAttachmentKind::Vpc)?;
                (first.resource_id.as_str(), Some(first))
            }
            _ => return None,
        };
        let catt = vpc_attachment(m, tgw, client_vpc)?;
        let (datt, mut exact) = self.tgw_reply_routed(place, tgw, part, false, |a| a == catt.id)?;
        if first.is_some() {
            // Clients of the VPC only (the second gateway's route may cover more).
            exact = exact.restrict(Dim::Src, self.idx.vpc_intervals(client_vpc));
        }
        if exact.is_empty() {
            return None;
        }
        let back = Arrival::Tgw {
            tgw: tgw.clone(),
            dst_attachment: datt.id.clone(),
            chain: vec![(tgw.clone(), catt.id.clone())],
        };
        Some((exact, back))
    }

    /// The part of `part` whose replies the route `c` of `place`'s table sends over a
    /// peering straight to the client's VPC although the request came through a transit
    /// gateway (§6.1: AWS does no reverse-path check, §0 step 7: the reply follows the
    /// destination's route table): the client's VPC is the one whose attachment the request
    /// entered the first gateway by, and the peering delivers to its CIDRs only. With the
    /// peering as the way back ([`Self::reply_another_way`]).
    fn reply_by_peering(
        &self,
        place: Place<'_>,
        arrival: &Arrival,
        c: &RouteChoice,
        part: &PacketSet,
    ) -> Option<(PacketSet, Arrival)> {
        let m = self.m;
        let (Arrival::Tgw { chain, .. }, RouteTarget::Peering(pcx)) = (arrival, &c.target) else {
            return None;
        };
        if !c.active {
            return None;
        }
        let catt = self.client_attachment(chain)?;
        if catt.kind != TgwAttachmentKind::Vpc
            || m.peerings.get(pcx)?.other_side(place.vpc_id)? != catt.resource_id
        {
            return None;
        }
        let exact = part.restrict(Dim::Src, self.idx.vpc_intervals(&catt.resource_id));
        (!exact.is_empty()).then(|| (exact, Arrival::Peering(pcx.clone())))
    }

    /// Replies that go back another way than the request came (`back`, from
    /// [`Self::reply_by_tgw`] or [`Self::reply_by_peering`]; the request came by `arrival`),
    /// from `place`, whose route table sent them that way: what gets back to the client's
    /// subnet. Through a transit gateway, [`Self::tgw_reply_zone`], and [`Self::reply_enter`]
    /// decides the NACL of a client subnet of the gateway's attachment (a pending denial,
    /// [`Trace::pending_reply`], of such a subnet is dropped; of any other, it applies); after
    /// a request through another gateway, the destination subnet's outbound rules first and
    /// the inbound rules of a client subnet of the first gateway's attachment that is none of
    /// the second's last. Over a peering, the reply leaves `place`'s subnet (its outbound rules) and
    /// enters the client's subnet from outside it (its inbound rules). Those were checked
    /// where the request left for the gateway ([`Self::via_tgw`]), except for a client in a
    /// subnet of its VPC's attachment, whose rules a reply through the gateway would not meet:
    /// checked here, cut by the client's address; a pending denial applies.
    fn reply_another_way(
        &mut self,
        place: Place<'_>,
        set: PacketSet,
        t: &mut Trace,
        arrival: &Arrival,
        back: &Arrival,
        undecided: &mut Vec<(String, PacketSet, Trace)>,
    ) -> PacketSet {
        if let Arrival::Peering(_) = back {
            let set = self.nacl_check(t, place.subnet_id, &set, NaclCheck::OutReply);
            Self::apply_pending_reply(t);
            let catt = match arrival {
                Arrival::Tgw { chain, .. } => self.client_attachment(chain),
                _ => None,
            };
            let pieces = self.client_in_reply_pieces(catt, None, set);
            return self.nacl_pieces(t, pieces);
        }
        let second = match back {
            Arrival::Tgw { chain, .. } => self.client_attachment(chain),
            _ => None,
        };
        // A reply denial waiting for the return route ([`Trace::pending_reply`]): a reply the
        // gateway brings into one of its attachment's subnets meets that subnet's NACL as
        // [`Self::reply_enter`] says (none when it enters by the client's own subnet); into
        // any other client subnet, through its inbound rules: the denial applies.
        if t.pending_reply
            .as_ref()
            .is_some_and(|p| second.is_some_and(|b| b.subnet_ids.contains(&p.subnet)))
        {
            t.pending_reply = None;
        } else {
            Self::apply_pending_reply(t);
        }
        let Arrival::Tgw { chain, .. } = arrival else {
            return self.tgw_reply_zone(place.az, set, t, back, undecided);
        };
        // After another transit gateway (§6.2, TGW docs "Network ACLs for transit gateways"):
        // the reply leaves `place`'s subnet for the exit (its outbound rules, which the request
        // entering from a gateway did not meet, [`Self::enter_subnet`]) and, from the client
        // attachment's subnet it enters by, reaches a client in a subnet of the first gateway's
        // attachment that is none of the second's through that subnet's inbound rules (not
        // applied where the request left, [`Self::via_tgw`]; [`Self::reply_enter`] applies
        // them for the second attachment's subnets).
        let set = self.nacl_check(t, place.subnet_id, &set, NaclCheck::OutReply);
        let pieces = self.client_in_reply_pieces(self.client_attachment(chain), second, set);
        // (Checked before the way through the gateway, whose undecided parts carry the trace.)
        let set = self.nacl_pieces(t, pieces);
        self.tgw_reply_zone(place.az, set, t, back, undecided)
    }

    /// The NACLs replies meet when `place`'s route table sends them to transit gateway `tgw`
    /// another way than the request came, before the gateway decides anything (TGW docs,
    /// "Network ACLs for transit gateways": from an instance to the gateway, the outbound rules
    /// of its subnet, which a request that came through a gateway has not met yet
    /// ([`Self::enter_subnet`]), and the inbound rules of the attachment subnet in its zone):
    /// what each denies of `set`, with the NACL's id and why.
    fn nacls_before_tgw(
        &self,
        place: Place<'_>,
        arrival: &Arrival,
        tgw: &str,
        set: &PacketSet,
    ) -> Vec<(String, String, PacketSet)> {
        let Some(exit) = vpc_attachment(self.m, tgw, place.vpc_id)
            .and_then(|att| attachment_subnet_in(self.idx, att, place.az))
        else {
            return Vec::new();
        };
        let mut checks = Vec::new();
        if matches!(arrival, Arrival::Tgw { .. }) {
            checks.push((place.subnet_id, NaclCheck::OutReply, "outbound"));
        }
        checks.push((exit.as_str(), NaclCheck::InReply, "inbound"));
        let mut out = Vec::new();
        let mut rest = set.clone();
        for (subnet, check, dir) in checks {
            let acl = self.idx.subnet_nacl(subnet);
            let (allowed, _) = self.idx.nacl_filter(acl, &rest, check, false);
            let denied = rest.subtract(&allowed);
            if !denied.is_empty() {
                let acl_id =
                    acl.map_or_else(|| "default NACL (assumed)".to_string(), |a| a.id.clone());
                let why = format!(
                    "network ACL {acl_id} of {subnet} denies the replies {dir} on their way to {tgw}"
                );
                out.push((acl_id, why, denied));
            }
            rest = allowed;
        }
        out
    }

    /// The replies of `part` that transit gateway `tgw` drops when `place`'s route table sends
    /// them there (§6.2: the table associated with the VPC's attachment, whose subnet in
    /// `place`'s zone hands them over): a blackhole route, or no route in a table whose routes
    /// are in the snapshot. With the code, what happens there and the table's id. Empty when
    /// the VPC cannot hand them over at all (no attachment, no subnet in the zone, no table:
    /// the route table's `NO_RETURN_ROUTE` says that).
    fn tgw_reply_drops(
        &self,
        place: Place<'_>,
        tgw: &str,
        part: &PacketSet,
    ) -> Vec<(&'static str, String, PacketSet, String)> {
        let m = self.m;
        let Some(rt) = vpc_attachment(m, tgw, place.vpc_id)
            .filter(|att| attachment_subnet_in(self.idx, att, place.az).is_some())
            .and_then(|att| att.route_table_id.as_ref())
            .and_then(|r| m.tgw_route_tables.get(r))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (c, p) in self.idx.tgw_table(m, rt).partition(part, Dim::Src) {
            match c {
                None if rt.routes_known => out.push((
                    "TGW_NO_ROUTE",
                    format!("route table {} has no route back", rt.id),
                    p,
                    rt.id.clone(),
                )),
                Some(c) if c.unknown.is_none() && (c.blackhole || c.attachments.is_empty()) => out
                    .push((
                        "TGW_BLACKHOLE_ROUTE",
                        format!(
                            "route table {} drops them (blackhole route {})",
                            rt.id, c.destination
                        ),
                        p,
                        rt.id.clone(),
                    )),
                _ => {}
            }
        }
        out
    }

    /// The replies of `part` that `place`'s VPC can hand to transit gateway `tgw` (its
    /// attachment, with a subnet in `place`'s zone, §6.2) and that the attachment's table
    /// sends on, not to a blackhole, to an attachment `to` accepts; with the attachment. None
    /// when the VPC cannot hand them over (no attachment, no subnet in the zone, no table).
    /// With `maybe`, the replies a route whose effect is not known takes count as sent on.
    fn tgw_reply_routed(
        &self,
        place: Place<'_>,
        tgw: &str,
        part: &PacketSet,
        maybe: bool,
        to: impl Fn(&str) -> bool,
    ) -> Option<(&'m TgwAttachment, PacketSet)> {
        let m = self.m;
        let att = vpc_attachment(m, tgw, place.vpc_id)?;
        attachment_subnet_in(self.idx, att, place.az)?;
        let rt = m.tgw_route_tables.get(att.route_table_id.as_ref()?)?;
        let routed: Vec<PBox> = self
            .idx
            .tgw_table(m, rt)
            .partition(part, Dim::Src)
            .into_iter()
            .filter(|(c, _)| {
                c.as_ref().is_some_and(|c| {
                    if c.unknown.is_some() {
                        return maybe;
                    }
                    !c.blackhole && c.attachments.first().is_some_and(|a| to(a))
                })
            })
            .flat_map(|(_, p)| p.boxes().to_vec())
            .collect();
        Some((att, PacketSet::from_pieces(routed)))
    }

    /// The part of `part` (packets whose replies the route `c` of `place`'s table sends
    /// another way than the request arrived by) whose replies may still reach the client
    /// (§6.1: no reverse-path check): through a transit gateway the VPC can send to from
    /// `place`'s zone (those its table routes on, or all when its routes are not in the
    /// snapshot), a peering (when the request did not come by one) whose peer VPC holds
    /// the client's address, or an appliance (not modelled; also when the request came from
    /// the internet, as the appliance may hand the replies to the gateway it came by, which
    /// alone maps the addresses back). Otherwise none when the request came from the
    /// internet, for a blackhole,
    /// another peering than the request's (two VPCs have one peering at most), the local
    /// router (the client is not in the VPC), an internet or NAT gateway (the client would
    /// see another address), or a VPN gateway (on-premises routing is beyond the snapshot;
    /// fixture `sg-reference-onprem`).
    fn reply_elsewhere(
        &self,
        place: Place<'_>,
        arrival: &Arrival,
        c: &RouteChoice,
        part: &PacketSet,
    ) -> PacketSet {
        let m = self.m;
        if matches!(arrival, Arrival::PreservedByLb) || !c.active {
            return PacketSet::empty();
        }
        if matches!(arrival, Arrival::Igw(_)) {
            // Only the gateway the request came by maps the addresses back; an appliance
            // (or a Gateway Load Balancer endpoint, a target not modelled) may hand the
            // replies to it, which the snapshot does not say.
            return match &c.target {
                RouteTarget::NetworkInterface(_)
                | RouteTarget::Instance(_)
                | RouteTarget::Other(_) => part.clone(),
                RouteTarget::VpcEndpoint(e)
                    if m.vpc_endpoints
                        .get(e)
                        .is_some_and(|e| e.kind != EndpointKind::Gateway) =>
                {
                    part.clone()
                }
                _ => PacketSet::empty(),
            };
        }
        match &c.target {
            // The VPC's attachment, with a subnet in the zone (§6.2), and its table's routes
            // for the client's address: none or a blackhole drops the reply there.
            // When the table's routes are not in the snapshot, any reply may have one.
            RouteTarget::TransitGateway(tgw) => {
                match self.tgw_reply_routed(place, tgw, part, true, |_| true) {
                    Some((att, routed)) => {
                        let known = att
                            .route_table_id
                            .as_ref()
                            .and_then(|r| m.tgw_route_tables.get(r))
                            .is_none_or(|rt| rt.routes_known);
                        if known {
                            routed
                        } else {
                            part.clone()
                        }
                    }
                    // No attachment in the snapshot at all, or the VPC's attachment (with a
                    // subnet in the zone, §6.2) and no gateway route table at all: any reply
                    // may get back. (Where the attachment or its subnet in the zone is known
                    // missing, none does.)
                    None if !m.present_kinds.contains(&ResourceKind::TgwAttachment)
                        || (!m.present_kinds.contains(&ResourceKind::TgwRouteTable)
                            && vpc_attachment(m, tgw, place.vpc_id).is_some_and(|att| {
                                attachment_subnet_in(self.idx, att, place.az).is_some()
                            })) =>
                    {
                        part.clone()
                    }
                    None => PacketSet::empty(),
                }
            }
            RouteTarget::Peering(pcx) if !matches!(arrival, Arrival::Peering(_)) => {
                let other = m
                    .peerings
                    .get(pcx)
                    .and_then(|p| p.other_side(place.vpc_id))
                    .filter(|o| m.vpcs.contains_key(*o));
                match other {
                    Some(o) => part.restrict(Dim::Src, self.idx.vpc_intervals(o)),
                    None => PacketSet::empty(),
                }
            }
            RouteTarget::NetworkInterface(_)
            | RouteTarget::Instance(_)
            | RouteTarget::VpcEndpoint(_)
            | RouteTarget::Other(_) => part.clone(),
            _ => PacketSet::empty(),
        }
    }

    /// The reply retraces the transit gateways: it leaves from the host's AZ (which needs an
    /// attachment subnet, §6.2), and each table, consulted for the attachment the reply enters
    /// by, must send the client's address back the way the packet came. Cut by the client's
    /// address: the packets whose replies get back, and the others with what stops them
    /// (one set can hold clients a table treats differently, e.g. a blackholed subnet).
    fn tgw_return_split(
        &self,
        az: &Option<String>,
        name: &str,
        dst_attachment: &str,
        chain: &[(String, String)],
        set: PacketSet,
    ) -> (PacketSet, Vec<TgwReplyProblem>) {
        let m = self.m;
        let last_tgw = chain.last().map(|c| c.0.clone()).unwrap_or_default();
        // A VPC attachment's replies leave by its subnet in the zone (a VPN or Direct Connect
        // attachment has no subnets).
        if let Some(att) = self
            .idx
            .tgw_attachment(&last_tgw, dst_attachment)
            .filter(|a| a.kind == TgwAttachmentKind::Vpc)
        {
            let azs: Vec<Option<String>> = att
                .subnet_ids
                .iter()
                .map(|s| self.idx.subnet(s).and_then(|x| x.az.clone()))
                .collect();
            if !azs.contains(az) {
                let why = format!("the reply from {name} must leave from {}, where {dst_attachment} has no subnet", az.clone().unwrap_or_default());
                return (
                    PacketSet::empty(),
                    vec![(
                        "TGW_NO_ATTACHMENT_IN_AZ",
                        why,
                        set,
                        dst_attachment.to_string(),
                    )],
                );
            }
        }
        let mut ok = set;
        let mut bad = Vec::new();
        let mut reply_ingress = dst_attachment.to_string();
        for (tgw, expected) in chain.iter().rev() {
            let Some(att) = self.idx.tgw_attachment(tgw, &reply_ingress) else {
                let why = format!("{reply_ingress} is not an attachment of {tgw} in the snapshot");
                bad.push((
                    "TGW_ATTACHMENT_NOT_ASSOCIATED",
                    why,
                    ok,
                    reply_ingress.clone(),
                ));
                return (PacketSet::empty(), bad);
            };
            let Some(rt_id) = att.route_table_id.as_ref() else {
                let why = format!("replies enter {tgw} by {reply_ingress}, which is associated with no route table");
                bad.push((
                    "TGW_ATTACHMENT_NOT_ASSOCIATED",
                    why,
                    ok,
                    reply_ingress.clone(),
                ));
                return (PacketSet::empty(), bad);
            };
            let Some(rt) = m.tgw_route_tables.get(rt_id) else {
                let why = format!("replies enter {tgw} by {reply_ingress}, which is associated with {rt_id}, not in the snapshot: its routes are not known");
                bad.push((UNDECIDED, why, ok, rt_id.clone()));
                return (PacketSet::empty(), bad);
            };
            let table = self.idx.tgw_table(m, rt);
            if !table.unknown_lists.is_empty() {
                let why = format!("replies enter {tgw} by {reply_ingress}, whose route table {} routes prefix lists whose entries are not in the snapshot ({}): the route they take is not known", rt.id, table.unknown_lists.join(", "));
                bad.push((UNDECIDED, why, ok, rt_id.clone()));
                return (PacketSet::empty(), bad);
            }
            let fine = |c: &Option<&filters::TgwChoice>| {
                c.is_some_and(|c| {
                    c.unknown.is_none() && !c.blackhole && c.attachments.first() == Some(expected)
                })
            };
            // Most sets take one good route back: no need to cut them.
            if !table.choices(&ok, Dim::Src).iter().all(fine) {
                let mut kept = PacketSet::empty();
                for (c, part) in table.partition(&ok, Dim::Src) {
                    let (code, why) = match &c {
                        c if fine(&c.as_ref()) => {
                            kept = kept.union(&part);
                            continue;
                        }
                        None if !rt.routes_known => (UNDECIDED, format!("transit gateway route table {} has no route back that the snapshot shows, and its routes are not in the snapshot (search-transit-gateway-routes)", rt.id)),
                        None => ("TGW_NO_ROUTE", format!("transit gateway route table {} has no route back", rt.id)),
                        Some(c) if c.unknown.is_some() => (UNDECIDED, format!("replies enter {tgw} by {reply_ingress}: {}", c.unknown.as_deref().unwrap_or_default())),
                        // Back to on-premises by another VPN or Direct Connect attachment than
                        // the request came by: whether that reaches the client depends on
                        // on-premises routing, which is not in the snapshot (§6.3).
                        Some(c) if self.is_onprem_attachment(tgw, expected)
                            && c.attachments.first().is_some_and(|a| self.is_onprem_attachment(tgw, a)) =>
                        {
                            (UNDECIDED, format!("transit gateway route table {} sends the replies to on-premises by {}, not by {expected} the request came by; whether they reach the client that way is not in the snapshot", rt.id, c.attachments[0]))
                        }
                        Some(c) if c.blackhole || c.attachments.is_empty() => ("TGW_BLACKHOLE_ROUTE", format!("transit gateway route table {} drops the replies ({} is a blackhole)", rt.id, c.destination)),
                        Some(c) => ("NO_RETURN_ROUTE", format!("transit gateway route table {} sends the replies to {}, not back to {expected}", rt.id, c.attachments[0])),
                    };
                    bad.push((code, why, part, rt.id.clone()));
                }
                ok = kept;
            }
            if ok.is_empty() {
                break;
            }
            // On the previous transit gateway the reply enters by the same peering attachment id.
            reply_ingress = expected.clone();
        }
        (ok, bad)
    }

    /// §6.2: the reply's own way back through the transit gateways' attachment subnets (AWS
    /// Prescriptive Guidance, "Transit Gateway traffic flow and asymmetric routing"), after
    /// [`Self::return_routes`] (the routes back, and a subnet of the destination attachment in
    /// the destination's Availability Zone): it leaves the destination's VPC by that subnet, the
    /// reply's *exit*. From an instance to the gateway (TGW docs, "Network ACLs for transit
    /// gateways"), the outbound rules of the instance's subnet ([`Self::tgw_reply_leave`]) and
    /// the inbound rules of the attachment subnet apply, also when they are one subnet. It
    /// enters the client's VPC by the client attachment's subnet in the zone it came back in, as
    /// the packet did ([`Self::tgw_entry`]; when that is not decided, by any of them:
    /// [`Self::tgw_handoff`]), which hands it on as [`Self::reply_enter`] says. This part
    /// ([`Self::tgw_reply_zone`]) depends on the destination's zone only.
    fn reply_exit(&self, az: &Option<String>, arrival: &Arrival) -> Option<&'m str> {
        let Arrival::Tgw {
            dst_attachment,
            chain,
            ..
        } = arrival
        else {
            return None;
        };
        let datt = self.idx.tgw_attachment(&chain.last()?.0, dst_attachment)?;
        datt.subnet_ids
            .iter()
            .find(|s| self.idx.subnet(s).map(|x| &x.az) == Some(az))
            .map(String::as_str)
    }

    /// The reply leaving the destination's subnet for its exit ([`Self::reply_exit`]): that
    /// subnet's outbound rules.
    fn tgw_reply_leave(
        &mut self,
        place: Place<'_>,
        set: PacketSet,
        t: &mut Trace,
        arrival: &Arrival,
    ) -> PacketSet {
        if self.reply_exit(place.az, arrival).is_none() {
            return set;
        }
        self.nacl_check(t, place.subnet_id, &set, NaclCheck::OutReply)
    }

    /// The reply from its exit ([`Self::reply_exit`], in the destination's zone `az`) back into
    /// the client's VPC: the exit's inbound rules, then the client attachment's subnet.
    fn tgw_reply_zone(
        &mut self,
        az: &Option<String>,
        set: PacketSet,
        t: &mut Trace,
        arrival: &Arrival,
        undecided: &mut Vec<(String, PacketSet, Trace)>,
    ) -> PacketSet {
        let Some(exit) = self.reply_exit(az, arrival) else {
            return set;
        };
        let Arrival::Tgw { chain, .. } = arrival else {
            return set;
        };
        let Some((first_tgw, client_att)) = chain.first() else {
            return set;
        };
        let set = self.nacl_check(t, exit, &set, NaclCheck::InReply);
        let Some(catt) = self.idx.tgw_attachment(first_tgw, client_att) else {
            return set;
        };
        let zone = (chain.len() == 1).then_some(exit);
        match self.tgw_entry(catt, zone, Handoff::Reply) {
            TgwEntry::Subnet(entry) => self.reply_enter(catt, &entry, set, t),
            TgwEntry::NoSubnet => set,
            TgwEntry::Any { subnets, why } => {
                let (agreed, differ) = self.reply_handoff_any(catt, &subnets, &why, &set);
                if let Some((why, differ)) = differ {
                    // Undecided: the checks after the reply's way (the destination's groups)
                    // may still block the request (the caller applies them).
                    undecided.push((why, differ, t.clone()));
                }
                if agreed.is_empty() {
                    return agreed;
                }
                let entry = subnets[0].clone();
                if self.goal.network {
                    return self.reply_enter(catt, &entry, agreed, t);
                }
                Self::hop(
                    t,
                    &catt.id,
                    "tgw-attachment",
                    &catt.id,
                    format!(
                        "{why}: the replies enter {} by any of {}, which treat them alike (shown through {entry})",
                        catt.resource_id,
                        subnets.join(", ")
                    ),
                    true,
                );
                self.reply_enter(catt, &entry, agreed, t)
            }
        }
    }

    /// Replies a transit gateway hands to `entry`, a subnet of the client's attachment `catt`:
    /// its route table must send them to the client locally (for client addresses of the VPC;
    /// others, such as a client address a load balancer kept, are not routed here). From the
    /// gateway to an instance (TGW docs, "Network ACLs for transit gateways"), the outbound
    /// rules of the attachment subnet and the inbound rules of the client's subnet apply, none
    /// when they are one subnet. The inbound rules of a client subnet that is none of the
    /// attachment's were applied where the packet left it ([`Self::via_tgw`]).
    fn reply_enter(
        &mut self,
        catt: &TgwAttachment,
        entry: &str,
        set: PacketSet,
        t: &mut Trace,
    ) -> PacketSet {
        let vpc = &catt.resource_id;
        let cidrs = self.idx.vpc_intervals(vpc);
        let (inside, outside) = if touches(&set, Dim::Src, &super::packet::complement(cidrs)) {
            (set.restrict(Dim::Src, cidrs), set.exclude(Dim::Src, cidrs))
        } else {
            (set, PacketSet::empty())
        };
        let mut back = vec![outside];
        let mut routed_back = false;
        for (rc, part) in self.idx.graph.route_partition(entry, &inside, Dim::Src) {
            match rc {
                Some(rc) if rc.active && rc.target == RouteTarget::Local => {
                    back.push(part);
                    routed_back = true;
                }
                // §3.3: a blackhole route drops the replies it matches.
                Some(rc) if !rc.active => self.block(
                    t.clone(),
                    entry,
                    "NO_RETURN_ROUTE",
                    format!(
                        "the replies enter {vpc} from the transit gateway by {entry}, whose route table sends {} to a blackhole ({})",
                        describe_src(&part),
                        rc.destination
                    ),
                    part,
                ),
                Some(rc) => self.finish(
                    t.clone(),
                    Ending::Unknown(format!(
                        "the replies enter {vpc} from the transit gateway by {entry}, whose route table sends {} to {}, which is not followed further",
                        describe_src(&part),
                        rc.target.id()
                    )),
                    part,
                ),
                None => self.block(
                    t.clone(),
                    entry,
                    "NO_RETURN_ROUTE",
                    format!(
                        "{entry}'s route table has no route back to {}",
                        describe_src(&part)
                    ),
                    part,
                ),
            }
        }
        let back = join_disjoint(back);
        if routed_back && !self.goal.network {
            let rt_id = self
                .idx
                .subnet_route_table(entry)
                .map(|r| r.id.clone())
                .unwrap_or_else(|| format!("{vpc} (local routes assumed)"));
            Self::hop(
                t,
                &rt_id,
                "route-table",
                &rt_id,
                format!("replies from the transit gateway enter {vpc} by {entry}: local"),
                true,
            );
        }
        // Cut by the client's address: in the attachment subnet itself, in another of the
        // attachment's subnets, elsewhere.
        let mut pieces = Vec::new();
        let mut rest = back;
        for s in std::iter::once(entry).chain(catt.subnet_ids.iter().map(String::as_str)) {
            let Some(sub) = self.idx.subnet(s) else {
                continue;
            };
            let addrs = super::index::subnet_intervals(sub);
            if (s == entry && !pieces.is_empty()) || !touches(&rest, Dim::Src, &addrs) {
                continue;
            }
            let checks = if s == entry {
                Vec::new()
            } else {
                vec![(entry, NaclCheck::OutReply), (s, NaclCheck::InReply)]
            };
            pieces.push((rest.restrict(Dim::Src, &addrs), checks));
            rest = rest.exclude(Dim::Src, &addrs);
        }
        pieces.push((rest, vec![(entry, NaclCheck::OutReply)]));
        self.nacl_pieces(t, pieces)
    }

    /// NACL checks for the parts of a set cut by address, each part with its own checks in
    /// order: what passes. A part whose every packet is denied is dropped (in network mode one
    /// set holds the packets of several subnets); only when nothing passes is a block recorded
    /// and, as with [`Self::filter`], the whole set carried on as a hypothesis.
    /// The client's attachment: the one the request entered the first transit gateway by.
    fn client_attachment(&self, chain: &[(String, String)]) -> Option<&'m TgwAttachment> {
        chain
            .first()
            .and_then(|(tgw, att)| self.idx.tgw_attachment(tgw, att))
    }

    /// `set` (replies to clients) cut by client subnet for [`Self::nacl_pieces`]: the part
    /// sent to a subnet of `client` (the client's attachment) that is none of `skip`'s meets
    /// that subnet's inbound rules; the rest none.
    fn client_in_reply_pieces(
        &self,
        client: Option<&'m TgwAttachment>,
        skip: Option<&TgwAttachment>,
        set: PacketSet,
    ) -> Vec<(PacketSet, Vec<(&'m str, NaclCheck)>)> {
        let mut pieces = Vec::new();
        let mut rest = set;
        for s in client.iter().flat_map(|a| &a.subnet_ids) {
            if skip.is_some_and(|b| b.subnet_ids.contains(s)) {
                continue;
            }
            let Some(sub) = self.idx.subnet(s) else {
                continue;
            };
            let addrs = super::index::subnet_intervals(sub);
            if touches(&rest, Dim::Src, &addrs) {
                pieces.push((
                    rest.restrict(Dim::Src, &addrs),
                    vec![(s.as_str(), NaclCheck::InReply)],
                ));
                rest = rest.exclude(Dim::Src, &addrs);
            }
        }
        pieces.push((rest, Vec::new()));
        pieces
    }

    fn nacl_pieces(
        &self,
        t: &mut Trace,
        pieces: Vec<(PacketSet, Vec<(&str, NaclCheck)>)>,
    ) -> PacketSet {
        let mut pieces: Vec<_> = pieces.into_iter().filter(|(p, _)| !p.is_empty()).collect();
        if pieces.len() == 1 {
            // One part: the checks as usual.
            let (mut p, checks) = pieces.remove(0);
            for (subnet, check) in checks {
                p = self.nacl_check(t, subnet, &p, check);
            }
            return p;
        }
        let all = join_disjoint(pieces.iter().map(|(p, _)| p.clone()));
        let mut passed = Vec::new();
        let mut block = None;
        for (mut p, checks) in pieces {
            for (subnet, check) in checks {
                let mut scratch = Trace::default();
                let after = self.nacl_check(&mut scratch, subnet, &p, check);
                t.hops.extend(scratch.hops);
                match scratch.blocks.into_iter().next() {
                    Some(b) => {
                        block.get_or_insert(b);
                        p = PacketSet::empty();
                        break;
                    }
                    None => p = after,
                }
            }
            passed.push(p);
        }
        let passed = join_disjoint(passed);
        match block {
            Some(b) if passed.is_empty() && !all.is_empty() => {
                t.blocks.push(b);
                all
            }
            _ => passed,
        }
    }

    /// Destination security groups, then arrival.
    fn arrive_checked(&mut self, h: &'m Host, set: PacketSet, mut t: Trace) {
        let mut set = set;
        if h.kind.hosts_nothing() {
            // A transit gateway attachment's interface is the gateway's way in and out of the
            // subnet (§6.2, §7), a GWLB endpoint's hands what routes send it to its Gateway Load
            // Balancer: they host nothing, and what AWS does with packets addressed to the
            // interface itself is not documented. Anything that would arrive is `unknown`
            // (checks on the way still block it).
            let what = if h.kind == OwnerKind::TransitGateway {
                "a transit gateway attachment's network interface"
            } else {
                "a Gateway Load Balancer endpoint's network interface (a route target that hands what it is sent to its Gateway Load Balancer)"
            };
            t.undecided.get_or_insert(format!(
                "{} is {what}: what AWS does with traffic addressed to the interface itself is not modelled",
                h.name
            ));
        }
        if h.kind == OwnerKind::NatGateway {
            return self.block(
                t,
                &h.id,
                "NAT_GATEWAY_INBOUND",
                format!(
                    "{} is a NAT gateway: it accepts no inbound-initiated flows",
                    h.name
                ),
                set,
            );
        }
        if h.filtered_by_sgs {
            // Senders outside the VPCs (internet, on-premises) never match a group reference,
            // whatever their source address (§1.3, §7). Others match the references the way
            // they came carries (a client address a load balancer preserved: as before it,
            // any way).
            // Transit gateway referencing does not work for PrivateLink endpoints (§1.3): an
            // interface endpoint matches, besides a peering's, the references to its own VPC's
            // groups only.
            let refs = (!t.via_igw && !t.via_vgw && !t.outside_client).then_some(if t.preserved {
                Way::Any
            } else if t.via_peering {
                Way::Peering
            } else if t.via_bare_tgw || h.kind == OwnerKind::VpcEndpoint {
                Way::Bare
            } else {
                Way::Other
            });
            let (allowed, rules) = filters::security_groups(
                self.m,
                self.idx,
                &h.groups,
                SgDirection::Ingress,
                &set,
                &t.lb_groups,
                refs,
            );
            let groups = h.groups.join(", ");
            // What only rules naming prefix lists of unknown entries would admit arrives, but
            // delivering it ends `unknown`.
            if let Some((maybe, lists)) = filters::unknown_entries_part(
                self.m,
                self.idx,
                &h.groups,
                SgDirection::Ingress,
                &set,
                &allowed,
                refs,
            ) {
                let mut t2 = t.clone();
                let why = unknown_entries_why(&h.name, &groups, "inbound", &lists);
                Self::hop(
                    &mut t2,
                    &groups,
                    "security-group",
                    &groups,
                    format!("inbound: {why}"),
                    false,
                );
                t2.undecided.get_or_insert(why);
                self.arrive(h, maybe, t2);
            }
            set = Self::filter(
                &mut t,
                &set,
                allowed,
                &h.id,
                "ENI_SG_RULES_MISMATCH",
                || {
                    let another_way = refs
                        .and_then(|way| {
                            self.reference_elsewhere(h, SgDirection::Ingress, &set, way)
                        })
                        .unwrap_or_default();
                    format!(
                        "no inbound rule of {} ({}) allows this traffic from {}{another_way}",
                        h.name,
                        groups_in_snapshot(self.m, &h.groups),
                        describe_src(&set)
                    )
                },
            );
            Self::hop(
                &mut t,
                &groups,
                "security-group",
                &groups,
                format!("inbound: {}", rules.join("; ")),
                false,
            );
        }
        self.arrive(h, set, t)
    }

    fn arrive(&mut self, h: &'m Host, set: PacketSet, mut t: Trace) {
        let m = self.m;
        if h.kind == OwnerKind::LoadBalancer {
            let Some(lb) = h.owner_id.as_ref().and_then(|a| m.load_balancers.get(a)) else {
                Self::hop(
                    &mut t,
                    &h.id,
                    "load-balancer",
                    &h.name,
                    "delivered".into(),
                    false,
                );
                if self.goal.hosts.contains(&h.id) {
                    self.finish(t, Ending::Reached, set);
                }
                return;
            };
            let in_goal =
                self.goal.load_balancers.contains(&lb.arn) || self.goal.hosts.contains(&h.id);
            let via_listener = t.entry.clone();
            if !in_goal && via_listener.is_none() {
                return;
            }
            // Another load balancer forwarded to this one's node (an `ip` target on its
            // address): what this one then does with it (which listener, from which address)
            // is not modelled, as for an ALB target of an NLB; `unknown` where this load
            // balancer, or what it forwards to, is asked about.
            let entered_lb = via_listener
                .as_ref()
                .and_then(|e| m.listeners.get(e))
                .map(|l| l.lb_arn.as_str());
            if t.forwarded && entered_lb.is_some_and(|arn| arn != lb.arn) {
                if in_goal || self.alb_leads_to_goal(lb) {
                    let outer = entered_lb
                        .and_then(|arn| m.load_balancers.get(arn))
                        .map_or("a load balancer", |o| o.name.as_str());
                    let why = format!(
                        "{outer} forwards to {} ({}, an `ip` target): a load balancer as another's target is not modelled",
                        lb.name,
                        describe_dst(&set)
                    );
                    self.finish(t, Ending::Unknown(why), set);
                }
                return;
            }
            if lb.kind == LbKind::Gateway {
                // A Gateway Load Balancer takes the packets its endpoints (route targets) hand it
                // and sends them to its appliances wrapped in GENEVE (UDP 6081): it serves no
                // listener port at its own addresses, and forwards nothing addressed to it to
                // its targets. Traffic addressed to it is not modelled: `unknown` when it is
                // the destination, no way to its targets (Elastic Load Balancing, Gateway Load
                // Balancers).
                if via_listener.is_none() {
                    t.undecided.get_or_insert(gwlb_unknown(lb));
                    Self::hop(
                        &mut t,
                        &lb.arn,
                        "load-balancer",
                        &lb.name,
                        "Gateway Load Balancer".into(),
                        false,
                    );
                    self.finish(t, Ending::Reached, set);
                }
                return;
            }
            // An internal load balancer routes requests only from clients with access to its
            // VPC (Elastic Load Balancing API reference, `CreateLoadBalancer` `Scheme`): not
            // what the internet sends to its nodes' IPv6 addresses through an internet gateway
            // (a query naming it answers the same before walking, `query`).
            if t.via_igw && !lb.internet_facing {
                return self.block(
                    t,
                    &lb.arn,
                    "ELB_INTERNAL_SCHEME",
                    format!(
                        "{} is an internal load balancer: it takes requests only from clients with access to its VPC, not from the internet",
                        lb.name
                    ),
                    set,
                );
            }
            // Still being set up: whatever gets through ends `unknown` (later checks may
            // still block it).
            if let Some(state) = &lb.unsettled {
                t.undecided.get_or_insert(lb_unsettled(lb, state));
            }
            // Listener check (§5.2): only listener ports reach the load balancer's software.
            let listeners: Vec<&Listener> = m
                .listeners
                .values()
                .filter(|l| l.lb_arn == lb.arn)
                .filter(|l| via_listener.as_ref().is_none_or(|v| *v == l.arn))
                .collect();
            let mut any = false;
            for l in &listeners {
                let lset = listener_set(l);
                let part = set.intersect(&lset);
                if part.is_empty() {
                    continue;
                }
                any = true;
                let mut t2 = t.clone();
                Self::hop(
                    &mut t2,
                    &lb.arn,
                    "load-balancer",
                    &lb.name,
                    format!(
                        "listener {} {}",
                        l.protocol,
                        l.port.map(|p| p.to_string()).unwrap_or_default()
                    ),
                    false,
                );
                t2.entry = Some(l.arn.clone());
                // A leg that entered by a listener is on its way to the targets; otherwise the
                // load balancer itself is the destination.
                if via_listener.is_none() {
                    self.finish(t2, Ending::Reached, part);
                } else {
                    self.forward_lb(h, lb, l, part, t2);
                }
            }
            if !any {
                self.block(
                    t,
                    &lb.arn,
                    "ELBV2_LISTENERS_MISMATCH",
                    no_listener(m, lb),
                    set,
                );
            }
            return;
        }
        if t.entry.is_some() && !t.forwarded {
            // A leg towards a listener that reached an interface without passing the load
            // balancer (a node known only by its subnet covers the target's address too).
            return;
        }
        let mut set = set;
        if self.goal.hosts.contains(&h.id) {
            match endpoint_availability(m, h) {
                Some(Availability::None(why)) => {
                    let component = h.owner_id.clone().unwrap_or_else(|| h.id.clone());
                    return self.block(t, &component, "VPC_ENDPOINT_UNAVAILABLE", why, set);
                }
                Some(Availability::Unsettled(why)) => {
                    t.undecided.get_or_insert(why);
                }
                None => {}
            }
        }
        let endpoint = self
            .goal
            .hosts
            .contains(&h.id)
            .then(|| endpoint_protocols(m, h))
            .flatten();
        if let Some((protocols, why)) = endpoint {
            let carried = set.restrict(Dim::Proto, protocols);
            let other = set.exclude(Dim::Proto, protocols);
            if !other.is_empty() {
                let component = h.owner_id.clone().unwrap_or_else(|| h.id.clone());
                self.block(t.clone(), &component, "DESTINATION_PORT_CLOSED", why, other);
            }
            if carried.is_empty() {
                return;
            }
            set = carried;
        }
        Self::hop(
            &mut t,
            &h.id,
            "eni",
            &h.name,
            format!("delivered to {}", describe_dst(&set)),
            false,
        );
        if self.goal.hosts.contains(&h.id) {
            self.finish(t, Ending::Reached, set);
        }
    }

    /// Whether `alb`, or a host one of its listeners forwards to, completes the flow.
    fn alb_leads_to_goal(&self, alb: &LoadBalancer) -> bool {
        self.goal.load_balancers.contains(&alb.arn)
            || self.goal.hosts.iter().any(|h| {
                self.idx.forwarding.get(h).is_some_and(|ls| {
                    ls.iter()
                        .any(|l| self.m.listeners.get(l).is_some_and(|l| l.lb_arn == alb.arn))
                })
            })
    }

    /// Why a subnet's routes beyond the local ones are not known: it has no route table in
    /// the snapshot although the snapshot has route tables (every VPC has a main table, §3.1,
    /// which this one lacks: a partial collection). `None` when its table is known, or when
    /// no route table was collected at all (then only local routes are assumed, and said).
    fn route_table_unknown(&self, subnet_id: &str, vpc_id: &str) -> Option<String> {
        (self.idx.subnet_route_table(subnet_id).is_none()
            && self.m.present_kinds.contains(&ResourceKind::RouteTable))
        .then(|| {
            format!(
                "{subnet_id} has no explicit route table association and the main route table of {vpc_id} is not in the snapshot: its routes beyond the local ones are not known"
            )
        })
    }

    /// Where an active `route` names a target missing from the snapshot: `unknown` when the
    /// snapshot has nothing of its `kind` at all (not collected; a route whose target is gone
    /// reads `blackhole`, §3.3), `None` when the kind was collected (the target is gone).
    fn not_collected(&self, kind: ResourceKind, route: String) -> Option<Ending> {
        let (what, call) = match kind {
            ResourceKind::NatGateway => ("NAT gateways", "describe-nat-gateways"),
            ResourceKind::VpcEndpoint => ("VPC endpoints", "describe-vpc-endpoints"),
            ResourceKind::Peering => (
                "VPC peering connections",
                "describe-vpc-peering-connections",
            ),
            ResourceKind::VpnGateway => ("VPN gateways", "describe-vpn-gateways"),
            ResourceKind::TgwRouteTable => (
                "transit gateway route tables",
                "describe-transit-gateway-route-tables",
            ),
            ResourceKind::TgwAttachment => (
                "transit gateway attachments",
                "describe-transit-gateway-attachments",
            ),
            _ => (kind.as_str(), "its describe call"),
        };
        (!self.m.present_kinds.contains(&kind)).then(|| {
            Ending::Unknown(format!(
                "{route}, and the snapshot has no {what} ({call}) to say what it is"
            ))
        })
    }

    /// Load balancer → targets: a new flow from the node (§5).
    fn forward_lb(
        &mut self,
        node: &'m Host,
        lb: &'m LoadBalancer,
        l: &'m Listener,
        set: PacketSet,
        mut t: Trace,
    ) {
        let m = self.m;
        if let Some(state) = &lb.unsettled {
            t.undecided.get_or_insert(lb_unsettled(lb, state));
        }
        // A new flow from the node: the client's replies were settled at the node.
        t.client_subnet = None;
        // The zones the load balancer has enabled (its subnets'), by zone id where every one
        // of them has one (zone names differ between accounts), else by name; `None` when a
        // subnet of its is not in the snapshot or has no zone (the rule is then not applied).
        let by_id = lb
            .subnet_ids
            .iter()
            .all(|s| m.subnets.get(s).is_some_and(|s| s.az_id.is_some()));
        let zone_of = |subnet: &str| {
            m.subnets.get(subnet).and_then(|s| {
                if by_id {
                    s.az_id.as_deref()
                } else {
                    s.az.as_deref()
                }
            })
        };
        let lb_zones: Option<BTreeSet<&str>> = lb.subnet_ids.iter().map(|s| zone_of(s)).collect();
        for tg_arn in l.target_groups() {
            let Some(tg) = m.target_groups.get(tg_arn) else {
                continue;
            };
            if tg.target_type == TargetType::Alb {
                // An Application Load Balancer as a Network Load Balancer's target (ELB docs,
                // "Application Load Balancers as targets"): what the ALB then gets, and from
                // which address, is not modelled; where the ALB or what it forwards to is
                // asked about, the answer is `unknown`.
                let albs: Vec<&LoadBalancer> = tg
                    .targets
                    .iter()
                    .filter_map(|x| m.load_balancers.get(&x.id))
                    .filter(|alb| self.alb_leads_to_goal(alb))
                    .collect();
                for alb in albs {
                    let why = format!(
                        "{} forwards to {} (target group {}): an Application Load Balancer as the target of a Network Load Balancer is not modelled",
                        lb.name, alb.name, tg.name
                    );
                    self.finish(t.clone(), Ending::Unknown(why), set.clone());
                }
                continue;
            }
            // Reached only by non-default rules: say which (their conditions are not evaluated).
            let rules: Vec<String> = if l.default_forwards_to(tg_arn) {
                Vec::new()
            } else {
                l.rules_forwarding_to(tg_arn)
                    .map(|r| {
                        let priority = r.priority.map_or_else(|| r.arn.clone(), |p| p.to_string());
                        if r.conditions.is_empty() {
                            priority
                        } else {
                            format!("{priority} ({})", r.conditions.join(", "))
                        }
                    })
                    .collect()
            };
            let by_rule = match rules.len() {
                0 => String::new(),
                n => format!(
                    " by listener rule{} {}, whose conditions are not evaluated",
                    if n == 1 { "" } else { "s" },
                    rules.join(", ")
                ),
            };
            let eligible = |s: Option<&str>| {
                matches!(
                    s,
                    None | Some("healthy") | Some("initial") | Some("unavailable")
                )
            };
            // Routing failover ("Target group health"): when the healthy targets the node may
            // send to fall below the threshold (one by default), it sends to all of them,
            // unhealthy ones included. Without cross-zone load balancing each node sends to its
            // own zone's targets, so the threshold applies zone by zone.
            let cross = lb.cross_zone_for(tg);
            let pool: Vec<&Target> = tg
                .targets
                .iter()
                .filter(|x| {
                    cross || {
                        let th = self.target_host(tg, x);
                        !target_elsewhere(lb, tg, x, th, node)
                    }
                })
                .collect();
            let healthy = pool
                .iter()
                .filter(|x| eligible(x.health.as_deref()))
                .count();
            let fail_open = routing_fails_open(tg, healthy, pool.len());
            for target in &tg.targets {
                let ok = eligible(target.health.as_deref())
                    || (fail_open && target.health.as_deref() == Some("unhealthy"));
                // The target's host and the address traffic goes to: an ip target's own
                // address; an instance target's primary private IPv4 (§5.1), or its first
                // IPv6 address in a group of IpAddressType ipv6.
                let (host, addr) = match tg.target_type {
                    TargetType::Instance => {
                        let h = self.target_host(tg, target);
                        let a = h.and_then(|h| {
                            if tg.ipv6 {
                                return h
                                    .source
                                    .iter()
                                    .copied()
                                    .find(|p| !super::packet::is_v4(p.0));
                            }
                            h.source
                                .iter()
                                .copied()
                                .find(|p| super::packet::is_v4(p.0))
                                .or_else(|| h.private.first().copied())
                        });
                        if let (Some(h), None, true) = (h, a, tg.ipv6) {
                            if self.goal.hosts.contains(&h.id) {
                                self.block(
                                    t.clone(),
                                    &lb.arn,
                                    "ELB_TARGET_NOT_FORWARDED",
                                    format!(
                                        "{} is in {}, an IPv6 target group, and has no IPv6 address",
                                        h.name, tg.name
                                    ),
                                    set.clone(),
                                );
                            }
                            continue;
                        }
                        (h, a)
                    }
                    TargetType::Ip => (
                        self.target_host(tg, target),
                        target.id.parse().ok().map(super::packet::addr_interval),
                    ),
                    _ => (None, None),
                };
                // The target: an interface the goal wants, or an `ip` target at an address
                // asked for that no interface of the snapshot holds (outside every VPC of it:
                // on-premises, behind a VPN or Direct Connect; §5.1).
                // (Or another load balancer's node, an `ip` target, when that load balancer or
                // what it forwards to is asked about: `unknown` there, [`Self::arrive`].)
                let chained = |h: &Host| {
                    h.kind == OwnerKind::LoadBalancer
                        && h.owner_id
                            .as_ref()
                            .and_then(|arn| m.load_balancers.get(arn))
                            .is_some_and(|inner| {
                                inner.arn != lb.arn && self.alb_leads_to_goal(inner)
                            })
                };
                let (th, target_addr) = match (host, addr) {
                    (Some(h), Some(a)) if self.goal.hosts.contains(&h.id) || chained(h) => {
                        (Some(h), a)
                    }
                    (None, Some(a))
                        if tg.target_type == TargetType::Ip
                            && self
                                .goal
                                .outside_targets
                                .iter()
                                .any(|r| r.0 <= a.0 && a.1 <= r.1) =>
                    {
                        (None, a)
                    }
                    _ => continue,
                };
                let th_name = th.map_or(target.id.as_str(), |h| h.name.as_str());
                if !ok {
                    self.block(
                        t.clone(),
                        &lb.arn,
                        "ELB_TARGET_NOT_FORWARDED",
                        format!(
                            "{} sends {} nothing: its health in {} is {}",
                            lb.name,
                            th_name,
                            tg.name,
                            target.health.as_deref().unwrap_or("unknown")
                        ),
                        set.clone(),
                    );
                    continue;
                }
                // §5.1: a target in a zone the load balancer has not enabled gets no traffic
                // (ELB: "If you register targets in an Availability Zone but do not enable the
                // Availability Zone, these registered targets do not receive traffic"; its
                // health says `unused`, which a snapshot without target health does not).
                // An `ip` target outside the load balancer's VPC (a peered VPC's, on-premises)
                // is registered with a zone, or `all`: the nodes of that zone send it traffic,
                // or those of every enabled zone (`TargetDescription.AvailabilityZone`).
                let registered = registered_zone(lb, tg, target, th);
                if let Some(z) = registered.filter(|z| *z != "all") {
                    let names: Vec<&str> = lb
                        .subnet_ids
                        .iter()
                        .filter_map(|s| m.subnets.get(s)?.az.as_deref())
                        .collect();
                    if names.len() == lb.subnet_ids.len() && !names.contains(&z) {
                        self.block(
                            t.clone(),
                            &lb.arn,
                            "ELB_TARGET_NOT_FORWARDED",
                            format!(
                                "{} is registered in {z}, a zone {} has not enabled: it gets no traffic",
                                th_name, lb.name
                            ),
                            set.clone(),
                        );
                        continue;
                    }
                }
                let enabled = lb_zones.as_ref().filter(|z| !z.is_empty());
                let unused_zone = th.filter(|th| {
                    registered.is_none()
                        && th.vpc_id == lb.vpc_id
                        && zone_of(&th.subnet_id)
                            .zip(enabled)
                            .is_some_and(|(z, enabled)| !enabled.contains(z))
                });
                if let Some(th) = unused_zone {
                    self.block(
                        t.clone(),
                        &lb.arn,
                        "ELB_TARGET_NOT_FORWARDED",
                        format!(
                            "{} is in {}, a zone {} has not enabled: it gets no traffic",
                            th.name,
                            th.az.as_deref().unwrap_or(""),
                            lb.name
                        ),
                        set.clone(),
                    );
                    continue;
                }
                let elsewhere = target_elsewhere(lb, tg, target, th, node);
                if !lb.cross_zone_for(tg) && elsewhere {
                    // §5.1: without cross-zone load balancing a node forwards only to its own zone.
                    let zone = |z: &Option<String>| z.clone().unwrap_or_else(|| "no zone".into());
                    let th_zone = registered
                        .map_or_else(|| zone(&th.and_then(|th| th.az.clone())), str::to_string);
                    self.block(
                        t.clone(),
                        &lb.arn,
                        "ELB_TARGET_NOT_FORWARDED",
                        format!(
                            "{}'s node in {} ({}) does not forward across zones to {} ({})",
                            lb.name,
                            node.subnet_id,
                            zone(&node.az),
                            th_name,
                            th_zone
                        ),
                        set.clone(),
                    );
                    continue;
                }
                let Some(port) = target.port.or(tg.port) else {
                    continue;
                };
                let port_iv = (port as u128, port as u128);
                // (The port asked for is the last target's: not that of a load balancer on
                // the way, [`Self::arrive`].)
                let on_the_way = th.is_some_and(|h| {
                    h.kind == OwnerKind::LoadBalancer && !self.goal.hosts.contains(&h.id)
                });
                if !self.goal.target_ports.is_empty()
                    && !on_the_way
                    && !self
                        .goal
                        .target_ports
                        .iter()
                        .any(|p| p.0 <= port_iv.0 && port_iv.1 <= p.1)
                {
                    self.block(
                        t.clone(),
                        &lb.arn,
                        "ELB_TARGET_NOT_FORWARDED",
                        format!(
                            "{} forwards to {} on port {port}, not the port asked for",
                            lb.name, th_name
                        ),
                        set.clone(),
                    );
                    continue;
                }
                // §5.3: with preservation on, the target sees the client's address only for
                // clients of its own address family; IPv6 clients of an IPv4 target (and IPv4
                // clients of an IPv6 target) are seen as the load balancer's address, as with
                // preservation off.
                let preserve_tg = lb.kind == LbKind::Network && tg.preserves_client_ip();
                let target_v4 = super::packet::is_v4(target_addr.0);
                let kept = if !preserve_tg {
                    PacketSet::empty()
                } else if target_v4 {
                    set.restrict(Dim::Src, &[super::packet::ALL_V4])
                } else {
                    set.exclude(Dim::Src, &[super::packet::ALL_V4])
                };
                let translated = set.subtract(&kept);
                // §5.3: no hairpin with the client's address kept: a target handed its own
                // connection sees its own address as the source, and the connection times out
                // (ELB troubleshooting, "Requests from a target to its load balancer time out").
                let own = match th {
                    Some(th) if !self.goal.hairpin_by_caller => {
                        kept.restrict(Dim::Src, &th.private)
                    }
                    _ => PacketSet::empty(),
                };
                let kept = kept.subtract(&own);
                let hairpin = !own.is_empty();
                if hairpin {
                    self.block(
                        t.clone(),
                        &lb.arn,
                        "ELB_PRESERVED_CLIENT_IS_TARGET",
                        format!(
                            "{} would hand {} its own connection with the client IP preserved: its own address as the source, which fails (no hairpin)",
                            lb.name, th_name
                        ),
                        own,
                    );
                }
                // §5.3: some targets do not support preservation; what reaches them with the
                // client's address ends `unknown` (see `Trace::undecided`).
                // A target outside the snapshot replies by routes the snapshot does not hold: with
                // the client's address kept, whether that reply comes back through the load
                // balancer is not known.
                let unsupported = match th {
                    Some(th) => self.preservation_unsupported(lb, th),
                    None => Some(format!(
                        "{} forwards to {} with the client IP preserved: {} is outside the snapshot's VPCs, so whether its replies go back through the load balancer is not known",
                        lb.name, target.id, target.id
                    )),
                };
                let mut parts = vec![(true, kept), (false, translated)];
                parts.retain(|(_, p)| !p.is_empty());
                if parts.is_empty() {
                    if hairpin {
                        continue;
                    }
                    parts.push((preserve_tg, set.clone()));
                }
                for (preserve, part) in parts {
                    let mut flow = part
                        .rewrite(Dim::Dst, target_addr)
                        .rewrite(Dim::DstPort, port_iv);
                    let mut t2 = t.clone();
                    let mut note = if preserve {
                        " (client IP preserved)".to_string()
                    } else {
                        String::new()
                    };
                    if !preserve {
                        t2.client_ports = Some(
                            t2.client_ports
                                .clone()
                                .unwrap_or_else(|| part.project(Dim::SrcPort)),
                        );
                        t2.lb_clients = Some(part.project(Dim::Src));
                        let family = if target_v4 { "IPv4" } else { "IPv6" };
                        if preserve_tg {
                            note = format!(
                                " (client IP not preserved: {} clients of an {family} target see the load balancer's address)",
                                if target_v4 { "IPv6" } else { "IPv4" }
                            );
                        }
                        let from: Vec<Interval> = node
                            .private
                            .iter()
                            .copied()
                            .filter(|p| super::packet::is_v4(p.0) == target_v4)
                            .collect();
                        if from.is_empty() {
                            let reason = format!(
                                "{} forwards to {} from its {family} address, which is not in the snapshot",
                                lb.name, th_name
                            );
                            self.finish(t2, Ending::Unknown(reason), flow);
                            continue;
                        }
                        let mut src = PacketSet::empty();
                        for iv in from {
                            src = src.union(&flow.rewrite(Dim::Src, iv));
                        }
                        flow = src.rewrite(Dim::SrcPort, (1024, 65535));
                    }
                    t2.lb_groups = lb.security_groups.clone();
                    t2.preserved = preserve;
                    if preserve && unsupported.is_some() {
                        t2.undecided = unsupported.clone();
                    }
                    // A new flow from the node (§5): what the client's leg crossed does not
                    // carry over.
                    t2.forwarded = true;
                    t2.for_node = None;
                    t2.outside_client = preserve && (t.via_igw || t.via_vgw || t.outside_client);
                    t2.via_peering = false;
                    t2.via_bare_tgw = false;
                    t2.via_vgw = false;
                    t2.via_igw = false;
                    Self::hop(
                        &mut t2,
                        tg_arn,
                        "target-group",
                        &tg.name,
                        format!("{} -> {} port {port}{by_rule}{note}", lb.name, th_name),
                        false,
                    );
                    self.leave_lb_node(node, flow, t2);
                }
            }
        }
    }

    /// The interface a target of `tg` is: an instance's primary interface, the interface
    /// holding an `ip` target's address (in the target group's VPC first).
    fn target_host(&self, tg: &TargetGroup, target: &Target) -> Option<&'m Host> {
        match tg.target_type {
            TargetType::Instance => self
                .m
                .instances
                .get(&target.id)
                .and_then(|i| i.eni_ids.first())
                .and_then(|e| self.idx.hosts.get(e)),
            TargetType::Ip => {
                let a = target.id.parse().ok().map(super::packet::addr_interval)?;
                self.idx.holder_of(tg.vpc_id.as_deref(), a)
            }
            _ => None,
        }
    }

    /// Why `target` does not support the client IP preservation of `lb` (§5.3), if it does
    /// not: an instance of an old family (the target may receive the traffic but not answer),
    /// or a PrivateLink interface (AWS: communication with it is lost).
    fn preservation_unsupported(&self, lb: &LoadBalancer, target: &Host) -> Option<String> {
        match target.kind {
            OwnerKind::Ec2Instance => {
                let i = target
                    .owner_id
                    .as_ref()
                    .and_then(|id| self.m.instances.get(id))?;
                i.lacks_client_ip_preservation().then(|| {
                    format!(
                        "{} forwards to {} with the client IP preserved, which its instance type {} does not support: the reply may not get back",
                        lb.name,
                        target.name,
                        i.instance_type.as_deref().unwrap_or_default()
                    )
                })
            }
            OwnerKind::VpcEndpoint => Some(format!(
                "{} forwards to {} with the client IP preserved, which a PrivateLink interface does not support: AWS documents a loss of communication",
                lb.name, target.name
            )),
            _ => None,
        }
    }

    fn leave_lb_node(&mut self, node: &'m Host, set: PacketSet, t: Trace) {
        // The node's egress: its security groups, then routing from its subnet. With the client
        // IP preserved, replies rely on the load balancer's flow state (§5.3).
        let mut t = t;
        let set = self.egress_sgs(node, set, &mut t, "traffic to the target");
        let preserved = t.preserved;
        // A new flow from the node (§5.1): the node is the client its replies come back to, so
        // a transit gateway bringing them into its subnet, an attachment subnet, meets no NACL
        // there (§6.2, `client_reply_in`).
        if !preserved && t.pending_reply.is_none() {
            t.client_subnet = Some(node.subnet_id.as_str().into());
        }
        // §3.2, §9.1: within the node's subnet nothing is routed and no NACL applies, the
        // reply included: targets there get the packets directly.
        let own = self
            .m
            .subnets
            .get(&node.subnet_id)
            .map(super::index::subnet_intervals)
            .unwrap_or_default();
        let same = set.restrict(Dim::Dst, &own);
        if !same.is_empty() {
            self.node_to_targets(node, same, &t);
        }
        let set = set.exclude(Dim::Dst, &own);
        if set.is_empty() {
            return;
        }
        let rt = self.idx.subnet_route_table(&node.subnet_id);
        for (choice, part) in self
            .idx
            .graph
            .route_partition(&node.subnet_id, &set, Dim::Dst)
        {
            let t2 = t.clone();
            match choice {
                Some(c) if c.active && c.target == RouteTarget::Local => {
                    self.node_to_targets(node, part, &t2);
                }
                Some(c) if c.active => {
                    let rt_id = rt.map(|r| r.id.clone()).unwrap_or_default();
                    // §5.3: a preserved client IP needs the target in the load balancer's VPC
                    // or in a peered VPC of the same Region, traffic flowing directly; AWS does
                    // not support targets reached through a transit gateway (or any other hop).
                    let direct = match &c.target {
                        RouteTarget::Peering(pcx) => {
                            self.m.peerings.get(pcx).is_none_or(Peering::same_region)
                        }
                        _ => false,
                    };
                    // An internet gateway delivers no private IPv4 address, whatever the
                    // source: the ordinary route drops those packets, and no exception is
                    // needed to decide (IPv6 addresses are global: they stay undecided).
                    let (part, dropped) = match &c.target {
                        RouteTarget::InternetGateway(_) if preserved => (
                            part.exclude(Dim::Dst, &[super::packet::ALL_V4]),
                            part.restrict(Dim::Dst, &[super::packet::ALL_V4]),
                        ),
                        _ => (part, PacketSet::empty()),
                    };
                    if !dropped.is_empty() {
                        self.follow_route(
                            &node.subnet_id,
                            &node.vpc_id,
                            &rt_id,
                            c,
                            dropped,
                            t2.clone(),
                        );
                    }
                    if part.is_empty() {
                        continue;
                    }
                    if preserved && !direct {
                        let rule = match &c.target {
                            RouteTarget::TransitGateway(_) => "AWS does not support client IP preservation for targets reached through a transit gateway",
                            _ => "AWS supports client IP preservation only for targets in the load balancer's VPC or a same-Region peered VPC, reached directly",
                        };
                        let why = format!(
                            "{} forwards to {} with the client IP preserved through {} (route table {rt_id}): {rule}",
                            node.name,
                            describe_dst(&part),
                            c.target.id()
                        );
                        self.finish(t2, Ending::Unknown(why), part);
                        continue;
                    }
                    self.follow_route(&node.subnet_id, &node.vpc_id, &rt_id, c, part, t2);
                }
                _ => self.block(
                    t2,
                    &node.subnet_id,
                    "NO_ROUTE_TO_DESTINATION",
                    format!(
                        "the load balancer's subnet {} has no route to the target",
                        node.subnet_id
                    ),
                    part,
                ),
            }
        }
    }

    /// Delivers what a load-balancer node sends to the interfaces of its VPC that hold the
    /// destinations (reached by the `local` route, or in the node's own subnet).
    fn node_to_targets(&mut self, node: &'m Host, set: PacketSet, t: &Trace) {
        let preserved = t.preserved;
        let mut p = set;
        // The interfaces holding a destination address, in the VPC's order.
        for other in self
            .idx
            .vpc_holders(&node.vpc_id, &p.project(Dim::Dst), false)
            .into_iter()
            .map(|o| o.id.clone())
            .collect::<Vec<_>>()
        {
            let o = self.host(&other);
            let q = p.restrict(Dim::Dst, &o.private);
            if q.is_empty() {
                continue;
            }
            p = p.subtract(&q);
            let mut t3 = t.clone();
            if o.subnet_id == node.subnet_id {
                self.arrive_checked(o, q, t3);
                continue;
            }
            let q = self.cross_out(&node.subnet_id, q, &mut t3);
            let q = self.cross_in(&o.subnet_id, q, &mut t3);
            let arrival = if preserved {
                Arrival::PreservedByLb
            } else {
                Arrival::Local
            };
            self.return_route_check(o, q, t3, arrival);
        }
        // An address of the VPC no interface holds (an `ip` target registered at an address
        // nothing uses: it would fail its health checks): nothing receives the packets.
        if !p.is_empty() {
            let detail = format!(
                "no network interface in {} holds {}",
                node.vpc_id,
                describe_dst(&p)
            );
            self.block(
                t.clone(),
                &node.vpc_id,
                "DESTINATION_ADDRESS_UNUSED",
                detail,
                p,
            );
        }
    }
}

/// What a public NAT gateway's packets (`out`, from its private addresses) leave the internet
/// gateway as: each private address becomes the Elastic IP paired with it (§4.5). Where the
/// snapshot pairs none (no private address listed), any of its Elastic IPs. Returns what
/// leaves, and what no Elastic IP stands for.
fn nat_elastic_ips(nat: &NatGateway, out: PacketSet) -> (PacketSet, PacketSet) {
    let iv = |a: &std::net::Ipv4Addr| super::packet::addr_interval(std::net::IpAddr::V4(*a));
    if nat.pairs.is_empty() {
        let sent = nat.public_ips.iter().fold(PacketSet::empty(), |acc, e| {
            acc.union(&out.rewrite(Dim::Src, iv(e)))
        });
        return if sent.is_empty() {
            (sent, out)
        } else {
            (sent, PacketSet::empty())
        };
    }
    let mut sent = PacketSet::empty();
    let mut rest = out.clone();
    for (private, eip) in &nat.pairs {
        let part = out.restrict(Dim::Src, &[iv(private)]);
        rest = rest.exclude(Dim::Src, &[iv(private)]);
        sent = sent.union(&part.rewrite(Dim::Src, iv(eip)));
    }
    (sent, rest)
}

/// Whether an endpoint's interface carries traffic, when its endpoint is not available.
pub enum Availability {
    /// It carries nothing (its endpoint is rejected, failed, expired or deleted).
    None(String),
    /// It may or may not (pending, pending acceptance, being deleted): `unknown`.
    Unsettled(String),
}

/// The availability of the endpoint `h` belongs to (an interface or GWLB endpoint's
/// interface), when it is not `available` (PrivateLink guide, "Accept or reject connection
/// requests"; EC2 API reference, `VpcEndpoint` `State`).
pub fn endpoint_availability(m: &Model, h: &Host) -> Option<Availability> {
    if !matches!(h.kind, OwnerKind::VpcEndpoint | OwnerKind::GwlbEndpoint) {
        return None;
    }
    let id = h.owner_id.as_deref()?;
    if let Some(state) = m.unavailable_endpoints.get(id) {
        return Some(Availability::None(format!(
            "{id} is {state}: the endpoint carries no traffic"
        )));
    }
    let state = m.vpc_endpoints.get(id)?.unsettled.as_deref()?;
    Some(Availability::Unsettled(format!(
        "{id} is {state}: whether the endpoint carries traffic yet is not known (it does once available)"
    )))
}

/// The IP protocols an interface endpoint's interface carries, when it is one, with a sentence
/// saying so (AWS PrivateLink Guide): an interface endpoint sends TCP or UDP to its service
/// and does not answer ping; a resource or service-network endpoint (VPC Lattice) carries TCP
/// only. What else arrives at such an interface is answered by nothing. An interface whose
/// endpoint is not in the snapshot is taken as an interface endpoint; one whose endpoint the
/// snapshot records as another type is not restricted.
pub fn endpoint_protocols(m: &Model, h: &Host) -> Option<(&'static [Interval], String)> {
    const TCP_UDP: &[Interval] = &[(6, 6), (17, 17)];
    const TCP: &[Interval] = &[(6, 6)];
    if h.kind != OwnerKind::VpcEndpoint {
        return None;
    }
    let endpoint = h.owner_id.as_deref().unwrap_or(h.id.as_str());
    let kind = h
        .owner_id
        .as_ref()
        .and_then(|id| m.vpc_endpoints.get(id))
        .map(|e| e.kind);
    Some(match kind {
        // Recorded as another type (a Gateway Load Balancer endpoint carries every protocol):
        // nothing is known to be refused.
        Some(EndpointKind::Gateway | EndpointKind::GatewayLoadBalancer | EndpointKind::Other) => {
            return None
        }
        Some(EndpointKind::Resource) => (
            TCP,
            format!("{endpoint} is a resource endpoint: it carries TCP only"),
        ),
        Some(EndpointKind::ServiceNetwork) => (
            TCP,
            format!("{endpoint} is a service-network endpoint: it carries TCP only"),
        ),
        Some(EndpointKind::Interface) | None => (
            TCP_UDP,
            format!(
                "{endpoint} is an interface endpoint: it carries TCP and UDP to its service and answers nothing else (not ping)"
            ),
        ),
    })
}

/// The Amazon-provided services an interface reaches whatever its filters say, with the
/// protocols and port each answers on (Amazon EC2 User Guide: DNS on 53, the instance
/// metadata service on HTTP 80, Amazon Time Sync on NTP 123, Windows activation (KMS) on
/// 1688); the VPC resolver is the VPC's primary IPv4 CIDR base + 2 (§1.1).
pub fn exempt_service_ports(m: &Model, vpc: &str) -> Vec<(Interval, &'static [u8], u16)> {
    const DNS: &[u8] = &[Protocol::TCP, Protocol::UDP];
    const TCP: &[u8] = &[Protocol::TCP];
    const UDP: &[u8] = &[Protocol::UDP];
    let mut out: Vec<(Interval, &'static [u8], u16)> = [
        ("169.254.169.254", TCP, 80),
        ("169.254.169.253", DNS, 53),
        ("169.254.169.123", UDP, 123),
        ("169.254.169.250", TCP, 1688),
        ("169.254.169.251", TCP, 1688),
        ("fd00:ec2::254", TCP, 80),
        ("fd00:ec2::253", DNS, 53),
        ("fd00:ec2::123", UDP, 123),
    ]
    .iter()
    .map(|(a, p, port)| {
        (
            super::packet::addr_interval(a.parse().expect("literal address")),
            *p,
            *port,
        )
    })
    .collect();
    if let Some(primary) = m.vpcs.get(vpc).and_then(|v| v.cidrs_v4.first()) {
        let resolver = u32::from(primary.network()).wrapping_add(2);
        out.push((
            super::packet::addr_interval(std::net::IpAddr::V4(resolver.into())),
            DNS,
            53,
        ));
    }
    out
}

/// Why a load balancer takes none of the traffic: it names its listeners.
pub fn no_listener(m: &Model, lb: &LoadBalancer) -> String {
    let ports: Vec<String> = m
        .listeners
        .values()
        .filter(|l| l.lb_arn == lb.arn)
        .map(|l| {
            format!(
                "{} {}",
                l.protocol,
                l.port.map(|p| p.to_string()).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{} has no listener for this traffic (listeners: {})",
        lb.name,
        if ports.is_empty() {
            "none".into()
        } else {
            ports.join(", ")
        }
    )
}

/// The zone an `ip` target outside the load balancer's VPC was registered in (`all`, or a
/// zone name), which decides which nodes send it traffic (`TargetDescription.AvailabilityZone`,
/// §5.1); `None` for a target inside the VPC (its subnet's zone decides) or registered without
/// one. `host` is the target's interface, when the snapshot holds it.
pub fn registered_zone<'a>(
    lb: &LoadBalancer,
    tg: &TargetGroup,
    target: &'a Target,
    host: Option<&Host>,
) -> Option<&'a str> {
    let outside = host.is_none_or(|h| h.vpc_id != lb.vpc_id);
    let zone = (tg.target_type == TargetType::Ip && outside)
        .then_some(target.availability_zone.as_deref())
        .flatten()?;
    // For an Application Load Balancer the zone applies only with cross-zone load balancing
    // off; otherwise it is treated as `all` (the API's TargetDescription.AvailabilityZone).
    if lb.kind == LbKind::Application && lb.cross_zone_for(tg) {
        Some("all")
    } else {
        Some(zone)
    }
}

/// Whether `target` (held by `host`) is in another zone than `node`, a node of `lb`: by the
/// zone it was registered in when it is outside the VPC (`all`: in none), else by its
/// interface's subnet (§5.1).
fn target_elsewhere(
    lb: &LoadBalancer,
    tg: &TargetGroup,
    target: &Target,
    host: Option<&Host>,
    node: &Host,
) -> bool {
    match registered_zone(lb, tg, target, host) {
        Some("all") => false,
        Some(z) => node.az.as_deref().is_some_and(|a| a != z),
        None => host.is_some_and(|th| node.in_another_zone_than(th)),
    }
}

/// Whether a node with `healthy` healthy targets out of `total` sends to its unhealthy ones
/// too (routing failover, Elastic Load Balancing "Target group health"): below the target
/// group's `target_group_health.unhealthy_state_routing.minimum_healthy_targets.count` (1 by
/// default) or `.percentage` (`off` by default).
fn routing_fails_open(tg: &TargetGroup, healthy: usize, total: usize) -> bool {
    const KEY: &str = "target_group_health.unhealthy_state_routing.minimum_healthy_targets";
    let count = tg
        .attributes
        .get(&format!("{KEY}.count"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1);
    let percentage = tg
        .attributes
        .get(&format!("{KEY}.percentage"))
        .and_then(|v| v.parse::<usize>().ok());
    healthy < count || percentage.is_some_and(|p| healthy * 100 < p * total)
}

/// Why traffic addressed to a Gateway Load Balancer is `unknown`.
pub(crate) fn gwlb_unknown(lb: &LoadBalancer) -> String {
    format!(
        "{} is a Gateway Load Balancer: it takes what its endpoints (route targets) hand it and sends it to its appliances in GENEVE; traffic addressed to it is not modelled",
        lb.name
    )
}

/// Why a flow through a load balancer still being set up is `unknown`.
pub(crate) fn lb_unsettled(lb: &LoadBalancer, state: &str) -> String {
    format!(
        "{} is {state}: whether it takes traffic yet is not known (it does once active)",
        lb.name
    )
}

/// Why a flow through a transit gateway attachment still being set up is `unknown`.
/// Whether `subnet` is in Availability Zone use1-az3, where transit gateway security-group
/// referencing does not work (§1.3; Transit Gateway Guide, "Amazon VPC attachments", security
/// group referencing): what enters a VPC from a gateway by an attachment subnet there carries
/// no reference.
fn in_zone_without_tgw_references(m: &Model, subnet: &str) -> bool {
    m.subnets
        .get(subnet)
        .is_some_and(|s| s.az_id.as_deref() == Some("use1-az3"))
}

fn attachment_unsettled(id: &str, state: &str) -> String {
    format!("{id} is {state}: whether it carries traffic yet is not known (it does once available)")
}

/// Why what goes through a transit gateway attachment is not known: it is still being set up,
/// or the snapshot lacks its association or subnets ([`TgwAttachment::unknown`]).
fn attachment_doubt(att: &TgwAttachment) -> Option<String> {
    att.unsettled
        .as_deref()
        .map(|state| attachment_unsettled(&att.id, state))
        .or_else(|| att.unknown.clone())
}

/// The packets a listener accepts.
pub fn listener_set(l: &Listener) -> PacketSet {
    let mut s = PacketSet::empty();
    for p in l.ip_protocols() {
        let mut b = super::packet::PBox::FULL.with(Dim::Proto, (p as u128, p as u128));
        if let Some(port) = l.port {
            b = b.with(Dim::DstPort, (port as u128, port as u128));
        }
        s = s.union(&PacketSet::from_box(b));
    }
    s
}

fn list(rules: &[u32]) -> String {
    if rules.is_empty() {
        "(default: allow all)".into()
    } else {
        rules
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn describe_interval(iv: Interval) -> String {
    let (a, b) = (super::packet::decode(iv.0), super::packet::decode(iv.1));
    if a == b {
        return a.to_string();
    }
    // Show as a prefix when it is one.
    for len in 0..=128u8 {
        if let Ok(net) = ipnet::IpNet::new(a, len) {
            if net.network() == a && net.broadcast() == b {
                return net.to_string();
            }
        }
    }
    format!("{a}-{b}")
}

/// Address intervals for messages: the first three (as CIDRs where they are one), and how
/// many more.
pub fn describe_addrs(ivs: &[Interval]) -> String {
    let mut parts: Vec<String> = ivs
        .iter()
        .take(3)
        .map(|iv| describe_interval(*iv))
        .collect();
    if ivs.len() > 3 {
        parts.push(format!("and {} more ranges", ivs.len() - 3));
    }
    parts.join(", ")
}

/// The destination addresses of a set, for messages.
pub fn describe_dst(s: &PacketSet) -> String {
    describe_addrs(&s.project(Dim::Dst))
}

/// The source addresses of a set, for messages.
pub fn describe_src(s: &PacketSet) -> String {
    describe_addrs(&s.project(Dim::Src))
}
