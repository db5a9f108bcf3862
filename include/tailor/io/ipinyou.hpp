// tailor/io/ipinyou.hpp — raw iPinYou RTB impression logs (the make-ipinyou-data layout:
// <campaign>/train.log.txt and test.log.txt) as CTR training data (ctr::FeatureSpace +
// ctr::SparseFeatures), with the feature conventions of make-ipinyou-data's python/mkyzx.py
// (wnzhang/make-ipinyou-data, commit 0ee8b67e46c9), the script behind the iPinYou numbers of the
// FNN / PNN papers.
//
// Input: tab-separated text with a header line naming the columns (any order, extra columns
// ignored); make-ipinyou-data writes click, weekday, hour, bidid, timestamp, logtype, ipinyouid,
// useragent, IP, region, city, adexchange, domain, url, urlid, slotid, slotwidth, slotheight,
// slotvisibility, slotformat, slotprice, creative, bidprice, payprice, keypage, advertiser,
// usertag. Fields are split on tabs only, as mkyzx's line.split('\t') (no quoting: CsvReader runs
// with quote = '\0'); lines end with LF or CRLF; blank lines are skipped.
//
// Fields (17, in this order; all FieldKind::vocabulary):
//   weekday, hour, os_browser, IP, region, city, adexchange, domain, slotid, slotwidth,
//   slotheight, slotvisibility, slotformat, slotprice, creative, advertiser, usertag.
//  * Direct fields (mkyzx's f1s) take the raw text verbatim ("null" is an ordinary value).
//  * os_browser (from useragent, mkyzx's featTrans): OS = the first of windows, ios, mac,
//    android, linux that occurs in the ASCII-lower-cased user agent, else "other"; browser = the
//    first of chrome, sogou, maxthon, safari, firefox, theworld, opera, ie that occurs, else
//    "other"; the value is "<os>_<browser>" ("windows_ie", "android_safari", "other_other").
//    The lists are searched in that order, as mkyzx does, quirks included: a Chrome user agent
//    (which also names Safari) is chrome; "Linux; Android" is android; "iPhone OS ... like Mac
//    OS X" is mac (it never spells "ios"); any "ie" anywhere makes ie when no earlier browser
//    matched.
//  * slotprice: the integer floor price bucketed as mkyzx: "0" (≤ 0), "1-10", "11-50",
//    "51-100", "101+". A slotprice that is not an integer is a FormatError.
//  * usertag: multi-valued, comma-separated ("10006,10063"), pooled by sum; "null" or an empty
//    cell gives no entries. (mkyzx instead indexes an empty cell as a tag "null"; in the iPinYou
//    logs a user without tags is written "null", so here both mean "no tags", and the row simply
//    has no usertag entry.)
//  * Vocabulary: fitted with ctr::FeatureSpaceBuilder on train.log.txt only. A value seen fewer
//    than IpinyouOptions::min_count times in train, or never, maps to its field's OOV row — the
//    "col:other" index of mkyzx, which has no threshold (min_count = 1). mkyzx's always-on
//    "truncate" feature is not added: the CTR models have their own intercept. Rows of one
//    field are ordered by decreasing train count (FeatureSpaceBuilder's rule), not by mkyzx's
//    first-seen order; the encoding is the same up to that permutation.
//
// Serving reuses the exact mapping: ipinyou_cells() turns the raw columns of one log row (or bid
// request) into the 17 field cells, which encode_ipinyou_row() / append_ipinyou_row() encode
// with a fitted space (and FactorizationMachineModel::predict_one(cells) accepts directly).
//
// Errors: FormatError naming file:line:column as CsvReader does:
//   "test.log.txt:17:1 (column 'click'): '2', expected 0 or 1"
//   "train.log.txt:9:21 (column 'slotprice'): 'abc', expected an integer floor price"
//   "train.log.txt: no column 'usertag' in the header (line 1), expected the make-ipinyou-data
//    columns ..."
//   "test.log.txt:5:24 (column 'payprice'): 'inf', expected a finite price in [0, 1e9]"
// plus CsvReader's own (a row with the wrong number of fields, payprice not a number). A
// train.log.txt without rows is a DataError; a missing file is a tailor::Error naming the path.
//
// Complexity: O(bytes) time, each file streamed once through CsvReader (1 MiB buffer). The train
// pass interns each value into a provisional per-field id while counting it, then remaps the
// stored ids to table rows after the vocabulary is fitted, so train.log.txt is not read twice.
// Per row: one lower-cased copy of the user agent searched for 13 needles; per value: two hash
// lookups (train: count + intern) or one (test). Memory: the CSR arrays (6 bytes per entry,
// 16 + #tags entries per row, + 8 bytes per row), the vocabulary (twice while the train pass
// runs) and the test bidids.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/io/csv.hpp"

