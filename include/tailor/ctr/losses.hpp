// tailor/ctr/losses.hpp — binary cross-entropy on logits, the loss of every click model.
//
// l(z, y) = softplus(z) - y z = max(z, 0) - y z + log1p(exp(-|z|))   (stable for any |z|)
// dl/dz   = sigmoid(z) - y
// Computed in double for the loss sums (float logits lose digits at |z| = 30), O(1) per row.
#pragma once

#include <cmath>

namespace tailor::ctr {

/// Numerically stable sigmoid.
inline double sigmoid(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

/// Binary cross-entropy of logit z against label y in {0, 1} (or a soft label in [0, 1]).
inline double bce_with_logits(double z, double y) {
  return std::max(z, 0.0) - y * z + std::log1p(std::exp(-std::abs(z)));
}

/// d bce_with_logits / dz.
inline double bce_with_logits_gradient(double z, double y) {
  return sigmoid(z) - y;
}

/// logit(p) for p in (0, 1): the output bias that makes a constant model predict p.
inline double logit(double p) {
  return std::log(p / (1.0 - p));
}

}  // namespace tailor::ctr
