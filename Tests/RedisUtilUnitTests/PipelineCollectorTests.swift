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
}
