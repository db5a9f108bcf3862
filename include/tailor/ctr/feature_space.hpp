// tailor/ctr/feature_space.hpp — the fitted feature encoder of every CTR model: named categorical
// fields mapped into ONE shared embedding table (each field owns a contiguous range of rows), so
// a server maps raw strings to table rows exactly as training did.
//
// A field is one of three kinds:
//   vocabulary  strings -> rows through a vocabulary fitted on training data; values seen fewer
//               than `min_count` times, and values never seen, share the field's one
//               out-of-vocabulary (OOV) row, so unseen ids never go out of range;
//   hashed      strings -> hash(value, field seed) mod hash_buckets, for unbounded id spaces;
//   integer     pre-indexed ids in [0, cardinality) (libFM files, generated worlds); any other
//               value goes to the OOV row `cardinality`.
// Multi-valued fields (iPinYou usertag, histories) hold several values per row, split on the
// field's separator; models that need one vector per field pool them (sum, mean or sqrt(n)).
//
// The hash is tailor's own and part of the file format (never std::hash, whose output differs
// between standard libraries): see hash_bytes below. Lookups are O(length of the value).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::ctr {

/// How a model that needs one vector per field combines a multi-valued field's embeddings:
/// sum, mean (sum / n) or sqrtn (sum / sqrt(n)), as TensorFlow's embedding combiners.
enum class Pooling : std::uint8_t { sum = 0, mean = 1, sqrtn = 2 };

/// How a field's raw values become table rows (see the file comment).
enum class FieldKind : std::uint8_t { vocabulary = 0, hashed = 1, integer = 2 };

namespace detail {

/// splitmix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace detail

/// tailor's stable 64-bit string hash, version 1 (part of the model file format; changing it
/// would silently remap hashed fields, so it never changes):
///   h = mix(seed + φ·(len + 1));  for each 8-byte little-endian word w (the tail zero-padded):
///   h = mix(h ^ w) + φ;  result = mix(h ^ len),
/// with φ = 0x9E3779B97F4A7C15 and mix the splitmix64 finaliser. Platform- and
/// endianness-independent; every input bit affects every output bit after two mixes.
constexpr std::uint64_t hash_bytes(std::string_view text, std::uint64_t seed) {
  constexpr std::uint64_t kPhi = 0x9E3779B97F4A7C15ULL;
  const auto length = static_cast<std::uint64_t>(text.size());
  std::uint64_t h = detail::mix64(seed + kPhi * (length + 1));
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint64_t word = 0;
    for (std::size_t b = 0; b < 8 && i + b < text.size(); ++b) {
      word |= static_cast<std::uint64_t>(static_cast<unsigned char>(text[i + b])) << (8 * b);
    }
    h = detail::mix64(h ^ word) + kPhi;
    i += 8;
  }
  return detail::mix64(h ^ length);
}

/// What the user declares about a field before fitting.
struct FieldSpec {
  std::string name = {};
  FieldKind kind = FieldKind::vocabulary;
  /// integer fields: ids in [0, cardinality); the OOV row is `cardinality`.
  Index cardinality = 0;
  /// hashed fields: the number of rows values are hashed into (no OOV row needed).
  Index hash_buckets = 0;
  /// vocabulary fields: values seen fewer times in the training data share the OOV row.
  Index min_count = 1;
  bool multi_valued = false;
  /// multi-valued fields: the separator between values in one raw cell ("1,5,9").
  char separator = ',';
  Pooling pooling = Pooling::sum;
};

/// A fitted field: its rows in the shared table and how raw values map to them.
struct Field {
  std::string name = {};
  FieldKind kind = FieldKind::vocabulary;
  /// Rows this field owns in the shared table (including the OOV row where there is one).
  Index rows = 0;
  /// Local row of unseen values (vocabulary, integer); -1 for hashed fields.
  Index oov = -1;
  /// vocabulary fields: the value of each local row (the OOV row's entry may be any label).
  std::vector<std::string> values = {};
  /// hashed fields: the per-field seed of hash_bytes.
  std::uint64_t hash_seed = 0;
  bool multi_valued = false;
  char separator = ',';
  Pooling pooling = Pooling::sum;

  friend bool operator==(const Field&, const Field&) = default;
};

/// The fitted encoder: fields, each with a contiguous range [offset(f), offset(f) + rows) of one
/// shared table. Immutable after construction; encode() is const and thread-safe.
class FeatureSpace {
 public:
  /// Upper bound on the shared table's rows: indices are stored as uint32.
  static constexpr Index kMaxRows = Index{1} << 31;
  static constexpr Index kMaxFields = 65535;

  FeatureSpace() = default;

