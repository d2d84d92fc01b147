/// A tree that ``JSONReader`` builds as it reads: the reader decides what is JSON (one
/// grammar, Python's), the tree decides what each value becomes. ``JSONValue`` is one
/// (every number a `Double`), ``JSONNode`` another (every number as written, for typed
/// decoding), so a message is read once whatever it is decoded as.
protocol JSONTree {
    /// An object's members while it is being read.
    associatedtype Members

    /// `null`.
    static func makeNull() -> Self
    /// `true` or `false`.
    static func makeBool(_ flag: Bool) -> Self
    /// A string, its escapes resolved.
    static func makeString(_ text: consuming String) -> Self
    /// The number `bytes[number.range]`, valid JSON, as the scanner found it. `nil`
    /// only if the tree cannot represent it.
    static func makeNumber(_ bytes: [UInt8], _ number: JSONScanner.Number) -> Self?
    /// Python's bare `NaN`, `Infinity` and `-Infinity`.
    static func makeNonFinite(_ number: Double) -> Self
    /// An array of the values read.
    static func makeArray(_ elements: [Self]) -> Self
    /// An object's members before its first one is read.
    static func makeMembers() -> Members
    /// Adds one member; a key already there keeps its place and takes the new value,
    /// as `json.loads` keeps the last value of a repeated key. The key and the value,
    /// just read, move into the members instead of being copied (a retain and a release
    /// each: about 220 instructions for a four-member message).
    static func add(_ key: consuming String, _ value: consuming Self, to members: inout Members)
    /// The object once its last member is read.
    static func makeObject(_ members: Members) -> Self
}
