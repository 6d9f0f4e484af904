import Foundation

// MARK: - What the CPU can run, checked once at run time

/// Instruction sets beyond the build's own target that kernels may dispatch to.
public enum CPUFeatures {
  /// The AVX-512 kernels (module AVX512Kernels) may run: the CPU has AVX-512 F, CD, BW, DQ, VL and
  /// VNNI (the kernel reports them in /proc/cpuinfo only where it saves their registers), and
  /// GUI_AGENT_KERNELS is not `avx2` (which holds the process to the portable kernels, to compare
  /// the two).
  public static let avx512: Bool = {
    #if arch(x86_64)
    if ProcessInfo.processInfo.environment["GUI_AGENT_KERNELS"] == "avx2" { return false }
    let needed: Set<Substring> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"]
    return needed.isSubset(of: cpuFlags())
    #else
    return false
    #endif
  }()

  /// The kernel set in use, as benchmarks report it: "avx512" or "avx2" on x86-64, else "portable".
  public static var kernels: String {
    #if arch(x86_64)
    return avx512 ? "avx512" : "avx2"
    #else
    return "portable"
    #endif
  }

  /// The first CPU's `flags` line of /proc/cpuinfo, split; empty where it cannot be read.
  static func cpuFlags() -> Set<Substring> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    return Set(line.split(separator: " "))
  }
}
