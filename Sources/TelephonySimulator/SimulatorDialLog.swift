import Foundation
import SwitchboardCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulator's call list: every dial it received, written before the call rings. It is
/// what a real carrier's call list is to reconciliation: after a crash, the engine asks it
/// what became of an attempt.
///
/// With a file, the log is append-only and shared: every process appends one line per dial
/// (`O_APPEND` keeps concurrent lines whole), a line survives `kill -9` of its writer (it is
/// in the kernel once `write` returns), and any process answers for any dial by reading what
/// others appended. In memory it answers for the most recent `capacity` dials only
/// (reconciliation asks about claims whose lease lapsed minutes ago, never old ones), so a
/// million-call campaign does not grow the process.
///
/// A line: `attempt_id TAB from TAB to TAB outcome TAB answered_at|- TAB ended_at TAB duration`,
/// times in seconds since 1970.
public final class SimulatorDialLog: Sendable {
    private struct Entry {
        var outcome: Outcome
        var answeredAt: Double?
        var endedAt: Double
        var duration: Double
    }
    private struct State {
        var entries: [Int64: Entry] = [:]
        var order: [Int64] = []
        var head = 0
        var total = 0
        /// How far into the file this process has read.
        var offset: off_t = 0
        var partial: [UInt8] = []
    }
    private let state = Locked(State())
    private let capacity: Int
    private let path: String?
    private let writer: Int32

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
        path = nil
        writer = -1
    }

    /// A log shared through the file at `path` (created if missing); what is already there is
    /// read now.
    public init(path: String, capacity: Int = 100_000) throws {
        self.capacity = max(1, capacity)
        self.path = path
        writer = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard writer >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        state.withLock { catchUp(&$0) }
    }

    deinit { if writer >= 0 { close(writer) } }

    func placed(attemptID: Int64, from: String, to: String, result: DialResult) {
        if writer >= 0 {
            let answered = result.answeredAt.map { String($0.timeIntervalSince1970) } ?? "-"
            let line = "\(attemptID)\t\(from)\t\(to)\t\(result.outcome.rawValue)\t\(answered)\t\(result.endedAt.timeIntervalSince1970)\t\(result.duration)\n"
            let bytes = Array(line.utf8)
            // One write per line: appends from several processes never interleave inside it.
            _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        }
        state.withLock { state in
            remember(&state, attemptID, Entry(outcome: result.outcome, answeredAt: result.answeredAt?.timeIntervalSince1970,
                                               endedAt: result.endedAt.timeIntervalSince1970, duration: result.duration))
        }
    }

    func status(attemptID: Int64, now: Date) -> ProviderCallStatus {
        let found = state.withLock { state -> Entry? in
            if let entry = state.entries[attemptID] { return entry }
            // Maybe another process dialed it: read what was appended since we last looked.
            catchUp(&state)
            return state.entries[attemptID]
        }
        guard let entry = found else { return .unknown }
        guard now.timeIntervalSince1970 >= entry.endedAt else { return .inProgress }
        return .ended(DialResult(outcome: entry.outcome, providerCallID: "SIM\(attemptID)",
                                 answeredAt: entry.answeredAt.map(Date.init(timeIntervalSince1970:)),
                                 endedAt: Date(timeIntervalSince1970: entry.endedAt), duration: entry.duration,
                                 detail: "simulator: \(entry.outcome.rawValue)"))
    }

    /// Dials this log has seen since the start (its own and, with a file, others'), for tests
    /// and benchmarks.
    public var count: Int { state.withLock { $0.total } }

    private func remember(_ state: inout State, _ attemptID: Int64, _ entry: Entry) {
        if state.entries.updateValue(entry, forKey: attemptID) != nil { return }
        state.total += 1
        if state.order.count < capacity { state.order.append(attemptID); return }
        // A ring of the last `capacity` ids: the oldest goes.
        state.entries[state.order[state.head]] = nil
        state.order[state.head] = attemptID
        state.head = (state.head + 1) % capacity
    }

    private func catchUp(_ state: inout State) {
        guard let path else { return }
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { return }
        defer { close(reader) }
        guard lseek(reader, state.offset, SEEK_SET) == state.offset else { return }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            state.offset += off_t(n)
            var start = 0
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") {
                state.partial.append(contentsOf: chunk[start..<i])
                if let (id, entry) = Self.parse(state.partial) { remember(&state, id, entry) }
                state.partial.removeAll(keepingCapacity: true)
                start = i + 1
            }
            state.partial.append(contentsOf: chunk[start..<n])
        }
    }

    private static func parse(_ line: [UInt8]) -> (Int64, Entry)? {
        let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 7, let id = Int64(fields[0]), let outcome = Outcome(rawValue: fields[3]),
              let ended = Double(fields[5]), let duration = Double(fields[6]) else { return nil }
        return (id, Entry(outcome: outcome, answeredAt: Double(fields[4]), endedAt: ended, duration: duration))
    }
}
