import Foundation
import Testing

/// `gui-agent bench matvec`: each requested type and thread count gives one row of positive rates
/// (in cache, streamed, the read bandwidth), and a type or row length that cannot be multiplied
/// is refused with its name.
@Suite struct BenchMatVecCommandTests {
  @Test func oneRowPerTypeAndThreadCount() throws {
    let r = try CLI.run(["bench", "matvec", "--type", "q4_1,q6_K,f16", "--columns", "512", "--threads", "1,2",
                         "--megabytes", "2", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let runs = try #require(try r.json()["runs"] as? [[String: Any]])
    #expect(runs.map { "\($0["type"] ?? "")/\($0["threads"] ?? "")" } == ["q4_1/1", "q6_K/1", "f16/1", "q4_1/2", "q6_K/2", "f16/2"])
    for row in runs {
      for key in ["cached_gb_per_s", "streaming_gb_per_s", "read_bandwidth_gb_per_s", "cached_ns_per_block"] {
        let v = (row[key] as? Double) ?? .nan
        #expect(v.isFinite && v > 0, "\(row["type"] ?? "") \(key) = \(v)")
      }
    }
  }

  @Test func refusesWhatItCannotMultiply() throws {
    let type = try CLI.run(["bench", "matvec", "--type", "q3_K", "--json"])
    #expect(type.status != 0 && type.stderr.contains("q3_K"), "\(type.stderr)")
    let columns = try CLI.run(["bench", "matvec", "--type", "q4_K", "--columns", "576", "--megabytes", "1", "--threads", "1"])
    #expect(columns.status != 0 && columns.stderr.contains("576 columns"), "\(columns.stderr)")
  }
}
