#if canImport(Glibc)
import Glibc
import SystemCall
#elseif canImport(Musl)
import Musl
#endif
import CLibevent

/// An eventfd that other threads write to wake the reactor out of `epoll_wait`.
///
/// The counter semantics of eventfd make a wakeup impossible to lose: a write that
/// lands while the reactor is busy leaves the fd readable until the next read.
struct Wakeup: ~Copyable {
    let fd: Int32

    init() throws(ReactorError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw ReactorError("eventfd", errno: errno) }
        self.fd = fd
    }

    /// Any thread. `EAGAIN` means the counter is already non-zero: the wakeup is pending anyway.
    func signal() {
        var one: UInt64 = 1
        _ = retryingOnInterrupt { write(fd, &one, MemoryLayout<UInt64>.size) }
    }

    /// Reactor thread: resets the counter so the fd stops being readable.
    func consume() {
        var value: UInt64 = 0
        _ = retryingOnInterrupt { read(fd, &value, MemoryLayout<UInt64>.size) }
    }

    deinit { close(fd) }
}
