/// @file
/// The umbrella header: everything a service needs to memoize functions over L1 and a shared
/// L2, with the backends and the protocol pieces. Include the individual headers instead to keep
/// compile times down in large code bases.
///
///     #include <cachekit/cachekit.hpp>
///     auto cache = cachekit::cache::from_env();
///     auto get_user = cache.memoize("myapp.users.get_user", fetch_user);
#pragma once

#include <cachekit/backend.hpp>
#include <cachekit/backend_wrapper.hpp>
#include <cachekit/cache.hpp>
#include <cachekit/cache_options.hpp>
#include <cachekit/call_result.hpp>
#include <cachekit/codec.hpp>
#include <cachekit/default_key.hpp>
#include <cachekit/encryption.hpp>
#include <cachekit/error.hpp>
#include <cachekit/file_backend.hpp>
#include <cachekit/footprint.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/l1_cache.hpp>
#include <cachekit/logging.hpp>
#include <cachekit/memcached_backend.hpp>
#include <cachekit/memoized.hpp>
#include <cachekit/memory_backend.hpp>
#include <cachekit/object_cache.hpp>
#include <cachekit/observer.hpp>
#include <cachekit/path_segment.hpp>
#include <cachekit/redis_backend.hpp>
#include <cachekit/reliability.hpp>
#include <cachekit/result.hpp>
#include <cachekit/serializer.hpp>
#include <cachekit/storage_format.hpp>
#include <cachekit/tenant_scope.hpp>
#include <cachekit/value.hpp>
#include <cachekit/value_codec.hpp>
