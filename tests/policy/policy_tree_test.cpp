#include "tailor/policy/policy_tree.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tailor/core/random.hpp"

using tailor::Index;
using tailor::IndexVector;
using tailor::Matrix;
using tailor::Rng;
using tailor::policy::PolicyTree;
using tailor::policy::PolicyTreeModel;
using tailor::policy::PolicyTreeParams;

namespace {

/// Planted optimal depth-2 policy over three actions:
///   x0 <= 3:  x4 <= 5 → 0, else 2;      x0 > 3:  x2 <= −2 → 1, else 0.
Index planted_action(double x0, double x2, double x4) {
  if (x0 <= 3.0) return x4 <= 5.0 ? 0 : 2;
  return x2 <= -2.0 ? 1 : 0;
}

/// Brute force: the best Σ Γ(i, π(xᵢ)) over all trees of depth <= depth on `rows`, splits
/// "x_k <= v" at every distinct value v, every leaf with >= min_node_size rows.
double brute_force(const Matrix& X, const Matrix& G, const std::vector<Index>& rows, int depth,
                   Index min_node_size) {
  double best = -std::numeric_limits<double>::infinity();
  for (Index a = 0; a < G.cols(); ++a) {
    double total = 0.0;
    for (Index i : rows) total += G(i, a);
    best = std::max(best, total);
  }
  if (depth == 0) return best;
  for (Index k = 0; k < X.cols(); ++k) {
    std::vector<double> values;
    for (Index i : rows) values.push_back(X(i, k));
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (std::size_t v = 0; v + 1 < values.size(); ++v) {
      std::vector<Index> left, right;
      for (Index i : rows) (X(i, k) <= values[v] ? left : right).push_back(i);
      if (static_cast<Index>(left.size()) < min_node_size ||
          static_cast<Index>(right.size()) < min_node_size) {
        continue;
      }
      best = std::max(best, brute_force(X, G, left, depth - 1, min_node_size) +
                                brute_force(X, G, right, depth - 1, min_node_size));
    }
  }
  return best;
}

std::vector<Index> all_rows(Index n) {
  std::vector<Index> rows(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}

double mean_score(const Matrix& G, const IndexVector& actions) {
  double total = 0.0;
  for (Index i = 0; i < G.rows(); ++i) total += G(i, actions[i]);
  return total / static_cast<double>(G.rows());
}

/// Smallest leaf size of a fitted tree.
Index smallest_leaf(const PolicyTreeModel& model) {
  Index smallest = std::numeric_limits<Index>::max();
  for (const auto& node : model.nodes()) {
    if (node.leaf) smallest = std::min(smallest, node.size);
  }
  return smallest;
}

/// Random small data: integer-valued X (ties) or continuous, Γ with K actions.
void random_problem(Index n, Index p, Index K, bool ties, std::uint64_t seed, Matrix& X,
                    Matrix& G) {
  Rng rng(seed);
  X.resize(n, p);
  G.resize(n, K);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) {
      X(i, j) = ties ? static_cast<double>(rng.uniform_index(6)) : rng.normal();
    }
    for (Index a = 0; a < K; ++a) G(i, a) = rng.normal() + (a == 1 ? X(i, 0) : 0.0);
  }
}

}  // namespace

TEST_CASE("PolicyTree: planted depth-2 rule on a grid is recovered exactly (noise-free)",
          "[policy_tree]") {
  // X on the integers −10..10, so one bin per value and the thresholds are the midpoints
  // 3.5, −1.5, 5.5; Γ(i, a) = 1{a = π*(xᵢ)}, so the optimum is 1 per row.
  const Index n = 3000;
  const Index p = 6;
  Rng rng(7);
  Matrix X(n, p);
  Matrix G = Matrix::Zero(n, 3);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) X(i, j) = static_cast<double>(rng.uniform_index(21)) - 10.0;
    G(i, planted_action(X(i, 0), X(i, 2), X(i, 4))) = 1.0;
  }
  const auto model = PolicyTree({.depth = 2, .max_bins = 64, .num_threads = 2}).fit(X, G);
  CHECK(model.training_value() == 1.0);
  const auto& nodes = model.nodes();
  REQUIRE(nodes.size() == 7);
  REQUIRE_FALSE(nodes[0].leaf);
  CHECK(nodes[0].feature == 0);
  CHECK(nodes[0].threshold == 3.5);
  CHECK(nodes[0].size == n);
  const auto& low = nodes[static_cast<std::size_t>(nodes[0].left)];
  const auto& high = nodes[static_cast<std::size_t>(nodes[0].right)];
  CHECK(low.feature == 4);
  CHECK(low.threshold == 5.5);
  CHECK(high.feature == 2);
  CHECK(high.threshold == -1.5);
  CHECK(nodes[static_cast<std::size_t>(low.left)].action == 0);
  CHECK(nodes[static_cast<std::size_t>(low.right)].action == 2);
  CHECK(nodes[static_cast<std::size_t>(high.left)].action == 1);
  CHECK(nodes[static_cast<std::size_t>(high.right)].action == 0);
  CHECK(low.size + high.size == n);

  // Predictions on new points follow the planted rule everywhere on the grid.
  Matrix X_new(n, p);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) X_new(i, j) = static_cast<double>(rng.uniform_index(21)) - 10.0;
  }
  const IndexVector predicted = model.predict(X_new);
  for (Index i = 0; i < n; ++i) {
    REQUIRE(predicted[i] == planted_action(X_new(i, 0), X_new(i, 2), X_new(i, 4)));
  }

  const std::string text = model.describe({"a", "b", "c", "d", "e", "f"});
  CHECK_THAT(text, Catch::Contains("a <= 3.5:\n  e <= 5.5:\n    action 0"));
  CHECK_THAT(text, Catch::Contains("a > 3.5:\n  c <= -1.5:\n    action 1"));
  CHECK_THAT(model.describe(), Catch::Contains("x0 <= 3.5:"));
  CHECK(model.depth() == 2);
}

