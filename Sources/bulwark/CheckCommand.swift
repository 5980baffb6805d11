import ArgumentParser
import BulwarkServer
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `bulwark check ZONEFILE [--origin NAME]`: reads a zone file and checks it, like
/// named-checkzone. Issues go to stderr, one per line; the exit status is non-zero
/// when there is any error.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read a zone file and check it for errors."
    )

    @Argument(help: "The zone file to check.")
    var zoneFile: String

    @Option(name: .long, help: "The zone's origin (default: from the file name, 'example.com.zone' is example.com., 'root.zone' is '.').")
    var origin: String?

    @Flag(name: .long, help: "Do not follow $INCLUDE directives.")
    var noInclude = false

    @Flag(name: .long, help: "Print how long reading and checking took (to stderr).")
    var timing = false

    func run() throws {
        let originName: DNSName
        do {
            originName = try DNSName(origin ?? Self.origin(fromFileName: zoneFile), origin: .root)
        } catch {
            printError("bad origin '\(origin ?? zoneFile)': \(error)")
            throw ExitCode(2)
        }
        let zoneLabel = "zone \(Self.display(originName))/IN"
        let reader = ZoneFileReader(origin: originName, allowInclude: !noInclude)
        var zone: ParsedZone
        let clock = ContinuousClock()
        let start = clock.now
        let startCPU = Self.cpuSeconds()
        do {
            zone = try reader.read(path: zoneFile)
        } catch {
            for issue in error.issues { printError(Self.format(issue)) }
            printError("\(zoneLabel): not loaded due to errors.")
            throw ExitCode(1)
        }
        for issue in zone.warnings { printError(Self.format(issue)) }
        let read = clock.now
        let readCPU = Self.cpuSeconds()
        let issues = ZoneChecker.checkRemovingDuplicates(&zone)
        let checked = clock.now
        let checkedCPU = Self.cpuSeconds()
        for issue in issues { printError(Self.format(issue)) }
        if issues.contains(where: \.isError) {
            printError("\(zoneLabel): not loaded due to errors.")
            throw ExitCode(1)
        }
        // Build the in-memory zone as `serve` does: what it refuses, check refuses too.
        let recordCount = zone.records.count
        let built: Zone
        do {
            var records = zone.records
            zone.records = []
            built = try Zone(origin: originName, takingRecords: &records)
        } catch {
            printError("\(zoneFile): \(error)")
            printError("\(zoneLabel): not loaded due to errors.")
            throw ExitCode(1)
        }
        if timing {
            let wallRead = (read - start).seconds, wallCheck = (checked - read).seconds, wallBuild = (clock.now - checked).seconds
            let cpuRead = readCPU - startCPU, cpuCheck = checkedCPU - readCPU, cpuBuild = Self.cpuSeconds() - checkedCPU
            printError("read \(recordCount) records in \(wallRead) s (CPU \(cpuRead) s), "
                + "checked in \(wallCheck) s (CPU \(cpuCheck) s), built in \(wallBuild) s (CPU \(cpuBuild) s)")
        }
        print("\(zoneLabel): loaded serial \(built.serial)")
        print("OK")
    }

    /// CPU time used by this process so far.
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `file:line: error: message`, as compilers print.
    static func format(_ issue: ZoneIssue) -> String {
        if let location = issue.location {
            return "\(location): \(issue.severity): \(issue.message)"
        }
        return "\(issue.severity): \(issue.message)"
    }

    /// `example.com.zone` → `example.com.`, `db.example.com` → `example.com.`,
    /// `root.zone` → `.`.
    static func origin(fromFileName path: String) -> String {
        var name = String(path.split(separator: "/").last ?? Substring(path))
        // `NAME.zone`: the same rule as `serve --zones-dir`.
        if let zone = ZonesDirectory.zoneName(forFileName: name) { return zone.description }
        // BIND's habits: `db.NAME`, `NAME.db`.
        for suffix in [".zone", ".db"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        if name.hasPrefix("db.") { name.removeFirst(3) }
        if name == "root" || name.isEmpty || name == "." { return "." }
        return name.hasSuffix(".") ? name : name + "."
    }

    /// The origin as named-checkzone shows it: without the trailing dot, except the root.
    static func display(_ name: DNSName) -> String {
        name.isRoot ? "." : String(name.description.dropLast())
    }
}

private func printError(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(0x0A)
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
