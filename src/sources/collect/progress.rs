//! Progress: an indicatif bar on a terminal, plain log lines otherwise (CI, pipes, files).
//! Everything goes to standard error; the summary alone goes to standard output.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{CallRecord, RegionResult};

/// Shared by every task of a run.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<Arc<ProgressBar>>,
}

impl Progress {
    /// A bar when standard error is a terminal, log lines otherwise.
    pub fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(Arc::new(bar)),
        }
    }

    /// More calls are on their way.
    pub fn add_calls(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc_length(n);
        }
    }

    /// A call (or a group of per-resource calls) finished.
    pub fn call_done(&self, r: &CallRecord) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{} {} {}", r.account, r.region, r.call));
        }
        if let Some(e) = &r.error {
            let what = if r.optional {
                "unavailable (optional)"
            } else {
                "failed"
            };
            self.line(&format!(
                "{what}: {} {} {}: {e}",
                r.account, r.region, r.call
            ));
        }
    }

    /// An account/region finished.
    pub fn region_done(&self, r: &RegionResult) {
        let failed = r.calls.iter().filter(|c| c.failed()).count();
        let resources: usize = r
            .calls
            .iter()
            .filter(|c| !c.kind.is_empty())
            .map(|c| c.items)
            .sum();
        self.line(&format!(
            "collected {} {}: {} calls, {} resources{} ({:.1} s)",
            r.account,
            r.region,
            r.calls.len(),
            resources,
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            },
            r.elapsed.as_secs_f64()
        ));
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
