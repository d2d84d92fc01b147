/// Where a command goes in a cluster, decided from its encoded bytes and a table of key
/// specs before anything is sent.
///
/// ```swift
/// switch ClusterCommandSlot.of(bytes, in: table) {
/// case .slot(let slot): …                 // the primary (or, read-only, a replica) serving `slot`
/// case .keyless, .unknownCommand: …       // any primary
/// case .fanOut(let fanOut): …             // every primary (or node), replies combined
/// case .crossSlot(let keys, let slots): … // fail with both, send nothing
/// }
/// ```
enum ClusterCommandSlot: Sendable, Equatable {
    /// Every key (and shard channel) of the command lies in this slot.
    case slot(Int)
    /// The command names no key: any primary will do. Also the answer for arguments
    /// that do not fit the command's spec (a `numkeys` that is not a number), which the
    /// server too takes for a command without keys, and refuses.
    case keyless
    /// A keyless command that the server's tips send to many nodes (`KEYS`, `DBSIZE`,
    /// `FLUSHALL`, `SCRIPT LOAD`, `SCAN`, and `PING`, `INFO`, `WAIT` too).
    case fanOut(ClusterFanOut)
    /// The keys lie in more than one slot: `keys[i]` is in `slots[i]`, in argument
    /// order. A cluster refuses such a command (`CROSSSLOT`), so it is not sent.
    case crossSlot(keys: [String], slots: [Int])
    /// The table does not know the command (or its subcommand), or its spec may miss
    /// keys and found none: send it to any primary, whose reply (`MOVED`, an error)
    /// decides.
    case unknownCommand

    /// The slot of the command that starts at `start` in `bytes`, by `table`;
    /// ``unknownCommand`` when the bytes there are not a command.
    ///
    /// For a command with one key at a fixed position (most, `RPUSH key value …`)
    /// this reads the arguments up to the key, looks the name up and hashes the key;
    /// it allocates nothing, and leaves the arguments after the key unchecked.
    static func of(_ bytes: [UInt8], at start: Int = 0, in table: ClusterKeyTable) -> ClusterCommandSlot {
        bytes.withUnsafeBufferPointer { buffer in
            // A pipeline's later commands too: the plain reading from where the command starts.
            if start >= 0, start < buffer.count, let first = plainSlot(UnsafeBufferPointer(rebasing: buffer[start...]), in: table),
               first.slot >= 0 {
                return .slot(first.slot)
            }
            guard var cursor = ClusterKeyArguments.Cursor(buffer, at: start), let name = cursor.next() else {
                return .unknownCommand
            }
            let lookup = table.lookup(UnsafeBufferPointer(rebasing: buffer[name])) {
                cursor.next().map { UnsafeBufferPointer(rebasing: buffer[$0]) }
            }
            switch lookup {
            case .singleKey(let position):
                // Too few arguments for the key: the server finds no key either.
                guard position < cursor.count else { return .keyless }
                guard position >= cursor.read else {
                    // A key among the names already read (no Redis command's): start over.
                    return ClusterKeyArguments.withArguments(of: buffer, at: start) { of($0, in: table) } ?? .unknownCommand
                }
                var key = 0..<0
                while cursor.read <= position {
                    guard let next = cursor.next() else { return .unknownCommand }
                    key = next
                }
                return .slot(HashSlot.of(UnsafeBufferPointer(rebasing: buffer[key])))
            case .spec(let spec):
                return ClusterKeyArguments.withArguments(of: buffer, at: start) { arguments in
                    of(arguments, by: spec)
                } ?? .unknownCommand
            case .unknown:
                return .unknownCommand
            }
        }
    }

