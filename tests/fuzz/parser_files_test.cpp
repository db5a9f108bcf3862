// Deterministic damage replay of every file reader in tailor/io (the parser counterpart of
// model_files_test.cpp). Each seed under tests/fuzz/corpus/parsers/<parser>/ (small committed
// files, so the test needs no TAILOR_DATA_DIR) must load; then each seed is damaged by a fixed-seed
// std::mt19937_64 and loaded again from a temporary file:
//   - truncated at ~200 evenly spaced lengths;
//   - ~300 random mutations: bit flips, byte overwrites, inserted and deleted bytes, duplicated,
//     deleted and cut lines, and inserted or substituted tokens — separators, quotes, line
//     breaks, nan/inf/1e999, very long digit strings, huge integers (2^31, 2^63, 2^64,
//     99999999999999999999), NUL bytes, a BOM, JSON brackets, bad dates.
// Acceptable outcomes: the load succeeds and its result meets the reader's documented invariants
// (finite values, 0/1 labels, indices inside the feature space, ...), or it throws a
// tailor::Error subclass. Findings (the test fails, printing the parser, the damage and the
// input bytes): any other exception (std::bad_alloc — this binary refuses single allocations
// above 64 MiB —, std::length_error, std::out_of_range, ...), a success that breaks an invariant,
// a load whose live heap grows by more than 64 MiB, a load slower than 500 ms twice in a row, and
// a load running longer than 60 s (a watchdog prints it and exits). The sanitizer build turns
// memory errors and undefined behaviour into crashes.
//
// One line per parser reports trials, successes, errors by type (with the first message of each
// type other than FormatError), the slowest load and the largest heap growth of one load.
// Environment: TAILOR_PARSER_FUZZ_TRIALS = mutations per seed (default 300);
// TAILOR_PARSER_FUZZ_ONLY = one parser's name or corpus folder; TAILOR_PARSER_FUZZ_SLOW_MS (500);
// TAILOR_PARSER_FUZZ_HANG_S (default 60); TAILOR_PARSER_FUZZ_SAVE = a directory that receives the
// input of every finding. Run: TAILOR_TEST_SOURCE_DIR=tests build/tests/fuzz_parser_files_test.
#include <catch2/catch.hpp>

#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>

#include "tailor/io/csv.hpp"
#include "tailor/io/ctr_csv.hpp"
#include "tailor/io/dunnhumby.hpp"
#include "tailor/io/ihdp.hpp"
#include "tailor/io/ipinyou.hpp"
#include "tailor/io/libsvm.hpp"
#include "tailor/io/panel_csv.hpp"
#include "tailor/io/rlb_dp.hpp"

#include "heap_cap.hpp"
#include "parsers.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = tailor::io;

// ---- files and environment

using tailor_fuzz::corpus_root;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::size_t env_count(const char* name, std::size_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0'
             ? static_cast<std::size_t>(std::strtoull(text, nullptr, 10))
             : fallback;
}

