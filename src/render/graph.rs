//! The exposure graph: who can reach what, as a picture (DOT) and as data (JSON).
//!
//! The nodes are the report's applications (identical interfaces already grouped, load
//! balancers included), the gateways that give them context (internet gateways, NAT gateways,
//! peering connections, transit gateways), the internet and, when the estate has VPN gateways,
//! on-premises. The edges are the report's exposures and nothing else, so the picture says
//! exactly what `exposure analyze` says: an edge exists because a path was found (effective)
//! or because a security group admits traffic that routing, a NACL or a missing public address
//! stops today (latent). The engine's own `ReachGraph` is the estate's plumbing (subnets, route
//! partitions, security-group sets); a reader of this picture wants the outcome, not the pipes.
//!
//! Nodes are placed in clusters account → VPC → subnet; an application whose members span
//! several subnets sits in its VPC's cluster, one spanning VPCs in its account's.
//!
//! Escaping: tag values end up in labels, and AWS lets them hold anything. Every string placed
//! in DOT, identifiers included, is written as a quoted string by [`quoted`], which escapes
//! quotes, backslashes, newlines, braces, angle brackets and bars. No HTML-like labels and no
//! record shapes are used, so nothing in user text can change the structure of the graph.

use crate::engine::query::traffic_text;
use std::collections::{BTreeMap, BTreeSet};

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::analysis::{Report, Source, Status};
use crate::engine::query::Traffic;
use crate::model::{name_tag, Model, OwnerKind};

/// What to keep of the whole-estate graph.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Keep only what is in this VPC (id or Name tag), plus the internet and on-premises.
    pub vpc: Option<String>,
    /// Keep only what is in this account, plus the internet and on-premises.
    pub account: Option<String>,
    /// Keep this resource and its direct neighbours: an application id, a member ENI id, an
    /// instance id, a gateway id, or a name.
    pub focus: Option<String>,
    /// Keep only applications exposed to the internet or on-premises (effective or latent).
    pub exposed_only: bool,
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// Every public address.
    Internet,
    /// On-premises networks behind VPN gateways.
    Onprem,
    /// An application of the report, with its owner kind (`elb` for load balancers).
    Application(OwnerKind),
    /// An internet gateway.
    InternetGateway,
    /// A NAT gateway (the report's NAT application merged in).
    NatGateway,
    /// A VPC peering connection.
    Peering,
    /// A transit gateway.
    TransitGateway,
}

impl NodeKind {
    /// The kind's name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Internet => "internet",
            NodeKind::Onprem => "onprem",
            NodeKind::Application(_) => "application",
            NodeKind::InternetGateway => "internet-gateway",
            NodeKind::NatGateway => "nat-gateway",
            NodeKind::Peering => "peering",
            NodeKind::TransitGateway => "transit-gateway",
        }
    }

    /// What a reader calls it.
    fn describe(self) -> &'static str {
        match self {
            NodeKind::Internet => "internet",
            NodeKind::Onprem => "on-premises",
            NodeKind::Application(_) => "application",
            NodeKind::InternetGateway => "internet gateway",
            NodeKind::NatGateway => "NAT gateway",
            NodeKind::Peering => "peering connection",
            NodeKind::TransitGateway => "transit gateway",
        }
    }
}

/// A node of the exposure graph.
#[derive(Debug, Clone)]
pub struct GraphNode {
    /// Stable id: `internet`, `onprem`, the application id, or the gateway's AWS id.
    pub id: String,
    /// Kind.
    pub kind: NodeKind,
    /// Display name (Name tag, load-balancer name, the application's name, or the id).
    pub label: String,
    /// Cluster ids from the outermost: `[account, vpc, subnet]`, shorter when the node spans
    /// several subnets or VPCs, empty for the internet and on-premises.
    pub cluster: Vec<String>,
    /// Member host ids (ENIs, or `<lb>@<subnet>` load-balancer nodes); NAT gateways list their
    /// ENIs; other gateways have none.
    pub members: Vec<String>,
    /// VPCs the node is in or attached to.
    pub vpcs: Vec<String>,
    /// Subnets the members are in (applications and NAT gateways).
    pub subnets: Vec<String>,
}

impl GraphNode {
    /// A node outside every cluster (the internet, on-premises).
    fn outside(id: &str, kind: NodeKind, label: &str) -> GraphNode {
        GraphNode {
            id: id.to_string(),
            kind,
            label: label.to_string(),
            cluster: Vec::new(),
            members: Vec::new(),
            vpcs: Vec::new(),
            subnets: Vec::new(),
        }
    }
}

/// An exposure drawn as an edge.
#[derive(Debug, Clone)]
pub struct GraphEdge {
    /// Effective or latent.
    pub status: Status,
    /// `ipv4` / `ipv6` for internet edges (the report's two internet sources share one edge
    /// when they reach the same traffic); empty otherwise.
    pub families: Vec<&'static str>,
    /// Protocols and ports.
    pub traffic: Vec<Traffic>,
    /// Entry points: `direct`, or `<lb> <PROTOCOL> <port>` listeners.
    pub entries: Vec<String>,
    /// Load-balancer node ids the traffic passes through (from the listener entries), when the
    /// load balancer is not the edge's own target.
    pub via: Vec<String>,
    /// How many members are exposed.
    pub members_exposed: usize,
    /// What stops a latent exposure today (reason codes).
    pub blocked_by: Vec<String>,
}

/// The level of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClusterKind {
    /// An AWS account.
    Account,
    /// A VPC.
    Vpc,
    /// A subnet.
    Subnet,
}

impl ClusterKind {
    /// The kind's name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterKind::Account => "account",
            ClusterKind::Vpc => "vpc",
            ClusterKind::Subnet => "subnet",
        }
    }
}

/// An account, VPC or subnet that nodes are placed in.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The account id (`unknown-account` when the snapshot does not say), VPC id or subnet id.
    pub id: String,
    /// Level.
    pub kind: ClusterKind,
    /// The Name tag, when there is one.
    pub name: Option<String>,
    /// Facts worth printing under the name: CIDRs, region, availability zone.
    pub details: Vec<String>,
    /// The enclosing cluster.
    pub parent: Option<String>,
}

