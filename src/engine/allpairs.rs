//! All-pairs reachability by classes of interfaces.
//!
//! Answering "who reaches whom" one question at a time costs one walk per pair. This module
//! answers every pair at once by factoring a path into the parts that depend on different
//! things:
//!
//! * the **network part** (route tables, NACLs and their reply checks, return routes, peering,
//!   transit gateways, VPN gateways) depends only on the subnets at both ends and on the
//!   addresses: one walk in network mode per source subnet (and one for the internet, one per
//!   VPN gateway) yields, for every subnet it enters, the packets that get there. What the
//!   subnets of one VPC deliver to a subnet is kept as one set whose source addresses say who
//!   sent it (adjacent subnets' ranges coalesced);
//! * the **security-group part** depends on the two interfaces' group sets: a rule naming a
//!   CIDR or prefix list is a packet set; a rule naming a group admits a whole class or none of
//!   it, because every member of a class holds the same groups.
//!
//! Interfaces are grouped into classes (same subnet, same groups, same kind and owner); the
//! caller chooses the classes and numbers the applications they belong to. For a source class
//! S and a destination class D the packets that arrive are
//! `network(S → D) ∩ egress(S towards D) ∩ ingress(D from S)`, and a box of that set reaches
//! the members of D whose addresses its destinations cover, when its sources cover an address
//! of S.
//!
//! Senders are not visited one by one. A sender whose egress rules name none of D's groups and
//! who holds none of the groups D's ingress rules name gets
//! `network ∩ egress-CIDR-rules(S) ∩ ingress-CIDR-rules(D)`: the same set for every sender of
//! one VPC with the same egress CIDR rules (a *bucket*), and the same for every sender of any
//! VPC whose bucket allows the same packets towards D's subnet. The sets of all source VPCs
//! are kept as one, by shape (`Sourced`: a box whose sources are left whole, and the source
//! addresses that send all of it; VPCs whose addresses overlap go to different *layers*), so
//! D is evaluated once per (layer, buckets that agree towards its subnet), and each shape is
//! credited to those buckets' senders whose addresses it names — a set of applications,
//! memoised per list of addresses. Load-balancer classes keep the boxes (their listeners
//! join them to what the nodes forward): they are evaluated per (source VPC, bucket), each
//! box credited to the bucket's senders in that VPC whose addresses it covers. Senders
//! that group references concern (they hold a group D's ingress names, or their egress names
//! a group D holds) are evaluated again with the references, per (groups, VPC, kind of
//! node): their result contains the bucket's, so the union is exact. Every step is a function of the packet alone
//! (no per-host state), so the union over classes equals the union over interfaces: the
//! equality tests check it.
//!
//! Load balancers: a class of load-balancer nodes is reached through its listeners; what a
//! node forwards to its targets is walked once per (node, listener) with the ordinary walker
//! and joined to every source that reaches that listener.
//!
//! Not followed here (the single-question walk does follow them): paths that leave through
//! an internet gateway or a NAT gateway and come back in through a public address.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::appset::AppSet;
use super::index::{reference_applies, tgw_referencing, Host, Index, Way};
use super::packet::{self, same_family, Dim, Interval, PBox, PackedSet, PacketSet, ALL_ADDRS};
use super::query::{traffic_of, Traffic};
use super::walk::{self, Goal, Walker};
use crate::model::*;

/// The engine's memo tables hash small keys of its own making: a fast hasher, fixed seed.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// A source of traffic in the all-pairs evaluation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Any public IPv4 address.
    InternetV4,
    /// Any global IPv6 address.
    InternetV6,
    /// On-premises networks behind the VPN gateways.
    Onprem,
    /// Client interfaces of these applications (the caller's numbering), each sending from
    /// its own addresses: each of them reaches what the result says.
    Apps(Arc<AppSet>),
}

/// What one origin reaches of one class.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Who sends.
    pub origin: Origin,
    /// The class reached (index into the classes given).
    pub class: usize,
    /// The listener the traffic entered by (ARN), for load balancers and their targets.
    pub entry: Option<String>,
    /// The traffic that arrives: protocol and destination ports (other dimensions full).
    pub traffic: PacketSet,
    /// The members of the class reached (indices into the class's hosts, sorted).
    pub members: Vec<usize>,
}

/// Paths the network walks left undecided (`unknown`: something on the way is not modelled),
/// which the results leave out: reason → who sent them (`the internet`, `on-premises`, a source VPC
/// or a load balancer node).
pub type Unknowns = BTreeMap<String, BTreeSet<String>>;

/// Notes the undecided endings of a walk's outcomes (not those blocked anyway).
fn note_unknowns(outcomes: &[walk::Outcome], from: &str, acc: &mut Unknowns) {
    for o in outcomes {
        if let walk::Ending::Unknown(why) = &o.ending {
            if o.blocks.is_empty() && !o.set.is_empty() {
                acc.entry(why.clone()).or_default().insert(from.to_string());
            }
        }
    }
}

/// The security-group rules of a group set, split into the part that is a packet set (CIDR and
/// prefix-list peers) and the part that names groups.
#[derive(Debug, Default)]
struct Rules {
    cidr: PacketSet,
    refs: Vec<(String, String, PBox)>,
}

/// A set of groups (sorted) → its number (`ClassInfo::set_id`).
type RuleSets<'g> = HashMap<&'g [String], usize>;

/// A class as the evaluation needs it.
struct ClassInfo<'a> {
    hosts: Vec<&'a Host>,
    subnet: &'a str,
    vpc: &'a str,
    /// The application the class belongs to (the caller's numbering).
    app: u32,
    /// Sorted group ids.
    groups: Vec<String>,
    /// Identifies the group set (classes with equal sets share it).
    set_id: usize,
    /// Identifies the VPC.
    vpc_ix: usize,
    /// The sender bucket (its egress CIDR rules), for senders.
    bucket: usize,
    filtered: bool,
    virtual_node: bool,
    kind: OwnerKind,
    lb: Option<&'a LoadBalancer>,
    /// A load balancer's listeners: (index into [`Env::listeners`], what each accepts).
    listeners: Arc<Vec<(u32, PacketSet)>>,
    /// Source addresses (merged), for clients.
    src: Vec<Interval>,
    /// (address interval, member) sorted by interval.
    dst: Vec<(Interval, usize)>,
    /// The addresses the internet can send to, as the VPC sees them (private addresses that
    /// have a public IPv4 address, IPv6 addresses), with their member.
    dst_internet: Vec<(Interval, usize)>,
    ingress: Arc<Rules>,
    egress: Arc<Rules>,
    /// The protocols the class answers, when fewer than arrive (an interface endpoint's:
    /// [`walk::endpoint_protocols`]).
    serves: Option<&'static [Interval]>,
}

/// The sending classes, arranged for the evaluation.
#[derive(Default)]
struct Senders {
    /// Whether a class sends.
    is: Vec<bool>,
    /// Bucket id → the egress CIDR rules its senders share.
    buckets: Vec<PacketSet>,
    /// (VPC, bucket) → senders.
    groups: HashMap<(usize, usize), Vec<usize>>,
    /// VPC → the buckets present there.
    in_vpc: HashMap<usize, Vec<usize>>,
    /// Group → senders holding it.
    holders: HashMap<String, Vec<usize>>,
    /// Group → senders (filtered by groups) whose egress rules name it.
    naming: HashMap<String, Vec<usize>>,
}

/// What the evaluation reads, shared by all threads.
struct Env<'a> {
    m: &'a Model,
    infos: &'a [ClassInfo<'a>],
    senders: &'a Senders,
    /// The listeners, in the model's order: entries are kept as indices into it.
    listeners: Vec<&'a Listener>,
    /// (node, listener) → what the node forwards to its targets.
    forwards: &'a HashMap<(&'a str, u32), Forward>,
    /// The estate's own internet addresses ([`super::query::estate_addresses`]): no internet
    /// client sends from them.
    own: Vec<Interval>,
}

/// Who a box of arriving packets comes from.
#[derive(Clone)]
enum Resolver {
    /// An origin outside the estate, sending from these addresses.
    Outside(Origin, Arc<Vec<Interval>>),
    /// The senders of a (VPC, bucket).
    Bucket(usize, usize),
    /// Sending classes that get the same packets (same groups, VPC and kind of node).
    Classes(Arc<[usize]>),
}

/// Per-thread memos.
#[derive(Default)]
struct Ctx {
    /// (VPC, bucket, source range) → the applications of the bucket's senders in the range.
    sources: HashMap<(usize, usize, Interval), Option<Arc<AppSet>>>,
    /// The joined sets of sources made so far ([`DestAcc::finish`]).
    interned: Interned,
    singles: HashMap<u32, Arc<AppSet>>,
    refs: HashMap<(String, String, bool, Way), bool>,
    /// (owner's group set, peer's group set, peer's VPC, peer is a node without ENI, inbound,
    /// the way between the VPCs) → index into `allowed_sets`; index 0 is "no security
    /// groups": everything.
    allowed_ids: HashMap<(usize, usize, usize, bool, bool, Way), usize>,
    allowed_sets: Vec<PacketSet>,
    /// (group set, inbound) → index into `allowed_sets` of the rules' CIDR part alone.
    cidr_ids: HashMap<(usize, bool), usize>,
    /// (layer, buckets, hash of the addresses) → (addresses, the applications of the layer's
    /// senders of those buckets there).
    sourced: HashMap<(usize, usize, u64), Vec<Resolved>>,
    /// Lists of buckets (sorted) → their number in `bucket_lists`.
    bucket_ids: HashMap<Vec<usize>, usize>,
    bucket_lists: Vec<Vec<usize>>,
    /// (layer, buckets) → the senders' addresses with their application ([`Spans`]).
    spans: HashMap<(usize, usize), Arc<Spans>>,
}

/// Senders' addresses with their application, sorted by start, and the running maximum of
/// their ends.
type Spans = (Vec<(Interval, u32)>, Vec<u128>);

/// The spans of senders' addresses given in any order; mostly runs sorted already (one per
/// bucket), which the stable sort merges instead of sorting again.
fn spans_of(mut spans: Vec<(Interval, u32)>) -> Spans {
    spans.sort();
    let mut max = 0;
    let reach = spans
        .iter()
        .map(|(iv, _)| {
            max = max.max(iv.1);
            max
        })
        .collect();
    (spans, reach)
}

/// A list of source addresses and the applications that send from them (none: no sender).
type Resolved = (Arc<[Interval]>, Option<Arc<AppSet>>);

/// What one source VPC's walks bring: (VPC, subnet entered → (packets, the parts of them
/// that came a way matching other group references, [`Delivered::by_way`]), undecided paths,
/// the addresses its packets come from).
type Walked = (
    usize,
    BTreeMap<String, (PackedSet, Vec<(Way, PackedSet)>)>,
    Unknowns,
    Vec<Interval>,
);

/// A layer's packets by shape, with the buckets as they treat packets towards the subnet
/// (the set they allow there, their number in [`Ctx::bucket_lists`]).
type LayerPart = (usize, Sourced, Vec<(PacketSet, usize)>);

impl<'a> Env<'a> {
    fn resolve(&self, r: &Resolver, iv: Interval, ctx: &mut Ctx) -> Option<Origin> {
        match r {
            Resolver::Outside(o, space) => overlaps_any(iv, space).then(|| o.clone()),
            Resolver::Classes(cs) => {
                let mut apps: Vec<u32> = cs
                    .iter()
                    .map(|&c| &self.infos[c])
                    .filter(|c| overlaps_any(iv, &c.src))
                    .map(|c| c.app)
                    .collect();
                apps.sort_unstable();
                apps.dedup();
                let set = match apps[..] {
                    [] => return None,
                    // Mostly one application (its classes in the subnets of one VPC).
                    [app] => ctx
                        .singles
                        .entry(app)
                        .or_insert_with(|| Arc::new(AppSet::single(app)))
                        .clone(),
                    _ => Arc::new(AppSet::from_indices(apps)),
                };
                Some(Origin::Apps(set))
            }
            Resolver::Bucket(v, e) => ctx
                .sources
                .entry((*v, *e, iv))
                .or_insert_with(|| {
                    let set = AppSet::from_indices(
                        self.senders.groups[&(*v, *e)]
                            .iter()
                            .map(|&c| &self.infos[c])
                            .filter(|c| overlaps_any(iv, &c.src))
                            .map(|c| c.app),
                    );
                    (!set.is_empty()).then(|| Arc::new(set))
                })
                .clone()
                .map(Origin::Apps),
        }
    }

