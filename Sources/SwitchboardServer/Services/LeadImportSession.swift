import Foundation
import Store
import SwitchboardCore

/// One streamed lead upload into a campaign: bytes in (JSON array or CSV), leads validated and
/// staged in chunks, all made dialable by `finish` or none by `abort`. Used by the upload route
/// and by `switchboard bench ingest`, so the benchmark measures the path clients take.
public final class LeadImportSession {
    public struct Summary: Sendable {
        public var received = 0
        public var added = 0
        public var duplicates = 0
        public var invalidCount = 0
        /// The first invalid leads, with index and reason (all are counted).
        public var invalid: [InvalidLead] = []
    }

    public enum Format: Sendable { case json, csv }

    private let store: Store
    private let clock: any WallClock
    private let upload: LeadImport
    private let chunk: Int
    private let listedInvalid: Int
    private var format: Format
    private var json = JSONArrayFramer()
    private var csv = CSVLeadParser()
    /// Where the next chunk begins in the upload: the CSV bytes or JSON elements before it.
    /// Its leads are staged in this order: how many came before is only known once the
    /// chunks before it are read.
    private var place = 0
    /// Chunks being read and staged, oldest first. Each is read as soon as it is cut, and
    /// staged once the one before it is: one at a time, in upload order, so an upload holds
    /// one of the store's connections. Their counts are added in this order too.
    private var reading: [Task<StagedChunk, any Error>] = []
    private var summary = Summary()
    /// When the import's lease is next renewed: a quarter of it after the last renewal, so an
    /// upload that keeps sending is never reaped, and one transaction every 30 s, not one a chunk.
    private var renewAt: Date
    /// Valid leads handed to the store so far.
    private var stagedCount = 0
    /// Whether a number may have come twice, so the store knows whether to look for repeats
    /// (only where it asks: `Store.importsUseRepeatHint`). Chunks being read share it.
    private let sieve: Locked<RepeatSieve>?

    /// Chunks in flight at once: reading them (CSV fields or JSON, E.164, the fields' JSON,
    /// COPY's text) is most of an upload's CPU, and cutting the stream into chunks little. One
    /// a core, and one more waiting its turn to be staged: on two cores, a million-lead CSV's
    /// reading took 2.1 s with one chunk read at a time, 1.4 s so.
    private static let chunksAtOnce = ProcessInfo.processInfo.activeProcessorCount + 1

    /// `columns` says which CSV columns make a lead (the console's mapping); by default the
    /// phone column is found by name and every other column is a field. `chunk` is records or
    /// elements a staging write: each write commits, and a durable PostgreSQL waits for its WAL
    /// at every commit (at 5,000, a 1M upload's 190 staging COPYs took 0.76 s).
    public static func begin(campaignID: String, format: Format, columns: CSVColumnMapping? = nil, store: Store, clock: any WallClock,
                             chunk: Int = 10_000, listedInvalid: Int = 1_000) async throws -> LeadImportSession {
        let upload = try await store.beginImport(campaignID: campaignID, now: clock.now())
        return LeadImportSession(store: store, clock: clock, upload: upload, format: format, columns: columns, chunk: chunk, listedInvalid: listedInvalid)
    }

    private init(store: Store, clock: any WallClock, upload: LeadImport, format: Format, columns: CSVColumnMapping?, chunk: Int, listedInvalid: Int) {
        self.store = store
        self.clock = clock
        self.upload = upload
        self.renewAt = clock.now().addingTimeInterval(LeadImport.lease / 4)
        self.format = format
        self.csv = CSVLeadParser(mapping: columns)
        self.chunk = chunk
        self.listedInvalid = listedInvalid
        self.sieve = store.importsUseRepeatHint ? Locked(RepeatSieve()) : nil
    }

    /// Throws `LeadStreamError` for a body that cannot be read (maybe for bytes fed before).
    public func feed(_ bytes: some Sequence<UInt8>) async throws {
        try await keepLease()
        switch format {
        case .csv:
            if let block = try csv.cut(bytes, records: chunk) { try await read(.csv(block)) }
        case .json:
            if let block = try json.cut(bytes, elements: chunk) { try await read(.json(block)) }
        }
    }

