// tailor/ctr/detail/multitask_network.hpp — the one network behind the multi-task and conversion
// models: shared field embeddings, optional levels of experts mixed by per-task softmax gates,
// and one MLP tower per output.
//
//   e(x)          = [e_1 … e_F], the pooled field embeddings (as the deep click models)
//   level l       experts E_j (ReLU MLPs) of task t (K_t each) and shared (K_s); task t's gate
//                 g_t = softmax(G_t h_t) mixes its own and the shared experts, o_t = Σ_j g_tj E_j;
//                 the shared gate (every level but the last, when K_s > 0) mixes all experts.
//                 (Customized Gate Control, Tang et al., RecSys 2020, §4.2; one level with K_t = 0
//                 is MMoE, Ma et al., KDD 2018, g_t = softmax(W_t x); one expert and no gate is
//                 Shared-Bottom, Caruana 1997.) Level 0's inputs are e(x); level l + 1's task t
//                 and shared inputs are level l's o_t and o_shared.
//   towers        z_t = MLP_t(o_t) (or MLP_t(e(x)) without levels: ESMM's towers).
// Gates have no bias (as the papers' softmax(W x)); a gate mixing a single expert is omitted.
// Backward through a gate (softmax Jacobian, column c): dA_q = g_q (s_q − Σ_r g_r s_r) with
// s_q = ⟨dO, E_q⟩, dG += dA hᵀ, dh += Gᵀ dA.
// Cost per row: Σ over experts, gates and towers of their GEMM flops (2·in·out per layer).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/random.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/detail/field_embeddings.hpp"
#include "tailor/ctr/detail/trainer.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/layers.hpp"
#include "tailor/ctr/optimizers.hpp"

namespace tailor::ctr {

/// One level of experts and gates (see the file comment).
struct ExpertLevel {
  Index num_tasks = 0;
  Index task_experts = 0;             ///< K_t, experts of each task
  Index shared_experts = 0;           ///< K_s
  bool shared_output = false;         ///< has a shared gate (feeds the next level's shared experts)
  bool first = true;                  ///< every input is the embedding block (level 0)
  std::vector<Mlp> experts;           ///< task 0's K_t, task 1's, …, then the K_s shared ones
  std::vector<DenseParameter> gates;  ///< one per output branch; 0 × 0 where omitted

  Index num_experts() const { return num_tasks * task_experts + shared_experts; }
  Index num_branches() const { return num_tasks + (shared_output ? 1 : 0); }
  /// The input branch of expert j: its task, or num_tasks for a shared expert.
  Index expert_branch(Index j) const {
    return j < num_tasks * task_experts ? j / task_experts : num_tasks;
  }
  /// The experts that output branch b mixes (task b: its own then the shared; shared: all).
  std::vector<Index> members(Index b) const {
    std::vector<Index> out;
    if (b == num_tasks) {
      for (Index j = 0; j < num_experts(); ++j) out.push_back(j);
    } else {
      for (Index j = b * task_experts; j < (b + 1) * task_experts; ++j) out.push_back(j);
      for (Index j = num_tasks * task_experts; j < num_experts(); ++j) out.push_back(j);
    }
    return out;
  }
  bool has_gate(Index b) const { return gates[static_cast<std::size_t>(b)].value.size() > 0; }
  Index output_width() const { return experts.front().output_width(); }

  struct Workspace {
    std::vector<Mlp::Workspace> experts;
    std::vector<Eigen::MatrixXf> probs;  ///< per branch: members × m softmax weights
    std::vector<Eigen::MatrixXf> out;    ///< per branch: width × m
    std::vector<Eigen::MatrixXf> d_out;  ///< per branch
    std::vector<Eigen::MatrixXf> d_in;   ///< per input branch (one at the first level)
    std::vector<Eigen::MatrixXf> d_expert;
    Eigen::MatrixXf d_logits, s, tmp;
  };

