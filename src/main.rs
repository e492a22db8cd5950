//! The `exposure` command line: parse flags, call the library, print, and map
//! outcomes to exit codes (0 success, 1 gate failed, 2 usage or input error).
//! This is the only place besides `sources` that does I/O.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use exposure::render::stream::ObjectWriter;
use exposure::render::{self, Format, QueryFormat};
use exposure::sources::{self, Snapshot};

#[derive(Parser)]
#[command(
    name = "exposure",
    version,
    about = "Network exposure graph analyser for AWS",
    long_about = "Network exposure graph analyser for AWS.\n\nReads a snapshot — a folder of AWS CLI `describe-*` JSON — and tells what the internet, on-premises networks and other applications can reach, and why.\n\nExit codes: 0 success; 1 the gate failed (e.g. `query --expect` not met); 2 usage or input error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Exposure report: what the internet, on-premises and other applications can reach, findings, inventory.
    ///
    /// Without SNAPSHOT, analyses the demo estate embedded in the binary (models/three-tier).
    /// Each exposure is effective (a path exists today) or latent (a security group admits it,
    /// but routing, NACLs or the lack of a public address stop it).
    Analyze {
        /// Snapshot folder (or one JSON file). Default: the embedded demo estate.
        snapshot: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Write the report to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Skip application-to-application reach: report what the internet and on-premises
        /// reach, and the findings, only (findings on rules that admit private ranges are then
        /// judged without knowing which applications use them). For estates too large for the
        /// all-pairs part, whose size grows with the square of the number of applications
        /// (see BENCHMARKS.md).
        #[arg(long)]
        no_app_to_app: bool,
        #[command(flatten)]
        findings: FindingsArgs,
    },
    /// Can traffic get from one endpoint to another? Paths hop by hop, or what blocks them.
    ///
    /// Endpoints: `internet`, `onprem` (behind the VPN gateways and the transit gateways' VPN and
    /// Direct Connect attachments), a resource id (i-, eni-, subnet-, vpc-, sg-, nat-, vgw-,
    /// vpce-, igw- or eigw- (the internet by that gateway only), the tgw-attach- of a VPN or
    /// Direct Connect attachment, or, as a destination, pcx-, tgw- or a gateway vpce-), a load balancer name, ARN
    /// or DNS name, an IP address or CIDR, `tag:KEY=VALUE`, or a Name tag value.
    /// Without --protocol/--port, asks whether ANY traffic gets through and lists what does.
    Query(Box<QueryArgs>),
    /// The exposure graph: DOT, SVG (through Graphviz's `dot`) or JSON.
    ///
    /// Clusters account → VPC → subnet; applications (identical interfaces grouped), load
    /// balancers, gateways, the internet and on-premises; effective internet exposure in red,
    /// latent exposure dashed. Narrow large estates with --vpc, --account, --focus and
    /// --exposed-only. JSON is documented in docs/graph-json.md.
    Graph(Box<GraphArgs>),
    /// Check policies (and findings at or above --fail-on): the CI gate.
    ///
    /// POLICY files are TOML policies (docs/policies.md) or AWS Network Access Analyzer scope
    /// documents (JSON); a folder stands for every .toml and .json file in it. Each violation is
    /// shown with a witness path. A `require` flow must get through from every ephemeral source
    /// port (1024-65535), as ordinary clients pick them; a `deny` is violated when any source
    /// port gets through. Exit 1 on any violation or gated finding that the baseline does not
    /// accept.
    Check(Box<CheckArgs>),
    /// Compare two snapshots: exposures opened, closed and changed; findings added, removed
    /// and changed.
    ///
    /// Findings are matched by code, resources and where their rules are, not by message: one
    /// whose text changed is listed as changed. Exit 1 when a change opens or widens an
    /// exposure (or adds a finding, or raises a finding's severity) at or above --fail-on.
    Diff(Box<DiffArgs>),
    /// Write a deterministic synthetic estate (AWS CLI JSON, CloudMapper layout) for benchmarks.
    ///
    /// s: 2,000 ENIs, 5 VPCs, 300 SGs; m: 20,000 ENIs, 100 VPCs, 5,000 SGs; l: 100,000 ENIs,
    /// 200 VPCs, 25,000 SGs; xl: as l with one security group per ENI. The same size and seed
    /// always give byte-identical files.
    Generate(GenerateArgs),
    /// Collect a snapshot from AWS (read-only API calls) into a new folder.
    ///
    /// Uses the standard AWS credential chain (environment, profiles, SSO, container and
    /// instance roles). Exit codes: 0 complete; 1 partial (some calls failed: the snapshot is
    /// kept and marked partial in manifest.json); 2 nothing collected or a usage error.
    Collect(Box<CollectArgs>),
}

#[derive(clap::Args)]
struct CollectArgs {
    /// The snapshot folder to create (it must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    output: PathBuf,
    /// A profile of the shared AWS config and credentials files.
    #[arg(long)]
    profile: Option<String>,
    /// A region to collect (repeatable). Default: the configured region.
    #[arg(long = "region", value_name = "REGION", conflicts_with = "all_regions")]
    regions: Vec<String>,
    /// Every region enabled for each account (EC2 DescribeRegions).
    #[arg(long)]
    all_regions: bool,
    /// Assume this role and collect its account (repeatable: one account per role).
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,
    /// Send every call to this endpoint (emulators, private endpoints).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// At most this many API calls in flight, across all accounts and regions.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Attempts per call, retries with backoff included.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
}

/// Settings of the findings (docs/findings.md).
#[derive(clap::Args, Debug, Default)]
struct FindingsArgs {
    /// Findings configuration (severity overrides, suppressions, wide-prefix lengths).
    /// Default: ./exposure.toml when it exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not report this finding code (repeatable).
    #[arg(long = "suppress", value_name = "CODE")]
    suppress: Vec<String>,
    /// Override a finding's severity: CODE=info|low|medium|high|critical (repeatable).
    #[arg(long = "severity", value_name = "CODE=LEVEL")]
    severity: Vec<String>,
}

/// Reads the findings configuration: the file, then the flags on top.
fn findings_config(args: &FindingsArgs) -> Result<exposure::findings::Config, String> {
    let default = PathBuf::from("exposure.toml");
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => default.is_file().then_some(default),
    };
    let mut cfg = match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            exposure::findings::Config::from_toml(&text)
                .map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => exposure::findings::Config::default(),
    };
    for code in &args.suppress {
        cfg.suppress_code(code)
            .map_err(|e| format!("--suppress: {e}"))?;
    }
    for s in &args.severity {
        let (code, level) = s
            .split_once('=')
            .ok_or_else(|| format!("--severity {s}: write CODE=LEVEL"))?;
        cfg.set_severity(code, level)
            .map_err(|e| format!("--severity: {e}"))?;
    }
    Ok(cfg)
}

/// Formats of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT text.
    Dot,
    /// SVG rendered by Graphviz's `dot` program (must be installed).
    Svg,
    /// A node/edge document (docs/graph-json.md).
    Json,
}

#[derive(clap::Args)]
struct GraphArgs {
    /// Snapshot folder (or one JSON file). Default: the embedded demo estate.
    snapshot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Keep only this VPC (id or Name tag), plus the internet and on-premises.
    #[arg(long)]
    vpc: Option<String>,
    /// Keep only this account.
    #[arg(long)]
    account: Option<String>,
    /// Keep one resource (application, ENI, instance id or name) and its neighbours.
    #[arg(long)]
    focus: Option<String>,
    /// Keep only applications exposed to the internet or on-premises.
    #[arg(long)]
    exposed_only: bool,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Size of the estate.
    #[arg(long, value_enum)]
    size: exposure::generate::Size,
    /// Seed: another seed, another estate of the same size.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The folder to write (it must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    output: PathBuf,
}

