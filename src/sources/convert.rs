//! Conversion of wire types into the vendor-independent model.
//!
//! This is where AWS's encodings are normalised once and for all: protocol
//! names and numbers, `-1` ports, ICMP type/code in `FromPort`/`ToPort`,
//! CIDRs with host bits set, route targets spread over a dozen fields, the
//! two security-group shapes, ENI owners told apart by their description.
//! Resources in non-live states are skipped with a note.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use rayon::prelude::*;

use super::snapshot::{is_region, FileContext, Items, RawSnapshot};
use super::wire;
use crate::model::*;

struct Ctx {
    diagnostics: Vec<Diagnostic>,
}

impl Ctx {
    fn note(&mut self, file: &FileContext, message: String) {
        self.diagnostics.push(Diagnostic {
            level: Level::Note,
            file: Some(file.file.clone()),
            message,
        });
    }
    fn warn(&mut self, file: &FileContext, message: String) {
        self.diagnostics.push(Diagnostic {
            level: Level::Warning,
            file: Some(file.file.clone()),
            message,
        });
    }
    /// A CIDR block (a bare address is its /32 or /128) from `field`, of `family`; one that
    /// does not parse, or of the other family, is a warning naming the field, and ignored.
    fn cidr(
        &mut self,
        file: &FileContext,
        owner: &str,
        field: &str,
        s: &str,
        family: Family,
    ) -> Option<IpNet> {
        match parse_cidr(field, s, family) {
            Ok(n) => Some(n),
            Err(problem) => {
                self.warn(file, format!("{owner}: {problem}; ignored"));
                None
            }
        }
    }
    /// [`Self::cidr`] of an IPv4 field.
    fn cidr4(&mut self, file: &FileContext, owner: &str, field: &str, s: &str) -> Option<Ipv4Net> {
        match self.cidr(file, owner, field, s, Family::V4)? {
            IpNet::V4(n) => Some(n),
            IpNet::V6(_) => None,
        }
    }
    /// [`Self::cidr`] of an IPv6 field.
    fn cidr6(&mut self, file: &FileContext, owner: &str, field: &str, s: &str) -> Option<Ipv6Net> {
        match self.cidr(file, owner, field, s, Family::V6)? {
            IpNet::V6(n) => Some(n),
            IpNet::V4(_) => None,
        }
    }
    /// An address from `field`, of `family`; one that does not parse, or of the other
    /// family, is a warning naming the field, and ignored.
    fn ip(
        &mut self,
        file: &FileContext,
        owner: &str,
        field: &str,
        s: &str,
        family: Family,
    ) -> Option<IpAddr> {
        let problem = match s.trim().parse::<IpAddr>() {
            Ok(a) if family.holds(a) => return Some(a),
            Ok(_) => format!("{field} `{s}` is not an {} address", family.name()),
            Err(_) => format!("{field} `{s}` is not an IP address"),
        };
        self.warn(file, format!("{owner}: {problem}; ignored"));
        None
    }
    /// [`Self::ip`] of an IPv4 field.
    fn ip4(&mut self, file: &FileContext, owner: &str, field: &str, s: &str) -> Option<Ipv4Addr> {
        match self.ip(file, owner, field, s, Family::V4)? {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }
}

/// The address family a field holds: AWS keeps IPv4 and IPv6 in fields of their own
/// (`CidrIp`/`CidrIpv6`, `DestinationCidrBlock`/`DestinationIpv6CidrBlock`, ...); a value of
/// the other family is a mistake, never reinterpreted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Either (a field that takes both, such as a transit gateway route's destination).
    Any,
    V4,
    V6,
}

