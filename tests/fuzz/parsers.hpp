// tests/fuzz/parsers.hpp — one registry of every file reader in tailor/io for the parser
// replay test (parser_files_test.cpp) and the libFuzzer target (fuzz_parsers.cpp): its name, its
// seed folder under tests/fuzz/corpus/parsers/, and a load function that returns "" when the
// result meets the reader's documented invariants (finite values, 0/1 labels, indices inside the
// feature space, ...) or what is wrong with it.
#pragma once

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tailor/io/csv.hpp"
#include "tailor/io/ctr_csv.hpp"
#include "tailor/io/dunnhumby.hpp"
#include "tailor/io/ihdp.hpp"
#include "tailor/io/ipinyou.hpp"
#include "tailor/io/libsvm.hpp"
#include "tailor/io/panel_csv.hpp"
#include "tailor/io/rlb_dp.hpp"

namespace tailor_fuzz {

namespace fs = std::filesystem;
namespace io = tailor::io;

/// tests/fuzz/corpus/parsers, found through TAILOR_TEST_SOURCE_DIR (the tests/ directory).
inline fs::path corpus_root() {
  const char* root = std::getenv("TAILOR_TEST_SOURCE_DIR");
  return fs::path(root != nullptr ? root : "tests") / "fuzz" / "corpus" / "parsers";
}

// ---- the readers

/// A reader under test: loads `path` (a file, or for directory readers the directory holding
/// the damaged file) and returns "" when the result meets the documented invariants, or what is
/// wrong with it.
using Load = std::function<std::string(const fs::path&)>;

struct Parser {
  std::string name;
  std::string corpus;  ///< folder under tests/fuzz/corpus/parsers
  /// Seeds: the corpus files whose name passes this filter.
  std::function<bool(const std::string&)> is_seed;
  /// false: the damaged file is loaded alone; true: it replaces its seed in a copy of the corpus
  /// folder and `load` gets the folder.
  bool directory = false;
  Load load;
};

inline std::string check_sparse(const tailor::ctr::SparseFeatures& x, tailor::Index table_rows,
                                tailor::Index labels, bool labels_required) {
  if (x.row_ptr.empty() || x.row_ptr.front() != 0 ||
      x.row_ptr.back() != static_cast<std::int64_t>(x.index.size()) ||
      x.field.size() != x.index.size() || (!x.value.empty() && x.value.size() != x.index.size())) {
    return "inconsistent CSR arrays";
  }
  if (!std::is_sorted(x.row_ptr.begin(), x.row_ptr.end())) return "row_ptr decreases";
  for (const std::uint32_t row : x.index) {
    if (static_cast<tailor::Index>(row) >= table_rows) {
      return fmt::format("table row {} outside the space's {} rows", row, table_rows);
    }
  }
  for (const float v : x.value) {
    if (!std::isfinite(v)) return fmt::format("non-finite value {}", v);
  }
  if (labels_required && labels != x.num_rows()) {
    return fmt::format("{} labels for {} rows", labels, x.num_rows());
  }
  return "";
}

inline std::string check_labels(const Eigen::VectorXf& click) {
  for (Eigen::Index i = 0; i < click.size(); ++i) {
    if (click[i] != 0.0f && click[i] != 1.0f) return fmt::format("click[{}] = {}", i, click[i]);
  }
  return "";
}

inline std::string check_ctr(const tailor::ctr::FeatureSpace& space, const io::CtrTable& table) {
  std::string problem = check_sparse(table.features, space.num_rows(), table.click.size(), true);
  if (problem.empty()) problem = check_labels(table.click);
  if (problem.empty() &&
      table.features.nnz() !=
          table.features.num_rows() * static_cast<tailor::Index>(space.num_fields())) {
    problem = "a row without exactly one entry per field";
  }
  return problem;
}

inline std::string check_ipinyou_log(const tailor::ctr::FeatureSpace& space,
                                     const io::IpinyouLog& log) {
  std::string problem = check_sparse(log.features, space.num_rows(), log.click.size(), true);
  if (problem.empty()) problem = check_labels(log.click);
  if (!problem.empty()) return problem;
  if (log.payprice.size() != log.click.size() ||
      log.bidid.size() != static_cast<std::size_t>(log.click.size())) {
    return "payprice/bidid/click lengths differ";
  }
  for (Eigen::Index i = 0; i < log.payprice.size(); ++i) {
    if (!std::isfinite(log.payprice[i]) || log.payprice[i] < 0.0f) {
      return fmt::format("payprice[{}] = {}, a winning price must be finite and >= 0", i,
                         log.payprice[i]);
    }
  }
  return "";
}

inline std::string check_replication(const io::ihdp::Replication& r) {
  if (!r.X.allFinite() || !r.y.allFinite() || !r.y_cf.allFinite() || !r.mu0.allFinite() ||
      !r.mu1.allFinite()) {
    return "non-finite values";
  }
  for (Eigen::Index i = 0; i < r.t.size(); ++i) {
    if (r.t[i] != 0.0 && r.t[i] != 1.0) return fmt::format("t[{}] = {}", i, r.t[i]);
  }
  return "";
}

inline std::string check_household_features(const io::dunnhumby::HouseholdFeatures& f) {
  if (!f.values.allFinite()) return "non-finite features (documented: all finite and >= 0)";
  if (f.values.size() > 0 && f.values.minCoeff() < 0.0) return "a negative feature";
  if (f.household_keys.size() != static_cast<std::size_t>(f.values.rows())) {
    return "household_keys and rows differ";
  }
  return "";
}

inline const std::vector<Parser>& parsers() {
  static const std::vector<Parser> list = [] {
    const auto any = [](const std::string&) { return true; };
    const auto ends_with = [](std::string suffix) {
      return [suffix](const std::string& name) {
        return name.size() >= suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
    };
    std::vector<Parser> p;
    p.push_back({"read_csv", "csv", any, false, [](const fs::path& path) {
                   const io::Table table = io::read_csv(path);
                   for (const std::string& name : table.numeric_column_names()) {
                     if (static_cast<std::size_t>(table.numeric(name).size()) != table.num_rows()) {
                       return std::string("a column of another length");
                     }
                   }
                   return std::string();
                 }});
    p.push_back({"read_csv(';', MissingPolicy::nan)", "csv_semicolon_nan", any, false,
                 [](const fs::path& path) {
                   io::CsvOptions options;
                   options.separator = ';';
                   options.missing = io::MissingPolicy::nan;
                   const io::Table table = io::read_csv(path, options);
                   return table.num_columns() > 0 || table.num_rows() == 0
                              ? std::string()
                              : std::string("rows without columns");
                 }});
    p.push_back({"CsvReader(buffer_size = 64)", "csv_stream", any, false, [](const fs::path& path) {
                   io::CsvReader reader(path, io::CsvOptions{}, 64);
                   io::CsvRow row;
                   while (reader.next_row(row)) {
                     if (row.size() != reader.num_columns()) return std::string("a short row");
                     for (std::size_t j = 0; j < row.size(); ++j) {
                       (void)row.text(j);
                       if (row.is_missing(j)) continue;
                       try {
                         (void)row.number(j);
                       } catch (const tailor::FormatError&) {
                         // a text field: number() says so, as documented
                       }
                     }
                   }
                   return std::string();
                 }});
    p.push_back({"read_libsvm", "libsvm", any, false, [](const fs::path& path) {
                   const io::LibsvmData data = io::read_libsvm(path);
                   std::string problem =
                       check_sparse(data.features, data.space.num_rows(), data.click.size(), true);
                   return problem.empty() ? check_labels(data.click) : problem;
                 }});
    p.push_back({"read_featindex + read_libfm", "libfm",
                 [](const std::string& name) { return name.rfind("featindex", 0) == 0; }, false,
                 [](const fs::path& path) {
                   const io::LibfmIndex index = io::read_featindex(path);
                   for (const std::uint32_t row : index.table_row) {
                     if (static_cast<tailor::Index>(row) >= index.space.num_rows()) {
                       return fmt::format("table_row {} outside the space", row);
                     }
                   }
                   const io::LibfmData data =
                       io::read_libfm(corpus_root() / "libfm" / "train.fm.txt", index);
                   return check_sparse(data.features, index.space.num_rows(), data.click.size(),
                                       true);
                 }});
    p.push_back({"read_libfm", "libfm", ends_with(".fm.txt"), false, [](const fs::path& path) {
                   static const io::LibfmIndex index =
                       io::read_featindex(corpus_root() / "libfm" / "featindex.txt");
                   const io::LibfmData data = io::read_libfm(path, index);
                   std::string problem =
                       check_sparse(data.features, index.space.num_rows(), data.click.size(), true);
                   return problem.empty() ? check_labels(data.click) : problem;
                 }});
    p.push_back(
        {"read_ipinyou_log", "ipinyou", ends_with(".log.txt"), false, [](const fs::path& path) {
           static const tailor::ctr::FeatureSpace space =
               io::read_ipinyou(corpus_root() / "ipinyou").space;
           return check_ipinyou_log(space, io::read_ipinyou_log(path, space));
         }});
    p.push_back({"read_ipinyou (train.log.txt)", "ipinyou",
                 [](const std::string& name) { return name == "train.log.txt"; }, true,
                 [](const fs::path& dir) {
                   const io::IpinyouData data = io::read_ipinyou(dir);
                   std::string problem = check_sparse(data.train_features, data.space.num_rows(),
                                                      data.train_click.size(), true);
                   if (problem.empty()) problem = check_labels(data.train_click);
                   return problem;
                 }});
    p.push_back(
        {"read_ctr_csv(criteo_columns())", "ctr_criteo", any, false, [](const fs::path& path) {
           const auto [space, table] = io::read_ctr_csv(path, io::criteo_columns());
           return check_ctr(space, table);
         }});
    p.push_back({"read_ctr_csv(criteo_columns(1000), criteo_raw_options())", "ctr_criteo_raw", any,
                 false, [](const fs::path& path) {
                   const auto [space, table] =
                       io::read_ctr_csv(path, io::criteo_columns(1000), io::criteo_raw_options());
                   return check_ctr(space, table);
                 }});
    p.push_back(
        {"read_ctr_csv(avazu_columns())", "ctr_avazu", any, false, [](const fs::path& path) {
           const auto [space, table] = io::read_ctr_csv(path, io::avazu_columns());
           return check_ctr(space, table);
         }});
    p.push_back({"read_auction_log", "rlb_auction", any, false, [](const fs::path& path) {
                   const tailor::bidding::AuctionLog log = io::read_auction_log(path);
                   return log.size() > 0 ? std::string() : std::string("an empty log");
                 }});
    p.push_back({"read_campaign_info", "rlb_info", any, false, [](const fs::path& path) {
                   const tailor::bidding::CampaignInfo info = io::read_campaign_info(path);
                   info.validate();
                   if (info.price_counter_train.empty()) return std::string("no price counter");
                   // bidding::BidLandscape sums the counts in an int64.
                   std::int64_t total = 0;
                   for (const std::int64_t count : info.price_counter_train) {
                     if (__builtin_add_overflow(total, count, &total)) {
                       return std::string("price_counter_train sums beyond int64");
                     }
                   }
                   return std::string();
                 }});
    p.push_back({"read_panel_csv", "panel", any, false, [](const fs::path& path) {
                   const tailor::pricing::Panel panel = io::read_panel_csv(path);
                   if (!panel.outcome().allFinite()) return std::string("a non-finite outcome");
                   return std::string();
                 }});
    p.push_back({"ihdp::read_replication", "ihdp", any, false, [](const fs::path& path) {
                   return check_replication(io::ihdp::read_replication(path));
                 }});
    p.push_back({"ihdp::read_test_units", "ihdp_long", any, false, [](const fs::path& path) {
                   return check_replication(io::ihdp::read_test_units(path, 1));
                 }});
    const auto dunnhumby = [](const fs::path& dir) {
      std::string problem = check_household_features(io::dunnhumby::build_features(dir));
      if (!problem.empty()) return problem;
      const io::dunnhumby::HouseholdSpend spend =
          io::dunnhumby::spend_in_window(io::dunnhumby::locate_files(dir), {});
      return spend.spend.allFinite() ? std::string() : std::string("non-finite spend_in_window");
    };
    p.push_back(
        {"dunnhumby::build_features (original)", "dunnhumby_original", any, true, dunnhumby});
    p.push_back({"dunnhumby::build_features (completejourney)", "dunnhumby_completejourney", any,
                 true, dunnhumby});
    return p;
  }();
  return list;
}

// ---- the replay

}  // namespace tailor_fuzz
