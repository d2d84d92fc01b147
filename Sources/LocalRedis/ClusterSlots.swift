/// The 16384 hash slots and how a fresh cluster divides them.
enum ClusterSlots {
    static let count = 16384

    /// Contiguous ranges of nearly equal size, one per primary, in order (as
    /// `redis-cli --cluster create` divides them).
    static func evenRanges(primaries: Int) -> [ClosedRange<Int>] {
        (0..<primaries).map { index in
            (index * count / primaries)...((index + 1) * count / primaries - 1)
        }
    }
}
