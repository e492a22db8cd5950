//! Security-group checks: rules wider than their intent (CIDRs where a group
//! reference fits, the whole internet, wide CIDRs, all ports), default groups,
//! unused groups and stale references.
//!
//! A rule's severity follows what it does today (semantics §1): the rule's
//! registered severity when the exposure it admits is effective in the
//! report, low when it is only latent or admits nothing yet.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use ipnet::IpNet;
use rayon::prelude::*;

use super::context::{peer_text, rule_packets, sg_rule_text, traffic_text, Context};
use super::{codes, graded, Config, Finding, Severity};
use crate::analysis::Status;
use crate::engine::filters::{self, SgDirection};
use crate::engine::index::{Host, Way};
use crate::engine::packet::{net_intervals, Dim, Interval, PBox, PacketSet};
use crate::model::*;

pub(super) fn check(cx: &Context, cfg: &Config, out: &mut Vec<Finding>) {
    let covering = Covering::new(cx);
    // Which groups' rules name each group (built once: `unused` asks for every idle group).
    let mut referenced_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for o in cx.m.security_groups.values() {
        for r in o.ingress.iter().chain(&o.egress) {
            if let SgPeer::Group { group_id, .. } = &r.peer {
                if *group_id != o.id {
                    referenced_by
                        .entry(group_id.as_str())
                        .or_default()
                        .insert(o.id.as_str());
                }
            }
        }
    }
    // Group by group on both cores, collected in the groups' order.
    let groups: Vec<&SecurityGroup> = cx.m.security_groups.values().collect();
    let found: Vec<Vec<Finding>> = groups
        .par_iter()
        .map(|sg| {
            let mut out = Vec::new();
            // `; used by …`, made once for every finding on the group's rules that says it.
            let users = OnceCell::new();
            let users = || users.get_or_init(|| users_phrase(cx, sg)).as_str();
            cidr_where_reference_fits(cx, sg, &covering, &mut out);
            open_to_world(cx, sg, &users, &mut out);
            wide_cidr(cx, cfg, sg, &users, &mut out);
            all_ports(cx, sg, &users, &mut out);
            default_group(cx, sg, &mut out);
            unused(cx, sg, &referenced_by, &mut out);
            stale_references(cx, sg, &mut out);
            out
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

/// `sg-cidr-where-reference-fits`: an inbound CIDR (not /0) that holds ENIs of
/// the group's own VPC. References are always possible within a VPC (§1.3);
/// across peerings and transit gateways they depend on region and settings,
/// and a shared service admitting a client VPC's CIDR is a deliberate pattern,
/// so only the group's own VPC counts.
///
/// Cost: per distinct (VPC, CIDR), the covered interfaces are found by address and their
/// groups sorted into classes of equal outbound rules once; per rule, each class is asked
/// once whether it sends the rule's traffic (with one group per interface, a wide CIDR
/// covers hundreds of groups but only a handful of distinct outbound rule lists).
fn cidr_where_reference_fits<'c>(
    cx: &'c Context,
    sg: &'c SecurityGroup,
    covering: &Covering<'c>,
    out: &mut Vec<Finding>,
) {
    // Where the traffic goes: the group's members, or its VPC when it has none (asked once,
    // for the first rule that needs it).
    let mut dst: Option<Vec<Interval>> = None;
    for rule in &sg.ingress {
        let SgPeer::Cidr(net) = &rule.peer else {
            continue;
        };
        if net.prefix_len() == 0 {
            continue;
        }
        let Some(cov) = covering.get(&sg.vpc_id, net) else {
            continue;
        };
        let dst = dst.get_or_insert_with(|| {
            let members = cx
                .idx
                .group_members(cx.m, &sg.id, &sg.vpc_id, false, Way::Any);
            if !members.is_empty() {
                return members;
            }
            cx.m.vpc_cidrs(&sg.vpc_id)
                .iter()
                .flat_map(net_intervals)
                .collect()
        });
        let probe = rule_packets(rule).restrict(Dim::Dst, dst);
        // Groups of covered interfaces (other than this one) whose own outbound rules let them
        // send this traffic. Outbound rules do not look at the source address, and groups with
        // the same rules give the same answer: one evaluation per class.
        let sending: Vec<&Class> = cov
            .classes
            .iter()
            .filter(|c| c.groups().any(|h| h.group != sg.id) && covering.egress[c.id].meets(&probe))
            .collect();
        // Those the internet reaches directly are not suggested; they are named as "also admitted".
        let suggested = Merged::new(sending.iter().map(|c| c.suggested.as_slice()), &sg.id);
        let exposed = Merged::new(sending.iter().map(|c| c.exposed.as_slice()), &sg.id);
        if suggested.total + exposed.total == 0 {
            continue;
        }
        // A readable sentence: the first few groups, then how many more.
        let listed = |groups: &Merged| {
            let mut text = groups
                .first(NAMED)
                .iter()
                .map(|h| h.text(cx))
                .collect::<Vec<_>>()
                .join(" and ");
            if groups.total > LISTED {
                text.push_str(&format!(
                    " and {} more group(s) (the finding's resources list the first {LISTED} by id)",
                    groups.total - NAMED
                ));
            } else if groups.total > NAMED {
                text.push_str(&format!(
                    " and {} more group(s) (all listed in the finding's resources)",
                    groups.total - NAMED
                ));
            }
            text
        };
        let traffic = traffic_text(rule.protocol, rule.ports);
        let mut message = format!(
            "{} admits {traffic} from {net}, which holds {} network interface(s) of its VPC {}",
            cx.sg_label(&sg.id),
            cov.count,
            vpc_label(cx, &sg.vpc_id),
        );
        if suggested.total == 0 {
            message.push_str(&format!(
                "; it admits {}, which the internet can reach: reference only the groups that need the port",
                listed(&exposed)
            ));
        } else {
            message.push_str(&format!("; reference {} instead", listed(&suggested)));
            if exposed.total > 0 {
                message.push_str(&format!(
                    ". It also admits {}, which the internet can reach",
                    listed(&exposed)
                ));
            }
        }
        let to_reference = if suggested.total == 0 {
            &exposed
        } else {
            &suggested
        };
        let mut targets: Vec<String> = to_reference
            .first(NAMED)
            .iter()
            .map(|h| cx.sg_label(h.group))
            .collect();
        if to_reference.total > NAMED {
            targets.push(format!("{} more group(s)", to_reference.total - NAMED));
        }
        // A two-step path (internet → exposed member → this group) makes it matter today.
        let two_step = sending
            .iter()
            .flat_map(|c| &c.exposed)
            .any(|h| h.group != sg.id && h.status == Some(Status::Effective));
        let severity = if two_step {
            Severity::Medium
        } else {
            Severity::Low
        };
        // The rule's group, then the first groups of each list by id (a superset of those the
        // message names): with one group per interface a list can hold thousands.
        let mut listed_groups = suggested.first(LISTED).to_vec();
        listed_groups.extend(exposed.first(LISTED));
        listed_groups.sort_unstable_by(|a, b| a.group.cmp(b.group));
        let mut resources = vec![sg.id.clone()];
        resources.extend(listed_groups.iter().map(|h| h.group.to_string()));
        out.push(
            Finding::new(codes::SG_CIDR_WHERE_REFERENCE_FITS, severity, message)
                .resources(resources)
                .rules([sg_rule_text(sg, true, rule)])
                .remediation(format!(
                    "Replace `{traffic} from {net}` in {} with a rule referencing {}; add other client groups only if they need the port.",
                    cx.sg_label(&sg.id),
                    targets.join(" and ")
                )),
        );
    }
}

/// How many groups a finding's message names in one list (suggested, exposed).
const NAMED: usize = 5;
/// How many groups of one list a finding's resources hold.
const LISTED: usize = 20;

/// A group carried by interfaces that a CIDR covers.
struct Held<'c> {
    group: &'c str,
    /// The names of those interfaces, sorted, each once.
    names: Vec<&'c str>,
    /// How the internet reaches the group's members directly (`Context::group_internet_status`).
    status: Option<Status>,
    /// `group_with_members`, made the first time a message names the group (the rules of
    /// many groups name the same CIDR, and so the same covered groups).
    text: OnceLock<String>,
}

impl Held<'_> {
    fn text(&self, cx: &Context) -> &str {
        self.text
            .get_or_init(|| group_with_members(cx, self.group, &self.names))
    }
}

