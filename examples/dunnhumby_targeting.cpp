// dunnhumby_targeting — whom should a TypeA campaign of Dunnhumby "The Complete Journey" be sent
// to? Treatment = the household received the TypeA campaign (campaign table + descriptions);
// outcome = its spend (Σ SALES_VALUE) during the campaign window; covariates = behaviour before
// the campaign started + demographics + the household's segment. Effects are estimated with the
// S/T/X/R/DR meta-learners and the causal forest through pipeline::TargetingPipeline, which also
// learns a policy and evaluates it honestly (cross-fitted) with doubly-robust off-policy values.
//
//   dunnhumby_targeting                          # the bundled synthetic sample (examples/data)
//   dunnhumby_targeting --data DIR [--output DIR] [--campaign ID] [--cost C] [--top-share S] ...
//
// Stages.
//  1. Features (io/dunnhumby.hpp): build_features over the days before the campaign starts
//     (recency, frequency, spend, basket size, discount and coupon use, regularity, department
//     and top-commodity shares, campaigns received before); demographics become ordinal
//     numbers (age, income, household size, kids) and indicators (homeowner, married, has a
//     demographics row).
//  2. Segments: segment::Segmenter (log(1 + x) of the skewed columns, max-abs scaling, NMF, then
//     K-Means) on the pre-campaign behaviour, as in dunnhumby_segments but with fixed sizes
//     (--factors, --segments) — the labels enter the covariates as one-hot columns and group the
//     effects by segment.
//  3. Effects, policy, evaluation: TargetingPipeline<Estimator> for the causal forest (main
//     model) and each meta-learner (forest base learners): cross-fitted τ̂, the rule "treat if
//     τ̂ > cost", overlap diagnostics, AIPW effects by segment and DR values of the learned
//     policy vs treat-all and treat-none. A capacity budget (top --top-share by τ̂) and a
//     depth-2 policy tree on the doubly-robust scores are learned fold by fold on the same
//     folds and evaluated the same way.
//  4. Report: targeting_report.html (inline SVG: Qini curve, CATE histogram, effects by
//     segment, the policy tree as boxes) and household_effects.csv in --output.
// Overlap: TypeA campaigns went to heavy spenders, so treated and untreated households are
// nearly separable (propensity AUC ≈ 0.99 on both the synthetic sample and the real data).
// ê is clipped into [0.01, 0.99] (inverse weights ≤ 100) so every estimate stays finite, but
// effects for households far outside the common support are extrapolated; the program says so.
// On the synthetic sample (truth_households.csv present) the estimates are compared with the
// planted household effects.
// The completejourney samples ship gzipped; tailor reads plain CSV, so the program decompresses
// them with the `gzip` command into a temporary directory first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include "common/example_support.hpp"
#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/io/dunnhumby.hpp"
#include "tailor/pipeline.hpp"
#include "tailor/policy/policy_tree.hpp"
#include "tailor/segment/segmenter.hpp"
#include "tailor/uplift/curves.hpp"

namespace fs = std::filesystem;
namespace dh = tailor::io::dunnhumby;
namespace pl = tailor::pipeline;
using tailor::Index;
using tailor::IndexVector;
using tailor::Matrix;
using tailor::Vector;

namespace {

using tailor_examples::decompress_if_needed;
using tailor_examples::html_escape;
using tailor_examples::is_log_feature;
using tailor_examples::ScratchDir;
using tailor_examples::seconds_since;

// -------------------------------------------------------------------------------------------------
// Small helpers
// -------------------------------------------------------------------------------------------------
/// The first number in a demographic category ("35-49K" → 35, "65+" → 65, "Under 15K" → 0,
/// "None/Unknown" → 0); NaN for an empty text.
double leading_number(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (text.rfind("Under", 0) == 0) return 0.0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      double value = 0.0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9')
        value = 10 * value + (text[i++] - '0');
      return value;
    }
  }
  return 0.0;
}

double correlation(const Vector& a, const Vector& b) {
  const Vector da = a.array() - a.mean(), db = b.array() - b.mean();
  const double den = std::sqrt(da.squaredNorm() * db.squaredNorm());
  return den > 0 ? da.dot(db) / den : 0.0;
}

std::string interval_text(const tailor::Interval& ci) {
  return fmt::format("[{:.2f}, {:.2f}]", ci.lower, ci.upper);
}

// -------------------------------------------------------------------------------------------------
// SVG charts
// -------------------------------------------------------------------------------------------------
struct Frame {
  double width = 460, height = 280, left = 58, right = 16, top = 34, bottom = 44;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (width - left - right); }
  double py(double y) const {
    const double h = height - top - bottom;
    return top + h - (std::clamp(y, y0, y1) - y0) / (y1 - y0) * h;
  }
};

std::string svg_open(const Frame& f, const std::string& title) {
  return fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
      "font-family='sans-serif' font-size='11'>\n"
      "<text x='{2}' y='18' font-size='13' font-weight='bold'>{3}</text>\n",
      f.width, f.height, f.left, html_escape(title));
}

std::string svg_axes(const Frame& f, const std::string& x_label, const std::string& y_label) {
  std::string s;
  for (int t = 0; t <= 4; ++t) {
    const double v = f.y0 + (f.y1 - f.y0) * t / 4.0;
    s += fmt::format(
        "<line x1='{0}' x2='{1}' y1='{2:.1f}' y2='{2:.1f}' stroke='#e3e3e3'/>"
        "<text x='{3}' y='{4:.1f}' text-anchor='end' fill='#555'>{5:.4g}</text>\n",
        f.left, f.width - f.right, f.py(v), f.left - 6, f.py(v) + 4, v);
    const double u = f.x0 + (f.x1 - f.x0) * t / 4.0;
    s += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle' fill='#555'>{:.3g}</text>\n",
                     f.px(u), f.height - f.bottom + 16, u);
  }
  s += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n",
                   (f.left + f.width - f.right) / 2, f.height - 8, html_escape(x_label));
  s += fmt::format(
      "<text x='14' y='{0:.1f}' text-anchor='middle' transform='rotate(-90 14 "
      "{0:.1f})'>{1}</text>\n",
      (f.top + f.height - f.bottom) / 2, html_escape(y_label));
  return s;
}