impl Family {
    fn holds(self, a: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Family::Any => "IP",
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// A CIDR block (host bits cleared; a bare address is its /32 or /128) from `field`, of
/// `family`, or what is wrong with it (naming the field).
fn parse_cidr(field: &str, s: &str, family: Family) -> Result<IpNet, String> {
    let net = match s.trim().parse::<IpNet>() {
        Ok(n) => n.trunc(),
        Err(_) => match s.trim().parse::<IpAddr>() {
            Ok(a) => IpNet::from(a),
            Err(_) => return Err(format!("{field} `{s}` is not a CIDR block")),
        },
    };
    if family.holds(net.addr()) {
        Ok(net)
    } else {
        Err(format!(
            "{field} `{s}` is not an {} CIDR block",
            family.name()
        ))
    }
}

/// A load balancer's, target group's, target's or database's port: 1-65535 (ELBv2 and RDS API
/// references). `None` when absent; `Err` (a message naming `field`) when out of range.
fn service_port(field: &str, v: Option<i64>) -> Result<Option<u16>, String> {
    match v {
        None => Ok(None),
        Some(p) => u16::try_from(p)
            .ok()
            .filter(|p| *p > 0)
            .map(Some)
            .ok_or_else(|| format!("{field} {p} is out of range (1-65535)")),
    }
}

fn tags(list: &[wire::Tag]) -> Tags {
    list.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

/// [`tags`], taking the strings instead of copying them.
fn tags_owned(list: Vec<wire::Tag>) -> Tags {
    list.into_iter().map(|t| (t.key, t.value)).collect()
}

fn region_of_az(az: &str) -> Option<String> {
    let trimmed = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
    is_region(trimmed).then(|| trimmed.to_string())
}

/// `arn:partition:service:region:account:...`
fn arn_parts(arn: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() >= 5 && parts[0] == "arn" {
        let region = (!parts[3].is_empty()).then(|| parts[3].to_string());
        let account = (!parts[4].is_empty()).then(|| parts[4].to_string());
        (account, region)
    } else {
        (None, None)
    }
}

fn location(
    file: &FileContext,
    owner: Option<&str>,
    az: Option<&str>,
    arn: Option<&str>,
) -> Location {
    let (arn_account, arn_region) = arn.map(arn_parts).unwrap_or((None, None));
    Location {
        account: file
            .account
            .clone()
            .or_else(|| {
                owner
                    .filter(|o| o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_string)
            })
            .or(arn_account),
        region: file
            .region
            .clone()
            .or_else(|| az.and_then(region_of_az))
            .or(arn_region),
    }
}

/// `-1`, `all`, names and numbers to one form.
fn protocol(s: &str) -> Option<Protocol> {
    match s.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => Some(Protocol::All),
        "tcp" => Some(Protocol::Number(Protocol::TCP)),
        "udp" => Some(Protocol::Number(Protocol::UDP)),
        "icmp" => Some(Protocol::Number(Protocol::ICMP)),
        "icmpv6" | "ipv6-icmp" => Some(Protocol::Number(Protocol::ICMPV6)),
        n => n.parse::<u8>().ok().map(Protocol::Number),
    }
}

/// A rule's ports: for TCP and UDP the range `from`..=`to` (both 0-65535, `from` not above
/// `to`), for ICMP the type and code (-1 or absent: all). `names` are the fields (`FromPort`,
/// `ToPort`) for the message when they cannot be read: out of range, reversed or missing
/// ports are never widened or swapped, the caller ignores the rule and says so.
fn port_spec(
    proto: Protocol,
    from: Option<i64>,
    to: Option<i64>,
    names: (&str, &str),
) -> Result<PortSpec, String> {
    let (from_name, to_name) = names;
    match proto {
        Protocol::All => Ok(PortSpec::All),
        Protocol::Number(Protocol::TCP) | Protocol::Number(Protocol::UDP) => {
            let port = |v: i64, name: &str| {
                u16::try_from(v).map_err(|_| format!("{name} {v} is out of range (0-65535)"))
            };
            match (from, to) {
                (Some(f), Some(t)) => {
                    let (f, t) = (port(f, from_name)?, port(t, to_name)?);
                    if f > t {
                        Err(format!("{from_name} {f} is above {to_name} {t}"))
                    } else if f == 0 && t == 65535 {
                        Ok(PortSpec::All)
                    } else {
                        Ok(PortSpec::Range(f, t))
                    }
                }
                (None, None) => Err(format!("no {from_name} and {to_name}")),
                (None, Some(_)) => Err(format!("{to_name} without {from_name}")),
                (Some(_), None) => Err(format!("{from_name} without {to_name}")),
            }
        }
        Protocol::Number(Protocol::ICMP) | Protocol::Number(Protocol::ICMPV6) => {
            // -1 (or nothing) is every type, or every code of the type.
            let field = |v: Option<i64>, name: &str, what: &str| match v {
                None | Some(-1) => Ok(None),
                Some(v) => u8::try_from(v)
                    .map(Some)
                    .map_err(|_| format!("{name} {v} is out of range for an ICMP {what} (-1-255)")),
            };
            let kind = field(from, from_name, "type")?;
            let code = field(to, to_name, "code")?;
            Ok(match kind {
                None => PortSpec::Icmp {
                    kind: None,
                    code: None,
                },
                Some(_) => PortSpec::Icmp { kind, code },
            })
        }
        Protocol::Number(_) => Ok(PortSpec::All),
    }
}

fn live(state: Option<&str>, dead: &[&str]) -> bool {
    state.is_none_or(|s| !dead.contains(&s.to_ascii_lowercase().as_str()))
}

/// Action types that forward nothing themselves (an authentication step precedes a forward).
const NON_FORWARDING_ACTIONS: &[&str] = &[
    "authenticate-oidc",
    "authenticate-cognito",
    "jwt-validation",
];

/// A listener's or a rule's action (`owner` names the listener or rule). An action of a type
/// that is not known, or without one, forwards nothing, with a warning.
fn listener_action(
    cx: &mut Ctx,
    f: &FileContext,
    owner: &str,
    a: &wire::ListenerAction,
) -> ListenerAction {
    let kind = a.kind.as_deref().map(|k| k.trim().to_ascii_lowercase());
    if !kind.as_deref().is_some_and(|k| {
        matches!(k, "forward" | "redirect" | "fixed-response")
            || NON_FORWARDING_ACTIONS.contains(&k)
    }) {
        let said = match &a.kind {
            Some(k) => format!("an action of Type `{k}`, which is not known"),
            None => "an action without Type".to_string(),
        };
        cx.warn(
            f,
            format!("{owner}: {said}; taken to forward nothing (types: forward, redirect, fixed-response, {})", NON_FORWARDING_ACTIONS.join(", ")),
        );
    }
    match kind.as_deref() {
        Some("forward") => {
            let mut tgs: Vec<String> = a.target_group_arn.iter().cloned().collect();
            if let Some(fc) = &a.forward_config {
                for t in &fc.target_groups {
                    if let Some(arn) = &t.target_group_arn {
                        if !tgs.contains(arn) {
                            tgs.push(arn.clone());
                        }
                    }
                }
                // A group of weight 0 gets no share of the requests (ELBv2 API reference,
                // `TargetGroupTuple`: requests are split by weight).
                tgs.retain(|arn| {
                    !fc.target_groups
                        .iter()
                        .any(|t| t.target_group_arn.as_ref() == Some(arn) && t.weight == Some(0))
                });
            }
            ListenerAction::Forward(tgs)
        }
        Some("redirect") => ListenerAction::Redirect,
        Some("fixed-response") => ListenerAction::FixedResponse,
        other => ListenerAction::Other(other.unwrap_or("unknown").to_string()),
    }
}

/// The listener a rule belongs to, from the rule's ARN:
/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID`
/// belongs to `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/LB-ID/LISTENER-ID`
/// (`net/` likewise). `None` for anything else.
pub(crate) fn listener_of_rule(rule_arn: &str) -> Option<String> {
    let (head, path) = rule_arn.split_once(":listener-rule/")?;
    if !head.starts_with("arn:") || !head.contains(":elasticloadbalancing:") {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    let well_formed = parts.len() == 5
        && matches!(parts[0], "app" | "net")
        && parts.iter().all(|p| !p.is_empty());
    well_formed.then(|| format!("{head}:listener/{}", parts[..4].join("/")))
}

/// Attaches `describe-rules` output to the listeners: each rule to the listener its file names
/// (`ListenerArn`), else to the one its own ARN names. A rule whose listener is not in the
/// snapshot, or that names none, is a warning. A rule listed twice (two files) is kept once.
fn listener_rules(cx: &mut Ctx, m: &mut Model, sets: Items<wire::ListenerRuleSet>) {
    for (f, set) in sets {
        // Rules that name no listener, warned about once per file (a `Rules` list of another
        // service would otherwise give a warning per item).
        let mut nameless: Vec<String> = Vec::new();
        // Rules by the listener they name when it is not in the snapshot: a warning each.
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in set.rules {
            let listener = set
                .listener_arn
                .clone()
                .or_else(|| r.rule_arn.as_deref().and_then(listener_of_rule));
            let Some(listener_arn) = listener else {
                nameless.push(r.rule_arn.unwrap_or_else(|| "(no RuleArn)".into()));
                continue;
            };
            let priority = r.priority.as_deref().and_then(|p| p.parse::<u32>().ok());
            let arn = r.rule_arn.clone().unwrap_or_else(|| {
                format!(
                    "{listener_arn}/rule-{}",
                    r.priority.as_deref().unwrap_or("unknown")
                )
            });
            let Some(listener) = m.listeners.get_mut(&listener_arn) else {
                missing.entry(listener_arn).or_default().push(arn);
                continue;
            };
            if listener.rules.iter().any(|x| x.arn == arn) {
                continue;
            }
            let owner = format!("listener rule {arn}");
            let actions = r
                .actions
                .iter()
                .map(|a| listener_action(cx, &f, &owner, a))
                .collect();
            listener.rules.push(ListenerRule {
                arn,
                priority,
                is_default: r.is_default || r.priority.as_deref() == Some("default"),
                conditions: r
                    .conditions
                    .iter()
                    .map(|c| c.field.clone().unwrap_or_default())
                    .collect(),
                actions,
            });
        }
        for (listener_arn, rules) in missing {
            let message = match rules.as_slice() {
                [one] => format!(
                    "listener rule {one} belongs to listener {listener_arn} which is not in the snapshot; ignored"
                ),
                [first, rest @ ..] => format!(
                    "listener rules {first} and {} more belong to listener {listener_arn} which is not in the snapshot; ignored",
                    rest.len()
                ),
                [] => continue,
            };
            cx.warn(&f, message);
        }
        if let Some(first) = nameless.first() {
            let n = nameless.len();
            let more = if n == 1 {
                String::new()
            } else {
                format!(" and {} more", n - 1)
            };
            cx.warn(
                &f,
                format!(
                    "{n} rule{} without a listener (the file has no ListenerArn, and no listener-rule ARN names one: {first}{more}); ignored",
                    if n == 1 { "" } else { "s" },
                ),
            );
        }
    }
    for l in m.listeners.values_mut() {
        l.rules.sort_by(|a, b| {
            (a.is_default, a.priority.is_none(), a.priority, &a.arn).cmp(&(
                b.is_default,
                b.priority.is_none(),
                b.priority,
                &b.arn,
            ))
        });
    }
}

/// A load balancer's kind from its `Type`; one missing or not known is taken from the ARN
/// (`loadbalancer/app/`, `net/`, `gwy/`), with a warning when the type was given or the ARN
/// does not say.
fn lb_kind(cx: &mut Ctx, f: &FileContext, arn: &str, given: Option<&str>) -> LbKind {
    let known = |k: &str| match k {
        "application" => Some(LbKind::Application),
        "network" => Some(LbKind::Network),
        "gateway" => Some(LbKind::Gateway),
        _ => None,
    };
    if let Some(kind) = given.and_then(|g| known(g.trim().to_ascii_lowercase().as_str())) {
        return kind;
    }
    let from_arn =
        arn.split_once(":loadbalancer/")
            .and_then(|(_, path)| match path.split('/').next() {
                Some("app") => Some(LbKind::Application),
                Some("net") => Some(LbKind::Network),
                Some("gwy") => Some(LbKind::Gateway),
                _ => None,
            });
    let said = match given {
        Some(g) => format!("Type `{g}` is not known (application, network or gateway)"),
        None => "no Type".to_string(),
    };
    match (from_arn, given) {
        (Some(kind), None) => kind,
        (Some(kind), Some(_)) => {
            cx.warn(
                f,
                format!("load balancer {arn}: {said}; taken as {kind}, as its ARN says"),
            );
            kind
        }
        (None, _) => {
            cx.warn(
                f,
                format!(
                    "load balancer {arn}: {said}, and its ARN does not say; taken as application"
                ),
            );
            LbKind::Application
        }
    }
}

/// Whether a load balancer is internet-facing, from its `Scheme`; one missing or not known
/// is a warning and taken as internet-facing, so that what it forwards is not hidden (the
/// report may then show an exposure that an internal load balancer would not have).
fn internet_facing(cx: &mut Ctx, f: &FileContext, owner: &str, scheme: Option<&str>) -> bool {
    match scheme.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("internet-facing") => true,
        Some("internal") => false,
        _ => {
            let said = match scheme {
                Some(s) => format!("Scheme `{s}` is not known (internet-facing or internal)"),
                None => "no Scheme".to_string(),
            };
            cx.warn(
                f,
                format!("{owner}: {said}; taken as internet-facing (what it forwards may be reported as exposed)"),
            );
            true
        }
    }
}

/// A snapshot without `describe-internet-gateways` (or `describe-egress-only-internet-gateways`)
/// still says where those gateways are: AWS marks a route to a gateway that is detached or
/// deleted `blackhole` (§3.3), so an active route to `igw-…` / `eigw-…` means that gateway is
/// attached to the route table's VPC. Without the kind, each gateway such a route names is
/// taken as attached there (the inventory's assumptions say so); with it, the gateways are as
/// described.
fn infer_gateways_from_routes(m: &mut Model, cx: &mut Ctx) {
    let igws = !m.present_kinds.contains(&ResourceKind::InternetGateway);
    let eigws = !m
        .present_kinds
        .contains(&ResourceKind::EgressOnlyInternetGateway);
    if !igws && !eigws {
        return;
    }
    // (egress-only?, gateway, the route's VPC, its table, location)
    let named: Vec<(bool, String, String, String, Location)> = m
        .route_tables
        .values()
        .flat_map(|rt| {
            rt.routes.iter().filter(|r| r.active).filter_map(move |r| {
                let (egress_only, id) = match &r.target {
                    RouteTarget::InternetGateway(id) if igws => (false, id),
                    RouteTarget::EgressOnlyInternetGateway(id) if eigws => (true, id),
                    _ => return None,
                };
                Some((
                    egress_only,
                    id.clone(),
                    rt.vpc_id.clone(),
                    rt.id.clone(),
                    rt.location.clone(),
                ))
            })
        })
        .collect();
    for (egress_only, id, vpc, rt, location) in named {
        let (vpc_ids, what, call) = if egress_only {
            let g = m
                .egress_only_internet_gateways
                .entry(id.clone())
                .or_insert_with(|| EgressOnlyInternetGateway {
                    id: id.clone(),
                    location,
                    ..EgressOnlyInternetGateway::default()
                });
            (
                &mut g.vpc_ids,
                "egress-only internet gateway",
                "describe-egress-only-internet-gateways",
            )
        } else {
            let g = m
                .internet_gateways
                .entry(id.clone())
                .or_insert_with(|| InternetGateway {
                    id: id.clone(),
                    location,
                    ..InternetGateway::default()
                });
            (
                &mut g.vpc_ids,
                "internet gateway",
                "describe-internet-gateways",
            )
        };
        if !vpc_ids.contains(&vpc) {
            vpc_ids.push(vpc.clone());
            cx.diagnostics.push(Diagnostic {
                level: Level::Note,
                file: None,
                message: format!("{what} {id} is not in the snapshot (no {call}); taken as attached to {vpc}, as route table {rt}'s active route to it says"),
            });
        }
    }
}

/// Builds the model from the raw snapshot.
pub fn convert(raw: RawSnapshot) -> (Model, Vec<Diagnostic>) {
    let mut cx = Ctx {
        diagnostics: raw.diagnostics,
    };
    let mut m = Model {
        partial: raw.partial,
        ..Model::default()
    };
    m.bpa_exclusions_collected = raw.keys_seen.contains("VpcBlockPublicAccessExclusions");
    for key in &raw.keys_seen {
        let kinds: &[ResourceKind] = match *key {
            "Vpcs" => &[ResourceKind::Vpc],
            "Subnets" => &[ResourceKind::Subnet],
            "RouteTables" => &[ResourceKind::RouteTable],
            "NetworkAcls" => &[ResourceKind::NetworkAcl],
            "SecurityGroups" | "SecurityGroupRules" => &[ResourceKind::SecurityGroup],
            "NetworkInterfaces" => &[ResourceKind::NetworkInterface],
            "Reservations" => &[ResourceKind::Instance],
            "InternetGateways" => &[ResourceKind::InternetGateway],
            "EgressOnlyInternetGateways" => &[ResourceKind::EgressOnlyInternetGateway],
            "NatGateways" => &[ResourceKind::NatGateway],
            "VpcPeeringConnections" => &[ResourceKind::Peering],
            "ManagedPrefixLists" | "PrefixLists" | "Entries" => &[ResourceKind::PrefixList],
            "TransitGateways" => &[ResourceKind::TransitGateway],
            "TransitGatewayAttachments" | "TransitGatewayVpcAttachments" => {
                &[ResourceKind::TgwAttachment]
            }
            "TransitGatewayRouteTables" => &[ResourceKind::TgwRouteTable],
            "VpnGateways" => &[ResourceKind::VpnGateway],
            "VpnConnections" => &[ResourceKind::VpnConnection],
            "VpcEndpoints" => &[ResourceKind::VpcEndpoint],
            "LoadBalancers" => &[ResourceKind::LoadBalancer],
            "LoadBalancerDescriptions" => &[
                ResourceKind::LoadBalancer,
                ResourceKind::Listener,
                ResourceKind::TargetGroup,
            ],
            "Listeners" => &[ResourceKind::Listener],
            "TargetGroups" => &[ResourceKind::TargetGroup],
            "DBInstances" => &[ResourceKind::DbInstance],
            _ => &[],
        };
        m.present_kinds.extend(kinds.iter().copied());
    }

    // VPCs (and the region's VPC Block Public Access mode their records show, used where
    // the snapshot lacks `describe-vpc-block-public-access-options`)
    let mut bpa_of_vpcs: Vec<(Arc<FileContext>, Location, String, String)> = Vec::new();
    let (mut vpcs, mut vpc_files) = (Vec::new(), Vec::new());
    for (f, v) in raw.vpcs {
        if !live(v.state.as_deref(), &["deleted"]) {
            continue;
        }
        if let Some(mode) = v
            .block_public_access_states
            .as_ref()
            .and_then(|b| b.internet_gateway_block_mode.clone())
        {
            let at = location(&f, v.owner_id.as_deref(), None, None);
            bpa_of_vpcs.push((f.clone(), at, mode, v.vpc_id.clone()));
        }
        let owner = format!("VPC {}", v.vpc_id);
        let mut cidrs_v4: Vec<Ipv4Net> = Vec::new();
        let mut push4 = |cx: &mut Ctx, field: &str, s: &str| {
            if let Some(n) = cx.cidr4(&f, &owner, field, s) {
                if !cidrs_v4.contains(&n) {
                    cidrs_v4.push(n);
                }
            }
        };
        if let Some(c) = &v.cidr_block {
            push4(&mut cx, "CidrBlock", c);
        }
        for a in &v.cidr_block_association_set {
            let ok = a
                .cidr_block_state
                .as_ref()
                .and_then(|s| s.state.as_deref())
                .is_none_or(|s| s == "associated");
            if let (true, Some(c)) = (ok, &a.cidr_block) {
                push4(&mut cx, "CidrBlockAssociationSet[].CidrBlock", c);
            }
        }
        let mut cidrs_v6 = Vec::new();
        for a in &v.ipv6_cidr_block_association_set {
            let ok = a
                .ipv6_cidr_block_state
                .as_ref()
                .and_then(|s| s.state.as_deref())
                .is_none_or(|s| s == "associated");
            if let (true, Some(c)) = (ok, &a.ipv6_cidr_block) {
                if let Some(n) =
                    cx.cidr6(&f, &owner, "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlock", c)
                {
                    cidrs_v6.push(n);
                }
            }
        }
        let vpc = Vpc {
            location: location(&f, v.owner_id.as_deref(), None, None),
            id: v.vpc_id.clone(),
            cidrs_v4,
            cidrs_v6,
            is_default: v.is_default,
            tags: tags(&v.tags),
        };
        vpcs.push((vpc.id.clone(), vpc));
        vpc_files.push(f);
    }
    m.vpcs = settled_map(&mut cx, "VPC", vpcs, &vpc_files, false, |v| {
        format!(
            "{:?}",
            Vpc {
                location: Location::default(),
                tags: Tags::default(),
                ..v.clone()
            }
        )
    });

    // Subnets
    let (mut subnets, mut subnet_files) = (Vec::new(), Vec::new());
    for (f, s) in raw.subnets {
        let owner = format!("subnet {}", s.subnet_id);
        let cidr_v4 = s
            .cidr_block
            .as_deref()
            .and_then(|c| cx.cidr4(&f, &owner, "CidrBlock", c));
        let cidrs_v6 = s
            .ipv6_cidr_block_association_set
            .iter()
            .filter(|a| {
                a.ipv6_cidr_block_state
                    .as_ref()
                    .and_then(|s| s.state.as_deref())
                    .is_none_or(|s| s == "associated")
            })
            .filter_map(|a| a.ipv6_cidr_block.as_deref())
            .filter_map(|c| cx.cidr6(&f, &owner, "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlock", c))
            .collect();
        let subnet = Subnet {
            location: location(
                &f,
                s.owner_id.as_deref(),
                s.availability_zone.as_deref(),
                s.subnet_arn.as_deref(),
            ),
            id: s.subnet_id,
            vpc_id: s.vpc_id,
            az: s.availability_zone,
            az_id: s.availability_zone_id,
            cidr_v4,
            cidrs_v6,
            map_public_ip_on_launch: s.map_public_ip_on_launch,
            tags: tags(&s.tags),
        };
        subnets.push((subnet.id.clone(), subnet));
        subnet_files.push(f);
    }
    m.subnets = settled_map(&mut cx, "subnet", subnets, &subnet_files, false, |v| {
        format!(
            "{:?}",
            Subnet {
                location: Location::default(),
                tags: Tags::default(),
                ..v.clone()
            }
        )
    });

    // Route tables
    let (mut tables, mut table_files) = (Vec::new(), Vec::new());
    for (f, rt) in raw.route_tables {
        let mut table = RouteTable {
            location: location(&f, rt.owner_id.as_deref(), None, None),
            id: rt.route_table_id.clone(),
            vpc_id: rt.vpc_id.clone(),
            tags: tags(&rt.tags),
            propagating_vgws: rt
                .propagating_vgws
                .iter()
                .map(|p| p.gateway_id.clone())
                .collect(),
            ..RouteTable::default()
        };
        for a in &rt.associations {
            let state = a
                .association_state
                .as_ref()
                .and_then(|s| s.state.as_deref());
            if !live(state, &["disassociated", "disassociating", "failed"]) {
                continue;
            }
            if a.main {
                table.is_main = true;
            }
            if let Some(s) = &a.subnet_id {
                table.subnet_ids.push(s.clone());
            }
            if let Some(g) = &a.gateway_id {
                table.gateway_ids.push(g.clone());
            }
        }
        for r in &rt.routes {
            let cidr = match (&r.destination_cidr_block, &r.destination_ipv6_cidr_block) {
                (Some(c), _) => Some(parse_cidr("DestinationCidrBlock", c, Family::V4)),
                (None, Some(c)) => Some(parse_cidr("DestinationIpv6CidrBlock", c, Family::V6)),
                (None, None) => None,
            };
            let destination = if let Some(cidr) = cidr {
                match cidr {
                    Ok(n) => RouteDestination::Cidr(n),
                    Err(problem) => {
                        cx.warn(
                            &f,
                            format!(
                                "route table {}: {problem}; route ignored",
                                rt.route_table_id
                            ),
                        );
                        continue;
                    }
                }
            } else if let Some(pl) = &r.destination_prefix_list_id {
                RouteDestination::PrefixList(pl.clone())
            } else {
                cx.warn(
                    &f,
                    format!(
                        "route table {}: a route without a destination; ignored",
                        rt.route_table_id
                    ),
                );
                continue;
            };
            // §3.3: a route's target is in one field per kind of target; a route naming several
            // cannot be resolved.
            let named: Vec<&str> = [
                &r.nat_gateway_id,
                &r.transit_gateway_id,
                &r.vpc_peering_connection_id,
                &r.egress_only_internet_gateway_id,
                &r.network_interface_id,
                &r.instance_id,
                &r.gateway_id,
                &r.local_gateway_id,
                &r.carrier_gateway_id,
                &r.core_network_arn,
                &r.odb_network_arn,
                &r.ip_address,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
            let target = if named.len() > 1
                // An instance route names the instance's interface too.
                && !(named.len() == 2 && r.instance_id.is_some() && r.network_interface_id.is_some())
            {
                let targets = named.join(", ");
                cx.warn(
                    &f,
                    format!(
                        "route table {}: the route to {destination} names several targets ({targets}); flows it takes are unknown",
                        rt.route_table_id
                    ),
                );
                RouteTarget::Other(format!("several targets ({targets})"))
            } else if let Some(id) = &r.nat_gateway_id {
                RouteTarget::NatGateway(id.clone())
            } else if let Some(id) = &r.transit_gateway_id {
                RouteTarget::TransitGateway(id.clone())
            } else if let Some(id) = &r.vpc_peering_connection_id {
                RouteTarget::Peering(id.clone())
            } else if let Some(id) = &r.egress_only_internet_gateway_id {
                RouteTarget::EgressOnlyInternetGateway(id.clone())
            } else if let Some(id) = &r.network_interface_id {
                RouteTarget::NetworkInterface(id.clone())
            } else if let Some(id) = &r.instance_id {
                RouteTarget::Instance(id.clone())
            } else if let Some(id) = &r.gateway_id {
                if id == "local" {
                    RouteTarget::Local
                } else if id.starts_with("igw-") {
                    RouteTarget::InternetGateway(id.clone())
                } else if id.starts_with("vgw-") {
                    RouteTarget::VpnGateway(id.clone())
                } else if id.starts_with("vpce-") {
                    RouteTarget::VpcEndpoint(id.clone())
                } else {
                    RouteTarget::Other(id.clone())
                }
            } else if let Some(id) = r
                .local_gateway_id
                .as_ref()
                .or(r.carrier_gateway_id.as_ref())
                .or(r.core_network_arn.as_ref())
                .or(r.odb_network_arn.as_ref())
            {
                RouteTarget::Other(id.clone())
            } else if let Some(ip) = &r.ip_address {
                RouteTarget::Other(format!("{ip} (a Route Server next hop)"))
            } else {
                RouteTarget::Other("unknown".into())
            };
            let origin = match r.origin.as_deref() {
                Some("EnableVgwRoutePropagation") => RouteOrigin::Propagated,
                Some("CreateRouteTable") if target == RouteTarget::Local => RouteOrigin::Local,
                _ if target == RouteTarget::Local => RouteOrigin::Local,
                _ => RouteOrigin::Static,
            };
            table.routes.push(Route {
                destination,
                target,
                active: r.state.as_deref() != Some("blackhole"),
                origin,
            });
        }
        tables.push((table.id.clone(), table));
        table_files.push(f);
    }
    m.route_tables = settled_map(&mut cx, "route table", tables, &table_files, false, |v| {
        format!(
            "{:?}",
            RouteTable {
                location: Location::default(),
                tags: Tags::default(),
                ..v.clone()
            }
        )
    });

    // NACLs
    let (mut nacls, mut nacl_files) = (Vec::new(), Vec::new());
    for (f, n) in raw.network_acls {
        let mut entries = Vec::new();
        for e in &n.entries {
            let owner = format!("network ACL {} rule {}", n.network_acl_id, e.rule_number);
            // Ignoring an entry leaves what it covers to the entries after it: the warning says
            // which way the entry went, since dropping a deny can open what it closed.
            let allow = match e.rule_action.trim().to_ascii_lowercase().as_str() {
                "allow" => true,
                "deny" => false,
                _ => {
                    cx.warn(
                        &f,
                        format!("{owner}: RuleAction `{}` is neither allow nor deny; rule ignored (the rules after it decide the traffic it covers)", e.rule_action),
                    );
                    continue;
                }
            };
            let action = if allow { "an allow" } else { "a deny" };
            let ignored = |problem: &str| {
                format!("{owner}: {problem}; rule ignored ({action} rule: the rules after it decide the traffic it covers)")
            };
            let Some(proto) = protocol(&e.protocol) else {
                cx.warn(&f, ignored(&format!("unknown protocol `{}`", e.protocol)));
                continue;
            };
            let cidr = match (&e.cidr_block, &e.ipv6_cidr_block) {
                (Some(c), _) => parse_cidr("CidrBlock", c, Family::V4),
                (None, Some(c)) => parse_cidr("Ipv6CidrBlock", c, Family::V6),
                (None, None) => Err("no CidrBlock or Ipv6CidrBlock".into()),
            };
            let cidr = match cidr {
                Ok(cidr) => cidr,
                Err(problem) => {
                    cx.warn(&f, ignored(&problem));
                    continue;
                }
            };
            let ports = match proto {
                Protocol::Number(Protocol::TCP) | Protocol::Number(Protocol::UDP) => {
                    match &e.port_range {
                        Some(p) => {
                            port_spec(proto, p.from, p.to, ("PortRange.From", "PortRange.To"))
                        }
                        None => Err("no PortRange".to_string()),
                    }
                }
                Protocol::Number(Protocol::ICMP) | Protocol::Number(Protocol::ICMPV6) => {
                    // ICMPv6 with an IPv4 CIDR matches every type (§2.2).
                    match (&e.icmp_type_code, cidr) {
                        (Some(t), IpNet::V6(_)) | (Some(t), IpNet::V4(_))
                            if !(proto == Protocol::Number(Protocol::ICMPV6)
                                && cidr.addr().is_ipv4()) =>
                        {
                            port_spec(
                                proto,
                                t.kind,
                                t.code,
                                ("IcmpTypeCode.Type", "IcmpTypeCode.Code"),
                            )
                        }
                        _ => Ok(PortSpec::Icmp {
                            kind: None,
                            code: None,
                        }),
                    }
                }
                _ => Ok(PortSpec::All),
            };
            let ports = match ports {
                Ok(p) => p,
                Err(problem) => {
                    cx.warn(&f, ignored(&problem));
                    continue;
                }
            };
            // 1-32766 for the rules one writes, 32767 and 32768 for the `*` rules AWS adds
            // (IPv4, IPv6).
            if !(1..=32768).contains(&e.rule_number) {
                cx.warn(
                    &f,
                    ignored(
                        "rule number out of range (1-32766; 32767 and 32768 are the default rules)",
                    ),
                );
                continue;
            }
            entries.push(NaclEntry {
                rule_number: e.rule_number as u32,
                egress: e.egress,
                allow,
                protocol: proto,
                ports,
                cidr,
            });
        }
        entries.sort_by_key(|e| (e.egress, e.rule_number));
        let nacl = NetworkAcl {
            location: location(&f, n.owner_id.as_deref(), None, None),
            id: n.network_acl_id.clone(),
            vpc_id: n.vpc_id.clone(),
            is_default: n.is_default,
            subnet_ids: n
                .associations
                .iter()
                .filter_map(|a| a.subnet_id.clone())
                .collect(),
            entries,
            tags: tags(&n.tags),
        };
        nacls.push((nacl.id.clone(), nacl));
        nacl_files.push(f);
    }
    m.network_acls = settled_map(&mut cx, "network ACL", nacls, &nacl_files, false, |v| {
        format!(
            "{:?}",
            NetworkAcl {
                location: Location::default(),
                tags: Tags::default(),
                ..v.clone()
            }
        )
    });

    // Security groups: describe-security-group-rules wins over IpPermissions for a group
    // present in both (the same rules, with their sgr- ids).
    let mut rules_by_group: BTreeMap<String, GroupRules> = BTreeMap::new();
    for (f, r) in raw.security_group_rules {
        let owner = format!(
            "security group rule {}",
            r.security_group_rule_id.as_deref().unwrap_or(&r.group_id)
        );
        let Some(proto) = protocol(&r.ip_protocol) else {
            cx.warn(
                &f,
                format!(
                    "{owner}: unknown protocol `{}`; rule ignored",
                    r.ip_protocol
                ),
            );
            continue;
        };
        let cidr = match (&r.cidr_ipv4, &r.cidr_ipv6) {
            (Some(c), _) => Some(("CidrIpv4", c, Family::V4)),
            (None, Some(c)) => Some(("CidrIpv6", c, Family::V6)),
            (None, None) => None,
        };
        let peer = if let Some((field, c, family)) = cidr {
            match cx.cidr(&f, &owner, field, c, family) {
                Some(n) => SgPeer::Cidr(n),
                None => continue,
            }
        } else if let Some(pl) = &r.prefix_list_id {
            SgPeer::PrefixList(pl.clone())
        } else if let Some(g) = &r.referenced_group_info {
            match group_peer(&mut cx, &f, &owner, r.is_egress, g) {
                Some(p) => p,
                None => continue,
            }
        } else {
            cx.warn(
                &f,
                format!("{owner}: no peer (CIDR, prefix list or group); rule ignored"),
            );
            continue;
        };
        let ports = match port_spec(proto, r.from_port, r.to_port, ("FromPort", "ToPort")) {
            Ok(p) => p,
            Err(problem) => {
                cx.warn(
                    &f,
                    sg_rule_ignored(&owner, r.is_egress, &r.ip_protocol, &problem),
                );
                continue;
            }
        };
        let rule = SgRule {
            id: r.security_group_rule_id.clone(),
            protocol: proto,
            ports,
            peer,
            description: r.description.clone(),
        };
        let entry = rules_by_group
            .entry(r.group_id.clone())
            .or_insert_with(|| (Vec::new(), Vec::new(), f.clone(), r.group_owner_id.clone()));
        if r.is_egress {
            entry.1.push(rule);
        } else {
            entry.0.push(rule);
        }
    }
    // A group's rules from describe-security-group-rules go to its first description.
    let pending: Vec<(Arc<FileContext>, wire::SecurityGroup, Option<SgRules>)> = raw
        .security_groups
        .into_iter()
        .map(|(f, g)| {
            let rules = rules_by_group
                .remove(&g.group_id)
                .map(|(i, e, _, _)| (i, e));
            (f, g, rules)
        })
        .collect();
    let converted: Vec<(SecurityGroup, Vec<Diagnostic>, Arc<FileContext>)> = pending
        .into_par_iter()
        .map(|(f, g, rules)| {
            let mut cx = Ctx {
                diagnostics: Vec::new(),
            };
            let (ingress, egress) = match rules {
                Some(rules) => rules,
                None => (
                    permissions(&mut cx, &f, &g.group_id, false, &g.ip_permissions),
                    permissions(&mut cx, &f, &g.group_id, true, &g.ip_permissions_egress),
                ),
            };
            let sg = SecurityGroup {
                location: location(&f, g.owner_id.as_deref(), None, None),
                id: g.group_id,
                name: g.group_name.unwrap_or_default(),
                description: g.description.unwrap_or_default(),
                vpc_id: g.vpc_id.unwrap_or_default(),
                ingress,
                egress,
                tags: tags_owned(g.tags),
            };
            (sg, cx.diagnostics, f)
        })
        .collect();
    let mut groups = Vec::with_capacity(converted.len() + rules_by_group.len());
    let mut group_files = Vec::with_capacity(groups.capacity());
    for (sg, diagnostics, f) in converted {
        cx.diagnostics.extend(diagnostics);
        groups.push((sg.id.clone(), sg));
        group_files.push(f);
    }
    // Groups known only from describe-security-group-rules: their VPC comes from their ENIs below.
    for (id, (ingress, egress, f, owner)) in rules_by_group {
        groups.push((
            id.clone(),
            SecurityGroup {
                location: location(&f, owner.as_deref(), None, None),
                id,
                ingress,
                egress,
                ..SecurityGroup::default()
            },
        ));
        group_files.push(f);
    }
    m.security_groups = settled_map(
        &mut cx,
        "security group",
        groups,
        &group_files,
        false,
        |v| {
            format!(
                "{:?}",
                SecurityGroup {
                    location: Location::default(),
                    tags: Tags::default(),
                    ..v.clone()
                }
            )
        },
    );

    // Prefix lists
    for (f, p) in raw.managed_prefix_lists {
        if !live(
            p.state.as_deref(),
            &["delete-complete", "delete-in-progress", "delete-failed"],
        ) {
            cx.note(
                &f,
                format!("prefix list {} is being deleted; skipped", p.prefix_list_id),
            );
            continue;
        }
        m.prefix_lists.insert(
            p.prefix_list_id.clone(),
            PrefixList {
                location: location(&f, p.owner_id.as_deref(), None, None),
                id: p.prefix_list_id,
                name: p.prefix_list_name.unwrap_or_default(),
                cidrs: Vec::new(),
                entries_known: false,
                ipv4: list_family(p.address_family.as_deref()),
                assumed: false,
            },
        );
    }
    // A list's entries are of its address family (`AddressFamily`, when a description gives it).
    let family_of = |ipv4: Option<bool>| match ipv4 {
        Some(true) => Family::V4,
        Some(false) => Family::V6,
        None => Family::Any,
    };
    for (f, p) in raw.service_prefix_lists {
        // describe-managed-prefix-lists prints under the same key without entries.
        let known = p.cidrs.is_some();
        let family = family_of(
            list_family(p.address_family.as_deref())
                .or_else(|| m.prefix_lists.get(&p.prefix_list_id).and_then(|l| l.ipv4)),
        );
        let owner = format!("prefix list {}", p.prefix_list_id);
        let cidrs: Vec<IpNet> = p
            .cidrs
            .iter()
            .flatten()
            .filter_map(|c| cx.cidr(&f, &owner, "Cidrs[]", c, family))
            .collect();
        let entry = m
            .prefix_lists
            .entry(p.prefix_list_id.clone())
            .or_insert_with(|| PrefixList {
                location: location(&f, None, None, None),
                id: p.prefix_list_id.clone(),
                ..PrefixList::default()
            });
        entry.name = p.prefix_list_name.unwrap_or(entry.name.clone());
        entry.ipv4 = list_family(p.address_family.as_deref()).or(entry.ipv4);
        if known {
            entry.cidrs.extend(cidrs);
            entry.entries_known = true;
        }
    }
    for (f, (id, entries)) in raw.prefix_list_entries {
        let family = family_of(m.prefix_lists.get(&id).and_then(|l| l.ipv4));
        let owner = format!("prefix list {id}");
        let cidrs: Vec<IpNet> = entries
            .iter()
            .filter_map(|e| cx.cidr(&f, &owner, "Entries[].Cidr", &e.cidr, family))
            .collect();
        let entry = m
            .prefix_lists
            .entry(id.clone())
            .or_insert_with(|| PrefixList {
                location: location(&f, None, None, None),
                id: id.clone(),
                ..PrefixList::default()
            });
        entry.cidrs.extend(cidrs);
        entry.entries_known = true;
    }

    // Elastic IPs, by ENI and private address; and every associated one with what it is
    // associated with (an interface, or an instance), checked against the interfaces once
    // they are known.
    let mut eips: Eips = BTreeMap::new();
    let mut associated: Vec<(Ipv4Addr, String)> = Vec::new();
    for (f, a) in &raw.addresses {
        let with = a
            .network_interface_id
            .as_ref()
            .or(a.instance_id.as_ref())
            .or(a.association_id.as_ref());
        let (Some(with), Some(public)) = (with, &a.public_ip) else {
            continue;
        };
        let owner = format!(
            "Elastic IP {}",
            a.allocation_id.as_deref().unwrap_or(public)
        );
        let Some(public) = cx.ip4(f, &owner, "PublicIp", public) else {
            continue;
        };
        associated.push((public, with.clone()));
        let Some(eni) = &a.network_interface_id else {
            continue;
        };
        let private = a
            .private_ip_address
            .as_deref()
            .and_then(|p| p.parse::<Ipv4Addr>().ok());
        eips.entry(eni.clone()).or_default().insert(private, public);
    }

    // Instances (and the ENIs their description carries, for snapshots without
    // describe-network-interfaces), converted in parallel and gathered in order. An ENI that
    // describe-network-interfaces also lists is dropped there: that description counts (see
    // the network interfaces below), and moving the copies around cost more than the rest.
    let described: HashSet<&str> = raw
        .network_interfaces
        .iter()
        .map(|(_, e)| e.network_interface_id.as_str())
        .collect();
    let converted: Vec<Vec<Result<(Instance, InstanceEnis), Diagnostic>>> = raw
        .reservations
        .into_par_iter()
        .map(|(f, res)| {
            let owner = res.owner_id;
            res.instances
                .into_iter()
                .map(|i| instance(&f, owner.as_deref(), i, &described))
                .collect()
        })
        .collect();
    drop(described);
    let mut instance_enis: InstanceEnis = Vec::new();
    let mut instances = Vec::with_capacity(converted.iter().map(Vec::len).sum());
    for outcome in converted.into_iter().flatten() {
        match outcome {
            Ok((instance, enis)) => {
                instance_enis.extend(enis);
                instances.push((instance.id.clone(), instance));
            }
            Err(note) => cx.diagnostics.push(note),
        }
    }
    m.instances = sorted_map(instances);

    // Gateways
    for (f, g) in raw.internet_gateways {
        let mut vpc_ids = Vec::new();
        for a in &g.attachments {
            if matches!(
                a.state.as_deref(),
                None | Some("available") | Some("attached")
            ) {
                vpc_ids.push(a.vpc_id.clone());
            } else {
                cx.note(
                    &f,
                    format!(
                        "internet gateway {}'s attachment to {} is {}; ignored",
                        g.internet_gateway_id,
                        a.vpc_id,
                        a.state.as_deref().unwrap_or("")
                    ),
                );
            }
        }
        m.internet_gateways.insert(
            g.internet_gateway_id.clone(),
            InternetGateway {
                location: location(&f, g.owner_id.as_deref(), None, None),
                id: g.internet_gateway_id,
                vpc_ids,
                tags: tags(&g.tags),
            },
        );
    }
    for (f, g) in raw.egress_only_internet_gateways {
        let vpc_ids = g
            .attachments
            .iter()
            .filter(|a| {
                matches!(
                    a.state.as_deref(),
                    None | Some("available") | Some("attached")
                )
            })
            .map(|a| a.vpc_id.clone())
            .collect();
        m.egress_only_internet_gateways.insert(
            g.egress_only_internet_gateway_id.clone(),
            EgressOnlyInternetGateway {
                location: location(&f, None, None, None),
                id: g.egress_only_internet_gateway_id,
                vpc_ids,
                tags: tags(&g.tags),
            },
        );
    }
    infer_gateways_from_routes(&mut m, &mut cx);
    for (f, n) in raw.nat_gateways {
        if !live(n.state.as_deref(), &["deleted", "failed"]) {
            m.dead_nat_gateways.insert(
                n.nat_gateway_id.clone(),
                n.state.clone().unwrap_or_default(),
            );
            cx.note(
                &f,
                format!(
                    "NAT gateway {} is {}; skipped",
                    n.nat_gateway_id,
                    n.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let mut nat = NatGateway {
            location: location(&f, None, None, None),
            id: n.nat_gateway_id.clone(),
            subnet_id: n.subnet_id.clone().unwrap_or_default(),
            vpc_id: n.vpc_id.clone().unwrap_or_default(),
            public: n.connectivity_type.as_deref() != Some("private"),
            unsettled: n
                .state
                .clone()
                .filter(|s| matches!(s.as_str(), "pending" | "deleting")),
            tags: tags(&n.tags),
            ..NatGateway::default()
        };
        if let Some(state) = &nat.unsettled {
            cx.note(
                &f,
                format!(
                    "NAT gateway {} is {state}: the traffic routed to it is `unknown`",
                    nat.id
                ),
            );
        }
        // The primary address first (the list has no order of its own), then as listed.
        let mut addresses: Vec<&wire::NatGatewayAddress> = n.nat_gateway_addresses.iter().collect();
        addresses.sort_by_key(|a| a.is_primary != Some(true));
        // An address whose association failed is not the gateway's (the other states are
        // taken as they are: a pair being assigned or released may carry connections).
        for a in addresses.into_iter().filter(|a| {
            !a.status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("failed"))
        }) {
            if let Some(e) = &a.network_interface_id {
                if !nat.eni_ids.contains(e) {
                    nat.eni_ids.push(e.clone());
                }
            }
            let owner = format!("NAT gateway {}", n.nat_gateway_id);
            let private = a
                .private_ip
                .as_deref()
                .and_then(|p| cx.ip4(&f, &owner, "NatGatewayAddresses[].PrivateIp", p));
            if let Some(p) = private {
                nat.private_ips.push(p);
            }
            if let Some(p) = a
                .public_ip
                .as_deref()
                .and_then(|p| cx.ip4(&f, &owner, "NatGatewayAddresses[].PublicIp", p))
            {
                nat.public_ips.push(p);
                if let Some(private) = private {
                    nat.pairs.push((private, p));
                }
            }
        }
        m.nat_gateways.insert(nat.id.clone(), nat);
    }
    for (f, g) in raw.vpn_gateways {
        if !live(g.state.as_deref(), &["deleted", "deleting"]) {
            cx.note(
                &f,
                format!(
                    "VPN gateway {} is {}; skipped",
                    g.vpn_gateway_id,
                    g.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let vpc_ids = g
            .vpc_attachments
            .iter()
            .filter(|a| {
                matches!(
                    a.state.as_deref(),
                    None | Some("attached") | Some("available")
                )
            })
            .map(|a| a.vpc_id.clone())
            .collect();
        m.vpn_gateways.insert(
            g.vpn_gateway_id.clone(),
            VpnGateway {
                location: location(&f, None, None, None),
                id: g.vpn_gateway_id,
                vpc_ids,
                tags: tags(&g.tags),
            },
        );
    }
    for (f, v) in raw.vpn_connections {
        if !live(v.state.as_deref(), &["deleted", "deleting"]) {
            cx.note(
                &f,
                format!(
                    "VPN connection {} is {}; skipped",
                    v.vpn_connection_id,
                    v.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let static_routes = v
            .routes
            .iter()
            .filter(|r| live(r.state.as_deref(), &["deleted", "deleting"]))
            .filter_map(|r| r.destination_cidr_block.as_deref())
            .filter_map(|c| {
                cx.cidr(
                    &f,
                    &format!("VPN connection {}", v.vpn_connection_id),
                    "Routes[].DestinationCidrBlock",
                    c,
                    Family::Any,
                )
            })
            .collect();
        // The tunnels carry one address family (IPv6 only on a transit gateway), between the
        // local (on-premises) and remote (AWS) networks the options name, all by default.
        let o = v.options.as_ref();
        let ipv6 = v.transit_gateway_id.is_some()
            && o.and_then(|o| o.tunnel_inside_ip_version.as_deref()) == Some("ipv6");
        if v.vpn_gateway_id.is_some()
            && o.and_then(|o| o.tunnel_inside_ip_version.as_deref()) == Some("ipv6")
        {
            cx.warn(
                &f,
                format!(
                    "VPN connection {} on a virtual private gateway says its tunnels carry IPv6, which only a transit gateway's do: taken as IPv4",
                    v.vpn_connection_id
                ),
            );
        }
        let (local, remote, all, family, fam) = match o {
            Some(o) if ipv6 => (
                &o.local_ipv6_network_cidr,
                &o.remote_ipv6_network_cidr,
                "::/0",
                Family::V6,
                "Ipv6",
            ),
            Some(o) => (
                &o.local_ipv4_network_cidr,
                &o.remote_ipv4_network_cidr,
                "0.0.0.0/0",
                Family::V4,
                "Ipv4",
            ),
            None => (&None, &None, "0.0.0.0/0", Family::V4, "Ipv4"),
        };
        // A network that cannot be read (or is of the other family) is every address, as when
        // the option is absent: said in the warning.
        let mut net = |given: &Option<String>, side: &str| -> IpNet {
            let all: IpNet = all.parse().expect("a valid network");
            let Some(c) = given.as_deref() else {
                return all;
            };
            let field = format!("Options.{side}{fam}NetworkCidr");
            parse_cidr(&field, c, family).unwrap_or_else(|problem| {
                cx.warn(
                    &f,
                    format!(
                        "VPN connection {}: {problem}; ignored (taken as {all}, as when absent)",
                        v.vpn_connection_id
                    ),
                );
                all
            })
        };
        let (local_net, remote_net) = (net(local, "Local"), net(remote, "Remote"));
        m.vpn_connections.insert(
            v.vpn_connection_id.clone(),
            VpnConnection {
                local_net,
                remote_net,
                location: location(&f, None, None, None),
                id: v.vpn_connection_id,
                vpn_gateway_id: v.vpn_gateway_id,
                transit_gateway_id: v.transit_gateway_id,
                static_routes_only: v
                    .options
                    .as_ref()
                    .and_then(|o| o.static_routes_only)
                    .unwrap_or(false),
                static_routes,
                tunnels_down: !v.vgw_telemetry.is_empty()
                    && v.vgw_telemetry
                        .iter()
                        .all(|t| t.status.as_deref() == Some("DOWN")),
            },
        );
    }

    // Peering connections
    for (f, p) in raw.peerings {
        let code = p
            .status
            .as_ref()
            .and_then(|s| s.code.as_deref())
            .unwrap_or("active");
        if code != "active" {
            cx.note(
                &f,
                format!(
                    "peering connection {} is {code}; skipped (only active peerings carry traffic)",
                    p.vpc_peering_connection_id
                ),
            );
            continue;
        }
        let (Some(req), Some(acc)) = (&p.requester_vpc_info, &p.accepter_vpc_info) else {
            cx.warn(
                &f,
                format!(
                    "peering connection {} lacks its requester or accepter VPC; skipped",
                    p.vpc_peering_connection_id
                ),
            );
            continue;
        };
        let owner = format!("peering connection {}", p.vpc_peering_connection_id);
        let cidrs = |cx: &mut Ctx, i: &wire::PeeringVpcInfo, side: &str| -> Vec<IpNet> {
            let mut out: Vec<IpNet> = Vec::new();
            let v4 = i
                .cidr_block
                .iter()
                .map(|c| ("CidrBlock", c))
                .chain(
                    i.cidr_block_set
                        .iter()
                        .filter_map(|c| c.cidr_block.as_ref())
                        .map(|c| ("CidrBlockSet[].CidrBlock", c)),
                )
                .map(|(field, c)| (field, c, Family::V4));
            let v6 = i
                .ipv6_cidr_block_set
                .iter()
                .filter_map(|c| c.ipv6_cidr_block.as_ref())
                .map(|c| ("Ipv6CidrBlockSet[].Ipv6CidrBlock", c, Family::V6));
            for (field, c, family) in v4.chain(v6) {
                let field = format!("{side}.{field}");
                if let Some(n) = cx.cidr(&f, &owner, &field, c, family) {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
            out
        };
        let peering = Peering {
            location: location(&f, req.owner_id.as_deref(), None, None),
            id: p.vpc_peering_connection_id.clone(),
            requester_vpc: req.vpc_id.clone().unwrap_or_default(),
            accepter_vpc: acc.vpc_id.clone().unwrap_or_default(),
            // Where the record does not say, the region of the VPC's own records (an end in
            // another region must not pass for the same region, §1.3).
            requester_region: req.region.clone().or_else(|| vpc_region(&m, req)),
            accepter_region: acc.region.clone().or_else(|| vpc_region(&m, acc)),
            requester_cidrs: cidrs(&mut cx, req, "RequesterVpcInfo"),
            accepter_cidrs: cidrs(&mut cx, acc, "AccepterVpcInfo"),
            tags: tags(&p.tags),
        };
        m.peerings.insert(peering.id.clone(), peering);
    }

    // VPC Block Public Access
    let bpa_mode = |cx: &mut Ctx, f: &FileContext, mode: Option<&str>| match mode
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("off") => BpaMode::Off,
        Some("block-bidirectional") => BpaMode::Bidirectional,
        Some("block-ingress") => BpaMode::Ingress,
        Some(other) => {
            cx.warn(
                f,
                format!("VPC Block Public Access mode `{other}` is not known; taken as off"),
            );
            BpaMode::Off
        }
    };
    // The regions the snapshot's VPCs are in: options for another apply to none of them.
    let vpc_regions: BTreeSet<&str> = m
        .vpcs
        .values()
        .filter_map(|v| v.location.region.as_deref())
        .collect();
    let mut bpa_at: Vec<Location> = Vec::new();
    for (f, o) in &raw.bpa_options {
        if o.internet_gateway_block_mode.is_none() {
            cx.warn(
                f,
                "VPC Block Public Access options without InternetGatewayBlockMode; taken as off (nothing blocked)".into(),
            );
        }
        let mut at = location(f, o.aws_account_id.as_deref(), None, None);
        if let Some(given) = &o.aws_region {
            let lower = given.trim().to_ascii_lowercase();
            let region = if is_region(given) {
                Some(given.clone())
            } else if is_region(&lower) {
                cx.warn(
                    f,
                    format!(
                        "VPC Block Public Access options: AwsRegion `{given}` taken as {lower}"
                    ),
                );
                Some(lower)
            } else {
                cx.warn(
                    f,
                    format!(
                        "VPC Block Public Access options: AwsRegion `{given}` is not a region name; {}",
                        match &at.region {
                            Some(r) => format!("taken as {r}, the region of its folder"),
                            None => "the options apply to no region".into(),
                        }
                    ),
                );
                None
            };
            if let Some(region) = region {
                if let Some(folder) = f.region.as_ref().filter(|r| **r != region) {
                    cx.warn(
                        f,
                        format!("VPC Block Public Access options: AwsRegion {region} is not the region of its folder ({folder}); taken as {region}'s"),
                    );
                }
                at.region = Some(region);
            } else if at.region.is_none() {
                at.region = Some(given.clone());
            }
        }
        if let Some(region) = at.region.as_deref() {
            if !vpc_regions.is_empty() && !vpc_regions.contains(region) {
                cx.warn(
                    f,
                    format!("VPC Block Public Access options for {region}, where the snapshot has no VPC: they apply to none"),
                );
            }
        }
        bpa_at.push(at);
    }
    for ((f, o), at) in raw.bpa_options.into_iter().zip(bpa_at) {
        let mode = bpa_mode(&mut cx, &f, o.internet_gateway_block_mode.as_deref());
        // `update-in-progress`: the mode shown is being applied; the old one may still be in
        // force (EC2 API reference, `VpcBlockPublicAccessOptions` `State`).
        if o.state.as_deref() == Some("update-in-progress") {
            cx.note(
                &f,
                format!(
                    "VPC Block Public Access is being changed to {} (update-in-progress): traffic it would treat differently under the old mode is unknown",
                    mode.as_str()
                ),
            );
            m.bpa_updating.push(at.clone());
        }
        m.block_public_access.push((at, mode));
    }
    // A VPC's record shows the mode of its account and region (EC2 API reference,
    // `BlockPublicAccessStates`): taken where the snapshot has no options for them. Records
    // that disagree (a snapshot taken while the mode changed) are named, and the strictest
    // mode is taken, whatever their order.
    let mut by_place: BTreeMap<(Option<String>, Option<String>), Vec<_>> = BTreeMap::new();
    for (f, at, mode, vpc) in bpa_of_vpcs {
        let mode = bpa_mode(&mut cx, &f, Some(&mode));
        by_place
            .entry((at.account.clone(), at.region.clone()))
            .or_default()
            .push((f, at, mode, vpc));
    }
    let strictness = |m: BpaMode| match m {
        BpaMode::Off => 0,
        BpaMode::Ingress => 1,
        BpaMode::Bidirectional => 2,
    };
    for ((account, region), records) in by_place {
        let known = m
            .block_public_access
            .iter()
            .any(|(l, _)| l.account == account && l.region == region);
        let Some((f, at, mode, vpc)) = records
            .iter()
            .max_by_key(|(_, _, mode, vpc)| (strictness(*mode), std::cmp::Reverse(vpc.clone())))
        else {
            continue;
        };
        if known || *mode == BpaMode::Off {
            continue;
        }
        let place = format!(
            "{} {}",
            account.as_deref().unwrap_or("its account"),
            region.as_deref().unwrap_or("its region")
        );
        let mut modes: Vec<&str> = records.iter().map(|(_, _, m, _)| m.as_str()).collect();
        modes.sort_unstable();
        modes.dedup();
        if modes.len() > 1 {
            cx.warn(
                f,
                format!(
                    "the VPC records of {place} show different VPC Block Public Access modes ({}): the region has one; {} ({vpc}'s) is taken",
                    modes.join(", "),
                    mode.as_str()
                ),
            );
        } else {
            cx.note(
                f,
                format!(
                    "VPC Block Public Access mode {} taken from {vpc}'s record (`BlockPublicAccessStates`): the snapshot has no describe-vpc-block-public-access-options for {place}",
                    mode.as_str()
                ),
            );
        }
        m.block_public_access.push((at.clone(), *mode));
    }
    for (f, e) in raw.bpa_exclusions {
        let id = e
            .resource_arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or_default()
            .to_string();
        let name = e.exclusion_id.clone().unwrap_or_else(|| id.clone());
        let state = e.state.as_deref().unwrap_or("create-complete");
        if id.is_empty()
            || matches!(
                state,
                "create-failed" | "delete-complete" | "disable-complete"
            )
        {
            cx.note(
                &f,
                format!(
                    "VPC Block Public Access exclusion {name} is {state}; not taken as in force"
                ),
            );
            continue;
        }
        let mode = match e.internet_gateway_exclusion_mode.as_deref() {
            Some("allow-bidirectional") => BpaExclusion::AllowBidirectional,
            Some("allow-egress") => BpaExclusion::AllowEgress,
            other => {
                cx.warn(
                    &f,
                    format!(
                        "VPC Block Public Access exclusion {name} has mode {}, which is not known; ignored",
                        other.unwrap_or("(none)")
                    ),
                );
                continue;
            }
        };
        // An exclusion being changed may or may not be in force yet (or still): the states
        // it moves between are tried, and traffic they treat differently is unknown.
        let possible = match state {
            "create-complete" | "update-complete" => {
                m.bpa_exclusions.insert(id, mode);
                continue;
            }
            "create-in-progress" => vec![None, Some(mode)],
            "delete-in-progress" | "disable-in-progress" => vec![Some(mode), None],
            "update-in-progress" | "update-failed" => vec![
                Some(BpaExclusion::AllowBidirectional),
                Some(BpaExclusion::AllowEgress),
            ],
            other => {
                cx.warn(
                    &f,
                    format!(
                        "VPC Block Public Access exclusion {name} has state {other}, which is not known: whether it is in force is unknown"
                    ),
                );
                vec![
                    None,
                    Some(BpaExclusion::AllowBidirectional),
                    Some(BpaExclusion::AllowEgress),
                ]
            }
        };
        cx.note(
            &f,
            format!(
                "VPC Block Public Access exclusion {name} ({}) is {state}: traffic it would let through is unknown",
                mode.as_str()
            ),
        );
        m.bpa_exclusions_unsettled
            .insert(id, (possible, format!("{name} is {state}")));
    }

    // Transit gateways
    for (f, t) in raw.transit_gateways {
        if !live(t.state.as_deref(), &["deleted", "deleting"]) {
            cx.note(
                &f,
                format!(
                    "transit gateway {} is {}; skipped",
                    t.transit_gateway_id,
                    t.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        m.transit_gateways.insert(
            t.transit_gateway_id.clone(),
            TransitGateway {
                location: location(&f, t.owner_id.as_deref(), None, None),
                id: t.transit_gateway_id,
                sg_referencing: t
                    .options
                    .as_ref()
                    .and_then(|o| o.security_group_referencing_support.as_deref())
                    == Some("enable"),
                tags: tags(&t.tags),
            },
        );
    }
    // An attachment waiting for the other account's acceptance (or rolled back, rejected)
    // carries nothing (TGW docs, "Transit gateway attachments": a cross-account attachment
    // works once accepted). `live` compares in lower case.
    let dead_attachment = [
        "deleted",
        "deleting",
        "failed",
        "failing",
        "rejected",
        "rejecting",
        "pendingacceptance",
        "initiatingrequest",
        "rollingback",
    ];
    // Attachments whose association (`describe-transit-gateway-attachments`) and subnets
    // (`describe-transit-gateway-vpc-attachments`) the snapshot states, by key.
    let mut tgw_association_seen: HashSet<String> = HashSet::new();
    let mut tgw_subnets_seen: HashSet<String> = HashSet::new();
    // The file that first described each attachment, to name in warnings.
    let mut tgw_files: HashMap<String, Arc<FileContext>> = HashMap::new();
    for (f, a) in raw.tgw_attachments {
        if !live(a.state.as_deref(), &dead_attachment) {
            m.dead_tgw_attachments.insert(
                a.transit_gateway_attachment_id.clone(),
                a.state.clone().unwrap_or_default(),
            );
            cx.note(
                &f,
                format!(
                    "transit gateway attachment {} is {}; skipped",
                    a.transit_gateway_attachment_id,
                    a.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let kind = match a.resource_type.as_deref() {
            Some("vpc") => TgwAttachmentKind::Vpc,
            Some("vpn") => TgwAttachmentKind::Vpn,
            Some("direct-connect-gateway") => TgwAttachmentKind::DirectConnect,
            Some("peering") => TgwAttachmentKind::Peering,
            Some("connect") => TgwAttachmentKind::Connect,
            _ => TgwAttachmentKind::Other,
        };
        let route_table_id = a
            .association
            .as_ref()
            .filter(|x| matches!(x.state.as_deref(), None | Some("associated")))
            .and_then(|x| x.transit_gateway_route_table_id.clone());
        // An association being made or undone: which table routes what enters by the
        // attachment is not settled.
        let association_unsettled = a.association.as_ref().and_then(|x| {
            let state = x.state.as_deref()?;
            matches!(state, "associating" | "disassociating").then(|| {
                format!(
                    "the association of transit gateway attachment {} with {} is {state}: which route table routes what enters by it is not known",
                    a.transit_gateway_attachment_id,
                    x.transit_gateway_route_table_id.as_deref().unwrap_or("its route table")
                )
            })
        });
        let tgw_id = a.transit_gateway_id.clone().unwrap_or_default();
        let key = tgw_attachment_key(&tgw_id, &a.transit_gateway_attachment_id);
        tgw_association_seen.insert(key.clone());
        tgw_files.entry(key.clone()).or_insert_with(|| f.clone());
        // One attachment listed by several accounts (the gateway owner's, through sharing,
        // and the VPC owner's): an association one of them states counts, whatever the order
        // the files are read in (another account's view may omit it).
        if let Some(known) = m.tgw_attachments.get_mut(&key) {
            if known.route_table_id.is_none() {
                known.route_table_id = route_table_id;
            }
            continue;
        }
        m.tgw_attachments.insert(
            key,
            TgwAttachment {
                location: location(&f, a.resource_owner_id.as_deref(), None, None),
                id: a.transit_gateway_attachment_id,
                tgw_id: a.transit_gateway_id.unwrap_or_default(),
                kind,
                resource_id: a.resource_id.unwrap_or_default(),
                subnet_ids: Vec::new(),
                route_table_id,
                sg_referencing: false,
                appliance_mode: false,
                ipv6_support: None,
                unsettled: attachment_unsettled(a.state.as_deref()),
                unknown: association_unsettled,
                tags: tags(&a.tags),
            },
        );
    }
    for (f, a) in raw.tgw_vpc_attachments {
        if !live(a.state.as_deref(), &dead_attachment) {
            m.dead_tgw_attachments.insert(
                a.transit_gateway_attachment_id.clone(),
                a.state.clone().unwrap_or_default(),
            );
            m.tgw_attachments.remove(&tgw_attachment_key(
                a.transit_gateway_id.as_deref().unwrap_or(""),
                &a.transit_gateway_attachment_id,
            ));
            continue;
        }
        let sg_ref = a
            .options
            .as_ref()
            .and_then(|o| o.security_group_referencing_support.as_deref())
            == Some("enable");
        let appliance = a
            .options
            .as_ref()
            .and_then(|o| o.appliance_mode_support.as_deref())
            == Some("enable");
        let entry = m
            .tgw_attachments
            .entry(tgw_attachment_key(
                a.transit_gateway_id.as_deref().unwrap_or(""),
                &a.transit_gateway_attachment_id,
            ))
            .or_insert_with(|| TgwAttachment {
                location: location(&f, a.vpc_owner_id.as_deref(), None, None),
                id: a.transit_gateway_attachment_id.clone(),
                tgw_id: a.transit_gateway_id.clone().unwrap_or_default(),
                kind: TgwAttachmentKind::Vpc,
                resource_id: a.vpc_id.clone().unwrap_or_default(),
                subnet_ids: Vec::new(),
                route_table_id: None,
                sg_referencing: false,
                appliance_mode: false,
                ipv6_support: None,
                unsettled: None,
                unknown: None,
                tags: tags(&a.tags),
            });
        let key = tgw_attachment_key(
            a.transit_gateway_id.as_deref().unwrap_or(""),
            &a.transit_gateway_attachment_id,
        );
        tgw_files.entry(key.clone()).or_insert_with(|| f.clone());
        tgw_subnets_seen.insert(key);
        entry.subnet_ids = a.subnet_ids.clone();
        if let Some(state) = attachment_unsettled(a.state.as_deref()) {
            entry.unsettled = Some(state);
        }
        entry.sg_referencing = sg_ref;
        entry.appliance_mode = appliance;
        entry.ipv6_support = match a.options.as_ref().and_then(|o| o.ipv6_support.as_deref()) {
            Some("enable") => Some(true),
            Some("disable") => Some(false),
            _ => None,
        };
    }
    // The file each table came from, to say which one lacks its routes.
    let mut tgw_table_files: Vec<(std::sync::Arc<FileContext>, String)> = Vec::new();
    for (f, t) in raw.tgw_route_tables {
        if !live(t.state.as_deref(), &["deleted", "deleting"]) {
            cx.note(
                &f,
                format!(
                    "transit gateway route table {} is {}; skipped",
                    t.transit_gateway_route_table_id,
                    t.state.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let routes_known = t.routes.is_some();
        tgw_table_files.push((f.clone(), t.transit_gateway_route_table_id.clone()));
        let routes = tgw_routes(
            &mut cx,
            &f,
            &t.transit_gateway_route_table_id,
            t.routes.as_deref().unwrap_or_default(),
        );
        m.tgw_route_tables.insert(
            t.transit_gateway_route_table_id.clone(),
            TgwRouteTable {
                location: location(&f, None, None, None),
                id: t.transit_gateway_route_table_id,
                tgw_id: t.transit_gateway_id.unwrap_or_default(),
                routes,
                routes_known,
                propagations: Vec::new(),
                tags: tags(&t.tags),
            },
        );
    }
    for (f, set) in raw.tgw_routes {
        let routes = tgw_routes(
            &mut cx,
            &f,
            &set.transit_gateway_route_table_id,
            &set.routes,
        );
        match m.tgw_route_tables.get_mut(&set.transit_gateway_route_table_id) {
            Some(t) => {
                t.routes.extend(routes);
                t.routes_known = true;
            }
            None => cx.warn(&f, format!("routes for transit gateway route table {} which is not in the snapshot; ignored", set.transit_gateway_route_table_id)),
        }
    }
    for (f, id) in tgw_table_files {
        if m.tgw_route_tables.get(&id).is_some_and(|t| !t.routes_known) {
            cx.warn(&f, format!("transit gateway route table {id}: its routes are not in the snapshot (no search-transit-gateway-routes result names it); only the routes its propagations imply are known, and what matches none of them is `unknown`"));
        }
    }
    for (f, set) in raw.tgw_propagations {
        match m.tgw_route_tables.get_mut(&set.transit_gateway_route_table_id) {
            Some(t) => t.propagations.extend(
                set.transit_gateway_route_table_propagations
                    .iter()
                    .filter(|p| matches!(p.state.as_deref(), None | Some("enabled")))
                    .map(|p| p.transit_gateway_attachment_id.clone()),
            ),
            None => cx.warn(&f, format!("propagations for transit gateway route table {} which is not in the snapshot; ignored", set.transit_gateway_route_table_id)),
        }
    }

    // VPC endpoints
    for (f, e) in raw.vpc_endpoints {
        // PrivateLink guide, "Accept or reject connection requests" and the `VpcEndpoint`
        // `State` of the EC2 API reference: an endpoint carries traffic once `available`; a
        // rejected, failed, expired or deleted one carries none, and one pending (acceptance)
        // or being deleted may or may not.
        if !live(
            e.state.as_deref(),
            &["deleted", "rejected", "failed", "expired"],
        ) {
            let state = e.state.clone().unwrap_or_default();
            cx.note(
                &f,
                format!(
                    "VPC endpoint {} is {state}: it carries nothing (its interfaces take no traffic); skipped",
                    e.vpc_endpoint_id,
                ),
            );
            m.unavailable_endpoints.insert(e.vpc_endpoint_id, state);
            continue;
        }
        let unsettled = e
            .state
            .clone()
            .filter(|s| !live(Some(s), &["pending", "pendingacceptance", "deleting"]));
        let kind = match e
            .vpc_endpoint_type
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gateway") => EndpointKind::Gateway,
            Some("interface") => EndpointKind::Interface,
            Some("gatewayloadbalancer") => EndpointKind::GatewayLoadBalancer,
            Some("resource") => EndpointKind::Resource,
            Some("servicenetwork") => EndpointKind::ServiceNetwork,
            _ => EndpointKind::Other,
        };
        m.vpc_endpoints.insert(
            e.vpc_endpoint_id.clone(),
            VpcEndpoint {
                location: location(&f, e.owner_id.as_deref(), None, None),
                id: e.vpc_endpoint_id,
                kind,
                vpc_id: e.vpc_id.unwrap_or_default(),
                service_name: e.service_name.unwrap_or_default(),
                route_table_ids: e.route_table_ids,
                subnet_ids: e.subnet_ids,
                eni_ids: e.network_interface_ids,
                groups: e.groups.into_iter().map(|g| g.group_id).collect(),
                tags: tags(&e.tags),
                unsettled,
            },
        );
    }

    // Load balancers, listeners, target groups
    for (f, lb) in raw.load_balancers {
        let state = lb.state.as_ref().and_then(|s| s.code.as_deref());
        if !live(state, &["failed"]) {
            cx.note(
                &f,
                format!("load balancer {} is failed; skipped", lb.load_balancer_arn),
            );
            continue;
        }
        let kind = lb_kind(&mut cx, &f, &lb.load_balancer_arn, lb.kind.as_deref());
        let internet_facing = internet_facing(
            &mut cx,
            &f,
            &format!("load balancer {}", lb.load_balancer_arn),
            lb.scheme.as_deref(),
        );
        let name = lb
            .load_balancer_name
            .clone()
            .or_else(|| lb.load_balancer_arn.split('/').nth(2).map(str::to_string))
            .unwrap_or_else(|| lb.load_balancer_arn.clone());
        // A Network Load Balancer's addresses per enabled subnet; one that does not parse is
        // a warning, not a guess.
        let mut node_addresses: BTreeMap<String, LbNodeAddresses> = BTreeMap::new();
        for z in &lb.availability_zones {
            let mut a = LbNodeAddresses::default();
            for x in &z.load_balancer_addresses {
                let arn = lb.load_balancer_arn.as_str();
                a.public_v4 =
                    a.public_v4
                        .or(lb_address(&mut cx, &f, arn, "IpAddress", &x.ip_address));
                a.private_v4 = a.private_v4.or(lb_address(
                    &mut cx,
                    &f,
                    arn,
                    "PrivateIPv4Address",
                    &x.private_ipv4_address,
                ));
                a.ipv6 = a
                    .ipv6
                    .or(lb_address(&mut cx, &f, arn, "IPv6Address", &x.ipv6_address));
            }
            if let (Some(subnet), true) = (&z.subnet_id, a != LbNodeAddresses::default()) {
                node_addresses.insert(subnet.clone(), a);
            }
        }
        m.load_balancers.insert(
            lb.load_balancer_arn.clone(),
            LoadBalancer {
                location: location(&f, None, None, Some(&lb.load_balancer_arn)),
                arn: lb.load_balancer_arn,
                name,
                dns_name: lb.dns_name,
                kind,
                internet_facing,
                vpc_id: lb.vpc_id.unwrap_or_default(),
                subnet_ids: lb
                    .availability_zones
                    .iter()
                    .filter_map(|z| z.subnet_id.clone())
                    .collect(),
                security_groups: lb.security_groups,
                dualstack: lb
                    .ip_address_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("dualstack")),
                without_public_ipv4: lb
                    .ip_address_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("dualstack-without-public-ipv4")),
                attributes: BTreeMap::new(),
                node_addresses,
                unsettled: state
                    .filter(|s| s.eq_ignore_ascii_case("provisioning"))
                    .map(str::to_string),
            },
        );
    }
    for (f, set) in raw.lb_attributes {
        match m.load_balancers.get_mut(&set.load_balancer_arn) {
            Some(lb) => lb.attributes.extend(
                set.attributes
                    .into_iter()
                    .map(|kv| (kv.key, kv.value.unwrap_or_default())),
            ),
            None => cx.warn(
                &f,
                format!(
                    "attributes for load balancer {} which is not in the snapshot; ignored",
                    set.load_balancer_arn
                ),
            ),
        }
    }
    for (f, l) in raw.listeners {
        let Some(lb_arn) = l.load_balancer_arn.clone() else {
            cx.warn(&f, "a listener without its LoadBalancerArn; ignored".into());
            continue;
        };
        let arn = l
            .listener_arn
            .clone()
            .unwrap_or_else(|| format!("{lb_arn}/listener-{}", l.port.unwrap_or(0)));
        // A listener without a port takes every port (a Gateway Load Balancer's); one whose
        // port is out of range is not taken as that.
        let port = match service_port("Port", l.port) {
            Ok(port) => port,
            Err(problem) => {
                cx.warn(
                    &f,
                    format!("listener {arn}: {problem}; listener ignored (nothing is forwarded through it)"),
                );
                continue;
            }
        };
        let owner = format!("listener {arn}");
        let actions = l
            .default_actions
            .iter()
            .map(|a| listener_action(&mut cx, &f, &owner, a))
            .collect();
        m.listeners.insert(
            arn.clone(),
            Listener {
                arn,
                lb_arn,
                protocol: l.protocol.clone().unwrap_or_default(),
                port,
                actions,
                rules: Vec::new(),
            },
        );
    }
    listener_rules(&mut cx, &mut m, raw.listener_rules);
    for (f, tg) in raw.target_groups {
        let target_type = match tg.target_type.as_deref() {
            Some("ip") => TargetType::Ip,
            Some("lambda") => TargetType::Lambda,
            Some("alb") => TargetType::Alb,
            _ => TargetType::Instance,
        };
        let port = service_port("Port", tg.port).unwrap_or_else(|problem| {
            cx.warn(
                &f,
                format!(
                    "target group {}: {problem}; ignored (targets without a port of their own are not reached through it)",
                    tg.target_group_arn
                ),
            );
            None
        });
        m.target_groups.insert(
            tg.target_group_arn.clone(),
            TargetGroup {
                location: location(&f, None, None, Some(&tg.target_group_arn)),
                name: tg.target_group_name.clone().unwrap_or_else(|| {
                    tg.target_group_arn
                        .split('/')
                        .nth(1)
                        .unwrap_or("")
                        .to_string()
                }),
                arn: tg.target_group_arn,
                protocol: tg.protocol.unwrap_or_default(),
                port,
                target_type,
                vpc_id: tg.vpc_id,
                health_check_port: tg.health_check_port,
                ipv6: tg
                    .ip_address_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("ipv6")),
                lb_arns: tg.load_balancer_arns,
                targets: Vec::new(),
                attributes: BTreeMap::new(),
            },
        );
    }
    for (f, set) in raw.target_health {
        match m.target_groups.get_mut(&set.target_group_arn) {
            Some(tg) => {
                for d in set.target_health_descriptions {
                    let port = match service_port("Port", d.target.port) {
                        Ok(port) => port,
                        Err(problem) => {
                            cx.warn(
                                &f,
                                format!(
                                    "target group {}: target {}: {problem}; target ignored",
                                    set.target_group_arn, d.target.id
                                ),
                            );
                            continue;
                        }
                    };
                    tg.targets.push(Target {
                        id: d.target.id,
                        port,
                        health: d.target_health.and_then(|h| h.state),
                        availability_zone: d.target.availability_zone,
                    });
                }
            }
            None => cx.warn(
                &f,
                format!(
                    "target health for target group {} which is not in the snapshot; ignored",
                    set.target_group_arn
                ),
            ),
        }
    }
    for (f, set) in raw.tg_attributes {
        match m.target_groups.get_mut(&set.target_group_arn) {
            Some(tg) => tg.attributes.extend(
                set.attributes
                    .into_iter()
                    .map(|kv| (kv.key, kv.value.unwrap_or_default())),
            ),
            None => cx.warn(
                &f,
                format!(
                    "attributes for target group {} which is not in the snapshot; ignored",
                    set.target_group_arn
                ),
            ),
        }
    }

    // Classic Load Balancers: one listener per listener description, forwarding to a target
    // group of the registered instances at the instance port (§5.2: a CLB is a proxy, as an
    // ALB is; its health, per instance, is not in `describe-load-balancers`).
    for (f, clb) in raw.classic_load_balancers {
        let Some(vpc_id) = clb.vpc_id.filter(|v| !v.is_empty()) else {
            cx.note(
                &f,
                format!(
                    "classic load balancer {} is in EC2-Classic (no VPCId); skipped",
                    clb.load_balancer_name
                ),
            );
            continue;
        };
        let name = clb.load_balancer_name;
        let loc = location(&f, None, None, None);
        let arn = format!(
            "arn:aws:elasticloadbalancing:{}:{}:loadbalancer/{name}",
            loc.region.as_deref().unwrap_or(""),
            loc.account.as_deref().unwrap_or("")
        );
        for d in clb.listener_descriptions {
            let l = d.listener;
            let (Ok(port), Ok(instance_port)) = (
                u16::try_from(l.load_balancer_port),
                u16::try_from(l.instance_port),
            ) else {
                cx.warn(
                    &f,
                    format!("classic load balancer {name}: a listener port out of range; ignored"),
                );
                continue;
            };
            let tg_arn = format!("{arn}/instances:{instance_port}");
            let listener_arn = format!("{arn}/listener:{port}");
            m.listeners.insert(
                listener_arn.clone(),
                Listener {
                    arn: listener_arn,
                    lb_arn: arn.clone(),
                    protocol: l.protocol.to_ascii_uppercase(),
                    port: Some(port),
                    actions: vec![ListenerAction::Forward(vec![tg_arn.clone()])],
                    rules: Vec::new(),
                },
            );
            m.target_groups
                .entry(tg_arn.clone())
                .or_insert_with(|| TargetGroup {
                    location: loc.clone(),
                    name: format!("{name} instances:{instance_port}"),
                    arn: tg_arn,
                    protocol: l
                        .instance_protocol
                        .clone()
                        .unwrap_or_else(|| l.protocol.clone())
                        .to_ascii_uppercase(),
                    port: Some(instance_port),
                    target_type: TargetType::Instance,
                    vpc_id: Some(vpc_id.clone()),
                    health_check_port: None,
                    ipv6: false,
                    lb_arns: vec![arn.clone()],
                    targets: clb
                        .instances
                        .iter()
                        .map(|i| Target {
                            id: i.instance_id.clone(),
                            port: None,
                            health: None,
                            availability_zone: None,
                        })
                        .collect(),
                    attributes: BTreeMap::new(),
                });
        }
        let internet_facing = internet_facing(
            &mut cx,
            &f,
            &format!("classic load balancer {name}"),
            clb.scheme.as_deref(),
        );
        m.load_balancers.insert(
            arn.clone(),
            LoadBalancer {
                location: loc,
                arn,
                name,
                dns_name: clb.dns_name,
                kind: LbKind::Classic,
                internet_facing,
                vpc_id,
                subnet_ids: clb.subnets,
                security_groups: clb.security_groups,
                dualstack: false,
                without_public_ipv4: false,
                attributes: BTreeMap::new(),
                node_addresses: BTreeMap::new(),
                unsettled: None,
            },
        );
    }

    // A Classic Load Balancer's attributes name no load balancer: the file's name does (the
    // CLB's name, or ending in `-<name>`; CloudMapper names it after the CLB).
    for (f, (file_name, attributes)) in raw.classic_lb_attributes {
        let stem = file_name.strip_suffix(".json").unwrap_or(&file_name);
        let here = location(&f, None, None, None);
        let named = |lb: &&mut LoadBalancer| {
            lb.kind == LbKind::Classic
                // In the file's account and region, when the folders say them.
                && here.account.as_ref().is_none_or(|a| lb.location.account.as_ref() == Some(a))
                && here.region.as_ref().is_none_or(|r| lb.location.region.as_ref() == Some(r))
                && (stem == lb.name
                    || stem
                        .strip_suffix(lb.name.as_str())
                        .is_some_and(|p| p.ends_with(['-', '_', '.'])))
        };
        let Some(lb) = m
            .load_balancers
            .values_mut()
            .filter(named)
            .max_by_key(|lb| lb.name.len())
        else {
            cx.warn(
                &f,
                "a Classic Load Balancer's attributes, but no classic load balancer in the snapshot is named by the file's name (name it after the load balancer); ignored".into(),
            );
            continue;
        };
        if let Some(on) = attributes.cross_zone_load_balancing.and_then(|c| c.enabled) {
            lb.attributes
                .insert("load_balancing.cross_zone.enabled".into(), on.to_string());
        }
    }

    // RDS
    for (f, d) in raw.db_instances {
        if !live(
            d.db_instance_status.as_deref(),
            &["deleting", "deleted", "failed"],
        ) {
            cx.note(
                &f,
                format!(
                    "DB instance {} is {}; skipped",
                    d.db_instance_identifier,
                    d.db_instance_status.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let sg = d.db_subnet_group.as_ref();
        let port = service_port("Endpoint.Port", d.endpoint.as_ref().and_then(|e| e.port))
            .unwrap_or_else(|problem| {
                cx.warn(
                    &f,
                    format!(
                        "DB instance {}: {problem}; the port is ignored",
                        d.db_instance_identifier
                    ),
                );
                None
            });
        m.db_instances.insert(
            d.db_instance_identifier.clone(),
            DbInstance {
                location: location(
                    &f,
                    None,
                    d.availability_zone.as_deref(),
                    d.db_instance_arn.as_deref(),
                ),
                id: d.db_instance_identifier,
                engine: d.engine.unwrap_or_default(),
                vpc_id: sg.and_then(|g| g.vpc_id.clone()),
                subnet_ids: sg
                    .map(|g| {
                        g.subnets
                            .iter()
                            .map(|s| s.subnet_identifier.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                groups: d
                    .vpc_security_groups
                    .into_iter()
                    .map(|g| g.vpc_security_group_id)
                    .collect(),
                publicly_accessible: d.publicly_accessible,
                endpoint: d.endpoint.as_ref().and_then(|e| e.address.clone()),
                port,
            },
        );
    }

    // Network interfaces: describe-network-interfaces first, then those only the instances
    // describe (the first of each id). Each is converted on its own, in parallel, and the
    // results are gathered in that order; copies of one id that describe-network-interfaces
    // gives twice are settled as other kinds are.
    let keep: Vec<bool> = {
        let mut seen = HashSet::new();
        raw.network_interfaces
            .iter()
            .map(|_| true)
            .chain(
                instance_enis
                    .iter()
                    .map(|(_, e, _)| seen.insert(e.network_interface_id.as_str())),
            )
            .collect()
    };
    let lookup = Lookup::new(&m);
    let converted: Vec<(Option<NetworkInterface>, Vec<Diagnostic>, Arc<FileContext>)> = raw
        .network_interfaces
        .into_par_iter()
        .map(|(f, e)| (f, e, None))
        .chain(instance_enis.into_par_iter())
        .zip(keep.into_par_iter())
        .filter_map(|((f, e, az), keep)| {
            keep.then(|| {
                let mut cx = Ctx {
                    diagnostics: Vec::new(),
                };
                let eni = network_interface(&mut cx, &f, e, az, &m, &lookup, &eips);
                (eni, cx.diagnostics, f)
            })
        })
        .collect();
    drop(lookup);
    let mut enis = Vec::with_capacity(converted.len());
    let mut eni_files = Vec::with_capacity(converted.len());
    for (eni, diagnostics, f) in converted {
        cx.diagnostics.extend(diagnostics);
        if let Some(eni) = eni {
            enis.push((eni.id.clone(), eni));
            eni_files.push(f);
        }
    }
    m.network_interfaces = settled_map(&mut cx, "network interface", enis, &eni_files, true, |v| {
        format!(
            "{:?}",
            NetworkInterface {
                location: Location::default(),
                tags: Tags::default(),
                ..v.clone()
            }
        )
    });
    let mapped: HashSet<Ipv4Addr> = m
        .network_interfaces
        .values()
        .flat_map(|e| e.private_ips.iter().filter_map(|p| p.public))
        .collect();
    m.public_ips_elsewhere = associated
        .into_iter()
        .filter(|(public, _)| !mapped.contains(public))
        .collect();

    settle_tgw_attachments(
        &mut m,
        &mut cx,
        &tgw_association_seen,
        &tgw_subnets_seen,
        &tgw_files,
    );
    inherit_locations(&mut m);
    (m, cx.diagnostics)
}

/// What the snapshot does not say of a transit gateway attachment: its association, when no
/// `describe-transit-gateway-attachments` record lists it (`describe-transit-gateway-vpc-
/// attachments` never prints one), and a VPC attachment's subnets, when no
/// `describe-transit-gateway-vpc-attachments` record lists them. Those subnets are then the
/// subnets of the attachment's own interfaces ("Network Interface for Transit Gateway
/// Attachment tgw-attach-…", one per subnet), when the snapshot has them; else traffic through
/// the attachment is `unknown` ([`TgwAttachment::unknown`]), not "not associated" or "no
/// subnet in the zone". Loading warns.
fn settle_tgw_attachments(
    m: &mut Model,
    cx: &mut Ctx,
    association_seen: &HashSet<String>,
    subnets_seen: &HashSet<String>,
    files: &HashMap<String, Arc<FileContext>>,
) {
    let mut by_attachment: HashMap<&str, Vec<String>> = HashMap::new();
    for e in m.network_interfaces.values() {
        if e.owner.kind == OwnerKind::TransitGateway {
            if let Some(id) = &e.owner.id {
                let subnets = by_attachment.entry(id.as_str()).or_default();
                if !subnets.contains(&e.subnet_id) {
                    subnets.push(e.subnet_id.clone());
                }
            }
        }
    }
    let mut warnings = Vec::new();
    let mut inferred: Vec<(String, Vec<String>)> = Vec::new();
    let mut unknown: Vec<(String, String)> = Vec::new();
    for (key, a) in &m.tgw_attachments {
        let mut missing = Vec::new();
        if a.kind == TgwAttachmentKind::Vpc && !subnets_seen.contains(key) {
            match by_attachment.get(a.id.as_str()) {
                Some(subnets) => {
                    let mut subnets = subnets.clone();
                    subnets.sort();
                    warnings.push((key.clone(), format!("transit gateway attachment {} is not in describe-transit-gateway-vpc-attachments: its subnets are taken from its network interfaces ({})", a.id, subnets.join(", "))));
                    inferred.push((key.clone(), subnets));
                }
                None => missing.push(format!("the subnets of transit gateway attachment {} (describe-transit-gateway-vpc-attachments lists them, and no interface of it is in the snapshot)", a.id)),
            }
        }
        if !association_seen.contains(key) {
            missing.push(format!("the route table transit gateway attachment {} is associated with (only describe-transit-gateway-attachments prints it)", a.id));
        }
        if !missing.is_empty() {
            let why = format!("the snapshot lacks {}", missing.join(", and "));
            warnings.push((
                key.clone(),
                format!("{why}: traffic through it is `unknown`"),
            ));
            unknown.push((key.clone(), why));
        }
    }
    for (key, subnets) in inferred {
        if let Some(a) = m.tgw_attachments.get_mut(&key) {
            a.subnet_ids = subnets;
        }
    }
    for (key, why) in unknown {
        if let Some(a) = m.tgw_attachments.get_mut(&key) {
            a.unknown.get_or_insert(why);
        }
    }
    for (key, w) in warnings {
        match files.get(&key) {
            Some(f) => cx.warn(f, w),
            None => cx.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: None,
                message: w,
            }),
        }
    }
}

