import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore

extension JSONValue {
    /// Written by the core's JSON writer, like every other JSON Switchboard produces.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: jsonText)))
    }
}
