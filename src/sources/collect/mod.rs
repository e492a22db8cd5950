//! The live collector: `exposure collect` reads an estate through the AWS SDK for Rust and
//! writes a snapshot the loader reads.
//!
//! This module is the only place that names AWS SDK types. It writes the AWS CLI's JSON
//! shapes and key names (see [`json`](mod@json)), one file per call, in the `<account>/<region>/`
//! layout, plus a `manifest.json` recording every call with its item count, pages and
//! status. The snapshot is built in a temporary folder beside the target, whose manifest
//! says `partial` from the first moment, and renamed into place only at the end: an
//! interrupted run never leaves a folder that looks complete.
//!
//! Calls run concurrently across accounts and regions (at most `concurrency` in flight),
//! every paginated call follows its paginator to the last page, and the SDK's standard
//! retry mode backs off on throttling. Credentials never reach the output: errors are the
//! SDK's error messages, which name the operation and the AWS error code, never a key.

mod calls;
pub mod json;
mod progress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::{json, Value};

use progress::Progress;

/// What `exposure collect` was asked to do.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The snapshot folder to create. It must not exist, or be empty.
    pub output: PathBuf,
    /// A named profile of the shared AWS config files (otherwise the standard chain).
    pub profile: Option<String>,
    /// Regions to collect; empty means the configured default region (unless `all_regions`).
    pub regions: Vec<String>,
    /// Every region enabled for each account (EC2 DescribeRegions).
    pub all_regions: bool,
    /// Roles to assume, one account each; empty means the caller's own account.
    pub role_arns: Vec<String>,
    /// An endpoint for every service (emulators, private endpoints).
    pub endpoint_url: Option<String>,
    /// At most this many API calls in flight at once, across all accounts and regions.
    pub concurrency: usize,
    /// Attempts per call, retries included (the SDK's standard retry mode with backoff).
    pub max_attempts: u32,
}

impl CollectOptions {
    /// Options with the defaults for everything but the output folder.
    pub fn new(output: PathBuf) -> Self {
        CollectOptions {
            output,
            profile: None,
            regions: Vec::new(),
            all_regions: false,
            role_arns: Vec::new(),
            endpoint_url: None,
            concurrency: 16,
            max_attempts: 5,
        }
    }
}

/// Whether every call succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectStatus {
    /// Every call succeeded.
    Complete,
    /// Some calls failed: the snapshot is kept and its manifest says `partial`.
    Partial,
}

/// A snapshot that was written.
#[derive(Debug, Clone)]
pub struct CollectOutcome {
    /// Complete or partial.
    pub status: CollectStatus,
    /// Where the snapshot is.
    pub output: PathBuf,
    /// Calls that failed, one line each (`account region call: error`).
    pub failures: Vec<String>,
}

impl CollectOutcome {
    /// The exit code for the CLI: 0 complete, 1 partial.
    pub fn exit_code(&self) -> u8 {
        match self.status {
            CollectStatus::Complete => 0,
            CollectStatus::Partial => 1,
        }
    }
}

/// Why no snapshot was written (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The options cannot work.
    #[error("{0}")]
    Usage(String),
    /// The output folder exists and is not empty.
    #[error("{0} already exists and is not empty; choose a new folder (a snapshot is never merged into another)")]
    OutputExists(PathBuf),
    /// Writing the snapshot failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Every call failed: nothing was written.
    #[error("nothing could be collected ({} failed call{}); no snapshot written{}", .failures.len(), if .failures.len() == 1 { "" } else { "s" }, first_failures(.failures))]
    NothingCollected {
        /// The failed calls, one line each.
        failures: Vec<String>,
    },
}

fn first_failures(failures: &[String]) -> String {
    let mut out = String::new();
    for f in failures.iter().take(5) {
        out.push_str("\n  ");
        out.push_str(f);
    }
    if failures.len() > 5 {
        out.push_str(&format!("\n  ... and {} more", failures.len() - 5));
    }
    out
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CollectError + '_ {
    move |source| CollectError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One call's record in the manifest (per-resource calls, such as listeners per load
/// balancer, are added up into one record per account, region and call).
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    pub account: String,
    pub region: String,
    /// `ec2:DescribeVpcs`.
    pub call: &'static str,
    /// The kind of resource counted in `items` (`Vpcs`, `Instances`, `Listeners` ...).
    pub kind: &'static str,
    pub items: usize,
    pub pages: usize,
    pub error: Option<String>,
    /// Not attempted because the call it depends on failed (listeners when
    /// DescribeLoadBalancers failed): no file is written, so the loader does not read
    /// "none" where the truth is unknown.
    pub skipped: bool,
    /// What the call collects refines answers the loader otherwise gives as `unknown` (VPC
    /// Block Public Access exclusions): its failure is recorded as `unavailable` and does not
    /// make the snapshot partial.
    pub optional: bool,
}

