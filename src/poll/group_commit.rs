//! Group commit, part of the poll (orchestration) layer: the items a
//! source's pass has read are stored together, and with the items other
//! sources have ready at the same moment, in one transaction.
//!
//! Whoever gets the store's lock stores every batch waiting by then, its own
//! included, and hands each waiter its items' outcomes; a waiter whose batch
//! was taken by another finds its outcomes ready once it has the lock. A
//! commit writes the pages the items share once, instead of once per item,
//! and most of a first poll's time in the store was commits. An item is
//! reported stored only after its transaction committed; a pass killed
//! before that reads the item again next time.

use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};

use crate::config::DedupConfig;
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
    waiting: Mutex<Vec<Waiting>>,
}

struct Waiting {
    batch: Vec<Ready>,
    done: mpsc::SyncSender<Vec<Result<Stored, String>>>,
}

/// A poisoned lock is still usable: a panic while storing leaves no
/// transaction open (it rolls back when dropped).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WriteQueue {
    /// Stores `batch`, with the batches waiting with it, and answers each
    /// item's outcome, in order. Blocks: call it on a blocking thread.
    pub(super) fn store(
        &self,
        store: &Mutex<Store>,
        batch: Vec<Ready>,
        cfg: &DedupConfig,
    ) -> Vec<Result<Stored, String>> {
        let len = batch.len();
        let (done, outcome) = mpsc::sync_channel(1);
        lock(&self.waiting).push(Waiting { batch, done });
        {
            let mut store = lock(store);
            let waiting = std::mem::take(&mut *lock(&self.waiting));
            if !waiting.is_empty() {
                write(&mut store, waiting, cfg);
            }
        }
        // Answered by now: by this thread, or by the one that took the batch
        // and held the lock before it.
        outcome.recv().unwrap_or_else(|_| {
            (0..len)
                .map(|_| Err("storing the item failed: its batch was lost".to_string()))
                .collect()
        })
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
    for w in &waiting {
        let answers = results
            .by_ref()
            .take(w.batch.len())
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        // The waiter holds its receiver until answered.
        let _ = w.done.send(answers);
    }
}
