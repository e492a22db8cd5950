//! `exposure analyze` on the demo estate: exactly the exposures and findings its README lists,
//! snapshot-tested in every format.

use crate::common::{exposure, path};

/// The standard output of `exposure analyze ARGS`, which must succeed.
fn run_analyze(args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = exposure().arg("analyze").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn analyze(format: &str) -> String {
    String::from_utf8(run_analyze(&["--format".as_ref(), format.as_ref()])).unwrap()
}

/// The JSON report of a fixture under `fixtures/semantics/`.
fn analyze_fixture(name: &str) -> serde_json::Value {
    let dir = path(&format!("fixtures/semantics/{name}"));
    serde_json::from_slice(&run_analyze(&[
        "--format".as_ref(),
        "json".as_ref(),
        dir.as_ref(),
    ]))
    .unwrap()
}

/// Whether one of the report's assumptions contains every one of `parts`.
fn assumes(v: &serde_json::Value, parts: &[&str]) -> bool {
    v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .any(|a| parts.iter().all(|p| a.contains(p)))
}

#[test]
fn demo_exposures_are_the_documented_ones() {
    let v: serde_json::Value = serde_json::from_str(&analyze("json")).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["kind"], "analysis");
    let name = |id: &str| -> String {
        v["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["name"].as_str().unwrap().to_string())
            .unwrap()
    };
    let mut external: Vec<String> = v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] != "applications")
        .map(|e| {
            let traffic: Vec<String> = e["traffic"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    format!(
                        "{} {}",
                        t["protocol"].as_str().unwrap(),
                        t["ports"].as_str().unwrap()
                    )
                    .trim()
                    .to_string()
                })
                .collect();
            format!(
                "{} {} {} -> {}: {}",
                e["status"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
                e["entries"],
                name(e["target"].as_str().unwrap()),
                traffic.join("; ")
            )
        })
        .collect();
    external.sort();
    assert_eq!(
        external,
        vec![
            r#"effective internet-ipv4 ["direct"] -> bastion: tcp 22"#,
            r#"effective internet-ipv4 ["web-alb HTTP 80","web-alb HTTPS 443"] -> web-alb: tcp 80, 443"#,
            r#"effective internet-ipv4 ["web-alb HTTPS 443"] -> app-1, app-2: tcp 8080"#,
            r#"effective internet-ipv6 ["direct"] -> bastion: tcp 22"#,
            r#"latent internet-ipv4 ["direct"] -> admin-1: all"#,
        ]
    );
    let findings: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for expected in [
        ("sg-cidr-where-reference-fits", "medium"),
        ("public-subnet-non-lb", "medium"),
        ("sg-open-to-world", "high"),
        ("internet-admin-port", "high"),
        ("default-sg-has-rules", "low"),
        ("nacl-rule-shadowed", "medium"),
    ] {
        assert!(
            findings.contains(&(expected.0.to_string(), expected.1.to_string())),
            "missing {expected:?} in {findings:?}"
        );
    }
    let db = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "sg-cidr-where-reference-fits")
        .unwrap();
    assert!(db["message"].as_str().unwrap().contains("reference app-sg"));
}

#[test]
fn demo_report_human() {
    insta::assert_snapshot!("analyze_three_tier_human", analyze("human"));
}

#[test]
fn demo_report_json() {
    insta::assert_snapshot!("analyze_three_tier_json", analyze("json"));
}

#[test]
fn demo_report_markdown() {
    insta::assert_snapshot!("analyze_three_tier_markdown", analyze("markdown"));
}

