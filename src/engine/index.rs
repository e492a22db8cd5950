//! Lookup structures built once per model: hosts (things that send and
//! receive: ENIs and load-balancer nodes whose ENIs the snapshot lacks),
//! security-group membership, and public-address mappings.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rayon::prelude::*;

use super::packet::{addr_interval, encode, merge, net_intervals, Dim, Interval, PBox, PacketSet};
use crate::model::*;

/// A hash map with a fast, fixed hasher (deterministic: nothing iterates these maps in an
/// order that reaches the output).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// Something that sends or receives packets.
#[derive(Debug, Clone)]
pub struct Host {
    /// The ENI id, or `<lb name>@<subnet>` for a load-balancer node without an ENI in the snapshot.
    pub id: String,
    /// A human name.
    pub name: String,
    /// What owns it.
    pub kind: OwnerKind,
    /// The owner's id (instance id, LB ARN, ...).
    pub owner_id: Option<String>,
    /// Subnet.
    pub subnet_id: String,
    /// VPC.
    pub vpc_id: String,
    /// Availability zone.
    pub az: Option<String>,
    /// Security groups (empty for NAT gateways and TGW ENIs: no SG filtering).
    pub groups: Vec<String>,
    /// Whether security groups filter this host at all.
    pub filtered_by_sgs: bool,
    /// Private addresses (encoded intervals).
    pub private: Vec<Interval>,
    /// Public IPv4 address ↔ private address pairs (encoded).
    pub public_v4: Vec<(u128, u128)>,
    /// Whether the host's address is only known as its subnet (an LB node without ENI).
    pub virtual_node: bool,
    /// Its primary private IPv4 address and its IPv6 addresses: the address a load balancer
    /// sends an instance target's traffic to. As a source, a host sends from every address it
    /// holds ([`Self::private`]: secondary addresses and delegated prefixes too, which the
    /// OS, or the containers behind the interface, may use).
    pub source: Vec<Interval>,
}

/// Lookups over a model (borrowing it: the hot lookups hand out the model's own records).
#[derive(Debug, Default)]
pub struct Index<'m> {
    /// Hosts by id.
    pub hosts: BTreeMap<String, Host>,
    /// Host ids per VPC.
    pub hosts_by_vpc: BTreeMap<String, Vec<String>>,
    /// Subnet ids per VPC, with each subnet's addresses (IPv4 and IPv6 CIDRs, encoded).
    pub subnets_by_vpc: BTreeMap<String, Vec<(String, Vec<Interval>)>>,
    /// ENIs per security group.
    pub members: BTreeMap<String, Vec<String>>,
    /// Public IPv4 (encoded) → (host id, private address encoded).
    pub public: BTreeMap<u128, (String, u128)>,
    /// Every private address interval of every interface (single addresses, and ranges such
    /// as consecutive secondary addresses or delegated prefixes), by VPC: start → (end, host
    /// id). Interfaces of one VPC never share addresses, so a VPC's intervals are disjoint;
    /// VPCs may overlap (the same address in two VPCs that are not peered with each other).
    pub by_start: BTreeMap<String, BTreeMap<u128, (u128, String)>>,
    /// The listeners (ARNs, in listener order) that forward to each host: an instance target
    /// is its primary ENI; an IP target is the interface holding exactly that address.
    pub forwarding: BTreeMap<String, Vec<String>>,
    /// The ports each listener forwards to each host at, by (host, listener ARN): a target's
    /// own port, else its group's.
    pub forwarded_ports: BTreeMap<(String, String), Vec<u16>>,
    /// Load-balancer nodes known only by their subnet, per VPC.
    pub virtual_by_vpc: BTreeMap<String, Vec<String>>,
    /// The prefix lists (sorted) that some route table routes and whose entries the snapshot
    /// lacks (a query answers both ways, [`super::query::run_indexed`]).
    pub unknown_route_lists: Vec<String>,
    /// Each subnet's network ACL and route table (explicit association, else the VPC's
    /// default NACL / main route table), as `Model::subnet_nacl` / `subnet_route_table` find them.
    /// (A hash map of the model's records: the network walks look it up for every subnet they
    /// enter.)
    pub subnet_tables: HashMap<&'m str, (Option<&'m NetworkAcl>, Option<&'m RouteTable>)>,
    /// Subnets by id (as `Model::subnets`, hashed: the walks look subnets up at every step).
    subnets: HashMap<&'m str, &'m Subnet>,
    /// Each VPC's addresses (its IPv4 and IPv6 CIDR blocks, encoded and merged).
    vpc_addrs: HashMap<&'m str, Vec<Interval>>,
    /// The subnets some transit gateway attachment of their own VPC uses.
    attachment_subnets: std::collections::HashSet<&'m str, foldhash::fast::FixedState>,
    /// Transit gateway attachments by gateway, then attachment id (as
    /// `Model::tgw_attachment`, without building its key).
    tgw_attachments: HashMap<&'m str, HashMap<&'m str, &'m TgwAttachment>>,
    /// Transit gateway route tables as longest-prefix maps, by route table id.
    pub tgw_routes: BTreeMap<String, super::filters::TgwRoutes>,
    /// The reachability graph; the walk follows its routing edges.
    pub graph: super::graph::ReachGraph,
    /// Host ids by name ([`Self::hosts_named`]), built on first use: only queries need it.
    by_name: std::sync::OnceLock<BTreeMap<String, Vec<String>>>,
    /// Each NACL compiled lazily for each check (indexed by `NaclCheck as usize`).
    nacl_tables: HashMap<&'m str, [std::sync::OnceLock<super::filters::CompiledNacl>; 4]>,
    /// Memo of `group_members` (group, rule VPC, inbound, way).
    member_cache: std::sync::Mutex<std::collections::HashMap<MemberKey, Vec<Interval>>>,
}

