/// `value` as `Target`, when `Target` is `value`'s own type, found equal at run time
/// (`Source.self == Target.self`, checked here): the value taken as the type it already
/// has, without the runtime's dynamic cast (about 80 instructions a message for the
/// channel's member writer, which knows the message's type only as a generic `T`). It
/// copies the value: where a large value is cast (the member reader's message), `as!`,
/// which can move it, cost less. Traps, as `as!` would, if the types differ.
@inline(__always)
func castToOwnType<Source, Target>(_ value: consuming Source, as target: Target.Type) -> Target {
    precondition(Source.self == Target.self, "castToOwnType: \(Source.self) is not \(Target.self)")
    return unsafeBitCast(value, to: Target.self)
}
