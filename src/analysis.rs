//! The exposure report: for every application, what the internet (IPv4 and IPv6),
//! on-premises and the other applications can reach, and whether each exposure is
//! effective (a real path exists) or latent (a security group admits it, but
//! routing, NACLs or the lack of a public address stop it today).
//!
//! Applications group network interfaces that play the same role: the nodes of
//! one load balancer, or interfaces of the same kind with the same security-group
//! set, so that 200 identical instances are one line with a count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::engine::allpairs::{self, Origin};
pub use crate::engine::appset::AppSet;
use crate::engine::appset::Interner;
use crate::engine::filters::{self, SgDirection};
use crate::engine::index::{Host, Index};
use crate::engine::packet::{Dim, PBox, PacketSet};
use crate::engine::query::{self, Request, Traffic};
use crate::engine::walk;
use crate::model::*;

/// A group of network interfaces playing one role.
#[derive(Debug, Clone)]
pub struct Application {
    /// Stable key (`lb:<arn>`, `rds:<id>`, `<kind>:<sorted groups>`).
    pub id: String,
    /// Display name (Name tags, LB name, DB identifier, or the service and its groups).
    pub name: String,
    /// Owner kind.
    pub kind: OwnerKind,
    /// Member host ids (ENIs, or LB nodes without ENIs).
    pub members: Vec<String>,
    /// The members' names (Name tags, or ids), in the order of `members`.
    pub member_names: Vec<String>,
    /// Security groups.
    pub groups: Vec<String>,
    /// VPCs the members are in.
    pub vpcs: Vec<String>,
    /// Subnets the members are in.
    pub subnets: Vec<String>,
    /// Account and region (of the first member).
    pub location: Location,
}

/// Who reaches an application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Any public IPv4 address.
    InternetV4,
    /// Any global IPv6 address.
    InternetV6,
    /// On-premises networks behind VPN gateways.
    Onprem,
    /// One other application (its id): the per-pair view of [`Report::pairs`].
    Application(String),
    /// Other applications (indices into [`Report::applications`]): each of them reaches the
    /// target as the exposure says. The report's own form for application sources (equal
    /// sets are one allocation).
    Applications(Arc<AppSet>),
}

impl Source {
    /// A short label.
    pub fn label(&self, report: &Report) -> String {
        match self {
            Source::InternetV4 => "internet (IPv4)".into(),
            Source::InternetV6 => "internet (IPv6)".into(),
            Source::Onprem => "on-premises".into(),
            Source::Application(id) => report
                .app(id)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| id.clone()),
            Source::Applications(set) => match set.len() {
                1 => set
                    .indices()
                    .next()
                    .and_then(|i| report.applications.get(i as usize))
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                n => format!("{n} applications"),
            },
        }
    }
}

/// Effective or latent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// A path exists today.
    Effective,
    /// A security group admits it; routing, NACLs or a missing public address stop it today.
    Latent,
}

/// One exposure of an application to a source.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// Who.
    pub source: Source,
    /// The exposed application's id.
    pub target: String,
    /// Effective or latent.
    pub status: Status,
    /// Protocols and ports.
    pub traffic: Vec<Traffic>,
    /// The same as packets (protocol and destination port; other dimensions full).
    pub packets: PacketSet,
    /// Entry points: `direct`, or `<lb> <PROTOCOL> <port>` listeners.
    pub entries: Vec<String>,
    /// What each entry point lets through (protocol and destination port, as `packets`), in
    /// the order of `entries`: for effective exposures to the internet and on-premises only
    /// (empty for application sources and latent exposures). The findings name the listeners
    /// that lead to a sensitive port with it.
    pub entry_packets: Vec<(String, PacketSet)>,
    /// How many members are exposed.
    pub members_exposed: usize,
    /// Which members (indices into the target application's `members`).
    pub members: Vec<usize>,
    /// What stops a latent exposure today (reason codes).
    pub blocked_by: Vec<String>,
}

/// The report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Applications, sorted by id.
    pub applications: Vec<Application>,
    /// Exposures, most serious first.
    pub exposures: Vec<Exposure>,
    /// Assumptions made.
    pub assumptions: Vec<String>,
}

