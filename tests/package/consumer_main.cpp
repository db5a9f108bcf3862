// The program both consumer projects build: includes the umbrella header and uses the core.
#include <tailor/tailor.hpp>

#include <cstdio>

int main() {
  tailor::Rng rng(2026);
  double sum = 0.0;
  for (int i = 0; i < 1000; ++i) sum += rng.uniform();
  const tailor::Estimate estimate{sum / 1000.0, 0.01};
  const auto ci = estimate.confidence_interval(0.95);
  std::printf("tailor consumer: mean %.4f, 95%% CI [%.4f, %.4f]\n", estimate.value, ci.lower,
              ci.upper);
  return ci.contains(0.5) ? 0 : 1;
}
