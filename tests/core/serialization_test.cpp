// Tests for tailor/core/serialization.hpp: byte layout, round trips of every supported type,
// truncation at every byte offset, corrupt headers, absurd lengths, file helpers.
#include "tailor/core/serialization.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

namespace {

enum class Color : std::int16_t { red = -3, green = 7 };

std::string bytes_of(const std::stringstream& stream) {
  return stream.str();
}

/// A read-only stream buffer that cannot seek, like a pipe.
class NonSeekableBuffer : public std::streambuf {
 public:
  explicit NonSeekableBuffer(std::string data) : data_(std::move(data)) {
    setg(data_.data(), data_.data(), data_.data() + data_.size());
  }

 private:
  std::string data_;
};

/// A small model file used by the corruption tests.
std::string small_model_file() {
  std::stringstream out;
  tailor::BinaryWriter writer(out);
  writer.write_header("learn::RegressionForest", 2);
  writer.write(std::int64_t{5});
  writer.write(std::vector<double>{0.5, 1.5, -2.25});
  Eigen::MatrixXd leaves(2, 2);
  leaves << 1, 2, 3, 4;
  writer.write(leaves);
  writer.write(std::string("feature names"));
  writer.finish();
  return out.str();
}

struct SmallModel {
  std::int64_t num_trees = 0;
  std::vector<double> thresholds;
  Eigen::MatrixXd leaves;
  std::string note;
};

SmallModel read_small_model(std::istream& in) {
  tailor::BinaryReader reader(in);
  reader.read_header("learn::RegressionForest", 2);
  SmallModel model;
  model.num_trees = reader.read<std::int64_t>("num_trees");
  model.thresholds = reader.read<std::vector<double>>("thresholds");
  model.leaves = reader.read<Eigen::MatrixXd>("leaves");
  model.note = reader.read<std::string>("note");
  reader.expect_end();
  return model;
}

}  // namespace

TEST_CASE("serialization: header and scalars have a fixed little-endian byte layout", "[core]") {
  std::stringstream out;
  tailor::BinaryWriter writer(out);
  writer.write_header("x::Y", 3);
  writer.write(std::uint32_t{0x01020304});
  writer.write(1.0);
  writer.write(std::int16_t{-2});
  writer.write(true);
  const std::string bytes = bytes_of(out);
  // 8 magic + 4 format + 8 tag length + 4 tag + 4 model version + 4 + 8 + 2 + 1.
  REQUIRE(bytes.size() == 8 + 4 + 8 + 4 + 4 + 4 + 8 + 2 + 1);
  CHECK(bytes.substr(0, 8) == std::string("TAILOR\0\1", 8));
  CHECK(bytes.substr(8, 4) == std::string("\x02\0\0\0", 4));
  CHECK(bytes.substr(12, 8) == std::string("\x04\0\0\0\0\0\0\0", 8));
  CHECK(bytes.substr(20, 4) == "x::Y");
  CHECK(bytes.substr(24, 4) == std::string("\x03\0\0\0", 4));
  CHECK(bytes.substr(28, 4) == "\x04\x03\x02\x01");
  // IEEE-754 1.0 = 0x3FF0000000000000, least significant byte first.
  CHECK(bytes.substr(32, 8) == std::string("\0\0\0\0\0\0\xF0\x3F", 8));
  CHECK(bytes.substr(40, 2) == "\xFE\xFF");
  CHECK(bytes.substr(42, 1) == "\x01");
  CHECK(writer.bytes_written() == bytes.size());
}

