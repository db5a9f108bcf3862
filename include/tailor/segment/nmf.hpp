// tailor/segment/nmf.hpp — non-negative matrix factorization X ≈ W·H (Frobenius loss).
//
// Objective (the scaling follows scikit-learn's NMF, so alpha values carry over):
//   f(W, H) = ½‖X − WH‖²_F + l1_W·ΣW + ½·l2_W·‖W‖²_F + l1_H·ΣH + ½·l2_H·‖H‖²_F,   W, H ≥ 0,
//   l1_W = alpha_W·l1_ratio·p,  l2_W = alpha_W·(1 − l1_ratio)·p,
//   l1_H = alpha_H·l1_ratio·n,  l2_H = alpha_H·(1 − l1_ratio)·n     (X is n × p).
// Solvers:
//   hals            hierarchical alternating least squares = exact coordinate descent on one
//                   column of W (row of H) at a time (Cichocki & Phan, IEICE Trans. 2009;
//                   Gillis & Glineur, Neural Computation 2012). Each sweep needs the GEMMs X·Hᵀ
//                   (n×p×k) and XᵀW (n×p×k) plus k×k Gram matrices; every coordinate step solves
//                   its 1-D problem exactly, so f never increases.
//   multiplicative  Lee & Seung (NIPS 2001): W ← W ∘ XHᵀ / (WHHᵀ + l1_W + l2_W·W), likewise H;
//                   also monotone, slower, and zeros stay zero (use nndsvda/random init with it).
// Init (Boutsidis & Gallopoulos, Pattern Recognition 2008): nndsvd takes the positive or
//   negative part of each of the top-k singular pairs; nndsvda fills its zeros with mean(X);
//   nndsvdar with mean(X)·|N(0,1)|/100 (seeded); random draws √(mean(X)/k)·|N(0,1)| (seeded).
//   The truncated SVD comes from the eigendecomposition of the smaller Gram matrix (XᵀX if
//   n ≥ p, else XXᵀ): O(n·p·min(n,p) + min(n,p)³) time, O(min(n,p)²) extra memory.
// One iteration costs O(n·p·k + (n + p)·k²); memory is O((n + p)·k) beyond X.
// Stopping: after iteration t, stop when (f_{t−1} − f_t) ≤ tol·f_0 (f_0 = objective at init).
// Explained variance, both ways:
//   explained_variance_centered   = 1 − ‖X − WH‖² / ‖X − 1·x̄ᵀ‖²   (x̄ = column means)
//   explained_variance_uncentered = 1 − ‖X − WH‖² / ‖X‖²
// Rows are processed in fixed blocks with ordered reductions, so results are bit-identical for
// every num_threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/segment/detail/blocked.hpp"
#include "tailor/segment/detail/nearest.hpp"

