// The fuzzing entry point of the control API's target (see bulwark-fuzz): built with
// `-sanitize=fuzzer,address -DFUZZING` by `scripts/fuzz json`, or plainly to replay files.
import BulwarkFuzzAPITargets
#if canImport(Glibc)
import Glibc
#endif

#if FUZZING
import CLibFuzzer

private let selected: FuzzAPITarget = {
    let name = getenv("BULWARK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzAPITarget(rawValue: name) else {
        let names = FuzzAPITarget.allCases.map(\.rawValue).joined(separator: ", ")
        fatalError("BULWARK_FUZZ_TARGET must name a target: \(names)")
    }
    return target
}()

/// The entry point (SwiftPM links an executable's `main` to `<module>_main`): libFuzzer's
/// driver, running `selected` on every input.
@_cdecl("bulwark_fuzz_api_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    _ = selected
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selected.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
#else
@main
struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzAPITarget(rawValue: name) else {
            let names = FuzzAPITarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: bulwark-fuzz-api \(names) FILE...")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let f = fopen(path, "rb") else { print("cannot open \(path)"); exit(1) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, f)
                if n <= 0 { break }
                bytes += chunk[..<n]
            }
            fclose(f)
            bytes.withUnsafeBytes { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif
