// MARK: audited unsafe helper (LentReferenceTests)

extension Unmanaged {
    /// `body`'s result with the referenced object, lent without a retain for as long as
    /// `owner` is kept alive, which this guarantees for the call.
    ///
    /// For an object that every thread reaches at every command (a client, a router, a
    /// node's client): a retain and a release write its reference count, and a count
    /// written from every reactor thread moves its cache line between the cores at each
    /// command, which callgrind does not count and two reactors' CPU does.
    ///
    /// Sound only where `owner` holds the object strongly in a `let` (directly or through
    /// other `let`s of objects it holds so) for its whole life: then, while `owner` lives,
    /// so does the object. Each caller states its chain. What `body` keeps of the object
    /// it retains as any reference is.
    @inline(__always)
    func lend<Owner: AnyObject, Result>(heldBy owner: Owner, _ body: (Instance) -> Result) -> Result {
        withExtendedLifetime(owner) { _withUnsafeGuaranteedRef(body) }
    }
}