/// The Qini curve of the out-of-fold τ̂ ranking (DR estimator) against random targeting.
std::string svg_qini(const tailor::uplift::Curve& curve, double share_targeted) {
  Frame f;
  const double n = curve.total_population();
  f.y0 = std::min(0.0, curve.value.minCoeff());
  f.y1 = std::max(curve.value.maxCoeff(), 1e-9);
  const double pad = 0.05 * (f.y1 - f.y0);
  f.y0 -= pad;
  f.y1 += pad;
  std::string s = svg_open(f, "Qini curve: households ranked by out-of-fold τ̂");
  s += svg_axes(f, "share of households targeted", "incremental spend ($)");
  std::string points;
  for (Index k = 0; k < curve.num_knots(); ++k) {
    points += fmt::format("{:.1f},{:.1f} ", f.px(curve.population[k] / n), f.py(curve.value[k]));
  }
  s += fmt::format("<polyline fill='none' stroke='#4c78a8' stroke-width='2' points='{}'/>\n",
                   points);
  s += fmt::format(
      "<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='#999' "
      "stroke-dasharray='5 4'/>\n",
      f.px(0), f.py(0), f.px(1), f.py(curve.final_value()));
  s += fmt::format(
      "<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2}' stroke='#d62728' stroke-dasharray='4 3'/>"
      "<text x='{0:.1f}' y='{3}' text-anchor='middle' fill='#d62728'>policy {4:.0f}%</text>\n",
      f.px(share_targeted), f.top, f.height - f.bottom, f.top - 4, 100 * share_targeted);
  s += fmt::format(
      "<text x='{:.1f}' y='{:.1f}' fill='#4c78a8'>τ̂ ranking</text><text x='{:.1f}' y='{:.1f}' "
      "fill='#777'>random</text>\n",
      f.left + 8, f.top + 14, f.left + 8, f.top + 28);
  return s + "</svg>\n";
}

/// Histogram of τ̂ with the treatment threshold marked.
std::string svg_histogram(const Vector& values, double threshold, const std::string& title) {
  Frame f;
  const int bins = 30;
  // Robust range: the 1st..99th percentiles, so a few extrapolated households do not flatten it.
  std::vector<double> sorted(values.data(), values.data() + values.size());
  std::sort(sorted.begin(), sorted.end());
  const auto pct = [&](double q) {
    return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
  };
  f.x0 = std::min(pct(0.01), threshold);
  f.x1 = std::max(pct(0.99), threshold);
  if (!(f.x1 > f.x0)) f.x1 = f.x0 + 1;
  std::vector<int> counts(bins, 0);
  for (const double v : sorted) {
    const int b = std::clamp(static_cast<int>((v - f.x0) / (f.x1 - f.x0) * bins), 0, bins - 1);
    ++counts[static_cast<std::size_t>(b)];
  }
  f.y1 = *std::max_element(counts.begin(), counts.end()) * 1.05 + 1;
  std::string s = svg_open(f, title);
  s += svg_axes(f, "τ̂ ($ over the campaign window; 1st–99th percentile)", "households");
  const double bw = (f.x1 - f.x0) / bins;
  for (int b = 0; b < bins; ++b) {
    const double lo = f.x0 + b * bw;
    s += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='{}'><title>{:.2f} .. "
        "{:.2f}: {}</title></rect>\n",
        f.px(lo) + 0.5, f.py(counts[static_cast<std::size_t>(b)]), f.px(lo + bw) - f.px(lo) - 1,
        f.py(0) - f.py(counts[static_cast<std::size_t>(b)]),
        lo + bw > threshold ? "#54a24b" : "#bbb", lo, lo + bw, counts[static_cast<std::size_t>(b)]);
  }
  s += fmt::format(
      "<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2}' stroke='#d62728' stroke-dasharray='4 3'/>"
      "<text x='{0:.1f}' y='{3}' text-anchor='middle' fill='#d62728'>cost {4:g}</text>\n",
      f.px(threshold), f.top, f.height - f.bottom, f.top - 4, threshold);
  return s + "</svg>\n";
}

/// AIPW effect per segment with its interval (a forest plot).
std::string svg_segment_effects(const std::vector<tailor::policy::GroupEffect>& effects) {
  Frame f;
  f.left = 60;
  f.height = 60 + 26.0 * static_cast<double>(effects.size());
  double lo = 0, hi = 0;
  for (const auto& g : effects) {
    if (std::isfinite(g.interval.lower)) lo = std::min(lo, g.interval.lower);
    if (std::isfinite(g.interval.upper)) hi = std::max(hi, g.interval.upper);
  }
  f.x0 = lo - 0.05 * (hi - lo + 1);
  f.x1 = hi + 0.05 * (hi - lo + 1);
  std::string s = svg_open(f, "Effect by segment (AIPW, 95% interval)");
  const double zero = f.px(0);
  s += fmt::format("<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2:.0f}' stroke='#999'/>\n", zero,
                   f.top, f.height - f.bottom + 10);
  for (std::size_t k = 0; k < effects.size(); ++k) {
    const auto& g = effects[k];
    const double y = f.top + 14 + 26.0 * static_cast<double>(k);
    const char* color = g.significantly_negative   ? "#d62728"
                        : g.significantly_positive ? "#2ca02c"
                                                   : "#4c78a8";
    s += fmt::format(
        "<text x='{:.0f}' y='{:.1f}' text-anchor='end'>S{} (n={})</text>"
        "<line x1='{:.1f}' x2='{:.1f}' y1='{:.1f}' y2='{:.1f}' stroke='{}' stroke-width='2'/>"
        "<circle cx='{:.1f}' cy='{:.1f}' r='4' fill='{}'><title>{:.2f} {}</title></circle>\n",
        f.left - 4, y + 4, g.group + 1, g.size, f.px(g.interval.lower), f.px(g.interval.upper), y,
        y, color, f.px(g.effect.value), y, color, g.effect.value, interval_text(g.interval));
  }
  for (int t = 0; t <= 4; ++t) {
    const double u = f.x0 + (f.x1 - f.x0) * t / 4.0;
    s += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle' fill='#555'>{:.3g}</text>\n",
                     f.px(u), f.height - f.bottom + 26, u);
  }
  return s + "</svg>\n";
}

