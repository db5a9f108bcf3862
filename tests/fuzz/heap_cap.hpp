// tests/fuzz/heap_cap.hpp — replaces the global operator new/delete of ONE test executable (include
// it from exactly one translation unit) so a corrupt input that makes a reader or loader size
// something from an unchecked count shows up as a finding instead of a crash or a swap storm:
// single requests above g_allocation_cap throw std::bad_alloc, and the live bytes allocated
// through operator new are tracked so each load's peak growth is known. (Eigen allocates with
// malloc and is not counted; the readers' and loaders' own vectors and strings are.) Every form
// is replaced, nothrow ones included (Catch2 uses them), so each allocation pairs with
// tracked_free, which the sanitizer build checks (alloc-dealloc-mismatch).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
constexpr std::size_t kUncapped = static_cast<std::size_t>(-1);
constexpr std::size_t kMaxLoadBytes = std::size_t{64} << 20;
std::atomic<std::size_t> g_allocation_cap{kUncapped};
std::atomic<std::size_t> g_live_bytes{0};
std::atomic<std::size_t> g_peak_bytes{0};

std::size_t usable_size(void* p) {
#if defined(__GLIBC__)
  return p != nullptr ? malloc_usable_size(p) : 0;
#else
  (void)p;
  return 0;
#endif
}

void* tracked_allocate(std::size_t size, std::size_t alignment) {
  if (size > g_allocation_cap.load(std::memory_order_relaxed)) throw std::bad_alloc();
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else {
    p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  }
  if (p == nullptr) throw std::bad_alloc();
  const std::size_t live =
      g_live_bytes.fetch_add(usable_size(p), std::memory_order_relaxed) + usable_size(p);
  std::size_t peak = g_peak_bytes.load(std::memory_order_relaxed);
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return p;
}

void tracked_free(void* p) noexcept {
  g_live_bytes.fetch_sub(usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) {
  return tracked_allocate(size, 0);
}
void* operator new[](std::size_t size) {
  return tracked_allocate(size, 0);
}
void* operator new(std::size_t size, std::align_val_t a) {
  return tracked_allocate(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return tracked_allocate(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return tracked_allocate(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return tracked_allocate(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return tracked_allocate(size, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return tracked_allocate(size, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  tracked_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  tracked_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  tracked_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  tracked_free(p);
}
void operator delete(void* p) noexcept {
  tracked_free(p);
}
void operator delete[](void* p) noexcept {
  tracked_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  tracked_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  tracked_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  tracked_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  tracked_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  tracked_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  tracked_free(p);
}
