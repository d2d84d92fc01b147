// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RedisUtil",
    products: [
        .library(name: "RedisUtil", targets: ["RedisUtil"]),
        .library(name: "Reactor", targets: ["Reactor"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "LocalRedis", targets: ["LocalRedis"]),
        .executable(name: "resp-bench", targets: ["RESPBench"]),
        .executable(name: "redis-bench", targets: ["RedisBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Observability and lifecycle; none of the three depends on SwiftNIO.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libevent is used for readiness notification and timers only; all reads and writes are ours.
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        // The Concurrency runtime's cancellation-handler entry points (TaskCancellationHandler).
        .systemLibrary(name: "CTaskCancellation"),
        // OpenSSL 3 for TLS, on the library's own non-blocking sockets (no SwiftNIO).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The one place that retries a system call interrupted by a signal, and errno text.
        .target(name: "SystemCall"),
        .target(
            name: "Reactor",
            dependencies: ["CLibevent", "SystemCall"]
        ),
        .target(name: "RESP"),
        .target(
            name: "RedisUtil",
            dependencies: [
                "Reactor",
                "RESP",
                "SystemCall",
                "COpenSSL",
                "CTaskCancellation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "LocalRedis", dependencies: ["SystemCall", "COpenSSL"]),
        .executableTarget(
            name: "RESPBench",
            dependencies: ["RESP"],
            path: "Benchmarks/RESPBench"
        ),
        .executableTarget(
            name: "RedisBench",
            dependencies: [
                "RedisUtil",
                "Reactor",
                "LocalRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                // The live view's own metrics backend.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Benchmarks/RedisBench"
        ),
        // The README's worker service: a channel pool and its client in a ServiceGroup,
        // with metrics kept in memory.
        .executableTarget(
            name: "WorkerService",
            dependencies: [
                "RedisUtil",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/WorkerService"
        ),
        // Runs one kind of operation for scripts/callgrind-per-op (instructions per operation).
        .executableTarget(name: "CallgrindProbe", dependencies: [
            "RedisUtil", "Reactor", .product(name: "CoreMetrics", package: "swift-metrics"),
        ], path: "Benchmarks/CallgrindProbe"),
        // Helpers shared by the test targets (a seeded generator, servers started off the
        // cooperative pool).
        .target(name: "TestSupport", dependencies: ["LocalRedis"], path: "Tests/TestSupport"),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TestSupport"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "LocalRedis", "TestSupport"]),
        .testTarget(name: "LocalRedisTests", dependencies: ["LocalRedis", "TestSupport"]),
        // A client under a lowered descriptor limit, run as a subprocess by RedisUtilTests
        // (the limit is per process); the dependency builds it beside the test bundle.
        .executableTarget(name: "DescriptorLimitProbe", dependencies: ["RedisUtil"], path: "Tests/DescriptorLimitProbe"),
        .testTarget(name: "RedisUtilTests", dependencies: [
            "RedisUtil", "LocalRedis", "TestSupport", "DescriptorLimitProbe",
            // SanitizedMutex, for state that callbacks on several reactors share.
            "SystemCall",
            // An OpenSSL call of the test's own on a reactor thread (TLSTests).
            "COpenSSL",
            // A recording metrics backend and tracer, and ServiceGroup, for ObservabilityTests.
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Pure logic of RedisUtil: no server, no sockets, no wall clock (microseconds each).
        .testTarget(name: "RedisUtilUnitTests", dependencies: ["RedisUtil", "TestSupport"]),
        // One worker process of a channel pool, killed with SIGKILL by RedisChannelTests.
        .executableTarget(name: "ChannelWorkerProbe", dependencies: ["RedisUtil"], path: "Tests/ChannelWorkerProbe"),
        .testTarget(name: "RedisChannelTests", dependencies: ["RedisUtil", "LocalRedis", "TestSupport", "ChannelWorkerProbe"]),
        // Runs the built redis-bench (and the WorkerService example) as a subprocess; the
        // dependency on the executable targets makes `swift build --build-tests` build the
        // binaries next to the test bundle.
        .testTarget(
            name: "RedisBenchTests",
            dependencies: [
                "RedisBench", "WorkerService", "RedisUtil", "RESP", "LocalRedis", "TestSupport",
                // Feeds the live view's backend (imported @testable) through swift-metrics' API.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
