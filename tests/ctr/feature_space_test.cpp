// Tests of ctr/feature_space.hpp and ctr/sparse_features.hpp: the stable hash (golden values),
// vocabulary fitting with min_count and the OOV row, hashed and integer fields, multi-valued
// cells, save/load of the encoder, CSR validation and CtrData's checks.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "tailor/core/serialization.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/sparse_features.hpp"

namespace ctr = tailor::ctr;
using tailor::Index;

TEST_CASE("hash_bytes is stable: golden values and seed/length sensitivity",
          "[ctr][feature_space]") {
  // Golden values pin the file format: a change here silently remaps every hashed field.
  static_assert(ctr::hash_bytes("", 0) == ctr::hash_bytes("", 0));
  CHECK(ctr::hash_bytes("", 0) == ctr::detail::mix64(ctr::detail::mix64(0x9E3779B97F4A7C15ULL)));
  const std::uint64_t a = ctr::hash_bytes("usertag:10063", 1);
  CHECK(a == ctr::hash_bytes(std::string("usertag:10063"), 1));
  CHECK(a != ctr::hash_bytes("usertag:10063", 2));
  CHECK(ctr::hash_bytes("a", 0) != ctr::hash_bytes(std::string_view("a\0", 2), 0));
  CHECK(ctr::hash_bytes("abcdefgh", 0) != ctr::hash_bytes("abcdefghi", 0));
  CHECK(ctr::hash_bytes("abc", 0) == 0x905eb55a2348fa71ULL);
  CHECK(ctr::hash_bytes("0123456789abcdef!", 42) == 0xad732c837a26dee6ULL);
}

TEST_CASE("FeatureSpaceBuilder fits vocabularies with min_count and one OOV row",
          "[ctr][feature_space]") {
  ctr::FeatureSpaceBuilder builder(
      {{.name = "city", .min_count = 2},
       {.name = "user", .kind = ctr::FieldKind::hashed, .hash_buckets = 8},
       {.name = "hour", .kind = ctr::FieldKind::integer, .cardinality = 24},
       {.name = "tags", .min_count = 1, .multi_valued = true}});
  const std::vector<std::vector<std::string_view>> rows = {{"paris", "u1", "3", "a,b"},
                                                           {"rome", "u2", "4", "b"},
                                                           {"paris", "u3", "23", ""},
                                                           {"oslo", "u1", "5", "c,a,a"},
                                                           {"rome", "u9", "0", "b"}};
  for (const auto& row : rows) builder.add_row(row);
  const ctr::FeatureSpace space = builder.build();
  REQUIRE(space.num_fields() == 4);
  // city: paris (2), rome (2) kept (ties by value), oslo (1) < min_count → OOV; OOV row last.
  CHECK(space.field(0).values == std::vector<std::string>{"paris", "rome", "<oov>"});
  CHECK(space.field(0).oov == 2);
  CHECK(space.field(1).rows == 8);
  CHECK(space.field(2).rows == 25);
  CHECK(space.field(2).oov == 24);
  // tags: a (3), b (3), c (1).
  CHECK(space.field(3).values == std::vector<std::string>{"a", "b", "c", "<oov>"});
  CHECK(space.offset(0) == 0);
  CHECK(space.offset(1) == 3);
  CHECK(space.offset(2) == 11);
  CHECK(space.offset(3) == 36);
  CHECK(space.num_rows() == 40);
  CHECK(space.field_of_row(10) == 1);
  CHECK(space.field_of_row(36) == 3);
  CHECK(space.find("hour") == 2);
  CHECK(space.find("nope") == -1);
  CHECK(space.encode(0, "rome") == 1);
  CHECK(space.encode(0, "oslo") == 2);    // below min_count
  CHECK(space.encode(0, "berlin") == 2);  // never seen
  CHECK(space.encode(2, "23") == 11 + 23);
  CHECK(space.encode(2, "24") == 11 + 24);  // out of range → OOV
  CHECK(space.encode(2, "x7") == 11 + 24);  // not an id → OOV
  const auto h = space.encode(1, "u1");
  CHECK(h >= 3);
  CHECK(h < 11);
  CHECK(h == space.encode(1, "u1"));
  // Multi-valued cells emit one row per non-empty piece.
  std::vector<std::uint32_t> emitted;
  space.encode_cell(3, "c,,zz,a", [&](std::uint32_t r) { emitted.push_back(r); });
  CHECK(emitted == std::vector<std::uint32_t>{36 + 2, 36 + 3, 36 + 0});
  // Rows become CSR entries sorted by field.
  ctr::SparseFeatures x;
  for (const auto& row : rows) x.append_raw_row(space, row);
  CHECK(x.num_rows() == 5);
  CHECK(x.nnz() == 5 + 4 + 3 + 6 + 4);  // row 2's tags cell is empty
  // A first entry with a value other than 1 keeps it.
  ctr::SparseFeatures weighted;
  weighted.push(0, 1, 0.5f);
  weighted.push(1, 4);
  weighted.end_row();
  CHECK(weighted.value == std::vector<float>{0.5f, 1.0f});
  // Save → load gives an equal space with equal encodings.
  std::ostringstream out;
  tailor::BinaryWriter writer(out);
  space.save(writer);
  std::istringstream in(out.str());
  tailor::BinaryReader reader(in);
  const auto loaded = ctr::FeatureSpace::load(reader);
  CHECK(loaded == space);
  CHECK(loaded.encode(1, "u9") == space.encode(1, "u9"));
  CHECK(loaded.encode(0, "paris") == 0);
}

