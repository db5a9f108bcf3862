// tailor/datasets/ctr_worlds.hpp — simulated multi-field CTR/CVR worlds with a hidden
// factorization-machine logit: categorical impressions (iPinYou / Ali-CCP like) whose true click
// and conversion probabilities are known for every row, so CTR models (FM, DeepFM, ESMM, ...)
// can be checked against the oracle.
//
// Source: the `ctr` generator of shared/peers/gen_data.py (make_ctr_world, fm_scores,
// sample_ctr_ids, solve_intercept), same generative model, drawn from tailor::Rng streams instead
// of numpy's (so the numbers are not numpy's). The logit is Rendle's factorization machine
// ("Factorization machines", ICDM 2010).
//
// The world (drawn once from Rng(seed, 0), field by field, in this order):
//   cardinality  c_f = round(geomspace(min_cardinality, max_cardinality, F)[f])  (half to even)
//   popularity   P(id = perm_f[r]) ∝ 1/(r + 1)^zipf, r = 0..c_f−1, perm_f a random permutation
//                (Fisher–Yates), so popular ids are not simply 0, 1, 2, ...
//   importance   imp_f ~ U(0.3, 1.5)
//   CTR weights  w_f ~ N(0, (w_scale·imp_f)²)^{c_f},  V_f ~ N(0, (v_scale·√imp_f)²)^{c_f × k}
//   CVR weights  w'_f = ρ·w_f + √(1 − ρ²)·N(0, (w_scale·imp_f)²),  V'_f likewise from V_f,
//                so the funnel's two tasks share structure (what ESMM's shared embeddings use).
// Scores and probabilities of a row x = (id_0, ..., id_{F−1}):
//   s(x)  = Σ_f w_f[id_f] + Σ_{f<g} ⟨V_f[id_f], V_g[id_g]⟩
//         = Σ_f w_f[id_f] + ½ (‖Σ_f V_f[id_f]‖² − Σ_f ‖V_f[id_f]‖²)      (Rendle's O(F·k) identity)
//   pCTR  = σ(b + s(x)),  pCVR = P(conversion | click, x) = σ(b' + s'(x)),  σ(z) = 1/(1 + e^{−z})
//   click ~ Bernoulli(pCTR),  conversion = click · Bernoulli(pCVR)   (conversions only after
//   clicks)
// Intercepts are calibrated once, in the constructor, on `calibration_rows` rows (default 200,000)
// drawn from the reserved stream kCtrCalibrationStream: b solves mean pCTR = click_rate and b' the
// pCTR-weighted mean pCVR = conversion_rate (the CVR among clicks), each by safeguarded Newton on
// the intercept (bisection fallback; gen_data.py bisects on its training rows instead).
//
// Rows: sample(n, stream) cuts the n rows into blocks of kCtrBlockRows; block b draws from
// Rng(Rng(seed, stream)(), b), row after row, each row F ids (field order) then u_click, u_conv.
// So results do not depend on num_threads, the first m rows of sample(n, s) are sample(m, s), and
// no sample stream replays the world's draws. By convention stream 1 = train, 2 = test.
//
// Complexity: the world costs O(Σ_f c_f·k) time and memory (per id: 2(k + 1) doubles of weights,
// a popularity and a 16-byte alias entry); ids are drawn by Walker's alias method (Vose's O(c)
// construction, "A linear algorithm for generating random numbers with a given distribution",
// IEEE TSE 1991): O(1) per draw. A sample costs O(n·F·k), calibration O(calibration_rows·F·k).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"

