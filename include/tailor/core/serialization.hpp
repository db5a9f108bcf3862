// tailor/core/serialization.hpp — versioned, endian-independent binary save/load for fitted models.
//
// File layout (all integers little-endian, fixed width, whatever the host):
//   magic        8 bytes  "TAILOR\0\1"
//   format       u32      kSerializationFormatVersion (this header's own layout)
//   type tag     u64 length + bytes, e.g. "learn::RegressionForest"
//   model ver.   u32      the model's own schema version
//   payload      whatever the model writes with BinaryWriter::write
//   checksum     u32      CRC-32 (IEEE 802.3, reflected, as in zlib/PNG) of every byte above,
//                         written by BinaryWriter::finish() after the outermost model; format 2
//                         and later (format 1 files, which have none, still load)
// Payload encodings: arithmetic scalars as sizeof(T) little-endian bytes (bool as one byte 0/1,
// floating point as its IEEE-754 bit pattern); strings and std::vector<T> as a u64 count then
// the elements; Eigen dense objects as u64 rows, u64 cols, then the coefficients column-major.
//
// Safety: every count read is checked against the bytes left in the stream (known for seekable
// streams) BEFORE anything is allocated, so a truncated or corrupt file throws FormatError
// ("model file (learn::tree::Forest): truncated while reading 'thresholds' at byte 63 (needed
// 800 bytes, 12 left)") instead of crashing or allocating absurd sizes. For non-seekable streams
// (pipes, sockets, decompressing streams) data is read in bounded chunks so memory grows only
// with bytes actually present. Models read their own counts with read_length (checked against a
// per-field maximum and the bytes left, then containers grown as elements arrive) and their
// sizes and indices with read_bounded, so a lying count costs nothing on any stream. The
// checksum turns any corruption that still parses into a FormatError at the end; tailor::load
// turns any other tailor::Error a loader raises on stored values into a FormatError too.
//
// Complexity: O(bytes) time; reading allocates O(bytes actually present).
//
// Usage: tailor::save(model, stream) and tailor::load<Model>(stream) for any fitted model (the
// Serializable concept below); a model's own save/load are written with BinaryWriter/Reader:
//   tailor::BinaryWriter out(stream);
//   out.write_header("learn::RegressionForest", 1);
//   out.write(num_trees); out.write(thresholds); out.write(leaf_values_matrix);
//
//   tailor::BinaryReader in(stream);
//   std::uint32_t version = in.read_header("learn::RegressionForest", 1);
//   auto num_trees = in.read<std::int64_t>("num_trees");
//   auto thresholds = in.read<std::vector<double>>("thresholds");
//   auto leaves = in.read<Eigen::MatrixXd>("leaf_values");
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"

namespace tailor {

/// First 8 bytes of every tailor binary file.
inline constexpr std::array<char, 8> kSerializationMagic = {'T', 'A', 'I',  'L',
                                                            'O', 'R', '\0', '\1'};
/// Version of the container layout above (not of any model's payload). 2 added the checksum.
inline constexpr std::uint32_t kSerializationFormatVersion = 2;
/// Longest type tag accepted; real tags are short ("cate::CausalForest").
inline constexpr std::uint64_t kMaxTypeTagLength = 256;

namespace detail {

template <class T>
inline constexpr bool is_serializable_scalar_v = std::is_arithmetic_v<T> || std::is_enum_v<T>;

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};

template <class T>
concept EigenDensePlain = std::is_base_of_v<Eigen::PlainObjectBase<T>, T>;

/// Unsigned integer of the same width as T, used to move bytes in a fixed (little-endian) order.
template <std::size_t N>
struct unsigned_of_size;
template <>
struct unsigned_of_size<1> {
  using type = std::uint8_t;
};
template <>
struct unsigned_of_size<2> {
  using type = std::uint16_t;
};
template <>
struct unsigned_of_size<4> {
  using type = std::uint32_t;
};
template <>
struct unsigned_of_size<8> {
  using type = std::uint64_t;
};

/// Writes the little-endian byte image of an arithmetic value into `bytes` (sizeof(T) bytes).
template <class T>
void store_little_endian(T value, char* bytes) {
  using U = typename unsigned_of_size<sizeof(T)>::type;
  U bits = std::bit_cast<U>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<char>(static_cast<unsigned char>(bits & 0xFFu));
    if constexpr (sizeof(T) > 1) bits = static_cast<U>(bits >> 8);
  }
}