TEST_CASE("serialization: every supported type round-trips exactly", "[core]") {
  std::stringstream stream;
  tailor::BinaryWriter writer(stream);
  writer.write_header("test::AllTypes", 1);

  const double nan_payload = std::bit_cast<double>(std::uint64_t{0x7FF8000000000123});
  writer.write(std::int8_t{-128});
  writer.write(std::uint8_t{255});
  writer.write(std::int16_t{-32768});
  writer.write(std::uint16_t{65535});
  writer.write(std::int32_t{std::numeric_limits<std::int32_t>::min()});
  writer.write(std::uint32_t{4000000000u});
  writer.write(std::int64_t{std::numeric_limits<std::int64_t>::min()});
  writer.write(std::uint64_t{std::numeric_limits<std::uint64_t>::max()});
  writer.write(1.0f / 3.0f);
  writer.write(-0.0);
  writer.write(std::numeric_limits<double>::denorm_min());
  writer.write(-std::numeric_limits<double>::infinity());
  writer.write(nan_payload);
  writer.write(false);
  writer.write(Color::red);
  writer.write(std::string());
  writer.write(std::string("with\0nul", 8));
  writer.write(std::vector<double>{});
  writer.write(std::vector<double>{1.25, -3.5, 1e300});
  writer.write(std::vector<std::int32_t>{-1, 0, 7});
  writer.write(std::vector<bool>{true, false, true});
  writer.write(std::vector<std::string>{"a", "", "ccc"});
  writer.write(std::vector<Color>{Color::green, Color::red});
  Eigen::MatrixXd matrix(2, 3);
  matrix << 1, 2, 3, 4, 5, 6;
  writer.write(matrix);
  Eigen::VectorXf vector_f(4);
  vector_f << 0.5f, -1.0f, 2.0f, 3.25f;
  writer.write(vector_f);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major(2, 2);
  row_major << 1, 2, 3, 4;
  writer.write(row_major);
  const Eigen::Matrix3d fixed = Eigen::Matrix3d::Identity() * 2.0;
  writer.write(fixed);
  Eigen::ArrayXi ints(3);
  ints << -5, 0, 5;
  writer.write(ints);
  writer.write(Eigen::MatrixXd(0, 3));
  writer.write(matrix.block(0, 1, 2, 2));  // an expression, stored column-major
  writer.finish();

  tailor::BinaryReader reader(stream);
  CHECK(reader.read_header("test::AllTypes", 1) == 1);
  CHECK(reader.read<std::int8_t>("i8") == -128);
  CHECK(reader.read<std::uint8_t>("u8") == 255);
  CHECK(reader.read<std::int16_t>("i16") == -32768);
  CHECK(reader.read<std::uint16_t>("u16") == 65535);
  CHECK(reader.read<std::int32_t>("i32") == std::numeric_limits<std::int32_t>::min());
  CHECK(reader.read<std::uint32_t>("u32") == 4000000000u);
  CHECK(reader.read<std::int64_t>("i64") == std::numeric_limits<std::int64_t>::min());
  CHECK(reader.read<std::uint64_t>("u64") == std::numeric_limits<std::uint64_t>::max());
  CHECK(reader.read<float>("f") == 1.0f / 3.0f);
  const double negative_zero = reader.read<double>("-0");
  CHECK(negative_zero == 0.0);
  CHECK(std::signbit(negative_zero));
  CHECK(reader.read<double>("denorm") == std::numeric_limits<double>::denorm_min());
  CHECK(reader.read<double>("-inf") == -std::numeric_limits<double>::infinity());
  CHECK(std::bit_cast<std::uint64_t>(reader.read<double>("nan")) ==
        std::bit_cast<std::uint64_t>(nan_payload));
  CHECK(reader.read<bool>("bool") == false);
  CHECK(reader.read<Color>("color") == Color::red);
  CHECK(reader.read<std::string>("empty").empty());
  CHECK(reader.read<std::string>("nul") == std::string("with\0nul", 8));
  CHECK(reader.read<std::vector<double>>("empty vector").empty());
  CHECK(reader.read<std::vector<double>>("doubles") == std::vector<double>{1.25, -3.5, 1e300});
  CHECK(reader.read<std::vector<std::int32_t>>("ints") == std::vector<std::int32_t>{-1, 0, 7});
  CHECK(reader.read<std::vector<bool>>("bools") == std::vector<bool>{true, false, true});
  CHECK(reader.read<std::vector<std::string>>("strings") ==
        std::vector<std::string>{"a", "", "ccc"});
  CHECK(reader.read<std::vector<Color>>("colors") == std::vector<Color>{Color::green, Color::red});
  CHECK(reader.read<Eigen::MatrixXd>("matrix") == matrix);
  CHECK(reader.read<Eigen::VectorXf>("vector_f") == vector_f);
  const auto row_major_back =
      reader.read<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>("rm");
  CHECK(row_major_back == row_major);
  CHECK(reader.read<Eigen::Matrix3d>("fixed") == fixed);
  CHECK((reader.read<Eigen::ArrayXi>("ints") == ints).all());
  const auto empty = reader.read<Eigen::MatrixXd>("empty matrix");
  CHECK(empty.rows() == 0);
  CHECK(empty.cols() == 3);
  const Eigen::MatrixXd block = matrix.block(0, 1, 2, 2);
  CHECK(reader.read<Eigen::MatrixXd>("block") == block);
  reader.expect_end();
}

