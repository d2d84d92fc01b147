import Synchronization
import RESP

/// Writes an `Encodable` straight into JSON bytes as `encode(to:)` runs: the channel's
/// send path. The output is byte-for-byte what the tree encoder (``JSONValueEncoder``)
/// writes, members in the order `encode(to:)` wrote them (a dictionary's sorted, see
/// ``DictionaryCodingKey``) and a repeated key's last value kept
/// (``JSONMemberOrder``), without a box per value, a dictionary per object or a dynamic
/// cast per field.
///
/// Streaming needs each value written in one go. What breaks that (a nested container
/// or `superEncoder`, two kinds of container for one value, a container used after its
/// value ended, an error a type catches and goes on from, nesting deeper than the
/// reader's limit, which the tree encoder reports) sets ``needsTree``;
/// ``encode(_:)`` then returns `nil` and the caller uses the tree encoder, which handles
/// every shape. Synthesized `Codable` for structs, arrays, dictionaries and optionals
/// streams; enums with associated values (which use nested containers) do not.
final class JSONStreamEncoder: Encoder {
    /// The bytes of `value`, or `nil` when it must go through the tree encoder.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8]? {
        var out: [UInt8] = []
        return try encode(value, appendingTo: &out) ? out : nil
    }

    /// Appends the bytes of `value` to `bytes`, in place (the buffer is lent to the
    /// encoder, not copied); `false`, with `bytes` as it was, when the value must go
    /// through the tree encoder. Offsets in the encoder count from the start of `bytes`.
    /// `depth`: how many arrays and objects already enclose the value (a member's value
    /// written by ``JSONMemberWriter`` lies in one).
    static func encode<T: Encodable>(_ value: T, appendingTo bytes: inout [UInt8], depth: Int = 0) throws -> Bool {
        let start = bytes.count
        // Room for a typical small message: no growth on the way. (Before the buffer is
        // lent: after it, `bytes` is the encoder's empty one.)
        bytes.reserveCapacity(start + 256)
        var encoder = spare.exchange(nil, ordering: .acquiring)?.takeRetainedValue() ?? JSONStreamEncoder()
        var succeeded = false
        encoder.depth = depth
        swap(&encoder.out, &bytes)
        defer {
            swap(&encoder.out, &bytes)
            if !succeeded { bytes.removeSubrange(start...) }
            recycle(&encoder)
        }
        do {
            try encoder.write(value, key: nil)
        } catch {
            // The tree encoder reports the error with its full coding path.
            if encoder.needsTree { return false }
            throw error
        }
        succeeded = !encoder.needsTree
        return succeeded
    }

    private enum Shape {
        case empty, object, array, single
    }

    /// One encoder kept between messages, with its member table's storage: a send then
    /// allocates neither (about 7% of a channel send's instructions). Whoever takes it
    /// owns it alone; a second thread encoding meanwhile makes its own.
    ///
    /// The slot owns one retain of the encoder in it. Only a reset encoder is put there,
    /// and only when no one else holds it (``recycle(_:)``); a reset encoder holds
    /// nothing of the value it encoded (its coding path, the only field that held that
    /// value's keys, is empty; the rest is bytes, offsets and counters). Taking is an
    /// acquiring exchange with `nil`, so one caller gets it, after every write of the
    /// releasing exchange that put it back. An atomic rather than a `Mutex`: the thread
    /// sanitizer sees an atomic's ordering but not the Mutex's futex, and reported each
    /// hand-off as a race on the encoder's fields.
    ///
    /// `nonisolated(unsafe)` because the encoder is not `Sendable`: the atomic itself is
    /// safe to share, and the encoder in it passes whole from one owner to the next, as
    /// just said, never reached by two threads at once.
    nonisolated(unsafe) private static let spare = Atomic<Unmanaged<JSONStreamEncoder>?>(nil)

    private init() {
        members.reserveCapacity(8)
    }

    /// Resets this encoder and keeps it as the spare, unless something still holds it
    /// (a type that kept the `Encoder` it was given): that one is left to be freed.
    private static func recycle(_ encoder: inout JSONStreamEncoder) {
        guard isKnownUniquelyReferenced(&encoder) else { return }
        encoder.codingPath.removeAll(keepingCapacity: true)
        encoder.members.removeAll(keepingCapacity: true)
        encoder.needsTree = false
        encoder.level = 0
        encoder.lastLevel = 0
        encoder.shape = .empty
        encoder.count = 0
        encoder.objectStart = 0
        encoder.membersBase = 0
        encoder.sortsMembers = false
        encoder.depth = 0
        // Another thread's spare, put back meanwhile, is let go: one is enough.
        spare.exchange(Unmanaged.passRetained(encoder), ordering: .acquiringAndReleasing)?.release()
    }

    // The encoder's state is touched only by the thread running `encode(_:)`, and no
    // access to it spans a call that reaches it again, so the run-time exclusivity
    // checks (a third of the instructions of a small message) are turned off.
    @exclusivity(unchecked) private var out: [UInt8] = []
    /// Keys of the non-leaf values being written; leaves add theirs only to errors.
    @exclusivity(unchecked) var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// Set when the value cannot be streamed; see the type's comment.
    @exclusivity(unchecked) private(set) var needsTree = false

    /// The value being written: a serial number that containers check, its shape and
    /// its member or element count.
    @exclusivity(unchecked) private var level = 0
    @exclusivity(unchecked) private var lastLevel = 0
    @exclusivity(unchecked) private var shape = Shape.empty
    @exclusivity(unchecked) private var count = 0
    /// Where this level's object starts (just after `{`) and its first entry in `members`.
    @exclusivity(unchecked) private var objectStart = 0
    @exclusivity(unchecked) private var membersBase = 0
    /// Whether this level's object is a dictionary's, whose members are sorted.
    @exclusivity(unchecked) private var sortsMembers = false
    /// How many arrays and objects are open around the value being written: one more
    /// than ``JSONReader/maxDepth`` is left to the tree encoder, which reports it, so
    /// that a recursive type nested 100,000 deep stops there instead of overflowing
    /// the stack. Counted up where a container opens and down where it closes (a
    /// value that throws abandons the stream, and ``recycle(_:)`` resets it).
    @exclusivity(unchecked) private var depth = 0
    /// Where every member of the objects being written lies in `out`, key included; a
    /// member's end is set when the next one starts or its object ends.
    @exclusivity(unchecked) private var members: [Member] = []

    /// Offsets into `out` only, so that sorting members moves plain integers (with the
    /// key as a `String`, every swap and removal retained and released it).
    private typealias Member = JSONMemberOrder.Member

    /// Writes one value in place: a leaf directly, anything else through its `encode(to:)`.
    /// Inlined so that a caller with a concrete type writes its leaf without a check.
    @inline(__always)
    fileprivate func write<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        if try writeLeaf(value, key: key) { return }
        try writeNested(value, key: key)
    }

    private func writeNested<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        let saved = (level, shape, count, objectStart, membersBase, sortsMembers)
        lastLevel += 1
        level = lastLevel
        shape = .empty
        count = 0
        membersBase = members.count
        if let key { codingPath.append(key) }
        defer {
            if key != nil { codingPath.removeLast() }
            (level, shape, count, objectStart, membersBase, sortsMembers) = saved
        }
        do {
            try value.encode(to: self)
        } catch {
            needsTree = true
            throw error
        }
        switch shape {
        case .empty:
            // A value that encodes nothing is an error at the top (the tree encoder
            // reports it) and `{}` inside, as in the tree encoder.
            if saved.0 == 0 { needsTree = true } else { out.append(contentsOf: "{}".utf8) }
        case .object:
            finishObject()
            depth -= 1
        case .array:
            out.append(UInt8(ascii: "]"))
            depth -= 1
        case .single: break
        }
    }

    /// Writes JSON scalars (and a ``JSONValue``) without their `encode(to:)`. The checks
    /// compare metadata pointers; in a specialized caller they fold away.
    @inline(__always)
    private func writeLeaf<T: Encodable>(_ value: T, key: (any CodingKey)?) throws -> Bool {
        if T.self == String.self {
            JSONWriter.writeString(value as! String, into: &out)
        } else if T.self == Int.self {
            RESPDecimal.append(Int64(value as! Int), to: &out)
        } else if T.self == Double.self {
            JSONWriter.writeDouble(value as! Double, into: &out)
        } else if T.self == Bool.self {
            out.append(contentsOf: (value as! Bool ? "true" : "false").utf8)
        } else if T.self == Int64.self {
            RESPDecimal.append(value as! Int64, to: &out)
        } else if T.self == JSONValue.self {
            try writeJSONValue(value as! JSONValue)
        } else if T.self == JSONObject.self {
            // As a JSONValue: its `encode(to:)` would have its members' order checked for
            // repeated keys, pair by pair, where it has none.
            try writeJSONValue(.object(value as! JSONObject))
        } else if T.self == Float.self {
            JSONWriter.writeDouble(Double(value as! Float), into: &out)
        } else if T.self == Int32.self {
            RESPDecimal.append(Int64(value as! Int32), to: &out)
        } else if T.self == Int16.self {
            RESPDecimal.append(Int64(value as! Int16), to: &out)
        } else if T.self == Int8.self {
            RESPDecimal.append(Int64(value as! Int8), to: &out)
        } else if T.self == UInt8.self {
            RESPDecimal.append(Int64(value as! UInt8), to: &out)
        } else if T.self == UInt16.self {
            RESPDecimal.append(Int64(value as! UInt16), to: &out)
        } else if T.self == UInt32.self {
            RESPDecimal.append(Int64(value as! UInt32), to: &out)
        } else if T.self == UInt.self {
            try writeUnsigned(UInt64(value as! UInt), key: key)
        } else if T.self == UInt64.self {
            try writeUnsigned(value as! UInt64, key: key)
        } else {
            return false
        }
        return true
    }

    /// A ``JSONValue`` leaf, which may nest as deep as it likes: past the limit it goes
    /// to the tree encoder.
    private func writeJSONValue(_ value: JSONValue) throws {
        do {
            try JSONWriter.write(value, into: &out, depth: depth)
        } catch {
            // The tree encoder reports it, with the path.
            needsTree = true
            throw error
        }
    }

    private func writeUnsigned(_ number: UInt64, key: (any CodingKey)?) throws {
        guard let exact = Int64(exactly: number) else {
            // The tree encoder throws the same error with the full path.
            needsTree = true
            throw EncodingError.invalidValue(number, .init(codingPath: codingPath + (key.map { [$0] } ?? []), debugDescription: "\(number) does not fit in a 64-bit signed JSON integer"))
        }
        RESPDecimal.append(exact, to: &out)
    }

    /// Puts the members written since `{` in the tree encoder's order (as written, a
    /// repeated key keeping its first place and last value; a dictionary's sorted), then
    /// closes the object.
    private func finishObject() {
        if members.count > membersBase {
            members[members.count - 1].end = out.count
            let base = membersBase, start = objectStart, sorts = sortsMembers
            let end = out.withUnsafeMutableBufferPointer { bytes in
                members.withUnsafeMutableBufferPointer { all in
                    JSONMemberOrder.finish(UnsafeMutableBufferPointer(rebasing: all[base...]), in: bytes, objectStart: start, sorted: sorts)
                }
            }
            if end < out.count { out.removeSubrange(end...) }
            members.removeSubrange(membersBase...)
        }
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Entry points for the containers

    /// Starts a member of the object `level` and writes its key; `false` (and the tree
    /// encoder) when that object is no longer the one being written.
    fileprivate func beginMember(_ key: String, level: Int) -> Bool {
        guard level == self.level, shape == .object, !needsTree else { return fallBack() }
        if count > 0 {
            members[members.count - 1].end = out.count
            JSONWriter.writeComma(into: &out)
        }
        count += 1
        let start = out.count
        JSONWriter.writeString(key, into: &out)
        // Escaping lengthens a key: one that needed it is left to the tree encoder, so
        // that a dictionary's members sort by the keys' own bytes.
        guard out.count - start - 2 == key.utf8.count else { return fallBack() }
        members.append(Member(keyStart: start + 1, keyEnd: out.count - 1, start: start, end: start))
        JSONWriter.writeColon(into: &out)
        return true
    }

    /// Starts an element of the array `level`.
    fileprivate func beginElement(level: Int) -> Bool {
        guard level == self.level, shape == .array, !needsTree else { return fallBack() }
        if count > 0 { JSONWriter.writeComma(into: &out) }
        count += 1
        return true
    }

    /// Claims the single value of `level`.
    fileprivate func beginSingle(level: Int) -> Bool {
        guard level == self.level, shape == .empty, !needsTree else { return fallBack() }
        shape = .single
        return true
    }

    fileprivate func writeNull() {
        out.append(contentsOf: "null".utf8)
    }

    fileprivate func elementCount(level: Int) -> Int {
        level == self.level ? count : 0
    }

    private func fallBack() -> Bool {
        needsTree = true
        return false
    }

    /// Marks the value as needing the tree encoder and hands out a container that writes
    /// nothing: what nested containers and `superEncoder` get.
    fileprivate func unsupported<Key: CodingKey>(keyedBy: Key.Type) -> KeyedEncodingContainer<Key> {
        needsTree = true
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(encoder: self, level: -1, codingPath: codingPath))
    }

    fileprivate func unsupportedUnkeyed() -> any UnkeyedEncodingContainer {
        needsTree = true
        return StreamUnkeyedContainer(encoder: self, level: -1, codingPath: codingPath)
    }

    fileprivate func unsupportedEncoder() -> any Encoder {
        needsTree = true
        return JSONStreamEncoder()
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch shape {
        case .empty:
            guard depth < JSONReader.maxDepth else { return unsupported(keyedBy: Key.self) }
            depth += 1
            shape = .object
            sortsMembers = DictionaryCodingKey.isDictionaryKey(Key.self)
            out.append(UInt8(ascii: "{"))
            objectStart = out.count
        case .object:
            // Asked again for the same value (a subclass and its superclass): same object.
            break
        case .array, .single:
            return unsupported(keyedBy: Key.self)
        }
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(encoder: self, level: level, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch shape {
        case .empty:
            guard depth < JSONReader.maxDepth else { return unsupportedUnkeyed() }
            depth += 1
            shape = .array
            out.append(UInt8(ascii: "["))
        case .array:
            break
        case .object, .single:
            return unsupportedUnkeyed()
        }
        return StreamUnkeyedContainer(encoder: self, level: level, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleContainer(encoder: self, level: level, codingPath: codingPath)
    }
}

private struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONStreamEncoder
    let level: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        if encoder.beginMember(key.stringValue, level: level) { encoder.writeNull() }
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try put(value, key) }

    // The scalar overloads synthesized `Codable` calls: each specializes the generic
    // write, so its type check folds to a direct write.
    mutating func encode(_ value: String, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try put(value, key) }

    @inline(__always)
    private func put<T: Encodable>(_ value: T, _ key: Key) throws {
        if encoder.beginMember(key.stringValue, level: level) { try encoder.write(value, key: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder.unsupported(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.unsupportedUnkeyed()
    }

    mutating func superEncoder() -> any Encoder { encoder.unsupportedEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder.unsupportedEncoder() }
}

private struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: JSONStreamEncoder
    let level: Int
    let codingPath: [any CodingKey]

    var count: Int { encoder.elementCount(level: level) }

    mutating func encodeNil() throws {
        if encoder.beginElement(level: level) { encoder.writeNull() }
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if encoder.beginElement(level: level) { try encoder.write(value, key: nil) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder.unsupported(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { encoder.unsupportedUnkeyed() }
    mutating func superEncoder() -> any Encoder { encoder.unsupportedEncoder() }
}

private struct StreamSingleContainer: SingleValueEncodingContainer {
    let encoder: JSONStreamEncoder
    let level: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {
        if encoder.beginSingle(level: level) { encoder.writeNull() }
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if encoder.beginSingle(level: level) { try encoder.write(value, key: nil) }
    }
}