#[test]
fn no_app_to_app_keeps_the_outside_exposures_and_says_what_it_skipped() {
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = exposure()
            .args(["analyze", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let full = run(&[]);
    let outside = run(&["--no-app-to-app"]);
    let external = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source"] != "applications")
            .cloned()
            .collect()
    };
    assert!(!external(&full).is_empty());
    assert_eq!(external(&full), external(&outside));
    assert!(full["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["source"] == "applications"));
    assert!(outside["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["source"] != "applications"));
    assert!(outside["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a.as_str().unwrap().contains("--no-app-to-app")));
}

/// The report's return check through a transit gateway cuts by client address: in the fleet
/// VPC only 10.1.9.0/24 is blackholed in the TGW table, so the replies to fleet-1 (10.1.1.10)
/// get back and its application reaches monitor-1, although the same return route in fleet's
/// subnets covers the quarantined subnet too (which the report once blocked all together).
#[test]
fn tgw_return_check_spares_the_clients_whose_replies_get_back() {
    let v = analyze_fixture("tgw-blackhole");
    let fleet = "ec2:vpc-06400000000000002:sg-06400000000000004";
    let monitor = "ec2:vpc-06400000000000001:sg-06400000000000003";
    let hit = v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source_application"] == fleet && e["target"] == monitor)
        .expect("fleet's application reaches monitor-1");
    assert_eq!(hit["status"], "effective");
    assert_eq!(hit["traffic"][0]["protocol"], "tcp");
    assert_eq!(hit["traffic"][0]["ports"], "443");
}

/// A transit gateway attachment's own interfaces host nothing (§6.2, §7): the report does not
/// list them as reached (it listed `on-premises -> tgw-attach-…: all` as an effective
/// exposure, and every application as reaching them), keeps the real exposures, and says what
/// it leaves out.
#[test]
fn tgw_attachment_interfaces_are_not_destinations() {
    let v = analyze_fixture("tgw-attachment-interface");
    let exposures = v["exposures"].as_array().unwrap();
    assert!(
        exposures
            .iter()
            .all(|e| !e["target"].as_str().unwrap().starts_with("tgw-attachment:")),
        "no exposure targets a transit gateway attachment: {exposures:#?}"
    );
    let monitor = "ec2:vpc-0a100000000000001:sg-0a100000000000003";
    let hit = exposures
        .iter()
        .find(|e| e["source"] == "onprem" && e["target"] == monitor)
        .expect("on-premises still reaches monitor-1");
    assert_eq!(hit["traffic"][0]["ports"], "22");
    assert!(
        assumes(&v, &["transit gateway attachments", "not destinations"]),
        "the report says it leaves them out"
    );
    // The attachments are still listed as applications (the estate's inventory).
    assert!(v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "tgw-attachment"));
}

/// A latent exposure names what stops its own traffic today, for the members the groups admit
/// it to, every blocker included: the IPv6 HTTPS that dualstack-web admits from `::/0` is
/// stopped by the subnet's NACL (it was blamed on the group, whose blocks were of other
/// ports); crm-app-1 has no public address (the list was empty: hosts without an address got
/// no hypothetical leg). What ends `unknown` today (store-public behind the gateway route
/// table's appliance) says `UNDECIDED`.
#[test]
fn latent_exposures_name_what_stops_their_own_traffic() {
    let latent = |fixture: &str| -> Vec<(String, String, Vec<String>)> {
        analyze_fixture(fixture)["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] == "latent")
            .map(|e| {
                (
                    e["source"].as_str().unwrap().to_string(),
                    e["target"].as_str().unwrap().to_string(),
                    e["blocked_by"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        latent("address-families-separate"),
        [(
            "internet-ipv6".to_string(),
            "ec2:vpc-02300000000000001:sg-02300000000000002".to_string(),
            vec!["SUBNET_ACL_RESTRICTION".to_string()]
        )]
    );
    let crm = latent("nat-gateway-outbound-only");
    assert_eq!(crm.len(), 1);
    assert!(crm[0]
        .2
        .contains(&"IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS".to_string()));
    // store-public's way in goes through the gateway route table's appliance: `UNDECIDED`.
    let store = latent("lb-listener-before-path");
    assert!(
        store
            .iter()
            .any(|(_, target, codes)| target.contains("store-public")
                && codes.contains(&"UNDECIDED".to_string())),
        "{store:?}"
    );
    // A `direct` latent exposure names the direct way's blockers, not those of a load
    // balancer's leg to the same host (ENI_SG_RULES_MISMATCH there).
    let api = latent("alb-target-routing");
    assert_eq!(api.len(), 1);
    assert_eq!(
        api[0].2,
        ["IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS", "NO_RETURN_ROUTE"]
    );
}

/// A gateway route table intercepts only the destinations its appliance routes match (§3.4):
/// shop-igw-ingress sends 10.0.2.0/24 (shop-web-2) to an appliance ENI and leaves the rest of
/// the VPC on its local route, so the internet still reaches shop-web-1 (10.0.1.10) directly.
/// The report once treated the whole VPC as intercepted and left shop-web-1 latent.
#[test]
fn gateway_route_table_spares_the_destinations_it_does_not_intercept() {
    let v = analyze_fixture("gateway-route-table-ingress");
    let web = "ec2:vpc-09000000000000001:sg-09000000000000002";
    let hit = v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == "internet-ipv4" && e["target"] == web)
        .expect("the internet reaches the shop-web application");
    assert_eq!(hit["status"], "effective");
    assert_eq!(hit["traffic"][0]["protocol"], "tcp");
    assert_eq!(hit["traffic"][0]["ports"], "443");
    // shop-web-1 only: shop-web-2's traffic goes to the appliance, which is not followed,
    // and the report says so.
    assert_eq!(hit["members_exposed"], 1);
    assert!(
        assumes(&v, &["rtb-09000000000000003", "10.0.2.0/24"]),
        "the report names the gateway route table it does not follow"
    );
}

/// NLB client IP preservation holds only within an address family (§5.3): game-tcp-443
/// preserves the client IP (instance targets), so IPv4 clients meet game-1's 10.0.0.0/16 rule
/// with their own address and are refused, while IPv6 clients of the dualstack NLB reach the
/// IPv4 target from the node's IPv4 address, which the rule admits.
#[test]
fn nlb_preserves_the_client_ip_only_within_its_address_family() {
    let v = analyze_fixture("nlb-client-ip-preservation-ipv6-client");
    let game1 = "ec2:vpc-09100000000000001:sg-09100000000000002";
    let to_game1: Vec<&str> = v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == game1 && e["status"] == "effective")
        .filter(|e| e["source"] != "applications")
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(to_game1, vec!["internet-ipv6"]);
}

/// The effective sources (internet, on-premises) of `target` in a fixture's report, with the
/// ports each reaches.
fn outside_sources(v: &serde_json::Value, target: &str) -> Vec<(String, String)> {
    v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == target && e["status"] == "effective")
        .filter(|e| e["source"] != "applications")
        .map(|e| {
            let ports: Vec<&str> = e["traffic"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["ports"].as_str().unwrap())
                .collect();
            (e["source"].as_str().unwrap().to_string(), ports.join(","))
        })
        .collect()
}

/// The mirror case (§5.3): an IPv4 client of a dualstack NLB reaches an IPv6 target from the
/// node's IPv6 address even with preservation on, so svc-2's rule for the NLB subnets' IPv6
/// ranges admits the IPv4 internet, svc-1's 0.0.0.0/0 rule admits nothing, and IPv6 clients
/// (who keep their address) reach neither.
#[test]
fn nlb_translates_ipv4_clients_of_an_ipv6_target() {
    let v = analyze_fixture("nlb-client-ip-preservation-ipv6-target");
    let svc1 = "ec2:vpc-09a00000000000001:sg-09a00000000000002";
    let svc2 = "ec2:vpc-09a00000000000001:sg-09a00000000000003";
    assert_eq!(outside_sources(&v, svc1), vec![]);
    assert_eq!(
        outside_sources(&v, svc2),
        vec![("internet-ipv4".to_string(), "443".to_string())]
    );
}

/// AWS does not support NLB client IP preservation towards targets reached through a transit
/// gateway (§5.3): client-1 reaches backend-1 through the TGW only by the listener whose target
/// group does not preserve (8443); the preserving one (443) is left out as `unknown`, and the
/// report says why.
#[test]
fn nlb_preservation_through_a_transit_gateway_is_undecided() {
    let v = analyze_fixture("nlb-client-ip-preservation-tgw-target");
    let backend = "ec2:vpc-09b00000000000002:sg-09b00000000000004";
    let ports: Vec<&str> = v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == backend && e["source"] == "applications")
        .filter(|e| e["status"] == "effective")
        .flat_map(|e| e["traffic"].as_array().unwrap().iter())
        .map(|t| t["ports"].as_str().unwrap())
        .collect();
    assert_eq!(ports, vec!["8443"]);
    assert!(
        assumes(
            &v,
            &[
                "ends in `unknown`",
                "front-nlb forwards to 10.1.1.10 with the client IP preserved through tgw-09b00000000000001",
                "transit gateway",
            ]
        ),
        "the report names the undecided path: {}",
        v["assumptions"]
    );
}

/// Targets that do not support client IP preservation (§5.3): legacy-1 (m3.medium) is reached
/// from the internet only by the listener that does not preserve (8443), modern-1 (m5.large)
/// through the preserving one (443); the PrivateLink interface is not reached either way, and
/// the report names both undecided paths.
#[test]
fn nlb_preservation_towards_unsupported_targets_is_undecided() {
    let v = analyze_fixture("nlb-client-ip-preservation-unsupported-targets");
    let legacy = "ec2:vpc-09c00000000000001:sg-09c00000000000002";
    let modern = "ec2:vpc-09c00000000000001:sg-09c00000000000003";
    let api = "vpce:vpce-09c00000000000001";
    let one = |p: &str| vec![("internet-ipv4".to_string(), p.to_string())];
    assert_eq!(outside_sources(&v, legacy), one("8443"));
    assert_eq!(outside_sources(&v, modern), one("443"));
    assert_eq!(outside_sources(&v, api), vec![]);
    assert!(assumes(&v, &["ends in `unknown`", "legacy-1", "m3.medium"]));
    assert!(assumes(
        &v,
        &["ends in `unknown`", "private-api", "PrivateLink"]
    ));
}

/// Routes to appliances end in `unknown`, which the report leaves out: it says so, naming the
/// route (here a route to a Gateway Load Balancer endpoint) and the VPC whose traffic takes it.
#[test]
fn report_names_the_appliance_routes_it_does_not_follow() {
    let v = analyze_fixture("gwlb-endpoint-route");
    assert!(
        assumes(
            &v,
            &[
                "ends in `unknown`",
                "route table rtb-03600000000000003 sends 0.0.0.0/0 to vpce-03600000000000001",
                "(from vpc-03600000000000001)"
            ]
        ),
        "the report names the route it does not follow: {}",
        v["assumptions"]
    );
}

/// Paths that end in `unknown` are left out of the report: its assumptions say why and who
/// sends that traffic (here routes to an appliance that are more specific than `local`); the
/// demo estate, where every path is decided, has no such line.
#[test]
fn report_names_the_undecided_paths_it_leaves_out() {
    let v = analyze_fixture("route-more-specific-than-local");
    assert!(
        assumes(
            &v,
            &[
                "ends in `unknown`",
                "route table rtb-03400000000000002 sends 10.0.2.0/24 to eni-03400000000000001",
                "(from vpc-03400000000000001)"
            ]
        ),
        "the report names the undecided paths: {}",
        v["assumptions"]
    );
    let demo: serde_json::Value = serde_json::from_str(&analyze("json")).unwrap();
    assert!(!assumes(&demo, &["ends in `unknown`"]));
}

/// The internet's clients hold none of the estate's own addresses: a group admitting only the
/// VPC's NAT gateway's Elastic IP, or only the VPC's own IPv6 block, gives no internet
/// exposure, effective or latent, and no finding that the internet gets in (before: effective
/// with a medium `public-subnet-non-lb`; latent `NO_RETURN_ROUTE` with a low finding).
#[test]
fn the_estate_s_own_addresses_are_not_internet_clients() {
    for fixture in [
        "internet-source-estate-nat-eip",
        "internet-source-vpc-own-ipv6",
    ] {
        let v = analyze_fixture(fixture);
        let internet: Vec<&serde_json::Value> = v["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("internet"))
            })
            .collect();
        assert!(internet.is_empty(), "{fixture}: {internet:?}");
        for f in v["findings"].as_array().unwrap() {
            let message = f["message"].as_str().unwrap();
            assert!(
                !message.contains("reaches it directly today")
                    && !message.contains("admit internet traffic"),
                "{fixture}: {message}"
            );
        }
    }
}

/// `public-subnet-non-lb` judges each interface by its own exposure: of two instances of one
/// application, the one without a public address is not "reached directly today" because its
/// sibling is (it was, medium).
#[test]
fn the_public_subnet_finding_judges_each_interface() {
    let v = analyze_fixture("public-subnet-finding-per-interface");
    let by_eni = |eni: &str| -> (String, String) {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["code"] == "public-subnet-non-lb"
                    && f["resources"].as_array().unwrap().iter().any(|r| r == eni)
            })
            .map(|f| {
                (
                    f["severity"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .unwrap_or_else(|| panic!("no finding for {eni}"))
    };
    let (severity, message) = by_eni("eni-pub");
    assert_eq!(severity, "medium");
    assert!(message.contains("reaches it directly today"), "{message}");
    let (severity, message) = by_eni("eni-nopub");
    assert_eq!(severity, "low");
    assert!(
        message.contains("only routing or a missing public address"),
        "{message}"
    );
}

/// A Gateway Load Balancer serves no listener at its own addresses: no application reaches it
/// in the report (it was "tcp all ports, effective"), and the report says its traffic is not
/// modelled.
#[test]
fn a_gateway_load_balancer_is_no_destination_in_the_report() {
    let v = analyze_fixture("gwlb-not-a-listener-service");
    let gwlb = v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "gwlb1")
        .map(|a| a["id"].as_str().unwrap().to_string())
        .expect("gwlb1 is an application");
    assert!(
        !v["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"] == gwlb.as_str()),
        "{}",
        v["exposures"]
    );
    assert!(
        v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("is a Gateway Load Balancer")),
        "{}",
        v["assumptions"]
    );
}

/// A line break in a name (a Name tag may hold one) does not break the Markdown table rows it
/// appears in: it is written as a space, as pipes are escaped.
#[test]
fn markdown_rows_stay_one_line_whatever_the_names_hold() {
    let dir = tempfile::tempdir().unwrap();
    let region = dir.path().join("111122223333/eu-west-1");
    std::fs::create_dir_all(&region).unwrap();
    let model = path("models/three-tier/111122223333/eu-west-1");
    for e in std::fs::read_dir(&model).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), region.join(e.file_name())).unwrap();
    }
    let instances = region.join("describe-instances.json");
    let text = std::fs::read_to_string(&instances).unwrap();
    let renamed = text.replace(
        r#""Value": "bastion""#,
        r#""Value": "bastion\n| x\r\ny\rz""#,
    );
    assert_ne!(text, renamed, "the bastion's Name tag");
    std::fs::write(&instances, renamed).unwrap();
    let out = String::from_utf8(run_analyze(&[
        "--format".as_ref(),
        "markdown".as_ref(),
        dir.path().as_ref(),
    ]))
    .unwrap();
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("### Exposures"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(rows.len() > 2, "{out}");
    for row in &rows {
        assert!(
            row.starts_with('|') && row.ends_with('|'),
            "{row:?} in\n{out}"
        );
    }
    assert!(
        rows.iter().any(|r| r.contains("bastion \\| x y z")),
        "{rows:?}"
    );
}

/// A load balancer's latent exposure is what its listeners take (§5.1): web's group admits
/// tcp 80 and 443, its one listener takes 80 (the report listed both), and a Classic Load
/// Balancer, IPv4 only in a VPC, has no latent IPv6 exposure for a `::/0` rule.
#[test]
fn latent_load_balancer_exposure_is_what_its_listeners_take() {
    let outside = |fixture: &str| -> Vec<(String, String, String)> {
        analyze_fixture(fixture)["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source"] != "applications")
            .map(|e| {
                let traffic: Vec<String> = e["traffic"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| format!("{} {}", t["protocol"].as_str().unwrap(), t["ports"]))
                    .collect();
                (
                    e["source"].as_str().unwrap().to_string(),
                    e["status"].as_str().unwrap().to_string(),
                    traffic.join(", "),
                )
            })
            .collect()
    };
    assert_eq!(
        outside("clb-latent-exposure-listener-ports"),
        [(
            "internet-ipv4".to_string(),
            "latent".to_string(),
            "tcp \"80\"".to_string()
        )]
    );
    let clb = outside("clb-ipv4-only-no-ipv6-latent");
    assert!(
        clb.iter().all(|(source, _, _)| source != "internet-ipv6"),
        "{clb:?}"
    );
    assert!(clb
        .iter()
        .any(|(source, status, _)| source == "internet-ipv4" && status == "effective"));
}
