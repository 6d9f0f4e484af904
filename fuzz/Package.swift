// swift-tools-version: 6.0
// libFuzzer targets for gui-agent's parsers (see README.md). A package of its own: the fuzz
// executable only links with `-sanitize=fuzzer`, which a plain `swift build` of the main package
// does not pass. Build:
//   swift build -c release --product Fuzz -Xswiftc -sanitize=fuzzer
import PackageDescription

let package = Package(
  name: "gui-agent-fuzz",
  dependencies: [
    .package(name: "gui-agent", path: ".."),
  ],
  targets: [
    // Declares libFuzzer's LLVMFuzzerRunDriver for Swift.
    .target(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
    .executableTarget(
      name: "Fuzz",
      dependencies: [
        "CFuzzerDriver",
        .product(name: "Engine", package: "gui-agent"),
        .product(name: "Grounding", package: "gui-agent"),
        .product(name: "Agent", package: "gui-agent"),
        .product(name: "Service", package: "gui-agent"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