/// The exposure graph.
#[derive(Debug, Default)]
pub struct ExposureGraph {
    /// The petgraph graph; indices stay valid while filters remove nodes.
    pub graph: StableDiGraph<GraphNode, GraphEdge>,
    /// Clusters by id.
    pub clusters: BTreeMap<String, Cluster>,
    /// With `--focus`: the node ids it named (empty when it named nothing); `None` without.
    pub focused: Option<Vec<String>>,
}

impl ExposureGraph {
    /// The ids of the nodes, sorted.
    pub fn node_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.graph.node_weights().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.graph.node_weights().find(|n| n.id == id)
    }

    /// Node index by id, for the nodes present now.
    fn indices(&self) -> BTreeMap<&str, NodeIndex> {
        self.graph
            .node_indices()
            .map(|n| (self.graph[n].id.as_str(), n))
            .collect()
    }
}

const UNKNOWN_ACCOUNT: &str = "unknown-account";

/// Builds the graph of a report, then applies the options.
pub fn exposure_graph(m: &Model, report: &Report, opts: &GraphOptions) -> ExposureGraph {
    let mut b = Builder {
        m,
        g: ExposureGraph::default(),
        index: BTreeMap::new(),
    };
    b.add(GraphNode::outside(
        "internet",
        NodeKind::Internet,
        "internet",
    ));
    if !crate::engine::walk::onprem_entries(m).is_empty() {
        b.add(GraphNode::outside(
            "onprem",
            NodeKind::Onprem,
            "on-premises",
        ));
    }
    b.applications(report);
    b.gateways();
    b.edges(report);
    let mut g = b.g;
    if let Some(vpc) = &opts.vpc {
        let id = resolve_vpc(m, vpc);
        retain_nodes(&mut g, |n| is_anchor(n) || n.vpcs.contains(&id));
    }
    if let Some(account) = &opts.account {
        let in_account = |vpc: &String| account_of_vpc(m, vpc) == *account;
        retain_nodes(&mut g, |n| {
            is_anchor(n) || n.cluster.first() == Some(account) || n.vpcs.iter().any(in_account)
        });
    }
    if opts.exposed_only {
        keep_exposed(&mut g);
    }
    if let Some(focus) = &opts.focus {
        keep_neighbourhood(m, &mut g, focus);
    }
    g
}

/// The internet and on-premises: kept by the VPC and account filters.
fn is_anchor(n: &GraphNode) -> bool {
    matches!(n.kind, NodeKind::Internet | NodeKind::Onprem)
}

struct Builder<'a> {
    m: &'a Model,
    g: ExposureGraph,
    /// Node index by node id; report application ids also map here (a NAT gateway's
    /// application maps to the NAT gateway node).
    index: BTreeMap<String, NodeIndex>,
}