namespace tailor::segment {

enum class NmfSolver : std::uint8_t { hals = 0, multiplicative = 1 };
enum class NmfInit : std::uint8_t { nndsvd = 0, nndsvda = 1, nndsvdar = 2, random = 3 };

struct NmfParams {
  Index num_components = 2;            ///< k ≥ 1 (≤ min(n, p) for the nndsvd inits)
  NmfSolver solver = NmfSolver::hals;  ///< coordinate descent (default) or multiplicative
  NmfInit init = NmfInit::nndsvda;     ///< nndsvda: NNDSVD with zeros filled by mean(X)
  double alpha_W = 0.0;                ///< regularization strength on W (≥ 0), scaled by p
  double alpha_H = 0.0;                ///< regularization strength on H (≥ 0), scaled by n
  double l1_ratio = 0.0;               ///< 0 = pure L2, 1 = pure L1 (in [0, 1])
  double tol = 1e-4;                   ///< relative objective decrease that stops (≥ 0)
  Index max_iter = 200;                ///< maximum sweeps (≥ 1)
  std::uint64_t seed = 0;              ///< for the random and nndsvdar inits
  Index num_threads = 0;               ///< 0 = all cores
};

namespace detail {

inline constexpr std::string_view kNmf = "Nmf";

/// Penalty coefficients in sklearn's scaling (see the header comment).
struct NmfPenalty {
  double l1_W = 0.0, l2_W = 0.0, l1_H = 0.0, l2_H = 0.0;
};

inline NmfPenalty nmf_penalty(const NmfParams& p, Index n, Index cols) {
  return {p.alpha_W * p.l1_ratio * static_cast<double>(cols),
          p.alpha_W * (1.0 - p.l1_ratio) * static_cast<double>(cols),
          p.alpha_H * p.l1_ratio * static_cast<double>(n),
          p.alpha_H * (1.0 - p.l1_ratio) * static_cast<double>(n)};
}

/// Throws unless X is non-empty, finite and non-negative.
inline void check_nmf_input(std::string_view context, const MatrixRef& X) {
  check_nonempty(context, "X", X.rows());
  if (X.cols() == 0) {
    raise<DataError>("{}: X has 0 columns, expected at least 1", context);
  }
  check_finite(context, "X", X);
  check_magnitude(context, "X", X, 1e150, "products of factors overflow beyond it; rescale X");
  for (Index j = 0; j < X.cols(); ++j) {
    for (Index i = 0; i < X.rows(); ++i) {
      if (X(i, j) < 0.0) {
        raise<DataError>("{}: X({}, {}) = {}, expected a value >= 0", context, i, j, X(i, j));
      }
    }
  }
}

/// One HALS sweep over the columns of F (m × k) for min ½‖Y − F·Gᵀ‖² + l1·ΣF + ½·l2·‖F‖², given
/// A = Y·G (m × k) and B = GᵀG (k × k). Rows of F are independent, so blocks run in parallel.
/// Coordinate step (exact minimizer of the 1-D problem, clipped at 0):
///   F(:, j) ← max(0, F(:, j) + (A(:, j) − l1 − F·B(:, j) − l2·F(:, j)) / (B(j, j) + l2)).
inline void hals_sweep_block(Eigen::Ref<Matrix> F, const Eigen::Ref<const Matrix>& A,
                             const Matrix& B, double l1, double l2) {
  const Index k = B.rows();
  Vector grad(F.rows());
  for (Index j = 0; j < k; ++j) {
    const double hess = B(j, j) + l2;
    if (!(hess > 0.0)) continue;  // a zero column/row of the other factor: nothing to fit
    grad.noalias() = F * B.col(j);
    for (Index i = 0; i < F.rows(); ++i) {
      const double g = grad[i] + l2 * F(i, j) + l1 - A(i, j);
      F(i, j) = std::max(0.0, F(i, j) - g / hess);
    }
  }
}

/// One multiplicative update of F given A = Y·G and B = GᵀG (Lee & Seung with penalties).
inline void multiplicative_block(Eigen::Ref<Matrix> F, const Eigen::Ref<const Matrix>& A,
                                 const Matrix& B, double l1, double l2) {
  const Matrix denominator = F * B;
  for (Index j = 0; j < F.cols(); ++j) {
    for (Index i = 0; i < F.rows(); ++i) {
      double d = denominator(i, j) + l1 + l2 * F(i, j);
      if (!(d > 0.0)) d = std::numeric_limits<double>::epsilon();
      F(i, j) *= std::max(A(i, j), 0.0) / d;
    }
  }
}

inline void update_factor_block(NmfSolver solver, Eigen::Ref<Matrix> F,
                                const Eigen::Ref<const Matrix>& A, const Matrix& B, double l1,
                                double l2) {
  if (solver == NmfSolver::hals) {
    hals_sweep_block(F, A, B, l1, l2);
  } else {
    multiplicative_block(F, A, B, l1, l2);
  }
}

/// Top-k singular triplets of X (n × p) from the smaller Gram matrix; singular values
/// descending. U is n × k, V is p × k; a zero singular value gives zero vectors.
inline void truncated_svd(const MatrixRef& X, Index k, Index num_threads, Matrix& U, Vector& S,
                          Matrix& V) {
  const Index n = X.rows();
  const Index p = X.cols();
  const bool tall = n >= p;
  Matrix gram = tall ? blocked_cross(X, X, num_threads) : Matrix(X * X.transpose());
  Eigen::SelfAdjointEigenSolver<Matrix> eig(gram);
  if (eig.info() != Eigen::Success) {
    raise<NumericalError>("Nmf: eigendecomposition for the NNDSVD init failed");
  }
  const Index m = gram.rows();
  S.resize(k);
  Matrix small(m, k);  // eigenvectors of the Gram matrix, largest first
  for (Index j = 0; j < k; ++j) {
    const double lambda = eig.eigenvalues()[m - 1 - j];
    S[j] = lambda > 0.0 ? std::sqrt(lambda) : 0.0;
    small.col(j) = eig.eigenvectors().col(m - 1 - j);
  }
  // The other side: u_j = X v_j / σ_j (or v_j = Xᵀ u_j / σ_j).
  Matrix other = tall ? blocked_product(X, small, num_threads) : Matrix(X.transpose() * small);
  const double cutoff = S.size() > 0 ? S[0] * 1e-12 : 0.0;
  for (Index j = 0; j < k; ++j) {
    if (S[j] > cutoff && S[j] > 0.0) {
      other.col(j) /= S[j];
    } else {
      S[j] = 0.0;
      other.col(j).setZero();
      small.col(j).setZero();
    }
  }
  if (tall) {
    V = std::move(small);
    U = std::move(other);
  } else {
    U = std::move(small);
    V = std::move(other);
  }
}

/// Initial W (n × k) and H (k × p) for `init`.
inline void nmf_initialize(const MatrixRef& X, const NmfParams& params, Matrix& W, Matrix& H) {
  const Index n = X.rows();
  const Index p = X.cols();
  const Index k = params.num_components;
  const double mean = X.mean();
  Rng rng(params.seed);
  if (params.init == NmfInit::random) {
    const double avg = std::sqrt(mean / static_cast<double>(k));
    H.resize(k, p);
    W.resize(n, k);
    for (Index j = 0; j < p; ++j)
      for (Index c = 0; c < k; ++c) H(c, j) = avg * std::abs(rng.normal());
    for (Index c = 0; c < k; ++c)
      for (Index i = 0; i < n; ++i) W(i, c) = avg * std::abs(rng.normal());
    return;
  }
  Matrix U, V;
  Vector S;
  truncated_svd(X, k, params.num_threads, U, S, V);
  W = Matrix::Zero(n, k);
  H = Matrix::Zero(k, p);
  // The leading pair of a non-negative matrix has one sign (Perron–Frobenius): take |u|, |v|.
  W.col(0) = std::sqrt(S[0]) * U.col(0).cwiseAbs();
  H.row(0) = std::sqrt(S[0]) * V.col(0).cwiseAbs().transpose();
  for (Index j = 1; j < k; ++j) {
    const Vector x = U.col(j);
    const Vector y = V.col(j);
    const Vector xp = x.cwiseMax(0.0), xn = (-x).cwiseMax(0.0);
    const Vector yp = y.cwiseMax(0.0), yn = (-y).cwiseMax(0.0);
    const double xp_norm = xp.norm(), xn_norm = xn.norm();
    const double yp_norm = yp.norm(), yn_norm = yn.norm();
    const double mp = xp_norm * yp_norm;
    const double mn = xn_norm * yn_norm;
    // Keep the part (positive or negative) with the larger rank-one mass.
    if (mp > mn && mp > 0.0) {
      const double scale = std::sqrt(S[j] * mp);
      W.col(j) = scale * xp / xp_norm;
      H.row(j) = (scale * yp / yp_norm).transpose();
    } else if (mn > 0.0) {
      const double scale = std::sqrt(S[j] * mn);
      W.col(j) = scale * xn / xn_norm;
      H.row(j) = (scale * yn / yn_norm).transpose();
    }
  }
  constexpr double kZero = 1e-6;  // entries this small count as zeros (as in the paper's code)
  W = (W.array() < kZero).select(0.0, W);
  H = (H.array() < kZero).select(0.0, H);
  if (params.init == NmfInit::nndsvda) {
    W = (W.array() == 0.0).select(mean, W);
    H = (H.array() == 0.0).select(mean, H);
  } else if (params.init == NmfInit::nndsvdar) {
    for (Index c = 0; c < k; ++c)
      for (Index i = 0; i < n; ++i)
        if (W(i, c) == 0.0) W(i, c) = mean * std::abs(rng.normal()) / 100.0;
    for (Index j = 0; j < p; ++j)
      for (Index c = 0; c < k; ++c)
        if (H(c, j) == 0.0) H(c, j) = mean * std::abs(rng.normal()) / 100.0;
  }
}

/// ‖X − WH‖²_F computed directly (no cancellation), in row blocks.
inline double residual_squared_norm(const MatrixRef& X, const Matrix& W, const Matrix& H,
                                    Index num_threads) {
  return blocked_scalar_sum(X.rows(), num_threads, [&](Index lo, Index hi) {
    return (X.middleRows(lo, hi - lo) - W.middleRows(lo, hi - lo) * H).squaredNorm();
  });
}

/// ‖X − 1·x̄ᵀ‖²_F, column by column (two-pass, no cancellation).
inline double centered_squared_norm(const MatrixRef& X) {
  double total = 0.0;
  for (Index j = 0; j < X.cols(); ++j) {
    const double m = X.col(j).mean();
    total += (X.col(j).array() - m).square().sum();
  }
  return total;
}

}  // namespace detail

/// A fitted factorization X ≈ W·H; immutable, const methods are thread-safe.
class NmfModel {
 public:
  NmfModel() = default;

