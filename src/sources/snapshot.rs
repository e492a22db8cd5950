//! Reading a snapshot folder: finding the files, recognising each by its
//! top-level key, and deserialising it into wire types.
//!
//! A snapshot is any folder of AWS CLI JSON, read recursively. File names do
//! not matter (Batfish calls them `Vpcs.json`, CloudMapper
//! `ec2-describe-vpcs.json`, the AWS CLI whatever the user redirected to);
//! the top-level key does. Account and region come from the folder layout
//! (`<12 digits>/<region>/`) when present.
//!
//! Files are read and parsed in parallel (rayon), one task per file, and the
//! results are merged in path order, so the outcome never depends on thread
//! scheduling. Each file is deserialised once, straight from its text into
//! wire types (the fast path). Only when that fails is the file read again
//! through `serde_json::Value` and `serde_path_to_error` (the reference
//! path), whose result — including the exact error message — is the one
//! returned. The fast path never accepts what the reference path rejects
//! (see `strict.rs`), and both recognise a file with the same code
//! ([`recognise`] over the [`TopLevel`] trait), so it is a pure optimisation.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::strict::Strict;
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
pub type Items<T> = Vec<(Arc<FileContext>, T)>;

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
    /// Classic Load Balancers (`elb describe-load-balancers`).
    pub classic_load_balancers: Items<wire::ClassicLoadBalancer>,
    pub listeners: Items<wire::Listener>,
    /// `describe-rules` output, one set per file.
    pub listener_rules: Items<wire::ListenerRuleSet>,
    pub target_groups: Items<wire::TargetGroup>,
    pub target_health: Items<wire::TargetHealthSet>,
    pub lb_attributes: Items<wire::LoadBalancerAttributeSet>,
    /// Classic Load Balancers' attributes, with the name of the file they came from (which
    /// names the load balancer: the CLI's output does not).
    pub classic_lb_attributes: Items<(String, wire::ClassicAttributes)>,
    pub tg_attributes: Items<wire::TargetGroupAttributeSet>,
    pub db_instances: Items<wire::DbInstance>,
    /// VPC Block Public Access: the account's mode per region, and the exclusions.
    pub bpa_options: Items<wire::BpaOptions>,
    pub bpa_exclusions: Items<wire::BpaExclusion>,
    /// Kinds of file seen (by top-level key), even when empty.
    pub keys_seen: std::collections::BTreeSet<&'static str>,
    /// A `manifest.json` said the collection was partial.
    pub partial: bool,
    /// Warnings and notes.
    pub diagnostics: Vec<Diagnostic>,
}

/// Calls `$then!` with the names of the raw snapshot's lists (every field but `keys_seen` and
/// `partial`): merging sizes and fills them all alike.
macro_rules! raw_lists {
    ($then:ident) => {
        $then!(
            vpcs,
            subnets,
            route_tables,
            network_acls,
            security_groups,
            security_group_rules,
            network_interfaces,
            reservations,
            internet_gateways,
            egress_only_internet_gateways,
            nat_gateways,
            addresses,
            peerings,
            managed_prefix_lists,
            service_prefix_lists,
            prefix_list_entries,
            transit_gateways,
            tgw_attachments,
            tgw_vpc_attachments,
            tgw_route_tables,
            tgw_propagations,
            tgw_routes,
            vpn_gateways,
            vpn_connections,
            vpc_endpoints,
            load_balancers,
            classic_load_balancers,
            listeners,
            listener_rules,
            target_groups,
            target_health,
            lb_attributes,
            classic_lb_attributes,
            tg_attributes,
            db_instances,
            bpa_options,
            bpa_exclusions,
            diagnostics
        )
    };
}

impl RawSnapshot {
    /// Reserves room for the lists of every part (so that appending them copies each item
    /// once: growing by doubling copied the largest lists several times, on one core).
    fn reserve_for(&mut self, parts: &[FilePart]) {
        macro_rules! reserve {
            ($($list:ident),*) => {
                $(self.$list.reserve_exact(parts.iter().map(|p| p.raw.$list.len()).sum());)*
            };
        }
        raw_lists!(reserve);
    }

