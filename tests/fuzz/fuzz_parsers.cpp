// libFuzzer target over every file reader of tailor/io (issue 20), the coverage-guided
// counterpart of parser_files_test.cpp. TAILOR_FUZZ_PARSER=<name or corpus folder> (an entry of
// tests/fuzz/parsers.hpp) picks the reader; each input is written to a temporary file and read.
// Directory readers (Dunnhumby) read a copy of their seed folder in which the input replaces
// TAILOR_FUZZ_FILE (default: the folder's first seed). A tailor::Error is an expected outcome;
// any other exception, a broken invariant of a successful read (abort with the reason),
// sanitizer reports, timeouts and (-malloc_limit_mb) oversized allocations are findings.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "parsers.hpp"
#include "tailor/core/errors.hpp"

namespace {

namespace fs = std::filesystem;
const tailor_fuzz::Parser* g_parser = nullptr;
fs::path g_target;  // the file each input is written to

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("TAILOR_FUZZ_PARSER");
  for (const auto& parser : tailor_fuzz::parsers()) {
    if (name != nullptr && (parser.name == name || parser.corpus == name)) g_parser = &parser;
  }
  if (g_parser == nullptr) {
    std::fprintf(stderr, "fuzz_parsers: set TAILOR_FUZZ_PARSER to one of:\n");
    for (const auto& parser : tailor_fuzz::parsers()) {
      std::fprintf(stderr, "  %s (corpus %s)\n", parser.name.c_str(), parser.corpus.c_str());
    }
    std::exit(2);
  }
  const fs::path work = fs::temp_directory_path() /
                        ("tailor_fuzz_" + g_parser->corpus + "_" + std::to_string(::getpid()));
  fs::create_directories(work);
  if (!g_parser->directory) {
    g_target = work / "input";
    return 0;
  }
  // A private copy of the seed folder; the input replaces one of its files.
  const fs::path seeds = tailor_fuzz::corpus_root() / g_parser->corpus;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(seeds)) {
    fs::copy_file(entry.path(), work / entry.path().filename(),
                  fs::copy_options::overwrite_existing);
    if (g_parser->is_seed(entry.path().filename().string())) {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  const char* chosen = std::getenv("TAILOR_FUZZ_FILE");
  g_target = work / (chosen != nullptr ? std::string(chosen) : files.front());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(g_target, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const std::string problem =
        g_parser->load(g_parser->directory ? g_target.parent_path() : g_target);
    if (!problem.empty()) {
      std::fprintf(stderr, "fuzz_parsers: %s loaded an input that breaks an invariant: %s\n",
                   g_parser->name.c_str(), problem.c_str());
      std::abort();
    }
  } catch (const tailor::Error&) {
  }
  return 0;
}
