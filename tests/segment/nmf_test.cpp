#include <sstream>

#include <Eigen/SVD>
#include <catch2/catch.hpp>

#include "tailor/segment/nmf.hpp"

using namespace tailor;
using tailor::segment::Nmf;
using tailor::segment::NmfInit;
using tailor::segment::NmfModel;
using tailor::segment::NmfParams;
using tailor::segment::NmfSolver;

namespace {

struct Planted {
  Matrix W, H, X;
};

// X = max(0, W·H + noise) with W, H uniform on [0, 1).
Planted planted(Index n, Index p, Index k, double noise, std::uint64_t seed) {
  Rng rng(seed);
  Planted d;
  d.W = Matrix(n, k);
  d.H = Matrix(k, p);
  for (Index j = 0; j < k; ++j)
    for (Index i = 0; i < n; ++i) d.W(i, j) = rng.uniform();
  for (Index j = 0; j < p; ++j)
    for (Index i = 0; i < k; ++i) d.H(i, j) = rng.uniform();
  d.X = d.W * d.H;
  for (Index j = 0; j < p; ++j)
    for (Index i = 0; i < n; ++i) d.X(i, j) = std::max(0.0, d.X(i, j) + noise * rng.normal());
  return d;
}

double centered_ss(const Matrix& X) {
  return (X.rowwise() - X.colwise().mean()).squaredNorm();
}

// f(W, H) recomputed from scratch in sklearn's scaling.
double objective(const Matrix& X, const Matrix& W, const Matrix& H, const NmfParams& p) {
  const double n = static_cast<double>(X.rows()), cols = static_cast<double>(X.cols());
  return 0.5 * (X - W * H).squaredNorm() + p.alpha_W * p.l1_ratio * cols * W.sum() +
         0.5 * p.alpha_W * (1 - p.l1_ratio) * cols * W.squaredNorm() +
         p.alpha_H * p.l1_ratio * n * H.sum() +
         0.5 * p.alpha_H * (1 - p.l1_ratio) * n * H.squaredNorm();
}

}  // namespace

TEST_CASE("Nmf recovers planted non-negative factors", "[segment][nmf]") {
  const Planted d = planted(300, 12, 3, 0.02, 7);
  // Noise-free optimum: the planted factors themselves.
  const double ev_truth = 1.0 - (d.X - d.W * d.H).squaredNorm() / centered_ss(d.X);
  // Eckart–Young: no rank-3 matrix has a smaller residual than the truncated SVD.
  Eigen::JacobiSVD<Matrix> svd(d.X);
  const double svd_residual = svd.singularValues().tail(12 - 3).squaredNorm();
  for (auto solver : {NmfSolver::hals, NmfSolver::multiplicative}) {
    const NmfModel m = Nmf({.num_components = 3,
                            .solver = solver,
                            .tol = 1e-7,
                            .max_iter = solver == NmfSolver::hals ? 500 : 3000})
                           .fit(d.X);
    INFO("solver " << static_cast<int>(solver) << " ev " << m.explained_variance_centered()
                   << " truth " << ev_truth);
    CHECK(m.explained_variance_centered() >= ev_truth - 0.01);
    const double residual = m.reconstruction_error() * m.reconstruction_error();
    CHECK(residual >= svd_residual * (1 - 1e-9));
    CHECK(residual == Approx((d.X - m.W() * m.H()).squaredNorm()).epsilon(1e-10));
    CHECK(m.explained_variance_uncentered() ==
          Approx(1 - residual / d.X.squaredNorm()).epsilon(1e-12));
    CHECK(m.explained_variance_centered() ==
          Approx(1 - residual / centered_ss(d.X)).epsilon(1e-12));
    CHECK((m.W().array() >= 0).all());
    CHECK((m.H().array() >= 0).all());
  }
}