TEST_CASE("serialization: truncation at every byte offset throws FormatError", "[core]") {
  const std::string full = small_model_file();
  {
    std::istringstream in(full);
    const SmallModel model = read_small_model(in);
    CHECK(model.num_trees == 5);
    CHECK(model.thresholds == std::vector<double>{0.5, 1.5, -2.25});
    CHECK(model.leaves(1, 0) == 3.0);
    CHECK(model.note == "feature names");
  }
  for (std::size_t length = 0; length < full.size(); ++length) {
    INFO("prefix length " << length);
    std::istringstream seekable(full.substr(0, length));
    CHECK_THROWS_AS(read_small_model(seekable), tailor::FormatError);
    NonSeekableBuffer buffer(full.substr(0, length));
    std::istream pipe(&buffer);
    CHECK_THROWS_AS(read_small_model(pipe), tailor::FormatError);
  }
}

TEST_CASE("serialization: truncation messages name the field and the byte counts", "[core]") {
  const std::string full = small_model_file();
  // Header: 8 + 4 + 8 + 23 + 4 = 47 bytes; num_trees 8; thresholds count 8 then 24 bytes.
  std::istringstream in(full.substr(0, 47 + 8 + 8 + 12));
  CHECK_THROWS_WITH(read_small_model(in),
                    "model file (learn::RegressionForest): truncated while reading 'thresholds' at "
                    "byte 63 (needed 24 bytes, 12 left)");
}

TEST_CASE("serialization: corrupt magic, format version, tag and model version", "[core]") {
  const std::string full = small_model_file();
  SECTION("magic") {
    std::string bad = full;
    bad[3] = 'X';
    std::istringstream in(bad);
    CHECK_THROWS_WITH(read_small_model(in),
                      "model file: not a tailor binary file (bad magic bytes at byte 0, expected "
                      "learn::RegressionForest)");
  }
  SECTION("format version") {
    std::string bad = full;
    bad[8] = 9;
    std::istringstream in(bad);
    CHECK_THROWS_WITH(read_small_model(in),
                      "model file: unsupported format version 9, expected 1 to 2");
  }
  SECTION("type tag") {
    std::stringstream out;
    tailor::BinaryWriter writer(out);
    writer.write_header("segment::KMeans", 1);
    std::istringstream in(out.str());
    CHECK_THROWS_WITH(read_small_model(in),
                      "model file: expected type tag "
                      "'learn::RegressionForest', found 'segment::KMeans'");
  }
  SECTION("model version newer than supported") {
    std::stringstream out;
    tailor::BinaryWriter writer(out);
    writer.write_header("learn::RegressionForest", 3);
    std::istringstream in(out.str());
    CHECK_THROWS_WITH(read_small_model(in),
                      "model file: unsupported learn::RegressionForest "
                      "version 3, expected 1 to 2");
  }
  SECTION("older model version is returned to the caller") {
    std::stringstream out;
    tailor::BinaryWriter writer(out);
    writer.write_header("learn::RegressionForest", 1);
    tailor::BinaryReader reader(out);
    CHECK(reader.read_header("learn::RegressionForest", 2) == 1);
  }
  SECTION("trailing bytes") {
    std::istringstream in(full + "x");
    CHECK_THROWS_WITH(read_small_model(in),
                      "model file: 1 unexpected trailing bytes after the model data");
  }
  SECTION("bool byte other than 0/1") {
    std::istringstream in(std::string("\x02", 1));
    tailor::BinaryReader reader(in, "flags.bin");
    CHECK_THROWS_WITH(reader.read<bool>("is_leaf"),
                      "flags.bin: 'is_leaf' = 2 at byte 0, expected a boolean 0 or 1");
  }
  SECTION("fixed-size Eigen shape mismatch") {
    std::stringstream out;
    tailor::BinaryWriter writer(out);
    writer.write(Eigen::MatrixXd::Zero(2, 3));
    tailor::BinaryReader reader(out);
    CHECK_THROWS_WITH(reader.read<Eigen::Matrix3d>("rotation"),
                      "model file: 'rotation' has shape 2 x 3 at byte 0, expected 3 x 3");
  }
}

