//! The CI gate: policies (each kind, selectors, Network Access Analyzer scopes), baselines
//! and expiry, `check` and `diff` on the fixture pairs in both directions, and SARIF
//! validated against the official SARIF 2.1.0 schema.

use std::path::Path;

use crate::common::{exposure, path};
use exposure::policy::{self, baseline, Threshold, Violation};

// ---- helpers ----

fn load(rel: &str) -> exposure::model::Model {
    exposure::sources::load_path(&path(rel))
        .expect("snapshot loads")
        .model
}

/// Evaluates inline TOML policies on a snapshot.
fn evaluate(rel: &str, toml: &str) -> policy::Evaluation {
    let policies = policy::parse("inline.toml", toml).expect("policy parses");
    policy::evaluate(&load(rel), &policies)
}

/// `policy: source -> destination: traffic [entry]`, as the fixtures write violations.
fn line(v: &Violation) -> String {
    format!(
        "{}: {} -> {}: {} [{}]",
        v.policy,
        v.source.name,
        v.destination.name,
        policy::traffic_text(&v.traffic),
        v.entry
    )
}

fn lines(e: &policy::Evaluation) -> Vec<String> {
    e.violations.iter().map(line).collect()
}

fn json_of(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = exposure().args(args).output().expect("runs");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

fn check_lines(v: &serde_json::Value, status: Option<&str>) -> Vec<String> {
    v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| status.is_none_or(|s| x["status"] == s))
        .map(|x| {
            let traffic: Vec<String> = x["traffic"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let (p, ports) = (
                        t["protocol"].as_str().unwrap(),
                        t["ports"].as_str().unwrap(),
                    );
                    if ports.is_empty() {
                        p.to_string()
                    } else {
                        format!("{p} {ports}")
                    }
                })
                .collect();
            format!(
                "{}: {} -> {}: {} [{}]",
                x["policy"].as_str().unwrap(),
                x["source"]["name"].as_str().unwrap(),
                x["destination"]["name"].as_str().unwrap(),
                traffic.join("; "),
                x["entry"].as_str().unwrap()
            )
        })
        .collect()
}

fn diff_lines(v: &serde_json::Value) -> Vec<String> {
    let side = |s: &serde_json::Value| -> String {
        if s.is_null() {
            return "nothing".into();
        }
        let traffic: Vec<String> = s["traffic"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let (p, ports) = (
                    t["protocol"].as_str().unwrap(),
                    t["ports"].as_str().unwrap(),
                );
                if ports.is_empty() {
                    p.to_string()
                } else {
                    format!("{p} {ports}")
                }
            })
            .collect();
        let latent = if s["status"] == "latent" {
            " (latent)"
        } else {
            ""
        };
        format!("{}{latent}", traffic.join("; "))
    };
    v["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let src = if c["source"] == "application" {
                c["source_name"].as_str().unwrap()
            } else {
                c["source"].as_str().unwrap()
            };
            format!(
                "{} {} {src} -> {}: {} => {}",
                c["change"].as_str().unwrap(),
                c["severity"].as_str().unwrap_or("-"),
                c["target_name"].as_str().unwrap(),
                side(&c["before"]),
                side(&c["after"])
            )
        })
        .collect()
}

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(path("tests/data/sarif-schema-2.1.0.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn the_sarif_schema_rejects_what_is_not_sarif() {
    let v = sarif_validator();
    assert!(
        !v.is_valid(&serde_json::json!({"runs": []})),
        "version is required"
    );
    assert!(!v.is_valid(&serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]
    })));
    assert!(v.is_valid(&serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "error"}]}]
    })));
}

