// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RedisUtil",
    products: [
        .library(name: "Reactor", targets: ["Reactor"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "LocalRedis", targets: ["LocalRedis"]),
        .executable(name: "resp-bench", targets: ["RESPBench"]),
    ],
    targets: [
        // libevent is used for readiness notification and timers only; all reads and writes are ours.
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        .target(
            name: "Reactor",
            dependencies: ["CLibevent"]
        ),
        .target(name: "RESP"),
        .target(name: "LocalRedis"),
        .executableTarget(
            name: "RESPBench",
            dependencies: ["RESP"],
            path: "Benchmarks/RESPBench"
        ),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "LocalRedis"]),
        .testTarget(name: "LocalRedisTests", dependencies: ["LocalRedis"]),
    ],
    swiftLanguageModes: [.v6]
)
