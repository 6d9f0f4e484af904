import Imaging
import Testing
@testable import Grounding

@Suite struct AnswerParserTests {
  @Test(arguments: [
    ("(500,300)", 500.0, 300.0),
    ("[512, 288]", 512, 288),
    ("<point>412 73</point>", 412, 73),
    ("click(start_box='(120,340)')", 120, 340),
    ("click(start_box='<|box_start|>(120,340)<|box_end|>')", 120, 340),
    ("click(point='<point>77 901</point>')", 77, 901),
    ("Thought: the Save button is at the top.\nAction: click(start_box='(35,12)')", 35, 12),
    ("The answer is ( 0.25 , 0.5 ).", 0.25, 0.5),
    ("[0.731,0.052]", 0.731, 0.052),
    ("click(start_box='(1000,0)')", 1000, 0),
    ("x=3 (ignored) then (10, 20)", 10, 20),
  ])
  func readsPoints(text: String, x: Double, y: Double) {
    #expect(GroundingAnswer.parse(text) == .point(x: x, y: y), "\(text)")
  }

  @Test(arguments: [
    ("<|box_start|>(100,200),(300,400)<|box_end|>", [100.0, 200, 300, 400]),
    ("[10, 20, 30, 40]", [10, 20, 30, 40]),
    ("(10,20,30,41)", [10, 20, 30, 41]),
    ("the field (100,200),(300,400) is it", [100, 200, 300, 400]),
    ("click(start_box='(5,6,7,8)')", [5, 6, 7, 8]),
    ("<point>1 2 3 4</point>", [1, 2, 3, 4]),
    ("[[0.1, 0.2, 0.3, 0.4]]", [0.1, 0.2, 0.3, 0.4]),
  ])
  func readsBoxesAndTheirCenters(text: String, v: [Double]) throws {
    let a = GroundingAnswer.parse(text)
    #expect(a == .box(x1: v[0], y1: v[1], x2: v[2], y2: v[3]), "\(text)")
    let c = try #require(a.clickPoint)
    #expect(c.x == (v[0] + v[2]) / 2 && c.y == (v[1] + v[3]) / 2)
  }

  @Test func tagsWinOverEarlierBrackets() {
    // A bracketed note before the tag does not hide the tagged coordinate.
    #expect(GroundingAnswer.parse("[step 2] <point>5 6</point>") == .point(x: 5, y: 6))
  }

  @Test(arguments: ["", "   \n\t"])
  func emptyAnswers(text: String) {
    #expect(GroundingAnswer.parse(text) == .noCoordinate(.empty))
  }

  @Test(arguments: [
    "I cannot find that element.", "(a, b)", "[1, 2, 3]", "(1,)", "<point></point>", "<point>5</point>",
    "((((", ")))]]]", "<|box_start|>", "click(start_box='')", "[., .]", "(1.2.3, 4)", "(1e5, 2)", "-", "(--1, 2)",
    "click(start_box='<|box_start|>(x,y)<|box_end|>')", "\u{0}(\u{FFFF}1,2)",
  ])
  func garbageHasNoCoordinate(text: String) {
    #expect(GroundingAnswer.parse(text) == .noCoordinate(.noCoordinateFound), "\(text)")
  }

