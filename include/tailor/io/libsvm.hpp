// tailor/io/libsvm.hpp — libFM / libSVM sparse files as CTR training data (ctr::SparseFeatures).
//
// Three readers:
//  * read_featindex: the feature-index map of make-ipinyou-data / deep-ctr ("featindex.txt"),
//    one line per feature `field:value<TAB>index`, e.g. `weekday:other\t0`. The field name is the
//    text before the FIRST ':' (values may contain ':'); the index is a non-negative decimal
//    integer after the tab. Every index in [0, max] must be listed exactly once, in any order.
//    It becomes a ctr::FeatureSpace with one FieldKind::vocabulary field per field name, in order
//    of first appearance in the file; a field's values are its entries in increasing index
//    order; its OOV row is the entry whose value is "other" (make-ipinyou-data's "col:other"
//    convention: rare values were already folded into it), or else an extra last row "<oov>".
//    LibfmIndex::table_row maps each file index to its row of the shared table
//    (space.offset(field) + local row), so files whose fields own non-contiguous index ranges
//    still work.
//  * read_libfm: rows `label idx:val idx:val ...` whose indices refer to a featindex map. Each
//    row's entries are stored sorted by (field, table row); a field may appear at most once per
//    row (the vocabulary fields are single-valued).
//  * read_libsvm: plain libSVM rows without a field map: one multi-valued FieldKind::integer field
//    "features" with cardinality = largest index + 1 (plus the OOV row of the integer kind), and
//    table row = index. Each row's entries are sorted by index; an index may appear once per row.
//
// Row format (read_libfm and read_libsvm share one parser): tokens separated by spaces or tabs;
// the label is exactly "0" or "1" (no "-1", "+1" or "1.0": the files this reads use 0/1, and a
// strict label catches a file in another convention instead of silently mislabelling it); then
// `index:value` pairs, index a non-negative decimal integer, value a finite decimal number
// (std::from_chars: 1, 0.5, -2e-3). A line with a label only is a row without entries. Lines end
// with LF or CRLF; blank lines are skipped anywhere (as read_csv does). Values are stored only
// when some value is not 1 (SparseFeatures::value stays empty for one-hot files).
//
// Errors: FormatError naming file:line (1-based physical line) and what was expected:
//   "train.fm.txt:17: label '2', expected 0 or 1"
//   "train.fm.txt:9: index 140000 is not in the feature index (indices 0 to 133464)"
//   "train.fm.txt:4: field 'hour' appears twice (indices 6 and 7), expected at most once per row"
//   "featindex.txt:3: no tab in 'hour:01 7', expected field:value<TAB>index"
// A file without rows (read_libfm, read_libsvm) or without entries (read_featindex) is a
// DataError; a missing file is a tailor::Error naming the path.
//
// Complexity: O(bytes) time; the file is read once into one buffer and parsed in place
// (std::from_chars, a fast path for the value "1", no allocation per line); memory is the file
// plus the CSR arrays (6 bytes per entry, +4 with values). read_featindex also sorts each field's
// entries by index (O(n log n)) and hashes every `field:value` once to reject duplicates.
#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/io/detail/text_file.hpp"

