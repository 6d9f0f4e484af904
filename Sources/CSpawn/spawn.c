// Between fork and exec only async-signal-safe calls and raw system calls: the parent has
// other threads, whose locks the child may have copied in a held state.
#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Closes descriptors first..last (inclusive).
static void close_range_of(unsigned first, unsigned last) {
  if (first > last) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
#endif
  for (unsigned fd = first; fd <= last && fd < 65536; fd++) close((int)fd);
}

// Closes every descriptor from 3 on except `keep` (which is at least 3).
static void close_all_but(int keep) {
  close_range_of(3, (unsigned)keep - 1);
  close_range_of((unsigned)keep + 1, ~0U);
}

static void default_signals(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);  // SIGKILL, SIGSTOP: EINVAL, fine
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

// Moves `fd` to 3 or above, so that the dup2s onto 0, 1, 2 cannot overwrite a source.
static int above_stdio(int fd) { return fd >= 0 && fd < 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd; }

pid_t cspawn_guard(int *write_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return -e;
  }
  if (pid == 0) {
    setpgid(0, 0);
    default_signals();
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_NAME, "scenario-guard", 0, 0, 0);
    int wait_fd = above_stdio(fds[0]);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    close_all_but(wait_fd);
    char byte;
    ssize_t n;
    do { n = read(wait_fd, &byte, 1); } while (n > 0 || (n < 0 && errno == EINTR));
    kill(0, SIGKILL);
    _exit(0);
  }
  setpgid(pid, pid);  // here too, so that the group exists before the first child joins it
  close(fds[0]);
  *write_fd = fds[1];
  return pid;
}

pid_t cspawn_child(const char *path, char *const argv[], char *const envp[], pid_t group,
                   int in, int out, int err, const char *dir) {
  int report[2];  // the child writes errno here when it fails before exec; EOF means exec'd
  if (pipe2(report, O_CLOEXEC) != 0) return -errno;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    return -e;
  }
  if (pid == 0) {
    int e = 0;
    int w = above_stdio(report[1]);
    if (setpgid(0, group) != 0) e = errno;
    if (!e && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) e = errno;
    if (!e && getppid() != parent) e = ESRCH;  // the parent died before prctl took effect
    default_signals();
    in = above_stdio(in);
    out = above_stdio(out);
    err = above_stdio(err);
    if (!e && (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)) e = errno;
    if (!e) close_all_but(w);
    if (!e && dir != NULL && chdir(dir) != 0) e = errno;
    if (!e) {
      execve(path, argv, envp);
      e = errno;
    }
    ssize_t written = write(w, &e, sizeof e);
    (void)written;
    _exit(127);
  }
  setpgid(pid, group);  // here too: no window in which a group-wide kill misses the child
  close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do { n = read(report[0], &child_errno, sizeof child_errno); } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == (ssize_t)sizeof child_errno) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}  // it has _exit'ed: no zombie
    return -(child_errno ? child_errno : ECHILD);
  }
  return pid;
}
