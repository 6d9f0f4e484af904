import Imaging
import Testing
@testable import Grounding

// The known-models table itself, and each convention taken from an answer to a screen pixel.
@Suite struct KnownModelTableTests {
  @Test func idsAliasesAndTemplateNamesAreUniqueAndUsable() {
    let ids = KnownModels.all.map(\.id)
    #expect(Set(ids).count == ids.count)
    #expect(Set(KnownModels.templateNames).count == KnownModels.templateNames.count)
    for row in KnownModels.all {
      #expect(KnownModels.named(row.id) == row && KnownModels.named(row.displayName.uppercased()) == row)
      #expect(!row.aliases.isEmpty && row.aliases.allSatisfy { $0 == $0.lowercased() && !$0.contains("_") && !$0.contains(" ") })
      #expect(!row.architectures.isEmpty && !row.source.isEmpty)
      if row.template == nil { #expect(!row.note.isEmpty, "\(row.id): a row without a prompt says why") }
    }
    for t in KnownModels.templates {
      #expect(t.user.contains("{instruction}") || t.system?.contains("{instruction}") == true, "\(t.name)")
      #expect(KnownModels.template(named: t.name) == t)
    }
  }

  @Test func theRequiredFamiliesAreThereWithTheirConventions() {
    let expected: [(String, CoordinateConvention, String)] = [
      ("qwen2-vl", .norm1000, "qwen2_vl"), ("qwen2.5-vl", .resizedPixels, "qwen2_5_vl"), ("qwen3-vl", .norm1000, "qwen3_vl"),
      ("ui-venus-1.5", .norm1000, "qwen3_vl"), ("mai-ui", .norm1000, "qwen3_vl"), ("gui-owl-1.5", .norm1000, "qwen3_vl"),
      ("holo2", .norm1000, "qwen3_vl"), ("ui-tars", .norm1000, "qwen2_vl"), ("ui-tars-1.5", .resizedPixels, "qwen2_5_vl"),
      ("gta1", .resizedPixels, "qwen2_5_vl"), ("ui-venus-ground", .resizedPixels, "qwen2_5_vl"),
      ("se-gui", .resizedPixels, "qwen2_5_vl"), ("infigui-g1", .resizedPixels, "qwen2_5_vl"),
      ("os-atlas-base", .norm1000, "qwen2_vl"), ("uground-v1", .norm1000, "qwen2_vl"), ("showui", .unitInterval, "qwen2_vl"),
      ("gui-actor", .norm1000, "qwen2_5_vl"),
    ]
    for (id, convention, family) in expected {
      let row = KnownModels.named(id)
      #expect(row?.convention == convention && row?.runs(on: family) == true, "\(id)")
    }
    #expect(KnownModels.named("ui-tars-1.5")?.answer == .uiTarsAction)
    #expect(KnownModels.named("gui-actor")?.answer == .pointerHead)
    #expect(CoordinateConvention.forFamily("qwen3_vl") == .norm1000)
  }

  @Test func conventionNamesOnTheCommandLine() {
    #expect(CoordinateConvention.allCases.map(\.optionName) == ["norm1000", "resized-pixels", "unit"])
    #expect(CoordinateConvention(optionName: "Resized-Pixels") == .resizedPixels)
    #expect(CoordinateConvention(optionName: "resizedPixels") == .resizedPixels)
    #expect(CoordinateConvention(optionName: "unitInterval") == .unitInterval)
    #expect(CoordinateConvention(optionName: "pixels") == nil)
  }

  /// Each row's own example answer on a 1920x1080 screenshot that the Qwen processor resized
  /// to 1932x1092 (smart_resize to multiples of 28), captured on a monitor at x = 1920.
  @Test func eachRowsExampleLandsOnTheScreenPixelItsConventionNames() throws {
    let (w, h, rw, rh) = (1920, 1080, 1932, 1092)
    let origin = ScreenPoint(x: 1920, y: 0)
    for row in KnownModels.all where row.answer != .pointerHead {
      let range = row.convention.validRange(resizedWidth: rw, resizedHeight: rh)
      let c = try #require(GroundingAnswer.parse(row.exampleAnswer, validRange: range).clickPoint, "\(row.id)")
      let p = try row.convention.screenPixel(x: c.x, y: c.y, imageWidth: w, imageHeight: h,
                                             resizedWidth: rw, resizedHeight: rh, origin: origin)
      // The definitions: a fraction of 1000, of 1, or of the resized size, times the screenshot's size.
      let (ix, iy): (Double, Double) = switch row.convention {
      case .norm1000: (c.x * Double(w) / 1000, c.y * Double(h) / 1000)
      case .unitInterval: (c.x * Double(w), c.y * Double(h))
      case .resizedPixels: (c.x * Double(w) / Double(rw), c.y * Double(h) / Double(rh))
      }
      #expect(p == ScreenPoint(x: 1920 + Int(ix.rounded(.down)), y: Int(iy.rounded(.down))), "\(row.id)")
    }
    // The same click (412, 73) means three different pixels under the three conventions.
    let norm = try CoordinateConvention.norm1000.screenPixel(x: 412, y: 73, imageWidth: w, imageHeight: h)
    let resized = try CoordinateConvention.resizedPixels.screenPixel(x: 412, y: 73, imageWidth: w, imageHeight: h,
                                                                     resizedWidth: rw, resizedHeight: rh)
    let unit = try CoordinateConvention.unitInterval.screenPixel(x: 0.412, y: 0.073, imageWidth: w, imageHeight: h)
    #expect(norm == ScreenPoint(x: 791, y: 78))
    #expect(resized == ScreenPoint(x: 409, y: 72))
    #expect(unit == norm)
  }

  @Test func templatesFillTheirPlaceholders() {
    let gta1 = PromptTemplate.gta1
    #expect(gta1.needsSize && !PromptTemplate.osAtlas.needsSize)
    let system = gta1.fill(gta1.system ?? "", instruction: "the {width} button", width: 1932, height: 1092)
    #expect(system.contains("height 1092 and width 1932"))
    // The instruction is put in last: braces in it stay as the user wrote them.
    #expect(gta1.fill(gta1.user, instruction: "the {width} button", width: 5, height: 6) == "the {width} button")
    #expect(PromptTemplate.osAtlas.fill(PromptTemplate.osAtlas.user, instruction: "OK", width: nil, height: nil)
            == "In this UI screenshot, what is the position of the element corresponding to the command \"OK\" (with bbox)?")
  }
}