  Workspace make_workspace(Index rows) const {
    Workspace ws;
    for (const auto& e : experts) ws.experts.push_back(e.make_workspace(rows));
    const auto branches = static_cast<std::size_t>(num_branches());
    ws.probs.resize(branches);
    ws.out.resize(branches);
    ws.d_out.resize(branches);
    ws.d_in.resize(first ? 1 : static_cast<std::size_t>(num_tasks + 1));
    ws.d_expert.resize(experts.size());
    return ws;
  }

  /// Forward on inputs in[0 … num_tasks] (task branches, then shared; all the same block at the
  /// first level).
  void forward(const Eigen::MatrixXf* const* in, Workspace& ws) const {
    for (std::size_t j = 0; j < experts.size(); ++j) {
      experts[j].forward(*in[expert_branch(static_cast<Index>(j))], ws.experts[j]);
    }
    for (Index b = 0; b < num_branches(); ++b) {
      const auto members_b = members(b);
      auto& out = ws.out[static_cast<std::size_t>(b)];
      if (!has_gate(b)) {
        out = ws.experts[static_cast<std::size_t>(members_b[0])].outputs.back();
        continue;
      }
      auto& p = ws.probs[static_cast<std::size_t>(b)];
      const Eigen::MatrixXf& h = *in[b];
      p.noalias() = gates[static_cast<std::size_t>(b)].value * h;
      softmax_columns(p);
      out.setZero(output_width(), h.cols());
      for (std::size_t q = 0; q < members_b.size(); ++q) {
        const auto& e = ws.experts[static_cast<std::size_t>(members_b[q])].outputs.back();
        out.array() += e.array().rowwise() * p.row(static_cast<Index>(q)).array();
      }
    }
  }

  /// Backward from ws.d_out (per branch) after forward: adds parameter gradients at `grads`
  /// (experts from expert_offset[j], gates from gate_offset[b]) and writes ws.d_in.
  void backward(const Eigen::MatrixXf* const* in, Workspace& ws,
                std::vector<Eigen::MatrixXf>& grads, const std::vector<Index>& expert_offset,
                const std::vector<Index>& gate_offset) const {
    const Index m = in[0]->cols();
    for (std::size_t j = 0; j < experts.size(); ++j) ws.d_expert[j].setZero(output_width(), m);
    for (auto& d : ws.d_in) d.setZero(in[0]->rows(), m);
    auto d_in_of = [&](Index branch) -> Eigen::MatrixXf& {
      return ws.d_in[first ? 0 : static_cast<std::size_t>(branch)];
    };
    for (Index b = 0; b < num_branches(); ++b) {
      const auto members_b = members(b);
      const auto& d_out = ws.d_out[static_cast<std::size_t>(b)];
      if (!has_gate(b)) {
        ws.d_expert[static_cast<std::size_t>(members_b[0])] += d_out;
        continue;
      }
      const auto& p = ws.probs[static_cast<std::size_t>(b)];
      const auto count = static_cast<Index>(members_b.size());
      ws.s.resize(count, m);
      for (Index q = 0; q < count; ++q) {
        const auto j = static_cast<std::size_t>(members_b[static_cast<std::size_t>(q)]);
        const auto& e = ws.experts[j].outputs.back();
        ws.d_expert[j].array() += d_out.array().rowwise() * p.row(q).array();
        ws.s.row(q) = (d_out.array() * e.array()).colwise().sum().matrix();
      }
      softmax_backward(p, ws.s, nullptr, ws.d_logits);
      grads[static_cast<std::size_t>(gate_offset[static_cast<std::size_t>(b)])].noalias() +=
          ws.d_logits * in[b]->transpose();
      d_in_of(b).noalias() += gates[static_cast<std::size_t>(b)].value.transpose() * ws.d_logits;
    }
    for (std::size_t j = 0; j < experts.size(); ++j) {
      const Index branch = expert_branch(static_cast<Index>(j));
      experts[j].backward(*in[branch], ws.experts[j], ws.d_expert[j], grads, expert_offset[j],
                          ws.tmp);
      d_in_of(branch) += ws.tmp;
    }
  }
};

/// Shared embeddings, expert levels and towers (see the file comment).
class MultiTaskNetwork {
 public:
  Index num_fields = 0;
  std::vector<Pooling> pooling;
  EmbeddingTable embedding;  ///< table 0
  std::vector<ExpertLevel> levels;
  std::vector<Mlp> towers;  ///< one per output; tower t reads task branch t of the last level