impl Host {
    /// The host an interface is.
    fn of_interface(e: &NetworkInterface) -> Host {
        // Its addresses, and the delegated prefixes it holds (their addresses are the
        // containers' behind it).
        let mut private: Vec<Interval> = e.private_addrs().map(addr_interval).collect();
        private.extend(e.prefixes.iter().flat_map(net_intervals));
        private = merge(private);
        let public_v4: Vec<(u128, u128)> = e
            .private_ips
            .iter()
            .filter_map(|p| {
                p.public
                    .map(|pub_ip| (encode(IpAddr::V4(pub_ip)), encode(IpAddr::V4(p.address))))
            })
            .collect();
        // NAT gateways, TGW attachments and GWLB endpoints have no security groups; neither has
        // an NLB created without them.
        let no_sgs = matches!(
            e.owner.kind,
            OwnerKind::NatGateway | OwnerKind::TransitGateway | OwnerKind::GwlbEndpoint
        ) || (e.owner.kind == OwnerKind::LoadBalancer && e.groups.is_empty());
        let filtered_by_sgs = !no_sgs;
        Host {
            id: e.id.clone(),
            name: e.display_name(),
            kind: e.owner.kind,
            owner_id: e.owner.id.clone(),
            subnet_id: e.subnet_id.clone(),
            vpc_id: e.vpc_id.clone(),
            az: e.az.clone(),
            groups: e.groups.clone(),
            filtered_by_sgs,
            private,
            public_v4,
            virtual_node: false,
            source: e
                .primary_ip()
                .map(|a| addr_interval(IpAddr::V4(a)))
                .into_iter()
                .chain(e.ipv6.iter().map(|a| addr_interval(IpAddr::V6(*a))))
                .collect(),
        }
    }
}

/// Appends `item` to `key`'s list, copying the key only when it is new.
fn push_to(map: &mut BTreeMap<String, Vec<String>>, key: &str, item: String) {
    match map.get_mut(key) {
        Some(list) => list.push(item),
        None => {
            map.insert(key.to_string(), vec![item]);
        }
    }
}

impl Host {
    /// Whether a load balancer node in this host's zone is in another zone than `target`
    /// (cross-zone load balancing, §5.1). A node whose ENI is not in the snapshot is placed in
    /// its subnet's zone; it is in another zone only when both zones are known.
    pub fn in_another_zone_than(&self, target: &Host) -> bool {
        if self.virtual_node {
            matches!((&self.az, &target.az), (Some(a), Some(b)) if a != b)
        } else {
            self.az != target.az
        }
    }
}

