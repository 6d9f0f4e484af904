import Engine
import Foundation
import Testing
@testable import Grounding

// The model path end to end on the tiny random checkpoint (Fixtures/tiny-bluelm). Its answers are
// noise, so nothing here says whether they are right: only that every sample yields one record,
// with a point or the reason it has none, and that the hit flag agrees with the box.
@Suite struct EvaluationModelTests {
  @Test func everySampleGetsOneRecord() throws {
    let dir = try #require(Bundle.module.url(forResource: "tiny-bluelm", withExtension: nil, subdirectory: "Fixtures"))
    let grounder = try Grounder(model: try ModelLoader.load(path: dir.path))
    let a = try EvalFixture.annotations(EvalFixture.pro)
    let evaluator = ScreenSpotEvaluator(imagesDirectory: try EvalFixture.folder.path,
                                        method: .model(grounder, thinking: .default, maxTokens: 12),
                                        shard: try Shard(index: 0, count: 5))
    var seen: [Int] = []
    let run = try evaluator.run(a) { r, done, total in
      seen.append(r.index)
      #expect(total == 3 && done == seen.count)
    }
    #expect(seen == [0, 5, 10])
    #expect(run.records.map(\.index) == [0, 5, 10])
    for r in run.records {
      #expect(r.skipped == nil, "\(r.key): \(r.skipped ?? "")")
      #expect(r.answer != nil && r.seconds > 0)
      if let x = r.x, let y = r.y {
        #expect(r.noCoordinate == nil && r.hit == r.box?.contains(x: x, y: y))
      } else {
        #expect(r.noCoordinate != nil && !r.hit)
      }
    }
    #expect(AccuracyReport(records: run.records).n == 3)
  }
}