  /// From fitted fields (a vocabulary field's `values` give its rows; see FeatureSpaceBuilder to
  /// fit them from data). Throws InvalidArgument on empty or duplicate names, a field without
  /// rows, an OOV row out of range, or more than kMaxRows rows in all.
  explicit FeatureSpace(std::vector<Field> fields) : fields_(std::move(fields)) {
    constexpr std::string_view kContext = "FeatureSpace";
    check_param(!fields_.empty(), kContext, "number of fields", 0, "at least 1");
    check_param(static_cast<Index>(fields_.size()) <= kMaxFields, kContext, "number of fields",
                fields_.size(), "at most 65535");
    offsets_.assign(fields_.size() + 1, 0);
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      const Field& field = fields_[f];
      if (field.name.empty()) raise<InvalidArgument>("{}: field {} has an empty name", kContext, f);
      for (std::size_t g = 0; g < f; ++g) {
        if (fields_[g].name == field.name) {
          raise<InvalidArgument>("{}: field name '{}' is used by fields {} and {}", kContext,
                                 field.name, g, f);
        }
      }
      if (field.rows < 1) {
        raise<InvalidArgument>("{}: field '{}' has rows = {}, expected at least 1", kContext,
                               field.name, field.rows);
      }
      if (field.kind == FieldKind::hashed) {
        if (field.oov != -1) {
          raise<InvalidArgument>("{}: hashed field '{}' has oov = {}, expected -1", kContext,
                                 field.name, field.oov);
        }
      } else if (field.oov < 0 || field.oov >= field.rows) {
        raise<InvalidArgument>("{}: field '{}' has oov = {}, expected a row in [0, {})", kContext,
                               field.name, field.oov, field.rows);
      }
      if (field.kind == FieldKind::vocabulary &&
          static_cast<Index>(field.values.size()) != field.rows) {
        raise<InvalidArgument>("{}: vocabulary field '{}' has {} values for {} rows", kContext,
                               field.name, field.values.size(), field.rows);
      }
      offsets_[f + 1] = offsets_[f] + field.rows;
      if (offsets_[f + 1] > kMaxRows) {
        raise<InvalidArgument>("{}: the fields need more than {} table rows", kContext, kMaxRows);
      }
    }
    build_lookup();
  }

  Index num_fields() const { return static_cast<Index>(fields_.size()); }
  /// Rows of the shared table (all fields).
  Index num_rows() const { return offsets_.empty() ? 0 : offsets_.back(); }
  const Field& field(Index f) const { return fields_[static_cast<std::size_t>(f)]; }
  const std::vector<Field>& fields() const { return fields_; }
  /// First table row of field f; offset(num_fields()) == num_rows().
  Index offset(Index f) const { return offsets_[static_cast<std::size_t>(f)]; }
  /// The field's index, or -1 when no field has that name.
  Index find(std::string_view name) const {
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      if (fields_[f].name == name) return static_cast<Index>(f);
    }
    return -1;
  }
  /// The field that owns table row `row` (binary search over the offsets).
  Index field_of_row(Index row) const {
    const auto it = std::upper_bound(offsets_.begin(), offsets_.end(), row);
    return static_cast<Index>(it - offsets_.begin()) - 1;
  }

  /// Table row of one raw value of field f (a single value, not a multi-valued cell).
  std::uint32_t encode(Index f, std::string_view value) const {
    const Field& field = fields_[static_cast<std::size_t>(f)];
    const Index offset = offsets_[static_cast<std::size_t>(f)];
    switch (field.kind) {
      case FieldKind::hashed:
        return static_cast<std::uint32_t>(
            offset + static_cast<Index>(hash_bytes(value, field.hash_seed) %
                                        static_cast<std::uint64_t>(field.rows)));
      case FieldKind::integer: {
        const Index id = parse_id(value);
        return static_cast<std::uint32_t>(offset + (id >= 0 && id < field.oov ? id : field.oov));
      }
      case FieldKind::vocabulary:
      default: {
        const auto& lookup = lookups_[static_cast<std::size_t>(f)];
        const auto it = lookup.find(value);
        return static_cast<std::uint32_t>(offset + (it == lookup.end() ? field.oov : it->second));
      }
    }
  }

  /// Calls emit(table_row) for each value of a raw cell of field f: one value, or for a
  /// multi-valued field each non-empty piece between separators (an empty cell emits nothing).
  template <class Emit>
  void encode_cell(Index f, std::string_view cell, Emit&& emit) const {
    const Field& field = fields_[static_cast<std::size_t>(f)];
    if (!field.multi_valued) {
      emit(encode(f, cell));
      return;
    }
    std::size_t start = 0;
    while (start <= cell.size()) {
      std::size_t end = cell.find(field.separator, start);
      if (end == std::string_view::npos) end = cell.size();
      if (end > start) emit(encode(f, cell.substr(start, end - start)));
      start = end + 1;
    }
  }

  /// Same fields, kinds and rows (what decides whether a model can read encoded data).
  friend bool operator==(const FeatureSpace& a, const FeatureSpace& b) {
    return a.fields_ == b.fields_;
  }

  /// Bytes of the encoder's own memory (vocabulary strings and lookups, roughly).
  std::size_t memory_bytes() const {
    std::size_t bytes = offsets_.size() * sizeof(Index);
    for (const auto& field : fields_) {
      for (const auto& value : field.values) bytes += value.capacity() + sizeof(std::string) + 32;
    }
    return bytes;
  }

  /// Binary save (core/serialization.hpp): header "ctr::FeatureSpace" v1; nested in every CTR
  /// model's file so serving maps raw strings exactly as training did.
  void save(BinaryWriter& out) const {
    out.write_header("ctr::FeatureSpace", 1);
    out.write(static_cast<std::uint64_t>(fields_.size()));
    for (const auto& field : fields_) {
      out.write(std::string_view(field.name));
      out.write(field.kind);
      out.write(static_cast<std::int64_t>(field.rows));
      out.write(static_cast<std::int64_t>(field.oov));
      out.write(field.values);
      out.write(field.hash_seed);
      out.write(field.multi_valued);
      out.write(field.separator);
      out.write(field.pooling);
    }
  }

  static FeatureSpace load(BinaryReader& in) {
    in.read_header("ctr::FeatureSpace", 1);
    const auto count = in.read<std::uint64_t>("number of fields");
    if (count == 0 || count > static_cast<std::uint64_t>(kMaxFields)) {
      raise<FormatError>("ctr::FeatureSpace: number of fields = {}, expected 1 to {}", count,
                         kMaxFields);
    }
    std::vector<Field> fields;
    for (std::uint64_t f = 0; f < count; ++f) {
      Field field;
      field.name = in.read<std::string>("field name");
      field.kind = in.read<FieldKind>("field kind");
      if (static_cast<unsigned>(field.kind) > 2) {
        raise<FormatError>("ctr::FeatureSpace: field '{}' has kind {}, expected 0, 1 or 2",
                           field.name, static_cast<unsigned>(field.kind));
      }
      field.rows = static_cast<Index>(in.read<std::int64_t>("field rows"));
      field.oov = static_cast<Index>(in.read<std::int64_t>("field oov"));
      field.values = in.read<std::vector<std::string>>("field values");
      field.hash_seed = in.read<std::uint64_t>("field hash seed");
      field.multi_valued = in.read<bool>("field multi_valued");
      field.separator = in.read<char>("field separator");
      field.pooling = in.read<Pooling>("field pooling");
      if (static_cast<unsigned>(field.pooling) > 2) {
        raise<FormatError>("ctr::FeatureSpace: field '{}' has pooling {}, expected 0, 1 or 2",
                           field.name, static_cast<unsigned>(field.pooling));
      }
      fields.push_back(std::move(field));
    }
    try {
      return FeatureSpace(std::move(fields));
    } catch (const InvalidArgument& e) {
      raise<FormatError>("model file: corrupt feature space ({})", e.what());
    }
  }

 private:
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return static_cast<std::size_t>(hash_bytes(s, 0));
    }
  };

  /// A non-negative decimal id, or -1 when `text` is not one (then the value goes to OOV).
  static Index parse_id(std::string_view text) {
    if (text.empty() || text.size() > 18) return -1;
    Index id = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return -1;
      id = id * 10 + (c - '0');
    }
    return id;
  }

  void build_lookup() {
    lookups_.assign(fields_.size(), {});
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      const Field& field = fields_[f];
      if (field.kind != FieldKind::vocabulary) continue;
      auto& lookup = lookups_[f];
      lookup.reserve(field.values.size());
      for (std::size_t r = 0; r < field.values.size(); ++r) {
        if (static_cast<Index>(r) == field.oov) continue;
        if (!lookup.emplace(field.values[r], static_cast<Index>(r)).second) {
          raise<InvalidArgument>("FeatureSpace: field '{}' lists the value '{}' twice", field.name,
                                 field.values[r]);
        }
      }
    }
  }

  std::vector<Field> fields_;
  std::vector<Index> offsets_;
  std::vector<std::unordered_map<std::string, Index, TransparentHash, std::equal_to<>>> lookups_;
};

