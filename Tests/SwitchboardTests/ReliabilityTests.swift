import Foundation
import Logging
import SQLKit
import Testing
@testable import Dialer
import Store
import SwitchboardCore
import SwitchboardServer
import TelephonySimulator

/// Crash safety at the store and engine level: a dead dialer's claims are reconciled with the
/// carrier, a stale claim cannot write, and no lead is ever claimed twice.
@Suite struct ReliabilityTests {
    struct Fixture {
        let store: Store
        let database: any DatabaseProvider
        let campaign: CampaignRecord
        let clock: ManualClock
        let directory: URL

        static func make(_ backend: Backend, leads: [String], hours: CallingHours = CallingHours(start: 0, end: 1440), maxConcurrent: Int = 100) async throws -> Fixture {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-rel-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let logger = Logger(label: "test")
            let database = try await TestDatabase.open(backend, directory: directory)
            let store = Store(database: database, logger: logger)
            try await store.migrate()
            let clock = ManualClock(testStart)
            try await store.insertPhoneNumber(PhoneNumberRecord(
                id: "phnum_1", phoneNumber: "+15175550001", organizationID: "o", tenantID: "t", userID: "u", provider: .simulator,
                capabilities: [.voice], nickname: nil, areaCode: "517", settings: [:], maxConcurrentCalls: 1000, callsPerSecond: 0,
                createdAt: clock.now()))
            let settings = CampaignSettings(agentID: "agent_1", outboundNumber: "+15175550001", numbers: ["+15175550001"], redialEnabled: true,
                                            retry: RetryPolicy(maxAttempts: 3, interval: 60), callingHours: hours, maxConcurrentCalls: maxConcurrent)
            let record = CampaignRecord(id: "c1", organizationID: "o", tenantID: "t", userID: "u", settings: settings,
                                        beginAt: clock.now(), endAt: clock.now().addingTimeInterval(86_400), createdAt: clock.now(), updatedAt: clock.now())
            let valid = try leads.map { ValidLead(phone: try PhoneNumber(parsing: $0), fields: ["simulate": "busy,completed"]) }
            let campaign = try await store.createCampaign(record, leads: valid)
            return Fixture(store: store, database: database, campaign: campaign, clock: clock, directory: directory)
        }

        func dialer(_ log: SimulatorDialLog) -> Dialer {
            Dialer(store: store, providers: ProviderRegistry([SimulatorProvider(timeScale: 0, clock: clock, log: log)]), clock: clock,
                   logger: Logger(label: "test"))
        }

