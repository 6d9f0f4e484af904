import Foundation
import Imaging
import Testing
import TestSupport
@testable import ScreenCapture

extension XServerTests {
  /// Depth 16 (RGB565) and depth 30 (10 bits a channel) without MIT-SHM: the masked unpacking
  /// path on a real server, and the automatic fallback from shared memory to GetImage.
  @Test(arguments: [16, 30])
  func otherDepthsAndNoSharedMemory(depth: Int) throws {
    _ = try testDisplayName()  // these tests run under Xvfb like the others
    let server = try PrivateXvfb(arguments: ["-screen", "0", "320x240x\(depth)", "-extension", "MIT-SHM"])
    defer { server.stop() }
    let client = try TestClient(display: server.display)
    defer { client.close() }
    let x = try X11Display(display: server.display)
    #expect(x.pixelFormat.depth == depth)
    let (r, g, b) = (x.pixelFormat.redMask, x.pixelFormat.greenMask, x.pixelFormat.blueMask)
    let w = try client.window(PixelRect(x: 0, y: 0, width: 320, height: 240))
    // Red at half intensity: raw value 2^(bits-1) scales to round(raw * 255 / max).
    let redMax = r >> UInt32(r.trailingZeroBitCount)
    let halfRed = (redMax + 1) / 2
    let fills: [(UInt32, RGB)] = [
      (r, RGB(255, 0, 0)), (g, RGB(0, 255, 0)), (b, RGB(0, 0, 255)), (r | g | b, RGB(255, 255, 255)),
      (halfRed << UInt32(r.trailingZeroBitCount), RGB(UInt8((Double(halfRed) * 255 / Double(redMax)).rounded()), 0, 0)),
    ]
    var expected = try RGBImage(width: 320, height: 240)
    for (i, (pixel, colour)) in fills.enumerated() {
      let cell = PixelRect(x: i * 60, y: 20, width: 50, height: 100)
      client.fill(w, cell, pixel: pixel)
      for yy in cell.y..<(cell.y + cell.height) { for xx in cell.x..<(cell.x + cell.width) { expected[xx, yy] = colour } }
    }
    #expect(!x.sharedMemoryAvailable)
    #expect(x.sharedMemoryUnavailableReason?.contains("does not offer MIT-SHM") == true)
    #expect(throws: ScreenCaptureError.self) { try x.capture(.screen, method: .shm) }
    let auto = try x.capture(.screen, method: .auto)
    #expect(firstDifference(auto, expected) == nil)
    #expect(auto == (try x.capture(.screen, method: .getImage)))
  }

  @Test func benchmarkReportsTimings() throws {
    let t = try CaptureBenchmark.run(display: testDisplayName(), method: .shm, iterations: 5)
    #expect(t.n == 5 && t.width > 0 && t.height > 0)
    #expect(t.samplesMs.allSatisfy { $0 > 0 } && t.minMs <= t.p50Ms && t.p50Ms <= t.samplesMs.max() ?? 0)
    #expect(t.json.contains("\"p50_ms\"") && t.json.contains("\"n\": 5"))
    print("capture benchmark (\(t.method), \(t.width)x\(t.height)): \(t.json)")
    let g = try CaptureBenchmark.run(display: testDisplayName(), method: .getImage, iterations: 5)
    print("capture benchmark (\(g.method)): \(g.json)")
  }
}
