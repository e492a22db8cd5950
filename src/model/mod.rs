//! The vendor-independent network model.
//!
//! Architecture invariant: nothing here knows AWS wire formats (JSON keys,
//! CLI shapes) and nothing here does I/O. The sources layer builds a
//! [`Model`]; the engine, findings and renderers only read it. Resources are
//! kept in `BTreeMap`s keyed by their id so that every iteration order, and
//! therefore every output, is deterministic.

mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

pub use validate::validate;

/// Key/value tags of a resource.
pub type Tags = BTreeMap<String, String>;

/// Where a resource lives: its account and region, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The 12-digit account id, when known.
    pub account: Option<String>,
    /// The region name (`eu-west-1`), when known.
    pub region: Option<String>,
}

/// A VPC.
#[derive(Debug, Clone, Default)]
pub struct Vpc {
    /// `vpc-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Associated IPv4 CIDR blocks.
    pub cidrs_v4: Vec<Ipv4Net>,
    /// Associated IPv6 CIDR blocks.
    pub cidrs_v6: Vec<Ipv6Net>,
    /// Whether this is the region's default VPC.
    pub is_default: bool,
    /// Tags.
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone, Default)]
pub struct Subnet {
    /// `subnet-…`
    pub id: String,
    /// Owning VPC.
    pub vpc_id: String,
    /// Account and region.
    pub location: Location,
    /// Availability zone name.
    pub az: Option<String>,
    /// Availability zone id (`euw1-az1`): the same physical zone in every account, where the
    /// name's mapping differs from account to account.
    pub az_id: Option<String>,
    /// IPv4 CIDR (absent for IPv6-only subnets).
    pub cidr_v4: Option<Ipv4Net>,
    /// IPv6 CIDRs.
    pub cidrs_v6: Vec<Ipv6Net>,
    /// Whether instances launched here get a public IPv4 by default.
    pub map_public_ip_on_launch: bool,
    /// Tags.
    pub tags: Tags,
}

/// What a route's destination names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteDestination {
    /// A CIDR block (IPv4 or IPv6).
    Cidr(IpNet),
    /// A managed prefix list, expanded through [`Model::prefix_lists`].
    PrefixList(String),
}

impl fmt::Display for RouteDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteDestination::Cidr(c) => write!(f, "{c}"),
            RouteDestination::PrefixList(p) => f.write_str(p),
        }
    }
}

/// Where a VPC route sends matching packets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteTarget {
    /// The VPC's local router.
    Local,
    /// An internet gateway `igw-…`.
    InternetGateway(String),
    /// An egress-only internet gateway `eigw-…`.
    EgressOnlyInternetGateway(String),
    /// A NAT gateway `nat-…`.
    NatGateway(String),
    /// A virtual private gateway `vgw-…` (on-premises via VPN/DX).
    VpnGateway(String),
    /// A transit gateway `tgw-…`.
    TransitGateway(String),
    /// A VPC peering connection `pcx-…`.
    Peering(String),
    /// A network interface `eni-…` (an appliance).
    NetworkInterface(String),
    /// An instance `i-…` (an appliance, through its primary ENI).
    Instance(String),
    /// A VPC endpoint `vpce-…` (gateway endpoint or GWLB endpoint).
    VpcEndpoint(String),
    /// Anything else (local gateway, carrier gateway, Cloud WAN, ...): not modelled.
    Other(String),
}

impl RouteTarget {
    /// The target's id as AWS prints it.
    pub fn id(&self) -> &str {
        match self {
            RouteTarget::Local => "local",
            RouteTarget::InternetGateway(s)
            | RouteTarget::EgressOnlyInternetGateway(s)
            | RouteTarget::NatGateway(s)
            | RouteTarget::VpnGateway(s)
            | RouteTarget::TransitGateway(s)
            | RouteTarget::Peering(s)
            | RouteTarget::NetworkInterface(s)
            | RouteTarget::Instance(s)
            | RouteTarget::VpcEndpoint(s)
            | RouteTarget::Other(s) => s,
        }
    }
}

/// How a route came to be, which decides ties between equal prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteOrigin {
    /// Created with the table (the local route).
    Local,
    /// Created by a user or by an endpoint association.
    Static,
    /// Propagated by a virtual private gateway.
    Propagated,
}

/// One route of a VPC route table.
#[derive(Debug, Clone)]
pub struct Route {
    /// Destination.
    pub destination: RouteDestination,
    /// Target.
    pub target: RouteTarget,
    /// `false` when AWS reports the route as `blackhole`.
    pub active: bool,
    /// Origin.
    pub origin: RouteOrigin,
}

/// A VPC route table.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// `rtb-…`
    pub id: String,
    /// Owning VPC.
    pub vpc_id: String,
    /// Account and region.
    pub location: Location,
    /// Whether this is the VPC's main table.
    pub is_main: bool,
    /// Subnets explicitly associated.
    pub subnet_ids: Vec<String>,
    /// Gateways (IGW/VGW) edge-associated: this is then a gateway route table.
    pub gateway_ids: Vec<String>,
    /// Routes.
    pub routes: Vec<Route>,
    /// VGWs propagating routes into this table.
    pub propagating_vgws: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An IP protocol number, or all protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `-1`: every protocol, every port.
    All,
    /// One IP protocol number.
    Number(u8),
}

impl Protocol {
    /// TCP (6).
    pub const TCP: u8 = 6;
    /// UDP (17).
    pub const UDP: u8 = 17;
    /// ICMP (1).
    pub const ICMP: u8 = 1;
    /// ICMPv6 (58).
    pub const ICMPV6: u8 = 58;
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(n) => f.write_str(&protocol_name(*n)),
        }
    }
}

/// A protocol number's usual name (`tcp`, `udp`, `icmp`, `icmpv6`) or the number.
pub fn protocol_name(n: u8) -> String {
    match n {
        Protocol::TCP => "tcp".into(),
        Protocol::UDP => "udp".into(),
        Protocol::ICMP => "icmp".into(),
        Protocol::ICMPV6 => "icmpv6".into(),
        n => format!("proto-{n}"),
    }
}

/// What a filter rule says about ports (or ICMP type and code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PortSpec {
    /// Every port (protocol `-1`, protocols without ports, or 0–65535).
    All,
    /// An inclusive destination-port range.
    Range(u16, u16),
    /// An ICMP type and code; `None` means every value.
    Icmp {
        /// ICMP type.
        kind: Option<u8>,
        /// ICMP code.
        code: Option<u8>,
    },
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::All => f.write_str("all ports"),
            PortSpec::Range(a, b) if a == b => write!(f, "port {a}"),
            PortSpec::Range(a, b) => write!(f, "ports {a}-{b}"),
            PortSpec::Icmp { kind: None, .. } => f.write_str("all types"),
            PortSpec::Icmp {
                kind: Some(t),
                code: None,
            } => write!(f, "type {t}"),
            PortSpec::Icmp {
                kind: Some(t),
                code: Some(c),
            } => write!(f, "type {t} code {c}"),
        }
    }
}

/// One NACL entry.
#[derive(Debug, Clone)]
pub struct NaclEntry {
    /// Rule number; 32767/32768 are the `*` rules.
    pub rule_number: u32,
    /// Outbound (`true`) or inbound.
    pub egress: bool,
    /// Allow or deny.
    pub allow: bool,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports or ICMP type/code.
    pub ports: PortSpec,
    /// The remote CIDR (source for inbound, destination for outbound).
    pub cidr: IpNet,
}

/// A network ACL.
#[derive(Debug, Clone, Default)]
pub struct NetworkAcl {
    /// `acl-…`
    pub id: String,
    /// Owning VPC.
    pub vpc_id: String,
    /// Account and region.
    pub location: Location,
    /// Whether this is the VPC's default NACL.
    pub is_default: bool,
    /// Associated subnets.
    pub subnet_ids: Vec<String>,
    /// Entries sorted by (egress, rule number), including the `*` rules.
    pub entries: Vec<NaclEntry>,
    /// Tags.
    pub tags: Tags,
}

