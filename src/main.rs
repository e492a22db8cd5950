//! The `exposure` command line: parse flags, call the library, print, and map
//! outcomes to exit codes (0 success, 1 gate failed, 2 usage or input error).
//! This is the only place besides `sources` that does I/O.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    },
    /// Can traffic get from one endpoint to another? Paths hop by hop, or what blocks them.
    ///
    /// Endpoints: `internet`, a resource id (i-, eni-, subnet-, vpc-, sg-, igw-, nat-, pcx-, tgw-, vgw-, vpce-), a load
    /// balancer name or ARN, an IP address or CIDR, `tag:KEY=VALUE`, or a Name tag value.
    /// Without --protocol/--port, asks whether ANY traffic gets through and lists what does.
    Query(Box<QueryArgs>),
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
    /// Protocol (default: any).
    #[arg(long, value_enum)]
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

fn main() -> ExitCode {
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

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Analyze {
            snapshot,
            format,
            output,
        } => {
            let snap = load(snapshot.as_ref())?;
            let inv = exposure::inventory::inventory(&snap.origin, &snap.model, &snap.diagnostics);
            let report = exposure::analysis::analyze(&snap.model);
            let findings = exposure::findings::check(
                &snap.model,
                &report,
                &exposure::findings::Config::default(),
            );
            let analysis = render::report::Analysis {
                inventory: &inv,
                report: &report,
                findings: &findings,
            };
            let text = match format {
                Format::Human => render::report::human(&analysis),
                Format::Json => render::report::json(&analysis),
                Format::Markdown => render::report::markdown(&analysis),
            };
            emit(&text, output.as_ref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => {
            let snap = load(Some(&args.snapshot))?;
            let request = exposure::engine::query::Request::parse(
                &args.from,
                &args.to,
                args.protocol,
                args.port.as_deref(),
                args.source_port.as_deref(),
            )?;
            let answer =
                exposure::engine::query::run(&snap.model, &request).map_err(|e| e.to_string())?;
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
