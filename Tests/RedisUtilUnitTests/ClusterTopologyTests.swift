@testable import RedisUtil
import RESP
import Testing
import TestSupport

private typealias Node = ClusterTopology.Node

/// Replies of redis 7.0.15 from local clusters started by hand (`redis-server
/// --cluster-enabled yes` on six ports, `redis-cli --cluster create … --cluster-replicas 1`),
/// read off the socket byte for byte. Written as the wire with each CRLF shown as a space
/// or a line break; `$0`'s empty payload is implied (see ``wire(_:)``).
private enum ClusterReplyFixtures {
    /// `CLUSTER SHARDS` after `HELLO 3`: three primaries (30611-30613), a replica each (30614-30616).
    static let shardsRESP3 = """
        *3 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28
        $6 health $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        %2 $5 slots *2 :10923 :16383 $5 nodes *2 %7 $2 id $40 e2b6617d6be2993e14d6676101ebd931704d1851 $4
        port :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28
        $6 health $6 online %7 $2 id $40 289d374a60b53db6efee95f993954aa210acdede $4 port :30616 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        %2 $5 slots *2 :0 :5460 $5 nodes *2 %7 $2 id $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port
        :30611 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28 $6
        health $6 online %7 $2 id $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        """

    /// The same `CLUSTER SHARDS` in RESP2: maps are flat key/value arrays.
    static let shardsRESP2 = """
        *3 *4 $5 slots *2 :5461 :10922 $5 nodes *2 *14 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28
        $6 health $6 online *14 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        *4 $5 slots *2 :10923 :16383 $5 nodes *2 *14 $2 id $40 e2b6617d6be2993e14d6676101ebd931704d1851 $4
        port :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28
        $6 health $6 online *14 $2 id $40 289d374a60b53db6efee95f993954aa210acdede $4 port :30616 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        *4 $5 slots *2 :0 :5460 $5 nodes *2 *14 $2 id $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port
        :30611 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :28 $6
        health $6 online *14 $2 id $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :28 $6 health $6 online
        """

    /// `CLUSTER SLOTS` of the same cluster in RESP2: empty metadata as `*0`.
    static let slotsRESP2 = """
        *3 *4 :0 :5460 *4 $9 127.0.0.1 :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 *0 *4 $9
        127.0.0.1 :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 *0 *4 :5461 :10922 *4 $9 127.0.0.1
        :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 *0 *4 $9 127.0.0.1 :30615 $40
        efdc8d172a35226c54b1278de1efc63779ccc94a *0 *4 :10923 :16383 *4 $9 127.0.0.1 :30613 $40
        e2b6617d6be2993e14d6676101ebd931704d1851 *0 *4 $9 127.0.0.1 :30616 $40
        289d374a60b53db6efee95f993954aa210acdede *0
        """

    /// `CLUSTER SLOTS` of the same cluster in RESP3: empty metadata as `%0`.
    static let slotsRESP3 = """
        *3 *4 :0 :5460 *4 $9 127.0.0.1 :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 %0 *4 $9
        127.0.0.1 :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 %0 *4 :5461 :10922 *4 $9 127.0.0.1
        :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 %0 *4 $9 127.0.0.1 :30615 $40
        efdc8d172a35226c54b1278de1efc63779ccc94a %0 *4 :10923 :16383 *4 $9 127.0.0.1 :30613 $40
        e2b6617d6be2993e14d6676101ebd931704d1851 %0 *4 $9 127.0.0.1 :30616 $40
        289d374a60b53db6efee95f993954aa210acdede %0
        """

    /// After `SHUTDOWN` of replica 30616 and the node timeout: its health is `fail`. Two primaries
    /// have `cluster-announce-hostname` set, which adds a `hostname` field (the endpoint stays the IP).
    static let failedReplicaShards = """
        *3 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset
        :294 $6 health $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip
        $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :294 $6 health $6
        online %2 $5 slots *2 :10923 :16383 $5 nodes *2 %8 $2 id $40
        e2b6617d6be2993e14d6676101ebd931704d1851 $4 port :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1
        $8 hostname $9 localhost $4 role $6 master $18 replication-offset :266 $6 health $6 online %7 $2 id
        $40 289d374a60b53db6efee95f993954aa210acdede $4 port :30616 $2 ip $9 127.0.0.1 $8 endpoint $9
        127.0.0.1 $4 role $7 replica $18 replication-offset :266 $6 health $4 fail %2 $5 slots *2 :0 :5460
        $5 nodes *2 %8 $2 id $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port :30611 $2 ip $9 127.0.0.1
        $8 endpoint $9 127.0.0.1 $8 hostname $14 node-a.example $4 role $6 master $18 replication-offset
        :347 $6 health $6 online %7 $2 id $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip
        $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :347 $6 health $6
        online
        """

    /// `CLUSTER SLOTS` in the same state: the failed replica is left out; the hostname is metadata.
    static let failedReplicaSlots = """
        *3 *4 :0 :5460 *4 $9 127.0.0.1 :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 %1 $8 hostname
        $14 node-a.example *4 $9 127.0.0.1 :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 %0 *4 :5461
        :10922 *4 $9 127.0.0.1 :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 %0 *4 $9 127.0.0.1 :30615
        $40 efdc8d172a35226c54b1278de1efc63779ccc94a %0 *3 :10923 :16383 *4 $9 127.0.0.1 :30613 $40
        e2b6617d6be2993e14d6676101ebd931704d1851 %1 $8 hostname $9 localhost
        """

