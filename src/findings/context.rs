//! What every check needs besides the model: the exposure report, the engine's
//! index, who uses each security group, and the link between a rule and the
//! exposures in the report that it helps create (which decides severity).
//!
//! The report describes traffic as text lines (`tcp 22, 80-443`); to relate it
//! to a rule it is parsed back into a packet set over protocol and port.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::fast::FixedState;
use rayon::prelude::*;

use crate::analysis::{AppSet, Application, Exposure, Report, Source, Status};
use crate::engine::filters::proto_ports_box;
use crate::engine::index::{Host, Index, Way};
use crate::engine::packet::{self, net_intervals, Dim, Interval, PBox, PacketSet};
use crate::engine::query::Traffic;
use crate::engine::walk;
use crate::model::*;

/// A map only looked up, never iterated (so its order cannot reach the output), hashed with
/// foldhash: string keys are hashed once instead of compared a dozen times in a B-tree.
pub(super) type Lookup<K, V> = HashMap<K, V, FixedState>;

/// The model, the report and lookups built once for all checks.
pub(super) struct Context<'a> {
    /// The model.
    pub m: &'a Model,
    /// The exposure report.
    pub report: &'a Report,
    /// The engine's lookups (hosts, group membership).
    pub idx: &'a Index<'a>,
    /// Users of each security group, in first-seen order: ENI ids, load-balancer ARNs, VPC
    /// endpoint ids, DB identifiers.
    pub users: Lookup<&'a str, Vec<&'a str>>,
    /// Exposures per target application (in the report's order), with their traffic parsed once.
    exposures: Lookup<&'a str, Vec<(&'a Exposure, PacketSet)>>,
    /// Applications per security group, in the report's order.
    apps_by_group: Lookup<&'a str, Vec<&'a Application>>,
    internet_v4: Vec<Interval>,
    internet_v6: Vec<Interval>,
    /// The estate's own internet addresses ([`crate::engine::query::estate_addresses`]):
    /// no internet client holds them.
    own: Vec<Interval>,
    /// Host id → index of its application in the report.
    app_of_host: HashMap<&'a str, u32>,
    /// Memo of `apps_within` (checks run on several threads).
    within_memo: Mutex<HashMap<Vec<Interval>, Arc<AppSet>>>,
    /// Memo of `group_internet_status` (asked once per rule that names a group's members).
    group_status: Mutex<HashMap<String, Option<Status>>>,
}

impl<'a> Context<'a> {
    pub fn new(m: &'a Model, idx: &'a Index, report: &'a Report) -> Context<'a> {
        // Users in first-seen order, each once (a set beside the list keeps it linear).
        let users_of = || {
            let mut users: Lookup<&'a str, Vec<&'a str>> = Lookup::default();
            let mut seen: HashSet<(&str, &str), FixedState> = HashSet::default();
            let mut add = |g: &'a String, user: &'a String| {
                if seen.insert((g.as_str(), user.as_str())) {
                    users.entry(g.as_str()).or_default().push(user.as_str());
                }
            };
            for e in m.network_interfaces.values() {
                e.groups.iter().for_each(|g| add(g, &e.id));
            }
            for lb in m.load_balancers.values() {
                lb.security_groups.iter().for_each(|g| add(g, &lb.arn));
            }
            for ep in m.vpc_endpoints.values() {
                ep.groups.iter().for_each(|g| add(g, &ep.id));
            }
            for db in m.db_instances.values() {
                db.groups.iter().for_each(|g| add(g, &db.id));
            }
            users
        };
        // Each exposure's traffic parsed on both cores, then listed per target in the report's
        // order.
        let exposures_of = || {
            let parsed: Vec<PacketSet> = report
                .exposures
                .par_iter()
                .map(|e| traffic_set(&e.traffic))
                .collect();
            let mut exposures: Lookup<&'a str, Vec<(&'a Exposure, PacketSet)>> = Lookup::default();
            for (e, set) in report.exposures.iter().zip(parsed) {
                exposures
                    .entry(e.target.as_str())
                    .or_default()
                    .push((e, set));
            }
            exposures
        };
        let ((users, exposures), apps_by_group) = rayon::join(
            || rayon::join(users_of, exposures_of),
            || {
                let mut apps_by_group: Lookup<&'a str, Vec<&'a Application>> = Lookup::default();
                for a in &report.applications {
                    for g in &a.groups {
                        apps_by_group.entry(g.as_str()).or_default().push(a);
                    }
                }
                apps_by_group
            },
        );
        let space = walk::internet_space();
        let (internet_v4, internet_v6) = space.into_iter().partition(|iv| packet::is_v4(iv.0));
        Context {
            m,
            report,
            idx,
            users,
            exposures,
            apps_by_group,
            internet_v4,
            internet_v6,
            own: crate::engine::query::estate_addresses(m, idx),
            app_of_host: {
                // The first application naming a host, as `Report::app_of_host` finds it (an
                // application's members are a partition of the hosts: there is one).
                let mut map = HashMap::new();
                for (i, a) in report.applications.iter().enumerate() {
                    for h in &a.members {
                        map.entry(h.as_str()).or_insert(i as u32);
                    }
                }
                map
            },
            within_memo: Default::default(),
            group_status: Default::default(),
        }
    }

