// Parsing and matching of cron expressions. NextFire is in next_fire.cc, Zone
// in zone.cc.
#include "common/cron/cron.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/cron/expression_sets.h"

namespace chime::cron {
namespace {

constexpr size_t kMaxTextBytes = 256;
constexpr size_t kMaxDigits = 3;
constexpr int kMaxStep = 999;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};

struct FieldSpec {
  Field field;
  int min;
  int max;
  std::span<const std::string_view> names;  // Lower case; empty where names are not allowed.
  int name_base = 0;                        // The value names[0] stands for.
};

constexpr FieldSpec kSecondSpec{Field::kSecond, 0, 59, {}};
constexpr FieldSpec kMinuteSpec{Field::kMinute, 0, 59, {}};
constexpr FieldSpec kHourSpec{Field::kHour, 0, 23, {}};
constexpr FieldSpec kDayOfMonthSpec{Field::kDayOfMonth, 1, 31, {}};
constexpr FieldSpec kMonthSpec{Field::kMonth, 1, 12, kMonthNames, 1};
constexpr FieldSpec kDayOfWeekSpec{Field::kDayOfWeek, 0, 7, kWeekdayNames, 0};

// The five-field text each supported macro stands for.
struct Macro {
  std::string_view name;  // Without the '@'.
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"yearly", "0 0 1 1 *"},
    {"annually", "0 0 1 1 *"},
    {"monthly", "0 0 1 * *"},
    {"weekly", "0 0 * * 0"},
    {"daily", "0 0 * * *"},
    {"midnight", "0 0 * * *"},
    {"hourly", "0 * * * *"},
}};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

void AppendHexByte(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// `s` with anything that is not printable ASCII as \xNN, so that a message
// stays one printable line whatever the input held.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      AppendHexByte(out, u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Quote(std::string_view s) { return "\"" + Printable(s) + "\""; }

// A character for a message: 'x', or \xNN when it is not printable.
std::string Describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  std::string out;
  if (u < 0x20 || u >= 0x7f) {
    AppendHexByte(out, u);
    return out;
  }
  out = "'";
  out += c;
  return out + "'";
}

// The value of a run of digits, saturating instead of overflowing.
struct Number {
  int value;
  bool too_many_digits;
};
Number ToNumber(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = std::min(value * 10 + (c - '0'), 1'000'000);
  return {value, digits.size() > kMaxDigits};
}