TEST_CASE("FeatureSpace rejects malformed fields", "[ctr][feature_space][errors]") {
  CHECK_THROWS_WITH(ctr::FeatureSpace(std::vector<ctr::Field>{}),
                    Catch::Contains("number of fields = 0"));
  CHECK_THROWS_WITH(
      ctr::FeatureSpace({{.name = "a", .kind = ctr::FieldKind::integer, .rows = 3, .oov = 2},
                         {.name = "a", .kind = ctr::FieldKind::integer, .rows = 3, .oov = 2}}),
      Catch::Contains("field name 'a' is used by fields 0 and 1"));
  CHECK_THROWS_WITH(
      ctr::FeatureSpace({{.name = "a", .kind = ctr::FieldKind::integer, .rows = 3, .oov = 3}}),
      Catch::Contains("oov = 3, expected a row in [0, 3)"));
  CHECK_THROWS_WITH(ctr::FeatureSpaceBuilder({{.name = "u", .kind = ctr::FieldKind::hashed}}),
                    Catch::Contains("u.hash_buckets = 0"));
  CHECK_THROWS_WITH(ctr::FeatureSpaceBuilder({{.name = "c", .min_count = 0}}),
                    Catch::Contains("c.min_count = 0"));
}

TEST_CASE("CtrData validates rows, labels and weights once", "[ctr][sparse_features][errors]") {
  const ctr::FeatureSpace space =
      ctr::FeatureSpaceBuilder({{.name = "a", .kind = ctr::FieldKind::integer, .cardinality = 3},
                                {.name = "b", .kind = ctr::FieldKind::integer, .cardinality = 2}})
          .build();
  auto rows = [](std::vector<std::vector<std::pair<Index, std::uint32_t>>> entries) {
    ctr::SparseFeatures x;
    for (const auto& row : entries) {
      for (const auto& [f, r] : row) x.push(f, r);
      x.end_row();
    }
    return x;
  };
  const auto good = rows({{{0, 0}, {1, 4}}, {{0, 2}, {1, 5}}});
  const Eigen::VectorXf click = Eigen::Vector2f(0.0f, 1.0f);
  const ctr::CtrData data(space, good, click);
  CHECK(data.fixed_fields());
  CHECK(data.base_rate() == 0.5);
  CHECK_FALSE(ctr::CtrData(space, rows({{{0, 0}}, {{0, 2}, {1, 5}}}), click).fixed_fields());
  CHECK_THROWS_WITH(
      ctr::CtrData(space, rows({{{0, 0}, {1, 9}}, {{0, 2}}}), click),
      Catch::Contains(
          "CtrData: row 0: field 'b' has table row 9 (id 5), expected a row in [4, 7)"));
  CHECK_THROWS_WITH(ctr::CtrData(space, rows({{{1, 4}, {0, 0}}, {{0, 2}}}), click),
                    Catch::Contains("row 0: field 'a' (0) out of order"));
  CHECK_THROWS_WITH(ctr::CtrData(space, rows({{{0, 0}, {0, 1}}, {{0, 2}}}), click),
                    Catch::Contains("row 0: field 'a' (0) repeated"));
  CHECK_THROWS_WITH(ctr::CtrData(space, rows({{{0, 0}, {2, 1}}, {{0, 2}}}), click),
                    Catch::Contains("row 0: field 2 does not exist"));
  CHECK_THROWS_WITH(ctr::CtrData(space, good, Eigen::Vector2f(0.0f, 0.5f)),
                    Catch::Contains("CtrData: click[1] = 0.5, expected 0 or 1"));
  CHECK_THROWS_WITH(ctr::CtrData(space, good, Eigen::Vector2f(1.0f, 1.0f)),
                    Catch::Contains("expected both classes"));
  CHECK_THROWS_AS(ctr::CtrData(space, good, Eigen::VectorXf::Zero(3)), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(ctr::CtrData(space, ctr::SparseFeatures{}, Eigen::VectorXf()),
                    Catch::Contains("CtrData: features has 0 rows"));
  CHECK_THROWS_WITH(ctr::CtrData(space, good, click, Eigen::Vector2f(1.0f, -1.0f)),
                    Catch::Contains("CtrData: weights[1] = -1"));
  auto with_nan = good;
  with_nan.value = {1.0f, std::nanf(""), 1.0f, 1.0f};
  CHECK_THROWS_WITH(ctr::CtrData(space, with_nan, click),
                    Catch::Contains("row 0: field 'b' has value nan, expected a finite value"));
  auto bad_ptr = good;
  bad_ptr.row_ptr.back() = 7;
  CHECK_THROWS_AS(ctr::CtrData(space, bad_ptr, click), tailor::ShapeMismatch);
}
