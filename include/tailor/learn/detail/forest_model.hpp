// tailor/learn/detail/forest_model.hpp — what every fitted forest model on the tree engine
// shares: the trained tree::Forest, the thread count its predictions use, its accessors, and the
// versioned save/load framing (header, forest, out-of-bag payload).
// CRTP: Derived provides kTypeTag (std::string_view), a constructor
// Derived(tree::Forest, Oob, Index num_threads), and
// static void check_loaded(const tree::Forest&, const Oob&, const BinaryReader&) that throws
// FormatError when the loaded forest does not fit the model (e.g. a wrong channel count).
// Complexity: accessors O(1); save/load O(size of the forest).
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string_view>
#include <utility>

#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/tree/forest.hpp"

namespace tailor::learn::detail {

template <class Derived, class Oob>
class ForestModelBase {
 public:
  /// grf-style split-frequency importance (depths 1..max_depth weighted by d^−decay).
  Vector variable_importance(double decay_exponent = 2.0, Index max_depth = 4) const {
    return forest_.variable_importance(decay_exponent, max_depth);
  }

  const tree::Forest& forest() const { return forest_; }
  Index num_trees() const { return forest_.num_trees(); }
  Index num_features() const { return forest_.num_features(); }

  /// Versioned binary save (header Derived::kTypeTag v1; core/serialization.hpp).
  void save(BinaryWriter& out) const {
    out.write_header(Derived::kTypeTag, kVersion);
    forest_.save(out);
    out.write(oob_);
  }
  /// Loads what save wrote; corrupt or foreign data throws FormatError. Predictions use all
  /// cores (num_threads = 0); they are identical for any thread count.
  static Derived load(BinaryReader& in) {
    in.read_header(Derived::kTypeTag, kVersion);
    tree::Forest forest = tree::Forest::load(in);
    Oob oob = in.read<Oob>("oob");
    Derived::check_loaded(forest, oob, in);
    return Derived(std::move(forest), std::move(oob), 0);
  }

 protected:
  ForestModelBase(tree::Forest forest, Oob oob, Index num_threads)
      : forest_(std::move(forest)), oob_(std::move(oob)), num_threads_(num_threads) {}

  static constexpr std::uint32_t kVersion = 1;
  tree::Forest forest_;
  Oob oob_;  ///< out-of-bag predictions of the training rows (empty when not computed)
  Index num_threads_ = 0;
};

}  // namespace tailor::learn::detail
