// benchmarks/process_stats.hpp — resource figures of the running benchmark process, shared by
// the benchmark drivers that report them next to their timings.
#pragma once

#include <sys/resource.h>

namespace tailor_bench {

/// CPU seconds (user + system) of this process, all threads: on a loaded machine a fairer
/// measure of work than wall time.
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * t.tv_usec; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Peak resident set size of this process so far, MiB (Linux reports ru_maxrss in KiB).
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace tailor_bench