    /// Appends what one file gave (the files are merged in path order).
    fn append(&mut self, part: FilePart) {
        let FilePart { raw, partial } = part;
        macro_rules! append {
            ($($list:ident),*) => {
                // Destructured without `..`: a new field that is not merged does not compile.
                let RawSnapshot {
                    $(mut $list,)*
                    keys_seen,
                    partial: _,
                } = raw;
                $(self.$list.append(&mut $list);)*
                self.keys_seen.extend(keys_seen);
            };
        }
        raw_lists!(append);
        // The last manifest read decides.
        if let Some(partial) = partial {
            self.partial = partial;
        }
    }
}

/// What one file gave: its resources and diagnostics, and what a `manifest.json` said.
#[derive(Debug, Default)]
struct FilePart {
    raw: RawSnapshot,
    /// `Some` for a manifest: whether the collection was partial.
    partial: Option<bool>,
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

/// A file of a snapshot folder, found but not read yet.
struct FileRef {
    path: PathBuf,
    display: String,
    components: Vec<String>,
}

/// Finds the files of a snapshot folder (or a single file), sorted by path. A failure to walk
/// part of the folder is returned beside the files found before it: it is reported only if
/// none of those files fails to be read (the order in which a sequential reader meets them).
fn list_files(root: &Path) -> Result<(Vec<FileRef>, Option<LoadError>), LoadError> {
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
    if meta.is_file() {
        let file = FileRef {
            path: root.to_path_buf(),
            display: root.display().to_string(),
            components: root_components,
        };
        return Ok((vec![file], None));
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .follow_links(true)
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let error = LoadError::Io {
                    path: e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.to_path_buf()),
                    source: e.into(),
                };
                return Ok((files, Some(error)));
            }
        };
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
        files.push(FileRef {
            path: path.to_path_buf(),
            display: path.display().to_string(),
            components,
        });
    }
    Ok((files, None))
}

/// Reads and parses a snapshot folder (or a single file). Parallel tasks each read a file
/// into a buffer they reuse from file to file and parse it there, so the folder's bytes are
/// never all in memory at once.
///
/// Errors are reported as a sequential reader would meet them: the first file that cannot
/// be read (in path order), else a failure to walk the folder, else the first file that
/// does not parse.
pub fn read_and_parse(root: &Path) -> Result<RawSnapshot, LoadError> {
    let (refs, walk_error) = list_files(root)?;
    let outcomes: Vec<Result<Result<FilePart, LoadError>, LoadError>> = refs
        .into_par_iter()
        // One buffer per task, reused from file to file: fresh memory for every file's bytes
        // costs page faults.
        .map_init(Vec::new, |buffer, r| {
            buffer.clear();
            std::fs::File::open(&r.path)
                .and_then(|mut f| f.read_to_end(buffer))
                .map_err(|e| LoadError::Io {
                    path: r.path.clone(),
                    source: e,
                })?;
            let file = SnapshotFile {
                display: r.display,
                components: r.components,
                contents: std::mem::take(buffer),
            };
            let part = parse_one(&file);
            *buffer = file.contents;
            Ok(part)
        })
        .collect();
    let mut parts = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        parts.push(outcome?);
    }
    if let Some(e) = walk_error {
        return Err(e);
    }
    merge(parts)
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

/// Parses and recognises every file (in parallel); returns the raw snapshot or the first
/// fatal error in path order.
pub fn parse_files(files: &[SnapshotFile]) -> Result<RawSnapshot, LoadError> {
    let parts: Vec<Result<FilePart, LoadError>> = files.par_iter().map(parse_one).collect();
    merge(parts)
}

/// Merges the files' parts in path order; the first error wins.
fn merge(parts: Vec<Result<FilePart, LoadError>>) -> Result<RawSnapshot, LoadError> {
    let parts = parts
        .into_iter()
        .collect::<Result<Vec<FilePart>, LoadError>>()?;
    let mut raw = RawSnapshot::default();
    raw.reserve_for(&parts);
    for part in parts {
        raw.append(part);
    }
    Ok(raw)
}