/// The ENIs an instance describes: the file, the ENI, the instance's availability zone.
type InstanceEnis = Vec<(Arc<FileContext>, wire::NetworkInterface, Option<String>)>;

/// One instance of a reservation, with the ENIs it describes that are not `described` (by
/// describe-network-interfaces); a note when it is not live.
fn instance(
    f: &Arc<FileContext>,
    owner: Option<&str>,
    i: wire::Instance,
    described: &HashSet<&str>,
) -> Result<(Instance, InstanceEnis), Diagnostic> {
    let wire::Instance {
        instance_id,
        instance_type,
        state,
        subnet_id,
        vpc_id,
        placement,
        network_interfaces: mut nis,
        tags: wire_tags,
        ..
    } = i;
    let state = state.and_then(|s| s.name);
    if !live(state.as_deref(), &["terminated", "shutting-down"]) {
        return Err(Diagnostic {
            level: Level::Note,
            file: Some(f.file.clone()),
            message: format!(
                "instance {instance_id} is {}; skipped",
                state.as_deref().unwrap_or("gone")
            ),
        });
    }
    let az = placement.and_then(|p| p.availability_zone);
    nis.sort_by_key(|n| {
        n.attachment
            .as_ref()
            .and_then(|a| a.device_index)
            .unwrap_or(0)
    });
    let location = location(f, owner, az.as_deref(), None);
    let eni_ids = nis.iter().map(|n| n.network_interface_id.clone()).collect();
    let enis = nis
        .into_iter()
        .filter(|ni| !described.contains(ni.network_interface_id.as_str()))
        .map(|mut ni| {
            if ni
                .attachment
                .as_ref()
                .and_then(|a| a.instance_id.as_ref())
                .is_none()
            {
                let device_index = ni.attachment.as_ref().and_then(|a| a.device_index);
                ni.attachment = Some(wire::EniAttachment {
                    instance_id: Some(instance_id.clone()),
                    device_index,
                    ..wire::EniAttachment::default()
                });
            }
            if ni.subnet_id.is_none() {
                ni.subnet_id = subnet_id.clone();
            }
            if ni.vpc_id.is_none() {
                ni.vpc_id = vpc_id.clone();
            }
            (f.clone(), ni, az.clone())
        })
        .collect();
    let instance = Instance {
        location,
        id: instance_id,
        subnet_id,
        vpc_id,
        eni_ids,
        instance_type,
        state,
        tags: tags_owned(wire_tags),
    };
    Ok((instance, enis))
}