/// The policy tree as boxes: internal nodes show the split, leaves the action and size.
std::string svg_policy_tree(const tailor::policy::PolicyTreeModel& tree,
                            const std::vector<std::string>& names) {
  const auto& nodes = tree.nodes();
  // Leaves get consecutive slots from left to right; an internal node sits above its children.
  std::vector<double> slot(nodes.size(), 0.0);
  std::vector<int> depth(nodes.size(), 0);
  double next_leaf = 0;
  int max_depth = 0;
  const auto place = [&](auto&& self, Index t, int d) -> void {
    depth[static_cast<std::size_t>(t)] = d;
    max_depth = std::max(max_depth, d);
    const auto& node = nodes[static_cast<std::size_t>(t)];
    if (node.leaf) {
      slot[static_cast<std::size_t>(t)] = next_leaf++;
      return;
    }
    self(self, node.left, d + 1);
    self(self, node.right, d + 1);
    slot[static_cast<std::size_t>(t)] =
        (slot[static_cast<std::size_t>(node.left)] + slot[static_cast<std::size_t>(node.right)]) /
        2;
  };
  place(place, 0, 0);
  const double box_w = 200, box_h = 40, gap_x = 20, gap_y = 46;
  const double width = std::max(1.0, next_leaf) * (box_w + gap_x) + 20;
  const double height = 40 + (max_depth + 1) * (box_h + gap_y);
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0:.0f}' height='{1:.0f}' viewBox='0 0 "
      "{0:.0f} {1:.0f}' font-family='sans-serif' font-size='11'>\n"
      "<text x='10' y='18' font-size='13' font-weight='bold'>Depth-{2} policy tree on the "
      "doubly-robust scores (all households)</text>\n",
      width, height, tree.depth());
  const auto cx = [&](std::size_t t) { return 10 + slot[t] * (box_w + gap_x) + box_w / 2; };
  const auto cy = [&](std::size_t t) { return 34 + depth[t] * (box_h + gap_y); };
  for (std::size_t t = 0; t < nodes.size(); ++t) {
    const auto& node = nodes[t];
    if (node.leaf) continue;
    for (const Index child : {node.left, node.right}) {
      const auto c = static_cast<std::size_t>(child);
      s += fmt::format(
          "<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='#888'/>"
          "<text x='{:.1f}' y='{:.1f}' text-anchor='middle' fill='#555'>{}</text>\n",
          cx(t), cy(t) + box_h, cx(c), cy(c), (cx(t) + cx(c)) / 2 + (child == node.left ? -8 : 8),
          (cy(t) + box_h + cy(c)) / 2, child == node.left ? "yes" : "no");
    }
  }
  for (std::size_t t = 0; t < nodes.size(); ++t) {
    const auto& node = nodes[t];
    if (node.leaf && node.size == 0 && t != 0) continue;
    const std::string fill = node.leaf ? (node.action == 1 ? "#d9f0d3" : "#eeeeee") : "#dbe9f6";
    const std::string label =
        node.leaf ? fmt::format("{} ({} households)", node.action == 1 ? "TREAT" : "do not treat",
                                node.size)
                  : fmt::format("{} ≤ {:.3g}?", names[static_cast<std::size_t>(node.feature)],
                                node.threshold);
    s += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='{}' height='{}' rx='6' fill='{}' stroke='#666'/>"
        "<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n",
        cx(t) - box_w / 2, cy(t), box_w, box_h, fill, cx(t), cy(t) + box_h / 2 + 4,
        html_escape(label));
  }
  return s + "</svg>\n";
}

// -------------------------------------------------------------------------------------------------
// The run
// -------------------------------------------------------------------------------------------------
struct Options {
  std::string data_dir = std::string(TAILOR_EXAMPLE_DATA_DIR) + "/dunnhumby";
  std::string flavour = "auto";
  std::string output_dir = ".";
  std::int64_t campaign = 8;
  double cost = 0.0;
  double top_share = 0.31;
  Index segments = 5;
  Index factors = 4;
  Index folds = 5;
  Index trees = 1000;
  Index learner_trees = 200;
  int tree_depth = 2;
  int top_commodities = 10;
  bool skip_meta_learners = false;
  std::uint64_t seed = 42;
  Index threads = 0;
  bool quiet = false;
};

/// One line of the estimator comparison.
struct EstimatorRow {
  std::string name;
  tailor::Estimate ate;
  tailor::Interval ate_interval;
  double propensity_auc = 0;
  double share_treated = 0;
  pl::PolicyEvaluation evaluation;
  double seconds = 0;
  Vector cate;
};

template <class Result>
EstimatorRow summarize(const std::string& name, const Result& result, double seconds) {
  return {name,
          result.average_effect,
          result.average_effect_interval,
          result.overlap.propensity_auc,
          result.share_treated,
          result.evaluation,
          seconds,
          result.cate};
}

/// The planted truth of the synthetic sample, aligned with the households of the analysis.
struct Truth {
  Vector tau, mu0, propensity;
  std::vector<Index> segment;
  std::vector<std::string> segment_names;
};

std::optional<Truth> read_truth(const fs::path& dir, const std::vector<std::int64_t>& keys) {
  const fs::path path = dir / "truth_households.csv";
  if (!fs::exists(path)) return std::nullopt;
  const tailor::io::Table table = tailor::io::read_csv(path);
  const Vector& key = table.numeric("household_key");
  std::map<std::int64_t, Index> row_of;
  for (Index r = 0; r < key.size(); ++r) row_of[static_cast<std::int64_t>(key[r])] = r;
  Truth t;
  const auto n = static_cast<Index>(keys.size());
  t.tau.resize(n);
  t.mu0.resize(n);
  t.propensity.resize(n);
  const std::vector<std::string>& names = table.strings("segment_name");
  t.segment_names.assign(6, "");
  for (Index i = 0; i < n; ++i) {
    const auto it = row_of.find(keys[static_cast<std::size_t>(i)]);
    if (it == row_of.end()) return std::nullopt;
    const Index r = it->second;
    t.tau[i] = table.numeric("tau")[r];
    t.mu0[i] = table.numeric("mu0")[r];
    t.propensity[i] = table.numeric("propensity")[r];
    const auto g = static_cast<Index>(table.numeric("segment")[r]);
    t.segment.push_back(g);
    if (g >= 0 && g < 6)
      t.segment_names[static_cast<std::size_t>(g)] = names[static_cast<std::size_t>(r)];
  }
  return t;
}

