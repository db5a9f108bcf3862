// Corruption resistance of every model loader (issue 20): each seed model file under
// tests/fuzz/corpus/models (written by make_model_corpus) is loaded, re-saved byte for byte,
// then damaged in every way a disk, a network or a careless user damages files, and loaded from
// a seekable stream (std::istringstream) and from one that cannot seek (a pipe-like streambuf):
//   - truncated at every length;
//   - an 8-byte window at every offset set to 0, 2^31 and 2^63 (every length field, whatever
//     its position, takes each value);
//   - random bit flips (1 to 4 bits), raw and "resealed" (the CRC-32 trailer recomputed, so the
//     loader's own structural checks are reached instead of the checksum).
// Every damaged file must end in tailor::FormatError (a resealed one may also load, when the
// change is one no structure check can see, such as a leaf value) and never in any other
// exception, a crash (the sanitizer build), or a single allocation above 64 MiB (this binary
// replaces operator new to refuse those: heap_cap.hpp). In CI the sweeps use a stride so each file
// gets about 1,000 offsets and 500 flips; TAILOR_MODEL_FUZZ_FULL=1 sweeps every offset and
// TAILOR_MODEL_FUZZ_FLIPS=N sets the flips (scripts/fuzz.sh runs 100,000).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model_loaders.hpp"
#include "tailor/core/serialization.hpp"

#include "heap_cap.hpp"  // single allocations above g_allocation_cap throw std::bad_alloc

namespace {

using tailor_fuzz::ModelLoader;

/// A read-only stream buffer that cannot seek or tell its size, like a pipe or a socket.
class PipeBuffer : public std::streambuf {
 public:
  explicit PipeBuffer(const std::string& data) : data_(data) {
    char* begin = const_cast<char*>(data_.data());
    setg(begin, begin, begin + data_.size());
  }