impl Report {
    /// An application by id.
    pub fn app(&self, id: &str) -> Option<&Application> {
        // Sorted by id (they come out of a map keyed by id).
        self.applications
            .binary_search_by(|a| a.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.applications[i])
    }

    /// The application a host belongs to.
    pub fn app_of_host(&self, host: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.members.iter().any(|m| m == host))
    }

    /// The index of an application in [`Report::applications`].
    pub fn app_index(&self, id: &str) -> Option<usize> {
        self.applications
            .binary_search_by(|a| a.id.as_str().cmp(id))
            .ok()
    }

    /// The exposures one pair at a time: every exposure whose source is a set of
    /// applications becomes one exposure per (source application, target), with the traffic,
    /// entries and members of every exposure that names that source joined. Costs time and
    /// memory in proportion to the number of pairs (the square of the estate, at worst):
    /// for comparing reports and drawing them, not for large estates.
    pub fn pairs(&self) -> Vec<Exposure> {
        let mut out: Vec<Exposure> = self
            .exposures
            .iter()
            .filter(|e| !matches!(e.source, Source::Applications(_)))
            .cloned()
            .collect();
        let mut pairs: Vec<Exposure> = self.pairs_by_target().flatten().collect();
        // In the report's order: by source then target, then most serious first.
        pairs.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
        out.extend(pairs);
        out.sort_by_cached_key(exposure_order);
        out
    }

    /// The application-to-application part of [`Self::pairs`], one target at a time (in the
    /// order of target ids; each target's pairs by source id), so that a caller can go
    /// through every pair of a large estate holding one target's at once.
    pub fn pairs_by_target(&self) -> impl Iterator<Item = Vec<Exposure>> + '_ {
        let mut by_target: BTreeMap<&str, Vec<&Exposure>> = BTreeMap::new();
        for e in &self.exposures {
            if matches!(e.source, Source::Applications(_)) {
                by_target.entry(e.target.as_str()).or_default().push(e);
            }
        }
        by_target.into_iter().map(move |(target, exposures)| {
            type Joined = (PacketSet, BTreeSet<String>, BTreeSet<usize>);
            let mut joined: BTreeMap<&str, Joined> = BTreeMap::new();
            for e in exposures {
                let Source::Applications(set) = &e.source else {
                    continue;
                };
                for i in set.indices() {
                    let Some(app) = self.applications.get(i as usize) else {
                        continue;
                    };
                    let j = joined.entry(app.id.as_str()).or_default();
                    j.0 = j.0.union(&e.packets);
                    j.1.extend(e.entries.iter().cloned());
                    j.2.extend(e.members.iter().copied());
                }
            }
            joined
                .into_iter()
                .map(|(source, (packets, entries, members))| Exposure {
                    source: Source::Application(source.to_string()),
                    target: target.to_string(),
                    status: Status::Effective,
                    traffic: query::traffic_of(&packets),
                    packets,
                    entries: entries.into_iter().collect(),
                    entry_packets: Vec::new(),
                    members_exposed: members.len(),
                    members: members.into_iter().collect(),
                    blocked_by: Vec::new(),
                })
                .collect()
        })
    }
}

/// The key that puts a host in its application: the interfaces of one load balancer, RDS
/// instance, NAT gateway or endpoint are one application; other interfaces of one kind, VPC
/// and set of groups are one.
fn application_key(h: &Host) -> String {
    match h.kind {
        OwnerKind::LoadBalancer => format!(
            "lb:{}",
            h.owner_id.clone().unwrap_or_else(|| h.name.clone())
        ),
        OwnerKind::Rds if h.owner_id.is_some() => {
            format!("rds:{}", h.owner_id.clone().unwrap_or_default())
        }
        OwnerKind::NatGateway => {
            format!("nat:{}", h.owner_id.clone().unwrap_or_else(|| h.id.clone()))
        }
        OwnerKind::VpcEndpoint => format!(
            "vpce:{}",
            h.owner_id.clone().unwrap_or_else(|| h.id.clone())
        ),
        kind => {
            let mut g = h.groups.clone();
            g.sort();
            format!("{}:{}:{}", kind.as_str(), h.vpc_id, g.join("+"))
        }
    }
}

