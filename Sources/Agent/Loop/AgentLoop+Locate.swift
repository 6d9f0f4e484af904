import Foundation
import Grounding
import Imaging
import ScreenCapture

// MARK: - Locating

extension AgentLoop {
  /// The action's targets as screen pixels, or why one could not be located. `parse` is the
  /// element list the planner was shown, for `element_id` targets.
  func locate(_ action: AgentAction, _ space: PointSpace, parse: ScreenParse? = nil,
              on image: RGBImage) -> Result<LocatedTargets, LocateFailure> {
    var points: [ScreenPoint] = []
    // The region of the first target only: the step records the first point.
    var firstBox: PixelRect?
    for target in action.targets {
      switch target {
      case let .point(p):
        do {
          switch space {
          case .screen:
            guard p.x.isFinite, p.y.isFinite, abs(p.x) < 1e6, abs(p.y) < 1e6 else {
              return .failure(LocateFailure("point (\(p.x), \(p.y)) is not a screen pixel"))
            }
            points.append(ScreenPoint(x: Int(p.x.rounded()), y: Int(p.y.rounded())))
          case let .model(toScreen):
            points.append(try toScreen(p))
          }
        } catch {
          return .failure(LocateFailure("point (\(p.x), \(p.y)) does not map to the screen: \(describe(error))"))
        }
      case let .elementNumber(n):
        guard let parse else {
          return .failure(LocateFailure("element_id \(n) names an element, but this step was shown no element list"))
        }
        guard let element = parse.elements.first(where: { $0.id == n }) else {
          return .failure(LocateFailure("element_id \(n) is not in the element list (\(parse.elements.count) elements)"))
        }
        points.append(element.center)
        if points.count == 1 { firstBox = element.box }
      case let .element(description):
        guard let locator = configuration.locator else {
          return .failure(LocateFailure("no grounding model to locate '\(description)'"))
        }
        do {
          let found = try locator.locate(description, in: image)
          guard let point = found.point else {
            return .failure(LocateFailure("could not locate '\(description)': \(found.why ?? "no point")"))
          }
          points.append(point)
          if points.count == 1 { firstBox = found.box }
        } catch {
          return .failure(LocateFailure("grounding '\(description)' failed: \(describe(error))"))
        }
      }
    }
    return .success(LocatedTargets(points: points, box: firstBox))
  }
}

/// An action's targets in screen pixels, with the region the first one was found in (nil for
/// a point target or when the locator gives none): what the step records and the export draws.
struct LocatedTargets {
  var points: [ScreenPoint]
  var box: PixelRect?
}

/// Why a target could not be located (a message for the record and the planner).
struct LocateFailure: Error {
  var message: String
  init(_ message: String) { self.message = message }
}