namespace tailor::datasets {

/// Rows per block of sample() (each block has its own Rng stream; see the header comment).
inline constexpr Index kCtrBlockRows = 4096;

/// The reserved stream of a world's seed that draws the calibration rows of the intercepts.
inline constexpr std::uint64_t kCtrCalibrationStream = stream::ctr_world_calibration;

/// Parameters of a CtrWorld; the names in brackets are gen_data.py's.
struct CtrWorldSetup {
  Index num_fields = 20;            ///< F, the categorical fields [--fields]
  Index min_cardinality = 10;       ///< cardinality of field 0 [--min-card]
  Index max_cardinality = 100000;   ///< cardinality of field F−1; log-spaced between [--max-card]
  double zipf = 1.1;                ///< popularity ∝ 1/rank^zipf (0 = uniform) [--zipf]
  Index rank = 8;                   ///< k, the hidden FM factor rank [--k-true]
  double first_order_scale = 0.25;  ///< sd of the first-order weights, times imp_f [--w-scale]
  double factor_scale = 0.15;       ///< sd of the factors, times √imp_f [--v-scale]
  double correlation = 0.5;         ///< ρ between CTR and CVR weights [--rho]
  double click_rate = 0.03;         ///< mean pCTR [--ctr]
  double conversion_rate = 0.10;    ///< pCTR-weighted mean pCVR = CVR among clicks [--cvr]
  std::uint64_t seed = 0;
  Index calibration_rows = 200000;  ///< rows that calibrate the two intercepts
  Index num_threads = 0;            ///< for calibration and sample(); 0 = all cores
};

/// n impressions of a world with their truth.
struct CtrSample {
  /// n × F ids, ids(i, f) ∈ [0, cardinalities()[f]).
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ids;
  Eigen::VectorXf click;         ///< 0/1
  Eigen::VectorXf conversion;    ///< 0/1, and 1 only where click = 1
  Eigen::VectorXd p_click;       ///< true P(click | x)
  Eigen::VectorXd p_conversion;  ///< true P(conversion | click, x), for every row
};

/// Which of the funnel's two hidden FMs.
enum class CtrOutcome : char { click, conversion };

namespace detail {

/// σ(z) = 1/(1 + e^{−z}) without overflow for large |z|.
inline double ctr_logistic(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

/// One slot of an alias table: keep `id` when u < threshold, else take `alias_id`.
struct CtrAliasEntry {
  double threshold;
  std::int32_t id;
  std::int32_t alias_id;
};

/// Vose's alias table for P(slot r) = probability[r] (summing to 1), slot r standing for ids[r].
inline std::vector<CtrAliasEntry> build_alias_table(std::span<const double> probability,
                                                    std::span<const std::int32_t> ids) {
  const std::size_t c = probability.size();
  std::vector<CtrAliasEntry> table(c);
  std::vector<double> scaled(c);
  std::vector<std::size_t> small, large;
  for (std::size_t r = 0; r < c; ++r) {
    scaled[r] = probability[r] * static_cast<double>(c);
    (scaled[r] < 1.0 ? small : large).push_back(r);
  }
  while (!small.empty() && !large.empty()) {
    const std::size_t s = small.back();
    small.pop_back();
    const std::size_t l = large.back();
    table[s] = {scaled[s], ids[s], ids[l]};
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left holds probability 1 up to rounding.
  for (std::size_t r : large) table[r] = {1.0, ids[r], ids[r]};
  for (std::size_t r : small) table[r] = {1.0, ids[r], ids[r]};
  return table;
}

/// The intercept b with Σ wᵢ σ(b + sᵢ) / Σ wᵢ = target (unit weights when `weights` is empty):
/// the mean is increasing in b, so Newton steps are kept inside a bisection bracket, widened from
/// [−30, 30] until it holds the root.
inline double solve_ctr_intercept(std::span<const double> scores, double target,
                                  std::span<const double> weights = {}) {
  double total_weight = 0.0;
  if (weights.empty()) {
    total_weight = static_cast<double>(scores.size());
  } else {
    for (double w : weights) total_weight += w;
  }
  // Returns mean − target and the derivative Σ w σ(1 − σ) / Σ w.
  const auto evaluate = [&](double b) {
    double mean = 0.0, slope = 0.0;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const double p = ctr_logistic(b + scores[i]);
      const double w = weights.empty() ? 1.0 : weights[i];
      mean += w * p;
      slope += w * p * (1.0 - p);
    }
    return std::pair{mean / total_weight - target, slope / total_weight};
  };
  double lo = -30.0, hi = 30.0;
  for (int k = 0; k < 64 && evaluate(lo).first > 0.0; ++k) lo *= 2.0;
  for (int k = 0; k < 64 && evaluate(hi).first < 0.0; ++k) hi *= 2.0;
  double b = std::clamp(std::log(target / (1.0 - target)), lo, hi);
  for (int iteration = 0; iteration < 200; ++iteration) {
    const auto [gap, slope] = evaluate(b);
    if (gap == 0.0 || std::abs(gap) <= 1e-14 * target) break;
    (gap < 0.0 ? lo : hi) = b;
    if (hi - lo <= 1e-13 * std::max(1.0, std::abs(b))) break;
    const double newton = slope > 0.0 ? b - gap / slope : std::numeric_limits<double>::quiet_NaN();
    b = (newton > lo && newton < hi) ? newton : 0.5 * (lo + hi);
  }
  return b;
}

}  // namespace detail

/// A CTR/CVR world: per-field cardinality, popularity and hidden FM weights of both tasks, plus
/// the two calibrated intercepts. Immutable after construction; sample() is const and thread-safe.
class CtrWorld {
 public:
  /// Draws the world and calibrates the intercepts. InvalidArgument naming the parameter when
  /// num_fields ∉ [1, 10000], min_cardinality < 1, max_cardinality < min_cardinality or > 2³¹ − 1,
  /// zipf < 0, rank ∉ [1, 1024], a scale < 0, |correlation| > 1, a rate ∉ (0, 1),
  /// calibration_rows < 1 or num_threads < 0 (non-finite values are rejected too).
  explicit CtrWorld(CtrWorldSetup setup) : setup_(setup) {
    validate(setup_);
    draw_world();
    calibrate();
  }

