"""Seeds a moto server with a small two-region estate through the AWS API (boto3).

Usage: seed.py ENDPOINT_URL

Prints one JSON object on standard output:
  {"ids": {...names the test queries by...},
   "counts": {region: {kind: count}}}
where the counts are what the AWS API itself lists after seeding (moto's default VPC,
subnets, security groups and AWS-managed prefix lists included), in the inventory's kind
names, so the test can compare them with what `exposure collect` wrote and the loader read.
"""

import json
import sys

import boto3

ENDPOINT = sys.argv[1]
KEYS = dict(aws_access_key_id="test", aws_secret_access_key="test")


def client(service, region):
    return boto3.client(service, region_name=region, endpoint_url=ENDPOINT, **KEYS)


def tagged(kind, tag):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": tag}]}]


def seed_main(region):
    ec2 = client("ec2", region)
    elb = client("elbv2", region)
    clb = client("elb", region)
    rds = client("rds", region)
    ids = {}
    az_a, az_b = region + "a", region + "b"

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", "prod"))["Vpc"]["VpcId"]
    shared = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tagged("vpc", "shared"))["Vpc"]["VpcId"]
    ids["vpc"] = vpc

    def subnet(cidr, az, tag, vpc_id=vpc):
        return ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=tagged("subnet", tag)
        )["Subnet"]["SubnetId"]

    pub_a = subnet("10.0.1.0/24", az_a, "public-a")
    pub_b = subnet("10.0.2.0/24", az_b, "public-b")
    private = subnet("10.0.3.0/24", az_a, "private-a")
    db_b = subnet("10.0.4.0/24", az_b, "db-b")
    shared_sn = subnet("10.1.1.0/24", az_a, "shared-a", shared)

    igw = ec2.create_internet_gateway(TagSpecifications=tagged("internet-gateway", "igw"))["InternetGateway"][
        "InternetGatewayId"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ids["igw"] = igw

    public_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tagged("route-table", "public"))["RouteTable"][
        "RouteTableId"
    ]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for s in (pub_a, pub_b):
        ec2.associate_route_table(RouteTableId=public_rt, SubnetId=s)

    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=pub_a, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    ids["nat"] = nat
    private_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tagged("route-table", "private"))["RouteTable"][
        "RouteTableId"
    ]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)

    # Peering prod <-> shared, accepted, with routes both ways.
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=shared)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"
    ]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
    shared_rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [shared]}])["RouteTables"][0][
        "RouteTableId"
    ]
    ec2.create_route(RouteTableId=shared_rt, DestinationCidrBlock="10.0.0.0/16", VpcPeeringConnectionId=pcx)
    ids["pcx"] = pcx

    # A custom NACL on the private subnet: app traffic from the VPC in, everything out.
    acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=tagged("network-acl", "private-acl"))["NetworkAcl"][
        "NetworkAclId"
    ]
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
        CidrBlock="10.0.0.0/16", PortRange={"From": 8080, "To": 8080},
    )
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=110, Protocol="6", RuleAction="allow", Egress=False,
        CidrBlock="0.0.0.0/0", PortRange={"From": 1024, "To": 65535},
    )
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True, CidrBlock="0.0.0.0/0",
    )
    # Move the private subnet from the default NACL to the custom one.
    default_acl = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [private]}])[
        "NetworkAcls"
    ][0]
    assoc = [a for a in default_acl["Associations"] if a["SubnetId"] == private][0]["NetworkAclAssociationId"]
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    ids["nacl"] = acl

    # A managed prefix list (the office), used by a security-group rule.
    pl = ec2.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "203.0.113.0/24", "Description": "office"}],
    )["PrefixList"]["PrefixListId"]
    ids["prefix_list"] = pl

    def sg(group, desc, vpc_id=vpc):
        return ec2.create_security_group(GroupName=group, Description=desc, VpcId=vpc_id)["GroupId"]

    bastion_sg = sg("bastion", "ssh from anywhere")
    alb_sg = sg("alb", "http from anywhere, https from the office")
    app_sg = sg("app", "8080 from the load balancer")
    db_sg = sg("db", "postgres from the app")
    ec2.authorize_security_group_ingress(
        GroupId=bastion_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=alb_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": pl}]},
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=app_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": alb_sg}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=db_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app_sg}]}],
    )
    ids.update(bastion_sg=bastion_sg, alb_sg=alb_sg, app_sg=app_sg, db_sg=db_sg)

    def instance(subnet_id, group, tag, public):
        return ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
            NetworkInterfaces=[{
                "DeviceIndex": 0, "SubnetId": subnet_id, "Groups": [group],
                "AssociatePublicIpAddress": public,
            }],
            TagSpecifications=tagged("instance", tag),
        )["Instances"][0]["InstanceId"]

    ids["bastion"] = instance(pub_a, bastion_sg, "bastion", False)
    # An Elastic IP rather than an auto-assigned public IP: moto's describe-network-interfaces
    # leaves out PrivateIpAddresses[].Association (real AWS prints it), so only
    # describe-addresses says which public address maps to the bastion.
    bastion_eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=bastion_eip["AllocationId"], InstanceId=ids["bastion"])
    ids["bastion_ip"] = bastion_eip["PublicIp"]
    ids["app"] = instance(private, app_sg, "app-1", False)
    ids["api"] = instance(private, app_sg, "api-1", False)
    ids["shared_host"] = instance(shared_sn, sg("shared", "nothing in", shared), "shared-1", False)

    # An internet-facing ALB in both public subnets: HTTP:80 -> app:8080.
    lb = elb.create_load_balancer(
        Name="web", Subnets=[pub_a, pub_b], SecurityGroups=[alb_sg], Scheme="internet-facing", Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="app", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="instance",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ids["app"], "Port": 8080}])
    listener = elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    # A path rule forwarding /api/* to a second group: api-1 is reached only through it.
    api_tg = elb.create_target_group(
        Name="api", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="instance",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=api_tg, Targets=[{"Id": ids["api"], "Port": 8080}])
    elb.create_rule(
        ListenerArn=listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": api_tg}],
    )
    ids.update(lb="web", lb_arn=lb, tg_arn=tg, listener_arn=listener, api_tg_arn=api_tg)

    # A Classic Load Balancer (the `elb` API) in both public subnets: TCP:80 -> legacy-1:8080,
    # whose group admits 8080 from the CLB's group only. Cross-zone load balancing off.
    clb_sg = sg("clb", "port 80 from anywhere")
    ec2.authorize_security_group_ingress(
        GroupId=clb_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    legacy_sg = sg("legacy-app", "8080 from the classic load balancer")
    ec2.authorize_security_group_ingress(
        GroupId=legacy_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": clb_sg}]}],
    )
    ids["legacy"] = instance(private, legacy_sg, "legacy-1", False)
    clb.create_load_balancer(
        LoadBalancerName="legacy", Subnets=[pub_a, pub_b], SecurityGroups=[clb_sg], Scheme="internet-facing",
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstanceProtocol": "TCP", "InstancePort": 8080}],
    )
    clb.register_instances_with_load_balancer(LoadBalancerName="legacy", Instances=[{"InstanceId": ids["legacy"]}])
    clb.modify_load_balancer_attributes(
        LoadBalancerName="legacy", LoadBalancerAttributes={"CrossZoneLoadBalancing": {"Enabled": False}},
    )
    ids["clb"] = "legacy"

    # An RDS database in the private subnets.
    rds.create_db_subnet_group(
        DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=[private, db_b],
    )
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
        DBSubnetGroupName="db", VpcSecurityGroupIds=[db_sg], PubliclyAccessible=False,
    )
    ids["db"] = "orders-db"
    return ids