// Parses one text: splits it into fields and each field into list elements.
// Offsets in errors are into `text_`, which is the text given to Parse.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  ParseError Fail(ErrorKind kind, Field field, std::string_view at, std::string reason) const {
    return ParseError{kind, field, Offset(at),
                      std::string(FieldName(field)) + ": " + std::move(reason)};
  }

  // The bit set a field's text matches.
  std::expected<uint64_t, ParseError> ParseField(std::string_view field,
                                                 const FieldSpec& spec) const {
    uint64_t bits = 0;
    size_t start = 0;
    while (true) {
      const size_t comma = field.find(',', start);
      const std::string_view element = field.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (element.empty()) {
        return std::unexpected(Fail(ErrorKind::kEmptyField, spec.field, element,
                                    "empty list element in " + Quote(field)));
      }
      auto element_bits = ParseElement(element, spec);
      if (!element_bits) return std::unexpected(std::move(element_bits.error()));
      bits |= *element_bits;
      if (comma == std::string_view::npos) return bits;
      start = comma + 1;
    }
  }

 private:
  size_t Offset(std::string_view at) const { return static_cast<size_t>(at.data() - text_.data()); }

  // One list element: base [ '/' step ], base = '*' | atom [ '-' atom ],
  // atom = digits | letters. Checks the whole shape before any value.
  std::expected<uint64_t, ParseError> ParseElement(std::string_view element,
                                                   const FieldSpec& spec) const {
    size_t i = 0;
    const size_t n = element.size();
    auto lex_run = [&](auto is_member) {
      const size_t from = i;
      while (i < n && is_member(element[i])) ++i;
      return element.substr(from, i - from);
    };
    auto lex_atom = [&] {
      if (i < n && IsDigit(element[i])) return lex_run(IsDigit);
      return lex_run(IsAlpha);
    };
    auto syntax = [&](std::string_view expected) {
      const std::string reason =
          i < n ? "unexpected " + Describe(element[i]) + " in " + Quote(element) + ", expected " +
                      std::string(expected)
                : Quote(element) + " ends early, expected " + std::string(expected);
      return std::unexpected(Fail(ErrorKind::kSyntax, spec.field, element.substr(i), reason));
    };

    bool star = false;
    std::string_view low, high, step;
    if (i < n && element[i] == '*') {
      star = true;
      ++i;
    } else {
      low = lex_atom();
      if (low.empty()) return syntax("a number, a name or '*'");
      if (i < n && element[i] == '-') {
        ++i;
        high = lex_atom();
        if (high.empty()) return syntax("a number or a name after '-'");
      }
    }
    if (i < n && element[i] == '/') {
      ++i;
      step = lex_run(IsDigit);
      if (step.empty()) return syntax("a number after '/'");
    }
    if (i < n) {
      if (!step.empty()) return syntax("','");
      return syntax(star || !high.empty() ? "'/' or ','" : "'-', '/' or ','");
    }

    int first = spec.min;
    int last = spec.max;
    if (!star) {
      auto low_value = Value(low, spec);
      if (!low_value) return std::unexpected(std::move(low_value.error()));
      first = *low_value;
      last = step.empty() ? first : spec.max;  // Vixie: N/n is N-max/n.
      if (!high.empty()) {
        auto high_value = Value(high, spec);
        if (!high_value) return std::unexpected(std::move(high_value.error()));
        last = *high_value;
        if (first > last) {
          const std::string_view range =
              element.substr(0, high.data() + high.size() - element.data());
          std::string reason = std::string(range) + " is a reversed range";
          if (spec.field == Field::kDayOfWeek && last == 0) reason += " (Sunday is also 7)";
          return std::unexpected(Fail(ErrorKind::kReversedRange, spec.field, element, reason));
        }
      }
    }
    int stride = 1;
    if (!step.empty()) {
      const Number number = ToNumber(step);
      if (number.value == 0) {
        return std::unexpected(Fail(
            ErrorKind::kZeroStep, spec.field, step,
            "step " + std::string(step) + " in " + std::string(element) + " must be at least 1"));
      }
      if (number.value > kMaxStep) {
        return std::unexpected(Fail(ErrorKind::kOutOfRange, spec.field, step,
                                    "step " + std::string(step) + " in " + std::string(element) +
                                        " is out of range 1-" + std::to_string(kMaxStep)));
      }
      if (number.too_many_digits) return std::unexpected(TooManyDigits(step, spec));
      stride = number.value;
    }
    uint64_t bits = 0;
    for (int v = first; v <= last; v += stride) bits |= uint64_t{1} << v;
    return bits;
  }

  ParseError TooManyDigits(std::string_view digits, const FieldSpec& spec) const {
    return Fail(ErrorKind::kSyntax, spec.field, digits,
                std::string(digits) + " has more than " + std::to_string(kMaxDigits) + " digits");
  }

  // The value of a number or a name, checked against the field's range.
  std::expected<int, ParseError> Value(std::string_view atom, const FieldSpec& spec) const {
    if (IsAlpha(atom.front())) {
      if (spec.names.empty()) {
        return std::unexpected(Fail(
            ErrorKind::kUnknownName, spec.field, atom,
            "unknown name " + Quote(atom) + " (names are allowed only in month and day of week)"));
      }
      for (size_t i = 0; i < spec.names.size(); ++i) {
        if (EqualsIgnoreCase(atom, spec.names[i])) return spec.name_base + static_cast<int>(i);
      }
      return std::unexpected(
          Fail(ErrorKind::kUnknownName, spec.field, atom, "unknown name " + Quote(atom)));
    }
    const Number number = ToNumber(atom);
    if (number.value < spec.min || number.value > spec.max) {
      return std::unexpected(Fail(ErrorKind::kOutOfRange, spec.field, atom,
                                  std::string(atom) + " is out of range " +
                                      std::to_string(spec.min) + "-" + std::to_string(spec.max)));
    }
    if (number.too_many_digits) return std::unexpected(TooManyDigits(atom, spec));
    return number.value;
  }

  std::string_view text_;
};