    /// The boxes of `x` that reach a member (their destinations cover a member's address),
    /// grouped by who sent them: per origin, the traffic (protocols and ports), the members
    /// reached and, when `keep_raw`, the boxes themselves (else an empty set).
    fn hits(
        &self,
        x: &PacketSet,
        r: &Resolver,
        addrs: &[(Interval, usize)],
        ctx: &mut Ctx,
        keep_raw: bool,
    ) -> Vec<(Origin, PacketSet, Vec<usize>, PacketSet)> {
        let mut groups = HitGroups::default();
        for b in x.boxes() {
            let mut hit = members_hit(addrs, b.get(Dim::Dst)).peekable();
            if hit.peek().is_none() {
                continue;
            }
            let Some(origin) = self.resolve(r, b.get(Dim::Src), ctx) else {
                continue;
            };
            groups.add(origin, b, hit, keep_raw);
        }
        groups.finish()
    }

    /// Records what `x` (packets arriving at class `ci`) reaches.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &self,
        r: &Resolver,
        ci: usize,
        addrs: &[(Interval, usize)],
        x: &PacketSet,
        ctx: &mut Ctx,
        acc: &mut DestAcc,
        lb: &mut LbOut<'a>,
    ) {
        if x.is_empty() {
            return;
        }
        let dc = &self.infos[ci];
        if dc.lb.is_none() {
            for (origin, traffic, members, _) in self.hits(x, r, addrs, ctx, false) {
                acc.add(origin, None, traffic, members);
            }
            return;
        }
        // §5.2: only listener ports reach the load balancer's software.
        for (l, accepts) in dc.listeners.iter() {
            let part = x.intersect(accepts);
            if part.is_empty() {
                continue;
            }
            for (origin, traffic, members, raw) in self.hits(&part, r, addrs, ctx, true) {
                for &k in &members {
                    let node: &'a Host = dc.hosts[k];
                    let mine = raw.restrict(Dim::Dst, &node.private);
                    let key = (node.id.as_str(), *l);
                    if mine.is_empty() {
                        continue;
                    }
                    let Some(f) = self.forwards.get(&key) else {
                        continue;
                    };
                    // A preserving load balancer hands the client's addresses and ports to
                    // the target; what it was sent to no longer matters.
                    let client = mine
                        .rewrite(Dim::Dst, ALL_ADDRS)
                        .rewrite(Dim::DstPort, (0, 65535));
                    lb.add(r, &origin, key, f, client);
                }
                acc.add(origin, Some(*l), traffic, members);
            }
        }
    }
}

fn same_origin(a: &Origin, b: &Origin) -> bool {
    match (a, b) {
        (Origin::Apps(x), Origin::Apps(y)) => Arc::ptr_eq(x, y) || x == y,
        _ => a == b,
    }
}

/// Boxes grouped by origin: (origin, traffic boxes, members, the boxes as they arrived).
type HitGroup = (Origin, Vec<PBox>, Vec<usize>, Vec<PBox>);

/// Boxes that reach members, grouped by who sent them.
#[derive(Default)]
struct HitGroups(Vec<HitGroup>);

impl HitGroups {
    /// Adds box `b` from `origin`, which reaches `members`; the box itself is kept if
    /// `keep_raw`.
    fn add(
        &mut self,
        origin: Origin,
        b: &PBox,
        members: impl Iterator<Item = usize>,
        keep_raw: bool,
    ) {
        let i = match self.0.iter().position(|g| same_origin(&g.0, &origin)) {
            Some(i) => i,
            None => {
                self.0.push((origin, Vec::new(), Vec::new(), Vec::new()));
                self.0.len() - 1
            }
        };
        let g = &mut self.0[i];
        g.1.push(b.ports_only());
        g.2.extend(members);
        if keep_raw {
            g.3.push(*b);
        }
    }

    /// Per origin: the traffic (protocols and ports), the members reached (sorted) and the
    /// boxes kept (else an empty set).
    fn finish(self) -> Vec<(Origin, PacketSet, Vec<usize>, PacketSet)> {
        self.0
            .into_iter()
            .map(|(o, t, mut mm, raw)| {
                mm.sort_unstable();
                mm.dedup();
                (o, PacketSet::from_boxes(t), mm, PacketSet::from_boxes(raw))
            })
            .collect()
    }
}

/// The members whose addresses (`addrs`, sorted by start) meet the destinations `d`.
fn members_hit(addrs: &[(Interval, usize)], d: Interval) -> impl Iterator<Item = usize> + '_ {
    // Addresses starting after d's end cannot overlap.
    let end = addrs.partition_point(|(iv, _)| iv.0 <= d.1);
    addrs[..end]
        .iter()
        .filter(move |(iv, _)| iv.1 >= d.0)
        .map(|(_, k)| *k)
}

/// The listener traffic entered by, as an index into [`Env::listeners`].
type Entry = Option<u32>;

/// What an application source gets: (entry, traffic (a summary's id), members).
type Effect = (Entry, u32, Vec<usize>);

/// What reaches one destination class, merged per (origin, entry).
#[derive(Default)]
struct DestAcc {
    /// Keyed by the origin's identity (a set by its allocation: hashing its contents would
    /// cost its length; equal sets under two keys are joined by `finish`).
    parts: HashMap<(OriginKey, Entry), Part>,
}

/// An origin with the traffic and members it reaches.
type Part = (Origin, PacketSet, Vec<usize>);

#[derive(PartialEq, Eq, Hash)]
enum OriginKey {
    Outside(u8),
    Apps(usize),
}

impl DestAcc {
    /// An accumulator with room for `n` parts.
    fn with_capacity(n: usize) -> DestAcc {
        DestAcc {
            parts: HashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    fn add(
        &mut self,
        origin: Origin,
        entry: Entry,
        traffic: PacketSet,
        members: impl IntoIterator<Item = usize>,
    ) {
        let key = match &origin {
            Origin::InternetV4 => OriginKey::Outside(0),
            Origin::InternetV6 => OriginKey::Outside(1),
            Origin::Onprem => OriginKey::Outside(2),
            Origin::Apps(set) => OriginKey::Apps(Arc::as_ptr(set) as usize),
        };
        let e = self
            .parts
            .entry((key, entry))
            .or_insert_with(|| (origin, PacketSet::empty(), Vec::new()));
        join_traffic(&mut e.1, traffic);
        add_members(&mut e.2, members);
    }

    /// Adds everything another accumulator holds.
    fn absorb(&mut self, other: DestAcc) {
        for ((_, entry), (origin, traffic, members)) in other.parts {
            self.add(origin, entry, traffic, members);
        }
    }

    /// The results for class `ci`: sets of applications that get the same traffic through
    /// the same entry to the same members are joined. `serves` is what the class answers
    /// when that is less than what arrives (an endpoint's protocols). `listeners` names the
    /// entries.
    /// `interned` holds the sets of applications made so far: an equal set is reused (the
    /// classes of an estate see the same sets of sources again and again; on l, 81,823 sets
    /// had 14,793 contents).
    fn finish(
        mut self,
        ci: usize,
        serves: Option<&[Interval]>,
        listeners: &[&Listener],
        interned: &mut Interned,
    ) -> Vec<Reach> {
        if let Some(serves) = serves {
            self.parts.retain(|_, (_, traffic, _)| {
                *traffic = traffic.restrict(Dim::Proto, serves);
                !traffic.is_empty()
            });
        }
        let entry_arn = |e: Entry| e.map(|i| listeners[i as usize].arn.clone());
        // Hash maps, not ordered ones: their keys hold long sets, and the order is restored
        // by the sort at the end (what is joined does not depend on the order it is met in).
        let mut joined: HashMap<Effect, Vec<Arc<AppSet>>> = HashMap::default();
        let mut out = Vec::new();
        // Equal sets under different keys are one origin (joined first, so that the result
        // does not depend on which allocations were shared).
        let mut by_origin: HashMap<(Origin, Entry), (PacketSet, Vec<usize>)> =
            HashMap::with_capacity_and_hasher(self.parts.len(), Default::default());
        for ((_, entry), (origin, traffic, members)) in self.parts {
            match by_origin.entry((origin, entry)) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((traffic, members));
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    let e = o.get_mut();
                    join_traffic(&mut e.0, traffic);
                    add_members(&mut e.1, members);
                }
            }
        }
        // Many origins get the same traffic: summarise each distinct set once. Sets with equal
        // summaries are one traffic (numbered in `summary_ids`; `summary_set` keeps one of
        // them per number).
        let mut summary_of: HashMap<PacketSet, u32> = HashMap::default();
        let mut summary_ids: HashMap<Vec<Traffic>, u32> = HashMap::default();
        let mut summary_set: Vec<PacketSet> = Vec::new();
        for ((origin, entry), (traffic, members)) in by_origin {
            match origin {
                Origin::Apps(set) => {
                    let id = match summary_of.get(&traffic) {
                        Some(&id) => id,
                        None => {
                            let next = summary_ids.len() as u32;
                            let id = *summary_ids.entry(traffic_of(&traffic)).or_insert(next);
                            if id == next {
                                summary_set.push(traffic.clone());
                            }
                            summary_of.insert(traffic, id);
                            id
                        }
                    };
                    joined.entry((entry, id, members)).or_default().push(set);
                }
                origin => out.push(Reach {
                    origin,
                    class: ci,
                    entry: entry_arn(entry),
                    traffic,
                    members,
                }),
            }
        }
        for ((entry, summary, members), sets) in joined {
            // One of the sets the summary stands for (they are equal).
            let traffic = summary_set[summary as usize].clone();
            let Some(set) = union_interned(interned, sets) else {
                continue;
            };
            out.push(Reach {
                origin: Origin::Apps(set),
                class: ci,
                entry: entry_arn(entry),
                traffic,
                members,
            });
        }
        out.sort_by(|a, b| (&a.origin, &a.entry).cmp(&(&b.origin, &b.entry)));
        out
    }
}

/// Sets of applications by content, each allocated once (per thread), and the unions made
/// so far by the allocations they joined.
#[derive(Default)]
struct Interned {
    sets: super::appset::Interner,
    /// Allocations joined → their union. The classes of one subnet mostly meet the same
    /// senders, so most unions are made again from the very same allocations (on l, about
    /// two in three): those are looked up by address instead of joined again.
    unions: HashMap<Joined, Arc<AppSet>>,
}

/// Allocations of sets, sorted and deduplicated by address, compared and hashed by address.
/// The key holds them, so no address it names can be reused by another set while it is kept.
struct Joined(Vec<Arc<AppSet>>);

impl Joined {
    fn addresses(&self) -> impl Iterator<Item = *const AppSet> + '_ {
        self.0.iter().map(Arc::as_ptr)
    }
}

impl PartialEq for Joined {
    fn eq(&self, other: &Joined) -> bool {
        self.addresses().eq(other.addresses())
    }
}

impl Eq for Joined {}

impl std::hash::Hash for Joined {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for a in self.addresses() {
            (a as usize).hash(state);
        }
    }
}

/// The union of `sets` (none when empty): the one set itself, or an allocation in `interned`.
fn union_interned(interned: &mut Interned, sets: Vec<Arc<AppSet>>) -> Option<Arc<AppSet>> {
    match <[_; 1]>::try_from(sets) {
        Ok([one]) => Some(one),
        Err(sets) if sets.is_empty() => None,
        Err(mut sets) => {
            sets.sort_unstable_by_key(|s| Arc::as_ptr(s) as usize);
            sets.dedup_by(|a, b| Arc::ptr_eq(a, b));
            if let [one] = &sets[..] {
                return Some(one.clone());
            }
            let key = Joined(sets);
            if let Some(set) = interned.unions.get(&key) {
                return Some(set.clone());
            }
            let set = interned
                .sets
                .intern(AppSet::union_all(key.0.iter().map(|s| &**s)));
            interned.unions.insert(key, set.clone());
            Some(set)
        }
    }
}

