import RedisUtil
import Testing

@Suite("RedisEndpoint(url:) parsing")
struct EndpointURLTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let url: String
        let address: RedisEndpoint.Address
        var username: String? = nil
        var password: String? = nil
        var database: Int? = nil
        var testDescription: String { url }
    }

    static let valid: [Valid] = [
        Valid(url: "redis://localhost", address: .tcp(host: "localhost", port: 6379)),
        Valid(url: "redis://127.0.0.1:6380", address: .tcp(host: "127.0.0.1", port: 6380)),
        Valid(url: "REDIS://Example.COM:1", address: .tcp(host: "Example.COM", port: 1)),
        Valid(url: "redis://h:65535/", address: .tcp(host: "h", port: 65535)),
        Valid(url: "redis://h/2", address: .tcp(host: "h", port: 6379), database: 2),
        Valid(url: "redis://h:7000/15", address: .tcp(host: "h", port: 7000), database: 15),
        Valid(url: "redis://h?db=4", address: .tcp(host: "h", port: 6379), database: 4),
        Valid(url: "redis://[::1]", address: .tcp(host: "::1", port: 6379)),
        Valid(url: "redis://[::1]:6390/3", address: .tcp(host: "::1", port: 6390), database: 3),
        Valid(url: "redis://[fe80::1%25eth0]:6379", address: .tcp(host: "fe80::1%eth0", port: 6379)),
        Valid(url: "redis://alice:secret@h:1234/1", address: .tcp(host: "h", port: 1234), username: "alice", password: "secret", database: 1),
        Valid(url: "redis://:secret@h", address: .tcp(host: "h", port: 6379), password: "secret"),
        Valid(url: "redis://alice@h", address: .tcp(host: "h", port: 6379), username: "alice"),
        Valid(url: "redis://al%69ce:p%40ss%3Aw%2Frd@h", address: .tcp(host: "h", port: 6379), username: "alice", password: "p@ss:w/rd"),
        Valid(url: "redis://u:caf%C3%A9@h", address: .tcp(host: "h", port: 6379), username: "u", password: "café"),
        Valid(url: "redis://u:pa@ss@h:1", address: .tcp(host: "h", port: 1), username: "u", password: "pa@ss"),
        Valid(url: "redis://u:pa/ss@h:1/2", address: .tcp(host: "h", port: 1), username: "u", password: "pa/ss", database: 2),
        Valid(url: "redis://u:pa?ss@h:1", address: .tcp(host: "h", port: 1), username: "u", password: "pa?ss"),
        Valid(url: "redis://u:pw@[::1]:7/8", address: .tcp(host: "::1", port: 7), username: "u", password: "pw", database: 8),
        Valid(url: "unix:///tmp/redis.sock", address: .unix(path: "/tmp/redis.sock")),
        Valid(url: "unix:///var/run/redis/r.sock?db=5", address: .unix(path: "/var/run/redis/r.sock"), database: 5),
        Valid(url: "unix://:pw@/tmp/r.sock", address: .unix(path: "/tmp/r.sock"), password: "pw"),
        Valid(url: "unix://bob:pw@/tmp/r.sock?db=1", address: .unix(path: "/tmp/r.sock"), username: "bob", password: "pw", database: 1),
    ]

    @Test("valid URLs", arguments: valid)
    func parsesValid(_ case_: Valid) throws {
        let endpoint = try RedisEndpoint(url: case_.url)
        #expect(endpoint.address == case_.address)
        #expect(endpoint.username == case_.username)
        #expect(endpoint.password == case_.password)
        #expect(endpoint.database == case_.database)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let url: String
        /// A phrase the error must contain, so the message says what was wrong.
        let mentions: String
        var testDescription: String { url }
    }

    static let invalid: [Invalid] = [
        Invalid(url: "localhost:6379", mentions: "expected redis://"),
        Invalid(url: "", mentions: "expected redis://"),
        Invalid(url: "http://h", mentions: "unknown scheme"),
        Invalid(url: "redis://h?cacert=/ca.crt", mentions: "TLS option"),
        Invalid(url: "redis://h?insecure=true", mentions: "use rediss://"),
        Invalid(url: "rediss://h?cert=/c.crt", mentions: "cert and key"),
        Invalid(url: "rediss://h?insecure=maybe", mentions: "insecure must be"),
        Invalid(url: "redis://", mentions: "missing host"),
        Invalid(url: "redis://:6379", mentions: "missing host"),
        Invalid(url: "redis://h:0", mentions: "port"),
        Invalid(url: "redis://h:65536", mentions: "port"),
        Invalid(url: "redis://h:-1", mentions: "port"),
        Invalid(url: "redis://h:abc", mentions: "port"),
        Invalid(url: "redis://h:", mentions: "port"),
        Invalid(url: "redis://h:99999999999999999999999", mentions: "port"),
        Invalid(url: "redis://::1:6379", mentions: "brackets"),
        Invalid(url: "redis://[::1", mentions: "unterminated"),
        Invalid(url: "redis://[::1]6379", mentions: "after ]"),
        Invalid(url: "redis://[]:1", mentions: "missing host"),
        Invalid(url: "redis://h/x", mentions: "database number"),
        Invalid(url: "redis://h/-1", mentions: "database number"),
        Invalid(url: "redis://h/1/2", mentions: "database number"),
        Invalid(url: "redis://h?db=x", mentions: "db must be"),
        Invalid(url: "redis://h?db=-3", mentions: "db must be"),
        Invalid(url: "redis://h?db", mentions: "name=value"),
        Invalid(url: "redis://u:bad%zzescape@h", mentions: "percent-escape"),
        Invalid(url: "redis://u:bad%C3@h", mentions: "UTF-8"),
        Invalid(url: "unix://", mentions: "absolute socket path"),
        Invalid(url: "unix://relative.sock", mentions: "absolute socket path"),
        Invalid(url: "unix:///tmp/r.sock?db=z", mentions: "db must be"),
    ]

    @Test("invalid URLs are rejected with a message naming the problem", arguments: invalid)
    func rejectsInvalid(_ case_: Invalid) {
        do {
            let endpoint = try RedisEndpoint(url: case_.url)
            Issue.record("parsed \(case_.url) as \(endpoint)")
        } catch {
            guard case .invalidArgument(let message) = error else {
                Issue.record("expected invalidArgument, got \(error)")
                return
            }
            #expect(message.contains(case_.mentions), "\(message)")
        }
    }

    @Test("the password never appears in an error", arguments: [
        "redis://u:hunter2@h:99999",
        "redis://:hunter2@h/notanumber",
        "rediss://u:hunter2@h:0",
        "rediss://u:hunter2@h?insecure=x",
        "ftp://u:hunter2@h",
        "redis://u:hunter2@::1:6379",
        "redis://u:hunter2@h?db=x",
        "redis://u:hun/ter2@h:x",
        "redis://u:hun?ter2@h:x",
        "unix://u:hunter2@relative",
    ])
    func passwordRedacted(url: String) {
        do {
            _ = try RedisEndpoint(url: url)
            Issue.record("parsed \(url)")
        } catch {
            #expect(!error.description.contains("hunter2") && !error.description.contains("hun"), "\(error)")
            #expect(!"\(error)".contains("ter2"), "\(error)")
        }
    }

    @Test("rediss:// turns TLS on, verified against the system's roots unless the query says otherwise")
    func tlsURLs() throws {
        let plain = try RedisEndpoint(url: "redis://h:6380")
        #expect(plain.tls == nil)
        let managed = try RedisEndpoint(url: "rediss://default:secret@cache.example.com:6380/0")
        #expect(managed.address == .tcp(host: "cache.example.com", port: 6380))
        #expect(managed.username == "default" && managed.password == "secret" && managed.database == 0)
        #expect(managed.tls == RedisTLSConfiguration())
        #expect(managed.tls?.verification == .full && managed.tls?.trustRoots == .system)
        let custom = try RedisEndpoint(url: "rediss://10.0.0.5?cacert=/etc/ca.crt&cert=/etc/c.crt&key=/etc/c.key&sni=redis.internal&insecure=true")
        #expect(custom.address == .tcp(host: "10.0.0.5", port: 6379))
        #expect(custom.tls == RedisTLSConfiguration(
            trustRoots: .caFile("/etc/ca.crt"),
            clientCertificate: .init(certificateFile: "/etc/c.crt", keyFile: "/etc/c.key"),
            serverName: "redis.internal",
            verification: .insecureNoVerification))
        #expect(try RedisEndpoint(url: "rediss://h?cacertdir=/etc/ssl/certs").tls?.trustRoots == .caDirectory("/etc/ssl/certs"))
    }

    @Test("a TLS configuration applies unless the endpoint brings its own, and its key passphrase is never printed")
    func tlsConfiguration() throws {
        var tls = RedisTLSConfiguration(clientCertificate: .init(certificateFile: "/c.crt", keyFile: "/c.key", keyPassphrase: "hunter2"))
        let configuration = RedisConfiguration(tls: tls)
        for text in ["\(tls)", String(reflecting: tls), "\(configuration)", String(reflecting: configuration), String(reflecting: tls.clientCertificate!)] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        #expect("\(configuration)".contains("c.key"))
        tls.serverName = "other"
        #expect(tls != RedisTLSConfiguration())
    }

    @Test("descriptions carry no credentials and bracket IPv6 hosts")
    func descriptions() throws {
        #expect(try RedisEndpoint(url: "redis://u:hunter2@[::1]:7").description == "[::1]:7")
        #expect(try RedisEndpoint(url: "redis://u:hunter2@h:7").description == "h:7")
        #expect(try RedisEndpoint(url: "unix://u:hunter2@/tmp/s").description == "unix:/tmp/s")
        let configuration = RedisConfiguration(username: "u", password: "hunter2")
        #expect(!configuration.description.contains("hunter2"))
        #expect((7000 as RedisEndpoint) == .tcp(host: "127.0.0.1", port: 7000))
    }
}
