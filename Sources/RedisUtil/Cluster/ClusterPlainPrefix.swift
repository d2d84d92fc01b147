/// The first commands of a pipeline that the check for one primary read
/// (``ClusterRouter``'s `firstRound`), each of the everyday keyed shape
/// (``ClusterCommandSlot/plainCommand(_:at:in:)``), in order from the batch's first byte:
/// kept so that the split of a pipeline over several primaries does not read them again.
/// Up to four, in the struct itself (no allocation): a pipeline over several primaries
/// usually shows it within its first three commands.
struct ClusterPlainPrefix {
    /// How many commands it holds.
    private(set) var count = 0
    private var slots = (0, 0, 0, 0)
    private var ends = (0, 0, 0, 0)

    /// How many it can hold.
    static var capacity: Int { 4 }

    /// Notes the next command's slot and end; past ``capacity`` it keeps nothing more.
    mutating func append(slot: Int, end: Int) {
        switch count {
        case 0: (slots.0, ends.0) = (slot, end)
        case 1: (slots.1, ends.1) = (slot, end)
        case 2: (slots.2, ends.2) = (slot, end)
        case 3: (slots.3, ends.3) = (slot, end)
        default: return
        }
        count += 1
    }

    /// The slot and end of command `position` (from 0), which must be below ``count``.
    subscript(position: Int) -> (slot: Int, end: Int) {
        precondition(position >= 0 && position < count, "a command the prefix does not hold")
        return switch position {
        case 0: (slots.0, ends.0)
        case 1: (slots.1, ends.1)
        case 2: (slots.2, ends.2)
        default: (slots.3, ends.3)
        }
    }
}
