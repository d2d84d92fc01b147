/// A request on the jobs channel: resize `image` to `width` pixels, keeping its shape.
/// Any peer can send it: a Swift `RedisChannel(peer: .client)` or Python's k3redisutil.
struct ResizeJob: Codable, Sendable {
    var id: Int
    var image: String
    var width: Int
}

/// The reply to a ``ResizeJob``, pushed to the channel's `/server` list.
struct ResizeDone: Codable, Sendable {
    var id: Int
    var image: String
    var width: Int
    var height: Int
}

extension ResizeJob {
    /// Stands in for real image work: a quarter of a millisecond per pixel of width, so
    /// that a wide image stays in flight long enough to watch a graceful shutdown drain it.
    func resize() async throws -> ResizeDone {
        try await Task.sleep(for: .microseconds(250 * width))
        return ResizeDone(id: id, image: image, width: width, height: width * 3 / 4)
    }
}