/// Groups hosts into applications.
pub fn applications(m: &Model, idx: &Index) -> Vec<Application> {
    // Each host's application key, on both cores; then the hosts grouped by key (a stable
    // sort: each group's hosts stay in id order).
    let mut keyed: Vec<(String, &Host)> = idx
        .hosts
        .par_iter()
        .map(|(_, h)| (application_key(h), h))
        .collect();
    keyed.par_sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Vec<(String, Vec<&Host>)> = Vec::new();
    for (key, h) in keyed {
        match groups.last_mut() {
            Some((k, hosts)) if *k == key => hosts.push(h),
            _ => groups.push((key, vec![h])),
        }
    }
    groups
        .into_par_iter()
        .map(|(id, hosts)| {
            let mut names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
            names.sort();
            names.dedup();
            let name = if names.len() > 3 {
                format!("{} and {} more", names[..2].join(", "), names.len() - 2)
            } else {
                names.join(", ")
            };
            let mut vpcs: Vec<String> = hosts.iter().map(|h| h.vpc_id.clone()).collect();
            vpcs.sort();
            vpcs.dedup();
            let mut subnets: Vec<String> = hosts.iter().map(|h| h.subnet_id.clone()).collect();
            subnets.sort();
            subnets.dedup();
            let location = m
                .subnets
                .get(&hosts[0].subnet_id)
                .map(|s| s.location.clone())
                .unwrap_or_default();
            Application {
                id,
                name,
                kind: hosts[0].kind,
                members: hosts.iter().map(|h| h.id.clone()).collect(),
                member_names: hosts.iter().map(|h| h.name.clone()).collect(),
                groups: hosts[0].groups.clone(),
                vpcs,
                subnets,
                location,
            }
        })
        .collect()
}

fn request(from: &str, to: &str) -> Request {
    Request {
        from: from.to_string(),
        to: to.to_string(),
        protocols: None,
        ports: None,
        source_ports: None,
    }
}

fn entry_label(m: &Model, entry: &Option<String>) -> String {
    match entry.as_ref().and_then(|e| m.listeners.get(e)) {
        Some(l) => {
            let lb = m
                .load_balancers
                .get(&l.lb_arn)
                .map(|lb| lb.name.clone())
                .unwrap_or_default();
            format!(
                "{lb} {} {}",
                l.protocol,
                l.port.map(|p| p.to_string()).unwrap_or_default()
            )
        }
        None => "direct".into(),
    }
}

/// What an application source gets of a target: (target, entry, members, traffic).
type Effect = (usize, String, Vec<usize>, Vec<Traffic>);

/// A key with its hash computed beforehand (on a worker): a map of them hashes only the
/// stored number, when it looks a key up and when it grows.
#[derive(Debug)]
struct Prehashed<K> {
    hash: u64,
    key: K,
}

impl<K: std::hash::Hash> Prehashed<K> {
    fn new(key: K) -> Self {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::default().hash_one(&key);
        Prehashed { hash, key }
    }
}

impl<K: PartialEq> PartialEq for Prehashed<K> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl<K: Eq> Eq for Prehashed<K> {}

impl<K> std::hash::Hash for Prehashed<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// How the analysis groups interfaces before evaluating all pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One class per application and subnet (the fast evaluation).
    #[default]
    Classes,
    /// One class per interface: the ungrouped evaluation, for equality tests.
    PerInterface,
}

/// Whether interfaces of this kind open connections of their own: not gateways, endpoints,
/// load balancers (their forwarding is shown as the exposure it serves) or data stores.
pub fn is_client(kind: OwnerKind) -> bool {
    !matches!(
        kind,
        OwnerKind::LoadBalancer
            | OwnerKind::NatGateway
            | OwnerKind::TransitGateway
            | OwnerKind::GwlbEndpoint
            | OwnerKind::VpcEndpoint
            | OwnerKind::Rds
            | OwnerKind::ElastiCache
            | OwnerKind::Efs
            | OwnerKind::ResourceGateway
    )
}

/// What one source reaches of one application, merged over classes and members.
#[derive(Default)]
struct Acc {
    traffic: PacketSet,
    entries: Vec<String>,
    /// What each entry lets through (sources outside the estate only).
    by_entry: Vec<(String, PacketSet)>,
    /// Members of the target application (indices into its `members`).
    hosts: BTreeSet<usize>,
}

