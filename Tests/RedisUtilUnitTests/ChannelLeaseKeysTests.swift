import Testing
@testable import RedisUtil

/// The slot rules behind the leased-delivery key names (Redis Cluster's hash tags): each
/// state key must hash as the list it serves, computed here with Redis' own rule.
@Suite("Leased-delivery keys share their list's hash slot")
struct ChannelLeaseKeysTests {
    /// What Redis hashes of a key: the content of the first `{…}` when non-empty, else the key.
    private func hashed(_ key: String) -> Substring {
        guard let open = key.firstIndex(of: "{"),
              let close = key[key.index(after: open)...].firstIndex(of: "}"),
              close > key.index(after: open) else { return Substring(key) }
        return key[key.index(after: open)..<close]
    }

    @Test("a plain channel list: the keys are tagged with the whole list name", arguments: ["/asyncworker/image-process/client", "/a/server", "x"])
    func plainList(_ list: String) {
        let keys = ChannelLeaseKeys(list: list)
        #expect(keys.inflight == "{\(list)}/inflight")
        for key in [keys.pending, keys.inflight, keys.leases, keys.redelivered, keys.dead] {
            #expect(hashed(key) == hashed(list))
            #expect(!key.hasSuffix("/client") && !key.hasSuffix("/server"))
        }
    }

    @Test("a list with a hash tag of its own lends it; one with a stray brace still lands in its slot", arguments: ["/jobs/{tenant-7}/client", "/a{b/client", "/x}y/client"])
    func braces(_ list: String) {
        let keys = ChannelLeaseKeys(list: list)
        if list.contains("}") && !list.contains("{") {
            // No tag can hold a `}`: such a list's keys share no slot (documented).
            #expect(keys.inflight == list + "/inflight")
        } else {
            for key in [keys.pending, keys.inflight, keys.leases, keys.redelivered, keys.dead] {
                #expect(hashed(key) == hashed(list), "\(key) vs \(list)")
            }
        }
    }
}
