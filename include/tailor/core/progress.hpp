// tailor/core/progress.hpp — progress reporting for long fits.
//
// The library never prints: long-running methods take an optional ProgressCallback and call it
// with {stage, done, total}. Example programs pass a ProgressBar, which draws a one-line
// terminal bar on stderr (or any FILE*) when that stream is a terminal, and otherwise (a log
// file, a pipe, CI output) prints one line per completed stage instead of hundreds of `\r`
// redraws. Callbacks may be invoked from worker threads but are serialized by the method that
// reports (at most one call at a time).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <unistd.h>

#include <fmt/format.h>

#include "tailor/core/types.hpp"

namespace tailor {

/// A progress report: `done` of `total` units of work in `stage` (e.g. "trees", "folds").
struct Progress {
  std::string_view stage;
  Index done = 0;
  Index total = 0;
  double fraction() const {
    return total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0)
                     : 0.0;
  }
};

using ProgressCallback = std::function<void(const Progress&)>;

/// Calls `callback` if it is set; a tiny helper so methods can report unconditionally.
inline void report(const ProgressCallback& callback, std::string_view stage, Index done,
                   Index total) {
  if (callback) callback(Progress{stage, done, total});
}

/// Thread-safe wrapper that serializes calls to a callback from several workers.
class SerializedProgress {
 public:
  explicit SerializedProgress(ProgressCallback callback) : callback_(std::move(callback)) {}
  void operator()(std::string_view stage, Index done, Index total) {
    if (!callback_) return;
    std::lock_guard lock(mutex_);
    callback_(Progress{stage, done, total});
  }

 private:
  ProgressCallback callback_;
  std::mutex mutex_;
};

/// How a ProgressBar draws: `automatic` redraws a bar in place when the stream is a terminal
/// (isatty) and prints lines otherwise; `bar` and `lines` force one or the other.
enum class ProgressStyle { automatic, bar, lines };

/// A terminal progress bar: "trees  [##########..........]  50%  1000/2000  3.2s".
/// Redraws at most every `min_interval_ms` and always at completion; ends the line when a stage
/// completes. On a stream that is not a terminal it prints only that final line per stage
/// ("trees  2000/2000  3.2s"). Use it as a ProgressCallback: `fit(data, tailor::ProgressBar{})`.
class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out = stderr, int width = 30, int min_interval_ms = 100,
                       ProgressStyle style = ProgressStyle::automatic)
      : state_(std::make_shared<State>()) {
    state_->out = out;
    state_->width = std::max(width, 5);
    state_->min_interval = std::chrono::milliseconds(min_interval_ms);
    state_->redraw =
        style == ProgressStyle::bar ||
        (style == ProgressStyle::automatic && out != nullptr && ::isatty(::fileno(out)) == 1);
  }

  void operator()(const Progress& p) const {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    const auto now = std::chrono::steady_clock::now();
    if (p.stage != s.stage || p.done < s.last_done) {
      s.stage = std::string(p.stage);
      s.start = now;
      s.last_draw = {};
      s.finished = false;
    }
    s.last_done = p.done;
    const bool complete = p.total > 0 && p.done >= p.total;
    if (s.finished) return;
    if (!s.redraw) {
      if (!complete) return;
      const double seconds = std::chrono::duration<double>(now - s.start).count();
      fmt::print(s.out, "{:<12} {}/{}  {:.1f}s\n", s.stage, p.done, p.total, seconds);
      s.finished = true;
      std::fflush(s.out);
      return;
    }
    if (!complete && now - s.last_draw < s.min_interval) return;
    s.last_draw = now;
    const double f = p.fraction();
    const int filled = static_cast<int>(f * s.width + 0.5);
    const double seconds = std::chrono::duration<double>(now - s.start).count();
    fmt::print(s.out, "\r{:<12} [{}{}] {:3.0f}%  {}/{}  {:.1f}s", s.stage,
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(s.width - filled), '.'), 100.0 * f, p.done,
               p.total, seconds);
    if (complete) {
      fmt::print(s.out, "\n");
      s.finished = true;
    }
    std::fflush(s.out);
  }

 private:
  struct State {
    std::FILE* out = stderr;
    int width = 30;
    std::chrono::milliseconds min_interval{100};
    bool redraw = false;
    std::mutex mutex;
    std::string stage;
    Index last_done = 0;
    bool finished = false;
    std::chrono::steady_clock::time_point start{};
    std::chrono::steady_clock::time_point last_draw{};
  };
  std::shared_ptr<State> state_;  // shared so copies (std::function) draw one bar
};

}  // namespace tailor
