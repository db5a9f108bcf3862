// ODR test, part 1: includes the umbrella header; odr_second.cpp does too. If any header
// defined a non-inline function or variable, linking the two would fail.
#include <tailor/tailor.hpp>

int odr_second_translation_unit();

int main() {
  tailor::Rng rng(42);
  const double u = rng.uniform();
  return (u >= 0.0 && u < 1.0 && odr_second_translation_unit() == 7) ? 0 : 1;
}
