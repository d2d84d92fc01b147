#ifndef CLIBEVENT_SHIM_H
#define CLIBEVENT_SHIM_H

/* libevent's event-config.h defines _GNU_SOURCE. Including the system headers it
   uses first makes them compile exactly as Swift's Glibc module sees them;
   otherwise clang rejects the two differing definitions of fd_set. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <inttypes.h>
#include <stddef.h>
#include <errno.h>
#include <time.h>
/* The reactor's cross-thread wakeup is an eventfd, not libevent's own notification
   machinery: that one needs evthread locking on every event_add. */
#include <sys/eventfd.h>

#include <event2/event.h>

#include <sys/prctl.h>

/* pthread_setname_np needs _GNU_SOURCE, which Swift's Glibc module is built without;
   prctl is the same call underneath, and variadic, so Swift needs this wrapper. */
static inline int clibevent_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