impl Builder<'_> {
    fn add(&mut self, node: GraphNode) -> NodeIndex {
        let id = node.id.clone();
        let n = self.g.graph.add_node(node);
        self.index.insert(id, n);
        n
    }

    fn account_cluster(&mut self, account: Option<&str>) -> String {
        let id = account.unwrap_or(UNKNOWN_ACCOUNT).to_string();
        self.g
            .clusters
            .entry(id.clone())
            .or_insert_with(|| Cluster {
                id: id.clone(),
                kind: ClusterKind::Account,
                name: None,
                details: Vec::new(),
                parent: None,
            });
        id
    }

    /// The cluster path of something in `vpc` (and, when given, `subnet`).
    fn place(&mut self, vpc: &str, subnet: Option<&str>) -> Vec<String> {
        let v = self.m.vpcs.get(vpc);
        let account = self.account_cluster(v.and_then(|v| v.location.account.as_deref()));
        if !self.g.clusters.contains_key(vpc) {
            let mut details: Vec<String> = v
                .map(|v| {
                    v.cidrs_v4
                        .iter()
                        .map(ToString::to_string)
                        .chain(v.cidrs_v6.iter().map(ToString::to_string))
                        .collect()
                })
                .unwrap_or_default();
            details.extend(v.and_then(|v| v.location.region.clone()));
            self.g.clusters.insert(
                vpc.to_string(),
                Cluster {
                    id: vpc.to_string(),
                    kind: ClusterKind::Vpc,
                    name: v.and_then(|v| name_tag(&v.tags)).map(str::to_string),
                    details,
                    parent: Some(account.clone()),
                },
            );
        }
        let mut path = vec![account, vpc.to_string()];
        if let Some(subnet) = subnet {
            self.subnet_cluster(vpc, subnet);
            path.push(subnet.to_string());
        }
        path
    }

    fn subnet_cluster(&mut self, vpc: &str, subnet: &str) {
        if self.g.clusters.contains_key(subnet) {
            return;
        }
        let s = self.m.subnets.get(subnet);
        let mut details: Vec<String> = s
            .and_then(|s| s.cidr_v4)
            .map(|c| c.to_string())
            .into_iter()
            .collect();
        details.extend(s.and_then(|s| s.az.clone()));
        self.g.clusters.insert(
            subnet.to_string(),
            Cluster {
                id: subnet.to_string(),
                kind: ClusterKind::Subnet,
                name: s.and_then(|s| name_tag(&s.tags)).map(str::to_string),
                details,
                parent: Some(vpc.to_string()),
            },
        );
    }

    /// Registers the clusters of every subnet a node spans without placing it in them, so
    /// that labels and JSON can name them.
    fn spanned(&mut self, vpcs: &[String], subnets: &[String]) {
        for s in subnets {
            let vpc = self
                .m
                .subnets
                .get(s)
                .map(|x| x.vpc_id.clone())
                .or_else(|| vpcs.first().cloned());
            if let Some(vpc) = vpc {
                self.place(&vpc, Some(s));
            }
        }
    }

    fn applications(&mut self, report: &Report) {
        let mut nat_members: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for app in &report.applications {
            let nat = (app.kind == OwnerKind::NatGateway)
                .then(|| app.id.strip_prefix("nat:"))
                .flatten()
                .filter(|id| self.m.nat_gateways.contains_key(*id));
            if let Some(nat) = nat {
                nat_members.insert(nat.to_string(), (app.id.clone(), app.members.clone()));
                continue;
            }
            self.spanned(&app.vpcs, &app.subnets);
            let cluster = match (app.vpcs.as_slice(), app.subnets.as_slice()) {
                ([vpc], [subnet]) => self.place(vpc, Some(subnet)),
                ([vpc], _) => self.place(vpc, None),
                _ => vec![self.account_cluster(app.location.account.as_deref())],
            };
            self.add(GraphNode {
                id: app.id.clone(),
                kind: NodeKind::Application(app.kind),
                label: app.name.clone(),
                cluster,
                members: app.members.clone(),
                vpcs: app.vpcs.clone(),
                subnets: app.subnets.clone(),
            });
        }
        for nat in self.m.nat_gateways.values() {
            let (app_id, members) = nat_members
                .remove(&nat.id)
                .map(|(a, m)| (Some(a), m))
                .unwrap_or_else(|| (None, nat.eni_ids.clone()));
            let cluster = self.place(&nat.vpc_id, Some(&nat.subnet_id));
            let n = self.add(GraphNode {
                id: nat.id.clone(),
                kind: NodeKind::NatGateway,
                label: name_tag(&nat.tags).unwrap_or(&nat.id).to_string(),
                cluster,
                members,
                vpcs: vec![nat.vpc_id.clone()],
                subnets: vec![nat.subnet_id.clone()],
            });
            if let Some(app_id) = app_id {
                self.index.insert(app_id, n);
            }
        }
    }

    fn gateways(&mut self) {
        let m = self.m;
        for igw in m.internet_gateways.values() {
            let cluster = match igw.vpc_ids.first() {
                Some(vpc) => self.place(vpc, None),
                None => vec![self.account_cluster(igw.location.account.as_deref())],
            };
            self.add(GraphNode {
                id: igw.id.clone(),
                kind: NodeKind::InternetGateway,
                label: name_tag(&igw.tags).unwrap_or(&igw.id).to_string(),
                cluster,
                members: Vec::new(),
                vpcs: igw.vpc_ids.clone(),
                subnets: Vec::new(),
            });
        }
        for p in m.peerings.values() {
            let a = account_of_vpc(m, &p.requester_vpc);
            let b = account_of_vpc(m, &p.accepter_vpc);
            // A peering between two accounts belongs to neither: it sits outside both.
            let cluster = if a == b {
                vec![self.account_cluster(Some(&a))]
            } else {
                Vec::new()
            };
            self.add(GraphNode {
                id: p.id.clone(),
                kind: NodeKind::Peering,
                label: name_tag(&p.tags).unwrap_or(&p.id).to_string(),
                cluster,
                members: Vec::new(),
                vpcs: vec![p.requester_vpc.clone(), p.accepter_vpc.clone()],
                subnets: Vec::new(),
            });
        }
        for t in m.transit_gateways.values() {
            let cluster = vec![self.account_cluster(t.location.account.as_deref())];
            let mut vpcs: Vec<String> = m
                .tgw_attachments
                .values()
                .filter(|a| a.tgw_id == t.id && a.kind == crate::model::TgwAttachmentKind::Vpc)
                .map(|a| a.resource_id.clone())
                .collect();
            vpcs.sort();
            vpcs.dedup();
            self.add(GraphNode {
                id: t.id.clone(),
                kind: NodeKind::TransitGateway,
                label: name_tag(&t.tags).unwrap_or(&t.id).to_string(),
                cluster,
                members: Vec::new(),
                vpcs,
                subnets: Vec::new(),
            });
        }
    }

    fn edges(&mut self, report: &Report) {
        let listeners = listener_load_balancers(self.m);
        // One edge per (from, to, status, traffic): the IPv4 and IPv6 internet exposures of
        // an application share an edge when they admit the same traffic.
        let mut merged: BTreeMap<
            (NodeIndex, NodeIndex, Status, String),
            petgraph::stable_graph::EdgeIndex,
        > = BTreeMap::new();
        // Application sources one pair at a time: one edge per pair.
        for e in &report.pairs() {
            let from_id = match &e.source {
                Source::InternetV4 | Source::InternetV6 => "internet",
                Source::Onprem => "onprem",
                Source::Application(id) => id.as_str(),
                Source::Applications(_) => continue,
            };
            let (Some(&from), Some(&to)) = (self.index.get(from_id), self.index.get(&e.target))
            else {
                continue;
            };
            let family = match e.source {
                Source::InternetV4 => Some("ipv4"),
                Source::InternetV6 => Some("ipv6"),
                _ => None,
            };
            let target_id = self.g.graph[to].id.clone();
            let mut via: Vec<String> = Vec::new();
            for entry in &e.entries {
                let Some(arn) = listeners.get(entry) else {
                    continue;
                };
                let lb = format!("lb:{arn}");
                if lb != target_id && self.index.contains_key(&lb) && !via.contains(&lb) {
                    via.push(lb);
                }
            }
            let key = (from, to, e.status, traffic_text(&e.traffic));
            match merged.get(&key) {
                Some(&ei) => {
                    let w = &mut self.g.graph[ei];
                    w.families.extend(family);
                    w.families.sort_unstable();
                    w.families.dedup();
                    add_missing(&mut w.entries, &e.entries);
                    add_missing(&mut w.via, &via);
                    add_missing(&mut w.blocked_by, &e.blocked_by);
                    w.members_exposed = w.members_exposed.max(e.members_exposed);
                }
                None => {
                    let ei = self.g.graph.add_edge(
                        from,
                        to,
                        GraphEdge {
                            status: e.status,
                            families: family.into_iter().collect(),
                            traffic: e.traffic.clone(),
                            entries: e.entries.clone(),
                            via,
                            members_exposed: e.members_exposed,
                            blocked_by: e.blocked_by.clone(),
                        },
                    );
                    merged.insert(key, ei);
                }
            }
        }
    }
}

fn add_missing(into: &mut Vec<String>, from: &[String]) {
    for x in from {
        if !into.contains(x) {
            into.push(x.clone());
        }
    }
}