  /// Non-negative factor scores of the training rows (n × k).
  const Matrix& W() const { return W_; }
  /// Non-negative components (k × p).
  const Matrix& H() const { return H_; }
  Index num_components() const { return H_.rows(); }
  Index num_features() const { return H_.cols(); }

  /// ‖X − WH‖_F on the training data.
  double reconstruction_error() const { return reconstruction_error_; }
  /// 1 − ‖X − WH‖² / ‖X − 1·x̄ᵀ‖² (x̄ = column means): the share of variance about the column
  /// means that the factorization explains (can be negative for a poor fit; 1 if X is constant
  /// and reconstructed exactly).
  double explained_variance_centered() const { return explained_variance_centered_; }
  /// 1 − ‖X − WH‖² / ‖X‖²: the share of the raw sum of squares explained (always ≤ 1).
  double explained_variance_uncentered() const { return explained_variance_uncentered_; }
  /// f at init (entry 0) and after every iteration (entries 1..iterations); see the header.
  const std::vector<double>& objective_trace() const { return trace_; }
  /// Final objective f(W, H) (penalties included).
  double objective() const { return trace_.back(); }
  Index iterations() const { return iterations_; }
  bool converged() const { return converged_; }
  const NmfParams& params() const { return params_; }

  /// Scores of new rows with H fixed: each row w ≥ 0 minimizes ½‖x − Hᵀw‖² + penalties on W,
  /// solved row by row with the model's solver from w = √(mean(X_train)/k), until the row's
  /// relative change Σ|Δw| ≤ tol·Σ|w| or max_iter sweeps. Rows are independent: a row's score
  /// does not depend on the other rows. O(n·p·k + n·k²·sweeps).
  Matrix transform(const MatrixRef& X) const {
    constexpr std::string_view kContext = "NmfModel::transform";
    detail::check_nmf_input(kContext, X);
    if (X.cols() != H_.cols()) {
      raise<ShapeMismatch>("{}: X has {} columns, expected {} (the model's features)", kContext,
                           X.cols(), H_.cols());
    }
    const Index k = H_.rows();
    const auto pen = detail::nmf_penalty(params_, train_rows_, H_.cols());
    const Matrix B = H_ * H_.transpose();
    const Matrix Ht = H_.transpose();
    const double start = std::sqrt(train_mean_ / static_cast<double>(k));
    Matrix W(X.rows(), k);
    const bool hals = params_.solver == NmfSolver::hals;
    parallel_for_blocks(
        0, X.rows(), detail::kRowBlock, params_.num_threads, [&](Index, Index lo, Index hi) {
          const Matrix A = X.middleRows(lo, hi - lo) * Ht;
          Vector w(k), denominator(k);
          for (Index i = lo; i < hi; ++i) {
            w.setConstant(start);
            for (Index it = 0; it < params_.max_iter; ++it) {
              double change = 0.0;
              if (hals) {
                // Coordinate descent on w_j, exactly as in the fit's W step.
                for (Index j = 0; j < k; ++j) {
                  const double hess = B(j, j) + pen.l2_W;
                  if (!(hess > 0.0)) continue;
                  const double g = B.col(j).dot(w) + pen.l2_W * w[j] + pen.l1_W - A(i - lo, j);
                  const double updated = std::max(0.0, w[j] - g / hess);
                  change += std::abs(updated - w[j]);
                  w[j] = updated;
                }
              } else {
                denominator.noalias() = B * w;  // B is symmetric
                for (Index j = 0; j < k; ++j) {
                  double d = denominator[j] + pen.l1_W + pen.l2_W * w[j];
                  if (!(d > 0.0)) d = std::numeric_limits<double>::epsilon();
                  const double updated = w[j] * std::max(A(i - lo, j), 0.0) / d;
                  change += std::abs(updated - w[j]);
                  w[j] = updated;
                }
              }
              if (change <= params_.tol * w.cwiseAbs().sum()) break;
            }
            W.row(i) = w.transpose();
          }
        });
    return W;
  }

