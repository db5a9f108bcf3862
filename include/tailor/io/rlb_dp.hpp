// tailor/io/rlb_dp.hpp — the auction files of rlb-dp (Cai et al., WSDM 2017; github.com/han-cai/
// rlb-dp, data/ipinyou-data/<campaign>/) as bidding::AuctionLog and bidding::CampaignInfo.
//
//  * read_auction_log: `<campaign>/test.theta.txt` (or train.theta.txt, or the `<model>.theta.txt`
//    that examples/ipinyou_ctr writes): one auction per line, `click market_price pCTR`,
//    separated by spaces or tabs; click exactly 0 or 1, market price a non-negative decimal
//    integer, pCTR a decimal number in [0, 1] (std::from_chars, correctly rounded like Python's
//    float()). Blank lines are skipped; LF or CRLF.
//  * read_campaign_info: `<campaign>/info.json`, a JSON object with the integer fields imp_train,
//    clk_train, cost_train and price_counter_train (an array of integer counts), and optionally
//    imp_test, clk_test, cost_test; other keys (field, dim, ...) are ignored. tailor reads it with
//    a small strict JSON parser of its own (objects, arrays, numbers, strings, true/false/null;
//    depth <= 64; numbers and \u escapes as RFC 8259 spells them; a duplicate key is an error,
//    since JSON readers disagree on which copy wins) rather than taking a JSON library dependency
//    for one flat file. The counts of price_counter_train must be >= 0 with a total that fits an
//    int64 (bidding::BidLandscape sums them).
// Errors: FormatError naming file:line and what was expected, e.g.
//   "test.theta.txt:12: market price '-3', expected a non-negative integer"
//   "info.json:1: missing key 'clk_train'".
// A missing file is a tailor::Error naming the path. Complexity O(bytes), one buffer.
#pragma once

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/bidding/auction_log.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/io/detail/text_file.hpp"

namespace tailor::io {

/// Reads `click market_price pCTR` lines into an AuctionLog.
inline bidding::AuctionLog read_auction_log(const std::filesystem::path& path) {
  const detail::TextFile file = detail::read_text_file(path);
  std::vector<std::uint8_t> click;
  std::vector<std::int32_t> price;
  std::vector<double> pctr;
  click.reserve(file.size / 24);
  price.reserve(file.size / 24);
  pctr.reserve(file.size / 24);
  detail::for_each_line(file.text(), [&](std::string_view line, std::size_t number) {
    std::string_view tokens[3];
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i == line.size()) break;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (count == 3) {
        raise<FormatError>("{}:{}: more than 3 fields, expected 'click market_price pCTR'",
                           file.source, number);
      }
      tokens[count++] = line.substr(i, j - i);
      i = j;
    }
    if (count == 0) return;  // blank line
    if (count != 3) {
      raise<FormatError>("{}:{}: {} field{}, expected 3 ('click market_price pCTR')", file.source,
                         number, count, count == 1 ? "" : "s");
    }
    if (tokens[0] != "0" && tokens[0] != "1") {
      raise<FormatError>("{}:{}: click '{}', expected 0 or 1", file.source, number, tokens[0]);
    }
    std::int32_t p = 0;
    const auto [pend, perr] =
        std::from_chars(tokens[1].data(), tokens[1].data() + tokens[1].size(), p);
    if (perr != std::errc() || pend != tokens[1].data() + tokens[1].size() || p < 0) {
      raise<FormatError>("{}:{}: market price '{}', expected a non-negative integer", file.source,
                         number, tokens[1]);
    }
    double theta = 0.0;
    const auto [tend, terr] =
        std::from_chars(tokens[2].data(), tokens[2].data() + tokens[2].size(), theta);
    if (terr != std::errc() || tend != tokens[2].data() + tokens[2].size() || !(theta >= 0.0) ||
        !(theta <= 1.0)) {
      raise<FormatError>("{}:{}: pCTR '{}', expected a number in [0, 1]", file.source, number,
                         tokens[2]);
    }
    click.push_back(tokens[0][0] == '1' ? 1 : 0);
    price.push_back(p);
    pctr.push_back(theta);
  });
  if (click.empty()) raise<DataError>("{}: no auctions, expected at least one line", file.source);
  return bidding::AuctionLog(std::move(click), std::move(price), std::move(pctr));
}

