// tailor/ctr/calibration.hpp — making predicted click probabilities match observed rates.
//
// * Negative down-sampling: a model trained on all clicks and a share w of the non-clicks
//   predicts p on the re-weighted odds; the calibrated probability is
//     q = p / (p + (1 − p) / w)                    (He et al., ADKDD 2014, §6.2).        O(n)
// * PlattCalibrator: q = σ(a·logit(p) + b), (a, b) maximising the weighted likelihood on held-out
//   rows (Platt 1999, on the model's logit), by Newton's method.                    O(n) per step
// * IsotonicCalibrator: the non-decreasing step function of p closest to the labels in weighted
//   least squares, by pool-adjacent-violators (Zadrozny & Elkan, KDD 2002); prediction
//   interpolates linearly between block means, as scikit-learn's IsotonicRegression does.
//   O(n log n) fit, O(log blocks) per prediction.
// Both are fitted on rows the model did not train on, and saved like models.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/losses.hpp"

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

namespace detail {

inline void check_calibration_input(std::string_view context, const Eigen::VectorXf& p,
                                    const Eigen::VectorXf& y, const Eigen::VectorXf& weights) {
  if (p.size() == 0) raise<DataError>("{}: no rows, expected at least 1", context);
  check_rows(context, "click", y.size(), p.size(), "the rows of the predictions");
  if (weights.size() > 0)
    check_rows(context, "weights", weights.size(), p.size(), "the rows of the predictions");
  bool zero = false, one = false;
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0.0f && p[i] <= 1.0f)) {
      raise<DataError>("{}: p[{}] = {}, expected a probability in [0, 1]", context, i, p[i]);
    }
    if (y[i] != 0.0f && y[i] != 1.0f)
      raise<DataError>("{}: click[{}] = {}, expected 0 or 1", context, i, y[i]);
    const float w = weights.size() > 0 ? weights[i] : 1.0f;
    if (!(w >= 0.0f) || !std::isfinite(w)) {
      raise<DataError>("{}: weights[{}] = {}, expected a finite value >= 0", context, i, w);
    }
    if (w > 0.0f) (y[i] == 1.0f ? one : zero) = true;
  }
  if (!zero || !one)
    raise<DataError>("{}: the rows hold one class only, expected clicks and non-clicks", context);
}

/// logit(p) with p clipped to [1e-7, 1 − 1e-7].
inline double clipped_logit(double p) {
  return logit(std::clamp(p, 1e-7, 1.0 - 1e-7));
}

}  // namespace detail

/// Platt scaling on the logit: q = σ(a·logit(p) + b).
class PlattCalibrator {
 public:
  static constexpr std::string_view kTypeTag = "ctr::PlattCalibrator";

  /// Fits (a, b) on held-out predictions p, clicks y and optional weights.
  static PlattCalibrator fit(const Eigen::VectorXf& p, const Eigen::VectorXf& y,
                             const Eigen::VectorXf& weights = {}) {
    constexpr std::string_view kContext = "PlattCalibrator::fit";
    detail::check_calibration_input(kContext, p, y, weights);
    // Newton's method on the convex negative log-likelihood in (a, b), from the identity map,
    // with step halving so every step decreases it.
    double a = 1.0, b = 0.0;
    auto loss = [&](double aa, double bb) {
      double total = 0.0;
      for (Eigen::Index i = 0; i < p.size(); ++i) {
        const double w = weights.size() > 0 ? weights[i] : 1.0;
        total += w * bce_with_logits(aa * detail::clipped_logit(p[i]) + bb, y[i]);
      }
      return total;
    };
    double current = loss(a, b);
    for (int iter = 0; iter < 100; ++iter) {
      double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
      for (Eigen::Index i = 0; i < p.size(); ++i) {
        const double w = weights.size() > 0 ? weights[i] : 1.0;
        const double x = detail::clipped_logit(p[i]);
        const double q = sigmoid(a * x + b);
        const double r = w * (q - y[i]);
        const double c = w * q * (1.0 - q);
        ga += r * x;
        gb += r;
        haa += c * x * x;
        hab += c * x;
        hbb += c;
      }
      const double det = haa * hbb - hab * hab;
      if (!(det > 1e-300)) break;
      const double da = (hbb * ga - hab * gb) / det;
      const double db = (haa * gb - hab * ga) / det;
      double step = 1.0;
      double next = current;
      for (int half = 0; half < 50; ++half) {
        next = loss(a - step * da, b - step * db);
        if (next <= current) break;
        step *= 0.5;
      }
      if (!(next <= current)) break;
      a -= step * da;
      b -= step * db;
      const bool done = current - next <= 1e-12 * std::max(1.0, current);
      current = next;
      if (done) break;
    }
    return PlattCalibrator(a, b);
  }

  double slope() const { return a_; }
  double intercept() const { return b_; }