namespace tailor::io {

/// A featindex map: the feature space it defines and, for each file index, its table row.
struct LibfmIndex {
  ctr::FeatureSpace space;
  /// table_row[file_index] = space.offset(field) + local row of that feature.
  std::vector<std::uint32_t> table_row;
};

/// Rows of a libFM file encoded with a LibfmIndex (the space is the index's).
struct LibfmData {
  ctr::SparseFeatures features;
  Eigen::VectorXf click;  ///< the labels, 0 or 1
};

/// Rows of a plain libSVM file and the one-field space read_libsvm built for them.
struct LibsvmData {
  ctr::FeatureSpace space;
  ctr::SparseFeatures features;
  Eigen::VectorXf click;  ///< the labels, 0 or 1
};

namespace detail {

inline bool libsvm_is_blank(char c) {
  return c == ' ' || c == '\t';
}

/// A non-negative decimal integer filling all of `text` (no sign, no blanks).
inline bool libsvm_parse_index(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

/// One parsed entry of a row, before it is stored.
struct LibsvmEntry {
  std::uint32_t row = 0;         ///< table row
  std::uint16_t field = 0;       ///< field of the table row
  float value = 1.0f;            ///< the entry's value
  std::uint64_t file_index = 0;  ///< the index as written in the file (for messages)
};

/// The row parser shared by read_libfm and read_libsvm. `map(file_index, line)` returns the
/// entry's {field, table row} or throws. After sorting a row's entries by table row, two entries
/// of one field are an error when `single_valued` is given (then it names the field); two
/// entries with the same table row are always an error.
template <class MapIndex>
void libsvm_parse_rows(const TextFile& file, MapIndex&& map, const ctr::FeatureSpace* single_valued,
                       ctr::SparseFeatures& features, std::vector<float>& click) {
  const std::string& source = file.source;
  // Reserve from the first line's length (counting lines would cost an extra pass).
  {
    const std::string_view text = file.text();
    const std::size_t first_end = std::min(text.find('\n'), text.size());
    if (first_end > 0) {
      const std::size_t rows = text.size() / (first_end + 1) * 9 / 8 + 16;
      const std::size_t tokens =
          static_cast<std::size_t>(std::count(text.begin(), text.begin() + first_end, ':'));
      features.row_ptr.reserve(rows + 1);
      features.field.reserve(rows * tokens);
      features.index.reserve(rows * tokens);
      click.reserve(rows);
    }
  }
  std::vector<LibsvmEntry> entries;
  bool with_values = !features.value.empty();
  for_each_line(file.text(), [&](std::string_view line_text, std::size_t line) {
    const char* p = line_text.data();
    const char* const end = p + line_text.size();
    while (p < end && libsvm_is_blank(*p)) ++p;
    if (p == end) return;  // blank line
    const auto next_token = [&] {
      const char* b = p;
      while (p < end && !libsvm_is_blank(*p)) ++p;
      const std::string_view token(b, static_cast<std::size_t>(p - b));
      while (p < end && libsvm_is_blank(*p)) ++p;
      return token;
    };
    const std::string_view label = next_token();
    if (label != "0" && label != "1") {
      raise<FormatError>("{}:{}: label '{}', expected 0 or 1", source, line, label);
    }
    entries.clear();
    while (p < end) {
      const std::string_view token = next_token();
      const std::size_t colon = token.find(':');
      std::uint64_t index = 0;
      if (colon == std::string_view::npos || !libsvm_parse_index(token.substr(0, colon), index)) {
        raise<FormatError>("{}:{}: '{}' is not index:value, expected a non-negative integer index",
                           source, line, token);
      }
      const std::string_view value_text = token.substr(colon + 1);
      float value = 1.0f;
      if (value_text != "1") {
        const char* value_end = value_text.data() + value_text.size();
        const auto [ptr, ec] =
            std::from_chars(value_text.data(), value_end, value, std::chars_format::general);
        if (value_text.empty() || ptr != value_end ||
            (ec != std::errc() && ec != std::errc::result_out_of_range)) {
          raise<FormatError>("{}:{}: '{}' is not index:value, expected a number after ':'", source,
                             line, token);
        }
        if (ec == std::errc::result_out_of_range || !std::isfinite(value)) {
          raise<FormatError>("{}:{}: index {} has value '{}', expected a finite number", source,
                             line, index, value_text);
        }
      }
      const auto [field, row] = map(index, line);
      entries.push_back({row, field, value, index});
    }
    // One-hot files are nearly always sorted already: check before sorting. Equal keys are
    // rejected below, so an unstable sort gives the same result as a stable one.
    const auto by_row = [](const LibsvmEntry& a, const LibsvmEntry& b) { return a.row < b.row; };
    if (!std::is_sorted(entries.begin(), entries.end(), by_row)) {
      std::sort(entries.begin(), entries.end(), by_row);
    }
    for (std::size_t k = 1; k < entries.size(); ++k) {
      const LibsvmEntry& a = entries[k - 1];
      const LibsvmEntry& b = entries[k];
      if (single_valued != nullptr && a.field == b.field) {
        raise<FormatError>(
            "{}:{}: field '{}' appears twice (indices {} and {}), expected at most once per row",
            source, line, single_valued->field(a.field).name, a.file_index, b.file_index);
      }
      if (a.row == b.row) {
        raise<FormatError>("{}:{}: index {} appears twice, expected at most once per row", source,
                           line, a.file_index);
      }
    }
    // As SparseFeatures::push (values kept only once one is not 1, earlier ones filled with 1),
    // with the state in a flag: push loses a first entry's value when no entry precedes it.
    for (const LibsvmEntry& entry : entries) {
      if (entry.value != 1.0f && !with_values) {
        with_values = true;
        features.value.assign(features.index.size(), 1.0f);
      }
      features.field.push_back(entry.field);
      features.index.push_back(entry.row);
      if (with_values) features.value.push_back(entry.value);
    }
    features.end_row();
    click.push_back(label[0] == '1' ? 1.0f : 0.0f);
  });
  if (click.empty()) raise<DataError>("{}: no rows, expected at least one labelled line", source);
}

inline Eigen::VectorXf libsvm_to_vector(const std::vector<float>& values) {
  return Eigen::Map<const Eigen::VectorXf>(values.data(), static_cast<Eigen::Index>(values.size()));
}

}  // namespace detail

/// Reads a make-ipinyou-data / deep-ctr feature-index file (see the header comment).
inline LibfmIndex read_featindex(const std::filesystem::path& path) {
  const detail::TextFile file = detail::read_text_file(path);
  const std::string& source = file.source;

  struct Feature {
    std::string_view value;
    std::uint64_t index = 0;
    std::size_t line = 0;
    std::uint32_t field = 0;
  };
  std::vector<Feature> features;        // in file order
  std::vector<std::string_view> names;  // fields in order of first appearance
  std::unordered_map<std::string_view, std::uint32_t> field_of_name;
  std::uint64_t max_index = 0;
  std::size_t max_line = 0;
  features.reserve(file.size / 16 + 16);

  detail::for_each_line(file.text(), [&](std::string_view line_text, std::size_t line) {
    if (line_text.find_first_not_of(" \t") == std::string_view::npos) return;
    const std::size_t tab = line_text.rfind('\t');
    if (tab == std::string_view::npos) {
      raise<FormatError>("{}:{}: no tab in '{}', expected field:value<TAB>index", source, line,
                         line_text);
    }
    const std::string_view key = line_text.substr(0, tab);
    const std::size_t colon = key.find(':');
    if (colon == std::string_view::npos) {
      raise<FormatError>("{}:{}: no ':' in '{}', expected field:value<TAB>index", source, line,
                         key);
    }
    if (colon == 0) {
      raise<FormatError>("{}:{}: empty field name in '{}', expected field:value<TAB>index", source,
                         line, key);
    }
    std::string_view index_text = line_text.substr(tab + 1);
    while (!index_text.empty() && detail::libsvm_is_blank(index_text.back())) {
      index_text.remove_suffix(1);
    }
    std::uint64_t index = 0;
    if (!detail::libsvm_parse_index(index_text, index)) {
      raise<FormatError>("{}:{}: index '{}' of '{}', expected a non-negative integer", source, line,
                         index_text, key);
    }
    if (index >= static_cast<std::uint64_t>(ctr::FeatureSpace::kMaxRows)) {
      raise<FormatError>("{}:{}: index {} of '{}', expected an index below 2^31", source, line,
                         index, key);
    }
    const std::string_view name = key.substr(0, colon);
    const auto [it, added] =
        field_of_name.try_emplace(name, static_cast<std::uint32_t>(names.size()));
    if (added) names.push_back(name);
    features.push_back({key.substr(colon + 1), index, line, it->second});
    if (index >= max_index) {
      max_index = index;
      max_line = line;
    }
  });
  const std::size_t count = features.size();
  if (count == 0) raise<DataError>("{}: no entries, expected lines field:value<TAB>index", source);

  // Duplicate indices (reported at the later line), then gaps. When max_index >= count some
  // index in [0, count) is missing, so an array of `count` slots finds both in the usual case.
  std::vector<std::size_t> line_of(count, 0);
  std::unordered_map<std::uint64_t, std::size_t> line_of_large;  // indices >= count (rare)
  for (const Feature& feature : features) {
    std::size_t& seen = feature.index < count ? line_of[static_cast<std::size_t>(feature.index)]
                                              : line_of_large[feature.index];
    if (seen != 0) {
      raise<FormatError>(
          "{}:{}: index {} is listed twice (also on line {}), expected each index once", source,
          feature.line, feature.index, seen);
    }
    seen = feature.line;
  }
  if (max_index + 1 != count) {
    const auto gap = static_cast<std::size_t>(
        std::find(line_of.begin(), line_of.end(), std::size_t{0}) - line_of.begin());
    raise<FormatError>(
        "{}: index {} is never listed, expected every index from 0 to {} (the largest, on line "
        "{})",
        source, gap, max_index, max_line);
  }

  // Group by field (in order of first appearance), each field's features by increasing index.
  std::vector<std::uint32_t> order(count);
  for (std::size_t k = 0; k < count; ++k) order[k] = static_cast<std::uint32_t>(k);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Feature& x = features[a];
    const Feature& y = features[b];
    return x.field != y.field ? x.field < y.field : x.index < y.index;
  });

