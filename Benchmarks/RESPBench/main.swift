// RESP parser and encoder microbenchmark. Run in release:
//   swift run -c release --scratch-path .build-resp resp-bench [--quick]
// Inputs are built exactly as Benchmarks/CReference/hiredis_reader_bench.c builds them, and fed
// the way a connection would: copied into the parser's buffer 16 KiB at a time (as read(2)
// would), draining every complete reply after each chunk. Best of 5 runs is reported.
// Lines starting with RESULT are read by Benchmarks/CReference/compare-parser.
import RESP

#if canImport(Glibc)
import Glibc
#endif

let quick = CommandLine.arguments.contains("--quick")
/// `--only NAME` runs one case (int, bulk64, array100, encode): handy under callgrind.
let only: String? = CommandLine.arguments.firstIndex(of: "--only").flatMap {
    $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil
}
let chunkSize = 16 * 1024
let runs = quick ? 2 : 5

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Deterministic 64-byte-ish payloads, the same bytes the C program writes.
func payload(_ length: Int, seed: Int) -> [UInt8] {
    (0..<length).map { UInt8(ascii: "a") + UInt8((seed &+ $0) % 26) }
}

struct Workload {
    let name: String
    let replies: Int
    let stream: [UInt8]
}

func workloads() -> [Workload] {
    let n = quick ? 100_000 : 1_000_000
    let ints = [UInt8](repeating: 0, count: 0) + Array(repeating: Array(":1\r\n".utf8), count: n).flatMap { $0 }
    var bulks: [UInt8] = []
    bulks.reserveCapacity(n * 71)
    for i in 0..<n {
        bulks += Array("$64\r\n".utf8) + payload(64, seed: i) + [0x0D, 0x0A]
    }
    let arrays = quick ? 1_000 : 10_000
    var nested: [UInt8] = []
    for i in 0..<arrays {
        nested += Array("*100\r\n".utf8)
        for j in 0..<100 {
            nested += Array("$16\r\n".utf8) + payload(16, seed: i &+ j) + [0x0D, 0x0A]
        }
    }
    return [
        Workload(name: "int", replies: n, stream: ints),
        Workload(name: "bulk64", replies: n, stream: bulks),
        Workload(name: "array100", replies: arrays, stream: nested),
    ]
}

/// Parses `stream` once as a connection would; returns the number of top-level replies.
@inline(never)
func parseOnce(_ stream: [UInt8]) -> Int {
    var parser = RESPParser()
    var count = 0
    var checksum = 0
    stream.withUnsafeBytes { source in
        var offset = 0
        while offset < source.count {
            let n = min(chunkSize, source.count - offset)
            parser.withUnsafeWritableTail(minimumCapacity: n) { tail in
                tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + n)]))
                return n
            }
            offset += n
            do {
                while let value = try parser.next() {
                    count += 1
                    // Touch the value so the work cannot be optimised away.
                    if case .integer(let i) = value { checksum &+= Int(i) }
                }
            } catch {
                fatalError("benchmark input failed to parse: \(error)")
            }
        }
    }
    precondition(checksum >= 0)
    return count
}

print("RESPBench: parser fed \(chunkSize)-byte chunks, best of \(runs) runs")
print(String(repeating: "-", count: 72))
for workload in workloads() where only == nil || only == workload.name {
    var best = Double.infinity
    for _ in 0..<runs {
        let start = now()
        let count = parseOnce(workload.stream)
        best = min(best, now() - start)
        precondition(count == workload.replies, "parsed \(count) of \(workload.replies)")
    }
    let repliesPerSecond = Double(workload.replies) / best
    let mbPerSecond = Double(workload.stream.count) / best / 1e6
    print("parse \(workload.name): \(workload.replies) replies, \(workload.stream.count) bytes, "
        + "\(Int(repliesPerSecond)) replies/s, \(format2(mbPerSecond)) MB/s")
    print("RESULT parse-\(workload.name) \(Int(repliesPerSecond)) \(format2(mbPerSecond))")
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}

// Encoder: RPUSH key <64-byte value>, flushed (buffer emptied, capacity kept) every 1000
// commands as a connection would once per loop iteration.
if only == nil || only == "encode" {
    let n = quick ? 100_000 : 1_000_000
    let value = payload(64, seed: 7)
    var best = Double.infinity
    var bytes = 0
    var out: [UInt8] = []
    out.reserveCapacity(128 * 1024)
    for _ in 0..<runs {
        bytes = 0
        let start = now()
        for i in 0..<n {
            RESPEncoder.encodeCommand(into: &out, "RPUSH", "key", value)
            if i % 1000 == 999 {
                bytes += out.count
                out.removeAll(keepingCapacity: true)
            }
        }
        bytes += out.count
        out.removeAll(keepingCapacity: true)
        best = min(best, now() - start)
    }
    let perSecond = Double(n) / best
    print("encode RPUSH key <64 bytes>: \(n) commands, \(bytes) bytes, \(Int(perSecond)) commands/s, "
        + "\(format2(Double(bytes) / best / 1e6)) MB/s")
    print("RESULT encode-rpush \(Int(perSecond)) \(format2(Double(bytes) / best / 1e6))")
}
