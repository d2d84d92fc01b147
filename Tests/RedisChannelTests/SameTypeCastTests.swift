import Testing
@testable import RedisUtil

/// The channel's cast of a value to the type it already has, known only generically
/// (the member writer's message).
@Suite struct SameTypeCastTests {
    struct Message: Equatable { var id: Int; var text: String; var tags: [String] }
    final class Box { let value = 7 }

    private func asGeneric<T>(_ value: some Any, _ type: T.Type) -> T { castToOwnType(value, as: T.self) }

    @Test func aValueComesBackAsItselfWhateverItsLayout() {
        let message = Message(id: 42, text: String(repeating: "é", count: 40), tags: ["a", "b"])
        #expect(asGeneric(message, Message.self) == message)
        let box = Box()
        #expect(asGeneric(box, Box.self) === box)
        #expect(asGeneric(Optional(3), Int?.self) == 3)
        #expect(asGeneric("x" as String, String.self) == "x")
    }

    @Test func differentTypesTrapAsAForcedCastWould() async {
        await #expect(processExitsWith: .failure) {
            _ = castToOwnType(1, as: String.self)
        }
    }
}
