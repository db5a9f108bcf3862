// tailor/ctr/multitask_data.hpp — training sets with several labels per row, for the multi-task
// and conversion models (ctr/multitask.hpp): an n × T label matrix (binary or continuous tasks),
// an optional n × T mask (0 = the row has no label for that task) and optional row weights; the
// funnel form (click, conversion) checks that a conversion follows a click.
//
// Checks, once (like CtrData): finite labels, binary tasks in {0, 1} with both classes among
// their labelled rows, masks in {0, 1} with at least one labelled row per task, weights finite
// and >= 0 with a positive total, and no label leaked into the features — a field named like a
// task, or a field with one entry per row taking exactly two table rows that coincide with a
// binary task's two classes (the leak behind published "AUC = 1.0" multi-task results, e.g. a
// label column left among the sparse features) → InvalidArgument naming the field and the task.
// Cost O(n·T + nnz); memory 4·n·T bytes per label matrix (mask likewise, when given).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/optimizers.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace tailor::ctr {

/// A task's label type: binary (BCE on a logit) or continuous (squared error on the output).
enum class TaskKind : std::uint8_t { binary = 0, continuous = 1 };

/// One task of a multi-task data set.
struct TaskSpec {
  std::string name;
  TaskKind kind = TaskKind::binary;
};

/// A validated multi-task training set (see the file comment). Owns its data (move it in).
class MultiTaskData {
 public:
  MultiTaskData(FeatureSpace space, SparseFeatures features, RowMatrixXf labels,
                std::vector<TaskSpec> tasks, RowMatrixXf mask = {}, Eigen::VectorXf weights = {})
      : space_(std::move(space)),
        features_(std::move(features)),
        labels_(std::move(labels)),
        tasks_(std::move(tasks)),
        mask_(std::move(mask)),
        weights_(std::move(weights)) {
    validate();
  }

  /// The conversion funnel: tasks "click" and "conversion" (the conversion label over all
  /// impressions, i.e. click ∧ conversion). A conversion without a click is a DataError naming
  /// the row.
  static MultiTaskData funnel(FeatureSpace space, SparseFeatures features,
                              const Eigen::VectorXf& click, const Eigen::VectorXf& conversion,
                              Eigen::VectorXf weights = {}) {
    constexpr std::string_view kContext = "MultiTaskData::funnel";
    const Index n = features.num_rows();
    check_rows(kContext, "click", click.size(), n, "the rows of the features");
    check_rows(kContext, "conversion", conversion.size(), n, "the rows of the features");
    for (Index i = 0; i < n; ++i) {
      if (conversion[i] == 1.0f && click[i] != 1.0f) {
        raise<DataError>(
            "{}: conversion[{}] = 1 but click[{}] = {}, expected a conversion only after a click",
            kContext, i, i, click[i]);
      }
    }
    RowMatrixXf labels(n, 2);
    labels.col(0) = click;
    labels.col(1) = conversion;
    MultiTaskData data(std::move(space), std::move(features), std::move(labels),
                       {{"click", TaskKind::binary}, {"conversion", TaskKind::binary}}, {},
                       std::move(weights));
    data.funnel_ = true;
    return data;
  }

  const FeatureSpace& space() const { return space_; }
  const SparseFeatures& features() const { return features_; }
  Index num_rows() const { return features_.num_rows(); }
  Index num_tasks() const { return static_cast<Index>(tasks_.size()); }
  const std::vector<TaskSpec>& tasks() const { return tasks_; }
  const TaskSpec& task(Index t) const { return tasks_[static_cast<std::size_t>(t)]; }
  /// n × T labels (row-major).
  const RowMatrixXf& labels() const { return labels_; }
  Eigen::VectorXf label(Index t) const { return labels_.col(t); }
  bool has_mask() const { return mask_.size() > 0; }
  /// n × T mask (1 = labelled), or empty (= every label present).
  const RowMatrixXf& mask() const { return mask_; }
  bool labelled(Index i, Index t) const { return mask_.size() == 0 || mask_(i, t) != 0.0f; }
  bool has_weights() const { return weights_.size() > 0; }
  const Eigen::VectorXf& weights() const { return weights_; }
  float weight(Index i) const { return weights_.size() > 0 ? weights_[i] : 1.0f; }
  /// Built by funnel(): task 0 is the click, task 1 the conversion over all impressions.
  bool is_funnel() const { return funnel_; }