TEST_CASE("serialization: huge declared lengths throw before allocating", "[core]") {
  // A count of 2^60 doubles would be 8 EiB; the reader must refuse it from the count alone.
  std::stringstream out;
  tailor::BinaryWriter writer(out);
  writer.write(std::uint64_t{1} << 60);
  writer.write(1.0);
  const std::string bytes = out.str();
  {
    std::istringstream in(bytes);
    tailor::BinaryReader reader(in);
    CHECK_THROWS_WITH(reader.read<std::vector<double>>("thresholds"),
                      "model file: truncated while reading 'thresholds' at byte 8 (needed "
                      "9223372036854775808 bytes, 8 left)");
  }
  {
    std::istringstream in(bytes);
    tailor::BinaryReader reader(in);
    CHECK_THROWS_WITH(reader.read<std::string>("name"),
                      "model file: truncated while reading 'name' at byte 8 (needed "
                      "1152921504606846976 bytes, 8 left)");
  }
  {
    // count * sizeof(double) overflows 64 bits.
    std::stringstream overflow;
    tailor::BinaryWriter w(overflow);
    w.write(std::numeric_limits<std::uint64_t>::max());
    tailor::BinaryReader reader(overflow);
    CHECK_THROWS_WITH(reader.read<std::vector<double>>("weights"),
                      "model file: corrupt length 18446744073709551615 for 'weights' at byte 0");
  }
  {
    // Matrix with rows * cols overflowing.
    std::stringstream matrix;
    tailor::BinaryWriter w(matrix);
    w.write(std::uint64_t{1} << 40);
    w.write(std::uint64_t{1} << 40);
    tailor::BinaryReader reader(matrix);
    CHECK_THROWS_WITH(reader.read<Eigen::MatrixXd>("leaves"),
                      Catch::Contains("corrupt shape 1099511627776 x 1099511627776"));
  }
  {
    // Non-seekable stream: the size is unknown, so memory follows the bytes present.
    NonSeekableBuffer buffer(bytes);
    std::istream pipe(&buffer);
    tailor::BinaryReader reader(pipe);
    CHECK_THROWS_WITH(reader.read<std::vector<double>>("thresholds"),
                      Catch::Contains("truncated while reading 'thresholds'"));
  }
}

TEST_CASE("serialization: save_to_file / load_from_file", "[core]") {
  const auto path = std::filesystem::temp_directory_path() / "tailor_serialization_test.bin";
  const std::vector<double> weights{0.25, 0.75};
  tailor::save_to_file(path, "test::Model", 1, [&](tailor::BinaryWriter& out) {
    out.write(weights);
    out.write(std::string("ok"));
  });
  const auto loaded =
      tailor::load_from_file(path, "test::Model", 1, [](tailor::BinaryReader& in, std::uint32_t) {
        auto w = in.read<std::vector<double>>("weights");
        auto s = in.read<std::string>("note");
        return std::make_pair(w, s);
      });
  CHECK(loaded.first == weights);
  CHECK(loaded.second == "ok");

  // A payload reader that forgets a field reads the checksum from the wrong place.
  CHECK_THROWS_WITH(tailor::load_from_file(path, "test::Model", 1,
                                           [](tailor::BinaryReader& in, std::uint32_t) {
                                             in.read<std::vector<double>>("weights");
                                           }),
                    Catch::Contains("checksum mismatch"));
  // Any other tailor::Error a loader raises on stored values becomes a FormatError.
  CHECK_THROWS_AS(tailor::load_from_file(path, "test::Model", 1,
                                         [](tailor::BinaryReader&, std::uint32_t) {
                                           tailor::raise<tailor::InvalidArgument>("bad alpha");
                                         }),
                  tailor::FormatError);
  CHECK_THROWS_WITH(
      tailor::load_from_file(path, "test::Model", 1,
                             [](tailor::BinaryReader&, std::uint32_t) {
                               tailor::raise<tailor::InvalidArgument>("bad alpha");
                             }),
      Catch::Contains("(test::Model): invalid stored value before byte 35: bad alpha"));
  CHECK_THROWS_WITH(
      tailor::load_from_file(path, "test::Other", 1, [](tailor::BinaryReader&, std::uint32_t) {}),
      Catch::Contains(path.string() + ": expected type tag 'test::Other', found 'test::Model'"));
  std::filesystem::remove(path);

  const auto missing = std::filesystem::temp_directory_path() / "tailor_no_such_dir" / "m.bin";
  CHECK_THROWS_AS(tailor::load_from_file(missing, "test::Model", 1,
                                         [](tailor::BinaryReader&, std::uint32_t) {}),
                  tailor::Error);
  CHECK_THROWS_WITH(tailor::load_from_file(missing, "test::Model", 1,
                                           [](tailor::BinaryReader&, std::uint32_t) {}),
                    Catch::Contains("cannot open '" + missing.string() + "' for reading"));
  CHECK_THROWS_WITH(tailor::save_to_file(missing, "test::Model", 1, [](tailor::BinaryWriter&) {}),
                    Catch::Contains("cannot open '" + missing.string() + "' for writing"));
}

