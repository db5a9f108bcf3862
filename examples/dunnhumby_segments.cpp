// dunnhumby_segments — customer segmentation of Dunnhumby "The Complete Journey" households:
// household features (io/dunnhumby.hpp) → NMF latent factors → K-Means segments, with the number
// of factors and of segments chosen from explained variance, bootstrap stability (adjusted Rand
// index) and silhouette; prints the profile of each segment and writes segments.csv,
// household_features.csv and a self-contained HTML report with SVG charts.
//
//   dunnhumby_segments                      # the bundled synthetic sample (examples/data)
//   dunnhumby_segments --data DIR [--flavour auto|original|completejourney] [--out DIR]
//                      [--k K] [--factors R] [--last-day D] ...   (--help lists everything)
//
// Pipeline. Skewed behaviour features (recency, counts, money) enter as log(1 + x); every column
// is then divided by its maximum so all lie in [0, 1] (NMF needs X ≥ 0). NMF X ≈ W·H gives
// factor scores W (households × R) and components H (the factors' feature loadings). Segments
// are K-Means clusters of the standardized factor scores (z-scores put every factor on one scale,
// so a factor carried by a few large columns does not dominate the distances).
// Choosing R: the smallest rank whose uncentered explained variance 1 − ‖X−WH‖²/‖X‖² reaches
// --ev-target (the centered one, 1 − ‖X−WH‖²/‖X−X̄‖², is reported beside it).
// Choosing k: among k_min..k_max, the k with the best silhouette among those whose mean
// bootstrap ARI reaches --min-stability (else the most stable k); its stability is then
// re-estimated with --bootstrap resamples and reported with a percentile interval.
// When the data directory holds truth_households.csv (the synthetic data), the ARI of the
// segments against the planted segments is printed too.
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
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include "common/example_support.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/io/dunnhumby.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/profiles.hpp"
#include "tailor/segment/quality.hpp"
#include "tailor/segment/stability.hpp"

namespace fs = std::filesystem;
namespace dh = tailor::io::dunnhumby;
namespace seg = tailor::segment;
using tailor::Index;
using tailor::Matrix;
using tailor::MatrixRef;
using tailor::Vector;

namespace {

using tailor_examples::decompress_if_needed;
using tailor_examples::html_escape;
using tailor_examples::is_log_feature;
using tailor_examples::ScratchDir;
using tailor_examples::seconds_since;

// -------------------------------------------------------------------------------------------------
// The clusterer: NMF factor scores, standardized, then K-Means (meets segment::Clusterer).
// -------------------------------------------------------------------------------------------------
struct FactorKMeansModel {
  seg::NmfModel nmf;
  Vector score_mean, score_sd;
  seg::KMeansModel kmeans;

  /// Standardized factor scores of (already scaled) rows: the space the segments live in.
  Matrix embed(const MatrixRef& X) const {
    const Matrix W = nmf.transform(X);
    return ((W.rowwise() - score_mean.transpose()).array().rowwise() / score_sd.transpose().array())
        .matrix();
  }
  std::vector<Index> predict(const MatrixRef& X) const { return kmeans.predict(embed(X)); }
  double inertia() const { return kmeans.inertia(); }
};

struct FactorKMeans {
  seg::NmfParams nmf;
  seg::KMeansParams kmeans;