  /// The weighted mean label of task t over its labelled rows (its base rate when binary).
  double mean_label(Index t) const {
    double sum = 0.0, total = 0.0;
    for (Index i = 0; i < num_rows(); ++i) {
      if (!labelled(i, t)) continue;
      sum += static_cast<double>(weight(i)) * labels_(i, t);
      total += weight(i);
    }
    return total > 0.0 ? sum / total : 0.0;
  }

  /// The trainer's view (valid while this object lives).
  TrainingSet training_set() const {
    return {&space_,
            &features_,
            labels_.data(),
            num_tasks(),
            mask_.size() > 0 ? mask_.data() : nullptr,
            weights_.size() > 0 ? weights_.data() : nullptr};
  }

 private:
  void validate() {
    constexpr std::string_view kContext = "MultiTaskData";
    const Index n = features_.num_rows();
    check_nonempty(kContext, "features", n);
    detail::validate_features(kContext, space_, features_);
    const Index T = static_cast<Index>(tasks_.size());
    check_param(T >= 1 && T <= 64, kContext, "number of tasks", T, "between 1 and 64");
    check_rows(kContext, "labels", labels_.rows(), n, "the rows of the features");
    if (labels_.cols() != T) {
      raise<ShapeMismatch>("{}: labels has {} columns, expected {} (one per task)", kContext,
                           labels_.cols(), T);
    }
    if (mask_.size() > 0 && (mask_.rows() != n || mask_.cols() != T)) {
      raise<ShapeMismatch>("{}: mask is {} x {}, expected {} x {} (rows x tasks) or empty",
                           kContext, mask_.rows(), mask_.cols(), n, T);
    }
    for (Index t = 0; t < T; ++t) {
      const auto& spec = tasks_[static_cast<std::size_t>(t)];
      if (spec.name.empty()) raise<InvalidArgument>("{}: task {} has an empty name", kContext, t);
      const auto kind = static_cast<unsigned>(spec.kind);
      check_param(kind <= 1, kContext, fmt::format("tasks[{}].kind", t), kind,
                  "binary or continuous");
      for (Index u = 0; u < t; ++u) {
        if (tasks_[static_cast<std::size_t>(u)].name == spec.name) {
          raise<InvalidArgument>("{}: task name '{}' appears twice (tasks {} and {})", kContext,
                                 spec.name, u, t);
        }
      }
    }
    std::vector<Index> labelled(static_cast<std::size_t>(T), 0), positives(labelled);
    for (Index i = 0; i < n; ++i) {
      for (Index t = 0; t < T; ++t) {
        if (mask_.size() > 0) {
          const float m = mask_(i, t);
          if (m != 0.0f && m != 1.0f) {
            raise<DataError>("{}: mask({}, {}) = {}, expected 0 or 1", kContext, i, t, m);
          }
          if (m == 0.0f) continue;
        }
        const float y = labels_(i, t);
        const auto& spec = tasks_[static_cast<std::size_t>(t)];
        if (!std::isfinite(y)) {
          raise<DataError>("{}: labels({}, {}) (task '{}') = {}, expected a finite value", kContext,
                           i, t, spec.name, y);
        }
        if (spec.kind == TaskKind::binary && y != 0.0f && y != 1.0f) {
          raise<DataError>("{}: labels({}, {}) (task '{}') = {}, expected 0 or 1", kContext, i, t,
                           spec.name, y);
        }
        ++labelled[static_cast<std::size_t>(t)];
        positives[static_cast<std::size_t>(t)] += y == 1.0f ? 1 : 0;
      }
    }
    for (Index t = 0; t < T; ++t) {
      const auto& spec = tasks_[static_cast<std::size_t>(t)];
      const Index count = labelled[static_cast<std::size_t>(t)];
      const Index pos = positives[static_cast<std::size_t>(t)];
      if (count == 0) {
        raise<DataError>("{}: task '{}' has no labelled row, expected at least one", kContext,
                         spec.name);
      }
      if (spec.kind == TaskKind::binary && (pos == 0 || pos == count)) {
        raise<DataError>("{}: every label of task '{}' is {} ({} rows), expected both classes",
                         kContext, spec.name, pos == 0 ? 0 : 1, count);
      }
    }
    detail::check_row_weights(kContext, weights_, n);
    check_label_leak(kContext);
  }

