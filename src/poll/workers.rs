//! Parsing threads, part of the poll (orchestration) layer: a fixed set of
//! threads that extract, normalize and classify the pages a poll fetched,
//! away from the runtime's threads that fetch and serve.
//!
//! Not tokio's blocking pool: every `spawn_blocking` takes that pool's one
//! lock, and with a hop per item a first poll of 20,000 items spent its
//! time handing work over — 24,000 `sched_yield` calls spinning on that
//! lock, and parked threads woken for each item (a profile of
//! `benches/pipeline.rs`, 1,000 × 20). Here a job is a message on a channel
//! to threads that are always there.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// The threads, and the channel that feeds them; they end when this is
/// dropped (their channel closes).
pub(super) struct Workers {
    /// None when not one thread could be started: then tokio's blocking
    /// pool does the work.
    jobs: Option<mpsc::Sender<Job>>,
}

impl Workers {
    /// Starts `n` threads (at least one), or as many as the system allows.
    pub(super) fn start(n: usize) -> Workers {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for i in 0..n.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kuaibao-parse-{i}"))
                .spawn(move || {
                    loop {
                        // One thread waits on the channel, the others on
                        // the lock; a poisoned lock cannot happen (nothing
                        // runs under it but `recv`).
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => {
                    tracing::warn!("poll: started {started} of {n} parsing threads: {e}");
                    break;
                }
            }
        }
        Workers {
            jobs: (started > 0).then_some(jobs),
        }
    }

    /// Runs `work` on one of the threads. A panic there (a bug, ours or a
    /// library's, on some outlet's markup) becomes an error for this one
    /// piece of work; the thread goes on.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        // A current-thread runtime (the tests') may run a paused clock,
        // which jumps ahead whenever its tasks wait, unless blocking-pool
        // work is in flight: work on these threads would let simulated
        // time pass it by. The contention these threads avoid is the
        // multi-thread runtime's.
        let current_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        let jobs = match &self.jobs {
            Some(jobs) if !current_thread => jobs,
            _ => {
                return tokio::task::spawn_blocking(work)
                    .await
                    .map_err(|e| format!("reading the page failed: {e}"));
            }
        };
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(work));
            // The asker may have gone (its pass cancelled): nothing to do.
            let _ = done.send(result);
        });
        jobs.send(job)
            .map_err(|_| "the parsing threads have stopped".to_string())?;
        match outcome.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(format!(
                "reading the page failed: it panicked: {}",
                panic_message(&*panic)
            )),
            Err(_) => Err("reading the page failed: its thread stopped".to_string()),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use super::Workers;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_runs_on_the_threads_and_a_panic_is_its_own_error() {
        let workers = Workers::start(2);
        let thread = workers
            .run(|| std::thread::current().name().map(str::to_string))
            .await;
        assert!(
            thread
                .as_ref()
                .is_ok_and(|t| t.as_deref().is_some_and(|t| t.starts_with("kuaibao-parse"))),
            "{thread:?}"
        );
        assert_eq!(workers.run(|| 6 * 7).await, Ok(42));
        let panicked = workers
            .run(|| -> u32 { panic!("bad markup") })
            .await
            .expect_err("a panic is an error");
        assert!(panicked.contains("bad markup"), "{panicked}");
        // The thread that panicked is still there for the next piece.
        for n in 0..4 {
            assert_eq!(workers.run(move || n).await, Ok(n));
        }
    }
}
