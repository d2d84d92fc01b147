@testable import RedisUtil
import RESP
import Testing

private func ok(_ value: RESPValue) -> Result<RESPValue, RedisError> { .success(value) }

@Suite("ClusterRouter.combine: one reply from every node's, by the response policy")
struct ClusterFanOutCombineTests {
    @Test func integersAggregate() throws {
        let replies = [ok(.integer(3)), ok(.integer(7)), ok(.integer(5))]
        guard case .integer(15) = try ClusterRouter.combine(replies, by: .sum, command: "DBSIZE").get() else { Issue.record("sum"); return }
        guard case .integer(3) = try ClusterRouter.combine(replies, by: .minimum, command: "WAIT").get() else { Issue.record("min"); return }
        guard case .integer(7) = try ClusterRouter.combine(replies, by: .maximum, command: "X").get() else { Issue.record("max"); return }
        #expect(throws: RedisError.self) { try ClusterRouter.combine([ok(.integer(1)), ok(.null)], by: .sum, command: "DBSIZE").get() }
    }

    @Test func logicalAndAndOrWorkElementWise() throws {
        let replies = [ok(.array([.integer(1), .integer(0), .integer(1)])), ok(.array([.integer(1), .integer(0), .integer(0)]))]
        let and = try ClusterRouter.combine(replies, by: .logicalAnd, command: "SCRIPT EXISTS").get()
        let or = try ClusterRouter.combine(replies, by: .logicalOr, command: "SCRIPT EXISTS").get()
        #expect(and.array?.map(\.int) == [1, 0, 0])
        #expect(or.array?.map(\.int) == [1, 0, 1])
        #expect(throws: RedisError.self) {
            try ClusterRouter.combine([ok(.array([.integer(1)])), ok(.array([]))], by: .logicalAnd, command: "SCRIPT EXISTS").get()
        }
    }

    @Test func errorsWinExceptUnderOneSucceeded() throws {
        let mixed = [ok(.simpleString(Array("OK".utf8))), .failure(RedisError.server(message: "READONLY replica"))]
        #expect(throws: RedisError.server(message: "READONLY replica")) { try ClusterRouter.combine(mixed, by: .allSucceeded, command: "FLUSHALL").get() }
        #expect(try ClusterRouter.combine(mixed, by: .oneSucceeded, command: "SCRIPT KILL").get().isOK)
        let failures: [Result<RESPValue, RedisError>] = [.failure(.server(message: "NOTBUSY")), .failure(.server(message: "NOTBUSY"))]
        #expect(throws: RedisError.server(message: "NOTBUSY")) { try ClusterRouter.combine(failures, by: .oneSucceeded, command: "SCRIPT KILL").get() }
    }

    @Test func withoutAPolicyArraysConcatenateAndOtherwiseTheFirstNonNullWins() throws {
        let keys = try ClusterRouter.combine([ok(.array([.bulkString(Array("a".utf8))])), ok(.array([])), ok(.array([.bulkString(Array("b".utf8))]))],
                                             by: nil, command: "KEYS").get()
        #expect(keys.array?.compactMap(\.string) == ["a", "b"])
        let random = try ClusterRouter.combine([ok(.null), ok(.bulkString(Array("k".utf8)))], by: nil, command: "RANDOMKEY").get()
        #expect(random.string == "k")
    }

    @Test func onlyAllShardsAndAllNodesWithoutASpecialReplyAreCombined() {
        #expect(ClusterRouter.combines(ClusterFanOut(request: .allShards, response: .sum)))
        #expect(ClusterRouter.combines(ClusterFanOut(request: .allNodes, response: .allSucceeded)))
        #expect(!ClusterRouter.combines(ClusterFanOut(request: .allShards, response: .special)))
        #expect(!ClusterRouter.combines(ClusterFanOut(request: .special, response: nil)))
    }
}