TEST_CASE("Nmf exact solutions on tiny matrices", "[segment][nmf]") {
  SECTION("rank one is reproduced exactly by NNDSVD") {
    Vector u(3), v(4);
    u << 1, 2, 3;
    v << 1, 0, 2, 1;
    const Matrix X = u * v.transpose();
    for (auto init : {NmfInit::nndsvd, NmfInit::nndsvda, NmfInit::nndsvdar}) {
      const NmfModel m = Nmf({.num_components = 1, .init = init, .tol = 0, .max_iter = 50}).fit(X);
      CHECK(m.reconstruction_error() == Approx(0).margin(1e-9));
      CHECK(m.explained_variance_uncentered() == Approx(1.0).epsilon(1e-12));
      CHECK(m.explained_variance_centered() == Approx(1.0).epsilon(1e-12));
    }
  }
  SECTION("identity with one component: residual 1, EV 1/2 uncentered and 0 centered") {
    // Best non-negative rank-1 fit of I₂ keeps one diagonal entry: ‖X − WH‖² = 1,
    // ‖X‖² = 2, ‖X − x̄‖² = 4·¼ = 1.
    const Matrix X = Matrix::Identity(2, 2);
    const NmfModel m =
        Nmf({.num_components = 1, .init = NmfInit::random, .tol = 0, .max_iter = 500, .seed = 3})
            .fit(X);
    CHECK(m.reconstruction_error() == Approx(1.0).epsilon(1e-6));
    CHECK(m.explained_variance_uncentered() == Approx(0.5).epsilon(1e-6));
    CHECK(m.explained_variance_centered() == Approx(0.0).margin(1e-6));
  }
  SECTION("transform recovers exact scores when H is fixed") {
    Vector u(3), v(4);
    u << 1, 2, 3;
    v << 1, 0, 2, 1;
    const NmfModel m = Nmf({.num_components = 1, .tol = 0}).fit(u * v.transpose());
    Matrix X_new(2, 4);
    X_new.row(0) = 5 * v.transpose();
    X_new.row(1).setZero();  // an all-zero row scores 0
    const Matrix T = m.transform(X_new);
    // Hᵀw = x with H = c·vᵀ gives w = 5 / c.
    const double c = m.H()(0, 0) / v[0];
    CHECK(T(0, 0) == Approx(5.0 / c).epsilon(1e-8));
    CHECK(T(1, 0) == 0.0);
  }
}