    /// `cluster-preferred-endpoint-type hostname`: nodes without a hostname have endpoint `?`.
    static let hostnameShards = """
        *3 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $1 ? $4 role $6 master $18 replication-offset :84 $6
        health $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip $9
        127.0.0.1 $8 endpoint $1 ? $4 role $7 replica $18 replication-offset :98 $6 health $6 online %2 $5
        slots *2 :10923 :16383 $5 nodes *2 %8 $2 id $40 e2b6617d6be2993e14d6676101ebd931704d1851 $4 port
        :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 localhost $8 hostname $9 localhost $4 role $6 master $18
        replication-offset :98 $6 health $6 online %7 $2 id $40 289d374a60b53db6efee95f993954aa210acdede $4
        port :30616 $2 ip $9 127.0.0.1 $8 endpoint $1 ? $4 role $7 replica $18 replication-offset :84 $6
        health $6 online %2 $5 slots *2 :0 :5460 $5 nodes *2 %8 $2 id $40
        797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port :30611 $2 ip $9 127.0.0.1 $8 endpoint $14
        node-a.example $8 hostname $14 node-a.example $4 role $6 master $18 replication-offset :98 $6 health
        $6 online %7 $2 id $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip $9 127.0.0.1 $8
        endpoint $1 ? $4 role $7 replica $18 replication-offset :98 $6 health $6 online
        """

    /// `CLUSTER SLOTS` in the same state: the host is the hostname or `?`.
    static let hostnameSlots = """
        *3 *4 :0 :5460 *4 $14 node-a.example :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 %1 $2 ip $9
        127.0.0.1 *4 $1 ? :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 %1 $2 ip $9 127.0.0.1 *4 :5461
        :10922 *4 $1 ? :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 %1 $2 ip $9 127.0.0.1 *4 $1 ?
        :30615 $40 efdc8d172a35226c54b1278de1efc63779ccc94a %1 $2 ip $9 127.0.0.1 *4 :10923 :16383 *4 $9
        localhost :30613 $40 e2b6617d6be2993e14d6676101ebd931704d1851 %1 $2 ip $9 127.0.0.1 *4 $1 ? :30616
        $40 289d374a60b53db6efee95f993954aa210acdede %1 $2 ip $9 127.0.0.1
        """

    /// `cluster-preferred-endpoint-type unknown-endpoint`: every endpoint is empty.
    static let unknownEndpointShards = """
        *3 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $0 $4 role $6 master $18 replication-offset :70 $6 health
        $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip $9 127.0.0.1 $8
        endpoint $0 $4 role $7 replica $18 replication-offset :70 $6 health $6 online %2 $5 slots *2 :10923
        :16383 $5 nodes *2 %7 $2 id $40 e2b6617d6be2993e14d6676101ebd931704d1851 $4 port :30613 $2 ip $9
        127.0.0.1 $8 endpoint $0 $4 role $6 master $18 replication-offset :70 $6 health $6 online %7 $2 id
        $40 289d374a60b53db6efee95f993954aa210acdede $4 port :30616 $2 ip $9 127.0.0.1 $8 endpoint $0 $4
        role $7 replica $18 replication-offset :70 $6 health $6 online %2 $5 slots *2 :0 :5460 $5 nodes *2
        %7 $2 id $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port :30611 $2 ip $9 127.0.0.1 $8 endpoint
        $0 $4 role $6 master $18 replication-offset :70 $6 health $6 online %7 $2 id $40
        62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip $9 127.0.0.1 $8 endpoint $0 $4 role $7
        replica $18 replication-offset :70 $6 health $6 online
        """

    /// `CLUSTER SLOTS` in the same state, RESP3: the host is null (`_`), the IP is metadata.
    static let unknownEndpointSlotsRESP3 = """
        *3 *4 :0 :5460 *4 _ :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 %1 $2 ip $9 127.0.0.1 *4 _
        :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 %1 $2 ip $9 127.0.0.1 *4 :5461 :10922 *4 _
        :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 %1 $2 ip $9 127.0.0.1 *4 _ :30615 $40
        efdc8d172a35226c54b1278de1efc63779ccc94a %1 $2 ip $9 127.0.0.1 *4 :10923 :16383 *4 _ :30613 $40
        e2b6617d6be2993e14d6676101ebd931704d1851 %1 $2 ip $9 127.0.0.1 *4 _ :30616 $40
        289d374a60b53db6efee95f993954aa210acdede %1 $2 ip $9 127.0.0.1
        """

    /// The same in RESP2: the host is a null bulk string.
    static let unknownEndpointSlotsRESP2 = """
        *3 *4 :0 :5460 *4 $-1 :30611 $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 *2 $2 ip $9 127.0.0.1 *4
        $-1 :30614 $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 *2 $2 ip $9 127.0.0.1 *4 :5461 :10922 *4 $-1
        :30612 $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 *2 $2 ip $9 127.0.0.1 *4 $-1 :30615 $40
        efdc8d172a35226c54b1278de1efc63779ccc94a *2 $2 ip $9 127.0.0.1 *4 :10923 :16383 *4 $-1 :30613 $40
        e2b6617d6be2993e14d6676101ebd931704d1851 *2 $2 ip $9 127.0.0.1 *4 $-1 :30616 $40
        289d374a60b53db6efee95f993954aa210acdede *2 $2 ip $9 127.0.0.1
        """

