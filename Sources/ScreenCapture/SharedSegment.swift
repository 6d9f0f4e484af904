import CXCB
import Foundation

/// A System V shared-memory segment attached both here and in the X server (MIT-SHM), into which
/// `ShmGetImage` writes pixels without copying them through the socket.
struct SharedSegment {
  let segment: xcb_shm_seg_t
  let address: UnsafeMutableRawPointer
  let size: Int

  /// Creates a segment of `size` bytes and attaches it to the server read-write.
  ///
  /// The segment is marked for removal as soon as both sides are attached, so it disappears with
  /// the process even on a crash. Fails (and cleans up) when the server cannot reach our IPC
  /// namespace, as with a remote display or a server in another container.
  static func create(_ conn: OpaquePointer, size: Int) throws(ScreenCaptureError) -> SharedSegment {
    let id = shmget(0 /* IPC_PRIVATE */, size, 0o1000 /* IPC_CREAT */ | 0o600)
    guard id >= 0 else { throw .sharedMemoryFailed("shmget of \(size) bytes failed (errno \(errno))") }
    defer { shmctl(id, 0 /* IPC_RMID */, nil) }
    guard let address = shmat(id, nil, 0), Int(bitPattern: address) != -1 else {
      throw .sharedMemoryFailed("shmat failed (errno \(errno))")
    }
    let segment = xcb_generate_id(conn)
    let cookie = xcb_shm_attach_checked(conn, segment, UInt32(id), 0)
    if let error = xcb_request_check(conn, cookie) {
      let code = error.pointee.error_code
      free(error)
      shmdt(address)
      throw .sharedMemoryFailed("the server could not attach the segment (X error \(code)); remote display?")
    }
    return SharedSegment(segment: segment, address: address, size: size)
  }

  func release(_ conn: OpaquePointer) {
    xcb_shm_detach(conn, segment)
    xcb_flush(conn)
    shmdt(address)
  }
}
