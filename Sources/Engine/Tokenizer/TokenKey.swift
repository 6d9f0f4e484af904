// MARK: - Exact string keys

/// A string compared and hashed by its exact UTF-8 bytes. Swift's `String` equality is canonical
/// equivalence ("e\u{301}" == "é"), but tokenizers compares bytes: "Cafe\u{301}" and "Café" are
/// different words with different tokens, so vocabularies and caches are keyed by this.
struct TokenKey: Hashable, Sendable {
  let string: String

  init(_ string: String) { self.string = string }

  init(_ scalars: [Unicode.Scalar]) {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    string = String(view)
  }

  static func == (a: TokenKey, b: TokenKey) -> Bool {
    a.string.utf8.elementsEqual(b.string.utf8)
  }

  func hash(into h: inout Hasher) {
    var s = string
    s.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}