/// The peer of a security-group rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SgPeer {
    /// An IPv4 or IPv6 CIDR.
    Cidr(IpNet),
    /// A prefix list `pl-…`.
    PrefixList(String),
    /// Another security group (or this one).
    Group {
        /// `sg-…`
        group_id: String,
        /// Owner account of the referenced group, when given.
        owner: Option<String>,
        /// VPC of the referenced group, when given (peered references).
        vpc_id: Option<String>,
        /// Peering connection carrying a cross-VPC reference, when given.
        peering_id: Option<String>,
        /// The rule's `PeeringStatus` says that peering connection is no longer active
        /// (`deleted`): a stale rule ([`Model::stale_peering`]).
        peering_inactive: bool,
    },
}

impl fmt::Display for SgPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SgPeer::Cidr(c) => write!(f, "{c}"),
            SgPeer::PrefixList(p) => f.write_str(p),
            SgPeer::Group { group_id, .. } => f.write_str(group_id),
        }
    }
}

/// One normalised security-group rule: one protocol/port spec and one peer.
#[derive(Debug, Clone)]
pub struct SgRule {
    /// `sgr-…` when known.
    pub id: Option<String>,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports or ICMP type/code.
    pub ports: PortSpec,
    /// Source (inbound) or destination (outbound).
    pub peer: SgPeer,
    /// Rule description.
    pub description: Option<String>,
}

impl fmt::Display for SgRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Protocol::All => write!(f, "all traffic {}", self.peer),
            p => write!(f, "{p} {} {}", self.ports, self.peer),
        }
    }
}

/// A security group.
#[derive(Debug, Clone, Default)]
pub struct SecurityGroup {
    /// `sg-…`
    pub id: String,
    /// Group name (`default` for the VPC's default group).
    pub name: String,
    /// Description.
    pub description: String,
    /// Owning VPC.
    pub vpc_id: String,
    /// Account and region.
    pub location: Location,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
    /// Tags.
    pub tags: Tags,
}

/// What kind of resource owns a network interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OwnerKind {
    /// An EC2 instance.
    Ec2Instance,
    /// An ELBv2/classic load balancer node.
    LoadBalancer,
    /// An RDS/Aurora database.
    Rds,
    /// A Lambda function's Hyperplane ENI.
    Lambda,
    /// An ECS `awsvpc` task.
    EcsTask,
    /// A NAT gateway.
    NatGateway,
    /// An interface VPC endpoint.
    VpcEndpoint,
    /// A Gateway Load Balancer endpoint.
    GwlbEndpoint,
    /// A transit gateway attachment.
    TransitGateway,
    /// An EFS mount target.
    Efs,
    /// An ElastiCache node.
    ElastiCache,
    /// An EKS control-plane or pod ENI.
    Eks,
    /// A Lattice resource gateway.
    ResourceGateway,
    /// Another AWS service's ENI.
    OtherService,
    /// An ENI not attached to anything.
    Unattached,
}

impl OwnerKind {
    /// Whether interfaces of this kind only forward what others send and open no connections
    /// of their own: NAT gateways (§4.5), interface and Gateway Load Balancer endpoints, and
    /// transit gateway attachments (§6.2).
    pub fn forwards_only(self) -> bool {
        self.forwarder().is_some()
    }

    /// What an interface that only forwards ([`OwnerKind::forwards_only`]) belongs to, as
    /// people call it; `None` for the other kinds.
    pub fn forwarder(self) -> Option<&'static str> {
        match self {
            OwnerKind::NatGateway => Some("NAT gateway"),
            OwnerKind::VpcEndpoint => Some("interface endpoint"),
            OwnerKind::GwlbEndpoint => Some("Gateway Load Balancer endpoint"),
            OwnerKind::TransitGateway => Some("transit gateway attachment"),
            _ => None,
        }
    }

    /// Whether interfaces of this kind receive connections addressed to them: not NAT gateways
    /// (they accept no inbound-initiated flows, §4.5) nor the interfaces that only carry
    /// traffic through ([`Self::hosts_nothing`]).
    pub fn accepts_connections(self) -> bool {
        self != OwnerKind::NatGateway && !self.hosts_nothing()
    }

    /// Interfaces that carry traffic through and host nothing: transit gateway attachments'
    /// (§6.2) and Gateway Load Balancer endpoints' (a route target that hands what it is sent to
    /// its Gateway Load Balancer). What AWS does with traffic addressed to such an interface
    /// itself is not modelled: a query naming one answers `unknown`, the report leaves them
    /// out and says so, and a VPC, subnet, group, tag or CIDR as a destination is its other
    /// members.
    pub fn hosts_nothing(self) -> bool {
        matches!(self, OwnerKind::TransitGateway | OwnerKind::GwlbEndpoint)
    }

    /// The kind's short name, as selectors and output use it.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Ec2Instance => "ec2",
            OwnerKind::LoadBalancer => "elb",
            OwnerKind::Rds => "rds",
            OwnerKind::Lambda => "lambda",
            OwnerKind::EcsTask => "ecs",
            OwnerKind::NatGateway => "nat",
            OwnerKind::VpcEndpoint => "vpce",
            OwnerKind::GwlbEndpoint => "gwlbe",
            OwnerKind::TransitGateway => "tgw-attachment",
            OwnerKind::Efs => "efs",
            OwnerKind::ElastiCache => "elasticache",
            OwnerKind::Eks => "eks",
            OwnerKind::ResourceGateway => "resource-gateway",
            OwnerKind::OtherService => "service",
            OwnerKind::Unattached => "unattached",
        }
    }
}

impl fmt::Display for OwnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resource an ENI belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EniOwner {
    /// Kind.
    pub kind: OwnerKind,
    /// The owner's id (`i-…`, LB ARN, `nat-…`, `vpce-…`, DB identifier), when known.
    pub id: Option<String>,
    /// A human name for the owner.
    pub name: String,
}

/// One private IPv4 address of an ENI and its public mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateIp {
    /// The private address.
    pub address: Ipv4Addr,
    /// Whether it is the ENI's primary address.
    pub primary: bool,
    /// The public IPv4 mapped 1:1 to it (auto-assigned or Elastic IP).
    pub public: Option<Ipv4Addr>,
    /// Whether the public address is an Elastic IP.
    pub elastic: bool,
}

/// A network interface.
#[derive(Debug, Clone)]
pub struct NetworkInterface {
    /// `eni-…`
    pub id: String,
    /// Subnet.
    pub subnet_id: String,
    /// VPC.
    pub vpc_id: String,
    /// Account and region.
    pub location: Location,
    /// Availability zone.
    pub az: Option<String>,
    /// Private IPv4 addresses (primary first).
    pub private_ips: Vec<PrivateIp>,
    /// IPv6 addresses.
    pub ipv6: Vec<Ipv6Addr>,
    /// Delegated prefixes (IPv4 /28s and IPv6 /80s the interface holds for containers: EC2
    /// User Guide, "Prefix delegation for Amazon EC2 network interfaces").
    pub prefixes: Vec<IpNet>,
    /// Security groups.
    pub groups: Vec<String>,
    /// Source/destination check (off for appliances and NAT gateways).
    pub source_dest_check: bool,
    /// The owning resource.
    pub owner: EniOwner,
    /// Device index when attached to an instance.
    pub device_index: Option<u32>,
    /// The AWS `InterfaceType`.
    pub interface_type: String,
    /// The AWS `Description`.
    pub description: String,
    /// Tags.
    pub tags: Tags,
}

impl NetworkInterface {
    /// The primary private IPv4 address.
    pub fn primary_ip(&self) -> Option<Ipv4Addr> {
        self.private_ips
            .iter()
            .find(|p| p.primary)
            .or(self.private_ips.first())
            .map(|p| p.address)
    }

    /// Every public IPv4 address mapped to this ENI.
    pub fn public_ips(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.private_ips.iter().filter_map(|p| p.public)
    }

