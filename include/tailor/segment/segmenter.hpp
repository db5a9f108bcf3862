// tailor/segment/segmenter.hpp — the segmentation pipeline as one fitted model:
//   optional column scaling → NMF (X ≈ W·H) → factor scores → optional row normalization →
//   K-Means on the scores.
//
// Scaling and NMF: NMF needs X ≥ 0, so before NMF only sign-preserving scalings are allowed:
//   none     X as is;
//   max_abs  x_ij / max_i |x_ij| (columns in [0, 1], zeros stay zeros; an all-zero column is
//            left as is). Puts spend, counts and shares on one scale.
//   standard (x_ij − mean_j) / sd_j creates negative entries and is therefore only allowed with
//            use_nmf = false (K-Means directly on standardized features).
// Factor scores are nmf.transform(X_scaled) with H fixed (not the W of the alternating fit), so
// fit labels equal predict() on the training rows, row by row. Row normalization of the scores:
//   none, l1 (each row sums to 1: the mix of factors, ignoring volume) or l2 (unit length).
// Costs: one NMF fit, one transform, one K-Means fit; predict is O(n·p·k + n·k²·sweeps).
#pragma once

#include <cmath>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"

namespace tailor::segment {

enum class Scaling : std::uint8_t { none = 0, max_abs = 1, standard = 2 };
enum class ScoreNormalization : std::uint8_t { none = 0, l1 = 1, l2 = 2 };

struct SegmenterParams {
  Scaling scaling = Scaling::max_abs;  ///< see the header: standard only without NMF
  bool use_nmf = true;                 ///< false: K-Means on the scaled features
  NmfParams nmf = {.num_components = 4};
  ScoreNormalization normalize_scores = ScoreNormalization::none;
  KMeansParams kmeans = {.num_clusters = 5};
};

/// Fitted pipeline; immutable, const methods are thread-safe.
class SegmenterModel {
 public:
  SegmenterModel() = default;

  /// Segment of every training row.
  const std::vector<Index>& labels() const { return kmeans_.labels(); }
  /// K-Means inertia in the clustering space.
  double inertia() const { return kmeans_.inertia(); }
  const KMeansModel& kmeans() const { return kmeans_; }
  /// The NMF stage (throws InvalidArgument when the pipeline was fitted without NMF).
  const NmfModel& nmf() const {
    if (!nmf_) {
      raise<InvalidArgument>("SegmenterModel::nmf: fitted with use_nmf = false");
    }
    return *nmf_;
  }
  bool has_nmf() const { return nmf_.has_value(); }
  const Vector& scale_offset() const { return offset_; }
  const Vector& scale_divisor() const { return divisor_; }

  /// Scaled features of new rows.
  Matrix scale(const MatrixRef& X) const {
    if (X.cols() != offset_.size()) {
      raise<ShapeMismatch>("SegmenterModel: X has {} columns, expected {} (the model's features)",
                           X.cols(), offset_.size());
    }
    check_finite("SegmenterModel", "X", X);
    return ((X.rowwise() - offset_.transpose()).array().rowwise() / divisor_.transpose().array())
        .matrix();
  }

  /// Non-negative factor scores of new rows (n × factors), before row normalization.
  Matrix factor_scores(const MatrixRef& X) const {
    const Matrix scaled = scale(X);
    if (!nmf_) return scaled;
    return nmf_->transform(scaled);
  }

  /// The space K-Means clusters in: factor scores after row normalization.
  Matrix embed(const MatrixRef& X) const { return normalize(factor_scores(X)); }

  /// Segment of each new row.
  std::vector<Index> predict(const MatrixRef& X) const { return kmeans_.predict(embed(X)); }

