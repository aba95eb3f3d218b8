#pragma once
// An allocator whose blocks start on a cache line, for arrays of small records that are handed
// out in groups of one line each (so that a group never straddles two lines).
#include <cstddef>
#include <new>

namespace moesim::core {

inline constexpr std::size_t kCacheLineBytes = 64;  // x86-64 and the usual arm64 cores

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: allocators convert implicitly

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLineBytes}));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{kCacheLineBytes});
  }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace moesim::core
