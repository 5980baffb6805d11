// Typed indices into a zone's tables and into a zone set's zones, so that a name cannot
// be passed where an RRset is meant. Each wraps an Int32 (the tables stay compact);
// stored fields that may point nowhere hold `.none`, lookups return an optional.

/// A name of a zone: an entry of `Zone.names`.
public struct NameIndex: Hashable, Sendable {
    @usableFromInline package var raw: Int32

    @inlinable package init(_ raw: Int32) { self.raw = raw }
    @inlinable package init(_ raw: Int) { self.raw = Int32(truncatingIfNeeded: raw) }

    /// No name (a stored field with nothing to point at).
    @inlinable package static var none: NameIndex { NameIndex(-1 as Int32) }
    @inlinable package var isNone: Bool { raw < 0 }
    /// The index as an `Int`, for subscripting.
    @inlinable package var value: Int { Int(raw) }
}

/// An RRset of a zone: an entry of `Zone.rrsets`.
public struct RRSetIndex: Hashable, Sendable {
    @usableFromInline package var raw: Int32

    @inlinable package init(_ raw: Int32) { self.raw = raw }
    @inlinable package init(_ raw: Int) { self.raw = Int32(truncatingIfNeeded: raw) }

    /// No RRset.
    @inlinable package static var none: RRSetIndex { RRSetIndex(-1 as Int32) }
    @inlinable package var isNone: Bool { raw < 0 }
    @inlinable package var value: Int { Int(raw) }
}

/// A zone of a zone set: an entry of `ZoneSet.zones`.
public struct ZoneIndex: Hashable, Sendable {
    @usableFromInline package var raw: Int32

    @inlinable package init(_ raw: Int32) { self.raw = raw }
    @inlinable package init(_ raw: Int) { self.raw = Int32(truncatingIfNeeded: raw) }

    /// No zone.
    @inlinable package static var none: ZoneIndex { ZoneIndex(-1 as Int32) }
    @inlinable package var isNone: Bool { raw < 0 }
    @inlinable package var value: Int { Int(raw) }
}