  const CtrWorldSetup& setup() const { return setup_; }
  Index num_fields() const { return setup_.num_fields; }
  /// c_f of every field.
  const std::vector<Index>& cardinalities() const { return cardinalities_; }
  /// b, the click logit's intercept.
  double click_intercept() const { return click_intercept_; }
  /// b', the conversion logit's intercept.
  double conversion_intercept() const { return conversion_intercept_; }

  /// P(id_f = id), the popularity of `id` in field `field`.
  double popularity(Index field, Index id) const {
    check_id("CtrWorld::popularity", field, id);
    return fields_[static_cast<std::size_t>(field)].popularity[static_cast<std::size_t>(id)];
  }
  /// The first-order weight w_f[id] (CtrOutcome::click) or w'_f[id] (conversion).
  double weight(CtrOutcome outcome, Index field, Index id) const {
    check_id("CtrWorld::weight", field, id);
    return parameters(field, id)[outcome == CtrOutcome::click ? 0 : setup_.rank + 1];
  }
  /// The k factors V_f[id] (click) or V'_f[id] (conversion).
  std::span<const double> factors(CtrOutcome outcome, Index field, Index id) const {
    check_id("CtrWorld::factors", field, id);
    const double* p = parameters(field, id) + (outcome == CtrOutcome::click ? 1 : setup_.rank + 2);
    return {p, static_cast<std::size_t>(setup_.rank)};
  }

  /// b + s(x) for one row of F ids.
  double logit_click(std::span<const std::int32_t> ids) const {
    check_row("CtrWorld::logit_click", ids);
    return click_intercept_ + scores(ids.data()).first;
  }
  /// b' + s'(x) for one row of F ids.
  double logit_conversion(std::span<const std::int32_t> ids) const {
    check_row("CtrWorld::logit_conversion", ids);
    return conversion_intercept_ + scores(ids.data()).second;
  }

  /// n ≥ 1 impressions from stream `stream` of the world's seed (1 = train, 2 = test by
  /// convention); identical for every num_threads. O(n·F·k).
  CtrSample sample(Index n, std::uint64_t stream) const {
    check_param(n >= 1, "CtrWorld::sample", "n", n, "at least 1");
    const Index num_fields = setup_.num_fields;
    CtrSample out;
    out.ids.resize(n, num_fields);
    out.click.resize(n);
    out.conversion.resize(n);
    out.p_click.resize(n);
    out.p_conversion.resize(n);
    draw_rows(n, stream,
              [&](Index i, const std::int32_t* ids, double s_click, double s_conversion,
                  double u_click, double u_conversion) {
                std::copy(ids, ids + num_fields, out.ids.data() + i * num_fields);
                const double p_click = detail::ctr_logistic(click_intercept_ + s_click);
                const double p_conversion =
                    detail::ctr_logistic(conversion_intercept_ + s_conversion);
                const bool clicked = u_click < p_click;
                out.p_click[i] = p_click;
                out.p_conversion[i] = p_conversion;
                out.click[i] = clicked ? 1.0f : 0.0f;
                out.conversion[i] = clicked && u_conversion < p_conversion ? 1.0f : 0.0f;
              });
    return out;
  }

