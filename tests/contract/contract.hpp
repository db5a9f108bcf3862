// tests/contract/contract.hpp — the estimator contract suite (issue 20; the idea of
// scikit-learn's check_estimator): one set of checks that every estimator of a family is
// registered in, so a new estimator gets the whole battery by adding one line.
//
// Families (each a function template below, called from tests/contract/<module>_contract_test):
//   check_supervised   fit(X, y, weights) -> model.predict(X) or predict_proba(X)  (learn/)
//   check_effect       fit(CausalData)    -> model.predict(X) (CATE)              (cate/, uplift/)
//   check_unsupervised fit(X)             -> model output on X                    (segment/)
// What every family checks, each failure with the exception type and the words that must appear:
//   - NaN/Inf in each input -> DataError naming the argument and the position ("X(5, 2) = nan");
//   - empty data -> DataError; mismatched lengths -> ShapeMismatch naming both sizes;
//   - one row, constant and duplicate columns, extreme magnitudes (1e±300): either a fitted model
//     whose outputs are finite or a tailor::Error, never NaN output, a crash or UB (ASan/UBSan);
//   - inputs not modified by fit;
//   - outputs and saved bytes bit-identical for 1, 2 and 7 threads;
//   - save -> load -> save gives identical bytes, and the loaded model predicts identically;
//   - every count parameter set to -1, 2^62 and 10^12 (and 0 where 0 is not a value) ->
//     InvalidArgument naming the parameter.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"

namespace contract {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using Index = Eigen::Index;

/// A count parameter and how to build the estimator with a value of it (the constructor or fit
/// must throw InvalidArgument for each bad value).
struct CountParameter {
  std::string name;
  std::function<void(std::int64_t)> build_and_fit;
  bool zero_is_invalid = true;
};

/// The absurd values every count parameter must refuse.
inline std::vector<std::int64_t> absurd_counts(bool zero_is_invalid) {
  std::vector<std::int64_t> values{-1, std::int64_t{1} << 62, 1'000'000'000'000};
  if (zero_is_invalid) values.push_back(0);
  return values;
}

inline void check_count_parameters(const std::string& estimator,
                                   const std::vector<CountParameter>& parameters) {
  for (const CountParameter& p : parameters) {
    for (const std::int64_t value : absurd_counts(p.zero_is_invalid)) {
      INFO(estimator << ": " << p.name << " = " << value);
      try {
        p.build_and_fit(value);
        FAIL("accepted");
      } catch (const tailor::InvalidArgument& e) {
        CHECK_THAT(e.what(), Catch::Contains(p.name));
      }
    }
  }
}

/// Bytes of tailor::save(model).
template <class M>
std::string saved_bytes(const M& model) {
  std::ostringstream out;
  tailor::save(model, out);
  return out.str();
}

/// save -> load -> save: identical bytes; returns the loaded model.
template <class M>
M reload(const M& model) {
  const std::string bytes = saved_bytes(model);
  std::istringstream in(bytes);
  M loaded = tailor::load<M>(in);
  CHECK(saved_bytes(loaded) == bytes);
  return loaded;
}

inline bool identical(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

/// Runs `f`; passes when it returns finite outputs or throws a tailor::Error (and reports which).
template <class F>
void finite_or_error(const std::string& what, F&& f) {
  INFO(what);
  try {
    const Matrix out = f();
    CHECK(out.allFinite());
  } catch (const tailor::Error& e) {
    SUCCEED(std::string("refused with: ") + e.what());
  }
}

/// Expects exception E whose message contains every needle.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
    FAIL("no exception; expected one containing " << *needles.begin());
  } catch (const E& e) {
    for (const std::string& needle : needles) CHECK_THAT(e.what(), Catch::Contains(needle));
  }
}

/// A small design: n rows, p features (uniform), continuous y or 0/1 labels.
struct Supervised {
  Matrix X;
  Vector y;
  Vector weights;
};

inline Supervised make_supervised(Index n, Index p, bool labels, std::uint64_t seed = 17) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Supervised d{Matrix(n, p), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = u(rng);
    const double signal = d.X(i, 0) + 0.5 * d.X(i, 1 % p) + 0.3 * u(rng);
    d.y[i] = labels ? (signal > 0.0 ? 1.0 : 0.0) : signal;
    d.weights[i] = 0.5 + 0.5 * (u(rng) + 1.0);
  }
  return d;
}

