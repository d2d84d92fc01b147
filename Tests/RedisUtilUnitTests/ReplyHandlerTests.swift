@testable import RedisUtil
import RESP
import Synchronization
import TestSupport
import Testing

/// Records what a connection handed it, as a cluster node's router would receive it.
private final class RecordingFailures: RoutedFailureHandler {
    let received = Locked<[(Result<RESPValue, RedisError>, [UInt8])]>([])

    func attemptFailed(_ result: Result<RESPValue, RedisError>, bytes: [UInt8], completion: @escaping ReplyCallback) {
        received.withLock { $0.append((result, bytes)) }
        // As the router does once it has decided: the caller's one answer.
        completion(.failure(.server(message: "decided")))
    }
}

@Suite("ReplyHandler: a routed command's failure goes to its connection's failure handler, with its bytes")
struct ReplyHandlerTests {
    @Test("a success goes to the callback; the handler hears nothing")
    func aSuccessGoesToTheCallback() {
        let failures = RecordingFailures()
        let answers = Locked<[Result<RESPValue, RedisError>]>([])
        ReplyHandler.routed({ result in answers.withLock { $0.append(result) } }, bytes: [1, 2, 3])
            .complete(.success(.integer(7)), failures: failures)
        #expect(answers.withLock { $0 } == [.success(.integer(7))])
        #expect(failures.received.withLock { $0.isEmpty })
    }

    @Test("a failure goes to the handler with the command's bytes, and the callback gets the handler's answer once")
    func aFailureGoesToTheHandler() {
        let failures = RecordingFailures()
        let answers = Locked<[Result<RESPValue, RedisError>]>([])
        let moved = RedisError.server(message: "MOVED 3999 127.0.0.1:7001")
        ReplyHandler.routed({ result in answers.withLock { $0.append(result) } }, bytes: [1, 2, 3])
            .complete(.failure(moved), failures: failures)
        let received = failures.received.withLock { $0 }
        #expect(received.count == 1)
        #expect(received.first?.0 == .failure(moved))
        #expect(received.first?.1 == [1, 2, 3])
        #expect(answers.withLock { $0 } == [.failure(.server(message: "decided"))])
    }

    @Test("without a failure handler, a failure goes to the callback as it is")
    func withoutAHandlerAFailureGoesToTheCallback() {
        let answers = Locked<[Result<RESPValue, RedisError>]>([])
        ReplyHandler.routed({ result in answers.withLock { $0.append(result) } }, bytes: [1])
            .complete(.failure(.closed), failures: nil)
        #expect(answers.withLock { $0 } == [.failure(.closed)])
    }
}
