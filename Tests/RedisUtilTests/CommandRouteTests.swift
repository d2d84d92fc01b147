@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

private func batch(_ commands: [[any RESPArgument]]) -> [UInt8] {
    commands.flatMap(encoded)
}

/// The refused command's name, or `nil` when `route` is not a refusal.
private func refusedName(_ route: CommandRoute) -> String? {
    if case .refused(.unsupportedCommand(let command, _)) = route { return command }
    return nil
}

private func refusedName(_ error: RedisError?) -> String? {
    if case .unsupportedCommand(let command, _)? = error { return command }
    return nil
}

/// Every command that must not run on a shared connection, with arguments that the
/// server would accept.
private var refusedCommands: [[any RESPArgument]] { [
    ["SUBSCRIBE", "c"], ["PSUBSCRIBE", "c*"], ["SSUBSCRIBE", "c"],
    ["UNSUBSCRIBE"], ["PUNSUBSCRIBE"], ["SUNSUBSCRIBE"],
    ["MONITOR"], ["SYNC"], ["PSYNC", "?", -1], ["REPLCONF", "listening-port", 1],
    ["SELECT", 1], ["AUTH", "pw"], ["HELLO", 2], ["RESET"], ["QUIT"],
    ["CLIENT", "REPLY", "OFF"], ["client", "reply", "skip"],
    ["MULTI"], ["EXEC"], ["DISCARD"], ["WATCH", "k"],
] }

private let blockingNames: Set<String> = [
    "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
    "WAIT", "WAITAOF", "XREAD", "XREADGROUP",
]

/// Commands whose reply is the only copy of what they remove.
private let removingNames: Set<String> = [
    "LPOP", "RPOP", "SPOP", "LMPOP", "ZMPOP", "ZPOPMIN", "ZPOPMAX", "GETDEL", "HGETDEL",
]

@Suite("Commands that would break a shared connection are refused before they are sent")
struct CommandRouteTests {
    @Test("commands that remove what only their reply holds are routed to be awaited despite a cancellation, in any letter case; look-alikes are not")
    func removingCommands() {
        for name in removingNames {
            for spelling in [name, name.lowercased()] {
                guard case .removing = CommandRoute.of(encoded([spelling, "k"])) else {
                    Issue.record("\(spelling) is not routed as removing")
                    continue
                }
            }
        }
        for command: [any RESPArgument] in [
            ["LPUSH", "k", "v"], ["RPUSH", "k", "v"], ["LMOVE", "a", "b", "LEFT", "LEFT"], ["RPOPLPUSH", "a", "b"],
            ["GETEX", "k"], ["GET", "k"], ["SPOPX"], ["LPOPS"], ["ZPOPMINX"], ["ZADD", "k", 1, "m"], ["LRANGE", "k", 0, -1],
        ] {
            guard case .shared = CommandRoute.of(encoded(command)) else {
                Issue.record("\(command) is routed as something special")
                continue
            }
        }
        var removes = false
        #expect(CommandRoute.refusal(batch: batch([["GET", "k"], ["INCR", "n"]]), in: .shared, removes: &removes) == nil)
        #expect(!removes)
        #expect(CommandRoute.refusal(batch: batch([["GET", "k"], ["lpop", "k"], ["INCR", "n"]]), in: .shared, removes: &removes) == nil)
        #expect(removes)
    }

    @Test("each such command is refused by name, in any letter case; nothing else is")
    func singleCommands() {
        for command in refusedCommands {
            let name = String(describing: command[0]).uppercased()
            #expect(refusedName(CommandRoute.of(encoded(command))) == name, "\(command)")
            var lower = command
            lower[0] = name.lowercased()
            #expect(refusedName(CommandRoute.of(encoded(lower))) == name, "\(lower)")
        }
        // Look-alikes: same length and first letter, or a prefix, or a harmless subcommand.
        for command: [any RESPArgument] in [
            ["SET", "k", "v"], ["SUBSTR", "k", 0, 1], ["SELECTX"], ["SCRIPT", "FLUSH"], ["AUTHX"],
            ["EXISTS", "k"], ["QUITE"], ["WATCHX"], ["MULTIX"], ["CLIENT", "ID"], ["CLIENT", "SETNAME", "n"],
            ["CLIENT", "REPLYX"], ["CLIENT"], ["RPUSH", "k", "v"], ["PUBLISH", "c", "m"], ["HELLOX"],
            ["UNWATCH"], ["PING"], ["SUBSCRIBEX"], ["MONITORS"], ["X"], ["EXECUTE"],
        ] {
            guard case .shared = CommandRoute.of(encoded(command)) else {
                Issue.record("\(command) was not routed to a shared connection")
                continue
            }
        }
    }

