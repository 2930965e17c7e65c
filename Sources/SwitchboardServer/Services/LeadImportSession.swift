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
    private var pending: [ValidLead] = []
    private var summary = Summary()
    /// The chunk being written while the next one is parsed: at most one in flight.
    private var writing: Task<Void, any Error>?
    /// When the import's lease is next renewed: a quarter of it after the last renewal, so an
    /// upload that keeps sending is never reaped, and one transaction every 30 s, not one a chunk.
    private var renewAt: Date
    /// Valid leads handed to the store so far: the next one's place in the upload.
    private var stagedCount = 0
    /// Whether a number may have come twice, so the store knows whether to look for repeats
    /// (only where it asks: `Store.importsUseRepeatHint`).
    private var sieve: RepeatSieve?

    /// `columns` says which CSV columns make a lead (the console's mapping); by default the
    /// phone column is found by name and every other column is a field.
    public static func begin(campaignID: String, format: Format, columns: CSVColumnMapping? = nil, store: Store, clock: any WallClock,
                             chunk: Int = 5_000, listedInvalid: Int = 1_000) async throws -> LeadImportSession {
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
        self.sieve = store.importsUseRepeatHint ? RepeatSieve() : nil
        pending.reserveCapacity(chunk)
    }

    /// Throws `LeadStreamError` for a body that cannot be read.
    public func feed(_ bytes: some Sequence<UInt8>) async throws {
        try await keepLease()
        switch format {
        case .csv: try await take(try csv.feed(bytes))
        case .json: try await take(try json.feed(bytes).map(decode))
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
        case .csv: try await take(try csv.finish())
        case .json: try json.finish()
        }
        if !pending.isEmpty { try await flush() }
        try await writing?.value
        writing = nil
        return summary
    }

    /// What was staged, for `Store.createCampaign` once `finishStaging` returned.
    var staged: StagedLeads { StagedLeads(upload: upload, count: stagedCount, mayRepeat: sieve?.mayRepeat ?? true) }

    /// Removes everything staged so far.
    public func abort() async {
        _ = try? await writing?.value
        try? await store.abortImport(upload)
    }

    private func decode(_ element: [UInt8]) throws -> LeadInput {
        guard let value = try? JSONValue(parsing: element) else {
            throw LeadStreamError.malformedJSON(element: summary.received + pending.count)
        }
        return LeadInput(json: value)
    }

    private func take(_ inputs: [LeadInput]) async throws {
        for input in inputs {
            switch input.validated(index: summary.received) {
            case .success(let lead): pending.append(lead)
            case .failure(let problem):
                summary.invalidCount += 1
                if summary.invalid.count < listedInvalid { summary.invalid.append(problem) }
            }
            summary.received += 1
        }
        if pending.count >= chunk { try await flush() }
    }

    private func flush() async throws {
        try await writing?.value
        let (batch, store, upload, first) = (pending, store, upload, stagedCount)
        sieve?.insert(batch)
        writing = Task { try await store.stage(batch, in: upload, first: first) }
        stagedCount += batch.count
        pending.removeAll(keepingCapacity: true)
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
