import LocalRedis
import RedisUtil
import RESP
import Synchronization
import Testing

@Suite("RedisClient basics against a real redis-server")
struct BasicCommandTests {
    @Test("PING, SET/GET, error replies fail only their command")
    func basics() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                #expect(try await client.send("PING") == .simpleString(Array("PONG".utf8)))
                try await client.send("SET", "greeting", "hello")
                #expect(try await client.send("GET", "greeting").string == "hello")
                try await client.send("RPUSH", "list", "x")
                await #expect(throws: RedisError.self) { try await client.send("GET", "list") }
                // The connection is still fine after the error reply.
                #expect(try await client.send("LLEN", "list").int == 1)
            }
        }
    }
}
