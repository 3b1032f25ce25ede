//! Schedule: when each source is polled, for the daemon (`kuaibao serve`)
//! and for `kuaibao poll` alike.
//!
//! [`policy`] decides the delay until a source's next poll (its interval,
//! adapted to how often it publishes, moved by jitter, backed off after
//! failures, held back by Retry-After); [`daemon`] keeps every enabled
//! source on that schedule until shut down.

pub mod daemon;
pub mod policy;

pub use daemon::{
    DEFAULT_SHUTDOWN_GRACE, Hooks, OnPolled, QueueGauge, QueueStats, ScheduleError, Scheduler,
};