/// One file: ignored with a warning unless it looks like JSON, else parsed and recognised.
fn parse_one(file: &SnapshotFile) -> Result<FilePart, LoadError> {
    let mut part = FilePart::default();
    let name = file.components.last().map(String::as_str).unwrap_or("");
    if !looks_like_json(file) {
        // Hidden files and our own notes are not worth a warning.
        if !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md") {
            part.raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(file.display.clone()),
                message: "not a JSON file; ignored".into(),
            });
        }
        return Ok(part);
    }
    parse_file(file)
}

fn parse_file(file: &SnapshotFile) -> Result<FilePart, LoadError> {
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
    let ctx = Arc::new(context_for(file));
    if let Some(part) = parse_fast(text, &ctx) {
        return Ok(part);
    }
    parse_reference(text, &ctx)
}

/// The fast path: one pass from the text into wire types. `None` when anything is amiss
/// (the reference path then says what).
fn parse_fast(text: &str, ctx: &Arc<FileContext>) -> Option<FilePart> {
    let mut de = serde_json::Deserializer::from_str(text);
    let object = Strict(&mut de).deserialize_map(FastVisitor).ok()?;
    de.end().ok()?;
    recognise(ctx, object).ok()
}

/// The reference path: the whole file as a `serde_json::Value`, each known top-level value
/// then deserialised with its JSON path tracked for error messages.
fn parse_reference(text: &str, ctx: &Arc<FileContext>) -> Result<FilePart, LoadError> {
    let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
        file: ctx.file.clone(),
        line: e.line(),
        column: e.column(),
        detail: strip_position(&e.to_string()),
    })?;
    let Value::Object(object) = value else {
        return Err(LoadError::NotAnObject {
            file: ctx.file.clone(),
            found: json_kind(&value),
        });
    };
    recognise(ctx, object)
}

/// A file's top-level object, as [`recognise`] reads it.
trait TopLevel {
    /// Whether the key is present.
    fn contains(&self, key: &str) -> bool;
    /// Whether the object has no key at all.
    fn is_empty(&self) -> bool;
    /// The keys, sorted.
    fn keys(&self) -> Vec<String>;
    /// The `status` key's value when it is a string (manifests).
    fn status(&self) -> Option<&str>;
    /// Deserialises (or hands over) a key's value, at most once per key.
    fn take<T: DeserializeOwned + Send + 'static>(
        &mut self,
        ctx: &FileContext,
        key: &str,
    ) -> Result<T, LoadError>;
}

impl TopLevel for Map<String, Value> {
    fn contains(&self, key: &str) -> bool {
        self.contains_key(key)
    }
    fn is_empty(&self) -> bool {
        Map::is_empty(self)
    }
    fn keys(&self) -> Vec<String> {
        Map::keys(self).cloned().collect()
    }
    fn status(&self) -> Option<&str> {
        self.get("status").and_then(Value::as_str)
    }
    fn take<T: DeserializeOwned + Send + 'static>(
        &mut self,
        ctx: &FileContext,
        key: &str,
    ) -> Result<T, LoadError> {
        field(ctx, self.remove(key).unwrap_or(Value::Null), key)
    }
}

/// A value deserialised by the fast path, handed over by [`TopLevel::take`].
type Payload = Box<dyn Any + Send>;

/// The fast path's top-level object: every key, with the value of the keys that
/// [`recognise`] may take (`None` for the others, whose values were only checked).
struct Parsed(BTreeMap<String, Option<Payload>>);

impl TopLevel for Parsed {
    fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn keys(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn status(&self) -> Option<&str> {
        self.0
            .get("status")?
            .as_ref()?
            .downcast_ref::<Value>()?
            .as_str()
    }
    fn take<T: DeserializeOwned + Send + 'static>(
        &mut self,
        ctx: &FileContext,
        key: &str,
    ) -> Result<T, LoadError> {
        match self
            .0
            .get_mut(key)
            .and_then(Option::take)
            .map(|p| p.downcast::<T>())
        {
            Some(Ok(value)) => Ok(*value),
            // Never happens (the tables agree); the reference path takes over if it does.
            _ => Err(LoadError::Type {
                file: ctx.file.clone(),
                path: key.to_string(),
                detail: "not read by the fast path".into(),
            }),
        }
    }
}