TEST_CASE("PolicyTree: planted rule from noisy scores on continuous features, within a bin",
          "[policy_tree]") {
  // Γ = μ + N(0, 1) noise with μ(i, a) = 1{a = π*(xᵢ)}; X uniform on (−10, 10). With 32 quantile
  // bins a bin is about 20/32 = 0.625 wide.
  const Index n = 6000;
  const Index p = 6;
  Rng rng(11);
  Matrix X(n, p);
  Matrix mu = Matrix::Zero(n, 3);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) X(i, j) = rng.uniform(-10.0, 10.0);
    mu(i, planted_action(X(i, 0), X(i, 2), X(i, 4))) = 1.0;
  }
  Matrix G = mu;
  for (Index i = 0; i < n; ++i) {
    for (Index a = 0; a < 3; ++a) G(i, a) += rng.normal();
  }
  const auto model = PolicyTree({.depth = 2, .max_bins = 32}).fit(X, G);
  const auto& nodes = model.nodes();
  REQUIRE(nodes.size() == 7);
  const double bin_width = 20.0 / 32.0;
  CHECK(nodes[0].feature == 0);
  CHECK(std::abs(nodes[0].threshold - 3.0) <= 2 * bin_width);
  const auto& low = nodes[static_cast<std::size_t>(nodes[0].left)];
  const auto& high = nodes[static_cast<std::size_t>(nodes[0].right)];
  CHECK(low.feature == 4);
  CHECK(std::abs(low.threshold - 5.0) <= 2 * bin_width);
  CHECK(high.feature == 2);
  CHECK(std::abs(high.threshold + 2.0) <= 2 * bin_width);
  // True value of the learned policy (noise-free μ) is close to the optimum 1; the in-sample
  // value is at least that of the planted policy (the search maximizes it over a class that
  // contains the best bin-aligned version of it).
  const IndexVector learned = model.predict(X);
  CHECK(mean_score(mu, learned) >= 0.97);
  CHECK(model.training_value() == Approx(mean_score(G, learned)).epsilon(1e-12));
  IndexVector planted(n);
  for (Index i = 0; i < n; ++i) planted[i] = planted_action(X(i, 0), X(i, 2), X(i, 4));
  CHECK(model.training_value() >= mean_score(G, planted) - 0.02);
}

TEST_CASE("PolicyTree: exact search equals brute-force enumeration of all trees", "[policy_tree]") {
  struct Case {
    Index n, p, K;
    int depth;
    Index min_node_size;
    bool ties;
  };
  const std::vector<Case> cases = {
      {40, 3, 2, 1, 1, false}, {40, 3, 2, 2, 1, false}, {40, 3, 3, 2, 1, true},
      {36, 3, 3, 2, 4, false}, {40, 2, 2, 2, 3, true},  {14, 2, 3, 3, 1, false},
      {16, 2, 2, 3, 2, true},  {1, 2, 2, 2, 1, false},  {5, 1, 2, 2, 3, false}};
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    for (int repeat = 0; repeat < 3; ++repeat) {
      Matrix X, G;
      random_problem(c.n, c.p, c.K, c.ties, ++seed, X, G);
      if (repeat == 2 && c.p > 1) X.col(1).setConstant(2.0);  // a feature with no split
      const auto model =
          PolicyTree(
              {.depth = c.depth, .max_bins = 0, .min_node_size = c.min_node_size, .num_threads = 2})
              .fit(X, G);
      const double truth =
          brute_force(X, G, all_rows(c.n), c.depth, c.min_node_size) / static_cast<double>(c.n);
      INFO("n " << c.n << " p " << c.p << " K " << c.K << " depth " << c.depth << " min_node_size "
                << c.min_node_size << " seed " << seed);
      CHECK(model.training_value() == Approx(truth).epsilon(1e-12).margin(1e-12));
      CHECK(model.training_value() == Approx(mean_score(G, model.predict(X))).epsilon(1e-12));
      CHECK(smallest_leaf(model) >= std::min(c.min_node_size, c.n));
      CHECK(model.depth() <= c.depth);
    }
  }
}

