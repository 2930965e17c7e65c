import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Store
import SwitchboardAPI
import SwitchboardCore

/// `/health` and `/openapi.yaml`: open to anyone.
struct SystemController {
    let store: Store

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.get("health") { _, _ -> JSONBody<Schemas.Health> in
            do {
                try await store.ping()
                return JSONBody(body: Schemas.Health(status: "ok"))
            } catch {
                return JSONBody(body: Schemas.Health(status: "unavailable", error: "database not answering"), status: .serviceUnavailable)
            }
        }
        router.get("openapi.yaml") { _, _ -> Response in
            let yaml = try OpenAPIDocument.yaml()
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(data: yaml)))
        }
    }
}
