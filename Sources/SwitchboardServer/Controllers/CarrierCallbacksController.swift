import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Store
import SwitchboardCore
import TelephonyTwilio
import TelephonyVobiz

/// Where Twilio and Vobiz report on our calls. No API key: each request is signed with the
/// auth token of the number the call was placed from, checked against the public URL the
/// carrier was given (`SWITCHBOARD_PUBLIC_URL`), and refused with 403 when it does not match.
/// A report goes to the dial waiting on it in this process, or, when the dial runs in another
/// process (`--role api` in front of dialers, or several processes behind one URL), through the
/// database to whichever dialer waits on it (`CarrierEventRelay`).
struct CarrierCallbacksController {
    let store: Store
    let clock: any WallClock
    let publicURL: String
    let twilio: TwilioProvider
    let vobiz: VobizProvider
    let wakeMessaging: @Sendable () -> Void
    let recordings: RecordingsDirectory
    var inbound: InboundCalls { InboundCalls(store: store, clock: clock) }

    static let maxBody = 64 * 1024

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/telephony/twilio/status", use: twilioStatus)
        router.post("v1/telephony/twilio/recording", use: twilioRecording)
        router.post("v1/telephony/twilio/relay-end", use: twilioRelayEnd)
        router.post("v1/telephony/twilio/whisper", use: twilioWhisper)
        router.post("v1/telephony/vobiz/:callback/:attempt_id", use: vobizCallback)
        router.post("v1/telephony/twilio/sms", use: twilioInboundSMS)
        router.post("v1/telephony/twilio/sms-status", use: twilioSMSStatus)
        router.post("v1/telephony/twilio/voice", use: twilioInboundCall)
        router.post("v1/telephony/vobiz/inbound", use: vobizInboundCall)
    }

    // MARK: call-backs

    /// Twilio's incoming-call webhook for our numbers (the number's "A call comes in" URL): a
    /// lead calling back is answered by the agent, over the number's voice transport.
    @Sendable func twilioInboundCall(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (number, form) = try await signedToTwilioNumber(request, what: "call", context: context)
        func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        guard let call = try await inbound.open(on: number, from: field("From"), providerCallID: field("CallSid"), logger: context.logger) else {
            return Self.xml("<Response><Reject/></Response>", type: "text/xml")
        }
        let transport = (try? TwilioAccount(settings: number.settings))?.voiceTransport ?? .conversationRelay
        return Self.xml(TwilioProvider.twiml(attemptID: call.attemptID, publicURL: publicURL, transport: transport), type: "text/xml")
    }

    /// The answer URL of a Vobiz application for inbound calls to our numbers: a lead calling
    /// back is streamed to our voice pipeline.
    @Sendable func vobizInboundCall(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let form = try await Self.form(request)
        func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        guard let to = field("To").flatMap({ try? PhoneNumber(parsing: $0) }), let number = try await store.phoneNumber(e164: to.e164),
              number.provider == .vobiz, let account = try? VobizAccount(settings: number.settings),
              isSignedByVobiz(request, form: form, authToken: account.authToken) else {
            context.logger.warning("vobiz inbound call refused: bad signature or unknown number")
            throw Self.forged
        }
        guard let call = try await inbound.open(on: number, from: field("From"), providerCallID: field("CallUUID"), logger: context.logger) else {
            return Self.xml("<Response><Hangup reason=\"rejected\"/></Response>", type: "application/xml")
        }
        return Self.xml(VobizSignature.streamXML(attemptID: call.attemptID, authToken: account.authToken,
                                                 webSocketBase: TwilioProvider.webSocketURL(publicURL)), type: "application/xml")
    }

    static func xml(_ document: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document)))
    }

    /// Twilio's incoming-message webhook for our numbers (set it as the number's "A message
    /// comes in" URL). Answered with empty TwiML: our reply, if any, is sent through the outbox.
    @Sendable func twilioInboundSMS(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (number, form) = try await signedToTwilioNumber(request, what: "sms", context: context)
        func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        guard let from = field("From").flatMap({ try? PhoneNumber(parsing: $0) }) else { return Self.emptyTwiML }
        _ = try await InboundTexts(store: store, clock: clock, wake: wakeMessaging)
            .receive(on: number, from: from.e164, body: field("Body") ?? "", providerMessageID: field("MessageSid") ?? field("SmsSid"),
                     logger: context.logger)
        return Self.emptyTwiML
    }

    /// A delivery report for one of our texts (`StatusCallback` names our message id).
    @Sendable func twilioSMSStatus(_ request: Request, context: SwitchboardContext) async throws -> Response {
        guard let messageID = request.uri.queryParameters.get("message_id").flatMap(Int64.init) else { throw Self.forged }
        let form = try await Self.form(request)
        func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        guard let message = try await store.message(id: messageID), let number = try await store.phoneNumber(e164: message.ourNumber),
              number.provider == .twilio, isSignedByTwilio(request, form: form, settings: number.settings) else {
            context.logger.warning("twilio sms status refused: bad signature", metadata: ["message_id": "\(messageID)"])
            throw Self.forged
        }
        if let status = field("MessageStatus").flatMap(TwilioProvider.messageStatus) {
            let error = field("ErrorCode").map { "Twilio \($0)" }
            try await store.recordSMSStatus(messageID: messageID, SMSSendResult(status: status, providerMessageID: field("MessageSid"), error: error),
                                            now: clock.now())
        }
        return Response(status: .noContent)
    }

    /// A webhook about something coming in to one of our Twilio numbers (`To`), signed with
    /// that number's auth token: the number and the form.
    private func signedToTwilioNumber(_ request: Request, what: String, context: SwitchboardContext) async throws
        -> (PhoneNumberRecord, [(String, String)]) {
        let form = try await Self.form(request)
        guard let to = form.first(where: { $0.0 == "To" }).flatMap({ try? PhoneNumber(parsing: $0.1) }),
              let number = try await store.phoneNumber(e164: to.e164),
              number.provider == .twilio, isSignedByTwilio(request, form: form, settings: number.settings) else {
            context.logger.warning("twilio inbound \(what) refused: bad signature or unknown number")
            throw Self.forged
        }
        return (number, form)
    }

    /// Signed with the auth token of the number's account, over the URL Twilio was given.
    private func isSignedByTwilio(_ request: Request, form: [(String, String)], settings: [String: JSONValue]) -> Bool {
        guard let account = try? TwilioAccount(settings: settings),
              let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!] else { return false }
        return TwilioSignature.isValid(signature, url: publicURL + request.uri.description, parameters: form, authToken: account.authToken)
            && form.first(where: { $0.0 == "AccountSid" })?.1 == account.accountSID
    }

    static var emptyTwiML: Response { xml("<Response/>", type: "text/xml") }

    /// Signed by Vobiz (V3: over the URL, the form and a nonce) with the number's auth token.
    private func isSignedByVobiz(_ request: Request, form: [(String, String)], authToken: String) -> Bool {
        func header(_ name: String) -> String? { request.headers[HTTPField.Name(name)!] }
        guard let signature = header("X-Vobiz-Signature-V3") ?? header("X-Plivo-Signature-V3"),
              let nonce = header("X-Vobiz-Signature-V3-Nonce") ?? header("X-Plivo-Signature-V3-Nonce") else { return false }
        return VobizSignature.isValid(signature, url: publicURL + request.uri.path, parameters: form, nonce: nonce, authToken: authToken)
    }

    /// A callback about one of our Twilio calls (`?attempt_id=`), its signature checked with
    /// the calling number's auth token: the attempt, its form and its number's settings.
    private func signedTwilioCallback(_ request: Request, context: SwitchboardContext) async throws
        -> (attemptID: Int64, form: [(String, String)], settings: [String: JSONValue]) {
        guard let attemptID = request.uri.queryParameters.get("attempt_id").flatMap(Int64.init) else { throw Self.forged }
        let form = try await Self.form(request)
        guard let carrier = try await store.attemptCarrier(attemptID), carrier.provider == .twilio,
              isSignedByTwilio(request, form: form, settings: carrier.settings) else {
            context.logger.warning("twilio callback refused: bad signature", metadata: ["attempt_id": "\(attemptID)", "path": "\(request.uri.path)"])
            throw Self.forged
        }
        return (attemptID, form, carrier.settings)
    }

    @Sendable func twilioStatus(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (attemptID, form, _) = try await signedTwilioCallback(request, context: context)
        let token = request.headers[HTTPField.Name("I-Twilio-Idempotency-Token")!]
        if let event = TwilioCallStatus.event(callback: form, attemptID: attemptID, idempotencyToken: token, at: clock.now()) {
            try await hand(event, to: twilio.pending, provider: .twilio, context: context)
        }
        return Response(status: .noContent)
    }

    /// A ConversationRelay session ended (`<Connect action>`): the call goes to the person the
    /// agent handed it to, or hangs up.
    @Sendable func twilioRelayEnd(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (attemptID, _, _) = try await signedTwilioCallback(request, context: context)
        let transfer = try await store.transfer(attemptID: attemptID)
        return Self.xml(transfer.map { TwilioProvider.dialTwiML($0, attemptID: attemptID, publicURL: publicURL) } ?? "<Response><Hangup/></Response>",
                        type: "text/xml")
    }

    /// A warm transfer's person answered (the `<Number url>`): they hear the agent's summary,
    /// then the caller is put through.
    @Sendable func twilioWhisper(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (attemptID, _, _) = try await signedTwilioCallback(request, context: context)
        let summary = try await store.transfer(attemptID: attemptID)?.summary
        return Self.xml(summary.map { "<Response><Say>\($0.xmlEscaped)</Say></Response>" } ?? "<Response/>", type: "text/xml")
    }

    /// Twilio's recording of a ConversationRelay call is ready: fetched from the account's API
    /// (by its sid, never by the URL the request names) into the recordings directory, after
    /// the callback is answered (Twilio waits 15 s at most).
    @Sendable func twilioRecording(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let (attemptID, form, settings) = try await signedTwilioCallback(request, context: context)
        let field = { (name: String) in form.first { $0.0 == name }?.1 }
        guard field("RecordingStatus") == "completed", let sid = field("RecordingSid"),
              let call = try await store.callConversation(attemptID: attemptID)?.call else { return Response(status: .noContent) }
        var logger = context.logger
        logger[metadataKey: "call_id"] = "\(call.id)"
        Task { [store, twilio, recordings] in
            do {
                let bytes = try await twilio.downloadRecording(sid: sid, settings: settings, logger: logger)
                let audio = try WAV.parse(bytes)
                let path = recordings.path(organizationID: call.organizationID, callID: call.id, attemptID: attemptID)
                try recordings.write(bytes, to: path)
                let seconds = Double(audio.samples.count / max(1, audio.channels)) / Double(max(1, audio.sampleRate))
                try await store.saveCallMedia(callID: call.id, CallMedia(recording: CallMedia.Recording(path: path, seconds: seconds), latency: nil))
                logger.info("twilio recording stored", metadata: ["recording_sec": "\(seconds)"])
            } catch {
                logger.warning("twilio recording not stored", metadata: ["error": "\(error)"])
            }
        }
        return Response(status: .noContent)
    }

    @Sendable func vobizCallback(_ request: Request, context: SwitchboardContext) async throws -> Response {
        guard let kind = context.parameters.get("callback").flatMap(VobizCallStatus.Callback.init(rawValue:)),
              let attemptID = context.parameters.get("attempt_id").flatMap(Int64.init) else { throw Self.forged }
        let form = try await Self.form(request)
        guard let carrier = try await store.attemptCarrier(attemptID), carrier.provider == .vobiz,
              let account = try? VobizAccount(settings: carrier.settings), isSignedByVobiz(request, form: form, authToken: account.authToken)
        else {
            context.logger.warning("vobiz callback refused: bad signature", metadata: ["attempt_id": "\(attemptID)"])
            throw Self.forged
        }
        if let event = VobizCallStatus.event(kind, form: form, attemptID: attemptID, at: clock.now()) {
            try await hand(event, to: vobiz.pending, provider: .vobiz, context: context)
        }
        // The answer URL says what the call does: stream its audio to our voice pipeline; the
        // transfer URL, dial the person the agent handed it to. The other callbacks get an empty
        // document, so every reply is the XML the contract says.
        let xml: String
        switch kind {
        case .answer:
            xml = VobizSignature.streamXML(attemptID: attemptID, authToken: account.authToken, webSocketBase: TwilioProvider.webSocketURL(publicURL))
        case .transfer:
            xml = try await store.transfer(attemptID: attemptID).map { VobizProvider.dialXML($0, attemptID: attemptID, publicURL: publicURL) }
                ?? "<Response><Hangup/></Response>"
        case .whisper:
            xml = try await store.transfer(attemptID: attemptID)?.summary.map { "<Response><Speak>\($0.xmlEscaped)</Speak></Response>" } ?? "<Response/>"
        default:
            xml = "<Response/>"
        }
        return Self.xml(xml, type: "application/xml")
    }

    /// To the dial waiting here, or through the database to the process where it waits.
    private func hand(_ event: CarrierCallEvent, to pending: PendingCarrierCalls, provider: ProviderName, context: SwitchboardContext) async throws {
        let here = pending.deliver(event)
        if !here { try await store.recordCarrierEvent(event, provider: provider) }
        context.logger.debug("carrier callback", metadata: ["provider": "\(provider)", "attempt_id": "\(event.attemptID)",
                                                            "stage": "\(event.stage)", "dial_here": "\(here)"])
    }

    static let forged = APIError(.forbidden, "signature does not match")

    static func form(_ request: Request) async throws -> [(String, String)] {
        var request = request
        let body = try await request.collectBody(upTo: maxBody)
        return FormURLEncoded.decode(String(buffer: body))
    }
}
