/// The bounded set of values of the `db.operation.name` dimension: a command's name in
/// capitals when it is one of ``known``, else `other`; plus `PIPELINE` and `MULTI`
/// for batches. An index into ``names`` stands for a name on the per-command path,
/// so that no `String` is made per command.
enum OperationName {
    /// Redis commands common enough to be told apart in metrics.
    static let known: [String] = [
        // Strings and keys
        "GET", "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "MGET", "MSET", "MSETNX",
        "APPEND", "STRLEN", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "DECRBY", "GETRANGE", "SETRANGE",
        "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL", "PERSIST",
        "TYPE", "RENAME", "RENAMENX", "KEYS", "SCAN", "RANDOMKEY", "TOUCH", "COPY", "DUMP", "RESTORE", "OBJECT",
        // Lists
        "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LLEN", "LRANGE", "LINDEX", "LSET", "LREM",
        "LTRIM", "LINSERT", "LPOS", "LMOVE", "RPOPLPUSH", "LMPOP", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP",
        // Hashes
        "HGET", "HSET", "HSETNX", "HMSET", "HMGET", "HDEL", "HGETALL", "HKEYS", "HVALS", "HLEN", "HEXISTS",
        "HINCRBY", "HINCRBYFLOAT", "HSCAN", "HSTRLEN", "HRANDFIELD", "HGETDEL",
        // Sets and sorted sets
        "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SPOP", "SRANDMEMBER", "SSCAN",
        "SINTER", "SUNION", "SDIFF", "SMOVE",
        "ZADD", "ZREM", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGE", "ZSCORE", "ZMSCORE", "ZINCRBY", "ZCARD",
        "ZCOUNT", "ZRANK", "ZREVRANK", "ZPOPMIN", "ZPOPMAX", "BZPOPMIN", "BZPOPMAX", "ZMPOP", "BZMPOP", "ZSCAN",
        "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK",
        // Streams
        "XADD", "XREAD", "XREADGROUP", "XACK", "XRANGE", "XREVRANGE", "XLEN", "XDEL", "XTRIM", "XGROUP",
        "XPENDING", "XCLAIM", "XAUTOCLAIM", "XINFO",
        // Scripts, pub/sub, transactions, connection and server
        "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "SCRIPT", "FCALL", "FCALL_RO", "FUNCTION",
        "PUBLISH", "SPUBLISH", "SUBSCRIBE", "SSUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "SUNSUBSCRIBE", "PUNSUBSCRIBE", "PUBSUB",
        "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH",
        "PING", "ECHO", "HELLO", "AUTH", "SELECT", "CLIENT", "READONLY", "READWRITE", "ASKING",
        "INFO", "DBSIZE", "FLUSHDB", "FLUSHALL", "CONFIG", "COMMAND", "CLUSTER", "TIME", "WAIT", "MEMORY",
        "PFADD", "PFCOUNT", "PFMERGE", "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD",
        "GEOADD", "GEOSEARCH", "GEODIST", "GEOPOS",
    ]

    /// `db.operation.name` of an explicit pipeline.
    static let pipeline = known.count
    /// `db.operation.name` of a transaction: its `MULTI` command's.
    static let transaction = known.firstIndex(of: "MULTI")!
    /// `db.operation.name` of a command outside ``known``.
    static let other = known.count + 1
    /// Every value, by index.
    static let names: [String] = known + ["PIPELINE", "other"]

    /// A name of up to 16 bytes, in capitals, packed into two words: comparing and
    /// hashing it costs a few instructions, where a `String` would cost an allocation
    /// per command (and `Hasher`'s SipHash about 220 instructions, measured).
    struct Key: Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        /// The key of `bytes` in capitals, or nil past 16 bytes (none of ``known`` is).
        init?(_ bytes: UnsafeRawBufferPointer) {
            let count = bytes.count
            guard count <= 16 else { return nil }
            // A plain loop with wrapping arithmetic: `enumerated()` and a range's
            // `contains` cost about 150 instructions a name here, unspecialised.
            var offset = 0
            while offset < count {
                var byte = bytes[offset]
                // ASCII letters only: other bytes keep their value (no known name has them).
                if byte &- 0x61 < 26 { byte &-= 0x20 }
                let shift = UInt64(offset & 7) &* 8
                if offset < 8 { low |= UInt64(byte) &<< shift } else { high |= UInt64(byte) &<< shift }
                offset &+= 1
            }
        }

        /// A slot of ``table``: a multiplicative hash of both words.
        var slot: Int {
            Int(truncatingIfNeeded: ((low ^ (high &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9) >> (64 - OperationName.tableBits))
        }
    }

    /// Open addressing with linear probing, a quarter full: most lookups compare one key.
    static let tableBits: UInt64 = 10
    private static let table: [(key: Key, index: Int)?] = {
        var table = [(key: Key, index: Int)?](repeating: nil, count: 1 << tableBits)
        for (index, name) in known.enumerated() {
            let key = Array(name.utf8).withUnsafeBytes { Key($0) }!
            var slot = key.slot
            while let taken = table[slot] {
                precondition(taken.key != key, "\(name) is listed twice")
                slot = (slot + 1) & (table.count - 1)
            }
            table[slot] = (key, index)
        }
        return table
    }()

    private static func index(of key: Key) -> Int {
        var slot = key.slot
        while let entry = table[slot] {
            if entry.key == key { return entry.index }
            slot = (slot + 1) & (table.count - 1)
        }
        return other
    }

    /// The index of the first command's name in `bytes`, encoded as the client sends it;
    /// ``other`` when it is not one of ``known`` (or `bytes` hold no name).
    static func index(ofFirstCommandIn bytes: [UInt8]) -> Int {
        guard let range = EncodedCommand.firstName(bytes) else { return other }
        return index(of: bytes, range)
    }

    /// The index of the name at `range` of `bytes`.
    static func index(of bytes: [UInt8], _ range: Range<Int>) -> Int {
        guard let key = bytes.withUnsafeBytes({ Key(UnsafeRawBufferPointer(rebasing: $0[range])) }) else { return other }
        return index(of: key)
    }

    /// The index of every command's name in an encoded batch, in order.
    static func indices(ofBatch bytes: [UInt8]) -> [Int] {
        var indices: [Int] = []
        var position = 0
        while position < bytes.count, let layout = EncodedCommand.layout(bytes, at: position) {
            indices.append(index(of: bytes, layout.name))
            position = layout.end
        }
        return indices
    }
}
