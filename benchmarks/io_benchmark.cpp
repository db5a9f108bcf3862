// io_benchmark — CSV throughput: read_csv (whole file -> typed Table), the streaming CsvReader
// (scan only, and scan + parse every field), write_csv, and read_csv_string scaling with rows.
//
// The large input is a numeric CSV of 2 M rows x 10 columns (~125 MB) generated once with
// tailor::Rng into the temp directory and reused across runs (name carries the shape and a
// layout version; written to a temporary name and renamed, so a partial file is never used).
// Reports bytes_per_second (SetBytesProcessed) and items_per_second (rows), both per CPU second
// of this (single-threaded) process, which includes the kernel time of reading the file; CPU
// time rather than wall time keeps the figures meaningful on a shared machine.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"

namespace {

constexpr std::size_t kLargeRows = 2'000'000;
constexpr std::size_t kColumns = 10;

/// CSV text of `rows` rows: integers, fixed-point prices, full-precision doubles, small counts.
std::string make_numeric_csv(std::size_t rows, std::uint64_t seed) {
  tailor::Rng rng(seed);
  std::string text;
  text.reserve(rows * kColumns * 11);
  for (std::size_t j = 0; j < kColumns; ++j) {
    fmt::format_to(std::back_inserter(text), "{}x{}", j > 0 ? "," : "", j);
  }
  text.push_back('\n');
  for (std::size_t i = 0; i < rows; ++i) {
    fmt::format_to(std::back_inserter(text), "{},{:.2f},{:.4f},{},{},{:.3f},{:.2f},{},{:.5f},{}\n",
                   rng.uniform_index(100000), rng.uniform(0.0, 500.0), rng.normal(),
                   rng.uniform_index(20), rng.normal(0.0, 1e3), rng.uniform(-1.0, 1.0),
                   rng.exponential(0.1), rng.bernoulli(0.3) ? 1 : 0, rng.uniform(),
                   rng.poisson(3.0));
  }
  return text;
}

const std::filesystem::path& large_file() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() /
        fmt::format("tailor_io_benchmark_v1_{}x{}.csv", kLargeRows, kColumns);
    std::error_code ec;
    if (std::filesystem::exists(file, ec) && std::filesystem::file_size(file, ec) > 0) return file;
    const std::string text = make_numeric_csv(kLargeRows, 20240601);
    const std::filesystem::path temporary = file.string() + ".partial";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    std::filesystem::rename(temporary, file);
    return file;
  }();
  return path;
}

std::int64_t large_file_bytes() {
  return static_cast<std::int64_t>(std::filesystem::file_size(large_file()));
}

void BM_read_csv(benchmark::State& state) {
  const auto& path = large_file();
  std::size_t rows = 0;
  for (auto _ : state) {
    const tailor::io::Table table = tailor::io::read_csv(path);
    rows = table.num_rows();
    benchmark::DoNotOptimize(table.numeric("x0").data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * large_file_bytes());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_read_csv)->Unit(benchmark::kMillisecond);

void BM_csv_reader_scan(benchmark::State& state) {
  const auto& path = large_file();
  std::size_t rows = 0;
  for (auto _ : state) {
    tailor::io::CsvReader reader(path);
    tailor::io::CsvRow row;
    std::size_t bytes = 0;
    while (reader.next_row(row)) bytes += row.text(kColumns - 1).size();
    benchmark::DoNotOptimize(bytes);
    rows = reader.rows_read();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * large_file_bytes());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_csv_reader_scan)->Unit(benchmark::kMillisecond);

void BM_csv_reader_sum_all_fields(benchmark::State& state) {
  const auto& path = large_file();
  std::size_t rows = 0;
  for (auto _ : state) {
    tailor::io::CsvReader reader(path);
    tailor::io::CsvRow row;
    double sum = 0.0;
    while (reader.next_row(row)) {
      for (std::size_t j = 0; j < kColumns; ++j) sum += row.number(j);
    }
    benchmark::DoNotOptimize(sum);
    rows = reader.rows_read();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * large_file_bytes());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_csv_reader_sum_all_fields)->Unit(benchmark::kMillisecond);

void BM_read_csv_string(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const std::string text = make_numeric_csv(rows, 7);
  for (auto _ : state) {
    const tailor::io::Table table = tailor::io::read_csv_string(text);
    benchmark::DoNotOptimize(table.numeric("x0").data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_read_csv_string)
    ->RangeMultiplier(10)
    ->Range(1000, 100000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oN);

void BM_write_csv(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  const tailor::io::Table table = tailor::io::read_csv_string(make_numeric_csv(rows, 11));
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::ostringstream out;
    tailor::io::write_csv(table, out);
    bytes = out.str().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_write_csv)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
