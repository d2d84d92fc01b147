extension ClusterCommandSlot {
    /// The slot of each command of a batch (a pipeline, or `MULTI … EXEC`), in order;
    /// `nil` when the bytes are not whole commands.
    static func ofEach(batch bytes: [UInt8], in table: ClusterKeyTable) -> [ClusterCommandSlot]? {
        var slots: [ClusterCommandSlot] = []
        let whole = forEachCommand(in: bytes) { arguments in
            slots.append(of(arguments, in: table))
        }
        return whole ? slots : nil
    }

    /// The one slot of a batch that must run on one node, such as a transaction: the
    /// slot every command with keys has its keys in; ``keyless`` when no command has
    /// keys; ``crossSlot(keys:slots:)`` naming every key of the batch when they
    /// spread. Keyless and fan-out commands (`MULTI`, `EXEC`, `PING`) run on that
    /// node, as the server runs them inside a transaction. A command the table does
    /// not know adds no slot, but with none found the answer is ``unknownCommand``.
    /// `nil` when the bytes are not whole commands.
    static func shared(batch bytes: [UInt8], in table: ClusterKeyTable) -> ClusterCommandSlot? {
        var firstSlot = -1
        var crosses = false
        var unknown = false
        let whole = forEachCommand(in: bytes) { arguments in
            guard !crosses else { return }
            guard let spec = table.spec(for: arguments) else {
                unknown = true
                return
            }
            // Arguments that do not fit the spec give no keys, as in ``of(_:in:)``.
            _ = ClusterKeyFinder.forEachKey(of: spec, in: arguments) { position in
                let slot = HashSlot.of(arguments[position])
                if firstSlot < 0 {
                    firstSlot = slot
                } else if slot != firstSlot {
                    crosses = true
                }
            }
            if spec.mayMissKeys { unknown = true }
        }
        guard whole else { return nil }
        if crosses {
            var keys: [String] = []
            var slots: [Int] = []
            _ = forEachCommand(in: bytes) { arguments in
                guard let spec = table.spec(for: arguments) else { return }
                _ = ClusterKeyFinder.forEachKey(of: spec, in: arguments) { position in
                    keys.append(arguments.text(position))
                    slots.append(HashSlot.of(arguments[position]))
                }
            }
            return .crossSlot(keys: keys, slots: slots)
        }
        if firstSlot >= 0 { return .slot(firstSlot) }
        return unknown ? .unknownCommand : .keyless
    }

    /// Calls `body` with the arguments of each command in `bytes`; `false` when the
    /// bytes are not whole commands (those before the fault have been visited).
    private static func forEachCommand(in bytes: [UInt8], _ body: (ClusterKeyArguments) -> Void) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                let end = ClusterKeyArguments.withArguments(of: buffer, at: start) { arguments in
                    body(arguments)
                    return arguments.end
                }
                guard let end else { return false }
                start = end
            }
            return true
        }
    }
}