/// The map that inserting `entries` one by one would give (of equal keys, the last wins),
/// built without moving large values around a B-tree: the keys are sorted by reference, then
/// the tree is built in one pass from the sorted entries.
fn sorted_map<V: Send + Sync>(entries: Vec<(String, V)>) -> BTreeMap<String, V> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.par_sort_unstable_by(|&a, &b| entries[a].0.cmp(&entries[b].0).then(a.cmp(&b)));
    // Of a run of equal keys, only the last (the latest inserted) is kept.
    let keep: Vec<bool> = order
        .iter()
        .enumerate()
        .map(|(at, &i)| {
            order
                .get(at + 1)
                .is_none_or(|&next| entries[next].0 != entries[i].0)
        })
        .collect();
    let mut slots: Vec<Option<(String, V)>> = entries.into_iter().map(Some).collect();
    order
        .iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .filter_map(|(&i, _)| slots[i].take())
        .collect()
}

/// The map of records by id for a kind that a snapshot may describe more than once (the same
/// resource in two files, or twice in one); `files[i]` is the file of `entries[i]`. Copies that
/// differ only in location or tags (`content` leaves those out) are one resource: the last in
/// path order is kept (the first with `keep_first`), as before. Copies that differ otherwise
/// conflict: a warning names the files, and the copy kept is the one whose content sorts first,
/// so that the result depends neither on the files' names nor on their order. Only copies cost
/// more than [`sorted_map`]: the content of a record is written out only when its id repeats.
fn settled_map<V: Send + Sync>(
    cx: &mut Ctx,
    what: &str,
    entries: Vec<(String, V)>,
    files: &[Arc<FileContext>],
    keep_first: bool,
    content: impl Fn(&V) -> String,
) -> BTreeMap<String, V> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.par_sort_unstable_by(|&a, &b| entries[a].0.cmp(&entries[b].0).then(a.cmp(&b)));
    let mut kept: Vec<usize> = Vec::with_capacity(order.len());
    let mut at = 0;
    while at < order.len() {
        let id = &entries[order[at]].0;
        let end = at
            + order[at..]
                .iter()
                .take_while(|&&i| entries[i].0 == *id)
                .count();
        let run = &order[at..end];
        at = end;
        if let [one] = run {
            kept.push(*one);
            continue;
        }
        let texts: Vec<String> = run.iter().map(|&i| content(&entries[i].1)).collect();
        let least = texts.iter().min().expect("a run is not empty");
        let alike: Vec<usize> = (0..run.len()).filter(|&k| texts[k] == *least).collect();
        let k = if keep_first {
            alike[0]
        } else {
            alike[alike.len() - 1]
        };
        kept.push(run[k]);
        if alike.len() == run.len() {
            continue;
        }
        let mut names: Vec<&str> = run.iter().map(|&i| files[i].file.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let chosen = files[run[k]].file.as_str();
        let message = match names.as_slice() {
            [one] => format!(
                "{what} {id} is described {} in {one}, differently: the description whose content sorts first is used (not the first or last listed)",
                match run.len() {
                    2 => "twice".to_string(),
                    n => format!("{n} times"),
                }
            ),
            [rest @ .., last] => format!(
                "{what} {id} is described differently in {} and {last}: the description in {chosen} is used (chosen by content, not by the files' names or order)",
                rest.join(", ")
            ),
            [] => unreachable!("a run has files"),
        };
        cx.diagnostics.push(Diagnostic {
            level: Level::Warning,
            file: Some(chosen.to_string()),
            message,
        });
    }
    // `kept` is in the order of the ids.
    let mut slots: Vec<Option<(String, V)>> = entries.into_iter().map(Some).collect();
    kept.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Inbound and outbound rules of a group.
type SgRules = (Vec<SgRule>, Vec<SgRule>);

/// Inbound rules, outbound rules, the file and the owner of a group known from
/// `describe-security-group-rules`.
type GroupRules = (Vec<SgRule>, Vec<SgRule>, Arc<FileContext>, Option<String>);

/// The group a rule references; one without `GroupId` (AWS always prints it) is a warning.
fn group_peer(
    cx: &mut Ctx,
    f: &FileContext,
    owner: &str,
    egress: bool,
    g: &wire::UserIdGroupPair,
) -> Option<SgPeer> {
    let Some(group_id) = g.group_id.clone() else {
        let direction = if egress { "an outbound" } else { "an inbound" };
        let name = g
            .group_name
            .as_deref()
            .map(|n| format!(" (GroupName `{n}`)"))
            .unwrap_or_default();
        cx.warn(
            f,
            format!("{owner}: {direction} rule's group reference has no GroupId{name}; ignored (the traffic it allows is not counted)"),
        );
        return None;
    };
    Some(SgPeer::Group {
        group_id,
        owner: g.user_id.clone(),
        vpc_id: g.vpc_id.clone(),
        peering_id: g.vpc_peering_connection_id.clone(),
        peering_inactive: g
            .peering_status
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("active")),
    })
}

