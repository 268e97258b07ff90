//! The SQLite writer's fsync, on a thread beside it, so that writing the next batch and syncing
//! the last one overlap.
//!
//! The writer connection commits with `synchronous=NORMAL`: its `COMMIT` appends the batch to the
//! WAL and returns without waiting for the disk. The batch's answers go to the sync thread, which
//! calls `fdatasync` on the WAL and only then sends them: nothing is acknowledged before it is on
//! disk, as with `synchronous=FULL`, but while one sync runs the writer already writes the next
//! batches, and one sync covers all of them (it flushes the whole file). On this machine's virtual
//! disk a sync that follows the last at once takes ~50 µs and one after a pause several hundred
//! (docs/benchmarks.md): a thread that syncs back to back keeps the disk fast.
//!
//! A read waits for the commits it may have seen to be on disk ([`Durability::settled`]), so no
//! one is shown a task that a power cut could still take back. If a sync fails, the kernel may
//! have dropped the pages it could not write: every write from then on fails, and so does every
//! read that waits, until the API is restarted (fail closed, as PostgreSQL does).

use std::{
    fs::File,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::Duration,
};

use tokio::sync::watch;

use super::{batch::Replies, types::StoreError};

/// What readers need to know about the writer's commits.
#[derive(Debug)]
pub(super) struct Durability {
    /// Commits begun: a commit counts before it can be seen.
    begun: AtomicU64,
    /// The last commit on disk, or why syncing stopped.
    synced: watch::Sender<Result<u64, StoreError>>,
}

impl Durability {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            begun: AtomicU64::new(0),
            synced: watch::Sender::new(Ok(0)),
        })
    }

    /// Returns once every commit a read that ended before this call may have seen is on disk;
    /// an error if syncing failed or took longer than `timeout`.
    pub(super) async fn settled(&self, timeout: Duration) -> Result<(), StoreError> {
        let seen = self.begun.load(Ordering::SeqCst);
        let on_disk =
            |synced: &Result<u64, StoreError>| synced.as_ref().map_or(true, |s| *s >= seen);
        if !on_disk(&self.synced.borrow()) {
            let mut synced = self.synced.subscribe();
            tokio::time::timeout(timeout, synced.wait_for(on_disk))
                .await
                .map_err(|_| {
                    StoreError::Unavailable(format!(
                        "the SQLite WAL was not synced within {} s",
                        timeout.as_secs_f32()
                    ))
                })?
                .map_err(|_| stopped())?;
        }
        match &*self.synced.borrow() {
            Ok(_) => Ok(()),
            Err(error) => Err(error.clone()),
        }
    }
}

/// The writer's side: numbers its commits and hands their replies to the sync thread.
#[derive(Debug)]
pub(super) struct WalSync {
    durability: Arc<Durability>,
    queue: mpsc::Sender<(u64, Replies)>,
}

impl WalSync {
    /// Starts the sync thread of the WAL of `database` (which must exist: open a transaction
    /// first).
    pub(super) fn start(database: &Path, durability: Arc<Durability>) -> std::io::Result<Self> {
        let mut name = database.as_os_str().to_owned();
        name.push("-wal");
        Self::spawn(File::open(&name)?, durability)
    }

    /// Starts the thread that syncs `wal`.
    fn spawn(wal: File, durability: Arc<Durability>) -> std::io::Result<Self> {
        let (queue, batches) = mpsc::channel();
        let thread_durability = Arc::clone(&durability);
        std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || run(&wal, &batches, &thread_durability))?;
        Ok(Self { durability, queue })
    }

    /// Numbers the next commit, before it can be seen; an error once a sync has failed.
    pub(super) fn begin(&self) -> Result<u64, StoreError> {
        if let Err(error) = &*self.durability.synced.borrow() {
            return Err(error.clone());
        }
        Ok(self.durability.begun.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Sends the replies of `commit` once the WAL holding it is on disk (none if it failed: its
    /// number must still be settled for the readers that waited for it).
    pub(super) fn committed(&self, commit: u64, replies: Replies) {
        if let Err(mpsc::SendError((_, replies))) = self.queue.send((commit, replies)) {
            replies.fail(&stopped());
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite sync thread stopped".into())
}

/// Syncs the WAL whenever commits wait, each sync covering all of them, until the writer is gone
/// or a sync fails.
fn run(wal: &File, batches: &mpsc::Receiver<(u64, Replies)>, durability: &Durability) {
    while let Ok(first) = batches.recv() {
        let mut waiting = vec![first];
        waiting.extend(batches.try_iter());
        let last = waiting.iter().map(|(commit, _)| *commit).max().unwrap_or(0);
        match wal.sync_data() {
            Ok(()) => {
                durability.synced.send_modify(|synced| *synced = Ok(last));
                for (_, replies) in waiting {
                    replies.send();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "syncing the SQLite WAL failed: every write fails until the API restarts");
                let error = StoreError::Unavailable(format!(
                    "the disk failed to sync the SQLite WAL ({e}); restart the API"
                ));
                durability
                    .synced
                    .send_modify(|synced| *synced = Err(error.clone()));
                for (_, replies) in waiting.into_iter().chain(batches.iter()) {
                    replies.fail(&error);
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::batch::{Outcome, Reply, Write};

    fn one_reply() -> (Replies, oneshot::Receiver<Reply>) {
        let (answer, reply) = oneshot::channel();
        let replies = Replies(vec![(
            answer,
            Write::Delete { id: 1 },
            Outcome::Deleted(true),
        )]);
        (replies, reply)
    }

    #[tokio::test]
    async fn a_read_waits_for_the_sync_of_a_commit_it_may_have_seen() {
        let folder = tempfile::tempdir().expect("temp dir");
        let wal = File::create(folder.path().join("tasks.db-wal")).expect("wal");
        let durability = Durability::new();
        let sync = WalSync::spawn(wal, Arc::clone(&durability)).expect("sync thread");
        durability
            .settled(Duration::from_secs(1))
            .await
            .expect("nothing to wait for");

        let commit = sync.begin().expect("begin");
        let waited = durability.settled(Duration::from_millis(50)).await;
        assert!(
            matches!(&waited, Err(StoreError::Unavailable(m)) if m.contains("not synced")),
            "{waited:?}"
        );
        let (replies, reply) = one_reply();
        sync.committed(commit, replies);
        let (write, outcome) = reply.await.expect("answered").expect("synced");
        assert!(matches!(
            (write, outcome),
            (Write::Delete { id: 1 }, Outcome::Deleted(true))
        ));
        durability
            .settled(Duration::from_secs(1))
            .await
            .expect("synced");
    }

    #[tokio::test]
    async fn a_failed_sync_fails_its_writes_the_reads_and_every_later_write() {
        // fdatasync on /dev/null fails (EINVAL), as on a disk that lost the pages.
        let wal = File::open("/dev/null").expect("/dev/null");
        let durability = Durability::new();
        let sync = WalSync::spawn(wal, Arc::clone(&durability)).expect("sync thread");
        let commit = sync.begin().expect("begin");
        let (replies, reply) = one_reply();
        sync.committed(commit, replies);
        let failed = reply.await.expect("answered");
        assert!(
            matches!(&failed, Err(StoreError::Unavailable(m)) if m.contains("failed to sync the SQLite WAL")),
            "{failed:?}"
        );
        let read = durability.settled(Duration::from_secs(1)).await;
        assert!(read.is_err(), "{read:?}");
        let next = sync.begin();
        assert!(next.is_err(), "{next:?}");
    }
}
