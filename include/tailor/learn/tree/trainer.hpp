// tailor/learn/tree/trainer.hpp — the one histogram tree trainer behind every forest (DESIGN §7,
// grf's TreeTrainer/ForestTrainer with tailor's binned data).
//
// Per tree t (random stream Rng(seed, t), so models are bit-identical for any num_threads):
//  1. Sample ⌊sample_fraction·n⌋ rows without replacement (grf) or with replacement (bootstrap,
//     Breiman 2001; a row drawn k times counts k times in every sum, as in scikit-learn).
//  2. Honesty (Wager & Athey, JASA 2018; grf): the sample is split at random into a splitting
//     part (⌊honesty_fraction·m⌋ rows) that places the splits and an estimation part that alone
//     fills the leaves. Leaves left without estimation rows are pruned as grf does
//     (honesty.prune.leaves = TRUE): a split with an empty side is replaced by its other
//     child; a tree with no estimation rows at all is skipped at prediction time.
//  3. Grow depth-first. At each node draw mtry features without replacement, find the best
//     boundary of each from a histogram over its ≤ max_bins (≤ 4096) bins of s = [count, Σ c_i]
//     (see splitting_rule.hpp) and split on the best one if its gain is > 0 and both children
//     keep ≥ min_node_size splitting rows. Only occupied bins are visited (an occupancy bit mask
//     per histogram), so small nodes cost O(m) rather than O(B); the threshold is the bound of
//     the middle empty bin between the two occupied bins on either side, i.e. a midpoint in
//     quantile space.
//  4. Histogram subtraction (LightGBM): a node may own a full set of histograms (all p
//     features). After its split, the smaller child's full set is built from its rows and the
//     larger child's is the parent's minus it, in place. That pays when
//       m_big·mtry > m_small·(p − mtry) + p·B
//     (direct histograms of mtry features for both children versus one full set plus the
//     subtraction), which the trainer checks per split; e.g. with grf's default mtry = p it
//     holds for every node whose larger child has more than B rows. Otherwise the children
//     build their mtry histograms directly.
//  5. Rows of a node are kept contiguous and in increasing row order in one index array
//     (stable partition), so code gathers walk memory forward; per-tree buffers are reused for
//     all trees of a block, so nothing is allocated per node.
// Out-of-bag estimates for row i average only trees whose sample (both honesty halves) did not
// contain i. Complexity per tree: O(m·(mtry + C) per level + nodes·mtry·occupied bins).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/learn/tree/splitting_rule.hpp"

namespace tailor::learn::tree {

/// Options of train_forest (validated by the forest classes that call it).
struct TrainerOptions {
  Index num_trees = 500;
  Index mtry = 1;                ///< features tried per node, 1..p
  double sample_fraction = 0.5;  ///< rows drawn per tree, as a fraction of n, in (0, 1]
  bool bootstrap = false;        ///< draw with replacement instead of subsampling
  Index min_node_size = 5;       ///< minimum splitting rows in each child
  Index max_depth = 0;           ///< 0 = unlimited; the root has depth 0
  bool honesty = true;
  double honesty_fraction = 0.5;  ///< share of each tree's sample used to place splits
  bool compute_oob = true;
  /// Derive the larger child's histograms by subtraction when it pays (off: always direct;
  /// the trees are the same up to floating-point rounding of the sums).
  bool histogram_subtraction = true;
  /// grf's "little bags" (Athey, Tibshirani & Wager 2019, §4): trees t with equal
  /// t / ci_group_size share one half-sample of ⌊n/2⌋ rows (drawn from stream Rng(~seed, group))
  /// and each subsamples ⌈2·sample_fraction·⌊n/2⌋⌉ of it, so sample_fraction ≤ 0.5 is expected.
  /// 1 = independent subsamples. Ignored with bootstrap.
  Index ci_group_size = 1;
  /// grf's TreeTrainer: each node tries min(max(Poisson(mtry), 1), p) features instead of
  /// exactly mtry (more diverse trees when mtry is close to p).
  bool poisson_mtry = false;
  std::uint64_t seed = 0;
  Index num_threads = 0;  ///< 0 = all cores
  ProgressCallback progress = nullptr;
};

/// A trained forest and, if requested, out-of-bag leaf means for the training rows.
struct TrainedForest {
  Forest forest;
  Matrix oob_mean;               ///< n × C like Forest::mean_leaf_statistics; NaN rows: no tree
  VectorX<Index> oob_num_trees;  ///< trees that left each row out
};

namespace detail {

/// Grows trees one after another, reusing all buffers. kWidth = S = 1 + C when known at compile
/// time (3 for regression, 4 for two classes), 0 otherwise.
template <SplittingRule Rule, int kWidth>
class TreeGrower {
 public:
  TreeGrower(const BinnedMatrix& X, const double* channels, const VectorRef& weights,
             const Rule& rule, const TrainerOptions& options)
      : X_(X),
        channels_(channels),
        weights_(weights),
        rule_(rule),
        options_(options),
        n_(X.rows()),
        p_(X.cols()),
        C_(rule.num_channels()),
        S_(rule.num_channels() + 1),
        B_(std::max<Index>(1, X.mapper().max_num_bins())),
        words_((B_ + 63) / 64) {
    const auto n = static_cast<std::size_t>(n_);
    // rows_, scratch_rows_ and node_channels_ hold at most one tree's sample; they are sized by
    // draw_sample (≈ sample_fraction·n rows, not n: less memory per worker thread).
    membership_.assign(n, 0);
    if (options_.bootstrap) multiplicity_.assign(n, 0.0);
    if (!options_.bootstrap) pool_.resize(n);
    features_.resize(static_cast<std::size_t>(p_));
    num_bins_.resize(static_cast<std::size_t>(p_));
    for (Index j = 0; j < p_; ++j) num_bins_[static_cast<std::size_t>(j)] = X.mapper().num_bins(j);
    direct_hist_.assign(static_cast<std::size_t>(B_ * S()), 0.0);
    direct_bits_.assign(static_cast<std::size_t>(words_), 0);
    // One slot past S for a node-relative count (NodeCountingRule), unused otherwise.
    left_.resize(static_cast<std::size_t>(S() + 1));
    right_.resize(static_cast<std::size_t>(S() + 1));
    best_left_.resize(static_cast<std::size_t>(S() + 1));
    node_totals_.resize(static_cast<std::size_t>(S() + 1));
    if constexpr (kNodeCounts) flag_hist_.assign(static_cast<std::size_t>(B_), 0.0);
    // Full histogram sets only when one set stays small (cache- and memory-friendly).
    const double set_bytes = static_cast<double>(p_ * B_ * S()) * 8.0;
    sets_enabled_ = options_.histogram_subtraction && set_bytes <= 16.0 * 1024 * 1024;
  }

