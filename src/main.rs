//! The `kuaibao` command line: parses arguments, calls the library, prints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use kuaibao::accounts::{self, AccountError, AuditQuery, Role};
use kuaibao::app::{self, AppError};
use kuaibao::assemble::{self, ExportFormat};
use kuaibao::config::Config;
use kuaibao::fetch::Fetcher;
use kuaibao::lock::{self, Job, LockError};
use kuaibao::poll::{PollOptions, PollStatus, SourceReport};
use kuaibao::report;
use kuaibao::store::Status;

/// Exit codes, documented in README.
mod exit {
    /// The command did what it was asked (a poll pass ran, even if some
    /// sources failed).
    pub const OK: u8 = 0;
    /// The command could not do its work (a publish could not be written,
    /// `sources test` could not read the source, an unknown item id).
    pub const FAILED: u8 = 1;
    /// The configuration or the database is unusable.
    pub const SETUP: u8 = 2;
    /// The command line itself is wrong.
    pub const USAGE: u8 = 64;
    /// Another kuaibao holds the lock for this job on this database
    /// (EX_TEMPFAIL: cron may simply try again next time).
    pub const BUSY: u8 = 75;
}

#[derive(Parser)]
#[command(
    name = "kuaibao",
    version,
    about = "快报: polls official outlets, keeps what is new, publishes curated Atom feeds",
    long_about = None
)]
struct Cli {
    /// The main configuration file.
    #[arg(
        long,
        global = true,
        env = "KUAIBAO_CONFIG",
        default_value = "config/kuaibao.toml"
    )]
    config: PathBuf,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Print only failures (for cron, which mails whatever is printed).
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One pass over the sources that are due (what cron runs).
    Poll(PollArgs),
    /// Write the feeds, OPML and index page.
    Publish {
        /// Output directory [default: `publish.out` from the config].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Each source's health: last success, failures, last error, next due.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Work with the configured sources.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Review candidates: list them, approve or reject them.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Check the configuration files and print what they define.
    Check,
    /// Stories carried by several outlets: check the near-duplicate detection.
    #[command(subcommand)]
    Stories(StoriesCommand),
    /// Classify texts into the bulletin's sections and check the rules.
    #[command(subcommand)]
    Classify(ClassifyCommand),
    /// Run as a daemon: poll each source on its schedule and serve the
    /// feeds over HTTP. SIGTERM/SIGINT stop it, SIGHUP reloads the config.
    Serve {
        /// Address to listen on [default: `server.listen`].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run the whole pipeline on bundled sample outlets and serve the result.
    Demo(DemoArgs),
    /// Editors' accounts for the review desk.
    #[command(subcommand)]
    User(UserCommand),
    /// Issues (期) of the bulletin: draft one from the approved stories,
    /// edit it, publish it, export it (HTML, Word, Markdown, text).
    #[command(subcommand)]
    Issue(IssueCommand),
    /// What editors did on the review desk, newest first.
    Audit {
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only this user's actions.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only actions on this item.
        #[arg(long, value_name = "ID")]
        item: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account (asks for its password twice on the terminal).
    Add {
        name: String,
        /// What the account may do on the desk.
        #[arg(long, default_value = "editor", value_parser = ["editor", "admin"])]
        role: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password; the user's sessions end.
    Passwd {
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete an account and end its sessions (the audit log keeps its name).
    Remove { name: String },
}

#[derive(Subcommand)]
enum IssueCommand {
    /// Draft a new issue holding every approved story that no other issue
    /// holds, by section; prints its table of contents.
    New {
        /// Six digits, as printed: 202509.
        #[arg(value_parser = issue_number)]
        number: String,
        /// The date printed under the masthead [default: today, Beijing time].
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = issue_date)]
        date: Option<NaiveDate>,
    },
    /// Every issue, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One issue's table of contents: positions, story ids, sections.
    Show {
        #[arg(value_parser = issue_number)]
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a draft: all edits apply together, or none does.
    Edit {
        #[arg(value_parser = issue_number)]
        number: String,
        /// Add an approved story at the end of its section (repeatable).
        #[arg(long = "add", value_name = "STORY")]
        add: Vec<i64>,
        /// Take a story out (repeatable).
        #[arg(long = "remove", value_name = "STORY")]
        remove: Vec<i64>,
        /// Move a story to a position in the whole issue, as `issue show`
        /// numbers it; it stays within its section (repeatable).
        #[arg(long = "move", value_name = "STORY:POS", value_parser = story_position)]
        moves: Vec<(i64, usize)>,
        /// A new issue date.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = issue_date)]
        date: Option<NaiveDate>,
    },
    /// Publish a draft: served under /issues/ and in feeds/issues.xml, and
    /// frozen.
    Publish {
        #[arg(value_parser = issue_number)]
        number: String,
    },
    /// Turn a published issue back into a draft, to correct it.
    Unpublish {
        #[arg(value_parser = issue_number)]
        number: String,
    },
    /// Delete a draft; its stories are free for another issue.
    Delete {
        #[arg(value_parser = issue_number)]
        number: String,
    },
    /// Write an issue (draft or published) as HTML, Word, Markdown or text.
    Export {
        #[arg(value_parser = issue_number)]
        number: String,
        /// html, docx, markdown or text.
        #[arg(long, value_parser = export_format)]
        format: ExportFormat,
        /// The file to write; `-` is standard output (not for docx)
        /// [default: kuaibao-NUMBER.EXT].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn issue_number(s: &str) -> Result<String, String> {
    kuaibao::store::check_issue_number(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

fn issue_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date: expected YYYY-MM-DD"))
}

fn story_position(s: &str) -> Result<(i64, usize), String> {
    let bad = || format!("\"{s}\": expected STORY:POS, such as 12:1");
    let (story, pos) = s.split_once(':').ok_or_else(bad)?;
    Ok((
        story.trim().parse().map_err(|_| bad())?,
        pos.trim().parse().map_err(|_| bad())?,
    ))
}

fn export_format(s: &str) -> Result<ExportFormat, String> {
    s.parse()
}

#[derive(Args)]
struct PollArgs {
    /// Poll only this source (repeatable).
    #[arg(long = "source", value_name = "ID")]
    sources: Vec<String>,
    /// Poll every selected source, due or not (still with conditional GET).
    #[arg(long)]
    force: bool,
    /// Print the per-source results as JSON.
    #[arg(long)]
    json: bool,
    /// When another poll holds the database, wait for it (up to DURATION,
    /// default 1h) instead of exiting with code 75.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "1h")]
    wait: Option<String>,
}

#[derive(Subcommand)]
enum SourcesCommand {
    /// List the configured sources.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Fetch one source and print what it extracts, storing nothing.
    Test {
        /// The source id.
        id: String,
        /// How many of its articles to fetch and extract.
        #[arg(long, default_value_t = 3)]
        articles: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Items awaiting review (or with another status), newest first.
    List {
        /// candidate, approved, rejected, irrelevant or all.
        #[arg(long, default_value = "candidate")]
        status: String,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One item with its story and why it was classified so.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve items for publication.
    Approve {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Reject items: they are never published.
    Reject {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// File an item's story under another section (the classifier learns
    /// from it).
    Move { id: i64, section: String },
    /// Set the bulletin title of an item's story; without TITLE, the
    /// outlet's own. The classifier leaves it alone from then on.
    Title { id: i64, title: Option<String> },
}

#[derive(Subcommand)]
enum StoriesCommand {
    /// Stories, newest first, with the outlets that carried each.
    List {
        /// Every story, not only those carried by more than one item.
        #[arg(long)]
        all: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One story: every item in it, the primary first.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Take an item out of its story into a story of its own.
    Split { item: i64 },
    /// Move every item of story B into story A (A keeps its feed entry).
    Merge { a: i64, b: i64 },
    /// Score labelled pairs (`{"a": {...}, "b": {...}, "same": true|false}`
    /// per line): precision, recall and each mistake with its reason.
    Eval { file: PathBuf },
}

#[derive(Subcommand)]
enum ClassifyCommand {
    /// Score a labelled JSONL file (`{"title", "content", "origin", "source",
    /// "section": "<id>" | null}` per line): accuracy, confusion matrix, mistakes.
    Eval {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Classify one text and explain why.
    Show {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        content: String,
        /// The article's 来源.
        #[arg(long)]
        origin: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct DemoArgs {
    /// Write the output and exit instead of serving it.
    #[arg(long)]
    once: bool,
    /// Output directory [default: a temporary directory].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Address to serve the output on [default: `server.listen`, 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

/// glibc tuning for a long-running daemon. Every thread that allocates gets
/// its own heap arena (up to eight per core) and the daemon's blocking
/// threads come and go; and glibc raises its mmap threshold each time a
/// large block is freed, so the next large buffers (rendered and compressed
/// feed documents) land in the heap, which it rarely gives back. Two arenas
/// and a fixed 1 MiB threshold keep the resident size flat.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only changes allocator tuning; called before any
    // thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kuaibao: {e:#}");
            let setup = e.chain().any(|c| {
                c.downcast_ref::<AppError>()
                    .is_some_and(AppError::is_setup_error)
            });
            let usage = e.chain().any(|c| {
                c.downcast_ref::<AccountError>()
                    .is_some_and(AccountError::is_usage)
            });
            let busy = e
                .chain()
                .any(|c| matches!(c.downcast_ref::<LockError>(), Some(LockError::Busy { .. })));
            ExitCode::from(if busy {
                exit::BUSY
            } else if usage {
                exit::USAGE
            } else if setup {
                exit::SETUP
            } else {
                exit::FAILED
            })
        }
    }
}

fn init_logging(verbose: u8) {
    // html5ever warns about markup it repairs on every odd page; that is
    // the outlets' business, not the operator's.
    let default = match verbose {
        0 => "warn,html5ever=error",
        1 => "info,html5ever=error",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path).map_err(AppError::from)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Poll(args) => poll(&cli.config, args, cli.quiet),
        Command::Publish { out } => {
            let config = load_config(&cli.config)?;
            // Publishing takes a moment: wait for another publish to finish.
            let _lock = lock::acquire(
                &config.storage.database,
                Job::Publish,
                Duration::from_secs(120),
            )?;
            let store = app::open_store(&config)?;
            let out = out.unwrap_or_else(|| config.publish.out.clone());
            let published = app::publish(&config, &store, &out)?;
            let entries = published.feeds.first().map_or(0, |f| f.entries);
            if cli.quiet {
                return Ok(exit::OK);
            }
            println!(
                "published {entries} entries to {} ({} files, {} changed)",
                out.display(),
                published.files.len(),
                published.changed.len()
            );
            Ok(exit::OK)
        }
        Command::Status { json } => {
            let config = load_config(&cli.config)?;
            let store = app::open_store(&config)?;
            let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
            let states = store.source_states(&ids).map_err(AppError::from)?;
            if json {
                print_json(&states)?;
            } else {
                print!("{}", report::status_table(&states));
                let counts = store.status_counts().map_err(AppError::from)?;
                let counts: Vec<String> = counts
                    .iter()
                    .map(|(s, n)| format!("{n} {}", s.as_str()))
                    .collect();
                println!(
                    "\nitems: {}",
                    if counts.is_empty() {
                        "none".into()
                    } else {
                        counts.join(", ")
                    }
                );
            }
            Ok(exit::OK)
        }
        Command::Sources(SourcesCommand::List { json }) => {
            let config = load_config(&cli.config)?;
            let rows: Vec<serde_json::Value> = config
                .sources
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id, "name": s.name, "url": s.url.as_str(), "kind": s.kind.as_str(),
                        "section": s.section, "region": s.region, "enabled": s.enabled,
                        "interval_secs": s.interval.as_secs(),
                    })
                })
                .collect();
            if json {
                print_json(&rows)?;
            } else {
                let table: Vec<Vec<String>> = config
                    .sources
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.clone(),
                            s.kind.as_str().into(),
                            s.section.clone().unwrap_or_else(|| "-".into()),
                            humantime::format_duration(s.interval).to_string(),
                            s.name.clone(),
                            s.url.to_string(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    report::table(
                        &["ID", "KIND", "SECTION", "INTERVAL", "NAME", "URL"],
                        &table
                    )
                );
            }
            Ok(exit::OK)
        }
        Command::Sources(SourcesCommand::Test { id, articles, json }) => {
            let config = load_config(&cli.config)?;
            let source = config
                .source(&id)
                .with_context(|| format!("no source with id \"{id}\" in {}", cli.config.display()))?
                .clone();
            let fetcher = Fetcher::new(&config.poll).map_err(AppError::from)?;
            let tested = runtime()?.block_on(kuaibao::poll::test_source(
                &fetcher,
                &config.poll,
                &source,
                articles,
            ))?;
            if json {
                print_json(&tested)?;
            } else {
                print!("{}", report::source_test_text(&tested));
            }
            let failed = tested.items.is_empty()
                || tested
                    .items
                    .iter()
                    .any(|i| i.article.as_ref().is_some_and(|a| a.error.is_some()));
            Ok(if failed { exit::FAILED } else { exit::OK })
        }
        Command::Review(cmd) => review(&cli.config, cmd),
        Command::Check => {
            let config = load_config(&cli.config)?;
            println!(
                "{}: ok — {} sources ({} enabled), {} sections, database {}, review mode {:?}",
                cli.config.display(),
                config.sources.len(),
                config.sources.iter().filter(|s| s.enabled).count(),
                config.sections.len(),
                config.storage.database.display(),
                config.review.mode
            );
            Ok(exit::OK)
        }
        Command::Demo(args) => demo(&cli.config, args),
        Command::Serve { listen } => serve(&cli.config, listen),
        Command::Classify(cmd) => classify(&cli.config, cmd),
        Command::User(cmd) => user(&cli.config, cmd, cli.quiet),
        Command::Issue(cmd) => issue(&cli.config, cmd, cli.quiet),
        Command::Audit {
            limit,
            user,
            item,
            json,
        } => {
            let config = load_config(&cli.config)?;
            let store = app::open_store(&config)?;
            let query = AuditQuery {
                limit,
                user,
                item_id: item,
            };
            let records = accounts::audit_entries(&store, &query)?;
            if json {
                print_json(&records)?;
            } else {
                print!("{}", report::audit_table(&records));
            }
            Ok(exit::OK)
        }
        Command::Stories(StoriesCommand::Eval { file }) => {
            // The thresholds of `[dedup]` when there is a configuration.
            let cfg = if cli.config.exists() {
                load_config(&cli.config)?.dedup
            } else {
                kuaibao::dedup::DedupConfig::default()
            };
            let report = kuaibao::dedup::evaluate(&file, &cfg)?;
            print!("{report}");
            Ok(exit::OK)
        }
        Command::Stories(cmd) => stories(&cli.config, cmd),
    }
}

fn poll(config_path: &Path, args: PollArgs, quiet: bool) -> anyhow::Result<u8> {
    let config = Arc::new(load_config(config_path)?);
    let wait = match &args.wait {
        None => Duration::ZERO,
        Some(text) => humantime::parse_duration(text)
            .with_context(|| format!("--wait {text}: expected a duration such as 30s, 10m, 1h"))?,
    };
    let _lock = lock::acquire(&config.storage.database, Job::Poll, wait)?;
    let store = Arc::new(Mutex::new(app::open_store(&config)?));
    let opts = PollOptions {
        only: args.sources,
        force: args.force,
    };
    let total = if opts.only.is_empty() {
        config.sources.iter().filter(|s| s.enabled).count()
    } else {
        opts.only.len()
    };
    let progress = if std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && !args.json
        && !quiet
    {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} polling [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let reports = runtime()?.block_on(app::poll(config, store, &opts, |r: &SourceReport| {
        progress.set_message(r.id.clone());
        progress.inc(1);
    }))?;
    progress.finish_and_clear();
    if args.json {
        print_json(&reports)?;
    } else if quiet {
        let failures: Vec<SourceReport> = reports
            .into_iter()
            .filter(|r| matches!(r.status, PollStatus::Failed | PollStatus::Partial))
            .collect();
        if !failures.is_empty() {
            print!("{}", report::poll_table(&failures));
        }
    } else {
        print!("{}", report::poll_table(&reports));
        let sum = |f: fn(&SourceReport) -> usize| reports.iter().map(f).sum::<usize>();
        let failed_sources = reports
            .iter()
            .filter(|r| r.status == PollStatus::Failed)
            .count();
        println!(
            "\n{} sources polled, {} failed; {} new items, {} failed items",
            reports
                .iter()
                .filter(|r| r.status != PollStatus::NotDue)
                .count(),
            failed_sources,
            sum(|r| r.new),
            sum(|r| r.failed)
        );
    }
    Ok(exit::OK)
}

fn review(config_path: &Path, cmd: ReviewCommand) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    match cmd {
        ReviewCommand::List {
            status,
            limit,
            json,
        } => {
            let status = match status.as_str() {
                "all" => None,
                "candidate" => Some(Status::Candidate),
                "approved" => Some(Status::Approved),
                "rejected" => Some(Status::Rejected),
                "irrelevant" => Some(Status::Irrelevant),
                other => {
                    eprintln!(
                        "kuaibao: --status {other}: expected candidate, approved, rejected, irrelevant or all"
                    );
                    return Ok(exit::USAGE);
                }
            };
            let items = store.review_items(status, limit).map_err(AppError::from)?;
            if json {
                print_json(&items)?;
            } else {
                print!("{}", report::review_table(&items));
            }
            Ok(exit::OK)
        }
        ReviewCommand::Show { id, json } => {
            let item = store.review_item(id).map_err(AppError::from)?;
            if json {
                print_json(&item)?;
            } else {
                let text = store.item_text(id).map_err(AppError::from)?;
                print!("{}", report::review_text(&item, &text));
            }
            Ok(exit::OK)
        }
        ReviewCommand::Approve { ids } => set_status(&mut store, &ids, Status::Approved),
        ReviewCommand::Reject { ids } => set_status(&mut store, &ids, Status::Rejected),
        ReviewCommand::Move { id, section } => {
            if config.section(&section).is_none() {
                let ids: Vec<&str> = config.sections.iter().map(|s| s.id.as_str()).collect();
                eprintln!(
                    "kuaibao: unknown section \"{section}\"; expected one of {}",
                    ids.join(", ")
                );
                return Ok(exit::USAGE);
            }
            let before = app::move_to_section(&mut store, id, &section, &app::cli_editor())?;
            println!("{id}: {} → {section}", before.as_deref().unwrap_or("-"));
            Ok(exit::OK)
        }
        ReviewCommand::Title { id, title } => {
            let before = app::set_title(&mut store, id, title.as_deref(), &app::cli_editor())?;
            println!(
                "{id}: {} → {}",
                before.as_deref().unwrap_or("-"),
                title.as_deref().unwrap_or("-")
            );
            Ok(exit::OK)
        }
    }
}

fn stories(config_path: &Path, cmd: StoriesCommand) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    match cmd {
        StoriesCommand::List { all, limit, json } => {
            let stories = store.stories(!all, limit).map_err(AppError::from)?;
            if json {
                print_json(&stories)?;
            } else {
                print!("{}", report::stories_table(&stories));
            }
        }
        StoriesCommand::Show { id, json } => {
            let story = store.story(id).map_err(AppError::from)?;
            if json {
                print_json(&story)?;
            } else {
                print!("{}", report::story_text(&story));
            }
        }
        StoriesCommand::Split { item } => {
            let from = store.story_of(item).map_err(AppError::from)?;
            let new = store.split_item(item).map_err(AppError::from)?;
            println!("item {item} left story {from}: it is story {new} now");
        }
        StoriesCommand::Merge { a, b } => {
            store.merge_stories(a, b).map_err(AppError::from)?;
            println!("story {b} merged into story {a}");
        }
        StoriesCommand::Eval { .. } => unreachable!("handled before the store is opened"),
    }
    Ok(exit::OK)
}

fn set_status(
    store: &mut kuaibao::store::Store,
    ids: &[i64],
    status: Status,
) -> anyhow::Result<u8> {
    for (id, before) in app::review(store, ids, status, &app::cli_editor())? {
        println!("{id}: {} → {}", before.as_str(), status.as_str());
    }
    Ok(exit::OK)
}

fn issue(config_path: &Path, cmd: IssueCommand, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    let say = |text: String| {
        if !quiet {
            print!("{text}");
        }
    };
    match cmd {
        IssueCommand::New { number, date } => {
            let date = date.unwrap_or_else(assemble::today);
            let issue = assemble::new_issue(&config, &mut store, &number, date)?;
            say(assemble::contents_text(&config, &issue));
        }
        IssueCommand::List { json } => {
            let issues = store.issues().map_err(AppError::from)?;
            if json {
                print_json(&issues)?;
            } else {
                print!("{}", assemble::issues_table(&issues));
            }
        }
        IssueCommand::Show { number, json } => {
            let issue = assemble::show_issue(&config, &store, &number)?;
            if json {
                print_json(&issue)?;
            } else {
                print!("{}", assemble::contents_text(&config, &issue));
            }
        }
        IssueCommand::Edit {
            number,
            add,
            remove,
            moves,
            date,
        } => {
            let edits = kuaibao::store::IssueEdits {
                add,
                remove,
                moves,
                date,
            };
            if edits.is_empty() {
                eprintln!(
                    "kuaibao: issue edit: nothing to do (give --add, --remove, --move or --date)"
                );
                return Ok(exit::USAGE);
            }
            let issue = assemble::edit_issue(&config, &mut store, &number, &edits)?;
            say(assemble::contents_text(&config, &issue));
        }
        IssueCommand::Publish { number } => {
            let info = store.publish_issue(&number).map_err(AppError::from)?;
            say(format!(
                "issue {number} is published ({} stories): {}\n",
                info.stories,
                kuaibao::publish::issue_url(&config, &number)
            ));
        }
        IssueCommand::Unpublish { number } => {
            store.unpublish_issue(&number).map_err(AppError::from)?;
            say(format!("issue {number} is a draft again\n"));
        }
        IssueCommand::Delete { number } => {
            store.delete_issue(&number).map_err(AppError::from)?;
            say(format!("issue {number} deleted\n"));
        }
        IssueCommand::Export {
            number,
            format,
            out,
        } => {
            let to_stdout = out.as_deref() == Some(Path::new("-"));
            if to_stdout && !format.is_text() {
                eprintln!("kuaibao: a .docx is not written to standard output: give --out FILE");
                return Ok(exit::USAGE);
            }
            let bytes = assemble::export_issue(&config, &store, &number, format)?;
            if to_stdout {
                use std::io::Write;
                std::io::stdout()
                    .write_all(&bytes)
                    .context("cannot write to standard output")?;
                return Ok(exit::OK);
            }
            let path =
                out.unwrap_or_else(|| PathBuf::from(assemble::export_file_name(&number, format)));
            std::fs::write(&path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            say(format!(
                "wrote issue {number} to {} ({} bytes)\n",
                path.display(),
                bytes.len()
            ));
        }
    }
    Ok(exit::OK)
}

fn user(config_path: &Path, cmd: UserCommand, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = app::open_store(&config)?;
    let conn = &store;
    let say = |text: String| {
        if !quiet {
            println!("{text}");
        }
    };
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = role.parse::<Role>()?;
            // Refuse a bad or taken name before asking for a password.
            accounts::check_name(&name)?;
            if accounts::find_user(conn, &name)?.is_some() {
                return Err(AccountError::DuplicateUser(name).into());
            }
            let password = new_password(&name, password_stdin)?;
            accounts::add_user(conn, &name, role, &password)?;
            say(format!("added {name} ({role})"));
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            if accounts::find_user(conn, &name)?.is_none() {
                return Err(AccountError::NoSuchUser(name).into());
            }
            let password = new_password(&name, password_stdin)?;
            let ended = accounts::set_password(conn, &name, &password)?;
            say(format!(
                "changed the password of {name}; {ended} session(s) ended"
            ));
        }
        UserCommand::List { json } => {
            let users = accounts::list_users(conn)?;
            if json {
                print_json(&users)?;
            } else {
                print!("{}", report::users_table(&users));
            }
        }
        UserCommand::Remove { name } => {
            let ended = accounts::remove_user(conn, &name)?;
            say(format!("removed {name}; {ended} session(s) ended"));
        }
    }
    Ok(exit::OK)
}

/// A new password: the first line of stdin (scripts, tests), or typed twice
/// on the terminal without echo.
fn new_password(name: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        let read = std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        anyhow::ensure!(read > 0, "no password on standard input");
        // Only the line end goes: spaces may be part of the password.
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        accounts::check_password(password)?;
        return Ok(password.to_string());
    }
    let no_tty = "cannot read the password from the terminal (pipe it in with --password-stdin)";
    let first = rpassword::prompt_password(format!("new password for {name}: ")).context(no_tty)?;
    // Said before the second prompt, not after it.
    accounts::check_password(&first)?;
    let second = rpassword::prompt_password("the same again: ").context(no_tty)?;
    anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
    Ok(first)
}

fn demo(config_path: &Path, args: DemoArgs) -> anyhow::Result<u8> {
    // The demo runs on its own sample outlets; from the user's configuration
    // it takes only `server.listen`, and only when that file exists.
    let listen = match args.listen {
        Some(listen) => listen,
        None if config_path.exists() => load_config(config_path)?.server.listen,
        None => std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let scratch;
    let out = match args.out {
        Some(out) => out,
        None => {
            scratch = tempfile::Builder::new()
                .prefix("kuaibao-demo-out-")
                .tempdir()?;
            scratch.path().to_path_buf()
        }
    };
    let rt = runtime()?;
    // Bind first: the feeds' URLs must name the address actually served
    // (`--listen 127.0.0.1:0` picks a free port).
    let listener = if args.once {
        None
    } else {
        Some(
            rt.block_on(tokio::net::TcpListener::bind(listen))
                .with_context(|| {
                    format!("cannot listen on {listen} (choose another with --listen)")
                })?,
        )
    };
    let listen = match &listener {
        Some(l) => l.local_addr()?,
        None => listen,
    };
    let run = rt.block_on(app::demo(&out, listen))?;
    print!("{}", report::poll_table(&run.reports));
    for story in &run.grouped {
        println!(
            "\none story, {} outlets, one entry: {} ({})",
            story.outlets.len(),
            story.title,
            story.outlets.join("、")
        );
    }
    if !run.irrelevant.is_empty() {
        println!("\noff-topic, not published:");
        for item in &run.irrelevant {
            println!(
                "  {} (relevance {:.2})",
                item.title,
                item.relevance.unwrap_or(0.0)
            );
        }
    }
    println!(
        "\nwrote {} files to {}",
        run.publish.files.len(),
        out.display()
    );
    for f in &run.publish.feeds {
        println!(
            "  {}{}  ({} entries)",
            run.base_url,
            f.path.strip_prefix(&out).unwrap_or(&f.path).display(),
            f.entries
        );
    }
    let Some(listener) = listener else {
        return Ok(exit::OK);
    };
    println!(
        "\nserving {} on {} — Ctrl-C to stop",
        out.display(),
        run.base_url
    );
    rt.block_on(kuaibao::serve::serve_directory(&out, listener))?;
    Ok(exit::OK)
}

fn serve(config_path: &Path, listen: Option<std::net::SocketAddr>) -> anyhow::Result<u8> {
    use tokio::signal::unix::{SignalKind, signal};

    let config = load_config(config_path)?;
    let listen = listen.unwrap_or(config.server.listen);
    // The daemon polls for as long as it runs: a cron poll still at work
    // gets a few minutes to finish first.
    let _lock = lock::acquire(
        &config.storage.database,
        Job::Poll,
        Duration::from_secs(300),
    )?;
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (set server.listen or --listen)"))?;
        let local = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                    _ = hup.recv() => {
                        let _ = reload_tx.try_send(());
                    }
                }
            }
            tracing::warn!("stopping: finishing in-flight work");
            let _ = stop_tx.send(true);
        });
        eprintln!(
            "kuaibao: serving {} sources on http://{local}/ (feeds under /feeds/, status at /status)",
            config.sources.iter().filter(|s| s.enabled).count()
        );
        let control = kuaibao::serve::ServeControl {
            shutdown: stop_rx,
            reload: reload_rx,
        };
        kuaibao::serve::run(config_path, config, listener, control).await?;
        anyhow::Ok(exit::OK)
    })
}

