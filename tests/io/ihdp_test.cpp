// Tests for io/ihdp.hpp on the bundled IHDP files ([realdata]; skipped without TAILOR_DATA_DIR).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tailor/io/ihdp.hpp"
#include "temp_dir.hpp"

using namespace tailor;
namespace fs = std::filesystem;

namespace {
fs::path ihdp_dir() {
  const char* dir = std::getenv("TAILOR_DATA_DIR");
  return dir ? fs::path(dir) / "ihdp" : fs::path();
}
}  // namespace

TEST_CASE("IHDP replications load and split as documented", "[realdata]") {
  const fs::path dir = ihdp_dir();
  if (dir.empty() || !fs::exists(dir / "ihdp_npci_1.csv")) {
    WARN("TAILOR_DATA_DIR/ihdp not found; skipping IHDP checks");
    return;
  }
  const auto rep1 = io::ihdp::read_replication(dir / "ihdp_npci_1.csv");
  CHECK(rep1.num_rows() == 747);
  CHECK(rep1.X.cols() == 25);
  CHECK(rep1.t.sum() == 139.0);  // README: 139 of the 747 units are treated
  // README, computed here: true ATE of replication 1 = 4.016; replication 9 = 10.466.
  CHECK(rep1.tau().mean() == Approx(4.016).margin(0.0005));
  const auto rep9 = io::ihdp::read_replication(dir / "ihdp_npci_9.csv");
  CHECK(rep9.tau().mean() == Approx(10.466).margin(0.0005));
  // Setting B: ATT = 4 in every replication.
  double att = 0.0;
  for (Index i = 0; i < rep1.t.size(); ++i) att += rep1.t[i] * (rep1.mu1[i] - rep1.mu0[i]);
  CHECK(att / rep1.t.sum() == Approx(4.0).margin(1e-6));

  const auto test = io::ihdp::read_test_units(dir / "ihdp_npci_1-100.test.long.csv", 1);
  CHECK(test.num_rows() == 75);
  const auto split = io::ihdp::split_replication(rep1, test);
  CHECK(split.train.num_rows() == 672);
  CHECK(split.test.num_rows() == 75);

  CHECK(io::ihdp::sqrt_pehe(rep1.tau(), rep1.tau()) == 0.0);
  CHECK(io::ihdp::ate_error(rep1.tau().array() + 1.0, rep1.tau()) == Approx(1.0));
  CHECK_THROWS_AS(io::ihdp::read_test_units(dir / "ihdp_npci_1-100.test.long.csv", 101),
                  FormatError);
}

namespace {
/// One replication row: t, y_factual, y_cfactual, mu0, mu1, x1..x25 (x_j = j / 10).
std::string replication_row(int t, const std::string& y_factual = "1.5") {
  std::string row = fmt::format("{},{},2.5,1.0,3.0", t, y_factual);
  for (int j = 1; j <= 25; ++j) row += fmt::format(",{}", j / 10.0);
  return row + "\n";
}
}  // namespace

TEST_CASE("IHDP replication files: values and errors", "[io][ihdp]") {
  tailor::test::TempDir dir("ihdp");
  const fs::path good = dir.write("good.csv", replication_row(1) + replication_row(0, "-0.5"));
  const auto rep = io::ihdp::read_replication(good);
  REQUIRE(rep.num_rows() == 2);
  CHECK(rep.X.cols() == 25);
  CHECK(rep.t[0] == 1.0);
  CHECK(rep.y[1] == -0.5);
  CHECK(rep.X(1, 24) == 2.5);
  CHECK(rep.tau()[0] == 2.0);

  SECTION("a non-finite cell names the file, row and column") {
    for (const std::string bad : {"inf", "-inf", "1e999"}) {
      const fs::path path = dir.write("inf.csv", replication_row(1) + replication_row(0, bad));
      CHECK_THROWS_AS(io::ihdp::read_replication(path), FormatError);
      CHECK_THROWS_WITH(io::ihdp::read_replication(path),
                        Catch::Contains("inf.csv:2:2 (y_factual)") &&
                            Catch::Contains("expected a finite number"));
    }
  }
  SECTION("a text cell names the file, row and column") {
    const fs::path path = dir.write("text.csv", replication_row(1) + replication_row(0, "abc"));
    CHECK_THROWS_AS(io::ihdp::read_replication(path), FormatError);
    CHECK_THROWS_WITH(io::ihdp::read_replication(path),
                      Catch::Contains("text.csv:2:2 (column 'column_2'): 'abc' is not a number"));
    const fs::path missing = dir.write("missing.csv", replication_row(1) + replication_row(0, ""));
    CHECK_THROWS_AS(io::ihdp::read_replication(missing), FormatError);
    CHECK_THROWS_WITH(io::ihdp::read_replication(missing), Catch::Contains("missing.csv:2:2"));
  }
  SECTION("a treatment other than 0/1, a wrong width, an empty file") {
    const fs::path t = dir.write("t.csv", replication_row(1) + replication_row(2));
    CHECK_THROWS_WITH(io::ihdp::read_replication(t),
                      Catch::Contains("t.csv:2:1 (t): 2, expected 0 or 1"));
    const fs::path wide = dir.write("wide.csv", "1,2,3\n");
    CHECK_THROWS_WITH(io::ihdp::read_replication(wide),
                      Catch::Contains("wide.csv: 3 columns, expected 30"));
    const fs::path empty = dir.write("empty.csv", "");
    CHECK_THROWS_AS(io::ihdp::read_replication(empty), DataError);
    CHECK_THROWS_AS(io::ihdp::read_replication(dir.path() / "absent.csv"), Error);
  }
  SECTION("the CFRNet long file") {
    std::string header = "rep,unit,t,yf,ycf,mu0,mu1";
    for (int j = 1; j <= 25; ++j) header += fmt::format(",x{}", j);
    const fs::path path =
        dir.write("long.csv", header + "\n1,1," + replication_row(1) + "2,1," + replication_row(0) +
                                  "2,2," + replication_row(1, "-3"));
    const auto one = io::ihdp::read_test_units(path, 1);
    CHECK(one.num_rows() == 1);
    const auto two = io::ihdp::read_test_units(path, 2);
    REQUIRE(two.num_rows() == 2);
    CHECK(two.y[1] == -3.0);
    CHECK_THROWS_WITH(io::ihdp::read_test_units(path, 3), Catch::Contains("no rows for rep = 3"));
    // Every row is checked, also those of other replications.
    const fs::path inf = dir.write("long_inf.csv", header + "\n1,1," + replication_row(1) + "2,2," +
                                                       replication_row(1, "inf"));
    CHECK_THROWS_AS(io::ihdp::read_test_units(inf, 1), FormatError);
    CHECK_THROWS_WITH(io::ihdp::read_test_units(inf, 1),
                      Catch::Contains("long_inf.csv:3:4 (yf): 'inf', expected a finite number"));
    const fs::path text = dir.write("long_text.csv", header + "\n1,1," + replication_row(1, "x"));
    CHECK_THROWS_WITH(io::ihdp::read_test_units(text, 1),
                      Catch::Contains("long_text.csv:2:4 (column 'yf'): 'x' is not a number"));
    const fs::path no_column = dir.write("long_short.csv", "rep,unit,t\n1,1,0\n");
    CHECK_THROWS_AS(io::ihdp::read_test_units(no_column, 1), FormatError);
  }
}
