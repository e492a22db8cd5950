//! AWS CLI JSON wire types: one small serde struct per AWS concept.
//!
//! These mirror what `aws ec2 describe-*`, `aws elbv2 describe-*` and
//! `aws rds describe-db-instances` print with `--output json` (PascalCase
//! keys). Every field we do not need is ignored, every field we read is
//! optional unless AWS always prints it, so that partial or hand-written
//! snapshots load. Nothing outside `sources` may name these types: the
//! conversion in `convert.rs` turns them into the vendor-independent model.

// Fields that no stage reads yet are still declared: a value of the wrong type in them is
// reported with its JSON path instead of being silently accepted.
#![allow(dead_code)]

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// A string that no stage reads (the most frequent such fields of the biggest files: ENI and
/// attachment `Status`, `GroupName` of ENI groups, ...). It is checked exactly like a `String`
/// — a value of another type is reported with its JSON path and the same message — but not
/// stored, which saves an allocation per value. Make the field a `String` to read it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unread;

impl<'de> Deserialize<'de> for Unread {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Unread, D::Error> {
        struct UnreadVisitor;

        impl Visitor<'_> for UnreadVisitor {
            type Value = Unread;

            // `String`'s own visitor, without keeping the text.
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Unread, E> {
                Ok(Unread)
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Unread, E> {
                match std::str::from_utf8(v) {
                    Ok(_) => Ok(Unread),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(v), &self)),
                }
            }
        }

        d.deserialize_string(UnreadVisitor)
    }
}

/// Deserialises a JSON array into a `Vec` no larger than it: most AWS lists hold one or two
/// items, for which `Vec`'s growth would reserve four (for a big struct, kilobytes of memory
/// never used). Accepts and rejects exactly what `Vec`'s own `Deserialize` does.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct ListVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let Some(first) = seq.next_element()? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(1);
            out.push(first);
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            out.shrink_to_fit();
            Ok(out)
        }
    }

    d.deserialize_seq(ListVisitor(PhantomData))
}

/// A list whose absence means something (`None`) other than an empty list.
fn some_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    list(d).map(Some)
}

/// `Tags: [{Key, Value}]`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    pub vpc_id: String,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub cidr_block_association_set: Vec<CidrAssoc>,
    #[serde(default, deserialize_with = "list")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssoc>,
    #[serde(default)]
    pub is_default: bool,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
    /// The region's VPC Block Public Access mode, as `describe-vpcs` shows it on each VPC.
    pub block_public_access_states: Option<BpaStates>,
}