/// Reads a top-level object, deserialising the value of each key [`recognise`] may take
/// into the type it takes.
struct FastVisitor;

impl<'de> Visitor<'de> for FastVisitor {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut keys = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let payload: Option<Payload> = match parse_list(&key, &mut map) {
                Some(list) => Some(list?),
                None => match key.as_str() {
                    "LoadBalancerListeners" => Some(Box::new(
                        map.next_value::<Vec<wire::LoadBalancerListenerSet>>()?,
                    )),
                    "Rules" => Some(Box::new(map.next_value::<Vec<wire::ListenerRule>>()?)),
                    "ListenerArn" => Some(Box::new(map.next_value::<String>()?)),
                    "PrefixListId" => Some(Box::new(map.next_value::<String>()?)),
                    "Entries" => Some(Box::new(map.next_value::<Vec<wire::PrefixListEntry>>()?)),
                    "TargetHealthDescriptions" => Some(Box::new(
                        map.next_value::<Vec<wire::TargetHealthDescription>>()?,
                    )),
                    "Attributes" => Some(Box::new(map.next_value::<Vec<wire::KeyValue>>()?)),
                    "VpcBlockPublicAccessOptions" => {
                        Some(Box::new(map.next_value::<wire::BpaOptions>()?))
                    }
                    "LoadBalancerAttributes" => {
                        Some(Box::new(map.next_value::<wire::LoadBalancerAttributes>()?))
                    }
                    "status" => Some(Box::new(map.next_value::<Value>()?)),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        None
                    }
                },
            };
            // `Value` keeps the last of duplicate keys; the reference path handles them.
            if keys.insert(key, payload).is_some() {
                return Err(serde::de::Error::custom("duplicate top-level key"));
            }
        }
        Ok(Parsed(keys))
    }
}

/// The plain list keys: the top-level key, and the [`RawSnapshot`] list its items go to.
/// Expands to the fast path's deserialisation of each and to [`recognise`]'s taking of each,
/// so that the two always agree on the type.
macro_rules! list_keys {
    ($($key:literal => $list:ident,)*) => {
        /// Fast path: deserialises the value of a plain list key; `None` for other keys.
        fn parse_list<'de, A: MapAccess<'de>>(
            key: &str,
            map: &mut A,
        ) -> Option<Result<Payload, A::Error>> {
            match key {
                $($key => Some(next_list(map, |raw: &RawSnapshot| &raw.$list)),)*
                _ => None,
            }
        }

        /// Takes the value of a plain list key into its list; `None` for other keys.
        fn take_list<S: TopLevel>(
            part: &mut FilePart,
            ctx: &Arc<FileContext>,
            object: &mut S,
            key: &str,
        ) -> Option<Result<(), LoadError>> {
            match key {
                $($key => Some(object.take(ctx, $key).map(|items| {
                    part.raw.keys_seen.insert($key);
                    part.raw.$list.extend(tag(ctx, items));
                })),)*
                _ => None,
            }
        }
    };
}

