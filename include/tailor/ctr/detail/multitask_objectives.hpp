// tailor/ctr/detail/multitask_objectives.hpp — the losses of the multi-task and conversion models,
// as Objectives of the one trainer (ctr/detail/trainer.hpp).
//
// TaskObjective (Shared-Bottom, MMoE, PLE): Σ_t λ_t · (weighted mean over the batch rows labelled
// for task t of BCE(z_t, y_t) for a binary task, (z_t − y_t)² for a continuous one).
//
// FunnelObjective (labels: click c, conversion r; outputs z_c (CTR), z_v (CVR), z_i (imputation,
// DR only); p = σ(z_c), q = σ(z_v), weighted means over all impressions of the batch):
//   clicked_only  BCE(z_c, c) + c·BCE(z_v, r)                    (the naive CVR model: the CVR
//                 tower sees clicked rows only, as a CVR model trained on clicks)
//   esmm          BCE(z_c, c) + λ_g·BCE(p·q, r)                  (Ma et al., SIGIR 2018, eq. 3)
//   ips           esmm + λ_c·(c / max(p̄, floor))·BCE(z_v, r)     (ESCM², Wang et al., SIGIR 2022)
//   dr            esmm + λ_c·[ê + (c / max(p̄, floor))·(e − ê)] + (c / max(p̄, floor))·((r̂ − r)·z̄_v)²
//                 with e = BCE(z_v, r), ê = BCE(z_v, r̄̂), r̂ = σ(z_i)  (ESCM²-DR)
// A bar marks a stop-gradient. The propensity p̄ is held fixed in the counterfactual risks: the
// IPS/DR risk is an estimate of the CVR loss over all impressions whose weights are nuisance
// values; letting its gradient reach the CTR tower would reward a larger p̂ on clicked rows
// (smaller weights, smaller risk) and bias pCTR upward — the CTR tower learns from L_CTR and
// the CTCVR loss only. In the DR risk, ê imputes the error of the CVR prediction from the
// imputed conversion probability r̂ (BCE is linear in its label, so ê = E[e | x] when r̂ is the
// true CVR); the CVR tower's gradient is then (q − r̂) + (c/p̂)(r̂ − r), unbiased when either p̂
// or r̂ is right. The imputation tower alone learns from the last term, the squared error
// e − ê = (r̂ − r)·z_v on clicked rows weighted by 1/p̂ (z_v held fixed), as in DR-JL (Wang et
// al., ICML 2019).
// BCE(p·q, r) is computed in log space: log(pq) = −softplus(−z_c) − softplus(−z_v),
// log(1 − pq) = log1mexp; its gradients are (pq − r)(1 − p)/(1 − pq) for z_c and
// (pq − r)(1 − q)/(1 − pq) for z_v.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/metrics.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/losses.hpp"

