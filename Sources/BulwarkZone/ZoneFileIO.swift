import CBulwarkLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The little file access the reader needs, straight on POSIX: whole files as bytes.
enum ZoneFileIO {
    struct Failure: Error {
        var message: String
    }

    /// Reads a whole file into memory.
    static func readFile(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(message: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(message: "not a regular file") }
        let size = max(Int(info.st_size), 0)
        var failure: Failure?
        // Read straight into the array's storage: no zero-filling of a large buffer.
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var count = 0
            while count < size {
                let n = read(fd, buffer.baseAddress! + count, size - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = Failure(message: String(cString: strerror(errno)))
                    break
                }
                if n == 0 { break }
                count += n
            }
            initialized = count
        }
        if let failure { throw failure }
        // The file may have grown since fstat: read the rest in chunks.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count >= size {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// The resolved absolute path, or nil when the file does not exist.
    static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The directory part of `path` with a trailing slash, or "" for a bare name.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }
}

/// Hands freed heap pages back to the system: malloc_trim(3) with no padding (glibc;
/// the Glibc module does not export it). A no-op elsewhere. Load path only.
public func trimMallocHeap() {
    #if os(Linux)
    _ = CBulwarkLinux_malloc_trim(0)
    #endif
}
