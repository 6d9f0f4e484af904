import Engine
import Foundation
import Imaging
import ScreenCapture

extension Commands {
  static let displayOption = OptionSpec.value("display", "NAME", "X display to use (default: $DISPLAY).")

  static let screens = Command(
    name: "screens",
    abstract: "List the X screen and its monitors (RandR).",
    options: [displayOption],
    run: { args in
      let x = try X11Display(display: args.string("display"))
      let monitors = try x.monitors()
      if args.json {
        try Output.json([
          "display": x.name,
          "width": x.screenWidth, "height": x.screenHeight,
          "monitors": monitors.enumerated().map { i, m in
            ["index": i, "name": m.name, "x": m.rect.x, "y": m.rect.y,
             "width": m.rect.width, "height": m.rect.height, "primary": m.isPrimary] as [String: Any]
          },
        ])
      } else {
        Output.out("display \(x.name): \(x.screenWidth)x\(x.screenHeight)")
        for (i, m) in monitors.enumerated() {
          Output.out("  [\(i)] \(m.name) \(m.rect)\(m.isPrimary ? " primary" : "")")
        }
      }
      return .success
    })

  static let capture = Command(
    name: "capture",
    abstract: "Capture the screen, a monitor, a window or a region to a PNG file.",
    discussion: """
      Without a target option the whole screen is captured. Pixels come through MIT-SHM when the
      X server shares memory with this process, else through GetImage (--method forces one).
      """,
    options: [
      .value("output", short: "o", "FILE.png", "Where to write the PNG (required)."),
      .value("monitor", "N|NAME", "A monitor by index (see 'screens') or RandR name."),
      .value("window", "ID|NAME", "A window by X id (decimal or 0x hex) or by title."),
      .value("region", "X,Y,W,H", "A rectangle of the screen."),
      .value("method", "auto|shm|getimage", "How pixels travel from the server (default auto)."),
      .flag("fast", "Faster, larger PNG (no row filters, zlib level 3)."),
      displayOption,
    ],
    run: { args in
      guard let output = args.string("output") else { throw UsageError("missing --output FILE.png") }
      let target = try captureTarget(args)
      let method = try captureMethod(args)
      let x = try X11Display(display: args.string("display"))
      let clock = ContinuousClock()
      let t0 = clock.now
      let image = try x.capture(target, method: method)
      let captureSeconds = (clock.now - t0).seconds
      try PNG.write(image, to: output, compression: args.flag("fast") ? .fast : .standard)
      if args.json {
        try Output.json(["path": output, "width": image.width, "height": image.height,
                         "capture_seconds": captureSeconds])
      } else {
        Output.out("wrote \(output) (\(image.width)x\(image.height))")
      }
      return .success
    })

  static func captureTarget(_ args: ParsedArguments) throws -> CaptureTarget {
    let chosen = ["monitor", "window", "region"].filter { args.string($0) != nil }
    guard chosen.count <= 1 else { throw UsageError("choose one of --monitor, --window, --region") }
    if let m = args.string("monitor") {
      if let i = Int(m) { return .monitor(index: i) }
      return .monitorNamed(m)
    }
    if let w = args.string("window") {
      if let id = parseWindowId(w) { return .window(id: id) }
      return .windowNamed(w)
    }
    if let r = try args.intList("region", count: 4) {
      guard r[2] > 0, r[3] > 0 else { throw UsageError("--region: width and height must be positive") }
      return .region(PixelRect(x: r[0], y: r[1], width: r[2], height: r[3]))
    }
    return .screen
  }

  static func parseWindowId(_ s: String) -> UInt32? {
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt32(s.dropFirst(2), radix: 16) }
    return UInt32(s)
  }

  static func captureMethod(_ args: ParsedArguments) throws -> CaptureMethod {
    switch args.string("method")?.lowercased() {
    case nil, "auto": .auto
    case "shm": .shm
    case "getimage", "get-image": .getImage
    case let other?: throw UsageError("--method: '\(other)' is not auto, shm or getimage")
    }
  }
}