namespace tailor::ctr {

/// Which CVR risk a funnel model trains (see detail/multitask_objectives.hpp).
enum class FunnelLoss : std::uint8_t { clicked_only = 0, esmm = 1, ips = 2, doubly_robust = 3 };

namespace detail {

inline double softplus(double z) {
  return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
}

/// log(1 − e^a) for a < 0 (Mächler's log1mexp).
inline double log1mexp(double a) {
  return a > -0.6931471805599453 ? std::log(-std::expm1(a)) : std::log1p(-std::exp(a));
}

/// BCE of the product σ(zc)·σ(zv) against r, and its gradients.
inline double product_bce(double zc, double zv, double r, double& dzc, double& dzv) {
  const double log_pq = std::min(-softplus(-zc) - softplus(-zv), -1e-12);
  const double log_1mpq = log1mexp(log_pq);
  const double pq = std::exp(log_pq);
  const double one_minus_pq = std::exp(log_1mpq);
  const double common = (pq - r) / one_minus_pq;
  dzc = common * sigmoid(-zc);
  dzv = common * sigmoid(-zv);
  return -(r * log_pq + (1.0 - r) * log_1mpq);
}

/// AUC, log-loss and calibration of probabilities p against 0/1 labels y on the rows with
/// `use` true; NaN where the rows lack a class.
struct BinaryScore {
  double log_loss = std::numeric_limits<double>::quiet_NaN();
  double auc = std::numeric_limits<double>::quiet_NaN();
  double calibration = std::numeric_limits<double>::quiet_NaN();
};

inline BinaryScore score_binary(const std::vector<double>& p, const std::vector<double>& y,
                                const std::vector<double>& w) {
  BinaryScore s;
  double pos = 0.0, neg = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) (y[i] == 1.0 ? pos : neg) += w[i];
  if (!(pos > 0.0 && neg > 0.0)) return s;
  const Eigen::Map<const Eigen::VectorXd> pm(p.data(), static_cast<Index>(p.size()));
  const Eigen::Map<const Eigen::VectorXd> ym(y.data(), static_cast<Index>(y.size()));
  const Eigen::Map<const Eigen::VectorXd> wm(w.data(), static_cast<Index>(w.size()));
  binary_metrics(pm, ym, wm, s.log_loss, s.auc, s.calibration);
  return s;
}

/// Record = the mean over the scored tasks (NaN-free ones).
inline void record_mean(const std::vector<BinaryScore>& scores, const std::vector<double>& mse,
                        EpochRecord& record) {
  double loss = 0.0, auc = 0.0, calibration = 0.0;
  Index n_loss = 0, n_auc = 0, n_cal = 0;
  for (const auto& s : scores) {
    if (std::isfinite(s.log_loss)) loss += s.log_loss, ++n_loss;
    if (std::isfinite(s.auc)) auc += s.auc, ++n_auc;
    if (std::isfinite(s.calibration)) calibration += s.calibration, ++n_cal;
  }
  for (double e : mse) loss += e, ++n_loss;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  record.validation_log_loss = n_loss > 0 ? loss / static_cast<double>(n_loss) : nan;
  record.validation_auc = n_auc > 0 ? auc / static_cast<double>(n_auc) : nan;
  record.validation_calibration_ratio = n_cal > 0 ? calibration / static_cast<double>(n_cal) : nan;
}

}  // namespace detail

/// Independent per-task losses (see the file comment). Validation: the mean over tasks of the
/// log-loss (MSE for continuous tasks), AUC and calibration ratio.
struct TaskObjective {
  std::vector<std::uint8_t> binary;  ///< per task: 1 = BCE, 0 = squared error
  std::vector<double> task_weight;   ///< λ_t

  using Constants = std::vector<float>;  ///< per task: 1 / Σ (weight · mask) over the batch
  Index num_outputs() const { return static_cast<Index>(binary.size()); }
  Constants batch_constants(const BatchLabels& b) const {
    const Index T = num_outputs();
    std::vector<double> total(static_cast<std::size_t>(T), 0.0);
    for (Index i = 0; i < b.rows; ++i)
      for (Index t = 0; t < T; ++t)
        total[static_cast<std::size_t>(t)] += static_cast<double>(b.weight[i]) * b.mask[i * T + t];
    Constants c(static_cast<std::size_t>(T));
    for (std::size_t t = 0; t < c.size(); ++t)
      c[t] = total[t] > 0.0 ? static_cast<float>(task_weight[t] / total[t]) : 0.0f;
    return c;
  }
  double block(const Constants& scale, const BatchLabels& b, const float* z, float* dz) const {
    const Index T = num_outputs();
    double loss = 0.0;
    for (Index i = 0; i < b.rows; ++i) {
      for (Index t = 0; t < T; ++t) {
        const Index at = i * T + t;
        if (b.mask[at] == 0.0f) {
          dz[at] = 0.0f;
          continue;
        }
        const double w = b.weight[i];
        const double lambda = task_weight[static_cast<std::size_t>(t)];
        double gradient;
        if (binary[static_cast<std::size_t>(t)]) {
          loss += lambda * w * bce_with_logits(z[at], b.label[at]);
          gradient = bce_with_logits_gradient(z[at], b.label[at]);
        } else {
          const double e = static_cast<double>(z[at]) - b.label[at];
          loss += lambda * w * e * e;
          gradient = 2.0 * e;
        }
        dz[at] = static_cast<float>(w * gradient) * scale[static_cast<std::size_t>(t)];
      }
    }
    return loss;
  }
  void evaluate(const Eigen::Ref<const RowMatrixXf>& z, const TrainingSet& set,
                EpochRecord& record) const {
    const Index T = num_outputs();
    std::vector<detail::BinaryScore> scores;
    std::vector<double> mse;
    for (Index t = 0; t < T; ++t) {
      std::vector<double> p, y, w;
      for (Index i = 0; i < set.num_rows(); ++i) {
        if (set.mask != nullptr && set.mask[i * T + t] == 0.0f) continue;
        const bool is_binary = binary[static_cast<std::size_t>(t)] != 0;
        p.push_back(is_binary ? sigmoid(z(i, t)) : z(i, t));
        y.push_back(set.labels[i * T + t]);
        w.push_back(set.weights != nullptr ? set.weights[i] : 1.0);
      }
      if (binary[static_cast<std::size_t>(t)]) {
        scores.push_back(detail::score_binary(p, y, w));
      } else {
        double sum = 0.0, total = 0.0;
        for (std::size_t i = 0; i < p.size(); ++i) sum += w[i] * (p[i] - y[i]) * (p[i] - y[i]);
        for (double wi : w) total += wi;
        if (total > 0.0) mse.push_back(sum / total);
      }
    }
    detail::record_mean(scores, mse, record);
  }
};