    /// Every private address (IPv4 and IPv6) of this ENI.
    pub fn private_addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.private_ips
            .iter()
            .map(|p| IpAddr::V4(p.address))
            .chain(self.ipv6.iter().map(|a| IpAddr::V6(*a)))
    }

    /// A display name: the owner's name, then the ENI id.
    pub fn display_name(&self) -> String {
        if self.owner.name.is_empty() {
            self.id.clone()
        } else {
            self.owner.name.clone()
        }
    }
}

/// An EC2 instance.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// `i-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Subnet of the primary ENI.
    pub subnet_id: Option<String>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// ENIs, primary first.
    pub eni_ids: Vec<String>,
    /// The instance type (`m5.large`), when known.
    pub instance_type: Option<String>,
    /// Its state (`running`, `stopped`, ...), when known. Terminated and shutting-down
    /// instances are not in the model.
    pub state: Option<String>,
    /// Tags.
    pub tags: Tags,
}

impl Instance {
    /// Whether the instance is not running now (`pending`, `stopping`, `stopped`): its
    /// configuration is analysed as it will be when it runs.
    pub fn not_running(&self) -> Option<&str> {
        self.state
            .as_deref()
            .filter(|s| matches!(*s, "pending" | "stopping" | "stopped"))
    }

    /// Whether the instance is of a family that does not support NLB client IP preservation
    /// (§5.3: C1, CC1, CC2, CG1, CG2, CR1, G1, G2, HI1, HS1, M1, M2, M3, T1). `false` when the
    /// type is not known.
    pub fn lacks_client_ip_preservation(&self) -> bool {
        const OLD: [&str; 14] = [
            "c1", "cc1", "cc2", "cg1", "cg2", "cr1", "g1", "g2", "hi1", "hs1", "m1", "m2", "m3",
            "t1",
        ];
        self.instance_type.as_deref().is_some_and(|t| {
            let family = t.split('.').next().unwrap_or_default().to_ascii_lowercase();
            OLD.contains(&family.as_str())
        })
    }
}

/// An internet gateway.
#[derive(Debug, Clone, Default)]
pub struct InternetGateway {
    /// `igw-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// VPCs it is attached to (state `available`/`attached`).
    pub vpc_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An egress-only internet gateway (IPv6, outbound-initiated only).
#[derive(Debug, Clone, Default)]
pub struct EgressOnlyInternetGateway {
    /// `eigw-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Attached VPCs.
    pub vpc_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Debug, Clone, Default)]
pub struct NatGateway {
    /// `nat-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Subnet it sits in.
    pub subnet_id: String,
    /// VPC.
    pub vpc_id: String,
    /// `true` for a public NAT gateway (has an EIP), `false` for a private one.
    pub public: bool,
    /// Its ENIs.
    pub eni_ids: Vec<String>,
    /// Private addresses, the primary first.
    pub private_ips: Vec<Ipv4Addr>,
    /// Elastic IPs, the primary's first.
    pub public_ips: Vec<Ipv4Addr>,
    /// The (private address, Elastic IP) pairs listed together (`NatGatewayAddresses`), the
    /// primary first: the gateway sends each connection from one of its addresses, and an
    /// Elastic IP stands for the private address it is paired with (§4.5).
    pub pairs: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// `Some(state)` while it is `pending` ("not ready to process traffic") or `deleting`
    /// ("may still be processing traffic", EC2 API reference, `NatGateway`): whether it
    /// carries a packet then is not known.
    pub unsettled: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A virtual private gateway (VPN / Direct Connect to on-premises).
#[derive(Debug, Clone, Default)]
pub struct VpnGateway {
    /// `vgw-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Attached VPCs.
    pub vpc_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// A site-to-site VPN connection.
#[derive(Debug, Clone, Default)]
pub struct VpnConnection {
    /// `vpn-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// The VGW it terminates on.
    pub vpn_gateway_id: Option<String>,
    /// The TGW it terminates on.
    pub transit_gateway_id: Option<String>,
    /// Whether only static routes are used (no BGP).
    pub static_routes_only: bool,
    /// Static routes to the on-premises side.
    pub static_routes: Vec<IpNet>,
    /// The on-premises network the tunnels carry (`LocalIpv4NetworkCidr`, or
    /// `LocalIpv6NetworkCidr` for IPv6 tunnels; all of the tunnels' family by default), and the
    /// AWS-side ones (`Remote…NetworkCidr`). The tunnels carry one address family
    /// (`TunnelInsideIpVersion`), and on a virtual private gateway IPv4 only (Site-to-Site VPN
    /// User Guide).
    pub local_net: IpNet,
    /// See `local_net`.
    pub remote_net: IpNet,
    /// Whether every tunnel was `DOWN` when the connection was described (`VgwTelemetry`;
    /// `false` when the snapshot does not say). The analysis is of the configuration, which
    /// applies once a tunnel is up; answers through such a connection say so.
    pub tunnels_down: bool,
}

/// A transit gateway.
#[derive(Debug, Clone, Default)]
pub struct TransitGateway {
    /// `tgw-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Whether security-group referencing is enabled on the TGW.
    pub sg_referencing: bool,
    /// Tags.
    pub tags: Tags,
}

/// What a transit gateway attachment connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TgwAttachmentKind {
    /// A VPC.
    Vpc,
    /// A site-to-site VPN.
    Vpn,
    /// A Direct Connect gateway.
    DirectConnect,
    /// A peering with another TGW.
    Peering,
    /// A Connect attachment.
    Connect,
    /// Anything else.
    Other,
}

/// A transit gateway attachment.
#[derive(Debug, Clone)]
pub struct TgwAttachment {
    /// `tgw-attach-…`
    pub id: String,
    /// The TGW.
    pub tgw_id: String,
    /// Account and region.
    pub location: Location,
    /// Kind.
    pub kind: TgwAttachmentKind,
    /// The attached resource (`vpc-…`, `vpn-…`, ...).
    pub resource_id: String,
    /// Attachment subnets (VPC attachments), one per AZ.
    pub subnet_ids: Vec<String>,
    /// The TGW route table this attachment is associated with.
    pub route_table_id: Option<String>,
    /// Whether SG referencing is enabled on this attachment.
    pub sg_referencing: bool,
    /// Whether appliance mode is enabled on this VPC attachment (`ApplianceModeSupport`): the
    /// transit gateway then picks the attachment subnet by a per-flow hash instead of keeping
    /// the Availability Zone the traffic came in by.
    pub appliance_mode: bool,
    /// A VPC attachment's `Ipv6Support` (`None` when the snapshot does not say). When it is
    /// disabled (AWS's default), the VPC's IPv6 CIDRs do not propagate to the transit
    /// gateway's route tables; the setting filters no traffic (EC2 API reference,
    /// `CreateTransitGatewayVpcAttachmentRequestOptions`).
    pub ipv6_support: Option<bool>,
    /// The attachment's state when it is still being set up (`pending`, `initiating`): whether
    /// it carries traffic yet is not known. `None` once `available` (or `modifying`, which keeps
    /// carrying it).
    pub unsettled: Option<String>,
    /// What the snapshot lacks to tell how the gateway uses this attachment, when it lacks it:
    /// its route table association (only `describe-transit-gateway-attachments` prints it) or
    /// a VPC attachment's subnets (only `describe-transit-gateway-vpc-attachments` lists them,
    /// and no interface of the attachment shows them). Traffic through it is `unknown`.
    pub unknown: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// One route of a TGW route table.
#[derive(Debug, Clone)]
pub struct TgwRoute {
    /// Destination.
    pub destination: RouteDestination,
    /// Attachments it forwards to (empty for blackholes).
    pub attachment_ids: Vec<String>,
    /// Blackhole route.
    pub blackhole: bool,
    /// `State=pending`: the route is still being set up, so whether it carries traffic yet
    /// is not known (§6.2).
    pub pending: bool,
    /// Propagated (as opposed to static).
    pub propagated: bool,
}

/// A TGW route table.
#[derive(Debug, Clone, Default)]
pub struct TgwRouteTable {
    /// `tgw-rtb-…`
    pub id: String,
    /// The TGW.
    pub tgw_id: String,
    /// Account and region.
    pub location: Location,
    /// Routes (static and propagated).
    pub routes: Vec<TgwRoute>,
    /// Whether the snapshot holds the table's routes (`search-transit-gateway-routes`): when
    /// it does not, `routes` is empty and a packet no route matches is undecided, not dropped.
    pub routes_known: bool,
    /// Attachments propagating into this table.
    pub propagations: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// A VPC peering connection (only `active` ones are kept).
#[derive(Debug, Clone, Default)]
pub struct Peering {
    /// `pcx-…`
    pub id: String,
    /// Account and region of the requester.
    pub location: Location,
    /// Requester VPC.
    pub requester_vpc: String,
    /// Accepter VPC.
    pub accepter_vpc: String,
    /// Requester region, when given.
    pub requester_region: Option<String>,
    /// Accepter region, when given.
    pub accepter_region: Option<String>,
    /// Requester CIDRs as the peering reports them.
    pub requester_cidrs: Vec<IpNet>,
    /// Accepter CIDRs as the peering reports them.
    pub accepter_cidrs: Vec<IpNet>,
    /// Tags.
    pub tags: Tags,
}

impl Peering {
    /// The VPC on the other side of `vpc`, if `vpc` is one end.
    pub fn other_side(&self, vpc: &str) -> Option<&str> {
        if self.requester_vpc == vpc {
            Some(&self.accepter_vpc)
        } else if self.accepter_vpc == vpc {
            Some(&self.requester_vpc)
        } else {
            None
        }
    }

