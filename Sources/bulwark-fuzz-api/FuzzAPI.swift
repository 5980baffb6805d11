// The fuzzing entry point of the control API's target (see bulwark-fuzz): built with
// `-sanitize=fuzzer,address -DFUZZING` by `scripts/fuzz json`, or plainly to replay files.
import BulwarkFuzzAPITargets
import BulwarkFuzzTargets

#if FUZZING
/// SwiftPM links an executable's `main` to `<module>_main`.
@_cdecl("bulwark_fuzz_api_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzEntry.fuzz(argc: argc, argv: argv, targets: FuzzAPITarget.entries)
}
#else
@main
struct Replay {
    static func main() { FuzzEntry.replay(targets: FuzzAPITarget.entries) }
}
#endif
