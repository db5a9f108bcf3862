// tailor/pricing/synthetic_control.hpp — synthetic control with an exact simplex QP, in-space
// placebo inference, and the two-way difference-in-differences comparison.
//
// Synthetic control (Abadie, Diamond & Hainmueller, JASA 2010; outcome-only by default, or on
// V-weighted predictors with V equal, given or optimised for the pre-period fit): donor weights
//   w = argmin_{w >= 0, Σw = 1} ‖Y₀,pre·w − y₁,pre‖²
// over the pre-treatment periods, found by a primal active-set method (the equality-constrained
// Lawson–Hanson scheme): the free set grows by the donor with the most negative reduced gradient
// g_j + μ and shrinks when the equality-constrained solution on it leaves the simplex (a step to
// the boundary). It ends at the KKT point — g_j + μ = 0 on the support, >= 0 off it — which for
// this convex problem is the global optimum; the largest KKT violation is reported. The gap
// y₁ − Y₀w per period, the ATT (mean post-treatment gap) and pre/post RMSPE follow.
// Inference by in-space placebos: every donor in turn is treated at the same period with the other
// donors as its pool; the statistic is the post/pre MSPE ratio, p = rank / (J + 1) (ADH 2010,
// §2.4), optionally dropping placebos whose pre-period MSPE exceeds a multiple of the treated
// unit's. Placebos run in parallel, each a pure function of its index: identical for any
// num_threads.
// Complexity: each QP is O(J·T₀) per gradient (AᵀA is never formed) plus an O(T₀|F|² + |F|³)
// KKT solve per active-set change (|F| <= T₀ + 1 in practice); placebos multiply by J.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"
#include "tailor/pricing/panel.hpp"

