//! Selectors: which sources and destinations a policy is about.
//!
//! A selector picks *members* — the things that send and receive: each network
//! interface, except that a load balancer's nodes are one member named by its ARN (so
//! that a flow to it goes through its listeners) — and *external parties*: the
//! internet, on-premises networks, or an address range outside the estate.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::engine::index::Index;
use crate::engine::packet::{self, net_intervals, Interval};
use crate::engine::walk;
use crate::model::*;

/// One selector as written in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// `internet`: any internet address (IPv4 and IPv6).
    Internet,
    /// `onprem`: networks behind VPN gateways.
    Onprem,
    /// `*`: every member.
    All,
    /// `cidr:X` (or a bare address / CIDR).
    Cidr(IpNet),
    /// `tag:K=V`.
    Tag(String, String),
    /// `sg:ID` (id or group name).
    Sg(String),
    /// `sg:referenced`: members of a group that the destination's groups reference.
    SgReferenced,
    /// `subnet:ID` (id or Name tag); `subnet:public` / `subnet:private`.
    Subnet(String),
    /// `vpc:ID` (id or Name tag).
    Vpc(String),
    /// `account:ID`.
    Account(String),
    /// `kind:K`.
    Kind(String),
    /// A resource id, ARN or name.
    Name(String),
    /// `!S`: everything the others select except what S selects.
    Not(Box<Selector>),
}

/// The kinds `kind:` accepts (owner kinds, plus `alb`, `nlb`, `gwlb`, `clb` and `lb`).
pub(crate) const KINDS: &[&str] = &[
    "ec2",
    "rds",
    "lambda",
    "ecs",
    "elb",
    "lb",
    "alb",
    "nlb",
    "gwlb",
    "clb",
    "nat",
    "vpce",
    "gwlbe",
    "tgw-attachment",
    "efs",
    "elasticache",
    "eks",
    "resource-gateway",
    "service",
    "unattached",
];

impl Selector {
    /// Parses one selector; the error says what is accepted.
    pub(crate) fn parse(s: &str) -> Result<Selector, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix('!') {
            let inner = Selector::parse(rest)?;
            if matches!(inner, Selector::Not(_)) {
                return Err(format!("`{s}`: a double negation selects nothing useful"));
            }
            return Ok(Selector::Not(Box::new(inner)));
        }
        if s.is_empty() {
            return Err("an empty selector".into());
        }
        let lower = s.to_ascii_lowercase();
        if lower == "internet" {
            return Ok(Selector::Internet);
        }
        if lower == "onprem" || lower == "on-premises" {
            return Ok(Selector::Onprem);
        }
        if s == "*" || lower == "any" {
            return Ok(Selector::All);
        }
        let nonempty = |v: &str, what: &str| -> Result<String, String> {
            if v.trim().is_empty() {
                Err(format!("`{s}`: write {what}"))
            } else {
                Ok(v.trim().to_string())
            }
        };
        // A bare address or CIDR first: IPv6 ones hold colons (`2001:db8::/64`, `::/0`).
        if let Some(net) = parse_net(s) {
            return Ok(Selector::Cidr(net));
        }
        if let Some((prefix, value)) = s.split_once(':') {
            match prefix.to_ascii_lowercase().as_str() {
                "cidr" => {
                    return parse_net(value.trim())
                        .map(Selector::Cidr)
                        .ok_or_else(|| format!("`{s}`: `{value}` is not an IP address or CIDR"))
                }
                "tag" => {
                    let Some((k, v)) = value.split_once('=') else {
                        return Err(format!("`{s}`: write tag:KEY=VALUE"));
                    };
                    return Ok(Selector::Tag(nonempty(k, "tag:KEY=VALUE")?, v.trim().into()));
                }
                "sg" => {
                    let v = nonempty(value, "sg:ID")?;
                    return Ok(if v == "referenced" {
                        Selector::SgReferenced
                    } else {
                        Selector::Sg(v)
                    });
                }
                "subnet" => return Ok(Selector::Subnet(nonempty(value, "subnet:ID")?)),
                "vpc" => return Ok(Selector::Vpc(nonempty(value, "vpc:ID")?)),
                "account" => return Ok(Selector::Account(nonempty(value, "account:ID")?)),
                "kind" => {
                    let v = value.trim().to_ascii_lowercase();
                    if !KINDS.contains(&v.as_str()) {
                        return Err(format!(
                            "`{s}`: unknown kind `{v}`; kinds are {}",
                            KINDS.join(", ")
                        ));
                    }
                    return Ok(Selector::Kind(v));
                }
                // ARNs contain colons; anything else with a colon is a typo.
                "arn" => return Ok(Selector::Name(s.to_string())),
                other => {
                    return Err(format!(
                        "`{s}`: unknown selector `{other}:`; selectors are internet, onprem, *, an id or name, tag:K=V, sg:ID, subnet:ID, vpc:ID, account:ID, kind:K, cidr:X, and !S to exclude"
                    ))
                }
            }
        }
        Ok(Selector::Name(s.to_string()))
    }

    /// Whether the selector names one specific thing, so that matching nothing is worth a warning.
    pub(crate) fn is_specific(&self) -> bool {
        matches!(
            self,
            Selector::Name(_)
                | Selector::Sg(_)
                | Selector::Subnet(_)
                | Selector::Vpc(_)
                | Selector::Tag(..)
                | Selector::Account(_)
        )
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Internet => f.write_str("internet"),
            Selector::Onprem => f.write_str("onprem"),
            Selector::All => f.write_str("*"),
            Selector::Cidr(n) => write!(f, "cidr:{n}"),
            Selector::Tag(k, v) => write!(f, "tag:{k}={v}"),
            Selector::Sg(g) => write!(f, "sg:{g}"),
            Selector::SgReferenced => f.write_str("sg:referenced"),
            Selector::Subnet(s) => write!(f, "subnet:{s}"),
            Selector::Vpc(v) => write!(f, "vpc:{v}"),
            Selector::Account(a) => write!(f, "account:{a}"),
            Selector::Kind(k) => write!(f, "kind:{k}"),
            Selector::Name(n) => f.write_str(n),
            Selector::Not(s) => write!(f, "!{s}"),
        }
    }
}

pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Something that sends and receives, as policies see it.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The endpoint for the engine: ENI id or load balancer ARN.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The owning resource: instance id, LB ARN, DB identifier, NAT gateway id, or the ENI.
    pub resource: String,
    /// Owner kind.
    pub kind: OwnerKind,
    /// Load balancer type, for load balancers.
    pub lb_kind: Option<LbKind>,
    /// ENI ids (and LB node ids).
    pub enis: Vec<String>,
    /// Ids naming it: ENIs, instance, owner, ARN.
    pub ids: Vec<String>,
    /// Names: Name tags, LB name, DB identifier.
    pub names: Vec<String>,
    /// Tags of the ENI and the instance.
    pub tags: Vec<(String, String)>,
    /// Subnets.
    pub subnets: Vec<String>,
    /// VPCs.
    pub vpcs: Vec<String>,
    /// Security groups.
    pub groups: Vec<String>,
    /// Accounts.
    pub accounts: Vec<String>,
    /// Private and public addresses.
    pub addrs: Vec<Interval>,
}

impl Member {
    pub(crate) fn party(&self) -> super::Party {
        super::Party {
            id: self.id.clone(),
            name: self.name.clone(),
            resource: self.resource.clone(),
            kind: self.kind.as_str().to_string(),
        }
    }
}

