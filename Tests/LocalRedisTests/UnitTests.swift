import Testing
@testable import LocalRedis

/// Socket-free tests of the pure helpers.
@Suite("LocalRedis helpers")
struct LocalRedisHelperTests {
    @Test func procStatCountsFieldsFromTheLastParenthesis() throws {
        let line = "4242 (redis (server) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 5 0 123 0 0"
        let sample = try #require(ProcStat.parse(line))
        #expect(sample == ProcStat.Sample(state: "S", parent: 1, userTicks: 17, systemTicks: 5, startTicks: 123))
    }

    @Test(arguments: ["", "1 (x) S 1 2", "no parenthesis at all", "4242 (redis) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 5 0"])
    func procStatRejectsMalformedLines(line: String) {
        #expect(ProcStat.parse(line) == nil)
    }

    @Test func configFileHasPersistenceOffAndExtraLinesLast() {
        let config = RedisConfigFile(
            port: 7000, directory: "/tmp/a b", logPath: "/tmp/a b/redis.log",
            unixSocketPath: "/tmp/a b/redis.sock", extraLines: ["save 60 1"]
        )
        let lines = config.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("port 7000"))
        #expect(lines.contains("bind 127.0.0.1"))
        #expect(lines.contains("save \"\""))
        #expect(lines.contains("appendonly no"))
        #expect(lines.contains("hz 100"))
        #expect(lines.contains("dir \"/tmp/a b\""))
        #expect(lines.contains("unixsocket \"/tmp/a b/redis.sock\""))
        #expect(lines.contains("unixsocketperm 700"))
        #expect(lines.last == "save 60 1")
    }

    @Test func configQuotingEscapesQuotesAndBackslashes() {
        #expect(RedisConfigFile.quoted(#"a"b\c"#) == #""a\"b\\c""#)
    }

    @Test func versionIsReadFromTheVEquals() {
        #expect(RedisVersion.parse("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1\n") == "7.0.15")
        #expect(RedisVersion.parse("true\n") == nil)
        #expect(RedisVersion.parse("v= x") == nil)
    }

    @Test func readinessCountsErrorRepliesAsAnswers() {
        #expect(RedisLaunch.isAnswer("+PONG"))
        #expect(RedisLaunch.isAnswer("-NOAUTH Authentication required."))
        #expect(!RedisLaunch.isAnswer("+OK"))
        #expect(!RedisLaunch.isAnswer(""))
    }

    @Test func completeLinesDropsTheTrailingPartialLine() {
        #expect(LoopbackProbe.completeLines(in: Array("+OK\r\n$1\r\nx\r\n*2".utf8)) == ["+OK", "$1", "x"])
        #expect(LoopbackProbe.completeLines(in: Array("\r".utf8)) == [])
        #expect(LoopbackProbe.completeLines(in: Array("\r\n".utf8)) == [""])
    }

    @Test func executableLocatorSearchesPathInOrder() {
        #expect(ExecutableLocator.locate("sh", searchPath: "/nonexistent:/bin:/usr/bin") == "/bin/sh")
        #expect(ExecutableLocator.locate("/bin/sh", searchPath: "") == "/bin/sh")
        #expect(ExecutableLocator.locate("sh", searchPath: "/nonexistent") == nil)
        // A directory is not an executable even though it has the x bit.
        #expect(ExecutableLocator.locate("bin", searchPath: "/") == nil)
    }

    @Test func waitStatusIsDescribedLikeAShell() {
        #expect(describeWaitStatus(1 << 8) == "exited with status 1")
        #expect(describeWaitStatus(9) == "killed by signal 9")
    }

    @Test func unusedPortIsRefusedUntilSomeoneListens() throws {
        let port = try LoopbackProbe.unusedPort(host: "127.0.0.1")
        #expect(port > 0 && port < 65536)
        #expect(LoopbackProbe.exchange("PING\r\n", with: .tcp(host: "127.0.0.1", port: port), timeout: .seconds(1)) == .refused)
    }

    @Test func missingUnixSocketIsRefusedAndTooLongPathFails() {
        #expect(LoopbackProbe.exchange("PING\r\n", with: .unix(path: "/nonexistent/redis.sock"), timeout: .seconds(1)) == .refused)
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(LoopbackProbe.exchange("PING\r\n", with: .unix(path: long), timeout: .seconds(1)) == .failed(errno: 22))
    }

    @Test func errorDescriptionsNameTheCause() {
        #expect(LocalRedisError.executableNotFound(name: "redis-server", searchPath: "/bin").description
            .contains("apt-get install redis-server"))
        #expect(LocalRedisError.startFailed(reason: "exited with status 1", logTail: "FATAL x").description.contains("FATAL x"))
    }
}
