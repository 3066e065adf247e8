//! The `renraku` binary: the server (the default command) and the operator's command line.

mod backup;
mod bench;
mod careplan_cli;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use renraku_domain::audit::{AuditSealer, OPERATOR_CHAIN};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{KanaName, LoginId, MunicipalityCode, Name, Profession, Role};
use renraku_domain::ids::{FacilityId, MunicipalityId};
use renraku_store::{AuditDraft, MunicipalitySettings, NewAccount, NewMunicipality, Profile, Store};
use renraku_web::{App, AppParts, AppState, Clock, Secrets, WebConfig, audit_trail};

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
    /// Facilities (医療機関・介護事業所).
    #[command(subcommand)]
    Facility(FacilityCommand),
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
    /// Build a synthetic municipality and measure the server under load (docs/PERFORMANCE.md).
    Bench(bench::BenchArgs),
    /// Care-plan data exchange files (ケアプランデータ連携 v4.1).
    #[command(subcommand)]
    Careplan(CareplanCommand),
    /// Back up the database and the attachments while the server runs (`backup verify DIR`
    /// checks a backup). The master secret is not included: keep it apart.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory (after checking it).
    Restore(backup::RestoreArgs),
    /// The background job queue: how many jobs wait, and the dead ones (failed every attempt).
    Jobs,
}

