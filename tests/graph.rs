//! The exposure graph: DOT that Graphviz accepts for every estate we have, labels that
//! survive hostile tag values, JSON with its schema version, and the filters.
//!
//! Graphviz's `dot` renders the DOT when it is installed. Where it is missing the DOT checks
//! are skipped with a message, except under CI (the `CI` variable set), where a missing `dot`
//! fails the test: CI installs graphviz, so its absence there is a broken pipeline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::path;
use exposure::analysis::{analyze, Report};
use exposure::model::Model;
use exposure::render::graph::{dot, exposure_graph, json, quoted, ExposureGraph, GraphOptions};

fn load(dir: &Path) -> (Model, Report) {
    let snap =
        exposure::sources::load_path(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let report = analyze(&snap.model);
    (snap.model, report)
}

fn graph(dir: &Path, opts: &GraphOptions) -> ExposureGraph {
    let (m, r) = load(dir);
    exposure_graph(&m, &r, opts)
}

fn three_tier() -> PathBuf {
    path("models/three-tier")
}

/// Every estate the graph must draw: the demo, each semantics fixture, each graph fixture.
fn estates() -> Vec<PathBuf> {
    let mut out = vec![three_tier()];
    for kind in ["semantics", "graph"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(path(&format!("fixtures/{kind}")))
            .unwrap_or_else(|e| panic!("fixtures/{kind}: {e}"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    out
}

/// Whether `dot` can be run; `false` (after saying why) when it is missing outside CI.
fn dot_available() -> bool {
    let found = Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "Graphviz `dot` is not installed but CI is set; install it with `apt-get install -y graphviz`"
        );
        eprintln!(
            "skipping the Graphviz checks: `dot` is not installed (apt-get install -y graphviz)"
        );
    }
    found
}

/// Renders DOT to SVG with `dot -Tsvg`, failing with Graphviz's message when it refuses.
fn render_svg(what: &str, source: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dot runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{what}: dot -Tsvg refused the DOT ({}): {stderr}\n{source}",
        out.status
    );
    String::from_utf8(out.stdout).expect("SVG is UTF-8")
}

/// The text of every `<text>` element of an SVG, with XML entities decoded.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let open_end = rest.find('>').unwrap() + 1;
        let close = rest.find("</text>").unwrap();
        out.push(xml_unescape(&rest[open_end..close]));
        rest = &rest[close..];
    }
    out
}

fn xml_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').expect("entity ends") + amp;
        let entity = &rest[amp + 1..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap()
            }
            e if e.starts_with('#') => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            e => panic!("unknown entity &{e};"),
        };
        // Graphviz writes runs of spaces as no-break spaces.
        out.push(if c == '\u{a0}' { ' ' } else { c });
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn dot_is_accepted_by_graphviz_for_every_estate() {
    let estates = estates();
    assert!(estates.len() > 10, "found only {} estates", estates.len());
    let run_dot = dot_available();
    for dir in estates {
        let g = graph(&dir, &GraphOptions::default());
        let source = dot(&g);
        assert!(source.starts_with("digraph"), "{}", dir.display());
        assert!(
            source.contains("cluster_legend"),
            "{}: no legend",
            dir.display()
        );
        if run_dot {
            let svg = render_svg(&dir.display().to_string(), &source);
            assert!(svg.contains("<svg"), "{}", dir.display());
        }
    }
}

#[test]
fn json_has_the_schema_version_for_every_estate() {
    for dir in estates() {
        let g = graph(&dir, &GraphOptions::default());
        let v: serde_json::Value =
            serde_json::from_str(&json(&g)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(v["schema_version"], 2, "{}", dir.display());
        assert_eq!(v["kind"], "graph", "{}", dir.display());
        let nodes = v["nodes"].as_array().unwrap();
        let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&"internet"), "{}", dir.display());
        for e in v["edges"].as_array().unwrap() {
            for end in ["from", "to"] {
                let id = e[end].as_str().unwrap();
                assert!(
                    ids.contains(&id),
                    "{}: edge end {id} is no node",
                    dir.display()
                );
            }
            assert!(matches!(e["status"].as_str(), Some("effective" | "latent")));
        }
    }
}