  /// Grows tree `t`; marks its sampled rows in `in_bag` (n bits) when given.
  Tree grow(Index t, std::vector<std::uint64_t>* in_bag) {
    Rng rng(options_.seed, static_cast<std::uint64_t>(t));
    for (Index j = 0; j < p_; ++j) features_[static_cast<std::size_t>(j)] = j;
    const Index num_split_rows = draw_sample(rng, t, in_bag);
    nodes_.clear();
    leaf_stats_.clear();
    if (num_split_rows > 0) grow_nodes(num_split_rows, rng);
    Tree tree;
    if (options_.honesty) {
      fill_leaves_from_estimation_rows();
      prune_empty_leaves(tree);
      // The pruned copy grew by push_back/insert (capacity up to 2× its size); a fitted forest
      // keeps thousands of trees, so give the slack back (identical contents).
      tree.nodes.shrink_to_fit();
      tree.leaf_stats.shrink_to_fit();
    } else {
      tree.nodes = nodes_;
      tree.leaf_stats = leaf_stats_;
    }
    reset_multiplicity();
    return tree;
  }

 private:
  /// Does the rule count rows relative to each node (splitting_rule.hpp, NodeCountingRule)?
  static constexpr bool kNodeCounts = NodeCountingRule<Rule>;

  struct Pending {
    std::uint32_t begin;
    std::uint32_t end;
    Index depth;
    Index parent;  // node whose `next` this right child patches; -1 otherwise
    int set;       // full histogram set owned by this node, -1 if none
    // NodeCountingRule: bounds on the rows' keys inherited from the closest ancestor that
    // computed them, max over proxy-0 rows and min over proxy-1 rows (valid for any subset).
    double key_max0 = std::numeric_limits<double>::infinity();
    double key_min1 = -std::numeric_limits<double>::infinity();
  };

  Index S() const {
    if constexpr (kWidth > 0) {
      return kWidth;
    } else {
      return S_;
    }
  }

  double weight(Index i) const { return weights_.size() == 0 ? 1.0 : weights_[i]; }
  double mult(std::uint32_t r) const {
    return options_.bootstrap ? multiplicity_[static_cast<std::size_t>(r)] : 1.0;
  }

  // ---- sampling ---------------------------------------------------------------------------

