// Tests for tailor/core/parallel.hpp: coverage, deterministic block partitioning, exception
// propagation, nesting without oversubscription or deadlock, and argument checks.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tailor/core/parallel.hpp"

using tailor::Index;

namespace {

// How many times body(i) ran for each i in [begin, end), plus calls outside the range. No
// Catch assertions here: Catch2 v2 assertions are not thread-safe, and the concurrent-callers
// test runs this on user threads.
struct Visits {
  std::vector<int> counts;
  int outside = 0;
};
Visits count_visits(Index begin, Index end, Index threads) {
  const Index n = std::max<Index>(0, end - begin);
  auto counts = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n) + 1);
  std::atomic<int> outside{0};
  tailor::parallel_for(begin, end, threads, [&](Index i) {
    if (i < begin || i >= end) {
      ++outside;
      return;
    }
    ++counts[static_cast<std::size_t>(i - begin)];
  });
  Visits visits{std::vector<int>(static_cast<std::size_t>(n)), outside.load()};
  for (Index i = 0; i < n; ++i) {
    visits.counts[static_cast<std::size_t>(i)] = counts[static_cast<std::size_t>(i)];
  }
  return visits;
}

std::vector<int> visit_counts(Index begin, Index end, Index threads) {
  Visits visits = count_visits(begin, end, threads);
  REQUIRE(visits.outside == 0);
  return visits.counts;
}

// Tracks how many bodies run at once.
struct Concurrency {
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  void enter() {
    const int now = ++active;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { --active; }
};

}  // namespace

TEST_CASE("parallel_for visits every index exactly once", "[parallel]") {
  for (Index threads : {1, 2, 3, 8, 0}) {
    for (Index n : {0, 1, 2, 3, 7, 8, 9, 100, 1001}) {
      INFO("threads = " << threads << ", n = " << n);
      const auto counts = visit_counts(0, n, threads);
      REQUIRE(static_cast<Index>(counts.size()) == n);
      for (int c : counts) REQUIRE(c == 1);
    }
    // A range that does not start at 0, and an empty/reversed range.
    const auto shifted = visit_counts(5, 17, threads);
    for (int c : shifted) REQUIRE(c == 1);
    int calls = 0;
    tailor::parallel_for(10, 3, threads, [&](Index) { ++calls; });
    CHECK(calls == 0);
  }
}

TEST_CASE("parallel_for_blocks boundaries do not depend on the thread count", "[parallel]") {
  const Index begin = 3, end = 1000, block_size = 64;
  const Index blocks = tailor::num_blocks(begin, end, block_size);
  CHECK(blocks == (997 + 63) / 64);  // 16 blocks, the last one 997 − 15·64 = 37 long
  CHECK(tailor::num_blocks(5, 5, 3) == 0);
  CHECK(tailor::num_blocks(0, 6, 3) == 2);
  using Bounds = std::vector<std::pair<Index, Index>>;
  Bounds reference;
  for (Index threads : {1, 2, 3, 8, 0}) {
    Bounds bounds(static_cast<std::size_t>(blocks), {-1, -1});
    std::atomic<int> calls{0};
    tailor::parallel_for_blocks(begin, end, block_size, threads, [&](Index b, Index lo, Index hi) {
      bounds[static_cast<std::size_t>(b)] = {lo, hi};
      ++calls;
    });
    CHECK(calls == blocks);
    for (Index b = 0; b < blocks; ++b) {
      CHECK(bounds[static_cast<std::size_t>(b)].first == begin + b * block_size);
      CHECK(bounds[static_cast<std::size_t>(b)].second ==
            std::min(end, begin + (b + 1) * block_size));
    }
    if (reference.empty()) reference = bounds;
    CHECK(bounds == reference);
  }
}

TEST_CASE("a block-ordered reduction is bit-identical for every thread count", "[parallel]") {
  // Terms of wildly different magnitude, so that any change of grouping changes the bits.
  const Index n = 100000;
  std::vector<double> x(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i)] = std::sin(static_cast<double>(i)) * std::pow(10.0, i % 13 - 6);
  }
  auto reduce = [&](Index block_size, Index threads) {
    std::vector<double> partial(static_cast<std::size_t>(tailor::num_blocks(0, n, block_size)),
                                0.0);
    tailor::parallel_for_blocks(0, n, block_size, threads, [&](Index b, Index lo, Index hi) {
      double s = 0.0;
      for (Index i = lo; i < hi; ++i) s += x[static_cast<std::size_t>(i)];
      partial[static_cast<std::size_t>(b)] = s;
    });
    double total = 0.0;
    for (double p : partial) total += p;
    return total;
  };
  const double one = reduce(777, 1);
  for (Index threads : {2, 3, 8, 0}) CHECK(reduce(777, threads) == one);  // exact equality
  // The data is sensitive to grouping: another block size gives other bits, so the check
  // above would catch thread-dependent boundaries.
  CHECK(reduce(1000, 1) != one);
}

