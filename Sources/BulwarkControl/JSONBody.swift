// Request bodies as JSON objects read field by field, so that every error names the
// field at fault (`changes[2].ttl`), and responses written with JSONSerialization.
import Foundation
import NIOCore

struct JSONObject {
    let values: [String: Any]
    /// The path of this object in the request (`changes[2]`), "" at the top.
    let path: String

    static func parse(_ buffer: ByteBuffer) throws(APIError) -> JSONObject {
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw .badRequest("a JSON object body is required") }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw .badRequest("the body is not valid JSON: \((error as NSError).localizedDescription)")
        }
        guard let obj = value as? [String: Any] else { throw .badRequest("the body must be a JSON object") }
        return JSONObject(values: obj, path: "")
    }

    func field(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func string(_ name: String) throws(APIError) -> String {
        guard let v = try optionalString(name) else { throw .invalid(field(name), "is required (a string)") }
        return v
    }

    func optionalString(_ name: String) throws(APIError) -> String? {
        guard let raw = values[name], !(raw is NSNull) else { return nil }
        guard let s = raw as? String else { throw .invalid(field(name), "must be a string") }
        return s
    }

    func optionalInt(_ name: String) throws(APIError) -> Int64? {
        guard let raw = values[name], !(raw is NSNull) else { return nil }
        // JSON true/false also arrive as NSNumber (type encoding "c"): not integers.
        guard let n = raw as? NSNumber, String(cString: n.objCType) != "c",
              let i = Int64(exactly: n.doubleValue), n.doubleValue.rounded() == n.doubleValue else {
            throw .invalid(field(name), "must be an integer")
        }
        return i
    }

    func strings(_ name: String, required: Bool = true) throws(APIError) -> [String]? {
        guard let raw = values[name], !(raw is NSNull) else {
            if required { throw .invalid(field(name), "is required (an array of strings)") }
            return nil
        }
        guard let list = raw as? [Any] else { throw .invalid(field(name), "must be an array of strings") }
        var out: [String] = []
        for (i, item) in list.enumerated() {
            guard let s = item as? String else { throw .invalid("\(field(name))[\(i)]", "must be a string") }
            out.append(s)
        }
        return out
    }

    func objects(_ name: String) throws(APIError) -> [JSONObject] {
        guard let raw = values[name], let list = raw as? [Any] else { throw .invalid(field(name), "is required (an array of objects)") }
        var out: [JSONObject] = []
        for (i, item) in list.enumerated() {
            guard let o = item as? [String: Any] else { throw .invalid("\(field(name))[\(i)]", "must be an object") }
            out.append(JSONObject(values: o, path: "\(field(name))[\(i)]"))
        }
        return out
    }

    /// Rejects fields this endpoint does not know (a typo must not be silently ignored).
    func only(_ known: [String]) throws(APIError) {
        for k in values.keys.sorted() where !known.contains(k) {
            throw .invalid(field(k), "unknown field (known: \(known.joined(separator: ", ")))")
        }
    }
}

enum JSONOut {
    static func buffer(_ value: Any) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var b = ByteBuffer()
        b.writeBytes(data)
        b.writeString("\n")
        return b
    }
}
