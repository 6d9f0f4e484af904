import Builtin

// MARK: - AVX-512 kernels, compiled for AVX-512 whatever the rest of the build targets
//
// This module is built for Cascade Lake's instructions (AVX-512 F, CD, BW, DQ, VL and VNNI; Zen 4
// and later have them too) while the rest of the package stays portable (Haswell). Nothing here
// may run on a CPU without them: Engine calls these kernels only after checking the CPU at run
// time (Engine/Kernels/CPUFeatures.swift).
//
// Two rules keep the instructions inside this module:
// - every entry point is `@inline(never)`, so the optimizer never copies an AVX-512 body into a
//   caller built for another CPU (LLVM cannot select those instructions there);
// - entry points take only pointers and scalars: SIMD values are passed in registers whose width
//   differs between the two targets.

/// The module's kernels, namespaced.
public enum AVX512 {}

// MARK: - Software prefetch

/// How far ahead of the block being summed the decode kernels ask for weight rows. The hardware
/// prefetcher alone left 1-thread Q8_0 decode at 145-160 tokens/s here (SmolLM2-135M, 512 tokens
/// of context); asking 6-12 KB ahead gave 177-200 (4 KB and 16-32 KB less).
let weightPrefetchDistance = 8192

/// How far ahead the decode attention asks for key and value rows (each head's rows are one
/// stream of length x hd binary16 values).
let cachePrefetchDistance = 4096

/// Asks for the `lines` cache lines from `distance` bytes past p (`prefetcht0`): a hint that
/// cannot fault, so it may run past the end of the data.
@inline(__always)
func prefetchAhead(_ p: UnsafeRawPointer, lines: Int, distance: Int) {
  for k in 0..<lines {
    let a = p + (distance &+ 64 &* k)
    Builtin.int_prefetch_RawPointer(a._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
  }
}
