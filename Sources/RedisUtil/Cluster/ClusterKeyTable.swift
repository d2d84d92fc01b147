/// Key specs by command name, looked up straight from a command's encoded bytes.
///
/// Names are kept lower case and compared ignoring ASCII case, as the server does.
/// A container command (`XINFO`, `OBJECT`, `CLIENT`) holds its subcommands in a table of
/// their own, under the subcommand's name alone (`stream` for `xinfo|stream`).
///
/// The lookup hashes the name's bytes in place and probes an open-addressed index, so
/// routing a command allocates nothing: a `Dictionary` keyed by `[UInt8]` would need
/// an array built from the bytes of every command. A name of eight bytes or fewer (every
/// command's but a few) is read, folded, hashed and compared as one word (``CommandNameWord``).
struct ClusterKeyTable: Sendable, Equatable {
    /// One command: its name, its spec, and, for a container, its subcommands.
    struct Entry: Sendable, Equatable {
        /// The name in lower case; a subcommand's without its container's.
        var name: [UInt8]
        var spec: ClusterKeySpec
        /// The subcommands of a container command, `nil` for the others.
        var subcommands: ClusterKeyTable?
    }

    /// The entries, one per name.
    private(set) var entries: [Entry]
    /// Open addressing over `entries`: a power of two, at least twice the entries, so
    /// that probe runs stay short.
    private var buckets: [Bucket]
    /// Every name, lower case, back to back; buckets point into it.
    private var names: [UInt8]

    /// What a lookup needs of one entry, in plain values kept apart from ``entries``,
    /// so that probing copies no reference-counted storage (a retain and a release
    /// per probe cost more than the probe).
    private struct Bucket {
        /// The entry's index, or -1 for a free bucket.
        var entry: Int32 = -1
        var hash: UInt32 = 0
        /// A name of eight bytes or fewer as ``CommandNameWord/folded(_:)`` reads it; 0 for a longer one.
        var word: UInt64 = 0
        var nameStart: Int32 = 0
        var nameCount: Int32 = 0
        /// For a spec of one key at a fixed position, and nothing else (`GET key`,
        /// `RPUSH key value …`, `XINFO STREAM key`: most commands), that position; else 0.
        var singleKey: Int32 = 0
        /// Whether the entry is a container with subcommands.
        var hasSubcommands = false
        /// The spec's ``ClusterKeySpec/isReadOnly``, for `readFrom` routing.
        var isReadOnly = false
        /// How the command goes on a shared connection when its name says it all: `.shared`
        /// for a name ``SpecialCommand`` does not know, `.removing` for one it knows only
        /// as removing (`LPOP`); nil for the others, whose arguments or context decide.
        var plainRoute: CommandRoute.Known?
        /// Whether the command never names a key whatever its arguments, and its tips
        /// send it to no more than one node (`ECHO`, `PUBLISH`, `TIME`; not `PING` or `KEYS`).
        var isKeyless = false
        /// For a spec whose keys are every `keyStep`th argument from the first to the last,
        /// and nothing else (`DEL`, `EXISTS`, `MGET`: 1; `MSET`: 2), that step; else 0.
        var keyStep: Int8 = 0
        /// For a spec whose keys follow a count at a fixed position, one after another,
        /// and nothing else (`EVAL script numkeys key …`: 2; `LMPOP numkeys key …`: 1),
        /// that position; else 0.
        var numKeysAt: Int8 = 0
    }

    /// What routing's fastest reading needs of a command whose one key is its first
    /// argument, or that has no keys at all (see ``firstKeyCommand(word:count:)``).
    struct FirstKeyCommand {
        /// ``Bucket/plainRoute``: nil when ``CommandRoute`` must read the command.
        let plainRoute: CommandRoute.Known?
        /// The spec's ``ClusterKeySpec/isReadOnly``.
        let isReadOnly: Bool
        /// ``Bucket/isKeyless``: no key to read (else the key is the first argument).
        let isKeyless: Bool
        /// ``Bucket/keyStep``: 0 when the first argument is the only key, else every
        /// `keyStep`th argument after it is one too.
        let keyStep: Int
        /// ``Bucket/numKeysAt``: when not 0, the keys are not at the first argument but
        /// follow the count at this position.
        let numKeysAt: Int
    }

