// Tests for tailor/core/data.hpp: accessors, views vs. owned copies, and every validation.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>

#include "tailor/core/data.hpp"

using tailor::BanditData;
using tailor::CausalData;
using tailor::CausalDataOptions;
using tailor::Index;

namespace {
// 6 units, 2 features; treated rows 1, 3, 4.
struct Small {
  Eigen::MatrixXd X{{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}};
  Eigen::VectorXd w{{0, 1, 0, 1, 1, 0}};
  Eigen::VectorXd y{{0.5, 1.5, -2, 3, 4, 0}};
};
}  // namespace

TEST_CASE("CausalData exposes the viewed data and counts the arms", "[data]") {
  const Small s;
  const CausalData data(s.X, s.w, s.y);
  CHECK(data.num_rows() == 6);
  CHECK(data.num_features() == 2);
  CHECK(data.num_treated() == 3);
  CHECK(data.num_control() == 3);
  CHECK_FALSE(data.has_sample_weights());
  CHECK_FALSE(data.has_propensity());
  CHECK(data.sample_weights().size() == 0);
  CHECK(data.propensity().size() == 0);
  // Plain matrices are viewed in place, not copied.
  CHECK(data.X().data() == s.X.data());
  CHECK(data.w().data() == s.w.data());
  CHECK(data.y().data() == s.y.data());
  CHECK(data.X()(4, 1) == 10.0);

  // Blocks with direct access are viewed in place too.
  const CausalData first_col(s.X.leftCols(1), s.w, s.y);
  CHECK(first_col.num_features() == 1);
  CHECK(first_col.X().data() == s.X.data());
}

TEST_CASE("CausalData keeps optional weights and propensities", "[data]") {
  const Small s;
  const Eigen::VectorXd weights{{1, 2, 0, 1, 1, 3}};
  const Eigen::VectorXd e = Eigen::VectorXd::Constant(6, 0.5);
  const CausalData data(s.X, s.w, s.y, {.sample_weights = weights, .propensity = e});
  CHECK(data.has_sample_weights());
  CHECK(data.has_propensity());
  CHECK(data.sample_weights() == weights);
  CHECK(data.propensity() == e);
  const CausalData only_e(s.X, s.w, s.y, {.propensity = e});
  CHECK_FALSE(only_e.has_sample_weights());
  CHECK(only_e.has_propensity());
}

TEST_CASE("CausalData owns evaluated copies of expression arguments", "[data]") {
  const Small s;
  const Eigen::VectorXi w_int = s.w.cast<int>();
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X_row = s.X;
  std::optional<CausalData> kept;
  {
    // A cast, a scaled vector and a row-major matrix cannot be viewed in place: the view must
    // hold its own copies (a dangling read would show up under AddressSanitizer).
    const CausalData data(X_row, w_int.cast<double>(), 2.0 * s.y);
    kept.emplace(data);  // copies of the view share the owned storage
  }
  CHECK(kept->X() == s.X);
  CHECK(kept->w() == s.w);
  CHECK(kept->y() == 2.0 * s.y);
  CHECK(kept->num_treated() == 3);

  // The same through the constructor with options.
  {
    kept.emplace(X_row, w_int.cast<double>(), s.y.array() + 1.0,
                 CausalDataOptions{.sample_weights = Eigen::VectorXd::Ones(6)});
  }
  CHECK(kept->X() == s.X);
  CHECK(kept->w() == s.w);
  CHECK(kept->y() == (s.y.array() + 1.0).matrix());
  CHECK(kept->sample_weights() == Eigen::VectorXd::Ones(6));
}

TEST_CASE("CausalData rejects bad shapes", "[data]") {
  const Small s;
  CHECK_THROWS_WITH(CausalData(Eigen::MatrixXd(0, 2), Eigen::VectorXd(), Eigen::VectorXd()),
                    Catch::Contains("CausalData: X has 0 rows, expected at least 1"));
  CHECK_THROWS_AS(CausalData(Eigen::MatrixXd(0, 2), Eigen::VectorXd(), Eigen::VectorXd()),
                  tailor::DataError);
  CHECK_THROWS_WITH(CausalData(Eigen::MatrixXd(6, 0), s.w, s.y),
                    Catch::Contains("CausalData: X has 0 columns, expected at least 1"));
  CHECK_THROWS_AS(CausalData(s.X, s.w.head(5), s.y), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(CausalData(s.X, s.w.head(5), s.y),
                    Catch::Contains("CausalData: w has 5 rows, expected 6 (the rows of X)"));
  CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y.head(4)),
                    Catch::Contains("CausalData: y has 4 rows, expected 6 (the rows of X)"));
  CHECK_THROWS_WITH(
      CausalData(s.X, s.w, s.y, {.sample_weights = Eigen::VectorXd::Ones(3)}),
      Catch::Contains("CausalData: sample_weights has 3 rows, expected 6 (the rows of X) or 0"));
  CHECK_THROWS_AS(CausalData(s.X, s.w, s.y, {.propensity = Eigen::VectorXd::Constant(7, 0.5)}),
                  tailor::ShapeMismatch);
}

