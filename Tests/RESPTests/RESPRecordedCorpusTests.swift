@testable import RESP
import Testing

/// Replies recorded from redis-server 7.0.15 must parse, and parse identically at every split.
@Suite("Replies recorded from a real redis-server")
struct RESPRecordedCorpusTests {
    @Test("each recorded reply parses to at least one value without error, and re-encodes", arguments: recordedReplies)
    func parsesCleanly(reply: RecordedReply) {
        let outcome = parse(reply.bytes)
        #expect(outcome.error == nil)
        #expect(!outcome.values.isEmpty)
        let reencoded = outcome.values.flatMap(\.encodedBytes)
        #expect(parse(reencoded) == outcome)
        // Redis writes canonical RESP, so re-encoding reproduces the recorded bytes exactly,
        // except doubles, which Redis prints with %.17g (`3.1400000000000001`, `-2`).
        if !reply.bytes.contains(UInt8(ascii: ",")) || !outcome.values.contains(where: \.containsDouble) {
            #expect(reencoded == reply.bytes)
        }
    }

    @Test("every split point of each recorded reply parses identically", arguments: recordedReplies)
    func everySplitPoint(reply: RecordedReply) {
        let whole = parse(reply.bytes)
        for cut in 0...reply.bytes.count {
            #expect(parse(chunks: [reply.bytes[..<cut], reply.bytes[cut...]]) == whole, "split at \(cut)")
        }
    }

    @Test("the whole corpus as one stream, fed one byte at a time")
    func byteAtATime() {
        let stream = recordedReplies.flatMap(\.bytes)
        let whole = parse(stream)
        #expect(whole.error == nil)
        #expect(parse(chunks: stream.indices.map { stream[$0...$0] }) == whole)
    }

    @Test("recorded replies decode to the expected values")
    func decodedShapes() throws {
        func reply(_ name: String) throws -> RESPValue {
            let recorded = try #require(recordedReplies.first { $0.name == name })
            let outcome = parse(recorded.bytes)
            return try #require(outcome.values.first)
        }
        #expect(try reply("resp2_set_ok").isOK)
        #expect(try reply("resp2_get") == .bulk("hello"))
        #expect(try reply("resp2_get_missing") == .nullBulkString)
        #expect(try reply("resp3_get_missing") == .null)
        #expect(try reply("resp2_blpop_timeout") == .nullArray)
        #expect(try reply("resp2_get_binary") == .bulkString(Array(0...255)))
        #expect(try reply("resp2_lrange") == .array([.bulk("a"), .bulk("b"), .bulk("c\r\nd"), .bulkString([0x00, 0xFF])]))
        #expect(try reply("resp3_hgetall") == .map([(.bulk("f1"), .bulk("v1")), (.bulk("f2"), .bulk("v2"))]))
        #expect(try reply("resp3_smembers").kind == .set)
        #expect(try reply("resp3_zscore") == .double(1.5))
        #expect(try reply("resp3_eval_inf") == .double(.infinity))
        #expect(try reply("resp3_eval_neg_inf") == .double(-.infinity))
        #expect(try reply("resp3_eval_bool") == .boolean(true))
        #expect(try reply("resp3_eval_bignum") == .bigNumber(bytes("-123456789012345678901234567890")))
        #expect(try reply("resp3_debug_protocol_verbatim") == .verbatimString(format: .text, text: bytes("This is a verbatim\nstring")))
        #expect(try reply("resp3_debug_protocol_attrib") == .attribute(
            [(.bulk("key-popularity"), .array([.bulk("key:123"), .integer(90)]))],
            .bulk("Some real reply following the attribute")))
        #expect(try reply("resp3_message") == .push([.bulk("message"), .bulk("chan"), .bulk("message\r\nwith crlf")]))
        #expect(try reply("resp2_unknown_command").errorMessage?.hasPrefix("ERR unknown command") == true)
        #expect(try reply("hello3").map?.count == 7)
        let info = try reply("resp3_info_server")
        #expect(info.string?.hasPrefix("# Server") == true)
    }

    @Test("a recorded pipeline of 100 INCR replies yields 100 consecutive integers")
    func pipeline() throws {
        let recorded = try #require(recordedReplies.first { $0.name == "resp2_pipeline_100_incr" })
        let values = parse(recorded.bytes).values
        #expect(values == (1...100).map { .integer(Int64($0)) })
    }
}

extension RESPValue {
    var containsDouble: Bool {
        switch self {
        case .double: true
        case .array(let a), .set(let a), .push(let a): a.contains(where: \.containsDouble)
        case .map(let p): p.contains { $0.key.containsDouble || $0.value.containsDouble }
        case .attribute(let p, let v): v.containsDouble || p.contains { $0.key.containsDouble || $0.value.containsDouble }
        default: false
        }
    }
}
