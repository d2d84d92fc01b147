import Foundation
import Testing
@testable import LocalRedis
import TestSupport

/// Runs `redis-cli` (built with TLS on Debian) and returns its output and status.
private func redisCLI(_ arguments: [String]) throws -> (output: String, status: Int32) {
    try run("/usr/bin/env", ["redis-cli"] + arguments)
}

/// Runs `executable` and returns its output (stdout and stderr) and status.
private func run(_ executable: String, _ arguments: [String]) throws -> (output: String, status: Int32) {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cli-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: output) }
    let process = try TestProcess(executable: executable, arguments: arguments, outputPath: output, errorPath: nil)
    let ended = process.waitUntilExit()
    let text = String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
    return (text, ended?.shellStatus ?? -1)
}

@Suite("LocalRedis TLS: a server that speaks TLS only, with throw-away certificates")
struct LocalRedisTLSTests {
    @Test func aTLSServerAnswersATLSClientAndNotAPlaintextOne() throws {
        let server = try LocalRedisServer(configuration: .init(tls: .init()))
        defer { server.stop() }
        let files = try #require(server.tlsFiles)
        let answer = try redisCLI(["--tls", "--cacert", files.caCertificate, "-p", "\(server.port)", "PING"])
        #expect(answer.output.contains("PONG"), "\(answer.output)")
        // Plaintext TCP gets no PONG on the TLS port; the probe (Unix socket) does.
        #expect(LoopbackProbe.exchange("PING\r\n", with: .tcp(host: server.host, port: server.port), timeout: .milliseconds(500)) != .replied(["+PONG"]))
        #expect(server.ping())
        #expect(server.url == "rediss://127.0.0.1:\(server.port)?cacert=\(files.caCertificate)")
        try server.restart()
        #expect(try redisCLI(["--tls", "--cacert", files.caCertificate, "-p", "\(server.port)", "PING"]).output.contains("PONG"))
    }

    @Test func requiredClientAuthenticationRefusesAClientWithoutACertificate() throws {
        let server = try LocalRedisServer(configuration: .init(tls: .init(clientAuthentication: .required)))
        defer { server.stop() }
        let files = try #require(server.tlsFiles)
        let without = try redisCLI(["--tls", "--cacert", files.caCertificate, "-p", "\(server.port)", "PING"])
        #expect(!without.output.contains("PONG"), "\(without.output)")
        let with = try redisCLI(["--tls", "--cacert", files.caCertificate, "--cert", files.clientCertificate, "--key", files.clientKey,
                                 "-p", "\(server.port)", "PING"])
        #expect(with.output.contains("PONG"), "\(with.output)")
    }

    @Test func anExpiredCertificateIsRefusedAsExpired() throws {
        let server = try LocalRedisServer(configuration: .init(tls: .init(serverCertificate: .expired)))
        defer { server.stop() }
        let files = try #require(server.tlsFiles)
        let answer = try redisCLI(["--tls", "--cacert", files.caCertificate, "-p", "\(server.port)", "PING"])
        #expect(answer.output.contains("certificate verify failed"), "\(answer.output)")
        let verdict = try run("/usr/bin/openssl", ["verify", "-CAfile", files.caCertificate, files.serverCertificate])
        #expect(verdict.output.contains("certificate has expired"), "\(verdict.output)")
    }

    @Test func aCertificateForAnotherHostNamesOnlyThatHost() throws {
        let server = try LocalRedisServer(configuration: .init(tls: .init(serverCertificate: .forHost("elsewhere.example"))))
        defer { server.stop() }
        let files = try #require(server.tlsFiles)
        let good = try redisCLI(["--tls", "--cacert", files.caCertificate, "--sni", "elsewhere.example", "-p", "\(server.port)", "PING"])
        #expect(good.output.contains("PONG"), "\(good.output)")
        let pem = try String(contentsOfFile: files.serverCertificate, encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test func theCAIsMadeOncePerProcessAndTheOtherCADiffers() throws {
        let first = try LocalRedisServer(configuration: .init(tls: .init()))
        defer { first.stop() }
        let second = try LocalRedisServer(configuration: .init(tls: .init(clientAuthentication: .optional)))
        defer { second.stop() }
        let a = try #require(first.tlsFiles), b = try #require(second.tlsFiles)
        let caA = try String(contentsOfFile: a.caCertificate, encoding: .utf8)
        #expect(caA == (try String(contentsOfFile: b.caCertificate, encoding: .utf8)))
        #expect(caA != (try String(contentsOfFile: a.otherCACertificate, encoding: .utf8)))
        let key = try String(contentsOfFile: a.encryptedClientKey, encoding: .utf8)
        #expect(key.contains("ENCRYPTED PRIVATE KEY"))
        // The other CA did not sign the server's certificate.
        let wrong = try redisCLI(["--tls", "--cacert", a.otherCACertificate, "-p", "\(first.port)", "PING"])
        #expect(!wrong.output.contains("PONG"), "\(wrong.output)")
    }
}
