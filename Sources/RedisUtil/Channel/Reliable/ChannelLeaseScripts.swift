/// The Lua scripts of leased delivery. Each is atomic on the server and one round trip;
/// every key a script touches is passed in `KEYS` and lies in one slot
/// (``ChannelLeaseKeys``). Lease moments come from the server's own clock (`TIME`), so
/// workers on machines whose clocks disagree still agree on when a lease ends.
///
/// An in-flight entry is `"<deliveries> <message>"`: the count is digits, so the first
/// space ends it and the message after it is kept byte for byte.
enum ChannelLeaseScripts {
    /// Hands expired leases back to the head of the list, then leases up to `count`
    /// messages: first those a blocked receiver moved to `pending`, then the list's head.
    ///
    /// KEYS: list, pending, inflight, leases, redelivered.
    /// ARGV: count, lease (ms), expiry of the keys (ms; 0: none).
    /// Returns `{next, id1, deliveries1, message1, …}`; when nothing was leased, `next` is
    /// how many ms remain until the earliest lease still held ends (-1: none held, or
    /// something was leased), for a receiver's wait. `LPOP key count`: Redis 6.2+.
    static let lease = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local expiry = tonumber(ARGV[3])
        local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
        for i = #expired, 1, -1 do
          local id = expired[i]
          local entry = redis.call('HGET', KEYS[3], id)
          if entry then
            local cut = string.find(entry, ' ', 1, true)
            local message = string.sub(entry, cut + 1)
            redis.call('LPUSH', KEYS[1], message)
            redis.call('HSET', KEYS[5], redis.sha1hex(message), string.sub(entry, 1, cut - 1))
            redis.call('HDEL', KEYS[3], id)
          end
          redis.call('ZREM', KEYS[4], id)
        end
        if #expired > 0 and expiry > 0 then
          if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], expiry) end
          redis.call('PEXPIRE', KEYS[5], expiry)
        end
        local count = tonumber(ARGV[1])
        local messages = redis.call('LPOP', KEYS[2], count) or {}
        if #messages < count then
          local more = redis.call('LPOP', KEYS[1], count - #messages)
          if more then for i = 1, #more do messages[#messages + 1] = more[i] end end
        end
        local result = {-1}
        if #messages > 0 then
          local counted = redis.call('EXISTS', KEYS[5]) == 1
          local last = redis.call('HINCRBY', KEYS[3], '#', #messages)
          local entries, scores = {}, {}
          local ends = now + tonumber(ARGV[2])
          for i = 1, #messages do
            local message = messages[i]
            local deliveries = 1
            if counted then
              local sha = redis.sha1hex(message)
              local before = redis.call('HGET', KEYS[5], sha)
              if before then
                deliveries = tonumber(before) + 1
                redis.call('HDEL', KEYS[5], sha)
              end
            end
            local id = now .. '-' .. (last - #messages + i)
            entries[#entries + 1] = id
            entries[#entries + 1] = deliveries .. ' ' .. message
            scores[#scores + 1] = ends
            scores[#scores + 1] = id
            result[#result + 1] = id
            result[#result + 1] = deliveries
            result[#result + 1] = message
          end
          redis.call('HSET', KEYS[3], unpack(entries))
          redis.call('ZADD', KEYS[4], unpack(scores))
          if expiry > 0 then
            redis.call('PEXPIRE', KEYS[3], expiry)
            redis.call('PEXPIRE', KEYS[4], expiry)
          end
        else
          -- Only an idle receiver uses this: how long until it must reclaim.
          local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
          if first[2] then result[1] = math.max(0, tonumber(first[2]) - now) end
        end
        return result
        """)

    /// Hands a leased message back to the head of the list at once.
    /// KEYS: list, inflight, leases, redelivered. ARGV: lease id, expiry (ms; 0: none).
    /// Returns 1, or 0 when the lease was no longer held.
    static let release = RedisScript("""
        local entry = redis.call('HGET', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        if not entry then return 0 end
        local cut = string.find(entry, ' ', 1, true)
        local message = string.sub(entry, cut + 1)
        redis.call('LPUSH', KEYS[1], message)
        redis.call('HSET', KEYS[4], redis.sha1hex(message), string.sub(entry, 1, cut - 1))
        redis.call('HDEL', KEYS[2], ARGV[1])
        local expiry = tonumber(ARGV[2])
        if expiry > 0 then
          if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], expiry) end
          redis.call('PEXPIRE', KEYS[4], expiry)
        end
        return 1
        """)

    /// Moves a lease's end to `ms` from now. KEYS: inflight, leases. ARGV: lease id, ms.
    /// Returns 1, or 0 when the lease was no longer held.
    static let extend = RedisScript("""
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
        return 1
        """)

    /// Ends a lease by moving its message to the dead letters (as the JSON entry built by
    /// the caller). KEYS: inflight, leases, dead. ARGV: lease id, entry, expiry (ms; 0:
    /// none). Returns 1, or 0 when the lease was no longer held.
    static let deadLetter = RedisScript("""
        local held = redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        if held == 0 then return 0 end
        redis.call('RPUSH', KEYS[3], ARGV[2])
        local expiry = tonumber(ARGV[3])
        if expiry > 0 then redis.call('PEXPIRE', KEYS[3], expiry) end
        return 1
        """)

    /// Takes dead letters back to the tail of the list, each only if it is still a dead
    /// letter (another operator may have re-queued it). KEYS: dead, list, redelivered.
    /// ARGV: entry1, message1, entry2, message2, …, expiry (ms; 0: none) last.
    /// Returns how many were re-queued.
    static let requeue = RedisScript("""
        local moved = 0
        local expiry = tonumber(ARGV[#ARGV])
        for i = 1, #ARGV - 1, 2 do
          if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
            redis.call('RPUSH', KEYS[2], ARGV[i + 1])
            redis.call('HDEL', KEYS[3], redis.sha1hex(ARGV[i + 1]))
            moved = moved + 1
          end
        end
        if moved > 0 and expiry > 0 and redis.call('PTTL', KEYS[2]) == -1 then
          redis.call('PEXPIRE', KEYS[2], expiry)
        end
        return moved
        """)
}