/// Fits a FeatureSpace from raw training values: count each value per vocabulary field, then
/// build() keeps values seen at least min_count times (in order of decreasing count, ties by
/// value, so the result does not depend on the order rows arrive in) plus one OOV row, last.
class FeatureSpaceBuilder {
 public:
  explicit FeatureSpaceBuilder(std::vector<FieldSpec> specs) : specs_(std::move(specs)) {
    constexpr std::string_view kContext = "FeatureSpaceBuilder";
    check_param(!specs_.empty(), kContext, "number of fields", 0, "at least 1");
    for (const auto& spec : specs_) {
      switch (spec.kind) {
        case FieldKind::vocabulary:
          check_param(spec.min_count >= 1, kContext, fmt::format("{}.min_count", spec.name),
                      spec.min_count, "at least 1");
          break;
        case FieldKind::hashed:
          check_param(spec.hash_buckets >= 1 && spec.hash_buckets < FeatureSpace::kMaxRows,
                      kContext, fmt::format("{}.hash_buckets", spec.name), spec.hash_buckets,
                      "between 1 and 2^31 - 1");
          break;
        case FieldKind::integer:
          check_param(spec.cardinality >= 1 && spec.cardinality < FeatureSpace::kMaxRows, kContext,
                      fmt::format("{}.cardinality", spec.name), spec.cardinality,
                      "between 1 and 2^31 - 1");
          break;
      }
    }
    counts_.resize(specs_.size());
  }

