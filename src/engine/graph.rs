//! The reachability graph: components as nodes, adjacency as edges, each edge
//! carrying the packet set that may cross it (the destination addresses a
//! route table sends that way).
//!
//! The path walk (`walk.rs`) partitions packets by the routing edges of the
//! subnets it crosses ([`ReachGraph::route_partition`]). Interfaces are not
//! nodes: the walk finds them through the index, and evaluates their security
//! groups per flow. The graph `exposure graph` draws is built separately
//! (`render::graph`).

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use super::filters::{self, RouteChoice};
use super::packet::{Dim, PBox, PacketSet};
use crate::model::*;
use rayon::prelude::*;

/// A component of the estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Component id (`internet`, `igw-…`, `subnet-…`, `pcx-…`, `router:vpc-…`, ...).
    pub id: String,
    /// Kind.
    pub kind: &'static str,
    /// Human name.
    pub name: String,
}

/// What may cross an edge.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Why the edge exists (`route 0.0.0.0/0`, `security group`, `attachment`).
    pub label: String,
    /// The packets that may cross.
    pub packets: PacketSet,
    /// For a subnet's routing edges: the route chosen (longest prefix) for these packets.
    pub route: Option<RouteChoice>,
}

/// The reachability graph.
#[derive(Debug, Default)]
pub struct ReachGraph {
    /// The petgraph graph.
    pub graph: StableDiGraph<Node, Edge>,
    /// Node index by component id (hashed: the network walks look subnets up here for every
    /// route partition).
    pub nodes: std::collections::HashMap<String, NodeIndex, foldhash::fast::FixedState>,
    /// Per node (by index), its routing edges as one sorted partition of the address space,
    /// built on first use by [`Self::route_partition`].
    slices: Vec<std::sync::OnceLock<Option<RouteSlices>>>,
}

/// A subnet's routing edges (in edge order) and the address intervals each carries, sorted
/// and disjoint, the addresses no edge carries included (edge position `usize::MAX`).
#[derive(Debug)]
struct RouteSlices {
    routes: Vec<Option<RouteChoice>>,
    slices: Vec<(super::packet::Interval, usize)>,
}

impl ReachGraph {
    fn node(&mut self, id: &str, kind: &'static str, name: &str) -> NodeIndex {
        if let Some(n) = self.nodes.get(id) {
            return *n;
        }
        let n = self.graph.add_node(Node {
            id: id.to_string(),
            kind,
            name: name.to_string(),
        });
        self.nodes.insert(id.to_string(), n);
        n
    }

