/// Who may query (or, with its own list, transfer): allow and deny prefix lists.
///
/// Evaluation is longest-prefix match: the most specific prefix containing the client
/// decides; between an allow and a deny of the same prefix, deny wins. A client no prefix
/// contains is allowed when the allow list is empty and denied otherwise (listing
/// prefixes under `allow` means "only these"; `deny` carves exceptions out of them, or
/// out of everyone). The lists are sorted once, most specific first, so the first match
/// is the answer; a linear scan, meant for tens of prefixes, not a routing table.
public struct AccessList: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var prefix: AddressPrefix
        public var allow: Bool
    }

    public private(set) var entries: [Entry]
    public private(set) var hasAllow: Bool

    public init(allow: [AddressPrefix] = [], deny: [AddressPrefix] = []) {
        var all = deny.map { Entry(prefix: $0, allow: false) } + allow.map { Entry(prefix: $0, allow: true) }
        // Stable: at equal length the deny entries (listed first) stay first.
        all = all.enumerated().sorted { a, b in
            a.element.prefix.length != b.element.prefix.length
                ? a.element.prefix.length > b.element.prefix.length : a.offset < b.offset
        }.map(\.element)
        entries = all
        hasAllow = !allow.isEmpty
    }

    /// No prefix at all: everyone is allowed (and the check can be skipped).
    public var isEmpty: Bool { entries.isEmpty }

    @inline(__always)
    public func allows(_ client: ClientAddress) -> Bool {
        // An index loop: `for in` over an array of structs allocates in unoptimized builds.
        var i = 0
        while i < entries.count {
            if entries[i].prefix.contains(client) { return entries[i].allow }
            i += 1
        }
        return !hasAllow
    }
}

/// Prefixes a client is tested against, with no order (RRL exemptions).
public struct PrefixSet: Sendable, Equatable {
    public private(set) var prefixes: [AddressPrefix]
    public init(_ prefixes: [AddressPrefix] = []) { self.prefixes = prefixes }
    public var isEmpty: Bool { prefixes.isEmpty }

    @inline(__always)
    public func contains(_ client: ClientAddress) -> Bool {
        var i = 0
        while i < prefixes.count {
            if prefixes[i].contains(client) { return true }
            i += 1
        }
        return false
    }
}