namespace detail {

/// A strict JSON reader for rlb-dp's info.json: records the top-level keys whose values are
/// integers or arrays of integers, and skips (but still checks) everything else.
class InfoJsonParser {
 public:
  InfoJsonParser(std::string_view text, std::string source)
      : text_(text), source_(std::move(source)) {}

  struct Value {
    bool is_array = false;
    bool is_integer = false;
    std::int64_t integer = 0;
    std::vector<std::int64_t> array;  ///< when every element is an integer
    bool array_of_integers = false;
  };

  std::vector<std::pair<std::string, Value>> parse_object() {
    std::vector<std::pair<std::string, Value>> fields;
    skip_space();
    expect('{');
    parse_members(1, [&](std::string key, Value value) {
      // Python's json (rlb-dp's reader) keeps the last of duplicate keys, a first-match lookup
      // the first: a file that means two things is rejected.
      for (const auto& field : fields) {
        if (field.first == key)
          fail(fmt::format("duplicate key '{}', expected each key once", key));
      }
      fields.emplace_back(std::move(key), std::move(value));
    });
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the top-level object");
    return fields;
  }

  [[noreturn]] void fail(std::string_view what) const {
    std::size_t line = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) line += text_[i] == '\n';
    raise<FormatError>("{}:{}: {}", source_, line, what);
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c) {
      fail(pos_ < text_.size() ? fmt::format("'{}', expected '{}'", peek(), c)
                               : fmt::format("end of file, expected '{}'", c));
    }
    ++pos_;
  }

  /// Items separated by commas up to `close` (the opening bracket already read).
  template <class OnItem>
  void parse_sequence(char close, OnItem&& on_item) {
    skip_space();
    if (peek() == close) {
      ++pos_;
      return;
    }
    while (true) {
      skip_space();
      on_item();
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(close);
      return;
    }
  }

  /// `"key": value` members up to '}' (the '{' already read); values parsed at `depth`.
  template <class OnMember>
  void parse_members(int depth, OnMember&& on_member) {
    parse_sequence('}', [&] {
      std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      on_member(std::move(key), parse_value(depth));
    });
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c == '\\') {
        if (pos_ >= text_.size()) fail("unterminated string");
        const char e = text_[pos_++];
        if (e == 'u') {
          if (pos_ + 4 > text_.size()) fail("short \\u escape");
          for (std::size_t k = 0; k < 4; ++k) {
            if (!std::isxdigit(static_cast<unsigned char>(text_[pos_ + k]))) {
              fail("invalid \\u escape, expected 4 hexadecimal digits");
            }
          }
          pos_ += 4;
          out.push_back('?');
        } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
          out.push_back(e);
        } else {
          fail("invalid escape in a string");
        }
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  /// A JSON number (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); sets `integer`
  /// when it is an integer that fits int64.
  bool parse_number(std::int64_t& integer) {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (pos_ < text_.size() &&
           ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' || text_[pos_] == '+' || text_[pos_] == '-'))
      ++pos_;
    const std::string_view token = text_.substr(start, pos_ - start);
    if (!is_json_number(token)) fail(fmt::format("invalid number '{}'", token));
    const auto [end, err] = std::from_chars(token.data(), token.data() + token.size(), integer);
    if (err == std::errc() && end == token.data() + token.size()) return true;
    double real = 0.0;
    const auto [rend, rerr] = std::from_chars(token.data(), token.data() + token.size(), real);
    if (rerr != std::errc() || rend != token.data() + token.size() || token.empty()) {
      fail(fmt::format("invalid number '{}'", token));
    }
    return false;
  }

  static bool is_json_number(std::string_view t) {
    std::size_t i = 0;
    const auto digits = [&] {
      const std::size_t first = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
      return i - first;
    };
    if (i < t.size() && t[i] == '-') ++i;
    if (i < t.size() && t[i] == '0') {
      ++i;
    } else if (digits() == 0) {
      return false;
    }
    if (i < t.size() && t[i] == '.') {
      ++i;
      if (digits() == 0) return false;
    }
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
      if (digits() == 0) return false;
    }
    return i == t.size();
  }

  Value parse_value(int depth) {
    if (depth > 64) fail("nesting deeper than 64 levels");
    Value v;
    const char c = peek();
    if (c == '"') {
      parse_string();
    } else if (c == '{') {
      ++pos_;
      parse_members(depth + 1, [](std::string, Value) {});
    } else if (c == '[') {
      ++pos_;
      v.is_array = true;
      v.array_of_integers = true;
      parse_sequence(']', [&] {
        const Value element = parse_value(depth + 1);
        if (element.is_integer) {
          v.array.push_back(element.integer);
        } else {
          v.array_of_integers = false;
        }
      });
    } else if (text_.substr(pos_, 4) == "true" || text_.substr(pos_, 4) == "null") {
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "false") {
      pos_ += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.is_integer = parse_number(v.integer);
    } else {
      fail(pos_ < text_.size() ? fmt::format("unexpected '{}', expected a JSON value", c)
                               : std::string("end of file, expected a JSON value"));
    }
    return v;
  }

  std::string_view text_;
  std::string source_;
  std::size_t pos_ = 0;
};

}  // namespace detail