namespace tailor::pricing {

/// The solution of min ½‖Aw − b‖² over the simplex.
struct SimplexFit {
  Vector weights;
  /// Largest violation of the KKT conditions, relative to max(1, max|gradient|).
  double kkt_violation = 0.0;
  Index iterations = 0;
};

/// Exact least squares on the simplex {w >= 0, Σw = 1} by a primal active-set method.
inline SimplexFit simplex_least_squares(const Matrix& A, const Vector& b,
                                        Index max_iterations = 100'000) {
  constexpr std::string_view kContext = "simplex_least_squares";
  const Index J = A.cols();
  check_param(J >= 1, kContext, "columns", J, "at least 1");
  check_rows(kContext, "b", b.size(), A.rows(), "the rows of A");
  check_finite(kContext, "A", A);
  check_finite(kContext, "b", b);
  // G = AᵀA is never formed (J × J at 1,000 donors): gradients are Aᵀ(Aw − b) and the KKT
  // systems use only the free columns.
  const Vector c = A.transpose() * b;
  const Vector column_norms = A.colwise().squaredNorm().transpose();
  const double scale = std::max({1.0, column_norms.maxCoeff(), c.cwiseAbs().maxCoeff()});
  const double tol = 1e-12 * scale;
  // w has at most T₀ + 1 nonzeros: Aw sums only those columns.
  const auto gradient = [&](const Vector& weights) -> Vector {
    Vector residual = -b;
    for (Index j = 0; j < weights.size(); ++j) {
      if (weights[j] != 0.0) residual.noalias() += weights[j] * A.col(j);
    }
    return A.transpose() * residual;
  };

  SimplexFit fit;
  Vector w = Vector::Zero(J);
  // Start at the best single donor: f(e_j) = ½G_jj − c_j.
  Index start = 0;
  for (Index j = 1; j < J; ++j) {
    if (0.5 * column_norms[j] - c[j] < 0.5 * column_norms[start] - c[start]) start = j;
  }
  w[start] = 1.0;
  std::vector<Index> free{start};
  std::vector<char> in_free(static_cast<std::size_t>(J), 0);
  in_free[static_cast<std::size_t>(start)] = 1;

  // Equality-constrained minimiser on the free set: [G_FF 1; 1ᵀ 0][z; ν] = [c_F; 1].
  const auto solve_free = [&](Vector& z) {
    const auto m = static_cast<Index>(free.size());
    Matrix af(A.rows(), m);
    Vector cf(m);
    for (Index i = 0; i < m; ++i) {
      af.col(i) = A.col(free[static_cast<std::size_t>(i)]);
      cf[i] = c[free[static_cast<std::size_t>(i)]];
    }
    const Matrix gram = af.transpose() * af;
    // G_FF z = c_F − ν1 with 1ᵀz = 1: two Cholesky solves and the Schur complement; the full
    // KKT system when G_FF is singular (more free donors than independent pre-periods).
    const Eigen::LLT<Matrix> llt(gram);
    if (llt.info() == Eigen::Success) {
      const Vector z0 = llt.solve(cf);
      const Vector u = llt.solve(Vector::Ones(m));
      const double denominator = u.sum();
      if (denominator > 0.0 && std::isfinite(denominator)) {
        z = z0 + ((1.0 - z0.sum()) / denominator) * u;
        if (z.allFinite()) return;
      }
    }
    Matrix kkt = Matrix::Zero(m + 1, m + 1);
    kkt.topLeftCorner(m, m) = gram;
    kkt.col(m).head(m).setOnes();
    kkt.row(m).head(m).setOnes();
    Vector rhs(m + 1);
    rhs.head(m) = cf;
    rhs[m] = 1.0;
    z = kkt.fullPivLu().solve(rhs).head(m);
  };

  Vector z;
  for (; fit.iterations < max_iterations; ++fit.iterations) {
    // Reduced gradients: g_j + μ with μ making them zero on the free set (their mean).
    const Vector g = gradient(w);
    double mu = 0.0;
    for (const Index j : free) mu -= g[j];
    mu /= static_cast<double>(free.size());
    Index enter = -1;
    double best = -tol;
    for (Index j = 0; j < J; ++j) {
      if (!in_free[static_cast<std::size_t>(j)] && g[j] + mu < best) {
        best = g[j] + mu;
        enter = j;
      }
    }
    if (enter < 0) break;  // KKT point
    free.push_back(enter);
    in_free[static_cast<std::size_t>(enter)] = 1;
    bool progressed = false;
    for (Index inner = 0; inner <= J; ++inner) {
      solve_free(z);
      double alpha = 1.0;
      for (std::size_t i = 0; i < free.size(); ++i) {
        const Index j = free[i];
        if (z[static_cast<Index>(i)] <= 0.0) {
          const double denom = w[j] - z[static_cast<Index>(i)];
          alpha = std::min(alpha, denom > 0.0 ? w[j] / denom : 0.0);
        }
      }
      if (alpha >= 1.0) {
        for (std::size_t i = 0; i < free.size(); ++i) w[free[i]] = z[static_cast<Index>(i)];
        progressed = true;
        break;
      }
      // Step to the boundary and drop the donors that reached zero.
      for (std::size_t i = 0; i < free.size(); ++i) {
        const Index j = free[i];
        w[j] += alpha * (z[static_cast<Index>(i)] - w[j]);
      }
      std::vector<Index> kept;
      for (const Index j : free) {
        if (w[j] > 1e-15) {
          kept.push_back(j);
        } else {
          w[j] = 0.0;
          in_free[static_cast<std::size_t>(j)] = 0;
        }
      }
      progressed = progressed || alpha > 0.0;
      free.swap(kept);
      if (free.empty()) raise<NumericalError>("{}: the active set emptied", kContext);
    }
    if (!progressed) break;  // degenerate: no move possible within rounding
  }
  // Normalise away rounding and report the KKT violation.
  w = w.cwiseMax(0.0);
  w /= w.sum();
  const Vector g = gradient(w);
  double mu = 0.0;
  Index support = 0;
  for (Index j = 0; j < J; ++j) {
    if (w[j] > 0.0) {
      mu -= g[j];
      ++support;
    }
  }
  mu /= static_cast<double>(support);
  double violation = 0.0;
  for (Index j = 0; j < J; ++j) {
    const double r = g[j] + mu;
    violation = std::max(violation, w[j] > 0.0 ? std::fabs(r) : std::max(0.0, -r));
  }
  fit.weights = std::move(w);
  fit.kkt_violation = violation / std::max(1.0, g.cwiseAbs().maxCoeff());
  return fit;
}

/// How the predictor weights V of a synthetic control are chosen.
enum class PredictorWeighting { equal, given, optimized };

/// Predictors of every unit for the V-weighted synthetic control (ADH 2010, eq. 2): a k × units
/// matrix in the panel's unit order (e.g. average income, retail price, lagged outcomes), each
/// row standardised by its sd across units before use.
struct Predictors {
  Matrix values;
  PredictorWeighting weighting = PredictorWeighting::optimized;
  Vector given = {};  ///< V (k, >= 0) for PredictorWeighting::given
  /// Nelder–Mead steps per start; V is optimised from equal weights and from k starts that favour
  /// one predictor each, keeping the best (the problem is not convex in V).
  Index iterations = 400;
};

namespace detail {

/// Nelder & Mead (1965) simplex search, deterministic (reflection 1, expansion 2, contraction and
/// shrink 1/2), `iterations` steps from x0 with an initial simplex of edge `step`.
template <class F>
Vector nelder_mead(F&& f, const Vector& x0, Index iterations, double step) {
  const Index n = x0.size();
  std::vector<Vector> p(static_cast<std::size_t>(n) + 1, x0);
  std::vector<double> fv(static_cast<std::size_t>(n) + 1);
  for (Index i = 0; i < n; ++i) p[static_cast<std::size_t>(i) + 1][i] += step;
  for (std::size_t i = 0; i < p.size(); ++i) fv[i] = f(p[i]);
  std::vector<std::size_t> order(p.size());
  for (Index it = 0; it < iterations; ++it) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return fv[a] < fv[b]; });
    std::vector<Vector> q;
    std::vector<double> qf;
    for (const std::size_t i : order) {
      q.push_back(p[i]);
      qf.push_back(fv[i]);
    }
    p.swap(q);
    fv.swap(qf);
    const auto worst = static_cast<std::size_t>(n);
    Vector centroid = Vector::Zero(n);
    for (std::size_t i = 0; i < worst; ++i) centroid += p[i] / static_cast<double>(n);
    const Vector reflected = centroid + (centroid - p[worst]);
    const double fr = f(reflected);
    if (fr < fv[0]) {
      const Vector expanded = centroid + 2.0 * (centroid - p[worst]);
      const double fe = f(expanded);
      p[worst] = fe < fr ? expanded : reflected;
      fv[worst] = std::min(fe, fr);
    } else if (fr < fv[worst - 1]) {
      p[worst] = reflected;
      fv[worst] = fr;
    } else {
      const Vector contracted = centroid + 0.5 * (p[worst] - centroid);
      const double fc = f(contracted);
      if (fc < fv[worst]) {
        p[worst] = contracted;
        fv[worst] = fc;
      } else {
        for (std::size_t i = 1; i < p.size(); ++i) {
          p[i] = p[0] + 0.5 * (p[i] - p[0]);
          fv[i] = f(p[i]);
        }
      }
    }
  }
  const auto best = static_cast<std::size_t>(std::min_element(fv.begin(), fv.end()) - fv.begin());
  return p[best];
}

}  // namespace detail

