import Foundation
import XCTest
@testable import Agent

/// Inputs the fuzz targets (fuzz/README.md) found to trap the agent's parsers, each now refused
/// with an error naming the value.
final class FuzzRegressionTests: XCTestCase {
  /// scenario: a target `@name+9223372036854775807+0` decoded and validated (at (0, 0)), then
  /// trapped adding the offset to the widget's center when the scenario ran.
  func testScenarioTargetOffsetBeyondIntIsRefused() throws {
    let json = #"""
      {"name": "offset", "task": "Click the name field.", "apps": [{"command": ["/usr/bin/true"]}],
       "plan": {"steps": [{"action": {"action": "click", "target": {"point": "@name+9223372036854775807+0"}}}]},
       "check": "true"}
      """#
    let scenario = try Scenario.decode(Data(json.utf8), source: URL(fileURLWithPath: "/fuzz/scenario.json"))
    XCTAssertThrowsError(try ScenarioTargets.resolve(scenario.plan, with: { _ in (1920, 1080) })) { error in
      XCTAssertEqual(error as? AgentError, .invalidArgument(
        "point '@name+9223372036854775807+0': offset (9223372036854775807, 0) from (1920, 1080) is out of range"))
    }
    // An offset that fits still moves the point.
    let fits = try ScenarioTargets.resolve(.object(["point": .string("@name-20+5")]), with: { _ in (1920, 1080) })
    XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: fits), .object(["point": .array([.number(1900), .number(1085)])]))
  }
}
