// Tests for cate/detail/causal_splitting.hpp on the shared tree engine: one deterministic causal
// tree (all rows, every feature at every node, no honesty) grown by learn/tree/trainer.hpp must
// be the tree of a brute-force reference of grf's InstrumentalSplittingRule with
// stabilize_splits (Athey, Tibshirani & Wager 2019; rows sorted per feature, every boundary
// between distinct values, children with ≥ min_node_size rows on each side of the parent's
// mean Z, treatment "size" ≥ alpha × the parent's). With ≤ 256 distinct values per feature the
// bins are exact, so the two must agree split for split.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "tailor/cate/causal_forest.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/tree/trainer.hpp"

using namespace tailor;

namespace {

struct Problem {
  Matrix X;
  Vector w, z, y;  // W ∈ {0, 1}, Z = W − e(x), Ỹ
};

/// Z = W − e(x) with e varying in [0.15, 0.85]: rows of one arm have different Z.
Problem make_problem(Index n, Index p, std::uint64_t seed) {
  Rng rng(seed);
  Problem d{Matrix(n, p), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = rng.uniform();
    const double e = 0.15 + 0.7 * d.X(i, 0) * d.X(i, 1);
    d.w[i] = rng.bernoulli(e) ? 1.0 : 0.0;
    d.z[i] = d.w[i] - e;
    d.y[i] = d.X(i, 2) + d.z[i] * (d.X(i, 0) > 0.5 ? 1.0 : -0.5) + 0.5 * rng.normal();
  }
  return d;
}

/// grf's instrumental tree with instrument = treatment = Z, written out plainly.
struct ReferenceTree {
  const Problem& d;
  Index min_node_size;
  double alpha;
  std::vector<std::vector<Index>> leaves;
  Index splits_without_both_arms = 0;  // splits of nodes with < 2·m treated or control rows

  void grow(const std::vector<Index>& rows) {
    const auto n = static_cast<double>(rows.size());
    double z_mean = 0.0, y_mean = 0.0;
    for (Index i : rows) {
      z_mean += d.z[i];
      y_mean += d.y[i];
    }
    z_mean /= n;
    y_mean /= n;
    double num = 0.0, den = 0.0;
    for (Index i : rows) {
      num += (d.z[i] - z_mean) * (d.y[i] - y_mean);
      den += (d.z[i] - z_mean) * (d.z[i] - z_mean);
    }
    if (static_cast<Index>(rows.size()) <= min_node_size || std::abs(den) <= 1e-10) {
      leaves.push_back(rows);
      return;
    }
    const double tau = num / den;
    std::vector<double> rho(static_cast<std::size_t>(d.z.size()), 0.0);
    Index node_small = 0;
    double sum_node = 0.0;
    for (Index i : rows) {
      rho[static_cast<std::size_t>(i)] =
          (d.z[i] - z_mean) * ((d.y[i] - y_mean) - tau * (d.z[i] - z_mean));
      sum_node += rho[static_cast<std::size_t>(i)];
      node_small += d.z[i] < z_mean ? 1 : 0;
    }
    const double min_size = alpha * den;  // Σ(z − z̄)² of the node is `den`
    double best = 0.0;
    Index best_feature = -1;
    double best_value = 0.0;
    for (Index j = 0; j < d.X.cols(); ++j) {
      std::vector<Index> sorted = rows;
      std::sort(sorted.begin(), sorted.end(),
                [&](Index a, Index b) { return d.X(a, j) < d.X(b, j); });
      double sum_left = 0.0, z_left = 0.0, zz_left = 0.0, z_all = 0.0, zz_all = 0.0;
      for (Index i : rows) {
        z_all += d.z[i];
        zz_all += d.z[i] * d.z[i];
      }
      Index n_left = 0, small_left = 0;
      for (std::size_t k = 0; k + 1 < sorted.size(); ++k) {
        const Index i = sorted[k];
        sum_left += rho[static_cast<std::size_t>(i)];
        z_left += d.z[i];
        zz_left += d.z[i] * d.z[i];
        ++n_left;
        small_left += d.z[i] < z_mean ? 1 : 0;
        if (d.X(sorted[k + 1], j) == d.X(i, j)) continue;  // not a boundary
        const Index n_right = static_cast<Index>(sorted.size()) - n_left;
        const Index small_right = node_small - small_left;
        if (small_left < min_node_size || n_left - small_left < min_node_size) continue;
        if (small_right < min_node_size || n_right - small_right < min_node_size) continue;
        const double size_left = zz_left - z_left * z_left / static_cast<double>(n_left);
        const double z_right = z_all - z_left;
        const double size_right =
            (zz_all - zz_left) - z_right * z_right / static_cast<double>(n_right);
        if (size_left < min_size || size_right < min_size) continue;
        const double sum_right = sum_node - sum_left;
        const double decrease = sum_left * sum_left / static_cast<double>(n_left) +
                                sum_right * sum_right / static_cast<double>(n_right);
        if (decrease > best) {
          best = decrease;
          best_feature = j;
          best_value = d.X(i, j);
        }
      }
    }
    if (best_feature < 0) {
      leaves.push_back(rows);
      return;
    }
    Index treated = 0;
    for (Index i : rows) treated += d.w[i] == 1.0 ? 1 : 0;
    const Index control = static_cast<Index>(rows.size()) - treated;
    if (treated < 2 * min_node_size || control < 2 * min_node_size) ++splits_without_both_arms;
    std::vector<Index> left, right;
    for (Index i : rows) (d.X(i, best_feature) <= best_value ? left : right).push_back(i);
    grow(left);
    grow(right);
  }
};

}  // namespace

