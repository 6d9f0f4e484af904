import Foundation

// MARK: - A checkpoint directory (single file or shards)

/// The safetensors weights of a Hugging Face checkpoint directory.
///
/// Either `model.safetensors.index.json` (its `weight_map` names the shard file of every tensor;
/// every shard is opened and validated, and every mapped tensor must be in its shard) or a single
/// `model.safetensors`. Tensors present in a shard but absent from `weight_map` are not exposed,
/// as in `transformers`.
public final class SafetensorsCheckpoint: WeightSource {
  /// The index file name that marks a sharded checkpoint.
  public static let indexFileName = "model.safetensors.index.json"
  /// The file name of an unsharded checkpoint.
  public static let singleFileName = "model.safetensors"

  /// The opened shard files (one for an unsharded checkpoint), in file-name order.
  public let shards: [SafetensorsFile]
  /// Every tensor name, sorted.
  public let tensorNames: [String]
  /// Tensor name -> index into `shards`.
  private let shardOf: [String: Int]
  public var files: [WeightFileRecord] { shards.flatMap(\.files) }

  /// Opens the checkpoint in `directory`.
  /// - Throws: `malformedWeights` for a bad index, a missing shard, a tensor missing from its
  ///   shard, or any invalid shard; naming the file and the tensor.
  public init(directory: URL) throws(EngineError) {
    let index = directory.appendingPathComponent(Self.indexFileName)
    let single = directory.appendingPathComponent(Self.singleFileName)
    if FileManager.default.fileExists(atPath: index.path) {
      let weightMap = try Self.readWeightMap(index)
      let fileNames = Array(Set(weightMap.map(\.file))).sorted()
      var shards: [SafetensorsFile] = []
      for name in fileNames {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
          throw .malformedWeights(file: index.path, reason: "weight_map names shard file '\(name)', which is missing")
        }
        shards.append(try SafetensorsFile(url: url))
      }
      var shardOf: [String: Int] = [:]
      for (tensor, file) in weightMap {
        guard let i = fileNames.firstIndex(of: file) else { continue }  // every file was listed above
        guard shards[i].tensor(tensor) != nil else {
          throw .malformedWeights(file: index.path, reason: "weight_map maps tensor '\(tensor)' to shard '\(file)', which lacks it")
        }
        shardOf[tensor] = i
      }
      self.shards = shards
      self.shardOf = shardOf
    } else if FileManager.default.fileExists(atPath: single.path) {
      let file = try SafetensorsFile(url: single)
      shards = [file]
      shardOf = Dictionary(file.tensorNames.map { ($0, 0) }, uniquingKeysWith: { a, _ in a })
    } else {
      throw .malformedWeights(file: directory.path,
                              reason: "no \(Self.indexFileName) or \(Self.singleFileName) in the directory")
    }
    tensorNames = shardOf.keys.sorted()
  }

  /// The shard holding `name`, nil when absent.
  public func shard(for name: String) -> SafetensorsFile? {
    shardOf[name].map { shards[$0] }
  }

  public func info(_ name: String) -> TensorInfo? { shard(for: name)?.info(name) }

  /// The header entry of `name` (any dtype), nil when absent.
  public func tensor(_ name: String) -> SafetensorsTensor? { shard(for: name)?.tensor(name) }

  public func floats(_ name: String) throws(EngineError) -> [Float] {
    guard let s = shard(for: name) else { throw .missingTensor(name) }
    return try s.floats(name)
  }

  /// The tensor as a matrix read in place; see `SafetensorsFile.matrix`.
  public func matrix(_ name: String) throws(EngineError) -> QuantizedMatrix {
    guard let s = shard(for: name) else { throw .missingTensor(name) }
    return try s.matrix(name)
  }

  /// Lends the stored bytes of `name` to `body`; see `SafetensorsFile.withRawBytes`.
  public func withRawBytes<R>(_ name: String,
                              _ body: (UnsafeRawBufferPointer) throws(EngineError) -> R) throws(EngineError) -> R {
    guard let s = shard(for: name) else { throw .missingTensor(name) }
    return try s.withRawBytes(name, body)
  }

  // MARK: - Index

  /// The `weight_map` of an index file as (tensor, shard file name) pairs, checked: an object of
  /// strings, no duplicate tensor names, file names without path separators.
  private static func readWeightMap(_ url: URL) throws(EngineError) -> [(tensor: String, file: String)] {
    func bad(_ reason: String) -> EngineError { .malformedWeights(file: url.path, reason: reason) }
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw bad("cannot read: \(error.localizedDescription)") }
    guard data.count <= SafetensorsHeader.maxHeaderBytes else { throw bad("index is \(data.count) bytes, over the limit") }
    let json: StrictJSON
    do { json = try StrictJSONParser.parse([UInt8](data)) } catch { throw bad("not valid JSON: \(error.message)") }
    guard case let .object(top) = json else { throw bad("index is a JSON \(json.kindName), expected an object") }
    guard let mapValue = top.first(where: { $0.key == "weight_map" })?.value else { throw bad("field 'weight_map' is missing") }
    guard case let .object(entries) = mapValue else { throw bad("weight_map is a \(mapValue.kindName), expected an object") }
    if let dup = StrictJSON.firstDuplicateKey(entries) { throw bad("duplicate tensor name '\(dup)' in weight_map") }
    var out: [(tensor: String, file: String)] = []
    for (tensor, v) in entries {
      guard let file = v.stringValue else { throw bad("weight_map entry '\(tensor)' is a \(v.kindName), expected a file name") }
      guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
        throw bad("weight_map entry '\(tensor)' names '\(file)', which is not a plain file name")
      }
      out.append((tensor, file))
    }
    return out
  }
}