  /// Fills rows_[0, returned) with the splitting rows and estimation_rows_ (honesty), both in
  /// increasing order; rows of weight 0 never enter a tree (they stay marked in-bag).
  Index draw_sample(Rng& rng, Index t, std::vector<std::uint64_t>* in_bag) {
    Index m = std::max<Index>(
        1, static_cast<Index>(std::floor(options_.sample_fraction * static_cast<double>(n_))));
    order_.clear();
    if (options_.bootstrap) {
      for (Index k = 0; k < m; ++k) {
        const auto r =
            static_cast<std::uint32_t>(rng.uniform_index(static_cast<std::uint64_t>(n_)));
        if (multiplicity_[r] == 0.0) order_.push_back(r);  // distinct rows, first-draw order
        multiplicity_[r] += 1.0;
      }
    } else {
      // Partial Fisher–Yates: the first m entries are a uniform sample in random order.
      for (Index i = 0; i < n_; ++i)
        pool_[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(i);
      Index population = n_;
      if (options_.ci_group_size > 1) {
        // Little bags: the group's half-sample first (same draw for every tree of the group),
        // then this tree's subsample of it.
        population = std::max<Index>(1, n_ / 2);
        Rng group_rng(~options_.seed, static_cast<std::uint64_t>(t / options_.ci_group_size));
        for (Index i = 0; i < population; ++i) {
          const Index j =
              i + static_cast<Index>(group_rng.uniform_index(static_cast<std::uint64_t>(n_ - i)));
          std::swap(pool_[static_cast<std::size_t>(i)], pool_[static_cast<std::size_t>(j)]);
        }
        m = std::clamp<Index>(static_cast<Index>(std::ceil(2.0 * options_.sample_fraction *
                                                           static_cast<double>(population))),
                              1, population);
      }
      for (Index i = 0; i < m; ++i) {
        const Index j =
            i + static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(population - i)));
        std::swap(pool_[static_cast<std::size_t>(i)], pool_[static_cast<std::size_t>(j)]);
      }
      order_.assign(pool_.begin(), pool_.begin() + m);
    }
    const auto distinct = static_cast<Index>(order_.size());
    const Index num_split =
        options_.honesty
            ? std::max<Index>(1, static_cast<Index>(std::floor(options_.honesty_fraction *
                                                               static_cast<double>(distinct))))
            : distinct;
    for (Index k = 0; k < distinct; ++k) {
      membership_[order_[static_cast<std::size_t>(k)]] = k < num_split ? 1 : 2;
    }
    if (in_bag) {
      in_bag->assign(static_cast<std::size_t>((n_ + 63) / 64), 0);
      for (std::uint32_t r : order_) (*in_bag)[r >> 6] |= std::uint64_t{1} << (r & 63);
    }
    if (rows_.size() < static_cast<std::size_t>(distinct)) {
      const auto size = static_cast<std::size_t>(distinct);
      rows_.resize(size);
      scratch_rows_.resize(size);
      node_channels_.resize(size * static_cast<std::size_t>(C_));
    }
    // Collect in increasing row order (O(n), cheaper than sorting for m ~ n).
    Index count = 0;
    estimation_rows_.clear();
    for (Index i = 0; i < n_; ++i) {
      const std::uint8_t member = membership_[static_cast<std::size_t>(i)];
      if (member == 0 || !(weight(i) > 0.0)) continue;
      if (member == 1) {
        rows_[static_cast<std::size_t>(count++)] = static_cast<std::uint32_t>(i);
      } else {
        estimation_rows_.push_back(static_cast<std::uint32_t>(i));
      }
    }
    for (std::uint32_t r : order_) membership_[r] = 0;
    return count;
  }

  void reset_multiplicity() {
    if (options_.bootstrap) {
      for (std::uint32_t r : order_) multiplicity_[r] = 0.0;
    }
  }

  // ---- histograms -------------------------------------------------------------------------

  /// Copies the channels of rows_[begin, end) (times their multiplicity) into node_channels_.
  void gather(std::uint32_t begin, std::uint32_t end) {
    const Index C = S() - 1;
    double* out = node_channels_.data();
    for (std::uint32_t k = begin; k < end; ++k) {
      const std::uint32_t r = rows_[k];
      const double* c = channels_ + static_cast<std::size_t>(r) * static_cast<std::size_t>(C);
      const double f = mult(r);
      for (Index q = 0; q < C; ++q) out[q] = f * c[q];
      out += C;
    }
  }

  /// Adds rows_[begin, end) (channels already gathered) to the histogram of feature j.
  void accumulate(Index j, std::uint32_t begin, std::uint32_t end, double* hist,
                  std::uint64_t* bits) const {
    const Index S = this->S();
    const Index C = S - 1;
    const BinCode* column = X_.column(j);
    const double* c = node_channels_.data();
    for (std::uint32_t k = begin; k < end; ++k, c += C) {
      const BinCode b = column[rows_[k]];
      double* h = hist + static_cast<Index>(b) * S;
      h[0] += 1.0;
      for (Index q = 0; q < C; ++q) h[1 + q] += c[q];
      bits[b >> 6] |= std::uint64_t{1} << (b & 63);
    }
  }

  /// Zeroes the occupied bins of a histogram and its mask.
  void clear(double* hist, std::uint64_t* bits) const {
    const Index S = this->S();
    for (Index w = 0; w < words_; ++w) {
      std::uint64_t word = bits[w];
      while (word != 0) {
        const Index b = w * 64 + std::countr_zero(word);
        word &= word - 1;
        std::fill_n(hist + b * S, S, 0.0);
      }
      bits[w] = 0;
    }
  }

  int acquire_set() {
    if (!free_sets_.empty()) {
      const int id = free_sets_.back();
      free_sets_.pop_back();
      return id;
    }
    set_hist_.emplace_back(static_cast<std::size_t>(p_ * B_ * S()), 0.0);
    set_bits_.emplace_back(static_cast<std::size_t>(p_ * words_), 0);
    return static_cast<int>(set_hist_.size()) - 1;
  }

  void release_set(int id) {
    if (id < 0) return;
    for (Index j = 0; j < p_; ++j) set_clear(id, j);
    free_sets_.push_back(id);
  }
  double* set_hist(int id, Index j) {
    return set_hist_[static_cast<std::size_t>(id)].data() + j * B_ * S();
  }
  std::uint64_t* set_bits(int id, Index j) {
    return set_bits_[static_cast<std::size_t>(id)].data() + j * words_;
  }
  void set_clear(int id, Index j) { clear(set_hist(id, j), set_bits(id, j)); }

