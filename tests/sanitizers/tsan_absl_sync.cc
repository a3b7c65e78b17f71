// ThreadSanitizer annotations for Debian's Abseil synchronization library.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so
// TSan cannot see absl::Mutex, absl::CondVar or absl::Notification
// synchronize (they use their own atomics and futexes, not pthreads): every
// access to data guarded by an absl::Mutex would be reported as a race,
// about 1,700 false reports in rocksdb_event_log_test alone. gRPC uses the
// same absl::Mutex and CondVar for its own hand-offs between threads.
// Suppressing all that would mean suppressing the project's own code.
//
// Instead, with NENEP_SANITIZE=thread, every executable carries this file
// (cmake/nenep_sanitizers.cmake), which defines those functions itself: the
// executable's definitions take precedence over the library's for every
// caller in the process (the project, gRPC, Abseil itself), and each calls
// the library's function (found with dlsym(RTLD_NEXT)) and tells TSan the
// happens-before edge it creates: __tsan_release before a mutex is given
// up, __tsan_acquire after it is taken. tests/sanitizers/tsan.supp covers
// what remains invisible (atomics inside uninstrumented libraries).
//
// This file is compiled without TSan instrumentation.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/base/config.h"
#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// The library's functions, by their mangled names (without the inline
// namespace, which Resolve inserts).
enum Fn {
  kLock,
  kUnlock,
  kReaderLock,
  kReaderUnlock,
  kTryLock,
  kReaderTryLock,
  kAwait,
  kAwaitWithTimeout,
  kAwaitWithDeadline,
  kLockWhen,
  kReaderLockWhen,
  kLockWhenWithTimeout,
  kLockWhenWithDeadline,
  kReaderLockWhenWithTimeout,
  kReaderLockWhenWithDeadline,
  kWait,
  kWaitWithTimeout,
  kWaitWithDeadline,
  kSignal,
  kSignalAll,
  kNotify,
  kWaitForNotification,
  kWaitForNotificationWithTimeout,
  kWaitForNotificationWithDeadline,
  kFnCount
};

struct Name {
  const char* qualifier;  // "N", or "NK" for a const method
  const char* rest;       // after "_Z<qualifier>4absl<inline namespace>"
};

constexpr Name kNames[kFnCount] = {
    {"N", "5Mutex4LockEv"},
    {"N", "5Mutex6UnlockEv"},
    {"N", "5Mutex10ReaderLockEv"},
    {"N", "5Mutex12ReaderUnlockEv"},
    {"N", "5Mutex7TryLockEv"},
    {"N", "5Mutex13ReaderTryLockEv"},
    {"N", "5Mutex5AwaitERKNS0_9ConditionE"},
    {"N", "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE"},
    {"N", "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE"},
    {"N", "5Mutex8LockWhenERKNS0_9ConditionE"},
    {"N", "5Mutex14ReaderLockWhenERKNS0_9ConditionE"},
    {"N", "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"},
    {"N", "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"},
    {"N", "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"},
    {"N", "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"},
    {"N", "7CondVar4WaitEPNS0_5MutexE"},
    {"N", "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE"},
    {"N", "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE"},
    {"N", "7CondVar6SignalEv"},
    {"N", "7CondVar9SignalAllEv"},
    {"N", "12Notification6NotifyEv"},
    {"NK", "12Notification19WaitForNotificationEv"},
    {"NK", "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE"},
    {"NK", "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE"},
};

#define NENEP_STRINGIFY2(x) #x
#define NENEP_STRINGIFY(x) NENEP_STRINGIFY2(x)
#if ABSL_OPTION_USE_INLINE_NAMESPACE
constexpr char kInlineNamespace[] =
    NENEP_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
#else
constexpr char kInlineNamespace[] = "";
#endif

// Constant-initialized: the first call may come from another library's
// static initializer, before this file's.
std::atomic<void*> real_functions[kFnCount];

// The library's definition of `fn` (the next one after the executable's).
template <typename F>
F Real(Fn fn) {
  void* p = real_functions[fn].load(std::memory_order_acquire);
  if (p == nullptr) {
    char name[200];
    const size_t ns = std::strlen(kInlineNamespace);
    if (ns > 0) {
      std::snprintf(name, sizeof(name), "_Z%s4absl%zu%s%s",
                    kNames[fn].qualifier, ns, kInlineNamespace,
                    kNames[fn].rest);
    } else {
      std::snprintf(name, sizeof(name), "_Z%s4absl%s", kNames[fn].qualifier,
                    kNames[fn].rest);
    }
    p = dlsym(RTLD_NEXT, name);
    if (p == nullptr) {
      std::fprintf(stderr, "tsan_absl_sync: %s not found: %s\n", name,
                   dlerror());
      std::abort();
    }
    real_functions[fn].store(p, std::memory_order_release);
  }
  return reinterpret_cast<F>(p);
}