  FactorKMeansModel fit(const MatrixRef& X) const {
    FactorKMeansModel model;
    model.nmf = seg::Nmf(nmf).fit(X);
    const Matrix W = model.nmf.transform(X);
    model.score_mean = W.colwise().mean().transpose();
    model.score_sd = Vector::Ones(W.cols());
    for (Index j = 0; j < W.cols(); ++j) {
      const double sd = std::sqrt((W.col(j).array() - model.score_mean[j]).square().mean());
      if (sd > 0.0) model.score_sd[j] = sd;
    }
    model.kmeans = seg::KMeans(kmeans).fit(model.embed(X));
    return model;
  }
};

// -------------------------------------------------------------------------------------------------
// Small helpers
// -------------------------------------------------------------------------------------------------

/// A number in a short readable form (3 significant digits, thousands without exponent).
std::string short_number(double x) {
  if (!std::isfinite(x)) return "–";
  const double a = std::abs(x);
  if (a >= 1000) return fmt::format("{:.0f}", x);
  if (a >= 100) return fmt::format("{:.0f}", x);
  if (a >= 10) return fmt::format("{:.1f}", x);
  if (a >= 1) return fmt::format("{:.2f}", x);
  return fmt::format("{:.3f}", x);
}

// -------------------------------------------------------------------------------------------------
// SVG charts
// -------------------------------------------------------------------------------------------------
struct Series {
  std::string name;
  std::string color;
  std::vector<double> y;
  std::vector<double> lower, upper;  // optional whiskers
};

/// A line chart over integer x values with optional whiskers; `mark` highlights one x.
std::string svg_line_chart(const std::string& title, const std::string& x_label,
                           const std::vector<Index>& x, const std::vector<Series>& series,
                           double y_min, double y_max, std::optional<Index> mark) {
  const double width = 440, height = 260, left = 52, right = 16, top = 34, bottom = 44;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const double x0 = static_cast<double>(x.front()), x1 = static_cast<double>(x.back());
  const auto px = [&](double v) { return left + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * plot_w; };
  const auto py = [&](double v) {
    return top + plot_h - (std::clamp(v, y_min, y_max) - y_min) / (y_max - y_min) * plot_h;
  };
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
      "font-family='sans-serif' font-size='11'>\n"
      "<text x='{2}' y='18' font-size='13' font-weight='bold'>{3}</text>\n",
      width, height, left, html_escape(title));
  for (int t = 0; t <= 4; ++t) {
    const double v = y_min + (y_max - y_min) * t / 4.0;
    s += fmt::format(
        "<line x1='{0}' x2='{1}' y1='{2:.1f}' y2='{2:.1f}' stroke='#e3e3e3'/>"
        "<text x='{3}' y='{4:.1f}' text-anchor='end' fill='#555'>{5:.2f}</text>\n",
        left, left + plot_w, py(v), left - 6, py(v) + 4, v);
  }
  for (const Index xi : x) {
    s += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle' fill='#555'>{}</text>\n",
                     px(static_cast<double>(xi)), top + plot_h + 16, xi);
  }
  s += fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n",
                   left + plot_w / 2, height - 8, html_escape(x_label));
  if (mark) {
    s += fmt::format(
        "<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2}' stroke='#d62728' stroke-dasharray='4 "
        "3'/>"
        "<text x='{0:.1f}' y='{3}' text-anchor='middle' fill='#d62728'>chosen</text>\n",
        px(static_cast<double>(*mark)), top, top + plot_h, top - 4);
  }
  double legend_x = left + 8;
  for (const Series& line : series) {
    std::string points;
    for (std::size_t i = 0; i < x.size() && i < line.y.size(); ++i) {
      if (!std::isfinite(line.y[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", px(static_cast<double>(x[i])), py(line.y[i]));
    }
    s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='2' points='{}'/>\n",
                     line.color, points);
    for (std::size_t i = 0; i < x.size() && i < line.y.size(); ++i) {
      if (!std::isfinite(line.y[i])) continue;
      const double cx = px(static_cast<double>(x[i]));
      if (i < line.lower.size()) {
        s += fmt::format(
            "<line x1='{0:.1f}' x2='{0:.1f}' y1='{1:.1f}' y2='{2:.1f}' stroke='{3}' "
            "stroke-opacity='0.6'/><line x1='{4:.1f}' x2='{5:.1f}' y1='{1:.1f}' y2='{1:.1f}' "
            "stroke='{3}'/><line x1='{4:.1f}' x2='{5:.1f}' y1='{2:.1f}' y2='{2:.1f}' "
            "stroke='{3}'/>\n",
            cx, py(line.lower[i]), py(line.upper[i]), line.color, cx - 4, cx + 4);
      }
      s += fmt::format(
          "<circle cx='{:.1f}' cy='{:.1f}' r='3.5' fill='{}'><title>{} = {}: {:.3f}</title>"
          "</circle>\n",
          cx, py(line.y[i]), line.color, x_label, x[i], line.y[i]);
    }
    s += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='12' height='3' fill='{}'/>"
        "<text x='{:.1f}' y='{:.1f}'>{}</text>\n",
        legend_x, top + 6, line.color, legend_x + 16, top + 10, html_escape(line.name));
    legend_x += 24 + 6.5 * static_cast<double>(line.name.size());
  }
  s += "</svg>\n";
  return s;
}

