import RESP

extension ClusterRouter {
    /// A pipeline on its way: its units and, per unit, the outcome so far, the retry
    /// machine and where it goes next. Passed from round to round by value.
    ///
    /// Only what a failure needs is kept per unit, and only once one happens: a
    /// pipeline answered in full on its first round (the usual one) makes no retry
    /// machine, no hop and no table of outcomes. Made up front, the three arrays cost
    /// about 280 instructions a command (each element copied in through the types'
    /// value witnesses, and destroyed so at the end), measured with callgrind.
    struct PipelineRun: Sendable {
        let bytes: [UInt8]
        let units: [BatchUnit]
        /// The number of commands (replies) of the pipeline.
        let count: Int
        let commandTimeout: Duration?
        /// Each command's outcome, by reply index, once decided; empty until the first is stored.
        private var results: [Result<RESPValue, RedisError>?] = []
        /// The retry machines of the units that have failed at least once, by position.
        private var machines: [Int: ClusterRetryMachine] = [:]
        /// Where each unit goes next when not ``ClusterHop/route``, by position.
        private var hops: [Int: ClusterHop] = [:]
        /// The units without an outcome yet, by position.
        var pending: [Int]

        init(bytes: [UInt8], count: Int, units: [BatchUnit], commandTimeout: Duration?) {
            self.bytes = bytes
            self.units = units
            self.count = count
            self.commandTimeout = commandTimeout
            pending = Array(units.indices)
        }

        /// Where unit `position` goes next.
        func hop(_ position: Int) -> ClusterHop {
            hops.isEmpty ? .route : hops[position] ?? .route
        }

        /// Sets where unit `position` goes next.
        mutating func setHop(_ hop: ClusterHop, _ position: Int) {
            if case .route = hop {
                if !hops.isEmpty { hops[position] = nil }
            } else {
                hops[position] = hop
            }
        }

        /// Runs `body` on unit `position`'s retry machine, made at its first use.
        mutating func withMachine<Outcome>(_ position: Int, _ body: (inout ClusterRetryMachine) -> Outcome) -> Outcome {
            body(&machines[position, default: ClusterRetryMachine(commandTimeout: commandTimeout)])
        }

        /// Stores the outcome of the command whose reply is at `index`.
        mutating func store(_ result: Result<RESPValue, RedisError>, at index: Int) {
            if results.isEmpty {
                results = Array(unsafeUninitializedCapacity: count) { buffer, initialized in
                    // `nil` written as itself: `Array(repeating:count:)` copied it in
                    // through the enum's value witnesses, element by element.
                    for position in 0..<count { buffer.initializeElement(at: position, to: nil) }
                    initialized = count
                }
            }
            results[index] = result
        }

        /// Stores `result` as the outcome of every command of `unit`.
        mutating func store(_ result: Result<RESPValue, RedisError>, for unit: BatchUnit) {
            for index in unit.firstReply..<(unit.firstReply + unit.replies) { store(result, at: index) }
        }

        /// Stores a unit's own replies.
        mutating func store(_ replies: ArraySlice<Result<RESPValue, RedisError>>, for unit: BatchUnit) {
            for (offset, reply) in replies.enumerated() { store(reply, at: unit.firstReply + offset) }
        }

        /// Whether unit `position` has its outcome.
        func isDecided(_ position: Int) -> Bool {
            guard !results.isEmpty, case .some = results[units[position].firstReply] else { return false }
            return true
        }

        /// Every command's outcome, in the caller's order; once ``pending`` is empty.
        var outcomes: [Result<RESPValue, RedisError>] {
            results.map { $0! }
        }

        /// Where the `ASKING` before unit `position` gets its reply among a round's:
        /// past every command's (``places(for:)``).
        func askingPlace(of position: Int) -> Int {
            count &+ position
        }

        /// How many replies a round's collector places: one per command of the pipeline,
        /// by its index in the caller's order, and when the round sends an `ASKING`, one
        /// per unit beyond them (``askingPlace(of:)``).
        func places(for round: PipelineRound) -> Int {
            for group in round.groups.indices where round.groups[group].hasAsking { return count &+ units.count }
            return count
        }

        /// A round's replies (by ``places(for:)``) as the pipeline's outcomes when they are
        /// all of them as they stand: every unit was in the round (each is routed at most
        /// once a round), no batch had an `ASKING`, and every reply is a success (what
        /// absorbing them would store, a transaction's included, with no unit left to decide).
        func answeredWhole(by round: PipelineRound, replies: [Result<RESPValue, RedisError>]) -> [Result<RESPValue, RedisError>]? {
            guard results.isEmpty, replies.count == count else { return nil }
            var routed = 0
            for group in round.groups.indices {
                guard !round.groups[group].hasAsking else { return nil }
                routed &+= round.groups[group].units.count
            }
            guard routed == units.count, Self.allSucceeded(replies) else { return nil }
            return replies
        }
    }
}

extension ClusterRouter.PipelineRun {
    /// Whether every reply of `replies` is a success.
    static func allSucceeded(_ replies: [Result<RESPValue, RedisError>]) -> Bool {
        for reply in replies {
            guard case .success = reply else { return false }
        }
        return true
    }
}

extension ClusterRouter {
    /// One round of a pipeline: the batch for each node, and what the round's outcomes
    /// ask of the next (a pause, a refresh first, the slots whose units wait together).
    struct PipelineRound: Sendable {
        var groups: [BatchGroup] = []
        var pause: UInt64 = 0
        var refreshFirst = false
        var pausedSlots = Set<Int>()
        var seen: UInt64 = 0
        /// No map yet: nothing was grouped; wait for one and route again.
        var needsMap = false
    }
}
