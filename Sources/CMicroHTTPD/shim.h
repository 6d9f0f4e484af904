// libmicrohttpd for Swift. Its start and info calls are variadic, which Swift cannot call:
// the inline functions below make the variadic calls on Swift's behalf.
#ifndef GUI_AGENT_CMICROHTTPD_SHIM_H
#define GUI_AGENT_CMICROHTTPD_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Starts a daemon without a listening socket of its own: the caller accepts connections and
/// hands them over with MHD_add_connection (flags must carry MHD_USE_NO_LISTEN_SOCKET and
/// MHD_USE_ITC). With the request-completed and connection notifiers, an idle timeout in seconds
/// and a connection limit. Returns NULL when the daemon cannot start.
static inline struct MHD_Daemon *gui_agent_mhd_start_unbound(
    unsigned int flags,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    MHD_NotifyConnectionCallback connection_notifier, void *connection_notifier_cls,
    unsigned int idle_timeout_seconds, unsigned int connection_limit) {
  return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                          MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                          MHD_OPTION_NOTIFY_CONNECTION, connection_notifier, connection_notifier_cls,
                          MHD_OPTION_CONNECTION_TIMEOUT, idle_timeout_seconds,
                          MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                          MHD_OPTION_END);
}

/// The socket of `connection`, or -1 when libmicrohttpd does not say.
static inline int gui_agent_mhd_connection_fd(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info == NULL ? -1 : info->connect_fd;
}

/// A response holding its own copy of `size` bytes at `data` (MHD_RESPMEM_MUST_COPY).
static inline struct MHD_Response *gui_agent_mhd_response_copy(size_t size, const void *data) {
  return MHD_create_response_from_buffer(size, (void *)data, MHD_RESPMEM_MUST_COPY);
}

#endif
