/// A key that is only a name: `"super"`, where `superEncoder()` and `superDecoder()`
/// put a superclass's value, as Foundation's coders do.
struct NameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// The key of a superclass's value.
    static let `super` = NameKey("super")
}

/// An array element's place in a coding path, named `Index N` as Foundation names it.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue!)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
