import Foundation

/// `Authorization: Bearer <token>` checked in constant time: the comparison looks at every byte
/// of the longer of the two, whatever matches, so timing reveals neither prefix nor length.
struct BearerAuth: Sendable {
  let token: [UInt8]

  init(token: String) { self.token = Array(token.utf8) }

  func allows(_ header: String?) -> Bool {
    guard let header else { return false }
    let prefix = "bearer "
    guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else { return false }
    let given = Array(header.utf8.dropFirst(prefix.utf8.count))
    return BearerAuth.constantTimeEqual(given, token)
  }

  static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt64(a.count ^ b.count)
    let n = max(a.count, b.count)
    for i in 0..<n {
      let x = i < a.count ? a[i] : 0
      let y = i < b.count ? b[i] : 0
      difference |= UInt64(x ^ y)
    }
    return difference == 0
  }
}
