#if arch(x86_64)
import AVX512Kernels

// MARK: - The AVX-512 VNNI kernels, where the CPU has them
//
// The same sums as the AVX2 and portable kernels (Int8Dot.swift), taken by the kernels of module
// AVX512Kernels (Int8Dot512.swift, Int8Dot512K.swift there: two blocks of 32, or 64 values of a
// K-quant block, per 512-bit `vpdpbusd`/`vpdpwssd`). That module is built for AVX-512 whatever
// this one targets, so it is entered only after `CPUFeatures.avx512`, read once per product.

/// The AVX-512 kernel for `type` on rows of `blocks` blocks, nil where the CPU lacks AVX-512 VNNI
/// (or GUI_AGENT_KERNELS=avx2 holds the process to the AVX2 kernels) and for rows of fewer than 4
/// blocks of 32 (the AVX-512 kernels take 4 at a time).
func avx512RowsKernel(_ type: TensorDType, blocks: Int) -> Int8RowsKernel? {
  guard CPUFeatures.avx512, type.blockSize == 256 || blocks >= 4 else { return nil }
  switch type {
  case .q4_0:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ4_0(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 5, q: a.bytes, d: a.scales, out: out)
    }
  case .q4_1:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ4_1(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 5, q: a.bytes, d: a.scales, s: a.sums, out: out)
    }
  case .q5_0:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ5_0(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 5, q: a.bytes, d: a.scales, out: out)
    }
  case .q5_1:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ5_1(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 5, q: a.bytes, d: a.scales, s: a.sums, out: out)
    }
  case .q8_0:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ8_0(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 5, q: a.bytes, d: a.scales, out: out)
    }
  case .q4_K:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ4_K(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 8, q: a.bytes, d: a.scales, s: a.sums, out: out)
    }
  case .q5_K:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ5_K(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 8, q: a.bytes, d: a.scales, s: a.sums, out: out)
    }
  case .q6_K:
    return { rows, rowBytes, count, a, out in
      AVX512.dotQ6_K(rows, rowBytes: rowBytes, count: count, blocks: a.count &>> 8, q: a.bytes, d: a.scales, s: a.sums, out: out)
    }
  case .f32, .f16, .bf16, .q8_K: return nil
  }
}
#endif