/// The report names a listener entry point `<lb name> <PROTOCOL> <port>`; this maps each such
/// label back to its load balancer's ARN so that an edge can name the node it passes through.
fn listener_load_balancers(m: &Model) -> BTreeMap<String, String> {
    m.listeners
        .values()
        .filter_map(|l| {
            let lb = m.load_balancers.get(&l.lb_arn)?;
            let port = l.port.map(|p| p.to_string()).unwrap_or_default();
            Some((format!("{} {} {port}", lb.name, l.protocol), lb.arn.clone()))
        })
        .collect()
}

fn account_of_vpc(m: &Model, vpc: &str) -> String {
    m.vpcs
        .get(vpc)
        .and_then(|v| v.location.account.clone())
        .unwrap_or_else(|| UNKNOWN_ACCOUNT.to_string())
}

/// A VPC named by id or by Name tag.
fn resolve_vpc(m: &Model, vpc: &str) -> String {
    if m.vpcs.contains_key(vpc) {
        return vpc.to_string();
    }
    m.vpcs
        .values()
        .find(|v| name_tag(&v.tags) == Some(vpc))
        .map(|v| v.id.clone())
        .unwrap_or_else(|| vpc.to_string())
}

fn retain_nodes(g: &mut ExposureGraph, keep: impl Fn(&GraphNode) -> bool) {
    g.graph.retain_nodes(|graph, n| keep(&graph[n]));
}

/// `--exposed-only`: applications with an edge from the internet or on-premises; gateways stay
/// when a kept application shares one of their VPCs.
fn keep_exposed(g: &mut ExposureGraph) {
    let exposed: BTreeSet<NodeIndex> = g
        .graph
        .edge_references()
        .filter(|e| is_anchor(&g.graph[e.source()]))
        .map(|e| e.target())
        .collect();
    let vpcs: BTreeSet<String> = exposed
        .iter()
        .flat_map(|n| g.graph[*n].vpcs.clone())
        .collect();
    g.graph.retain_nodes(|graph, n| match graph[n].kind {
        NodeKind::Internet | NodeKind::Onprem => true,
        NodeKind::Application(_) => exposed.contains(&n),
        _ => graph[n].vpcs.iter().any(|v| vpcs.contains(v)),
    });
}

/// The node ids a `--focus` value names.
fn resolve_focus(m: &Model, g: &ExposureGraph, focus: &str) -> Vec<String> {
    // Member ENIs the value names: by ENI id, owner id (instance, load balancer, NAT gateway,
    // database), display name, or the id or Name tag of the instance they belong to.
    let mut enis: BTreeSet<&str> = m
        .network_interfaces
        .values()
        .filter(|e| {
            e.id == focus || e.owner.id.as_deref() == Some(focus) || e.display_name() == focus
        })
        .map(|e| e.id.as_str())
        .collect();
    enis.extend(
        m.instances
            .values()
            .filter(|i| i.id == focus || name_tag(&i.tags) == Some(focus))
            .flat_map(|i| i.eni_ids.iter().map(String::as_str)),
    );
    let lbs: BTreeSet<String> = m
        .load_balancers
        .values()
        .filter(|lb| lb.name == focus || lb.arn == focus)
        .map(|lb| format!("lb:{}", lb.arn))
        .collect();
    let mut ids: Vec<String> = g
        .graph
        .node_weights()
        .filter(|n| {
            n.id == focus
                || n.label == focus
                || lbs.contains(&n.id)
                || n.members
                    .iter()
                    .any(|x| x == focus || enis.contains(x.as_str()))
        })
        .map(|n| n.id.clone())
        .collect();
    ids.sort();
    ids
}

/// `--focus`: the named nodes, their direct neighbours (either direction, or through a load
/// balancer an edge passes), and only the edges that touch a named node.
fn keep_neighbourhood(m: &Model, g: &mut ExposureGraph, focus: &str) {
    let ids = resolve_focus(m, g, focus);
    let index = g.indices();
    let focused: BTreeSet<NodeIndex> = ids
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    let mut keep_nodes = focused.clone();
    let mut keep_edges = BTreeSet::new();
    for e in g.graph.edge_references() {
        let via: Vec<NodeIndex> = e
            .weight()
            .via
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        let ends = [e.source(), e.target()];
        if ends.iter().chain(&via).any(|n| focused.contains(n)) {
            keep_edges.insert(e.id());
            keep_nodes.extend(ends);
            keep_nodes.extend(via);
        }
    }
    g.graph.retain_edges(|_, e| keep_edges.contains(&e));
    g.graph.retain_nodes(|_, n| keep_nodes.contains(&n));
    g.focused = Some(ids);
}

// ---------------------------------------------------------------------------------------------
// Text shared by DOT and JSON.

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Effective => "effective",
        Status::Latent => "latent",
    }
}

// ---------------------------------------------------------------------------------------------
// DOT.

/// A DOT quoted string. Graphviz reads `\"` as a quote and, in labels, `\\` as a backslash and
/// `\n` as a line break; `\{`, `\}`, `\<`, `\>` and `\|` print the character itself, and keep
/// it literal even where a shape would give it a meaning. Other control characters become
/// spaces, so no raw line break (and no backslash-newline continuation) ever reaches DOT.
pub fn quoted(s: &str) -> Id {
    dot_string(escape(s), s)
}

/// Graphviz rejects a quoted string longer than 16 KiB: the longest body written, in bytes.
const DOT_STRING_MAX: usize = 16_000;

/// A quoted string from an escaped body. A body longer than Graphviz reads (only absurd input
/// gives one: a resource id of kilobytes) is cut between escapes and ended by `…` and a hash
/// of the whole text, so that different long ids stay different nodes.
fn dot_string(body: String, whole: &str) -> Id {
    if body.len() <= DOT_STRING_MAX {
        return Id::Escaped(format!("\"{body}\""));
    }
    let mut cut = 0;
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if i > DOT_STRING_MAX - 40 {
            break;
        }
        cut = i;
        if c == '\\' {
            chars.next();
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(whole, &mut h);
    let hash = std::hash::Hasher::finish(&h);
    Id::Escaped(format!("\"{}… #{hash:016x}\"", &body[..cut]))
}

/// The inside of a DOT quoted string (see [`quoted`]).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\\' | '{' | '}' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A DOT keyword or number we write ourselves (attribute names and fixed values).
fn plain(s: &str) -> Id {
    Id::Plain(s.to_string())
}

fn attr(k: &str, v: &str) -> Attribute {
    Attribute(plain(k), quoted(v))
}

/// A centred label from lines.
fn label(lines: &[String]) -> Attribute {
    attr("label", &lines.join("\n"))
}

/// A label whose lines are left-justified: each line is escaped on its own and ended by `\l`.
fn label_left(lines: &[String]) -> Attribute {
    let body: String = lines
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| escape(l) + "\\l")
        .collect();
    Attribute(plain("label"), dot_string(body, &lines.join("\n")))
}

