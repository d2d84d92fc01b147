#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLibevent

/// Starts a joinable OS thread running `body`.
///
/// A raw pthread rather than Foundation's `Thread`: the reactor must be joinable
/// (graceful shutdown waits for it) and needs no run loop.
func spawnThread(name: String, _ body: @escaping () -> Void) throws(ReactorError) -> pthread_t {
    final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { context in
        let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
        setCurrentThreadName(start.name)
        start.body()
        return nil
    }, start)
    guard result == 0 else {
        Unmanaged<AnyObject>.fromOpaque(start).release()
        throw ReactorError("pthread_create", errno: result)
    }
    return thread
}

/// Names the calling thread (Linux keeps the first 15 bytes), so that `top -H` and
/// debuggers show which reactor is which.
private func setCurrentThreadName(_ name: String) {
    _ = clibevent_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
}

/// Points from a reactor's thread to its reactor (unretained: the thread's body holds
/// the reactor for as long as the thread runs).
private let reactorThreadKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

extension Reactor {
    /// Records `self` as the calling thread's reactor. Called first thing on the loop thread.
    func markCurrentThread() {
        pthread_setspecific(reactorThreadKey, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The reactor whose thread is calling, if any. Lets a client prefer a connection
    /// on the caller's own reactor, so that neither the command nor its reply crosses threads.
    public static var current: Reactor? {
        guard let pointer = pthread_getspecific(reactorThreadKey) else { return nil }
        return Unmanaged<Reactor>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The identity of the reactor whose thread is calling, if any: ``current`` without
    /// the reference, for a comparison made per command (taking the reference costs a
    /// retain and a release). The reactor is alive: its own thread is running this.
    public static var currentIdentifier: ObjectIdentifier? {
        guard let pointer = pthread_getspecific(reactorThreadKey) else { return nil }
        return Unmanaged<Reactor>.fromOpaque(pointer)._withUnsafeGuaranteedRef { ObjectIdentifier($0) }
    }

    /// Whether the calling thread is any reactor's thread. Blocking APIs check it to
    /// fail loudly instead of deadlocking.
    public static var isReactorThread: Bool {
        pthread_getspecific(reactorThreadKey) != nil
    }
}