int run(const Options& opt) {
  const auto start = std::chrono::steady_clock::now();
  tailor::ProgressCallback progress;
  if (!opt.quiet) progress = tailor::ProgressBar();

  // 1. Files, campaign, treatment, outcome.
  ScratchDir scratch;
  const fs::path data_dir =
      decompress_if_needed(opt.data_dir, scratch, "tailor_targeting", opt.quiet);
  const dh::Files files = opt.flavour == "auto"
                              ? dh::locate_files(data_dir)
                              : dh::locate_files(data_dir, dh::parse_flavour(opt.flavour));
  const std::vector<dh::Campaign> campaigns = dh::read_campaigns(files);
  const std::vector<dh::CampaignMember> members = dh::read_campaign_members(files);
  if (campaigns.empty() || members.empty()) {
    throw tailor::Error("the data has no campaign descriptions or no campaign members");
  }
  std::map<std::int64_t, Index> campaign_size;
  for (const auto& m : members) ++campaign_size[m.campaign];
  const dh::Campaign* chosen = nullptr;
  for (const auto& c : campaigns) {
    if (c.type != "TypeA") continue;
    if (opt.campaign != 0
            ? c.id == opt.campaign
            : (chosen == nullptr || campaign_size[c.id] > campaign_size[chosen->id])) {
      chosen = &c;
    }
  }
  if (chosen == nullptr) {
    throw tailor::Error(
        fmt::format("no TypeA campaign {} in the campaign descriptions",
                    opt.campaign == 0 ? std::string() : std::to_string(opt.campaign)));
  }
  const dh::HouseholdFeatures features =
      dh::build_features(files, {.window = {std::numeric_limits<int>::min(), chosen->start_day - 1},
                                 .top_commodities = opt.top_commodities});
  const dh::HouseholdSpend window =
      dh::spend_in_window(files, {chosen->start_day, chosen->end_day});
  if (window.household_keys != features.household_keys) {
    throw tailor::Error("the outcome and the features cover different households");
  }
  const auto n = static_cast<Index>(features.household_keys.size());
  Vector w = Vector::Zero(n);
  for (const auto& m : members) {
    if (m.campaign != chosen->id) continue;
    const auto it = std::lower_bound(features.household_keys.begin(), features.household_keys.end(),
                                     m.household_key);
    if (it != features.household_keys.end() && *it == m.household_key) {
      w[it - features.household_keys.begin()] = 1.0;
    }
  }
  const Vector& y = window.spend;
  fmt::print("data: {} ({} flavour), {} transaction rows\n", opt.data_dir,
             dh::to_string(files.flavour), features.rows_read);
  fmt::print(
      "campaign {} ({}), days {}..{}: {} of {} households treated ({:.1f}%); outcome = spend in "
      "the window (mean {:.2f} treated, {:.2f} untreated: a naive difference of {:.2f})\n",
      chosen->id, chosen->type, chosen->start_day, chosen->end_day, static_cast<Index>(w.sum()), n,
      100 * w.mean(), w.dot(y) / w.sum(), (1 - w.array()).matrix().dot(y) / (n - w.sum()),
      w.dot(y) / w.sum() - (1 - w.array()).matrix().dot(y) / (n - w.sum()));

  // 2. Segments of the pre-campaign behaviour (log(1 + x) for skewed columns; the segmenter
  // scales columns to [0, 1] and runs NMF + K-Means).
  Matrix behaviour = features.values;
  for (Index j = 0; j < behaviour.cols(); ++j) {
    if (is_log_feature(features.feature_names[static_cast<std::size_t>(j)])) {
      behaviour.col(j) = behaviour.col(j).array().log1p().matrix();
    }
  }
  const Index k = std::min(opt.segments, n - 1);
  const tailor::segment::SegmenterModel segmenter =
      tailor::segment::Segmenter({.scaling = tailor::segment::Scaling::max_abs,
                                  .nmf = {.num_components = std::min(opt.factors, behaviour.cols()),
                                          .max_iter = 400,
                                          .seed = opt.seed,
                                          .num_threads = opt.threads},
                                  .kmeans = {.num_clusters = k,
                                             .n_init = 10,
                                             .seed = opt.seed,
                                             .num_threads = opt.threads}})
          .fit(behaviour);
  const std::vector<Index>& segments = segmenter.labels();

  // 3. Covariates: behaviour features, demographics, segment one-hots.
  std::vector<std::string> names = features.feature_names;
  std::vector<Vector> extra;
  const auto add = [&](std::string name, Vector column) {
    names.push_back(std::move(name));
    extra.push_back(std::move(column));
  };
  if (features.demographics.has_column("age")) {
    const auto& table = features.demographics;
    Vector has(n), age(n), income(n), size(n), kids(n), owner(n), married(n);
    for (Index i = 0; i < n; ++i) {
      const auto r = static_cast<std::size_t>(i);
      has[i] = table.strings("age")[r].empty() ? 0.0 : 1.0;
      const auto number = [&](const char* column) {
        const double v = leading_number(table.strings(column)[r]);
        return std::isnan(v) ? 0.0 : v;
      };
      age[i] = number("age");
      income[i] = number("income");
      size[i] = number("household_size");
      kids[i] = number("kids");
      const std::string& home = table.strings("homeowner")[r];
      owner[i] = home.find("wner") != std::string::npos ? 1.0 : 0.0;  // Homeowner, Probable Owner
      const std::string& marital = table.strings("marital_status")[r];
      married[i] = (marital == "A" || marital == "Married") ? 1.0 : 0.0;
    }
    add("demo:has_row", has);
    add("demo:age", age);
    add("demo:income_k", income);
    add("demo:household_size", size);
    add("demo:kids", kids);
    add("demo:homeowner", owner);
    add("demo:married", married);
  }
  for (Index s = 0; s < k; ++s) {
    Vector one_hot(n);
    for (Index i = 0; i < n; ++i) one_hot[i] = segments[static_cast<std::size_t>(i)] == s ? 1 : 0;
    add(fmt::format("segment:S{}", s + 1), one_hot);
  }
  Matrix X(n, features.values.cols() + static_cast<Index>(extra.size()));
  X.leftCols(features.values.cols()) = features.values;
  for (std::size_t j = 0; j < extra.size(); ++j) {
    X.col(features.values.cols() + static_cast<Index>(j)) = extra[j];
  }
  fmt::print(
      "covariates: {} households × {} columns (pre-campaign behaviour up to day {}, {}, "
      "{} segment indicators)\n",
      n, X.cols(), chosen->start_day - 1,
      features.demographics.has_column("age") ? "7 demographic columns" : "no demographics", k);
  const tailor::CausalData data(X, w, y);
  const std::optional<Truth> truth = read_truth(opt.data_dir, features.household_keys);

  // 4. The pipelines: causal forest (main) and the meta-learners.
  const pl::PolicyRule rule = pl::PolicyRule::treat_if_above(opt.cost);
  const auto pipeline_params = [&](auto estimator) {
    using E = decltype(estimator);
    return pl::TargetingParams<E>{.effect = std::move(estimator),
                                  .policy = rule,
                                  .num_folds = opt.folds,
                                  .seed = opt.seed,
                                  .num_threads = 1,
                                  .progress = progress};
  };
  const tailor::learn::ForestParams regression{.num_trees = opt.learner_trees,
                                               .min_node_size = 5,
                                               .seed = opt.seed,
                                               .num_threads = opt.threads};
  const tailor::learn::ClassificationForestParams classification{
      .forest = {.num_trees = opt.learner_trees,
                 .min_node_size = 5,
                 .seed = opt.seed,
                 .num_threads = opt.threads}};
  const tailor::cate::MetaLearnerParams meta{
      .num_folds = std::min<Index>(opt.folds, 5), .seed = opt.seed, .num_threads = opt.threads};
  const tailor::learn::RegressionForest outcome_forest(regression);
  const tailor::learn::ClassificationForest propensity_forest(classification);

  std::vector<EstimatorRow> rows;
  auto fit_timed = [&](const std::string& name, auto estimator) {
    if (!opt.quiet) fmt::print(stderr, "fitting {} ...\n", name);
    const auto t0 = std::chrono::steady_clock::now();
    auto result = pl::TargetingPipeline<decltype(estimator)>(pipeline_params(std::move(estimator)))
                      .fit(data, {.segments = segments});
    rows.push_back(summarize(name, result, seconds_since(t0)));
    return result;
  };
  const auto forest = fit_timed(
      "causal forest",
      tailor::cate::CausalForest(
          {.forest = {.num_trees = opt.trees, .seed = opt.seed, .num_threads = opt.threads},
           .nuisance_num_trees = opt.learner_trees}));
  if (!opt.skip_meta_learners) {
    using RF = tailor::learn::RegressionForest;
    using CF = tailor::learn::ClassificationForest;
    fit_timed("S-learner", tailor::cate::SLearner<RF, CF>(meta, outcome_forest, propensity_forest));
    fit_timed("T-learner", tailor::cate::TLearner<RF, CF>(meta, outcome_forest, propensity_forest));
    fit_timed("X-learner", tailor::cate::XLearner<RF, CF>(meta, outcome_forest, propensity_forest));
    fit_timed("R-learner", tailor::cate::RLearner<RF, CF>(meta, outcome_forest, propensity_forest));
    fit_timed("DR-learner",
              tailor::cate::DRLearner<RF, CF>(meta, outcome_forest, propensity_forest));
  }

  // 5. Overlap, in plain words.
  const auto& overlap = forest.overlap;
  const auto& nu = forest.effect_model.nuisances();
  fmt::print("\nOverlap (causal forest's out-of-bag propensity ê):\n");
  fmt::print(
      "  propensity AUC {:.3f}; ê in [{:.3f}, {:.3f}]; {:.1f}% of households outside [{}, {}]; "
      "effective sample size {:.0f} of {} treated, {:.0f} of {} untreated\n",
      overlap.propensity_auc, overlap.min_propensity, overlap.max_propensity,
      100 * overlap.share_outside, overlap.epsilon, 1 - overlap.epsilon, overlap.ess_treated,
      overlap.num_treated, overlap.ess_control, overlap.num_control);
  fmt::print("  {}\n", overlap.verdict);
  bool finite = forest.cate.allFinite() && forest.dr_scores.allFinite() &&
                std::isfinite(forest.evaluation.learned.estimate.std_error);
  for (const auto& r : rows)
    finite = finite && r.cate.allFinite() && std::isfinite(r.ate.std_error);
  const tailor::Estimate att =
      forest.effect_model.average_effect(tailor::cate::TargetSample::treated);
  if (overlap.poor) {
    const std::string how =
        overlap.propensity_auc >= 0.95
            ? "treated and untreated households are nearly separable"
            : "a sizeable share of households had almost no chance (or almost certainly got it)";
    fmt::print(
        "  In plain words: the campaign went mostly to households that already spent a lot, so\n"
        "  {}. ê is clipped into [0.01, 0.99], so no household weighs more than 100\n"
        "  and every estimate stays finite ({}), but effects for households unlike any in the\n"
        "  other group are extrapolated from the outcome models: read the intervals as optimistic\n"
        "  there, and prefer the effect on the treated (ATT {:.2f}, 95% {}) to the ATE.\n",
        how, finite ? "checked: all finite" : "WARNING: some are not finite", att.value,
        interval_text(att.confidence_interval()));
  } else {
    fmt::print(
        "  In plain words: treated and untreated households overlap well enough; all "
        "estimates finite: {}.\n",
        finite ? "yes" : "NO");
  }

  // 6. Estimators side by side.
  fmt::print(
      "\nEstimators (policy = {}; values are mean spend per household in the window,\n"
      "doubly robust, on {} folds: each household's decision comes from a model fitted "
      "without it):\n",
      rule.describe(), opt.folds);
  fmt::print(
      "  (ATE = AIPW on each fit's own cross-fitted nuisances; the T/X/R/DR-learners share "
      "their nuisance\n  learners and folds, so their ATEs coincide and only tau(x) "
      "differs)\n");
  fmt::print("  {:<14} {:>8} {:>18} {:>7} {:>9} {:>9} {:>20} {:>20} {:>7}\n", "estimator", "ATE",
             "ATE 95% CI", "AUC", "treated", "V(learn)", "learned - none", "learned - all", "sec");
  for (const auto& r : rows) {
    fmt::print(
        "  {:<14} {:>8.2f} {:>18} {:>7.3f} {:>8.1f}% {:>9.2f} {:>7.2f} {:>12} {:>7.2f} {:>12} "
        "{:>7.1f}\n",
        r.name, r.ate.value, interval_text(r.ate_interval), r.propensity_auc, 100 * r.share_treated,
        r.evaluation.learned.estimate.value, r.evaluation.learned_minus_treat_none.estimate.value,
        interval_text(r.evaluation.learned_minus_treat_none.interval),
        r.evaluation.learned_minus_treat_all.estimate.value,
        interval_text(r.evaluation.learned_minus_treat_all.interval), r.seconds);
  }

  // 7. Effects by segment (causal forest's AIPW scores), sleeping dogs.
  fmt::print("\nEffect by segment (AIPW on the causal forest's nuisances, 95% interval):\n");
  fmt::print("  {:<4} {:>6} {:>8} {:>12} {:>9} {:>8} {:>18}  {}\n", "seg", "size", "treated",
             "pre-spend", "mean τ̂", "AIPW", "95% CI", "");
  const Index spend_col = features.column("monetary_spend");
  std::vector<double> segment_treated(static_cast<std::size_t>(k), 0),
      segment_spend(static_cast<std::size_t>(k), 0), segment_tau(static_cast<std::size_t>(k), 0);
  std::vector<Index> segment_size(static_cast<std::size_t>(k), 0);
  for (Index i = 0; i < n; ++i) {
    const auto s = static_cast<std::size_t>(segments[static_cast<std::size_t>(i)]);
    ++segment_size[s];
    segment_treated[s] += w[i];
    segment_spend[s] += features.values(i, spend_col);
    segment_tau[s] += forest.cate[i];
  }
  for (const auto& g : forest.segment_effects) {
    const auto s = static_cast<std::size_t>(g.group);
    const double m = static_cast<double>(segment_size[s]);
    fmt::print("  S{:<3} {:>6} {:>7.0f}% {:>12.0f} {:>9.2f} {:>8.2f} {:>18}  {}\n", g.group + 1,
               g.size, 100 * segment_treated[s] / m, segment_spend[s] / m, segment_tau[s] / m,
               g.effect.value, interval_text(g.interval),
               g.significantly_negative   ? "significantly negative"
               : g.significantly_positive ? "significantly positive"
                                          : "");
  }
  const auto dogs = forest.sleeping_dogs();
  Index negative_tau = (forest.cate.array() < 0).count();
  fmt::print("Sleeping dogs (segments whose effect is significantly negative): {}\n",
             dogs.empty() ? std::string("none at 95%") : "");
  for (const auto& g : dogs) {
    fmt::print("  S{}: {} households, effect {:.2f} {}\n", g.group + 1, g.size, g.effect.value,
               interval_text(g.interval));
  }
  fmt::print("Households with τ̂ < 0 (out-of-fold causal forest): {} of {} ({:.1f}%)\n",
             negative_tau, n, 100.0 * static_cast<double>(negative_tau) / static_cast<double>(n));

  // 8. Policies on the same folds: threshold (fitted), capacity budget, depth-2 policy tree.
  const IndexVector top = forest.decide(pl::PolicyRule::top(opt.top_share));
  const pl::PolicyEvaluation top_eval = forest.evaluate(top, 0.95);
  const tailor::policy::PolicyTree tree_learner(
      {.depth = opt.tree_depth, .max_bins = 32, .num_threads = static_cast<int>(opt.threads)});
  const tailor::ope::TargetPolicy tree_policy = tailor::ope::cross_fit_policy(
      forest.folds, 2, [&](Index, const std::vector<Index>& train, const std::vector<Index>& test) {
        const Matrix Xtrain = X(train, Eigen::all);
        const Matrix scores = forest.dr_scores(train, Eigen::all);
        const Matrix Xtest = X(test, Eigen::all);
        return tailor::ope::TargetPolicy::deterministic(
            tree_learner.fit(Xtrain, scores).predict(Xtest), 2);
      });
  const IndexVector tree_decisions = tree_policy.actions();
  const pl::PolicyEvaluation tree_eval = forest.evaluate(tree_decisions, 0.95);
  const tailor::policy::PolicyTreeModel tree = tree_learner.fit(X, forest.dr_scores);

  struct PolicyLine {
    std::string name;
    double share;
    pl::PolicyEvaluation eval;
  };
  const std::vector<PolicyLine> policies = {
      {rule.describe(), forest.share_treated, forest.evaluation},
      {fmt::format("top {:.0f}% by τ̂ (capacity budget)", 100 * opt.top_share),
       static_cast<double>(top.sum()) / static_cast<double>(n), top_eval},
      {fmt::format("depth-{} policy tree on DR scores", opt.tree_depth),
       static_cast<double>(tree_decisions.sum()) / static_cast<double>(n), tree_eval}};
  fmt::print(
      "\nPolicies (causal forest; cross-fitted on {} folds; DR value per household, 95% CI):\n",
      opt.folds);
  fmt::print("  {:<40} {:>8} {:>8} {:>18} {:>8} {:>18} {:>8} {:>18}\n", "policy", "treated",
             "value", "95% CI", "- none", "95% CI", "- all", "95% CI");
  for (const auto& p : policies) {
    fmt::print("  {:<40} {:>7.1f}% {:>8.2f} {:>18} {:>8.2f} {:>18} {:>8.2f} {:>18}\n", p.name,
               100 * p.share, p.eval.learned.estimate.value, interval_text(p.eval.learned.interval),
               p.eval.learned_minus_treat_none.estimate.value,
               interval_text(p.eval.learned_minus_treat_none.interval),
               p.eval.learned_minus_treat_all.estimate.value,
               interval_text(p.eval.learned_minus_treat_all.interval));
  }
  const auto& ev = forest.evaluation;
  fmt::print("  {:<40} {:>7.1f}% {:>8.2f} {:>18}\n", "treat all", 100.0,
             ev.treat_all.estimate.value, interval_text(ev.treat_all.interval));
  fmt::print("  {:<40} {:>7.1f}% {:>8.2f} {:>18}\n", "treat none", 0.0,
             ev.treat_none.estimate.value, interval_text(ev.treat_none.interval));
  fmt::print(
      "  (a public study of the real data targeted about 31% of households; ours: {:.1f}% by "
      "the threshold rule, {:.1f}% by the tree)\n",
      100 * forest.share_treated,
      100 * static_cast<double>(tree_decisions.sum()) / static_cast<double>(n));
  fmt::print("Policy tree fitted on all households:\n{}", tree.describe(names));

  // 9. The planted truth (synthetic sample only).
  std::string truth_html;
  if (truth) {
    const Truth& t = *truth;
    const auto true_value = [&](const IndexVector& d) {
      double total = 0;
      for (Index i = 0; i < n; ++i) total += t.mu0[i] + (d[i] == 1 ? t.tau[i] - opt.cost : 0.0);
      return total / static_cast<double>(n);
    };
    const IndexVector oracle = tailor::policy::treat_if_above(t.tau, opt.cost);
    const double true_auc = tailor::metrics::roc_auc(w, t.propensity);
    double true_att = 0;
    for (Index i = 0; i < n; ++i) true_att += w[i] * t.tau[i];
    true_att /= w.sum();
    fmt::print("\nPlanted truth of the synthetic sample (truth_households.csv):\n");
    fmt::print("  true ATE {:.2f} (forest AIPW {:.2f}, 95% {}); true ATT {:.2f} (forest {:.2f})\n",
               t.tau.mean(), forest.average_effect.value,
               interval_text(forest.average_effect_interval), true_att, att.value);
    fmt::print("  true propensity AUC {:.3f} (estimated {:.3f})\n", true_auc,
               overlap.propensity_auc);
    fmt::print("  {:<14} {:>12} {:>8}\n", "estimator", "corr(τ̂, τ)", "RMSE");
    for (const auto& r : rows) {
      fmt::print("  {:<14} {:>12.3f} {:>8.2f}\n", r.name, correlation(r.cate, t.tau),
                 tailor::metrics::rmse(t.tau, r.cate));
    }
    fmt::print("  {:<40} {:>8} {:>11} {:>11}\n", "policy", "treated", "true value", "DR value");
    for (const auto& p : policies) {
      const IndexVector& d = p.name == policies[0].name   ? forest.treat
                             : p.name == policies[1].name ? top
                                                          : tree_decisions;
      fmt::print("  {:<40} {:>7.1f}% {:>11.2f} {:>11.2f}\n", p.name, 100 * p.share, true_value(d),
                 p.eval.learned.estimate.value);
    }
    fmt::print("  {:<40} {:>7.1f}% {:>11.2f}\n", "oracle: treat if τ > cost",
               100.0 * static_cast<double>(oracle.sum()) / static_cast<double>(n),
               true_value(oracle));
    fmt::print("  {:<40} {:>8} {:>11.2f} {:>11.2f}\n", "treat all", "",
               true_value(IndexVector::Ones(n)), ev.treat_all.estimate.value);
    fmt::print("  {:<40} {:>8} {:>11.2f} {:>11.2f}\n", "treat none", "", t.mu0.mean(),
               ev.treat_none.estimate.value);
    IndexVector planted(n);
    for (Index i = 0; i < n; ++i) planted[i] = t.segment[static_cast<std::size_t>(i)];
    const auto by_planted =
        tailor::policy::effects_by_group(forest.effect_model.doubly_robust_scores(), planted);
    fmt::print("  planted segment     size  true τ  mean τ̂     AIPW 95% CI\n");
    truth_html +=
        "<table><tr><th class='l'>planted segment</th><th>households</th><th>true τ</th>"
        "<th>mean τ̂</th><th>AIPW</th><th>95% CI</th></tr>\n";
    for (const auto& g : by_planted) {
      double tau_sum = 0, hat_sum = 0;
      for (Index i = 0; i < n; ++i) {
        if (planted[i] != g.group) continue;
        tau_sum += t.tau[i];
        hat_sum += forest.cate[i];
      }
      const auto m = static_cast<double>(g.size);
      const std::string& name = t.segment_names[static_cast<std::size_t>(g.group)];
      fmt::print("  {:<17} {:>6} {:>7.2f} {:>7.2f} {:>7.2f} {}\n", name, g.size, tau_sum / m,
                 hat_sum / m, g.effect.value, interval_text(g.interval));
      truth_html += fmt::format(
          "<tr><td class='l'>{}</td><td>{}</td><td>{:.2f}</td><td>{:.2f}</td><td>{:.2f}</td>"
          "<td>{}</td></tr>\n",
          html_escape(name), g.size, tau_sum / m, hat_sum / m, g.effect.value,
          interval_text(g.interval));
    }
    truth_html += "</table>\n";
    truth_html =
        fmt::format(
            "<h2>Planted truth (synthetic sample)</h2><table>"
            "<tr><td class='l'>true ATE</td><td>{:.2f}</td><td class='l'>forest AIPW "
            "{:.2f} {}</td></tr>"
            "<tr><td class='l'>true propensity AUC</td><td>{:.3f}</td><td "
            "class='l'>estimated {:.3f}</td></tr>"
            "<tr><td class='l'>corr(τ̂, τ), causal forest</td><td>{:.3f}</td><td "
            "class='l'>RMSE {:.2f}</td></tr>"
            "<tr><td class='l'>true value of the learned policy</td><td>{:.2f}</td><td "
            "class='l'>DR estimate {:.2f}; oracle policy {:.2f}</td></tr></table>\n",
            t.tau.mean(), forest.average_effect.value,
            interval_text(forest.average_effect_interval), true_auc, overlap.propensity_auc,
            correlation(forest.cate, t.tau), tailor::metrics::rmse(t.tau, forest.cate),
            true_value(forest.treat), ev.learned.estimate.value, true_value(oracle)) +
        truth_html;
  }

  // 10. Files: household_effects.csv and the HTML report.
  const fs::path out_dir = opt.output_dir;
  fs::create_directories(out_dir);
  {
    tailor::io::Table table("household_effects");
    Vector keys(n), seg(n), treat_rule(n), treat_top(n), treat_tree(n);
    for (Index i = 0; i < n; ++i) {
      keys[i] = static_cast<double>(features.household_keys[static_cast<std::size_t>(i)]);
      seg[i] = static_cast<double>(segments[static_cast<std::size_t>(i)] + 1);
      treat_rule[i] = static_cast<double>(forest.treat[i]);
      treat_top[i] = static_cast<double>(top[i]);
      treat_tree[i] = static_cast<double>(tree_decisions[i]);
    }
    table.add_numeric("household_key", keys);
    table.add_numeric("treated", w);
    table.add_numeric("window_spend", y);
    table.add_numeric("segment", seg);
    table.add_numeric("propensity", nu.propensity);
    table.add_numeric("tau_hat", forest.cate);
    table.add_numeric("treat_threshold", treat_rule);
    table.add_numeric("treat_top_share", treat_top);
    table.add_numeric("treat_policy_tree", treat_tree);
    tailor::io::write_csv(table, out_dir / "household_effects.csv");
  }
  const tailor::uplift::Curve qini = tailor::uplift::qini_curve(
      y, w, forest.cate, {.propensity = nu.propensity, .mu0 = nu.mu0, .mu1 = nu.mu1});
  const fs::path report_path = out_dir / "targeting_report.html";
  {
    std::ofstream html(report_path, std::ios::binary);
    html << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>Campaign targeting — Dunnhumby The Complete Journey</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;"
            "color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px "
            "solid #ddd}table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;"
            "border-bottom:1px solid #eee;text-align:right}td.l,th.l{text-align:left}"
            ".charts{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555;font-size:13px}"
            ".warn{background:#fff4e5;border-left:4px solid #f0a030;padding:8px 12px}"
            "pre{background:#f6f6f6;padding:8px}</style></head><body>\n";
    html << "<h1>Whom to send TypeA campaign " << chosen->id
         << " — Dunnhumby “The Complete Journey”</h1>\n";
    html << fmt::format(
        "<p class='note'>Data: <code>{}</code> ({} flavour). {} households, {} treated ({:.1f}%). "
        "Outcome: spend during days {}–{}. Covariates: {} columns of behaviour before day {}, "
        "demographics and {} segments (NMF + K-Means).</p>\n",
        html_escape(opt.data_dir), dh::to_string(files.flavour), n, static_cast<Index>(w.sum()),
        100 * w.mean(), chosen->start_day, chosen->end_day, X.cols(), chosen->start_day, k);
    html << "<h2>Overlap</h2>\n<p class='" << (overlap.poor ? "warn" : "note") << "'>"
         << html_escape(overlap.verdict) << "</p>\n";
    html << fmt::format(
        "<p class='note'>Propensity AUC {:.3f}, ê in [{:.3f}, {:.3f}], ATT {:.2f} {}. ê is "
        "clipped into [0.01, 0.99]; all estimates finite: {}.</p>\n",
        overlap.propensity_auc, overlap.min_propensity, overlap.max_propensity, att.value,
        interval_text(att.confidence_interval()), finite ? "yes" : "no");
    html << "<h2>Estimators</h2><table><tr><th class='l'>estimator</th><th>ATE</th><th>95% "
            "CI</th><th>propensity AUC</th><th>treated</th><th>value</th><th>learned − "
            "none</th><th>learned − all</th></tr>\n";
    for (const auto& r : rows) {
      html << fmt::format(
          "<tr><td class='l'>{}</td><td>{:.2f}</td><td>{}</td><td>{:.3f}</td><td>{:.1f}%</td>"
          "<td>{:.2f}</td><td>{:.2f} {}</td><td>{:.2f} {}</td></tr>\n",
          r.name, r.ate.value, interval_text(r.ate_interval), r.propensity_auc,
          100 * r.share_treated, r.evaluation.learned.estimate.value,
          r.evaluation.learned_minus_treat_none.estimate.value,
          interval_text(r.evaluation.learned_minus_treat_none.interval),
          r.evaluation.learned_minus_treat_all.estimate.value,
          interval_text(r.evaluation.learned_minus_treat_all.interval));
    }
    html << "</table>\n<h2>Policies (causal forest, cross-fitted)</h2><table><tr><th "
            "class='l'>policy</th><th>treated</th><th>DR value</th><th>95% CI</th><th>− treat "
            "none</th><th>− treat all</th></tr>\n";
    for (const auto& p : policies) {
      html << fmt::format(
          "<tr><td class='l'>{}</td><td>{:.1f}%</td><td>{:.2f}</td><td>{}</td><td>{:.2f} "
          "{}</td><td>{:.2f} {}</td></tr>\n",
          html_escape(p.name), 100 * p.share, p.eval.learned.estimate.value,
          interval_text(p.eval.learned.interval), p.eval.learned_minus_treat_none.estimate.value,
          interval_text(p.eval.learned_minus_treat_none.interval),
          p.eval.learned_minus_treat_all.estimate.value,
          interval_text(p.eval.learned_minus_treat_all.interval));
    }
    html << fmt::format(
        "<tr><td class='l'>treat all</td><td>100%</td><td>{:.2f}</td><td>{}</td><td></td><td></td>"
        "</tr><tr><td class='l'>treat none</td><td>0%</td><td>{:.2f}</td><td>{}</td><td></td>"
        "<td></td></tr></table>\n",
        ev.treat_all.estimate.value, interval_text(ev.treat_all.interval),
        ev.treat_none.estimate.value, interval_text(ev.treat_none.interval));
    html << "<div class='charts'>\n"
         << svg_qini(qini, forest.share_treated)
         << svg_histogram(forest.cate, opt.cost, "Out-of-fold τ̂ (causal forest)") << "</div>\n";
    html << "<h2>Effects by segment</h2>\n" << svg_segment_effects(forest.segment_effects);
    html << "<p class='note'>Sleeping dogs (significantly negative): ";
    if (dogs.empty()) html << "none at 95%.";
    for (const auto& g : dogs) {
      html << fmt::format("S{} ({} households, {:.2f} {}) ", g.group + 1, g.size, g.effect.value,
                          interval_text(g.interval));
    }
    html << "</p>\n<h2>Policy tree</h2>\n" << svg_policy_tree(tree, names);
    html << "<pre>" << html_escape(tree.describe(names)) << "</pre>\n";
    html << truth_html;
    html << "<p class='note'>Generated by tailor's dunnhumby_targeting example. Values are mean "
            "spend per household over the campaign window, net of the cost per treated household ("
         << opt.cost << ").</p>\n</body></html>\n";
    if (!html) throw tailor::Error(fmt::format("cannot write '{}'", report_path.string()));
  }
  fmt::print("\nwrote {} and {} in {:.1f} s\n", (out_dir / "household_effects.csv").string(),
             report_path.string(), seconds_since(start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Whom to target with a Dunnhumby TypeA campaign: CATE (meta-learners, causal forest), "
      "policies with budgets, doubly-robust off-policy values and an HTML report"};
  Options opt;
  app.add_option("--data", opt.data_dir, "Directory with the CSVs (either flavour; .csv.gz ok)")
      ->capture_default_str();
  app.add_option("--flavour", opt.flavour, "File flavour")
      ->check(CLI::IsMember({"auto", "original", "completejourney"}))
      ->capture_default_str();
  app.add_option("--output,--out", opt.output_dir, "Directory for the report and the CSV")
      ->capture_default_str();
  app.add_option("--campaign", opt.campaign, "TypeA campaign id (0 = the largest TypeA campaign)")
      ->capture_default_str();
  app.add_option("--cost", opt.cost, "Cost of treating one household ($); treat if τ̂ > cost")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--top-share", opt.top_share, "Capacity budget: share of households to target")
      ->check(CLI::Range(0.001, 1.0))
      ->capture_default_str();
  app.add_option("--segments", opt.segments, "Number of household segments")
      ->check(CLI::Range(2, 50))
      ->capture_default_str();
  app.add_option("--factors", opt.factors, "NMF factors of the segmentation")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  app.add_option("--folds", opt.folds, "Folds of the honest (cross-fitted) policy evaluation")
      ->check(CLI::Range(2, 20))
      ->capture_default_str();
  app.add_option("--trees", opt.trees, "Trees of the causal forest (even)")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  app.add_option("--learner-trees", opt.learner_trees,
                 "Trees of each nuisance / meta-learner forest")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--tree-depth", opt.tree_depth, "Depth of the policy tree")
      ->check(CLI::Range(1, 3))
      ->capture_default_str();
  app.add_option("--top-commodities", opt.top_commodities, "Commodity share features")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_flag("--skip-meta-learners", opt.skip_meta_learners, "Fit the causal forest only");
  app.add_option("--seed", opt.seed, "Seed of every random choice")->capture_default_str();
  app.add_option("--threads", opt.threads, "Threads (0 = all cores; results do not depend on it)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--quiet", opt.quiet, "No progress bars");
  CLI11_PARSE(app, argc, argv);
  if (opt.trees % 2 != 0) ++opt.trees;
  try {
    return run(opt);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dunnhumby_targeting: {}\n", e.what());
    return 1;
  }
}
