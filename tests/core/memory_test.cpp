// Tests for tailor/core/memory.hpp: HugePageAllocator behaves as an allocator for small and
// large blocks (large ones aligned to 2 MiB on Linux), and vectors using it copy and grow.
#include "tailor/core/memory.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

using tailor::detail::HugePageAllocator;
using tailor::detail::kHugePageBytes;

TEST_CASE("HugePageAllocator: small and large vectors hold their values", "[memory]") {
  using Vec = std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>>;
  for (const std::size_t n : {std::size_t{0}, std::size_t{10}, kHugePageBytes / 4 - 1,
                              kHugePageBytes / 4, 3 * kHugePageBytes / 4 + 7}) {
    Vec v(n);
    std::iota(v.begin(), v.end(), std::uint32_t{5});
    if (n > 0) {
      CHECK(v.front() == 5);
      CHECK(v.back() == static_cast<std::uint32_t>(n + 4));
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n * sizeof(std::uint32_t) >= kHugePageBytes) {
      CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePageBytes == 0);
    }
#endif
    Vec copy = v;  // another allocation of the same size
    CHECK(copy == v);
    copy.resize(n + kHugePageBytes / 4);  // grows across the threshold
    CHECK(std::equal(v.begin(), v.end(), copy.begin()));
  }
  CHECK(HugePageAllocator<int>() == HugePageAllocator<double>());
}