    /// `name (id)` for a security group: its group name, else its Name tag.
    pub fn sg_label(&self, id: &str) -> String {
        match self.m.security_groups.get(id) {
            Some(sg) if !sg.name.is_empty() => format!("{} ({id})", sg.name),
            Some(sg) => labelled(&sg.tags, id),
            None => id.to_string(),
        }
    }

    /// `name (id)` for a host.
    pub fn host_label(&self, h: &Host) -> String {
        if h.name.is_empty() || h.name == h.id {
            h.id.clone()
        } else {
            format!("{} ({})", h.name, h.id)
        }
    }

    /// The application a host belongs to (`Report::app_of_host`, through a hash map).
    pub fn app_of_host(&self, host: &str) -> Option<&'a Application> {
        self.app_of_host
            .get(host)
            .map(|&i| &self.report.applications[i as usize])
    }

    /// The applications whose members carry a security group.
    pub fn apps_using(&self, group: &str) -> impl Iterator<Item = &'a Application> + '_ {
        self.apps_by_group.get(group).into_iter().flatten().copied()
    }

    /// The exposures of an application, each with its traffic as packets.
    pub fn exposures_of(&self, app: &str) -> &[(&'a Exposure, PacketSet)] {
        self.exposures.get(app).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The addresses a rule's peer stands for.
    pub fn peer_intervals(&self, sg: &SecurityGroup, peer: &SgPeer) -> Vec<Interval> {
        match peer {
            SgPeer::Cidr(n) => net_intervals(n),
            SgPeer::PrefixList(pl) => self
                .m
                .prefix_lists
                .get(pl)
                .map(|p| p.cidrs.iter().flat_map(net_intervals).collect())
                .unwrap_or_default(),
            SgPeer::Group { group_id, .. } => {
                self.idx
                    .group_members(self.m, group_id, &sg.vpc_id, true, Way::Any)
            }
        }
    }

    /// Whether some of the addresses are public IPv4 / global IPv6 addresses that internet
    /// clients may hold (not only the estate's own: its Elastic IPs, its VPCs' IPv6 blocks).
    pub fn reaches_internet(&self, ivs: &[Interval]) -> (bool, bool) {
        let held_outside = |space: &[Interval]| {
            ivs.iter().any(|x| {
                space.iter().any(|y| {
                    let (a, b) = (x.0.max(y.0), x.1.min(y.1));
                    a <= b && !packet::covered((a, b), &self.own)
                })
            })
        };
        (
            held_outside(&self.internet_v4),
            held_outside(&self.internet_v6),
        )
    }

    /// How the exposures in the report that an ingress rule helps admit stand:
    /// `Effective` when a source the rule names reaches the group's members
    /// directly today on the rule's ports; `Latent` when the rule admits the
    /// internet but no direct path exists today; `None` when no exposure in
    /// the report involves the rule. A rule whose peer holds internet
    /// addresses is judged by the internet exposure it creates alone: that it
    /// also admits the VPC's own instances is not what makes it open.
    pub fn rule_status(&self, sg: &SecurityGroup, rule: &SgRule) -> Option<Status> {
        self.rule_reach(sg, rule).0
    }

    /// [`Self::rule_status`], and whether the internet reaches the group's members through a
    /// load balancer today on the rule's ports (then `Latent` means "not directly").
    pub fn rule_reach(&self, sg: &SecurityGroup, rule: &SgRule) -> (Option<Status>, bool) {
        self.rule_reach_on(sg, rule, &rule_packets(rule))
    }

    /// [`Self::rule_reach`] for the part `ports` of what the rule admits (its protocols and
    /// ports, [`rule_packets`]).
    pub fn rule_reach_on(
        &self,
        sg: &SecurityGroup,
        rule: &SgRule,
        ports: &PacketSet,
    ) -> (Option<Status>, bool) {
        let mut through_lb = false;
        let peer = self.peer_intervals(sg, &rule.peer);
        let (v4, v6) = self.reaches_internet(&peer);
        let internal = !v4 && !v6;
        // The applications inside the peer, asked for once (at the first exposure that needs them).
        let within = std::cell::OnceCell::new();
        let within = || within.get_or_init(|| self.apps_within(&peer));
        let mut best: Option<Status> = None;
        for app in self.apps_using(&sg.id) {
            for (e, reached) in self.exposures_of(&app.id) {
                let internet = match &e.source {
                    Source::InternetV4 if v4 => true,
                    Source::InternetV6 if v6 => true,
                    Source::Application(src)
                        if internal
                            && self
                                .report
                                .app_index(src)
                                .is_some_and(|i| within().contains(i as u32)) =>
                    {
                        false
                    }
                    Source::Applications(set) if internal && set.intersects(within()) => false,
                    _ => continue,
                };
                if !reached.meets(ports) {
                    continue;
                }
                let status = match e.status {
                    Status::Effective if is_direct(e, app) => Status::Effective,
                    // Reached today only through a load balancer: the rule admits the
                    // internet, but nothing uses that directly yet.
                    Status::Effective if internet => {
                        through_lb = true;
                        Status::Latent
                    }
                    Status::Effective => continue,
                    Status::Latent => Status::Latent,
                };
                best = Some(best.map_or(status, |b| b.min(status)));
            }
        }
        (best, through_lb)
    }

    /// How the internet reaches an application directly (not through a load
    /// balancer), on the given packets (or any).
    pub fn direct_internet_status(
        &self,
        app: &Application,
        packets: Option<&PacketSet>,
    ) -> Option<Status> {
        let mut best: Option<Status> = None;
        for (e, reached) in self.exposures_of(&app.id) {
            if !matches!(e.source, Source::InternetV4 | Source::InternetV6) {
                continue;
            }
            if packets.is_some_and(|p| !reached.meets(p)) {
                continue;
            }
            let status = match e.status {
                Status::Effective if is_direct(e, app) => Status::Effective,
                Status::Effective => continue,
                Status::Latent => Status::Latent,
            };
            best = Some(best.map_or(status, |b| b.min(status)));
        }
        best
    }

    /// How the internet reaches one member (`host`) of `app` directly: as
    /// [`Self::direct_internet_status`], except that an effective exposure whose members
    /// leave `host` out (it has no public address, say) leaves it latent: its groups, the
    /// application's, admit the traffic; something else stops it.
    pub fn direct_internet_status_of(&self, app: &Application, host: &str) -> Option<Status> {
        let k = app.members.iter().position(|m| m == host);
        let mut best: Option<Status> = None;
        for (e, _) in self.exposures_of(&app.id) {
            if !matches!(e.source, Source::InternetV4 | Source::InternetV6) {
                continue;
            }
            let status = match e.status {
                Status::Effective if !is_direct(e, app) => continue,
                Status::Effective if k.is_some_and(|k| e.members.contains(&k)) => Status::Effective,
                Status::Effective | Status::Latent => Status::Latent,
            };
            best = Some(best.map_or(status, |b| b.min(status)));
        }
        best
    }

    /// How the internet reaches the members of a security group directly, over
    /// the applications (other than load balancers) that use it.
    pub fn group_internet_status(&self, group: &str) -> Option<Status> {
        if let Some(s) = self
            .group_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(group)
        {
            return *s;
        }
        let s = self
            .apps_using(group)
            .filter(|a| a.kind != OwnerKind::LoadBalancer)
            .filter_map(|a| self.direct_internet_status(a, None))
            .min();
        self.group_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(group.to_string(), s);
        s
    }

    /// The applications (indices into the report's) with a member whose addresses all lie
    /// inside `peer`: those a rule naming `peer` is about.
    fn apps_within(&self, peer: &[Interval]) -> Arc<AppSet> {
        if let Some(s) = self
            .within_memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(peer)
        {
            return s.clone();
        }
        let set = AppSet::from_indices(
            self.idx
                .vpc_holders_any(peer)
                .into_iter()
                .filter(|h| !h.private.is_empty() && h.private.iter().all(|p| within(p, peer)))
                .filter_map(|h| self.app_of_host.get(h.id.as_str()).copied()),
        );
        let set = Arc::new(set);
        self.within_memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(peer.to_vec(), set.clone());
        set
    }
}

/// `Name tag (id)`, or the id alone.
pub(super) fn labelled(tags: &Tags, id: &str) -> String {
    match name_tag(tags) {
        Some(n) if n != id => format!("{n} ({id})"),
        _ => id.to_string(),
    }
}

/// Whether an exposure of `app` reaches it directly, not only as the target of
/// a load balancer's listeners (a load balancer is entered through its own
/// listeners: that is direct).
pub(super) fn is_direct(e: &Exposure, app: &Application) -> bool {
    app.kind == OwnerKind::LoadBalancer || e.entries.iter().any(|x| x == "direct")
}

/// Whether an interval lies inside one of the ranges.
pub(super) fn within(iv: &Interval, ranges: &[Interval]) -> bool {
    ranges.iter().any(|r| r.0 <= iv.0 && iv.1 <= r.1)
}

/// The packets (protocol and destination port; any address) a security-group rule admits.
pub(super) fn rule_packets(rule: &SgRule) -> PacketSet {
    PacketSet::from_box(proto_ports_box(rule.protocol, rule.ports, Dim::DstPort))
}

/// A rule's protocol and ports in words: `tcp port 22`, `all traffic`, `icmp all types`.
pub(super) fn traffic_text(protocol: Protocol, ports: PortSpec) -> String {
    match (protocol, ports) {
        (Protocol::All, _) => "all traffic".into(),
        (Protocol::Number(p), PortSpec::All)
            if p == Protocol::TCP
                || p == Protocol::UDP
                || p == Protocol::ICMP
                || p == Protocol::ICMPV6 =>
        {
            let all = if p == Protocol::ICMP || p == Protocol::ICMPV6 {
                "all types"
            } else {
                "all ports"
            };
            format!("{} {all}", protocol_name(p))
        }
        (Protocol::Number(p), PortSpec::All) => protocol_name(p),
        (Protocol::Number(p), ports) => format!("{} {ports}", protocol_name(p)),
    }
}

/// A rule's peer in words: a CIDR, a prefix list, or `name (sg-…)`.
pub(super) fn peer_text(cx: &Context, peer: &SgPeer) -> String {
    match peer {
        SgPeer::Group { group_id, .. } => cx.sg_label(group_id),
        other => other.to_string(),
    }
}

/// `sg-… inbound tcp port 22 from 0.0.0.0/0`.
pub(super) fn sg_rule_text(sg: &SecurityGroup, inbound: bool, rule: &SgRule) -> String {
    let (dir, word) = if inbound {
        ("inbound", "from")
    } else {
        ("outbound", "to")
    };
    format!(
        "{} {dir} {} {word} {}",
        sg.id,
        traffic_text(rule.protocol, rule.ports),
        rule.peer
    )
}

/// Parses the report's traffic lines back into packets over protocol and destination port
/// (addresses unconstrained); text it cannot read counts as every protocol and port.
pub(super) fn traffic_set(lines: &[Traffic]) -> PacketSet {
    crate::engine::query::traffic_set(lines).unwrap_or_else(|| PacketSet::from_box(PBox::FULL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(p: &str, ports: &str) -> Traffic {
        Traffic {
            protocol: p.into(),
            ports: ports.into(),
        }
    }

    fn has(set: &PacketSet, proto: u128, port: u128) -> bool {
        !set.intersect(&PacketSet::from_box(
            PBox::FULL
                .with(Dim::Proto, (proto, proto))
                .with(Dim::DstPort, (port, port)),
        ))
        .is_empty()
    }

    #[test]
    fn traffic_lines_parse_back_into_packets() {
        let s = traffic_set(&[line("tcp", "22, 80-443"), line("udp", "all ports")]);
        assert!(has(&s, 6, 22) && has(&s, 6, 100) && !has(&s, 6, 444));
        assert!(has(&s, 17, 9) && !has(&s, 1, 0));
        let all = traffic_set(&[line("all", "")]);
        assert!(has(&all, 47, 0) && has(&all, 6, 65535));
        let icmp = traffic_set(&[line("icmp", "types 8")]);
        assert!(has(&icmp, 1, 8 * 256) && !has(&icmp, 1, 0));
        let gre = traffic_set(&[line("proto-47", "")]);
        assert!(has(&gre, 47, 0) && !has(&gre, 6, 0));
        let run = traffic_set(&[line("proto-12-40", "")]);
        assert!(has(&run, 30, 0) && !has(&run, 41, 0) && !has(&run, 11, 0));
        let codes = traffic_set(&[line("icmp", "types 0; type 3 codes 4")]);
        assert!(has(&codes, 1, 3 * 256 + 4) && !has(&codes, 1, 3 * 256 + 3) && has(&codes, 1, 7));
    }

    #[test]
    fn rule_traffic_in_words() {
        assert_eq!(traffic_text(Protocol::All, PortSpec::All), "all traffic");
        assert_eq!(
            traffic_text(Protocol::Number(6), PortSpec::Range(22, 22)),
            "tcp port 22"
        );
        assert_eq!(
            traffic_text(Protocol::Number(17), PortSpec::All),
            "udp all ports"
        );
        assert_eq!(
            traffic_text(Protocol::Number(50), PortSpec::All),
            "proto-50"
        );
    }
}
