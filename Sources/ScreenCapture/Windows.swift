import CXCB
import Foundation
import Imaging

/// A window of the display as found in the window tree.
public struct WindowInfo: Sendable, Equatable, Codable {
  public var id: UInt32
  /// `_NET_WM_NAME` (UTF-8) when set, else `WM_NAME`; empty when neither is set.
  public var name: String
  /// The inside area (without border) in root coordinates; may extend beyond the screen.
  public var rect: PixelRect
  /// Mapped, with all its ancestors mapped (X's `IsViewable`).
  public var isViewable: Bool
  /// `"viewable"`, `"unmapped"` or `"unviewable"` (mapped under an unmapped ancestor).
  public var mapState: String

  public init(id: UInt32, name: String, rect: PixelRect, isViewable: Bool, mapState: String) {
    self.id = id
    self.name = name
    self.rect = rect
    self.isViewable = isViewable
    self.mapState = mapState
  }
}

extension X11Display {
  // MARK: - Lookup

  /// Geometry and state of window `id`.
  ///
  /// - Throws: `windowNotFound` when no such window exists.
  public func windowInfo(_ id: UInt32) throws(ScreenCaptureError) -> WindowInfo {
    try locked { () throws(ScreenCaptureError) -> WindowInfo in
      let attrCookie = xcb_get_window_attributes(connection, id)
      let geomCookie = xcb_get_geometry(connection, id)
      let transCookie = xcb_translate_coordinates(connection, id, root, 0, 0)
      let names = requestNames(id)
      let hex = "0x" + String(id, radix: 16)
      // Collect every reply (or error) before judging, so none is left pending in xcb.
      let state = Result { () throws(ScreenCaptureError) in
        try withReply("GetWindowAttributes(\(hex))", { xcb_get_window_attributes_reply(connection, attrCookie, $0) }) {
          $0.pointee.map_state
        }
      }
      let size = Result { () throws(ScreenCaptureError) in
        try withReply("GetGeometry(\(hex))", { xcb_get_geometry_reply(connection, geomCookie, $0) }) {
          (Int($0.pointee.width), Int($0.pointee.height))
        }
      }
      let origin = Result { () throws(ScreenCaptureError) in
        try withReply("TranslateCoordinates(\(hex))", { xcb_translate_coordinates_reply(connection, transCookie, $0) }) {
          (Int($0.pointee.dst_x), Int($0.pointee.dst_y))
        }
      }
      let title = names.resolve()
      guard case let .success(mapState) = state, case let .success(wh) = size, case let .success(xy) = origin else {
        throw .windowNotFound("with id \(hex)")
      }
      let stateName = switch UInt32(mapState) {
      case XCB_MAP_STATE_VIEWABLE.rawValue: "viewable"
      case XCB_MAP_STATE_UNVIEWABLE.rawValue: "unviewable"
      default: "unmapped"
      }
      return WindowInfo(id: id, name: title, rect: PixelRect(x: xy.0, y: xy.1, width: wh.0, height: wh.1),
                        isViewable: stateName == "viewable", mapState: stateName)
    }
  }

  /// All windows whose title matches `title`: exact matches if there are any, else those whose
  /// title contains it ignoring case. Ordered bottom to top in stacking order (parents before
  /// their children), so the last viewable entry is the topmost.
  public func findWindows(named title: String) throws(ScreenCaptureError) -> [WindowInfo] {
    try locked { () throws(ScreenCaptureError) -> [WindowInfo] in
      let named = try namedWindows()
      let exact = named.filter { $0.name == title }
      let ids = exact.isEmpty ? named.filter { $0.name.localizedCaseInsensitiveContains(title) } : exact
      var out: [WindowInfo] = []
      for w in ids {
        // A window may vanish between the tree walk and this query; skip it.
        if let info = try? windowInfo(w.id) { out.append(info) }
      }
      return out
    }
  }

  /// The windows that have a title, in stacking order (bottom to top); by default only those
  /// that are viewable (mapped, with mapped ancestors).
  public func windows(viewableOnly: Bool = true) throws(ScreenCaptureError) -> [WindowInfo] {
    try locked { () throws(ScreenCaptureError) -> [WindowInfo] in
      try namedWindows().compactMap { w in
        // A window may vanish between the tree walk and this query; skip it.
        guard let info = try? windowInfo(w.id), info.isViewable || !viewableOnly else { return nil }
        return info
      }
    }
  }

