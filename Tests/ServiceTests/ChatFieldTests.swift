import Foundation
@testable import Service
import Testing
import TestSupport

/// The chat route refuses what it cannot honour (like the other routes refuse unknown fields)
/// and samples afresh when no seed is given.
@Suite(.serialized) struct ChatFieldTests {
  private static var hello: [[String: Any]] { [["role": "user", "content": "Hello"]] }

  @Test(arguments: [
    (#"{"tools": []}"#, "'tools'"),
    (#"{"tool_choice": "auto"}"#, "'tool_choice'"),
    (#"{"logit_bias": {}}"#, "'logit_bias'"),
    (#"{"top_logprobs": 2}"#, "'top_logprobs'"),
    (#"{"logprobs": true}"#, "'logprobs'"),
    (#"{"response_format": {"type": "json_object"}}"#, "'response_format'"),
    (#"{"frequency_penalty": 0.5}"#, "'frequency_penalty'"),
    (#"{"presence_penalty": -1}"#, "'presence_penalty'"),
    (#"{"temprature": 0.5}"#, "'temprature'"),
  ])
  func refusesWhatItCannotHonour(extra: String, mentions: String) throws {
    let s = try RunningService()
    var body = try #require(try JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Any])
    body["messages"] = Self.hello
    body["max_tokens"] = 2
    let r = try s.client.post("/v1/chat/completions", json: body)
    #expect(r.status == 400)
    #expect(r.errorMessage.contains(mentions), "\(r.errorMessage)")
  }

  /// The no-op values of OpenAI's options, which clients send by default, are accepted.
  @Test func acceptsTheDefaultsClientsSend() throws {
    let s = try RunningService()
    let r = try s.client.post("/v1/chat/completions", json: [
      "messages": Self.hello, "max_tokens": 2, "model": "tiny-bluelm", "user": "me", "logprobs": false,
      "response_format": ["type": "text"], "frequency_penalty": 0, "presence_penalty": 0,
    ])
    #expect(r.status == 200, "\(r.text)")
  }

  /// With temperature and no seed, requests draw different samples; the same seed repeats one.
  @Test func noSeedSamplesAfresh() throws {
    let s = try RunningService()
    func answer(_ seed: Int?) throws -> String {
      var body: [String: Any] = ["messages": Self.hello, "max_tokens": 24, "temperature": 1.5]
      if let seed { body["seed"] = seed }
      let r = try s.client.post("/v1/chat/completions", json: body)
      #expect(r.status == 200)
      let choice = try #require((try r.json()["choices"] as? [[String: Any]])?.first)
      return try #require((choice["message"] as? [String: Any])?["content"] as? String)
    }
    #expect(try answer(11) == answer(11))
    let unseeded = try (0..<6).map { _ in try answer(nil) }
    #expect(Set(unseeded).count > 1, "six unseeded samples at temperature 1.5 were all '\(unseeded[0])'")
  }
}
