// tailor/ctr/sparse_features.hpp — multi-field sparse rows (CSR over (field, table row) entries)
// and CtrData, the validated training set of the CTR models.
//
// Row i's entries are [row_ptr[i], row_ptr[i+1]); each has a field, a global row of the shared
// table (FeatureSpace::offset(field) + local row) and, optionally, a value (libSVM weights,
// numeric fields); no values means every value is 1 (one-hot). Entries of one row are sorted by
// field; a multi-valued field may repeat. When every row has exactly one entry per field in field
// order, `fixed_fields()` is true and kernels read `index` as an n x F row-major array.
// Memory: 4 + 2 bytes per entry (+ 4 with values) and 8 bytes per row.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ctr/feature_space.hpp"

namespace tailor::ctr {

/// One encoded row for single-row serving: entries' table rows and (optional) values.
struct SparseRow {
  std::span<const std::uint32_t> index;
  std::span<const float> value = {};  ///< empty: every value is 1
};

/// CSR storage of encoded rows (see the file comment).
struct SparseFeatures {
  std::vector<std::int64_t> row_ptr{0};  ///< n + 1 offsets into the entry arrays
  std::vector<std::uint16_t> field;      ///< nnz: the entry's field
  std::vector<std::uint32_t> index;      ///< nnz: the entry's row of the shared table
  std::vector<float> value;              ///< nnz, or empty = all values 1

  Index num_rows() const { return static_cast<Index>(row_ptr.size()) - 1; }
  Index nnz() const { return static_cast<Index>(index.size()); }
  bool has_values() const { return !value.empty(); }
  /// Row i as a SparseRow (views into these arrays), e.g. for predict_one.
  SparseRow row(Index i) const {
    const auto begin = static_cast<std::size_t>(row_ptr[static_cast<std::size_t>(i)]);
    const auto count = static_cast<std::size_t>(row_ptr[static_cast<std::size_t>(i) + 1]) - begin;
    return {std::span<const std::uint32_t>(index.data() + begin, count),
            value.empty() ? std::span<const float>()
                          : std::span<const float>(value.data() + begin, count)};
  }
  float value_at(std::int64_t entry) const {
    return value.empty() ? 1.0f : value[static_cast<std::size_t>(entry)];
  }

  /// Appends one entry to the row being built (call end_row() after the row's entries).
  void push(Index f, std::uint32_t table_row, float entry_value = 1.0f) {
    // Values are stored only once some value differs from 1; earlier entries then get 1.
    const bool store = !value.empty() || entry_value != 1.0f;
    if (store && value.size() != index.size()) value.assign(index.size(), 1.0f);
    field.push_back(static_cast<std::uint16_t>(f));
    index.push_back(table_row);
    if (store) value.push_back(entry_value);
  }
  void end_row() { row_ptr.push_back(static_cast<std::int64_t>(index.size())); }

  /// Encodes one raw row (one cell per field, in field order) with `space` and appends it.
  void append_raw_row(const FeatureSpace& space, std::span<const std::string_view> cells) {
    if (static_cast<Index>(cells.size()) != space.num_fields()) {
      raise<ShapeMismatch>(
          "SparseFeatures::append_raw_row: number of cells = {}, expected {} (one "
          "per field)",
          cells.size(), space.num_fields());
    }
    for (std::size_t f = 0; f < cells.size(); ++f) {
      space.encode_cell(static_cast<Index>(f), cells[f],
                        [&](std::uint32_t row) { push(static_cast<Index>(f), row); });
    }
    end_row();
  }

