//! The demo estate's verdicts (models/three-tier/README.md lists them).

use crate::common::{path, query};

fn tt() -> std::path::PathBuf {
    path("models/three-tier")
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["blocked_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn internet_reaches_the_alb_on_443() {
    let v = query(
        &tt(),
        "internet",
        "web-alb",
        &["--protocol", "tcp", "--port", "443"],
    );
    assert_eq!(v["verdict"], "reachable");
    let hops = &v["paths"][0]["hops"];
    assert!(hops.as_array().unwrap().iter().any(|h| h["kind"] == "igw"));
}

#[test]
fn internet_reaches_app_instances_on_8080_only_via_the_alb() {
    let v = query(
        &tt(),
        "internet",
        "app-1",
        &["--protocol", "tcp", "--port", "8080"],
    );
    assert_eq!(v["verdict"], "reachable");
    for p in v["paths"].as_array().unwrap() {
        let entry = p["entry"]
            .as_str()
            .expect("every path enters through a listener");
        assert!(entry.contains("listener/app/web-alb/"), "{entry}");
    }
}

#[test]
fn internet_cannot_reach_the_database_and_every_blocker_is_named() {
    let v = query(
        &tt(),
        "internet",
        "orders-db",
        &["--protocol", "tcp", "--port", "5432"],
    );
    assert_eq!(v["verdict"], "unreachable");
    let c = codes(&v);
    for expected in [
        "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS",
        "SUBNET_ACL_RESTRICTION",
        "ENI_SG_RULES_MISMATCH",
        "NO_RETURN_ROUTE",
    ] {
        assert!(
            c.iter().any(|x| x == expected),
            "missing {expected} in {c:?}"
        );
    }
}

#[test]
fn bastion_is_reachable_on_22_over_ipv4_and_ipv6() {
    let v = query(
        &tt(),
        "internet",
        "bastion",
        &["--protocol", "tcp", "--port", "22"],
    );
    assert_eq!(v["verdict"], "reachable");
    let v4 = query(
        &tt(),
        "81.2.69.160",
        "bastion",
        &["--protocol", "tcp", "--port", "22"],
    );
    assert_eq!(v4["verdict"], "reachable");
    let v6 = query(
        &tt(),
        "2001:db8::1",
        "bastion",
        &["--protocol", "tcp", "--port", "22"],
    );
    assert_eq!(v6["verdict"], "reachable");
    let other = query(
        &tt(),
        "internet",
        "bastion",
        &["--protocol", "tcp", "--port", "23"],
    );
    assert_eq!(other["verdict"], "unreachable");
}

#[test]
fn admin_instance_with_public_ip_but_no_igw_route_is_unreachable() {
    let v = query(&tt(), "internet", "admin-1", &[]);
    assert_eq!(v["verdict"], "unreachable");
    assert!(codes(&v).contains(&"NO_RETURN_ROUTE".to_string()));
}

#[test]
fn app_reaches_the_database_on_5432_from_ephemeral_ports_only() {
    let v = query(
        &tt(),
        "app-1",
        "orders-db",
        &["--protocol", "tcp", "--port", "5432"],
    );
    assert_eq!(v["verdict"], "reachable");
    assert_eq!(v["source_ports"], serde_json::json!(["1024-65535"]));
    let low = query(
        &tt(),
        "app-1",
        "orders-db",
        &["--protocol", "tcp", "--port", "5432", "--source-port", "80"],
    );
    assert_eq!(low["verdict"], "unreachable");
    assert!(codes(&low).contains(&"SUBNET_ACL_RESTRICTION".to_string()));
}

#[test]
fn app_reaches_the_shared_dns_resolver_over_the_peering() {
    let v = query(
        &tt(),
        "app-1",
        "dns-resolver",
        &["--protocol", "udp", "--port", "53"],
    );
    assert_eq!(v["verdict"], "reachable");
    let hops = v["paths"][0]["hops"].as_array().unwrap();
    assert!(hops.iter().any(|h| h["kind"] == "peering"));
}

#[test]
fn any_traffic_query_lists_what_gets_through() {
    let v = query(&tt(), "internet", "web-alb", &[]);
    assert_eq!(v["verdict"], "reachable");
    let ports: Vec<&str> = v["traffic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ports"].as_str().unwrap())
        .collect();
    assert_eq!(ports, vec!["80, 443"]);
}

/// moto and hand-made snapshots lack the load balancer's ENIs: the load balancer still sits in
/// the subnets of its AvailabilityZones and forwards to its targets.
#[test]
fn a_load_balancer_without_enis_still_forwards_to_its_targets() {
    let dir = tempfile::tempdir().unwrap();
    let src = tt().join("111122223333/eu-west-1");
    let dst = dir.path().join("111122223333/eu-west-1");
    std::fs::create_dir_all(&dst).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "describe-network-interfaces.json" {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v["NetworkInterfaces"]
                .as_array_mut()
                .unwrap()
                .retain(|e| !e["Description"].as_str().unwrap_or("").starts_with("ELB "));
            text = v.to_string();
        }
        std::fs::write(dst.join(path.file_name().unwrap()), text).unwrap();
    }
    let v = query(
        dir.path(),
        "internet",
        "app-1",
        &["--protocol", "tcp", "--port", "8080"],
    );
    assert_eq!(v["verdict"], "reachable", "{v}");
    let alb = query(
        dir.path(),
        "internet",
        "web-alb",
        &["--protocol", "tcp", "--port", "443"],
    );
    assert_eq!(alb["verdict"], "reachable");
}