        func close() async {
            await database.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test(arguments: Backend.allCases) func aClaimNeverTakesALeadTwice(_ backend: Backend) async throws {
        // Half the leads are outside their hours (New York at 03:00 UTC), which makes the
        // claim defer them and look again: the chosen ones must not come back.
        let leads = (0..<10).map { $0 % 2 == 0 ? "+1212555010\($0)" : "+1555000010\($0)" }
        let fixture = try await Fixture.make(backend, leads: leads, hours: .default)
        let threeAM = Date(timeIntervalSince1970: 1_768_532_400)
        var fallback = fixture.campaign
        fallback.settings.timeZone = "Asia/Tokyo"
        let claims = try await fixture.store.claim(fallback, limits: ClaimLimits(batch: 50), now: threeAM)
        #expect(claims.count == 5)
        #expect(Set(claims.map(\.leadID)).count == 5)
        #expect(claims.allSatisfy { $0.to.hasPrefix("+1555") })
        // Two claimers at once split the rest between them, never sharing one.
        let again = try await Fixture.make(backend, leads: (10..<60).map { "+155500001\($0)" })
        async let a = again.store.claim(again.campaign, limits: ClaimLimits(batch: 30), now: again.clock.now())
        async let b = again.store.claim(again.campaign, limits: ClaimLimits(batch: 30), now: again.clock.now())
        let (first, second) = try await (a, b)
        #expect(first.count + second.count == 50)
        #expect(Set(first.map(\.leadID)).isDisjoint(with: second.map(\.leadID)))
        await fixture.close()
        await again.close()
    }

    @Test(arguments: Backend.allCases) func aDeadDialersClaimsAreReconciledWithTheCarrier(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001", "+15550000002"])
        let log = SimulatorDialLog()
        // A dialer claims both and dies: one call reached the carrier (and ended busy), the
        // other never left the building.
        let claims = try await fixture.store.claim(fixture.campaign, limits: ClaimLimits(lease: 90), now: fixture.clock.now())
        #expect(claims.count == 2)
        let provider = SimulatorProvider(timeScale: 0, clock: fixture.clock, log: log)
        let placed = claims[0]
        _ = await provider.dial(placed.dialRequest())

        // Before the lease lapses nothing is touched.
        let survivor = fixture.dialer(log)
        try await survivor.reap(now: fixture.clock.now().addingTimeInterval(60))
        #expect(try await fixture.store.expiredClaims(now: fixture.clock.now().addingTimeInterval(60)).isEmpty)

        let later = fixture.clock.now().addingTimeInterval(120)
        try await survivor.reap(now: later)
        let reconciled = try await fixture.store.attempts(callID: placed.callID)
        #expect(reconciled.map(\.outcome) == [.busy])
        #expect(reconciled.first?.inDoubt == true)
        // The one that never reached the carrier is put back, its attempt voided and uncounted.
        #expect(try await fixture.store.attempts(callID: claims[1].callID).isEmpty)
        let progress = try await fixture.store.progress(campaignID: fixture.campaign.key)
        #expect(progress.pending == 1)
        #expect(progress.retryScheduled == 1)
        #expect(progress.inProgress == 0)
        // Exactly one dial per attempt reached the carrier.
        #expect(log.count == 1)
        await fixture.close()
    }

    /// On PostgreSQL a claim takes its leads in one transaction and writes their calls and
    /// attempts in a second. A dialer that dies between them leaves leads dialing under an
    /// attempt and, for a first call, a call that no row has: the campaign is not done while
    /// they are out, and when their lease runs out they are put back as they were, a retry with
    /// its call. (The second transaction's loss is made here by deleting what it wrote, which
    /// on SQLite, where both are one transaction, cannot happen otherwise.)
    @Test(arguments: Backend.allCases) func aClaimLostBeforeItIsRecordedIsPutBack(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001", "+15550000002"])
        let (store, key, start) = (fixture.store, fixture.campaign.key, fixture.clock.now())
        let first = try await store.claim(fixture.campaign, limits: ClaimLimits(batch: 1), now: start)
        try await store.complete([AttemptCompletion(attempt: first[0], result: DialResult(outcome: .busy, endedAt: start))])
        let now = start.addingTimeInterval(120)
        let lost = try await store.claim(fixture.campaign, limits: ClaimLimits(lease: 90), now: now)
        #expect(lost.count == 2)
        let retry = try #require(lost.first { $0.leadID == first[0].leadID })
        let fresh = try #require(lost.first { $0.leadID != first[0].leadID })
        #expect(retry.callID == first[0].callID)
        try await fixture.database.write { db in
            try await db.raw("DELETE FROM attempts WHERE id IN (\(binds: lost.map(\.attemptID)))").run()
            try await db.raw("DELETE FROM calls WHERE id = \(bind: fresh.callID)").run()
        }
        #expect(try await !store.completeCampaignIfDone(id: key, now: now), "two leads taken, not yet recorded")

        let log = SimulatorDialLog()
        try await fixture.dialer(log).reap(now: now.addingTimeInterval(60))
        func leads() async throws -> [Int64: (state: String, attempts: Int, callID: String?)] {
            try await fixture.database.read { db in
                var leads: [Int64: (state: String, attempts: Int, callID: String?)] = [:]
                for row in try await db.raw("SELECT id, state, attempts, call_id FROM leads").all() {
                    leads[Int64(try row.decode(column: "id", as: Int.self))] = (try row.decode(column: "state", as: String.self),
                        try row.decode(column: "attempts", as: Int.self), try row.decode(column: "call_id", as: String?.self))
                }
                return leads
            }
        }
        #expect(try await leads().values.allSatisfy { $0.state == "dialing" }, "inside the lease nothing is touched")

        try await fixture.dialer(log).reap(now: now.addingTimeInterval(120))
        let back = try await leads()
        #expect(back[retry.leadID]?.state == "queued")
        #expect(back[retry.leadID]?.attempts == 1)
        #expect(back[retry.leadID]?.callID == first[0].callID)
        #expect(back[fresh.leadID]?.state == "queued")
        #expect(back[fresh.leadID]?.attempts == 0)
        #expect(back[fresh.leadID]?.callID == nil)
        #expect(try await store.leadCountDrift().isEmpty)
        #expect(log.count == 0, "nothing was dialed")

        let again = try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now.addingTimeInterval(120))
        #expect(Set(again.map(\.leadID)) == [retry.leadID, fresh.leadID])
        #expect(again.first { $0.leadID == retry.leadID }?.attemptNumber == 2)
        #expect(again.first { $0.leadID == retry.leadID }?.callID == first[0].callID)
        let recalled = try #require(again.first { $0.leadID == fresh.leadID })
        #expect(recalled.attemptNumber == 1)
        #expect(try await store.attempts(callID: recalled.callID).count == 1)
        #expect(try await store.attempts(callID: first[0].callID).count == 2)
        #expect(try await store.leadCountDrift().isEmpty)
        await fixture.close()
    }

