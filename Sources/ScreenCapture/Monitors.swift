import CXCB
import Foundation
import Imaging

/// One monitor: a RandR output's area of the root window.
public struct Monitor: Sendable, Equatable, Codable {
  /// RandR name, e.g. `"eDP-1"`; `"screen"` when the display has no RandR information.
  public var name: String
  /// Area in root coordinates.
  public var rect: PixelRect
  public var isPrimary: Bool

  public init(name: String, rect: PixelRect, isPrimary: Bool) {
    self.name = name
    self.rect = rect
    self.isPrimary = isPrimary
  }
}

extension X11Display {
  /// The monitors, ordered left to right, then top to bottom.
  ///
  /// Uses RandR 1.5 `GetMonitors` when the server has it, else the active CRTCs of RandR 1.2+,
  /// else one monitor covering the whole screen.
  public func monitors() throws(ScreenCaptureError) -> [Monitor] {
    try locked { () throws(ScreenCaptureError) -> [Monitor] in
      var found: [Monitor] = []
      if hasExtension(cxcb_randr_id()) {
        let version = try randrVersion()
        if version >= (1, 5) {
          found = try randrMonitors()
        } else if version >= (1, 2) {
          found = try crtcMonitors()
        }
      }
      if found.isEmpty { found = [Monitor(name: "screen", rect: screenRect, isPrimary: true)] }
      return found.sorted { ($0.rect.x, $0.rect.y) < ($1.rect.x, $1.rect.y) }
    }
  }

  // MARK: - RandR

  private func randrVersion() throws(ScreenCaptureError) -> (Int, Int) {
    let cookie = xcb_randr_query_version(connection, 1, 5)
    return try withReply("RRQueryVersion", { xcb_randr_query_version_reply(connection, cookie, $0) }) {
      (Int($0.pointee.major_version), Int($0.pointee.minor_version))
    }
  }

  /// RandR 1.5 monitors (these also cover user-defined monitors from `xrandr --setmonitor`).
  func randrMonitors() throws(ScreenCaptureError) -> [Monitor] {
    let cookie = xcb_randr_get_monitors(connection, root, 1)
    let raw = try withReply("RRGetMonitors", { xcb_randr_get_monitors_reply(connection, cookie, $0) }) { reply in
      var out: [(atom: xcb_atom_t, rect: PixelRect, primary: Bool)] = []
      var it = xcb_randr_get_monitors_monitors_iterator(reply)
      while it.rem > 0, let m = it.data?.pointee {
        out.append((m.name, PixelRect(x: Int(m.x), y: Int(m.y), width: Int(m.width), height: Int(m.height)),
                    m.primary != 0))
        xcb_randr_monitor_info_next(&it)
      }
      return out
    }
    var monitors: [Monitor] = []
    for m in raw {
      monitors.append(Monitor(name: try atomName(m.atom), rect: m.rect, isPrimary: m.primary))
    }
    return monitors
  }

  /// RandR 1.2-1.4: one monitor per active CRTC, named after its first output.
  func crtcMonitors() throws(ScreenCaptureError) -> [Monitor] {
    let resCookie = xcb_randr_get_screen_resources_current(connection, root)
    let (crtcs, timestamp) = try withReply("RRGetScreenResourcesCurrent", {
      xcb_randr_get_screen_resources_current_reply(connection, resCookie, $0)
    }) { reply in
      let n = Int(xcb_randr_get_screen_resources_current_crtcs_length(reply))
      let ids = xcb_randr_get_screen_resources_current_crtcs(reply).map { Array(UnsafeBufferPointer(start: $0, count: n)) }
      return (ids ?? [], reply.pointee.config_timestamp)
    }
    let primaryCookie = xcb_randr_get_output_primary(connection, root)
    let primary = try withReply("RRGetOutputPrimary", { xcb_randr_get_output_primary_reply(connection, primaryCookie, $0) }) {
      $0.pointee.output
    }
    var monitors: [Monitor] = []
    for crtc in crtcs {
      let infoCookie = xcb_randr_get_crtc_info(connection, crtc, timestamp)
      let info = try withReply("RRGetCrtcInfo", { xcb_randr_get_crtc_info_reply(connection, infoCookie, $0) }) { r in
        let n = Int(xcb_randr_get_crtc_info_outputs_length(r))
        let outputs = xcb_randr_get_crtc_info_outputs(r).map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? []
        let p = r.pointee
        return (rect: PixelRect(x: Int(p.x), y: Int(p.y), width: Int(p.width), height: Int(p.height)),
                active: p.mode != 0 && p.width > 0, outputs: outputs)
      }
      guard info.active, let output = info.outputs.first else { continue }
      let outCookie = xcb_randr_get_output_info(connection, output, timestamp)
      let outputName = try withReply("RRGetOutputInfo", { xcb_randr_get_output_info_reply(connection, outCookie, $0) }) { r in
        let n = Int(xcb_randr_get_output_info_name_length(r))
        return xcb_randr_get_output_info_name(r).map {
          String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
        } ?? "crtc-\(crtc)"
      }
      monitors.append(Monitor(name: outputName, rect: info.rect, isPrimary: info.outputs.contains(primary)))
    }
    return monitors
  }

  /// The name of an atom (RandR monitor names are atoms).
  func atomName(_ atom: xcb_atom_t) throws(ScreenCaptureError) -> String {
    let cookie = xcb_get_atom_name(connection, atom)
    return try withReply("GetAtomName(\(atom))", { xcb_get_atom_name_reply(connection, cookie, $0) }) { r in
      let n = Int(xcb_get_atom_name_name_length(r))
      return xcb_get_atom_name_name(r).map {
        String(decoding: UnsafeRawBufferPointer(start: $0, count: n), as: UTF8.self)
      } ?? ""
    }
  }
}
