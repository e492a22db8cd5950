//! `exposure generate`: deterministic synthetic estates that load cleanly.

use std::collections::BTreeSet;
use std::path::Path;

use exposure::generate::{generate, Size};
use exposure::model::Level;

use crate::common::{exposure, query};

/// The files every account/region folder holds (CloudMapper's names).
const FOLDER_FILES: &[&str] = &[
    "ec2-describe-vpcs.json",
    "ec2-describe-subnets.json",
    "ec2-describe-route-tables.json",
    "ec2-describe-network-acls.json",
    "ec2-describe-security-groups.json",
    "ec2-describe-network-interfaces.json",
    "ec2-describe-instances.json",
    "ec2-describe-internet-gateways.json",
    "ec2-describe-nat-gateways.json",
    "ec2-describe-vpc-peering-connections.json",
    "ec2-describe-transit-gateways.json",
    "ec2-describe-transit-gateway-attachments.json",
    "ec2-describe-transit-gateway-vpc-attachments.json",
    "ec2-describe-transit-gateway-route-tables.json",
    "ec2-search-transit-gateway-routes.json",
    "ec2-describe-managed-prefix-lists.json",
    "elbv2-describe-load-balancers.json",
    "elbv2-describe-target-groups.json",
    "elbv2-describe-listeners.json",
    "elbv2-describe-target-health.json",
];

fn write(files: &[(String, Vec<u8>)], dir: &Path) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn generation_is_deterministic_per_size_and_seed() {
    let a = generate(Size::S, 7);
    let b = generate(Size::S, 7);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert!(x.1 == y.1, "{} differs between two runs", x.0);
    }
    let c = generate(Size::S, 8);
    assert_ne!(a, c, "another seed gives another estate");
}

#[test]
fn files_follow_the_cloudmapper_layout() {
    let files = generate(Size::S, 1);
    let mut folders: BTreeSet<(String, String)> = BTreeSet::new();
    for (rel, bytes) in &files {
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts[0], "account-data", "{rel}");
        assert!(
            parts[1].len() == 12 && parts[1].bytes().all(|b| b.is_ascii_digit()),
            "{rel}: the second component is a 12-digit account"
        );
        assert!(exposure::sources::is_region(parts[2]), "{rel}: a region");
        match parts.len() {
            4 => assert!(
                FOLDER_FILES.contains(&parts[3]),
                "{rel}: not a CloudMapper file name"
            ),
            5 => {
                assert_eq!(parts[3], "ec2-get-managed-prefix-list-entries", "{rel}");
                assert!(parts[4].starts_with("pl-") && parts[4].ends_with(".json"));
            }
            _ => panic!("{rel}: unexpected depth"),
        }
        folders.insert((parts[1].to_string(), parts[2].to_string()));
        let v: serde_json::Value = serde_json::from_slice(bytes).expect("valid JSON");
        assert!(v.is_object(), "{rel}: AWS CLI output is an object");
    }
    assert!(
        folders.len() >= 3,
        "several accounts and regions: {folders:?}"
    );
    let accounts: BTreeSet<&String> = folders.iter().map(|f| &f.0).collect();
    let regions: BTreeSet<&String> = folders.iter().map(|f| &f.1).collect();
    assert!(accounts.len() >= 2 && regions.len() >= 2);
    let paths: BTreeSet<&str> = files.iter().map(|f| f.0.as_str()).collect();
    for (account, region) in &folders {
        for name in FOLDER_FILES {
            let p = format!("account-data/{account}/{region}/{name}");
            assert!(paths.contains(p.as_str()), "missing {p}");
        }
    }
}

#[test]
fn size_s_loads_without_warnings_with_the_table_counts() {
    let dir = tempfile::tempdir().unwrap();
    write(&generate(Size::S, 1), dir.path());
    let snap = exposure::sources::load_path(dir.path()).expect("loads");
    let warnings: Vec<String> = snap
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(ToString::to_string)
        .collect();
    assert!(warnings.is_empty(), "warnings: {warnings:#?}");
    let m = &snap.model;
    let spec = Size::S.spec();
    assert_eq!(m.network_interfaces.len(), spec.enis);
    assert_eq!(m.vpcs.len(), spec.vpcs);
    assert_eq!(m.security_groups.len(), spec.sgs);
    assert_eq!(m.load_balancers.len(), spec.lbs);
    assert_eq!(m.peerings.len(), spec.peerings);
    // The rest of the structure is there too.
    assert!(m.transit_gateways.len() >= 2);
    assert!(m.tgw_attachments.len() > spec.vpcs);
    let tgw_routes: usize = m.tgw_route_tables.values().map(|t| t.routes.len()).sum();
    assert_eq!(tgw_routes, spec.tgw_routes);
    assert!(m.prefix_lists.values().all(|p| p.entries_known));
    assert!(!m.target_groups.is_empty() && !m.listeners.is_empty());
    assert!(m.nat_gateways.len() >= 3 && !m.internet_gateways.is_empty());
    assert_eq!(m.network_acls.len(), 5 * spec.vpcs);
    assert_eq!(m.route_tables.len(), 10 * spec.vpcs);
    for n in m.network_acls.values().filter(|n| !n.is_default) {
        assert!(
            (10..=40).contains(&n.entries.len()),
            "{} has {} entries",
            n.id,
            n.entries.len()
        );
    }
    // No two VPCs overlap (peering and the transit gateways need that).
    let cidrs: Vec<_> = m.vpcs.values().flat_map(|v| v.cidrs_v4.clone()).collect();
    for (i, a) in cidrs.iter().enumerate() {
        for b in &cidrs[i + 1..] {
            assert!(!a.contains(b) && !b.contains(a), "{a} overlaps {b}");
        }
    }
    // Nothing is assumed: every kind is present.
    assert!(exposure::inventory::assumptions(m).is_empty());
}

#[test]
fn a_query_on_the_s_estate_answers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("estate");
    exposure()
        .args(["generate", "--size", "s", "--seed", "3", "--output"])
        .arg(&out)
        .assert()
        .success();
    let snap = exposure::sources::load_path(&out).expect("loads");
    let m = &snap.model;
    let lb = m.load_balancers.values().next().expect("a load balancer");
    let answer = query(&out, "internet", &lb.name, &[]);
    let verdict = answer["verdict"].as_str().unwrap();
    assert!(["reachable", "unreachable", "unknown"].contains(&verdict));
    let mut enis = m
        .network_interfaces
        .values()
        .filter(|e| e.owner.kind == exposure::model::OwnerKind::Ec2Instance);
    let (a, b) = (enis.next().unwrap(), enis.nth(100).unwrap());
    let answer = query(&out, &a.id, &b.id, &["--protocol", "tcp"]);
    assert!(answer["verdict"].is_string());
}

#[test]
fn generate_refuses_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
    exposure()
        .args(["generate", "--size", "s", "--output"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not empty"));
    assert!(!dir.path().join("account-data").exists());
}
