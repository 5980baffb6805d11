// BulwarkZone: zone-file reader, zone checker, in-memory zones and the authoritative
// lookup. Pure and deterministic: no I/O except reading zone files, no clocks.
@_exported import BulwarkWire
