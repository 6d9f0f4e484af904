import Foundation

// MARK: - Qwen-VL's image processor: smart_resize, rescale, normalize, patchify
//
// As transformers' Qwen2VLImageProcessor: the image is resized (bicubic; done by the caller, who
// owns images) to the size `targetSize` gives, scaled to 0...1, normalized per channel, and cut
// into patch x patch squares in 2x2 merge blocks, each square repeated over `temporal_patch_size`
// frames (a still image is a clip of identical frames).

/// The settings of preprocessor_config.json.
public struct SmartResize: Sendable, Equatable {
  public var patchSize: Int
  public var mergeSize: Int
  public var temporalPatchSize: Int
  /// Bounds on the resized image's area (`min_pixels`/`max_pixels`, or `size.shortest_edge` /
  /// `size.longest_edge`).
  public var minPixels: Int
  public var maxPixels: Int
  public var mean: [Float]
  public var std: [Float]
  public var rescaleFactor: Float

  /// The resized side must be a multiple of this: patch x merge.
  public var factor: Int { patchSize * mergeSize }

  public init(patchSize: Int = 14, mergeSize: Int = 2, temporalPatchSize: Int = 2, minPixels: Int = 56 * 56,
              maxPixels: Int = 28 * 28 * 1280, mean: [Float] = [0.48145466, 0.4578275, 0.40821073],
              std: [Float] = [0.26862954, 0.26130258, 0.27577711], rescaleFactor: Float = 1 / 255) {
    self.patchSize = patchSize; self.mergeSize = mergeSize; self.temporalPatchSize = temporalPatchSize
    self.minPixels = minPixels; self.maxPixels = maxPixels; self.mean = mean; self.std = std
    self.rescaleFactor = rescaleFactor
  }

  /// Reads preprocessor_config.json's bytes; `vision` supplies what the file leaves out.
  public static func decode(_ data: Data, vision: QwenVisionConfig) throws(EngineError) -> SmartResize {
    let f = try JSONFields(data: data, context: "preprocessor_config.json")
    var s = SmartResize(patchSize: vision.patchSize, mergeSize: vision.mergeSize, temporalPatchSize: vision.temporalPatchSize)
    s.patchSize = try f.optionalInt("patch_size") ?? s.patchSize
    s.mergeSize = try f.optionalInt("merge_size") ?? s.mergeSize
    s.temporalPatchSize = try f.optionalInt("temporal_patch_size") ?? s.temporalPatchSize
    let size = f.object("size")
    // min_pixels / max_pixels (older files) win over size.shortest_edge / longest_edge.
    if let v = try JSONLookup(size).int("shortest_edge") { s.minPixels = v }
    if let v = try f.optionalInt("min_pixels") { s.minPixels = v }
    if let v = try JSONLookup(size).int("longest_edge") { s.maxPixels = v }
    if let v = try f.optionalInt("max_pixels") { s.maxPixels = v }
    if let mean = f.value("image_mean") { s.mean = try Self.floats(mean, "image_mean") }
    if let std = f.value("image_std") { s.std = try Self.floats(std, "image_std") }
    s.rescaleFactor = Float(try f.optionalDouble("rescale_factor") ?? Double(s.rescaleFactor))
    if let resample = try f.optionalInt("resample"), resample != 3 {
      throw .badConfig("preprocessor_config.json: resample \(resample) is not bicubic (3), the only filter this processor implements")
    }
    guard s.patchSize == vision.patchSize, s.mergeSize == vision.mergeSize, s.temporalPatchSize == vision.temporalPatchSize else {
      throw .badConfig("preprocessor_config.json: patch \(s.patchSize), merge \(s.mergeSize), temporal \(s.temporalPatchSize) disagree with config.json's vision_config (\(vision.patchSize), \(vision.mergeSize), \(vision.temporalPatchSize))")
    }
    try s.validate()
    return s
  }

  private static func floats(_ v: StrictJSON, _ key: String) throws(EngineError) -> [Float] {
    guard case let .array(items) = v, items.count == 3 else { throw .badConfig("preprocessor_config.json: \(key) is not a list of 3 numbers") }
    var out: [Float] = []
    for item in items {
      guard case let .number(text) = item, let d = Double(text), d.isFinite else {
        throw .badConfig("preprocessor_config.json: \(key) is not a list of 3 numbers")
      }
      out.append(Float(d))
    }
    return out
  }

