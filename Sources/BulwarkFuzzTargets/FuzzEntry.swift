// What both fuzzing binaries run (bulwark-fuzz, bulwark-fuzz-api): under -DFUZZING,
// libFuzzer's driver on the target BULWARK_FUZZ_TARGET names; built plainly, files
// replayed through a target named on the command line.
#if FUZZING
import CLibFuzzer
#endif
#if canImport(Glibc)
import Glibc
#endif

public enum FuzzEntry {
    public typealias Run = @Sendable (UnsafeRawBufferPointer) -> Void

    /// The target being fuzzed, set once before the driver starts.
    nonisolated(unsafe) static var selected: Run?

    #if FUZZING
    /// Runs libFuzzer's driver (its flags in `argv`) on the target BULWARK_FUZZ_TARGET names.
    public static func fuzz(argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                            targets: [String: Run]) -> CInt {
        let name = getenv("BULWARK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let run = targets[name] else {
            fatalError("BULWARK_FUZZ_TARGET must name a target: \(targets.keys.sorted().joined(separator: ", "))")
        }
        selected = run
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzEntry.selected!(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
    }
    #endif

    /// `PROGRAM TARGET FILE...`: runs each file through the target once (to replay a crash
    /// without the fuzzer).
    public static func replay(targets: [String: Run]) {
        let args = CommandLine.arguments
        guard args.count >= 2, let run = targets[args[1]] else {
            print("usage: \(args.first ?? "bulwark-fuzz") \(targets.keys.sorted().joined(separator: "|")) FILE...")
            exit(2)
        }
        for path in args.dropFirst(2) {
            guard let f = fopen(path, "rb") else { print("cannot open \(path)"); exit(1) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, f)
                if n <= 0 { break }
                bytes += chunk[..<n]
            }
            fclose(f)
            bytes.withUnsafeBytes { run($0) }
            print("\(path): ok")
        }
    }
}

extension FuzzTarget {
    /// Every target by name, as the entry points take them.
    public static var entries: [String: FuzzEntry.Run] {
        Dictionary(uniqueKeysWithValues: allCases.map { t -> (String, FuzzEntry.Run) in (t.rawValue, { @Sendable in t.run($0) }) })
    }
}