/// A fitted synthetic control of one treated unit.
struct SyntheticControlModel {
  Index unit = 0;             ///< the treated unit (panel index)
  std::vector<Index> donors;  ///< panel indices of the donor pool
  Vector weights;             ///< one per donor, on the simplex
  Index start = 0;            ///< first treated period (index)
  Vector synthetic;           ///< Y₀·w per period
  Vector gap;                 ///< y₁ − synthetic per period
  double att = 0.0;           ///< mean post-treatment gap
  double pre_rmspe = 0.0;
  double post_rmspe = 0.0;
  double kkt_violation = 0.0;
  /// V, the predictor weights used (empty without predictors; sums to 1).
  Vector predictor_weights;

  /// Post/pre MSPE ratio (the placebo statistic).
  double mspe_ratio() const {
    return post_rmspe * post_rmspe / std::max(pre_rmspe * pre_rmspe, 1e-300);
  }
  /// Weight of a donor by panel index (0 when not in the pool).
  double weight_of(Index panel_unit) const {
    for (std::size_t j = 0; j < donors.size(); ++j) {
      if (donors[j] == panel_unit) return weights[static_cast<Index>(j)];
    }
    return 0.0;
  }
};

/// Outcome-only synthetic control with the exact simplex QP.
class SyntheticControl {
 public:
  struct Params {
    Index max_iterations = 100'000;
    Index num_threads = 0;  ///< placebos in parallel (0 = all cores)
    /// Fit on V-weighted predictors instead of the pre-period outcomes (ADH 2010); with
    /// PredictorWeighting::optimized, V minimises the pre-period outcome MSPE.
    std::optional<Predictors> predictors = std::nullopt;
  };

