import Glibc
import SystemCall

/// Whole-file reads and writes with plain POSIX calls: `/proc` files report size 0, which rules out
/// size-first readers, and writes must report `errno` for `LocalRedisError`.
enum FileIO {
    /// The bytes of `path` from `offset` to its end, or nil when it cannot be opened.
    static func read(_ path: String, from offset: Int = 0) -> [UInt8]? {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 { return nil }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { return nil }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces `path` with `text`; returns the `errno` of the failing call, or nil on success.
    static func write(_ text: String, to path: String) -> Int32? {
        let fd = retryingOnInterrupt { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { return lastErrno }
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { buffer in
                retryingOnInterrupt { Glibc.write(fd, buffer.baseAddress, buffer.count) }
            }
            if written < 0 { return lastErrno }
            bytes = bytes.dropFirst(written)
        }
        return nil
    }

    /// Size of `path` in bytes, 0 when it does not exist yet (a log redis has not opened).
    static func size(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    /// The last `lineCount` lines of `path` from `offset` on, for error messages.
    static func tail(_ path: String, from offset: Int = 0, lineCount: Int = 20) -> String {
        guard let bytes = read(path, from: offset) else { return "" }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        return lines.suffix(lineCount).joined(separator: "\n")
    }
}