 private:
  struct Field {
    std::vector<double> popularity;            // per id
    std::vector<detail::CtrAliasEntry> alias;  // per popularity rank
    std::vector<double> parameters;            // per id: w, V (k), w', V' (k)
  };

  static void validate(const CtrWorldSetup& s) {
    constexpr std::string_view kContext = "CtrWorld";
    constexpr Index kMaxId = std::numeric_limits<std::int32_t>::max();
    check_param(s.num_fields >= 1 && s.num_fields <= 10000, kContext, "num_fields", s.num_fields,
                "a count in [1, 10000]");
    check_param(s.min_cardinality >= 1 && s.min_cardinality <= kMaxId, kContext, "min_cardinality",
                s.min_cardinality, "a count in [1, 2^31 - 1]");
    check_param(s.max_cardinality >= s.min_cardinality && s.max_cardinality <= kMaxId, kContext,
                "max_cardinality", s.max_cardinality,
                fmt::format("a count in [min_cardinality = {}, 2^31 - 1]", s.min_cardinality));
    check_param(std::isfinite(s.zipf) && s.zipf >= 0.0, kContext, "zipf", s.zipf,
                "a finite value >= 0");
    check_param(s.rank >= 1 && s.rank <= 1024, kContext, "rank", s.rank, "a count in [1, 1024]");
    check_param(std::isfinite(s.first_order_scale) && s.first_order_scale >= 0.0, kContext,
                "first_order_scale", s.first_order_scale, "a finite value >= 0");
    check_param(std::isfinite(s.factor_scale) && s.factor_scale >= 0.0, kContext, "factor_scale",
                s.factor_scale, "a finite value >= 0");
    check_param(std::abs(s.correlation) <= 1.0, kContext, "correlation", s.correlation,
                "a value in [-1, 1]");
    check_param(s.click_rate > 0.0 && s.click_rate < 1.0, kContext, "click_rate", s.click_rate,
                "a rate in (0, 1)");
    check_param(s.conversion_rate > 0.0 && s.conversion_rate < 1.0, kContext, "conversion_rate",
                s.conversion_rate, "a rate in (0, 1)");
    check_param(s.calibration_rows >= 1, kContext, "calibration_rows", s.calibration_rows,
                "at least 1");
    check_param(s.num_threads >= 0, kContext, "num_threads", s.num_threads,
                "0 (all cores) or a positive count");
  }

  void check_id(std::string_view context, Index field, Index id) const {
    if (field < 0 || field >= setup_.num_fields) {
      raise<InvalidArgument>("{}: field = {}, expected a value in [0, {})", context, field,
                             setup_.num_fields);
    }
    const Index c = cardinalities_[static_cast<std::size_t>(field)];
    if (id < 0 || id >= c) {
      raise<InvalidArgument>("{}: id = {}, expected a value in [0, {}) (field {})", context, id, c,
                             field);
    }
  }

  void check_row(std::string_view context, std::span<const std::int32_t> ids) const {
    if (static_cast<Index>(ids.size()) != setup_.num_fields) {
      raise<ShapeMismatch>("{}: ids has {} entries, expected {} (num_fields)", context, ids.size(),
                           setup_.num_fields);
    }
    for (std::size_t f = 0; f < ids.size(); ++f) {
      const Index c = cardinalities_[f];
      if (ids[f] < 0 || ids[f] >= c) {
        raise<InvalidArgument>("{}: ids[{}] = {}, expected a value in [0, {})", context, f, ids[f],
                               c);
      }
    }
  }

  const double* parameters(Index field, Index id) const {
    return fields_[static_cast<std::size_t>(field)].parameters.data() + id * stride();
  }
  Index stride() const { return 2 * (setup_.rank + 1); }
  static constexpr Index kPrefetchRows = 2;  // rows ahead whose weights pass 2 prefetches

  // numpy.round(numpy.geomspace(min, max, F)): 10^(linspace of log10), exact endpoints, rounded
  // half to even.
  void make_cardinalities() {
    const Index num_fields = setup_.num_fields;
    cardinalities_.assign(static_cast<std::size_t>(num_fields), setup_.min_cardinality);
    if (num_fields == 1) return;
    const double lo = std::log10(static_cast<double>(setup_.min_cardinality));
    const double hi = std::log10(static_cast<double>(setup_.max_cardinality));
    const double step = (hi - lo) / static_cast<double>(num_fields - 1);
    for (Index f = 1; f + 1 < num_fields; ++f) {
      const double value = std::pow(10.0, lo + static_cast<double>(f) * step);
      cardinalities_[static_cast<std::size_t>(f)] = static_cast<Index>(std::nearbyint(value));
    }
    cardinalities_.back() = setup_.max_cardinality;
  }

