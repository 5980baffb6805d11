// The fuzzing entry point of the targets in BulwarkFuzzTargets (FuzzEntry): built with
// `-sanitize=fuzzer,address -DFUZZING` (scripts/fuzz), libFuzzer's driver; built plainly,
// `bulwark-fuzz TARGET FILE...` replays files through a target.
import BulwarkFuzzTargets

#if FUZZING
/// SwiftPM links an executable's `main` to `<module>_main`.
@_cdecl("bulwark_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzEntry.fuzz(argc: argc, argv: argv, targets: FuzzTarget.entries)
}
#else
@main
struct Replay {
    static func main() { FuzzEntry.replay(targets: FuzzTarget.entries) }
}
#endif