 private:
  const std::string& data_;
};

std::filesystem::path corpus_dir() {
  const char* root = std::getenv("TAILOR_TEST_SOURCE_DIR");
  return std::filesystem::path(root != nullptr ? root : "tests") / "fuzz" / "corpus" / "models";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::size_t env_count(const char* name, std::size_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? static_cast<std::size_t>(std::strtoull(text, nullptr, 10)) : fallback;
}

enum class Outcome { loaded, format_error, other_error, bad_alloc, other_exception };

struct Tally {
  std::size_t loads = 0;
  std::size_t loaded = 0;
  std::size_t format_errors = 0;
  double slowest_ms = 0.0;
  std::vector<std::string> findings;
};

Outcome try_load(const ModelLoader& loader, const std::string& bytes, bool seekable,
                 std::string& message) {
  try {
    if (seekable) {
      std::istringstream in(bytes);
      loader.load(in);
    } else {
      PipeBuffer buffer(bytes);
      std::istream in(&buffer);
      loader.load(in);
    }
    return Outcome::loaded;
  } catch (const tailor::FormatError&) {
    return Outcome::format_error;
  } catch (const tailor::Error& e) {
    message = e.what();
    return Outcome::other_error;
  } catch (const std::bad_alloc&) {
    message = "allocation above the cap";
    return Outcome::bad_alloc;
  } catch (const std::exception& e) {
    message = e.what();
    return Outcome::other_exception;
  }
}

/// Loads `bytes` from both stream kinds; `may_load`: a successful load is acceptable.
void check_damaged(const ModelLoader& loader, const std::string& bytes, bool may_load,
                   const std::string& label, Tally& tally) {
  for (const bool seekable : {true, false}) {
    std::string message;
    const auto start = std::chrono::steady_clock::now();
    const Outcome outcome = try_load(loader, bytes, seekable, message);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    tally.slowest_ms = std::max(tally.slowest_ms, ms);
    ++tally.loads;
    if (outcome == Outcome::format_error) {
      ++tally.format_errors;
      continue;
    }
    if (outcome == Outcome::loaded) {
      ++tally.loaded;
      if (may_load) continue;
      message = "loaded without an error";
    }
    if (tally.findings.size() < 20) {
      tally.findings.push_back(
          fmt::format("{} ({}): {}", label, seekable ? "seekable" : "pipe", message));
    }
  }
}

/// Recomputes the trailing CRC-32 over everything before it (the writer's definition).
std::string reseal(std::string bytes) {
  if (bytes.size() < 4) return bytes;
  tailor::detail::Crc32 crc;
  crc.update(bytes.data(), bytes.size() - 4);
  tailor::detail::store_little_endian(crc.value(), bytes.data() + bytes.size() - 4);
  return bytes;
}

const ModelLoader* find_loader(const std::string& name) {
  for (const ModelLoader& loader : tailor_fuzz::model_loaders()) {
    if (loader.name == name) return &loader;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("model files: every registered model has a seed file that round-trips byte for byte",
          "[fuzz]") {
  for (const ModelLoader& loader : tailor_fuzz::model_loaders()) {
    const auto path = corpus_dir() / (std::string(loader.name) + ".bin");
    INFO(path.string());
    REQUIRE(std::filesystem::is_regular_file(path));
    const std::string bytes = read_file(path);
    for (const bool seekable : {true, false}) {
      std::ostringstream out;
      if (seekable) {
        std::istringstream in(bytes);
        loader.round_trip(in, out);
      } else {
        PipeBuffer buffer(bytes);
        std::istream in(&buffer);
        loader.round_trip(in, out);
      }
      CHECK(out.str() == bytes);
    }
  }
}

TEST_CASE("model files: truncated, overwritten and bit-flipped files end in FormatError",
          "[fuzz]") {
  const bool full = env_count("TAILOR_MODEL_FUZZ_FULL", 0) != 0;
  const std::size_t flips = env_count("TAILOR_MODEL_FUZZ_FLIPS", 500);
  const std::string only =
      std::getenv("TAILOR_MODEL_FUZZ_ONLY") != nullptr ? std::getenv("TAILOR_MODEL_FUZZ_ONLY") : "";
  std::size_t total_loads = 0;
  for (const ModelLoader& loader : tailor_fuzz::model_loaders()) {
    if (!only.empty() && loader.name != only) continue;
    const std::string original = read_file(corpus_dir() / (std::string(loader.name) + ".bin"));
    REQUIRE(original.size() > 4);
    const std::size_t n = original.size();
    const std::size_t stride = full ? 1 : std::max<std::size_t>(1, n / 1000);
    Tally tally;
    g_peak_bytes = g_live_bytes.load();
    const std::size_t live_before = g_live_bytes.load();
    g_allocation_cap = std::size_t{64} << 20;
    for (std::size_t length = 0; length < n; length += stride) {
      check_damaged(loader, original.substr(0, length), false,
                    fmt::format("truncated to {}", length), tally);
    }
    for (const std::uint64_t value :
         {std::uint64_t{0}, std::uint64_t{1} << 31, std::uint64_t{1} << 63}) {
      char word[8];
      tailor::detail::store_little_endian(value, word);
      for (std::size_t offset = 0; offset < n; offset += stride) {
        std::string damaged = original;
        const std::size_t width = std::min<std::size_t>(8, n - offset);
        std::copy(word, word + width, damaged.begin() + static_cast<std::ptrdiff_t>(offset));
        const std::string label =
            fmt::format("bytes {}..{} set to {}", offset, offset + width, value);
        check_damaged(loader, damaged, damaged == original, label, tally);
        const std::string resealed = reseal(damaged);
        check_damaged(loader, resealed, true, label + ", resealed", tally);
      }
    }
    std::mt19937_64 rng(0x5eed0000u + n);
    for (std::size_t trial = 0; trial < flips; ++trial) {
      std::string damaged = original;
      const auto bits = 1 + rng() % 4;
      for (std::uint64_t b = 0; b < bits; ++b) {
        const auto bit = rng() % (8 * n);
        damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
      }
      const std::string label = fmt::format("flip trial {}", trial);
      check_damaged(loader, damaged, damaged == original, label, tally);
      check_damaged(loader, reseal(damaged), true, label + ", resealed", tally);
    }
    g_allocation_cap = kUncapped;
    total_loads += tally.loads;
    // One line per model for the issue note: loads, outcomes, slowest load, largest request.
    fmt::print(
        "{:40} {:7} bytes {:9} loads {:9} FormatError {:7} loaded  slowest {:7.2f} ms  "
        "peak heap growth {:9} bytes\n",
        loader.name, n, tally.loads, tally.format_errors, tally.loaded, tally.slowest_ms,
        g_peak_bytes.load() - live_before);
    INFO(loader.name);
    for (const std::string& finding : tally.findings) UNSCOPED_INFO(finding);
    CHECK(tally.findings.empty());
  }
  fmt::print("model files: {} loads in total\n", total_loads);
  if (!only.empty()) CHECK(find_loader(only) != nullptr);
}

TEST_CASE("model files: inputs the fuzzers found end in FormatError", "[fuzz]") {
  // tests/fuzz/corpus/regressions/<loader>/<file>: each crashed or misbehaved once (the name
  // says how); every one must now be a FormatError from both stream kinds.
  const auto root = corpus_dir().parent_path() / "regressions";
  std::size_t files = 0;
  for (const ModelLoader& loader : tailor_fuzz::model_loaders()) {
    const auto dir = root / std::string(loader.name);
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      INFO(entry.path().string());
      Tally tally;
      check_damaged(loader, read_file(entry.path()), false, entry.path().filename().string(),
                    tally);
      for (const std::string& finding : tally.findings) UNSCOPED_INFO(finding);
      CHECK(tally.findings.empty());
      ++files;
    }
  }
  CHECK(files >= 1);
}