  Index dim() const { return embedding.dim(); }
  Index num_outputs() const { return static_cast<Index>(towers.size()); }
  Index num_tables() const { return 1; }
  EmbeddingTable& table(Index) { return embedding; }
  const EmbeddingTable& table(Index) const { return embedding; }

  /// Rebuilds the dense-parameter index (call after building or loading the parts).
  void finalize() {
    slots_.clear();
    expert_offsets_.assign(levels.size(), {});
    gate_offsets_.assign(levels.size(), {});
    tower_offsets_.clear();
    for (std::size_t l = 0; l < levels.size(); ++l) {
      for (std::size_t j = 0; j < levels[l].experts.size(); ++j) {
        expert_offsets_[l].push_back(static_cast<Index>(slots_.size()));
        for (Index p = 0; p < levels[l].experts[j].num_params(); ++p)
          slots_.push_back({static_cast<std::int32_t>(l), 0, static_cast<std::int32_t>(j),
                            static_cast<std::int32_t>(p)});
      }
      for (std::size_t b = 0; b < levels[l].gates.size(); ++b) {
        gate_offsets_[l].push_back(static_cast<Index>(slots_.size()));
        if (levels[l].has_gate(static_cast<Index>(b)))
          slots_.push_back({static_cast<std::int32_t>(l), 1, static_cast<std::int32_t>(b), 0});
      }
    }
    for (std::size_t t = 0; t < towers.size(); ++t) {
      tower_offsets_.push_back(static_cast<Index>(slots_.size()));
      for (Index p = 0; p < towers[t].num_params(); ++p)
        slots_.push_back({-1, 2, static_cast<std::int32_t>(t), static_cast<std::int32_t>(p)});
    }
  }

  Index num_dense() const { return static_cast<Index>(slots_.size()); }
  DenseParameter& dense(Index i) {
    return const_cast<DenseParameter&>(std::as_const(*this).dense(i));
  }
  const DenseParameter& dense(Index i) const {
    const Slot& s = slots_[static_cast<std::size_t>(i)];
    if (s.kind == 2) return towers[static_cast<std::size_t>(s.index)].param(s.param);
    const auto& level = levels[static_cast<std::size_t>(s.level)];
    if (s.kind == 1) return level.gates[static_cast<std::size_t>(s.index)];
    return level.experts[static_cast<std::size_t>(s.index)].param(s.param);
  }

  struct Workspace {
    Eigen::MatrixXf input;  ///< (F·k) × m pooled embeddings
    Eigen::MatrixXf scale;  ///< F × m pooling factors
    std::vector<ExpertLevel::Workspace> levels;
    std::vector<Mlp::Workspace> towers;
    Eigen::MatrixXf d_input, d_tower, d_z;
  };

  Workspace make_workspace(Index rows) const {
    Workspace ws;
    ws.input.resize(num_fields * dim(), rows);
    for (const auto& level : levels) ws.levels.push_back(level.make_workspace(rows));
    for (const auto& tower : towers) ws.towers.push_back(tower.make_workspace(rows));
    return ws;
  }

  /// The input block of tower t after forward.
  const Eigen::MatrixXf& tower_input(const Workspace& ws, Index t) const {
    return levels.empty() ? ws.input : ws.levels.back().out[static_cast<std::size_t>(t)];
  }

