import Foundation

/// Decodes a typed message from its ``JSONNode`` tree: the channel's decoder for every
/// message the flat fast path (``FlatJSONDecoder``) declines.
///
/// What is JSON, and what a repeated key or a bare `NaN` means, was decided once by
/// ``JSONReader`` (Python's `json.loads`: the last value of a repeated key, `NaN` and
/// `Infinity` as numbers). How the tree maps onto a type is Foundation's `JSONDecoder`
/// with its default strategies, which typed messages have always been decoded with:
/// the same values, the same kinds of `DecodingError` with the same coding paths. On
/// top of that, a `NaN` or `Infinity` is read only where a floating-point number (or a
/// ``JSONValue``) is expected, and a string only where a string is.
///
/// Types that Foundation reads by its own rules rather than their `init(from:)` are
/// read the same way here: `Data` from a Base64 string, `URL` from a string, `Decimal`
/// from a number. A `Date` goes through its own `init(from:)` (a `Double`), as with
/// Foundation's default. A ``JSONValue`` is the tree itself, as a channel reads a
/// `JSONValue` message.
final class JSONNodeDecoder: Decoder {
    /// The value being decoded and where it lies. One decoder serves a whole message:
    /// each nested value is swapped in while its `init(from:)` runs (as in Foundation's
    /// decoder), rather than a decoder allocated per value.
    private var node: JSONNode
    private var path: CodingPath

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// A decoder for `node` alone: a `superDecoder`, which its caller may keep.
    init(node: JSONNode, path: CodingPath) {
        self.node = node
        self.path = path
    }

    /// `type` decoded from the whole document `node`.
    static func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws -> T {
        try JSONNodeDecoder(node: node, path: .root).decode(node, as: T.self, at: .root)
    }

    /// `T` from `node`, which lies at `path`.
    func decode<T: Decodable>(_ node: JSONNode, as type: T.Type, at path: CodingPath) throws -> T {
        if T.self == JSONValue.self { return node.jsonValue as! T }
        if T.self == JSONObject.self, case .object(let object) = node.jsonValue { return object as! T }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            return try decodeByFoundationsRules(node, as: T.self, at: path)
        }
        let saved = (self.node, self.path)
        (self.node, self.path) = (node, path)
        defer { (self.node, self.path) = saved }
        return try T(from: self)
    }

    private func decodeByFoundationsRules<T>(_ node: JSONNode, as type: T.Type, at path: CodingPath) throws -> T {
        do throws(JSONNode.Mismatch) {
            switch type {
            case is Data.Type: return try node.base64Data() as! T
            case is URL.Type: return try node.url() as! T
            default: return try node.decimal() as! T
            }
        } catch {
            throw error.decodingError(T.self, node, at: path.keys)
        }
    }

    /// The object `node` as a keyed container, or Foundation's error for anything else.
    func keyedContainer<Key: CodingKey>(_ node: JSONNode, at path: CodingPath, keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = node else {
            throw Self.containerError([String: Any].self, node, at: path, "keyed")
        }
        return KeyedDecodingContainer(JSONNodeKeyedContainer<Key>(decoder: self, object: object, path: path))
    }

    /// The array `node` as an unkeyed container, or Foundation's error for anything else.
    func unkeyedContainer(_ node: JSONNode, at path: CodingPath) throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else {
            throw Self.containerError([Any].self, node, at: path, "unkeyed")
        }
        return JSONNodeUnkeyedContainer(decoder: self, elements: elements, path: path)
    }

    private static func containerError(_ type: Any.Type, _ node: JSONNode, at path: CodingPath, _ kind: String) -> DecodingError {
        if case .null = node {
            return .valueNotFound(type, .init(codingPath: path.keys, debugDescription: "Cannot get \(kind) decoding container -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: path.keys, debugDescription: "Expected to decode \(type) but found \(node.kindDescription) instead."))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try keyedContainer(node, at: path, keyedBy: Key.self)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try unkeyedContainer(node, at: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONNodeSingleValueContainer(decoder: self, node: node, path: path)
    }
}

/// A coding path as a chain from the innermost key out: decoding a nested value adds one
/// link instead of copying the path, and the `[CodingKey]` is built only when asked for
/// (mostly for an error).
indirect enum CodingPath {
    /// The document itself.
    case root
    /// A member of the object at the parent path.
    case key(any CodingKey, CodingPath)
    /// An element of the array at the parent path (its key made only when asked for).
    case index(Int, CodingPath)

    /// The path of the member `key` of the value here.
    func appending(_ key: any CodingKey) -> CodingPath { .key(key, self) }
    /// The path of element `index` of the array here.
    func appending(index: Int) -> CodingPath { .index(index, self) }

    /// The keys from the root in. (Concatenated rather than appended: a second caller
    /// of `[any CodingKey].append` moved it out of line in the streaming encoder's
    /// `writeNested`, about 200 instructions on a typed send.)
    var keys: [any CodingKey] {
        switch self {
        case .root: []
        case .key(let key, let parent): parent.keys + CollectionOfOne(key)
        case .index(let index, let parent): parent.keys + CollectionOfOne(IndexKey(index) as any CodingKey)
        }
    }
}