    /// A TLS cluster (`tls-cluster yes`, three primaries): each node has `port` and `tls-port`.
    static let tlsShards = """
        *3 %2 $5 slots *2 :0 :5460 $5 nodes *1 %8 $2 id $40 499db33f3f0f68347feef92b61a2eb373d849c83 $4 port
        :30631 $8 tls-port :30621 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18
        replication-offset :0 $6 health $6 online %2 $5 slots *2 :5461 :10922 $5 nodes *1 %8 $2 id $40
        6b489e5772e6ee22381fcd12b96415a5a087685b $4 port :30632 $8 tls-port :30622 $2 ip $9 127.0.0.1 $8
        endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :0 $6 health $6 online %2 $5 slots *2
        :10923 :16383 $5 nodes *1 %8 $2 id $40 71bb4a92791bfe80b8672d92b07b157fa1f47198 $4 port :30633 $8
        tls-port :30623 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset
        :0 $6 health $6 online
        """

    /// Seconds after `redis-cli --cluster create`: replicas `loading` (offset 0), and 30616,
    /// not yet a replica, a primary of a shard without slots.
    static let formingShards = """
        *4 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :0
        $6 health $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip $9
        127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :0 $6 health $7 loading
        %2 $5 slots *2 :10923 :16383 $5 nodes *1 %7 $2 id $40 e2b6617d6be2993e14d6676101ebd931704d1851 $4
        port :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset :0
        $6 health $6 online %2 $5 slots *0 $5 nodes *1 %7 $2 id $40 289d374a60b53db6efee95f993954aa210acdede
        $4 port :30616 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset
        :0 $6 health $6 online %2 $5 slots *2 :0 :5460 $5 nodes *2 %7 $2 id $40
        797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port :30611 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1
        $4 role $6 master $18 replication-offset :0 $6 health $6 online %7 $2 id $40
        62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1
        $4 role $7 replica $18 replication-offset :0 $6 health $7 loading
        """

    /// After `SHUTDOWN` of primary 30613 (its replica already down): the primary is `fail`.
    static let failedPrimaryShards = """
        *3 %2 $5 slots *2 :5461 :10922 $5 nodes *2 %7 $2 id $40 48ff04ecb54b14f8fb41dd0e147d6c6488db6520 $4
        port :30612 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $6 master $18 replication-offset
        :350 $6 health $6 online %7 $2 id $40 efdc8d172a35226c54b1278de1efc63779ccc94a $4 port :30615 $2 ip
        $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :350 $6 health $6
        online %2 $5 slots *2 :10923 :16383 $5 nodes *2 %8 $2 id $40
        e2b6617d6be2993e14d6676101ebd931704d1851 $4 port :30613 $2 ip $9 127.0.0.1 $8 endpoint $9 127.0.0.1
        $8 hostname $9 localhost $4 role $6 master $18 replication-offset :266 $6 health $4 fail %7 $2 id
        $40 289d374a60b53db6efee95f993954aa210acdede $4 port :30616 $2 ip $9 127.0.0.1 $8 endpoint $9
        127.0.0.1 $4 role $7 replica $18 replication-offset :266 $6 health $4 fail %2 $5 slots *2 :0 :5460
        $5 nodes *2 %8 $2 id $40 797639bbec3d6b62ad581f75dfcf2b845c03eb27 $4 port :30611 $2 ip $9 127.0.0.1
        $8 endpoint $9 127.0.0.1 $8 hostname $14 node-a.example $4 role $6 master $18 replication-offset
        :403 $6 health $6 online %7 $2 id $40 62cc53941859a0d5d4344327bc89e820c1a9bc24 $4 port :30614 $2 ip
        $9 127.0.0.1 $8 endpoint $9 127.0.0.1 $4 role $7 replica $18 replication-offset :403 $6 health $6
        online
        """

}

/// The reply `text` stands for, parsed by the client's own RESP parser: each token (split
/// at spaces and line breaks) is one CRLF-terminated line, and `$0` is followed by the
/// empty line of its payload.
private func wire(_ text: String) throws -> RESPValue {
    var bytes: [UInt8] = []
    for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        bytes += Array(token.utf8) + [13, 10]
        if token == "$0" { bytes += [13, 10] }
    }
    var parser = RESPParser()
    parser.feed(bytes)
    let value = try #require(try parser.next())
    #expect(parser.bufferedByteCount == 0, "the fixture holds more than one reply")
    return value
}

/// The node ids of the six-node cluster of the fixtures.
private enum ID {
    /// 127.0.0.1:30611, primary of slots 0...5460.
    static let p1 = "797639bbec3d6b62ad581f75dfcf2b845c03eb27"
    /// 127.0.0.1:30612, primary of slots 5461...10922.
    static let p2 = "48ff04ecb54b14f8fb41dd0e147d6c6488db6520"
    /// 127.0.0.1:30613, primary of slots 10923...16383.
    static let p3 = "e2b6617d6be2993e14d6676101ebd931704d1851"
    /// 127.0.0.1:30614, replica of p1.
    static let r1 = "62cc53941859a0d5d4344327bc89e820c1a9bc24"
    /// 127.0.0.1:30615, replica of p2.
    static let r2 = "efdc8d172a35226c54b1278de1efc63779ccc94a"
    /// 127.0.0.1:30616, replica of p3.
    static let r3 = "289d374a60b53db6efee95f993954aa210acdede"
}

private typealias Fixture = ClusterReplyFixtures

private func shardsMap(_ text: String, answeredBy host: String = "127.0.0.1", preferTLS: Bool = false) throws -> ClusterTopology {
    try ClusterTopology(shardsReply: wire(text), answeredBy: host, preferTLS: preferTLS)
}

private func slotsMap(_ text: String, answeredBy host: String = "127.0.0.1", preferTLS: Bool = false) throws -> ClusterTopology {
    try ClusterTopology(slotsReply: wire(text), answeredBy: host, preferTLS: preferTLS)
}

private func local(_ port: Int) -> ClusterNodeAddress {
    ClusterNodeAddress(host: "127.0.0.1", port: port)
}

