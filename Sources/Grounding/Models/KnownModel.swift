// One published GUI grounding model family: how to recognise its folder, what it was trained
// to read and write, and where that is documented.

/// How a family writes its answer.
public enum AnswerForm: String, Sendable, Codable, CaseIterable {
  /// One point: `(x,y)`, `[x, y]`, `{"point_2d": [x, y]}`, `{"x": .., "y": ..}`, ...
  case point
  /// A box whose center is the click: `<|box_start|>(x1,y1),(x2,y2)<|box_end|>`, `[x1,y1,x2,y2]`,
  /// `{"bbox_2d": [...]}`.
  case box
  /// UI-TARS: `Thought: ...` then `Action: click(start_box='(x,y)')`; the point comes from the
  /// Action line.
  case uiTarsAction = "ui-tars-action"
  /// A pointer head scores the image patches; no coordinates are written.
  case pointerHead = "pointer-head"
}

/// A row of the known-models table.
public struct KnownModel: Sendable, Hashable {
  /// The name `--model-name` takes, lower case: `ui-tars-1.5`.
  public let id: String
  /// The family as its authors write it: `UI-TARS-1.5`.
  public let displayName: String
  /// Lower-case fragments that name the family in a folder's name, config or model card
  /// (`-` for `_`, `.` and spaces as written); the longest one that matches wins.
  public let aliases: [String]
  /// The `model_type` values its checkpoints use.
  public let architectures: [String]
  public let convention: CoordinateConvention
  public let answer: AnswerForm
  /// The prompt it was trained with; nil when none is published (the bare instruction is used).
  public let template: PromptTemplate?
  /// What the model writes, for the documentation and the tests.
  public let exampleAnswer: String
  /// Where the convention and the prompt are documented.
  public let source: String
  /// What to know beyond the fields (a prompt not found, a convention detail, no support yet).
  public let note: String
  /// A base model (Qwen2-VL, ...) rather than a GUI fine-tune: a derivative's name wins over it.
  public let isBase: Bool

  public init(id: String, displayName: String, aliases: [String], architectures: [String],
              convention: CoordinateConvention, answer: AnswerForm, template: PromptTemplate?,
              exampleAnswer: String, source: String, note: String = "", isBase: Bool = false) {
    self.id = id; self.displayName = displayName; self.aliases = aliases; self.architectures = architectures
    self.convention = convention; self.answer = answer; self.template = template
    self.exampleAnswer = exampleAnswer; self.source = source; self.note = note; self.isBase = isBase
  }

  /// Whether `family` (a `model_type`) is one of this row's architectures.
  public func runs(on family: String) -> Bool { architectures.contains(family.lowercased()) }
}
