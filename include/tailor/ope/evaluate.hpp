// tailor/ope/evaluate.hpp — one call that evaluates several target policies with several
// off-policy estimators and returns a printable report.
//
// For each (policy, estimator): V̂ with its influence-function standard error, the normal
// interval V̂ ± z_{1−α/2}·se and, when num_bootstrap > 0, the percentile bootstrap interval
// (ope/estimators.hpp). With a baseline policy, also each other policy's value difference
// V̂(π) − V̂(π_baseline) on the same rows, with the paired influence-function se and a
// paired bootstrap (the same resampled rows for both policies). Bootstrap seeds: the resamples
// of entry e (in report order) use stream seed + e, so results do not depend on num_threads.
// Cost: O(P·E·n·K) for the scores plus O(P·E·B·n) for bootstraps (P policies, E estimators).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ope/estimators.hpp"
#include "tailor/ope/policy.hpp"

namespace tailor::ope {

/// A target policy with the name the report shows ("learned", "treat-all", ...).
struct NamedPolicy {
  std::string name;
  TargetPolicy policy;
};

/// Options of evaluate(). Defaults: every estimator the nuisances allow, 95% normal intervals,
/// no bootstrap, no baseline.
struct EvaluationOptions {
  /// Estimators to run; empty (default) = all seven when nuisances.reward is given, else IPS
  /// and SNIPS.
  std::vector<Estimator> estimators = {};
  /// Reward model and (optionally) estimated propensities (ope/nuisance.hpp).
  Nuisances nuisances = {};
  /// Switch-DR τ, DRos λ, propensity floor (defaults in EstimatorParams).
  EstimatorParams params = {};
  /// Interval coverage in (0, 1), default 0.95.
  double level = 0.95;
  /// Bootstrap resamples per entry; 0 (default) = no bootstrap intervals, else ≥ 2.
  Index num_bootstrap = 0;
  /// Seed of the bootstrap (default 0).
  std::uint64_t seed = 0;
  /// Threads for the bootstrap, 0 = all cores (default 0).
  Index num_threads = 0;
  /// Name of the policy to compare the others against (differences); empty = none.
  std::string baseline = {};
};

/// One line of the report.
struct EvaluationEntry {
  std::string policy = {};  ///< policy name, or "A - B" for a difference
  Estimator estimator = Estimator::ips;
  Estimate estimate = {};                           ///< value and influence-function se
  Interval normal_interval = {};                    ///< value ± z·se
  std::optional<Interval> bootstrap_interval = {};  ///< percentile bootstrap, when requested
};

/// The result of evaluate(): values per policy and estimator, and differences to the baseline.
struct EvaluationReport {
  double level = 0.95;
  std::vector<EvaluationEntry> values = {};
  std::vector<EvaluationEntry> differences = {};

  /// The value entry of (policy, estimator); InvalidArgument when absent.
  const EvaluationEntry& value(std::string_view policy, Estimator estimator) const {
    return find(values, policy, estimator, "value");
  }
  /// The difference entry "policy - baseline" for estimator; InvalidArgument when absent.
  const EvaluationEntry& difference(std::string_view policy, Estimator estimator) const {
    for (const auto& entry : differences) {
      if (entry.estimator == estimator && entry.policy.starts_with(policy) &&
          entry.policy.size() > policy.size() &&
          std::string_view(entry.policy).substr(policy.size()).starts_with(" - ")) {
        return entry;
      }
    }
    raise<InvalidArgument>("EvaluationReport: no difference for policy '{}' and {}", policy,
                           estimator_name(estimator));
  }

  /// A fixed-width table: policy, estimator, value, se, normal CI, bootstrap CI.
  std::string to_string() const {
    std::string out;
    const int percent = static_cast<int>(std::lround(level * 100.0));
    out += fmt::format("{:<28} {:<10} {:>12} {:>12} {:>27} {:>27}\n", "policy", "estimator",
                       "value", "std_error", fmt::format("{}% normal CI", percent),
                       fmt::format("{}% bootstrap CI", percent));
    auto line = [&](const EvaluationEntry& e) {
      const std::string boot = e.bootstrap_interval
                                   ? fmt::format("[{:.6g}, {:.6g}]", e.bootstrap_interval->lower,
                                                 e.bootstrap_interval->upper)
                                   : std::string("-");
      out += fmt::format(
          "{:<28} {:<10} {:>12.6g} {:>12.6g} {:>27} {:>27}\n", e.policy,
          estimator_name(e.estimator), e.estimate.value, e.estimate.std_error,
          fmt::format("[{:.6g}, {:.6g}]", e.normal_interval.lower, e.normal_interval.upper), boot);
    };
    for (const auto& e : values) line(e);
    for (const auto& e : differences) line(e);
    return out;
  }

