// Clang thread-safety annotations (-Wthread-safety) for the L1's locks; empty elsewhere.
// Each macro is guarded so another subsystem may define the same set.
#pragma once

#if defined(__clang__)
#define CACHEKIT_L1_TSA(x) __attribute__((x))
#else
#define CACHEKIT_L1_TSA(x)
#endif

#ifndef CACHEKIT_CAPABILITY
#define CACHEKIT_CAPABILITY(name) CACHEKIT_L1_TSA(capability(name))
#endif
#ifndef CACHEKIT_SCOPED_CAPABILITY
#define CACHEKIT_SCOPED_CAPABILITY CACHEKIT_L1_TSA(scoped_lockable)
#endif
#ifndef CACHEKIT_GUARDED_BY
#define CACHEKIT_GUARDED_BY(x) CACHEKIT_L1_TSA(guarded_by(x))
#endif
#ifndef CACHEKIT_REQUIRES
#define CACHEKIT_REQUIRES(...) CACHEKIT_L1_TSA(requires_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_REQUIRES_SHARED
#define CACHEKIT_REQUIRES_SHARED(...) CACHEKIT_L1_TSA(requires_shared_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_ACQUIRE
#define CACHEKIT_ACQUIRE(...) CACHEKIT_L1_TSA(acquire_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_ACQUIRE_SHARED
#define CACHEKIT_ACQUIRE_SHARED(...) CACHEKIT_L1_TSA(acquire_shared_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_RELEASE
#define CACHEKIT_RELEASE(...) CACHEKIT_L1_TSA(release_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_RELEASE_SHARED
#define CACHEKIT_RELEASE_SHARED(...) CACHEKIT_L1_TSA(release_shared_capability(__VA_ARGS__))
#endif
#ifndef CACHEKIT_RELEASE_GENERIC
#define CACHEKIT_RELEASE_GENERIC(...) CACHEKIT_L1_TSA(release_generic_capability(__VA_ARGS__))
#endif
