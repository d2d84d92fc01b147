import LocalRedis
import RESP
import RedisUtil
import Synchronization
import Testing

/// Many peers on one channel and a large keyspace: delivery and listing at scale.
@Suite struct RedisChannelLoadTests {
    /// How many messages the consumers have taken, shared by all of them.
    private final class Taken: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func sixteenProducersSixteenConsumersDeliverEachMessageExactlyOnce() async throws {
        let producers = 16, consumers = 16, total = 100_000, batch = 250
        let perProducer = total / producers
        try await withRedis { _, client in
            let (sender, receiver) = channelPair(client, "/load/jobs")
            let taken = Taken()
            let deadline = ContinuousClock.now + .seconds(120)
            let received = try await withThrowingTaskGroup(of: [Int].self) { group in
                for producer in 0..<producers {
                    group.addTask {
                        let first = producer * perProducer
                        for start in stride(from: first, to: first + perProducer, by: batch) {
                            try await sender.send(contentsOf: start..<min(start + batch, first + perProducer))
                        }
                        return []
                    }
                }
                for consumer in 0..<consumers {
                    group.addTask {
                        var mine: [Int] = []
                        while taken.count.load(ordering: .relaxed) < total, ContinuousClock.now < deadline {
                            // Half the consumers batch with LPOP count, half block with BLPOP
                            // and batch only when the channel is busy; both kinds race.
                            var got: [Int] = consumer.isMultiple(of: 2) ? try await receiver.recv(max: 64) : []
                            if got.isEmpty, let one = try await receiver.brecv(as: Int.self, timeout: .milliseconds(50)) {
                                got = [one]
                            }
                            mine += got
                            taken.count.add(got.count, ordering: .relaxed)
                        }
                        return mine
                    }
                }
                var all: [Int] = []
                for try await part in group { all += part }
                return all
            }
            #expect(received.count == total, "each message delivered once: no loss, no duplicate")
            let unique = Set(received)
            #expect(unique.count == received.count, "\(received.count - unique.count) duplicates")
            #expect(unique == Set(0..<total))
            #expect(try await client.send("EXISTS", "/load/jobs/client").int == 0)
        }
    }

    @Test func listChannelsOverAHundredThousandKeys() async throws {
        try await withRedis { _, client in
            // One server-side loop instead of 100,000 round trips; names matter, so no
            // DEBUG POPULATE. 40,000 channels (half with both lists) and 40,000 keys that
            // are not channels of the prefix: 100,000 keys in all.
            let script = """
            for i = 1, 40000 do
              redis.call('RPUSH', '/big/ch' .. i .. '/client', '1')
              if i % 2 == 0 then redis.call('RPUSH', '/big/ch' .. i .. '/server', '1') end
              if i <= 20000 then
                redis.call('SET', '/big/ch' .. i .. '/state', '1')
                redis.call('RPUSH', '/other/ch' .. i .. '/client', '1')
              end
            end
            return redis.call('DBSIZE')
            """
            #expect(try await client.send("EVAL", script, 0).int == 100_000)
            let expected = (1...40_000).map { "/big/ch\($0)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            _ = try await client.send("CONFIG", "RESETSTAT")
            let listed = try await RedisChannel.listChannels(client: client, prefix: "/big/")
            #expect(listed == expected)
            // Listing walks the keyspace in SCAN pages of about a thousand keys: about a
            // hundred round trips for 100,000 keys, not one per key (no wall-clock bound
            // here: this suite runs beside the heavy ones on two cores).
            let stats = try await client.send("INFO", "commandstats").string ?? ""
            let scans = stats.split(whereSeparator: \.isNewline)
                .first { $0.hasPrefix("cmdstat_scan:") }
                .flatMap { $0.split(separator: ",").first?.split(separator: "=").last }
                .flatMap { Int($0) }
            let calls = try #require(scans, "no cmdstat_scan in \(stats)")
            #expect((50...400).contains(calls), "\(calls) SCAN calls")
            let channel = RedisChannel(client: client, "/big/ch1", peer: .client)
            #expect(try await callback { channel.listChannels(prefix: ["big"], completion: $0) } == expected)
            #expect(try await channel.listChannels(prefix: "/other/").count == 20_000)
        }
    }
}