impl<'m> Index<'m> {
    /// Builds the index.
    pub fn new(m: &'m Model) -> Index<'m> {
        let mut idx = Index::default();
        let mut nacl_of: BTreeMap<&str, &str> = BTreeMap::new();
        let mut default_nacl: BTreeMap<&str, &str> = BTreeMap::new();
        for n in m.network_acls.values() {
            for s in &n.subnet_ids {
                nacl_of.entry(s.as_str()).or_insert(n.id.as_str());
            }
            if n.is_default {
                default_nacl
                    .entry(n.vpc_id.as_str())
                    .or_insert(n.id.as_str());
            }
        }
        let mut rt_of: BTreeMap<&str, &str> = BTreeMap::new();
        let mut main_rt: BTreeMap<&str, &str> = BTreeMap::new();
        for rt in m.route_tables.values() {
            for s in &rt.subnet_ids {
                rt_of.entry(s.as_str()).or_insert(rt.id.as_str());
            }
            if rt.is_main {
                main_rt.entry(rt.vpc_id.as_str()).or_insert(rt.id.as_str());
            }
        }
        let mut subnet_tables: HashMap<_, _> = HashMap::default();
        for sub in m.subnets.values() {
            let nacl = nacl_of
                .get(sub.id.as_str())
                .or_else(|| default_nacl.get(sub.vpc_id.as_str()))
                .and_then(|x| m.network_acls.get(*x));
            let rt = rt_of
                .get(sub.id.as_str())
                .or_else(|| main_rt.get(sub.vpc_id.as_str()))
                .and_then(|x| m.route_tables.get(*x));
            subnet_tables.insert(sub.id.as_str(), (nacl, rt));
        }
        // The reachability graph is built on one core while the rest of the index is built on
        // the other (on l the rest, mostly the hosts' ordered maps, takes about 0.3 s; the
        // graph, its route partitions in parallel, less).
        let route_table = |s: &str| subnet_tables.get(s).and_then(|(_, rt)| *rt);
        let (graph, ()) = rayon::join(
            || super::graph::ReachGraph::build(m, route_table),
            || idx.add_the_rest(m),
        );
        idx.graph = graph;
        idx.subnet_tables = subnet_tables;
        idx
    }

    /// Everything [`Self::new`] indexes but the reachability graph and the subnets' tables.
    fn add_the_rest(&mut self, m: &'m Model) {
        let idx = self;
        // The interfaces' hosts are built in parallel; their maps (what `Self::add` fills) are
        // built on one core while the groups' members are listed on the other, each key copied
        // once (on l the maps took about 0.3 s on one core).
        let built: Vec<Host> = m
            .network_interfaces
            .par_iter()
            .map(|(_, e)| Host::of_interface(e))
            .collect();
        let (members, (public, by_start, hosts_by_vpc, hosts)) = rayon::join(
            || {
                let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for e in m.network_interfaces.values() {
                    for g in &e.groups {
                        push_to(&mut members, g, e.id.clone());
                    }
                }
                members
            },
            || {
                let mut public = BTreeMap::new();
                let mut by_start = BTreeMap::new();
                let mut hosts_by_vpc: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for host in &built {
                    // An interface's host is never a virtual node (`Host::of_interface`).
                    for (p, private) in &host.public_v4 {
                        public.insert(*p, (host.id.clone(), *private));
                    }
                    let in_vpc: &mut BTreeMap<u128, (u128, String)> =
                        by_start.entry(host.vpc_id.clone()).or_default();
                    for (a, b) in &host.private {
                        in_vpc.insert(*a, (*b, host.id.clone()));
                    }
                    push_to(&mut hosts_by_vpc, &host.vpc_id, host.id.clone());
                }
                // In id order already (the model's map is), so built in one pass.
                let hosts: BTreeMap<String, Host> =
                    built.into_iter().map(|h| (h.id.clone(), h)).collect();
                (public, by_start, hosts_by_vpc, hosts)
            },
        );
        (idx.members, idx.public, idx.by_start) = (members, public, by_start);
        (idx.hosts_by_vpc, idx.hosts) = (hosts_by_vpc, hosts);
        // §5 / build notes: a load balancer sits in the subnets of its AvailabilityZones whether or
        // not the snapshot holds its ENIs; nodes without an ENI get their subnet as address.
        // (load balancer, subnet) pairs that have an ENI in the snapshot (one pass over the
        // interfaces, not one per load balancer).
        let mut lb_enis: BTreeSet<(&str, &str)> = BTreeSet::new();
        for e in m.network_interfaces.values() {
            if let (OwnerKind::LoadBalancer, Some(arn)) = (e.owner.kind, e.owner.id.as_deref()) {
                lb_enis.insert((arn, e.subnet_id.as_str()));
            }
        }
        for lb in m.load_balancers.values() {
            for s in &lb.subnet_ids {
                if lb_enis.contains(&(lb.arn.as_str(), s.as_str())) {
                    continue;
                }
                let Some(subnet) = m.subnets.get(s) else {
                    continue;
                };
                let mut private: Vec<Interval> = subnet
                    .cidr_v4
                    .iter()
                    .flat_map(|c| net_intervals(&ipnet::IpNet::V4(*c)))
                    .collect();
                if lb.dualstack {
                    private.extend(
                        subnet
                            .cidrs_v6
                            .iter()
                            .flat_map(|c| net_intervals(&ipnet::IpNet::V6(*c))),
                    );
                }
                // The node's address is one no interface holds (§5): the subnet's addresses
                // less those of its interfaces, the sender's own included, and less the five
                // each subnet CIDR block reserves, IPv4 and IPv6 alike (its first four and its
                // last: Amazon VPC User Guide, "Subnet CIDR blocks").
                let mut held: Vec<Interval> = idx
                    .ids_holding_in(&subnet.vpc_id, &private)
                    .into_iter()
                    .filter_map(|id| idx.hosts.get(id))
                    .flat_map(|h| h.private.iter().copied())
                    .collect();
                held.extend(
                    private
                        .iter()
                        .flat_map(|&(first, last)| [(first, last.min(first + 3)), (last, last)]),
                );
                let mut private = PacketSet::from_box(PBox::FULL)
                    .restrict(Dim::Dst, &private)
                    .exclude(Dim::Dst, &held)
                    .project(Dim::Dst);
                // A Network Load Balancer lists the addresses of its nodes it was given
                // (`LoadBalancerAddresses`): a chosen private IPv4 or IPv6 address is the
                // node's, an Elastic IP its public address (§5, §8), mapped to the node's
                // private address, or to the first its range leaves (NACLs and groups on the
                // way in match the client, not that address; inside the subnet it is local).
                let given = lb.node_addresses.get(s);
                if let Some(a) = given {
                    let keep = |p: &mut Vec<Interval>, v4: bool, with: Option<Interval>| {
                        if let Some(x) = with {
                            p.retain(|iv| super::packet::is_v4(iv.0) != v4);
                            p.push(x);
                            p.sort_unstable();
                        }
                    };
                    let v4 = a.private_v4.map(|x| super::packet::addr_interval(x.into()));
                    let v6 = a
                        .ipv6
                        .filter(|_| lb.dualstack)
                        .map(|x| super::packet::addr_interval(x.into()));
                    keep(&mut private, true, v4);
                    keep(&mut private, false, v6);
                }
                let public_v4: Vec<(u128, u128)> = given
                    .and_then(|a| a.public_v4)
                    .filter(|_| lb.internet_facing)
                    .and_then(|e| {
                        let to = private.iter().find(|iv| super::packet::is_v4(iv.0))?.0;
                        Some((super::packet::addr_interval(e.into()).0, to))
                    })
                    .into_iter()
                    .collect();
                let host = Host {
                    id: format!("{}@{}", lb.name, s),
                    name: lb.name.clone(),
                    kind: OwnerKind::LoadBalancer,
                    owner_id: Some(lb.arn.clone()),
                    subnet_id: s.clone(),
                    vpc_id: subnet.vpc_id.clone(),
                    az: subnet.az.clone(),
                    groups: lb.security_groups.clone(),
                    filtered_by_sgs: !lb.security_groups.is_empty(),
                    source: private.clone(),
                    private,
                    public_v4,
                    virtual_node: true,
                };
                // The node's ENI (not in the snapshot) holds the load balancer's groups, but
                // its address range is shared with any other such node of the subnet: a
                // reference to those groups is matched by identity, not by address
                // (`walk::Walker::leave_host`, `allpairs::allowed`), so the node is not in
                // `members`.
                idx.add(host);
            }
        }
        for sub in m.subnets.values() {
            idx.subnets_by_vpc
                .entry(sub.vpc_id.clone())
                .or_default()
                .push((sub.id.clone(), subnet_intervals(sub)));
        }
        idx.subnets = m.subnets.iter().map(|(k, v)| (k.as_str(), v)).collect();
        idx.vpc_addrs = m
            .vpcs
            .keys()
            .map(|v| {
                let cidrs = m.vpc_cidrs(v);
                (
                    v.as_str(),
                    merge(cidrs.iter().flat_map(net_intervals).collect()),
                )
            })
            .collect();
        for att in m.tgw_attachments.values() {
            for s in &att.subnet_ids {
                if idx
                    .subnets
                    .get(s.as_str())
                    .is_some_and(|x| x.vpc_id == att.resource_id)
                {
                    idx.attachment_subnets.insert(s.as_str());
                }
            }
        }
        for (key, att) in &m.tgw_attachments {
            // The key is `tgw/attachment` (`tgw_attachment_key`); gateway ids hold no `/`.
            if let Some((tgw, id)) = key.split_once('/') {
                idx.tgw_attachments.entry(tgw).or_default().insert(id, att);
            }
        }
        for rt in m.tgw_route_tables.values() {
            idx.tgw_routes
                .insert(rt.id.clone(), super::filters::tgw_routes(m, rt));
        }
        idx.nacl_tables = m
            .network_acls
            .keys()
            .map(|id| (id.as_str(), Default::default()))
            .collect();
        (idx.forwarding, idx.forwarded_ports) = forwarding(m, idx);
        idx.unknown_route_lists = m
            .lists_of_unknown_entries(m.routed_prefix_lists())
            .into_iter()
            .map(str::to_string)
            .collect();
    }

    /// The ids (sorted) of the hosts a query may call `name`: by the owner instance's or the
    /// interface's `Name` tag, and, for hosts not of a load balancer, by the owner id or the
    /// host name. Virtual load-balancer nodes are left out. The names are indexed on first use.
    pub fn hosts_named(&self, m: &Model, name: &str) -> &[String] {
        let by_name = self.by_name.get_or_init(|| {
            let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for h in self.hosts.values().filter(|h| !h.virtual_node) {
                let instance = h.owner_id.as_ref().and_then(|o| m.instances.get(o));
                let eni = m.network_interfaces.get(&h.id);
                let mut names: Vec<&str> = Vec::new();
                names.extend(instance.and_then(|i| name_tag(&i.tags)));
                names.extend(eni.and_then(|e| name_tag(&e.tags)));
                if h.kind != OwnerKind::LoadBalancer {
                    names.extend(h.owner_id.as_deref());
                    names.push(&h.name);
                }
                names.sort_unstable();
                names.dedup();
                for n in names {
                    // Hosts are visited in id order, so each list is sorted.
                    by_name.entry(n.to_string()).or_default().push(h.id.clone());
                }
            }
            by_name
        });
        by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Filters packets through a NACL (as [`super::filters::nacl`]), with the NACL compiled
    /// once per check and kept. The allowing rules are listed only `with_rules`.
    pub fn nacl_filter(
        &self,
        acl: Option<&NetworkAcl>,
        set: &PacketSet,
        check: super::filters::NaclCheck,
        with_rules: bool,
    ) -> (PacketSet, Vec<u32>) {
        match acl.and_then(|a| Some((a, self.nacl_tables.get(a.id.as_str())?))) {
            Some((a, slots)) => slots[check as usize]
                .get_or_init(|| super::filters::CompiledNacl::new(a, check))
                .filter(set, with_rules),
            None => super::filters::nacl(acl, set, check),
        }
    }

    /// The network ACL a subnet uses (as [`Model::subnet_nacl`], without scanning; none for a
    /// subnet not in the model).
    pub fn subnet_nacl(&self, subnet: &str) -> Option<&'m NetworkAcl> {
        self.subnet_tables.get(subnet).and_then(|(nacl, _)| *nacl)
    }

    /// The route table a subnet uses (as [`Model::subnet_route_table`], without scanning; none for a
    /// subnet not in the model).
    pub fn subnet_route_table(&self, subnet: &str) -> Option<&'m RouteTable> {
        self.subnet_tables.get(subnet).and_then(|(_, rt)| *rt)
    }

