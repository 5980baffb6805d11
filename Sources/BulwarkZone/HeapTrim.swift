#if canImport(Glibc)
import Glibc
#endif

/// Hands freed heap pages back to the system: glibc's malloc_trim(0), looked up at run
/// time (the Glibc module does not export it). A no-op elsewhere. Load path only.
public func trimMallocHeap() {
    #if canImport(Glibc)
    typealias Trim = @convention(c) (Int) -> Int32
    guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, "malloc_trim") else { return }
    _ = unsafeBitCast(sym, to: Trim.self)(0)
    #endif
}