#[derive(clap::Args)]
struct QueryArgs {
    /// Snapshot folder (or one JSON file).
    snapshot: PathBuf,
    /// Source endpoint.
    #[arg(long)]
    from: String,
    /// Destination endpoint.
    #[arg(long)]
    to: String,
    /// Protocol: tcp, udp, icmp (ICMP or ICMPv6, by the addresses' family), all, or an IP
    /// protocol number 0-255 (58 or icmpv6: ICMPv6 only; 50: ESP). Default: all (also
    /// `--protocol=-1`, as security groups write it).
    #[arg(long, value_name = "PROTOCOL")]
    protocol: Option<exposure::engine::query::ProtocolArg>,
    /// Destination port N or range A-B (for an instance behind a load balancer: the target's port).
    #[arg(long)]
    port: Option<String>,
    /// Source port N or range A-B (default: any, 0-65535: a client chooses its own).
    #[arg(long = "source-port")]
    source_port: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Human)]
    format: QueryFormat,
    /// Exit 1 unless the verdict is this.
    #[arg(long, value_enum)]
    expect: Option<exposure::engine::query::Expectation>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Snapshot folder (or one JSON file).
    snapshot: PathBuf,
    /// Policy files or folders (repeatable; TOML policies or Network Access Analyzer scopes).
    #[arg(long = "policy", value_name = "FILE", required = true, num_args = 1..)]
    policies: Vec<PathBuf>,
    /// Also fail on findings of this severity or above (default: findings do not gate).
    #[arg(long, value_enum, default_value_t = exposure::policy::Threshold::Never)]
    fail_on: exposure::policy::Threshold,
    /// Accept the violations and findings this baseline lists.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record today's violations and gated findings as accepted in FILE (then exit 0).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the result to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
struct DiffArgs {
    /// The snapshot before the change.
    old: PathBuf,
    /// The snapshot after the change.
    new: PathBuf,
    /// Fail on changes of this severity or above: openings from the internet are high
    /// (critical on admin and data ports), from on-premises medium, between applications low,
    /// latent ones info; added findings keep their severity, and a changed finding counts
    /// only when its severity rose (at its new severity).
    #[arg(long, value_enum, default_value_t = exposure::policy::Threshold::Low)]
    fail_on: exposure::policy::Threshold,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the result to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Turns transparent huge pages off for this process (Linux; best effort: nothing changes
/// when the kernel refuses). With them on, every first touch of fresh allocator memory
/// zeroes a whole 2 MiB page, and the allocator returns and takes back memory all the time:
/// on the large generated estate a quarter of the CPU time went into zeroing pages in the
/// kernel (BENCHMARKS.md, "Session 8").
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) takes integers only, touches no memory of
    // ours, and only changes how the kernel backs this process's future page faults.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

/// mimalloc's `mi_option_purge_delay`: the C enum's member after `eager_commit_delay` (14) and
/// before `use_numa_nodes` (16, which the sys crate names), in mimalloc v2 and v3 alike.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const _: () = assert!(libmimalloc_sys::mi_option_use_numa_nodes == MI_OPTION_PURGE_DELAY + 1);

/// Lets the allocator keep freed memory for a second before returning it to the system (its
/// default is 10 ms). The engine frees and takes back memory all the time; on estate l the
/// default cost 20 s of system time in page faults, a second's delay 7 s, at the same peak
/// (BENCHMARKS.md, "Session 9"). `MIMALLOC_PURGE_DELAY` in the environment still decides.
fn delay_allocator_purges() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one integer option of the allocator, before any other thread exists (the
    // call is not thread safe); the value is in mimalloc's documented range (milliseconds).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) }
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    delay_allocator_purges();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
    }
}

fn load(snapshot: Option<&PathBuf>) -> Result<Snapshot, String> {
    match snapshot {
        Some(path) => sources::load_path(path).map_err(|e| e.to_string()),
        None => sources::demo::load_demo()
            .map_err(|e| format!("the embedded demo estate failed to load: {e}")),
    }
}