/// The groups of the covered interfaces that share one list of outbound rules, by id.
struct Class<'c> {
    /// Which list (an index into `Covering::egress`).
    id: usize,
    /// Groups the internet does not reach directly.
    suggested: Vec<Held<'c>>,
    /// Groups whose members the internet reaches directly (effective or latent).
    exposed: Vec<Held<'c>>,
}

impl<'c> Class<'c> {
    fn groups(&self) -> impl Iterator<Item = &Held<'c>> {
        self.suggested.iter().chain(&self.exposed)
    }
}

/// What a CIDR covers in a VPC: how many interfaces, and their groups by class.
struct Covered<'c> {
    count: usize,
    classes: Vec<Class<'c>>,
}

/// Sorted lists of groups (disjoint) read as one, without one group.
struct Merged<'x, 'c> {
    /// How many groups the lists hold, `skip` aside.
    total: usize,
    /// The first `LISTED` groups by id (every question asks for at most that many).
    head: Vec<&'x Held<'c>>,
}

impl<'x, 'c> Merged<'x, 'c> {
    fn new(lists: impl IntoIterator<Item = &'x [Held<'c>]>, skip: &'x str) -> Self {
        let lists: Vec<&[Held]> = lists.into_iter().filter(|l| !l.is_empty()).collect();
        let total = lists
            .iter()
            .map(|l| l.len() - usize::from(l.binary_search_by(|h| h.group.cmp(skip)).is_ok()))
            .sum();
        // Each list is sorted by id: the first `LISTED` overall are among the first `LISTED`
        // of each.
        let mut head: Vec<&Held> = lists
            .iter()
            .flat_map(|l| l.iter().filter(|h| h.group != skip).take(LISTED))
            .collect();
        head.sort_unstable_by(|a, b| a.group.cmp(b.group));
        head.truncate(LISTED);
        Merged { total, head }
    }

    /// The first `n` groups by id (`n` at most `LISTED`).
    fn first(&self, n: usize) -> &[&'x Held<'c>] {
        debug_assert!(n <= LISTED);
        &self.head[..n.min(self.head.len())]
    }
}

