//! Shared by the benches: synthetic estates generated into temporary folders.
//!
//! Sizes s and m always; l and xl only with `EXPOSURE_BENCH_LARGE=1`. Every
//! estate is checked before it is measured: it loads without warnings and
//! holds the counts of its size.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use exposure::generate::{generate, Size};
use exposure::model::Level;
use exposure::sources::{self, Snapshot, SnapshotFile};

/// The seed every bench uses.
pub const SEED: u64 = 1;

/// The sizes to measure.
pub fn sizes() -> Vec<Size> {
    let mut out = vec![Size::S, Size::M];
    if std::env::var("EXPOSURE_BENCH_LARGE").is_ok_and(|v| v == "1") {
        out.extend([Size::L, Size::Xl]);
    }
    out
}

/// A generated estate on disk (removed when dropped).
pub struct Estate {
    /// Its size.
    pub size: Size,
    /// Keeps the folder alive.
    _dir: tempfile::TempDir,
    /// The snapshot folder.
    pub path: PathBuf,
}

impl Estate {
    /// Generates the estate of a size into a temporary folder and checks that it loads cleanly.
    pub fn new(size: Size) -> Estate {
        let dir = tempfile::Builder::new()
            .prefix(&format!("exposure-bench-{}-", size.as_str()))
            .tempdir()
            .expect("temporary folder");
        let path = dir.path().join("estate");
        for (rel, bytes) in generate(size, SEED) {
            let p = path.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
        let estate = Estate {
            size,
            _dir: dir,
            path,
        };
        check(&estate.load(), size);
        estate
    }

    /// `sources::load_path`.
    pub fn load(&self) -> Snapshot {
        sources::load_path(&self.path).expect("the generated estate loads")
    }

    /// The files, read into memory as the loader reads them.
    pub fn files(&self) -> Vec<SnapshotFile> {
        let mut out = Vec::new();
        collect(&self.path, &mut Vec::new(), &mut out);
        out
    }
}

fn collect(dir: &Path, prefix: &mut Vec<String>, out: &mut Vec<SnapshotFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        prefix.push(name);
        if p.is_dir() {
            collect(&p, prefix, out);
        } else {
            out.push(SnapshotFile {
                display: p.display().to_string(),
                components: prefix.clone(),
                contents: std::fs::read(&p).expect("read"),
            });
        }
        prefix.pop();
    }
}

fn check(snap: &Snapshot, size: Size) {
    let warnings: Vec<String> = snap
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .take(10)
        .map(ToString::to_string)
        .collect();
    assert!(
        warnings.is_empty(),
        "size {} loads with warnings: {warnings:#?}",
        size.as_str()
    );
    let spec = size.spec();
    let m = &snap.model;
    assert_eq!(m.network_interfaces.len(), spec.enis);
    assert_eq!(m.vpcs.len(), spec.vpcs);
    assert_eq!(m.load_balancers.len(), spec.lbs);
    if !spec.one_sg_per_eni {
        assert_eq!(m.security_groups.len(), spec.sgs);
    }
}