    /// Whether both ends are in the same region (as far as the snapshot says).
    pub fn same_region(&self) -> bool {
        match (&self.requester_region, &self.accepter_region) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// A prefix list with its entries.
#[derive(Debug, Clone, Default)]
pub struct PrefixList {
    /// `pl-…`
    pub id: String,
    /// Name (`com.amazonaws.eu-west-1.s3` for AWS-managed service lists).
    pub name: String,
    /// Account and region.
    pub location: Location,
    /// Entries.
    pub cidrs: Vec<IpNet>,
    /// Whether entries are known (a managed list without its entries file is not).
    pub entries_known: bool,
    /// The list's address family (`AddressFamily`: `Some(true)` IPv4, `Some(false)` IPv6),
    /// when the snapshot says: entries not in the snapshot are of that family only.
    pub ipv4: Option<bool>,
    /// Entries a query assumed for a list whose entries are not in the snapshot (to see
    /// whether they would change the answer), not the snapshot's own: lists holding the same
    /// block this way are not taken as ambiguous routes.
    pub assumed: bool,
}

/// The type of a VPC endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointKind {
    /// Gateway endpoint (S3/DynamoDB), a route target.
    Gateway,
    /// Interface endpoint (PrivateLink ENIs).
    Interface,
    /// Gateway Load Balancer endpoint.
    GatewayLoadBalancer,
    /// Resource endpoint (a VPC Lattice resource configuration reached through PrivateLink).
    Resource,
    /// Service-network endpoint (a VPC Lattice service network).
    ServiceNetwork,
    /// Another type.
    Other,
}

/// A VPC endpoint.
#[derive(Debug, Clone)]
pub struct VpcEndpoint {
    /// `vpce-…`
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Kind.
    pub kind: EndpointKind,
    /// VPC.
    pub vpc_id: String,
    /// Service name.
    pub service_name: String,
    /// Route tables (gateway endpoints).
    pub route_table_ids: Vec<String>,
    /// Subnets (interface endpoints).
    pub subnet_ids: Vec<String>,
    /// ENIs (interface endpoints).
    pub eni_ids: Vec<String>,
    /// Security groups.
    pub groups: Vec<String>,
    /// Tags.
    pub tags: Tags,
    /// The state when the endpoint is not yet (or no longer surely) in use: `pending`,
    /// `pendingAcceptance` (the service owner has not accepted it) or `deleting`. What it
    /// would carry is `unknown`.
    pub unsettled: Option<String>,
}

/// The type of a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LbKind {
    /// Application Load Balancer.
    Application,
    /// Network Load Balancer.
    Network,
    /// Gateway Load Balancer.
    Gateway,
    /// Classic Load Balancer (a proxy, as an ALB; its listeners forward to its instances).
    Classic,
}

impl fmt::Display for LbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LbKind::Application => "application",
            LbKind::Network => "network",
            LbKind::Gateway => "gateway",
            LbKind::Classic => "classic",
        })
    }
}

/// An ELBv2 load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// DNS name (`DNSName`), when the snapshot has it: a query may name the load balancer by it.
    pub dns_name: Option<String>,
    /// Account and region.
    pub location: Location,
    /// Kind.
    pub kind: LbKind,
    /// `internet-facing` (true) or `internal`.
    pub internet_facing: bool,
    /// VPC.
    pub vpc_id: String,
    /// Enabled subnets (one node each).
    pub subnet_ids: Vec<String>,
    /// Security groups (empty for NLBs created without them).
    pub security_groups: Vec<String>,
    /// Whether it serves IPv6 (`dualstack`).
    pub dualstack: bool,
    /// `dualstack-without-public-ipv4`: internet-facing over IPv6 only, its nodes' IPv4
    /// addresses private (ELB API reference, `IpAddressType`).
    pub without_public_ipv4: bool,
    /// Attributes (`load_balancing.cross_zone.enabled`, ...).
    pub attributes: BTreeMap<String, String>,
    /// A Network Load Balancer's own addresses by enabled subnet
    /// (`AvailabilityZones[].LoadBalancerAddresses`: an Elastic IP, a chosen private IPv4
    /// address, an IPv6 address), which place its node there when its interface is not in
    /// the snapshot.
    pub node_addresses: BTreeMap<String, LbNodeAddresses>,
    /// `State.Code` while the load balancer is still being set up (`provisioning`): whether it
    /// takes traffic yet is not known. `None` once `active` (or `active_impaired`, which
    /// serves).
    pub unsettled: Option<String>,
}

/// The addresses AWS lists for a load balancer's node in one subnet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LbNodeAddresses {
    /// `IpAddress`: the node's public IPv4 address (an Elastic IP, internet-facing only).
    pub public_v4: Option<std::net::Ipv4Addr>,
    /// `PrivateIPv4Address`.
    pub private_v4: Option<std::net::Ipv4Addr>,
    /// `IPv6Address`.
    pub ipv6: Option<std::net::Ipv6Addr>,
}

impl LoadBalancer {
    /// The `app|net|gwy/<name>/<id>` suffix of the ARN that its ENIs' descriptions carry.
    pub fn arn_suffix(&self) -> Option<&str> {
        self.arn.split_once(":loadbalancer/").map(|(_, s)| s)
    }

    /// Whether cross-zone load balancing is on at the load balancer's level (ALB: always;
    /// NLB/GWLB: attribute, off by default; CLB: attribute, on when the snapshot does not say,
    /// as the console creates it — the API's default is off, so a CLB made by the API without
    /// it may reach fewer targets than reported).
    pub fn cross_zone(&self) -> bool {
        match self.kind {
            LbKind::Application => true,
            LbKind::Classic => self
                .attributes
                .get("load_balancing.cross_zone.enabled")
                .is_none_or(|v| v == "true"),
            _ => self
                .attributes
                .get("load_balancing.cross_zone.enabled")
                .is_some_and(|v| v == "true"),
        }
    }

    /// Whether this load balancer's nodes forward to `tg`'s targets in other zones (§5.1, ELB
    /// docs "Cross-zone load balancing for target groups"): the group's
    /// `load_balancing.cross_zone.enabled` decides when it is `true` or `false` (an ALB's
    /// group may turn it off, an NLB's either way); otherwise
    /// (`use_load_balancer_configuration`, the default) the load balancer's setting does.
    pub fn cross_zone_for(&self, tg: &TargetGroup) -> bool {
        match tg
            .attributes
            .get("load_balancing.cross_zone.enabled")
            .map(String::as_str)
        {
            Some("true") => true,
            Some("false") => false,
            _ => self.cross_zone(),
        }
    }
}