/// What each (VPC, CIDR) that an inbound rule names covers, computed for all of them at
/// once (many groups admit the same wide CIDRs).
struct Covering<'c> {
    covered: HashMap<(&'c str, IpNet), Covered<'c>>,
    /// Per class of outbound rules: every packet they let out (any source; group references
    /// resolved). A class sends a rule's traffic when this meets it.
    egress: Vec<PacketSet>,
}

impl<'c> Covering<'c> {
    fn new(cx: &'c Context) -> Self {
        // Per VPC: every private interval of its hosts (start, end, host), sorted.
        let mut by_vpc: HashMap<&str, Vec<(u128, u128, &Host)>> = HashMap::new();
        // Every host is listed under its VPC in `hosts_by_vpc`: iterating the hosts themselves
        // saves a map lookup by id per host.
        for h in cx.idx.hosts.values() {
            let list = by_vpc.entry(h.vpc_id.as_str()).or_default();
            list.extend(h.private.iter().map(|p| (p.0, p.1, h)));
        }
        for list in by_vpc.values_mut() {
            list.sort_unstable_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
        }
        // Every group a host carries: its class of outbound rules and how the internet reaches
        // its members.
        let held: BTreeSet<&str> = cx
            .idx
            .hosts
            .values()
            .flat_map(|h| h.groups.iter().map(String::as_str))
            .collect();
        let held: Vec<(&str, String, Option<Status>)> = held
            .into_par_iter()
            .map(|g| (g, egress_text(cx, g), cx.group_internet_status(g)))
            .collect();
        let mut by_text: HashMap<String, usize> = HashMap::new();
        let mut groups: HashMap<&str, (usize, Option<Status>)> = HashMap::new();
        // One group per class stands for it: equal texts send the same packets.
        let mut representatives: Vec<&str> = Vec::new();
        for (g, text, status) in held {
            let next = by_text.len();
            let class = *by_text.entry(text).or_insert(next);
            if class == next {
                representatives.push(g);
            }
            groups.insert(g, (class, status));
        }
        let everything = PacketSet::from_box(PBox::FULL);
        let egress: Vec<PacketSet> = representatives
            .par_iter()
            .map(|g| {
                filters::security_groups(
                    cx.m,
                    cx.idx,
                    &[g.to_string()],
                    SgDirection::Egress,
                    &everything,
                    &[],
                    Some(Way::Any),
                )
                .0
            })
            .collect();
        let keys: BTreeSet<(&str, IpNet)> = cx
            .m
            .security_groups
            .values()
            .flat_map(|sg| {
                sg.ingress.iter().filter_map(|r| match &r.peer {
                    SgPeer::Cidr(net) if net.prefix_len() != 0 => Some((sg.vpc_id.as_str(), *net)),
                    _ => None,
                })
            })
            .collect();
        let covered = keys
            .into_par_iter()
            .filter_map(|(vpc, net)| {
                let list = by_vpc.get(vpc).map(Vec::as_slice).unwrap_or(&[]);
                covered(list, &net, &groups).map(|c| ((vpc, net), c))
            })
            .collect();
        Covering { covered, egress }
    }

