//! Group commit, part of the poll (orchestration) layer: the items a
//! source's pass has read are stored together, and with the items other
//! sources have ready at the same moment, in one transaction.
//!
//! One blocking thread at a time stores every batch waiting, and hands each
//! waiter its items' outcomes; a waiter holds no thread meanwhile. A
//! commit writes the pages the items share once, instead of once per item,
//! and most of a first poll's time in the store was commits. An item is
//! reported stored only after its transaction committed; a pass killed
//! before that reads the item again next time.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::config::{Config, DedupConfig};
use crate::dedup::{self, PreparedStory};
use crate::model::NewItem;
use crate::store::{Status, Store, Stored, ToSave};

/// An item classified and ready to store.
pub(super) struct Ready {
    pub item: NewItem,
    pub status: Status,
    pub story: PreparedStory,
}

/// The batches waiting for the store, shared by a poller's tasks.
#[derive(Default)]
pub(super) struct WriteQueue {
    waiting: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    batches: Vec<Waiting>,
    /// A blocking thread is storing batches and will take these.
    writing: bool,
}

struct Waiting {
    batch: Vec<Ready>,
    done: oneshot::Sender<Vec<Result<Stored, String>>>,
}

/// A poisoned lock is still usable: a panic while storing leaves no
/// transaction open (it rolls back when dropped).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WriteQueue {
    /// Stores `batch`, with the batches waiting with it, and answers each
    /// item's outcome, in order. A waiting batch holds no thread: one
    /// blocking thread at a time stores every batch queued, until none
    /// waits.
    pub(super) async fn store(
        self: &Arc<Self>,
        store: &Arc<Mutex<Store>>,
        batch: Vec<Ready>,
        cfg: &Arc<Config>,
    ) -> Vec<Result<Stored, String>> {
        let len = batch.len();
        let (done, outcome) = oneshot::channel();
        let lead = {
            let mut queue = lock(&self.waiting);
            queue.batches.push(Waiting { batch, done });
            !std::mem::replace(&mut queue.writing, true)
        };
        if lead {
            let writer = Writer {
                queue: self.clone(),
                done: false,
            };
            let (store, cfg) = (store.clone(), cfg.clone());
            // Not awaited: the batches' answers come through their own
            // channels.
            drop(tokio::task::spawn_blocking(move || {
                let mut writer = writer;
                writer.queue.write_all(&store, &cfg);
                writer.done = true;
            }));
        }
        // An answer is lost only when storing its batch panicked, or the
        // writer never ran (the runtime shutting down).
        outcome.await.unwrap_or_else(|_| {
            (0..len)
                .map(|_| Err("storing the item failed: its batch was lost".to_string()))
                .collect()
        })
    }

    /// Stores the waiting batches until none waits.
    fn write_all(&self, store: &Mutex<Store>, cfg: &Config) {
        loop {
            let waiting = {
                let mut queue = lock(&self.waiting);
                if queue.batches.is_empty() {
                    queue.writing = false;
                    return;
                }
                std::mem::take(&mut queue.batches)
            };
            // A panic drops these batches' answers (their items are
            // reported failed) and must not leave `writing` set forever.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
                write(&mut lock(store), waiting, &cfg.dedup)
            }));
        }
    }
}

/// The one writer's claim on the queue. Dropped before it is done (the
/// runtime dropped its task unrun), it lets the next batch start a writer,
/// and the batches waiting get no answer (their items are reported
/// failed) rather than wait forever.
struct Writer {
    queue: Arc<WriteQueue>,
    done: bool,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.done {
            let mut queue = lock(&self.queue.waiting);
            queue.writing = false;
            queue.batches.clear();
        }
    }
}

fn write(store: &mut Store, waiting: Vec<Waiting>, cfg: &DedupConfig) {
    let ready: Vec<&Ready> = waiting.iter().flat_map(|w| &w.batch).collect();
    let to_save: Vec<ToSave<'_>> = ready
        .iter()
        .map(|r| ToSave {
            item: &r.item,
            status: r.status,
            story: &r.story,
        })
        .collect();
    let mut results = store
        .save_items(&to_save, &mut |i, stored| {
            dedup::place(stored, &ready[i].story, cfg)
        })
        .into_iter();
    let lens: Vec<usize> = waiting.iter().map(|w| w.batch.len()).collect();
    drop(ready);
    for (w, len) in waiting.into_iter().zip(lens) {
        let answers = results
            .by_ref()
            .take(len)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        // A waiter gone (its pass cancelled) needs no answer.
        let _ = w.done.send(answers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Answer = oneshot::Receiver<Vec<Result<Stored, String>>>;

    /// A queue with one batch waiting and its writer at work.
    fn queue_being_written() -> (Arc<WriteQueue>, Answer) {
        let queue = Arc::new(WriteQueue::default());
        let (done, outcome) = oneshot::channel();
        {
            let mut q = lock(&queue.waiting);
            q.batches.push(Waiting {
                batch: Vec::new(),
                done,
            });
            q.writing = true;
        }
        (queue, outcome)
    }

    #[test]
    fn a_writer_dropped_unrun_frees_the_queue_and_fails_its_waiting_batches() {
        let (queue, mut outcome) = queue_being_written();
        drop(Writer {
            queue: queue.clone(),
            done: false,
        });
        let q = lock(&queue.waiting);
        assert!(!q.writing, "the next batch may start a writer");
        assert!(q.batches.is_empty());
        assert!(
            matches!(
                outcome.try_recv(),
                Err(oneshot::error::TryRecvError::Closed)
            ),
            "the waiter is answered (with an error), not left waiting"
        );
    }

    #[test]
    fn a_writer_that_finished_leaves_the_queue_to_the_next_one() {
        let (queue, _outcome) = queue_being_written();
        drop(Writer {
            queue: queue.clone(),
            done: true,
        });
        let q = lock(&queue.waiting);
        assert!(
            q.writing && q.batches.len() == 1,
            "a newer writer's batch is kept"
        );
    }
}
