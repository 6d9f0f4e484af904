import Foundation
@testable import Service
import XCTest

/// Inputs the fuzz targets (fuzz/README.md) found to crash the service, each now answered with a
/// clear error naming the field. The same inputs are seeds of the target that found them.
final class FuzzRegressionTests: XCTestCase {
  /// chat-body: `"seed": 9223372036854775807` passed the range check as a Double (2^63, which is
  /// what Double(Int.max) rounds to) and then trapped converting to Int, ending the server.
  static let seedAtInt64Max = Data(#"{"messages":[{"role":"user","content":"hi"}],"seed":9223372036854775807,"max_tokens":1}"#.utf8)

  func testIntegerFieldAtInt64MaxIsRefused() throws {
    let body = try JSONFields(body: Self.seedAtInt64Max)
    XCTAssertThrowsError(try body.int("seed", in: Int(Int64.min)...Int(Int64.max))) { error in
      XCTAssertEqual((error as? RequestError)?.status, 400)
      XCTAssertEqual((error as? RequestError)?.message,
                     "field 'seed': 9.223372036854776e+18 is outside -9223372036854775808...9223372036854775807")
    }
    // Values that are Ints still read, the extremes included.
    let edges = try JSONFields(body: Data(#"{"low": -9223372036854775808, "high": 9223372036854774784}"#.utf8))
    XCTAssertEqual(try edges.int("low", in: Int.min...Int.max), Int.min)
    XCTAssertEqual(try edges.int("high", in: Int.min...Int.max), 9_223_372_036_854_774_784)
  }

  func testChatRouteAnswersSeedAtInt64MaxWith400() throws {
    let service = try GUIAgentService(model: try Fixtures.model(), configuration: ServiceConfiguration(), store: nil)
    defer { service.shutdown(timeout: 30) }
    let response = service.handle(HTTPRequest(method: "POST", path: "/v1/chat/completions", body: Self.seedAtInt64Max))
    XCTAssertEqual(response.status, 400)
    guard case let .bytes(data) = response.body else { return XCTFail("expected a JSON error body") }
    XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("field 'seed'"), String(decoding: data, as: UTF8.self))
  }
}
