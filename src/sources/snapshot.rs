//! Reading a snapshot folder: finding the files, recognising each by its
//! top-level key, and deserialising it into wire types.
//!
//! A snapshot is any folder of AWS CLI JSON, read recursively. File names do
//! not matter (Batfish calls them `Vpcs.json`, CloudMapper
//! `ec2-describe-vpcs.json`, the AWS CLI whatever the user redirected to);
//! the top-level key does. Account and region come from the folder layout
//! (`<12 digits>/<region>/`) when present.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::wire;
use super::LoadError;
use crate::model::{Diagnostic, Level};

/// One file of a snapshot, before parsing.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    /// The path shown to users in messages.
    pub display: String,
    /// Path components used to infer account and region.
    pub components: Vec<String>,
    /// The file's bytes.
    pub contents: Vec<u8>,
}

/// Account and region that the folder layout gives a file.
#[derive(Debug, Clone, Default)]
pub struct FileContext {
    /// The file, for messages.
    pub file: String,
    /// Account from the layout.
    pub account: Option<String>,
    /// Region from the layout.
    pub region: Option<String>,
    /// The file's own name (CloudMapper per-parameter files carry an ARN or id in it).
    pub name: String,
}

/// Items of one kind, each with the context of the file it came from.
pub type Items<T> = Vec<(std::rc::Rc<FileContext>, T)>;

/// Everything read from a snapshot, still in wire shapes.
#[derive(Debug, Default)]
pub struct RawSnapshot {
    pub vpcs: Items<wire::Vpc>,
    pub subnets: Items<wire::Subnet>,
    pub route_tables: Items<wire::RouteTable>,
    pub network_acls: Items<wire::NetworkAcl>,
    pub security_groups: Items<wire::SecurityGroup>,
    pub security_group_rules: Items<wire::SecurityGroupRule>,
    pub network_interfaces: Items<wire::NetworkInterface>,
    pub reservations: Items<wire::Reservation>,
    pub internet_gateways: Items<wire::InternetGateway>,
    pub egress_only_internet_gateways: Items<wire::EgressOnlyInternetGateway>,
    pub nat_gateways: Items<wire::NatGateway>,
    pub addresses: Items<wire::Address>,
    pub peerings: Items<wire::VpcPeeringConnection>,
    pub managed_prefix_lists: Items<wire::ManagedPrefixList>,
    pub service_prefix_lists: Items<wire::ServicePrefixList>,
    /// (prefix-list id, entries)
    pub prefix_list_entries: Items<(String, Vec<wire::PrefixListEntry>)>,
    pub transit_gateways: Items<wire::TransitGateway>,
    pub tgw_attachments: Items<wire::TransitGatewayAttachment>,
    pub tgw_vpc_attachments: Items<wire::TransitGatewayVpcAttachment>,
    pub tgw_route_tables: Items<wire::TransitGatewayRouteTable>,
    pub tgw_propagations: Items<wire::TgwPropagationSet>,
    pub tgw_routes: Items<wire::TgwRouteSet>,
    pub vpn_gateways: Items<wire::VpnGateway>,
    pub vpn_connections: Items<wire::VpnConnection>,
    pub vpc_endpoints: Items<wire::VpcEndpoint>,
    pub load_balancers: Items<wire::LoadBalancer>,
    pub listeners: Items<wire::Listener>,
    pub target_groups: Items<wire::TargetGroup>,
    pub target_health: Items<wire::TargetHealthSet>,
    pub lb_attributes: Items<wire::LoadBalancerAttributeSet>,
    pub tg_attributes: Items<wire::TargetGroupAttributeSet>,
    pub db_instances: Items<wire::DbInstance>,
    /// Kinds of file seen (by top-level key), even when empty.
    pub keys_seen: std::collections::BTreeSet<&'static str>,
    /// A `manifest.json` said the collection was partial.
    pub partial: bool,
    /// Warnings and notes.
    pub diagnostics: Vec<Diagnostic>,
}

/// Keys AWS prints that carry no resource (pagination, metadata).
const IGNORED_KEYS: &[&str] = &["NextToken", "ResponseMetadata", "Marker", "NextMarker"];

/// Keys of real AWS output that reachability does not need.
const NOT_MODELLED_KEYS: &[&str] = &[
    "AvailabilityZones",
    "CustomerGateways",
    "DomainStatusList",
    "ServiceDetails",
    "ServiceNames",
    "Regions",
    "Account",
    "UserId",
    "Arn",
];