/// Adds `traffic` to `acc`. Most additions bring what `acc` already holds: they cost a
/// comparison. The first one is compacted in place, and a union copies into a new
/// allocation: either way the accumulators keep sets of the right size (keeping `traffic`'s
/// spare capacity cost a quarter more memory on m).
fn join_traffic(acc: &mut PacketSet, traffic: PacketSet) {
    if acc.is_empty() {
        *acc = traffic.into_compact();
    } else if *acc != traffic {
        *acc = acc.union(&traffic);
    }
}

/// Adds members to a sorted list of members without repeats (most additions repeat members
/// the list already holds: they cost a scan, not an allocation).
fn add_members(acc: &mut Vec<usize>, members: impl IntoIterator<Item = usize>) {
    let mut new = Vec::new();
    for k in members {
        if acc.binary_search(&k).is_err() {
            new.push(k);
        }
    }
    if new.is_empty() {
        return;
    }
    acc.extend(new);
    acc.sort_unstable();
    acc.dedup();
}

/// What one leg brings, per (target class, origin): joined first, so that a class's
/// accumulator sees one addition per origin, not one per target.
#[derive(Default)]
struct GotBy(Vec<(usize, Origin, PacketSet, Vec<usize>)>);

impl GotBy {
    fn add(&mut self, ci: usize, origin: Origin, traffic: PacketSet, k: usize) {
        match self
            .0
            .iter_mut()
            .find(|(c, o, _, _)| *c == ci && same_origin(o, &origin))
        {
            Some((_, _, t, ks)) => {
                join_traffic(t, traffic);
                ks.push(k);
            }
            None => self.0.push((ci, origin, traffic, vec![k])),
        }
    }

    fn finish(self, listener: u32, acc: &mut BTreeMap<usize, DestAcc>) {
        for (ci, origin, traffic, members) in self.0 {
            acc.entry(ci)
                .or_default()
                .add(origin, Some(listener), traffic, members);
        }
    }
}

/// What reached a load-balancer node's listener, to be joined to what the node forwards
/// with the client's own address (kept only where the node forwards some that way).
struct LbReach<'a> {
    resolver: Resolver,
    /// The node's host id.
    node: &'a str,
    /// Index into [`Env::listeners`].
    listener: u32,
    /// The packets as they arrived, destinations widened: protocols, sources and source
    /// ports.
    client: PacketSet,
}

/// The parts a node forwards from its own address, per (node, listener, what the packets
/// that reached it decide of them: [`Forward::protocols`]): the applications that sent those
/// packets, and the outside origins.
type Translations<'a> = BTreeMap<Translation<'a>, TranslationOrigins>;

/// (node, listener, the protocols of the packets from each client range it serves).
type Translation<'a> = (&'a str, u32, Vec<Option<Vec<Interval>>>);

/// The applications that sent packets translated alike, and the outside origins.
type TranslationOrigins = (Vec<Arc<AppSet>>, Vec<Origin>);

/// Adds an origin: an application set to the list, an outside origin once.
fn add_origin(e: &mut TranslationOrigins, origin: Origin) {
    match origin {
        Origin::Apps(set) => e.0.push(set),
        o if !e.1.contains(&o) => e.1.push(o),
        _ => {}
    }
}

/// What reached load-balancer listeners, as the join needs it.
#[derive(Default)]
struct LbOut<'a> {
    /// Per leg, for the part forwarded with the client's own address.
    legs: Vec<LbReach<'a>>,
    /// For the part forwarded from the node's address, per what decides it.
    translations: Translations<'a>,
    /// The (node, listener) pairs reached.
    reached: BTreeSet<(&'a str, u32)>,
}

impl<'a> LbOut<'a> {
    /// Adds what `origin` brought (`client`) to `node`'s listener `l`, forwarded as `f` says.
    fn add(
        &mut self,
        r: &Resolver,
        origin: &Origin,
        key: (&'a str, u32),
        f: &Forward,
        client: PacketSet,
    ) {
        self.reached.insert(key);
        let protocols = f.protocols(&client);
        if protocols.iter().any(Option::is_some) {
            let e = self
                .translations
                .entry((key.0, key.1, protocols))
                .or_default();
            add_origin(e, origin.clone());
        }
        if f.preserves {
            self.legs.push(LbReach {
                resolver: r.clone(),
                node: key.0,
                listener: key.1,
                client,
            });
        }
    }

    /// Adds everything another holds, after what this one holds.
    fn absorb(&mut self, other: LbOut<'a>) {
        self.legs.extend(other.legs);
        for (key, (apps, outside)) in other.translations {
            let e = self.translations.entry(key).or_default();
            for origin in apps.into_iter().map(Origin::Apps).chain(outside) {
                add_origin(e, origin);
            }
        }
        self.reached.extend(other.reached);
    }
}

/// Computes what every origin reaches of every class.
///
/// `classes` lists host ids (keys of [`Index::hosts`]) per class; every class must be
/// homogeneous: one subnet, one group set, one kind and owner. `class_app[i]` numbers the
/// application class `i` belongs to (what [`Origin::Apps`] sets hold); `clients[i]` says
/// whether class `i` opens connections (is an origin). Results are in a deterministic order.
pub fn compute(
    m: &Model,
    idx: &Index,
    classes: &[Vec<String>],
    class_app: &[u32],
    clients: &[bool],
) -> (Vec<Reach>, Unknowns) {
    // The rules of each set of groups (numbered in order of first use), once each, in
    // parallel.
    let mut set_ids: RuleSets = HashMap::default();
    let mut group_sets: Vec<&[String]> = Vec::new();
    let class_groups: Vec<Vec<String>> = classes.par_iter().map(|c| class_groups(idx, c)).collect();
    for g in &class_groups {
        set_ids.entry(g.as_slice()).or_insert_with(|| {
            group_sets.push(g);
            group_sets.len() - 1
        });
    }
    let rules: Vec<(Arc<Rules>, Arc<Rules>)> = group_sets
        .par_iter()
        .map(|g| {
            (
                Arc::new(rules_of(m, g, true)),
                Arc::new(rules_of(m, g, false)),
            )
        })
        .collect();
    let mut infos: Vec<ClassInfo> = classes
        .par_iter()
        .zip(class_app)
        .zip(class_groups.par_iter())
        .map(|((hosts, &app), groups)| {
            let set_id = set_ids[groups.as_slice()];
            let (ingress, egress) = &rules[set_id];
            class_info(m, idx, hosts, app, groups, (set_id, ingress, egress))
        })
        .collect();
    let mut vpcs: HashMap<&str, usize> = HashMap::default();
    for c in infos.iter_mut() {
        let next = vpcs.len();
        c.vpc_ix = *vpcs.entry(c.vpc).or_insert(next);
    }
    let mut by_subnet: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in infos.iter().enumerate() {
        by_subnet.entry(c.subnet).or_default().push(i);
    }
    // Listeners by index (entries are kept as indices), and what each load balancer's accept.
    let listeners: Vec<&Listener> = m.listeners.values().collect();
    let mut lb_listeners: HashMap<&str, Arc<Vec<(u32, PacketSet)>>> = HashMap::default();
    // A load balancer still being set up may take no traffic yet: its listeners take nothing
    // here and the report says why (a query answers `unknown` for what would get through).
    let mut unsettled = Unknowns::new();
    for c in infos.iter_mut() {
        // An endpoint that carries nothing takes nothing; one not yet settled takes nothing
        // here and the report says why (a query answers `unknown`). A class is one endpoint's
        // interfaces in one subnet (`analysis::application_key`).
        if let Some(a) = c
            .hosts
            .first()
            .and_then(|h| walk::endpoint_availability(m, h))
        {
            c.serves = Some(&[]);
            if let walk::Availability::Unsettled(why) = a {
                let clients = format!("the clients of {}", c.hosts[0].name);
                unsettled.entry(why).or_default().insert(clients);
            }
        }
        if let Some(lb) = c.lb {
            if let Some(state) = &lb.unsettled {
                unsettled
                    .entry(walk::lb_unsettled(lb, state))
                    .or_default()
                    .insert(format!("the clients of {}", lb.name));
                continue;
            }
            // A Gateway Load Balancer serves no listener at its own addresses (a query naming
            // it answers `unknown`, [`walk::gwlb_unknown`]).
            if lb.kind == LbKind::Gateway {
                unsettled
                    .entry(walk::gwlb_unknown(lb))
                    .or_default()
                    .insert(format!("the clients of {}", lb.name));
                continue;
            }
            c.listeners = lb_listeners
                .entry(lb.arn.as_str())
                .or_insert_with(|| {
                    Arc::new(
                        listeners
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| l.lb_arn == lb.arn)
                            .map(|(i, l)| (i as u32, walk::listener_set(l)))
                            .collect(),
                    )
                })
                .clone();
        }
    }
    let senders = arrange_senders(&mut infos, clients);
    // Load balancers forward what their listeners accept: one walk per (node, listener), in
    // parallel, before anything reaches them (what reaches a listener is joined to it as
    // it is found).
    let mut host_class: HashMap<&str, (usize, usize)> = HashMap::default();
    for (ci, c) in infos.iter().enumerate() {
        for (k, h) in c.hosts.iter().enumerate() {
            host_class.insert(h.id.as_str(), (ci, k));
        }
    }
    let all_hosts: Arc<BTreeSet<String>> =
        Arc::new(host_class.keys().map(|h| h.to_string()).collect());
    let keys: BTreeSet<(&str, u32)> = infos
        .iter()
        .filter(|c| c.lb.is_some())
        .flat_map(|c| {
            c.hosts
                .iter()
                .flat_map(|h| c.listeners.iter().map(|(l, _)| (h.id.as_str(), *l)))
        })
        .collect();
    // (One walk per task, here and for the network part: rayon otherwise splits a list into
    // a few runs ahead of time, and the run left last keeps one core working alone.)
    let keys: Vec<(&str, u32)> = keys.into_iter().collect();
    let walked: Vec<(Forward, Unknowns)> = keys
        .par_iter()
        .with_max_len(1)
        .map(|&(node, l)| forward(m, idx, node, &listeners[l as usize].arn, &all_hosts))
        .collect();
    let mut forwards: HashMap<(&str, u32), Forward> = HashMap::default();
    // What the walks left undecided, reported for the (node, listener) pairs reached.
    let mut forward_unknowns: HashMap<(&str, u32), Unknowns> = HashMap::default();
    for (key, (f, u)) in keys.into_iter().zip(walked) {
        forwards.insert(key, f);
        forward_unknowns.insert(key, u);
    }
    let env = Env {
        m,
        infos: &infos,
        senders: &senders,
        listeners,
        forwards: &forwards,
        own: super::query::estate_addresses(m, idx),
    };
    let mut out: Vec<Reach> = Vec::new();
    let mut lb_out = LbOut::default();
    let mut ctx = Ctx::new();
    let mut unknowns = unsettled;