  /// The rows `rows` (in that order) as a new SparseFeatures.
  SparseFeatures select(std::span<const Index> rows) const {
    SparseFeatures out;
    out.row_ptr.reserve(rows.size() + 1);
    for (Index r : rows) {
      const auto begin = row_ptr[static_cast<std::size_t>(r)];
      const auto end = row_ptr[static_cast<std::size_t>(r) + 1];
      out.field.insert(out.field.end(), field.begin() + begin, field.begin() + end);
      out.index.insert(out.index.end(), index.begin() + begin, index.begin() + end);
      if (!value.empty())
        out.value.insert(out.value.end(), value.begin() + begin, value.begin() + end);
      out.end_row();
    }
    return out;
  }
};

namespace detail {

/// Throws unless `features` is well-formed for `space`: offsets, fields sorted within rows,
/// table rows inside their field's range, finite values, single-valued fields at most once.
/// Returns whether the rows have exactly one entry per field in field order.
inline bool validate_features(std::string_view context, const FeatureSpace& space,
                              const SparseFeatures& x) {
  const auto nnz = static_cast<std::int64_t>(x.index.size());
  if (x.row_ptr.empty() || x.row_ptr.front() != 0 || x.row_ptr.back() != nnz) {
    raise<ShapeMismatch>("{}: row_ptr must start at 0 and end at nnz = {} (has {} offsets)",
                         context, nnz, x.row_ptr.size());
  }
  if (x.field.size() != x.index.size()) {
    raise<ShapeMismatch>("{}: field has {} entries, expected {} (the entries of index)", context,
                         x.field.size(), x.index.size());
  }
  if (!x.value.empty() && x.value.size() != x.index.size()) {
    raise<ShapeMismatch>("{}: value has {} entries, expected {} (the entries of index) or 0",
                         context, x.value.size(), x.index.size());
  }
  const Index num_fields = space.num_fields();
  bool fixed = true;
  for (Index i = 0; i < x.num_rows(); ++i) {
    const auto begin = x.row_ptr[static_cast<std::size_t>(i)];
    const auto end = x.row_ptr[static_cast<std::size_t>(i) + 1];
    if (end < begin) {
      raise<DataError>("{}: row_ptr[{}] = {} > row_ptr[{}] = {}, expected non-decreasing offsets",
                       context, i, begin, i + 1, end);
    }
    if (end - begin != num_fields) fixed = false;
    Index previous_field = -1;
    for (auto e = begin; e < end; ++e) {
      const auto u = static_cast<std::size_t>(e);
      const Index f = x.field[u];
      if (f >= num_fields) {
        raise<DataError>("{}: row {}: field {} does not exist, expected a field in [0, {})",
                         context, i, f, num_fields);
      }
      if (f < previous_field || (f == previous_field && !space.field(f).multi_valued)) {
        raise<DataError>(
            "{}: row {}: field '{}' ({}) {}, expected entries sorted by field, each single-valued "
            "field at most once",
            context, i, space.field(f).name, f, f < previous_field ? "out of order" : "repeated");
      }
      if (f != e - begin) fixed = false;
      previous_field = f;
      const Index row = x.index[u];
      const Index lo = space.offset(f);
      const Index hi = space.offset(f + 1);
      if (row < lo || row >= hi) {
        raise<DataError>(
            "{}: row {}: field '{}' has table row {} (id {}), expected a row in [{}, {}) (ids 0 "
            "to {})",
            context, i, space.field(f).name, row, row - lo, lo, hi, hi - lo - 1);
      }
      if (!x.value.empty() && !std::isfinite(x.value[u])) {
        raise<DataError>("{}: row {}: field '{}' has value {}, expected a finite value", context, i,
                         space.field(f).name, x.value[u]);
      }
    }
  }
  return fixed;
}

/// Throws unless `weights` is empty or has n finite values >= 0 with a positive total.
inline void check_row_weights(std::string_view context, const Eigen::VectorXf& weights, Index n) {
  if (weights.size() == 0) return;
  check_rows(context, "weights", weights.size(), n, "the rows of the features");
  for (Index i = 0; i < n; ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0.0f) {
      raise<DataError>("{}: weights[{}] = {}, expected a finite value >= 0", context, i,
                       weights[i]);
    }
  }
  if (!(weights.cast<double>().sum() > 0.0)) {
    raise<DataError>("{}: the weights sum to 0, expected a positive total", context);
  }
}

}  // namespace detail

/// A space of integer fields `names[f]` with ids in [0, cardinalities[f]) (plus each field's OOV
/// row): the space of pre-indexed data such as generated worlds or id columns of a CSV.
inline FeatureSpace integer_space(std::span<const std::string> names,
                                  std::span<const Index> cardinalities) {
  check_param(names.size() == cardinalities.size(), "integer_space", "number of names",
              names.size(), fmt::format("{} (one per cardinality)", cardinalities.size()));
  std::vector<FieldSpec> specs;
  for (std::size_t f = 0; f < names.size(); ++f) {
    specs.push_back(
        {.name = names[f], .kind = FieldKind::integer, .cardinality = cardinalities[f]});
  }
  return FeatureSpaceBuilder(std::move(specs)).build();
}