/// Inverse of store_little_endian.
template <class T>
T load_little_endian(const char* bytes) {
  using U = typename unsigned_of_size<sizeof(T)>::type;
  U bits = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) {
    bits = static_cast<U>((static_cast<std::uint64_t>(bits) << 8) |
                          static_cast<unsigned char>(bytes[i]));
  }
  return std::bit_cast<T>(bits);
}

/// CRC-32 as in IEEE 802.3, zlib and PNG (reflected polynomial 0xEDB88320, initial value and
/// final XOR 0xFFFFFFFF), updated a byte at a time from a 256-entry table (Sarwate 1988).
/// `state` is the running register (start with 0xFFFFFFFF); the checksum is ~state.
class Crc32 {
 public:
  void update(const char* data, std::size_t count) {
    static constexpr std::array<std::uint32_t, 256> table = [] {
      std::array<std::uint32_t, 256> t{};
      for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
      }
      return t;
    }();
    std::uint32_t c = state_;
    for (std::size_t i = 0; i < count; ++i) {
      c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xFFu] ^ (c >> 8);
    }
    state_ = c;
  }
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xFFFFFFFFu;
};

}  // namespace detail

/// Writes the tailor binary format to a std::ostream. Throws tailor::Error when the stream fails.
class BinaryWriter {
 public:
  /// `context` names the destination in error messages (a file name, "model file", ...).
  explicit BinaryWriter(std::ostream& out, std::string context = "model file")
      : out_(out), context_(std::move(context)) {}

  /// Magic, format version, the model's type tag and the model's own schema version.
  void write_header(std::string_view type_tag, std::uint32_t model_version) {
    check_param(!type_tag.empty() && type_tag.size() <= kMaxTypeTagLength, "BinaryWriter",
                "type_tag length", type_tag.size(), "between 1 and 256");
    write_bytes(kSerializationMagic.data(), kSerializationMagic.size());
    write(kSerializationFormatVersion);
    write(type_tag);
    write(model_version);
  }

  /// Arithmetic scalars (bool as one byte) and enums (as their underlying type).
  template <class T>
  requires detail::is_serializable_scalar_v<T>
  void write(T value) {
    if constexpr (std::is_enum_v<T>) {
      write(static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (std::is_same_v<T, bool>) {
      write(static_cast<std::uint8_t>(value ? 1 : 0));
    } else {
      char bytes[sizeof(T)];
      detail::store_little_endian(value, bytes);
      write_bytes(bytes, sizeof(T));
    }
  }

  /// A string: u64 byte count, then the bytes.
  void write(std::string_view text) {
    write(static_cast<std::uint64_t>(text.size()));
    write_bytes(text.data(), text.size());
  }
  void write(const std::string& text) { write(std::string_view(text)); }
  void write(const char* text) { write(std::string_view(text)); }

  /// A vector of scalars or strings: u64 count, then the elements.
  template <class T, class A>
  void write(const std::vector<T, A>& values) {
    static_assert(detail::is_serializable_scalar_v<T> || std::is_same_v<T, std::string>,
                  "BinaryWriter::write(std::vector<T>): T must be arithmetic, an enum or "
                  "std::string");
    write(static_cast<std::uint64_t>(values.size()));
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
      for (const auto& v : values) write(static_cast<T>(v));
    } else {
      write_array(values.data(), values.size());
    }
  }

  /// An Eigen dense matrix/vector/array expression: u64 rows, u64 cols, coefficients
  /// column-major (whatever the expression's storage order).
  template <class Derived>
  void write(const Eigen::DenseBase<Derived>& values) {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_arithmetic_v<Scalar> && !std::is_same_v<Scalar, bool>,
                  "BinaryWriter::write(Eigen): the scalar type must be arithmetic (not bool)");
    write(static_cast<std::uint64_t>(values.rows()));
    write(static_cast<std::uint64_t>(values.cols()));
    const Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor> plain =
        values.derived().array();
    write_array(plain.data(), static_cast<std::size_t>(plain.size()));
  }

