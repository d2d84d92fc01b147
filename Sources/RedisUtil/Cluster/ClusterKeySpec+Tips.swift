extension ClusterKeySpec {
    /// The command tip `request_policy:…`: where a cluster client sends the command when
    /// its keys alone do not say.
    enum RequestPolicy: Sendable, Equatable {
        /// `all_nodes`: to every node, replicas included (`SCRIPT LOAD`, `CONFIG SET`).
        case allNodes
        /// `all_shards`: to every primary (`KEYS`, `DBSIZE`, `FLUSHALL`, and also
        /// `PING`, `INFO` and `WAIT`).
        case allShards
        /// `multi_shard`: a multi-key command a client may split by slot and send each
        /// part to its shard (`MGET`, `MSET`, `DEL`, `EXISTS`).
        case multiShard
        /// `special`: its own rules; in Redis 7.0 only `SCAN`, whose cursor belongs to one node.
        case special
    }

    /// The command tip `response_policy:…`: how the replies of the nodes a command
    /// went to make one reply. Without one, a keyless command's replies are collected
    /// together (arrays concatenated, in no particular order, as for `KEYS`).
    enum ResponsePolicy: Sendable, Equatable {
        /// `one_succeeded`: the first success, or an error if none succeeded (`SCRIPT KILL`).
        case oneSucceeded
        /// `all_succeeded`: any one reply if all succeeded, else an error (`FLUSHALL`).
        case allSucceeded
        /// `agg_logical_and`: element-wise AND of the integer arrays (`SCRIPT EXISTS`).
        case logicalAnd
        /// `agg_logical_or`: element-wise OR of the integer arrays.
        case logicalOr
        /// `agg_min`: the least integer (`WAIT`, `MSETNX`).
        case minimum
        /// `agg_max`: the greatest integer.
        case maximum
        /// `agg_sum`: the sum of the integers (`DBSIZE`, `DEL`).
        case sum
        /// `special`: command-specific (`INFO`, `MEMORY STATS`).
        case special
    }

    /// Reads the policies out of a command's tips, ignoring other tips
    /// (`nondeterministic_output`) and values this version does not know, which a
    /// newer server may add: the command is then routed by its keys alone.
    static func policies(tips: some Sequence<[UInt8]>) -> (request: RequestPolicy?, response: ResponsePolicy?) {
        var request: RequestPolicy?
        var response: ResponsePolicy?
        for tip in tips {
            let text = String(decoding: tip, as: UTF8.self).lowercased()
            switch text {
            case "request_policy:all_nodes": request = .allNodes
            case "request_policy:all_shards": request = .allShards
            case "request_policy:multi_shard": request = .multiShard
            case "request_policy:special": request = .special
            case "response_policy:one_succeeded": response = .oneSucceeded
            case "response_policy:all_succeeded": response = .allSucceeded
            case "response_policy:agg_logical_and": response = .logicalAnd
            case "response_policy:agg_logical_or": response = .logicalOr
            case "response_policy:agg_min": response = .minimum
            case "response_policy:agg_max": response = .maximum
            case "response_policy:agg_sum": response = .sum
            case "response_policy:special": response = .special
            default: continue
            }
        }
        return (request, response)
    }
}