/// Reads rlb-dp's info.json into a CampaignInfo (validated).
inline bidding::CampaignInfo read_campaign_info(const std::filesystem::path& path) {
  const detail::TextFile file = detail::read_text_file(path);
  detail::InfoJsonParser parser(file.text(), file.source);
  const auto fields = parser.parse_object();
  const auto find = [&](std::string_view key) -> const detail::InfoJsonParser::Value* {
    for (const auto& [name, value] : fields) {
      if (name == key) return &value;
    }
    return nullptr;
  };
  const auto integer = [&](std::string_view key, bool required) -> std::int64_t {
    const auto* v = find(key);
    if (v == nullptr) {
      if (!required) return 0;
      raise<FormatError>("{}: missing key '{}', expected an integer", file.source, key);
    }
    if (!v->is_integer || v->integer < 0) {
      raise<FormatError>("{}: '{}' is not a non-negative integer", file.source, key);
    }
    return v->integer;
  };
  bidding::CampaignInfo info;
  info.imp_train = integer("imp_train", true);
  info.clk_train = integer("clk_train", true);
  info.cost_train = integer("cost_train", true);
  info.imp_test = integer("imp_test", false);
  info.clk_test = integer("clk_test", false);
  info.cost_test = integer("cost_test", false);
  const auto* counter = find("price_counter_train");
  if (counter == nullptr) {
    raise<FormatError>("{}: missing key 'price_counter_train', expected an array of counts",
                       file.source);
  }
  if (!counter->is_array || !counter->array_of_integers || counter->array.empty()) {
    raise<FormatError>("{}: 'price_counter_train' is not a non-empty array of integers",
                       file.source);
  }
  // Consumers sum the histogram (bidding::BidLandscape): its total must fit an int64.
  std::int64_t total = 0;
  for (const std::int64_t count : counter->array) {
    if (count < 0 || count > std::numeric_limits<std::int64_t>::max() - total) {
      raise<FormatError>(
          "{}: 'price_counter_train' holds {}, expected counts >= 0 whose total fits 2^63 - 1",
          file.source, count);
    }
    total += count;
  }
  info.price_counter_train = counter->array;
  try {
    info.validate();
  } catch (const InvalidArgument& e) {
    raise<FormatError>("{}: {}", file.source, e.what());
  }
  return info;
}

}  // namespace tailor::io
