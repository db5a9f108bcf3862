#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "tailor/core/metrics.hpp"
#include "tailor/segment/detail/nearest.hpp"
#include "tailor/segment/kmeans.hpp"

using namespace tailor;
using segment::KMeans;
using segment::KMeansAlgorithm;
using segment::KMeansInit;
using segment::KMeansModel;
using segment::MiniBatchKMeans;

namespace {

struct Blobs {
  Matrix X;
  std::vector<Index> truth;
};

// k Gaussian blobs (sd 1) whose centers are `spread` apart per coordinate, random.
Blobs blobs(Index n, Index p, Index k, double spread, std::uint64_t seed) {
  Rng rng(seed);
  Matrix centers(k, p);
  for (Index j = 0; j < p; ++j)
    for (Index c = 0; c < k; ++c) centers(c, j) = spread * rng.uniform(-1.0, 1.0);
  Blobs b{Matrix(n, p), std::vector<Index>(static_cast<std::size_t>(n))};
  for (Index i = 0; i < n; ++i) {
    const Index c = i % k;
    b.truth[static_cast<std::size_t>(i)] = c;
    for (Index j = 0; j < p; ++j) b.X(i, j) = centers(c, j) + rng.normal();
  }
  return b;
}

double ari(const std::vector<Index>& a, const std::vector<Index>& b) {
  return metrics::adjusted_rand_index(a, b);
}

}  // namespace

TEST_CASE("KMeans recovers well-separated planted clusters", "[segment][kmeans]") {
  const Blobs b = blobs(600, 5, 5, 12.0, 1);
  for (auto init : {KMeansInit::kmeans_plus_plus, KMeansInit::random}) {
    for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly}) {
      const KMeansModel m =
          KMeans({.num_clusters = 5, .n_init = 4, .init = init, .algorithm = algorithm, .seed = 3})
              .fit(b.X);
      INFO("init " << static_cast<int>(init) << " algorithm " << static_cast<int>(algorithm));
      CHECK(ari(m.labels(), b.truth) >= 0.95);
      CHECK(m.converged());
      CHECK(m.predict(b.X) == m.labels());
    }
  }
  const KMeansModel mb = MiniBatchKMeans({.num_clusters = 5, .batch_size = 64, .seed = 2}).fit(b.X);
  CHECK(ari(mb.labels(), b.truth) >= 0.95);
  const KMeansModel full = KMeans({.num_clusters = 5, .seed = 2}).fit(b.X);
  CHECK(mb.inertia() <= 1.05 * full.inertia());
}

TEST_CASE("KMeans exact solution on a tiny weighted problem", "[segment][kmeans]") {
  Matrix X(4, 1);
  X << 0, 1, 10, 11;
  for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly}) {
    const KMeansModel m = KMeans({.num_clusters = 2, .n_init = 3, .algorithm = algorithm}).fit(X);
    const double lo = std::min(m.centers()(0, 0), m.centers()(1, 0));
    const double hi = std::max(m.centers()(0, 0), m.centers()(1, 0));
    CHECK(lo == Approx(0.5));
    CHECK(hi == Approx(10.5));
    CHECK(m.inertia() == Approx(1.0));  // 4 · 0.5²
    CHECK(m.labels()[0] == m.labels()[1]);
    CHECK(m.labels()[2] == m.labels()[3]);
    CHECK(m.labels()[0] != m.labels()[2]);
    Vector w(4);
    w << 1, 3, 1, 1;
    // Weighted mean of {0, 1} with weights {1, 3} is 0.75; inertia 0.75² + 3·0.25² + 2·0.5².
    const KMeansModel mw = KMeans({.num_clusters = 2, .algorithm = algorithm}).fit(X, w);
    CHECK(std::min(mw.centers()(0, 0), mw.centers()(1, 0)) == Approx(0.75));
    CHECK(mw.inertia() == Approx(1.25));
    CHECK(mw.score(X, w) == Approx(1.25));
    CHECK(mw.score(X) == Approx(0.75 * 0.75 + 0.25 * 0.25 + 0.5));
  }
  // k = n: every row its own center, inertia 0.
  CHECK(KMeans({.num_clusters = 4}).fit(X).inertia() == 0.0);
}