/// What a listener does with a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerAction {
    /// Forward to target groups.
    Forward(Vec<String>),
    /// Redirect (HTTP 301/302); no target is reached.
    Redirect,
    /// Fixed response; no target is reached.
    FixedResponse,
    /// Authentication or other action types (not forwarding).
    Other(String),
}

impl ListenerAction {
    /// Whether the action forwards to target group `tg`.
    pub fn forwards_to(&self, tg: &str) -> bool {
        matches!(self, ListenerAction::Forward(tgs) if tgs.iter().any(|t| t == tg))
    }
}

impl ListenerRule {
    /// Whether one of the rule's actions forwards to target group `tg`.
    pub fn forwards_to(&self, tg: &str) -> bool {
        self.actions.iter().any(|a| a.forwards_to(tg))
    }
}

/// One rule of a listener (`describe-rules`), kept beside the listener's default actions.
///
/// Its conditions (`host-header`, `path-pattern`, `http-header`, `query-string`,
/// `http-request-method`, `source-ip`) are not evaluated: the model keeps only which fields they
/// test, and any rule may forward (semantics reference §5.2, "a target is reachable via a
/// listener if any rule can forward to its target group"). For HTTP fields this loses nothing
/// at the network level (a client chooses its host, path, headers and method). A `source-ip`
/// condition is a known over-approximation: a rule that AWS applies only to some client
/// addresses is taken to forward for every client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerRule {
    /// ARN.
    pub arn: String,
    /// Priority (evaluated lowest first); `None` for the default rule.
    pub priority: Option<u32>,
    /// Whether this is the listener's default rule, whose actions repeat the default actions.
    pub is_default: bool,
    /// The fields its conditions test (`path-pattern`, `source-ip`, ...), in the rule's order.
    pub conditions: Vec<String>,
    /// Actions.
    pub actions: Vec<ListenerAction>,
}

/// A load-balancer listener.
#[derive(Debug, Clone)]
pub struct Listener {
    /// ARN.
    pub arn: String,
    /// Load balancer ARN.
    pub lb_arn: String,
    /// Protocol (`HTTP`, `HTTPS`, `TCP`, `UDP`, `TLS`, `TCP_UDP`, `GENEVE`).
    pub protocol: String,
    /// Port (GWLB listeners have none).
    pub port: Option<u16>,
    /// Default actions.
    pub actions: Vec<ListenerAction>,
    /// Rules (`describe-rules`), by priority, the default rule (if the snapshot lists it) last;
    /// empty when the snapshot has none for this listener.
    pub rules: Vec<ListenerRule>,
}

/// The IP protocols a load-balancer listener or target group protocol carries: QUIC runs
/// over UDP, and an NLB's `TCP_QUIC` takes TCP and QUIC on one port (ELB API reference,
/// `Listener` `Protocol`); GENEVE (GWLB) is UDP; HTTP, HTTPS, TLS and TCP are TCP.
pub fn lb_ip_protocols(protocol: &str) -> Vec<u8> {
    match protocol.to_ascii_uppercase().as_str() {
        "UDP" | "QUIC" | "GENEVE" => vec![Protocol::UDP],
        "TCP_UDP" | "TCP_QUIC" => vec![Protocol::TCP, Protocol::UDP],
        _ => vec![Protocol::TCP],
    }
}

impl Listener {
    /// The IP protocols the listener accepts ([`lb_ip_protocols`]).
    pub fn ip_protocols(&self) -> Vec<u8> {
        lb_ip_protocols(&self.protocol)
    }

    /// Target groups that the default actions or any rule forward to, each once: the default
    /// actions' first, then the rules' by priority. Rule conditions are not evaluated (see
    /// [`ListenerRule`]): a group that any rule names is forwarded to.
    pub fn target_groups(&self) -> impl Iterator<Item = &str> {
        let mut out: Vec<&str> = Vec::new();
        let actions = self
            .actions
            .iter()
            .chain(self.rules.iter().flat_map(|r| r.actions.iter()));
        for a in actions {
            if let ListenerAction::Forward(tgs) = a {
                for tg in tgs {
                    if !out.contains(&tg.as_str()) {
                        out.push(tg);
                    }
                }
            }
        }
        out.into_iter()
    }

    /// Whether the default actions (or the default rule) forward to `tg`.
    pub fn default_forwards_to(&self, tg: &str) -> bool {
        self.actions.iter().any(|a| a.forwards_to(tg))
            || self.rules.iter().any(|r| r.is_default && r.forwards_to(tg))
    }

    /// The rules other than the default one that forward to `tg`, by priority.
    pub fn rules_forwarding_to<'a>(
        &'a self,
        tg: &'a str,
    ) -> impl Iterator<Item = &'a ListenerRule> {
        self.rules
            .iter()
            .filter(move |r| !r.is_default && r.forwards_to(tg))
    }
}

/// The type of a target group's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetType {
    /// Instances (by id; traffic to the primary ENI's primary IP).
    Instance,
    /// IP addresses.
    Ip,
    /// Lambda functions.
    Lambda,
    /// An ALB behind an NLB.
    Alb,
}

/// One registered target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Instance id, IP, Lambda ARN or ALB ARN.
    pub id: String,
    /// Port (defaults to the target group's).
    pub port: Option<u16>,
    /// Health state (`healthy`, `unhealthy`, `unused`, `draining`, `initial`, `unavailable`), when known.
    pub health: Option<String>,
    /// The zone it was registered in (`TargetDescription.AvailabilityZone`): for an `ip`
    /// target outside the target group's VPC, the zone whose load-balancer nodes send it
    /// traffic, or `all` (every enabled zone's); AWS fills in the subnet's zone for targets
    /// inside the VPC. `None` when not given.
    pub availability_zone: Option<String>,
}

/// A target group.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Account and region.
    pub location: Location,
    /// Protocol.
    pub protocol: String,
    /// Default port.
    pub port: Option<u16>,
    /// Target type.
    pub target_type: TargetType,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Health-check port (`traffic-port` or a number).
    pub health_check_port: Option<String>,
    /// `IpAddressType` `ipv6`: the load balancer reaches the targets by their IPv6 addresses
    /// (an instance target by its primary interface's first IPv6 address), not IPv4 (ELB
    /// API reference, `TargetGroup`).
    pub ipv6: bool,
    /// Load balancers using it.
    pub lb_arns: Vec<String>,
    /// Registered targets.
    pub targets: Vec<Target>,
    /// Attributes (`preserve_client_ip.enabled`, ...).
    pub attributes: BTreeMap<String, String>,
}

impl TargetGroup {
    /// Whether an NLB in front of this group preserves the client's IP (§5.3): the
    /// `preserve_client_ip.enabled` attribute, else on for instance targets and for UDP,
    /// TCP_UDP, QUIC and TCP_QUIC, off for ip targets over TCP or TLS.
    pub fn preserves_client_ip(&self) -> bool {
        match self.attributes.get("preserve_client_ip.enabled") {
            Some(v) => v == "true",
            None => {
                self.target_type == TargetType::Instance
                    || matches!(
                        self.protocol.to_ascii_uppercase().as_str(),
                        "UDP" | "TCP_UDP" | "QUIC" | "TCP_QUIC"
                    )
            }
        }
    }
}

/// An RDS database instance.
#[derive(Debug, Clone, Default)]
pub struct DbInstance {
    /// DB identifier (`orders-db`).
    pub id: String,
    /// Account and region.
    pub location: Location,
    /// Engine.
    pub engine: String,
    /// VPC.
    pub vpc_id: Option<String>,
    /// DB subnet group subnets.
    pub subnet_ids: Vec<String>,
    /// VPC security groups.
    pub groups: Vec<String>,
    /// Publicly accessible flag.
    pub publicly_accessible: bool,
    /// Endpoint DNS name.
    pub endpoint: Option<String>,
    /// Port.
    pub port: Option<u16>,
}