/// Horizontal bars: one per segment with its size and share.
std::string svg_size_chart(const seg::SegmentProfiles& profiles,
                           const std::vector<std::string>& segment_names) {
  const double bar_h = 22, gap = 8, left = 44, width = 1000, top = 34;
  const double height = top + static_cast<double>(profiles.segments.size()) * (bar_h + gap) + 10;
  double max_share = 0.0;
  for (const auto& p : profiles.segments) max_share = std::max(max_share, p.share);
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1:.0f}' "
      "viewBox='0 0 {0} {1:.0f}' font-family='sans-serif' font-size='11'>\n"
      "<text x='8' y='18' font-size='13' font-weight='bold'>Segment sizes</text>\n",
      width, height);
  const double plot_w = 380;
  for (std::size_t i = 0; i < profiles.segments.size(); ++i) {
    const auto& p = profiles.segments[i];
    const double y = top + static_cast<double>(i) * (bar_h + gap);
    const double w = max_share > 0 ? p.share / max_share * plot_w : 0.0;
    s += fmt::format(
        "<text x='{:.0f}' y='{:.1f}' text-anchor='end' font-weight='bold'>S{}</text>"
        "<rect x='{:.0f}' y='{:.1f}' width='{:.1f}' height='{}' fill='{}'/>"
        "<text x='{:.1f}' y='{:.1f}'>{} ({:.1f}%) — {}</text>\n",
        left - 8, y + 15, p.label + 1, left, y, w, bar_h, i % 2 == 0 ? "#4c78a8" : "#72b7b2",
        left + w + 6, y + 15, p.size, 100.0 * p.share, html_escape(segment_names[i]));
  }
  s += "</svg>\n";
  return s;
}

/// Diverging colour for a standardized mean difference (blue < 0 < red), clipped at ±1.5.
std::string smd_color(double smd) {
  if (!std::isfinite(smd)) return "#eeeeee";
  const double t = std::clamp(smd / 1.5, -1.0, 1.0);
  const auto mix = [](double a, double b, double u) { return static_cast<int>(a + (b - a) * u); };
  if (t >= 0) return fmt::format("#{:02x}{:02x}{:02x}", 255, mix(255, 90, t), mix(255, 80, t));
  return fmt::format("#{:02x}{:02x}{:02x}", mix(255, 60, -t), mix(255, 120, -t), 255);
}

/// Rows = features and factors, columns = segments; colour = SMD, text = segment mean.
std::string svg_heatmap(const seg::SegmentProfiles& profiles,
                        const std::vector<std::string>& segment_labels) {
  const auto rows = static_cast<double>(profiles.column_names.size());
  const auto cols = static_cast<double>(profiles.segments.size());
  const double cell_w = 78, cell_h = 18, left = 230, top = 64;
  const double width = left + cols * cell_w + 20, height = top + rows * cell_h + 40;
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0:.0f}' height='{1:.0f}' "
      "viewBox='0 0 {0:.0f} {1:.0f}' font-family='sans-serif' font-size='10.5'>\n"
      "<text x='8' y='18' font-size='13' font-weight='bold'>Segment profiles: mean per segment, "
      "coloured by standardized difference vs the other households</text>\n",
      width, height);
  for (std::size_t c = 0; c < profiles.segments.size(); ++c) {
    s += fmt::format(
        "<text x='{:.1f}' y='{:.1f}' text-anchor='middle' font-weight='bold'>{}</text>\n",
        left + (static_cast<double>(c) + 0.5) * cell_w, top - 8, html_escape(segment_labels[c]));
  }
  for (std::size_t r = 0; r < profiles.column_names.size(); ++r) {
    const double y = top + static_cast<double>(r) * cell_h;
    const bool factor = static_cast<Index>(r) >= profiles.num_features;
    s +=
        fmt::format("<text x='{:.0f}' y='{:.1f}' text-anchor='end'{}>{}</text>\n", left - 6, y + 13,
                    factor ? " font-style='italic'" : "", html_escape(profiles.column_names[r]));
    for (std::size_t c = 0; c < profiles.segments.size(); ++c) {
      const auto& p = profiles.segments[c];
      const auto j = static_cast<Index>(r);
      s += fmt::format(
          "<rect x='{:.1f}' y='{:.1f}' width='{}' height='{}' fill='{}' stroke='white'>"
          "<title>{} · {}: mean {:.4g}, lift {:.2f}, SMD {:.2f}</title></rect>"
          "<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n",
          left + static_cast<double>(c) * cell_w, y, cell_w, cell_h, smd_color(p.smd[j]),
          html_escape(segment_labels[c]), html_escape(profiles.column_names[r]), p.mean[j],
          p.lift[j], p.smd[j], left + (static_cast<double>(c) + 0.5) * cell_w, y + 13,
          short_number(p.mean[j]));
    }
  }
  // Legend.
  const double ly = top + rows * cell_h + 14;
  for (int i = 0; i <= 6; ++i) {
    const double v = -1.5 + 0.5 * i;
    s += fmt::format(
        "<rect x='{:.0f}' y='{:.0f}' width='40' height='12' fill='{}'/>"
        "<text x='{:.0f}' y='{:.0f}' text-anchor='middle'>{:+.1f}</text>\n",
        left + 40.0 * i, ly, smd_color(v), left + 40.0 * i + 20, ly + 24, v);
  }
  s += fmt::format("<text x='{:.0f}' y='{:.0f}' text-anchor='end'>SMD</text>\n", left - 6, ly + 10);
  s += "</svg>\n";
  return s;
}

