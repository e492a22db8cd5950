//! `exposure collect` against a real AWS API emulator (moto's server mode) and a local HTTP
//! stub (pagination, AccessDenied, a call that never answers), all on loopback ports.
//!
//! moto is a Python package: `pip install 'moto[server]'`. Without it these tests print how
//! to install it and pass; under CI (`CI=true`) they fail instead (`.ci/run` installs it).
//! Every run sets fake credentials and turns the instance-metadata lookup off, so the SDK's
//! credential chain never leaves the machine.

mod stub;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{exposure, path, query};

const INSTALL: &str = "moto is not installed: `python3 -m pip install 'moto[server]'` (the collector tests run its server mode)";

/// A moto server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts moto, or returns `None` (after saying how to install it) when it is missing
/// outside CI.
fn moto() -> Option<Moto> {
    // `python3 -m moto.server` is `moto_server` without depending on PATH (pyenv shims).
    let installed = Command::new("python3")
        .args(["-c", "import moto.server, flask, boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{INSTALL}");
        }
        eprintln!("skipped: {INSTALL}");
        return None;
    }
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// `exposure collect --endpoint-url URL --output DIR ARGS...` with fake credentials and no
/// instance-metadata lookups.
fn collect(endpoint: &str, out: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = exposure();
    cmd.arg("collect")
        .args(["--endpoint-url", endpoint, "--output"])
        .arg(out)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-do-not-print")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        );
    for var in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    cmd.timeout(Duration::from_secs(90));
    cmd
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn analyze_json(snapshot: &Path) -> Value {
    let out = exposure()
        .arg("analyze")
        .arg(snapshot)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "analyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("analyze prints JSON")
}

/// Temporary folders a run left beside `target` (`.NAME.exposure-partial-PID`).
fn leftovers(target: &Path) -> Vec<PathBuf> {
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(&format!(".{name}.exposure-partial-"))
            })
        })
        .collect()
}

fn calls(manifest: &Value) -> &Vec<Value> {
    manifest["calls"].as_array().expect("manifest calls")
}

fn call<'a>(manifest: &'a Value, region: &str, name: &str) -> &'a Value {
    calls(manifest)
        .iter()
        .find(|c| c["region"] == region && c["call"] == name)
        .unwrap_or_else(|| panic!("no {name} in {region} in the manifest"))
}

