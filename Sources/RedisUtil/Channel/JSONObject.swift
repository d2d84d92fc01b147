/// A JSON object's members, in order: what a Python `dict` is. A ``JSONValue/object(_:)``
/// holds one.
///
/// The members keep the order they were read in or added in, and are written in it, as
/// Python's `json` reads and writes a `dict` (insertion order), so a message passed on
/// unchanged keeps its members' order, and an object written from a literal keeps the
/// literal's:
/// ```swift
/// var job: JSONObject = ["op": "resize", "size": [640, 480]]   // {"op": "resize", "size": [640, 480]}
/// job["urgent"] = true                                           // added last: {…, "urgent": true}
/// ```
/// A key already present keeps its place when it is given a new value (a repeated key
/// in a message or a literal takes its last value), and removing a member moves the later
/// ones up. An object made from a Swift `Dictionary` (``init(sortingKeysOf:)``), whose order
/// changes from process to process, has its members sorted by their keys' UTF-8 bytes (what
/// Python's `sort_keys` writes), so the same dictionary always gives the same bytes.
///
/// Two objects are equal when they have the same members, in whatever order, as two
/// Python `dict`s are; `Hashable` agrees. Keys compare as Swift strings, by canonical
/// equivalence: two keys that differ only in their Unicode normalisation (a composed and a
/// decomposed "é") are one key here and two to Python, whose keys compare by code point.
public struct JSONObject: Sendable {
    private var storage: JSONMembers<JSONValue>

    /// An empty object.
    public init() { storage = JSONMembers() }

    /// The members of `members` in its order; a repeated key keeps its first place and
    /// takes its last value.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        storage = JSONMembers(members)
    }

    /// The members of `dictionary`, sorted by their keys' UTF-8 bytes. Named for what it
    /// does to the order: a dictionary literal passed to an unnamed argument would have
    /// been read as a `Dictionary` (sorted, a repeated key a crash), where one written as
    /// a `JSONObject` (`let object: JSONObject = [...]`) keeps its order.
    public init(sortingKeysOf dictionary: [String: JSONValue]) {
        storage = JSONMembers(dictionary.sorted { JSONWriter.keyPrecedes($0.key, $1.key) }.lazy.map { ($0.key, $0.value) })
    }

    init(storage: JSONMembers<JSONValue>) { self.storage = storage }

    /// The members in order, for the writers.
    var members: [JSONMembers<JSONValue>.Member] { storage.members }

    /// The value of the member `key`, or `nil` when there is none. Setting a value to a
    /// new key adds the member last, to a key already there replaces its value in place;
    /// setting `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get { storage.value(of: key) }
        set {
            if let newValue { storage.set(key, newValue) } else { storage.remove(key) }
        }
    }

    /// Sets the value of `key` as the subscript does and returns the value it replaced,
    /// or `nil` when the member is new.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        storage.set(key, value)
    }

    /// Removes the member `key` and returns its value, or `nil` when there is none; the
    /// later members move up a place, in time proportional to their number.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        storage.remove(key)
    }

    /// The keys, in order (an array made at each call).
    public var keys: [String] { storage.members.map(\.0) }

    /// The values, in the order of their keys (an array made at each call).
    public var values: [JSONValue] { storage.members.map(\.1) }

    /// The members as a `Dictionary` (which has no order).
    public var dictionary: [String: JSONValue] {
        Dictionary(storage.members, uniquingKeysWith: { _, last in last })
    }
}

extension JSONObject: RandomAccessCollection {
    /// A member: its key and its value.
    public typealias Element = (key: String, value: JSONValue)

    /// The first member's position, 0.
    public var startIndex: Int { 0 }

    /// One past the last member's position: the number of members.
    public var endIndex: Int { storage.members.count }

    /// The member at `position`, in order.
    public subscript(position: Int) -> Element {
        let (key, value) = storage.members[position]
        return (key, value)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// The literal's members in its order; a repeated key keeps its first place and takes
    /// its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        storage = JSONMembers(adopting: elements)
    }
}

extension JSONObject: Hashable {
    /// Whether both have the same members, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.storage.members.allSatisfy { key, value in rhs.storage.value(of: key) == value }
    }

    /// Hashes the members without their order, as `==` compares them: each member's own
    /// hash, summed (a sum does not depend on the order of its terms).
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for (key, value) in storage.members {
            var own = Hasher()
            own.combine(key)
            own.combine(value)
            sum &+= own.finalize()
        }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

extension JSONObject: CustomStringConvertible {
    /// The JSON text of the object, as a channel sends it.
    public var description: String { JSONValue.object(self).description }
}

extension JSONObject: Codable {
    /// Reads a JSON object from any decoder, as a ``JSONValue`` is read there: a
    /// channel's keeps the message's order; another decoder's keyed container gives its
    /// keys in no set order, and they are sorted.
    public init(from decoder: any Decoder) throws {
        // Through the container, not `JSONValue(from:)`, so that a decoder that reads a
        // JSONValue its own way (the channel's) is asked to.
        guard case .object(let object) = try decoder.singleValueContainer().decode(JSONValue.self) else {
            throw DecodingError.typeMismatch(
                JSONObject.self, .init(codingPath: decoder.codingPath, debugDescription: "not a JSON object"))
        }
        self = object
    }

    /// Writes the members through any encoder, in order (a channel's encoders keep it;
    /// Foundation's `JSONEncoder` writes an object's keys in an order of its own).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: MemberKey.self)
        for (key, value) in storage.members {
            try container.encode(value, forKey: MemberKey(key))
        }
    }

    /// A member's key, any string.
    private struct MemberKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ key: String) { stringValue = key }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
