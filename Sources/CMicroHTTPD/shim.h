// libmicrohttpd for Swift. Its start and info calls are variadic, which Swift cannot call:
// the two inline functions below make the variadic calls on Swift's behalf.
#ifndef GUI_AGENT_CMICROHTTPD_SHIM_H
#define GUI_AGENT_CMICROHTTPD_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Starts a daemon bound to `address` (a sockaddr_in or sockaddr_in6; flags must carry
/// MHD_USE_IPv6 for the latter), with the completion notifier, an idle timeout in seconds and a
/// connection limit. Returns NULL when the daemon cannot start (port taken, bad flags).
static inline struct MHD_Daemon *gui_agent_mhd_start(
    unsigned int flags, const struct sockaddr *address,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    unsigned int idle_timeout_seconds, unsigned int connection_limit) {
  return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                          MHD_OPTION_SOCK_ADDR, address,
                          MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                          MHD_OPTION_CONNECTION_TIMEOUT, idle_timeout_seconds,
                          MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                          MHD_OPTION_END);
}

/// The port the daemon listens on (the kernel's choice when bound to port 0); 0 if unknown.
static inline uint16_t gui_agent_mhd_bound_port(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info == NULL ? 0 : info->port;
}

/// A response holding its own copy of `size` bytes at `data` (MHD_RESPMEM_MUST_COPY).
static inline struct MHD_Response *gui_agent_mhd_response_copy(size_t size, const void *data) {
  return MHD_create_response_from_buffer(size, (void *)data, MHD_RESPMEM_MUST_COPY);
}

#endif