// Whether some listed month has some listed day of month (29 February counts).
bool SomeMonthHasSomeDay(uint32_t months, uint32_t days_of_month) {
  static constexpr std::array<unsigned, 13> kLongest = {0,  31, 29, 31, 30, 31, 30,
                                                        31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; ++m) {
    const uint32_t in_month = static_cast<uint32_t>((uint64_t{2} << kLongest[m]) - 2);
    if ((months >> m & 1) != 0 && (days_of_month & in_month) != 0) return true;
  }
  return false;
}

// Splits `text` at spaces and tabs. Keeps the first kMax fields and counts all.
struct Fields {
  static constexpr size_t kMax = 7;
  std::array<std::string_view, kMax> field;
  size_t count = 0;
};
Fields SplitFields(std::string_view text) {
  Fields fields;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i == text.size()) return fields;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    if (fields.count < Fields::kMax) fields.field[fields.count] = text.substr(start, i - start);
    ++fields.count;
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Parses the fields of `fields_text` (a part of the text `parser` reports
// offsets into) into `sets`; `trimmed` is the whole expression for messages.
std::expected<void, ParseError> ParseFields(const Parser& parser, std::string_view fields_text,
                                            std::string_view trimmed, bool seconds_field,
                                            internal::ExpressionSets& sets) {
  const Fields fields = SplitFields(fields_text);
  const size_t want = seconds_field ? 6 : 5;
  if (fields.count != want) {
    // Point at the first surplus field, or at the end when fields are missing.
    const std::string_view at =
        fields.count > want ? fields.field[want] : fields_text.substr(fields_text.size());
    return std::unexpected(parser.Fail(ErrorKind::kFieldCount, Field::kExpression, at,
                                       "expected " + std::to_string(want) + " fields" +
                                           (seconds_field ? " (seconds first)" : "") + ", got " +
                                           std::to_string(fields.count)));
  }
  const size_t base = seconds_field ? 1 : 0;
  sets.seconds = 1;
  if (seconds_field) {
    auto seconds = parser.ParseField(fields.field[0], kSecondSpec);
    if (!seconds) return std::unexpected(std::move(seconds.error()));
    sets.seconds = *seconds;
  }
  const std::string_view minute = fields.field[base], hour = fields.field[base + 1],
                         dom = fields.field[base + 2], month = fields.field[base + 3],
                         dow = fields.field[base + 4];
  auto minutes = parser.ParseField(minute, kMinuteSpec);
  if (!minutes) return std::unexpected(std::move(minutes.error()));
  auto hours = parser.ParseField(hour, kHourSpec);
  if (!hours) return std::unexpected(std::move(hours.error()));
  auto days_of_month = parser.ParseField(dom, kDayOfMonthSpec);
  if (!days_of_month) return std::unexpected(std::move(days_of_month.error()));
  auto months = parser.ParseField(month, kMonthSpec);
  if (!months) return std::unexpected(std::move(months.error()));
  auto days_of_week = parser.ParseField(dow, kDayOfWeekSpec);
  if (!days_of_week) return std::unexpected(std::move(days_of_week.error()));

  sets.minutes = *minutes;
  sets.hours = static_cast<uint32_t>(*hours);
  sets.days_of_month = static_cast<uint32_t>(*days_of_month);
  sets.months = static_cast<uint32_t>(*months);
  sets.days_of_week = static_cast<uint32_t>((*days_of_week | (*days_of_week >> 7)) & 0x7f);
  sets.dom_star = dom.front() == '*';
  sets.dow_star = dow.front() == '*';
  sets.wildcard_time = minute.front() == '*' || hour.front() == '*';
  sets.seconds_field = seconds_field;

  // With a '*' day of month the 1st always matches, and a restricted day of
  // week alone matches every week; only a restricted day of month under a
  // '*' day of week can miss every listed month.
  if (!sets.dom_star && sets.dow_star && !SomeMonthHasSomeDay(sets.months, sets.days_of_month)) {
    return std::unexpected(parser.Fail(ErrorKind::kUnsatisfiable, Field::kExpression, dom,
                                       std::string(trimmed) + " can never fire (day of month " +
                                           std::string(dom) + " does not occur in month " +
                                           std::string(month) + ")"));
  }
  for (unsigned w = 0; w < 7; ++w) {
    uint32_t days = 0;
    for (unsigned d = 1; d <= 31; ++d) {
      if ((sets.days_of_week >> ((w + d - 1) % 7) & 1) != 0) days |= uint32_t{1} << d;
    }
    sets.week_days[w] = days;
  }
  return {};
}

}  // namespace

