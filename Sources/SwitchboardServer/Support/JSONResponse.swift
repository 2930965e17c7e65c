import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore

extension JSONValue {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func encoded() -> Data { (try? Self.encoder.encode(self)) ?? Data("null".utf8) }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(data: encoded())))
    }
}
