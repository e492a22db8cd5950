#!/usr/bin/env python3
"""Loads every snapshot folder given and checks `exposure analyze` counts against the JSON.

Usage: check-snapshot-counts.py BIN SNAPSHOT_DIR...
For each folder: `BIN analyze DIR --format json` must exit 0, and for each kind below the
count must equal the number of live items in the folder's JSON files (the loader skips
terminated instances, deleted NAT gateways and peerings that are not active, with a note).
"""
import json
import subprocess
import sys

from snapshot_json import documents, live_instances

# top-level key -> (inventory kind, predicate for a live item)
KINDS = {
    "Vpcs": ("vpcs", "VpcId", lambda x: x.get("State") != "deleted"),
    "Subnets": ("subnets", "SubnetId", lambda x: True),
    "RouteTables": ("route_tables", "RouteTableId", lambda x: True),
    "NetworkAcls": ("network_acls", "NetworkAclId", lambda x: True),
    "SecurityGroups": ("security_groups", "GroupId", lambda x: True),
    "InternetGateways": ("internet_gateways", "InternetGatewayId", lambda x: True),
    "NatGateways": ("nat_gateways", "NatGatewayId", lambda x: x.get("State") not in ("deleted", "deleting", "failed")),
    "VpcPeeringConnections": ("vpc_peering_connections", "VpcPeeringConnectionId", lambda x: (x.get("Status") or {}).get("Code", "active") == "active"),
    "LoadBalancers": ("load_balancers", "LoadBalancerArn", lambda x: (x.get("State") or {}).get("Code") != "failed"),
    "TargetGroups": ("target_groups", "TargetGroupArn", lambda x: True),
    "TransitGateways": ("transit_gateways", "TransitGatewayId", lambda x: x.get("State") not in ("deleted", "deleting")),
    "TransitGatewayRouteTables": ("transit_gateway_route_tables", "TransitGatewayRouteTableId", lambda x: x.get("State") not in ("deleted", "deleting")),
    "VpnGateways": ("vpn_gateways", "VpnGatewayId", lambda x: x.get("State") not in ("deleted", "deleting")),
}


def expected_counts(folder):
    counts = {}
    ids = {}
    instances = set()
    enis = set()
    for doc in documents(folder):
        for key, (kind, id_key, live) in KINDS.items():
            for item in doc.get(key, []):
                # The same resource may be described from two accounts (peerings): count ids.
                if live(item):
                    ids.setdefault(kind, set()).add(item[id_key])
        for i in live_instances(doc):
            instances.add(i["InstanceId"])
            for n in i.get("NetworkInterfaces", []):
                enis.add(n["NetworkInterfaceId"])
        for n in doc.get("NetworkInterfaces", []):
            if n.get("SubnetId"):
                enis.add(n["NetworkInterfaceId"])
    for kind, s in ids.items():
        counts[kind] = len(s)
    counts["instances"] = len(instances)
    counts["network_interfaces"] = len(enis)
    return counts


def main():
    binary, folders = sys.argv[1], sys.argv[2:]
    bad = 0
    for folder in folders:
        out = subprocess.run([binary, "analyze", folder, "--format", "json"], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL {folder}: exit {out.returncode}: {out.stderr.strip()[:300]}")
            bad += 1
            continue
        totals = json.loads(out.stdout)["totals"]
        for kind, n in sorted(expected_counts(folder).items()):
            got = totals.get(kind, 0)
            if got != n:
                print(f"FAIL {folder}: {kind}: loaded {got}, the JSON holds {n}")
                bad += 1
    print(f"{len(folders)} snapshots checked, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