TEST_CASE("serialization: the CRC-32 trailer catches corruption that still parses", "[core]") {
  // Standard check value of CRC-32/IEEE ("123456789" -> CBF43926).
  tailor::detail::Crc32 crc;
  crc.update("123456789", 9);
  CHECK(crc.value() == 0xCBF43926u);

  const std::string full = small_model_file();
  {
    std::istringstream in(full);
    CHECK(read_small_model(in).num_trees == 5);
  }
  // num_trees 5 -> 4: every field still parses; only the checksum can tell.
  std::string changed = full;
  changed[47] = 4;
  std::istringstream in(changed);
  CHECK_THROWS_WITH(read_small_model(in),
                    Catch::Contains("(learn::RegressionForest): checksum mismatch at byte"));
  NonSeekableBuffer buffer(changed);
  std::istream pipe(&buffer);
  CHECK_THROWS_AS(read_small_model(pipe), tailor::FormatError);

  // A format-1 file (before the checksum) still loads: same bytes, format 1, no trailer.
  std::string version1 = full.substr(0, full.size() - 4);
  version1[8] = 1;
  std::istringstream old(version1);
  CHECK(read_small_model(old).note == "feature names");

  // finish() ends the file: a second call or a later write is an error.
  std::stringstream out;
  tailor::BinaryWriter writer(out);
  writer.write_header("x::Y", 1);
  writer.finish();
  CHECK_THROWS_AS(writer.finish(), tailor::Error);
  CHECK_THROWS_AS(writer.write(1.0), tailor::Error);
}

TEST_CASE("serialization: read_bounded and read_length check counts before use", "[core]") {
  std::stringstream out;
  tailor::BinaryWriter writer(out);
  writer.write(std::int64_t{-3});
  writer.write(std::uint64_t{1} << 40);
  writer.write(std::uint64_t{3});
  writer.write(std::uint64_t{1000});
  const std::string bytes = out.str();
  {
    std::istringstream in(bytes);
    tailor::BinaryReader reader(in);
    CHECK_THROWS_WITH(reader.read_bounded<std::int64_t>("num_features", 1, 1000),
                      "model file: 'num_features' = -3 at byte 0, expected 1 to 1000");
  }
  {
    std::istringstream in(bytes);
    tailor::BinaryReader reader(in);
    (void)reader.read<std::int64_t>("skip");
    CHECK_THROWS_WITH(reader.read_length("num_trees", 1'000'000, 32),
                      "model file: 'num_trees' count 1099511627776 at byte 8 exceeds the maximum "
                      "1000000");
  }
  {
    std::istringstream in(bytes);
    tailor::BinaryReader reader(in);
    (void)reader.read<std::int64_t>("skip");
    (void)reader.read<std::uint64_t>("skip");
    CHECK(reader.read_length("num_trees", 1'000'000, 1) == 3);
    CHECK(reader.reserve_limit(3) == 3);
    // 1000 elements of at least 32 bytes each cannot fit in the 0 bytes left.
    CHECK_THROWS_WITH(reader.read_length("num_trees", 1'000'000, 32),
                      Catch::Contains("truncated while reading 'num_trees'"));
  }
  {
    // A pipe cannot tell its size: the count passes the maximum check, and reserving is capped
    // so the caller grows its container only as elements arrive.
    NonSeekableBuffer buffer(bytes.substr(24));
    std::istream pipe(&buffer);
    tailor::BinaryReader reader(pipe);
    CHECK(reader.read_length("num_trees", 1'000'000, 32) == 1000);
    CHECK(reader.reserve_limit(1000) == 1000);
    CHECK(reader.reserve_limit(std::uint64_t{1} << 40) == 4096);
  }
}
