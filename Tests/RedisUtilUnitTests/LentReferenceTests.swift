@testable import RedisUtil
import Testing

/// ``Unmanaged/lend(heldBy:_:)``: the object its owner holds, lent for the call, alive
/// through it even when the owner is the last reference.
@Suite struct LentReferenceTests {
    private final class Target {
        let value: Int
        init(value: Int) { self.value = value }
    }

    private final class Owner {
        let target: Target
        let lent: Unmanaged<Target>
        init(_ target: Target) {
            self.target = target
            lent = Unmanaged.passUnretained(target)
        }
    }

    @Test func theOwnersObjectIsLentAndStaysAliveThroughTheCall() {
        var owner: Owner? = Owner(Target(value: 42))
        weak let watched = owner!.target
        let lent = owner!.lent
        let identity = ObjectIdentifier(owner!.target)
        let (seen, value) = lent.lend(heldBy: owner!) { (ObjectIdentifier($0), $0.value) }
        #expect(seen == identity && value == 42)
        // Only the owner holds it: lent again, it is the same live object.
        #expect(lent.lend(heldBy: owner!) { $0.value } == 42)
        #expect(watched != nil)
        owner = nil
        #expect(watched == nil, "lending took no reference of its own")
    }
}