/// The supervised family. make(threads) returns the learner; output(model, X) its predictions
/// (predict or predict_proba) as a matrix.
template <class Make, class Output>
void check_supervised(const std::string& name, Make make, Output output, bool classifier,
                      const std::vector<CountParameter>& counts) {
  const Index n = 120;
  const Index p = 4;
  const Supervised d = make_supervised(n, p, classifier);
  INFO(name);

  SECTION("fits, predicts finite values, does not modify its inputs") {
    const Supervised copy = d;
    const auto model = make(1).fit(d.X, d.y, d.weights);
    CHECK(output(model, d.X).allFinite());
    CHECK(identical(copy.X, d.X));
    CHECK(identical(copy.y, d.y));
    CHECK(identical(copy.weights, d.weights));
  }
  SECTION("bit-identical for 1, 2 and 7 threads, and after save -> load -> save") {
    const auto one = make(1).fit(d.X, d.y, d.weights);
    const Matrix reference = output(one, d.X);
    const std::string bytes = saved_bytes(one);
    for (const Index threads : {2, 7}) {
      INFO("threads " << threads);
      const auto model = make(threads).fit(d.X, d.y, d.weights);
      CHECK(identical(output(model, d.X), reference));
      CHECK(saved_bytes(model) == bytes);
    }
    CHECK(identical(output(reload(one), d.X), reference));
  }
  SECTION("NaN and Inf in each input name the argument and the position") {
    Matrix X = d.X;
    X(5, 2) = std::numeric_limits<double>::quiet_NaN();
    expect_error<tailor::DataError>([&] { make(1).fit(X, d.y, d.weights); }, {"X(5, 2) = nan"});
    X(5, 2) = std::numeric_limits<double>::infinity();
    expect_error<tailor::DataError>([&] { make(1).fit(X, d.y, d.weights); }, {"X(5, 2) = inf"});
    Vector y = d.y;
    y[7] = std::numeric_limits<double>::quiet_NaN();
    expect_error<tailor::DataError>([&] { make(1).fit(d.X, y, d.weights); }, {"y[7] = nan"});
    Vector w = d.weights;
    w[3] = -std::numeric_limits<double>::infinity();
    expect_error<tailor::DataError>([&] { make(1).fit(d.X, d.y, w); }, {"weights[3]"});
  }
  SECTION("empty data and mismatched lengths") {
    expect_error<tailor::DataError>([&] { make(1).fit(Matrix(0, p), Vector(0), Vector()); }, {"X"});
    expect_error<tailor::ShapeMismatch>([&] { make(1).fit(d.X, d.y.head(n - 1), d.weights); },
                                        {"y has 119 rows", "120"});
    expect_error<tailor::ShapeMismatch>([&] { make(1).fit(d.X, d.y, Vector::Ones(3)); },
                                        {"weights has 3 rows"});
  }
  SECTION("one row, constant and duplicate columns, extreme magnitudes") {
    finite_or_error(
        "one row", [&] { return output(make(1).fit(d.X.topRows(1), d.y.head(1), Vector()), d.X); });
    Matrix X = d.X;
    X.col(1).setConstant(3.0);
    X.col(3) = X.col(2);
    finite_or_error("constant and duplicate columns",
                    [&] { return output(make(1).fit(X, d.y, d.weights), X); });
    for (const double scale : {1e300, 1e-300}) {
      const Matrix scaled = d.X * scale;
      finite_or_error("X scaled by " + std::to_string(scale),
                      [&] { return output(make(1).fit(scaled, d.y, d.weights), scaled); });
      if (!classifier) {
        const Vector y = d.y * scale;
        finite_or_error("y scaled by " + std::to_string(scale),
                        [&] { return output(make(1).fit(d.X, y, d.weights), d.X); });
      }
    }
    if (classifier) {
      finite_or_error("a single class",
                      [&] { return output(make(1).fit(d.X, Vector::Zero(n), d.weights), d.X); });
      Vector y = d.y;
      y[4] = 0.5;
      expect_error<tailor::DataError>([&] { make(1).fit(d.X, y, d.weights); }, {"y[4] = 0.5"});
    }
  }
  SECTION("absurd count parameters") {
    check_count_parameters(name, counts);
  }
}

/// A causal design: n rows, p features, randomized binary w, τ(x) = x₁, sample weights.
struct Causal {
  Matrix X;
  Vector w;
  Vector y;
  Vector weights;
};

inline Causal make_causal(Index n, Index p, std::uint64_t seed = 29) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Causal d{Matrix(n, p), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = u(rng);
    d.w[i] = u(rng) > 0.0 ? 1.0 : 0.0;
    d.y[i] = d.X(i, 0) + d.w[i] * d.X(i, 1 % p) + 0.3 * u(rng);
    d.weights[i] = 0.5 + 0.5 * (u(rng) + 1.0);
  }
  return d;
}