TEST_CASE("PolicyTree: exact depth 2 is never worse than greedy, and beats it on XOR",
          "[policy_tree]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Matrix X, G;
    random_problem(300, 4, 3, seed % 2 == 0, seed, X, G);
    const auto exact = PolicyTree({.depth = 2, .max_bins = 16, .num_threads = 1}).fit(X, G);
    const auto greedy =
        PolicyTree({.depth = 2, .max_bins = 16, .greedy = true, .num_threads = 1}).fit(X, G);
    CHECK(exact.training_value() >= greedy.training_value() - 1e-12);
    // Greedy depth 1 is the exact depth-1 tree.
    const auto exact1 = PolicyTree({.depth = 1, .max_bins = 16}).fit(X, G);
    const auto greedy1 = PolicyTree({.depth = 1, .max_bins = 16, .greedy = true}).fit(X, G);
    CHECK(exact1.nodes() == greedy1.nodes());
  }
  // Γ(·, 1) − Γ(·, 0) = s(x0)·s(x1) + 0.3·s(x2) with s = sign: the best depth-2 tree splits x0
  // then x1 (value 0.5); greedy is lured by the only marginal signal x2 (about 0.15).
  const Index n = 4000;
  Rng rng(5);
  Matrix X(n, 3);
  Matrix G = Matrix::Zero(n, 2);
  auto sign = [](double v) { return v > 0 ? 1.0 : -1.0; };
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 3; ++j) X(i, j) = rng.uniform(-1.0, 1.0);
    G(i, 1) = sign(X(i, 0)) * sign(X(i, 1)) + 0.3 * sign(X(i, 2));
  }
  const auto exact = PolicyTree({.depth = 2, .max_bins = 32}).fit(X, G);
  const auto greedy = PolicyTree({.depth = 2, .max_bins = 32, .greedy = true}).fit(X, G);
  CHECK(exact.training_value() == Approx(0.5).margin(0.03));
  CHECK(greedy.training_value() < 0.25);
  CHECK(exact.nodes()[0].feature <= 1);
  CHECK(greedy.nodes()[0].feature == 2);
}

TEST_CASE("PolicyTree: greedy deeper trees respect depth and min_node_size", "[policy_tree]") {
  Matrix X, G;
  random_problem(500, 4, 3, false, 77, X, G);
  const auto model =
      PolicyTree({.depth = 4, .max_bins = 32, .min_node_size = 20, .greedy = true}).fit(X, G);
  CHECK(model.depth() <= 4);
  CHECK(smallest_leaf(model) >= 20);
  CHECK(model.training_value() == Approx(mean_score(G, model.predict(X))).epsilon(1e-12));
  const auto shallow =
      PolicyTree({.depth = 2, .max_bins = 32, .min_node_size = 20, .greedy = true}).fit(X, G);
  CHECK(model.training_value() >= shallow.training_value() - 1e-12);
}

TEST_CASE("PolicyTree: identical trees for num_threads 1, 2 and 4", "[policy_tree]") {
  Matrix X, G;
  random_problem(2000, 6, 3, false, 9, X, G);
  for (int depth : {2, 3}) {
    const int max_bins = depth == 2 ? 64 : 8;
    std::vector<PolicyTreeModel> models;
    for (int threads : {1, 2, 4}) {
      models.push_back(
          PolicyTree({.depth = depth, .max_bins = max_bins, .num_threads = threads}).fit(X, G));
    }
    CHECK(models[0].nodes() == models[1].nodes());
    CHECK(models[0].nodes() == models[2].nodes());
    CHECK(models[0].training_value() == models[1].training_value());
    CHECK(models[0].training_value() == models[2].training_value());
  }
}

