import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore

/// Files uploaded through the console's forms (a campaign's leads, a suppression list), kept
/// on disk between the upload and the form that uses them: written as they arrive, never held
/// whole, and readable only by the API key that uploaded them. A draft older than a day is
/// removed at the next upload.
struct ConsoleUploads: Sendable {
    let directory: URL

    init(directory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-console-uploads")) {
        self.directory = directory
    }

    /// Reads a `multipart/form-data` body's `file` part into a new draft; returns its id and
    /// the form's other fields.
    func receive(_ request: Request, principal: Principal, api: APIEnvironment) async throws -> (id: String, fields: [String: String]) {
        guard let boundary = FormParts.boundary(request.headers[.contentType] ?? "") else {
            throw APIError.badRequest("choose a CSV file to upload", field: "file")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        removeStale()
        let id = Identifier.make("", bytes: 12)
        let path = file(id, principal: principal)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, "cannot write the upload")
        }
        do {
            defer { try? handle.close() }
            let parts = FormParts(boundary: boundary)
            for try await buffer in api.upload(request) {
                try parts.execute(buffer)
                for chunk in parts.takeFileChunks() { try handle.write(contentsOf: chunk) }
            }
            guard parts.sawFile else { throw APIError.badRequest("choose a CSV file to upload", field: "file") }
            return (id, parts.fields)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// The draft's path, when this key uploaded it (404 otherwise).
    func path(_ id: String, principal: Principal) throws -> String {
        guard id.count == 24, id.allSatisfy(\.isHexDigit) else { throw APIError.notFound("Upload") }
        let path = file(id, principal: principal)
        guard FileManager.default.fileExists(atPath: path) else { throw APIError.notFound("Upload") }
        return path
    }

    func remove(_ id: String, principal: Principal) {
        try? FileManager.default.removeItem(atPath: file(id, principal: principal))
    }

    private func file(_ id: String, principal: Principal) -> String {
        directory.appendingPathComponent("\(RecordingsDirectory.safe(principal.keyID))-\(id).csv").path
    }

    private func removeStale() {
        let cutoff = Date().addingTimeInterval(-86_400)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            let path = directory.appendingPathComponent(name).path
            if let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }
}

/// A file's bytes in 64 KiB chunks, read as they are asked for (a request body made of a draft).
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    func makeAsyncIterator() -> Iterator { Iterator(path: path) }

    final class Iterator: AsyncIteratorProtocol {
        private let path: String
        private var handle: FileHandle?

        init(path: String) { self.path = path }

        func next() async throws -> ByteBuffer? {
            if handle == nil {
                guard let opened = FileHandle(forReadingAtPath: path) else { throw APIError.notFound("Upload") }
                handle = opened
            }
            guard let data = try handle?.read(upToCount: 64 * 1024), !data.isEmpty else {
                try? handle?.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }

        deinit { try? handle?.close() }
    }
}
