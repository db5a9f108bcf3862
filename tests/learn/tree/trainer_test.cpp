#include "tailor/learn/tree/trainer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/learn/binning.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
namespace tree = tailor::learn::tree;

namespace {

struct Problem {
  tailor::learn::BinnedMatrix X;
  Vector y;
};

/// Integer-valued targets (p >= 3): every histogram sum is exact, so subtraction changes
/// nothing.
Problem integer_problem(Index n, Index p, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Matrix X(n, p);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) X(i, j) = rng.uniform();
    y[i] = std::round(10.0 * X(i, 0) + 5.0 * X(i, 1) * X(i, 2) + 2.0 * rng.normal());
  }
  return {tailor::learn::BinnedMatrix::build(X, {.max_bins = 64}, 1), y};
}

bool same_trees(const tree::Forest& a, const tree::Forest& b) {
  if (a.num_trees() != b.num_trees()) return false;
  for (Index t = 0; t < a.num_trees(); ++t) {
    const auto& ta = a.trees()[static_cast<std::size_t>(t)];
    const auto& tb = b.trees()[static_cast<std::size_t>(t)];
    if (ta.nodes.size() != tb.nodes.size() || ta.leaf_stats != tb.leaf_stats) return false;
    for (std::size_t k = 0; k < ta.nodes.size(); ++k) {
      if (ta.nodes[k].split != tb.nodes[k].split || ta.nodes[k].next != tb.nodes[k].next ||
          ta.nodes[k].threshold != tb.nodes[k].threshold) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST_CASE("trainer: histogram subtraction builds the same trees as direct histograms", "[tree]") {
  const auto problem = integer_problem(3000, 6, 1);
  for (const bool honesty : {false, true}) {
    tree::TrainerOptions options{.num_trees = 4,
                                 .mtry = 6,
                                 .sample_fraction = 0.8,
                                 .min_node_size = 3,
                                 .honesty = honesty,
                                 .seed = 5,
                                 .num_threads = 1};
    const auto with = tree::train_forest(problem.X, tree::RegressionRelabeling{problem.y, Vector()},
                                         tree::RegressionSplittingRule{}, Vector(), options);
    options.histogram_subtraction = false;
    const auto without =
        tree::train_forest(problem.X, tree::RegressionRelabeling{problem.y, Vector()},
                           tree::RegressionSplittingRule{}, Vector(), options);
    CHECK(same_trees(with.forest, without.forest));
    CHECK(with.forest.trees()[0].nodes.size() > 100);
  }
}

TEST_CASE("trainer: tree invariants", "[tree]") {
  const auto problem = integer_problem(2000, 4, 2);
  const tree::TrainerOptions options{.num_trees = 3,
                                     .mtry = 2,
                                     .sample_fraction = 1.0,
                                     .bootstrap = true,
                                     .min_node_size = 7,
                                     .max_depth = 6,
                                     .honesty = false,
                                     .seed = 1,
                                     .num_threads = 1};
  const auto trained =
      tree::train_forest(problem.X, tree::RegressionRelabeling{problem.y, Vector()},
                         tree::RegressionSplittingRule{}, Vector(), options);
  for (const auto& t : trained.forest.trees()) {
    // Every leaf holds at least min_node_size distinct rows, i.e. at least that many draws;
    // total draws = n (bootstrap of size n); depth never exceeds max_depth.
    double draws = 0.0;
    for (std::size_t s = 0; s < t.leaf_stats.size(); s += 3) {
      CHECK(t.leaf_stats[s] >= 7.0);
      draws += t.leaf_stats[s];
    }
    CHECK(draws == 2000.0);
    std::vector<std::pair<std::size_t, Index>> stack{{0, 0}};
    Index deepest = 0;
    while (!stack.empty()) {
      const auto [k, d] = stack.back();
      stack.pop_back();
      deepest = std::max(deepest, d);
      if (t.nodes[k].is_leaf()) continue;
      stack.push_back({k + 1, d + 1});
      stack.push_back({t.nodes[k].next, d + 1});
    }
    CHECK(deepest <= 6);
    CHECK(deepest >= 4);
  }
  // Split frequencies count root splits once per tree.
  CHECK(trained.forest.split_frequencies(2).row(0).sum() == 3.0);
}

TEST_CASE("trainer: rejects mismatched relabeling", "[tree]") {
  const auto problem = integer_problem(100, 3, 3);
  const Vector short_y = problem.y.head(50);
  CHECK_THROWS_WITH(tree::train_forest(problem.X, tree::RegressionRelabeling{short_y, Vector()},
                                       tree::RegressionSplittingRule{}, Vector(), {}),
                    Catch::Contains("train_forest: relabeling has 50 rows, expected 100"));
  CHECK_THROWS_AS(tree::train_forest(problem.X, tree::ClassRelabeling{problem.y, Vector(), 3},
                                     tree::RegressionSplittingRule{}, Vector(), {}),
                  tailor::InvalidArgument);
}

TEST_CASE("trainer: more than 256 bins place splits at bin codes above 255", "[tree]") {
  // y jumps at x0 = 0.9987: only a grid finer than 256 quantile bins can split there exactly.
  const Index n = 20000;
  tailor::Rng rng(11);
  Matrix X(n, 1);
  Vector y(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = rng.uniform();
    y[i] = X(i, 0) > 0.9987 ? 10.0 : 0.0;
  }
  for (Index bins : {256, 2048}) {
    const auto binned = tailor::learn::BinnedMatrix::build(X, {.max_bins = bins}, 1);
    CHECK(binned.mapper().num_bins(0) == bins);
    const tree::TrainerOptions options{.num_trees = 1,
                                       .mtry = 1,
                                       .sample_fraction = 1.0,
                                       .min_node_size = 1,
                                       .max_depth = 1,
                                       .honesty = false,
                                       .compute_oob = false,
                                       .seed = 3,
                                       .num_threads = 1};
    const auto trained = tree::train_forest(binned, tree::RegressionRelabeling{y, Vector()},
                                            tree::RegressionSplittingRule{}, Vector(), options);
    const auto& root = trained.forest.trees()[0].nodes[0];
    REQUIRE_FALSE(root.is_leaf());
    INFO(bins << " bins: split at bin " << root.bin() << ", x <= " << root.threshold);
    // Binned traversal (bin codes) and raw traversal (threshold) agree on every row.
    bool agree = true;
    for (Index i = 0; i < n; ++i) {
      const double x = X(i, 0);
      agree = agree &&
              trained.forest.trees()[0].leaf_of(binned, i) == trained.forest.trees()[0].leaf_of(&x);
    }
    CHECK(agree);
    if (bins == 2048) {
      CHECK(root.bin() > 255);
      CHECK(std::abs(root.threshold - 0.9987) < 1e-3);  // within a bin of 1/2048
    } else {
      CHECK(std::abs(root.threshold - 0.9987) > 1e-3);  // the nearest 1/256 boundary is far
    }
  }
}

TEST_CASE("trainer: version-1 forests (8-bit bins) load with their splits", "[tree]") {
  // One stump on feature 1, bin 5, written in the version-1 layout (feature << 8 | bin).
  std::stringstream stream;
  tailor::BinaryWriter out(stream);
  out.write_header("learn::tree::Forest", 1);
  out.write(std::int64_t{2});   // features
  out.write(std::int64_t{2});   // channels
  out.write(std::uint64_t{1});  // trees
  out.write(std::vector<double>{0.5, 0.0, 0.0});
  out.write(std::vector<std::uint32_t>{1u << 8 | 5u, tree::Node::kLeaf, tree::Node::kLeaf});
  out.write(std::vector<std::uint32_t>{2, 0, 1});
  out.write(std::vector<double>{1, 1, 2, 1, 1, 3});
  tailor::BinaryReader in(stream);
  const tree::Forest forest = tree::Forest::load(in);
  const tree::Node& root = forest.trees()[0].nodes[0];
  CHECK(root.feature() == 1);
  CHECK(root.bin() == 5);
  CHECK(root.threshold == 0.5);
  const double left[2] = {0.0, 0.4}, right[2] = {0.0, 0.6};
  CHECK(forest.trees()[0].leaf_of(left) == 0);
  CHECK(forest.trees()[0].leaf_of(right) == 1);

  // A version-1 split on a feature the forest does not have is corrupt.
  std::stringstream bad;
  tailor::BinaryWriter bad_out(bad);
  bad_out.write_header("learn::tree::Forest", 1);
  bad_out.write(std::int64_t{2});
  bad_out.write(std::int64_t{2});
  bad_out.write(std::uint64_t{1});
  bad_out.write(std::vector<double>{0.5, 0.0, 0.0});
  bad_out.write(
      std::vector<std::uint32_t>{(1u << 20) << 8 | 5u, tree::Node::kLeaf, tree::Node::kLeaf});
  bad_out.write(std::vector<std::uint32_t>{2, 0, 1});
  bad_out.write(std::vector<double>{1, 1, 2, 1, 1, 3});
  tailor::BinaryReader bad_in(bad);
  CHECK_THROWS_AS(tree::Forest::load(bad_in), tailor::FormatError);
}

namespace {
/// A two-pass test strategy: counts the trees (first pass) and, from the kept leaves, sums each
/// tree's leaf count n_t for the row (second pass).
struct CountingStrategy {
  static constexpr Index kBlockRows = 7;  // blocks that do not divide n
  static constexpr bool kKeepsLeaves = true;
  Index num_trees = 0;
  Index accumulator_width() const { return 1; }
  Index output_width() const { return 2; }
  bool accumulate(const double*, double* acc) const {
    acc[0] += 1.0;
    return true;
  }
  template <class LeafOf>
  void finish(const double* acc, Index used, const LeafOf& leaf_of, double* out) const {
    out[0] = acc[0] == static_cast<double>(used) ? acc[0] : -1.0;
    double leaf_counts = 0.0;
    for (Index t = 0; t < num_trees; ++t) {
      if (const double* s = leaf_of(t)) leaf_counts += s[0];
    }
    out[1] = leaf_counts;
  }
};
}  // namespace

TEST_CASE("forest: prediction strategies see every tree's leaf in tree order", "[tree]") {
  const auto problem = integer_problem(300, 3, 5);
  const tree::TrainerOptions options{.num_trees = 6, .mtry = 2, .min_node_size = 10, .seed = 3};
  const auto trained =
      tree::train_forest(problem.X, tree::RegressionRelabeling{problem.y, Vector()},
                         tree::RegressionSplittingRule{}, Vector(), options);
  const tree::Forest& forest = trained.forest;
  tailor::Rng rng(9);
  Matrix X(40, 3);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform();
  const Matrix counted = forest.predict(X, CountingStrategy{forest.num_trees()}, 2);
  // The mean-statistics strategy equals a direct per-row computation over the trees.
  const Matrix means = forest.predict(X, tree::MeanLeafStatistics{forest.num_channels()}, 3);
  for (Index i = 0; i < X.rows(); ++i) {
    std::vector<double> x(3);
    for (Index j = 0; j < 3; ++j) x[static_cast<std::size_t>(j)] = X(i, j);
    double trees = 0.0, leaf_counts = 0.0, sums[2] = {0.0, 0.0};
    for (const auto& t : forest.trees()) {
      if (t.empty()) continue;
      const double* s = t.leaf_stats.data() + std::size_t{t.leaf_of(x.data())} * 3;
      trees += 1.0;
      leaf_counts += s[0];
      for (int c = 0; c < 2; ++c) sums[c] += s[1 + c] * (1.0 / s[0]);
    }
    CHECK(counted(i, 0) == trees);
    CHECK(counted(i, 1) == leaf_counts);
    for (int c = 0; c < 2; ++c) CHECK(means(i, c) == sums[c] * (1.0 / trees));
  }
  // Same results for any thread count.
  CHECK(forest.predict(X, tree::MeanLeafStatistics{forest.num_channels()}, 1) == means);
  CHECK_THROWS_AS(forest.predict(Matrix::Zero(2, 4), CountingStrategy{6}, 1),
                  tailor::ShapeMismatch);
}