    // Origins outside the estate.
    let mut outside: Vec<(Origin, Arc<Vec<Interval>>, Vec<walk::Delivery>)> = Vec::new();
    for (origin, v4) in [(Origin::InternetV4, true), (Origin::InternetV6, false)] {
        let space: Vec<Interval> = walk::internet_space()
            .into_iter()
            .filter(|iv| packet::is_v4(iv.0) == v4)
            .collect();
        let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &space));
        let mut w = network_walker(m, idx);
        w.network_from_internet(set);
        note_unknowns(&w.outcomes, "the internet", &mut unknowns);
        outside.push((origin, Arc::new(space), w.deliveries));
    }
    let onprem = walk::onprem_entries(m);
    if !onprem.is_empty() {
        let mut w = network_walker(m, idx);
        let mut all_space = Vec::new();
        for e in &onprem {
            let space = walk::onprem_entry_space(m, e);
            all_space.extend(space.iter().copied());
            let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &space));
            w.from_onprem(e, set, None, None);
        }
        note_unknowns(&w.outcomes, "on-premises", &mut unknowns);
        outside.push((
            Origin::Onprem,
            Arc::new(packet::merge(all_space)),
            w.deliveries,
        ));
    }
    // The estate's own internet addresses: no internet client holds them (what only they
    // would get through is not the internet's, [`query::from_internet_clients`]).
    let own = &env.own;
    for (origin, space, deliveries) in &outside {
        let resolver = Resolver::Outside(origin.clone(), space.clone());
        let internet = matches!(origin, Origin::InternetV4 | Origin::InternetV6);
        for d in deliveries {
            for &ci in by_subnet.get(d.subnet.as_str()).into_iter().flatten() {
                let dc = &infos[ci];
                if !dc.kind.accepts_connections() {
                    continue;
                }
                if internet && dc.lb.is_some_and(|lb| !lb.internet_facing) {
                    continue;
                }
                let addrs = if internet { &dc.dst_internet } else { &dc.dst };
                if addrs.is_empty() {
                    continue;
                }
                let x = if dc.filtered {
                    d.set.intersect(&dc.ingress.cidr)
                } else {
                    d.set.clone()
                };
                let x = if internet {
                    super::query::from_internet_clients(&x, own)
                } else {
                    x
                };
                if x.is_empty() {
                    continue;
                }
                let mut acc = DestAcc::default();
                env.deliver(&resolver, ci, addrs, &x, &mut ctx, &mut acc, &mut lb_out);
                out.extend(acc.finish(ci, dc.serves, &env.listeners, &mut ctx.interned));
            }
        }
    }

    // The network part: one walk per subnet with senders (in parallel), joined per
    // (subnet entered, source VPC).
    // Subnets with senders, by VPC; VPCs in parallel, each VPC's subnets in order (so that
    // the joined sets, and the report, do not depend on scheduling).
    let mut sending: BTreeMap<usize, Vec<(&str, Vec<usize>)>> = BTreeMap::new();
    for (s, cs) in &by_subnet {
        let snd: Vec<usize> = cs.iter().copied().filter(|&i| senders.is[i]).collect();
        if let Some(&first) = snd.first() {
            sending
                .entry(infos[first].vpc_ix)
                .or_default()
                .push((*s, snd));
        }
    }
    // (source VPC, [(subnet, its senders)])
    type Sending<'s> = (usize, Vec<(&'s str, Vec<usize>)>);
    let sending: Vec<Sending> = sending.into_iter().collect();
    let walked: Vec<Walked> = sending
        .par_iter()
        .with_max_len(1)
        .map(|(v, subnets)| {
            let mut unknowns = Unknowns::new();
            let vpc = infos[subnets[0].1[0]].vpc;
            // Subnet entered → (boxes, their source addresses), and the same for VPCs
            // reached: subnets send from their own addresses, so their sets are joined by
            // concatenation, not by union.
            let mut joined: BTreeMap<String, (Vec<PBox>, Vec<Interval>)> = BTreeMap::new();
            let mut arrived: BTreeMap<walk::ArrivalKey, (Vec<PBox>, Vec<Interval>)> =
                BTreeMap::new();
            let mut at_tgw: BTreeMap<walk::TgwKey, (Vec<PBox>, Vec<Interval>)> = BTreeMap::new();
            for (subnet, snd) in subnets {
                // The whole subnet sends: a few wide boxes instead of one per address. Every
                // step of the walk is a function of the packet, so crediting a box to the
                // senders whose addresses it covers gives what each would get alone.
                let src = m
                    .subnets
                    .get(*subnet)
                    .map(super::index::subnet_intervals)
                    .unwrap_or_default();
                let src = packet::merge(
                    src.into_iter()
                        .chain(snd.iter().flat_map(|&i| infos[i].src.iter().copied()))
                        .collect(),
                );
                let set = same_family(PacketSet::from_box(PBox::FULL).restrict(Dim::Src, &src));
                let mut w = staged_walker(m, idx);
                w.network_from_subnet(subnet, set);
                note_unknowns(&w.outcomes, vpc, &mut unknowns);
                for d in w.deliveries {
                    join(joined.entry(d.subnet).or_default(), &d.set);
                }
                for a in w.arrivals {
                    join(arrived.entry(a.key).or_default(), &a.set);
                }
                for a in w.tgw_arrivals {
                    join(at_tgw.entry(a.key).or_default(), &a.set);
                }
            }
            // Every transit gateway entered is followed once for all the subnets that got there.
            for (key, (boxes, _)) in at_tgw {
                let mut w = staged_walker(m, idx);
                w.network_tgw(&key, PacketSet::from_boxes(boxes).coalesce(Dim::Src));
                note_unknowns(&w.outcomes, vpc, &mut unknowns);
                for a in w.arrivals {
                    join(arrived.entry(a.key).or_default(), &a.set);
                }
            }
            // Every VPC reached is entered once for all the subnets that reached it that way.
            // What came over a peering is also kept apart, and what came through transit
            // gateways that carry no reference where another gateway's reference would
            // apply: they match other group references ([`Way`]).
            let mut apart: BTreeMap<(String, Way), (Vec<PBox>, Vec<Interval>)> = BTreeMap::new();
            let mut w = network_walker(m, idx);
            for (key, (boxes, _)) in arrived {
                w.network_enter(&key, PacketSet::from_boxes(boxes).coalesce(Dim::Src));
                let way = match key.way(m) {
                    Way::Bare if !tgw_referencing(m, vpc, key.vpc()) => Way::Other,
                    way => way,
                };
                for d in w.deliveries.drain(..) {
                    if way != Way::Other {
                        join(apart.entry((d.subnet.clone(), way)).or_default(), &d.set);
                    }
                    join(joined.entry(d.subnet).or_default(), &d.set);
                }
            }
            note_unknowns(&w.outcomes, vpc, &mut unknowns);
            // The addresses this VPC's packets come from (for the layers of sources).
            let mut sources: Vec<Interval> = Vec::new();
            let mut apart = apart.into_iter().peekable();
            let joined: BTreeMap<String, (PackedSet, Vec<(Way, PackedSet)>)> = joined
                .into_iter()
                .map(|(d, (boxes, _))| {
                    let set = PacketSet::from_boxes(boxes).coalesce(Dim::Src);
                    sources.extend(set.project(Dim::Src));
                    let mut ways = Vec::new();
                    while let Some(((_, way), (boxes, _))) =
                        apart.next_if(|((subnet, _), _)| *subnet == d)
                    {
                        let part = PacketSet::from_boxes(boxes).coalesce(Dim::Src);
                        ways.push((way, part.pack()));
                    }
                    (d, (set.pack(), ways))
                })
                .collect();
            (*v, joined, unknowns, packet::merge(sources))
        })
        .collect();
    // Subnet entered → (source VPC → its set, the parts kept apart by way, by source VPC).
    type PerVpc = (BTreeMap<usize, PackedSet>, Vec<(usize, Way, PackedSet)>);
    let mut network: BTreeMap<String, PerVpc> = BTreeMap::new();
    let mut sources: BTreeMap<usize, Vec<Interval>> = BTreeMap::new();
    for (v, joined, u, src) in walked {
        for (why, from) in u {
            unknowns.entry(why).or_default().extend(from);
        }
        for (d, (set, ways)) in joined {
            let (all, apart) = network.entry(d).or_default();
            all.insert(v, set);
            apart.extend(ways.into_iter().map(|(way, part)| (v, way, part)));
        }
        sources.insert(v, src);
    }
    let layers = Layers::new(&infos, &senders, sources);
    type Network = (
        String,
        Vec<(usize, PackedSet)>,
        Vec<(usize, Way, PackedSet)>,
    );
    let network: Vec<Network> = network
        .into_iter()
        .map(|(d, (all, apart))| (d, all.into_iter().collect(), apart))
        .collect();
    // The security-group part, per subnet entered (in parallel). The network sets are the
    // largest thing held (gigabytes on a large estate): each subnet's are freed once used.
    // Each thread takes the next subnet when it is free. With rayon's own splitting a run of
    // subnets decided ahead of time was left to one core at the end (0.4-0.7 s on l, where no
    // subnet takes over 80 ms). A thread's memos are made anew every `FRESH` subnets: kept for
    // the whole part they held about 0.4 GB more at the peak on l. (Taking the heaviest
    // subnets first, tried in session 20, raised the peak instead: see BENCHMARKS.md.)
    const FRESH: usize = 64;
    let per_subnet: Vec<(Vec<Reach>, LbOut)> = map_in_turn(
        network,
        || (0, Ctx::new()),
        |(n, ctx), (d, per_vpc, apart)| {
            *n += 1;
            if *n % FRESH == 0 {
                *ctx = Ctx::new();
            }
            env.to_subnet(
                by_subnet.get(d.as_str()).map_or(&[][..], |v| v),
                &Delivered::new(&per_vpc, &apart),
                &layers,
                ctx,
            )
        },
    );
    // (The senders' spans are not needed any more: freed before the load balancers' part.)
    if let Ok(mut spans) = layers.spans.lock() {
        *spans = HashMap::default();
    }
    for (reaches, lbs) in per_subnet {
        out.extend(reaches);
        lb_out.absorb(lbs);
    }
    for key in &lb_out.reached {
        for (why, from) in forward_unknowns.remove(key).unwrap_or_default() {
            unknowns.entry(why).or_default().extend(from);
        }
    }
    // What the targets get, per target class. Legs are joined per load balancer, in
    // parallel: a load balancer's legs reach its own targets only, so the accumulators of
    // different load balancers rarely meet and are merged at the end in a fixed order.
    type LbWork<'l> = (Vec<LbReach<'l>>, Vec<(Translation<'l>, TranslationOrigins)>);
    let mut by_lb: BTreeMap<&str, LbWork> = BTreeMap::new();
    let lb_of = |l: u32| env.listeners[l as usize].lb_arn.as_str();
    for r in lb_out.legs {
        by_lb.entry(lb_of(r.listener)).or_default().0.push(r);
    }
    for (key, origins) in lb_out.translations {
        by_lb
            .entry(lb_of(key.1))
            .or_default()
            .1
            .push((key, origins));
    }
    // A target class that one load balancer alone reaches (the usual case) is finished in
    // that load balancer's task, so that its accumulator is not held until every load
    // balancer is done (this part held l's peak); the others are merged, then finished.
    let mut reached_by: HashMap<usize, usize> = HashMap::default();
    for (legs, translations) in by_lb.values() {
        let keys = legs
            .iter()
            .map(|r| (r.node, r.listener))
            .chain(translations.iter().map(|((node, l, _), _)| (*node, *l)));
        let mut mine: BTreeSet<usize> = BTreeSet::new();
        for key in keys {
            for (target, _, _) in &forwards[&key].reached {
                if let Some(&(ci, _)) = host_class.get(target.as_str()) {
                    mine.insert(ci);
                }
            }
        }
        for ci in mine {
            *reached_by.entry(ci).or_default() += 1;
        }
    }
    type LbDone = (Vec<(usize, Vec<Reach>)>, BTreeMap<usize, DestAcc>);
    let parts: Vec<LbDone> = by_lb
        .into_values()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map_init(Ctx::new, |ctx, (legs, translations)| {
            let mut acc: BTreeMap<usize, DestAcc> = BTreeMap::new();
            for r in legs {
                let f = &forwards[&(r.node, r.listener)];
                env.lb_join_preserved(&r, f, &host_class, ctx, &mut acc);
            }
            // The translated parts once for all the applications that got them alike.
            for ((node, listener, protocols), (apps, outside)) in translations {
                let f = &forwards[&(node, listener)];
                let apps = union_interned(&mut ctx.interned, apps);
                for origin in apps.map(Origin::Apps).into_iter().chain(outside) {
                    env.lb_join_translated(origin, listener, &protocols, f, &host_class, &mut acc);
                }
            }
            let mut done = Vec::new();
            let mut shared = BTreeMap::new();
            for (ci, a) in acc {
                if reached_by.get(&ci) == Some(&1) {
                    done.push((
                        ci,
                        a.finish(ci, env.infos[ci].serves, &env.listeners, &mut ctx.interned),
                    ));
                } else {
                    shared.insert(ci, a);
                }
            }
            (done, shared)
        })
        .collect();
    let mut finished: Vec<(usize, Vec<Reach>)> = Vec::new();
    let mut lb_acc: BTreeMap<usize, DestAcc> = BTreeMap::new();
    for (done, shared) in parts {
        finished.extend(done);
        for (ci, a) in shared {
            match lb_acc.entry(ci) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(a);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().absorb(a),
            }
        }
    }
    finished.par_extend(lb_acc.into_par_iter().map_init(
        Interned::default,
        |interned, (ci, acc)| {
            (
                ci,
                acc.finish(ci, env.infos[ci].serves, &env.listeners, interned),
            )
        },
    ));
    // In the order of the classes, as when every class was finished after the merge.
    finished.par_sort_unstable_by_key(|(ci, _)| *ci);
    out.extend(finished.into_iter().flat_map(|(_, r)| r));
    // The evaluation's tables are freed on one core while the reaches are merged on the other
    // (on l, freeing them took a fifth of a second).
    let tables = (
        infos, forwards, senders, layers, host_class, all_hosts, ctx, rules,
    );
    let (merged, ()) = rayon::join(move || merge_reaches(out), move || drop(tables));
    (merged, unknowns)
}