fn node_id(id: &str) -> NodeId {
    NodeId(quoted(id), None)
}

const RED: &str = "#c62828";
const ORANGE: &str = "#ef6c00";
const PURPLE: &str = "#6a1b9a";
const GREY: &str = "#757575";

/// Who an edge comes from, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    Internet,
    Onprem,
    Application,
}

fn edge_style(origin: Origin, status: Status) -> Vec<Attribute> {
    let (color, width) = match (origin, status) {
        (Origin::Internet, Status::Effective) => (RED, "2.2"),
        (Origin::Internet, Status::Latent) => (ORANGE, "1.8"),
        (Origin::Onprem, _) => (PURPLE, "2"),
        (Origin::Application, _) => (GREY, "1"),
    };
    let mut attrs = vec![
        attr("color", color),
        attr("fontcolor", color),
        attr("penwidth", width),
    ];
    if status == Status::Latent {
        attrs.push(attr("style", "dashed"));
    }
    attrs
}

fn implied_style() -> Vec<Attribute> {
    vec![
        attr("color", "#cfcfcf"),
        attr("penwidth", "0.8"),
        attr("arrowsize", "0.5"),
    ]
}

fn app_fill(kind: OwnerKind) -> &'static str {
    match kind {
        OwnerKind::LoadBalancer => "#dbeafe",
        OwnerKind::Ec2Instance | OwnerKind::EcsTask | OwnerKind::Lambda | OwnerKind::Eks => {
            "#fff8dc"
        }
        OwnerKind::Rds | OwnerKind::ElastiCache | OwnerKind::Efs => "#e3f4e1",
        _ => "#f1f1f1",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn cluster_name(g: &ExposureGraph, id: &str) -> String {
    g.clusters
        .get(id)
        .and_then(|c| c.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn node_stmt(g: &ExposureGraph, n: NodeIndex) -> Stmt {
    let node = &g.graph[n];
    // The strongest internet exposure of a node outlines it: red effective, orange latent.
    let exposure = g
        .graph
        .edges_directed(n, petgraph::Direction::Incoming)
        .filter(|e| g.graph[e.source()].kind == NodeKind::Internet)
        .map(|e| e.weight().status)
        .min();
    let mut attrs = match node.kind {
        NodeKind::Internet => vec![
            label(&["internet".into()]),
            attr("shape", "ellipse"),
            attr("style", "filled"),
            attr("fillcolor", "#ffebee"),
            attr("color", RED),
            attr("fontsize", "12"),
        ],
        NodeKind::Onprem => vec![
            label(&["on-premises".into(), "(VPN gateways)".into()]),
            attr("shape", "house"),
            attr("style", "filled"),
            attr("fillcolor", "#f3e5f5"),
            attr("color", PURPLE),
        ],
        NodeKind::Application(kind) => {
            let mut lines = vec![
                node.label.clone(),
                format!(
                    "{kind} · {}",
                    plural(node.members.len(), "member", "members")
                ),
            ];
            if node.subnets.len() > 1 {
                let names: Vec<String> = node.subnets.iter().map(|s| cluster_name(g, s)).collect();
                lines.push(format!("in {}", names.join(", ")));
            }
            vec![
                label(&lines),
                attr("shape", "box"),
                attr("style", "rounded,filled"),
                attr("fillcolor", app_fill(kind)),
            ]
        }
        kind => {
            let mut lines = vec![kind.describe().to_string(), node.label.clone()];
            if node.label != node.id {
                lines.push(node.id.clone());
            }
            vec![
                label(&lines),
                attr("shape", "box"),
                attr("style", "filled"),
                attr("fillcolor", "#eceff1"),
                attr("color", "#90a4ae"),
                attr("fontcolor", "#37474f"),
                attr("fontsize", "9"),
                attr("margin", "0.06,0.03"),
            ]
        }
    };
    if matches!(node.kind, NodeKind::Application(_)) {
        match exposure {
            Some(Status::Effective) => {
                attrs.push(attr("color", RED));
                attrs.push(attr("penwidth", "2.2"));
            }
            Some(Status::Latent) => {
                attrs.push(attr("color", ORANGE));
                attrs.push(attr("penwidth", "2"));
            }
            None => attrs.push(attr("color", "#9e9e9e")),
        }
    }
    let mut tooltip = format!("{} {}", node.kind.describe(), node.id);
    if !node.members.is_empty() {
        tooltip.push_str(&format!("\nmembers: {}", node.members.join(", ")));
    }
    attrs.push(attr("tooltip", &tooltip));
    Stmt::Node(Node::new(node_id(&node.id), attrs))
}

/// One line drawn in the picture. Exposures that pass through a load balancer present in the
/// graph are drawn from that load balancer (internet → ALB → app reads as it happens), and
/// those sharing a load balancer, target, status, colour and traffic become one line listing
/// where they come from.
struct Drawn {
    from: NodeIndex,
    to: NodeIndex,
    origin: Origin,
    status: Status,
    traffic: String,
    /// Listener entries, or `direct`.
    entries: Vec<String>,
    /// Where forwarded traffic comes from (drawn from a load balancer only).
    sources: Vec<String>,
    families: Vec<&'static str>,
    blocked_by: Vec<String>,
    forwarded: bool,
    /// Between applications, and the internet already reaches the target with the same
    /// traffic: drawn faint and unlabelled, since it exposes nothing the red edge does not.
    implied: bool,
}

fn drawn_edges(g: &ExposureGraph) -> Vec<Drawn> {
    let index = g.indices();
    let mut out: Vec<Drawn> = Vec::new();
    // Forwarded lines by (load balancer, target, colour, status, traffic, listeners).
    type Key = (NodeIndex, NodeIndex, Origin, Status, String, Vec<String>);
    let mut forwarded: BTreeMap<Key, usize> = BTreeMap::new();
    for e in g.graph.edge_references() {
        let w = e.weight();
        let origin = match g.graph[e.source()].kind {
            NodeKind::Internet => Origin::Internet,
            NodeKind::Onprem => Origin::Onprem,
            _ => Origin::Application,
        };
        let through = match w.via.as_slice() {
            [lb] if !w.entries.iter().any(|x| x == "direct") => index.get(lb.as_str()).copied(),
            _ => None,
        };
        let traffic = traffic_text(&w.traffic);
        let Some(lb) = through else {
            out.push(Drawn {
                from: e.source(),
                to: e.target(),
                origin,
                status: w.status,
                traffic,
                entries: w.entries.clone(),
                sources: Vec::new(),
                families: w.families.clone(),
                blocked_by: w.blocked_by.clone(),
                forwarded: false,
                implied: false,
            });
            continue;
        };
        let lb_name = format!("{} ", g.graph[lb].label);
        let entries: Vec<String> = w
            .entries
            .iter()
            .map(|x| x.strip_prefix(&lb_name).unwrap_or(x).to_string())
            .collect();
        let source = g.graph[e.source()].label.clone();
        let key = (
            lb,
            e.target(),
            origin,
            w.status,
            traffic.clone(),
            entries.clone(),
        );
        if let Some(&i) = forwarded.get(&key) {
            add_missing(&mut out[i].sources, &[source]);
            continue;
        }
        forwarded.insert(key, out.len());
        out.push(Drawn {
            from: lb,
            to: e.target(),
            origin,
            status: w.status,
            traffic,
            entries,
            sources: vec![source],
            families: w.families.clone(),
            blocked_by: w.blocked_by.clone(),
            forwarded: true,
            implied: false,
        });
    }
    let open: BTreeSet<(NodeIndex, String)> = out
        .iter()
        .filter(|d| d.origin == Origin::Internet && d.status == Status::Effective)
        .map(|d| (d.to, d.traffic.clone()))
        .collect();
    for d in &mut out {
        d.implied = d.origin == Origin::Application
            && d.status == Status::Effective
            && open.contains(&(d.to, d.traffic.clone()));
    }
    out
}

/// Which drawn edges may push their head to a later rank (column). The picture should read
/// from the internet inwards: edges from the internet or on-premises and edges a load balancer
/// forwards always rank; an edge between applications ranks only when it points away from the
/// internet (its head is farther from it) or, between equally far nodes, when it closes no
/// cycle. Without this, every application that can call a public load balancer drags that load
/// balancer to the far end of the picture.
fn rank_constraints(g: &ExposureGraph, drawn: &[Drawn]) -> Vec<bool> {
    let primary = |d: &Drawn| d.forwarded || d.origin != Origin::Application;
    let mut leaving: BTreeMap<NodeIndex, Vec<&Drawn>> = BTreeMap::new();
    for d in drawn {
        leaving.entry(d.from).or_default().push(d);
    }
    let mut depth: BTreeMap<NodeIndex, usize> = g
        .graph
        .node_indices()
        .filter(|n| is_anchor(&g.graph[*n]))
        .map(|n| (n, 0))
        .collect();
    // Breadth-first over the primary edges, then over the rest for nodes not yet reached.
    for primary_only in [true, false] {
        let mut frontier: Vec<NodeIndex> = depth.keys().copied().collect();
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for from in frontier {
                let edges = leaving.get(&from).map(Vec::as_slice).unwrap_or(&[]);
                for d in edges.iter().filter(|d| !primary_only || primary(d)) {
                    if !depth.contains_key(&d.to) {
                        depth.insert(d.to, depth[&from] + 1);
                        next.push(d.to);
                    }
                }
            }
            frontier = next;
        }
    }
    let depth_of = |n: NodeIndex| depth.get(&n).copied().unwrap_or(usize::MAX);
    // The ranking edges chosen so far, to refuse one that would close a cycle.
    let mut ranked: BTreeMap<NodeIndex, Vec<NodeIndex>> = BTreeMap::new();
    let reaches = |ranked: &BTreeMap<NodeIndex, Vec<NodeIndex>>, from: NodeIndex, to: NodeIndex| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                stack.extend(ranked.get(&n).into_iter().flatten().copied());
            }
        }
        false
    };
    drawn
        .iter()
        .map(|d| {
            let (a, b) = (depth_of(d.from), depth_of(d.to));
            let rank =
                !d.implied && (primary(d) || b > a || (a == b && !reaches(&ranked, d.to, d.from)));
            if rank {
                ranked.entry(d.from).or_default().push(d.to);
            }
            rank
        })
        .collect()
}