TEST_CASE("CausalData rejects bad values with their position", "[data]") {
  Small s;
  SECTION("non-finite values") {
    s.X(2, 1) = NAN;
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y),
                      Catch::Contains("CausalData: X(2, 1) = nan, expected a finite value"));
    CHECK_THROWS_AS(CausalData(s.X, s.w, s.y), tailor::DataError);
    s.X(2, 1) = 0.0;
    s.y[5] = -INFINITY;
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y),
                      Catch::Contains("CausalData: y[5] = -inf, expected a finite value"));
    s.y[5] = 0.0;
    s.w[0] = NAN;
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y),
                      Catch::Contains("CausalData: w[0] = nan, expected a finite value"));
  }
  SECTION("non-binary treatment") {
    s.w[4] = 0.5;
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y),
                      Catch::Contains("CausalData: w[4] = 0.5, expected 0 or 1"));
    s.w[4] = -1;
    CHECK_THROWS_AS(CausalData(s.X, s.w, s.y), tailor::DataError);
  }
  SECTION("constant treatment and small arms") {
    CHECK_THROWS_WITH(CausalData(s.X, Eigen::VectorXd::Ones(6), s.y),
                      Catch::Contains("CausalData: w is constant (all 6 rows have w = 1)"));
    CHECK_THROWS_WITH(CausalData(s.X, Eigen::VectorXd::Zero(6), s.y),
                      Catch::Contains("all 6 rows have w = 0"));
    const Eigen::VectorXd one_treated{{0, 0, 0, 1, 0, 0}};
    CHECK_THROWS_WITH(
        CausalData(s.X, one_treated, s.y),
        Catch::Contains("CausalData: 1 treated and 5 control rows, expected at least 2"));
    // With weights, rows of weight 0 do not count: treated rows 1, 3, 4 → only row 1 remains.
    const Eigen::VectorXd weights{{1, 1, 1, 0, 0, 1}};
    CHECK_THROWS_WITH(
        CausalData(s.X, s.w, s.y, {.sample_weights = weights}),
        Catch::Contains(
            "CausalData: 1 treated and 3 control rows with positive sample weight, expected at "
            "least 2 in each arm"));
  }
  SECTION("bad sample weights") {
    const Eigen::VectorXd negative{{1, 1, -0.5, 1, 1, 1}};
    CHECK_THROWS_WITH(
        CausalData(s.X, s.w, s.y, {.sample_weights = negative}),
        Catch::Contains("CausalData: sample_weights[2] = -0.5, expected a value >= 0"));
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y, {.sample_weights = Eigen::VectorXd::Zero(6)}),
                      Catch::Contains("CausalData: sample_weights sum to 0"));
    const Eigen::VectorXd infinite{{1, 1, 1, INFINITY, 1, 1}};
    CHECK_THROWS_WITH(
        CausalData(s.X, s.w, s.y, {.sample_weights = infinite}),
        Catch::Contains("CausalData: sample_weights[3] = inf, expected a finite value"));
  }
  SECTION("propensities outside (0, 1)") {
    Eigen::VectorXd e = Eigen::VectorXd::Constant(6, 0.3);
    e[3] = 1.0;
    CHECK_THROWS_WITH(
        CausalData(s.X, s.w, s.y, {.propensity = e}),
        Catch::Contains(
            "CausalData: propensity[3] = 1, expected a value strictly between 0 and 1"));
    e[3] = 0.0;
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y, {.propensity = e}),
                      Catch::Contains("propensity[3] = 0, expected a value strictly between"));
    e[3] = NAN;
    CHECK_THROWS_AS(CausalData(s.X, s.w, s.y, {.propensity = e}), tailor::DataError);
    e[3] = 1e-310;  // 1/e = inf: would turn every weight into inf
    CHECK_THROWS_WITH(CausalData(s.X, s.w, s.y, {.propensity = e}),
                      Catch::Contains("propensity[3] = 1e-310, expected a value strictly between "
                                      "0 and 1 (at least 1e-12 from either end"));
  }
}

