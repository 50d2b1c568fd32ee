/// @file
/// Cache keys: everything needed to compute the keys cachekit-py computes.
///
/// - `default_key.hpp`: default ("auto mode") keys, `[ns:{ns}:]func:{name}:args:{hash}:1s`.
/// - `interop_key.hpp`: cross-SDK interop/v1 keys, `{ns}:{operation}:{hash}`.
/// - `key_argument.hpp`: typed C++ arguments and the `key_argument<T>` customization point.
///
/// Thread safety: see the individual headers (all functions are thread-safe).
#pragma once

#include <cachekit/default_key.hpp>
#include <cachekit/interop_key.hpp>
#include <cachekit/key_argument.hpp>
