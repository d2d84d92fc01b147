#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Reactor

/// A reactor thread's reusable buffers for encoding commands: one for a command whose
/// bytes the connection copies before `send` returns (the callback facade's commands, a
/// channel's callback send), and a spare for one that keeps its bytes until it is
/// answered (a cluster command, an awaited command, a channel's callback receive).
///
/// A command sent on a reactor thread goes to a connection of that reactor when it has
/// one (``RedisClient/pickConnection(onReactor:)``), which copies the bytes into its write
/// buffer before `send` returns: the encoding buffer is then free again, and the next
/// command can encode into it instead of allocating and freeing one (net of this
/// helper's own work, about 200 instructions a command under callgrind). Where the
/// bytes outlive `send` (a connection of another reactor, a blocking command), the
/// buffer is shared when it comes back, and the next command gets a new one: the
/// array's copy-on-write keeps every holder's bytes intact, so reuse is never
/// observable. Threads that are not reactors keep no buffer. A cluster client's
/// commands keep their bytes until answered, for a redirection, so they do not use it
/// (``RedisClient/sendEncoding(_:completion:)``): they take the thread's spare instead,
/// the buffer of the last command answered on it (``spareBuffer()``, ``recycle(_:)``).
@usableFromInline
enum CommandScratch {
    /// A buffer grown past this by a large command is not kept for the next one.
    static let keptCapacity = 4096

    /// Encodes a command with `encode` into a buffer (the calling reactor thread's, holding
    /// the last command's bytes, or a new one) and passes the bytes to `use`. `encode`
    /// writes over what the buffer holds (``RESP/RESPWriter/Placement/overwriting``): a
    /// buffer kept at the last command's size needs neither emptying nor refilling.
    ///
    /// The buffer is out of the thread's box while `encode` and `use` run, so a command
    /// sent from inside either (a user's argument type or tracer sending one of its own)
    /// finds none there and encodes into a new buffer: nothing is ever encoded into bytes
    /// that are in use.
    @usableFromInline
    static func encode(_ encode: (inout [UInt8]) -> Void, then use: ([UInt8]) -> Void) {
        withBuffer { bytes in
            encode(&bytes)
            use(bytes)
        }
    }

    /// Runs `body` with the calling reactor thread's buffer (holding the last command's
    /// bytes, for `body` to write over) or a new one, and keeps the buffer for the next
    /// command: ``encode(_:then:)``'s steps, for a caller that may throw between encoding
    /// and sending too (a channel's send, whose message may not encode). The buffer goes
    /// back to the box whether `body` returns or throws.
    @inline(__always)
    static func withBuffer<Failure: Error>(_ body: (inout [UInt8]) throws(Failure) -> Void) throws(Failure) {
        guard let box = ScratchBox.current else {
            var bytes: [UInt8] = []
            return try body(&bytes)
        }
        // The box by its unretained reference (a retain and a release a command): the key
        // holds it until this thread ends, and this runs on that thread.
        var bytes: [UInt8] = []
        box._withUnsafeGuaranteedRef { swap(&bytes, &$0.bytes) }
        defer { if bytes.capacity <= keptCapacity { box._withUnsafeGuaranteedRef { swap(&bytes, &$0.bytes) } } }
        // Written over in place when nothing else holds the storage; otherwise copied
        // first (the holder keeps its bytes).
        try body(&bytes)
    }

    /// A buffer for a command that keeps its bytes until it is answered (a cluster
    /// command: a redirection sends them again; an awaited command, a channel's receive),
    /// to be written over as in
    /// ``encode(_:then:)``: the thread's spare, the buffer of the last command answered on
    /// it (``recycle(_:)``), or a new one. The reply loop hands a command's buffer back
    /// just before its completion runs, so a completion that sends the next command (the
    /// callback facade's usual shape) finds it: a look-up and two moves instead of a
    /// buffer's allocation and release (about 300 instructions under callgrind). One
    /// spare, not a stack of them: a stack's pushes and pops cost more than they saved on
    /// the commands that find one.
    @usableFromInline
    static func spareBuffer() -> [UInt8] {
        var bytes: [UInt8] = []
        if let box = ScratchBox.current { box._withUnsafeGuaranteedRef { swap(&bytes, &$0.spare) } }
        return bytes
    }

    /// ``spareBuffer()`` with a command written over it by `encode`: what every command
    /// that keeps its bytes until answered sends (a cluster client's callback command, an
    /// awaited command, a channel's callback receive).
    @inlinable @inline(__always)
    static func encodedInSpare(_ encode: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = spareBuffer()
        encode(&bytes)
        return bytes
    }

    /// Keeps the buffer of an answered command, bytes and all, as this reactor thread's
    /// spare (``spareBuffer()``) when it has none; drops it otherwise, or off a reactor.
    /// A buffer still held elsewhere is never changed: the next command's writing copies
    /// it first (copy-on-write), as a new buffer would be allocated.
    @usableFromInline
    static func recycle(_ bytes: consuming [UInt8]) {
        guard bytes.capacity <= keptCapacity, let box = ScratchBox.current,
              box._withUnsafeGuaranteedRef({ $0.spare.capacity == 0 }) else { return }
        box._withUnsafeGuaranteedRef { swap(&bytes, &$0.spare) }
    }
}

/// The buffer of one reactor thread, found through a thread-specific key.
///
/// Not `Sendable`, and needs not be: only its own thread ever reaches it (the key's value
/// is per thread), and ``CommandScratch`` touches its properties only in statements that
/// call nothing else, which is why they need no run-time exclusivity check.
private final class ScratchBox {
    @exclusivity(unchecked) var bytes: [UInt8] = []
    /// An answered command's buffer, for the next one to write over (``CommandScratch/recycle(_:)``).
    @exclusivity(unchecked) var spare: [UInt8] = []

    /// The calling thread's box, made on a reactor thread's first use; nil elsewhere.
    /// Unretained: the key's reference keeps it alive until the thread ends. The look-up
    /// inlined into each use (a call cost every single-server command about 20
    /// instructions), the first use's work not. A thread found to be no reactor's is
    /// marked (``noBox``), so that its later look-ups (an async command on Swift's global
    /// executor takes and gives back a spare) end at the key's value too.
    static var current: Unmanaged<ScratchBox>? {
        @inline(__always) get {
            if let pointer = pthread_getspecific(scratchKey) {
                return pointer == noBox ? nil : Unmanaged<ScratchBox>.fromOpaque(pointer)
            }
            return makeCurrent()
        }
    }

    @inline(never)
    private static func makeCurrent() -> Unmanaged<ScratchBox>? {
        guard Reactor.isReactorThread else {
            pthread_setspecific(scratchKey, noBox)
            return nil
        }
        // The key holds one reference, released by its destructor when the thread ends.
        let box = Unmanaged.passRetained(ScratchBox())
        pthread_setspecific(scratchKey, box.toOpaque())
        return box
    }
}

/// The key's value on a thread that is no reactor's: no box, and nothing to release.
/// (Computed: a stored pointer would be a global of a type that is not `Sendable`.)
private var noBox: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 1)! }

/// Points from a reactor thread to its ``ScratchBox`` (retained; released at thread exit),
/// and from any other thread that looked to ``noBox``.
private let scratchKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
        // `noBox`'s address, written out: a C function pointer reads no Swift global.
        if let pointer, UInt(bitPattern: pointer) != 1 { Unmanaged<AnyObject>.fromOpaque(pointer).release() }
    }
    return key
}()
