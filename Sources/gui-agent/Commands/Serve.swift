import Agent
import Engine
import Foundation
import Grounding
import Service

/// `gui-agent serve`: the HTTP service (grounding, OpenAI-compatible chat, episodes, viewer).
extension Commands {
  static let serve = Command(
    name: "serve",
    abstract: "Serve grounding, chat completions (OpenAI-compatible), agent episodes and a trace viewer over HTTP.",
    discussion: """
      The model is loaded once. Binds 127.0.0.1:8080 unless told otherwise; any address but
      loopback needs a token (--token or GUI_AGENT_TOKEN), and with a token every request but the
      viewer page needs 'Authorization: Bearer TOKEN'. Model requests wait in a line of --queue
      places behind the running one; beyond it the answer is 503 with Retry-After. Open
      http://HOST:PORT/ for the trace viewer (with a token: /#token=TOKEN). The API is described
      at /openapi.json and in docs/service.md. Connections beyond --max-connections are answered
      503 at once; a request that has not arrived whole within --request-timeout is cut. SIGINT
      or SIGTERM: answer new connections 503, finish the work in flight, stop a running episode,
      close the store, exit 0. With --port 0 the kernel picks
      the port; the first line on standard output names it.

      /v1/ground reads answers in the model's coordinate convention with its prompt: the folder is
      recognised as a known model ('gui-agent models'); --model-name, when it names one, and
      --convention and --prompt-template override that.
      """,
    options: modelOptions + [
      .value("host", "ADDR", "Address to listen on (default 127.0.0.1)."),
      .value("port", "N", "Port (default 8080; 0: any free port)."),
      .value("token", "TOKEN", "Bearer token (default: $GUI_AGENT_TOKEN); required off loopback."),
      .value("queue", "N", "Model requests that may wait behind the running one (default 8)."),
      .value("max-body", "MB", "Largest request body in MB (default 32)."),
      .value("model-name", "NAME", "The model's id in /v1/models (default: the model folder's name); when it names a known model ('gui-agent models'), grounding uses that model's convention and prompt."),
      conventionOption, promptTemplateOption,
      .value("max-connections", "N", "Connections at once; one more is answered 503 at once (default 256)."),
      .value("idle-timeout", "S", "Close a connection silent both ways for S seconds (default 120)."),
      .value("request-timeout", "S", "Close a connection whose request has not arrived whole within S seconds, plus 1 s per 64 KiB of body (default 60)."),
      .flag("no-episodes", "Serve without the episode store and the agent routes."),
      storeOption, displayOption,
    ],
    run: { args in
      var config = ServiceConfiguration()
      config.host = args.string("host") ?? config.host
      config.port = try args.int("port", range: 0...65535) ?? config.port
      config.token = args.string("token") ?? ProcessInfo.processInfo.environment["GUI_AGENT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
      config.queueCapacity = try args.int("queue", range: 0...10_000) ?? config.queueCapacity
      config.maxBodyBytes = (try args.int("max-body", range: 1...4096) ?? 32) << 20
      config.display = args.string("display")
      config.connectionLimits.maxConnections = try args.int("max-connections", range: 1...100_000) ?? config.connectionLimits.maxConnections
      config.connectionLimits.idleTimeoutSeconds = try args.int("idle-timeout", range: 1...86_400) ?? config.connectionLimits.idleTimeoutSeconds
      config.connectionLimits.requestReadSeconds = try args.int("request-timeout", range: 1...86_400) ?? config.connectionLimits.requestReadSeconds
      _ = try config.listenAddress()  // refuse a bad address before loading the model
      config.grounding = try groundingOptions(args, readModelName: false)
      // The served id names a known model or is only a name.
      config.grounding.modelName = args.string("model-name").flatMap { KnownModels.named($0) == nil ? nil : $0 }
      let model = try loadModel(args)
      config.modelName = args.string("model-name") ?? URL(fileURLWithPath: model.path).lastPathComponent
      if model.vision != nil {
        logSetup(try GroundingSetup.choose(folder: model.path, family: model.family, checkpointTemplate: model.promptTemplate,
                                           options: config.grounding))
      }
      let store = args.flag("no-episodes") ? nil : try EpisodeStore(path: storeURL(args))
      // SIGINT/SIGTERM are blocked in every thread (threads inherit the mask) and taken here.
      var signals = sigset_t()
      sigemptyset(&signals)
      sigaddset(&signals, SIGINT)
      sigaddset(&signals, SIGTERM)
      pthread_sigmask(SIG_BLOCK, &signals, nil)
      signal(SIGPIPE, SIG_IGN)
      let running = try GUIAgentService(model: model, configuration: config, store: store,
                                        launcher: AgentLoopLauncher.factory(model: model, display: config.display,
                                                                            grounding: config.grounding))
      try running.start()
      let url = "http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(running.port)/"
      if args.json {
        try Output.json(["url": url, "port": Int(running.port), "model": config.modelName])
      } else {
        Output.out("listening on \(url)")
      }
      Output.log("serving \(config.modelName) (\(model.family)) on \(url); auth \(config.token == nil ? "off" : "on"), queue \(config.queueCapacity)")
      var received: Int32 = 0
      sigwait(&signals, &received)
      Output.log("signal \(received): draining")
      running.shutdown(timeout: 60)
      Output.log("stopped")
      return .success
    })
}