/// The warning for a security-group rule whose ports cannot be read.
fn sg_rule_ignored(owner: &str, egress: bool, protocol: &str, problem: &str) -> String {
    let direction = if egress { "an outbound" } else { "an inbound" };
    format!("{owner}: {direction} `{protocol}` rule: {problem}; rule ignored (the traffic it allows is not counted)")
}

/// A group's inbound (`egress` false) or outbound rules in the `describe-security-groups` shape.
fn permissions(
    cx: &mut Ctx,
    f: &FileContext,
    group: &str,
    egress: bool,
    perms: &[wire::IpPermission],
) -> Vec<SgRule> {
    let mut out = Vec::with_capacity(
        perms
            .iter()
            .map(|p| {
                p.ip_ranges.len()
                    + p.ipv6_ranges.len()
                    + p.prefix_list_ids.len()
                    + p.user_id_group_pairs.len()
            })
            .sum(),
    );
    for p in perms {
        let Some(proto) = protocol(&p.ip_protocol) else {
            cx.warn(
                f,
                format!(
                    "security group {group}: unknown protocol `{}`; rule ignored",
                    p.ip_protocol
                ),
            );
            continue;
        };
        let ports = match port_spec(proto, p.from_port, p.to_port, ("FromPort", "ToPort")) {
            Ok(ports) => ports,
            Err(problem) => {
                let owner = format!("security group {group}");
                cx.warn(f, sg_rule_ignored(&owner, egress, &p.ip_protocol, &problem));
                continue;
            }
        };
        let mut push = |peer: SgPeer, description: Option<String>| {
            out.push(SgRule {
                id: None,
                protocol: proto,
                ports,
                peer,
                description,
            })
        };
        let owner = format!("security group {group}");
        let list = if egress {
            "IpPermissionsEgress"
        } else {
            "IpPermissions"
        };
        for r in &p.ip_ranges {
            let field = format!("{list}[].IpRanges[].CidrIp");
            if let Some(n) = cx.cidr(f, &owner, &field, &r.cidr_ip, Family::V4) {
                push(SgPeer::Cidr(n), r.description.clone());
            }
        }
        for r in &p.ipv6_ranges {
            let field = format!("{list}[].Ipv6Ranges[].CidrIpv6");
            if let Some(n) = cx.cidr(f, &owner, &field, &r.cidr_ipv6, Family::V6) {
                push(SgPeer::Cidr(n), r.description.clone());
            }
        }
        for r in &p.prefix_list_ids {
            push(
                SgPeer::PrefixList(r.prefix_list_id.clone()),
                r.description.clone(),
            );
        }
        for g in &p.user_id_group_pairs {
            if let Some(peer) = group_peer(cx, f, &owner, egress, g) {
                push(peer, g.description.clone());
            }
        }
    }
    out
}