  /// Builds a full set (all p features) for rows_[begin, end); channels must be gathered.
  void build_set(int id, std::uint32_t begin, std::uint32_t end) {
    for (Index j = 0; j < p_; ++j) accumulate(j, begin, end, set_hist(id, j), set_bits(id, j));
  }

  /// parent -= small over every feature (the parent's set becomes the larger child's).
  void subtract_set(int parent, int small) {
    const Index S = this->S();
    for (Index j = 0; j < p_; ++j) {
      double* h = set_hist(parent, j);
      const double* g = set_hist(small, j);
      const std::uint64_t* bits = set_bits(parent, j);
      for (Index w = 0; w < words_; ++w) {
        std::uint64_t word = bits[w];
        while (word != 0) {
          const Index b = w * 64 + std::countr_zero(word);
          word &= word - 1;
          for (Index q = 0; q < S; ++q) h[b * S + q] -= g[b * S + q];
        }
      }
    }
  }

  /// Is one full set for the smaller child + subtraction cheaper than direct histograms?
  bool subtraction_pays(Index small, Index big) const {
    if (!sets_enabled_) return false;
    const Index mtry = options_.mtry;
    return big * mtry > small * (p_ - mtry) + p_ * B_;
  }

  // ---- split search -----------------------------------------------------------------------

  /// Scans the occupied bins of feature j's histogram, updating the best candidate.
  void scan(Index j, const double* hist, const std::uint64_t* bits, const double* parent) {
    const Index S = this->S();
    double* L = left_.data();
    std::fill_n(L, S + 1, 0.0);
    // Node-relative counts per bin of feature j (slot S of L, R and the parent), cleared
    // again on the way out.
    [[maybe_unused]] double* flags = nullptr;
    if constexpr (kNodeCounts) {
      if (node_counting_) {
        flags = flag_hist_.data();
        const BinCode* column = X_.column(j);
        for (std::uint32_t k = node_begin_; k < node_end_; ++k)
          flags[column[rows_[k]]] += node_flags_[k - node_begin_];
      }
    }
    scan_bins(j, hist, bits, parent, flags);
    if constexpr (kNodeCounts) {
      // The node's bins are among the histogram's occupied ones (its mask may hold more).
      if (flags) {
        for (Index w = 0; w < (num_bins_[static_cast<std::size_t>(j)] + 63) / 64; ++w) {
          for (std::uint64_t word = bits[w]; word != 0; word &= word - 1)
            flags[w * 64 + std::countr_zero(word)] = 0.0;
        }
      }
    }
  }

  /// The boundary scan of scan(); `flags` (or nullptr) holds the node-relative count per bin.
  void scan_bins(Index j, const double* hist, const std::uint64_t* bits, const double* parent,
                 const double* flags) {
    const Index S = this->S();
    double* L = left_.data();
    double* R = right_.data();
    const double min_size = static_cast<double>(options_.min_node_size);
    Index previous = -1;
    const Index words = (num_bins_[static_cast<std::size_t>(j)] + 63) / 64;
    for (Index w = 0; w < words; ++w) {
      std::uint64_t word = bits[w];
      while (word != 0) {
        const Index b = w * 64 + std::countr_zero(word);
        word &= word - 1;
        const double* h = hist + b * S;
        if (h[0] == 0.0) continue;  // empty after a subtraction
        if (previous >= 0 && L[0] >= min_size) {
          if (parent[0] - L[0] < min_size) return;  // the right side only shrinks from here
          for (Index q = 0; q < S; ++q) R[q] = parent[q] - L[q];
          if constexpr (kNodeCounts) R[S] = parent[S] - L[S];
          const double score = rule_.split_score(parent, L, R);
          if (score > best_score_) {
            best_score_ = score;
            best_feature_ = j;
            best_bin_ = previous + (b - previous - 1) / 2;
            std::copy_n(L, S + 1, best_left_.data());
          }
        }
        for (Index q = 0; q < S; ++q) L[q] += h[q];
        if constexpr (kNodeCounts) {
          if (flags) {
            L[S] += flags[b];
          } else if (use_proxy_) {
            L[S] = L[rule_.node_flag_proxy()];
          }
        }
        previous = b;
      }
    }
  }