fn assert_valid_sarif(doc: &serde_json::Value) {
    let v = sarif_validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF is not valid: {errors:#?}");
}

// ---- the shipped policies on the demo estate and its fixed copy ----

const THREE_TIER_VIOLATIONS: &[&str] = &[
    "no-admin-ports-from-internet: internet -> bastion: tcp 22 [direct]",
    "data-stores-only-from-app-sg: app-1 -> orders-db: tcp 5432 [direct]",
    "data-stores-only-from-app-sg: app-2 -> orders-db: tcp 5432 [direct]",
    "data-stores-only-from-app-sg: bastion -> orders-db: tcp 5432 [direct]",
    "data-stores-only-from-app-sg: admin-1 -> orders-db: tcp 5432 [direct]",
    "only-lbs-and-nat-in-public-subnets: internet -> bastion: tcp 22 [direct]",
];

#[test]
fn check_three_tier_with_the_shipped_policies_fails_with_the_expected_violations() {
    let (code, v) = json_of(&[
        "check",
        "models/three-tier",
        "--policy",
        "queries/",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(check_lines(&v, None), THREE_TIER_VIOLATIONS);
    assert_eq!(v["passed"], false);
    // Every violation carries a witness path that ends at its destination.
    for x in v["violations"].as_array().unwrap() {
        let hops = x["witness"].as_array().unwrap();
        assert!(!hops.is_empty(), "{x}");
        let last = hops.last().unwrap();
        assert_eq!(last["kind"], "eni");
        assert!(x["destination"]["id"] == last["component"], "{x}");
    }
    // The human form names the witness and the policy file and line.
    exposure()
        .args([
            "check",
            "models/three-tier",
            "--policy",
            "queries/admin-ports.toml",
        ])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("queries/admin-ports.toml:"))
        .stdout(predicates::str::contains("witness path:"))
        .stdout(predicates::str::contains(
            "sg-0a1b2c3d4e5f60005: tcp port 22 0.0.0.0/0",
        ));
}

#[test]
fn check_passes_on_the_fixed_copy_of_three_tier() {
    exposure()
        .args([
            "check",
            "fixtures/policy/three-tier-fixed",
            "--policy",
            "queries/",
        ])
        .current_dir(crate::common::root())
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Result: passed"));
}

/// A gate that checks nothing is an input error naming the file or folder: an empty policy
/// file, a file of comments named on its own, a folder without policy files or whose files
/// hold no policy. A folder may keep commented examples beside its policies (`queries/`).
#[test]
fn check_refuses_policies_that_check_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let examples = path("queries/examples.toml");
    let no_files = dir.path().join("no-files");
    std::fs::create_dir(&no_files).unwrap();
    std::fs::write(no_files.join("README.md"), "policies go here").unwrap();
    let only_examples = dir.path().join("only-examples");
    std::fs::create_dir(&only_examples).unwrap();
    std::fs::copy(&examples, only_examples.join("examples.toml")).unwrap();
    for (policy, says) in [
        (&empty, "the file holds no policy"),
        (&examples, "the file holds no policy"),
        (&no_files, "the folder holds no .toml or .json policy file"),
        (&only_examples, "the folder's files hold no policy"),
    ] {
        exposure()
            .arg("check")
            .arg(path("models/three-tier"))
            .arg("--policy")
            .arg(policy)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "{}: {says}",
                policy.display()
            )));
    }
}

#[test]
fn shipped_policies_parse_with_unique_ids_and_descriptions() {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(path("queries")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&p).unwrap();
            all.extend(policy::parse(&p.display().to_string(), &text).unwrap());
        }
    }
    policy::check_unique_ids(&all).unwrap();
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    for wanted in [
        "only-lbs-and-nat-in-public-subnets",
        "no-admin-ports-from-internet",
        "data-stores-not-from-internet",
        "database-ports-not-from-internet",
        "data-stores-only-from-app-sg",
    ] {
        assert!(ids.contains(&wanted), "{wanted} missing from {ids:?}");
    }
    assert!(all.iter().all(|p| !p.description.is_empty()));
}

#[test]
fn the_commented_examples_become_policies_when_uncommented() {
    let text = std::fs::read_to_string(path("queries/examples.toml")).unwrap();
    assert!(policy::parse("examples.toml", &text).unwrap().is_empty());
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|x| !x.starts_with(' '))
                .unwrap_or("")
        })
        .filter(|l| l.starts_with('[') || l.contains(" = "))
        .collect::<Vec<_>>()
        .join("\n");
    let ps = policy::parse("examples.toml", &uncommented).unwrap();
    assert!(ps.len() >= 3, "{uncommented}");
    let e = policy::evaluate(&load("models/three-tier"), &ps);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}

// ---- each policy kind ----

#[test]
fn deny_reports_each_source_with_a_witness() {
    let e = evaluate(
        "models/three-tier",
        r#"
[[policy]]
id = "orders-app-not-to-db"
kind = "deny"
description = "x"
severity = "low"
from = ["tag:app=orders"]
to = ["orders-db"]
protocol = "tcp"
ports = [5432]
"#,
    );
    assert_eq!(
        lines(&e),
        [
            "orders-app-not-to-db: app-1 -> orders-db: tcp 5432 [direct]",
            "orders-app-not-to-db: app-2 -> orders-db: tcp 5432 [direct]",
        ]
    );
    let w = &e.violations[0].witness;
    assert_eq!(w.first().unwrap().component, "eni-0a1b2c3d4e5f60001");
    assert_eq!(w.last().unwrap().component, "eni-0a1b2c3d4e5f60031");
    assert!(w
        .iter()
        .any(|h| h.detail.contains("tcp port 5432 10.0.0.0/16")));
}

