/// What the policy step of the query pipeline does: access lists, cookies, rate limiting.
public struct DefenceSettings: Sendable, Equatable {
    public enum DenyAction: String, Sendable, Equatable {
        /// REFUSED, with the Extended DNS Error "Prohibited" (RFC 8914 §4.19) when the
        /// query had EDNS.
        case refuse
        /// No answer at all.
        case drop
    }

    public struct Cookies: Sendable, Equatable {
        /// Answer a client cookie with a server cookie (RFC 7873). On by default: clients
        /// that send no cookie see no difference.
        public var enabled = true
        /// The RFC 9018 secret; nil: a random one, made once at startup.
        public var secret: CookieSecret?
        /// Seconds each derived secret lasts (the previous one stays valid); 0 keeps the
        /// configured secret for ever. At least 3600 keeps the RFC 9018 hour of validity.
        public var rotateSeconds: UInt32 = 3600
        /// UDP queries from cookie-aware clients without a valid server cookie get
        /// BADCOOKIE and a new cookie (RFC 7873 §5.2.3 allows this); off by default.
        public var require = false
        public init() {}
    }

    /// Who may query. Empty: everyone.
    public var queryACL = AccessList()
    /// Who may transfer (used by the transfer layer). Empty: nobody is singled out.
    public var transferACL = AccessList()
    public var denyAction: DenyAction = .refuse
    public var cookies = Cookies()
    /// Response rate limiting; nil (the default): off, as in BIND and Knot.
    public var rateLimit: RateLimitSettings?

    public init() {}
}
