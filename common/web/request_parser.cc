#include "common/web/request_parser.h"

#include <boost/beast/http/error.hpp>

#include <limits>

namespace chime::web {

namespace http = boost::beast::http;

RequestParser::RequestParser(const ServerConfig& config) : config_(config) {
  header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
  // No body until the head is admitted: a declared length of any size
  // parses, and the server decides what to answer before reading any of it.
  // (Not boost::none: Beast 1.74 compares the length with the optional, and
  // every length is greater than none.)
  body_limit(std::numeric_limits<std::uint64_t>::max());
}

void RequestParser::AllowBody() { body_limit(config_.max_body_bytes); }

void RequestParser::on_request_impl(http::verb, string_view method_str, string_view target, int version,
                                    error_code& ec) {
  saw_request_line_ = true;
  if (target.size() > config_.max_target_bytes) {
    target_too_long_ = true;
    ec = http::error::header_limit;
    return;
  }
  request_.method = std::string(method_str);
  request_.path = std::string(target);
  version_ = version;
}

void RequestParser::on_response_impl(int, string_view, int, error_code& ec) {
  ec = http::error::bad_version;  // A request parser never sees a status line.
}

void RequestParser::on_field_impl(http::field, string_view name_string, string_view value, error_code& ec) {
  if (++fields_ > config_.max_headers) {
    too_many_headers_ = true;
    ec = http::error::header_limit;
    return;
  }
  request_.headers.emplace(std::string(name_string), std::string(value));
}

void RequestParser::on_header_impl(error_code&) {}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) {}

size_t RequestParser::on_body_impl(string_view body, error_code& ec) {
  // Beast enforces the same limit; this keeps the bound local and explicit.
  if (request_.body.size() + body.size() > config_.max_body_bytes) {
    body_too_large_ = true;
    ec = http::error::body_limit;
    return 0;
  }
  request_.body.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return on_body_impl(body, ec);
}

void RequestParser::on_finish_impl(error_code&) {}

}  // namespace chime::web