/// Every member of a model.
pub(crate) fn members(m: &Model, idx: &Index) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    let mut lbs: std::collections::BTreeMap<String, Member> = Default::default();
    for h in idx.hosts.values() {
        let eni = m.network_interfaces.get(&h.id);
        let account = m
            .subnets
            .get(&h.subnet_id)
            .and_then(|s| s.location.account.clone());
        let mut addrs = h.private.clone();
        addrs.extend(h.public_v4.iter().map(|(p, _)| (*p, *p)));
        if h.kind == OwnerKind::LoadBalancer {
            let arn = h.owner_id.clone().unwrap_or_else(|| h.id.clone());
            let lb = m.load_balancers.get(&arn);
            let e = lbs.entry(arn.clone()).or_insert_with(|| Member {
                id: arn.clone(),
                name: lb.map(|l| l.name.clone()).unwrap_or_else(|| h.name.clone()),
                resource: arn.clone(),
                kind: OwnerKind::LoadBalancer,
                lb_kind: lb.map(|l| l.kind),
                enis: Vec::new(),
                ids: vec![arn.clone()],
                names: lb.map(|l| vec![l.name.clone()]).unwrap_or_default(),
                tags: Vec::new(),
                subnets: Vec::new(),
                vpcs: Vec::new(),
                groups: lb.map(|l| l.security_groups.clone()).unwrap_or_default(),
                accounts: Vec::new(),
                addrs: Vec::new(),
            });
            e.enis.push(h.id.clone());
            e.ids.push(h.id.clone());
            push_unique(&mut e.subnets, &h.subnet_id);
            push_unique(&mut e.vpcs, &h.vpc_id);
            for g in &h.groups {
                push_unique(&mut e.groups, g);
            }
            if let Some(a) = account {
                push_unique(&mut e.accounts, &a);
            }
            e.addrs.extend(addrs);
            continue;
        }
        if h.virtual_node {
            continue;
        }
        let instance = h
            .owner_id
            .as_ref()
            .and_then(|o| m.instances.get(o))
            .filter(|_| h.kind == OwnerKind::Ec2Instance);
        let mut tags: Vec<(String, String)> = Vec::new();
        let mut names: Vec<String> = vec![h.name.clone()];
        if let Some(e) = eni {
            tags.extend(e.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some(n) = name_tag(&e.tags) {
                names.push(n.to_string());
            }
        }
        if let Some(i) = instance {
            tags.extend(i.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some(n) = name_tag(&i.tags) {
                names.push(n.to_string());
            }
        }
        let mut ids = vec![h.id.clone()];
        if let Some(o) = &h.owner_id {
            ids.push(o.clone());
        }
        // A NAT gateway is named by its id whatever the ENI's owner record says.
        for n in m.nat_gateways.values() {
            if n.eni_ids.contains(&h.id) {
                ids.push(n.id.clone());
            }
        }
        for e in m.vpc_endpoints.values() {
            if e.eni_ids.contains(&h.id) {
                ids.push(e.id.clone());
            }
        }
        let resource = match h.kind {
            OwnerKind::Ec2Instance | OwnerKind::Rds | OwnerKind::NatGateway => {
                h.owner_id.clone().unwrap_or_else(|| h.id.clone())
            }
            _ => h.id.clone(),
        };
        out.push(Member {
            id: h.id.clone(),
            name: h.name.clone(),
            resource,
            kind: h.kind,
            lb_kind: None,
            enis: vec![h.id.clone()],
            ids,
            names,
            tags,
            subnets: vec![h.subnet_id.clone()],
            vpcs: vec![h.vpc_id.clone()],
            groups: h.groups.clone(),
            accounts: account.into_iter().collect(),
            addrs,
        });
    }
    out.extend(lbs.into_values());
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Whether a subnet routes to an internet gateway (a public subnet).
pub(crate) fn is_public_subnet(m: &Model, subnet: &str) -> bool {
    m.subnet_route_table(subnet).is_some_and(|rt| {
        rt.routes
            .iter()
            .any(|r| r.active && matches!(r.target, RouteTarget::InternetGateway(_)))
    })
}

fn named(m: &Model, id: &str, wanted: &str, tags: impl Fn(&Model, &str) -> Option<Tags>) -> bool {
    id == wanted || tags(m, id).is_some_and(|t| name_tag(&t) == Some(wanted))
}

/// Whether a member matches a (positive) selector.
pub(crate) fn matches(m: &Model, member: &Member, sel: &Selector, referenced: &[String]) -> bool {
    match sel {
        Selector::Internet | Selector::Onprem => false,
        Selector::All => true,
        Selector::Cidr(net) => {
            let ivs = net_intervals(net);
            member
                .addrs
                .iter()
                .any(|a| ivs.iter().any(|i| i.0 <= a.0 && a.1 <= i.1))
        }
        Selector::Tag(k, v) => member.tags.iter().any(|(a, b)| a == k && b == v),
        Selector::Sg(g) => member.groups.iter().any(|x| {
            x == g
                || m.security_groups
                    .get(x)
                    .is_some_and(|sg| &sg.name == g || name_tag(&sg.tags) == Some(g.as_str()))
        }),
        Selector::SgReferenced => member.groups.iter().any(|g| referenced.contains(g)),
        Selector::Subnet(s) => match s.as_str() {
            "public" => member.subnets.iter().any(|x| is_public_subnet(m, x)),
            "private" => member.subnets.iter().any(|x| !is_public_subnet(m, x)),
            _ => member
                .subnets
                .iter()
                .any(|x| named(m, x, s, |m, id| m.subnets.get(id).map(|s| s.tags.clone()))),
        },
        Selector::Vpc(v) => member
            .vpcs
            .iter()
            .any(|x| named(m, x, v, |m, id| m.vpcs.get(id).map(|s| s.tags.clone()))),
        Selector::Account(a) => member.accounts.iter().any(|x| x == a),
        Selector::Kind(k) => match k.as_str() {
            "lb" | "elb" => member.kind == OwnerKind::LoadBalancer,
            "alb" => member.lb_kind == Some(LbKind::Application),
            "nlb" => member.lb_kind == Some(LbKind::Network),
            "gwlb" => member.lb_kind == Some(LbKind::Gateway),
            "clb" => member.lb_kind == Some(LbKind::Classic),
            other => member.kind.as_str() == other,
        },
        Selector::Name(n) => {
            member.ids.iter().any(|x| x == n)
                || member.names.iter().any(|x| x == n)
                || member.subnets.iter().any(|x| x == n)
                || member.vpcs.iter().any(|x| x == n)
                || member.groups.iter().any(|x| x == n)
        }
        Selector::Not(_) => false,
    }
}

/// An external party: where traffic comes from or goes to outside the estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum External {
    /// Every internet address.
    Internet,
    /// On-premises networks behind the VPN gateways.
    Onprem,
    /// Some addresses (a CIDR selector, or the internet minus excluded ranges).
    Space {
        /// The party's id: the CIDR, or `internet`.
        label: String,
        /// The addresses.
        intervals: Vec<Interval>,
    },
}

impl External {
    pub(crate) fn party(&self) -> super::Party {
        let (id, kind) = match self {
            External::Internet => ("internet".to_string(), "internet"),
            External::Onprem => ("onprem".to_string(), "onprem"),
            External::Space { label, .. } => (
                label.clone(),
                if label == "internet" {
                    "internet"
                } else {
                    "cidr"
                },
            ),
        };
        super::Party {
            name: id.clone(),
            resource: id.clone(),
            id,
            kind: kind.to_string(),
        }
    }

    /// The addresses of the party (the internet's, for `internet`).
    pub(crate) fn space(&self) -> Vec<Interval> {
        match self {
            External::Internet => walk::internet_space(),
            External::Onprem => vec![packet::ALL_ADDRS],
            External::Space { intervals, .. } => intervals.clone(),
        }
    }

    /// The endpoints to ask the engine about: `internet`, `onprem`, or CIDR pieces.
    pub(crate) fn endpoints(&self) -> Vec<String> {
        match self {
            External::Internet => vec!["internet".into()],
            External::Onprem => vec!["onprem".into()],
            External::Space { intervals, .. } => {
                let internet = walk::internet_space();
                if covers(intervals, &internet) && covers(&internet, intervals) {
                    return vec!["internet".into()];
                }
                intervals.iter().flat_map(|iv| cidrs(*iv)).collect()
            }
        }
    }
}

/// Whether `outer` covers every address of `inner`.
pub(crate) fn covers(outer: &[Interval], inner: &[Interval]) -> bool {
    use crate::engine::packet::{Dim, PBox, PacketSet};
    let a = PacketSet::from_box(PBox::FULL).restrict(Dim::Src, inner);
    let b = PacketSet::from_box(PBox::FULL).restrict(Dim::Src, outer);
    a.subtract(&b).is_empty()
}

/// The CIDR blocks that exactly cover an interval of the address axis.
pub(crate) fn cidrs(iv: Interval) -> Vec<String> {
    packet::interval_nets(iv)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The parties a list of selectors picks: members (indices into `all`) and externals.
/// `referenced` lists the groups `sg:referenced` stands for.
pub(crate) fn resolve(
    m: &Model,
    all: &[Member],
    selectors: &[Selector],
    referenced: &[String],
) -> (Vec<usize>, Vec<External>) {
    let positive: Vec<&Selector> = selectors
        .iter()
        .filter(|s| !matches!(s, Selector::Not(_)))
        .collect();
    let negative: Vec<&Selector> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Not(inner) => Some(inner.as_ref()),
            _ => None,
        })
        .collect();
    // Only exclusions: everything but those.
    let all_sel = [&Selector::All];
    let positive: &[&Selector] = if positive.is_empty() {
        &all_sel
    } else {
        &positive
    };
    let mut members: Vec<usize> = Vec::new();
    for (i, mem) in all.iter().enumerate() {
        let picked = positive.iter().any(|s| matches(m, mem, s, referenced));
        let dropped = negative.iter().any(|s| matches(m, mem, s, referenced));
        if picked && !dropped {
            members.push(i);
        }
    }
    let mut externals: Vec<External> = Vec::new();
    let internet_space = walk::internet_space();
    for s in positive {
        match s {
            Selector::Internet => externals.push(External::Internet),
            Selector::Onprem if !walk::onprem_entries(m).is_empty() => {
                externals.push(External::Onprem)
            }
            Selector::Cidr(net) => {
                let ivs = net_intervals(net);
                let held = all.iter().any(|mem| matches(m, mem, s, referenced));
                let touches_internet = !intersect(&ivs, &internet_space).is_empty();
                if touches_internet || !held {
                    externals.push(External::Space {
                        label: net.to_string(),
                        intervals: ivs,
                    });
                }
            }
            _ => {}
        }
    }
    // Exclusions of address ranges carve them out of the external parties.
    let carve: Vec<Interval> = negative
        .iter()
        .flat_map(|s| match s {
            Selector::Cidr(net) => net_intervals(net),
            _ => Vec::new(),
        })
        .collect();
    let drop_internet = negative.iter().any(|s| matches!(s, Selector::Internet));
    let drop_onprem = negative.iter().any(|s| matches!(s, Selector::Onprem));
    let mut out = Vec::new();
    for e in externals {
        match e {
            External::Internet if drop_internet => {}
            External::Onprem if drop_onprem => {}
            External::Onprem => out.push(External::Onprem),
            e if carve.is_empty() => out.push(e),
            e => {
                let label = e.party().id;
                let rest = subtract(&e.space(), &carve);
                if !rest.is_empty() {
                    out.push(External::Space {
                        label,
                        intervals: rest,
                    });
                }
            }
        }
    }
    out.dedup();
    (members, out)
}