@Suite("The slot map, from CLUSTER SHARDS and CLUSTER SLOTS")
struct ClusterTopologyTests {
    @Test("three primaries with a replica each, from RESP3 CLUSTER SHARDS")
    func healthyCluster() throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        #expect(map.isComplete)
        #expect(map.coveredSlotCount == 16384)
        #expect(map.primaries.map(\.id) == [ID.p1, ID.p2, ID.p3])
        #expect(map.primaries.map(\.address) == [local(30611), local(30612), local(30613)])
        #expect(map.shards.map { $0.replicas.map(\.id) } == [[ID.r1], [ID.r2], [ID.r3]])
        #expect((0..<3).map { map.slotRanges(ofShard: $0) } == [[0...5460], [5461...10922], [10923...16383]])
        #expect(map.allNodes.map(\.port) == [30611, 30614, 30612, 30615, 30613, 30616])
        #expect(map.allNodes.map(\.role) == [.primary, .replica, .primary, .replica, .primary, .replica])
        #expect(map.shards[0].primary == Node(
            id: ID.p1, host: "127.0.0.1", port: 30611, plaintextPort: 30611, tlsPort: nil,
            role: .primary, health: .online, replicationOffset: 28))
        #expect(map.allNodes.allSatisfy { $0.replicationOffset == 28 && $0.health == .online })
        // The server answered GET foo with MOVED 12182 127.0.0.1:30613.
        #expect(HashSlot.of("foo") == 12182)
        #expect(map.owner(ofSlot: 12182)?.address == local(30613))
        #expect(map.replicas(ofSlot: 12182).map(\.address) == [local(30616)])
        #expect(map.owner(ofSlot: 0)?.port == 30611)
        #expect(map.owner(ofSlot: 5460)?.port == 30611)
        #expect(map.owner(ofSlot: 5461)?.port == 30612)
        #expect(map.owner(ofSlot: 16383)?.port == 30613)
        #expect(map.shardIndex(ofSlot: 10923) == 2)
        #expect(map.node(at: local(30615))?.id == ID.r2)
        #expect(map.node(at: local(30699)) == nil)
    }

    @Test("RESP2 SHARDS and both forms of SLOTS describe the same map as RESP3 SHARDS")
    func everyReplyGivesTheSameMap() throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        #expect(try shardsMap(Fixture.shardsRESP2) == map)
        let fromSlots = try slotsMap(Fixture.slotsRESP2)
        #expect(fromSlots == map)
        #expect(try slotsMap(Fixture.slotsRESP3) == fromSlots)
        // What CLUSTER SLOTS does not say.
        #expect(fromSlots.allNodes.allSatisfy { $0.replicationOffset == nil && $0.health == .online })
    }

    @Test("the order of shards and replication offsets do not make a map different")
    func equalityIgnoresOrderAndOffsets() throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        let shards = try #require(try wire(Fixture.shardsRESP3).array)
        let reversed = try ClusterTopology(shardsReply: .array(shards.reversed()), answeredBy: "127.0.0.1", preferTLS: false)
        #expect(reversed == map)
        #expect(reversed.primaries.map(\.id) == [ID.p1, ID.p2, ID.p3])
        let later = try shardsMap(Fixture.shardsRESP3.replacing( ":28", with: ":1234"))
        #expect(later == map)
        #expect(later.shards[0].primary.replicationOffset == 1234)
    }

    @Test("a failed replica: its health says so, and the map has changed")
    func failedReplica() throws {
        let healthy = try shardsMap(Fixture.shardsRESP3)
        let map = try shardsMap(Fixture.failedReplicaShards)
        #expect(map != healthy)
        #expect(map.isComplete)
        let replica = try #require(map.replicas(ofSlot: 12182).first)
        #expect(replica.id == ID.r3)
        #expect(replica.health == .failed)
        #expect(map.allNodes.filter { $0.health == .failed }.map(\.id) == [ID.r3])
        // `hostname` is extra information here: the endpoint (the IP) is what to connect to.
        #expect(map.allNodes.allSatisfy { $0.host == "127.0.0.1" })

        // CLUSTER SLOTS leaves the failed replica out.
        let fromSlots = try slotsMap(Fixture.failedReplicaSlots)
        #expect(fromSlots.shards.map { $0.replicas.map(\.id) } == [[ID.r1], [ID.r2], []])
        #expect(fromSlots.primaries == healthy.primaries)
    }

    @Test("a failed primary still owns its slots until a replica takes over")
    func failedPrimary() throws {
        let map = try shardsMap(Fixture.failedPrimaryShards)
        #expect(map.isComplete)
        #expect(map.owner(ofSlot: 12182)?.id == ID.p3)
        #expect(map.owner(ofSlot: 12182)?.health == .failed)
        #expect(map.replicas(ofSlot: 12182).map(\.health) == [.failed])
    }

    @Test("an empty endpoint (unknown-endpoint) is the host that answered, in SHARDS, SLOTS and MOVED")
    func unknownEndpoint() throws {
        let map = try shardsMap(Fixture.unknownEndpointShards, answeredBy: "10.0.0.9")
        #expect(map.allNodes.allSatisfy { $0.host == "10.0.0.9" })
        #expect(map.primaries.map(\.port) == [30611, 30612, 30613])
        #expect(try slotsMap(Fixture.unknownEndpointSlotsRESP3, answeredBy: "10.0.0.9") == map)
        #expect(try slotsMap(Fixture.unknownEndpointSlotsRESP2, answeredBy: "10.0.0.9") == map)

        // The server's MOVED in this mode, followed with the map.
        let moved = try #require(ClusterRedirection(message: "MOVED 12182 :30613"))
        let target = try #require(moved.target).address(answeredBy: "10.0.0.9")
        #expect(map.node(at: target)?.id == ID.p3)
        var patched = map
        let applied = patched.applyMoved(slot: 12182, to: target)
        #expect(applied)
        #expect(patched == map)
    }

    @Test("endpoint ? (hostname preferred, none announced) is the host that answered; a hostname is used as it is")
    func hostnameEndpoints() throws {
        let map = try shardsMap(Fixture.hostnameShards, answeredBy: "seed.example")
        #expect(map.primaries.map(\.host) == ["node-a.example", "seed.example", "localhost"])
        #expect(map.shards.flatMap(\.replicas).allSatisfy { $0.host == "seed.example" })
        #expect(try slotsMap(Fixture.hostnameSlots, answeredBy: "seed.example") == map)

        // MOVEDs this cluster sent: `?` and a hostname both find their node.
        for (message, id) in [("MOVED 7365 ?:30612", ID.p2), ("MOVED 12182 localhost:30613", ID.p3)] {
            let redirection = try #require(ClusterRedirection(message: message))
            let address = try #require(redirection.target).address(answeredBy: "seed.example")
            #expect(map.node(at: address)?.id == id)
        }
    }

    @Test("a TLS cluster announces both ports; the client's kind of connection picks one",
          arguments: [(true, [30621, 30622, 30623]), (false, [30631, 30632, 30633])])
    func tlsPorts(preferTLS: Bool, ports: [Int]) throws {
        let map = try shardsMap(Fixture.tlsShards, preferTLS: preferTLS)
        #expect(map.primaries.map(\.port) == ports)
        #expect(map.primaries.map(\.plaintextPort) == [30631, 30632, 30633])
        #expect(map.primaries.map(\.tlsPort) == [30621, 30622, 30623])
        #expect(map.isComplete)
    }

    @Test("a node with only one kind of port is reached on it, whatever the preference", arguments: [true, false])
    func onePortOnly(preferTLS: Bool) throws {
        let map = try shardsMap(Fixture.shardsRESP3, preferTLS: preferTLS)
        #expect(map.primaries.map(\.port) == [30611, 30612, 30613])
        #expect(map.primaries.allSatisfy { $0.tlsPort == nil })
        // CLUSTER SLOTS names the port for the connection it came on.
        let fromSlots = try slotsMap(Fixture.slotsRESP2, preferTLS: preferTLS)
        #expect(fromSlots.primaries.map(\.port) == [30611, 30612, 30613])
        #expect(fromSlots.primaries.map(\.tlsPort) == (preferTLS ? [30611, 30612, 30613] : [nil, nil, nil]))
    }

    @Test("a cluster being formed: loading replicas and a primary that owns no slot yet")
    func formingCluster() throws {
        let map = try shardsMap(Fixture.formingShards)
        #expect(map.isComplete)
        #expect(map.shards.count == 4)
        #expect(map.primaries.map(\.port) == [30611, 30612, 30613, 30616])
        #expect(map.slotRanges(ofShard: 3) == [])
        #expect(map.replicas(ofSlot: 0).map(\.health) == [.loading])
        #expect(map.allNodes.filter { $0.health == .loading }.map(\.port) == [30614, 30615])
        #expect(try shardsMap(Fixture.shardsRESP3) != map)
    }

    @Test("a slot nobody owns (CLUSTER DELSLOTS 0) makes the map incomplete")
    func incompleteCoverage() throws {
        #expect(Fixture.shardsRESP3.contains("slots *2 :0 :5460"))
        let map = try shardsMap(Fixture.shardsRESP3.replacing( "slots *2 :0 :5460", with: "slots *2 :1 :5460"))
        #expect(!map.isComplete)
        #expect(map.coveredSlotCount == 16383)
        #expect(map.owner(ofSlot: 0) == nil)
        #expect(map.shardIndex(ofSlot: 0) == nil)
        #expect(map.replicas(ofSlot: 0) == [])
        #expect(map.slotRanges(ofShard: 0) == [1...5460])
        #expect(map.owner(ofSlot: 1)?.id == ID.p1)

        let one = try #require(try wire(Fixture.shardsRESP3).array)
        let single = try ClusterTopology(shardsReply: .array([one[0]]), answeredBy: "127.0.0.1", preferTLS: false)
        #expect(single.coveredSlotCount == 10922 - 5461 + 1)
        #expect(single.owner(ofSlot: 0) == nil)

        let empty = try ClusterTopology(shardsReply: .array([]), answeredBy: "127.0.0.1", preferTLS: false)
        #expect(empty.coveredSlotCount == 0)
        #expect(empty.primaries.isEmpty)
        #expect(empty.owner(ofSlot: 0) == nil)
    }

    @Test("out-of-range slots route nowhere", arguments: [-1, 16384, Int.min, Int.max])
    func slotOutOfRange(slot: Int) throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        #expect(map.owner(ofSlot: slot) == nil)
        #expect(map.replicas(ofSlot: slot) == [])
        var patched = map
        let applied = patched.applyMoved(slot: slot, to: local(30611))
        #expect(!applied)
        #expect(patched == map)
    }

    @Test("MOVED to a known primary reassigns one slot")
    func applyMovedToKnownPrimary() throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        var patched = map
        let applied = patched.applyMoved(slot: 12182, to: local(30611))
        #expect(applied)
        #expect(patched != map)
        #expect(patched.owner(ofSlot: 12182)?.id == ID.p1)
        #expect(patched.replicas(ofSlot: 12182).map(\.id) == [ID.r1])
        #expect(patched.slotRanges(ofShard: 0) == [0...5460, 12182...12182])
        #expect(patched.slotRanges(ofShard: 2) == [10923...12181, 12183...16383])
        #expect(patched.isComplete)
        // The server's own redirection puts it back.
        let back = try #require(ClusterRedirection(message: "MOVED 12182 127.0.0.1:30613"))
        guard case .moved(let slot, let target) = back else { Issue.record("not MOVED: \(back)"); return }
        let movedBack = patched.applyMoved(slot: slot, to: target.address(answeredBy: "127.0.0.1"))
        #expect(movedBack)
        #expect(patched == map)
    }

    @Test("MOVED to an unknown node or to a replica changes nothing and asks for a refresh",
          arguments: [local(30699), local(30614), ClusterNodeAddress(host: "localhost", port: 30611)])
    func applyMovedToUnknownNode(address: ClusterNodeAddress) throws {
        let map = try shardsMap(Fixture.shardsRESP3)
        var patched = map
        let applied = patched.applyMoved(slot: 12182, to: address)
        #expect(!applied)
        #expect(patched == map)
    }

    @Test("MOVED for a slot nobody owned completes the map")
    func applyMovedFillsAHole() throws {
        var map = try shardsMap(Fixture.shardsRESP3.replacing( "slots *2 :0 :5460", with: "slots *2 :1 :5460"))
        let applied = map.applyMoved(slot: 0, to: local(30611))
        #expect(applied)
        #expect(map.isComplete)
        #expect(try shardsMap(Fixture.shardsRESP3) == map)
    }

    @Test("addresses print IPv6 hosts in brackets")
    func addressDescription() {
        #expect(local(6379).description == "127.0.0.1:6379")
        #expect(ClusterNodeAddress(host: "::1", port: 6379).description == "[::1]:6379")
        #expect(ClusterNodeAddress(host: "redis-0.example", port: 6380).description == "redis-0.example:6380")
    }

    @Test("malformed CLUSTER SHARDS replies are typed errors", arguments: MalformedReply.shards)
    func malformedShards(_ malformed: MalformedReply) {
        let error = #expect(throws: ClusterTopologyError.self) {
            try ClusterTopology(shardsReply: malformed.reply, answeredBy: "127.0.0.1", preferTLS: false)
        }
        #expect(error?.kind == malformed.kind)
        #expect(error?.description.hasPrefix("malformed CLUSTER SHARDS reply") == true)
    }

    @Test("malformed CLUSTER SLOTS replies are typed errors", arguments: MalformedReply.slots)
    func malformedSlots(_ malformed: MalformedReply) {
        let error = #expect(throws: ClusterTopologyError.self) {
            try ClusterTopology(slotsReply: malformed.reply, answeredBy: "127.0.0.1", preferTLS: false)
        }
        #expect(error?.kind == malformed.kind)
        #expect(error?.description.hasPrefix("malformed CLUSTER SLOTS reply") == true)
    }

    @Test("error messages say where, what was expected and what arrived")
    func errorMessages() {
        func message(_ reply: RESPValue) -> String? {
            #expect(throws: ClusterTopologyError.self) {
                try ClusterTopology(shardsReply: reply, answeredBy: "127.0.0.1", preferTLS: false)
            }?.description
        }
        #expect(message(shard(nodes: [node(replacing: "port", with: bulk("abc"))])) ==
            #"malformed CLUSTER SHARDS reply at shard 0, node 0, "port": expected an integer in 1...65535, received bulk "abc""#)
        #expect(message(shard(slots: [10, 5])) ==
            "malformed CLUSTER SHARDS reply at shard 0, \"slots\": expected a slot range within 0...16383 with start <= end, received 10...5")
        #expect(message(shard(nodes: [node(replacing: "id", with: nil)])) ==
            #"malformed CLUSTER SHARDS reply at shard 0, node 0: no "id""#)
        #expect(message(.array([shard(slots: [0, 10], alone: false), shard(slots: [10, 20], nodes: [node(id: "b")], alone: false)])) ==
            "malformed CLUSTER SHARDS reply: slot 10 is claimed by both \(String(repeating: "a", count: 40)) and b")
        #expect(message(.array([.array(Array(repeating: .integer(1), count: 999))])) ==
            "malformed CLUSTER SHARDS reply at shard 0: expected a map (or, in RESP2, an array of key/value pairs), received array of 999")
        #expect(message(shard(nodes: [node(replacing: "role", with: bulk("replica"))])) ==
            "malformed CLUSTER SHARDS reply at shard 0: the shard owns slots but lists no primary")
    }

    @Test("mutated real replies parse or throw, never trap, and a map that parses is consistent",
          arguments: MutatedFixture.allCases)
    func mutatedReplies(fixture: MutatedFixture) throws {
        let original = try wire(fixture.text)
        var random = SeededGenerator(seed: UInt64(fixture.text.utf8.count))
        var parsed = 0
        for _ in 0..<100 {
            var reply = original
            for _ in 0..<Int.random(in: 1...3, using: &random) { reply = mutate(reply, using: &random) }
            let preferTLS = Bool.random(using: &random)
            let maps = [
                try? ClusterTopology(shardsReply: reply, answeredBy: "127.0.0.1", preferTLS: preferTLS),
                try? ClusterTopology(slotsReply: reply, answeredBy: "127.0.0.1", preferTLS: preferTLS),
            ]
            for case let map? in maps {
                parsed += 1
                let owned = (0..<HashSlot.count).filter { map.shardIndex(ofSlot: $0) != nil }
                #expect(owned.count == map.coveredSlotCount)
                #expect(owned.allSatisfy { map.shardIndex(ofSlot: $0)! < map.shards.count })
                #expect(map.isComplete == (owned.count == HashSlot.count))
            }
        }
        // Both outcomes occur: some mutations leave a valid map, most are rejected.
        #expect(parsed > 0)
        #expect(parsed < 200)
    }
}

