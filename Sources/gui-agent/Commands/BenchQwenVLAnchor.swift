import Engine
import Foundation
import Imaging

// MARK: - bench qwen-vl: the anchor's report, and the default screenshot

extension Commands {
  /// What the anchor reported, in our terms, and its JSON object as printed.
  struct QwenVLAnchorRun {
    var imageTokens: Int
    var promptTokens: Int
    var timings: QwenVLBenchmark.Timings
    var peakMiB: Double?
    var raw: [String: Any]
    /// Whether the anchor timed vision blocks and decoder layers (the full-depth estimate needs
    /// them); without them the layer shares are its whole prefill and decode step.
    var hasLayerTimings: Bool
  }

  /// Runs the anchor once on the same model, image, instruction and settings. Without `image`,
  /// the synthetic screenshot goes to a temporary PNG for it. `prompt` is our rendered prompt
  /// (image placeholder included), for an anchor that has no chat template of its own.
  static func qwenVLAnchor(_ cmd: String, model: String, mmproj: String?, threads: Int, decode: Int,
                           instruction: String, prompt: String, image: String?,
                           screenshot: RGBImage) throws -> QwenVLAnchorRun {
    var imagePath = image
    var temporary: String? = nil
    if imagePath == nil {
      let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("gui-agent-bench-\(getpid())-screenshot.png").path
      try PNG.write(screenshot, to: path)
      imagePath = path
      temporary = path
    }
    defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
    var environment = [
      "BENCH_MODEL": model, "BENCH_THREADS": String(threads), "BENCH_IMAGE": imagePath ?? "",
      "BENCH_DECODE_TOKENS": String(decode), "BENCH_INSTRUCTION": instruction, "BENCH_PROMPT": prompt,
    ]
    if let mmproj { environment["BENCH_MMPROJ"] = mmproj }
    let obj = try anchorJSON(cmd, environment: environment)
    func number(_ key: String) throws -> Double {
      guard let v = (obj[key] as? NSNumber)?.doubleValue, v.isFinite, v >= 0 else {
        throw BenchError("the anchor printed no non-negative number \"\(key)\": \(obj)")
      }
      return v
    }
    func count(_ key: String) throws -> Int {
      guard let v = obj[key] as? Int, v >= 0 else { throw BenchError("the anchor printed no count \"\(key)\": \(obj)") }
      return v
    }
    func list(_ key: String) throws -> [Double] {
      guard let items = obj[key] as? [NSNumber] else { throw BenchError("the anchor printed no list of seconds \"\(key)\": \(obj)") }
      return items.map(\.doubleValue)
    }
    // The per-block and per-layer fields come all together or not at all.
    let layerKeys = ["vision_window_block_seconds", "vision_full_block_seconds", "prefill_layer_seconds", "decode_layer_seconds"]
    let present = layerKeys.filter { obj[$0] != nil && !(obj[$0] is NSNull) }
    guard present.isEmpty || present.count == layerKeys.count else {
      throw BenchError("the anchor printed \(present) but not \(layerKeys.filter { !present.contains($0) }): give all of the per-block and per-layer fields or none")
    }
    let layered = !present.isEmpty
    let prefill = try number("prefill_seconds"), step = try number("decode_step_seconds")
    let timings = QwenVLBenchmark.Timings(
      preprocessSeconds: try number("preprocess_seconds"), visionSeconds: try number("vision_seconds"),
      windowBlockSeconds: layered ? try list("vision_window_block_seconds") : [],
      fullBlockSeconds: layered ? try list("vision_full_block_seconds") : [],
      prefillSeconds: prefill, prefillLayerSeconds: layered ? try number("prefill_layer_seconds") : prefill,
      decodeStepSeconds: step, decodeLayerSeconds: layered ? try number("decode_layer_seconds") : step,
      textLayers: try count("text_layers"))
    guard timings.decodeStepSeconds > 0 else { throw BenchError("the anchor reported a decode step of 0 s: \(obj)") }
    return QwenVLAnchorRun(imageTokens: try count("image_tokens"), promptTokens: try count("prompt_tokens"),
                           timings: timings, peakMiB: (obj["peak_rss_mib"] as? NSNumber)?.doubleValue, raw: obj,
                           hasLayerTimings: layered)
  }

