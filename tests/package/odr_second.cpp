// ODR test, part 2: a second translation unit including the umbrella header.
#include <tailor/tailor.hpp>

int odr_second_translation_unit() {
  tailor::Estimate e{1.0, 0.5};
  return e.std_error > 0.0 ? 7 : 0;
}
