extension Duration {
  /// The duration in seconds.
  public var seconds: Double {
    let c = components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
  }

  /// The duration in milliseconds.
  public var milliseconds: Double { seconds * 1000 }
}
