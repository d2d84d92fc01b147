import LocalRedis
import RedisUtil
import RESP
import Testing

@Suite("Handshake against a real server: ACL users, requirepass, SELECT, client name, Unix sockets")
struct HandshakeTests {
    static let protocols: [RedisConfiguration.ProtocolVersion] = [.resp3, .resp2]

    @Test("an ACL user with its password is authenticated", arguments: protocols)
    func aclUser(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer(.init(extraConfig: ["user alice on >secret ~* +@all"])) { server async throws in
            let configuration = RedisConfiguration(username: "alice", password: "secret", protocolVersion: version)
            try await withClient(server, configuration: configuration) { client async throws in
                #expect(try await client.send("ACL", "WHOAMI").string == "alice")
            }
            // The same credentials from a URL.
            let url = try RedisEndpoint(url: "redis://alice:secret@127.0.0.1:\(server.port)")
            try await withClient(url, configuration: .init(protocolVersion: version)) { client async throws in
                #expect(try await client.send("ACL", "WHOAMI").string == "alice")
            }
        }
    }

    @Test("a wrong password fails with handshakeFailed naming the server's refusal, not the password", arguments: protocols)
    func wrongPassword(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer(.init(extraConfig: ["user alice on >secret ~* +@all"])) { server async throws in
            let configuration = RedisConfiguration(username: "alice", password: "not-the-secret", protocolVersion: version, connections: 1)
            try await withClient(server, configuration: configuration) { client async throws in
                do {
                    try await client.ping()
                    Issue.record("PING succeeded with a wrong password")
                } catch RedisError.handshakeFailed(let step, let message) {
                    #expect(step == (version == .resp3 ? "HELLO" : "AUTH"))
                    #expect(message.hasPrefix("WRONGPASS"), "\(message)")
                    let text = RedisError.handshakeFailed(step: step, message: message).description
                    #expect(!text.contains("not-the-secret"))
                    #expect(text.contains("handshake failed"))
                }
                // Refused again, not hanging, on the next command.
                await #expect(throws: RedisError.self) { try await client.ping() }
            }
        }
    }

    @Test("legacy requirepass: a password alone authenticates; none is refused clearly")
    func requirepass() async throws {
        try await withServer(.init(extraConfig: ["requirepass hunter2"])) { server async throws in
            for version in Self.protocols {
                try await withClient(server, configuration: .init(password: "hunter2", protocolVersion: version)) { client async throws in
                    #expect(try await client.ping() == "PONG")
                    #expect(try await client.send("ACL", "WHOAMI").string == "default")
                }
            }
            try await withClient(server, configuration: .init(protocolVersion: .resp3, connections: 1)) { client async throws in
                do {
                    try await client.ping()
                    Issue.record("PING without the password succeeded")
                } catch RedisError.handshakeFailed(_, let message) {
                    #expect(message.hasPrefix("NOAUTH"), "\(message)")
                }
            }
            try await withClient(server, configuration: .init(protocolVersion: .resp2, connections: 1)) { client async throws in
                await #expect(throws: RedisError.self) { try await client.ping() }
            }
            // waitServe counts a NOAUTH answer as serving.
            try await RedisClient.waitServe(.tcp(host: server.host, port: server.port), timeout: .seconds(60))
        }
    }

    @Test("configuration.database, URL /2 and ?db=3 select the database", arguments: protocols)
    func selectDatabase(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(database: 2, protocolVersion: version, connections: 2)) { client async throws in
                for _ in 0..<4 { try await client.set("where", "db2") }
                #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=2 ") == true)
            }
            try await withClient(try RedisEndpoint(url: "redis://127.0.0.1:\(server.port)/2"), configuration: .init(protocolVersion: version)) { client async throws in
                #expect(try await client.get("where") == "db2")
            }
            try await withClient(try RedisEndpoint(url: "redis://127.0.0.1:\(server.port)?db=3"), configuration: .init(protocolVersion: version)) { client async throws in
                #expect(try await client.get("where") == nil)
                #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=3 ") == true)
            }
            try await withClient(server) { client async throws in
                #expect(try await client.get("where") == nil)
            }
        }
    }

    @Test("an out-of-range database fails the handshake at SELECT")
    func badDatabase() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(database: 999, connections: 1)) { client async throws in
                do {
                    try await client.ping()
                    Issue.record("SELECT 999 accepted")
                } catch RedisError.handshakeFailed(let step, _) {
                    #expect(step == "SELECT")
                }
            }
        }
    }

    @Test("the client name is set in the handshake", arguments: protocols)
    func clientName(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(clientName: "worker-7", protocolVersion: version)) { client async throws in
                #expect(try await client.send("CLIENT", "GETNAME").string == "worker-7")
            }
        }
    }

    @Test("a Unix socket endpoint, plain and as unix:///path?db=1")
    func unixSocket() async throws {
        try await withServer(.init(unixSocket: true)) { server async throws in
            let path = try #require(server.unixSocketPath)
            try await withClient(.unix(path: path)) { client async throws in
                try await client.set("via", "unix")
                #expect(try await client.get("via") == "unix")
                // Unix clients have no TCP peer address.
                #expect(try await client.send("CLIENT", "INFO").string?.contains(path) == true)
            }
            try await withClient(try RedisEndpoint(url: "unix://\(path)?db=1")) { client async throws in
                #expect(try await client.get("via") == nil)
                try await client.set("via", "unix db1")
            }
            try await withClient(server, configuration: .init(database: 1)) { client async throws in
                #expect(try await client.get("via") == "unix db1")
            }
        }
    }
}