// -------------------------------------------------------------------------------------------------
// The run
// -------------------------------------------------------------------------------------------------
struct Options {
  std::string data_dir = std::string(TAILOR_EXAMPLE_DATA_DIR) + "/dunnhumby";
  std::string flavour = "auto";
  std::string out_dir = ".";
  Index k = 0;
  Index k_min = 2, k_max = 8;
  Index factors = 0;
  Index factor_min = 2, factor_max = 10;
  double ev_target = 0.90;
  double min_stability = 0.6;
  Index scan_bootstrap = 20;
  Index bootstrap = 50;
  int top_commodities = 10;
  int first_day = std::numeric_limits<int>::min();
  int last_day = std::numeric_limits<int>::max();
  std::uint64_t seed = 42;
  Index threads = 0;
  bool quiet = false;
};

struct RankRow {
  Index rank = 0;
  double ev_centered = 0, ev_uncentered = 0;
};

int run(const Options& opt) {
  const auto start = std::chrono::steady_clock::now();
  // 1. Features.
  ScratchDir scratch;
  const fs::path data_dir = decompress_if_needed(opt.data_dir, scratch, "tailor_dunnhumby");
  const dh::Files files = opt.flavour == "auto"
                              ? dh::locate_files(data_dir)
                              : dh::locate_files(data_dir, dh::parse_flavour(opt.flavour));
  const auto load_start = std::chrono::steady_clock::now();
  const dh::HouseholdFeatures features = dh::build_features(
      files, {.window = {opt.first_day, opt.last_day}, .top_commodities = opt.top_commodities});
  const double load_seconds = seconds_since(load_start);
  const Index n = features.num_households();
  const Index p = features.num_features();
  fmt::print("data: {} ({} flavour)\n", opt.data_dir, dh::to_string(files.flavour));
  fmt::print(
      "features: {} households × {} features from {} transaction rows ({} in the window, days "
      "{}..{}, {} baskets) in {:.2f} s ({:.0f} rows/s)\n",
      n, p, features.rows_read, features.rows_in_window, features.first_day, features.reference_day,
      features.num_baskets, load_seconds,
      static_cast<double>(features.rows_read) / std::max(load_seconds, 1e-9));
  if (n < 10) {
    throw tailor::DataError(fmt::format("only {} households; segmentation needs at least 10", n));
  }

  // 2. Model input: log(1 + x) for skewed columns, then columns scaled to [0, 1].
  Matrix X = features.values;
  for (Index j = 0; j < p; ++j) {
    if (is_log_feature(features.feature_names[static_cast<std::size_t>(j)])) {
      X.col(j) = X.col(j).array().log1p().matrix();
    }
    const double m = X.col(j).maxCoeff();
    if (m > 0) X.col(j) /= m;
  }

  // 3. NMF rank: explained variance per rank.
  tailor::ProgressCallback progress;
  if (!opt.quiet) progress = tailor::ProgressBar();
  const Index factor_max = std::min(opt.factor_max, std::min(n, p));
  const Index factor_min = std::min(opt.factor_min, factor_max);
  const seg::NmfParams nmf_base{.max_iter = 400, .seed = opt.seed, .num_threads = opt.threads};
  std::vector<RankRow> ranks;
  for (Index r = factor_min; r <= factor_max; ++r) {
    seg::NmfParams params = nmf_base;
    params.num_components = r;
    const seg::NmfModel m = seg::Nmf(params).fit(X);
    ranks.push_back({r, m.explained_variance_centered(), m.explained_variance_uncentered()});
    tailor::report(progress, "nmf ranks", r - factor_min + 1, factor_max - factor_min + 1);
  }
  Index rank = opt.factors;
  if (rank == 0) {
    rank = ranks.back().rank;
    for (const RankRow& row : ranks) {
      if (row.ev_uncentered >= opt.ev_target) {
        rank = row.rank;
        break;
      }
    }
  }
  fmt::print(
      "\nNMF explained variance by number of factors (uncentered 1-|X-WH|²/|X|², "
      "centered 1-|X-WH|²/|X-mean|²):\n");
  fmt::print("  {:>7} {:>11} {:>9}\n", "factors", "uncentered", "centered");
  for (const RankRow& row : ranks) {
    fmt::print("  {:>7} {:>11.3f} {:>9.3f}{}\n", row.rank, row.ev_uncentered, row.ev_centered,
               row.rank == rank ? "   <- chosen" : "");
  }
  seg::NmfParams nmf_params = nmf_base;
  nmf_params.num_components = rank;
  const seg::KMeansParams kmeans_base{.n_init = 10, .seed = opt.seed, .num_threads = opt.threads};
  const auto make = [&](Index k) {
    seg::KMeansParams km = kmeans_base;
    km.num_clusters = k;
    return FactorKMeans{nmf_params, km};
  };

  // 4. Number of segments.
  std::vector<seg::KSelectionRow> scan;
  Index k = opt.k;
  if (k == 0 || opt.k_max >= opt.k_min) {
    const Index k_max = std::min(opt.k_max, n - 1);
    const Index k_min = std::min(opt.k_min, k_max);
    seg::KSelectionParams params;
    params.stability = {.num_bootstrap = opt.scan_bootstrap,
                        .seed = opt.seed,
                        .num_threads = opt.threads,
                        .progress = progress};
    params.silhouette.seed = opt.seed;
    scan = seg::k_selection(X, k_min, k_max, make, params);
  }
  if (k == 0) {
    const seg::KSelectionRow* best = nullptr;
    for (const auto& row : scan) {
      if (row.stability_mean >= opt.min_stability &&
          (best == nullptr || row.silhouette > best->silhouette)) {
        best = &row;
      }
    }
    if (best == nullptr) {
      for (const auto& row : scan) {
        if (best == nullptr || row.stability_mean > best->stability_mean) best = &row;
      }
    }
    k = best->num_clusters;
  }
  fmt::print("\nSegments by k ({} bootstrap resamples each; ARI vs the full-data fit):\n",
             opt.scan_bootstrap);
  fmt::print("  {:>3} {:>10} {:>17} {:>10} {:>8} {:>10}\n", "k", "ARI mean", "ARI 95% interval",
             "silhouette", "CH", "DB");
  for (const auto& row : scan) {
    fmt::print("  {:>3} {:>10.3f}    [{:>5.3f}, {:>5.3f}] {:>10.3f} {:>8.1f} {:>10.3f}{}\n",
               row.num_clusters, row.stability_mean, row.stability_interval.lower,
               row.stability_interval.upper, row.silhouette, row.calinski_harabasz,
               row.davies_bouldin, row.num_clusters == k ? "   <- chosen" : "");
  }

  // 5. Final fit and its stability.
  const FactorKMeans clusterer = make(k);
  const FactorKMeansModel model = clusterer.fit(X);
  const std::vector<Index> labels = model.predict(X);
  const seg::StabilityReport stability = seg::bootstrap_stability(clusterer, X,
                                                                  {.num_bootstrap = opt.bootstrap,
                                                                   .seed = opt.seed + 1,
                                                                   .num_threads = opt.threads,
                                                                   .progress = progress});
  const double silhouette = seg::silhouette_score(model.embed(X), labels, {.seed = opt.seed});
  const RankRow& chosen_rank =
      *std::find_if(ranks.begin(), ranks.end(), [&](const RankRow& r) { return r.rank == rank; });
  fmt::print(
      "\nChosen: {} factors (explained variance {:.1f}% uncentered, {:.1f}% centered), k = {} "
      "segments\n",
      rank, 100 * chosen_rank.ev_uncentered, 100 * chosen_rank.ev_centered, k);
  fmt::print(
      "Stability: mean bootstrap ARI {:.3f}, {:.0f}% interval [{:.3f}, {:.3f}] over {} "
      "resamples; silhouette {:.3f}\n",
      stability.mean_ari, 100 * stability.level, stability.interval.lower, stability.interval.upper,
      stability.ari.size(), silhouette);
  std::optional<double> truth_ari;
  if (fs::exists(data_dir / "truth_households.csv")) {
    const tailor::io::Table truth = tailor::io::read_csv(data_dir / "truth_households.csv");
    const Vector& keys = truth.numeric("household_key");
    const Vector& planted = truth.numeric("segment");
    std::vector<Index> a, b;
    for (Index i = 0; i < keys.size(); ++i) {
      const auto key = static_cast<std::int64_t>(keys[i]);
      if (!std::binary_search(features.household_keys.begin(), features.household_keys.end(),
                              key)) {
        continue;
      }
      a.push_back(labels[static_cast<std::size_t>(features.row(key))]);
      b.push_back(static_cast<Index>(planted[i]));
    }
    if (!a.empty()) {
      truth_ari = tailor::metrics::adjusted_rand_index(a, b);
      fmt::print("Agreement with the planted segments of the synthetic data: ARI {:.3f}\n",
                 *truth_ari);
    }
  }

  // 6. Factors and profiles.
  const Matrix& H = model.nmf.H();
  std::vector<std::string> factor_names;
  std::vector<std::string> factor_descriptions;
  for (Index f = 0; f < rank; ++f) {
    std::vector<Index> order(static_cast<std::size_t>(p));
    for (Index j = 0; j < p; ++j) order[static_cast<std::size_t>(j)] = j;
    std::sort(order.begin(), order.end(), [&](Index a, Index b) { return H(f, a) > H(f, b); });
    const double total = H.row(f).sum();
    std::string description;
    for (std::size_t t = 0; t < 3 && t < order.size(); ++t) {
      if (t > 0) description += ", ";
      description +=
          fmt::format("{} ({:.0f}%)", features.feature_names[static_cast<std::size_t>(order[t])],
                      total > 0 ? 100 * H(f, order[t]) / total : 0.0);
    }
    factor_names.push_back(fmt::format("factor {}", f + 1));
    factor_descriptions.push_back(description);
  }
  const Matrix W = model.nmf.transform(X);
  const seg::SegmentProfiles profiles = seg::profile_segments(
      features.values, features.feature_names, labels, W, factor_names, {.top_k = 4});
  std::vector<std::string> segment_names;
  std::vector<std::string> segment_labels;
  for (const auto& s : profiles.segments) {
    std::string name;
    for (std::size_t t = 0; t < 2 && t < s.top_features.size(); ++t) {
      const Index j = s.top_features[t];
      if (t > 0) name += ", ";
      name += fmt::format("{} {}", s.smd[j] >= 0 ? "high" : "low",
                          profiles.column_names[static_cast<std::size_t>(j)]);
    }
    segment_labels.push_back(fmt::format("S{}", s.label + 1));
    segment_names.push_back(name);
  }
  fmt::print("\nFactors (largest loadings, share of the factor's total loading):\n");
  for (Index f = 0; f < rank; ++f) {
    fmt::print("  {:<9} {}\n", factor_names[static_cast<std::size_t>(f)],
               factor_descriptions[static_cast<std::size_t>(f)]);
  }
  const std::vector<std::string> headline = {"monetary_spend",    "frequency_baskets",
                                             "basket_spend_mean", "recency_days",
                                             "discount_share",    "weeks_active"};
  fmt::print("\nSegment profiles (means; population in the last row):\n");
  fmt::print("  {:<4} {:>6} {:>6}", "seg", "size", "share");
  for (const auto& h : headline) fmt::print(" {:>17}", h);
  fmt::print("  distinguishing features (SMD)\n");
  for (std::size_t s = 0; s < profiles.segments.size(); ++s) {
    const auto& prof = profiles.segments[s];
    fmt::print("  {:<4} {:>6} {:>5.1f}%", segment_labels[s], prof.size, 100 * prof.share);
    for (const auto& h : headline)
      fmt::print(" {:>17}", short_number(prof.mean[features.column(h)]));
    std::string top;
    for (const Index j : prof.top_features) {
      top += fmt::format("{}{} {:+.2f}", top.empty() ? "" : ", ",
                         profiles.column_names[static_cast<std::size_t>(j)], prof.smd[j]);
    }
    fmt::print("  {}\n", top);
  }
  fmt::print("  {:<4} {:>6} {:>5.1f}%", "all", n, 100.0);
  for (const auto& h : headline) {
    fmt::print(" {:>17}", short_number(profiles.population_mean[features.column(h)]));
  }
  fmt::print("\n");

  // 7. Files.
  const fs::path out_dir = opt.out_dir;
  fs::create_directories(out_dir);
  {
    tailor::io::Table table("segments");
    Vector keys(n), segment(n);
    for (Index i = 0; i < n; ++i) {
      keys[i] = static_cast<double>(features.household_keys[static_cast<std::size_t>(i)]);
      segment[i] = static_cast<double>(labels[static_cast<std::size_t>(i)] + 1);
    }
    table.add_numeric("household_key", keys);
    table.add_numeric("segment", segment);
    for (Index f = 0; f < rank; ++f) table.add_numeric(fmt::format("factor_{}", f + 1), W.col(f));
    tailor::io::write_csv(table, out_dir / "segments.csv");
    tailor::io::write_csv(features.to_table(), out_dir / "household_features.csv");
  }
  const fs::path report_path = out_dir / "dunnhumby_report.html";
  {
    std::ofstream html(report_path, std::ios::binary);
    html << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>Household segments — Dunnhumby The Complete Journey</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;"
            "color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px "
            "solid #ddd}table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;"
            "border-bottom:1px solid #eee;text-align:right}td.l,th.l{text-align:left}"
            "td.top{min-width:300px;font-size:12px}.charts{display:flex;flex-wrap:wrap;gap:12px}."
            "note{color:#555;"
            "font-size:13px}"
            "</style></head><body>\n";
    html << "<h1>Household segments — Dunnhumby “The Complete Journey”</h1>\n";
    html << fmt::format(
        "<p class='note'>Data: <code>{}</code> ({} flavour). {} households × {} features from "
        "{} transaction rows (days {}–{}, {} baskets). Segments: NMF with {} factors, then "
        "K-Means with k = {} on the standardized factor scores.</p>\n",
        html_escape(opt.data_dir), dh::to_string(files.flavour), n, p, features.rows_read,
        features.first_day, features.reference_day, features.num_baskets, rank, k);
    html << "<h2>Summary</h2><table>\n";
    html << fmt::format(
        "<tr><td class='l'>NMF factors</td><td>{}</td><td class='l'>explained variance {:.1f}% "
        "(uncentered), {:.1f}% (centered)</td></tr>\n",
        rank, 100 * chosen_rank.ev_uncentered, 100 * chosen_rank.ev_centered);
    html << fmt::format(
        "<tr><td class='l'>Segments</td><td>{}</td><td class='l'>bootstrap ARI {:.3f}, {:.0f}% "
        "interval [{:.3f}, {:.3f}] over {} resamples; silhouette {:.3f}</td></tr>\n",
        k, stability.mean_ari, 100 * stability.level, stability.interval.lower,
        stability.interval.upper, stability.ari.size(), silhouette);
    if (truth_ari) {
      html << fmt::format(
          "<tr><td class='l'>Planted truth</td><td>{:.3f}</td><td class='l'>ARI of the segments "
          "vs the synthetic data's planted segments</td></tr>\n",
          *truth_ari);
    }
    html << "</table>\n";
    // Charts: explained variance and stability.
    std::vector<Index> rank_x;
    Series ev_u{"uncentered", "#4c78a8", {}, {}, {}}, ev_c{"centered", "#f58518", {}, {}, {}};
    for (const RankRow& row : ranks) {
      rank_x.push_back(row.rank);
      ev_u.y.push_back(row.ev_uncentered);
      ev_c.y.push_back(row.ev_centered);
    }
    html << "<h2>Choosing the number of factors and segments</h2><div class='charts'>\n";
    html << svg_line_chart("Explained variance vs number of NMF factors", "factors", rank_x,
                           {ev_u, ev_c}, 0.0, 1.0, rank);
    if (!scan.empty()) {
      std::vector<Index> k_x;
      Series ari{"bootstrap ARI (95% interval)", "#4c78a8", {}, {}, {}};
      Series sil{"silhouette", "#54a24b", {}, {}, {}};
      for (const auto& row : scan) {
        k_x.push_back(row.num_clusters);
        ari.y.push_back(row.stability_mean);
        ari.lower.push_back(row.stability_interval.lower);
        ari.upper.push_back(row.stability_interval.upper);
        sil.y.push_back(row.silhouette);
      }
      double y_min = 0.0;
      for (const auto& row : scan) y_min = std::min(y_min, row.stability_interval.lower);
      html << svg_line_chart("Stability and silhouette vs number of segments", "segments k", k_x,
                             {ari, sil}, std::floor(y_min * 5) / 5, 1.0, k);
    }
    html << "</div>\n<p class='note'>k is the most separated (silhouette) among the k whose mean "
            "bootstrap ARI reaches "
         << fmt::format("{:.2f}", opt.min_stability)
         << "; each k's stability re-fits the pipeline on bootstrap resamples and compares the "
            "assignments with the full-data fit on the shared households.</p>\n";
    html << "<h2>Segments</h2>\n" << svg_size_chart(profiles, segment_names);
    html << "<table><tr><th class='l'>segment</th><th>households</th><th>share</th>";
    for (const auto& h : headline) html << "<th>" << html_escape(h) << "</th>";
    html << "<th class='l'>distinguishing features (SMD)</th></tr>\n";
    for (std::size_t s = 0; s < profiles.segments.size(); ++s) {
      const auto& prof = profiles.segments[s];
      html << fmt::format("<tr><td class='l'>{}</td><td>{}</td><td>{:.1f}%</td>", segment_labels[s],
                          prof.size, 100 * prof.share);
      for (const auto& h : headline) {
        html << "<td>" << short_number(prof.mean[features.column(h)]) << "</td>";
      }
      std::string top;
      for (const Index j : prof.top_features) {
        top += fmt::format("{}{} {:+.2f}", top.empty() ? "" : ", ",
                           html_escape(profiles.column_names[static_cast<std::size_t>(j)]),
                           prof.smd[j]);
      }
      html << "<td class='l top'>" << top << "</td></tr>\n";
    }
    html << "<tr><td class='l'>all</td><td>" << n << "</td><td>100%</td>";
    for (const auto& h : headline) {
      html << "<td>" << short_number(profiles.population_mean[features.column(h)]) << "</td>";
    }
    html << "<td></td></tr></table>\n";
    html << "<h2>Profile heatmap</h2>\n" << svg_heatmap(profiles, segment_labels);
    html << "<h2>Factors</h2><table><tr><th class='l'>factor</th><th class='l'>largest loadings "
            "(share of the factor's loadings)</th></tr>\n";
    for (Index f = 0; f < rank; ++f) {
      html << "<tr><td class='l'>" << factor_names[static_cast<std::size_t>(f)]
           << "</td><td class='l'>" << html_escape(factor_descriptions[static_cast<std::size_t>(f)])
           << "</td></tr>\n";
    }
    html << "</table>\n<p class='note'>Features: see include/tailor/io/dunnhumby.hpp. Generated "
            "by tailor's dunnhumby_segments example.</p>\n</body></html>\n";
    if (!html) throw tailor::Error(fmt::format("cannot write '{}'", report_path.string()));
  }
  fmt::print("\nwrote {}, {} and {} in {:.1f} s\n", (out_dir / "segments.csv").string(),
             (out_dir / "household_features.csv").string(), report_path.string(),
             seconds_since(start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Segment Dunnhumby 'The Complete Journey' households: features -> NMF factors -> "
      "K-Means, with stability and an HTML report"};
  Options opt;
  app.add_option("--data", opt.data_dir, "Directory with the CSVs (either flavour)")
      ->capture_default_str();
  app.add_option("--flavour", opt.flavour, "File flavour")
      ->check(CLI::IsMember({"auto", "original", "completejourney"}))
      ->capture_default_str();
  app.add_option("--out", opt.out_dir, "Output directory for segments.csv and the report")
      ->capture_default_str();
  app.add_option("--k", opt.k, "Number of segments (0 = choose from k-min..k-max)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--k-min", opt.k_min, "Smallest k scanned")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  app.add_option("--k-max", opt.k_max, "Largest k scanned")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  app.add_option("--factors", opt.factors, "NMF factors (0 = choose by --ev-target)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--factor-min", opt.factor_min, "Fewest NMF factors scanned")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--factor-max", opt.factor_max, "Most NMF factors scanned")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--ev-target", opt.ev_target,
                 "Uncentered explained variance the chosen number of factors must reach")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--min-stability", opt.min_stability, "Mean bootstrap ARI a k needs to be chosen")
      ->check(CLI::Range(-1.0, 1.0))
      ->capture_default_str();
  app.add_option("--scan-bootstrap", opt.scan_bootstrap, "Bootstrap resamples per k in the scan")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--bootstrap", opt.bootstrap, "Bootstrap resamples for the chosen k")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--top-commodities", opt.top_commodities, "Commodity share features")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--first-day", opt.first_day, "Only transactions from this day on");
  app.add_option("--last-day", opt.last_day,
                 "Only transactions up to this day (e.g. the day before a campaign)");
  app.add_option("--seed", opt.seed, "Seed of every random choice")->capture_default_str();
  app.add_option("--threads", opt.threads, "Threads (0 = all cores; results do not depend on it)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--quiet", opt.quiet, "No progress bars");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dunnhumby_segments: {}\n", e.what());
    return 1;
  }
}
