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