impl CallRecord {
    /// A failure that makes the snapshot partial.
    pub fn failed(&self) -> bool {
        self.error.is_some() && !self.optional
    }

    /// An optional call that failed: recorded, nothing written, the snapshot stays complete.
    pub fn unavailable(&self) -> bool {
        self.error.is_some() && self.optional
    }
}

/// A file of the snapshot, relative to its account/region folder.
pub(crate) struct OutFile {
    pub name: String,
    pub doc: Value,
}

/// What one account and region gave.
pub(crate) struct RegionResult {
    pub account: String,
    pub region: String,
    pub files: Vec<OutFile>,
    pub calls: Vec<CallRecord>,
    pub elapsed: Duration,
}

/// Runs `exposure collect`: prints progress to standard error and the summary to standard
/// output, and returns whether the snapshot is complete or partial.
pub fn run(opts: &CollectOptions) -> Result<CollectOutcome, CollectError> {
    if opts.all_regions && !opts.regions.is_empty() {
        return Err(CollectError::Usage(
            "--region and --all-regions exclude each other".into(),
        ));
    }
    for r in &opts.regions {
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(CollectError::Usage(format!(
                "`{r}` is not a region name (eu-west-1, us-east-1, ...)"
            )));
        }
    }
    if let Some(url) = &opts.endpoint_url {
        if let Err(why) = check_endpoint_url(url) {
            return Err(CollectError::Usage(format!(
                "--endpoint-url `{url}` is not a URL the SDK can call: {why}"
            )));
        }
    }
    for arn in &opts.role_arns {
        if account_of_role(arn).is_none() {
            return Err(CollectError::Usage(format!(
                "`{arn}` is not a role ARN (arn:aws:iam::123456789012:role/NAME)"
            )));
        }
    }
    let target = opts.output.clone();
    check_target(&target)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| CollectError::Usage(format!("{} is not a folder name", target.display())))?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = parent.join(format!(".{name}.exposure-partial-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;

    let started = SystemTime::now();
    let clock = Instant::now();
    // The temporary folder says `partial` from the start: whatever stops this run, what it
    // leaves behind never reads as complete.
    let mut manifest = Manifest::new(started);
    write_json(&tmp.join("manifest.json"), &manifest.to_json(None))?;

    let progress = Progress::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_err(&tmp))?;
    let collected = runtime.block_on(collect_all(opts, &progress));
    drop(runtime);
    progress.finish();
    let results = match collected {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };

    // Write every account/region folder that got at least one answer.
    let mut any_ok = false;
    for r in &results.regions {
        manifest.calls.extend(r.calls.iter().cloned());
        if r.calls.iter().all(|c| c.error.is_some() || c.skipped) {
            continue;
        }
        any_ok = true;
        let dir = tmp.join(&r.account).join(&r.region);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for f in &r.files {
            write_json(&dir.join(&f.name), &f.doc)?;
        }
    }
    manifest
        .calls
        .extend(results.account_failures.iter().cloned());
    let failures: Vec<String> = manifest
        .calls
        .iter()
        .filter(|c| c.failed())
        .filter_map(|c| {
            c.error
                .as_ref()
                .map(|e| format!("{} {} {}: {}", c.account, c.region, c.call, e))
        })
        .collect();
    let elapsed = clock.elapsed();
    if !any_ok {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(CollectError::NothingCollected { failures });
    }
    let status = if failures.is_empty() {
        CollectStatus::Complete
    } else {
        CollectStatus::Partial
    };
    manifest.accounts = results.accounts.clone();
    manifest.regions = results
        .regions
        .iter()
        .map(|r| r.region.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let finished = SystemTime::now();
    write_json(
        &tmp.join("manifest.json"),
        &manifest.to_json(Some((finished, status))),
    )?;
    // Into place. An empty target folder (made by the user beforehand) is replaced.
    if target.exists() {
        std::fs::remove_dir(&target).map_err(io_err(&target))?;
    }
    std::fs::rename(&tmp, &target).map_err(io_err(&target))?;

    // A closed pipe (`| head`) is not worth a panic.
    let text = summary(&target, &results.regions, &manifest.calls, status, elapsed);
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    Ok(CollectOutcome {
        status,
        output: target,
        failures,
    })
}

fn check_target(target: &Path) -> Result<(), CollectError> {
    match std::fs::read_dir(target) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(CollectError::OutputExists(target.to_path_buf()))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if target.exists() => Err(CollectError::OutputExists(target.to_path_buf())),
        Err(e) => Err(CollectError::Io {
            path: target.to_path_buf(),
            source: e,
        }),
    }
}