/// A transit gateway attachment's state when it is still being set up (`pending`,
/// `initiating`): it may not carry traffic yet ([`TgwAttachment::unsettled`]).
fn attachment_unsettled(state: Option<&str>) -> Option<String> {
    state
        .filter(|s| matches!(s.to_ascii_lowercase().as_str(), "pending" | "initiating"))
        .map(str::to_string)
}

fn tgw_routes(
    cx: &mut Ctx,
    f: &FileContext,
    table: &str,
    routes: &[wire::TransitGatewayRoute],
) -> Vec<TgwRoute> {
    let mut out = Vec::new();
    for r in routes {
        if !live(r.state.as_deref(), &["deleted", "deleting"]) {
            continue;
        }
        let destination = if let Some(c) = &r.destination_cidr_block {
            let owner = format!("transit gateway route table {table}");
            match cx.cidr(f, &owner, "DestinationCidrBlock", c, Family::Any) {
                Some(n) => RouteDestination::Cidr(n),
                None => continue,
            }
        } else if let Some(pl) = &r.prefix_list_id {
            RouteDestination::PrefixList(pl.clone())
        } else {
            continue;
        };
        out.push(TgwRoute {
            destination,
            attachment_ids: r
                .transit_gateway_attachments
                .iter()
                .filter_map(|a| a.transit_gateway_attachment_id.clone())
                .collect(),
            blackhole: r.state.as_deref() == Some("blackhole"),
            pending: r.state.as_deref() == Some("pending"),
            propagated: r.kind.as_deref() == Some("propagated"),
        });
    }
    out
}

/// One address of `LoadBalancerAddresses`; one that does not parse is a warning, not a guess.
fn lb_address<T: std::str::FromStr>(
    cx: &mut Ctx,
    f: &FileContext,
    lb: &str,
    field: &str,
    value: &Option<String>,
) -> Option<T> {
    let v = value.as_deref()?;
    let parsed = v.parse().ok();
    if parsed.is_none() {
        cx.warn(
            f,
            format!("load balancer {lb}: {field} `{v}` is not an address; ignored"),
        );
    }
    parsed
}

/// Classifies an ENI's owner from `Description`, `InterfaceType` and
/// `RequesterId` (semantics reference §7: the description is the most reliable).
fn network_interface(
    cx: &mut Ctx,
    f: &FileContext,
    e: wire::NetworkInterface,
    az: Option<String>,
    m: &Model,
    lookup: &Lookup,
    eips: &Eips,
) -> Option<NetworkInterface> {
    let wire::NetworkInterface {
        network_interface_id: id,
        subnet_id,
        vpc_id,
        availability_zone,
        owner_id,
        description,
        interface_type,
        requester_id,
        requester_managed,
        private_ip_address,
        private_ip_addresses,
        ipv6_addresses,
        ipv4_prefixes,
        ipv6_prefixes,
        association,
        attachment,
        groups,
        source_dest_check,
        tags: wire_tags,
        ..
    } = e;
    let Some(subnet_id) = subnet_id else {
        cx.warn(
            f,
            format!("network interface {id} has no SubnetId; skipped"),
        );
        return None;
    };
    let vpc_id = vpc_id
        .or_else(|| m.subnets.get(&subnet_id).map(|s| s.vpc_id.clone()))
        .unwrap_or_default();
    let az = availability_zone
        .or(az)
        .or_else(|| m.subnets.get(&subnet_id).and_then(|s| s.az.clone()));

    let mut private_ips: Vec<PrivateIp> = Vec::new();
    for p in &private_ip_addresses {
        let owner = format!("network interface {id}");
        if let Some(address) = cx.ip4(
            f,
            &owner,
            "PrivateIpAddresses[].PrivateIpAddress",
            &p.private_ip_address,
        ) {
            // moto (and some hand-made snapshots) give the primary address's public IP only in
            // the ENI-level Association.
            let association = p.association.as_ref().or(if p.primary {
                association.as_ref()
            } else {
                None
            });
            let (public, elastic) = public_of(association);
            private_ips.push(PrivateIp {
                address,
                primary: p.primary,
                public,
                elastic,
            });
        }
    }
    if private_ips.is_empty() {
        if let Some(address) = private_ip_address
            .as_deref()
            .and_then(|p| cx.ip4(f, &format!("network interface {id}"), "PrivateIpAddress", p))
        {
            let (public, elastic) = public_of(association.as_ref());
            private_ips.push(PrivateIp {
                address,
                primary: true,
                public,
                elastic,
            });
        }
    }
    // Elastic IPs from describe-addresses fill in what the ENI itself did not say.
    if let Some(eips) = eips.get(id.as_str()) {
        let primary = private_ips.iter().find(|p| p.primary).map(|p| p.address);
        for p in &mut private_ips {
            let eip = eips.get(&Some(p.address)).or_else(|| {
                (Some(p.address) == primary)
                    .then(|| eips.get(&None))
                    .flatten()
            });
            if let Some(eip) = eip {
                p.public = Some(*eip);
                p.elastic = true;
            }
        }
    }
    private_ips.sort_by_key(|p| !p.primary);
    let owner = format!("network interface {id}");
    let ipv6: Vec<Ipv6Addr> = ipv6_addresses
        .iter()
        .filter_map(|a| {
            match cx.ip(
                f,
                &owner,
                "Ipv6Addresses[].Ipv6Address",
                &a.ipv6_address,
                Family::V6,
            ) {
                Some(IpAddr::V6(v)) => Some(v),
                _ => None,
            }
        })
        .collect();
    let prefixes: Vec<IpNet> = ipv4_prefixes
        .iter()
        .map(|p| {
            (
                "Ipv4Prefixes[].Ipv4Prefix",
                p.ipv4_prefix.as_str(),
                Family::V4,
            )
        })
        .chain(ipv6_prefixes.iter().map(|p| {
            (
                "Ipv6Prefixes[].Ipv6Prefix",
                p.ipv6_prefix.as_str(),
                Family::V6,
            )
        }))
        .filter_map(|(field, p, family)| cx.cidr(f, &owner, field, p, family))
        .collect();
    let groups: Vec<String> = groups.into_iter().map(|g| g.group_id).collect();
    let description = description.unwrap_or_default();
    let interface_type = interface_type.unwrap_or_else(|| "interface".into());
    let tag_map = tags_owned(wire_tags);
    let device_index = attachment
        .as_ref()
        .and_then(|a| a.device_index)
        .and_then(|d| u32::try_from(d).ok());
    let instance_id = attachment.and_then(|a| a.instance_id);
    let owner = classify(
        &description,
        &interface_type,
        requester_id.as_deref(),
        requester_managed,
        instance_id.as_deref(),
        &vpc_id,
        &subnet_id,
        &groups,
        private_ips.iter().any(|p| p.public.is_some()),
        m,
        lookup,
        &tag_map,
    );
    Some(NetworkInterface {
        location: location(f, owner_id.as_deref(), az.as_deref(), None),
        id,
        subnet_id,
        vpc_id,
        az,
        private_ips,
        ipv6,
        prefixes,
        groups,
        source_dest_check: source_dest_check.unwrap_or(true),
        owner,
        device_index,
        interface_type,
        description,
        tags: tag_map,
    })
}

/// Elastic IPs from `describe-addresses`: by ENI, then by private address (`None`: the
/// ENI's primary address).
type Eips = BTreeMap<String, BTreeMap<Option<Ipv4Addr>, Ipv4Addr>>;

/// Indexes over the converted model that classifying an ENI consults, built once so that
/// each ENI costs lookups rather than scans of whole collections.
struct Lookup<'a> {
    /// Load balancers by ARN suffix (`app/<name>/<id>`); the first by ARN for a suffix.
    lb_by_suffix: HashMap<&'a str, &'a LoadBalancer>,
    /// NAT gateway ids by subnet; the first by id for a subnet.
    nat_by_subnet: HashMap<&'a str, &'a str>,
    /// DB instances by security group.
    dbs_by_group: HashMap<&'a str, Vec<&'a DbInstance>>,
    /// DB instances without security groups.
    dbs_without_groups: Vec<&'a DbInstance>,
}

impl<'a> Lookup<'a> {
    fn new(m: &'a Model) -> Self {
        let mut lookup = Lookup {
            lb_by_suffix: HashMap::new(),
            nat_by_subnet: HashMap::new(),
            dbs_by_group: HashMap::new(),
            dbs_without_groups: Vec::new(),
        };
        for lb in m.load_balancers.values() {
            if let Some(suffix) = lb.arn_suffix() {
                lookup.lb_by_suffix.entry(suffix).or_insert(lb);
            }
        }
        for n in m.nat_gateways.values() {
            lookup
                .nat_by_subnet
                .entry(n.subnet_id.as_str())
                .or_insert(n.id.as_str());
        }
        for d in m.db_instances.values() {
            if d.groups.is_empty() {
                lookup.dbs_without_groups.push(d);
            }
            for g in &d.groups {
                lookup.dbs_by_group.entry(g.as_str()).or_default().push(d);
            }
        }
        lookup
    }

    /// DB instances that share a security group with `groups`, or, when `groups` is empty,
    /// those without any; in id order.
    fn dbs_sharing_a_group(&self, groups: &[String]) -> Vec<&'a DbInstance> {
        let mut found: BTreeMap<&str, &'a DbInstance> = BTreeMap::new();
        for g in groups {
            for d in self.dbs_by_group.get(g.as_str()).into_iter().flatten() {
                found.insert(d.id.as_str(), d);
            }
        }
        if groups.is_empty() {
            for d in &self.dbs_without_groups {
                found.insert(d.id.as_str(), d);
            }
        }
        found.into_values().collect()
    }
}

