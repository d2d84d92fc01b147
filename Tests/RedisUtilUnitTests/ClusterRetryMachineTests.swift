@testable import RedisUtil
import RESP
import Testing

private let ms: UInt64 = 1_000_000

private func server(_ message: String) -> Result<RESPValue, RedisError> {
    .failure(.server(message: message))
}

@Suite("ClusterRetryMachine: what a cluster command does with each outcome")
struct ClusterRetryMachineTests {
    @Test func aReplyOrAnOrdinaryErrorGoesToTheCallerWithoutReadingTheClock() {
        var machine = ClusterRetryMachine(budget: 1000 * ms)
        var reads = 0
        func clock() -> UInt64 {
            reads += 1
            return 0
        }
        let reply = machine.replied(.success(.integer(1)), now: clock()) { "RPUSH" }
        guard case .complete(.success(.integer(1))) = reply else { Issue.record("\(reply)"); return }
        let error = machine.replied(server("WRONGTYPE Operation against a key"), now: 0) { "RPUSH" }
        guard case .complete(.failure(.server("WRONGTYPE Operation against a key"))) = error else { Issue.record("\(error)"); return }
        #expect(machine.redirections == 0 && machine.retries == 0)
        #expect(reads == 0)
    }

    @Test func movedAndAskAreFollowedFiveTimesThenTheLastIsNamed() {
        var machine = ClusterRetryMachine(budget: 1000 * ms)
        for round in 0..<ClusterRetryMachine.maxRedirections {
            let message = round % 2 == 0 ? "MOVED 3999 127.0.0.1:7002" : "ASK 3999 127.0.0.1:7003"
            let action = machine.replied(server(message), now: 0) { "GET" }
            guard case .follow(let redirection) = action else { Issue.record("round \(round): \(action)"); return }
            #expect(redirection == ClusterRedirection(message: message))
        }
        let last = machine.replied(server("MOVED 3999 127.0.0.1:7002"), now: 0) { "GET" }
        guard case .complete(.failure(let error)) = last else { Issue.record("\(last)"); return }
        #expect(error == .tooManyRedirections(command: "GET", redirections: 5, last: "MOVED slot 3999 to 127.0.0.1:7002"))
        #expect(error.isSafeToRetry)
        #expect(error.description.contains("GET was redirected 5 times"))
    }

    @Test(arguments: ["TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTERDOWN The cluster is down",
                      "LOADING Redis is loading the dataset in memory", "MASTERDOWN Link with MASTER is down"])
    func retryLaterErrorsBackOffWithinTheBudgetThenReachTheCaller(message: String) {
        var machine = ClusterRetryMachine(budget: 500 * ms)
        var now: UInt64 = 1_000 * ms
        var pauses: [UInt64] = []
        while true {
            let action = machine.replied(server(message), now: now) { "RPUSH" }
            switch action {
            case .retry(let pause, let refreshFirst):
                #expect(refreshFirst == message.hasPrefix("CLUSTERDOWN"))
                pauses.append(pause)
                now += pause
            case .complete(.failure(.server(let text))):
                #expect(text == message)
                // 10, 20, 40, 80, 160, then 200 ms: 510 ms would pass the 500 ms budget.
                #expect(pauses == [10, 20, 40, 80, 160].map { $0 * ms })
                #expect(machine.deadline == 1_500 * ms)
                return
            default:
                Issue.record("\(action)")
                return
            }
        }
    }

    /// A slot mid-migration and a command on two of its keys, neither on the source: the
    /// source answers `ASK`, the target `TRYAGAIN`, over and over until the slot has moved.
    /// The pauses start the redirection count again, so the command goes on until the
    /// budget ends, not after five `ASK`s; five redirections in a row still end it.
    @Test func aRetryAfterAPauseStartsTheRedirectionCountAgain() {
        var machine = ClusterRetryMachine(budget: 10_000 * ms)
        var now: UInt64 = 0
        for round in 0..<20 {
            let asked = machine.replied(server("ASK 3999 127.0.0.1:7003"), now: now) { "BLMOVE" }
            guard case .follow = asked else { Issue.record("round \(round): \(asked)"); return }
            let refused = machine.replied(server("TRYAGAIN Multiple keys request during rehashing of slot"), now: now) { "BLMOVE" }
            guard case .retry(let pause, _) = refused else { Issue.record("round \(round): \(refused)"); return }
            now += pause
        }
        #expect(machine.retries == 20)
        for _ in 0..<ClusterRetryMachine.maxRedirections {
            guard case .follow = machine.replied(server("MOVED 3999 127.0.0.1:7002"), now: now, command: { "BLMOVE" }) else {
                Issue.record("a redirection was not followed"); return
            }
        }
        let last = machine.replied(server("MOVED 3999 127.0.0.1:7002"), now: now) { "BLMOVE" }
        guard case .complete(.failure(.tooManyRedirections(_, 5, _))) = last else { Issue.record("\(last)"); return }
    }

