import RESP
import RedisUtil
import Testing

/// A `RedisError` is one word (its cases' payloads boxed), so that the `Result` every
/// command completes with stays small: handed over in registers and destroyed in place,
/// not through `Result`'s generic value witnesses (see `RedisError`'s comment).
@Suite struct RedisErrorLayoutTests {
    @Test func anErrorIsOneWordAndAReplysResultFitsInThreeMore() {
        #expect(MemoryLayout<RedisError>.size == MemoryLayout<Int>.size)
        #expect(MemoryLayout<Result<RESPValue, RedisError>>.size <= 3 * MemoryLayout<Int>.size)
        #expect(MemoryLayout<Result<[UInt8]?, RedisError>>.size <= 3 * MemoryLayout<Int>.size)
    }

    /// Boxed payloads still compare, describe and match as before.
    @Test func boxedCasesCompareAndMatchAsTheirPayloads() {
        let lost = RedisError.connectionLost(endpoint: "127.0.0.1:6379", reason: "reset", delivery: .written)
        #expect(lost == .connectionLost(endpoint: "127.0.0.1:6379", reason: "reset", delivery: .written))
        #expect(lost != .connectionLost(endpoint: "127.0.0.1:6379", reason: "reset", delivery: .notSent))
        guard case .connectionLost(_, let reason, let delivery) = lost else { Issue.record("not matched"); return }
        #expect(reason == "reset" && delivery == .written)
        let batch = RedisError.undecodableBatch(raw: [[1, 2], [3]], list: "l", index: 1, reason: "r")
        #expect(batch == .undecodableBatch(raw: [[1, 2], [3]], list: "l", index: 1, reason: "r"))
        #expect(RedisError.cancelled != .closed)
    }
}