  /// Ends the file: writes the CRC-32 of every byte written so far. tailor::save and
  /// save_to_file call it after the outermost model; code that composes its own file with a
  /// BinaryWriter calls it once at the end (and the reader's expect_end checks it).
  void finish() {
    if (finished_) raise<Error>("{}: BinaryWriter::finish called twice", context_);
    const std::uint32_t crc = crc_.value();
    write(crc);
    finished_ = true;
  }

  /// Bytes written through this writer so far.
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  template <class T>
  void write_array(const T* data, std::size_t count) {
    if constexpr (std::endian::native == std::endian::little && !std::is_same_v<T, bool>) {
      write_bytes(reinterpret_cast<const char*>(data), count * sizeof(T));
    } else {
      for (std::size_t i = 0; i < count; ++i) write(data[i]);
    }
  }

  void write_bytes(const char* data, std::size_t count) {
    if (count == 0) return;
    if (finished_) raise<Error>("{}: write after BinaryWriter::finish", context_);
    out_.write(data, static_cast<std::streamsize>(count));
    if (!out_) raise<Error>("{}: write failed after {} bytes", context_, bytes_written_);
    crc_.update(data, count);
    bytes_written_ += count;
  }

  std::ostream& out_;
  std::string context_;
  std::uint64_t bytes_written_ = 0;
  detail::Crc32 crc_;
  bool finished_ = false;
};

/// Reads the tailor binary format from a std::istream; every malformed input throws FormatError
/// naming the source, the model type being read, the field and the byte offset.
class BinaryReader {
 public:
  /// `context` names the source in error messages. For seekable streams the number of bytes left
  /// is measured once here, so absurd lengths are rejected before any allocation.
  explicit BinaryReader(std::istream& in, std::string context = "model file")
      : in_(in), context_(std::move(context)) {
    const std::istream::pos_type start = in_.tellg();
    if (start != std::istream::pos_type(-1)) {
      in_.seekg(0, std::ios::end);
      const std::istream::pos_type end = in_.tellg();
      in_.seekg(start);
      if (in_ && end != std::istream::pos_type(-1) && end >= start) {
        remaining_ = static_cast<std::uint64_t>(end - start);
        size_known_ = true;
      } else {
        in_.clear();
        in_.seekg(start);
      }
    } else {
      in_.clear();
    }
  }

  /// Checks magic, format version and type tag; returns the stored model version, which must be
  /// in [1, max_model_version] so a model can still read its older layouts.
  std::uint32_t read_header(std::string_view expected_type_tag, std::uint32_t max_model_version) {
    std::array<char, 8> magic{};
    const std::uint64_t header_offset = bytes_read_;
    read_bytes(magic.data(), magic.size(), "magic");
    if (magic != kSerializationMagic) {
      raise<FormatError>("{}: not a tailor binary file (bad magic bytes at byte {}, expected {})",
                         context_, header_offset, expected_type_tag);
    }
    const auto format = read<std::uint32_t>("format version");
    if (format == 0 || format > kSerializationFormatVersion) {
      raise<FormatError>("{}: unsupported format version {}, expected 1 to {}", context_, format,
                         kSerializationFormatVersion);
    }
    // The outermost header decides whether the file ends with a checksum; nested models inside
    // a file carry the same format number.
    if (container_format_ == 0) container_format_ = format;
    const std::uint64_t tag_length = read_length("type tag", kMaxTypeTagLength, 1);
    std::string tag(static_cast<std::size_t>(tag_length), '\0');
    read_bytes(tag.data(), tag.size(), "type tag");
    if (tag != expected_type_tag) {
      raise<FormatError>("{}: expected type tag '{}', found '{}'", context_, expected_type_tag,
                         printable(tag));
    }
    type_tag_ = tag;
    const auto version = read<std::uint32_t>("model version");
    if (version == 0 || version > max_model_version) {
      raise<FormatError>("{}: unsupported {} version {}, expected 1 to {}", context_,
                         expected_type_tag, version, max_model_version);
    }
    return version;
  }

