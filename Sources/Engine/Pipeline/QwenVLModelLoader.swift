import Foundation

// MARK: - Loading a Qwen2-VL / Qwen2.5-VL folder as published

extension ModelLoader {
  /// A Qwen-VL checkpoint folder: config.json, safetensors (one file or shards with their
  /// index), tokenizer.json, preprocessor_config.json, and the chat template from
  /// chat_template.json, chat_template.jinja or tokenizer_config.json (ChatML when none).
  static func loadQwenVL(_ url: URL, config data: Data, options: LoadOptions = .init(),
                         threads: Int) throws(EngineError) -> LoadedModel {
    let config = try QwenVLConfig.decode(data)
    let tokenizerURL = url.appendingPathComponent("tokenizer.json")
    guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
      throw .tokenizer("\(tokenizerURL.path) is missing (a Qwen-VL folder needs tokenizer.json)")
    }
    let tokenizer: Tokenizer
    do { tokenizer = try Tokenizer.load(jsonAt: tokenizerURL) } catch let e as EngineError { throw e } catch {
      throw .tokenizer("\(tokenizerURL.path): \(error.localizedDescription)")
    }
    let preprocessorURL = url.appendingPathComponent("preprocessor_config.json")
    var resize: SmartResize
    if let bytes = FileManager.default.contents(atPath: preprocessorURL.path) {
      resize = try SmartResize.decode(bytes, vision: config.vision)
    } else {
      throw .badConfig("\(preprocessorURL.path) is missing (it gives the image size bounds and normalization)")
    }
    let budget = try resize.apply(options, otherwise: "preprocessor_config.json")
    func expect(_ text: String, _ id: Int, _ field: String) throws(EngineError) {
      guard tokenizer.tokenId(for: text) == id else {
        let actual = tokenizer.tokenId(for: text).map { "has id \($0)" } ?? "is not in tokenizer.json"
        throw .badConfig("\(field) is \(id), but the token \(text) \(actual)")
      }
    }
    try expect("<|image_pad|>", config.imageTokenId, "image_token_id")
    try expect("<|vision_start|>", config.visionStartTokenId, "vision_start_token_id")
    try expect("<|vision_end|>", config.visionEndTokenId, "vision_end_token_id")
    var eos = Set(config.eosTokenIds)
    if let generation = FileManager.default.contents(atPath: url.appendingPathComponent("generation_config.json").path) {
      let fields = try JSONFields(data: generation, context: "generation_config.json")
      eos.formUnion(try fields.optionalIntOrList("eos_token_id") ?? [])
    }
    if let imEnd = tokenizer.tokenId(for: "<|im_end|>") { eos.insert(imEnd) }
    guard !eos.isEmpty else { throw .badConfig("no eos_token_id in config.json or generation_config.json, and no <|im_end|> token") }
    if let pointer = config.pointerTokenIds {
      for (text, id, field) in [(PointerTokenIds.startText, pointer.start, "pointer_start_token_id"),
                                (PointerTokenIds.padText, pointer.pad, "pointer_pad_token_id"),
                                (PointerTokenIds.endText, pointer.end, "pointer_end_token_id")] {
        try expect(text, id, field)
      }
    }
    let network = try QwenVLModel(config: config, weights: options.observed(try SafetensorsCheckpoint(directory: url)), threads: threads)
    let ids = ImageTokenIds(imageStart: config.visionStartTokenId, imageEnd: config.visionEndTokenId,
                            tileNewline: -1, imagePad: config.imageTokenId)
    // GUI-Actor points after its own system prompt and action prefix (its inference code).
    let template = config.pointerTokenIds == nil ? try chatTemplate(url) : guiActorTemplate
    return LoadedModel(
      family: config.family.rawValue, path: url.path, network: network, tokenizer: tokenizer,
      template: template, thinkingMarkers: .thinkTags, eosIds: eos,
      vision: VisionInput(layout: .nativeResolution(resize), tokenIds: ids),
      notes: ["pixel budget \(resize.minPixels)...\(resize.maxPixels) from \(budget)"])
  }

  /// The folder's chat template when it is ChatML (all Qwen-VL templates are), with its default
  /// system prompt; plain ChatML when the folder has none.
  static func chatTemplate(_ url: URL) throws(EngineError) -> ChatTemplate {
    var jinja: String? = nil
    if let text = try? String(contentsOf: url.appendingPathComponent("chat_template.jinja"), encoding: .utf8) {
      jinja = text
    }
    for name in ["chat_template.json", "tokenizer_config.json"] where jinja == nil {
      guard let bytes = FileManager.default.contents(atPath: url.appendingPathComponent(name).path) else { continue }
      jinja = try JSONFields(data: bytes, context: name).optionalString("chat_template")
    }
    guard let jinja else { return .chatML(system: nil) }
    guard let template = ChatTemplate.recognise(jinja: jinja) else {
      throw .badConfig("the folder's chat template is not ChatML (<|im_start|>...), the only form this build renders")
    }
    return template
  }

  /// GUI-Actor's grounding prompt (microsoft/GUI-Actor, src/gui_actor/constants.py
  /// `grounding_system_message` and inference.py's assistant starter): the pointer tokens follow
  /// `pyautogui.click(`.
  static let guiActorTemplate = ChatTemplate(
    preamble: "<|im_start|>system\nYou are a GUI agent. Given a screenshot of the current GUI and a human instruction, your task is to locate the screen element that corresponds to the instruction. You should output a PyAutoGUI action that performs a click on the correct position. To indicate the click location, we will use some special tokens, which is used to refer to a visual patch later. For example, you can output: pyautogui.click(<your_special_token_here>).<|im_end|>\n",
    user: "<|im_start|>user\n{content}<|im_end|>\n",
    assistant: "<|im_start|>assistant<|recipient|>os\npyautogui.click(")
}
