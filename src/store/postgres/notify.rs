//! Change notifications, part of the store layer (PostgreSQL backend): its
//! one job is to tell a process when another process committed data to the
//! database they share, so that a web node re-renders its documents when
//! something changed instead of asking the tables again and again.
//!
//! The database announces every committed write on channel
//! [`CHANNEL`] (migration 4, `store::postgres::schema`); a process
//! listens on a connection of its own, on a thread of its own:
//! [`listen_for_changes`]. A notification says only that something
//! changed, not what; the process reads what it needs afresh.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};

use super::{PgError, chain, describe, outside_runtime};

/// The channel every committed write is announced on (payload: the new
/// `data_version`). Named in migration 4 too.
const CHANNEL: &str = "kuaibao_data";

/// How long one wait for a notification lasts: `stop` is asked at least
/// this often.
const TICK: Duration = Duration::from_secs(1);

/// The first pause before reconnecting after the connection dropped,
/// doubled after each failed attempt up to [`LONGEST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// Listens on its own connection to `url` for committed data changes and
/// calls `on_change` once per burst of notifications (all those pending
/// are read first). Stops, ending the thread it returns, when `stop`
/// returns true; `stop` is asked at least every second while the listener
/// waits, whether for a notification or to reconnect (an attempt to
/// connect in progress runs to its end first: at most the URL's
/// `connect_timeout`, 10 s by default).
///
/// The first connection is made before this returns, so a URL that cannot
/// connect is an error at once, and every commit after it returned is
/// announced: start the listener, then read what it guards. When the
/// connection drops later, the listener logs a warning and reconnects,
/// pausing 1 s, then twice as long after each failure up to 30 s; after
/// each reconnect it calls `on_change`, since changes committed while it
/// was away were not announced to it.
///
/// Commits are announced only in a database migrated to schema version 4
/// ([`super::PgStore::connect`] migrates it). Every commit is announced to
/// every listener, this process's own commits included. `on_change` runs
/// on the listener's thread, which waits for it: it should be quick (set a
/// flag, send on a channel).
///
/// The listener runs on a thread of its own because the blocking driver
/// blocks it for as long as it waits: never on an async worker (see
/// `store::postgres::outside_runtime`).
pub fn listen_for_changes(
    url: &str,
    on_change: impl Fn() + Send + 'static,
    stop: impl Fn() -> bool + Send + 'static,
) -> Result<JoinHandle<()>, PgError> {
    let (client, config, target) = outside_runtime(|| -> Result<_, PgError> {
        let config = listener_config(url)?;
        let target = describe(&config);
        let client = connect(&config, &target)?;
        Ok((client, config, target))
    })?;
    let listener = Listener {
        config,
        target,
        on_change,
        stop,
    };
    let handle = std::thread::Builder::new()
        .name("kuaibao-notify".into())
        .spawn(move || listener.run(client))
        .expect("start the change listener's thread");
    Ok(handle)
}

/// `url` as the listener connects to it: named in `pg_stat_activity`, a
/// connect timeout, and TCP keepalives frequent enough that a connection
/// dropped without a word (a server gone, a NAT that forgot it) is noticed
/// in about a minute and a half rather than after two hours of silence:
/// a listener mostly waits, sending nothing that would notice it.
fn listener_config(url: &str) -> Result<Config, PgError> {
    let mut config: Config = url.parse().map_err(PgError::Url)?;
    config.application_name("kuaibao listener");
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_keepalives_idle() > Duration::from_secs(60) {
        config.keepalives_idle(Duration::from_secs(60));
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(Duration::from_secs(10));
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(3);
    }
    Ok(config)
}

/// A connection listening on [`CHANNEL`].
fn connect(config: &Config, target: &str) -> Result<Client, PgError> {
    let mut client = config.connect(NoTls).map_err(|source| PgError::Connect {
        target: target.to_string(),
        source,
    })?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

struct Listener<C, S> {
    config: Config,
    /// The database, as logs name it (no password).
    target: String,
    on_change: C,
    stop: S,
}

impl<C: Fn(), S: Fn() -> bool> Listener<C, S> {
    /// Listens until told to stop, reconnecting whenever the connection
    /// drops.
    fn run(self, mut client: Client) {
        loop {
            let why = match self.listen(&mut client) {
                None => return,
                Some(why) => why,
            };
            drop(client);
            tracing::warn!(database = %self.target, error = %why,
                "lost the connection that listens for changes; reconnecting");
            client = match self.reconnect() {
                Some(client) => client,
                None => return,
            };
            tracing::info!(database = %self.target, "listening for changes again");
            (self.on_change)();
        }
    }

    /// Calls `on_change` for each burst of notifications, until told to
    /// stop (`None`) or the connection is lost (why).
    fn listen(&self, client: &mut Client) -> Option<String> {
        loop {
            if (self.stop)() {
                return None;
            }
            match wait(client) {
                Ok(true) => (self.on_change)(),
                // A wait also ends when the server hung up.
                Ok(false) if client.is_closed() => {
                    return Some("the server closed it".into());
                }
                Ok(false) => {}
                Err(e) => return Some(chain(&e)),
            }
        }
    }

    /// A new listening connection, after a pause that doubles with each
    /// failed attempt; `None` when told to stop meanwhile.
    fn reconnect(&self) -> Option<Client> {
        let mut pause = FIRST_RETRY;
        loop {
            if !self.sleep(pause) {
                return None;
            }
            match connect(&self.config, &self.target) {
                Ok(client) => return Some(client),
                Err(e) => {
                    pause = (pause * 2).min(LONGEST_RETRY);
                    tracing::warn!(database = %self.target, error = %e, retry_in = ?pause,
                        "cannot reconnect to listen for changes");
                }
            }
        }
    }

    /// Sleeps for `d`, asking `stop` every [`TICK`]: false when told to
    /// stop.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if (self.stop)() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(TICK));
        }
    }
}

/// Waits up to a [`TICK`] for a notification, then reads every other one
/// already there: true when there was any.
fn wait(client: &mut Client) -> Result<bool, postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    if client.notifications().timeout_iter(TICK).next()?.is_none() {
        return Ok(false);
    }
    while client.notifications().iter().next()?.is_some() {}
    Ok(true)
}
