//! Group commit: the writes of concurrent requests share one transaction, so one fsync.
//!
//! A durable store sends its writes to one [`Writer`]. A request queues its write and waits; the
//! writer task takes what is waiting (at most `max` writes, waiting at most `wait` after the first
//! for more: as many as [`Pacing`] wants), applies the writes in order in one transaction,
//! commits with the engine's durability settings, and only then answers each request. Under load, one fsync (the cost of a
//! durable write, milliseconds) serves a whole batch instead of one request.
//!
//! Each write keeps the meaning it has alone: the writes of a batch run in order, each seeing the
//! ones before it, so `TASKS_MAX`, the owner check of an update and an update racing a delete
//! behave as if the requests had come one by one. A write the database refuses by itself (a
//! constraint) fails alone: the transaction is rolled back and the others run again without it.
//! Any other failure (a statement, the commit, the connection) fails every request of the batch
//! with the same error, and none of its writes is kept: nothing is acknowledged that is not on
//! disk.

use std::{future::Future, time::Duration};

use shared::Task;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{
    pacing::Pacing,
    settings::BatchLimits,
    types::{Scope, StoreError, TaskChanges, TaskDraft},
};

/// One change of the task table, as the writer applies it.
#[derive(Debug, Clone)]
pub(super) enum Write {
    Create(TaskDraft),
    /// `owner`: only if the task is this owner's (`Scope::OwnedBy`).
    Update {
        id: i64,
        owner: Option<String>,
        changes: TaskChanges,
    },
    Delete {
        id: i64,
    },
}

/// What one write did.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Created with this id: the writer makes the task of its draft, which it still holds.
    Created(u64),
    /// Not created: the store holds `TASKS_MAX` tasks.
    Full,
    /// The updated task, or `None` if there is no such task in scope.
    Updated(Option<Task>),
    Deleted(bool),
}

/// Why a batch was not committed.
#[derive(Debug)]
pub(super) enum BatchError {
    /// The database refused the write at `index` by itself (a constraint): only its request
    /// fails, and the others are tried again without it.
    Refused { index: usize, error: StoreError },
    /// Anything else: every request of the batch fails with this error.
    Failed(StoreError),
}

/// The number of tasks as a batch applies its writes, against `TASKS_MAX`: the engine reads it
/// from the database (and locks it, where it can) at the batch's first create only, and each
/// write the batch applies keeps it current, so every create sees the creates and deletes before
/// it.
#[derive(Debug)]
pub(super) struct TaskCount {
    known: Option<i64>,
    max: i64,
}

impl TaskCount {
    pub(super) fn new(max: i64) -> Self {
        Self { known: None, max }
    }

    /// The count, if this batch has read it already.
    pub(super) fn known(&self) -> Option<i64> {
        self.known
    }

    /// How many more tasks fit when the store holds `tasks` (the known count, or the one just
    /// read, which is remembered).
    pub(super) fn room(&mut self, tasks: i64) -> usize {
        self.known = Some(tasks);
        usize::try_from(self.max.saturating_sub(tasks)).unwrap_or(0)
    }

    pub(super) fn created(&mut self, tasks: usize) {
        let tasks = i64::try_from(tasks).unwrap_or(i64::MAX);
        self.known = self.known.map(|known| known.saturating_add(tasks));
    }

    pub(super) fn deleted(&mut self) {
        self.known = self.known.map(|tasks| tasks - 1);
    }
}

/// A store's engine as the writer uses it.
pub(super) trait Engine: Send + 'static {
    /// Applies `writes` in order in one transaction and commits it: the outcome of each write,
    /// or why nothing was committed.
    fn commit(
        &mut self,
        writes: &[Write],
    ) -> impl Future<Output = Result<Vec<Outcome>, BatchError>> + Send;

    /// Sends the replies of the batch just committed, once it is on disk: at once, by default,
    /// for an engine whose commit returns once it is.
    fn acknowledge(&mut self, replies: Replies) {
        replies.send();
    }
}

/// A write's answer: its outcome, with the write given back.
pub(super) type Reply = Result<(Write, Outcome), StoreError>;

/// Where a write's answer goes.
type Answer = oneshot::Sender<Reply>;

/// The answers of a committed batch, not yet sent.
#[derive(Debug, Default)]
pub(super) struct Replies(pub(super) Vec<(Answer, Write, Outcome)>);

impl Replies {
    /// Answers each write with its outcome.
    pub(super) fn send(self) {
        for (answer, write, outcome) in self.0 {
            let _ = answer.send(Ok((write, outcome)));
        }
    }

    /// Answers each write with `error` instead: the batch did not reach the disk.
    pub(super) fn fail(self, error: &StoreError) {
        for (answer, _, _) in self.0 {
            let _ = answer.send(Err(error.clone()));
        }
    }
}

/// A queued write and where its answer goes.
#[derive(Debug)]
struct Pending {
    write: Write,
    answer: Answer,
    /// Past this, the write is answered with an error instead of being applied.
    deadline: Instant,
}