/// `BlockPublicAccessStates` of a VPC or subnet record.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BpaStates {
    pub internet_gateway_block_mode: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CidrAssoc {
    pub cidr_block: Option<String>,
    pub cidr_block_state: Option<AssocState>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrAssoc {
    pub ipv6_cidr_block: Option<String>,
    pub ipv6_cidr_block_state: Option<AssocState>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AssocState {
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssoc>,
    pub availability_zone: Option<String>,
    pub availability_zone_id: Option<String>,
    #[serde(default)]
    pub map_public_ip_on_launch: bool,
    pub subnet_arn: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    pub route_table_id: String,
    pub vpc_id: String,
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub associations: Vec<RouteTableAssociation>,
    #[serde(default, deserialize_with = "list")]
    pub routes: Vec<Route>,
    #[serde(default, deserialize_with = "list")]
    pub propagating_vgws: Vec<PropagatingVgw>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PropagatingVgw {
    pub gateway_id: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    #[serde(default)]
    pub main: bool,
    pub subnet_id: Option<String>,
    pub gateway_id: Option<String>,
    pub association_state: Option<AssocState>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    pub destination_cidr_block: Option<String>,
    pub destination_ipv6_cidr_block: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    pub gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub instance_id: Option<String>,
    pub egress_only_internet_gateway_id: Option<String>,
    pub local_gateway_id: Option<String>,
    pub carrier_gateway_id: Option<String>,
    pub core_network_arn: Option<String>,
    pub odb_network_arn: Option<String>,
    /// A Route Server route's next hop (§3.3).
    pub ip_address: Option<String>,
    pub state: Option<String>,
    pub origin: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAcl {
    pub network_acl_id: String,
    pub vpc_id: String,
    pub owner_id: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default, deserialize_with = "list")]
    pub associations: Vec<NaclAssociation>,
    #[serde(default, deserialize_with = "list")]
    pub entries: Vec<NaclEntry>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NaclAssociation {
    pub subnet_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NaclEntry {
    pub rule_number: i64,
    pub protocol: String,
    pub rule_action: String,
    /// Required, as `RuleNumber`, `Protocol` and `RuleAction` are: an entry without its
    /// direction cannot be placed (AWS always prints it).
    pub egress: bool,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub port_range: Option<PortRange>,
    pub icmp_type_code: Option<IcmpTypeCode>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IcmpTypeCode {
    #[serde(rename = "Type")]
    pub kind: Option<i64>,
    pub code: Option<i64>,
}

/// `describe-security-groups`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: Option<String>,
    pub description: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub ip_permissions: Vec<IpPermission>,
    #[serde(default, deserialize_with = "list")]
    pub ip_permissions_egress: Vec<IpPermission>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    pub ip_protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    #[serde(default, deserialize_with = "list")]
    pub ip_ranges: Vec<IpRange>,
    #[serde(default, deserialize_with = "list")]
    pub ipv6_ranges: Vec<Ipv6Range>,
    #[serde(default, deserialize_with = "list")]
    pub prefix_list_ids: Vec<PrefixListIdRef>,
    #[serde(default, deserialize_with = "list")]
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    pub cidr_ip: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListIdRef {
    pub prefix_list_id: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
    pub vpc_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub peering_status: Option<String>,
    pub description: Option<String>,
}

/// `describe-security-group-rules`: one rule per item.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupRule {
    pub security_group_rule_id: Option<String>,
    pub group_id: String,
    pub group_owner_id: Option<String>,
    #[serde(default)]
    pub is_egress: bool,
    pub ip_protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Option<String>,
    pub cidr_ipv6: Option<String>,
    pub prefix_list_id: Option<String>,
    pub referenced_group_info: Option<UserIdGroupPair>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub network_interface_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    pub owner_id: Option<String>,
    pub description: Option<String>,
    pub interface_type: Option<String>,
    pub requester_id: Option<String>,
    pub requester_managed: Option<bool>,
    pub status: Option<Unread>,
    pub private_ip_address: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub private_ip_addresses: Vec<PrivateIpAddress>,
    #[serde(default, deserialize_with = "list")]
    pub ipv6_addresses: Vec<Ipv6Address>,
    /// Delegated IPv4 prefixes (prefix delegation: a /28 of addresses for containers).
    #[serde(default, deserialize_with = "list")]
    pub ipv4_prefixes: Vec<Ipv4PrefixSpec>,
    /// Delegated IPv6 prefixes (a /80).
    #[serde(default, deserialize_with = "list")]
    pub ipv6_prefixes: Vec<Ipv6PrefixSpec>,
    pub association: Option<IpAssociation>,
    pub attachment: Option<EniAttachment>,
    #[serde(default, deserialize_with = "list")]
    pub groups: Vec<GroupIdentifier>,
    pub source_dest_check: Option<bool>,
    #[serde(default, alias = "TagSet", deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PrivateIpAddress {
    pub private_ip_address: String,
    #[serde(default)]
    pub primary: bool,
    pub association: Option<IpAssociation>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Address {
    pub ipv6_address: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv4PrefixSpec {
    pub ipv4_prefix: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6PrefixSpec {
    pub ipv6_prefix: String,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct IpAssociation {
    pub public_ip: Option<String>,
    pub ip_owner_id: Option<String>,
    pub allocation_id: Option<String>,
    pub association_id: Option<Unread>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EniAttachment {
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<Unread>,
    pub device_index: Option<i64>,
    pub status: Option<Unread>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    pub group_id: String,
    pub group_name: Option<Unread>,
}

/// A [`GroupIdentifier`] where nothing is read (an instance's `SecurityGroups`: its ENIs
/// name the groups that apply). Same checks and messages: serde names the Rust type in them,
/// hence the module.
pub use unread::GroupIdentifier as UnreadGroupIdentifier;

mod unread {
    use super::Unread;
    use serde::Deserialize;

    /// See [`super::UnreadGroupIdentifier`].
    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "PascalCase")]
    pub struct GroupIdentifier {
        pub group_id: Unread,
        pub group_name: Option<Unread>,
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Reservation {
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub instances: Vec<Instance>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: String,
    pub instance_type: Option<String>,
    pub state: Option<InstanceState>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip_address: Option<Unread>,
    pub public_ip_address: Option<Unread>,
    pub placement: Option<Placement>,
    /// The instance's ENIs, in the same shape as `describe-network-interfaces` items.
    #[serde(default, deserialize_with = "list")]
    pub network_interfaces: Vec<NetworkInterface>,
    #[serde(default, deserialize_with = "list")]
    pub security_groups: Vec<UnreadGroupIdentifier>,
    pub source_dest_check: Option<bool>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Placement {
    pub availability_zone: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGateway {
    pub internet_gateway_id: String,
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub attachments: Vec<GatewayAttachment>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GatewayAttachment {
    pub vpc_id: String,
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EgressOnlyInternetGateway {
    pub egress_only_internet_gateway_id: String,
    #[serde(default, deserialize_with = "list")]
    pub attachments: Vec<GatewayAttachment>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    pub nat_gateway_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub state: Option<String>,
    pub connectivity_type: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub nat_gateway_addresses: Vec<NatGatewayAddress>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NatGatewayAddress {
    pub allocation_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub is_primary: Option<bool>,
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub public_ip: Option<String>,
    pub allocation_id: Option<String>,
    pub association_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub instance_id: Option<String>,
    pub network_interface_owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnection {
    pub vpc_peering_connection_id: String,
    pub accepter_vpc_info: Option<PeeringVpcInfo>,
    pub requester_vpc_info: Option<PeeringVpcInfo>,
    pub status: Option<PeeringStatus>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringVpcInfo {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub region: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub cidr_block_set: Vec<CidrOnly>,
    #[serde(default, deserialize_with = "list")]
    pub ipv6_cidr_block_set: Vec<Ipv6CidrOnly>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CidrOnly {
    pub cidr_block: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrOnly {
    pub ipv6_cidr_block: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringStatus {
    pub code: Option<String>,
}

/// `describe-managed-prefix-lists`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPrefixList {
    pub prefix_list_id: String,
    pub prefix_list_name: Option<String>,
    pub address_family: Option<String>,
    pub owner_id: Option<String>,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

/// `describe-prefix-lists` (AWS-managed service lists, with their CIDRs).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ServicePrefixList {
    pub prefix_list_id: String,
    pub prefix_list_name: Option<String>,
    /// Present in `describe-prefix-lists`; absent in `describe-managed-prefix-lists`, which
    /// prints under the same `PrefixLists` key but without entries.
    pub cidrs: Option<Vec<String>>,
    /// `IPv4` or `IPv6` (`describe-managed-prefix-lists` only).
    pub address_family: Option<String>,
}

/// `describe-vpc-block-public-access-options` (`VpcBlockPublicAccessOptions`, an object).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BpaOptions {
    pub aws_account_id: Option<String>,
    pub aws_region: Option<String>,
    pub internet_gateway_block_mode: Option<String>,
    pub state: Option<String>,
}

/// `describe-vpc-block-public-access-exclusions` item.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BpaExclusion {
    pub exclusion_id: Option<String>,
    pub internet_gateway_exclusion_mode: Option<String>,
    pub resource_arn: Option<String>,
    pub state: Option<String>,
}

/// `get-managed-prefix-list-entries` item.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGateway {
    pub transit_gateway_id: String,
    pub owner_id: Option<String>,
    pub state: Option<String>,
    pub options: Option<TransitGatewayOptions>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayOptions {
    pub association_default_route_table_id: Option<String>,
    pub propagation_default_route_table_id: Option<String>,
    pub security_group_referencing_support: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayAttachment {
    pub transit_gateway_attachment_id: String,
    pub transit_gateway_id: Option<String>,
    pub transit_gateway_owner_id: Option<String>,
    pub resource_id: Option<String>,
    pub resource_owner_id: Option<String>,
    pub resource_type: Option<String>,
    pub state: Option<String>,
    pub association: Option<TgwAttachmentAssociation>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwAttachmentAssociation {
    pub transit_gateway_route_table_id: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayVpcAttachment {
    pub transit_gateway_attachment_id: String,
    pub transit_gateway_id: Option<String>,
    pub vpc_id: Option<String>,
    pub vpc_owner_id: Option<String>,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub subnet_ids: Vec<String>,
    pub options: Option<TgwVpcAttachmentOptions>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwVpcAttachmentOptions {
    pub security_group_referencing_support: Option<String>,
    pub appliance_mode_support: Option<String>,
    pub ipv6_support: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayRouteTable {
    pub transit_gateway_route_table_id: String,
    pub transit_gateway_id: Option<String>,
    pub state: Option<String>,
    #[serde(default)]
    pub default_association_route_table: bool,
    #[serde(default)]
    pub default_propagation_route_table: bool,
    /// Not printed by `describe-transit-gateway-route-tables`; a snapshot may add the
    /// `search-transit-gateway-routes` result under this key. `None` when absent: the
    /// routes then come from a separate routes file, or are not known.
    #[serde(default, deserialize_with = "some_list")]
    pub routes: Option<Vec<TransitGatewayRoute>>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

/// Batfish wrapper `TransitGatewayPropagations`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwPropagationSet {
    pub transit_gateway_route_table_id: String,
    #[serde(default, deserialize_with = "list")]
    pub transit_gateway_route_table_propagations: Vec<TgwPropagation>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwPropagation {
    pub transit_gateway_attachment_id: String,
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
    pub state: Option<String>,
}

/// Batfish wrapper `TransitGatewayStaticRoutes` (and the collector's shape).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwRouteSet {
    pub transit_gateway_route_table_id: String,
    #[serde(default, deserialize_with = "list")]
    pub routes: Vec<TransitGatewayRoute>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransitGatewayRoute {
    pub destination_cidr_block: Option<String>,
    pub prefix_list_id: Option<String>,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub transit_gateway_attachments: Vec<TgwRouteAttachment>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TgwRouteAttachment {
    pub transit_gateway_attachment_id: Option<String>,
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpnGateway {
    pub vpn_gateway_id: String,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub vpc_attachments: Vec<GatewayAttachment>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpnConnection {
    pub vpn_connection_id: String,
    pub vpn_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub state: Option<String>,
    pub options: Option<VpnOptions>,
    #[serde(default, deserialize_with = "list")]
    pub routes: Vec<VpnStaticRoute>,
    /// The tunnels' status when described.
    #[serde(default, deserialize_with = "list")]
    pub vgw_telemetry: Vec<VgwTelemetry>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

/// One tunnel of a VPN connection (`VgwTelemetry`).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VgwTelemetry {
    pub status: Option<String>,
    pub outside_ip_address: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpnOptions {
    pub static_routes_only: Option<bool>,
    pub local_ipv4_network_cidr: Option<String>,
    pub remote_ipv4_network_cidr: Option<String>,
    pub local_ipv6_network_cidr: Option<String>,
    pub remote_ipv6_network_cidr: Option<String>,
    pub tunnel_inside_ip_version: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpnStaticRoute {
    pub destination_cidr_block: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: String,
    pub vpc_endpoint_type: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub service_name: Option<String>,
    pub state: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub route_table_ids: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub subnet_ids: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub network_interface_ids: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub groups: Vec<EndpointGroup>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointGroup {
    pub group_id: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    pub load_balancer_arn: String,
    pub load_balancer_name: Option<String>,
    #[serde(rename = "DNSName")]
    pub dns_name: Option<String>,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub state: Option<LbState>,
    #[serde(default, deserialize_with = "list")]
    pub availability_zones: Vec<LbAvailabilityZone>,
    #[serde(default, deserialize_with = "list")]
    pub security_groups: Vec<String>,
    pub ip_address_type: Option<String>,
}

/// A Classic Load Balancer (`aws elb describe-load-balancers`, key `LoadBalancerDescriptions`).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicLoadBalancer {
    pub load_balancer_name: String,
    #[serde(rename = "DNSName")]
    pub dns_name: Option<String>,
    pub scheme: Option<String>,
    #[serde(rename = "VPCId")]
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub subnets: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub security_groups: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub listener_descriptions: Vec<ClassicListenerDescription>,
    #[serde(default, deserialize_with = "list")]
    pub instances: Vec<ClassicInstance>,
}

/// One of a Classic Load Balancer's `ListenerDescriptions` (its policies are not read).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicListenerDescription {
    pub listener: ClassicListener,
}

/// A Classic Load Balancer's listener: the port it takes and the instance port it sends to.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicListener {
    pub protocol: String,
    pub load_balancer_port: i64,
    pub instance_protocol: Option<String>,
    pub instance_port: i64,
}

/// An instance registered with a Classic Load Balancer.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicInstance {
    pub instance_id: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LbState {
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LbAvailabilityZone {
    pub zone_name: Option<String>,
    pub subnet_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub load_balancer_addresses: Vec<LbAddress>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LbAddress {
    pub ip_address: Option<String>,
    pub allocation_id: Option<String>,
    #[serde(rename = "PrivateIPv4Address")]
    pub private_ipv4_address: Option<String>,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Listener {
    pub listener_arn: Option<String>,
    pub load_balancer_arn: Option<String>,
    pub port: Option<i64>,
    pub protocol: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub default_actions: Vec<ListenerAction>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerAction {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub target_group_arn: Option<String>,
    pub forward_config: Option<ForwardConfig>,
    pub redirect_config: Option<RedirectConfig>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardConfig {
    #[serde(default, deserialize_with = "list")]
    pub target_groups: Vec<WeightedTargetGroup>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct WeightedTargetGroup {
    pub target_group_arn: Option<String>,
    /// 0 to 999: a group's share of the requests is its weight over the sum (0: none).
    pub weight: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RedirectConfig {
    pub protocol: Option<String>,
    pub port: Option<String>,
}

/// One rule of `aws elbv2 describe-rules` output (`{"Rules": [...]}`). A rule names its
/// listener only through its ARN
/// (`arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID`),
/// unless the file gives the listener's ARN beside the list (`{"ListenerArn", "Rules"}`, the
/// collector's shape; see [`ListenerRuleSet`]).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerRule {
    pub rule_arn: Option<String>,
    /// `"1"` to `"50000"`, or `"default"` for the default rule.
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub conditions: Vec<RuleCondition>,
    #[serde(default, deserialize_with = "list")]
    pub actions: Vec<ListenerAction>,
    #[serde(default)]
    pub is_default: bool,
}

/// A rule's condition: only the field it tests is read (conditions are not evaluated).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RuleCondition {
    pub field: Option<String>,
}

/// The rules one file holds, with the listener's ARN when the file gives it.
#[derive(Debug, Default)]
pub struct ListenerRuleSet {
    pub listener_arn: Option<String>,
    pub rules: Vec<ListenerRule>,
}

/// Batfish wrapper `LoadBalancerListeners`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerListenerSet {
    pub load_balancer_arn: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroup {
    pub target_group_arn: String,
    pub target_group_name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    pub target_type: Option<String>,
    pub health_check_port: Option<String>,
    pub ip_address_type: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub load_balancer_arns: Vec<String>,
}

/// Batfish wrapper `LoadBalancerTargetHealth` (and the collector's shape).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealthSet {
    pub target_group_arn: String,
    #[serde(default, deserialize_with = "list")]
    pub target_health_descriptions: Vec<TargetHealthDescription>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealthDescription {
    pub target: TargetDescription,
    pub target_health: Option<TargetHealth>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDescription {
    pub id: String,
    pub port: Option<i64>,
    pub availability_zone: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealth {
    pub state: Option<String>,
}

/// Batfish wrapper `LoadBalancerAttributes` (and the collector's shape).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerAttributeSet {
    pub load_balancer_arn: String,
    #[serde(default, deserialize_with = "list")]
    pub attributes: Vec<KeyValue>,
}

/// The value of a top-level `LoadBalancerAttributes` key: the ELBv2 wrapper's list, or a
/// Classic Load Balancer's attributes object (`aws elb describe-load-balancer-attributes`,
/// which does not name the load balancer: the file's name does).
#[derive(Debug)]
pub enum LoadBalancerAttributes {
    /// `[{LoadBalancerArn, Attributes}]` (Batfish, the collector).
    Sets(Vec<LoadBalancerAttributeSet>),
    /// `{CrossZoneLoadBalancing: {Enabled}, ...}`.
    Classic(ClassicAttributes),
}

impl<'de> Deserialize<'de> for LoadBalancerAttributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;

        impl<'de> Visitor<'de> for Either {
            type Value = LoadBalancerAttributes;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of load-balancer attribute sets or a Classic Load Balancer's attributes object")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(LoadBalancerAttributes::Sets)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(LoadBalancerAttributes::Classic)
            }
        }

        d.deserialize_any(Either)
    }
}

/// A Classic Load Balancer's attributes (only what reachability depends on is read).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicAttributes {
    pub cross_zone_load_balancing: Option<ClassicEnabled>,
}

/// `{"Enabled": bool}`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicEnabled {
    pub enabled: Option<bool>,
}

/// Target-group attributes, in the collector's wrapper shape.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupAttributeSet {
    pub target_group_arn: String,
    #[serde(default, deserialize_with = "list")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// `aws rds describe-db-instances`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier")]
    pub db_instance_identifier: String,
    #[serde(rename = "DBInstanceArn")]
    pub db_instance_arn: Option<String>,
    pub engine: Option<String>,
    #[serde(rename = "DBInstanceStatus")]
    pub db_instance_status: Option<String>,
    pub endpoint: Option<DbEndpoint>,
    #[serde(rename = "DBSubnetGroup")]
    pub db_subnet_group: Option<DbSubnetGroup>,
    #[serde(default, deserialize_with = "list")]
    pub vpc_security_groups: Vec<VpcSecurityGroupMembership>,
    #[serde(default)]
    pub publicly_accessible: bool,
    pub availability_zone: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DbEndpoint {
    pub address: Option<String>,
    pub port: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DbSubnetGroup {
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub subnets: Vec<DbSubnet>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DbSubnet {
    pub subnet_identifier: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VpcSecurityGroupMembership {
    pub vpc_security_group_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error, if any, of deserialising `json` as `T`, with its path.
    fn error<T: for<'de> Deserialize<'de>>(json: &str) -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
        serde_path_to_error::deserialize::<_, T>(value)
            .err()
            .map(|e| e.to_string())
    }

    /// `Unread` and `UnreadGroupIdentifier` accept and reject what `String` and
    /// `GroupIdentifier` do, with the same messages.
    #[test]
    fn unread_fields_are_checked_like_the_types_they_replace() {
        for json in [
            r#""x""#, "5", "-1", "1.5", "true", "null", "[]", r#"["x"]"#, "{}",
        ] {
            assert_eq!(error::<Unread>(json), error::<String>(json), "{json}");
            assert_eq!(
                error::<Option<Unread>>(json),
                error::<Option<String>>(json),
                "{json}"
            );
        }
        for json in [
            r#"{"GroupId": "sg-1", "GroupName": "a"}"#,
            r#"{"GroupId": "sg-1"}"#,
            r#"{"GroupName": "a"}"#,
            r#"{"GroupId": 5}"#,
            r#"{"GroupId": "sg-1", "GroupName": ["a"]}"#,
            r#"{"GroupId": "sg-1", "GroupId": "sg-2"}"#,
            r#""sg-1""#,
            r#"["sg-1"]"#,
            "[]",
            "null",
        ] {
            assert_eq!(
                error::<UnreadGroupIdentifier>(json),
                error::<GroupIdentifier>(json),
                "{json}"
            );
            assert_eq!(
                error::<Vec<UnreadGroupIdentifier>>(&format!("[{json}]")),
                error::<Vec<GroupIdentifier>>(&format!("[{json}]")),
                "{json}"
            );
        }
    }
}
