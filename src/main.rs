//! `crm`, the one binary: the web app (default), migrations, and the administration commands of
//! API.md. Logs go to stderr; commands print their result's id as the last line of stdout.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crm::app::{self, AppState};
use crm::config::{Config, LogFormat};
use crm::db::Database;
use crm::db::embedded::ClusterOptions;
use crm::events::{self, EventBus};
use crm::services::tenants::NewTenant;

#[derive(Parser)]
#[command(name = "crm", version, about = "A multi-tenant CRM: client profiles and one conversation per client")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app (the default): migrations first, embedded PostgreSQL unless DATABASE_URL is set.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Tenants (organisations).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill the database with generated tenants and clients (for benchmarks); prints each
    /// tenant's id and admin credentials.
    Seed {
        /// Clients per tenant (at most 9,999,999).
        #[arg(long)]
        clients: i64,
        #[arg(long, default_value_t = 1)]
        tenants: usize,
        /// Messages per tenant, in chats of 50 (one chat per client, as far as clients go).
        #[arg(long, default_value_t = 0)]
        messages: i64,
        /// Deals per tenant, in its first pipeline, spread over its stages.
        #[arg(long, default_value_t = 0)]
        deals: i64,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and its first admin; prints the tenant id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_password: String,
        /// The admin's display name (default: the email's local part).
        #[arg(long)]
        admin_name: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to a tenant (the only one when there is one); prints the user id.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// admin, agent or viewer.
        #[arg(long)]
        role: String,
        /// The tenant's id; may be left out when there is exactly one tenant.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token acting as the user with this email; prints the token.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> Result<(), BoxError> {
    let long_lived = matches!(command, Command::Serve);
    let db = Database::locate(
        config.database_url.as_deref(),
        &config.data_dir,
        ClusterOptions { durable: true, long_lived },
    )
    .await?;
    // Whatever happens next, the embedded cluster is stopped by whoever is in charge of it.
    let result = run_with(command, config, &db).await;
    db.shutdown().await;
    result
}