  // Fields: values in increasing index order; OOV = "other" or an appended "<oov>".
  std::vector<ctr::Field> fields(names.size());
  std::unordered_map<std::string_view, std::size_t> line_of_value;
  std::size_t k = 0;
  for (std::size_t f = 0; f < names.size(); ++f) {
    ctr::Field& field = fields[f];
    field.name = std::string(names[f]);
    field.kind = ctr::FieldKind::vocabulary;
    line_of_value.clear();
    for (; k < count && features[order[k]].field == f; ++k) {
      const Feature& feature = features[order[k]];
      const auto [it, added] = line_of_value.try_emplace(feature.value, feature.line);
      if (!added) {
        raise<FormatError>(
            "{}:{}: feature '{}:{}' is listed twice (also on line {}), expected each feature once",
            source, std::max(it->second, feature.line), names[f], feature.value,
            std::min(it->second, feature.line));
      }
      if (feature.value == "other") field.oov = static_cast<Index>(field.values.size());
      field.values.emplace_back(feature.value);
    }
    if (field.oov < 0) {
      field.oov = static_cast<Index>(field.values.size());
      field.values.emplace_back("<oov>");
    }
    field.rows = static_cast<Index>(field.values.size());
  }
  LibfmIndex result;
  try {
    result.space = ctr::FeatureSpace(std::move(fields));
  } catch (const InvalidArgument& e) {
    raise<FormatError>("{}: not a usable feature space ({})", source, e.what());
  }
  result.table_row.assign(count, 0);
  k = 0;
  for (std::size_t f = 0; f < names.size(); ++f) {
    const auto offset = static_cast<std::uint32_t>(result.space.offset(static_cast<Index>(f)));
    for (std::uint32_t r = 0; k < count && features[order[k]].field == f; ++k, ++r) {
      result.table_row[static_cast<std::size_t>(features[order[k]].index)] = offset + r;
    }
  }
  return result;
}

