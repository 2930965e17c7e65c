import Foundation
import Hummingbird
import NIOCore

/// A JSON document whose one large array is written page by page as it is read, so a
/// campaign's million leads never sit in memory at once: `{head…,"key":[items…],trailer…}`.
enum StreamedJSON {
    /// - Parameters:
    ///   - head: the fields before the array (an object with at least one field).
    ///   - key: the array's name.
    ///   - trailer: the fields after it, given how many items were written (`count`).
    ///   - page: reads the items after a key (0 first), and the key of the last one read;
    ///     `nil` when there is no more.
    static func response<Head: Encodable & Sendable, Item: Encodable & Sendable, Trailer: Encodable & Sendable>(
        head: Head, arrayKey key: String, trailer: @escaping @Sendable (Int) -> Trailer?,
        page: @escaping @Sendable (_ after: Int64) async throws -> (items: [Item], last: Int64?)
    ) throws -> Response {
        var opening = try ByteJSONEncoder.encode(head)
        opening.removeLast()   // `}`
        opening.append(contentsOf: ",\(String(decoding: try ByteJSONEncoder.encode(key), as: UTF8.self)):[".utf8)
        let body = ResponseBody { [opening] writer in
            try await writer.write(ByteBuffer(bytes: opening))
            var after: Int64 = 0
            var count = 0
            while true {
                let (items, last) = try await page(after)
                guard let last else { break }
                if !items.isEmpty {
                    // One encoding per page: `[a,b]` written as `a,b`, after a comma if needed.
                    var chunk = try ByteJSONEncoder.encode(items)
                    chunk.removeFirst()
                    chunk.removeLast()
                    if count > 0 { chunk.insert(UInt8(ascii: ","), at: chunk.startIndex) }
                    count += items.count
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                after = last
            }
            var closing = Array("]".utf8)
            if let fields = trailer(count) {
                var more = try ByteJSONEncoder.encode(fields)
                more.removeFirst()   // `{`
                closing.append(UInt8(ascii: ","))
                closing.append(contentsOf: more)
            } else {
                closing.append(UInt8(ascii: "}"))
            }
            try await writer.write(ByteBuffer(bytes: closing))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: body)
    }
}

/// No fields after the array.
struct NoTrailer: Encodable, Sendable {}
