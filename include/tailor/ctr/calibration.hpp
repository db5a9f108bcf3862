// tailor/ctr/calibration.hpp — undoing negative down-sampling. A model trained on all clicks and
// a share w of the non-clicks predicts p on the re-weighted odds; the calibrated probability is
//   q = p / (p + (1 − p) / w)                     (He et al., ADKDD 2014, §6.2)
// O(n).
#pragma once

#include <cmath>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"

namespace tailor::ctr {

/// q = p / (p + (1 − p) / keep_rate) for every prediction; keep_rate in (0, 1] is the share of
/// negatives kept for training. Throws InvalidArgument for keep_rate outside (0, 1] and
/// DataError for a prediction outside [0, 1].
inline Eigen::VectorXf correct_negative_downsampling(const Eigen::Ref<const Eigen::VectorXf>& p,
                                                     double keep_rate) {
  constexpr std::string_view kContext = "correct_negative_downsampling";
  check_param(keep_rate > 0.0 && keep_rate <= 1.0, kContext, "keep_rate", keep_rate, "in (0, 1]");
  Eigen::VectorXf q(p.size());
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    const double pi = p[i];
    if (!(pi >= 0.0 && pi <= 1.0)) {
      raise<DataError>("{}: p[{}] = {}, expected a probability in [0, 1]", kContext, i, pi);
    }
    q[i] = static_cast<float>(pi / (pi + (1.0 - pi) / keep_rate));
  }
  return q;
}

}  // namespace tailor::ctr
