/// Where leased delivery keeps its state, beside the list it takes messages from.
///
/// For the list `L` (a channel's receive list, e.g. `/jobs/client`):
///
/// | key | type | holds |
/// |---|---|---|
/// | `{L}/pending` | list | messages a blocked receiver moved out of `L` (`BLMOVE`) and no lease took yet: leased before `L` |
/// | `{L}/inflight` | hash | lease id → `"<deliveries> <message>"` |
/// | `{L}/leases` | sorted set | lease id, scored by its expiry (the server's clock, ms) |
/// | `{L}/redelivered` | hash | SHA-1 of a message handed back to `L` → deliveries so far |
/// | `{L}/dead` | list | dead letters, one JSON object each |
///
/// None ends in `/client` or `/server`, so Python's `list_channel` (and ours) never
/// reports them as channels. The braces are a hash tag that puts every key in the slot
/// of `L` itself (Redis hashes only what is inside the first `{…}`, and `L` has none),
/// so that each script's keys stay in one slot on a cluster while the two lists Python
/// uses keep their names. A list whose name has a hash tag of its own lends that tag.
struct ChannelLeaseKeys: Sendable, Hashable {
    /// The list messages are taken from.
    let list: String
    let pending: String
    let inflight: String
    let leases: String
    let redelivered: String
    let dead: String

    init(list: String) {
        self.list = list
        let prefix = Self.slotPrefix(of: list)
        pending = prefix + "/pending"
        inflight = prefix + "/inflight"
        leases = prefix + "/leases"
        redelivered = prefix + "/redelivered"
        dead = prefix + "/dead"
    }

    /// A prefix whose hash slot is `key`'s: `{key}`, or `{tag}key` when `key` has a hash
    /// tag of its own. A key with a stray `}` and no tag cannot be put in its slot by a
    /// tag (a tag cannot contain `}`): its keys then share no slot, which one server does
    /// not mind; a cluster client refuses such a channel's scripts as cross-slot.
    static func slotPrefix(of key: String) -> String {
        let bytes = Array(key.utf8)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            return "{" + String(decoding: bytes[(open + 1)..<close], as: UTF8.self) + "}" + key
        }
        if !bytes.contains(UInt8(ascii: "}")) { return "{" + key + "}" }
        return key
    }
}