  /// Draws the node's features (partial Fisher–Yates over features_); returns how many: mtry,
  /// or with poisson_mtry grf's min(max(Poisson(mtry), 1), p).
  Index draw_features(Rng& rng) {
    Index mtry = options_.mtry;
    if (options_.poisson_mtry) {
      mtry = std::clamp<Index>(static_cast<Index>(rng.poisson(static_cast<double>(mtry))), 1, p_);
    }
    if (mtry >= p_) return p_;
    for (Index i = 0; i < mtry; ++i) {
      const Index k = i + static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(p_ - i)));
      std::swap(features_[static_cast<std::size_t>(i)], features_[static_cast<std::size_t>(k)]);
    }
    return mtry;
  }

  // ---- growth -------------------------------------------------------------------------------

  void push(const Pending& pending, const double* totals) {
    stack_.push_back(pending);
    stack_totals_.insert(stack_totals_.end(), totals, totals + S());
  }

  void make_leaf(Index node_index, std::uint32_t begin, std::uint32_t end, const double* totals) {
    Node& node = nodes_[static_cast<std::size_t>(node_index)];
    node.split = Node::kLeaf;
    node.next = static_cast<std::uint32_t>(leaf_stats_.size() / static_cast<std::size_t>(S()));
    if (options_.honesty) {
      leaf_stats_.resize(leaf_stats_.size() + static_cast<std::size_t>(S()), 0.0);
      return;
    }
    // count = number of draws (a bootstrap row counts its multiplicity), as grf's sample count.
    double count = totals[0];
    if (options_.bootstrap) {
      count = 0.0;
      for (std::uint32_t k = begin; k < end; ++k) count += multiplicity_[rows_[k]];
    }
    leaf_stats_.push_back(count);
    leaf_stats_.insert(leaf_stats_.end(), totals + 1, totals + S());
  }

  void grow_nodes(Index num_split_rows, Rng& rng) {
    const Index S = this->S();
    const auto m = static_cast<std::uint32_t>(num_split_rows);
    // Root totals and, if it pays for balanced children, the root's full set.
    gather(0, m);
    std::vector<double>& totals = node_totals_;
    std::fill(totals.begin(), totals.end(), 0.0);
    {
      const double* c = node_channels_.data();
      const Index C = S - 1;
      for (std::uint32_t k = 0; k < m; ++k, c += C) {
        totals[0] += 1.0;
        for (Index q = 0; q < C; ++q) totals[static_cast<std::size_t>(1 + q)] += c[q];
      }
    }
    int root_set = -1;
    if (subtraction_pays(num_split_rows / 2, num_split_rows - num_split_rows / 2)) {
      root_set = acquire_set();
      build_set(root_set, 0, m);
    }
    stack_.clear();
    stack_totals_.clear();
    push({0, m, 0, -1, root_set}, totals.data());
    bool gathered = true;  // node_channels_ holds the rows of the node about to be processed
    while (!stack_.empty()) {
      Pending node = stack_.back();
      stack_.pop_back();
      std::copy(stack_totals_.end() - S, stack_totals_.end(), totals.begin());
      stack_totals_.resize(stack_totals_.size() - static_cast<std::size_t>(S));
      const double* P = totals.data();

      const auto index = static_cast<Index>(nodes_.size());
      nodes_.emplace_back();
      if (node.parent >= 0)
        nodes_[static_cast<std::size_t>(node.parent)].next = static_cast<std::uint32_t>(index);
      const Index size = node.end - node.begin;
      const bool splittable = size >= 2 * options_.min_node_size &&
                              (options_.max_depth == 0 || node.depth < options_.max_depth);
      if constexpr (kNodeCounts) {
        // NodeCountingRule: slot S of the node's totals counts the rows whose key is ≥ the
        // node's threshold (grf's causal rule: Z ≥ Z̄_P). If every proxy-1 row is at or above
        // it and every proxy-0 row below (known from inherited key bounds, else from one pass
        // over the rows), the flags are the proxy channel and the histograms' proxy slot holds
        // the per-bin counts; otherwise they are summed per bin for each scanned feature.
        node_counting_ = false;
        use_proxy_ = false;
        totals[static_cast<std::size_t>(S)] = 0.0;
        if (rule_.counts_per_node() && splittable) {
          const double threshold = rule_.node_threshold(P);
          const Index q = rule_.node_flag_proxy();  // < 1: no proxy
          if (q >= 1 && node.key_max0 < threshold && threshold <= node.key_min1) {
            use_proxy_ = true;
            totals[static_cast<std::size_t>(S)] = P[q];
          } else {
            node_flags_.resize(static_cast<std::size_t>(size));
            const Index C = S - 1;
            double count = 0.0;
            double max0 = -std::numeric_limits<double>::infinity();
            double min1 = std::numeric_limits<double>::infinity();
            for (std::uint32_t k = node.begin; k < node.end; ++k) {
              const std::uint32_t r = rows_[k];
              const double* c =
                  channels_ + static_cast<std::size_t>(r) * static_cast<std::size_t>(C);
              const double key = rule_.row_key(c);
              if (q >= 1) {
                if (c[q - 1] != 0.0) {
                  min1 = std::min(min1, key);
                } else {
                  max0 = std::max(max0, key);
                }
              }
              const double f = key >= threshold ? mult(r) : 0.0;
              node_flags_[k - node.begin] = f;
              count += f;
            }
            totals[static_cast<std::size_t>(S)] = count;
            node.key_max0 = max0;
            node.key_min1 = min1;
            use_proxy_ = q >= 1 && max0 < threshold && threshold <= min1;
            node_counting_ = !use_proxy_;
            node_begin_ = node.begin;
            node_end_ = node.end;
          }
        }
      }

      const bool may_split = splittable && rule_.can_split(P);
      best_score_ = -std::numeric_limits<double>::infinity();
      best_feature_ = -1;
      if (may_split) {
        const Index tried = draw_features(rng);
        if (node.set >= 0) {
          for (Index k = 0; k < tried; ++k) {
            const Index j = features_[static_cast<std::size_t>(k)];
            scan(j, set_hist(node.set, j), set_bits(node.set, j), P);
          }
        } else {
          if (!gathered) gather(node.begin, node.end);
          for (Index k = 0; k < tried; ++k) {
            const Index j = features_[static_cast<std::size_t>(k)];
            if (num_bins_[static_cast<std::size_t>(j)] < 2) continue;
            accumulate(j, node.begin, node.end, direct_hist_.data(), direct_bits_.data());
            scan(j, direct_hist_.data(), direct_bits_.data(), P);
            clear(direct_hist_.data(), direct_bits_.data());
          }
        }
      }
      gathered = false;
      bool split = false;
      if (best_feature_ >= 0) {
        for (Index q = 0; q < S + (kNodeCounts ? 1 : 0); ++q)
          right_[static_cast<std::size_t>(q)] = P[q] - best_left_[static_cast<std::size_t>(q)];
        split = rule_.split_gain(P, best_left_.data(), right_.data()) > 0.0;
      }
      if (!split) {
        make_leaf(index, node.begin, node.end, P);
        release_set(node.set);
        continue;
      }
      // Stable partition of the node's rows: code <= bin goes left.
      const BinCode* column = X_.column(best_feature_);
      const auto bin = static_cast<BinCode>(best_bin_);
      std::uint32_t left_end = node.begin;
      std::uint32_t right_count = 0;
      for (std::uint32_t k = node.begin; k < node.end; ++k) {
        const std::uint32_t r = rows_[k];
        if (column[r] <= bin) {
          rows_[left_end++] = r;
        } else {
          scratch_rows_[right_count++] = r;
        }
      }
      std::copy_n(scratch_rows_.begin(), right_count, rows_.begin() + left_end);
      Node& made = nodes_[static_cast<std::size_t>(index)];
      made.split = Node::encode(best_feature_, bin);
      made.threshold = X_.mapper().upper_bound_unchecked(best_feature_, best_bin_);

      // Children's histogram sets.
      const Index left_size = left_end - node.begin;
      const Index right_size = node.end - left_end;
      int left_set = -1;
      int right_set = -1;
      if (node.set >= 0) {
        const bool left_small = left_size <= right_size;
        const Index small = left_small ? left_size : right_size;
        const Index big = left_small ? right_size : left_size;
        if (subtraction_pays(small, big)) {
          const int small_set = acquire_set();
          const std::uint32_t b0 = left_small ? node.begin : left_end;
          const std::uint32_t b1 = left_small ? left_end : node.end;
          gather(b0, b1);
          build_set(small_set, b0, b1);
          subtract_set(node.set, small_set);
          left_set = left_small ? small_set : node.set;
          right_set = left_small ? node.set : small_set;
          gathered = left_small;  // the left child is processed next
        } else {
          release_set(node.set);
        }
      }
      const double* Lt = best_left_.data();
      const double* Rt = right_.data();
      push({left_end, node.end, node.depth + 1, index, right_set, node.key_max0, node.key_min1},
           Rt);
      push({node.begin, left_end, node.depth + 1, -1, left_set, node.key_max0, node.key_min1}, Lt);
    }
  }

  // ---- honesty ------------------------------------------------------------------------------

  void fill_leaves_from_estimation_rows() {
    const Index S = this->S();
    const Index C = S - 1;
    if (!nodes_.empty()) {
      for (std::uint32_t r : estimation_rows_) {
        const Node* node = nodes_.data();
        while (!node->is_leaf()) {
          node =
              X_.column(node->feature())[r] <= node->bin() ? node + 1 : nodes_.data() + node->next;
        }
        double* s =
            leaf_stats_.data() + static_cast<std::size_t>(node->next) * static_cast<std::size_t>(S);
        const double f = mult(r);
        const double* c = channels_ + static_cast<std::size_t>(r) * static_cast<std::size_t>(C);
        s[0] += f;
        for (Index q = 0; q < C; ++q) s[1 + q] += f * c[q];
      }
    }
  }

  /// grf's pruning: a split with an empty side is replaced by its non-empty child, bottom-up.
  void prune_empty_leaves(Tree& tree) {
    const Index S = this->S();
    const auto num_nodes = nodes_.size();
    empty_.assign(num_nodes, 0);
    for (std::size_t k = num_nodes; k-- > 0;) {
      const Node& node = nodes_[k];
      empty_[k] =
          node.is_leaf()
              ? leaf_stats_[static_cast<std::size_t>(node.next) * static_cast<std::size_t>(S)] ==
                    0.0
              : empty_[k + 1] && empty_[node.next];
    }
    if (num_nodes == 0 || empty_[0]) return;  // no estimation rows: an empty tree
    tree.nodes.reserve(num_nodes);
    prune_stack_.clear();
    prune_stack_.push_back({0, -1});
    while (!prune_stack_.empty()) {
      auto [k, patch] = prune_stack_.back();
      prune_stack_.pop_back();
      while (!nodes_[k].is_leaf() && (empty_[k + 1] || empty_[nodes_[k].next])) {
        k = empty_[k + 1] ? nodes_[k].next : static_cast<std::uint32_t>(k + 1);
      }
      const auto index = static_cast<Index>(tree.nodes.size());
      if (patch >= 0)
        tree.nodes[static_cast<std::size_t>(patch)].next = static_cast<std::uint32_t>(index);
      Node node = nodes_[k];
      if (node.is_leaf()) {
        const double* s =
            leaf_stats_.data() + static_cast<std::size_t>(node.next) * static_cast<std::size_t>(S);
        node.next =
            static_cast<std::uint32_t>(tree.leaf_stats.size() / static_cast<std::size_t>(S));
        tree.leaf_stats.insert(tree.leaf_stats.end(), s, s + S);
        tree.nodes.push_back(node);
      } else {
        tree.nodes.push_back(node);
        prune_stack_.push_back({node.next, index});
        prune_stack_.push_back({static_cast<std::uint32_t>(k + 1), -1});
      }
    }
  }

  const BinnedMatrix& X_;
  const double* channels_;  // C × n, one contiguous column of channels per row
  VectorRef weights_;
  const Rule& rule_;
  const TrainerOptions& options_;
  const Index n_, p_, C_, S_, B_, words_;
  bool sets_enabled_ = false;

  std::vector<std::uint32_t> rows_, scratch_rows_, pool_, order_, estimation_rows_;
  std::vector<std::uint8_t> membership_;
  std::vector<double> multiplicity_;
  std::vector<double> node_channels_;
  std::vector<Index> features_;
  std::vector<Index> num_bins_;
  std::vector<double> direct_hist_;
  std::vector<std::uint64_t> direct_bits_;
  std::vector<std::vector<double>> set_hist_;
  std::vector<std::vector<std::uint64_t>> set_bits_;
  std::vector<int> free_sets_;
  std::vector<Pending> stack_;
  std::vector<double> stack_totals_;
  std::vector<double> left_, right_, best_left_, node_totals_;  // S + 1 slots each
  // NodeCountingRule: the current node's row flags (times multiplicity), their per-bin sums for
  // the feature being scanned (all zero between scans), and the node's row range.
  std::vector<double> node_flags_, flag_hist_;
  bool node_counting_ = false;  // per-bin flag counts built for each scanned feature
  bool use_proxy_ = false;      // the flags equal the rule's proxy slot in this node
  std::uint32_t node_begin_ = 0, node_end_ = 0;
  double best_score_ = 0.0;
  Index best_feature_ = -1;
  Index best_bin_ = 0;
  std::vector<Node> nodes_;
  std::vector<double> leaf_stats_;
  std::vector<std::uint8_t> empty_;
  std::vector<std::pair<std::uint32_t, Index>> prune_stack_;
};