TEST_CASE("Nmf objective never increases and matches its definition", "[segment][nmf]") {
  const Planted d = planted(150, 9, 4, 0.3, 11);
  for (auto solver : {NmfSolver::hals, NmfSolver::multiplicative}) {
    for (double alpha : {0.0, 0.01}) {
      for (auto init : {NmfInit::nndsvd, NmfInit::nndsvda, NmfInit::random}) {
        const NmfParams p{.num_components = 4,
                          .solver = solver,
                          .init = init,
                          .alpha_W = alpha,
                          .alpha_H = alpha / 2,
                          .l1_ratio = 0.5,
                          .tol = 0,
                          .max_iter = 60};
        const NmfModel m = Nmf(p).fit(d.X);
        const auto& trace = m.objective_trace();
        REQUIRE(trace.size() == 61);
        CHECK(m.iterations() == 60);
        CHECK_FALSE(m.converged());
        for (std::size_t t = 1; t < trace.size(); ++t) {
          INFO("solver " << static_cast<int>(solver) << " alpha " << alpha << " t " << t);
          CHECK(trace[t] <= trace[t - 1] + 1e-10 * trace[0]);
        }
        CHECK(m.objective() == Approx(objective(d.X, m.W(), m.H(), p)).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("Nmf L1 penalty makes factors sparser", "[segment][nmf]") {
  const Planted d = planted(200, 10, 3, 0.05, 5);
  const NmfModel plain = Nmf({.num_components = 3, .tol = 0, .max_iter = 100}).fit(d.X);
  const NmfModel sparse =
      Nmf({.num_components = 3, .alpha_W = 0.05, .l1_ratio = 1.0, .tol = 0, .max_iter = 100})
          .fit(d.X);
  CHECK((sparse.W().array() == 0).count() > (plain.W().array() == 0).count());
  CHECK(sparse.W().sum() < plain.W().sum());
}

TEST_CASE("Nmf stops on tol and reports convergence", "[segment][nmf]") {
  const Planted d = planted(100, 8, 2, 0.01, 2);
  const NmfModel m = Nmf({.num_components = 2, .tol = 1e-4, .max_iter = 1000}).fit(d.X);
  CHECK(m.converged());
  CHECK(m.iterations() < 1000);
  const auto& t = m.objective_trace();
  CHECK(t[t.size() - 2] - t.back() <= 1e-4 * t.front());
}

TEST_CASE("Nmf transform solves the scores with H fixed", "[segment][nmf]") {
  const Planted d = planted(120, 10, 3, 0.02, 9);
  for (auto solver : {NmfSolver::hals, NmfSolver::multiplicative}) {
    const NmfModel m = Nmf({.num_components = 3,
                            .solver = solver,
                            .tol = 1e-6,
                            .max_iter = solver == NmfSolver::hals ? 300 : 2000})
                           .fit(d.X);
    const Matrix T = m.transform(d.X);
    CHECK((T.array() >= 0).all());
    // Per-row optimal scores fit at least about as well as the alternating fit's W.
    CHECK((d.X - T * m.H()).squaredNorm() <= 1.01 * (d.X - m.W() * m.H()).squaredNorm());
    // Rows are independent: one row alone gives the same score as in the batch.
    const Matrix one = m.transform(d.X.row(17));
    CHECK((one.row(0) - T.row(17)).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("nmf_rank_scan reports explained variance per k", "[segment][nmf]") {
  const Planted d = planted(200, 10, 3, 0.02, 21);
  const auto rows = segment::nmf_rank_scan(d.X, 1, 4, {.tol = 1e-6, .max_iter = 300});
  REQUIRE(rows.size() == 4);
  for (Index k = 1; k <= 4; ++k) {
    CHECK(rows[static_cast<std::size_t>(k - 1)].num_components == k);
    const auto m = Nmf({.num_components = k, .tol = 1e-6, .max_iter = 300}).fit(d.X);
    CHECK(rows[static_cast<std::size_t>(k - 1)].explained_variance_centered ==
          m.explained_variance_centered());
    CHECK(rows[static_cast<std::size_t>(k - 1)].reconstruction_error == m.reconstruction_error());
  }
  CHECK(rows[0].explained_variance_centered < rows[2].explained_variance_centered);
  CHECK(rows[2].explained_variance_centered > 0.99);
  CHECK(rows[3].explained_variance_centered >= rows[2].explained_variance_centered - 1e-3);
  CHECK_THROWS_WITH(segment::nmf_rank_scan(d.X, 3, 2),
                    Catch::Contains("k_max = 2, expected >= k_min = 3"));
}

TEST_CASE("Nmf is deterministic and thread-count invariant", "[segment][nmf]") {
  const Planted d = planted(5000, 8, 3, 0.1, 4);  // several row blocks
  for (auto init : {NmfInit::nndsvda, NmfInit::random, NmfInit::nndsvdar}) {
    for (auto solver : {NmfSolver::hals, NmfSolver::multiplicative}) {
      auto fit = [&](Index threads) {
        return Nmf({.num_components = 3,
                    .solver = solver,
                    .init = init,
                    .tol = 0,
                    .max_iter = 15,
                    .seed = 99,
                    .num_threads = threads})
            .fit(d.X);
      };
      const NmfModel a = fit(1), b = fit(2), c = fit(4);
      CHECK(a.W() == b.W());
      CHECK(a.W() == c.W());
      CHECK(a.H() == b.H());
      CHECK(a.H() == c.H());
      CHECK(a.objective_trace() == c.objective_trace());
      CHECK(a.reconstruction_error() == c.reconstruction_error());
      CHECK(a.transform(d.X) == c.transform(d.X));
    }
  }
  const auto r1 =
      Nmf({.num_components = 3, .init = NmfInit::random, .max_iter = 5, .seed = 1}).fit(d.X);
  const auto r2 =
      Nmf({.num_components = 3, .init = NmfInit::random, .max_iter = 5, .seed = 2}).fit(d.X);
  CHECK(r1.H() != r2.H());
}

TEST_CASE("NmfModel save and load round-trip", "[segment][nmf]") {
  const Planted d = planted(80, 6, 2, 0.05, 3);
  const NmfModel m = Nmf({.num_components = 2, .alpha_W = 0.01, .max_iter = 30}).fit(d.X);
  std::stringstream buffer;
  tailor::save(m, buffer);
  const NmfModel loaded = tailor::load<NmfModel>(buffer);
  CHECK(loaded.W() == m.W());
  CHECK(loaded.H() == m.H());
  CHECK(loaded.objective_trace() == m.objective_trace());
  CHECK(loaded.iterations() == m.iterations());
  CHECK(loaded.converged() == m.converged());
  CHECK(loaded.explained_variance_centered() == m.explained_variance_centered());
  CHECK(loaded.explained_variance_uncentered() == m.explained_variance_uncentered());
  CHECK(loaded.transform(d.X) == m.transform(d.X));
  std::string bytes = buffer.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_AS(tailor::load<NmfModel>(truncated), FormatError);
}

TEST_CASE("Nmf rejects bad input", "[segment][nmf]") {
  Matrix X = Matrix::Ones(4, 3);
  CHECK_THROWS_WITH(Nmf({.num_components = 0}),
                    Catch::Contains("Nmf: num_components = 0, expected 1 to 1048576"));
  CHECK_THROWS_WITH(Nmf({.l1_ratio = 1.5}), Catch::Contains("l1_ratio = 1.5"));
  CHECK_THROWS_WITH(Nmf({.alpha_W = -1}), Catch::Contains("alpha_W = -1"));
  CHECK_THROWS_WITH(Nmf({.max_iter = 0}), Catch::Contains("max_iter = 0, expected 1 to 10000000"));
  CHECK_THROWS_WITH(Nmf({.tol = -1}), Catch::Contains("tol = -1"));
  Matrix negative = X;
  negative(2, 1) = -0.5;
  CHECK_THROWS_WITH(Nmf().fit(negative),
                    Catch::Contains("Nmf: X(2, 1) = -0.5, expected a value >= 0"));
  Matrix nan = X;
  nan(1, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(Nmf().fit(nan), Catch::Contains("Nmf: X(1, 2) = nan, expected a finite value"));
  CHECK_THROWS_WITH(Nmf().fit(Matrix(0, 3)), Catch::Contains("X has 0 rows"));
  CHECK_THROWS_WITH(Nmf().fit(Matrix(3, 0)), Catch::Contains("X has 0 columns"));
  CHECK_THROWS_WITH(Nmf({.num_components = 4}).fit(X),
                    Catch::Contains("num_components = 4, expected at most min(n, p) = 3"));
  CHECK_NOTHROW(Nmf({.num_components = 4, .init = NmfInit::random}).fit(X));
  CHECK_THROWS_WITH(Nmf().fit(Matrix::Zero(3, 3)), Catch::Contains("X is all zeros"));
  // All-zero rows are fine: their scores are zero.
  Matrix with_zero_row = X;
  with_zero_row.row(0).setZero();
  const auto m = Nmf({.num_components = 1}).fit(with_zero_row);
  CHECK(m.W().row(0).isZero());
  CHECK_THROWS_AS(m.transform(Matrix::Ones(2, 5)), ShapeMismatch);
  CHECK_THROWS_AS(m.transform(-Matrix::Ones(2, 3)), DataError);
}