namespace tailor::io {

/// Options of read_ipinyou.
struct IpinyouOptions {
  /// Vocabulary threshold: values seen fewer times in train.log.txt share their field's OOV row
  /// (mkyzx's "col:other", which it uses only for values never seen in train: min_count = 1).
  Index min_count = 1;
};

/// The encoded train and test logs of one make-ipinyou-data campaign directory.
struct IpinyouData {
  ctr::FeatureSpace space;  ///< the 17 fields of kIpinyouFields, fitted on train
  ctr::SparseFeatures train_features;
  Eigen::VectorXf train_click;  ///< 0 or 1
  ctr::SparseFeatures test_features;
  Eigen::VectorXf test_click;     ///< 0 or 1
  Eigen::VectorXf test_payprice;  ///< the winning (market) price of each test impression
  std::vector<std::string> test_bidid;
};

/// One encoded log file (read_ipinyou_log).
struct IpinyouLog {
  ctr::SparseFeatures features;
  Eigen::VectorXf click;
  Eigen::VectorXf payprice;
  std::vector<std::string> bidid;
};

inline constexpr std::size_t kIpinyouNumFields = 17;

/// The field names of the feature space, in field order.
inline constexpr std::array<std::string_view, kIpinyouNumFields> kIpinyouFields = {
    "weekday",    "hour",      "os_browser", "IP",         "region",     "city",
    "adexchange", "domain",    "slotid",     "slotwidth",  "slotheight", "slotvisibility",
    "slotformat", "slotprice", "creative",   "advertiser", "usertag"};

/// The log column each field is computed from (same order as kIpinyouFields).
inline constexpr std::array<std::string_view, kIpinyouNumFields> kIpinyouSourceColumns = {
    "weekday",    "hour",      "useragent", "IP",         "region",     "city",
    "adexchange", "domain",    "slotid",    "slotwidth",  "slotheight", "slotvisibility",
    "slotformat", "slotprice", "creative",  "advertiser", "usertag"};

/// mkyzx's OS and browser lists, searched in this order.
inline constexpr std::array<std::string_view, 5> kIpinyouOses = {"windows", "ios", "mac", "android",
                                                                 "linux"};
inline constexpr std::array<std::string_view, 8> kIpinyouBrowsers = {
    "chrome", "sogou", "maxthon", "safari", "firefox", "theworld", "opera", "ie"};

/// The raw columns of one log row (or bid request) that the features are computed from. The
/// views must stay valid while the row is encoded.
struct IpinyouLogRow {
  std::string_view weekday, hour, useragent, ip, region, city, adexchange, domain, slotid,
      slotwidth, slotheight, slotvisibility, slotformat, slotprice, creative, advertiser, usertag;
};

/// One cell per field of kIpinyouFields (views into the row or into static storage).
using IpinyouCells = std::array<std::string_view, kIpinyouNumFields>;

namespace detail {

inline constexpr std::size_t kIpinyouOsBrowserField = 2;
inline constexpr std::size_t kIpinyouSlotpriceField = 13;
inline constexpr std::size_t kIpinyouUsertagField = 16;
/// The largest payprice read_ipinyou_log accepts (the logs hold CPM prices below 1000).
inline constexpr double kIpinyouMaxPayprice = 1e9;

inline std::string_view ipinyou_trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// "<os>_<browser>" for os in kIpinyouOses + "other" and browser in kIpinyouBrowsers + "other"
/// (index os * 9 + browser), built once.
inline const std::array<std::string, 6 * 9>& ipinyou_os_browser_names() {
  static const std::array<std::string, 6 * 9> names = [] {
    std::array<std::string, 6 * 9> out;
    for (std::size_t o = 0; o < 6; ++o) {
      for (std::size_t b = 0; b < 9; ++b) {
        out[o * 9 + b] = fmt::format("{}_{}", o < 5 ? kIpinyouOses[o] : "other",
                                     b < 8 ? kIpinyouBrowsers[b] : "other");
      }
    }
    return out;
  }();
  return names;
}

/// Parses an integer the way Python's int() reads the iPinYou slotprice (surrounding blanks,
/// an optional sign, decimal digits) and buckets it; false when `text` is not an integer.
inline bool ipinyou_slotprice_bucket(std::string_view text, std::string_view& bucket) {
  text = ipinyou_trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  std::uint64_t magnitude = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, magnitude);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    magnitude = UINT64_MAX;  // all digits: only the sign and "> 100" matter
  } else if (ec != std::errc()) {
    return false;
  }
  if (negative || magnitude == 0) {
    bucket = "0";
  } else if (magnitude <= 10) {
    bucket = "1-10";
  } else if (magnitude <= 50) {
    bucket = "11-50";
  } else if (magnitude <= 100) {
    bucket = "51-100";
  } else {
    bucket = "101+";
  }
  return true;
}

}  // namespace detail

