// tailor/policy/budget.hpp — whom to treat under a capacity or a money budget.
//
//   top_share      treat the ⌊share·n⌋ units with the largest τ̂ᵢ (a capacity: "we can call 10%
//                  of customers"); with only_positive, units with τ̂ᵢ ≤ 0 are never treated, so
//                  fewer may be treated. Ties in τ̂ go to the lower index.
//   budget_policy  maximize Σ τ̂ᵢ xᵢ subject to Σ cᵢ xᵢ ≤ B with per-unit costs cᵢ > 0.
//                  Over xᵢ ∈ [0, 1] (the LP relaxation) this is the fractional knapsack, solved
//                  exactly by the greedy that takes units by decreasing ratio τ̂ᵢ/cᵢ until the
//                  budget runs out and takes the first unit that does not fit fractionally
//                  (Dantzig, "Discrete-variable extremum problems", Oper. Res. 1957). Its value,
//                  lp_gain, bounds the gain of every integral selection from above (with
//                  only_positive; see budget_policy for only_positive = false). The integral
//                  selection (`treat`) is the greedy prefix plus, after the first unit that does
//                  not fit, every later unit (in ratio order) that still fits in what is left —
//                  the selection never spends more than B: total_cost ≤ budget holds exactly in
//                  floating point, for the sum Σ cᵢ·treatᵢ taken in index order (see below).
//                  This is a heuristic for the 0/1 knapsack (NP-hard); with only_positive its
//                  gain is at least lp_gain − τ̂ of the fractional unit (the prefix alone earns
//                  that, and the later fills only add positive τ̂).
// Ratios are compared as computed doubles τ̂ᵢ/cᵢ (division is correctly rounded, so exactly equal
// ratios compare equal); ties go to the lower index, so the result is a deterministic function
// of the input. Both run in O(n log n) time (one sort) and O(n) memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::policy {

/// Whom a budgeted policy treats, and what it costs and gains (gains measured in τ̂).
struct BudgetAllocation {
  IndexVector treat;        ///< 0/1 per unit: the integral selection
  Vector fraction;          ///< LP-relaxation solution xᵢ ∈ [0, 1]; at most one xᵢ in (0, 1)
  double total_cost = 0.0;  ///< Σ cᵢ·treatᵢ (index order) ≤ budget, exactly
  double expected_gain = 0.0;  ///< Σ τ̂ᵢ·treatᵢ
  double lp_gain = 0.0;        ///< Σ τ̂ᵢ·fractionᵢ, the LP optimum (see budget_policy)
  Index num_treated = 0;       ///< Σ treatᵢ
  double share_treated = 0.0;  ///< num_treated / n
};

namespace detail {

/// Sums costs·treat in index order (the order a caller would use to check the budget).
inline double selected_cost(const VectorRef& costs, const IndexVector& treat) {
  double total = 0.0;
  for (Index i = 0; i < treat.size(); ++i) {
    if (treat[i] != 0) total += costs[i];
  }
  return total;
}

/// Fills the gains and counts of an allocation whose treat/fraction are set.
inline void finish_allocation(const VectorRef& tau, BudgetAllocation& allocation) {
  allocation.expected_gain = 0.0;
  allocation.lp_gain = 0.0;
  allocation.num_treated = 0;
  for (Index i = 0; i < tau.size(); ++i) {
    if (allocation.treat[i] != 0) {
      allocation.expected_gain += tau[i];
      ++allocation.num_treated;
    }
    allocation.lp_gain += tau[i] * allocation.fraction[i];
  }
  allocation.share_treated =
      static_cast<double>(allocation.num_treated) / static_cast<double>(tau.size());
}

}  // namespace detail

