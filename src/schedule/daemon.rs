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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::{Id as TaskId, JoinSet};
use tokio::time::Instant;

use crate::config::{Config, Poll, Source};
use crate::fetch::{FetchError, Fetcher};
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
        }
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
        } = self;
        let config = config_rx.borrow_and_update().clone();
        let fetcher = Arc::new(Fetcher::new(&config.poll)?);
        lock(&store).sync_sources(&config.sources)?;
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
        };
        state.adopt_sources();
        let mut reloads_open = true;

        loop {
            if *shutdown.borrow() {
                break;
            }
            state.start_due();
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

    /// Starts the due sources, earliest first, while slots are free.
    fn start_due(&mut self) {
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
        self.update_gauge();
    }

    /// When the loop must wake to start a source: never while every slot
    /// is taken (a finishing poll wakes it).
    fn next_wake(&self) -> Option<Instant> {
        if self.tasks.len() >= self.config.poll.concurrency.max(1) {
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
            match Fetcher::new(&config.poll) {
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