  /// Reads a value written by BinaryWriter::write. T: arithmetic, enum, std::string,
  /// std::vector<arithmetic | enum | std::string>, or a plain Eigen dense type (MatrixXd,
  /// VectorXf, ArrayXi, fixed sizes, ...). `what` names the field in error messages.
  template <class T>
  T read(std::string_view what) {
    if constexpr (std::is_enum_v<T>) {
      return static_cast<T>(read<std::underlying_type_t<T>>(what));
    } else if constexpr (std::is_same_v<T, bool>) {
      const std::uint64_t offset = bytes_read_;
      const auto byte = read<std::uint8_t>(what);
      if (byte > 1) {
        raise<FormatError>("{}: '{}' = {} at byte {}, expected a boolean 0 or 1", where(), what,
                           byte, offset);
      }
      return byte == 1;
    } else if constexpr (std::is_arithmetic_v<T>) {
      char bytes[sizeof(T)];
      read_bytes(bytes, sizeof(T), what);
      return detail::load_little_endian<T>(bytes);
    } else if constexpr (std::is_same_v<T, std::string>) {
      const std::uint64_t length = read_count(what, 1);
      std::string text;
      read_chunked(text, length, what);
      return text;
    } else if constexpr (detail::is_std_vector<T>::value) {
      return read_std_vector<T>(what);
    } else if constexpr (detail::EigenDensePlain<T>) {
      return read_eigen<T>(what);
    } else {
      static_assert(sizeof(T) == 0, "BinaryReader::read<T>: unsupported type");
    }
  }

  /// Reads into an existing variable (type deduced).
  template <class T>
  void read_into(T& value, std::string_view what) {
    value = read<T>(what);
  }

  /// Reads an integer (or enum) stored as T and checks lo <= value <= hi before the caller uses
  /// it as a size, an index or a loop bound: "'num_features' = -3 at byte 40, expected 1 to
  /// 1048576". Floating-point T also rejects NaN.
  template <class T>
  T read_bounded(std::string_view what, T lo, T hi) {
    const std::uint64_t offset = bytes_read_;
    const T value = read<T>(what);
    if constexpr (std::is_enum_v<T>) {
      using U = std::underlying_type_t<T>;
      if (static_cast<U>(value) < static_cast<U>(lo) ||
          static_cast<U>(value) > static_cast<U>(hi)) {
        raise<FormatError>("{}: '{}' = {} at byte {}, expected {} to {}", where(), what,
                           static_cast<U>(value), offset, static_cast<U>(lo), static_cast<U>(hi));
      }
    } else {
      if (!(value >= lo && value <= hi)) {
        raise<FormatError>("{}: '{}' = {} at byte {}, expected {} to {}", where(), what, value,
                           offset, lo, hi);
      }
    }
    return value;
  }

  /// Reads the u64 element count of a sequence the caller reads element by element, and checks
  /// it against `max_count` and, where the stream size is known, against the bytes left (each
  /// element takes at least `min_element_bytes`). Grow containers as elements are read (or
  /// reserve at most reserve_limit()): a count that lies on a non-seekable stream then costs
  /// only the bytes actually present.
  std::uint64_t read_length(std::string_view what, std::uint64_t max_count,
                            std::uint64_t min_element_bytes) {
    const std::uint64_t offset = bytes_read_;
    const auto count = read<std::uint64_t>(what);
    if (count > max_count) {
      raise<FormatError>("{}: '{}' count {} at byte {} exceeds the maximum {}", where(), what,
                         count, offset, max_count);
    }
    if (min_element_bytes > 0) {
      if (count > std::numeric_limits<std::uint64_t>::max() / min_element_bytes) {
        raise<FormatError>("{}: corrupt length {} for '{}' at byte {}", where(), count, what,
                           offset);
      }
      require(count * min_element_bytes, what);
    }
    return count;
  }

