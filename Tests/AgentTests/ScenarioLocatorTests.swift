import Foundation
import Imaging
import ScreenCapture
import Testing
import TestSupport
@testable import Agent

/// Plans that mix `@name` references with descriptions a grounding model must find.
struct ScenarioLocatorTests {
  static let plan = """
    {"name": "n", "task": "t", "apps": [{"command": ["true"]}], "check": "true",
     "plan": {"steps": [{"action": {"action": "click", "target": {"element": "the Name field"}}},
                        {"action": {"action": "click", "target": {"element": "@square"}}},
                        {"action": {"action": "drag", "from": {"element": "Large"}, "to": {"point": [5, 6]}}}]}}
    """

  @Test func describedElementsAreTheNonReferences() throws {
    let s = try Scenario.decode(Data(Self.plan.utf8), source: URL(fileURLWithPath: "/s/n.json"))
    #expect(s.describedElements == ["the Name field", "Large"])
    let grounded = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Scenarios/grounded/tk-form-grounded.json").standardized
    let file = try Scenario.load(from: grounded)
    #expect(file.describedElements.count == 5)
  }

  @Test func routesReferencesToGeometryAndDescriptionsToTheModel() throws {
    let xvfb = try PrivateXvfb(arguments: ["-noreset", "-screen", "0", "320x240x24"])
    defer { xvfb.stop() }
    let folder = try TempFolder()
    let geometryFile = folder.file("geometry.json")
    try Data(#"{"widgets": {"square": {"x": 10, "y": 20, "width": 30, "height": 40}}}"#.utf8).write(to: geometryFile)
    let display = try X11Display(display: xvfb.display)
    let geometry = GeometryLocator(geometry: ScenarioGeometry(file: geometryFile, display: display))
    let screen = try RGBImage(width: 320, height: 240)

    let alone = ScenarioLocator(geometry: geometry, described: nil)
    let square = try alone.locate("@square", in: screen)
    #expect(square.point == ScreenPoint(x: 25, y: 40))
    // The widget's rectangle is the region; an offset moves the point, not the region.
    #expect(square.box == PixelRect(x: 10, y: 20, width: 30, height: 40))
    let shifted = try alone.locate("@square+5-3", in: screen)
    #expect(shifted.point == ScreenPoint(x: 30, y: 37) && shifted.box == square.box)
    let far = try alone.locate("@square+9223372036854775807+0", in: screen)
    #expect(far.point == nil && far.why?.contains("out of range") == true)
    let missing = try alone.locate("the Name field", in: screen)
    #expect(missing.point == nil && missing.box == nil)
    #expect(missing.why?.contains("needs a grounding model") == true)

    // A second geometry file stands in for the model: descriptions reach it, references do not.
    let otherFile = folder.file("other.json")
    try Data(#"{"widgets": {"the_Name_field": {"x": 100, "y": 100, "width": 2, "height": 2}}}"#.utf8).write(to: otherFile)
    let described = DescriptionAsReference(GeometryLocator(geometry: ScenarioGeometry(file: otherFile, display: display)))
    let both = ScenarioLocator(geometry: geometry, described: described)
    #expect(try both.locate("the Name field", in: screen).point == ScreenPoint(x: 101, y: 101))
    #expect(try both.locate("@square", in: screen).point == ScreenPoint(x: 25, y: 40))
    #expect(described.asked == ["the Name field"])
  }
}

/// Looks a description up as `@description` (spaces as underscores) in another geometry file, and remembers what it was asked.
final class DescriptionAsReference: ElementLocator {
  let inner: GeometryLocator
  var asked: [String] = []
  var name: String { "geometry by description" }
  init(_ inner: GeometryLocator) { self.inner = inner }
  func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    asked.append(description)
    return try inner.locate("@" + description.replacingOccurrences(of: " ", with: "_"), in: screenshot)
  }
}