    @Test func neverSentFailuresAreRetriedAfterARefreshAndWrittenOnesAreNot() {
        var machine = ClusterRetryMachine(budget: 1000 * ms)
        let refused = machine.replied(.failure(.connectionFailed(endpoint: "127.0.0.1:7000", reason: "refused")), now: 0) { "SET" }
        guard case .retry(_, refreshFirst: true) = refused else { Issue.record("\(refused)"); return }
        let notSent = machine.replied(.failure(.connectionLost(endpoint: "e", reason: "reset", delivery: .notSent)), now: 0) { "SET" }
        guard case .retry(_, refreshFirst: true) = notSent else { Issue.record("\(notSent)"); return }
        let written = machine.replied(.failure(.connectionLost(endpoint: "e", reason: "reset", delivery: .written)), now: 0) { "SET" }
        guard case .completeAndRefresh(.connectionLost(_, _, .written)) = written else { Issue.record("\(written)"); return }
    }

    @Test func aClosedNodeIsRetriedOnlyWhileTheClientIsOpen() {
        var machine = ClusterRetryMachine(budget: 1000 * ms)
        let open = machine.replied(.failure(.closed), now: 0, clientClosed: false) { "SET" }
        guard case .retry(_, refreshFirst: false) = open else { Issue.record("\(open)"); return }
        let closed = machine.replied(.failure(.closed), now: 0, clientClosed: true) { "SET" }
        guard case .complete(.failure(.closed)) = closed else { Issue.record("\(closed)"); return }
    }

    @Test func anUnownedSlotIsRetriedAfterARefreshUntilTheBudgetEnds() {
        var machine = ClusterRetryMachine(commandTimeout: .milliseconds(15))
        let error = RedisError.server(message: "CLUSTERDOWN Hash slot 7 has no owner")
        guard case .retry(10 * ms, refreshFirst: true) = machine.unrouted(error, now: 0) else { Issue.record("no retry"); return }
        guard case .complete(.failure(error)) = machine.unrouted(error, now: 10 * ms) else { Issue.record("retried past the budget"); return }
        #expect(ClusterRetryMachine(commandTimeout: nil).budget == ClusterRetryMachine.defaultBudget)
    }

    @Test func aClusterEndpointNamesItsSeedsAndKeepsTheFirstAsItsAddress() throws {
        let endpoint = RedisEndpoint.cluster(seeds: [.tcp(host: "10.0.0.5", port: 7000), 7001, .tcp(host: "::1", port: 7002)])
        #expect(endpoint.isCluster && !RedisEndpoint(7000).isCluster)
        #expect(endpoint.address == .tcp(host: "10.0.0.5", port: 7000))
        #expect(endpoint.description == "cluster(10.0.0.5:7000, 127.0.0.1:7001, [::1]:7002)")
        #expect(endpoint != RedisEndpoint.tcp(host: "10.0.0.5", port: 7000))
        #expect(endpoint.clusterSeeds?.count == 3)
        #expect(throws: RedisError.invalidArgument("a cluster endpoint needs at least one seed")) { try RedisClient(.cluster(seeds: [])) }
        #expect(throws: RedisError.self) { try RedisClient(.cluster(seeds: [.unix(path: "/tmp/x.sock")])) }
        #expect(throws: RedisError.self) { try RedisClient(.cluster(seeds: [endpoint])) }
        #expect(throws: RedisError.invalidArgument("a cluster has only database 0, not 2")) {
            try RedisClient(.cluster(seeds: [7000]), configuration: .init(database: 2))
        }
    }

    @Test func aClusterURLListsItsSeedsWithSharedCredentials() throws {
        let endpoint = try RedisEndpoint(url: "redis+cluster://alice:s%40cret@10.0.0.5:7000,[::1]:7001,node-c?db=0")
        #expect(endpoint.isCluster)
        #expect(endpoint.clusterSeeds?.map(\.address) == [.tcp(host: "10.0.0.5", port: 7000), .tcp(host: "::1", port: 7001), .tcp(host: "node-c", port: 6379)])
        #expect(endpoint.clusterSeeds?.allSatisfy { $0.username == "alice" && $0.password == "s@cret" } == true)
        #expect(endpoint.username == "alice" && endpoint.password == "s@cret")
        #expect(endpoint.description == "cluster(10.0.0.5:7000, [::1]:7001, node-c:6379)")
        let tls = try RedisEndpoint(url: "rediss+cluster://h1:7000,h2:7000?insecure=true")
        #expect(tls.tls?.verification == .insecureNoVerification && tls.clusterSeeds?.count == 2)
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "redis+cluster://h1:7000,,h2:7000") }
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "redis+cluster://:pw@h1:7000,h2:notaport") }
    }
}
