import Testing
@testable import RedisUtil

/// Values from the Redis Cluster specification and from `CLUSTER KEYSLOT` on redis 7.0
/// (the server test against 10,000 random keys lives with the cluster tests).
@Suite struct HashSlotTests {
    @Test func checksumOfTheSpecificationsExample() {
        // The specification's reference: CRC16("123456789") is 0x31C3.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
    }

    @Test(arguments: [
        ("foo", 12182), ("bar", 5061), ("", 0), ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443), ("user1000", 3443), ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061), ("{}", 15257), ("{a", 10276),
    ])
    func slotsAgreeWithTheServer(key: String, slot: Int) {
        #expect(HashSlot.of(key) == slot)
    }

    @Test func aTagSelectsTheSameSlotAsItsContent() {
        for tag in ["a", "jobs", "/asyncworker/image-process/client"] {
            #expect(HashSlot.of("{\(tag)}/inflight") == HashSlot.of(tag))
        }
    }
}