#[derive(Subcommand)]
enum CareplanCommand {
    /// Check files and transmission sets against the standard; prints every problem (file,
    /// line, item number and name). Exit status 0 only when all are conformant.
    Check(careplan_cli::CheckArgs),
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
enum FacilityCommand {
    /// Register a facility with the fields of 様式1.
    Create(Box<FacilityArgs>),
    /// List a municipality's facilities.
    List {
        #[arg(long)]
        municipality: String,
    },
    /// Every facility on the server registered with this 介護事業所番号, in any municipality.
    Find {
        /// 介護事業所番号 (10 digits).
        #[arg(long)]
        care_provider_no: String,
    },
    /// Clear the 介護事業所番号 of one facility (a number registered by mistake, or one two
    /// facilities share from before numbers were unique), so the rightful facility can use it.
    /// Audited in the facility's municipality.
    ReleaseCareProviderNo {
        /// The facility's municipality (地方公共団体コード).
        #[arg(long)]
        municipality: String,
        /// The facility's id (see `renraku facility find`).
        #[arg(long)]
        facility: String,
    },
}

#[derive(clap::Args)]
struct FacilityArgs {
    /// The municipality's 地方公共団体コード.
    #[arg(long)]
    municipality: String,
    /// 法人名.
    #[arg(long)]
    corp_name: String,
    /// 法人名ふりがな.
    #[arg(long)]
    corp_kana: String,
    /// 代表者名.
    #[arg(long)]
    corp_representative: String,
    #[arg(long)]
    corp_postal_code: String,
    #[arg(long)]
    corp_address: String,
    #[arg(long)]
    corp_phone: String,
    /// 事業所名.
    #[arg(long)]
    name: String,
    /// 事業所名ふりがな.
    #[arg(long)]
    kana: String,
    #[arg(long)]
    postal_code: String,
    #[arg(long)]
    address: String,
    #[arg(long)]
    phone: String,
    #[arg(long, default_value = "")]
    email: String,
    /// サービス分類 code, e.g. home_nursing, clinic, care_management (see `--help` of the web form).
    #[arg(long)]
    service_category: String,
    /// 医療機関番号 (10 digits).
    #[arg(long, default_value = "")]
    medical_institution_no: String,
    /// 介護事業所番号 (10 digits).
    #[arg(long, default_value = "")]
    care_provider_no: String,
    /// 管理者.
    #[arg(long)]
    administrator: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user of a facility and print their activation link.
    Create {
        #[arg(long)]
        municipality: String,
        /// The facility's id (see `renraku facility list`).
        #[arg(long)]
        facility: String,
        #[arg(long)]
        login_id: String,
        #[arg(long)]
        name: String,
        /// ふりがな.
        #[arg(long)]
        kana: String,
        /// 職種 code, e.g. nurse, physician, care_manager, other.
        #[arg(long)]
        occupation: String,
        /// The 職種 in words, when --occupation other.
        #[arg(long, default_value = "")]
        occupation_other: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
        /// システム利用管理担当者.
        #[arg(long)]
        manager: bool,
        /// ケアプランデータ連携利用者.
        #[arg(long)]
        careplan: bool,
    },
    /// Remove a user's second factor and sign them out; they enrol again at next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        login_id: String,
    },
    /// Lift a user's sign-in locks (wrong passwords, wrong second-factor codes) before they run
    /// out; for admins and the operator, whom no admin screen can release.
    Unlock {
        #[arg(long)]
        login_id: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check a municipality's chain (or every chain): seals, head rows, that no municipality lost
    /// its chain, and the latest checkpoint in the anchor file. Exit 1 if anything is wrong, 2 if
    /// it cannot run (no master secret).
    Verify {
        /// The municipality's 地方公共団体コード, or "operator"; all chains when omitted.
        #[arg(long)]
        municipality: Option<String>,
    },
    /// Append a checkpoint of every chain to the anchor file now and print it, to keep elsewhere.
    /// Refused (exit 1) when the trail does not follow on from the latest checkpoint.
    Checkpoint {
        /// Start the anchor file afresh: after a restore (the old file anchors a trail newer than
        /// the backup), after the file was lost, or to rotate it. The old file is kept under a
        /// name with the time, and the act is recorded in the operator's audit chain.
        #[arg(long, alias = "restart")]
        after_restore: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    renraku_attachments::blobs::install_crypto_provider();
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

/// The application's state over the configured database and attachment store, for the server
/// and for the commands that act as it would.
async fn open(config: &Config) -> anyhow::Result<AppState> {
    Ok(open_app(config, &config.master_secret()?).await?.state)
}

async fn open_with(config: &Config, master_secret: &[u8]) -> anyhow::Result<AppState> {
    Ok(open_app(config, master_secret).await?.state)
}

async fn open_app(config: &Config, master_secret: &[u8]) -> anyhow::Result<App> {
    let secrets = Secrets::derive(master_secret);
    let sealer = AuditSealer::new(&secrets.audit_key);
    let store: Arc<dyn Store> = match config.database() {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                config::ensure_private_dir(dir)?;
            }
            Arc::new(renraku_store_sqlite::SqliteStore::open(&path, sealer).await?)
        }
        Database::Postgres(url) => {
            Arc::new(renraku_store_postgres::PostgresStore::connect(&url, sealer).await?)
        }
    };
    let blobs: Arc<dyn renraku_attachments::blobs::BlobStore> = match config.s3() {
        Some(s3) => Arc::new(renraku_attachments::blobs::S3Bucket::new(&s3, &secrets.files_key)?),
        None => Arc::new(renraku_attachments::blobs::EncryptedDir::new(
            config.data_dir.join("files"),
            &secrets.files_key,
        )?),
    };
    let config = WebConfig {
        public_base_url: config.public_base_url()?,
        trust_forwarded_for: config.trust_forwarded_for,
        audit_anchor_path: config.audit_anchor_path(),
    };
    App::build(AppParts { store, blobs, config, secrets, clock: Clock::default() }).await
}

/// Audit entries for what the operator does at the command line.
fn cli_audit(
    municipality_id: Option<MunicipalityId>,
    action: AuditAction,
    object_type: &str,
    object_id: &str,
) -> AuditDraft {
    AuditDraft {
        municipality_id,
        at_ms: Clock::default().now_ms(),
        actor_login: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into())),
        ip: "local".into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        outcome: "ok".into(),
        ..AuditDraft::new(action)
    }
}

async fn municipality(state: &AppState, code: &str) -> anyhow::Result<renraku_store::Municipality> {
    state.store.municipality_by_code(code).await.with_context(|| format!("no municipality with code {code}"))
}