async fn run_with(command: Command, config: Config, db: &Database) -> Result<(), BoxError> {
    db.migrate().await?;
    if let Command::Migrate = command {
        println!("migrations applied");
        return Ok(());
    }
    // The server needs room for concurrent requests; a one-shot command needs little.
    let pool = db.app_pool(if matches!(command, Command::Serve) { 20 } else { 2 }).await?;
    let events = EventBus::default();
    let state = AppState::new(config, pool.clone(), events.clone())?;
    let result = match command {
        Command::Serve => serve(state, db.is_embedded(), &events).await,
        Command::Migrate => Ok(()),
        Command::Tenant(TenantCommand::Create { name, admin_email, admin_password, admin_name }) => {
            let admin_name = admin_name.unwrap_or_else(|| local_part(&admin_email));
            let (tenant_id, _) = state
                .tenants
                .create(NewTenant {
                    name: &name,
                    admin_email: &admin_email,
                    admin_name: &admin_name,
                    admin_password: &admin_password,
                })
                .await?;
            println!("{tenant_id}");
            Ok(())
        }
        Command::User(UserCommand::Create { email, password, role, tenant, name }) => {
            let tenant = match tenant {
                Some(id) => crm::domain::TenantId(id),
                None => only_tenant(&state).await?,
            };
            let name = name.unwrap_or_else(|| local_part(&email));
            let id = state.users.create_from_cli(tenant, &email, &name, &password, &role).await?;
            println!("{id}");
            Ok(())
        }
        Command::Seed { clients, tenants, messages, deals } => {
            let seeder = crm::services::seed::SeedService::new(pool.clone(), events.clone());
            let started = std::time::Instant::now();
            let seeded =
                seeder.run(tenants, clients, |done, total| eprintln!("seeded {done} of {total} clients")).await?;
            let chats = ((messages + 49) / 50).min(clients);
            for t in seeded.iter().filter(|_| chats > 0) {
                let per_chat = i32::try_from(messages / chats).unwrap_or(i32::MAX);
                seeder.chats(t.id, chats, per_chat, |done, total| eprintln!("seeded {done} of {total} chats")).await?;
            }
            for t in seeded.iter().filter(|_| deals > 0) {
                seeder.deals(t.id, deals, |done, total| eprintln!("seeded {done} of {total} deals")).await?;
            }
            seeder.analyze().await?;
            eprintln!("done in {:.1} s (statistics gathered)", started.elapsed().as_secs_f64());
            for t in seeded {
                println!("{}  {}  {}", t.id, t.admin_email, t.admin_password);
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let (tenant, user) =
                state.auth.account_by_email(&email).await?.ok_or_else(|| format!("no user with the email {email}"))?;
            let token = state.auth.create_api_token(tenant, user, &name, &crm::domain::Actor::System).await?;
            println!("{}", token.token);
            Ok(())
        }
    };
    pool.close().await;
    result
}

async fn serve(state: AppState, embedded: bool, events: &EventBus) -> Result<(), BoxError> {
    let _log = events::spawn_log_subscriber(events);
    // Secrets saved under the old reading of a generated key file (before December 2026).
    state.channels.reseal_stale().await?;
    let background = app::Background::start(&state);
    if embedded {
        create_demo_tenant_on_first_run(&state).await?;
    }
    let addr = state.config.bind_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e} (set BIND_ADDR to another address)"))?;
    // One Ctrl-C or SIGTERM stops both the application and the metrics address.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        app::shutdown_signal().await;
        let _ = stopping.send(true);
    });
    let stopped = move || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
    };
    let metrics = match state.config.metrics_addr {
        Some(metrics_addr) => {
            let listener = tokio::net::TcpListener::bind(metrics_addr)
                .await
                .map_err(|e| format!("cannot listen on METRICS_ADDR {metrics_addr}: {e}"))?;
            tracing::info!(%metrics_addr, "serving /metrics");
            let router = crm::web::ops::metrics_router(state.clone());
            Some(tokio::spawn(app::serve_router(listener, router, stopped())))
        }
        None => None,
    };
    println!("CRM is running at {}/login", state.config.public_url);
    tracing::info!(%addr, "listening");
    let served = app::serve(listener, state, stopped()).await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    background.stop(std::time::Duration::from_secs(10)).await;
    Ok(served?)
}

/// The embedded default starts with a demo tenant, so a new user can sign in at once.
async fn create_demo_tenant_on_first_run(state: &AppState) -> Result<(), BoxError> {
    if !state.tenants.list().await?.is_empty() {
        return Ok(());
    }
    let email = "admin@demo.example";
    let password = crm::crypto::random_token()[..16].to_owned();
    state
        .tenants
        .create(NewTenant { name: "Demo", admin_email: email, admin_name: "Demo Admin", admin_password: &password })
        .await?;
    println!();
    println!("  A demo organisation was created. Sign in at {}/login", state.config.public_url);
    println!("    email:    {email}");
    println!("    password: {password}");
    println!("  (shown once; add more users in Settings → Users, or with `crm user create`)");
    println!();
    Ok(())
}

async fn only_tenant(state: &AppState) -> Result<crm::domain::TenantId, BoxError> {
    let tenants = state.tenants.list().await?;
    match tenants.as_slice() {
        [only] => Ok(only.id),
        [] => Err("there is no tenant yet: create one with `crm tenant create`".into()),
        many => {
            let list: Vec<String> = many.iter().map(|t| format!("  {}  {}", t.id, t.name)).collect();
            Err(format!("there are several tenants; pass --tenant with one of:\n{}", list.join("\n")).into())
        }
    }
}

fn local_part(email: &str) -> String {
    email.split('@').next().unwrap_or(email).trim().to_owned()
}