    /// On PostgreSQL, a claim whose second transaction fails puts its leads back at once: they
    /// do not wait out their lease. The failure is a trigger that refuses every attempt row.
    @Test func aClaimWhoseRecordFailsPutsItsLeadsBackAtOnce() async throws {
        let fixture = try await Fixture.make(.postgres, leads: ["+15550000001", "+15550000002"])
        let (store, key, now) = (fixture.store, fixture.campaign.key, fixture.clock.now())
        try await fixture.database.write { db in
            try await db.raw("CREATE FUNCTION refuse_attempts() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql").run()
            try await db.raw("CREATE TRIGGER refuse_attempts BEFORE INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION refuse_attempts()").run()
        }
        await #expect(throws: (any Error).self) { try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now) }
        let states = try await fixture.database.read { db in
            try await db.raw("SELECT state, attempts, call_id FROM leads").all().map {
                "\(try $0.decode(column: "state", as: String.self)) \(try $0.decode(column: "attempts", as: Int.self)) \(try $0.decode(column: "call_id", as: String?.self) ?? "-")"
            }
        }
        #expect(states == ["queued 0 -", "queued 0 -"])
        #expect(try await store.leadCountDrift().isEmpty)
        try await fixture.database.write { db in try await db.raw("DROP TRIGGER refuse_attempts ON attempts").run() }
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).count == 2)
        #expect(try await !store.completeCampaignIfDone(id: key, now: now))
        await fixture.close()
    }

    @Test(arguments: Backend.allCases) func aStaleClaimCannotWrite(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001"])
        let stale = try await fixture.store.claim(fixture.campaign, limits: ClaimLimits(lease: 10), now: fixture.clock.now())[0]
        // The campaign's last call activity is its latest claim, then its latest end.
        func lastActivity() async throws -> Double? {
            try await fixture.store.progress(campaignID: fixture.campaign.key).lastCallUpdateAt?.timeIntervalSince1970
        }
        #expect(try await lastActivity().map { abs($0 - fixture.clock.now().timeIntervalSince1970) < 0.001 } == true)
        // Its lease lapses; the carrier never saw it; the lead is claimed again.
        let later = fixture.clock.now().addingTimeInterval(30)
        try await fixture.dialer(SimulatorDialLog()).reap(now: later)
        let fresh = try await fixture.store.claim(fixture.campaign, limits: ClaimLimits(), now: later)[0]
        #expect(fresh.leadID == stale.leadID)
        #expect(fresh.attemptID != stale.attemptID)

        // The stale dialer wakes up and reports: its write is fenced off.
        try await fixture.store.complete([AttemptCompletion(attempt: stale, result: DialResult(outcome: .completed, endedAt: later))])
        var progress = try await fixture.store.progress(campaignID: fixture.campaign.key)
        #expect(progress.inProgress == 1)
        #expect(progress.completed == 0)
        #expect(try await lastActivity().map { abs($0 - later.timeIntervalSince1970) < 0.001 } == true)
        let end = later.addingTimeInterval(5)
        try await fixture.store.complete([AttemptCompletion(attempt: fresh, result: DialResult(outcome: .completed, endedAt: end))])
        progress = try await fixture.store.progress(campaignID: fixture.campaign.key)
        #expect(progress.completed == 1)
        #expect(try await lastActivity().map { abs($0 - end.timeIntervalSince1970) < 0.001 } == true)
        await fixture.close()
    }

    /// A campaign is done when no lead is queued and none is dialing: each half is asked of an
    /// index of its own (`completeCampaignIfDone`), so each is held here on its own.
    @Test(arguments: Backend.allCases) func aCampaignCompletesOnlyWithNoLeadQueuedOrDialing(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001", "+15550000002"])
        let (store, key, now) = (fixture.store, fixture.campaign.key, fixture.clock.now())
        let first = try await store.claim(fixture.campaign, limits: ClaimLimits(batch: 1), now: now)
        #expect(first.count == 1)
        try await store.complete([AttemptCompletion(attempt: first[0], result: DialResult(outcome: .completed, endedAt: now))])
        #expect(try await !store.completeCampaignIfDone(id: key, now: now), "one lead done, one queued")
        let second = try await store.claim(fixture.campaign, limits: ClaimLimits(batch: 1), now: now)
        #expect(second.count == 1)
        #expect(try await !store.completeCampaignIfDone(id: key, now: now), "one lead done, one dialing")
        try await store.complete([AttemptCompletion(attempt: second[0], result: DialResult(outcome: .completed, endedAt: now))])
        #expect(try await store.completeCampaignIfDone(id: key, now: now))
        #expect(try await store.campaign(id: fixture.campaign.id, organizationID: "o")?.status == .completed)
        await fixture.close()
    }

    /// The engine reads its campaigns before it claims: a pause committed in between is seen
    /// under the claim's lock, and nothing is claimed.
    @Test(arguments: Backend.allCases) func aClaimFromAStaleReadOfItsCampaignTakesNothingOncePaused(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001", "+15550000002"])
        let (store, key, now) = (fixture.store, fixture.campaign.key, fixture.clock.now())
        #expect(try await store.setCampaignStatus(id: key, from: [.active], to: .paused, reason: nil, now: now))
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).isEmpty)
        #expect(try await store.setCampaignStatus(id: key, from: [.paused], to: .active, reason: nil, now: now))
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).count == 2)
        await fixture.close()
    }

    /// The campaign's cap on calls in flight holds across claims: what one claim took counts
    /// against the next until it ends.
    @Test(arguments: Backend.allCases) func claimsKeepTheCampaignsCapOnCallsInFlight(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: (1...5).map { "+1555000000\($0)" }, maxConcurrent: 2)
        let (store, now) = (fixture.store, fixture.clock.now())
        let first = try await store.claim(fixture.campaign, limits: ClaimLimits(batch: 1), now: now)
        #expect(first.count == 1)
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).count == 1)
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).isEmpty)
        try await store.complete([AttemptCompletion(attempt: first[0], result: DialResult(outcome: .completed, endedAt: now))])
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).count == 1)
        #expect(try await store.claim(fixture.campaign, limits: ClaimLimits(), now: now).isEmpty)
        #expect(try await store.leadCountDrift().isEmpty)
        await fixture.close()
    }

    @Test(arguments: Backend.allCases) func aHeartbeatRenewsLeasesWithoutWaitingForARowInUse(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: ["+15550000001", "+15550000002"])
        let claims = try await fixture.store.claim(fixture.campaign, limits: ClaimLimits(lease: 60), now: fixture.clock.now())
        #expect(claims.count == 2)
        func lease(_ claim: ClaimedAttempt) async throws -> Double? {
            try await fixture.database.read { db in
                try await db.raw("SELECT lease_until FROM leads WHERE claim_id = \(bind: claim.attemptID)").first()?.decode(column: "lease_until", as: Double.self)
            }
        }
        let later = fixture.clock.now().addingTimeInterval(600)
        try await fixture.store.renewLeases(attemptIDs: claims.map(\.attemptID), until: later)
        #expect(try await lease(claims[0]) == later.timeIntervalSince1970)
        #expect(try await lease(claims[1]) == later.timeIntervalSince1970)

        // On PostgreSQL, another transaction (a completion) holds one lead's row: the renewal
        // takes the other and returns without waiting for it. SQLite has one writer, so a
        // renewal there simply runs after it.
        guard backend == .postgres else { await fixture.close(); return }
        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await fixture.database.write { db in
                try await db.raw("SELECT id FROM leads WHERE claim_id = \(bind: claims[0].attemptID) FOR UPDATE").run()
                lockedSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in locked { break }
        let latest = later.addingTimeInterval(600)
        let renewed = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await fixture.store.renewLeases(attemptIDs: claims.map(\.attemptID), until: latest); return true }
            // A renewal that waits would wait for the holder: let it go, so the test ends.
            group.addTask { try await Task.sleep(for: .seconds(20)); releaseSignal.yield(); return false }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        releaseSignal.yield()
        try await holder.value
        #expect(renewed, "the renewal waited for the row another transaction held")
        #expect(try await lease(claims[0]) == later.timeIntervalSince1970)
        #expect(try await lease(claims[1]) == latest.timeIntervalSince1970)
        await fixture.close()
    }

    /// On PostgreSQL an upload's leads move in without ON CONFLICT (`Store.moveStaged`). A
    /// number another transaction inserts meanwhile must not fail the upload: it is skipped.
    @Test func anUploadSkipsANumberInsertedWhileItMoves() async throws {
        let fixture = try await Fixture.make(.postgres, leads: ["+15550000001"])
        let now = fixture.clock.now()
        let upload = try await fixture.store.beginImport(campaignID: fixture.campaign.key, now: now)
        try await fixture.store.stage(try ["+15550000002", "+15550000003"].map { ValidLead(phone: try PhoneNumber(parsing: $0)) }, in: upload, first: 0)

        // Another transaction inserts one of the upload's numbers and holds it uncommitted.
        let (inserted, insertedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await fixture.database.write { db in
                try await db.raw("""
                    INSERT INTO leads (campaign_id, phone_number, state, due_at, due_reason)
                    VALUES (\(bind: fixture.campaign.key), '+15550000002', 'queued', \(bind: now.timeIntervalSince1970), 'new')
                    """).run()
                insertedSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in inserted { break }
        let committing = Task { try await fixture.store.commitImport(StagedLeads(upload: upload, count: 2), invalid: 0, now: now) }
        // The move (its statement without ON CONFLICT) has reached that number and waits for
        // the holder's row; a move that never gets there is let go after 20 s, and fails below.
        var waiting = 0
        for _ in 0..<2_000 where waiting == 0 {
            waiting = try await fixture.database.read { db in
                try await db.raw("""
                    SELECT COUNT(*) AS n FROM pg_stat_activity
                    WHERE wait_event_type = 'Lock' AND query LIKE '%NOT EXISTS (SELECT 1 FROM leads l WHERE%'
                    """).first()?.decode(column: "n", as: Int.self) ?? 0
            }
            if waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        releaseSignal.yield()
        #expect(waiting == 1, "the move did not wait for the number the other transaction held")
        try await holder.value
        let (added, duplicates) = try await committing.value
        #expect(added == 1)
        #expect(duplicates == 1)
        let numbers = try await fixture.database.read { db in
            try await db.raw("SELECT phone_number FROM leads WHERE campaign_id = \(bind: fixture.campaign.key) ORDER BY phone_number").all()
                .map { try $0.decode(column: "phone_number", as: String.self) }
        }
        #expect(numbers == ["+15550000001", "+15550000002", "+15550000003"])
        await fixture.close()
    }

    /// On PostgreSQL a COPY puts a row wherever its table has room, so an upload's later chunk
    /// can sit before an earlier one (forced here by freeing the front of the import's table):
    /// its leads still enter the campaign, and are dialed, in the order they were sent.
    @Test func anUploadKeepsItsOrderWhereStagingReusesFreedSpace() async throws {
        let fixture = try await Fixture.make(.postgres, leads: [])
        func leads(_ places: ClosedRange<Int>) throws -> [ValidLead] {
            try places.map { ValidLead(phone: try PhoneNumber(parsing: "+1555100" + String(format: "%04d", $0))) }
        }
        let upload = try await fixture.store.beginImport(campaignID: fixture.campaign.key, now: fixture.clock.now())
        let table = "lead_staging_\(upload.id)"
        // Vacuum frees a deleted row only once no open transaction can still see it, and other
        // tests' transactions in the same database may: vacuum again until none is left dead.
        func removeFiller(_ condition: String) async throws {
            try await fixture.database.write { db in try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE import_id = -1 AND \(unsafeRaw: condition)").run() }
            let database = fixture.database
            try await until(seconds: 60) {
                let dead = try? await database.read { db in
                    try await db.raw("VACUUM \(unsafeRaw: table)").run()
                    return try await db.raw("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = \(bind: table)::regclass")
                        .first()?.decode(column: "n_dead_tup", as: Int.self)
                }
                return dead == 0
            }
        }
        // Filler rows take the table; the back of them goes, then the first chunk is staged;
        // the front goes, then the second chunk; then the rest of the filler.
        try await fixture.database.write { db in
            try await db.raw("INSERT INTO \(unsafeRaw: table) (import_id, ordinal, phone_number) SELECT -1, g, '+1' || (5550000000 + g) FROM generate_series(1, 20000) g").run()
        }
        try await removeFiller("ordinal > 15000")
        try await fixture.store.stage(try leads(0...3999), in: upload, first: 0)
        try await removeFiller("ordinal <= 5000")
        try await fixture.store.stage(try leads(4000...7999), in: upload, first: 4000)
        try await removeFiller("true")
        let secondFirst = try await fixture.database.read { db in
            try await db.raw("""
                SELECT (SELECT MIN(ctid) FROM \(unsafeRaw: table) WHERE ordinal >= 4000) < (SELECT MIN(ctid) FROM \(unsafeRaw: table) WHERE ordinal < 4000) AS before
                """).first()?.decode(column: "before", as: Bool.self)
        }
        #expect(secondFirst == true, "the second chunk did not land before the first: this test shows nothing")

        let (added, _) = try await fixture.store.commitImport(StagedLeads(upload: upload, count: 8_000, mayRepeat: false), invalid: 0, now: fixture.clock.now())
        #expect(added == 8_000)
        let order = try await fixture.database.read { db in
            try await db.raw("SELECT phone_number FROM leads WHERE campaign_id = \(bind: fixture.campaign.key) ORDER BY id").all()
                .map { try $0.decode(column: "phone_number", as: String.self) }
        }
        #expect(order == (try leads(0...7999)).map(\.phone.e164))
        await fixture.close()
    }

    /// An upload read in many small chunks at once, some of them all invalid or all blank,
    /// adds its leads in the order sent, counts a repeat across chunks once, and reports each
    /// invalid lead at its place in the whole upload, in CSV and in JSON.
    @Test(arguments: Backend.allCases) func chunksReadAtOnceKeepTheUploadsOrderAndPlaces(_ backend: Backend) async throws {
        // Lead i: invalid when i % 7 == 3, and lead 40 repeats lead 1.
        let numbers = (0..<60).map { i in i % 7 == 3 ? "bad\(i)" : i == 40 ? "+15550001001" : "+1555000\(1000 + i)" }
        let valid = numbers.enumerated().filter { $0.offset % 7 != 3 && $0.offset != 40 }.map(\.element)
        let invalidPlaces = numbers.indices.filter { $0 % 7 == 3 }
        // Blank records between leads are not leads and take no place.
        let csv = "phone_number,n\n" + numbers.enumerated().map { "\($0.element),\($0.offset)\n" + ($0.offset % 5 == 0 ? ",\n\n" : "") }.joined()
        let json = "[" + numbers.enumerated().map { #"{"phone":"\#($0.element)","n":\#($0.offset)}"# }.joined(separator: ",") + "]"
        for (format, body) in [(LeadImportSession.Format.csv, csv), (.json, json)] {
            let fixture = try await Fixture.make(backend, leads: [])
            let campaign = fixture.campaign
            let session = try await LeadImportSession.begin(campaignID: campaign.key, format: format, store: fixture.store, clock: fixture.clock, chunk: 3)
            let bytes = Array(body.utf8)
            for start in stride(from: 0, to: bytes.count, by: 17) { try await session.feed(bytes[start..<min(start + 17, bytes.count)]) }
            let summary = try await session.finish()
            #expect(summary.received == 60)
            #expect(summary.added == valid.count)
            #expect(summary.duplicates == 1)
            #expect(summary.invalid.map(\.index) == invalidPlaces, "\(format)")
            #expect(summary.invalid.map(\.phoneNumber) == invalidPlaces.map { numbers[$0] })
            let order = try await fixture.database.read { db in
                try await db.raw("SELECT phone_number FROM leads WHERE campaign_id = \(bind: campaign.key) ORDER BY id").all()
                    .map { try $0.decode(column: "phone_number", as: String.self) }
            }
            #expect(order == valid, "\(format)")
            await fixture.close()
        }
    }

    /// An upload that keeps sending keeps its import however long it takes: each piece renews
    /// the lease once a quarter of it has passed. One that pauses past its lease is reaped with
    /// what it staged, and then fails rather than adding only the leads sent after the reap.
    @Test(arguments: Backend.allCases) func aSlowUploadKeepsItsImportAndALapsedOneAddsNothing(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend, leads: [])
        func rows(_ numbers: ClosedRange<Int>) -> [UInt8] { Array(numbers.map { "+1555000\(1000 + $0)\n" }.joined().utf8) }
        func reap() async throws -> Int { try await fixture.store.reapAbandonedImports(now: fixture.clock.now()) }

        let slow = try await LeadImportSession.begin(campaignID: fixture.campaign.key, format: .csv, store: fixture.store, clock: fixture.clock, chunk: 2)
        try await slow.feed(Array("phone_number\n".utf8))
        for n in 1...4 {
            try await slow.feed(rows(n...n))
            fixture.clock.advance(by: LeadImport.lease * 0.6)
            #expect(try await reap() == 0, "a lead was sent \(Int(LeadImport.lease * 0.6)) s ago")
        }
        #expect(try await slow.finish().added == 4)

        let lapsing = try await LeadImportSession.begin(campaignID: fixture.campaign.key, format: .csv, store: fixture.store, clock: fixture.clock, chunk: 2)
        try await lapsing.feed(Array("phone_number\n".utf8) + rows(11...12))
        fixture.clock.advance(by: LeadImport.lease + 1)
        #expect(try await reap() == 1)
        await #expect(throws: StoreError.self) { try await lapsing.feed(rows(13...13)) }
        await lapsing.abort()

        // The commit checks too: an import reaped after its last piece adds nothing.
        let upload = try await fixture.store.beginImport(campaignID: fixture.campaign.key, now: fixture.clock.now())
        try await fixture.store.stage([ValidLead(phone: try PhoneNumber(parsing: "+15550002001"))], in: upload, first: 0)
        fixture.clock.advance(by: LeadImport.lease + 1)
        #expect(try await reap() == 1)
        await #expect(throws: StoreError.self) { try await fixture.store.commitImport(StagedLeads(upload: upload, count: 1), invalid: 0, now: fixture.clock.now()) }
        if backend == .postgres {
            // Its table went with it: a piece staged after the reap fails the same way.
            await #expect(throws: StoreError.self) {
                try await fixture.store.stage([ValidLead(phone: try PhoneNumber(parsing: "+15550002002"))], in: upload, first: 1)
            }
        }

        let (leads, staged) = try await fixture.database.read { db in
            (try await db.raw("SELECT COUNT(*) AS n FROM leads").first()?.decode(column: "n", as: Int.self),
             try await db.raw("SELECT COUNT(*) AS n FROM lead_staging").first()?.decode(column: "n", as: Int.self))
        }
        #expect(leads == 4)
        #expect(staged == 0)
        if backend == .postgres {
            let tables = try await fixture.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'lead\\_staging\\_%'")
                    .first()?.decode(column: "n", as: Int.self)
            }
            #expect(tables == 0, "an import's staging table outlived it")
        }
        await fixture.close()
    }

    @Test func theSimulatorAnswersForRecentDialsOnly() async throws {
        let clock = ManualClock(testStart)
        let log = SimulatorDialLog(capacity: 2)
        let simulator = SimulatorProvider(timeScale: 0, clock: clock, log: log)
        func request(_ id: Int64) -> DialRequest {
            DialRequest(attemptID: id, callID: "call_\(id)", attemptNumber: 1, from: "+15175550001", to: "+15550000072", dialAt: testStart,
                        ringTimeout: 30, maxDuration: 600, fields: [:])
        }
        for id in Int64(1)...3 { _ = await simulator.dial(request(id)) }
        #expect(await simulator.status(of: request(1)) == .unknown)
        guard case .ended(let result) = await simulator.status(of: request(3)) else { Issue.record("attempt 3 forgotten"); return }
        #expect(result.outcome == .busy) // the default mix: 72 is busy
        #expect(log.count == 3)
    }
}

