//! The `leakguard` command line. Every command reads the same configuration as `serve` (data
//! directory, database URL), so an operator can run it beside a live server.

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use leakguard_domain::audit::{Actor, Bundle};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;
use crate::startup::Application;
use crate::state::AppState;
use crate::tenants::{self, PlatformAddress};

/// LeakGuard server and operator tools.
#[derive(Parser, Debug)]
#[command(name = "leakguard", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `LEAKGUARD_*` environment variables override it.
    #[arg(long, global = true, env = "LEAKGUARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (HTTP and jobs).
    Serve,
    /// Database migrations.
    Migrate {
        /// `up` applies pending migrations; `status` lists them.
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
    },
    /// Tenants.
    Tenant {
        /// What to do.
        #[command(subcommand)]
        action: TenantAction,
    },
    /// The audit trail.
    Audit {
        /// What to do.
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Permission audits of apps, integrations and admin users.
    Permissions {
        /// What to do.
        #[command(subcommand)]
        action: PermissionsAction,
    },
    /// Host agents.
    Agent {
        /// What to do.
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Secrets at rest.
    Secrets {
        /// What to do.
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Payment-data retention.
    Retention {
        /// What to do.
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Classify personal data in JSON lines (`{"id","text"}` or `{"id","record"}`) from a file
    /// or standard input; one result line per input line on standard output.
    Classify {
        /// Input file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
        /// Print a summary (records, entities, notice triggers) on standard error at the end.
        #[arg(long)]
        summary: bool,
    },
    /// Breach-notification rules and the deadlines they give for an incident.
    Rules {
        /// What to do.
        #[command(subcommand)]
        action: crate::rules_cli::RulesAction,
    },
    /// Detection engine tools (no configuration, no database).
    Detect {
        /// What to do.
        #[command(subcommand)]
        action: DetectAction,
    },
}

/// `detect` actions.
#[derive(Subcommand, Debug)]
pub enum DetectAction {
    /// Replay JSON lines (agent records as `leakguard-agent inspect` prints them,
    /// `{"source":"magento","event":…}`, `{"source":"shopify","topic":…,"payload":…}`) through
    /// the engine with their own timestamps as the clock; one JSON line per alert.
    Replay {
        /// Input file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
        /// Print counts (lines, malformed, out of order, alerts by rule) on standard error.
        #[arg(long)]
        summary: bool,
        /// Replay while reading, reordering within this many minutes, instead of reading
        /// and ordering the whole input first.
        #[arg(long, value_name = "MINUTES")]
        stream: Option<i64>,
    },
}

/// `migrate` actions.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Show applied and pending migrations.
    Status,
}

/// `tenant` actions.
#[derive(Subcommand, Debug)]
pub enum TenantAction {
    /// Create a tenant with an owner and print the owner's API key (shown once).
    Create(CreateTenant),
    /// List tenants.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print a one-time enrollment token for the tenant's Magento module.
    EnrollToken {
        /// Tenant (id or base URL).
        #[arg(long)]
        tenant: String,
    },
    /// Issue a new API key for an owner whose key is lost, expired or leaked, and print it
    /// (shown once). Recorded in the tenant's and the platform's audit chain.
    OwnerKey {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
        /// The owner (user id); default the earliest active owner.
        #[arg(long)]
        owner: Option<uuid::Uuid>,
        /// Days the key stays valid (1 to 365).
        #[arg(long, default_value_t = tenants::DEFAULT_KEY_DAYS)]
        key_days: u32,
        /// Revoke that owner's other keys first (a leaked key).
        #[arg(long)]
        revoke_existing: bool,
    },
    /// List a tenant's API keys (never the keys themselves).
    Keys {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
    },
}

/// `agent` actions.
#[derive(Subcommand, Debug)]
pub enum AgentAction {
    /// Print a one-time enrollment token for a host agent of the tenant.
    Token {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
    },
}

/// Arguments of `tenant create`.
#[derive(Args, Debug)]
pub struct CreateTenant {
    /// `shopify` or `magento`.
    #[arg(long)]
    pub platform: String,
    /// Shop domain (`NAME.myshopify.com`), for Shopify.
    #[arg(long, required_if_eq("platform", "shopify"))]
    pub shop: Option<String>,
    /// Store base URL, for Magento.
    #[arg(long, required_if_eq("platform", "magento"))]
    pub base_url: Option<String>,
    /// Admin API access token of a custom app created in the merchant's Shopify admin. Prefer
    /// the environment variable, which keeps the token out of the shell history.
    #[arg(long, env = "LEAKGUARD_TENANT_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: Option<String>,
    /// Days the owner's API key stays valid (1 to 365).
    #[arg(long, default_value_t = tenants::DEFAULT_KEY_DAYS)]
    pub key_days: u32,
}

/// `audit` actions.
#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Verify chains in the database; names the first bad seq.
    Verify {
        /// Only this tenant (id, shop or base URL); default every chain.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Write a self-contained bundle of a tenant's chain.
    Export {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an exported bundle offline (no database, no configuration) against the keys you
    /// expect; a bundle's own keys are used only when they match one of them.
    VerifyBundle {
        /// The bundle file.
        file: PathBuf,
        /// An expected signing key: its key id (16 hex digits) or its base64 public key, as
        /// printed by `leakguard audit public-key`. Repeat for keys used before a rotation.
        #[arg(long = "key", required = true)]
        keys: Vec<crate::audit_chain::TrustedKey>,
    },
    /// Print the key id and public key that sign this server's checkpoints (give them to
    /// whoever verifies exported bundles).
    PublicKey,
}

/// `permissions` actions.
#[derive(Subcommand, Debug)]
pub enum PermissionsAction {
    /// Run a tenant's permission audit now and print principals, grants, risk and findings.
    Audit {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
        /// Print JSON (`{"run", "report"}`) instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `retention` actions.
#[derive(Subcommand, Debug)]
pub enum RetentionAction {
    /// Enforce the tenant's policy now (the same function the schedule calls) and print what it did.
    Run {
        /// Tenant (id, shop or base URL).
        #[arg(long)]
        tenant: String,
        /// Report what would be removed, per class and age bucket; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `secrets` actions.
#[derive(Subcommand, Debug)]
pub enum SecretsAction {
    /// Re-encrypt every secret under a new master key.
    Rotate {
        /// Remove old keys from the key file once every secret is re-encrypted.
        #[arg(long)]
        prune: bool,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Offline verification needs no configuration at all.
    if let Command::Audit {
        action: AuditAction::VerifyBundle { file, keys },
    } = &cli.command
    {
        return verify_bundle_file(file, keys);
    }
    // Classification is pure: no configuration, no database.
    if let Command::Classify { input, summary } = &cli.command {
        return crate::classify_cli::run(input, *summary);
    }
    // The rule table is pure too.
    if let Command::Rules { action } = &cli.command {
        return crate::rules_cli::run(action);
    }
    // Detection replay is pure: no configuration, no database.
    if let Command::Detect {
        action:
            DetectAction::Replay {
                input,
                summary,
                stream,
            },
    } = &cli.command
    {
        return crate::detect_cli::run(input, *summary, *stream);
    }
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(&settings);
    match cli.command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "LeakGuard is listening.");
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { action } => {
            let db = crate::db::connect(&settings).await?;
            if matches!(action, MigrateAction::Up) {
                migrations::migrate(&db).await.context("migration failed")?;
            }
            for (name, applied) in migrations::status(&db).await? {
                println!("{} {name}", if applied { "applied" } else { "pending" });
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant { action } => {
            let state = AppState::init(settings).await?;
            tenant_command(&state, action).await
        }
        Command::Audit {
            action: AuditAction::PublicKey,
        } => {
            let key = crate::crypto::AuditSigner::load(&settings)?.public_key();
            println!("{}\t{}", key.key_id, key.public_key);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { action } => {
            let state = AppState::init(settings).await?;
            audit_command(&state, action).await
        }
        Command::Permissions {
            action: PermissionsAction::Audit { tenant, json },
        } => {
            let state = AppState::init(settings).await?;
            crate::permissions_cli::audit(&state.permission_sources, &tenant, json).await
        }
        Command::Agent {
            action: AgentAction::Token { tenant },
        } => {
            let state = AppState::init(settings).await?;
            print_enrollment_token(&state, &tenant, crate::enrollment::TokenKind::Agent).await
        }
        Command::Classify { .. } => Ok(ExitCode::SUCCESS),
        Command::Rules { .. } => Ok(ExitCode::SUCCESS),
        Command::Detect { .. } => Ok(ExitCode::SUCCESS),
        Command::Retention {
            action:
                RetentionAction::Run {
                    tenant,
                    dry_run,
                    json,
                },
        } => {
            let state = AppState::init(settings).await?;
            let tenant = tenants::resolve(&state.db, &tenant).await?;
            let ctx = operator_ctx(&tenant)?;
            let options = crate::retention::Options {
                dry_run,
                ..crate::retention::Options::now()
            };
            let reports =
                crate::retention::enforce_own_store(&state.db, &ctx, options, &|_| Ok(())).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                for r in &reports {
                    println!(
                        "{:?}\t{}\t{} rows\tpolicy v{}\tcutoff {}\tids sha256 {}",
                        r.class,
                        r.status,
                        r.rows_affected,
                        r.policy_version,
                        leakguard_domain::audit::format_ts(r.cutoff),
                        r.ids_sha256
                    );
                    for (bucket, n) in &r.by_age {
                        println!("\t{bucket}\t{n}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets {
            action: SecretsAction::Rotate { prune },
        } => {
            let state = AppState::init(settings).await?;
            let rotated = state.keyring.rotate()?;
            let n = crate::secrets::reencrypt_all(&state.db, &rotated).await?;
            println!(
                "re-encrypted {n} secret(s) under key {}",
                rotated.current_key_id()
            );
            if prune {
                let stale = crate::secrets::count_stale(&state.db, &rotated).await?;
                if stale > 0 {
                    anyhow::bail!("{stale} secret(s) still use old keys; not pruning");
                }
                rotated.prune()?;
                println!("old keys removed from the key file");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn operator() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor::new("operator", format!("cli:{user}"))
}

/// The operator's context inside a tenant (refused for a purged tenant).
fn operator_ctx(
    tenant: &crate::db::entities::tenants::Model,
) -> anyhow::Result<crate::tenancy::TenantCtx> {
    crate::tenancy::admit(crate::tenancy::Principal::Operator(operator()), tenant)
        .map_err(|e| anyhow::anyhow!("tenant {} ({}): {e}", tenant.id, tenant.status.as_str()))
}

async fn tenant_command(state: &AppState, action: TenantAction) -> anyhow::Result<ExitCode> {
    match action {
        TenantAction::Create(args) => {
            let address = match args.platform.as_str() {
                "shopify" => PlatformAddress::parse("shopify", args.shop.as_deref().unwrap_or("")),
                "magento" => {
                    PlatformAddress::parse("magento", args.base_url.as_deref().unwrap_or(""))
                }
                other => PlatformAddress::parse(other, ""),
            }?;
            let created = tenants::create_tenant_with_key_days(
                &state.db,
                &state.keyring,
                address,
                args.access_token.map(SecretString::from),
                args.key_days,
                &operator(),
            )
            .await?;
            println!(
                "{}",
                serde_json::json!({
                    "tenant": created.tenant,
                    "owner_user_id": created.owner.to_string(),
                    "owner_api_key": created.owner_api_key.expose_secret(),
                    "owner_api_key_expires_at": crate::api_time::format(created.owner_key_expires_at),
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        TenantAction::OwnerKey {
            tenant,
            owner,
            key_days,
            revoke_existing,
        } => {
            let tenant = tenants::resolve(&state.db, &tenant).await?;
            let recovered = tenants::recover_owner_key(
                &state.db,
                &tenant,
                &operator(),
                owner,
                Some(key_days),
                revoke_existing,
            )
            .await?;
            println!(
                "{}",
                serde_json::json!({
                    "tenant_id": tenant.id.to_string(),
                    "owner_user_id": recovered.owner.to_string(),
                    "owner_api_key": recovered.key.api_key.expose_secret(),
                    "api_key": recovered.key.view,
                    "revoked_keys": recovered.revoked,
                })
            );
            Ok(ExitCode::SUCCESS)
        }
        TenantAction::Keys { tenant } => {
            let tenant = tenants::resolve(&state.db, &tenant).await?;
            let ctx = operator_ctx(&tenant)?;
            let keys = tenants::list_api_keys(&state.db, &ctx).await?;
            println!("{}", serde_json::to_string_pretty(&keys)?);
            Ok(ExitCode::SUCCESS)
        }
        TenantAction::EnrollToken { tenant } => {
            print_enrollment_token(state, &tenant, crate::enrollment::TokenKind::MagentoModule)
                .await
        }
        TenantAction::List { json } => {
            let list = tenants::list_tenants(&state.db).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for t in list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        t.id,
                        t.platform.as_str(),
                        t.shop_domain.or(t.base_url).unwrap_or_default(),
                        t.status.as_str()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn print_enrollment_token(
    state: &AppState,
    tenant: &str,
    kind: crate::enrollment::TokenKind,
) -> anyhow::Result<ExitCode> {
    let tenant = tenants::resolve(&state.db, tenant).await?;
    let ctx = operator_ctx(&tenant)?;
    let ttl_ms = i64::try_from(
        state
            .settings
            .console
            .enrollment_token_ttl_secs
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX);
    let issued =
        crate::enrollment::issue(&state.db, &ctx, kind, ttl_ms, crate::db::now_ms()).await?;
    println!(
        "{}",
        serde_json::json!({
            "tenant_id": tenant.id.to_string(),
            "kind": kind.as_str(),
            "token": issued.token.expose_secret(),
            "expires_at": crate::api_time::format(issued.expires_at),
        })
    );
    Ok(ExitCode::SUCCESS)
}

async fn audit_command(state: &AppState, action: AuditAction) -> anyhow::Result<ExitCode> {
    match action {
        AuditAction::Verify { tenant } => {
            let chains = match tenant {
                Some(key) => vec![tenants::resolve(&state.db, &key).await?.id],
                None => crate::audit_chain::chains(&state.db).await?,
            };
            let mut ok = true;
            for chain in chains {
                let report =
                    crate::audit_chain::verify_chain(&state.db, chain, &state.checkpointer).await?;
                match report.result {
                    Ok(v) => println!(
                        "ok\t{chain}\t{} entries\t{} checkpoints\thead {}",
                        v.entries, v.checkpoints, v.head
                    ),
                    Err(e) => {
                        ok = false;
                        println!("FAILED\t{chain}\t{e}");
                    }
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AuditAction::Export { tenant, out } => {
            let chain = tenants::resolve(&state.db, &tenant).await?.id;
            match crate::audit_chain::export_bundle(&state.db, chain, &state.checkpointer).await? {
                Ok(bundle) => {
                    let text = serde_json::to_vec_pretty(&bundle)?;
                    std::fs::write(&out, text)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    println!(
                        "wrote {} entries and {} checkpoints to {}",
                        bundle.entries.len(),
                        bundle.checkpoints.len(),
                        out.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("FAILED\t{chain}\t{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditAction::VerifyBundle { file, keys } => verify_bundle_file(&file, &keys),
        AuditAction::PublicKey => {
            let key = state.checkpointer.signer.public_key();
            println!("{}\t{}", key.key_id, key.public_key);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify_bundle_file(
    file: &std::path::Path,
    keys: &[crate::audit_chain::TrustedKey],
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let bundle: Bundle = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not an audit bundle", file.display()))?;
    match crate::audit_chain::verify_bundle_trusting(&bundle, keys) {
        Ok(v) => {
            println!(
                "ok\t{}\t{} entries\t{} checkpoints\thead {}",
                bundle.chain, v.entries, v.checkpoints, v.head
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAILED\t{}\t{e}", bundle.chain);
            Ok(ExitCode::FAILURE)
        }
    }
}
