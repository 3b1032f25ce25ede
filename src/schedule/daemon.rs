//! The daemon loop: keeps every enabled source on its schedule.
//!
//! Each source has a next-run time (tokio time, so tests run under paused
//! time). The loop sleeps until the earliest, starts the due sources with at
//! most `poll.concurrency` of them in flight (the fetcher still limits
//! requests per host and overall), and reschedules each from the policy as
//! it finishes — the same delay the poller records as the source's
//! `next_due_at`, so `kuaibao status` shows the scheduler's next attempt.
//!
//! At startup a source's next run comes from the store: a source due later
//! keeps that time, an overdue or never-polled one runs within a few minutes
//! (spread by the jitter, not all at once). A new configuration is taken
//! without losing state: sources kept keep their next run, new ones are
//! scheduled like at startup, removed or disabled ones are dropped (a poll
//! of theirs already running finishes). On shutdown no new poll starts;
//! polls in flight get `shutdown_grace` to finish, then are abandoned —
//! every item already stored stays stored, each commits on its own.
//!
//! On a database many pollers share (PostgreSQL) the store decides instead
//! of the local clock: every second, while slots are free, the loop claims
//! due sources with leases (`store::Leases`), renews the leases of the
//! polls in flight every third of the lease, and releases each source when
//! its poll ends, with its next due time. So no source is polled by two
//! pollers at once, and a poller that dies keeps its sources only until
//! their leases lapse.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::{Id as TaskId, JoinSet};
use tokio::time::Instant;

use crate::config::{Config, Poll, Source};
use crate::fetch::{FetchError, Fetcher, HostTurns};
use crate::poll::policy;
use crate::poll::{NextPoll, PollStatus, Poller, SourceReport};
use crate::store::{Store, StoreError};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("cannot set up the HTTP client: {0}")]
    Fetcher(#[from] FetchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many sources are where, for a metrics gauge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Enabled sources on the schedule.
    pub sources: usize,
    /// Due now, waiting for one of the `poll.concurrency` slots.
    pub due: usize,
    /// Being polled (including polls of sources removed meanwhile).
    pub in_flight: usize,
    /// Scheduled for later.
    pub waiting: usize,
}

/// A live view of the scheduler's queue; clone it freely.
#[derive(Debug, Clone, Default)]
pub struct QueueGauge(Arc<Mutex<QueueStats>>);

impl QueueGauge {
    pub fn get(&self) -> QueueStats {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, stats: QueueStats) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = stats;
    }
}

/// Called after each poll, from the scheduler's task: keep it short
/// (refresh a feed, count a metric).
pub type OnPolled = Arc<dyn Fn(&SourceReport) + Send + Sync>;

/// Callbacks into the rest of the daemon.
#[derive(Clone, Default)]
pub struct Hooks {
    /// After each source's poll, successful or not.
    pub on_polled: Option<OnPolled>,
}

/// The daemon's scheduler. Build it, take its [`QueueGauge`], then
/// [`Scheduler::run`] it until shutdown.
pub struct Scheduler {
    config: watch::Receiver<Arc<Config>>,
    store: Arc<Mutex<Store>>,
    hooks: Hooks,
    shutdown_grace: Duration,
    gauge: QueueGauge,
    holder: Option<String>,
}

/// How often a poller with free slots asks a shared store for due sources
/// once the last claim found fewer than it asked for.
const CLAIM_EVERY: Duration = Duration::from_secs(1);

/// After a failed claim, the wait before the next.
const CLAIM_RETRY: Duration = Duration::from_secs(5);