/// mkyzx's os_browser value of a user agent (see the header comment). The view points to static
/// storage. Lower-casing is ASCII-only (UTF-8 bytes of other characters never match a needle).
/// Allocation-free after the first call on each thread.
inline std::string_view ipinyou_os_browser(std::string_view useragent) {
  thread_local std::string lower;
  lower.assign(useragent);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const std::string_view text(lower);
  std::size_t os = kIpinyouOses.size();
  for (std::size_t o = 0; o < kIpinyouOses.size(); ++o) {
    if (text.find(kIpinyouOses[o]) != std::string_view::npos) {
      os = o;
      break;
    }
  }
  std::size_t browser = kIpinyouBrowsers.size();
  for (std::size_t b = 0; b < kIpinyouBrowsers.size(); ++b) {
    if (text.find(kIpinyouBrowsers[b]) != std::string_view::npos) {
      browser = b;
      break;
    }
  }
  return detail::ipinyou_os_browser_names()[os * 9 + browser];
}

/// mkyzx's slotprice bucket of an integer floor price: "0" (≤ 0), "1-10", "11-50", "51-100",
/// "101+".
inline std::string_view ipinyou_slotprice_bucket(std::int64_t slotprice) {
  if (slotprice <= 0) return "0";
  if (slotprice <= 10) return "1-10";
  if (slotprice <= 50) return "11-50";
  if (slotprice <= 100) return "51-100";
  return "101+";
}

namespace detail {

/// The field cells of `row`; false (cells unspecified) when slotprice is not an integer.
inline bool ipinyou_fill_cells(const IpinyouLogRow& row, IpinyouCells& cells) {
  cells = {row.weekday,       row.hour,           std::string_view{}, row.ip,
           row.region,        row.city,           row.adexchange,     row.domain,
           row.slotid,        row.slotwidth,      row.slotheight,     row.slotvisibility,
           row.slotformat,    std::string_view{}, row.creative,       row.advertiser,
           std::string_view{}};
  cells[kIpinyouOsBrowserField] = ipinyou_os_browser(row.useragent);
  if (!ipinyou_slotprice_bucket(row.slotprice, cells[kIpinyouSlotpriceField])) return false;
  const std::string_view tags = ipinyou_trim(row.usertag);
  cells[kIpinyouUsertagField] = tags == "null" ? std::string_view{} : tags;
  return true;
}

/// Throws InvalidArgument unless `space` has the fields of kIpinyouFields (as ipinyou_builder
/// makes them).
inline void ipinyou_check_space(const ctr::FeatureSpace& space, std::string_view context) {
  if (space.num_fields() != static_cast<Index>(kIpinyouNumFields)) {
    raise<InvalidArgument>(
        "{}: the feature space has {} fields, expected the {} iPinYou fields (ipinyou_builder)",
        context, space.num_fields(), kIpinyouNumFields);
  }
  for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
    if (space.field(static_cast<Index>(f)).name != kIpinyouFields[f]) {
      raise<InvalidArgument>("{}: field {} of the feature space is '{}', expected '{}'", context, f,
                             space.field(static_cast<Index>(f)).name, kIpinyouFields[f]);
    }
  }
  if (!space.field(static_cast<Index>(kIpinyouUsertagField)).multi_valued) {
    raise<InvalidArgument>(
        "{}: field 'usertag' of the feature space is single-valued, expected "
        "multi-valued",
        context);
  }
}