TEST_CASE("BanditData views logged feedback and infers the number of actions", "[data]") {
  const Eigen::MatrixXd X{{1, 0}, {0, 1}, {1, 1}, {2, 2}};
  const tailor::IndexVector action{{0, 2, 1, 2}};
  const Eigen::VectorXd reward{{1.0, 0.0, 0.5, 2.0}};
  const Eigen::VectorXd p{{0.5, 0.25, 1.0, 0.25}};
  const BanditData data(X, action, reward, p);
  CHECK(data.num_rows() == 4);
  CHECK(data.num_features() == 2);
  CHECK(data.num_actions() == 3);  // max action 2 + 1
  CHECK(data.action().data() == action.data());
  CHECK(data.reward()[3] == 2.0);
  CHECK(data.propensity()[2] == 1.0);

  // Explicit K larger than every logged action (action 4 never logged).
  CHECK(BanditData(X, action, reward, p, 5).num_actions() == 5);

  // No context features: X has n rows and 0 columns.
  const BanditData no_context(Eigen::MatrixXd(4, 0), action, reward, p);
  CHECK(no_context.num_features() == 0);
  CHECK(no_context.num_rows() == 4);

  // Actions stored as int are cast and owned by the view.
  const Eigen::VectorXi action_int{{0, 2, 1, 2}};
  std::optional<BanditData> kept;
  { kept.emplace(BanditData(X, action_int.cast<Index>(), reward, p)); }
  CHECK(kept->action() == action);
  CHECK(kept->num_actions() == 3);
}

TEST_CASE("BanditData rejects bad input", "[data]") {
  const Eigen::MatrixXd X = Eigen::MatrixXd::Zero(4, 1);
  tailor::IndexVector action{{0, 2, 1, 2}};
  Eigen::VectorXd reward{{1.0, 0.0, 0.5, 2.0}};
  Eigen::VectorXd p{{0.5, 0.25, 1.0, 0.25}};
  CHECK_THROWS_WITH(BanditData(X, action, reward, p, 2),
                    Catch::Contains("BanditData: action[1] = 2, expected an action in 0..1"));
  CHECK_THROWS_WITH(BanditData(X, action, reward, p, -1),
                    Catch::Contains("BanditData: num_actions = -1, expected 0 (infer"));
  CHECK_THROWS_AS(BanditData(X, action, reward, p, -1), tailor::InvalidArgument);
  CHECK_THROWS_WITH(BanditData(Eigen::MatrixXd(0, 1), tailor::IndexVector(), Eigen::VectorXd(),
                               Eigen::VectorXd()),
                    Catch::Contains("BanditData: X has 0 rows, expected at least 1"));
  CHECK_THROWS_WITH(BanditData(X, action.head(3), reward, p),
                    Catch::Contains("BanditData: action has 3 rows, expected 4 (the rows of X)"));
  CHECK_THROWS_AS(BanditData(X, action, reward.head(2), p), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(BanditData(X, action, reward, p.head(1)),
                    Catch::Contains("BanditData: propensity has 1 rows, expected 4"));

  action[2] = -3;
  CHECK_THROWS_WITH(BanditData(X, action, reward, p),
                    Catch::Contains("BanditData: action[2] = -3, expected an action in 0..999999"));
  action[2] = 1;
  reward[1] = NAN;
  CHECK_THROWS_WITH(BanditData(X, action, reward, p),
                    Catch::Contains("BanditData: reward[1] = nan, expected a finite value"));
  reward[1] = 0.0;
  p[3] = 0.0;
  CHECK_THROWS_WITH(
      BanditData(X, action, reward, p),
      Catch::Contains("BanditData: propensity[3] = 0, expected a probability in (0, 1]"));
  p[3] = 1.5;
  CHECK_THROWS_AS(BanditData(X, action, reward, p), tailor::DataError);
  // A denormal propensity (1/p = inf) used to pass and give NaN values downstream.
  p[3] = 1e-310;
  CHECK_THROWS_WITH(BanditData(X, action, reward, p),
                    Catch::Contains("propensity[3] = 1e-310, expected a probability in (0, 1], "
                                    "at least 1e-12"));
  p[3] = 0.25;
  // One corrupt action must not size an n x 2^40 matrix: inferred K is bounded.
  action[1] = std::int64_t{1} << 40;
  CHECK_THROWS_WITH(BanditData(X, action, reward, p),
                    Catch::Contains("action[1] = 1099511627776, expected an action in 0..999999 "
                                    "(at most 1000000 actions)"));
  action[1] = 0;
  CHECK_THROWS_WITH(BanditData(X, action, reward, p, std::int64_t{1} << 40),
                    Catch::Contains("num_actions"));
  Eigen::MatrixXd X_bad = Eigen::MatrixXd::Zero(4, 2);
  X_bad(3, 1) = INFINITY;
  CHECK_THROWS_WITH(BanditData(X_bad, action, reward, p),
                    Catch::Contains("BanditData: X(3, 1) = inf, expected a finite value"));
}