    /// A subnet by id (as `Model::subnets`, without a search of the ordered map).
    pub fn subnet(&self, id: &str) -> Option<&'m Subnet> {
        self.subnets.get(id).copied()
    }

    /// A VPC's addresses (as `Model::vpc_cidrs`, encoded and merged; none for a VPC not in
    /// the snapshot).
    pub fn vpc_intervals(&self, vpc: &str) -> &[Interval] {
        self.vpc_addrs.get(vpc).map_or(&[], Vec::as_slice)
    }

    /// Whether a transit gateway attachment of the subnet's VPC uses the subnet.
    pub fn is_attachment_subnet(&self, subnet_id: &str) -> bool {
        self.attachment_subnets.contains(subnet_id)
    }

    /// A transit gateway's attachment (as [`Model::tgw_attachment`], without building a key).
    pub fn tgw_attachment(&self, tgw: &str, id: &str) -> Option<&'m TgwAttachment> {
        self.tgw_attachments.get(tgw)?.get(id).copied()
    }

    /// The longest-prefix map of a transit gateway route table.
    pub fn tgw_table(
        &self,
        m: &Model,
        rt: &TgwRouteTable,
    ) -> std::borrow::Cow<'_, super::filters::TgwRoutes> {
        match self.tgw_routes.get(&rt.id) {
            Some(r) => std::borrow::Cow::Borrowed(r),
            None => std::borrow::Cow::Owned(super::filters::tgw_routes(m, rt)),
        }
    }

    fn add(&mut self, host: Host) {
        for (public, private) in &host.public_v4 {
            self.public.insert(*public, (host.id.clone(), *private));
        }
        if host.virtual_node {
            self.virtual_by_vpc
                .entry(host.vpc_id.clone())
                .or_default()
                .push(host.id.clone());
        } else {
            let in_vpc = self.by_start.entry(host.vpc_id.clone()).or_default();
            for (a, b) in &host.private {
                in_vpc.insert(*a, (*b, host.id.clone()));
            }
        }
        self.hosts_by_vpc
            .entry(host.vpc_id.clone())
            .or_default()
            .push(host.id.clone());
        self.hosts.insert(host.id.clone(), host);
    }

    /// Private addresses that a security-group reference to `group` matches, for a rule of a
    /// group in `rule_vpc` (§1.3: same VPC, an active same-region peering, or — inbound only —
    /// VPCs on a TGW with referencing enabled on the TGW and both attachments), for packets
    /// that crossed between VPCs `way` ([`reference_applies`]).
    pub fn group_members(
        &self,
        m: &Model,
        group: &str,
        rule_vpc: &str,
        inbound: bool,
        way: Way,
    ) -> Vec<Interval> {
        let key = (group.to_string(), rule_vpc.to_string(), inbound, way);
        if let Some(hit) = self
            .member_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return hit.clone();
        }
        let mut out = Vec::new();
        for eni_id in self.members.get(group).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(h) = self.hosts.get(eni_id) else {
                continue;
            };
            if reference_applies(m, &h.vpc_id, rule_vpc, inbound, way) {
                out.extend(h.private.iter().copied());
            }
        }
        let out = merge(out);
        self.member_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, out.clone());
        out
    }

    /// Ids of the interfaces (of any VPC) holding an address in `ivs`, sorted.
    pub fn ids_holding(&self, ivs: &[Interval]) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for in_vpc in self.by_start.values() {
            holding_in(in_vpc, ivs, &mut ids);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Ids of the interfaces of `vpc` holding an address in `ivs`, sorted.
    pub fn ids_holding_in(&self, vpc: &str, ivs: &[Interval]) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        if let Some(in_vpc) = self.by_start.get(vpc) {
            holding_in(in_vpc, ivs, &mut ids);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The interfaces holding one address (a single address or one inside a range, such as a
    /// secondary address next to the primary or a delegated prefix): one per VPC at most.
    pub fn holders_of(&self, addr: Interval) -> Vec<&Host> {
        self.vpc_holders_any(&[addr])
            .into_iter()
            .filter(|h| h.private.iter().any(|p| p.0 <= addr.0 && addr.1 <= p.1))
            .collect()
    }

    /// The interface holding one address: the one in `vpc` when there is one there, else the
    /// first (by id) of another VPC.
    pub fn holder_of(&self, vpc: Option<&str>, addr: Interval) -> Option<&Host> {
        let holders = self.holders_of(addr);
        holders
            .iter()
            .find(|h| Some(h.vpc_id.as_str()) == vpc)
            .or(holders.first())
            .copied()
    }

    /// The interfaces (of any VPC) holding an address in `ivs`, by id.
    pub fn vpc_holders_any(&self, ivs: &[Interval]) -> Vec<&Host> {
        self.ids_holding(ivs)
            .into_iter()
            .filter_map(|id| self.hosts.get(id))
            .collect()
    }

    /// The hosts of a VPC that hold an address in `ivs` (looked up by address), in the VPC's
    /// order: interfaces by id, then — with `virtual_nodes` —
    /// the load-balancer nodes known only by their subnet.
    pub fn vpc_holders(&self, vpc: &str, ivs: &[Interval], virtual_nodes: bool) -> Vec<&Host> {
        let mut out: Vec<&Host> = self
            .ids_holding_in(vpc, ivs)
            .into_iter()
            .filter_map(|id| self.hosts.get(id))
            .filter(|h| !h.virtual_node)
            .collect();
        if virtual_nodes {
            out.extend(
                self.virtual_by_vpc
                    .get(vpc)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| self.hosts.get(id)),
            );
        }
        out
    }

    /// The load-balancer nodes known only by their subnet, in a fixed order.
    pub fn virtual_nodes(&self) -> impl Iterator<Item = &Host> {
        self.virtual_by_vpc
            .values()
            .flatten()
            .filter_map(|id| self.hosts.get(id))
    }

    /// The hosts holding a private address (one per VPC at most).
    pub fn hosts_by_private(&self, ip: IpAddr) -> Vec<&Host> {
        self.holders_of(addr_interval(ip))
    }

    /// The hosts of a VPC.
    pub fn vpc_hosts(&self, vpc: &str) -> impl Iterator<Item = &Host> {
        self.hosts_by_vpc
            .get(vpc)
            .into_iter()
            .flatten()
            .filter_map(|id| self.hosts.get(id))
    }

    /// Every host of a load balancer.
    pub fn lb_hosts(&self, lb_arn: &str) -> Vec<&Host> {
        self.hosts
            .values()
            .filter(|h| h.kind == OwnerKind::LoadBalancer && h.owner_id.as_deref() == Some(lb_arn))
            .collect()
    }
}

/// Pushes the ids of one VPC's intervals that overlap `ivs`. The intervals are disjoint and
/// sorted by start: those overlapping an interval are the last ones starting at or before its
/// end, back to the first that ends before it.
fn holding_in<'a>(
    in_vpc: &'a BTreeMap<u128, (u128, String)>,
    ivs: &[Interval],
    ids: &mut Vec<&'a str>,
) {
    for iv in ivs {
        for (_, (end, hid)) in in_vpc.range(..=iv.1).rev() {
            if *end < iv.0 {
                break;
            }
            ids.push(hid.as_str());
        }
    }
}