/// This process's name on the leases it holds: the host, then the pid.
pub fn default_holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// What the grace period is unless set.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Scheduler {
    /// A scheduler over the configuration `config` holds now and every one
    /// sent to it later (a reload).
    pub fn new(config: watch::Receiver<Arc<Config>>, store: Arc<Mutex<Store>>) -> Scheduler {
        Scheduler {
            config,
            store,
            hooks: Hooks::default(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            gauge: QueueGauge::default(),
            holder: None,
        }
    }

    /// The name this poller's leases carry on a shared store
    /// [default: [`default_holder`]].
    pub fn holder(mut self, holder: impl Into<String>) -> Scheduler {
        self.holder = Some(holder.into());
        self
    }

    pub fn hooks(mut self, hooks: Hooks) -> Scheduler {
        self.hooks = hooks;
        self
    }

    /// Sets [`Hooks::on_polled`].
    pub fn on_polled(mut self, f: impl Fn(&SourceReport) + Send + Sync + 'static) -> Scheduler {
        self.hooks.on_polled = Some(Arc::new(f));
        self
    }

    /// How long polls in flight may take to finish after shutdown is asked
    /// for (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Scheduler {
        self.shutdown_grace = grace;
        self
    }

    /// The queue sizes, updated as the scheduler runs.
    pub fn queue(&self) -> QueueGauge {
        self.gauge.clone()
    }

    /// Runs until `shutdown` turns true (or its sender is dropped), then
    /// waits up to the grace period for polls in flight and returns. Fails
    /// only when it cannot start (HTTP client, database); a source that
    /// fails is rescheduled, never dropped.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ScheduleError> {
        let Scheduler {
            config: mut config_rx,
            store,
            hooks,
            shutdown_grace,
            gauge,
            holder,
        } = self;
        let config = config_rx.borrow_and_update().clone();
        lock(&store).sync_sources(&config.sources)?;
        let fetcher = Arc::new(fetcher_for(&config.poll, &store)?);
        let shared = lock(&store).leases().is_some().then(|| {
            let holder = holder.unwrap_or_else(default_holder);
            tracing::info!(%holder, "polling shares sources with other pollers by leases");
            Shared {
                holder,
                next_claim: Instant::now(),
                next_renew: Instant::now(),
            }
        });
        let mut state = State {
            poller: Arc::new(Poller::new(config.clone(), fetcher.clone(), store.clone())),
            fetcher,
            config,
            store,
            entries: Vec::new(),
            running: HashMap::new(),
            tasks: JoinSet::new(),
            hooks,
            gauge,
            shared,
        };
        state.adopt_sources();
        let mut reloads_open = true;

        loop {
            if *shutdown.borrow() {
                break;
            }
            state.start_due();
            state.renew_leases();
            let wake = state.next_wake();
            tokio::select! {
                biased;
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
                changed = config_rx.changed(), if reloads_open => match changed {
                    Ok(()) => {
                        let new = config_rx.borrow_and_update().clone();
                        state.reload(new);
                    }
                    // Nobody can send a new configuration: keep this one.
                    Err(_) => reloads_open = false,
                },
                Some(joined) = state.tasks.join_next_with_id() => state.finished(joined),
                _ = sleep_until(wake), if wake.is_some() => {}
            }
        }

        tracing::info!(
            in_flight = state.tasks.len(),
            "scheduler stopping; waiting up to {:?} for polls in flight",
            shutdown_grace
        );
        state.update_gauge();
        let grace = tokio::time::sleep(shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                joined = state.tasks.join_next_with_id() => match joined {
                    Some(joined) => state.finished(joined),
                    None => break,
                },
                _ = &mut grace => {
                    tracing::warn!(
                        abandoned = state.tasks.len(),
                        "polls still running after the shutdown grace period are abandoned"
                    );
                    break;
                }
            }
        }
        // Aborted tasks stop at their next await; store writes are never
        // awaited, so none is cut in half. Waiting for them here means no
        // poll touches the store once `run` has returned.
        state.tasks.shutdown().await;
        state.release_abandoned();
        state.running.clear();
        state.update_gauge();
        Ok(())
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // Every write is its own transaction: a poisoned lock is still usable.
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// One source on the schedule.
struct Entry {
    source: Source,
    next: Instant,
    in_flight: bool,
}

/// What a poll task hands back.
struct Done {
    report: SourceReport,
    next: NextPoll,
}

