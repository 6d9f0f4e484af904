import Foundation

/// The width and height a PNG file declares in its IHDR chunk, read from its first 24 bytes:
/// scoring external predictions needs the image size, not its pixels.
enum PNGSize {
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  static func read(path: String) throws(GroundingError) -> (width: Int, height: Int) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw .invalidArgument("cannot open \(path)")
    }
    defer { try? handle.close() }
    let head = [UInt8]((try? handle.read(upToCount: 24)) ?? Data())
    // signature (8) | IHDR length (4) | "IHDR" (4) | width (4, BE) | height (4, BE)
    guard head.count == 24, Array(head[0..<8]) == signature, Array(head[12..<16]) == Array("IHDR".utf8) else {
      throw .invalidArgument("\(path) is not a PNG file (\(head.isEmpty ? "empty" : "no PNG header"))")
    }
    func u32(_ at: Int) -> Int { head[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    let w = u32(16), h = u32(20)
    guard w > 0, h > 0 else { throw .invalidArgument("\(path) declares a \(w)x\(h) image") }
    return (w, h)
  }
}