/// How severe a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something skipped on purpose (non-live resources, kinds not modelled).
    Note,
    /// Something the user should look at (unknown keys, dangling references).
    Warning,
}

/// A warning or note raised while loading or validating.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Level.
    pub level: Level,
    /// The file it concerns, when any (as a display string).
    pub file: Option<String>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The kinds of resource a snapshot can hold; used for inventory counts and
/// to know which kinds were absent (so that AWS defaults are assumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// VPCs.
    Vpc,
    /// Subnets.
    Subnet,
    /// Route tables.
    RouteTable,
    /// Network ACLs.
    NetworkAcl,
    /// Security groups.
    SecurityGroup,
    /// Network interfaces.
    NetworkInterface,
    /// Instances.
    Instance,
    /// Internet gateways.
    InternetGateway,
    /// Egress-only internet gateways.
    EgressOnlyInternetGateway,
    /// NAT gateways.
    NatGateway,
    /// VPN gateways.
    VpnGateway,
    /// VPN connections.
    VpnConnection,
    /// Transit gateways.
    TransitGateway,
    /// TGW attachments.
    TgwAttachment,
    /// TGW route tables.
    TgwRouteTable,
    /// Peering connections.
    Peering,
    /// Prefix lists.
    PrefixList,
    /// VPC endpoints.
    VpcEndpoint,
    /// Load balancers.
    LoadBalancer,
    /// Listeners.
    Listener,
    /// Target groups.
    TargetGroup,
    /// RDS instances.
    DbInstance,
}

impl ResourceKind {
    /// Every kind, in display order.
    pub const ALL: [ResourceKind; 22] = [
        ResourceKind::Vpc,
        ResourceKind::Subnet,
        ResourceKind::RouteTable,
        ResourceKind::NetworkAcl,
        ResourceKind::SecurityGroup,
        ResourceKind::NetworkInterface,
        ResourceKind::Instance,
        ResourceKind::InternetGateway,
        ResourceKind::EgressOnlyInternetGateway,
        ResourceKind::NatGateway,
        ResourceKind::VpnGateway,
        ResourceKind::VpnConnection,
        ResourceKind::TransitGateway,
        ResourceKind::TgwAttachment,
        ResourceKind::TgwRouteTable,
        ResourceKind::Peering,
        ResourceKind::PrefixList,
        ResourceKind::VpcEndpoint,
        ResourceKind::LoadBalancer,
        ResourceKind::Listener,
        ResourceKind::TargetGroup,
        ResourceKind::DbInstance,
    ];

    /// A stable snake-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Vpc => "vpcs",
            ResourceKind::Subnet => "subnets",
            ResourceKind::RouteTable => "route_tables",
            ResourceKind::NetworkAcl => "network_acls",
            ResourceKind::SecurityGroup => "security_groups",
            ResourceKind::NetworkInterface => "network_interfaces",
            ResourceKind::Instance => "instances",
            ResourceKind::InternetGateway => "internet_gateways",
            ResourceKind::EgressOnlyInternetGateway => "egress_only_internet_gateways",
            ResourceKind::NatGateway => "nat_gateways",
            ResourceKind::VpnGateway => "vpn_gateways",
            ResourceKind::VpnConnection => "vpn_connections",
            ResourceKind::TransitGateway => "transit_gateways",
            ResourceKind::TgwAttachment => "transit_gateway_attachments",
            ResourceKind::TgwRouteTable => "transit_gateway_route_tables",
            ResourceKind::Peering => "vpc_peering_connections",
            ResourceKind::PrefixList => "prefix_lists",
            ResourceKind::VpcEndpoint => "vpc_endpoints",
            ResourceKind::LoadBalancer => "load_balancers",
            ResourceKind::Listener => "listeners",
            ResourceKind::TargetGroup => "target_groups",
            ResourceKind::DbInstance => "db_instances",
        }
    }
}

/// The whole network model of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// VPCs by id.
    pub vpcs: BTreeMap<String, Vpc>,
    /// Subnets by id.
    pub subnets: BTreeMap<String, Subnet>,
    /// Route tables by id.
    pub route_tables: BTreeMap<String, RouteTable>,
    /// NACLs by id.
    pub network_acls: BTreeMap<String, NetworkAcl>,
    /// Security groups by id.
    pub security_groups: BTreeMap<String, SecurityGroup>,
    /// ENIs by id.
    pub network_interfaces: BTreeMap<String, NetworkInterface>,
    /// Instances by id.
    pub instances: BTreeMap<String, Instance>,
    /// IGWs by id.
    pub internet_gateways: BTreeMap<String, InternetGateway>,
    /// Egress-only IGWs by id.
    pub egress_only_internet_gateways: BTreeMap<String, EgressOnlyInternetGateway>,
    /// NAT gateways by id.
    pub nat_gateways: BTreeMap<String, NatGateway>,
    /// VGWs by id.
    pub vpn_gateways: BTreeMap<String, VpnGateway>,
    /// VPN connections by id.
    pub vpn_connections: BTreeMap<String, VpnConnection>,
    /// TGWs by id.
    pub transit_gateways: BTreeMap<String, TransitGateway>,
    /// TGW attachments keyed by `<tgw id>/<attachment id>`: a TGW peering attachment has one
    /// id shared by both transit gateways, with a different route-table association on each.
    pub tgw_attachments: BTreeMap<String, TgwAttachment>,
    /// TGW route tables by id.
    pub tgw_route_tables: BTreeMap<String, TgwRouteTable>,
    /// Active peering connections by id.
    pub peerings: BTreeMap<String, Peering>,
    /// Prefix lists by id.
    pub prefix_lists: BTreeMap<String, PrefixList>,
    /// VPC endpoints by id.
    pub vpc_endpoints: BTreeMap<String, VpcEndpoint>,
    /// VPC endpoints that carry nothing (`rejected`, `failed`, `expired`, `deleted`), left out
    /// of [`Self::vpc_endpoints`]: id → state. Their interfaces, if the snapshot still lists
    /// them, take no traffic.
    pub unavailable_endpoints: BTreeMap<String, String>,
    /// Transit gateway attachments the snapshot lists in a state that carries nothing
    /// (`deleting`, `deleted`, `failed`, `rejected`, awaiting acceptance …), by id, with that
    /// state: skipped, and named as such where a route or a packet's way meets them.
    pub dead_tgw_attachments: BTreeMap<String, String>,
    /// NAT gateways the snapshot lists as `failed` or `deleted`, by id, with that state:
    /// skipped, and named as such where a route meets them.
    pub dead_nat_gateways: BTreeMap<String, String>,
    /// Load balancers by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Listeners by ARN.
    pub listeners: BTreeMap<String, Listener>,
    /// Target groups by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// RDS instances by identifier.
    pub db_instances: BTreeMap<String, DbInstance>,
    /// Elastic IPs associated with something the snapshot does not describe (an interface it
    /// lacks: another account's, a load balancer's, a partial collection), with that
    /// something's id: where they lead is not known.
    pub public_ips_elsewhere: BTreeMap<Ipv4Addr, String>,
    /// VPC Block Public Access: the mode of each account and region the snapshot gives
    /// (`describe-vpc-block-public-access-options`; none given: `off`).
    pub block_public_access: Vec<(Location, BpaMode)>,
    /// VPC Block Public Access exclusions in force, by VPC or subnet id.
    pub bpa_exclusions: BTreeMap<String, BpaExclusion>,
    /// VPC Block Public Access exclusions that are changing (`create-in-progress`,
    /// `delete-in-progress`, ...), by VPC or subnet id: the exclusion's modes that may be in
    /// force (`None`: no exclusion), and its id and state for messages.
    pub bpa_exclusions_unsettled: BTreeMap<String, (Vec<Option<BpaExclusion>>, String)>,
    /// Whether the snapshot has `describe-vpc-block-public-access-exclusions` (even an empty
    /// list): without it, whether an exclusion exempts a subnet is not known.
    pub bpa_exclusions_collected: bool,
    /// Accounts and regions whose VPC Block Public Access mode is being changed
    /// (`update-in-progress`; each also has its new mode in `block_public_access`): the old
    /// mode or the new may be in force.
    pub bpa_updating: Vec<Location>,
    /// Kinds for which the snapshot held at least one file (even an empty list).
    pub present_kinds: BTreeSet<ResourceKind>,
    /// Whether the snapshot says it is partial (an interrupted or failed collection).
    pub partial: bool,
}