    /// A table of `entries`; of two entries with one name (in any case), the later wins.
    init(_ entries: [Entry]) {
        var unique: [Entry] = []
        unique.reserveCapacity(entries.count)
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        var buckets = [Bucket](repeating: Bucket(), count: capacity)
        for var entry in entries {
            entry.name = entry.name.map(Self.folded)
            let hash = entry.name.withUnsafeBufferPointer { $0.count <= 8 ? Self.hash(word: CommandNameWord.folded($0)) : Self.hash($0) }
            var position = Int(hash) & (capacity - 1)
            while buckets[position].entry >= 0, unique[Int(buckets[position].entry)].name != entry.name {
                position = (position + 1) & (capacity - 1)
            }
            if buckets[position].entry < 0 {
                unique.append(entry)
                buckets[position].entry = Int32(unique.count - 1)
                buckets[position].hash = hash
            } else {
                unique[Int(buckets[position].entry)] = entry
            }
        }
        var names: [UInt8] = []
        for position in buckets.indices where buckets[position].entry >= 0 {
            let entry = unique[Int(buckets[position].entry)]
            buckets[position].nameStart = Int32(names.count)
            buckets[position].nameCount = Int32(entry.name.count)
            buckets[position].word = entry.name.count <= 8 ? entry.name.withUnsafeBufferPointer(CommandNameWord.folded) : 0
            buckets[position].singleKey = Self.singleKey(of: entry.spec)
            buckets[position].keyStep = Self.keyStep(of: entry.spec)
            buckets[position].numKeysAt = Self.numKeysAt(of: entry.spec)
            buckets[position].hasSubcommands = entry.subcommands != nil
            buckets[position].isReadOnly = entry.spec.isReadOnly
            buckets[position].isKeyless = entry.subcommands == nil && entry.spec.isKeyless && ClusterFanOut(entry.spec) == nil
            buckets[position].plainRoute = switch SpecialCommand.named(entry.name.indices, in: entry.name) {
            case nil: .shared
            case .removing?: .removing
            default: nil
            }
            names += entry.name
        }
        self.entries = unique
        self.buckets = buckets
        self.names = names
    }

    /// The number of commands (containers counted once).
    var count: Int { entries.count }

    /// The position in ``entries`` of the command called `name` (any case), or `nil`.
    func position(of name: UnsafeBufferPointer<UInt8>) -> Int? {
        bucket(of: name).map { Int($0.entry) }
    }

    /// The bucket of the command called `name` (any case), or `nil`.
    @inline(__always)
    private func bucket(of name: UnsafeBufferPointer<UInt8>) -> Bucket? {
        if name.count <= 8 { return bucket(ofWord: CommandNameWord.folded(name), count: name.count) }
        let hash = Self.hash(name)
        return buckets.withUnsafeBufferPointer { buckets in
            names.withUnsafeBufferPointer { names in
                let mask = buckets.count - 1
                var position = Int(hash) & mask
                while true {
                    let bucket = buckets[position]
                    if bucket.entry < 0 { return nil }
                    if bucket.hash == hash, Int(bucket.nameCount) == name.count,
                       Self.equalFolded(names, from: Int(bucket.nameStart), name) {
                        return bucket
                    }
                    position = (position + 1) & mask
                }
            }
        }
    }

    /// The bucket of the name of `count` bytes (at most eight) that ``CommandNameWord/folded(_:)``
    /// read as `word`, or `nil`: one comparison of words per probe. The count tells a
    /// name from the same name with NUL bytes after it, which would read the same.
    @inline(__always)
    private func bucket(ofWord word: UInt64, count: Int) -> Bucket? {
        let hash = Self.hash(word: word)
        return buckets.withUnsafeBufferPointer { buckets in
            let mask = buckets.count - 1
            var position = Int(hash) & mask
            while true {
                let bucket = buckets[position]
                if bucket.entry < 0 { return nil }
                if bucket.word == word, bucket.hash == hash, Int(bucket.nameCount) == count { return bucket }
                position = (position + 1) & mask
            }
        }
    }

    /// How a command is to be searched for keys.
    enum Lookup {
        /// One key, at this position, and nothing more to it.
        case singleKey(Int)
        /// Whatever this spec says.
        case spec(ClusterKeySpec)
        /// A command, or a container's subcommand, the table does not know.
        case unknown
    }