/// The form's field errors as one error, a line per field.
fn form_errors(state: renraku_web::forms::FormState) -> anyhow::Error {
    let lines: Vec<String> =
        state.errors().iter().map(|(f, m)| format!("  --{}: {m}", f.replace('_', "-"))).collect();
    anyhow::anyhow!("the input was refused:\n{}", lines.join("\n"))
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
        Command::Bench(args) => {
            bench::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Careplan(CareplanCommand::Check(args)) => Ok(careplan_cli::run(args)),
        Command::Backup(args) => backup::backup(&config, args).await,
        Command::Restore(args) => backup::restore(&config, args).await,
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
                .create_municipality(
                    &new,
                    &cli_audit(None, AuditAction::MunicipalityCreate, "municipality", ""),
                )
                .await?;
            println!("created {} {} (id {})", m.code, m.name, m.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs => {
            let state = open(&config).await?;
            let counts = state.store.job_counts().await?;
            println!("queued {}\trunning {}\tdead {}", counts.queued, counts.running, counts.dead);
            for job in state.store.dead_jobs(100).await? {
                let at = renraku_domain::time_jp::format_iso_jst(job.updated_at_ms);
                let error = job.last_error.unwrap_or_default();
                println!("dead\t{}\t{}\t{at}\t{} attempts\t{error}", job.id, job.kind, job.attempts);
            }
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
            let audit = cli_audit(Some(m.id.clone()), AuditAction::AdminCreate, "account", "");
            let (account, link) =
                renraku_web::services::accounts::create_with_link(&state, &new, &audit).await?;
            println!(
                "created admin {} of {}; activation link (valid 24 h, single use):\n{link}",
                account.login_id, m.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Facility(FacilityCommand::Create(args)) => {
            let state = open(&config).await?;
            let m = municipality(&state, &args.municipality).await?;
            let a = &*args;
            let form = renraku_web::forms::Form::from_pairs([
                ("corp_name", a.corp_name.as_str()),
                ("corp_kana", &a.corp_kana),
                ("corp_representative", &a.corp_representative),
                ("corp_postal_code", &a.corp_postal_code),
                ("corp_address", &a.corp_address),
                ("corp_phone", &a.corp_phone),
                ("name", &a.name),
                ("kana", &a.kana),
                ("postal_code", &a.postal_code),
                ("address", &a.address),
                ("phone", &a.phone),
                ("email", &a.email),
                ("service_category", &a.service_category),
                ("medical_institution_no", &a.medical_institution_no),
                ("care_provider_no", &a.care_provider_no),
                ("administrator", &a.administrator),
            ]);
            let info = renraku_web::directory::parse_facility(&form).map_err(form_errors)?;
            let audit = cli_audit(Some(m.id.clone()), AuditAction::FacilityCreate, "facility", "");
            let f = state.store.create_facility(&m.id, &info, &audit).await.map_err(|e| match e {
                renraku_store::StoreError::Taken("care_provider_no") => anyhow::anyhow!(
                    "the input was refused:\n  --care-provider-no: {}\n(see `renraku facility find --care-provider-no {}`)",
                    renraku_web::directory::CARE_PROVIDER_NO_HELD,
                    a.care_provider_no.trim()
                ),
                e => e.into(),
            })?;
            println!("created facility {} (id {})", f.info.name, f.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Facility(FacilityCommand::Find { care_provider_no }) => {
            let state = open(&config).await?;
            let number = field(renraku_domain::directory::FacilityNumber::parse(
                "care_provider_no",
                &care_provider_no,
            ))?;
            let mut found = 0;
            for m in state.store.municipalities().await? {
                for f in state.store.facilities(&m.id).await? {
                    if f.info.care_provider_no.as_ref() == Some(&number) {
                        found += 1;
                        println!("{}\t{}\t{}\t{}", m.code, m.name, f.id, f.info.name);
                    }
                }
            }
            if found == 0 {
                println!("no facility holds 介護事業所番号 {number}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Facility(FacilityCommand::ReleaseCareProviderNo { municipality: code, facility }) => {
            let state = open(&config).await?;
            let m = municipality(&state, &code).await?;
            let facility = FacilityId::parse(&facility)
                .ok_or_else(|| anyhow::anyhow!("no such facility in {}", m.name))?;
            let f = state.store.facility(&m.id, &facility).await.map_err(|e| match e {
                renraku_store::StoreError::NotFound => anyhow::anyhow!("no such facility in {}", m.name),
                e => e.into(),
            })?;
            let Some(number) = f.info.care_provider_no.clone() else {
                bail!("{} has no 介護事業所番号", f.info.name);
            };
            let mut info = f.info.clone();
            info.care_provider_no = None;
            let mut audit =
                cli_audit(Some(m.id.clone()), AuditAction::FacilityReleaseCareProviderNo, "facility", &f.id);
            audit.detail = format!("care_provider_no={number}");
            state.store.update_facility(&m.id, &f.id, &info, &audit).await?;
            println!(
                "介護事業所番号 {number} released from {} ({}); another facility may now register it",
                f.info.name, m.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Facility(FacilityCommand::List { municipality: code }) => {
            let state = open(&config).await?;
            let m = municipality(&state, &code).await?;
            for f in state.store.facilities(&m.id).await? {
                println!(
                    "{}\t{}\t{}\tmanagers={}",
                    f.id,
                    f.info.name,
                    f.info.service_category.label(),
                    f.active_managers
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create {
            municipality: code,
            facility,
            login_id,
            name,
            kana,
            occupation,
            occupation_other,
            email,
            phone,
            manager,
            careplan,
        }) => {
            let state = open(&config).await?;
            let m = municipality(&state, &code).await?;
            let flags = |on: bool| if on { "on" } else { "" };
            let form = renraku_web::forms::Form::from_pairs([
                ("name", name.as_str()),
                ("kana", &kana),
                ("occupation", &occupation),
                ("occupation_other", &occupation_other),
                ("email", &email),
                ("phone", &phone),
                ("is_manager", flags(manager)),
                ("careplan", flags(careplan)),
            ]);
            let mut echo = form.echo();
            let login = echo.take(LoginId::parse("login_id", &login_id));
            let member = renraku_web::directory::parse_member(&form, &mut echo);
            let (Some(login), Some(member), false) = (login, member, echo.has_errors()) else {
                return Err(form_errors(echo));
            };
            let facility = FacilityId::parse(&facility)
                .ok_or_else(|| anyhow::anyhow!("no such facility in {}", m.name))?;
            let new = NewAccount {
                login_id: login,
                municipality_id: Some(m.id.clone()),
                facility_id: Some(facility),
                role: Role::Member,
                profile: member.profile,
                is_manager: member.is_manager,
                careplan: member.careplan,
            };
            let audit = cli_audit(Some(m.id.clone()), AuditAction::UserCreate, "account", "");
            let (account, link) = renraku_web::services::accounts::create_with_link(&state, &new, &audit)
                .await
                .map_err(|e| match e {
                    renraku_store::StoreError::NotFound => anyhow::anyhow!("no such facility in {}", m.name),
                    e => e.into(),
                })?;
            println!("created user {}; activation link (valid 24 h, single use):\n{link}", account.login_id);
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
            let audit = cli_audit(chain, AuditAction::UserResetSecondFactor, "identity", &identity.id);
            state.store.set_second_factor(&identity.id, None, &[], &audit).await?;
            println!(
                "second factor of {login} removed; all their sessions ended. They enrol again at next sign-in."
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Unlock { login_id }) => {
            let state = open(&config).await?;
            let login = field(LoginId::parse("login_id", &login_id))?;
            let Some(identity) = state.store.identity_by_login(login.as_str()).await? else {
                bail!("no user with login ID {login}");
            };
            let account = state.store.accounts_of_identity(&identity.id).await?.into_iter().next();
            let chain = account.as_ref().and_then(|a| a.municipality_id.clone());
            let audit = cli_audit(chain, AuditAction::AccountUnlock, "identity", &identity.id);
            state.store.release_sign_in_locks(&identity.id, &audit).await?;
            println!("sign-in locks of {login} lifted.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify { municipality }) => {
            let Some(secret) = existing_secret(&config) else { return Ok(ExitCode::from(2)) };
            let state = open_with(&config, &secret).await?;
            let anchors = audit_trail::Anchors::of(&state);
            let intact =
                verify_chains(&*state.store, &state.secrets, &anchors, municipality.as_deref()).await?;
            Ok(if intact { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Audit(AuditCommand::Checkpoint { after_restore: true }) => {
            let Some(secret) = existing_secret(&config) else { return Ok(ExitCode::from(2)) };
            let state = open_with(&config, &secret).await?;
            let sealer = AuditSealer::new(&state.secrets.audit_key);
            let audit = cli_audit(None, AuditAction::AuditReanchored, "audit_anchor", "");
            let anchors = audit_trail::Anchors::of(&state);
            match audit_trail::reanchor(&*state.store, &sealer, &anchors, state.clock.now_ms(), &audit).await
            {
                Ok(done) => {
                    for (chain, finding) in &done.findings {
                        eprintln!(
                            "note: the old file did not match: {}: {finding}",
                            chain.as_deref().unwrap_or("anchor file")
                        );
                    }
                    match &done.archived {
                        Some(old) => eprintln!("kept the old anchor file as {}", old.display()),
                        None => eprintln!("there was no anchor file"),
                    }
                    print!("{}", done.lines);
                    eprintln!(
                        "started {} afresh (recorded as audit.reanchored); keep a copy of these lines away from this server",
                        config.audit_anchor_path().display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Audit(AuditCommand::Checkpoint { after_restore: false }) => {
            let Some(secret) = existing_secret(&config) else { return Ok(ExitCode::from(2)) };
            let state = open_with(&config, &secret).await?;
            match audit_trail::checkpoint_now(&state, true).await {
                Ok(audit_trail::CheckpointOutcome::Written(_, lines)) => {
                    print!("{lines}");
                    eprintln!(
                        "appended to {}; keep a copy of these lines away from this server",
                        config.audit_anchor_path().display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Ok(audit_trail::CheckpointOutcome::Unchanged) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

/// The master secret, for the commands that check or anchor the audit trail: a new secret would
/// make every seal look forged, so they refuse (`None`, after saying why) rather than create one.
fn existing_secret(config: &Config) -> Option<Vec<u8>> {
    config.existing_master_secret().map_err(|e| eprintln!("error: {e:#}")).ok()
}

/// Checks the audit trail (`audit_trail::verify_trail`): one municipality's chain, the
/// operator's ("operator") or every chain, printing a line per chain and per finding; true when
/// nothing is wrong. `renraku audit verify` and `renraku backup verify` (on the copy) use it.
async fn verify_chains(
    store: &dyn Store,
    secrets: &Secrets,
    anchors: &audit_trail::Anchors,
    municipality: Option<&str>,
) -> anyhow::Result<bool> {
    let chain = match municipality {
        None => None,
        Some(OPERATOR_CHAIN) => Some(OPERATOR_CHAIN.to_string()),
        Some(code) => Some(
            store
                .municipality_by_code(code)
                .await
                .with_context(|| format!("no municipality {code}"))?
                .id
                .to_string(),
        ),
    };
    let scope = chain.as_deref().map_or(audit_trail::Scope::All, audit_trail::Scope::Chain);
    let sealer = AuditSealer::new(&secrets.audit_key);
    let report = audit_trail::verify_trail(store, &sealer, anchors, scope).await?;
    let names: std::collections::BTreeMap<String, String> = store
        .municipalities()
        .await?
        .into_iter()
        .map(|m| (m.id.to_string(), format!("{} {}", m.code, m.name)))
        .collect();
    for chain in &report.chains {
        let label = match names.get(&chain.chain) {
            Some(name) => name.clone(),
            None if chain.chain == OPERATOR_CHAIN => "operator".to_string(),
            None => format!("{} (no such municipality)", chain.chain),
        };
        let anchored = chain.anchored_seq.map(|s| format!(", checkpoint at seq {s}")).unwrap_or_default();
        if chain.findings.is_empty() {
            println!("ok      {label}: {} entries intact{anchored}", chain.entries);
        }
        for finding in &chain.findings {
            println!("BROKEN  {label}: {finding}");
        }
    }
    for finding in &report.anchor_findings {
        println!("BROKEN  {}: {finding}", anchors.path().display());
    }
    match &report.checkpoint {
        Some(c) => println!(
            "latest checkpoint: {} in {} (entries written after it are not covered)",
            renraku_domain::time_jp::format_iso_jst(c.at_ms),
            anchors.path().display()
        ),
        None => println!(
            "note: no checkpoint in {}: a cut tail with a rewritten head row cannot be detected",
            anchors.path().display()
        ),
    }
    Ok(report.intact())
}

async fn serve(config: &Config) -> anyhow::Result<ExitCode> {
    let app = open_app(config, &config.master_secret()?).await?;
    let state = &app.state;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %config.listen, backend = state.store.backend(), "Renraku is listening");
    println!("Renraku is running at {}", config.public_base_url);
    if let Some(link) = renraku_web::issue_setup_link(state).await? {
        println!(
            "\nFirst start: create the operator account with this one-time link (valid 24 hours):\n\n    {link}\n"
        );
    }
    if !config.metrics_listen.is_empty() {
        let metrics = tokio::net::TcpListener::bind(&config.metrics_listen)
            .await
            .with_context(|| format!("cannot listen on {} (metrics_listen)", config.metrics_listen))?;
        tracing::info!(address = %config.metrics_listen, "metrics at /metrics");
        tokio::spawn(async move {
            if let Err(e) = renraku_web::serve_metrics(metrics).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let background = app.spawn_background();
    let served = renraku_web::serve(listener, &app).await;
    background.stop().await;
    served?;
    Ok(ExitCode::SUCCESS)
}