/// The effect family: make(threads) returns the estimator, fit(CausalData) a model whose
/// predict(X) is τ̂(x). The input checks themselves belong to CausalData (core/data_test); here:
/// the estimator on valid but awkward data, thread invariance, save/load, count parameters.
template <class Make>
void check_effect(const std::string& name, Make make, const std::vector<CountParameter>& counts) {
  const Index n = 200;
  const Causal d = make_causal(n, 4);
  const tailor::CausalData data(d.X, d.w, d.y, {.sample_weights = d.weights});
  INFO(name);
  const auto predict = [](const auto& model, const Matrix& X) { return Matrix(model.predict(X)); };

  SECTION("fits, predicts finite effects, does not modify its inputs") {
    const Causal copy = d;
    const auto model = make(1).fit(data);
    CHECK(predict(model, d.X).allFinite());
    CHECK(identical(copy.X, d.X));
    CHECK(identical(copy.y, d.y));
    CHECK(identical(copy.w, d.w));
  }
  SECTION("bit-identical for 1, 2 and 7 threads, and after save -> load -> save") {
    const auto one = make(1).fit(data);
    const Matrix reference = predict(one, d.X);
    const std::string bytes = saved_bytes(one);
    for (const Index threads : {2, 7}) {
      INFO("threads " << threads);
      const auto model = make(threads).fit(data);
      CHECK(identical(predict(model, d.X), reference));
      CHECK(saved_bytes(model) == bytes);
    }
    CHECK(identical(predict(reload(one), d.X), reference));
  }
  SECTION("few rows, constant and duplicate columns, extreme magnitudes") {
    for (const Index rows : {4, 10}) {
      finite_or_error(std::to_string(rows) + " rows", [&] {
        const Matrix X = d.X.topRows(rows);
        Vector w = d.w.head(rows);
        for (Index i = 0; i < rows; ++i) w[i] = i % 2;  // both arms present
        return predict(make(1).fit(tailor::CausalData(X, w, d.y.head(rows))), d.X);
      });
    }
    Matrix X = d.X;
    X.col(2).setConstant(-7.0);
    X.col(3) = X.col(1);
    finite_or_error("constant and duplicate columns",
                    [&] { return predict(make(1).fit(tailor::CausalData(X, d.w, d.y)), X); });
    for (const double scale : {1e300, 1e-300}) {
      const Matrix scaled = d.X * scale;
      finite_or_error("X scaled by " + std::to_string(scale), [&] {
        return predict(make(1).fit(tailor::CausalData(scaled, d.w, d.y)), scaled);
      });
      const Vector y = d.y * scale;
      finite_or_error("y scaled by " + std::to_string(scale),
                      [&] { return predict(make(1).fit(tailor::CausalData(d.X, d.w, y)), d.X); });
    }
  }
  SECTION("absurd count parameters") {
    check_count_parameters(name, counts);
  }
}

/// The unsupervised family (segment/): make(threads) returns the estimator, fit(X) a model,
/// output(model, X) what it computes on X (labels, distances, factors) as a matrix. X is
/// non-negative (NMF needs it).
template <class Make, class Output>
void check_unsupervised(const std::string& name, Make make, Output output,
                        const std::vector<CountParameter>& counts) {
  const Index n = 150;
  const Index p = 5;
  std::mt19937_64 rng(41);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix X0(n, p);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) X0(i, j) = u(rng) + (i % 3 == 0 ? 2.0 : 0.0) * (j == 0);
  }
  const Matrix& X = X0;
  INFO(name);

  SECTION("fits, outputs finite values, does not modify its input") {
    const Matrix copy = X;
    const auto model = make(1).fit(X);
    CHECK(output(model, X).allFinite());
    CHECK(identical(copy, X));
  }
  SECTION("bit-identical for 1, 2 and 7 threads, and after save -> load -> save") {
    const auto one = make(1).fit(X);
    const Matrix reference = output(one, X);
    const std::string bytes = saved_bytes(one);
    for (const Index threads : {2, 7}) {
      INFO("threads " << threads);
      const auto model = make(threads).fit(X);
      CHECK(identical(output(model, X), reference));
      CHECK(saved_bytes(model) == bytes);
    }
    CHECK(identical(output(reload(one), X), reference));
  }
  SECTION("NaN, Inf and empty input") {
    Matrix bad = X;
    bad(5, 2) = std::numeric_limits<double>::quiet_NaN();
    expect_error<tailor::DataError>([&] { make(1).fit(bad); }, {"X(5, 2) = nan"});
    bad(5, 2) = std::numeric_limits<double>::infinity();
    expect_error<tailor::DataError>([&] { make(1).fit(bad); }, {"X(5, 2) = inf"});
    expect_error<tailor::Error>([&] { make(1).fit(Matrix(0, p)); }, {"X"});
  }
  SECTION("one row, constant and duplicate columns, extreme magnitudes") {
    finite_or_error("one row", [&] { return output(make(1).fit(X.topRows(1)), X); });
    Matrix Y = X;
    Y.col(1).setConstant(3.0);
    Y.col(3) = Y.col(2);
    finite_or_error("constant and duplicate columns", [&] { return output(make(1).fit(Y), Y); });
    for (const double scale : {1e300, 1e-300}) {
      const Matrix scaled = X * scale;
      finite_or_error("X scaled by " + std::to_string(scale),
                      [&] { return output(make(1).fit(scaled), scaled); });
    }
  }
  SECTION("absurd count parameters") {
    check_count_parameters(name, counts);
  }
}

}  // namespace contract