fn write_json(path: &Path, value: &Value) -> Result<(), CollectError> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    std::fs::write(path, text).map_err(io_err(path))
}

/// Why `--endpoint-url` is not an `http://` or `https://` URL with a host (and, when given, a
/// port 0-65535), checked before any call: the SDK would fail only on its first call, with an
/// error dump.
fn check_endpoint_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it holds spaces or control characters".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or(
            "expected http://HOST[:PORT] or https://HOST[:PORT], such as http://localhost:5000",
        )?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("an unclosed `[` in the host")?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("it names no host".into());
    }
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return Err(format!("`{p}` is not a port (0-65535)"));
        }
    }
    Ok(())
}

/// `arn:aws:iam::123456789012:role/NAME` → `123456789012`.
fn account_of_role(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/"))
    .then(|| parts[4].to_string())
}

fn timestamp(t: SystemTime) -> String {
    aws_sdk_ec2::primitives::DateTime::from(t)
        .fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default()
}

struct Manifest {
    started: SystemTime,
    accounts: Vec<String>,
    regions: Vec<String>,
    calls: Vec<CallRecord>,
}

impl Manifest {
    fn new(started: SystemTime) -> Self {
        Manifest {
            started,
            accounts: Vec::new(),
            regions: Vec::new(),
            calls: Vec::new(),
        }
    }

    /// `done` is `None` while the collection runs: the manifest then says `partial`.
    fn to_json(&self, done: Option<(SystemTime, CollectStatus)>) -> Value {
        let mut calls: Vec<&CallRecord> = self.calls.iter().collect();
        calls.sort_by(|a, b| (&a.account, &a.region, a.call).cmp(&(&b.account, &b.region, b.call)));
        let calls: Vec<Value> = calls
            .into_iter()
            .map(|c| {
                let mut v = json!({
                    "account": c.account,
                    "region": c.region,
                    "call": c.call,
                    "items": c.items,
                    "pages": c.pages,
                    "status": if c.unavailable() {
                        "unavailable"
                    } else if c.error.is_some() {
                        "failed"
                    } else if c.skipped {
                        "skipped"
                    } else {
                        "ok"
                    },
                });
                if let Some(e) = &c.error {
                    v["error"] = Value::String(e.clone());
                }
                v
            })
            .collect();
        let status = match done {
            Some((_, CollectStatus::Complete)) => "complete",
            _ => "partial",
        };
        let mut v = json!({
            "tool": "exposure",
            "version": env!("CARGO_PKG_VERSION"),
            "started": timestamp(self.started),
            "status": status,
            "accounts": self.accounts,
            "regions": self.regions,
            "calls": calls,
        });
        match done {
            Some((finished, _)) => v["finished"] = Value::String(timestamp(finished)),
            None => v["note"] = Value::String("collection in progress or interrupted".into()),
        }
        v
    }
}

/// Everything a run gathered.
struct Collected {
    accounts: Vec<String>,
    regions: Vec<RegionResult>,
    /// Accounts that could not be reached at all (assume-role or GetCallerIdentity failed).
    account_failures: Vec<CallRecord>,
}

async fn base_config(opts: &CollectOptions) -> SdkConfig {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(r) = opts.regions.first() {
        loader = loader.region(Region::new(r.clone()));
    }
    loader.load().await
}

/// One account to collect: its label before it is known, and its SDK configuration.
struct AccountConfig {
    /// The role assumed, if any.
    role: Option<String>,
    config: SdkConfig,
}

