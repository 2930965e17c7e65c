import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    public func beginImport(campaignID: String, now: Date) async throws -> LeadImport {
        try await write { [flavor = database.flavor] db in
            let row = try await db.raw("""
                INSERT INTO lead_imports (campaign_id, lease_until) VALUES (\(bind: campaignID), \(bind: now.epoch + LeadImport.lease)) RETURNING id
                """).first()
            let id = Int64(try row!.int("id"))
            if flavor == .postgres {
                try await db.raw("CREATE TABLE \(unsafeRaw: Self.staging(id, flavor)) (LIKE lead_staging)").run()
            }
            return LeadImport(id: id, campaignID: campaignID)
        }
    }

    /// Where an import's leads wait. On PostgreSQL each import has a table of its own, dropped
    /// at once when the import ends: deleting a million staged rows from a shared table took
    /// 0.5 s of the upload's commit, and left them for vacuum. On SQLite, where a delete is
    /// cheap and a schema change stops every prepared statement, the imports share one.
    static func staging(_ id: Int64, _ flavor: SQLFlavor) -> String {
        flavor == .postgres ? "lead_staging_\(id)" : "lead_staging"
    }

    /// Whether `StagedLeads.mayRepeat` spares the commit work: on PostgreSQL, where the move
    /// looks for numbers sent twice before it inserts; SQLite's skips them as it inserts.
    public var importsUseRepeatHint: Bool { database.flavor == .postgres }

    /// Stages a chunk (COPY on PostgreSQL) whose first lead is the import's `first`th (from 0).
    /// Staged rows count for nothing until `commitImport`.
    public func stage(_ leads: [ValidLead], in upload: LeadImport, first: Int) async throws {
        try await stage(stagingRows(leads, in: upload, first: first), in: upload)
    }

    /// A chunk's rows as `stage` writes them, made without the database: the leads' fields as
    /// JSON, and on PostgreSQL as COPY's text. Leads are staged in the order of `first` (any
    /// number above the chunk before's last), their order within the chunk after it.
    public func stagingRows(_ leads: [ValidLead], in upload: LeadImport, first: Int) -> BulkRows {
        let id = String(upload.id)
        return database.bulkRows(columns: ["import_id", "ordinal", "phone_number", "fields"],
                                 rows: leads.enumerated().map { [id, String(first + $0.offset), $0.element.phone.e164, $0.element.fieldsJSON] })
    }

    public func stage(_ rows: BulkRows, in upload: LeadImport) async throws {
        do {
            try await database.bulkInsert(rows, into: Self.staging(upload.id, database.flavor))
        } catch where PostgresProvider.isUndefinedTable(error) {
            throw Self.lapsed  // reaped, its table with it
        }
    }

    /// Extends the import's lease by `LeadImport.lease`. Throws `StoreError.conflict` when it
    /// has lapsed and the import was reaped with its staged rows.
    public func renewImport(_ upload: LeadImport, now: Date) async throws {
        try await write { db in
            guard try await db.raw("""
                UPDATE lead_imports SET lease_until = \(bind: now.epoch + LeadImport.lease) WHERE id = \(bind: upload.id) RETURNING id
                """).first() != nil else { throw Self.lapsed }
        }
    }

    /// An import reaped before it was committed: what it staged is gone, so none of it may be
    /// added (a commit would otherwise add only the rows staged after the reap).
    static let lapsed = StoreError.conflict(
        "the upload paused longer than \(Int(LeadImport.lease)) s and was abandoned; none of its leads were added, send it again")

    /// Moves every staged lead of the import into the campaign at once (duplicates of numbers
    /// it already has are skipped) and adds the counts. A finished campaign that receives new
    /// leads becomes active again.
    public func commitImport(_ staged: StagedLeads, invalid: Int, now: Date) async throws -> (added: Int, duplicates: Int) {
        let upload = staged.upload
        return try await writeCounting { db, counts in
            let campaign = try await db.raw("SELECT begin_at FROM campaigns WHERE id = \(bind: upload.campaignID)").first()
            let added = try await moveStaged(db, staged, dueAt: max(now.epoch, try campaign?.double("begin_at") ?? now.epoch))
            let duplicates = staged.count - added
            counts.add(upload.campaignID, LeadCounts.queued(attempts: 0), added)
            try await db.raw("""
                UPDATE campaigns SET contacts_count = contacts_count + \(bind: added), invalid_leads_count = invalid_leads_count + \(bind: invalid),
                  duplicate_leads_count = duplicate_leads_count + \(bind: duplicates), updated_at = \(bind: now.epoch),
                  status = CASE WHEN status = 'completed' AND \(bind: added) > 0 THEN 'active' ELSE status END
                WHERE id = \(bind: upload.campaignID)
                """).run()
            return (added, duplicates)
        }
    }

    /// Inside a write: the import's staged leads into `leads`, in upload order, then the import
    /// is gone. Returns how many were new to the campaign.
    func moveStaged(_ db: any SQLDatabase, _ staged: StagedLeads, dueAt: Double) async throws -> Int {
        let upload = staged.upload
        // Taken first: a reaper that has not yet run now finds nothing; one that has, or holds
        // the row (it waits for it on PostgreSQL), leaves nothing to take.
        guard try await db.raw("DELETE FROM lead_imports WHERE id = \(bind: upload.id) RETURNING id").first() != nil else {
            throw Self.lapsed
        }
        // From the staged rows as `s`, with `s.at` their upload order: dial order among leads
        // due at once.
        let insert: SQLQueryString = """
            INSERT INTO leads (campaign_id, phone_number, fields, state, due_at, due_reason)
            SELECT \(bind: upload.campaignID), s.phone_number, s.fields, 'queued', \(bind: dueAt), 'new' FROM
            """
        guard database.flavor == .postgres else {
            let before = try await leadCount(db, campaignID: upload.campaignID)
            // `WHERE` is required before ON CONFLICT in INSERT … SELECT (SQLite's parser). The
            // rowid is the upload order here (a new row's is above every row's in the table, and
            // the import's own stay), and scanning by it needs no sort.
            try await db.raw(insert + """
                 (SELECT phone_number, fields, rowid AS at FROM lead_staging WHERE import_id = \(bind: upload.id)) AS s
                WHERE true ORDER BY s.at ON CONFLICT DO NOTHING
                """).run()
            let added = try await leadCount(db, campaignID: upload.campaignID) - before
            try await removeStaged(db, id: upload.id)
            return added
        }
        let table = Self.staging(upload.id, .postgres)
        // The upload-order sort of a million staged rows spilled to disk in the default 4 MB;
        // for this transaction only, it may use memory. The order is the ordinal's: a COPY puts
        // a row wherever the table has room for it, not always after the rows before it.
        try await db.raw("SET LOCAL work_mem = '256MB'").run()
        // ON CONFLICT makes PostgreSQL insert each row speculatively and confirm it: a million
        // leads took 25 s where the same rows without it took 15, as long as `\copy` into the
        // table. Numbers the campaign has are skipped by NOT EXISTS instead (when it has any),
        // and an upload's own repeats (the first kept) by DISTINCT ON, which sorts, only when
        // it may have any and has. A number another transaction inserts meanwhile (another
        // upload, an escalated text) fails that statement; the move is then made again with ON
        // CONFLICT, which waits such rows out.
        var repeats = false
        if staged.mayRepeat {
            repeats = try await db.raw("""
                SELECT 1 AS repeated FROM \(unsafeRaw: table) GROUP BY phone_number HAVING COUNT(*) > 1 LIMIT 1
                """).first() != nil
        }
        let rows: SQLQueryString = repeats ? """
            (SELECT DISTINCT ON (phone_number) phone_number, fields, ordinal AS at FROM \(unsafeRaw: table) ORDER BY phone_number, ordinal) AS s
            """ : "(SELECT phone_number, fields, ordinal AS at FROM \(unsafeRaw: table)) AS s"
        let known: SQLQueryString = try await db.raw("SELECT 1 AS known FROM leads WHERE campaign_id = \(bind: upload.campaignID) LIMIT 1").first() != nil
            ? " WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.campaign_id = \(bind: upload.campaignID) AND l.phone_number = s.phone_number)"
            : ""
        // Counted as inserted: counting the campaign's leads after would visit every new row's
        // heap tuple (none is all-visible yet), seconds at a million. PostgreSQL's writes always
        // run on `PostgresDirectDatabase` (`PostgresProvider.write`).
        func count(_ statement: SQLQueryString) async throws -> Int {
            try await (db as! PostgresDirectDatabase).rowsWritten(by: statement)
        }
        let added: Int
        try await db.raw("SAVEPOINT move_staged").run()
        do {
            let new = try await count(insert + " " + rows + known + " ORDER BY s.at")
            try await db.raw("RELEASE SAVEPOINT move_staged").run()
            added = new
        } catch where PostgresProvider.isUniqueViolation(error) {
            try await db.raw("ROLLBACK TO SAVEPOINT move_staged").run()
            added = try await count(insert + " " + rows + " ORDER BY s.at ON CONFLICT DO NOTHING")
        }
        try await removeStaged(db, id: upload.id)
        return added
    }

    /// An import's staged rows: its table dropped on PostgreSQL, its rows deleted on SQLite.
    private func removeStaged(_ db: any SQLDatabase, id: Int64) async throws {
        if database.flavor == .postgres {
            try await db.raw("DROP TABLE IF EXISTS \(unsafeRaw: Self.staging(id, .postgres))").run()
        } else {
            try await db.raw("DELETE FROM lead_staging WHERE import_id = \(bind: id)").run()
        }
    }

    private func removeImport(_ db: any SQLDatabase, id: Int64) async throws {
        try await removeStaged(db, id: id)
        if database.flavor == .postgres {
            // An import begun by a process from before tables per import staged here.
            try await db.raw("DELETE FROM lead_staging WHERE import_id = \(bind: id)").run()
        }
        try await db.raw("DELETE FROM lead_imports WHERE id = \(bind: id)").run()
    }

    private func leadCount(_ db: any SQLDatabase, campaignID: String) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM leads WHERE campaign_id = \(bind: campaignID)").first()?.int("n") ?? 0
    }

    public func abortImport(_ upload: LeadImport) async throws {
        try await write { db in try await removeImport(db, id: upload.id) }
    }

    /// Removes imports whose process stopped renewing them, with their staged rows.
    public func reapAbandonedImports(now: Date) async throws -> Int {
        try await write { db in
            let stale = try await db.raw("SELECT id FROM lead_imports WHERE lease_until < \(bind: now.epoch)").all().map { try $0.int("id") }
            for id in stale { try await removeImport(db, id: Int64(id)) }
            return stale.count
        }
    }
}
