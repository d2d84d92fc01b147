import SystemCall

#if TSAN_ANNOTATIONS
/// In the `make test-tsan` build every `Mutex` of this module (LocalRedis) is a ``SanitizedMutex``,
/// whose critical sections the thread sanitizer sees; in other builds it is the standard one.
typealias Mutex<Value: ~Copyable> = SanitizedMutex<Value>
#endif