// MARK: - Malformed replies

extension ClusterTopologyError {
    /// The case, without its payload, to compare in tests.
    enum Kind: Sendable { case unexpected, missingField, invalidSlotRange, slotClaimedTwice, noPrimary }

    var kind: Kind {
        switch self {
        case .unexpected: .unexpected
        case .missingField: .missingField
        case .invalidSlotRange: .invalidSlotRange
        case .slotClaimedTwice: .slotClaimedTwice
        case .noPrimary: .noPrimary
        }
    }
}

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

/// A `CLUSTER SHARDS` node map, like 7.0's, with `field` replaced by `value` (removed when nil).
private func node(id: String = String(repeating: "a", count: 40), replacing field: String? = nil, with value: RESPValue? = nil) -> RESPValue {
    var fields: [(String, RESPValue)] = [
        ("id", bulk(id)), ("port", .integer(7000)), ("ip", bulk("127.0.0.1")), ("endpoint", bulk("127.0.0.1")),
        ("role", bulk("master")), ("replication-offset", .integer(1)), ("health", bulk("online")),
    ]
    if let field {
        if let index = fields.firstIndex(where: { $0.0 == field }) {
            if let value { fields[index].1 = value } else { fields.remove(at: index) }
        } else if let value {
            fields.append((field, value))
        }
    }
    return .map(fields.map { (key: bulk($0.0), value: $0.1) })
}