    /// What `net` covers in `vpc`; `None` when it holds no interface of the VPC.
    fn get(&self, vpc: &'c str, net: &IpNet) -> Option<&Covered<'c>> {
        self.covered.get(&(vpc, *net))
    }
}

/// The hosts (`list`: a VPC's private ranges, sorted) with a private address range inside
/// `net`, and their groups by class (`groups`: each group's class and internet status).
fn covered<'c>(
    list: &[(u128, u128, &'c Host)],
    net: &IpNet,
    groups: &HashMap<&str, (usize, Option<Status>)>,
) -> Option<Covered<'c>> {
    let mut hosts: Vec<&Host> = Vec::new();
    for r in &net_intervals(net) {
        // Ranges that start inside `r`, and of those the ones that end inside it too.
        let from = list.partition_point(|x| x.0 < r.0);
        hosts.extend(
            list[from..]
                .iter()
                .take_while(|x| x.0 <= r.1)
                .filter(|x| x.1 <= r.1)
                .map(|x| x.2),
        );
    }
    if hosts.is_empty() {
        return None;
    }
    hosts.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    hosts.dedup_by(|a, b| a.id == b.id);
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for h in &hosts {
        for g in &h.groups {
            by_group
                .entry(g.as_str())
                .or_default()
                .push(h.name.as_str());
        }
    }
    let mut classes: BTreeMap<usize, Class> = BTreeMap::new();
    for (g, mut names) in by_group {
        names.sort_unstable();
        names.dedup();
        let (id, status) = groups[g];
        let class = classes.entry(id).or_insert(Class {
            id,
            suggested: Vec::new(),
            exposed: Vec::new(),
        });
        let held = Held {
            group: g,
            names,
            status,
            text: OnceLock::new(),
        };
        if status.is_some() {
            class.exposed.push(held);
        } else {
            class.suggested.push(held);
        }
    }
    Some(Covered {
        count: hosts.len(),
        classes: classes.into_values().collect(),
    })
}

/// What identifies a group's outbound rules: their full description (peers, protocols,
/// ports) and the group's VPC (which decides whether a group reference applies, §1.3). Groups
/// with equal texts send the same packets; a group missing from the snapshot gets its own.
fn egress_text(cx: &Context, group: &str) -> String {
    match cx.m.security_groups.get(group) {
        Some(sg) => format!("{} {:?}", sg.vpc_id, sg.egress),
        None => format!("missing {group}"),
    }
}

/// `name (sg-…; members a, b)`.
fn group_with_members(cx: &Context, group: &str, members: &[&str]) -> String {
    let mut names: Vec<&str> = members.iter().take(3).copied().collect();
    let more = members.len().saturating_sub(3);
    let more = (more > 0).then(|| format!("{more} more"));
    names.extend(more.as_deref());
    let members = names.join(", ");
    match cx.m.security_groups.get(group).map(|sg| sg.name.as_str()) {
        Some(name) if !name.is_empty() => format!("{name} ({group}; members {members})"),
        _ => format!("{group} (members {members})"),
    }
}

fn vpc_label(cx: &Context, id: &str) -> String {
    cx.m.vpcs
        .get(id)
        .map(|v| super::context::labelled(&v.tags, id))
        .unwrap_or_else(|| id.to_string())
}

/// What the listeners of the group's load balancers take, when the group serves
/// only internet-facing load balancers: a rule admitting those ports from anywhere
/// is what such a load balancer needs (§5.2).
fn lb_listening(cx: &Context, sg: &SecurityGroup) -> Option<PacketSet> {
    let users = cx
        .users
        .get(sg.id.as_str())
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let lbs: Vec<&LoadBalancer> = users
        .iter()
        .filter_map(|u| cx.m.load_balancers.get(*u))
        .collect();
    let only_lbs = !lbs.is_empty()
        && lbs.iter().all(|lb| lb.internet_facing)
        && users.iter().all(|u| {
            cx.m.load_balancers.contains_key(*u)
                || cx
                    .m
                    .network_interfaces
                    .get(*u)
                    .is_some_and(|e| e.owner.kind == OwnerKind::LoadBalancer)
        });
    if !only_lbs {
        return None;
    }
    let mut listening = PacketSet::empty();
    for l in cx.m.listeners.values() {
        if !lbs.iter().any(|lb| lb.arn == l.lb_arn) {
            continue;
        }
        let Some(port) = l.port else { continue };
        for p in l.ip_protocols() {
            listening = listening.union(&PacketSet::from_box(
                PBox::FULL
                    .with(Dim::Proto, (p as u128, p as u128))
                    .with(Dim::DstPort, (port as u128, port as u128)),
            ));
        }
    }
    Some(listening)
}

fn status_words((status, through_lb): (Option<Status>, bool)) -> &'static str {
    match status {
        Some(Status::Effective) => "reachable today",
        Some(Status::Latent) if through_lb => "reached today through a load balancer, not directly",
        Some(Status::Latent) => "latent today: routing, NACLs or a missing public address stop it",
        None => "no member is exposed through it today",
    }
}