/// The region of a peering end's VPC, from the VPC's own records in the snapshot.
fn vpc_region(m: &Model, end: &wire::PeeringVpcInfo) -> Option<String> {
    end.vpc_id
        .as_ref()
        .and_then(|v| m.vpcs.get(v))
        .and_then(|v| v.location.region.clone())
}

fn public_of(a: Option<&wire::IpAssociation>) -> (Option<Ipv4Addr>, bool) {
    match a.and_then(|a| a.public_ip.as_deref().map(|p| (p, a))) {
        Some((p, a)) => match p.parse::<Ipv4Addr>() {
            Ok(ip) => {
                let owner = a.ip_owner_id.as_deref().unwrap_or("");
                let elastic = a.allocation_id.is_some()
                    || (owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit()));
                (Some(ip), elastic)
            }
            Err(_) => (None, false),
        },
        None => (None, false),
    }
}

#[allow(clippy::too_many_arguments)]
fn classify(
    description: &str,
    interface_type: &str,
    requester: Option<&str>,
    requester_managed: Option<bool>,
    instance_id: Option<&str>,
    vpc_id: &str,
    subnet_id: &str,
    groups: &[String],
    has_public: bool,
    m: &Model,
    lookup: &Lookup,
    tags: &Tags,
) -> EniOwner {
    let group_names = || {
        let names: Vec<String> = groups
            .iter()
            .map(|g| {
                m.security_groups
                    .get(g)
                    .map(|sg| {
                        name_tag(&sg.tags).map(str::to_string).unwrap_or_else(|| {
                            if sg.name.is_empty() {
                                g.clone()
                            } else {
                                sg.name.clone()
                            }
                        })
                    })
                    .unwrap_or_else(|| g.clone())
            })
            .collect();
        names.join(",")
    };
    let service = |kind: OwnerKind, id: Option<String>, label: &str| {
        let name = name_tag(tags).map(str::to_string).unwrap_or_else(|| {
            if groups.is_empty() {
                label.to_string()
            } else {
                format!("{label} ({})", group_names())
            }
        });
        EniOwner { kind, id, name }
    };
    let word_after = |prefix: &str| -> Option<String> {
        description
            .strip_prefix(prefix)
            .map(|r| r.trim().trim_start_matches(':').trim())
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
    };
    let itype = interface_type.to_ascii_lowercase();
    let instance = || {
        instance_id.filter(|i| i.starts_with("i-")).map(|instance| {
            let name = m
                .instances
                .get(instance)
                .and_then(|i| name_tag(&i.tags).map(str::to_string))
                .or_else(|| name_tag(tags).map(str::to_string))
                .unwrap_or_else(|| instance.to_string());
            EniOwner {
                kind: OwnerKind::Ec2Instance,
                id: Some(instance.to_string()),
                name,
            }
        })
    };
    // An interface of one's own (not managed by a service) attached to an instance is the
    // instance's, whatever its description says: the description is anyone's to set
    // (`ModifyNetworkInterfaceAttribute`), so "Interface for NAT Gateway …" on it proves
    // nothing. The services' own interfaces are requester-managed or have their own type.
    // (An interface known only from `describe-instances` does not say: its description
    // still decides, as an ECS task's attached to its container instance needs.)
    if requester_managed == Some(false)
        && matches!(itype.as_str(), "interface" | "efa" | "efa-only")
    {
        if let Some(owner) = instance() {
            return owner;
        }
    }

    if let Some(rest) = description.strip_prefix("ELB ") {
        let rest = rest.trim();
        // A Classic Load Balancer's interfaces carry only its name, which another account's
        // (or region's) CLB may share: the one in the interface's VPC first.
        let lb = m
            .load_balancers
            .values()
            .find(|l| l.kind == LbKind::Classic && l.name == rest && l.vpc_id == vpc_id)
            .or_else(|| lookup.lb_by_suffix.get(rest).copied());
        let name = lb
            .map(|l| l.name.clone())
            .unwrap_or_else(|| rest.split('/').nth(1).unwrap_or(rest).to_string());
        return EniOwner {
            kind: OwnerKind::LoadBalancer,
            id: lb.map(|l| l.arn.clone()).or_else(|| Some(rest.to_string())),
            name,
        };
    }
    if itype == "nat_gateway"
        || itype == "natgateway"
        || description.starts_with("Interface for NAT Gateway")
    {
        let nat = word_after("Interface for NAT Gateway")
            .or_else(|| lookup.nat_by_subnet.get(subnet_id).map(|id| id.to_string()));
        let name = nat
            .as_ref()
            .and_then(|n| m.nat_gateways.get(n))
            .and_then(|n| name_tag(&n.tags).map(str::to_string))
            .or_else(|| nat.clone())
            .unwrap_or_else(|| "NAT gateway".into());
        return EniOwner {
            kind: OwnerKind::NatGateway,
            id: nat,
            name,
        };
    }
    if itype == "gateway_load_balancer_endpoint" {
        let id = word_after("VPC Endpoint Interface");
        return service(
            OwnerKind::GwlbEndpoint,
            id.clone(),
            &id.unwrap_or_else(|| "GWLB endpoint".into()),
        );
    }
    if itype == "vpc_endpoint" || description.starts_with("VPC Endpoint Interface") {
        let id = word_after("VPC Endpoint Interface");
        let label = id
            .as_ref()
            .and_then(|i| m.vpc_endpoints.get(i))
            .map(|e| {
                name_tag(&e.tags)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} ({})", e.id, e.service_name))
            })
            .or_else(|| id.clone())
            .unwrap_or_else(|| "VPC endpoint".into());
        return EniOwner {
            kind: OwnerKind::VpcEndpoint,
            id,
            name: label,
        };
    }
    if description == "RDSNetworkInterface" || requester == Some("amazon-rds") {
        // Name the database through VPC, DB subnet group and security groups (as Batfish does).
        let mut candidates: Vec<&DbInstance> = lookup
            .dbs_sharing_a_group(groups)
            .into_iter()
            .filter(|d| d.vpc_id.as_deref().is_none_or(|v| v == vpc_id))
            .filter(|d| d.subnet_ids.is_empty() || d.subnet_ids.iter().any(|s| s == subnet_id))
            .collect();
        let exact: Vec<&DbInstance> = candidates
            .iter()
            .copied()
            .filter(|d| {
                let a: BTreeSet<&String> = d.groups.iter().collect();
                let b: BTreeSet<&String> = groups.iter().collect();
                a == b
            })
            .collect();
        if !exact.is_empty() {
            candidates = exact;
        }
        // A publicly accessible DB instance's interface has a public address, the others'
        // have none (§8): that tells apart databases sharing subnets and groups.
        let by_access: Vec<&DbInstance> = candidates
            .iter()
            .copied()
            .filter(|d| d.publicly_accessible == has_public)
            .collect();
        if candidates.len() > 1 && !by_access.is_empty() {
            candidates = by_access;
        }
        return match candidates.as_slice() {
            [one] => EniOwner {
                kind: OwnerKind::Rds,
                id: Some(one.id.clone()),
                name: one.id.clone(),
            },
            [] => service(OwnerKind::Rds, None, "rds"),
            many => EniOwner {
                kind: OwnerKind::Rds,
                id: None,
                name: format!(
                    "rds ({})",
                    many.iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            },
        };
    }
    if itype == "lambda" || description.starts_with("AWS Lambda VPC ENI") {
        let function = description.strip_prefix("AWS Lambda VPC ENI-").map(|r| {
            // `<function>-<uuid>`: the uuid has five dash-separated groups.
            let parts: Vec<&str> = r.split('-').collect();
            if parts.len() > 5 {
                parts[..parts.len() - 5].join("-")
            } else {
                r.to_string()
            }
        });
        let label = function
            .clone()
            .map(|f| format!("lambda {f}"))
            .unwrap_or_else(|| "lambda".into());
        return service(OwnerKind::Lambda, function, &label);
    }
    if description.starts_with("arn:aws:ecs:") {
        return service(
            OwnerKind::EcsTask,
            Some(description.to_string()),
            "ecs task",
        );
    }
    if itype == "transit_gateway" || description.contains("Transit Gateway Attachment") {
        let id = description
            .split_whitespace()
            .find(|w| w.starts_with("tgw-attach-"))
            .map(str::to_string);
        return EniOwner {
            kind: OwnerKind::TransitGateway,
            name: id
                .clone()
                .unwrap_or_else(|| "transit gateway attachment".into()),
            id,
        };
    }
    if description.starts_with("EFS mount target") {
        let id = word_after("EFS mount target for");
        let label = id
            .clone()
            .map(|i| format!("efs {i}"))
            .unwrap_or_else(|| "efs".into());
        return service(OwnerKind::Efs, id, &label);
    }
    if description.starts_with("ElastiCache") {
        let id = word_after("ElastiCache");
        let label = id
            .clone()
            .map(|i| format!("elasticache {i}"))
            .unwrap_or_else(|| "elasticache".into());
        return service(OwnerKind::ElastiCache, id, &label);
    }
    if description.starts_with("Resource Gateway Interface") {
        let id = word_after("Resource Gateway Interface");
        return service(
            OwnerKind::ResourceGateway,
            id.clone(),
            &id.unwrap_or_else(|| "resource gateway".into()),
        );
    }
    if let Some(owner) = instance() {
        return owner;
    }
    if description.starts_with("Amazon EKS") || itype == "trunk" || itype == "branch" {
        return service(OwnerKind::Eks, None, description.trim());
    }
    if requester.is_some() || itype != "interface" {
        let label = if description.is_empty() {
            itype.clone()
        } else {
            description.to_string()
        };
        return service(OwnerKind::OtherService, None, &label);
    }
    EniOwner {
        kind: OwnerKind::Unattached,
        id: None,
        name: name_tag(tags).map(str::to_string).unwrap_or_default(),
    }
}

/// Resources without their own account/region take their VPC's.
fn inherit_locations(m: &mut Model) {
    let vpc_loc: BTreeMap<String, Location> = m
        .vpcs
        .iter()
        .map(|(id, v)| (id.clone(), v.location.clone()))
        .collect();
    let fill = |loc: &mut Location, vpc: &str| {
        if loc.account.is_some() && loc.region.is_some() {
            return;
        }
        if let Some(v) = vpc_loc.get(vpc) {
            if loc.account.is_none() {
                loc.account = v.account.clone();
            }
            if loc.region.is_none() {
                loc.region = v.region.clone();
            }
        }
    };
    for s in m.subnets.values_mut() {
        fill(&mut s.location, &s.vpc_id);
    }
    for r in m.route_tables.values_mut() {
        fill(&mut r.location, &r.vpc_id);
    }
    for n in m.network_acls.values_mut() {
        fill(&mut n.location, &n.vpc_id);
    }
    // Groups known only from describe-security-group-rules take their VPC from an ENI using them.
    // (The first ENI by id that uses the group; only such groups are looked for.)
    let mut vpc_of_group: BTreeMap<String, Option<String>> = m
        .security_groups
        .values()
        .filter(|g| g.vpc_id.is_empty())
        .map(|g| (g.id.clone(), None))
        .collect();
    if !vpc_of_group.is_empty() {
        for e in m.network_interfaces.values() {
            for g in &e.groups {
                if let Some(vpc @ None) = vpc_of_group.get_mut(g) {
                    *vpc = Some(e.vpc_id.clone());
                }
            }
        }
    }
    for g in m.security_groups.values_mut() {
        if g.vpc_id.is_empty() {
            if let Some(Some(v)) = vpc_of_group.get(&g.id) {
                g.vpc_id = v.clone();
            }
        }
        fill(&mut g.location, &g.vpc_id);
    }
    for e in m.network_interfaces.values_mut() {
        fill(&mut e.location, &e.vpc_id);
    }
    for i in m.instances.values_mut() {
        if let Some(v) = i.vpc_id.clone() {
            fill(&mut i.location, &v);
        }
    }
    // A NAT gateway's record without its VPC takes its subnet's.
    for n in m.nat_gateways.values_mut() {
        if n.vpc_id.is_empty() {
            if let Some(s) = m.subnets.get(&n.subnet_id) {
                n.vpc_id = s.vpc_id.clone();
            }
        }
        fill(&mut n.location, &n.vpc_id);
    }
    for g in m.internet_gateways.values_mut() {
        if let Some(v) = g.vpc_ids.first().cloned() {
            fill(&mut g.location, &v);
        }
    }
    for e in m.vpc_endpoints.values_mut() {
        fill(&mut e.location, &e.vpc_id);
    }
    for lb in m.load_balancers.values_mut() {
        fill(&mut lb.location, &lb.vpc_id);
    }
}