list_keys! {
    "Vpcs" => vpcs,
    "Subnets" => subnets,
    "RouteTables" => route_tables,
    "NetworkAcls" => network_acls,
    "SecurityGroups" => security_groups,
    "SecurityGroupRules" => security_group_rules,
    "NetworkInterfaces" => network_interfaces,
    "Reservations" => reservations,
    "InternetGateways" => internet_gateways,
    "EgressOnlyInternetGateways" => egress_only_internet_gateways,
    "NatGateways" => nat_gateways,
    "Addresses" => addresses,
    "VpcPeeringConnections" => peerings,
    "ManagedPrefixLists" => managed_prefix_lists,
    "PrefixLists" => service_prefix_lists,
    "TransitGateways" => transit_gateways,
    "TransitGatewayAttachments" => tgw_attachments,
    "TransitGatewayVpcAttachments" => tgw_vpc_attachments,
    "TransitGatewayRouteTables" => tgw_route_tables,
    "TransitGatewayPropagations" => tgw_propagations,
    "TransitGatewayStaticRoutes" => tgw_routes,
    "TransitGatewayRoutes" => tgw_routes,
    "VpnGateways" => vpn_gateways,
    "VpnConnections" => vpn_connections,
    "VpcEndpoints" => vpc_endpoints,
    "LoadBalancers" => load_balancers,
    "LoadBalancerDescriptions" => classic_load_balancers,
    "Listeners" => listeners,
    "TargetGroups" => target_groups,
    "LoadBalancerTargetHealth" => target_health,
    "TargetGroupAttributes" => tg_attributes,
    "DBInstances" => db_instances,
    "VpcBlockPublicAccessExclusions" => bpa_exclusions,
}

/// Deserialises a list of the item type of `_list` (the accessor only names the type).
fn next_list<'de, A: MapAccess<'de>, T: DeserializeOwned + Send + 'static>(
    map: &mut A,
    _list: fn(&RawSnapshot) -> &Items<T>,
) -> Result<Payload, A::Error> {
    Ok(Box::new(map.next_value::<Vec<T>>()?))
}

