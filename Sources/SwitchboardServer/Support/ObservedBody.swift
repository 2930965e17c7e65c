import Hummingbird
import NIOCore
import SwitchboardCore

/// A request body that shows each chunk to `observe` on its way to the handler; `observe` may
/// throw to stop the body there. Used to bound uploads and to fingerprint idempotent requests.
struct ObservedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let observe: @Sendable (ByteBuffer) throws -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let observe: @Sendable (ByteBuffer) throws -> Void
        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            try observe(buffer)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), observe: observe) }
}

extension APIEnvironment {
    /// The request's body as an upload, refused with 413 as soon as it passes `maxUploadBytes`:
    /// nothing past the limit is read.
    func upload(_ request: Request) -> ObservedBody {
        let limit = maxUploadBytes
        let total = Locked(0)
        return ObservedBody(base: request.body) { buffer in
            let sum = total.withLock { total -> Int in
                total += buffer.readableBytes
                return total
            }
            guard sum <= limit else { throw APIError(.contentTooLarge, "upload is larger than \(limit) bytes") }
        }
    }
}