TEST_CASE("causal splitting: the engine grows grf's instrumental tree exactly", "[cate]") {
  struct Setting {
    Index min_node_size;
    double alpha;
  };
  Index total_without_both_arms = 0;
  for (const Setting s : {Setting{1, 0.0}, Setting{5, 0.05}, Setting{3, 0.1}}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const Index n = 240, p = 4;
      const Problem d = make_problem(n, p, seed);
      std::vector<Index> all(static_cast<std::size_t>(n));
      for (Index i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
      ReferenceTree reference{d, s.min_node_size, s.alpha, {}, 0};
      reference.grow(all);
      total_without_both_arms += reference.splits_without_both_arms;

      const learn::BinnedMatrix binned = learn::BinMapper::fit(d.X, {}).transform(d.X, 1);
      for (Index j = 0; j < p; ++j) REQUIRE(binned.mapper().num_bins(j) == n);  // exact bins
      const Vector none;
      const cate::detail::CausalSplittingRule rule{.min_node_size = s.min_node_size,
                                                   .alpha = s.alpha};
      const learn::tree::TrainerOptions options{.num_trees = 1,
                                                .mtry = p,
                                                .sample_fraction = 1.0,
                                                .min_node_size = s.min_node_size,
                                                .honesty = false,
                                                .compute_oob = false,
                                                .poisson_mtry = false,
                                                .seed = seed,
                                                .num_threads = 1};
      const learn::tree::TrainedForest trained = learn::tree::train_forest(
          binned, cate::detail::CausalRelabeling{d.z, d.y, d.w, none}, rule, none, options);
      const learn::tree::Tree& tree = trained.forest.trees()[0];

      INFO("min_node_size " << s.min_node_size << ", alpha " << s.alpha << ", seed " << seed);
      Index num_leaves = 0;
      for (const auto& node : tree.nodes) num_leaves += node.is_leaf() ? 1 : 0;
      CHECK(num_leaves == static_cast<Index>(reference.leaves.size()));
      // Same partition: every reference leaf lands in one engine leaf holding exactly its rows.
      bool same = true;
      for (const auto& leaf : reference.leaves) {
        std::vector<double> x(static_cast<std::size_t>(p));
        std::uint32_t first = 0;
        for (std::size_t k = 0; k < leaf.size(); ++k) {
          for (Index j = 0; j < p; ++j) x[static_cast<std::size_t>(j)] = d.X(leaf[k], j);
          const std::uint32_t id = tree.leaf_of(x.data());
          if (k == 0) first = id;
          same = same && id == first;
        }
        const double count = tree.leaf_stats[static_cast<std::size_t>(first) *
                                             static_cast<std::size_t>(cate::detail::kCausalWidth)];
        same = same && count == static_cast<double>(leaf.size());
      }
      CHECK(same);
    }
  }
  // The designs reach nodes that grf splits although they lack 2·min_node_size rows of one
  // arm (Z varies within an arm, so both sides of the node's mean Z are populated).
  CHECK(total_without_both_arms > 0);
}

namespace {
/// The causal rule without its proxy: the trainer builds per-bin counts for every node.
struct NoProxyRule : cate::detail::CausalSplittingRule {
  Index node_flag_proxy() const { return -1; }
};
}  // namespace

TEST_CASE("causal splitting: treated-slot shortcut and per-bin counts grow the same forest",
          "[cate]") {
  const Problem d = make_problem(3000, 5, 9);
  const learn::BinnedMatrix binned = learn::BinMapper::fit(d.X, {}).transform(d.X, 1);
  const Vector none;
  const learn::tree::TrainerOptions options{.num_trees = 16,
                                            .mtry = 3,
                                            .sample_fraction = 0.5,
                                            .min_node_size = 2,
                                            .honesty = true,
                                            .compute_oob = false,
                                            .ci_group_size = 2,
                                            .poisson_mtry = true,
                                            .seed = 4,
                                            .num_threads = 2};
  const cate::detail::CausalRelabeling relabeling{d.z, d.y, d.w, none};
  cate::detail::CausalSplittingRule rule{.min_node_size = 2};
  NoProxyRule no_proxy;
  no_proxy.min_node_size = 2;
  const auto with = learn::tree::train_forest(binned, relabeling, rule, none, options);
  const auto without = learn::tree::train_forest(binned, relabeling, no_proxy, none, options);
  bool same = true;
  Index nodes = 0;
  for (Index t = 0; t < options.num_trees; ++t) {
    const auto& a = with.forest.trees()[static_cast<std::size_t>(t)];
    const auto& b = without.forest.trees()[static_cast<std::size_t>(t)];
    same = same && a.nodes.size() == b.nodes.size() && a.leaf_stats == b.leaf_stats;
    for (std::size_t k = 0; same && k < a.nodes.size(); ++k) {
      same = a.nodes[k].split == b.nodes[k].split && a.nodes[k].next == b.nodes[k].next;
    }
    nodes += static_cast<Index>(a.nodes.size());
  }
  CHECK(nodes > 16 * 50);
  CHECK(same);
}
