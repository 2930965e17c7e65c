import Foundation
import MultipartKit
import NIOCore

/// MultipartKit's push parser, collecting form fields whole and handing the `file` part's
/// bytes out as they come. Used by one request's task only.
final class FormParts {
    private let parser: MultipartParser
    private(set) var fields: [String: String] = [:]
    private(set) var sawFile = false
    private var name: String?
    private var isFile = false
    private var value: [UInt8] = []
    private var fileChunks: [[UInt8]] = []
    private var failure: APIError?

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

    /// A form field (not the file) larger than this is refused.
    static let maxFieldBytes = 64 * 1024

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
            } else if value.count + buffer.readableBytes <= Self.maxFieldBytes {
                value += buffer.readableBytesView
            } else {
                failure = APIError.badRequest("form field \(name ?? "?") is larger than \(Self.maxFieldBytes) bytes", field: name)
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