/// `f` applied to every item on all of rayon's threads, with a state per thread made by `init`
/// (the memo tables), the results in the items' order. Each thread takes the next item as soon
/// as it is free, in order: rayon's own splitting hands each thread runs of items decided
/// ahead of time (splitting further would make a state per item), and the run left last keeps
/// one core working alone. Taking items in order also frees them in about that order.
fn map_in_turn<T, S, R>(
    items: impl IntoIterator<Item = T, IntoIter: Send>,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, T) -> R + Sync + Send,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let mut done: Vec<(usize, R)> = items
        .into_iter()
        .enumerate()
        .par_bridge()
        .map_init(init, |state, (i, item)| (i, f(state, item)))
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Adds `set` to boxes whose sources are `srcs`: by concatenation when the sources are new
/// (another subnet's), by union otherwise.
fn join((boxes, srcs): &mut (Vec<PBox>, Vec<Interval>), set: &PacketSet) {
    let mine = set.project(Dim::Src);
    // Parts of one subnet's packets that routing split apart do not share destinations:
    // compare with the boxes of the same sources only.
    let shared = || {
        let dsts = packet::merge(
            boxes
                .iter()
                .filter(|b| overlaps_any(b.get(Dim::Src), &mine))
                .map(|b| b.get(Dim::Dst))
                .collect(),
        );
        set.boxes()
            .iter()
            .any(|b| overlaps_any(b.get(Dim::Dst), &dsts))
    };
    if mine.iter().any(|iv| overlaps_any(*iv, srcs)) && shared() {
        let u = PacketSet::from_boxes(boxes.drain(..)).union(set);
        boxes.extend_from_slice(u.boxes());
    } else {
        boxes.extend_from_slice(set.boxes());
    }
    *srcs = packet::merge(srcs.iter().copied().chain(mine).collect());
}

/// Marks the sending classes and sorts them into buckets.
fn arrange_senders(infos: &mut [ClassInfo], clients: &[bool]) -> Senders {
    let mut s = Senders {
        is: infos
            .iter()
            .zip(clients)
            .map(|(c, &client)| client && !c.virtual_node && !c.src.is_empty())
            .collect(),
        ..Senders::default()
    };
    let mut ids: HashMap<Vec<PBox>, usize> = HashMap::default();
    for (i, c) in infos.iter_mut().enumerate() {
        if !s.is[i] {
            continue;
        }
        let set = if c.filtered {
            c.egress.cidr.clone()
        } else {
            PacketSet::from_box(PBox::FULL)
        };
        let next = s.buckets.len();
        c.bucket = *ids.entry(set.boxes().to_vec()).or_insert_with(|| {
            s.buckets.push(set);
            next
        });
        s.groups.entry((c.vpc_ix, c.bucket)).or_default().push(i);
        let in_vpc = s.in_vpc.entry(c.vpc_ix).or_default();
        if !in_vpc.contains(&c.bucket) {
            in_vpc.push(c.bucket);
        }
    }
    for (i, c) in infos.iter().enumerate() {
        if !s.is[i] {
            continue;
        }
        for g in &c.groups {
            s.holders.entry(g.clone()).or_default().push(i);
        }
        if c.filtered {
            let mut named: Vec<&String> = c.egress.refs.iter().map(|(g, _, _)| g).collect();
            named.sort();
            named.dedup();
            for g in named {
                s.naming.entry(g.clone()).or_default().push(i);
            }
        }
    }
    s
}

impl<'a> Env<'a> {
    /// What the senders of every VPC reach of the classes of one subnet (`dests`), given what
    /// each source VPC's subnets deliver there (`per_vpc`, sorted by VPC).
    fn to_subnet(
        &self,
        dests: &[usize],
        per_vpc: &Delivered,
        layers: &Layers,
        ctx: &mut Ctx,
    ) -> (Vec<Reach>, LbOut<'a>) {
        let mut out = Vec::new();
        let mut lb_out = LbOut::default();
        // Classes with the same groups (so the same ingress rules; unfiltered ones: none) get
        // the same packets from every (source VPC, bucket): computed once per such group of
        // classes, then delivered to each. Load balancers apart: they keep the boxes.
        // ((group set if filtered, load balancer), classes)
        type Group = ((Option<usize>, bool), Vec<usize>);
        let mut groups: Vec<Group> = Vec::new();
        let mut kept = Vec::new();
        for &di in dests {
            let dc = &self.infos[di];
            if !dc.kind.accepts_connections() || dc.dst.is_empty() {
                continue;
            }
            kept.push(di);
            let key = (dc.filtered.then_some(dc.set_id), dc.lb.is_some());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, classes)) => classes.push(di),
                None => groups.push((key, vec![di])),
            }
        }
        let mut accs: HashMap<usize, DestAcc> = HashMap::default();
        // The packets of every source VPC of a layer, by shape, and the buckets there (built
        // when first needed).
        let mut sourced: Option<Vec<LayerPart>> = None;
        for ((_, lb), group) in &groups {
            let first = &self.infos[group[0]];
            if !lb {
                let sourced = sourced.get_or_insert_with(|| {
                    let dsts = packet::merge(
                        kept.iter()
                            .flat_map(|&di| self.infos[di].dst.iter().map(|(iv, _)| *iv))
                            .collect(),
                    );
                    layers
                        .factor(per_vpc.packed)
                        .into_iter()
                        .map(|(l, n)| {
                            let buckets = layers.towards(l, &self.senders.buckets, &dsts, ctx);
                            (l, n, buckets)
                        })
                        .collect()
                });
                for (l, n, buckets) in sourced.iter() {
                    // What the network and the ingress CIDR rules let through.
                    let y = if first.filtered {
                        sourced_intersect(n, &first.ingress.cidr)
                    } else {
                        n.clone()
                    };
                    if y.is_empty() {
                        continue;
                    }
                    for (bucket, e) in buckets {
                        let x = sourced_intersect(&y, bucket);
                        if x.is_empty() {
                            continue;
                        }
                        // Who sends each shape: resolved once for the classes of the group.
                        let origins: Vec<Option<Origin>> = x
                            .iter()
                            .map(|(_, srcs)| layers.resolve(*l, *e, srcs, ctx).map(Origin::Apps))
                            .collect();
                        for &di in group {
                            let acc = accs.entry(di).or_default();
                            let dc = &self.infos[di];
                            for (origin, traffic, members, _) in sourced_hits(&x, &origins, &dc.dst)
                            {
                                acc.add(origin, None, traffic, members);
                            }
                        }
                    }
                }
                continue;
            }
            for (pos, (v, _)) in per_vpc.packed.iter().enumerate() {
                let n = per_vpc.get(pos);
                let buckets = self.senders.in_vpc.get(v).map_or(&[][..], |b| &b[..]);
                if buckets.is_empty() {
                    continue;
                }
                // What the network and the ingress CIDR rules let through.
                let y = if first.filtered {
                    n.intersect(&first.ingress.cidr)
                } else {
                    n.clone()
                };
                if y.is_empty() {
                    continue;
                }
                for &e in buckets {
                    let x = y.intersect(&self.senders.buckets[e]);
                    if x.is_empty() {
                        continue;
                    }
                    for &di in group {
                        let acc = accs.entry(di).or_insert_with(|| {
                            DestAcc::with_capacity(per_vpc.packed.len() * buckets.len())
                        });
                        self.deliver(
                            &Resolver::Bucket(*v, e),
                            di,
                            &self.infos[di].dst,
                            &x,
                            ctx,
                            acc,
                            &mut lb_out,
                        );
                    }
                }
            }
        }
        for di in kept {
            let dc = &self.infos[di];
            let mut acc = accs.remove(&di).unwrap_or_default();
            // Senders that group references concern: with the references, per (groups, VPC,
            // kind of node), which decide what the rules allow.
            let mut special: BTreeSet<usize> = BTreeSet::new();
            if dc.filtered {
                for (g, _, _) in &dc.ingress.refs {
                    special.extend(self.senders.holders.get(g).into_iter().flatten());
                }
            }
            // A node without an ENI in the snapshot holds its load balancer's groups too.
            for g in &dc.groups {
                special.extend(self.senders.naming.get(g).into_iter().flatten());
            }
            let mut alike: BTreeMap<(usize, usize, bool, bool), Vec<usize>> = BTreeMap::new();
            for si in special {
                let sc = &self.infos[si];
                let key = (sc.set_id, sc.vpc_ix, sc.virtual_node, sc.filtered);
                alike.entry(key).or_default().push(si);
            }
            for classes in alike.into_values() {
                let sc = &self.infos[classes[0]];
                let Ok(pos) = per_vpc.packed.binary_search_by_key(&sc.vpc_ix, |(v, _)| *v) else {
                    continue;
                };
                // Only the boxes from the senders' own addresses are credited to them: cut the
                // VPC's set down to them first (for a load balancer the boxes are kept as they
                // arrived, so there the whole set goes on). The references the rules name
                // match by the way the packets came (§1.3): each way's part apart.
                let src = dc.lb.is_none().then(|| {
                    packet::merge(
                        classes
                            .iter()
                            .flat_map(|&c| self.infos[c].src.iter().copied())
                            .collect(),
                    )
                });
                let mut x: Option<PacketSet> = None;
                for (way, part) in per_vpc.by_way(pos, src.as_deref()) {
                    let in_id = self.allowed_id(dc, sc, true, way, ctx);
                    let part = part.intersect(&ctx.allowed_sets[in_id]);
                    if part.is_empty() {
                        continue;
                    }
                    let eg_id = self.allowed_id(sc, dc, false, way, ctx);
                    let part = part.intersect(&ctx.allowed_sets[eg_id]);
                    x = Some(match x {
                        Some(x) => x.union(&part),
                        None => part,
                    });
                }
                let Some(x) = x else {
                    continue;
                };
                self.deliver(
                    &Resolver::Classes(classes.into()),
                    di,
                    &dc.dst,
                    &x,
                    ctx,
                    &mut acc,
                    &mut lb_out,
                );
            }
            out.extend(acc.finish(di, dc.serves, &self.listeners, &mut ctx.interned));
        }
        (out, lb_out)
    }

    /// Joins the part of one leg (what reached a node's listener) that reaches targets with
    /// the clients' own addresses (§5.3) to what the node forwards, adding what each target
    /// class gets to `acc`. The part forwarded from the node's address depends on the leg's
    /// packets only through [`Forward::protocols`]: legs that agree there are joined by
    /// [`Self::lb_join_translated`], once for all their origins.
    fn lb_join_preserved(
        &self,
        r: &LbReach,
        f: &Forward,
        host_class: &HashMap<&str, (usize, usize)>,
        ctx: &mut Ctx,
        acc: &mut BTreeMap<usize, DestAcc>,
    ) {
        let mut got_by = GotBy::default();
        let empty = PacketSet::empty();
        for (target, preserved, _) in &f.reached {
            let Some(&(ci, k)) = host_class.get(target.as_str()) else {
                continue;
            };
            // A client outside the VPCs matches no group reference at the target.
            let preserved = match &r.resolver {
                Resolver::Outside(..) => f.preserved_outside.get(target).unwrap_or(&empty),
                _ => preserved,
            };
            if preserved.is_empty() {
                continue;
            }
            // The target sees the clients' own addresses: credit each box to its senders
            // (none of the internet's that only the estate's own addresses make).
            let got = preserved.intersect(&r.client);
            let got = match &r.resolver {
                Resolver::Outside(Origin::InternetV4 | Origin::InternetV6, _) => {
                    super::query::from_internet_clients(&got, &self.own)
                }
                _ => got,
            };
            let mut by_origin: Vec<(Origin, Vec<PBox>)> = Vec::new();
            for b in got.boxes() {
                let Some(o) = self.resolve(&r.resolver, b.get(Dim::Src), ctx) else {
                    continue;
                };
                match by_origin.iter_mut().find(|(x, _)| same_origin(x, &o)) {
                    Some((_, v)) => v.push(*b),
                    None => by_origin.push((o, vec![*b])),
                }
            }
            for (origin, boxes) in by_origin {
                got_by.add(ci, origin, PacketSet::from_boxes(boxes).ports_only(), k);
            }
        }
        got_by.finish(r.listener, acc);
    }

    /// Joins what `origin` brought to a node's listener to what the node forwards from its own
    /// address: without preservation the node's new flow keeps only the protocol, for the
    /// clients it serves (`protocols`, per [`Forward::clients`]: the protocols of the origin's
    /// packets from those clients, if any).
    fn lb_join_translated(
        &self,
        origin: Origin,
        listener: u32,
        protocols: &[Option<Vec<Interval>>],
        f: &Forward,
        host_class: &HashMap<&str, (usize, usize)>,
        acc: &mut BTreeMap<usize, DestAcc>,
    ) {
        let mut got_by = GotBy::default();
        for (target, _, translated) in &f.reached {
            let Some(&(ci, k)) = host_class.get(target.as_str()) else {
                continue;
            };
            for (clients, ports) in translated {
                let Some(protocols) = &protocols[*clients] else {
                    continue;
                };
                let got = if protocols[..] == [(0, 255)] {
                    ports.clone()
                } else {
                    ports.restrict(Dim::Proto, protocols)
                };
                if got.is_empty() {
                    continue;
                }
                got_by.add(ci, origin.clone(), got, k);
            }
        }
        got_by.finish(listener, acc);
    }

    /// What `owner`'s rules allow of traffic with `peer` (inbound: `peer` sends) that crosses
    /// between their VPCs `way`, as an index into the thread's `allowed_sets`.
    fn allowed_id(
        &self,
        owner: &ClassInfo,
        peer: &ClassInfo,
        inbound: bool,
        way: Way,
        ctx: &mut Ctx,
    ) -> usize {
        if !owner.filtered {
            return 0;
        }
        // Transit gateway referencing does not work for PrivateLink endpoints (§1.3): what
        // reaches an interface endpoint through a gateway matches the references to its own
        // VPC's groups only, as through a gateway that carries none.
        let way = match way {
            Way::Other if inbound && owner.kind == OwnerKind::VpcEndpoint => Way::Bare,
            way => way,
        };
        let key = (
            owner.set_id,
            peer.set_id,
            peer.vpc_ix,
            peer.virtual_node,
            inbound,
            way,
        );
        if let Some(&i) = ctx.allowed_ids.get(&key) {
            return i;
        }
        let rules = if inbound {
            &owner.ingress
        } else {
            &owner.egress
        };
        // Mostly no reference applies to the peer: then the rules' CIDR part, held once per
        // (group set, direction).
        let i = match allowed(self.m, rules, peer, inbound, way, &mut ctx.refs) {
            Some(set) => {
                ctx.allowed_sets.push(set);
                ctx.allowed_sets.len() - 1
            }
            None => *ctx
                .cidr_ids
                .entry((owner.set_id, inbound))
                .or_insert_with(|| {
                    ctx.allowed_sets.push(rules.cidr.clone());
                    ctx.allowed_sets.len() - 1
                }),
        };
        ctx.allowed_ids.insert(key, i);
        i
    }
}