  /// Writes the model (type "segment::SegmenterModel" v2; tailor::save): the scaling, then the
  /// NMF (if any) and K-Means models, each with its own header.
  void save(BinaryWriter& w) const {
    w.write_header(kTypeTag, kVersion);
    w.write(scaling_);
    w.write(normalization_);
    w.write(offset_);
    w.write(divisor_);
    w.write(nmf_.has_value());
    if (nmf_) nmf_->save(w);
    kmeans_.save(w);
  }
  /// Reads version 2, or version 1 (nested payloads without headers); corrupt or foreign data
  /// throws FormatError.
  static SegmenterModel load(BinaryReader& r) {
    const std::uint32_t version = r.read_header(kTypeTag, kVersion);
    SegmenterModel m;
    m.scaling_ = r.read<Scaling>("scaling");
    m.normalization_ = r.read<ScoreNormalization>("normalize_scores");
    m.offset_ = r.read<Vector>("scale_offset");
    m.divisor_ = r.read<Vector>("scale_divisor");
    if (version == 1) {
      if (r.read<bool>("use_nmf")) m.nmf_ = NmfModel::read_payload(r, 1);
      m.kmeans_ = KMeansModel::read_payload(r, 1);
    } else {
      if (r.read<bool>("use_nmf")) m.nmf_ = NmfModel::load(r);
      m.kmeans_ = KMeansModel::load(r);
    }
    const Index space = m.nmf_ ? m.nmf_->num_components() : m.offset_.size();
    if (static_cast<std::uint8_t>(m.scaling_) > 2 ||
        static_cast<std::uint8_t>(m.normalization_) > 2 || m.offset_.size() != m.divisor_.size() ||
        (m.nmf_ && m.nmf_->num_features() != m.offset_.size()) ||
        m.kmeans_.centers().cols() != space) {
      raise<FormatError>("{}: inconsistent segment::SegmenterModel payload", r.context());
    }
    if (!m.offset_.allFinite() || !m.divisor_.allFinite() || (m.divisor_.array() <= 0.0).any()) {
      raise<FormatError>("{}: segment::SegmenterModel has non-finite offsets or divisors <= 0",
                         r.where());
    }
    return m;
  }

 private:
  friend class Segmenter;
  static constexpr std::string_view kTypeTag = "segment::SegmenterModel";
  static constexpr std::uint32_t kVersion = 2;

  Matrix normalize(Matrix scores) const {
    if (normalization_ == ScoreNormalization::none) return scores;
    for (Index i = 0; i < scores.rows(); ++i) {
      const double norm = normalization_ == ScoreNormalization::l1 ? scores.row(i).cwiseAbs().sum()
                                                                   : scores.row(i).norm();
      if (norm > 0.0) scores.row(i) /= norm;
    }
    return scores;
  }

  Scaling scaling_ = Scaling::none;
  ScoreNormalization normalization_ = ScoreNormalization::none;
  Vector offset_, divisor_;
  std::optional<NmfModel> nmf_;
  KMeansModel kmeans_;
};

/// The segmentation pipeline estimator.
class Segmenter {
 public:
  explicit Segmenter(SegmenterParams params = {}) : params_(params) {
    constexpr std::string_view c = "Segmenter";
    check_param(static_cast<std::uint8_t>(params_.scaling) <= 2, c, "scaling",
                static_cast<int>(params_.scaling), "none, max_abs or standard");
    check_param(static_cast<std::uint8_t>(params_.normalize_scores) <= 2, c, "normalize_scores",
                static_cast<int>(params_.normalize_scores), "none, l1 or l2");
    if (params_.use_nmf && params_.scaling == Scaling::standard) {
      raise<InvalidArgument>(
          "Segmenter: scaling = standard, expected none or max_abs before NMF (standardizing "
          "creates negative entries; set use_nmf = false to cluster standardized features)");
    }
    // Validate the stages' parameters now rather than at fit time.
    if (params_.use_nmf) (void)Nmf(params_.nmf);
    (void)KMeans(params_.kmeans);
  }

  const SegmenterParams& params() const { return params_; }

  /// Fits the pipeline on X (n × p; finite, and ≥ 0 when use_nmf).
  SegmenterModel fit(const MatrixRef& X) const {
    constexpr std::string_view c = "Segmenter";
    if (params_.use_nmf) {
      detail::check_nmf_input(c, X);
    } else {
      check_nonempty(c, "X", X.rows());
      check_finite(c, "X", X);
    }
    SegmenterModel model;
    model.scaling_ = params_.scaling;
    model.normalization_ = params_.normalize_scores;
    const Index p = X.cols();
    model.offset_ = Vector::Zero(p);
    model.divisor_ = Vector::Ones(p);
    for (Index j = 0; j < p; ++j) {
      if (params_.scaling == Scaling::max_abs) {
        const double m = X.col(j).cwiseAbs().maxCoeff();
        if (m > 0.0) model.divisor_[j] = m;
      } else if (params_.scaling == Scaling::standard) {
        const double mean = X.col(j).mean();
        const double sd =
            std::sqrt((X.col(j).array() - mean).square().sum() / static_cast<double>(X.rows()));
        model.offset_[j] = mean;
        if (sd > 0.0) model.divisor_[j] = sd;
      }
    }
    const Matrix scaled = model.scale(X);
    if (params_.use_nmf) model.nmf_ = Nmf(params_.nmf).fit(scaled);
    const Matrix space = model.normalize(model.nmf_ ? model.nmf_->transform(scaled) : scaled);
    model.kmeans_ = KMeans(params_.kmeans).fit(space);
    return model;
  }

 private:
  SegmenterParams params_;
};

}  // namespace tailor::segment