def seed_second(region):
    ec2 = client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=tagged("vpc", "analytics"))["Vpc"]["VpcId"]
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="worker", Description="https out only", VpcId=vpc)["GroupId"]
    iid = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=sn,
        SecurityGroupIds=[group], TagSpecifications=tagged("instance", "worker-1"),
    )["Instances"][0]["InstanceId"]
    return {"worker": iid, "worker_vpc": vpc}


def counts(region):
    """What the API lists, in the inventory's kind names."""
    ec2 = client("ec2", region)
    elb = client("elbv2", region)
    rds = client("rds", region)
    instances = [
        i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    listeners = sum(len(elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]) for lb in lbs)
    # Classic Load Balancers count as load balancers, their listeners as listeners.
    clbs = client("elb", region).describe_load_balancers()["LoadBalancerDescriptions"]
    listeners += sum(len(c["ListenerDescriptions"]) for c in clbs)
    peerings = [
        p for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] == "active"
    ]
    c = {
        "vpcs": len(ec2.describe_vpcs()["Vpcs"]),
        "subnets": len(ec2.describe_subnets()["Subnets"]),
        "route_tables": len(ec2.describe_route_tables()["RouteTables"]),
        "network_acls": len(ec2.describe_network_acls()["NetworkAcls"]),
        "security_groups": len(ec2.describe_security_groups()["SecurityGroups"]),
        "instances": len(instances),
        "internet_gateways": len(ec2.describe_internet_gateways()["InternetGateways"]),
        "nat_gateways": len(ec2.describe_nat_gateways()["NatGateways"]),
        "vpc_peering_connections": len(peerings),
        "prefix_lists": len(ec2.describe_managed_prefix_lists()["PrefixLists"]),
        "load_balancers": len(lbs) + len(clbs),
        "listeners": listeners,
        "target_groups": len(elb.describe_target_groups()["TargetGroups"]),
        "db_instances": len(rds.describe_db_instances()["DBInstances"]),
    }
    return {k: v for k, v in c.items() if v}


def main():
    ids = {"eu-west-1": seed_main("eu-west-1"), "eu-central-1": seed_second("eu-central-1")}
    print(json.dumps({"ids": ids, "counts": {r: counts(r) for r in ids}}, indent=2))


if __name__ == "__main__":
    main()
