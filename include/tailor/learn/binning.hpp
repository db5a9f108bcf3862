// tailor/learn/binning.hpp — quantile binning of features into at most 4096 bins (2-byte codes;
// gradient boosting keeps ≤ 256 and its own 1-byte codes).
//
// Histogram tree learners (forests, boosting; DESIGN §5) bin every feature once and then search
// splits over bin boundaries instead of re-sorting rows at each node (LightGBM: Ke et al.,
// NeurIPS 2017; scikit-learn's HistGradientBoosting). For feature j, BinMapper stores increasing
// upper bounds u_j(0) < u_j(1) < ... < u_j(B_j − 1) = +∞, and value v falls in bin
//   b(v) = min{ b : v ≤ u_j(b) },
// so the split "bin ≤ b" is exactly "x ≤ u_j(b)" on raw values, and a fitted tree can compare
// raw test values with u_j(b) without binning them.
// Bounds: with d ≤ max_bins distinct values v_1 < ... < v_d, one bin per value and u(k) is the
// midpoint (v_k + v_{k+1})/2. Otherwise bins hold about equal numbers of (sampled) rows: walk the
// sorted distinct values with their counts and close a bin at the first value where the
// cumulative count reaches the next target k·m/max_bins (k = 1..max_bins−1), again at the
// midpoint to the next distinct value; a heavy tie then spans several targets but one bin.
// Quantiles are computed on a seeded subsample (tailor::Rng) of max_sample_rows rows when n is
// larger, as scikit-learn does (subsample = 2·10⁵).
// Complexity: fit O(p·m log m) for m = min(n, max_sample_rows); transform O(n·p·log B);
// BinnedMatrix memory 2·n·p bytes, column-major so each feature's codes are contiguous.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::learn {

/// A bin number (column codes of BinnedMatrix).
using BinCode = std::uint16_t;
/// Most bins per feature (the tree engine keeps a node's bin in 12 bits).
inline constexpr Index kMaxBins = 4096;

/// Throws InvalidArgument unless 2 <= max_bins <= kMaxBins ("{context}: max_bins = 1, expected a
/// value in [2, 4096]"); every binned learner's options check uses it.
inline void check_max_bins(std::string_view context, Index max_bins,
                           std::string_view name = "max_bins") {
  check_param(max_bins >= 2 && max_bins <= kMaxBins, context, name, max_bins,
              "a value in [2, 4096]");
}

/// Settings of BinMapper::fit.
struct BinningParams {
  Index max_bins = 256;             ///< bins per feature, 2..kMaxBins (4096)
  Index max_sample_rows = 200'000;  ///< quantiles computed on a seeded subsample above this
  std::uint64_t seed = 0;           ///< seed of that subsample
  Index num_threads = 1;            ///< features are binned in parallel (0 = all cores); the
                                    ///< bins are the same for every value
};

class BinnedMatrix;

namespace detail {

/// Sorts finite doubles ascending: LSD radix sort on order-preserving 64-bit keys, 11 bits
/// per pass, a pass skipped when every key has the same digit there (the sign and exponent
/// bits of most features). O(n) with six passes at most; about 3× faster than std::sort at
/// n = 10⁵, which made quantile binning 15% of a boosting fit. -0.0 and +0.0 may come out in
/// either order; they compare equal, so nothing downstream can tell.
inline void radix_sort(std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 256 || n > std::numeric_limits<std::uint32_t>::max()) {
    std::sort(values.begin(), values.end());
    return;
  }
  constexpr int kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::uint64_t> keys(n);
  std::vector<std::uint64_t> other(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &values[i], sizeof bits);
    // Negative values: flip every bit (larger magnitude sorts lower); others: set the sign.
    keys[i] = (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
  }
  // The digit counts of all passes in one read of the keys.
  constexpr int kPasses = (64 + kBits - 1) / kBits;
  std::vector<std::uint32_t> counts(kPasses * kBuckets, 0);
  for (const std::uint64_t k : keys) {
    for (int pass = 0; pass < kPasses; ++pass) {
      ++counts[pass * kBuckets + ((k >> (pass * kBits)) & (kBuckets - 1))];
    }
  }
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = pass * kBits;
    std::uint32_t* count = counts.data() + pass * kBuckets;
    if (count[(keys[0] >> shift) & (kBuckets - 1)] == n) continue;  // one digit: nothing to do
    std::uint32_t total = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::uint32_t here = count[b];
      count[b] = total;
      total += here;
    }
    for (const std::uint64_t k : keys) other[count[(k >> shift) & (kBuckets - 1)]++] = k;
    keys.swap(other);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    const std::uint64_t bits = (k >> 63) != 0 ? k & ~(std::uint64_t{1} << 63) : ~k;
    std::memcpy(&values[i], &bits, sizeof bits);
  }
}

}  // namespace detail