    /// How to search the command called `name` for keys: by its subcommand's spec for
    /// a container, whose second argument `subcommand` reads (`nil`: there is none),
    /// else by its own. `subcommand` is called for containers only, so the common
    /// command reads no argument past its name.
    @inline(__always)
    func lookup(_ name: UnsafeBufferPointer<UInt8>, subcommand: () -> UnsafeBufferPointer<UInt8>?) -> Lookup {
        guard let bucket = bucket(of: name) else { return .unknown }
        if bucket.hasSubcommands, let second = subcommand(), let subcommands = entries[Int(bucket.entry)].subcommands {
            guard let sub = subcommands.bucket(of: second) else { return .unknown }
            return sub.singleKey > 0 ? .singleKey(Int(sub.singleKey)) : .spec(subcommands.entries[Int(sub.entry)].spec)
        }
        return bucket.singleKey > 0 ? .singleKey(Int(bucket.singleKey)) : .spec(entries[Int(bucket.entry)].spec)
    }

    /// The command called `name` (any case) if it has one key, its first argument, and
    /// nothing more to its spec (no subcommands), or no key at all and no fan-out: the
    /// shapes routing reads fastest.
    @inline(__always)
    func firstKeyCommand(_ name: UnsafeBufferPointer<UInt8>) -> FirstKeyCommand? {
        bucket(of: name).flatMap(Self.firstKeyCommand)
    }

    /// ``firstKeyCommand(_:)`` for a name of `count` bytes, at most eight, that the
    /// caller read as one word, already folded (``CommandNameWord/folded(in:at:count:)``).
    @inline(__always)
    func firstKeyCommand(word: UInt64, count: Int) -> FirstKeyCommand? {
        bucket(ofWord: word, count: count).flatMap(Self.firstKeyCommand)
    }

    @inline(__always)
    private static func firstKeyCommand(_ bucket: Bucket) -> FirstKeyCommand? {
        guard bucket.singleKey == 1 || bucket.keyStep > 0 || bucket.numKeysAt > 0 || bucket.isKeyless, !bucket.hasSubcommands else { return nil }
        return FirstKeyCommand(plainRoute: bucket.plainRoute, isReadOnly: bucket.isReadOnly, isKeyless: bucket.isKeyless,
                               keyStep: Int(bucket.keyStep), numKeysAt: Int(bucket.numKeysAt))
    }

