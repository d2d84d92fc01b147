@testable import RedisUtil
import Reactor
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
        // The last BLOCK counts, as the server reads it; none after STREAMS.
        #expect(wait(["XREAD", "BLOCK", 100, "COUNT", 2, "BLOCK", 5000, "STREAMS", "s", "$"]) == .within(.milliseconds(5000) + grace))
        #expect(wait(["XREAD", "BLOCK", 5000, "BLOCK", 0, "STREAMS", "s", "$"]) == .forever)
        #expect(wait(["XREAD", "BLOCK", 100, "STREAMS", "BLOCK", "$"]) == .within(.milliseconds(100) + grace))
    }

    @Test("a timeout past what milliseconds hold (inf, 1e300) waits forever, where converting it trapped")
    func hugeTimeouts() {
        #expect(wait(["BLPOP", "a", "inf"]) == .forever)
        #expect(wait(["BLPOP", "a", "1e300"]) == .forever)
        #expect(wait(["BLMPOP", "1e30", 1, "k", "LEFT"]) == .forever)
        #expect(wait(["BLPOP", "a", "-inf"]) == .forever)
        #expect(wait(["BLPOP", "a", "nan"]) == .forever)
        #expect(wait(["BLPOP", "a", "9e15"]) == .within(.seconds(9_000_000_000_000_000) + BlockingCommand.grace))
    }

    @Test("a command sent again blocks for the time left: its timeout argument rewritten in its own unit, the rest as it was")
    func resending() throws {
        let grace = BlockingCommand.grace
        func resent(_ arguments: [any RESPArgument], _ left: Duration) -> (arguments: [String], wait: BlockingWait)? {
            BlockingCommand.resending(encoded(arguments), timeLeft: left).map { resent in
                (EncodedCommand.arguments(resent.bytes)!.map { String(decoding: $0, as: UTF8.self) }, resent.wait)
            }
        }
        // Decimal seconds: milliseconds rounded up, and at least one (0 would block forever).
        let blpop = try #require(resent(["BLPOP", "a", "b", "3.0"], .milliseconds(1500)))
        #expect(blpop.arguments == ["BLPOP", "a", "b", "1.500"])
        #expect(blpop.wait == .within(.milliseconds(1500) + grace))
        #expect(resent(["brpop", "a", "0.25"], .microseconds(1))?.arguments == ["brpop", "a", "0.001"])
        #expect(resent(["BLPOP", "a", "3.5"], .zero)?.arguments == ["BLPOP", "a", "0.001"])
        #expect(resent(["BLPOP", "a", "3.5"], .milliseconds(-20))?.wait == .within(.milliseconds(1) + grace))
        #expect(resent(["BLPOP", "a", "30.5"], .seconds(12) + .microseconds(1))?.arguments == ["BLPOP", "a", "12.001"])
        #expect(resent(["BLMOVE", "s", "d", "LEFT", "RIGHT", "2.0"], .milliseconds(40))?.arguments == ["BLMOVE", "s", "d", "LEFT", "RIGHT", "0.040"])
        #expect(resent(["BLMPOP", "2.5", 1, "k", "LEFT"], .milliseconds(1999))?.arguments == ["BLMPOP", "1.999", "1", "k", "LEFT"])
        // Whole seconds stay whole (a server before 6.0 takes nothing else), rounded up, at least one.
        let whole = try #require(resent(["BLPOP", "a", "b", 3], .milliseconds(1500)))
        #expect(whole.arguments == ["BLPOP", "a", "b", "2"])
        #expect(whole.wait == .within(.seconds(2) + grace))
        #expect(resent(["BLPOP", "a", 3], .zero)?.arguments == ["BLPOP", "a", "1"])
        #expect(resent(["BLPOP", "a", 3], .milliseconds(-20))?.wait == .within(.seconds(1) + grace))
        #expect(resent(["BLPOP", "a", 30], .seconds(12) + .microseconds(1))?.arguments == ["BLPOP", "a", "13"])
        #expect(resent(["BLPOP", "a", 30], .seconds(12))?.arguments == ["BLPOP", "a", "12"])
        #expect(resent(["BZPOPMIN", "k", 2], .milliseconds(999))?.arguments == ["BZPOPMIN", "k", "1"])
        // Commands newer than 6.0 take decimals on every server that has them.
        #expect(resent(["BZMPOP", 2, 1, "k", "MIN"], .milliseconds(999))?.arguments == ["BZMPOP", "0.999", "1", "k", "MIN"])
        #expect(resent(["BLMOVE", "s", "d", "LEFT", "RIGHT", 2], .milliseconds(40))?.arguments == ["BLMOVE", "s", "d", "LEFT", "RIGHT", "0.040"])
        #expect(resent(["XREAD", "COUNT", 1, "BLOCK", 1500, "STREAMS", "s", "$"], .milliseconds(700))?.arguments
            == ["XREAD", "COUNT", "1", "BLOCK", "700", "STREAMS", "s", "$"])
        #expect(resent(["XREADGROUP", "GROUP", "g", "block", "BLOCK", 900, "STREAMS", "s", ">"], .milliseconds(10))?.arguments
            == ["XREADGROUP", "GROUP", "g", "block", "BLOCK", "10", "STREAMS", "s", ">"])
        #expect(resent(["WAIT", 1, 3000], .milliseconds(2500))?.arguments == ["WAIT", "1", "2500"])
        #expect(resent(["XREAD", "BLOCK", 100, "BLOCK", 5000, "STREAMS", "s", "$"], .milliseconds(700))?.arguments
            == ["XREAD", "BLOCK", "100", "BLOCK", "700", "STREAMS", "s", "$"])
        // Blocking forever, not blocking, or not a blocking command: nothing to rewrite.
        #expect(resent(["BLPOP", "a", 0], .seconds(1)) == nil)
        #expect(resent(["XREAD", "STREAMS", "s", "$"], .seconds(1)) == nil)
        #expect(resent(["GET", "a"], .seconds(1)) == nil)
        #expect(resent(["BLPOP"], .seconds(1)) == nil)
    }

    @Test("a cluster command's first attempt is sent as it is; a later one blocks for the time left since the call")
    func clusterAttempts() throws {
        let bytes = encoded(["BLPOP", "k", "4.0"])
        let wait = try #require(BlockingCommand.blpop.wait(encoded: bytes))
        var command = ClusterCommand(bytes: bytes, slot: 0, keepsReply: false, blocking: wait)
        command.blockingSince = monotonicNanoseconds() - 1_500_000_000
        let first = command.blockingAttempt(wait, first: true)
        #expect(first.bytes == bytes && first.limit == .seconds(4) + BlockingCommand.grace)
        let later = command.blockingAttempt(wait, first: false)
        let left = try #require(EncodedCommand.arguments(later.bytes)?.last.flatMap { Double(String(decoding: $0, as: UTF8.self)) })
        // 2.5 s left when it was computed (and less by the time it was read here).
        #expect(left > 2.0 && left <= 2.5, "\(left) s left")
        #expect(later.limit == .milliseconds(Int64((left * 1000).rounded())) + BlockingCommand.grace)
        // Nothing left: the shortest wait, still sent.
        command.blockingSince = monotonicNanoseconds() - 9_000_000_000
        #expect(EncodedCommand.arguments(command.blockingAttempt(wait, first: false).bytes)?.last == Array("0.001".utf8))
        // Forever, or without a start: as it is. A blocking command's clock starts when it
        // is made; any other has none.
        let forever = encoded(["BLPOP", "k", 0])
        let blocksForever = ClusterCommand(bytes: forever, slot: 0, keepsReply: false, blocking: .forever)
        #expect(blocksForever.blockingAttempt(.forever, first: false).bytes == forever)
        var unstarted = ClusterCommand(bytes: bytes, slot: 0, keepsReply: false, blocking: wait)
        #expect(unstarted.blockingSince > 0)
        #expect(ClusterCommand(bytes: encoded(["GET", "k"]), slot: 0, keepsReply: false, blocking: nil).blockingSince == 0)
        unstarted.blockingSince = 0
        #expect(unstarted.blockingAttempt(wait, first: false).bytes == bytes)
    }

    @Test("a blocking cluster command's retries end with its wait, whenever the first came, or with the client's budget if that is shorter")
    func clusterRetryBudget() throws {
        let bytes = encoded(["BLPOP", "k", 4])
        let wait = try #require(BlockingCommand.blpop.wait(encoded: bytes))
        var command = ClusterCommand(bytes: bytes, slot: 0, keepsReply: false, blocking: wait)
        command.blockingSince = 1_000
        // 4 s and the 2 s grace from the call.
        let limit: UInt64 = 6_000_000_000
        var machine = command.retryMachine(commandTimeout: nil)
        #expect(machine.endsBy == 1_000 + limit && machine.budget == ClusterRetryMachine.defaultBudget)
        // A MOVED first (no retry), then TRYAGAIN late in the wait: retried only while a pause ends before the wait's end.
        let tryAgain = Result<RESPValue, RedisError>.failure(.server(message: "TRYAGAIN Multiple keys request during rehashing of slot"))
        guard case .follow = machine.replied(.failure(.server(message: "MOVED 0 127.0.0.1:7000")), now: 1_000, command: { "BLPOP" }) else {
            Issue.record("MOVED not followed"); return
        }
        guard case .retry = machine.replied(tryAgain, now: 1_000 + limit - 500_000_000, command: { "BLPOP" }) else {
            Issue.record("TRYAGAIN half a second before the end not retried"); return
        }
        #expect(machine.deadline == 1_000 + limit)
        guard case .complete(tryAgain) = machine.replied(tryAgain, now: 1_000 + limit - 5_000_000, command: { "BLPOP" }) else {
            Issue.record("retried past the wait's end"); return
        }
        // The client's budget, when it ends first.
        var short = command.retryMachine(commandTimeout: .seconds(1))
        guard case .retry = short.replied(tryAgain, now: 2_000, command: { "BLPOP" }) else { Issue.record("not retried"); return }
        #expect(short.deadline == 2_000 + 1_000_000_000)
        // Forever, not blocking, not started: the client's budget alone.
        let forever = ClusterCommand(bytes: encoded(["BLPOP", "k", 0]), slot: 0, keepsReply: false, blocking: .forever)
        #expect(forever.retryMachine(commandTimeout: nil).endsBy == nil)
        let get = ClusterCommand(bytes: encoded(["GET", "k"]), slot: 0, keepsReply: false, blocking: nil)
        #expect(get.retryMachine(commandTimeout: nil).endsBy == nil)
        #expect(get.retryMachine(commandTimeout: .seconds(3)).budget == 3_000_000_000)
        var unstarted = ClusterCommand(bytes: bytes, slot: 0, keepsReply: false, blocking: wait)
        unstarted.blockingSince = 0
        #expect(unstarted.retryMachine(commandTimeout: nil).endsBy == nil)
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