  /// The most elements worth reserving for a count read from the stream before its elements
  /// have been seen: all of them when the stream size is known (read_length checked them),
  /// otherwise a small bound.
  std::uint64_t reserve_limit(std::uint64_t count) const {
    return size_known_ ? count : std::min<std::uint64_t>(count, 4096);
  }

  /// Throws FormatError unless the stream has no bytes left (catches payload/schema mismatches).
  /// Format 2 and later: first reads the trailing CRC-32 and compares it with the bytes read.
  void expect_end() {
    if (container_format_ >= 2) {
      const std::uint32_t computed = crc_.value();
      const std::uint64_t offset = bytes_read_;
      char bytes[4];
      read_bytes(bytes, 4, "checksum");
      const auto stored = detail::load_little_endian<std::uint32_t>(bytes);
      if (stored != computed) {
        raise<FormatError>(
            "{}: checksum mismatch at byte {} (stored {:08x}, computed {:08x}): the file is "
            "corrupt",
            where(), offset, stored, computed);
      }
    }
    if (size_known_) {
      if (remaining_ != 0) {
        raise<FormatError>("{}: {} unexpected trailing bytes after the model data", context_,
                           remaining_);
      }
      return;
    }
    if (in_.peek() != std::char_traits<char>::eof()) {
      raise<FormatError>("{}: unexpected trailing bytes after the model data", context_);
    }
  }

  /// Bytes consumed so far.
  std::uint64_t bytes_read() const { return bytes_read_; }
  /// Bytes left, when the stream is seekable (otherwise max()).
  std::uint64_t bytes_left() const {
    return size_known_ ? remaining_ : std::numeric_limits<std::uint64_t>::max();
  }
  /// True when the stream could tell its size (bytes_left() is exact).
  bool size_known() const { return size_known_; }
  const std::string& context() const { return context_; }
  /// "context (type tag)": where errors happen, for a model's own FormatErrors.
  std::string where() const {
    return type_tag_.empty() ? context_ : fmt::format("{} ({})", context_, type_tag_);
  }

 private:
  // Non-seekable streams grow containers in chunks of this many bytes, so a corrupt count can
  // cost at most one chunk before the stream runs dry.
  static constexpr std::uint64_t kChunkBytes = std::uint64_t{1} << 20;

  /// Reads a u64 element count and checks count * element_size against the bytes left.
  std::uint64_t read_count(std::string_view what, std::uint64_t element_size) {
    return read_length(what, std::numeric_limits<std::uint64_t>::max(), element_size);
  }

  void require(std::uint64_t needed, std::string_view what) const {
    if (size_known_ && needed > remaining_) {
      raise<FormatError>("{}: truncated while reading '{}' at byte {} (needed {} bytes, {} left)",
                         where(), what, bytes_read_, needed, remaining_);
    }
  }

  void read_bytes(char* data, std::size_t count, std::string_view what) {
    if (count == 0) return;
    require(count, what);
    in_.read(data, static_cast<std::streamsize>(count));
    const auto got = static_cast<std::uint64_t>(in_.gcount());
    if (got != count) {
      raise<FormatError>("{}: truncated while reading '{}' at byte {} (needed {} bytes, {} left)",
                         where(), what, bytes_read_, count, got);
    }
    crc_.update(data, count);
    bytes_read_ += count;
    if (size_known_) remaining_ -= count;
  }

  /// Fills `container` (std::string or std::vector<arithmetic>) with `count` elements; grows in
  /// bounded chunks so that memory follows the bytes actually present.
  template <class Container>
  void read_chunked(Container& container, std::uint64_t count, std::string_view what) {
    using T = typename Container::value_type;
    constexpr std::uint64_t chunk = kChunkBytes / sizeof(T) > 0 ? kChunkBytes / sizeof(T) : 1;
    if (size_known_) {
      container.resize(static_cast<std::size_t>(count));
      read_elements(container.data(), count, what);
      return;
    }
    std::uint64_t done = 0;
    while (done < count) {
      const std::uint64_t step = std::min(chunk, count - done);
      container.resize(static_cast<std::size_t>(done + step));
      read_elements(container.data() + done, step, what);
      done += step;
    }
  }