 private:
  static const EvaluationEntry& find(const std::vector<EvaluationEntry>& entries,
                                     std::string_view policy, Estimator estimator,
                                     std::string_view what) {
    for (const auto& entry : entries) {
      if (entry.policy == policy && entry.estimator == estimator) return entry;
    }
    raise<InvalidArgument>("EvaluationReport: no {} for policy '{}' and {}", what, policy,
                           estimator_name(estimator));
  }
};

/// Evaluates every policy with every requested estimator on `data` (see the header comment).
/// Throws InvalidArgument for no policies, empty or duplicate names, an unknown baseline, bad
/// options (level, num_bootstrap = 1, ...) or a model-based estimator without a reward model;
/// plus everything estimator_scores throws (shape mismatches, bad propensities).
inline EvaluationReport evaluate(const BanditData& data, const std::vector<NamedPolicy>& policies,
                                 const EvaluationOptions& options = {}) {
  constexpr std::string_view kContext = "ope::evaluate";
  if (policies.empty()) {
    raise<InvalidArgument>("{}: no policies, expected at least 1", kContext);
  }
  for (std::size_t j = 0; j < policies.size(); ++j) {
    if (policies[j].name.empty()) {
      raise<InvalidArgument>("{}: policies[{}] has an empty name", kContext, j);
    }
    for (std::size_t k = 0; k < j; ++k) {
      if (policies[k].name == policies[j].name) {
        raise<InvalidArgument>("{}: policies[{}] and policies[{}] are both named '{}'", kContext, k,
                               j, policies[j].name);
      }
    }
  }
  check_param(options.level > 0.0 && options.level < 1.0, kContext, "level", options.level,
              "a value in (0, 1)");
  if (options.num_bootstrap != 0) {
    check_count(kContext, "num_bootstrap", options.num_bootstrap, 2, limits::kMaxResamples,
                "0 (no bootstrap) or 2 to 1000000");
  }
  resolve_num_threads(options.num_threads);
  std::optional<std::size_t> baseline;
  if (!options.baseline.empty()) {
    for (std::size_t j = 0; j < policies.size(); ++j) {
      if (policies[j].name == options.baseline) baseline = j;
    }
    if (!baseline) {
      raise<InvalidArgument>("{}: baseline = '{}', expected one of the policy names", kContext,
                             options.baseline);
    }
  }
  std::vector<Estimator> estimators = options.estimators;
  if (estimators.empty()) {
    if (options.nuisances.reward.size() != 0) {
      estimators.assign(kAllEstimators.begin(), kAllEstimators.end());
    } else {
      estimators = {Estimator::ips, Estimator::snips};
    }
  }

  EvaluationReport report;
  report.level = options.level;
  std::uint64_t entry_index = 0;
  auto bootstrap = [&](std::span<const Scores> parts,
                       std::span<const double> coefficients) -> std::optional<Interval> {
    const std::uint64_t stream = entry_index++;
    if (options.num_bootstrap == 0) return std::nullopt;
    const BootstrapOptions boot{.num_resamples = options.num_bootstrap,
                                .level = options.level,
                                .seed = options.seed + stream,
                                .num_threads = options.num_threads};
    return bootstrap_interval(parts, coefficients, boot).interval;
  };
  for (const Estimator estimator : estimators) {
    std::vector<Scores> scores;
    scores.reserve(policies.size());
    for (const auto& named : policies) {
      scores.push_back(
          estimator_scores(estimator, data, named.policy, options.nuisances, options.params));
    }
    const double one = 1.0;
    for (std::size_t j = 0; j < policies.size(); ++j) {
      EvaluationEntry entry{.policy = policies[j].name, .estimator = estimator};
      entry.estimate = scores[j].estimate();
      entry.normal_interval = entry.estimate.confidence_interval(options.level);
      entry.bootstrap_interval =
          bootstrap(std::span<const Scores>(&scores[j], 1), std::span<const double>(&one, 1));
      report.values.push_back(std::move(entry));
    }
    if (baseline) {
      const std::array<double, 2> coefficients = {1.0, -1.0};
      for (std::size_t j = 0; j < policies.size(); ++j) {
        if (j == *baseline) continue;
        EvaluationEntry entry{.policy = policies[j].name + " - " + policies[*baseline].name,
                              .estimator = estimator};
        entry.estimate = difference(scores[j], scores[*baseline]);
        entry.normal_interval = entry.estimate.confidence_interval(options.level);
        const std::array<Scores, 2> pair = {scores[j], scores[*baseline]};
        entry.bootstrap_interval = bootstrap(pair, coefficients);
        report.differences.push_back(std::move(entry));
      }
    }
  }
  return report;
}

}  // namespace tailor::ope