/// A unique path in the temporary directory (pid + counter), removed with everything under it
/// at scope exit.
class TempPath {
 public:
  explicit TempPath(std::string_view tag) {
    static std::atomic<std::uint64_t> counter{0};
    path_ = fs::temp_directory_path() /
            fmt::format("tailor_parser_fuzz_{}_{}_{}", ::getpid(), counter++, tag);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// FNV-1a: a seed per (parser, file) that is the same with every standard library.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

/// `bytes` with control and non-ASCII bytes escaped, cut after `limit` characters.
std::string printable(std::string_view bytes, std::size_t limit = 160) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (bytes.size() > limit) out += fmt::format("...(+{} bytes)", bytes.size() - limit);
  return out;
}

// ---- damage

/// Tokens inserted into, or substituted for, parts of a file.
const std::vector<std::string>& tokens() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> t = {",",
                                  ";",
                                  "\t",
                                  " ",
                                  ":",
                                  "\"",
                                  "\"\"",
                                  "\n",
                                  "\r\n",
                                  "\r",
                                  "\n\n",
                                  "nan",
                                  "NaN",
                                  "-nan",
                                  "inf",
                                  "-inf",
                                  "Infinity",
                                  "1e999",
                                  "-1e999",
                                  "1e308",
                                  "1e-400",
                                  "4.9e-324",
                                  "99999999999999999999",
                                  "2147483647",
                                  "2147483648",
                                  "4294967296",
                                  "9223372036854775807",
                                  "9223372036854775808",
                                  "-9223372036854775809",
                                  "18446744073709551616",
                                  "-1",
                                  "0",
                                  "-0",
                                  "+",
                                  "-",
                                  ".",
                                  "e",
                                  "0x1p3",
                                  "NA",
                                  "null",
                                  std::string(1, '\0'),
                                  "\xEF\xBB\xBF",
                                  "{",
                                  "}",
                                  "[",
                                  "]",
                                  "\\",
                                  "\\u",
                                  "true",
                                  "2017-13-45",
                                  "2017-01-28garbage",
                                  "1,2",
                                  "\"a\"\"b\"",
                                  "\"unterminated"};
    t.push_back(std::string(300, '9'));
    t.push_back(std::string(4000, '7'));
    t.push_back("0." + std::string(500, '0') + "1");
    t.push_back("1" + std::string(400, '0') + ".5e-300");
    t.push_back(std::string(2000, 'a'));
    t.push_back(std::string(200, ','));
    t.push_back(std::string(64, '"'));
    t.push_back(std::string(200, '\n'));
    return t;
  }();
  return list;
}

/// The numeric tokens (substituted for numbers in the file).
const std::vector<std::string>& number_tokens() {
  static const std::vector<std::string> list = {"nan",
                                                "inf",
                                                "-inf",
                                                "1e999",
                                                "-1e999",
                                                "1e308",
                                                "-1e308",
                                                "1e-400",
                                                "99999999999999999999",
                                                "2147483646",
                                                "2147483647",
                                                "2147483648",
                                                "-2147483649",
                                                "4294967296",
                                                "9223372036854775807",
                                                "9223372036854775808",
                                                "-9223372036854775809",
                                                "18446744073709551616",
                                                "100000",
                                                "100001",
                                                "10000000",
                                                "-1",
                                                "0",
                                                "-0",
                                                "0.5",
                                                "1e9",
                                                "1000000000",
                                                "1.0000000001e9",
                                                "4e38",
                                                std::string(300, '9'),
                                                "",
                                                "x"};
  return list;
}

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

bool is_separator(char c) {
  return c == ',' || c == ';' || c == '\t' || c == '\n' || c == '\r' || c == ' ' || c == ':' ||
         c == '"' || c == '{' || c == '}' || c == '[' || c == ']';
}

/// Random damage from a fixed-seed generator; rng() % n is the same on every platform.
class Damager {
 public:
  explicit Damager(std::uint64_t seed) : rng_(seed) {}

