//! The `kuaibao` command line: the arguments (clap), the exit codes, and a
//! dispatch to the handlers in [`cli`], which call the library and print.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use kuaibao::accounts::AccountError;
use kuaibao::app::AppError;
use kuaibao::assemble::ExportFormat;
use kuaibao::lock::LockError;
use kuaibao::store::Status;

/// Exit codes, documented in README.
pub(crate) mod exit {
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
        /// What this process does: `all` polls and serves; on a shared
        /// PostgreSQL database `poller`s (any number, sharing the sources
        /// by leases) and `web` nodes (feeds, issues, the desk) scale apart.
        #[arg(long, value_enum, default_value_t = RoleArg::All)]
        role: RoleArg,
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
    /// Copy the SQLite database into an empty PostgreSQL database, ids
    /// and all, and verify every table by row count and checksum.
    Migrate {
        /// The PostgreSQL database: `postgres://user:password@host:port/dbname`
        /// (from the environment, the password stays out of `ps`).
        #[arg(
            long,
            value_name = "URL",
            env = "KUAIBAO_MIGRATE_TO",
            hide_env_values = true
        )]
        to: String,
        /// Print the per-table report as JSON.
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
    /// Propose a source for an outlet from its address alone: its feed,
    /// the JSON list its page loads, or selectors for its list and article
    /// pages; prints the `[[source]]` table and a preview of what it reads.
    Add(SourcesAddArgs),
    /// List a site's column pages that look like news lists, most
    /// promising first, from its home page.
    Discover {
        /// The site's home page (or any page linking to its columns).
        url: url::Url,
        /// Stop reading column pages after this long.
        #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
        budget: std::time::Duration,
        #[arg(long)]
        json: bool,
    },
    /// Check sources against what kuaibao stored from them; where a
    /// redesign broke their selectors, work out new ones and show them
    /// beside the old with the evidence; `--apply` writes proven ones.
    Heal {
        /// One source [default: every enabled source].
        id: Option<String>,
        /// Write the repairs that passed into the sources file (a backup is
        /// written first; the old selectors stay in a dated comment).
        #[arg(long)]
        apply: bool,
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

#[derive(Args)]
pub(crate) struct SourcesAddArgs {
    /// The outlet's address: a column (list) page, a feed or a JSON list.
    pub url: url::Url,
    /// The outlet's name [default: from the page title or the feed].
    #[arg(long)]
    pub name: Option<String>,
    /// The source id [default: from the address, e.g. hrss-gd-gzdt].
    #[arg(long)]
    pub id: Option<String>,
    /// The bulletin section new items go to (an id of sections.toml).
    #[arg(long)]
    pub section: Option<String>,
    /// The province or city the outlet speaks for, e.g. 广东.
    #[arg(long)]
    pub region: Option<String>,
    /// Append the proposed source to the sources file (comments and
    /// layout kept); refused when its id or address is already there.
    #[arg(long)]
    pub write: bool,
    #[arg(long)]
    pub json: bool,
}

/// `review list --status`: a review status, or all of them.
#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusFilter {
    Candidate,
    Approved,
    Rejected,
    /// 待定: between `relevance.maybe` and the threshold, for an editor to
    /// decide.
    Maybe,
    Irrelevant,
    All,
}

