import Foundation
import Testing
@testable import RedisBench

/// How redis-bench reads redis-benchmark's own CPU time: the kernel's account of its
/// reaped children, taken across the child's run.
@Suite("redis-bench's account of a child's CPU")
struct ProcessCPUTests {
    /// A shell that spins for about 0.2 s and then prints its own `/proc/<pid>/stat`: the
    /// reaped children's CPU grows by what the shell says it used (within the clock's
    /// ticks and its `cat`), not by this process's own. In a process of its own (an exit
    /// test), where no other child ends meanwhile.
    @Test func theChildsOwnCPU() async {
        await #expect(processExitsWith: .success) {
            let before = reapedChildrenCPUSeconds()
            let script = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; cat /proc/$$/stat"
            guard let output = runToCompletion("/bin/sh", ["-c", script]) else { exit(2) }
            let measured = reapedChildrenCPUSeconds() - before
            // After the command's name in parentheses: field 3 (state) first, so utime
            // (field 14) and stime (15) are the 12th and 13th, in clock ticks.
            let fields = (output.split(separator: ")").last ?? "").split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { exit(3) }
            let reported = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            exit(reported >= 0.05 && abs(measured - reported) < 0.05 ? 0 : 1)
        }
    }
}