async fn collect_all(
    opts: &CollectOptions,
    progress: &Progress,
) -> Result<Collected, CollectError> {
    let base = base_config(opts).await;
    if base.region().is_none() && opts.regions.is_empty() && !opts.all_regions {
        return Err(CollectError::Usage(
            "no region: pass --region REGION (repeatable) or --all-regions, or configure a default region (AWS_REGION, or `region` in the profile)".into(),
        ));
    }
    // Without a region of its own (only --all-regions), DescribeRegions and STS ask us-east-1.
    let base = if base.region().is_none() {
        base.to_builder()
            .region(Region::from_static("us-east-1"))
            .build()
    } else {
        base
    };
    let mut accounts = Vec::new();
    if opts.role_arns.is_empty() {
        accounts.push(AccountConfig {
            role: None,
            config: base.clone(),
        });
    } else {
        for arn in &opts.role_arns {
            let provider = aws_config::sts::AssumeRoleProvider::builder(arn.clone())
                .session_name("exposure-collect")
                .configure(&base)
                .build()
                .await;
            let config = base
                .to_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
            accounts.push(AccountConfig {
                role: Some(arn.clone()),
                config,
            });
        }
    }

    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, acct) in accounts.into_iter().enumerate() {
        let limit = limit.clone();
        let progress = progress.clone();
        let regions = opts.regions.clone();
        let all_regions = opts.all_regions;
        set.spawn(async move {
            (
                i,
                collect_account(acct, regions, all_regions, limit, progress).await,
            )
        });
    }
    let mut per_account = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(r) => per_account.push(r),
            Err(e) => {
                return Err(CollectError::Usage(format!(
                    "internal error: a collection task failed: {e}"
                )))
            }
        }
    }
    per_account.sort_by_key(|(i, _)| *i);
    let mut out = Collected {
        accounts: Vec::new(),
        regions: Vec::new(),
        account_failures: Vec::new(),
    };
    for (_, r) in per_account {
        match r {
            AccountResult::Collected { account, regions } => {
                out.accounts.push(account);
                out.regions.extend(regions);
            }
            AccountResult::Failed(record) => out.account_failures.push(record),
        }
    }
    out.accounts.sort();
    out.accounts.dedup();
    Ok(out)
}

enum AccountResult {
    Collected {
        account: String,
        regions: Vec<RegionResult>,
    },
    Failed(CallRecord),
}

