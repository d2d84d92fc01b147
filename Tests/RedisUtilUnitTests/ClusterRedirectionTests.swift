@testable import RedisUtil
import RESP
import Testing
import TestSupport

private typealias Target = ClusterRedirection.Target

/// Error texts as redis 7.0.15 sent them from a local cluster (the comment says how each
/// was provoked), plus forms the protocol allows that a local cluster does not show.
@Suite("Reading MOVED, ASK and the retry errors of a cluster")
struct ClusterRedirectionTests {
    @Test("every redirection form, as the server writes it", arguments: [
        // GET foo on the node that does not own slot 12182.
        ("MOVED 12182 127.0.0.1:30613", ClusterRedirection.moved(slot: 12182, to: Target(host: "127.0.0.1", port: 30613))),
        // cluster-preferred-endpoint-type unknown-endpoint: the host of the node that answered.
        ("MOVED 12182 :30613", .moved(slot: 12182, to: Target(host: nil, port: 30613))),
        // cluster-preferred-endpoint-type hostname, the target announced none.
        ("MOVED 7365 ?:30612", .moved(slot: 7365, to: Target(host: nil, port: 30612))),
        // cluster-preferred-endpoint-type hostname, cluster-announce-hostname localhost.
        ("MOVED 12182 localhost:30613", .moved(slot: 12182, to: Target(host: "localhost", port: 30613))),
        // cluster-announce-ip ::1 on the target.
        ("MOVED 7365 ::1:30632", .moved(slot: 7365, to: Target(host: "::1", port: 30632))),
        ("MOVED 3999 2001:db8::7:6380", .moved(slot: 3999, to: Target(host: "2001:db8::7", port: 6380))),
        ("MOVED 3999 [::1]:6380", .moved(slot: 3999, to: Target(host: "::1", port: 6380))),
        ("MOVED 0 10.0.0.1:1", .moved(slot: 0, to: Target(host: "10.0.0.1", port: 1))),
        ("MOVED 16383 redis-7.cache.internal:65535", .moved(slot: 16383, to: Target(host: "redis-7.cache.internal", port: 65535))),
        // CLUSTER SETSLOT 3300 MIGRATING, then GET of a key not on the source.
        ("ASK 3300 127.0.0.1:30612", .ask(slot: 3300, to: Target(host: "127.0.0.1", port: 30612))),
        ("ASK 3999 :6380", .ask(slot: 3999, to: Target(host: nil, port: 6380))),
        ("ASK 3999 ::1:6380", .ask(slot: 3999, to: Target(host: "::1", port: 6380))),
        // MGET of two keys of that slot, one moved and one not.
        ("TRYAGAIN Multiple keys request during rehashing of slot", .retryLater(.tryAgain)),
        // A primary down with no replica to replace it.
        ("CLUSTERDOWN The cluster is down", .retryLater(.clusterDown)),
        // CLUSTER DELSLOTS 0, then a key of slot 0.
        ("CLUSTERDOWN Hash slot not served", .retryLater(.clusterDown)),
        ("LOADING Redis is loading the dataset in memory", .retryLater(.loading)),
        ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", .retryLater(.masterDown)),
        ("TRYAGAIN", .retryLater(.tryAgain)),
    ])
    func redirections(message: String, expected: ClusterRedirection) {
        #expect(ClusterRedirection(message: Array(message.utf8)) == expected)
        #expect(ClusterRedirection(message: message) == expected)
        #expect(ClusterRedirection(reply: .error(Array(message.utf8))) == expected)
        #expect(ClusterRedirection(reply: .bulkError(Array(message.utf8))) == expected)
    }

