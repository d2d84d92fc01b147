import RedisUtil

extension JSONValue {
    /// The value with every object's members sorted by key: for comparing with a value
    /// read through a `Dictionary`, or a decoder whose keys come in no set order.
    var sortingKeys: JSONValue {
        switch self {
        case .array(let elements): .array(elements.map(\.sortingKeys))
        case .object(let object): .object(JSONObject(sortingKeysOf: object.dictionary.mapValues(\.sortingKeys)))
        default: self
        }
    }
}
