//! The scheduling policy: how long to wait before polling a source again.
//! It lives with the poller because every poll, cron's included, records
//! its decision in the store; the daemon ([`crate::schedule`]) reads the
//! same policy to order its queue.
//!
//! Pure functions of the source, the `[schedule]` settings and what the last
//! poll did; the only randomness (jitter) comes in as a number the caller
//! draws, so every formula is testable as is.
//!
//! After a **success** (`ok`, `partial`, `not-modified`):
//!
//! ```text
//! rate     = WEEK / max(new_last_week, 1) / 2          (poll twice per average gap)
//! adaptive = clamp(rate, min_interval, max_interval)
//! base     = max(interval, adaptive)   if schedule.adaptive, else interval
//! ```
//!
//! `new_last_week` counts the items first seen on the source in the last
//! seven days (the poll that just ran included). Adaptation only ever
//! lengthens the configured `interval`: a rarely publishing outlet is polled
//! less often, at most every `max_interval` (unless its own `interval` is
//! longer still); a busy one keeps its configured `interval`.
//!
//! After the **n-th failure in a row** (n ≥ 1):
//!
//! ```text
//! base = min(interval × 2^(n-1), max(backoff_max, interval))
//! ```
//!
//! so a failing source is retried after 1×, 2×, 4× … its interval, never
//! later than `backoff_max` and never sooner than its interval. The first
//! success resets n to 0.
//!
//! **Jitter**: the delay is `base × f`, `f` uniform in
//! `[1 - jitter, 1 + jitter]`, so sources with one interval drift apart.
//!
//! **Retry-After** (a 429 or 503 that said how long to wait): the delay is
//! at least that long, honoured even beyond `backoff_max` but capped at
//! seven days, since a far-future date is more likely a server mistake than
//! a wish.

use std::time::Duration;

use super::{PollStatus, SourceReport};
use crate::config::{Schedule, Source};

/// Seven days: the window the publishing rate is measured over.
pub const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

/// The longest `Retry-After` honoured.
pub const RETRY_AFTER_CAP: Duration = WEEK;

/// What the policy needs to know about the poll that just ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Failures in a row, this poll included; 0 after a success.
    pub consecutive_failures: u32,
    /// Items first seen on the source in the last [`WEEK`], this poll's
    /// new items included.
    pub new_last_week: u64,
    /// How long the outlet asked us to wait, if it did.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    /// The outcome of `report`, given the failures in a row recorded before
    /// it and the items seen in the last week.
    pub fn of(report: &SourceReport, failures_before: u32, new_last_week: u64) -> Outcome {
        let failed = is_failure(report.status);
        Outcome {
            consecutive_failures: if failed {
                failures_before.saturating_add(1)
            } else {
                0
            },
            new_last_week,
            retry_after: report.retry_after_secs.map(Duration::from_secs),
        }
    }
}

/// Whether a poll with this status counts as a failure (the store counts
/// it in `consecutive_failures`).
pub fn is_failure(status: PollStatus) -> bool {
    matches!(status, PollStatus::Failed | PollStatus::NotDue)
}

/// The interval a healthy source is polled at, before jitter.
pub fn base_interval(source: &Source, schedule: &Schedule, new_last_week: u64) -> Duration {
    if !schedule.adaptive {
        return source.interval;
    }
    source
        .interval
        .max(adaptive_interval(schedule, new_last_week))
}

/// The interval the publishing rate alone suggests:
/// `clamp(WEEK / max(n, 1) / 2, min_interval, max_interval)`.
pub fn adaptive_interval(schedule: &Schedule, new_last_week: u64) -> Duration {
    let n = new_last_week.clamp(1, u32::MAX as u64) as u32;
    let rate = WEEK / n / 2;
    let (lo, hi) = (
        schedule.min_interval,
        schedule.max_interval.max(schedule.min_interval),
    );
    rate.clamp(lo, hi)
}

/// The wait after the `failures`-th failure in a row (≥ 1):
/// `min(interval × 2^(failures-1), max(backoff_max, interval))`.
pub fn backoff(interval: Duration, failures: u32, backoff_max: Duration) -> Duration {
    let cap = backoff_max.max(interval);
    2u32.checked_pow(failures.saturating_sub(1))
        .and_then(|factor| interval.checked_mul(factor))
        .map_or(cap, |d| d.min(cap))
}