    @Test("other errors, malformed redirections and near misses are not redirections", arguments: [
        "", "ERR unknown command 'FOO'", "WRONGTYPE Operation against a key holding the wrong kind of value",
        "CROSSSLOT Keys in request don't hash to the same slot", "MISCONF Redis is configured to save RDB snapshots",
        "NOSCRIPT No matching script", "READONLY You can't write against a read only replica.",
        "MOVED", "MOVED ", "MOVED 3999", "MOVED 3999 ", "MOVED 3999 127.0.0.1", "MOVED 3999 127.0.0.1:",
        "MOVED 3999 127.0.0.1:0", "MOVED 3999 127.0.0.1:65536", "MOVED 3999 127.0.0.1:123456", "MOVED 3999 127.0.0.1:63a",
        "MOVED 16384 127.0.0.1:6380", "MOVED 123456 127.0.0.1:6380", "MOVED -1 127.0.0.1:6380", "MOVED x 127.0.0.1:6380",
        "MOVED  3999 127.0.0.1:6380", "MOVED 3999 127.0.0.1:6380 extra", "MOVED 3999 127.0.0.1:6380\r\n",
        "MOVEDX 3999 127.0.0.1:6380", "moved 3999 127.0.0.1:6380", "ASK", "ASKING", "ASK 3999", "ASK 3999 h:port",
        "TRYAGAINX", "CLUSTERDOWNER", "LOADINGX", "MASTERDOWNX", "MASTER", "M", "A", "T", "C", "L",
    ])
    func notRedirections(message: String) {
        #expect(ClusterRedirection(message: Array(message.utf8)) == nil)
        #expect(ClusterRedirection(message: message) == nil)
    }

    @Test("only error replies are read")
    func onlyErrorReplies() {
        let text = Array("MOVED 3999 127.0.0.1:6381".utf8)
        #expect(ClusterRedirection(reply: .bulkString(text)) == nil)
        #expect(ClusterRedirection(reply: .simpleString(text)) == nil)
        #expect(ClusterRedirection(reply: .null) == nil)
        #expect(ClusterRedirection(reply: .array([.error(text)])) == nil)
    }

    @Test("a slice of a larger buffer is read in place")
    func slice() {
        let line = Array("-MOVED 3999 127.0.0.1:6381\r\n".utf8)
        let message = line[1..<(line.count - 2)]
        #expect(ClusterRedirection(message: message) == .moved(slot: 3999, to: Target(host: "127.0.0.1", port: 6381)))
        #expect(ClusterRedirection(message: line[0...]) == nil)
    }

    @Test("an unknown host is the host of the node that answered")
    func unknownHost() throws {
        let redirection = try #require(ClusterRedirection(message: "MOVED 3999 :6380"))
        #expect(redirection.slot == 3999)
        #expect(redirection.target?.address(answeredBy: "10.1.2.3") == ClusterNodeAddress(host: "10.1.2.3", port: 6380))
        let known = try #require(ClusterRedirection(message: "ASK 1 10.0.0.5:6380"))
        #expect(known.target?.address(answeredBy: "10.1.2.3") == ClusterNodeAddress(host: "10.0.0.5", port: 6380))
        #expect(ClusterRedirection.retryLater(.loading).target == nil)
        #expect(ClusterRedirection.retryLater(.loading).slot == nil)
    }

    @Test("descriptions name the code, slot and target", arguments: [
        ("MOVED 3999 127.0.0.1:6381", "MOVED slot 3999 to 127.0.0.1:6381"),
        ("ASK 12 ::1:6381", "ASK slot 12 to [::1]:6381"),
        ("MOVED 3999 :6380", "MOVED slot 3999 to port 6380 on the host that answered"),
        ("TRYAGAIN Multiple keys request during rehashing of slot",
         "TRYAGAIN: a multi-key command met a slot being migrated (retry after a pause)"),
        ("CLUSTERDOWN The cluster is down", "CLUSTERDOWN: the cluster cannot serve the slot (retry after a pause)"),
        ("LOADING Redis is loading the dataset in memory", "LOADING: the node is loading its data set (retry after a pause)"),
        ("MASTERDOWN Link with MASTER is down", "MASTERDOWN: the replica lost its link to its primary (retry after a pause)"),
    ])
    func descriptions(message: String, description: String) throws {
        #expect(try #require(ClusterRedirection(message: message)).description == description)
    }

    @Test("random bytes after each code never trap", arguments: ["MOVED ", "ASK ", "TRYAGAIN", "", "M", "CLUSTERDOWN "])
    func randomBytes(prefix: String) {
        var random = SeededGenerator(seed: UInt64(prefix.utf8.count) &* 7919)
        let alphabet = Array("0123456789:?[] \r\nabc.-".utf8) + [0, 0xFF]
        for _ in 0..<2000 {
            let tail = (0..<Int.random(in: 0...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let message = Array(prefix.utf8) + tail
            if case .moved(let slot, let target)? = ClusterRedirection(message: message) {
                #expect((0..<16384).contains(slot))
                #expect((1...65535).contains(target.port))
            }
        }
    }
}
