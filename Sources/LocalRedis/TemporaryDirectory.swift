import Foundation
import Glibc

/// The private directory each server keeps its config, log and socket in.
enum TemporaryDirectory {
    /// `sun_path` holds 108 bytes including the terminator; a long `$TMPDIR` (as some CI runners
    /// set) would make `<dir>/redis.sock` unusable, so such a base falls back to /tmp.
    private static let longestUsableBase = 64

    /// Creates a fresh mode-0700 directory with `mkdtemp`, registered for removal at exit.
    static func create() throws(LocalRedisError) -> String {
        var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        if base.isEmpty || base.utf8.count > longestUsableBase { base = "/tmp" }
        var template = Array("\(base)/local-redis.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw .temporaryDirectoryFailed(path: base, errno: lastErrno)
        }
        var path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Absolute: redis changes into `dir` and then opens the log by the path given, so a
        // relative $TMPDIR would point it somewhere else.
        if let resolved = realpath(path, nil) {
            path = String(cString: resolved)
            free(resolved)
        }
        ProcessRegistry.register(directory: path)
        return path
    }

    /// Removes `path` and everything in it. A failure is not actionable for the caller (it runs
    /// from `stop()` and the exit hook), and at worst leaves a few KB of logs in the temp folder.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
