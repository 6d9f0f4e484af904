import Agent
import Foundation

// MARK: - Agent: action grammars, scenario and plan files

extension FuzzTarget {
  static let agentTargets: [FuzzTarget] = [
    FuzzTarget("ui-tars", "a model response in the UI-TARS grammar: UITARSGrammar.parse, then serialize of what parsed",
               maxLength: 4 << 10, dictionary: "actions") { data in
      actions(ActionGrammar.uiTars, text(data))
    },
    FuzzTarget("json-action", "a model response in the JSON action grammar: JSONActionGrammar.parse, then serialize",
               maxLength: 4 << 10, dictionary: "actions") { data in
      actions(ActionGrammar.json, text(data))
    },
    FuzzTarget("scenario", "a scenario file: Scenario.decode (with its plan), its @targets resolved, and the bytes as a plan file",
               maxLength: 8 << 10, dictionary: "json") { data in
      if let scenario = attempt("scenario", { try Scenario.decode(data, source: URL(fileURLWithPath: "/fuzz/scenario.json")) }) {
        // What a run does once the apps are up: `@name` targets placed at a widget's center.
        _ = attempt("resolve", { try ScenarioTargets.resolve(scenario.plan, with: { _ in (1920, 1080) }) })
      }
      _ = attempt("plan", { try ScriptedPlan.decode(data, source: "fuzz plan") })
    },
  ]

  /// Parses in `grammar` and by detection; what parses is printed in both grammars and read back.
  static func actions(_ grammar: ActionGrammar, _ response: String) {
    for result in [grammar.parse(response), ActionGrammar.parseAny(response)] {
      guard case let .success(parsed) = result else {
        if verbose, case let .failure(f) = result { FileHandle.standardError.write(Data("parse: \(f.message)\n".utf8)) }
        continue
      }
      for g in ActionGrammar.allCases { _ = g.parse(g.serialize(parsed)) }
    }
  }
}
