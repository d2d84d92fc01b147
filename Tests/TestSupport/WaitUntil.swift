/// Polls `condition` every 5 ms until it holds or `limit` passes; returns whether it held.
/// A hang guard, never a speed bound: the parallel test pass can keep a task from running
/// for 10–20 s at a time.
public func waitUntil(limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
