/// Key specs for the commands this library sends, and the common commands of every
/// data type, copied from Redis 7.0's `COMMAND` reply: routing works before that reply
/// arrives, and when it cannot be fetched. `ClusterKeySpecServerTests` checks every
/// entry against the server's own.
///
/// Commands not listed here route as ``ClusterCommandSlot/unknownCommand`` until the
/// server's table (``parse(commandReply:)``) is merged over this one.
extension ClusterKeyTable {
    /// The built-in table, made once.
    static let builtIn = ClusterKeyTable([
        // Strings and keys
        readOnly("get", .key(at: 1)),
        command("set", .key(at: 1)),
        command("getdel", .key(at: 1)),
        command("getex", .key(at: 1)),
        command("getset", .key(at: 1)),
        command("setex", .key(at: 1)),
        command("psetex", .key(at: 1)),
        command("setnx", .key(at: 1)),
        readOnly("mget", .keys(from: 1), request: .multiShard),
        command("mset", .keys(from: 1, step: 2), request: .multiShard, response: .allSucceeded),
        command("msetnx", .keys(from: 1, step: 2), request: .multiShard, response: .minimum),
        command("incr", .key(at: 1)),
        command("incrby", .key(at: 1)),
        command("incrbyfloat", .key(at: 1)),
        command("decr", .key(at: 1)),
        command("decrby", .key(at: 1)),
        command("append", .key(at: 1)),
        readOnly("strlen", .key(at: 1)),
        readOnly("getrange", .key(at: 1)),
        command("setrange", .key(at: 1)),
        readOnly("lcs", .keys(from: 1, lastKey: 1)),
        command("del", .keys(from: 1), request: .multiShard, response: .sum),
        command("unlink", .keys(from: 1), request: .multiShard, response: .sum),
        readOnly("exists", .keys(from: 1), request: .multiShard, response: .sum),
        readOnly("touch", .keys(from: 1), request: .multiShard, response: .sum),
        readOnly("type", .key(at: 1)),
        command("rename", .key(at: 1), .key(at: 2)),
        command("renamenx", .key(at: 1), .key(at: 2)),
        command("copy", .key(at: 1), .key(at: 2)),
        command("expire", .key(at: 1)),
        command("pexpire", .key(at: 1)),
        command("expireat", .key(at: 1)),
        command("pexpireat", .key(at: 1)),
        command("persist", .key(at: 1)),
        readOnly("ttl", .key(at: 1)),
        readOnly("pttl", .key(at: 1)),
        readOnly("expiretime", .key(at: 1)),
        container("object", [
            readOnly("encoding", .key(at: 2)),
            readOnly("freq", .key(at: 2)),
            readOnly("idletime", .key(at: 2)),
            readOnly("refcount", .key(at: 2)),
        ]),
        readOnly("dump", .key(at: 1)),
        command("restore", .key(at: 1)),
        command("sort", .key(at: 1), .unknown, .unknown, procedure: .sort),
        readOnly("sort_ro", .key(at: 1), .unknown),
        command("migrate", .key(at: 3), .incomplete(.after("KEYS", from: -2, lastKey: -1)), procedure: .migrate),
        // Lists
        command("rpush", .key(at: 1)),
        command("lpush", .key(at: 1)),
        command("rpushx", .key(at: 1)),
        command("lpushx", .key(at: 1)),
        command("lpop", .key(at: 1)),
        command("rpop", .key(at: 1)),
        readOnly("llen", .key(at: 1)),
        readOnly("lrange", .key(at: 1)),
        readOnly("lindex", .key(at: 1)),
        command("lset", .key(at: 1)),
        command("linsert", .key(at: 1)),
        command("lrem", .key(at: 1)),
        command("ltrim", .key(at: 1)),
        readOnly("lpos", .key(at: 1)),
        command("lmove", .key(at: 1), .key(at: 2)),
        command("blmove", .key(at: 1), .key(at: 2)),
        command("lmpop", .counted(at: 1)),
        command("blmpop", .counted(at: 2)),
        command("blpop", .keys(from: 1, lastKey: -2)),
        command("brpop", .keys(from: 1, lastKey: -2)),
        command("rpoplpush", .key(at: 1), .key(at: 2)),
        command("brpoplpush", .key(at: 1), .key(at: 2)),
        // Hashes
        command("hset", .key(at: 1)),
        command("hsetnx", .key(at: 1)),
        command("hmset", .key(at: 1)),
        readOnly("hget", .key(at: 1)),
        readOnly("hmget", .key(at: 1)),
        readOnly("hgetall", .key(at: 1)),
        command("hdel", .key(at: 1)),
        readOnly("hexists", .key(at: 1)),
        readOnly("hlen", .key(at: 1)),
        readOnly("hkeys", .key(at: 1)),
        readOnly("hvals", .key(at: 1)),
        command("hincrby", .key(at: 1)),
        command("hincrbyfloat", .key(at: 1)),
        readOnly("hstrlen", .key(at: 1)),
        readOnly("hrandfield", .key(at: 1)),
        readOnly("hscan", .key(at: 1)),
        // Sets
        command("sadd", .key(at: 1)),
        command("srem", .key(at: 1)),
        readOnly("smembers", .key(at: 1)),
        readOnly("sismember", .key(at: 1)),
        readOnly("smismember", .key(at: 1)),
        readOnly("scard", .key(at: 1)),
        command("spop", .key(at: 1)),
        readOnly("srandmember", .key(at: 1)),
        command("smove", .key(at: 1), .key(at: 2)),
        readOnly("sinter", .keys(from: 1)),
        readOnly("sunion", .keys(from: 1)),
        readOnly("sdiff", .keys(from: 1)),
        command("sinterstore", .key(at: 1), .keys(from: 2)),
        command("sunionstore", .key(at: 1), .keys(from: 2)),
        command("sdiffstore", .key(at: 1), .keys(from: 2)),
        readOnly("sintercard", .counted(at: 1)),
        readOnly("sscan", .key(at: 1)),
        // Sorted sets
        command("zadd", .key(at: 1)),
        command("zrem", .key(at: 1)),
        command("zincrby", .key(at: 1)),
        readOnly("zscore", .key(at: 1)),
        readOnly("zmscore", .key(at: 1)),
        readOnly("zcard", .key(at: 1)),
        readOnly("zcount", .key(at: 1)),
        readOnly("zrank", .key(at: 1)),
        readOnly("zrevrank", .key(at: 1)),
        readOnly("zrange", .key(at: 1)),
        readOnly("zrangebyscore", .key(at: 1)),
        readOnly("zrevrange", .key(at: 1)),
        readOnly("zrevrangebyscore", .key(at: 1)),
        command("zrangestore", .key(at: 1), .key(at: 2)),
        command("zremrangebyscore", .key(at: 1)),
        command("zremrangebyrank", .key(at: 1)),
        command("zpopmin", .key(at: 1)),
        command("zpopmax", .key(at: 1)),
        command("bzpopmin", .keys(from: 1, lastKey: -2)),
        command("bzpopmax", .keys(from: 1, lastKey: -2)),
        command("zmpop", .counted(at: 1)),
        command("bzmpop", .counted(at: 2)),
        readOnly("zunion", .counted(at: 1)),
        readOnly("zinter", .counted(at: 1)),
        readOnly("zdiff", .counted(at: 1)),
        command("zunionstore", .key(at: 1), .counted(at: 2)),
        command("zinterstore", .key(at: 1), .counted(at: 2)),
        command("zdiffstore", .key(at: 1), .counted(at: 2)),
        readOnly("zintercard", .counted(at: 1)),
        readOnly("zscan", .key(at: 1)),
        // Streams
        command("xadd", .key(at: 1)),
        readOnly("xlen", .key(at: 1)),
        readOnly("xrange", .key(at: 1)),
        readOnly("xrevrange", .key(at: 1)),
        command("xdel", .key(at: 1)),
        command("xtrim", .key(at: 1)),
        command("xack", .key(at: 1)),
        readOnly("xpending", .key(at: 1)),
        command("xclaim", .key(at: 1)),
        command("xautoclaim", .key(at: 1)),
        readOnly("xread", .after("STREAMS", from: 1, lastKey: -1, limit: 2)),
        command("xreadgroup", .after("STREAMS", from: 4, lastKey: -1, limit: 2)),
        container("xgroup", [
            command("create", .key(at: 2)),
            command("createconsumer", .key(at: 2)),
            command("delconsumer", .key(at: 2)),
            command("destroy", .key(at: 2)),
            command("setid", .key(at: 2)),
        ]),
        container("xinfo", [
            readOnly("stream", .key(at: 2)),
            readOnly("groups", .key(at: 2)),
            readOnly("consumers", .key(at: 2)),
        ]),
        // Scripts and functions
        command("eval", .counted(at: 2)),
        command("evalsha", .counted(at: 2)),
        readOnly("eval_ro", .counted(at: 2)),
        readOnly("evalsha_ro", .counted(at: 2)),
        command("fcall", .counted(at: 2)),
        readOnly("fcall_ro", .counted(at: 2)),
        container("script", [
            command("load", request: .allNodes, response: .allSucceeded),
            command("exists", request: .allShards, response: .logicalAnd),
            command("flush", request: .allNodes, response: .allSucceeded),
            command("kill", request: .allShards, response: .oneSucceeded),
        ]),
        // Publish and subscribe
        command("publish"),
        command("spublish", .channels(from: 1, lastKey: 0)),
        command("subscribe"),
        command("psubscribe"),
        command("unsubscribe"),
        command("punsubscribe"),
        command("ssubscribe", .channels(from: 1, lastKey: -1)),
        command("sunsubscribe", .channels(from: 1, lastKey: -1)),
        // Keyspace-wide and connection
        readOnly("scan", request: .special),
        readOnly("keys", request: .allShards),
        readOnly("dbsize", request: .allShards, response: .sum),
        readOnly("randomkey", request: .allShards),
        command("flushall", request: .allShards, response: .allSucceeded),
        command("flushdb", request: .allShards, response: .allSucceeded),
        command("ping", request: .allShards, response: .allSucceeded),
        command("echo"),
        command("info", request: .allShards, response: .special),
        command("wait", request: .allShards, response: .minimum),
        command("hello"),
        command("auth"),
        command("select"),
        container("client", [
            command("setname"),
            command("getname"),
            command("id"),
            command("info"),
            command("list"),
            command("unblock"),
        ]),
        command("multi"),
        command("exec"),
        command("discard"),
        command("watch", .keys(from: 1)),
        command("unwatch"),

    ])

