import Testing
@testable import LocalRedis
import TestSupport

/// The LocalRedisCluster promises that are about time: tests can afford a cluster each, and
/// a failover takes about a second. They run in the serial timing pass (`make test`), one
/// at a time, so that the measurements are not each other's load.
@Suite("LocalRedisCluster timing: start and failover", .serialized, .timeLimit(.minutes(3)))
struct LocalRedisClusterTimingTests {
    /// Redis itself keeps a fresh primary's cluster_state at fail for 2 s.
    @Test func aThreeByOneClusterStartsWithinFiveSeconds() async throws {
        let (cluster, elapsed) = try await onOwnThread { () -> Result<(LocalRedisCluster, Duration), LocalRedisError> in
            let started = ContinuousClock.now
            return Result { () throws(LocalRedisError) in (try LocalRedisCluster(), ContinuousClock.now - started) }
        }.get()
        defer { cluster.stop() }
        print("LocalRedisCluster timing: 3 primaries × 1 replica settled in \(elapsed)")
        #expect(elapsed < .seconds(5))
    }

    /// cluster-node-timeout (500 ms by default) until the peers flag it failing, 500 to
    /// 1000 ms before the replica asks for votes, then the election and the agreement.
    @Test func aKilledPrimaryIsReplacedWithinFourSeconds() async throws {
        let cluster = try await onOwnThread { Result { () throws(LocalRedisError) in try LocalRedisCluster() } }.get()
        defer { cluster.stop() }
        let victim = cluster.primaries[0]
        let replica = cluster.replicas(of: victim)[0]
        let (promoted, elapsed) = try await onOwnThread { () -> Result<(LocalRedisCluster.Node, Duration), LocalRedisError> in
            Result { () throws(LocalRedisError) in
                try cluster.kill(victim)
                let killed = ContinuousClock.now
                return (try cluster.waitForPromotion(of: replica), ContinuousClock.now - killed)
            }
        }.get()
        print("LocalRedisCluster timing: SIGKILL of a primary to its replica promoted and agreed: \(elapsed) "
            + "(cluster-node-timeout \(cluster.configuration.nodeTimeout))")
        #expect(promoted.isPrimary)
        #expect(elapsed < .seconds(4))
    }

    @Test func aCoordinatedFailoverTakesUnderTwoSeconds() async throws {
        let cluster = try await onOwnThread { Result { () throws(LocalRedisError) in try LocalRedisCluster() } }.get()
        defer { cluster.stop() }
        let replica = cluster.replicas[0]
        let elapsed = try await onOwnThread { () -> Result<Duration, LocalRedisError> in
            Result { () throws(LocalRedisError) in
                let started = ContinuousClock.now
                try cluster.failover(replica)
                return ContinuousClock.now - started
            }
        }.get()
        print("LocalRedisCluster timing: coordinated failover, agreed by every node, in \(elapsed)")
        #expect(elapsed < .seconds(2))
    }
}