/// `sg-open-to-world`: 0.0.0.0/0 or ::/0 inbound. The IPv4 and IPv6 rules for
/// the same ports are one finding.
fn open_to_world<'u>(
    cx: &Context,
    sg: &SecurityGroup,
    users: &dyn Fn() -> &'u str,
    out: &mut Vec<Finding>,
) {
    let listening = lb_listening(cx, sg);
    // A rule admitting only listener ports of the group's load balancers is what they need.
    let beyond_listeners = |rule: &SgRule| match &listening {
        Some(l) => rule_packets(rule).subtract(l),
        None => rule_packets(rule),
    };
    let mut by_ports: BTreeMap<(Protocol, PortSpec), Vec<&SgRule>> = BTreeMap::new();
    for rule in &sg.ingress {
        if matches!(&rule.peer, SgPeer::Cidr(n) if n.prefix_len() == 0)
            && !beyond_listeners(rule).is_empty()
        {
            by_ports
                .entry((rule.protocol, rule.ports))
                .or_default()
                .push(rule);
        }
    }
    for ((protocol, ports), rules) in by_ports {
        // (Judged beyond the listener ports: those are what the load balancers need.)
        let reach: Vec<(Option<Status>, bool)> = rules
            .iter()
            .map(|r| cx.rule_reach_on(sg, r, &beyond_listeners(r)))
            .collect();
        let status = reach.iter().filter_map(|r| r.0).min();
        let through_lb = reach.iter().any(|r| r.1);
        let peers: Vec<String> = rules.iter().map(|r| r.peer.to_string()).collect();
        let diagnostic = is_diagnostic(protocol, ports);
        // ICMP (1) from an IPv6 range, or ICMPv6 (58) from an IPv4 one: the protocol of the
        // other address family, which no host sends inside these packets (a common slip for
        // `icmpv6`, which ping over IPv6 uses).
        let other_family = rules.iter().all(|r| match &r.peer {
            SgPeer::Cidr(n) => {
                (protocol == Protocol::Number(Protocol::ICMP) && n.addr().is_ipv6())
                    || (protocol == Protocol::Number(Protocol::ICMPV6) && n.addr().is_ipv4())
            }
            _ => false,
        });
        let message = format!(
            "{} admits {} from {} ({}{}){}{}",
            cx.sg_label(&sg.id),
            traffic_text(protocol, ports),
            peers.join(" and "),
            status_words((status, through_lb)),
            if listening.is_some() {
                " beyond its load balancers' listener ports"
            } else {
                ""
            },
            users(),
            if other_family && protocol == Protocol::Number(Protocol::ICMP) {
                "; ICMP for IPv4 from an IPv6 range, which no IPv6 host sends: it lets no ping through (ping over IPv6 is ICMPv6, `icmpv6`, protocol 58)"
            } else if other_family {
                "; ICMPv6 from an IPv4 range, which no IPv4 host sends: it lets no ping through (ping over IPv4 is ICMP, `icmp`, protocol 1)"
            } else if diagnostic {
                "; diagnostic traffic (ping, traceroute)"
            } else {
                ""
            },
        );
        let mut severity = graded(Severity::High, status);
        if other_family {
            severity = Severity::Info;
        } else if diagnostic {
            severity = severity.min(Severity::Low);
        }
        out.push(
            Finding::new(codes::SG_OPEN_TO_WORLD, severity, message)
                .resources([sg.id.clone()])
                .rules(rules.iter().map(|r| sg_rule_text(sg, true, r))),
        );
    }
}

