//! AWS Network Access Analyzer scope documents, accepted as policies.
//!
//! A scope is JSON with `MatchPaths` and `ExcludePaths`; each path has an optional
//! `Source` and `Destination` (a `ResourceStatement` with `Resources` and/or
//! `ResourceTypes`, and a `PacketHeaderStatement` with addresses, ports, prefix lists and
//! protocols) and optional `ThroughResources`. Every path that matches a MatchPath and no
//! ExcludePath is a violation. Both the request shape (`create-network-insights-access-scope
//! --cli-input-json`) and the response of `get-network-insights-access-scope-content` are
//! read.

use ipnet::IpNet;
use serde::Deserialize;

use super::{line_col, Body, Kind, Policy, PolicyError, Severity};
use crate::model::Protocol;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawDocument {
    network_insights_access_scope_content: Option<RawScope>,
    match_paths: Option<Vec<RawPath>>,
    exclude_paths: Option<Vec<RawPath>>,
    network_insights_access_scope_id: Option<String>,
    client_token: Option<String>,
    tag_specifications: Option<serde_json::Value>,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawScope {
    network_insights_access_scope_id: Option<String>,
    match_paths: Option<Vec<RawPath>>,
    exclude_paths: Option<Vec<RawPath>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawPath {
    source: Option<RawStatement>,
    destination: Option<RawStatement>,
    through_resources: Option<Vec<RawThrough>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawStatement {
    packet_header_statement: Option<RawHeader>,
    resource_statement: Option<RawResources>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawThrough {
    resource_statement: Option<RawResources>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawResources {
    resources: Option<Vec<String>>,
    resource_types: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawHeader {
    source_addresses: Option<Vec<String>>,
    destination_addresses: Option<Vec<String>>,
    source_ports: Option<Vec<String>>,
    destination_ports: Option<Vec<String>>,
    source_prefix_lists: Option<Vec<String>>,
    destination_prefix_lists: Option<Vec<String>>,
    protocols: Option<Vec<String>>,
}

/// The resource types a scope may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResType {
    InternetGateway,
    EgressOnlyInternetGateway,
    VpnGateway,
    VpnConnection,
    CustomerGateway,
    TransitGateway,
    TransitGatewayAttachment,
    NetworkInterface,
    Instance,
    Subnet,
    Vpc,
    SecurityGroup,
    NatGateway,
    VpcEndpoint,
    LoadBalancer,
    TargetGroup,
    VpcPeeringConnection,
    RouteTable,
    NetworkAcl,
    NetworkFirewall,
}

const TYPES: &[(&str, ResType)] = &[
    ("AWS::EC2::InternetGateway", ResType::InternetGateway),
    (
        "AWS::EC2::EgressOnlyInternetGateway",
        ResType::EgressOnlyInternetGateway,
    ),
    ("AWS::EC2::VPNGateway", ResType::VpnGateway),
    ("AWS::EC2::VPNConnection", ResType::VpnConnection),
    ("AWS::EC2::CustomerGateway", ResType::CustomerGateway),
    ("AWS::EC2::TransitGateway", ResType::TransitGateway),
    (
        "AWS::EC2::TransitGatewayAttachment",
        ResType::TransitGatewayAttachment,
    ),
    ("AWS::EC2::NetworkInterface", ResType::NetworkInterface),
    ("AWS::EC2::Instance", ResType::Instance),
    ("AWS::EC2::Subnet", ResType::Subnet),
    ("AWS::EC2::VPC", ResType::Vpc),
    ("AWS::EC2::SecurityGroup", ResType::SecurityGroup),
    ("AWS::EC2::NatGateway", ResType::NatGateway),
    ("AWS::EC2::VPCEndpoint", ResType::VpcEndpoint),
    (
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        ResType::LoadBalancer,
    ),
    (
        "AWS::ElasticLoadBalancing::LoadBalancer",
        ResType::LoadBalancer,
    ),
    (
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        ResType::TargetGroup,
    ),
    (
        "AWS::EC2::VPCPeeringConnection",
        ResType::VpcPeeringConnection,
    ),
    ("AWS::EC2::RouteTable", ResType::RouteTable),
    ("AWS::EC2::NetworkAcl", ResType::NetworkAcl),
    ("AWS::NetworkFirewall::Firewall", ResType::NetworkFirewall),
];

impl ResType {
    /// The hop kinds of the engine's paths that are resources of this type.
    pub(crate) fn hop_kinds(self) -> &'static [&'static str] {
        match self {
            ResType::InternetGateway => &["igw"],
            ResType::EgressOnlyInternetGateway => &["egress-only-igw"],
            ResType::VpnGateway | ResType::VpnConnection | ResType::CustomerGateway => {
                &["vpn-gateway"]
            }
            ResType::TransitGateway => &["tgw-route-table", "tgw-peering"],
            ResType::TransitGatewayAttachment => &["tgw-attachment"],
            ResType::NetworkInterface => &["eni", "source"],
            ResType::Instance => &[],
            ResType::Subnet => &["subnet"],
            ResType::Vpc => &[],
            ResType::SecurityGroup => &["security-group"],
            ResType::NatGateway => &["nat-gateway"],
            ResType::VpcEndpoint => &["gateway-endpoint"],
            ResType::LoadBalancer => &["load-balancer"],
            ResType::TargetGroup => &["target-group"],
            ResType::VpcPeeringConnection => &["peering"],
            ResType::RouteTable => &["route-table"],
            ResType::NetworkAcl => &["nacl"],
            // Not modelled: no path goes through one.
            ResType::NetworkFirewall => &[],
        }
    }
}

/// Resources named by id/ARN and/or type (both given: both must hold).
#[derive(Debug, Clone, Default)]
pub(crate) struct Resources {
    pub ids: Vec<String>,
    pub types: Vec<ResType>,
}

/// Packet-header constraints (all given constraints hold at once).
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    pub protocols: Option<Vec<u8>>,
    pub src: Option<Vec<IpNet>>,
    pub dst: Option<Vec<IpNet>>,
    pub src_ports: Option<Vec<(u16, u16)>>,
    pub dst_ports: Option<Vec<(u16, u16)>>,
    pub src_prefix_lists: Vec<String>,
    pub dst_prefix_lists: Vec<String>,
}

/// One path statement of a scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathSpec {
    /// Source resources (`None`: any source).
    pub source: Option<Resources>,
    /// Destination resources (`None`: any destination).
    pub destination: Option<Resources>,
    /// Resources the path goes through (each statement must be met).
    pub through: Vec<Resources>,
    /// Packet headers (from the Source and Destination statements).
    pub headers: Vec<Header>,
}

/// A parsed scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub match_paths: Vec<PathSpec>,
    pub exclude_paths: Vec<PathSpec>,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    /// An error about a value, located at its first occurrence in the text.
    fn err(&self, field: String, value: &str, message: String) -> PolicyError {
        let offset = self.text.find(&format!("\"{value}\"")).unwrap_or(0);
        let (line, column) = line_col(self.text, offset);
        PolicyError {
            file: self.file.to_string(),
            line,
            column,
            field: Some(field),
            message,
        }
    }
}

pub(crate) fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
    let cx = Ctx { file, text };
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawDocument = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        PolicyError {
            file: file.to_string(),
            line: inner.line().max(1),
            column: inner.column().max(1),
            field: (path != ".").then_some(path),
            message: inner.to_string(),
        }
    })?;
    let (id, match_paths, exclude_paths) = match raw.network_insights_access_scope_content {
        Some(c) => (
            c.network_insights_access_scope_id,
            c.match_paths,
            c.exclude_paths,
        ),
        None => (
            raw.network_insights_access_scope_id,
            raw.match_paths,
            raw.exclude_paths,
        ),
    };
    let _ = (raw.client_token, raw.tag_specifications, raw.dry_run);
    let match_paths = match_paths.unwrap_or_default();
    if match_paths.is_empty() {
        let (line, column) = line_col(text, 0);
        return Err(PolicyError {
            file: file.to_string(),
            line,
            column,
            field: Some("MatchPaths".into()),
            message: "a scope needs at least one MatchPath".into(),
        });
    }
    let mut scope = Scope::default();
    for (i, p) in match_paths.iter().enumerate() {
        scope
            .match_paths
            .push(path(&cx, &format!("MatchPaths[{i}]"), p)?);
    }
    for (i, p) in exclude_paths.unwrap_or_default().iter().enumerate() {
        scope
            .exclude_paths
            .push(path(&cx, &format!("ExcludePaths[{i}]"), p)?);
    }
    let stem = std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| file.to_string());
    let id = id.unwrap_or(stem);
    Ok(Policy {
        description: format!(
            "AWS Network Access Analyzer scope {id}: every matching path is a finding"
        ),
        id,
        kind: Kind::Scope,
        severity: Severity::High,
        file: file.to_string(),
        line: 1,
        body: Body::Scope(scope),
    })
}