/// The 0-based index of column `name` in the header (names compared without surrounding
/// blanks); FormatError naming the file and the column when it is absent.
inline std::size_t ipinyou_column(const CsvReader& reader, std::string_view name) {
  const auto& names = reader.header();
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (ipinyou_trim(names[j]) == name) return j;
  }
  raise<FormatError>(
      "{}: no column '{}' in the header (line 1), expected the make-ipinyou-data columns click, "
      "{}, payprice, bidid",
      reader.source(), name, fmt::join(kIpinyouSourceColumns, ", "));
}

/// Opens a log and finds the columns it needs.
struct IpinyouReader {
  CsvReader reader;
  std::size_t click = 0;
  std::array<std::size_t, kIpinyouNumFields> source{};
  std::size_t payprice = 0;
  std::size_t bidid = 0;

  static CsvOptions options() {
    CsvOptions options;
    options.separator = '\t';
    options.quote = '\0';  // no quoting: fields are split on tabs only
    options.header = true;
    return options;
  }

  IpinyouReader(const std::filesystem::path& path, bool with_price) : reader(path, options()) {
    click = ipinyou_column(reader, "click");
    for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
      source[f] = ipinyou_column(reader, kIpinyouSourceColumns[f]);
    }
    if (with_price) {
      payprice = ipinyou_column(reader, "payprice");
      bidid = ipinyou_column(reader, "bidid");
    }
  }

  /// The click of `row`: exactly "0" or "1", else FormatError at file:line:column.
  float read_click(const CsvRow& row) const {
    const std::string_view text = row.text(click);
    if (text != "0" && text != "1") {
      raise<FormatError>("{}:{}:{} (column 'click'): '{}', expected 0 or 1", reader.source(),
                         row.line(), click + 1, text);
    }
    return text[0] == '1' ? 1.0f : 0.0f;
  }

  /// The field cells of `row`; FormatError at file:line:column for a bad slotprice.
  void read_cells(const CsvRow& row, IpinyouCells& cells) const {
    IpinyouLogRow raw;
    raw.weekday = row.text(source[0]);
    raw.hour = row.text(source[1]);
    raw.useragent = row.text(source[2]);
    raw.ip = row.text(source[3]);
    raw.region = row.text(source[4]);
    raw.city = row.text(source[5]);
    raw.adexchange = row.text(source[6]);
    raw.domain = row.text(source[7]);
    raw.slotid = row.text(source[8]);
    raw.slotwidth = row.text(source[9]);
    raw.slotheight = row.text(source[10]);
    raw.slotvisibility = row.text(source[11]);
    raw.slotformat = row.text(source[12]);
    raw.slotprice = row.text(source[13]);
    raw.creative = row.text(source[14]);
    raw.advertiser = row.text(source[15]);
    raw.usertag = row.text(source[16]);
    if (!ipinyou_fill_cells(raw, cells)) {
      const std::size_t column = source[kIpinyouSlotpriceField];
      raise<FormatError>("{}:{}:{} (column 'slotprice'): '{}', expected an integer floor price",
                         reader.source(), row.line(), column + 1, raw.slotprice);
    }
  }
};