/// The listeners that forward to each host, and at which ports (see [`Index::forwarding`],
/// [`Index::forwarded_ports`]).
type Forwarding = (
    BTreeMap<String, Vec<String>>,
    BTreeMap<(String, String), Vec<u16>>,
);

fn forwarding(m: &Model, idx: &Index) -> Forwarding {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ports: BTreeMap<(String, String), Vec<u16>> = BTreeMap::new();
    for l in m.listeners.values() {
        let mut hosts: Vec<String> = Vec::new();
        for tg in l.target_groups().filter_map(|tg| m.target_groups.get(tg)) {
            for t in &tg.targets {
                let host = match tg.target_type {
                    TargetType::Instance => m
                        .instances
                        .get(&t.id)
                        .and_then(|i| i.eni_ids.first())
                        .filter(|e| {
                            idx.hosts
                                .get(*e)
                                .is_some_and(|h| h.owner_id.as_deref() == Some(t.id.as_str()))
                        })
                        .cloned(),
                    TargetType::Ip => t.id.parse::<IpAddr>().ok().and_then(|ip| {
                        let a = addr_interval(ip);
                        idx.holder_of(tg.vpc_id.as_deref(), a).map(|h| h.id.clone())
                    }),
                    _ => None,
                };
                if let (Some(h), Some(p)) = (&host, t.port.or(tg.port)) {
                    ports.entry((h.clone(), l.arn.clone())).or_default().push(p);
                }
                hosts.extend(host);
            }
        }
        hosts.sort();
        hosts.dedup();
        for h in hosts {
            out.entry(h).or_default().push(l.arn.clone());
        }
    }
    for p in ports.values_mut() {
        p.sort_unstable();
        p.dedup();
    }
    (out, ports)
}

