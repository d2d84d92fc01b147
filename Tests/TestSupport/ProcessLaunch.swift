import Foundation
import Synchronization

/// Starts `process` while no other test starts one.
///
/// swift-corelibs-foundation's `Process.run()` crashed the test process once (SIGSEGV in
/// a `memcpy` inside `run()`) while the channel tests were starting worker processes and
/// Python peers from several threads at once; launches go one at a time through here.
/// Only the start is serialised: the processes still run side by side.
public func launchSerialized(_ process: Process) throws {
    try launchLock.withLock { _ throws in try process.run() }
}

private let launchLock = Mutex(())