#[test]
fn allow_only_reports_every_other_source_and_respects_allowed_load_balancers() {
    let e = evaluate(
        "models/three-tier",
        r#"
[[policy]]
id = "db-from-app"
kind = "allow-only"
description = "x"
severity = "medium"
from = ["sg:app-sg"]
to = ["orders-db"]

[[policy]]
id = "app-only-through-alb"
kind = "allow-only"
description = "x"
severity = "high"
from = ["web-alb"]
to = ["app-1"]

[[policy]]
id = "app-only-from-app"
kind = "allow-only"
description = "x"
severity = "high"
from = ["sg:app-sg"]
to = ["app-1"]
protocol = "tcp"
ports = [8080]
"#,
    );
    let l = lines(&e);
    assert!(l.contains(&"db-from-app: bastion -> orders-db: tcp 5432 [direct]".to_string()));
    assert!(l.contains(&"db-from-app: admin-1 -> orders-db: tcp 5432 [direct]".to_string()));
    assert!(
        !l.iter().any(|x| x.starts_with("db-from-app: app-")),
        "{l:#?}"
    );
    // Everything reaches app-1 through web-alb, which is allowed.
    assert!(
        !l.iter().any(|x| x.starts_with("app-only-through-alb")),
        "{l:#?}"
    );
    // Without the load balancer allowed, the internet's way in through its listener is a violation.
    assert!(
        l.contains(
            &"app-only-from-app: internet -> app-1: tcp 8080 [web-alb HTTPS 443]".to_string()
        ),
        "{l:#?}"
    );
}

#[test]
fn require_holds_for_ephemeral_clients_and_names_what_blocks() {
    let e = evaluate(
        "models/three-tier",
        r#"
[[policy]]
id = "app-reaches-db"
kind = "require"
description = "x"
severity = "high"
from = ["tag:app=orders"]
to = ["orders-db"]
protocol = "tcp"
ports = [5432]

[[policy]]
id = "internet-reaches-db"
kind = "require"
description = "x"
severity = "high"
from = ["internet"]
to = ["orders-db"]
protocol = "tcp"
ports = [5432]

[[policy]]
id = "alb-serves-80-to-443"
kind = "require"
description = "x"
severity = "high"
from = ["internet"]
to = ["web-alb"]
protocol = "tcp"
ports = ["80-443"]
"#,
    );
    // app -> db only works from source ports 1024-65535 (data-nacl outbound rule 100): ordinary clients do.
    assert!(!e.violations.iter().any(|v| v.policy == "app-reaches-db"));
    let blocked = e
        .violations
        .iter()
        .find(|v| v.policy == "internet-reaches-db")
        .expect("the internet cannot reach the database");
    assert!(blocked
        .blocked_by
        .iter()
        .any(|b| b.code == "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"));
    let partial = e
        .violations
        .iter()
        .find(|v| v.policy == "alb-serves-80-to-443")
        .expect("only 80 and 443 get through");
    assert!(
        partial.message.contains("only on tcp 80, 443"),
        "{}",
        partial.message
    );
}

#[test]
fn require_uses_ephemeral_source_ports() {
    // The data NACL answers only to ports 1024-65535: a client on a low source port gets no
    // reply, which `deny` (any source port) still counts, and `require` (ephemeral) accepts.
    let text = |kind: &str| {
        format!(
            "[[policy]]\nid = \"p\"\nkind = \"{kind}\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"app-1\"]\nto = [\"orders-db\"]\nprotocol = \"tcp\"\nports = [5432]\n"
        )
    };
    assert_eq!(
        evaluate("models/three-tier", &text("deny"))
            .violations
            .len(),
        1
    );
    assert_eq!(
        evaluate("models/three-tier", &text("require"))
            .violations
            .len(),
        0
    );
}

// ---- selectors ----