    /// The slot of a command of the commonest shape, read at fixed offsets: one-digit
    /// argument count and name length (`*3\r\n$5\r\nRPUSH\r\n$…`), a name whose only key is
    /// its first argument (`GET`, `RPUSH`, `LPOP`, …), whose keys are all its arguments or
    /// every other one (`DEL`, `EXISTS`, `MGET`, `MSET`: accepted when they share a slot),
    /// whose keys follow a count (`EVAL`, `FCALL`, `LMPOP`: likewise),
    /// or that has no key, no fan-out and
    /// at least one argument (`ECHO`, `PUBLISH`: slot -1). `nil` for anything else, which
    /// the general reading then takes from the start. What it accepts, it reads as that
    /// reading would (the name's and the key's `\r\n` checked), for a third of its
    /// instructions; of a command without keys only the name is read (were the rest
    /// malformed, the general reading would call it an unknown command: routed alike, to
    /// any primary).
    /// With the slot, what the table knows of the command.
    /// `toEnd`: read every argument of a command with keys, and return where it ends
    /// (else, and for a command without keys, `end` is 0 and what follows the key unread).
    @inline(__always)
    private static func plainSlot(_ buffer: UnsafeBufferPointer<UInt8>, in table: ClusterKeyTable, toEnd: Bool = false)
        -> (slot: Int, command: ClusterKeyTable.FirstKeyCommand, end: Int)? {
        let end = buffer.count
        guard end > 13, buffer[0] == UInt8(ascii: "*"), buffer[2] == 0x0D, buffer[3] == 0x0A,
              buffer[4] == UInt8(ascii: "$"), buffer[6] == 0x0D, buffer[7] == 0x0A else { return nil }
        let arguments = Int(buffer[1] &- UInt8(ascii: "0"))
        let nameLength = Int(buffer[5] &- UInt8(ascii: "0"))
        // Two arguments at least (name and key, or a command without keys and an
        // argument), one digit each, and no more than the bytes can hold (each at least
        // `$0\r\n\r\n`), as the general reading requires.
        guard arguments >= 2, arguments <= 9, arguments <= (end &- 4) / 6, nameLength <= 9 else { return nil }
        let keyHeader = 8 &+ nameLength &+ 2
        guard keyHeader &+ 4 <= end, buffer[keyHeader &- 2] == 0x0D, buffer[keyHeader &- 1] == 0x0A, buffer[keyHeader] == UInt8(ascii: "$") else { return nil }
        let command = nameLength <= 8
            ? table.firstKeyCommand(word: CommandNameWord.folded(in: buffer, at: 8, count: nameLength), count: nameLength)
            : table.firstKeyCommand(UnsafeBufferPointer(rebasing: buffer[8..<(8 &+ nameLength)]))
        guard let command else { return nil }
        if command.isKeyless { return (-1, command, 0) }
        if command.numKeysAt > 0 { return countedSlot(buffer, arguments: arguments, from: keyHeader, command: command, toEnd: toEnd) }
        guard let key = ClusterKeyArguments.bulk(in: buffer, at: keyHeader) else { return nil }
        let slot = HashSlot.of(UnsafeBufferPointer(rebasing: buffer[key]))
        guard command.keyStep > 0 || toEnd else { return (slot, command, 0) }
        // Every `keyStep`th argument is a key too, through the last (`DEL a b`, `MSET a 1 b 2`):
        // all read, and all in `slot`, or left to the general reading (which reports keys
        // in several slots, or a malformed command, as it does for any other).
        var header = key.upperBound &+ 2
        for position in 2..<arguments {
            guard let argument = ClusterKeyArguments.bulk(in: buffer, at: header) else { return nil }
            if command.keyStep > 0, (position &- 1) % command.keyStep == 0,
               HashSlot.of(UnsafeBufferPointer(rebasing: buffer[argument])) != slot { return nil }
            header = argument.upperBound &+ 2
        }
        return (slot, command, header)
    }

    /// ``plainSlot(_:in:toEnd:)`` for a command whose keys follow a count
    /// (`EVAL script 2 {t}a {t}b arg`), from the header of its first argument: the
    /// arguments before the count skipped (each checked), the count read, then its keys,
    /// all in one slot. `nil` for no key (`EVAL script 0`: the general reading says
    /// keyless), a count that is not a plain number or more than the arguments left, keys
    /// in several slots or a malformed argument: all left to the general reading.
    @inline(__always)
    private static func countedSlot(_ buffer: UnsafeBufferPointer<UInt8>, arguments: Int, from firstHeader: Int,
                                     command: ClusterKeyTable.FirstKeyCommand, toEnd: Bool)
        -> (slot: Int, command: ClusterKeyTable.FirstKeyCommand, end: Int)? {
        var header = firstHeader
        guard skip(command.numKeysAt &- 1, argumentsIn: buffer, header: &header),
              let countArgument = ClusterKeyArguments.bulk(in: buffer, at: header),
              countArgument.count == 1 else { return nil }
        // One digit: the argument count, one digit too, leaves room for seven keys at
        // most. A byte that is no digit wraps above any count the bound lets through.
        let keys = Int(buffer[countArgument.lowerBound] &- UInt8(ascii: "0"))
        guard keys >= 1, keys <= arguments &- 1 &- command.numKeysAt else { return nil }
        header = countArgument.upperBound &+ 2
        var slot = -1
        for _ in 0..<keys {
            guard let key = ClusterKeyArguments.bulk(in: buffer, at: header) else { return nil }
            let keySlot = HashSlot.of(UnsafeBufferPointer(rebasing: buffer[key]))
            if slot >= 0, keySlot != slot { return nil }
            slot = keySlot
            header = key.upperBound &+ 2
        }
        guard toEnd else { return (slot, command, 0) }
        guard skip(arguments &- 1 &- command.numKeysAt &- keys, argumentsIn: buffer, header: &header) else { return nil }
        return (slot, command, header)
    }