/// A region's VPC Block Public Access mode (EC2 API reference, `BlockPublicAccessStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BpaMode {
    /// Not enabled.
    Off,
    /// `block-bidirectional`: no traffic to or from internet gateways and egress-only
    /// internet gateways, but for excluded VPCs and subnets.
    Bidirectional,
    /// `block-ingress`: no internet traffic to the VPCs, but for excluded VPCs and subnets;
    /// traffic to and from NAT gateways and egress-only internet gateways passes (they only
    /// let connections be opened outwards).
    Ingress,
}

impl BpaMode {
    /// The mode as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BpaMode::Off => "off",
            BpaMode::Bidirectional => "block-bidirectional",
            BpaMode::Ingress => "block-ingress",
        }
    }
}

/// What VPC Block Public Access does to traffic crossing an internet gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BpaEffect {
    /// Nothing: the traffic passes.
    Pass,
    /// It stops the traffic, for this reason.
    Block(String),
    /// Whether it stops the traffic is not known (a mode or an exclusion being changed, the
    /// exclusions not collected), for this reason.
    Unsettled(String),
}

/// A VPC Block Public Access exclusion's mode (EC2 API reference,
/// `VpcBlockPublicAccessExclusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BpaExclusion {
    /// `allow-bidirectional`: all internet traffic to and from the VPC or subnet.
    AllowBidirectional,
    /// `allow-egress`: outbound internet traffic only (applies under `block-bidirectional`).
    AllowEgress,
}

impl BpaExclusion {
    /// The mode as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BpaExclusion::AllowBidirectional => "allow-bidirectional",
            BpaExclusion::AllowEgress => "allow-egress",
        }
    }
}

