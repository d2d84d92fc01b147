@testable import RedisUtil
import RESP
import Synchronization
import Testing

/// The collector of a pipeline's replies: completes once, with every reply in its place,
/// whatever the order of delivery, and ignores a second delivery to a place (up to 64
/// replies the filled places are bits of one word, beyond that an array).
@Suite("Gathering a pipeline's replies")
struct PipelineCollectorTests {
    @Test(arguments: [1, 3, 64, 65, 200])
    func completesOnceInOrder(count: Int) {
        // Named in full: under the sanitizer build, RedisUtil (imported for testing) has a `Mutex` of its own.
        let completions = Synchronization.Mutex<[[Result<RESPValue, RedisError>]]>([])
        let collector = PipelineCollector(count: count) { replies in completions.withLock { $0.append(replies) } }
        var order = Array(0..<count)
        order.shuffle()
        for (step, index) in order.enumerated() {
            collector.deliver(.success(.integer(Int64(index))), at: index)
            // A second delivery to a place already filled changes nothing.
            collector.deliver(.failure(.closed), at: index)
            if step < count - 1 { #expect(completions.withLock { $0.isEmpty }) }
        }
        collector.deliver(.failure(.closed), at: order[0])
        let done = completions.withLock { $0 }
        #expect(done.count == 1)
        #expect(done.first?.map { try? $0.get().int } == (0..<count).map { $0 })
    }

    /// A cluster pipeline's round: several batches (one per node) fill some of the
    /// pipeline's places through mapped handlers, in any order; the collector completes
    /// after the last of them, once, with a placeholder where no reply was due.
    @Test(arguments: [10, 70])
    func mappedBatchesFillTheirPlaces(count: Int) throws {
        let completions = Synchronization.Mutex<[[Result<RESPValue, RedisError>]]>([])
        let batches = [[count - 1, 2], [0, count - 3, 5]]
        let collector = PipelineCollector(count: count, deliveries: 5) { replies in completions.withLock { $0.append(replies) } }
        var deliveries: [(handler: ReplyHandler, value: Int)] = []
        for places in batches {
            let handlers = collector.handlers(places: places)
            #expect(handlers.count == places.count)
            for (handler, place) in zip(handlers, places) { deliveries.append((handler, place)) }
        }
        deliveries.shuffle()
        for (step, delivery) in deliveries.enumerated() {
            delivery.handler.complete(.success(.integer(Int64(delivery.value))), failures: nil)
            if step < deliveries.count - 1 { #expect(completions.withLock { $0.isEmpty }) }
        }
        let done = completions.withLock { $0 }
        #expect(done.count == 1)
        let filled = Set(batches.joined())
        #expect(done.first?.count == count)
        for (place, reply) in (done.first ?? []).enumerated() {
            #expect(try reply.get() == (filled.contains(place) ? .integer(Int64(place)) : .null))
        }
    }
}
