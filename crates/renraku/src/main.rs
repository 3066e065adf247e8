//! The `renraku` binary: the server (the default command) and the operator's command line.

mod config;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use renraku_domain::audit::{AuditSealer, OPERATOR_CHAIN};
use renraku_domain::directory::{KanaName, LoginId, MunicipalityCode, Name, Profession, Role};
use renraku_store::{AuditDraft, MunicipalitySettings, NewAccount, NewMunicipality, Profile, Store};
use renraku_web::{AppState, Clock, Secrets, WebConfig};

use crate::config::{Config, Database, Overrides};

/// Renraku (連絡): information sharing for home medical and care teams.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./renraku.toml if present).
    #[arg(long, env = "RENRAKU_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory for the SQLite database and the secret key.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true)]
    listen: Option<String>,
    /// The address users open, e.g. https://renraku.example.jp.
    #[arg(long, global = true)]
    public_base_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Municipalities (tenants).
    #[command(subcommand)]
    Municipality(MunicipalityCommand),
    /// Municipality admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the configuration in effect, secrets redacted.
    Config,
    /// Print a new setup link, while no operator account exists.
    SetupLink,
}

#[derive(Subcommand)]
enum MunicipalityCommand {
    /// Register a municipality.
    Create {
        /// 地方公共団体コード (6 digits).
        #[arg(long)]
        code: String,
        /// Name, e.g. 流山市.
        #[arg(long)]
        name: String,
    },
    /// List municipalities.
    List,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a municipality admin and print their activation link.
    Create {
        /// The municipality's 地方公共団体コード.
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        login_id: String,
        #[arg(long)]
        name: String,
        /// ふりがな.
        #[arg(long)]
        kana: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Remove a user's second factor and sign them out; they enrol again at next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        login_id: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the seals of a municipality's chain (or of every chain); exit 1 if one is broken.
    Verify {
        /// The municipality's 地方公共団体コード, or "operator"; all chains when omitted.
        #[arg(long)]
        municipality: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RENRAKU_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<AppState> {
    let secrets = Secrets::derive(&config.master_secret()?);
    let sealer = AuditSealer::new(&secrets.audit_key);
    let store: Arc<dyn Store> = match config.database() {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            Arc::new(renraku_store_sqlite::SqliteStore::open(&path, sealer).await?)
        }
        Database::Postgres(url) => {
            Arc::new(renraku_store_postgres::PostgresStore::connect(&url, sealer).await?)
        }
    };
    Ok(AppState {
        store,
        config: Arc::new(WebConfig {
            public_base_url: config.public_base_url()?,
            trust_forwarded_for: config.trust_forwarded_for,
        }),
        secrets: Arc::new(secrets),
        clock: Clock::default(),
    })
}

/// Audit entries for what the operator does at the command line.
fn cli_audit(
    municipality_id: Option<String>,
    action: &str,
    object_type: &str,
    object_id: &str,
) -> AuditDraft {
    AuditDraft {
        municipality_id,
        at_ms: Clock::default().now_ms(),
        actor_login: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into())),
        ip: "local".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        outcome: "ok".into(),
        ..AuditDraft::default()
    }
}

