import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import Store
import SwitchboardCore

/// `POST /v1/voiceai/batch-calling/submit` as `multipart/form-data`: the submission's fields as
/// form fields, and a CSV `file` with a `phone_number` column whose other columns become the
/// recipients' variables. The file is parsed and staged as it arrives, never held whole; the
/// batch and its recipients are created together at the end, or not at all.
struct BatchCSVSubmit {
    let api: APIEnvironment
    /// A form field (not the file) larger than this is refused.
    static let maxFieldBytes = 64 * 1024

    func submit(_ request: Request, id: String, principal: Principal) async throws -> (CampaignRecord, [InvalidLead]) {
        guard let boundary = Self.boundary(request.headers[.contentType] ?? "") else {
            throw APIError.badRequest("multipart/form-data requires a boundary", field: "file")
        }
        let session = try await LeadImportSession.begin(campaignID: ScopedID.key(organizationID: principal.organizationID, id: id), format: .csv,
                                                        store: api.store, clock: api.clock)
        do {
            let parts = FormParts(boundary: boundary)
            for try await buffer in api.upload(request) {
                try parts.execute(buffer)
                for chunk in parts.takeFileChunks() { try await session.feed(chunk) }
            }
            guard parts.sawFile else { throw APIError.badRequest("file required: a CSV with a phone_number column", field: "file") }
            let summary = try await session.finishStaging()
            guard summary.received > 0 else { throw APIError.badRequest("file has no recipients", field: "file") }
            let body = try BatchSubmitRequest.body(form: parts.fields)
            var parsed = try await BatchSubmitRequest.parse(body, id: id, principal: principal, store: api.store, now: api.clock.now())
            parsed.campaign.invalidLeadsCount = summary.invalidCount
            let batch = try await api.store.createCampaign(parsed.campaign, leads: [], staged: session.staged,
                                                           stagedValid: summary.received - summary.invalidCount)
            return (batch, summary.invalid)
        } catch {
            await session.abort()
            if let problem = error as? LeadStreamError { throw APIError.badRequest(problem.description, field: "file") }
            throw error
        }
    }

    /// The boundary parameter of a `multipart/form-data` content type, unquoted.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty ? nil : value
        }
        return nil
    }
}

/// MultipartKit's push parser, collecting form fields whole and handing the `file` part's
/// bytes out as they come. Used by one request's task only.
private final class FormParts {
    private let parser: MultipartParser
    private(set) var fields: [String: String] = [:]
    private(set) var sawFile = false
    private var name: String?
    private var isFile = false
    private var value: [UInt8] = []
    private var fileChunks: [[UInt8]] = []
    private var failure: APIError?

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        parser.onHeader = { [unowned self] header, value in
            guard header.lowercased() == "content-disposition" else { return }
            name = Self.parameter("name", in: value)
            isFile = name == "file"
            if isFile { sawFile = true }
        }
        parser.onBody = { [unowned self] buffer in
            if isFile {
                fileChunks.append(Array(buffer.readableBytesView))
            } else if value.count + buffer.readableBytes <= BatchCSVSubmit.maxFieldBytes {
                value += buffer.readableBytesView
            } else {
                failure = APIError.badRequest("form field \(name ?? "?") is larger than \(BatchCSVSubmit.maxFieldBytes) bytes", field: name)
            }
        }
        parser.onPartComplete = { [unowned self] in
            if !isFile, let name { fields[name] = String(decoding: value, as: UTF8.self) }
            name = nil
            isFile = false
            value = []
        }
    }

    func execute(_ buffer: ByteBuffer) throws {
        do { try parser.execute(buffer) } catch { throw APIError.badRequest("malformed multipart body", field: "file") }
        if let failure { throw failure }
    }

    func takeFileChunks() -> [[UInt8]] {
        defer { fileChunks = [] }
        return fileChunks
    }

    /// `name="file"` out of `form-data; name="file"; filename="leads.csv"`.
    static func parameter(_ key: String, in header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == key { return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }
}
