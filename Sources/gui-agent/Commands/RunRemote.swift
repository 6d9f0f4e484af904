import Agent
import Engine
import Foundation
import Grounding

/// `run --planner-url` / `--model-url`: planners served by an OpenAI-compatible server.
extension Commands {
  static let remotePlannerOptions: [OptionSpec] = [
    .value("planner-url", "URL",
           "An OpenAI-compatible server (e.g. http://host:8000/v1) whose --planner-model plans, naming elements that --model grounds (mode 2)."),
    .value("planner-model", "NAME", "The served text model --planner-url plans with (its name in the server's /v1/models)."),
    .value("model-url", "URL",
           "An OpenAI-compatible server whose VLM --model-name (e.g. ui-tars-1.5-7b) sees the screen, plans and points (mode 1)."),
    .value("api-key-env", "NAME", "The environment variable holding the server's API key, sent as a Bearer token (default \(ChatEndpoint.defaultKeyVariable))."),
    .value("request-timeout", "S", "Seconds one request to the server may take (default 120)."),
    .value("retries", "N", "Retries after a failed connection, HTTP 429 or 5xx, waiting 0.5 s, 1 s, 2 s, ... (default 2)."),
  ]

  /// Which kind of served planner the command line asks for.
  enum RemoteMode {
    /// `--model-url`: the served VLM plans and points; a local --model only grounds descriptions.
    case vision
    /// `--planner-url`: the served model plans; the local --model (or the embedded one) grounds.
    case text
  }

  /// The served planner's mode, checked against the options it cannot go with; nil when the
  /// command line names no server.
  static func remoteMode(_ args: ParsedArguments) throws -> RemoteMode? {
    let plannerURL = args.string("planner-url"), modelURL = args.string("model-url")
    if plannerURL != nil, modelURL != nil { throw UsageError("--planner-url and --model-url are two modes: give one") }
    guard plannerURL != nil || modelURL != nil else {
      for name in ["planner-model", "api-key-env", "request-timeout", "retries"] where args.string(name) != nil {
        throw UsageError("--\(name) needs --planner-url or --model-url")
      }
      return nil
    }
    let flag = plannerURL != nil ? "--planner-url" : "--model-url"
    if args.string("plan") != nil { throw UsageError("\(flag) plans; a scripted --plan cannot go with it") }
    if args.string("planner") != nil { throw UsageError("\(flag) and --planner are two planners: give one") }
    if plannerURL != nil {
      guard args.string("planner-model") != nil else { throw UsageError("--planner-url needs --planner-model NAME (the served model's name)") }
      return .text
    }
    guard args.string("model-name") != nil else {
      throw UsageError("--model-url needs --model-name NAME (the served model's name, e.g. ui-tars-1.5-7b)")
    }
    if args.string("planner-model") != nil { throw UsageError("--planner-model goes with --planner-url; --model-url takes --model-name") }
    return .vision
  }

  /// The endpoint the options describe; the key comes from the environment, never the command line.
  static func chatEndpoint(_ args: ParsedArguments, url: String) throws -> ChatEndpoint {
    let keyVariable = args.string("api-key-env") ?? ChatEndpoint.defaultKeyVariable
    let key = ChatEndpoint.key(fromEnvironment: keyVariable)
    if args.string("api-key-env") != nil, key == nil { Output.log("\(keyVariable) is not set: no API key is sent") }
    do {
      return try ChatEndpoint(baseURL: url, apiKey: key,
                              timeoutSeconds: try args.double("request-timeout", range: 0.1...86_400) ?? 120,
                              retries: try args.int("retries", range: 0...20) ?? 2)
    } catch let error as AgentError {
      throw UsageError(error.errorDescription ?? "\(url) is not a usable URL")
    }
  }

  /// The served planner for `mode`; a text planner is shown the OCR element list unless
  /// `--no-elements`.
  static func remotePlanner(_ args: ParsedArguments, mode: RemoteMode, convention: CoordinateConvention?) throws -> any ActionPlanner {
    switch mode {
    case .text:
      let endpoint = try chatEndpoint(args, url: args.string("planner-url") ?? "")
      return RemoteTextPlanner(client: ChatClient(endpoint: endpoint), model: args.string("planner-model") ?? "",
                               parser: try elementParser(args))
    case .vision:
      let endpoint = try chatEndpoint(args, url: args.string("model-url") ?? "")
      let name = args.string("model-name") ?? ""
      var model: RemoteVisionModel
      do { model = try RemoteVisionModel(servedName: name, convention: convention) } catch let error as AgentError {
        throw UsageError("--model-name: \(error.errorDescription ?? name)")
      }
      // The server's processor bounds, when it was started with others than Qwen2.5-VL's.
      if var resize = model.resize {
        resize.minPixels = try args.int("min-pixels", range: 1...(1 << 28)) ?? resize.minPixels
        resize.maxPixels = try args.int("max-pixels", range: 1...(1 << 28)) ?? resize.maxPixels
        guard resize.minPixels <= resize.maxPixels else {
          throw UsageError("--min-pixels \(resize.minPixels) is above --max-pixels \(resize.maxPixels)")
        }
        model.resize = resize
      }
      let known = model.knownModel.map { "\($0.displayName)" } ?? "no known model"
      Output.log("planning with \(name) at \(endpoint.url.absoluteString) as \(known): \(model.convention.optionName) coordinates, "
        + "\(model.grammar.rawValue) actions" + (model.resize != nil ? ", screenshots sent at smart_resize's size" : ""))
      return RemoteVisionPlanner(client: ChatClient(endpoint: endpoint), model: model)
    }
  }
}
