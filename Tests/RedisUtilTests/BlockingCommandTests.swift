@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

private func deadline(_ arguments: [any RESPArgument]) -> Duration?? {
    guard case .blocking(let deadline) = CommandRoute.of(encoded(arguments)) else { return nil }
    return .some(deadline)
}

@Suite("Recognising blocking commands from their encoded bytes")
struct BlockingCommandTests {
    @Test("blocking commands get their server timeout plus grace; 0 waits forever")
    func deadlines() {
        let grace = BlockingCommand.grace
        #expect(deadline(["BLPOP", "a", "b", 5]) == .some(.seconds(5) + grace))
        #expect(deadline(["brpop", "a", "0.25"]) == .some(.milliseconds(250) + grace))
        #expect(deadline(["BLPOP", "a", 0]) == .some(nil))
        #expect(deadline(["BLPOP", "a", "0.0"]) == .some(nil))
        #expect(deadline(["BLMOVE", "s", "d", "LEFT", "RIGHT", 1]) == .some(.seconds(1) + grace))
        #expect(deadline(["BLMPOP", 2, 1, "k", "LEFT"]) == .some(.seconds(2) + grace))
        #expect(deadline(["XREAD", "COUNT", 1, "BLOCK", 1500, "STREAMS", "s", "$"]) == .some(.milliseconds(1500) + grace))
        #expect(deadline(["XREAD", "BLOCK", 0, "STREAMS", "s", "$"]) == .some(nil))
    }

    @Test("ordinary commands, including B/W/X look-alikes, are not blocking")
    func notBlocking() {
        #expect(deadline(["GET", "k"]) == nil)
        #expect(deadline(["BITCOUNT", "k"]) == nil)
        #expect(deadline(["XADD", "s", "*", "f", "v"]) == nil)
        #expect(deadline(["XREAD", "COUNT", 1, "STREAMS", "s", "0"]) == nil)
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
            #expect(deadline(spelled) == .some(.seconds(3) + BlockingCommand.grace), "\(spelled)")
        }
    }
}