/// Collects the files of a snapshot folder (or a single file), sorted by path.
pub fn read_dir(root: &Path) -> Result<Vec<SnapshotFile>, LoadError> {
    let meta = std::fs::metadata(root).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            LoadError::NotFound(root.to_path_buf())
        } else {
            LoadError::Io {
                path: root.to_path_buf(),
                source: e,
            }
        }
    })?;
    let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let root_components: Vec<String> = absolute
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let read = |path: &Path| -> Result<Vec<u8>, LoadError> {
        std::fs::read(path).map_err(|e| LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    if meta.is_file() {
        return Ok(vec![SnapshotFile {
            display: root.display().to_string(),
            components: root_components,
            contents: read(root)?,
        }]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .follow_links(true)
    {
        let entry = entry.map_err(|e| LoadError::Io {
            path: e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf()),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path);
        let mut components = root_components.clone();
        components.extend(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
        files.push(SnapshotFile {
            display: path.display().to_string(),
            components,
            contents: read(path)?,
        });
    }
    Ok(files)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`, `cn-north-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (3..=4).contains(&parts.len())
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

fn context_for(file: &SnapshotFile) -> FileContext {
    let dirs = &file.components[..file.components.len().saturating_sub(1)];
    FileContext {
        file: file.display.clone(),
        account: dirs.iter().rev().find(|c| is_account(c)).cloned(),
        region: dirs.iter().rev().find(|c| is_region(c)).cloned(),
        name: file.components.last().cloned().unwrap_or_default(),
    }
}

/// Whether a file should be read as JSON: `*.json`, or an extension-less
/// file inside a CloudMapper per-call folder (`elbv2-describe-listeners/<arn>`).
fn looks_like_json(file: &SnapshotFile) -> bool {
    let name = file.components.last().map(String::as_str).unwrap_or("");
    if name.to_ascii_lowercase().ends_with(".json") {
        return true;
    }
    let parent = file
        .components
        .len()
        .checked_sub(2)
        .map(|i| file.components[i].as_str())
        .unwrap_or("");
    let cloudmapper_call = ["ec2-", "elbv2-", "rds-"]
        .iter()
        .any(|p| parent.starts_with(p));
    cloudmapper_call && file.contents.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Parses and recognises every file; returns the raw snapshot or the first fatal error.
pub fn parse_files(files: &[SnapshotFile]) -> Result<RawSnapshot, LoadError> {
    let mut raw = RawSnapshot::default();
    for file in files {
        let name = file.components.last().map(String::as_str).unwrap_or("");
        if !looks_like_json(file) {
            // Hidden files and our own notes are not worth a warning.
            if !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md") {
                raw.diagnostics.push(Diagnostic {
                    level: Level::Warning,
                    file: Some(file.display.clone()),
                    message: "not a JSON file; ignored".into(),
                });
            }
            continue;
        }
        parse_file(file, &mut raw)?;
    }
    Ok(raw)
}

fn parse_file(file: &SnapshotFile, raw: &mut RawSnapshot) -> Result<(), LoadError> {
    let text = std::str::from_utf8(&file.contents).map_err(|e| LoadError::Encoding {
        file: file.display.clone(),
        detail: e.to_string(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(LoadError::Empty {
            file: file.display.clone(),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
        file: file.display.clone(),
        line: e.line(),
        column: e.column(),
        detail: strip_position(&e.to_string()),
    })?;
    let Value::Object(object) = value else {
        return Err(LoadError::NotAnObject {
            file: file.display.clone(),
            found: json_kind(&value),
        });
    };
    let ctx = std::rc::Rc::new(context_for(file));
    let name = ctx.name.to_ascii_lowercase();
    if name == "manifest.json" && object.contains_key("tool") {
        raw.partial = object.get("status").and_then(Value::as_str) == Some("partial");
        return Ok(());
    }
    // A bare `get-managed-prefix-list-entries` result: {"Entries": [...]} named after its pl- id.
    if object.contains_key("Entries") && !object.contains_key("PrefixListId") {
        let id = ctx
            .name
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|p| p.starts_with("pl-"))
            .map(str::to_string);
        match id {
            Some(id) => {
                let entries: Vec<wire::PrefixListEntry> = field(&ctx, &object, "Entries")?;
                raw.keys_seen.insert("Entries");
                raw.prefix_list_entries.push((ctx.clone(), (id, entries)));
            }
            None => raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "prefix-list entries without a PrefixListId (name the file after the pl- id or wrap it as {\"PrefixListId\": ..., \"Entries\": [...]}); ignored".into(),
            }),
        }
        return Ok(());
    }
    if let (Some(_), Some(_)) = (object.get("PrefixListId"), object.get("Entries")) {
        let id: String = field(&ctx, &object, "PrefixListId")?;
        let entries: Vec<wire::PrefixListEntry> = field(&ctx, &object, "Entries")?;
        raw.keys_seen.insert("Entries");
        raw.prefix_list_entries.push((ctx.clone(), (id, entries)));
        return Ok(());
    }
    // A bare `describe-target-health` result, named after its target group (CloudMapper).
    if object.contains_key("TargetHealthDescriptions") {
        let arn = tg_arn_from_name(&ctx.name);
        match arn {
            Some(arn) => {
                let descriptions = field(&ctx, &object, "TargetHealthDescriptions")?;
                raw.keys_seen.insert("LoadBalancerTargetHealth");
                raw.target_health.push((
                    ctx.clone(),
                    wire::TargetHealthSet {
                        target_group_arn: arn,
                        target_health_descriptions: descriptions,
                    },
                ));
            }
            None => raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "TargetHealthDescriptions without the target group's ARN; wrap it as {\"LoadBalancerTargetHealth\": [{\"TargetGroupArn\": ..., \"TargetHealthDescriptions\": [...]}]}; ignored".into(),
            }),
        }
        return Ok(());
    }
    // A bare `describe-load-balancer-attributes` / `describe-target-group-attributes` result.
    if object.contains_key("Attributes") {
        let attributes: Vec<wire::KeyValue> = field(&ctx, &object, "Attributes")?;
        if let Some(arn) = arn_from_name(&ctx.name, "loadbalancer/") {
            raw.keys_seen.insert("LoadBalancerAttributes");
            raw.lb_attributes.push((
                ctx.clone(),
                wire::LoadBalancerAttributeSet {
                    load_balancer_arn: arn,
                    attributes,
                },
            ));
        } else if let Some(arn) = tg_arn_from_name(&ctx.name) {
            raw.tg_attributes.push((
                ctx.clone(),
                wire::TargetGroupAttributeSet {
                    target_group_arn: arn,
                    attributes,
                },
            ));
        } else {
            raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "Attributes without the resource's ARN; wrap it as {\"LoadBalancerAttributes\": [{\"LoadBalancerArn\": ..., \"Attributes\": [...]}]}; ignored".into(),
            });
        }
        return Ok(());
    }

    let mut recognised = 0usize;
    let mut unknown = Vec::new();
    for key in object.keys() {
        macro_rules! take {
            ($list:ident, $k:literal) => {{
                let items = field(&ctx, &object, $k)?;
                raw.keys_seen.insert($k);
                raw.$list.extend(tag(&ctx, items));
                recognised += 1;
            }};
        }
        match key.as_str() {
            "Vpcs" => take!(vpcs, "Vpcs"),
            "Subnets" => take!(subnets, "Subnets"),
            "RouteTables" => take!(route_tables, "RouteTables"),
            "NetworkAcls" => take!(network_acls, "NetworkAcls"),
            "SecurityGroups" => take!(security_groups, "SecurityGroups"),
            "SecurityGroupRules" => take!(security_group_rules, "SecurityGroupRules"),
            "NetworkInterfaces" => take!(network_interfaces, "NetworkInterfaces"),
            "Reservations" => take!(reservations, "Reservations"),
            "InternetGateways" => take!(internet_gateways, "InternetGateways"),
            "EgressOnlyInternetGateways" => {
                take!(egress_only_internet_gateways, "EgressOnlyInternetGateways")
            }
            "NatGateways" => take!(nat_gateways, "NatGateways"),
            "Addresses" => take!(addresses, "Addresses"),
            "VpcPeeringConnections" => take!(peerings, "VpcPeeringConnections"),
            "ManagedPrefixLists" => take!(managed_prefix_lists, "ManagedPrefixLists"),
            "PrefixLists" => take!(service_prefix_lists, "PrefixLists"),
            "TransitGateways" => take!(transit_gateways, "TransitGateways"),
            "TransitGatewayAttachments" => take!(tgw_attachments, "TransitGatewayAttachments"),
            "TransitGatewayVpcAttachments" => {
                take!(tgw_vpc_attachments, "TransitGatewayVpcAttachments")
            }
            "TransitGatewayRouteTables" => take!(tgw_route_tables, "TransitGatewayRouteTables"),
            "TransitGatewayPropagations" => take!(tgw_propagations, "TransitGatewayPropagations"),
            "TransitGatewayStaticRoutes" => take!(tgw_routes, "TransitGatewayStaticRoutes"),
            "TransitGatewayRoutes" => take!(tgw_routes, "TransitGatewayRoutes"),
            "VpnGateways" => take!(vpn_gateways, "VpnGateways"),
            "VpnConnections" => take!(vpn_connections, "VpnConnections"),
            "VpcEndpoints" => take!(vpc_endpoints, "VpcEndpoints"),
            "LoadBalancers" => take!(load_balancers, "LoadBalancers"),
            "Listeners" => take!(listeners, "Listeners"),
            "TargetGroups" => take!(target_groups, "TargetGroups"),
            "LoadBalancerTargetHealth" => take!(target_health, "LoadBalancerTargetHealth"),
            "LoadBalancerAttributes" => take!(lb_attributes, "LoadBalancerAttributes"),
            "TargetGroupAttributes" => take!(tg_attributes, "TargetGroupAttributes"),
            "DBInstances" => take!(db_instances, "DBInstances"),
            "LoadBalancerListeners" => {
                let sets: Vec<wire::LoadBalancerListenerSet> =
                    field(&ctx, &object, "LoadBalancerListeners")?;
                raw.keys_seen.insert("Listeners");
                for set in sets {
                    for mut l in set.listeners {
                        if l.load_balancer_arn.is_none() {
                            l.load_balancer_arn = set.load_balancer_arn.clone();
                        }
                        raw.listeners.push((ctx.clone(), l));
                    }
                }
                recognised += 1;
            }
            k if IGNORED_KEYS.contains(&k) => {}
            k if NOT_MODELLED_KEYS.contains(&k) => {
                recognised += 1;
                raw.diagnostics.push(Diagnostic {
                    level: Level::Note,
                    file: Some(ctx.file.clone()),
                    message: format!("`{k}` is not needed for reachability; ignored"),
                });
            }
            k => unknown.push(k.to_string()),
        }
    }
    if !unknown.is_empty() {
        raw.diagnostics.push(Diagnostic {
            level: Level::Warning,
            file: Some(ctx.file.clone()),
            message: format!(
                "unknown top-level key{} {}; ignored",
                if unknown.len() > 1 { "s" } else { "" },
                unknown
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    } else if recognised == 0 && object.is_empty() {
        raw.diagnostics.push(Diagnostic {
            level: Level::Warning,
            file: Some(ctx.file.clone()),
            message: "empty JSON object; ignored".into(),
        });
    }
    Ok(())
}

fn tag<T>(ctx: &std::rc::Rc<FileContext>, items: Vec<T>) -> Vec<(std::rc::Rc<FileContext>, T)> {
    items.into_iter().map(|i| (ctx.clone(), i)).collect()
}

/// Deserialises one top-level field, reporting a wrong type with its JSON path.
fn field<T: DeserializeOwned>(
    ctx: &FileContext,
    object: &Map<String, Value>,
    key: &str,
) -> Result<T, LoadError> {
    let value = object.get(key).cloned().unwrap_or(Value::Null);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." || inner.is_empty() {
            key.to_string()
        } else if inner.starts_with('[') {
            format!("{key}{inner}")
        } else {
            format!("{key}.{inner}")
        };
        LoadError::Type {
            file: ctx.file.clone(),
            path,
            detail: e.into_inner().to_string(),
        }
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// CloudMapper names per-parameter files after the ARN, with `/` replaced or encoded.
fn arn_from_name(name: &str, marker: &str) -> Option<String> {
    let decoded = name
        .replace("%3A", ":")
        .replace("%2F", "/")
        .replace("%3a", ":")
        .replace("%2f", "/");
    let decoded = decoded
        .strip_suffix(".json")
        .unwrap_or(&decoded)
        .to_string();
    (decoded.starts_with("arn:") && decoded.contains(marker)).then_some(decoded)
}

fn tg_arn_from_name(name: &str) -> Option<String> {
    arn_from_name(name, "targetgroup/")
}