fn edge_label(g: &ExposureGraph, d: &Drawn) -> Vec<String> {
    let mut first = d.traffic.clone();
    if !d.families.is_empty() {
        let fams: Vec<&str> = d
            .families
            .iter()
            .map(|f| if *f == "ipv6" { "IPv6" } else { "IPv4" })
            .collect();
        first.push_str(&format!(" ({})", fams.join(", ")));
    }
    let mut lines = vec![first];
    let to_lb = matches!(
        g.graph[d.to].kind,
        NodeKind::Application(OwnerKind::LoadBalancer)
    );
    if d.forwarded {
        lines.push(format!("via {}", d.entries.join(", ")));
        lines.push(format!("from {}", d.sources.join(", ")));
    } else if to_lb && d.origin == Origin::Application {
        // The ports are the listeners'; the internet edge names their protocols.
    } else if to_lb && d.entries.iter().all(|x| x != "direct") {
        let name = format!("{} ", g.graph[d.to].label);
        let listeners: Vec<&str> = d
            .entries
            .iter()
            .map(|x| x.strip_prefix(&name).unwrap_or(x))
            .collect();
        lines.push(format!("listeners {}", listeners.join(", ")));
    } else if d.entries.iter().any(|x| x != "direct") {
        lines.push(d.entries.join("; "));
    }
    if d.status == Status::Latent {
        let why = if d.blocked_by.is_empty() {
            "latent".to_string()
        } else {
            format!("latent: {}", d.blocked_by.join(", "))
        };
        lines.push(why);
    }
    lines
}