    @Test("blocking commands still go to a dedicated connection with their deadline")
    func blockingCommands() {
        guard case .blocking(let deadline) = CommandRoute.of(encoded(["blpop", "k", 3])) else {
            Issue.record("BLPOP was not routed as blocking")
            return
        }
        #expect(deadline == .within(.seconds(3) + BlockingCommand.grace))
        guard case .blocking(let forever) = CommandRoute.of(encoded(["WAITAOF", 1, 0, 0])) else {
            Issue.record("WAITAOF was not routed as blocking")
            return
        }
        #expect(forever == .forever)
        guard case .shared = CommandRoute.of(encoded(["XREAD", "STREAMS", "s", "0"])) else {
            Issue.record("XREAD without BLOCK was routed as blocking")
            return
        }
    }

    @Test("a batch may hold a whole MULTI … EXEC (blocking commands inside it), nothing that stays open")
    func batches() {
        #expect(CommandRoute.refusal(batch: batch([["MULTI"], ["INCR", "n"], ["EXEC"]])) == nil)
        #expect(CommandRoute.refusal(batch: batch([["MULTI"], ["BLPOP", "k", 0], ["DISCARD"], ["GET", "k"]])) == nil)
        #expect(CommandRoute.refusal(batch: batch([["GET", "k"], ["XREAD", "COUNT", 1, "STREAMS", "s", "0"]])) == nil)
        #expect(refusedName(CommandRoute.refusal(batch: batch([["MULTI"], ["INCR", "n"]]))) == "MULTI")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["MULTI"], ["MULTI"], ["EXEC"]]))) == "MULTI")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["GET", "k"], ["BLPOP", "k", 1]]))) == "BLPOP")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["XREAD", "BLOCK", 10, "STREAMS", "s", "$"]]))) == "XREAD")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["MULTI"], ["EXEC"], ["BRPOP", "k", 1]]))) == "BRPOP")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["MULTI"], ["SELECT", 2], ["EXEC"]]))) == "SELECT")
        #expect(refusedName(CommandRoute.refusal(batch: batch([["WATCH", "k"], ["MULTI"], ["EXEC"]]))) == "WATCH")
        for command in refusedCommands where !["MULTI", "EXEC", "DISCARD"].contains(String(describing: command[0])) {
            #expect(refusedName(CommandRoute.refusal(batch: batch([["PING"], command]))) != nil, "\(command)")
        }
        // On a dedicated connection the transaction commands go one by one, and a batch
        // may leave a MULTI open; the rest is refused as on a shared one.
        for name in ["MULTI", "EXEC", "DISCARD", "WATCH"] {
            guard case .shared = CommandRoute.of(encoded([name]), in: .dedicated) else {
                Issue.record("\(name) refused on a dedicated connection")
                continue
            }
        }
        #expect(CommandRoute.refusal(batch: batch([["WATCH", "k"], ["MULTI"], ["INCR", "n"]]), in: .dedicated) == nil)
        #expect(refusedName(CommandRoute.refusal(batch: batch([["GET", "k"], ["BLPOP", "k", 1]]), in: .dedicated)) == "BLPOP")
        #expect(refusedName(CommandRoute.of(encoded(["SELECT", 1]), in: .dedicated)) == "SELECT")
        #expect(refusedName(CommandRoute.of(encoded(["SUBSCRIBE", "c"]), in: .dedicated)) == "SUBSCRIBE")
        #expect(CommandRoute.opensTransactionState(batch([["GET", "k"], ["watch", "k"]])))
        #expect(CommandRoute.opensTransactionState(encoded(["MULTI"])))
        #expect(!CommandRoute.opensTransactionState(batch([["EXEC"], ["UNWATCH"], ["GET", "k"]])))

        // Inside transaction(), which adds its own MULTI and EXEC.
        #expect(CommandRoute.refusal(batch: batch([["BLPOP", "k", 0], ["INCR", "n"]]), in: .transaction) == nil)
        for name in ["MULTI", "EXEC", "DISCARD", "WATCH"] {
            #expect(refusedName(CommandRoute.refusal(batch: batch([[name]]), in: .transaction)) == name)
        }
    }

