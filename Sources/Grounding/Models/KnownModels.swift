// The published GUI grounding families this build knows, one row each. Conventions and prompts
// come from each family's model card, repository or report (the `source` of the row).

public enum KnownModels {
  /// Every row, base models first, then their GUI fine-tunes by base.
  public static let all: [KnownModel] = [
    // MARK: Base models
    KnownModel(
      id: "qwen2-vl", displayName: "Qwen2-VL", aliases: ["qwen2-vl"], architectures: ["qwen2_vl"],
      convention: .norm1000, answer: .box, template: nil,
      exampleAnswer: "<|object_ref_start|>the Save button<|object_ref_end|><|box_start|>(120,40),(180,62)<|box_end|>",
      source: "https://arxiv.org/abs/2409.12191",
      note: "The report gives the box form (0...1000, <|box_start|>(x1,y1),(x2,y2)<|box_end|>) but no grounding prompt; the bare instruction is used.",
      isBase: true),
    KnownModel(
      id: "qwen2.5-vl", displayName: "Qwen2.5-VL", aliases: ["qwen2.5-vl", "qwen2-5-vl"], architectures: ["qwen2_5_vl"],
      convention: .resizedPixels, answer: .box, template: .qwen25VL,
      exampleAnswer: "```json\n[{\"bbox_2d\": [311, 52, 402, 80], \"label\": \"Save button\"}]\n```",
      source: "https://github.com/QwenLM/Qwen2.5-VL/blob/main/cookbooks/spatial_understanding.ipynb",
      note: "Absolute pixels of the image after smart_resize; points come as {\"point_2d\": [x, y]}.",
      isBase: true),
    KnownModel(
      id: "qwen3-vl", displayName: "Qwen3-VL", aliases: ["qwen3-vl"], architectures: ["qwen3_vl"],
      convention: .norm1000, answer: .box, template: .qwen3VL,
      exampleAnswer: "```json\n[{\"bbox_2d\": [161, 48, 209, 74], \"label\": \"Save button\"}]\n```",
      source: "https://github.com/QwenLM/Qwen3-VL/blob/main/cookbooks/2d_grounding.ipynb",
      note: "Qwen3-VL went back from absolute pixels to 0...1000 relative coordinates.",
      isBase: true),

    // MARK: Qwen3-VL fine-tunes (0...1000)
    KnownModel(
      id: "ui-venus-1.5", displayName: "UI-Venus-1.5", aliases: ["ui-venus-1.5", "ui-venus-1-5"], architectures: ["qwen3_vl"],
      convention: .norm1000, answer: .point, template: .uiVenus15, exampleAnswer: "[412,73]",
      source: "https://github.com/inclusionAI/UI-Venus/blob/main/models/grounding/ui_venus1_5_gd.py",
      note: "[-1,-1] means the target is not on the screen (reported as no coordinate). The reference code drops a trailing '.' from the instruction."),
    KnownModel(
      id: "mai-ui", displayName: "MAI-UI", aliases: ["mai-ui"], architectures: ["qwen3_vl"],
      convention: .norm1000, answer: .point, template: .maiUI,
      exampleAnswer: "<grounding_think>The Save button is in the toolbar.</grounding_think>\n<answer>\n{\"coordinate\": [412,73]}\n</answer>",
      source: "https://github.com/Tongyi-MAI/MAI-UI/blob/main/src/prompt.py",
      note: "The reference code divides by 999, not 1000: at most 0.1 % apart (2 px on a 1920 px screen)."),
    KnownModel(
      id: "gui-owl-1.5", displayName: "GUI-Owl-1.5", aliases: ["gui-owl-1.5", "gui-owl-1-5"], architectures: ["qwen3_vl"],
      convention: .norm1000, answer: .point, template: nil, exampleAnswer: "[412, 73]",
      source: "https://github.com/X-PLUG/MobileAgent",
      note: "No grounding prompt was found in the published material; the bare instruction is used (give one with --prompt-template)."),
    KnownModel(
      id: "holo2", displayName: "Holo2", aliases: ["holo2"], architectures: ["qwen3_vl"],
      convention: .norm1000, answer: .point, template: .holo2, exampleAnswer: "{\"x\": 412, \"y\": 73}",
      source: "https://huggingface.co/Hcompany/Holo2-8B",
      note: "The card turns thinking off for localization; use --no-think."),

    // MARK: Qwen2-VL fine-tunes (0...1000 unless said)
    KnownModel(
      id: "ui-tars", displayName: "UI-TARS", aliases: ["ui-tars", "uitars"], architectures: ["qwen2_vl"],
      convention: .norm1000, answer: .uiTarsAction, template: .uiTars,
      exampleAnswer: "Thought: The Save button is at the top left.\nAction: click(start_box='(412,73)')",
      source: "https://arxiv.org/abs/2501.12326 and https://github.com/bytedance/UI-TARS (the 1.0 README: prompt template for computer)"),
    KnownModel(
      id: "os-atlas-base", displayName: "OS-Atlas-Base-7B", aliases: ["os-atlas-base", "os-atlas"], architectures: ["qwen2_vl"],
      convention: .norm1000, answer: .box, template: .osAtlas,
      exampleAnswer: "<|object_ref_start|>Save<|object_ref_end|><|box_start|>(380,60),(444,86)<|box_end|>",
      source: "https://huggingface.co/OS-Copilot/OS-Atlas-Base-7B",
      note: "OS-Atlas-Base-4B is an InternVL2 model, not supported."),
    KnownModel(
      id: "uground-v1", displayName: "UGround-V1", aliases: ["uground-v1", "uground"], architectures: ["qwen2_vl"],
      convention: .norm1000, answer: .point, template: .uground, exampleAnswer: "(412, 73)",
      source: "https://huggingface.co/osunlp/UGround-V1-7B"),
    KnownModel(
      id: "showui", displayName: "ShowUI", aliases: ["showui"], architectures: ["qwen2_vl"],
      convention: .unitInterval, answer: .point, template: .showUI, exampleAnswer: "[0.49, 0.37]",
      source: "https://huggingface.co/showlab/ShowUI-2B"),
    KnownModel(
      id: "gui-actor", displayName: "GUI-Actor", aliases: ["gui-actor"], architectures: ["qwen2_vl", "qwen2_5_vl"],
      convention: .norm1000, answer: .pointerHead, template: nil, exampleAnswer: "pyautogui.click(<ACTOR>)",
      source: "https://github.com/microsoft/GUI-Actor",
      note: "Answers through an action head over the image patches, not in text: a folder whose config.json names pointer_*_token_id grounds with that head (one prefill, no decoding) and GUI-Actor's own prompt."),

    // MARK: Qwen2.5-VL fine-tunes (pixels of the resized image)
    KnownModel(
      id: "ui-tars-1.5", displayName: "UI-TARS-1.5", aliases: ["ui-tars-1.5", "ui-tars-1-5", "uitars-1.5"],
      architectures: ["qwen2_5_vl"], convention: .resizedPixels, answer: .uiTarsAction, template: .uiTars15,
      exampleAnswer: "Thought: I need the Save button (at the top, near (10, 20)).\nAction: click(start_box='(412,73)')",
      source: "https://github.com/bytedance/UI-TARS (codes/ui_tars/prompt.py, README_coordinates.md, README_deploy.md)",
      note: "Newer prompts write click(point='<point>x y</point>'); both spellings are read. 'ui-tars-1.5-grounding' is the shorter Action-only prompt."),
    KnownModel(
      id: "gta1", displayName: "GTA1", aliases: ["gta1"], architectures: ["qwen2_5_vl"],
      convention: .resizedPixels, answer: .point, template: .gta1, exampleAnswer: "(412,73)",
      source: "https://huggingface.co/HelloKKMe/GTA1-7B"),
    KnownModel(
      id: "ui-venus-ground", displayName: "UI-Venus-Ground", aliases: ["ui-venus-ground"], architectures: ["qwen2_5_vl"],
      convention: .resizedPixels, answer: .box, template: .uiVenusGround, exampleAnswer: "[380,60,444,86]",
      source: "https://github.com/inclusionAI/UI-Venus/blob/main/models/grounding/ui_venus_ground_7b.py"),
    KnownModel(
      id: "se-gui", displayName: "SE-GUI", aliases: ["se-gui"], architectures: ["qwen2_5_vl"],
      convention: .resizedPixels, answer: .point, template: nil, exampleAnswer: "(412,73)",
      source: "not found: neither card nor repository could be read here",
      note: "Neither its prompt nor its card was found; the convention is its Qwen2.5-VL base's and the bare instruction is used (give a prompt with --prompt-template)."),
    KnownModel(
      id: "infigui-g1", displayName: "InfiGUI-G1", aliases: ["infigui-g1"], architectures: ["qwen2_5_vl"],
      convention: .resizedPixels, answer: .point, template: .infiGUIG1,
      exampleAnswer: "<think>The Save icon is a floppy disk.</think>\n[{\"point_2d\": [412, 73]}]",
      source: "https://huggingface.co/InfiX-ai/InfiGUI-G1-7B"),
  ]

  /// Prompts that are not a row's own but can be named with `--prompt-template`.
  public static let extraTemplates: [PromptTemplate] = [.uiTars15Grounding]

  /// Every named template: the rows' and the extra ones.
  public static var templates: [PromptTemplate] { all.compactMap(\.template) + extraTemplates }
  public static var templateNames: [String] { templates.map(\.name) }

  /// The row named `name` (its id or display name, case-insensitively).
  public static func named(_ name: String) -> KnownModel? {
    let key = name.lowercased()
    return all.first { $0.id == key || $0.displayName.lowercased() == key }
  }

  /// The template named `name`, case-insensitively.
  public static func template(named name: String) -> PromptTemplate? {
    templates.first { $0.name == name.lowercased() }
  }

  /// The row a bare architecture falls back to (its base model), if it has one.
  public static func base(for family: String) -> KnownModel? {
    all.first { $0.isBase && $0.runs(on: family) }
  }
}