/// The queue to a store's writer task. The task stops when the queue is dropped, after it has
/// answered every write already queued.
#[derive(Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Pending>,
    /// Longest wait of a write for its turn (the store's timeout).
    timeout: Duration,
    /// `TASKS_MAX`, for the error of [`Outcome::Full`].
    max_tasks: u64,
}

impl Writer {
    /// Starts the writer task of `engine` on the current Tokio runtime.
    pub(super) fn spawn(
        engine: impl Engine,
        limits: BatchLimits,
        timeout: Duration,
        max_tasks: u64,
    ) -> Self {
        let (writer, queue) = Self::new(limits, timeout, max_tasks);
        tokio::spawn(run(engine, queue, limits));
        writer
    }

    /// Like [`Writer::spawn`], but the writer task runs on a thread of its own named `name`, for
    /// an engine whose commit blocks.
    pub(super) fn spawn_on_thread(
        name: &str,
        engine: impl Engine,
        limits: BatchLimits,
        timeout: Duration,
        max_tasks: u64,
    ) -> std::io::Result<Self> {
        let (writer, queue) = Self::new(limits, timeout, max_tasks);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || runtime.block_on(run(engine, queue, limits)))?;
        Ok(writer)
    }

    /// A writer, and the queue its task reads.
    fn new(
        limits: BatchLimits,
        timeout: Duration,
        max_tasks: u64,
    ) -> (Self, mpsc::Receiver<Pending>) {
        // Room for a few batches: past it, requests wait (bounded by `timeout`) to be queued.
        let (queue, receiver) = mpsc::channel(limits.max.saturating_mul(4));
        let writer = Self {
            queue,
            timeout,
            max_tasks,
        };
        (writer, receiver)
    }

    pub(super) async fn create(&self, draft: TaskDraft) -> Result<Task, StoreError> {
        match self.submit(Write::Create(draft)).await? {
            (Write::Create(draft), Outcome::Created(id)) => Ok(draft.into_task(id)),
            (_, Outcome::Full) => Err(StoreError::Full {
                limit: usize::try_from(self.max_tasks).unwrap_or(usize::MAX),
            }),
            (_, other) => Err(unexpected(&other)),
        }
    }

    pub(super) async fn update(
        &self,
        id: u64,
        scope: Scope<'_>,
        changes: TaskChanges,
    ) -> Result<Option<Task>, StoreError> {
        // An id past i64::MAX cannot exist.
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let owner = match scope {
            Scope::All => None,
            Scope::OwnedBy(owner) => Some(owner.to_owned()),
        };
        match self.submit(Write::Update { id, owner, changes }).await? {
            (_, Outcome::Updated(task)) => Ok(task),
            (_, other) => Err(unexpected(&other)),
        }
    }

    pub(super) async fn delete(&self, id: u64) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        match self.submit(Write::Delete { id }).await? {
            (_, Outcome::Deleted(deleted)) => Ok(deleted),
            (_, other) => Err(unexpected(&other)),
        }
    }

    /// Queues `write` and waits for its outcome, which comes after its batch committed.
    async fn submit(&self, write: Write) -> Reply {
        let deadline = Instant::now() + self.timeout;
        let (answer, outcome) = oneshot::channel();
        let pending = Pending {
            write,
            answer,
            deadline,
        };
        match tokio::time::timeout_at(deadline, self.queue.send(pending)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(stopped()),
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "the write queue stayed full for {} s",
                    self.timeout.as_secs_f32()
                )));
            }
        }
        outcome.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the task writer stopped".into())
}

fn unexpected(outcome: &Outcome) -> StoreError {
    StoreError::Unavailable(format!(
        "the task writer answered {outcome:?} to another kind of write"
    ))
}

async fn run(mut engine: impl Engine, mut queue: mpsc::Receiver<Pending>, limits: BatchLimits) {
    let mut batch = Vec::with_capacity(limits.max);
    let mut pacing = Pacing::default();
    let mut answered = 0;
    loop {
        // The writes that queued during the last commit, and the clients it just answered,
        // whose next writes are on their way: under a steady load, this is how many write at
        // once, and waiting for them (or for half of them: see `pacing`) makes one batch of
        // what would otherwise be several.
        let active = answered + queue.len();
        let wanted = pacing.wanted(active).min(limits.max);
        if !gather(&mut queue, limits, wanted, &mut batch).await {
            return;
        }
        answered = batch.len();
        let now = Instant::now();
        let mut writes = Vec::with_capacity(batch.len());
        let mut answers = Vec::with_capacity(batch.len());
        for pending in batch.drain(..) {
            if pending.deadline > now {
                writes.push(pending.write);
                answers.push(pending.answer);
            } else {
                let _ = pending.answer.send(Err(StoreError::Unavailable(
                    "the write waited for its turn longer than the store's timeout".into(),
                )));
            }
        }
        let committed = commit(&mut engine, writes, answers).await;
        pacing.committed(committed, Instant::now());
    }
}

