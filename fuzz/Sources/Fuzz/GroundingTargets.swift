import Foundation
import Grounding
import Imaging

// MARK: - Grounding: answers, evaluation files

extension FuzzTarget {
  static let groundingTargets: [FuzzTarget] = [
    FuzzTarget("answer", "a model's grounding answer: GroundingAnswer.parse, then the point mapped to a screen pixel",
               maxLength: 4 << 10, dictionary: "actions") { data in
      let answer = text(data)
      for range in [nil, 0...1000.0, 0...1.0] as [ClosedRange<Double>?] {
        guard let p = GroundingAnswer.parse(answer, validRange: range).clickPoint else { continue }
        for convention in CoordinateConvention.allCases {
          _ = try? convention.screenPixel(x: p.x, y: p.y, imageWidth: 1920, imageHeight: 1080,
                                          resizedWidth: 1288, resizedHeight: 728, origin: ScreenPoint(x: 1920, y: 0))
        }
      }
    },
    FuzzTarget("screenspot", "a ScreenSpot annotation file (v1, v2, Pro): ScreenSpotAnnotations.parse, detected and forced",
               maxLength: 16 << 10, dictionary: "json") { data in
      for format in [nil] + ScreenSpotFormat.allCases.map(Optional.some) {
        guard let file = attempt("screenspot \(format.map(\.description) ?? "detected")", {
          try ScreenSpotAnnotations.parse(data, path: "fuzz/screenspot_v2.json", format: format)
        }) else { continue }
        for case let .sample(s) in file.entries {
          _ = s.box.contains(x: 100, y: 100)
          _ = s.box.isInside(width: 1920, height: 1080)
        }
      }
    },
    FuzzTarget("predictions", "a predictions file (JSONL or a JSON list) for eval: PredictionTable.parse",
               maxLength: 16 << 10, dictionary: "json") { data in
      _ = attempt("predictions", { try PredictionTable.parse(data, path: "fuzz/predictions.jsonl") })
    },
  ]
}