template <SplittingRule Rule, int kWidth>
TrainedForest train(const BinnedMatrix& X, const Matrix& channels, const VectorRef& weights,
                    const Rule& rule, const TrainerOptions& options) {
  const Index T = options.num_trees;
  const Index n = X.rows();
  std::vector<Tree> trees(static_cast<std::size_t>(T));
  std::vector<std::vector<std::uint64_t>> in_bag(options.compute_oob ? static_cast<std::size_t>(T)
                                                                     : 0);
  const Index threads = resolve_num_threads(options.num_threads);
  // Blocks of trees share one grower (its buffers); results depend only on the tree index.
  const Index block = std::max<Index>(1, T / (threads * 4));
  SerializedProgress progress(options.progress);
  std::atomic<Index> done{0};
  parallel_for_blocks(0, T, block, threads, [&](Index, Index lo, Index hi) {
    TreeGrower<Rule, kWidth> grower(X, channels.data(), weights, rule, options);
    for (Index t = lo; t < hi; ++t) {
      trees[static_cast<std::size_t>(t)] =
          grower.grow(t, options.compute_oob ? &in_bag[static_cast<std::size_t>(t)] : nullptr);
      progress("trees", done.fetch_add(1) + 1, T);
    }
  });
  TrainedForest result{Forest(X.cols(), rule.num_channels(), std::move(trees)), Matrix(),
                       VectorX<Index>()};
  if (!options.compute_oob) return result;

  // Out-of-bag: each row averages the leaf means of the trees that did not sample it.
  const Index C = rule.num_channels();
  result.oob_mean.resize(n, C);
  result.oob_num_trees.resize(n);
  const auto& forest_trees = result.forest.trees();
  parallel_for_blocks(0, n, 2048, threads, [&](Index, Index lo, Index hi) {
    std::vector<double> sums(static_cast<std::size_t>((hi - lo) * C), 0.0);
    std::vector<Index> used(static_cast<std::size_t>(hi - lo), 0);
    for (Index t = 0; t < T; ++t) {
      const Tree& tree = forest_trees[static_cast<std::size_t>(t)];
      if (tree.empty()) continue;
      const auto& bag = in_bag[static_cast<std::size_t>(t)];
      for (Index i = lo; i < hi; ++i) {
        if ((bag[static_cast<std::size_t>(i >> 6)] >> (i & 63)) & 1u) continue;
        const double* s =
            tree.leaf_stats.data() + static_cast<std::size_t>(tree.leaf_of(X, i) * (C + 1));
        const double inv = 1.0 / s[0];
        double* acc = sums.data() + (i - lo) * C;
        for (Index q = 0; q < C; ++q) acc[q] += s[1 + q] * inv;
        ++used[static_cast<std::size_t>(i - lo)];
      }
    }
    for (Index i = lo; i < hi; ++i) {
      const Index u = used[static_cast<std::size_t>(i - lo)];
      const double scale =
          u > 0 ? 1.0 / static_cast<double>(u) : std::numeric_limits<double>::quiet_NaN();
      for (Index q = 0; q < C; ++q)
        result.oob_mean(i, q) = sums[static_cast<std::size_t>((i - lo) * C + q)] * scale;
      result.oob_num_trees(i) = u;
    }
  });
  return result;
}

}  // namespace detail

