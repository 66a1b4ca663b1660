//! `leakguard-agent`: command-line entry point (run, enroll, check-config, inspect).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use agent::agent::Agent;
use agent::clock::SystemClock;
use agent::config::Config;
use agent::events::{Events, Metrics, serve_status};
use agent::ship::{self, ShipOptions};
use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use leakguard_domain::agent_wire::SourceKind;

/// LeakGuard host agent.
#[derive(Parser)]
#[command(name = "leakguard-agent", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tail the configured logs and ship to the server.
    Run {
        /// Configuration file.
        #[arg(long, env = "LEAKGUARD_AGENT_CONFIG")]
        config: PathBuf,
        /// Read every file to its end, deliver everything, and exit.
        #[arg(long)]
        once: bool,
        /// Override `agent.server`.
        #[arg(long, env = "LEAKGUARD_AGENT_SERVER")]
        server: Option<String>,
    },
    /// Enroll this host with a one-time token and store the credential (mode 0600).
    Enroll {
        /// Server base URL.
        #[arg(long)]
        server: String,
        /// One-time enrollment token.
        #[arg(long, env = "LEAKGUARD_AGENT_TOKEN")]
        token: String,
        /// State directory (defaults to `agent.state_dir` of `--config`).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Configuration file to take the state directory from.
        #[arg(long, env = "LEAKGUARD_AGENT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Validate a configuration file and exit.
    CheckConfig {
        /// Configuration file.
        #[arg(long, env = "LEAKGUARD_AGENT_CONFIG")]
        config: PathBuf,
    },
    /// Print, as JSON lines, the records that would be shipped for a file (no network).
    Inspect {
        /// Log format.
        #[arg(long)]
        format: Format,
        /// The log file.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    MariadbSlow,
    MariadbGeneral,
    MariadbAudit,
    MagentoAdmin,
    Monolog,
    Nginx,
}

impl From<Format> for SourceKind {
    fn from(format: Format) -> Self {
        match format {
            Format::MariadbSlow => SourceKind::MariadbSlow,
            Format::MariadbGeneral => SourceKind::MariadbGeneral,
            Format::MariadbAudit => SourceKind::MariadbAudit,
            Format::MagentoAdmin => SourceKind::MagentoAdmin,
            Format::Monolog => SourceKind::Monolog,
            Format::Nginx => SourceKind::Nginx,
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEAKGUARD_AGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var_os("INVOCATION_ID").is_some() {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    match cli.command {
        Command::CheckConfig { config } => {
            let loaded = Config::load(&config)?;
            println!("config ok: {} source(s)", loaded.sources.len());
            Ok(())
        }
        Command::Inspect { format, file } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            agent::inspect::inspect(format.into(), &file, &mut out)
                .with_context(|| format!("cannot inspect {}", file.display()))?;
            Ok(())
        }
        Command::Enroll {
            server,
            token,
            state_dir,
            config,
        } => {
            let (state_dir, ca_file) = match (state_dir, config) {
                (Some(dir), _) => (dir, None),
                (None, Some(path)) => {
                    let loaded = Config::load(&path)?;
                    (loaded.agent.state_dir, loaded.agent.ca_file)
                }
                (None, None) => anyhow::bail!("pass --state-dir or --config"),
            };
            let client = ship::http_client_for(ca_file.as_deref(), &server)?;
            let credential =
                runtime()?.block_on(ship::enroll(&client, &server, &token, &state_dir))?;
            println!("enrolled as agent {}", credential.agent_id);
            Ok(())
        }
        Command::Run {
            config,
            once,
            server,
        } => run(&config, once, server),
    }
}

fn run(config_path: &std::path::Path, once: bool, server: Option<String>) -> anyhow::Result<()> {
    let mut config = Config::load(config_path)?;
    if let Some(server) = server {
        ship::checked_server(&server).context("invalid --server")?;
        config.agent.server = server;
    }
    let mut credential = ship::load_credential(&config.agent.state_dir)?;
    credential.server = config.agent.server.clone();
    let metrics = Arc::new(Metrics::default());
    if !config.agent.status_listen.is_empty() {
        match serve_status(&config.agent.status_listen, metrics.clone()) {
            Ok(address) => tracing::info!(address = %address, "Status endpoint is listening."),
            Err(error) => tracing::warn!(error = %error, "Status endpoint could not start."),
        }
    }
    let events: Arc<dyn Events> = metrics;
    let clock = Arc::new(SystemClock::default());
    let mut agent = Agent::new(&config, &credential.agent_id, events.clone(), clock)?;
    let stop = Arc::new(AtomicBool::new(false));
    let producer_done = Arc::new(AtomicBool::new(false));
    let client = ship::http_client_for(config.agent.ca_file.as_deref(), &config.agent.server)?;
    let reader = agent::spool::SpoolReader::new(agent.spool());
    let options = ShipOptions {
        max_attempts: once.then_some(8),
        ..ShipOptions::default()
    };
    let shipper = {
        let stop = stop.clone();
        let producer_done = producer_done.clone();
        let events = events.clone();
        std::thread::Builder::new().name("shipper".into()).spawn(move || -> anyhow::Result<()> {
            let runtime = runtime()?;
            let signals = {
                let stop = stop.clone();
                runtime.spawn(async move {
                    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
                    }
                    tracing::info!("Stopping.");
                    stop.store(true, Ordering::Relaxed);
                })
            };
            let result = runtime.block_on(ship::ship_loop(reader, client, credential, options, events, stop, producer_done));
            signals.abort();
            result
        })?
    };
    let result = agent.run(&config, once, &stop);
    producer_done.store(true, Ordering::Relaxed);
    if result.is_err() || !once {
        stop.store(true, Ordering::Relaxed);
    }
    agent.spool().shared().shutdown();
    let shipped = shipper
        .join()
        .map_err(|_| anyhow::anyhow!("the shipper thread panicked"))?;
    result?;
    shipped
}