// A thread taking or giving up `mu` sees everything published to it so far:
// by earlier holders, and by waiters whose absl::Condition (on their stack)
// the unlocking thread evaluates inside Unlock.
void Acquire(const void* mu) { __tsan_acquire(const_cast<void*>(mu)); }
void Release(const void* mu) { __tsan_release(const_cast<void*>(mu)); }

// A waiter's Condition is evaluated inside the library, by the waiter or by
// a thread unlocking the mutex, always with the mutex held but before any
// wrapper returns: the Condition handed to the library acquires the mutex
// for TSan, evaluates the caller's and releases it again (the evaluating
// thread may give the mutex up right after, inside the library).
struct Annotated {
  const absl::Mutex* mu;
  const absl::Condition* cond;
};

bool EvalAnnotated(void* arg) {
  const Annotated* a = static_cast<const Annotated*>(arg);
  Acquire(a->mu);
  const bool met = a->cond->Eval();
  Release(a->mu);
  return met;
}

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

using MutexFn = void (*)(Mutex*);
using TryFn = bool (*)(Mutex*);
using AwaitFn = void (*)(Mutex*, const Condition&);
using AwaitTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using AwaitDeadlineFn = bool (*)(Mutex*, const Condition&, Time);

// Waiting for a Condition: the mutex is given up (or, for LockWhen, not yet
// held: the waiter publishes its Condition) and then held again, also when
// a timed wait gives up.
template <typename F, typename... Args>
auto Waiting(Fn fn, Mutex* mu, const Condition& cond, Args... args) {
  Annotated a{mu, &cond};
  const Condition annotated(&EvalAnnotated, &a);
  Release(mu);
  auto result = Real<F>(fn)(mu, annotated, args...);
  Acquire(mu);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  Real<MutexFn>(kLock)(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  Real<MutexFn>(kReaderLock)(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  const bool locked = Real<TryFn>(kTryLock)(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  const bool locked = Real<TryFn>(kReaderTryLock)(this);
  if (locked) Acquire(this);
  return locked;
}

// The unlocking thread may evaluate the Conditions of waiters inside
// Unlock: it acquires first what they published before waiting.
void Mutex::Unlock() {
  Acquire(this);
  Release(this);
  Real<MutexFn>(kUnlock)(this);
}

void Mutex::ReaderUnlock() {
  Acquire(this);
  Release(this);
  Real<MutexFn>(kReaderUnlock)(this);
}

void Mutex::Await(const Condition& cond) {
  Annotated a{this, &cond};
  const Condition annotated(&EvalAnnotated, &a);
  Release(this);
  Real<AwaitFn>(kAwait)(this, annotated);
  Acquire(this);
}

void Mutex::LockWhen(const Condition& cond) {
  Annotated a{this, &cond};
  const Condition annotated(&EvalAnnotated, &a);
  Release(this);
  Real<AwaitFn>(kLockWhen)(this, annotated);
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  Annotated a{this, &cond};
  const Condition annotated(&EvalAnnotated, &a);
  Release(this);
  Real<AwaitFn>(kReaderLockWhen)(this, annotated);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  return Waiting<AwaitTimeoutFn>(kAwaitWithTimeout, this, cond, timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  return Waiting<AwaitDeadlineFn>(kAwaitWithDeadline, this, cond, deadline);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return Waiting<AwaitTimeoutFn>(kLockWhenWithTimeout, this, cond, timeout);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Waiting<AwaitDeadlineFn>(kLockWhenWithDeadline, this, cond, deadline);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return Waiting<AwaitTimeoutFn>(kReaderLockWhenWithTimeout, this, cond,
                                 timeout);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Waiting<AwaitDeadlineFn>(kReaderLockWhenWithDeadline, this, cond,
                                  deadline);
}

// Condition variables: the mutex is given up and held again; a signal
// happens before the wait it ends.
void CondVar::Wait(Mutex* mu) {
  Release(mu);
  Real<void (*)(CondVar*, Mutex*)>(kWait)(this, mu);
  Acquire(this);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  Release(mu);
  const bool timed_out = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      kWaitWithTimeout)(this, mu, timeout);
  Acquire(this);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  Release(mu);
  const bool timed_out = Real<bool (*)(CondVar*, Mutex*, Time)>(
      kWaitWithDeadline)(this, mu, deadline);
  Acquire(this);
  Acquire(mu);
  return timed_out;
}

void CondVar::Signal() {
  Release(this);
  Real<void (*)(CondVar*)>(kSignal)(this);
}

void CondVar::SignalAll() {
  Release(this);
  Real<void (*)(CondVar*)>(kSignalAll)(this);
}

// Notifications: Notify happens before every wait that sees it.
void Notification::Notify() {
  Release(this);
  Real<void (*)(Notification*)>(kNotify)(this);
}

void Notification::WaitForNotification() const {
  Real<void (*)(const Notification*)>(kWaitForNotification)(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  const bool notified = Real<bool (*)(const Notification*, Duration)>(
      kWaitForNotificationWithTimeout)(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  const bool notified = Real<bool (*)(const Notification*, Time)>(
      kWaitForNotificationWithDeadline)(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
