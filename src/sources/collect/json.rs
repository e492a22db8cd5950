//! SDK types → AWS CLI JSON.
//!
//! The SDK's types have no serde, so each one the collector writes is converted here, field
//! by field, into the JSON the AWS CLI prints for it: the same PascalCase key names
//! (`DNSName`, `DBInstanceIdentifier`, `TagSet` on network interfaces, ...), the same
//! nesting, enum values as their wire strings, timestamps in ISO 8601. Every field the
//! loader reads is written, plus the identifying ones (ids, names, ARNs, states, tags); the
//! rest of a CLI document is left out. Nothing secret is written: VPN connections'
//! `CustomerGatewayConfiguration` (it holds the tunnels' pre-shared keys) and endpoint
//! policies are deliberately not among the fields.

use aws_sdk_ec2::types as ec2;
use aws_sdk_elasticloadbalancing::types as clb;
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_sdk_rds::types as rds;
use serde_json::{Map, Value};

/// A value that has an AWS CLI JSON form.
pub trait ToJson {
    /// The AWS CLI JSON of this value.
    fn to_json(&self) -> Value;
}

/// What an SDK accessor returns (`Option<&str>`, `&[T]`, `Option<&T>`, `Option<i32>` ...),
/// as an optional JSON value: `None` leaves the key out, as the CLI does.
pub trait Field {
    /// The JSON value, if there is one.
    fn field(&self) -> Option<Value>;
}

impl Field for Option<&str> {
    fn field(&self) -> Option<Value> {
        self.map(|s| Value::String(s.to_string()))
    }
}
impl Field for Option<bool> {
    fn field(&self) -> Option<Value> {
        self.map(Value::Bool)
    }
}
impl Field for Option<i32> {
    fn field(&self) -> Option<Value> {
        self.map(Value::from)
    }
}
impl Field for Option<i64> {
    fn field(&self) -> Option<Value> {
        self.map(Value::from)
    }
}
/// Fields the SDK always has (a Classic Load Balancer listener's ports and protocol).
impl Field for i32 {
    fn field(&self) -> Option<Value> {
        Some(Value::from(*self))
    }
}
impl Field for &str {
    fn field(&self) -> Option<Value> {
        Some(Value::String(self.to_string()))
    }
}
impl Field for bool {
    fn field(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}
impl<T: ToJson> Field for &[T] {
    fn field(&self) -> Option<Value> {
        Some(Value::Array(self.iter().map(ToJson::to_json).collect()))
    }
}
impl<T: ToJson> Field for Option<&T> {
    fn field(&self) -> Option<Value> {
        self.map(ToJson::to_json)
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for aws_sdk_ec2::primitives::DateTime {
    fn to_json(&self) -> Value {
        self.fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
            .map(Value::String)
            .unwrap_or(Value::Null)
    }
}

/// Builds an object from `(key, value)` pairs, leaving out absent values.
pub fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            map.insert(k.to_string(), v);
        }
    }
    Value::Object(map)
}

/// `to_json!(Type { "CliKey" => accessor, ... })`: the CLI JSON of an SDK struct.
macro_rules! to_json {
    ($($ty:ty { $($key:literal => $acc:ident),* $(,)? })*) => {$(
        impl ToJson for $ty {
            fn to_json(&self) -> Value {
                object(vec![$(($key, Field::field(&self.$acc()))),*])
            }
        }
    )*};
}

/// SDK enums: their wire strings.
macro_rules! enums {
    ($($ty:ty),* $(,)?) => {$(
        impl ToJson for $ty {
            fn to_json(&self) -> Value {
                Value::String(self.as_str().to_string())
            }
        }
    )*};
}

enums!(
    ec2::VpcState,
    ec2::BlockPublicAccessMode,
    ec2::InternetGatewayBlockMode,
    ec2::InternetGatewayExclusionMode,
    ec2::VpcBlockPublicAccessState,
    ec2::VpcBlockPublicAccessExclusionState,
    ec2::VpcBlockPublicAccessExclusionsAllowed,
    ec2::ManagedBy,
    ec2::TunnelInsideIpVersion,
    ec2::VpcCidrBlockStateCode,
    ec2::SubnetCidrBlockStateCode,
    ec2::SubnetState,
    ec2::Tenancy,
    ec2::RouteState,
    ec2::RouteOrigin,
    ec2::RouteTableAssociationStateCode,
    ec2::RuleAction,
    ec2::NetworkInterfaceType,
    ec2::NetworkInterfaceStatus,
    ec2::AttachmentStatus,
    ec2::InstanceStateName,
    ec2::InstanceType,
    ec2::NatGatewayState,
    ec2::ConnectivityType,
    ec2::NatGatewayAddressStatus,
    ec2::DomainType,
    ec2::VpcPeeringConnectionStateReasonCode,
    ec2::PrefixListState,
    ec2::TransitGatewayState,
    ec2::AutoAcceptSharedAttachmentsValue,
    ec2::DefaultRouteTableAssociationValue,
    ec2::DefaultRouteTablePropagationValue,
    ec2::VpnEcmpSupportValue,
    ec2::DnsSupportValue,
    ec2::SecurityGroupReferencingSupportValue,
    ec2::MulticastSupportValue,
    ec2::TransitGatewayAttachmentResourceType,
    ec2::TransitGatewayAttachmentState,
    ec2::TransitGatewayAssociationState,
    ec2::Ipv6SupportValue,
    ec2::ApplianceModeSupportValue,
    ec2::TransitGatewayRouteTableState,
    ec2::TransitGatewayRouteType,
    ec2::TransitGatewayRouteState,
    ec2::VpnState,
    ec2::TelemetryStatus,
    ec2::GatewayType,
    ec2::VpcEndpointType,
    ec2::State,
    ec2::VpnStaticRouteSource,
    elb::LoadBalancerSchemeEnum,
    elb::LoadBalancerStateEnum,
    elb::LoadBalancerTypeEnum,
    elb::IpAddressType,
    elb::ProtocolEnum,
    elb::ActionTypeEnum,
    elb::RedirectActionStatusCodeEnum,
    elb::TargetTypeEnum,
    elb::TargetGroupIpAddressTypeEnum,
    elb::TargetHealthStateEnum,
    elb::TargetHealthReasonEnum,
    elb::SourceIpAddressTypeEnum,
);

