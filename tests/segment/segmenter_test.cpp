#include <sstream>

#include <catch2/catch.hpp>

#include "tailor/core/metrics.hpp"
#include "tailor/segment/segmenter.hpp"

using namespace tailor;
using segment::Scaling;
using segment::ScoreNormalization;
using segment::Segmenter;
using segment::SegmenterModel;
using segment::SegmenterParams;

namespace {

struct Planted {
  Matrix X;
  std::vector<Index> truth;
};

// Three segments, each a distinct mix of three non-negative factors; features on different
// scales (column j multiplied by 1 + 10·j) to exercise max_abs scaling.
Planted planted(Index n, std::uint64_t seed) {
  Rng rng(seed);
  const Index k = 3, p = 9;
  Matrix prototypes(k, k);
  prototypes << 3, 0.2, 0.2,  //
      0.2, 3, 0.2,            //
      0.2, 0.2, 3;
  Matrix H(k, p);
  for (Index j = 0; j < p; ++j)
    for (Index c = 0; c < k; ++c) H(c, j) = rng.uniform();
  Planted d{Matrix(n, p), std::vector<Index>(static_cast<std::size_t>(n))};
  for (Index i = 0; i < n; ++i) {
    const Index s = i % k;
    d.truth[static_cast<std::size_t>(i)] = s;
    Eigen::RowVectorXd w = prototypes.row(s);
    for (Index c = 0; c < k; ++c) w[c] = std::max(0.0, w[c] * (1.0 + 0.15 * rng.normal()));
    d.X.row(i) = w * H;
    for (Index j = 0; j < p; ++j)
      d.X(i, j) =
          std::max(0.0, d.X(i, j) + 0.02 * rng.normal()) * (1.0 + 10.0 * static_cast<double>(j));
  }
  return d;
}

SegmenterParams params(Index threads = 0) {
  return {.nmf = {.num_components = 3, .tol = 1e-6, .max_iter = 300, .num_threads = threads},
          .normalize_scores = ScoreNormalization::l1,
          .kmeans = {.num_clusters = 3, .n_init = 3, .seed = 1, .num_threads = threads}};
}

}  // namespace

TEST_CASE("Segmenter recovers planted segments", "[segment][segmenter]") {
  const Planted d = planted(600, 3);
  const SegmenterModel m = Segmenter(params()).fit(d.X);
  CHECK(metrics::adjusted_rand_index(m.labels(), d.truth) >= 0.95);
  CHECK(m.nmf().explained_variance_centered() > 0.95);
  CHECK(m.predict(d.X) == m.labels());
  // The clustering space is the l1-normalized factor scores.
  const Matrix space = m.embed(d.X);
  CHECK(space.rows() == 600);
  CHECK(space.cols() == 3);
  CHECK((space.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
  CHECK(m.inertia() == Approx(m.kmeans().score(space)).epsilon(1e-12));
  // max_abs scaling: every scaled column peaks at 1.
  CHECK((m.scale(d.X).colwise().maxCoeff().array() - 1.0).abs().maxCoeff() < 1e-12);
  CHECK(m.scale_divisor()[8] == Approx(d.X.col(8).maxCoeff()));
}

TEST_CASE("Segmenter without NMF clusters standardized features", "[segment][segmenter]") {
  const Planted d = planted(300, 5);
  SegmenterParams p = params();
  p.use_nmf = false;
  p.scaling = Scaling::standard;
  p.normalize_scores = ScoreNormalization::none;
  const SegmenterModel m = Segmenter(p).fit(d.X);
  CHECK_FALSE(m.has_nmf());
  CHECK_THROWS_AS(m.nmf(), InvalidArgument);
  const Matrix z = m.scale(d.X);
  CHECK(z.colwise().mean().cwiseAbs().maxCoeff() < 1e-12);
  CHECK((z.colwise().squaredNorm() / 300.0).array().sqrt().isApproxToConstant(1.0, 1e-12));
  CHECK(m.predict(d.X) == m.labels());
  CHECK(metrics::adjusted_rand_index(m.labels(), d.truth) >= 0.9);
}

TEST_CASE("Segmenter is thread-count invariant and round-trips through save/load",
          "[segment][segmenter]") {
  const Planted d = planted(4500, 9);  // several row blocks
  const auto a = Segmenter(params(1)).fit(d.X);
  const auto b = Segmenter(params(2)).fit(d.X);
  const auto c = Segmenter(params(4)).fit(d.X);
  CHECK(a.labels() == b.labels());
  CHECK(a.labels() == c.labels());
  CHECK(a.kmeans().centers() == c.kmeans().centers());
  CHECK(a.nmf().H() == c.nmf().H());
  std::stringstream buffer;
  tailor::save(a, buffer);
  const auto loaded = tailor::load<SegmenterModel>(buffer);
  CHECK(loaded.labels() == a.labels());
  CHECK(loaded.predict(d.X) == a.predict(d.X));
  CHECK(loaded.embed(d.X) == a.embed(d.X));
  CHECK(loaded.nmf().H() == a.nmf().H());
  const std::string bytes = buffer.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() / 3));
  CHECK_THROWS_AS(tailor::load<SegmenterModel>(truncated), FormatError);
}

TEST_CASE("Segmenter rejects bad input", "[segment][segmenter]") {
  CHECK_THROWS_WITH(
      Segmenter({.scaling = Scaling::standard}),
      Catch::Contains("Segmenter: scaling = standard, expected none or max_abs before NMF"));
  CHECK_THROWS_WITH(Segmenter({.nmf = {.num_components = 0}}),
                    Catch::Contains("Nmf: num_components = 0"));
  CHECK_THROWS_WITH(Segmenter({.kmeans = {.num_clusters = 0}}),
                    Catch::Contains("KMeans: num_clusters = 0"));
  Matrix X = Matrix::Ones(10, 3);
  X(4, 2) = -1.0;
  CHECK_THROWS_WITH(Segmenter(params()).fit(X),
                    Catch::Contains("Segmenter: X(4, 2) = -1, expected a value >= 0"));
  X(4, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(Segmenter(params()).fit(X), DataError);
  CHECK_THROWS_AS(Segmenter(params()).fit(Matrix(0, 3)), DataError);
  const Planted d = planted(60, 1);
  const auto m = Segmenter(params()).fit(d.X);
  CHECK_THROWS_WITH(m.predict(Matrix::Ones(2, 4)),
                    Catch::Contains("SegmenterModel: X has 4 columns, expected 9"));
  CHECK_THROWS_AS(m.predict(-Matrix::Ones(2, 9)), DataError);
  // k > n
  CHECK_THROWS_WITH(Segmenter({.kmeans = {.num_clusters = 70}}).fit(d.X),
                    Catch::Contains("num_clusters = 70, expected at most the number of rows"));
}