  void forward(const RowsView& x, Index lo, Index hi, Workspace& ws, float* out) const {
    detail::pool_field_embeddings(x, lo, hi, pooling, embedding, ws.input, ws.scale);
    for (std::size_t l = 0; l < levels.size(); ++l) {
      const auto inputs = level_inputs(ws, l);
      levels[l].forward(inputs.data(), ws.levels[l]);
    }
    const Index T = num_outputs();
    for (Index t = 0; t < T; ++t) {
      auto& tws = ws.towers[static_cast<std::size_t>(t)];
      tws.masks.clear();
      const Eigen::MatrixXf& z =
          towers[static_cast<std::size_t>(t)].forward(tower_input(ws, t), tws);
      for (Index c = 0; c < hi - lo; ++c) out[c * T + t] = z(0, c);
    }
  }

  void backward(const RowsView& x, Index lo, Index hi, Workspace& ws, const float* dlogits,
                BlockGradient& g) const {
    const Index m = hi - lo;
    const Index T = num_outputs();
    if (levels.empty()) ws.d_input.setZero(ws.input.rows(), m);
    for (Index t = 0; t < T; ++t) {
      ws.d_z.resize(1, m);
      for (Index c = 0; c < m; ++c) ws.d_z(0, c) = dlogits[c * T + t];
      towers[static_cast<std::size_t>(t)].backward(
          tower_input(ws, t), ws.towers[static_cast<std::size_t>(t)], ws.d_z, g.dense,
          tower_offsets_[static_cast<std::size_t>(t)], ws.d_tower);
      if (levels.empty()) {
        ws.d_input += ws.d_tower;
      } else {
        ws.levels.back().d_out[static_cast<std::size_t>(t)] = ws.d_tower;
      }
    }
    for (auto l = static_cast<std::ptrdiff_t>(levels.size()) - 1; l >= 0; --l) {
      const auto u = static_cast<std::size_t>(l);
      auto& lws = ws.levels[u];
      const auto inputs = level_inputs(ws, u);
      levels[u].backward(inputs.data(), lws, g.dense, expert_offsets_[u], gate_offsets_[u]);
      if (u > 0) {
        auto& previous = ws.levels[u - 1];
        for (Index b = 0; b < levels[u - 1].num_branches(); ++b) {
          previous.d_out[static_cast<std::size_t>(b)] = lws.d_in[static_cast<std::size_t>(b)];
        }
      }
    }
    const Eigen::MatrixXf& d_input = levels.empty() ? ws.d_input : ws.levels.front().d_in[0];
    detail::scatter_field_gradients(x, lo, hi, dim(), d_input, ws.scale, g, 0);
  }

  /// Gate weights of branch b of level l for the rows of the last forward (members × m), or
  /// an empty matrix when that branch has no gate.
  const Eigen::MatrixXf& gate_weights(const Workspace& ws, Index l, Index b) const {
    return ws.levels[static_cast<std::size_t>(l)].probs[static_cast<std::size_t>(b)];
  }

  void save(BinaryWriter& out) const {
    out.write(embedding.value);
    out.write(static_cast<std::uint64_t>(levels.size()));
    for (const auto& level : levels) {
      out.write(static_cast<std::int64_t>(level.num_tasks));
      out.write(static_cast<std::int64_t>(level.task_experts));
      out.write(static_cast<std::int64_t>(level.shared_experts));
      out.write(level.shared_output);
      for (const auto& e : level.experts) e.save(out);
      for (const auto& gate : level.gates) out.write(gate.value);
    }
    out.write(static_cast<std::uint64_t>(towers.size()));
    for (const auto& t : towers) t.save(out);
  }

