@testable import RedisUtil
import Testing

/// The cursor of a cluster SCAN: what a caller may pass, and where each page leads.
@Suite("Cluster SCAN cursor")
struct ClusterScanCursorTests {
    /// Three shards whose lowest slots are 0, 5461 and 10923, and one that owns none.
    static let lowest: [Int?] = [0, 5461, 10923, nil]

    @Test func zeroStartsAtTheShardOfTheLowestSlot() {
        #expect(ClusterScanCursor("0", lowestSlots: Self.lowest) == ClusterScanCursor(slot: 0, nodeCursor: "0"))
        #expect(ClusterScanCursor("0", lowestSlots: [9000, 100]) == ClusterScanCursor(slot: 100, nodeCursor: "0"))
        #expect(ClusterScanCursor("0", lowestSlots: [nil]) == nil)
    }

    @Test func aClusterCursorNamesASlotAndTheNodesCursor() {
        #expect(ClusterScanCursor("5461-1234", lowestSlots: Self.lowest) == ClusterScanCursor(slot: 5461, nodeCursor: "1234"))
        #expect(ClusterScanCursor("16383-18446744073709551615", lowestSlots: Self.lowest)?.nodeCursor == "18446744073709551615")
        for bad in ["17", "", "-", "5-", "-5", "16384-1", "5-x", "5-1-2", "a-1", "5--1"] {
            #expect(ClusterScanCursor(bad, lowestSlots: Self.lowest) == nil, "\(bad)")
        }
    }

    @Test func aShardsPagesThenTheNextShardThenTheEnd() {
        let first = ClusterScanCursor(slot: 0, nodeCursor: "0")
        #expect(first.next(nodeCursor: "96", shardLowest: 0, lowestSlots: Self.lowest) == "0-96")
        #expect(first.next(nodeCursor: "0", shardLowest: 0, lowestSlots: Self.lowest) == "5461-0")
        let middle = ClusterScanCursor(slot: 7000, nodeCursor: "12")
        #expect(middle.next(nodeCursor: "0", shardLowest: 5461, lowestSlots: Self.lowest) == "10923-0")
        let last = ClusterScanCursor(slot: 10923, nodeCursor: "40")
        #expect(last.next(nodeCursor: "0", shardLowest: 10923, lowestSlots: Self.lowest) == "0")
    }
}