std::string_view FieldName(Field field) {
  switch (field) {
    case Field::kSecond: return "second";
    case Field::kMinute: return "minute";
    case Field::kHour: return "hour";
    case Field::kDayOfMonth: return "day of month";
    case Field::kMonth: return "month";
    case Field::kDayOfWeek: return "day of week";
    case Field::kExpression: return "expression";
  }
  return "expression";
}

Error ParseError::ToError() const { return Error{ErrorCode::kInvalidArgument, message}; }

std::expected<Expression, ParseError> Expression::Parse(std::string_view text,
                                                        ParseOptions options) {
  const Parser parser(text);
  if (text.size() > kMaxTextBytes) {
    return std::unexpected(parser.Fail(ErrorKind::kTooLong, Field::kExpression, text,
                                       "too long (" + std::to_string(text.size()) +
                                           " bytes, at most " + std::to_string(kMaxTextBytes) +
                                           ")"));
  }
  const std::string_view trimmed = Trim(text);
  auto sets = std::make_shared<internal::ExpressionSets>();
  sets->text = std::string(trimmed);

  if (!trimmed.empty() && trimmed.front() == '@') {
    const std::string_view word =
        trimmed.substr(0, std::min(trimmed.find_first_of(" \t"), trimmed.size()));
    const Macro* macro = nullptr;
    for (const Macro& m : kMacros) {
      if (EqualsIgnoreCase(word.substr(1), m.name)) macro = &m;
    }
    if (macro == nullptr) {
      return std::unexpected(parser.Fail(ErrorKind::kUnsupportedMacro, Field::kExpression, word,
                                         Printable(word) + " is not supported"));
    }
    const std::string_view rest = Trim(trimmed.substr(word.size()));
    if (!rest.empty()) {
      return std::unexpected(
          parser.Fail(ErrorKind::kFieldCount, Field::kExpression, rest,
                      "expected nothing after " + std::string(word) + ", got " + Quote(rest)));
    }
    // A macro's own text cannot fail; its offsets are into the macro table.
    const std::string expansion = (options.seconds_field ? "0 " : "") + std::string(macro->fields);
    auto parsed =
        ParseFields(Parser(expansion), expansion, expansion, options.seconds_field, *sets);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
  } else {
    auto parsed = ParseFields(parser, trimmed, trimmed, options.seconds_field, *sets);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
  }
  Expression expression;
  expression.sets_ = std::move(sets);
  return expression;
}

const std::string& Expression::text() const {
  static const std::string kEmpty;
  return sets_ ? sets_->text : kEmpty;
}

bool Expression::has_seconds_field() const { return sets_ && sets_->seconds_field; }

bool Expression::wildcard_time() const { return sets_ && sets_->wildcard_time; }

bool Expression::Matches(std::chrono::local_seconds local) const {
  if (!sets_) return false;
  const internal::ExpressionSets& s = *sets_;
  const int64_t total = local.time_since_epoch().count();
  const int64_t day = internal::FloorDiv(total, internal::kSecondsPerDay);
  const int64_t tod = total - day * internal::kSecondsPerDay;
  const internal::CivilDate date = internal::CivilFromDays(day);
  const unsigned first_weekday = internal::WeekdayOf(day - (date.day - 1));
  return (s.months >> date.month & 1) != 0 &&
         (s.MatchingDays(first_weekday, internal::DaysInMonth(date.year, date.month)) >> date.day &
          1) != 0 &&
         (s.hours >> (tod / 3600) & 1) != 0 && (s.minutes >> (tod / 60 % 60) & 1) != 0 &&
         (s.seconds >> (tod % 60) & 1) != 0;
}

}  // namespace chime::cron