/// Fills `batch` with the next writes: waits for one, takes what is queued, then waits at most
/// `limits.wait` for more until it holds `wanted`, up to `limits.max`. False once the queue is
/// closed and empty.
async fn gather(
    queue: &mut mpsc::Receiver<Pending>,
    limits: BatchLimits,
    wanted: usize,
    batch: &mut Vec<Pending>,
) -> bool {
    if queue.recv_many(batch, limits.max).await == 0 {
        return false;
    }
    let until = Instant::now() + limits.wait;
    while batch.len() < wanted {
        let room = limits.max - batch.len();
        match tokio::time::timeout_at(until, queue.recv_many(batch, room)).await {
            Ok(received) if received > 0 => {}
            _ => break,
        }
    }
    true
}

/// Commits `writes` and sends each outcome to the answer at the same index: the number of
/// writes committed.
async fn commit(
    engine: &mut impl Engine,
    mut writes: Vec<Write>,
    mut answers: Vec<Answer>,
) -> usize {
    while !writes.is_empty() {
        let started = Instant::now();
        match engine.commit(&writes).await {
            Ok(outcomes) => {
                let committed = writes.len();
                tracing::debug!(
                    writes = committed,
                    micros = started.elapsed().as_micros(),
                    "group commit"
                );
                let replies = answers.into_iter().zip(writes).zip(outcomes);
                engine.acknowledge(Replies(replies.map(|((a, w), o)| (a, w, o)).collect()));
                return committed;
            }
            Err(BatchError::Refused { index, error }) if index < writes.len() => {
                writes.remove(index);
                let _ = answers.remove(index).send(Err(error));
            }
            Err(BatchError::Refused { error, .. } | BatchError::Failed(error)) => {
                if writes.len() > 1 {
                    tracing::warn!(writes = writes.len(), %error, "a group commit failed");
                }
                for answer in answers {
                    let _ = answer.send(Err(error.clone()));
                }
                return 0;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records the batches it is given; refuses titles starting with "refuse", fails batches
    /// holding a title starting with "fail".
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        batches: Arc<Mutex<Vec<Vec<String>>>>,
    }

    impl Engine for Recorder {
        fn commit(
            &mut self,
            writes: &[Write],
        ) -> impl Future<Output = Result<Vec<Outcome>, BatchError>> + Send {
            let batches = self.batches.clone();
            let titles: Vec<String> = writes
                .iter()
                .map(|w| match w {
                    Write::Create(draft) => draft.title.clone(),
                    other => format!("{other:?}"),
                })
                .collect();
            async move {
                batches
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(titles.clone());
                if let Some(index) = titles.iter().position(|t| t.starts_with("refuse")) {
                    return Err(BatchError::Refused {
                        index,
                        error: StoreError::Unavailable(format!("refused {}", titles[index])),
                    });
                }
                if titles.iter().any(|t| t.starts_with("fail")) {
                    return Err(BatchError::Failed(StoreError::Unavailable("disk".into())));
                }
                Ok((1..=titles.len() as u64).map(Outcome::Created).collect())
            }
        }
    }

    fn draft(title: &str) -> TaskDraft {
        TaskDraft {
            title: title.into(),
            owner_id: "o".into(),
            owner_name: "O".into(),
        }
    }

    fn writer(engine: Recorder, max: usize) -> Writer {
        let limits = BatchLimits {
            max,
            wait: Duration::from_millis(50),
        };
        Writer::spawn(engine, limits, Duration::from_secs(5), 100)
    }

    #[tokio::test]
    async fn concurrent_writes_share_batches_bounded_in_count() {
        let engine = Recorder::default();
        let writer = writer(engine.clone(), 3);
        let results = tokio::join!(
            writer.create(draft("a")),
            writer.create(draft("b")),
            writer.create(draft("c")),
            writer.create(draft("d")),
        );
        assert!(results.0.is_ok() && results.3.is_ok());
        let batches = engine.batches.lock().expect("batches").clone();
        assert_eq!(batches, [vec!["a", "b", "c"], vec!["d"]]);
    }

    #[tokio::test]
    async fn a_refused_write_fails_alone_and_a_failed_batch_fails_every_write() {
        let engine = Recorder::default();
        let writer = writer(engine.clone(), 10);
        let (a, refused, b) = tokio::join!(
            writer.create(draft("a")),
            writer.create(draft("refuse me")),
            writer.create(draft("b")),
        );
        assert_eq!(a.expect("a").title, "a");
        assert_eq!(b.expect("b").title, "b");
        assert!(
            matches!(refused, Err(StoreError::Unavailable(ref m)) if m == "refused refuse me"),
            "{refused:?}"
        );

        let (c, failing) = tokio::join!(writer.create(draft("c")), writer.create(draft("fail")));
        for result in [c, failing] {
            assert!(
                matches!(result, Err(StoreError::Unavailable(ref m)) if m == "disk"),
                "{result:?}"
            );
        }
        let batches = engine.batches.lock().expect("batches").clone();
        assert_eq!(
            batches,
            [
                vec!["a", "refuse me", "b"],
                vec!["a", "b"],
                vec!["c", "fail"]
            ]
        );
    }
}
