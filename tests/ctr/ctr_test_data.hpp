// Small random multi-field click data for the ctr/ tests (a planted logistic model over the
// table rows; not a known-truth benchmark, see datasets/ctr_worlds.hpp for that).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr::test {

/// `fields` integer fields of cardinality `card`; one id per field (plus, when `multi` is set, a
/// last multi-valued field with 0–3 ids and non-unit values); clicks from a random linear logit.
inline CtrData random_click_data(Index n, Index fields, Index card, std::uint64_t seed,
                                 bool multi = false) {
  std::vector<FieldSpec> specs;
  for (Index f = 0; f < fields; ++f) {
    specs.push_back(
        {.name = fmt::format("f{}", f), .kind = FieldKind::integer, .cardinality = card});
  }
  if (multi) {
    specs.push_back(
        {.name = "tags", .kind = FieldKind::integer, .cardinality = card, .multi_valued = true});
  }
  FeatureSpace space = FeatureSpaceBuilder(specs).build();
  Rng rng(seed, 0);
  std::vector<double> weight(static_cast<std::size_t>(space.num_rows()));
  for (auto& w : weight) w = 0.8 * rng.normal();
  SparseFeatures x;
  Eigen::VectorXf click(n);
  for (Index i = 0; i < n; ++i) {
    double z = -1.5;
    for (Index f = 0; f < fields; ++f) {
      const auto row = static_cast<std::uint32_t>(
          space.offset(f) +
          static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(card))));
      x.push(f, row);
      z += weight[row];
    }
    if (multi) {
      const auto count = rng.uniform_index(4);
      std::vector<std::uint32_t> rows;
      for (std::uint64_t c = 0; c < count; ++c) {
        rows.push_back(static_cast<std::uint32_t>(
            space.offset(fields) +
            static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(card)))));
      }
      for (auto row : rows) {
        const float value = 0.5f + static_cast<float>(rng.uniform());
        x.push(fields, row, value);
        z += weight[row] * value;
      }
    }
    x.end_row();
    click[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0f : 0.0f;
  }
  return CtrData(std::move(space), std::move(x), std::move(click));
}

}  // namespace tailor::ctr::test
