import SystemCall

/// Why a reactor could not be created or started.
public struct ReactorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The operation that failed, e.g. `"eventfd"` or `"event_base_new"`.
    public let operation: String
    /// The `errno` value, when the failure came from a system call.
    public let errno: Int32?

    init(_ operation: String, errno: Int32? = nil) {
        self.operation = operation
        self.errno = errno
    }

    /// The failed call and its `strerror` text, for logs and error messages.
    public var description: String {
        if let errno {
            return "reactor: \(operation) failed: \(errnoDescription(errno))"
        }
        return "reactor: \(operation) failed"
    }
}