/// One-hot rows from an n x F matrix of integer ids (any Eigen integer or floating matrix; field
/// f = column f of an integer-field space): an id outside [0, cardinality) goes to the field's
/// OOV row, as FeatureSpace::encode does. The rows have fixed fields.
template <class Ids>
SparseFeatures encode_ids(const FeatureSpace& space, const Eigen::DenseBase<Ids>& ids) {
  const auto& m = ids.derived();
  check_param(m.cols() == space.num_fields(), "encode_ids", "number of id columns", m.cols(),
              fmt::format("{} (one per field)", space.num_fields()));
  for (Index f = 0; f < space.num_fields(); ++f) {
    if (space.field(f).kind != FieldKind::integer) {
      raise<InvalidArgument>("encode_ids: field '{}' is not an integer field", space.field(f).name);
    }
  }
  SparseFeatures x;
  const Index n = m.rows();
  const Index num_fields = space.num_fields();
  x.row_ptr.resize(static_cast<std::size_t>(n) + 1);
  x.field.resize(static_cast<std::size_t>(n * num_fields));
  x.index.resize(static_cast<std::size_t>(n * num_fields));
  for (Index i = 0; i <= n; ++i) x.row_ptr[static_cast<std::size_t>(i)] = i * num_fields;
  for (Index i = 0; i < n; ++i) {
    for (Index f = 0; f < num_fields; ++f) {
      const double id = static_cast<double>(m(i, f));
      const Index oov = space.field(f).oov;
      const Index local = id >= 0.0 && id < static_cast<double>(oov) ? static_cast<Index>(id) : oov;
      const auto e = static_cast<std::size_t>(i * num_fields + f);
      x.field[e] = static_cast<std::uint16_t>(f);
      x.index[e] = static_cast<std::uint32_t>(space.offset(f) + local);
    }
  }
  return x;
}

/// A validated CTR training set: the feature space, encoded rows, click labels (0/1) and
/// optional sample weights. Owns its data (move it in); checked once, so models don't re-check.
class CtrData {
 public:
  CtrData(FeatureSpace space, SparseFeatures features, Eigen::VectorXf click,
          Eigen::VectorXf weights = {})
      : space_(std::move(space)),
        features_(std::move(features)),
        click_(std::move(click)),
        weights_(std::move(weights)) {
    constexpr std::string_view kContext = "CtrData";
    const Index n = features_.num_rows();
    check_nonempty(kContext, "features", n);
    fixed_fields_ = detail::validate_features(kContext, space_, features_);
    check_rows(kContext, "click", click_.size(), n, "the rows of the features");
    Index clicks = 0;
    for (Index i = 0; i < n; ++i) {
      const float y = click_[i];
      if (y != 0.0f && y != 1.0f) {
        raise<DataError>("{}: click[{}] = {}, expected 0 or 1", kContext, i, y);
      }
      clicks += y == 1.0f ? 1 : 0;
    }
    if (clicks == 0 || clicks == n) {
      raise<DataError>("{}: every click is {} ({} rows), expected both classes", kContext,
                       clicks == 0 ? 0 : 1, n);
    }
    num_clicks_ = clicks;
    detail::check_row_weights(kContext, weights_, n);
  }

  const FeatureSpace& space() const { return space_; }
  const SparseFeatures& features() const { return features_; }
  const Eigen::VectorXf& click() const { return click_; }
  bool has_weights() const { return weights_.size() > 0; }
  /// The sample weights, or empty (= unit weights).
  const Eigen::VectorXf& weights() const { return weights_; }
  float weight(Index i) const { return weights_.size() > 0 ? weights_[i] : 1.0f; }
  Index num_rows() const { return features_.num_rows(); }
  Index num_clicks() const { return num_clicks_; }
  /// Every row has exactly one entry per field, in field order.
  bool fixed_fields() const { return fixed_fields_; }
  /// The (weighted) click rate.
  double base_rate() const {
    if (weights_.size() == 0)
      return static_cast<double>(num_clicks_) / static_cast<double>(num_rows());
    const Eigen::VectorXd w = weights_.cast<double>();
    return w.dot(click_.cast<double>()) / w.sum();
  }

 private:
  FeatureSpace space_;
  SparseFeatures features_;
  Eigen::VectorXf click_;
  Eigen::VectorXf weights_;
  Index num_clicks_ = 0;
  bool fixed_fields_ = false;
};

}  // namespace tailor::ctr