fn path(cx: &Ctx, at: &str, p: &RawPath) -> Result<PathSpec, PolicyError> {
    let mut out = PathSpec::default();
    for (name, st) in [("Source", &p.source), ("Destination", &p.destination)] {
        let Some(st) = st else { continue };
        let field = format!("{at}.{name}");
        let resources = st
            .resource_statement
            .as_ref()
            .map(|r| resources(cx, &format!("{field}.ResourceStatement"), r))
            .transpose()?;
        if name == "Source" {
            out.source = resources;
        } else {
            out.destination = resources;
        }
        if let Some(h) = &st.packet_header_statement {
            out.headers
                .push(header(cx, &format!("{field}.PacketHeaderStatement"), h)?);
        }
    }
    for (i, t) in p.through_resources.iter().flatten().enumerate() {
        if let Some(r) = &t.resource_statement {
            out.through.push(resources(
                cx,
                &format!("{at}.ThroughResources[{i}].ResourceStatement"),
                r,
            )?);
        }
    }
    Ok(out)
}

fn resources(cx: &Ctx, at: &str, r: &RawResources) -> Result<Resources, PolicyError> {
    // A statement naming nothing would match nothing: the scope would check nothing.
    for (name, list) in [
        ("Resources", &r.resources),
        ("ResourceTypes", &r.resource_types),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err(cx.err(
                format!("{at}.{name}"),
                name,
                format!("an empty list names nothing, so the path would match nothing; leave `{name}` out"),
            ));
        }
    }
    if r.resources.is_none() && r.resource_types.is_none() {
        return Err(cx.err(
            at.to_string(),
            "ResourceStatement",
            "a ResourceStatement needs Resources or ResourceTypes (leave the statement out for any resource)".into(),
        ));
    }
    let mut out = Resources {
        ids: r.resources.clone().unwrap_or_default(),
        types: Vec::new(),
    };
    for (i, t) in r.resource_types.iter().flatten().enumerate() {
        let Some((_, ty)) = TYPES.iter().find(|(n, _)| n.eq_ignore_ascii_case(t)) else {
            return Err(cx.err(
                format!("{at}.ResourceTypes[{i}]"),
                t,
                format!(
                    "unknown or unsupported resource type `{t}`; supported: {}",
                    TYPES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        out.types.push(*ty);
    }
    for (i, id) in out.ids.iter().enumerate() {
        if id.starts_with("arn:aws:resource-groups:") {
            return Err(cx.err(
                format!("{at}.Resources[{i}]"),
                id,
                "resource groups are not in the snapshot; name the resources, their subnet, VPC or security group instead".into(),
            ));
        }
    }
    Ok(out)
}

fn header(cx: &Ctx, at: &str, h: &RawHeader) -> Result<Header, PolicyError> {
    // An empty list matches no packet: the path would match nothing.
    for (name, list) in [
        ("SourceAddresses", &h.source_addresses),
        ("DestinationAddresses", &h.destination_addresses),
        ("SourcePorts", &h.source_ports),
        ("DestinationPorts", &h.destination_ports),
        ("SourcePrefixLists", &h.source_prefix_lists),
        ("DestinationPrefixLists", &h.destination_prefix_lists),
        ("Protocols", &h.protocols),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err(cx.err(
                format!("{at}.{name}"),
                name,
                format!("an empty list matches no packet, so the path would match nothing; leave `{name}` out for any"),
            ));
        }
    }
    let nets = |v: &Option<Vec<String>>, name: &str| -> Result<Option<Vec<IpNet>>, PolicyError> {
        v.as_ref()
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        super::select::parse_net(s).ok_or_else(|| {
                            cx.err(
                                format!("{at}.{name}[{i}]"),
                                s,
                                format!("`{s}` is not an IP address or CIDR"),
                            )
                        })
                    })
                    .collect()
            })
            .transpose()
    };
    let ports =
        |v: &Option<Vec<String>>, name: &str| -> Result<Option<Vec<(u16, u16)>>, PolicyError> {
            v.as_ref()
                .map(|list| {
                    list.iter()
                        .enumerate()
                        .map(|(i, s)| {
                            super::lang::port_range(s)
                                .map_err(|e| cx.err(format!("{at}.{name}[{i}]"), s, e))
                        })
                        .collect()
                })
                .transpose()
        };
    let protocols = h
        .protocols
        .as_ref()
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, p)| match p.to_ascii_lowercase().as_str() {
                    "tcp" | "6" => Ok(Protocol::TCP),
                    "udp" | "17" => Ok(Protocol::UDP),
                    "icmp" | "1" => Ok(Protocol::ICMP),
                    _ => Err(cx.err(
                        format!("{at}.Protocols[{i}]"),
                        p,
                        format!("unknown protocol `{p}`; Network Access Analyzer scopes use tcp and udp"),
                    )),
                })
                .collect::<Result<Vec<u8>, _>>()
        })
        .transpose()?;
    Ok(Header {
        protocols,
        src: nets(&h.source_addresses, "SourceAddresses")?,
        dst: nets(&h.destination_addresses, "DestinationAddresses")?,
        src_ports: ports(&h.source_ports, "SourcePorts")?,
        dst_ports: ports(&h.destination_ports, "DestinationPorts")?,
        src_prefix_lists: h.source_prefix_lists.clone().unwrap_or_default(),
        dst_prefix_lists: h.destination_prefix_lists.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shapes_parse() {
        let p = parse(
            "igw.json",
            r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}}}],
               "ExcludePaths": [{"Source": {"PacketHeaderStatement": {"SourceAddresses": ["55.3.0.0/16"]}}}]}"#,
        )
        .unwrap();
        assert_eq!(p.id, "igw");
        let Body::Scope(s) = &p.body else { panic!() };
        assert_eq!(
            s.match_paths[0].source.as_ref().unwrap().types,
            vec![ResType::InternetGateway]
        );
        assert!(s.exclude_paths[0].source.is_none());
        assert_eq!(s.exclude_paths[0].headers.len(), 1);

        let p = parse(
            "content.json",
            r#"{"NetworkInsightsAccessScopeContent": {"NetworkInsightsAccessScopeId": "nis-1", "MatchPaths": [{"Destination": {"ResourceStatement": {"Resources": ["sg-1"]}}}]}}"#,
        )
        .unwrap();
        assert_eq!(p.id, "nis-1");
    }

    #[test]
    fn errors_name_the_json_path_and_line() {
        let e = parse(
            "s.json",
            "{\n \"MatchPaths\": [\n  {\"Source\": {\"ResourceStatement\": {\"ResourceTypes\": [\"AWS::EC2::Bogus\"]}}}\n ]\n}",
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(
            e.field.as_deref(),
            Some("MatchPaths[0].Source.ResourceStatement.ResourceTypes[0]")
        );
        // Empty lists and statements check nothing: refused, naming the field.
        for (json, field) in [
            (
                r#"{"MatchPaths": [{"Source": {"ResourceStatement": {}}}]}"#,
                "MatchPaths[0].Source.ResourceStatement",
            ),
            (
                r#"{"MatchPaths": [{"Source": {"ResourceStatement": {"ResourceTypes": []}}}]}"#,
                "MatchPaths[0].Source.ResourceStatement.ResourceTypes",
            ),
            (
                r#"{"MatchPaths": [{"Destination": {"PacketHeaderStatement": {"Protocols": []}}}]}"#,
                "MatchPaths[0].Destination.PacketHeaderStatement.Protocols",
            ),
            (
                r#"{"MatchPaths": [{"Destination": {"PacketHeaderStatement": {"DestinationPorts": []}}}]}"#,
                "MatchPaths[0].Destination.PacketHeaderStatement.DestinationPorts",
            ),
            (
                r#"{"MatchPaths": [{"Destination": {}}], "ExcludePaths": [{"ThroughResources": [{"ResourceStatement": {}}]}]}"#,
                "ExcludePaths[0].ThroughResources[0].ResourceStatement",
            ),
        ] {
            let e = parse("s.json", json).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{json}: {e}");
        }
        let e = parse("s.json", "{\"MatchPaths\": [{\"Sauce\": {}}]}").unwrap_err();
        assert!(
            e.field.as_deref().unwrap().starts_with("MatchPaths[0]"),
            "{e}"
        );
        assert!(e.message.contains("Sauce"), "{e}");
    }
}