    private typealias KeyRule = ClusterKeySpec.KeyRule
    private typealias RequestPolicy = ClusterKeySpec.RequestPolicy
    private typealias ResponsePolicy = ClusterKeySpec.ResponsePolicy

    /// A command with the flag `readonly`.
    private static func readOnly(
        _ name: String, _ rules: KeyRule..., request: RequestPolicy? = nil, response: ResponsePolicy? = nil
    ) -> Entry {
        Entry(name: Array(name.utf8), spec: ClusterKeySpec(keyRules: rules, isReadOnly: true, requestPolicy: request, responsePolicy: response))
    }

    /// A command without the flag `readonly`.
    private static func command(
        _ name: String, _ rules: KeyRule..., request: RequestPolicy? = nil, response: ResponsePolicy? = nil,
        procedure: ClusterKeySpec.KeyProcedure? = nil
    ) -> Entry {
        Entry(name: Array(name.utf8), spec: ClusterKeySpec(keyRules: rules, procedure: procedure, requestPolicy: request, responsePolicy: response))
    }

    /// A container command (keyless itself, without tips in Redis 7.0) and the subcommands listed.
    private static func container(_ name: String, _ subcommands: [Entry]) -> Entry {
        Entry(name: Array(name.utf8), spec: ClusterKeySpec(), subcommands: ClusterKeyTable(subcommands))
    }
}

extension ClusterKeySpec.KeyRule {
    /// `rule`, with the spec flag `incomplete`.
    fileprivate static func incomplete(_ rule: Self) -> Self {
        var rule = rule
        rule.isIncomplete = true
        return rule
    }
}