/// The funnel losses (see the file comment). Validation: the mean over click (pCTR) and
/// click ∧ conversion (pCTCVR = pCTR·pCVR) of log-loss, AUC and calibration ratio.
struct FunnelObjective {
  FunnelLoss loss = FunnelLoss::esmm;
  double counterfactual_weight = 1.0;  ///< λ_c
  double ctcvr_weight = 1.0;           ///< λ_g
  double propensity_floor = 0.01;

  using Constants = float;  ///< 1 / Σ batch weights
  Index num_outputs() const { return loss == FunnelLoss::doubly_robust ? 3 : 2; }
  float batch_constants(const BatchLabels& b) const { return BinaryObjective().batch_constants(b); }

  double block(float scale, const BatchLabels& b, const float* z, float* dz) const {
    const Index T = num_outputs();
    double total = 0.0;
    for (Index i = 0; i < b.rows; ++i) {
      const double w = b.weight[i];
      const double c = b.label[i * 2];
      const double r = b.label[i * 2 + 1];
      const double zc = z[i * T];
      const double zv = z[i * T + 1];
      double dzc = bce_with_logits_gradient(zc, c);
      double dzv = 0.0;
      double dzi = 0.0;
      double l = bce_with_logits(zc, c);
      if (loss == FunnelLoss::clicked_only) {
        l += c * bce_with_logits(zv, r);
        dzv = c * bce_with_logits_gradient(zv, r);
      } else {
        double gc = 0.0, gv = 0.0;
        l += ctcvr_weight * detail::product_bce(zc, zv, r, gc, gv);
        dzc += ctcvr_weight * gc;
        dzv += ctcvr_weight * gv;
        if (loss != FunnelLoss::esmm) {
          const double inverse = c / std::max(sigmoid(zc), propensity_floor);
          if (loss == FunnelLoss::ips) {
            l += counterfactual_weight * inverse * bce_with_logits(zv, r);
            dzv += counterfactual_weight * inverse * bce_with_logits_gradient(zv, r);
          } else {
            const double zi = z[i * T + 2];
            const double imputed = sigmoid(zi);
            const double e = bce_with_logits(zv, r);
            const double e_hat = bce_with_logits(zv, imputed);
            l += counterfactual_weight * (e_hat + inverse * (e - e_hat));
            dzv += counterfactual_weight * ((sigmoid(zv) - imputed) + inverse * (imputed - r));
            const double residual = (imputed - r) * zv;
            l += inverse * residual * residual;
            dzi = inverse * 2.0 * (imputed - r) * zv * zv * imputed * (1.0 - imputed);
          }
        }
      }
      total += w * l;
      dz[i * T] = static_cast<float>(w * dzc) * scale;
      dz[i * T + 1] = static_cast<float>(w * dzv) * scale;
      if (T == 3) dz[i * T + 2] = static_cast<float>(w * dzi) * scale;
    }
    return total;
  }

  void evaluate(const Eigen::Ref<const RowMatrixXf>& z, const TrainingSet& set,
                EpochRecord& record) const {
    const Index n = set.num_rows();
    std::vector<double> pctr(static_cast<std::size_t>(n)), pctcvr(pctr.size()), click(pctr.size()),
        conversion(pctr.size()), w(pctr.size());
    for (Index i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      pctr[u] = sigmoid(z(i, 0));
      pctcvr[u] = pctr[u] * sigmoid(z(i, 1));
      click[u] = set.labels[i * 2];
      conversion[u] = set.labels[i * 2 + 1];
      w[u] = set.weights != nullptr ? set.weights[i] : 1.0;
    }
    detail::record_mean(
        {detail::score_binary(pctr, click, w), detail::score_binary(pctcvr, conversion, w)}, {},
        record);
  }
};

}  // namespace tailor::ctr
