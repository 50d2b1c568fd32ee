// A memory-amplification check for libFuzzer targets: the peak number of bytes allocated with
// operator new while one input runs, above what was live when it started, must stay within
// `per_input_byte` bytes per input byte (plus a fixed allowance for the decoders' own tables).
// A decoder that lets a few hostile bytes ask for megabytes aborts the run, and libFuzzer keeps
// the input as a crash. Every fuzz target links allocation_budget.cpp, which replaces the global
// operator new/delete to count (malloc and free underneath, so sanitizers still see every block).
//
// Not thread-safe across inputs (libFuzzer runs one input at a time); the counters themselves
// are atomic, so threads a target starts are counted too.
#pragma once

#include <cstddef>

namespace cachekit_fuzz {

class allocation_budget {
 public:
  allocation_budget(std::size_t input_size, std::size_t per_input_byte,
                    std::size_t fixed_allowance = std::size_t{256} * 1024);
  ~allocation_budget();  // aborts, naming the figures, when the peak went over the budget
  allocation_budget(const allocation_budget&) = delete;
  allocation_budget& operator=(const allocation_budget&) = delete;

 private:
  std::size_t input_size_;
  std::size_t limit_;
  std::size_t live_at_start_;
};

}  // namespace cachekit_fuzz
