import Foundation
import LocalRedis
import Logging
@testable import RedisUtil
import RESP
import TestSupport
import Testing

/// Secrets stay out of errors, logs and reflection, including where the server itself
/// quotes them back.
@Suite struct SecretRedactionTests {
    static let password = "s3cret-Pa55-4-redaction-test"

    /// Redis quotes a refused command's arguments: with `AUTH` renamed away, the RESP2
    /// handshake's `AUTH <password>` comes back inside the error text. Neither the error
    /// thrown nor the log may carry it.
    @Test func aServerEchoingThePasswordIsRedactedFromErrorsAndLogs() async throws {
        let log = RecordingLogHandler.Records()
        var logger = Logger(label: "redaction-test") { _ in RecordingLogHandler(records: log) }
        logger.logLevel = .trace
        try await withServer(.init(extraConfig: [#"rename-command AUTH """#])) { server in
            let configuration = RedisConfiguration(password: Self.password, protocolVersion: .resp2, connectTimeout: .seconds(2), logger: logger)
            try await withClient(server, configuration: configuration) { client in
                let error = await #expect(throws: RedisError.self) { try await client.send("PING") }
                let text = "\(String(describing: error)) \(String(reflecting: error))"
                #expect(text.contains("unknown command"), "the server's refusal is kept: \(text)")
                #expect(!text.contains(Self.password), "the error carries the password: \(text)")
                #expect(!text.contains("s3cret"), "the error carries part of the password: \(text)")
            }
        }
        let lines = log.lines
        #expect(lines.contains { $0.contains("handshake failed") }, "nothing was logged: \(lines)")
        #expect(!lines.contains { $0.contains("s3cret") }, "the log carries the password: \(lines)")
    }

    @Test func redactionRemovesQuotedArgumentsAndEveryOccurrence() {
        let truncated = "ERR unknown command 'AUTH', with args beginning with: 'abcdefgh"
        #expect(SecretRedaction.redacting(["abcdefghijkl"], in: truncated) == "ERR unknown command 'AUTH', with args beginning with: ***")
        #expect(SecretRedaction.redacting(["pw-123456"], in: "bad pw-123456, pw-123456 again") == "bad ***, *** again")
        #expect(SecretRedaction.redacting(["pw"], in: "bad 'pw', pw again") == "bad ***, pw again")
        // A short secret is not cut out of ordinary words.
        #expect(SecretRedaction.redacting(["p"], in: "WRONGPASS invalid username-password pair") == "WRONGPASS invalid username-password pair")
        #expect(SecretRedaction.redacting([""], in: "WRONGPASS invalid") == "WRONGPASS invalid")
    }

    /// The pure state machine redacts before the error exists, whatever the shell does with it.
    @Test func theHandshakeErrorIsRedactedInTheStateMachine() throws {
        var machine = ConnectionStateMachine(settings: .init(RedisConfiguration(password: Self.password, protocolVersion: .resp2)))
        let started = machine.connectStarted(now: 0)
        #expect(started)
        _ = machine.connected(now: 0)
        let action = machine.handshakeReply(.error(Array("ERR unknown command 'AUTH', with args beginning with: '\(Self.password)' ".utf8)), now: 0)
        guard case .fail(let error) = action else {
            Issue.record("expected the handshake to fail, got \(action)")
            return
        }
        #expect(!"\(error)".contains(Self.password))
    }

    /// `dump` and `String(reflecting:)` print a value's mirror: without a custom one they
    /// showed `password: Optional("…")`.
    @Test func reflectionRedactsThePassword() throws {
        let endpoint = try RedisEndpoint(url: "redis://alice:\(Self.password)@cache.internal:6380/2")
        let configuration = RedisConfiguration(username: "alice", password: Self.password, database: 3)
        struct Holder { var endpoint: RedisEndpoint; var configuration: RedisConfiguration }
        var dumped = ""
        dump(endpoint, to: &dumped)
        dump(configuration, to: &dumped)
        dump(Holder(endpoint: endpoint, configuration: configuration), to: &dumped)
        dumped += String(reflecting: Holder(endpoint: endpoint, configuration: configuration))
        #expect(!dumped.contains("s3cret"), "\(dumped)")
        #expect(dumped.contains("***") && dumped.contains("alice") && dumped.contains("cache.internal"), "\(dumped)")
        // Every stored property has its place in the mirror, the password too.
        let labels = Set(Mirror(reflecting: configuration).children.compactMap(\.label))
        for expected in ["username", "password", "database", "connectTimeout", "maxBulkLength", "blockingConnectionIdleTimeout", "cancellation"] {
            #expect(labels.contains(expected), "the mirror lacks \(expected)")
        }
    }
}

/// A swift-log handler that keeps every message with its metadata, for assertions.
struct RecordingLogHandler: LogHandler {
    final class Records: Sendable {
        private let storage = Locked<[String]>([])
        func append(_ line: String) { storage.withLock { $0.append(line) } }
        var lines: [String] { storage.withLock { $0 } }
    }

    let records: Records
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        records.append("\(event.level) \(event.message) \(merged)")
    }
}
