// Encodes PostgreSQL array literals ('{"a","b"}') so that many rows travel as
// a few text parameters and a statement unnest()s them: one round trip for a
// whole batch. Thread-safe (stateless).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chime::db {

// Builds one array literal element by element.
class PgArrayBuilder {
 public:
  PgArrayBuilder() : text_("{") {}

  void AddText(std::string_view value);  // Quoted and escaped.
  void AddInt(int64_t value);
  void AddBool(bool value);
  void AddNull();
  template <typename T>
  void AddOptionalInt(const std::optional<T>& value) {
    if (value) {
      AddInt(static_cast<int64_t>(*value));
    } else {
      AddNull();
    }
  }
  void AddOptionalText(const std::optional<std::string>& value) {
    if (value) {
      AddText(*value);
    } else {
      AddNull();
    }
  }

  // Returns the literal; the builder is spent afterwards.
  std::string Finish();

 private:
  void Separator();

  std::string text_;
  bool empty_ = true;
};

}  // namespace chime::db