/// Computes the exposure report.
pub fn analyze(m: &Model) -> Report {
    analyze_with(m, Grouping::Classes)
}

/// What the report covers and how it is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Grouping of interfaces (does not change the result).
    pub grouping: Grouping,
    /// Whether to compute application-to-application reach (the part whose size grows with
    /// the square of the estate); without it the report covers the internet and on-premises.
    pub app_to_app: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grouping: Grouping::Classes,
            app_to_app: true,
        }
    }
}

/// Computes the exposure report, grouping interfaces as told (the result does not depend on
/// the grouping; tests compare both).
pub fn analyze_with(m: &Model, grouping: Grouping) -> Report {
    analyze_with_options(
        m,
        &Options {
            grouping,
            ..Options::default()
        },
    )
}

/// Computes the exposure report with the given options.
pub fn analyze_with_options(m: &Model, options: &Options) -> Report {
    analyze_indexed(m, &Index::new(m), options)
}

/// The same as [`analyze_with_options`], with the engine's index of `m` already built (to be
/// shared with [`crate::findings::check_indexed`]).
pub fn analyze_indexed(m: &Model, idx: &Index, options: &Options) -> Report {
    let grouping = options.grouping;
    let apps = applications(m, idx);
    // Classes: an application's members in one subnet (or each interface alone), numbered
    // application by application, so that a class's members map back to the application's.
    let mut classes: Vec<Vec<String>> = Vec::new();
    let mut class_app: Vec<u32> = Vec::new();
    let mut class_members: Vec<Vec<usize>> = Vec::new();
    let mut clients: Vec<bool> = Vec::new();
    // Each application's classes (members by subnet) on both cores, numbered in order.
    let per_app: Vec<Vec<Vec<usize>>> = apps
        .par_iter()
        .map(|app| {
            let mut by_subnet: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (k, h) in app.members.iter().enumerate() {
                let host = &idx.hosts[h];
                let key = match grouping {
                    Grouping::Classes => host.subnet_id.as_str(),
                    Grouping::PerInterface => h.as_str(),
                };
                by_subnet.entry(key).or_default().push(k);
            }
            by_subnet.into_values().collect()
        })
        .collect();
    for (ai, (app, app_classes)) in apps.iter().zip(per_app).enumerate() {
        for ks in app_classes {
            classes.push(ks.iter().map(|&k| app.members[k].clone()).collect());
            class_members.push(ks);
            class_app.push(ai as u32);
            clients.push(options.app_to_app && is_client(app.kind));
        }
    }
    let (reaches, unknowns) = allpairs::compute(m, idx, &classes, &class_app, &clients);
    let app_members = |class: usize, ks: &[usize]| -> Vec<usize> {
        ks.iter().map(|&k| class_members[class][k]).collect()
    };
    let mut acc: BTreeMap<(Source, usize), Acc> = BTreeMap::new();
    // Application sources: (target, entry, members, traffic) → the sources that get exactly
    // that, and the traffic as packets.
    type Sources<'r> = (Vec<&'r Arc<AppSet>>, PacketSet);
    // (A fast hasher: the keys are long, and what is built from the map does not depend on
    // its order.)
    let mut by_effect: HashMap<Prehashed<Effect>, Sources, foldhash::fast::FixedState> =
        HashMap::default();
    // The effects of application sources (their traffic's summary is most of the work) and
    // their hashes are computed on both cores, a slice of reaches at a time (each slice's keys
    // are held only until they are filed), and filed in order, one slice while the next one's
    // are computed.
    let effects_of = |slice: &[allpairs::Reach]| -> Vec<Option<Prehashed<Effect>>> {
        slice
            .par_iter()
            .map(|r| {
                matches!(r.origin, Origin::Apps(_)).then(|| {
                    let mut members = app_members(r.class, &r.members);
                    members.sort_unstable();
                    Prehashed::new((
                        class_app[r.class] as usize,
                        entry_label(m, &r.entry),
                        members,
                        query::traffic_of(&r.traffic),
                    ))
                })
            })
            .collect()
    };
    // (The slice as where it starts in `reaches`: its sets are filed by reference.)
    let mut file = |start: usize, effects: Vec<Option<Prehashed<Effect>>>| {
        for (r, effect) in reaches[start..].iter().zip(effects) {
            let target = class_app[r.class] as usize;
            let source = match &r.origin {
                Origin::InternetV4 => Source::InternetV4,
                Origin::InternetV6 => Source::InternetV6,
                Origin::Onprem => Source::Onprem,
                Origin::Apps(set) => {
                    let key = effect.expect("an effect for every application source");
                    let e = by_effect
                        .entry(key)
                        .or_insert_with(|| (Vec::new(), r.traffic.clone()));
                    e.0.push(set);
                    continue;
                }
            };
            let a = acc.entry((source, target)).or_default();
            a.traffic = a.traffic.union(&r.traffic);
            let e = entry_label(m, &r.entry);
            match a.by_entry.iter_mut().find(|(x, _)| *x == e) {
                Some((_, set)) => *set = set.union(&r.traffic),
                None => a.by_entry.push((e.clone(), r.traffic.clone())),
            }
            if !a.entries.contains(&e) {
                a.entries.push(e);
            }
            a.hosts.extend(app_members(r.class, &r.members));
        }
    };
    const SLICE: usize = 8192;
    let mut pending = None;
    for start in (0..reaches.len()).step_by(SLICE).map(Some).chain([None]) {
        let (next, ()) = rayon::join(
            || start.map(|a| (a, effects_of(&reaches[a..reaches.len().min(a + SLICE)]))),
            || {
                if let Some((a, effects)) = pending.take() {
                    file(a, effects);
                }
            },
        );
        pending = next;
    }
    // Then per (target, sources): an application never counts as its own source, and
    // exposures with the same sources are one (traffic, entries and members joined).
    // The unions of sources are the costly part: computed in parallel, a slice at a time,
    // and kept in order. Equal unions are allocated once: on l, 123,325 unions held 37,109
    // different sets (70 million ranges for 36 million).
    let mut effects = by_effect.into_iter().map(|(k, v)| (k.key, v));
    // Each set's hash is computed in parallel, with the union.
    let mut interned = Interner::default();
    // Keyed by the interned allocation (one per content, so the same key as by content, hashed
    // without reading the set), ordered by content once at the end.
    let mut by_sources: HashMap<(usize, usize), (Arc<AppSet>, Acc), foldhash::fast::FixedState> =
        HashMap::default();
    // A union is a set made (with its hash) or, mostly, one set as it came (one source set
    // without the target in it: already allocated). One set that holds the target is copied
    // without it.
    type Unions = Vec<(Effect, PacketSet, Result<Arc<AppSet>, AppSet>, u64)>;
    fn unions_of(slice: Vec<(Effect, Sources)>) -> Unions {
        slice
            .into_par_iter()
            .map(|(effect, (sets, traffic))| {
                let except = effect.0 as u32;
                if let [one] = sets[..] {
                    if !one.is_empty() && !one.contains(except) {
                        return (effect, traffic, Ok(one.clone()), Interner::hash(one));
                    }
                    // Copied without the target: one pass, where a union sorts or maps.
                    let mut set = (**one).clone();
                    set.remove(except);
                    let hash = Interner::hash(&set);
                    return (effect, traffic, Err(set), hash);
                }
                let set = AppSet::union_all_except(sets.iter().map(|s| &***s), Some(except));
                let hash = Interner::hash(&set);
                (effect, traffic, Err(set), hash)
            })
            .collect()
    }
    // One slice's unions are joined in while the next slice's are computed.
    let mut done: Unions = Vec::new();
    loop {
        let slice: Vec<_> = effects.by_ref().take(4096).collect();
        if slice.is_empty() && done.is_empty() {
            break;
        }
        let (next, ()) = rayon::join(
            || unions_of(slice),
            || {
                for ((target, entry, members, _), traffic, set, hash) in done.drain(..) {
                    let set = match set {
                        Ok(set) => interned.intern_shared(set, hash),
                        Err(set) if set.is_empty() => continue,
                        Err(set) => interned.intern_hashed(set, hash),
                    };
                    let key = (target, Arc::as_ptr(&set) as usize);
                    let (_, a) = by_sources
                        .entry(key)
                        .or_insert_with(|| (set, Acc::default()));
                    a.traffic = a.traffic.union(&traffic);
                    if !a.entries.contains(&entry) {
                        a.entries.push(entry);
                    }
                    a.hosts.extend(members);
                }
            },
        );
        done = next;
    }
    drop(interned);
    // In the order of (target, sources), as an ordered map by content would hold them (the keys
    // are distinct: one allocation per content).
    let mut by_sources: Vec<((usize, Arc<AppSet>), Acc)> = by_sources
        .into_iter()
        .map(|((target, _), (set, a))| ((target, set), a))
        .collect();
    by_sources.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let exposure = |source: Source, target: usize, status: Status, mut a: Acc| Exposure {
        source,
        target: apps[target].id.clone(),
        status,
        traffic: query::traffic_of(&a.traffic),
        packets: a.traffic,
        entry_packets: {
            a.by_entry.sort_by(|x, y| x.0.cmp(&y.0));
            a.by_entry
        },
        entries: sorted(a.entries),
        members_exposed: a.hosts.len(),
        members: a.hosts.into_iter().collect(),
        blocked_by: Vec::new(),
    };
    let mut outside = vec![Source::InternetV4, Source::InternetV6];
    if !walk::onprem_entries(m).is_empty() {
        outside.push(Source::Onprem);
    }
    let internet_v4: Vec<_> = walk::internet_space()
        .into_iter()
        .filter(|iv| crate::engine::packet::is_v4(iv.0))
        .collect();
    let internet_v6: Vec<_> = walk::internet_space()
        .into_iter()
        .filter(|iv| !crate::engine::packet::is_v4(iv.0))
        .collect();
    // Effective exposures from outside, and the (application, source) pairs to check for a
    // latent one, in the report's order.
    let mut slots: Vec<Result<Exposure, (usize, bool)>> = Vec::new();
    for ai in 0..apps.len() {
        for source in &outside {
            if let Some(a) = acc.remove(&(source.clone(), ai)) {
                slots.push(Ok(exposure(source.clone(), ai, Status::Effective, a)));
            } else if *source != Source::Onprem {
                slots.push(Err((ai, *source == Source::InternetV4)));
            }
        }
    }
    // Security-group admission from the internet, per group set (latent exposure), once
    // each, in parallel.
    // (A hash set: hosts are many, their group sets few; the order does not matter.)
    let mut probes: std::collections::HashSet<(&[String], bool), foldhash::fast::FixedState> =
        Default::default();
    for slot in &slots {
        if let Err((ai, v4)) = slot {
            for h in apps[*ai].members.iter().map(|h| &idx.hosts[h]) {
                if h.filtered_by_sgs {
                    probes.insert((h.groups.as_slice(), *v4));
                }
            }
        }
    }
    // (Not what only the estate's own addresses would send: no internet client holds them.)
    let own = query::estate_addresses(m, idx);
    let admits: HashMap<(&[String], bool), PacketSet> = probes
        .into_par_iter()
        .map(|(groups, v4)| {
            let space = if v4 { &internet_v4 } else { &internet_v6 };
            let probe = PacketSet::from_box(PBox::FULL).restrict(Dim::Src, space);
            let ok =
                filters::security_groups(m, idx, groups, SgDirection::Ingress, &probe, &[], None).0;
            ((groups, v4), query::from_internet_clients(&ok, &own))
        })
        .collect();
    // What each load balancer's listeners take: a node serves nothing else, whatever its
    // groups admit (a Gateway Load Balancer: nothing, it is no listener).
    let served: HashMap<&str, PacketSet> = m
        .load_balancers
        .values()
        .map(|lb| {
            let mut set = PacketSet::empty();
            if lb.kind != LbKind::Gateway {
                for l in m.listeners.values().filter(|l| l.lb_arn == lb.arn) {
                    set = set.union(&walk::listener_set(l));
                }
            }
            (lb.arn.as_str(), set)
        })
        .collect();
    // Latent: what the security groups alone would admit from that source.
    let latent = |ai: usize, v4: bool| -> Option<Exposure> {
        let app = &apps[ai];
        let mut admitted = PacketSet::empty();
        let mut exposed: Vec<usize> = Vec::new();
        for (k, h) in app.members.iter().map(|h| &idx.hosts[h]).enumerate() {
            if !h.filtered_by_sgs {
                continue;
            }
            let mut ok = admits[&(h.groups.as_slice(), v4)].clone();
            if h.kind == OwnerKind::LoadBalancer {
                let lb = h.owner_id.as_deref().and_then(|a| m.load_balancers.get(a));
                // A Classic Load Balancer in a VPC takes IPv4 only, and no setting changes it
                // (ELB Classic guide, "IPv6"): no IPv6 exposure is latent in it.
                if lb.is_some_and(|lb| lb.kind == LbKind::Classic) && !v4 {
                    continue;
                }
                if let Some(lb) = lb {
                    ok = ok.intersect(&served[lb.arn.as_str()]);
                }
            }
            if !ok.is_empty() {
                exposed.push(k);
                admitted = admitted.union(&ok);
            }
        }
        if exposed.is_empty() {
            return None;
        }
        // What stops it today, for that traffic and those members.
        let blocked_by = latent_blockers(m, idx, app, &exposed, v4, &admitted);
        Some(Exposure {
            source: if v4 {
                Source::InternetV4
            } else {
                Source::InternetV6
            },
            target: app.id.clone(),
            status: Status::Latent,
            traffic: query::traffic_of(&admitted),
            packets: admitted.ports_only(),
            entries: vec!["direct".into()],
            entry_packets: Vec::new(),
            members_exposed: exposed.len(),
            members: exposed,
            blocked_by,
        })
    };
    let done: Vec<Option<Exposure>> = slots
        .into_par_iter()
        .map(|slot| match slot {
            Ok(e) => Some(e),
            Err((ai, v4)) => latent(ai, v4),
        })
        .collect();
    let mut exposures: Vec<Exposure> = done.into_iter().flatten().collect();
    // Application to application (effective), by target then sources, made on both cores.
    exposures.par_extend(by_sources.into_par_iter().map(|((target, set), a)| {
        exposure(Source::Applications(set), target, Status::Effective, a)
    }));
    exposures.par_sort_by_cached_key(exposure_order);
    let mut assumptions = crate::inventory::report_assumptions(m);
    if !options.app_to_app {
        assumptions.push(
            "application-to-application reach was not computed (--no-app-to-app): the report covers the internet and on-premises only, and findings on rules that admit private ranges are judged without it"
                .into(),
        );
    }
    assumptions.push(
        "application-to-application reach through public addresses (out through an internet or NAT gateway and back in), or through a NAT gateway to another VPC or on-premises (a private NAT gateway, or a public one whose subnet routes there), is not part of the report; `exposure query` follows such paths"
            .into(),
    );
    if options.app_to_app {
        assumptions.push(
            "reach between the members of one application (same kind, VPC and security groups) is not part of the report, nor are connections opened by load balancers, endpoints, NAT and transit gateway interfaces, databases, caches and file systems (a load balancer's forwarding is shown as the exposure it serves); `exposure query` answers any of them"
                .into(),
        );
    }
    if apps.iter().any(|a| a.kind == OwnerKind::TransitGateway) {
        assumptions.push(
            "transit gateway attachments' own network interfaces are not destinations in this report: they carry traffic through the gateway and host nothing, and what AWS does with traffic addressed to them is not modelled (`exposure query` answers `unknown`)"
                .into(),
        );
    }
    if apps.iter().any(|a| a.kind == OwnerKind::GwlbEndpoint) {
        assumptions.push(
            "Gateway Load Balancer endpoints' own network interfaces are not destinations in this report: they hand what routes send them to their Gateway Load Balancer and host nothing, and what AWS does with traffic addressed to them is not modelled (`exposure query` answers `unknown`)"
                .into(),
        );
    }
    // Paths that end in `unknown` (routes to appliances, gateway route tables, VPCs not in
    // the snapshot...): the walks' own reasons, so the rule of what is not followed stays in
    // one place (`walk`).
    if let Some(line) = unknown_paths(&unknowns) {
        assumptions.push(line);
    }
    Report {
        applications: apps,
        exposures,
        assumptions,
    }
}