    /// Makes every staged lead dialable in the campaign, or none.
    public func finish() async throws -> Summary {
        var summary = try await finishStaging()
        let counts = try await store.commitImport(staged, invalid: summary.invalidCount, now: clock.now())
        summary.added = counts.added
        summary.duplicates = counts.duplicates
        return summary
    }

    /// Reads to the end and stages the rest, leaving the leads staged: for a campaign that is
    /// created with them (`Store.createCampaign(_:leads:staged:)`).
    func finishStaging() async throws -> Summary {
        try await keepLease()
        switch format {
        case .csv: if let block = try csv.cutRest() { try await read(.csv(block)) }
        case .json: if let block = try json.finish() { try await read(.json(block)) }
        }
        while !reading.isEmpty { try await addOldest() }
        return summary
    }

    /// What was staged, for `Store.createCampaign` once `finishStaging` returned.
    var staged: StagedLeads { StagedLeads(upload: upload, count: stagedCount, mayRepeat: sieve?.withLock(\.mayRepeat) ?? true) }

    /// Removes everything staged so far.
    public func abort() async {
        for chunk in reading { _ = try? await chunk.value }
        reading = []
        try? await store.abortImport(upload)
    }

    /// A chunk of the upload as cut from the stream, before it is read.
    private enum Chunk: Sendable {
        case csv(CSVRecordBlock)
        case json(JSONElementBlock)

        var size: Int {
            switch self {
            case .csv(let block): block.byteCount
            case .json(let block): block.count
            }
        }

        /// Its leads; `first` is its place in the upload.
        func leads(first: Int) throws(LeadStreamError) -> [LeadInput] {
            switch self {
            case .csv(let block): block.leads()
            case .json(let block): try block.values(first: first).map(LeadInput.init(json:))
            }
        }
    }

    /// A chunk as staged: how many valid leads, and the invalid ones with their indexes in
    /// the chunk (the first `listedInvalid` of them) and their count.
    private struct StagedChunk: Sendable {
        var staged: Int
        var invalid: ArraySlice<InvalidLead>
        var invalidCount: Int
    }

    /// Reads the chunk beside those already being read, and stages it after them. Beyond
    /// `chunksAtOnce` the oldest is awaited first, so an upload holds a few chunks in memory
    /// and a slow store slows it down.
    private func read(_ chunk: Chunk) async throws {
        while reading.count >= Self.chunksAtOnce { try await addOldest() }
        let (store, upload, sieve, first, listed, before) = (store, upload, sieve, place, listedInvalid, reading.last)
        place += chunk.size
        reading.append(Task {
            let (valid, invalid) = try chunk.leads(first: first).validated()
            sieve?.withLock { $0.insert(valid) }
            let rows = store.stagingRows(valid, in: upload, first: first)
            _ = try await before?.value
            try await store.stage(rows, in: upload)
            return StagedChunk(staged: rows.count, invalid: invalid.prefix(listed), invalidCount: invalid.count)
        })
    }

    /// Adds the oldest chunk's counts to the upload's, its invalid leads placed in the upload.
    private func addOldest() async throws {
        let chunk = try await reading.removeFirst().value
        for var problem in chunk.invalid.prefix(listedInvalid - summary.invalid.count) {
            problem.index += summary.received
            summary.invalid.append(problem)
        }
        summary.invalidCount += chunk.invalidCount
        summary.received += chunk.staged + chunk.invalidCount
        stagedCount += chunk.staged
    }

    /// Renews the lease when due. Throws `StoreError.conflict` when the upload paused so long
    /// that its import was reaped.
    private func keepLease() async throws {
        let now = clock.now()
        guard now >= renewAt else { return }
        try await store.renewImport(upload, now: now)
        renewAt = now.addingTimeInterval(LeadImport.lease / 4)
    }
}