/// Per-feature bin boundaries (see the header comment for the definition of the bins).
class BinMapper {
 public:
  /// Quantile bins per feature; one bin per distinct value when a feature has <= max_bins
  /// distinct values. X must be non-empty and finite.
  static BinMapper fit(const MatrixRef& X, const BinningParams& params = {});

  Index num_features() const { return static_cast<Index>(offsets_.size()) - 1; }

  /// Number of bins of `feature`, 1..max_bins (1 for a constant feature).
  Index num_bins(Index feature) const {
    check_feature(feature);
    return offsets_[static_cast<std::size_t>(feature) + 1] -
           offsets_[static_cast<std::size_t>(feature)];
  }

  /// Largest number of bins over the features.
  Index max_num_bins() const {
    Index most = 0;
    for (Index j = 0; j < num_features(); ++j) most = std::max(most, num_bins(j));
    return most;
  }

  /// u_j(b): bin b holds values v with u_j(b−1) < v <= u_j(b); the last bound is +infinity.
  double upper_bound(Index feature, Index bin) const {
    check_feature(feature);
    if (bin < 0 || bin >= num_bins(feature)) {
      raise<InvalidArgument>("BinMapper::upper_bound: bin = {}, expected 0 to {}", bin,
                             num_bins(feature) - 1);
    }
    return bounds_[static_cast<std::size_t>(offsets_[static_cast<std::size_t>(feature)] + bin)];
  }

  /// The bin of `value` for `feature` (binary search over the upper bounds). NaN is rejected.
  BinCode bin_of(Index feature, double value) const {
    check_feature(feature);
    if (std::isnan(value)) {
      raise<DataError>("BinMapper::bin_of: feature {} value is nan, expected a number", feature);
    }
    return bin_unchecked(feature, value);
  }

  /// Bins every column of X (columns in parallel, num_threads 0 = all cores). X must have
  /// num_features() columns and finite values.
  BinnedMatrix transform(const MatrixRef& X, Index num_threads = 0) const;