/// ICMP, or the UDP ports traceroute probes (33434-33534): what "allow ping and
/// traceroute" rules admit, and low risk even from the whole internet.
fn is_diagnostic(protocol: Protocol, ports: PortSpec) -> bool {
    match (protocol, ports) {
        (Protocol::Number(p), _) if p == Protocol::ICMP || p == Protocol::ICMPV6 => true,
        (Protocol::Number(p), PortSpec::Range(a, b)) => {
            p == Protocol::UDP && 33434 <= a && b <= 33534
        }
        _ => false,
    }
}

/// `; used by a, b` naming the group's users (at most three, then a count).
fn users_phrase(cx: &Context, sg: &SecurityGroup) -> String {
    let mut names: Vec<String> = cx.apps_using(&sg.id).map(|a| a.name.clone()).collect();
    names.sort();
    names.dedup();
    match names.len() {
        0 => String::new(),
        n if n > 3 => format!("; used by {} and {} more", names[..3].join(", "), n - 3),
        _ => format!("; used by {}", names.join(", ")),
    }
}

/// `sg-wide-cidr`: a CIDR shorter than the configured prefix (but not /0).
fn wide_cidr<'u>(
    cx: &Context,
    cfg: &Config,
    sg: &SecurityGroup,
    users: &dyn Fn() -> &'u str,
    out: &mut Vec<Finding>,
) {
    for rule in &sg.ingress {
        let SgPeer::Cidr(net) = &rule.peer else {
            continue;
        };
        let limit = match net {
            IpNet::V4(_) => cfg.wide_prefix_v4,
            IpNet::V6(_) => cfg.wide_prefix_v6,
        };
        let len = net.prefix_len();
        if len == 0 || len >= limit {
            continue;
        }
        let (status, through_lb) = cx.rule_reach(sg, rule);
        let message = format!(
            "{} admits {} from {net}, a /{len}: wider than the /{limit} limit ({}){}",
            cx.sg_label(&sg.id),
            traffic_text(rule.protocol, rule.ports),
            status_words((status, through_lb)),
            users(),
        );
        out.push(
            Finding::new(
                codes::SG_WIDE_CIDR,
                graded(Severity::Medium, status),
                message,
            )
            .resources([sg.id.clone()])
            .rules([sg_rule_text(sg, true, rule)]),
        );
    }
}