/// A poll task's source and when it started.
struct Running {
    source: Source,
    started: Instant,
}

struct State {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    poller: Arc<Poller>,
    store: Arc<Mutex<Store>>,
    /// Enabled sources in config order.
    entries: Vec<Entry>,
    running: HashMap<TaskId, Running>,
    tasks: JoinSet<Done>,
    hooks: Hooks,
    gauge: QueueGauge,
    /// Set when the store shares sources out by leases.
    shared: Option<Shared>,
}

/// A poller's part in a shared store's leases.
struct Shared {
    holder: String,
    next_claim: Instant,
    next_renew: Instant,
}

impl State {
    /// Puts every enabled source of the configuration on the schedule,
    /// keeping the next run of those already on it.
    fn adopt_sources(&mut self) {
        let mut old: HashMap<String, Entry> = self
            .entries
            .drain(..)
            .map(|e| (e.source.id.clone(), e))
            .collect();
        let enabled: Vec<Source> = self
            .config
            .sources
            .iter()
            .filter(|s| s.enabled)
            .cloned()
            .collect();
        for source in enabled {
            let entry = match old.remove(&source.id) {
                Some(mut e) => {
                    // A changed interval applies from the next reschedule.
                    e.source = source;
                    e
                }
                None => Entry {
                    next: self.first_run(&source),
                    source,
                    in_flight: false,
                },
            };
            self.entries.push(entry);
        }
        for id in old.keys() {
            tracing::info!(source = %id, "source removed from the schedule");
        }
        self.update_gauge();
    }

