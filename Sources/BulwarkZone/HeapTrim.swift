import CBulwarkLinux

/// Hands freed heap pages back to the system: malloc_trim(3) with no padding (glibc;
/// the Glibc module does not export it). A no-op elsewhere. Load path only.
public func trimMallocHeap() {
    #if os(Linux)
    _ = CBulwarkLinux_malloc_trim(0)
    #endif
}
