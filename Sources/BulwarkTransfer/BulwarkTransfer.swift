// BulwarkTransfer: zone transfers and their security. AXFR (RFC 5936) and IXFR
// (RFC 1995) messages, NOTIFY (RFC 1996), TSIG (RFC 8945), the per-zone journal of
// differences and the difference between two versions of a zone. No sockets here:
// the server's transports carry these messages.
@_exported import BulwarkZone
