//! The login limiter of the desk: counts failed logins per account and per
//! client address over a sliding window and refuses further attempts once
//! either count is reached, before any password is checked. Beside it, the
//! [`HashBudget`] caps the password hashes of all users together.
//!
//! It lives in memory, in the daemon. Only `kuaibao serve` checks
//! passwords (the CLI manages users but never logs anyone in), so there is
//! no other process to share counts with; and writing each failure to
//! SQLite would let a password guesser turn its guesses into writes that
//! contend with the poller for the database's single writer. What is lost
//! is the count across a restart, which an attacker cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::AccountError;

/// How many failed logins are allowed in how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Failures for one account name within `window`.
    pub account_failures: usize,
    /// Failures from one client address within `window`, whatever the
    /// names: one guesser trying many accounts.
    pub address_failures: usize,
    pub window: Duration,
}

impl Default for LimiterConfig {
    fn default() -> LimiterConfig {
        LimiterConfig {
            account_failures: 5,
            address_failures: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Failed-login counts, shared by all of the desk's requests (put it in an
/// `Arc`). The clock is injectable so that tests can pass the window.
pub struct LoginLimiter {
    config: LimiterConfig,
    clock: Clock,
    state: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    accounts: HashMap<String, VecDeque<DateTime<Utc>>>,
    addresses: HashMap<String, VecDeque<DateTime<Utc>>>,
    /// Map size at which stale keys are next swept out.
    sweep_at: usize,
}

/// Names longer than any valid one are counted under their first
/// characters, so that a guesser cannot make the map hold megabytes.
const KEY_CHARS: usize = super::users::MAX_NAME_CHARS + 1;
const MIN_SWEEP: usize = 1024;

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for LoginLimiter {
    fn default() -> LoginLimiter {
        LoginLimiter::new(LimiterConfig::default())
    }
}

impl LoginLimiter {
    pub fn new(config: LimiterConfig) -> LoginLimiter {
        LoginLimiter::with_clock(config, Utc::now)
    }

    /// A limiter that reads the time from `clock` (tests).
    pub fn with_clock(
        config: LimiterConfig,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> LoginLimiter {
        LoginLimiter {
            config,
            clock: Arc::new(clock),
            state: Mutex::new(Failures::default()),
        }
    }

    pub fn config(&self) -> &LimiterConfig {
        &self.config
    }

    /// The limiter's time; logins also date their sessions by it.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Whether an attempt for `name` from `address` would be refused now,
    /// without counting it: the desk asks before it spends a password hash
    /// from the [`HashBudget`] on an attempt the limiter turns away.
    pub fn check(&self, name: &str, address: &str) -> Result<(), AccountError> {
        let now = self.now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.refusal(&mut state, &key(name), address, now)
    }

    /// Admits one attempt or refuses it. An admitted attempt is counted as
    /// a failure at once and taken back by [`LoginLimiter::succeeded`]:
    /// concurrent guesses are then limited too, not only sequential ones.
    pub(super) fn begin(
        &self,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.sweep(now, self.window());
        let name = key(name);
        self.refusal(&mut state, &name, address, now)?;
        state.accounts.entry(name).or_default().push_back(now);
        if !address.is_empty() {
            state
                .addresses
                .entry(address.to_string())
                .or_default()
                .push_back(now);
        }
        Ok(())
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::from_std(self.config.window).unwrap_or(TimeDelta::MAX)
    }

    /// `RateLimited` when either count for this attempt is at its limit.
    fn refusal(
        &self,
        state: &mut Failures,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let window = self.window();
        let mut wait = over_limit(
            state.accounts.get_mut(name),
            self.config.account_failures,
            now,
            window,
        );
        // An unknown address (the desk could not tell) is not limited on
        // its own: all such clients would share one count and lock out each
        // other. The per-account limit still holds for them.
        if !address.is_empty()
            && let Some(w) = over_limit(
                state.addresses.get_mut(address),
                self.config.address_failures,
                now,
                window,
            )
        {
            wait = Some(wait.map_or(w, |v: TimeDelta| v.max(w)));
        }
        match wait {
            None => Ok(()),
            Some(wait) => {
                let ms = wait.num_milliseconds().max(0) as u64;
                Err(AccountError::RateLimited {
                    retry_after_secs: ms.div_ceil(1000).max(1),
                })
            }
        }
    }

    /// The attempt admitted at `at` logged in: the account starts afresh,
    /// and the address loses that one provisional failure (its other
    /// failures stand: they may have been against other accounts).
    pub(super) fn succeeded(&self, name: &str, address: &str, at: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.accounts.remove(&key(name));
        if let Some(times) = state.addresses.get_mut(address)
            && let Some(i) = times.iter().rposition(|t| *t == at)
        {
            times.remove(i);
        }
    }
}

/// A token bucket of password hashes per second, shared by everything on
/// the desk that hashes a password. Argon2id costs ~19 MiB and tens of
/// milliseconds per hash on purpose; without a cap, attempts under many
/// names from many addresses (none of them over its own limit) would buy
/// that cost as fast as they can send forms. Over the cap an attempt is
/// refused at once, never queued, with the time until the next token.
#[derive(Debug)]
pub struct HashBudget {
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    per_second: u32,
    tokens: f64,
    at: std::time::Instant,
}

impl HashBudget {
    /// `per_second` hashes a second, in bursts of up to one second's worth
    /// (0 is taken as 1: a cap of none would lock every editor out).
    pub fn new(per_second: u32) -> HashBudget {
        let per_second = per_second.max(1);
        HashBudget {
            bucket: Mutex::new(Bucket {
                per_second,
                tokens: f64::from(per_second),
                at: std::time::Instant::now(),
            }),
        }
    }

    /// A reloaded configuration's rate; the tokens saved so far stay.
    pub fn set_rate(&self, per_second: u32) {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        b.per_second = per_second.max(1);
        b.tokens = b.tokens.min(f64::from(b.per_second));
    }

    /// Takes one hash, or says how long until one is free
    /// ([`AccountError::Busy`]).
    pub fn take(&self) -> Result<(), AccountError> {
        self.take_at(std::time::Instant::now())
    }

    fn take_at(&self, now: std::time::Instant) -> Result<(), AccountError> {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let rate = f64::from(b.per_second);
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - b.tokens) / rate;
        Err(AccountError::Busy {
            retry_after_secs: (wait.ceil() as u64).max(1),
        })
    }
}

fn key(name: &str) -> String {
    name.chars().take(KEY_CHARS).collect()
}

/// How long until the count in `times` is below `limit` again, if it is not
/// now. Drops the failures that have left the window.
fn over_limit(
    times: Option<&mut VecDeque<DateTime<Utc>>>,
    limit: usize,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Option<TimeDelta> {
    let times = times?;
    let limit = limit.max(1);
    prune(times, now, window);
    if times.len() < limit {
        return None;
    }
    // The oldest failures leave first; the one that brings the count below
    // the limit is the (len - limit + 1)-th oldest.
    let freeing = times.get(times.len() - limit)?;
    Some(*freeing + window - now)
}

fn prune(times: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>, window: TimeDelta) {
    while times.front().is_some_and(|t| *t + window <= now) {
        times.pop_front();
    }
}

impl Failures {
    /// Forgets keys whose failures have all left the window, whenever the
    /// maps have doubled since the last sweep: the memory stays bounded by
    /// the failures of one window.
    fn sweep(&mut self, now: DateTime<Utc>, window: TimeDelta) {
        if self.accounts.len() + self.addresses.len() < self.sweep_at.max(MIN_SWEEP) {
            return;
        }
        for map in [&mut self.accounts, &mut self.addresses] {
            map.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        self.sweep_at = 2 * (self.accounts.len() + self.addresses.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn limiter(config: LimiterConfig) -> (LoginLimiter, Arc<AtomicI64>) {
        let secs = Arc::new(AtomicI64::new(1_750_000_000));
        let clock = secs.clone();
        let limiter = LoginLimiter::with_clock(config, move || {
            DateTime::from_timestamp(clock.load(Ordering::SeqCst), 0).unwrap_or_default()
        });
        (limiter, secs)
    }

    #[test]
    fn accounts_limiter_sliding_window_frees_one_slot_at_a_time() {
        let (l, secs) = limiter(LimiterConfig {
            account_failures: 2,
            address_failures: 100,
            window: Duration::from_secs(60),
        });
        l.begin("a", "x", l.now()).expect("first");
        secs.fetch_add(30, Ordering::SeqCst);
        l.begin("a", "x", l.now()).expect("second");
        match l.begin("a", "x", l.now()) {
            Err(AccountError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 30),
            other => panic!("expected a refusal, got {other:?}"),
        }
        secs.fetch_add(30, Ordering::SeqCst);
        l.begin("a", "x", l.now())
            .expect("the first failure has left the window");
        assert!(l.begin("a", "x", l.now()).is_err());
    }

    #[test]
    fn accounts_limiter_success_clears_the_account_only() {
        let (l, _) = limiter(LimiterConfig {
            account_failures: 2,
            address_failures: 3,
            window: Duration::from_secs(60),
        });
        let now = l.now();
        l.begin("a", "x", now).expect("1");
        l.begin("b", "x", now).expect("2");
        l.begin("a", "x", now).expect("3");
        l.succeeded("a", "x", now);
        l.begin("a", "x", now).expect("account a starts afresh");
        assert!(l.begin("c", "x", now).is_err(), "three failures from x");
        l.begin("c", "y", now).expect("another address");
    }

    #[test]
    fn accounts_limiter_check_refuses_like_begin_without_counting() {
        let (l, _) = limiter(LimiterConfig {
            account_failures: 2,
            address_failures: 100,
            window: Duration::from_secs(60),
        });
        l.check("a", "x").expect("nothing counted yet");
        l.check("a", "x").expect("checking counts nothing");
        l.begin("a", "x", l.now()).expect("first");
        l.begin("a", "x", l.now()).expect("second");
        assert!(matches!(
            l.check("a", "x"),
            Err(AccountError::RateLimited { .. })
        ));
    }

    #[test]
    fn accounts_hash_budget_allows_a_seconds_burst_then_refuses_until_a_token_returns() {
        let budget = HashBudget::new(4);
        let start = std::time::Instant::now();
        for _ in 0..4 {
            budget.take_at(start).expect("within the burst");
        }
        match budget.take_at(start) {
            Err(AccountError::Busy { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected Busy, got {other:?}"),
        }
        let later = start + Duration::from_millis(250);
        budget
            .take_at(later)
            .expect("a quarter second buys one hash at 4/s");
        assert!(budget.take_at(later).is_err());
    }

    #[test]
    fn accounts_limiter_sweeps_stale_keys() {
        let (l, secs) = limiter(LimiterConfig::default());
        for i in 0..MIN_SWEEP {
            l.begin(&format!("n{i}"), "", l.now()).expect("admitted");
        }
        secs.fetch_add(3600, Ordering::SeqCst);
        l.begin("late", "", l.now()).expect("admitted");
        let state = l.state.lock().expect("lock");
        assert_eq!(state.accounts.len(), 1);
    }
}
