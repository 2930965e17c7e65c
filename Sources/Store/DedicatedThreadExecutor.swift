import Foundation

/// A task executor with one OS thread of its own, running jobs in the order they come. A
/// SQLite connection's transactions run on it (`withTaskExecutorPreference`): every statement of
/// the transaction is then a plain call on this thread, where sqlite-nio hopped to a thread pool
/// and back for each one — the hops, not SQLite, were what a statement cost.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    private let started = DispatchSemaphore(value: 0)
    private var threadID: pthread_t?

    /// `niceness` is the thread's nice value (0–19; higher gives way to the process's other
    /// threads when the cores are contended). Linux keeps a nice value per thread.
    init(name: String, niceness: Int32 = 0) {
        let thread = Thread { [self] in
            threadID = pthread_self()
            if niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
            started.signal()
            run()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    /// Whether the caller runs on this executor's thread.
    var isCurrent: Bool { threadID.map { pthread_equal($0, pthread_self()) != 0 } ?? false }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// The thread ends once the jobs queued before this have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { condition.unlock(); return }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