    @Test("the server's whole command table: only the intended commands are special")
    func serverCommandTable() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let names = try await client.send("COMMAND", "LIST").array?.compactMap(\.string) ?? []
                #expect(names.count > 200)
                let refused = Set(refusedCommands.map { String(describing: $0[0]).uppercased() })
                for name in names {
                    let upper = name.uppercased()
                    guard !upper.contains("|") else { continue }
                    let layout = encoded([name])
                    let special = SpecialCommand.named(EncodedCommand.firstName(layout)!, in: layout)
                    let expected = refused.contains(upper) || blockingNames.contains(upper) || removingNames.contains(upper) || upper == "CLIENT"
                    #expect((special != nil) == expected, "\(upper)")
                }
            }
        }
    }

    @Test("refused commands fail on every facade, reach no server, and leave the client working")
    func nothingIsSent() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await client.send("SET", "k", "v")
                try await client.send("CONFIG", "RESETSTAT")
                for command in refusedCommands {
                    let name = String(describing: command[0]).uppercased()
                    do {
                        _ = try await client.send(arguments: command)
                        Issue.record("\(name) was sent")
                    } catch let error as RedisError {
                        #expect(refusedName(error) == name)
                        #expect(error.isSafeToRetry)
                    }
                    let viaCallback: Result<RESPValue, RedisError> = await withCheckedContinuation { done in
                        client.send(arguments: command) { done.resume(returning: $0) }
                    }
                    if case .failure(let error) = viaCallback { #expect(refusedName(error) == name) } else { Issue.record("\(name): \(viaCallback)") }
                }
                // The fixed-arity and variadic forms and typed commands take the same route.
                await #expect(throws: RedisError.self) { try await client.send("SELECT", 1) }
                await #expect(throws: RedisError.self) { try await client.send("CLIENT", "REPLY", "OFF", "x", "y", "z") }
                await #expect(throws: RedisError.self) { try await client.execute(RedisCommand<RESPValue>(arguments: ["MONITOR"]) { $0 }) }
                await #expect(throws: RedisError.self) { try await client.pipeline { $0.send("MULTI"); $0.send("INCR", "n") } }
                let viaPipeline: Result<[Result<RESPValue, RedisError>], RedisError> = await withCheckedContinuation { done in
                    var pipeline = RedisPipeline()
                    pipeline.send("BLPOP", "k", 0)
                    client.pipeline(pipeline) { done.resume(returning: $0) }
                }
                if case .failure(let error) = viaPipeline { #expect(refusedName(error) == "BLPOP") } else { Issue.record("\(viaPipeline)") }

                // The server saw none of them: only CONFIG RESETSTAT's successors.
                let stats = try await client.send("INFO", "commandstats").string ?? ""
                for command in refusedCommands + [["BLPOP"]] {
                    let name = String(describing: command[0]).lowercased()
                    #expect(!stats.contains("cmdstat_\(name):"), "\(name) reached the server")
                }
                #expect(try await client.send("GET", "k").string == "v")
                let replies = try await client.pipeline { p in
                    p.send("MULTI")
                    p.send("INCR", "n")
                    p.send("BLPOP", "empty", 0)
                    p.send("EXEC")
                }
                #expect(replies.count == 4)
                #expect((try? replies[3].get())?.array?.map(\.int) == [1, nil])
                let inTransaction = try await client.transaction { $0.send("BLPOP", "empty", 0) }
                #expect(inTransaction.count == 1)
                #expect((try? inTransaction[0].get())?.isNull == true)
            }
        }
    }
}