    /// When a source new to the scheduler first runs: when the store says
    /// it is due, or soon (spread by the jitter) when overdue or never
    /// polled.
    fn first_run(&self, source: &Source) -> Instant {
        let now = Instant::now();
        let due = match lock(&self.store).next_due(&source.id) {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(source = %source.id, "reading next_due_at: {e}");
                None
            }
        };
        let wait = due.and_then(|at| (at.with_timezone(&Utc) - Utc::now()).to_std().ok());
        match wait {
            Some(wait) if !wait.is_zero() => now + wait,
            _ => now + policy::startup_delay(source, &self.config.schedule, rand::random::<f64>()),
        }
    }

    /// Starts the due sources, earliest first, while slots are free: due
    /// by the local schedule, or as claimed from a shared store.
    fn start_due(&mut self) {
        if self.shared.is_some() {
            self.start_claimed();
            return;
        }
        let now = Instant::now();
        let limit = self.config.poll.concurrency.max(1);
        let mut due: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !self.entries[i].in_flight && self.entries[i].next <= now)
            .collect();
        due.sort_by_key(|&i| self.entries[i].next);
        for i in due {
            if self.tasks.len() >= limit {
                break;
            }
            self.start(i, now);
        }
        self.update_gauge();
    }

    /// Claims as many due sources as there are free slots from the shared
    /// store, at most once a [`CLAIM_EVERY`], and starts them.
    fn start_claimed(&mut self) {
        let now = Instant::now();
        let free = self
            .config
            .poll
            .concurrency
            .max(1)
            .saturating_sub(self.tasks.len());
        let Some(shared) = &mut self.shared else {
            return;
        };
        if free == 0 || now < shared.next_claim {
            return;
        }
        let among: Vec<String> = self
            .entries
            .iter()
            .filter(|e| !e.in_flight)
            .map(|e| e.source.id.clone())
            .collect();
        let lease = self.config.schedule.lease;
        let claimed = {
            let mut store = lock(&self.store);
            match store.leases() {
                Some(leases) => leases.claim_due(&shared.holder, Utc::now(), lease, free, &among),
                None => Ok(Vec::new()),
            }
        };
        let claimed = match claimed {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "claiming due sources");
                shared.next_claim = now + CLAIM_RETRY;
                return;
            }
        };
        // A full batch says more may be due: claim again as soon as a slot
        // frees. Otherwise the queue is empty for now: ask in a while.
        shared.next_claim = if claimed.len() >= free {
            now
        } else {
            now + CLAIM_EVERY
        };
        for id in claimed {
            match self.entries.iter().position(|e| e.source.id == id) {
                Some(i) => self.start(i, now),
                // Claimed among this configuration's sources, so only a
                // reload in between gets here: give it back at once.
                None => self.release(&id, Utc::now()),
            }
        }
        self.update_gauge();
    }

    /// Renews the leases of the polls in flight, every third of a lease.
    fn renew_leases(&mut self) {
        let now = Instant::now();
        let lease = self.config.schedule.lease;
        let Some(shared) = &mut self.shared else {
            return;
        };
        if now < shared.next_renew {
            return;
        }
        shared.next_renew = now + lease / 3;
        let mut store = lock(&self.store);
        let Some(leases) = store.leases() else {
            return;
        };
        for running in self.running.values() {
            match leases.renew(&shared.holder, &running.source.id, Utc::now(), lease) {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    source = %running.source.id,
                    "another poller took this source over: its lease had lapsed"
                ),
                Err(e) => {
                    tracing::warn!(source = %running.source.id, error = %e, "renewing a lease")
                }
            }
        }
    }

    /// Gives a claimed source back to the shared store, due at `next_due`.
    fn release(&mut self, source_id: &str, next_due: chrono::DateTime<Utc>) {
        let Some(shared) = &self.shared else {
            return;
        };
        let mut store = lock(&self.store);
        let Some(leases) = store.leases() else {
            return;
        };
        match leases.release(&shared.holder, source_id, next_due) {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                source = %source_id,
                "the lease had passed to another poller before this poll ended"
            ),
            Err(e) => tracing::warn!(source = %source_id, error = %e, "releasing a lease"),
        }
    }

    /// On shutdown, the sources of abandoned polls go back due at once,
    /// rather than waiting out their leases.
    fn release_abandoned(&mut self) {
        let ids: Vec<String> = self.running.values().map(|r| r.source.id.clone()).collect();
        for id in ids {
            self.release(&id, Utc::now());
        }
    }

    /// Starts polling the source of entry `i`.
    fn start(&mut self, i: usize, now: Instant) {
        let entry = &mut self.entries[i];
        entry.in_flight = true;
        let source = entry.source.clone();
        let poller = self.poller.clone();
        let unit = rand::random::<f64>();
        let task_source = source.clone();
        let handle = self.tasks.spawn(async move {
            let (report, next) = poller.poll_source_with(&task_source, unit).await;
            Done { report, next }
        });
        tracing::debug!(source = %source.id, "polling");
        self.running.insert(
            handle.id(),
            Running {
                source,
                started: now,
            },
        );
    }

    /// When the loop must wake to start a source: never while every slot
    /// is taken (a finishing poll wakes it).
    fn next_wake(&self) -> Option<Instant> {
        let full = self.tasks.len() >= self.config.poll.concurrency.max(1);
        if let Some(shared) = &self.shared {
            let renew = (!self.running.is_empty()).then_some(shared.next_renew);
            let claim = (!full).then_some(shared.next_claim);
            return renew.into_iter().chain(claim).min();
        }
        if full {
            return None;
        }
        self.entries
            .iter()
            .filter(|e| !e.in_flight)
            .map(|e| e.next)
            .min()
    }

    /// A poll task ended: reschedule its source and tell the hook.
    fn finished(&mut self, joined: Result<(TaskId, Done), tokio::task::JoinError>) {
        let (id, report, delay) = match joined {
            Ok((id, done)) => (id, done.report, done.next.delay),
            Err(e) => {
                let id = e.id();
                let Some(running) = self.running.get(&id) else {
                    return;
                };
                // Never drop a source silently: a poll that panicked counts
                // as a failure and is retried after the interval.
                let source = &running.source;
                tracing::error!(source = %source.id, "poll task failed: {e}");
                let report = SourceReport {
                    error: Some(format!("the poll stopped unexpectedly: {e}")),
                    ..SourceReport::new(source, PollStatus::Failed)
                };
                let delay = policy::jittered(
                    source.interval,
                    self.config.schedule.jitter,
                    rand::random::<f64>(),
                );
                (id, report, delay)
            }
        };
        let Some(running) = self.running.remove(&id) else {
            return;
        };
        if self.shared.is_some() {
            // The policy's delays are bounded (max_interval, backoff_max):
            // a week covers them and cannot overflow.
            let left = delay
                .saturating_sub(running.started.elapsed())
                .min(Duration::from_secs(7 * 24 * 3600));
            let next_due = Utc::now() + chrono::Duration::from_std(left).unwrap_or_default();
            self.release(&running.source.id, next_due);
        }
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.source.id == running.source.id)
        {
            entry.in_flight = false;
            entry.next = running.started + delay;
        }
        tracing::debug!(
            source = %report.id,
            status = report.status.as_str(),
            new = report.new,
            next_in = ?delay,
            "polled"
        );
        self.update_gauge();
        if let Some(hook) = &self.hooks.on_polled {
            hook(&report);
        }
    }

    /// Takes a new configuration. The fetcher is kept unless `[poll]`
    /// changed, so per-host limits stay global across reloads.
    fn reload(&mut self, config: Arc<Config>) {
        if !same_fetcher_settings(&self.config.poll, &config.poll) {
            match fetcher_for(&config.poll, &self.store) {
                Ok(f) => self.fetcher = Arc::new(f),
                Err(e) => {
                    tracing::error!("new configuration not applied: {e}");
                    return;
                }
            }
        }
        if let Err(e) = lock(&self.store).sync_sources(&config.sources) {
            tracing::warn!("recording the configured sources: {e}");
        }
        self.poller = Arc::new(Poller::new(
            config.clone(),
            self.fetcher.clone(),
            self.store.clone(),
        ));
        self.config = config;
        self.adopt_sources();
        tracing::info!(sources = self.entries.len(), "configuration reloaded");
    }

    fn update_gauge(&self) {
        let now = Instant::now();
        let idle = self.entries.iter().filter(|e| !e.in_flight);
        let due = idle.clone().filter(|e| e.next <= now).count();
        self.gauge.set(QueueStats {
            sources: self.entries.len(),
            due,
            in_flight: self.tasks.len(),
            waiting: idle.count() - due,
        });
    }
}

