import LocalRedis
import Reactor
@testable import RedisUtil
import RESP
import Synchronization
import Testing
import TestSupport

/// A failure handler that should never be reached: the test's commands succeed.
private final class UnusedFailures: RoutedFailureHandler {
    func attemptFailed(_ result: Result<RESPValue, RedisError>, bytes: [UInt8], completion: @escaping ReplyCallback) {
        completion(result)
    }
}

@Suite("Choosing a connection: the least loaded, or for a cluster node the write already forming")
struct ConnectionChoiceTests {
    /// Within one iteration of the reactor's loop (one job), the second command goes to
    /// the connection whose write the first started on a cluster node's client, and to
    /// the other, less loaded one on a plain client.
    @Test(arguments: [false, true])
    func aClusterNodeJoinsTheWriteAlreadyFormingAPlainClientSpreads(clusterNode: Bool) async throws {
        try await withServer { server in
            let group = try ReactorGroup(count: 1, name: "choice")
            defer { group.shutdown() }
            let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 2), group: group,
                                         onConnectionLoss: nil, routedFailures: clusterNode ? UnusedFailures() : nil)
            try await client.send("PING")
            let choices = await withCheckedContinuation { (done: CheckedContinuation<(ObjectIdentifier, ObjectIdentifier), Never>) in
                group.reactors[0].execute {
                    let first = client.pickConnection()
                    var bytes: [UInt8] = []
                    RESPEncoder.encodeCommand(into: &bytes, "INCR", "choice")
                    first.submit(Submission(bytes: bytes, handlers: .one(.single { _ in }), timeout: .configured))
                    let second = client.pickConnection()
                    done.resume(returning: (ObjectIdentifier(first), ObjectIdentifier(second)))
                }
            }
            #expect((choices.0 == choices.1) == clusterNode, "cluster node: \(clusterNode)")
            await client.close()
        }
    }
}