  /// One mutation of `input` (never the identity on a non-empty input, except by chance);
  /// `label` describes it.
  std::string mutate(const std::string& input, std::string& label) {
    std::string s = input;
    const std::size_t n = s.size();
    const auto pos = [&](std::size_t size) { return size == 0 ? 0 : below(size); };
    switch (below(11)) {
      case 0: {
        if (n == 0) break;
        const std::uint64_t bits = 1 + below(4);
        label = fmt::format("flip {} bit(s) at", bits);
        for (std::uint64_t b = 0; b < bits; ++b) {
          const std::size_t at = pos(n);
          s[at] = static_cast<char>(s[at] ^ (1 << below(8)));
          label += fmt::format(" {}", at);
        }
        return s;
      }
      case 1: {
        if (n == 0) break;
        const std::size_t at = pos(n);
        s[at] = static_cast<char>(below(256));
        label = fmt::format("byte {} set to 0x{:02x}", at, static_cast<unsigned char>(s[at]));
        return s;
      }
      case 2: {
        const std::size_t at = pos(n + 1);
        std::string bytes(1 + below(8), '\0');
        for (char& c : bytes) c = static_cast<char>(below(256));
        s.insert(at, bytes);
        label = fmt::format("insert '{}' at {}", printable(bytes), at);
        return s;
      }
      case 3: {
        if (n == 0) break;
        const std::size_t at = pos(n);
        const std::size_t count = std::min<std::size_t>(1 + below(16), n - at);
        s.erase(at, count);
        label = fmt::format("delete {} byte(s) at {}", count, at);
        return s;
      }
      case 4: {
        const std::string& token = tokens()[below(tokens().size())];
        const std::size_t at = pos(n + 1);
        s.insert(at, token);
        label = fmt::format("insert '{}' at {}", printable(token, 40), at);
        return s;
      }
      case 5:
      case 6: {
        // Replace the number at (or after) a random position with a numeric token.
        if (n == 0) break;
        std::size_t at = pos(n);
        std::size_t tries = 0;
        while (tries < n && !(s[at] >= '0' && s[at] <= '9')) {
          at = (at + 1) % n;
          ++tries;
        }
        if (tries == n) break;
        std::size_t begin = at, end = at;
        while (begin > 0 && is_number_char(s[begin - 1])) --begin;
        while (end < n && is_number_char(s[end])) ++end;
        const std::string& token = number_tokens()[below(number_tokens().size())];
        label =
            fmt::format("number '{}' at {} replaced by '{}'",
                        printable(s.substr(begin, end - begin), 40), begin, printable(token, 40));
        s.replace(begin, end - begin, token);
        return s;
      }
      case 7: {
        // Replace a whole field (the run of non-separator bytes around a position).
        if (n == 0) break;
        const std::size_t at = pos(n);
        std::size_t begin = at, end = at;
        while (begin > 0 && !is_separator(s[begin - 1])) --begin;
        while (end < n && !is_separator(s[end])) ++end;
        const std::string& token = tokens()[below(tokens().size())];
        label =
            fmt::format("field '{}' at {} replaced by '{}'",
                        printable(s.substr(begin, end - begin), 40), begin, printable(token, 40));
        s.replace(begin, end - begin, token);
        return s;
      }
      case 8: {
        // Duplicate a line (duplicate keys), at its place or elsewhere.
        const std::vector<std::size_t> starts = line_starts(s);
        const std::size_t line = below(starts.size());
        const std::size_t begin = starts[line];
        const std::size_t end = line + 1 < starts.size() ? starts[line + 1] : n;
        std::string text = s.substr(begin, end - begin);
        if (text.empty() || text.back() != '\n') text.push_back('\n');
        const std::size_t where = starts[below(starts.size())];
        s.insert(where, text);
        label = fmt::format("line {} copied before line {}", line + 1,
                            std::find(starts.begin(), starts.end(), where) - starts.begin() + 1);
        return s;
      }
      case 9: {
        // Delete a line.
        const std::vector<std::size_t> starts = line_starts(s);
        const std::size_t line = below(starts.size());
        const std::size_t begin = starts[line];
        const std::size_t end = line + 1 < starts.size() ? starts[line + 1] : n;
        s.erase(begin, end - begin);
        label = fmt::format("line {} deleted", line + 1);
        return s;
      }
      default: {
        // Cut a line short (from a position to its end).
        if (n == 0) break;
        const std::size_t at = pos(n);
        std::size_t end = at;
        while (end < n && s[end] != '\n' && s[end] != '\r') ++end;
        s.erase(at, end - at);
        label = fmt::format("line cut at {} ({} bytes)", at, end - at);
        return s;
      }
    }
    // Empty input, or nothing to act on: insert a token.
    const std::string& token = tokens()[below(tokens().size())];
    s.insert(pos(n + 1), token);
    label = fmt::format("insert '{}'", printable(token, 40));
    return s;
  }

 private:
  std::uint64_t below(std::uint64_t bound) { return rng_() % bound; }

  static std::vector<std::size_t> line_starts(const std::string& s) {
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      if (s[i] == '\n') starts.push_back(i + 1);
    }
    return starts;
  }

  std::mt19937_64 rng_;
};

// ---- watchdog: a load that never returns is reported by name, then the process exits