/// A prefix list's `AddressFamily`: `Some(true)` for IPv4, `Some(false)` for IPv6.
fn list_family(family: Option<&str>) -> Option<bool> {
    match family {
        Some(f) if f.eq_ignore_ascii_case("IPv4") => Some(true),
        Some(f) if f.eq_ignore_ascii_case("IPv6") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{load_files, LoadError, SnapshotFile};

    const P: &str = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:";

    fn file(name: &str, json: serde_json::Value) -> SnapshotFile {
        let display = format!("snap/111122223333/eu-west-1/{name}");
        SnapshotFile {
            components: display.split('/').map(str::to_string).collect(),
            display,
            contents: serde_json::to_vec_pretty(&json).expect("JSON"),
        }
    }

    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(
            listener_of_rule(&format!(
                "{P}listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
            )),
            Some(format!(
                "{P}listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
            ))
        );
        assert_eq!(
            listener_of_rule(
                "arn:aws-cn:elasticloadbalancing:cn-north-1:111122223333:listener-rule/net/db/1/2/3"
            ),
            Some(
                "arn:aws-cn:elasticloadbalancing:cn-north-1:111122223333:listener/net/db/1/2"
                    .to_string()
            )
        );
        for not_a_rule in [
            format!("{P}listener/app/shop/1/2"),
            format!("{P}listener-rule/app/shop/1/2"),
            format!("{P}listener-rule/app/shop/1/2/3/4"),
            format!("{P}listener-rule/app/shop//2/3"),
            format!("{P}listener-rule/gwy/shop/1/2/3"),
            format!("{P}targetgroup/web/1"),
            "listener-rule/app/shop/1/2/3".to_string(),
            "arn:aws:events:eu-west-1:111122223333:rule/nightly".to_string(),
            String::new(),
        ] {
            assert_eq!(listener_of_rule(&not_a_rule), None, "{not_a_rule}");
        }
    }

    /// describe-network-interfaces describes an ENI before the instances that carry it do; an
    /// ENI only an instance describes is taken from there, the first description of an id
    /// counting, in the instance's subnet when its own entry names none.
    #[test]
    fn network_interfaces_describe_their_enis_before_instances_do() {
        let eni = |id: &str, subnet: Option<&str>, description: &str| {
            let mut e = serde_json::json!({
                "NetworkInterfaceId": id, "VpcId": "vpc-1", "Description": description,
                "PrivateIpAddress": "10.0.0.5", "Groups": [{"GroupId": "sg-1"}],
                "Attachment": {"DeviceIndex": 0},
            });
            if let Some(subnet) = subnet {
                e["SubnetId"] = subnet.into();
            }
            e
        };
        let instance = |id: &str, enis: Vec<serde_json::Value>| {
            serde_json::json!({
                "InstanceId": id, "SubnetId": "subnet-i", "VpcId": "vpc-1",
                "State": {"Name": "running"}, "NetworkInterfaces": enis,
            })
        };
        let files = vec![
            file(
                "describe-instances.json",
                serde_json::json!({"Reservations": [{"Instances": [
                    instance("i-1", vec![
                        eni("eni-both", Some("subnet-i"), "from the instance"),
                        eni("eni-only", None, "first"),
                    ]),
                    instance("i-2", vec![eni("eni-only", Some("subnet-x"), "second")]),
                ]}]}),
            ),
            file(
                "describe-network-interfaces.json",
                serde_json::json!({"NetworkInterfaces": [
                    eni("eni-both", Some("subnet-n"), "from describe-network-interfaces"),
                ]}),
            ),
        ];
        let snap = load_files("test", &files).expect("loads");
        let enis = &snap.model.network_interfaces;
        let seen: Vec<(&str, &str, &str)> = enis
            .values()
            .map(|e| (e.id.as_str(), e.subnet_id.as_str(), e.description.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("eni-both", "subnet-n", "from describe-network-interfaces"),
                ("eni-only", "subnet-i", "first"),
            ]
        );
        assert_eq!(
            snap.model.instances["i-1"].eni_ids,
            vec!["eni-both", "eni-only"]
        );
        assert_eq!(snap.model.instances["i-2"].eni_ids, vec!["eni-only"]);
    }

    /// An ALB whose listener answers with a fixed response by default, and forwards by rules:
    /// one file of bare `describe-rules` output (each rule's ARN names the listener), one in
    /// the collector's shape (the file names the listener), one whose two rules name a listener
    /// that is not in the snapshot (one warning).
    #[test]
    fn rules_forward_beside_the_default_actions_and_dangling_ones_are_warned_about() {
        let lb = format!("{P}loadbalancer/app/shop/e7");
        let listener = format!("{P}listener/app/shop/e7/l1");
        let gone = format!("{P}listener/app/shop/e7/l2");
        let tg = |name: &str| format!("{P}targetgroup/{name}/1");
        let forward = |name: &str| {
            serde_json::json!({
                "Type": "forward",
                "TargetGroupArn": tg(name),
                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg(name), "Weight": 1}]}
            })
        };
        let fixed = serde_json::json!({"Type": "fixed-response"});
        let groups: Vec<serde_json::Value> = ["api", "web", "admin", "img"]
            .map(|n| serde_json::json!({"TargetGroupArn": tg(n), "TargetGroupName": n}))
            .into();
        let files = vec![
            file(
                "describe-load-balancers.json",
                serde_json::json!({"LoadBalancers": [{"LoadBalancerArn": lb, "Type": "application",
                                                      "Scheme": "internet-facing"}]}),
            ),
            file(
                "describe-listeners.json",
                serde_json::json!({"Listeners": [{
                    "ListenerArn": listener, "LoadBalancerArn": lb, "Port": 443,
                    "Protocol": "HTTPS", "DefaultActions": [fixed]
                }]}),
            ),
            file(
                "describe-target-groups.json",
                serde_json::json!({"TargetGroups": groups}),
            ),
            file(
                "describe-rules.json",
                serde_json::json!({"Rules": [
                    {"RuleArn": format!("{P}listener-rule/app/shop/e7/l1/default"),
                     "Priority": "default", "Conditions": [], "Actions": [fixed], "IsDefault": true},
                    {"RuleArn": format!("{P}listener-rule/app/shop/e7/l1/r20"), "Priority": "20",
                     "Conditions": [{"Field": "host-header", "Values": ["www.example.com"]}],
                     "Actions": [forward("web")], "IsDefault": false},
                    {"RuleArn": format!("{P}listener-rule/app/shop/e7/l1/r10"), "Priority": "10",
                     "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]},
                                    {"Field": "source-ip", "Values": ["81.2.69.0/24"]}],
                     "Actions": [forward("api"), forward("web")], "IsDefault": false}
                ], "NextMarker": null}),
            ),
            file(
                "elbv2-describe-rules-l1.json",
                serde_json::json!({"ListenerArn": listener, "Rules": [
                    {"Priority": "30", "Actions": [{"Type": "forward", "ForwardConfig": {
                        "TargetGroups": [{"TargetGroupArn": tg("img")}]}}]}
                ]}),
            ),
            file(
                "describe-rules-gone.json",
                serde_json::json!({"Rules": [
                    {"RuleArn": format!("{P}listener-rule/app/shop/e7/l2/r1"), "Priority": "1",
                     "Actions": [forward("admin")]},
                    {"RuleArn": format!("{P}listener-rule/app/shop/e7/l2/r2"), "Priority": "2",
                     "Actions": [forward("admin")]}
                ]}),
            ),
        ];
        let snap = load_files("test", &files).expect("loads");
        let l = &snap.model.listeners[&listener];
        assert_eq!(l.actions, vec![ListenerAction::FixedResponse]);
        // Every rule's groups, once each, by priority; the default rule last.
        assert_eq!(
            l.target_groups().collect::<Vec<_>>(),
            vec![tg("api"), tg("web"), tg("img")]
        );
        let order: Vec<(Option<u32>, bool)> =
            l.rules.iter().map(|r| (r.priority, r.is_default)).collect();
        assert_eq!(
            order,
            vec![
                (Some(10), false),
                (Some(20), false),
                (Some(30), false),
                (None, true)
            ]
        );
        assert_eq!(l.rules[0].conditions, vec!["path-pattern", "source-ip"]);
        assert_eq!(l.rules[2].arn, format!("{listener}/rule-30"));
        assert!(!l.default_forwards_to(&tg("web")));
        let by: Vec<Option<u32>> = l
            .rules_forwarding_to(&tg("web"))
            .map(|r| r.priority)
            .collect();
        assert_eq!(by, vec![Some(10), Some(20)]);
        // Not forwarded by anything.
        assert!(!l.target_groups().any(|t| t == tg("admin")));
        let warnings: Vec<String> = snap
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning)
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            warnings,
            vec![format!(
                "snap/111122223333/eu-west-1/describe-rules-gone.json: listener rules {P}listener-rule/app/shop/e7/l2/r1 and 1 more belong to listener {gone} which is not in the snapshot; ignored"
            )]
        );
    }

    /// Classic Load Balancers: listeners forward to their instances at the instance port; the
    /// attributes file (which does not name the load balancer) is matched by its file name,
    /// the longest such name winning; one named after no CLB is a warning.
    #[test]
    fn classic_load_balancers_and_their_attributes_files() {
        let clb = |name: &str| {
            serde_json::json!({
                "LoadBalancerName": name, "Scheme": "internal", "VPCId": "vpc-1",
                "Subnets": ["subnet-1"], "SecurityGroups": ["sg-1"],
                "ListenerDescriptions": [{"Listener": {
                    "Protocol": "TCP", "LoadBalancerPort": 443,
                    "InstanceProtocol": "TCP", "InstancePort": 8443}}],
                "Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}],
            })
        };
        let attributes = |on: bool| {
            serde_json::json!({"LoadBalancerAttributes": {
                "CrossZoneLoadBalancing": {"Enabled": on},
                "ConnectionSettings": {"IdleTimeout": 60}}})
        };
        let files = vec![
            file(
                "elb-describe-load-balancers.json",
                serde_json::json!({"LoadBalancerDescriptions": [
                    clb("api"), clb("shop-api"),
                    {"LoadBalancerName": "classic-only", "ListenerDescriptions": []},
                ]}),
            ),
            file(
                "elb-describe-load-balancer-attributes-shop-api.json",
                attributes(false),
            ),
            file("api.json", attributes(true)),
            file(
                "elb-describe-load-balancer-attributes-gone.json",
                attributes(false),
            ),
        ];
        let snap = load_files("test", &files).expect("loads");
        let m = &snap.model;
        let arn = |name: &str| format!("{P}loadbalancer/{name}");
        assert_eq!(m.load_balancers.len(), 2, "the EC2-Classic one is skipped");
        assert!(!m.load_balancers[&arn("shop-api")].cross_zone());
        assert!(m.load_balancers[&arn("api")].cross_zone());
        let l = &m.listeners[&format!("{}/listener:443", arn("api"))];
        assert_eq!((l.protocol.as_str(), l.port), ("TCP", Some(443)));
        let tg = &m.target_groups[&format!("{}/instances:8443", arn("api"))];
        assert_eq!(tg.port, Some(8443));
        assert!(l.default_forwards_to(&tg.arn));
        let targets: Vec<&str> = tg.targets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(targets, vec!["i-1", "i-2"]);
        let warnings: Vec<String> = snap
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning && d.file.is_some())
            .map(ToString::to_string)
            .collect();
        // (The dangling subnet, group and instances are warned about without a file.)
        assert_eq!(
            warnings,
            vec!["snap/111122223333/eu-west-1/elb-describe-load-balancer-attributes-gone.json: a Classic Load Balancer's attributes, but no classic load balancer in the snapshot is named by the file's name (name it after the load balancer); ignored".to_string()]
        );
    }

    /// A rule that names no listener is a warning; a wrongly typed field is an error naming
    /// the file and the field's path.
    #[test]
    fn rules_without_a_listener_are_warned_about_and_wrong_types_are_errors() {
        let vpcs = file(
            "vpcs.json",
            serde_json::json!({"Vpcs": [{"VpcId": "vpc-1"}]}),
        );
        let orphan = file(
            "rules.json",
            serde_json::json!({"Rules": [
                {"RuleArn": "arn:aws:events:eu-west-1:111122223333:rule/nightly"},
                {"Priority": "5"}
            ]}),
        );
        let snap = load_files("test", &[vpcs.clone(), orphan]).expect("loads");
        let text: Vec<String> = snap.diagnostics.iter().map(ToString::to_string).collect();
        // One warning for the file, whatever the number of rules.
        assert_eq!(
            text,
            vec!["snap/111122223333/eu-west-1/rules.json: 2 rules without a listener (the file has no ListenerArn, and no listener-rule ARN names one: arn:aws:events:eu-west-1:111122223333:rule/nightly and 1 more); ignored"]
        );
        for (json, path) in [
            (r#"{"Rules": [{"Priority": 10}]}"#, "Rules[0].Priority"),
            (r#"{"Rules": {"RuleArn": "x"}}"#, "Rules"),
            (
                r#"{"Rules": [{"Actions": [{"Type": "forward", "TargetGroupArn": ["a"]}]}]}"#,
                "Rules[0].Actions[0].TargetGroupArn",
            ),
            (r#"{"Rules": [{"IsDefault": "yes"}]}"#, "Rules[0].IsDefault"),
            (r#"{"ListenerArn": 5, "Rules": []}"#, "ListenerArn"),
        ] {
            let bad = SnapshotFile {
                display: "snap/describe-rules.json".into(),
                components: vec!["snap".into(), "describe-rules.json".into()],
                contents: json.as_bytes().to_vec(),
            };
            match load_files("test", &[vpcs.clone(), bad]) {
                Err(LoadError::Type { file, path: p, .. }) => {
                    assert_eq!(
                        (file.as_str(), p.as_str()),
                        ("snap/describe-rules.json", path)
                    );
                }
                other => panic!("{json}: {other:?}"),
            }
        }
        // `ListenerArn` without `Rules` is an unknown key, not an error.
        let alone = file("x.json", serde_json::json!({"ListenerArn": 5}));
        let snap = load_files("test", &[vpcs, alone]).expect("loads");
        assert!(snap
            .diagnostics
            .iter()
            .any(|d| d.message.contains("unknown top-level key `ListenerArn`")));
    }

    /// The ports of a rule, or of its warning when they cannot be read.
    fn ports_of(protocol: &str, from: Option<i64>, to: Option<i64>) -> Result<PortSpec, String> {
        let proto = super::protocol(protocol).expect("a protocol");
        port_spec(proto, from, to, ("FromPort", "ToPort"))
    }

    /// Ports out of range, reversed or missing are never clamped, swapped or widened: the rule
    /// is left out with a warning; -1 is every type or code for ICMP, every port for protocol -1.
    #[test]
    fn ports_outside_their_range_are_not_widened() {
        assert_eq!(
            ports_of("tcp", Some(22), Some(22)),
            Ok(PortSpec::Range(22, 22))
        );
        assert_eq!(ports_of("udp", Some(0), Some(65535)), Ok(PortSpec::All));
        assert_eq!(ports_of("-1", Some(-1), Some(-1)), Ok(PortSpec::All));
        assert_eq!(ports_of("50", None, None), Ok(PortSpec::All));
        let all_icmp = PortSpec::Icmp {
            kind: None,
            code: None,
        };
        assert_eq!(ports_of("icmp", Some(-1), Some(-1)), Ok(all_icmp));
        assert_eq!(
            ports_of("icmpv6", Some(128), Some(-1)),
            Ok(PortSpec::Icmp {
                kind: Some(128),
                code: None
            })
        );
        for (protocol, from, to, problem) in [
            (
                "tcp",
                Some(22),
                Some(-5),
                "ToPort -5 is out of range (0-65535)",
            ),
            (
                "tcp",
                Some(-1),
                Some(-1),
                "FromPort -1 is out of range (0-65535)",
            ),
            (
                "udp",
                Some(80),
                Some(70000),
                "ToPort 70000 is out of range (0-65535)",
            ),
            (
                "tcp",
                Some(443),
                Some(22),
                "FromPort 443 is above ToPort 22",
            ),
            ("tcp", None, None, "no FromPort and ToPort"),
            ("tcp", Some(22), None, "FromPort without ToPort"),
            (
                "icmp",
                Some(300),
                Some(-1),
                "FromPort 300 is out of range for an ICMP type (-1-255)",
            ),
            (
                "icmp",
                Some(8),
                Some(-2),
                "ToPort -2 is out of range for an ICMP code (-1-255)",
            ),
        ] {
            assert_eq!(
                ports_of(protocol, from, to),
                Err(problem.to_string()),
                "{protocol} {from:?} {to:?}"
            );
        }
        // In a snapshot: the group keeps its other rules, the NACL its other entries, the load
        // balancer its other listener.
        let rule = |from: i64, to: i64, cidr: &str| {
            serde_json::json!({"IpProtocol": "tcp", "FromPort": from, "ToPort": to,
                               "IpRanges": [{"CidrIp": cidr}]})
        };
        let entry = |n: i64, action: &str, from: i64, to: i64| {
            serde_json::json!({"RuleNumber": n, "Protocol": "6", "RuleAction": action,
                               "Egress": false, "CidrBlock": "0.0.0.0/0",
                               "PortRange": {"From": from, "To": to}})
        };
        let lb = format!("{P}loadbalancer/app/shop/e7");
        let listener = |id: &str, port: i64| {
            serde_json::json!({"ListenerArn": format!("{P}listener/app/shop/e7/{id}"),
                               "LoadBalancerArn": lb, "Port": port, "Protocol": "HTTPS"})
        };
        let files = vec![
            file(
                "describe-security-groups.json",
                serde_json::json!({"SecurityGroups": [{"GroupId": "sg-1", "VpcId": "vpc-1",
                    "IpPermissions": [rule(22, -5, "0.0.0.0/0"), rule(443, 443, "0.0.0.0/0")]}]}),
            ),
            file(
                "describe-network-acls.json",
                serde_json::json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1",
                    "Entries": [entry(90, "deny", 22, 70000), entry(100, "allow", 0, 65535)]}]}),
            ),
            file(
                "describe-listeners.json",
                serde_json::json!({"Listeners": [listener("l1", 443), listener("l2", 0)]}),
            ),
        ];
        let snap = load_files("test", &files).expect("loads");
        let m = &snap.model;
        let ingress: Vec<PortSpec> = m.security_groups["sg-1"]
            .ingress
            .iter()
            .map(|r| r.ports)
            .collect();
        assert_eq!(ingress, vec![PortSpec::Range(443, 443)]);
        let entries: Vec<(u32, bool)> = m.network_acls["acl-1"]
            .entries
            .iter()
            .map(|e| (e.rule_number, e.allow))
            .collect();
        assert_eq!(entries, vec![(100, true)]);
        let listeners: Vec<Option<u16>> = m.listeners.values().map(|l| l.port).collect();
        assert_eq!(listeners, vec![Some(443)]);
        let warnings: Vec<String> = snap
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning && d.file.is_some())
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(warnings, vec![
            "network ACL acl-1 rule 90: PortRange.To 70000 is out of range (0-65535); rule ignored (a deny rule: the rules after it decide the traffic it covers)".to_string(),
            "security group sg-1: an inbound `tcp` rule: ToPort -5 is out of range (0-65535); rule ignored (the traffic it allows is not counted)".to_string(),
            format!("listener {P}listener/app/shop/e7/l2: Port 0 is out of range (1-65535); listener ignored (nothing is forwarded through it)"),
        ]);
    }

    /// A value of the other address family in a field of one is a warning naming the field and
    /// is ignored, never read as the other family: prefix-list entries of a list's family, a
    /// VPN connection's networks (taken as all of the family, as when absent, and said so).
    #[test]
    fn values_of_the_other_address_family_are_ignored() {
        let files = vec![
            file(
                "describe-managed-prefix-lists.json",
                serde_json::json!({"PrefixLists": [{"PrefixListId": "pl-1", "AddressFamily": "IPv4",
                                                    "State": "create-complete"}]}),
            ),
            file(
                "get-managed-prefix-list-entries-pl-1.json",
                serde_json::json!({"PrefixListId": "pl-1",
                                   "Entries": [{"Cidr": "10.0.0.0/8"}, {"Cidr": "::/0"}]}),
            ),
            file(
                "describe-vpn-connections.json",
                serde_json::json!({"VpnConnections": [{"VpnConnectionId": "vpn-1",
                    "VpnGatewayId": "vgw-1", "State": "available",
                    "Options": {"LocalIpv4NetworkCidr": "::/0",
                                "RemoteIpv4NetworkCidr": "10.0.0.0/16"}}]}),
            ),
        ];
        let snap = load_files("test", &files).expect("loads");
        let m = &snap.model;
        assert_eq!(
            m.prefix_lists["pl-1"].cidrs,
            vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
        let vpn = &m.vpn_connections["vpn-1"];
        assert_eq!(
            (vpn.local_net.to_string(), vpn.remote_net.to_string()),
            ("0.0.0.0/0".to_string(), "10.0.0.0/16".to_string())
        );
        let warnings: Vec<String> = snap
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning && d.file.is_some())
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            warnings,
            vec![
                "snap/111122223333/eu-west-1/get-managed-prefix-list-entries-pl-1.json: prefix list pl-1: Entries[].Cidr `::/0` is not an IPv4 CIDR block; ignored",
                "snap/111122223333/eu-west-1/describe-vpn-connections.json: VPN connection vpn-1: Options.LocalIpv4NetworkCidr `::/0` is not an IPv4 CIDR block; ignored (taken as 0.0.0.0/0, as when absent)",
            ]
        );
    }

    /// A load balancer's Type in any case is read; one missing is taken from the ARN without a
    /// word, one not known from the ARN with a warning, and where the ARN does not say either,
    /// as application with a warning.
    #[test]
    fn load_balancer_types_come_from_the_arn_when_missing_or_unknown() {
        let mut cx = Ctx {
            diagnostics: Vec::new(),
        };
        let f = FileContext::default();
        let net = format!("{P}loadbalancer/net/db/1");
        let gwy = format!("{P}loadbalancer/gwy/fw/1");
        let other = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/x";
        assert_eq!(lb_kind(&mut cx, &f, &net, Some("NETWORK")), LbKind::Network);
        assert_eq!(lb_kind(&mut cx, &f, &gwy, None), LbKind::Gateway);
        assert!(cx.diagnostics.is_empty(), "{:?}", cx.diagnostics);
        assert_eq!(lb_kind(&mut cx, &f, &net, Some("nlb")), LbKind::Network);
        assert_eq!(lb_kind(&mut cx, &f, other, None), LbKind::Application);
        let said: Vec<&str> = cx.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].ends_with("Type `nlb` is not known (application, network or gateway); taken as network, as its ARN says"), "{said:?}");
        assert!(
            said[1].ends_with("no Type, and its ARN does not say; taken as application"),
            "{said:?}"
        );
        // Scheme in any case; missing or unknown is internet-facing, with a warning.
        assert!(!internet_facing(&mut cx, &f, "lb", Some("Internal")));
        assert!(internet_facing(&mut cx, &f, "lb", Some("internet-facing")));
        assert_eq!(cx.diagnostics.len(), 2);
        assert!(internet_facing(&mut cx, &f, "lb", None));
        assert_eq!(
            cx.diagnostics[2].message,
            "lb: no Scheme; taken as internet-facing (what it forwards may be reported as exposed)"
        );
    }

    /// The same id described differently by two files is a warning naming both, and which
    /// description is used does not depend on the files' names or order; copies that differ
    /// only in tags are one resource, without a warning.
    #[test]
    fn conflicting_copies_are_settled_by_content_not_by_file_names() {
        let group = |port: i64, name: &str| {
            serde_json::json!({"SecurityGroups": [{"GroupId": "sg-1", "VpcId": "vpc-1",
                "GroupName": "web", "Tags": [{"Key": "Name", "Value": name}],
                "IpPermissions": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                   "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]})
        };
        let used = |files: Vec<SnapshotFile>| {
            let snap = load_files("test", &files).expect("loads");
            let ports: Vec<PortSpec> = snap.model.security_groups["sg-1"]
                .ingress
                .iter()
                .map(|r| r.ports)
                .collect();
            let warnings: Vec<String> = snap
                .diagnostics
                .iter()
                .filter(|d| d.level == Level::Warning)
                .map(|d| d.message.clone())
                .collect();
            (ports, warnings)
        };
        for (first, second) in [("aa.json", "zz.json"), ("zz.json", "aa.json")] {
            let (ports, warnings) = used(vec![
                file(first, group(22, "web")),
                file(second, group(443, "web")),
            ]);
            assert_eq!(ports, vec![PortSpec::Range(22, 22)], "{first} {second}");
            assert_eq!(warnings, vec![format!(
                "security group sg-1 is described differently in snap/111122223333/eu-west-1/aa.json and snap/111122223333/eu-west-1/zz.json: the description in snap/111122223333/eu-west-1/{first} is used (chosen by content, not by the files' names or order)"
            )]);
            // Only the tags differ: one resource, the last in path order, no warning.
            let (ports, warnings) = used(vec![
                file(first, group(22, "web")),
                file(second, group(22, "web-2")),
            ]);
            assert_eq!(ports, vec![PortSpec::Range(22, 22)]);
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }
}