/// `d` moved by the jitter: `d × (1 - jitter + 2 × jitter × unit)`, with
/// `unit` uniform in `[0, 1]` and `jitter` in `[0, 1]`.
pub fn jittered(d: Duration, jitter: f64, unit: f64) -> Duration {
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    d.mul_f64(1.0 - jitter + 2.0 * jitter * unit)
}

/// How long to wait before polling `source` again. `unit` is a uniform
/// draw from `[0, 1]` for the jitter.
pub fn next_delay(source: &Source, schedule: &Schedule, outcome: &Outcome, unit: f64) -> Duration {
    let base = if outcome.consecutive_failures > 0 {
        backoff(
            source.interval,
            outcome.consecutive_failures,
            schedule.backoff_max,
        )
    } else {
        base_interval(source, schedule, outcome.new_last_week)
    };
    let delay = jittered(base, schedule.jitter, unit);
    match outcome.retry_after {
        Some(wait) => delay.max(wait.min(RETRY_AFTER_CAP)),
        None => delay,
    }
}

/// When a source that is overdue (or was never polled) first runs after the
/// daemon starts or learns of it: spread over `min(interval × jitter, 5 min)`
/// so that a restart does not fire every source at once.
pub fn startup_delay(source: &Source, schedule: &Schedule, unit: f64) -> Duration {
    let spread = source
        .interval
        .mul_f64(schedule.jitter.clamp(0.0, 1.0))
        .min(STARTUP_SPREAD_MAX);
    spread.mul_f64(unit.clamp(0.0, 1.0))
}