  Eigen::VectorXf predict(const Eigen::VectorXf& p) const {
    Eigen::VectorXf q(p.size());
    for (Eigen::Index i = 0; i < p.size(); ++i) q[i] = predict_one(p[i]);
    return q;
  }
  float predict_one(float p) const {
    return static_cast<float>(sigmoid(a_ * detail::clipped_logit(p) + b_));
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    out.write(a_);
    out.write(b_);
  }
  static PlattCalibrator load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    const auto a = in.read<double>("slope");
    const auto b = in.read<double>("intercept");
    if (!std::isfinite(a) || !std::isfinite(b))
      raise<FormatError>("model file: {} has non-finite parameters", kTypeTag);
    return PlattCalibrator(a, b);
  }

 private:
  PlattCalibrator(double a, double b) : a_(a), b_(b) {}
  double a_ = 1.0;
  double b_ = 0.0;
};

/// Isotonic calibration: a non-decreasing map from p to the observed click rate.
class IsotonicCalibrator {
 public:
  static constexpr std::string_view kTypeTag = "ctr::IsotonicCalibrator";

  static IsotonicCalibrator fit(const Eigen::VectorXf& p, const Eigen::VectorXf& y,
                                const Eigen::VectorXf& weights = {}) {
    constexpr std::string_view kContext = "IsotonicCalibrator::fit";
    detail::check_calibration_input(kContext, p, y, weights);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(p.size()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(), [&](auto i, auto j) { return p[i] < p[j]; });
    // Pool adjacent violators over blocks of equal p (ties share one block, as in scikit-learn).
    std::vector<double> x, mean, weight;
    for (auto i : order) {
      const double w = weights.size() > 0 ? weights[i] : 1.0;
      if (w == 0.0) continue;
      if (!x.empty() && x.back() == p[i]) {
        mean.back() = (mean.back() * weight.back() + w * y[i]) / (weight.back() + w);
        weight.back() += w;
      } else {
        x.push_back(p[i]);
        mean.push_back(y[i]);
        weight.push_back(w);
      }
    }
    // Blocks [start_k, end_k) of the distinct p values, merged while their means decrease.
    std::vector<double> block_mean, block_weight;
    std::vector<std::size_t> block_start;
    for (std::size_t k = 0; k < x.size(); ++k) {
      block_mean.push_back(mean[k]);
      block_weight.push_back(weight[k]);
      block_start.push_back(k);
      while (block_mean.size() > 1 && block_mean[block_mean.size() - 2] >= block_mean.back()) {
        const double w = block_weight[block_weight.size() - 2] + block_weight.back();
        const double m =
            (block_mean[block_mean.size() - 2] * block_weight[block_weight.size() - 2] +
             block_mean.back() * block_weight.back()) /
            w;
        block_mean.pop_back();
        block_weight.pop_back();
        block_start.pop_back();
        block_mean.back() = m;
        block_weight.back() = w;
      }
    }
    // Knots: each block's first and last p, with the block's mean.
    std::vector<double> knots_x, knots_y;
    for (std::size_t b = 0; b < block_mean.size(); ++b) {
      const std::size_t first = block_start[b];
      const std::size_t last = b + 1 < block_start.size() ? block_start[b + 1] - 1 : x.size() - 1;
      knots_x.push_back(x[first]);
      knots_y.push_back(block_mean[b]);
      if (last != first) {
        knots_x.push_back(x[last]);
        knots_y.push_back(block_mean[b]);
      }
    }
    return IsotonicCalibrator(std::move(knots_x), std::move(knots_y));
  }

  /// The knots (p, calibrated p) of the piecewise-linear map.
  const std::vector<double>& knots_x() const { return x_; }
  const std::vector<double>& knots_y() const { return y_; }

  Eigen::VectorXf predict(const Eigen::VectorXf& p) const {
    Eigen::VectorXf q(p.size());
    for (Eigen::Index i = 0; i < p.size(); ++i) q[i] = predict_one(p[i]);
    return q;
  }
  /// Linear interpolation between knots; constant beyond the first and last knot.
  float predict_one(float p) const {
    if (p <= x_.front()) return static_cast<float>(y_.front());
    if (p >= x_.back()) return static_cast<float>(y_.back());
    const auto it = std::upper_bound(x_.begin(), x_.end(), static_cast<double>(p));
    const std::size_t hi = static_cast<std::size_t>(it - x_.begin());
    const std::size_t lo = hi - 1;
    const double t = (p - x_[lo]) / (x_[hi] - x_[lo]);
    return static_cast<float>(y_[lo] + t * (y_[hi] - y_[lo]));
  }

  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, 1);
    out.write(x_);
    out.write(y_);
  }
  static IsotonicCalibrator load(BinaryReader& in) {
    in.read_header(kTypeTag, 1);
    auto x = in.read<std::vector<double>>("knots_x");
    auto y = in.read<std::vector<double>>("knots_y");
    bool ok = !x.empty() && x.size() == y.size();
    for (std::size_t k = 0; ok && k < x.size(); ++k) {
      ok = std::isfinite(x[k]) && y[k] >= 0.0 && y[k] <= 1.0 &&
           (k == 0 || (x[k] >= x[k - 1] && y[k] >= y[k - 1]));
    }
    if (!ok)
      raise<FormatError>("model file: {} knots are not a non-decreasing map into [0, 1]", kTypeTag);
    return IsotonicCalibrator(std::move(x), std::move(y));
  }

 private:
  IsotonicCalibrator(std::vector<double> x, std::vector<double> y)
      : x_(std::move(x)), y_(std::move(y)) {}
  std::vector<double> x_;
  std::vector<double> y_;
};

}  // namespace tailor::ctr