/// Reads a libFM file whose indices refer to `index` (see the header comment).
inline LibfmData read_libfm(const std::filesystem::path& path, const LibfmIndex& index) {
  const detail::TextFile file = detail::read_text_file(path);
  const ctr::FeatureSpace& space = index.space;
  if (space.num_fields() == 0 || index.table_row.empty()) {
    raise<InvalidArgument>(
        "read_libfm: the feature index is empty, expected one from "
        "read_featindex");
  }
  const std::uint64_t num_indices = index.table_row.size();
  // The field of each table row, so the hot loop does no binary search.
  std::vector<std::uint16_t> field_of_row(static_cast<std::size_t>(space.num_rows()));
  for (Index f = 0; f < space.num_fields(); ++f) {
    std::fill(field_of_row.begin() + space.offset(f), field_of_row.begin() + space.offset(f + 1),
              static_cast<std::uint16_t>(f));
  }
  const auto map = [&](std::uint64_t file_index, std::size_t line) {
    if (file_index >= num_indices) {
      raise<FormatError>("{}:{}: index {} is not in the feature index (indices 0 to {})",
                         file.source, line, file_index, num_indices - 1);
    }
    const std::uint32_t row = index.table_row[static_cast<std::size_t>(file_index)];
    if (row >= field_of_row.size()) {
      raise<InvalidArgument>(
          "read_libfm: table_row[{}] = {} lies outside the feature space ({} "
          "rows)",
          file_index, row, field_of_row.size());
    }
    return std::pair<std::uint16_t, std::uint32_t>{field_of_row[row], row};
  };
  LibfmData result;
  std::vector<float> click;
  detail::libsvm_parse_rows(file, map, &space, result.features, click);
  result.click = detail::libsvm_to_vector(click);
  return result;
}

/// Reads a plain libSVM file into one multi-valued integer field "features" (see the header
/// comment).
inline LibsvmData read_libsvm(const std::filesystem::path& path) {
  const detail::TextFile file = detail::read_text_file(path);
  // The integer field's OOV row is `cardinality` = max index + 1, so the table has max + 2 rows.
  constexpr std::uint64_t kMaxIndex = static_cast<std::uint64_t>(ctr::FeatureSpace::kMaxRows) - 2;
  std::uint64_t max_index = 0;
  const auto map = [&](std::uint64_t file_index, std::size_t line) {
    if (file_index > kMaxIndex) {
      raise<FormatError>("{}:{}: index {}, expected an index of at most {}", file.source, line,
                         file_index, kMaxIndex);
    }
    max_index = std::max(max_index, file_index);
    return std::pair<std::uint16_t, std::uint32_t>{0, static_cast<std::uint32_t>(file_index)};
  };
  LibsvmData result;
  std::vector<float> click;
  detail::libsvm_parse_rows(file, map, nullptr, result.features, click);
  result.click = detail::libsvm_to_vector(click);
  result.space = ctr::FeatureSpaceBuilder({ctr::FieldSpec{
                                              .name = "features",
                                              .kind = ctr::FieldKind::integer,
                                              .cardinality = static_cast<Index>(max_index) + 1,
                                              .multi_valued = true,
                                          }})
                     .build();
  return result;
}

}  // namespace tailor::io