  SyntheticControl() : SyntheticControl(Params{}) {}
  explicit SyntheticControl(Params params) : params_(params) {
    check_count("SyntheticControl", "max_iterations", params_.max_iterations, 1,
                limits::kMaxIterations);
    check_param(params_.num_threads >= 0, "SyntheticControl", "num_threads", params_.num_threads,
                "at least 0 (0 = all cores)");
    if (params_.predictors) {
      check_count("SyntheticControl", "predictors.iterations", params_.predictors->iterations, 1,
                  limits::kMaxIterations);
    }
  }

  /// The panel's treated unit (exactly one must be treated) against the never-treated units;
  /// with several treated units, fit each through fit(panel, unit, donors, start).
  SyntheticControlModel fit(const Panel& panel) const {
    const Index unit = panel.single_treated_unit("SyntheticControl::fit(panel)");
    return fit(panel, unit, panel.control_units(), panel.treatment_start(unit));
  }

  /// `unit` treated from period index `start` with donor pool `donors`.
  SyntheticControlModel fit(const Panel& panel, Index unit, const std::vector<Index>& donors,
                            Index start) const {
    constexpr std::string_view kContext = "SyntheticControl::fit";
    check_param(unit >= 0 && unit < panel.num_units(), kContext, "unit", unit,
                fmt::format("between 0 and {}", panel.num_units() - 1));
    check_param(start >= 1 && start < panel.num_periods(), kContext, "start", start,
                fmt::format("between 1 and {} (at least one pre- and one post-period)",
                            panel.num_periods() - 1));
    check_param(donors.size() >= 2, kContext, "donors size", donors.size(), "at least 2");
    const Matrix& y = panel.outcome();
    const auto J = static_cast<Index>(donors.size());
    Matrix A(start, J);
    for (Index j = 0; j < J; ++j) {
      const Index d = donors[static_cast<std::size_t>(j)];
      check_param(d >= 0 && d < panel.num_units() && d != unit, kContext, "donor", d,
                  "a unit of the panel other than the treated one");
      A.col(j) = y.row(d).head(start).transpose();
    }
    const Vector b = y.row(unit).head(start).transpose();
    SyntheticControlModel m;
    const SimplexFit qp = params_.predictors
                              ? fit_predictors(panel, unit, donors, A, b, m.predictor_weights)
                              : simplex_least_squares(A, b, params_.max_iterations);
    m.unit = unit;
    m.donors = donors;
    m.weights = qp.weights;
    m.start = start;
    m.kkt_violation = qp.kkt_violation;
    m.synthetic = Vector::Zero(panel.num_periods());
    for (Index j = 0; j < J; ++j) {
      m.synthetic += m.weights[j] * y.row(donors[static_cast<std::size_t>(j)]).transpose();
    }
    m.gap = y.row(unit).transpose() - m.synthetic;
    const Index post = panel.num_periods() - start;
    m.att = m.gap.tail(post).mean();
    m.pre_rmspe = std::sqrt(m.gap.head(start).squaredNorm() / static_cast<double>(start));
    m.post_rmspe = std::sqrt(m.gap.tail(post).squaredNorm() / static_cast<double>(post));
    return m;
  }

  const Params& params() const { return params_; }