TEST_CASE("KMeans repairs empty clusters with the farthest point", "[segment][kmeans]") {
  Matrix X(4, 1);
  X << 0, 1, 2, 10;
  Matrix C(2, 1);
  C << 1, 100;
  std::vector<Index> labels = {0, 0, 0, 0};
  segment::detail::ClusterSums cluster;
  cluster.reset(2, 1);
  cluster.sums << 13, 0;
  cluster.weight << 4, 0;
  cluster.positive = {4, 0};
  const Vector w = Vector::Ones(4);
  const auto moved = segment::detail::repair_empty_clusters(X, w, C, labels, cluster);
  REQUIRE(moved == std::vector<Index>{3});  // 10 is farthest from center 1
  CHECK(labels == std::vector<Index>{0, 0, 0, 1});
  CHECK(cluster.sums(0, 0) == 3.0);
  CHECK(cluster.sums(1, 0) == 10.0);
  CHECK(cluster.weight[0] == 3.0);
  CHECK(cluster.weight[1] == 1.0);
  CHECK(cluster.positive == std::vector<Index>{3, 1});
  // Random init on duplicated rows mostly starts from two equal centers (probability 0.8 per
  // restart); only the repair lets every restart reach the exact partition {0}, {5}, {6}.
  Matrix D(6, 1);
  D << 0, 0, 0, 0, 5, 6;
  const KMeansModel m = KMeans({.num_clusters = 3, .init = KMeansInit::random}).fit(D);
  CHECK(std::set<Index>(m.labels().begin(), m.labels().end()).size() == 3);
  for (double inertia : m.restart_inertia()) CHECK(inertia == 0.0);
}

TEST_CASE("KMeans Lloyd and Hamerly follow the same path", "[segment][kmeans]") {
  const Blobs b = blobs(3000, 4, 6, 1.5, 5);  // overlapping: many iterations
  const auto lloyd = KMeans({.num_clusters = 6, .n_init = 2, .tol = 0, .seed = 8}).fit(b.X);
  const auto hamerly = KMeans({.num_clusters = 6,
                               .n_init = 2,
                               .tol = 0,
                               .algorithm = KMeansAlgorithm::hamerly,
                               .seed = 8})
                           .fit(b.X);
  CHECK(lloyd.iterations() > segment::detail::ClusterSums::kRefreshPasses);  // sums refreshed
  CHECK(hamerly.iterations() == lloyd.iterations());
  CHECK(hamerly.labels() == lloyd.labels());
  CHECK(hamerly.inertia() == Approx(lloyd.inertia()).epsilon(1e-12));
  // Best restart wins.
  CHECK(lloyd.inertia() ==
        *std::min_element(lloyd.restart_inertia().begin(), lloyd.restart_inertia().end()));
}

TEST_CASE("K-Means kernel: products in feature order, the same on every instruction set",
          "[segment][kmeans]") {
  using namespace segment::detail;
  Rng rng(11);
  const Index n = 37, p = 13, k = 6;  // a partial chunk and a partial group of centers
  Matrix X(n, p), C(k, p);
  for (Index j = 0; j < p; ++j) {
    for (Index i = 0; i < n; ++i) X(i, j) = rng.normal() * 3.0;
    for (Index c = 0; c < k; ++c) C(c, j) = rng.normal() * 3.0;
  }
  C.row(4) = C.row(1);  // a tie: the lower index wins
  const PackedCenters packed(C);
  for (Index i0 = 0; i0 + kChunkRows <= n; i0 += kChunkRows) {
    for (Index g = 0; g < packed.k4; g += 4) {
      double out[4][kChunkRows], sse[4][kChunkRows];
      chunk_products(X.data() + i0, n, packed, g, out);
      kernel::products_sse2(X.data() + i0, n, packed.splat.data(), packed.k4, p, g, sse);
      for (Index q = 0; q < 4 && g + q < k; ++q) {
        for (Index r = 0; r < kChunkRows; ++r) {
          double s = 0.0;
          for (Index l = 0; l < p; ++l) s += X(i0 + r, l) * C(g + q, l);
          CHECK(sse[q][r] == out[q][r]);  // the dispatched kernel (AVX here if present)
#if !defined(__FMA__)
          CHECK(out[q][r] == s);
#else
          CHECK(out[q][r] == Approx(s).epsilon(1e-12));
#endif
        }
      }
    }
  }
  // Nearest centers against brute force, with distances.
  std::vector<Index> labels(static_cast<std::size_t>(n));
  Vector x2 = X.rowwise().squaredNorm(), best(n), second(n);
  nearest_rows(X, 0, n, packed, labels.data(), x2.data(), best.data(), second.data());
  for (Index i = 0; i < n; ++i) {
    Vector d(k);
    for (Index c = 0; c < k; ++c) d[c] = (X.row(i) - C.row(c)).squaredNorm();
    Index arg;
    const double d1 = d.minCoeff(&arg);
    CHECK(arg != 4);
    if (d[arg] < 0.999 * [&] {
          double s2 = 1e300;
          for (Index c = 0; c < k; ++c)
            if (c != arg && d[c] != d1) s2 = std::min(s2, d[c]);
          return s2;
        }())
      CHECK(labels[static_cast<std::size_t>(i)] == arg);
    CHECK(best[i] == Approx(d1).epsilon(1e-10));
    Vector rest = d;
    rest[labels[static_cast<std::size_t>(i)]] = 1e300;
    CHECK(second[i] == Approx(rest.minCoeff()).epsilon(1e-10));
  }
}