/// The legend: one row per line style, an arrow pointing at its explanation, and a sample
/// application box. Its text is ours, but it goes through the same escaping as the rest.
fn legend() -> Subgraph {
    let mut stmts = vec![
        Stmt::Attribute(attr("label", "Legend")),
        Stmt::Attribute(attr("style", "rounded")),
        Stmt::Attribute(attr("color", "#bdbdbd")),
        Stmt::Attribute(attr("fontsize", "11")),
    ];
    let mut faint = implied_style();
    faint.push(attr("fontcolor", GREY));
    let rows = [
        (
            edge_style(Origin::Internet, Status::Effective),
            "internet exposure, effective: a path exists today",
        ),
        (
            edge_style(Origin::Internet, Status::Latent),
            "internet exposure, latent: a security group admits it;\nrouting, a NACL or no public address stops it today",
        ),
        (
            edge_style(Origin::Onprem, Status::Effective),
            "on-premises exposure",
        ),
        (
            edge_style(Origin::Application, Status::Effective),
            "application to application",
        ),
        (
            faint,
            "application to application, traffic the internet\nalready reaches there (drawn faint, unlabelled)",
        ),
    ];
    for (i, (style, text)) in rows.into_iter().enumerate() {
        let from = format!("legend:{i}:from");
        let to = format!("legend:{i}:to");
        stmts.push(Stmt::Node(Node::new(
            node_id(&from),
            vec![
                attr("shape", "point"),
                attr("width", "0.06"),
                attr("color", "#9e9e9e"),
            ],
        )));
        let text: Vec<String> = text.split('\n').map(str::to_string).collect();
        stmts.push(Stmt::Node(Node::new(
            node_id(&to),
            // One width for every explanation, left-justified, so the arrows line up.
            vec![
                label_left(&text),
                attr("shape", "plaintext"),
                attr("fontsize", "9"),
                attr("width", "3.2"),
                attr("height", "0.3"),
            ],
        )));
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(Vertex::N(node_id(&from)), Vertex::N(node_id(&to))),
            attributes: style,
        }));
    }
    stmts.push(Stmt::Node(Node::new(
        node_id("legend:outline"),
        vec![
            label(&[
                "application".into(),
                "kind · members".into(),
                "outline red / orange: exposed to".into(),
                "the internet (effective / latent)".into(),
            ]),
            attr("shape", "box"),
            attr("style", "rounded,filled"),
            attr("fillcolor", "#fff8dc"),
            attr("color", RED),
            attr("penwidth", "2.2"),
            attr("fontsize", "9"),
        ],
    )));
    // Invisible: puts the sample box in the explanations' column, under them.
    stmts.push(Stmt::Node(Node::new(
        node_id("legend:outline:from"),
        vec![attr("style", "invis"), attr("shape", "point")],
    )));
    stmts.push(Stmt::Edge(Edge {
        ty: EdgeTy::Pair(
            Vertex::N(node_id("legend:outline:from")),
            Vertex::N(node_id("legend:outline")),
        ),
        attributes: vec![attr("style", "invis")],
    }));
    Subgraph {
        id: quoted("cluster_legend"),
        stmts,
    }
}

fn cluster_label(c: &Cluster) -> Vec<String> {
    let head = match (c.kind, &c.name) {
        (ClusterKind::Account, _) if c.id == UNKNOWN_ACCOUNT => "account unknown".to_string(),
        (ClusterKind::Account, _) => format!("account {}", c.id),
        (ClusterKind::Vpc, Some(name)) => format!("VPC {name}"),
        (ClusterKind::Vpc, None) => "VPC".to_string(),
        (ClusterKind::Subnet, Some(name)) => format!("subnet {name}"),
        (ClusterKind::Subnet, None) => "subnet".to_string(),
    };
    let mut lines = vec![head];
    if c.kind != ClusterKind::Account {
        lines.push(c.id.clone());
    }
    if !c.details.is_empty() {
        lines.push(c.details.join(" · "));
    }
    lines
}

fn cluster_subgraph(
    g: &ExposureGraph,
    id: &str,
    children: &BTreeMap<Option<String>, Vec<String>>,
    nodes: &BTreeMap<Option<String>, Vec<NodeIndex>>,
) -> Subgraph {
    let c = &g.clusters[id];
    let (fill, border) = match c.kind {
        ClusterKind::Account => ("#fafafa", "#9e9e9e"),
        ClusterKind::Vpc => ("#f1f8ff", "#64b5f6"),
        ClusterKind::Subnet => ("#ffffff", "#b0bec5"),
    };
    let mut stmts = vec![
        Stmt::Attribute(label_left(&cluster_label(c))),
        Stmt::Attribute(attr("style", "rounded,filled")),
        Stmt::Attribute(attr("fillcolor", fill)),
        Stmt::Attribute(attr("color", border)),
        Stmt::Attribute(attr("labeljust", "l")),
    ];
    let key = Some(id.to_string());
    for child in children.get(&key).into_iter().flatten() {
        stmts.push(Stmt::Subgraph(cluster_subgraph(g, child, children, nodes)));
    }
    for n in nodes.get(&key).into_iter().flatten() {
        stmts.push(node_stmt(g, *n));
    }
    Subgraph {
        id: quoted(&format!("cluster_{id}")),
        stmts,
    }
}