fn reached_from_internet(rel: &str, to: &str) -> Vec<String> {
    let e = evaluate(
        rel,
        &format!(
            "[[policy]]\nid = \"s\"\nkind = \"deny\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"internet\"]\nto = {to}\n"
        ),
    );
    let mut v: Vec<String> = e
        .violations
        .iter()
        .map(|v| v.destination.name.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn selectors_pick_the_expected_resources() {
    let t = "models/three-tier";
    assert_eq!(
        reached_from_internet(t, r#"["*"]"#),
        ["app-1", "app-2", "bastion", "web-alb"]
    );
    assert_eq!(reached_from_internet(t, r#"["kind:elb"]"#), ["web-alb"]);
    assert_eq!(reached_from_internet(t, r#"["kind:alb"]"#), ["web-alb"]);
    assert_eq!(
        reached_from_internet(t, r#"["kind:ec2"]"#),
        ["app-1", "app-2", "bastion"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["subnet:public"]"#),
        ["bastion", "web-alb"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["subnet:private"]"#),
        ["app-1", "app-2"]
    );
    assert_eq!(reached_from_internet(t, r#"["subnet:app-a"]"#), ["app-1"]);
    assert_eq!(
        reached_from_internet(t, r#"["subnet-0a1b2c3d4e5f60022"]"#),
        ["app-2"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["sg:bastion-sg"]"#),
        ["bastion"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["sg:sg-0a1b2c3d4e5f60003"]"#),
        ["app-1", "app-2"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["vpc:prod", "!kind:ec2"]"#),
        ["web-alb"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["vpc:shared"]"#),
        Vec::<String>::new()
    );
    assert_eq!(
        reached_from_internet(t, r#"["account:111122223333", "!subnet:public"]"#),
        ["app-1", "app-2"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["tag:app=orders"]"#),
        ["app-1", "app-2"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["tag:Name=bastion"]"#),
        ["bastion"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["i-0a1b2c3d4e5f60003"]"#),
        ["bastion"]
    );
    assert_eq!(
        reached_from_internet(t, r#"["cidr:10.0.0.0/24"]"#),
        ["bastion", "web-alb"]
    );
    assert_eq!(reached_from_internet(t, r#"["10.0.10.11"]"#), ["app-1"]);
    assert_eq!(
        reached_from_internet(
            t,
            r#"["arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-alb/0a1b2c3d4e5f6a01"]"#
        ),
        ["web-alb"]
    );
}

#[test]
fn cidr_sources_ask_about_those_addresses_only() {
    let deny = |from: &str| {
        evaluate(
            "fixtures/policy/bastion-trusted-cidr",
            &format!("[[policy]]\nid = \"c\"\nkind = \"deny\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"{from}\"]\nto = [\"bastion\"]\n"),
        )
    };
    assert_eq!(
        lines(&deny("cidr:55.3.0.0/16")),
        ["c: 55.3.0.0/16 -> bastion: tcp 22 [direct]"]
    );
    assert!(deny("cidr:8.8.8.0/24").violations.is_empty());
    // allow-only with a trusted range: the rest of the internet is what is asked about.
    let e = evaluate(
        "fixtures/policy/bastion-trusted-cidr",
        "[[policy]]\nid = \"a\"\nkind = \"allow-only\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"cidr:55.3.0.0/16\", \"vpc:prod\"]\nto = [\"bastion\"]\n",
    );
    assert!(e.violations.is_empty(), "{:#?}", lines(&e));
    let e = evaluate(
        "fixtures/policy/bastion-trusted-cidr",
        "[[policy]]\nid = \"a\"\nkind = \"allow-only\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"cidr:55.3.0.0/17\", \"vpc:prod\"]\nto = [\"bastion\"]\n",
    );
    assert_eq!(lines(&e), ["a: internet -> bastion: tcp 22 [direct]"]);
}

#[test]
fn a_selector_that_matches_nothing_is_a_warning() {
    let e = evaluate(
        "models/three-tier",
        "[[policy]]\nid = \"w\"\nkind = \"deny\"\ndescription = \"x\"\nseverity = \"low\"\nfrom = [\"internet\"]\nto = [\"no-such-db\"]\n",
    );
    assert!(e.violations.is_empty());
    assert!(
        e.warnings[0].contains("`no-such-db` matches nothing"),
        "{:?}",
        e.warnings
    );
}

#[test]
fn errors_in_a_policy_file_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ports = [70000]", 8, "ports"),
        ("to = [\"kind:database\"]", 8, "to"),
        ("severty = \"high\"", 8, "severty"),
        ("protocol = \"sctp\"", 8, "protocol"),
    ];
    for (extra, line, field) in cases {
        let file = dir.path().join("bad.toml");
        let text = format!(
            "# a policy\n[[policy]]\nid = \"bad\"\nkind = \"deny\"\ndescription = \"x\"\nseverity = \"high\"\nfrom = [\"internet\"]\n{}\n{}\n",
            extra,
            if extra.starts_with("to") { "" } else { "to = [\"*\"]" }
        );
        std::fs::write(&file, text).unwrap();
        let out = exposure()
            .args(["check", "models/three-tier", "--policy"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("bad.toml:{line}:")), "{extra}: {err}");
        assert!(err.contains(&format!("`{field}`")), "{extra}: {err}");
    }
}

// ---- Network Access Analyzer scopes ----

fn scope(rel: &str, scope: &str) -> Vec<String> {
    let (_, v) = json_of(&[
        "check",
        rel,
        "--policy",
        &format!("fixtures/policy/scopes/{scope}.json"),
        "--format",
        "json",
    ]);
    let mut l = check_lines(&v, None);
    l.sort();
    l
}

#[test]
fn scope_all_internet_gateway_ingress() {
    assert_eq!(
        scope("models/three-tier", "igw-ingress"),
        [
            "igw-ingress: internet -> app-1: tcp 8080 [web-alb HTTPS 443]",
            "igw-ingress: internet -> app-2: tcp 8080 [web-alb HTTPS 443]",
            "igw-ingress: internet -> bastion: tcp 22 [direct]",
            "igw-ingress: internet -> web-alb: tcp 443 [web-alb HTTPS 443]",
            "igw-ingress: internet -> web-alb: tcp 80 [web-alb HTTP 80]",
        ]
    );
}

#[test]
fn scope_internet_ingress_except_a_trusted_cidr() {
    // On three-tier the bastion admits the whole internet: excluding one range changes nothing.
    let all = scope("models/three-tier", "igw-ingress-except-trusted");
    assert!(
        all.contains(&"igw-ingress-except-trusted: internet -> bastion: tcp 22 [direct]".into())
    );
    // When the bastion admits only the trusted range, that path is excluded; the rest stays.
    let trusted = scope(
        "fixtures/policy/bastion-trusted-cidr",
        "igw-ingress-except-trusted",
    );
    assert!(
        !trusted.iter().any(|l| l.contains("bastion")),
        "{trusted:#?}"
    );
    assert!(
        trusted.iter().any(|l| l.contains("-> web-alb")),
        "{trusted:#?}"
    );
    // Without the exclusion the trusted range's path is reported.
    assert!(scope("fixtures/policy/bastion-trusted-cidr", "igw-ingress")
        .contains(&"igw-ingress: internet -> bastion: tcp 22 [direct]".into()));
}

#[test]
fn scope_paths_that_bypass_a_resource() {
    assert_eq!(
        scope("models/three-tier", "igw-ingress-bypassing-lb"),
        ["igw-ingress-bypassing-lb: internet -> bastion: tcp 22 [direct]"]
    );
    // The response shape of get-network-insights-access-scope-content; its id names the policy.
    assert_eq!(
        scope("models/three-tier", "egress-bypassing-nat"),
        ["nis-0a1b2c3d4e5f60001: bastion -> internet: all [direct]"]
    );
    // Destination ports in an exclusion: every port but 22 to bastion-sg's members.
    assert!(scope("models/three-tier", "bastion-other-than-ssh").is_empty());
    let changed = scope("fixtures/policy/port-changed", "bastion-other-than-ssh");
    assert!(
        changed.contains(&"bastion-other-than-ssh: internet -> bastion: tcp 2222 [direct]".into()),
        "{changed:#?}"
    );
}

#[test]
fn a_bad_scope_names_the_file_line_and_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scope.json");
    std::fs::write(
        &file,
        "{\n  \"MatchPaths\": [\n    {\"Source\": {\"ResourceStatement\": {\"ResourceTypes\": [\"AWS::EC2::Gateway\"]}}}\n  ]\n}\n",
    )
    .unwrap();
    let out = exposure()
        .args(["check", "models/three-tier", "--policy"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scope.json:3:"), "{err}");
    assert!(
        err.contains("MatchPaths[0].Source.ResourceStatement.ResourceTypes[0]"),
        "{err}"
    );
}

// ---- baselines ----

fn write_baseline(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("baseline.toml");
    exposure()
        .args([
            "check",
            "models/three-tier",
            "--policy",
            "queries/",
            "--write-baseline",
        ])
        .arg(&file)
        .assert()
        .code(0);
    file
}

#[test]
fn a_baseline_accepts_exactly_what_it_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_baseline(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text.matches("[[accepted]]").count(),
        THREE_TIER_VIOLATIONS.len()
    );
    assert!(text.contains("reason = "));
    let (code, v) = json_of(&[
        "check",
        "models/three-tier",
        "--policy",
        "queries/",
        "--baseline",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(
        check_lines(&v, Some("baselined")).len(),
        THREE_TIER_VIOLATIONS.len()
    );
    assert!(v["stale_baseline"].as_array().unwrap().is_empty());
}

#[test]
fn a_changed_port_is_a_new_violation() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_baseline(dir.path());
    let run = |snapshot: &str| {
        json_of(&[
            "check",
            snapshot,
            "--policy",
            "queries/",
            "--baseline",
            file.to_str().unwrap(),
            "--format",
            "json",
        ])
    };
    // 22 -> 2222: the public-subnet violation's traffic changed (new); the admin-port one is gone (stale).
    let (code, v) = run("fixtures/policy/port-changed");
    assert_eq!(code, Some(1));
    assert_eq!(
        check_lines(&v, Some("new")),
        ["only-lbs-and-nat-in-public-subnets: internet -> bastion: tcp 2222 [direct]"]
    );
    let stale = v["stale_baseline"].as_array().unwrap();
    assert_eq!(stale.len(), 2, "{stale:#?}");
    // A port added: 22 stays accepted, 3389 is new.
    let (code, v) = run("fixtures/policy/rule-added");
    assert_eq!(code, Some(1));
    assert_eq!(
        check_lines(&v, Some("new")),
        [
            "no-admin-ports-from-internet: internet -> bastion: tcp 3389 [direct]",
            "only-lbs-and-nat-in-public-subnets: internet -> bastion: tcp 22, 3389 [direct]",
        ]
    );
    assert!(check_lines(&v, Some("baselined"))
        .contains(&"no-admin-ports-from-internet: internet -> bastion: tcp 22 [direct]".into()));
    // A route that exposes admin-1: many new violations, the old ones stay accepted.
    let (code, v) = run("fixtures/policy/route-added");
    assert_eq!(code, Some(1));
    assert_eq!(
        check_lines(&v, Some("baselined")).len(),
        THREE_TIER_VIOLATIONS.len()
    );
    assert!(check_lines(&v, Some("new"))
        .iter()
        .all(|l| l.contains("admin-1")));
}

#[test]
fn an_expired_suppression_is_a_violation_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_baseline(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    // The first entry expired long ago, the second expires far in the future.
    let mut n = 0;
    let edited: String = text
        .lines()
        .map(|l| {
            if l.starts_with("reason = ") {
                n += 1;
                match n {
                    1 => format!("{l}\nexpires = 2000-01-01"),
                    2 => format!("{l}\nexpires = 2999-12-31"),
                    _ => l.to_string(),
                }
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&file, edited).unwrap();
    let (code, v) = json_of(&[
        "check",
        "models/three-tier",
        "--policy",
        "queries/",
        "--baseline",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(check_lines(&v, Some("expired")), [THREE_TIER_VIOLATIONS[0]]);
    assert_eq!(
        check_lines(&v, Some("baselined")).len(),
        THREE_TIER_VIOLATIONS.len() - 1
    );
    let expired = &v["violations"][0];
    assert_eq!(expired["expires"], "2000-01-01");
}

#[test]
fn expiry_is_decided_by_the_date_passed_in() {
    let model = load("models/three-tier");
    let text = std::fs::read_to_string(path("queries/admin-ports.toml")).unwrap();
    let policies = policy::parse("admin-ports.toml", &text).unwrap();
    let first = policy::check("t", &model, &policies, &[], Threshold::Never, None, today());
    assert!(first.failed());
    let mut b = baseline::record(&first, None, today());
    b.entries[0].expires = baseline::parse_date("2026-06-30");
    b.entries[0].reason = "until SSM is rolled out".into();
    let at = |d: &str| {
        policy::check(
            "t",
            &model,
            &policies,
            &[],
            Threshold::Never,
            Some(&b),
            baseline::parse_date(d).unwrap(),
        )
    };
    assert!(!at("2026-06-29").failed());
    assert!(at("2026-06-30").failed());
    // Writing the baseline again keeps the reason and the expiry of entries still present.
    let again = baseline::record(&at("2026-06-29"), Some(&b), today());
    assert_eq!(again.entries[0].reason, "until SSM is rolled out");
    assert_eq!(
        baseline::parse("b.toml", &baseline::to_toml(&again)).unwrap(),
        again
    );
}

fn today() -> baseline::Date {
    baseline::parse_date("2026-01-15").unwrap()
}

// ---- check and diff on the fixture pairs, both directions ----

#[derive(serde::Deserialize)]
struct Expected {
    description: String,
    #[serde(default)]
    forward: Vec<String>,
    #[serde(default)]
    reverse: Vec<String>,
    check: Vec<String>,
}

fn fixtures() -> Vec<(String, Expected)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path("fixtures/policy")).unwrap() {
        let dir = entry.unwrap().path();
        let expected = dir.join("expected.toml");
        if expected.exists() {
            let e: Expected = toml::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
            let rel = format!(
                "fixtures/policy/{}",
                dir.file_name().unwrap().to_string_lossy()
            );
            out.push((rel, e));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 7, "fixture pairs missing");
    out
}

#[test]
fn check_on_every_fixture_reports_exactly_the_expected_violations() {
    for (rel, e) in fixtures() {
        assert!(!e.description.is_empty());
        let (code, v) = json_of(&["check", &rel, "--policy", "queries/", "--format", "json"]);
        assert_eq!(check_lines(&v, None), e.check, "{rel}");
        assert_eq!(code, Some(if e.check.is_empty() { 0 } else { 1 }), "{rel}");
    }
}

#[test]
fn diff_in_both_directions_on_every_fixture_pair() {
    for (rel, e) in fixtures() {
        for (old, new, want) in [
            ("models/three-tier", rel.as_str(), &e.forward),
            (rel.as_str(), "models/three-tier", &e.reverse),
        ] {
            if want.is_empty() {
                continue;
            }
            let (code, v) = json_of(&["diff", old, new, "--format", "json"]);
            let got = diff_lines(&v);
            for w in want {
                assert!(
                    got.contains(w),
                    "diff {old} {new}: missing `{w}` in {got:#?}"
                );
            }
            // A change that opens or widens an exposure fails the gate.
            if want
                .iter()
                .any(|w| w.starts_with("opened") || w.starts_with("widened"))
            {
                assert_eq!(code, Some(1), "diff {old} {new}");
            }
            // Closings and narrowings carry no severity: with findings out of the way, the gate passes.
            if want
                .iter()
                .all(|w| w.starts_with("closed") || w.starts_with("narrowed"))
            {
                assert!(v["exposures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["severity"].is_null()));
            }
        }
    }
}

#[test]
fn every_kind_of_diff_change_is_covered() {
    let all: Vec<String> = fixtures()
        .into_iter()
        .flat_map(|(_, e)| e.forward.into_iter().chain(e.reverse))
        .collect();
    for change in ["opened", "closed", "widened", "narrowed", "changed"] {
        assert!(
            all.iter().any(|l| l.starts_with(change)),
            "no `{change}` case"
        );
    }
}

#[test]
fn diff_of_a_snapshot_with_itself_is_empty_and_passes() {
    let (code, v) = json_of(&[
        "diff",
        "models/three-tier",
        "models/three-tier",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0));
    assert!(v["exposures"].as_array().unwrap().is_empty());
    assert!(v["findings_added"].as_array().unwrap().is_empty());
}

#[test]
fn diff_fail_on_is_configurable() {
    // Opening admin-1 to the internet is critical: it fails at `critical`, not with `never`.
    let run = |fail_on: &str| {
        exposure()
            .args([
                "diff",
                "models/three-tier",
                "fixtures/policy/route-added",
                "--fail-on",
                fail_on,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("critical"), Some(1));
    assert_eq!(run("never"), Some(0));
}

// ---- output formats ----

#[test]
fn sarif_of_check_on_three_tier_validates_against_the_sarif_schema() {
    let (code, doc) = json_of(&[
        "check",
        "models/three-tier",
        "--policy",
        "queries/",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, Some(1));
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"no-admin-ports-from-internet"));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), THREE_TIER_VIOLATIONS.len());
    let first = &results[0];
    assert_eq!(first["ruleId"], "no-admin-ports-from-internet");
    assert_eq!(first["level"], "error");
    let loc = &first["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "queries/admin-ports.toml"
    );
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "i-0a1b2c3d4e5f60003"
    );
    assert!(
        first["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .unwrap()
            .len()
            > 3
    );
}

#[test]
fn sarif_of_analyze_diff_and_a_baselined_check_validates_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_baseline(dir.path());
    let (_, doc) = json_of(&[
        "check",
        "fixtures/policy/rule-added",
        "--policy",
        "queries/",
        "--baseline",
        file.to_str().unwrap(),
        "--fail-on",
        "info",
        "--format",
        "sarif",
    ]);
    assert_valid_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["suppressions"][0]["status"] == "accepted"));
    let (_, doc) = json_of(&["analyze", "models/three-tier", "--format", "sarif"]);
    assert_valid_sarif(&doc);
    let (_, doc) = json_of(&["analyze", "--format", "sarif"]);
    assert_valid_sarif(&doc);
    let (_, doc) = json_of(&[
        "diff",
        "models/three-tier",
        "fixtures/policy/listener-removed",
        "--format",
        "sarif",
    ]);
    assert_valid_sarif(&doc);
    let (_, doc) = json_of(&[
        "diff",
        "fixtures/policy/listener-removed",
        "models/three-tier",
        "--format",
        "sarif",
    ]);
    assert_valid_sarif(&doc);
    let ids: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"exposure-opened") && ids.contains(&"exposure-widened"),
        "{ids:?}"
    );
}

#[test]
fn markdown_puts_a_summary_table_first_and_folds_the_details() {
    let out = exposure()
        .args([
            "check",
            "models/three-tier",
            "--policy",
            "queries/",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let table = md.find("| | count |").unwrap();
    let details = md.find("<details>").unwrap();
    assert!(table < details);
    assert!(md.contains("| violations | 6 |"), "{md}");
    let out = exposure()
        .args([
            "diff",
            "models/three-tier",
            "fixtures/policy/route-added",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.find("| exposures opened | 1 |").unwrap() < md.find("<details>").unwrap(),
        "{md}"
    );
}

// ---- the gates' red-team cases (fixtures/policy/gates) ----

const WEB_UP: &str = r#"
[[policy]]
id = "web-up"
kind = "require"
description = "the web instance serves HTTPS to the internet"
severity = "high"
from = ["internet"]
to = ["i-web"]
protocol = "tcp"
ports = [443]
"#;

#[test]
fn require_fails_when_replies_reach_only_some_ephemeral_ports() {
    for (rel, failing) in [
        (
            "fixtures/policy/gates/require-replies-1024-1100",
            "1101-65535",
        ),
        (
            "fixtures/policy/gates/require-replies-not-32768-61000",
            "32768-61000",
        ),
    ] {
        let e = evaluate(rel, WEB_UP);
        assert_eq!(
            lines(&e),
            ["web-up: internet -> web: tcp 443 [direct]"],
            "{rel}"
        );
        let v = &e.violations[0];
        assert!(
            v.message.contains(&format!(
                "not from source ports {failing} of the ephemeral range"
            )),
            "{rel}: {}",
            v.message
        );
        // Why: the NACL that lets the replies out only to some ports.
        assert!(
            v.blocked_by
                .iter()
                .any(|b| b.component == "acl-web" && b.code == "SUBNET_ACL_RESTRICTION"),
            "{rel}: {:?}",
            v.blocked_by
        );
        assert!(v.message.contains("acl-web"), "{rel}: {}", v.message);
        // `deny` (any source port) still sees the flow get through.
        let deny = evaluate(rel, &WEB_UP.replace("\"require\"", "\"deny\""));
        assert_eq!(
            lines(&deny),
            ["web-up: internet -> web: tcp 443 [direct]"],
            "{rel}"
        );
    }
    // The gate fails on the command line too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web-up.toml");
    std::fs::write(&file, WEB_UP).unwrap();
    let out = exposure()
        .args([
            "check",
            "fixtures/policy/gates/require-replies-1024-1100",
            "--policy",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("blocked by"), "{text}");
}

#[test]
fn require_without_ports_needs_some_traffic_from_every_ephemeral_port() {
    let text = WEB_UP.replace("ports = [443]\n", "");
    assert_eq!(
        lines(&evaluate(
            "fixtures/policy/gates/require-replies-1024-1100",
            &text
        )),
        ["web-up: internet -> web: tcp [direct]"]
    );
    assert!(evaluate("fixtures/policy/gates/ipv6-web", &text)
        .violations
        .is_empty());
}

#[test]
fn bare_ipv6_selectors_select_like_cidr_ones() {
    let policy = |to: &str| {
        format!(
            "[[policy]]\nid = \"no-443-v6\"\nkind = \"deny\"\ndescription = \"x\"\nseverity = \"high\"\nfrom = [\"internet\"]\nto = {to}\nprotocol = \"tcp\"\nports = [443]\n"
        )
    };
    let rel = "fixtures/policy/gates/ipv6-web";
    let want = ["no-443-v6: internet -> web: tcp 443 [direct]"];
    for to in [
        r#"["cidr:2001:db8:a::/64"]"#,
        r#"["2001:db8:a::/64"]"#,
        r#"["2001:db8:a::10"]"#,
        r#"["::/0"]"#,
    ] {
        assert_eq!(lines(&evaluate(rel, &policy(to))), want, "{to}");
    }
    assert!(evaluate(rel, &policy(r#"["*", "!2001:db8:a::10"]"#))
        .violations
        .is_empty());
    // From the command line: no "unknown selector" error.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v6.toml");
    std::fs::write(&file, policy(r#"["2001:db8:a::/64"]"#)).unwrap();
    let out = exposure()
        .args(["check", rel, "--policy"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn codes_of(v: &serde_json::Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = v[field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` in {v}"))
        .iter()
        .map(|f| {
            f["code"]
                .as_str()
                .or_else(|| f["after"]["code"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn diff_reports_findings_whose_text_changed_as_changed_not_added() {
    let g = "fixtures/policy/gates";
    let (code, v) = json_of(&[
        "diff",
        &format!("{g}/sg-ports-narrowed-old"),
        &format!("{g}/sg-ports-narrowed-new"),
        "--fail-on",
        "high",
        "--format",
        "json",
    ]);
    assert_eq!(
        diff_lines(&v),
        ["narrowed - internet-ipv4 -> web [ec2]: tcp 20-23 => tcp 22"]
    );
    assert!(codes_of(&v, "findings_added").is_empty(), "{v:#}");
    assert!(codes_of(&v, "findings_removed").is_empty(), "{v:#}");
    assert_eq!(
        codes_of(&v, "findings_changed"),
        ["internet-admin-port", "sg-open-to-world"]
    );
    let changed = &v["findings_changed"][0];
    assert_eq!(changed["severity_rose"], false);
    assert_ne!(changed["before"]["message"], changed["after"]["message"]);
    assert_eq!(code, Some(0), "a narrowing passes the gate: {v:#}");

    // A NACL reply rule widened: the finding on that rule is the same finding, the other
    // rule's is gone.
    let (code, v) = json_of(&[
        "diff",
        &format!("{g}/nacl-reply-rule-old"),
        &format!("{g}/nacl-reply-rule-new"),
        "--format",
        "json",
    ]);
    assert!(codes_of(&v, "findings_added").is_empty(), "{v:#}");
    assert_eq!(codes_of(&v, "findings_removed"), ["nacl-blocks-return"]);
    assert_eq!(codes_of(&v, "findings_changed"), ["nacl-blocks-return"]);
    assert!(v["findings_removed"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("acl-web inbound rule 100"));
    assert!(v["findings_changed"][0]["after"]["message"]
        .as_str()
        .unwrap()
        .starts_with("acl-web outbound rule 100"));
    assert_eq!(code, Some(0), "{v:#}");

    // For people: listed as changed, with the old text.
    let out = exposure()
        .args([
            "diff",
            &format!("{g}/sg-ports-narrowed-old"),
            &format!("{g}/sg-ports-narrowed-new"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Findings added (0)"), "{text}");
    assert!(text.contains("Findings changed (2)"), "{text}");
    assert!(text.contains("was: [high] web is reachable from the internet (IPv4) on tcp 22 (SSH), tcp 23 (Telnet)"), "{text}");
}
