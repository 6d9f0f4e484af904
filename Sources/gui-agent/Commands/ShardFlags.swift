import Agent
import Foundation
import Grounding

/// `--shard` as `eval screenspot`, `scenario run` and `run --tasks` take it, and the per-shard store.
extension Commands {
  static let shardOptionHelp = "Take only items with index % N == K (0-based); auto: K and N from a Slurm job array, "
    + "auto/N: K from a Kubernetes Indexed Job (docs/evaluation.md)."

  /// `--shard K/N|auto|auto/N`, or the whole run.
  static func shardOption(_ args: ParsedArguments) throws -> Shard {
    guard let text = args.string("shard") else { return .whole }
    do { return try Shard(resolving: text) } catch { throw UsageError("--shard: \(error.localizedDescription)") }
  }

  /// --store with `{shard}` replaced by `K-of-N`, so each shard of a cluster job writes its own
  /// store (SQLite over a shared file system is not safe for writers on several machines).
  static func shardStoreURL(_ args: ParsedArguments, shard: Shard) -> URL {
    guard let template = args.string("store") else { return EpisodeStore.defaultURL() }
    return URL(fileURLWithPath: shard.substitute(in: template))
  }
}
