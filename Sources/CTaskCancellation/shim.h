#ifndef REDISUTIL_C_TASK_CANCELLATION_H
#define REDISUTIL_C_TASK_CANCELLATION_H

// A task cancellation handler installed and removed without an async closure: the two
// entry points of the Swift Concurrency runtime that `withTaskCancellationHandler` itself
// calls, declared here as the runtime declares them (include/swift/Runtime/Concurrency.h:
// the Swift calling convention, the handler receiving its context in the Swift context
// register). Declared in C because Swift reserves `swift_` symbol names for the runtime.
// Why RedisUtil wants them: RedisUtil's `TaskCancellationHandler`.

typedef void (*redisutil_cancellation_function)(void *context __attribute__((swift_context))) __attribute__((swiftcall));

extern void *swift_task_addCancellationHandler(redisutil_cancellation_function handler, void *context) __attribute__((swiftcall));
extern void swift_task_removeCancellationHandler(void *record) __attribute__((swiftcall));

// Defined in RedisUtil (`@_cdecl`): cancels the wait whose unretained object is `wait`.
extern void redisutil_cancel_wait(void *wait);

static void redisutil_cancellation_trampoline(void *wait __attribute__((swift_context))) __attribute__((swiftcall)) {
    redisutil_cancel_wait(wait);
}

/// Installs a cancellation handler on the current task that calls
/// `redisutil_cancel_wait(wait)`; at once when the task is already cancelled. Returns
/// the record for `redisutil_remove_cancellation`: NULL from runtimes that free it
/// themselves when the handler ran at once. Must be called from a task.
static inline void *redisutil_add_cancellation(void *wait) {
    return swift_task_addCancellationHandler(redisutil_cancellation_trampoline, wait);
}

/// Removes a record of `redisutil_add_cancellation` (NULL: nothing to do), in the same task, in the task
/// allocator's stack order (after anything allocated since has been freed).
static inline void redisutil_remove_cancellation(void *record) {
    swift_task_removeCancellationHandler(record);
}

#endif