  /// Reads what save wrote for a model of `space`, checking every shape.
  static MultiTaskNetwork load(BinaryReader& in, const FeatureSpace& space,
                               std::string_view context) {
    auto fail = [&](std::string_view what) {
      raise<FormatError>("model file: {} {} does not match its feature space ({} rows, {} fields)",
                         context, what, space.num_rows(), space.num_fields());
    };
    MultiTaskNetwork net;
    net.num_fields = space.num_fields();
    for (const auto& field : space.fields()) net.pooling.push_back(field.pooling);
    net.embedding.value = in.read<RowMatrixXf>("embedding");
    const Index k = net.embedding.value.cols();
    if (net.embedding.value.rows() != space.num_rows() || k < 1 || k > 1024) fail("embedding");
    const auto num_levels = in.read<std::uint64_t>("number of levels");
    if (num_levels > 16) fail("number of levels");
    Index width = net.num_fields * k;
    Index branches_in = 0;  // task branches of the previous level (0: embeddings)
    bool shared_in = false;
    for (std::uint64_t l = 0; l < num_levels; ++l) {
      ExpertLevel level;
      level.first = l == 0;
      level.num_tasks = static_cast<Index>(in.read<std::int64_t>("number of tasks"));
      level.task_experts = static_cast<Index>(in.read<std::int64_t>("task experts"));
      level.shared_experts = static_cast<Index>(in.read<std::int64_t>("shared experts"));
      level.shared_output = in.read<bool>("shared output");
      if (level.num_tasks < 1 || level.num_tasks > 64 || level.task_experts < 0 ||
          level.task_experts > 64 || level.shared_experts < 0 || level.shared_experts > 64 ||
          level.num_experts() < 1 || (l > 0 && level.num_tasks != branches_in) ||
          (l > 0 && level.shared_experts > 0 && !shared_in) ||
          (level.shared_output && level.shared_experts == 0)) {
        fail("expert level");
      }
      Index out_width = -1;
      for (Index j = 0; j < level.num_experts(); ++j) {
        auto expert = Mlp::load(in, width, true);
        if (!expert) fail("expert");
        level.experts.push_back(std::move(*expert));
        if (out_width >= 0 && level.experts.back().output_width() != out_width) fail("expert");
        out_width = level.experts.back().output_width();
      }
      for (Index b = 0; b < level.num_branches(); ++b) {
        DenseParameter gate;
        gate.value = in.read<Eigen::MatrixXf>("gate");
        const auto count = static_cast<Index>(level.members(b).size());
        if (!(gate.value.size() == 0 && count == 1) &&
            !(gate.value.rows() == count && gate.value.cols() == width && count > 1)) {
          fail("gate");
        }
        level.gates.push_back(std::move(gate));
      }
      width = out_width;
      branches_in = level.num_tasks;
      shared_in = level.shared_output;
      net.levels.push_back(std::move(level));
    }
    if (shared_in) fail("last level");
    const auto num_towers = in.read<std::uint64_t>("number of towers");
    if (num_towers < 1 || num_towers > 64 ||
        (num_levels > 0 && static_cast<Index>(num_towers) != branches_in)) {
      fail("number of towers");
    }
    for (std::uint64_t t = 0; t < num_towers; ++t) {
      auto tower = Mlp::load(in, width, false);
      if (!tower) fail("tower");
      net.towers.push_back(std::move(*tower));
      if (net.towers.back().output_width() != 1) fail("tower");
    }
    net.finalize();
    return net;
  }

 private:
  struct Slot {
    std::int32_t level;
    std::int32_t kind;  ///< 0 expert, 1 gate, 2 tower
    std::int32_t index;
    std::int32_t param;
  };
  std::vector<Slot> slots_;
  std::vector<std::vector<Index>> expert_offsets_;
  std::vector<std::vector<Index>> gate_offsets_;
  std::vector<Index> tower_offsets_;

  /// The inputs of level l: the embeddings at level 0, else the previous level's branches.
  std::vector<const Eigen::MatrixXf*> level_inputs(const Workspace& ws, std::size_t l) const {
    const Index T = levels[l].num_tasks;
    std::vector<const Eigen::MatrixXf*> in(static_cast<std::size_t>(T + 1), &ws.input);
    if (l == 0) return in;
    const auto& previous = ws.levels[l - 1];
    for (Index t = 0; t < T; ++t)
      in[static_cast<std::size_t>(t)] = &previous.out[static_cast<std::size_t>(t)];
    in[static_cast<std::size_t>(T)] =
        levels[l - 1].shared_output ? &previous.out.back() : &previous.out.front();
    return in;
  }
};

}  // namespace tailor::ctr
