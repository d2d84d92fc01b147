extension JSONValue {
    /// Parses JSON as a Python peer's `json.loads` would (plus `NaN`/`Infinity`), e.g. the
    /// raw bytes of a ``RedisChannelError/undecodable(raw:list:type:underlying:)`` message.
    ///
    /// ```swift
    /// let value = try JSONValue(json: Array(#"{"id": 1, "ok": true}"#.utf8))
    /// ```
    /// - Throws: ``JSONSyntaxError`` with the byte offset of the problem.
    public init(json bytes: [UInt8]) throws(JSONSyntaxError) {
        self = try JSONReader.read(bytes)
    }

    /// The JSON text exactly as a channel sends it, the bytes Python's
    /// `json.dumps(value, ensure_ascii=False)` produces (each object's members in their
    /// order, as Python writes a `dict`'s). A value
    /// nested deeper than 1000 levels, which a channel refuses to send and no receiver
    /// reads, is written down to that depth and cut off there with `…` (not JSON).
    public var jsonBytes: [UInt8] {
        JSONWriter.writeCuttingAtDepthLimit(self)
    }

    /// Any `Encodable` value as the `JSONValue` a channel would send for it.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONValueEncoder.encode(value)
    }
}
