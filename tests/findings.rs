//! Findings against their fixtures and the demo estate.
//!
//! - `fixtures/findings/<code>/hit/` must yield `<code>`, and `<code>/miss/` must not, for
//!   every registered code.
//! - `fixtures/findings/clean/` (a small, well-built estate) yields no finding at all.
//! - `models/three-tier` yields the findings its README lists, with severities that follow
//!   effective reachability.

use std::path::Path;

use exposure::analysis::analyze;
use exposure::findings::{self, check, registry, Config, Finding, Severity};
use exposure::model::Level;
use exposure::sources::load_path;

use crate::common::path;

/// Loads a snapshot and runs every check with the given settings.
fn findings_with(dir: &Path, cfg: &Config) -> Vec<Finding> {
    let snap = load_path(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let report = analyze(&snap.model);
    check(&snap.model, &report, cfg)
}

fn findings_of(dir: &Path) -> Vec<Finding> {
    findings_with(dir, &Config::default())
}

fn listing(found: &[Finding]) -> String {
    found
        .iter()
        .map(|f| format!("  {} [{}] {}", f.code, f.severity, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_code_has_a_hit_and_a_miss_fixture() {
    for rule in registry() {
        let base = path(&format!("fixtures/findings/{}", rule.code));
        let hit = findings_of(&base.join("hit"));
        assert!(
            hit.iter().any(|f| f.code == rule.code),
            "{}/hit does not yield {}; it yields:\n{}",
            base.display(),
            rule.code,
            listing(&hit)
        );
        let miss = findings_of(&base.join("miss"));
        assert!(
            miss.iter().all(|f| f.code != rule.code),
            "{}/miss yields {}:\n{}",
            base.display(),
            rule.code,
            listing(&miss)
        );
    }
}

#[test]
fn fixtures_load_without_warnings() {
    // Only the stale-reference hit names something that does not exist, on purpose.
    let root = path("fixtures/findings");
    let mut dirs = vec![root.join("clean")];
    for rule in registry() {
        dirs.push(root.join(rule.code).join("hit"));
        dirs.push(root.join(rule.code).join("miss"));
    }
    for dir in dirs {
        let snap = load_path(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let warnings: Vec<String> = snap
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning)
            .map(ToString::to_string)
            .collect();
        let expected = dir.ends_with("sg-stale-reference/hit");
        assert_eq!(
            !warnings.is_empty(),
            expected,
            "{}: {warnings:?}",
            dir.display()
        );
    }
}

/// A prefix list a rule names that is not in the snapshot was not collected (EC2 does not
/// delete a referenced list): no stale-reference finding says it "does not exist" (loading
/// warns, and queries answer `unknown`).
#[test]
fn a_prefix_list_missing_from_the_snapshot_is_not_stale() {
    let found = findings_of(&path("fixtures/semantics/prefix-list-family-sg-rules"));
    assert!(
        !found
            .iter()
            .any(|f| f.message.contains("pl-0p0000notthere")),
        "{}",
        listing(&found)
    );
}

#[test]
fn clean_estate_yields_no_findings() {
    let found = findings_of(&path("fixtures/findings/clean"));
    assert!(
        found.is_empty(),
        "clean fixture yields:\n{}",
        listing(&found)
    );
}

fn demo() -> Vec<Finding> {
    findings_of(&path("models/three-tier"))
}

fn one<'a>(found: &'a [Finding], code: &str, needle: &str) -> &'a Finding {
    let hits: Vec<&Finding> = found
        .iter()
        .filter(|f| {
            f.code == code
                && (f.message.contains(needle) || f.resources.iter().any(|r| r == needle))
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one {code} finding about {needle}; all findings:\n{}",
        listing(found)
    );
    hits[0]
}

#[test]
fn three_tier_findings_are_the_readme_ones() {
    let found = demo();

    // db-sg admits 5432 from the whole VPC; app-sg is the reference that states the intent.
    let cidr = one(
        &found,
        "sg-cidr-where-reference-fits",
        "sg-0a1b2c3d4e5f60004",
    );
    assert!(cidr.message.contains("10.0.0.0/16") && cidr.message.contains("port 5432"));
    assert!(
        cidr.message
            .contains("reference app-sg (sg-0a1b2c3d4e5f60003; members app-1, app-2)"),
        "{}",
        cidr.message
    );
    assert!(cidr.remediation.contains("app-sg"), "{}", cidr.remediation);
    assert!(
        !cidr.remediation.contains("bastion-sg"),
        "{}",
        cidr.remediation
    );
    assert!(cidr
        .rules
        .iter()
        .any(|r| r.contains("tcp port 5432 from 10.0.0.0/16")));
    // Through the bastion, the internet is two steps from the database.
    assert_eq!(cidr.severity, Severity::Medium);

    // The bastion sits in a public subnet.
    let public = one(&found, "public-subnet-non-lb", "i-0a1b2c3d4e5f60003");
    assert!(public.message.contains("public-a"));
    assert!(
        found
            .iter()
            .filter(|f| f.code == "public-subnet-non-lb")
            .count()
            == 1,
        "only the bastion: the ALB and NAT gateway belong there"
    );

    // SSH from 0.0.0.0/0 and ::/0, reachable today: high.
    let ssh = one(&found, "sg-open-to-world", "sg-0a1b2c3d4e5f60005");
    assert_eq!(ssh.severity, Severity::High);
    assert!(ssh.message.contains("0.0.0.0/0") && ssh.message.contains("::/0"));
    let admin_port = one(&found, "internet-admin-port", "bastion");
    assert_eq!(admin_port.severity, Severity::High);
    assert!(admin_port.message.contains("tcp 22 (SSH)") && admin_port.message.contains("IPv6"));

    // admin-sg's world-open rule only creates a latent exposure: low.
    let admin = one(&found, "sg-open-to-world", "sg-0a1b2c3d4e5f60006");
    assert_eq!(admin.severity, Severity::Low, "{}", admin.message);
    assert!(found
        .iter()
        .filter(|f| f.resources.iter().any(|r| r == "eni-0a1b2c3d4e5f60004"))
        .all(|f| f.severity <= Severity::Low));

    // The default security groups have rules (both unused).
    one(&found, "default-sg-has-rules", "sg-0a1b2c3d4e5f60001");
    one(&found, "default-sg-has-rules", "sg-0a1b2c3d4e5f60007");
    assert!(found.iter().all(|f| f.code != "default-sg-in-use"));

    // data-nacl inbound rule 110 (deny) is shadowed by rule 100 (allow).
    let shadow = one(&found, "nacl-rule-shadowed", "inbound rule 110");
    assert!(shadow.message.contains("rule 100"));
    assert!(shadow.message.contains("deny"));
    assert_eq!(shadow.severity, Severity::Medium);

    // Not findings (README): alb-sg's 80/443 from the internet, shared-sg's peer-VPC CIDR.
    for f in &found {
        assert!(
            !f.resources
                .iter()
                .any(|r| r == "sg-0a1b2c3d4e5f60002" || r == "sg-0a1b2c3d4e5f60008")
                || f.code == "sg-cidr-where-reference-fits",
            "unexpected finding: {} {}",
            f.code,
            f.message
        );
    }
    assert!(found
        .iter()
        .all(|f| f.code != "lb-plaintext-listener" && f.code != "lb-target-bypass"));
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let a = demo();
    let b = demo();
    assert_eq!(a, b);
    for w in a.windows(2) {
        assert!(
            (std::cmp::Reverse(w[0].severity), w[0].code, &w[0].resources)
                <= (std::cmp::Reverse(w[1].severity), w[1].code, &w[1].resources),
            "{} before {}",
            w[0].code,
            w[1].code
        );
    }
}

#[test]
fn configuration_overrides_and_suppresses() {
    let cfg = Config::from_toml(
        r#"
suppress = ["default-sg-has-rules"]
[severity]
sg-open-to-world = "critical"
"#,
    )
    .unwrap();
    let found = findings_with(&path("models/three-tier"), &cfg);
    assert!(found.iter().all(|f| f.code != "default-sg-has-rules"));
    let open: Vec<&Finding> = found
        .iter()
        .filter(|f| f.code == "sg-open-to-world")
        .collect();
    assert!(!open.is_empty() && open.iter().all(|f| f.severity == Severity::Critical));
    assert_eq!(
        found[0].code, "sg-open-to-world",
        "overrides re-sort the list"
    );
}

#[test]
fn wide_prefix_is_configurable() {
    // db-sg's 10.0.0.0/16 is not wide at the default /16, but is at /20.
    let demo_dir = path("models/three-tier");
    assert!(findings_of(&demo_dir)
        .iter()
        .all(|f| f.code != "sg-wide-cidr"));
    let cfg = Config::from_toml("wide_prefix_v4 = 20").unwrap();
    let found = findings_with(&demo_dir, &cfg);
    assert!(found
        .iter()
        .any(|f| f.code == "sg-wide-cidr"
            && f.resources.contains(&"sg-0a1b2c3d4e5f60004".to_string())));
}

#[test]
fn registry_is_public_and_complete() {
    assert!(registry().len() >= 15);
    for r in registry() {
        assert_eq!(findings::rule(r.code), Some(r));
    }
}

#[test]
fn every_fixture_gives_well_formed_deterministic_findings() {
    // Every check runs against every snapshot in the repository.
    let mut dirs = vec![path("models/three-tier"), path("fixtures/findings/clean")];
    for rule in registry() {
        for outcome in ["hit", "miss"] {
            dirs.push(path(&format!("fixtures/findings/{}/{outcome}", rule.code)));
        }
    }
    for kind in ["semantics", "edge"] {
        let mut found: Vec<_> = std::fs::read_dir(path(&format!("fixtures/{kind}")))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        dirs.extend(found);
    }
    for dir in dirs {
        let snap = load_path(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let report = analyze(&snap.model);
        let first = check(&snap.model, &report, &Config::default());
        let again = check(&snap.model, &report, &Config::default());
        assert_eq!(first, again, "{}", dir.display());
        for f in &first {
            assert!(
                findings::rule(f.code).is_some(),
                "unregistered code {}",
                f.code
            );
            assert!(
                !f.message.is_empty() && !f.resources.is_empty() && !f.remediation.is_empty(),
                "{}: {f:?}",
                dir.display()
            );
        }
    }
}

/// Copies a snapshot folder (recursively) into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The sg-cidr-where-reference-fits hit fixture (shop-db admits 5432 from both app subnets)
/// with `extra` more interfaces in an app subnet, each with a group of its own that may send
/// anywhere (one group per interface, as in the generated xl estate).
fn cidr_rule_with_clients(extra: usize) -> Finding {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &path("fixtures/findings/sg-cidr-where-reference-fits/hit"),
        dir.path(),
    );
    let mut enis = Vec::new();
    let mut groups = Vec::new();
    for i in 0..extra {
        let sg = format!("sg-0c1ff0000000000{i:02x}");
        let ip = format!("10.20.10.{}", 100 + i);
        enis.push(serde_json::json!({
            "NetworkInterfaceId": format!("eni-0c1ff0000000000{i:02x}"),
            "SubnetId": "subnet-0c100000000000003",
            "VpcId": "vpc-0c100000000000001",
            "AvailabilityZone": "eu-west-1a",
            "Description": "",
            "InterfaceType": "interface",
            "OwnerId": "111122223333",
            "Status": "available",
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true}],
            "Groups": [{"GroupId": sg, "GroupName": format!("client-{i:02}")}],
            "TagSet": [{"Key": "Name", "Value": format!("client-{i:02}")}],
        }));
        groups.push(serde_json::json!({
            "GroupId": sg,
            "GroupName": format!("client-{i:02}"),
            "Description": "one group per interface",
            "OwnerId": "111122223333",
            "VpcId": "vpc-0c100000000000001",
            "IpPermissions": [],
            "IpPermissionsEgress": [{
                "IpProtocol": "-1",
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": [],
            }],
        }));
    }
    let region = dir.path().join("111122223333/eu-west-1");
    std::fs::write(
        region.join("clients-enis.json"),
        serde_json::to_vec(&serde_json::json!({ "NetworkInterfaces": enis })).unwrap(),
    )
    .unwrap();
    std::fs::write(
        region.join("clients-sgs.json"),
        serde_json::to_vec(&serde_json::json!({ "SecurityGroups": groups })).unwrap(),
    )
    .unwrap();
    let found = findings_of(dir.path());
    one(
        &found,
        "sg-cidr-where-reference-fits",
        "sg-0c100000000000004",
    )
    .clone()
}

#[test]
fn cidr_finding_lists_every_group_up_to_twenty() {
    // shop-app and 19 client groups: all of them in the resources.
    let f = cidr_rule_with_clients(19);
    assert_eq!(f.resources.len(), 21, "{:?}", f.resources);
    assert_eq!(f.resources[0], "sg-0c100000000000004");
    assert_eq!(f.resources[1], "sg-0c100000000000003");
    assert_eq!(f.resources[20], "sg-0c1ff000000000012");
    assert!(
        f.message.contains("holds 21 network interface(s)")
            && f.message
                .contains(" and 15 more group(s) (all listed in the finding's resources)"),
        "{}",
        f.message
    );
}

#[test]
fn cidr_finding_lists_the_first_twenty_groups_and_counts_the_rest() {
    // shop-app and 40 client groups: the message names five and counts the other 36; the
    // resources hold the rule's group and the first 20 groups by id.
    let f = cidr_rule_with_clients(40);
    let mut expected = vec![
        "sg-0c100000000000004".to_string(),
        "sg-0c100000000000003".to_string(),
    ];
    expected.extend((0..19).map(|i| format!("sg-0c1ff0000000000{i:02x}")));
    assert_eq!(f.resources, expected);
    assert!(
        f.message.contains("holds 42 network interface(s)")
            && f.message.contains(
                "reference shop-app (sg-0c100000000000003; members shop-app-1, shop-app-2) and client-00"
            )
            && f.message.contains(
                " and 36 more group(s) (the finding's resources list the first 20 by id) instead"
            ),
        "{}",
        f.message
    );
    assert!(
        f.remediation.contains("and 36 more group(s)"),
        "{}",
        f.remediation
    );
}

/// A listener that redirects by default but forwards by a rule forwards plain text all the
/// same: the lb-plaintext-listener miss fixture (HTTP:80 redirects to HTTPS) with a path rule
/// on HTTP:80 forwarding to the app's group yields the finding, naming that group.
#[test]
fn a_rule_that_forwards_plain_text_is_a_plaintext_listener() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &path("fixtures/findings/lb-plaintext-listener/miss"),
        dir.path(),
    );
    assert!(findings_of(dir.path())
        .iter()
        .all(|f| f.code != "lb-plaintext-listener"));
    let p = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:";
    let tg = format!("{p}targetgroup/shop-app/de00000000000002");
    let rules = serde_json::json!({"Rules": [
        {
            "RuleArn": format!("{p}listener-rule/app/shop-alb/de00000000000001/de00000000000004/de000000000000f1"),
            "Priority": "5",
            "Conditions": [{"Field": "path-pattern", "Values": ["/healthz"]}],
            "Actions": [{"Type": "forward", "TargetGroupArn": tg}],
            "IsDefault": false
        }
    ]});
    std::fs::write(
        dir.path()
            .join("111122223333/eu-west-1/describe-rules.json"),
        serde_json::to_vec_pretty(&rules).unwrap(),
    )
    .unwrap();
    let found = findings_of(dir.path());
    let f = one(&found, "lb-plaintext-listener", "HTTP on port 80");
    assert!(f.message.contains("shop-app"), "{}", f.message);
}

