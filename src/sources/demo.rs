//! The demo estate `models/three-tier/`, embedded in the binary so that
//! `exposure analyze` works without an AWS account or a snapshot.

use include_dir::{include_dir, Dir};

use super::{load_files, LoadError, Snapshot, SnapshotFile};

static THREE_TIER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/models/three-tier");

/// The name the embedded demo is shown under.
pub const DEMO_ORIGIN: &str = "models/three-tier (embedded demo)";

/// The demo's files, with paths relative to `models/three-tier/`.
pub fn demo_files() -> Vec<SnapshotFile> {
    let mut files = Vec::new();
    collect(&THREE_TIER, &mut files);
    files.sort_by(|a, b| a.display.cmp(&b.display));
    files
}

fn collect(dir: &Dir<'static>, out: &mut Vec<SnapshotFile>) {
    for file in dir.files() {
        let rel = file.path();
        let mut components = vec!["models".to_string(), "three-tier".to_string()];
        components.extend(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
        out.push(SnapshotFile {
            display: format!("models/three-tier/{}", rel.display()),
            components,
            contents: file.contents().to_vec(),
        });
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

/// Loads the embedded demo estate.
pub fn load_demo() -> Result<Snapshot, LoadError> {
    load_files(DEMO_ORIGIN, &demo_files())
}
