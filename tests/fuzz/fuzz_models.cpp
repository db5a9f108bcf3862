// libFuzzer target over every model loader (issue 20). One binary serves all loaders:
// TAILOR_FUZZ_LOADER=<name> (a tests/fuzz/model_loaders.hpp entry, e.g. learn_regression_forest)
// picks the loader; each input is loaded from a seekable stream and from one that cannot seek.
// A FormatError is the expected outcome of a corrupt file; any other exception escapes and
// libFuzzer reports it, as it reports sanitizer errors, timeouts and (with -malloc_limit_mb)
// oversized allocations. Built only with -DTAILOR_FUZZ=ON and clang; scripts/fuzz.sh runs it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <streambuf>
#include <string>

#include "model_loaders.hpp"
#include "tailor/core/errors.hpp"

namespace {

const tailor_fuzz::ModelLoader* g_loader = nullptr;

class PipeBuffer : public std::streambuf {
 public:
  explicit PipeBuffer(std::string& data) {
    setg(data.data(), data.data(), data.data() + data.size());
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("TAILOR_FUZZ_LOADER");
  for (const auto& loader : tailor_fuzz::model_loaders()) {
    if (name != nullptr && loader.name == name) g_loader = &loader;
  }
  if (g_loader == nullptr) {
    std::fprintf(stderr, "fuzz_models: set TAILOR_FUZZ_LOADER to one of:\n");
    for (const auto& loader : tailor_fuzz::model_loaders()) {
      std::fprintf(stderr, "  %.*s\n", static_cast<int>(loader.name.size()), loader.name.data());
    }
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    std::istringstream in(bytes);
    g_loader->load(in);
  } catch (const tailor::FormatError&) {
  }
  try {
    PipeBuffer buffer(bytes);
    std::istream in(&buffer);
    g_loader->load(in);
  } catch (const tailor::FormatError&) {
  }
  return 0;
}