  @Test func negativeAndOutOfRangeValuesAreReported() {
    #expect(GroundingAnswer.parse("(-5, 10)") == .noCoordinate(.outOfRange(value: -5, allowed: 0...Double.greatestFiniteMagnitude)))
    #expect(GroundingAnswer.parse("(1500, 10)", validRange: 0...1000) == .noCoordinate(.outOfRange(value: 1500, allowed: 0...1000)))
    #expect(GroundingAnswer.parse("[0.5, 1.2]", validRange: CoordinateConvention.unitInterval.validRange())
            == .noCoordinate(.outOfRange(value: 1.2, allowed: 0...1)))
    #expect(GroundingAnswer.parse("(999, 0)", validRange: 0...1000) == .point(x: 999, y: 0))
  }

  @Test func hugeNumbersNeitherOverflowNorTrap() throws {
    let big = String(repeating: "9", count: 400)
    #expect(GroundingAnswer.parse("(\(big), 5)") == .noCoordinate(.notFinite(big)))
    let large = "(99999999999999999999999999, 5)"
    guard case .point(let x, _) = GroundingAnswer.parse(large) else {
      Issue.record("expected a point"); return
    }
    // It maps onto the image's last column instead of overflowing.
    #expect(try CoordinateConvention.norm1000.screenPixel(x: x, y: 5, imageWidth: 100, imageHeight: 100) == ScreenPoint(x: 99, y: 0))
    // Long garbage is handled in linear time.
    let noise = String(repeating: "((([[[1,", count: 20_000)
    #expect(GroundingAnswer.parse(noise) == .noCoordinate(.noCoordinateFound))
  }
}

@Suite struct CoordinateConventionTests {
  @Test func tableHasOneEntryPerFamily() {
    let families = CoordinateConvention.table.map(\.family)
    #expect(Set(families).count == families.count)
    #expect(CoordinateConvention.forFamily("bluelm_vl") == .norm1000)
    #expect(CoordinateConvention.forFamily("Qwen2-VL") == .norm1000)
    #expect(CoordinateConvention.forFamily("UI-TARS") == .norm1000)
    #expect(CoordinateConvention.forFamily("qwen2_5_vl") == .resizedPixels)
    #expect(CoordinateConvention.forFamily("SeeClick") == .unitInterval)
    #expect(CoordinateConvention.forFamily("showui") == .unitInterval)
    #expect(CoordinateConvention.forFamily("llava") == nil)
  }

  @Test func mapsEachConventionToTheSamePixel() throws {
    // The pixel (960, 540) of a 1920x1080 monitor placed right of another 1920-wide one.
    let origin = ScreenPoint(x: 1920, y: 0)
    let want = ScreenPoint(x: 2880, y: 540)
    #expect(try CoordinateConvention.norm1000.screenPixel(x: 500, y: 500, imageWidth: 1920, imageHeight: 1080, origin: origin) == want)
    #expect(try CoordinateConvention.unitInterval.screenPixel(x: 0.5, y: 0.5, imageWidth: 1920, imageHeight: 1080, origin: origin) == want)
    // Qwen2.5-VL saw a 1288x728 resize of the screenshot.
    #expect(try CoordinateConvention.resizedPixels.screenPixel(x: 644, y: 364, imageWidth: 1920, imageHeight: 1080,
                                                               resizedWidth: 1288, resizedHeight: 728, origin: origin) == want)
    #expect(throws: GroundingError.self) {
      try CoordinateConvention.resizedPixels.screenPixel(x: 1, y: 1, imageWidth: 10, imageHeight: 10)
    }
    #expect(throws: GroundingError.invalidImageSize(width: 0, height: 10)) {
      try CoordinateConvention.norm1000.screenPixel(x: 1, y: 1, imageWidth: 0, imageHeight: 10)
    }
  }

  @Test func exactIntegerBinsForNorm1000() throws {
    // floor(x * W / 1000) with no floating-point slip at exact multiples: 1343 * 1000 / 1000.
    for x in stride(from: 0, to: 1000, by: 7) {
      let p = try CoordinateConvention.norm1000.screenPixel(x: Double(x), y: 0, imageWidth: 1343, imageHeight: 1)
      #expect(p.x == x * 1343 / 1000)
    }
  }

  @Test func answerToScreenEndToEnd() throws {
    let answer = GroundingAnswer.parse("click(start_box='<|box_start|>(100,200),(300,400)<|box_end|>')",
                                       validRange: CoordinateConvention.norm1000.validRange())
    let c = try #require(answer.clickPoint)
    #expect(try CoordinateConvention.norm1000.screenPixel(x: c.x, y: c.y, imageWidth: 2560, imageHeight: 1440,
                                                          origin: ScreenPoint(x: 0, y: 1080)) == ScreenPoint(x: 512, y: 1080 + 432))
  }
}
