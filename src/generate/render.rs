//! The estate as AWS CLI JSON, in CloudMapper's `account-data/<account>/<region>/` layout.
//!
//! Keys come out sorted and indented by four spaces, as CloudMapper writes them
//! (`json.dump(..., indent=4, sort_keys=True)`).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::estate::*;
use super::rng::mix64;

/// One folder: an account in a region.
#[derive(Default)]
struct Folder {
    vpcs: Vec<Value>,
    subnets: Vec<Value>,
    route_tables: Vec<Value>,
    nacls: Vec<Value>,
    sgs: Vec<Value>,
    enis: Vec<Value>,
    reservations: Vec<Value>,
    igws: Vec<Value>,
    nats: Vec<Value>,
    peerings: Vec<Value>,
    tgws: Vec<Value>,
    tgw_attachments: Vec<Value>,
    tgw_vpc_attachments: Vec<Value>,
    tgw_route_tables: Vec<Value>,
    tgw_routes: Vec<Value>,
    prefix_lists: Vec<Value>,
    prefix_list_entries: Vec<(String, Value)>,
    lbs: Vec<Value>,
    target_groups: Vec<Value>,
    listeners: Vec<Value>,
    target_health: Vec<Value>,
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    v.serialize(&mut ser).expect("JSON values serialise");
    out.push(b'\n');
    out
}

fn hex_of(n: u64, len: usize) -> String {
    let s = format!("{:016x}{:016x}", mix64(n), mix64(n ^ 0x55));
    s[..len].to_string()
}

