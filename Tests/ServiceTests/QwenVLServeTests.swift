import Engine
import Foundation
import Grounding
import Imaging
import Testing
import TestSupport

/// `gui-agent serve --model <Qwen-VL folder>` as a child process: /v1/ground answers what the
/// Grounder answers in process on the same folder and image (the folder's known model, its
/// convention and prompt; GUI-Actor's pointer head where the folder has one), and chat
/// completions take the image. Folders: the tiny random checkpoints made by
/// scripts/fixtures/make_qwen_vl_fixtures.py and make_gui_actor_fixtures.py.
@Suite(.serialized) struct QwenVLServeTests {
  static let fixtures = Fixtures.repository.appendingPathComponent("Tests/EngineTests/Fixtures/qwen-vl")

  @Test(arguments: ["qwen2_5_vl", "qwen3_vl", "gui_actor_qwen2_vl"])
  func groundAndChatOnAQwenFolder(folder: String) throws {
    let path = Self.fixtures.appendingPathComponent(folder).path
    let refs = Self.fixtures.appendingPathComponent((folder.hasPrefix("gui_actor") ? folder : "qwen2_vl") + "-ref")
    let png = try Data(contentsOf: refs.appendingPathComponent("round_151x83.png"))
    let server = try ServeCommandTests.ServerProcess(["--no-episodes"], model: path)
    defer { _ = server.terminate() }
    let client = RawHTTPClient(port: UInt16(server.port))

    let models = try client.get("/v1/models").json()
    #expect((models["data"] as? [[String: Any]])?.first?["id"] as? String == folder)

    let response = try client.post("/v1/ground", json: ["image": png.base64EncodedString(),
                                                       "instruction": "the OK button", "max_tokens": 12] as [String: Any])
    #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
    let served = try response.json()
    let model = try ModelLoader.load(path: path, threads: 1)
    let grounder = try Grounder(model: model, options: GroundingOptions())
    #expect(grounder.method == (folder.hasPrefix("gui_actor") ? .pointer : .text))
    let direct = try grounder.ground(image: PNG.decode(png), instruction: "the OK button", maxTokens: 12)
    #expect(served["answer"] as? String == direct.answer)
    #expect(served["x"] as? Int == direct.point?.x && served["y"] as? Int == direct.point?.y)
    #expect((served["x"] is NSNull) == (direct.point == nil))
    #expect(served["image_size"] as? [Int] == [151, 83])
    if grounder.method == .pointer { #expect(direct.point != nil, "the pointer head always points") }

    let chat = try client.post("/v1/chat/completions", json: [
      "messages": [["role": "user", "content": [
        ["type": "image_url", "image_url": ["url": "data:image/png;base64," + png.base64EncodedString()]],
        ["type": "text", "text": "What is on the screen?"],
      ]]],
      "max_tokens": 4,
    ] as [String: Any])
    #expect(chat.status == 200, "\(String(decoding: chat.body, as: UTF8.self))")
    let usage = try #require(try chat.json()["usage"] as? [String: Int])
    // 151x83 -> smart_resize -> 15 merged image tokens (patch 14 or 16, merge 2), plus the text.
    #expect((usage["prompt_tokens"] ?? 0) > 15)
    #expect(server.terminate() == 0)
  }
}