struct Watchdog {
  std::atomic<std::int64_t> started_ns{0};  // 0 = no load running
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::string label;
  std::thread thread;

  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  Watchdog() {
    thread = std::thread([this] {
      const std::int64_t limit_ns =
          static_cast<std::int64_t>(env_count("TAILOR_PARSER_FUZZ_HANG_S", 60)) * 1'000'000'000;
      while (!stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const std::int64_t started = started_ns.load();
        if (started != 0 && now_ns() - started > limit_ns) {
          std::lock_guard<std::mutex> lock(mutex);
          std::fprintf(stderr, "parser fuzz: FINDING: a load ran longer than %lld s (hang): %s\n",
                       static_cast<long long>(limit_ns / 1'000'000'000), label.c_str());
          std::fflush(stderr);
          std::_Exit(3);
        }
      }
    });
  }
  ~Watchdog() {
    stop = true;
    thread.join();
  }
  void begin(const std::string& what) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      label = what;
    }
    started_ns = now_ns();
  }
  void end() { started_ns = 0; }
};

Watchdog& watchdog() {
  static Watchdog instance;
  return instance;
}

using tailor_fuzz::Parser;
using tailor_fuzz::parsers;

std::string demangled_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

struct Outcome {
  std::string kind;     ///< "ok", a tailor::Error type, or the finding's kind
  std::string message;  ///< the exception's message or the broken invariant
  bool finding = false;
};

Outcome run_load(const Parser& parser, const fs::path& target) {
  try {
    const std::string problem = parser.load(target);
    if (problem.empty()) return {"ok", "", false};
    return {"invariant", problem, true};
  } catch (const tailor::FormatError& e) {
    return {"FormatError", e.what(), false};
  } catch (const tailor::DataError& e) {
    return {"DataError", e.what(), false};
  } catch (const tailor::InvalidArgument& e) {
    return {"InvalidArgument", e.what(), false};
  } catch (const tailor::ShapeMismatch& e) {
    return {"ShapeMismatch", e.what(), false};
  } catch (const tailor::NumericalError& e) {
    return {"NumericalError", e.what(), false};
  } catch (const tailor::Error& e) {
    return {"Error", e.what(), false};
  } catch (const std::bad_alloc&) {
    return {"std::bad_alloc", "an allocation above 64 MiB", true};
  } catch (const std::exception& e) {
    return {demangled_name(typeid(e)), e.what(), true};
  } catch (...) {
    return {"unknown exception", "", true};
  }
}

struct Tally {
  std::size_t seeds = 0;
  std::size_t trials = 0;
  std::size_t successes = 0;
  std::map<std::string, std::size_t> errors;
  std::map<std::string, std::string> first_message;
  double slowest_ms = 0.0;
  std::string slowest_label;
  std::size_t largest_growth = 0;
  std::vector<std::string> findings;
};

/// Loads one (possibly damaged) input and records the outcome.
void trial(const Parser& parser, const fs::path& target, const std::string& bytes,
           const std::string& label, Tally& tally) {
  static const double slow_ms = static_cast<double>(env_count("TAILOR_PARSER_FUZZ_SLOW_MS", 500));
  const auto timed = [&](Outcome& outcome, std::size_t& growth) {
    const std::size_t live_before = g_live_bytes.load();
    g_peak_bytes = live_before;
    watchdog().begin(parser.name + ": " + label);
    const auto start = std::chrono::steady_clock::now();
    outcome = run_load(parser, target);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    watchdog().end();
    growth = g_peak_bytes.load() - live_before;
    return ms;
  };
  Outcome outcome;
  std::size_t growth = 0;
  double ms = timed(outcome, growth);
  if (ms > slow_ms) {
    // Once more, so that a pause of the machine is not reported as a slow parser.
    Outcome again;
    ms = std::min(ms, timed(again, growth));
  }
  ++tally.trials;
  if (ms > tally.slowest_ms) {
    tally.slowest_ms = ms;
    tally.slowest_label = label;
  }
  tally.largest_growth = std::max(tally.largest_growth, growth);
  std::string finding;
  if (outcome.finding) {
    finding = fmt::format("{}: {}", outcome.kind, outcome.message);
  } else if (ms > slow_ms) {
    finding = fmt::format("slow: {:.0f} ms twice (limit {:.0f} ms)", ms, slow_ms);
  } else if (growth > kMaxLoadBytes) {
    finding = fmt::format("heap grew by {} bytes for a {}-byte input", growth, bytes.size());
  }
  if (outcome.kind == "ok") {
    ++tally.successes;
  } else if (!outcome.finding) {
    ++tally.errors[outcome.kind];
    tally.first_message.try_emplace(outcome.kind, outcome.message);
  }
  if (finding.empty()) return;
  if (tally.findings.size() < 20) {
    tally.findings.push_back(fmt::format("{} | {} | {} bytes: \"{}\"", label, finding, bytes.size(),
                                         printable(bytes, 400)));
  }
  if (const char* save = std::getenv("TAILOR_PARSER_FUZZ_SAVE"); save != nullptr) {
    std::error_code ec;
    fs::create_directories(save, ec);
    write_bytes(fs::path(save) / fmt::format("{:016x}", fnv1a(parser.name + label)), bytes);
  }
}