/// `sg-all-ports`: all protocols, or every TCP/UDP port, from anyone but the group itself.
fn all_ports<'u>(
    cx: &Context,
    sg: &SecurityGroup,
    users: &dyn Fn() -> &'u str,
    out: &mut Vec<Finding>,
) {
    for rule in &sg.ingress {
        let every_port = match (rule.protocol, rule.ports) {
            (Protocol::All, _) => true,
            (Protocol::Number(p), PortSpec::All | PortSpec::Range(0, 65535)) => {
                p == Protocol::TCP || p == Protocol::UDP
            }
            _ => false,
        };
        let self_reference =
            matches!(&rule.peer, SgPeer::Group { group_id, .. } if *group_id == sg.id);
        if !every_port || self_reference {
            continue;
        }
        let (status, through_lb) = cx.rule_reach(sg, rule);
        let message = format!(
            "{} admits {} from {} ({}){}",
            cx.sg_label(&sg.id),
            traffic_text(rule.protocol, rule.ports),
            peer_text(cx, &rule.peer),
            status_words((status, through_lb)),
            users(),
        );
        out.push(
            Finding::new(
                codes::SG_ALL_PORTS,
                graded(Severity::Medium, status),
                message,
            )
            .resources([sg.id.clone()])
            .rules([sg_rule_text(sg, true, rule)]),
        );
    }
}

fn is_default(sg: &SecurityGroup) -> bool {
    sg.name == "default"
}

/// `default-sg-has-rules` and `default-sg-in-use` (§1.4).
fn default_group(cx: &Context, sg: &SecurityGroup, out: &mut Vec<Finding>) {
    if !is_default(sg) {
        return;
    }
    let users = cx.users.get(sg.id.as_str()).cloned().unwrap_or_default();
    if !sg.ingress.is_empty() || !sg.egress.is_empty() {
        let rules: Vec<String> = sg
            .ingress
            .iter()
            .map(|r| sg_rule_text(sg, true, r))
            .chain(sg.egress.iter().map(|r| sg_rule_text(sg, false, r)))
            .collect();
        let use_text = if users.is_empty() {
            "nothing uses it yet, but anything launched without a group gets it".to_string()
        } else {
            format!("{} resource(s) use it", users.len())
        };
        let message = format!(
            "default security group {} of VPC {} has {} inbound and {} outbound rule(s); {use_text}",
            sg.id,
            vpc_label(cx, &sg.vpc_id),
            sg.ingress.len(),
            sg.egress.len(),
        );
        let severity = if users.is_empty() {
            Severity::Low
        } else {
            Severity::Medium
        };
        out.push(
            Finding::new(codes::DEFAULT_SG_HAS_RULES, severity, message)
                .resources([sg.id.clone()])
                .rules(rules),
        );
    }
    if !users.is_empty() {
        let names: Vec<String> = users.iter().map(|u| user_label(cx, u)).collect();
        let message = format!(
            "default security group {} of VPC {} is used by {}",
            sg.id,
            vpc_label(cx, &sg.vpc_id),
            names.join(", ")
        );
        let mut resources = vec![sg.id.clone()];
        resources.extend(users.iter().map(|u| u.to_string()));
        out.push(
            Finding::new(codes::DEFAULT_SG_IN_USE, Severity::Medium, message).resources(resources),
        );
    }
}