  public func validate() throws(EngineError) {
    guard (1...1024).contains(patchSize), (1...16).contains(mergeSize), (1...16).contains(temporalPatchSize) else {
      throw .badConfig("preprocessor_config.json: patch \(patchSize), merge \(mergeSize), temporal \(temporalPatchSize) must be positive (at most 1024, 16, 16)")
    }
    guard minPixels > 0, maxPixels >= minPixels, maxPixels <= 1 << 28 else {
      throw .badConfig("preprocessor_config.json: min_pixels \(minPixels) and max_pixels \(maxPixels) must satisfy 0 < min <= max <= 2^28")
    }
    guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
      throw .badConfig("preprocessor_config.json: image_mean / image_std need 3 values, std positive")
    }
  }

  /// transformers' `smart_resize`: sides rounded to multiples of `factor` (Python's round:
  /// halves to even), then scaled down (floor) or up (ceil) to keep the area within
  /// [min_pixels, max_pixels] at about the same aspect ratio.
  public func targetSize(height: Int, width: Int) throws(EngineError) -> (height: Int, width: Int) {
    guard height > 0, width > 0 else { throw .invalidArgument("image size \(width)x\(height) is empty") }
    guard Double(max(height, width)) / Double(min(height, width)) <= 200 else {
      throw .invalidArgument("image \(width)x\(height): the aspect ratio must be under 200 (Qwen-VL's processor refuses it)")
    }
    let f = Double(factor), h = Double(height), w = Double(width)
    var hBar = Int((h / f).rounded(.toNearestOrEven)) * factor
    var wBar = Int((w / f).rounded(.toNearestOrEven)) * factor
    if hBar * wBar > maxPixels {
      let beta = ((h * w) / Double(maxPixels)).squareRoot()
      hBar = max(factor, Int((h / beta / f).rounded(.down)) * factor)
      wBar = max(factor, Int((w / beta / f).rounded(.down)) * factor)
    } else if hBar * wBar < minPixels {
      let beta = (Double(minPixels) / (h * w)).squareRoot()
      hBar = Int((h * beta / f).rounded(.up)) * factor
      wBar = Int((w * beta / f).rounded(.up)) * factor
    }
    return (hBar, wBar)
  }

  /// 8-bit RGB, interleaved (height, width, 3), already at `targetSize` -> normalized patches
  /// (h/p * w/p, C*T*p*p) in the processor's order, and the grid (1, h/p, w/p).
  public func patches(rgb: [UInt8], height: Int, width: Int) throws(EngineError) -> (values: [Float], grid: ImageGrid) {
    let p = patchSize, m = mergeSize, t = temporalPatchSize
    guard height > 0, width > 0, height % (p * m) == 0, width % (p * m) == 0 else {
      throw .invalidArgument("image \(width)x\(height) is not a multiple of \(p * m) on each side; resize it to targetSize first")
    }
    guard rgb.count == height * width * 3 else {
      throw .invalidArgument("\(rgb.count) bytes for a \(width)x\(height) RGB image")
    }
    let gh = height / p, gw = width / p
    let per = 3 * t * p * p
    var out = [Float](repeating: 0, count: gh * gw * per)
    var row = 0
    for by in 0..<(gh / m) { for bx in 0..<(gw / m) { for dy in 0..<m { for dx in 0..<m {
      let py = (by * m + dy) * p, px = (bx * m + dx) * p
      let base = row * per
      for c in 0..<3 {
        for y in 0..<p {
          for x in 0..<p {
            // (v / 255 - mean) / std, as rescale then normalize
            let v = (Float(rgb[((py + y) * width + px + x) * 3 + c]) * rescaleFactor - mean[c]) / std[c]
            for f in 0..<t { out[base + ((c * t + f) * p + y) * p + x] = v }
          }
        }
      }
      row += 1
    } } } }
    return (out, ImageGrid(t: 1, h: gh, w: gw))
  }
}