  void draw_world() {
    make_cardinalities();
    const Index k = setup_.rank;
    const double rho = setup_.correlation;
    const double fresh = std::sqrt(std::max(0.0, 1.0 - rho * rho));
    Rng rng(setup_.seed, 0);
    fields_.resize(static_cast<std::size_t>(setup_.num_fields));
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      Field& field = fields_[f];
      const Index c = cardinalities_[f];
      const auto cs = static_cast<std::size_t>(c);
      // Popularity by rank, then a random permutation assigns ranks to ids.
      std::vector<double> by_rank(cs);
      double total = 0.0;
      for (std::size_t r = 0; r < cs; ++r) {
        by_rank[r] = 1.0 / std::pow(static_cast<double>(r + 1), setup_.zipf);
        total += by_rank[r];
      }
      for (double& p : by_rank) p /= total;
      std::vector<std::int32_t> perm(cs);
      for (std::size_t r = 0; r < cs; ++r) perm[r] = static_cast<std::int32_t>(r);
      shuffle(perm, rng);
      field.popularity.assign(cs, 0.0);
      for (std::size_t r = 0; r < cs; ++r) {
        field.popularity[static_cast<std::size_t>(perm[r])] = by_rank[r];
      }
      field.alias = detail::build_alias_table(by_rank, perm);

      const double importance = rng.uniform(0.3, 1.5);
      const double w_sd = setup_.first_order_scale * importance;
      const double v_sd = setup_.factor_scale * std::sqrt(importance);
      field.parameters.assign(cs * static_cast<std::size_t>(stride()), 0.0);
      double* base = field.parameters.data();
      // Draw order as gen_data.py: w (c), V (c × k, id-major), then the CVR noise likewise.
      for (Index id = 0; id < c; ++id) base[id * stride()] = rng.normal(0.0, w_sd);
      for (Index id = 0; id < c; ++id) {
        for (Index j = 0; j < k; ++j) base[id * stride() + 1 + j] = rng.normal(0.0, v_sd);
      }
      for (Index id = 0; id < c; ++id) {
        double* p = base + id * stride();
        p[k + 1] = rho * p[0] + fresh * rng.normal(0.0, w_sd);
      }
      for (Index id = 0; id < c; ++id) {
        double* p = base + id * stride();
        for (Index j = 0; j < k; ++j) p[k + 2 + j] = rho * p[1 + j] + fresh * rng.normal(0.0, v_sd);
      }
    }
  }

  // (s(x), s'(x)) for one row of F valid ids, by the O(F·k) identity. `sums` holds 2k doubles of
  // scratch; the overload without it is for the one-row accessors.
  std::pair<double, double> scores(const std::int32_t* ids, double* sums) const {
    const Index k = setup_.rank;
    std::fill(sums, sums + 2 * k, 0.0);
    double linear_click = 0.0, linear_conversion = 0.0;
    double squares_click = 0.0, squares_conversion = 0.0;
    for (Index f = 0; f < setup_.num_fields; ++f) {
      const double* p = parameters(f, ids[f]);
      linear_click += p[0];
      linear_conversion += p[k + 1];
      for (Index j = 0; j < k; ++j) {
        const double v = p[1 + j];
        const double v_conversion = p[k + 2 + j];
        sums[j] += v;
        sums[k + j] += v_conversion;
        squares_click += v * v;
        squares_conversion += v_conversion * v_conversion;
      }
    }
    double norm_click = 0.0, norm_conversion = 0.0;
    for (Index j = 0; j < k; ++j) {
      norm_click += sums[j] * sums[j];
      norm_conversion += sums[k + j] * sums[k + j];
    }
    return {linear_click + 0.5 * (norm_click - squares_click),
            linear_conversion + 0.5 * (norm_conversion - squares_conversion)};
  }
  std::pair<double, double> scores(const std::int32_t* ids) const {
    std::vector<double> sums(static_cast<std::size_t>(2 * setup_.rank));
    return scores(ids, sums.data());
  }

