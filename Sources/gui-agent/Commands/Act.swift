import Imaging
import Foundation
import ScreenCapture

/// `gui-agent act …`: input events through XTest, one subcommand per action.
extension Commands {
  static let act = Command(
    name: "act",
    abstract: "Send input to the X display: pointer, clicks, drags, scrolls, keys, text.",
    subcommands: [actMove, actClick("click", .left, 1), actClick("double-click", .left, 2),
                  actClick("right-click", .right, 1), actClick("middle-click", .middle, 1),
                  actDrag, actScroll, actKey, actType])

  private static let point = [PositionalSpec(name: "X", help: "Screen x in pixels."),
                              PositionalSpec(name: "Y", help: "Screen y in pixels.")]
  private static let optionalPoint = point.map {
    PositionalSpec(name: $0.name, help: $0.help + " Default: where the pointer is.", optional: true)
  }
  private static let delayOption = OptionSpec.value("delay", "MS", "Pause after each key or button event (default 12).")

  static let actMove = Command(
    name: "move", abstract: "Move the pointer to X Y.",
    options: [displayOption], positionals: point,
    run: { args in
      try inputAction(args, name: "move") { x in try x.movePointer(to: try screenPoint(args, 0)) }
    })

  static func actClick(_ name: String, _ button: MouseButton, _ count: Int) -> Command {
    Command(
      name: name, abstract: "\(count == 2 ? "Double-click" : "Click") the \(button) button at X Y.",
      options: [displayOption, delayOption], positionals: optionalPoint,
      run: { args in
        guard args.positionals.count != 1 else { throw UsageError("give both X and Y, or neither") }
        return try inputAction(args, name: name) { x in
          let p = args.positionals.isEmpty ? nil : try screenPoint(args, 0)
          try x.click(at: p, button: button, count: count)
        }
      })
  }

  static let actDrag = Command(
    name: "drag", abstract: "Press at X1 Y1, move in paced steps to X2 Y2 (and further points), release.",
    options: [displayOption, delayOption,
              .value("step", "PIXELS", "Largest pointer step between motion events (default 10)."),
              .value("step-delay", "MS", "Pause between motion events (default 10)."),
              .value("button", "left|middle|right", "The button held during the drag (default left).")],
    positionals: [PositionalSpec(name: "X1 Y1 X2 Y2", help: "Two or more points, as pairs of numbers.", variadic: true)],
    run: { args in
      let values = args.positionals
      guard values.count >= 4, values.count % 2 == 0 else {
        throw UsageError("drag needs pairs of coordinates: X1 Y1 X2 Y2 [X3 Y3 …]")
      }
      let path = try stride(from: 0, to: values.count, by: 2).map { try screenPoint(args, $0) }
      let step = try args.int("step", range: 1...10_000) ?? 10
      let stepDelay = Double(try args.int("step-delay", range: 0...10_000) ?? 10) / 1000
      let button = try mouseButton(args.string("button") ?? "left")
      return try inputAction(args, name: "drag") { x in
        try x.drag(along: path, button: button, stepPixels: step, stepDelay: stepDelay)
      }
    })

  static let actScroll = Command(
    name: "scroll", abstract: "Scroll up, down, left or right by N notches.",
    options: [displayOption, delayOption,
              .value("amount", "N", "Notches to scroll (default 1)."),
              .value("at", "X,Y", "Move the pointer here first.")],
    positionals: [PositionalSpec(name: "DIRECTION", help: "up, down, left or right.")],
    run: { args in
      let word = args.positionals[0].lowercased()
      guard let direction = ScrollDirection(rawValue: word) else {
        throw UsageError("scroll direction '\(word)' is not up, down, left or right")
      }
      let amount = try args.int("amount", range: 1...1000) ?? 1
      let at = try args.intList("at", count: 2).map { ScreenPoint(x: $0[0], y: $0[1]) }
      return try inputAction(args, name: "scroll") { x in try x.scroll(direction, clicks: amount, at: at) }
    })

  static let actKey = Command(
    name: "key", abstract: "Press key combinations, e.g. ctrl+shift+s, alt+F4, Return.",
    discussion: "Each COMBO is pressed in order; keys of a combination are released in reverse.",
    options: [displayOption, delayOption],
    positionals: [PositionalSpec(name: "COMBO", help: "Keysym names joined by '+'.", variadic: true)],
    run: { args in
      try inputAction(args, name: "key") { x in
        for combo in args.positionals { try x.key(combo) }
      }
    })

  static let actType = Command(
    name: "type", abstract: "Type text, any Unicode, as keystrokes.",
    discussion: "Characters missing from the keymap are typed through a temporarily remapped spare keycode.",
    options: [displayOption, delayOption],
    positionals: [PositionalSpec(name: "TEXT", help: "The text to type ('\\n' in the text is Return).")],
    run: { args in
      try inputAction(args, name: "type") { x in try x.type(args.positionals[0]) }
    })

  // MARK: - Helpers

  /// Opens the display, applies `--delay`, runs `body`, reports where the pointer ended.
  private static func inputAction(_ args: ParsedArguments, name: String,
                                  _ body: (X11Display) throws -> Void) throws -> ExitCode {
    let x = try X11Display(display: args.string("display"))
    if let ms = try args.int("delay", range: 0...10_000) { x.keyDelay = Double(ms) / 1000 }
    try body(x)
    let p = try x.pointerPosition()
    if args.json {
      try Output.json(["action": name, "ok": true, "pointer": ["x": p.x, "y": p.y]])
    } else {
      Output.log("\(name) done; pointer at \(p)")
    }
    return .success
  }

  private static func screenPoint(_ args: ParsedArguments, _ index: Int) throws -> ScreenPoint {
    let sx = args.positionals[index], sy = args.positionals[index + 1]
    guard let x = Int(sx), let y = Int(sy) else { throw UsageError("'\(sx) \(sy)' is not a point (integers X Y)") }
    return ScreenPoint(x: x, y: y)
  }

  private static func mouseButton(_ s: String) throws -> MouseButton {
    switch s.lowercased() {
    case "left": .left
    case "middle": .middle
    case "right": .right
    default: throw UsageError("button '\(s)' is not left, middle or right")
    }
  }
}
