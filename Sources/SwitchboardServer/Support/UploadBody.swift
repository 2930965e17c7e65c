import Hummingbird
import NIOCore

/// A streamed upload's chunks as they arrive, refused with 413 as soon as the total passes
/// the limit: nothing past it is read.
struct UploadBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var total = 0
        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            total += buffer.readableBytes
            guard total <= limit else { throw APIError(.contentTooLarge, "upload is larger than \(limit) bytes") }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), limit: limit) }
}

extension APIEnvironment {
    /// The request's body as an upload bounded by `maxUploadBytes`.
    func upload(_ request: Request) -> UploadBody { UploadBody(body: request.body, limit: maxUploadBytes) }
}