/// Address intervals in `a` and in `b`.
pub(crate) fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    use crate::engine::packet::{Dim, PBox, PacketSet};
    PacketSet::from_box(PBox::FULL)
        .restrict(Dim::Src, a)
        .restrict(Dim::Src, b)
        .project(Dim::Src)
}

/// Address intervals in `a` but not in `b`.
pub(crate) fn subtract(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    use crate::engine::packet::{Dim, PBox, PacketSet};
    PacketSet::from_box(PBox::FULL)
        .restrict(Dim::Src, a)
        .subtract(&PacketSet::from_box(PBox::FULL).restrict(Dim::Src, b))
        .project(Dim::Src)
}

/// The groups a member's security groups reference in their inbound rules.
pub(crate) fn referenced_groups(m: &Model, member: &Member) -> Vec<String> {
    let mut out = Vec::new();
    for g in &member.groups {
        if let Some(sg) = m.security_groups.get(g) {
            for r in &sg.ingress {
                if let SgPeer::Group { group_id, .. } = &r.peer {
                    // A group that admits itself is not "the application's" group.
                    if group_id != g {
                        push_unique(&mut out, group_id);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_cover_an_interval_exactly() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        let iv = net_intervals(&net)[0];
        assert_eq!(cidrs(iv), vec!["10.0.0.0/8"]);
        let a = packet::encode("10.0.0.1".parse().unwrap());
        let b = packet::encode("10.0.0.6".parse().unwrap());
        assert_eq!(
            cidrs((a, b)),
            vec!["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        let v6: IpNet = "2000::/3".parse().unwrap();
        assert_eq!(cidrs(net_intervals(&v6)[0]), vec!["2000::/3"]);
    }

    #[test]
    fn selectors_parse_and_reject_typos() {
        assert_eq!(Selector::parse("internet").unwrap(), Selector::Internet);
        assert_eq!(
            Selector::parse("tag:app=orders").unwrap(),
            Selector::Tag("app".into(), "orders".into())
        );
        assert_eq!(
            Selector::parse("!kind:elb").unwrap(),
            Selector::Not(Box::new(Selector::Kind("elb".into())))
        );
        assert!(matches!(
            Selector::parse("10.0.0.0/16").unwrap(),
            Selector::Cidr(_)
        ));
        // Bare IPv6 addresses and CIDRs hold colons: they are not `prefix:value` selectors.
        for bare in [
            "2001:db8:a::/64",
            "::/0",
            "2001:db8:a::10",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                matches!(Selector::parse(bare), Ok(Selector::Cidr(_))),
                "{bare}"
            );
            assert_eq!(
                Selector::parse(&format!("!{bare}")).unwrap(),
                Selector::Not(Box::new(Selector::parse(bare).unwrap())),
                "!{bare}"
            );
        }
        assert_eq!(
            Selector::parse("2001:db8:a::/64").unwrap(),
            Selector::parse("cidr:2001:db8:a::/64").unwrap()
        );
        assert!(Selector::parse("kind:database")
            .unwrap_err()
            .contains("unknown kind"));
        assert!(Selector::parse("sgg:sg-1")
            .unwrap_err()
            .contains("unknown selector"));
        assert!(Selector::parse("tag:app")
            .unwrap_err()
            .contains("tag:KEY=VALUE"));
    }
}