std::string describe(const Tally& tally) {
  std::string errors;
  for (const auto& [kind, count] : tally.errors) {
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", kind, count);
  }
  return fmt::format(
      "{} seeds, {} trials: {} loaded, errors: {}; slowest {:.2f} ms ({}); largest heap growth "
      "{:.1f} KiB; {} findings",
      tally.seeds, tally.trials, tally.successes, errors.empty() ? "none" : errors,
      tally.slowest_ms, tally.slowest_label, static_cast<double>(tally.largest_growth) / 1024.0,
      tally.findings.size());
}

void replay(const std::string& name) {
  const Parser* found = nullptr;
  for (const Parser& parser : parsers()) {
    if (parser.name == name) found = &parser;
  }
  REQUIRE(found != nullptr);
  const Parser& parser = *found;
  const char* only = std::getenv("TAILOR_PARSER_FUZZ_ONLY");
  if (only != nullptr && *only != '\0' && parser.name != only && parser.corpus != only) return;
  const std::size_t mutations = env_count("TAILOR_PARSER_FUZZ_TRIALS", 300);
  constexpr std::size_t kTruncations = 200;

  const fs::path corpus = corpus_root() / parser.corpus;
  INFO("corpus " << corpus.string() << " (TAILOR_TEST_SOURCE_DIR = the tests/ directory)");
  REQUIRE(fs::is_directory(corpus));
  std::vector<std::string> seeds;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string file = entry.path().filename().string();
    if (entry.is_regular_file() && file != "README.md" && parser.is_seed(file)) {
      seeds.push_back(file);
    }
  }
  std::sort(seeds.begin(), seeds.end());
  REQUIRE(!seeds.empty());

  Tally tally;
  g_allocation_cap = kMaxLoadBytes;
  for (const std::string& seed : seeds) {
    const std::string original = read_bytes(corpus / seed);
    CHECK(original.size() <= 4096);  // seeds stay small: the suite runs under ASan
    // Directory readers: a private copy of the corpus folder whose `seed` file is replaced.
    TempPath temp(parser.directory ? "dir" : "file");
    fs::path target;
    if (parser.directory) {
      fs::create_directories(temp.path());
      for (const auto& entry : fs::directory_iterator(corpus)) {
        if (entry.is_regular_file())
          fs::copy_file(entry.path(), temp.path() / entry.path().filename());
      }
      target = temp.path() / seed;
    }
    std::size_t counter = 0;
    const auto load = [&](const std::string& bytes, const std::string& label) {
      if (parser.directory) {
        write_bytes(target, bytes);
        trial(parser, temp.path(), bytes, label, tally);
      } else {
        // A fresh file per trial, removed afterwards.
        const fs::path file = fs::temp_directory_path() / fmt::format("tailor_parser_fuzz_{}_{}_{}",
                                                                      ::getpid(), counter++, seed);
        write_bytes(file, bytes);
        trial(parser, file, bytes, label, tally);
        std::error_code ec;
        fs::remove(file, ec);
      }
    };

    // The seed itself must load.
    {
      const std::size_t findings_before = tally.findings.size();
      const std::size_t successes_before = tally.successes;
      load(original, seed + " (the seed)");
      INFO(parser.name << ": seed " << seed << " must load without an error");
      CHECK(tally.successes == successes_before + 1);
      CHECK(tally.findings.size() == findings_before);
      tally.trials -= 1;
      tally.successes = successes_before;
    }
    ++tally.seeds;
    // Truncations at evenly spaced lengths (every length for short seeds).
    const std::size_t n = original.size();
    std::size_t last = static_cast<std::size_t>(-1);
    for (std::size_t k = 0; k < kTruncations; ++k) {
      const std::size_t length = k * n / kTruncations;
      if (length == last) continue;
      last = length;
      load(original.substr(0, length),
           fmt::format("{} truncated to {} of {} bytes", seed, length, n));
    }
    // Random mutations, one to three stacked.
    Damager damager(0x7a11'0000'0000'0000ull ^ fnv1a(parser.name + "/" + seed));
    for (std::size_t m = 0; m < mutations; ++m) {
      std::string bytes = original;
      std::string label = fmt::format("{} mutation {}:", seed, m);
      const std::size_t stacked = 1 + (m % 3 == 2 ? 1 : 0) + (m % 7 == 6 ? 1 : 0);
      for (std::size_t s = 0; s < stacked; ++s) {
        std::string what;
        bytes = damager.mutate(bytes, what);
        label += (s == 0 ? " " : "; ") + what;
      }
      load(bytes, label);
    }
    if (parser.directory) write_bytes(target, original);
  }
  g_allocation_cap = kUncapped;

  fmt::print("parser {:58} {}\n", parser.name, describe(tally));
  for (const auto& [kind, message] : tally.first_message) {
    if (kind != "FormatError") fmt::print("    first {}: {}\n", kind, printable(message, 300));
  }
  std::fflush(stdout);
  INFO(parser.name);
  for (const std::string& finding : tally.findings) UNSCOPED_INFO(finding);
  CHECK(tally.findings.empty());
}

}  // namespace