  /// A field named like a task, or a field with exactly one entry in every row whose two table
  /// rows coincide with a binary task's classes on every labelled row → InvalidArgument.
  void check_label_leak(std::string_view context) const {
    const Index n = num_rows();
    for (Index f = 0; f < space_.num_fields(); ++f) {
      for (const auto& task : tasks_) {
        if (space_.field(f).name == task.name) {
          raise<InvalidArgument>(
              "{}: field '{}' has the name of task '{}', expected no label among the features",
              context, space_.field(f).name, task.name);
        }
      }
    }
    // The table row of field f in each row (or -1 when the row has not exactly one entry).
    std::vector<std::int64_t> first(static_cast<std::size_t>(space_.num_fields()));
    std::vector<std::int64_t> second(first.size());
    std::vector<bool> candidate(first.size(), true);
    std::vector<std::int64_t> row_of(first.size());
    for (Index t = 0; t < num_tasks(); ++t) {
      if (tasks_[static_cast<std::size_t>(t)].kind != TaskKind::binary) continue;
      std::fill(candidate.begin(), candidate.end(), true);
      std::fill(first.begin(), first.end(), -1);    // the table row seen with label 0
      std::fill(second.begin(), second.end(), -1);  // ... with label 1
      for (Index i = 0; i < n; ++i) {
        std::fill(row_of.begin(), row_of.end(), -1);
        const auto begin = features_.row_ptr[static_cast<std::size_t>(i)];
        const auto end = features_.row_ptr[static_cast<std::size_t>(i) + 1];
        for (auto e = begin; e < end; ++e) {
          const auto f = static_cast<std::size_t>(features_.field[static_cast<std::size_t>(e)]);
          row_of[f] = row_of[f] == -1 ? features_.index[static_cast<std::size_t>(e)] : -2;
        }
        const bool has_label = labelled(i, t);
        const bool positive = has_label && labels_(i, t) == 1.0f;
        for (std::size_t f = 0; f < first.size(); ++f) {
          if (!candidate[f]) continue;
          if (row_of[f] < 0) {
            candidate[f] = false;
            continue;
          }
          if (!has_label) continue;
          auto& seen = positive ? second[f] : first[f];
          if (seen == -1) seen = row_of[f];
          if (seen != row_of[f]) candidate[f] = false;
        }
      }
      for (std::size_t f = 0; f < first.size(); ++f) {
        if (candidate[f] && first[f] >= 0 && second[f] >= 0 && first[f] != second[f]) {
          raise<InvalidArgument>(
              "{}: field '{}' equals the label of task '{}' on every row (table row {} for 0, {} "
              "for 1), expected no label among the features",
              context, space_.field(static_cast<Index>(f)).name,
              tasks_[static_cast<std::size_t>(t)].name, first[f], second[f]);
        }
      }
    }
  }

  FeatureSpace space_;
  SparseFeatures features_;
  RowMatrixXf labels_;
  std::vector<TaskSpec> tasks_;
  RowMatrixXf mask_;
  Eigen::VectorXf weights_;
  bool funnel_ = false;
};

}  // namespace tailor::ctr