/// The graph in the DOT language, with clusters account → VPC → subnet and a legend.
pub fn dot(g: &ExposureGraph) -> String {
    let mut stmts = vec![
        Stmt::GAttribute(GraphAttributes::Graph(vec![
            attr("rankdir", "LR"),
            attr("fontname", "Helvetica"),
            attr("fontsize", "12"),
            attr("nodesep", "0.25"),
            attr("ranksep", "0.6"),
            attr("newrank", "true"),
            attr("bgcolor", "white"),
        ])),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            attr("fontname", "Helvetica"),
            attr("fontsize", "11"),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(vec![
            attr("fontname", "Helvetica"),
            attr("fontsize", "9"),
            attr("arrowsize", "0.7"),
        ])),
    ];
    // Only clusters that hold a node (directly or below) are drawn.
    let mut nodes: BTreeMap<Option<String>, Vec<NodeIndex>> = BTreeMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for n in g.graph.node_indices() {
        let node = &g.graph[n];
        nodes
            .entry(node.cluster.last().cloned())
            .or_default()
            .push(n);
        used.extend(node.cluster.iter().cloned());
    }
    let mut children: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for id in &used {
        if let Some(c) = g.clusters.get(id) {
            children
                .entry(c.parent.clone())
                .or_default()
                .push(id.clone());
        }
    }
    // First in the file, the legend is laid out last: under the graph, not above it.
    stmts.push(Stmt::Subgraph(legend()));
    for n in nodes.get(&None).into_iter().flatten() {
        stmts.push(node_stmt(g, *n));
    }
    for id in children.get(&None).into_iter().flatten() {
        stmts.push(Stmt::Subgraph(cluster_subgraph(g, id, &children, &nodes)));
    }
    let drawn = drawn_edges(g);
    let constraints = rank_constraints(g, &drawn);
    for (d, constraint) in drawn.iter().zip(constraints) {
        let mut attrs = if d.implied {
            implied_style()
        } else {
            let mut a = edge_style(d.origin, d.status);
            a.push(label(&edge_label(g, d)));
            a
        };
        if !constraint {
            attrs.push(attr("constraint", "false"));
        }
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(
                Vertex::N(node_id(&g.graph[d.from].id)),
                Vertex::N(node_id(&g.graph[d.to].id)),
            ),
            attributes: attrs,
        }));
    }
    // Invisible: pulls each internet gateway next to the internet, where a reader looks for it.
    if let Some(&internet) = g.indices().get("internet") {
        for n in g.graph.node_indices() {
            if g.graph[n].kind == NodeKind::InternetGateway {
                stmts.push(Stmt::Edge(Edge {
                    ty: EdgeTy::Pair(
                        Vertex::N(node_id(&g.graph[internet].id)),
                        Vertex::N(node_id(&g.graph[n].id)),
                    ),
                    attributes: vec![attr("style", "invis")],
                }));
            }
        }
    }
    let graph = Graph::DiGraph {
        id: quoted("exposure"),
        strict: false,
        stmts,
    };
    graph.print(&mut PrinterContext::default()) + "\n"
}

// ---------------------------------------------------------------------------------------------
// JSON (documented in docs/graph-json.md).

#[derive(Serialize)]
struct JsonGraph<'a> {
    schema_version: u32,
    kind: &'static str,
    focus: Option<&'a [String]>,
    clusters: Vec<JsonCluster<'a>>,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonCluster<'a> {
    id: &'a str,
    kind: &'static str,
    name: Option<&'a str>,
    details: &'a [String],
    parent: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    kind: &'static str,
    application_kind: Option<&'static str>,
    label: &'a str,
    cluster: &'a [String],
    members: &'a [String],
    vpcs: &'a [String],
    subnets: &'a [String],
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a str,
    to: &'a str,
    status: &'static str,
    address_families: &'a [&'static str],
    traffic: Vec<JsonTraffic<'a>>,
    entries: &'a [String],
    via: &'a [String],
    members_exposed: usize,
    blocked_by: &'a [String],
}

#[derive(Serialize)]
struct JsonTraffic<'a> {
    protocol: &'a str,
    ports: &'a str,
}

/// Accounts, then VPCs, then subnets, each by id.
fn clusters_outside_in(g: &ExposureGraph) -> Vec<&Cluster> {
    let mut all: Vec<&Cluster> = g.clusters.values().collect();
    all.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    all
}

/// The graph as a JSON document.
pub fn json(g: &ExposureGraph) -> String {
    let doc = JsonGraph {
        schema_version: SCHEMA_VERSION,
        kind: "graph",
        focus: g.focused.as_deref(),
        clusters: clusters_outside_in(g)
            .into_iter()
            .map(|c| JsonCluster {
                id: &c.id,
                kind: c.kind.as_str(),
                name: c.name.as_deref(),
                details: &c.details,
                parent: c.parent.as_deref(),
            })
            .collect(),
        nodes: g
            .graph
            .node_weights()
            .map(|n| JsonNode {
                id: &n.id,
                kind: n.kind.as_str(),
                application_kind: match n.kind {
                    NodeKind::Application(k) => Some(k.as_str()),
                    _ => None,
                },
                label: &n.label,
                cluster: &n.cluster,
                members: &n.members,
                vpcs: &n.vpcs,
                subnets: &n.subnets,
            })
            .collect(),
        edges: g
            .graph
            .edge_references()
            .map(|e| {
                let w = e.weight();
                JsonEdge {
                    from: &g.graph[e.source()].id,
                    to: &g.graph[e.target()].id,
                    status: status_str(w.status),
                    address_families: &w.families,
                    traffic: w
                        .traffic
                        .iter()
                        .map(|t| JsonTraffic {
                            protocol: &t.protocol,
                            ports: &t.ports,
                        })
                        .collect(),
                    entries: &w.entries,
                    via: &w.via,
                    members_exposed: w.members_exposed,
                    blocked_by: &w.blocked_by,
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).expect("graph serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: Id) -> String {
        match id {
            Id::Escaped(s) => s,
            other => panic!("not a quoted string: {other:?}"),
        }
    }

    /// Graphviz reads no quoted string over 16 KiB: a longer id is cut between escapes, and two
    /// long ids that differ only past the cut stay different.
    #[test]
    fn long_strings_fit_graphviz_and_stay_distinct() {
        let short = text(quoted("sg-1 \"web\""));
        assert_eq!(short, "\"sg-1 \\\"web\\\"\"");
        let long = "\\\"é|".repeat(20_000);
        let a = text(quoted(&(long.clone() + "a")));
        let b = text(quoted(&(long + "b")));
        for s in [&a, &b] {
            assert!(s.len() <= DOT_STRING_MAX + 40, "{}", s.len());
            assert!(s.starts_with('"') && s.ends_with('"'));
            // Backslashes come in pairs up to the cut: none escapes the closing quote.
            let body = &s[1..s.len() - 1];
            let cut = body.find('…').expect("marked as cut");
            let mut chars = body[..cut].chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    assert!(chars.next().is_some(), "a backslash ends the cut text");
                }
            }
        }
        assert_ne!(a, b);
    }
}
