@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

/// How long the client waits for the command, `nil` when it is not routed as blocking.
private func wait(_ arguments: [any RESPArgument]) -> BlockingWait? {
    guard case .blocking(let wait) = CommandRoute.of(encoded(arguments)) else { return nil }
    return wait
}

@Suite("Recognising blocking commands from their encoded bytes")
struct BlockingCommandTests {
    @Test("blocking commands get their server timeout plus grace; 0 waits forever")
    func deadlines() {
        let grace = BlockingCommand.grace
        #expect(wait(["BLPOP", "a", "b", 5]) == .within(.seconds(5) + grace))
        #expect(wait(["brpop", "a", "0.25"]) == .within(.milliseconds(250) + grace))
        #expect(wait(["BLPOP", "a", 0]) == .forever)
        #expect(wait(["BLPOP", "a", "0.0"]) == .forever)
        #expect(wait(["BLMOVE", "s", "d", "LEFT", "RIGHT", 1]) == .within(.seconds(1) + grace))
        #expect(wait(["BLMPOP", 2, 1, "k", "LEFT"]) == .within(.seconds(2) + grace))
        #expect(wait(["XREAD", "COUNT", 1, "BLOCK", 1500, "STREAMS", "s", "$"]) == .within(.milliseconds(1500) + grace))
        #expect(wait(["XREAD", "BLOCK", 0, "STREAMS", "s", "$"]) == .forever)
    }

    @Test("ordinary commands, including B/W/X look-alikes, are not blocking")
    func notBlocking() {
        #expect(wait(["GET", "k"]) == nil)
        #expect(wait(["BITCOUNT", "k"]) == nil)
        #expect(wait(["XADD", "s", "*", "f", "v"]) == nil)
        #expect(wait(["XREAD", "COUNT", 1, "STREAMS", "s", "0"]) == nil)
        #expect(EncodedCommand.arguments(Array("garbage".utf8)) == nil)
        #expect(EncodedCommand.arguments(Array("*2\r\n$3\r\nGET\r\n".utf8)) == nil)
    }

    @Test("errors say whether a retry is safe")
    func safeToRetry() {
        #expect(RedisError.connectionLost(endpoint: "e", reason: "r", delivery: .notSent).isSafeToRetry)
        #expect(!RedisError.connectionLost(endpoint: "e", reason: "r", delivery: .written).isSafeToRetry)
        #expect(RedisError.overloaded(pending: 1, unsentBytes: 2).isSafeToRetry)
        #expect(RedisError.closed.isSafeToRetry)
        #expect(!RedisError.timeout(command: "c", after: .seconds(1)).isSafeToRetry)
        #expect(RedisError.noBlockingConnection(command: "c", waited: .seconds(1)).isSafeToRetry)
        #expect(!RedisError.cancelled.isSafeToRetry)
    }
}

@Suite("The one table of blocking commands")
struct BlockingCommandTableTests {
    /// The router recognises names by length and first letter; a command added to the
    /// table but not to the router would silently run on a shared connection.
    @Test("every command of the table is routed as blocking, in any letter case, with the deadline its table entry gives", arguments: BlockingCommand.allCases)
    func everyCommandIsRouted(_ command: BlockingCommand) {
        let name = command.name.description
        let arguments: [any RESPArgument] = switch command.entry.timeout {
        case .secondsLast: [name, "k", 3]
        case .secondsFirst: [name, 3, 1, "k", "LEFT"]
        case .millisecondsLast: [name, 1, 3000]
        case .blockOption(let groupOption): groupOption
            ? [name, "GROUP", "g", "c", "BLOCK", 3000, "STREAMS", "s", ">"]
            : [name, "BLOCK", 3000, "STREAMS", "s", "$"]
        }
        for spelling in [name, name.lowercased()] {
            var spelled = arguments
            spelled[0] = spelling
            #expect(wait(spelled) == .within(.seconds(3) + BlockingCommand.grace), "\(spelled)")
        }
    }
}