/// What each source VPC's subnets deliver to one subnet (sorted by VPC), kept packed: the
/// shapes are read from the packed boxes, and a VPC's set is unpacked only when it is used
/// whole (load balancers, senders that group references concern), once. With the parts of
/// them that came a way matching other group references than the rest ([`Way::Peering`],
/// [`Way::Bare`]), sorted by VPC.
struct Delivered<'p> {
    packed: &'p [(usize, PackedSet)],
    unpacked: Vec<std::cell::OnceCell<PacketSet>>,
    apart: &'p [(usize, Way, PackedSet)],
}

impl<'p> Delivered<'p> {
    fn new(
        packed: &'p [(usize, PackedSet)],
        apart: &'p [(usize, Way, PackedSet)],
    ) -> Delivered<'p> {
        Delivered {
            packed,
            unpacked: packed.iter().map(|_| Default::default()).collect(),
            apart,
        }
    }

    /// The set of the VPC at `pos` in [`Self::packed`], cut down to `src` when given, and
    /// split by the way its packets came ([`Way`]): the parts kept apart, and the rest (within
    /// the VPC, or through a transit gateway that carries references). Only non-empty parts.
    fn by_way(&self, pos: usize, src: Option<&[Interval]>) -> Vec<(Way, PacketSet)> {
        let v = self.packed[pos].0;
        let cut = |set: &PacketSet| match src {
            Some(src) => set.restrict(Dim::Src, src),
            None => set.clone(),
        };
        let whole = cut(self.get(pos));
        let from = self.apart.partition_point(|(u, _, _)| *u < v);
        let to = self.apart.partition_point(|(u, _, _)| *u <= v);
        if from == to {
            return vec![(Way::Other, whole)];
        }
        let mut rest = whole;
        let mut parts = Vec::new();
        for (_, way, part) in &self.apart[from..to] {
            let part = cut(&part.unpack());
            rest = rest.subtract(&part);
            parts.push((*way, part));
        }
        parts.insert(0, (Way::Other, rest));
        parts.retain(|(_, part)| !part.is_empty());
        parts
    }

    /// The set of the VPC at `pos` in [`Self::packed`].
    fn get(&self, pos: usize) -> &PacketSet {
        self.unpacked[pos].get_or_init(|| self.packed[pos].1.unpack())
    }
}

/// Source addresses (sorted, disjoint, non-adjacent), shared, with their hash.
#[derive(Clone)]
struct Srcs {
    ivs: Arc<[Interval]>,
    hash: u64,
}

impl Srcs {
    fn new(ivs: Vec<Interval>) -> Srcs {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::default().hash_one(&ivs);
        Srcs {
            ivs: ivs.into(),
            hash,
        }
    }

    /// The addresses within `iv` (the same allocation when that is all of them).
    fn clip(&self, iv: Interval) -> Option<Srcs> {
        let (first, last) = (self.ivs.first()?, self.ivs.last()?);
        if iv.0 <= first.0 && last.1 <= iv.1 {
            return Some(self.clone());
        }
        let from = self.ivs.partition_point(|s| s.1 < iv.0);
        let cut: Vec<Interval> = self.ivs[from..]
            .iter()
            .take_while(|s| s.0 <= iv.1)
            .map(|s| (s.0.max(iv.0), s.1.min(iv.1)))
            .collect();
        (!cut.is_empty()).then(|| Srcs::new(cut))
    }
}

/// Packets of many senders, by shape: each box's sources are left whole, and its addresses
/// say who sends every packet of it. The packets of different source VPCs that differ only in
/// their sources (one VPC's subnets reaching a subnet as another's do) are one entry, where a
/// [`PacketSet`] keeps a box per VPC (their addresses are rarely adjacent).
type Sourced = Vec<(PBox, Srcs)>;

/// Entries by shape → normalised (addresses of one shape joined, entries in order).
fn sourced_from(by: HashMap<PBox, Vec<Srcs>>) -> Sourced {
    let mut out: Sourced = by
        .into_iter()
        .map(|(k, mut v)| {
            let srcs = if v.len() == 1 {
                v.pop().expect("one")
            } else {
                Srcs::new(packet::merge(
                    v.iter().flat_map(|s| s.ivs.iter().copied()).collect(),
                ))
            };
            (k, srcs)
        })
        .collect();
    out.sort_unstable_by_key(|a| a.0);
    out
}

/// `x ∩ filter`.
fn sourced_intersect(x: &Sourced, filter: &PacketSet) -> Sourced {
    let mut by: HashMap<PBox, Vec<Srcs>> = HashMap::default();
    for (k, srcs) in x {
        for f in filter.boxes() {
            let Some(shape) = k.intersect(&f.with(Dim::Src, ALL_ADDRS)) else {
                continue;
            };
            if let Some(cut) = srcs.clip(f.get(Dim::Src)) {
                by.entry(shape).or_default().push(cut);
            }
        }
    }
    sourced_from(by)
}

/// The entries of `x` that reach a member (their destinations cover a member's address),
/// grouped by who sent them (`origins`, one per entry), as [`HitGroups::finish`] gives them
/// (no boxes kept).
fn sourced_hits(
    x: &Sourced,
    origins: &[Option<Origin>],
    addrs: &[(Interval, usize)],
) -> Vec<(Origin, PacketSet, Vec<usize>, PacketSet)> {
    let mut groups = HitGroups::default();
    for ((k, _), origin) in x.iter().zip(origins) {
        let Some(origin) = origin else {
            continue;
        };
        let mut hit = members_hit(addrs, k.get(Dim::Dst)).peekable();
        if hit.peek().is_some() {
            groups.add(origin.clone(), k, hit, false);
        }
    }
    groups.finish()
}

/// Source VPCs in layers: no two VPCs of a layer send from a common address, so within a
/// layer a source address names its VPC, and what all of them deliver to a subnet is kept as
/// one [`Sourced`] set (VPCs whose addresses overlap, which cannot be peered or routed to each
/// other, go to different layers).
struct Layers {
    /// Source VPC → its layer.
    of: HashMap<usize, usize>,
    /// Layer → the buckets of its senders.
    buckets: Vec<Vec<usize>>,
    /// (layer, bucket) → the senders' addresses with their application, sorted.
    senders: HashMap<(usize, usize), Vec<(Interval, u32)>>,
    /// (layer, list of buckets) → their senders' [`Spans`], made once for all threads (each
    /// thread's memo holds the ones it used).
    spans: std::sync::Mutex<SharedSpans>,
}

/// (layer, list of buckets) → their senders' [`Spans`].
type SharedSpans = HashMap<(usize, Vec<usize>), Arc<Spans>>;