/// The classification rules: the file the configuration names, else the
/// built-in ones (also when there is no configuration file at all).
fn classify_rules(config_path: &Path) -> anyhow::Result<kuaibao::classify::Rules> {
    Ok(if config_path.exists() {
        load_config(config_path)?.rules
    } else {
        kuaibao::classify::Rules::default()
    })
}

fn classify(config_path: &Path, cmd: ClassifyCommand) -> anyhow::Result<u8> {
    let rules = classify_rules(config_path)?;
    match cmd {
        ClassifyCommand::Eval { file, json } => {
            let report = kuaibao::classify::evaluate(&file, &rules, None)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                print_json(&report)?;
            } else {
                print!("{report}");
            }
        }
        ClassifyCommand::Show {
            title,
            content,
            origin,
            json,
        } => {
            let input = kuaibao::classify::ClassifyInput {
                title,
                content,
                origin,
                source: None,
            };
            let c = kuaibao::classify::classify(&input, &rules, None);
            if json {
                print_json(&c)?;
            } else {
                println!(
                    "section    {}\nrelevance  {:.3} ({})\ntitle      {}",
                    c.section.as_deref().unwrap_or("-"),
                    c.relevance,
                    if c.relevant { "in scope" } else { "off-topic" },
                    c.bulletin_title
                );
                for (section, score) in &c.scores {
                    println!("  {section:<9} {score:.3}");
                }
                for reason in &c.reasons {
                    println!("  - {reason}");
                }
            }
        }
    }
    Ok(exit::OK)
}
