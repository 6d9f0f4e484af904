import Builtin

// MARK: - Software prefetch of streamed weights
//
// Decode reads every weight once per token, a matrix row after row. The hardware prefetcher
// alone left the block kernels well short of the read bandwidth on the machine measured: 1-thread
// SmolLM2-135M Q8_0 decode ran at 132 tokens/s on the AVX2 kernels and 150-170 on the AVX-512 ones;
// asking for the rows 8 KB ahead gave 167 and 210-225 (on the AVX-512 kernels, 4 KB and 16-32 KB
// ahead gave less). So the row loops ask for the bytes they will read `prefetchDistance` ahead (the
// AVX-512 kernels do the same in their own module).

/// How far ahead of the bytes being read the decode kernels ask for weight rows.
let prefetchDistance = 8192

/// Asks for the `lines` 64-byte cache lines from `prefetchDistance` bytes past p (LLVM's
/// `llvm.prefetch`, read, keep in all levels: `prefetcht0` on x86-64, `prfm pldl1keep` on ARM).
/// A hint that cannot fault: it may run past the end of the matrix.
@inline(__always)
func prefetchAhead(_ p: UnsafeRawPointer, lines: Int) {
  for k in 0..<lines {
    let a = p + (prefetchDistance &+ 64 &* k)
    Builtin.int_prefetch_RawPointer(a._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
  }
}