fn emit(text: &str, output: Option<&PathBuf>) -> Result<(), String> {
    match output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut out = anstream::stdout();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// Writes a JSON object, field by field (`write`), and a newline to the file or to standard
/// output, without holding the text (the same bytes as the renderers' strings).
fn emit_json(
    output: Option<&PathBuf>,
    write: impl FnOnce(
        &mut ObjectWriter<std::io::BufWriter<Box<dyn Write + Send>>>,
    ) -> std::io::Result<()>,
) -> Result<(), String> {
    let run = |w: Box<dyn Write + Send>| -> std::io::Result<()> {
        let mut doc = ObjectWriter::new(std::io::BufWriter::with_capacity(1 << 20, w));
        write(&mut doc)?;
        let mut w = doc.finish()?;
        w.write_all(b"\n")?;
        w.flush()
    };
    match output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| run(Box::new(f)))
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = run(Box::new(std::io::stdout()));
            Ok(())
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Collect(args) => {
            let mut opts = sources::collect::CollectOptions::new(args.output);
            opts.profile = args.profile;
            opts.regions = args.regions;
            opts.all_regions = args.all_regions;
            opts.role_arns = args.role_arns;
            opts.endpoint_url = args.endpoint_url;
            opts.concurrency = usize::from(args.concurrency);
            opts.max_attempts = args.max_attempts;
            let outcome = sources::collect::run(&opts).map_err(|e| e.to_string())?;
            Ok(ExitCode::from(outcome.exit_code()))
        }
        Command::Analyze {
            snapshot,
            format,
            output,
            no_app_to_app,
            findings: findings_args,
        } => {
            let cfg = findings_config(&findings_args)?;
            let mut clock = Timings::from_env();
            let snap = load(snapshot.as_ref())?;
            clock.lap("load");
            let inv = exposure::inventory::inventory(&snap.origin, &snap.model, &snap.diagnostics);
            clock.lap("inventory");
            let options = exposure::analysis::Options {
                app_to_app: !no_app_to_app,
                ..Default::default()
            };
            let idx = exposure::engine::index::Index::new(&snap.model);
            clock.lap("index");
            let report = exposure::analysis::analyze_indexed(&snap.model, &idx, &options);
            clock.lap("analysis");
            let findings = exposure::findings::check_indexed(&snap.model, &idx, &report, &cfg);
            clock.lap("findings");
            let analysis = render::report::Analysis {
                inventory: &inv,
                report: &report,
                findings: &findings,
            };
            // JSON is serialised straight into the output (l's report is 580 MB of it); the
            // other formats are rendered, then written.
            let text = match format {
                Format::Human => Some(render::report::human(&analysis)),
                Format::Json => None,
                Format::Markdown => Some(render::report::markdown(&analysis)),
                Format::Sarif => Some(render::sarif::analyze(
                    &analysis,
                    snapshot.as_ref().map(|_| inv.origin.as_str()),
                )),
            };
            clock.lap("render");
            match text {
                Some(text) => emit(&text, output.as_ref())?,
                None => emit_json(output.as_ref(), |doc| {
                    render::report::json_fields(&analysis, doc)
                })?,
            }
            clock.lap("write");
            // The process ends here: freeing a large model piece by piece only costs time
            // (about 0.4 s on 100,000 interfaces); the OS reclaims it at exit.
            std::mem::forget((inv, idx, report, findings));
            std::mem::forget(snap);
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate(args) => generate(&args),
        Command::Graph(args) => graph(*args),
        Command::Check(args) => check(*args),
        Command::Diff(args) => diff(*args),
        Command::Query(args) => {
            let snap = load(Some(&args.snapshot))?;
            let request = exposure::engine::query::Request::parse(
                &args.from,
                &args.to,
                args.protocol,
                args.port.as_deref(),
                args.source_port.as_deref(),
            )?;
            let answer = exposure::engine::query::run(&snap.model, &request)
                .map_err(|e| skipped_hint(e, &snap.diagnostics))?;
            let text = match args.format {
                QueryFormat::Human => render::query::human(&snap.model, &answer),
                QueryFormat::Json => render::query::json(&answer),
            };
            emit(&text, None)?;
            let met = args.expect.is_none_or(|e| e.met_by(answer.verdict));
            Ok(if met {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// A query's error, and for an endpoint that matches nothing because the loader skipped it
/// (a terminated instance, a deleted NAT gateway), the note that says so.
fn skipped_hint(
    e: exposure::engine::query::QueryError,
    diagnostics: &[exposure::model::Diagnostic],
) -> String {
    // Only an id (`i-…`, `nat-…`) can name a skipped resource; a plain word could match the
    // note's own words.
    let exposure::engine::query::QueryError::Unknown(endpoint, _) = &e else {
        return e.to_string();
    };
    if !endpoint.contains('-') {
        return e.to_string();
    }
    let named = |d: &&exposure::model::Diagnostic| {
        d.level == exposure::model::Level::Note
            && d.message
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == endpoint)
    };
    match diagnostics.iter().find(named) {
        Some(d) => exposure::engine::query::QueryError::Unknown(
            endpoint.clone(),
            format!(": the loader skipped it ({d})"),
        )
        .to_string(),
        None => e.to_string(),
    }
}

/// `exposure generate`: refuses a non-empty folder, then writes the files.
fn generate(args: &GenerateArgs) -> Result<ExitCode, String> {
    let dir = &args.output;
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(format!("{} is not empty", dir.display()));
        }
    }
    let files = exposure::generate::generate(args.size, args.seed);
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let _ = writeln!(
        std::io::stderr(),
        "generated a size-{} estate (seed {}) in {}: {}",
        args.size.as_str(),
        args.seed,
        dir.display(),
        exposure::generate::summary(&files)
    );
    Ok(ExitCode::SUCCESS)
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads policy files; a folder stands for its `.toml` and `.json` files, in name order.
/// A gate that checks nothing is an input error: a file named on its own that holds no
/// policy, or a folder whose files hold none (a folder may keep a file of commented examples
/// beside its policies, as `queries/` does).
fn read_policies(paths: &[PathBuf]) -> Result<Vec<exposure::policy::Policy>, String> {
    let mut policies = Vec::new();
    for p in paths {
        let (files, alone) = if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml" || x == "json"))
                .collect();
            inside.sort();
            if inside.is_empty() {
                return Err(format!(
                    "{}: the folder holds no .toml or .json policy file, so there is nothing to check",
                    p.display()
                ));
            }
            (inside, false)
        } else {
            (vec![p.clone()], true)
        };
        let before = policies.len();
        for f in &files {
            let name = f.display().to_string();
            policies.extend(exposure::policy::parse(&name, &read(f)?).map_err(|e| e.to_string())?);
        }
        if policies.len() == before {
            return Err(if alone {
                format!("{}: the file holds no policy (no [[policy]] table), so there is nothing to check", p.display())
            } else {
                format!("{}: the folder's files hold no policy (no [[policy]] table), so there is nothing to check", p.display())
            });
        }
    }
    exposure::policy::check_unique_ids(&policies).map_err(|e| e.to_string())?;
    Ok(policies)
}

fn today() -> exposure::policy::Date {
    time::OffsetDateTime::now_utc().date()
}

fn check(args: CheckArgs) -> Result<ExitCode, String> {
    use exposure::policy::{self, baseline, Threshold};
    let snap = load(Some(&args.snapshot))?;
    let policies = read_policies(&args.policies)?;
    let accepted = match &args.baseline {
        Some(p) => {
            Some(baseline::parse(&p.display().to_string(), &read(p)?).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let findings = if args.fail_on == Threshold::Never {
        Vec::new()
    } else {
        analyze_and_check(&snap.model).1
    };
    let today = today();
    let report = policy::check(
        &snap.origin,
        &snap.model,
        &policies,
        &findings,
        args.fail_on,
        accepted.as_ref(),
        today,
    );
    if let Some(path) = &args.write_baseline {
        let b = baseline::record(&report, accepted.as_ref(), today);
        std::fs::write(path, baseline::to_toml(&b))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let text = match args.format {
        Format::Human => render::check::human(&report),
        Format::Json => render::check::json(&report),
        Format::Markdown => render::check::markdown(&report),
        Format::Sarif => render::sarif::check(&report),
    };
    emit(&text, args.output.as_ref())?;
    Ok(if report.failed() && args.write_baseline.is_none() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The analysis and the findings with the default configuration, on one index.
fn analyze_and_check(
    m: &exposure::model::Model,
) -> (exposure::analysis::Report, Vec<exposure::findings::Finding>) {
    let idx = exposure::engine::index::Index::new(m);
    let report = exposure::analysis::analyze_indexed(m, &idx, &Default::default());
    let findings =
        exposure::findings::check_indexed(m, &idx, &report, &exposure::findings::Config::default());
    (report, findings)
}

fn diff(args: DiffArgs) -> Result<ExitCode, String> {
    let analyse = |path: &PathBuf| -> Result<_, String> {
        let snap = load(Some(path))?;
        let (report, findings) = analyze_and_check(&snap.model);
        Ok((snap.origin, report, findings))
    };
    let (old_label, old, old_findings) = analyse(&args.old)?;
    let (new_label, new, new_findings) = analyse(&args.new)?;
    let d = exposure::policy::diff::diff(
        &old_label,
        &old,
        &old_findings,
        &new_label,
        &new,
        &new_findings,
        args.fail_on,
    );
    let text = match args.format {
        Format::Human => render::diff::human(&d),
        Format::Json => render::diff::json(&d),
        Format::Markdown => render::diff::markdown(&d),
        Format::Sarif => render::sarif::diff(&d),
    };
    emit(&text, args.output.as_ref())?;
    Ok(if d.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn graph(args: GraphArgs) -> Result<ExitCode, String> {
    let snap = load(args.snapshot.as_ref())?;
    let m = &snap.model;
    if let Some(v) = &args.vpc {
        let known = m
            .vpcs
            .values()
            .any(|x| &x.id == v || exposure::model::name_tag(&x.tags) == Some(v.as_str()));
        if !known {
            return Err(format!(
                "--vpc {v}: no VPC with that id or Name tag in the snapshot"
            ));
        }
    }
    if let Some(a) = &args.account {
        if !m
            .vpcs
            .values()
            .any(|x| x.location.account.as_deref() == Some(a.as_str()))
        {
            return Err(format!(
                "--account {a}: no VPC of that account in the snapshot"
            ));
        }
    }
    let report = exposure::analysis::analyze(m);
    let opts = render::graph::GraphOptions {
        vpc: args.vpc.clone(),
        account: args.account.clone(),
        focus: args.focus.clone(),
        exposed_only: args.exposed_only,
    };
    let g = render::graph::exposure_graph(m, &report, &opts);
    if g.focused.as_ref().is_some_and(|f| f.is_empty()) {
        return Err(format!(
            "--focus {}: matches no application, interface, instance or name",
            args.focus.unwrap_or_default()
        ));
    }
    let text = match args.format {
        GraphFormat::Dot => render::graph::dot(&g),
        GraphFormat::Json => render::graph::json(&g),
        GraphFormat::Svg => svg(&render::graph::dot(&g))?,
    };
    emit(&text, args.output.as_ref())?;
    Ok(ExitCode::SUCCESS)
}

/// Renders DOT to SVG with Graphviz's `dot` program.
fn svg(dot: &str) -> Result<String, String> {
    use std::process::{Command as Process, Stdio};
    let mut child = Process::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "--format svg needs Graphviz's `dot` program, which is not installed: install it (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`) or use --format dot and render elsewhere".to_string()
            } else {
                format!("cannot run `dot`: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("cannot write to `dot`: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`dot` failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`dot` rejected the graph: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| "`dot` printed something that is not UTF-8".to_string())
}

/// Phase timings on standard error when `EXPOSURE_TIMINGS` is set (for BENCHMARKS.md).
struct Timings(Option<std::time::Instant>);

impl Timings {
    fn from_env() -> Timings {
        Timings(
            std::env::var_os("EXPOSURE_TIMINGS")
                .is_some()
                .then(std::time::Instant::now),
        )
    }

    fn lap(&mut self, phase: &str) {
        if let Some(t) = self.0 {
            let elapsed = t.elapsed().as_secs_f64();
            match peak_memory_mb() {
                Some(mb) => {
                    eprintln!("timing: {phase:<10} {elapsed:>9.3} s   peak so far {mb:>6} MB")
                }
                None => eprintln!("timing: {phase:<10} {elapsed:>9.3} s"),
            }
            self.0 = Some(std::time::Instant::now());
        }
    }
}

/// The process's peak resident memory so far (`VmHWM`), where the system tells it (Linux).
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
