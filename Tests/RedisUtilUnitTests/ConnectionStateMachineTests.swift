@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

private func machine(_ configure: (inout RedisConfiguration) -> Void = { _ in }) -> ConnectionStateMachine {
    var configuration = RedisConfiguration()
    configure(&configuration)
    var machine = ConnectionStateMachine(settings: .init(configuration))
    let result1 = machine.connectStarted(now: 0)
    #expect(result1)
    return machine
}

private let ok = RESPValue.simpleString(Array("OK".utf8))
private let helloReply = RESPValue.map([(.bulkString(Array("proto".utf8)), .integer(3))])

@Suite("ConnectionStateMachine: the handshake as plain values")
struct ConnectionStateMachineTests {
    @Test("RESP3 without settings: one HELLO 3, ready on its reply")
    func helloOnly() {
        var m = machine()
        #expect(m.connected(now: 0) == encoded(["HELLO", "3"]))
        #expect(m.state == .handshaking)
        #expect(m.handshakeReply(helloReply, now: 0) == .ready)
        #expect(m.state == .ready)
        #expect(m.negotiated == .resp3)
    }

    @Test("RESP3 carries AUTH and SETNAME inside HELLO; SELECT follows HELLO")
    func helloWithEverything() {
        var m = machine {
            $0.username = "alice"; $0.password = "secret"; $0.clientName = "worker"; $0.database = 2
        }
        #expect(m.connected(now: 0) == encoded(["HELLO", "3", "AUTH", "alice", "secret", "SETNAME", "worker"]))
        #expect(m.handshakeReply(helloReply, now: 0) == .write(encoded(["SELECT", 2])))
        #expect(m.state == .handshaking)
        #expect(m.handshakeReply(ok, now: 0) == .ready)
        #expect(m.negotiated == .resp3)
    }

    @Test("a password without user authenticates as 'default' in HELLO")
    func helloDefaultUser() {
        var m = machine { $0.password = "pw" }
        #expect(m.connected(now: 0) == encoded(["HELLO", "3", "AUTH", "default", "pw"]))
    }

    @Test("HELLO unknown (Redis < 6) or NOPROTO falls back to a RESP2 handshake", arguments: [
        "ERR unknown command 'HELLO', with args beginning with: '3'",
        "NOPROTO unsupported protocol version",
    ])
    func fallback(error: String) {
        var m = machine { $0.password = "pw"; $0.database = 3; $0.clientName = "n" }
        _ = m.connected(now: 0)
        let expected = encoded(["AUTH", "pw"]) + encoded(["SELECT", 3]) + encoded(["CLIENT", "SETNAME", "n"])
        #expect(m.handshakeReply(.error(Array(error.utf8)), now: 0) == .write(expected))
        #expect(m.handshakeReply(ok, now: 0) == .wait)
        #expect(m.handshakeReply(ok, now: 0) == .wait)
        #expect(m.handshakeReply(ok, now: 0) == .ready)
        #expect(m.negotiated == .resp2)
    }

    @Test("fallback with nothing else to send is ready at once")
    func fallbackBare() {
        var m = machine()
        _ = m.connected(now: 0)
        #expect(m.handshakeReply(.error(Array("ERR unknown command 'HELLO'".utf8)), now: 0) == .ready)
        #expect(m.negotiated == .resp2)
        #expect(m.state == .ready)
    }

    @Test("a refused HELLO AUTH fails the handshake with the server's words")
    func helloAuthFailure() {
        var m = machine { $0.username = "alice"; $0.password = "wrong" }
        _ = m.connected(now: 0)
        let message = "WRONGPASS invalid username-password pair or user is disabled."
        #expect(m.handshakeReply(.error(Array(message.utf8)), now: 0) == .fail(.handshakeFailed(step: "HELLO", message: message)))
    }

    @Test("RESP2: AUTH, SELECT, SETNAME pipelined; a refused AUTH fails at AUTH")
    func resp2AuthFailure() {
        var m = machine { $0.protocolVersion = .resp2; $0.username = "u"; $0.password = "p"; $0.database = 1 }
        #expect(m.connected(now: 0) == encoded(["AUTH", "u", "p"]) + encoded(["SELECT", 1]))
        let message = "WRONGPASS invalid username-password pair"
        #expect(m.handshakeReply(.error(Array(message.utf8)), now: 0) == .fail(.handshakeFailed(step: "AUTH", message: message)))
    }