TEST_CASE("parser files: read_csv", "[fuzz][io]") {
  replay("read_csv");
}
TEST_CASE("parser files: read_csv with ';' and MissingPolicy::nan", "[fuzz][io]") {
  replay("read_csv(';', MissingPolicy::nan)");
}
TEST_CASE("parser files: CsvReader with a 64-byte buffer", "[fuzz][io]") {
  replay("CsvReader(buffer_size = 64)");
}
TEST_CASE("parser files: read_libsvm", "[fuzz][io]") {
  replay("read_libsvm");
}
TEST_CASE("parser files: read_featindex", "[fuzz][io]") {
  replay("read_featindex + read_libfm");
}
TEST_CASE("parser files: read_libfm", "[fuzz][io]") {
  replay("read_libfm");
}
TEST_CASE("parser files: read_ipinyou_log", "[fuzz][io]") {
  replay("read_ipinyou_log");
}
TEST_CASE("parser files: read_ipinyou train.log.txt", "[fuzz][io]") {
  replay("read_ipinyou (train.log.txt)");
}
TEST_CASE("parser files: read_ctr_csv Criteo", "[fuzz][io]") {
  replay("read_ctr_csv(criteo_columns())");
}
TEST_CASE("parser files: read_ctr_csv raw Criteo, hashed", "[fuzz][io]") {
  replay("read_ctr_csv(criteo_columns(1000), criteo_raw_options())");
}
TEST_CASE("parser files: read_ctr_csv Avazu", "[fuzz][io]") {
  replay("read_ctr_csv(avazu_columns())");
}
TEST_CASE("parser files: read_auction_log", "[fuzz][io]") {
  replay("read_auction_log");
}
TEST_CASE("parser files: read_campaign_info", "[fuzz][io]") {
  replay("read_campaign_info");
}
TEST_CASE("parser files: read_panel_csv", "[fuzz][io]") {
  replay("read_panel_csv");
}
TEST_CASE("parser files: ihdp::read_replication", "[fuzz][io]") {
  replay("ihdp::read_replication");
}
TEST_CASE("parser files: ihdp::read_test_units", "[fuzz][io]") {
  replay("ihdp::read_test_units");
}
TEST_CASE("parser files: dunnhumby::build_features, original release", "[fuzz][io]") {
  replay("dunnhumby::build_features (original)");
}
TEST_CASE("parser files: dunnhumby::build_features, completejourney", "[fuzz][io]") {
  replay("dunnhumby::build_features (completejourney)");
}
