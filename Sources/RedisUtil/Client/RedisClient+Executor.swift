import Reactor

extension RedisClient {
    /// Where the client's own unstructured tasks run (a lease, a pool's wait, a callback's
    /// blocking command): the calling reactor when there is one, else one of the client's.
    /// Never Swift's global pool, whose few threads (one per core) an application may fill
    /// with blocking or long work: the client's own work must go on regardless.
    var ownExecutor: Reactor { Reactor.current ?? group.next() }
}
