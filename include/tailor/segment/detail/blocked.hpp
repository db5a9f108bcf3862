// tailor/segment/detail/blocked.hpp — deterministic row-blocked kernels shared by NMF and K-Means.
//
// Rows are cut into blocks of kRowBlock rows. Blocks are independent work for parallel_for_blocks;
// reductions keep one partial per block and add the partials in block order, so every result is
// bit-identical for every num_threads (the block boundaries never depend on the thread count).
// Each kernel is one pass over X: O(n·p·k) for the products, O(n·p) for the norms.
#pragma once

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"

namespace tailor::segment::detail {

/// Rows per block: large enough that a block's GEMM is efficient, small enough to balance load.
inline constexpr Index kRowBlock = 2048;

/// Σ over row blocks of body(lo, hi) -> Matrix (all the same shape), added in block order.
template <class F>
Matrix blocked_sum(Index n, Index rows, Index cols, Index num_threads, F&& body) {
  const Index blocks = num_blocks(0, n, kRowBlock);
  std::vector<Matrix> partial(static_cast<std::size_t>(blocks));
  parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index b, Index lo, Index hi) {
    partial[static_cast<std::size_t>(b)] = body(lo, hi);
  });
  Matrix total = Matrix::Zero(rows, cols);
  for (const auto& p : partial) total += p;
  return total;
}

/// Aᵀ·B for tall A (n × a) and B (n × b): a × b, reduced over row blocks in order.
inline Matrix blocked_cross(const MatrixRef& A, const MatrixRef& B, Index num_threads) {
  return blocked_sum(A.rows(), A.cols(), B.cols(), num_threads, [&](Index lo, Index hi) {
    return Matrix(A.middleRows(lo, hi - lo).transpose() * B.middleRows(lo, hi - lo));
  });
}

/// A·B for tall A (n × p) and small B (p × k): n × k, computed block by block.
inline Matrix blocked_product(const MatrixRef& A, const MatrixRef& B, Index num_threads) {
  Matrix out(A.rows(), B.cols());
  parallel_for_blocks(0, A.rows(), kRowBlock, num_threads, [&](Index, Index lo, Index hi) {
    out.middleRows(lo, hi - lo).noalias() = A.middleRows(lo, hi - lo) * B;
  });
  return out;
}

/// Σ over row blocks of a scalar body(lo, hi), added in block order.
template <class F>
double blocked_scalar_sum(Index n, Index num_threads, F&& body) {
  const Index blocks = num_blocks(0, n, kRowBlock);
  std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
  parallel_for_blocks(0, n, kRowBlock, num_threads, [&](Index b, Index lo, Index hi) {
    partial[static_cast<std::size_t>(b)] = body(lo, hi);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

/// Squared Euclidean norm of every row of X (length n).
inline Vector row_squared_norms(const MatrixRef& X, Index num_threads) {
  Vector out(X.rows());
  parallel_for_blocks(0, X.rows(), kRowBlock, num_threads, [&](Index, Index lo, Index hi) {
    out.segment(lo, hi - lo) = X.middleRows(lo, hi - lo).rowwise().squaredNorm();
  });
  return out;
}

}  // namespace tailor::segment::detail
