// tailor/ctr/detail/field_embeddings.hpp — the field embeddings every deep click and multi-task
// model feeds its layers: a row's entries of field f pooled into one k-vector (sum, mean or
// sqrtn of value·v over the entries), and the backward that turns the gradient of the pooled
// block into one gradient per entry. Cost O(nnz·k) per block both ways.
#pragma once

#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/optimizers.hpp"

namespace tailor::ctr {

namespace detail {

/// Pools the field embeddings of rows [lo, hi) of `x` into `input` ((F·k + extra_rows) × m; field
/// f at rows [f·k, (f+1)·k); the extra rows are left for the caller, e.g. PNN's products): e_f = Σ
/// value·v over the row's entries of field f, times 1 (sum), 1/n (mean) or 1/√n (sqrtn) for n > 1
/// entries; `scale` (F × m) keeps the factors for the backward.
inline void pool_field_embeddings(const RowsView& x, Index lo, Index hi,
                                  const std::vector<Pooling>& pooling, const EmbeddingTable& table,
                                  Eigen::MatrixXf& input, Eigen::MatrixXf& scale,
                                  Index extra_rows = 0) {
  const Index m = hi - lo;
  const Index k = table.dim();
  const auto num_fields = static_cast<Index>(pooling.size());
  input.resize(num_fields * k + extra_rows, m);
  scale.resize(num_fields, m);
  for (Index c = 0; c < m; ++c) {
    const Index i = lo + c;
    float* e = input.col(c).data();
    for (Index j = 0; j < num_fields * k; ++j) e[j] = 0.0f;
    float* s = scale.col(c).data();
    for (Index f = 0; f < num_fields; ++f) s[f] = 0.0f;
    for (auto a = x.row_ptr[i]; a < x.row_ptr[i + 1]; ++a) s[x.field[a]] += 1.0f;
    for (Index f = 0; f < num_fields; ++f) {
      const float count = s[f];
      const Pooling pool = pooling[static_cast<std::size_t>(f)];
      s[f] = count <= 1.0f || pool == Pooling::sum ? 1.0f
             : pool == Pooling::mean               ? 1.0f / count
                                                   : 1.0f / std::sqrt(count);
    }
    for (auto a = x.row_ptr[i]; a < x.row_ptr[i + 1]; ++a) {
      const Index f = x.field[a];
      const float w = s[f] * x.value_at(a);
      const float* v = table.value.row(x.index[a]).data();
      float* ef = e + f * k;
      for (Index d = 0; d < k; ++d) ef[d] += w * v[d];
    }
  }
}

/// The backward of pool_field_embeddings: each entry's table gradient (table `t` of `g`) from
/// the gradient of the pooled input.
inline void scatter_field_gradients(const RowsView& x, Index lo, Index hi, Index k,
                                    const Eigen::MatrixXf& d_input, const Eigen::MatrixXf& scale,
                                    BlockGradient& g, Index t) {
  for (Index c = 0; c < hi - lo; ++c) {
    const Index i = lo + c;
    const float* de = d_input.col(c).data();
    const float* s = scale.col(c).data();
    for (auto a = x.row_ptr[i]; a < x.row_ptr[i + 1]; ++a) {
      const Index f = x.field[a];
      const float w = s[f] * x.value_at(a);
      float* out = g.row(t, a, k);
      const float* def = de + f * k;
      for (Index d = 0; d < k; ++d) out[d] = w * def[d];
    }
  }
}

}  // namespace detail

}  // namespace tailor::ctr