  // Draws rows [0, n) of `stream` block by block and hands each to
  // visit(i, ids, s, s', u_click, u_conversion); see the header comment for the stream layout.
  template <class Visit>
  void draw_rows(Index n, std::uint64_t stream, Visit&& visit) const {
    Rng base(setup_.seed, stream);
    const std::uint64_t block_seed = base();
    const Index num_fields = setup_.num_fields;
    parallel_for_blocks(0, n, kCtrBlockRows, setup_.num_threads, [&](Index b, Index lo, Index hi) {
      Rng rng(block_seed, static_cast<std::uint64_t>(b));
      // Pass 1 draws the block's ids and uniforms in row order; pass 2 scores the rows while
      // prefetching the weights of a later row, since the weight look-ups into large fields miss
      // the cache and dominate the cost.
      const Index rows = hi - lo;
      std::vector<std::int32_t> ids(static_cast<std::size_t>(rows * num_fields));
      std::vector<double> uniforms(static_cast<std::size_t>(2 * rows));
      for (Index r = 0; r < rows; ++r) {
        std::int32_t* row = ids.data() + r * num_fields;
        for (Index f = 0; f < num_fields; ++f) {
          const auto& alias = fields_[static_cast<std::size_t>(f)].alias;
          const detail::CtrAliasEntry& slot =
              alias[static_cast<std::size_t>(rng.uniform_index(alias.size()))];
          row[f] = rng.uniform() < slot.threshold ? slot.id : slot.alias_id;
        }
        uniforms[static_cast<std::size_t>(2 * r)] = rng.uniform();
        uniforms[static_cast<std::size_t>(2 * r + 1)] = rng.uniform();
      }
      std::vector<double> sums(static_cast<std::size_t>(2 * setup_.rank));
      const Index bytes = stride() * static_cast<Index>(sizeof(double));
      for (Index r = 0; r < rows; ++r) {
        if (r + kPrefetchRows < rows) {
          const std::int32_t* ahead = ids.data() + (r + kPrefetchRows) * num_fields;
          for (Index f = 0; f < num_fields; ++f) {
            const char* p = reinterpret_cast<const char*>(parameters(f, ahead[f]));
            for (Index offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset);
          }
        }
        const std::int32_t* row = ids.data() + r * num_fields;
        const auto [s_click, s_conversion] = scores(row, sums.data());
        visit(lo + r, row, s_click, s_conversion, uniforms[static_cast<std::size_t>(2 * r)],
              uniforms[static_cast<std::size_t>(2 * r + 1)]);
      }
    });
  }

  void calibrate() {
    const Index n = setup_.calibration_rows;
    std::vector<double> s_click(static_cast<std::size_t>(n));
    std::vector<double> s_conversion(static_cast<std::size_t>(n));
    draw_rows(n, kCtrCalibrationStream,
              [&](Index i, const std::int32_t*, double s, double s_prime, double, double) {
                s_click[static_cast<std::size_t>(i)] = s;
                s_conversion[static_cast<std::size_t>(i)] = s_prime;
              });
    for (std::size_t i = 0; i < s_click.size(); ++i) {
      if (!std::isfinite(s_click[i]) || !std::isfinite(s_conversion[i])) {
        raise<NumericalError>(
            "CtrWorld: calibration row {} has a non-finite FM score, expected finite scores "
            "(first_order_scale = {}, factor_scale = {} are too large)",
            i, setup_.first_order_scale, setup_.factor_scale);
      }
    }
    click_intercept_ = detail::solve_ctr_intercept(s_click, setup_.click_rate);
    // CVR among clicks: the mean pCVR weighted by pCTR.
    std::vector<double> p_click(s_click.size());
    for (std::size_t i = 0; i < s_click.size(); ++i) {
      p_click[i] = detail::ctr_logistic(click_intercept_ + s_click[i]);
    }
    conversion_intercept_ =
        detail::solve_ctr_intercept(s_conversion, setup_.conversion_rate, p_click);
  }

  CtrWorldSetup setup_;
  std::vector<Index> cardinalities_;
  std::vector<Field> fields_;
  double click_intercept_ = 0.0;
  double conversion_intercept_ = 0.0;
};

}  // namespace tailor::datasets