TEST_CASE("K-Means cluster sums follow the labels exactly enough", "[segment][kmeans]") {
  using namespace segment::detail;
  const Blobs b = blobs(5000, 3, 4, 2.0, 21);
  Rng rng(3);
  Vector w(5000);
  for (Index i = 0; i < 5000; ++i) w[i] = i % 7 == 0 ? 0.0 : rng.uniform(0.1, 10.0);
  Matrix C = b.X.topRows(4);
  std::vector<Index> labels;
  ClusterSums cluster;
  for (int pass = 0; pass < 2 * ClusterSums::kRefreshPasses + 3; ++pass) {
    const PackedCenters packed(C);
    lloyd_pass(b.X, w, packed, labels, cluster, 2);
    // From scratch.
    Matrix sums = Matrix::Zero(4, 3);
    Vector weight = Vector::Zero(4);
    for (Index i = 0; i < 5000; ++i) {
      sums.row(labels[static_cast<std::size_t>(i)]) += w[i] * b.X.row(i);
      weight[labels[static_cast<std::size_t>(i)]] += w[i];
    }
    for (Index c = 0; c < 4; ++c) {
      CHECK(cluster.weight[c] == Approx(weight[c]).epsilon(1e-12));
      for (Index j = 0; j < 3; ++j)
        CHECK(cluster.sums(c, j) == Approx(sums(c, j)).epsilon(1e-12).margin(1e-9));
      if (weight[c] > 0) C.row(c) = sums.row(c) / weight[c];
    }
    // Perturb the centers so rows keep moving.
    C.row(pass % 4) += Eigen::RowVectorXd::Constant(3, 0.3 * (pass % 3 == 0 ? 1.0 : -1.0));
  }
  // A cluster whose members all have zero weight counts as empty: weight exactly 0.
  Matrix Z(4, 1);
  Z << 0, 1, 10, 11;
  const Vector wz = (Vector(4) << 1, 1, 0, 0).finished();
  Matrix Cz(2, 1);
  Cz << 0.5, 10.5;
  std::vector<Index> lz;
  ClusterSums sz;
  lloyd_pass(Z, wz, PackedCenters(Cz), lz, sz, 1);
  CHECK(lz == std::vector<Index>{0, 0, 1, 1});
  CHECK(sz.weight[1] == 0.0);
  CHECK(sz.positive == std::vector<Index>{2, 0});
}

TEST_CASE("KMeans warm start from given centers", "[segment][kmeans]") {
  const Blobs b = blobs(900, 3, 3, 10.0, 4);
  const KMeansModel cold = KMeans({.num_clusters = 3, .seed = 2}).fit(b.X);
  // Started at the converged centers: the first assignment changes nothing.
  const KMeansModel warm =
      KMeans({.num_clusters = 3, .n_init = 1, .initial_centers = cold.centers()}).fit(b.X);
  CHECK(warm.iterations() == 1);
  CHECK(warm.labels() == cold.labels());
  CHECK(warm.inertia() == Approx(cold.inertia()).epsilon(1e-12));
  CHECK(warm.restart_inertia().size() == 1);
  // Started near them: converges to the same partition.
  Matrix nudged = cold.centers();
  nudged.array() += 0.5;
  const KMeansModel near =
      KMeans({.num_clusters = 3, .n_init = 1, .initial_centers = nudged}).fit(b.X);
  CHECK(ari(near.labels(), cold.labels()) == 1.0);
  // Bad starts are rejected, naming the argument.
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2, .n_init = 1, .initial_centers = nudged}),
                    Catch::Contains("initial_centers has 3 rows, expected num_clusters = 2"));
  CHECK_THROWS_WITH(KMeans({.num_clusters = 3, .n_init = 2, .initial_centers = nudged}),
                    Catch::Contains("n_init"));
  CHECK_THROWS_WITH(
      KMeans({.num_clusters = 3, .n_init = 1, .initial_centers = Matrix::Zero(3, 5)}).fit(b.X),
      Catch::Contains("initial_centers has 5 columns, expected 3"));
  Matrix bad = nudged;
  bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(KMeans({.num_clusters = 3, .n_init = 1, .initial_centers = bad}), DataError);
}

