import CXCB
import Imaging

/// How the server lays out ZPixmap image data of the root window: bits per pixel and scanline
/// padding come from the setup's pixmap format for the root depth, channel positions from the root
/// visual's masks, byte order from the setup's `image_byte_order` (X11 protocol, "Connection Setup").
struct PixelFormat: Sendable, Equatable {
  var depth: Int
  var bitsPerPixel: Int
  var scanlinePad: Int
  /// `image_byte_order` is MSBFirst: a pixel's most significant byte comes first in memory.
  var msbFirst: Bool
  var redMask: UInt32, greenMask: UInt32, blueMask: UInt32

  init(depth: Int, bitsPerPixel: Int, scanlinePad: Int, msbFirst: Bool,
       redMask: UInt32, greenMask: UInt32, blueMask: UInt32) throws(ScreenCaptureError) {
    guard [8, 16, 24, 32].contains(bitsPerPixel), depth >= 8, depth <= bitsPerPixel else {
      throw .unsupportedPixelFormat("depth \(depth) at \(bitsPerPixel) bits per pixel")
    }
    guard scanlinePad > 0, scanlinePad % 8 == 0 else {
      throw .unsupportedPixelFormat("scanline pad \(scanlinePad)")
    }
    guard redMask != 0, greenMask != 0, blueMask != 0 else {
      throw .unsupportedPixelFormat("visual masks r=\(redMask) g=\(greenMask) b=\(blueMask) (not TrueColor)")
    }
    self.depth = depth
    self.bitsPerPixel = bitsPerPixel
    self.scanlinePad = scanlinePad
    self.msbFirst = msbFirst
    self.redMask = redMask
    self.greenMask = greenMask
    self.blueMask = blueMask
  }

  /// Reads the root window's format from the connection setup.
  init(setup: UnsafePointer<xcb_setup_t>, screen: UnsafeMutablePointer<xcb_screen_t>) throws(ScreenCaptureError) {
    let depth = screen.pointee.root_depth
    var bpp = 0, pad = 0
    if let formats = xcb_setup_pixmap_formats(setup) {
      for i in 0..<Int(xcb_setup_pixmap_formats_length(setup)) where formats[i].depth == depth {
        bpp = Int(formats[i].bits_per_pixel)
        pad = Int(formats[i].scanline_pad)
      }
    }
    guard bpp > 0 else { throw .unsupportedPixelFormat("no pixmap format for root depth \(depth)") }
    let visualID = screen.pointee.root_visual
    guard let visual = Self.visual(screen, id: visualID) else {
      throw .unsupportedPixelFormat("root visual 0x\(String(visualID, radix: 16)) not listed")
    }
    try self.init(depth: Int(depth), bitsPerPixel: bpp, scanlinePad: pad,
                  msbFirst: setup.pointee.image_byte_order == UInt8(XCB_IMAGE_ORDER_MSB_FIRST.rawValue),
                  redMask: visual.red_mask, greenMask: visual.green_mask, blueMask: visual.blue_mask)
  }

  private static func visual(_ screen: UnsafeMutablePointer<xcb_screen_t>, id: xcb_visualid_t) -> xcb_visualtype_t? {
    var depths = xcb_screen_allowed_depths_iterator(screen)
    while depths.rem > 0 {
      var visuals = xcb_depth_visuals_iterator(depths.data)
      while visuals.rem > 0 {
        if let v = visuals.data, v.pointee.visual_id == id { return v.pointee }
        xcb_visualtype_next(&visuals)
      }
      xcb_depth_next(&depths)
    }
    return nil
  }

  // MARK: - Layout

  var bytesPerPixel: Int { bitsPerPixel / 8 }

  /// Bytes per image row: `width * bpp` bits rounded up to the scanline pad.
  func bytesPerRow(width: Int) -> Int {
    (width * bitsPerPixel + scanlinePad - 1) / scanlinePad * scanlinePad / 8
  }

  /// Byte offset within a pixel of a channel whose mask is one whole byte, else nil.
  private func byteOffset(_ mask: UInt32) -> Int? {
    for k in 0..<bytesPerPixel where mask == UInt32(0xff) << (8 * k) {
      return msbFirst ? bytesPerPixel - 1 - k : k
    }
    return nil
  }

  // MARK: - Conversion

  /// Converts server pixels (height rows of `bytesPerRow(width:)` bytes) into an `RGBImage`.
  func rgbImage(from src: UnsafeRawBufferPointer, width: Int, height: Int) throws(ScreenCaptureError) -> RGBImage {
    let stride = bytesPerRow(width: width)
    guard width > 0, height > 0, src.count >= stride * (height - 1) + width * bytesPerPixel else {
      throw .invalidArgument("image data of \(src.count) bytes is too short for \(width)x\(height) at \(bitsPerPixel) bpp")
    }
    // out (height, width, 3) RGB
    let out = [UInt8](unsafeUninitializedCapacity: width * height * 3) { dst, count in
      if let r = byteOffset(redMask), let g = byteOffset(greenMask), let b = byteOffset(blueMask) {
        copyBytes(src, dst, width: width, height: height, stride: stride, offsets: (r, g, b))
      } else {
        unpackMasked(src, dst, width: width, height: height, stride: stride)
      }
      count = width * height * 3
    }
    do {
      return try RGBImage(width: width, height: height, pixels: out)
    } catch {
      throw .invalidArgument("\(error.localizedDescription)")
    }
  }

  /// Every channel is a whole byte (the common BGRX / XRGB layouts): plain byte gathers.
  private func copyBytes(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableBufferPointer<UInt8>,
                         width: Int, height: Int, stride: Int, offsets: (Int, Int, Int)) {
    guard let s = src.baseAddress?.assumingMemoryBound(to: UInt8.self), let d = dst.baseAddress else { return }
    let bpp = bytesPerPixel
    for y in 0..<height {
      var p = s + y * stride
      var q = d + y * width * 3
      for _ in 0..<width {
        q[0] = p[offsets.0]; q[1] = p[offsets.1]; q[2] = p[offsets.2]
        p += bpp; q += 3
      }
    }
  }

  /// Any TrueColor layout: read the pixel value in server byte order, then mask, shift and
  /// scale each channel to 8 bits (as Xlib's XGetPixel plus a linear scale).
  private func unpackMasked(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableBufferPointer<UInt8>,
                            width: Int, height: Int, stride: Int) {
    let channels = [redMask, greenMask, blueMask].map { mask -> (mask: UInt32, shift: UInt32, max: UInt32) in
      let shift = UInt32(mask.trailingZeroBitCount)
      return (mask, shift, mask >> shift)
    }
    let bpp = bytesPerPixel
    for y in 0..<height {
      for x in 0..<width {
        let p = y * stride + x * bpp
        var v: UInt32 = 0
        for k in 0..<bpp {
          let byte = UInt32(src[p + k])
          v |= msbFirst ? byte << (8 * UInt32(bpp - 1 - k)) : byte << (8 * UInt32(k))
        }
        for c in 0..<3 {
          let ch = channels[c]
          let raw = (v & ch.mask) >> ch.shift
          dst[(y * width + x) * 3 + c] = UInt8((raw * 255 + ch.max / 2) / ch.max)
        }
      }
    }
  }
}