fn user_label(cx: &Context, user: &str) -> String {
    if let Some(h) = cx.idx.hosts.get(user) {
        return cx.host_label(h);
    }
    if let Some(lb) = cx.m.load_balancers.get(user) {
        return format!("load balancer {}", lb.name);
    }
    if cx.m.db_instances.contains_key(user) {
        return format!("database {user}");
    }
    user.to_string()
}

/// `sg-unused`: no ENI, load balancer, endpoint or database uses the group.
/// Without network interfaces in the snapshot, use is unknown and nothing is said.
fn unused(
    cx: &Context,
    sg: &SecurityGroup,
    referenced_by: &BTreeMap<&str, BTreeSet<&str>>,
    out: &mut Vec<Finding>,
) {
    if is_default(sg)
        || cx.users.contains_key(sg.id.as_str())
        || !cx.m.present_kinds.contains(&ResourceKind::NetworkInterface)
    {
        return;
    }
    let empty = BTreeSet::new();
    let referencing = referenced_by.get(sg.id.as_str()).unwrap_or(&empty);
    let mut message = format!(
        "{} in {} is not used by any network interface, load balancer, VPC endpoint or database",
        cx.sg_label(&sg.id),
        vpc_label(cx, &sg.vpc_id)
    );
    if !referencing.is_empty() {
        message.push_str(&format!(
            "; rules of {} reference it and match nothing while it has no members",
            referencing
                .iter()
                .map(|g| cx.sg_label(g))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut resources = vec![sg.id.clone()];
    resources.extend(referencing.iter().map(|g| g.to_string()));
    out.push(Finding::new(codes::SG_UNUSED, Severity::Info, message).resources(resources));
}

/// `sg-stale-reference` (§1.3 "Stale references"): a referenced group or
/// prefix list that should be in the snapshot but is not, or a reference over
/// a peering that is no longer active. Groups of other accounts or of VPCs
/// outside the snapshot are unknown, not stale.
fn stale_references(cx: &Context, sg: &SecurityGroup, out: &mut Vec<Finding>) {
    for (inbound, rule) in sg
        .ingress
        .iter()
        .map(|r| (true, r))
        .chain(sg.egress.iter().map(|r| (false, r)))
    {
        let why = match &rule.peer {
            SgPeer::Group {
                group_id,
                owner,
                vpc_id,
                ..
            } => {
                let foreign_account = owner
                    .as_deref()
                    .is_some_and(|o| sg.location.account.as_deref().is_some_and(|a| a != o));
                let vpc_known = vpc_id.as_deref().is_none_or(|v| cx.m.vpcs.contains_key(v));
                if let Some(pcx) = cx.m.stale_peering(&rule.peer) {
                    Some(format!(
                        "the peering connection {pcx} that carried the reference to {group_id} is not active, so the rule is stale: the report counts it as matching nothing, and `exposure query` answers `unknown` for what only it would allow over another connection between the VPCs (AWS does not document whether it matches again)"
                    ))
                } else if !cx.m.security_groups.contains_key(group_id)
                    && !foreign_account
                    && vpc_known
                {
                    Some(format!(
                        "security group {group_id} does not exist, so the rule matches nothing"
                    ))
                } else {
                    None
                }
            }
            // A prefix list that rules or routes reference cannot be deleted (EC2 refuses
            // `DeleteManagedPrefixList` while it is referenced): one missing from the snapshot
            // was not collected (queries answer `unknown`, loading warns), it is not stale.
            SgPeer::PrefixList(_) | SgPeer::Cidr(_) => None,
        };
        let Some(why) = why else { continue };
        let message = format!(
            "{} has an {} rule for {} whose peer is gone: {why}",
            cx.sg_label(&sg.id),
            if inbound { "inbound" } else { "outbound" },
            traffic_text(rule.protocol, rule.ports),
        );
        out.push(
            Finding::new(codes::SG_STALE_REFERENCE, Severity::Low, message)
                .resources([sg.id.clone(), rule.peer.to_string()])
                .rules([sg_rule_text(sg, inbound, rule)]),
        );
    }
}