/// A one-shard `CLUSTER SHARDS` reply (or, with `alone: false`, the shard map itself).
private func shard(slots: [Int64] = [0, 16383], nodes: [RESPValue] = [node()], alone: Bool = true) -> RESPValue {
    let map = RESPValue.map([(bulk("slots"), .array(slots.map(RESPValue.integer))), (bulk("nodes"), .array(nodes))])
    return alone ? .array([map]) : map
}

/// A one-entry `CLUSTER SLOTS` reply with these node arrays.
private func slotsEntry(_ start: RESPValue = .integer(0), _ end: RESPValue = .integer(16383),
                        nodes: [RESPValue] = [.array([bulk("127.0.0.1"), .integer(7000), bulk("a")])]) -> RESPValue {
    .array([.array([start, end] + nodes)])
}

extension ClusterTopologyTests {
    /// A reply that is not a slot map, and the error it must give.
    struct MalformedReply: Sendable, CustomTestStringConvertible {
        var name: String
        var reply: RESPValue
        var kind: ClusterTopologyError.Kind

        var testDescription: String { name }

        init(_ name: String, _ reply: RESPValue, _ kind: ClusterTopologyError.Kind) {
            self.name = name
            self.reply = reply
            self.kind = kind
        }

        static let shards: [MalformedReply] = [
            .init("an OK instead of an array", .simpleString(Array("OK".utf8)), .unexpected),
            .init("a null", .null, .unexpected),
            .init("an error", .error(Array("ERR This instance has cluster support disabled".utf8)), .unexpected),
            .init("a shard that is an integer", .array([.integer(1)]), .unexpected),
            .init("a RESP2 shard of odd length", .array([.array([bulk("slots")])]), .unexpected),
            .init("a shard without slots", .array([.map([(bulk("nodes"), .array([node()]))])]), .missingField),
            .init("a shard without nodes", .array([.map([(bulk("slots"), .array([.integer(0), .integer(1)]))])]), .missingField),
            .init("slots that are a string", .array([.map([(bulk("slots"), bulk("0-16383")), (bulk("nodes"), .array([node()]))])]), .unexpected),
            .init("nodes that are a map", .array([.map([(bulk("slots"), .array([])), (bulk("nodes"), .map([]))])]), .unexpected),
            .init("an odd number of slot bounds", shard(slots: [0, 100, 200]), .unexpected),
            .init("a slot bound as a string", .array([.map([(bulk("slots"), .array([bulk("0"), .integer(5)])), (bulk("nodes"), .array([node()]))])]), .unexpected),
            .init("slot 16384", shard(slots: [0, 16384]), .invalidSlotRange),
            .init("a negative slot", shard(slots: [-1, 5]), .invalidSlotRange),
            .init("a range that runs backwards", shard(slots: [10, 5]), .invalidSlotRange),
            .init("the largest integer as a slot", shard(slots: [0, Int64.max]), .invalidSlotRange),
            .init("the smallest integer as a slot", shard(slots: [Int64.min, 0]), .invalidSlotRange),
            .init("a node that is an integer", shard(nodes: [.integer(3)]), .unexpected),
            .init("a node without id", shard(nodes: [node(replacing: "id", with: nil)]), .missingField),
            .init("an empty id", shard(nodes: [node(id: "")]), .unexpected),
            .init("an id that is an integer", shard(nodes: [node(replacing: "id", with: .integer(7))]), .unexpected),
            .init("a node without any port", shard(nodes: [node(replacing: "port", with: nil)]), .missingField),
            .init("a port that is a string", shard(nodes: [node(replacing: "port", with: bulk("7000"))]), .unexpected),
            .init("port 0", shard(nodes: [node(replacing: "port", with: .integer(0))]), .unexpected),
            .init("port 65536", shard(nodes: [node(replacing: "port", with: .integer(65536))]), .unexpected),
            .init("a negative tls-port", shard(nodes: [node(replacing: "tls-port", with: .integer(-1))]), .unexpected),
            .init("a node without role", shard(nodes: [node(replacing: "role", with: nil)]), .missingField),
            .init("role leader", shard(nodes: [node(replacing: "role", with: bulk("leader"))]), .unexpected),
            .init("a role that is an integer", shard(nodes: [node(replacing: "role", with: .integer(1))]), .unexpected),
            .init("health sick", shard(nodes: [node(replacing: "health", with: bulk("sick"))]), .unexpected),
            .init("a negative replication offset", shard(nodes: [node(replacing: "replication-offset", with: .integer(-1))]), .unexpected),
            .init("a replication offset as a double", shard(nodes: [node(replacing: "replication-offset", with: .double(1))]), .unexpected),
            .init("an endpoint that is an integer", shard(nodes: [node(replacing: "endpoint", with: .integer(1))]), .unexpected),
            .init("slots but only a replica", shard(nodes: [node(replacing: "role", with: bulk("replica"))]), .noPrimary),
            .init("two shards claiming one slot", .array([shard(slots: [0, 10], alone: false),
                                                          shard(slots: [10, 20], nodes: [node(id: "b")], alone: false)]), .slotClaimedTwice),
            .init("one shard claiming a slot twice", shard(slots: [0, 10, 5, 6]), .slotClaimedTwice),
        ]

