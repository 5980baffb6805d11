// Typed indices into a zone's tables and into a zone set's zones, so that a name cannot
// be passed where an RRset is meant. Each wraps an Int32 (the tables stay compact);
// stored fields that may point nowhere hold `.none`, lookups return an optional.

/// An index into one kind of table, told apart by `Table` (a tag type, never made).
public struct TableIndex<Table>: Hashable, Sendable {
    @usableFromInline package var raw: Int32

    @inlinable package init(_ raw: Int32) { self.raw = raw }
    @inlinable package init(_ raw: Int) { self.raw = Int32(truncatingIfNeeded: raw) }

    /// No entry (a stored field with nothing to point at).
    @inlinable package static var none: TableIndex { TableIndex(-1 as Int32) }
    @inlinable package var isNone: Bool { raw < 0 }
    /// The index as an `Int`, for subscripting.
    @inlinable package var value: Int { Int(raw) }
}

/// The tag of `Zone.names`.
public enum ZoneNameTable {}
/// The tag of `Zone.rrsets`.
public enum ZoneRRSetTable {}
/// The tag of `ZoneSet.zones`.
public enum ZoneSetTable {}

/// A name of a zone: an entry of `Zone.names`.
public typealias NameIndex = TableIndex<ZoneNameTable>
/// An RRset of a zone: an entry of `Zone.rrsets`.
public typealias RRSetIndex = TableIndex<ZoneRRSetTable>
/// A zone of a zone set: an entry of `ZoneSet.zones`.
public typealias ZoneIndex = TableIndex<ZoneSetTable>