impl Layers {
    /// `sources`: source VPC → the addresses its packets come from.
    fn new(
        infos: &[ClassInfo],
        s: &Senders,
        mut sources: BTreeMap<usize, Vec<Interval>>,
    ) -> Layers {
        for (i, c) in infos.iter().enumerate() {
            if s.is[i] {
                if let Some(src) = sources.get_mut(&c.vpc_ix) {
                    src.extend(c.src.iter().copied());
                }
            }
        }
        let mut layers = Layers {
            of: HashMap::default(),
            buckets: Vec::new(),
            senders: HashMap::default(),
            spans: Default::default(),
        };
        let mut taken: Vec<Vec<Interval>> = Vec::new();
        for (v, src) in sources {
            let src = packet::merge(src);
            let l = match taken
                .iter()
                .position(|t| !src.iter().any(|iv| overlaps_any(*iv, t)))
            {
                Some(l) => l,
                None => {
                    taken.push(Vec::new());
                    layers.buckets.push(Vec::new());
                    taken.len() - 1
                }
            };
            taken[l] = packet::merge(taken[l].iter().copied().chain(src).collect());
            layers.of.insert(v, l);
            for &e in s.in_vpc.get(&v).into_iter().flatten() {
                if !layers.buckets[l].contains(&e) {
                    layers.buckets[l].push(e);
                }
                let spans = layers.senders.entry((l, e)).or_default();
                for &c in &s.groups[&(v, e)] {
                    spans.extend(infos[c].src.iter().map(|iv| (*iv, infos[c].app)));
                }
            }
        }
        for b in &mut layers.buckets {
            b.sort_unstable();
        }
        for spans in layers.senders.values_mut() {
            spans.sort_unstable();
        }
        layers
    }

    /// What each source VPC delivers (`per_vpc`), joined per layer.
    fn factor(&self, per_vpc: &[(usize, PackedSet)]) -> Vec<(usize, Sourced)> {
        let mut by: BTreeMap<usize, HashMap<PBox, Vec<Interval>>> = BTreeMap::new();
        for (v, set) in per_vpc {
            let Some(&l) = self.of.get(v) else {
                continue;
            };
            let by = by.entry(l).or_default();
            for b in set.boxes() {
                by.entry(b.with(Dim::Src, ALL_ADDRS))
                    .or_default()
                    .push(b.get(Dim::Src));
            }
        }
        by.into_iter()
            .map(|(l, by)| {
                let by = by
                    .into_iter()
                    .map(|(k, v)| (k, vec![Srcs::new(packet::merge(v))]))
                    .collect();
                (l, sourced_from(by))
            })
            .collect()
    }

    /// The buckets of layer `l`'s senders as they treat packets to `dsts`: buckets that
    /// allow the same packets there are one, numbered in `ctx` (a sender's egress CIDR rules
    /// mostly name its own VPC or everything: towards one subnet, most buckets agree).
    fn towards(
        &self,
        l: usize,
        buckets: &[PacketSet],
        dsts: &[Interval],
        ctx: &mut Ctx,
    ) -> Vec<(PacketSet, usize)> {
        let mut alike: HashMap<PacketSet, Vec<usize>> = HashMap::default();
        for &e in &self.buckets[l] {
            let there = buckets[e].restrict(Dim::Dst, dsts);
            if !there.is_empty() {
                alike.entry(there).or_default().push(e);
            }
        }
        let mut out: Vec<(PacketSet, Vec<usize>)> = alike.into_iter().collect();
        out.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        out.into_iter()
            .map(|(set, list)| match ctx.bucket_ids.get(&list) {
                Some(&id) => (set, id),
                None => {
                    let id = ctx.bucket_lists.len();
                    ctx.bucket_ids.insert(list.clone(), id);
                    ctx.bucket_lists.push(list);
                    (set, id)
                }
            })
            .collect()
    }

    /// The applications of the senders of the buckets numbered `id` (in `ctx`) in layer `l`
    /// that send from `srcs`.
    fn resolve(&self, l: usize, id: usize, srcs: &Srcs, ctx: &mut Ctx) -> Option<Arc<AppSet>> {
        if let Some(seen) = ctx.sourced.get(&(l, id, srcs.hash)) {
            if let Some((_, set)) = seen
                .iter()
                .find(|(ivs, _)| Arc::ptr_eq(ivs, &srcs.ivs) || **ivs == *srcs.ivs)
            {
                return set.clone();
            }
        }
        let spans = match ctx.spans.get(&(l, id)) {
            Some(s) => s.clone(),
            None => {
                let list = &ctx.bucket_lists[id];
                let key = (l, list.clone());
                let shared = self.spans.lock().ok().and_then(|m| m.get(&key).cloned());
                let s = shared.unwrap_or_else(|| {
                    // Made outside the lock: two threads may both make one, alike.
                    let s = Arc::new(spans_of(
                        list.iter()
                            .filter_map(|&e| self.senders.get(&(l, e)))
                            .flat_map(|s| s.iter().copied())
                            .collect(),
                    ));
                    if let Ok(mut m) = self.spans.lock() {
                        m.insert(key, s.clone());
                    }
                    s
                });
                ctx.spans.insert((l, id), s.clone());
                s
            }
        };
        let (spans, reach) = &*spans;
        let mut apps = Vec::new();
        for iv in srcs.ivs.iter() {
            let from = reach.partition_point(|&r| r < iv.0);
            apps.extend(
                spans[from..]
                    .iter()
                    .take_while(|(s, _)| s.0 <= iv.1)
                    .filter(|(s, _)| s.1 >= iv.0)
                    .map(|(_, a)| *a),
            );
        }
        let set = AppSet::from_indices(apps);
        let set = (!set.is_empty()).then(|| Arc::new(set));
        ctx.sourced
            .entry((l, id, srcs.hash))
            .or_default()
            .push((srcs.ivs.clone(), set.clone()));
        set
    }
}

impl Ctx {
    fn new() -> Ctx {
        let mut c = Ctx::default();
        c.allowed_sets.push(PacketSet::from_box(PBox::FULL));
        c
    }
}

/// What a (node, listener) forwards: per target host, the packets that arrive with the
/// client's address preserved, and the traffic that arrives from the node's own address, per
/// the clients it serves (§5.3: an NLB preserves the address of clients of the target's address
/// family only).
struct Forward {
    /// (target host, packets arriving with the client's address, [(client source addresses
    /// as an index into `clients`, protocols and destination ports arriving from the node's
    /// address)]).
    reached: Vec<(String, PacketSet, Translated)>,
    /// The sets of client source addresses the translated parts serve.
    clients: Vec<Vec<Interval>>,
    /// Whether some target sees the client's own address.
    preserves: bool,
    /// Target host → packets arriving with the address of a client outside the VPCs
    /// (internet, on-premises), which no group reference matches (§1.3).
    preserved_outside: BTreeMap<String, PacketSet>,
}

/// Per set of client source addresses (an index into [`Forward::clients`]), the protocols and
/// destination ports that reach a target from the load balancer node's own address.
type Translated = Vec<(usize, PacketSet)>;

impl Forward {
    /// What a leg's packets (`client`) decide of the translated parts: per set of client
    /// addresses in [`Self::clients`], the protocols of the packets from there, if any.
    fn protocols(&self, client: &PacketSet) -> Vec<Option<Vec<Interval>>> {
        self.clients
            .iter()
            .map(|c| {
                let s = client.restrict(Dim::Src, c);
                (!s.is_empty()).then(|| s.project(Dim::Proto))
            })
            .collect()
    }
}

fn forward(
    m: &Model,
    idx: &Index,
    node: &str,
    listener: &str,
    all_hosts: &Arc<BTreeSet<String>>,
) -> (Forward, Unknowns) {
    let goal = Goal {
        hosts: all_hosts.clone(),
        // A hairpin is a host reaching itself, and the report never counts an application as
        // its own source: the legs keep those packets.
        hairpin_by_caller: true,
        ..Goal::default()
    };
    let mut w = Walker::new(m, idx, goal.clone());
    let Some(h) = idx.hosts.get(node) else {
        return (
            Forward {
                reached: Vec::new(),
                clients: Vec::new(),
                preserves: false,
                preserved_outside: BTreeMap::new(),
            },
            Unknowns::new(),
        );
    };
    let set = PacketSet::from_box(PBox::FULL).restrict(Dim::Dst, &h.private);
    w.from_lb_listener(node, listener, set.clone(), false);
    let mut unknowns = Unknowns::new();
    note_unknowns(&w.outcomes, node, &mut unknowns);
    type Reached = (PacketSet, BTreeMap<Vec<Interval>, PacketSet>);
    let mut reached: BTreeMap<String, Reached> = BTreeMap::new();
    for (target, lb_clients, set) in delivered(w.outcomes) {
        let e = reached.entry(target).or_default();
        match lb_clients {
            // A new flow from the node's address, for these clients.
            Some(clients) => {
                let t = e.1.entry(clients).or_insert_with(PacketSet::empty);
                *t = t.union(&set);
            }
            // The client's address reaches the target (§5.3).
            None => e.0 = e.0.union(&set),
        }
    }
    // Preserved addresses of clients outside the VPCs: walked again without group references.
    let mut preserved_outside: BTreeMap<String, PacketSet> = BTreeMap::new();
    if reached.values().any(|(p, _)| !p.is_empty()) {
        let mut w = Walker::new(m, idx, goal);
        w.from_lb_listener(node, listener, set, true);
        for (target, lb_clients, set) in delivered(w.outcomes) {
            if lb_clients.is_none() {
                let e = preserved_outside
                    .entry(target)
                    .or_insert_with(PacketSet::empty);
                *e = e.union(&set);
            }
        }
    }
    let mut clients: Vec<Vec<Interval>> = Vec::new();
    let reached: Vec<(String, PacketSet, Translated)> = reached
        .into_iter()
        .map(|(k, (preserved, translated))| {
            let translated = translated
                .into_iter()
                .map(|(c, s)| {
                    let i = match clients.iter().position(|x| *x == c) {
                        Some(i) => i,
                        None => {
                            clients.push(c);
                            clients.len() - 1
                        }
                    };
                    (i, s.ports_only())
                })
                .collect();
            (k, preserved, translated)
        })
        .collect();
    let preserves = reached.iter().any(|(_, p, _)| !p.is_empty());
    let f = Forward {
        preserved_outside,
        reached,
        clients,
        preserves,
    };
    (f, unknowns)
}

/// The walks' deliveries that nothing blocked: (target host, the clients of a translated part
/// or `None` for the client's own address, packets).
fn delivered(
    outcomes: Vec<walk::Outcome>,
) -> impl Iterator<Item = (String, Option<Vec<Interval>>, PacketSet)> {
    outcomes.into_iter().filter_map(|o| {
        if !matches!(o.ending, walk::Ending::Reached) || !o.blocks.is_empty() || o.set.is_empty() {
            return None;
        }
        let target = o.hops.last()?.component.clone();
        Some((target, o.lb_clients, o.set))
    })
}

/// A network-mode walker that stops where packets reach a VPC or a transit gateway.
fn staged_walker<'m>(m: &'m Model, idx: &'m Index) -> Walker<'m> {
    Walker::new(
        m,
        idx,
        Goal {
            network: true,
            stop_at_vpc: true,
            ..Goal::default()
        },
    )
}

fn network_walker<'m>(m: &'m Model, idx: &'m Index) -> Walker<'m> {
    Walker::new(
        m,
        idx,
        Goal {
            network: true,
            ..Goal::default()
        },
    )
}

fn overlaps_any(iv: Interval, sorted: &[Interval]) -> bool {
    let i = sorted.partition_point(|s| s.1 < iv.0);
    i < sorted.len() && sorted[i].0 <= iv.1
}

/// What `rules` (of a class on the `rule_vpc` side) allow of traffic with class `peer` that
/// crosses between their VPCs `way`: CIDR rules, plus group rules naming a group the peer's
/// members all hold where the way carries the reference (§1.3). `None`
/// when no group rule applies: the CIDR rules alone (`rules.cidr`).
fn allowed(
    m: &Model,
    rules: &Rules,
    peer: &ClassInfo,
    inbound: bool,
    way: Way,
    memo: &mut HashMap<(String, String, bool, Way), bool>,
) -> Option<PacketSet> {
    // A load-balancer node without an ENI in the snapshot holds its load balancer's groups
    // all the same (its class's `groups`).
    let mut admitted: Vec<PBox> = Vec::new();
    for (group, rule_vpc, b) in &rules.refs {
        if peer.groups.binary_search(group).is_err() {
            continue;
        }
        let key = (peer.vpc.to_string(), rule_vpc.clone(), inbound, way);
        let applies = *memo
            .entry(key)
            .or_insert_with(|| reference_applies(m, peer.vpc, rule_vpc, inbound, way));
        if applies {
            admitted.push(*b);
        }
    }
    (!admitted.is_empty()).then(|| rules.cidr.union(&PacketSet::from_boxes(admitted)))
}