TEST_CASE("KMeans predict and transform", "[segment][kmeans]") {
  const Blobs b = blobs(200, 3, 3, 6.0, 2);
  const auto m = KMeans({.num_clusters = 3, .n_init = 2}).fit(b.X);
  const Matrix D = m.transform(b.X);
  REQUIRE(D.rows() == 200);
  REQUIRE(D.cols() == 3);
  double inertia = 0;
  for (Index i = 0; i < 200; ++i) {
    for (Index j = 0; j < 3; ++j) {
      CHECK(D(i, j) == Approx((b.X.row(i) - m.centers().row(j)).norm()).epsilon(1e-9));
    }
    Index arg;
    D.row(i).minCoeff(&arg);
    CHECK(arg == m.labels()[static_cast<std::size_t>(i)]);
    inertia += D(i, arg) * D(i, arg);
  }
  CHECK(m.inertia() == Approx(inertia).epsilon(1e-9));
  CHECK_THROWS_WITH(m.predict(Matrix::Zero(2, 4)),
                    Catch::Contains("KMeansModel::predict: X has 4 columns, expected 3"));
}

TEST_CASE("KMeans is deterministic and thread-count invariant", "[segment][kmeans]") {
  // Several row blocks; 20,000 rows run the restarts in lockstep groups with 1 or 2 threads
  // (parallel inside a group; at p = 16 and k = 5 memory allows groups of 2) and side by side
  // with 4: both schedules, and groups of 1 and 2, give the same results.
  const Blobs b = blobs(20000, 16, 5, 2.0, 9);
  for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly}) {
    auto fit = [&](Index threads, Index n_init) {
      return KMeans({.num_clusters = 5,
                     .n_init = n_init,
                     .max_iter = 20,
                     .algorithm = algorithm,
                     .seed = 4,
                     .num_threads = threads})
          .fit(b.X);
    };
    for (Index n_init : {1, 3}) {
      const auto a = fit(1, n_init), c = fit(2, n_init), d = fit(4, n_init);
      CHECK(a.centers() == c.centers());
      CHECK(a.centers() == d.centers());
      CHECK(a.labels() == d.labels());
      CHECK(a.inertia() == d.inertia());
      CHECK(a.restart_inertia() == d.restart_inertia());
    }
  }
  auto mini = [&](Index threads) {
    return MiniBatchKMeans({.num_clusters = 5,
                            .batch_size = 256,
                            .max_iter = 3,
                            .seed = 6,
                            .num_threads = threads})
        .fit(b.X);
  };
  const auto m1 = mini(1), m4 = mini(4);
  CHECK(m1.centers() == m4.centers());
  CHECK(m1.labels() == m4.labels());
  CHECK(m1.inertia() == m4.inertia());
  const auto other =
      MiniBatchKMeans({.num_clusters = 5, .batch_size = 256, .max_iter = 3, .seed = 7}).fit(b.X);
  CHECK(other.centers() != m1.centers());
}

TEST_CASE("KMeansModel save and load round-trip", "[segment][kmeans]") {
  const Blobs b = blobs(150, 3, 3, 5.0, 12);
  const auto m = KMeans({.num_clusters = 3, .n_init = 2}).fit(b.X);
  std::stringstream buffer;
  tailor::save(m, buffer);
  const auto loaded = tailor::load<KMeansModel>(buffer);
  CHECK(loaded.centers() == m.centers());
  CHECK(loaded.labels() == m.labels());
  CHECK(loaded.inertia() == m.inertia());
  CHECK(loaded.iterations() == m.iterations());
  CHECK(loaded.restart_inertia() == m.restart_inertia());
  CHECK(loaded.predict(b.X) == m.predict(b.X));
  CHECK(loaded.transform(b.X) == m.transform(b.X));
  const std::string bytes = buffer.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() - 9));
  CHECK_THROWS_AS(tailor::load<KMeansModel>(truncated), FormatError);

  // The free functions write the same bytes; re-saving a loaded model gives identical bytes.
  std::stringstream original(bytes), again;
  tailor::save(tailor::load<KMeansModel>(original), again);
  CHECK(again.str() == bytes);

  // A version-1 file (which stored num_threads) still loads.
  std::stringstream v1;
  {
    tailor::BinaryWriter w(v1);
    w.write_header("segment::KMeansModel", 1);
    w.write(m.centers());
    w.write(std::vector<std::int64_t>(m.labels().begin(), m.labels().end()));
    w.write(m.inertia());
    w.write(m.iterations());
    w.write(m.converged());
    w.write(m.restart_inertia());
    w.write(Index{3});  // num_threads
    w.finish();
  }
  const auto old = tailor::load<KMeansModel>(v1);
  CHECK(old.centers() == m.centers());
  CHECK(old.predict(b.X) == m.predict(b.X));
}

