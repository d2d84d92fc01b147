@testable import RedisUtil
import Testing

@Suite("The first commands a cluster pipeline's check read, kept for its split")
struct ClusterPlainPrefixTests {
    @Test("each command's slot and end read back in order; past four, nothing more is kept")
    func keepsUpToFourInOrder() {
        var prefix = ClusterPlainPrefix()
        #expect(prefix.count == 0)
        let commands = [(slot: 12_182, end: 31), (slot: 0, end: 60), (slot: 16_383, end: 95), (slot: 5_061, end: 120), (slot: 7, end: 150)]
        for (appended, command) in commands.enumerated() {
            prefix.append(slot: command.slot, end: command.end)
            #expect(prefix.count == min(appended + 1, ClusterPlainPrefix.capacity))
        }
        for position in 0..<prefix.count {
            #expect(prefix[position] == commands[position], "command \(position)")
        }
        #expect(prefix.count == 4)
    }
}