 private:
  /// Weights on V-weighted, standardised predictors; V equal, given, or chosen to minimise the
  /// pre-period outcome fit ‖b − A w(V)‖² over V = softmax(θ) by Nelder–Mead from k + 1 starts.
  SimplexFit fit_predictors(const Panel& panel, Index unit, const std::vector<Index>& donors,
                            const Matrix& outcome_pre, const Vector& outcome_target,
                            Vector& v_out) const {
    constexpr std::string_view kContext = "SyntheticControl::fit";
    const Predictors& p = *params_.predictors;
    const Index k = p.values.rows();
    if (p.values.cols() != panel.num_units() || k < 1) {
      raise<ShapeMismatch>("{}: predictors is {} x {}, expected k x {} (one column per unit)",
                           kContext, p.values.rows(), p.values.cols(), panel.num_units());
    }
    check_finite(kContext, "predictors", p.values);
    Matrix x = p.values;
    for (Index r = 0; r < k; ++r) {
      const double mean = x.row(r).mean();
      const double sd = std::sqrt((x.row(r).array() - mean).square().sum() /
                                  static_cast<double>(std::max<Index>(1, x.cols() - 1)));
      if (sd > 0.0) x.row(r) /= sd;
    }
    const auto J = static_cast<Index>(donors.size());
    Matrix x0(k, J);
    for (Index j = 0; j < J; ++j) x0.col(j) = x.col(donors[static_cast<std::size_t>(j)]);
    const Vector x1 = x.col(unit);
    const auto weights_for = [&](const Vector& v) {
      const Vector s = v.cwiseSqrt();
      return simplex_least_squares(s.asDiagonal() * x0, s.asDiagonal() * x1,
                                   params_.max_iterations);
    };
    const auto softmax = [](const Vector& theta) {
      const Vector e = (theta.array() - theta.maxCoeff()).exp();
      return Vector(e / e.sum());
    };
    Vector v;
    if (p.weighting == PredictorWeighting::equal) {
      v = Vector::Constant(k, 1.0 / static_cast<double>(k));
    } else if (p.weighting == PredictorWeighting::given) {
      check_rows(kContext, "predictors.given", p.given.size(), k, "one weight per predictor");
      if (!(p.given.array() >= 0.0).all() || !(p.given.sum() > 0.0) || !p.given.allFinite()) {
        raise<InvalidArgument>("{}: predictors.given must be finite, >= 0 and not all 0", kContext);
      }
      v = p.given / p.given.sum();
    } else {
      const auto loss = [&](const Vector& theta) {
        const SimplexFit f = weights_for(softmax(theta));
        return (outcome_target - outcome_pre * f.weights).squaredNorm();
      };
      Vector best = detail::nelder_mead(loss, Vector::Zero(k), p.iterations, 1.0);
      double best_loss = loss(best);
      for (Index r = 0; r < k; ++r) {
        Vector start = Vector::Zero(k);
        start[r] = 3.0;
        const Vector candidate = detail::nelder_mead(loss, start, p.iterations, 1.0);
        const double candidate_loss = loss(candidate);
        if (candidate_loss < best_loss) {
          best_loss = candidate_loss;
          best = candidate;
        }
      }
      v = softmax(best);
    }
    v_out = v;
    return weights_for(v);
  }

  Params params_;
};

/// In-space placebo inference for the panel's treated unit.
struct PlaceboTest {
  SyntheticControlModel treated;
  std::vector<SyntheticControlModel> placebos;  ///< one per donor, in donor order
  /// Rank of the treated unit's post/pre MSPE ratio among itself and the kept placebos (1 =
  /// largest), the number compared and p = rank / compared.
  Index rank = 0;
  Index compared = 0;
  double p_value = 0.0;
};

