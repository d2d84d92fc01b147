import Glibc
import SystemCall

/// A spawned child process, known by pid; reaping goes through `ProcessRegistry`.
struct ChildProcess: Sendable, Equatable {
    let pid: pid_t

    /// Starts `executable` with stdin from /dev/null and stdout and stderr appended to `outputPath`,
    /// and registers it for the exit hook.
    ///
    /// The child gets an empty signal mask and default dispositions, because posix_spawn would
    /// otherwise pass on whatever the spawning thread blocks or ignores (a blocked SIGTERM would
    /// turn every stop into a SIGKILL after the grace period). It inherits no descriptor above 2,
    /// because a copy of a test's client socket held by redis would keep that connection open
    /// after the test closed it. It stays in our process group so a terminal's Ctrl-C reaches it too.
    /// `environment` entries (`NAME=value`) are added to this process's own, replacing
    /// any of the same name. `standardInput` replaces /dev/null as stdin; `registered: false`
    /// leaves the child out of the registry (``OrphanWatchdog``, which must outlive it).
    /// `errorPath`: stderr to a file of its own (truncated), rather than with stdout;
    /// `newProcessGroup`: the child leads a process group of its own (its children can
    /// then be signalled with it). `closingByScan`: close the inherited descriptors the way
    /// a system without `posix_spawn_file_actions_addclosefrom_np` does, for its tests.
    static func spawn(
        executable: String, arguments: [String], environment: [String] = [], outputPath: String,
        errorPath: String? = nil, standardInput: Int32? = nil, registered: Bool = true, newProcessGroup: Bool = false,
        closingByScan: Bool = false
    ) throws(LocalRedisError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        SpawnCloseFrom.add(to: &actions, lowestDescriptor: 3, byScan: closingByScan)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaulted = sigset_t()
        sigemptyset(&defaulted)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] {
            sigaddset(&defaulted, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaulted)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let names = Set(environment.map { $0.prefix { $0 != "=" } })
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var entry = environ
        while let variable = entry.pointee {
            if !names.contains(String(cString: variable).prefix { $0 != "=" }) { inherited.append(variable) }
            entry += 1
        }
        let added: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        defer { added.forEach { free($0) } }
        let envp = inherited + added + [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw .spawnFailed(executable: executable, errno: result)
        }
        if registered { ProcessRegistry.register(pid: pid) }
        return ChildProcess(pid: pid)
    }

    /// Sends `signal`; false when the process no longer exists.
    @discardableResult
    func send(_ signal: Int32) -> Bool {
        kill(pid, signal) == 0
    }

    /// The wait status if the child has exited (and is now reaped), nil while it runs.
    func reapIfExited() -> Int32? {
        ProcessRegistry.reapIfExited(pid)
    }

    /// Waits up to `timeout` for the child to exit on its own; returns its status if it did.
    ///
    /// The wait is an event, not a poll of the process table: the child's pidfd turns
    /// readable when it exits (`poll(2)` with the time left). The pid stays ours while
    /// we wait, since only ``ProcessRegistry`` reaps it. Without pidfds (Linux before
    /// 5.3, or a glibc without `pidfd_open`) it falls back to checking every 2 ms.
    func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        if let status = reapIfExited() { return status }
        if let pidfd = PidDescriptor.open(pid) {
            defer { close(pidfd) }
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, deadline.pollTimeoutMilliseconds) == -1 && lastErrno == EINTR {}
            return reapIfExited()
        }
        while true {
            if let status = reapIfExited() { return status }
            if ContinuousClock.now >= deadline { return nil }
            blockingSleep(.milliseconds(2))
        }
    }

    /// Blocks until the child reports one of the `waitid(2)` `changes`; returns the
    /// report's `si_code` (`CLD_STOPPED`, `CLD_CONTINUED`, `CLD_EXITED`, …), nil on an
    /// error (errno says which).
    func awaitChange(_ changes: Int32) -> Int32? {
        var info = siginfo_t()
        guard retryingOnInterrupt({ waitid(P_PID, id_t(pid), &info, changes) }) == 0 else { return nil }
        return info.si_code
    }

    /// SIGTERM, then SIGKILL once `gracePeriod` has passed, then reaps, so no zombie stays behind.
    func terminate(gracePeriod: Duration) {
        send(SIGTERM)
        // A stopped process keeps SIGTERM pending until it is continued.
        send(SIGCONT)
        if waitForExit(timeout: gracePeriod) != nil { return }
        send(SIGKILL)
        // SIGKILL cannot be caught or blocked, so this wait ends as soon as the kernel
        // tears it down; the bound only guards against a kernel that never does.
        while waitForExit(timeout: .seconds(10)) == nil {}
    }
}

/// `pidfd_open(2)`: a descriptor that turns readable when the process exits. glibc 2.36
/// declares it in <sys/pidfd.h>, which the Glibc module does not export, so it is looked
/// up at run time, as `posix_spawn_file_actions_addclosefrom_np` is below.
enum PidDescriptor {
    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32

    private static let pidfdOpen: PidfdOpen? = {
        guard let symbol = dlsym(nil, "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: PidfdOpen.self)
    }()

    /// A pidfd for `pid`, or nil when the system has none.
    static func open(_ pid: pid_t) -> Int32? {
        guard let pidfdOpen else { return nil }
        let descriptor = pidfdOpen(pid, 0)
        return descriptor >= 0 ? descriptor : nil
    }
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+) is not exported by the Glibc module
/// map, so it is looked up at run time. Where it is missing, the descriptors open right now are
/// closed one by one instead, which misses only descriptors opened concurrently.
enum SpawnCloseFrom {
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    private static let addCloseFrom: AddCloseFrom? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Closes every descriptor from `lowestDescriptor` up in the child; `byScan` takes the
    /// fallback even where glibc has `closefrom` (tests).
    static func add(to actions: inout posix_spawn_file_actions_t, lowestDescriptor: Int32, byScan: Bool = false) {
        if !byScan, let addCloseFrom, addCloseFrom(&actions, lowestDescriptor) == 0 { return }
        // The directory's own descriptor is listed too; closing it in the child, where it
        // is no longer open, is no error (glibc fails a close action only out of range).
        for descriptor in openDescriptors() where descriptor >= lowestDescriptor {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    /// The descriptors this process has open, from `/proc/self/fd`.
    static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var descriptors: [Int32] = []
        while let entry = readdir(directory) {
            // The name in place, up to its NUL: copying `d_name` (256 bytes) would read past
            // a short record, and past the end of readdir's buffer when the record ends it
            // (the bug in Foundation's `Process.run()`, swift-corelibs-foundation#5472).
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!)
                .assumingMemoryBound(to: CChar.self))
            if let descriptor = Int32(name) { descriptors.append(descriptor) }
        }
        return descriptors
    }
}