  /// Writes the model (tailor binary format, type "segment::NmfModel" v2; tailor::save).
  /// Runtime settings (num_threads) are not written: a loaded model uses all cores.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    write_payload(out);
  }
  /// Reads version 2 or 1 (whose num_threads is skipped); corrupt data throws FormatError.
  static NmfModel load(BinaryReader& in) {
    return read_payload(in, in.read_header(kTypeTag, kVersion));
  }

 private:
  friend class SegmenterModel;  // reads version-1 Segmenter files, whose NMF had no header

  void write_payload(BinaryWriter& w) const {
    w.write(params_.num_components);
    w.write(params_.solver);
    w.write(params_.init);
    w.write(params_.alpha_W);
    w.write(params_.alpha_H);
    w.write(params_.l1_ratio);
    w.write(params_.tol);
    w.write(params_.max_iter);
    w.write(params_.seed);
    w.write(W_);
    w.write(H_);
    w.write(train_rows_);
    w.write(train_mean_);
    w.write(reconstruction_error_);
    w.write(explained_variance_centered_);
    w.write(explained_variance_uncentered_);
    w.write(trace_);
    w.write(iterations_);
    w.write(converged_);
  }
  static NmfModel read_payload(BinaryReader& r, std::uint32_t version) {
    NmfModel m;
    m.params_.num_components = r.read<Index>("num_components");
    m.params_.solver = r.read<NmfSolver>("solver");
    m.params_.init = r.read<NmfInit>("init");
    m.params_.alpha_W = r.read<double>("alpha_W");
    m.params_.alpha_H = r.read<double>("alpha_H");
    m.params_.l1_ratio = r.read<double>("l1_ratio");
    m.params_.tol = r.read<double>("tol");
    m.params_.max_iter = r.read<Index>("max_iter");
    m.params_.seed = r.read<std::uint64_t>("seed");
    if (version == 1) (void)r.read<Index>("num_threads");  // a runtime setting, not kept
    m.W_ = r.read<Matrix>("W");
    m.H_ = r.read<Matrix>("H");
    m.train_rows_ = r.read<Index>("train_rows");
    m.train_mean_ = r.read<double>("train_mean");
    m.reconstruction_error_ = r.read<double>("reconstruction_error");
    m.explained_variance_centered_ = r.read<double>("explained_variance_centered");
    m.explained_variance_uncentered_ = r.read<double>("explained_variance_uncentered");
    m.trace_ = r.read<std::vector<double>>("objective_trace");
    m.iterations_ = r.read<Index>("iterations");
    m.converged_ = r.read<bool>("converged");
    if (static_cast<std::uint8_t>(m.params_.solver) > 1 ||
        static_cast<std::uint8_t>(m.params_.init) > 3 || m.H_.rows() != m.params_.num_components ||
        m.W_.cols() != m.H_.rows() || m.H_.rows() < 1 || m.trace_.empty() ||
        m.params_.max_iter < 1) {
      raise<FormatError>("{}: inconsistent segment::NmfModel payload", r.context());
    }
    if (!m.W_.allFinite() || !m.H_.allFinite() || (m.H_.array() < 0.0).any() ||
        (m.W_.array() < 0.0).any()) {
      raise<FormatError>("{}: segment::NmfModel has negative or non-finite factors", r.where());
    }
    return m;
  }