/// Every donor treated in turn (the real treated unit left out of every pool). With
/// `pre_mspe_cutoff` = c > 0, placebos whose pre-period MSPE exceeds c times the treated unit's
/// are dropped from the comparison (ADH 2010 use 2, 5, 20).
inline PlaceboTest placebo_test(const Panel& panel, const SyntheticControl& sc = SyntheticControl(),
                                double pre_mspe_cutoff = 0.0) {
  check_param(pre_mspe_cutoff >= 0.0 && std::isfinite(pre_mspe_cutoff), "placebo_test",
              "pre_mspe_cutoff", pre_mspe_cutoff, "a finite value >= 0 (0 = keep all)");
  PlaceboTest out;
  out.treated = sc.fit(panel);
  const std::vector<Index> donors = panel.control_units();
  const Index start = out.treated.start;
  out.placebos.resize(donors.size());
  parallel_for(0, static_cast<Index>(donors.size()), sc.params().num_threads, [&](Index j) {
    std::vector<Index> pool;
    for (const Index d : donors) {
      if (d != donors[static_cast<std::size_t>(j)]) pool.push_back(d);
    }
    out.placebos[static_cast<std::size_t>(j)] =
        sc.fit(panel, donors[static_cast<std::size_t>(j)], pool, start);
  });
  const double own = out.treated.mspe_ratio();
  const double own_pre = out.treated.pre_rmspe * out.treated.pre_rmspe;
  out.rank = 1;
  out.compared = 1;
  for (const auto& p : out.placebos) {
    if (pre_mspe_cutoff > 0.0 && p.pre_rmspe * p.pre_rmspe > pre_mspe_cutoff * own_pre) continue;
    ++out.compared;
    if (p.mspe_ratio() >= own) ++out.rank;
  }
  out.p_value = static_cast<double>(out.rank) / static_cast<double>(out.compared);
  return out;
}

/// In-time placebo (ADH 2015): the treated unit's synthetic control refitted as if treatment had
/// started at period index `fake_start`, on the periods before the real start only; its "effect"
/// over [fake_start, start) should be near zero.
inline SyntheticControlModel in_time_placebo(const Panel& panel, Index fake_start,
                                             const SyntheticControl& sc = SyntheticControl()) {
  const Index unit = panel.single_treated_unit("in_time_placebo");
  const Index start = panel.treatment_start(unit);
  check_param(fake_start >= 1 && fake_start < start, "in_time_placebo", "fake_start", fake_start,
              fmt::format("between 1 and {} (before the real start)", start - 1));
  Eigen::MatrixXi d = Eigen::MatrixXi::Zero(panel.num_units(), start);
  d.row(unit).tail(start - fake_start).setOnes();
  const Panel window(
      panel.units(),
      std::vector<double>(panel.periods().begin(),
                          panel.periods().begin() + static_cast<std::ptrdiff_t>(start)),
      panel.outcome().leftCols(start), d);
  return sc.fit(window);
}

/// Leave-one-out over the donors with positive weight: the synthetic control refitted without
/// each of them in turn (ADH 2015), in donor order of the full fit.
inline std::vector<SyntheticControlModel> leave_one_out(
    const Panel& panel, const SyntheticControl& sc = SyntheticControl()) {
  const SyntheticControlModel full = sc.fit(panel);
  std::vector<Index> dropped;
  for (std::size_t j = 0; j < full.donors.size(); ++j) {
    if (full.weights[static_cast<Index>(j)] > 0.0) dropped.push_back(full.donors[j]);
  }
  std::vector<SyntheticControlModel> out(dropped.size());
  parallel_for(0, static_cast<Index>(dropped.size()), sc.params().num_threads, [&](Index k) {
    std::vector<Index> pool;
    for (const Index d : full.donors) {
      if (d != dropped[static_cast<std::size_t>(k)]) pool.push_back(d);
    }
    out[static_cast<std::size_t>(k)] = sc.fit(panel, full.unit, pool, full.start);
  });
  return out;
}

/// Two-way difference in differences for the panel's treated unit(s) sharing one start:
/// (treated post − treated pre) − (donors post − donors pre), means over units and periods.
inline double difference_in_differences(const Panel& panel) {
  const Index start = panel.cohort_start("difference_in_differences");
  const auto treated = panel.treated_units();
  const auto mean_over = [&](const std::vector<Index>& units, Index from, Index to) {
    double s = 0.0;
    for (const Index u : units) s += panel.outcome().row(u).segment(from, to - from).sum();
    return s / static_cast<double>(units.size() * static_cast<std::size_t>(to - from));
  };
  const auto controls = panel.control_units();
  const Index T = panel.num_periods();
  return (mean_over(treated, start, T) - mean_over(treated, 0, start)) -
         (mean_over(controls, start, T) - mean_over(controls, 0, start));
}

}  // namespace tailor::pricing
