//! The command-line contract: exit codes, formats, errors that name the file.

use crate::common::{exposure, path};
use predicates::prelude::*;

#[test]
fn analyze_without_snapshot_prints_the_demo_inventory_without_warnings() {
    exposure()
        .arg("analyze")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "models/three-tier (embedded demo)",
        ))
        .stdout(predicate::str::contains("No warnings."))
        .stdout(predicate::str::contains("load balancers"));
}

#[test]
fn analyze_json_has_schema_version_and_counts() {
    let out = exposure()
        .args(["analyze", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["totals"]["vpcs"], 2);
    assert_eq!(v["totals"]["db_instances"], 1);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
    assert_eq!(v["by_location"][0]["account"], "111122223333");
    assert_eq!(v["by_location"][0]["region"], "eu-west-1");
}

#[test]
fn analyze_of_the_demo_folder_matches_the_embedded_demo() {
    let embedded = exposure()
        .args(["analyze", "--format", "json"])
        .output()
        .unwrap();
    let folder = exposure()
        .arg("analyze")
        .arg(path("models/three-tier"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&embedded.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&folder.stdout).unwrap();
    assert_eq!(a["totals"], b["totals"]);
}

#[test]
fn a_missing_snapshot_is_a_one_line_error_with_exit_2() {
    exposure()
        .args(["analyze", "/nonexistent/snapshot"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/snapshot does not exist",
        ))
        .stderr(predicate::function(|s: &str| s.lines().count() == 1));
}

#[test]
fn unknown_endpoints_list_candidates_and_exit_2() {
    exposure()
        .arg("query")
        .arg(path("models/three-tier"))
        .args(["--from", "internet", "--to", "app"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean"))
        .stderr(predicate::str::contains("app-1"));
}

/// An endpoint written as an address or a CIDR that is not a valid one says why, rather than
/// that it matches nothing.
#[test]
fn an_invalid_address_or_cidr_says_why() {
    for (endpoint, why) in [
        (
            "10.0.0.0/33",
            "`/33` is not a prefix length for IPv4 (0-32)",
        ),
        (
            "2001:db8::/129",
            "`/129` is not a prefix length for IPv6 (0-128)",
        ),
        (
            "fe80::1%eth0",
            "a zone index (`%eth0`) is not part of an address here; write `fe80::1`",
        ),
        ("10.0.0.300", "an IPv4 address is four numbers 0-255"),
        ("2001:db8:::1", "not a valid IPv6 address"),
    ] {
        exposure()
            .arg("query")
            .arg(path("models/three-tier"))
            .args(["--from", endpoint, "--to", "bastion"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "`{endpoint}` is not a valid IP address or CIDR: {why}"
            )));
    }
}

/// A subnet or CIDR holding only interfaces that forward what others send (here a NAT
/// gateway) has no sender: an input error naming them (it was answered as if the NAT gateway
/// opened connections from its Elastic IP).
#[test]
fn a_container_of_forwarders_only_has_no_sender() {
    for from in ["subnet-04400000000000001", "10.0.0.0/24"] {
        exposure()
            .arg("query")
            .arg(path("fixtures/semantics/nat-gateway-outbound-only"))
            .args(["--from", from, "--to", "internet"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("only interfaces that forward"))
            .stderr(predicate::str::contains("crm-nat-a"));
    }
}

/// A name shared by a VPC (Name tag) and a security group (group name) is ambiguous: exit 2,
/// naming both (fixture names-of-vpcs-subnets-groups).
#[test]
fn a_name_of_a_vpc_and_a_group_is_ambiguous() {
    exposure()
        .arg("query")
        .arg(path("fixtures/semantics/names-of-vpcs-subnets-groups"))
        .args(["--from", "onprem", "--to", "monitor"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ambiguous"))
        .stderr(predicate::str::contains("vpc-0a100000000000001"))
        .stderr(predicate::str::contains("sg-0a100000000000003"));
}

#[test]
fn an_endpoint_the_loader_skipped_says_why() {
    // A terminated instance and a deleted NAT gateway: the note that skipped each, with its file.
    for (id, why) in [
        ("i-08100000000000002", "is terminated"),
        ("nat-08100000000000001", "is deleted"),
    ] {
        exposure()
            .arg("query")
            .arg(path("fixtures/edge/non-live-states"))
            .args(["--from", "internet", "--to", id])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("the loader skipped it"))
            .stderr(predicate::str::contains(why))
            .stderr(predicate::str::contains("non-live-states"));
    }
    // A plain word is no id: the notes' own words do not make it a skipped resource.
    exposure()
        .arg("query")
        .arg(path("fixtures/edge/non-live-states"))
        .args(["--from", "internet", "--to", "skipped"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the loader skipped it").not());
}

/// A stopped instance is analysed as configured, and the answer says it is stopped.
/// `exposure query FIXTURE --from internet --to TO --protocol tcp --port PORT --format json`.
fn internet_query(fixture: &str, to: &str, port: &str) -> serde_json::Value {
    let out = exposure()
        .arg("query")
        .arg(path(fixture))
        .args(["--from", "internet", "--to", to])
        .args(["--protocol", "tcp", "--port", port, "--format", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Whether some assumption of a query's answer starts with `start`.
fn assumes(v: &serde_json::Value, start: &str) -> bool {
    v["assumptions"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x.as_str().is_some_and(|s| s.starts_with(start)))
    })
}

#[test]
fn a_query_about_a_stopped_instance_says_so() {
    let v = internet_query(
        "fixtures/semantics/instance-stopped",
        "i-0a000000000000001",
        "22",
    );
    assert_eq!(v["verdict"], "reachable");
    assert!(
        assumes(&v, "i-0a000000000000001 is stopped"),
        "{}",
        v["assumptions"]
    );
}

#[test]
fn a_query_about_an_interface_attached_to_nothing_says_so() {
    let v = internet_query(
        "fixtures/semantics/instance-stopped",
        "spare-interface",
        "22",
    );
    assert_eq!(v["verdict"], "reachable");
    assert!(
        assumes(&v, "eni-0a000000000000003 is attached to nothing"),
        "{}",
        v["assumptions"]
    );
}

#[test]
fn a_query_through_a_classic_load_balancer_says_which_cross_zone_default_it_took() {
    let v = internet_query(
        "fixtures/semantics/clb-cross-zone",
        "i-0900000000000001",
        "8081",
    );
    // clb-default has no attributes file; clb-no-cross-zone has one.
    assert!(
        assumes(&v, "clb-default: cross-zone load balancing taken as on"),
        "{}",
        v["assumptions"]
    );
    assert!(
        !assumes(&v, "clb-no-cross-zone: cross-zone"),
        "{}",
        v["assumptions"]
    );
}

#[test]
fn expect_flag_sets_exit_code_1_when_not_met() {
    exposure()
        .arg("query")
        .arg(path("models/three-tier"))
        .args([
            "--from",
            "internet",
            "--to",
            "orders-db",
            "--expect",
            "reachable",
        ])
        .assert()
        .code(1);
    exposure()
        .arg("query")
        .arg(path("models/three-tier"))
        .args([
            "--from",
            "internet",
            "--to",
            "orders-db",
            "--expect",
            "unreachable",
        ])
        .assert()
        .code(0);
}

#[test]
fn bad_port_is_a_usage_error() {
    exposure()
        .arg("query")
        .arg(path("models/three-tier"))
        .args(["--from", "internet", "--to", "bastion", "--port", "99999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--port"));
}

#[test]
fn a_huge_but_valid_file_loads() {
    // 20,000 ENIs in one describe-network-interfaces file (about 10 MB).
    let dir = tempfile::tempdir().unwrap();
    let mut enis = Vec::new();
    for i in 0..20_000u32 {
        enis.push(serde_json::json!({
            "NetworkInterfaceId": format!("eni-{i:017x}"),
            "SubnetId": "subnet-1",
            "VpcId": "vpc-1",
            "AvailabilityZone": "eu-west-1a",
            "Description": "Primary network interface",
            "InterfaceType": "interface",
            "PrivateIpAddress": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            "PrivateIpAddresses": [{"PrivateIpAddress": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256), "Primary": true}],
            "Groups": [],
        }));
    }
    std::fs::write(
        dir.path().join("enis.json"),
        serde_json::to_vec(&serde_json::json!({"NetworkInterfaces": enis})).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("vpcs.json"),
        r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/8"}],"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.0.0/8","AvailabilityZone":"eu-west-1a"}]}"#,
    )
    .unwrap();
    let out = exposure()
        .arg("analyze")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["network_interfaces"], 20_000);
}

#[test]
fn protocols_are_names_or_numbers_and_only_tcp_and_udp_take_ports() {
    let fixture = path("fixtures/semantics/sg-rule-protocol-number");
    let ask = |protocol: &str, port: Option<&str>| {
        let mut cmd = exposure();
        cmd.arg("query").arg(&fixture).args([
            "--from",
            "i-02100000000000001",
            "--to",
            "i-02100000000000004",
            "--protocol",
            protocol,
        ]);
        if let Some(p) = port {
            cmd.args(["--port", p]);
        }
        cmd.assert()
    };
    ask("TCP", Some("443"))
        .code(0)
        .stdout(predicate::str::contains("REACHABLE"));
    ask("50", None)
        .code(0)
        .stdout(predicate::str::contains("(proto-50): REACHABLE"));
    // Leading zeros are the same number; -1 is every protocol, as security groups write it.
    ask("06", Some("443"))
        .code(0)
        .stdout(predicate::str::contains("(tcp port 443): REACHABLE"));
    exposure()
        .arg("query")
        .arg(&fixture)
        .args([
            "--from",
            "i-02100000000000001",
            "--to",
            "i-02100000000000004",
        ])
        .arg("--protocol=-1")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("(any traffic): REACHABLE"));
    ask("50", Some("443"))
        .code(2)
        .stderr(predicate::str::contains(
            "--port does not apply to protocol 50",
        ));
    ask("icmp", Some("8"))
        .code(2)
        .stderr(predicate::str::contains("--port does not apply to ICMP"));
    ask("256", None)
        .code(2)
        .stderr(predicate::str::contains("unknown protocol `256`"));
}

#[test]
fn an_exposure_of_some_members_names_them() {
    // media-web-2 has no route back to the internet: only media-web-1 is exposed, and the
    // application's name (its first members) must not suggest that both are.
    exposure()
        .arg("analyze")
        .arg(path("fixtures/semantics/internet-return-route"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "internet (IPv4) -> media-web-1, media-web-2 [ec2, 1 of 2 interfaces: media-web-1]: tcp 443",
        ));
}

/// An address inside a VPC's private space that no interface holds sends nothing (its replies
/// would stay in the VPC): an input error naming the VPC. A public range another VPC uses
/// privately is still the internet's (the fixture's cases).
#[test]
fn an_unheld_private_address_of_a_vpc_is_refused_as_a_source() {
    let fixture = path("fixtures/semantics/public-range-used-privately-elsewhere");
    exposure()
        .arg("query")
        .arg(&fixture)
        .args(["--from", "10.0.1.99", "--to", "i-04000000000000001"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "lies in the address space of vpc-04000000000000001 and no network interface holds it",
        ));
}

/// A route to a prefix list is walked once per list entry; the answer shows one path for
/// hops that are the same, carrying what each carries (it showed four identical paths).
#[test]
fn paths_with_the_same_hops_are_shown_once() {
    let out = exposure()
        .arg("query")
        .arg(path("fixtures/semantics/gateway-endpoint-prefix-list"))
        .args([
            "--from",
            "i-03500000000000001",
            "--to",
            "vpce-03500000000000001",
            "--protocol",
            "tcp",
            "--port",
            "443",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let paths = v["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "{paths:#?}");
    assert_eq!(paths[0]["traffic"][0]["ports"], "443");
}

/// The internet to the internet (also by one internet gateway) crosses nothing in the
/// snapshot: an input error, not an `unreachable` without a reason.
#[test]
fn the_internet_to_the_internet_is_an_input_error() {
    for (from, to) in [
        ("internet", "internet"),
        ("igw-01b00000000000001", "internet-ipv6"),
    ] {
        exposure()
            .arg("query")
            .arg(path("fixtures/semantics/sg-reference-ipv6-igw"))
            .args(["--from", from, "--to", to])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("are both the internet"));
    }
}

/// The source-port note speaks of the estate, not of the question: "ordinary clients get no
/// reply" only when the ports asked about include theirs and the estate cut them off.
#[test]
fn the_source_port_note_is_about_what_the_estate_cuts() {
    let ask = |source_port: Option<&str>| -> serde_json::Value {
        let mut cmd = exposure();
        cmd.arg("query")
            .arg(path("fixtures/semantics/nacl-ephemeral-reply"))
            .args([
                "--from",
                "i-02100000000000001",
                "--to",
                "i-02100000000000003",
            ])
            .args(["--protocol", "tcp", "--port", "443", "--format", "json"]);
        if let Some(p) = source_port {
            cmd.args(["--source-port", p]);
        }
        let out = cmd.output().expect("runs");
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let notes = |v: &serde_json::Value| v["notes"].to_string();
    // Any source port: ephemeral ones get no reply (the NACL's outbound rule 100).
    let any = ask(None);
    assert_eq!(any["verdict"], "reachable");
    assert!(notes(&any).contains("ordinary clients"), "{}", notes(&any));
    // Port 443 asked about, and it gets through: nothing to add.
    let one = ask(Some("443"));
    assert_eq!(one["verdict"], "reachable");
    assert_eq!(one["notes"], serde_json::json!([]), "{}", notes(&one));
    // 1-1023 asked about: all get through, nothing to add (it said ordinary clients got no
    // reply, of ports nobody asked about).
    let low = ask(Some("1-1023"));
    assert_eq!(low["notes"], serde_json::json!([]), "{}", notes(&low));
    // 0-2000 asked about: the estate cuts 1024-2000, ordinary clients' ports.
    let wide = ask(Some("0-2000"));
    assert_eq!(wide["source_ports"], serde_json::json!(["0-1023"]));
    assert!(
        notes(&wide).contains("ordinary clients"),
        "{}",
        notes(&wide)
    );
}

/// A route to a NAT gateway or transit gateway attachment the snapshot lists in a state that
/// carries nothing names that state (it read "not in the snapshot").
#[test]
fn a_route_to_a_failed_nat_gateway_names_its_state() {
    exposure()
        .args(["query", "--from", "i-04400000000000001", "--to", "internet"])
        .args(["--protocol", "tcp", "--port", "443"])
        .arg(path("fixtures/semantics/nat-gateway-failed"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "nat-04400000000000001 is failed: it carries no traffic",
        ));
}