    /// Moves `header` past `count` bulk strings, each checked; `false` at one that is not.
    @inline(__always)
    private static func skip(_ count: Int, argumentsIn buffer: UnsafeBufferPointer<UInt8>, header: inout Int) -> Bool {
        var skipped = 0
        while skipped < count {
            guard let argument = ClusterKeyArguments.bulk(in: buffer, at: header) else { return false }
            header = argument.upperBound &+ 2
            skipped &+= 1
        }
        return true
    }

    /// The slot and end of the command that starts at `start` in `bytes`, when it has a
    /// key and the shape ``plainSlot(_:in:toEnd:)`` reads, every argument read and checked:
    /// a pipeline's split takes most commands this way, in one pass, where locating the
    /// command and then reading its slot read it twice (about 250 instructions a command).
    /// `nil` for any other command, which the general readings then take; never a
    /// `MULTI`, `EXEC` or `DISCARD` (commands without arguments) nor a fan-out.
    static func plainCommand(_ bytes: [UInt8], at start: Int, in table: ClusterKeyTable) -> (slot: Int, end: Int)? {
        bytes.withUnsafeBufferPointer { buffer in
            guard start >= 0, start < buffer.count,
                  let plain = plainSlot(UnsafeBufferPointer(rebasing: buffer[start...]), in: table, toEnd: true),
                  plain.slot >= 0 else { return nil }
            return (plain.slot, start &+ plain.end)
        }
    }

    /// The slot (-1: no keys) and route of a command of a shape ``plainSlot(_:in:toEnd:)``
    /// reads whose name alone says how it goes on a shared connection
    /// (``ClusterKeyTable/Bucket/plainRoute``): one reading of its name for both, where
    /// ``CommandRoute/of(_:in:)`` would read it a second time (about 170 instructions a
    /// command). `nil` for any other command.
    @inline(__always)
    static func plainFirstKey(_ bytes: [UInt8], in table: ClusterKeyTable) -> (slot: Int, route: CommandRoute.Known, isReadOnly: Bool)? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let first = plainSlot(buffer, in: table), let route = first.command.plainRoute else { return nil }
            return (first.slot, route, first.command.isReadOnly)
        }
    }

    /// The slot of the command `arguments` hold, by `table`.
    static func of(_ arguments: ClusterKeyArguments, in table: ClusterKeyTable) -> ClusterCommandSlot {
        let lookup = table.lookup(arguments[0]) { arguments.count > 1 ? arguments[1] : nil }
        switch lookup {
        case .singleKey(let position):
            return position < arguments.count ? .slot(HashSlot.of(arguments[position])) : .keyless
        case .spec(let spec):
            return of(arguments, by: spec)
        case .unknown:
            return .unknownCommand
        }
    }

    /// The slot of the command `arguments` hold, by its `spec`.
    private static func of(_ arguments: ClusterKeyArguments, by spec: ClusterKeySpec) -> ClusterCommandSlot {
        var firstSlot = -1
        var crosses = false
        let fits = ClusterKeyFinder.forEachKey(of: spec, in: arguments) { position in
            guard !crosses else { return }
            let slot = HashSlot.of(arguments[position])
            if firstSlot < 0 {
                firstSlot = slot
            } else if slot != firstSlot {
                crosses = true
            }
        }
        guard fits else { return .keyless }
        if crosses {
            // Only now, on the way to an error, do the keys become strings.
            var keys: [String] = []
            var slots: [Int] = []
            _ = ClusterKeyFinder.forEachKey(of: spec, in: arguments) { position in
                keys.append(arguments.text(position))
                slots.append(HashSlot.of(arguments[position]))
            }
            return .crossSlot(keys: keys, slots: slots)
        }
        if firstSlot >= 0 { return .slot(firstSlot) }
        if spec.mayMissKeys { return .unknownCommand }
        if let fanOut = ClusterFanOut(spec) { return .fanOut(fanOut) }
        return .keyless
    }
}

/// Where a keyless command goes when its tips send it to many nodes, and how their
/// replies make one (the server's `request_policy` and `response_policy` tips).
struct ClusterFanOut: Sendable, Equatable {
    /// ``ClusterKeySpec/RequestPolicy/allShards`` (every primary),
    /// ``ClusterKeySpec/RequestPolicy/allNodes`` (replicas too) or
    /// ``ClusterKeySpec/RequestPolicy/special`` (`SCAN`: a cursor per primary).
    var request: ClusterKeySpec.RequestPolicy
    /// How the replies combine; `nil`: collected together (`KEYS`: arrays concatenated).
    var response: ClusterKeySpec.ResponsePolicy?

    /// The fan-out `spec`'s tips ask for, or `nil` when they ask for none
    /// (`multi_shard` splits keys and so does not apply to a keyless command).
    init?(_ spec: ClusterKeySpec) {
        guard let policy = spec.requestPolicy, policy != .multiShard else { return nil }
        request = policy
        response = spec.responsePolicy
    }

    init(request: ClusterKeySpec.RequestPolicy, response: ClusterKeySpec.ResponsePolicy?) {
        self.request = request
        self.response = response
    }
}