  friend class Nmf;
  static constexpr std::string_view kTypeTag = "segment::NmfModel";
  static constexpr std::uint32_t kVersion = 2;

  NmfParams params_;
  Matrix W_, H_;
  Index train_rows_ = 0;
  double train_mean_ = 0.0;  // mean(X_train): transform's starting point
  double reconstruction_error_ = 0.0;
  double explained_variance_centered_ = 0.0;
  double explained_variance_uncentered_ = 0.0;
  std::vector<double> trace_;
  Index iterations_ = 0;
  bool converged_ = false;
};

/// NMF estimator: validated configuration; fit() returns an NmfModel.
class Nmf {
 public:
  explicit Nmf(NmfParams params = {}) : params_(params) {
    constexpr std::string_view c = detail::kNmf;
    check_count(c, "num_components", params_.num_components, 1, limits::kMaxComponents);
    check_param(params_.alpha_W >= 0.0 && std::isfinite(params_.alpha_W), c, "alpha_W",
                params_.alpha_W, "a finite value >= 0");
    check_param(params_.alpha_H >= 0.0 && std::isfinite(params_.alpha_H), c, "alpha_H",
                params_.alpha_H, "a finite value >= 0");
    check_param(params_.l1_ratio >= 0.0 && params_.l1_ratio <= 1.0, c, "l1_ratio", params_.l1_ratio,
                "a value in [0, 1]");
    check_param(params_.tol >= 0.0 && std::isfinite(params_.tol), c, "tol", params_.tol,
                "a finite value >= 0");
    check_count(c, "max_iter", params_.max_iter, 1, limits::kMaxIterations);
    check_param(params_.num_threads >= 0, c, "num_threads", params_.num_threads,
                "0 (all cores) or a positive count");
    check_param(static_cast<std::uint8_t>(params_.solver) <= 1, c, "solver",
                static_cast<int>(params_.solver), "hals or multiplicative");
    check_param(static_cast<std::uint8_t>(params_.init) <= 3, c, "init",
                static_cast<int>(params_.init), "nndsvd, nndsvda, nndsvdar or random");
  }