/// The `pl-` id a bare prefix-list entries file is named after, wherever it stands in the
/// name (`pl-0abc.json`, `entries-pl-0abc.json`, `get-managed-prefix-list-entries-pl-0abc.json`,
/// `pl-0abc-entries.json`): `pl-` at the start or after a character that is not a letter or a
/// digit, then the letters and digits after it (an id has no further dash). An id of hex digits
/// is preferred to one of other letters (`my-pl-entries-pl-0abc.json` names `pl-0abc`).
fn prefix_list_id_in_name(name: &str) -> Option<String> {
    let mut candidates = name.match_indices("pl-").filter_map(|(at, _)| {
        let before = name[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let rest = &name[at + 3..];
        let len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        (len > 0).then(|| &name[at..at + 3 + len])
    });
    let first = candidates.next()?;
    let hex = |id: &&str| id[3..].chars().all(|c| c.is_ascii_hexdigit());
    Some(
        std::iter::once(first)
            .chain(candidates)
            .find(hex)
            .unwrap_or(first)
            .to_string(),
    )
}

/// Recognises a file by its top-level keys and takes what it holds.
fn recognise<S: TopLevel>(ctx: &Arc<FileContext>, mut object: S) -> Result<FilePart, LoadError> {
    let mut part = FilePart::default();
    let name = ctx.name.to_ascii_lowercase();
    if name == "manifest.json" && object.contains("tool") {
        part.partial = Some(object.status() == Some("partial"));
        return Ok(part);
    }
    // A bare `get-managed-prefix-list-entries` result: {"Entries": [...]} named after its pl- id.
    if object.contains("Entries") && !object.contains("PrefixListId") {
        match prefix_list_id_in_name(&ctx.name) {
            Some(id) => {
                let entries: Vec<wire::PrefixListEntry> = object.take(ctx, "Entries")?;
                part.raw.keys_seen.insert("Entries");
                part.raw.prefix_list_entries.push((ctx.clone(), (id, entries)));
            }
            None => part.raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "prefix-list entries without a PrefixListId (name the file after the pl- id or wrap it as {\"PrefixListId\": ..., \"Entries\": [...]}); ignored".into(),
            }),
        }
        return Ok(part);
    }
    if object.contains("VpcBlockPublicAccessOptions") {
        let options: wire::BpaOptions = object.take(ctx, "VpcBlockPublicAccessOptions")?;
        part.raw.keys_seen.insert("VpcBlockPublicAccessOptions");
        part.raw.bpa_options.push((ctx.clone(), options));
        return Ok(part);
    }
    if object.contains("PrefixListId") && object.contains("Entries") {
        let id: String = object.take(ctx, "PrefixListId")?;
        let entries: Vec<wire::PrefixListEntry> = object.take(ctx, "Entries")?;
        part.raw.keys_seen.insert("Entries");
        part.raw
            .prefix_list_entries
            .push((ctx.clone(), (id, entries)));
        return Ok(part);
    }
    // A bare `describe-target-health` result, named after its target group (CloudMapper).
    if object.contains("TargetHealthDescriptions") {
        let arn = tg_arn_from_name(&ctx.name);
        match arn {
            Some(arn) => {
                let descriptions = object.take(ctx, "TargetHealthDescriptions")?;
                part.raw.keys_seen.insert("LoadBalancerTargetHealth");
                part.raw.target_health.push((
                    ctx.clone(),
                    wire::TargetHealthSet {
                        target_group_arn: arn,
                        target_health_descriptions: descriptions,
                    },
                ));
            }
            None => part.raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "TargetHealthDescriptions without the target group's ARN; wrap it as {\"LoadBalancerTargetHealth\": [{\"TargetGroupArn\": ..., \"TargetHealthDescriptions\": [...]}]}; ignored".into(),
            }),
        }
        return Ok(part);
    }
    // A bare `describe-load-balancer-attributes` / `describe-target-group-attributes` result.
    if object.contains("Attributes") {
        let attributes: Vec<wire::KeyValue> = object.take(ctx, "Attributes")?;
        if let Some(arn) = arn_from_name(&ctx.name, "loadbalancer/") {
            part.raw.keys_seen.insert("LoadBalancerAttributes");
            part.raw.lb_attributes.push((
                ctx.clone(),
                wire::LoadBalancerAttributeSet {
                    load_balancer_arn: arn,
                    attributes,
                },
            ));
        } else if let Some(arn) = tg_arn_from_name(&ctx.name) {
            part.raw.tg_attributes.push((
                ctx.clone(),
                wire::TargetGroupAttributeSet {
                    target_group_arn: arn,
                    attributes,
                },
            ));
        } else {
            part.raw.diagnostics.push(Diagnostic {
                level: Level::Warning,
                file: Some(ctx.file.clone()),
                message: "Attributes without the resource's ARN; wrap it as {\"LoadBalancerAttributes\": [{\"LoadBalancerArn\": ..., \"Attributes\": [...]}]}; ignored".into(),
            });
        }
        return Ok(part);
    }

    let empty = object.is_empty();
    let mut recognised = 0usize;
    let mut unknown = Vec::new();
    for key in object.keys() {
        match key.as_str() {
            "LoadBalancerAttributes" => {
                match object.take(ctx, "LoadBalancerAttributes")? {
                    wire::LoadBalancerAttributes::Sets(sets) => {
                        part.raw.lb_attributes.extend(tag(ctx, sets))
                    }
                    wire::LoadBalancerAttributes::Classic(attributes) => part
                        .raw
                        .classic_lb_attributes
                        .push((ctx.clone(), (ctx.name.clone(), attributes))),
                }
                part.raw.keys_seen.insert("LoadBalancerAttributes");
                recognised += 1;
            }
            "LoadBalancerListeners" => {
                let sets: Vec<wire::LoadBalancerListenerSet> =
                    object.take(ctx, "LoadBalancerListeners")?;
                part.raw.keys_seen.insert("Listeners");
                for set in sets {
                    for mut l in set.listeners {
                        if l.load_balancer_arn.is_none() {
                            l.load_balancer_arn = set.load_balancer_arn.clone();
                        }
                        part.raw.listeners.push((ctx.clone(), l));
                    }
                }
                recognised += 1;
            }
            // `describe-rules` output, with the listener's ARN beside it when the file gives
            // it (the collector's shape); otherwise each rule's ARN names its listener.
            "Rules" => {
                let listener_arn = if object.contains("ListenerArn") {
                    Some(object.take(ctx, "ListenerArn")?)
                } else {
                    None
                };
                let rules: Vec<wire::ListenerRule> = object.take(ctx, "Rules")?;
                part.raw.keys_seen.insert("Rules");
                part.raw.listener_rules.push((
                    ctx.clone(),
                    wire::ListenerRuleSet {
                        listener_arn,
                        rules,
                    },
                ));
                recognised += 1;
            }
            // Taken with `Rules` (sorted keys: it comes first); alone it is unknown.
            "ListenerArn" if object.contains("Rules") => {}
            k if IGNORED_KEYS.contains(&k) => {}
            k if NOT_MODELLED_KEYS.contains(&k) => {
                recognised += 1;
                part.raw.diagnostics.push(Diagnostic {
                    level: Level::Note,
                    file: Some(ctx.file.clone()),
                    message: format!("`{k}` is not needed for reachability; ignored"),
                });
            }
            k => match take_list(&mut part, ctx, &mut object, k) {
                Some(taken) => {
                    taken?;
                    recognised += 1;
                }
                None => unknown.push(k.to_string()),
            },
        }
    }
    if !unknown.is_empty() {
        part.raw.diagnostics.push(Diagnostic {
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
    } else if recognised == 0 && empty {
        part.raw.diagnostics.push(Diagnostic {
            level: Level::Warning,
            file: Some(ctx.file.clone()),
            message: "empty JSON object; ignored".into(),
        });
    }
    Ok(part)
}

fn tag<T>(ctx: &Arc<FileContext>, items: Vec<T>) -> Vec<(Arc<FileContext>, T)> {
    items.into_iter().map(|i| (ctx.clone(), i)).collect()
}

/// Deserialises one top-level field, reporting a wrong type with its JSON path.
fn field<T: DeserializeOwned>(ctx: &FileContext, value: Value, key: &str) -> Result<T, LoadError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_prefix_list_entries_are_named_by_the_id_anywhere_in_the_file_name() {
        for (name, id) in [
            ("pl-0123456789abcdef0.json", Some("pl-0123456789abcdef0")),
            ("entries-pl-0123abcd.json", Some("pl-0123abcd")),
            (
                "get-managed-prefix-list-entries-pl-0123abcd.json",
                Some("pl-0123abcd"),
            ),
            (
                "ec2-get-managed-prefix-list-entries-pl-0123abcd.json",
                Some("pl-0123abcd"),
            ),
            ("pl-0123abcd-entries.json", Some("pl-0123abcd")),
            ("entries_pl-0123abcd.json", Some("pl-0123abcd")),
            ("x.pl-0123abcd.json", Some("pl-0123abcd")),
            ("pl-office.json", Some("pl-office")),
            ("my-pl-entries-pl-0abc.json", Some("pl-0abc")),
            ("apple-entries.json", None),
            ("entries.json", None),
            ("pl-.json", None),
        ] {
            assert_eq!(prefix_list_id_in_name(name).as_deref(), id, "{name}");
        }
    }

    /// A file of the repository (or any text), as the loader sees it.
    fn file(display: &str, contents: Vec<u8>) -> SnapshotFile {
        SnapshotFile {
            display: display.to_string(),
            components: display.split('/').map(str::to_string).collect(),
            contents,
        }
    }

    /// The fast path's result, and the reference path's, for one file's text.
    fn both(f: &SnapshotFile) -> (Option<String>, Result<String, String>) {
        let text = std::str::from_utf8(&f.contents).expect("UTF-8");
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let ctx = Arc::new(context_for(f));
        (
            parse_fast(text, &ctx).map(|p| format!("{p:?}")),
            parse_reference(text, &ctx)
                .map(|p| format!("{p:?}"))
                .map_err(|e| e.to_string()),
        )
    }

    /// Every JSON file of the fixtures, the demo and a generated estate: the fast path reads
    /// each file the reference path reads, to the same result, and rejects the others.
    #[test]
    fn the_fast_path_agrees_with_the_reference_path_on_every_file() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["fixtures", "models"] {
            for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let entry = entry.expect("walk");
                let rel = entry.path().strip_prefix(&root).expect("under the root");
                if entry.file_type().is_file() {
                    let contents = std::fs::read(entry.path()).expect("read");
                    files.push(file(&rel.display().to_string(), contents));
                }
            }
        }
        for (rel, contents) in crate::generate::generate(crate::generate::Size::S, 1) {
            files.push(file(&rel, contents));
        }
        let mut read = 0;
        for f in files.iter().filter(|f| looks_like_json(f)) {
            if std::str::from_utf8(&f.contents).is_err() || f.contents.is_empty() {
                continue;
            }
            match both(f) {
                (Some(fast), Ok(reference)) => {
                    assert_eq!(fast, reference, "{}", f.display);
                    read += 1;
                }
                (None, Err(_)) => {}
                (fast, reference) => panic!(
                    "{}: fast path {}, reference path {reference:?}",
                    f.display,
                    if fast.is_some() { "read it" } else { "did not" }
                ),
            }
        }
        assert!(read > 200, "only {read} files read");
    }

    /// Inputs where skipping a value is easier than reading it as a `serde_json::Value`: the
    /// fast path must reject them too, and otherwise agree.
    #[test]
    fn the_fast_path_is_never_more_lenient() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let cases = [
            r#"{"Vpcs": [{"VpcId": "vpc-1"}], "Vpcs": [{"VpcId": "vpc-2"}]}"#.to_string(),
            r#"{"Vpcs": 5, "Vpcs": [{"VpcId": "vpc-2"}]}"#.to_string(),
            r#"{"Vpcs": [{"VpcId": "vpc-1", "Foo": 1e400}]}"#.to_string(),
            r#"{"Vpcs": [{"VpcId": "vpc-1"}], "Zzz": [1e400]}"#.to_string(),
            format!(r#"{{"Vpcs": [{{"VpcId": "vpc-1", "Foo": {deep}}}]}}"#),
            format!(r#"{{"Vpcs": [{{"VpcId": "vpc-1"}}], "Zzz": {deep}}}"#),
            r#"{"Vpcs": [{"VpcId": "a", "VpcId": "b"}]}"#.to_string(),
            r#"{"Vpcs": [{"VpcId": "vpc-1", "Foo": "\q"}]}"#.to_string(),
            r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Tags": [], "TagSet": []}]}"#
                .to_string(),
            r#"{"Entries": [{"Cidr": "10.0.0.0/8"}], "Vpcs": 5}"#.to_string(),
            r#"{"PrefixListId": 5}"#.to_string(),
            r#"{"Rules": [{"Priority": 10}]}"#.to_string(),
            r#"{"ListenerArn": 5, "Rules": []}"#.to_string(),
            r#"{"ListenerArn": "arn:l", "Rules": [{"Foo": 1e400}]}"#.to_string(),
            r#"{"ListenerArn": "arn:l", "Rules": [{"RuleArn": "a"}], "Vpcs": []}"#.to_string(),
            r#"{"ListenerArn": 5}"#.to_string(),
            r#"{"Vpcs": []} x"#.to_string(),
            r#"[{"Vpcs": []}]"#.to_string(),
            r#"{"status": "partial", "tool": "x", "Vpcs": []}"#.to_string(),
        ];
        for (i, text) in cases.iter().enumerate() {
            for name in ["x.json", "manifest.json", "pl-0123.json"] {
                let f = file(&format!("case{i}/{name}"), text.clone().into_bytes());
                match both(&f) {
                    (Some(fast), Ok(reference)) => assert_eq!(fast, reference, "{text}"),
                    (None, _) => {}
                    (Some(_), Err(e)) => panic!("{text}: the fast path read what fails with {e}"),
                }
            }
        }
    }

    /// The files are parsed in parallel; the result is the same on any number of threads.
    #[test]
    fn parsing_does_not_depend_on_the_number_of_threads() {
        let files: Vec<SnapshotFile> = crate::generate::generate(crate::generate::Size::S, 1)
            .into_iter()
            .map(|(rel, contents)| file(&rel, contents))
            .collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| format!("{:?}", parse_files(&files).expect("parses")))
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(5));
    }
}
