import Synchronization

/// Totals kept by a client's connections, subscriptions and channels as they work, one
/// relaxed atomic add each, and turned into swift-metrics counters by the periodic
/// report (``ClientObserver/report(_:)``). Exists only while metrics are on: with them
/// off, the I/O paths see `nil` and skip even the add.
final class ClientCounters: Sendable {
    let bytesWritten = Atomic<Int>(0)
    let bytesRead = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
    let subscriptionGaps = Atomic<Int>(0)
    let channelSent = Atomic<Int>(0)
    let channelReceived = Atomic<Int>(0)
    let channelAcked = Atomic<Int>(0)
    let channelRedelivered = Atomic<Int>(0)
    let channelDeadLettered = Atomic<Int>(0)

    /// A ``RedisChannel`` event, for ``count(_:_:)``.
    enum ChannelEvent { case sent, received, acked, redelivered, deadLettered }

    /// Counts `count` channel messages that met `event`.
    func count(_ event: ChannelEvent, _ count: Int = 1) {
        guard count > 0 else { return }
        switch event {
        case .sent: channelSent.add(count, ordering: .relaxed)
        case .received: channelReceived.add(count, ordering: .relaxed)
        case .acked: channelAcked.add(count, ordering: .relaxed)
        case .redelivered: channelRedelivered.add(count, ordering: .relaxed)
        case .deadLettered: channelDeadLettered.add(count, ordering: .relaxed)
        }
    }

    /// Every total, in the order of ``ClientObserver``'s reported counters.
    func snapshot() -> [Int] {
        [
            bytesWritten.load(ordering: .relaxed), bytesRead.load(ordering: .relaxed),
            reconnects.load(ordering: .relaxed), subscriptionGaps.load(ordering: .relaxed),
            channelSent.load(ordering: .relaxed), channelReceived.load(ordering: .relaxed),
            channelAcked.load(ordering: .relaxed), channelRedelivered.load(ordering: .relaxed),
            channelDeadLettered.load(ordering: .relaxed),
        ]
    }
}