fn uuid(n: u64) -> String {
    let h = hex_of(n, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn dns_name(region: &str, ip: Ipv4Addr) -> String {
    let dashed = ip.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

fn public_dns(region: &str, ip: Ipv4Addr) -> String {
    let dashed = ip.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

fn eip_ids(ip: Ipv4Addr) -> (String, String) {
    let n = u32::from(ip) as u64;
    (
        format!("eipalloc-0{}", hex_of(n ^ 0xA110C, 16)),
        format!("eipassoc-0{}", hex_of(n ^ 0xA550C, 16)),
    )
}

/// Renders every file.
pub(crate) fn render(e: &Estate) -> Vec<(String, Vec<u8>)> {
    let regions = e.regions;
    let key = |account: usize, region: usize| account * regions + region;
    let mut folders: Vec<Folder> = (0..e.accounts.len() * regions)
        .map(|_| Folder::default())
        .collect();
    let mut used = vec![false; folders.len()];
    for r in 0..regions {
        used[key(0, r)] = true;
    }
    let vpc_key = |v: usize| key(e.vpcs[v].account, e.vpcs[v].region);

    for (v, vpc) in e.vpcs.iter().enumerate() {
        used[vpc_key(v)] = true;
        folders[vpc_key(v)].vpcs.push(render_vpc(e, vpc));
        if let Some(igw) = &vpc.igw {
            let acct = &e.accounts[vpc.account].id;
            folders[vpc_key(v)].igws.push(json!({
                "Attachments": [{"State": "available", "VpcId": vpc.id}],
                "InternetGatewayId": igw,
                "OwnerId": acct,
                "Tags": tags(&[("Name", &format!("{}-igw", vpc.name))]),
            }));
        }
    }
    for s in &e.subnets {
        folders[vpc_key(s.vpc)].subnets.push(render_subnet(e, s));
    }
    for rt in &e.route_tables {
        folders[vpc_key(rt.vpc)]
            .route_tables
            .push(render_route_table(e, rt));
    }
    for n in &e.nacls {
        folders[vpc_key(n.vpc)].nacls.push(render_nacl(e, n));
    }
    for sg in &e.sgs {
        folders[vpc_key(sg.vpc)].sgs.push(render_sg(e, sg));
    }
    for (x, eni) in e.enis.iter().enumerate() {
        folders[vpc_key(eni.vpc)].enis.push(render_eni(e, x, true));
    }
    for inst in &e.instances {
        folders[vpc_key(inst.vpc)]
            .reservations
            .push(render_reservation(e, inst));
    }
    for nat in &e.nats {
        folders[vpc_key(nat.vpc)].nats.push(render_nat(e, nat));
    }
    for p in &e.peerings {
        folders[vpc_key(p.requester)]
            .peerings
            .push(render_peering(e, p));
    }
    for t in &e.tgws {
        let k = key(t.account, t.region);
        folders[k].tgws.push(render_tgw(e, t));
    }
    for a in &e.tgw_attachments {
        let t = &e.tgws[a.tgw];
        let k = key(t.account, t.region);
        let (att, vpc_att) = render_tgw_attachment(e, a);
        folders[k].tgw_attachments.push(att);
        folders[k].tgw_vpc_attachments.extend(vpc_att);
    }
    for rt in &e.tgw_route_tables {
        let t = &e.tgws[rt.tgw];
        let k = key(t.account, t.region);
        let (table, routes) = render_tgw_route_table(e, rt);
        folders[k].tgw_route_tables.push(table);
        folders[k].tgw_routes.push(routes);
    }
    for pl in &e.prefix_lists {
        let k = key(0, pl.region);
        let acct = &e.accounts[0].id;
        let region = REGIONS[pl.region];
        folders[k].prefix_lists.push(json!({
            "AddressFamily": "IPv4",
            "MaxEntries": 50.max(pl.cidrs.len()),
            "OwnerId": acct,
            "PrefixListArn": format!("arn:aws:ec2:{region}:{acct}:prefix-list/{}", pl.id),
            "PrefixListId": pl.id,
            "PrefixListName": pl.name,
            "State": "create-complete",
            "Tags": tags(&[("Name", &pl.name)]),
            "Version": 1,
        }));
        let entries: Vec<Value> = pl
            .cidrs
            .iter()
            .map(|(c, d)| json!({"Cidr": c, "Description": d}))
            .collect();
        folders[k].prefix_list_entries.push((
            pl.id.clone(),
            json!({"PrefixListId": pl.id, "Entries": entries}),
        ));
    }
    for lb in &e.lbs {
        let k = vpc_key(lb.vpc);
        let (l, listeners) = render_lb(e, lb);
        folders[k].lbs.push(l);
        folders[k].listeners.push(listeners);
    }
    for tg in &e.target_groups {
        let k = vpc_key(tg.vpc);
        let (t, health) = render_tg(e, tg);
        folders[k].target_groups.push(t);
        folders[k].target_health.push(health);
    }

    let mut files = Vec::new();
    for (k, f) in folders.into_iter().enumerate() {
        if !used[k] {
            continue;
        }
        let account = &e.accounts[k / regions].id;
        let region = REGIONS[k % regions];
        let dir = format!("account-data/{account}/{region}");
        let mut put = |name: &str, key: &str, items: Vec<Value>| {
            let mut m = Map::new();
            m.insert(key.to_string(), Value::Array(items));
            files.push((format!("{dir}/{name}"), to_bytes(&Value::Object(m))));
        };
        put("ec2-describe-vpcs.json", "Vpcs", f.vpcs);
        put("ec2-describe-subnets.json", "Subnets", f.subnets);
        put(
            "ec2-describe-route-tables.json",
            "RouteTables",
            f.route_tables,
        );
        put("ec2-describe-network-acls.json", "NetworkAcls", f.nacls);
        put("ec2-describe-security-groups.json", "SecurityGroups", f.sgs);
        put(
            "ec2-describe-network-interfaces.json",
            "NetworkInterfaces",
            f.enis,
        );
        put(
            "ec2-describe-instances.json",
            "Reservations",
            f.reservations,
        );
        put(
            "ec2-describe-internet-gateways.json",
            "InternetGateways",
            f.igws,
        );
        put("ec2-describe-nat-gateways.json", "NatGateways", f.nats);
        put(
            "ec2-describe-vpc-peering-connections.json",
            "VpcPeeringConnections",
            f.peerings,
        );
        put(
            "ec2-describe-transit-gateways.json",
            "TransitGateways",
            f.tgws,
        );
        put(
            "ec2-describe-transit-gateway-attachments.json",
            "TransitGatewayAttachments",
            f.tgw_attachments,
        );
        put(
            "ec2-describe-transit-gateway-vpc-attachments.json",
            "TransitGatewayVpcAttachments",
            f.tgw_vpc_attachments,
        );
        put(
            "ec2-describe-transit-gateway-route-tables.json",
            "TransitGatewayRouteTables",
            f.tgw_route_tables,
        );
        // `search-transit-gateway-routes` per table, in the wrapper the loader reads.
        put(
            "ec2-search-transit-gateway-routes.json",
            "TransitGatewayStaticRoutes",
            f.tgw_routes,
        );
        put(
            "ec2-describe-managed-prefix-lists.json",
            "PrefixLists",
            f.prefix_lists,
        );
        put("elbv2-describe-load-balancers.json", "LoadBalancers", f.lbs);
        put(
            "elbv2-describe-target-groups.json",
            "TargetGroups",
            f.target_groups,
        );
        put(
            "elbv2-describe-listeners.json",
            "LoadBalancerListeners",
            f.listeners,
        );
        put(
            "elbv2-describe-target-health.json",
            "LoadBalancerTargetHealth",
            f.target_health,
        );
        for (id, v) in f.prefix_list_entries {
            files.push((
                format!("{dir}/ec2-get-managed-prefix-list-entries/{id}.json"),
                to_bytes(&v),
            ));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn render_vpc(e: &Estate, v: &Vpc) -> Value {
    let acct = &e.accounts[v.account].id;
    let assoc = format!(
        "vpc-cidr-assoc-0{}",
        hex_of(mix64(u32::from(v.cidr.network()) as u64), 16)
    );
    let ipv6: Vec<Value> = v
        .ipv6
        .iter()
        .map(|p| {
            json!({
                "AssociationId": format!("vpc-cidr-assoc-0{}", hex_of(*p as u64 ^ (p >> 64) as u64, 16)),
                "Ipv6CidrBlock": format!("{}/56", Ipv6Addr::from(*p)),
                "Ipv6CidrBlockState": {"State": "associated"},
                "Ipv6Pool": "Amazon",
                "NetworkBorderGroup": REGIONS[v.region],
            })
        })
        .collect();
    let mut out = json!({
        "CidrBlock": v.cidr.to_string(),
        "CidrBlockAssociationSet": [{
            "AssociationId": assoc,
            "CidrBlock": v.cidr.to_string(),
            "CidrBlockState": {"State": "associated"},
        }],
        "DhcpOptionsId": v.dhcp,
        "InstanceTenancy": "default",
        "IsDefault": false,
        "OwnerId": acct,
        "State": "available",
        "Tags": tags(&[("Name", &v.name), ("env", v.env.as_str()), ("account", &e.accounts[v.account].name)]),
        "VpcId": v.id,
    });
    if !ipv6.is_empty() {
        out["Ipv6CidrBlockAssociationSet"] = Value::Array(ipv6);
    }
    out
}

fn render_subnet(e: &Estate, s: &Subnet) -> Value {
    let vpc = &e.vpcs[s.vpc];
    let acct = &e.accounts[vpc.account].id;
    let region = REGIONS[vpc.region];
    let capacity = (1u32 << (32 - s.cidr.prefix_len())) - 5;
    let ipv6: Vec<Value> = s
        .ipv6
        .iter()
        .map(|p| {
            json!({
                "AssociationId": format!("subnet-cidr-assoc-0{}", hex_of(*p as u64 ^ (p >> 64) as u64 ^ 7, 16)),
                "Ipv6CidrBlock": format!("{}/64", Ipv6Addr::from(*p)),
                "Ipv6CidrBlockState": {"State": "associated"},
            })
        })
        .collect();
    let name = format!("{}-{}-{}", vpc.name, s.tier.as_str(), ["a", "b", "c"][s.az]);
    json!({
        "AssignIpv6AddressOnCreation": false,
        "AvailabilityZone": az_name(vpc.region, s.az),
        "AvailabilityZoneId": az_id(vpc.region, s.az),
        "AvailableIpAddressCount": capacity - s.used(),
        "CidrBlock": s.cidr.to_string(),
        "DefaultForAz": false,
        "EnableDns64": false,
        "Ipv6CidrBlockAssociationSet": ipv6,
        "Ipv6Native": false,
        "MapCustomerOwnedIpOnLaunch": false,
        "MapPublicIpOnLaunch": s.tier == Tier::Public && vpc.local_egress,
        "OwnerId": acct,
        "PrivateDnsNameOptionsOnLaunch": {
            "EnableResourceNameDnsAAAARecord": false,
            "EnableResourceNameDnsARecord": false,
            "HostnameType": "ip-name",
        },
        "State": "available",
        "SubnetArn": format!("arn:aws:ec2:{region}:{acct}:subnet/{}", s.id),
        "SubnetId": s.id,
        "Tags": tags(&[("Name", &name), ("tier", s.tier.as_str())]),
        "VpcId": vpc.id,
    })
}

fn render_route_table(e: &Estate, rt: &RouteTable) -> Value {
    let vpc = &e.vpcs[rt.vpc];
    let acct = &e.accounts[vpc.account].id;
    let assoc_id = |n: u64| format!("rtbassoc-0{}", hex_of(n, 16));
    let seed = mix64(rt.id.bytes().fold(0u64, |h, b| mix64(h ^ b as u64)));
    let mut associations = Vec::new();
    if rt.main {
        associations.push(json!({
            "AssociationState": {"State": "associated"},
            "Main": true,
            "RouteTableAssociationId": assoc_id(seed),
            "RouteTableId": rt.id,
        }));
    }
    for (k, s) in rt.subnets.iter().enumerate() {
        associations.push(json!({
            "AssociationState": {"State": "associated"},
            "Main": false,
            "RouteTableAssociationId": assoc_id(seed ^ (k as u64 + 1)),
            "RouteTableId": rt.id,
            "SubnetId": e.subnets[*s].id,
        }));
    }
    let routes: Vec<Value> = rt
        .routes
        .iter()
        .map(|r| {
            let mut m = Map::new();
            match &r.dest {
                Dest::V4(n) => {
                    m.insert("DestinationCidrBlock".into(), json!(n.to_string()));
                }
                Dest::V6(n) => {
                    m.insert("DestinationIpv6CidrBlock".into(), json!(n));
                }
                Dest::PrefixList(pl) => {
                    m.insert(
                        "DestinationPrefixListId".into(),
                        json!(e.prefix_lists[*pl].id),
                    );
                }
            }
            let (key, id, origin, state) = match &r.target {
                Target::Local => (
                    "GatewayId",
                    "local".to_string(),
                    "CreateRouteTable",
                    "active",
                ),
                Target::Igw(id) => ("GatewayId", id.clone(), "CreateRoute", "active"),
                Target::Nat(n) => (
                    "NatGatewayId",
                    e.nats[*n].id.clone(),
                    "CreateRoute",
                    "active",
                ),
                Target::Tgw(t) => (
                    "TransitGatewayId",
                    e.tgws[*t].id.clone(),
                    "CreateRoute",
                    "active",
                ),
                Target::Peering(p) => (
                    "VpcPeeringConnectionId",
                    e.peerings[*p].id.clone(),
                    "CreateRoute",
                    "active",
                ),
                Target::DeletedNat(id) => ("NatGatewayId", id.clone(), "CreateRoute", "blackhole"),
            };
            m.insert(key.into(), json!(id));
            m.insert("Origin".into(), json!(origin));
            m.insert("State".into(), json!(state));
            Value::Object(m)
        })
        .collect();
    json!({
        "Associations": associations,
        "OwnerId": acct,
        "PropagatingVgws": [],
        "RouteTableId": rt.id,
        "Routes": routes,
        "Tags": tags(&[("Name", &rt.name)]),
        "VpcId": vpc.id,
    })
}

fn render_nacl(e: &Estate, n: &Nacl) -> Value {
    let vpc = &e.vpcs[n.vpc];
    let acct = &e.accounts[vpc.account].id;
    let seed = mix64(n.id.bytes().fold(1u64, |h, b| mix64(h ^ b as u64)));
    let associations: Vec<Value> = n
        .subnets
        .iter()
        .enumerate()
        .map(|(k, s)| {
            json!({
                "NetworkAclAssociationId": format!("aclassoc-0{}", hex_of(seed ^ k as u64, 16)),
                "NetworkAclId": n.id,
                "SubnetId": e.subnets[*s].id,
            })
        })
        .collect();
    let entries: Vec<Value> = n
        .entries
        .iter()
        .map(|x| {
            let mut m = Map::new();
            m.insert(
                if x.v6 { "Ipv6CidrBlock" } else { "CidrBlock" }.into(),
                json!(x.cidr),
            );
            m.insert("Egress".into(), json!(x.egress));
            m.insert("Protocol".into(), json!(x.proto));
            m.insert(
                "RuleAction".into(),
                json!(if x.allow { "allow" } else { "deny" }),
            );
            m.insert("RuleNumber".into(), json!(x.rule));
            if let Some((from, to)) = x.ports {
                m.insert("PortRange".into(), json!({"From": from, "To": to}));
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "Associations": associations,
        "Entries": entries,
        "IsDefault": n.default,
        "NetworkAclId": n.id,
        "OwnerId": acct,
        "Tags": if n.default { json!([]) } else { tags(&[("Name", &n.name)]) },
        "VpcId": vpc.id,
    })
}

fn render_perm(e: &Estate, p: &Perm) -> Value {
    let mut ip_ranges = Vec::new();
    let mut ipv6_ranges = Vec::new();
    let mut prefix_lists = Vec::new();
    let mut pairs = Vec::new();
    for (peer, description) in &p.peers {
        let with = |mut v: Value| {
            if let Some(d) = description {
                v["Description"] = json!(d);
            }
            v
        };
        match peer {
            Peer::Cidr(c) => ip_ranges.push(with(json!({"CidrIp": c}))),
            Peer::Cidr6(c) => ipv6_ranges.push(with(json!({"CidrIpv6": c}))),
            Peer::PrefixList(pl) => {
                prefix_lists.push(with(json!({"PrefixListId": e.prefix_lists[*pl].id})))
            }
            Peer::Group(g, peering) => {
                let sg = &e.sgs[*g];
                let vpc = &e.vpcs[sg.vpc];
                let mut v = json!({
                    "GroupId": sg.id,
                    "UserId": e.accounts[vpc.account].id,
                });
                if let Some(p) = peering {
                    v["VpcId"] = json!(vpc.id);
                    v["VpcPeeringConnectionId"] = json!(e.peerings[*p].id);
                    v["PeeringStatus"] = json!("active");
                }
                pairs.push(with(v));
            }
        }
    }
    let mut v = json!({
        "IpProtocol": p.proto,
        "IpRanges": ip_ranges,
        "Ipv6Ranges": ipv6_ranges,
        "PrefixListIds": prefix_lists,
        "UserIdGroupPairs": pairs,
    });
    if p.proto != "-1" {
        v["FromPort"] = json!(p.from);
        v["ToPort"] = json!(p.to);
    }
    v
}

fn render_sg(e: &Estate, sg: &Sg) -> Value {
    let vpc = &e.vpcs[sg.vpc];
    let acct = &e.accounts[vpc.account].id;
    let region = REGIONS[vpc.region];
    let mut t: Vec<(&str, &str)> = sg
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if sg.name != "default" {
        t.push(("Name", &sg.name));
    }
    json!({
        "Description": sg.description,
        "GroupId": sg.id,
        "GroupName": sg.name,
        "IpPermissions": sg.ingress.iter().map(|p| render_perm(e, p)).collect::<Vec<_>>(),
        "IpPermissionsEgress": sg.egress.iter().map(|p| render_perm(e, p)).collect::<Vec<_>>(),
        "OwnerId": acct,
        "SecurityGroupArn": format!("arn:aws:ec2:{region}:{acct}:security-group/{}", sg.id),
        "Tags": tags(&t),
        "VpcId": vpc.id,
    })
}

/// The public address an ENI shows: auto-assigned addresses go when an instance stops.
fn eni_public(e: &Estate, x: usize) -> Option<PublicIp> {
    let eni = &e.enis[x];
    match (eni.public, eni.instance) {
        (Some(PublicIp::Auto(_)), Some((i, _))) if !e.instances[i].running => None,
        (p, _) => p,
    }
}

fn association(e: &Estate, x: usize) -> Option<Value> {
    let eni = &e.enis[x];
    let vpc = &e.vpcs[eni.vpc];
    let acct = &e.accounts[vpc.account].id;
    let region = REGIONS[vpc.region];
    eni_public(e, x).map(|p| match p {
        PublicIp::Auto(ip) => json!({
            "IpOwnerId": if matches!(eni.kind, EniKind::Elb(_)) { "amazon-elb" } else { "amazon" },
            "PublicDnsName": public_dns(region, ip),
            "PublicIp": ip.to_string(),
        }),
        PublicIp::Elastic(ip) => {
            let (alloc, assoc) = eip_ids(ip);
            json!({
                "AllocationId": alloc,
                "AssociationId": assoc,
                "IpOwnerId": acct,
                "PublicDnsName": public_dns(region, ip),
                "PublicIp": ip.to_string(),
            })
        }
    })
}

fn render_eni(e: &Estate, x: usize, full: bool) -> Value {
    let eni = &e.enis[x];
    let vpc = &e.vpcs[eni.vpc];
    let acct = &e.accounts[vpc.account].id;
    let region = REGIONS[vpc.region];
    let subnet = &e.subnets[eni.subnet];
    let assoc = association(e, x);
    let private: Vec<Value> = eni
        .ips
        .iter()
        .enumerate()
        .map(|(k, ip)| {
            let mut v = json!({
                "Primary": k == 0,
                "PrivateDnsName": dns_name(region, *ip),
                "PrivateIpAddress": ip.to_string(),
            });
            if k == 0 {
                if let Some(a) = &assoc {
                    v["Association"] = a.clone();
                }
            }
            v
        })
        .collect();
    let groups: Vec<Value> = eni
        .groups
        .iter()
        .map(|g| json!({"GroupId": e.sgs[*g].id, "GroupName": e.sgs[*g].name}))
        .collect();
    let ipv6: Vec<Value> = eni
        .ipv6
        .iter()
        .map(|a| json!({"Ipv6Address": a.to_string(), "IsPrimaryIpv6": false}))
        .collect();
    let m = mix64(eni.serial ^ 0x3AC);
    let mac = format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        (m >> 32) as u8,
        (m >> 24) as u8,
        (m >> 16) as u8,
        (m >> 8) as u8,
        m as u8
    );
    let attach_id = format!("eni-attach-0{}", hex_of(eni.serial ^ 0xA77, 16));
    let service_attachment = |owner: &str| {
        json!({
            "AttachTime": "2024-01-15T10:00:00+00:00",
            "AttachmentId": attach_id,
            "DeleteOnTermination": false,
            "DeviceIndex": 1,
            "InstanceOwnerId": owner,
            "NetworkCardIndex": 0,
            "Status": "attached",
        })
    };
    let (description, itype, requester, attachment): (String, &str, Option<String>, Value) =
        match eni.kind {
            EniKind::Ec2 => {
                let (i, device) = eni.instance.expect("instance ENI");
                let inst = &e.instances[i];
                let mut a = json!({
                    "AttachTime": inst.launch,
                    "AttachmentId": attach_id,
                    "DeleteOnTermination": device == 0,
                    "DeviceIndex": device,
                    "NetworkCardIndex": 0,
                    "Status": "attached",
                });
                if full {
                    a["InstanceId"] = json!(inst.id);
                    a["InstanceOwnerId"] = json!(acct);
                }
                (
                    if device == 0 {
                        String::new()
                    } else {
                        "secondary interface".into()
                    },
                    "interface",
                    None,
                    a,
                )
            }
            EniKind::Lambda => {
                let Role::App(app, _) = eni.role else {
                    unreachable!()
                };
                let f = format!("{}-{}-worker", vpc.name, vpc.apps[app].name);
                (
                    format!("AWS Lambda VPC ENI-{f}-{}", uuid(eni.serial)),
                    "lambda",
                    Some(format!("AROA{}:{f}", hex_of(eni.serial, 16).to_uppercase())),
                    service_attachment("amazon-aws"),
                )
            }
            EniKind::Ecs => (
                format!(
                    "arn:aws:ecs:{region}:{acct}:attachment/{}",
                    uuid(eni.serial)
                ),
                "interface",
                Some("578734482556".to_string()),
                service_attachment("amazon-aws"),
            ),
            EniKind::Rds => (
                "RDSNetworkInterface".to_string(),
                "interface",
                Some("amazon-rds".to_string()),
                service_attachment("amazon-rds"),
            ),
            EniKind::Elb(l) => {
                let lb = &e.lbs[l];
                let (path, itype) = match lb.kind {
                    LbKind::Application => ("app", "interface"),
                    LbKind::Network => ("net", "network_load_balancer"),
                };
                (
                    format!("ELB {path}/{}/{}", lb.name, lb.hex),
                    itype,
                    Some("amazon-elb".to_string()),
                    service_attachment("amazon-elb"),
                )
            }
            EniKind::Nat(n) => (
                format!("Interface for NAT Gateway {}", e.nats[n].id),
                "nat_gateway",
                Some("AKIAIOSFODNN7NATGW01".to_string()),
                service_attachment("amazon-aws"),
            ),
            EniKind::Tgw(a) => (
                format!(
                    "Network Interface for Transit Gateway Attachment {}",
                    e.tgw_attachments[a].id
                ),
                "transit_gateway",
                Some("AKIAIOSFODNN7TGWATT1".to_string()),
                service_attachment("amazon-aws"),
            ),
        };
    let mut v = json!({
        "Attachment": attachment,
        "Description": description,
        "Groups": groups,
        "InterfaceType": itype,
        "Ipv6Addresses": ipv6,
        "MacAddress": mac,
        "NetworkInterfaceId": eni.id,
        "OwnerId": acct,
        "PrivateDnsName": dns_name(region, eni.ips[0]),
        "PrivateIpAddress": eni.ips[0].to_string(),
        "PrivateIpAddresses": private,
        "SourceDestCheck": !matches!(eni.kind, EniKind::Nat(_)),
        "Status": "in-use",
        "SubnetId": subnet.id,
        "VpcId": vpc.id,
    });
    if let Some(a) = assoc {
        v["Association"] = a;
    }
    if full {
        v["AvailabilityZone"] = json!(az_name(vpc.region, subnet.az));
        v["RequesterManaged"] = json!(requester.is_some());
        if let Some(r) = requester {
            v["RequesterId"] = json!(r);
        }
        v["TagSet"] = match &eni.name {
            Some(n) => tags(&[("Name", n)]),
            None => json!([]),
        };
    }
    v
}

fn render_reservation(e: &Estate, inst: &Instance) -> Value {
    let vpc = &e.vpcs[inst.vpc];
    let acct = &e.accounts[vpc.account].id;
    let region = REGIONS[vpc.region];
    let subnet = &e.subnets[inst.subnet];
    let primary = inst.enis[0];
    let ip = e.enis[primary].ips[0];
    let public = eni_public(e, primary).map(|p| match p {
        PublicIp::Auto(a) | PublicIp::Elastic(a) => a,
    });
    let groups: Vec<Value> = e.enis[primary]
        .groups
        .iter()
        .map(|g| json!({"GroupId": e.sgs[*g].id, "GroupName": e.sgs[*g].name}))
        .collect();
    let (app, tier) = match e.enis[primary].role {
        Role::App(a, t) => (
            vpc.apps[a].name.as_str(),
            ["web", "worker", "db"][t as usize],
        ),
        Role::PublicWeb(a) => (vpc.apps[a].name.as_str(), "public-web"),
        _ => ("bastion", "bastion"),
    };
    let mut i = json!({
        "AmiLaunchIndex": 0,
        "Architecture": if inst.itype.starts_with("c6g") { "arm64" } else { "x86_64" },
        "EbsOptimized": true,
        "EnaSupport": true,
        "Hypervisor": "xen",
        "ImageId": inst.image,
        "InstanceId": inst.id,
        "InstanceType": inst.itype,
        "LaunchTime": inst.launch,
        "Monitoring": {"State": "disabled"},
        "NetworkInterfaces": inst.enis.iter().map(|x| render_eni(e, *x, false)).collect::<Vec<_>>(),
        "Placement": {
            "AvailabilityZone": az_name(vpc.region, subnet.az),
            "GroupName": "",
            "Tenancy": "default",
        },
        "PrivateDnsName": dns_name(region, ip),
        "PrivateIpAddress": ip.to_string(),
        "ProductCodes": [],
        "PublicDnsName": public.map(|p| public_dns(region, p)).unwrap_or_default(),
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "SecurityGroups": groups,
        "SourceDestCheck": true,
        "State": if inst.running {
            json!({"Code": 16, "Name": "running"})
        } else {
            json!({"Code": 80, "Name": "stopped"})
        },
        "StateTransitionReason": if inst.running { "" } else { "User initiated (2024-06-01 12:00:00 GMT)" },
        "SubnetId": subnet.id,
        "Tags": tags(&[("Name", &inst.name), ("app", app), ("tier", tier), ("env", vpc.env.as_str())]),
        "VirtualizationType": "hvm",
        "VpcId": vpc.id,
    });
    if let Some(p) = public {
        i["PublicIpAddress"] = json!(p.to_string());
    }
    json!({
        "Groups": [],
        "Instances": [i],
        "OwnerId": acct,
        "ReservationId": inst.reservation,
    })
}

fn render_nat(e: &Estate, n: &Nat) -> Value {
    let vpc = &e.vpcs[n.vpc];
    let (alloc, assoc) = eip_ids(n.public);
    let eni = &e.enis[n.eni];
    json!({
        "ConnectivityType": "public",
        "CreateTime": "2024-01-10T08:00:00+00:00",
        "NatGatewayAddresses": [{
            "AllocationId": alloc,
            "AssociationId": assoc,
            "IsPrimary": true,
            "NetworkInterfaceId": eni.id,
            "PrivateIp": eni.ips[0].to_string(),
            "PublicIp": n.public.to_string(),
            "Status": "succeeded",
        }],
        "NatGatewayId": n.id,
        "State": "available",
        "SubnetId": e.subnets[n.subnet].id,
        "Tags": tags(&[("Name", &format!("{}-nat-{}", vpc.name, ["a", "b", "c"][e.subnets[n.subnet].az]))]),
        "VpcId": vpc.id,
    })
}

fn peering_info(e: &Estate, v: usize) -> Value {
    let vpc = &e.vpcs[v];
    let mut info = json!({
        "CidrBlock": vpc.cidr.to_string(),
        "CidrBlockSet": [{"CidrBlock": vpc.cidr.to_string()}],
        "OwnerId": e.accounts[vpc.account].id,
        "PeeringOptions": {
            "AllowDnsResolutionFromRemoteVpc": false,
            "AllowEgressFromLocalClassicLinkToRemoteVpc": false,
            "AllowEgressFromLocalVpcToRemoteClassicLink": false,
        },
        "Region": REGIONS[vpc.region],
        "VpcId": vpc.id,
    });
    if let Some(p) = vpc.ipv6 {
        info["Ipv6CidrBlockSet"] = json!([{"Ipv6CidrBlock": format!("{}/56", Ipv6Addr::from(p))}]);
    }
    info
}

fn render_peering(e: &Estate, p: &Peering) -> Value {
    json!({
        "AccepterVpcInfo": peering_info(e, p.accepter),
        "RequesterVpcInfo": peering_info(e, p.requester),
        "Status": {"Code": "active", "Message": "Active"},
        "Tags": tags(&[("Name", &format!("{}-to-{}", e.vpcs[p.requester].name, e.vpcs[p.accepter].name))]),
        "VpcPeeringConnectionId": p.id,
    })
}

fn render_tgw(e: &Estate, t: &Tgw) -> Value {
    let acct = &e.accounts[t.account].id;
    let region = REGIONS[t.region];
    json!({
        "CreationTime": "2023-11-02T09:30:00+00:00",
        "Description": format!("core network {region}"),
        "Options": {
            "AmazonSideAsn": 64512 + t.region,
            "AssociationDefaultRouteTableId": e.tgw_route_tables[t.route_tables[2]].id,
            "AutoAcceptSharedAttachments": "enable",
            "DefaultRouteTableAssociation": "disable",
            "DefaultRouteTablePropagation": "disable",
            "DnsSupport": "enable",
            "MulticastSupport": "disable",
            "PropagationDefaultRouteTableId": e.tgw_route_tables[t.route_tables[2]].id,
            "SecurityGroupReferencingSupport": "enable",
            "VpnEcmpSupport": "enable",
        },
        "OwnerId": acct,
        "State": "available",
        "Tags": tags(&[("Name", &format!("core-{region}"))]),
        "TransitGatewayArn": format!("arn:aws:ec2:{region}:{acct}:transit-gateway/{}", t.id),
        "TransitGatewayId": t.id,
    })
}

fn render_tgw_attachment(e: &Estate, a: &TgwAttachment) -> (Value, Option<Value>) {
    let t = &e.tgws[a.tgw];
    let owner = &e.accounts[t.account].id;
    let (resource_type, resource_id, resource_owner, name) = match a.resource {
        AttachmentResource::Vpc(v) => (
            "vpc",
            e.vpcs[v].id.clone(),
            e.accounts[e.vpcs[v].account].id.clone(),
            e.vpcs[v].name.clone(),
        ),
        AttachmentResource::Peering(other) => (
            "peering",
            e.tgws[other].id.clone(),
            e.accounts[e.tgws[other].account].id.clone(),
            format!("peering-{}", REGIONS[e.tgws[other].region]),
        ),
    };
    let rt = &e.tgw_route_tables[a.route_table].id;
    let att = json!({
        "Association": {"State": "associated", "TransitGatewayRouteTableId": rt},
        "CreationTime": "2023-11-03T10:00:00+00:00",
        "ResourceId": resource_id,
        "ResourceOwnerId": resource_owner,
        "ResourceType": resource_type,
        "State": "available",
        "Tags": tags(&[("Name", &name)]),
        "TransitGatewayAttachmentId": a.id,
        "TransitGatewayId": t.id,
        "TransitGatewayOwnerId": owner,
    });
    let vpc_att = match a.resource {
        AttachmentResource::Vpc(v) => Some(json!({
            "CreationTime": "2023-11-03T10:00:00+00:00",
            "Options": {
                "ApplianceModeSupport": "disable",
                "DnsSupport": "enable",
                "Ipv6Support": "disable",
                "SecurityGroupReferencingSupport": "enable",
            },
            "State": "available",
            "SubnetIds": e.vpcs[v].subnets[Tier::Tgw as usize].iter().map(|s| e.subnets[*s].id.clone()).collect::<Vec<_>>(),
            "Tags": tags(&[("Name", &name)]),
            "TransitGatewayAttachmentId": a.id,
            "TransitGatewayId": t.id,
            "VpcId": e.vpcs[v].id,
            "VpcOwnerId": resource_owner,
        })),
        AttachmentResource::Peering(_) => None,
    };
    (att, vpc_att)
}

fn render_tgw_route_table(e: &Estate, rt: &TgwRouteTable) -> (Value, Value) {
    let t = &e.tgws[rt.tgw];
    let table = json!({
        "CreationTime": "2023-11-02T09:35:00+00:00",
        "DefaultAssociationRouteTable": t.route_tables[2] == e.tgw_route_tables.iter().position(|x| x.id == rt.id).unwrap_or(usize::MAX),
        "DefaultPropagationRouteTable": false,
        "State": "available",
        "Tags": tags(&[("Name", &rt.name)]),
        "TransitGatewayId": t.id,
        "TransitGatewayRouteTableId": rt.id,
    });
    let routes: Vec<Value> = rt
        .routes
        .iter()
        .map(|r| match r.attachment {
            Some(a) => {
                let att = &e.tgw_attachments[a];
                let (rtype, rid) = match att.resource {
                    AttachmentResource::Vpc(v) => ("vpc", e.vpcs[v].id.clone()),
                    AttachmentResource::Peering(o) => ("peering", e.tgws[o].id.clone()),
                };
                json!({
                    "DestinationCidrBlock": r.cidr.to_string(),
                    "State": "active",
                    "TransitGatewayAttachments": [{
                        "ResourceId": rid,
                        "ResourceType": rtype,
                        "TransitGatewayAttachmentId": att.id,
                    }],
                    "Type": if r.propagated { "propagated" } else { "static" },
                })
            }
            None => json!({
                "DestinationCidrBlock": r.cidr.to_string(),
                "State": "blackhole",
                "Type": "static",
            }),
        })
        .collect();
    (
        table,
        json!({"TransitGatewayRouteTableId": rt.id, "Routes": routes}),
    )
}

fn render_lb(e: &Estate, lb: &Lb) -> (Value, Value) {
    let vpc = &e.vpcs[lb.vpc];
    let region = REGIONS[vpc.region];
    let azs: Vec<Value> = lb
        .subnets
        .iter()
        .map(|s| {
            let subnet = &e.subnets[*s];
            let addresses: Vec<Value> = lb
                .nodes
                .iter()
                .map(|x| &e.enis[*x])
                .filter(|x| x.subnet == *s)
                .filter_map(|x| match (lb.kind, x.public) {
                    (LbKind::Network, Some(PublicIp::Elastic(ip))) => Some(json!({
                        "AllocationId": eip_ids(ip).0,
                        "IpAddress": ip.to_string(),
                    })),
                    _ => None,
                })
                .collect();
            json!({
                "LoadBalancerAddresses": addresses,
                "SubnetId": subnet.id,
                "ZoneName": az_name(vpc.region, subnet.az),
            })
        })
        .collect();
    let prefix = if lb.internet_facing { "" } else { "internal-" };
    let dns = match lb.kind {
        LbKind::Application => format!(
            "{prefix}{}-{}.{region}.elb.amazonaws.com",
            lb.name,
            mix64(lb.hex.len() as u64 ^ u64::from_str_radix(&lb.hex, 16).unwrap_or(0))
                % 10_000_000_000
        ),
        LbKind::Network => format!(
            "{prefix}{}-{}.elb.{region}.amazonaws.com",
            lb.name,
            &lb.hex[..16]
        ),
    };
    let mut v = json!({
        "AvailabilityZones": azs,
        "CanonicalHostedZoneId": "Z32O12XQLNTSW2",
        "CreatedTime": "2024-02-01T12:00:00.000000+00:00",
        "DNSName": dns,
        "IpAddressType": if lb.dualstack { "dualstack" } else { "ipv4" },
        "LoadBalancerArn": lb.arn,
        "LoadBalancerName": lb.name,
        "Scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
        "State": {"Code": "active"},
        "Type": match lb.kind { LbKind::Application => "application", LbKind::Network => "network" },
        "VpcId": vpc.id,
    });
    if let Some(sg) = lb.sg {
        v["SecurityGroups"] = json!([e.sgs[sg].id]);
    }
    let tg = &e.target_groups[lb.target_group];
    let listeners: Vec<Value> = lb
        .listeners
        .iter()
        .map(|l| {
            let action = if l.forward {
                json!({
                    "ForwardConfig": {
                        "TargetGroupStickinessConfig": {"Enabled": false},
                        "TargetGroups": [{"TargetGroupArn": tg.arn, "Weight": 1}],
                    },
                    "Order": 1,
                    "TargetGroupArn": tg.arn,
                    "Type": "forward",
                })
            } else {
                json!({
                    "Order": 1,
                    "RedirectConfig": {
                        "Host": "#{host}",
                        "Path": "/#{path}",
                        "Port": "443",
                        "Protocol": "HTTPS",
                        "Query": "#{query}",
                        "StatusCode": "HTTP_301",
                    },
                    "Type": "redirect",
                })
            };
            let mut v = json!({
                "DefaultActions": [action],
                "ListenerArn": l.arn,
                "LoadBalancerArn": lb.arn,
                "Port": l.port,
                "Protocol": l.protocol,
            });
            if l.protocol == "HTTPS" {
                v["Certificates"] = json!([{
                    "CertificateArn": format!("arn:aws:acm:{region}:{}:certificate/{}", e.accounts[vpc.account].id, uuid(l.port as u64 ^ mix64(lb.hex.len() as u64 + lb.arn.len() as u64)))
                }]);
                v["SslPolicy"] = json!("ELBSecurityPolicy-TLS13-1-2-2021-06");
            }
            v
        })
        .collect();
    (
        v,
        json!({"LoadBalancerArn": lb.arn, "Listeners": listeners}),
    )
}

fn render_tg(e: &Estate, tg: &TargetGroup) -> (Value, Value) {
    let vpc = &e.vpcs[tg.vpc];
    let http = tg.protocol == "HTTP";
    let mut v = json!({
        "HealthCheckEnabled": true,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckPort": "traffic-port",
        "HealthCheckProtocol": tg.protocol,
        "HealthCheckTimeoutSeconds": if http { 5 } else { 10 },
        "HealthyThresholdCount": 5,
        "IpAddressType": "ipv4",
        "LoadBalancerArns": [e.lbs[tg.lb].arn],
        "Port": tg.port,
        "Protocol": tg.protocol,
        "TargetGroupArn": tg.arn,
        "TargetGroupName": tg.name,
        "TargetType": "instance",
        "UnhealthyThresholdCount": 2,
        "VpcId": vpc.id,
    });
    if http {
        v["HealthCheckPath"] = json!("/health");
        v["Matcher"] = json!({"HttpCode": "200"});
        v["ProtocolVersion"] = json!("HTTP1");
    }
    let descriptions: Vec<Value> = tg
        .targets
        .iter()
        .map(|i| {
            let inst = &e.instances[*i];
            let health = if inst.running {
                json!({"State": "healthy"})
            } else {
                json!({
                    "Description": "Target is in the stopped state",
                    "Reason": "Target.InvalidState",
                    "State": "unused",
                })
            };
            json!({
                "HealthCheckPort": tg.port.to_string(),
                "Target": {"Id": inst.id, "Port": tg.port},
                "TargetHealth": health,
            })
        })
        .collect();
    (
        v,
        json!({"TargetGroupArn": tg.arn, "TargetHealthDescriptions": descriptions}),
    )
}