/// An `icmp` rule with `::/0` admits ICMP for IPv4 from IPv6 sources, which no IPv6 host
/// sends: its `sg-open-to-world` finding says that no ping gets through, at severity info (it
/// read "diagnostic traffic (ping, traceroute)").
#[test]
fn an_icmp_rule_of_the_other_family_lets_no_ping_through() {
    let found = findings_of(&path("fixtures/semantics/icmp-rule-other-family"));
    let f = one(&found, "sg-open-to-world", "sg-w");
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(f.message.contains("no IPv6 host sends"), "{}", f.message);
    assert!(!f.message.contains("diagnostic traffic"), "{}", f.message);
}

/// Replies allowed to 32768-60999, Linux's default ephemeral range, reach every Linux client:
/// no `nacl-blocks-return` (it said "those connections never complete").
#[test]
fn replies_to_the_linux_default_range_are_enough() {
    let found = findings_of(&path(
        "fixtures/findings/nacl-blocks-return/linux-default-range",
    ));
    assert!(
        found.iter().all(|f| f.code != "nacl-blocks-return"),
        "{}",
        listing(&found)
    );
}

#[test]
fn internet_admin_port_names_only_the_listeners_that_lead_to_the_port() {
    // A Classic Load Balancer forwards HTTP 80 to instance port 8080 and TCP 2222 to 22: only
    // TCP 2222 leads to SSH.
    let found = findings_of(&path("fixtures/policy/gates/clb-admin-listener"));
    let f = one(&found, "internet-admin-port", "tcp 22 (SSH)");
    assert!(f.message.ends_with("through web TCP 2222"), "{}", f.message);
    assert!(!f.message.contains("HTTP 80"), "{}", f.message);
}

/// A target's rule admitting the internet that an NLB without groups forwards to today (the
/// client's address kept) is not "latent": the finding says the members are reached through a
/// load balancer, not directly.
#[test]
fn a_rule_used_through_a_load_balancer_is_not_called_latent() {
    let found = findings_of(&path("fixtures/findings/sg-open-to-world/through-nlb"));
    let f = one(&found, "sg-open-to-world", "sg-app");
    assert!(
        f.message
            .contains("reached today through a load balancer, not directly"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("latent today"), "{}", f.message);
}

/// A rule spanning a load balancer's listener ports and more (tcp 80-443 for listeners 80 and
/// 443) is judged on the ports beyond the listeners, which reach nothing: low, not high.
#[test]
fn a_load_balancer_rule_is_judged_beyond_its_listener_ports() {
    let found = findings_of(&path("fixtures/findings/sg-open-to-world/listener-range"));
    let f = one(&found, "sg-open-to-world", "sg-alb");
    assert_eq!(f.severity, Severity::Low, "{}", f.message);
    assert!(
        f.message
            .contains("beyond its load balancers' listener ports"),
        "{}",
        f.message
    );
}