    @Test("RESP2: a refused SELECT fails at SELECT")
    func selectFailure() {
        var m = machine { $0.protocolVersion = .resp2; $0.database = 99 }
        #expect(m.connected(now: 0) == encoded(["SELECT", 99]))
        let message = "ERR DB index is out of range"
        #expect(m.handshakeReply(.error(Array(message.utf8)), now: 0) == .fail(.handshakeFailed(step: "SELECT", message: message)))
    }

    @Test("RESP3: a refused SELECT after HELLO fails at SELECT")
    func resp3SelectFailure() {
        var m = machine { $0.database = 99 }
        _ = m.connected(now: 0)
        #expect(m.handshakeReply(helloReply, now: 0) == .write(encoded(["SELECT", 99])))
        let message = "ERR DB index is out of range"
        #expect(m.handshakeReply(.error(Array(message.utf8)), now: 0) == .fail(.handshakeFailed(step: "SELECT", message: message)))
    }

    @Test("READONLY (a cluster client reading from replicas) ends the handshake, after HELLO or after AUTH")
    func readOnly() {
        var m = machine { $0.sendsReadOnly = true; $0.password = "pw" }
        _ = m.connected(now: 0)
        #expect(m.handshakeReply(helloReply, now: 0) == .write(encoded(["READONLY"])))
        #expect(m.handshakeReply(ok, now: 0) == .ready)
        var resp2 = machine { $0.sendsReadOnly = true; $0.password = "pw"; $0.protocolVersion = .resp2 }
        #expect(resp2.connected(now: 0) == encoded(["AUTH", "pw"]) + encoded(["READONLY"]))
        #expect(resp2.handshakeReply(ok, now: 0) == .wait)
        let message = "ERR This instance has cluster support disabled"
        #expect(resp2.handshakeReply(.error(Array(message.utf8)), now: 0) == .fail(.handshakeFailed(step: "READONLY", message: message)))
    }

    @Test("RESP2 without settings needs no handshake")
    func resp2Bare() {
        var m = machine { $0.protocolVersion = .resp2 }
        #expect(m.connected(now: 0) == nil)
        #expect(m.state == .ready)
    }

    @Test("failures count attempts until a handshake succeeds; close is final")
    func lifecycle() {
        var m = machine()
        let result2 = m.connectStarted(now: 0)
        #expect(!result2, "a second attempt while one is under way")
        let result3 = m.connectionLost(reason: "test", now: 0, queueRemains: false, random: 0.5) != nil
        #expect(result3)
        #expect(m.failedAttempts == 1)
        let result4 = m.connectStarted(now: 0)
        #expect(result4)
        _ = m.connected(now: 0)
        let result5 = m.connectionLost(reason: "test", now: 0, queueRemains: false, random: 0.5) != nil
        #expect(result5)
        #expect(m.failedAttempts == 2)
        let result6 = m.connectStarted(now: 0)
        #expect(result6)
        _ = m.connected(now: 0)
        #expect(m.handshakeReply(helloReply, now: 0) == .ready)
        #expect(m.failedAttempts == 0)
        // Losing a ready connection is not a failed attempt: the first reconnect is quick.
        let result7 = m.connectionLost(reason: "test", now: 0, queueRemains: false, random: 0.5) != nil
        #expect(result7)
        #expect(m.failedAttempts == 0)
        #expect(m.state == .disconnected)
        m.close()
        let result8 = m.connectStarted(now: 0)
        #expect(!result8)
        let result9 = m.connectionLost(reason: "test", now: 0, queueRemains: false, random: 0.5) != nil
        #expect(!result9)
    }

    @Test("backoff grows exponentially, is capped, and jitters within bounds")
    func backoff() {
        let backoff = RedisConfiguration.Backoff(initial: .milliseconds(10), maximum: .milliseconds(100), jitter: 0.5)
        #expect(backoff.delay(attempt: 0, random: 0.5) == .milliseconds(10))
        #expect(backoff.delay(attempt: 2, random: 0.5) == .milliseconds(40))
        #expect(backoff.delay(attempt: 30, random: 0.5) == .milliseconds(100))
        #expect(backoff.delay(attempt: 30, random: 0) == .milliseconds(50))
        #expect(backoff.delay(attempt: 30, random: 1) == .milliseconds(150))
        // The default ceiling lets a client serve within a second of the server's return.
        let defaults = RedisConfiguration.Backoff()
        #expect(defaults.delay(attempt: 40, random: 1) < .seconds(1))
    }
}