  const NmfParams& params() const { return params_; }

  /// Fits X (n × p, finite, ≥ 0, not all zero). Throws DataError on bad entries,
  /// InvalidArgument when an nndsvd init asks for k > min(n, p).
  NmfModel fit(const MatrixRef& X) const {
    constexpr std::string_view c = detail::kNmf;
    detail::check_nmf_input(c, X);
    const Index n = X.rows();
    const Index p = X.cols();
    const Index k = params_.num_components;
    if (params_.init != NmfInit::random && k > std::min(n, p)) {
      raise<InvalidArgument>(
          "{}: num_components = {}, expected at most min(n, p) = {} for an NNDSVD init (use "
          "init = random)",
          c, k, std::min(n, p));
    }
    const double x_squared = X.squaredNorm();
    if (!(x_squared > 0.0)) {
      raise<DataError>("{}: X is all zeros, expected at least one positive entry", c);
    }
    const Index threads = params_.num_threads;
    const auto pen = detail::nmf_penalty(params_, n, p);

    NmfModel model;
    model.params_ = params_;
    model.train_rows_ = n;
    model.train_mean_ = X.mean();
    Matrix W, H;
    detail::nmf_initialize(X, params_, W, H);

    // f = ½(‖X‖² − 2⟨X, WH⟩ + ⟨WᵀW, HHᵀ⟩) + penalties, from small products only.
    auto objective = [&](double cross, const Matrix& WtW, const Matrix& HHt) {
      const double fit_term =
          std::max(0.0, x_squared - 2.0 * cross + (WtW.cwiseProduct(HHt)).sum());
      return 0.5 * fit_term + pen.l1_W * W.sum() + 0.5 * pen.l2_W * W.squaredNorm() +
             pen.l1_H * H.sum() + 0.5 * pen.l2_H * H.squaredNorm();
    };
    {
      const Matrix XHt = detail::blocked_product(X, H.transpose(), threads);
      const Matrix WtW = detail::blocked_cross(W, W, threads);
      model.trace_.push_back(objective(XHt.cwiseProduct(W).sum(), WtW, Matrix(H * H.transpose())));
    }
    const double f0 = model.trace_.front();
    for (Index it = 1; it <= params_.max_iter; ++it) {
      // W step: A = X·Hᵀ, B = H·Hᵀ; rows of W are independent. Each row block, while it is in
      // cache, also yields its share of the H step's XᵀW and WᵀW with the new W: one read of X
      // per iteration instead of two (the same block partials, added in block order, as
      // blocked_cross).
      const Matrix HHt = H * H.transpose();
      const detail::PackedCenters packed_h(H);  // X·Hᵀ by the K-Means micro-kernel
      const Index blocks = num_blocks(0, n, detail::kRowBlock);
      std::vector<Matrix> xtw_part(static_cast<std::size_t>(blocks)),
          wtw_part(static_cast<std::size_t>(blocks));
      parallel_for_blocks(0, n, detail::kRowBlock, threads, [&](Index b, Index lo, Index hi) {
        const auto Xb = X.middleRows(lo, hi - lo);
        auto Wb = W.middleRows(lo, hi - lo);
        Matrix A;
        detail::block_products(X, lo, hi, packed_h, A);
        detail::update_factor_block(params_.solver, Wb, A, HHt, pen.l1_W, pen.l2_W);
        xtw_part[static_cast<std::size_t>(b)] = Xb.transpose() * Wb;
        wtw_part[static_cast<std::size_t>(b)] = Wb.transpose() * Wb;
      });
      // H step on Hᵀ (p × k): A = XᵀW, B = WᵀW; rows of Hᵀ are independent.
      Matrix XtW = Matrix::Zero(p, k), WtW = Matrix::Zero(k, k);
      for (Index b = 0; b < blocks; ++b) {
        XtW += xtw_part[static_cast<std::size_t>(b)];
        WtW += wtw_part[static_cast<std::size_t>(b)];
      }
      Matrix Hcols = H.transpose();
      detail::update_factor_block(params_.solver, Hcols, XtW, WtW, pen.l1_H, pen.l2_H);
      H = Hcols.transpose();
      // ⟨X, WH⟩ = ⟨XᵀW, Hᵀ⟩ with the current W and H.
      const double f = objective(XtW.cwiseProduct(Hcols).sum(), WtW, Matrix(H * H.transpose()));
      const double previous = model.trace_.back();
      model.trace_.push_back(f);
      model.iterations_ = it;
      if (previous - f <= params_.tol * f0) {
        model.converged_ = true;
        break;
      }
    }
    const double residual = detail::residual_squared_norm(X, W, H, threads);
    const double centered = detail::centered_squared_norm(X);
    model.reconstruction_error_ = std::sqrt(residual);
    model.explained_variance_uncentered_ = 1.0 - residual / x_squared;
    model.explained_variance_centered_ =
        centered > 0.0 ? 1.0 - residual / centered
                       : (residual == 0.0 ? 1.0 : -std::numeric_limits<double>::infinity());
    model.W_ = std::move(W);
    model.H_ = std::move(H);
    return model;
  }

