import Testing
@testable import gui_agent

/// The progress line's text: durations, rates, time left and how it fits a terminal's width.
@Suite struct ProgressLineTests {
  @Test(arguments: [(0.0, "0s"), (12.4, "12s"), (59.6, "1m00s"), (185, "3m05s"), (3599, "59m59s"),
                    (3720, "1h02m"), (36_000 + 540, "10h09m"), (-1, "-"), (.infinity, "-"), (.nan, "-")])
  func duration(seconds: Double, text: String) {
    #expect(ProgressLine.duration(seconds) == text)
  }

  @Test func rateAndTimeLeft() {
    var line = ProgressLine(label: "screenspot v1", done: 10, total: 40, elapsed: 4, unit: "sample")
    #expect(line.rateText == "2.5/s")
    // 30 left at 2.5/s.
    #expect(line.timeText == "ETA 12s")
    line.elapsed = 0.5
    #expect(line.rateText == "20/s")
    line.elapsed = 40
    #expect(line.rateText == "4.0 s/sample")
    #expect(line.timeText == "ETA 2m00s")
    // Measured from a later start: 9 items in 3 s after the first.
    line.measured = (9, 3)
    #expect(line.rateText == "3.0/s" && line.timeText == "ETA 10s")
    line.measured = (0, 0)
    #expect(line.rateText == "-/s" && line.timeText == "ETA -")
    line.measured = nil
    line.done = 0
    #expect(line.rateText == "-/s" && line.timeText == "ETA -")
    line.done = 40
    line.elapsed = 3725
    #expect(line.timeText == "done in 1h02m")
    // Stopped short (a failure): the time taken, not a guess of what is left.
    line.done = 7
    line.finished = true
    #expect(line.timeText == "done in 1h02m")
  }

  @Test func fullWidthLine() {
    let line = ProgressLine(label: "screenspot v1", done: 12, total: 40, elapsed: 6)
    let text = line.text(width: 100)
    // 30 % of a 30-column bar is 9 columns filled.
    #expect(text == "screenspot v1 [" + String(repeating: "#", count: 9) + String(repeating: "-", count: 21)
            + "] 12/40  30%  2.0/s  ETA 14s")
  }

  @Test func narrowTerminalsShrinkTheBarThenDropItThenCutTheLabel() {
    let line = ProgressLine(label: "quantize q4_K (M values)", done: 50, total: 200, elapsed: 10)
    let tail = "50/200  25%  5.0/s  ETA 30s"
    // label (24) + " [" + bar + "] " + tail (27): 63 columns leave a 12-column bar.
    #expect(line.text(width: 67) == "quantize q4_K (M values) [###---------] " + tail)
    #expect(line.text(width: 64) == "quantize q4_K (M values) " + tail)
    #expect(line.text(width: 40) == "quantize q4… " + tail)
    for width in [0, 5, 20, 28, 30, 52, 80, 200] {
      #expect(line.text(width: width).count <= max(width, 0), "width \(width): \(line.text(width: width))")
    }
  }

  @Test func countsBeyondTheTotalAreClamped() {
    let line = ProgressLine(label: "x", done: 12, total: 10, elapsed: 1)
    #expect(line.text(width: 80).contains("10/10 100%"))
  }
}