/// The assumption that names the paths left out because they end in `unknown` (up to five
/// reasons, each with who sends that traffic), or `None` when every path was decided.
fn unknown_paths(unknowns: &allpairs::Unknowns) -> Option<String> {
    const SHOWN: usize = 5;
    if unknowns.is_empty() {
        return None;
    }
    let reasons: Vec<String> = unknowns
        .iter()
        .take(SHOWN)
        .map(|(why, from)| {
            let mut senders = from.iter();
            let first = senders.next().map_or("", String::as_str);
            match from.len() {
                0 | 1 => format!("{why} (from {first})"),
                n => format!("{why} (from {first} and {} more)", n - 1),
            }
        })
        .collect();
    let more = match unknowns.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("; and {n} more reason(s)"),
    };
    Some(format!(
        "traffic on {} kind(s) of path ends in `unknown` (something on the way is not modelled) and is not part of the report: {}{} (`exposure query` shows each such path)",
        unknowns.len(),
        reasons.join("; "),
        more
    ))
}

/// What stops a latent internet exposure today: the reason codes of the single-question walk
/// for the traffic the security groups admit (`admitted`) directly to the members they admit it
/// to (`exposed`, indices into the application's members), every blocker named; `UNDECIDED`
/// when some of it ends `unknown` (something on the way is not modelled: `exposure query`
/// says what).
fn latent_blockers(
    m: &Model,
    idx: &Index,
    app: &Application,
    exposed: &[usize],
    v4: bool,
    admitted: &PacketSet,
) -> Vec<String> {
    let from = if v4 { "internet-ipv4" } else { "internet-ipv6" };
    let lb_arn = (app.kind == OwnerKind::LoadBalancer)
        .then(|| idx.hosts[&app.members[0]].owner_id.clone())
        .flatten();
    let answer = match &lb_arn {
        Some(arn) => query::run_indexed_for(m, idx, &request(from, arn), Some(admitted)),
        None => {
            let hosts: Vec<String> = exposed
                .iter()
                .map(|&k| &app.members[k])
                .filter(|h| !idx.hosts[*h].virtual_node)
                .cloned()
                .collect();
            query::explain_to_hosts(m, idx, &request(from, &app.name), hosts, admitted)
        }
    };
    let mut blocked: Vec<String> = Vec::new();
    if let Ok(a) = &answer {
        for b in &a.blocked_by {
            if !blocked.contains(&b.code.to_string()) {
                blocked.push(b.code.to_string());
            }
        }
        if a.verdict == query::Verdict::Unknown {
            blocked.push("UNDECIDED".into());
        }
    }
    blocked
}

