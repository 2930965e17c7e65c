import Hummingbird
import Logging
import Store
import SwitchboardCore

/// `POST/GET /v1/agents`, `GET /v1/agents/{id}`: voice and SMS agents in Teli's shape.
struct AgentsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/agents", use: create)
        router.get("v1/agents", use: list)
        router.get("v1/agents/:agent_id", use: get)
        router.patch("v1/agents/:agent_id", use: update)
        router.put("v1/agents/:agent_id", use: update)
    }

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.Agent>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        guard let type = AgentType(rawValue: try body.string("agent_type") ?? AgentType.voice.rawValue) else {
            throw APIError.badRequest("agent_type must be voice or sms", field: "agent_type")
        }
        let name = try body.requiredString("agent_name")
        try Self.validate(body)
        let owner = try principal.owner(body)
        let id = try body.string("agent_id") ?? Identifier.make("agent_", bytes: 15)
        var stored = body.object
        for key in ["organization_id", "tenant_id", "user_id", "agent_id"] { stored[key] = nil }
        let agent = AgentRecord(id: id, organizationID: owner.organizationID, tenantID: owner.tenantID, userID: owner.userID,
                                type: type, name: name, body: stored, createdAt: api.clock.now())
        try await api.store.insertAgent(agent)
        context.logger.info("agent created", metadata: ["agent_id": "\(id)", "agent_type": "\(type)"])
        return api.teli(Schemas.agent(agent, message: type == .voice ? "Voice agent created successfully" : "SMS agent created successfully"))
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.AgentList>> {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        let type = try request.query.choice("agent_type", ["voice", "sms"]).flatMap(AgentType.init(rawValue:))
        let limit = try request.query.int("limit", in: 1...500) ?? 100
        let agents = try await api.store.agents(organizationID: principal.organizationID, userID: scope, type: type, limit: limit)
        return api.teli(Schemas.AgentList(count: agents.count, agents: agents.map { Schemas.agent($0) }))
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.AgentEnvelope>> {
        let agent = try await load(context)
        return api.teli(Schemas.AgentEnvelope(agent: Schemas.agent(agent)))
    }

    /// Changes the fields given (`null` removes one); the type and owner stay.
    @Sendable func update(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.Agent>> {
        var agent = try await load(context)
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        if let type = try body.string("agent_type"), type != agent.type.rawValue {
            throw APIError.badRequest("agent_type cannot change (create another agent)", field: "agent_type")
        }
        try Self.validate(body)
        if let name = try body.string("agent_name") {
            guard !name.isEmpty else { throw APIError.badRequest("agent_name must not be empty", field: "agent_name") }
            agent.name = name
        }
        for (key, value) in body.object where !["organization_id", "tenant_id", "user_id", "agent_id", "agent_type", "agent_name"].contains(key) {
            agent.body[key] = value == .null ? nil : value
        }
        try await api.store.updateAgent(agent, now: api.clock.now())
        context.logger.info("agent updated", metadata: ["agent_id": "\(agent.id)"])
        return api.teli(Schemas.agent(agent, message: "Agent updated successfully"))
    }

    private func load(_ context: SwitchboardContext) async throws -> AgentRecord {
        let id = try context.parameter("agent_id")
        return try await context.owned("Agent") { try await api.store.agent(id: id, organizationID: $0) }
    }

    /// The fields an agent's conversations read, checked the way they will be read.
    static func validate(_ body: JSONObjectReader) throws {
        for key in ["prompt", "starting_message", "voice_id", "language", "objective_prompt", "voice", "stt_model", "tts_model",
                    "voicemail_message", "success_criteria", "inbound_message"] { _ = try body.string(key) }
        if let mode = try body.string("transfer_mode"), !["cold", "warm"].contains(mode) {
            throw APIError.badRequest("transfer_mode must be cold or warm", field: "transfer_mode")
        }
        if let number = try body.string("transfer_number"), (try? PhoneNumber(parsing: number)) == nil {
            throw APIError.badRequest("transfer_number must be a phone number in E.164 (+15551234567)", field: "transfer_number")
        }
        if let fields = try body.array("extraction_fields"), fields.contains(where: { $0.stringValue == nil && $0["name"]?.stringValue == nil }) {
            throw APIError.badRequest("extraction_fields must be names or objects with a name", field: "extraction_fields")
        }
        do { _ = try DripStep.schedule(body.object["drip_schedule"]) } catch let error as DripStep.Invalid {
            throw APIError.badRequest(error.description, field: "drip_schedule")
        }
    }
}