fn rules_of(m: &Model, groups: &[String], inbound: bool) -> Rules {
    let peer_dim = if inbound { Dim::Src } else { Dim::Dst };
    let mut cidr = PacketSet::empty();
    let mut refs = Vec::new();
    for gid in groups {
        let Some(sg) = m.security_groups.get(gid) else {
            continue;
        };
        let list = if inbound { &sg.ingress } else { &sg.egress };
        for rule in list {
            let base = super::filters::proto_ports_box(rule.protocol, rule.ports, Dim::DstPort);
            let peer: Vec<Interval> = match &rule.peer {
                SgPeer::Cidr(net) => packet::net_intervals(net),
                SgPeer::PrefixList(pl) => m
                    .prefix_lists
                    .get(pl)
                    .map(|p| p.cidrs.iter().flat_map(packet::net_intervals).collect())
                    .unwrap_or_default(),
                // A stale reference counts as matching nothing here (queries: `unknown`).
                SgPeer::Group { .. } if m.stale_peering(&rule.peer).is_some() => continue,
                SgPeer::Group { group_id, .. } => {
                    refs.push((group_id.clone(), sg.vpc_id.clone(), base));
                    continue;
                }
            };
            if !peer.is_empty() {
                cidr = cidr.union(&PacketSet::from_box(base).restrict(peer_dim, &peer));
            }
        }
    }
    Rules { cidr, refs }
}

/// The groups (sorted, without repeats) a class's members hold: its first member's.
fn class_groups(idx: &Index, ids: &[String]) -> Vec<String> {
    let mut groups = ids
        .iter()
        .find_map(|h| idx.hosts.get(h))
        .map(|h| h.groups.clone())
        .unwrap_or_default();
    groups.sort();
    groups.dedup();
    groups
}

/// A class's information: `groups` as [`class_groups`] gives them, with their number and
/// rules (ingress, egress).
fn class_info<'a>(
    m: &'a Model,
    idx: &'a Index,
    ids: &[String],
    app: u32,
    groups: &[String],
    (set_id, ingress, egress): (usize, &Arc<Rules>, &Arc<Rules>),
) -> ClassInfo<'a> {
    let hosts: Vec<&Host> = ids.iter().filter_map(|h| idx.hosts.get(h)).collect();
    let first = hosts[0];
    let lb = (first.kind == OwnerKind::LoadBalancer)
        .then(|| {
            first
                .owner_id
                .as_ref()
                .and_then(|a| m.load_balancers.get(a))
        })
        .flatten();
    let mut src = Vec::new();
    let mut dst = Vec::new();
    let mut dst_internet = Vec::new();
    for (k, h) in hosts.iter().enumerate() {
        // A member sends from every address it holds (secondary addresses and delegated
        // prefixes too, as a query's source does).
        if !h.virtual_node {
            src.extend(h.private.iter().copied());
        }
        for p in &h.private {
            dst.push((*p, k));
        }
        // What the internet can address (query::run's legs for an internet source).
        let mapped: Vec<Interval> = h.public_v4.iter().map(|(_, p)| (*p, *p)).collect();
        let v6 = h.private.iter().copied().filter(|p| !packet::is_v4(p.0));
        match lb {
            Some(lb) => {
                // As a query's legs take them (`query::lb_legs`).
                let (public, instead) = super::query::internet_addresses(lb, h);
                let addrs: Vec<Interval> = if public.is_empty() || h.virtual_node {
                    instead
                } else {
                    // As the VPC sees them: a public IPv4 address is the private one it maps to.
                    public
                        .into_iter()
                        .map(|iv| {
                            h.public_v4
                                .iter()
                                .find(|(p, _)| *p == iv.0)
                                .map_or(iv, |(_, private)| (*private, *private))
                        })
                        .collect()
                };
                dst_internet.extend(addrs.into_iter().map(|p| (p, k)));
            }
            None => {
                dst_internet.extend(mapped.iter().map(|p| (*p, k)));
                dst_internet.extend(v6.map(|p| (p, k)));
            }
        }
    }
    // IPv6 outside global unicast (unique local addresses, fc00::/7) is not routed on the
    // internet (§4.4; `Walker::internet_side` says so in a query).
    let global = walk::global_v6();
    let mut dst_internet: Vec<(Interval, usize)> = dst_internet
        .into_iter()
        .flat_map(|(iv, k)| {
            let parts: Vec<Interval> = if packet::is_v4(iv.0) {
                vec![iv]
            } else {
                global
                    .iter()
                    .filter(|g| g.0 <= iv.1 && iv.0 <= g.1)
                    .map(|g| (iv.0.max(g.0), iv.1.min(g.1)))
                    .collect()
            };
            parts.into_iter().map(move |p| (p, k))
        })
        .collect();
    dst.sort();
    dst_internet.sort();
    dst_internet.dedup();
    ClassInfo {
        subnet: &first.subnet_id,
        vpc: &first.vpc_id,
        app,
        groups: groups.to_vec(),
        set_id,
        vpc_ix: 0,
        bucket: 0,
        filtered: first.filtered_by_sgs,
        virtual_node: first.virtual_node,
        kind: first.kind,
        lb,
        listeners: Arc::default(),
        src: packet::merge(src),
        dst,
        dst_internet,
        ingress: ingress.clone(),
        egress: egress.clone(),
        serves: walk::endpoint_protocols(m, first).map(|(p, _)| p),
        hosts,
    }
}

/// One result per (origin, class, entry): traffic and members merged.
fn merge_reaches(mut v: Vec<Reach>) -> Vec<Reach> {
    // A stable sort (in parallel) then one pass: reaches of one key are joined in the order
    // they came, as a map filled in that order would join them.
    v.par_sort_by(|a, b| (&a.origin, a.class, &a.entry).cmp(&(&b.origin, b.class, &b.entry)));
    let mut out: Vec<Reach> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last)
                if last.class == r.class && last.entry == r.entry && last.origin == r.origin =>
            {
                last.traffic = last.traffic.union(&r.traffic);
                last.members.extend(r.members);
            }
            _ => out.push(Reach {
                traffic: r.traffic.into_compact(),
                ..r
            }),
        }
    }
    out.par_iter_mut().for_each(|r| {
        r.members.sort_unstable();
        r.members.dedup();
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The packets a `Sourced` set stands for.
    fn expand(x: &Sourced) -> PacketSet {
        PacketSet::from_boxes(
            x.iter()
                .flat_map(|(k, s)| s.ivs.iter().map(|iv| k.with(Dim::Src, *iv)))
                .collect::<Vec<_>>(),
        )
    }

    fn same(a: &PacketSet, b: &PacketSet) -> bool {
        a.subtract(b).is_empty() && b.subtract(a).is_empty()
    }

    /// A box of small intervals; sources within `src`.
    fn boxes(src: (u128, u128)) -> impl Strategy<Value = Vec<PBox>> {
        let iv = |lo: u128, hi: u128| (lo..=hi, lo..=hi).prop_map(|(a, b)| (a.min(b), a.max(b)));
        proptest::collection::vec(
            (
                prop_oneof![Just((6, 6)), Just((17, 17)), Just((0, 255))],
                iv(src.0, src.1),
                iv(0, 40),
                iv(0, 40),
            )
                .prop_map(|(p, s, d, port)| {
                    PBox::FULL
                        .with(Dim::Proto, p)
                        .with(Dim::Src, s)
                        .with(Dim::Dst, d)
                        .with(Dim::DstPort, port)
                }),
            0..6,
        )
    }

    /// A union made again from the same allocations, in any order, is the one made first;
    /// equal sets in other allocations are joined anew, to an equal (interned) set.
    #[test]
    fn unions_are_remembered_by_allocation() {
        let (a, b) = (
            Arc::new(AppSet::from_indices([1, 2, 3])),
            Arc::new(AppSet::from_indices([7, 9])),
        );
        let mut interned = Interned::default();
        let first = union_interned(&mut interned, vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(*first, AppSet::from_indices([1, 2, 3, 7, 9]));
        let again = union_interned(&mut interned, vec![b.clone(), a.clone(), b.clone()]).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let copy = Arc::new(AppSet::from_indices([7, 9]));
        let other = union_interned(&mut interned, vec![a.clone(), copy]).unwrap();
        assert!(Arc::ptr_eq(&first, &other));
        assert_eq!(interned.unions.len(), 2);
        let alone = union_interned(&mut interned, vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(*alone, *a);
        assert!(union_interned(&mut interned, Vec::new()).is_none());
    }

    proptest! {
        /// Joining the sets of several source VPCs by shape keeps their packets, and
        /// intersecting by shape is intersecting the packets.
        #[test]
        fn sourced_sets_are_the_packets_they_join(
            a in boxes((0, 99)),
            b in boxes((100, 199)),
            c in boxes((200, 299)),
            filter in boxes((0, 299)),
            wide in any::<bool>(),
        ) {
            let per_vpc: Vec<(usize, PacketSet)> = [a, b, c]
                .into_iter()
                .map(PacketSet::from_boxes)
                .enumerate()
                .collect();
            let packed: Vec<(usize, PackedSet)> =
                per_vpc.iter().map(|(v, s)| (*v, s.pack())).collect();
            let layers = Layers {
                of: (0..3).map(|v| (v, 0)).collect(),
                buckets: vec![vec![0]],
                senders: HashMap::default(),
                spans: Default::default(),
            };
            let joined = layers.factor(&packed);
            prop_assert!(joined.len() <= 1);
            let all = per_vpc
                .iter()
                .fold(PacketSet::empty(), |u, (_, s)| u.union(s));
            let x = joined.into_iter().next().map(|(_, x)| x).unwrap_or_default();
            prop_assert!(same(&expand(&x), &all));
            // A filter whose sources are everything (as egress rules are) or cut.
            let filter = PacketSet::from_boxes(
                filter
                    .into_iter()
                    .map(|f| if wide { f.with(Dim::Src, ALL_ADDRS) } else { f })
                    .collect::<Vec<_>>(),
            );
            prop_assert!(same(&expand(&sourced_intersect(&x, &filter)), &all.intersect(&filter)));
        }

        /// A list of addresses resolves to the applications of the senders whose addresses
        /// it meets.
        #[test]
        fn resolving_finds_every_sender_met(
            senders in proptest::collection::vec(((0u128..300, 0u128..20), 0u32..5, 0usize..2), 0..12),
            srcs in proptest::collection::vec((0u128..300, 0u128..30), 1..6),
        ) {
            // Senders in two buckets, both in the list resolved.
            let in_bucket = |b: usize| -> Vec<(Interval, u32)> {
                senders
                    .iter()
                    .filter(|s| s.2 == b)
                    .map(|&((lo, len), app, _)| ((lo, lo + len), app))
                    .collect()
            };
            let spans: Vec<(Interval, u32)> = [in_bucket(0), in_bucket(1)].concat();
            let layers = Layers {
                of: HashMap::default(),
                buckets: vec![vec![0, 1]],
                senders: [((0, 0), in_bucket(0)), ((0, 1), in_bucket(1))].into_iter().collect(),
                spans: Default::default(),
            };
            let mut ctx = Ctx::new();
            ctx.bucket_lists.push(vec![0, 1]);
            let srcs = Srcs::new(packet::merge(srcs.iter().map(|&(lo, len)| (lo, lo + len)).collect()));
            let want = AppSet::from_indices(
                spans
                    .iter()
                    .filter(|(iv, _)| overlaps_any(*iv, &srcs.ivs))
                    .map(|(_, app)| *app),
            );
            let got = layers.resolve(0, 0, &srcs, &mut ctx);
            prop_assert_eq!(got.as_deref().cloned().unwrap_or_default(), want.clone());
            // Memoised: the same answer again.
            let again = layers.resolve(0, 0, &srcs, &mut ctx);
            prop_assert_eq!(again.as_deref().cloned().unwrap_or_default(), want);
        }
    }
}