/// The round trip: seed a two-region estate in moto through the AWS API, collect it, load it
/// without warnings, compare the counts with what the API lists, and ask questions.
#[test]
fn collects_a_two_region_estate_from_moto_and_answers_queries() {
    let Some(moto) = moto() else { return };
    let seeded = Command::new("python3")
        .arg(path("tests/collect/seed.py"))
        .arg(&moto.url)
        .output()
        .expect("python3 runs");
    assert!(
        seeded.status.success(),
        "seeding moto failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let seed: Value = serde_json::from_slice(&seeded.stdout).expect("seed.py prints JSON");
    let ids = &seed["ids"]["eu-west-1"];

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snapshot");
    let started = Instant::now();
    let out = collect(
        &moto.url,
        &snap,
        &["--region", "eu-west-1", "--region", "eu-central-1"],
    )
    .output()
    .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "collect failed:\n{stdout}\n{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "collecting the emulator estate took {:?}",
        started.elapsed()
    );
    // The summary, and no secret anywhere.
    assert!(stdout.contains("Complete snapshot written"), "{stdout}");
    assert!(stdout.contains("Resources per kind"), "{stdout}");
    assert!(stdout.contains("123456789012 eu-west-1"), "{stdout}");
    assert!(!stdout.contains("test-secret") && !stderr.contains("test-secret"));
    assert!(leftovers(&snap).is_empty(), "temporary folder left behind");

    // The manifest.
    let manifest = read_json(&snap.join("manifest.json"));
    assert_eq!(manifest["tool"], "exposure");
    assert_eq!(manifest["status"], "complete");
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert!(manifest["started"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    assert!(manifest["finished"].as_str().is_some());
    assert_eq!(manifest["accounts"], serde_json::json!(["123456789012"]));
    assert_eq!(
        manifest["regions"],
        serde_json::json!(["eu-central-1", "eu-west-1"])
    );
    // moto has no VPC Block Public Access API: those optional calls are `unavailable`, their
    // files are not written, and the snapshot is complete all the same.
    const OPTIONAL: [&str; 2] = [
        "ec2:DescribeVpcBlockPublicAccessOptions",
        "ec2:DescribeVpcBlockPublicAccessExclusions",
    ];
    for c in calls(&manifest) {
        if OPTIONAL.contains(&c["call"].as_str().unwrap_or_default()) {
            assert_eq!(c["status"], "unavailable", "{c}");
            assert!(c["error"].as_str().is_some_and(|e| !e.is_empty()), "{c}");
        } else {
            assert_eq!(c["status"], "ok", "{c}");
        }
    }
    assert!(!snap
        .join("123456789012/eu-west-1/ec2-describe-vpc-block-public-access-exclusions.json")
        .exists());
    assert!(
        stdout.contains("Optional calls that failed")
            && stdout.contains("ec2:DescribeVpcBlockPublicAccessExclusions"),
        "{stdout}"
    );
    assert_eq!(
        call(
            &manifest,
            "eu-west-1",
            "elasticloadbalancing:DescribeListeners"
        )["items"],
        1
    );
    // The path rule and the default rule.
    assert_eq!(
        call(&manifest, "eu-west-1", "elasticloadbalancing:DescribeRules")["items"],
        2
    );
    assert_eq!(
        call(&manifest, "eu-west-1", "rds:DescribeDBInstances")["items"],
        1
    );
    assert_eq!(
        call(&manifest, "eu-west-1", "ec2:DescribeInstances")["items"],
        5
    );
    assert_eq!(
        call(&manifest, "eu-west-1", "elb:DescribeLoadBalancers")["items"],
        1
    );
    assert_eq!(
        call(&manifest, "eu-west-1", "elb:DescribeLoadBalancerAttributes")["status"],
        "ok"
    );
    let text = std::fs::read_to_string(snap.join("manifest.json")).unwrap();
    assert!(!text.contains("test-secret"));

    // The files, in the AWS CLI's shapes.
    let region = snap.join("123456789012/eu-west-1");
    let sgs = read_json(&region.join("ec2-describe-security-groups.json"));
    let app_sg = sgs["SecurityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["GroupId"] == ids["app_sg"])
        .expect("the app security group");
    assert_eq!(
        app_sg["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"],
        ids["alb_sg"]
    );
    let rules = read_json(&region.join("ec2-describe-security-group-rules.json"));
    assert!(rules["SecurityGroupRules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["GroupId"] == ids["alb_sg"] && r["PrefixListId"] == ids["prefix_list"]));
    let pl = ids["prefix_list"].as_str().unwrap();
    let entries = read_json(&region.join(format!("ec2-get-managed-prefix-list-entries-{pl}.json")));
    assert_eq!(entries["PrefixListId"], pl);
    assert_eq!(entries["Entries"][0]["Cidr"], "203.0.113.0/24");
    let lbs = read_json(&region.join("elbv2-describe-load-balancers.json"));
    assert!(lbs["LoadBalancers"][0]["DNSName"].is_string());
    let listeners = read_json(&region.join("elbv2-describe-listeners.json"));
    assert_eq!(
        listeners["LoadBalancerListeners"][0]["LoadBalancerArn"],
        ids["lb_arn"]
    );
    assert_eq!(
        listeners["LoadBalancerListeners"][0]["Listeners"][0]["Port"],
        80
    );
    // The listener's rules, one file per listener, naming the listener.
    let listener_arn = ids["listener_arn"].as_str().unwrap();
    let rules_file = format!(
        "elbv2-describe-rules-{}.json",
        listener_arn
            .split_once(":listener/")
            .unwrap()
            .1
            .replace('/', "_")
    );
    let rules = read_json(&region.join(&rules_file));
    assert_eq!(rules["ListenerArn"], listener_arn);
    let rules = rules["Rules"].as_array().expect("Rules");
    let path_rule = rules
        .iter()
        .find(|r| r["Priority"] == "10")
        .expect("the path rule");
    assert_eq!(path_rule["IsDefault"], false);
    assert_eq!(path_rule["Conditions"][0]["Field"], "path-pattern");
    assert_eq!(path_rule["Actions"][0]["TargetGroupArn"], ids["api_tg_arn"]);
    // moto lists the default rule too (with a rule id of its own making, a decimal number).
    assert!(rules
        .iter()
        .any(|r| r["IsDefault"] == true && r["Priority"] == "default"));
    let health = read_json(&region.join("elbv2-describe-target-health.json"));
    let of_group = |tg: &Value| {
        health["LoadBalancerTargetHealth"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| &h["TargetGroupArn"] == tg)
            .unwrap_or_else(|| panic!("no target health for {tg}"))
            .clone()
    };
    assert_eq!(
        of_group(&ids["tg_arn"])["TargetHealthDescriptions"][0]["Target"]["Id"],
        ids["app"]
    );
    assert_eq!(
        of_group(&ids["api_tg_arn"])["TargetHealthDescriptions"][0]["Target"]["Id"],
        ids["api"]
    );
    for f in [
        "elbv2-describe-load-balancer-attributes.json",
        "elbv2-describe-target-group-attributes.json",
        "ec2-search-transit-gateway-routes.json",
    ] {
        assert!(region.join(f).is_file(), "{f} missing");
    }
    // The Classic Load Balancer, and its attributes in a file named after it.
    let clbs = read_json(&region.join("elb-describe-load-balancers.json"));
    let legacy = &clbs["LoadBalancerDescriptions"][0];
    assert_eq!(legacy["LoadBalancerName"], ids["clb"]);
    assert_eq!(legacy["Instances"][0]["InstanceId"], ids["legacy"]);
    assert_eq!(
        legacy["ListenerDescriptions"][0]["Listener"]["InstancePort"],
        8080
    );
    let attributes = read_json(&region.join("elb-describe-load-balancer-attributes-legacy.json"));
    assert_eq!(
        attributes["LoadBalancerAttributes"]["CrossZoneLoadBalancing"]["Enabled"],
        false
    );
    let dbs = read_json(&region.join("rds-describe-db-instances.json"));
    assert_eq!(dbs["DBInstances"][0]["DBInstanceIdentifier"], "orders-db");

    // The loader reads it without a warning; counts match what the API lists.
    let analysis = analyze_json(&snap);
    assert_eq!(analysis["partial"], false);
    assert_eq!(
        analysis["warnings"],
        serde_json::json!([]),
        "warnings on a collected snapshot"
    );
    for loc in analysis["by_location"].as_array().unwrap() {
        assert_eq!(loc["account"], "123456789012");
        let r = loc["region"].as_str().unwrap();
        let expected = seed["counts"][r].as_object().expect("seeded region");
        for (kind, n) in expected {
            assert_eq!(&loc["counts"][kind], n, "{r}: {kind}");
        }
    }

    // Questions on the collected snapshot.
    let verdict = |from: &str, to: &str, extra: &[&str]| {
        query(&snap, from, to, extra)["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let bastion = ids["bastion"].as_str().unwrap();
    let app = ids["app"].as_str().unwrap();
    assert_eq!(
        verdict("internet", bastion, &["--protocol", "tcp", "--port", "22"]),
        "reachable"
    );
    assert_eq!(
        verdict("internet", bastion, &["--protocol", "tcp", "--port", "80"]),
        "unreachable"
    );
    assert_eq!(
        verdict("internet", "web", &["--protocol", "tcp", "--port", "80"]),
        "reachable"
    );
    assert_eq!(
        verdict("internet", "web", &["--protocol", "tcp", "--port", "22"]),
        "unreachable"
    );
    // Through the load balancer's listener (the app's group admits the ALB's group only).
    assert_eq!(
        verdict(bastion, app, &["--protocol", "tcp", "--port", "8080"]),
        "reachable"
    );
    assert_eq!(
        verdict(bastion, app, &["--protocol", "tcp", "--port", "22"]),
        "unreachable"
    );
    // Through the listener's path rule only (its default action forwards to app-1's group):
    // the collected rules make the loaded snapshot forward to api-1's group.
    let api = ids["api"].as_str().unwrap();
    let answer = query(
        &snap,
        bastion,
        api,
        &["--protocol", "tcp", "--port", "8080"],
    );
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    assert!(
        answer.to_string().contains("by listener rule 10"),
        "{answer}"
    );
    // Through the Classic Load Balancer: legacy-1's group admits 8080 from the CLB's group
    // only, so the internet reaches it through the listener (TCP:80 -> 8080) and not directly.
    let legacy = ids["legacy"].as_str().unwrap();
    let through = query(
        &snap,
        "internet",
        legacy,
        &["--protocol", "tcp", "--port", "8080"],
    );
    assert_eq!(through["verdict"], "reachable", "{through}");
    assert!(through.to_string().contains("legacy"), "{through}");
    assert_eq!(
        verdict("internet", "legacy", &["--protocol", "tcp", "--port", "80"]),
        "reachable"
    );
    assert_eq!(
        verdict("internet", legacy, &["--protocol", "tcp", "--port", "22"]),
        "unreachable"
    );
    // Peered VPC: routes both ways, but the shared host's group admits nothing.
    assert_eq!(verdict(app, "shared-1", &[]), "unreachable");
    // The second region's worker has no public address.
    let worker = seed["ids"]["eu-central-1"]["worker"].as_str().unwrap();
    assert_eq!(verdict("internet", worker, &[]), "unreachable");
}

/// One region fails (moto answers a bogus region with HTTP 500): the snapshot is kept,
/// marked partial, exit 1, and `analyze` says so.
#[test]
fn a_failing_region_gives_a_partial_snapshot() {
    let Some(moto) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("partial");
    let out = collect(
        &moto.url,
        &snap,
        &[
            "--region",
            "eu-west-1",
            "--region",
            "xx-bogus-1",
            "--max-attempts",
            "1",
        ],
    )
    .output()
    .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PARTIAL"), "{stdout}");
    assert!(stdout.contains("xx-bogus-1 ec2:DescribeVpcs"), "{stdout}");
    let manifest = read_json(&snap.join("manifest.json"));
    assert_eq!(manifest["status"], "partial");
    assert_eq!(
        call(&manifest, "eu-west-1", "ec2:DescribeVpcs")["status"],
        "ok"
    );
    let failed = call(&manifest, "xx-bogus-1", "ec2:DescribeVpcs");
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));
    // Listeners depend on the load balancers, which failed: not attempted, no file.
    assert_eq!(
        call(
            &manifest,
            "xx-bogus-1",
            "elasticloadbalancing:DescribeListeners"
        )["status"],
        "skipped"
    );
    assert!(snap
        .join("123456789012/eu-west-1/ec2-describe-vpcs.json")
        .is_file());
    assert!(!snap.join("123456789012/xx-bogus-1").exists());

    let analysis = analyze_json(&snap);
    assert_eq!(analysis["partial"], true);
    let human = exposure().arg("analyze").arg(&snap).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout).to_lowercase()
        + &String::from_utf8_lossy(&human.stderr).to_lowercase();
    assert!(text.contains("partial"), "analyze does not warn: {text}");
}

/// Nothing answers (a closed port): exit 2, no snapshot, no temporary folder left.
#[test]
fn an_unreachable_endpoint_collects_nothing_and_leaves_no_folder() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("nothing");
    let out = collect(
        &format!("http://127.0.0.1:{port}"),
        &snap,
        &["--region", "eu-west-1", "--max-attempts", "2"],
    )
    .output()
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing could be collected"), "{stderr}");
    assert!(!snap.exists());
    assert!(leftovers(&snap).is_empty());
    assert!(!stderr.contains("test-secret"));
}

/// Paginators: every page of every paginated call is read (the stub splits VPCs into three
/// pages, rules, instances, prefix-list entries, load balancers (ELBv2 and Classic), listeners,
/// listener rules and databases into two), and the manifest counts the pages.
#[test]
fn paginated_calls_read_every_page() {
    let stub = stub::start(stub::Mode::Pages);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("pages");
    let out = collect(&stub.url, &snap, &["--region", "eu-west-1"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = read_json(&snap.join("manifest.json"));
    let expect = |name: &str, items: u64, pages: u64| {
        let c = call(&manifest, "eu-west-1", name);
        assert_eq!(
            (c["items"].as_u64(), c["pages"].as_u64()),
            (Some(items), Some(pages)),
            "{name}"
        );
    };
    expect("ec2:DescribeVpcs", 5, 3);
    expect("ec2:DescribeSecurityGroupRules", 3, 2);
    expect("ec2:DescribeInstances", 2, 2);
    expect("ec2:GetManagedPrefixListEntries", 2, 2);
    expect("elasticloadbalancing:DescribeLoadBalancers", 2, 2);
    expect("elasticloadbalancing:DescribeListeners", 4, 4);
    expect("elasticloadbalancing:DescribeLoadBalancerAttributes", 2, 2);
    expect("elb:DescribeLoadBalancers", 2, 2);
    expect("elb:DescribeLoadBalancerAttributes", 2, 2);
    // Two listeners per load balancer, two pages of one rule each per listener, but for the
    // one that answers `UnsupportedProtocol` (no rules, and not an error).
    expect("elasticloadbalancing:DescribeRules", 6, 6);
    assert!(
        call(&manifest, "eu-west-1", "elasticloadbalancing:DescribeRules")["error"].is_null(),
        "{manifest}"
    );
    assert_eq!(manifest["status"], "complete", "{manifest}");
    expect("rds:DescribeDBInstances", 2, 2);
    expect("ec2:DescribeVpcBlockPublicAccessOptions", 1, 1);
    expect("ec2:DescribeVpcBlockPublicAccessExclusions", 2, 2);
    let region = snap.join(format!("{}/eu-west-1", stub::ACCOUNT));
    // VPC Block Public Access, in the CLI's shapes, which the loader reads.
    let options = read_json(&region.join("ec2-describe-vpc-block-public-access-options.json"));
    assert_eq!(
        options["VpcBlockPublicAccessOptions"]["InternetGatewayBlockMode"],
        "block-bidirectional"
    );
    assert_eq!(
        options["VpcBlockPublicAccessOptions"]["State"],
        "update-complete"
    );
    let exclusions =
        read_json(&region.join("ec2-describe-vpc-block-public-access-exclusions.json"));
    let modes: Vec<(&str, &str)> = exclusions["VpcBlockPublicAccessExclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["ResourceArn"].as_str().unwrap(),
                x["InternetGatewayExclusionMode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            (
                "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
                "allow-bidirectional"
            ),
            (
                "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-2",
                "allow-egress"
            )
        ]
    );
    let vpcs = read_json(&region.join("ec2-describe-vpcs.json"));
    let ids: Vec<&str> = vpcs["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VpcId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["vpc-1", "vpc-2", "vpc-3", "vpc-4", "vpc-5"]);
    let entries = read_json(&region.join("ec2-get-managed-prefix-list-entries-pl-1.json"));
    assert_eq!(entries["Entries"].as_array().unwrap().len(), 2);
    let listeners = read_json(&region.join("elbv2-describe-listeners.json"));
    for set in listeners["LoadBalancerListeners"].as_array().unwrap() {
        assert_eq!(set["Listeners"].as_array().unwrap().len(), 2);
    }
    // The tokens were passed back.
    let seen = stub.requests.lock().unwrap().clone();
    for token in [
        "DescribeVpcs p2",
        "DescribeVpcs p3",
        "DescribeDBInstances d2",
        "DescribeLoadBalancers lb2",
        "DescribeLoadBalancers c2",
        "DescribeRules r2",
    ] {
        assert!(
            seen.iter().any(|r| r.ends_with(token)),
            "no request `{token}` in {seen:?}"
        );
    }
    // One rules file per listener, both pages in it, naming its listener.
    let rule_files: Vec<PathBuf> = walk(&region)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("elbv2-describe-rules-"))
        })
        .collect();
    assert_eq!(rule_files.len(), 4, "{rule_files:?}");
    for f in &rule_files {
        let doc = read_json(f);
        let listener = doc["ListenerArn"].as_str().expect("ListenerArn");
        let priorities: Vec<&str> = doc["Rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Priority"].as_str().unwrap())
            .collect();
        if listener.ends_with("/lb-2/2/listener-8080") {
            assert!(priorities.is_empty(), "{listener}: {priorities:?}");
        } else {
            assert_eq!(priorities, ["10", "default"], "{listener}");
        }
    }
    // Classic Load Balancers as `aws elb describe-load-balancers` prints them, and each one's
    // attributes in a file named after it, which the loader finds it by.
    let clbs = read_json(&region.join("elb-describe-load-balancers.json"));
    let names: Vec<&str> = clbs["LoadBalancerDescriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["LoadBalancerName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["clb-1", "clb-2"]);
    let first = &clbs["LoadBalancerDescriptions"][0];
    assert_eq!(first["VPCId"], "vpc-1");
    assert_eq!(
        first["ListenerDescriptions"][0]["Listener"]["InstancePort"],
        8080
    );
    assert_eq!(first["Instances"][0]["InstanceId"], "i-1");
    let attributes = read_json(&region.join("elb-describe-load-balancer-attributes-clb-2.json"));
    assert_eq!(
        attributes["LoadBalancerAttributes"]["CrossZoneLoadBalancing"]["Enabled"],
        false
    );
    // The snapshot loads, and says how many of each it read; every rule finds its listener.
    let analysis = analyze_json(&snap);
    assert_eq!(analysis["totals"]["vpcs"], 5);
    assert_eq!(analysis["totals"]["db_instances"], 2);
    assert!(
        !analysis["warnings"].to_string().contains("listener rule"),
        "{}",
        analysis["warnings"]
    );
}

/// `docs/iam-policy.json` allows every call the manifest records (the per-region calls; the
/// stub answers all of them; the manifest's `elb:*`, the Classic Load Balancer API, are
/// `elasticloadbalancing:*` actions) and `ec2:DescribeRegions` (`--all-regions`), so the
/// least-privilege policy never lags behind a new call. (`sts:GetCallerIdentity` needs no
/// permission.)
#[test]
fn the_iam_policy_allows_every_call_made() {
    let policy = read_json(&path("docs/iam-policy.json"));
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    let stub = stub::start(stub::Mode::Pages);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("iam");
    let out = collect(&stub.url, &snap, &["--all-regions"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = read_json(&snap.join("manifest.json"));
    let made: std::collections::BTreeSet<&str> = calls(&manifest)
        .iter()
        .filter_map(|c| c["call"].as_str())
        .collect();
    assert!(
        made.contains("elasticloadbalancing:DescribeRules"),
        "{made:?}"
    );
    assert!(made.contains("elb:DescribeLoadBalancers"), "{made:?}");
    for call in made.into_iter().chain(["ec2:DescribeRegions"]) {
        // The Classic Load Balancer API (`elb:*` in the manifest) shares ELBv2's IAM actions.
        let action = match call.strip_prefix("elb:") {
            Some(op) => format!("elasticloadbalancing:{op}"),
            None => call.to_string(),
        };
        assert!(
            allowed.contains(&action.as_str()),
            "{call} is made but {action} is not in docs/iam-policy.json"
        );
    }
}

/// A region that refuses every call (AccessDenied / UnauthorizedOperation, not retried):
/// recorded per call, the other region kept, exit 1.
#[test]
fn an_access_denied_region_is_recorded_and_the_rest_kept() {
    let stub = stub::start(stub::Mode::Pages);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("denied");
    let out = collect(
        &stub.url,
        &snap,
        &["--region", "eu-west-1", "--region", stub::DENIED_REGION],
    )
    .output()
    .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = read_json(&snap.join("manifest.json"));
    assert_eq!(manifest["status"], "partial");
    let denied = call(&manifest, stub::DENIED_REGION, "ec2:DescribeVpcs");
    assert_eq!(denied["status"], "failed");
    assert!(
        denied["error"]
            .as_str()
            .unwrap()
            .contains("UnauthorizedOperation"),
        "{denied}"
    );
    let rds = call(&manifest, stub::DENIED_REGION, "rds:DescribeDBInstances");
    assert!(
        rds["error"].as_str().unwrap().contains("AccessDenied"),
        "{rds}"
    );
    assert_eq!(
        call(&manifest, "eu-west-1", "ec2:DescribeVpcs")["status"],
        "ok"
    );
    // Not retried: one request per refused call.
    let seen = stub.requests.lock().unwrap().clone();
    let vpc_calls = seen
        .iter()
        .filter(|r| r.contains(&format!(" {} DescribeVpcs", stub::DENIED_REGION)))
        .count();
    assert_eq!(vpc_calls, 1, "{seen:?}");
}

/// `--role-arn` (repeatable): each role is assumed and its account collected with the role's
/// credentials; `--all-regions` asks DescribeRegions. No key or token is printed or written.
#[test]
fn assumes_each_role_and_collects_every_enabled_region() {
    let stub = stub::start(stub::Mode::Pages);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("org");
    let out = collect(
        &stub.url,
        &snap,
        &[
            "--all-regions",
            "--role-arn",
            "arn:aws:iam::210987654321:role/exposure-collect",
            "--role-arn",
            "arn:aws:iam::310987654321:role/exposure-collect",
        ],
    )
    .output()
    .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let manifest = read_json(&snap.join("manifest.json"));
    assert_eq!(
        manifest["accounts"],
        serde_json::json!(["210987654321", "310987654321"])
    );
    assert_eq!(
        manifest["regions"],
        serde_json::json!(["eu-west-1", "eu-west-3"])
    );
    for account in ["210987654321", "310987654321"] {
        for region in ["eu-west-1", "eu-west-3"] {
            assert!(
                snap.join(account)
                    .join(region)
                    .join("ec2-describe-vpcs.json")
                    .is_file(),
                "{account}/{region}"
            );
        }
    }
    // The describe calls were signed with each role's credentials.
    let seen = stub.requests.lock().unwrap().clone();
    assert!(seen
        .iter()
        .any(|r| r.starts_with("ASIA210987654321 eu-west-3 DescribeVpcs")));
    assert!(seen
        .iter()
        .any(|r| r.starts_with("ASIA310987654321 eu-west-1 DescribeVpcs")));
    // Secrets appear nowhere.
    let mut everything = format!("{stdout}{stderr}");
    for entry in walk(&snap) {
        everything.push_str(&std::fs::read_to_string(entry).unwrap());
    }
    for secret in [
        stub::ROLE_SECRET,
        stub::ROLE_TOKEN,
        "test-secret-do-not-print",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A run killed midway (a call that never answers) leaves no folder at the target, and the
/// temporary folder beside it says `partial`.
#[test]
fn an_interrupted_run_leaves_nothing_that_looks_complete() {
    let stub = stub::start(stub::Mode::HangOnVpcs);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("interrupted");
    let bin = assert_cmd::cargo::cargo_bin("exposure");
    let mut child = Command::new(bin)
        .arg("collect")
        .args([
            "--endpoint-url",
            &stub.url,
            "--region",
            "eu-west-1",
            "--output",
        ])
        .arg(&snap)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // Wait until the collection is under way (DescribeVpcs asked and left hanging).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stub
        .requests
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.contains("DescribeVpcs"))
    {
        assert!(Instant::now() < deadline, "DescribeVpcs never asked");
        assert!(child.try_wait().unwrap().is_none(), "collect ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!snap.exists(), "an interrupted run left {}", snap.display());
    for tmp in leftovers(&snap) {
        let manifest = read_json(&tmp.join("manifest.json"));
        assert_eq!(manifest["status"], "partial");
        // Whatever it holds, loading the leftover says it is partial (or finds nothing).
        let out = exposure()
            .arg("analyze")
            .arg(&tmp)
            .args(["--format", "json"])
            .output()
            .expect("runs");
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(v["partial"], true);
        }
    }
}

/// Usage errors: an existing non-empty output folder, conflicting region flags, a bad role.
#[test]
fn refuses_to_overwrite_or_guess() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let out = collect("http://127.0.0.1:9", &busy, &["--region", "eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(busy.join("keep.txt")).unwrap(),
        "mine"
    );

    let out = collect(
        "http://127.0.0.1:9",
        &dir.path().join("x"),
        &["--region", "eu-west-1", "--all-regions"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = collect(
        "http://127.0.0.1:9",
        &dir.path().join("y"),
        &["--region", "eu-west-1", "--role-arn", "not-an-arn"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a role ARN"));

    // An endpoint that is not a URL: a usage error before any call, not the SDK's error.
    for (url, why) in [
        ("not a url", "spaces"),
        ("localhost:5000", "expected http://HOST[:PORT]"),
        ("http://", "no host"),
        ("http://localhost:99999", "`99999` is not a port"),
    ] {
        let out = collect(url, &dir.path().join("u"), &["--region", "eu-west-1"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(
            stderr.contains(&format!("--endpoint-url `{url}` is not a URL"))
                && stderr.contains(why),
            "{url}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr}");
        assert!(!dir.path().join("u").exists());
    }

    // No region anywhere.
    let out = collect("http://127.0.0.1:9", &dir.path().join("z"), &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no region"));
}