TEST_CASE("exceptions in workers reach the caller and the pool keeps working", "[parallel]") {
  for (Index threads : {1, 2, 3, 8}) {
    INFO("threads = " << threads);
    CHECK_THROWS_AS(tailor::parallel_for(0, 1000, threads,
                                         [](Index i) {
                                           if (i == 637) {
                                             tailor::raise<tailor::DataError>("bad {}", i);
                                           }
                                         }),
                    tailor::DataError);
    CHECK_THROWS_WITH(tailor::parallel_for(0, 1000, threads,
                                           [](Index i) {
                                             if (i == 637) throw std::runtime_error("row 637");
                                           }),
                      "row 637");
    // Blocks 5 and 50 both fail; serially the first is block 5; in parallel either may win.
    std::string message;
    try {
      tailor::parallel_for_blocks(0, 100, 1, threads, [](Index b, Index, Index) {
        if (b == 5 || b == 50) throw std::runtime_error("block " + std::to_string(b));
      });
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    if (threads == 1) {
      CHECK(message == "block 5");
    } else {
      CHECK((message == "block 5" || message == "block 50"));
    }
    // The pool is intact afterwards.
    for (int c : visit_counts(0, 500, threads)) REQUIRE(c == 1);
  }
  // After a failure, no further blocks are handed out (serially: nothing after the failure).
  int ran = 0;
  CHECK_THROWS(tailor::parallel_for_blocks(0, 10, 1, 1, [&](Index b, Index, Index) {
    ++ran;
    if (b == 3) throw std::runtime_error("stop");
  }));
  CHECK(ran == 4);
}

TEST_CASE("nested parallel_for runs serially inside a parallel region", "[parallel]") {
  const Index outer = 24, inner = 16;
  for (Index threads : {2, 3, 8}) {
    INFO("threads = " << threads);
    Concurrency concurrency;
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(outer * inner));
    std::atomic<int> foreign_thread{0};
    tailor::parallel_for(0, outer, threads, [&](Index i) {
      const auto me = std::this_thread::get_id();
      tailor::parallel_for(0, inner, 8, [&](Index j) {
        concurrency.enter();
        if (std::this_thread::get_id() != me) ++foreign_thread;  // would mean oversubscription
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        // A third level must also work (and stay serial).
        tailor::parallel_for(0, 2, 4, [&](Index) {});
        ++hits[static_cast<std::size_t>(i * inner + j)];
        concurrency.leave();
      });
    });
    for (const auto& h : hits) REQUIRE(h == 1);
    CHECK(foreign_thread == 0);
    CHECK(concurrency.peak <= threads);
  }
  // An exception thrown at depth 2 reaches the outermost caller.
  CHECK_THROWS_WITH(tailor::parallel_for(0, 8, 4,
                                         [](Index i) {
                                           tailor::parallel_for(0, 8, 4, [&](Index j) {
                                             if (i == 6 && j == 2) throw std::runtime_error("deep");
                                           });
                                         }),
                    "deep");
}

TEST_CASE("parallel_for uses several threads and tolerates concurrent callers", "[parallel]") {
  // With sleeping bodies and 4 threads, more than one thread takes part, never more than 4.
  Concurrency concurrency;
  std::mutex mutex;
  std::set<std::thread::id> ids;
  tailor::parallel_for(0, 64, 4, [&](Index) {
    concurrency.enter();
    {
      std::lock_guard lock(mutex);
      ids.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    concurrency.leave();
  });
  CHECK(ids.size() >= 2);
  CHECK(ids.size() <= 4);
  CHECK(concurrency.peak <= 4);

  // Two user threads calling parallel_for at once share the pool without interference.
  Visits a, b;
  std::thread first([&] { a = count_visits(0, 3000, 4); });
  std::thread second([&] { b = count_visits(0, 2000, 3); });
  first.join();
  second.join();
  CHECK(a.outside == 0);
  CHECK(b.outside == 0);
  REQUIRE(a.counts.size() == 3000);
  REQUIRE(b.counts.size() == 2000);
  for (int c : a.counts) REQUIRE(c == 1);
  for (int c : b.counts) REQUIRE(c == 1);
}

TEST_CASE("bad thread counts and block sizes are rejected", "[parallel]") {
  auto nothing = [](Index) {};
  CHECK_THROWS_WITH(tailor::parallel_for(0, 10, -1, nothing),
                    Catch::Contains("parallel: num_threads = -1, expected 0 (all cores) or a "
                                    "positive count"));
  CHECK_THROWS_AS(tailor::parallel_for(0, 10, -4, nothing), tailor::InvalidArgument);
  // Rejected even when there is nothing to do, so a bad value never slips through in tests
  // with small data.
  CHECK_THROWS_AS(tailor::parallel_for(0, 0, -1, nothing), tailor::InvalidArgument);
  CHECK_THROWS_AS(tailor::parallel_for_blocks(0, 0, 1, -1, [](Index, Index, Index) {}),
                  tailor::InvalidArgument);
  CHECK_THROWS_WITH(tailor::parallel_for_blocks(0, 10, 0, 1, [](Index, Index, Index) {}),
                    Catch::Contains("parallel_for_blocks: block_size = 0, expected at least 1"));
  CHECK_THROWS_AS(tailor::num_blocks(0, 10, 0), tailor::InvalidArgument);
  CHECK_THROWS_AS(tailor::resolve_num_threads(-2), tailor::InvalidArgument);
  CHECK(tailor::resolve_num_threads(0) == tailor::hardware_threads());
  CHECK(tailor::resolve_num_threads(5) == 5);
  CHECK(tailor::hardware_threads() >= 1);
}