fn field<T>(r: Result<T, renraku_domain::FieldError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        listen: cli.listen,
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        public_base_url: cli.public_base_url,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Config => {
            print!("{}", config.redacted());
            Ok(ExitCode::SUCCESS)
        }
        Command::SetupLink => {
            let state = open(&config).await?;
            match renraku_web::issue_setup_link(&state).await? {
                Some(link) => println!("{link}"),
                None => println!("An operator account exists already; no setup link is needed."),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Municipality(MunicipalityCommand::Create { code, name }) => {
            let state = open(&config).await?;
            let new = NewMunicipality {
                code: field(MunicipalityCode::parse("code", &code))?,
                name: field(Name::parse("name", &name))?,
                settings: MunicipalitySettings::default(),
            };
            let m = state
                .store
                .create_municipality(&new, &cli_audit(None, "municipality.create", "municipality", ""))
                .await?;
            println!("created {} {} (id {})", m.code, m.name, m.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Municipality(MunicipalityCommand::List) => {
            let state = open(&config).await?;
            for m in state.store.municipalities().await? {
                println!("{}\t{}\t{}", m.code, m.name, m.id);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Create { municipality, login_id, name, kana }) => {
            let state = open(&config).await?;
            let m = state
                .store
                .municipality_by_code(&municipality)
                .await
                .with_context(|| format!("no municipality with code {municipality}"))?;
            let new = NewAccount {
                login_id: field(LoginId::parse("login_id", &login_id))?,
                municipality_id: Some(m.id.clone()),
                facility_id: None,
                role: Role::Admin,
                profile: Profile {
                    name: field(Name::parse("name", &name))?,
                    kana: field(KanaName::parse("kana", &kana))?,
                    profession: field(Profession::parse("occupation", "occupation_other", "city_staff", ""))?,
                    email: None,
                    phone: None,
                },
                is_manager: false,
                careplan: false,
            };
            let audit = cli_audit(Some(m.id.clone()), "admin.create", "account", "");
            let (account, link) = renraku_web::accounts::create_with_link(&state, &new, &audit).await?;
            println!(
                "created admin {} of {}; activation link (valid 24 h, single use):\n{link}",
                account.login_id, m.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::ResetSecondFactor { login_id }) => {
            let state = open(&config).await?;
            let login = field(LoginId::parse("login_id", &login_id))?;
            let Some(identity) = state.store.identity_by_login(login.as_str()).await? else {
                bail!("no user with login ID {login}");
            };
            let account = state.store.accounts_of_identity(&identity.id).await?.into_iter().next();
            let chain = account.as_ref().and_then(|a| a.municipality_id.clone());
            let audit = cli_audit(chain, "user.reset_second_factor", "identity", &identity.id);
            state.store.set_second_factor(&identity.id, None, &[], &audit).await?;
            println!(
                "second factor of {login} removed; all their sessions ended. They enrol again at next sign-in."
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify { municipality }) => {
            let state = open(&config).await?;
            let chains = match municipality.as_deref() {
                Some(OPERATOR_CHAIN) => vec![(OPERATOR_CHAIN.to_string(), "operator".to_string())],
                Some(code) => {
                    let m = state
                        .store
                        .municipality_by_code(code)
                        .await
                        .with_context(|| format!("no municipality {code}"))?;
                    vec![(m.id, format!("{} {}", m.code, m.name))]
                }
                None => {
                    let mut all = vec![];
                    for chain in state.store.audit_chains().await? {
                        let label = match state.store.municipality(&chain).await {
                            Ok(m) => format!("{} {}", m.code, m.name),
                            Err(_) => chain.clone(),
                        };
                        all.push((chain, label));
                    }
                    all
                }
            };
            let sealer = AuditSealer::new(&state.secrets.audit_key);
            let mut broken = false;
            for (chain, label) in chains {
                let records = state.store.audit_chain(&chain).await?;
                match sealer.verify(records.iter().map(|r| (&r.facts, r.seal.as_str()))) {
                    Ok(n) => println!("ok      {label}: {n} entries intact"),
                    Err(e) => {
                        broken = true;
                        let at = match &e {
                            renraku_domain::audit::ChainBreak::Altered { seq } => {
                                format!("entry {seq} was altered")
                            }
                            renraku_domain::audit::ChainBreak::Gap { expected, found } => {
                                format!("entry {expected} is missing (next found: {found})")
                            }
                        };
                        println!("BROKEN  {label}: {at}");
                    }
                }
            }
            Ok(if broken { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %config.listen, backend = state.store.backend(), "Renraku is listening");
    println!("Renraku is running at {}", config.public_base_url);
    if let Some(link) = renraku_web::issue_setup_link(&state).await? {
        println!(
            "\nFirst start: create the operator account with this one-time link (valid 24 hours):\n\n    {link}\n"
        );
    }
    renraku_web::serve(listener, state).await?;
    Ok(ExitCode::SUCCESS)
}
