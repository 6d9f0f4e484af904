// swift-tools-version: 6.0
// gui-agent: screen understanding and GUI automation on Linux/X11.
// Dependencies point one way: gui-agent -> Agent -> Grounding -> Engine; Agent -> ScreenCapture;
// ScreenCapture and Grounding share the image type and PNG codec from Imaging.
import Foundation
import PackageDescription

// Numeric modules: FMA and AVX2 (Haswell and later, every x86-64 laptop of the last decade).
// GUI_AGENT_TARGET_CPU builds them for another CPU instead, e.g. `native` for the build machine's
// own (AVX-512, VNNI where it has them; the binary then runs only on such CPUs): make TARGET_CPU=native.
// Checked arithmetic stays on: these modules also parse untrusted files.
let targetCPU = ProcessInfo.processInfo.environment["GUI_AGENT_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 } ?? "haswell"
let optimized: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", targetCPU]),
]
// A host-CPU build on a CPU with AVX-512 VNNI: the int8 decode kernels take their byte products
// with `vpdpbusd` (Kernels/IntegerSIMD.swift).
let hostFlags: Set<Substring> = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
  .flatMap { $0.split(separator: "\n").first { $0.hasPrefix("flags") } }
  .map { Set($0.split(separator: " ")) } ?? []
let hostVNNI = targetCPU == "native" && hostFlags.contains("avx512_vnni") && hostFlags.contains("avx512vl")
// AVX-512 kernels in a module of their own (Sources/AVX512Kernels): compiled for Cascade Lake's
// instructions (AVX-512 F/CD/BW/DQ/VL and VNNI) whatever TARGET_CPU is, and called only after a
// run-time check of the CPU, so the portable binary uses them where the CPU has them.
#if arch(x86_64)
let avx512Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "cascadelake", "-enable-builtin-module"])]
#else
let avx512Settings: [SwiftSetting] = []
#endif
let engineSettings = optimized + [.unsafeFlags(["-enable-builtin-module"])] + (hostVNNI ? [.define("GUI_AGENT_AVX512_VNNI")] : [])

let package = Package(
  name: "gui-agent",
  products: [
    .executable(name: "gui-agent", targets: ["gui-agent"]),
    .library(name: "Engine", targets: ["Engine"]),
    .library(name: "Grounding", targets: ["Grounding"]),
    .library(name: "ScreenCapture", targets: ["ScreenCapture"]),
    .library(name: "Agent", targets: ["Agent"]),
    .library(name: "Service", targets: ["Service"]),
  ],
  targets: [
    // C libraries from Debian packages (scripts/install-deps installs them).
    .systemLibrary(name: "CXCB", path: "Sources/CXCB", pkgConfig: "xcb",
                   providers: [.apt(["libxcb1-dev", "libxcb-shm0-dev", "libxcb-xtest0-dev",
                                     "libxcb-randr0-dev", "libxcb-keysyms1-dev"])]),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                   providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(name: "CMicroHTTPD", path: "Sources/CMicroHTTPD", pkgConfig: "libmicrohttpd",
                   providers: [.apt(["libmicrohttpd-dev"])]),
    .systemLibrary(name: "CTesseract", path: "Sources/CTesseract", pkgConfig: "tesseract",
                   providers: [.apt(["libtesseract-dev"])]),

    // fork/exec with a process group and a parent-death signal, which Foundation's Process lacks.
    .target(name: "CSpawn", path: "Sources/CSpawn"),

    .target(name: "Imaging", dependencies: ["CPNG"], swiftSettings: optimized),
    .target(name: "ScreenCapture", dependencies: ["CXCB", "Imaging"]),
    // The builtin module: the integer kernels call LLVM's AVX2 intrinsics (Kernels/IntegerSIMD.swift).
    .target(name: "AVX512Kernels", swiftSettings: avx512Settings),
    .target(name: "Engine", dependencies: ["COpenBLAS", "AVX512Kernels"], swiftSettings: engineSettings),
    .target(name: "Grounding", dependencies: ["Engine", "Imaging", "CTesseract"], swiftSettings: optimized),
    .target(name: "Agent", dependencies: ["Grounding", "ScreenCapture", "CSQLite", "CSpawn"]),
    .target(name: "Service", dependencies: ["Agent", "Grounding", "Engine", "Imaging", "ScreenCapture", "CMicroHTTPD"]),
    .executableTarget(name: "gui-agent", dependencies: ["Agent", "Grounding", "ScreenCapture", "Engine", "Imaging", "Service"]),

    // Test support: an Xvfb of a test's own, and the built gui-agent run as a child process.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging"], resources: [.copy("Fixtures")]),
    .testTarget(name: "ScreenCaptureTests", dependencies: ["ScreenCapture", "CXCB", "TestSupport"]),
    .testTarget(name: "EngineTests", dependencies: ["Engine"], resources: [.copy("Fixtures")]),
    .testTarget(name: "GroundingTests", dependencies: ["Grounding"], resources: [.copy("Fixtures")]),
    .testTarget(name: "ParsingTests", dependencies: ["Grounding", "ScreenCapture", "Imaging", "TestSupport"]),
    .testTarget(name: "AgentTests", dependencies: ["Agent", "TestSupport"]),
    .testTarget(name: "ServiceTests", dependencies: ["Service", "Agent", "Engine", "Grounding", "Imaging", "ScreenCapture", "TestSupport"]),
    // The built binary end to end, and (through @testable import gui_agent) the CLI's pure helpers.
    .testTarget(name: "CLITests", dependencies: ["gui-agent", "Imaging", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