TEST_CASE("PolicyTree: save then load gives identical predictions", "[policy_tree]") {
  Matrix X, G;
  random_problem(500, 4, 3, false, 21, X, G);
  const auto model = PolicyTree({.depth = 2, .max_bins = 32}).fit(X, G);
  std::stringstream buffer;
  tailor::save(model, buffer);
  const auto loaded = tailor::load<PolicyTreeModel>(buffer);
  CHECK(loaded.nodes() == model.nodes());
  CHECK(loaded.training_value() == model.training_value());
  CHECK(loaded.num_actions() == 3);
  CHECK(loaded.predict(X) == model.predict(X));
  CHECK(loaded.describe() == model.describe());

  std::string bytes;
  {
    std::ostringstream out;
    tailor::save(model, out);
    bytes = out.str();
  }
  std::istringstream truncated(bytes.substr(0, bytes.size() - 5));
  CHECK_THROWS_AS(tailor::load<PolicyTreeModel>(truncated), tailor::FormatError);
  std::string corrupt = bytes;
  corrupt[10] ^= 0x7f;  // format version
  std::istringstream corrupt_in(corrupt);
  CHECK_THROWS_AS(tailor::load<PolicyTreeModel>(corrupt_in), tailor::FormatError);
  std::istringstream trailing(bytes + "x");
  CHECK_THROWS_WITH(tailor::load<PolicyTreeModel>(trailing), Catch::Contains("trailing"));

  // A well-formed file whose root points back at itself must be rejected, not loop forever.
  std::ostringstream crafted;
  tailor::BinaryWriter writer(crafted);
  writer.write_header("policy::PolicyTree", 1);
  writer.write(Index{2});
  writer.write(Index{2});
  writer.write(0.5);
  writer.write(std::vector<std::uint8_t>{0, 1, 1});
  writer.write(std::vector<Index>{0, -1, -1});
  writer.write(std::vector<double>{0.0, 0.0, 0.0});
  writer.write(std::vector<Index>{0, -1, -1});  // left child of node 0 is node 0
  writer.write(std::vector<Index>{2, -1, -1});
  writer.write(std::vector<Index>{-1, 0, 1});
  writer.write(std::vector<Index>{10, 5, 5});
  std::istringstream crafted_in(crafted.str());
  CHECK_THROWS_WITH(tailor::load<PolicyTreeModel>(crafted_in),
                    Catch::Contains("node 0 is invalid"));
}

TEST_CASE("PolicyTree: bad input throws with a message naming it", "[policy_tree]") {
  using tailor::DataError;
  using tailor::InvalidArgument;
  using tailor::ShapeMismatch;
  CHECK_THROWS_WITH(PolicyTree({.depth = 0}),
                    Catch::Contains("PolicyTree: depth = 0, expected a value in [1, 20]"));
  CHECK_THROWS_AS(PolicyTree({.depth = 21}), InvalidArgument);
  CHECK_THROWS_WITH(PolicyTree({.max_bins = 1}),
                    Catch::Contains("max_bins = 1, expected 0 (every distinct value)"));
  CHECK_THROWS_AS(PolicyTree({.max_bins = 257}), InvalidArgument);
  CHECK_THROWS_WITH(PolicyTree({.min_node_size = 0}),
                    Catch::Contains("min_node_size = 0, expected at least 1"));
  CHECK_THROWS_WITH(PolicyTree({.num_threads = -1}), Catch::Contains("num_threads = -1"));

  Matrix X, G;
  random_problem(20, 2, 2, false, 3, X, G);
  const PolicyTree tree;
  CHECK_THROWS_WITH(tree.fit(X, G.topRows(19)),
                    Catch::Contains("scores has 19 rows, expected 20 (the rows of X)"));
  CHECK_THROWS_AS(tree.fit(X, G.topRows(19)), ShapeMismatch);
  CHECK_THROWS_WITH(tree.fit(X, G.leftCols(1)),
                    Catch::Contains("scores.cols() = 1, expected at least 2"));
  CHECK_THROWS_AS(tree.fit(Matrix(0, 2), Matrix(0, 2)), DataError);
  CHECK_THROWS_WITH(tree.fit(Matrix(20, 0), G),
                    Catch::Contains("X.cols() = 0, expected at least 1 feature"));
  Matrix bad_X = X;
  bad_X(3, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(tree.fit(bad_X, G),
                    Catch::Contains("PolicyTree::fit: X(3, 1) = nan, expected a finite value"));
  Matrix bad_G = G;
  bad_G(7, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(tree.fit(X, bad_G), Catch::Contains("scores(7, 0) = inf"));
  CHECK_THROWS_WITH(PolicyTree({.min_node_size = 21}).fit(X, G),
                    Catch::Contains("min_node_size = 21, expected at most the 20 rows of X"));

  const auto model = tree.fit(X, G);
  CHECK_THROWS_WITH(model.predict(Matrix::Zero(3, 3)),
                    Catch::Contains("X has 3 columns, expected 2"));
  CHECK_THROWS_AS(model.predict(bad_X), DataError);
  CHECK_THROWS_WITH(model.describe({"only_one"}),
                    Catch::Contains("feature_names has 1 names, expected 2"));
}
