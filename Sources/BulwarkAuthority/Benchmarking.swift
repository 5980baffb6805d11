// Entry points for the micro-benchmarks (Benchmarks/QueryPath): the lookup and the
// encoder measured apart. SPI (`@_spi(Benchmarks) import BulwarkAuthority`), not public API.
import BulwarkWire
import BulwarkZone

extension ZoneSet {
    /// The lookup alone: plans the answer to `qname` (uncompressed wire) and `qtype` into
    /// `scratch`. Returns the number of planned RRsets.
    @_spi(Benchmarks)
    public func benchmarkLookup(qname: UnsafeRawBufferPointer, qtype: UInt16, dnssec: Bool = false,
                                scratch: inout AnswerScratch) -> Int {
        scratch.startChain(qname)
        buildPlan(qtype: qtype, dnssec: dnssec, scratch: &scratch)
        return scratch.plan.answer.count + scratch.plan.authority.count + scratch.plan.additional.count
    }

    /// The encoder alone: writes the plan left in `scratch` by `benchmarkLookup` (or
    /// `respond`) as the answer to `query`. Returns the response length.
    @_spi(Benchmarks)
    public func benchmarkEncode(query: ParsedQuery, message: UnsafeRawBufferPointer,
                                into out: UnsafeMutableRawBufferPointer, scratch: inout AnswerScratch) -> Int {
        encode(query: query, message: message, into: out, maxSize: 1232, ourPayloadSize: 1232, scratch: &scratch)
    }
}
