#pragma once
#include <sys/types.h>

// Children for scenario runs: each in one process group that dies with the runner.
// Foundation's Process cannot do this on Linux: it learns of a child's exit when the child's
// end of a socket pair closes, so a grandchild that inherits that end (`sh -c "app &"`) hides
// the exit forever; and it has no hook to run prctl(2) in the child before exec.

/// Forks a guard: the leader of a new process group that waits for EOF on a pipe whose write
/// end (close-on-exec) only the caller holds, then SIGKILLs its whole group, itself included.
/// Closing that end, or the caller dying (kill -9 included), takes the group down.
/// It ignores SIGTERM/SIGINT/SIGHUP so that a group-wide SIGTERM leaves it to do this.
/// Returns its pid (also the group id) and sets *write_fd, or returns -errno.
pid_t cspawn_guard(int *write_fd);

/// Forks and execs `path` (absolute) with `argv` and `envp` (NULL-terminated) into process
/// group `group`, with stdin/stdout/stderr from `in`/`out`/`err`, every other descriptor
/// closed, an empty signal mask and default dispositions, in `dir` when not NULL, and SIGKILL
/// as its parent-death signal (Linux sends it when the spawning *thread* exits).
/// Returns the pid, or -errno when the fork, the set-up or the exec failed.
pid_t cspawn_child(const char *path, char *const argv[], char *const envp[], pid_t group,
                   int in, int out, int err, const char *dir);
