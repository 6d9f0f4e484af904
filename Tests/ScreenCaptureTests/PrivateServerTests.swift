import Foundation
import Imaging
import Testing
@testable import ScreenCapture

/// An Xvfb of the test's own, for server setups the shared one lacks (other depths, no MIT-SHM).
/// `-displayfd` lets Xvfb pick a free display number and report it once it accepts clients.
final class PrivateXvfb {
  let process = Process()
  let display: String

  init(arguments: [String]) throws {
    let out = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")  // Xvfb from PATH, same pid
    process.arguments = ["Xvfb", "-displayfd", "1", "-nolisten", "tcp"] + arguments
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Xvfb writes "N\n" once it accepts clients; read to the newline or EOF (it exited).
    var said = Data()
    while !said.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      said.append(chunk)
    }
    let n = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let number = Int(n) else {
      kill(process.processIdentifier, SIGKILL)
      throw TestClientError("Xvfb \(arguments) did not start (said '\(n)')")
    }
    display = ":\(number)"
  }

  /// SIGKILL, since a child of the test runner inherits SIGTERM blocked and `terminate()` does
  /// nothing; then the lock file and socket that Xvfb would have removed on a clean exit.
  func stop() {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let n = display.dropFirst()
    try? FileManager.default.removeItem(atPath: "/tmp/.X\(n)-lock")
    try? FileManager.default.removeItem(atPath: "/tmp/.X11-unix/X\(n)")
  }
}

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
