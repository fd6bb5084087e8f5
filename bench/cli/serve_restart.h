/*
 * serve_restart.h: `pvt serve --restart`: the server in a child process,
 * started again whenever it dies (serve_restart.c).
 */
#ifndef PVT_SERVE_RESTART_H
#define PVT_SERVE_RESTART_H

#include <signal.h>
#include <stdatomic.h>

#include "shared/core/sup.h"

/*
 * Run run(arg, waitmask) in a child process and relay its ready line
 * ("ready port=P pid=THIS_PROCESS ctl=SOCKET": every child binds the same
 * control socket, named after this process). When the child dies without being
 * asked, start another on the same port (*port is set from the first ready
 * line, so every later child binds it), with the backoff and crash-loop
 * guard of sup (sup.h; its backoff and loop_ fields). A child that dies before its first ready line (a port in
 * use, a bad configuration) is not restarted: its exit code is returned.
 * SIGTERM or SIGINT (seen through *sigflag, set by the caller's handler
 * while waitmask is in force) is passed to the child, which is given
 * stop_timeout_ms plus 5 s before SIGKILL. Returns an exit code.
 */
int pvt__serve_restart(int *port, int stop_timeout_ms, const struct pvt_sup_cfg *sup,
                       const sigset_t *waitmask,
                       atomic_int *sigflag, int (*run)(void *arg, const sigset_t *waitmask),
                       void *arg);

#endif