/// The longest a due source waits at startup.
pub const STARTUP_SPREAD_MAX: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EncodingChoice, SourceKind};

    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);

    fn source(interval: Duration) -> Source {
        Source {
            id: "s".into(),
            name: "S".into(),
            url: url::Url::parse("http://example.org/").expect("url"),
            kind: SourceKind::Feed,
            encoding: EncodingChoice::Auto,
            interval,
            region: None,
            section: None,
            enabled: true,
            list: None,
            json: None,
            article: None,
        }
    }

    fn schedule() -> Schedule {
        Schedule {
            adaptive: true,
            min_interval: 5 * MIN,
            max_interval: 24 * HOUR,
            jitter: 0.1,
            backoff_max: 12 * HOUR,
            lease: 2 * MIN,
        }
    }

    fn ok(new_last_week: u64) -> Outcome {
        Outcome {
            consecutive_failures: 0,
            new_last_week,
            retry_after: None,
        }
    }

    fn failed(n: u32) -> Outcome {
        Outcome {
            consecutive_failures: n,
            new_last_week: 0,
            retry_after: None,
        }
    }

    #[test]
    fn without_adaptation_the_interval_is_the_configured_one() {
        let sc = Schedule {
            adaptive: false,
            ..schedule()
        };
        assert_eq!(base_interval(&source(30 * MIN), &sc, 0), 30 * MIN);
        assert_eq!(base_interval(&source(30 * MIN), &sc, 10_000), 30 * MIN);
    }

    #[test]
    fn adaptive_interval_is_half_the_average_gap_between_items_clamped() {
        let sc = schedule();
        // 14 items a week: one every 12 h, polled every 6 h.
        assert_eq!(adaptive_interval(&sc, 14), 6 * HOUR);
        // Nothing for a week: as rarely as allowed.
        assert_eq!(adaptive_interval(&sc, 0), 24 * HOUR);
        // A flood: as often as allowed.
        assert_eq!(adaptive_interval(&sc, 100_000), 5 * MIN);
    }

    #[test]
    fn a_quiet_source_is_polled_less_often_than_a_busy_one_but_never_beyond_max_interval() {
        let sc = schedule();
        let s = source(30 * MIN);
        let quiet = base_interval(&s, &sc, 0);
        let busy = base_interval(&s, &sc, 2_000);
        assert!(quiet > busy, "{quiet:?} vs {busy:?}");
        assert_eq!(quiet, sc.max_interval);
        // Adaptation never polls more often than the source asks.
        assert_eq!(busy, 30 * MIN);
        // A configured interval longer than max_interval is kept.
        assert_eq!(base_interval(&source(48 * HOUR), &sc, 0), 48 * HOUR);
    }

    #[test]
    fn jitter_stays_within_its_bounds_over_many_draws() {
        use rand::RngExt;
        let mut rng = rand::rng();
        let base = 30 * MIN;
        let (lo, hi) = (base.mul_f64(0.9), base.mul_f64(1.1));
        let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
        for _ in 0..10_000 {
            let d = jittered(base, 0.1, rng.random::<f64>());
            assert!(d >= lo && d <= hi, "{d:?}");
            min = min.min(d);
            max = max.max(d);
        }
        // The draws use the whole range, not one point of it.
        assert!(min < base.mul_f64(0.92) && max > base.mul_f64(1.08));
        assert_eq!(jittered(base, 0.1, 0.0), lo);
        assert_eq!(jittered(base, 0.1, 1.0), hi);
        assert_eq!(jittered(base, 0.0, 0.73), base);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_backoff_max() {
        let sc = Schedule {
            jitter: 0.0,
            backoff_max: 3 * HOUR,
            ..schedule()
        };
        let s = source(30 * MIN);
        let delays: Vec<_> = (1..=6)
            .map(|n| next_delay(&s, &sc, &failed(n), 0.5))
            .collect();
        assert_eq!(
            delays,
            [30 * MIN, 60 * MIN, 120 * MIN, 3 * HOUR, 3 * HOUR, 3 * HOUR]
        );
        assert_eq!(backoff(30 * MIN, u32::MAX, 3 * HOUR), 3 * HOUR);
        // A success resets: back to the (adaptive) interval.
        assert_eq!(next_delay(&s, &sc, &ok(2_000), 0.5), 30 * MIN);
    }

    #[test]
    fn backoff_never_polls_a_failing_source_more_often_than_its_interval() {
        assert_eq!(backoff(48 * HOUR, 1, 12 * HOUR), 48 * HOUR);
        assert_eq!(backoff(48 * HOUR, 5, 12 * HOUR), 48 * HOUR);
    }

    #[test]
    fn retry_after_is_honoured_even_beyond_backoff_max_up_to_a_week() {
        let sc = Schedule {
            jitter: 0.1,
            ..schedule()
        };
        let s = source(30 * MIN);
        let wait = |secs| Outcome {
            retry_after: Some(Duration::from_secs(secs)),
            ..failed(1)
        };
        // Jitter never makes it sooner than asked.
        assert_eq!(next_delay(&s, &sc, &wait(7200), 0.0), 2 * HOUR);
        assert_eq!(next_delay(&s, &sc, &wait(20 * 3600), 0.0), 20 * HOUR);
        assert_eq!(next_delay(&s, &sc, &wait(30 * 24 * 3600), 0.0), WEEK);
        // A short Retry-After does not shorten the backoff.
        assert_eq!(next_delay(&s, &sc, &wait(10), 0.0), 27 * MIN);
    }

    fn report(s: &Source, status: PollStatus) -> SourceReport {
        SourceReport::new(s, status)
    }

    #[test]
    fn outcome_counts_this_failure_and_resets_on_success() {
        let s = source(30 * MIN);
        let mut r = report(&s, PollStatus::Failed);
        r.retry_after_secs = Some(60);
        let o = Outcome::of(&r, 2, 5);
        assert_eq!(o.consecutive_failures, 3);
        assert_eq!(o.retry_after, Some(MIN));
        for status in [PollStatus::Ok, PollStatus::Partial, PollStatus::NotModified] {
            let r = report(&s, status);
            assert_eq!(Outcome::of(&r, 4, 5).consecutive_failures, 0);
        }
    }

    #[test]
    fn overdue_sources_are_spread_over_a_few_minutes_at_startup() {
        let sc = schedule();
        assert_eq!(startup_delay(&source(30 * MIN), &sc, 0.0), Duration::ZERO);
        assert_eq!(startup_delay(&source(30 * MIN), &sc, 1.0), 3 * MIN);
        assert_eq!(
            startup_delay(&source(24 * HOUR), &sc, 1.0),
            STARTUP_SPREAD_MAX
        );
    }
}