  /// Versioned binary save/load (core/serialization.hpp); corrupt input throws FormatError.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    out.write(offsets_);
    out.write(bounds_);
  }
  static BinMapper load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    BinMapper mapper;
    mapper.offsets_ = in.read<std::vector<Index>>("bin offsets");
    mapper.bounds_ = in.read<std::vector<double>>("bin upper bounds");
    mapper.validate(in.context());
    return mapper;
  }

  /// bin_of without argument checks (hot loops): first b with value <= u_j(b).
  BinCode bin_unchecked(Index feature, double value) const {
    const double* first = bounds_.data() + offsets_[static_cast<std::size_t>(feature)];
    const double* last = bounds_.data() + offsets_[static_cast<std::size_t>(feature) + 1] - 1;
    // The last bound is +inf, so the search over [first, last) plus "last" always succeeds.
    return static_cast<BinCode>(std::lower_bound(first, last, value) - first);
  }

  /// Upper bounds without argument checks.
  double upper_bound_unchecked(Index feature, Index bin) const {
    return bounds_[static_cast<std::size_t>(offsets_[static_cast<std::size_t>(feature)] + bin)];
  }

 private:
  static constexpr std::string_view kTypeTag = "learn::BinMapper";
  static constexpr std::uint32_t kVersion = 1;

  void check_feature(Index feature) const {
    if (feature < 0 || feature >= num_features()) {
      raise<InvalidArgument>("BinMapper: feature = {}, expected 0 to {}", feature,
                             num_features() - 1);
    }
  }

  void validate(const std::string& context) const {
    if (offsets_.size() < 2 || offsets_.front() != 0 ||
        offsets_.back() != static_cast<Index>(bounds_.size())) {
      raise<FormatError>("{}: learn::BinMapper has inconsistent bin offsets", context);
    }
    const auto total = static_cast<Index>(bounds_.size());
    for (std::size_t j = 0; j + 1 < offsets_.size(); ++j) {
      // Range first: a corrupt offset near INT64_MIN must not reach the subtraction (overflow).
      const bool in_range = offsets_[j] >= 0 && offsets_[j] <= total && offsets_[j + 1] >= 0 &&
                            offsets_[j + 1] <= total;
      const Index count = in_range ? offsets_[j + 1] - offsets_[j] : -1;
      if (count < 1 || count > kMaxBins) {
        raise<FormatError>("{}: learn::BinMapper feature {} has {} bins, expected 1 to {}", context,
                           j, count, kMaxBins);
      }
      const double* b = bounds_.data() + offsets_[j];
      if (!std::isinf(b[count - 1]) || b[count - 1] < 0) {
        raise<FormatError>("{}: learn::BinMapper feature {} has a finite last bound", context, j);
      }
      for (Index k = 0; k + 1 < count; ++k) {
        if (!std::isfinite(b[k]) || (k > 0 && !(b[k - 1] < b[k]))) {
          raise<FormatError>("{}: learn::BinMapper feature {} bounds are not finite and increasing",
                             context, j);
        }
      }
    }
  }

  std::vector<Index> offsets_;  // bounds of feature j: bounds_[offsets_[j] .. offsets_[j+1])
  std::vector<double> bounds_;
};

/// Column-major bin codes (BinCode, 2 bytes) of a matrix, rows() × cols(), with the mapper that
/// made them.
class BinnedMatrix {
 public:
  BinnedMatrix(std::shared_ptr<const BinMapper> mapper, Index rows, std::vector<BinCode> codes)
      : mapper_(std::move(mapper)), rows_(rows), codes_(std::move(codes)) {
    check_param(mapper_ != nullptr, "BinnedMatrix", "mapper", "null", "a BinMapper");
    if (static_cast<Index>(codes_.size()) != rows_ * mapper_->num_features()) {
      raise<ShapeMismatch>("BinnedMatrix: {} codes, expected rows {} x features {}", codes_.size(),
                           rows_, mapper_->num_features());
    }
  }

  /// Fits a BinMapper on X and bins X with it.
  static BinnedMatrix build(const MatrixRef& X, const BinningParams& params = {},
                            Index num_threads = 0) {
    return BinMapper::fit(X, params).transform(X, num_threads);
  }

  Index rows() const { return rows_; }
  Index cols() const { return mapper_->num_features(); }
  /// Contiguous codes of feature j (rows() entries).
  const BinCode* column(Index j) const {
    return codes_.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(rows_);
  }
  BinCode operator()(Index i, Index j) const { return column(j)[i]; }
  const BinMapper& mapper() const { return *mapper_; }
  const std::shared_ptr<const BinMapper>& mapper_ptr() const { return mapper_; }

 private:
  std::shared_ptr<const BinMapper> mapper_;
  Index rows_ = 0;
  std::vector<BinCode> codes_;
};

