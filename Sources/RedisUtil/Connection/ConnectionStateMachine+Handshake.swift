import RESP

extension ConnectionStateMachine {
    /// A reply arrived while handshaking, at `now`.
    mutating func handshakeReply(_ reply: RESPValue, now: UInt64) -> HandshakeAction {
        precondition(state == .handshaking, "handshakeReply in state \(state)")
        guard let step = awaiting.popFirst() else {
            return .fail(.handshakeFailed(step: "handshake", message: "unexpected reply \(reply) with no handshake command pending"))
        }
        if let message = reply.errorMessage {
            if step == .hello && (message.hasPrefix("ERR unknown command") || message.hasPrefix("NOPROTO")) {
                // A server before Redis 6 (or one refusing RESP3): carry on in RESP2.
                negotiated = .resp2
                let bytes = resp2Handshake()
                return awaiting.isEmpty ? ready(now: now) : .write(bytes)
            }
            // The client name is a label for CLIENT LIST. An ACL may refuse CLIENT (RESP3's
            // HELLO … SETNAME is not checked against it): the connection works without one.
            guard step == .setName else {
                // The server may quote the refused command, password and all.
                let redacted = SecretRedaction.redacting([settings.password].compactMap { $0 }, in: message)
                return .fail(.handshakeFailed(step: step.description, message: redacted))
            }
            return awaiting.isEmpty ? ready(now: now) : .wait
        }
        if step == .hello {
            negotiated = .resp3
            var bytes: [UInt8] = []
            if settings.database != 0 {
                RESPEncoder.encodeCommand(into: &bytes, "SELECT", settings.database)
                awaiting.append(.select)
            }
            appendReadOnly(to: &bytes)
            if !bytes.isEmpty { return .write(bytes) }
        }
        return awaiting.isEmpty ? ready(now: now) : .wait
    }

    private mutating func ready(now: UInt64) -> HandshakeAction {
        becomeReady(now: now)
        return .ready
    }

    /// AUTH, SELECT and CLIENT SETNAME pipelined; AUTH first so the others run authenticated.
    mutating func resp2Handshake() -> [UInt8] {
        var bytes: [UInt8] = []
        if let password = settings.password {
            if let username = settings.username {
                RESPEncoder.encodeCommand(into: &bytes, "AUTH", username, password)
            } else {
                RESPEncoder.encodeCommand(into: &bytes, "AUTH", password)
            }
            awaiting.append(.auth)
        }
        if settings.database != 0 {
            RESPEncoder.encodeCommand(into: &bytes, "SELECT", settings.database)
            awaiting.append(.select)
        }
        if let name = settings.clientName {
            RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "SETNAME", name)
            awaiting.append(.setName)
        }
        appendReadOnly(to: &bytes)
        return bytes
    }

    /// `READONLY` when the settings ask for it, after authentication: a cluster replica
    /// then serves reads of its primary's slots instead of redirecting them.
    private mutating func appendReadOnly(to bytes: inout [UInt8]) {
        guard settings.readOnly else { return }
        RESPEncoder.encodeCommand(into: &bytes, "READONLY")
        awaiting.append(.readOnly)
    }
}
