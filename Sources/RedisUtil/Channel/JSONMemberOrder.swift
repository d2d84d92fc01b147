/// Puts the members of one streamed JSON object in their final order, in place: the step
/// that makes ``JSONStreamEncoder``'s objects byte-for-byte the tree encoder's. An object
/// keeps the order its `encode(to:)` wrote its members in (a struct's declaration order,
/// as Python writes a `dict` in insertion order), a repeated key taking the place of its
/// first write and the value of its last; a `Dictionary`'s, whose order changes from
/// process to process, is sorted by the keys' UTF-8 bytes, a repeated key's last value
/// kept (``finish(_:in:objectStart:sorted:)``).
///
/// The unsafe part of this file: `bytes` is the encoder's whole output and every member
/// lies inside it between `objectStart` and the last member's end (the encoder records
/// the offsets as it writes); reads and writes stay in that range, and the copy it
/// reorders from is a temporary allocation of exactly that length.
enum JSONMemberOrder {
    /// Where one member lies in the output, key included.
    struct Member {
        /// The key's bytes, between its quotes.
        let keyStart: Int
        let keyEnd: Int
        /// From the opening quote of the key; `-1` marks a repeated key's earlier value.
        var start: Int
        var end: Int
    }

    /// Puts `members` (written in this order from `objectStart`, `", "` between them) in
    /// their final order, rewriting their bytes where that changes anything, and returns
    /// where the object's members now end (before their old end only when a repeated
    /// key's earlier value was dropped). `sorted`, for a dictionary's object: by the keys'
    /// UTF-8 bytes, a repeated key's last value kept. Otherwise in writing order, a
    /// repeated key keeping the place of its first write and the value of its last, as a
    /// Python `dict` does when a key is assigned again. An object of one member, one
    /// already in order, and one without a repeated key (the usual cases) are left as
    /// they are.
    static func finish(_ members: UnsafeMutableBufferPointer<Member>, in bytes: UnsafeMutableBufferPointer<UInt8>, objectStart: Int, sorted: Bool) -> Int {
        let count = members.count
        guard count > 1, let base = bytes.baseAddress else { return count == 1 ? members[0].end : objectStart }
        let end = members[count - 1].end
        precondition(objectStart >= 0 && end <= bytes.count && members[0].start >= objectStart, "members outside the output")
        return sorted ? sort(members, base: base, objectStart: objectStart, end: end)
            : keepLastOfRepeats(members, base: base, objectStart: objectStart, end: end)
    }

    /// ``finish(_:in:objectStart:sorted:)`` for a dictionary's object of two members or more.
    private static func sort(_ members: UnsafeMutableBufferPointer<Member>, base: UnsafeMutablePointer<UInt8>, objectStart: Int, end: Int) -> Int {
        let count = members.count
        var ordered = true
        for index in 1..<count where !precedes(members[index - 1], members[index], base) {
            ordered = false
            break
        }
        if ordered { return end }
        // An insertion sort: objects are small, and it is stable, so a repeated key's
        // writes stay in writing order and the last one is kept below.
        for index in 1..<count {
            let member = members[index]
            var slot = index
            while slot > 0 && precedes(member, members[slot - 1], base) {
                members[slot] = members[slot - 1]
                slot -= 1
            }
            members[slot] = member
        }
        for index in 0..<(count - 1) where !precedes(members[index], members[index + 1], base) {
            members[index].start = -1
        }
        return rewrite(members, base: base, objectStart: objectStart, end: end)
    }

    /// ``finish(_:in:objectStart:sorted:)`` for any other object of two members or more:
    /// its keys compared pairwise (objects are small; keys of different lengths differ at
    /// the first comparison).
    private static func keepLastOfRepeats(_ members: UnsafeMutableBufferPointer<Member>, base: UnsafeMutablePointer<UInt8>, objectStart: Int, end: Int) -> Int {
        let count = members.count
        var repeated = false
        search: for later in 1..<count {
            for earlier in 0..<later where sameKey(members[earlier], members[later], base) {
                repeated = true
                break search
            }
        }
        if !repeated { return end }
        // Each key's first write takes the bytes of its last (the key's bytes are the
        // same); the later writes are dropped.
        for index in 0..<count where members[index].start >= 0 {
            for later in (index + 1)..<count where members[later].start >= 0 && sameKey(members[index], members[later], base) {
                members[index].start = members[later].start
                members[index].end = members[later].end
                members[later].start = -1
            }
        }
        return rewrite(members, base: base, objectStart: objectStart, end: end)
    }

    /// Writes the members not marked dropped (`start < 0`) back from `objectStart`, in
    /// the order of `members`, `", "` between them; returns where they end.
    private static func rewrite(_ members: UnsafeMutableBufferPointer<Member>, base: UnsafeMutablePointer<UInt8>, objectStart: Int, end: Int) -> Int {
        let length = end - objectStart
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { written in
            // One copy of the members' bytes (on the stack when small), then each back in order.
            _ = written.initialize(fromContentsOf: UnsafeBufferPointer(start: base + objectStart, count: length))
            var cursor = objectStart
            var first = true
            for member in members where member.start >= 0 {
                if !first {
                    base[cursor] = UInt8(ascii: ",")
                    base[cursor + 1] = UInt8(ascii: " ")
                    cursor += 2
                }
                let size = member.end - member.start
                (base + cursor).update(from: written.baseAddress! + (member.start - objectStart), count: size)
                cursor += size
                first = false
            }
            return cursor
        }
    }

    /// Whether `a`'s key sorts before `b`'s, by UTF-8 bytes; `false` for equal keys.
    @inline(__always)
    private static func precedes(_ a: Member, _ b: Member, _ base: UnsafeMutablePointer<UInt8>) -> Bool {
        keyPrecedes(UnsafeBufferPointer(start: base + a.keyStart, count: a.keyEnd - a.keyStart),
                    UnsafeBufferPointer(start: base + b.keyStart, count: b.keyEnd - b.keyStart))
    }

    /// Whether `a` and `b` have the same key.
    @inline(__always)
    private static func sameKey(_ a: Member, _ b: Member, _ base: UnsafeMutablePointer<UInt8>) -> Bool {
        let length = a.keyEnd - a.keyStart
        guard length == b.keyEnd - b.keyStart else { return false }
        return UnsafeBufferPointer(start: base + a.keyStart, count: length).elementsEqual(UnsafeBufferPointer(start: base + b.keyStart, count: length))
    }

    /// The order of a dictionary's keys in every writer: by UTF-8 bytes (code point
    /// order, as Python's `sort_keys`), a prefix first; `false` for equal keys.
    @inline(__always)
    static func keyPrecedes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(a.count, b.count)
        var offset = 0
        while offset < common {
            if a[offset] != b[offset] { return a[offset] < b[offset] }
            offset += 1
        }
        return a.count < b.count
    }
}