inline BinMapper BinMapper::fit(const MatrixRef& X, const BinningParams& params) {
  check_max_bins("BinMapper", params.max_bins);
  check_param(params.max_sample_rows >= 1, "BinMapper", "max_sample_rows", params.max_sample_rows,
              "at least 1");
  check_nonempty("BinMapper", "X", X.rows());
  check_finite("BinMapper", "X", X);
  const Index n = X.rows();
  const Index p = X.cols();
  // Rows whose values define the quantiles: all, or a seeded subsample (sorted for locality).
  std::vector<Index> sample;
  if (n > params.max_sample_rows) {
    Rng rng(params.seed, stream::binning);
    sample = sample_without_replacement(n, params.max_sample_rows, rng);
    std::sort(sample.begin(), sample.end());
  }
  const Index m = sample.empty() ? n : static_cast<Index>(sample.size());

  // Each feature's bounds are computed independently (one task per feature), then
  // concatenated in feature order.
  std::vector<std::vector<double>> feature_bounds(static_cast<std::size_t>(p));
  parallel_for(0, p, params.num_threads, [&](Index j) {
    std::vector<double> values(static_cast<std::size_t>(m));
    for (Index k = 0; k < m; ++k) {
      values[static_cast<std::size_t>(k)] = sample.empty() ? X(k, j) : X(sample[k], j);
    }
    detail::radix_sort(values);
    std::vector<double> distinct;
    std::vector<Index> counts;
    for (double v : values) {
      if (distinct.empty() || v != distinct.back()) {
        distinct.push_back(v);
        counts.push_back(0);
      }
      ++counts.back();
    }
    std::vector<double>& bounds = feature_bounds[static_cast<std::size_t>(j)];
    // Boundary after distinct value k: the midpoint to the next value (falls back to v_k when
    // the two are adjacent doubles and the midpoint rounds up to v_{k+1}).
    auto boundary_after = [&](std::size_t k) {
      const double a = distinct[k];
      const double b = distinct[k + 1];
      const double mid = a + (b - a) / 2.0;
      return mid < b && std::isfinite(mid) ? mid : a;
    };
    const std::size_t d = distinct.size();
    if (static_cast<Index>(d) <= params.max_bins) {
      for (std::size_t k = 0; k + 1 < d; ++k) bounds.push_back(boundary_after(k));
    } else {
      // Equal-frequency bins: close a bin when the cumulative count reaches target k·m/B.
      const double per_bin = static_cast<double>(m) / static_cast<double>(params.max_bins);
      Index next_target = 1;
      Index cumulative = 0;
      Index made = 0;
      for (std::size_t k = 0; k + 1 < d && made < params.max_bins - 1; ++k) {
        cumulative += counts[k];
        if (static_cast<double>(cumulative) >= per_bin * static_cast<double>(next_target)) {
          bounds.push_back(boundary_after(k));
          ++made;
          while (next_target < params.max_bins &&
                 static_cast<double>(cumulative) >= per_bin * static_cast<double>(next_target)) {
            ++next_target;
          }
        }
      }
    }
    bounds.push_back(std::numeric_limits<double>::infinity());
  });
  BinMapper mapper;
  mapper.offsets_.assign(1, 0);
  for (const std::vector<double>& bounds : feature_bounds) {
    mapper.bounds_.insert(mapper.bounds_.end(), bounds.begin(), bounds.end());
    mapper.offsets_.push_back(static_cast<Index>(mapper.bounds_.size()));
  }
  return mapper;
}

inline BinnedMatrix BinMapper::transform(const MatrixRef& X, Index num_threads) const {
  if (X.cols() != num_features()) {
    raise<ShapeMismatch>("BinMapper::transform: X has {} columns, expected {}", X.cols(),
                         num_features());
  }
  check_finite("BinMapper::transform", "X", X);
  const Index n = X.rows();
  std::vector<BinCode> codes(static_cast<std::size_t>(n * X.cols()));
  parallel_for(0, X.cols(), num_threads, [&](Index j) {
    BinCode* out = codes.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(n);
    for (Index i = 0; i < n; ++i) out[i] = bin_unchecked(j, X(i, j));
  });
  return BinnedMatrix(std::make_shared<const BinMapper>(*this), n, std::move(codes));
}

}  // namespace tailor::learn
