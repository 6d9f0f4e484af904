import Foundation
import Grounding
import Imaging

/// Locates element descriptions on screen text (`--grounder ocr`), or on screen text chosen
/// among and backed up by a grounding model (`--grounder hybrid`); see ``OCRGrounder``.
public final class TextLocator: ElementLocator {
  public let grounder: OCRGrounder
  public var name: String {
    "\(grounder.mode.rawValue): \(grounder.parser.name)" + (grounder.model.map { " + \($0.pipeline.model.path)" } ?? "")
  }
  public var weightsDigest: String? { grounder.model?.pipeline.model.weightsDigest() }

  public init(grounder: OCRGrounder) { self.grounder = grounder }

  public func locate(_ description: String, in screenshot: RGBImage) throws -> Located {
    let r = try grounder.ground(image: screenshot, instruction: description)
    let ms = 1000 * r.timings.values.reduce(0, +)
    let why = r.point == nil ? (r.noCoordinate?.description ?? "no point for '\(description)'") : nil
    return Located(point: r.point, box: r.point == nil ? nil : r.box, why: why, milliseconds: ms)
  }
}
