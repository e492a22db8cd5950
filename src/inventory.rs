//! The inventory: what a snapshot holds, per kind and per account/region,
//! and which AWS defaults the analysis assumes for kinds that are absent.

use std::collections::BTreeMap;

use crate::model::{Diagnostic, LbKind, Location, Model, ResourceKind, SgPeer};

/// Counts of one account/region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationCounts {
    /// Account and region (either may be unknown).
    pub location: Location,
    /// Count per kind (kinds with zero resources are left out).
    pub counts: BTreeMap<ResourceKind, usize>,
}

/// The inventory of a snapshot.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Where the snapshot came from.
    pub origin: String,
    /// Whether the snapshot is marked partial.
    pub partial: bool,
    /// Count per kind over the whole snapshot.
    pub totals: BTreeMap<ResourceKind, usize>,
    /// Counts per account/region.
    pub by_location: Vec<LocationCounts>,
    /// Defaults assumed because a kind was absent from the snapshot.
    pub assumptions: Vec<String>,
    /// Warnings and notes from loading and validation.
    pub diagnostics: Vec<Diagnostic>,
}

/// The defaults the engine assumes when a whole kind of resource is absent.
pub fn assumptions(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    if !model.present_kinds.contains(&ResourceKind::NetworkAcl) && !model.subnets.is_empty() {
        out.push("no network ACLs in the snapshot: every subnet is assumed to use its VPC's default NACL, which allows all traffic".to_string());
    }
    if model.present_kinds.contains(&ResourceKind::NetworkAcl) {
        out.extend(nacls_missing(model));
    }
    if !model.present_kinds.contains(&ResourceKind::SecurityGroup)
        && !model.network_interfaces.is_empty()
    {
        out.push("no security groups in the snapshot: network interfaces are treated as admitting nothing".to_string());
    }
    if !model.present_kinds.contains(&ResourceKind::RouteTable) && !model.subnets.is_empty() {
        out.push(
            "no route tables in the snapshot: every VPC is assumed to have only its local routes"
                .to_string(),
        );
    }
    if !model.present_kinds.contains(&ResourceKind::InternetGateway)
        && !model.internet_gateways.is_empty()
    {
        out.push("no internet gateways in the snapshot: each one an active route names is taken as attached to that route's VPC (AWS marks a route to a detached or deleted gateway `blackhole`)".to_string());
    }
    if !model
        .present_kinds
        .contains(&ResourceKind::EgressOnlyInternetGateway)
        && !model.egress_only_internet_gateways.is_empty()
    {
        out.push("no egress-only internet gateways in the snapshot: each one an active route names is taken as attached to that route's VPC".to_string());
    }
    if model.partial {
        out.push("the snapshot is marked partial (an interrupted or failed collection): resources may be missing".to_string());
    }
    out
}

/// Subnets whose network ACL the snapshot lacks although it has network ACLs: no explicit
/// association, and their VPC's default NACL (every subnet uses one, §2.1, §2.3) is missing — a partial
/// collection. The engine lets their traffic through as a new default NACL would; one line per
/// VPC says so.
fn nacls_missing(model: &Model) -> Vec<String> {
    let mut associated: std::collections::HashSet<&str> = Default::default();
    let mut with_default: std::collections::HashSet<&str> = Default::default();
    let mut collected: std::collections::BTreeSet<&Location> = Default::default();
    for n in model.network_acls.values() {
        associated.extend(n.subnet_ids.iter().map(String::as_str));
        if n.is_default {
            with_default.insert(n.vpc_id.as_str());
        }
        collected.insert(&n.location);
    }
    let mut by_vpc: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in model.subnets.values() {
        if !associated.contains(s.id.as_str()) && !with_default.contains(s.vpc_id.as_str()) {
            by_vpc
                .entry(s.vpc_id.as_str())
                .or_default()
                .push(s.id.as_str());
        }
    }
    by_vpc
        .into_iter()
        .map(|(vpc, subnets)| {
            let location = model.vpcs.get(vpc).map(|v| &v.location);
            match location.filter(|l| !collected.contains(l)) {
                Some(l) => format!(
                    "no network ACLs in the snapshot for {}/{}: the subnets of {vpc} ({}) are assumed to use its default NACL, which allows all traffic",
                    l.account.as_deref().unwrap_or("?"),
                    l.region.as_deref().unwrap_or("?"),
                    listed(&subnets)
                ),
                None => format!(
                    "the default network ACL of {vpc} is not in the snapshot, which has network ACLs: its subnets without an explicit association ({}) are assumed to allow all traffic, as a new default NACL does",
                    listed(&subnets)
                ),
            }
        })
        .collect()
}

/// Up to five ids, then how many more.
pub fn listed(ids: &[&str]) -> String {
    let more = ids.len().saturating_sub(5);
    let shown = ids[..ids.len().min(5)].join(", ");
    if more > 0 {
        format!("{shown} and {more} more")
    } else {
        shown
    }
}

