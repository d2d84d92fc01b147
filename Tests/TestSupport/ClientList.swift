/// Whether a `CLIENT LIST` reply names a client flagged blocked (`b`): one waiting in a
/// blocking command, or one whose command a `CLIENT PAUSE` holds back (Redis 7.0 flags a
/// client postponed by a pause so).
public func listsABlockedClient(_ clientList: String) -> Bool {
    clientList.split(whereSeparator: \.isNewline).contains { line in
        line.split(separator: " ").contains { $0.hasPrefix("flags=") && $0.contains("b") }
    }
}