impl StatusFilter {
    fn status(self) -> Option<Status> {
        match self {
            StatusFilter::Candidate => Some(Status::Candidate),
            StatusFilter::Approved => Some(Status::Approved),
            StatusFilter::Rejected => Some(Status::Rejected),
            StatusFilter::Maybe => Some(Status::Maybe),
            StatusFilter::Irrelevant => Some(Status::Irrelevant),
            StatusFilter::All => None,
        }
    }
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Items awaiting review (or with another status), newest first.
    List {
        /// The items of this status, or all.
        #[arg(long, value_enum, default_value_t = StatusFilter::Candidate)]
        status: StatusFilter,
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
    /// "url", "date", "section": "<id>" | null}` per line): accuracy,
    /// precision and recall per section, confusion matrix, accuracy by text
    /// length, mistakes.
    Eval {
        file: PathBuf,
        /// Learn first from this labelled file, as if editors had decided
        /// each of its items as labelled.
        #[arg(long, value_name = "FILE")]
        train: Option<PathBuf>,
        /// Simulate editors deciding FILE's items in date order and report
        /// accuracy on the items they have not decided yet after each
        /// number of decisions (e.g. `0,20,50,100,200`).
        #[arg(long, value_name = "N,N,…", value_delimiter = ',')]
        curve: Option<Vec<usize>>,
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
        /// The article's address (its column is evidence: `/comments/`).
        #[arg(long)]
        url: Option<String>,
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

/// `serve --role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RoleArg {
    All,
    Poller,
    Web,
}

impl From<RoleArg> for kuaibao::serve::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::All => kuaibao::serve::Role::All,
            RoleArg::Poller => kuaibao::serve::Role::Poller,
            RoleArg::Web => kuaibao::serve::Role::Web,
        }
    }
}

impl Command {
    /// Whether the command talks to outlets or clients over the network.
    fn opens_sockets(&self) -> bool {
        matches!(
            self,
            Command::Poll(_)
                | Command::Serve { .. }
                | Command::Demo(_)
                | Command::Sources(_)
                | Command::Migrate { .. }
        )
    }
}

/// `kuaibao review list | head` closes the pipe early; Rust ignores
/// SIGPIPE, so the next `println!` would panic. A command that only prints
/// gets the default action back and ends quietly, like any Unix filter.
/// Not for commands with sockets: a peer that hangs up would kill them.
#[cfg(unix)]
fn end_quietly_on_closed_stdout() {
    // SAFETY: restores the default disposition of one signal before any
    // thread is started; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_on_closed_stdout() {}

fn main() -> ExitCode {
    cli::allocator::tune_malloc();
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
    if !cli.command.opens_sockets() {
        end_quietly_on_closed_stdout();
    }
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
            let busy = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<LockError>(),
                    Some(LockError::Busy { .. } | LockError::BusyShared { .. })
                )
            });
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

fn run(cli: Cli) -> anyhow::Result<u8> {
    let config = cli.config.as_path();
    match cli.command {
        Command::Poll(args) => cli::pipeline::poll(config, args, cli.quiet),
        Command::Publish { out } => cli::pipeline::publish(config, out, cli.quiet),
        Command::Status { json } => cli::pipeline::status(config, json),
        Command::Sources(SourcesCommand::List { json }) => {
            cli::pipeline::sources_list(config, json)
        }
        Command::Sources(SourcesCommand::Add(args)) => cli::sources::add(config, args),
        Command::Sources(SourcesCommand::Discover { url, budget, json }) => {
            cli::sources::discover(config, &url, budget, json)
        }
        Command::Sources(SourcesCommand::Heal { id, apply, json }) => {
            cli::sources::heal(config, id.as_deref(), apply, json)
        }
        Command::Sources(SourcesCommand::Test { id, articles, json }) => {
            cli::pipeline::sources_test(config, &id, articles, json)
        }
        Command::Check => cli::pipeline::check(config),
        Command::Review(cmd) => cli::editorial::review(config, cmd),
        Command::Stories(StoriesCommand::Eval { file }) => {
            cli::editorial::stories_eval(config, &file)
        }
        Command::Stories(cmd) => cli::editorial::stories(config, cmd),
        Command::Classify(cmd) => cli::editorial::classify(config, cmd),
        Command::Issue(cmd) => cli::issue::issue(config, cmd, cli.quiet),
        Command::User(cmd) => cli::accounts::user(config, cmd, cli.quiet),
        Command::Audit {
            limit,
            user,
            item,
            json,
        } => cli::accounts::audit(config, limit, user, item, json),
        Command::Migrate { to, json } => cli::migrate::migrate(config, &to, json, cli.quiet),
        Command::Demo(args) => cli::daemon::demo(config, args),
        Command::Serve { listen, role } => cli::daemon::serve(config, listen, role.into()),
    }
}
