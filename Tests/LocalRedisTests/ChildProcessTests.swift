import Glibc
import Testing
@testable import LocalRedis

/// What a spawned child inherits: no descriptor above 2, by `closefrom` where glibc has it
/// and by the `/proc/self/fd` scan where it does not (taken here on purpose).
@Suite("ChildProcess: a child inherits nothing above stderr")
struct ChildProcessTests {
    /// Descriptors a child could inherit: pipe ends without close-on-exec.
    private func inheritable(pairs: Int) -> [Int32] {
        var descriptors: [Int32] = []
        for _ in 0..<pairs {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { break }
            descriptors += ends
        }
        return descriptors
    }

    /// The descriptors `pid` has open, read from outside it.
    private func descriptors(of pid: pid_t) -> Set<Int32> {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var found: Set<Int32> = []
        while let entry = readdir(directory) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!)
                .assumingMemoryBound(to: CChar.self))
            if let descriptor = Int32(name) { found.insert(descriptor) }
        }
        return found
    }

    @Test("the scan lists every descriptor this process has open")
    func scanListsOpenDescriptors() {
        let opened = inheritable(pairs: 150)
        defer { opened.forEach { close($0) } }
        #expect(opened.count == 300)
        let listed = Set(SpawnCloseFrom.openDescriptors())
        #expect(Set(opened).isSubset(of: listed))
        #expect(listed.isSuperset(of: [0, 1, 2]))
    }

    @Test("a child keeps stdin, stdout and stderr and none of the parent's other descriptors", arguments: [false, true])
    func childInheritsNothingAboveStderr(byScan: Bool) throws {
        let opened = inheritable(pairs: 50)
        defer { opened.forEach { close($0) } }
        let child = try ChildProcess.spawn(executable: "/bin/sleep", arguments: ["30"], outputPath: "/dev/null", closingByScan: byScan)
        defer { child.terminate(gracePeriod: .zero) }
        // /proc/PID/fd shows the new program's table once it runs; before the exec it is
        // the parent's copy, so wait until it no longer holds the test's descriptors.
        var seen = descriptors(of: child.pid)
        for _ in 0..<200 where !seen.isDisjoint(with: opened) {
            usleep(10_000)
            seen = descriptors(of: child.pid)
        }
        #expect(seen.isSuperset(of: [0, 1, 2]), "\(seen.sorted())")
        #expect(seen.isDisjoint(with: opened), "inherited: \(seen.intersection(opened).sorted())")
    }
}
