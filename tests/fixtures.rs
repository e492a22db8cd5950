//! Every fixture under `fixtures/` against its `expected.toml`.
//!
//! - `fixtures/bad/*`: `exposure analyze` exits 2 and the message names the file.
//! - `fixtures/edge/*`: loads (exit 0) with the listed warnings and notes.
//! - `fixtures/semantics/*`: each `[[case]]` is a query with its expected verdict, reason code and,
//!   for an unknown verdict, strings its reason must contain (`unknown_contains`).

use crate::common::{exposure, path, query};
use std::path::PathBuf;

fn dirs(kind: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(path(&format!("fixtures/{kind}")))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("expected.toml").exists())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn expected(dir: &std::path::Path) -> toml::Value {
    let text = std::fs::read_to_string(dir.join("expected.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn strings(v: &toml::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_never_panic() {
    let all = dirs("bad");
    assert!(
        all.len() >= 6,
        "expected the bad-input fixtures, found {}",
        all.len()
    );
    for dir in all {
        let exp = expected(&dir);
        let out = exposure().arg("analyze").arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exp["exit"].as_integer().unwrap() as i32),
            "{}: {stderr}",
            dir.display()
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", dir.display());
        for needle in strings(&exp, "message_contains") {
            assert!(
                stderr.contains(&needle),
                "{}: message lacks `{needle}`: {stderr}",
                dir.display()
            );
        }
    }
}

#[test]
fn edge_inputs_load_with_their_warnings() {
    for dir in dirs("edge") {
        let exp = expected(&dir);
        let out = exposure()
            .arg("analyze")
            .arg(&dir)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(exp.get("exit").and_then(|e| e.as_integer()).unwrap_or(0) as i32),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = |key: &str| -> String {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    format!(
                        "{} {}",
                        w["file"].as_str().unwrap_or(""),
                        w["message"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (warnings, notes) = (text("warnings"), text("notes"));
        for needle in strings(&exp, "warnings_contain") {
            assert!(
                warnings.contains(&needle),
                "{}: warnings lack `{needle}`:\n{warnings}",
                dir.display()
            );
        }
        for needle in strings(&exp, "notes_contain") {
            assert!(
                notes.contains(&needle),
                "{}: notes lack `{needle}`:\n{notes}",
                dir.display()
            );
        }
        if let Some(counts) = exp.get("counts").and_then(|c| c.as_table()) {
            for (k, n) in counts {
                let got = v["totals"].get(k).and_then(|x| x.as_i64()).unwrap_or(0);
                assert_eq!(
                    got,
                    n.as_integer().unwrap(),
                    "{}: count of {k}",
                    dir.display()
                );
            }
        }
    }
}

#[test]
fn semantics_fixtures_give_their_verdicts_and_reasons() {
    let all = dirs("semantics");
    let mut failures = Vec::new();
    let mut cases = 0;
    for dir in &all {
        let exp = expected(dir);
        for case in exp
            .get("case")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default()
        {
            cases += 1;
            let s = |k: &str| {
                case.get(k).map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let mut extra: Vec<String> = Vec::new();
            for (flag, key) in [
                ("--protocol", "protocol"),
                ("--port", "port"),
                ("--source-port", "source_port"),
            ] {
                if let Some(v) = s(key) {
                    extra.push(flag.into());
                    extra.push(v);
                }
            }
            let extra_ref: Vec<&str> = extra.iter().map(String::as_str).collect();
            let (from, to) = (s("from").unwrap(), s("to").unwrap());
            let v = query(dir, &from, &to, &extra_ref);
            let want = s("expect").unwrap();
            let got = v["verdict"].as_str().unwrap().to_string();
            let name = format!(
                "{} {from} -> {to} {extra:?}",
                dir.file_name().unwrap().to_string_lossy()
            );
            if got != want {
                failures.push(format!(
                    "{name}: expected {want}, got {got} ({})",
                    v["blocked_by"]
                ));
                continue;
            }
            // An unknown verdict's reason (the answer's "not modelled: ..." assumptions).
            let assumptions: Vec<&str> = v["assumptions"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            for needle in strings(&case, "unknown_contains") {
                if !assumptions
                    .iter()
                    .any(|a| a.starts_with("not modelled:") && a.contains(&needle))
                {
                    failures.push(format!(
                        "{name}: no unknown reason mentions `{needle}`: {assumptions:?}"
                    ));
                }
            }
            for needle in strings(&case, "assumption_contains") {
                if !assumptions.iter().any(|a| a.contains(&needle)) {
                    failures.push(format!(
                        "{name}: no assumption mentions `{needle}`: {assumptions:?}"
                    ));
                }
            }
            let codes: Vec<&str> = v["blocked_by"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["code"].as_str())
                .collect();
            if let Some(code) = s("code") {
                if !codes.contains(&code.as_str()) {
                    failures.push(format!("{name}: expected reason {code}, got {codes:?}"));
                }
            }
            // Words a blocker must say (its component or detail): which component is named.
            for needle in strings(&case, "blocker_contains") {
                let said = v["blocked_by"].as_array().unwrap().iter().any(|b| {
                    [&b["component"], &b["detail"]]
                        .iter()
                        .any(|x| x.as_str().is_some_and(|x| x.contains(&needle)))
                });
                if !said {
                    failures.push(format!(
                        "{name}: no blocker mentions `{needle}`: {}",
                        v["blocked_by"]
                    ));
                }
            }
            // Components that must be named as blocking (the one at fault, not a neighbour).
            for id in strings(&case, "blocked_components") {
                let named = v["blocked_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b["component"].as_str() == Some(id.as_str()));
                if !named {
                    failures.push(format!(
                        "{name}: {id} is not named as a blocking component: {}",
                        v["blocked_by"]
                    ));
                }
            }
            // Reasons that must not be named (a blocker where nothing blocks misleads).
            for code in strings(&case, "absent_codes") {
                if codes.contains(&code.as_str()) {
                    failures.push(format!(
                        "{name}: reason {code} must not be named: {codes:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A reply that a transit gateway carries back into the client's own attachment subnet meets
/// none of that subnet's NACL rules: the path shown must not claim it does (a reply by the way
/// the request went shows them where the request left the subnet, as before).
#[test]
fn a_reply_followed_through_a_transit_gateway_shows_the_nacls_it_meets() {
    let reply_inbound_hops = |v: &serde_json::Value, subnet: &str| -> usize {
        v["paths"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["hops"].as_array().unwrap())
            .filter(|h| {
                h["rule"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&format!("reply inbound to {subnet}")))
            })
            .count()
    };
    // (fixture, from, to, the client's attachment subnet): monitor-1 sits in ops's attachment
    // subnet and fleet's replies come back through the gateway; the other client's subnet
    // NACL denies every reply, which the gateway's way does not meet.
    let cases = [
        (
            "tgw-reply-another-way",
            "i-06400000000000001",
            "i-06400000000000003",
            "443",
            "subnet-06400000000000001",
        ),
        (
            "reply-nacl-client-in-attachment-subnet",
            "10.0.1.10",
            "lb0-net",
            "5000",
            "subnet-0000000000bf00003",
        ),
    ];
    for (fixture, from, to, port, subnet) in cases {
        let dir = path(&format!("fixtures/semantics/{fixture}"));
        let v = query(&dir, from, to, &["--protocol", "tcp", "--port", port]);
        assert_eq!(v["verdict"], "reachable", "{fixture}: {v}");
        assert_eq!(reply_inbound_hops(&v, subnet), 0, "{fixture}: {v}");
    }
}