/// [`assumptions`], and what a whole-estate report assumes of security-group rules naming
/// prefix lists whose entries are not in the snapshot (a query says so on the paths concerned
/// instead, and does not pay for looking at every rule).
pub fn report_assumptions(model: &Model) -> Vec<String> {
    let mut out = assumptions(model);
    let named_by_rules = model.lists_of_unknown_entries(
        model
            .security_groups
            .values()
            .flat_map(|sg| sg.ingress.iter().chain(&sg.egress))
            .filter_map(|r| match &r.peer {
                SgPeer::PrefixList(pl) => Some(pl.as_str()),
                _ => None,
            }),
    );
    if !named_by_rules.is_empty() {
        out.push(format!(
            "security-group rules name prefix lists whose entries are not in the snapshot ({}): the report counts them as matching nothing; `exposure query` answers `unknown` for what only they would allow",
            listed(&named_by_rules)
        ));
    }
    // Groups interfaces hold that the snapshot lacks although it has groups (a partial
    // collection): their rules are unknown.
    let missing: std::collections::BTreeSet<&str> = model
        .network_interfaces
        .values()
        .flat_map(|e| model.missing_groups(&e.groups))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.into_iter().collect();
        out.push(format!(
            "network interfaces hold security groups that are not in the snapshot ({}): the report counts their rules as allowing nothing; `exposure query` answers `unknown` for what only they could allow",
            listed(&missing)
        ));
    }
    let routed = model.lists_of_unknown_entries(model.routed_prefix_lists());
    if !routed.is_empty() {
        out.push(format!(
            "route tables route prefix lists whose entries are not in the snapshot ({}): the report takes them as empty; `exposure query` answers `unknown` where they would change the answer",
            listed(&routed)
        ));
    }
    out
}

/// Builds the inventory of a model.
pub fn inventory(origin: &str, model: &Model, diagnostics: &[Diagnostic]) -> Inventory {
    let mut totals = BTreeMap::new();
    for kind in ResourceKind::ALL {
        let n = model.count(kind);
        if n > 0 {
            totals.insert(kind, n);
        }
    }
    let mut per: BTreeMap<Location, BTreeMap<ResourceKind, usize>> = BTreeMap::new();
    let mut add = |loc: &Location, kind: ResourceKind| {
        *per.entry(loc.clone()).or_default().entry(kind).or_default() += 1;
    };
    model
        .vpcs
        .values()
        .for_each(|r| add(&r.location, ResourceKind::Vpc));
    model
        .subnets
        .values()
        .for_each(|r| add(&r.location, ResourceKind::Subnet));
    model
        .route_tables
        .values()
        .for_each(|r| add(&r.location, ResourceKind::RouteTable));
    model
        .network_acls
        .values()
        .for_each(|r| add(&r.location, ResourceKind::NetworkAcl));
    model
        .security_groups
        .values()
        .for_each(|r| add(&r.location, ResourceKind::SecurityGroup));
    model
        .network_interfaces
        .values()
        .for_each(|r| add(&r.location, ResourceKind::NetworkInterface));
    model
        .instances
        .values()
        .for_each(|r| add(&r.location, ResourceKind::Instance));
    model
        .internet_gateways
        .values()
        .for_each(|r| add(&r.location, ResourceKind::InternetGateway));
    model
        .egress_only_internet_gateways
        .values()
        .for_each(|r| add(&r.location, ResourceKind::EgressOnlyInternetGateway));
    model
        .nat_gateways
        .values()
        .for_each(|r| add(&r.location, ResourceKind::NatGateway));
    model
        .vpn_gateways
        .values()
        .for_each(|r| add(&r.location, ResourceKind::VpnGateway));
    model
        .vpn_connections
        .values()
        .for_each(|r| add(&r.location, ResourceKind::VpnConnection));
    model
        .transit_gateways
        .values()
        .for_each(|r| add(&r.location, ResourceKind::TransitGateway));
    model
        .tgw_attachments
        .values()
        .for_each(|r| add(&r.location, ResourceKind::TgwAttachment));
    model
        .tgw_route_tables
        .values()
        .for_each(|r| add(&r.location, ResourceKind::TgwRouteTable));
    model
        .peerings
        .values()
        .for_each(|r| add(&r.location, ResourceKind::Peering));
    model
        .prefix_lists
        .values()
        .for_each(|r| add(&r.location, ResourceKind::PrefixList));
    model
        .vpc_endpoints
        .values()
        .for_each(|r| add(&r.location, ResourceKind::VpcEndpoint));
    model
        .load_balancers
        .values()
        .for_each(|r| add(&r.location, ResourceKind::LoadBalancer));
    for l in model.listeners.values() {
        let loc = model
            .load_balancers
            .get(&l.lb_arn)
            .map(|lb| lb.location.clone())
            .unwrap_or_default();
        add(&loc, ResourceKind::Listener);
    }
    // A Classic Load Balancer's listeners forward to groups of its instances that AWS does
    // not list as target groups: the model's stand-ins are not counted.
    let classic = |arn: &String| {
        model
            .load_balancers
            .get(arn)
            .is_some_and(|lb| lb.kind == LbKind::Classic)
    };
    model
        .target_groups
        .values()
        .filter(|tg| tg.lb_arns.is_empty() || !tg.lb_arns.iter().all(classic))
        .for_each(|r| add(&r.location, ResourceKind::TargetGroup));
    model
        .db_instances
        .values()
        .for_each(|r| add(&r.location, ResourceKind::DbInstance));
    Inventory {
        origin: origin.to_string(),
        partial: model.partial,
        totals,
        by_location: per
            .into_iter()
            .map(|(location, counts)| LocationCounts { location, counts })
            .collect(),
        assumptions: report_assumptions(model),
        diagnostics: diagnostics.to_vec(),
    }
}
