import Glibc

/// Resolves the redis-server binary the way a shell would.
enum ExecutableLocator {
    /// `name` itself when it contains a slash, else the first executable `<dir>/<name>` on
    /// `searchPath` (a `$PATH`-style list); nil when there is none.
    static func locate(_ name: String, searchPath: String) -> String? {
        if name.contains("/") {
            return isExecutable(name) ? name : nil
        }
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            // An empty entry means the current directory, as in POSIX sh.
            let candidate = directory.isEmpty ? "./\(name)" : "\(directory)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