TEST_CASE("K-Means count parameters are bounded", "[segment][kmeans]") {
  // Mistyped counts get an InvalidArgument naming the parameter and its limit, before any
  // allocation or arithmetic on them.
  const Index huge = Index{1} << 62;
  CHECK_THROWS_WITH(KMeans({.n_init = 1'000'000'000'000}),
                    Catch::Contains("n_init = 1000000000000, expected between 1 and 10000"));
  CHECK_THROWS_WITH(KMeans({.num_clusters = huge}), Catch::Contains("num_clusters"));
  CHECK_THROWS_WITH(KMeans({.max_iter = huge}), Catch::Contains("between 1 and 1000000"));
  CHECK_THROWS_WITH(KMeans({.num_threads = std::numeric_limits<Index>::max()}),
                    Catch::Contains("up to 4096"));
  CHECK_THROWS_WITH(
      MiniBatchKMeans({.batch_size = huge}),
      Catch::Contains("batch_size = 4611686018427387904, expected between 1 and 2^30"));
  CHECK_THROWS_WITH(MiniBatchKMeans({.max_iter = huge}), Catch::Contains("max_iter"));
  CHECK_THROWS_WITH(MiniBatchKMeans({.n_init = huge}), Catch::Contains("n_init"));
  CHECK_THROWS_WITH(MiniBatchKMeans({.init_size = huge}), Catch::Contains("init_size"));
  CHECK_THROWS_AS(resolve_num_threads(Index{1} << 40), InvalidArgument);
  // The limits themselves are accepted.
  CHECK_NOTHROW(KMeans({.n_init = segment::kMaxRestarts, .max_iter = segment::kMaxIterations}));
  CHECK_NOTHROW(
      MiniBatchKMeans({.batch_size = segment::kMaxBatchRows, .max_iter = segment::kMaxIterations}));
}

TEST_CASE("KMeans rejects bad input", "[segment][kmeans]") {
  const Matrix X = Matrix::Random(5, 2);
  CHECK_THROWS_WITH(KMeans({.num_clusters = 0}),
                    Catch::Contains("KMeans: num_clusters = 0, expected between 1 and 2^20"));
  CHECK_THROWS_WITH(KMeans({.n_init = 0}),
                    Catch::Contains("n_init = 0, expected between 1 and 10000"));
  CHECK_THROWS_WITH(KMeans({.max_iter = 0}), Catch::Contains("max_iter = 0"));
  CHECK_THROWS_WITH(KMeans({.tol = -1}), Catch::Contains("tol = -1"));
  CHECK_THROWS_WITH(
      KMeans({.num_clusters = 6}).fit(X),
      Catch::Contains("num_clusters = 6, expected at most the number of rows of X (5)"));
  Matrix nan = X;
  nan(3, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2}).fit(nan),
                    Catch::Contains("KMeans: X(3, 1) = nan, expected a finite value"));
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2}).fit(Matrix(0, 2)), Catch::Contains("X has 0 rows"));
  Vector w = Vector::Ones(5);
  w[2] = -1;
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2}).fit(X, w),
                    Catch::Contains("KMeans: weights[2] = -1, expected a value >= 0"));
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2}).fit(X, Vector::Ones(4)),
                    Catch::Contains("weights has 4 rows, expected 5"));
  CHECK_THROWS_WITH(KMeans({.num_clusters = 2}).fit(X, Vector::Zero(5)),
                    Catch::Contains("weights sum to 0"));
  CHECK_THROWS_WITH(MiniBatchKMeans({.batch_size = 0}), Catch::Contains("batch_size = 0"));
  CHECK_THROWS_WITH(MiniBatchKMeans({.num_clusters = 9}).fit(X),
                    Catch::Contains("MiniBatchKMeans: num_clusters = 9"));
  // All-zero rows are ordinary points.
  CHECK_NOTHROW(KMeans({.num_clusters = 1}).fit(Matrix::Zero(3, 2)));
}