  template <class T>
  void read_elements(T* data, std::uint64_t count, std::string_view what) {
    if constexpr (std::is_same_v<T, char> ||
                  (std::endian::native == std::endian::little && std::is_arithmetic_v<T> &&
                   !std::is_same_v<T, bool>)) {
      read_bytes(reinterpret_cast<char*>(data), static_cast<std::size_t>(count * sizeof(T)), what);
    } else {
      for (std::uint64_t i = 0; i < count; ++i) data[i] = read<T>(what);
    }
  }

  template <class V>
  V read_std_vector(std::string_view what) {
    using T = typename V::value_type;
    static_assert(detail::is_serializable_scalar_v<T> || std::is_same_v<T, std::string>,
                  "BinaryReader::read<std::vector<T>>: T must be arithmetic, an enum or "
                  "std::string");
    if constexpr (std::is_same_v<T, std::string>) {
      // Each string needs at least its 8-byte length.
      const std::uint64_t count = read_count(what, sizeof(std::uint64_t));
      V values;
      values.reserve(static_cast<std::size_t>(reserve_limit(count)));
      for (std::uint64_t i = 0; i < count; ++i) values.push_back(read<std::string>(what));
      return values;
    } else if constexpr (std::is_same_v<T, bool> || std::is_enum_v<T>) {
      std::uint64_t element_size = 1;
      if constexpr (std::is_enum_v<T>) element_size = sizeof(std::underlying_type_t<T>);
      const std::uint64_t count = read_count(what, element_size);
      V values;
      for (std::uint64_t i = 0; i < count; ++i) values.push_back(read<T>(what));
      return values;
    } else {
      const std::uint64_t count = read_count(what, sizeof(T));
      V values;
      read_chunked(values, count, what);
      return values;
    }
  }

  template <class M>
  M read_eigen(std::string_view what) {
    using Scalar = typename M::Scalar;
    static_assert(std::is_arithmetic_v<Scalar> && !std::is_same_v<Scalar, bool>,
                  "BinaryReader::read<Eigen type>: the scalar type must be arithmetic");
    const std::uint64_t offset = bytes_read_;
    const auto rows = read<std::uint64_t>(what);
    const auto cols = read<std::uint64_t>(what);
    const auto max_index = static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max());
    const bool rows_ok = M::RowsAtCompileTime == Eigen::Dynamic
                             ? rows <= max_index
                             : rows == static_cast<std::uint64_t>(M::RowsAtCompileTime);
    const bool cols_ok = M::ColsAtCompileTime == Eigen::Dynamic
                             ? cols <= max_index
                             : cols == static_cast<std::uint64_t>(M::ColsAtCompileTime);
    if (!rows_ok || !cols_ok) {
      raise<FormatError>("{}: '{}' has shape {} x {} at byte {}, expected {} x {}", where(), what,
                         rows, cols, offset, shape_text(M::RowsAtCompileTime),
                         shape_text(M::ColsAtCompileTime));
    }
    if (cols != 0 && rows > std::numeric_limits<std::uint64_t>::max() / sizeof(Scalar) / cols) {
      raise<FormatError>("{}: corrupt shape {} x {} for '{}' at byte {}", where(), rows, cols, what,
                         offset);
    }
    const std::uint64_t count = rows * cols;
    require(count * sizeof(Scalar), what);
    // Column-major staging (bounded chunks for non-seekable streams), then the target layout.
    std::vector<Scalar> data;
    read_chunked(data, count, what);
    using ColMajor =
        Eigen::Matrix<Scalar, M::RowsAtCompileTime, M::ColsAtCompileTime, Eigen::ColMajor,
                      M::MaxRowsAtCompileTime, M::MaxColsAtCompileTime>;
    M result;
    result.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    if (count > 0) {
      result = Eigen::Map<const ColMajor>(data.data(), static_cast<Eigen::Index>(rows),
                                          static_cast<Eigen::Index>(cols));
    }
    return result;
  }

  static std::string shape_text(int compile_time_size) {
    return compile_time_size == Eigen::Dynamic ? std::string("any")
                                               : std::to_string(compile_time_size);
  }

  /// A type tag from a foreign file, with non-printable bytes escaped for the message.
  static std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u < 0x7F) {
        out.push_back(c);
      } else {
        out += fmt::format("\\x{:02x}", u);
      }
    }
    return out;
  }

  std::istream& in_;
  std::string context_;
  std::string type_tag_;
  std::uint64_t remaining_ = 0;
  bool size_known_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint32_t container_format_ = 0;
  detail::Crc32 crc_;
};

