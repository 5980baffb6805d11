/// Why bytes from the wire (or a name in presentation format) were rejected.
///
/// Every byte from the wire is hostile: decoders never trap on bad input, they
/// throw one of these and the caller answers FORMERR (or drops the packet).
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The data ended before the structure it announced.
    case truncated
    /// A compression pointer that points forwards, at itself, or into the header (RFC 1035 §4.1.4).
    case badPointer
    /// Too many compression pointers followed for one name: a loop.
    case pointerLoop
    /// A label longer than 63 octets (RFC 1035 §2.3.4).
    case labelTooLong
    /// A name longer than 255 octets in wire form (RFC 1035 §2.3.4).
    case nameTooLong
    /// A label type other than a normal label or a pointer (0x40, 0x80: RFC 6891 §5).
    case badLabelType
    /// An empty label inside a name (`a..b`) in presentation format.
    case emptyLabel
    /// A malformed escape (`\D`, `\DD`, `\256`) in presentation format.
    case badEscape
    /// Record data whose length or content does not match its type.
    case badRData(String)
    /// Octets left over after the structure was read.
    case trailingData
    /// Anything else, with a short description.
    case malformed(String)

    public var description: String {
        switch self {
        case .truncated: return "data ends early"
        case .badPointer: return "bad compression pointer"
        case .pointerLoop: return "compression pointer loop"
        case .labelTooLong: return "label longer than 63 octets"
        case .nameTooLong: return "name longer than 255 octets"
        case .badLabelType: return "unknown label type"
        case .emptyLabel: return "empty label"
        case .badEscape: return "bad escape sequence"
        case .badRData(let why): return "bad record data: \(why)"
        case .trailingData: return "trailing data"
        case .malformed(let why): return why
        }
    }
}