/// Admin and data-store ports, as `exposure` ranks exposures (and the findings flag them).
pub const SENSITIVE_PORTS: &[u16] = &[
    22, 3389, 5432, 3306, 1433, 1521, 6379, 27017, 9200, 11211, 5439, 9042, 5984, 2375, 2379,
];

/// The report's order: effective first, the internet first, the riskiest first, then by target.
fn exposure_order(e: &Exposure) -> (Status, u8, u8, String) {
    (
        e.status,
        severity_rank(&e.source),
        risk_rank(e),
        e.target.clone(),
    )
}

/// Most serious first: all traffic or sensitive ports, then other direct exposure, then
/// exposure through a load balancer.
fn risk_rank(e: &Exposure) -> u8 {
    let sensitive = e.traffic.iter().any(|t| {
        t.protocol == "all"
            || t.ports == "all ports"
            || t.ports.split(", ").any(|p| {
                let (a, b) = p.split_once('-').unwrap_or((p, p));
                match (a.parse::<u16>(), b.parse::<u16>()) {
                    (Ok(a), Ok(b)) => SENSITIVE_PORTS.iter().any(|s| (a..=b).contains(s)),
                    _ => false,
                }
            })
    });
    if sensitive {
        0
    } else if e.entries.iter().all(|x| x == "direct") {
        1
    } else {
        2
    }
}

fn severity_rank(s: &Source) -> u8 {
    match s {
        Source::InternetV4 | Source::InternetV6 => 0,
        Source::Onprem => 1,
        Source::Application(_) | Source::Applications(_) => 2,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