/// Treats the ⌊share·n⌋ units of largest τ̂ (ties to the lower index); with only_positive (the
/// default) only those among them with τ̂ᵢ > 0. Every unit costs 1 here: total_cost =
/// num_treated, fraction = treat and lp_gain = expected_gain (a unit-cost knapsack with an
/// integral budget has an integral LP optimum). ⌊share·n⌋ is taken with a relative tolerance of
/// 1e-9, so share = 0.29 and n = 100 treat 29 although 0.29·100 = 28.999999999999996 in double.
/// Throws InvalidArgument for a share outside [0, 1] ("top_share: share = 1.5, expected a value
/// in [0, 1]"), DataError for no rows or a non-finite τ̂.
inline BudgetAllocation top_share(const VectorRef& tau, double share, bool only_positive = true) {
  constexpr std::string_view kContext = "top_share";
  check_param(share >= 0.0 && share <= 1.0, kContext, "share", share, "a value in [0, 1]");
  const Index n = tau.size();
  check_nonempty(kContext, "tau", n);
  check_finite(kContext, "tau", tau);

  const double raw = share * static_cast<double>(n);
  const Index capacity =
      std::min<Index>(n, static_cast<Index>(std::floor(raw + 1e-9 * std::max(1.0, raw))));

  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  const auto larger_first = [&](Index a, Index b) {
    return tau[a] > tau[b] || (tau[a] == tau[b] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + capacity, order.end(), larger_first);

  BudgetAllocation allocation;
  allocation.treat = IndexVector::Zero(n);
  allocation.fraction = Vector::Zero(n);
  for (Index k = 0; k < capacity; ++k) {
    const Index i = order[static_cast<std::size_t>(k)];
    if (only_positive && !(tau[i] > 0.0)) break;  // sorted: the rest are ≤ 0 too
    allocation.treat[i] = 1;
    allocation.fraction[i] = 1.0;
  }
  detail::finish_allocation(tau, allocation);
  allocation.total_cost = static_cast<double>(allocation.num_treated);
  return allocation;
}

/// Spends at most `budget` on units with costs cᵢ > 0, greedily by τ̂ᵢ/cᵢ (see the header
/// comment). With only_positive (the default) units with τ̂ᵢ ≤ 0 are never treated, and lp_gain
/// is the optimum of max Σ τ̂ᵢ xᵢ s.t. Σ cᵢ xᵢ ≤ B, 0 ≤ xᵢ ≤ 1, an upper bound on the gain of every
/// integral selection within budget. Without it every unit is a candidate (for when the money
/// must be spent): `fraction` then solves the spend-everything LP, max Σ τ̂ᵢ xᵢ s.t.
/// Σ cᵢ xᵢ = min(B, Σ cᵢ), and lp_gain bounds only selections that spend exactly that much.
/// Exactness: candidates are accepted while the running sum (in ratio order) plus cᵢ is ≤ B;
/// total_cost is then recomputed in index order and, should rounding of that other summation
/// order exceed B by an ulp, the most recently accepted units are dropped until it does not.
/// Throws
///   DataError       no rows, a non-finite τ̂ or cost, a cost ≤ 0 ("budget_policy: costs[2] = 0,
///                   expected a positive cost");
///   InvalidArgument a negative or non-finite budget ("budget_policy: budget = -1, expected a
///                   finite value >= 0");
///   ShapeMismatch   costs and tau of different lengths.
inline BudgetAllocation budget_policy(const VectorRef& tau, const VectorRef& costs, double budget,
                                      bool only_positive = true) {
  constexpr std::string_view kContext = "budget_policy";
  const Index n = tau.size();
  check_nonempty(kContext, "tau", n);
  check_rows(kContext, "costs", costs.size(), n, "the length of tau");
  check_finite(kContext, "tau", tau);
  check_finite(kContext, "costs", costs);
  for (Index i = 0; i < n; ++i) {
    if (!(costs[i] > 0.0)) {
      raise<DataError>("{}: costs[{}] = {}, expected a positive cost", kContext, i, costs[i]);
    }
  }
  check_param(std::isfinite(budget) && budget >= 0.0, kContext, "budget", budget,
              "a finite value >= 0");

  std::vector<Index> order;
  order.reserve(static_cast<std::size_t>(n));
  std::vector<double> ratio(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    ratio[static_cast<std::size_t>(i)] = tau[i] / costs[i];
    if (!only_positive || tau[i] > 0.0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    const double ra = ratio[static_cast<std::size_t>(a)];
    const double rb = ratio[static_cast<std::size_t>(b)];
    return ra > rb || (ra == rb && a < b);
  });

  BudgetAllocation allocation;
  allocation.treat = IndexVector::Zero(n);
  allocation.fraction = Vector::Zero(n);
  std::vector<Index> accepted;  // in acceptance order, for the rounding guard below
  double spent = 0.0;
  bool prefix_open = true;  // still inside the greedy prefix (= the LP's integral part)
  for (Index i : order) {
    const double c = costs[i];
    if (spent + c <= budget) {
      allocation.treat[i] = 1;
      if (prefix_open) allocation.fraction[i] = 1.0;
      spent += c;
      accepted.push_back(i);
    } else if (prefix_open) {
      // The LP's single fractional unit: what is left of the budget, as a share of cᵢ.
      allocation.fraction[i] = std::min(1.0, (budget - spent) / c);
      prefix_open = false;
    }
  }
  allocation.total_cost = detail::selected_cost(costs, allocation.treat);
  while (allocation.total_cost > budget && !accepted.empty()) {
    allocation.treat[accepted.back()] = 0;
    accepted.pop_back();
    allocation.total_cost = detail::selected_cost(costs, allocation.treat);
  }
  detail::finish_allocation(tau, allocation);
  return allocation;
}

}  // namespace tailor::policy
