#if canImport(Glibc)
import Glibc
#endif

// MARK: - Heap reuse for activation arrays
//
// Every layer of a forward pass allocates and frees arrays of the block's rows: (n, D) activations,
// (n, MLP width) intermediates, attention scores. At a prefill's sizes these are megabytes, which
// glibc's defaults serve with fresh mmap'd pages (above a threshold that starts at 128 KB) and gives
// back (freed pages at the heap's top past 128 KB are trimmed), so the kernel faults in and zeroes
// the same amount of memory again in every layer: 15 % of a 2-thread 2,048-token prefill of
// SmolLM2 was page clearing and faults (perf). Serving blocks up to 32 MB from the heap and
// keeping freed heap memory reuses those pages; the process holds on to its largest working set,
// as an inference runtime's preallocated compute buffers do. Larger blocks are still mapped and
// returned.

enum HeapSettings {
  /// Applies the settings once per process (model constructors call it).
  static func apply() { _ = applied }

  private static let applied: Void = {
    #if canImport(Glibc)
    // malloc.h is not part of Swift's Glibc module: glibc's `mallopt` is looked up by name, with
    // its parameters' values from malloc.h. Another C library simply keeps its defaults.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3
    guard let symbol = dlsym(nil, "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(mMmapThreshold, 32 << 20)
    _ = mallopt(mTrimThreshold, Int32.max)
    #endif
  }()
}