/// A subnet's addresses: its IPv4 CIDR and IPv6 CIDRs, encoded and merged.
pub fn subnet_intervals(sub: &Subnet) -> Vec<Interval> {
    merge(
        sub.cidr_v4
            .iter()
            .map(|c| ipnet::IpNet::V4(*c))
            .chain(sub.cidrs_v6.iter().map(|c| ipnet::IpNet::V6(*c)))
            .flat_map(|n| net_intervals(&n))
            .collect(),
    )
}

/// The key of [`Index::group_members`]'s memo: group, rule VPC, inbound, way.
type MemberKey = (String, String, bool, Way);

/// How a packet crossed between VPCs, which decides which group references it can match
/// (§1.3). A reference is carried by the way the packet takes, not by every connection the
/// two VPCs have: a peering carries references to the peer's groups, a transit gateway with
/// referencing enabled carries them (inbound rules only), and nothing else does — as a
/// middlebox on the way breaks a reference (VPC Peering Guide, "Update your security groups
/// to reference peer security groups"), and a transit gateway carries none unless the
/// feature is enabled (Transit Gateway Guide: before it, peering "was the only option that
/// supported security group referencing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Way {
    /// Not known, or not a packet's way (the findings, which ask about rules): a reference
    /// applies where any connection of the two VPCs could carry it.
    Any,
    /// Over a peering connection.
    Peering,
    /// Within the VPC, or through one transit gateway with security-group referencing
    /// enabled on it and on the attachments the packets entered and left it by.
    Other,
    /// Through transit gateways that carry no reference: one without referencing (on it or
    /// on either attachment), or several (referencing does not work across transit gateway
    /// peering). Only references to the receiving VPC's own groups match.
    Bare,
}