/// Opens `path` for binary writing, writes the header, calls `write_payload(BinaryWriter&)`.
/// Throws tailor::Error naming the path when the file cannot be created or written.
template <class WritePayload>
void save_to_file(const std::filesystem::path& path, std::string_view type_tag,
                  std::uint32_t model_version, WritePayload&& write_payload) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    raise<Error>("cannot open '{}' for writing: {}", path.string(),
                 std::generic_category().message(errno));
  }
  BinaryWriter writer(out, path.string());
  writer.write_header(type_tag, model_version);
  std::forward<WritePayload>(write_payload)(writer);
  writer.finish();
  out.flush();
  if (!out) raise<Error>("{}: write failed", path.string());
}

namespace detail {

/// Runs a loader; a tailor::Error other than FormatError raised while checking stored values
/// (a model's own validation, a constructor's parameter check) becomes a FormatError that says
/// where in the file it happened, so every corrupt file ends in one exception type.
template <class F>
auto run_loader(BinaryReader& reader, F&& load) {
  try {
    return std::forward<F>(load)();
  } catch (const FormatError&) {
    throw;
  } catch (const Error& e) {
    raise<FormatError>("{}: invalid stored value before byte {}: {}", reader.where(),
                       reader.bytes_read(), e.what());
  }
}

}  // namespace detail

/// Opens `path`, checks the header against `type_tag` / `max_model_version`, and returns
/// `read_payload(BinaryReader&, std::uint32_t model_version)`. Trailing bytes after the payload
/// are a FormatError. A missing file throws tailor::Error naming the path.
template <class ReadPayload>
auto load_from_file(const std::filesystem::path& path, std::string_view type_tag,
                    std::uint32_t max_model_version, ReadPayload&& read_payload) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    raise<Error>("cannot open '{}' for reading: {}", path.string(),
                 std::generic_category().message(errno));
  }
  BinaryReader reader(in, path.string());
  return detail::run_loader(reader, [&] {
    const std::uint32_t version = reader.read_header(type_tag, max_model_version);
    if constexpr (std::is_void_v<std::invoke_result_t<ReadPayload, BinaryReader&, std::uint32_t>>) {
      std::forward<ReadPayload>(read_payload)(reader, version);
      reader.expect_end();
    } else {
      auto result = std::forward<ReadPayload>(read_payload)(reader, version);
      reader.expect_end();
      return result;
    }
  });
}

/// A fitted model in tailor's file format: save(BinaryWriter&) writes its own header and payload
/// (nested models each with their own header), static load(BinaryReader&) reads and validates
/// them. Every fitted model of the library meets it.
template <class M>
concept Serializable = requires(const M& model, BinaryWriter& out, BinaryReader& in) {
  model.save(out);
  { M::load(in) } -> std::same_as<M>;
};

/// Writes `model` to `out` as one model file (header, payload, checksum):
/// tailor::save(model, stream).
template <Serializable M>
void save(const M& model, std::ostream& out) {
  BinaryWriter writer(out);
  model.save(writer);
  writer.finish();
}

/// Reads one model file of type M from `in`: auto m = tailor::load<M>(stream). A foreign, corrupt
/// or truncated file, a wrong checksum, or bytes after the model, throw FormatError.
template <Serializable M>
M load(std::istream& in) {
  BinaryReader reader(in);
  return detail::run_loader(reader, [&] {
    M model = M::load(reader);
    reader.expect_end();
    return model;
  });
}

}  // namespace tailor
