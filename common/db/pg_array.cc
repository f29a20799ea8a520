#include "common/db/pg_array.h"

namespace chime::db {

void PgArrayBuilder::Separator() {
  if (!empty_) text_.push_back(',');
  empty_ = false;
}

void PgArrayBuilder::AddText(std::string_view value) {
  Separator();
  text_.reserve(text_.size() + value.size() + 2);
  text_.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') text_.push_back('\\');
    text_.push_back(c);
  }
  text_.push_back('"');
}

void PgArrayBuilder::AddInt(int64_t value) {
  Separator();
  text_ += std::to_string(value);
}

void PgArrayBuilder::AddBool(bool value) {
  Separator();
  text_.push_back(value ? 't' : 'f');
}

void PgArrayBuilder::AddNull() {
  Separator();
  text_ += "NULL";
}

std::string PgArrayBuilder::Finish() {
  text_.push_back('}');
  return std::move(text_);
}

}  // namespace chime::db