/// Trains a forest on binned features with the given relabeling (channels per row) and rule.
/// `weights` (length 0 = unit) only decides which rows may enter trees (weight > 0); the
/// relabeling is expected to fold the weights into its channels. Options must be valid
/// (the forest classes check them); mtry is clamped to [1, p].
template <SplittingRule Rule, Relabeling Relabel>
TrainedForest train_forest(const BinnedMatrix& X, const Relabel& relabeling, const Rule& rule,
                           const VectorRef& weights, TrainerOptions options) {
  const Index n = X.rows();
  const Index C = rule.num_channels();
  check_param(relabeling.num_channels() == C, "train_forest", "relabeling channels",
              relabeling.num_channels(), fmt::format("{} (the splitting rule's)", C));
  check_rows("train_forest", "relabeling", relabeling.num_rows(), n, "the rows of X");
  check_param(n < (Index{1} << 32) - 1, "train_forest", "rows", n, "fewer than 2^32 - 1");
  check_param(X.cols() < kMaxFeatures, "train_forest", "features", X.cols(), "fewer than 2^20");
  if (X.cols() < 1) {
    raise<DataError>("train_forest: X has {} rows and 0 columns, expected at least 1 feature", n);
  }
  options.mtry = std::clamp<Index>(options.mtry, 1, X.cols());
  {
    // Up-front estimate: per tree, the in-bag bitset (out-of-bag) and about two nodes per
    // min_node_size sampled rows, each node 16 bytes plus a leaf's 8·(C + 1); plus the
    // channel table and the out-of-bag sums (n × C each).
    const double rows = static_cast<double>(n);
    const double sampled = std::max(1.0, options.sample_fraction * rows);
    const double nodes =
        2.0 * sampled / static_cast<double>(std::max<Index>(1, options.min_node_size));
    const double per_tree = (options.compute_oob ? rows / 8.0 : 0.0) +
                            nodes * (16.0 + 8.0 * static_cast<double>(C + 1));
    check_memory("train_forest",
                 fmt::format("{} trees on {} rows with {} channels", options.num_trees, n, C),
                 static_cast<double>(options.num_trees) * per_tree +
                     2.0 * 8.0 * rows * static_cast<double>(C + 1));
  }
  // Channels as a C × n column-major table: each row's channels are contiguous.
  Matrix channels(C, n);
  parallel_for_blocks(0, n, 4096, options.num_threads, [&](Index, Index lo, Index hi) {
    for (Index i = lo; i < hi; ++i) relabeling.channels(i, channels.col(i).data());
  });
  // A rule may fix the width S = 1 + C at compile time (`static constexpr int kStatsWidth`),
  // so its histogram loops unroll (e.g. the causal forest's S = 7).
  TrainedForest result = [&] {
    if constexpr (requires { Rule::kStatsWidth; }) {
      check_param(C + 1 == Rule::kStatsWidth, "train_forest", "rule channels", C,
                  fmt::format("{} (kStatsWidth - 1)", Rule::kStatsWidth - 1));
      return detail::train<Rule, Rule::kStatsWidth>(X, channels, weights, rule, options);
    } else {
      switch (C + 1) {
        case 3:
          return detail::train<Rule, 3>(X, channels, weights, rule, options);
        case 4:
          return detail::train<Rule, 4>(X, channels, weights, rule, options);
        default:
          return detail::train<Rule, 0>(X, channels, weights, rule, options);
      }
    }
  }();
  // A tree whose (honest) estimation half is empty has no nodes and predicts nothing; when
  // every tree is empty each prediction would be 0/0. Say why instead of returning NaN.
  if (result.forest.num_nonempty_trees() == 0) {
    raise<DataError>(
        "train_forest: none of the {} trees received estimation rows ({} rows with positive "
        "weight, sample_fraction = {}, honesty = {}), expected enough rows for each tree's "
        "subsample; use more rows, a larger sample_fraction or honesty = false",
        options.num_trees, weights.size() == 0 ? n : (weights.array() > 0.0).count(),
        options.sample_fraction, options.honesty);
  }
  return result;
}

}  // namespace tailor::learn::tree
