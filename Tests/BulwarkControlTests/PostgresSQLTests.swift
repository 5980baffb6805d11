import BulwarkControl
import BulwarkServer
import XCTest

/// The PostgreSQL dialect and URL, without a server (the API suite runs on a real one
/// with BULWARK_TEST_DATABASE=postgres).
final class PostgresSQLTests: XCTestCase {
    func testPlaceholdersAreNumberedOutsideLiterals() {
        XCTAssertEqual(PostgresSQL.numberingPlaceholders("SELECT a FROM t WHERE b = ? AND c = ? LIMIT ?"),
                       "SELECT a FROM t WHERE b = $1 AND c = $2 LIMIT $3")
        XCTAssertEqual(PostgresSQL.numberingPlaceholders("SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = ?"),
                       "SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = $1")
        XCTAssertEqual(PostgresSQL.numberingPlaceholders("SELECT 1 -- why?\nWHERE y = ? /* and? */ AND z = ?"),
                       "SELECT 1 -- why?\nWHERE y = $1 /* and? */ AND z = $2")
        XCTAssertEqual(PostgresSQL.numberingPlaceholders("DO $body$ SELECT '?' $body$; SELECT $$?$$, ?"),
                       "DO $body$ SELECT '?' $body$; SELECT $$?$$, $1")
        XCTAssertEqual(PostgresSQL.numberingPlaceholders("CREATE TABLE t (a TEXT)"), "CREATE TABLE t (a TEXT)")
        // Every migration has no placeholder PostgreSQL would misread.
        for m in Migrations.all {
            for s in m.statements { XCTAssertEqual(PostgresSQL.numberingPlaceholders(s), s) }
        }
    }

    func testURL() throws {
        let u = try PostgresURL(parsing: "postgres://bulwark:s%40cret@db.example:6432/control?sslmode=require", environment: [:])
        XCTAssertEqual(u, PostgresURL(host: "db.example", port: 6432, user: "bulwark", password: "s@cret", database: "control", tls: .require))
        XCTAssertEqual(u.description, "postgres://bulwark:***@db.example:6432/control")
        let v = try PostgresURL(parsing: "postgresql://api@[::1]/bw", environment: ["PGPASSWORD": "fromenv"])
        XCTAssertEqual(v, PostgresURL(host: "::1", port: 5432, user: "api", password: "fromenv", database: "bw"))
        for bad in ["postgres://host/db", "postgres://u@/db", "postgres://u@h/", "postgres://u@h/db?sslmode=maybe",
                    "postgres://u@h/db?foo=1", "mysql://u@h/db"] {
            XCTAssertThrowsError(try PostgresURL(parsing: bad, environment: [:]), bad)
        }
    }
}
