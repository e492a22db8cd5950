//! Prints a snapshot's application-to-application exposures one (source, target) pair at a
//! time, for comparing what two builds of the engine report when they group sources
//! differently: the traffic, entries and members of every exposure naming a source are joined
//! per pair (`Report::pairs_by_target`, one target at a time: m has about 24 million pairs).
//!
//! ```text
//! cargo run --release --example pairs -- SNAPSHOT          # one digest line per target
//! cargo run --release --example pairs -- SNAPSHOT --full   # one line per pair
//! ```
//!
//! Lines are sorted. Two builds agree on a snapshot when their outputs are identical
//! (BENCHMARKS.md uses it when a change regroups the report). Internet and on-premises
//! exposures are left out: the report's own JSON compares those directly.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use exposure::analysis::Source;

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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for pairs in report.pairs_by_target() {
        let mut digest = DefaultHasher::new();
        let n = pairs.len();
        let target = pairs.first().map(|e| e.target.clone()).unwrap_or_default();
        for e in pairs {
            let Source::Application(source) = &e.source else {
                continue;
            };
            let traffic: Vec<String> = e
                .traffic
                .iter()
                .map(|t| format!("{} {}", t.protocol, t.ports))
                .collect();
            let line = format!(
                "{source}\t{target}\t{}\t{}\t{:?}",
                traffic.join(";"),
                e.entries.join(","),
                // As a set (the form the recorded outputs use).
                e.members.iter().collect::<std::collections::BTreeSet<_>>()
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