to_json! {
    ec2::Tag { "Key" => key, "Value" => value }

    ec2::Vpc {
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "CidrBlock" => cidr_block,
        "CidrBlockAssociationSet" => cidr_block_association_set,
        "Ipv6CidrBlockAssociationSet" => ipv6_cidr_block_association_set,
        "DhcpOptionsId" => dhcp_options_id,
        "InstanceTenancy" => instance_tenancy,
        "IsDefault" => is_default,
        "State" => state,
        "Tags" => tags,
        "BlockPublicAccessStates" => block_public_access_states,
    }
    ec2::BlockPublicAccessStates { "InternetGatewayBlockMode" => internet_gateway_block_mode }
    ec2::VpcBlockPublicAccessOptions {
        "AwsAccountId" => aws_account_id,
        "AwsRegion" => aws_region,
        "State" => state,
        "InternetGatewayBlockMode" => internet_gateway_block_mode,
        "Reason" => reason,
        "LastUpdateTimestamp" => last_update_timestamp,
        "ManagedBy" => managed_by,
        "ExclusionsAllowed" => exclusions_allowed,
    }
    ec2::VpcBlockPublicAccessExclusion {
        "ExclusionId" => exclusion_id,
        "InternetGatewayExclusionMode" => internet_gateway_exclusion_mode,
        "ResourceArn" => resource_arn,
        "State" => state,
        "Reason" => reason,
        "CreationTimestamp" => creation_timestamp,
        "LastUpdateTimestamp" => last_update_timestamp,
        "DeletionTimestamp" => deletion_timestamp,
        "Tags" => tags,
    }
    ec2::VpcCidrBlockAssociation {
        "AssociationId" => association_id,
        "CidrBlock" => cidr_block,
        "CidrBlockState" => cidr_block_state,
    }
    ec2::VpcCidrBlockState { "State" => state, "StatusMessage" => status_message }
    ec2::VpcIpv6CidrBlockAssociation {
        "AssociationId" => association_id,
        "Ipv6CidrBlock" => ipv6_cidr_block,
        "Ipv6CidrBlockState" => ipv6_cidr_block_state,
        "NetworkBorderGroup" => network_border_group,
        "Ipv6Pool" => ipv6_pool,
    }

    ec2::Subnet {
        "SubnetId" => subnet_id,
        "SubnetArn" => subnet_arn,
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "CidrBlock" => cidr_block,
        "Ipv6CidrBlockAssociationSet" => ipv6_cidr_block_association_set,
        "AvailabilityZone" => availability_zone,
        "AvailabilityZoneId" => availability_zone_id,
        "AvailableIpAddressCount" => available_ip_address_count,
        "DefaultForAz" => default_for_az,
        "MapPublicIpOnLaunch" => map_public_ip_on_launch,
        "AssignIpv6AddressOnCreation" => assign_ipv6_address_on_creation,
        "Ipv6Native" => ipv6_native,
        "State" => state,
        "Tags" => tags,
    }
    ec2::SubnetIpv6CidrBlockAssociation {
        "AssociationId" => association_id,
        "Ipv6CidrBlock" => ipv6_cidr_block,
        "Ipv6CidrBlockState" => ipv6_cidr_block_state,
    }
    ec2::SubnetCidrBlockState { "State" => state, "StatusMessage" => status_message }

    ec2::RouteTable {
        "RouteTableId" => route_table_id,
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "Associations" => associations,
        "Routes" => routes,
        "PropagatingVgws" => propagating_vgws,
        "Tags" => tags,
    }
    ec2::RouteTableAssociation {
        "Main" => main,
        "RouteTableAssociationId" => route_table_association_id,
        "RouteTableId" => route_table_id,
        "SubnetId" => subnet_id,
        "GatewayId" => gateway_id,
        "AssociationState" => association_state,
    }
    ec2::RouteTableAssociationState { "State" => state, "StatusMessage" => status_message }
    ec2::PropagatingVgw { "GatewayId" => gateway_id }
    ec2::Route {
        "DestinationCidrBlock" => destination_cidr_block,
        "DestinationIpv6CidrBlock" => destination_ipv6_cidr_block,
        "DestinationPrefixListId" => destination_prefix_list_id,
        "EgressOnlyInternetGatewayId" => egress_only_internet_gateway_id,
        "GatewayId" => gateway_id,
        "InstanceId" => instance_id,
        "InstanceOwnerId" => instance_owner_id,
        "NatGatewayId" => nat_gateway_id,
        "TransitGatewayId" => transit_gateway_id,
        "LocalGatewayId" => local_gateway_id,
        "CarrierGatewayId" => carrier_gateway_id,
        "NetworkInterfaceId" => network_interface_id,
        "VpcPeeringConnectionId" => vpc_peering_connection_id,
        "CoreNetworkArn" => core_network_arn,
        "OdbNetworkArn" => odb_network_arn,
        "IpAddress" => ip_address,
        "Origin" => origin,
        "State" => state,
    }

    ec2::NetworkAcl {
        "NetworkAclId" => network_acl_id,
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "IsDefault" => is_default,
        "Associations" => associations,
        "Entries" => entries,
        "Tags" => tags,
    }
    ec2::NetworkAclAssociation {
        "NetworkAclAssociationId" => network_acl_association_id,
        "NetworkAclId" => network_acl_id,
        "SubnetId" => subnet_id,
    }
    ec2::NetworkAclEntry {
        "RuleNumber" => rule_number,
        "Protocol" => protocol,
        "RuleAction" => rule_action,
        "Egress" => egress,
        "CidrBlock" => cidr_block,
        "Ipv6CidrBlock" => ipv6_cidr_block,
        "PortRange" => port_range,
        "IcmpTypeCode" => icmp_type_code,
    }
    ec2::PortRange { "From" => from, "To" => to }
    ec2::IcmpTypeCode { "Code" => code, "Type" => r#type }

    ec2::SecurityGroup {
        "GroupId" => group_id,
        "GroupName" => group_name,
        "Description" => description,
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "SecurityGroupArn" => security_group_arn,
        "IpPermissions" => ip_permissions,
        "IpPermissionsEgress" => ip_permissions_egress,
        "Tags" => tags,
    }
    ec2::IpPermission {
        "IpProtocol" => ip_protocol,
        "FromPort" => from_port,
        "ToPort" => to_port,
        "IpRanges" => ip_ranges,
        "Ipv6Ranges" => ipv6_ranges,
        "PrefixListIds" => prefix_list_ids,
        "UserIdGroupPairs" => user_id_group_pairs,
    }
    ec2::IpRange { "CidrIp" => cidr_ip, "Description" => description }
    ec2::Ipv6Range { "CidrIpv6" => cidr_ipv6, "Description" => description }
    ec2::PrefixListId { "PrefixListId" => prefix_list_id, "Description" => description }
    ec2::UserIdGroupPair {
        "Description" => description,
        "GroupId" => group_id,
        "GroupName" => group_name,
        "PeeringStatus" => peering_status,
        "UserId" => user_id,
        "VpcId" => vpc_id,
        "VpcPeeringConnectionId" => vpc_peering_connection_id,
    }
    ec2::SecurityGroupRule {
        "SecurityGroupRuleId" => security_group_rule_id,
        "GroupId" => group_id,
        "GroupOwnerId" => group_owner_id,
        "IsEgress" => is_egress,
        "IpProtocol" => ip_protocol,
        "FromPort" => from_port,
        "ToPort" => to_port,
        "CidrIpv4" => cidr_ipv4,
        "CidrIpv6" => cidr_ipv6,
        "PrefixListId" => prefix_list_id,
        "ReferencedGroupInfo" => referenced_group_info,
        "Description" => description,
        "SecurityGroupRuleArn" => security_group_rule_arn,
        "Tags" => tags,
    }
    ec2::ReferencedSecurityGroup {
        "GroupId" => group_id,
        "PeeringStatus" => peering_status,
        "UserId" => user_id,
        "VpcId" => vpc_id,
        "VpcPeeringConnectionId" => vpc_peering_connection_id,
    }

    ec2::NetworkInterface {
        "NetworkInterfaceId" => network_interface_id,
        "SubnetId" => subnet_id,
        "VpcId" => vpc_id,
        "AvailabilityZone" => availability_zone,
        "OwnerId" => owner_id,
        "Description" => description,
        "InterfaceType" => interface_type,
        "RequesterId" => requester_id,
        "RequesterManaged" => requester_managed,
        "Status" => status,
        "MacAddress" => mac_address,
        "PrivateIpAddress" => private_ip_address,
        "PrivateDnsName" => private_dns_name,
        "PrivateIpAddresses" => private_ip_addresses,
        "Ipv6Addresses" => ipv6_addresses,
        "Association" => association,
        "Attachment" => attachment,
        "Groups" => groups,
        "SourceDestCheck" => source_dest_check,
        "TagSet" => tag_set,
    }
    ec2::NetworkInterfacePrivateIpAddress {
        "Association" => association,
        "Primary" => primary,
        "PrivateDnsName" => private_dns_name,
        "PrivateIpAddress" => private_ip_address,
    }
    ec2::NetworkInterfaceIpv6Address {
        "Ipv6Address" => ipv6_address,
        "IsPrimaryIpv6" => is_primary_ipv6,
    }
    ec2::NetworkInterfaceAssociation {
        "AllocationId" => allocation_id,
        "AssociationId" => association_id,
        "IpOwnerId" => ip_owner_id,
        "PublicDnsName" => public_dns_name,
        "PublicIp" => public_ip,
    }
    ec2::NetworkInterfaceAttachment {
        "AttachmentId" => attachment_id,
        "DeleteOnTermination" => delete_on_termination,
        "DeviceIndex" => device_index,
        "InstanceId" => instance_id,
        "InstanceOwnerId" => instance_owner_id,
        "Status" => status,
    }
    ec2::GroupIdentifier { "GroupId" => group_id, "GroupName" => group_name }

    ec2::Reservation {
        "ReservationId" => reservation_id,
        "OwnerId" => owner_id,
        "RequesterId" => requester_id,
        "Groups" => groups,
        "Instances" => instances,
    }
    ec2::Instance {
        "InstanceId" => instance_id,
        "InstanceType" => instance_type,
        "ImageId" => image_id,
        "LaunchTime" => launch_time,
        "State" => state,
        "SubnetId" => subnet_id,
        "VpcId" => vpc_id,
        "PrivateIpAddress" => private_ip_address,
        "PrivateDnsName" => private_dns_name,
        "PublicIpAddress" => public_ip_address,
        "PublicDnsName" => public_dns_name,
        "Placement" => placement,
        "NetworkInterfaces" => network_interfaces,
        "SecurityGroups" => security_groups,
        "SourceDestCheck" => source_dest_check,
        "Tags" => tags,
    }
    ec2::InstanceState { "Code" => code, "Name" => name }
    ec2::Placement {
        "AvailabilityZone" => availability_zone,
        "GroupName" => group_name,
        "Tenancy" => tenancy,
    }
    ec2::InstanceNetworkInterface {
        "NetworkInterfaceId" => network_interface_id,
        "SubnetId" => subnet_id,
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "Description" => description,
        "InterfaceType" => interface_type,
        "Status" => status,
        "MacAddress" => mac_address,
        "PrivateIpAddress" => private_ip_address,
        "PrivateDnsName" => private_dns_name,
        "PrivateIpAddresses" => private_ip_addresses,
        "Ipv6Addresses" => ipv6_addresses,
        "Association" => association,
        "Attachment" => attachment,
        "Groups" => groups,
        "SourceDestCheck" => source_dest_check,
    }
    ec2::InstancePrivateIpAddress {
        "Association" => association,
        "Primary" => primary,
        "PrivateDnsName" => private_dns_name,
        "PrivateIpAddress" => private_ip_address,
    }
    ec2::InstanceNetworkInterfaceAssociation {
        "CarrierIp" => carrier_ip,
        "IpOwnerId" => ip_owner_id,
        "PublicDnsName" => public_dns_name,
        "PublicIp" => public_ip,
    }
    ec2::InstanceNetworkInterfaceAttachment {
        "AttachmentId" => attachment_id,
        "DeleteOnTermination" => delete_on_termination,
        "DeviceIndex" => device_index,
        "Status" => status,
        "NetworkCardIndex" => network_card_index,
    }
    ec2::InstanceIpv6Address {
        "Ipv6Address" => ipv6_address,
        "IsPrimaryIpv6" => is_primary_ipv6,
    }

    ec2::InternetGateway {
        "InternetGatewayId" => internet_gateway_id,
        "OwnerId" => owner_id,
        "Attachments" => attachments,
        "Tags" => tags,
    }
    ec2::InternetGatewayAttachment { "State" => state, "VpcId" => vpc_id }
    ec2::EgressOnlyInternetGateway {
        "EgressOnlyInternetGatewayId" => egress_only_internet_gateway_id,
        "Attachments" => attachments,
        "Tags" => tags,
    }

    ec2::NatGateway {
        "NatGatewayId" => nat_gateway_id,
        "SubnetId" => subnet_id,
        "VpcId" => vpc_id,
        "State" => state,
        "ConnectivityType" => connectivity_type,
        "CreateTime" => create_time,
        "NatGatewayAddresses" => nat_gateway_addresses,
        "Tags" => tags,
    }
    ec2::NatGatewayAddress {
        "AllocationId" => allocation_id,
        "NetworkInterfaceId" => network_interface_id,
        "PrivateIp" => private_ip,
        "PublicIp" => public_ip,
        "AssociationId" => association_id,
        "IsPrimary" => is_primary,
        "Status" => status,
    }

    ec2::Address {
        "PublicIp" => public_ip,
        "AllocationId" => allocation_id,
        "AssociationId" => association_id,
        "Domain" => domain,
        "InstanceId" => instance_id,
        "NetworkInterfaceId" => network_interface_id,
        "NetworkInterfaceOwnerId" => network_interface_owner_id,
        "PrivateIpAddress" => private_ip_address,
        "PublicIpv4Pool" => public_ipv4_pool,
        "NetworkBorderGroup" => network_border_group,
        "Tags" => tags,
    }

    ec2::VpcPeeringConnection {
        "VpcPeeringConnectionId" => vpc_peering_connection_id,
        "AccepterVpcInfo" => accepter_vpc_info,
        "RequesterVpcInfo" => requester_vpc_info,
        "Status" => status,
        "ExpirationTime" => expiration_time,
        "Tags" => tags,
    }
    ec2::VpcPeeringConnectionVpcInfo {
        "VpcId" => vpc_id,
        "OwnerId" => owner_id,
        "Region" => region,
        "CidrBlock" => cidr_block,
        "CidrBlockSet" => cidr_block_set,
        "Ipv6CidrBlockSet" => ipv6_cidr_block_set,
    }
    ec2::CidrBlock { "CidrBlock" => cidr_block }
    ec2::Ipv6CidrBlock { "Ipv6CidrBlock" => ipv6_cidr_block }
    ec2::VpcPeeringConnectionStateReason { "Code" => code, "Message" => message }

    ec2::ManagedPrefixList {
        "PrefixListId" => prefix_list_id,
        "PrefixListName" => prefix_list_name,
        "PrefixListArn" => prefix_list_arn,
        "AddressFamily" => address_family,
        "State" => state,
        "StateMessage" => state_message,
        "MaxEntries" => max_entries,
        "Version" => version,
        "OwnerId" => owner_id,
        "Tags" => tags,
    }
    ec2::PrefixListEntry { "Cidr" => cidr, "Description" => description }

    ec2::TransitGateway {
        "TransitGatewayId" => transit_gateway_id,
        "TransitGatewayArn" => transit_gateway_arn,
        "State" => state,
        "OwnerId" => owner_id,
        "Description" => description,
        "CreationTime" => creation_time,
        "Options" => options,
        "Tags" => tags,
    }
    ec2::TransitGatewayOptions {
        "AmazonSideAsn" => amazon_side_asn,
        "TransitGatewayCidrBlocks" => transit_gateway_cidr_blocks,
        "AutoAcceptSharedAttachments" => auto_accept_shared_attachments,
        "DefaultRouteTableAssociation" => default_route_table_association,
        "AssociationDefaultRouteTableId" => association_default_route_table_id,
        "DefaultRouteTablePropagation" => default_route_table_propagation,
        "PropagationDefaultRouteTableId" => propagation_default_route_table_id,
        "VpnEcmpSupport" => vpn_ecmp_support,
        "DnsSupport" => dns_support,
        "SecurityGroupReferencingSupport" => security_group_referencing_support,
        "MulticastSupport" => multicast_support,
    }
    ec2::TransitGatewayAttachment {
        "TransitGatewayAttachmentId" => transit_gateway_attachment_id,
        "TransitGatewayId" => transit_gateway_id,
        "TransitGatewayOwnerId" => transit_gateway_owner_id,
        "ResourceOwnerId" => resource_owner_id,
        "ResourceType" => resource_type,
        "ResourceId" => resource_id,
        "State" => state,
        "Association" => association,
        "CreationTime" => creation_time,
        "Tags" => tags,
    }
    ec2::TransitGatewayAttachmentAssociation {
        "TransitGatewayRouteTableId" => transit_gateway_route_table_id,
        "State" => state,
    }
    ec2::TransitGatewayVpcAttachment {
        "TransitGatewayAttachmentId" => transit_gateway_attachment_id,
        "TransitGatewayId" => transit_gateway_id,
        "VpcId" => vpc_id,
        "VpcOwnerId" => vpc_owner_id,
        "State" => state,
        "SubnetIds" => subnet_ids,
        "CreationTime" => creation_time,
        "Options" => options,
        "Tags" => tags,
    }
    ec2::TransitGatewayVpcAttachmentOptions {
        "DnsSupport" => dns_support,
        "SecurityGroupReferencingSupport" => security_group_referencing_support,
        "Ipv6Support" => ipv6_support,
        "ApplianceModeSupport" => appliance_mode_support,
    }
    ec2::TransitGatewayRouteTable {
        "TransitGatewayRouteTableId" => transit_gateway_route_table_id,
        "TransitGatewayId" => transit_gateway_id,
        "State" => state,
        "DefaultAssociationRouteTable" => default_association_route_table,
        "DefaultPropagationRouteTable" => default_propagation_route_table,
        "CreationTime" => creation_time,
        "Tags" => tags,
    }
    ec2::TransitGatewayRoute {
        "DestinationCidrBlock" => destination_cidr_block,
        "PrefixListId" => prefix_list_id,
        "TransitGatewayAttachments" => transit_gateway_attachments,
        "Type" => r#type,
        "State" => state,
    }
    ec2::TransitGatewayRouteAttachment {
        "ResourceId" => resource_id,
        "TransitGatewayAttachmentId" => transit_gateway_attachment_id,
        "ResourceType" => resource_type,
    }

    ec2::VpnGateway {
        "VpnGatewayId" => vpn_gateway_id,
        "State" => state,
        "Type" => r#type,
        "AvailabilityZone" => availability_zone,
        "AmazonSideAsn" => amazon_side_asn,
        "VpcAttachments" => vpc_attachments,
        "Tags" => tags,
    }
    ec2::VpcAttachment { "State" => state, "VpcId" => vpc_id }
    ec2::VpnConnection {
        "VpnConnectionId" => vpn_connection_id,
        "VpnGatewayId" => vpn_gateway_id,
        "TransitGatewayId" => transit_gateway_id,
        "CustomerGatewayId" => customer_gateway_id,
        "Category" => category,
        "State" => state,
        "Type" => r#type,
        "Options" => options,
        "Routes" => routes,
        "VgwTelemetry" => vgw_telemetry,
        "Tags" => tags,
    }
    ec2::VgwTelemetry {
        "OutsideIpAddress" => outside_ip_address,
        "Status" => status,
        "StatusMessage" => status_message,
    }
    ec2::VpnConnectionOptions {
        "StaticRoutesOnly" => static_routes_only,
        "TunnelInsideIpVersion" => tunnel_inside_ip_version,
        "LocalIpv4NetworkCidr" => local_ipv4_network_cidr,
        "RemoteIpv4NetworkCidr" => remote_ipv4_network_cidr,
        "LocalIpv6NetworkCidr" => local_ipv6_network_cidr,
        "RemoteIpv6NetworkCidr" => remote_ipv6_network_cidr,
    }
    ec2::VpnStaticRoute {
        "DestinationCidrBlock" => destination_cidr_block,
        "Source" => source,
        "State" => state,
    }

    ec2::VpcEndpoint {
        "VpcEndpointId" => vpc_endpoint_id,
        "VpcEndpointType" => vpc_endpoint_type,
        "VpcId" => vpc_id,
        "ServiceName" => service_name,
        "State" => state,
        "RouteTableIds" => route_table_ids,
        "SubnetIds" => subnet_ids,
        "Groups" => groups,
        "PrivateDnsEnabled" => private_dns_enabled,
        "RequesterManaged" => requester_managed,
        "NetworkInterfaceIds" => network_interface_ids,
        "CreationTimestamp" => creation_timestamp,
        "OwnerId" => owner_id,
        "Tags" => tags,
    }
    ec2::SecurityGroupIdentifier { "GroupId" => group_id, "GroupName" => group_name }

    elb::LoadBalancer {
        "LoadBalancerArn" => load_balancer_arn,
        "DNSName" => dns_name,
        "CanonicalHostedZoneId" => canonical_hosted_zone_id,
        "CreatedTime" => created_time,
        "LoadBalancerName" => load_balancer_name,
        "Scheme" => scheme,
        "VpcId" => vpc_id,
        "State" => state,
        "Type" => r#type,
        "AvailabilityZones" => availability_zones,
        "SecurityGroups" => security_groups,
        "IpAddressType" => ip_address_type,
    }
    elb::LoadBalancerState { "Code" => code, "Reason" => reason }
    elb::AvailabilityZone {
        "ZoneName" => zone_name,
        "SubnetId" => subnet_id,
        "OutpostId" => outpost_id,
        "LoadBalancerAddresses" => load_balancer_addresses,
    }
    elb::LoadBalancerAddress {
        "IpAddress" => ip_address,
        "AllocationId" => allocation_id,
        "PrivateIPv4Address" => private_ipv4_address,
        "IPv6Address" => ipv6_address,
    }
    elb::Listener {
        "ListenerArn" => listener_arn,
        "LoadBalancerArn" => load_balancer_arn,
        "Port" => port,
        "Protocol" => protocol,
        "Certificates" => certificates,
        "SslPolicy" => ssl_policy,
        "DefaultActions" => default_actions,
        "AlpnPolicy" => alpn_policy,
    }
    elb::Certificate { "CertificateArn" => certificate_arn, "IsDefault" => is_default }
    elb::Rule {
        "RuleArn" => rule_arn,
        "Priority" => priority,
        "Conditions" => conditions,
        "Actions" => actions,
        "IsDefault" => is_default,
    }
    elb::RuleCondition {
        "Field" => field,
        "Values" => values,
        "HostHeaderConfig" => host_header_config,
        "PathPatternConfig" => path_pattern_config,
        "HttpHeaderConfig" => http_header_config,
        "QueryStringConfig" => query_string_config,
        "HttpRequestMethodConfig" => http_request_method_config,
        "SourceIpConfig" => source_ip_config,
    }
    elb::HostHeaderConditionConfig { "Values" => values, "RegexValues" => regex_values }
    elb::PathPatternConditionConfig { "Values" => values, "RegexValues" => regex_values }
    elb::HttpHeaderConditionConfig {
        "HttpHeaderName" => http_header_name,
        "Values" => values,
        "RegexValues" => regex_values,
    }
    elb::QueryStringConditionConfig { "Values" => values }
    elb::QueryStringKeyValuePair { "Key" => key, "Value" => value }
    elb::HttpRequestMethodConditionConfig { "Values" => values }
    elb::SourceIpConditionConfig { "Values" => values, "IpAddressType" => ip_address_type }
    elb::Action {
        "Type" => r#type,
        "TargetGroupArn" => target_group_arn,
        "Order" => order,
        "RedirectConfig" => redirect_config,
        "FixedResponseConfig" => fixed_response_config,
        "ForwardConfig" => forward_config,
    }
    elb::RedirectActionConfig {
        "Protocol" => protocol,
        "Port" => port,
        "Host" => host,
        "Path" => path,
        "Query" => query,
        "StatusCode" => status_code,
    }
    elb::FixedResponseActionConfig {
        "MessageBody" => message_body,
        "StatusCode" => status_code,
        "ContentType" => content_type,
    }
    elb::ForwardActionConfig {
        "TargetGroups" => target_groups,
        "TargetGroupStickinessConfig" => target_group_stickiness_config,
    }
    elb::TargetGroupTuple { "TargetGroupArn" => target_group_arn, "Weight" => weight }
    elb::TargetGroupStickinessConfig {
        "Enabled" => enabled,
        "DurationSeconds" => duration_seconds,
    }
    elb::TargetGroup {
        "TargetGroupArn" => target_group_arn,
        "TargetGroupName" => target_group_name,
        "Protocol" => protocol,
        "ProtocolVersion" => protocol_version,
        "Port" => port,
        "VpcId" => vpc_id,
        "HealthCheckProtocol" => health_check_protocol,
        "HealthCheckPort" => health_check_port,
        "HealthCheckEnabled" => health_check_enabled,
        "HealthCheckPath" => health_check_path,
        "LoadBalancerArns" => load_balancer_arns,
        "TargetType" => target_type,
        "IpAddressType" => ip_address_type,
    }
    elb::TargetHealthDescription {
        "Target" => target,
        "HealthCheckPort" => health_check_port,
        "TargetHealth" => target_health,
    }
    elb::TargetDescription {
        "Id" => id,
        "Port" => port,
        "AvailabilityZone" => availability_zone,
    }
    elb::TargetHealth {
        "State" => state,
        "Reason" => reason,
        "Description" => description,
    }
    elb::LoadBalancerAttribute { "Key" => key, "Value" => value }
    elb::TargetGroupAttribute { "Key" => key, "Value" => value }

    // Classic Load Balancers (`aws elb describe-load-balancers`, its own API).
    clb::LoadBalancerDescription {
        "LoadBalancerName" => load_balancer_name,
        "DNSName" => dns_name,
        "ListenerDescriptions" => listener_descriptions,
        "AvailabilityZones" => availability_zones,
        "Subnets" => subnets,
        "VPCId" => vpc_id,
        "Instances" => instances,
        "SourceSecurityGroup" => source_security_group,
        "SecurityGroups" => security_groups,
        "CreatedTime" => created_time,
        "Scheme" => scheme,
    }
    clb::ListenerDescription { "Listener" => listener, "PolicyNames" => policy_names }
    clb::Listener {
        "Protocol" => protocol,
        "LoadBalancerPort" => load_balancer_port,
        "InstanceProtocol" => instance_protocol,
        "InstancePort" => instance_port,
        "SSLCertificateId" => ssl_certificate_id,
    }
    clb::Instance { "InstanceId" => instance_id }
    clb::SourceSecurityGroup { "OwnerAlias" => owner_alias, "GroupName" => group_name }
    clb::LoadBalancerAttributes {
        "CrossZoneLoadBalancing" => cross_zone_load_balancing,
        "ConnectionSettings" => connection_settings,
    }
    clb::CrossZoneLoadBalancing { "Enabled" => enabled }
    clb::ConnectionSettings { "IdleTimeout" => idle_timeout }

    rds::DbInstance {
        "DBInstanceIdentifier" => db_instance_identifier,
        "DBInstanceArn" => db_instance_arn,
        "DBInstanceClass" => db_instance_class,
        "Engine" => engine,
        "EngineVersion" => engine_version,
        "DBInstanceStatus" => db_instance_status,
        "Endpoint" => endpoint,
        "DBSubnetGroup" => db_subnet_group,
        "VpcSecurityGroups" => vpc_security_groups,
        "PubliclyAccessible" => publicly_accessible,
        "AvailabilityZone" => availability_zone,
        "SecondaryAvailabilityZone" => secondary_availability_zone,
        "MultiAZ" => multi_az,
        "DBClusterIdentifier" => db_cluster_identifier,
        "DbiResourceId" => dbi_resource_id,
        "TagList" => tag_list,
    }
    rds::Endpoint { "Address" => address, "Port" => port, "HostedZoneId" => hosted_zone_id }
    rds::DbSubnetGroup {
        "DBSubnetGroupName" => db_subnet_group_name,
        "DBSubnetGroupDescription" => db_subnet_group_description,
        "VpcId" => vpc_id,
        "SubnetGroupStatus" => subnet_group_status,
        "Subnets" => subnets,
    }
    rds::Subnet {
        "SubnetIdentifier" => subnet_identifier,
        "SubnetAvailabilityZone" => subnet_availability_zone,
        "SubnetStatus" => subnet_status,
    }
    rds::AvailabilityZone { "Name" => name }
    rds::VpcSecurityGroupMembership {
        "VpcSecurityGroupId" => vpc_security_group_id,
        "Status" => status,
    }
    rds::Tag { "Key" => key, "Value" => value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_values_become_aws_cli_json() {
        let vpc = ec2::Vpc::builder()
            .vpc_id("vpc-1")
            .cidr_block("10.0.0.0/16")
            .state(ec2::VpcState::Available)
            .is_default(false)
            .tags(ec2::Tag::builder().key("Name").value("prod").build())
            .build();
        assert_eq!(
            vpc.to_json(),
            serde_json::json!({
                "VpcId": "vpc-1",
                "CidrBlock": "10.0.0.0/16",
                "State": "available",
                "IsDefault": false,
                "CidrBlockAssociationSet": [],
                "Ipv6CidrBlockAssociationSet": [],
                "Tags": [{"Key": "Name", "Value": "prod"}],
            })
        );
        // The CLI's irregular key names.
        let lb = elb::LoadBalancer::builder()
            .load_balancer_arn("arn:lb")
            .dns_name("web.example")
            .r#type(elb::LoadBalancerTypeEnum::Application)
            .build();
        let v = lb.to_json();
        assert_eq!(v["DNSName"], "web.example");
        assert_eq!(v["Type"], "application");
        let eni = ec2::NetworkInterface::builder()
            .network_interface_id("eni-1")
            .tag_set(ec2::Tag::builder().key("k").value("v").build())
            .build();
        assert_eq!(eni.to_json()["TagSet"][0]["Key"], "k");
        let db = rds::DbInstance::builder()
            .db_instance_identifier("orders-db")
            .multi_az(true)
            .endpoint(
                rds::Endpoint::builder()
                    .address("db.example")
                    .port(5432)
                    .build(),
            )
            .build();
        let v = db.to_json();
        assert_eq!(v["DBInstanceIdentifier"], "orders-db");
        assert_eq!(v["MultiAZ"], true);
        assert_eq!(v["Endpoint"]["Port"], 5432);
        let entry = ec2::NetworkAclEntry::builder()
            .rule_number(100)
            .protocol("6")
            .rule_action(ec2::RuleAction::Allow)
            .egress(false)
            .port_range(ec2::PortRange::builder().from(80).to(80).build())
            .build();
        assert_eq!(entry.to_json()["RuleAction"], "allow");
        assert_eq!(entry.to_json()["PortRange"]["From"], 80);
    }

    #[test]
    fn listener_rules_become_describe_rules_json() {
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/api/1";
        let rule = elb::Rule::builder()
            .rule_arn("arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/a/1/2/3")
            .priority("10")
            .is_default(false)
            .conditions(
                elb::RuleCondition::builder()
                    .field("path-pattern")
                    .values("/api/*")
                    .path_pattern_config(
                        elb::PathPatternConditionConfig::builder()
                            .values("/api/*")
                            .build(),
                    )
                    .build(),
            )
            .conditions(
                elb::RuleCondition::builder()
                    .field("source-ip")
                    .source_ip_config(
                        elb::SourceIpConditionConfig::builder()
                            .values("81.2.69.0/24")
                            .build(),
                    )
                    .build(),
            )
            .actions(
                elb::Action::builder()
                    .r#type(elb::ActionTypeEnum::Forward)
                    .target_group_arn(tg)
                    .build(),
            )
            .build();
        let v = rule.to_json();
        assert_eq!(v["Priority"], "10");
        assert_eq!(v["IsDefault"], false);
        assert_eq!(v["Conditions"][0]["Field"], "path-pattern");
        assert_eq!(
            v["Conditions"][0]["PathPatternConfig"]["Values"][0],
            "/api/*"
        );
        assert_eq!(
            v["Conditions"][1]["SourceIpConfig"]["Values"][0],
            "81.2.69.0/24"
        );
        assert_eq!(v["Actions"][0]["Type"], "forward");
        assert_eq!(v["Actions"][0]["TargetGroupArn"], tg);
    }

    #[test]
    fn vpn_connections_leave_the_pre_shared_keys_out() {
        let vpn = ec2::VpnConnection::builder()
            .vpn_connection_id("vpn-1")
            .customer_gateway_configuration("<psk>secret</psk>")
            .build();
        let text = vpn.to_json().to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("vpn-1"));
    }
}
