@testable import RedisUtil

/// Whether a document that `JSONReader` accepts is also strict JSON with no repeated
/// key: where Python's reading and Foundation's `JSONDecoder` must agree. Built by the
/// channel's own reader, so what is JSON at all is decided once; a key is repeated as a
/// Swift `Dictionary` sees it (canonically equal strings), as both decoders look keys up.
struct StrictJSONProbe: JSONTree {
    /// No `NaN` or `Infinity`, and no object with a key twice, anywhere inside.
    let isStrict: Bool

    static func makeNull() -> StrictJSONProbe { .init(isStrict: true) }
    static func makeBool(_ flag: Bool) -> StrictJSONProbe { .init(isStrict: true) }
    static func makeString(_ text: String) -> StrictJSONProbe { .init(isStrict: true) }
    static func makeNumber(_ bytes: [UInt8], _ number: JSONScanner.Number) -> StrictJSONProbe? { .init(isStrict: true) }
    static func makeNonFinite(_ number: Double) -> StrictJSONProbe { .init(isStrict: false) }
    static func makeArray(_ elements: [StrictJSONProbe]) -> StrictJSONProbe { .init(isStrict: elements.allSatisfy(\.isStrict)) }
    static func makeMembers() -> (keys: Set<String>, isStrict: Bool) { ([], true) }
    static func makeObject(_ members: (keys: Set<String>, isStrict: Bool)) -> StrictJSONProbe { .init(isStrict: members.isStrict) }

    static func add(_ key: String, _ value: StrictJSONProbe, to members: inout (keys: Set<String>, isStrict: Bool)) {
        let isNew = members.keys.insert(key).inserted
        members.isStrict = members.isStrict && isNew && value.isStrict
    }
}
