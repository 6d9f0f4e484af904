import Engine
import Foundation
import Grounding
import Imaging
@testable import Service
import ScreenCapture
import Testing
import TestSupport

/// Every route's answer, checked against the library called directly on the same input (the
/// server must add nothing and lose nothing), and every documented error code.
@Suite(.serialized) struct RouteTests {
  @Test func healthModelsAndOpenAPI() throws {
    let s = try RunningService()
    let health = try s.client.get("/healthz")
    #expect(health.status == 200)
    #expect(try health.json()["status"] as? String == "ok")
    let models = try s.client.get("/v1/models").json()
    let data = try #require(models["data"] as? [[String: Any]])
    #expect(models["object"] as? String == "list")
    #expect(data.first?["id"] as? String == "tiny-bluelm")
    let doc = try s.client.get("/openapi.json")
    #expect(doc.status == 200)
    let spec = try doc.json()
    #expect(spec["openapi"] as? String == "3.1.0")
  }

  /// The OpenAPI document lists exactly the routes the router serves, method by method.
  @Test func openAPIMatchesRouter() throws {
    let s = try RunningService()
    let spec = try s.client.get("/openapi.json").json()
    let paths = try #require(spec["paths"] as? [String: [String: Any]])
    var documented: Set<String> = []
    for (path, methods) in paths {
      for method in methods.keys { documented.insert("\(method.uppercased()) \(path)") }
    }
    #expect(documented == Set(s.service.routeTable))
    // Every $ref points at a component that exists.
    let text = OpenAPIDocument.text
    let components = try #require(spec["components"] as? [String: [String: Any]])
    for match in text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/) {
      #expect(components[String(match.1)]?[String(match.2)] != nil, "dangling \(match.0)")
    }
  }

  @Test func unknownRouteAndWrongMethod() throws {
    let s = try RunningService()
    let missing = try s.client.get("/v2/nothing")
    #expect(missing.status == 404)
    #expect(missing.errorMessage.contains("/v2/nothing"))
    let wrong = try s.client.request("DELETE", "/v1/ground")
    #expect(wrong.status == 405)
    #expect(wrong.headers["allow"] == "POST")
    let getOnPost = try s.client.get("/v1/chat/completions")
    #expect(getOnPost.status == 405)
  }

  // MARK: - Ground

  @Test func groundMatchesTheGrounder() throws {
    let s = try RunningService()
    let png = try Fixtures.screenshotPNG()
    let response = try s.client.post("/v1/ground", json: ["image": png.base64EncodedString(), "instruction": "the OK button"])
    #expect(response.status == 200)
    let answer = try response.json()
    let direct = try Grounder(model: Fixtures.model()).ground(image: PNG.decode(png), instruction: "the OK button")
    #expect(answer["answer"] as? String == direct.answer)
    #expect(answer["x"] as? Int == direct.point?.x)
    #expect(answer["y"] as? Int == direct.point?.y)
    #expect((answer["x"] is NSNull) == (direct.point == nil))
    let timings = try #require(answer["timings"] as? [String: Double])
    for key in ["preprocess", "vision", "prefill", "decode", "total", "queue"] { #expect(timings[key] != nil, "timing \(key)") }
    // A data URL is accepted as well.
    let viaURL = try s.client.post("/v1/ground", json: ["image": "data:image/png;base64," + png.base64EncodedString(),
                                                          "instruction": "the OK button"])
    #expect(try viaURL.json()["answer"] as? String == direct.answer)
    // Thinking with a budget returns the reasoning field when the model reasoned.
    let thinking = try s.client.post("/v1/ground", json: ["image": png.base64EncodedString(), "instruction": "x",
                                                           "think": true, "think_budget": 4])
    #expect(thinking.status == 200)
    let direct2 = try Grounder(model: Fixtures.model()).ground(image: PNG.decode(png), instruction: "x",
                                                               thinking: .think(budget: 4))
    let said = try thinking.json()
    #expect(said["reasoning"] as? String == (direct2.reasoning.isEmpty ? nil : direct2.reasoning))
    #expect(said["answer"] as? String == direct2.answer)
  }

  /// `capture: true` grounds on the server's screen: the same answer as the Grounder on a
  /// capture of that screen; a monitor that does not exist is a capture failure.
  @Test func groundOnTheLiveScreen() throws {
    let xvfb = try PrivateXvfb(arguments: ["-screen", "0", "320x240x24"])
    defer { xvfb.stop() }
    let s = try RunningService { $0.display = xvfb.display }
    let r = try s.client.post("/v1/ground", json: ["capture": true, "instruction": "the OK button"])
    #expect(r.status == 200, "\(r.text)")
    let answer = try r.json()
    #expect(answer["image_size"] as? [Int] == [320, 240])
    let screen = try X11Display(display: xvfb.display).capture()
    let direct = try Grounder(model: Fixtures.model()).ground(image: screen, instruction: "the OK button")
    #expect(answer["answer"] as? String == direct.answer)
    #expect(try s.client.post("/v1/ground", json: ["capture": true, "monitor": 0, "instruction": "OK"]).status == 200)
    let missing = try s.client.post("/v1/ground", json: ["capture": true, "monitor": 7, "instruction": "OK"])
    #expect(missing.status == 500)
    #expect(missing.errorMessage.contains("screen capture failed"))
  }

  /// An image over the pixel limit is refused by its header, before the pixels are allocated.
  @Test func imageOverThePixelLimitIs400() throws {
    let s = try RunningService { $0.maxImagePixels = 1000 }
    let png = try Fixtures.screenshotPNG()   // more than 1000 pixels
    #expect(try PNG.decode(png).width * PNG.decode(png).height > 1000)
    let r = try s.client.post("/v1/ground", json: ["image": png.base64EncodedString(), "instruction": "OK"])
    #expect(r.status == 400)
    #expect(r.errorMessage.contains("'image'"), "\(r.errorMessage)")
    let chat = try s.client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": [
      ["type": "image_url", "image_url": ["url": "data:image/png;base64," + png.base64EncodedString()]]]]]])
    #expect(chat.status == 400)
  }

  @Test(arguments: [
    ("{", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    (#"{"image": "aGVsbG8="}"#, "'instruction'"),
    (#"{"instruction": "x"}"#, "'image'"),
    (#"{"instruction": "x", "image": "%%%"}"#, "'image'"),
    (#"{"instruction": "x", "image": "aGVsbG8="}"#, "not a readable PNG"),
    (#"{"instruction": "x", "image": "data:image/jpeg;base64,aGVsbG8="}"#, "image/jpeg"),
    (#"{"instruction": "x", "image": "aGVsbG8=", "capture": true}"#, "'capture'"),
    (#"{"instruction": "x", "image": "aGVsbG8=", "zoom": 2}"#, "'zoom'"),
    (#"{"instruction": "x", "capture": "yes"}"#, "'capture'"),
    (#"{"instruction": "", "capture": true}"#, "'instruction'"),
    (#"{"instruction": "x", "capture": true, "think_budget": -1}"#, "'think_budget'"),
    (#"{"instruction": "x", "capture": true, "think": false, "think_budget": 3}"#, "'think_budget'"),
  ])
  func groundRejectsBadInput(body: String, mentions: String) throws {
    let s = try RunningService()
    let r = try s.client.post("/v1/ground", raw: body)
    #expect(r.status == 400)
    #expect(r.errorMessage.contains(mentions), "\(r.errorMessage)")
  }

  // MARK: - Chat

  /// One user turn renders exactly as the family's template renders a prompt, and the answer is
  /// the library's greedy completion of it.
  @Test func chatMatchesTheLibrary() throws {
    let s = try RunningService()
    let model = try Fixtures.model()
    let r = try s.client.post("/v1/chat/completions", json: [
      "model": "tiny-bluelm", "messages": [["role": "user", "content": "Say hi"]], "max_tokens": 12, "temperature": 0,
    ])
    #expect(r.status == 200)
    let body = try r.json()
    let ids = model.promptIds("Say hi")
    let direct = try model.complete(promptIds: ids, maxTokens: 12)
    let choice = try #require((body["choices"] as? [[String: Any]])?.first)
    let message = try #require(choice["message"] as? [String: Any])
    #expect(message["role"] as? String == "assistant")
    #expect(message["content"] as? String == direct.text)
    #expect(choice["finish_reason"] as? String == direct.finishReasonName)
    let usage = try #require(body["usage"] as? [String: Int])
    #expect(usage["prompt_tokens"] == ids.count)
    #expect(usage["completion_tokens"] == direct.ids.count)
    #expect(usage["total_tokens"] == ids.count + direct.ids.count)
    #expect(body["object"] as? String == "chat.completion")
  }

  /// `stream: true`: the deltas add up to the non-streamed text; usage comes last, then [DONE].
  @Test func streamAddsUpToTheCompletion() throws {
    let s = try RunningService()
    let request: [String: Any] = ["messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hello"]],
                                  "max_tokens": 16, "seed": 7, "temperature": 0.8, "top_p": 0.9]
    let whole = try s.client.post("/v1/chat/completions", json: request).json()
    let content = ((whole["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    var streaming = request
    streaming["stream"] = true
    streaming["stream_options"] = ["include_usage": true]
    let r = try s.client.post("/v1/chat/completions", json: streaming)
    #expect(r.status == 200)
    #expect(r.headers["content-type"] == "text/event-stream")
    let events = r.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
    #expect(events.last == "data: [DONE]")
    var text = ""
    var finish: String?
    var usage: [String: Int]?
    for event in events.dropLast() {
      #expect(event.hasPrefix("data: "))
      let object = try #require(try JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any])
      #expect(object["object"] as? String == "chat.completion.chunk")
      if let u = object["usage"] as? [String: Int] { usage = u }
      guard let choice = (object["choices"] as? [[String: Any]])?.first else { continue }
      text += (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
      if let f = choice["finish_reason"] as? String { finish = f }
    }
    #expect(text == content)
    #expect(finish != nil)
    #expect(usage?["total_tokens"] == (whole["usage"] as? [String: Int])?["total_tokens"])
  }

  /// Images in `image_url` parts go through the vision pipeline like `generate --image`.
  @Test func chatWithImagePart() throws {
    let s = try RunningService()
    let png = try Fixtures.screenshotPNG()
    let r = try s.client.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": [
      ["type": "text", "text": "What is this?"],
      ["type": "image_url", "image_url": ["url": "data:image/png;base64," + png.base64EncodedString()]],
    ]]], "max_tokens": 6])
    #expect(r.status == 200)
    let model = try Fixtures.model()
    let pipeline = try VisionLanguagePipeline(model: model)
    let pad = try #require(pipeline.imagePlaceholder)
    let prepared = try pipeline.prepare(prompt: "What is this?" + pad, images: [PNG.decode(png)])
    let direct = try model.complete(promptIds: prepared.ids, imageEmbeddings: prepared.imageEmbeddings, maxTokens: 6)
    let usage = try #require(try r.json()["usage"] as? [String: Int])
    #expect(usage["prompt_tokens"] == prepared.ids.count)
    let content = ((try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    #expect(content == direct.text)
  }

  @Test(arguments: [
    (#"{}"#, "'messages'"),
    (#"{"messages": []}"#, "'messages'"),
    (#"{"messages": [{"role": "user"}]}"#, "'messages[0].content'"),
    (#"{"messages": [{"role": "tool", "content": "x"}]}"#, "'messages[0].role'"),
    (#"{"messages": [{"role": "user", "content": [{"type": "audio"}]}]}"#, "'messages[0].content[0].type'"),
    (#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}"#,
     "'messages[0].content[0].image_url.url'"),
    (#"{"messages": [{"role": "user", "content": "x"}], "temperature": 5}"#, "'temperature'"),
    (#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}"#, "'max_tokens'"),
    (#"{"messages": [{"role": "user", "content": "x"}], "stop": [1]}"#, "'stop[0]'"),
    (#"{"messages": [{"role": "user", "content": "x"}], "n": 2}"#, "'n'"),
    (#"{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#, "'stream'"),
  ])
  func chatRejectsBadInput(body: String, mentions: String) throws {
    let s = try RunningService()
    let r = try s.client.post("/v1/chat/completions", raw: body)
    #expect(r.status == 400)
    #expect(r.errorMessage.contains(mentions), "\(r.errorMessage)")
  }
}