/// The poll's fetcher; on a store shared with other pollers it takes its
/// turns at each host through the store, so `poll.host_delay` holds for
/// all pollers together.
fn fetcher_for(poll: &Poll, store: &Arc<Mutex<Store>>) -> Result<Fetcher, FetchError> {
    let fetcher = Fetcher::new(poll)?;
    Ok(if lock(store).leases().is_some() {
        fetcher.with_host_turns(Arc::new(StoreHostTurns(store.clone())))
    } else {
        fetcher
    })
}

/// `poll.host_delay` shared through the store's host budgets.
struct StoreHostTurns(Arc<Mutex<Store>>);

impl HostTurns for StoreHostTurns {
    fn take_turn(&self, host: &str, delay: Duration) -> Option<Duration> {
        let mut store = lock(&self.0);
        let leases = store.leases()?;
        match leases.take_host_turn(host, Utc::now(), delay) {
            Ok(None) => None,
            // Never a busy loop, even with clocks a little apart.
            Ok(Some(until)) => Some(
                (until - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .max(Duration::from_millis(10)),
            ),
            Err(e) => {
                tracing::warn!(%host, error = %e, "taking a turn at a host; going by the local delay");
                None
            }
        }
    }
}

/// Whether a fetcher built for `a` behaves as one built for `b`.
fn same_fetcher_settings(a: &Poll, b: &Poll) -> bool {
    a.timeout == b.timeout
        && a.max_body == b.max_body
        && a.concurrency == b.concurrency
        && a.per_host == b.per_host
        && a.user_agent == b.user_agent
        && a.allow_private == b.allow_private
        && a.max_redirects == b.max_redirects
        && a.host_delay == b.host_delay
}
