import Engine

// The token sequence of an image (format, "Forward pass" step 4):
//   image_start, thumbnail h*h, then per tile row: each tile's h*h, tile_newline; image_end.
// Image-feature positions hold the image_pad id; the adapter outputs fill them in order.

public enum ImageTokenLayout {
  /// h: adapter tokens per tile side, ceil(g/2) with g = T/P patches a side (2x2 downsampling
  /// pads an odd g). The tile must be a whole number of patches.
  public static func tokensPerSide(tileSize: Int, patchSize: Int) throws(GroundingError) -> Int {
    guard patchSize > 0, tileSize > 0, tileSize % patchSize == 0 else {
      throw .tileNotMultipleOfPatch(tileSize: tileSize, patchSize: patchSize)
    }
    return (tileSize / patchSize + 1) / 2
  }

  /// Image-feature positions of one image: h*h per tile, thumbnail included.
  public static func featureCount(plan: TilePlan, tokensPerSide h: Int) -> Int {
    plan.tileCount * h * h
  }

  /// The expanded tokens of one image.
  public static func tokens(plan: TilePlan, tokensPerSide h: Int, ids: ImageTokenIds) -> [Int] {
    let perTile = [Int](repeating: ids.imagePad, count: h * h)
    var out = [ids.imageStart]
    out.reserveCapacity(featureCount(plan: plan, tokensPerSide: h) + plan.grid.rows + 2)
    if plan.hasThumbnail { out += perTile }
    for _ in 0..<plan.grid.rows {
      for _ in 0..<plan.grid.cols { out += perTile }
      out.append(ids.tileNewline)
    }
    out.append(ids.imageEnd)
    return out
  }

  /// Replaces the k-th `image_pad` placeholder of `tokens` by the expansion of `plans[k]`.
  /// - Throws: `imagePlaceholderMismatch` when placeholders and plans differ in number.
  public static func expand(_ tokens: [Int], plans: [TilePlan], tokensPerSide h: Int,
                            ids: ImageTokenIds) throws(GroundingError) -> [Int] {
    let placeholders = tokens.count { $0 == ids.imagePad }
    guard placeholders == plans.count else {
      throw .imagePlaceholderMismatch(placeholders: placeholders, images: plans.count)
    }
    var out: [Int] = []
    var k = 0
    for t in tokens {
      if t == ids.imagePad {
        out += Self.tokens(plan: plans[k], tokensPerSide: h, ids: ids)
        k += 1
      } else {
        out.append(t)
      }
    }
    return out
  }
}