#[test]
fn quoted_strings_escape_everything_dot_or_a_shape_could_read() {
    use graphviz_rust::dot_structures::Id;
    let check = |raw: &str, dot: &str| {
        assert_eq!(quoted(raw), Id::Escaped(dot.to_string()), "{raw:?}");
    };
    check("plain", r#""plain""#);
    check(r#"say "hi""#, r#""say \"hi\"""#);
    check(r"back\slash\", r#""back\\slash\\""#);
    check("two\nlines\r\nthree", r#""two\nlines\nthree""#);
    check("{a} <b> |c|", r#""\{a\} \<b\> \|c\|""#);
    check("tab\there\u{7}", r#""tab here ""#);
}

#[test]
fn hostile_tag_values_survive_as_text() {
    let dir = path("fixtures/graph/escaping");
    let expected: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let labels: Vec<&str> = expected["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let g = graph(&dir, &GraphOptions::default());
    let source = dot(&g);
    // No tag text leaves a quoted string: no raw newline inside one, no HTML label.
    assert!(!source.contains("label=<"), "{source}");
    for line in source.lines() {
        let quotes = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(
            quotes.matches('"').count() % 2,
            0,
            "unbalanced quotes: {line}"
        );
    }
    if !dot_available() {
        return;
    }
    let svg = render_svg("fixtures/graph/escaping", &source);
    // The markup in the tags was escaped, never passed through as SVG elements.
    for raw in ["<b>bold", "<script>", "<i>"] {
        assert!(!svg.contains(raw), "SVG holds raw `{raw}`");
    }
    let texts = svg_texts(&svg);
    for label in labels {
        assert!(
            texts.iter().any(|t| t.contains(label)),
            "the SVG text lacks {label:?}; texts: {texts:#?}"
        );
    }
}

fn app_ids(g: &ExposureGraph) -> Vec<String> {
    let mut names: Vec<String> = g.graph.node_weights().map(|n| n.label.clone()).collect();
    names.sort();
    names
}

const ALB: &str =
    "lb:arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web-alb/0a1b2c3d4e5f6a01";

#[test]
fn the_demo_graph_has_its_applications_gateways_and_exposures() {
    let g = graph(&three_tier(), &GraphOptions::default());
    assert_eq!(
        app_ids(&g),
        vec![
            "admin-1",
            "app-1, app-2",
            "bastion",
            "dns-resolver",
            "internet",
            "nat-a",
            "orders-db",
            "prod-igw",
            "prod-shared",
            "web-alb",
        ]
    );
    let v: serde_json::Value = serde_json::from_str(&json(&g)).unwrap();
    let node = |id: &str| {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no node {id}"))
            .clone()
    };
    let alb = node(ALB);
    assert_eq!(alb["kind"], "application");
    assert_eq!(alb["application_kind"], "elb");
    assert_eq!(alb["members"].as_array().unwrap().len(), 2);
    // Spanning two subnets, the ALB sits in its VPC's cluster.
    assert_eq!(
        alb["cluster"],
        serde_json::json!(["111122223333", "vpc-0a1b2c3d4e5f60001"])
    );
    assert_eq!(
        node("rds:orders-db")["cluster"],
        serde_json::json!([
            "111122223333",
            "vpc-0a1b2c3d4e5f60001",
            "subnet-0a1b2c3d4e5f60031"
        ])
    );
    let edge = |from: &str, to: &str| {
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["from"] == from && e["to"] == to)
            .cloned()
            .collect::<Vec<_>>()
    };
    let bastion = "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60005";
    let to_bastion = edge("internet", bastion);
    assert_eq!(to_bastion.len(), 1, "IPv4 and IPv6 share one edge");
    assert_eq!(to_bastion[0]["status"], "effective");
    assert_eq!(
        to_bastion[0]["address_families"],
        serde_json::json!(["ipv4", "ipv6"])
    );
    assert_eq!(
        to_bastion[0]["traffic"],
        serde_json::json!([{"protocol": "tcp", "ports": "22"}])
    );
    let to_app = edge("internet", "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60003");
    assert_eq!(
        to_app[0]["entries"],
        serde_json::json!(["web-alb HTTPS 443"])
    );
    assert_eq!(to_app[0]["via"], serde_json::json!([ALB]));
    let to_admin = edge("internet", "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60006");
    assert_eq!(to_admin[0]["status"], "latent");
    assert!(!to_admin[0]["blocked_by"].as_array().unwrap().is_empty());

    let source = dot(&g);
    // Effective internet exposure is solid red; latent is dashed.
    assert!(source.contains(
        "\"internet\" -> \"ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60005\" [color=\"#c62828\""
    ));
    let latent = source
        .lines()
        .find(|l| l.contains("\"internet\" -> \"ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60006\""))
        .expect("latent edge drawn");
    assert!(latent.contains("style=\"dashed\""), "{latent}");
    // The internet's traffic to the app tier is drawn leaving the ALB.
    assert!(source.contains(&format!(
        "\"{ALB}\" -> \"ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60003\" [color=\"#c62828\""
    )));
    assert!(source.contains("label=\"VPC prod\\lvpc-0a1b2c3d4e5f60001\\l10.0.0.0/16"));
}

#[test]
fn focus_keeps_the_resource_and_its_neighbours() {
    // By name, by instance id of a member, by ENI id and by application id: the same view.
    for focus in ["orders-db", "rds:orders-db", "eni-0a1b2c3d4e5f60031"] {
        let g = graph(
            &three_tier(),
            &GraphOptions {
                focus: Some(focus.into()),
                ..Default::default()
            },
        );
        assert_eq!(
            app_ids(&g),
            vec!["admin-1", "app-1, app-2", "bastion", "orders-db"],
            "--focus {focus}"
        );
        assert_eq!(g.focused, Some(vec!["rds:orders-db".to_string()]));
        assert_eq!(
            g.node_ids(),
            vec![
                "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60003",
                "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60005",
                "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60006",
                "rds:orders-db",
            ]
        );
        // Only edges touching the focus remain.
        assert!(g.graph.edge_indices().all(|e| {
            let (a, b) = g.graph.edge_endpoints(e).unwrap();
            g.graph[a].id == "rds:orders-db" || g.graph[b].id == "rds:orders-db"
        }));
    }
    let app = graph(
        &three_tier(),
        &GraphOptions {
            focus: Some("i-0a1b2c3d4e5f60001".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        app.focused,
        Some(vec![
            "ec2:vpc-0a1b2c3d4e5f60001:sg-0a1b2c3d4e5f60003".to_string()
        ])
    );
    // The app tier: the internet and the ALB it comes through, its callers and callees.
    assert_eq!(
        app_ids(&app),
        vec![
            "admin-1",
            "app-1, app-2",
            "bastion",
            "dns-resolver",
            "internet",
            "orders-db",
            "web-alb",
        ]
    );
    let nothing = graph(
        &three_tier(),
        &GraphOptions {
            focus: Some("no-such-thing".into()),
            ..Default::default()
        },
    );
    assert_eq!(nothing.focused, Some(Vec::new()));
    assert_eq!(nothing.graph.node_count(), 0);
}

#[test]
fn vpc_and_account_keep_what_is_in_them() {
    for vpc in ["vpc-0a1b2c3d4e5f60002", "shared"] {
        let g = graph(
            &three_tier(),
            &GraphOptions {
                vpc: Some(vpc.into()),
                ..Default::default()
            },
        );
        assert_eq!(
            app_ids(&g),
            vec!["dns-resolver", "internet", "prod-shared"],
            "--vpc {vpc}"
        );
    }
    let prod = graph(
        &three_tier(),
        &GraphOptions {
            vpc: Some("vpc-0a1b2c3d4e5f60001".into()),
            ..Default::default()
        },
    );
    assert!(!app_ids(&prod).contains(&"dns-resolver".to_string()));
    assert!(app_ids(&prod).contains(&"web-alb".to_string()));
    let all = graph(&three_tier(), &GraphOptions::default());
    let same = graph(
        &three_tier(),
        &GraphOptions {
            account: Some("111122223333".into()),
            ..Default::default()
        },
    );
    assert_eq!(app_ids(&same), app_ids(&all));
    let other = graph(
        &three_tier(),
        &GraphOptions {
            account: Some("999999999999".into()),
            ..Default::default()
        },
    );
    assert_eq!(app_ids(&other), vec!["internet"]);
}

#[test]
fn exposed_only_keeps_what_the_internet_reaches() {
    let g = graph(
        &three_tier(),
        &GraphOptions {
            exposed_only: true,
            ..Default::default()
        },
    );
    // admin-1 stays: its exposure is latent, but it is an exposure.
    assert_eq!(
        app_ids(&g),
        vec![
            "admin-1",
            "app-1, app-2",
            "bastion",
            "internet",
            "nat-a",
            "prod-igw",
            "prod-shared",
            "web-alb",
        ]
    );
    assert!(g.node(ALB).is_some());
    assert!(g.node("rds:orders-db").is_none());
    let dot_source = dot(&g);
    assert!(!dot_source.contains("orders-db"));
}