 private:
  NmfParams params_;
};

/// One row of nmf_rank_scan.
struct NmfRankScanRow {
  Index num_components = 0;
  double explained_variance_centered = 0.0;
  double explained_variance_uncentered = 0.0;
  double reconstruction_error = 0.0;
  Index iterations = 0;
  bool converged = false;
};

/// Fits NMF for k = k_min..k_max (params.num_components is overridden) and reports explained
/// variance (both ways) and reconstruction error per k. Cost: Σ_k one fit.
inline std::vector<NmfRankScanRow> nmf_rank_scan(const MatrixRef& X, Index k_min, Index k_max,
                                                 const NmfParams& params = {}) {
  check_param(k_min >= 1, "nmf_rank_scan", "k_min", k_min, "at least 1");
  if (k_max < k_min) {
    raise<InvalidArgument>("nmf_rank_scan: k_max = {}, expected >= k_min = {}", k_max, k_min);
  }
  std::vector<NmfRankScanRow> rows;
  for (Index k = k_min; k <= k_max; ++k) {
    NmfParams p = params;
    p.num_components = k;
    const NmfModel m = Nmf(p).fit(X);
    rows.push_back({k, m.explained_variance_centered(), m.explained_variance_uncentered(),
                    m.reconstruction_error(), m.iterations(), m.converged()});
  }
  return rows;
}

}  // namespace tailor::segment
