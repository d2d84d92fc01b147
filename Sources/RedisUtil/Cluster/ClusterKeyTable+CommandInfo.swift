import RESP

extension ClusterKeyTable {
    /// The table a `COMMAND` reply (every command) or `COMMAND INFO name …` reply
    /// describes, in RESP2 or RESP3, fetched once per cluster; merge it over
    /// ``builtIn`` with ``merging(_:)``.
    ///
    /// A null in place of an entry (`COMMAND INFO` of an unknown name) is skipped. A
    /// malformed entry, or subcommand, is left out and listed in `rejected`, so that
    /// the rest still routes; only a reply that is no list of entries throws.
    static func parse(commandReply reply: RESPValue) throws(ClusterKeySpecError) -> (table: ClusterKeyTable, rejected: [ClusterKeySpecError]) {
        guard let values = reply.withoutAttributes.array else {
            throw .notACommandList(reply.withoutAttributes.kind)
        }
        var rejected: [ClusterKeySpecError] = []
        let table = ClusterKeyTable(entries(values, rejected: &rejected))
        return (table, rejected)
    }

    /// The entries of `values`, subcommands in tables of their own.
    private static func entries(_ values: [RESPValue], rejected: inout [ClusterKeySpecError]) -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(values.count)
        for value in values where !value.isNull {
            do throws(ClusterKeySpecError) {
                let (name, spec, subcommandValues) = try ClusterKeySpec.parse(commandInfo: value)
                var subcommands: ClusterKeyTable?
                if !subcommandValues.isEmpty {
                    let named = Self.entries(subcommandValues, rejected: &rejected).map { subcommand in
                        // `xinfo|stream` is filed under `stream`: the lookup meets the
                        // container and its subcommand as two arguments.
                        var subcommand = subcommand
                        if let bar = subcommand.name.firstIndex(of: UInt8(ascii: "|")) {
                            subcommand.name = Array(subcommand.name[(bar + 1)...])
                        }
                        return subcommand
                    }
                    subcommands = ClusterKeyTable(named)
                }
                entries.append(Entry(name: name, spec: spec, subcommands: subcommands))
            } catch {
                rejected.append(error)
            }
        }
        return entries
    }
}
