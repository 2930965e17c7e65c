import Hummingbird
import NIOCore
import SwitchboardCore

/// A JSON document whose one large array is written page by page as it is read, so a
/// campaign's million leads never sit in memory at once.
enum StreamedJSON {
    /// A page of items and the key to read the next page after; `nil` when there is no more.
    typealias Page = (items: [JSONValue], last: Int64?)

    /// - Parameters:
    ///   - head: the document up to and including the array's `[`.
    ///   - tail: what closes it, given how many items were written.
    ///   - page: reads the items after a key (0 first).
    static func response(head: String, tail: @escaping @Sendable (Int) -> String,
                         page: @escaping @Sendable (_ after: Int64) async throws -> Page) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: head))
            var after: Int64 = 0
            var count = 0
            while true {
                let (items, last) = try await page(after)
                guard let last else { break }
                var chunk = ""
                for item in items {
                    if count > 0 { chunk += "," }
                    count += 1
                    item.write(to: &chunk)
                }
                try await writer.write(ByteBuffer(string: chunk))
                after = last
            }
            try await writer.write(ByteBuffer(string: tail(count)))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: body)
    }

    /// An object's fields as the head of a document that goes on with a streamed array under
    /// `key`: `{"a":1,"key":[`.
    static func head(_ fields: [String: JSONValue], arrayKey key: String) -> String {
        var text = JSONValue.object(fields).jsonText
        text.removeLast()
        return text + (fields.isEmpty ? "" : ",") + JSONValue.string(key).jsonText + ":["
    }
}
