/// A JSON object's members in the order their keys first appeared, each with its last
/// value: what a Python `dict` is after `json.loads` or after its keys were assigned in
/// turn. The storage of ``JSONObject`` (a ``JSONValue``'s object) and of the object a typed
/// decode reads (``JSONNodeObject``).
///
/// Message-sized objects find a key by comparing it with each key in turn, which costs
/// less than hashing it once (a four-member message read into a `Dictionary` spent about
/// 1,500 instructions hashing and storing its keys); from ``indexedFrom`` members on a key's
/// place is hashed, so a big object (a dictionary of thousands of entries) is neither
/// quadratic to build nor to look up.
struct JSONMembers<Value> {
    /// From this many members on, keys are looked up through an index.
    static var indexedFrom: Int { 16 }

    /// One key and its value: an unlabelled tuple, the element type of a dictionary
    /// literal, so that a literal's members are taken as they are (``init(adopting:)``; a
    /// labelled one went through the runtime's dynamic cast, about 1,200 instructions
    /// for four members).
    typealias Member = (String, Value)

    /// Each key once, where it first appeared, with the value it last had.
    private(set) var members: [Member] = []
    /// Each key's place in `members`, for objects of ``indexedFrom`` members or more.
    private var index: [String: Int]?

    init() {}

    /// The members of `sequence` in its order, a repeated key keeping its first place and
    /// taking its last value.
    init(_ sequence: some Sequence<(String, Value)>) {
        members.reserveCapacity(sequence.underestimatedCount)
        for (key, value) in sequence { set(key, value) }
    }

    /// `members` themselves as the storage when no key repeats in them (a literal's, the
    /// usual case: no member copied, where adding them one by one copied each, about 600
    /// instructions for a four-member message); otherwise as ``init(_:)`` takes them.
    init(adopting members: [Member]) {
        switch Self.uniqueness(of: members) {
        case .unique(let index): self.init(members: members, index: index)
        case .repeated: self.init(members)
        }
    }

    private init(members: [Member], index: [String: Int]?) {
        self.members = members
        self.index = index
    }

    /// Whether a key repeats in members that are to be adopted.
    private enum Uniqueness {
        /// Each key once; the index they need, `nil` below ``indexedFrom`` members.
        case unique(index: [String: Int]?)
        case repeated
    }

    private static func uniqueness(of members: [Member]) -> Uniqueness {
        guard members.count >= indexedFrom else {
            for later in members.indices.dropFirst() {
                for earlier in 0..<later where members[earlier].0 == members[later].0 { return .repeated }
            }
            return .unique(index: nil)
        }
        let index = positions(of: members)
        return index.count == members.count ? .unique(index: index) : .repeated
    }

    /// The position of `key` in `members`. Keys compare as Swift strings (canonical
    /// equivalence), as a `Dictionary` and the `CodingKey`s looking them up do.
    @inline(__always)
    func position(of key: String) -> Int? {
        if let index { return index[key] }
        for position in members.indices where members[position].0 == key { return position }
        return nil
    }

    /// The value of `key`, or `nil` when the object has no such member.
    func value(of key: String) -> Value? {
        position(of: key).map { members[$0].1 }
    }

    /// Adds a member at the end, or gives a key already there its new value in its
    /// place (the last one wins); returns the value replaced.
    @discardableResult @inline(__always)
    mutating func set(_ key: consuming String, _ value: consuming Value) -> Value? {
        if let position = position(of: key) {
            let old = members[position].1
            members[position].1 = value
            return old
        }
        if index != nil { index![copy key] = members.count }
        // Room for a message's members at once, where growing from empty allocated three
        // times for four members.
        if members.capacity == 0 { members.reserveCapacity(8) }
        members.append((key, value))
        if members.count == Self.indexedFrom { index = Self.positions(of: members) }
        return nil
    }

    /// Removes the member `key`, the later ones moving up a place; returns its value.
    /// Takes time in proportion to the members after it (their places in the index
    /// change), as removing from an array does.
    @discardableResult
    mutating func remove(_ key: String) -> Value? {
        guard let position = position(of: key) else { return nil }
        let removed = members.remove(at: position)
        if index != nil {
            if members.count < Self.indexedFrom {
                index = nil
            } else {
                index!.removeValue(forKey: removed.0)
                for later in position..<members.count { index![members[later].0] = later }
            }
        }
        return removed.1
    }

    /// Each key's place in `members`, its first where it repeats: the index.
    private static func positions(of members: [Member]) -> [String: Int] {
        Dictionary(members.indices.lazy.map { (members[$0].0, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

extension JSONMembers: Sendable where Value: Sendable {}