async fn collect_account(
    acct: AccountConfig,
    regions: Vec<String>,
    all_regions: bool,
    limit: Arc<tokio::sync::Semaphore>,
    progress: Progress,
) -> AccountResult {
    let label = acct
        .role
        .as_deref()
        .and_then(account_of_role)
        .unwrap_or_else(|| "unknown-account".to_string());
    let home = acct
        .config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let failed = |call: &'static str, error: String| {
        let record = CallRecord {
            account: label.clone(),
            region: home.clone(),
            call,
            kind: "",
            items: 0,
            pages: 0,
            error: Some(match &acct.role {
                Some(role) => format!("{role}: {error}"),
                None => error,
            }),
            skipped: false,
            optional: false,
        };
        progress.call_done(&record);
        AccountResult::Failed(record)
    };
    progress.add_calls(1);
    let sts = aws_sdk_sts::Client::new(&acct.config);
    let account = {
        let _permit = limit
            .acquire()
            .await
            .expect("the semaphore is never closed");
        match sts.get_caller_identity().send().await {
            Ok(id) => match id.account() {
                Some(a) => a.to_string(),
                None => return failed("sts:GetCallerIdentity", "no account in the answer".into()),
            },
            Err(e) => return failed("sts:GetCallerIdentity", calls::sdk_error_text(&e)),
        }
    };
    progress.call_done(&CallRecord {
        account: account.clone(),
        region: home.clone(),
        call: "sts:GetCallerIdentity",
        kind: "",
        items: 1,
        pages: 1,
        error: None,
        skipped: false,
        optional: false,
    });
    let regions = if all_regions {
        progress.add_calls(1);
        let ec2 = aws_sdk_ec2::Client::new(&acct.config);
        let _permit = limit
            .acquire()
            .await
            .expect("the semaphore is never closed");
        match ec2.describe_regions().send().await {
            Ok(out) => {
                let mut names: Vec<String> = out
                    .regions()
                    .iter()
                    .filter_map(|r| r.region_name().map(str::to_string))
                    .collect();
                names.sort();
                progress.call_done(&CallRecord {
                    account: account.clone(),
                    region: home.clone(),
                    call: "ec2:DescribeRegions",
                    kind: "",
                    items: names.len(),
                    pages: 1,
                    error: None,
                    skipped: false,
                    optional: false,
                });
                names
            }
            Err(e) => {
                let record = CallRecord {
                    account: account.clone(),
                    region: home.clone(),
                    call: "ec2:DescribeRegions",
                    kind: "",
                    items: 0,
                    pages: 0,
                    error: Some(calls::sdk_error_text(&e)),
                    skipped: false,
                    optional: false,
                };
                progress.call_done(&record);
                return AccountResult::Failed(record);
            }
        }
    } else if regions.is_empty() {
        vec![home.clone()]
    } else {
        regions
    };

    let mut set = tokio::task::JoinSet::new();
    for (i, region) in regions.into_iter().enumerate() {
        let config = acct
            .config
            .to_builder()
            .region(Region::new(region.clone()))
            .build();
        let account = account.clone();
        let limit = limit.clone();
        let progress = progress.clone();
        set.spawn(async move {
            (
                i,
                calls::collect_region(account, region, config, limit, progress).await,
            )
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    AccountResult::Collected {
        account,
        regions: results.into_iter().map(|(_, r)| r).collect(),
    }
}

/// The closing summary: resources per kind, per account/region, failures, elapsed time.
fn summary(
    target: &Path,
    regions: &[RegionResult],
    calls: &[CallRecord],
    status: CollectStatus,
    elapsed: Duration,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let failed = calls.iter().filter(|c| c.failed()).count();
    let _ = writeln!(
        out,
        "{} snapshot written to {} in {:.1} s ({} calls{})",
        match status {
            CollectStatus::Complete => "Complete",
            CollectStatus::Partial => "PARTIAL",
        },
        target.display(),
        elapsed.as_secs_f64(),
        calls.len(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for c in calls.iter().filter(|c| !c.kind.is_empty()) {
        *kinds.entry(c.kind).or_default() += c.items;
    }
    let _ = writeln!(out, "\nResources per kind:");
    for (k, n) in &kinds {
        let _ = writeln!(out, "  {k:<32} {n:>7}");
    }
    let _ = writeln!(out, "\nPer account/region:");
    for r in regions {
        let items: usize = r
            .calls
            .iter()
            .filter(|c| !c.kind.is_empty())
            .map(|c| c.items)
            .sum();
        let bad = r.calls.iter().filter(|c| c.failed()).count();
        let _ = writeln!(
            out,
            "  {} {:<16} {:>7} resources, {:>3} calls{}, {:.1} s",
            r.account,
            r.region,
            items,
            r.calls.len(),
            if bad > 0 {
                format!(", {bad} FAILED")
            } else {
                String::new()
            },
            r.elapsed.as_secs_f64()
        );
    }
    for (heading, pick) in [
        (
            "Failed calls (recorded in manifest.json; the snapshot is marked partial):",
            CallRecord::failed as fn(&CallRecord) -> bool,
        ),
        (
            "Optional calls that failed (recorded in manifest.json as `unavailable`; the snapshot \
             stays complete, and what they would decide is answered `unknown`):",
            CallRecord::unavailable,
        ),
    ] {
        let listed: Vec<&CallRecord> = calls.iter().filter(|c| pick(c)).collect();
        if listed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{heading}");
        for c in listed {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                c.account,
                c.region,
                c.call,
                c.error.as_deref().unwrap_or_default()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(
            account_of_role("arn:aws:iam::123456789012:role/audit").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            account_of_role("arn:aws:iam::123456789012:role/path/audit").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of_role("arn:aws:iam::1234:role/x"), None);
        assert_eq!(account_of_role("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn the_in_progress_manifest_says_partial() {
        let m = Manifest::new(SystemTime::UNIX_EPOCH);
        let v = m.to_json(None);
        assert_eq!(v["tool"], "exposure");
        assert_eq!(v["status"], "partial");
        assert_eq!(v["started"], "1970-01-01T00:00:00Z");
        assert!(v.get("finished").is_none());
    }
}
