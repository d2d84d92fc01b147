import Foundation
import Glibc
import LocalRedis
import RedisUtil
import Testing
import TestSupport

/// The README's worker service (Examples/WorkerService), run as a service manager runs
/// it: jobs in, replies out, and a SIGTERM that loses no job in flight.
@Suite("Examples/WorkerService: a worker pool in a ServiceGroup", .timeLimit(.minutes(2)))
struct WorkerServiceExampleTests {
    /// The example's request and reply, as any peer of the channel spells them.
    struct ResizeJob: Codable, Sendable {
        var id: Int
        var image: String
        var width: Int
    }

    struct ResizeDone: Codable, Sendable, Equatable {
        var id: Int
        var image: String
        var width: Int
        var height: Int
    }

    @Test func servesJobsAndDrainsAtSIGTERM() async throws {
        try await withLocalServer { server in
            let worker = try BenchProcess.start(
                [], environment: ["REDIS_URL": "redis://\(server.host):\(server.port)"], executable: "WorkerService")
            let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))
            defer { worker.kill() }
            do {
                let jobs = RedisChannel(client: client, "/examples/resize", peer: .client)
                for id in 1...3 { try await jobs.send(ResizeJob(id: id, image: "photo-\(id).jpg", width: 400)) }
                var replies: [ResizeDone] = []
                for _ in 1...3 {
                    if let reply = try await jobs.brecv(as: ResizeDone.self, timeout: .seconds(10)) { replies.append(reply) }
                }
                #expect(replies.sorted { $0.id < $1.id } == (1...3).map { ResizeDone(id: $0, image: "photo-\($0).jpg", width: 400, height: 300) })

                // A job of 2 s, in flight when the SIGTERM comes: the pool must finish it
                // and reply before the client closes.
                try await jobs.send(ResizeJob(id: 4, image: "wide.jpg", width: 8000))
                try await waitUntil("the worker starts job 4") { worker.stderrSoFar.contains("job=4") }
                worker.send(SIGTERM)
                let last = try await jobs.brecv(as: ResizeDone.self, timeout: .seconds(10))
                #expect(last == ResizeDone(id: 4, image: "wide.jpg", width: 8000, height: 6000))
                await client.close()
            } catch {
                await client.close()
                throw error
            }

            let finished = await worker.finished(hangGuard: .seconds(30))
            #expect(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
            let atShutdown = finished.stderr.split(separator: "\n").first { $0.contains("metrics at shutdown:") }
            let sent = atShutdown?.firstMatch(of: /commands sent (\d+)/).flatMap { Int($0.1) }
            #expect((sent ?? 0) > 0, "no commands counted at shutdown: \(atShutdown ?? "no line")\n\(finished)")
            #expect(finished.stderr.contains("stopped after 4 jobs"), "\(finished)")
        }
    }

    /// Polls `condition` every 50 ms for up to 10 s.
    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw BenchProcess.SetupFailure(description: "timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