  Index num_fields() const { return static_cast<Index>(specs_.size()); }

  /// Counts one raw cell of field f (split on the separator for multi-valued fields).
  void add(Index f, std::string_view cell) {
    if (f < 0 || f >= num_fields()) {
      raise<InvalidArgument>("FeatureSpaceBuilder::add: field = {}, expected a field in [0, {})", f,
                             num_fields());
    }
    const FieldSpec& spec = specs_[static_cast<std::size_t>(f)];
    if (spec.kind != FieldKind::vocabulary) return;
    auto count_one = [&](std::string_view value) {
      auto& counts = counts_[static_cast<std::size_t>(f)];
      const auto it = counts.find(value);
      if (it == counts.end()) {
        counts.emplace(std::string(value), 1);
      } else {
        ++it->second;
      }
    };
    if (!spec.multi_valued) {
      count_one(cell);
      return;
    }
    std::size_t start = 0;
    while (start <= cell.size()) {
      std::size_t end = cell.find(spec.separator, start);
      if (end == std::string_view::npos) end = cell.size();
      if (end > start) count_one(cell.substr(start, end - start));
      start = end + 1;
    }
  }

  /// Counts one raw row: one cell per field, in field order.
  void add_row(std::span<const std::string_view> cells) {
    if (static_cast<Index>(cells.size()) != num_fields()) {
      raise<InvalidArgument>(
          "FeatureSpaceBuilder::add_row: number of cells = {}, expected {} (one "
          "per field)",
          cells.size(), num_fields());
    }
    for (std::size_t f = 0; f < cells.size(); ++f) add(static_cast<Index>(f), cells[f]);
  }

  FeatureSpace build() const {
    std::vector<Field> fields;
    fields.reserve(specs_.size());
    for (std::size_t f = 0; f < specs_.size(); ++f) {
      const FieldSpec& spec = specs_[f];
      Field field;
      field.name = spec.name;
      field.kind = spec.kind;
      field.multi_valued = spec.multi_valued;
      field.separator = spec.separator;
      field.pooling = spec.pooling;
      switch (spec.kind) {
        case FieldKind::hashed:
          field.rows = spec.hash_buckets;
          field.oov = -1;
          // One seed per field, so equal values in two fields land in unrelated buckets.
          field.hash_seed = hash_bytes(spec.name, 0x7461696C6F72ULL);  // "tailor"
          break;
        case FieldKind::integer:
          field.rows = spec.cardinality + 1;
          field.oov = spec.cardinality;
          break;
        case FieldKind::vocabulary: {
          std::vector<std::pair<std::string_view, Index>> kept;
          for (const auto& [value, count] : counts_[f]) {
            if (count >= spec.min_count) kept.emplace_back(value, count);
          }
          std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
          });
          for (const auto& [value, count] : kept) field.values.emplace_back(value);
          field.oov = static_cast<Index>(field.values.size());
          field.values.emplace_back("<oov>");
          field.rows = static_cast<Index>(field.values.size());
          break;
        }
      }
      fields.push_back(std::move(field));
    }
    return FeatureSpace(std::move(fields));
  }

 private:
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return static_cast<std::size_t>(hash_bytes(s, 0));
    }
  };
  std::vector<FieldSpec> specs_;
  std::vector<std::unordered_map<std::string, Index, TransparentHash, std::equal_to<>>> counts_;
};

}  // namespace tailor::ctr