    /// Builds the graph of a model.
    pub fn build<'m>(
        m: &'m Model,
        route_table: impl Fn(&str) -> Option<&'m RouteTable> + Sync,
    ) -> ReachGraph {
        let mut g = ReachGraph::default();
        let internet = g.node("internet", "internet", "internet");
        let all = PacketSet::from_box(PBox::FULL);
        for igw in m.internet_gateways.values() {
            let n = g.node(&igw.id, "igw", name_tag(&igw.tags).unwrap_or(&igw.id));
            g.graph.add_edge(
                internet,
                n,
                Edge {
                    label: "inbound".into(),
                    packets: all.clone(),
                    route: None,
                },
            );
            g.graph.add_edge(
                n,
                internet,
                Edge {
                    label: "outbound".into(),
                    packets: all.clone(),
                    route: None,
                },
            );
        }
        // One edge per route actually chosen for some destinations (longest prefix), carrying
        // exactly those destinations; blackholes included, so the walk can name them. The
        // partitions are computed in parallel (most of the build on a large estate).
        let subnets: Vec<&Subnet> = m.subnets.values().collect();
        let partitions: Vec<_> = subnets
            .par_iter()
            .map(|s| filters::route_partition(m, route_table(&s.id), &s.vpc_id, &all, Dim::Dst))
            .collect();
        for (s, partition) in subnets.into_iter().zip(partitions) {
            let sn = g.node(&s.id, "subnet", name_tag(&s.tags).unwrap_or(&s.id));
            for (choice, part) in partition {
                let Some(c) = choice else {
                    continue;
                };
                let (id, kind) = match &c.target {
                    RouteTarget::Local => (format!("router:{}", s.vpc_id), "vpc-router"),
                    RouteTarget::InternetGateway(x) => (x.clone(), "igw"),
                    RouteTarget::EgressOnlyInternetGateway(x) => (x.clone(), "egress-only-igw"),
                    RouteTarget::NatGateway(x) => (x.clone(), "nat-gateway"),
                    RouteTarget::VpnGateway(x) => (x.clone(), "vpn-gateway"),
                    RouteTarget::TransitGateway(x) => (x.clone(), "transit-gateway"),
                    RouteTarget::Peering(x) => (x.clone(), "peering"),
                    RouteTarget::NetworkInterface(x) | RouteTarget::Instance(x) => {
                        (x.clone(), "appliance")
                    }
                    RouteTarget::VpcEndpoint(x) => (x.clone(), "vpc-endpoint"),
                    RouteTarget::Other(x) => (x.clone(), "other"),
                };
                let tn = g.node(&id, kind, &id);
                g.graph.add_edge(
                    sn,
                    tn,
                    Edge {
                        label: format!("route {}", c.destination),
                        packets: part,
                        route: Some(c),
                    },
                );
            }
        }
        // Hosts are not nodes: they hang off their subnet, the walk reads them from the index
        // and evaluates their security groups per flow (a group reference depends on the
        // peer's VPC), and nothing read their edges (two per interface carrying every packet:
        // on estate l, about 90 MB).
        for p in m.peerings.values() {
            let pn = g.node(&p.id, "peering", name_tag(&p.tags).unwrap_or(&p.id));
            for vpc in [&p.requester_vpc, &p.accepter_vpc] {
                for s in m.subnets.values().filter(|s| &s.vpc_id == vpc) {
                    let sn = g.node(&s.id, "subnet", &s.id);
                    g.graph.add_edge(
                        pn,
                        sn,
                        Edge {
                            label: "peering delivery".into(),
                            packets: all.clone(),
                            route: None,
                        },
                    );
                }
            }
        }
        g.slices = (0..petgraph::visit::NodeIndexable::node_bound(&g.graph))
            .map(|_| std::sync::OnceLock::new())
            .collect();
        g
    }

    /// Partitions `set` by the route its packets take out of a subnet, following the subnet's
    /// routing edges: on `Dim::Dst` for forwarding, on `Dim::Src` to see where replies to those
    /// sources would go. Packets no edge carries have no route (`None`).
    pub fn route_partition(
        &self,
        subnet: &str,
        set: &PacketSet,
        dim: Dim,
    ) -> Vec<(Option<&RouteChoice>, PacketSet)> {
        let sliced = self.nodes.get(subnet).and_then(|n| {
            self.slices
                .get(n.index())?
                .get_or_init(|| self.route_slices(*n))
                .as_ref()
        });
        let Some(t) = sliced else {
            return self.route_partition_by_edges(subnet, set, dim);
        };
        // One pass over the boxes: each is cut at the slices it overlaps.
        let none = t.routes.len();
        let mut buckets: Vec<Vec<PBox>> = vec![Vec::new(); none + 1];
        for b in set.boxes() {
            let r = b.get(dim);
            let first = t.slices.partition_point(|(iv, _)| iv.1 < r.0);
            for &(iv, pos) in &t.slices[first..] {
                if iv.0 > r.1 {
                    break;
                }
                let piece = b.with(dim, (r.0.max(iv.0), r.1.min(iv.1)));
                buckets[pos.min(none)].push(piece);
            }
        }
        let mut out = Vec::new();
        for (pos, boxes) in buckets.into_iter().enumerate() {
            if boxes.is_empty() {
                continue;
            }
            let route = t.routes.get(pos).and_then(Option::as_ref);
            out.push((route, PacketSet::from_pieces(boxes)));
        }
        out
    }

    /// The slices of a node's routing edges, or `None` when two edges carry the same address
    /// (then [`Self::route_partition_by_edges`] answers).
    fn route_slices(&self, n: NodeIndex) -> Option<RouteSlices> {
        let mut edges: Vec<_> = self
            .graph
            .edges(n)
            .filter(|e| e.weight().route.is_some())
            .collect();
        edges.sort_by_key(|e| e.id());
        let mut slices = Vec::new();
        let mut routes = Vec::new();
        for (pos, e) in edges.iter().enumerate() {
            let w = e.weight();
            slices.extend(w.packets.project(Dim::Dst).into_iter().map(|iv| (iv, pos)));
            routes.push(w.route.clone());
        }
        let covered = super::packet::merge(slices.iter().map(|s| s.0).collect());
        slices.extend(
            super::packet::complement(&covered)
                .into_iter()
                .map(|iv| (iv, usize::MAX)),
        );
        slices.sort_unstable();
        let disjoint = slices.windows(2).all(|w| w[0].0 .1 < w[1].0 .0);
        disjoint.then_some(RouteSlices { routes, slices })
    }

    /// [`Self::route_partition`] edge by edge: the reference the sliced partition is tested
    /// against, and the answer when a node's edges overlap.
    #[doc(hidden)]
    pub fn route_partition_by_edges(
        &self,
        subnet: &str,
        set: &PacketSet,
        dim: Dim,
    ) -> Vec<(Option<&RouteChoice>, PacketSet)> {
        let mut out = Vec::new();
        let mut covered: Vec<super::packet::Interval> = Vec::new();
        if let Some(n) = self.nodes.get(subnet) {
            let mut edges: Vec<_> = self
                .graph
                .edges(*n)
                .filter(|e| e.weight().route.is_some())
                .collect();
            edges.sort_by_key(|e| e.id());
            for e in edges {
                let w = e.weight();
                let dsts = w.packets.project(Dim::Dst);
                let part = set.restrict(dim, &dsts);
                covered.extend(dsts);
                if !part.is_empty() {
                    out.push((w.route.as_ref(), part));
                }
            }
        }
        // What no edge carries: the addresses outside every edge's destinations.
        let rest = set.restrict(
            dim,
            &super::packet::complement(&super::packet::merge(covered)),
        );
        if !rest.is_empty() {
            out.push((None, rest));
        }
        out
    }

    /// Component ids directly reachable from one component (edges with a non-empty packet set).
    pub fn neighbours(&self, id: &str) -> Vec<String> {
        let Some(n) = self.nodes.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .graph
            .edges(*n)
            .filter(|e| !e.weight().packets.is_empty())
            .map(|e| self.graph[e.target()].id.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