        static let slots: [MalformedReply] = [
            .init("an OK instead of an array", .simpleString(Array("OK".utf8)), .unexpected),
            .init("an entry that is an integer", .array([.integer(0)]), .unexpected),
            .init("an entry without a primary", .array([.array([.integer(0), .integer(16383)])]), .unexpected),
            .init("a range that runs backwards", slotsEntry(.integer(9), .integer(3)), .invalidSlotRange),
            .init("slot 16384", slotsEntry(.integer(0), .integer(16384)), .invalidSlotRange),
            .init("a slot as a string", slotsEntry(bulk("0")), .unexpected),
            .init("a node that is a string", slotsEntry(nodes: [bulk("127.0.0.1:7000")]), .unexpected),
            .init("a node with only a host", slotsEntry(nodes: [.array([bulk("127.0.0.1")])]), .unexpected),
            .init("a host that is an integer", slotsEntry(nodes: [.array([.integer(1), .integer(7000), bulk("a")])]), .unexpected),
            .init("a port that is a string", slotsEntry(nodes: [.array([bulk("h"), bulk("7000"), bulk("a")])]), .unexpected),
            .init("port 0", slotsEntry(nodes: [.array([bulk("h"), .integer(0), bulk("a")])]), .unexpected),
            .init("an empty id", slotsEntry(nodes: [.array([bulk("h"), .integer(7000), bulk("")])]), .unexpected),
            .init("an id that is an integer", slotsEntry(nodes: [.array([bulk("h"), .integer(7000), .integer(5)])]), .unexpected),
            .init("a replica that is malformed", slotsEntry(nodes: [.array([bulk("h"), .integer(7000), bulk("a")]), .array([])]), .unexpected),
            .init("two primaries claiming one slot", .array([
                .array([.integer(0), .integer(10), .array([bulk("h"), .integer(7000), bulk("a")])]),
                .array([.integer(10), .integer(20), .array([bulk("h"), .integer(7001), bulk("b")])]),
            ]), .slotClaimedTwice),
        ]
    }
}

