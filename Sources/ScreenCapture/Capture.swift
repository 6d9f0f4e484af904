import CXCB
import Foundation
import Imaging

/// How pixels travel from the X server.
public enum CaptureMethod: String, Sendable, CaseIterable {
  /// MIT-SHM when the server can share memory with this process, else `GetImage`.
  case auto
  /// MIT-SHM `ShmGetImage` only; fails when shared memory is unavailable.
  case shm
  /// Core `GetImage` only: pixels come through the socket (works on remote displays).
  case getImage
}

/// What to capture. All targets are cut from the root window, so overlapping windows appear as
/// they do on screen.
public enum CaptureTarget: Sendable, Equatable {
  /// The whole root window.
  case screen
  /// A monitor by its index in `monitors()` (ordered left to right, then top to bottom).
  case monitor(index: Int)
  /// A monitor by its RandR name, e.g. `"HDMI-1"`.
  case monitorNamed(String)
  /// A window by its X id; its inside area (without border), clipped to the screen.
  case window(id: UInt32)
  /// A window by title (see `findWindows(named:)`); the topmost viewable match is taken.
  case windowNamed(String)
  /// A rectangle in root coordinates; it must lie inside the screen.
  case region(PixelRect)
}

extension X11Display {
  // MARK: - Public capture

  /// Captures `target` as RGB.
  ///
  /// - Throws: `ScreenCaptureError` when the target does not exist or is not on screen, or when
  ///   the forced `method` is unavailable.
  public func capture(_ target: CaptureTarget = .screen, method: CaptureMethod = .auto) throws(ScreenCaptureError) -> RGBImage {
    try locked { () throws(ScreenCaptureError) -> RGBImage in
      try captureRect(rect(of: target), method: method)
    }
  }

  /// The rectangle (root coordinates) that capturing `target` would cut.
  public func rect(of target: CaptureTarget) throws(ScreenCaptureError) -> PixelRect {
    try locked { () throws(ScreenCaptureError) -> PixelRect in
      switch target {
      case .screen:
        return screenRect
      case let .monitor(index):
        let all = try monitors()
        guard all.indices.contains(index) else {
          throw .monitorNotFound("with index \(index) (there are \(all.count))")
        }
        return all[index].rect
      case let .monitorNamed(monitorName):
        guard let m = try monitors().first(where: { $0.name == monitorName }) else {
          throw .monitorNotFound("named '\(monitorName)'")
        }
        return m.rect
      case let .window(id):
        return try visibleRect(of: windowInfo(id))
      case let .windowNamed(title):
        return try visibleRect(of: bestWindow(named: title))
      case let .region(r):
        guard r.width > 0, r.height > 0, r.x >= 0, r.y >= 0,
              r.x + r.width <= screenWidth, r.y + r.height <= screenHeight
        else { throw .regionOutsideScreen(region: r.description, screenWidth: screenWidth, screenHeight: screenHeight) }
        return r
      }
    }
  }

  /// True when MIT-SHM capture works on this display (attempts it once if not yet known).
  public var sharedMemoryAvailable: Bool {
    locked {
      if shm != nil { return true }
      if shmDisabledReason != nil { return false }
      return (try? ensureSegment(bytes: pixelFormat.bytesPerRow(width: 1))) != nil
    }
  }

  /// Why MIT-SHM is not used on this display, once a capture or `sharedMemoryAvailable` found
  /// out (e.g. "the display ':1' does not offer MIT-SHM"); nil while it works or is untried.
  public var sharedMemoryUnavailableReason: String? { locked { shmDisabledReason } }

  // MARK: - Paths

  /// Cuts `r` (inside the screen) from the root window.
  func captureRect(_ r: PixelRect, method: CaptureMethod) throws(ScreenCaptureError) -> RGBImage {
    switch method {
    case .getImage:
      return try getImage(r)
    case .shm:
      return try shmGetImage(r)
    case .auto:
      if shmDisabledReason == nil {
        do throws(ScreenCaptureError) {
          return try shmGetImage(r)
        } catch {
          // Fall back for this capture; `ensureSegment` has remembered a lasting failure.
        }
      }
      return try getImage(r)
    }
  }

  /// Core GetImage in ZPixmap format: the reply carries `bytesPerRow * height` bytes.
  private func getImage(_ r: PixelRect) throws(ScreenCaptureError) -> RGBImage {
    let cookie = xcb_get_image(connection, UInt8(XCB_IMAGE_FORMAT_Z_PIXMAP.rawValue), root,
                               Int16(r.x), Int16(r.y), UInt16(r.width), UInt16(r.height), ~0)
    return try withReply("GetImage(\(r))", { xcb_get_image_reply(connection, cookie, $0) }) { reply throws(ScreenCaptureError) in
      let count = Int(xcb_get_image_data_length(reply))
      guard let data = xcb_get_image_data(reply) else {
        throw .requestFailed(request: "GetImage(\(r)) returned no data", errorCode: -1)
      }
      return try pixelFormat.rgbImage(from: UnsafeRawBufferPointer(start: data, count: count),
                                      width: r.width, height: r.height)
    }
  }

  /// MIT-SHM GetImage into the kept segment, grown when a larger image is asked for.
  private func shmGetImage(_ r: PixelRect) throws(ScreenCaptureError) -> RGBImage {
    let bytes = pixelFormat.bytesPerRow(width: r.width) * r.height
    let seg = try ensureSegment(bytes: bytes)
    let cookie = xcb_shm_get_image(connection, root, Int16(r.x), Int16(r.y), UInt16(r.width), UInt16(r.height),
                                   ~0, UInt8(XCB_IMAGE_FORMAT_Z_PIXMAP.rawValue), seg.segment, 0)
    let size = try withReply("ShmGetImage(\(r))", { xcb_shm_get_image_reply(connection, cookie, $0) }) {
      Int($0.pointee.size)
    }
    guard size >= bytes else {
      throw .sharedMemoryFailed("ShmGetImage wrote \(size) bytes, expected \(bytes)")
    }
    return try pixelFormat.rgbImage(from: UnsafeRawBufferPointer(start: seg.address, count: bytes),
                                    width: r.width, height: r.height)
  }

  /// The shared segment, (re)created when missing or smaller than `bytes`.
  private func ensureSegment(bytes: Int) throws(ScreenCaptureError) -> SharedSegment {
    if let shm, shm.size >= bytes { return shm }
    if let reason = shmDisabledReason { throw .sharedMemoryFailed(reason) }
    guard hasExtension(cxcb_shm_id()) else {
      let why = "the display '\(name)' does not offer MIT-SHM"
      shmDisabledReason = why
      throw .sharedMemoryFailed(why)
    }
    if let old = shm {
      old.release(connection)
      shm = nil
    }
    // Whole pages; the segment only grows, so alternating sizes do not reallocate.
    let size = (bytes + 4095) & ~4095
    do throws(ScreenCaptureError) {
      let seg = try SharedSegment.create(connection, size: size)
      shm = seg
      return seg
    } catch {
      // No shared memory with this server (remote, other IPC namespace): stop trying.
      if case let .sharedMemoryFailed(why) = error { shmDisabledReason = why }
      throw error
    }
  }
}