  /// Every window in the tree that has a title, with its title, in stacking order.
  func namedWindows() throws(ScreenCaptureError) -> [(id: UInt32, name: String)] {
    try locked { () throws(ScreenCaptureError) -> [(id: UInt32, name: String)] in
      var out: [(id: UInt32, name: String)] = []
      var level = [root]
      // Breadth-first, one level at a time, so all requests of a level are pipelined.
      while !level.isEmpty {
        let treeCookies = level.map { xcb_query_tree(connection, $0) }
        let nameRequests = level.map { requestNames($0) }
        var next: [UInt32] = []
        for (i, window) in level.enumerated() {
          let title = nameRequests[i].resolve()
          if !title.isEmpty { out.append((window, title)) }
          let cookie = treeCookies[i]
          let children = try? withReply("QueryTree", { xcb_query_tree_reply(connection, cookie, $0) }) { r in
            let n = Int(xcb_query_tree_children_length(r))
            return xcb_query_tree_children(r).map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? []
          }
          next.append(contentsOf: children ?? [])
        }
        level = next
      }
      return out
    }
  }

  /// The topmost viewable window matching `title`, or else the topmost match of any state (so
  /// that the caller gets a precise "not viewable" error).
  func bestWindow(named title: String) throws(ScreenCaptureError) -> WindowInfo {
    let matches = try findWindows(named: title)
    if let w = matches.last(where: { $0.isViewable }) ?? matches.last { return w }
    throw .windowNotFound("named '\(title)'")
  }

  /// The part of a window that is on screen, in root coordinates.
  func visibleRect(of w: WindowInfo) throws(ScreenCaptureError) -> PixelRect {
    guard w.isViewable else { throw .windowNotViewable(window: w.id, mapState: w.mapState) }
    let x0 = max(w.rect.x, 0), y0 = max(w.rect.y, 0)
    let x1 = min(w.rect.x + w.rect.width, screenWidth), y1 = min(w.rect.y + w.rect.height, screenHeight)
    guard x1 > x0, y1 > y0 else { throw .windowOffScreen(window: w.id, geometry: w.rect.description) }
    return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  // MARK: - Titles

  /// Pipelined `_NET_WM_NAME` and `WM_NAME` requests for one window.
  struct NameRequest {
    let display: X11Display
    let net: xcb_get_property_cookie_t
    let wm: xcb_get_property_cookie_t

    /// `_NET_WM_NAME` when non-empty, else `WM_NAME` (Latin-1 `STRING`, or UTF-8 when it decodes).
    func resolve() -> String {
      if let s = display.propertyText(net, latin1: false), !s.isEmpty {
        _ = display.propertyText(wm, latin1: true)
        return s
      }
      return display.propertyText(wm, latin1: true) ?? ""
    }
  }

  func requestNames(_ window: UInt32) -> NameRequest {
    // 1024 32-bit units = 4 KiB of title is plenty.
    NameRequest(display: self,
                net: xcb_get_property(connection, 0, window, netWMName, 0, 0, 1024),
                wm: xcb_get_property(connection, 0, window, UInt32(XCB_ATOM_WM_NAME.rawValue), 0, 0, 1024))
  }

  private var netWMName: UInt32 { (try? atom("_NET_WM_NAME")) ?? UInt32(XCB_ATOM_WM_NAME.rawValue) }

  func propertyText(_ cookie: xcb_get_property_cookie_t, latin1: Bool) -> String? {
    try? withReply("GetProperty", { xcb_get_property_reply(connection, cookie, $0) }) { r -> String? in
      let n = Int(xcb_get_property_value_length(r))
      guard n > 0, let v = xcb_get_property_value(r) else { return nil }
      let bytes = Array(UnsafeRawBufferPointer(start: v, count: n))
      if latin1, String(validating: bytes, as: UTF8.self) == nil {
        return String(bytes.map { Character(Unicode.Scalar($0)) })
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