/// Whether packets that crossed transit gateways `chain` (each gateway with the attachment
/// they entered it by), leaving the last by `exit_attachment`, carry security-group
/// references: one gateway with referencing enabled on it and on both attachments (§1.3).
pub fn tgw_carries_references(
    m: &Model,
    chain: &[(String, String)],
    exit_attachment: &str,
) -> bool {
    let [(tgw, entry)] = chain else {
        return false;
    };
    let on = |id: &str| m.tgw_attachment(tgw, id).is_some_and(|a| a.sg_referencing);
    m.transit_gateways
        .get(tgw)
        .is_some_and(|t| t.sg_referencing)
        && on(entry)
        && on(exit_attachment)
}

/// Whether a security-group rule of a group in `rule_vpc` that names another group matches
/// that group's members in `member_vpc`, for packets that crossed between the VPCs `way`
/// (§1.3: same VPC; an active same-region peering, the packets crossing it; inbound only,
/// VPCs on a TGW with referencing enabled on the TGW and both attachments, the packets
/// crossing it).
pub fn reference_applies(
    m: &Model,
    member_vpc: &str,
    rule_vpc: &str,
    inbound: bool,
    way: Way,
) -> bool {
    member_vpc == rule_vpc
        || rule_vpc.is_empty()
        || (matches!(way, Way::Any | Way::Peering)
            && m.peering_between(member_vpc, rule_vpc)
                .is_some_and(|p| p.same_region()))
        || (matches!(way, Way::Any | Way::Other)
            && inbound
            && tgw_referencing(m, member_vpc, rule_vpc))
}

/// Whether VPCs `a` and `b` are attached to one transit gateway with security-group
/// referencing enabled on it and on both attachments (§1.3).
pub fn tgw_referencing(m: &Model, a: &str, b: &str) -> bool {
    m.transit_gateways
        .values()
        .filter(|t| t.sg_referencing)
        .any(|t| {
            let on = |vpc: &str| {
                m.tgw_attachments.values().any(|x| {
                    x.tgw_id == t.id
                        && x.kind == TgwAttachmentKind::Vpc
                        && x.resource_id == vpc
                        && x.sg_referencing
                })
            };
            on(a) && on(b)
        })
}
