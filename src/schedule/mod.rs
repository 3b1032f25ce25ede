//! Schedule, layer 5 (orchestration, above poll): drives the poller in the
//! daemon (`kuaibao serve`), source by source.
//!
//! [`crate::poll::policy`] decides the delay until a source's next poll (its
//! interval, adapted to how often it publishes, moved by jitter, backed off
//! after failures, held back by Retry-After) for the daemon and for
//! `kuaibao poll` alike; [`daemon`] keeps every enabled source on that
//! schedule until shut down.

pub mod daemon;

pub use daemon::{
    DEFAULT_SHUTDOWN_GRACE, Hooks, OnPolled, QueueGauge, QueueStats, ScheduleError, Scheduler,
};