  /// A 1920x1080 desktop: a panel, a file manager window with a sidebar and a file list, a
  /// dialog with buttons, text in the built-in font. Deterministic, so both sides of a run (and
  /// runs on different days) see the same pixels.
  static func syntheticScreenshot() throws -> RGBImage {
    var img = try RGBImage(width: 1920, height: 1080, fill: RGB(46, 52, 64))
    for y in stride(from: 0, to: 1080, by: 4) {  // a vertical gradient in bands
      let shade = UInt8(46 + y * 40 / 1080)
      img.fill(PixelRect(x: 0, y: y, width: 1920, height: 4), color: RGB(shade / 2, shade, shade + 30))
    }
    img.fill(PixelRect(x: 0, y: 0, width: 1920, height: 32), color: RGB(30, 30, 30))  // top panel
    for (i, name) in ["Activities", "Files", "Terminal", "Editor", "Settings"].enumerated() {
      img.drawText(name, x: 16 + i * 140, y: 8, color: RGB(230, 230, 230), scale: 2)
    }
    img.drawText("Tue 09:41", x: 1780, y: 8, color: RGB(230, 230, 230), scale: 2)
    // The file manager: title bar, toolbar, sidebar, list.
    let window = PixelRect(x: 120, y: 80, width: 1280, height: 860)
    img.fill(window, color: RGB(250, 250, 250))
    img.fill(PixelRect(x: 120, y: 80, width: 1280, height: 40), color: RGB(220, 220, 224))
    img.drawText("Documents - Files", x: 600, y: 92, color: RGB(20, 20, 20), scale: 2)
    img.fill(PixelRect(x: 120, y: 120, width: 240, height: 820), color: RGB(238, 238, 242))
    for (i, place) in ["Home", "Desktop", "Documents", "Downloads", "Music", "Pictures", "Videos", "Trash"].enumerated() {
      img.drawText(place, x: 140, y: 150 + i * 44, color: RGB(40, 40, 40), scale: 2)
    }
    for row in 0..<18 {
      let y = 140 + row * 44
      if row % 2 == 1 { img.fill(PixelRect(x: 360, y: y - 8, width: 1040, height: 44), color: RGB(244, 246, 250)) }
      img.drawText("report-\(2020 + row % 6)-q\(row % 4 + 1).pdf", x: 380, y: y, color: RGB(30, 30, 30), scale: 2)
      img.drawText("\(120 + row * 37) kB", x: 1000, y: y, color: RGB(90, 90, 90), scale: 2)
      img.drawText("0\(row % 9 + 1) Mar", x: 1220, y: y, color: RGB(90, 90, 90), scale: 2)
    }
    img.stroke(window, color: RGB(160, 160, 170), thickness: 2)
    // A save dialog in front, with its buttons.
    let dialog = PixelRect(x: 1060, y: 420, width: 700, height: 300)
    img.fill(dialog, color: RGB(245, 245, 245))
    img.stroke(dialog, color: RGB(120, 120, 130), thickness: 2)
    img.drawText("Save changes to report-2024-q1.pdf?", x: 1090, y: 470, color: RGB(20, 20, 20), scale: 2)
    img.drawText("Your changes will be lost if you don't save them.", x: 1090, y: 520, color: RGB(70, 70, 70), scale: 1)
    for (i, label) in ["Don't Save", "Cancel", "Save"].enumerated() {
      let button = PixelRect(x: 1200 + i * 180, y: 640, width: 160, height: 48)
      img.fill(button, color: label == "Save" ? RGB(53, 132, 228) : RGB(225, 225, 230))
      img.stroke(button, color: RGB(140, 140, 150), thickness: 1)
      img.drawText(label, x: button.x + 20, y: button.y + 16, color: label == "Save" ? RGB(255, 255, 255) : RGB(20, 20, 20), scale: 2)
    }
    return img
  }
}