// MARK: - Random mutation

extension ClusterTopologyTests {
    /// The real replies the mutation test starts from, by name (so that test output names them).
    enum MutatedFixture: String, CaseIterable, Sendable {
        case shardsRESP3, shardsRESP2, slotsRESP2, slotsRESP3, failedReplicaShards, unknownEndpointSlotsRESP2, tlsShards

        var text: String {
            switch self {
            case .shardsRESP3: Fixture.shardsRESP3
            case .shardsRESP2: Fixture.shardsRESP2
            case .slotsRESP2: Fixture.slotsRESP2
            case .slotsRESP3: Fixture.slotsRESP3
            case .failedReplicaShards: Fixture.failedReplicaShards
            case .unknownEndpointSlotsRESP2: Fixture.unknownEndpointSlotsRESP2
            case .tlsShards: Fixture.tlsShards
            }
        }
    }
}

/// `value` with one random change somewhere inside: an element removed, duplicated or
/// replaced, or the whole value replaced by a value chosen to be plausible and wrong.
private func mutate(_ value: RESPValue, using random: inout SeededGenerator) -> RESPValue {
    if Int.random(in: 0..<8, using: &random) == 0 { return randomScalar(using: &random) }
    switch value {
    case .array(var elements) where !elements.isEmpty:
        let index = Int.random(in: 0..<elements.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: elements.remove(at: index)
        case 1: elements.append(elements[index])
        default: elements[index] = mutate(elements[index], using: &random)
        }
        return .array(elements)
    case .map(var pairs) where !pairs.isEmpty:
        let index = Int.random(in: 0..<pairs.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: pairs.remove(at: index)
        case 1: pairs[index].key = randomScalar(using: &random)
        default: pairs[index].value = mutate(pairs[index].value, using: &random)
        }
        return .map(pairs)
    default:
        return randomScalar(using: &random)
    }
}

private func randomScalar(using random: inout SeededGenerator) -> RESPValue {
    let choices: [RESPValue] = [
        .integer(-1), .integer(0), .integer(1), .integer(5460), .integer(16383), .integer(16384), .integer(65535),
        .integer(65536), .integer(.max), .integer(.min), bulk(""), bulk("?"), bulk("master"), bulk("replica"),
        bulk("fail"), bulk("slots"), bulk("nodes"), bulk("port"), .null, .nullBulkString, .nullArray, .array([]),
        .map([]), .double(.nan), .boolean(true), .error(Array("ERR".utf8)),
    ]
    return choices.randomElement(using: &random)!
}