    /// Whether the command that starts at `start` in `bytes` only reads (the flag
    /// `readonly`), so that `readFrom` may send it to a replica: its subcommand's flag
    /// for a container. `false` for a command the table does not know, and for bytes
    /// that are not a command. Allocates nothing.
    func isReadOnly(_ bytes: [UInt8], at start: Int = 0) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            guard var cursor = ClusterKeyArguments.Cursor(buffer, at: start), let name = cursor.next(),
                  let bucket = bucket(of: UnsafeBufferPointer(rebasing: buffer[name])) else { return false }
            guard bucket.hasSubcommands, let second = cursor.next(), let subcommands = entries[Int(bucket.entry)].subcommands else {
                return bucket.isReadOnly
            }
            return subcommands.bucket(of: UnsafeBufferPointer(rebasing: buffer[second]))?.isReadOnly ?? false
        }
    }

    /// Whether every command of a batch only reads (see ``isReadOnly(_:at:)``);
    /// `false` for bytes that are not whole commands.
    func isReadOnly(batch bytes: [UInt8]) -> Bool {
        var start = 0
        while start < bytes.count {
            let end: Int? = bytes.withUnsafeBufferPointer { buffer in
                ClusterKeyArguments.withArguments(of: buffer, at: start) { $0.end }
            }
            guard let end, isReadOnly(bytes, at: start) else { return false }
            start = end
        }
        return true
    }

    /// The spec that applies to the command `arguments` hold (see
    /// ``lookup(_:subcommand:)``); `nil` for a command, or a container's subcommand,
    /// the table does not know.
    func spec(for arguments: ClusterKeyArguments) -> ClusterKeySpec? {
        guard let bucket = bucket(of: arguments[0]) else { return nil }
        if bucket.hasSubcommands, arguments.count > 1, let subcommands = entries[Int(bucket.entry)].subcommands {
            return subcommands.bucket(of: arguments[1]).map { subcommands.entries[Int($0.entry)].spec }
        }
        return entries[Int(bucket.entry)].spec
    }

    /// The position of a spec's only key, if that is all the spec says.
    private static func singleKey(of spec: ClusterKeySpec) -> Int32 {
        guard spec.procedure == nil, spec.keyRules.count == 1,
              case .index(let position) = spec.keyRules[0].begin, position > 0, position <= Int(Int32.max),
              spec.keyRules[0].find == .range(lastKey: 0, step: 1, limit: 0) else { return 0 }
        return Int32(position)
    }

    /// The step of a spec whose keys are every `step`th argument from the first to the
    /// last (one or two), if that is all the spec says; else 0.
    private static func keyStep(of spec: ClusterKeySpec) -> Int8 {
        guard spec.procedure == nil, spec.keyRules.count == 1, case .index(1) = spec.keyRules[0].begin,
              case .range(lastKey: -1, let step, limit: 0) = spec.keyRules[0].find, step == 1 || step == 2 else { return 0 }
        return Int8(step)
    }

    /// The position of the count of a spec whose keys are the arguments right after it,
    /// as many as it says (`EVAL`, `FCALL`, `LMPOP`), if that is all the spec says; else 0.
    private static func numKeysAt(of spec: ClusterKeySpec) -> Int8 {
        guard spec.procedure == nil, spec.keyRules.count == 1, case .index(let position) = spec.keyRules[0].begin,
              position > 0, position < 8, spec.keyRules[0].find == .keyNum(keyNumIndex: 0, firstKey: 1, step: 1) else { return 0 }
        return Int8(position)
    }

    /// The spec of `name`, a command or `container|subcommand` as the server writes
    /// it (`"xinfo|stream"`), in any case; for tests and diagnostics.
    subscript(name: String) -> ClusterKeySpec? {
        let parts = name.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let found: Entry? = Array(parts[0].utf8).withUnsafeBufferPointer { position(of: $0).map { entries[$0] } }
        guard let found else { return nil }
        guard parts.count == 2 else { return found.spec }
        return found.subcommands?[String(parts[1])]
    }

    /// This table with `other`'s entries added; where both know a command, `other`'s
    /// spec wins unless it may miss keys this one's finds (a server before Redis 7
    /// says only `movablekeys` of `EVAL`). Subcommands merge the same way, so an older
    /// server's container keeps the built-in subcommands it lacks.
    func merging(_ other: ClusterKeyTable) -> ClusterKeyTable {
        var merged = entries
        for entry in other.entries {
            let existing = entry.name.withUnsafeBufferPointer { position(of: $0) }
            guard let existing else {
                merged.append(entry)
                continue
            }
            var combined = entry
            let ours = entries[existing]
            if entry.spec.mayMissKeys, !ours.spec.mayMissKeys, !ours.spec.isKeyless {
                combined.spec = ours.spec
            }
            switch (ours.subcommands, entry.subcommands) {
            case (let mine?, let theirs?): combined.subcommands = mine.merging(theirs)
            case (let mine?, nil): combined.subcommands = mine
            default: break
            }
            merged[existing] = combined
        }
        return ClusterKeyTable(merged)
    }

    /// Tables are equal when they hold the same entries, in whatever order.
    static func == (lhs: ClusterKeyTable, rhs: ClusterKeyTable) -> Bool {
        lhs.count == rhs.count && lhs.entries.allSatisfy { entry in
            entry.name.withUnsafeBufferPointer { rhs.position(of: $0) }.map { rhs.entries[$0] == entry } ?? false
        }
    }

    /// `byte` in lower case if it is an ASCII capital; command names are ASCII.
    @inline(__always)
    static func folded(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// Whether the stored name at `start` in `names` (lower case, as long as `name`)
    /// and `name` (any case) are the same name.
    @inline(__always)
    private static func equalFolded(_ names: UnsafeBufferPointer<UInt8>, from start: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        for offset in 0..<name.count where names[start + offset] != folded(name[offset]) {
            return false
        }
        return true
    }

    /// The hash of a name of eight bytes or fewer, from its folded word.
    @inline(__always)
    private static func hash(word: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: CommandNameWord.hash(word))
    }

    /// FNV-1a of the name with bit 5 of every byte set: the same for a name in any
    /// case (and for a few names no command has, which the comparison then tells
    /// apart), in a few instructions a byte.
    @inline(__always)
    private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in name {
            hash = (hash ^ UInt32(byte | 0x20)) &* 16_777_619
        }
        return hash
    }
}
