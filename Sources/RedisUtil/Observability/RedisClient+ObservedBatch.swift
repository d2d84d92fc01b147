import RESP

extension RedisClient {
    /// Runs `body`, which sends the one command `bytes`, as an operation observed by
    /// `observer` (the client's ``observer``; for a ``RedisDedicatedConnection``, the one
    /// in the configuration, which on a cluster's node client is its cluster client's).
    nonisolated(nonsending) func observingCommand(
        by observer: ClientObserver?, _ bytes: [UInt8], _ body: nonisolated(nonsending) () async throws -> RESPValue
    ) async throws -> RESPValue {
        guard let observer else { return try await body() }
        let observation = observer.begin(command: bytes)
        do {
            let reply = try await body()
            observer.end(observation, error: nil)
            return reply
        } catch {
            observer.end(observation, error: error)
            throw error
        }
    }

    /// Runs `body`, which sends the batch `bytes` (an explicit pipeline, or a
    /// transaction's `MULTI … EXEC` when `operation` is ``OperationName/transaction``),
    /// as one observed operation: each command counted as sent under its own name, one
    /// duration and one span for the whole (`db.operation.batch.size` = `count`), and
    /// the commands whose own result is an error counted as failed.
    nonisolated(nonsending) func observingBatch(
        by observer: ClientObserver?, _ bytes: [UInt8], count: Int, as operation: Int,
        _ body: nonisolated(nonsending) () async throws -> [Result<RESPValue, RedisError>]
    ) async throws -> [Result<RESPValue, RedisError>] {
        guard let observer else { return try await body() }
        let (observation, names) = observer.begin(batch: bytes, count: count, as: operation)
        do {
            let results = try await body()
            observer.end(observation, results: results, names: names)
            return results
        } catch {
            observer.end(observation, error: error)
            throw error
        }
    }

    /// The callback form of ``observingBatch(by:_:count:as:_:)``, by ``observer``: `completion`, wrapped to
    /// end the observation first (itself when nothing observes).
    func observingBatch(
        _ bytes: [UInt8], count: Int, as operation: Int,
        completion: @escaping @Sendable (Result<[Result<RESPValue, RedisError>], RedisError>) -> Void
    ) -> @Sendable (Result<[Result<RESPValue, RedisError>], RedisError>) -> Void {
        guard let observer else { return completion }
        let (observation, names) = observer.begin(batch: bytes, count: count, as: operation)
        return { outcome in
            switch outcome {
            case .success(let results): observer.end(observation, results: results, names: names)
            case .failure(let error): observer.end(observation, error: error)
            }
            completion(outcome)
        }
    }
}

extension ClientObserver {
    /// Begins a batch; returns, with the observation, the names its results line up
    /// with (a transaction's results are its commands' between `MULTI` and `EXEC`).
    func begin(batch bytes: [UInt8], count: Int, as operation: Int) -> (Observation, names: [Int]) {
        let names = OperationName.indices(ofBatch: bytes)
        let observation = begin(operation, commands: names, batchSize: count)
        return (observation, operation == OperationName.transaction ? Array(names.dropFirst()) : names)
    }

    /// Ends a batch whose replies are `results` (each command's own, in order).
    func end(_ observation: Observation, results: [Result<RESPValue, RedisError>], names: [Int]) {
        let failed = zip(results, names).compactMap { result, name -> (operation: Int, error: RedisError)? in
            if case .failure(let error) = result { return (name, error) }
            return nil
        }
        end(observation, error: nil, failedCommands: failed)
    }
}
