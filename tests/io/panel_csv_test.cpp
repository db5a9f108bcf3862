// Tests for io/panel_csv.hpp's read_panel_csv: a long table read as a Panel, and every malformed
// file a FormatError (file:line:column) or a DataError naming the file. (read_unit_table and the
// Proposition 99 data are exercised in tests/pricing/synthetic_control_test.cpp.)
#include <catch2/catch.hpp>

#include <string>

#include "tailor/io/panel_csv.hpp"
#include "temp_dir.hpp"

using namespace tailor;

namespace {
const std::string kHeader = "State;Year;PacksPerCapita;treated\n";
const std::string kRows = "A;1;1;0\nA;2;2;1\nB;1;3;0\nB;2;4;0\nC;1;5;0\nC;2;6;0\n";
}  // namespace

TEST_CASE("read_panel_csv: a long table", "[io][panel_csv]") {
  const test::TempDir dir("panel");
  const pricing::Panel panel =
      io::read_panel_csv(dir.write("p.csv",
                                   "State;Year;PacksPerCapita;treated\r\n\"A;x\";1;1;0\n"
                                   "\"A;x\";2;2;1\nB;1;3;0\nB;2;4;0\nC;1;5;0\nC;2;6;0"));
  REQUIRE(panel.num_units() == 3);
  CHECK(panel.units()[0] == "A;x");
  CHECK(panel.outcome()(0, 1) == 2.0);
  CHECK(panel.treatment_start(0) == 1);
  // Other names and separators.
  const pricing::Panel other = io::read_panel_csv(
      dir.write("q.csv", "u,t,y,d\nA,1,1,0\nA,2,2,1\nB,1,3,0\nB,2,4,0\nC,1,5,0\nC,2,6,0\n"),
      {.unit = "u", .period = "t", .outcome = "y", .treated = "d", .separator = ','});
  CHECK(other.outcome() == panel.outcome());
}

TEST_CASE("read_panel_csv: malformed files name the file, line and column", "[io][panel_csv]") {
  const test::TempDir dir("panel_errors");
  SECTION("a non-finite outcome") {
    // inf used to load into the panel's outcomes.
    for (const std::string bad : {"inf", "-inf", "1e999"}) {
      const auto path =
          dir.write("inf.csv", kHeader + "A;1;1;0\nA;2;" + bad + ";1\n" + kRows.substr(16));
      CHECK_THROWS_AS(io::read_panel_csv(path), FormatError);
      CHECK_THROWS_WITH(io::read_panel_csv(path),
                        Catch::Contains("inf.csv:3:3 (column 'PacksPerCapita'): '" + bad +
                                        "', expected a finite number"));
    }
  }
  SECTION("a text period") {
    // Used to be an InvalidArgument without a line ("column 'Year' is a string column").
    const auto path = dir.write("text.csv", kHeader + kRows + "D;x;7;0\n");
    CHECK_THROWS_AS(io::read_panel_csv(path), FormatError);
    CHECK_THROWS_WITH(io::read_panel_csv(path),
                      Catch::Contains("text.csv:8:2 (column 'Year'): 'x' is not a number"));
  }
  SECTION("a missing column") {
    // Used to be an InvalidArgument from the Table.
    const auto path = dir.write("missing.csv", "State;Year;PacksPerCapita\nA;1;1\n");
    CHECK_THROWS_AS(io::read_panel_csv(path), FormatError);
    CHECK_THROWS_WITH(io::read_panel_csv(path),
                      Catch::Contains("missing.csv: no column 'treated' (PanelColumns::treated); "
                                      "columns: State, Year, PacksPerCapita"));
    CHECK_THROWS_AS(io::read_panel_csv(dir.write("empty.csv", "")), FormatError);
  }
  SECTION("treated other than 0/1, a missing value") {
    CHECK_THROWS_WITH(io::read_panel_csv(dir.write("d.csv", kHeader + kRows + "D;1;7;2\n")),
                      Catch::Contains("d.csv:8:4 (column 'treated'): '2', expected 0 or 1"));
    CHECK_THROWS_WITH(io::read_panel_csv(dir.write("na.csv", kHeader + kRows + "D;1;NA;0\n")),
                      Catch::Contains("na.csv:8:3 (column 'PacksPerCapita'): missing value"));
  }
  SECTION("Panel's checks name the file") {
    // Used to be "Panel: unit 'C' has no row for period 2" without the file.
    const auto path = dir.write("unbalanced.csv", kHeader + kRows.substr(0, kRows.size() - 8));
    CHECK_THROWS_AS(io::read_panel_csv(path), DataError);
    CHECK_THROWS_WITH(io::read_panel_csv(path),
                      Catch::Contains("unbalanced.csv: Panel: unit 'C' has no row for period 2"));
    CHECK_THROWS_WITH(io::read_panel_csv(dir.write("twice.csv", kHeader + kRows + "A;2;9;1\n")),
                      Catch::Contains("twice.csv: Panel: unit 'A' has period 2 twice"));
    CHECK_THROWS_WITH(io::read_panel_csv(dir.write("none.csv", kHeader)),
                      Catch::Contains("none.csv: no rows"));
    CHECK_THROWS_AS(io::read_panel_csv(dir.path() / "absent.csv"), Error);
  }
}