impl Model {
    /// The peering connection a rule's group reference was made over when that connection is
    /// no longer active: the rule's `PeeringStatus` says so, or peering connections were
    /// collected and it is not among the active ones. Such a rule is stale (EC2
    /// `DescribeStaleSecurityGroups`): whether AWS lets it match again when another connection
    /// joins the two VPCs is not documented, so queries answer `unknown` for what only it would
    /// allow and the report counts it as matching nothing.
    pub fn stale_peering<'a>(&self, peer: &'a SgPeer) -> Option<&'a str> {
        let SgPeer::Group {
            peering_id: Some(pcx),
            peering_inactive,
            ..
        } = peer
        else {
            return None;
        };
        (*peering_inactive
            || (self.present_kinds.contains(&ResourceKind::Peering)
                && !self.peerings.contains_key(pcx)))
        .then_some(pcx.as_str())
    }

    /// The groups of `groups` the snapshot lacks although it has security groups (a partial
    /// collection, another account's group): their rules are not known. None when it has no
    /// groups at all (interfaces then admit nothing, a stated assumption).
    pub fn missing_groups<'a>(&'a self, groups: &'a [String]) -> impl Iterator<Item = &'a String> {
        let collected = self.present_kinds.contains(&ResourceKind::SecurityGroup);
        groups
            .iter()
            .filter(move |g| collected && !self.security_groups.contains_key(*g))
    }

    /// The VPC Block Public Access mode that applies to `subnet` of `vpc` as the snapshot
    /// states it, and whether it is being changed.
    fn bpa_mode(&self, subnet: &str, vpc: &str) -> (BpaMode, bool) {
        let location = self
            .subnets
            .get(subnet)
            .map(|s| &s.location)
            .or_else(|| self.vpcs.get(vpc).map(|v| &v.location));
        let same = |a: &Option<String>, b: Option<&Option<String>>| match (
            a,
            b.and_then(|b| b.as_ref()),
        ) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let here = |l: &Location| {
            same(&l.region, location.map(|x| &x.region))
                && same(&l.account, location.map(|x| &x.account))
        };
        let mode = self
            .block_public_access
            .iter()
            .find(|(l, _)| here(l))
            .map_or(BpaMode::Off, |(_, m)| *m);
        (mode, self.bpa_updating.iter().any(here))
    }

    /// What VPC Block Public Access does to internet traffic crossing the gateway of `subnet`
    /// of `vpc`; `blocks` says whether a (mode, exclusion) stops it. Every state the snapshot
    /// leaves possible is tried (a mode being changed, an exclusion being created or deleted,
    /// exclusions not collected): where they disagree the effect is not known.
    fn bpa_effect(
        &self,
        subnet: &str,
        vpc: &str,
        blocks: impl Fn(BpaMode, Option<BpaExclusion>) -> bool,
        why: impl Fn(BpaMode) -> String,
    ) -> BpaEffect {
        if self.block_public_access.is_empty() {
            return BpaEffect::Pass;
        }
        let (mode, updating) = self.bpa_mode(subnet, vpc);
        if mode == BpaMode::Off && !updating {
            return BpaEffect::Pass;
        }
        const ANY: [Option<BpaExclusion>; 3] = [
            None,
            Some(BpaExclusion::AllowBidirectional),
            Some(BpaExclusion::AllowEgress),
        ];
        // The exclusion stated (the subnet's, else its VPC's), and those that may be in force.
        // The exclusions that may be in force (the subnet's, else its VPC's).
        let (possible, unsettled): (Vec<Option<BpaExclusion>>, Option<&String>) =
            match [subnet, vpc].iter().find_map(|id| {
                self.bpa_exclusions
                    .get(*id)
                    .map(|e| (vec![Some(*e)], None))
                    .or_else(|| {
                        self.bpa_exclusions_unsettled
                            .get(*id)
                            .map(|(p, state)| (p.clone(), Some(state)))
                    })
            }) {
                Some(found) => found,
                None if self.bpa_exclusions_collected => (vec![None], None),
                None => (ANY.to_vec(), None),
            };
        let modes: &[BpaMode] = if updating {
            &[BpaMode::Off, BpaMode::Ingress, BpaMode::Bidirectional]
        } else {
            std::slice::from_ref(&mode)
        };
        let outcomes: Vec<bool> = modes
            .iter()
            .flat_map(|m| possible.iter().map(|e| blocks(*m, *e)))
            .collect();
        if outcomes.iter().all(|b| !b) {
            return BpaEffect::Pass;
        }
        if outcomes.iter().all(|b| *b) {
            return BpaEffect::Block(why(mode));
        }
        BpaEffect::Unsettled(if updating {
            format!(
                "VPC Block Public Access is being changed (update-in-progress, to {}) in this region: whether the old mode or the new is in force for {subnet} ({vpc}) is not known",
                mode.as_str()
            )
        } else if let Some(state) = unsettled {
            format!(
                "VPC Block Public Access is {} in this region and the exclusion {state}: whether it is in force for {subnet} ({vpc}) is not known",
                mode.as_str()
            )
        } else {
            format!(
                "VPC Block Public Access is {} in this region and the snapshot has no describe-vpc-block-public-access-exclusions: whether an exclusion exempts {subnet} ({vpc}) is not known",
                mode.as_str()
            )
        })
    }

    /// What VPC Block Public Access does to internet traffic entering `subnet` of `vpc`
    /// through an internet gateway.
    pub fn bpa_inbound(&self, subnet: &str, vpc: &str) -> BpaEffect {
        self.bpa_effect(
            subnet,
            vpc,
            |mode, exclusion| {
                mode != BpaMode::Off && exclusion != Some(BpaExclusion::AllowBidirectional)
            },
            |mode| {
                format!(
                    "VPC Block Public Access is {} in this region and {subnet} ({vpc}) has no allow-bidirectional exclusion: no internet traffic reaches it",
                    mode.as_str()
                )
            },
        )
    }

    /// What VPC Block Public Access does to traffic leaving `subnet` of `vpc` for the
    /// internet: through an egress-only internet gateway (`egress_only`), or an internet
    /// gateway from a NAT gateway (`nat`) or another interface.
    pub fn bpa_outbound(&self, subnet: &str, vpc: &str, egress_only: bool, nat: bool) -> BpaEffect {
        self.bpa_effect(
            subnet,
            vpc,
            |mode, exclusion| match mode {
                BpaMode::Off => false,
                BpaMode::Bidirectional => exclusion.is_none(),
                BpaMode::Ingress => {
                    !(egress_only || nat || exclusion == Some(BpaExclusion::AllowBidirectional))
                }
            },
            |mode| {
                let how = match (mode, egress_only || nat) {
                    (BpaMode::Ingress, _) => "only NAT gateways and egress-only internet gateways carry traffic out, and",
                    (_, true) => "no traffic leaves through internet gateways or egress-only internet gateways, and",
                    _ => "no traffic leaves through internet gateways, and",
                };
                format!(
                    "VPC Block Public Access is {} in this region: {how} {subnet} ({vpc}) has no exclusion that lets it out",
                    mode.as_str()
                )
            },
        )
    }

    /// Number of resources of a kind.
    pub fn count(&self, kind: ResourceKind) -> usize {
        match kind {
            ResourceKind::Vpc => self.vpcs.len(),
            ResourceKind::Subnet => self.subnets.len(),
            ResourceKind::RouteTable => self.route_tables.len(),
            ResourceKind::NetworkAcl => self.network_acls.len(),
            ResourceKind::SecurityGroup => self.security_groups.len(),
            ResourceKind::NetworkInterface => self.network_interfaces.len(),
            ResourceKind::Instance => self.instances.len(),
            ResourceKind::InternetGateway => self.internet_gateways.len(),
            ResourceKind::EgressOnlyInternetGateway => self.egress_only_internet_gateways.len(),
            ResourceKind::NatGateway => self.nat_gateways.len(),
            ResourceKind::VpnGateway => self.vpn_gateways.len(),
            ResourceKind::VpnConnection => self.vpn_connections.len(),
            ResourceKind::TransitGateway => self.transit_gateways.len(),
            ResourceKind::TgwAttachment => self.tgw_attachments.len(),
            ResourceKind::TgwRouteTable => self.tgw_route_tables.len(),
            ResourceKind::Peering => self.peerings.len(),
            ResourceKind::PrefixList => self.prefix_lists.len(),
            ResourceKind::VpcEndpoint => self.vpc_endpoints.len(),
            ResourceKind::LoadBalancer => self.load_balancers.len(),
            ResourceKind::Listener => self.listeners.len(),
            ResourceKind::TargetGroup => self.target_groups.len(),
            ResourceKind::DbInstance => self.db_instances.len(),
        }
    }

    /// The route table a subnet uses: its explicit association, else its VPC's main table.
    pub fn subnet_route_table(&self, subnet_id: &str) -> Option<&RouteTable> {
        let subnet = self.subnets.get(subnet_id)?;
        self.route_tables
            .values()
            .find(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                self.route_tables
                    .values()
                    .find(|rt| rt.is_main && rt.vpc_id == subnet.vpc_id)
            })
    }

    /// The NACL a subnet uses: its explicit association, else its VPC's default NACL.
    pub fn subnet_nacl(&self, subnet_id: &str) -> Option<&NetworkAcl> {
        let subnet = self.subnets.get(subnet_id)?;
        self.network_acls
            .values()
            .find(|n| n.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                self.network_acls
                    .values()
                    .find(|n| n.is_default && n.vpc_id == subnet.vpc_id)
            })
    }

    /// The ENI that holds a private address (IPv4 or IPv6), if any.
    pub fn eni_by_private_ip(&self, ip: IpAddr) -> Option<&NetworkInterface> {
        self.network_interfaces
            .values()
            .find(|e| e.private_addrs().any(|a| a == ip))
    }

    /// The ENI and private address a public IPv4 maps to, if any.
    pub fn eni_by_public_ip(&self, ip: Ipv4Addr) -> Option<(&NetworkInterface, Ipv4Addr)> {
        self.network_interfaces.values().find_map(|e| {
            e.private_ips
                .iter()
                .find(|p| p.public == Some(ip))
                .map(|p| (e, p.address))
        })
    }

    /// The subnet whose CIDR holds an address, within a VPC.
    pub fn subnet_containing(&self, vpc_id: &str, ip: IpAddr) -> Option<&Subnet> {
        self.subnets.values().find(|s| {
            s.vpc_id == vpc_id
                && match ip {
                    IpAddr::V4(a) => s.cidr_v4.is_some_and(|c| c.contains(&a)),
                    IpAddr::V6(a) => s.cidrs_v6.iter().any(|c| c.contains(&a)),
                }
        })
    }

    /// The prefix lists (sorted) whose entries the snapshot lacks (not described, or described
    /// without `get-managed-prefix-list-entries`) among those that `named` yields.
    pub fn lists_of_unknown_entries<'a>(
        &self,
        named: impl Iterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        let mut out: Vec<&str> = named
            .filter(|pl| self.prefix_lists.get(*pl).is_none_or(|p| !p.entries_known))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The prefix lists that some route table routes.
    pub fn routed_prefix_lists(&self) -> impl Iterator<Item = &str> {
        self.route_tables
            .values()
            .flat_map(|rt| &rt.routes)
            .filter_map(|r| match &r.destination {
                RouteDestination::PrefixList(pl) => Some(pl.as_str()),
                RouteDestination::Cidr(_) => None,
            })
    }

    /// The VPC whose CIDRs hold an address, among the given VPCs.
    pub fn vpc_cidrs(&self, vpc_id: &str) -> Vec<IpNet> {
        self.vpcs
            .get(vpc_id)
            .map(|v| {
                v.cidrs_v4
                    .iter()
                    .map(|c| IpNet::V4(*c))
                    .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Load balancer whose ENI description suffix (`app/<name>/<id>`) matches.
    pub fn load_balancer_by_suffix(&self, suffix: &str) -> Option<&LoadBalancer> {
        self.load_balancers
            .values()
            .find(|lb| lb.arn_suffix() == Some(suffix))
    }

    /// The attachment `id` as seen from transit gateway `tgw`.
    pub fn tgw_attachment(&self, tgw: &str, id: &str) -> Option<&TgwAttachment> {
        self.tgw_attachments.get(&tgw_attachment_key(tgw, id))
    }

    /// Active peerings between two VPCs.
    pub fn peering_between(&self, a: &str, b: &str) -> Option<&Peering> {
        self.peerings.values().find(|p| p.other_side(a) == Some(b))
    }
}

/// The key of a TGW attachment in [`Model::tgw_attachments`].
pub fn tgw_attachment_key(tgw: &str, id: &str) -> String {
    format!("{tgw}/{id}")
}

/// The `Name` tag, if any.
pub fn name_tag(tags: &Tags) -> Option<&str> {
    tags.get("Name")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::Instance;

    #[test]
    fn old_instance_families_lack_client_ip_preservation() {
        let of = |t: Option<&str>| Instance {
            instance_type: t.map(str::to_string),
            ..Instance::default()
        };
        for t in [
            "m3.medium",
            "t1.micro",
            "cc2.8xlarge",
            "G2.2xlarge",
            "hs1.8xlarge",
        ] {
            assert!(of(Some(t)).lacks_client_ip_preservation(), "{t}");
        }
        // Current types, including families that start like an old one.
        for t in [
            "m5.large",
            "t3.micro",
            "g4dn.xlarge",
            "m3x.large",
            "c1a.large",
        ] {
            assert!(!of(Some(t)).lacks_client_ip_preservation(), "{t}");
        }
        assert!(!of(None).lacks_client_ip_preservation());
    }
}
