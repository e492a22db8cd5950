//! Prints a snapshot's application-to-application exposures one (source, target) pair at a
//! time, for comparing what two builds of the engine report when they group sources
//! differently: the traffic, entries and members of every exposure naming a source are joined
//! per pair, as `Report::pairs` does, one target at a time (m has about 24 million pairs).
//!
//! ```text
//! cargo run --release --example pairs -- SNAPSHOT          # one digest line per target
//! cargo run --release --example pairs -- SNAPSHOT --full   # one line per pair
//! ```
//!
//! Lines are sorted. Two builds agree on a snapshot when their outputs are identical
//! (BENCHMARKS.md uses it when a change regroups the report). Internet and on-premises
//! exposures are left out: the report's own JSON compares those directly.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use exposure::analysis::{Exposure, Source};
use exposure::engine::packet::PacketSet;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: pairs SNAPSHOT [--full]");
        std::process::exit(2);
    };
    let snap = match exposure::sources::load_path(std::path::Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pairs: {e}");
            std::process::exit(2);
        }
    };
    let report = exposure::analysis::analyze(&snap.model);
    let mut by_target: BTreeMap<&str, Vec<&Exposure>> = BTreeMap::new();
    for e in &report.exposures {
        if matches!(e.source, Source::Applications(_)) {
            by_target.entry(e.target.as_str()).or_default().push(e);
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (target, exposures) in by_target {
        type Joined = (PacketSet, BTreeSet<String>, BTreeSet<usize>);
        let mut joined: BTreeMap<&str, Joined> = BTreeMap::new();
        for e in exposures {
            let Source::Applications(set) = &e.source else {
                continue;
            };
            for i in set.indices() {
                let j = joined
                    .entry(report.applications[i as usize].id.as_str())
                    .or_default();
                j.0 = j.0.union(&e.packets);
                j.1.extend(e.entries.iter().cloned());
                j.2.extend(e.members.iter().copied());
            }
        }
        let mut digest = DefaultHasher::new();
        let n = joined.len();
        for (source, (packets, entries, members)) in joined {
            let traffic: Vec<String> = exposure::engine::query::traffic_of(&packets)
                .iter()
                .map(|t| format!("{} {}", t.protocol, t.ports))
                .collect();
            let line = format!(
                "{source}\t{target}\t{}\t{}\t{members:?}",
                traffic.join(";"),
                entries.into_iter().collect::<Vec<_>>().join(",")
            );
            if full {
                writeln!(out, "{line}").expect("stdout");
            } else {
                line.hash(&mut digest);
            }
        }
        if !full {
            writeln!(out, "{target}\t{n} sources\t{:016x}", digest.finish()).expect("stdout");
        }
    }
}
