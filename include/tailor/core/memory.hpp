// tailor/core/memory.hpp — an allocator for large arrays that are read at scattered positions.
//
// Histogram learners gather a few bytes per row from arrays of n·p bytes (bin codes, gradients,
// row indices) in an order that jumps across the array. With 4 KiB pages each jump is likely a
// TLB miss once the array exceeds the TLB's reach (a few MiB); backing the array with 2 MiB
// transparent huge pages removes most of them. On Linux, where transparent huge pages are
// usually enabled only on request (/sys/kernel/mm/transparent_hugepage/enabled = madvise),
// HugePageAllocator allocates blocks of at least kHugePageBytes aligned to 2 MiB and asks for
// huge pages with madvise(MADV_HUGEPAGE); the kernel may decline, which only costs speed.
// Smaller blocks, and other systems, use plain operator new. The contents are never touched.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tailor::detail {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

/// std::allocator-compatible; stateless (all instances compare equal).
template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (!use_huge_pages(bytes)) return static_cast<T*>(::operator new(bytes));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
    (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure only means 4 KiB pages
    return static_cast<T*>(p);
#else
    return static_cast<T*>(::operator new(bytes));
#endif
  }

  void deallocate(T* p, std::size_t n) noexcept {
    if (use_huge_pages(n * sizeof(T))) {
      std::free(p);
    } else {
      ::operator delete(p);
    }
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static bool use_huge_pages(std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    return bytes >= kHugePageBytes;
#else
    (void)bytes;
    return false;
#endif
  }
};

}  // namespace tailor::detail