/// Values of one field mapped to provisional ids in order of first appearance (the train pass
/// stores these ids, then remaps them once the vocabulary is fitted).
class IpinyouInterner {
 public:
  std::uint32_t intern(std::string_view value) {
    const auto it = ids_.find(value);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(values_.size());
    const auto inserted = ids_.emplace(std::string(value), id).first;
    values_.push_back(inserted->first);  // unordered_map nodes never move
    return id;
  }
  const std::vector<std::string_view>& values() const { return values_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
  std::vector<std::string_view> values_;
};

inline Eigen::VectorXf ipinyou_to_vector(const std::vector<float>& values) {
  return Eigen::Map<const Eigen::VectorXf>(values.data(), static_cast<Eigen::Index>(values.size()));
}

/// Calls emit(piece) for each non-empty comma-separated piece of a usertag cell (the split
/// FeatureSpace::encode_cell makes for the multi-valued field).
template <class Emit>
void ipinyou_for_each_tag(std::string_view cell, Emit&& emit) {
  std::size_t start = 0;
  while (start <= cell.size()) {
    std::size_t end = cell.find(',', start);
    if (end == std::string_view::npos) end = cell.size();
    if (end > start) emit(cell.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace detail

/// The field cells (kIpinyouFields order) of one raw log row: os_browser and the slotprice bucket
/// computed, usertag "null" emptied, the other columns as they are. Throws DataError when
/// slotprice is not an integer.
inline IpinyouCells ipinyou_cells(const IpinyouLogRow& row) {
  IpinyouCells cells;
  if (!detail::ipinyou_fill_cells(row, cells)) {
    raise<DataError>("ipinyou_cells: slotprice '{}', expected an integer floor price",
                     row.slotprice);
  }
  return cells;
}

/// The FeatureSpaceBuilder of the iPinYou fields: 17 vocabulary fields (kIpinyouFields) with
/// `options.min_count`, usertag multi-valued (',') with sum pooling. Feed it ipinyou_cells rows
/// (add_row) to fit a space on logs read some other way.
inline ctr::FeatureSpaceBuilder ipinyou_builder(const IpinyouOptions& options = {}) {
  check_param(options.min_count >= 1, "IpinyouOptions", "min_count", options.min_count,
              "at least 1");
  std::vector<ctr::FieldSpec> specs;
  specs.reserve(kIpinyouNumFields);
  for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
    ctr::FieldSpec spec;
    spec.name = std::string(kIpinyouFields[f]);
    spec.kind = ctr::FieldKind::vocabulary;
    spec.min_count = options.min_count;
    if (f == detail::kIpinyouUsertagField) {
      spec.multi_valued = true;
      spec.separator = ',';
      spec.pooling = ctr::Pooling::sum;
    }
    specs.push_back(std::move(spec));
  }
  return ctr::FeatureSpaceBuilder(std::move(specs));
}

/// Encodes one raw log row with a fitted iPinYou space into `table_rows` (cleared first; one
/// table row per single-valued field, one per tag), for SparseRow{table_rows} serving. Throws
/// InvalidArgument when `space` does not have the iPinYou fields, DataError for a non-integer
/// slotprice. Allocation-free once `table_rows` has grown.
inline void encode_ipinyou_row(const ctr::FeatureSpace& space, const IpinyouLogRow& row,
                               std::vector<std::uint32_t>& table_rows) {
  detail::ipinyou_check_space(space, "encode_ipinyou_row");
  const IpinyouCells cells = ipinyou_cells(row);
  table_rows.clear();
  for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
    space.encode_cell(static_cast<Index>(f), cells[f],
                      [&](std::uint32_t r) { table_rows.push_back(r); });
  }
}

/// Encodes one raw log row with a fitted iPinYou space and appends it to `features`.
inline void append_ipinyou_row(const ctr::FeatureSpace& space, const IpinyouLogRow& row,
                               ctr::SparseFeatures& features) {
  detail::ipinyou_check_space(space, "append_ipinyou_row");
  const IpinyouCells cells = ipinyou_cells(row);
  features.append_raw_row(space, cells);
}

/// Reads one log (train.log.txt / test.log.txt layout; needs the columns click, bidid, payprice
/// and those of kIpinyouSourceColumns) and encodes it with a fitted iPinYou space: unseen values
/// go to their field's OOV row. A file without rows gives empty results.
inline IpinyouLog read_ipinyou_log(const std::filesystem::path& file,
                                   const ctr::FeatureSpace& space) {
  detail::ipinyou_check_space(space, "read_ipinyou_log");
  detail::IpinyouReader in(file, /*with_price=*/true);
  IpinyouLog log;
  std::vector<float> click, payprice;
  CsvRow row;
  IpinyouCells cells;
  while (in.reader.next_row(row)) {
    const float y = in.read_click(row);
    in.read_cells(row, cells);
    const double price = row.number(in.payprice);  // FormatError naming file:line:column
    if (!(price >= 0.0 && price <= detail::kIpinyouMaxPayprice)) {
      raise<FormatError>("{}:{}:{} (column 'payprice'): '{}', expected a finite price in [0, 1e9]",
                         in.reader.source(), row.line(), in.payprice + 1, row.text(in.payprice));
    }
    log.features.append_raw_row(space, cells);
    click.push_back(y);
    payprice.push_back(static_cast<float>(price));
    log.bidid.emplace_back(row.text(in.bidid));
  }
  log.click = detail::ipinyou_to_vector(click);
  log.payprice = detail::ipinyou_to_vector(payprice);
  return log;
}

/// Reads dir/train.log.txt and dir/test.log.txt: fits the vocabulary on train (ipinyou_builder
/// with `options`) and encodes both files with it (see the header comment).
inline IpinyouData read_ipinyou(const std::filesystem::path& dir, IpinyouOptions options = {}) {
  ctr::FeatureSpaceBuilder builder = ipinyou_builder(options);
  const std::filesystem::path train_path = dir / "train.log.txt";
  IpinyouData data;
  std::vector<float> train_click;
  {
    // One pass: count each value (builder) and store a provisional per-field id in the CSR.
    detail::IpinyouReader in(train_path, /*with_price=*/false);
    std::array<detail::IpinyouInterner, kIpinyouNumFields> interners;
    ctr::SparseFeatures& x = data.train_features;
    CsvRow row;
    IpinyouCells cells;
    while (in.reader.next_row(row)) {
      const float y = in.read_click(row);
      in.read_cells(row, cells);
      for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
        const auto field = static_cast<Index>(f);
        auto add = [&](std::string_view value) {
          builder.add(field, value);
          x.push(field, interners[f].intern(value));
        };
        if (f == detail::kIpinyouUsertagField) {
          detail::ipinyou_for_each_tag(cells[f], add);
        } else {
          add(cells[f]);
        }
      }
      x.end_row();
      train_click.push_back(y);
    }
    if (train_click.empty()) {
      raise<DataError>("{}: no rows, expected at least one impression", train_path.string());
    }
    data.space = builder.build();
    // Provisional id -> table row, once per distinct value.
    std::array<std::vector<std::uint32_t>, kIpinyouNumFields> table_row;
    for (std::size_t f = 0; f < kIpinyouNumFields; ++f) {
      const auto& values = interners[f].values();
      table_row[f].resize(values.size());
      for (std::size_t id = 0; id < values.size(); ++id) {
        table_row[f][id] = data.space.encode(static_cast<Index>(f), values[id]);
      }
    }
    for (std::size_t e = 0; e < x.index.size(); ++e) {
      x.index[e] = table_row[x.field[e]][x.index[e]];
    }
  }
  data.train_click = detail::ipinyou_to_vector(train_click);
  IpinyouLog test = read_ipinyou_log(dir / "test.log.txt", data.space);
  data.test_features = std::move(test.features);
  data.test_click = std::move(test.click);
  data.test_payprice = std::move(test.payprice);
  data.test_bidid = std::move(test.bidid);
  return data;
}

}  // namespace tailor::io
